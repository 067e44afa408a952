r"""A bound and a first network for large single-source capacitated problems, before HiGHS.

With single sourcing each pair :math:`d` is served whole by one option: :math:`x_{od} \in \{0, 1\}`.
On 100 × 1,000 instances HiGHS does not finish the root LP of that model (100,000 binaries) within
30 s, so without help a run stops with a bound of 0 and the first network HiGHS finds. Two cheap
steps give it more:

**Bound.** Allowing every pair to be split is a relaxation (the same objective over a larger set), so
the Lagrangian bound of the multi-source problem (``planner.solver.lagrangian.lagrangian_bound``, the
demand rows relaxed, a continuous knapsack per option) is a valid lower bound here; the report keeps
the larger of it and HiGHS's.

**First network.** The options the multi-source heuristic opens (``planner.solver.heuristic``), then
each pair on one of them by regret (Martello & Toth's rule for the generalised assignment problem:
the pair whose second-cheapest open option with room costs most more than its cheapest goes first, to
its cheapest with room), then single moves of a pair to a cheaper open option with room until none
pays; an option left serving nothing is closed. Where the regret pass cannot place a pair, the next
option by value is opened and the pass runs again. The network is HiGHS's first incumbent.

**When** (:func:`applies`): single sourcing on a model that is, split, of the capacitated
branch-and-bound's shape (``planner.solver.capacitated_bb.applies``: fixed module counts, one option
per site, every pair must be served) with at least ``MIN_ARCS`` arcs (below, HiGHS alone is quick).
"""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np

from planner.interrupt import raise_if_stopped
from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.problem import Problem
from planner.solver.capacitated_bb import DenseCapacitated
from planner.solver.capacitated_bb import applies as capacitated_shape
from planner.solver.heuristic import incumbent_from_values, satisfies_coupling, solution_cost
from planner.solver.lagrangian import lagrangian_bound
from planner.solver.outcome import HIGHS_START_S_PER_ARC, SolverOptions
from planner.solver.presolve import presolve_applies

logger = logging.getLogger(__name__)

MIN_ARCS = 20_000  # arcs: below this HiGHS's root LP is quick and the steps here do not pay
BOUND_SHARE = 0.1  # of the time limit for the Lagrangian bound (of 60 s without one)
BOUND_MAX_S = 10.0
SEARCH_SHARE, SEARCH_MAX_S = 0.05, 2.0  # of the time limit, at most, for the multi-source heuristic's local search
# where the limit is too short for HiGHS on the model (outcome.HIGHS_START_S_PER_ARC), the bound and the
# search have it all (a 3 s limit on 24,000 arcs ended after 0.44 s with a 6.4 % gap)
ALONE_BOUND_SHARE, ALONE_SEARCH_SHARE = 0.6, 0.3


@dataclasses.dataclass(frozen=True)
class SingleSourceStart:
    bound: float  # a lower bound on the single-source optimum (currency/yr)
    start: Solution | None  # a feasible single-source network, or None where none was found
    seconds: float


def applies(problem: Problem, options: SolverOptions) -> bool:
    """Single sourcing on a large model of the capacitated branch-and-bound's shape once split."""
    if not problem.single_sourcing or problem.n_arcs < MIN_ARCS or options.formulation != "auto":
        return False
    split = dataclasses.replace(problem, single_sourcing=False)
    return capacitated_shape(split, presolve_applies(split, options))


def single_source_start(problem: Problem, index: ModelIndex, options: SolverOptions) -> SingleSourceStart | None:
    """The bound and the first network of the module (None where the tables cannot be built)."""
    started = time.perf_counter()
    split = dataclasses.replace(problem, single_sourcing=False)
    costs = DenseCapacitated.of(split, index)
    if costs is None or np.isfinite(costs.unmet).any():
        return None
    limit = options.time_limit_s if options.time_limit_s is not None else 60.0
    bound_s, search_s = min(BOUND_SHARE * limit, BOUND_MAX_S), min(SEARCH_MAX_S, SEARCH_SHARE * limit)
    if (1 - BOUND_SHARE - SEARCH_SHARE) * limit < HIGHS_START_S_PER_ARC * problem.n_arcs:  # too little left for HiGHS:
        # the limit is all this start's
        bound_s, search_s = ALONE_BOUND_SHARE * limit, ALONE_SEARCH_SHARE * limit
    relaxed = lagrangian_bound(split, index, None, time_limit_s=bound_s)
    raise_if_stopped()
    split_network = incumbent_from_values(split, index, relaxed.option_value,
                                          time_limit_s=search_s, opened=relaxed.chosen)
    start = None
    if split_network is not None:
        start = assign_single(problem, index, costs, split_network.open > 0, relaxed.option_value)
    seconds = time.perf_counter() - started
    logger.info("single sourcing: bound %.10g (split pairs), first network %s (%.1fs)", relaxed.bound,
                "none" if start is None else f"{solution_cost(problem, index, start):.10g}", seconds)
    return SingleSourceStart(relaxed.bound, start, seconds)


