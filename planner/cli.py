"""The ``planner`` command line: parse → call one library function → print.

Every command runs inside :func:`planner.interrupt.handle_signals`, and errors become CLI errors here
and only here (:class:`PlannerGroup`): one line on stderr and the exit code — 0 results written,
1 no solution or an internal error (its traceback saved to a file, shown with ``--debug``), 2 bad
input or usage, 130 Ctrl-C, 143 SIGTERM.

An output folder is replaced only when the planner wrote it (it holds ``.planner-output``, see
``planner.export.folder``); any other existing, non-empty ``--out`` is refused before anything runs.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import functools
import logging
import math
import os
import shlex
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import click

from planner.errors import (
    CONTROL_CHARACTERS,
    InfeasibleError,
    InputError,
    PlannerError,
    SolverError,
    full_disk_cause,
    truncated,
    write_denied_cause,
)
from planner.interrupt import Interrupted, handle_signals, interruption
from planner.logs import current_study_part

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = PROJECT_ROOT / "models" / "hybrid.toml"
DATA_PARAMS = (
    "regions", "layer", "id_column", "demand_column", "sites", "od_matrix", "select", "lon_column", "lat_column", "crs",
    "suppliers",
)
MESSAGE_CHARS = 300  # an internal error's message is cut to this on its one line


class _ElapsedFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self.started = time.perf_counter()

    def format(self, record: logging.LogRecord) -> str:
        elapsed = time.perf_counter() - self.started
        part = getattr(record, "study_part", None)
        message = record.getMessage() if part is None else f"({part}) {record.getMessage()}"
        return f"[{elapsed:7.1f}s] {record.levelname.lower():7} {message}"


class _WarningsOnce(logging.Filter):
    """Lets each warning message through once per command: a study that solves several variants of one
    model on the same data (compare, pareto, alternatives) would otherwise repeat it for every solve. A
    message logged inside a :func:`planner.logs.study_part` is marked with the part (the variant of
    ``compare``); a warning, with the part that raised it first."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        record.study_part = current_study_part()
        if record.levelno < logging.WARNING:
            return True
        message = record.getMessage()
        if message in self.seen:
            return False
        self.seen.add(message)
        return True


def _configure_logging(quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_ElapsedFormatter())
    handler.addFilter(_WarningsOnce())
    root = logging.getLogger("planner")
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if quiet else logging.INFO)
    root.propagate = False


# --- the one place where errors become exit codes -----------------------------------------------------


class PlannerCommand(click.Command):
    """A subcommand that refuses an empty option or argument value (``--od-matrix "$OD"`` with ``OD``
    unset): taken as "not given", it would silently run without the file the user meant to pass."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        self._refuse_repeated_options(ctx, args)
        rest = super().parse_args(ctx, args)
        for param in self.get_params(ctx):
            value = ctx.params.get(param.name)
            values = value if isinstance(value, tuple) else (value,)
            if any(isinstance(item, str) and not item.strip() for item in values):
                raise click.BadParameter("an empty value; give one or leave it out.", ctx=ctx, param=param)
        return rest

    def _refuse_repeated_options(self, ctx: click.Context, args: list[str]) -> None:
        """A UsageError where an option that takes one value is given twice (``--out a --out b`` had written
        b and ignored a; ``compare --sweep K1=… --sweep K2=…`` swept K2 alone)."""
        options = [param for param in self.get_params(ctx) if isinstance(param, click.Option)]
        takes_value = {name: param for param in options if not param.is_flag and not param.count
                       for name in param.opts + param.secondary_opts}  # a repeated flag or -h changes nothing
        single = {name: param for name, param in takes_value.items() if not param.multiple}
        seen: dict[str, str] = {}
        position = 0
        while position < len(args) and args[position] != "--":
            token = args[position]
            name = token.split("=", 1)[0] if token.startswith("--") else token
            param = single.get(name)
            if param is not None:
                if param.name in seen:
                    twice = f"{name} is given twice" if seen[param.name] == name else \
                        f"{seen[param.name]} and {name} are given together"
                    raise click.UsageError(f"{twice}; give it once", ctx=ctx)
                seen[param.name] = name
            if name in takes_value and "=" not in token:
                position += takes_value[name].nargs  # its value, which may look like an option
            position += 1


class PlannerGroup(click.Group):
    """Runs every command inside :func:`handle_signals` and turns what it raises, click's usage errors
    included, into one stderr line and an exit code."""

    command_class = PlannerCommand
    ends_process = False  # set when called as the program (not by a test's CliRunner)

    def __call__(self, *args, **kwargs):
        """The program's entry point (console script, ``python -m planner``): an interrupted run ends
        the process right after its line, without the interpreter's teardown (a second or more after a
        large run)."""
        self.ends_process = True
        try:
            _standard_streams()
            _refuse_undecodable_arguments(sys.argv[1:])
            return super().__call__(*args, **kwargs)
        except SystemExit as done:
            _end_process(done.code)
        finally:
            self.ends_process = False

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """The program's own options and the command's name: a usage error there is one line too (it had
        been click's three, where a command's are one)."""
        try:
            return super().parse_args(ctx, args)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.exceptions.UsageError as error:
            click.echo(f"error: {error.format_message()} (see '{ctx.command_path} --help')", err=True)
            sys.exit(error.exit_code)

    def invoke(self, ctx: click.Context):
        with handle_signals(until_exit=self.ends_process), logging_restored():
            try:
                return super().invoke(ctx)
            except (click.exceptions.Exit, click.exceptions.Abort):
                raise
            except BrokenPipeError:  # stdout closed by its reader (`planner ... | head`): click ends quietly, code 1
                _discard_staging()
                raise
            except click.exceptions.ClickException as error:  # usage errors too: one line, not click's three
                hint = f" (see '{error.ctx.command_path} --help')" if getattr(error, "ctx", None) else ""
                if isinstance(error, click.exceptions.NoSuchOption) and error.option_name == "--debug":
                    hint = " (--debug goes before the command: planner --debug COMMAND ...)"
                click.echo(f"error: {error.format_message()}{hint}", err=True)
                sys.exit(error.exit_code)
            except (Exception, KeyboardInterrupt, Interrupted) as error:
                _discard_staging()
                error = interruption() or error
                _exit_for(error, debug=bool(ctx.params.get("debug")), at_once=self.ends_process)


@contextlib.contextmanager
def logging_restored():
    """The 'planner' logger as it was before the command (which points it at stderr), for callers in
    the same process: tests, notebooks."""
    root = logging.getLogger("planner")
    saved = (root.handlers[:], root.level, root.propagate)
    try:
        yield
    finally:
        root.handlers[:], root.level, root.propagate = saved


def _discard_staging() -> None:
    """Remove the staging folders of this run still on disk (a backstop: the writers remove their own)."""
    folder = sys.modules.get("planner.export.folder")  # loaded once anything was written
    if folder is not None:
        folder.discard_staging()


def _standard_streams() -> None:
    """Descriptors 0–2 open and ``sys.stdout``/``sys.stderr`` there, text they cannot encode escaped. A
    descriptor the caller closed (``planner ... >&-``) is /dev/null: otherwise the first file the run
    opens gets its number and HiGHS's log or a line lands in it (closed stdout had ended every command
    in an internal error; closed stderr, a solve without a solution: a launcher script had left itself
    open read-only as descriptor 2, so an output descriptor open only for reading is /dev/null too); a
    Latin-1 terminal had turned a finished run into an internal error on the "written" line."""
    for descriptor in (0, 1, 2):
        try:
            os.write(descriptor, b"") if descriptor else os.fstat(descriptor)  # EBADF: closed, or open read-only
        except OSError as error:
            if error.errno != errno.EBADF:  # a pipe whose reader is gone, say: there, and not ours to replace
                continue
            null = os.open(os.devnull, os.O_RDWR)
            if null != descriptor:
                os.dup2(null, descriptor)
                os.close(null)
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            stream = open(1 if name == "stdout" else 2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
            setattr(sys, name, stream)
            setattr(sys, f"__{name}__", stream)
        with contextlib.suppress(AttributeError, ValueError):  # a stream replaced by one without reconfigure
            stream.reconfigure(errors="backslashreplace")


def _refuse_undecodable_arguments(arguments: list[str]) -> None:
    """Exit 2 with one line for an argument holding bytes that are not text in the file system's encoding
    (a file or folder name with a Latin-1 byte under UTF-8): the file formats' libraries cannot take it."""
    for argument in arguments:
        if any("\udc80" <= character <= "\udcff" for character in argument):
            shown = argument.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            click.echo(f"error: '{shown}' holds bytes that are not {sys.getfilesystemencoding()} text; rename the "
                       "file or folder (or give another name) and run again", err=True)
            sys.exit(2)


