"""A primal heuristic: from a set of open options, the cheapest flows (an LP), then whole modules,
then local search (drop an option; add one; swap one for another) while that lowers the cost. The result is a complete,
feasible :class:`Solution` (checked against every coupling constraint) or None; it is handed to
HiGHS as a starting incumbent and gives the upper bound for Lagrangian fixing.

Here too is what the module search (``planner.solver.module_search``) shares with these heuristics:
the flow LP as a standard form (:func:`flow_form`) and a problem restricted to some of its options,
with its solutions going down to it and back up (:class:`Restriction`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse

from planner.errors import InfeasibleError, SolverError
from planner.model.arrays import (
    StandardForm,
    build_standard_form,
    row_numbers,
    service_need,
    solution_from_vector,
    start_vector,
)
from planner.model.index import ModelIndex
from planner.model.solution import SHARE_ZERO, Solution, setup_paid
from planner.problem import CAPEX_ROUNDING, Problem, capex_excess, restrict_options
from planner.solver.highs import flow_lp_highs, new_highs, optimal_lp_solution, pass_model, run_highs, solve_lp
from planner.solver.lagrangian import _Relaxation
from planner.solver.outcome import SolverOptions

logger = logging.getLogger(__name__)

PERSISTENT_LP_MAX_ARCS = 200_000  # above this a fresh LP over the open options' arcs is cheaper
SERVICE_MARGIN = 1e-9  # relative: the flow LPs meet each service level this far above its need
REPAIR_PRICE_STEPS = 8  # the service repair's first shortfall price is the top one / 2^this


def solution_cost(problem: Problem, index: ModelIndex, solution: Solution) -> float:
    """Objective of a solution (currency/yr)."""
    fixed = float((problem.opening_cost * solution.open + problem.module_cost * solution.modules).sum())
    flows = float((problem.arc_unit_cost * index.arc_demand * solution.assign).sum())
    penalty = np.where(np.isfinite(index.pair_penalty), index.pair_penalty, 0.0)
    return fixed + flows + float((penalty * index.pair_demand * solution.unmet).sum())


def network_cost(problem: Problem, index: ModelIndex, solution: Solution) -> float:
    """:func:`solution_cost` with the set-ups paid and, with suppliers, the inbound supply (purchase,
    transport, carbon and the paid relationships): the model's whole objective (currency/yr)."""
    cost = solution_cost(problem, index, solution) + float((setup_paid(problem, solution) * problem.setup_cost).sum())
    supply = problem.supply
    if supply is None or solution.inbound is None:
        return cost
    paid = solution.relation if solution.relation is not None else (solution.inbound > 0)
    inbound = float(supply.in_unit_cost(problem.carbon_price) @ solution.inbound)
    return cost + inbound + float(supply.in_fixed_cost @ paid)


def satisfies_coupling(problem: Problem, index: ModelIndex, solution: Solution) -> bool:
    """One type per site, type and total counts, budget, forced sites, single sourcing, CO2 cap, service
    levels."""
    is_open = solution.open > 0
    if np.bincount(problem.option_site[is_open], minlength=len(problem.site_ids)).max(initial=0) > 1:
        return False
    if not within_counts(problem, is_open):
        return False
    if (problem.forced & ~is_open).any():
        return False
    if not within_budget(problem, is_open, solution.modules):
        return False
    if problem.single_sourcing and ((solution.assign > SHARE_ZERO) & (solution.assign < 1 - 1e-9)).any():
        return False
    emitted = float((problem.arc_co2_t * index.arc_demand * solution.assign).sum())
    if np.isfinite(problem.co2_cap_t) and emitted > problem.co2_cap_t * (1 + 1e-9) + 1e-9:
        return False
    return meets_service_levels(problem, index, solution)


def within_upper_counts(problem: Problem, is_open: np.ndarray) -> bool:
    """The open options (a mask) keep within ``max_facilities`` and every type's ``max_count``."""
    per_type = np.bincount(problem.option_type[is_open], minlength=len(problem.type_ids))
    if (per_type > problem.type_max_count).any():
        return False
    return problem.max_facilities is None or int(is_open.sum()) <= problem.max_facilities


def within_counts(problem: Problem, is_open: np.ndarray) -> bool:
    """The open options (a mask) keep within every facility-count limit, lower and upper."""
    per_type = np.bincount(problem.option_type[is_open], minlength=len(problem.type_ids))
    if (per_type < problem.type_min_count).any() or int(is_open.sum()) < problem.min_facilities:
        return False
    return within_upper_counts(problem, is_open)


