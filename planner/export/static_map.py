"""The static map of a solved network, written as ``map.png``, ``map.svg`` and ``map.pdf`` from one figure.

Regions are filled with the colour of the facility type that serves most of their demand (or as unmet),
sites are circles by type with area proportional to capacity, flows are grey lines with width proportional
to volume. Every panel is drawn in a Lambert azimuthal equal-area projection centred on its own data and
carries a scale bar in km (true at the panel's centre); where its regions reach 100° or more from that
centre (``planner.inputs.geo.WORLD_MAP_ARC_DEG``: data round the world), an Equal Earth projection on the
centre's meridian instead, the regions and flows split at the meridian opposite
(:func:`planner.inputs.geo.split_opposite`).

Far-away parts get insets. The regions are grouped by single-linkage clustering of one anchor point each
(:func:`planner.inputs.geo.find_clusters`); the group with the most demand fills the main panel and, where
the other groups hold fewer regions than it (a few far-away regions, :func:`panel_groups`), every other
group is drawn in a small inset at its own scale: along the main panel's edge where it hides (almost)
nothing, nearest a corner, else in a row below the main panel. Flows are drawn in each panel that holds one
of their ends, cut at the panel's edge, so a line leaving the main map points towards the remote group it
serves. Nothing here knows about particular countries.

Public steps: :func:`build_map_figure` (the matplotlib ``Figure``), :func:`save_figure` (one figure to
several files), and the two writers :func:`draw_maps` (``map.png``, ``map.svg``, ``map.pdf`` in a folder) and
:func:`draw_map` (explicit paths). The projection and the grouping live in :mod:`planner.inputs.geo`.

A network that opens nothing (no sites, no flows) draws its regions only; missing and non-finite
capacities and quantities are drawn at the smallest symbol size.

With inbound supply (``suppliers`` and ``inbound``, the layers of :func:`planner.export.layers.supplier_layer`
and :func:`~planner.export.layers.inbound_layer`), suppliers are small triangles coloured by material (open
when they ship nothing) and inbound flows thin magenta lines with width proportional to the material volume,
on their own scale; both are listed in the legend. Suppliers never frame a panel: the panels are framed by
their regions and sites as without suppliers, a supplier is drawn in the panels whose view holds it, an
inbound line in the panels that hold one of its ends, cut at the panel's edge (a line to a supplier off the
map points towards it); the caption says how many suppliers lie outside every panel. Without suppliers the
map is exactly the map of a run without inbound supply.
"""

from __future__ import annotations

