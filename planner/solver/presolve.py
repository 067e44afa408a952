"""The planner's own presolve before HiGHS: a Lagrangian bound, a heuristic incumbent, and exact
fixing of facility options (see ``planner.solver.lagrangian``); then the incumbent is loaded into the
Pyomo model as HiGHS's starting solution and the fixed options are fixed there.

Correctness: an option is fixed only when every solution that flips it costs more than the
incumbent, so the optimum of the reduced model, or the incumbent itself, is the optimum of the
original; the reported bound is the larger of HiGHS's bound and the Lagrangian bound, both valid.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from planner.errors import SolverError
from planner.model.arrays import StandardForm, start_vector
from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.problem import Problem
from planner.solver.heuristic import incumbent_from_values, restricted_mip, satisfies_coupling, solution_cost
from planner.solver.lagrangian import CapacityCover, fixable_options, lagrangian_bound
from planner.solver.module_search import module_search
from planner.solver.outcome import SolveReport, SolverOptions, Status, relative_gap

logger = logging.getLogger(__name__)

RESTRICTED_OPTIONS = 60  # options (at least) in the restricted MIP of the presolve
RESTRICTED_PER_TYPE = 10  # and the best of each facility type
SEARCH_PER_TYPE = 3  # the module search's LP: the best of each type (fewer arcs: more moves per second)
RESTRICTED_SHARE = 0.5  # no restricted MIP when it would hold more than this share of the options
LARGE_MODEL_ARCS = 200_000  # from this size the presolve gets most of the time limit
LARGE_MODEL_SHARE = 0.9
MIN_HIGHS_SECONDS_LARGE = 20.0  # on large models HiGHS is not run with less time left (highs_can_help)
FIRST_ROUND_SHARE_LARGE = 0.15  # of the budget: the first subgradient round (it stalls soon on large models)
LARGE_MODEL_TARGET_GAP = 0.02  # Polyak targets at most this far above the bound on large models
LARGE_MODEL_ITERATIONS = 2000  # subgradient steps per round on large models (time-limited anyway)
FIRST_HEURISTIC_SHARE = 0.05  # of the budget: the first incumbent's local search (none on large models)
PAYING_FIXED_SHARE = 0.5  # below LARGE_MODEL_ARCS, go on past the first incumbent if fixing closes this share
POOR_INCUMBENT_GAP = 0.02  # or if the first incumbent is more than this far above the bound


def promising_options(
    problem: Problem, option_value: np.ndarray, chosen: np.ndarray, per_type: int = RESTRICTED_PER_TYPE
) -> np.ndarray:
    """Mask of the options for the restricted MIP (and the module search): those the relaxation
    opens, the ``max(RESTRICTED_OPTIONS, 4 × opened)`` lowest v_o overall, and the ``per_type``
    lowest of each facility type."""
    n_best = min(problem.n_options, max(RESTRICTED_OPTIONS, 4 * int(chosen.sum())))
    promising = chosen.copy()
    promising[np.argsort(option_value, kind="stable")[:n_best]] = True
    for k in range(len(problem.type_ids)):
        of_type = np.flatnonzero(problem.option_type == k)
        promising[of_type[np.argsort(option_value[of_type], kind="stable")[:per_type]]] = True
    return promising


@dataclass(frozen=True)
class PresolveResult:
    bound: float
    incumbent: Solution | None
    incumbent_cost: float | None
    fix_closed: np.ndarray
    fix_open: np.ndarray
    paid: bool = True  # False: the presolve stopped early; HiGHS gets the model as it is (see keep_better)


def presolve_applies(problem: Problem, options: SolverOptions) -> bool:
    """Large enough to pay, and of the shape the heuristic can make feasible: no product setups,
    no single sourcing, no capex budget, CO2 cap, unmet limit or facility-count limits (which the relaxation drops,
    so its solutions would rarely be feasible and fixing would never trigger)."""
    n_per_type = np.bincount(problem.option_type, minlength=len(problem.type_ids))
    counts_limited = (
        problem.min_facilities > 0
        or problem.max_facilities is not None
        or (problem.type_min_count > 0).any()
        or (problem.type_max_count < n_per_type).any()
    )
    return (
        problem.n_arcs >= options.presolve_min_arcs
        and not problem.setup_cost.any()
        and not problem.single_sourcing
        and not np.isfinite(problem.capex_budget)
        and not counts_limited
        and not np.isfinite(problem.co2_cap_t)
        and not np.isfinite(problem.max_unmet).any()
    )


def presolve_budget(problem: Problem, options: SolverOptions) -> float:
    """Seconds the presolve may spend: a fifth of the time limit (30 s without one); on a model
    with at least ``LARGE_MODEL_ARCS`` arcs, where HiGHS cannot get far within the limit, most of it
    (``LARGE_MODEL_SHARE``), and all of it where the rest would be too little for HiGHS to be run
    at all (:func:`highs_can_help`)."""
    if options.time_limit_s is None:
        return 30.0
    if problem.n_arcs < LARGE_MODEL_ARCS:
        return max(1.0, 0.2 * options.time_limit_s)
    if (1 - LARGE_MODEL_SHARE) * options.time_limit_s < MIN_HIGHS_SECONDS_LARGE:
        return options.time_limit_s
    return max(1.0, LARGE_MODEL_SHARE * options.time_limit_s)


def lagrangian_presolve(problem: Problem, index: ModelIndex, options: SolverOptions) -> PresolveResult:
    """Bound, incumbent and fixings within :func:`presolve_budget`.

    1. Subgradient rounds (``planner.solver.lagrangian``) for the bound and the option values v_o.
    2. A heuristic incumbent from the options the relaxation opens (LP flows, then drop, add and
       swap moves; on large models no moves, the module search of step 4 does better).
    3. On models below ``LARGE_MODEL_ARCS`` arcs: HiGHS on the MIP restricted to the most promising
       options by v_o (a primal heuristic), when they are at most ``RESTRICTED_SHARE`` of the
       options; more subgradient steps aimed at the incumbent's cost (Polyak steps need a target);
       the heuristic of step 2 again from their values.
    4. On models of ``LARGE_MODEL_ARCS`` arcs or more, where HiGHS cannot even solve the root LP of
       the restricted MIP in time (60 s for 69 options of the national model): the module search
       (``planner.solver.module_search``) over the promising options, from the incumbent, side by side
       with the subgradient steps, in two halves so that the second half's steps aim at the first
       half's incumbent and its search starts from the options the newer values promise.
    Fixing with the best bound against the best incumbent.

    Steps 3 and 4 run only where they pay (:func:`worth_going_on`): on models of
    ``LARGE_MODEL_ARCS`` arcs or more, which HiGHS cannot solve alone within a time limit, and on
    smaller ones when the first incumbent already lets fixing close ``PAYING_FIXED_SHARE`` of the
    options, so that a better incumbent shrinks HiGHS's model further, or when that incumbent is
    poor. Otherwise (``paid`` False)
    HiGHS, with its cuts, does more with that time than the presolve's heuristics: it starts at
    once on the model as it is, without the few fixings or the start (with them, HiGHS went another
    way on ``benchmarks/overhead.py``: 46.6 s against 37.5 s for the direct run in one measurement;
    without them it makes the direct run's search), and the incumbent is kept in reserve
    (:func:`keep_better`)."""
    started = time.perf_counter()
    budget = presolve_budget(problem, options)
    large = problem.n_arcs >= LARGE_MODEL_ARCS
    cover = CapacityCover(problem, index)
    best = {"bound": None, "values": None, "chosen": None, "multipliers": None}
    incumbent, cost = None, None

    def left() -> float:
        return budget - (time.perf_counter() - started)

    found = {"cost": None}  # the module search's best cost so far, as it goes (another thread)

    def noted(candidate_cost: float) -> None:
        found["cost"] = candidate_cost if found["cost"] is None else min(found["cost"], candidate_cost)

    def current_upper_bound() -> float | None:
        return min((c for c in (cost, found["cost"]) if c is not None), default=None)

    def bound_round(seconds: float) -> None:
        result = lagrangian_bound(
            problem,
            index,
            upper_bound=cost,
            time_limit_s=seconds,
            start=best["multipliers"],
            max_iterations=LARGE_MODEL_ITERATIONS if large else 400,
            current_upper_bound=current_upper_bound if large else None,
            restart_when_stuck=large,
            max_target_gap=LARGE_MODEL_TARGET_GAP if large and cost is not None else None,
        )
        best["multipliers"] = result.multipliers
        if best["bound"] is None or result.bound > best["bound"]:
            best.update(bound=result.bound, values=result.option_value, chosen=result.chosen)

    def consider(candidate) -> None:
        nonlocal incumbent, cost
        if candidate is not None and satisfies_coupling(problem, candidate):
            candidate_cost = solution_cost(problem, index, candidate)
            if cost is None or candidate_cost < cost:
                incumbent, cost = candidate, candidate_cost

    def fixings() -> tuple[np.ndarray, np.ndarray]:
        return fixable_options(problem, best["bound"], best["values"], cost, cover)

    bound_round(budget * (FIRST_ROUND_SHARE_LARGE if large else 0.25))
    first_seconds = 0.0 if large else budget * FIRST_HEURISTIC_SHARE
    consider(incumbent_from_values(problem, index, best["values"], time_limit_s=first_seconds, opened=best["chosen"]))
    paid = large or worth_going_on(problem, options, best["bound"], cost, fixings())
    if paid and large:
        promising = promising_options(problem, best["values"], best["chosen"], SEARCH_PER_TYPE)
        if incumbent is not None and left() > 0.5 and (options.threads is None or options.threads >= 2):
            # the module search (in HiGHS) and the subgradient (in numpy) both release the GIL,
            # so side by side they use two cores at nearly full speed each; in two halves, so that
            # the second gets the first's incumbent as its Polyak target and its values for the search
            searched = np.zeros(problem.n_options, dtype=bool)
            for half in (2, 1):
                seconds = left() / half
                searched |= promising_options(problem, best["values"], best["chosen"], SEARCH_PER_TYPE)
                promising = searched
                if half == 2:
                    # the first half searches among the facility types the relaxation opens: a
                    # greedy search from a network short of capacity otherwise opens a central
                    # plant first and can stay in that basin (12 eastern states: 114.4 M without
                    # this rule, 103.0 M with it)
                    opened_types = np.unique(problem.option_type[best["chosen"]])
                    if len(opened_types):
                        promising = promising & np.isin(problem.option_type, opened_types)
                with ThreadPoolExecutor(max_workers=1) as pool:
                    bounding = pool.submit(bound_round, seconds)
                    consider(module_search(problem, index, incumbent, promising, seconds, on_improvement=noted))
                    bounding.result()
        elif incumbent is not None and left() > 0.5:
            consider(module_search(problem, index, incumbent, promising, left() / 2))
            bound_round(left())
        elif left() > 0.2:
            bound_round(left())
    elif paid:
        promising = promising_options(problem, best["values"], best["chosen"])
        if promising.sum() <= RESTRICTED_SHARE * problem.n_options and left() > 0.5:
            consider(restricted_mip(problem, index, promising, left() * 0.5, start=incumbent, threads=options.threads))
        if left() > 0.2:
            bound_round(left() / 2)
        if left() > 0.2:
            consider(incumbent_from_values(problem, index, best["values"], time_limit_s=left(), opened=best["chosen"]))
    fix_closed, fix_open = fixings()
    logger.info(
        "presolve: bound %.10g, incumbent %s, %d options fixed closed, %d fixed open (%.1fs)%s",
        best["bound"],
        "none" if cost is None else f"{cost:.10g}",
        int(fix_closed.sum()),
        int(fix_open.sum()),
        time.perf_counter() - started,
        "" if paid else "; it did not pay, so HiGHS gets the model unchanged and the incumbent is kept in reserve",
    )
    return PresolveResult(best["bound"], incumbent, cost, fix_closed, fix_open, paid)


def worth_going_on(
    problem: Problem,
    options: SolverOptions,
    bound: float,
    cost: float | None,
    fixed: tuple[np.ndarray, np.ndarray],
) -> bool:
    """Whether the presolve's steps after the first incumbent pay on a model below
    ``LARGE_MODEL_ARCS`` arcs: an incumbent exists, it is not already within the MIP gap of the
    bound, and either fixing against it closes at least ``PAYING_FIXED_SHARE`` of the free options
    or it is poor (more than ``POOR_INCUMBENT_GAP`` above the bound), so that the restricted MIP
    and the second local search can still find much better, which tightens the fixing."""
    if cost is None:
        return False
    gap = relative_gap(cost, bound)
    if gap is not None and options.mip_gap is not None and gap <= options.mip_gap:
        return False
    if gap is not None and gap > POOR_INCUMBENT_GAP:
        return True
    free = int((~problem.forced).sum())
    return free > 0 and int(fixed[0].sum() + fixed[1].sum()) >= PAYING_FIXED_SHARE * free


def apply_presolve(model: pyo.ConcreteModel, problem: Problem, index: ModelIndex, presolve: PresolveResult) -> None:
    """Fix the fixable options and load the incumbent as the starting point."""
    for option in np.flatnonzero(presolve.fix_closed).tolist():
        model.open[option].fix(0)
    for option in np.flatnonzero(presolve.fix_open).tolist():
        model.open[option].fix(1)
    incumbent = presolve.incumbent
    if incumbent is None:
        return
    for option in range(problem.n_options):
        if not model.open[option].fixed:
            model.open[option].set_value(int(incumbent.open[option]))
    for option in index.modular_options.tolist():
        model.modules[option].set_value(int(incumbent.modules[option]))
    for arc, share in enumerate(incumbent.assign.tolist()):
        model.assign[arc].set_value(share)
    for pair in index.unmet_pairs.tolist():
        model.unmet[pair].set_value(float(incumbent.unmet[pair]))


def apply_presolve_to_form(
    form: StandardForm, problem: Problem, index: ModelIndex, presolve: PresolveResult
) -> tuple[StandardForm, np.ndarray | None]:
    """The array route's :func:`apply_presolve`: the form with the fixable options' bounds
    fixed, and the incumbent as a start vector (None without one)."""
    col_lower, col_upper = form.col_lower.copy(), form.col_upper.copy()
    open_columns = np.arange(*form.blocks["open"])
    col_upper[open_columns[presolve.fix_closed]] = 0.0
    col_lower[open_columns[presolve.fix_open]] = 1.0
    form = dataclasses.replace(form, col_lower=col_lower, col_upper=col_upper)
    if presolve.incumbent is None:
        return form, None
    return form, start_vector(form, problem, index, presolve.incumbent)


def combine_bounds(report: SolveReport, lagrangian: float) -> SolveReport:
    """The larger of the two valid lower bounds, and the gap and status that follow from it."""
    if report.best_bound is not None and report.best_bound >= lagrangian:
        return report
    bound = lagrangian if report.objective is None else min(lagrangian, report.objective)
    return with_gap(report, report.objective, bound)


def with_gap(report: SolveReport, objective: float, bound: float | None) -> SolveReport:
    """``report`` with this objective and bound, their gap, and status ``gap_limit`` where a run
    stopped at a limit is within its gap tolerance."""
    gap = relative_gap(objective, bound)
    status = report.status
    if status in (Status.TIME_LIMIT, Status.OTHER_LIMIT) and gap is not None and gap <= report.mip_gap_tolerance:
        status = Status.GAP_LIMIT
    return dataclasses.replace(report, objective=objective, best_bound=bound, mip_gap=gap, status=status)


def keep_better(
    report: SolveReport | None,
    values: np.ndarray | None,
    form: StandardForm,
    problem: Problem,
    index: ModelIndex,
    presolve: PresolveResult,
    mip_gap_tolerance: float,
) -> tuple[SolveReport, np.ndarray]:
    """HiGHS's result, or the presolve's incumbent where HiGHS ended with no solution (``report``
    None) or a dearer one: the case of an unpaid presolve, whose incumbent HiGHS did not start from.
    HiGHS's bound stays (it is valid whatever the incumbent); the gap follows the kept solution."""
    if presolve.incumbent is None:
        if report is None:
            raise SolverError("HiGHS ended without a feasible solution and the presolve found none")
        return report, values
    vector = start_vector(form, problem, index, presolve.incumbent)
    objective = float(form.cost @ vector) + float(form.offset)
    if report is not None and report.objective <= objective:
        return report, values
    logger.info(
        "the presolve's incumbent (%.10g) is kept: HiGHS ended with %s",
        objective,
        "no solution" if report is None else f"{report.objective:.10g}",
    )
    if report is None:
        return presolve_report(
            objective, Status.OTHER_LIMIT, "HiGHS ended without a usable solution; the presolve's incumbent",
            mip_gap_tolerance,
        ), vector
    return with_gap(report, objective, report.best_bound), vector


def presolve_report(objective: float, status: Status, termination: str, mip_gap_tolerance: float) -> SolveReport:
    """A report for the presolve's incumbent alone (no bound yet: see :func:`combine_bounds`)."""
    return SolveReport(
        status=status,
        termination=termination,
        objective=objective,
        best_bound=None,
        mip_gap=None,
        mip_gap_tolerance=mip_gap_tolerance,
        solve_s=0.0,
        nodes=None,
        solver="planner presolve",
    )


def highs_can_help(problem: Problem, presolve: PresolveResult, seconds: float | None) -> bool:
    """Whether HiGHS should get the model after the presolve: not on a model of
    ``LARGE_MODEL_ARCS`` arcs or more with an incumbent in hand and less than
    ``MIN_HIGHS_SECONDS_LARGE`` left, where HiGHS's own presolve alone takes about 10 s (national
    model) and its root LP far longer, so it would only overrun the time limit."""
    return not (
        problem.n_arcs >= LARGE_MODEL_ARCS
        and presolve.incumbent is not None
        and seconds is not None
        and seconds < MIN_HIGHS_SECONDS_LARGE
    )