def filled_to_lower_counts(problem: Problem, opened: np.ndarray, option_value: np.ndarray) -> np.ndarray:
    """``opened`` with options on free sites added, lowest ``option_value`` first, until each type's
    ``min_count`` and then ``min_facilities`` hold (within the upper limits; as far as the sites
    allow)."""
    if not problem.has_lower_counts:
        return opened
    opened = opened.copy()
    occupied = np.zeros(len(problem.site_ids), dtype=bool)
    occupied[problem.option_site[opened]] = True
    per_type = np.bincount(problem.option_type[opened], minlength=len(problem.type_ids))
    order = np.argsort(option_value, kind="stable").tolist()
    for fill_type_minimum in (True, False):
        for option in order:
            kind, site = problem.option_type[option], problem.option_site[option]
            short = per_type[kind] < problem.type_min_count[kind] if fill_type_minimum else (
                int(opened.sum()) < problem.min_facilities)
            if not short or opened[option] or occupied[site]:
                continue
            opened[option] = True
            if not within_upper_counts(problem, opened):
                opened[option] = False
                continue
            occupied[site], per_type[kind] = True, per_type[kind] + 1
    return opened


def kept_for_lower_counts(problem: Problem, used: np.ndarray, opened: np.ndarray) -> np.ndarray:
    """``used`` (the options with load) with options of ``opened`` that carry none kept open, the
    cheapest to keep first, until the lower count limits hold (as far as ``opened`` allows): flows
    may leave an option idle that the limits need open."""
    if not problem.has_lower_counts:
        return used
    idle = np.flatnonzero(opened & ~used)
    idle = idle[np.argsort(problem.opening_cost[idle] + problem.module_cost[idle] * problem.min_modules[idle],
                           kind="stable")]
    keep = used.copy()
    per_type = np.bincount(problem.option_type[keep], minlength=len(problem.type_ids))
    for option in idle.tolist():
        kind = problem.option_type[option]
        if per_type[kind] < problem.type_min_count[kind]:
            keep[option], per_type[kind] = True, per_type[kind] + 1
    for option in idle.tolist():
        if int(keep.sum()) >= problem.min_facilities:
            break
        keep[option] = True
    return keep


def capex_spend(problem: Problem, is_open: np.ndarray, modules: np.ndarray) -> float:
    """Σ (capex_o + capex_per_module_o × m_o) over the open options (a mask), currency."""
    return float((np.where(is_open, problem.capex + problem.capex_per_module * modules, 0.0)).sum())


def within_budget(problem: Problem, is_open: np.ndarray, modules: np.ndarray) -> bool:
    """The open options with their module counts keep within ``capex_budget`` (to float rounding:
    :func:`planner.problem.capex_excess`)."""
    return capex_excess(capex_spend(problem, is_open, modules), problem.capex_budget) == 0.0


def affordable_modules(problem: Problem, is_open: np.ndarray, modules: np.ndarray) -> np.ndarray | None:
    """``modules`` with modules taken away, dearest ``capex_per_module`` first, until the open set's capex
    fits the budget; None where it does not at the fewest modules (the flows then fill what is left)."""
    if within_budget(problem, is_open, modules):
        return modules
    modules = modules.copy()
    excess = capex_spend(problem, is_open, modules) - problem.capex_budget
    spare = np.flatnonzero(is_open & (problem.capex_per_module > 0) & (modules > problem.min_modules))
    for option in spare[np.argsort(-problem.capex_per_module[spare], kind="stable")].tolist():
        fewer = min(int(modules[option] - problem.min_modules[option]),
                    int(np.ceil(excess / problem.capex_per_module[option] - 1e-12)))
        modules[option] -= fewer
        excess -= fewer * problem.capex_per_module[option]
        if excess <= CAPEX_ROUNDING * problem.capex_budget:
            return modules
    return None


def trimmed_to_budget(problem: Problem, opened: np.ndarray, option_value: np.ndarray) -> np.ndarray:
    """``opened`` with free options closed, highest ``option_value`` first, until the capex of the rest
    at their fewest modules fits the budget."""
    spend = np.where(opened, problem.capex + problem.capex_per_module * problem.min_modules, 0.0)
    excess = float(spend.sum()) - problem.capex_budget * (1 + CAPEX_ROUNDING)
    if not np.isfinite(problem.capex_budget) or excess <= 0:
        return opened
    free = np.flatnonzero(opened & ~problem.forced)
    order = free[np.argsort(-option_value[free], kind="stable")]
    closing = int(np.searchsorted(np.cumsum(spend[order]), excess)) + 1  # the fewest to close, in that order
    opened = opened.copy()
    opened[order[:closing]] = False
    return opened


