r"""Lagrangian branch-and-bound for uncoupled problems: uncapacitated facility location and p-median
(Beasley 1993, "Lagrangean heuristics for location problems", EJOR 65, 383–399; Cornuéjols, Fisher &
Nemhauser 1977), exact, in numpy, without an LP.

**When it applies** (:func:`applies`): the flows are uncoupled once the open set is chosen
(``planner.solver.radius.applies``: no capacity can bind, fixed module counts, no setups, CO2 cap,
unmet limit, service level, proximity or suppliers), and the only constraints on the open set are
forced options and a facility count :math:`\underline p \le \sum_o y_o \le \overline p` (no type
counts, no two options on one site, no capex budget); the pair × option cost table has at most
``MAX_CELLS`` cells.

**Relaxation.** With :math:`w_{od} = c_a q_d` the cost of serving pair :math:`d` from option
:math:`o` (∞ without an arc), :math:`F_o` the fixed cost and :math:`u_d = \pi_d q_d` the cost of
leaving it unmet (∞ if it must be served), relaxing :math:`\sum_o x_{od} + x^u_d = 1` with
multipliers :math:`\lambda_d` gives

.. math::

    L(\lambda) = \sum_d \lambda_d + \sum_d \min(0, u_d - \lambda_d)
        + \min_{y \in Y} \sum_o v_o y_o, \qquad
    v_o = F_o + \sum_d \min(0, w_{od} - \lambda_d)

where :math:`Y` is the set of open sets the node allows (its fixings, the count limits): the
cheapest choice takes the forced and fixed-open options and then the free ones by increasing
:math:`v_o`, as many as the count limits allow and the negative ones ask. :math:`L(\lambda)` is a lower
bound on the node's optimum for every :math:`\lambda`; its best value equals the LP bound of the
classical formulation. It is raised by subgradient steps
(:math:`g_d = 1 - \sum_{o \in y} [w_{od} < \lambda_d] - [u_d < \lambda_d]`, Polyak steps aimed at the
incumbent), each node starting from its parent's best multipliers. At a node with options fixed open
the pair's unmet cost becomes its fallback :math:`u'_d = \min(u_d, \min_{o \text{ fixed open}} w_{od})`
and the multipliers are kept at most :math:`u'` (projected steps, :func:`node_fallback`): the
cheapest fixed-open option counts once per pair instead of every fixed-open option below
:math:`\lambda_d` at once, which never lowers the bound at the same multipliers and keeps the search in
a smaller box (on generated Kratica-type UFL and p-median graphs about 30–60 % fewer nodes).

**Search.** Best-first over nodes that fix options open or closed; each node's relaxed open set is
also evaluated as an open set (every pair on its cheapest open option), which gives the incumbents;
the cheapest set a node considered, where it is within ``LOCAL_WINDOW`` of the incumbent and new, is
improved by vertex substitution (``planner.solver.interchange``: the best add, drop or swap until none
pays; after the root's, the nodes' interchanges take at most ``LOCAL_TIME_SHARE`` of the search's time
so far: on generated p-median graphs of 800 × 10 they had taken 2.4 of its 4.2 s without improving the
root's network, on a Körkel–Ghosh type a UFL 19.8 of 60 s) — with many medians the relaxed sets are
poor networks and the interchange's local optima are what lets the penalty tests fix most options at
the root.
A node is pruned when its bound shows it holds no solution better than the incumbent by the
tolerance :math:`\delta` (:func:`prune_margin`: the relative MIP gap, and where every cost is a
multiple of a grain :math:`g` — integer distances — any better solution is at least :math:`g`
cheaper). Options are fixed at a node by Beasley's penalty tests: the bound with a free option
forced open (one outside the relaxed choice) or forced closed (one in it) follows at the same
multipliers from the sorted values (:func:`flipped_bounds`; with a binding count limit the flip also
moves the last chosen or the next option in or out); where it exceeds :math:`U - \delta`, the option
keeps its relaxed state in every better solution of the node. Branching is on the free option whose
cheap arcs touch the most violated demand rows; where no count limit holds (UFL), only among the tenth
of the free options whose flip raises the bound least (the flipped bounds of the penalty tests: the
options whose state the relaxation decides least firmly). On generated Kratica-type UFL of 200 × 200
(seeds 3, 7, 9, 11, 12) and 300 × 300 (seed 1) that takes 37–54 % fewer nodes (19,339 → 9,933 on seed
3, 25,007 → 11,393 on the 300 × 300; one search, MIP gap 5e-7), on a Körkel–Ghosh type c 33 %. With a
count limit (p-median) a flip is a swap with the last chosen option, and the shortlist took up to 80 %
more nodes on generated p-median graphs, so all free options stay candidates there. The global bound
is the least bound of the open nodes and of every subtree pruned or fixed away (those may hold
solutions cheaper than the incumbent by less than the MIP gap), so a run stopped at its limit, or one
that stops within a MIP gap, reports a valid bound and gap.
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
from planner.problem import Problem
from planner.solver.interchange import improve
from planner.solver.kernels import compiled_cheap_arcs
from planner.solver.outcome import OPTIMAL_GAP, SolveReport, SolverOptions, Status, relative_gap
from planner.solver.radius import applies as flows_uncoupled
from planner.solver.radius import fixed_cost, solution_from_open

logger = logging.getLogger(__name__)

MAX_CELLS = 4_000_000  # options × pairs of the dense cost table
ROOT_ITERATIONS = 1500  # subgradient steps at the root
NODE_ITERATIONS = 30  # and at every other node (15: weaker bounds on Körkel–Ghosh; 60: fewer nodes/s)
SPARSE_SHARE = 0.05  # of the pairs: with more beyond the scan the dense form is faster ...
DENSE_RUN = 50  # ... for this many evaluations, then the sparse one is tried again
SCAN_STEPS = 32  # options per pair stepped through before the rest of the rows is compared at once
STALL_STEPS = 12  # steps without a better bound before the step scale halves
MIN_STEP_SCALE = 1e-4
ROUNDING = 1e-9  # relative: a bound this close to the incumbent's cost proves it
GRAIN_ROUNDING = 1e-6  # in grains: a bound this far above a multiple of the grain is not rounded past it
LOCAL_SEARCH_SHARE = 0.2  # of the time limit: the most one interchange may take
LOCAL_WINDOW = 0.003  # relative: interchanges start from relaxed open sets this close to the incumbent
LOCAL_TIME_SHARE = 0.1  # after the root, node interchanges take at most this share of the search's time
SHORTLIST_SHARE = 0.1  # of the free options: the branching candidates without a count limit (branching_option)
GRAINS = (1.0, 0.1, 0.01, 0.001)  # tried in this order by cost_grain
GRAIN_SLACK = 1e-6  # of the grain: how far a value may lie off a multiple of it (float rounding)


def applies(problem: Problem) -> bool:
    """Uncoupled flows and an open set limited by forced options and facility counts only."""
    if not flows_uncoupled(problem):
        return False
    n_per_type = np.bincount(problem.option_type, minlength=len(problem.type_ids))
    if (problem.type_min_count > 0).any() or (problem.type_max_count < n_per_type).any():
        return False
    if len(np.unique(problem.option_site)) < problem.n_options:
        return False
    return not np.isfinite(problem.capex_budget)


@dataclass(frozen=True)
class DenseCosts:
    """The problem as a dense table: ``cost[o, d]`` = :math:`w_{od}` (∞ without an arc), ``fixed``
    :math:`F_o`, ``unmet`` :math:`u_d` (∞ where the pair must be served), the count limits and the
    forced options."""

    cost: np.ndarray  # (O, D) currency/yr
    fixed: np.ndarray  # (O,) currency/yr
    unmet: np.ndarray  # (D,) currency/yr
    min_open: int
    max_open: int
    forced: np.ndarray  # (O,) bool

    @classmethod
    def of(cls, problem: Problem, index: ModelIndex) -> DenseCosts | None:
        """The table of ``problem`` (None where it would have more than ``MAX_CELLS`` cells, or where a
        pair that must be served has no arc)."""
        if problem.n_options * index.n_pairs > MAX_CELLS:
            return None
        cost = np.full((problem.n_options, index.n_pairs), np.inf)
        np.minimum.at(cost, (problem.arc_option, index.arc_pair), problem.arc_unit_cost * index.arc_demand)
        unmet = np.where(np.isfinite(index.pair_penalty), index.pair_penalty * index.pair_demand, np.inf)
        cost[cost >= unmet[None, :]] = np.inf  # an arc dearer than leaving the pair unmet is never used
        if (~np.isfinite(cost).any(axis=0) & ~np.isfinite(unmet)).any():
            return None  # a pair that must be served and cannot be: the standard route says so
        max_open = problem.n_options if problem.max_facilities is None else min(problem.max_facilities,
                                                                                problem.n_options)
        return cls(cost, fixed_cost(problem).astype(float), unmet, int(problem.min_facilities), int(max_open),
                   problem.forced.copy())

    def open_set_cost(self, is_open: np.ndarray) -> float:
        """Cost of an open set, each pair on its cheapest open option or unmet (∞ if it cannot be): the
        dense-table form of ``radius.open_set_cost``, cheap enough for every subgradient step."""
        best = self.cost[is_open].min(axis=0, initial=np.inf)
        return float(self.fixed[is_open].sum() + np.minimum(best, self.unmet).sum())


def cost_grain(costs: DenseCosts) -> float:
    """The largest of ``GRAINS`` that every finite cost is a multiple of (0.0 if none): then every
    solution's cost is a multiple of it too. Each value is judged on its own: off a multiple by at most
    ``GRAIN_SLACK`` of the grain plus its own float rounding (1e-15 of it). (A tolerance scaled by the
    largest cost had let one prohibitive opening cost of 1e9 make costs such as 0.4321 'multiples of 1':
    the search then pruned within a whole unit of its incumbent and called a network 0.43 % dearer than
    the optimum optimal, its bound above the optimum.)"""
    values = np.concatenate([costs.cost[np.isfinite(costs.cost)], costs.fixed, costs.unmet[np.isfinite(costs.unmet)]])
    for grain in GRAINS:
        steps = values / grain
        if (np.abs(steps - np.round(steps)) <= GRAIN_SLACK + 1e-15 * np.abs(steps)).all():
            return grain
    return 0.0


def prune_margin(upper: float, mip_gap: float | None, grain: float) -> float:
    """δ: a node whose bound exceeds ``upper`` − δ holds no solution worth finding (see the module);
    at least ``ROUNDING`` × |upper|, the rounding a bound equal to the incumbent's cost may carry."""
    by_gap = max(mip_gap or 0.0, ROUNDING) * abs(upper)
    by_grain = grain - 1e-9 * max(abs(upper), 1.0) if grain > 0 else 0.0
    return max(by_gap, by_grain)


