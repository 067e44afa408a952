r"""The p-center problem by a radius search over set-covering levels (Minieka 1970; Daskin 1995;
Calik & Tansel 2013; Elloumi, Labbé & Pochet 2004 for the levels and the LP bound), not the
textbook min-max model with big-M rows.

Problem: choose at most :math:`p` sites :math:`S` minimising the radius
:math:`r(S) = \max_i \min_{j \in S} d_{ij}` (length units of the distance matrix; demand weights play
no part). The optimum is one of the distinct finite distances :math:`D_1 < D_2 < \dots < D_K` (the
levels). Level :math:`k` is *feasible* when some :math:`S` with :math:`|S| \le p` covers every demand
point within :math:`D_k`, i.e. when the LSCP of :mod:`planner.solver.classic.covering` at :math:`D_k`
has an optimum :math:`\le p`; feasibility is monotone in :math:`k`, and the radius is :math:`D_{k^*}`
for the least feasible :math:`k^*`.

The search keeps ``lo`` (every level below it is proven infeasible) and ``hi`` (a set of sites of
radius :math:`D_{hi}` is known):

1. **Seeds.** ``lo``: the level of :math:`\max_i \min_j d_{ij}` (each point needs a site);
   ``hi``: the radius of a farthest-first (Gonzalez 1985) set of :math:`p` sites.
2. **LP levels.** Binary search for the least level whose LSCP LP relaxation
   :math:`\min \sum_j y_j`, :math:`A^{(k)} y \ge 1`, :math:`0 \le y \le 1` is at most :math:`p`
   (monotone too); every level below it is infeasible, since the LP bounds the LSCP from below.
3. **Integer levels.** The decision LSCP (:math:`\sum_j y_j \le p` added) at ``lo`` first (the LP
   bound is usually tight), then by bisection. Each stops early: HiGHS proves infeasibility (the LP
   bound exceeds :math:`p` in every branch) or stops at the first cover of size :math:`\le p` (a
   relative gap tolerance of 1 accepts any). A cover's own radius :math:`r(S) \le D_k` lowers ``hi``.

**Row generation** (after Contardo, Iori & Kramer 2019): each level's LSCP is solved over a working
set of demand points only (seeded with the farthest points of step 1, kept and grown across levels):
an LP value above :math:`p`, or an infeasible decision LSCP, over a subset of the rows proves the
level infeasible for all of them. Otherwise the answer is checked against every demand point, and
the uncovered (or, for the LP, under-covered) points farthest from it join the working set before the
level is solved again. A few dozen points usually suffice, so each solve is small. Each working
matrix is dominance-reduced (:func:`~planner.solver.classic.coverage.reduce_lscp`).
The time limit covers the whole search; when it runs out, the best radius found is reported with
``time_limit`` and the bound :math:`D_{lo}`. Optimal means ``lo == hi``: proven.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

import numpy as np

from planner.errors import InfeasibleError, NoSolutionInTimeError, SolverError, truncated
from planner.solver.classic.coverage import cover_matrix, full_cover, reduce_lscp
from planner.solver.classic.covering import CHOSEN, lscp_form
from planner.solver.classic.result import ClassicResult
from planner.solver.highs import run_highs
from planner.solver.outcome import SolverOptions, Status

logger = logging.getLogger(__name__)

LP_MARGIN = 1e-4  # a level's LP value must exceed p by this much to count as proof of infeasibility
FIRST_COVER_GAP = 1.0  # a relative gap of 1 stops HiGHS at its first cover (0 ≤ bound ≤ objective)
MIN_ROWS_PER_ROUND = 10  # demand points added to the working set per round: at least this many, or p
COVERED = 1 - 1e-6  # an LP covers a point when its sites' values sum to at least this


@dataclass
class RadiusSearch:
    """The state of the search: levels below ``lo`` are proven infeasible; ``sites`` have radius
    ``levels[hi]``; ``rows`` marks the working set of demand points; seconds spent building level
    matrices and in HiGHS; HiGHS runs."""

    levels: np.ndarray  # (K,) the distinct finite distances, ascending (length units)
    lo: int
    hi: int
    sites: np.ndarray
    rows: np.ndarray  # (n_demand,) bool
    build_s: float = 0.0
    solve_s: float = 0.0
    solves: int = 0
    out_of_time: bool = False

    @property
    def proven(self) -> bool:
        return self.lo >= self.hi


def solve_pcenter(distance: np.ndarray, p: int, options: SolverOptions | None = None) -> ClassicResult:
    """The least radius of at most ``p`` sites over ``distance`` ((n_demand, n_sites), length
    units; ``inf`` where a site cannot reach a point), by the search of the module docstring."""
    options = options or SolverOptions(progress_s=None)
    started = time.perf_counter()
    search = seeded_search(distance, p)
    search.build_s = time.perf_counter() - started
    deadline = None if options.time_limit_s is None else started + options.time_limit_s
    if not np.isfinite(radius_of(distance, search.sites)):
        finite_seed(distance, p, search, options, deadline)
    lp_levels(distance, p, search, options, deadline)
    integer_levels(distance, p, search, options, deadline)
    status = Status.OPTIMAL if search.proven else Status.TIME_LIMIT
    bound = float(search.levels[min(search.lo, search.hi)])
    termination = "radius proven" if search.proven else "time limit in the radius search"
    logger.info("p-center: radius %g, bound %g, %d HiGHS runs, %d working points", search.levels[search.hi], bound,
                search.solves, int(search.rows.sum()))
    return ClassicResult("pcenter", float(search.levels[search.hi]), bound, status, termination, search.sites,
                         search.build_s, search.solve_s, solves=search.solves)


def seeded_search(distance: np.ndarray, p: int) -> RadiusSearch:
    """The levels, ``lo`` from :math:`\\max_i \\min_j d_{ij}`, ``hi`` and the first working points from
    :func:`farthest_first` (raises :class:`InfeasibleError` when a demand point has no site at a
    finite distance)."""
    nearest = np.min(distance, axis=1)
    stranded = np.flatnonzero(~np.isfinite(nearest))
    if len(stranded):
        raise InfeasibleError(f"{len(stranded)} demand points cannot be reached from any site (a disconnected "
                              f"graph): points {truncated((stranded + 1).tolist())} (1-based); no radius serves them")
    levels = np.unique(distance[np.isfinite(distance)])
    sites, farthest = farthest_first(distance, p)
    rows = np.zeros(distance.shape[0], dtype=bool)
    rows[farthest] = True
    radius = radius_of(distance, sites)
    lo = int(np.searchsorted(levels, nearest.max()))
    hi = int(np.searchsorted(levels, radius)) if np.isfinite(radius) else len(levels) - 1  # see finite_seed
    logger.info("p-center, p=%d: %d levels, seeds %g … %g", p, len(levels), levels[lo], levels[hi])
    return RadiusSearch(levels, lo, hi, sites, rows)


def finite_seed(distance: np.ndarray, p: int, search: RadiusSearch, options: SolverOptions, deadline) -> None:
    """Where the farthest-first sites leave a point at an infinite distance, the decision LSCP at the
    largest finite level says whether any ``p`` sites reach every point (on a graph the rule puts a site in
    each part it can, but a site's reach in the planner's own problem is no such part): its cover seeds
    ``hi``; none is :class:`InfeasibleError`."""
    values = probe_level(distance, p, search, len(search.levels) - 1, options, deadline, relaxed=False)
    if values is None and search.out_of_time:
        raise NoSolutionInTimeError(f"the time limit ended the p-center search before {p} sites reaching every "
                                    "demand point were found; give it more time (--time-limit)")
    if values is None:
        raise InfeasibleError(f"no {p} sites reach every demand point (delivery radii, or a graph of more "
                              f"disconnected parts than {p}); raise p, or give sites that reach the points")
    search.sites = np.flatnonzero(values > CHOSEN)
    search.hi = int(np.searchsorted(search.levels, radius_of(distance, search.sites)))


def farthest_first(distance: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """(sites, points): at most ``p`` sites — the 1-center site (the fewest points out of reach, then
    the least farthest distance), then repeatedly the site nearest to the demand point farthest from the
    chosen ones (Gonzalez's rule for a rectangular distance matrix) — and those farthest points, the
    last one included."""
    n_sites = distance.shape[1]
    out_of_reach = np.count_nonzero(~np.isfinite(distance), axis=0)
    farthest_reached = np.max(np.where(np.isfinite(distance), distance, -np.inf), axis=0)
    chosen = [int(np.lexsort((farthest_reached, out_of_reach))[0])]
    nearest = distance[:, chosen[0]].copy()
    farthest = [int(np.argmax(nearest))]
    while len(chosen) < min(p, n_sites):
        site = int(np.argmin(distance[farthest[-1]]))
        if distance[farthest[-1], site] >= nearest[farthest[-1]]:  # as close as it can be: done
            break
        chosen.append(site)
        np.minimum(nearest, distance[:, site], out=nearest)
        farthest.append(int(np.argmax(nearest)))
    return np.array(sorted(chosen)), np.unique(farthest)


def radius_of(distance: np.ndarray, sites: np.ndarray) -> float:
    """:math:`\\max_i \\min_{j \\in S} d_{ij}` for the chosen ``sites``."""
    return float(np.max(np.min(distance[:, sites], axis=1)))


def lp_levels(distance: np.ndarray, p: int, search: RadiusSearch, options: SolverOptions, deadline) -> None:
    """Raise ``search.lo`` to the least level whose LSCP LP value is at most ``p`` (binary search)."""
    low, high = search.lo, search.hi
    while low < high:
        middle = (low + high) // 2
        values = probe_level(distance, p, search, middle, options, deadline, relaxed=True)
        if search.out_of_time:
            return
        if values is None:
            low = search.lo = middle + 1
        else:
            high = middle


def integer_levels(distance: np.ndarray, p: int, search: RadiusSearch, options: SolverOptions, deadline) -> None:
    """The decision LSCP at ``lo`` first, then bisection, until ``lo == hi`` or the time is out."""
    level = search.lo
    while not search.proven:
        values = probe_level(distance, p, search, level, options, deadline, relaxed=False)
        if search.out_of_time:
            return
        if values is None:
            search.lo = level + 1
        else:
            search.sites = np.flatnonzero(values > CHOSEN)
            search.hi = int(np.searchsorted(search.levels, radius_of(distance, search.sites)))
        level = (search.lo + search.hi) // 2


def probe_level(distance, p: int, search: RadiusSearch, level: int, options: SolverOptions, deadline, *, relaxed):
    """One level by row generation: the site values (n_sites,) of an LP of value ≤ p + LP_MARGIN
    (``relaxed``) or of a cover of at most ``p`` sites that covers every demand point; None when the
    working points prove there is none, or when the time runs out (``search.out_of_time`` set)."""
    radius = search.levels[level]
    while True:
        values = _solve_working_rows(distance, p, search, radius, options, deadline, relaxed)
        if values is None:
            return None
        short = _short_points(distance, radius, values, relaxed)
        logger.debug("level %g: %d working points, %d points short", radius, int(search.rows.sum()), len(short))
        if not len(short):
            return values
        search.rows[short[: max(MIN_ROWS_PER_ROUND, p)]] = True


def _short_points(distance: np.ndarray, radius: float, values: np.ndarray, relaxed: bool) -> np.ndarray:
    """The demand points ``values`` leave uncovered at ``radius`` (LP: covered less than 1), the
    farthest (least covered) first."""
    if relaxed:
        level = cover_matrix(distance, radius) @ values
        short = np.flatnonzero(level < COVERED)
        return short[np.argsort(level[short], kind="stable")]
    nearest = np.min(distance[:, values > CHOSEN], axis=1)
    short = np.flatnonzero(nearest > radius)
    return short[np.argsort(-nearest[short], kind="stable")]


def _solve_working_rows(distance, p: int, search: RadiusSearch, radius: float, options, deadline, relaxed: bool):
    """The LSCP at ``radius`` over the working points (LP, or the decision MIP stopping at its first
    cover): the site values (n_sites,), or None when it proves the level infeasible or the time ran
    out (``search.out_of_time``)."""
    left = None if deadline is None else deadline - time.perf_counter()
    if left is not None and left <= 0:
        search.out_of_time = True
        return None
    started = time.perf_counter()
    cover = reduce_lscp(full_cover(distance[search.rows], radius))
    form = lscp_form(cover, max_sites=None if relaxed else p)
    if relaxed:
        form = dataclasses.replace(form, integer=np.zeros(len(form.cost), dtype=bool))
    handed = time.perf_counter()
    search.build_s += handed - started
    settings = dataclasses.replace(options, time_limit_s=left, progress_s=None,
                                   mip_gap=options.mip_gap if relaxed else FIRST_COVER_GAP)
    search.solves += 1
    try:
        report, values = run_highs(form, settings)
    except InfeasibleError:
        return None
    except SolverError:
        if deadline is None or time.perf_counter() < deadline:
            raise
        search.out_of_time = True
        return None
    finally:
        search.solve_s += time.perf_counter() - handed
    if relaxed and report.status is not Status.OPTIMAL:  # only an optimal LP value bounds the level
        search.out_of_time = True
        return None
    if relaxed and report.objective > p + LP_MARGIN:
        return None
    full = np.zeros(distance.shape[1])
    full[cover.sites] = values
    return full