def flows_within_budget(
    problem: Problem, index: ModelIndex, solution: Solution | None, deadline: float | None = None
) -> Solution | None:
    """``solution`` where its capex fits the budget; else its open set with modules taken away
    (:func:`affordable_modules`) and the flows again within those capacities (by ``deadline``, as in
    :func:`flows_for_open_set`); None where that fails."""
    if solution is None or within_budget(problem, solution.open > 0, solution.modules):
        return solution
    is_open = solution.open > 0
    modules = affordable_modules(problem, is_open, solution.modules)
    if modules is None:
        return None
    return flows_for_open_set(problem, index, is_open, capacity=problem.module_capacity * modules, deadline=deadline)


def meets_service_levels(problem: Problem, index: ModelIndex, solution: Solution) -> bool:
    """Every service level (``define_service_level``) holds, to a relative 1e-9 of its need."""
    serviced = problem.serviced_products
    if not len(serviced):
        return True
    counted = problem.arc_within_service
    within = np.bincount(problem.arc_product[counted], weights=(index.arc_base_demand * solution.assign)[counted],
                         minlength=problem.n_products)
    need = service_need(problem, index)
    return bool((within[serviced] >= need[serviced] * (1 - 1e-9)).all())


def flow_form(
    problem: Problem,
    index: ModelIndex,
    arc_cost: np.ndarray,
    arc_upper: np.ndarray,
    capacity_upper: np.ndarray,
    arcs: np.ndarray | None = None,
    capacitated: np.ndarray | None = None,
) -> StandardForm:
    """The flow LP as a standard form: columns are the ``arcs`` (default: all; cost ``arc_cost``,
    share in [0, ``arc_upper``]) and then the pairs that may go unmet (their penalty × demand); rows
    are one balance row per pair (= 1), then one capacity row per option of ``capacitated``
    (default: every option with a finite module capacity; load ≤ ``capacity_upper``), then one
    service-level row per product with one (:func:`service_rows`), then the CO2 cap's row where the
    model has one (:func:`co2_row`), in that order."""
    arcs = np.arange(problem.n_arcs) if arcs is None else arcs
    if capacitated is None:
        capacitated = np.flatnonzero(np.isfinite(problem.module_capacity))
    quantity = index.arc_demand[arcs]
    unmet_pairs = index.unmet_pairs
    n_arcs, n_unmet = len(arcs), len(unmet_pairs)
    row_of = np.full(problem.n_options, -1)
    row_of[capacitated] = index.n_pairs + np.arange(len(capacitated))
    option = problem.arc_option[arcs]
    in_capacity = row_of[option] >= 0
    first_service_row = index.n_pairs + len(capacitated)
    service_row, service_col, service_lower = service_rows(problem, index, arcs, first_service_row)
    co2_col, co2_coef, co2_upper = co2_row(problem, index, arcs)
    co2_at = first_service_row + len(service_lower)
    rows = np.concatenate([index.arc_pair[arcs], unmet_pairs, row_of[option[in_capacity]], service_row,
                           np.full(len(co2_col), co2_at)])
    cols = np.concatenate([np.arange(n_arcs), n_arcs + np.arange(n_unmet), np.flatnonzero(in_capacity), service_col,
                           co2_col])
    vals = np.concatenate([np.ones(n_arcs + n_unmet), quantity[in_capacity], index.arc_base_demand[arcs][service_col],
                           co2_coef])
    n_rows = co2_at + len(co2_upper)
    return StandardForm(
        matrix=sparse.csr_array((vals, (rows, cols)), shape=(n_rows, n_arcs + n_unmet)),
        row_lower=np.concatenate([np.ones(index.n_pairs), np.full(len(capacitated), -np.inf), service_lower,
                                  np.full(len(co2_upper), -np.inf)]),
        row_upper=np.concatenate([np.ones(index.n_pairs), capacity_upper, np.full(len(service_lower), np.inf),
                                  co2_upper]),
        col_lower=np.zeros(n_arcs + n_unmet),
        col_upper=np.concatenate([arc_upper, np.ones(n_unmet)]),
        integer=np.zeros(n_arcs + n_unmet, dtype=bool),
        cost=np.concatenate([arc_cost, index.pair_penalty[unmet_pairs] * index.pair_demand[unmet_pairs]]),
        offset=0.0,
        blocks={},
        row_families=(),
    )


