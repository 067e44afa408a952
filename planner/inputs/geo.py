"""CRS handling and distances: the one place where metres and degrees become km.

Demand points and sites are carried as lon/lat degrees (EPSG:4326). Distances are great-circle km
on a sphere of the mean Earth radius (IUGG, 6,371.0088 km) times a circuity factor (road km per
great-circle km). Pairs within a radius are found with a k-d tree on unit-sphere coordinates, so
only the arcs that can be used are ever created.

For drawing: :func:`equal_area_crs` (a Lambert azimuthal equal-area projection centred on the data)
and :func:`find_clusters` / :func:`region_clusters` (groups of regions that lie far apart, which the
maps draw as insets). Nothing here knows about particular countries.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from scipy.spatial import cKDTree

from planner.errors import InputError

logger = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.0088
LONLAT = "EPSG:4326"

# Grouping (find_clusters): a gap splits the data only if it is longer than each of these, taken for the
# heaviest group it separates from the rest:
GAP_RATIO = 0.15  # ... this share of that group's diameter
GAP_FACTOR = 3.0  # ... this multiple of that group's own longest link and of the median link of all points
MAX_CLUSTERS = 7  # the main group and at most six remote ones (the widest gaps); beyond, groups stay joined
MAX_CLUSTER_POINTS = 4000  # more distinct anchor points than this are snapped to a coarser grid first


REGIONS_CRS_FIX = ("give it with --crs (the [regions] key crs), e.g. --crs EPSG:4326 for lon/lat degrees or the "
                   "EPSG code of its projection")
FILE_CRS_FIX = ("save the file with its CRS (QGIS: Layer > Set CRS, then Export; ogr2ogr -a_srs EPSG:...), or give the "
                "points as a CSV of lon/lat degrees")  # no Python: 'gdf.set_crs' had been the fix said


def require_crs(frame: gpd.GeoDataFrame, path, fix: str = FILE_CRS_FIX) -> None:
    """A missing CRS is an error: it is never assumed (``fix``: how to give one; the regions take
    ``--crs``, ``REGIONS_CRS_FIX``). So is one that places nothing on the earth's surface: a vertical
    CRS (heights), or a local/engineering one (CAD drawings, ``LOCAL_CS``) that cannot be converted to
    lon/lat."""
    if frame.crs is None:
        raise InputError(f"{path}: the data has no CRS (coordinate reference system); {fix}")
    crs = frame.crs
    name = crs.name or crs.to_string()
    if not (crs.is_geographic or crs.is_projected):
        raise InputError(
            f"{path}: the CRS '{name}' is not a horizontal lon/lat or projected CRS (it is "
            f"{crs.type_name.lower()}); give the data's map projection, e.g. --crs EPSG:4326 for lon/lat "
            "degrees or the EPSG code of its projection"
        )
    from pyproj import Transformer
    from pyproj.exceptions import ProjError

    try:
        Transformer.from_crs(crs, LONLAT, always_xy=True)
    except ProjError:
        raise InputError(
            f"{path}: the CRS '{name}' cannot be converted to lon/lat (a local or engineering CRS?); give "
            "the data in a georeferenced CRS, e.g. --crs EPSG:4326 for lon/lat degrees"
        ) from None


def representative_lonlat(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """A point guaranteed inside each geometry (points stay as they are), as lon/lat degrees; a
    polygon drawn across the antimeridian (±180°: a lon/lat ring running 179.9° → −179.9°, or the same
    ring projected, e.g. to EPSG:3857, where it spans the whole map) gets its point on the right side of
    it (see :func:`unwrap_antimeridian`, applied to the polygons in lon/lat). Longitudes are returned
    in [−180°, 180°], also from data written in 0–360°."""
    points = gpd.GeoSeries(frame.geometry.representative_point(), crs=frame.crs).to_crs(LONLAT)
    lon, lat = np.array(points.x, dtype=float), np.array(points.y, dtype=float)
    if frame.crs is None or not len(frame):
        return lon, lat
    in_lonlat = frame.geometry if frame.crs.equals(LONLAT) else frame.geometry.to_crs(LONLAT)
    geoms = np.asarray(in_lonlat.array, dtype=object)
    shifted = unwrap_antimeridian(geoms)
    unwrapped = shifted != geoms
    if unwrapped.any():
        inside = shapely.point_on_surface(shifted[unwrapped])
        lon[unwrapped] = shapely.get_x(inside)
        lat[unwrapped] = shapely.get_y(inside)
    return wrap_longitude(lon), lat  # unwrapped ones and 0–360° data into ±180°


def wrap_longitude(lon: np.ndarray) -> np.ndarray:
    """Longitudes in (180°, 360°] (data written 0–360°, or shifted across the antimeridian) as the same
    meridians in ±180°; beyond 360° they stay, for the checks to refuse."""
    lon = np.asarray(lon, dtype=float)
    return np.where((lon > 180.0) & (lon <= 360.0), lon - 360.0, lon)


def unwrap_antimeridian(geoms: np.ndarray) -> np.ndarray:
    """Lon/lat (multi)polygons whose longitudes span more than 180° and fit within 180° once the
    negative longitudes are shifted by +360°: drawn across the antimeridian (a ring running
    179.9° → −179.9°), returned shifted (longitudes in (0°, 360°)); every other geometry as it is.
    Logged at info level with the number of geometries."""
    geoms = np.asarray(geoms, dtype=object)
    result, crossing = read_across_antimeridian(geoms)
    if crossing.any():
        logger.info("%d polygons cross the antimeridian (±180°); their demand points are placed by their shifted "
                    "longitudes", int(crossing.sum()))
        _warn_guessed_crossings(geoms[crossing])
    return result


def read_across_antimeridian(geoms: np.ndarray, types: tuple[int, ...] = (3, 6)) -> tuple[np.ndarray, np.ndarray]:
    """:func:`unwrap_antimeridian`'s geometries without its log lines (for the maps, which read every
    part, lines too: ``types``, shapely's type ids, default Polygon and MultiPolygon), and which of them
    it shifted."""
    geoms = np.asarray(geoms, dtype=object)
    polygons = np.isin(shapely.get_type_id(geoms), types)
    bounds = shapely.bounds(geoms)
    wide = polygons & (bounds[:, 2] - bounds[:, 0] > 180.0)
    crossing = np.zeros(len(geoms), dtype=bool)
    if not wide.any():
        return geoms, crossing
    shifted = shapely.transform(geoms[wide], lambda xy: np.column_stack([np.where(xy[:, 0] < 0, xy[:, 0] + 360.0,
                                                                                   xy[:, 0]), xy[:, 1]]))
    shifted_bounds = shapely.bounds(shifted)
    # a band drawn from −180° to 180° (a polar cap, maybe beside islands) is within ±180° already: shifted,
    # that part has no area left
    before, owner = shapely.get_parts(geoms[wide], return_index=True)
    area = shapely.area(before)
    collapsed = (shapely.area(shapely.get_parts(shifted)) <= 1e-9 * area) & (area > 0)
    keeps_area = np.bincount(owner, weights=collapsed, minlength=len(shifted)) == 0
    compact = (shifted_bounds[:, 2] - shifted_bounds[:, 0] <= 180.0) & keeps_area
    result = geoms.copy()
    crossing[np.flatnonzero(wide)[compact]] = True
    result[crossing] = shifted[compact]
    return result, crossing


GUESSED_CROSSING_DEG = 90.0  # read across ±180°, a polygon wider than this may as well be meant the other way


def _warn_guessed_crossings(crossing: np.ndarray) -> None:
    """A warning for the polygons read as crossing the antimeridian whose reading is a guess: wider than
    ``GUESSED_CROSSING_DEG`` across ±180°, where the reading through 0° is as plausible (a box from −100°
    to 100° is 160° wide one way and 200° the other; a box from 170° to −170°, 20° across ±180°, is not
    in doubt, nor are parts split at ±180°). The reading taken is said, with how to give the other."""
    coords, owner = shapely.get_coordinates(crossing, return_index=True)
    shifted = np.where(coords[:, 0] < 0, coords[:, 0] + 360.0, coords[:, 0])
    west = np.full(len(crossing), np.inf)
    east = np.full(len(crossing), -np.inf)
    np.minimum.at(west, owner, shifted)
    np.maximum.at(east, owner, shifted)
    # parts split at ±180° (as RFC 7946 asks; Russia in Natural Earth) say which way they are meant
    split = np.zeros(len(crossing), dtype=bool)
    split[np.intersect1d(owner[coords[:, 0] == -180.0], owner[coords[:, 0] == 180.0])] = True
    guessed = np.flatnonzero((east - west > GUESSED_CROSSING_DEG) & ~split)
    if len(guessed):
        west_lon, _, east_lon, _ = shapely.bounds(crossing[guessed[0]])
        logger.warning("%d polygons span more than 180° of longitude (e.g. one from %.4g° to %.4g°): each is read as "
                       "crossing the antimeridian, the shorter way round; if one spans the other way (through 0°), "
                       "give it as parts each narrower than 180°", len(guessed), west_lon, east_lon)


def polygons_split_at_antimeridian(geoms: np.ndarray) -> np.ndarray:
    """Lon/lat (multi)polygons drawn across the antimeridian (see :func:`unwrap_antimeridian`) or
    reaching beyond 180° (data written in 0–360°) as multipolygons split at ±180°, each part within
    ±180° (RFC 7946; what GIS software draws right: a ring 179.6° → −179.6° had been a band round the
    world in QGIS); other geometries wholly beyond 180° (points written in 0–360°) moved by −360°; every
    other geometry as it is."""
    geoms = np.asarray(geoms, dtype=object)
    shifted = unwrap_antimeridian(geoms).copy()
    bounds = shapely.bounds(shifted)
    polygons = np.isin(shapely.get_type_id(shifted), [3, 6])
    beyond = ~polygons & (bounds[:, 0] > 180.0)
    shifted[beyond] = shapely.transform(shifted[beyond], lambda xy: xy - np.array([360.0, 0.0]))
    crossing = np.flatnonzero(polygons & (bounds[:, 2] > 180.0))
    if not len(crossing):
        return shifted
    west = shapely.intersection(shifted[crossing], shapely.box(-180.0, -90.0, 180.0, 90.0))
    east = shapely.intersection(shifted[crossing], shapely.box(180.0, -90.0, 540.0, 90.0))
    east = shapely.transform(east, lambda xy: xy - np.array([360.0, 0.0]))
    result = shifted.copy()
    result[crossing] = [shapely.MultiPolygon([part for piece in (w, e) for part in getattr(piece, "geoms", [piece])
                                              if isinstance(part, shapely.Polygon) and not part.is_empty])
                        for w, e in zip(west, east, strict=True)]
    return result


def points_to_lonlat(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Point geometries as lon/lat degrees (polygons get their representative point)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return representative_lonlat(frame)


def has_finite_geometry(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Per row: the geometry is there, is not empty, and has finite coordinates only."""
    geoms = np.asarray(frame.geometry.array, dtype=object) if len(frame) else np.zeros(0, dtype=object)
    return ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & finite_coordinates(geoms)