@dataclass
class Node:
    """Options fixed open (1), closed (0) or free (−1), the node's bound and its best multipliers."""

    fixing: np.ndarray  # (O,) int8
    bound: float
    multipliers: np.ndarray  # (D,)


@dataclass
class Evaluation:
    bound: float
    chosen: np.ndarray  # (O,) bool: the relaxed open set (empty where the node allows none)
    values: np.ndarray  # (O,) v_o
    subgradient: np.ndarray  # (D,)
    feasible: bool


class Relaxation:
    r"""Evaluates :math:`L(\lambda)` at a node (see the module).

    Only the arcs with :math:`w_{od} < \lambda_d` count in :math:`v_o`; with each pair's options sorted
    by cost (once) they are a prefix of its row, found by stepping along the rows while any pair still
    has a cheaper option (``SCAN_STEPS``, then by comparison over the rest of the rows): the work
    follows the number of such arcs, a few per pair near the optimal multipliers, not the table. Where
    many pairs have more than ``SCAN_STEPS`` such arcs (few medians) the dense form is faster and is
    used for the next ``DENSE_RUN`` evaluations."""

    def __init__(self, costs: DenseCosts) -> None:
        self.costs = costs
        self.order = np.argsort(costs.cost, axis=0, kind="stable").T  # (D, O) options by cost per pair
        self.sorted = np.take_along_axis(costs.cost.T, self.order, axis=1)  # (D, O) their costs
        self.dense_left = 0  # evaluations left in the dense form before the sparse one is tried again
        self.buffer: np.ndarray | None = None  # (O, D) the dense form's reduced costs, reused
        self.compiled = compiled_cheap_arcs(self.order, self.sorted, costs.fixed)  # None: the numpy forms

    def cheap_counts(self, multipliers: np.ndarray) -> np.ndarray | None:
        """(D,) how many options serve each pair for less than its multiplier; None where more than
        ``SPARSE_SHARE`` of the pairs have more than ``SCAN_STEPS`` such options."""
        n_pairs, n_options = self.sorted.shape
        counts = np.zeros(n_pairs, dtype=np.int64)
        rows = np.arange(n_pairs)
        for step in range(min(SCAN_STEPS, n_options)):
            rows = rows[self.sorted[rows, step] < multipliers[rows]]
            if not len(rows):
                return counts
            counts[rows] += 1
        if n_options > SCAN_STEPS:
            if len(rows) > SPARSE_SHARE * n_pairs:
                return None  # many pairs have more cheap options than the scan: the dense form is faster
            counts[rows] += (self.sorted[rows, SCAN_STEPS:] < multipliers[rows, None]).sum(axis=1)
        return counts

    def evaluate(self, multipliers: np.ndarray, fixing: np.ndarray, fallback: np.ndarray | None = None) -> Evaluation:
        """L(λ) at a node; the options it fixes closed have :math:`v_o = ∞`. ``fallback`` (D,): the
        node's :math:`u'_d` (see :func:`node_fallback`; default the unmet costs)."""
        costs = self.costs
        fallback = costs.unmet if fallback is None else fallback
        if self.compiled is not None:  # both forms' work in one compiled walk along the cost order
            values = self.compiled.values(multipliers, fixing != 0)
            return self._evaluation(multipliers, fixing, values, fallback,
                                    lambda chosen: self.compiled.chosen_counts(multipliers, chosen))
        if self.dense_left > 0:
            self.dense_left -= 1
            return self.evaluate_dense(multipliers, fixing, fallback)
        counts = self.cheap_counts(multipliers)
        if counts is None:
            self.dense_left = DENSE_RUN
            return self.evaluate_dense(multipliers, fixing, fallback)
        pairs = np.repeat(np.arange(len(counts)), counts)
        ranks = np.arange(len(pairs)) - np.repeat(np.cumsum(counts) - counts, counts)
        options = self.order[pairs, ranks]
        reduced = self.sorted[pairs, ranks] - multipliers[pairs]
        values = costs.fixed + np.bincount(options, weights=reduced, minlength=len(costs.fixed))
        values[fixing == 0] = np.inf
        return self._evaluation(multipliers, fixing, values, fallback,
                                lambda chosen: np.bincount(pairs[chosen[options]], minlength=len(multipliers)))

    def evaluate_dense(self, multipliers: np.ndarray, fixing: np.ndarray, fallback: np.ndarray) -> Evaluation:
        """:meth:`evaluate` over the whole table (where many arcs are cheaper than the multipliers)."""
        costs = self.costs
        if self.buffer is None:
            self.buffer = np.empty_like(costs.cost)
        active = np.flatnonzero(fixing != 0)  # deep in the tree most options are fixed closed: their rows are skipped
        reduced = self.buffer[: len(active)]  # in place: no new table per call
        np.take(costs.cost, active, axis=0, out=reduced)
        np.subtract(reduced, multipliers[None, :], out=reduced)
        np.minimum(reduced, 0.0, out=reduced)
        values = np.full(len(costs.fixed), np.inf)
        values[active] = costs.fixed[active] + reduced.sum(axis=1)
        return self._evaluation(multipliers, fixing, values, fallback,
                                lambda chosen: (reduced[chosen[active]] < 0).sum(axis=0))

    def _evaluation(self, multipliers, fixing, values, fallback, cheap_arcs_chosen) -> Evaluation:
        """The relaxed choice at the values :math:`v_o`, the bound and the subgradient;
        ``cheap_arcs_chosen(chosen)``: per pair, the chosen options that serve it below its multiplier."""
        chosen, feasible = self.choose(values, fixing)
        unmet_gain = fallback - multipliers
        bound = float(multipliers.sum() + np.minimum(unmet_gain, 0.0).sum() + values[chosen].sum())
        covered = cheap_arcs_chosen(chosen) + (unmet_gain < 0)
        return Evaluation(bound if feasible else math.inf, chosen, values, 1.0 - covered, feasible)

    def choose(self, values: np.ndarray, fixing: np.ndarray) -> tuple[np.ndarray, bool]:
        """The cheapest open set the node allows at these values, and whether there is one."""
        costs = self.costs
        chosen = fixing == 1
        free = np.flatnonzero(fixing == -1)
        n_open = int(np.count_nonzero(chosen))
        low, high = max(costs.min_open - n_open, 0), costs.max_open - n_open
        if high < 0 or low > len(free):
            return chosen, False
        negative = values[free] < 0
        n_negative = int(np.count_nonzero(negative))
        wanted = min(max(n_negative, low), high)
        if wanted == n_negative:  # the count limits do not bind: every negative one
            chosen[free[negative]] = True
        else:
            chosen[free[np.argsort(values[free], kind="stable")[:wanted]]] = True
        return chosen, True


