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
at the same value, and sums may round in another order): 0.13 ms for 100 × 1,000 against 0.41 ms for
the numpy route, which sorts every attractive arc in one array. Only the arcs up to where the fill
ends need finding, not sorting (:func:`_select`): 0.20 → 0.12 ms a call (generated 100 × 1,000,
ratio 5, seed 103), of which the scan of the option's row is 0.06 ms. The subgradient steps' whole
evaluation (the covering knapsack's LP relaxation and the subgradient after the knapsacks) is one
call, :func:`_fractional`, instead of about 20 numpy calls and copies round the kernel: 0.27 →
0.14 ms an evaluation, and 96 → 188 nodes/s in the branch-and-bound of that instance (160 → 318
for ratio 3, seed 2; one thread, from the optimum).

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
import types
from functools import cache

import numpy as np

logger = logging.getLogger(__name__)

SELECT_SORT_MAX = 16  # arcs: a range of at most this many is sorted by insertion instead of partitioned (_select)
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
        if full:  # the fill ends among these arcs: they need not be sorted, only selected (_select)
            _select(reduced, pairs, demand, count, capacity[option])
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


def _select(reduced, pairs, demand, count, room):
    """Reorders the first ``count`` arcs (``reduced``, ``pairs``; at least ``room`` of demand in all) so
    that the greedy fill by ascending r, run over them in their new order, takes the same arcs: those
    ahead of the fill's end (less demand than ``room`` in all, each below every later one) in any order,
    the range where it ends sorted, the rest after it. Partitions three ways round a median of three
    (quickselect, weighted by demand) until the range is at most ``SELECT_SORT_MAX`` arcs or one value,
    then sorts that by insertion: linear on average where sorting every arc below the threshold (about
    60 an option on 100 × 1,000) by insertion took most of the kernel's time."""
    low, high = 0, count
    while high - low > SELECT_SORT_MAX:
        a, b, c = reduced[low], reduced[(low + high) // 2], reduced[high - 1]
        pivot = max(min(a, b), min(max(a, b), c))
        less, item, greater, held, equal = low, low, high, 0.0, 0.0
        while item < greater:  # [low, less) < pivot, [less, item) = pivot, [greater, high) > pivot
            r, pair = reduced[item], pairs[item]
            if r < pivot:
                reduced[item], pairs[item] = reduced[less], pairs[less]
                reduced[less], pairs[less] = r, pair
                held += demand[pair]
                less += 1
                item += 1
            elif r > pivot:
                greater -= 1
                reduced[item], pairs[item] = reduced[greater], pairs[greater]
                reduced[greater], pairs[greater] = r, pair
            else:
                equal += demand[pair]
                item += 1
        if held >= room:
            high = less
        elif held + equal >= room:  # the fill ends among arcs of one value: any order
            return
        else:
            room -= held + equal
            low = greater
    for i in range(low + 1, high):
        r, pair = reduced[i], pairs[i]
        j = i - 1
        while j >= low and reduced[j] > r:
            reduced[j + 1], pairs[j + 1] = reduced[j], pairs[j]
            j -= 1
        reduced[j + 1], pairs[j + 1] = r, pair


def _fractional(dense, starts, arc_pair, arc_unit_cost, demand, capacity, threshold, slack, out_option, out_pair,
                out_share, knapsack, fixed, unmet, units, need_units, multipliers, fixing):
    """``capacitated_bb.Relaxation.evaluate`` with the covering knapsack's LP relaxation, in one call:
    (bound, v_o, y_o, subgradient) from :func:`_knapsacks`, :func:`_cover_shares` and :func:`_served`
    (``fixing``: 1 open, 0 closed, −1 free; ``units``, ``need_units``: the covering knapsack's)."""
    price = np.empty(len(demand))
    for pair in range(len(demand)):
        price[pair] = multipliers[pair] / demand[pair]
    allowed = fixing != 0
    n_taken = _knapsacks(dense, starts, arc_pair, arc_unit_cost, demand, capacity, price, allowed, threshold, slack,
                         out_option, out_pair, out_share, knapsack)
    values = np.empty(len(fixed))
    for option in range(len(fixed)):
        values[option] = fixed[option] + knapsack[option] if allowed[option] else np.inf
    open_share = np.empty(len(fixed))
    choice = _cover_shares(values, fixing, units, need_units, open_share)
    subgradient = np.empty(len(demand))
    base = _served(out_option[:n_taken], out_pair[:n_taken], out_share[:n_taken], open_share, multipliers, unmet,
                   subgradient)
    return base + choice, values, open_share, subgradient


def _cover_shares(values, fixing, units, need_units, share):
    """``capacitated_bb.CoverKnapsack.fractional``: fills ``share`` (y_o) and returns Σ v y (∞ where the
    free options cannot cover the deficit); the same stable order by v_o / units_o, so the same shares."""
    total, deficit, count, spare = 0.0, need_units, 0, 0
    items = np.empty(len(values), dtype=np.int64)
    for option in range(len(values)):
        share[option] = 0.0
        if fixing[option] == 1 or (fixing[option] == -1 and values[option] < 0):
            share[option] = 1.0
            total += values[option]
            deficit -= units[option]
        elif fixing[option] == -1:
            items[count] = option
            count += 1
            spare += units[option]
    if deficit <= 0:
        return total
    if spare < deficit:  # the shares of the mandatory options only, as the numpy route's
        return np.inf
    ratio = np.empty(count)
    for item in range(count):
        ratio[item] = values[items[item]] / units[items[item]]
    held = 0
    for item in np.argsort(ratio, kind="mergesort"):
        option = items[item]
        if held + units[option] >= deficit:
            share[option] = (deficit - held) / units[option]
            return total + values[option] * share[option]
        share[option], held = 1.0, held + units[option]
        total += values[option]
    return np.inf


def _served(option, pair, share, open_share, multipliers, unmet, subgradient):
    """The subgradient g_d = 1 − Σ_o y_o x_od − [u_d < λ_d] into ``subgradient`` (summed in the arcs'
    order, as ``np.bincount``); returns Σ_d λ_d + min(0, u_d − λ_d)."""
    subgradient[:] = 0.0
    for arc in range(len(option)):
        subgradient[pair[arc]] += share[arc] * open_share[option[arc]]
    base = 0.0
    for item in range(len(multipliers)):
        gain = unmet[item] - multipliers[item]
        base += multipliers[item] + min(gain, 0.0)
        subgradient[item] = 1.0 - subgradient[item] - (1.0 if gain < 0 else 0.0)
    return base


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


LOOPS = {"knapsacks": _knapsacks, "select": _select, "fractional": _fractional, "cover_shares": _cover_shares,
         "served": _served, "cheap_values": _cheap_values, "cheap_chosen": _cheap_chosen}
CALLS = {"knapsacks": ("select",), "fractional": ("knapsacks", "cover_shares", "served")}  # (as ``_`` + name)


@cache
def _kernel(name: str = "knapsacks"):
    """The compiled loop ``name`` (of ``LOOPS``), or None (numba missing or turned off). A loop that calls
    others (``CALLS``) is compiled over its module's globals with those compiled in their place: numba
    resolves a call by the global's value, and the module keeps the plain functions (no numba on import)."""
    if os.environ.get("PLANNER_NO_JIT", "0") not in ("", "0"):
        return None
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency; a platform without its wheels falls back
        logger.info("numba is not available: the relaxations run in numpy")
        return None
    loop = LOOPS[name]
    if name in CALLS:
        called = {"_" + callee: _kernel(callee) for callee in CALLS[name]}
        loop = types.FunctionType(loop.__code__, {**loop.__globals__, **called}, loop.__name__, loop.__defaults__)
    try:
        return numba.njit(cache=True, nogil=True)(loop)
    except RuntimeError:  # no folder to cache in (a read-only package and home): compiled in every run
        return numba.njit(nogil=True)(loop)


class CompiledKnapsacks:
    """The knapsacks of one table's arcs (flat, sorted by option): :meth:`solve` per evaluation."""

    def __init__(self, kernel, arc_option: np.ndarray, arc_pair: np.ndarray, arc_unit_cost: np.ndarray,
                 demand: np.ndarray, capacity: np.ndarray, table: np.ndarray | None, fractional_kernel=None) -> None:
        n_options = len(capacity)
        self.kernel, self.fractional_kernel = kernel, fractional_kernel
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

    def fractional(self, multipliers: np.ndarray, fixing: np.ndarray, fixed: np.ndarray, unmet: np.ndarray,
                   units: np.ndarray, need_units: int) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """(bound, v_o, y_o, subgradient) of the evaluation with the covering knapsack's LP relaxation
        (see :func:`_fractional`); fresh arrays."""
        return self.fractional_kernel(self.dense, self.starts, self.arc_pair, self.arc_unit_cost, self.demand,
                                      self.capacity, self.threshold, THRESHOLD_SLACK, self.out_option, self.out_pair,
                                      self.out_share, self.knapsack, fixed, unmet, units, need_units,
                                      np.ascontiguousarray(multipliers, dtype=float),
                                      np.ascontiguousarray(fixing, dtype=np.int8))


def compiled_knapsacks(arc_option: np.ndarray, arc_pair: np.ndarray, arc_unit_cost: np.ndarray, demand: np.ndarray,
                       capacity: np.ndarray, table: np.ndarray | None = None) -> CompiledKnapsacks | None:
    """The compiled knapsacks over these arcs (sorted by option, then pair), or None without numba (see the
    module). ``table``: the same unit costs as a dense (O, D) table (∞ without an arc), read instead of the
    arcs where given (a mostly dense table)."""
    kernel, fractional_kernel = _kernel(), _kernel("fractional")
    if kernel is None or fractional_kernel is None:
        return None
    return CompiledKnapsacks(kernel, arc_option, arc_pair, arc_unit_cost, demand, capacity, table, fractional_kernel)


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
