"""``map.html``: the network as an interactive Leaflet map in one self-contained, offline file.

Leaflet 1.9.4 (BSD-2-Clause, vendored in ``assets/``) and the page's own script are inlined; the
data (regions simplified to a tolerance relative to their extent, coordinates rounded to 5
decimals ≈ 1 m) is embedded as JSON in a ``<script type="application/json">`` block with ``<``,
``>`` and ``&`` written as ``\\u003c``, ``\\u003e``, ``\\u0026``, and the script inserts every
string into the page with ``textContent``, so region names, ids and type names are always text.
Nothing is requested from another host unless ``basemap=True`` adds OpenStreetMap tiles.

Layers: regions coloured by the facility type serving most of their demand (or unmet), by share
unmet and by cost to serve (one at a time); flows as lines with width ~ quantity; sites as circles
coloured by type with area ~ capacity; popups on all of them; a legend and a layer control.
With inbound supply, two more overlays: "Suppliers" (triangles coloured by material, open when they
ship nothing; popup: id, material, capacity, price, shipped) and "Inbound flows" (magenta lines with
width ~ material volume; popup: supplier, site, material, quantity, distance, cost). Suppliers do
not frame the first view (regions and sites do), so a far supplier does not zoom the map out.
Missing columns, missing and non-finite numbers (shown as blank in the popups, drawn at the smallest
size) and a network without sites or flows all give a working page.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
import re
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.errors import InputError
from planner.export.charts import NO_DEMAND_COLOUR, OTHER_TYPE_COLOUR, UNMET_COLOUR, type_colours
from planner.export.static_map import INBOUND_COLOUR, material_colours, site_size_measure
from planner.export.summary import measure_unit
from planner.inputs.geo import LONLAT, has_finite_geometry, read_across_antimeridian

logger = logging.getLogger(__name__)

SIMPLIFY_FRACTION = 1e-4  # simplification tolerance as a fraction of the extent's diagonal
DECIMALS = 5  # coordinate rounding, degrees (1e-5° ≈ 1.1 m)
FLOW_WEIGHT_PX = (0.5, 6.0)  # line width of the smallest and the largest flow
INBOUND_WEIGHT_PX = (0.5, 4.0)  # line width of the smallest and the largest inbound flow
SITE_RADIUS_PX = (4.0, 18.0)  # circle radius of an empty site and of the largest capacity
COST_CLASSES = 5
COST_COLOURS = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
UNMET_CLASSES = [  # (upper bound of the share unmet, colour, label)
    (0.0, "#f7f7f7", "0 % (all served)"),
    (0.1, "#fcbba1", "up to 10 %"),
    (0.5, "#fb6a4a", "10–50 %"),
    (1.0 - 1e-9, "#cb181d", "50–100 %"),
    (1.0, "#67000d", "100 % (none served)"),
]
OSM_TILES = {
    "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "attribution": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
}
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _asset(name: str) -> str:
    return resources.files("planner.export").joinpath("assets", name).read_text(encoding="utf-8")


def _inline_css() -> str:
    """Leaflet's CSS without comments, its ``images/*.png`` references turned into data URIs."""
    css = re.sub(r"/\*.*?\*/", "", _asset("leaflet.css"), flags=re.DOTALL)

    def data_uri(match: re.Match) -> str:
        image = resources.files("planner.export").joinpath("assets", "images", match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(image).decode('ascii')})"

    return re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, css)


def script_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element: no ``</script>``, comment or entity can start in it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group(0)], text)


def _number(value: Any, digits: int = 6) -> float | int | None:
    """A JSON number with ``digits`` significant digits and at least two decimals (the popups round it
    as the tables' value rounds: 1,234,567.5 shows as 1,234,568); None for missing, non-finite or
    non-numeric values."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value):
        return None
    if value == int(value):
        return int(value)
    whole_digits = math.floor(math.log10(abs(value))) + 1
    return float(f"{value:.{max(digits, whole_digits + 2)}g}")


def _numbers(values, digits: int = 6) -> list:
    return [_number(v, digits) for v in values]


def _texts(values) -> list[str]:
    return ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in values]


def _column(frame: pd.DataFrame, name: str, default: Any = np.nan) -> pd.Series:
    """``frame[name]``, or ``default`` in every row when the column is missing."""
    return frame[name] if name in frame else pd.Series(default, index=frame.index)


def _sizes(values: pd.Series) -> np.ndarray:
    """What a symbol's size is proportional to: missing, negative and non-finite values count as 0."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(numbers) & (numbers > 0), numbers, 0.0)


