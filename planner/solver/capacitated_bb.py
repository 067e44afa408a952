r"""Lagrangian branch-and-bound for capacitated facility location (Görtz & Klose 2012, "A simple but
usually fast branch-and-bound algorithm for the capacitated facility location problem", INFORMS JoC
24, 597–610), exact, in numpy, with an LP only for the flows of candidate networks.

**When it applies** (:func:`applies`): the shape the Lagrangian presolve handles
(``planner.solver.presolve.presolve_applies``) with fixed module counts (each option one capacity
:math:`C_o` and one fixed cost :math:`F_o`), no service level, one option per site, at most
``MAX_OPTIONS`` options and a dense pair × option table of at most ``MAX_CELLS`` cells. Uncoupled
problems (no capacity can bind) go to ``planner.solver.lagrangian_bb`` before this.

**Relaxation.** With :math:`w_{od}` the cost of serving all of pair :math:`d` (demand :math:`q_d`)
from option :math:`o` (∞ without an arc) and :math:`u_d` the cost of leaving it unmet (∞ if it must
be served), relaxing :math:`\sum_o x_{od} + x^u_d = 1` with multipliers :math:`\lambda_d` gives

.. math::

    L(\lambda) = \sum_d \lambda_d + \sum_d \min(0, u_d - \lambda_d) + \min_{y \in Y} \sum_o v_o y_o,
    \qquad v_o = F_o + \min \{ \textstyle\sum_d (w_{od} - \lambda_d) x_{od} :
        \sum_d q_d x_{od} \le C_o,\ 0 \le x \le 1 \}

(a continuous knapsack per option, solved greedily by reduced cost per unit), where :math:`Y` holds
the node's fixings and the valid aggregate capacity row :math:`\sum_o C_o y_o \ge Q`, :math:`Q` the
demand that must be served. The choice over :math:`Y` is a covering knapsack: every free option with
:math:`v_o < 0` is taken, the rest of :math:`Q` is covered at least cost by dynamic programming over
capacity in steps of :math:`s` (the capacities' common divisor where there is a small one, else
:math:`Q / \text{COVER_STEPS}`), each capacity rounded *up* to whole steps, which can only lower the
bound: :math:`L(\lambda)` is a lower bound on the node's optimum for every :math:`\lambda`, at least
the LP bound of the strong formulation at the best :math:`\lambda`. It is raised by subgradient
steps (:math:`g_d = 1 - \sum_o y_o x_{od} - x^u_d`, Polyak steps aimed ``TARGET_SHARE`` of the way
from the node's bound to the incumbent's cost) on the covering knapsack's LP relaxation (a bound too,
and far cheaper), the exact knapsack at the node's best multipliers; each node starts from its
parent's best multipliers, the root from ``planner.solver.lagrangian.lagrangian_bound``'s or, where
they give it a higher bound, the strong LP's demand-row duals (``planner.solver.strong_lp``, solved on
a thread beside the root's incumbent search and dive; where it is not done by the end of that work,
the root waits for it at most ``ROOT_LP_WAIT_SHARE`` of the time it has taken if its latest round added at most
``ROOT_LP_NEAR_END`` × the pairs' count of rows, and otherwise stops it: on loose instances, where many
options share the demand, it needs 10–40 s and its duals are no better). Subgradient
steps can stall well below the Lagrangian dual's optimum where many options are alike: ``capa`` with
capacity 2,000 (every capacity equal) stood 1.36 % below the optimum after the root's steps and
0.22 % at the LP's duals (0.8 s), and the search took 7 s instead of 60 s (a hand-over to HiGHS).

**Search.** Best-first over nodes that fix options open or closed. Each node's relaxed open set is
evaluated exactly (the flow LP of ``planner.solver.heuristic.FlowLP``) for incumbents; the root's
also improved by the heuristic's local search, and a dive from the root (:func:`dive`) adds more.
Options are fixed at a node by penalty tests: the bound with a free option flipped (forced open
where the relaxation leaves it closed, closed where it opens it)
is the same :math:`L` with the covering knapsack solved again with that option fixed
(:func:`flipped_bounds`); where it exceeds the incumbent's cost less the prune margin, the option
keeps its relaxed state in every better solution of the node. Branching is on a free option whose
average open state over the node's subgradient steps is near 1/2 (an ergodic primal estimate, as the
volume algorithm's), among those the one whose flip raises the bound most (measured on generated
100 × 1,000 instances with capacity ratio 3: a higher bound after 40 s than either rule alone). The
global bound is the least bound of the open nodes and of every subtree pruned or fixed away, so a run
stopped at its limit reports a valid bound and gap.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

from planner.interrupt import raise_if_stopped
from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.problem import Problem
from planner.solver.heuristic import FlowLP, incumbent_from_values, satisfies_coupling, solution_cost
from planner.solver.kernels import THRESHOLD_SLACK, compiled_knapsacks
from planner.solver.lagrangian import cover_items, cover_table, lagrangian_bound
from planner.solver.lagrangian_bb import ROUNDING, BestFirst, Node, search_report
from planner.solver.outcome import SolverOptions
from planner.solver.radius import fixed_cost
from planner.solver.strong_lp import BackgroundDuals

logger = logging.getLogger(__name__)

MAX_OPTIONS = 400  # options: the penalty tests solve one covering knapsack per free option and node
MAX_CELLS = 2_000_000  # options × pairs of the dense tables
COVER_STEPS = 2000  # capacity steps of the covering knapsack where the capacities have no small divisor
ROOT_ITERATIONS = 400  # subgradient steps at the root (planner.solver.lagrangian's, without fixings)
ROOT_SHARE = 0.1  # of the time limit at most for them (of 60 s without one)
ROOT_LP_SHARE = 0.25  # of the time limit at most for the strong LP beside the search (of 60 s without one)
ROOT_LP_MAX_S = 10.0  # and at most this
ROOT_LP_MAX_ARCS = 400_000  # no strong LP on larger tables (its HiGHS instance: 90 MB for capa's 100,000 arcs)
ROOT_LP_WAIT_SHARE = 0.5  # the root waits for the strong LP at most this share of the time it has taken ...
ROOT_LP_NEAR_END = 0.05  # ... where its latest round added at most this share of the pairs' count of rows
NODE_ITERATIONS = 30  # and at every other node (15: weaker bounds; 25–60 alike on 100 × 1,000)
DIVE_ITERATIONS = 15  # subgradient steps at each node of the root's dive (a primal heuristic)
DIVE_SHARE = 0.1  # of the time limit at most for the dive
DIVE_MAX_S = 1.5  # and at most this (also without a time limit)
TARGET_SHARE = 1.0  # Polyak steps aim this share of the way from the node's bound to the incumbent's cost
STALL_STEPS = 10  # steps without a better bound before the step scale halves
MIN_STEP_SCALE = 1e-4
ROOT_SEARCH_SHARE = 0.05  # of the time limit: the local search from the root's relaxed open set
ROOT_SEARCH_MAX_S = 2.0  # and at most this (also without a time limit)
LP_SHARE = 0.2  # of the time at most in the flow LPs of the nodes' relaxed open sets
AVERAGE_WEIGHT = 0.2  # of the latest step in the ergodic average of the open states
EXTENSION_SHARE = 0.5  # of a budget (not a user's limit): the most the search may go on past it (Deadline)
EARLY_SHARE = 1 / 3  # of a budget: from then on a search whose gap will not close in time hands over (Deadline)
RATE_WINDOW_S = 10.0  # the gap's closing rate is measured over this many seconds (Deadline)
DENSE_SHARE = 0.5  # of the table's cells with an arc: from this share the reduced costs are one broadcast
BRANCH_WINDOW = 0.2  # branching candidates: average state this close to the nearest to 1/2 (see branching_option)


def applies(problem: Problem, presolve_shape: bool) -> bool:
    """Capacitated facility location of the presolve's shape (``presolve_shape``) with fixed module
    counts, no service level, facility-count limit, CO2 cap or capex budget (which its relaxation does
    not hold), one option per site and small enough for the dense tables."""
    if not presolve_shape or problem.n_options == 0 or problem.n_options > MAX_OPTIONS:
        return False
    if problem.has_upper_counts or problem.has_lower_counts:
        return False
    if np.isfinite(problem.co2_cap_t) or np.isfinite(problem.capex_budget):
        return False
    if (problem.max_modules != problem.min_modules).any() or len(problem.serviced_products):
        return False
    if len(np.unique(problem.option_site)) < problem.n_options:
        return False
    n_pairs = len(np.unique(problem.arc_region * problem.n_products + problem.arc_product))
    return problem.n_options * n_pairs <= MAX_CELLS


@dataclass(frozen=True)
class DenseCapacitated:
    """The problem as dense tables: ``cost[o, d]`` = :math:`w_{od}` (∞ without an arc), ``demand``
    :math:`q_d` (units/yr), ``capacity`` :math:`C_o` (units/yr), ``fixed`` :math:`F_o`, ``unmet``
    :math:`u_d` (∞ where the pair must be served), ``need`` :math:`Q` and the forced options."""

    cost: np.ndarray  # (O, D) currency/yr
    demand: np.ndarray  # (D,) units/yr
    capacity: np.ndarray  # (O,) units/yr
    fixed: np.ndarray  # (O,) currency/yr
    unmet: np.ndarray  # (D,) currency/yr
    need: float  # units/yr that must be served
    forced: np.ndarray  # (O,) bool

    @classmethod
    def of(cls, problem: Problem, index: ModelIndex) -> DenseCapacitated | None:
        """The tables (None where a pair that must be served has no arc, which the standard route
        explains, or where a pair has no demand)."""
        if (index.pair_demand <= 0).any():
            return None
        cost = np.full((problem.n_options, index.n_pairs), np.inf)
        np.minimum.at(cost, (problem.arc_option, index.arc_pair), problem.arc_unit_cost * index.arc_demand)
        unmet = np.where(np.isfinite(index.pair_penalty), index.pair_penalty * index.pair_demand, np.inf)
        cost[cost >= unmet[None, :]] = np.inf  # an arc dearer than leaving the pair unmet is never used
        if (~np.isfinite(cost).any(axis=0) & ~np.isfinite(unmet)).any():
            return None
        capacity = (problem.module_capacity * problem.min_modules).astype(float)
        need = float(index.pair_demand[~np.isfinite(unmet)].sum())
        return cls(cost, index.pair_demand.astype(float), capacity, fixed_cost(problem).astype(float), unmet,
                   need, problem.forced.copy())


class CoverKnapsack:
    r"""min :math:`\sum v_o y_o` over the free options with :math:`\sum_o C_o y_o \ge Q` less what the
    fixed-open ones hold: exact over capacities rounded up to whole steps (see the module). Every free
    option with :math:`v_o < 0` is in any cheapest choice (it lowers the cost and adds capacity), so
    the knapsack is over the others only."""

    def __init__(self, capacity: np.ndarray, need: float) -> None:
        finite = np.where(np.isfinite(capacity), capacity, need)
        step = need / COVER_STEPS if need > 0 else 1.0
        if np.allclose(finite, np.round(finite)) and (finite > 0).all():
            divisor = float(np.gcd.reduce(np.round(finite).astype(np.int64)))
            if need / divisor <= COVER_STEPS:
                step = divisor
        self.step = step  # units/yr
        self.units = np.ceil(finite / step - 1e-9).astype(np.int64)  # rounded up: a relaxation
        self.need_units = math.ceil(need / step - 1e-9) if need > 0 else 0

    def mandatory(self, values: np.ndarray, fixing: np.ndarray) -> tuple[np.ndarray, int]:
        """The options in every cheapest choice (fixed open, or free with v_o < 0) and the capacity
        units still missing after them (≤ 0: none)."""
        taken = (fixing == 1) | ((fixing == -1) & (values < 0))
        return taken, self.need_units - int(self.units[taken].sum())

    def useful(self, values: np.ndarray, items: np.ndarray, deficit: int) -> np.ndarray:
        """The items that may be in a cheapest cover of ``deficit`` units: those no dearer than a
        greedy cover (by value per unit) costs in all; the same optimum, a smaller table."""
        ranked = items[np.argsort(values[items] / self.units[items], kind="stable")]
        enough = np.searchsorted(np.cumsum(self.units[ranked]), deficit)
        if enough >= len(ranked):
            return items
        return items[values[items] <= values[ranked[: enough + 1]].sum()]

    def table(self, values: np.ndarray, items: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
        """``planner.solver.lagrangian.cover_table`` in this knapsack's steps."""
        return cover_table(values, items, self.units, length)

    def fractional(self, values: np.ndarray, fixing: np.ndarray) -> tuple[float, np.ndarray]:
        """(Σ v y, y): the LP relaxation of :meth:`choose` (no dearer than it, so also a bound), the
        items taken greedily by value per unit until the deficit is covered, the last in part; much
        cheaper than the table, for the subgradient steps."""
        chosen, deficit = self.mandatory(values, fixing)
        share = chosen.astype(float)
        total = float(values[chosen].sum())
        if deficit <= 0:
            return total, share
        items = np.flatnonzero((fixing == -1) & ~chosen)
        ranked = items[np.argsort(values[items] / self.units[items], kind="stable")]
        held = np.cumsum(self.units[ranked])
        last = int(np.searchsorted(held, deficit))
        if last >= len(ranked):
            return math.inf, share
        share[ranked[:last]] = 1.0
        share[ranked[last]] = (deficit - (held[last - 1] if last else 0)) / self.units[ranked[last]]
        return total + float(values[ranked] @ share[ranked]), share

    def choose(self, values: np.ndarray, fixing: np.ndarray) -> tuple[float, np.ndarray]:
        """(Σ v over the chosen options, chosen mask) at a node (``fixing``: 1 open, 0 closed, −1 free);
        (∞, …) where the allowed options cannot hold the need."""
        chosen, deficit = self.mandatory(values, fixing)
        total = float(values[chosen].sum())
        if deficit <= 0:
            return total, chosen
        items = self.useful(values, np.flatnonzero((fixing == -1) & ~chosen), deficit)
        table, taken = self.table(values, items, deficit)
        if not np.isfinite(table[-1]):
            return math.inf, chosen
        chosen[cover_items(items, taken, self.units, deficit)] = True
        return total + float(table[-1]), chosen