class BestFirst:
    """The bookkeeping a best-first branch-and-bound shares (a mixin for a dataclass with the fields
    ``best_cost``, ``mip_gap``, ``grain``, ``discarded_bound``, ``queue`` and ``counter``): the prune
    margin, pruning, the bounds of discarded subtrees, the queue and the global bound."""

    def margin(self) -> float:
        return prune_margin(self.best_cost, self.mip_gap, self.grain) if math.isfinite(self.best_cost) else 0.0

    def prunes(self, bound: float) -> bool:
        return math.isfinite(self.best_cost) and bound > self.best_cost - self.margin()

    def discard(self, bound: float) -> None:
        """Note the bound of a subtree left out because it holds nothing better than the incumbent by
        the margin: the global bound must not pass it (with a MIP gap it may hold solutions cheaper
        than the incumbent by less than the gap). With a grain its solutions cost a multiple of the
        grain at least ``bound``, so the bound is rounded up to the grain."""
        if self.grain > 0:
            bound = math.ceil(bound / self.grain - GRAIN_ROUNDING) * self.grain
        self.discarded_bound = min(self.discarded_bound, bound)

    def push(self, node: Node) -> None:
        heapq.heappush(self.queue, (node.bound, next(self.counter), node))

    def global_bound(self) -> float:
        """The least bound of the open nodes and of the discarded subtrees, at most the incumbent's cost."""
        open_bounds = [bound for bound, _, _ in self.queue]
        return min(open_bounds + [self.discarded_bound, self.best_cost])