def _end_process(code) -> None:
    """End the program with ``code`` (SystemExit's: None, a number or a message) once the exit
    functions have run, without the interpreter's teardown: CPython resets the signal handlers to the
    default near its end, so a Ctrl-C in the second after "written" killed the process with no line
    (and the teardown only frees memory the process gives back anyway)."""
    if code is not None and not isinstance(code, int):  # sys.exit's rule: anything else is printed, code 1
        sys.stderr.write(f"{code}\n")
        code = 1
    code = 0 if code is None else code
    atexit._run_exitfuncs()  # what a normal exit runs (a signal meanwhile gets the run's last line)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone (`planner ... | head`), a closed stream
            stream.flush()
    os._exit(code)


def _exit_for(error: BaseException, debug: bool, at_once: bool = False) -> None:
    """Print the one line for ``error`` and exit with its code (``at_once``: an interrupt ends the
    process without the interpreter's teardown)."""
    if isinstance(error, KeyboardInterrupt):
        error = Interrupted()
    if isinstance(error, PlannerError | Interrupted):
        line, code = str(error), error.exit_code
    elif isinstance(error, OSError) and error.errno == errno.ENAMETOOLONG:  # wherever a path is first used
        names = [str(name) for name in (error.filename, error.filename2) if name]
        name = max(names, key=len) if names else "a path"  # a rename names two paths: the longer is the one
        shown = name if len(name) <= 60 else name[:59] + "…"
        line, code = f"{shown}: the path ({len(os.fsencode(name)):,} bytes) or one of its names is too long for the " \
                     "file system; choose a shorter path", 2
    elif (full := full_disk_cause(error)) is not None:
        where = f" writing {full.filename}" if full.filename else ""
        what, fix = (("a file larger than the file system or this process's file-size limit allows", "raise the "
                      "limit (ulimit -f)") if full.errno == errno.EFBIG else ("no space left on the device",
                                                                              "free some space"))
        notes = "".join(f"; {note}" for note in getattr(full, "__notes__", ()))  # the previous outputs unchanged
        line, code = f"{what}{where} ({full.strerror}){notes}; {fix} or choose another --out", 2
    elif (denied := write_denied_cause(error)) is not None and denied.filename:  # sweep.csv written in place, say
        line, code = f"{denied.filename}: {denied.strerror}; check the permissions of the file and its folder, or " \
                     "choose another path", 2
    elif debug:
        traceback.print_exception(error, file=sys.stderr)
        sys.exit(1)
    else:
        message = " ".join(str(error).split())
        if len(message) > MESSAGE_CHARS:
            message = message[: MESSAGE_CHARS - 1] + "…"
        line, code = f"internal error: {type(error).__name__}: {message or '(no message)'}; {_save_details(error)}", 1
    line = CONTROL_CHARACTERS.sub(lambda found: ascii(found.group())[1:-1], " ".join(line.splitlines()))
    click.echo("error: " + line, err=True)  # a control character of the data escaped: a terminal would act on it
    if at_once and isinstance(error, Interrupted):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _save_details(error: BaseException) -> str:
    """Write the traceback of an internal error to a file in the temp folder; say where."""
    from planner import __version__

    text = (
        f"planner {__version__}, Python {sys.version.split()[0]}\ncommand: {shlex.join(sys.argv)}\n"
        f"folder: {Path.cwd()}\n\n" + "".join(traceback.format_exception(error))
    )
    try:
        handle, path = tempfile.mkstemp(prefix="planner-error-", suffix=".log")
        with os.fdopen(handle, "w", encoding="utf-8", errors="backslashreplace") as log:
            log.write(text)
    except OSError as failure:
        return f"the details could not be saved ({failure.strerror}); rerun with --debug to see them"
    return f"details in {path}"


# --- options shared by several commands -------------------------------------------------------------


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


def _bounded_threads(threads: int | None) -> int | None:
    """At most the machine's cores (as HiGHS gets them, ``available_threads``), with a note when cut, so
    that the number recorded in summary.json is the one used."""
    from planner.solver.highs import available_threads

    if threads is None:
        return None
    used = available_threads(threads, note=False)
    if used != threads:
        logger.warning("threads: %d asked for, this machine has %d cores; using %d", threads, used, used)
    return used


def _solver_options(config, time_limit, mip_gap, threads=None, quiet=True):
    """The solver options: the command line's, else the model file's ``[solver]``."""
    from planner.solver.outcome import SolverOptions

    threads = _bounded_threads(threads if threads is not None else config.solver.threads)
    return SolverOptions.from_model(config, time_limit_s=time_limit, mip_gap=mip_gap, threads=threads, quiet=quiet)


