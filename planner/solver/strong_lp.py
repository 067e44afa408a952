r"""The LP relaxation of the strong formulation of capacitated facility location, solved by HiGHS
with its variable upper bounds added as they are violated; its demand-row duals are multipliers for
the Lagrangian branch-and-bound (``planner.solver.capacitated_bb``).

With :math:`w_{od}` the cost of serving all of pair :math:`d` (demand :math:`q_d`) from option
:math:`o`, :math:`u_d` the cost of leaving it unmet (where it may be), :math:`F_o` and :math:`C_o`
the option's fixed cost and capacity and :math:`Q` the demand that must be served:

.. math::

    \min \sum_o F_o y_o + \sum_{od} w_{od} x_{od} + \sum_d u_d x^u_d \quad\text{s.t.}\quad
    \sum_o x_{od} + x^u_d = 1 \;(\lambda_d),\quad \sum_d q_d x_{od} \le C_o y_o,\quad
    \sum_o C_o y_o \ge Q,\quad x_{od} \le y_o,\quad 0 \le x, y \le 1

(:math:`y_o = 1` for forced options). The :math:`O \times D` rows :math:`x_{od} \le y_o` are not
all written: the LP starts without them and adds the violated ones, a few hundred to a few thousand
on 100 × 1,000 instances, until none is (then its optimum is the full LP's, and its duals are the
full LP's too: the rows left out are slack with dual 0).

The demand-row duals :math:`\lambda` maximise the Lagrangian of the strong LP; the branch-and-bound's
relaxation also rounds the aggregate row (whole capacity steps, whole options), so at these
multipliers it is at least the LP bound, where subgradient steps can stall below it on instances
of identical capacities (``capa`` with capacity 2,000: 1.36 % below the optimum after the root's
steps, 0.22 % at the LP duals).
"""

from __future__ import annotations

import threading
import time

import highspy
import numpy as np
import scipy.sparse as sp

from planner.solver.highs import INF, limit_next_run, new_highs
from planner.solver.outcome import SolverOptions

VIOLATION = 1e-7  # x_od above y_o by more than this: the row is added


class BackgroundDuals:
    """:func:`strong_lp_duals` on a thread (HiGHS releases the GIL while it solves, so the caller's
    search goes on beside it): :meth:`take` returns the duals once, when they are there."""

    def __init__(self, costs, time_limit_s: float) -> None:
        self.stop = threading.Event()
        self.duals: np.ndarray | None = None
        self.violated = [len(costs.demand)]  # the pairs' count, then the rows each round adds (the thread appends)
        self.done = threading.Event()
        # not a daemon: a process must not end while HiGHS runs on a thread of it (the C++ teardown aborts
        # it, exit code 134); once stopped it ends at its next round, and the interpreter waits for that
        self.thread = threading.Thread(target=self._run, args=(costs, time_limit_s), name="planner-strong-lp")
        self.thread.start()

    def _run(self, costs, time_limit_s: float) -> None:
        try:
            self.duals = strong_lp_duals(costs.cost, costs.demand, costs.capacity, costs.fixed, costs.unmet,
                                         costs.need, costs.forced, time_limit_s, self.stop, self.violated.append)
        finally:
            self.done.set()

    def take(self, wait_s: float = 0.0) -> np.ndarray | None:
        """The duals if the LP has ended with them within ``wait_s`` seconds (then never again), else None."""
        if not self.done.wait(max(wait_s, 0.0)):
            return None
        duals, self.duals = self.duals, None
        return duals

    def nearly_done(self, share: float) -> bool:
        """Whether the latest round added at most ``share`` × the pairs' count of rows (the rounds
        shrink as the LP nears its end: ``capa`` with capacity 3,000 820, 366, 159, … 2 in 2.9 s, a
        generated instance of ratio 10 1,000, 1,000, 906, 745, … 243 in its first 10 s)."""
        return self.done.is_set() or self.violated[-1] <= share * self.violated[0]

    def cancel(self) -> None:
        """Ask the LP to end, at its next round (0.1–0.6 s on tight 100 × 1,000 instances, 1–3 s on loose ones)."""
        self.stop.set()