import dataclasses
import logging
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.errors import InputError
from planner.export.charts import NO_DEMAND_COLOUR, UNMET_COLOUR, plain_text, text_as_written, type_colours
from planner.inputs.geo import (
    LONLAT,
    anchor_points,
    find_clusters,
    has_finite_geometry,
    laea_crs,
    median_lonlat,
    reaches_beyond_a_hemisphere,
    split_opposite,
    unit_vectors,
    world_crs,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

FLOW_COLOUR = "#3a3a3a"
OUTLINE_COLOUR = "#6e6e6e"
FILL_LIGHTEN = 0.55  # region fills: the type colour mixed with this share of white (sites keep the full colour)

FORMATS = ("png", "svg", "pdf")
PNG_DPI = 150

# Symbols: circle area in pt² proportional to capacity; flow width in pt linear in volume.
SITE_MAX_AREA = 600.0
SITE_MIN_AREA = 10.0
FLOW_MIN_WIDTH = 0.2
FLOW_MAX_WIDTH = 3.0
FLOW_ALPHA = 0.4
INBOUND_COLOUR = "#c51b7d"  # magenta: apart from the grey flows and the facility-type colours
INBOUND_MAX_WIDTH = 2.0  # pt; inbound lines are thinner than the outbound flows
INBOUND_ALPHA = 0.55
SUPPLIER_AREA = 30.0  # pt², one triangle size for every supplier
MATERIAL_COLOURS = ["#e6ab02", "#1b9e77", "#6a3d9a", "#666666", "#a6761d", "#66a61e", "#000000"]

# Layout, in inches.
FIGURE_WIDTH = 13.0
MARGIN = 0.25
LEGEND_WIDTH = 2.9
TITLE_HEIGHT = 0.55
TITLE_FONT_SIZE = 13.0
TITLE_MIN_FONT_SIZE = 9.0  # below this a long title is wrapped (two lines of 9 pt fit in the title's band)
CAPTION_HEIGHT = 0.5  # at least; more where the caption wraps to more than two lines
CAPTION_FONT_SIZE = 7.5
CAPTION_BASE = 0.14  # the caption's lowest line above the figure's edge
CAPTION_LINE = 1.25 * CAPTION_FONT_SIZE / 72  # inches per line
MAP_MAX_HEIGHT = 7.6
MAP_MIN_HEIGHT = 3.0
INSET_MAX_WIDTH = 0.3  # share of the main panel's width
INSET_MAX_HEIGHT = 0.36  # share of the main panel's height
FREE_SHARE = 0.01  # an inset inside the main panel hides at most this share of its area of map content


# --- panels ----------------------------------------------------------------------------------------------


@dataclass
class _Panel:
    """One group of regions in its own projection; ``view`` is (xmin, ymin, xmax, ymax) in metres."""

    label: int
    crs: str
    centre: tuple[float, float]
    regions: gpd.GeoDataFrame
    colours: np.ndarray
    view: tuple[float, float, float, float]
    site_rows: np.ndarray
    flow_rows: np.ndarray


def _lighten(colour: str, share: float = FILL_LIGHTEN) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return tuple(c + (1.0 - c) * share for c in to_rgb(colour))


def _nice_floor(value: float) -> float:
    """The largest 1, 2 or 5 × 10^k not above ``value``."""
    if not np.isfinite(value) or value <= 0:
        return 0.0
    power = 10.0 ** np.floor(np.log10(value))
    return float(max(m * power for m in (1, 2, 5) if m * power <= value * (1 + 1e-9)))


MIN_VIEW_M = 5_000.0  # a panel spans at least this much (one site, or regions at one place: a 0.0001 km scale bar)


def padded_view(bounds, share: float) -> tuple[float, float, float, float]:
    """``bounds`` (metres) at least ``MIN_VIEW_M`` wide and high about their centre, padded by ``share``."""
    xmin, ymin, xmax, ymax = bounds
    grow_x, grow_y = max(MIN_VIEW_M - (xmax - xmin), 0.0) / 2, max(MIN_VIEW_M - (ymax - ymin), 0.0) / 2
    xmin, xmax, ymin, ymax = xmin - grow_x, xmax + grow_x, ymin - grow_y, ymax + grow_y
    pad = share * max(xmax - xmin, ymax - ymin)
    return xmin - pad, ymin - pad, xmax + pad, ymax + pad


def _fit_aspect(view, aspect: float) -> tuple[float, float, float, float]:
    """Widen ``view`` about its centre to width/height = ``aspect``."""
    xmin, ymin, xmax, ymax = view
    width, height = max(xmax - xmin, 1.0), max(ymax - ymin, 1.0)
    if width / height < aspect:
        width = height * aspect
    else:
        height = width / aspect
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2


def _nearest_label(lon: np.ndarray, lat: np.ndarray, anchors_xyz: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The group of the nearest anchor point of each lon/lat point; 0 (the main panel) where not finite."""
    from scipy.spatial import cKDTree

    found = np.zeros(len(lon), dtype=int)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if ok.any() and len(anchors_xyz):
        _, nearest = cKDTree(anchors_xyz).query(unit_vectors(lon[ok], lat[ok]))
        found[ok] = labels[nearest]
    return found


def _line_ends(flows: gpd.GeoDataFrame) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """lon and lat of the first and of the last vertex of each flow line (NaN for a missing or empty line)."""
    geoms = np.asarray(flows.geometry.array, dtype=object) if len(flows) else np.zeros(0, dtype=object)
    return line_ends(geoms)


def line_ends(geoms: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(x, y) of the first and of the last vertex of each line, also of a line in parts (a flow split at
    the antimeridian); NaN for a missing or empty one."""
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    rows = np.arange(len(geoms))
    first = np.searchsorted(owner, rows, side="left")
    last = np.searchsorted(owner, rows, side="right") - 1
    has = last >= first
    ends = np.full((2, 2, len(geoms)), np.nan)
    for end, position in enumerate((first, last)):
        ends[end, :, has] = coords[position[has]]
    return (ends[0, 0], ends[0, 1]), (ends[1, 0], ends[1, 1])


def _merge_flows(flows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One line per (site, region) with the quantity of all products, so lines do not overlap."""
    keys = [c for c in ("site_id", "region_id") if c in flows.columns]
    if len(keys) < 2 or not len(flows):
        return flows
    grouped = flows.groupby(keys, sort=False, as_index=False).agg(quantity=("quantity", "sum"))
    first = flows.drop_duplicates(keys)[[*keys, flows.geometry.name]]
    merged = first.merge(grouped, on=keys)
    return gpd.GeoDataFrame(merged, geometry=flows.geometry.name, crs=flows.crs)


@dataclass(frozen=True)
class _Symbols:
    """What each panel draws over its regions: the sites with their circle areas and colours, the flows with
    their line widths, and the largest capacity and flow the legend's reference symbols are scaled to."""

    sites: gpd.GeoDataFrame
    site_sizes: np.ndarray  # pt²
    largest_capacity: float  # units/yr
    flows: gpd.GeoDataFrame
    flow_widths: np.ndarray  # pt
    largest_flow: float  # units/yr
    colours: dict[str, str]  # per facility type
    supply: _Supply | None = None  # only with suppliers


@dataclass(frozen=True)
class _Supply:
    """The suppliers (lon/lat) with a colour per material, and the inbound lines (lon/lat) with their widths
    and the largest inbound quantity the legend's reference lines are scaled to."""

    suppliers: gpd.GeoDataFrame
    colours: dict[str, str]  # per material
    inbound: gpd.GeoDataFrame
    inbound_widths: np.ndarray  # pt
    largest_inbound: float  # units of material/yr
    unit: str


def material_colours(*frames: pd.DataFrame | None) -> dict[str, str]:
    """The colour of each material, in the order of first appearance in the ``material`` column of the
    frames (the palette repeats after seven)."""
    materials = [m for frame in frames if frame is not None and "material" in frame for m in frame["material"]]
    return {str(m): MATERIAL_COLOURS[i % len(MATERIAL_COLOURS)] for i, m in enumerate(dict.fromkeys(materials))}


def _positive(frame: pd.DataFrame, column: str) -> np.ndarray:
    """``frame[column]`` as floats; missing, negative and non-finite values (and a missing column) as 0."""
    if not len(frame) or column not in frame:
        return np.zeros(len(frame))
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(values) & (values > 0), values, 0.0)


def _symbols(sites: gpd.GeoDataFrame, flows: gpd.GeoDataFrame, type_ids: Sequence[str],
             supply: _Supply | None = None, largest: tuple[float, float] | None = None) -> _Symbols:
    """Circle areas and line widths; a missing, negative or non-finite quantity draws the thinnest line.
    ``largest``: the (capacity, flow) the symbols are scaled to, when not those of ``sites`` and ``flows``."""
    site_sizes, largest_capacity = _site_sizes(sites, None if largest is None else largest[0])
    quantity = _positive(flows, "quantity")
    largest_flow = float(quantity.max()) if len(quantity) else 0.0
    if largest is not None:
        largest_flow = largest[1]
    widths = _flow_widths(quantity, largest_flow)
    return _Symbols(sites, site_sizes, largest_capacity, flows, widths, largest_flow, type_colours(type_ids), supply)


def _supply_symbols(suppliers: gpd.GeoDataFrame | None, inbound: gpd.GeoDataFrame | None) -> _Supply | None:
    """The supply layers in lon/lat (rows without a finite geometry dropped) with their symbols; None when
    both are None. A layer with rows and no CRS is an error."""
    if suppliers is None and inbound is None:
        return None
    frames = []
    for name, frame in (("suppliers", suppliers), ("inbound", inbound)):
        if frame is None:
            frame = gpd.GeoDataFrame({"material": []}, geometry=gpd.GeoSeries([], crs=LONLAT))
        if frame.crs is None and len(frame):
            raise InputError(f"map: the {name} layer has no CRS; set one, e.g. gdf.set_crs('EPSG:4326')")
        frame = frame[has_finite_geometry(frame)] if len(frame) else frame
        frames.append(frame.to_crs(LONLAT) if len(frame) else frame)
    suppliers, inbound = frames
    quantity = _positive(inbound, "quantity")
    largest = float(quantity.max()) if len(quantity) else 0.0
    unit = inbound.attrs.get("unit", {}).get("quantity", "units/yr")
    widths = _flow_widths(quantity, largest, INBOUND_MAX_WIDTH)
    return _Supply(suppliers, material_colours(suppliers, inbound), inbound, widths, largest, unit)


def _site_sizes(sites: gpd.GeoDataFrame, scale_to: float | None = None) -> tuple[np.ndarray, float]:
    """Circle areas (pt²) from capacity (production where capacity is infinite or missing) and the
    largest of those values (or ``scale_to``, the value drawn at the largest area, when given)."""
    if not len(sites):
        return np.zeros(0), 0.0 if scale_to is None else scale_to
    capacity = pd.to_numeric(sites.get("capacity", pd.Series(np.nan, index=sites.index)), errors="coerce")
    production = pd.to_numeric(sites.get("production", pd.Series(np.nan, index=sites.index)), errors="coerce")
    value = capacity.where(np.isfinite(capacity), production).to_numpy(dtype=float)
    value = np.where(np.isfinite(value) & (value > 0), value, 0.0)
    largest = float(value.max()) if len(value) else 0.0
    largest = largest if scale_to is None else scale_to
    if largest <= 0:
        return np.full(len(sites), SITE_MAX_AREA / 4), 0.0
    return np.maximum(SITE_MAX_AREA * value / largest, SITE_MIN_AREA), largest


def _flow_widths(quantity: np.ndarray, largest: float, widest: float = FLOW_MAX_WIDTH) -> np.ndarray:
    if largest <= 0:
        return np.full(len(quantity), FLOW_MIN_WIDTH)
    return FLOW_MIN_WIDTH + (widest - FLOW_MIN_WIDTH) * np.clip(quantity / largest, 0.0, 1.0)


def _simplified(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """Polygons simplified as a coverage (shared borders stay shared, no slivers); other geometries,
    overlapping inputs and polygons that touch no other fall back to plain Douglas-Peucker (about 100×
    faster: 5,000 isolated regions of 2,000 vertices had spent 48 s of the map's 58 s in the coverage)."""
    if tolerance <= 0 or len(geoms) == 0:
        return geoms
    simplified = shapely.simplify(geoms, tolerance, preserve_topology=False)
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    if polygonal.all():
        shared = _touching_others(geoms)
        try:
            simplified[shared] = shapely.coverage_simplify(geoms[shared], tolerance)
        except (AttributeError, shapely.errors.GEOSException, ValueError) as error:
            logger.debug("coverage simplification failed (%s); simplifying each region alone", error)
    return simplified


def _touching_others(geoms: np.ndarray) -> np.ndarray:
    """Mask of the polygons that intersect another (the ones whose borders a coverage keeps shared)."""
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    shared = np.zeros(len(geoms), dtype=bool)
    shared[left[left != right]] = True
    return shared


def _region_colours(regions: gpd.GeoDataFrame, type_ids: Sequence[str]) -> np.ndarray:
    fills = {t: _lighten(colour) for t, colour in type_colours(type_ids).items()}
    fills["unmet"] = _lighten(UNMET_COLOUR)
    served = regions["served_by"] if "served_by" in regions.columns else pd.Series("", index=regions.index)
    blank = _lighten(NO_DEMAND_COLOUR, 0.0)
    colours = np.empty(len(regions), dtype=object)
    colours[:] = [fills.get(value, blank) for value in served]
    return colours


def _visible_bounds(geoms: np.ndarray) -> np.ndarray:
    """Bounds of the parts large enough to be seen: a part smaller (√area) than 1/300 of the diagonal of all
    parts, i.e. under about two pixels in an inset, does not stretch the frame (a speck of an islet 2,000 km
    out would otherwise shrink a whole archipelago). Points and lines always count."""
    parts = shapely.get_parts(geoms)
    parts = parts[~shapely.is_empty(parts)]
    if len(parts) == 0:
        return np.full(4, np.nan)
    xmin, ymin, xmax, ymax = shapely.total_bounds(parts)
    diagonal = np.hypot(xmax - xmin, ymax - ymin)
    area = shapely.area(parts)
    keep = (np.sqrt(area) >= diagonal / 300) | ~np.isin(shapely.get_type_id(parts), (3, 6))
    return shapely.total_bounds(parts[keep]) if keep.any() else np.array([xmin, ymin, xmax, ymax])


def _make_panels(regions, sites, flows, type_ids) -> list[_Panel]:
    """One panel per group of regions (:func:`~planner.inputs.geo.find_clusters`), the main group first;
    each site belongs to the panel of its nearest region, each flow to the panels of both its ends."""
    lon, lat = anchor_points(regions)
    weights = regions["demand"].to_numpy(dtype=float) if "demand" in regions.columns else None
    labels = panel_groups(find_clusters(lon, lat, weights))
    ok = np.isfinite(lon) & np.isfinite(lat)
    anchors, anchor_labels = unit_vectors(lon[ok], lat[ok]), labels[ok]
    site_geoms = np.asarray(sites.geometry.array, dtype=object) if len(sites) else np.zeros(0, dtype=object)
    site_labels = _nearest_label(shapely.get_x(site_geoms), shapely.get_y(site_geoms), anchors, anchor_labels)
    start, end = _line_ends(flows)
    start_labels = _nearest_label(*start, anchors, anchor_labels)
    end_labels = _nearest_label(*end, anchors, anchor_labels)
    colours = _region_colours(regions, type_ids)
    panels = []
    for label in range(int(labels.max()) + 1 if len(labels) else 1):
        members = labels == label
        centre = median_lonlat(lon[members], lat[members])
        site_rows = np.flatnonzero(site_labels == label)
        flow_rows = np.flatnonzero((start_labels == label) | (end_labels == label))
        panels.append(_panel(label, regions[members], centre, colours[members], sites, site_rows, flow_rows))
    return panels


def panel_groups(labels: np.ndarray) -> np.ndarray:
    """The groups of :func:`~planner.inputs.geo.find_clusters` as panels: insets are for a few far-away regions
    (Alaska and Hawaii beside 3,100 counties), so where the other groups hold as many regions as the main one
    (New Zealand's 3 regions and 9 Pacific islands) everything is drawn in the main panel."""
    if (labels > 0).sum() >= (labels == 0).sum():
        return np.zeros_like(labels)
    return labels


def _panel(label: int, regions, centre, colours, sites, site_rows: np.ndarray, flow_rows: np.ndarray) -> _Panel:
    """The panel of one group: its regions projected about ``centre``, framed to them and its sites."""
    crs, projected = _projected_regions(regions, centre)
    bounds = _visible_bounds(np.asarray(projected.geometry.array, dtype=object))
    if len(site_rows):
        site_bounds = sites.iloc[site_rows].to_crs(crs).total_bounds
        bounds = np.r_[np.fmin(bounds[:2], site_bounds[:2]), np.fmax(bounds[2:], site_bounds[2:])]
    if not np.isfinite(bounds).all():
        bounds = np.array([-1e5, -1e5, 1e5, 1e5])
    return _Panel(
        label=label,
        crs=crs,
        centre=centre,
        regions=projected,
        colours=colours,
        view=padded_view(bounds, 0.025),
        site_rows=site_rows,
        flow_rows=flow_rows,
    )


def _projected_regions(regions: gpd.GeoDataFrame, centre: tuple[float, float]) -> tuple[str, gpd.GeoDataFrame]:
    """The panel's CRS and its regions in it: a Lambert azimuthal equal-area projection about ``centre``, or for
    regions reaching beyond a hemisphere from it (a world dataset), an Equal Earth projection on its meridian,
    the regions split at the meridian opposite (the azimuthal map had stretched them round its rim and
    across the map)."""
    if not reaches_beyond_a_hemisphere(*anchor_points(regions), centre):
        crs = laea_crs(*centre)
        return crs, regions.to_crs(crs)
    crs = world_crs(centre[0])
    return crs, in_panel_crs(regions, crs)


def regions_for_map(regions: gpd.GeoDataFrame) -> tuple[str, gpd.GeoDataFrame]:
    """A map's CRS for ``regions`` (about their median anchor point, as :func:`_projected_regions` chooses it)
    and the regions in it: for one-panel maps such as the comparison's where-microfactories-win map."""
    return _projected_regions(regions, median_lonlat(*anchor_points(regions)))


def in_panel_crs(frame: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """``frame`` in a panel's CRS; in an Equal Earth one (:func:`_projected_regions`) its polygons and lines split
    at the meridian opposite the centre first, so that none is drawn across the whole map."""
    if not crs.startswith("+proj=eqearth") or frame.empty:
        return frame.to_crs(crs)
    centre = float(crs.split("+lon_0=")[1].split()[0])
    geoms = np.asarray(frame.to_crs(LONLAT).geometry.array, dtype=object)
    turned = gpd.GeoSeries(split_opposite(geoms, centre), index=frame.index, crs=LONLAT)
    return frame.set_geometry(turned.to_crs(world_crs(0.0)).set_crs(crs, allow_override=True))


# --- layout ----------------------------------------------------------------------------------------------


def _occupancy(panel: _Panel, sites: gpd.GeoDataFrame, view, columns: int = 96,
               flows: gpd.GeoDataFrame | None = None, supply: _Supply | None = None) -> np.ndarray:
    """A boolean grid over ``view`` (rows from the bottom): True where the main panel draws regions or sites
    (a point, site or region, with the cells around it: its marker is larger than a cell, and one cell alone
    is below what a scale bar or an inset may hide) and, given ``flows`` (the frame ``panel.flow_rows``
    index), where its flow lines run, and given ``supply``, its suppliers and inbound lines (a scale bar had
    covered a supplier)."""
    xmin, ymin, xmax, ymax = view
    rows = max(8, round(columns * (ymax - ymin) / (xmax - xmin)))
    xs, ys = np.linspace(xmin, xmax, columns + 1), np.linspace(ymin, ymax, rows + 1)
    x0, y0 = np.meshgrid(xs[:-1], ys[:-1])
    x1, y1 = np.meshgrid(xs[1:], ys[1:])
    cells = shapely.box(x0.ravel(), y0.ravel(), x1.ravel(), y1.ravel())
    geoms = np.asarray(panel.regions.geometry.array, dtype=object)
    markers = shapely.area(geoms) == 0  # points (and lines) are drawn as markers
    geoms = geoms.copy()  # only the markers are buffered (buffering every polygon took seconds, in one C call)
    geoms[markers] = shapely.buffer(geoms[markers], 1.5 * (xs[1] - xs[0]))
    if len(panel.site_rows):
        site_points = np.asarray(sites.iloc[panel.site_rows].to_crs(panel.crs).geometry.array, dtype=object)
        geoms = np.concatenate([geoms, shapely.buffer(site_points, 1.5 * (xs[1] - xs[0]))])
    if flows is not None and len(panel.flow_rows):
        lines = np.asarray(in_panel_crs(flows.iloc[panel.flow_rows], panel.crs).geometry.array, dtype=object)
        geoms = np.concatenate([geoms, lines])
    if supply is not None:
        points = np.asarray(supply.suppliers.to_crs(panel.crs).geometry.array, dtype=object)
        inbound = np.asarray(in_panel_crs(supply.inbound, panel.crs).geometry.array, dtype=object)
        geoms = np.concatenate([geoms, shapely.buffer(points, 1.5 * (xs[1] - xs[0])), inbound])
    taken = _holding_a_vertex(geoms, xs, ys)  # those intersect for sure; the tree tests only the other cells
    rest = np.flatnonzero(~taken)
    if len(geoms) and len(rest):
        hits = shapely.STRtree(geoms).query(cells[rest], predicate="intersects")
        taken[rest[np.unique(hits[0])]] = True
    return taken.reshape(rows, columns)


def _holding_a_vertex(geoms: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Per cell of the grid with edges ``xs``, ``ys`` (flat, rows from the bottom): whether a vertex of one of
    ``geoms`` lies in it (edges included), which makes the cell and that geometry intersect. Found by binning
    the vertices; testing every cell in a tree had taken 11 s of a 50,000-point map's 25 s (its flow lines
    each cross hundreds of cells)."""
    columns, rows = len(xs) - 1, len(ys) - 1
    coords = shapely.get_coordinates(geoms)
    column = np.searchsorted(xs, coords[:, 0], side="right") - 1  # xs[column] <= x < xs[column + 1]
    row = np.searchsorted(ys, coords[:, 1], side="right") - 1
    inside = (column >= 0) & (column < columns) & (row >= 0) & (row < rows)
    taken = np.zeros(rows * columns, dtype=bool)
    taken[row[inside] * columns + column[inside]] = True
    return taken


def _place(boxes: Sequence[tuple[float, float]], grid: np.ndarray, avoid: list) -> tuple[list, list]:
    """Positions (x0, y0) in axes fractions, along the panel's edges, for boxes of (width, height) in axes
    fractions: for each box in turn the free position (hiding at most ``FREE_SHARE`` of ``grid``) nearest a
    corner, else the one hiding the least; never overlapping ``avoid`` or an earlier box. Returns the positions
    and the share each hides (infinite where no place was left)."""
    rows, columns = grid.shape
    summed = np.zeros((rows + 1, columns + 1))
    summed[1:, 1:] = grid.cumsum(0).cumsum(1)

    def hidden(x0, y0, w, h):
        c0, c1 = int(np.floor(x0 * columns)), int(np.ceil((x0 + w) * columns))
        r0, r1 = int(np.floor(y0 * rows)), int(np.ceil((y0 + h) * rows))
        c0, r0, c1, r1 = max(c0, 0), max(r0, 0), min(c1, columns), min(r1, rows)
        area = max((c1 - c0) * (r1 - r0), 1)
        return (summed[r1, c1] - summed[r0, c1] - summed[r1, c0] + summed[r0, c0]) / area

    def overlaps(a, b):
        return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]

    placed, shares = [], []
    taken = list(avoid)
    corners = [(0, 0), (1, 0), (0, 1), (1, 1)]  # lower left first, then lower right, upper left, upper right
    steps = np.linspace(0.0, 1.0, 41)
    for w, h in boxes:
        best, best_score = (0.0, 0.0), np.inf
        candidates = {(x * (1 - w), y) for x in steps for y in (0.0, 1 - h)}
        candidates |= {(x, y * (1 - h)) for x in (0.0, 1 - w) for y in steps}
        for x0, y0 in sorted(candidates):
            rect = (x0, y0, w, h)
            if any(overlaps(rect, other) for other in taken):
                continue
            share = hidden(x0, y0, w, h)
            to_corner = min(
                np.hypot(x0 - cx * (1 - w), y0 - cy * (1 - h)) + 0.002 * rank for rank, (cx, cy) in enumerate(corners)
            )
            score = to_corner if share <= FREE_SHARE else 10 + share  # free places first, nearest a corner
            if score < best_score:
                best, best_score = (x0, y0), score
        placed.append(best)
        taken.append((*best, w, h))
        shares.append(hidden(*best, w, h) if np.isfinite(best_score) else np.inf)
    return placed, shares


@dataclass
class _Layout:
    figure: tuple[float, float]  # inches
    main_rect: tuple[float, float, float, float]  # inches: left, bottom, width, height
    main_view: tuple[float, float, float, float]
    insets: list[tuple[float, float, float, float]]  # inches from the figure's lower left: left, bottom, w, h
    scale_bar: tuple[float, float, float, float]  # axes fractions of the main panel
    legend_left: float  # inches


def _map_size(aspect: float) -> tuple[float, float]:
    width = FIGURE_WIDTH - 3 * MARGIN - LEGEND_WIDTH
    height = width / aspect
    if height > MAP_MAX_HEIGHT:
        height = MAP_MAX_HEIGHT
        width = height * aspect
    return width, height


def _inset_size(panel: _Panel, map_w: float, map_h: float) -> tuple[float, float]:
    """Inches: the panel's shape (clamped) within INSET_MAX_WIDTH × INSET_MAX_HEIGHT of the main panel."""
    shape = float(np.clip((panel.view[2] - panel.view[0]) / (panel.view[3] - panel.view[1]), 0.6, 2.5))
    width = min(INSET_MAX_WIDTH * map_w, INSET_MAX_HEIGHT * map_h * shape)
    return width, width / shape


def _layout(panels: list[_Panel], sites, legend_height: float, caption_height: float = CAPTION_HEIGHT,
            flows: gpd.GeoDataFrame | None = None, supply: _Supply | None = None) -> _Layout:
    """Size the figure to the main panel's shape; put each inset where it hides (almost) nothing of the main
    panel, shrinking the insets down to 70% if that helps, and the insets that find no such place in a row
    below the main panel; then the scale bar in the main panel's emptiest free corner."""
    main, remote = panels[0], panels[1:]
    map_w, map_h = _map_size(max((main.view[2] - main.view[0]) / (main.view[3] - main.view[1]), 0.3))
    map_h = min(max(map_h, legend_height), MAP_MAX_HEIGHT)  # a wide map uses the legend's height (room for insets)
    view = _fit_aspect(main.view, map_w / map_h)
    sizes = [_inset_size(panel, map_w, map_h) for panel in remote]
    order = sorted(range(len(remote)), key=lambda i: -sizes[i][0] * sizes[i][1])  # the largest first
    grid = _occupancy(main, sites, view, flows=flows, supply=supply)
    inside: dict[int, tuple[float, float, float, float]] = {}  # axes fractions
    for scale in (1.0, 0.85, 0.7):
        boxes = [(sizes[i][0] * scale / map_w, sizes[i][1] * scale / map_h) for i in order]
        positions, shares = _place(boxes, grid, [])
        fits = {i: (*xy, *box) for i, xy, box, share in zip(order, positions, boxes, shares, strict=True)
                if share <= FREE_SHARE}
        if len(fits) > len(inside):
            inside = fits
        if len(inside) == len(remote):
            break
    if len(inside) < len(remote):  # keep the placements that do not depend on a box now moving out
        positions, shares = _place([inside[i][2:] for i in order if i in inside], grid, [])
        inside = {i: (*xy, *inside[i][2:]) for i, xy in zip([i for i in order if i in inside], positions, strict=True)}
    below = [i for i in order if i not in inside]
    strip = max((sizes[i][1] for i in below), default=0.0)
    widths = sum(sizes[i][0] for i in below) + 0.2 * max(len(below) - 1, 0)
    shrink = min(1.0, map_w / widths) if widths else 1.0
    strip_h = strip * shrink + 0.2 if below else 0.0
    body = max(map_h + strip_h, legend_height, MAP_MIN_HEIGHT)
    figure = (3 * MARGIN + map_w + LEGEND_WIDTH, TITLE_HEIGHT + body + caption_height)
    left, bottom = MARGIN, caption_height + (body - map_h - strip_h) / 2 + strip_h
    insets: list[tuple[float, float, float, float]] = [(0.0, 0.0, 0.0, 0.0)] * len(remote)
    for i, (x0, y0, w, h) in inside.items():
        insets[i] = (left + x0 * map_w, bottom + y0 * map_h, w * map_w, h * map_h)
    x = left
    for i in below:
        w, h = sizes[i][0] * shrink, sizes[i][1] * shrink
        insets[i] = (x, bottom - 0.2 - h, w, h)
        x += w + 0.2
    scale_box = (0.2, 0.075)
    avoid = [box for box in inside.values()]
    (scale_pos,), _ = _place([scale_box], grid, avoid)
    return _Layout(
        figure=figure,
        main_rect=(left, bottom, map_w, map_h),
        main_view=view,
        insets=insets,
        scale_bar=(*scale_pos, *scale_box),
        legend_left=2 * MARGIN + map_w,
    )


# --- drawing ---------------------------------------------------------------------------------------------


def _polygon_paths(geoms: np.ndarray) -> tuple[list, np.ndarray]:
    """One compound matplotlib ``Path`` per non-empty geometry (shells counter-clockwise, holes clockwise, so
    holes stay empty under any fill rule) and the index of the geometry each belongs to."""
    from matplotlib.path import Path as MplPath

    parts, owner = shapely.get_parts(shapely.orient_polygons(geoms), return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    starts = np.r_[0, np.flatnonzero(np.diff(ring_of)) + 1]
    codes = np.full(len(coords), MplPath.LINETO, dtype=MplPath.code_type)
    codes[starts] = MplPath.MOVETO
    codes[np.r_[starts[1:] - 1, len(coords) - 1]] = MplPath.CLOSEPOLY
    owner_of_vertex = owner[ring_part[ring_of]]
    splits = np.flatnonzero(np.diff(owner_of_vertex)) + 1
    paths = [MplPath(v, c) for v, c in zip(np.split(coords, splits), np.split(codes, splits), strict=True)]
    return paths, np.unique(owner_of_vertex)


def _line_coords(geoms: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The vertices of every non-empty part of ``geoms`` (lines, multilines, collections) and the index of
    the geometry each part belongs to."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    coords, index = shapely.get_coordinates(parts, return_index=True)
    if not len(coords):
        return [], np.zeros(0, dtype=int)
    return np.split(coords, np.flatnonzero(np.diff(index)) + 1), owner[np.unique(index)]


def _draw_panel(ax: Axes, panel: _Panel, view, symbols: _Symbols, pixel: float) -> np.ndarray:
    """Regions (simplified to ``pixel`` metres), then flows cut at the panel's edge, then sites on top (and
    with suppliers, inbound lines under the flows and suppliers under the sites). Returns the rows of the
    suppliers drawn."""
    xmin, ymin, xmax, ymax = view
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    _draw_regions(ax, panel, pixel)
    if len(panel.flow_rows):
        _draw_flows(ax, panel, view, symbols)
    drawn = np.zeros(0, dtype=int)
    if symbols.supply is not None:
        _draw_inbound(ax, panel.crs, view, symbols.supply)
        drawn = _draw_suppliers(ax, panel.crs, view, symbols.supply)
    if len(panel.site_rows):
        _draw_sites(ax, panel, symbols)
    return drawn


def _draw_regions(ax: Axes, panel: _Panel, pixel: float) -> None:
    """Polygons filled by colour with white borders and a grey outline of their union; point regions as
    small squares."""
    from matplotlib.collections import LineCollection, PathCollection

    geoms, colours = _collections_as_parts(_simplified(np.asarray(panel.regions.geometry.array, dtype=object), pixel),
                                           panel.colours)
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6)) & ~shapely.is_empty(geoms)
    if polygonal.any():
        paths, owner = _polygon_paths(geoms[polygonal])
        fills = PathCollection(paths, facecolors=list(colours[polygonal][owner]), edgecolors="white")
        fills.set_linewidth(0.15)
        fills.set_zorder(1)
        ax.add_collection(fills)
        try:
            outline = shapely.coverage_union_all(geoms[polygonal]).boundary
        except shapely.errors.GEOSException:
            outline = None
        if outline is not None and not outline.is_empty:
            border = LineCollection(_line_coords(np.array([outline]))[0], colors=OUTLINE_COLOUR, linewidths=0.4)
            border.set_zorder(1.5)
            ax.add_collection(border)
    lineal = np.isin(shapely.get_type_id(geoms), (1, 2, 5)) & ~shapely.is_empty(geoms)
    if lineal.any():  # regions that are lines (roads, rivers): drawn as lines in their colour
        segments, owner = _line_coords(geoms[lineal])
        drawn = LineCollection(segments, colors=list(colours[lineal][owner]), linewidths=1.5)
        drawn.set_zorder(1)
        ax.add_collection(drawn)
    pointal = np.isin(shapely.get_type_id(geoms), (0, 4)) & ~shapely.is_empty(geoms)
    if pointal.any():
        parts, owner = shapely.get_parts(geoms[pointal], return_index=True)
        xy = shapely.get_coordinates(parts)
        ax.scatter(xy[:, 0], xy[:, 1], s=14, c=list(colours[pointal][owner]), marker="s", linewidths=0, zorder=1)


def _collections_as_parts(geoms: np.ndarray, colours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Geometry collections (a region of a polygon and a stray line) as their parts, each in its region's
    colour: they had not been drawn at all."""
    collection = shapely.get_type_id(geoms) == 7
    if not collection.any():
        return geoms, colours
    parts, owner = shapely.get_parts(geoms[collection], return_index=True)
    return (np.concatenate([geoms[~collection], parts]),
            np.concatenate([colours[~collection], colours[collection][owner]]))


def _draw_flows(ax: Axes, panel: _Panel, view, symbols: _Symbols) -> None:
    from matplotlib.collections import LineCollection

    lines = np.asarray(in_panel_crs(symbols.flows.iloc[panel.flow_rows], panel.crs).geometry.array, dtype=object)
    lines = shapely.clip_by_rect(lines, *view)
    segments, owner = _line_coords(lines)
    drawn = LineCollection(segments, linewidths=symbols.flow_widths[panel.flow_rows][owner], colors=FLOW_COLOUR,
                           alpha=FLOW_ALPHA)
    drawn.set_capstyle("round")
    drawn.set_zorder(2)
    ax.add_collection(drawn)


def _draw_sites(ax: Axes, panel: _Panel, symbols: _Symbols) -> None:
    """Circles by type, the small ones on top of the large ones; sites without a position are left out."""
    projected = symbols.sites.iloc[panel.site_rows].to_crs(panel.crs)
    geoms = np.asarray(projected.geometry.array, dtype=object)
    drawn = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    xy = shapely.get_coordinates(geoms[drawn])
    sizes = symbols.site_sizes[panel.site_rows][drawn]
    types = projected["facility_type"].to_numpy()[drawn]
    order = np.argsort(-sizes, kind="stable")
    ax.scatter(
        xy[order, 0],
        xy[order, 1],
        s=sizes[order],
        c=[symbols.colours.get(t, "#777777") for t in types[order]],
        edgecolors="black",
        linewidths=0.6,
        zorder=3,
    )


def _inside(view, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """True where (x, y) lies in ``view`` (xmin, ymin, xmax, ymax); False for non-finite coordinates."""
    xmin, ymin, xmax, ymax = view
    with np.errstate(invalid="ignore"):
        return (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)


def _draw_inbound(ax: Axes, crs: str, view, supply: _Supply) -> None:
    """The inbound lines with an end in ``view``, cut at its edge (lines that project to non-finite
    coordinates, e.g. from near the antipode of the panel's centre, are left out)."""
    from matplotlib.collections import LineCollection

    if not len(supply.inbound):
        return
    lines = np.asarray(in_panel_crs(supply.inbound, crs).geometry.array, dtype=object)
    (x0, y0), (x1, y1) = line_ends(lines)
    finite = np.isfinite(x0) & np.isfinite(y0) & np.isfinite(x1) & np.isfinite(y1)
    rows = np.flatnonzero(finite & (_inside(view, x0, y0) | _inside(view, x1, y1)))
    if not len(rows):
        return
    segments, owner = _line_coords(shapely.clip_by_rect(lines[rows], *view))
    drawn = LineCollection(segments, linewidths=supply.inbound_widths[rows][owner], colors=INBOUND_COLOUR,
                           alpha=INBOUND_ALPHA)
    drawn.set_capstyle("round")
    drawn.set_zorder(1.8)
    ax.add_collection(drawn)


def _draw_suppliers(ax: Axes, crs: str, view, supply: _Supply) -> np.ndarray:
    """Triangles in the colour of their material for the suppliers in ``view``, open (white inside) when they
    ship nothing; returns the rows drawn."""
    if not len(supply.suppliers):
        return np.zeros(0, dtype=int)
    xy = shapely.get_coordinates(np.asarray(supply.suppliers.to_crs(crs).geometry.array, dtype=object))
    rows = np.flatnonzero(_inside(view, xy[:, 0], xy[:, 1]))
    if not len(rows):
        return rows
    colours = np.array([supply.colours.get(str(m), OUTLINE_COLOUR) for m in
                        supply.suppliers.get("material", pd.Series("", index=supply.suppliers.index))], dtype=object)
    ships = (_positive(supply.suppliers, "shipped") > 0) if "shipped" in supply.suppliers else np.ones(len(xy), bool)
    for used in (False, True):  # the suppliers that ship on top
        chosen = rows[ships[rows] == used]
        if len(chosen):
            ax.scatter(xy[chosen, 0], xy[chosen, 1], s=SUPPLIER_AREA, marker="^",
                       c=list(colours[chosen]) if used else "white",
                       edgecolors="black" if used else list(colours[chosen]),
                       linewidths=0.5 if used else 1.0, zorder=2.5)
    return rows


def _draw_scale_bar(ax: Axes, view, box, fontsize: float, middle: bool = True) -> None:
    """A two-part bar of a round length (1, 2 or 5 × 10^k km, at most 80% of the box) on a white backing box
    at ``box`` (axes fractions), labelled 0, half and full length, or (``middle=False``, for small insets)
    with its length only."""
    from matplotlib.patches import Rectangle

    xmin, ymin, xmax, ymax = view
    width_km = (xmax - xmin) / 1000.0
    x0, y0, w, h = box
    length_km = _nice_floor(w * 0.8 * width_km)
    if length_km <= 0:
        return
    left = xmin + (x0 + 0.1 * w) * (xmax - xmin)
    bottom = ymin + (y0 + 0.3 * h) * (ymax - ymin)
    bar_h = 0.18 * h * (ymax - ymin)
    metres = length_km * 1000.0
    backing = Rectangle(
        (xmin + x0 * (xmax - xmin), ymin + y0 * (ymax - ymin)),
        w * (xmax - xmin),
        h * (ymax - ymin),
        facecolor="white",
        edgecolor="none",
        alpha=0.75,
        zorder=4,
    )
    ax.add_patch(backing)
    for i, colour in enumerate(("black", "white")):
        ax.add_patch(
            Rectangle(
                (left + i * metres / 2, bottom),
                metres / 2,
                bar_h,
                facecolor=colour,
                edgecolor="black",
                linewidth=0.6,
                zorder=5,
            )
        )
    label_y = bottom + bar_h * 1.4
    if not middle:
        ax.text(left + metres / 2, label_y, f"{length_km:,.6g} km", fontsize=fontsize, ha="center", va="bottom",
                zorder=5)
        return
    _scale_bar_numbers(ax, (left, label_y), metres / (xmax - xmin), length_km, fontsize)


def _scale_bar_numbers(ax: Axes, start: tuple[float, float], share: float, length_km: float, fontsize: float) -> None:
    """0 and half the length centred over the bar's start and middle, the full length ("20 km") with its number
    centred over the bar's end; the half is left out when the bar (``share`` of the axes' width) is too short
    to keep two characters between the numbers."""
    from matplotlib.transforms import offset_copy

    left, label_y = start
    char = 0.6 * fontsize  # pt, about the width of a digit
    bar_pt = share * ax.get_position().width * ax.get_figure().get_figwidth() * 72
    half, full = f"{length_km / 2:,.6g}", f"{length_km:,.6g}"
    metres = length_km * 1000.0
    style = {"fontsize": fontsize, "va": "bottom", "zorder": 5}
    ax.text(left, label_y, "0", ha="center", **style)
    if bar_pt / 2 >= (len(half) + len(full)) / 2 * char + 2 * char:
        ax.text(left + metres / 2, label_y, half, ha="center", **style)
    end = offset_copy(ax.transData, fig=ax.get_figure(), x=-len(full) / 2 * char, units="points")
    ax.text(left + metres, label_y, f"{full} km", ha="left", transform=end, **style)


LEGEND_STYLE = {"loc": "upper left", "frameon": False, "fontsize": 8.5, "alignment": "left", "borderaxespad": 0.0}
LEGEND_TITLE = {"weight": "bold", "size": 9}


def _legends(fig: Figure, type_ids, regions, symbols: _Symbols, units: dict) -> list:
    """The legend sections (regions, site types, site sizes, flows; a section without symbols is left out),
    as figure legends to be anchored by the caller."""
    sections = [_legend(fig, "Regions: mainly served by", _region_handles(type_ids, regions))]
    if len(symbols.sites):
        present = set(symbols.sites["facility_type"])
        types = _marker_handles([(t, c) for t, c in symbols.colours.items() if t in present])
        if types:
            sections.append(_legend(fig, "Sites: facility type", types))
    if len(symbols.sites) and symbols.largest_capacity > 0:
        references = _references(symbols.largest_capacity, (1.0, 0.25, 0.04))
        areas = [max(SITE_MAX_AREA * value / symbols.largest_capacity, SITE_MIN_AREA) for value in references]
        unit = units.get("capacity", "units/yr")
        labels = [(f"{_number(value)} {unit}", "white") for value in references]
        tall = max(1.0, float(np.sqrt(max(areas))) / LEGEND_STYLE["fontsize"] * 1.15)
        sections.append(_legend(fig, f"Site {site_size_measure(symbols.sites)}: circle area",
                                _marker_handles(labels, np.sqrt(areas)),
                                handleheight=tall, handlelength=max(2.0, tall), labelspacing=0.6))
    if symbols.largest_flow > 0 and _any_line_drawn(symbols.flows):
        sections.append(_legend(fig, "Flows: line width ∝ volume", _flow_handles(symbols.largest_flow, units)))
    if symbols.supply is not None:
        sections += _supply_legends(fig, symbols.supply)
    return sections


def site_size_measure(sites: pd.DataFrame) -> str:
    """What a site's circle area shows: its capacity, or its production where the capacity is unlimited
    (an uncapacitated site of 120,000 units/yr had been drawn under "Site capacity: 120,000 units/yr")."""
    capacity = pd.to_numeric(sites["capacity"], errors="coerce") if "capacity" in sites else pd.Series(np.nan)
    unlimited = ~np.isfinite(capacity.to_numpy(dtype=float))
    if not unlimited.any():
        return "capacity"
    return "production (capacity unlimited)" if unlimited.all() else "capacity (production where unlimited)"


def _any_line_drawn(flows: gpd.GeoDataFrame) -> bool:
    """Whether a flow has a line of some length: every site serving only the region it stands in (0 km) draws
    none, and the legend had explained line widths of a map without lines."""
    if not len(flows):
        return False
    lengths = shapely.length(np.asarray(flows.geometry.array, dtype=object))
    return bool((np.nan_to_num(lengths) > 0).any())


def _supply_note(supply: _Supply | None, drawn: list[np.ndarray]) -> str:
    """The caption's words on suppliers off the map (empty without suppliers)."""
    if supply is None or not len(supply.suppliers):
        return ""
    outside = len(supply.suppliers) - len(np.unique(np.concatenate(drawn))) if drawn else len(supply.suppliers)
    if not outside:
        return ""
    return (f" {outside:,} of {len(supply.suppliers):,} suppliers {'is' if outside == 1 else 'are'} outside the"
            " panels and left out; inbound lines from them are cut at the panel edge.")


def _supply_legends(fig: Figure, supply: _Supply) -> list:
    """The suppliers by material (and the open triangle of one that ships nothing) and the inbound lines."""
    from matplotlib.lines import Line2D

    sections = []
    if len(supply.suppliers):
        present = set(supply.suppliers["material"].astype(str)) if "material" in supply.suppliers else set()
        handles = [Line2D([], [], marker="^", linestyle="", markersize=7, markerfacecolor=colour,
                          markeredgecolor="black", markeredgewidth=0.5, label=material)
                   for material, colour in supply.colours.items() if material in present]
        if "shipped" in supply.suppliers and (_positive(supply.suppliers, "shipped") <= 0).any():
            handles.append(Line2D([], [], marker="^", linestyle="", markersize=7, markerfacecolor="white",
                                  markeredgecolor=OUTLINE_COLOUR, markeredgewidth=1.0, label="(open: ships nothing)"))
        sections.append(_legend(fig, "Suppliers: material", handles))
    if supply.largest_inbound > 0:
        handles = [Line2D([], [], color=INBOUND_COLOUR, alpha=min(1.0, INBOUND_ALPHA + 0.2),
                          linewidth=float(_flow_widths(np.array([v]), supply.largest_inbound, INBOUND_MAX_WIDTH)[0]),
                          label=f"{_number(v)} {supply.unit}")
                   for v in _references(supply.largest_inbound, (1.0, 0.3, 0.05))]
        sections.append(_legend(fig, "Inbound material: width ∝ volume", handles))
    return sections


LEGEND_LABEL_CHARS = 30  # a longer label (a facility type's long name) is wrapped onto more lines


def _legend(fig: Figure, title: str, handles: list, **extra):
    """A figure legend; labels longer than ``LEGEND_LABEL_CHARS`` wrapped, so that the legend column
    beside the map keeps its width and no label runs off the figure."""
    for handle in handles:
        label = handle.get_label()
        if len(label) > LEGEND_LABEL_CHARS:
            handle.set_label(textwrap.fill(label, LEGEND_LABEL_CHARS, break_long_words=True))
    return fig.legend(handles=handles, title=title, title_fontproperties=LEGEND_TITLE, **LEGEND_STYLE, **extra)


def _region_handles(type_ids, regions) -> list:
    """The region fills the map shows (every type and unmet where ``regions`` is None), and "no demand"."""
    from matplotlib.patches import Patch

    fills = {**type_colours(type_ids), "unmet": UNMET_COLOUR}
    served = set(regions["served_by"]) if regions is not None and "served_by" in regions.columns else set(fills)
    handles = [Patch(facecolor=_lighten(c), edgecolor="#999999", linewidth=0.4, label=t) for t, c in fills.items()
               if t in served]  # only what the map shows
    if served - {*type_ids, "unmet"}:
        handles.append(Patch(facecolor=NO_DEMAND_COLOUR, edgecolor="#999999", linewidth=0.4, label="no demand"))
    return handles


def _every_class(regions: gpd.GeoDataFrame, type_ids, sites: pd.DataFrame) -> pd.DataFrame:
    """The classes a map drawn alike with others lists: every type open in one of them (``sites``: theirs
    together; a type none opens serves no region, and central plants had been keyed beside maps of
    microfactories alone) and unmet, whichever it shows, and "no demand" where its own regions have some (a
    rollout's first period, demand only in its pilot regions, had drawn most regions grey with no entry)."""
    open_types = set(sites["facility_type"]) if "facility_type" in sites else set()
    classes = [*(t for t in type_ids if t in open_types), "unmet"]
    own = set(regions["served_by"]) if "served_by" in regions.columns else set()
    return pd.DataFrame({"served_by": classes + sorted(str(c) for c in own - set(classes))})


def _marker_handles(entries: list[tuple[str, str]], sizes=None) -> list:
    """Circles with a black edge, one per (label, fill colour); ``sizes``: marker diameters in pt, else 8."""
    from matplotlib.lines import Line2D

    sizes = [8.0] * len(entries) if sizes is None else [float(size) for size in sizes]
    return [
        Line2D([], [], marker="o", linestyle="", markersize=size, markerfacecolor=colour, markeredgecolor="black",
               markeredgewidth=0.6, label=label)
        for (label, colour), size in zip(entries, sizes, strict=True)
    ]


def _flow_handles(largest_flow: float, units: dict) -> list:
    from matplotlib.lines import Line2D

    unit = units.get("quantity", "units/yr")
    return [
        Line2D([], [], color=FLOW_COLOUR, alpha=min(1.0, FLOW_ALPHA + 0.2),
               linewidth=float(_flow_widths(np.array([v]), largest_flow)[0]), label=f"{_number(v)} {unit}")
        for v in _references(largest_flow, (1.0, 0.3, 0.05))
    ]


def _references(largest: float, shares: tuple[float, ...]) -> list[float]:
    """Round reference values near these shares of ``largest``, largest first: the share 1 at two
    significant digits (a site of 40,000 units/yr had a largest circle of 20,000 in its legend), the
    others 1, 2 or 5 × 10^k."""
    values = {_two_digits_floor(largest) if share >= 1.0 else _nice_floor(largest * share) for share in shares}
    return sorted(values - {0.0}, reverse=True)


def _two_digits_floor(value: float) -> float:
    """``value`` rounded down to two significant digits (43,210 → 43,000); 0 for what is not positive."""
    if not np.isfinite(value) or value <= 0:
        return 0.0
    step = 10.0 ** (np.floor(np.log10(value)) - 1)
    return float(np.floor(value / step * (1 + 1e-9)) * step)


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1 else f"{value:.3g}"


def _title_lines(fig: Figure, title: str, width_in: float) -> tuple[str, float]:
    """(text, font size) of a title within ``width_in`` inches: at ``TITLE_FONT_SIZE`` where it fits, else
    smaller down to ``TITLE_MIN_FONT_SIZE``, else wrapped at that size (in the title's band: a title with
    two service levels ran past both edges of the PNG)."""
    needed = _text_inches(fig, title, TITLE_FONT_SIZE)
    if needed <= width_in:
        return title, TITLE_FONT_SIZE
    size = TITLE_FONT_SIZE * width_in / needed
    if size >= TITLE_MIN_FONT_SIZE:
        return title, size
    return _wrapped(fig, title, width_in, TITLE_MIN_FONT_SIZE), TITLE_MIN_FONT_SIZE


def _wrapped(fig: Figure, text: str, width_in: float, fontsize: float | None = None) -> str:
    """``text`` with each of its lines wrapped at spaces to ``width_in`` inches in the caption's font (or at
    ``fontsize``): at the characters' mean width first, then narrower until every wrapped line fits as measured."""
    lines = []
    for line in text.split("\n"):
        fits = len(line)
        line_in = _text_inches(fig, line, fontsize)
        if line_in > width_in:
            fits = max(int(len(line) * width_in / line_in), 20)
        wrapped = textwrap.wrap(line, fits) or [""]
        while fits > 20 and max(_text_inches(fig, part, fontsize) for part in wrapped) > width_in:
            fits -= max(1, fits // 20)
            wrapped = textwrap.wrap(line, fits)
        lines.extend(wrapped)
    return "\n".join(lines)


def _text_inches(fig: Figure, text: str, fontsize: float | None = None) -> float:
    """The width of ``text`` in the caption's font (or at ``fontsize``), inches, as the PNG draws it (text
    measured at the figure's 100 dpi had come out 5 % narrower than at the PNG's 150), with 2 % to spare for
    the SVG and PDF."""
    from matplotlib.backends.backend_agg import RendererAgg

    probe = fig.text(0, 0, text, fontsize=CAPTION_FONT_SIZE if fontsize is None else fontsize)
    width = probe.get_window_extent(RendererAgg(1, 1, PNG_DPI), dpi=PNG_DPI).width / PNG_DPI
    probe.remove()
    return 1.02 * width


def _caption(panels: list[_Panel], supply_note: str = "") -> str:
    lon, lat = panels[0].centre
    centre = f"{abs(lat):.1f}°{'N' if lat >= 0 else 'S'} {abs(lon):.1f}°{'E' if lon >= 0 else 'W'}"
    text = f"Lambert azimuthal equal-area projection centred at {centre}; scale bars are true at each panel's centre."
    if panels[0].crs.startswith("+proj=eqearth"):
        meridian = f"{abs(lon):.1f}°{'E' if lon >= 0 else 'W'}"
        text = f"Equal Earth projection centred on {meridian}; scale bars are true near the equator."
    text += supply_note
    if len(panels) > 1:
        text += (
            f"\n{len(panels) - 1} remote group{'s' if len(panels) > 2 else ''} of regions shown in inset"
            f"{'s' if len(panels) > 2 else ''} at {'their' if len(panels) > 2 else 'its'} own scale;"
            " flows between panels are cut at the panel edge."
        )
    return text


@plain_text
def build_map_figure(
    regions: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    flows: gpd.GeoDataFrame,
    type_ids: Sequence[str],
    title: str,
    suppliers: gpd.GeoDataFrame | None = None,
    inbound: gpd.GeoDataFrame | None = None,
    alike: Sequence[tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]] | None = None,
) -> Figure:
    """The map as a matplotlib ``Figure`` (not attached to pyplot): main panel, insets for remote groups
    of regions, legend, title, scale bars and a caption naming the projection.

    ``regions`` needs ``served_by`` (a type id, ``"unmet"`` or anything else for no demand) and may have
    ``demand``; ``sites`` needs ``facility_type`` and ``capacity`` and/or ``production``; ``flows`` needs
    ``quantity`` (lines from site to region; merged per ``site_id``/``region_id`` when both are present).
    Sites and flows may be empty. ``suppliers`` (points with ``material`` and, optionally, ``shipped``)
    and ``inbound`` (lines from supplier to site with ``quantity``) add the inbound supply; they never
    change the panels' extent (see the module docstring). ``alike``: the (sites, flows) of other networks
    on the same regions to be drawn alike: the panels' frames, the symbol scales and the legend are then
    those of all of them together with this one, so maps given the same networks match exactly.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    started = time.perf_counter()
    regions, sites, flows, units = _map_layers(regions, sites, flows)
    panels = _make_panels(regions, sites, flows, type_ids)
    symbols = _symbols(sites, flows, type_ids, _supply_symbols(suppliers, inbound))
    frame = _Frame(panels, sites, symbols)
    if alike is not None:
        frame, panels, symbols = _frame_alike(regions, (sites, flows), alike, type_ids, panels, symbols)
    fig = Figure(figsize=(FIGURE_WIDTH, 8.0))
    FigureCanvasAgg(fig)
    shown = regions if alike is None else _every_class(regions, type_ids, frame.sites)  # those of every map alike
    longest_caption = _caption(panels, _supply_note(symbols.supply, []))  # every supplier outside: the longest
    layout = _size_figure(fig, _legends(fig, type_ids, shown, frame.symbols, units), frame.panels, frame.sites,
                          longest_caption, frame.symbols.flows, frame.symbols.supply)
    drawn = [_draw_main_panel(fig, panels[0], layout, symbols)]
    for panel, framing, rect in zip(panels[1:], frame.panels[1:], layout.insets, strict=True):
        drawn.append(_draw_inset(fig, panel, rect, symbols,
                                 None if alike is None else (framing, frame.sites, frame.symbols.flows)))
    fig_w, fig_h = layout.figure
    if title:
        text, size = _title_lines(fig, title, fig_w - 2 * MARGIN)
        fig.text(0.5, 1 - 0.32 / fig_h, text, ha="center", va="center", fontsize=size)
    caption = _wrapped(fig, _caption(panels, _supply_note(symbols.supply, drawn)), fig_w - 2 * MARGIN)
    fig.text(MARGIN / fig_w, CAPTION_BASE / fig_h, caption, fontsize=CAPTION_FONT_SIZE, color="#555555", va="bottom")
    logger.debug("map figure with %d panel(s) built in %.2f s", len(panels), time.perf_counter() - started)
    return fig


@dataclass(frozen=True)
class _Frame:
    """What fixes a map's layout: the panels with their views, the sites they are framed to and the symbols
    the legend shows (a map's own, or those of several networks drawn alike)."""

    panels: list[_Panel]
    sites: gpd.GeoDataFrame
    symbols: _Symbols


def _frame_alike(regions, own, alike, type_ids, panels, symbols) -> tuple[_Frame, list[_Panel], _Symbols]:
    """The frame of this network (``own`` = its sites and flows) together with the ``alike`` ones; this
    network's panels with the frame's views and its symbols on the frame's scales."""
    layers = [own, *(_point_layers(sites, flows) for sites, flows in alike)]
    site_frames = [sites for sites, _ in layers if len(sites)]
    flow_frames = [flows for _, flows in layers if len(flows)]
    all_sites = gpd.GeoDataFrame(pd.concat(site_frames, ignore_index=True), crs=LONLAT) if site_frames else own[0]
    all_flows = gpd.GeoDataFrame(pd.concat(flow_frames, ignore_index=True), crs=LONLAT) if flow_frames else own[1]
    frame_panels = _make_panels(regions, all_sites, all_flows, type_ids)
    if len(frame_panels) != len(panels):  # the groups come from the regions alone, so this does not happen
        raise InputError("map: networks drawn alike need the same regions")
    legend = _symbols(all_sites, all_flows, type_ids, symbols.supply)
    largest = (legend.largest_capacity, legend.largest_flow)
    symbols = _symbols(own[0], own[1], type_ids, symbols.supply, largest=largest)
    panels = [dataclasses.replace(panel, view=framing.view)
              for panel, framing in zip(panels, frame_panels, strict=True)]
    return _Frame(frame_panels, all_sites, legend), panels, symbols


def _map_layers(regions, sites, flows) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, dict]:
    """The layers in lon/lat, rows without a geometry of finite coordinates dropped, flows merged per (site,
    region); and the units the sites and flows tables carry. A layer with rows and no CRS, or no region left,
    is an error."""
    if regions.crs is None and len(regions):
        raise InputError("map: the regions layer has no CRS; set one, e.g. gdf.set_crs('EPSG:4326')")
    units = {**sites.attrs.get("unit", {}), **flows.attrs.get("unit", {})}  # results tables carry their units
    sites, flows = _point_layers(sites, flows)
    regions = regions[has_finite_geometry(regions)]
    if not len(regions):
        raise InputError("map: no region has a geometry; check the regions layer")
    return regions.to_crs(LONLAT), sites, flows, units


def _point_layers(sites, flows) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Sites and flows in lon/lat, rows without a geometry of finite coordinates dropped, flows merged per
    (site, region); a layer with rows and no CRS is an error."""
    for name, frame in (("sites", sites), ("flows", flows)):
        if frame.crs is None and len(frame):
            raise InputError(f"map: the {name} layer has no CRS; set one, e.g. gdf.set_crs('EPSG:4326')")
    sites = sites[has_finite_geometry(sites)]
    flows = flows[has_finite_geometry(flows)]
    sites = sites.to_crs(LONLAT) if len(sites) else sites
    flows = _merge_flows(flows.to_crs(LONLAT)) if len(flows) else flows
    return sites, flows


def _size_figure(fig: Figure, legends: list, panels: list[_Panel], sites, caption: str,
                 flows: gpd.GeoDataFrame | None = None, supply: _Supply | None = None) -> _Layout:
    """Lay out the panels beside the legend's measured height and above ``caption`` (wrapped to the
    figure's width: a tall, narrow map makes a narrow figure), size the figure to it and stack the
    legend sections at its right; returns the layout."""
    renderer = fig.canvas.get_renderer()
    heights = [legend.get_window_extent(renderer).height / fig.dpi for legend in legends]
    legend_height = sum(heights) + 0.3 * max(len(heights) - 1, 0)
    layout = _layout(panels, sites, legend_height, flows=flows, supply=supply)
    lines = _wrapped(fig, caption, layout.figure[0] - 2 * MARGIN).count("\n") + 1
    if CAPTION_BASE + (lines + 1) * CAPTION_LINE > CAPTION_HEIGHT:
        layout = _layout(panels, sites, legend_height, CAPTION_BASE + (lines + 1) * CAPTION_LINE, flows, supply)
    fig_w, fig_h = layout.figure
    fig.set_size_inches(fig_w, fig_h)
    top = fig_h - TITLE_HEIGHT
    for legend, height in zip(legends, heights, strict=True):
        legend.set_bbox_to_anchor((layout.legend_left, top), transform=fig.dpi_scale_trans)
        top -= height + 0.3
    return layout


def _draw_main_panel(fig: Figure, panel: _Panel, layout: _Layout, symbols: _Symbols) -> np.ndarray:
    """The main panel with its scale bar; returns the rows of the suppliers drawn."""
    fig_w, fig_h = layout.figure
    left, bottom, width, height = layout.main_rect
    ax = fig.add_axes((left / fig_w, bottom / fig_h, width / fig_w, height / fig_h))
    ax.set_axis_off()
    view = layout.main_view
    drawn = _draw_panel(ax, panel, view, symbols, pixel=(view[2] - view[0]) / (width * PNG_DPI) * 0.75)
    _draw_scale_bar(ax, view, layout.scale_bar, fontsize=8)
    return drawn


def _draw_inset(fig: Figure, panel: _Panel, rect: tuple[float, float, float, float], symbols: _Symbols,
                framing: tuple[_Panel, gpd.GeoDataFrame, gpd.GeoDataFrame] | None = None) -> np.ndarray:
    """A framed inset at ``rect`` (inches: left, bottom, width, height) with a short scale bar where it hides
    the least (of ``framing``, a panel with its sites and flows, when given); returns the rows of the suppliers
    drawn."""
    fig_w, fig_h = fig.get_size_inches()
    x0, y0, w_in, h_in = rect
    inset = fig.add_axes((x0 / fig_w, y0 / fig_h, w_in / fig_w, h_in / fig_h), zorder=5)
    inset.set_facecolor("white")
    for spine in inset.spines.values():
        spine.set_edgecolor("#888888")
        spine.set_linewidth(0.7)
    view = _fit_aspect(padded_view(panel.view, 0.04), w_in / h_in)
    drawn = _draw_panel(inset, panel, view, symbols, pixel=(view[2] - view[0]) / (w_in * PNG_DPI) * 0.75)
    bar = (0.38, 0.15)
    label, label_box = _fitted_label(fig, _inset_label(panel.regions), w_in, h_in)
    grid_panel, grid_sites, grid_flows = framing if framing is not None else (panel, symbols.sites, symbols.flows)
    grid = _occupancy(grid_panel, grid_sites, view, columns=48, flows=grid_flows)
    (bar_pos, label_pos), _ = _place([bar, label_box], grid, [])
    _draw_scale_bar(inset, view, (*bar_pos, *bar), fontsize=6.5, middle=False)
    inset.text(label_pos[0] + 0.01, label_pos[1] + label_box[1], label, transform=inset.transAxes, ha="left",
               va="top", fontsize=INSET_LABEL_SIZE, zorder=6,
               bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.0})
    return drawn


def _fitted_label(fig: Figure, text: str, w_in: float, h_in: float) -> tuple[str, tuple[float, float]]:
    """``text`` wrapped to the inset's width and its box (width, height) in axes fractions."""
    width = _text_inches(fig, text, INSET_LABEL_SIZE) + 0.06
    if width > 0.9 * w_in:
        text = textwrap.fill(text, max(8, int(len(text) * 0.9 * w_in / width)), break_long_words=True)
        width = max(_text_inches(fig, line, INSET_LABEL_SIZE) for line in text.split("\n")) + 0.06
    height = (text.count("\n") + 1) * INSET_LABEL_SIZE * 1.3 / 72 + 0.03
    return text, (min(width / w_in, 1.0), min(height / h_in, 1.0))


INSET_LABEL_CHARS = 28  # a longer region name is cut with "…"
INSET_LABEL_SIZE = 6.5  # pt


def _inset_label(regions: pd.DataFrame) -> str:
    """Which group an inset shows: its region of most demand by name (else id), and how many more (three
    unlabelled insets of overseas towns, Réunion, the Antilles and Guyane, could not be told apart)."""
    names = regions["region_name"] if "region_name" in regions else regions.get("region_id")
    if names is None or not len(regions):
        return ""
    demand = pd.to_numeric(regions["demand"], errors="coerce").to_numpy(dtype=float) if "demand" in regions \
        else np.zeros(len(regions))
    top = str(names.iloc[int(np.nanargmax(demand))] if np.isfinite(demand).any() else names.iloc[0])
    top = top if len(top) <= INSET_LABEL_CHARS else top[: INSET_LABEL_CHARS - 1] + "…"
    more = len(regions) - 1
    return top if not more else f"{top} and {more:,} more region{'s' if more != 1 else ''}"


def _checked_paths(paths: Sequence[Path]) -> list[Path]:
    paths = [Path(p) for p in paths]
    for path in paths:
        if path.suffix.lower().lstrip(".") not in FORMATS:
            raise InputError(f"map: cannot write {path.name!r}; use one of the suffixes .png, .svg, .pdf")
    return paths


def save_figure(fig: Figure, paths: Sequence[Path], title: str = "") -> list[Path]:
    """Write ``fig`` to every path, the format from its suffix (.png at 150 dpi, .svg with text kept as
    text, .pdf with TrueType fonts), without dates so repeated runs give identical files."""
    import matplotlib

    paths = _checked_paths(paths)
    written = []
    for path in paths:
        fmt = path.suffix.lower().lstrip(".")
        metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
        if title and fmt != "png":
            metadata["Title"] = title
        rc = {"svg.fonttype": "none", "svg.hashsalt": "planner", "pdf.fonttype": 42}
        with matplotlib.rc_context(rc), text_as_written():
            fig.savefig(path, format=fmt, dpi=PNG_DPI, metadata=metadata, facecolor="white")
        written.append(path)
    return written


def draw_maps(
    regions: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    flows: gpd.GeoDataFrame,
    type_ids: Sequence[str],
    title: str,
    folder: Path,
    stem: str = "map",
    formats: Sequence[str] = FORMATS,
    suppliers: gpd.GeoDataFrame | None = None,
    inbound: gpd.GeoDataFrame | None = None,
) -> list[Path]:
    """Write ``<stem>.png``, ``<stem>.svg`` and ``<stem>.pdf`` (or the ``formats`` given) into ``folder``
    from one figure; return their paths. ``suppliers`` and ``inbound`` as for :func:`build_map_figure`."""
    paths = [Path(folder) / f"{stem}.{fmt}" for fmt in formats]
    return draw_map(regions, sites, flows, type_ids, title, paths, suppliers=suppliers, inbound=inbound)


def draw_map(
    regions: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    flows: gpd.GeoDataFrame,
    type_ids: Sequence[str],
    title: str,
    path: Path | Sequence[Path],
    suppliers: gpd.GeoDataFrame | None = None,
    inbound: gpd.GeoDataFrame | None = None,
) -> list[Path]:
    """Write the static map to ``path`` or to each of several paths (format from the suffix: .png, .svg,
    .pdf); the figure is built once. Returns the paths written. ``suppliers`` and ``inbound`` as for
    :func:`build_map_figure`."""
    paths = _checked_paths([path] if isinstance(path, str | Path) else path)
    started = time.perf_counter()
    fig = build_map_figure(regions, sites, flows, type_ids, title, suppliers=suppliers, inbound=inbound)
    written = save_figure(fig, paths, title)
    logger.debug("wrote %s in %.1f s", ", ".join(p.name for p in written), time.perf_counter() - started)
    return written
