"""Candidate sites generated from the regions by each facility type's ``candidates`` rule (when no
``--sites`` file is given): site id = region id, located at the region's demand point.

Rules relative to the data (``quantile``, ``top_n``, ``top_share``, ``kmeans``) give candidates on any
dataset with demand; ``min_demand`` is absolute, and ``min_candidates`` keeps a floor under it. See
:class:`planner.inputs.config.CandidateRule`.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from scipy.cluster.vq import kmeans2
from scipy.spatial import cKDTree

from planner.inputs.config import CandidateRule, ModelConfig
from planner.inputs.geo import unit_vectors

logger = logging.getLogger(__name__)

KMEANS_SEED = 0  # k-means is seeded: the same data always gives the same candidates
SCIPY_SEEDING_WORK = 1e9  # k² × points: up to this SciPy seeds k-means (about 1 s), beyond it kmeans_pp_seeds


def candidate_mask(rule: CandidateRule, demand: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Regions that pass every filter of ``rule``, then the k-means choice (see the module docstring)."""
    demand = np.asarray(demand, dtype=float)
    mask = np.ones(len(demand), dtype=bool)
    if rule.min_demand is not None:
        mask &= demand >= rule.min_demand
    if rule.quantile is not None and mask.any() and (demand > 0).any():  # no demand: no quantile to keep above
        mask &= demand >= np.quantile(demand[demand > 0], rule.quantile)
    rank = demand_rank(demand)
    if rule.top_n is not None:
        mask &= rank < rule.top_n
    if rule.top_share is not None:
        mask &= rank < share_count(demand, rule.top_share)
    if rule.kmeans is not None and mask.sum() > rule.kmeans:
        mask = nearest_to_centres(mask, demand, lon, lat, rule.kmeans)
    if rule.min_candidates is not None and mask.sum() < rule.min_candidates:
        mask = mask | (rank < rule.min_candidates)
    return mask


def demand_rank(demand: np.ndarray) -> np.ndarray:
    """0 for the largest demand, 1 for the next, ... (ties in file order)."""
    order = np.argsort(-demand, kind="stable")
    rank = np.empty(len(demand), dtype=int)
    rank[order] = np.arange(len(demand))
    return rank


def share_count(demand: np.ndarray, share: float) -> int:
    """How many of the largest regions it takes to hold ``share`` of all demand."""
    ordered = np.sort(demand)[::-1]
    total = ordered.sum()
    if total <= 0:
        return 0
    return int(np.searchsorted(np.cumsum(ordered), share * total * (1 - 1e-12)) + 1)


def nearest_to_centres(mask: np.ndarray, demand, lon, lat, clusters: int) -> np.ndarray:
    """Of the regions in ``mask``, the one nearest each centre of ``clusters`` k-means clusters of all
    demand points (each point repeated in proportion to its demand, at most 20 times; every point once
    where no region has demand)."""
    points = unit_vectors(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    has_demand = demand > 0
    if not has_demand.any():  # no demand to weigh by: cluster the regions themselves
        has_demand, demand = np.ones(len(demand), dtype=bool), np.ones(len(demand))
    weights = np.maximum(1, np.round(20 * demand[has_demand] / demand[has_demand].max())).astype(int)
    sample = np.repeat(points[has_demand], weights, axis=0)
    distinct = len(np.unique(points[has_demand], axis=0))  # more clusters than places leaves some empty
    k = min(clusters, distinct)
    with warnings.catch_warnings():  # k-means++ on repeated points: SciPy's warnings are no news to a user
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        if k * k * len(sample) <= SCIPY_SEEDING_WORK:
            centres, _ = kmeans2(sample, k, minit="++", seed=KMEANS_SEED)
        else:
            centres, _ = kmeans2(sample, kmeans_pp_seeds(sample, k), minit="matrix")
    eligible = np.flatnonzero(mask)
    _, nearest = cKDTree(points[eligible]).query(centres)  # not a k × n table of distances (2.5 GB at 1,000 × 40,000)
    chosen = np.zeros(len(mask), dtype=bool)
    chosen[eligible[np.unique(nearest)]] = True
    return chosen


def kmeans_pp_seeds(sample: np.ndarray, k: int, seed: int = KMEANS_SEED) -> np.ndarray:
    """k-means++ seeds (Arthur & Vassilvitskii 2007: each next seed drawn with probability ∝ its squared
    distance to the nearest seed so far) in O(k n), keeping each point's nearest distance as seeds are
    added; SciPy's ``minit="++"`` recomputes them, O(k² n): 65 s for 1,000 clusters of 40,000 points."""
    rng = np.random.default_rng(seed)
    seeds = np.empty((k, sample.shape[1]))
    seeds[0] = sample[rng.integers(len(sample))]
    nearest = ((sample - seeds[0]) ** 2).sum(axis=1)
    for i in range(1, k):
        total = float(nearest.sum())
        pick = rng.integers(len(sample)) if total <= 0 else int(np.searchsorted(np.cumsum(nearest), rng.random()
                                                                                 * total, side="right"))
        seeds[i] = sample[min(pick, len(sample) - 1)]
        nearest = np.minimum(nearest, ((sample - seeds[i]) ** 2).sum(axis=1))
    return seeds


def generate_candidate_sites(
    config: ModelConfig, region_ids: np.ndarray, lon: np.ndarray, lat: np.ndarray, base: np.ndarray
) -> pd.DataFrame:
    """The sites table of every region that some facility type's rule admits; a type left with no
    candidate is a warning."""
    allowed = {name: candidate_mask(facility.candidates, base, lon, lat) for name, facility in
               config.facility_types.items()}
    for name, mask in allowed.items():
        if not mask.any():
            logger.warning(
                "facility type '%s': its candidates rule admits no region; it cannot open (use a relative rule "
                "such as top_n or quantile, or give --sites)", name
            )
    any_type = np.logical_or.reduce(list(allowed.values()))
    chosen = np.flatnonzero(any_type)
    types = [tuple(name for name, mask in allowed.items() if mask[i]) for i in chosen]
    return pd.DataFrame(
        {
            "site_id": region_ids[chosen].astype(str),
            "lon": lon[chosen],
            "lat": lat[chosen],
            "types": types,
            "cost_multiplier": 1.0,
            "existing": False,
            "forced": False,
        }
    )