def _output_folder(out: str | None, config, data, prefix: str = "", inputs=(), in_place: bool = False) -> Path:
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


def _reserve_plan_write(out_dir: Path, config, data, options, make, write, extra_sources=None, **write_options):
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


def _write_plan(result, out_dir, sources, warnings_seen, staging, **options):
    from planner.export import write_outputs

    return write_outputs(result.run, result.inputs, out_dir, sources, warnings_seen, staging, **options)


def _write_study_plan(result, out_dir, sources, warnings_seen, staging, **options):
    """A stochastic or staged plan: the solve outputs plus the study's block, files and report section."""
    from planner.export.stochastic_output import study_output

    return _write_plan(result, out_dir, sources, warnings_seen, staging, extras=(study_output(result),), **options)


# --- commands -----------------------------------------------------------------------------------------


@click.group(cls=PlannerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="microfactory-planner")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error instead of saving it to a file.")
def main(debug: bool) -> None:
    """Plan a network of microfactories and central plants for regional demand (Pyomo + HiGHS)."""
    _configure_logging(quiet=True)  # warnings while reading the options; each command sets its own level
    # Ctrl-C while matplotlib imports its 3-D toolkit leaves that half imported, and matplotlib then warns on
    # the next import of its projections (seen once in a CI run of the signal tests); nothing here is 3-D
    warnings.filterwarnings("ignore", message="Unable to import Axes3D", category=UserWarning)


@main.command()
@data_options
@run_options("", "results/<model name>", quiet_help="No progress output, only the result.")
@click.option("--basemap", is_flag=True, help="Add an OpenStreetMap tile layer to map.html (needs internet to view).")
@click.option(
    "--scenarios",
    metavar="N|FILE",
    help="Plan under demand uncertainty: generate N scenarios ([uncertainty] of the model) or read a CSV "
    "(scenario, region, product, demand, probability); adds VSS, EVPI and scenarios.csv.",
)
@click.option("--seed", type=WholeRange(min=0), default=0, show_default=True, help="Seed of --scenarios N.")
@click.option(
    "--periods",
    type=WholeRange(min=1),
    help="Staged rollout over N periods ([rollout] of the model: adoption, pilot regions, discounting); with "
    "--scenarios: pilot, then scale. Writes periods.csv and timeline.png.",
)
@click.option("--start", "start_path", type=click.Path(path_type=Path), metavar="FOLDER",
              help="A previous run's output folder (or its sites.csv): its network, where feasible in this model, "
              "is the solver's first incumbent, so the answer is never dearer.")
def solve(data, model_path, out, time_limit, mip_gap, threads, quiet, basemap, scenarios=None, seed=0, periods=None,
          start_path=None):
    """Solve the network for REGIONS (default: the model file's regions.path) and write the outputs."""
    from planner.inputs.config import read_model_config
    from planner.pipeline import plan

    _refuse_seed_without_scenarios(scenarios)
    _configure_logging(quiet)
    config = read_model_config(model_path)
    start_for, start_record = _previous_start(start_path, config, scenarios is not None or periods is not None)
    options = _solver_options(config, time_limit, mip_gap, threads, quiet)
    out_dir = _output_folder(out, config, data, inputs=[scenarios])
    if periods is None:
        _warn_rollout_unread(config)
    if periods is not None:
        from planner.studies.stochastic.staged import check_periods

        check_periods(periods)
    if scenarios is not None or periods is not None:
        from planner.inputs.scenarios import unsupported_with_scenarios

        cost_objective_only(config, "--scenarios or --periods")
        unsupported_with_scenarios(config, "--scenarios and --periods", data, periods=periods is not None)
        if periods is not None and "rollout" not in config.model_fields_set:
            logger.warning("--periods %d: the model file has no [rollout]; its defaults apply (adoption, no pilot "
                           "regions, no discounting: see models/README.md)", periods)
        return _solve_uncertain(config, data, options, out_dir, scenarios, seed, periods, basemap)
    _, summary = _reserve_plan_write(out_dir, config, data, options,
                                     lambda: plan(config, data, options, start_for=start_for), _write_plan,
                                     extra_sources=start_record, basemap=basemap)
    _print_summary(summary, out_dir)


def _previous_start(path: Path | None, config, study: bool):
    """``--start``: (the ``start_for`` of ``planner.pipeline.plan``, the summary's ``inputs`` entry it fills:
    path, whether the start was used and its objective; null without one). The network is read before
    anything is solved or written (a bad file is one line); a study or a classic kind refuses it."""
    if path is None:
        return None, {"start": None}
    from planner.inputs.start_network import read_start_network
    from planner.studies.previous_start import previous_network_start

    if study:
        raise InputError("--start works with a single solve; solve without --scenarios and --periods, or without "
                         "--start")
    cost_objective_only(config, "--start")
    network = read_start_network(path)
    record = {}
    return (lambda problem: previous_network_start(problem, network, record)), {"start": record}


def _warn_rollout_unread(config) -> None:
    """A model file's ``[rollout]`` is read only with ``--periods`` (without it the solve is of one
    period, as documented): say so where the file has one, rather than ignore it silently."""
    if "rollout" in config.model_fields_set:
        logger.warning("the model file's [rollout] (%d periods) is read only with --periods: this solve is of one "
                       "period; pass --periods %d for the staged rollout", config.rollout.periods,
                       max(config.rollout.periods, 2))


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



def _variant_name(name: str, path: Path, taken) -> str:
    """A further model's row name in compare.csv: its ``name``, else its file's stem where that name is taken
    (two files with one name had read 'small' and 'small_4'), else the stem numbered; a name that begins as
    a variant group does ('micro_only_cheap.toml') is prefixed 'model_', or the comparison would take that
    model for the micro-only network."""
    def plain(text: str) -> str:
        return f"model_{text}" if text.startswith(("central_only", "micro_only")) else text

    if plain(name) not in taken:
        return plain(name)
    number, candidate = 1, plain(path.stem)
    while candidate in taken:
        number += 1
        candidate = f"{plain(path.stem)}_{number}"
    return candidate


def _comparable(extra, base, data) -> None:
    """A further model of ``compare`` must be a cost model in the base model's currency on the same
    dataset (its ``[regions]`` the base's, unless REGIONS gives one file for all); else one line."""
    cost_objective_only(extra, "planner compare")
    where = extra.source_path or extra.name
    if extra.currency != base.currency:
        raise InputError(f"{where}: its currency is {extra.currency}, the --model's {base.currency}; compare needs "
                         "one currency (convert the amounts and set currency)")
    if data.regions_path is None and extra.regions.model_dump() != base.regions.model_dump():
        raise InputError(f"{where}: its [regions] differ from the --model's ({_regions_difference(extra, base)}); "
                         "compare works on one dataset: give the same [regions], or the regions file as REGIONS for "
                         "all models")
    if set(extra.products) != set(base.products):
        logger.warning(
            "compare: %s plans the products [%s] and the --model [%s]: its cost serves other demand, so the "
            "networks' costs do not compare like for like", where, ", ".join(extra.products), ", ".join(base.products))


