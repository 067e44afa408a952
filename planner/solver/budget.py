r"""A network within the capex budget exactly, not within HiGHS's feasibility tolerance.

The budget row :math:`\sum_o (\text{capex}_o y_o + \text{capex\_per\_module}_o m_o) \le B` is met by HiGHS
within its feasibility tolerance, which it applies to its scaled model: with capex in JPY (a budget of
4.8e12) it returned a network 1,000,000 JPY over the budget, 47 % cheaper than the best network within it,
called optimal. Capex of whole facilities and modules is exact arithmetic, so any excess beyond float
rounding (``ROUNDING``, relative) is a network the user cannot afford.

:func:`kept_within_budget` checks the network a solve returns; where it is over, the problem is solved again
with the budget lowered by ``MARGIN`` × the excess (so that HiGHS's tolerance no longer reaches the budget), at
most ``RETRIES`` times, each with what is left of the time limit (at least a tenth of it:
``planner.solver.engine.BUDGET_RETRY_SHARE``). A network whose capex lies in the band left out, within that
margin below the budget, may be missed: the report keeps the bound of the first solve (valid for the user's
budget: the tolerance only widens the feasible set), so the gap says what the band may cost, and the status is
``optimal`` or ``gap_limit`` only where that gap is within the tolerance, else ``limit`` (its termination says
why). It cannot tell an empty band (capex in steps of 1e11 leave no network within 1e5 below a budget) from
one that holds a better network.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import NoReturn

import numpy as np

from planner.errors import SolverError
from planner.model.solution import Solution
from planner.problem import Problem
from planner.solver.heuristic import capex_spend
from planner.solver.outcome import SolveReport, Status, closed_status, relative_gap

logger = logging.getLogger(__name__)

ROUNDING = 1e-9  # relative to the budget: an excess up to this is float rounding
MARGIN = 2.0  # the budget is lowered by this many times the excess
RETRIES = 2


def excess(problem: Problem, solution: Solution) -> float:
    """How far the network's capex is over the budget beyond rounding (0 where within it or without one)."""
    budget = problem.capex_budget
    if not np.isfinite(budget):
        return 0.0
    opened = np.asarray(solution.open) > 0.5
    over = capex_spend(problem, opened, np.round(np.asarray(solution.modules, dtype=float))) - budget
    return over if over > ROUNDING * max(abs(budget), 1.0) else 0.0


def kept_within_budget(problem: Problem, solve: Callable[[Problem], tuple[SolveReport, Solution]],
                       first: tuple[SolveReport, Solution]) -> tuple[SolveReport, Solution]:
    """``first`` (the report and network of ``problem``), or, where its capex exceeds the budget, the answer of
    ``solve`` on the problem with the budget lowered (see the module), with the first solve's bound."""
    report, solution = first
    over = excess(problem, solution)
    if over == 0.0:
        return first
    bound, lowered = report.best_bound, problem
    for _ in range(RETRIES):
        logger.warning("the network HiGHS returned spends %.6g %s over the capex budget (%.10g), within its "
                       "feasibility tolerance; solving again with the budget %.6g lower (a network within that of "
                       "the budget may be missed: the gap says what it may cost)", over, problem.currency,
                       problem.capex_budget, MARGIN * over)
        lowered = dataclasses.replace(lowered, capex_budget=lowered.capex_budget - MARGIN * over)
        report, solution = solve(lowered)
        over = excess(problem, solution)
        if over == 0.0:
            return _with_first_bound(report, bound), solution
    raise_over_budget(problem, solution)


def _with_first_bound(report: SolveReport, bound: float | None) -> SolveReport:
    """``report`` with the first solve's bound where lower (the lowered budget's is no bound for the user's), and
    the gap and status that follow: not optimal where that gap is above the tolerance."""
    if bound is None or (report.best_bound is not None and report.best_bound <= bound):
        return report
    gap = relative_gap(report.objective, bound)
    status = report.status
    if status in (Status.OPTIMAL, Status.GAP_LIMIT) and gap is not None:
        status = closed_status(gap) if gap <= report.mip_gap_tolerance else Status.OTHER_LIMIT
    termination = f"{report.termination}; solved with the capex budget lowered below HiGHS's tolerance"
    return dataclasses.replace(report, best_bound=bound, mip_gap=gap, status=status, termination=termination)


def raise_over_budget(problem: Problem, solution: Solution) -> NoReturn:
    raise SolverError(f"no network within the capex budget ({problem.capex_budget:.10g} {problem.currency}) was "
                      f"found: HiGHS's networks stay {excess(problem, solution):.6g} over it within its feasibility "
                      "tolerance; state the capex and the budget in a larger currency unit")