def finite_coordinates(geoms: np.ndarray) -> np.ndarray:
    """Per geometry: no coordinate is inf or NaN (true of a missing or empty one)."""
    finite = np.ones(len(geoms), dtype=bool)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    finite[owner[~np.isfinite(coords).all(axis=1)]] = False
    return finite


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
            keys = np.sort(i * n_to + j)  # distinct, as np.unique gives them: its hashing took 4 s on 3 million
            keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]  # pairs (sites placed at demand points)
            i, j = keys // n_to, keys % n_to
    km = great_circle_km(from_lon[i], from_lat[i], to_lon[j], to_lat[j])
    keep = km <= max_great_circle_km
    return i[keep], j[keep], km[keep]


# --- equal-area projection ---------------------------------------------------------------------------------


def laea_crs(lon: float, lat: float) -> str:
    """A Lambert azimuthal equal-area projection (metres) centred on ``lon``, ``lat`` (degrees)."""
    return f"+proj=laea +lat_0={lat:.4f} +lon_0={lon:.4f} +datum=WGS84 +units=m +no_defs"


WORLD_MAP_ARC_DEG = 100.0  # a map's regions this far from its centre or farther: an azimuthal map folds them round


def world_crs(lon: float) -> str:
    """An Equal Earth projection (metres, equal-area) centred on the meridian ``lon``: for a map of data beyond
    a hemisphere, whose far regions a Lambert azimuthal projection stretches round its rim (and across it)."""
    return f"+proj=eqearth +lon_0={lon:.4f} +datum=WGS84 +units=m +no_defs"


