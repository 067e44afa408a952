"""The command line as a process: the one place where errors become exit codes and one stderr line
(:class:`PlannerGroup`: 0 results written, 1 no solution or an internal error, its traceback saved
to a file and shown with ``--debug``, 2 bad input or usage, 130 Ctrl-C, 143 SIGTERM), the log's
format, and the standard streams and arguments made safe before a command runs."""

from __future__ import annotations

import atexit
import contextlib
import errno
import logging
import os
import shlex
import sys
import tempfile
import time
import traceback
from pathlib import Path

import click

from planner.errors import (
    CONTROL_CHARACTERS,
    PlannerError,
    full_disk_cause,
    write_denied_cause,
)
from planner.interrupt import Interrupted, handle_signals, interruption
from planner.logs import current_study_part

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


def configure_logging(quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_ElapsedFormatter())
    handler.addFilter(_WarningsOnce())
    root = logging.getLogger("planner")
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if quiet else logging.INFO)
    root.propagate = False


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