def _regions_difference(extra, base) -> str:
    """The ``[regions]`` keys whose values differ between two models, each with both values (a path alone had
    been shown, the same twice where another key differed)."""
    mine, theirs = extra.regions.model_dump(), base.regions.model_dump()
    keys = [key for key in mine if mine[key] != theirs.get(key)]
    shown = [f"regions.{key} = {_shown_value(mine[key])} in it, {_shown_value(theirs.get(key))} in the --model"
             for key in keys[:3]]
    return "; ".join(shown) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")


def _shown_value(value) -> str:
    return "not set" if value is None else repr(str(value) if isinstance(value, Path) else value)


def _solve_uncertain(config, data, options, out_dir: Path, scenarios, seed, periods, basemap) -> None:
    """``solve --scenarios`` / ``--periods``: the stochastic or staged plan, written like a solve."""
    from planner.studies.stochastic.pipeline import parse_scenarios_option, plan_stochastic
    from planner.studies.stochastic.staged import plan_staged

    spec = None if scenarios is None else parse_scenarios_option(scenarios)
    if periods is not None:
        make = functools.partial(plan_staged, config, data, options, periods, spec, seed)
    else:
        make = functools.partial(plan_stochastic, config, data, options, spec, seed)
    generated = {"generated": spec, "seed": seed} if isinstance(spec, int) else str(spec)
    extra_sources = {"scenarios": None if spec is None else generated, "periods": periods}
    _, summary = _reserve_plan_write(out_dir, config, data, options, make, _write_study_plan, extra_sources,
                                     basemap=basemap)
    if "rollout" in summary:
        _print_rollout(summary)
    else:
        _print_stochastic(summary)
    _print_summary(summary, out_dir)


def _print_stochastic(summary: dict, network_follows: bool = True) -> None:
    from planner.solver.outcome import gap_text

    block = summary["stochastic"]
    currency = summary["currency"]
    click.echo(f"scenarios   {block['scenarios']}: stochastic optimum {block['status']} "
               f"(gap {gap_text(block['mip_gap'], 3)}), expected {_amount(block['expected_cost'])} {currency}/yr, "
               f"CVaR {block['cvar_alpha']} {_amount(block['cvar'])}, worst {_amount(block['worst_case'])}")
    if block["eev"] is None:  # the mean-value network is infeasible in some scenario
        click.echo(f"value       VSS unbounded (the mean-value network is infeasible in some scenario: a service "
                   "level it misses or too little capacity for demand that must be served), "
                   f"EVPI {_amount(block['evpi'])} (WS {_amount(block['ws'])}) {currency}/yr")
    else:
        terms = (f" (objective terms: expected + {block['cvar_weight']:g} × CVaR, as EEV and WS)"
                 if block.get("cvar_weight") else "")
        evpi = f"EVPI {_amount(block['evpi'])} (WS {_amount(block['ws'])})"
        click.echo(f"value       VSS {_amount(block['vss'])} (EEV {_amount(block['eev'])}), {evpi} "
                   f"{currency}/yr{terms}{_value_gaps(block)}")
    for name, strategy in block["strategies"].items():
        _print_strategy(name, strategy, unit=f" {currency}/yr")
    if network_follows:
        click.echo("network     below: the stochastic optimum's first stage serving the expected demand (the "
                   "network fixed and its cost evaluated)")


def _value_gaps(block: dict) -> str:
    """Where the stochastic optimum (RP) or a wait-and-see solve (WS) was not proven optimal, VSS and
    EVPI are differences of unproven values: say so, with the gaps."""
    from planner.solver.outcome import OPTIMAL_GAP, gap_text

    rp_gap, ws_gap = block.get("mip_gap"), block.get("ws_mip_gap_max")
    proven = block.get("status") == "optimal" and (ws_gap is None or ws_gap <= OPTIMAL_GAP)
    if proven:
        return ""
    return (f"; not proven: RP {block.get('status')} gap {gap_text(rp_gap, 3)}, largest WS gap "
            f"{gap_text(ws_gap, 3)} (VSS and EVPI are estimates)")


def _stopped_text(rows) -> str:
    """'; 2 stopped at their time limit (not proven, gap up to 3.1%: status in sweep.csv)' for a sweep's
    scenarios stopped short of their gap (they had been counted as solved alone); '' where none was."""
    import pandas as pd

    from planner.solver.outcome import Status, gap_text

    stopped = rows[rows["status"].isin((Status.TIME_LIMIT.value, Status.OTHER_LIMIT.value))]
    if not len(stopped):
        return ""
    gap = gap_text(pd.to_numeric(stopped["mip_gap"], errors="coerce").max(), 2)
    limit = "the time limit" if (stopped["status"] == Status.TIME_LIMIT.value).all() else "a limit"  # also "limit"
    return f"; {len(stopped)} stopped at {limit} (not proven, gap up to {gap}: status in sweep.csv)"


def _print_strategy(name: str, strategy: dict, suffix: str = "", unit: str = "") -> None:
    """One strategy's line; ``unit`` follows the three figures (' USD/yr'; ' USD', a present value, with periods)."""
    if strategy["expected_cost"] is None:
        reason = f" ({strategy['reason']})" if strategy.get("reason") else ""
        click.echo(f"strategy    {name}: {strategy['status']}{reason}")
        return
    click.echo(f"strategy    {name}{_unproven(strategy)}: expected {_amount(strategy['expected_cost'])}, "
               f"CVaR {_amount(strategy['cvar'])}, worst {_amount(strategy['worst_case'])}{unit}{suffix}")


def _unproven(strategy: dict) -> str:
    """' (time_limit, gap 17.18%)' for a strategy whose plan was not proven optimal (its figures had been
    printed as the proven ones', the status and gap only in summary.json); '' for an optimal one."""
    from planner.solver.outcome import gap_text

    status = strategy.get("status")
    return "" if status in (None, "optimal") else f" ({status}, gap {gap_text(strategy.get('mip_gap'), 2)})"


