r"""A network within the capex budget exactly, not within HiGHS's feasibility tolerance.

The budget row :math:`\sum_o (\text{capex}_o y_o + \text{capex\_per\_module}_o m_o) \le B` is met by HiGHS
within its feasibility tolerance, which it applies to its scaled model: with capex in JPY (a budget of
4.8e12) it returned a network 1,000,000 JPY over the budget, 47 % cheaper than the best network within it,
called optimal. Capex of whole facilities and modules is exact arithmetic, so any excess beyond float
rounding (:func:`planner.problem.capex_excess`) is a network the user cannot afford.

:func:`kept_within_budget` checks the network a solve returns; where it is over, the problem is solved again
with the budget lowered by ``MARGIN`` × the excess, and × HiGHS's tolerance on the row at least (so that the
tolerance no longer reaches the budget; never below what the forced sites spend: :func:`lowered_budget`), at
most ``RETRIES`` times, each with what is left of the time limit (at least ``RETRY_SHARE`` of it:
:func:`retry_options`). A network whose capex lies in the band left out, within that
margin below the budget, may be missed: the report keeps the bound of the first solve (valid for the user's
budget: the tolerance only widens the feasible set), so the gap says what the band may cost, and the status is
``optimal`` or ``gap_limit`` only where that gap is within the tolerance, else ``limit`` (its termination says
why). It cannot tell an empty band (capex in steps of 1e11 leave no network within 1e5 below a budget) from
one that holds a better network. Beside the solve again, ``repair`` may make a network within the budget of
the one returned (the engine takes modules away and keeps its start where that fits); the cheapest answer
wins. Where neither finds one, the error says so (the user's budget is not infeasible: its networks lie in
the band).

The studies' extensive forms (``--scenarios``: first stage plus each scenario's recourse modules;
``--periods``: each decision node's network) hold the same row once per scenario or node: their excess is
the largest (:func:`excess_of_networks`), and they are kept within the budget by the same rule.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

import numpy as np

from planner.errors import InfeasibleError, SolverError
from planner.inputs.screen import least_capex
from planner.model.solution import Solution
from planner.problem import Problem, capex_excess
from planner.solver.heuristic import capex_spend
from planner.solver.outcome import SolveReport, SolverOptions, Status, closed_status, relative_gap

logger = logging.getLogger(__name__)

MARGIN = 2.0  # the budget is lowered by this many times the excess, and by this many times HiGHS's tolerance at least
HIGHS_TOLERANCE = 1e-6  # HiGHS's mip_feasibility_tolerance; HiGHS scales the row, so relative to the budget
RETRIES = 2
RETRY_SHARE = 0.1  # of the time limit at least for each solve again within the budget

Answer = TypeVar("Answer")  # what a solve returns beside its report: a Solution, a study's solution


def excess(problem: Problem, solution: Solution) -> float:
    """How far the network's capex is over the budget beyond rounding (0 where within it or without one)."""
    return excess_of_networks(problem, [(solution.open, solution.modules)])


def excess_of_networks(problem: Problem, networks: Iterable[tuple[np.ndarray, np.ndarray]]) -> float:
    """The largest excess over the budget of ``networks`` (each (open (O,), modules (O,))), 0 within it
    (:func:`planner.problem.capex_excess`)."""
    return max((capex_excess(capex_spend(problem, np.asarray(opened) > 0.5, np.round(np.asarray(modules, float))),
                             problem.capex_budget) for opened, modules in networks), default=0.0)


def lowered_budget(problem: Problem, budget: float, over: float, floor: float) -> float:
    """``budget`` lowered below HiGHS's reach of a network ``over`` it: by ``MARGIN`` × the excess and × HiGHS's
    relative tolerance on the user's budget, at least (an excess of 5,000 on 4.47e12 lowered by 10,000 left the
    same network within the tolerance); never below ``floor``, what every answer spends."""
    lowering = MARGIN * max(over, HIGHS_TOLERANCE * abs(problem.capex_budget))
    return max(budget - lowering, floor)


def retry_options(options: SolverOptions, started: float) -> SolverOptions:
    """``options`` for a solve again with the budget lowered: what is left of the time limit since ``started``
    (``time.perf_counter()``), and at least ``RETRY_SHARE`` of it (the first solve may have used it all)."""
    if options.time_limit_s is None:
        return options
    left = options.time_limit_s - (time.perf_counter() - started)
    return dataclasses.replace(options, time_limit_s=max(left, RETRY_SHARE * options.time_limit_s))


