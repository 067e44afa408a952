"""The network as GeoDataFrames (regions with what served them, sites, flows) in EPSG:4326."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.inputs.geo import LONLAT, polygons_split_at_antimeridian, wrap_longitude
from planner.inputs.prepare import Inputs
from planner.pipeline import Run
from planner.results import served_column


def region_service(run: Run) -> pd.DataFrame:
    """Per region: demand, served, unmet share, the facility type serving most of it ('unmet' where more
    of it is unmet than any type serves), cost to serve."""
    regions, flows = run.tables.regions, run.tables.flows
    totals = regions.groupby("region_id")[["demand", "served", "unmet", "unmet_cost"]].sum()
    served = served_column(flows)  # the customers' demand each flow serves (not what a demand factor delivers)
    by_type = flows.groupby(["region_id", "facility_type"])[served].sum().unstack(fill_value=0.0)
    main_type = by_type.idxmax(axis=1) if len(by_type.columns) else pd.Series(dtype=object)
    cost_to_serve = run.tables.cost_to_serve()
    frame = totals.assign(
        unmet_share=np.where(
            totals["demand"] > 0, totals["unmet"] / totals["demand"].where(totals["demand"] > 0, 1), 0.0
        ),
        served_by=main_type.reindex(totals.index).fillna("unmet"),
        cost_to_serve=cost_to_serve.reindex(totals.index),
    )
    largest = by_type.max(axis=1).reindex(totals.index).fillna(0.0) if len(by_type.columns) else 0.0
    frame.loc[(frame["served"] <= 0) | (frame["unmet"] > largest), "served_by"] = "unmet"  # most of it unmet
    return frame.reset_index()


def region_layer(run: Run, inputs: Inputs) -> gpd.GeoDataFrame:
    """Region polygons (or points) with their service figures."""
    keep = [c for c in ("region_id", "region_name") if c in inputs.regions.columns]
    base = inputs.regions[keep + [inputs.regions.geometry.name]].to_crs(LONLAT)
    service = region_service(run)
    merged = base.merge(service, on="region_id", how="left")
    merged["served_by"] = merged["served_by"].fillna("no demand")
    no_demand = [c for c in ("demand", "served", "unmet", "unmet_cost", "unmet_share") if c in merged]
    merged[no_demand] = merged[no_demand].fillna(0.0)  # a region without demand: 0, not blank
    return gpd.GeoDataFrame(merged, geometry=base.geometry.name, crs=LONLAT)


def regions_for_gis(regions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The regions layer for GIS files: polygons drawn across the antimeridian split there (the maps
    draw the layer as it is, shifting longitudes themselves, and a seam at 180° would show there)."""
    geometry = polygons_split_at_antimeridian(np.asarray(regions.geometry.array, dtype=object))
    return regions.set_geometry(gpd.GeoSeries(geometry, index=regions.index, crs=regions.crs))


def site_layer(run: Run) -> gpd.GeoDataFrame:
    sites = run.tables.sites
    return gpd.GeoDataFrame(sites.copy(), geometry=gpd.points_from_xy(sites["lon"], sites["lat"]), crs=LONLAT)


def flow_layer(run: Run) -> gpd.GeoDataFrame:
    """Lines from each site to the demand point of the region it serves."""
    flows = run.tables.flows
    problem = run.problem
    site_pos = pd.Series(np.arange(len(problem.site_ids)), index=problem.site_ids)
    region_pos = pd.Series(np.arange(len(problem.region_ids)), index=problem.region_ids)
    s = site_pos.reindex(flows["site_id"]).to_numpy()
    r = region_pos.reindex(flows["region_id"]).to_numpy()
    coords = np.stack(
        [
            np.column_stack([problem.site_lon[s], problem.site_lat[s]]),
            np.column_stack([problem.region_lon[r], problem.region_lat[r]]),
        ],
        axis=1,
    )
    geometry = shapely.linestrings(coords) if len(flows) else []
    return gpd.GeoDataFrame(flows.copy(), geometry=geometry, crs=LONLAT)


