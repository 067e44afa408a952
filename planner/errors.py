"""The planner's error classes: library errors become CLI errors in exactly one place (``planner.cli``).

Messages follow "what is wrong, which items, how to fix it" and fit on one line.
"""


class PlannerError(Exception):
    """Base class of every error the planner raises on purpose."""

    exit_code = 1


class InputError(PlannerError, ValueError):
    """Bad input: a file, column, row or key is missing or wrong (exit code 2)."""

    exit_code = 2


class InfeasibleError(PlannerError):
    """The instance has no feasible network (exit code 1)."""

    exit_code = 1


class SolverError(PlannerError):
    """The solver ended without a usable solution (exit code 1)."""

    exit_code = 1


def truncated(items, limit: int = 5) -> str:
    """Comma-separated ``items``, the first ``limit`` of them, with how many more were left out."""
    items = [str(item) for item in items]
    shown = ", ".join(items[:limit])
    if len(items) > limit:
        shown += f" (+{len(items) - limit} more)"
    return shown
