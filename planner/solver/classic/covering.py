r"""The location set covering problem (LSCP, Toregas, Swain, ReVelle & Bergman 1971) and the maximal
covering location problem (MCLP, Church & ReVelle 1974) on the dominance-reduced coverage matrix of
:mod:`planner.solver.classic.coverage`, handed to HiGHS as a :class:`~planner.model.arrays.LinearForm`.

Symbols: :math:`I` demand rows (merged demand points), :math:`J` kept sites, :math:`N_i \subseteq J`
the sites within the coverage distance :math:`D` (length units) of row :math:`i`, :math:`w_i` its
demand weight (summed over the merged points), :math:`p` the number of sites.

LSCP — the fewest sites that cover every demand point:

.. math::
    \min \sum_{j \in J} y_j \quad\text{s.t.}\quad \sum_{j \in N_i} y_j \ge 1 \;\; \forall i \in I,
    \qquad [\textstyle\sum_j y_j \le p], \qquad y_j \in \{0, 1\}

(the bracketed row only in the p-center's decision version, :mod:`planner.solver.classic.pcenter`).
A demand point with no site within :math:`D` makes it infeasible; that is found before solving.

MCLP — the most demand weight covered by at most :math:`p` sites (:math:`z_i` = row :math:`i` is
covered; continuous, since for binary :math:`y` the optimum sets :math:`z_i = \min(1, \sum_{N_i} y)`):

.. math::
    \max \sum_{i \in I} w_i z_i \quad\text{s.t.}\quad z_i \le \sum_{j \in N_i} y_j \;\; \forall i,
    \qquad \sum_j y_j \le p, \qquad y_j \in \{0, 1\}, \; 0 \le z_i \le 1

With at most :math:`p` instead of exactly :math:`p` the optimum is the same (an extra site never
uncovers anything), and the dropped dominated columns cannot make it infeasible.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np
from scipy import sparse

from planner.errors import InfeasibleError, truncated
from planner.model.arrays import LinearForm
from planner.solver.classic.coverage import Cover, full_cover, reduce_lscp, reduce_mclp, uncovered_points
from planner.solver.classic.result import ClassicResult
from planner.solver.highs import run_highs
from planner.solver.outcome import SolverOptions, Status

logger = logging.getLogger(__name__)

CHOSEN = 0.5  # a binary column above this is a chosen site


def lscp_form(cover: Cover, max_sites: int | None = None) -> LinearForm:
    """The LSCP of ``cover`` (module docstring); with ``max_sites`` also :math:`\\sum_j y_j \\le p`."""
    n_rows, n_columns = cover.shape
    matrix = sparse.csr_array(cover.matrix, dtype=float)
    row_lower, row_upper = np.ones(n_rows), np.full(n_rows, np.inf)
    if max_sites is not None:
        matrix = sparse.csr_array(sparse.vstack([matrix, np.ones((1, n_columns))]))
        row_lower, row_upper = np.append(row_lower, -np.inf), np.append(row_upper, float(max_sites))
    return LinearForm(matrix=matrix, row_lower=row_lower, row_upper=row_upper, col_lower=np.zeros(n_columns),
                      col_upper=np.ones(n_columns), integer=np.ones(n_columns, dtype=bool),
                      cost=np.ones(n_columns), offset=0.0)


def mclp_form(cover: Cover, p: int) -> LinearForm:
    """The MCLP of ``cover`` (module docstring) as a minimisation: columns ``y`` (sites) then ``z``
    (rows); cost :math:`-w_i` on :math:`z_i`, so the objective is minus the covered weight."""
    n_rows, n_columns = cover.shape
    coverage = sparse.csr_array(cover.matrix, dtype=float)
    matrix = sparse.csr_array(sparse.vstack([
        sparse.hstack([-coverage, sparse.identity(n_rows, format="csr")]),  # z_i − Σ_{N_i} y ≤ 0
        sparse.hstack([np.ones((1, n_columns)), sparse.csr_array((1, n_rows))]),  # Σ y ≤ p
    ]))
    n_all = n_columns + n_rows
    return LinearForm(matrix=matrix, row_lower=np.full(n_rows + 1, -np.inf),
                      row_upper=np.append(np.zeros(n_rows), float(p)), col_lower=np.zeros(n_all),
                      col_upper=np.ones(n_all), integer=np.arange(n_all) < n_columns,
                      cost=np.concatenate([np.zeros(n_columns), -cover.weight]), offset=0.0)


def check_coverable(distance: np.ndarray, cover: Cover, coverage_distance: float) -> None:
    """Raise :class:`InfeasibleError` when a demand point has no site within ``coverage_distance``
    (the points, and the distance that would cover them all)."""
    stranded = uncovered_points(cover)
    if len(stranded):
        needed = float(np.max(np.min(distance, axis=1)))
        raise InfeasibleError(
            f"{len(stranded)} demand points have no site within the coverage distance {coverage_distance:g}: "
            f"points {truncated((stranded + 1).tolist())} (1-based); every point has a site within {needed:g}, "
            "so use a coverage distance of at least that"
        )


def solve_lscp(distance: np.ndarray, coverage_distance: float, options: SolverOptions | None = None) -> ClassicResult:
    """The fewest sites covering every demand point within ``coverage_distance`` (length units of
    ``distance``, (n_demand, n_sites)); raises :class:`InfeasibleError` when no set of sites does."""
    options = options or SolverOptions(progress_s=None)
    started = time.perf_counter()
    cover = full_cover(distance, coverage_distance)
    check_coverable(distance, cover, coverage_distance)
    cover = reduce_lscp(cover)
    logger.info("LSCP at D=%g: %d × %d reduced to %d rows × %d sites", coverage_distance, *distance.shape,
                *cover.shape)
    form = lscp_form(cover)
    greedy = greedy_columns(cover)
    build_s = time.perf_counter() - started
    if len(greedy) == 1:  # one site covers every point: no fewer can
        return ClassicResult("lscp", 1.0, 1.0, Status.OPTIMAL, "one site covers every point", cover.sites[greedy],
                             build_s, 0.0, solves=0)
    start = np.zeros(cover.shape[1])
    start[greedy] = 1.0
    report, values = run_highs(form, _limited(options, started), start=start)
    sites = cover.sites[values > CHOSEN]
    return ClassicResult("lscp", float(len(sites)), report.best_bound, report.status, report.termination, sites,
                         build_s, report.solve_s + report.handover_s)


def solve_mclp(
    distance: np.ndarray, weight: np.ndarray, coverage_distance: float, p: int, options: SolverOptions | None = None
) -> ClassicResult:
    """The at most ``p`` sites that cover the most demand ``weight`` within ``coverage_distance``
    (length units of ``distance``, (n_demand, n_sites))."""
    options = options or SolverOptions(progress_s=None)
    started = time.perf_counter()
    cover = reduce_mclp(full_cover(distance, coverage_distance, weight))
    logger.info("MCLP at D=%g, p=%d: %d × %d reduced to %d rows × %d sites", coverage_distance, p,
                *distance.shape, *cover.shape)
    build_s = time.perf_counter() - started
    if cover.shape[0] == 0:  # nothing can be covered: any sites will do
        sites = np.arange(min(p, distance.shape[1]))
        return ClassicResult("mclp", 0.0, 0.0, Status.OPTIMAL, "nothing coverable", sites, build_s, 0.0, solves=0)
    greedy = greedy_columns(cover, p)
    covered_rows = np.asarray(cover.matrix[:, greedy].sum(axis=1)).ravel() > 0
    if covered_rows.all():  # p sites cover every point that any site covers: nothing covers more
        total = float(cover.weight.sum())
        return ClassicResult("mclp", total, total, Status.OPTIMAL, "the greedy sites cover every coverable point",
                             cover.sites[greedy], build_s, 0.0, solves=0)
    start = np.concatenate([np.isin(np.arange(cover.shape[1]), greedy), covered_rows]).astype(float)
    report, values = run_highs(mclp_form(cover, p), _limited(options, started), start=start)
    chosen = values[: cover.shape[1]] > CHOSEN
    covered = float(cover.weight @ (cover.matrix @ chosen.astype(float) > 0))  # z may be slack in an incumbent
    bound = None if report.best_bound is None else -report.best_bound
    return ClassicResult("mclp", covered, bound, report.status, report.termination, cover.sites[chosen],
                         build_s, report.solve_s + report.handover_s)


def greedy_columns(cover: Cover, limit: int | None = None) -> np.ndarray:
    """Columns chosen one at a time, each covering the most weight not yet covered, until ``limit``
    columns (None: until every row is covered) or none adds any: the MIP's start (Church & ReVelle's
    greedy; for the LSCP a cover, since every row has a column)."""
    by_column = sparse.csr_array(cover.matrix.T, dtype=float)
    left = np.asarray(cover.weight, dtype=float).copy() if limit is not None else np.ones(cover.shape[0])
    chosen: list[int] = []
    while limit is None or len(chosen) < limit:
        gain = by_column @ left
        best = int(np.argmax(gain)) if len(gain) else 0
        if not len(gain) or gain[best] <= 0:
            break
        chosen.append(best)
        left[by_column.indices[by_column.indptr[best]:by_column.indptr[best + 1]]] = 0.0
    return np.array(chosen, dtype=int)


def _limited(options: SolverOptions, started: float) -> SolverOptions:
    """``options`` with the time limit less the time since ``started`` (the build counts too)."""
    if options.time_limit_s is None:
        return options
    left = max(options.time_limit_s - (time.perf_counter() - started), 1e-3)
    return dataclasses.replace(options, time_limit_s=left)