def lines_for_gis(lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A layer of two-point lon/lat lines (flows, inbound) for GIS files: the lines that cross the
    antimeridian split there (:func:`lonlat_lines`), and a line whose two ends are one point (a site
    serving the region it stands in) without a geometry: a line of one point is invalid to GIS tools
    (QGIS's validity check, PostGIS ``ST_IsValid``). The maps draw the layers as they are, shifting
    longitudes themselves."""
    geoms = np.asarray(lines.geometry.array, dtype=object) if len(lines) else np.zeros(0, dtype=object)
    if not len(geoms) or not (shapely.get_num_coordinates(geoms) == 2).all():
        return lines
    ends = shapely.get_coordinates(geoms).reshape(-1, 2, 2)
    split = lonlat_lines(ends)
    split[(ends[:, 0] == ends[:, 1]).all(axis=1)] = None
    return gpd.GeoDataFrame(lines.drop(columns=lines.geometry.name), geometry=list(split), crs=lines.crs)


def lonlat_lines(coords: np.ndarray) -> np.ndarray:
    """(n, 2, 2) lon/lat end points as lines; a line whose ends are more than 180° of longitude apart
    crosses the antimeridian (the short way round, as its ``distance_km`` is measured) and is split
    there into two parts (RFC 7946), so that no GIS draws it once round the world. All lines are
    multi-part where one is, as a GeoPackage layer has one geometry type."""
    coords = coords.copy()
    coords[:, :, 0] = wrap_longitude(coords[:, :, 0])
    for end, other in ((1, 0), (0, 1)):  # an end on ±180° itself is on the other end's side (it had split into NaN)
        on_meridian = np.abs(coords[:, end, 0]) == 180.0
        coords[on_meridian, end, 0] = np.where(coords[on_meridian, other, 0] >= 0, 180.0, -180.0)
    crossing = np.abs(coords[:, 1, 0] - coords[:, 0, 0]) > 180.0
    if not crossing.any():
        return shapely.linestrings(coords)
    cross = coords[crossing]
    side = np.where(cross[:, 0, 0] >= 0, 180.0, -180.0)  # the start's side of the antimeridian
    far_lon = cross[:, 1, 0] + 2 * side  # the end shifted by ±360°: next to the start
    share = (side - cross[:, 0, 0]) / (far_lon - cross[:, 0, 0])
    cross_lat = cross[:, 0, 1] + share * (cross[:, 1, 1] - cross[:, 0, 1])
    first = np.stack([cross[:, 0], np.column_stack([side, cross_lat])], axis=1)
    second = np.stack([np.column_stack([-side, cross_lat]), cross[:, 1]], axis=1)
    straight, crossed = np.flatnonzero(~crossing), np.flatnonzero(crossing)
    parts = np.concatenate([coords[straight], first, second])
    owner = np.concatenate([straight, crossed, crossed])
    order = np.argsort(owner, kind="stable")  # each line's parts together, first part first
    return shapely.multilinestrings(shapely.linestrings(parts[order]), indices=owner[order])


def inbound_layer(run: Run) -> gpd.GeoDataFrame | None:
    """Lines from each supplier to the facility it supplies (None without suppliers)."""
    inbound, problem = run.tables.inbound, run.problem
    if inbound is None or problem.supply is None:
        return None
    supply = problem.supply
    supplier_pos = pd.Series(np.arange(len(supply.supplier_ids)), index=supply.supplier_ids)
    site_pos = pd.Series(np.arange(len(problem.site_ids)), index=problem.site_ids)
    j = supplier_pos.reindex(inbound["supplier_id"]).to_numpy()
    s = site_pos.reindex(inbound["site_id"]).to_numpy()
    coords = np.stack([np.column_stack([supply.supplier_lon[j], supply.supplier_lat[j]]),
                       np.column_stack([problem.site_lon[s], problem.site_lat[s]])], axis=1)
    geometry = shapely.linestrings(coords) if len(inbound) else []
    return gpd.GeoDataFrame(inbound.copy(), geometry=geometry, crs=LONLAT)


def supplier_layer(run: Run) -> gpd.GeoDataFrame | None:
    """Every supplier as a point with its material, capacity, price and what it ships (None without)."""
    supply = run.problem.supply
    if supply is None:
        return None
    shipped = run.tables.inbound.groupby("supplier_id")["quantity"].sum() if run.tables.inbound is not None else {}
    frame = pd.DataFrame({
        "supplier_id": supply.supplier_ids,
        "material": np.asarray(supply.material_ids, dtype=object)[supply.supplier_material],
        "capacity_per_yr": supply.supplier_capacity,
        "cost_per_unit": supply.supplier_cost,
        "shipped": pd.Series(shipped).reindex(supply.supplier_ids).fillna(0.0).to_numpy(),
    })
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(supply.supplier_lon, supply.supplier_lat), crs=LONLAT)
