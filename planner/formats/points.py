r"""Distance instances for the classic location models (p-center, MCLP, LSCP): demand points with
weights, candidate sites and the distance between each pair. Two file formats give one:

* OR-Library ``pmed*`` graphs (:func:`planner.formats.pmed.read_pmed_distances`): every vertex is a
  demand point of weight 1 and a candidate site; :math:`d_{ij}` is the shortest-path length (graph
  length units); ``p`` is the file's number of medians.
* The planner's ``POINTS`` format, written by ``benchmarks/generate.py`` (families ``coverage-square``
  and ``coverage-clustered``); whitespace-separated tokens (the token rule of
  :mod:`planner.formats.tokens`)::

      POINTS n_demand n_sites p
      x y w                # n_demand lines: a demand point's coordinates and its weight (≥ 0)
      x y                  # n_sites lines: a candidate site's coordinates

  :math:`d_{ij} = \lVert q_i - s_j \rVert_2`, the Euclidean distance in the coordinates' length
  unit; ``p`` is the number of sites the instance was made for (the default of ``--p``; 0 suits
  ``lscp`` only, which opens as many sites as covering needs). Every
  |coordinate| is at most 1e15 (so distances stay finite), every weight at most ``MAX_WEIGHT``, and the
  n_demand × n_sites table must fit in the memory available (:mod:`planner.formats.tokens`).

:func:`read_distance_instance` tells the two apart by the first token (``POINTS`` or a number).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.distance import cdist

from planner.errors import InputError
from planner.formats.pmed import read_pmed_distances
from planner.formats.tokens import (
    check_magnitude,
    check_table_fits,
    check_token_count,
    check_values,
    header_counts,
    instance_name,
    read_tokens,
    to_floats,
)

logger = logging.getLogger(__name__)

POINTS_MAGIC = "POINTS"
MAX_WEIGHT = 1e12  # a demand point's weight, as the planner's largest demand of one region


@dataclass(frozen=True)
class DistanceInstance:
    """Demand points × candidate sites with distances (the file's length unit) and demand weights."""

    name: str
    distance: np.ndarray  # (n_demand, n_sites) d_ij, length units; inf where j cannot reach i
    weight: np.ndarray  # (n_demand,) demand weight w_i ≥ 0 (1 per vertex for pmed)
    p: int  # the file's number of sites to open

    @property
    def n_demand(self) -> int:
        return self.distance.shape[0]

    @property
    def n_sites(self) -> int:
        return self.distance.shape[1]


def euclidean_distances(points: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """(n, m) Euclidean distances between the rows of ``points`` (n, 2) and ``sites`` (m, 2)."""
    return cdist(points, sites)


def read_points(path: Path) -> DistanceInstance:
    """A ``POINTS`` file (see the module docstring) as a :class:`DistanceInstance`."""
    path = Path(path)
    return _points(read_tokens(path), path)


def _points(tokens: list[str], path: Path) -> DistanceInstance:
    """The :class:`DistanceInstance` of the tokens of a ``POINTS`` file."""
    if tokens[0].upper() != POINTS_MAGIC:
        raise InputError(f"{path}: the first token is {tokens[0][:20]!r}; a points file opens with 'POINTS'")
    n_demand, n_sites, p = header_counts(
        tokens[1:], path, "the counts 'n_demand n_sites p' after 'POINTS'",
        ["the number of demand points (token 2)", "the number of sites (token 3)", "p (token 4)"],
        minimum=[1, 1, 0],  # p = 0 for an lscp instance, which opens as many sites as covering needs
    )
    check_token_count(tokens[1:], 3 + 3 * n_demand + 2 * n_sites, path,
                      f"{n_demand} demand points 'x y w' and {n_sites} sites 'x y'", start=1)
    check_table_fits(path, n_demand, n_sites, "distance")
    values = to_floats(tokens[4:], path, start=4)
    demand = values[: 3 * n_demand].reshape(n_demand, 3)
    sites = values[3 * n_demand :].reshape(n_sites, 2)
    if not (np.isfinite(demand[:, :2]).all() and np.isfinite(sites).all()):
        raise InputError(f"{path}: every coordinate must be a finite number")
    check_magnitude(demand[:, :2], path, "demand point", "coordinate")
    check_magnitude(sites, path, "site", "coordinate")
    check_values(demand[:, 2], path, "demand weights", place=lambda k: 7 + 3 * k)
    heavy = np.flatnonzero(demand[:, 2] > MAX_WEIGHT)
    if len(heavy):  # a covered demand the solver's tolerances cannot count to the unit
        raise InputError(f"{path}: demand point {heavy[0] + 1} has weight {demand[heavy[0], 2]:g}, above the limit "
                         f"{MAX_WEIGHT:g}; scale the weights down (e.g. to thousands of the unit)")
    logger.info("read %s: %d demand points, %d sites, p=%d", path.name, n_demand, n_sites, p)
    return DistanceInstance(instance_name(path), euclidean_distances(demand[:, :2], sites), demand[:, 2], p)


def read_distance_instance(path: Path) -> DistanceInstance:
    """A ``POINTS`` file or an OR-Library ``pmed`` graph (told apart by the first token)."""
    path = Path(path)
    tokens = read_tokens(path)
    if tokens[0].upper() == POINTS_MAGIC:
        return _points(tokens, path)
    distance, p = read_pmed_distances(path)
    if np.isinf(distance).any():
        logger.warning("%s: the graph is disconnected; some vertices cannot reach some sites", path.name)
    return DistanceInstance(instance_name(path), distance, np.ones(len(distance)), p)