def longitude_cut(x: np.ndarray) -> float | None:
    """Where to cut the longitudes so data crossing the antimeridian (e.g. the Aleutians) stays together.

    Returns the middle of the widest gap between the longitudes when that gap is wider than the one
    across ±180° (longitudes above the cut then get −360°), else None.
    """
    x = np.unique(x[np.isfinite(x)])
    if len(x) < 2:
        return None
    gaps = np.diff(x)
    widest = int(np.argmax(gaps))
    wrap_gap = x[0] + 360.0 - x[-1]
    return float(x[widest] + gaps[widest] / 2) if gaps[widest] > wrap_gap else None


def _shift(coords: np.ndarray, cut: float | None) -> np.ndarray:
    if cut is None:
        return coords
    coords = coords.copy()
    coords[coords[:, 0] > cut, 0] -= 360.0
    return coords


def _compact_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """The parts of ``geoms`` (a polygon of a multipolygon, a line, a point), those drawn across ±180°
    moved to one side of it (:func:`read_across_antimeridian`), their owners, their middle longitudes
    (in ±180° for those moved), which were moved, and whether a part goes round the globe (wider than
    180° either way: Antarctica, a polar cap)."""
    parts, owner = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    parts, crossing = read_across_antimeridian(parts, types=LINE_AND_POLYGON_TYPE_IDS)
    west, _, east, _ = shapely.bounds(parts).T
    middle = (west + east) / 2
    east_of_180 = crossing & (middle > 180.0)
    parts[east_of_180] = shapely.transform(parts[east_of_180], lambda xy: xy - np.array([360.0, 0.0]))
    middle[east_of_180] -= 360.0
    return parts, owner, middle, crossing, bool(np.nan_to_num(east - west)[~crossing].max(initial=0.0) > 180.0)


LINE_AND_POLYGON_TYPE_IDS = (1, 2, 3)  # shapely's LineString, LinearRing, Polygon: the parts that can be wide


MERCATOR_MAX_LAT = 85.0511  # Leaflet's Web Mercator draws nothing nearer the poles


def _warn_beyond_mercator(layers: list[np.ndarray]) -> None:
    """A warning where regions' points or sites lie nearer a pole than ``MERCATOR_MAX_LAT``: map.html
    draws them all on its top or bottom edge, one over the other (map.png shows them)."""
    with warnings.catch_warnings():  # a geometry with no finite position has no point: NaN, never beyond
        warnings.simplefilter("ignore", RuntimeWarning)
        latitudes = np.concatenate([shapely.get_y(shapely.point_on_surface(
            layer[~shapely.is_missing(layer) & ~shapely.is_empty(layer)])) for layer in layers])
    beyond = int((np.abs(latitudes) > MERCATOR_MAX_LAT).sum())
    if beyond:
        logger.warning("map.html: %d regions, sites or suppliers lie beyond %.2f° of latitude, where its Web "
                       "Mercator map draws them on its edge, one over the other; map.png and map.pdf show them",
                       beyond, MERCATOR_MAX_LAT)


def map_cut(geoms: np.ndarray) -> float | None:
    """The map's cut (:func:`longitude_cut`) between the middles of the parts of ``geoms``; None where a
    part goes round the globe, which any cut would tear."""
    _, _, middle, _, round_the_globe = _compact_parts(geoms)
    return None if round_the_globe else longitude_cut(middle)


