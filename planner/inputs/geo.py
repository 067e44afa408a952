"""CRS handling and distances: the one place where metres and degrees become km.

Demand points and sites are carried as lon/lat degrees (EPSG:4326). Distances are great-circle km
on a sphere of the mean Earth radius (IUGG, 6,371.0088 km) times a circuity factor (road km per
great-circle km). Pairs within a radius are found with a k-d tree on unit-sphere coordinates, so
only the arcs that can be used are ever created.
"""

from __future__ import annotations

import logging
import warnings

import geopandas as gpd
import numpy as np
from scipy.spatial import cKDTree

from planner.errors import InputError

logger = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.0088
LONLAT = "EPSG:4326"


def require_crs(frame: gpd.GeoDataFrame, path) -> None:
    """A missing CRS is an error: it is never assumed."""
    if frame.crs is None:
        raise InputError(
            f"{path}: the data has no CRS (coordinate reference system); set one, e.g. "
            "gdf.set_crs('EPSG:4326') for lon/lat degrees, and save the file again"
        )


def representative_lonlat(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """A point guaranteed inside each geometry (points stay as they are), as lon/lat degrees."""
    points = frame.geometry.representative_point()
    points = gpd.GeoSeries(points, crs=frame.crs).to_crs(LONLAT)
    return points.x.to_numpy(dtype=float), points.y.to_numpy(dtype=float)


def points_to_lonlat(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Point geometries as lon/lat degrees (polygons get their representative point)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return representative_lonlat(frame)


def unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """(n, 3) points on the unit sphere."""
    lon_r, lat_r = np.radians(lon), np.radians(lat)
    cos_lat = np.cos(lat_r)
    return np.column_stack([cos_lat * np.cos(lon_r), cos_lat * np.sin(lon_r), np.sin(lat_r)])


def great_circle_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Haversine great-circle distance in km, element-wise."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def pairs_within(
    from_lon: np.ndarray,
    from_lat: np.ndarray,
    to_lon: np.ndarray,
    to_lat: np.ndarray,
    max_great_circle_km: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (from, to) pairs whose great-circle distance is ≤ the limit: indices and km.

    With an infinite limit every pair is returned (dense). Otherwise a k-d tree query on chord
    length (2·sin(θ/2) for central angle θ) finds candidates, and the haversine distance filters
    them exactly.
    """
    n_from, n_to = len(from_lon), len(to_lon)
    if n_from == 0 or n_to == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    if not np.isfinite(max_great_circle_km) or max_great_circle_km >= np.pi * EARTH_RADIUS_KM:
        i = np.repeat(np.arange(n_from), n_to)
        j = np.tile(np.arange(n_to), n_from)
    else:
        angle = max_great_circle_km / EARTH_RADIUS_KM
        chord = 2 * np.sin(angle / 2) * (1 + 1e-9)
        tree_to = cKDTree(unit_vectors(to_lon, to_lat))
        tree_from = cKDTree(unit_vectors(from_lon, from_lat))
        matrix = tree_from.sparse_distance_matrix(tree_to, chord, output_type="coo_matrix")
        i, j = matrix.row.astype(np.int64), matrix.col.astype(np.int64)
        # sparse_distance_matrix drops zero distances (co-located points): add them back
        same = tree_from.query_ball_tree(tree_to, 1e-12)
        zi = np.repeat(np.arange(n_from), [len(s) for s in same])
        zj = np.fromiter((k for s in same for k in s), dtype=np.int64, count=len(zi))
        if len(zi):
            i, j = np.concatenate([i, zi]), np.concatenate([j, zj])
            keys = np.unique(i * n_to + j)
            i, j = keys // n_to, keys % n_to
    km = great_circle_km(from_lon[i], from_lat[i], to_lon[j], to_lat[j])
    keep = km <= max_great_circle_km
    return i[keep], j[keep], km[keep]