def _print_rollout(summary: dict) -> None:
    from planner.solver.outcome import gap_text

    block = summary["rollout"]
    value = f"present value {_amount(block['expected_cost'])} {summary['currency']}"
    if block.get("cvar_weight"):
        value = (f"expected {value}, objective {_amount(block['objective'])} (+ {block['cvar_weight']:g} × CVaR "
                 f"{block['cvar_alpha']:g} {_amount(block['cvar'])})")
    click.echo(f"rollout     {block['periods']} periods, {block['scenarios']} scenario(s): {block['status']} "
               f"(gap {gap_text(block['mip_gap'], 3)}), {value}")
    for name, strategy in block["strategies"].items():
        first = ", ".join(f"{t} {n}" for t, n in (strategy.get("period1_facilities") or {}).items() if n) or "none"
        _print_strategy(name, strategy, f" (period 1: {first})", unit=f" {summary['currency']}")
    click.echo(f"network     below: {summary.get('view')}")


def _amount(value: float) -> str:
    """A money or quantity figure as the summary prints them (``planner.results.amount_text``): whole units with
    separators from 100, four significant digits below (a VSS of 0.0038 kEUR had read 0)."""
    from planner.results import amount_text

    return amount_text(value)


def _kind_value_text(value: float) -> str:
    """A classic kind's measure: whole and large values with thousands separators, others to 6 digits."""
    return f"{value:,.0f}" if abs(value) >= 1e4 or float(value).is_integer() else f"{value:,.6g}"


def _kind_limits(kind: dict) -> str:
    """"p = 5, coverage 150 km, 120 min": the p and coverage limits of a classic objective kind."""
    limits = [f"p = {kind['p']}"] if kind["p"] else []
    coverage = [f"{kind[key]:g} {unit}" for key, unit in (("coverage_km", "km"), ("coverage_minutes", "min"))
                if kind.get(key) is not None]
    return ", ".join(limits + ([f"coverage {', '.join(coverage)}"] if coverage else []))


def costs_text(costs: dict) -> str:
    """"fixed 1,000, revenue -2,500": the cost parts in whole units where the largest is 100 or more, else
    all to four significant digits (a model in millions written in units had printed every part, and its
    objective, as 0); a part below one unit to four significant digits too (a transport cost of 0.1439 KRW
    beside millions had read 0), and one within rounding of the largest (1e-9 of it: '-1e-13') as 0, never "-0"."""
    from planner.results import amount_text

    largest = max((abs(value) for value in costs.values()), default=0.0)
    noise = 1e-9 * largest
    parts = []
    for name, value in costs.items():
        value = 0.0 if abs(value) <= noise else value
        parts.append(f"{name} {amount_text(value, whole=largest >= 100 and abs(value) >= 1)}")
    return ", ".join(parts)


def _bound_text(summary: dict) -> str:
    """The objective line's bound, as summary.json has it: the solve's; with ``--scenarios`` that of the network
    fixed and evaluated (``evaluation_best_bound``: the top-level one is empty where the study is the less
    proven, and "best bound n/a" had been printed beside an exact evaluation) and the study's own; with
    ``--periods`` none of the network's own (a period of the study's plan, not solved alone), said so, and the
    study's."""
    from planner.results import amount_text

    def text(value) -> str:
        return "n/a" if value is None else amount_text(value)

    if "evaluation_status" not in summary:
        return f"best bound {text(summary['best_bound'])}"
    study = summary.get("stochastic") or summary.get("rollout") or {}
    currency = summary.get("currency", "")
    unit = f"{currency}, a present value" if "rollout" in summary else f"{currency}/yr"
    study_bound = f"the study's best bound {text(study.get('best_bound'))} {unit}"
    if summary["evaluation_status"] is None:
        return f"no bound of its own: a period of the study's plan, not solved alone; {study_bound}"
    return f"best bound {text(summary.get('evaluation_best_bound'))}, the network fixed and evaluated; {study_bound}"


def _print_summary(summary: dict, out_dir: Path) -> None:
    from planner.export.summary import empty_network_note
    from planner.model.arrays import share_text
    from planner.results import amount_text, service_text
    from planner.solver.outcome import gap_text

    currency = summary["currency"]
    if "evaluation_status" in summary:
        study = summary.get("stochastic") or summary.get("rollout") or {}
        below = ("part of the study's solution, not solved again alone" if summary["evaluation_status"] is None
                 else f"fixed and evaluated: {summary['evaluation_status']}, gap "
                 f"{gap_text(summary['evaluation_mip_gap'], 3)}")
        click.echo(f"status      {summary['status']} (the study above: {study.get('status')}, gap "
                   f"{gap_text(study.get('mip_gap'), 3)}; the network below, {below})")
    else:
        click.echo(f"status      {summary['status']} (gap {gap_text(summary['mip_gap'], 3)}, "
                   f"tolerance {100 * summary['mip_gap_tolerance']:.3g}%)")
    kind = summary.get("objective_kind")
    if kind:
        unit = "" if kind["unit"] in kind["measure"] else f" {kind['unit']}"  # "facilities opened 4"
        value = _kind_value_text(kind["value"])
        click.echo(f"kind        {kind['kind']} ({_kind_limits(kind)}): {kind['measure']} {value}"
                   f"{unit}{'' if kind['proven_optimal'] else ' (not proven optimal)'}")
    unit = kind["objective_counts"] if kind else f"{currency}/yr"
    click.echo(f"objective   {amount_text(summary['objective'])} {unit} ({_bound_text(summary)})")
    costs_unit = (summary.get("units") or {}).get("costs", "currency/yr").replace("currency", currency)
    click.echo(f"costs       {costs_text(summary['costs'])} ({costs_unit})")
    click.echo(f"co2         {amount_text(summary['co2_t'])} t/yr")
    click.echo("facilities  " + ", ".join(f"{name} {count}" for name, count in summary["facilities"].items()))
    if note := empty_network_note(summary):
        click.echo(f"note        {note}")
    for product, figures in summary["demand"].items():
        served = f"served {share_text(figures['served'] / figures['demand'])}" if figures["demand"] else "no demand"
        click.echo(f"demand      {product}: {amount_text(figures['demand'])} units/yr, {served}")
    for level in (summary.get("service") or {}).get("levels", []):
        click.echo(f"service     {service_text(level)}")
    timing = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in summary["timing"].items())
    click.echo(f"timing      {timing}")
    audit = summary["audit"]
    click.echo(
        f"audit       {'passed' if audit['passed'] else 'FAILED'} (max violation {audit['max_violation']:.2g}, "
        f"objective difference {audit['objective_relative_difference']:.2g})"
    )
    click.echo(f"written     {out_dir}")


@main.command()
@data_options
@click.option("--scenarios", "scenarios", metavar="FILE",
              help="Also check a scenario file (ids, products, probabilities) as solve --scenarios FILE reads it.")