def shifted_parts(geoms: np.ndarray, cut: float | None) -> np.ndarray:
    """``geoms`` with each part drawn across ±180° moved to one side of it, and each part moved by −360°
    as a whole where its middle lies east of ``cut``: a part is never torn across the cut (bands side by
    side round a pole had been drawn one over the others)."""
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return geoms
    parts, owner, middle, moved, _ = _compact_parts(geoms)
    if cut is not None:
        east = middle > cut
        parts[east] = shapely.transform(parts[east], lambda xy: xy - np.array([360.0, 0.0]))
        moved |= east
    result = geoms.copy()
    multipart = np.isin(shapely.get_type_id(geoms), MULTIPART_TYPE_IDS)
    single = ~multipart[owner] & moved
    result[owner[single]] = parts[single]
    touched = np.unique(owner[moved & multipart[owner]])  # multipolygons (islands), multipoints with a part moved
    starts = np.searchsorted(owner, touched)  # get_parts lists each geometry's parts together, in order
    ends = np.searchsorted(owner, touched, side="right")
    for i, start, end in zip(touched.tolist(), starts.tolist(), ends.tolist(), strict=True):
        result[i] = type(geoms[i])(list(parts[start:end]))
    return result


MULTIPART_TYPE_IDS = (4, 5, 6, 7)  # shapely's MultiPoint, MultiLineString, MultiPolygon, GeometryCollection


def _in_lonlat(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise InputError(f"{what}: the layer has no CRS; set one (e.g. frame.set_crs('EPSG:4326')) before mapping")
    return frame.to_crs(LONLAT)


def _region_geometries(regions: gpd.GeoDataFrame, cut: float | None) -> np.ndarray:
    """Shifted across the antimeridian if needed, simplified relative to the extent, rounded."""
    geometry = shifted_parts(regions.geometry.to_numpy(), cut)
    xmin, ymin, xmax, ymax = shapely.total_bounds(geometry)
    if np.all(np.isfinite([xmin, ymin, xmax, ymax])):
        tolerance = SIMPLIFY_FRACTION * math.hypot(xmax - xmin, ymax - ymin)
        geometry = shapely.simplify(geometry, tolerance, preserve_topology=True)
    return shapely.transform(geometry, lambda c: np.round(c, DECIMALS))


def _cost_classes(cost: pd.Series) -> tuple[np.ndarray, list[float]]:
    """Quantile class (0..COST_CLASSES-1) of each finite cost, −1 otherwise; and the class edges."""
    finite = cost[np.isfinite(cost)]
    if finite.empty:
        return np.full(len(cost), -1), []
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, COST_CLASSES + 1)))
    if len(edges) == 1:
        edges = np.array([edges[0], edges[0]])
    classes = np.clip(np.searchsorted(edges, cost.to_numpy(), side="right") - 1, 0, len(edges) - 2)
    return np.where(np.isfinite(cost.to_numpy()), classes, -1), edges.tolist()


def _region_data(
    regions: gpd.GeoDataFrame, type_ids: tuple[str, ...], per_unit: str, cut: float | None
) -> tuple[dict, list[dict]]:
    """The regions as a GeoJSON FeatureCollection and the three colourings with their legends."""
    table = _region_table(regions)
    has_demand = table["demand"].fillna(0).to_numpy() > 0
    colourings = [
        _served_colouring(table["served_by"], type_ids),
        _unmet_colouring(table["unmet_share"], has_demand),
        _cost_colouring(table["cost_to_serve"], has_demand, per_unit),
    ]
    index = np.column_stack([colour_index for colour_index, _ in colourings])
    geometry = _region_geometries(regions, cut)
    features = [
        _region_feature(geom, row, index[i])
        for i, (geom, row) in enumerate(zip(geometry, table.to_dict("records"), strict=True))
        if geom is not None and not shapely.is_empty(geom)
    ]
    return {"type": "FeatureCollection", "features": features}, [layer for _, layer in colourings]


def _region_table(regions: gpd.GeoDataFrame) -> pd.DataFrame:
    """What the popups and the colourings read, a column each, whatever the layer lacks filled in."""
    ids = _texts(regions["region_id"]) if "region_id" in regions else [str(i) for i in range(len(regions))]
    return pd.DataFrame(
        {
            "id": ids,
            "name": _texts(regions["region_name"]) if "region_name" in regions else ids,
            "served_by": _column(regions, "served_by", "no demand").fillna("no demand").astype(str).to_numpy(),
            **{name: pd.to_numeric(_column(regions, name), errors="coerce").to_numpy(dtype=float)
               for name in ("demand", "unmet_share", "cost_to_serve")},
        }
    )


