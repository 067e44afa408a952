r"""Vertex-substitution local search on open sets of uncoupled problems (UFL, p-median): the
interchange of Teitz & Bart (1968) with the fast swap evaluation of Whitaker (1983) in the matrix
form of Resende & Werneck (2007, "A fast swap-based local search procedure for location problems",
Annals of OR 150, 205–230), in numpy on the dense cost table of ``planner.solver.lagrangian_bb``.

Each pair :math:`d` is served by its cheapest open option or left unmet (an always-open pseudo option
of cost :math:`u_d`, ∞ where it must be served); :math:`c^1_d \le c^2_d` are its cheapest and second
cheapest of these, :math:`r(d)` the option of :math:`c^1_d` (none where unmet). With :math:`w_{od}` the
cost of serving :math:`d` from :math:`o` and :math:`F_o` the fixed cost, the change of the cost when

* option :math:`i` opens: :math:`\Delta^+_i = F_i + \sum_d \min(0, w_{id} - c^1_d)`;
* option :math:`r` closes: :math:`\Delta^-_r = -F_r + \sum_{d: r(d) = r} (c^2_d - c^1_d)`;
* :math:`i` opens and :math:`r` closes (a swap):
  :math:`\Delta_{ir} = F_i - F_r + \sum_d \min(0, w_{id} - c^1_d)
  + \sum_{d: r(d) = r} \max(0, \min(w_{id}, c^2_d) - c^1_d)`,

all exact. Each step makes the best move of the three kinds the count limits allow (forced options
never close, options fixed closed never open) until none lowers the cost: a local optimum. A swap
step costs :math:`O(|\text{candidates}| \cdot |D|)` numpy operations.
"""

from __future__ import annotations

import math
import time
from typing import Protocol

import numpy as np

from planner.interrupt import raise_if_stopped

IMPROVEMENT = 1e-9  # relative: a move must lower the cost by more than this to be made


class OpenSetCosts(Protocol):
    """What the search needs of a cost table: ``cost`` (O, D) currency/yr, ∞ without an arc; ``fixed``
    (O,); ``unmet`` (D,), ∞ where the pair must be served; ``min_open``, ``max_open``; ``forced`` (O,)
    bool. ``planner.solver.lagrangian_bb.DenseCosts`` has this shape."""

    cost: np.ndarray
    fixed: np.ndarray
    unmet: np.ndarray
    min_open: int
    max_open: int
    forced: np.ndarray


def serving(costs: OpenSetCosts, is_open: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first, second, closest): per pair the cheapest and second cheapest cost among the open options
    and leaving it unmet, and the open option of the cheapest (-1 where unmet is the cheapest)."""
    opened = np.flatnonzero(is_open)
    table = np.vstack([costs.cost[opened], costs.unmet[None, :]])
    labels = np.append(opened, -1)
    if len(table) == 1:
        return table[0].copy(), np.full(table.shape[1], np.inf), np.full(table.shape[1], -1)
    two = np.argpartition(table, 1, axis=0)[:2]
    columns = np.arange(table.shape[1])
    first_at, second_at = two[0], two[1]
    swap = table[second_at, columns] < table[first_at, columns]
    first_at, second_at = np.where(swap, second_at, first_at), np.where(swap, first_at, second_at)
    return table[first_at, columns], table[second_at, columns], labels[first_at]


def open_set_cost(costs: OpenSetCosts, is_open: np.ndarray) -> float:
    """The cost of an open set (∞ where a pair that must be served cannot be)."""
    first, _, _ = serving(costs, is_open)
    return float(costs.fixed[is_open].sum() + first.sum())


def _segment_sums(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Sums of ``values[..., starts[k]:ends[k]]`` along the last axis (∞ where a term is ∞; the terms
    are never -∞)."""
    infinite = np.isinf(values)
    finite = np.where(infinite, 0.0, values)
    zero = np.zeros(values.shape[:-1] + (1,))
    totals = np.concatenate([zero, np.cumsum(finite, axis=-1)], axis=-1)
    counts = np.concatenate([zero, np.cumsum(infinite, axis=-1)], axis=-1)
    sums = totals[..., ends] - totals[..., starts]
    return np.where(counts[..., ends] > counts[..., starts], np.inf, sums)


def _best_move(costs: OpenSetCosts, is_open: np.ndarray, closed_fixed: np.ndarray):
    """(delta, option in or -1, option out or -1) of the best move the limits allow (delta 0.0 and
    -1, -1 where none lowers the cost)."""
    first, second, closest = serving(costs, is_open)
    n_open = int(is_open.sum())
    candidates = np.flatnonzero(~is_open & ~closed_fixed)
    removable = np.flatnonzero(is_open & ~costs.forced)
    best = (0.0, -1, -1)
    rows = costs.cost[candidates]
    gain = costs.fixed[candidates] + np.minimum(rows - first[None, :], 0.0).sum(axis=1)
    if len(candidates) and n_open < costs.max_open:
        at = int(np.argmin(gain))
        best = min(best, (float(gain[at]), int(candidates[at]), -1))
    if not len(removable):
        return best
    pairs = np.flatnonzero(closest >= 0)
    pairs = pairs[np.argsort(closest[pairs], kind="stable")]
    owners = closest[pairs]
    starts, ends = np.searchsorted(owners, removable), np.searchsorted(owners, removable, side="right")
    if n_open - 1 >= costs.min_open:
        loss = _segment_sums((second - first)[pairs], starts, ends) - costs.fixed[removable]
        at = int(np.argmin(loss))
        best = min(best, (float(loss[at]), -1, int(removable[at])))
    if len(candidates):
        extra = np.maximum(np.minimum(rows[:, pairs], second[pairs][None, :]) - first[pairs][None, :], 0.0)
        delta = gain[:, None] + _segment_sums(extra, starts, ends) - costs.fixed[removable][None, :]
        at = np.unravel_index(int(np.argmin(delta)), delta.shape)
        best = min(best, (float(delta[at]), int(candidates[at[0]]), int(removable[at[1]])))
    return best


def improve(
    costs: OpenSetCosts, is_open: np.ndarray, time_limit_s: float | None = None,
    closed_fixed: np.ndarray | None = None,
) -> tuple[np.ndarray, float, int]:
    """The local optimum reached from ``is_open`` by best moves (see the module), or where the search
    stood after ``time_limit_s``: (open set, its cost, moves made). ``closed_fixed`` (O,) bool: options
    that must stay closed."""
    started = time.perf_counter()
    is_open = np.asarray(is_open, bool).copy()
    closed_fixed = np.zeros(len(is_open), bool) if closed_fixed is None else closed_fixed
    cost = open_set_cost(costs, is_open)
    moves = 0
    while math.isfinite(cost):
        if time_limit_s is not None and time.perf_counter() - started > time_limit_s:
            break
        raise_if_stopped()
        delta, opened, closed = _best_move(costs, is_open, closed_fixed)
        if not delta < -IMPROVEMENT * max(abs(cost), 1.0):
            break
        if opened >= 0:
            is_open[opened] = True
        if closed >= 0:
            is_open[closed] = False
        new_cost = open_set_cost(costs, is_open)
        if not new_cost < cost:  # rounding made a move look better than it is: stop where we are
            if opened >= 0:
                is_open[opened] = False
            if closed >= 0:
                is_open[closed] = True
            break
        cost, moves = new_cost, moves + 1
    return is_open, cost, moves
