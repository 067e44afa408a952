"""Options shared by the commands: number types that refuse what a user did not mean, the data and run
options, the solver options from the model file, and the output folder, reserved before a run and
written through a staging folder."""

from __future__ import annotations

import functools
import logging
import math
from pathlib import Path

import click

from planner.errors import InputError

logger = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = PROJECT_ROOT / "models" / "hybrid.toml"
DATA_PARAMS = (
    "regions", "layer", "id_column", "demand_column", "sites", "od_matrix", "select", "lon_column", "lat_column", "crs",
    "suppliers",
)


def refuse_underscores(param_type: click.ParamType, value, param, ctx) -> None:
    """Fail on a number typed with underscores (``1_0``): Python's int() and float() read it as 10, which
    is not what a user who mistyped meant."""
    if isinstance(value, str) and "_" in value:
        param_type.fail(f"{value!r} is not a plain number (no underscores: write digits only, e.g. "
                        f"{value.replace('_', '')!r} if that is what was meant).", param, ctx)


class FiniteFloat(click.FloatRange):
    """A float range that refuses NaN, ±infinity (which every range comparison lets through) and
    underscores in the number."""

    name = "finite float"

    def convert(self, value, param, ctx):
        refuse_underscores(self, value, param, ctx)
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


class WholeRange(click.IntRange):
    """An integer range that refuses underscores in the number (``1_0``), which int() accepts, and says
    "not a whole number" of ``2.5`` (click: "is not a valid integer range")."""

    def convert(self, value, param, ctx):
        refuse_underscores(self, value, param, ctx)
        if isinstance(value, str):
            try:
                int(value.strip())
            except ValueError:
                self.fail(f"{value!r} is not a whole number; give one such as 2", param, ctx)
        return super().convert(value, param, ctx)
POSITIVE = FiniteFloat(min=0, min_open=True)
GAP = FiniteFloat(0, 1, max_open=True)