@dataclass
class Search(BestFirst):
    """The state of one branch-and-bound: incumbent, its cost, the open nodes, counters."""

    costs: DenseCosts
    mip_gap: float | None
    grain: float
    best_open: np.ndarray | None = None
    best_cost: float = math.inf
    discarded_bound: float = math.inf  # the least bound of what pruning and fixing discarded (see discard)
    nodes: int = 0
    start_open: np.ndarray | None = None  # the cheapest set considered since the last local search start
    start_cost: float = math.inf
    searched: set = field(default_factory=set)  # the open sets local searches started from (packed bits)
    local_s: float = 0.0  # seconds spent in local searches
    queue: list = field(default_factory=list)
    counter: itertools.count = field(default_factory=itertools.count)
    outside_bound: float = math.inf  # the least bound of the tree's nodes a partner holds (parallel_bb)

    def global_bound(self) -> float:
        return min(BestFirst.global_bound(self), self.outside_bound)

    def consider(self, is_open: np.ndarray) -> None:
        """Keep ``is_open`` if it is cheaper than the incumbent."""
        if not (self.costs.min_open <= int(is_open.sum()) <= self.costs.max_open):
            return
        cost = self.costs.open_set_cost(is_open)
        if cost < self.best_cost - 1e-12 * max(abs(cost), 1.0):
            self.best_open, self.best_cost = is_open.copy(), cost
        if cost < self.start_cost:
            self.start_open, self.start_cost = is_open.copy(), cost

    def local_search_start(self) -> np.ndarray | None:
        """The cheapest open set considered since the last call, where it is within ``LOCAL_WINDOW`` of
        the incumbent and no local search has started from it yet (then it is noted as started)."""
        is_open, cost = self.start_open, self.start_cost
        self.start_open, self.start_cost = None, math.inf
        if is_open is None or cost > self.best_cost * (1 + LOCAL_WINDOW) + 1e-9:
            return None
        key = np.packbits(is_open).tobytes()
        if key in self.searched:
            return None
        self.searched.add(key)
        return is_open