@dataclass
class Evaluation:
    bound: float
    chosen: np.ndarray  # (O,) bool: the relaxed open set (y_o > 0)
    values: np.ndarray  # (O,) v_o (∞ for options fixed closed)
    subgradient: np.ndarray  # (D,)
    open_share: np.ndarray  # (O,) y_o (fractional for one option at most, in a fractional evaluation)


class Relaxation:
    """Evaluates :math:`L(\\lambda)` at a node (see the module)."""

    def __init__(self, costs: DenseCapacitated) -> None:
        self.costs = costs
        self.cover = CoverKnapsack(costs.capacity, costs.need)
        self.unit_cost = costs.cost / costs.demand[None, :]  # (O, D) per unit; ∞ without an arc
        finite = np.isfinite(self.unit_cost)
        # the arcs as flat arrays by option, then pair: on a sparse table (each pair served from a few
        # options) the steps below touch only these, not every cell
        self.arc_option, self.arc_pair = np.nonzero(finite)
        self.arc_unit_cost = self.unit_cost[finite]
        # on a mostly dense table the reduced costs are one broadcast over the table (into a reused
        # buffer) instead of a gather per arc: 100 × 1,000, 0.16 → 0.06 ms of the step
        self.dense = bool(finite.mean() >= DENSE_SHARE)
        self.compiled = compiled_knapsacks(self.arc_option, self.arc_pair, self.arc_unit_cost, costs.demand,
                                           costs.capacity, self.unit_cost if self.dense else None)
        # the numpy route's state (where nothing is compiled)
        self.buffer = np.empty_like(self.unit_cost) if self.dense and self.compiled is None else None
        self.threshold = np.zeros(len(costs.fixed))  # (O,) ≤ 0: see option_values

    def evaluate(self, multipliers: np.ndarray, fixing: np.ndarray, exact: bool = True) -> Evaluation:
        """L(λ) at a node with the covering knapsack solved exactly, or (``exact`` False) its LP
        relaxation: a lower bound too, for the subgradient steps (one compiled call where numba is there,
        ``planner.solver.kernels._fractional``: the same values as the numpy route below)."""
        costs = self.costs
        if not exact and self.compiled is not None:  # all in one compiled call (planner.solver.kernels)
            bound, values, open_share, subgradient = self.compiled.fractional(
                multipliers, fixing, costs.fixed, costs.unmet, self.cover.units, self.cover.need_units)
            return Evaluation(bound, open_share > 0, values, subgradient, open_share)
        values, (option, pair, share) = self.option_values(multipliers, fixing)
        if exact:
            choice, chosen = self.cover.choose(values, fixing)
            open_share = chosen.astype(float)
        else:
            choice, open_share = self.cover.fractional(values, fixing)
            chosen = open_share > 0
        unmet_gain = costs.unmet - multipliers
        bound = float(multipliers.sum() + np.minimum(unmet_gain, 0.0).sum()) + choice
        served = np.bincount(pair, weights=share * open_share[option], minlength=len(multipliers))
        return Evaluation(bound, chosen, values, 1.0 - served - (unmet_gain < 0), open_share)

    def option_values(self, multipliers: np.ndarray, fixing: np.ndarray):
        r"""v_o of the options not fixed closed (∞ for those) and the knapsack's shares: (option, pair,
        x_od) of the arcs with a negative reduced cost that the knapsacks take.

        Only the arcs below each option's threshold :math:`\theta_o \le 0` (reduced cost per unit) are
        sorted: where they hold at least :math:`C_o`, the greedy fill ends among them (every other arc
        of the option is no cheaper), so the knapsack is exact; the options where they do not are done
        again with :math:`\theta_o = 0` (all arcs with a negative reduced cost). The thresholds follow
        the last arc each knapsack took, ``THRESHOLD_SLACK`` nearer to 0, for the next evaluation. On a
        generated 100 × 1,000 instance of capacity ratio 3 (seed 7, the same tree of 1,449 nodes) the
        search took 16.0 s instead of 17.9 s (slack 0.1–0.2 alike; 0 redoes half the evaluations)."""
        costs = self.costs
        allowed = fixing != 0
        price = multipliers / costs.demand
        if self.compiled is not None:  # the same knapsacks in one compiled pass (planner.solver.kernels)
            knapsack, arcs = self.compiled.solve(price, allowed)
            return np.where(allowed, costs.fixed + knapsack, np.inf), arcs
        threshold = self.threshold.copy()  # knapsacks moves self.threshold on for the next evaluation
        option, pair, share, knapsack, held = self.knapsacks(price, allowed, threshold)
        short = allowed & (threshold < 0) & (held < costs.capacity)
        if short.any():  # too few arcs below the threshold: those options again with all their arcs
            redo = np.where(short, 0.0, -np.inf)
            option2, pair2, share2, knapsack2, _ = self.knapsacks(price, short, redo)
            keep = ~short[option]
            option = np.concatenate([option[keep], option2])
            pair = np.concatenate([pair[keep], pair2])
            share = np.concatenate([share[keep], share2])
            knapsack = np.where(short, knapsack2, knapsack)
        values = np.full(len(costs.fixed), np.inf)
        values[allowed] = costs.fixed[allowed] + knapsack[allowed]
        return values, (option, pair, share)

    def knapsacks(self, price: np.ndarray, allowed: np.ndarray, threshold: np.ndarray):
        """The continuous knapsack of every allowed option over its arcs below ``threshold``: (option,
        pair, share) of those arcs, each option's value and the demand its arcs hold; the thresholds
        updated (see :meth:`option_values`)."""
        costs = self.costs
        n_options = len(costs.fixed)
        option, pair, r = self.attractive_arcs(price, allowed, threshold)
        order = np.argsort(_ratio_key(option, r))  # ties (equal ratios) may go either way: same value
        option, pair, r = option[order], pair[order], r[order]
        q = costs.demand[pair]
        cum_q = np.cumsum(q)
        starts = np.searchsorted(option, np.arange(n_options))
        before = np.where(starts > 0, cum_q[np.maximum(starts - 1, 0)], 0.0) if len(q) else np.zeros(n_options)
        room = costs.capacity[option] - (cum_q - q - before[option])  # capacity left when the item comes
        share = np.clip(room / q, 0.0, 1.0)
        knapsack = np.bincount(option, weights=share * q * r, minlength=n_options)
        held = np.bincount(option, weights=q, minlength=n_options)
        taken = np.flatnonzero(share > 0)
        last = taken[np.r_[option[taken][1:] != option[taken][:-1], True]] if len(taken) else taken
        full = np.zeros(n_options, dtype=bool)
        full[option[last]] = room[last] < q[last] * (1 + 1e-12) + 1e-9 * costs.capacity[option[last]]
        updated = np.zeros(n_options)
        updated[option[last]] = r[last] * (1 - THRESHOLD_SLACK)
        self.threshold[allowed] = np.where(full, updated, 0.0)[allowed]
        return option, pair, share, knapsack, held

    def attractive_arcs(self, price: np.ndarray, allowed: np.ndarray, threshold: np.ndarray):
        """(option, pair, reduced cost per unit) of the arcs of allowed options below the option's
        threshold (``price``: each pair's multiplier per unit), by option, then pair."""
        if self.dense and allowed.sum() * 4 < len(allowed):  # a few rows: only those
            rows = np.flatnonzero(allowed)
            ratio = self.unit_cost[rows] - price[None, :]
            cells = np.flatnonzero(ratio < threshold[rows, None])
            row, pair = np.divmod(cells, ratio.shape[1])
            return rows[row], pair, ratio.ravel()[cells]
        if self.dense:
            ratio = np.subtract(self.unit_cost, price[None, :], out=self.buffer)  # ∞ stays ∞: no arc
            attractive = ratio < threshold[:, None]
            if not allowed.all():
                attractive[~allowed] = False
            cells = np.flatnonzero(attractive)
            option, pair = np.divmod(cells, ratio.shape[1])
            return option, pair, ratio.ravel()[cells]
        ratio = self.arc_unit_cost - price[self.arc_pair]
        attractive = ratio < threshold[self.arc_option]
        if not allowed.all():
            attractive &= allowed[self.arc_option]
        arcs = np.flatnonzero(attractive)
        return self.arc_option[arcs], self.arc_pair[arcs], ratio[arcs]