def service_rows(
    problem: Problem, index: ModelIndex, arcs: np.ndarray, first_row: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The service levels of the flow LP over the columns ``arcs``: (row, column) of each entry
    (its coefficient is the arc's :math:`q_{d(a)}`) and each row's lower bound,
    :math:`\sum_{a \in W_p} q_{d(a)} x_a \ge n_p (1 + \epsilon)`, with a margin
    ``SERVICE_MARGIN`` = :math:`\epsilon` (capped at what those arcs can reach) so that the LP's
    solution, its tiny shares cleared (``clean_shares``), still meets the level at HiGHS's
    tolerances as a MIP start. Rows start at ``first_row``; none without service levels."""
    serviced = problem.serviced_products
    if not len(serviced):
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0)
    row_of = row_numbers(serviced, problem.n_products)
    product = problem.arc_product[arcs]
    counted = np.flatnonzero(problem.arc_within_service[arcs] & (row_of[product] >= 0))
    pairs = np.unique(index.arc_pair[arcs[counted]])
    reachable = np.bincount(index.pair_product[pairs], weights=index.pair_demand[pairs], minlength=problem.n_products)
    need = service_need(problem, index)
    lower = np.maximum(np.minimum(need * (1 + SERVICE_MARGIN), reachable), need)[serviced]
    return first_row + row_of[product[counted]], counted, lower


def co2_row(problem: Problem, index: ModelIndex, arcs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The CO2 cap of the flow LP over the columns ``arcs``: the columns that emit, their
    :math:`e_a q_{d(a)}` (t CO2/yr at a full share) and the row's upper bound, the cap less a relative
    ``SERVICE_MARGIN`` (so that the LP's flows meet it at HiGHS's tolerances as a MIP start); all
    empty without a cap."""
    if not np.isfinite(problem.co2_cap_t):
        return np.zeros(0, dtype=int), np.zeros(0), np.zeros(0)
    emitted = problem.arc_co2_t[arcs] * index.arc_demand[arcs]
    emitting = np.flatnonzero(emitted != 0)
    return emitting, emitted[emitting], np.array([problem.co2_cap_t * (1 - SERVICE_MARGIN)])


def sized_arc_cost(problem: Problem, index: ModelIndex) -> np.ndarray:
    """(A,) cost of serving each arc's pair in full with modules priced per unit of capacity:
    (unit cost + module cost / module capacity) × demand, currency/yr."""
    capacity = problem.module_capacity[problem.arc_option]
    per_unit_module = np.where(np.isfinite(capacity), problem.module_cost[problem.arc_option] / capacity, 0.0)
    return (problem.arc_unit_cost + per_unit_module) * index.arc_demand


class FlowLP:
    """The flow LP of every open set on one persistent HiGHS instance: all arcs are columns
    (:func:`sized_arc_cost`), closing an option sets its arcs' upper bounds and its capacity row to
    0, and each re-solve starts from the last basis (a few dual simplex steps instead of a fresh LP
    per local-search move). ``arc_cost`` replaces the sized costs (e.g. the plain flow costs where
    module counts are fixed)."""

    def __init__(self, problem: Problem, index: ModelIndex, arc_cost: np.ndarray | None = None) -> None:
        self.problem, self.index = problem, index
        self.capacitated = np.flatnonzero(np.isfinite(problem.module_capacity))
        self.capacity_max = problem.option_capacity_max[self.capacitated]
        arc_cost = sized_arc_cost(problem, index) if arc_cost is None else arc_cost
        form = flow_form(problem, index, arc_cost, np.ones(problem.n_arcs), self.capacity_max)
        self.highs = flow_lp_highs(form)  # threads: whatever the process already uses
        self.opened = np.ones(problem.n_options, dtype=bool)

    def solve(self, opened: np.ndarray, deadline: float | None = None) -> Solution | None:
        """Cheapest flows given the open options at their largest capacity, then whole modules; None
        where the LP is infeasible or not solved by ``deadline`` (as in :func:`flows_for_open_set`)."""
        problem, index = self.problem, self.index
        changed = np.flatnonzero(opened != self.opened)
        if len(changed):
            arcs = np.flatnonzero(np.isin(problem.arc_option, changed))
            upper = opened[problem.arc_option[arcs]].astype(float)
            self.highs.changeColsBounds(len(arcs), arcs.astype(np.int32), np.zeros(len(arcs)), upper)
            rows = np.flatnonzero(np.isin(self.capacitated, changed))
            row_upper = np.where(opened[self.capacitated[rows]], self.capacity_max[rows], 0.0)
            self.highs.changeRowsBounds(
                len(rows), (index.n_pairs + rows).astype(np.int32), np.full(len(rows), -highspy.kHighsInf), row_upper
            )
            self.opened = opened.copy()
        solution = optimal_lp_solution(self.highs, resolve=True, deadline=deadline)
        if solution is None:
            return None
        x = np.asarray(solution.col_value, dtype=float)
        return _whole_modules(problem, index, x[: problem.n_arcs], x[problem.n_arcs :], opened)


def clean_shares(index: ModelIndex, shares: np.ndarray, unmet_shares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(assign per arc, unmet per pair) from an LP's arc shares and its unmet columns (the pairs
    that may go unmet): clipped to [0, 1], shares below ``SHARE_ZERO`` set to 0."""
    assign = np.clip(shares, 0.0, 1.0)
    assign[assign < SHARE_ZERO] = 0.0
    unmet = np.zeros(index.n_pairs)
    unmet[index.unmet_pairs] = np.clip(unmet_shares, 0.0, 1.0)
    return assign, unmet


def _whole_modules(
    problem: Problem, index: ModelIndex, shares: np.ndarray, unmet_shares: np.ndarray, opened: np.ndarray
) -> Solution:
    """A solution from arc and unmet shares: options with load open (and idle ones of ``opened`` the
    lower count limits need: :func:`kept_for_lower_counts`), whole modules for the load."""
    assign, unmet = clean_shares(index, shares, unmet_shares)
    option_load = option_loads(problem, index, assign)
    used = kept_for_lower_counts(problem, (option_load > 0) | problem.forced, opened)
    modules = np.minimum(modules_for_loads(problem, option_load), problem.max_modules) * used
    return Solution(open=used.astype(int), modules=modules, assign=assign, unmet=unmet)


def option_loads(problem: Problem, index: ModelIndex, assign: np.ndarray) -> np.ndarray:
    """(O,) units/yr each option delivers at the arc shares ``assign`` (the capacity rows' left-hand side)."""
    return np.bincount(problem.arc_option, weights=assign * index.arc_demand, minlength=problem.n_options)


def modules_for_loads(problem: Problem, load: np.ndarray) -> np.ndarray:
    """(O,) int: the fewest modules that carry each option's ``load`` (units/yr), at least ``min_modules``
    (``min_modules`` where uncapacitated); not capped at ``max_modules``."""
    capacity = problem.module_capacity
    with np.errstate(invalid="ignore", divide="ignore"):
        needed = np.where(np.isfinite(capacity) & (capacity > 0), np.ceil(load / capacity - 1e-9), 0.0)
    return np.maximum(needed, problem.min_modules).astype(int)


def flows_for_open_set(
    problem: Problem,
    index: ModelIndex,
    opened: np.ndarray,
    capacity: np.ndarray | None = None,
    deadline: float | None = None,
    arc_cost: np.ndarray | None = None,
) -> Solution | None:
    """Cheapest flows given the open options at their largest capacity (or ``capacity``, per option),
    then whole modules (one fresh :func:`flow_form` LP over the open options' arcs; :class:`FlowLP`
    re-solves many open sets faster). None where the LP is not solved by ``deadline`` (a
    ``time.perf_counter()`` time; None: no limit). ``arc_cost`` (per arc, currency/yr) replaces
    :func:`sized_arc_cost`, e.g. the plain flow costs where ``capacity`` holds given module counts."""
    arcs = np.flatnonzero(opened[problem.arc_option])
    capacitated = np.flatnonzero(opened & np.isfinite(problem.module_capacity))
    capacity = problem.option_capacity_max if capacity is None else capacity
    arc_cost = sized_arc_cost(problem, index) if arc_cost is None else arc_cost
    form = flow_form(
        problem, index, arc_cost[arcs], np.ones(len(arcs)),
        capacity[capacitated], arcs=arcs, capacitated=capacitated,
    )
    x = solve_lp(form, deadline)
    if x is None:
        return None
    shares = np.zeros(problem.n_arcs)
    shares[arcs] = x[: len(arcs)]
    return _whole_modules(problem, index, shares, x[len(arcs) :], opened)


def drop_moves(problem: Problem, index: ModelIndex, best: Solution, option_value: np.ndarray):
    """Close one open option, least loaded first."""
    load = np.bincount(
        problem.arc_option, weights=best.assign * index.arc_demand, minlength=problem.n_options
    )
    candidates = np.flatnonzero((best.open > 0) & ~problem.forced)
    for option in candidates[np.argsort(load[candidates])].tolist():
        yield [option], []


def add_moves(problem: Problem, index: ModelIndex, best: Solution, option_value: np.ndarray, width: int = 20):
    """Open one of the ``width`` closed options with the lowest Lagrangian value v_o (greedy add)."""
    closed = np.flatnonzero(best.open == 0)
    for into in closed[np.argsort(option_value[closed], kind="stable")][:width].tolist():
        yield [], [into]


def swap_moves(problem: Problem, index: ModelIndex, best: Solution, option_value: np.ndarray, width: int = 10):
    """Close an open option (highest Lagrangian value v_o first) and open one of the ``width``
    closed options with the lowest v_o."""
    opened = np.flatnonzero((best.open > 0) & ~problem.forced)
    closed = np.flatnonzero(best.open == 0)
    closed = closed[np.argsort(option_value[closed])][:width]
    for out in opened[np.argsort(-option_value[opened])].tolist():
        for into in closed.tolist():
            yield [out], [into]


def local_search(
    problem: Problem,
    index: ModelIndex,
    solution: Solution,
    option_value: np.ndarray,
    moves,
    time_limit_s: float,
    flow_lp: FlowLP | None = None,
) -> Solution:
    """First-improvement local search over open sets: each move re-solves the flows by LP
    (on ``flow_lp`` when given, else a fresh LP per move)."""
    started = time.perf_counter()
    best, best_cost = solution, solution_cost(problem, index, solution)
    improved = True
    while improved and time.perf_counter() - started < time_limit_s:
        improved = False
        for close, open_ in moves(problem, index, best, option_value):
            if time.perf_counter() - started > time_limit_s:
                return best
            trial_open = best.open > 0
            trial_open[close] = False
            trial_open[open_] = True
            trial = (
                flow_lp.solve(trial_open) if flow_lp is not None else flows_for_open_set(problem, index, trial_open)
            )
            if trial is None or not satisfies_coupling(problem, index, trial):
                continue
            cost = solution_cost(problem, index, trial)
            if cost < best_cost - 1e-9 * max(abs(best_cost), 1.0):
                best, best_cost, improved = trial, cost, True
                break
    return best


def incumbent_from_values(
    problem: Problem,
    index: ModelIndex,
    option_value: np.ndarray,
    time_limit_s: float = 10.0,
    opened: np.ndarray | None = None,
    flow_lp: FlowLP | None = None,
    deadline: float | None = None,
    capacity_target: float | None = None,
) -> Solution | None:
    """Open the options a Lagrangian solution opens (``opened``, default v_o < 0 and forced), adding
    the next best by v_o until capacity covers the demand that must be served (or
    ``capacity_target`` units/yr, e.g. :func:`worth_serving`), one type per site, and
    until the lower count limits hold; options closed and modules taken away until the capex fits the
    budget;
    flows by LP (more options opened where they miss a service level: :func:`feasible_flows`); then the
    drop, add and swap passes (their flows on ``flow_lp`` where given). The first flows are found
    whatever ``time_limit_s`` (0: no passes), but by ``deadline`` (a ``time.perf_counter()`` time, as
    in :func:`flows_for_open_set`; None where they are not): on 50,000 regions each of those LPs takes
    about 7 s."""
    started = time.perf_counter()
    opened = (problem.forced | (option_value < 0)) if opened is None else opened.copy()
    must_serve = float(index.pair_must_serve.sum()) if capacity_target is None else capacity_target
    order = np.argsort(option_value)
    capacity = problem.option_capacity_max
    for option in order:
        if capacity[opened].sum() >= must_serve * (1 + 1e-9):
            break
        if not opened[option]:
            opened[option] = True
            opened[option] = within_upper_counts(problem, opened)  # not past a facility-count limit
    # one type per site: keep the option with the lowest value at each site
    ranked = np.flatnonzero(opened)[np.argsort(option_value[opened])]
    _, first = np.unique(problem.option_site[ranked], return_index=True)
    keep = np.zeros_like(opened)
    keep[ranked[first]] = True
    keep = trimmed_to_budget(problem, filled_to_lower_counts(problem, keep, option_value), option_value)
    solution = flows_within_budget(problem, index, feasible_flows(problem, index, keep, deadline), deadline)
    if solution is None or not satisfies_coupling(problem, index, solution):
        return None
    if flow_lp is None and problem.n_arcs < PERSISTENT_LP_MAX_ARCS:
        flow_lp = FlowLP(problem, index)
    remaining = time_limit_s - (time.perf_counter() - started)  # the repair's time included
    solution = local_search(problem, index, solution, option_value, drop_moves, remaining / 3, flow_lp)
    remaining = time_limit_s - (time.perf_counter() - started)
    solution = local_search(problem, index, solution, option_value, add_moves, remaining / 2, flow_lp)
    remaining = time_limit_s - (time.perf_counter() - started)
    return local_search(problem, index, solution, option_value, swap_moves, remaining, flow_lp)


def worth_serving(problem: Problem, index: ModelIndex) -> float:
    """Units/yr of demand that must be served or whose unmet penalty exceeds the cost per unit of
    its cheapest arc (production, delivery and carbon; :attr:`Problem.arc_unit_cost`): the capacity a
    network that serves what pays to serve at least needs."""
    cheapest = np.full(index.n_pairs, np.inf)
    np.minimum.at(cheapest, index.arc_pair, problem.arc_unit_cost)
    pays = np.isfinite(index.pair_penalty) & (index.pair_penalty > cheapest)
    return float(index.pair_must_serve.sum() + index.pair_demand[pays].sum())


def feasible_flows(
    problem: Problem, index: ModelIndex, keep: np.ndarray, deadline: float | None = None
) -> Solution | None:
    """:func:`flows_for_open_set` of ``keep`` (by ``deadline``, as there), or, where they cannot meet
    a service level, of ``keep`` with options opened by :func:`service_repair` until they can (None
    if that fails too)."""
    solution = flows_for_open_set(problem, index, keep, deadline=deadline)
    if solution is None and deadline is not None and time.perf_counter() >= deadline:
        return None
    if solution is not None or not len(problem.serviced_products):
        return solution
    repaired = service_repair(problem, index, keep)
    return None if repaired is None else flows_for_open_set(problem, index, repaired, deadline=deadline)


def service_repair(problem: Problem, index: ModelIndex, keep: np.ndarray) -> np.ndarray | None:
    r"""An open set grown from ``keep`` until its flows can meet every service level, or None.

    Each step solves the flow LP with the service levels soft (:func:`soft_service_duals`: a unit
    short costs a price :math:`\sigma`) and opens the option with the lowest Lagrangian value
    :math:`v_j(\lambda, \sigma)` at that LP's duals (``planner.solver.lagrangian``): the option
    that closes most of the shortfall per cost at that price. The price starts at
    ``shortfall_price`` / 2^``REPAIR_PRICE_STEPS`` and doubles whenever no option pays at it, so that
    cheap ways to meet the level come first. An option on an occupied site replaces the one there
    (unless that one is forced). Each option is opened at most once."""
    pricing = _Relaxation(problem, index)
    top_price = shortfall_price(problem)
    price = top_price / 2**REPAIR_PRICE_STEPS
    keep, tried = keep.copy(), keep.copy()
    occupied_by_forced = np.zeros(len(problem.site_ids), dtype=bool)
    occupied_by_forced[problem.option_site[problem.forced]] = True
    while True:
        duals = soft_service_duals(problem, index, keep, price)
        if duals is None:
            return None
        if duals[0] <= SERVICE_MARGIN * float(pricing.side.need.sum()):
            return keep
        values, _ = pricing.option_values(pricing.multipliers_of(duals[1], duals[2]))
        values[tried | occupied_by_forced[problem.option_site]] = np.inf
        pick = int(np.argmin(values))
        if values[pick] >= 0 and price < top_price:
            price *= 2
            continue
        if not np.isfinite(values[pick]):
            return None
        keep[problem.option_site == problem.option_site[pick]] = False
        keep[pick] = tried[pick] = True


def shortfall_price(problem: Problem) -> float:
    """Currency per unit short of a service level in :func:`service_repair`'s LP: ten times the
    dearest all-in unit (the dearest arc's unit cost, the dearest option's fixed cost per unit of
    capacity at one module, the highest finite unmet penalty), so that the LP meets the level
    wherever it can whatever that costs."""
    with np.errstate(divide="ignore", invalid="ignore"):
        fixed = (problem.opening_cost + problem.module_cost * problem.min_modules) / (
            problem.module_capacity * np.maximum(problem.min_modules, 1)
        )
    penalty = problem.unmet_penalty[np.isfinite(problem.unmet_penalty)]
    parts = [problem.arc_unit_cost.max(initial=0.0), fixed[np.isfinite(fixed)].max(initial=0.0),
             penalty.max(initial=0.0)]
    return 10.0 * max(sum(parts), 1.0)


def soft_service_duals(
    problem: Problem, index: ModelIndex, keep: np.ndarray, price: float
) -> tuple[float, np.ndarray, np.ndarray] | None:
    """The flow LP of :func:`flows_for_open_set` with a slack column on each service level at
    ``price`` per unit: (units/yr short in all, balance duals λ, service duals σ ≥ 0), or None
    when the LP has no optimum (demand that must be served out of reach)."""
    arcs = np.flatnonzero(keep[problem.arc_option])
    capacitated = np.flatnonzero(keep & np.isfinite(problem.module_capacity))
    form = flow_form(
        problem, index, sized_arc_cost(problem, index)[arcs], np.ones(len(arcs)),
        problem.option_capacity_max[capacitated], arcs=arcs, capacitated=capacitated,
    )
    n_service = len(problem.serviced_products)
    n_rows, n_cols = form.matrix.shape
    first_service_row = index.n_pairs + len(capacitated)
    service_at = first_service_row + np.arange(n_service)
    slack = sparse.csr_array((np.ones(n_service), (service_at, np.arange(n_service))), shape=(n_rows, n_service))
    soft = dataclasses.replace(
        form, matrix=sparse.hstack([form.matrix, slack], format="csr"),
        col_lower=np.concatenate([form.col_lower, np.zeros(n_service)]),
        col_upper=np.concatenate([form.col_upper, np.full(n_service, np.inf)]),
        integer=np.zeros(n_cols + n_service, dtype=bool), cost=np.concatenate([form.cost, np.full(n_service, price)]),
    )
    highs = new_highs(SolverOptions(quiet=True))
    pass_model(highs, soft)
    solution = optimal_lp_solution(highs)
    if solution is None:
        return None
    short = float(np.sum(np.asarray(solution.col_value)[n_cols:]))
    row_dual = np.asarray(solution.row_dual, dtype=float)
    return short, row_dual[: index.n_pairs], np.maximum(row_dual[service_at], 0.0)


@dataclass(frozen=True)
class Restriction:
    """A problem restricted to some of its options (``planner.problem.restrict_options``): the
    positions of the kept options and arcs, the restricted problem and its index, and the way a
    solution goes down to it (:meth:`restrict`) and back up (:meth:`lift`)."""

    options: np.ndarray  # positions of the kept options in the whole problem, sorted
    arcs: np.ndarray  # positions of their arcs
    problem: Problem  # the restricted problem
    index: ModelIndex

    @classmethod
    def of(cls, problem: Problem, keep: np.ndarray) -> Restriction:
        """``problem`` restricted to the options of the mask ``keep``."""
        options = np.flatnonzero(keep)
        restricted, arcs = restrict_options(problem, options)
        return cls(options, arcs, restricted, ModelIndex.from_problem(restricted))

    def restrict(self, solution: Solution) -> Solution:
        """A solution of the whole problem that uses only the kept options, on the restricted one."""
        return Solution(
            open=solution.open[self.options],
            modules=solution.modules[self.options],
            assign=solution.assign[self.arcs],
            unmet=solution.unmet,
            setup=None if solution.setup is None else solution.setup[self.options],
        )

    def lift(self, problem: Problem, solution: Solution) -> Solution:
        """A solution of the restricted problem as one of the whole ``problem``: the other options
        stay closed and their arcs unused, so it is feasible there too."""
        return lift_solution(problem, self.options, self.arcs, solution)


def lift_solution(problem: Problem, options: np.ndarray, arcs: np.ndarray, solution: Solution) -> Solution:
    """See :meth:`Restriction.lift` (``options`` and ``arcs`` as there)."""
    is_open = np.zeros(problem.n_options, dtype=int)
    is_open[options] = solution.open
    modules = np.zeros(problem.n_options, dtype=int)
    modules[options] = solution.modules
    assign = np.zeros(problem.n_arcs)
    assign[arcs] = solution.assign
    setup = None
    if solution.setup is not None:
        setup = np.zeros((problem.n_options, problem.n_products), dtype=int)
        setup[options] = solution.setup
    return Solution(open=is_open, modules=modules, assign=assign, unmet=solution.unmet, setup=setup)


def restricted_mip(
    problem: Problem,
    index: ModelIndex,
    candidates: np.ndarray,
    time_limit_s: float,
    start: Solution | None = None,
    threads: int | None = None,
) -> Solution | None:
    """The MIP over the ``candidates`` options only (forced options always included), solved by
    HiGHS within ``time_limit_s`` from ``start``; its solution, which is feasible for the whole
    problem (the other options stay closed), or None. A primal heuristic: it proves nothing."""
    keep = candidates | problem.forced
    if start is not None:
        keep = keep | (start.open > 0)
    restriction = Restriction.of(problem, keep)
    try:
        form = build_standard_form(restriction.problem, restriction.index)
    except InfeasibleError:  # e.g. a service level the candidates cannot reach
        return None
    x0 = None
    if start is not None:
        x0 = start_vector(form, restriction.problem, restriction.index, restriction.restrict(start))
    options = SolverOptions(time_limit_s=max(time_limit_s, 0.5), mip_gap=1e-4, threads=threads, progress_s=None)
    try:
        _, values = run_highs(form, options, start=x0)
    except (SolverError, InfeasibleError):
        return None
    found = solution_from_vector(form, restriction.problem, restriction.index, values)
    solution = restriction.lift(problem, found)
    logger.info(
        "restricted MIP over %d of %d options: cost %.10g", len(restriction.options), problem.n_options,
        solution_cost(problem, index, solution),
    )
    return solution