def raise_bound(search: Search, relaxation: Relaxation, node: Node, iterations: int) -> Evaluation:
    """Subgradient steps at ``node`` from its multipliers (see the module); keeps its best bound and
    multipliers, evaluates every relaxed open set as an incumbent, stops once the node is pruned. The
    multipliers stay at most the node's fallback costs (:func:`node_fallback`), the steps projected."""
    fallback = node_fallback(relaxation.costs, node.fixing)
    multipliers = np.minimum(node.multipliers, fallback)
    best, considered = None, None
    scale, stall = 1.0, 0
    for _ in range(iterations):
        evaluation = relaxation.evaluate(multipliers, node.fixing, fallback)
        if not evaluation.feasible:
            node.bound = math.inf
            return evaluation
        if considered is None or not np.array_equal(evaluation.chosen, considered):
            search.consider(evaluation.chosen)  # the same set as the step before is not costed again
            considered = evaluation.chosen
        if best is None or evaluation.bound > best.bound + 1e-12 * max(abs(evaluation.bound), 1.0):
            best, stall = evaluation, 0
            node.bound, node.multipliers = max(node.bound, evaluation.bound), multipliers.copy()
        else:
            stall += 1
            if stall >= STALL_STEPS:
                scale, stall = scale / 2, 0
        direction = np.where((evaluation.subgradient > 0) & (multipliers >= fallback), 0.0, evaluation.subgradient)
        norm = float(direction @ direction)
        if search.prunes(node.bound) or norm < 1e-12 or scale < MIN_STEP_SCALE:
            break
        target = search.best_cost if math.isfinite(search.best_cost) else evaluation.bound * 1.05 + 1.0
        step = scale * max(target - evaluation.bound, 1e-9 * max(abs(target), 1.0)) / norm
        multipliers = np.minimum(multipliers + step * direction, fallback)
    return best


