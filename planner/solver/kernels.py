r"""Compiled inner loops (numba) of the Lagrangian relaxations: each node of a branch-and-bound
evaluates its relaxation about 30 times, and these loops are that evaluation's work.

**Capacitated** (``planner.solver.capacitated_bb``): the per-option continuous knapsacks. For every
allowed option :math:`o`, with :math:`r_{od} = w_{od}/q_d - \lambda_d/q_d` its arcs' reduced costs per
unit,

.. math::

    k_o = \min \Big\{ \sum_d q_d r_{od} x_{od} : \sum_d q_d x_{od} \le C_o,\ 0 \le x \le 1 \Big\},

filled greedily: the arcs with :math:`r_{od} < 0` in ascending order of :math:`r_{od}` until
:math:`C_o` is used up (the last one in part). :func:`_knapsacks` returns :math:`k` and the arcs the
knapsacks take, with their shares :math:`x_{od}`, exactly what the numpy route of
``capacitated_bb.Relaxation.option_values`` computes (ties in :math:`r` may be taken in another order,
at the same value): 0.13 ms for 100 × 1,000 against 0.41 ms for the numpy route, which sorts every
attractive arc in one array (the whole evaluation: 0.17 ms against 0.44 ms).

**Uncoupled** (``planner.solver.lagrangian_bb``: UFL, p-median): :math:`v_o = F_o + \sum_d \min(0,
w_{od} - \lambda_d)` and, for the chosen options, how many serve each pair below its multiplier; both
walk each pair's options in cost order (sorted once) while they are cheaper than its multiplier
(:func:`_cheap_values`, :func:`_cheap_chosen`), so the work is the number of such arcs.

numba compiles a loop on first use and keeps the machine code in ``__pycache__`` (or numba's cache
folder where the package's is read-only), so later runs and the branch-and-bound's second process
load it. Where numba cannot be imported, or ``PLANNER_NO_JIT`` is set (to any value but 0), the
functions below return None and the callers keep their numpy routes: same values, slower.
"""

from __future__ import annotations

import logging
import os
from functools import cache

import numpy as np

logger = logging.getLogger(__name__)

INSERTION_SORT_MAX = 64  # arcs: up to this many an option's are sorted by insertion
THRESHOLD_SLACK = 0.15  # the next threshold: the last arc's reduced cost this share nearer to 0 (both routes)


def _knapsacks(dense, starts, arc_pair, arc_unit_cost, demand, capacity, price, allowed, threshold, slack,
               out_option, out_pair, out_share, knapsack):
    """The loop (see the module): fills ``knapsack`` (O,) and the first n of ``out_*`` (the arcs taken);
    returns n. ``starts`` (O + 1,): each option's first arc; ``dense``: the arcs are a full table's
    cells, row by row (arc_pair unread); ``price``: λ_d / q_d; ``threshold`` (O,) ≤ 0: read and moved on."""
    n_taken = 0
    reduced = np.empty(len(demand))
    pairs = np.empty(len(demand), dtype=np.int64)
    for option in range(len(starts) - 1):
        knapsack[option] = 0.0
        if not allowed[option]:
            continue
        below, first = threshold[option], starts[option]
        while True:
            count, held = 0, 0.0
            for arc in range(first, starts[option + 1]):
                pair = arc - first if dense else arc_pair[arc]
                r = arc_unit_cost[arc] - price[pair]
                if r < below:
                    reduced[count], pairs[count] = r, pair
                    held += demand[pair]
                    count += 1
            if below == 0.0 or held >= capacity[option]:
                break
            below = 0.0  # too few arcs below the threshold: all those with r < 0
        full = held > capacity[option]
        if full:  # ascending r: insertion sort in place (a few dozen arcs; no allocation), argsort beyond
            if count <= INSERTION_SORT_MAX:
                for i in range(1, count):
                    r, pair = reduced[i], pairs[i]
                    j = i - 1
                    while j >= 0 and reduced[j] > r:
                        reduced[j + 1], pairs[j + 1] = reduced[j], pairs[j]
                        j -= 1
                    reduced[j + 1], pairs[j + 1] = r, pair
            else:
                order = np.argsort(reduced[:count])
                reduced[:count], pairs[:count] = reduced[:count][order], pairs[:count][order]
        room, total, last = capacity[option], 0.0, 0.0
        for item in range(count):
            pair = pairs[item]
            share = min(room / demand[pair], 1.0)
            if share <= 0.0:
                break
            out_option[n_taken], out_pair[n_taken], out_share[n_taken] = option, pair, share
            n_taken += 1
            total += share * demand[pair] * reduced[item]
            room -= demand[pair]
            last = reduced[item]
        knapsack[option] = total
        threshold[option] = last * (1.0 - slack) if full else 0.0
    return n_taken


def _cheap_values(order, sorted_cost, multipliers, fixed, allowed, values):
    """v_o (see the module) into ``values`` (O,), ∞ where not ``allowed``; ``order``/``sorted_cost`` (D, O):
    each pair's options and their costs, cheapest first."""
    values[:] = 0.0
    for pair in range(order.shape[0]):
        price = multipliers[pair]
        for rank in range(order.shape[1]):
            cost = sorted_cost[pair, rank]
            if not cost < price:
                break
            values[order[pair, rank]] += cost - price
    for option in range(len(values)):
        values[option] = fixed[option] + values[option] if allowed[option] else np.inf


def _cheap_chosen(order, sorted_cost, multipliers, chosen, counts):
    """Per pair, the ``chosen`` options that serve it below its multiplier, into ``counts`` (D,)."""
    for pair in range(order.shape[0]):
        price, count = multipliers[pair], 0
        for rank in range(order.shape[1]):
            if not sorted_cost[pair, rank] < price:
                break
            count += chosen[order[pair, rank]]
        counts[pair] = count