def assign_single(problem: Problem, index: ModelIndex, costs: DenseCapacitated, is_open: np.ndarray,
                  values: np.ndarray) -> Solution | None:
    """Each pair on one open option (regret, then moves; see the module), opening the next option by
    ``values`` while the regret pass leaves a pair without room; None where nothing fits."""
    is_open = is_open.copy()
    order = np.argsort(values, kind="stable")
    while True:
        chosen = regret_assignment(costs, is_open)
        if chosen is not None:
            break
        closed = order[~is_open[order] & np.isfinite(costs.cost[order]).any(axis=1)]
        if not len(closed):
            return None
        is_open[closed[0]] = True
    chosen = improve_by_moves(costs, is_open, chosen)
    is_open = np.bincount(chosen, minlength=len(is_open)) > 0
    solution = network_solution(problem, index, is_open, chosen)
    return solution if satisfies_coupling(problem, index, solution) else None


def regret_assignment(costs: DenseCapacitated, is_open: np.ndarray) -> np.ndarray | None:
    """(D,) the option of each pair: by regret over the open options with room (see the module); None
    where a pair finds none."""
    room = np.where(is_open, costs.capacity, 0.0)
    table = np.where(is_open[:, None], costs.cost, np.inf)  # (O, D)
    chosen = np.full(costs.cost.shape[1], -1)
    left = np.arange(costs.cost.shape[1])
    while len(left):
        fits = costs.demand[left][None, :] <= room[:, None] * (1 + 1e-12)
        usable = np.where(fits, table[:, left], np.inf)
        two = np.partition(usable, 1, axis=0)[:2] if usable.shape[0] > 1 else np.vstack([usable, usable])
        if not np.isfinite(two[0]).all():
            return None
        regret = np.where(np.isfinite(two[1]), two[1] - two[0], np.inf)
        pick = int(np.argmax(regret))
        pair, option = int(left[pick]), int(np.argmin(usable[:, pick]))
        chosen[pair] = option
        room[option] -= costs.demand[pair]
        left = np.delete(left, pick)
    return chosen


def improve_by_moves(costs: DenseCapacitated, is_open: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Move single pairs to a cheaper open option with room until no move pays (at most ``len(chosen)``
    passes, each over every pair)."""
    chosen = chosen.copy()
    pairs = np.arange(len(chosen))
    load = np.bincount(chosen, weights=costs.demand, minlength=len(is_open))
    room = np.where(is_open, costs.capacity, 0.0) - load
    for _ in range(len(chosen)):
        moved = False
        current = costs.cost[chosen, pairs]
        for pair in np.argsort(-current, kind="stable").tolist():
            fits = is_open & (room >= costs.demand[pair] * (1 - 1e-12))
            options = np.flatnonzero(fits & (costs.cost[:, pair] < costs.cost[chosen[pair], pair] - 1e-12))
            if len(options):
                target = int(options[np.argmin(costs.cost[options, pair])])
                room[chosen[pair]] += costs.demand[pair]
                room[target] -= costs.demand[pair]
                chosen[pair] = target
                moved = True
        if not moved:
            break
    return chosen


def network_solution(problem: Problem, index: ModelIndex, is_open: np.ndarray, chosen: np.ndarray) -> Solution:
    """The Solution with the options ``is_open`` open (their fixed module counts) and pair d served
    whole on its cheapest arc from option ``chosen[d]``."""
    arc_cost = problem.arc_unit_cost * index.arc_demand
    best = np.full((problem.n_options, index.n_pairs), -1)
    order = np.argsort(-arc_cost, kind="stable")  # the cheapest arc of a cell is written last
    best[problem.arc_option[order], index.arc_pair[order]] = order
    assign = np.zeros(problem.n_arcs)
    assign[best[chosen, np.arange(index.n_pairs)]] = 1.0
    modules = (problem.min_modules * is_open).astype(int)
    return Solution(open=is_open.astype(int), modules=modules, assign=assign, unmet=np.zeros(index.n_pairs),
                    setup=np.zeros((problem.n_options, problem.n_products), dtype=int))