def node_fallback(costs: DenseCosts, fixing: np.ndarray) -> np.ndarray:
    r"""(D,) :math:`u'_d = \min(u_d, \min_{o \text{ fixed open}} w_{od})`: what serving pair d costs at
    most at the node. With :math:`\lambda_d \le u'_d` the fixed-open options have no arc below the
    multipliers (their :math:`v_o = F_o`) and the pair's own term :math:`\lambda_d + \min(0, u'_d -
    \lambda_d)` counts the cheapest of them once — still a lower bound (the node's problem with
    :math:`u'` as the unmet cost and those options' fixed costs as a constant is the same problem), and
    lowering any :math:`\lambda_d > u'_d` to :math:`u'_d` leaves its own term and can only raise the
    options' values, so the bound never falls: the subgradient searches a smaller box."""
    open_rows = np.flatnonzero(fixing == 1)
    if not len(open_rows):
        return costs.unmet
    return np.minimum(costs.unmet, costs.cost[open_rows].min(axis=0))


def local_search(search: Search, is_open: np.ndarray, time_limit_s: float | None) -> None:
    """The local optimum of vertex substitution from ``is_open`` (``planner.solver.interchange``) as a
    candidate incumbent."""
    started = time.perf_counter()
    before = search.best_cost
    if not (search.costs.min_open <= int(is_open.sum()) <= search.costs.max_open):
        return
    is_open, _, moves = improve(search.costs, is_open, time_limit_s)
    search.consider(is_open)
    search.local_s += time.perf_counter() - started
    logger.info("interchange: %.10g -> %.10g (%d moves, %.2fs)", before, search.best_cost, moves,
                time.perf_counter() - started)


def fix_by_values(search: Search, node: Node, evaluation: Evaluation) -> np.ndarray:
    r"""Fix the free options whose flip could only lead above the incumbent (Beasley's penalty
    tests): closed where the bound with the option forced open exceeds :math:`U - \delta`, open
    where the bound with it forced closed does (:func:`flipped_bounds`: exact at the same
    multipliers). Each subtree left out this way is noted with its bound (``Search.discard``).
    Returns each option's flipped bound (NaN where not free): a lower bound on the node with that
    option flipped, and with more fixed, at any of its descendants."""
    if_opened, if_closed = flipped_bounds(search.costs, node.fixing, evaluation)
    flipped = np.where(np.isnan(if_opened), if_closed, if_opened)
    if not math.isfinite(search.best_cost):
        return flipped
    limit = search.best_cost - search.margin()
    free = node.fixing == -1
    closable = free & ~evaluation.chosen & (if_opened > limit)
    openable = free & evaluation.chosen & (if_closed > limit)
    left_out = np.concatenate([if_opened[closable], if_closed[openable]])
    if np.isfinite(left_out).any():
        search.discard(float(left_out[np.isfinite(left_out)].min()))
    node.fixing[closable] = 0
    node.fixing[openable] = 1
    return flipped


