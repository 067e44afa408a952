"""The solver engine: :func:`solve` (``planner.solver.engine``) is its one entry point.

Modules: ``outcome`` (status, options, report as data), ``highs`` (HiGHS through highspy),
``presolve`` (the Lagrangian presolve: bound, incumbent, exact fixing), ``lagrangian`` (the
relaxation), ``heuristic`` (incumbents and restricted MIPs), ``module_search`` (local search on
large models). Nothing here reads files or geometry."""

from planner.solver.engine import solve
from planner.solver.outcome import SolveReport, SolverOptions, Status

__all__ = ["SolveReport", "SolverOptions", "Status", "solve"]