def reaches_beyond_a_hemisphere(lon: np.ndarray, lat: np.ndarray, centre: tuple[float, float]) -> bool:
    """Whether some of the points lon/lat lie ``WORLD_MAP_ARC_DEG`` or more from ``centre`` (great-circle)."""
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return False
    cosine = unit_vectors(np.asarray(lon)[ok], np.asarray(lat)[ok]) @ unit_vectors(np.array([centre[0]]),
                                                                                    np.array([centre[1]]))[0]
    return bool(cosine.min() <= np.cos(np.radians(WORLD_MAP_ARC_DEG)))


SPLIT_SEGMENT_DEG = 1.0


def split_opposite(geoms: np.ndarray, lon: float) -> np.ndarray:
    """Lon/lat geometries turned by −``lon`` (the meridian ``lon`` becomes 0°), polygons and lines split at ±180°,
    the meridian opposite ``lon`` (each part moved within ±180°; a polygon drawn across the antimeridian is read
    as :func:`read_across_antimeridian` reads it): for a map centred on ``lon``, where a polygon or flow across
    that meridian is drawn in two parts, not as a band across the whole map. Points' longitudes wrapped."""
    geoms, _ = read_across_antimeridian(np.asarray(geoms, dtype=object))
    turned = shapely.transform(geoms, lambda xy: xy - np.array([lon, 0.0]))
    result = shapely.transform(turned, lambda xy: np.column_stack([(xy[:, 0] + 180.0) % 360.0 - 180.0, xy[:, 1]]))
    boxes = [(west, shapely.box(west, -90.0, west + 360.0, 90.0)) for west in (-540.0, -180.0, 180.0)]
    for kinds, part_type, multi in (([3, 6], shapely.Polygon, shapely.MultiPolygon),
                                    ([1, 5], shapely.LineString, shapely.MultiLineString)):
        rows = np.isin(shapely.get_type_id(turned), kinds)
        if not rows.any():
            continue
        windows = [shapely.transform(shapely.intersection(turned[rows], window),
                                     lambda xy, west=west: xy - np.array([west + 180.0, 0.0]))
                   for west, window in boxes]
        result[rows] = [multi([part for piece in pieces for part in shapely.get_parts(piece)
                               if isinstance(part, part_type) and not part.is_empty])
                        for pieces in zip(*windows, strict=True)]
    return shapely.segmentize(result, SPLIT_SEGMENT_DEG)  # the cut, a curve on the map, in short straight steps


