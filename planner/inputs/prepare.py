"""From a model file and regional data to the numeric :class:`Problem` (load → validate → prepare).

* Demand of product p in region r (units/yr) = ``demand_rate[p]`` × the regions' demand column, or
  the product's own ``demand_column``.
* Demand points: the ``demand_point_columns`` (e.g. population-weighted centres) when given, else a
  point guaranteed inside each polygon.
* Candidate sites: the ``--sites`` file, or generated from the regions by each facility type's
  ``candidates`` rule (site id = region id, located at the region's demand point).
* Arcs (option o, region r, product p) exist only where o's type makes p, the road distance
  (great-circle × circuity, or the OD matrix) is within the product's and the type's radius, and the
  unit cost is below p's unmet penalty (an arc dearer than not serving is never used: exact pruning).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import InputError, truncated
from planner.inputs.config import ModelConfig, finite_or_inf
from planner.inputs.geo import pairs_within, points_to_lonlat, representative_lonlat, require_crs
from planner.inputs.io import parse_flags, read_od_matrix, read_regions, read_sites
from planner.inputs.validate import check_demand_column, check_ids, check_regions, select_rows
from planner.problem import Problem

logger = logging.getLogger(__name__)

KG_PER_T = 1000.0


@dataclass(frozen=True)
class DataOptions:
    """Where the data comes from (CLI options override the model file)."""

    regions_path: Path | None = None
    layer: str | None = None
    id_column: str | None = None
    demand_column: str | None = None
    sites_path: Path | None = None
    od_path: Path | None = None
    select: tuple[tuple[str, tuple[str, ...]], ...] = ()
    lon_column: str | None = None  # coordinate columns of a CSV/Parquet table of demand points
    lat_column: str | None = None
    crs: str | None = None  # CRS of those coordinates (default EPSG:4326, lon/lat degrees)


@dataclass(frozen=True)
class Inputs:
    """Validated inputs, geometry included (for the exports); the model never sees this."""

    regions: gpd.GeoDataFrame  # one row per region, ``region_id`` column, original geometry
    region_lon: np.ndarray
    region_lat: np.ndarray
    base_demand: np.ndarray  # (R,) the demand column
    demand: np.ndarray  # (R, P) units/yr
    sites: pd.DataFrame  # site_id, lon, lat, types (tuple), cost_multiplier, existing, forced
    od: pd.DataFrame | None
    regions_path: Path
    sites_path: Path | None
    od_path: Path | None
    select: tuple


def parse_select(values: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``COLUMN=VALUE[,VALUE...]`` strings as (column, values) pairs."""
    parsed = []
    for text in values:
        column, sep, wanted = text.partition("=")
        if not sep or not column.strip() or not wanted.strip():
            raise InputError(f"--select '{text}': use COLUMN=VALUE[,VALUE...], e.g. --select STUSPS=NC")
        parsed.append((column.strip(), tuple(v.strip() for v in wanted.split(",") if v.strip())))
    return tuple(parsed)


def load_inputs(config: ModelConfig, options: DataOptions) -> Inputs:
    """Read and validate regions, sites and OD matrix."""
    regions_cfg = config.regions
    path = options.regions_path or regions_cfg.path
    if path is None:
        raise InputError("no regions file: pass REGIONS or set regions.path in the model file")
    path = Path(path)
    id_column = options.id_column or regions_cfg.id_column
    base_column = options.demand_column or regions_cfg.demand_column
    product_columns = [p.demand_column for p in config.products.values() if p.demand_column]
    needs_base = any(p.demand_column is None for p in config.products.values())
    demand_columns = ([base_column] if needs_base else []) + product_columns
    frame = read_regions(path, options.layer or regions_cfg.layer)
    if options.select:
        frame = select_rows(frame, [(c, list(v)) for c, v in options.select], path)
    frame = check_regions(frame, path, id_column, demand_columns, regions_cfg.demand_point_columns)
    frame = frame.reset_index(drop=True)
    if regions_cfg.demand_point_columns:
        lon_col, lat_col = regions_cfg.demand_point_columns
        lon, lat = frame[lon_col].to_numpy(dtype=float), frame[lat_col].to_numpy(dtype=float)
        if (np.abs(lat) > 90).any() or (np.abs(lon) > 360).any():
            raise InputError(f"{path}: {lon_col}/{lat_col} are not lon/lat degrees; fix regions.demand_point_columns")
    else:
        lon, lat = representative_lonlat(frame)
    base = frame[base_column].to_numpy(dtype=float) if needs_base else np.zeros(len(frame))
    demand = np.column_stack(
        [
            frame[p.demand_column].to_numpy(dtype=float) if p.demand_column else p.demand_rate * base
            for p in config.products.values()
        ]
    )
    if not needs_base:  # every product has its own column: candidate rules rank by total demand
        base = demand.sum(axis=1)
    regions = frame.rename(columns={id_column: "region_id"}) if id_column != "region_id" else frame
    name_column = regions_cfg.name_column
    regions = regions.assign(
        region_name=regions[name_column].astype(str) if name_column in regions else regions["region_id"]
    )
    sites = (
        read_candidate_sites(Path(options.sites_path), config)
        if options.sites_path
        else generate_candidate_sites(config, regions["region_id"].to_numpy(), lon, lat, base)
    )
    od = read_od_matrix(Path(options.od_path)) if options.od_path else None
    return Inputs(
        regions=regions,
        region_lon=lon,
        region_lat=lat,
        base_demand=base,
        demand=demand,
        sites=sites,
        od=od,
        regions_path=path,
        sites_path=options.sites_path,
        od_path=options.od_path,
        select=options.select,
    )