def validate(data, model_path, scenarios=None):
    """Check the model file and the data, print a summary of the instance; solves nothing."""
    from planner.inputs.config import read_model_config
    from planner.inputs.prepare import memory_line
    from planner.pipeline import Timing, add_warnings, load_and_prepare, logged_warnings

    _configure_logging(quiet=False)
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
        click.echo(f"demand      {product}: {_amount(problem.demand[:, p].sum())} units/yr")
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
        threads=_bounded_threads(threads),
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


@main.command(name="compare")
@click.argument("models", nargs=-1, type=click.Path(path_type=str))
@functools.partial(data_options, regions_as_option=True)
@click.option(
    "--sweep",
    "sweep_text",
    metavar="KEY=START:STOP:N",
    help="Breakeven sweep of one model key on the hybrid model, e.g. carbon_price=0:400:9 (any dotted key, "
    "such as transport.<product>.cost_per_unit_km).",
)
@click.option("--scenarios", metavar="N|FILE",
              help="Also plan the hybrid model under demand uncertainty (as solve --scenarios): cost distribution "
              "per strategy, VSS and EVPI.")
@click.option("--seed", type=WholeRange(min=0), default=0, show_default=True, help="Seed of --scenarios N.")
@click.option("--sensitivity", is_flag=True,
              help="Also find what flips the decision: each parameter (transport cost, demand, microfactory and "
              "central fixed cost, carbon price, custom share) at the low and high end of its range, the three "
              "networks compared at each end, breakevens bisected; writes sensitivity.csv and sensitivity.png and "
              "adds a tornado chart to compare.html.")
@click.option("--sensitivity-range", type=FiniteFloat(0, 1, min_open=True), metavar="FRACTION",
              help="Range of the scaled parameters: ×(1 − FRACTION) to ×(1 + FRACTION) of the model's values "
              "(default 0.3). The carbon price runs from 0 to twice the model's (0 to 400 when it is 0).")
@click.option("--sensitivity-param", "sensitivity_params", multiple=True, metavar="KEY=LOW:HIGH",
              help="Range of one parameter (repeatable): transport_cost, demand, micro_fixed_cost, "
              "central_fixed_cost or custom_share as multipliers (micro_fixed_cost=0.5:1.5), carbon_price in "
              "currency/t CO2 (carbon_price=0:300); or a dotted model key in its own unit, added to the set "
              "(distance.circuity=1.1:1.5; a type's opening cost is facility_types.TYPE.opening_cost_per_yr).")
@click.option("--sensitivity-steps", type=WholeRange(0, 20), metavar="N",
              help="Bisection steps per breakeven (default 4): the breakeven is known to ± range / 2^(N+1).")
@click.option("--workers", type=WholeRange(min=1),
              help="Worker processes of the local Dask cluster of --sensitivity (default: cores).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Solve --sensitivity on the Dask scheduler at ADDRESS (tcp://host:8786), or 'synchronous': "
              "here, one solve after another.")
@run_options(" per solve", "results/compare_<model name>")
def compare_command(models, data, model_path, sweep_text, scenarios, seed, sensitivity, sensitivity_range,
                    sensitivity_params, sensitivity_steps, workers, scheduler, out, time_limit, mip_gap, threads,
                    quiet):
    """Compare central-only, micro-only and hybrid networks of --model (plus any MODELS files) on one
    dataset: cost parts, CO2, facility counts, delivery distances, the value of decentralisation, where
    microfactories win, an optional breakeven sweep and an optional sensitivity (what flips the decision).
    Writes compare.csv and compare.html."""
    from planner.export.compare_report import write_comparison
    from planner.inputs.config import read_model_config
    from planner.studies.compare import compare, standard_variants
    from planner.studies.sensitivity import BISECT_STEPS, DEFAULT_SPREAD, run_sensitivity, sensitivity_parameters

    given = [name for name, value in (("--sensitivity-range", sensitivity_range), ("--workers", workers),
             ("--sensitivity-param", sensitivity_params), ("--sensitivity-steps", sensitivity_steps),
             ("--scheduler", scheduler)) if value not in (None, ())]
    if given and not sensitivity:
        raise click.UsageError(f"{given[0]} needs --sensitivity")
    _refuse_seed_without_scenarios(scenarios)
    if workers and scheduler:
        raise click.UsageError("give --workers or --scheduler, not both")
    _configure_logging(quiet)
    base = read_model_config(model_path)
    cost_objective_only(base, "planner compare")
    configs = _with_further_models(standard_variants(base), models, base, data)
    _check_scheduler(scheduler)
    options = _solver_options(base, time_limit, mip_gap, threads, quiet)
    sweep, spec = _compare_studies(base, data, sweep_text, scenarios, seed)
    parameters = sensitivity_parameters(base, sensitivity_range or DEFAULT_SPREAD, sensitivity_params) \
        if sensitivity else None
    out_dir = _output_folder(out, base, data, "compare_", inputs=[*models, scenarios])
    from planner.export.folder import reserved_output_dir

    with reserved_output_dir(out_dir) as staging:  # an unwritable --out fails before the variants are solved
        comparison = compare(configs, data, options, sweep, scenarios=spec, seed=seed)
        section = None
        if parameters:
            from planner.export import sensitivity_report as report

            steps = BISECT_STEPS if sensitivity_steps is None else sensitivity_steps
            result = run_sensitivity(base, data, options, parameters, comparison.rows, steps, workers, scheduler,
                                     comparison.networks)
            image = report.tornado_png(result, base.currency)
            section = report.sensitivity_section(result, base.currency, image)
        write_comparison(comparison, out_dir, extra_sections=(section,) if section else (), staging=staging,
                         extra_files=(lambda folder: report.write_sensitivity(result, folder, image, base.currency))
                         if section else None)
    _print_comparison(comparison, base.currency)
    for line in report.sensitivity_lines(result, base.currency) if section else ():
        click.echo(line)
    click.echo(f"written     {out_dir}")
    return section


def _with_further_models(configs: dict, models, base, data) -> dict:
    """``configs`` with compare's further MODELS, each read and checked against the base model."""
    from planner.inputs.config import read_model_config

    for path in models:
        if Path(path).is_dir():
            raise InputError(f"{path}: is a folder, not a model file (given as a further MODEL of compare); give a "
                             "model file, and regions with --regions")
        if not Path(path).exists():
            raise InputError(f"{path}: no such model file (given as a further MODEL of compare); check the path")
        extra = read_model_config(path)
        _comparable(extra, base, data)
        configs[_variant_name(extra.name, Path(path), configs)] = extra
    return configs


def _check_scheduler(scheduler: str | None) -> None:
    """Connect to compare's --scheduler once before the variants are solved (a wrong address had been
    found after them); 'synchronous' (solve here) needs none."""
    from planner.studies.sensitivity import SYNCHRONOUS

    if not scheduler or scheduler == SYNCHRONOUS:
        return
    from planner.studies.sweep.runner import dask_client

    with dask_client(None, scheduler):
        pass