def _merged_select(texts) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``--select`` pairs with the values of a repeated column joined (a union), with a warning that
    says so; different columns must all match."""
    from planner.inputs.prepare import parse_select

    merged: dict[str, list[str]] = {}
    given: dict[str, int] = {}
    for column, values in parse_select(list(texts)):
        kept = merged.setdefault(column, [])
        kept.extend(value for value in values if value not in kept)
        given[column] = given.get(column, 0) + 1
    for column, count in given.items():
        if count > 1:
            logger.warning(
                "--select %s is given %d times: its values combine, a region is kept when %s is any of %s "
                "(selections of different columns must all match)", column, count, column, ", ".join(merged[column])
            )
    return tuple((column, tuple(values)) for column, values in merged.items())


def _data_options(regions, layer, id_column, demand_column, sites, od_matrix, select, lon_column, lat_column, crs,
                  suppliers):
    from planner.inputs.prepare import DataOptions

    return DataOptions(
        regions_path=Path(regions) if regions else None,
        layer=layer,
        id_column=id_column,
        demand_column=demand_column,
        sites_path=Path(sites) if sites else None,
        od_path=Path(od_matrix) if od_matrix else None,
        select=_merged_select(select),
        lon_column=lon_column,
        lat_column=lat_column,
        crs=crs,
        suppliers_path=Path(suppliers) if suppliers else None,
    )
COORDINATE_OPTIONS = (
    click.option("--lon-column", help="Longitude (or x) column of a CSV/Parquet table of demand points."),
    click.option("--lat-column", help="Latitude (or y) column of a CSV/Parquet table of demand points."),
    click.option("--crs", help="CRS of those coordinates, e.g. EPSG:3857 (default: EPSG:4326, lon/lat), or of a "
                 "vector file that has none."),
)


def data_options(command, regions_as_option: bool = False):
    """Options shared by every command that reads regional data, handed to the command as one
    ``data`` argument (a ``DataOptions``); the regions file is the REGIONS argument, or ``--regions``
    where positional arguments mean something else (``compare``)."""

    @functools.wraps(command)
    def with_data(*args, **kwargs):
        raw = {name: kwargs.pop(name) for name in DATA_PARAMS}
        return command(*args, data=_data_options(**raw), **kwargs)

    regions = (
        click.option("--regions", "regions", type=click.Path(path_type=str),
                     help="Regions file (default: regions.path of the model).")
        if regions_as_option
        else click.argument("regions", required=False, type=click.Path(path_type=str))
    )
    for decorator in reversed(
        [
            regions,
            click.option(
                "--model",
                "model_path",
                type=click.Path(path_type=str),
                default=str(DEFAULT_MODEL),
                help="Model file (TOML).  [default: models/hybrid.toml]",  # click's own wraps a text in ()
            ),
            click.option("--id-column", help="Region id column (default: regions.id_column of the model)."),
            click.option("--demand-column", help="Base demand column (default: regions.demand_column)."),
            click.option("--layer", help="Layer of a multi-layer regions file, or sheet of an Excel workbook."),
            *COORDINATE_OPTIONS,
            click.option("--sites", type=click.Path(path_type=str), help="Candidate sites file (points or CSV)."),
            click.option("--suppliers", type=click.Path(path_type=str),
                         help="Suppliers file (points or CSV with coordinates: supplier_id, material, capacity_per_yr, "
                         "cost_per_unit; default: suppliers.path of the model)."),
            click.option(
                "--od-matrix",
                type=click.Path(path_type=str),
                help="Origin-destination file (CSV/Parquet: from, to, distance_km and/or cost).",
            ),
            click.option(
                "--select",
                multiple=True,
                metavar="COLUMN=VALUE[,VALUE...]",
                help="Plan for the regions whose COLUMN has one of the values (repeatable: values of one column "
                "combine, different columns must all match).",
            ),
        ]
    ):
        with_data = decorator(with_data)
    return with_data


def run_options(per: str, out_default: str, threads: bool = True, quiet_help: str = "No progress output."):
    """``--out``, ``--time-limit``, ``--mip-gap``, ``--threads`` and ``--quiet`` of a command that
    solves and writes; ``per`` says what a limit applies to ("per solve")."""
    options = [
        click.option("--out", type=click.Path(path_type=str),
                     help=f"Output folder (default: {out_default}); an existing one is replaced only if the planner "
                     "wrote it."),
        click.option("--time-limit", type=POSITIVE, help=f"Time limit{per}, seconds."),
        click.option("--mip-gap", type=GAP, help=f"Relative MIP gap to stop at{per}."),
        click.option("--threads", type=WholeRange(min=1), help="HiGHS threads (at most the machine's cores)."),
        click.option("--quiet", is_flag=True, help=quiet_help),
    ]
    if not threads:
        del options[3]

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def bounded_threads(threads: int | None) -> int | None:
    """At most the machine's cores (as HiGHS gets them, ``available_threads``), with a note when cut, so
    that the number recorded in summary.json is the one used."""
    from planner.solver.highs import available_threads

    if threads is None:
        return None
    used = available_threads(threads, note=False)
    if used != threads:
        logger.warning("threads: %d asked for, this machine has %d cores; using %d", threads, used, used)
    return used


def solver_options(config, time_limit, mip_gap, threads=None, quiet=True):
    """The solver options: the command line's, else the model file's ``[solver]``."""
    from planner.solver.outcome import SolverOptions

    threads = bounded_threads(threads if threads is not None else config.solver.threads)
    return SolverOptions.from_model(config, time_limit_s=time_limit, mip_gap=mip_gap, threads=threads, quiet=quiet)


def output_folder(out: str | None, config, data, prefix: str = "", inputs=(), in_place: bool = False) -> Path:
    """``--out``, or ``results/<prefix><model name>``; refused (exit 2, nothing touched) when it is not a
    folder the planner may write (see ``planner.export.folder.check_output_dir``) or holds an input of
    the run: the model file, every file the model or the data options name, and ``inputs`` (the
    command's other files, e.g. a scenario file or further model files; anything that is not an
    existing file, such as ``--scenarios 20``, is ignored)."""
    from planner.export.folder import check_output_dir, enclosing_output

    if out:
        folder = Path(out)
    else:
        _check_folder_name(config.name)
        folder = Path("results") / f"{prefix}{config.name}"
    check_output_dir(folder, in_place=in_place)
    outer = enclosing_output(folder)
    if outer is not None and out:
        raise InputError(f"{folder}: is inside {outer}, an output the planner wrote, which would then no longer "
                         "be its run's alone; nothing was changed; choose a folder outside it for --out")
    if outer is not None:  # the default folder under results/, itself written as an output (--out results)
        raise InputError(f"{folder}, the default output folder, is inside {outer}, an output the planner wrote "
                         "(e.g. with --out results); nothing was changed; pass --out with a folder outside it")
    if folder.exists():
        for path in _run_inputs(config, data, inputs):
            if path.resolve().is_relative_to(folder.resolve()):
                raise InputError(f"{folder}: holds {path}, an input of this run; choose another --out")
    return folder


def _run_inputs(config, data, inputs=()) -> list[Path]:
    """Every existing file or folder the run reads: the model file and the paths in it, every path
    among the data options, and ``inputs``."""
    import dataclasses

    candidates = [config.source_path, config.regions.path, config.suppliers.path, *inputs]
    if data is not None:
        candidates += [getattr(data, field.name) for field in dataclasses.fields(data)]
    paths = []
    for candidate in candidates:
        if isinstance(candidate, (str, Path)) and str(candidate) and Path(candidate).exists():
            paths.append(Path(candidate))
    return paths


def _check_folder_name(name: str) -> None:
    """The model name must be a plain folder name to make the default output folder results/<name>
    (the model-file schema checks it too; a model built in code may not have been)."""
    from planner.inputs.config import is_folder_name

    if not is_folder_name(name):
        raise InputError(
            f"model name {name!r} cannot name the output folder results/<name>: use letters (any script), digits, "
            "'_', '-', '.' and spaces, starting with a letter, digit or '_', at most 100 characters (not '.', '..' "
            "or a path), or pass --out"
        )


def reserve_plan_write(out_dir: Path, config, data, options, make, write, extra_sources=None, **write_options):
    """Reserve ``out_dir`` (a refused or unwritable one fails before solving) → ``make()`` → ``write(
    result, out_dir, sources, warnings, staging, **write_options)``, ``warnings`` every warning the 'planner'
    loggers log from loading to writing (:func:`planner.pipeline.logged_warnings`); returns (result, what write
    returned)."""
    from planner.export.folder import reserved_output_dir
    from planner.export.summary import solve_sources
    from planner.pipeline import add_warnings, logged_warnings

    with reserved_output_dir(out_dir) as staging, logged_warnings() as warnings_seen:
        result = make()
        sources = {**solve_sources(config, data, options, result.inputs.regions_path,
                                 result.inputs.region_columns), **(extra_sources or {})}
        add_warnings(warnings_seen, result.screening.warnings)  # also those a quieter logger did not emit
        return result, write(result, out_dir, sources, warnings_seen, staging, **write_options)


def write_plan(result, out_dir, sources, warnings_seen, staging, **options):
    from planner.export import write_outputs

    return write_outputs(result.run, result.inputs, out_dir, sources, warnings_seen, staging, **options)


def write_study_plan(result, out_dir, sources, warnings_seen, staging, **options):
    """A stochastic or staged plan: the solve outputs plus the study's block, files and report section."""
    from planner.export.stochastic_output import study_output

    return write_plan(result, out_dir, sources, warnings_seen, staging, extras=(study_output(result),), **options)


def cost_objective_only(config, what: str) -> None:
    """Studies compare costs: a classic ``[objective] kind`` is refused with one line."""
    if config.objective.kind != "cost":
        raise InputError(f"{config.source_path or config.name}: {what} works on the cost model; this model's "
                         f"[objective] kind is '{config.objective.kind}' ({_classic_fix(what)})")


def _classic_fix(what: str) -> str:
    """How to go on with a classic kind: without the study's options in solve, else with solve."""
    if what.startswith("--"):
        return f"solve it without {what}, or set kind = \"cost\""
    return "solve it with planner solve, or set kind = \"cost\""


def refuse_seed_without_scenarios(scenarios) -> None:
    """--seed on the command line seeds generated scenarios: without --scenarios N (with none, or with a
    scenario file) it would do nothing."""
    context = click.get_current_context(silent=True)
    if context is None or (scenarios is not None and str(scenarios).strip().isdigit()):
        return
    if context.get_parameter_source("seed") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--seed needs --scenarios N (it seeds the generated scenarios; a scenario file "
                               "has its own)")