def _ratio_key(row: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """One float key that sorts by row (ascending integers), then by ratio (all < 0)."""
    if not len(ratio):
        return row.astype(float)
    low = float(ratio.min())
    return row + (ratio - low) * (0.999 / max(-low, 1e-300))


@dataclass
class Search(BestFirst):
    """One branch-and-bound: incumbent, the open nodes, counters, the flow LP for candidate networks."""

    problem: Problem
    index: ModelIndex
    costs: DenseCapacitated
    mip_gap: float | None
    flow_lp: FlowLP
    grain: float = 0.0  # no grain: costs need not be multiples of one
    best: Solution | None = None
    best_cost: float = math.inf
    discarded_bound: float = math.inf
    nodes: int = 0
    queue: list = field(default_factory=list)
    counter: itertools.count = field(default_factory=itertools.count)
    tried: set = field(default_factory=set)
    started: float = field(default_factory=time.perf_counter)
    lp_seconds: float = 0.0  # spent in the flow LP of candidate networks
    outside_bound: float = math.inf  # the least bound of the tree's nodes a partner holds (parallel_bb)

    def global_bound(self) -> float:
        return min(BestFirst.global_bound(self), self.outside_bound)

    def consider(self, candidate: Solution | None) -> None:
        """Keep ``candidate`` if it is feasible and cheaper than the incumbent."""
        if candidate is None or not satisfies_coupling(self.problem, self.index, candidate):
            return
        cost = solution_cost(self.problem, self.index, candidate)
        if cost < self.best_cost - 1e-12 * max(abs(cost), 1.0):
            self.best, self.best_cost = candidate, cost
            logger.debug("incumbent %.10g at node %d (%.2fs)", cost, self.nodes, time.perf_counter() - self.started)

    def try_open_set(self, is_open: np.ndarray, always: bool = False) -> None:
        """Evaluate an open set once (its flows by LP) if it holds the demand that must be served,
        and, unless ``always``, while the flow LPs have taken at most ``LP_SHARE`` of the time."""
        key = is_open.tobytes()
        if key in self.tried or self.costs.capacity[is_open].sum() < self.costs.need * (1 - 1e-12):
            return
        if not always and self.lp_seconds > LP_SHARE * (time.perf_counter() - self.started):
            return
        self.tried.add(key)
        started = time.perf_counter()
        self.consider(self.flow_lp.solve(is_open))
        self.lp_seconds += time.perf_counter() - started


def raise_bound(search: Search, relaxation: Relaxation, node: Node, iterations: int, until: float = math.inf):
    r"""Subgradient steps at ``node`` from its multipliers on the fractional evaluation; keeps its best
    bound and multipliers, and returns (the exact evaluation at those, the average open state over the
    steps); stops once pruned, or at ``until`` (a ``time.perf_counter()`` reading) after one step at least.

    The steps are Polyak's, :math:`t = \theta (T - L(\lambda)) / \lVert g \rVert^2` with :math:`\theta`
    halved after ``STALL_STEPS`` steps without a better bound, aimed at the target :math:`T` = the node's
    bound + ``TARGET_SHARE`` × (the incumbent's cost − that bound). At 1 the target is the incumbent's cost,
    the classical choice; at 0.5, with an incumbent at or near the optimum, the steps were too short to
    raise the bound of a node enough to prune it: on six generated 100 × 1,000 instances of capacity
    ratio 3 (seeds 1, 3–7, one thread) the search took 152 s in all with 0.5 and 130 s with 1 (seed 6:
    53 → 37 s; seed 5 slower, 11 → 15 s), seed 2 was proven in 143 s instead of none in 150 s, and from
    the optimum as its start seed 1's proof took 42 s with 0.5 and 33 s with 1. Not better everywhere: on the
    sparse 200 × 3,000 instance of ``benchmarks/overhead.py`` with seed 3 (mip_gap 0.1 %) 63–84 s against
    40–52 s (seeds 2, 4, 5 alike)."""
    multipliers = node.multipliers.copy()
    best, average = None, None
    scale, stall = 1.0, 0
    for _ in range(iterations):
        evaluation = relaxation.evaluate(multipliers, node.fixing, exact=False)
        if not math.isfinite(evaluation.bound):
            node.bound = math.inf
            return evaluation, None
        state = evaluation.open_share
        average = state if average is None else (1 - AVERAGE_WEIGHT) * average + AVERAGE_WEIGHT * state
        if best is None or evaluation.bound > best.bound + 1e-12 * max(abs(evaluation.bound), 1.0):
            best, stall = evaluation, 0
            node.bound, node.multipliers = max(node.bound, evaluation.bound), multipliers.copy()
        else:
            stall += 1
            if stall >= STALL_STEPS:
                scale, stall = scale / 2, 0
        norm = float(evaluation.subgradient @ evaluation.subgradient)
        if search.prunes(node.bound) or norm < 1e-12 or scale < MIN_STEP_SCALE or time.perf_counter() >= until:
            break
        target = search.best_cost if math.isfinite(search.best_cost) else evaluation.bound * 1.05 + 1.0
        target = node.bound + TARGET_SHARE * (target - node.bound)
        step = scale * max(target - evaluation.bound, 1e-9 * max(abs(target), 1.0)) / norm
        multipliers = multipliers + step * evaluation.subgradient
    best = relaxation.evaluate(node.multipliers, node.fixing)  # no lower than the fractional one
    node.bound = max(node.bound, best.bound)
    return best, (average if math.isfinite(best.bound) else None)


def flipped_bounds(relaxation: Relaxation, node: Node, evaluation: Evaluation) -> np.ndarray:
    """(O,) lower bounds on the node's bound at the evaluation's multipliers with each free option
    flipped (forced open where the relaxation leaves it closed, closed where it opens it); NaN for the
    fixed options. One knapsack table over the free options with v_o ≥ 0 serves every flip: forcing
    one of them open leaves the others to cover the rest (a table that may still use it is no dearer:
    a lower bound), forcing one with v_o < 0 closed leaves them a larger deficit (exact); only the
    knapsack's own choices, forced closed, take a table of their own (exact)."""
    cover, values, chosen = relaxation.cover, evaluation.values, evaluation.chosen
    flipped = np.full(len(node.fixing), np.nan)
    free = node.fixing == -1
    mandatory, deficit = cover.mandatory(values, node.fixing)
    base = evaluation.bound - cover.choose(values, node.fixing)[0]  # the bound without the option choice
    total = float(values[mandatory].sum())
    items = np.flatnonzero(free & ~mandatory)
    dropped = np.flatnonzero(free & mandatory)
    length = max(deficit, 0) + int(cover.units[dropped].max(initial=0))
    table, _ = cover.table(values, items, max(length, 0))
    closed_items = items[~chosen[items]]
    flipped[closed_items] = total + values[closed_items] + table[np.maximum(deficit - cover.units[closed_items], 0)]
    flipped[dropped] = total - values[dropped] + table[np.maximum(deficit + cover.units[dropped], 0)]
    for option in items[chosen[items]].tolist():
        fixing = node.fixing.copy()
        fixing[option] = 0
        flipped[option] = cover.choose(values, fixing)[0]
    return base + flipped


def fix_by_penalties(search: Search, node: Node, evaluation: Evaluation, flipped: np.ndarray) -> None:
    """Fix the free options whose flip (``flipped``: :func:`flipped_bounds`) leads above the incumbent
    less the margin to their relaxed state; each subtree left out is noted with its bound."""
    if not math.isfinite(search.best_cost):
        return
    fixable = (node.fixing == -1) & (flipped > search.best_cost - search.margin())
    if fixable.any():
        search.discard(float(flipped[fixable].min()))
        node.fixing[fixable] = evaluation.chosen[fixable].astype(np.int8)


def branching_option(node: Node, average: np.ndarray, flipped: np.ndarray) -> int | None:
    """Among the free options whose average open state is within ``BRANCH_WINDOW`` of the nearest to
    1/2, the one whose flip raises the bound most (that child is the likeliest to be pruned); None
    when every option is fixed."""
    free = np.flatnonzero(node.fixing == -1)
    if not len(free):
        return None
    distance = np.abs(average[free] - 0.5)
    candidates = free[distance <= distance.min() + BRANCH_WINDOW]
    return int(candidates[np.argmax(flipped[candidates])])


def branch_and_bound(problem: Problem, index: ModelIndex, costs: DenseCapacitated, options: SolverOptions,
                     time_limit_s: float | None, start: Solution | None = None, extendable: bool = False,
                     rival=None, seeds: list[Node] | None = None) -> Search:
    """Best-first branch-and-bound within ``time_limit_s`` (``extendable``: see :class:`Deadline`); the
    search as it ended (queue empty: the incumbent is optimal within the prune margin). ``rival``
    (``planner.solver.race.Rival``, ``planner.solver.parallel_bb.Partner``), if given, is asked after
    every node whether the search may stop, and for more nodes when the queue runs empty (``refill``).
    ``seeds``: nodes to start from instead of the root (a partner's share of its tree)."""
    started = time.perf_counter()
    flow_lp = FlowLP(problem, index, arc_cost=problem.arc_unit_cost * index.arc_demand)  # modules are fixed
    search = Search(problem, index, costs, options.mip_gap, flow_lp)
    search.consider(start)
    relaxation = Relaxation(costs)
    for node in seeds if seeds is not None else [root_node(problem, index, costs, time_limit_s)]:
        search.push(node)
    # after the root's subgradient, which shares the cores with the partner's start (parallel_bb) at first
    with_lp = seeds is None and np.isfinite(costs.cost).sum() <= ROOT_LP_MAX_ARCS
    strong_lp = BackgroundDuals(costs, min(ROOT_LP_MAX_S, ROOT_LP_SHARE * (time_limit_s or 60.0))) if with_lp else None
    try:
        explore(search, relaxation, Deadline(started, time_limit_s, extendable), rival, seeds is None, strong_lp)
    finally:
        if strong_lp is not None:
            strong_lp.cancel()
    return search


def explore(search: Search, relaxation: Relaxation, deadline: Deadline, rival, from_root: bool,
            strong_lp: BackgroundDuals | None) -> None:
    """The nodes of :func:`branch_and_bound`, best first, until the queue is empty or the time is up;
    at the root, the strong LP's duals where they are there (see the module)."""
    time_limit_s = deadline.limit_s
    while search.queue or (rival is not None and rival.refill(search)):
        if search.nodes and (deadline.passed(search) or (rival is not None and rival.decides(search))):
            break
        raise_if_stopped()
        bound, _, node = heapq.heappop(search.queue)
        if search.prunes(bound):
            search.discard(bound)
            continue
        root = search.nodes == 0 and from_root
        search.nodes += 1
        end = math.inf if time_limit_s is None else deadline.started + time_limit_s  # the root's steps keep to it
        evaluation, average = raise_bound(search, relaxation, node, NODE_ITERATIONS,
                                          end if root and not deadline.extendable else math.inf)
        if average is None:
            continue
        search.try_open_set(evaluation.chosen)
        if root:
            root_incumbent(search, evaluation, time_limit_s, end)
            dive(search, relaxation, node, evaluation, average, min(end, time.perf_counter() + min(
                DIVE_MAX_S, math.inf if time_limit_s is None else DIVE_SHARE * time_limit_s)))
            if strong_lp is not None and not search.prunes(node.bound):
                duals = strong_lp.take(ROOT_LP_WAIT_SHARE * (time.perf_counter() - search.started)
                                       if strong_lp.nearly_done(ROOT_LP_NEAR_END) else 0.0)
                if duals is not None and root_from_duals(search, relaxation, node, duals):
                    evaluation, average = raise_bound(search, relaxation, node, NODE_ITERATIONS)
            if strong_lp is not None:
                strong_lp.cancel()  # its duals now (or never): the search needs the core
                strong_lp = None
        if search.prunes(node.bound):
            search.discard(node.bound)
            continue
        flipped = flipped_bounds(relaxation, node, evaluation)
        fix_by_penalties(search, node, evaluation, flipped)
        option = branching_option(node, average, flipped)
        if option is None:
            search.try_open_set(node.fixing == 1, always=True)  # the node's one network: its optimum
            continue
        for value in (1, 0):
            fixing = node.fixing.copy()
            fixing[option] = value
            flips = value != evaluation.chosen[option]  # the child against the relaxed state
            search.push(Node(fixing, max(node.bound, flipped[option]) if flips else node.bound, node.multipliers))


def root_node(problem: Problem, index: ModelIndex, costs: DenseCapacitated, time_limit_s: float | None) -> Node:
    """The root: the forced options open, the rest free, from ``planner.solver.lagrangian``'s multipliers."""
    first = lagrangian_bound(problem, index, None, max_iterations=ROOT_ITERATIONS,
                             time_limit_s=ROOT_SHARE * (time_limit_s or 60.0))
    return Node(np.where(costs.forced, 1, -1).astype(np.int8), -math.inf, first.multipliers)


def root_from_duals(search: Search, relaxation: Relaxation, root: Node, duals: np.ndarray) -> bool:
    """Whether the strong LP's duals give the root a higher bound than its own multipliers; if so they
    become its multipliers (and its children's)."""
    at_duals = relaxation.evaluate(duals, root.fixing).bound
    logger.debug("root bound %.10g, at the strong LP's duals %.10g", root.bound, at_duals)
    if not at_duals > root.bound:
        return False
    logger.info("capacitated branch-and-bound: the strong LP's duals raise the root bound from %.10g to %.10g",
                root.bound, at_duals)
    root.multipliers = duals
    return True


@dataclass
class Deadline:
    """When the search stops: once ``limit_s`` seconds have passed since ``started`` (a
    ``time.perf_counter`` reading; None: never). With ``extendable`` (the limit is a budget of the
    engine's, not the user's time limit) it goes on past it, by at most ``EXTENSION_SHARE`` of it, while
    the gap closes fast enough to reach the MIP gap within that: the rate is the gap's fall over the
    last ``RATE_WINDOW_S`` seconds, sampled once a second, and the projection linear. Where the search
    is about to finish, a hand-over to HiGHS would start again from its root: on the instance of
    ``benchmarks/overhead.py`` the search stood at a 0.105 % gap closing by 0.003 % a second near its
    budget of 60 s (target 0.1 %), and HiGHS then took 54 s. The other way round, from ``EARLY_SHARE``
    of a budget on, a search whose gap would not reach the MIP gap within the budget and its extension
    at that rate hands over at once: ``capa`` with capacity 2,000, where the Lagrangian bound stays 1.3 %
    low, stood at 1.06 % after 22 s, 92 s from closing at its rate and 166 s after 27 s, where the
    generated ratio-3 instance of seed 1 was 2–7 s from closing at every sample and was proven at 38 s."""

    started: float
    limit_s: float | None
    extendable: bool = False
    history: list = field(default_factory=list)  # (seconds, gap), about once a second
    extending: bool = False  # past limit_s (logged once)

    def passed(self, search: Search) -> bool:
        if self.limit_s is None:
            return False
        elapsed = time.perf_counter() - self.started
        if self.extendable and (not self.history or elapsed - self.history[-1][0] >= 1.0):
            self.history.append((elapsed, search_gap(search)))
        left = self.limit_s * (1 + EXTENSION_SHARE) - elapsed
        if elapsed <= self.limit_s:
            return self.extendable and elapsed >= EARLY_SHARE * self.limit_s and self.stalled(search, left)
        if not self.extendable or left <= 0 or self.projected_s(search) > left:
            return True
        if not self.extending:
            self.extending = True
            logger.info("capacitated branch-and-bound: gap %.4f%% closing, about %.1fs to the MIP gap: it goes on "
                        "past its %.0fs (at most %.0fs more)", 100 * self.history[-1][1], self.projected_s(search),
                        self.limit_s, EXTENSION_SHARE * self.limit_s)
        return False

    def stalled(self, search: Search, left: float) -> bool:
        """The gap closes too slowly to reach the MIP gap within the budget and its extension: the
        hand-over comes now rather than at the budget's end (logged once)."""
        if self.projected_s(search) <= left:
            return False
        logger.info("capacitated branch-and-bound: gap %.4f%% closing too slowly to reach the MIP gap within its "
                    "%.0fs; it hands over after %.0fs", 100 * self.history[-1][1], self.limit_s,
                    self.history[-1][0])
        return True

    def projected_s(self, search: Search) -> float:
        """Seconds until the gap reaches the MIP gap at its rate over the last ``RATE_WINDOW_S``."""
        now, gap = self.history[-1]
        earlier = [(t, g) for t, g in self.history if t <= now - RATE_WINDOW_S]
        if not earlier or not math.isfinite(gap):
            return math.inf
        then, gap_then = earlier[-1]
        rate = (gap_then - gap) / (now - then)
        target = max(search.mip_gap or 0.0, ROUNDING)
        return 0.0 if gap <= target else (gap - target) / rate if rate > 0 else math.inf


def search_gap(search: Search) -> float:
    """(incumbent − global bound) / |incumbent|; ∞ without an incumbent."""
    if not math.isfinite(search.best_cost):
        return math.inf
    return (search.best_cost - search.global_bound()) / max(abs(search.best_cost), 1e-12)


def dive(search: Search, relaxation: Relaxation, root: Node, evaluation: Evaluation, average: np.ndarray,
         until: float) -> None:
    """A primal heuristic: from the root, fix the branching option to its rounded average state, raise
    the bound, evaluate the relaxed open set, and go on until every option is fixed or the node is
    infeasible, also past the incumbent's cost (the nodes are not kept: the tree starts at the root).
    On a generated 100 × 1,000 instance of capacity ratio 10 it found a network within 0.01 % of the
    optimum at 4.9 s, which the search alone found at 15 s. ``evaluation``: the root's, exact at its
    multipliers. Ends at ``until`` (a ``time.perf_counter`` reading) if it comes first."""
    node = Node(root.fixing.copy(), root.bound, root.multipliers.copy())
    while time.perf_counter() < until:
        raise_if_stopped()
        flipped = flipped_bounds(relaxation, node, evaluation)
        option = branching_option(node, average, flipped)
        if option is None:
            search.try_open_set(node.fixing == 1, always=True)
            return
        node.fixing[option] = 1 if average[option] >= 0.5 else 0
        evaluation, average = raise_bound(search, relaxation, node, DIVE_ITERATIONS)
        if average is None:
            return
        search.try_open_set(evaluation.chosen, always=True)


def root_incumbent(search: Search, evaluation: Evaluation, time_limit_s: float | None, end: float = math.inf) -> None:
    """The heuristic's local search from the root's relaxed open set (``ROOT_SEARCH_SHARE`` of the time,
    at most ``ROOT_SEARCH_MAX_S``, and never past ``end``, a ``time.perf_counter()`` reading). Its first
    flows (one fresh LP: 1.2 s on 200 × 2,000) stop at ``end`` too where the search already holds a
    network; without one they are found whatever the time, so that the search ends with a network."""
    seconds = ROOT_SEARCH_MAX_S if time_limit_s is None else min(ROOT_SEARCH_SHARE * time_limit_s, ROOT_SEARCH_MAX_S)
    seconds = max(min(seconds, end - time.perf_counter()), 0.0)
    deadline = end if math.isfinite(end) and search.best is not None else None
    values = np.where(np.isfinite(evaluation.values), evaluation.values, np.inf)
    search.consider(incumbent_from_values(search.problem, search.index, values, time_limit_s=seconds,
                                          opened=evaluation.chosen, flow_lp=search.flow_lp, deadline=deadline))


def solve_capacitated_bb(problem: Problem, index: ModelIndex, options: SolverOptions, start: Solution | None = None,
                         extendable: bool = False):
    """The branch-and-bound on ``problem`` (it must :func:`applies`) within ``options.time_limit_s`` (none:
    until proven; ``extendable``: a budget of the caller's, not the user's limit, see :class:`Deadline`):
    (report, solution, proven); ``proven`` False where the time ran out first (the report then has the
    global bound). None where the tables cannot be built or no network was found. ``start``, a feasible
    solution, is the first incumbent."""
    costs = DenseCapacitated.of(problem, index)
    if costs is None:
        return None
    started = time.perf_counter()
    search = branch_and_bound(problem, index, costs, options, options.time_limit_s, start, extendable)
    seconds = time.perf_counter() - started
    if search.best is None:
        return None
    report, proven = search_report(search, options, seconds, "capacitated Lagrangian branch-and-bound")
    return report, search.best, proven