def _compare_studies(base, data, sweep_text: str | None, scenarios: str | None, seed: int = 0):
    """compare's --sweep (a Sweep, its key and values checked against the schema) and --scenarios (a
    count or a readable file), each None when not given: refused before anything is solved."""
    from planner.studies.compare import Sweep

    sweep = Sweep.parse(sweep_text) if sweep_text else None
    if sweep is not None:
        sweep.check(base)
    spec = None
    if scenarios is not None:
        from planner.inputs.scenarios import check_scenario_file, unsupported_with_scenarios

        unsupported_with_scenarios(base, "--scenarios", data)
        from planner.studies.stochastic.pipeline import parse_scenarios_option, scenario_problem

        spec = parse_scenarios_option(scenarios)
        if isinstance(spec, Path):
            check_scenario_file(spec)
        scenario_problem(base, data, spec, seed)  # its ids and its size, before the variants are solved
    return sweep, spec


def _refuse_seed_without_scenarios(scenarios) -> None:
    """--seed on the command line seeds generated scenarios: without --scenarios N (with none, or with a
    scenario file) it would do nothing."""
    context = click.get_current_context(silent=True)
    if context is None or (scenarios is not None and str(scenarios).strip().isdigit()):
        return
    if context.get_parameter_source("seed") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--seed needs --scenarios N (it seeds the generated scenarios; a scenario file "
                               "has its own)")


def _served_text(share: float) -> str:
    """The share served as a percentage, or 'n/a (no demand)' where there is no demand to share."""
    from planner.model.arrays import share_text

    return share_text(share) if math.isfinite(share) else "n/a (no demand)"


def _print_comparison(comparison, currency: str) -> None:
    from planner.export.compare_report import decision_sentence
    from planner.export.summary import clean_for_json
    from planner.solver.outcome import gap_text

    click.echo(f"decision    {decision_sentence(comparison.decision, currency)}")

    for row in comparison.rows.itertuples(index=False):
        if row.variant not in comparison.plans:
            click.echo(f"{row.variant:14} {row.status:10} {row.note}")
            continue
        click.echo(f"{row.variant:14} {row.status:10} cost {_amount(row.objective)} {currency}/yr (gap "
                   f"{gap_text(row.mip_gap)}), co2 {_amount(row.co2_t)} t/yr, "
                   f"served {_served_text(row.share_served_within_radius)}")
    value = comparison.value
    if value["absolute"] is not None:
        percent = "" if value["percent"] is None else f" ({round(value['percent'], 2) + 0.0:.2f}%)"
        click.echo(f"value of decentralisation: {_amount(value['absolute'])} {currency}/yr{percent}")
        if value["proven_at_least"] is not None:  # amount_text: no "-0", and 0.0105 kEUR is no 0
            click.echo(f"  proven at least {_amount(value['proven_at_least'])} {currency}/yr (central-only bound − "
                       "hybrid cost)")
    if comparison.stochastic is not None:
        _print_stochastic({"stochastic": clean_for_json(comparison.stochastic.analysis.summary()),
                           "currency": currency}, network_follows=False)


@main.command(name="sweep")
@data_options
@click.option(
    "--vary",
    "vary_texts",
    multiple=True,
    required=True,
    metavar="KEY=START:STOP:N",
    help="A model key and its values (repeatable): KEY=START:STOP:N, KEY=START:STOP (for lhs) or KEY=V1,V2,...",
)
@click.option("--method", type=click.Choice(["grid", "lhs"]), default="grid", show_default=True,
              help="Every combination, or a Latin-hypercube sample of --samples points.")
@click.option("--samples", type=WholeRange(min=1), help="Points of the Latin hypercube (--method lhs).")
@click.option("--seed", type=WholeRange(min=0), default=0, show_default=True, help="Seed of the Latin hypercube.")
@click.option("--workers", type=WholeRange(min=1),
              help="Worker processes of the local Dask cluster (default: cores).")
@click.option("--scheduler", metavar="ADDRESS", help="Use the Dask scheduler at ADDRESS (tcp://host:8786) instead.")
@run_options(" per scenario", "results/sweep_<model name>", threads=False,
             quiet_help="No progress bar, only the result.")
def sweep_command(data, model_path, vary_texts, method, samples, seed, workers, scheduler, out, time_limit, mip_gap,
                  quiet):
    """Solve the model for every combination (or a Latin hypercube sample) of values of model keys, on
    Dask: one solve folder per scenario, sweep.csv and charts. A rerun skips the scenarios already
    finished."""
    from planner.export.sweep_charts import write_sweep_charts
    from planner.export.sweep_folder import sweep_to_folder
    from planner.inputs.config import read_model_config
    from planner.inputs.prepare import load_inputs
    from planner.studies.sweep import Vary, sample_points

    if workers and scheduler:
        raise click.UsageError("give --workers or --scheduler, not both")
    if samples is not None and method != "lhs":
        raise click.UsageError("--samples is the size of a Latin hypercube: give --method lhs with it")
    context = click.get_current_context()
    if method != "lhs" and context.get_parameter_source("seed") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--seed seeds a Latin hypercube: give --method lhs with it (a grid has no draw)")
    config = read_model_config(model_path)
    cost_objective_only(config, "planner sweep")
    varies = [Vary.parse(text, config) for text in vary_texts]
    options = _solver_options(config, time_limit, mip_gap, threads=1)
    total = len(sample_points(varies, method, samples, seed))
    load_inputs(config, data)  # data every scenario would refuse fails here, in one line, not once per scenario
    out_dir = _output_folder(out, config, data, "sweep_", in_place=True)
    with click.progressbar(length=total, label="sweep", file=sys.stderr, show_pos=True, hidden=quiet) as bar:
        result = sweep_to_folder(config, varies, data, options, out_dir, workers=workers,
                                 scheduler=scheduler, method=method, samples=samples, seed=seed,
                                 on_result=lambda row: bar.update(1),
                                 on_table=lambda table: write_sweep_charts(table, [vary.key for vary in varies],
                                                                           out_dir, config.currency))
    late = f", no network in time {result.no_network_in_time}" if result.no_network_in_time else ""
    click.echo(f"scenarios   {len(result.rows)}: solved {result.solved}, reused {result.reused}, "
               f"infeasible {result.infeasible}, failed {result.failed}{late}{_stopped_text(result.rows)}")
    # the model has no network there; the run failed (crash, input); the time limit ended the solve first
    for status, label in (("infeasible", "infeasible"), ("failed", "failed"), ("no_network_in_time", "no network")):
        for row in result.rows[result.rows["status"] == status].itertuples(index=False):
            click.echo(f"{label:<11} scenario {row.scenario}: {row.error}")
    click.echo(f"written     {out_dir}")
    if result.without_network == len(result.rows):  # no scenario has a network
        if result.failed == len(result.rows) and result.rows["error"].nunique() == 1:  # the data's, said once
            from planner.inputs.prepare import prepare_problem

            prepare_problem(config, load_inputs(config, data))  # an input error of the files exits 2 here
        sys.exit(1)