LOOPS = {"knapsacks": _knapsacks, "cheap_values": _cheap_values, "cheap_chosen": _cheap_chosen}


@cache
def _kernel(name: str = "knapsacks"):
    """The compiled loop ``name`` (of ``LOOPS``), or None (numba missing or turned off)."""
    if os.environ.get("PLANNER_NO_JIT", "0") not in ("", "0"):
        return None
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency; a platform without its wheels falls back
        logger.info("numba is not available: the relaxations run in numpy")
        return None
    try:
        return numba.njit(cache=True, nogil=True)(LOOPS[name])
    except RuntimeError:  # no folder to cache in (a read-only package and home): compiled in every run
        return numba.njit(nogil=True)(LOOPS[name])


class CompiledKnapsacks:
    """The knapsacks of one table's arcs (flat, sorted by option): :meth:`solve` per evaluation."""

    def __init__(self, kernel, arc_option: np.ndarray, arc_pair: np.ndarray, arc_unit_cost: np.ndarray,
                 demand: np.ndarray, capacity: np.ndarray, table: np.ndarray | None) -> None:
        n_options = len(capacity)
        self.kernel = kernel
        self.dense = table is not None  # the table's cells as the arcs: no pair index to read (2.7× faster)
        if self.dense:
            arc_option = np.repeat(np.arange(n_options), table.shape[1])
            arc_pair, arc_unit_cost = np.zeros(0, dtype=np.int64), table.ravel()
        self.starts = np.searchsorted(arc_option, np.arange(n_options + 1)).astype(np.int64)
        self.arc_pair = np.ascontiguousarray(arc_pair, dtype=np.int64)
        self.arc_unit_cost = np.ascontiguousarray(arc_unit_cost, dtype=float)
        self.demand = np.ascontiguousarray(demand, dtype=float)
        self.capacity = np.ascontiguousarray(capacity, dtype=float)
        self.out_option = np.empty(len(self.arc_unit_cost), dtype=np.int64)
        self.out_pair = np.empty(len(self.arc_unit_cost), dtype=np.int64)
        self.out_share = np.empty(len(self.arc_unit_cost))
        self.knapsack = np.empty(n_options)
        self.threshold = np.zeros(n_options)  # moved on by every call (see _knapsacks)

    def solve(self, price: np.ndarray, allowed: np.ndarray):
        """(k, (option, pair, share)): each option's knapsack value (0 where not allowed) and the arcs
        taken; fresh arrays (the buffers are reused by the next call)."""
        n_taken = self.kernel(self.dense, self.starts, self.arc_pair, self.arc_unit_cost, self.demand, self.capacity,
                              np.ascontiguousarray(price, dtype=float), np.ascontiguousarray(allowed, dtype=np.bool_),
                              self.threshold, THRESHOLD_SLACK, self.out_option, self.out_pair, self.out_share,
                              self.knapsack)
        return self.knapsack.copy(), (self.out_option[:n_taken].copy(), self.out_pair[:n_taken].copy(),
                                      self.out_share[:n_taken].copy())


def compiled_knapsacks(arc_option: np.ndarray, arc_pair: np.ndarray, arc_unit_cost: np.ndarray, demand: np.ndarray,
                       capacity: np.ndarray, table: np.ndarray | None = None) -> CompiledKnapsacks | None:
    """The compiled knapsacks over these arcs (sorted by option, then pair), or None without numba (see the
    module). ``table``: the same unit costs as a dense (O, D) table (∞ without an arc), read instead of the
    arcs where given (a mostly dense table)."""
    kernel = _kernel()
    if kernel is None:
        return None
    return CompiledKnapsacks(kernel, arc_option, arc_pair, arc_unit_cost, demand, capacity, table)


class CompiledCheapArcs:
    """The uncoupled relaxation's two loops over one table's cost order (see the module)."""

    def __init__(self, values_loop, chosen_loop, order: np.ndarray, sorted_cost: np.ndarray,
                 fixed: np.ndarray) -> None:
        self.values_loop, self.chosen_loop = values_loop, chosen_loop
        self.order = np.ascontiguousarray(order, dtype=np.int64)
        self.sorted_cost = np.ascontiguousarray(sorted_cost, dtype=float)
        self.fixed = np.ascontiguousarray(fixed, dtype=float)

    def values(self, multipliers: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        """(O,) v_o, ∞ where not ``allowed``."""
        values = np.empty(len(self.fixed))
        self.values_loop(self.order, self.sorted_cost, np.ascontiguousarray(multipliers, dtype=float), self.fixed,
                         np.ascontiguousarray(allowed, dtype=np.bool_), values)
        return values

    def chosen_counts(self, multipliers: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        """(D,) per pair, the chosen options cheaper than its multiplier."""
        counts = np.empty(len(self.order), dtype=np.int64)
        self.chosen_loop(self.order, self.sorted_cost, np.ascontiguousarray(multipliers, dtype=float),
                         np.ascontiguousarray(chosen, dtype=np.int64), counts)
        return counts


def compiled_cheap_arcs(order: np.ndarray, sorted_cost: np.ndarray, fixed: np.ndarray) -> CompiledCheapArcs | None:
    """The uncoupled relaxation's compiled loops over ``order``/``sorted_cost`` (D, O: each pair's options,
    cheapest first, and their costs, ∞ without an arc), or None without numba."""
    values_loop, chosen_loop = _kernel("cheap_values"), _kernel("cheap_chosen")
    if values_loop is None or chosen_loop is None:
        return None
    return CompiledCheapArcs(values_loop, chosen_loop, order, sorted_cost, fixed)
