r"""Why a model HiGHS proved infeasible is infeasible, found by solving for it.

The constraints that can make a screened model infeasible are taken in turn, each by dropping it and
asking whether the rest is feasible:

1. **the CO2 cap** :math:`E` (``network.max_co2_t_per_yr``): with the cap dropped and everything
   else unchanged, the least emissions any network reaches are

   .. math:: E^{\min} = \min \sum_a e_a q_a x_a \; (+ \text{inbound CO2})  \quad \text{(t CO2/yr)}

   If :math:`E^{\min} > E` the cap is the cause and the message states both (the proven minimum, or
   the solver's bound and best when it stops at the time limit; where it finds no network in the
   time, a quick valid lower bound: each pair that must be served on its lowest-emission arc, with no
   capacity). If the model is infeasible without the cap too, the rest is explained.
2. **service levels**: :func:`planner.solver.service.explain_service_infeasibility`.
3. **single sourcing**: a pair that must be served and whose demand exceeds every option that can
   serve it is named (``planner.inputs.screen.oversized_pairs``); otherwise, if the split-flow
   model is feasible, single sourcing is what makes it infeasible, and the message says so.
4. **facility counts** (``network.max_facilities`` or a p, the types' ``max_count``): with them
   dropped, the fewest facilities any network needs, :math:`\min \sum_o y_o`, against the limit
   (e.g. a p-median graph of more components than p).
5. **the capex budget** (``network.capex_budget``): with it dropped, the least capex any network
   needs, :math:`\min \sum_o (\text{capex}_o y_o + \text{capex\_per\_module}_o m_o)`, against it.

Otherwise HiGHS's own error stands.

A scenario or staged model (``--scenarios``, ``--periods``) that HiGHS proves infeasible is explained by
its demand cells (:func:`explain_demand_cells`): the deterministic model of each of the
``MAX_EXPLAINED_CELLS`` largest cells (by total demand) is solved, and the first one that is infeasible
on its own is explained as above, named; where each is feasible on its own, HiGHS's error stands (it is
then the one network for all cells that cannot be).
"""

from __future__ import annotations

import dataclasses
import logging
import math

import numpy as np

from planner.errors import (
    InfeasibleError,
    ServiceReachError,
    SolverError,
    UnexplainedInfeasibleError,
    digits_text,
    telling_digits,
)
from planner.inputs.screen import check_single_source_sizes, count_limit_key, min_count_key
from planner.model.arrays import build_standard_form
from planner.model.index import ModelIndex
from planner.problem import Problem, budget_row_scale
from planner.solver.co2_unit import co2_factor
from planner.solver.highs import run_highs
from planner.solver.outcome import OPTIMAL_GAP, SolverOptions, Status
from planner.solver.service import explain_service_infeasibility

logger = logging.getLogger(__name__)

EXPLAIN_TIME_LIMIT_S = 60.0  # at most this long for each solve of an explanation
MAX_EXPLAINED_CELLS = 5  # the largest demand cells of a scenario or staged model tried on their own
CO2_ROW = "co2_cap_constr"
BUDGET_ROW = "capex_budget_constr"


def co2_fix(problem: Problem) -> str:
    """The fixes of a CO2 cap no network meets: what forces emissions in this model (demand that must
    be served, service levels) besides the cap and the emission factors."""
    fixes = ["raise network.max_co2_t_per_yr", "lower the emission factors (co2_kg_per_unit, co2_kg_per_unit_km)"]
    if len(problem.serviced_products):
        fixes.append("lower the service levels (min_share_within), which force deliveries")
    if not np.isfinite(problem.unmet_penalty).all():
        fixes.append("give the products an unmet_penalty_per_unit")
    return ", ".join(fixes[:-1]) + " or " + fixes[-1]


def explain_infeasibility(problem: Problem, options: SolverOptions, error: InfeasibleError) -> InfeasibleError:
    """The error to raise for ``problem``, which HiGHS proved infeasible (``error``): see the module."""
    quick = explain_options(options)
    if isinstance(error, ServiceReachError):  # found before solving: the best share may be lower still
        rest = UnexplainedInfeasibleError(str(error))  # without the levels the reach is not the cause
        return explain_service_infeasibility(
            problem, quick, explain_rest=lambda relaxed: explain_infeasibility(relaxed, quick, rest), reach=error)
    if np.isfinite(problem.co2_cap_t):
        return explain_co2_cap(problem, quick, error)
    if len(problem.serviced_products):
        return explain_service_infeasibility(
            problem, quick, explain_rest=lambda relaxed: explain_infeasibility(relaxed, quick, error))
    if problem.single_sourcing:
        return explain_single_sourcing(problem, quick, error)
    explained = explain_counts(problem, quick, error)
    return explain_budget(problem, quick, error) if explained is error else explained


