r"""A local-search move for service levels: close one option and repair the network by coverage.

With a service level, the single-option moves of ``planner.solver.heuristic`` can be trapped: a
network with a second central plant may miss the level after any one drop, although a network
with that plant replaced by several small sites near the demand meets it and costs less. The
move here closes an open option o and then opens options greedily until the flows meet every
level again (:func:`cover_repair`), then drops what the new network no longer needs
(``drop_moves``). The greedy step opens the closed option j (not o, on a free site) with the most
demand it could newly cover per unit of its fixed cost,

.. math:: \frac{\min(\sum_{a \in j,\ a \in W_{p(a)},\ d(a)\ \text{uncovered}} q_a,\ \overline{C}_j)}
               {F_j + M_j \max(\underline m_j, \lceil \cdot / C_j \rceil)}

(a pair is covered when an open option has an arc to it within the product's service limit;
:math:`\overline C_j` the option's largest capacity, :math:`F_j` opening, :math:`M_j` module cost,
:math:`C_j` module capacity), the greedy rule of maximal covering. When every pair in reach is
covered but the flows still miss the level (capacity is short near the demand), the gain counts
all of the option's demand within the limit. The move is a primal heuristic: every network it
returns is checked against every coupling row (``satisfies_coupling``).

A start for that search (:func:`cost_first_cover`): the network the Lagrangian relaxation and its
heuristic find with every service level dropped (the cheapest network by cost alone), opened further
by :func:`cover_repair` until it meets the levels. Where the levels ask for a little more local
capacity than cost alone would build, this keeps the cost-optimal backbone (e.g. one central plant)
and adds sites near the uncovered demand; a start found with the levels priced in can instead hold
a second large facility that no single move removes.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np

from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.problem import Problem
from planner.solver.heuristic import (
    FlowLP,
    drop_moves,
    incumbent_from_values,
    local_search,
    satisfies_coupling,
    solution_cost,
)
from planner.solver.lagrangian import lagrangian_bound

logger = logging.getLogger(__name__)

MAX_REPAIR_STEPS = 100  # options opened by one repair at most
DROP_SHARE = 0.25  # of the time left: the most one move's drop pass may take
COST_FIRST_BOUND_SHARE = 0.3  # of cost_first_cover's time: the subgradient round without service levels
COST_FIRST_SEARCH_SHARE = 0.2  # and the local search of its network (the rest: the repair)


def cover_repair(
    problem: Problem,
    index: ModelIndex,
    opened: np.ndarray,
    banned: np.ndarray,
    flow_lp: FlowLP,
    deadline: float = np.inf,
) -> Solution | None:
    """Flows of ``opened``, with options opened greedily by newly covered demand per fixed cost
    (module docstring; never the ``banned`` ones, one type per site) until they meet every coupling
    row; None when no option is left to open or ``deadline`` (``time.perf_counter()``) has passed."""
    opened = opened.copy()
    counted = problem.arc_within_service & np.isin(problem.arc_product, problem.serviced_products)
    for _ in range(MAX_REPAIR_STEPS):
        if time.perf_counter() > deadline:
            return None
        solution = flow_lp.solve(opened)
        if solution is not None and satisfies_coupling(problem, index, solution):
            return solution
        pick = _best_cover(problem, index, opened, banned, counted)
        if pick is None:
            return None
        opened[pick] = True
    return None


def cost_first_cover(problem: Problem, index: ModelIndex, time_limit_s: float) -> Solution | None:
    """The module docstring's start: a subgradient round and the heuristic incumbent of ``problem``
    without its service levels (same ``index``: it does not depend on them), then
    :func:`cover_repair` with ``problem``'s levels; None when either finds nothing in time."""
    started = time.perf_counter()
    cost_only = dataclasses.replace(problem, service_share=np.zeros(problem.n_products))
    relaxed = lagrangian_bound(cost_only, index, upper_bound=None, time_limit_s=COST_FIRST_BOUND_SHARE * time_limit_s)
    network = incumbent_from_values(cost_only, index, relaxed.option_value, COST_FIRST_SEARCH_SHARE * time_limit_s,
                                    opened=relaxed.chosen)
    if network is None:
        return None
    banned = np.zeros(problem.n_options, dtype=bool)
    repaired = cover_repair(problem, index, network.open > 0, banned, FlowLP(problem, index), started + time_limit_s)
    logger.info("cost-first start: %.10g without service levels, %s with them (%.1fs)",
                solution_cost(cost_only, index, network),
                "none" if repaired is None else f"{solution_cost(problem, index, repaired):.10g}",
                time.perf_counter() - started)
    return repaired


