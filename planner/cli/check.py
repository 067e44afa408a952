"""``planner validate``, ``planner init`` and ``planner bench``: check the inputs, write a model file for
a dataset, solve published benchmark files."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import click

from planner.cli.app import main
from planner.cli.console import amount
from planner.cli.options import (
    COORDINATE_OPTIONS,
    POSITIVE,
    FiniteFloat,
    WholeRange,
    bounded_threads,
    cost_objective_only,
    data_options,
)
from planner.cli.process import configure_logging
from planner.errors import (
    InfeasibleError,
    InputError,
    SolverError,
    truncated,
)


@main.command()
@data_options
@click.option("--scenarios", "scenarios", metavar="FILE",
              help="Also check a scenario file (ids, products, probabilities) as solve --scenarios FILE reads it.")
def validate(data, model_path, scenarios=None):
    """Check the model file and the data, print a summary of the instance; solves nothing."""
    from planner.inputs.config import read_model_config
    from planner.inputs.prepare import memory_line
    from planner.pipeline import Timing, add_warnings, load_and_prepare, logged_warnings

    configure_logging(quiet=False)
    with logged_warnings() as warnings_seen:  # every warning from reading the files on, as solve's summary
        config = read_model_config(model_path)
        inputs, problem, screening = load_and_prepare(config, data, Timing())
        if (problem.service_share > 0).any():  # a level no candidate site is near enough for, without solving
            from planner.model import ModelIndex
            from planner.model.arrays import service_need

            service_need(problem, ModelIndex.from_problem(problem))
        read = _validated_scenarios(scenarios, config, data)
    add_warnings(warnings_seen, [*screening.warnings, *_rollout_warnings(config, inputs, data)])
    click.echo(f"model       {config.name} ({config.source_path})")
    click.echo(f"regions     {problem.n_regions} from {inputs.regions_path}")
    for p, product in enumerate(problem.product_ids):
        click.echo(f"demand      {product}: {amount(problem.demand[:, p].sum())} units/yr")
    for k, type_id in enumerate(problem.type_ids):
        click.echo(f"candidates  {type_id}: {int((problem.option_type == k).sum())} sites")
    size = problem.summary()
    click.echo(f"arcs        {size['arcs']:,} (demand pairs {size['demand_pairs']:,})")
    click.echo(f"memory      {memory_line(size['arcs'], *_scenario_copies(read), n_pairs=size['demand_pairs'])}")
    if read is not None:
        click.echo(f"scenarios   {len(read.ids)} from {scenarios}")
    for message in warnings_seen:
        click.echo(f"warning     {message}")
    click.echo("ok          inputs are valid")


def _scenario_copies(read) -> tuple[int, float]:
    """(copies, bytes per arc and copy) of the extensive form ``solve --scenarios`` builds for the scenarios
    ``read`` ((1, the plain solve's) without them), for validate's memory estimate."""
    from planner.inputs.prepare import ARC_BYTES

    if read is None:
        return 1, ARC_BYTES
    from planner.studies.stochastic import pipeline

    return len(read.ids), pipeline.SCENARIO_ARC_COPY_BYTES


def _validated_scenarios(text: str | None, config, data):
    """The scenarios of ``validate --scenarios FILE`` read for the regions as ``solve`` reads them (errors as
    solve's), or None without the option; a number of scenarios is refused (there is nothing to check)."""
    if text is None:
        return None
    from planner.studies.stochastic.pipeline import parse_scenarios_option

    spec = parse_scenarios_option(text)
    if isinstance(spec, int):
        raise InputError(f"--scenarios {text}: validate checks a scenario file; give its path")
    if not spec.exists():  # the reader's fix offers a number of scenarios, which validate refuses
        raise InputError(f"{spec}: scenario file not found; give the path of a scenario CSV or Excel file")
    # what solve --scenarios refuses before solving, refused alike: the model's features, the extensive form's
    # memory, demand no network can serve in the hardest scenario (validate had said "ok" to each)
    from planner.inputs.scenarios import unsupported_with_scenarios

    cost_objective_only(config, "--scenarios or --periods")
    unsupported_with_scenarios(config, "--scenarios and --periods", data)
    from planner.studies.stochastic.pipeline import scenario_problem, screen_scenarios

    inputs, scenarios, problem = scenario_problem(config, data, spec, 0)
    screen_scenarios(problem, scenarios, inputs.demand)
    return scenarios


def _rollout_warnings(config, inputs, data=None) -> list[str]:
    """What ``solve --periods`` would refuse of a model file with ``[rollout]`` (unknown pilot regions, pilot
    periods covering every period, a classic kind, a CO2 cap, service levels, ...), as a warning: a solve
    without ``--periods`` does not read it."""
    if "rollout" not in config.model_fields_set:
        return []
    from planner.inputs.scenarios import unsupported_with_scenarios
    from planner.studies.stochastic.staged import check_rollout

    periods = config.rollout.periods if "periods" in config.rollout.model_fields_set else None
    try:
        check_rollout(config.rollout, inputs.regions["region_id"].to_numpy(dtype=object), periods,
                      str(config.source_path or config.name))
        cost_objective_only(config, "--scenarios or --periods")  # and what else solve --periods refuses at once
        unsupported_with_scenarios(config, "--scenarios and --periods", data, periods=True)
    except InputError as error:
        return [f"{error} (solve --periods would refuse it)"]
    return []


@main.command()
@click.argument("data_path", metavar="DATA", type=click.Path(path_type=str))
@click.option("--id-column", help="Region id column (default: found in the file, else row numbers).")
@click.option("--demand-column", help="Demand column (default: found in the file).")
@click.option("--demand-rate", type=POSITIVE, default=1.0, show_default=True,
              help="Units/yr of the main product per unit of the demand column.")
@click.option("--layer", help="Layer of a multi-layer file, or sheet of an Excel workbook.")
@COORDINATE_OPTIONS[0]
@COORDINATE_OPTIONS[1]
@COORDINATE_OPTIONS[2]
@click.option("--out", type=click.Path(path_type=str), help="Model file to write (default: <data name>.toml here); "
              "an existing file is not overwritten.")
def init(data_path, id_column, demand_column, demand_rate, layer, lon_column, lat_column, crs, out):
    """Write a commented model file for DATA (regions or demand points) that 'planner solve --model FILE'
    solves as it is: the file, its layer and columns, default costs and candidate rules relative to the data."""
    from planner.inputs.template import model_name, write_model_template

    if out and out.endswith(("/", os.sep)):  # a folder meant: Path() drops the slash and a file of that name was made
        raise click.BadParameter(f"'{out}' names a folder; give the model file to write, e.g. {out}model.toml",
                                 param_hint="'--out'")
    target = Path(out) if out else Path(f"{model_name(Path(data_path))}.toml")
    written = write_model_template(Path(data_path), target, layer=layer, id_column=id_column,
                                   demand_column=demand_column, demand_rate=demand_rate, lon_column=lon_column,
                                   lat_column=lat_column, crs=crs)
    click.echo(f"written     {written}")
    click.echo(f"solve with  planner solve --model {shlex.quote(str(written))}")  # a line to paste


@main.command()
@click.argument("fmt", metavar="FORMAT",
                type=click.Choice(["cap", "ufl", "sscflp", "pmed", "pcenter", "mclp", "lscp"]))
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--capacity", type=POSITIVE,
              help="Capacity of every site where the file says 'capacity' (capa/capb/capc).")
@click.option("--p", "p", type=WholeRange(min=1),
              help="Number of sites to open (pmed, pcenter, mclp; default: the file's p).")
@click.option("--coverage", type=FiniteFloat(min=0),
              help="Coverage distance D (mclp, lscp; required): a site covers a demand point within D.")
@click.option("--single-source", is_flag=True, help="Each customer served by exactly one site (cap files).")
@click.option("--time-limit", type=POSITIVE, help="Time limit per instance, seconds.")
@click.option("--threads", type=WholeRange(min=1), help="HiGHS threads (at most the machine's cores).")
@click.option(
    "--optima",
    type=click.Path(path_type=str),
    help="known_optima.csv: add 'known' and 'match' (relative difference <= 1e-6, or within half a unit of the "
    "value's last printed digit).",
)
def bench(fmt, files, capacity, p, coverage, single_source, time_limit, threads, optima):
    """Solve published benchmark FILES of FORMAT (cap, ufl, sscflp, pmed) with the planner's model, or
    the classic models pcenter, mclp, lscp on pmed graphs or generated POINTS files; print one JSON
    object per instance and line. Exits 1 when an instance has no solution or, with --optima, when one
    proven optimal disagrees with its known optimum."""
    import json

    from planner.studies.bench import run_bench

    rows = run_bench(
        fmt,
        [Path(f) for f in files],
        capacity=capacity,
        p=p,
        coverage=coverage,
        single_source=single_source,
        time_limit=time_limit,
        threads=bounded_threads(threads),
        optima=Path(optima) if optima else None,
    )
    from planner.interrupt import note_kept

    unsolved, disagreeing = [], []
    for number, row in enumerate(rows, start=1):
        click.echo(json.dumps(row))
        note_kept(f"{number} of {len(files)} instances printed", replacing=number > 1)  # not "nothing written"
        if row["objective"] is None:
            unsolved.append(f"{row['instance']} ({row['status']}: {row['reason']})")
        elif row.get("match") is False and row["status"] == "optimal":
            disagreeing.append(f"{row['instance']} ({row['objective']:.10g}, known {row['known']:.10g})")
    if unsolved:
        raise InfeasibleError(f"{len(unsolved)} of {len(files)} instances have no solution: {truncated(unsolved)}")
    if disagreeing:
        raise SolverError(f"{len(disagreeing)} of {len(files)} instances proven optimal disagree with --optima: "
                          f"{truncated(disagreeing)}; check the file's row and the instance's variant (e.g. "
                          "--capacity, --single-source, --p)")