def explain_options(options: SolverOptions) -> SolverOptions:
    """The options of an explaining solve: quiet, the default gap, at most ``EXPLAIN_TIME_LIMIT_S``."""
    limit = EXPLAIN_TIME_LIMIT_S if options.time_limit_s is None else min(options.time_limit_s, EXPLAIN_TIME_LIMIT_S)
    return dataclasses.replace(options, time_limit_s=limit, mip_gap=OPTIMAL_GAP, quiet=True, progress_s=None)


def least_co2(problem: Problem, options: SolverOptions) -> tuple[float, float, Status]:
    """The least CO2 (t/yr) of any network of ``problem`` with its cap dropped: (best found, lower
    bound, status). Raises InfeasibleError when the model is infeasible without the cap and
    SolverError when no network is found in the time."""
    index = ModelIndex.from_problem(problem)
    form = build_standard_form(problem, index)
    row = row_of(form, CO2_ROW)
    emissions = form.matrix[[row], :].toarray().ravel()
    row_upper = form.row_upper.copy()
    row_upper[row] = np.inf
    unit = co2_factor(problem)  # a cap below 1 t: CO2 minimised in a smaller unit, HiGHS's tolerances being absolute
    report, _ = run_highs(dataclasses.replace(form, cost=emissions * unit, offset=0.0, row_upper=row_upper), options)
    bound = report.best_bound / unit if report.best_bound is not None else co2_lower_bound(problem)
    return float(report.objective / unit), float(min(bound, report.objective / unit)), report.status


def row_of(form, family: str) -> int:
    """The position of the first row of ``family`` in the standard form."""
    names = [name for name, _ in form.row_families]
    return sum(count for _, count in form.row_families[: names.index(family)])


def co2_lower_bound(problem: Problem) -> float:
    """A valid lower bound on the CO2 (t/yr) of any network: each pair that must be served on its
    lowest-emission arc, capacities and counts ignored (emissions are ≥ 0)."""
    index = ModelIndex.from_problem(problem)
    lowest = np.full(index.n_pairs, np.inf)
    np.minimum.at(lowest, index.arc_pair, problem.arc_co2_t * index.arc_demand)
    must_serve = ~np.isfinite(index.pair_penalty) & np.isfinite(lowest)
    return float(lowest[must_serve].sum())


def explain_co2_cap(problem: Problem, options: SolverOptions, error: InfeasibleError) -> InfeasibleError:
    """The CO2 cap against the least CO2 any network reaches (module, step 1)."""
    cap = problem.co2_cap_t
    uncapped = dataclasses.replace(problem, co2_cap_t=np.inf)
    logger.info("infeasible: minimising CO2 without the cap of %.6g t/yr, to explain it", cap)
    try:
        best, bound, status = least_co2(problem, options)
    except InfeasibleError:
        rest = explain_infeasibility(uncapped, options, error)
        return InfeasibleError(f"{rest} (even without the CO2 cap network.max_co2_t_per_yr = {cap:,.6g} t/yr)")
    except SolverError:
        floor = co2_lower_bound(uncapped)
        return InfeasibleError(
            f"no network meets the CO2 cap network.max_co2_t_per_yr = {cap:,.6g} t/yr; no network was found in "
            f"{options.time_limit_s:g} s when minimising CO2 under the same constraints, and a quick lower bound "
            f"(each region on its lowest-emission arc, capacities ignored) is {floor:,.6g} t/yr; {co2_fix(problem)}")
    if best <= cap * (1 + 1e-9) + 1e-9 * min(cap, 1.0):
        return error  # the least-CO2 network meets the cap: not the cause (numerics); HiGHS's verdict stands
    digits = telling_digits(cap, best if status is Status.OPTIMAL else bound)
    if status is Status.OPTIMAL:
        reach = f"{digits_text(best, digits)} t/yr (proven: CO2 minimised under the same constraints)"
    else:
        reach = (f"at least {digits_text(bound, digits)} t/yr (CO2 minimised under the same constraints, stopped at "
                 f"'{status.value}' with {digits_text(best, digits)} t/yr found)")
    return InfeasibleError(f"no network meets the CO2 cap network.max_co2_t_per_yr = {digits_text(cap, digits)} t/yr: "
                           f"the least CO2 any network can reach is {reach}; {co2_fix(problem)}")