def median_lonlat(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float]:
    """The median longitude and latitude; longitudes are taken relative to their circular mean, so a
    group straddling the antimeridian (±180°) gets a centre inside it rather than on the other side."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return 0.0, 0.0
    lon, lat = lon[ok], lat[ok]
    radians = np.radians(lon)
    reference = np.degrees(np.arctan2(np.sin(radians).mean(), np.cos(radians).mean()))
    offset = (lon - reference + 180.0) % 360.0 - 180.0
    centre = (reference + float(np.median(offset)) + 180.0) % 360.0 - 180.0
    return float(centre), float(np.median(lat))


def anchor_points(regions: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One lon/lat point per region, inside its largest part (so a county of scattered islands is
    placed where most of its land is); NaN for a missing or empty geometry."""
    geometry = regions.geometry
    if regions.crs is not None and not geometry.crs.equals(LONLAT):
        geometry = geometry.to_crs(LONLAT)
    geoms = np.asarray(geometry.array, dtype=object)
    lon = np.full(len(geoms), np.nan)
    lat = np.full(len(geoms), np.nan)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    if len(parts) == 0:
        return lon, lat
    parts = unwrap_antimeridian(parts)
    points = shapely.point_on_surface(parts)
    x, y = shapely.get_x(points), shapely.get_y(points)
    x = np.where(x > 180.0, x - 360.0, x)  # a part drawn across the antimeridian, back into [−180, 180]
    size = shapely.area(parts) * np.cos(np.radians(np.nan_to_num(y)))  # degree² × cos(latitude) ∝ km²
    order = np.lexsort((-size, owner))  # by owner, the largest part first
    first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
    lon[owner[first]], lat[owner[first]] = x[first], y[first]
    return lon, lat


def equal_area_crs(regions: gpd.GeoDataFrame) -> str:
    """A Lambert azimuthal equal-area projection centred on the median anchor point of the regions."""
    return laea_crs(*median_lonlat(*anchor_points(regions)))


# --- grouping of far-apart points --------------------------------------------------------------------------