def _best_cover(
    problem: Problem, index: ModelIndex, opened: np.ndarray, banned: np.ndarray, counted: np.ndarray
) -> int | None:
    """The closed option with the most newly covered demand per fixed cost (or, where none covers
    anything new, the most demand within the limits per fixed cost); None if none has any."""
    occupied = np.zeros(len(problem.site_ids), dtype=bool)
    occupied[problem.option_site[opened]] = True
    eligible = ~opened & ~banned & ~occupied[problem.option_site]
    covered = np.zeros(index.n_pairs, dtype=bool)
    covered[index.arc_pair[counted & opened[problem.arc_option]]] = True
    for arcs in (counted & ~covered[index.arc_pair], counted):
        gain = np.bincount(problem.arc_option[arcs], weights=index.arc_demand[arcs], minlength=problem.n_options)
        gain = np.minimum(gain, problem.option_capacity_max)
        if (gain[eligible] > 0).any():
            with np.errstate(divide="ignore", invalid="ignore"):
                modules = np.where(np.isfinite(problem.module_capacity),
                                   np.ceil(gain / problem.module_capacity - 1e-9), problem.min_modules)
            fixed = problem.opening_cost + problem.module_cost * np.maximum(modules, problem.min_modules)
            ratio = np.where(eligible & (gain > 0), gain / np.maximum(fixed, 1e-9), -np.inf)
            return int(np.argmax(ratio))
    return None


def drop_and_repair(
    problem: Problem,
    index: ModelIndex,
    solution: Solution,
    option_value: np.ndarray,
    time_limit_s: float,
    flow_lp: FlowLP | None = None,
) -> Solution:
    """Single drops (``drop_moves``), then first-improvement search with the move of the module
    docstring, the open options tried from the dearest fixed cost (opening and modules) down — the
    large facilities, which single drops cannot replace by several small ones — and among equals
    from the highest Lagrangian value v_o (those the relaxation likes least); ``solution`` itself
    when no move pays within ``time_limit_s``."""
    started = time.perf_counter()
    flow_lp = flow_lp or FlowLP(problem, index)
    first_cost, moves = solution_cost(problem, index, solution), 0
    best = local_search(problem, index, solution, option_value, drop_moves, DROP_SHARE * time_limit_s, flow_lp)
    best_cost = solution_cost(problem, index, best)
    improved = True
    while improved:
        improved = False
        opened = np.flatnonzero((best.open > 0) & ~problem.forced)
        fixed = problem.opening_cost[opened] + problem.module_cost[opened] * best.modules[opened]
        for option in opened[np.lexsort((-option_value[opened], -fixed))].tolist():
            left = time_limit_s - (time.perf_counter() - started)
            if left <= 0:
                break
            trial = best.open > 0
            trial[option] = False
            banned = np.zeros(problem.n_options, dtype=bool)
            banned[option] = True
            repaired = cover_repair(problem, index, trial, banned, flow_lp, started + time_limit_s)
            if repaired is None:
                continue
            left = time_limit_s - (time.perf_counter() - started)
            repaired = local_search(problem, index, repaired, option_value, drop_moves, DROP_SHARE * max(left, 0.0),
                                    flow_lp)
            cost = solution_cost(problem, index, repaired)
            if cost < best_cost - 1e-9 * max(abs(best_cost), 1.0):
                best, best_cost, improved, moves = repaired, cost, True, moves + 1
                break
    logger.info("drop-and-repair search: %.10g -> %.10g (%d drop-and-repair moves, %.1fs)", first_cost, best_cost,
                moves, time.perf_counter() - started)
    return best