def explain_single_sourcing(problem: Problem, options: SolverOptions, error: InfeasibleError) -> InfeasibleError:
    """Single sourcing as the cause (module, step 3): the pairs too large for any one facility, or
    the split-flow model's feasibility."""
    try:
        check_single_source_sizes(problem)
    except InfeasibleError as oversized:
        return oversized
    split = dataclasses.replace(problem, single_sourcing=False)
    form = build_standard_form(split)
    logger.info("infeasible: checking whether split flows fit, to explain it")
    try:
        run_highs(dataclasses.replace(form, cost=np.zeros(form.n_columns), offset=0.0), options)
    except InfeasibleError:
        rest = explain_infeasibility(split, options, error)
        return InfeasibleError(f"{rest} (even with split flows, without single sourcing)")
    except SolverError:
        return InfeasibleError(f"{error}; whether it is single sourcing (network.single_sourcing) that makes it "
                               f"infeasible was not decided in {options.time_limit_s:g} s")
    return InfeasibleError(
        "single sourcing makes the network infeasible: the demand that must be served fits the capacities with "
        "split flows, but no assignment of each region's product to one facility fits; allow split flows "
        "(network.single_sourcing = false), add modules or capacity, or set an unmet penalty")


def explain_counts(problem: Problem, options: SolverOptions, error: InfeasibleError) -> InfeasibleError:
    """The facility-count limits as the cause (module, step 4): the fewest facilities any network
    needs with the limits dropped, against them; ``error`` where they are not the cause."""
    n_per_type = np.bincount(problem.option_type, minlength=len(problem.type_ids))
    by_type = (problem.type_max_count < n_per_type).any()
    if problem.max_facilities is None and not by_type:
        return error
    free = dataclasses.replace(problem, max_facilities=None, type_max_count=n_per_type.astype(int))
    form = build_standard_form(free)
    cost = np.zeros(form.n_columns)
    cost[form.block("open")] = 1.0
    logger.info("infeasible: minimising the number of facilities without the count limits, to explain it")
    try:
        report, _ = run_highs(dataclasses.replace(form, cost=cost, offset=0.0), options)
    except (InfeasibleError, SolverError):
        return error  # infeasible without the limits too (or not decided): they are not shown to be the cause
    fewest = math.ceil(report.best_bound - 1e-6) if report.best_bound is not None else round(report.objective)
    classic = problem.objective_kind != "cost"  # a classic kind ignores penalties: no penalty hint
    if problem.max_facilities is not None and fewest > problem.max_facilities:
        key = count_limit_key(problem)
        fix = f"raise {key}" if classic else "raise the limit, or set an unmet penalty so that demand may go unserved"
        return InfeasibleError(  # the bound is valid, so "at least" holds whether or not the minimum was proven
            f"the network is infeasible: at least {fewest} {'facility' if fewest == 1 else 'facilities'} must open "
            f"to serve all demand that must be served, but at most {problem.max_facilities} may (the "
            f"facility-count limit: {key}); {fix}")
    if not by_type or (problem.max_facilities is not None and report.status is not Status.OPTIMAL):
        return error
    limited = [problem.type_ids[k] for k in np.flatnonzero(problem.type_max_count < n_per_type)]
    return InfeasibleError(
        f"the facility types' max_count ({', '.join(limited)}) makes the network infeasible: without it all demand "
        f"that must be served can be served (with {round(report.objective)} facilities); raise max_count"
        f"{'' if classic else ', or set an unmet penalty so that demand may go unserved'}")