def _chord_to_km(chord: np.ndarray) -> np.ndarray:
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.asarray(chord) / 2.0, 0.0, 1.0))


def _diameter_km(xyz: np.ndarray) -> float:
    """Great-circle diameter (km) of points on the unit sphere by a double sweep: the point farthest from
    their centre, then the point farthest from that one (never more than the true diameter, at least half
    of it, and usually equal)."""
    if len(xyz) < 2:
        return 0.0
    centre = xyz.mean(axis=0)
    centre = centre / np.linalg.norm(centre) if np.linalg.norm(centre) > 1e-12 else xyz[0]
    far = xyz[np.argmin(xyz @ centre)]
    return float(EARTH_RADIUS_KM * np.arccos(np.clip((xyz @ far).min(), -1.0, 1.0)))


def _distinct_points(xyz: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct points (rounded to ~6 m) and, per input point, its distinct point; coarser rounding
    (~6 km, ~64 km, ...) while there are more than ``limit``, so pairwise distances stay affordable."""
    for decimals in (6, 3, 2, 1, 0):
        unique, inverse = np.unique(np.round(xyz, decimals), axis=0, return_inverse=True)
        if len(unique) <= limit:
            break
    norms = np.linalg.norm(unique, axis=1, keepdims=True)
    return unique / np.where(norms > 0, norms, 1.0), inverse.ravel()


@dataclass(frozen=True)
class _Dendrogram:
    """The single-linkage tree of m distinct points on the unit sphere. Nodes 0..m-1 are the points, node
    m + r joins the two nodes of row r; every subtree is the run ``order[start : start + size]`` of the
    leaf order."""

    points: np.ndarray  # (m, 3) unit vectors
    weight: np.ndarray  # (m,) weight of each point
    tree: np.ndarray  # scipy linkage matrix, rows by ascending link length (chord)
    length_km: np.ndarray  # (m - 1,) great-circle length of each link
    order: np.ndarray  # (m,) leaf order
    start: np.ndarray  # (2m - 1,) per node: position of its first leaf in ``order``
    size: np.ndarray  # (2m - 1,) per node: its number of leaves
    node_weight: np.ndarray  # (2m - 1,) per node: the weight of its leaves

    @property
    def m(self) -> int:
        return len(self.points)

    def leaves(self, node: int) -> np.ndarray:
        return self.order[self.start[node] : self.start[node] + self.size[node]]


def _dendrogram(points: np.ndarray, weight: np.ndarray) -> _Dendrogram:
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import pdist

    m = len(points)
    tree = linkage(pdist(points), method="single")
    order = leaves_list(tree)
    start, size = np.empty(2 * m - 1, dtype=int), np.ones(2 * m - 1, dtype=int)
    node_weight = np.concatenate([weight, np.zeros(m - 1)])
    start[order] = np.arange(m)
    for row, (a, b) in enumerate(tree[:, :2].astype(int)):
        start[m + row] = min(start[a], start[b])
        size[m + row] = size[a] + size[b]
        node_weight[m + row] = node_weight[a] + node_weight[b]
    return _Dendrogram(points, weight, tree, _chord_to_km(tree[:, 2]), order, start, size, node_weight)


def _cut(dendrogram: _Dendrogram, k: int) -> tuple[np.ndarray, dict[int, int]] | None:
    """The k groups left by cutting the k - 1 longest links: a group (1..k) per point and the root node of
    each group; None where links of equal length make k groups impossible."""
    from scipy.cluster.hierarchy import fcluster, leaders

    m, tree = dendrogram.m, dendrogram.tree
    kept = tree[m - k - 1, 2] if k < m else -1.0  # the longest link kept
    if tree[m - k, 2] <= kept:
        return None
    if k == m:
        flat = np.arange(1, m + 1, dtype=np.int32)
        roots, root_groups = np.arange(m), flat
    else:
        flat = fcluster(tree, kept, criterion="distance")
        roots, root_groups = leaders(tree, flat)
    return flat, dict(zip(root_groups.tolist(), roots.tolist(), strict=True))


def _gaps_are_wide(
    dendrogram: _Dendrogram, k: int, flat: np.ndarray, root_of: dict[int, int], gap_ratio: float, gap_factor: float
) -> bool:
    """Whether every cut link is longer than t(H) of the heaviest group H on its heavier side."""
    d = dendrogram
    median_link = float(np.median(d.length_km))
    limits: dict[int, float] = {}  # t(H) per group, computed once
    for row in range(d.m - k, d.m - 1):  # the cut links
        a, b = d.tree[row, :2].astype(int)
        inside = d.leaves(a if d.node_weight[a] >= d.node_weight[b] else b)
        group = int(np.argmax(np.bincount(flat[inside], weights=d.weight[inside])))
        if group not in limits:
            root = root_of[group]
            own_link = float(d.length_km[root - d.m]) if root >= d.m else 0.0
            diameter = _diameter_km(d.points[flat == group])
            limits[group] = max(gap_ratio * diameter, gap_factor * own_link, gap_factor * median_link)
        if d.length_km[row] <= limits[group]:
            return False
    return True


def _ranked(flat: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Per point, the rank (0, 1, ...) of its group by decreasing total weight (groups in ``flat`` from 1)."""
    group_weight = np.bincount(flat, weights=weight)
    ranked = np.argsort(-group_weight[1:], kind="stable") + 1
    rank = np.zeros(len(group_weight), dtype=int)
    rank[ranked] = np.arange(len(ranked))
    return rank[flat]


def find_clusters(
    lon,
    lat,
    weights=None,
    *,
    gap_ratio: float = GAP_RATIO,
    gap_factor: float = GAP_FACTOR,
    max_clusters: int = MAX_CLUSTERS,
) -> np.ndarray:
    r"""Group points that lie far apart: a label per point, 0 for the main group (the most ``weights``, e.g.
    demand; by count without weights), then 1, 2, ... for the other groups by decreasing weight.

    Single-linkage clustering on great-circle distance (km): cutting the :math:`k-1` longest links of the
    minimum spanning tree gives :math:`k` groups. A cut link of length :math:`d` joins two parts; let
    :math:`H` be the heaviest group on its heavier part, :math:`D_H` the diameter of :math:`H`, :math:`g_H`
    its own longest link and :math:`\tilde g` the median link of all points. The link is long enough when

    .. math:: d > t(H) = \max(\rho D_H,\; \phi g_H,\; \phi \tilde g)

    (``gap_ratio`` ρ, ``gap_factor`` φ): the gap is large compared with the size of the group it leaves and
    with how densely that group and the data as a whole are spaced, so a sparse remote group (an island
    chain) is not itself broken up. The largest :math:`k \le` ``max_clusters`` whose cut links are all long
    enough wins; :math:`k = 1` if none. NaN points get label 0.

    >>> find_clusters([0, 0.5, 1, 60, 60.5], [0, 0.5, 0, 0, 0.5], [1, 1, 1, 1, 1]).tolist()
    [0, 0, 0, 1, 1]
    >>> find_clusters([0, 0.5, 1], [0, 0.5, 0]).tolist()
    [0, 0, 0]
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    labels = np.zeros(len(lon), dtype=int)
    ok = np.isfinite(lon) & np.isfinite(lat)
    weight = np.ones(len(lon)) if weights is None else np.nan_to_num(np.asarray(weights, dtype=float))
    weight = np.clip(weight, 0.0, None)
    if ok.sum() < 2 or max_clusters < 2:
        return labels
    if weight[ok].sum() <= 0:
        weight = np.ones(len(lon))
    points, inverse = _distinct_points(unit_vectors(lon[ok], lat[ok]), MAX_CLUSTER_POINTS)
    if len(points) < 2:
        return labels
    point_weight = np.bincount(inverse, weights=weight[ok], minlength=len(points)) + 1e-12  # present > absent
    dendrogram = _dendrogram(points, point_weight)
    best = np.zeros(len(points), dtype=int)
    for k in range(2, min(max_clusters, len(points)) + 1):
        cut = _cut(dendrogram, k)
        if cut is not None and _gaps_are_wide(dendrogram, k, *cut, gap_ratio, gap_factor):
            best = _ranked(cut[0], point_weight)
    labels[ok] = best[inverse]
    return labels


def region_clusters(regions: gpd.GeoDataFrame) -> np.ndarray:
    """:func:`find_clusters` on the regions' anchor points, weighted by their ``demand`` column if any."""
    lon, lat = anchor_points(regions)
    weights = regions["demand"].to_numpy(dtype=float) if "demand" in regions.columns else None
    return find_clusters(lon, lat, weights)