@main.command(name="pareto")
@data_options
@click.option("--points", type=WholeRange(min=2), default=5, show_default=True,
              help="Networks on the frontier, the two ends included.")
@run_options(" per solve", "results/pareto_<model name>")
def pareto_command(data, model_path, points, out, time_limit, mip_gap, threads, quiet):
    """The cost–CO2 frontier by the ε-constraint method: a CO2 cap stepped from the cost-optimal network's
    emissions to the least-CO2 network's, at the cost-optimal service level. Writes pareto.csv, pareto.png
    and one solve folder per point."""
    from planner.export.pareto_report import write_frontier
    from planner.inputs.config import read_model_config
    from planner.solver.outcome import gap_text
    from planner.studies.pareto import cost_co2_frontier

    _configure_logging(quiet)
    config = read_model_config(model_path)
    cost_objective_only(config, "planner pareto")
    options = _solver_options(config, time_limit, mip_gap, threads, quiet)
    out_dir = _output_folder(out, config, data, "pareto_")
    frontier, _ = _reserve_plan_write(out_dir, config, data, options,
                                      lambda: cost_co2_frontier(config, data, options, points), write_frontier)
    least = frontier.least_co2
    click.echo(f"least CO2   {_amount(least.objective)} t/yr at the cost-optimal service level ({least.status.value}, "
               f"gap {gap_text(least.mip_gap)})")
    for row in frontier.table.itertuples(index=False):
        flag = f", dominated by {row.dominated_by}" if row.dominated_by else ""
        click.echo(f"point {row.point:<3} {row.kind:12} cost {_amount(row.objective)} {config.currency}/yr, "
                   f"co2 {_amount(row.co2_t)} t/yr, {row.status} (gap {gap_text(row.mip_gap)}){flag}")
    click.echo(f"written     {out_dir}")


def _alternative_line(row, names: dict[str, str] | None = None, unit: str = "") -> str:
    """One network of ``planner alternatives``: cost (``unit`` after it, ' EUR/yr'), distance, the real status
    and gap of its solves, changes (sites named by ``names``, site id → name, where given)."""
    from planner.solver.outcome import gap_text
    from planner.studies.mga import site_list_text

    first = "optimum" if row.status == "optimal" else "first network"  # as alternatives.png names it
    name = first if row.alternative == 0 else f"alternative {row.alternative}"
    solves = f"{row.status}, gap {gap_text(row.mip_gap)}"
    if row.alternative:
        solves = f"diversity {row.diversity_status}, gap {gap_text(row.diversity_gap)}; cost {solves}"
    changes = (f"opened [{site_list_text(row.sites_opened, names)}] closed [{site_list_text(row.sites_closed, names)}] "
               f"retyped [{site_list_text(row.sites_retyped, names)}]")
    differ = int(row.distance_to_optimum)
    return (f"{name:14} cost {_amount(row.audited_cost)}{unit} ({row.above_optimum_pct:+.2f}%), {differ} "
            f"option{'s differ' if differ != 1 else ' differs'} ({solves})" + ("" if row.alternative == 0 else
                                                                               f": {changes}"))


def _cheaper_than_the_first(table) -> str | None:
    """A note where an alternative costs less than network 0 whose solve stopped short of optimal (at its
    time limit or its MIP gap): the slack is measured from a network that is not the optimum. Nothing where
    network 0 is optimal (a cheaper one is then within its tolerance) or the costs differ by rounding."""
    from planner.solver.outcome import gap_text
    from planner.studies.compare import SAME_COST

    first = table.iloc[0]
    if first["status"] == "optimal":
        return None
    below = first["audited_cost"] - SAME_COST * max(abs(first["audited_cost"]), 1.0)
    cheaper = table[(table["alternative"] > 0) & (table["audited_cost"] < below)]
    if cheaper.empty:
        return None
    numbers = ", ".join(str(n) for n in cheaper["alternative"])
    numbers, verb = (f"alternative {numbers}", "costs") if len(cheaper) == 1 else (f"alternatives {numbers}", "cost")
    fix = "lower --mip-gap" if first["status"] == "gap_limit" else "give more --time-limit"
    return (f"note        {numbers} {verb} less than the 'optimum', whose solve stopped at "
            f"{first['status']} (gap {gap_text(first['mip_gap'])}): the slack is measured from that network; "
            f"{fix} for the optimum itself")


@main.command(name="alternatives")
@data_options
@click.option("--slack", type=FiniteFloat(min=0), default=0.05, show_default=True,
              help="Cost slack: each network costs at most the optimum + slack × |optimum|.")
@click.option("--count", type=WholeRange(min=1), default=5, show_default=True, help="Alternatives to find.")
@run_options(" per solve", "results/alternatives_<model name>")
def alternatives_command(data, model_path, slack, count, out, time_limit, mip_gap, threads, quiet):
    """Near-optimal networks (modelling to generate alternatives): each within --slack of the optimal cost
    and as different as possible from the ones before in which sites open and as which type. Writes
    alternatives.csv, alternatives.png (side by side) and one solve folder per network."""
    from planner.export.alternatives_report import write_alternatives
    from planner.inputs.config import read_model_config
    from planner.studies.mga import near_optimal_networks

    _configure_logging(quiet)
    config = read_model_config(model_path)
    cost_objective_only(config, "planner alternatives")
    options = _solver_options(config, time_limit, mip_gap, threads, quiet)
    out_dir = _output_folder(out, config, data, "alternatives_")
    result, _ = _reserve_plan_write(out_dir, config, data, options,
                                    lambda: near_optimal_networks(config, data, options, slack, count),
                                    write_alternatives)
    from planner.results import region_names

    inputs = result.inputs  # the sites are the regions (no sites file): named as the regions are
    names = region_names(inputs.regions) if inputs is not None and inputs.sites_path is None else None
    for row in result.table.itertuples(index=False):
        click.echo(_alternative_line(row, names, f" {config.currency}/yr"))
    cheaper = _cheaper_than_the_first(result.table)
    if cheaper:
        click.echo(cheaper)
    if result.stopped_early:
        click.echo(f"stopped     {result.stopped_early}")
    click.echo(f"written     {out_dir}")


if __name__ == "__main__":  # python -m planner.cli
    main()