def kept_within_budget(problem: Problem, over: Callable[[Answer], float],
                       solve: Callable[[float, SolverOptions], tuple[SolveReport, Answer]], options: SolverOptions,
                       floor: float | None = None,
                       repair: Callable[[SolveReport, Answer], tuple[SolveReport, Answer] | None] | None = None,
                       ) -> tuple[SolveReport, Answer]:
    """``solve`` (a report and answer of ``problem``, or of a study of it, given a capex budget and solver
    options) at ``problem.capex_budget`` with ``options``; where ``over`` (the answer's excess over that budget)
    is positive, the cheaper of what ``repair`` makes of it (a network within the budget, with its report; None
    where it makes none) and ``solve``'s answer given a lowered budget (never below ``floor``, the capex every
    answer spends: by default :func:`planner.inputs.screen.least_capex`; see the module) with what is left of
    the time limit (:func:`retry_options`), with the first solve's bound. A solve again that cannot lower the
    budget further, or finds nothing, is left off (the forced sites' capex within the margin had ended in an
    error where a network existed)."""
    started = time.perf_counter()
    report, answer = first = solve(problem.capex_budget, options)
    excess_now = over(answer)
    if excess_now == 0.0:
        return first
    floor = least_capex(problem) if floor is None else floor
    bound, budget = report.best_bound, problem.capex_budget
    found = [repaired] if repair is not None and (repaired := repair(report, answer)) is not None else []
    for _ in range(RETRIES):
        lowered = lowered_budget(problem, budget, excess_now, floor)
        if lowered >= budget:
            break
        budget = lowered
        logger.warning("the network HiGHS returned spends %.6g %s over the capex budget (%.15g), within its "
                       "feasibility tolerance; solving again with the budget %.6g lower (a network within that of "
                       "the budget may be missed: the gap says what it may cost)", excess_now, problem.currency,
                       problem.capex_budget, problem.capex_budget - budget)
        try:
            again = solve(budget, retry_options(options, started))
        except (InfeasibleError, SolverError):  # nothing below the lowered budget, or not in its time
            break
        excess_now = over(again[1])
        if excess_now == 0.0:
            found.append(again)
            break
    if not found:
        raise over_budget_error(problem, excess_now, problem.capex_budget - budget, floor)
    best_report, best = min(found, key=lambda pair: pair[0].objective)
    return _with_first_bound(best_report, bound), best


def repaired_report(report: SolveReport, objective: float, bound: float | None, how: str) -> SolveReport:
    """``report`` for a network ``repair`` made (its ``objective``; ``how``: what was done), with the first
    solve's ``bound`` and the gap and status that follow."""
    return _at_bound(report, objective, bound, how)


def _with_first_bound(report: SolveReport, bound: float | None) -> SolveReport:
    """``report`` with the first solve's bound where lower (the lowered budget's is no bound for the user's)."""
    if bound is None or (report.best_bound is not None and report.best_bound <= bound):
        return report
    return _at_bound(report, report.objective, bound, "solved with the capex budget lowered below HiGHS's tolerance")


def _at_bound(report: SolveReport, objective: float, bound: float | None, note: str) -> SolveReport:
    """``report`` with ``objective`` and ``bound``, the gap between them, and a status not optimal (``limit``)
    where that gap is above the tolerance; ``note`` joins its termination."""
    gap = relative_gap(objective, bound)
    status = report.status
    if status in (Status.OPTIMAL, Status.GAP_LIMIT) and gap is not None:
        status = closed_status(gap) if gap <= report.mip_gap_tolerance else Status.OTHER_LIMIT
    return dataclasses.replace(report, objective=objective, best_bound=bound, mip_gap=gap, status=status,
                               termination=f"{report.termination}; {note}")


def over_budget_error(problem: Problem, over: float, lowered_by: float, floor: float) -> SolverError:
    """Where no network within the budget is found (see the module)."""
    start = (f"no network within the capex budget ({problem.capex_budget:.15g} {problem.currency}) was found: "
             f"HiGHS's networks are {over:.6g} over it, within its feasibility tolerance, and ")
    if lowered_by <= 0:  # no solve again: what every network spends leaves no room to lower it
        return SolverError(f"{start}the budget cannot be lowered to exclude them: the forced sites and the types' "
                           f"min_count spend {floor:.15g} of it; raise network.capex_budget by {over:.6g} or more")
    return SolverError(f"{start}none spends {lowered_by:.6g} less; raise network.capex_budget by {over:.6g} or "
                       "more, or lower it to a network's capex")
