"""The only module that talks to the solver: HiGHS through Pyomo's persistent ``highs`` interface
(pyomo.contrib.solver), which hands the model to highspy in memory (no LP file).

The outcome is data: a frozen :class:`SolveReport` with the real termination status, objective,
best bound, gap and times. A run that stops at a limit with an incumbent is reported as such, never
as optimal; no solution raises :class:`InfeasibleError` or :class:`SolverError`.
"""

from __future__ import annotations

import enum
import logging
import math
import sys
import time
from dataclasses import asdict, dataclass

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.solver.common.results import TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from planner.errors import InfeasibleError, SolverError

logger = logging.getLogger(__name__)


OPTIMAL_GAP = 1e-4  # the largest relative gap still reported as "optimal" (HiGHS's default)


class Status(str, enum.Enum):
    """How a solve ended."""

    OPTIMAL = "optimal"  # proven optimal: gap within HiGHS's default 1e-4 (or tighter)
    GAP_LIMIT = "gap_limit"  # stopped at a looser relative gap the user asked for; gap reported
    TIME_LIMIT = "time_limit"  # stopped at the time limit with an incumbent
    OTHER_LIMIT = "limit"  # stopped at another limit (iterations, nodes) with an incumbent
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ERROR = "error"


_STATUS_OF = {
    TerminationCondition.convergenceCriteriaSatisfied: Status.OPTIMAL,
    TerminationCondition.maxTimeLimit: Status.TIME_LIMIT,
    TerminationCondition.iterationLimit: Status.OTHER_LIMIT,
    TerminationCondition.objectiveLimit: Status.OTHER_LIMIT,
    TerminationCondition.provenInfeasible: Status.INFEASIBLE,
    TerminationCondition.locallyInfeasible: Status.INFEASIBLE,
    TerminationCondition.infeasibleOrUnbounded: Status.INFEASIBLE,
    TerminationCondition.unbounded: Status.UNBOUNDED,
}


@dataclass(frozen=True)
class SolverOptions:
    """What the user may set (None = HiGHS default)."""

    time_limit_s: float | None = None
    mip_gap: float = 1e-4
    threads: int | None = None
    quiet: bool = True


@dataclass(frozen=True)
class SolveReport:
    """The solver's outcome (objective and bound in currency/yr)."""

    status: Status
    termination: str
    objective: float | None
    best_bound: float | None
    mip_gap: float | None
    mip_gap_tolerance: float
    solve_s: float
    nodes: int | None
    solver: str

    def to_dict(self) -> dict:
        data = asdict(self)
        data["status"] = self.status.value
        return data


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """(objective − bound) / max(|objective|, 1e-9), clipped at 0; None when either is missing."""
    if objective is None or bound is None or not math.isfinite(bound):
        return None
    return max(0.0, (objective - bound) / max(abs(objective), 1e-9))


def solve_model(model: pyo.ConcreteModel, options: SolverOptions, extra_options: dict | None = None) -> SolveReport:
    """Solve ``model`` with HiGHS and load the incumbent into its variables.

    Raises :class:`InfeasibleError` when HiGHS proves infeasibility and :class:`SolverError` when it
    ends without a feasible solution for another reason.
    """
    solver = Highs()
    if not solver.available():
        raise SolverError("HiGHS is not available: install highspy (pip install highspy)")
    if options.threads is not None:
        # HiGHS keeps one global thread scheduler per process; a new thread count needs a fresh one
        highspy.Highs.resetGlobalScheduler(True)
    started = time.perf_counter()
    results = solver.solve(
        model,
        tee=[] if options.quiet else [sys.stderr],
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
        time_limit=options.time_limit_s,
        rel_gap=options.mip_gap,
        threads=options.threads,
        solver_options={"mip_abs_gap": 1e-9, **(extra_options or {})},
    )
    solve_s = time.perf_counter() - started
    termination = results.termination_condition
    status = _STATUS_OF.get(termination, Status.ERROR)
    objective = results.incumbent_objective
    if status is Status.INFEASIBLE:
        raise InfeasibleError(
            "HiGHS proved the network infeasible: check forced sites, facility counts, the capex budget "
            "and capacity against demand that must be served (run 'planner validate')"
        )
    if objective is None:
        raise SolverError(f"HiGHS ended without a feasible solution (termination: {termination.name})")
    if status is Status.ERROR:
        raise SolverError(f"HiGHS ended with termination '{termination.name}'; no result is trusted")
    results.solution_loader.load_vars()
    bound = results.objective_bound
    if status is Status.OPTIMAL and bound is None:
        bound = objective
    gap = relative_gap(objective, bound)
    if status is Status.OPTIMAL and gap is not None and gap > OPTIMAL_GAP:
        status = Status.GAP_LIMIT
    nodes = getattr(results.extra_info, "mip_node_count", None)
    report = SolveReport(
        status=status,
        termination=termination.name,
        objective=float(objective),
        best_bound=None if bound is None else float(bound),
        mip_gap=gap,
        mip_gap_tolerance=options.mip_gap,
        solve_s=solve_s,
        nodes=None if nodes is None else int(nodes),
        solver=f"HiGHS {'.'.join(map(str, solver.version()))}",
    )
    logger.info("solve ended: %s objective=%s bound=%s gap=%s", status.value, objective, bound, report.mip_gap)
    return report


def values(component, index) -> np.ndarray:
    """Values of an indexed variable at the given integer positions, as a float array (0 if unset)."""
    return np.array([component[i].value or 0.0 for i in index], dtype=float)