def _region_feature(geom, row: dict, colour_index: np.ndarray) -> dict:
    return {
        "type": "Feature",
        "geometry": json.loads(shapely.to_geojson(geom)),
        "properties": {
            "id": row["id"],
            "name": row["name"],
            "served_by": row["served_by"],
            "demand": _number(row["demand"]),
            "unmet_share": _number(row["unmet_share"], 8),  # 4 digits had made 0.99999 of 36,000 units 1
            "cost_to_serve": _number(row["cost_to_serve"]),
            "c": [int(i) for i in colour_index],
        },
    }


def _layer(label: str, title: str, colours: list[str], legend: list[list[str]]) -> dict:
    return {"label": label, "title": title, "colours": colours, "legend": legend}


def _served_colouring(served_by: pd.Series, type_ids: tuple[str, ...]) -> tuple[np.ndarray, dict]:
    """By the facility type serving most of each region's demand; types the run does not know in grey."""
    known = {**type_colours(type_ids), "unmet": UNMET_COLOUR, "no demand": NO_DEMAND_COLOUR}
    other = [v for v in dict.fromkeys(served_by) if v not in known]  # e.g. types of another run
    keys = [*known, *other]
    colours = [*known.values(), *[OTHER_TYPE_COLOUR] * len(other)]
    index = served_by.map({key: i for i, key in enumerate(keys)}).to_numpy()
    present = set(served_by)
    legend = [
        [colours[i], key if key in ("unmet", "no demand") else f"served by {key}"]
        for i, key in enumerate(keys)
        if key in present
    ]
    return index, _layer("Regions: mainly served by", "Regions: mainly served by", colours, legend)


def _unmet_colouring(unmet_share: pd.Series, has_demand: np.ndarray) -> tuple[np.ndarray, dict]:
    """By the share of demand unmet, in the classes of ``UNMET_CLASSES``; a missing share counts as 0."""
    bounds = np.array([upper for upper, _, _ in UNMET_CLASSES])
    index = np.searchsorted(bounds, unmet_share.fillna(0).clip(0, 1).to_numpy(), side="left")
    index = np.where(has_demand, np.minimum(index, len(bounds) - 1), len(bounds))
    colours = [colour for _, colour, _ in UNMET_CLASSES] + [NO_DEMAND_COLOUR]
    legend = [[colour, label] for _, colour, label in UNMET_CLASSES]
    if not has_demand.all():
        legend.append([NO_DEMAND_COLOUR, "no demand"])
    return index, _layer("Regions: share unmet", "Regions: share of demand unmet", colours, legend)


def _edge_text(value: float) -> str:
    """A class edge of the cost to serve: two decimals from 1 on, four significant digits below (a model in kEUR
    had every class read 0.00–0.00)."""
    return f"{value:,.2f}" if abs(value) >= 1 or value == 0 else f"{value:.4g}"


def _cost_colouring(cost: pd.Series, has_demand: np.ndarray, per_unit: str) -> tuple[np.ndarray, dict]:
    """By quantile class of the cost to serve (one class when all costs are equal)."""
    cost_class, edges = _cost_classes(cost.where(has_demand))
    colours = COST_COLOURS[: max(len(edges) - 1, 1)] + [NO_DEMAND_COLOUR]
    index = np.where(cost_class >= 0, cost_class, len(colours) - 1)
    legend = [[colours[i], f"{_edge_text(edges[i])}–{_edge_text(edges[i + 1])}"] for i in range(len(edges) - 1)]
    if not has_demand.all():
        legend.append([NO_DEMAND_COLOUR, "no demand"])
    title = f"Regions: cost to serve ({per_unit}, quantiles)"
    return index, _layer("Regions: cost to serve", title, colours, legend)


SITE_KEYS = ("id", "type", "modules", "capacity", "production", "utilization", "fixed_cost", "lon", "lat", "colour",
             "radius")
FLOW_KEYS = ("site", "type", "region", "product", "quantity", "distance_km", "cost", "path", "weight")