def flipped_bounds(costs: DenseCosts, fixing: np.ndarray, evaluation: Evaluation) -> tuple[np.ndarray, np.ndarray]:
    r"""(O,) each: :math:`L(\lambda)` at the node with a free option forced open (for those outside the
    relaxed choice) and with a free option forced closed (for those in it), at the evaluation's
    multipliers; ∞ where the node then allows no open set, NaN for the other options.

    :meth:`Relaxation.choose` takes the first :math:`k = \mathrm{clip}(n^-, l, h)` free options by
    value (:math:`n^-` of them negative, :math:`l, h` the count limits left). Forcing a free option o
    open that is not among them leaves the first :math:`k' = \mathrm{clip}(n^- - [v_o < 0], l - 1,
    h - 1) \le k` of the others: :math:`L - S_k + v_o + S_{k'}` (:math:`S_j` the sum of the first j
    values). Forcing a chosen one closed, at position i: :math:`k'' = \mathrm{clip}(n^- - [v_o < 0], l,
    h)` of the others, whose sum is :math:`S_{k''}` if :math:`k'' \le i`, else :math:`S_{k''+1} - v_o`."""
    n = len(fixing)
    if_opened, if_closed = np.full(n, np.nan), np.full(n, np.nan)
    free = np.flatnonzero(fixing == -1)
    if not len(free):
        return if_opened, if_closed
    values = evaluation.values
    n_fixed_open = int((fixing == 1).sum())
    low, high = max(costs.min_open - n_fixed_open, 0), costs.max_open - n_fixed_open
    ranked = free[np.argsort(values[free], kind="stable")]
    prefix = np.concatenate([[0.0], np.cumsum(values[ranked])])
    k = int((evaluation.chosen[free]).sum())
    negative_others = int((values[free] < 0).sum()) - (values[ranked] < 0)
    position = np.arange(len(ranked))
    out, chosen = ranked[position >= k], ranked[position < k]
    k_in = np.clip(negative_others[position >= k], max(low - 1, 0), high - 1)
    bound_in = evaluation.bound - prefix[k] + values[out] + prefix[np.maximum(k_in, 0)]
    if_opened[out] = bound_in if high >= 1 else np.inf  # with no room for one more, none can be forced open
    k_out = np.clip(negative_others[position < k], low, high)
    feasible = low <= len(free) - 1
    kept = np.where(k_out <= position[position < k], prefix[np.minimum(k_out, len(ranked))],
                    prefix[np.minimum(k_out + 1, len(ranked))] - values[chosen])
    if_closed[chosen] = evaluation.bound - prefix[k] + kept if feasible else np.inf
    return if_opened, if_closed


def branching_option(node: Node, evaluation: Evaluation, costs: DenseCosts, multipliers: np.ndarray,
                     flipped: np.ndarray) -> int | None:
    """The free option whose cheap arcs (:math:`w_{od} < \\lambda_d`) touch the most violated rows
    (:math:`|g_d|`), among all free options where a count limit holds, else among the
    ``SHORTLIST_SHARE`` of them whose flipped bound (``flipped``, :func:`fix_by_values`) is least: the
    options whose state the relaxation decides least firmly. None when every option is fixed."""
    free = np.flatnonzero(node.fixing == -1)
    if not len(free):
        return None
    cheap = costs.cost[free] < multipliers[None, :]
    score = (cheap * np.abs(evaluation.subgradient)[None, :]).sum(axis=1)
    if costs.min_open > 0 or costs.max_open < len(costs.fixed):  # a flip is then a swap with the last chosen
        return int(free[np.argmax(score)])
    shortlist = np.argsort(flipped[free], kind="stable")[: max(1, round(SHORTLIST_SHARE * len(free)))]
    return int(free[shortlist[np.argmax(score[shortlist])]])


def root_node(costs: DenseCosts) -> Node:
    """The root: the forced options open, the rest free, each multiplier at its pair's cheapest option."""
    initial = np.minimum(costs.cost.min(axis=0, initial=np.inf), costs.unmet)
    initial[~np.isfinite(initial)] = 0.0
    return Node(np.where(costs.forced, 1, -1).astype(np.int8), -math.inf, initial)