def strong_lp_duals(cost: np.ndarray, demand: np.ndarray, capacity: np.ndarray, fixed: np.ndarray,
                    unmet: np.ndarray, need: float, forced: np.ndarray, time_limit_s: float,
                    stop: threading.Event | None = None, on_round=None) -> np.ndarray | None:
    """(D,) the demand rows' duals :math:`\\lambda` at the strong LP's optimum (see the module), or
    None where it is not reached within ``time_limit_s`` seconds or ``stop`` is set first. ``cost``
    (O, D) is ∞ without an arc, ``unmet`` (D,) ∞ where the pair must be served; ``on_round`` is called
    with the count of rows each round adds."""
    started = time.perf_counter()
    n_options, n_pairs = cost.shape
    arc_option, arc_pair = np.nonzero(np.isfinite(cost))
    highs = new_highs(SolverOptions(quiet=True))
    _columns(highs, fixed, forced, cost[arc_option, arc_pair], unmet)
    _rows(highs, arc_option, arc_pair, demand, capacity, unmet, need)
    n_arcs = len(arc_option)
    while True:
        left = time_limit_s - (time.perf_counter() - started)
        if left <= 0 or (stop is not None and stop.is_set()):
            return None
        limit_next_run(highs, left)
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        values = np.asarray(highs.getSolution().col_value)
        y, x = values[:n_options], values[n_options: n_options + n_arcs]
        violated = np.flatnonzero(x > y[arc_option] + VIOLATION)
        if not len(violated):
            return np.asarray(highs.getSolution().row_dual)[:n_pairs].copy()
        _add_upper_bounds(highs, violated, arc_option, n_options)
        if on_round is not None:
            on_round(len(violated))


def _columns(highs, fixed: np.ndarray, forced: np.ndarray, arc_cost: np.ndarray, unmet: np.ndarray) -> None:
    """y (forced ones at 1), x per arc, then an unmet column per pair that may go unmet."""
    n_options = len(fixed)
    highs.addVars(n_options, forced.astype(float), np.ones(n_options))
    highs.changeColsCost(n_options, np.arange(n_options, dtype=np.int32), fixed)
    n_arcs = len(arc_cost)
    highs.addVars(n_arcs, np.zeros(n_arcs), np.ones(n_arcs))
    highs.changeColsCost(n_arcs, np.arange(n_options, n_options + n_arcs, dtype=np.int32), arc_cost)
    may_go_unmet = np.isfinite(unmet)
    n_unmet = int(may_go_unmet.sum())
    if n_unmet:
        highs.addVars(n_unmet, np.zeros(n_unmet), np.ones(n_unmet))
        first = n_options + n_arcs
        highs.changeColsCost(n_unmet, np.arange(first, first + n_unmet, dtype=np.int32), unmet[may_go_unmet])


def _rows(highs, arc_option: np.ndarray, arc_pair: np.ndarray, demand: np.ndarray, capacity: np.ndarray,
          unmet: np.ndarray, need: float) -> None:
    """The demand rows (first: their duals are the multipliers), the capacity rows, the aggregate row."""
    n_options, n_pairs, n_arcs = len(capacity), len(demand), len(arc_option)
    unmet_pairs = np.flatnonzero(np.isfinite(unmet))
    n_columns = n_options + n_arcs + len(unmet_pairs)
    arc_columns = n_options + np.arange(n_arcs)
    rows = np.concatenate([arc_pair, unmet_pairs])
    columns = np.concatenate([arc_columns, n_options + n_arcs + np.arange(len(unmet_pairs))])
    _add_rows(highs, sp.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(n_pairs, n_columns)),
              np.ones(n_pairs), np.ones(n_pairs))
    rows = np.concatenate([arc_option, np.arange(n_options)])
    columns = np.concatenate([arc_columns, np.arange(n_options)])
    values = np.concatenate([demand[arc_pair], -capacity])
    _add_rows(highs, sp.csr_matrix((values, (rows, columns)), shape=(n_options, n_columns)),
              np.full(n_options, -INF), np.zeros(n_options))
    highs.addRow(need, INF, n_options, np.arange(n_options, dtype=np.int32), capacity.astype(float))


def _add_rows(highs, matrix: sp.csr_matrix, lower: np.ndarray, upper: np.ndarray) -> None:
    highs.addRows(matrix.shape[0], lower, upper, matrix.nnz, matrix.indptr[:-1].astype(np.int32),
                  matrix.indices.astype(np.int32), matrix.data.astype(float))


def _add_upper_bounds(highs, arcs: np.ndarray, arc_option: np.ndarray, n_options: int) -> None:
    """Rows :math:`x_{od} - y_o \\le 0` for ``arcs``."""
    n = len(arcs)
    index = np.empty(2 * n, dtype=np.int32)
    index[0::2], index[1::2] = n_options + arcs, arc_option[arcs]
    highs.addRows(n, np.full(n, -INF), np.zeros(n), 2 * n, np.arange(0, 2 * n, 2, dtype=np.int32), index,
                  np.tile([1.0, -1.0], n))
