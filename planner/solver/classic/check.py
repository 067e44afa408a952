r"""An independent check of a classic model's answer: the objective is recomputed from the chosen
sites and the distance matrix alone (never from solver values), and the sites are checked against
the model's rules. :func:`checked_objective` returns the recomputed objective or raises
:class:`~planner.errors.SolverError` naming what disagrees.

* ``pcenter``: at most :math:`p` distinct sites; radius :math:`\max_i \min_{j \in S} d_{ij}` equal to the
  reported one; a bound not above it.
* ``mclp``: at most :math:`p` distinct sites; covered weight
  :math:`\sum_i w_i [\min_{j \in S} d_{ij} \le D]` equal to the reported one; a bound not below it.
* ``lscp``: every demand point within :math:`D` of a chosen site; the number of distinct sites equal
  to the reported one; a bound not above it.
"""

from __future__ import annotations

import logging

import numpy as np

from planner.errors import SolverError, truncated

logger = logging.getLogger(__name__)

RTOL = 1e-6


def nearest_distance(distance: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """(n_demand,) each demand point's distance to its nearest chosen site (``inf`` without sites)."""
    if len(sites) == 0:
        return np.full(distance.shape[0], np.inf)
    return np.min(distance[:, sites], axis=1)


def checked_objective(
    problem: str, result, distance: np.ndarray, *, weight: np.ndarray | None = None, p: int | None = None,
    coverage_distance: float | None = None,
) -> float:
    """The objective of ``result`` (a :class:`~planner.solver.classic.result.ClassicResult`)
    recomputed from its sites and ``distance``; :class:`SolverError` if it or the sites break a rule."""
    sites = np.asarray(result.sites, dtype=int)
    _check_sites(problem, sites, distance.shape[1], p)
    nearest = nearest_distance(distance, sites)
    if problem == "pcenter":
        value, sense = float(np.max(nearest)), 1
    elif problem == "mclp":
        value, sense = float(np.asarray(weight, dtype=float) @ (nearest <= coverage_distance)), -1
    elif problem == "lscp":
        short = np.flatnonzero(nearest > coverage_distance)
        if len(short):
            raise SolverError(f"check failed: the lscp sites leave {len(short)} demand points uncovered within "
                              f"{coverage_distance:g}: {truncated((short + 1).tolist())} (1-based)")
        value, sense = float(len(sites)), 1
    else:
        raise ValueError(f"unknown classic problem {problem!r}; use pcenter, mclp or lscp")
    _check_value(problem, value, result.objective, result.best_bound, sense)
    return value


def _check_sites(problem: str, sites: np.ndarray, n_sites: int, p: int | None) -> None:
    """Distinct site indices within the matrix, at most ``p`` of them (where there is a p)."""
    if len(np.unique(sites)) != len(sites) or (len(sites) and (sites.min() < 0 or sites.max() >= n_sites)):
        raise SolverError(f"check failed: the {problem} sites {truncated(sites.tolist())} are not distinct "
                          f"indices of the {n_sites} sites")
    if p is not None and len(sites) > p:
        raise SolverError(f"check failed: the {problem} answer opens {len(sites)} sites, more than p={p}")


def _check_value(problem: str, value: float, reported: float, bound: float | None, sense: int) -> None:
    """``value`` equals ``reported``; a lower (``sense`` 1) or upper (−1) ``bound`` does not pass it."""
    tolerance = RTOL * max(abs(value), 1.0)
    if abs(value - reported) > tolerance:
        raise SolverError(f"check failed: the {problem} objective recomputed from the sites is {value:.10g}, "
                          f"the solver reported {reported:.10g}")
    if bound is not None and sense * (bound - value) > tolerance:
        raise SolverError(f"check failed: the {problem} bound {bound:.10g} is past the objective {value:.10g} "
                          "recomputed from the sites")
    logger.debug("%s answer checked: %.10g", problem, value)