def _drawable(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """The rows in lon/lat whose geometry is there, not empty, and has finite coordinates only."""
    if not len(frame):
        return frame
    frame = _in_lonlat(frame, what)
    return frame[has_finite_geometry(frame)]


def _point_coords(points: gpd.GeoDataFrame, cut: float | None) -> np.ndarray:
    """(n, 2) lon, lat of the points, shifted across the antimeridian if needed and rounded."""
    if not len(points):
        return np.zeros((0, 2))
    return np.round(_shift(shapely.get_coordinates(points.geometry.to_numpy()), cut), DECIMALS)


def _site_data(sites: gpd.GeoDataFrame, type_ids: tuple[str, ...], cut: float | None) -> tuple[dict, list]:
    """Open sites, columnar, with colour by type and radius ~ √capacity (production if uncapacitated)."""
    colours = type_colours(type_ids)
    sites = _drawable(sites, "sites")
    if not len(sites):
        return {k: [] for k in SITE_KEYS}, []
    coords = _point_coords(sites, cut)
    capacity = pd.to_numeric(_column(sites, "capacity"), errors="coerce")
    size = _sizes(capacity.where(np.isfinite(capacity), _column(sites, "production")))
    low, high = SITE_RADIUS_PX
    radius = low + (high - low) * np.sqrt(size / max(float(size.max()), 1e-9))
    types = _texts(_column(sites, "facility_type", ""))
    data = {
        "id": _named_ids(sites),
        "type": types,
        "modules": _numbers(_column(sites, "modules")),
        "capacity": _numbers(capacity),
        "production": _numbers(_column(sites, "production")),
        "utilization": _numbers(_column(sites, "utilization"), 8),
        "fixed_cost": _numbers(_column(sites, "fixed_cost")),
        "lon": coords[:, 0].tolist(),
        "lat": coords[:, 1].tolist(),
        "colour": [colours.get(t, OTHER_TYPE_COLOUR) for t in types],
        "radius": np.round(radius, 1).tolist(),
    }
    legend = [[colours[t], t] for t in type_ids if t in set(types)]
    legend += [[OTHER_TYPE_COLOUR, t] for t in dict.fromkeys(types) if t not in colours]
    return data, legend


def _line_paths(lines: gpd.GeoDataFrame, cut: float | None) -> list[list[list[float]]]:
    """Each line as a [[lat, lon], ...] path from its first point shifted across the antimeridian if
    needed, each next point the short way from the one before (a flow London–Tokyo goes east, as its
    distance is measured, whatever the map's cut), rounded."""
    coords, owner = shapely.get_coordinates(lines.geometry.to_numpy(), return_index=True)
    coords = _shift(coords, cut)
    if len(coords) > 1:
        step = np.diff(coords[:, 0])
        same_line = owner[1:] == owner[:-1]
        turns = np.where(same_line, -360.0 * np.round(step / 360.0), 0.0)  # each step within ±180°
        shift = np.cumsum(np.concatenate(([0.0], turns)))
        starts = np.concatenate(([True], ~same_line))
        first = np.maximum.accumulate(np.where(starts, np.arange(len(shift)), 0))  # each point's line start
        coords[:, 0] += shift - shift[first]
    coords = np.round(coords, DECIMALS)
    paths: list[list[list[float]]] = [[] for _ in range(len(lines))]
    for (x, y), i in zip(coords.tolist(), owner.tolist(), strict=True):
        paths[i].append([y, x])
    return paths


def _weights(quantity: pd.Series, limits: tuple[float, float]) -> list[float]:
    """Line widths (px) linear in quantity between ``limits``; missing and non-positive values thinnest."""
    size = _sizes(quantity)
    low, high = limits
    return np.round(low + (high - low) * size / max(float(size.max(initial=0.0)), 1e-9), 2).tolist()


def _named_ids(sites: gpd.GeoDataFrame) -> list[str]:
    """Each site's id, with its name in brackets where the sites have names (``site_name``) and it differs."""
    ids = _texts(_column(sites, "site_id", ""))
    if "site_name" not in sites:
        return ids
    names = _texts(_column(sites, "site_name", ""))
    return [f"{site} ({name})" if name and name != site else site for site, name in zip(ids, names, strict=True)]


def _flow_data(flows: gpd.GeoDataFrame, cut: float | None) -> dict:
    """Flows, columnar, each a [[lat, lon], [lat, lon]] path and a width ~ quantity."""
    flows = _drawable(flows, "flows")
    if not len(flows):
        return {k: [] for k in FLOW_KEYS}
    quantity = _column(flows, "quantity")
    return {
        "site": _texts(_column(flows, "site_id", "")),
        "type": _texts(_column(flows, "facility_type", "")),
        "region": _texts(_column(flows, "region_id", "")),
        "product": _texts(_column(flows, "product", "")),
        "quantity": _numbers(quantity),
        "distance_km": _numbers(_column(flows, "distance_km"), 5),
        **({"minutes": _numbers(flows["minutes"], 5)} if "minutes" in flows else {}),  # an OD matrix's times
        "cost": _numbers(_column(flows, "cost")),
        "path": _line_paths(flows, cut),
        "weight": _weights(quantity, FLOW_WEIGHT_PX),
    }


def _supply_data(suppliers: gpd.GeoDataFrame | None, inbound: gpd.GeoDataFrame | None,
                 cut: float | None) -> dict | None:
    """Suppliers and inbound flows, columnar, with the material legend; None without suppliers."""
    if suppliers is None and inbound is None:
        return None
    colours = material_colours(suppliers, inbound)
    suppliers = _drawable(suppliers if suppliers is not None else gpd.GeoDataFrame(), "suppliers")
    inbound = _drawable(inbound if inbound is not None else gpd.GeoDataFrame(), "inbound")
    coords = _point_coords(suppliers, cut)
    materials = _texts(_column(suppliers, "material", ""))
    return {
        "suppliers": {
            "id": _texts(_column(suppliers, "supplier_id", "")),
            "material": materials,
            "capacity": _numbers(_column(suppliers, "capacity_per_yr")),
            "price": _numbers(_column(suppliers, "cost_per_unit")),
            "shipped": _numbers(_column(suppliers, "shipped")),
            "lon": coords[:, 0].tolist(),
            "lat": coords[:, 1].tolist(),
            "colour": [colours.get(m, OTHER_TYPE_COLOUR) for m in materials],
        },
        "inbound": {
            "supplier": _texts(_column(inbound, "supplier_id", "")),
            "site": _texts(_column(inbound, "site_id", "")),
            "material": _texts(_column(inbound, "material", "")),
            "quantity": _numbers(_column(inbound, "quantity")),
            "distance_km": _numbers(_column(inbound, "distance_km"), 5),
            "cost": _numbers(_column(inbound, "cost")),
            "path": _line_paths(inbound, cut) if len(inbound) else [],
            "weight": _weights(_column(inbound, "quantity"), INBOUND_WEIGHT_PX) if len(inbound) else [],
        },
        "legend": [[colour, material] for material, colour in colours.items()],
        "line_colour": INBOUND_COLOUR,
    }


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{leaflet_css}
</style>
<style>
html, body {{ height: 100%; margin: 0; font-family: system-ui, sans-serif; }}
body {{ display: flex; flex-direction: column; }}
#planner-title {{ margin: 0; padding: 6px 12px; font-size: 15px; font-weight: 600; background: #fff;
  border-bottom: 1px solid #ccc; }}
#map {{ flex: 1; background: #f4f6f8; }}
.planner-legend {{ background: rgba(255, 255, 255, 0.92); padding: 6px 8px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0, 0, 0, 0.3); font-size: 12px; line-height: 18px; max-width: 260px; }}
.planner-legend strong {{ display: block; margin-top: 4px; }}
.planner-legend-row {{ display: flex; align-items: center; gap: 6px; }}
.planner-swatch {{ width: 14px; height: 12px; border: 1px solid #999; opacity: 0.8; flex: none; }}
.planner-dot {{ width: 10px; height: 10px; border: 1px solid #000; border-radius: 50%; flex: none; }}
.planner-line {{ width: 18px; height: 3px; opacity: 0.6; flex: none; }}
.planner-supplier {{ background: none; border: none; }}
.planner-popup table {{ border-collapse: collapse; margin-top: 4px; }}
.planner-popup th {{ text-align: left; font-weight: normal; color: #555; padding-right: 10px; }}
</style>
</head>
<body>
<h1 id="planner-title"></h1>
<div id="map"></div>
<script id="planner-data" type="application/json">{data}</script>
<script>
{leaflet_js}
</script>
<script>
{map_js}
</script>
</body>
</html>
"""


def interactive_map_html(
    regions: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    flows: gpd.GeoDataFrame,
    type_ids: tuple[str, ...],
    title: str,
    basemap: bool = False,
    currency: str = "currency",
    suppliers: gpd.GeoDataFrame | None = None,
    inbound: gpd.GeoDataFrame | None = None,
    kind: str = "cost",
) -> str:
    """The page as a string; see :func:`write_interactive_map`."""
    regions = _in_lonlat(regions, "regions")
    everything = [regions.geometry.to_numpy()]
    for frame, what in ((sites, "sites"), (suppliers, "suppliers")):
        if frame is not None and len(frame):
            everything.append(_in_lonlat(frame, what).geometry.to_numpy())
    cut = map_cut(np.concatenate(everything))
    _warn_beyond_mercator(everything)
    if cut is not None:
        logger.info("map: the data crosses the antimeridian; longitudes east of %.1f° are drawn west of -180°", cut)
    per_year, per_unit = (measure_unit(unit, kind, currency) for unit in ("currency/yr", "currency/unit"))
    region_collection, region_layers = _region_data(regions, tuple(type_ids), per_unit, cut)
    site_columns, site_legend = _site_data(sites, tuple(type_ids), cut)
    data = {
        "title": str(title),
        "currency": currency,
        "per_year": per_year,
        "per_unit": per_unit,
        "basemap": OSM_TILES if basemap else None,
        "regions": region_collection,
        "region_layers": region_layers,
        "sites": site_columns,
        "site_legend": site_legend,
        "site_size": site_size_measure(sites) if len(sites) else "capacity",
        "flows": _flow_data(flows, cut),
        "supply": _supply_data(suppliers, inbound, cut),
    }
    leaflet_js = _asset("leaflet.js")
    map_js = _asset("interactive_map.js")
    for name, code in (("leaflet.js", leaflet_js), ("interactive_map.js", map_js)):
        if "</script" in code.lower():  # would end the inline script early
            raise RuntimeError(f"assets/{name} contains '</script'; it cannot be inlined")
    return PAGE.format(
        title=html.escape(str(title)),
        leaflet_css=_inline_css(),
        data=script_json(data),
        leaflet_js=leaflet_js,
        map_js=map_js,
    )


def write_interactive_map(
    regions: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    flows: gpd.GeoDataFrame,
    type_ids: tuple[str, ...],
    title: str,
    path: Path,
    basemap: bool = False,
    currency: str = "currency",
    suppliers: gpd.GeoDataFrame | None = None,
    inbound: gpd.GeoDataFrame | None = None,
    kind: str = "cost",
) -> None:
    """Write ``map.html`` to ``path``: one self-contained file that works offline.

    ``regions``, ``sites`` and ``flows`` are the layers of :mod:`planner.export.layers` (any CRS;
    they are drawn in lon/lat). ``basemap=True`` adds OpenStreetMap tiles, the only outside
    requests the page can make. ``currency`` labels the money figures in the popups; ``kind``, a classic
    ``[objective] kind``, labels the cost figures in its measure instead. ``suppliers``
    and ``inbound`` (:func:`~planner.export.layers.supplier_layer`, :func:`~planner.export.layers.inbound_layer`;
    None without suppliers) add the layers "Suppliers" and "Inbound flows".
    """
    page = interactive_map_html(regions, sites, flows, type_ids, title, basemap=basemap, currency=currency,
                                suppliers=suppliers, inbound=inbound, kind=kind)
    Path(path).write_text(page, encoding="utf-8")
    logger.info("wrote %s (%.0f kB)", Path(path).name, len(page.encode("utf-8")) / 1000)