def generate_candidate_sites(
    config: ModelConfig, region_ids: np.ndarray, lon: np.ndarray, lat: np.ndarray, base: np.ndarray
) -> pd.DataFrame:
    """Candidate sites from each facility type's rule: demand ≥ min_demand and among the top_n."""
    order = np.argsort(-base, kind="stable")
    rank = np.empty(len(base), dtype=int)
    rank[order] = np.arange(len(base))
    allowed = {}
    for type_name, facility in config.facility_types.items():
        rule = facility.candidates
        mask = np.ones(len(base), dtype=bool)
        if rule.min_demand is not None:
            mask &= base >= rule.min_demand
        if rule.top_n is not None:
            mask &= rank < rule.top_n
        allowed[type_name] = mask
    any_type = np.logical_or.reduce(list(allowed.values()))
    types = [tuple(name for name, mask in allowed.items() if mask[i]) for i in np.flatnonzero(any_type)]
    chosen = np.flatnonzero(any_type)
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


def read_candidate_sites(path: Path, config: ModelConfig) -> pd.DataFrame:
    """The ``--sites`` file as a sites table (excluded sites dropped)."""
    frame = read_sites(path)
    if isinstance(frame, gpd.GeoDataFrame):
        require_crs(frame, path)
        kinds = set(frame.geometry.geom_type.dropna())
        if kinds - {"Point"}:
            raise InputError(f"{path}: sites must be points, found {sorted(kinds)}; give point geometries")
        lon, lat = points_to_lonlat(frame)
    else:
        lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
    ids = check_ids(frame, "site_id", path, "site")
    all_types = tuple(config.facility_types)
    if "facility_types" in frame.columns:
        types = []
        for row, text in enumerate(frame["facility_types"].fillna("").astype(str)):
            names = tuple(t.strip() for t in text.replace(",", ";").split(";") if t.strip())
            if not names or names == ("*",):
                names = all_types
            unknown = [t for t in names if t not in config.facility_types]
            if unknown:
                raise InputError(
                    f"{path}: column 'facility_types' row {row + 1}: {unknown} not in the model's facility types "
                    f"{list(all_types)}; fix the name"
                )
            types.append(names)
    else:
        types = [all_types] * len(frame)
    multiplier = np.ones(len(frame))
    if "cost_multiplier" in frame.columns:
        multiplier = check_demand_column(frame, "cost_multiplier", path)
        if (multiplier <= 0).any():
            row = int(np.flatnonzero(multiplier <= 0)[0])
            raise InputError(f"{path}: column 'cost_multiplier' row {row + 1} must be > 0")
    flags = {
        name: parse_flags(frame[name], path, name).to_numpy() if name in frame.columns else np.zeros(len(frame), bool)
        for name in ("existing", "forced", "excluded")
    }
    clash = flags["excluded"] & (flags["forced"] | flags["existing"])
    if clash.any():
        row = int(np.flatnonzero(clash)[0])
        raise InputError(f"{path}: row {row + 1} is both excluded and forced/existing; choose one")
    keep = ~flags["excluded"]
    sites = pd.DataFrame(
        {
            "site_id": ids.to_numpy(),
            "lon": lon,
            "lat": lat,
            "types": types,
            "cost_multiplier": multiplier,
            "existing": flags["existing"],
            "forced": flags["forced"] | flags["existing"],
        }
    )[keep].reset_index(drop=True)
    if sites.empty:
        raise InputError(f"{path}: every site is excluded; leave at least one candidate")
    return sites