def branch_and_bound(
    costs: DenseCosts, options: SolverOptions, time_limit_s: float | None, start: np.ndarray | None = None,
    rival=None, seeds: list[Node] | None = None,
) -> Search:
    """Best-first branch-and-bound on ``costs`` within ``time_limit_s``; the search as it ended
    (queue empty: the incumbent is optimal within the prune margin). ``rival``
    (``planner.solver.race.Rival``, ``planner.solver.parallel_bb.Partner``), if given, is asked after
    every node whether the search may stop, and for more nodes when the queue runs empty (``refill``).
    ``seeds``: nodes to start from instead of the root (a partner's share of its tree)."""
    started = time.perf_counter()
    search = Search(costs, options.mip_gap, cost_grain(costs))
    if start is not None:
        search.consider(np.asarray(start, bool))
    relaxation = Relaxation(costs)
    for node in seeds if seeds is not None else [root_node(costs)]:
        search.push(node)
    first = seeds is None
    local_budget = None if time_limit_s is None else LOCAL_SEARCH_SHARE * time_limit_s
    while search.queue or (rival is not None and rival.refill(search)):
        if search.nodes and time_limit_s is not None and time.perf_counter() - started > time_limit_s:
            break  # the root is always solved: its relaxed open set is the first incumbent
        if search.nodes and rival is not None and rival.decides(search):
            break
        raise_if_stopped()
        bound, _, node = heapq.heappop(search.queue)
        if search.prunes(bound):
            search.discard(bound)
            continue
        search.nodes += 1
        evaluation = raise_bound(search, relaxation, node, ROOT_ITERATIONS if first else NODE_ITERATIONS)
        if first and evaluation.feasible:
            logger.info("root bound %.10g", node.bound)
        local_start = search.local_search_start()
        if local_start is not None and (first or search.local_s <= LOCAL_TIME_SHARE * (time.perf_counter() - started)):
            local_search(search, local_start, local_budget)
        first = False
        if not evaluation.feasible:
            continue
        if search.prunes(node.bound):
            search.discard(node.bound)
            continue
        flipped = fix_by_values(search, node, evaluation)
        if search.nodes == 1:
            logger.info("root: %d free after the penalty tests", int((node.fixing == -1).sum()))
        option = branching_option(node, evaluation, costs, node.multipliers, flipped)
        if option is None:
            search.consider(relaxation.choose(evaluation.values, node.fixing)[0])
            continue
        for value in (1, 0):
            fixing = node.fixing.copy()
            fixing[option] = value
            flips = value != evaluation.chosen[option]  # the child against the relaxed state
            search.push(Node(fixing, max(node.bound, flipped[option]) if flips else node.bound, node.multipliers))
    return search


def solve_lagrangian_bb(
    problem: Problem, index: ModelIndex, options: SolverOptions, time_limit_s: float | None,
    start: np.ndarray | None = None, rival=None,
):
    """The branch-and-bound on ``problem`` (it must :func:`applies`): (report, solution, proven);
    ``proven`` False where the time ran out first or ``rival`` stopped it (the report then has the
    global bound). None where the table would be too large or no open set was found."""
    costs = DenseCosts.of(problem, index)
    if costs is None:
        return None
    started = time.perf_counter()
    search = branch_and_bound(costs, options, time_limit_s, start, rival)
    seconds = time.perf_counter() - started
    if search.best_open is None or not math.isfinite(search.best_cost):
        return None
    report, proven = search_report(search, options, seconds, "Lagrangian branch-and-bound")
    return report, solution_from_open(problem, index, search.best_open.astype(int)), proven


def search_report(search: BestFirst, options: SolverOptions, seconds: float, name: str,
                  proven: bool | None = None) -> tuple[SolveReport, bool]:
    """(the report of a finished or stopped search, proven): proven where no node is left open
    (optimal, or ``gap_limit`` where the margin left a gap above ``OPTIMAL_GAP``), else ``time_limit``
    with the global bound; the solver is "planner " + ``name``. ``proven`` given: the caller knows
    (a search that shares its tree with a partner)."""
    proven = not search.queue if proven is None else proven
    bound = search.global_bound()
    status = Status.OPTIMAL if proven else Status.TIME_LIMIT
    gap = relative_gap(search.best_cost, bound)
    if status is Status.OPTIMAL and gap is not None and gap > OPTIMAL_GAP:
        status = Status.GAP_LIMIT
    termination = "search complete" if proven else "time limit reached"
    logger.info("%s: %s, cost %.10g, bound %.10g, %d nodes (%.2fs)", name, termination,
                search.best_cost, bound, search.nodes, seconds)
    report = SolveReport.of(status, termination, search.best_cost, bound, options.mip_gap,
                            f"planner {name}", solve_s=seconds, nodes=search.nodes)
    return report, proven
