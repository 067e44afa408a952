"""The planner's error classes: library errors become CLI errors in exactly one place (``planner.cli``).

Messages follow "what is wrong, which items, how to fix it" and fit on one line. Exit codes: 1 for
no solution, 2 for bad input; an interrupt (``planner.interrupt.Interrupted``, not an error of the
input) exits 130 for Ctrl-C and 143 for SIGTERM, and any other exception is an internal error (1).
"""

import errno
import re


class PlannerError(Exception):
    """Base class of every error the planner raises on purpose."""

    exit_code = 1


class InputError(PlannerError, ValueError):
    """Bad input: a file, column, row or key is missing or wrong (exit code 2)."""

    exit_code = 2


class InfeasibleError(PlannerError):
    """The instance has no feasible network (exit code 1)."""

    exit_code = 1


class UnexplainedInfeasibleError(InfeasibleError):
    """The solver proved the model infeasible without saying why (HiGHS's verdict): the engine looks for
    the reason (``planner.solver.explain``) and raises an :class:`InfeasibleError` that names it."""


class ServiceReachError(UnexplainedInfeasibleError):
    """A service level asks more than the demand with any arc within its limit: its message names that
    share, which no network exceeds; counts, capacities or a budget may hold the best share lower, so
    the engine solves for it (``planner.solver.service``) and keeps this message where it is the same."""


class SolverError(PlannerError):
    """The solver ended without a usable solution (exit code 1)."""

    exit_code = 1


def amount_text(value: float, whole: bool | None = None) -> str:
    """A figure in whole units with thousands separators, or to four significant digits where it is below
    100 (``whole`` None: by its own size); never "-0"."""
    whole = abs(value) >= 100 if whole is None else whole
    if whole:
        return f"{0.0 if abs(value) < 0.5 else value:,.0f}"
    return f"{value:.4g}" if value != 0 else "0"


def significant_text(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits in plain decimals, never in scientific notation (a board read
    "2.1e-05"): 0.000021, 0.01273, 30.18."""
    import numpy as np

    return np.format_float_positional(value, precision=digits, unique=False, fractional=False, trim="-")


def shows_few_digits(text: str) -> bool:
    """Whether a figure written as ``text`` shows fewer than three significant digits ('0.1' for 0.08, '0.01'
    for 0.01273, '30' for 30.18): the report and compare.html then show it to four."""
    return len(re.sub(r"[^0-9]", "", text).lstrip("0")) < 3


def truncated(items, limit: int = 5) -> str:
    """Comma-separated ``items``, the first ``limit`` of them, with how many more were left out ("a, b and
    1,830 more": a count in parentheses inside a message's own parentheses had read "(a, b (+1830 more))")."""
    items = [str(item) for item in items]
    shown = ", ".join(items[:limit])
    if len(items) > limit:
        shown += f" and {len(items) - limit:,} more"
    return shown


CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # tab, newline and return aside


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a control character other than tab, newline and carriage return: a terminal
    would act on it (ESC starts its escape sequences) and a workbook cannot hold it."""
    return CONTROL_CHARACTERS.search(text) is not None


def refuse_special_file(path, what: str, option: str, pipes: bool = True) -> None:
    """InputError for a device, a socket or (``pipes``) a pipe given as ``what``: reading it would go on
    until memory runs out (``/dev/zero``) or wait for ever (a FIFO no one writes to). Without ``pipes`` a
    pipe passes (``--model <(sed … model.toml)``, which a shell gives as one)."""
    import stat
    from pathlib import Path

    try:
        mode = Path(path).stat().st_mode
    except (OSError, ValueError):
        return  # missing or unreadable: reading it gives the usual message
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or (stat.S_ISFIFO(mode) and not pipes)):
        kind = "a device or a pipe" if pipes else "a device"
        raise InputError(f"{path}: is not a regular file ({kind}); pass {what} saved on disk to {option}")


def read_input_bytes(path, what: str, option: str) -> bytes:
    """The bytes of an input file; InputError naming the file, what it should be and how to pass it."""
    from pathlib import Path

    path = Path(path)
    refuse_special_file(path, f"{'an' if what[:1].lower() in 'aeio' else 'a'} {what}", option, pipes=False)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: {what} not found; pass an existing file to {option}") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not {'an' if what[:1].lower() in 'aeio' else 'a'} {what}; "
                         f"pass a file to {option}") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read the {what} ({error.strerror})") from None


class NoSolutionInTimeError(SolverError):
    """The time limit ended the solve before any feasible network was found (exit code 1): the
    instance may well have one; more time may find it."""


def full_disk_cause(error: BaseException | None) -> OSError | None:
    """The 'no space left' (quota, or file-size limit) OSError behind ``error``: itself, or what it was
    raised from or while handling (a PDF writer's AttributeError had hidden the full disk under it)."""
    return os_error_cause(error, (errno.ENOSPC, errno.EDQUOT, errno.EFBIG))


def write_denied_cause(error: BaseException | None) -> OSError | None:
    """The OSError behind ``error`` that says a file may not be written (permission denied, a file system
    made read-only, as one with errors is remounted), as :func:`full_disk_cause` finds it."""
    return os_error_cause(error, (errno.EACCES, errno.EPERM, errno.EROFS))


def os_error_cause(error: BaseException | None, numbers: tuple[int, ...]) -> OSError | None:
    """The OSError with one of the errno ``numbers`` behind ``error``: itself, or what it was raised from or
    while handling."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in numbers:
            return error
        error = error.__cause__ or error.__context__
    return None


def digits_text(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits in plain figures with thousands separators, never in
    scientific notation where it is 1e-4 to 1e15 ('4,000,000' beside '1,000', not '4e+06'); trailing zeros of
    the decimals left out."""
    import math

    if not math.isfinite(value) or value == 0 or not 1e-4 <= abs(value) < 1e15:
        return f"{value:,.{digits}g}"
    rounded = float(f"{value:.{digits}g}")
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(rounded))))
    text = f"{rounded:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def telling_digits(a: float, b: float, fewest: int = 6, most: int = 15) -> int:
    """The fewest significant digits (at least ``fewest``) at which ``a`` and ``b`` print differently: a cap of
    2,321.9285 against a least CO2 of 2,321.92784 had both printed as 2,321.93."""
    for digits in range(fewest, most + 1):
        if f"{a:.{digits}g}" != f"{b:.{digits}g}":
            return digits
    return most