def _option_table(config: ModelConfig, sites: pd.DataFrame) -> pd.DataFrame:
    exploded = sites.explode("types").rename(columns={"types": "facility_type"})
    exploded = exploded.reset_index(names="site")
    forced_multi = exploded[exploded["forced"]].groupby("site").size()
    if (forced_multi > 1).any():
        site = sites["site_id"].iloc[forced_multi[forced_multi > 1].index[0]]
        raise InputError(
            f"site '{site}' is forced/existing and allows several facility types; give it exactly one facility type"
        )
    return exploded.reset_index(drop=True)


def _distances(
    config: ModelConfig,
    inputs: Inputs,
    option_site: np.ndarray,
    regions: np.ndarray,
    max_road_km: float,
    any_radius: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Pairs (option position, region position) within ``max_road_km``, road km, OD cost or None.
    ``any_radius``: some product of these options has a delivery radius (so distances are needed)."""
    sites = inputs.sites
    if inputs.od is None:
        site_positions = np.unique(option_site)
        i, j, km = pairs_within(
            sites["lon"].to_numpy()[site_positions],
            sites["lat"].to_numpy()[site_positions],
            inputs.region_lon[regions],
            inputs.region_lat[regions],
            max_road_km / config.distance.circuity,
        )
        road_km = km * config.distance.circuity
        # expand site pairs to the options located at those sites
        lookup = pd.DataFrame({"site": site_positions[i], "region": regions[j], "km": road_km})
        options = pd.DataFrame({"option": np.arange(len(option_site)), "site": option_site})
        merged = options.merge(lookup, on="site")
        return merged["option"].to_numpy(), merged["region"].to_numpy(), merged["km"].to_numpy(), None
    od = inputs.od
    site_ids = sites["site_id"].to_numpy()[option_site]
    region_ids = inputs.regions["region_id"].to_numpy()[regions]
    wanted = pd.DataFrame(
        {
            "option": np.repeat(np.arange(len(option_site)), len(regions)),
            "region": np.tile(regions, len(option_site)),
            "from": np.repeat(site_ids, len(regions)),
            "to": np.tile(region_ids, len(option_site)),
        }
    )
    merged = wanted.merge(od, on=["from", "to"], how="left")
    value_columns = [c for c in ("distance_km", "cost") if c in od.columns]
    missing = merged[value_columns[0]].isna()
    if missing.any():
        pairs = [f"{a}->{b}" for a, b in merged.loc[missing, ["from", "to"]].head(5).itertuples(index=False)]
        raise InputError(
            f"{inputs.od_path}: OD matrix lacks {int(missing.sum())} site->region pairs ({truncated(pairs)}); "
            "add a row for every candidate site and region"
        )
    if "distance_km" in od.columns:
        km = merged["distance_km"].to_numpy(dtype=float)
    else:
        if any_radius:
            raise InputError(
                f"{inputs.od_path}: a delivery radius is set but the OD matrix has no 'distance_km'; add distances"
            )
        km = np.zeros(len(merged))
    cost = merged["cost"].to_numpy(dtype=float) if "cost" in od.columns else None
    keep = km <= max_road_km
    return (
        merged["option"].to_numpy()[keep],
        merged["region"].to_numpy()[keep],
        km[keep],
        None if cost is None else cost[keep],
    )


def prepare_problem(config: ModelConfig, inputs: Inputs) -> Problem:
    """The numeric problem; see the module docstring for the arc rules."""
    product_ids = tuple(config.products)
    type_ids = tuple(config.facility_types)
    options = _option_table(config, inputs.sites)
    type_position = {name: k for k, name in enumerate(type_ids)}
    option_type = options["facility_type"].map(type_position).to_numpy(dtype=int)
    option_site = options["site"].to_numpy(dtype=int)
    multiplier = options["cost_multiplier"].to_numpy(dtype=float)
    existing = options["existing"].to_numpy(dtype=bool)

    def per_type(attribute: str, default=None) -> np.ndarray:
        values = [getattr(config.facility_types[t], attribute) for t in type_ids]
        values = [default if v is None else v for v in values]
        return np.asarray(values, dtype=float)[option_type]

    opening_cost = np.where(existing, 0.0, per_type("opening_cost_per_yr") * multiplier)
    capex = np.where(existing, 0.0, per_type("capex") * multiplier)
    penalty = np.array([finite_or_inf(config.products[p].unmet_penalty_per_unit) for p in product_ids])
    setup_by_type = np.array(
        [
            [config.facility_types[t].products[p].setup_cost_per_yr if p in config.facility_types[t].products else 0.0
             for p in product_ids]
            for t in type_ids
        ]
    ).reshape(len(type_ids), len(product_ids))
    setup_cost = setup_by_type[option_type] * multiplier[:, None]
    product_radius = np.array([finite_or_inf(config.transport[p].max_distance_km) for p in product_ids])

    arc_parts = []
    for k, type_name in enumerate(type_ids):
        facility = config.facility_types[type_name]
        options_k = np.flatnonzero(option_type == k)
        if len(options_k) == 0:
            continue
        type_radius = finite_or_inf(facility.max_delivery_km)
        made = [product_ids.index(p) for p in facility.products]
        radii = {p: min(product_radius[p], type_radius) for p in made}
        regions = np.flatnonzero((inputs.demand[:, made] > 0).any(axis=1))
        pos, region, km, od_cost = _distances(
            config, inputs, option_site[options_k], regions, max(radii.values()),
            any_radius=bool(np.isfinite(list(radii.values())).any()),
        )
        for p in made:
            transport = config.transport[product_ids[p]]
            production = facility.products[product_ids[p]]
            keep = (km <= radii[p]) & (inputs.demand[region, p] > 0)
            k_km = km[keep]
            transport_cost = od_cost[keep] if od_cost is not None else transport.cost_per_unit_km * k_km
            co2_t = (production.co2_kg_per_unit + transport.co2_kg_per_unit_km * k_km) / KG_PER_T
            unit_cost = production.cost_per_unit + transport_cost + config.carbon_price * co2_t
            useful = unit_cost < penalty[p]
            arc_parts.append(
                {
                    "option": options_k[pos[keep]][useful],
                    "region": region[keep][useful],
                    "product": np.full(int(useful.sum()), p),
                    "km": k_km[useful],
                    "production": np.full(int(useful.sum()), production.cost_per_unit),
                    "transport": np.asarray(transport_cost, dtype=float)[useful],
                    "co2": co2_t[useful],
                }
            )
    columns = ("option", "region", "product", "km", "production", "transport", "co2")
    arcs = {c: np.concatenate([part[c] for part in arc_parts]) if arc_parts else np.zeros(0) for c in columns}
    order = np.lexsort((arcs["option"], arcs["product"], arcs["region"]))
    arcs = {c: v[order] for c, v in arcs.items()}
    type_min = np.array([config.facility_types[t].min_count for t in type_ids], dtype=int)
    type_max = np.array(
        [
            config.facility_types[t].max_count if config.facility_types[t].max_count is not None else len(options)
            for t in type_ids
        ],
        dtype=int,
    )
    return Problem(
        name=config.name,
        region_ids=inputs.regions["region_id"].to_numpy(dtype=object),
        product_ids=product_ids,
        type_ids=type_ids,
        site_ids=inputs.sites["site_id"].to_numpy(dtype=object),
        demand=inputs.demand,
        unmet_penalty=penalty,
        max_distance_km=product_radius,
        option_site=option_site,
        option_type=option_type,
        opening_cost=opening_cost,
        module_cost=per_type("module_cost_per_yr") * multiplier,
        module_capacity=per_type("module_capacity_per_yr", np.inf),
        min_modules=per_type("min_modules").astype(int),
        max_modules=per_type("max_modules").astype(int),
        capex=capex,
        capex_per_module=per_type("capex_per_module") * multiplier,
        forced=options["forced"].to_numpy(dtype=bool),
        arc_option=arcs["option"].astype(int),
        arc_region=arcs["region"].astype(int),
        arc_product=arcs["product"].astype(int),
        arc_distance_km=arcs["km"].astype(float),
        arc_production_cost=arcs["production"].astype(float),
        arc_transport_cost=arcs["transport"].astype(float),
        arc_co2_t=arcs["co2"].astype(float),
        carbon_price=config.carbon_price,
        single_sourcing=config.network.single_sourcing,
        capex_budget=finite_or_inf(config.network.capex_budget),
        type_min_count=type_min,
        type_max_count=type_max,
        min_facilities=config.network.min_facilities,
        max_facilities=config.network.max_facilities,
        co2_cap_t=finite_or_inf(config.network.max_co2_t_per_yr),
        currency=config.currency,
        site_lon=inputs.sites["lon"].to_numpy(dtype=float),
        site_lat=inputs.sites["lat"].to_numpy(dtype=float),
        region_lon=inputs.region_lon,
        region_lat=inputs.region_lat,
        setup_cost=setup_cost,
    )