def explain_demand_cells(problem: Problem, cells: list[tuple[str, np.ndarray]], options: SolverOptions,
                         error: InfeasibleError) -> InfeasibleError:
    """The first of the largest ``cells`` ((label, (R, P) demand), e.g. a scenario) whose deterministic
    model is infeasible on its own, explained and named; ``error`` where none is (see the module)."""
    from planner.problem import ARC_FIELDS
    from planner.solver.engine import solve  # the engine imports this module

    feasibility = dataclasses.replace(explain_options(options), mip_gap=1.0)  # any network answers
    for label, demand in sorted(cells, key=lambda cell: -float(cell[1].sum()))[:MAX_EXPLAINED_CELLS]:
        keep = demand[problem.arc_region, problem.arc_product] > 0
        alone = dataclasses.replace(problem, demand=demand,
                                    **{name: getattr(problem, name)[keep] for name in ARC_FIELDS})
        logger.info("infeasible: solving %s on its own, to explain it", label)
        try:
            solve(alone, feasibility)
        except UnexplainedInfeasibleError:
            continue
        except InfeasibleError as explained:
            return InfeasibleError(f"{label}: {explained}")
        except SolverError:
            continue
    return error


def explain_budget(problem: Problem, options: SolverOptions, error: InfeasibleError) -> InfeasibleError:
    """The capex budget as the cause (module, step 5): the least capex any network needs with the
    budget dropped (a valid bound where the solve stops early), against it; ``error`` where it is not
    shown to be the cause."""
    budget = problem.capex_budget
    if not np.isfinite(budget):
        return error
    form = build_standard_form(problem)
    row = row_of(form, BUDGET_ROW)
    spend = form.matrix[[row], :].toarray().ravel() * budget_row_scale(problem)
    row_upper = form.row_upper.copy()
    row_upper[row] = np.inf
    logger.info("infeasible: minimising the capex without the budget of %.6g, to explain it", budget)
    try:
        report, _ = run_highs(dataclasses.replace(form, cost=spend, offset=0.0, row_upper=row_upper), options)
    except (InfeasibleError, SolverError):
        return error  # infeasible without the budget too (or not decided): it is not shown to be the cause
    least = report.best_bound if report.best_bound is not None else report.objective
    if least <= budget * (1 + 1e-9):
        return error
    proven = "" if report.status is Status.OPTIMAL else f" (a bound: the solve stopped at '{report.status.value}')"
    needs, fixes = _capex_drivers(problem)
    digits = telling_digits(least, budget)  # 4.80247e+12 against 4.80247e+12 had read as the same
    return InfeasibleError(
        f"the network is infeasible: every network that {' and '.join(needs)} needs a capex of at "
        f"least {digits_text(least, digits)} {problem.currency}{proven}, but network.capex_budget is "
        f"{digits_text(budget, digits)}; raise the "
        f"budget, lower capex or capex_per_module{''.join(', ' + fix for fix in fixes[:-1])}"
        f"{', or ' + fixes[-1] if fixes else ''}")


def _capex_drivers(problem: Problem) -> tuple[list[str], list[str]]:
    """What makes every network spend capex (demand that must be served, a service level or a limit
    on unmet demand, lower facility counts, forced or existing sites) and the fix each has: a message
    blamed demand and suggested a penalty already set where a type's min_count was the cause."""
    must_serve = bool((np.isinf(problem.unmet_penalty) & (problem.demand.sum(axis=0) > 0)).any())
    limits = bool((problem.service_share > 0).any() or np.isfinite(problem.max_unmet).any())
    counts = [*(["min_count"] if (problem.type_min_count > 0).any() else []),
              *([min_count_key(problem)] if problem.min_facilities > 0 else [])]
    drivers = [
        *_demand_drivers(problem.objective_kind, must_serve, limits),
        (bool(counts), f"meets the lower facility counts ({', '.join(counts)})", "lower them"),
        (bool(problem.forced.any()), "opens the forced and existing sites", "force fewer sites"),
    ]
    needs = [need for applies, need, _ in drivers if applies] or ["the model allows"]
    return needs, [fix for applies, _, fix in drivers if applies and fix]


def _demand_drivers(kind: str, must_serve: bool, limits: bool) -> list[tuple[bool, str, str | None]]:
    """The demand's part in :func:`_capex_drivers`: with the cost objective, demand without an unmet
    penalty and the service limits; ``set_covering`` covers all demand within its distance; the other
    classic kinds ignore the unmet penalty (a message had suggested one that was already set)."""
    if kind == "cost":
        return [(must_serve or limits, "serves the demand that must be served",
                 "set an unmet penalty or relax the service limits")]
    if kind == "set_covering":
        return [(True, "covers all demand within objective.coverage_km (or coverage_minutes)",
                 "a longer coverage distance"), (limits, "meets the service levels", "relax the service levels")]
    return [(must_serve, "serves all the demand it can reach", None),  # p_median, p_center: by definition
            (limits, "meets the service levels", "relax the service levels")]
