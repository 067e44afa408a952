"""From a model file and regional data to the numeric :class:`Problem` (load → validate → prepare).

* Demand of product p in region r (units/yr) = ``demand_rate[p]`` × the regions' demand column, or
  the product's own ``demand_column``.
* Demand points: the ``demand_point_columns`` (e.g. population-weighted centres) when given, else a
  point guaranteed inside each polygon.
* Candidate sites: the ``--sites`` file, or generated from the regions by each facility type's
  ``candidates`` rule (site id = region id, located at the region's demand point).
* Arcs (option o, region r, product p) exist only where o's type makes p, the road distance
  (great-circle × circuity, or the OD matrix) is within the product's and the type's radius, and the
  unit cost (times the arc's demand factor) is below p's unmet penalty (an arc dearer than not serving is
  never used: exact pruning), except where a classic objective kind or a service level may use it
  (``served_at_a_loss``) or a study will limit the unmet demand (``keep_dear_arcs``: pareto's service floor,
  under which leaving a pair unmet is no longer always possible, so the pruning would not be exact).
"""

from __future__ import annotations

import csv
import logging
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import InfeasibleError, InputError, amount_text, truncated
from planner.formats.tokens import available_memory, format_bytes
from planner.inputs.candidates import generate_candidate_sites
from planner.inputs.config import ModelConfig, dotted_key, finite_or_inf
from planner.inputs.geo import pairs_within, require_crs
from planner.inputs.io import lost_zeros_hint, names_hint, parse_flags, points_lonlat, read_od_matrix, read_sites
from planner.inputs.objectives import classic_problem
from planner.inputs.regions import load_regions
from planner.inputs.screen import MAX_COST_TERM, MAX_DEMAND
from planner.inputs.suppliers import build_supply, material_ids, read_suppliers
from planner.inputs.validate import (
    FAR_KM,
    check_demand_column,
    check_ids,
    far_sites,
    odd_od_distances,
    positions_among,
    refuse_near_columns,
)
from planner.problem import Problem, within_limits

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
    suppliers_path: Path | None = None  # overrides the model's [suppliers] path

    def __post_init__(self) -> None:
        """Paths given as text become paths; ``select`` may also be given as ``{column: value or values}``
        (a value given as one string is one value, not its letters); anything else a caller from
        Python could give is an ``InputError`` naming the field (an in-memory frame is no path)."""
        for field in ("regions_path", "sites_path", "od_path", "suppliers_path"):
            value = getattr(self, field)
            if value is not None and not isinstance(value, (str, PathLike)):
                raise InputError(f"DataOptions.{field} is a {type(value).__name__}; give the path of a file (a "
                                 "frame in memory: write it first, e.g. frame.to_file('regions.gpkg'))")
            object.__setattr__(self, field, None if value is None else Path(value))
        object.__setattr__(self, "select", _select_pairs(self.select))


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
    suppliers: pd.DataFrame | None = None  # supplier_id, material, capacity_per_yr, cost_per_unit, lon, lat
    suppliers_path: Path | None = None
    region_columns: dict | None = None  # the regions file's columns read: id, demand, name (planner.inputs.regions)
    left_out_ids: frozenset = frozenset()  # ids of the regions file's regions that --select leaves out


def _select_pairs(select) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``DataOptions.select`` as (column, values) pairs, from pairs or a mapping; a value given as one
    string is that one value."""
    items = select.items() if isinstance(select, Mapping) else select
    hint = ("DataOptions.select: give (column, values) pairs or {column: values}, e.g. {'STUSPS': ['NC', 'SC']}; "
            f"got {select!r:.80}")
    if isinstance(items, str):
        raise InputError(hint)
    pairs = []
    for item in items:
        if not isinstance(item, (tuple, list)) or len(item) != 2 or not isinstance(item[0], str):
            raise InputError(hint)
        column, values = item
        values = (values,) if isinstance(values, str) or not isinstance(values, Iterable) else tuple(values)
        pairs.append((column, tuple(str(value) for value in values)))
    return tuple(pairs)


def parse_select(values: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``COLUMN=VALUE[,VALUE...]`` strings as (column, values) pairs; a value holding a comma is quoted
    as in a CSV file (``name="Washington, D.C."``); backslashes are kept as written."""
    parsed = []
    for text in values:
        column, sep, wanted = text.partition("=")
        if not sep or not column.strip() or not wanted.strip():
            raise InputError(f"--select '{text}': use COLUMN=VALUE[,VALUE...], e.g. --select STUSPS=NC")
        if "\n" in wanted or "\r" in wanted:  # csv reads a line: 'a quote is not closed' had been the message
            raise InputError(f"--select {text!r}: a value holds a line break; give values on one line")
        try:
            split = next(csv.reader([wanted], skipinitialspace=True, strict=True))
        except csv.Error as error:
            problem = "a quote is not closed" if "EOF" in str(error) or "unexpected end" in str(error) else \
                f"a quote stands inside a value ({error})"
            raise InputError(f"--select '{text}': {problem}; quote a whole value with a comma as "
                             '"Washington, D.C."') from None
        parsed.append((column.strip(), tuple(v.strip() for v in split if v.strip())))
    return tuple(parsed)


def warn_far(what: str, points: pd.DataFrame, data, check: str) -> None:
    """Warn about ``points`` (``site_id``, ``lon``, ``lat``) farther than FAR_KM, and than the demand's
    own extent, from every demand point of ``data``: coordinates in the wrong CRS or swapped."""
    far = far_sites(points["site_id"], points["lon"], points["lat"], data.lon, data.lat)
    if far:
        logger.warning("%s %s are more than %.0f km from any demand point (and farther than the demand's own "
                       "extent); %s", what, truncated(far), FAR_KM, check)


def load_inputs(config: ModelConfig, options: DataOptions) -> Inputs:
    """Read and validate regions (or demand points), sites and OD matrix."""
    source, data = load_regions(config, options)
    regions = data.frame
    sites = (
        read_candidate_sites(Path(options.sites_path), config)
        if options.sites_path
        else generate_candidate_sites(config, regions["region_id"].to_numpy(), data.lon, data.lat, data.base_demand)
    )
    warn_far("sites", sites, data, "check their coordinates and CRS")
    od = read_od_matrix(Path(options.od_path)) if options.od_path else None
    if od is not None:
        for warning in odd_od_distances(od, sites["site_id"], sites["lon"], sites["lat"], regions["region_id"],
                                        data.lon, data.lat, (regions.geometry.geom_type == "Point").to_numpy()):
            logger.warning("%s: %s", options.od_path, warning)
    suppliers_path = options.suppliers_path or config.suppliers.path
    where = "--suppliers" if options.suppliers_path else f"[suppliers] path in {config.file_name}"
    suppliers = read_suppliers(Path(suppliers_path), where) if suppliers_path else None
    if suppliers is not None:  # a supplier abroad is fine, one in the ocean after lon and lat were swapped is not
        warn_far("suppliers", suppliers.rename(columns={"supplier_id": "site_id"}), data,
                 "check their coordinates (lon and lat not swapped) if they are not abroad")
    if suppliers is None and material_ids(config):
        logger.warning("products list materials but no supplier file is given (--suppliers or [suppliers] path): "
                       "inbound supply is left out")
    return Inputs(
        regions=regions,
        region_lon=data.lon,
        region_lat=data.lat,
        base_demand=data.base_demand,
        demand=data.demand,
        sites=sites,
        od=od,
        regions_path=source.path,
        sites_path=options.sites_path,
        od_path=options.od_path,
        select=options.select,
        suppliers=suppliers,
        suppliers_path=Path(suppliers_path) if suppliers_path else None,
        region_columns=data.columns,
        left_out_ids=data.left_out_ids,
    )


def read_candidate_sites(path: Path, config: ModelConfig) -> pd.DataFrame:
    """The ``--sites`` file as a sites table (excluded sites dropped)."""
    frame = read_sites(path)
    require_crs(frame, path)
    kinds = set(frame.geometry.geom_type.dropna())
    if kinds - {"Point"}:
        raise InputError(f"{path}: sites must be points, found {sorted(kinds)}; give point geometries")
    lon, lat = points_lonlat(frame, path)
    ids = check_ids(frame, "site_id", path, "site")
    check_site_columns(frame, path)
    types = site_types(frame, path, config)
    multiplier = np.ones(len(frame))
    if "cost_multiplier" in frame.columns:
        fix = "give a number > 0 in every row (1 = the facility type's costs)"
        multiplier = check_demand_column(frame, "cost_multiplier", path, fix)
        if (multiplier <= 0).any():
            row = int(np.flatnonzero(multiplier <= 0)[0])
            raise InputError(f"{path}: column 'cost_multiplier' row {row + 1} is {multiplier[row]:g}; {fix}")
        if (multiplier > MAX_COST_MULTIPLIER).any():  # 1e300 had overflowed the costs (a RuntimeWarning shown)
            row = int(np.flatnonzero(multiplier > MAX_COST_MULTIPLIER)[0])
            raise InputError(f"{path}: column 'cost_multiplier' row {row + 1} is {multiplier[row]:g}, above "
                             f"{MAX_COST_MULTIPLIER:.0e}; a site that dear is no candidate: mark it 'excluded'")
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


SITE_COLUMNS = ("facility_types", "cost_multiplier", "existing", "forced", "excluded")
MAX_COST_MULTIPLIER = 1e6  # a site's cost_multiplier


def check_site_columns(frame: pd.DataFrame, path: Path) -> None:
    """Refuse a column that is one of :data:`SITE_COLUMNS` but for case, spaces or a plural ``s``
    (``Forced``, ``facility_type``): it would be ignored, and the sites silently not forced, excluded,
    scaled or limited to their types."""
    refuse_near_columns(frame, path, SITE_COLUMNS, "the sites file's")


def site_types(frame: pd.DataFrame, path: Path, config: ModelConfig) -> list[tuple[str, ...]]:
    """Per site, the facility types it may take: the ``facility_types`` column (names separated by
    ``;`` or ``,``, a name given twice counts once, order kept; empty or ``*`` = every type)."""
    all_types = tuple(config.facility_types)
    if "facility_types" not in frame.columns:
        return [all_types] * len(frame)
    types = []
    by_form = {unicodedata.normalize("NFC", name): name for name in all_types}  # 'Süd' composed or not
    for row, text in enumerate(frame["facility_types"].fillna("").astype(str)):
        names = tuple(dict.fromkeys(by_form.get(unicodedata.normalize("NFC", t.strip()), t.strip())
                                    for t in text.replace(",", ";").split(";") if t.strip()))
        if not names or names == ("*",):
            names = all_types
        unknown = [t for t in names if t not in config.facility_types]
        if unknown:
            raise InputError(
                f"{path}: column 'facility_types' row {row + 1}: {unknown} not in the model's facility types "
                f"{list(all_types)}; fix the name"
            )
        types.append(names)
    return types


def _option_table(config: ModelConfig, sites: pd.DataFrame, sites_path: Path | None = None) -> pd.DataFrame:
    exploded = sites.explode("types").rename(columns={"types": "facility_type"})
    exploded = exploded.reset_index(names="site")
    forced_multi = exploded[exploded["forced"]].groupby("site").size()
    if (forced_multi > 1).any():
        site = sites["site_id"].iloc[forced_multi[forced_multi > 1].index[0]]
        where = f"{sites_path}: " if sites_path is not None else ""  # the line had not said which file
        raise InputError(
            f"{where}site '{site}' is forced/existing and allows several facility types; give it exactly one "
            "facility type (its 'facility_types' column)"
        )
    return exploded.reset_index(drop=True)


def _distances(
    config: ModelConfig,
    inputs: Inputs,
    option_site: np.ndarray,
    regions: np.ndarray,
    max_road_km: float,
    radius_keys: str,
    type_name: str = "",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Pairs (option position, region position) within ``max_road_km``, road km, OD cost or None, OD
    minutes or None.
    ``radius_keys``: the model keys that give some product of these options a delivery radius (so distances
    are needed), '' where none does;
    ``type_name``: their facility type (named where the OD matrix lacks pairs)."""
    if inputs.od is None:
        option, region, km = great_circle_pairs(config, inputs, option_site, regions, max_road_km)
        return option, region, km, None, None
    return od_pairs(inputs, option_site, regions, max_road_km, radius_keys, type_name)


ARC_BYTES = 450  # memory per delivery arc from preparing to the audit (measured: about 440 bytes in a solve)
MEMORY_SHARE = 0.8  # of the memory available, at most this for the arcs
PROCESS_BYTES = 0.5e9  # a solve before its arcs: Python, Pyomo, HiGHS, geopandas, the regions and the map


PAIR_BYTES = 15e3  # per demand pair: the presolve's flow LPs hold rows per pair (see solve_memory_estimate)


def solve_memory_estimate(n_arcs: int, n_pairs: int = 0) -> float:
    """Bytes a solve of ``n_arcs`` delivery arcs and ``n_pairs`` demand pairs may hold at its peak:
    ``PROCESS_BYTES`` + ``ARC_BYTES`` per arc + ``PAIR_BYTES`` per pair (measured peaks of ``planner solve``:
    0.52 GB for the 37,546 arcs and 6,284 pairs of the default model, estimate 0.61; 0.68 GB for the 727,134
    arcs of ``us_counties_full.toml``, estimate 0.92; 4.66 GB for 15.4 million, estimate 7.4: on the safe side
    at scale. The pairs' term: 40,000 and 60,000 demand points of one product peaked at 1.36 and 1.84 GB,
    against 0.81 and 0.98 GB from the arcs alone, in the presolve's flow-LP searches)."""
    return PROCESS_BYTES + n_arcs * ARC_BYTES + n_pairs * PAIR_BYTES


def memory_line(n_arcs: int, copies: int = 1, arc_copy_bytes: float = ARC_BYTES, n_pairs: int = 0) -> str:
    """'about 0.7 GB at the solve's peak (estimate; 19 GB available)' for ``planner validate``; with
    ``copies`` > 1 (the scenarios of ``--scenarios FILE``) each arc holds ``arc_copy_bytes`` per copy, as the
    extensive form's check counts them (200 scenarios of 4,478 arcs had been estimated 502 MB, peak 1.6 GB)."""
    if copies <= 1:
        need = solve_memory_estimate(n_arcs, n_pairs)
    else:
        need = PROCESS_BYTES + n_arcs * copies * arc_copy_bytes + n_pairs * PAIR_BYTES
    available = available_memory()
    room = "" if available is None else f"; {format_bytes(available)} available"
    return f"about {format_bytes(need)} at the solve's peak (estimate{room})"


def check_arc_memory(n_arcs: int) -> None:
    """One line, before the arcs are made, where ``n_arcs`` would need more memory than is available (50
    million arcs, 2,000 candidate sites × 25,000 regions with no delivery radius, had ended in a
    MemoryError or the system's out-of-memory killer)."""
    _refuse_beyond_memory(
        n_arcs * ARC_BYTES, f"{n_arcs:,} delivery arcs (candidate sites × regions within reach)",
        "fewer candidate sites (a candidates rule, a smaller sites file), a delivery radius (max_distance_km) or "
        "fewer regions (--select) make it fit",
    )


def check_copies_memory(n_arcs: int, copies: int, arc_copy_bytes: float, what: str, fix: str) -> None:
    """One line, before an extensive form is built, where ``copies`` copies of ``n_arcs`` delivery arcs
    (scenarios, periods × scenarios) would need more memory than is available at ``arc_copy_bytes``
    each; ``what`` names the copies, ``fix`` the way out (``--periods 100 --scenarios 100`` on 618
    arcs had ended in a MemoryError or the out-of-memory killer)."""
    _refuse_beyond_memory(n_arcs * copies * arc_copy_bytes, f"{what}: {copies:,} copies of {n_arcs:,} delivery arcs",
                          fix)


def _refuse_beyond_memory(need: float, what: str, fix: str) -> None:
    """InputError where ``need`` bytes exceed ``MEMORY_SHARE`` of the memory available (no check where
    the system does not say): '``what`` need about …, more than …; ``fix``'."""
    available = available_memory()
    if available is None or need <= MEMORY_SHARE * available:
        return
    raise InputError(f"{what} need about {format_bytes(need)} of memory, more than the "
                     f"{format_bytes(MEMORY_SHARE * available)} this run may use; {fix}")


def great_circle_pairs(
    config: ModelConfig, inputs: Inputs, option_site: np.ndarray, regions: np.ndarray, max_road_km: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Road km = great-circle km × circuity, for the pairs within ``max_road_km`` (k-d tree). The
    great-circle search reaches a little further and the road km are then held to the limit itself: a
    pair exactly at the limit had been lost in the division by the circuity (73.38875295413172 km /
    1.2 rounds below the great-circle km), and a feasible model called infeasible."""
    sites = inputs.sites
    site_positions = np.unique(option_site)
    if not np.isfinite(max_road_km):  # every option reaches every region: that many arcs, known before they are made
        check_arc_memory(len(option_site) * len(regions))
    i, j, km = pairs_within(
        sites["lon"].to_numpy()[site_positions],
        sites["lat"].to_numpy()[site_positions],
        inputs.region_lon[regions],
        inputs.region_lat[regions],
        max_road_km / config.distance.circuity * (1 + 1e-9),
    )
    road_km = km * config.distance.circuity
    within = road_km <= max_road_km
    i, j, road_km = i[within], j[within], road_km[within]
    if np.isfinite(max_road_km):  # the pairs within reach, now known
        check_arc_memory(int(np.bincount(option_site, minlength=len(sites))[site_positions[i]].sum()))
    # expand site pairs to the options located at those sites
    lookup = pd.DataFrame({"site": site_positions[i], "region": regions[j], "km": road_km})
    options = pd.DataFrame({"option": np.arange(len(option_site)), "site": option_site})
    merged = options.merge(lookup, on="site")
    return merged["option"].to_numpy(), merged["region"].to_numpy(), merged["km"].to_numpy()


def _unknown_od_ids(od: pd.DataFrame, site_ids: np.ndarray, regions: pd.DataFrame) -> str:
    """'; its rows 3 ('Tokyo') name a region id not in the regions data' for the OD rows whose
    ``from`` or ``to`` is no site or region id (a typo is the likeliest cause of a missing pair; a region's name
    for its id, the next: :func:`names_hint`)."""
    parts = []
    region_ids = regions["region_id"].to_numpy()
    for column, known, what in (("from", site_ids, "site"), ("to", region_ids, "region")):
        unknown = ~od[column].isin(set(known.tolist()))
        if unknown.any():
            rows = (np.flatnonzero(unknown.to_numpy()) + 1).tolist()
            examples = od.loc[unknown, column].unique().tolist()
            hint = lost_zeros_hint(examples, known, f"{what} ids") or (
                names_hint(examples, known, regions["region_name"], "region") if what == "region" else "")
            parts.append(f"'{column}' in rows {truncated(rows)} ({truncated([repr(e) for e in examples])}) is no "
                         f"{what} id of this run{hint}")
    if not parts:
        return ""
    return ("; if a pair is there under another spelling: " + "; ".join(parts)
            + " (rows of other ids are otherwise allowed and not read)")


def _od_rows(od: pd.DataFrame, site_ids: np.ndarray, region_ids: np.ndarray) -> np.ndarray:
    """The row of ``od`` of each pair (site, region) of these ids, sites first (site i, region j at
    i × len(region_ids) + j), −1 where it has none; found through integer positions, not a join on the
    id texts (which had taken 2 s per facility type on an OD matrix of 2.5 million rows)."""
    site, region = positions_among(od["from"], site_ids), positions_among(od["to"], region_ids)
    listed = np.flatnonzero((site >= 0) & (region >= 0))
    row = np.full(len(site_ids) * len(region_ids), -1, dtype=np.int64)
    row[site[listed] * len(region_ids) + region[listed]] = listed
    return row


def od_pairs(
    inputs: Inputs, option_site: np.ndarray, regions: np.ndarray, max_road_km: float, radius_keys: str,
    type_name: str = "",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Distances and costs from the OD matrix, which must hold every (site, region) pair of these
    options (one facility type's, ``type_name``)."""
    od = inputs.od
    site_ids = inputs.sites["site_id"].to_numpy()[option_site]
    region_ids = inputs.regions["region_id"].to_numpy()[regions]
    row = _od_rows(od, site_ids, region_ids)
    merged = pd.DataFrame({"option": np.repeat(np.arange(len(option_site)), len(regions)),
                           "region": np.tile(regions, len(option_site))})
    for column in ("distance_km", "cost", "minutes"):
        if column in od.columns:
            merged[column] = np.where(row >= 0, od[column].to_numpy(dtype=float)[np.maximum(row, 0)], np.nan)
    value_columns = [c for c in ("distance_km", "cost") if c in od.columns]
    missing = merged[value_columns[0]].isna()
    if missing.any():
        first = np.flatnonzero(missing.to_numpy())[:5]
        pairs = [f"{site_ids[i // len(regions)]}->{region_ids[i % len(regions)]}" for i in first]
        whose = f" of the {type_name} candidate sites" if type_name else ""
        raise InputError(
            f"{inputs.od_path}: OD matrix lacks {int(missing.sum())} site->region pairs{whose} ({truncated(pairs)}); "
            "add a row for every candidate site and region with demand"
            f"{_unknown_od_ids(od, inputs.sites['site_id'].to_numpy(), inputs.regions)}"
        )
    if "distance_km" not in od.columns and radius_keys:
        raise InputError(
            f"{inputs.od_path}: a delivery radius is set ({radius_keys}) but the OD matrix has no 'distance_km'; "
            "add distances, or remove the radius from the model file"
        )
    km = merged["distance_km"].to_numpy(dtype=float) if "distance_km" in od.columns else np.zeros(len(merged))
    cost = merged["cost"].to_numpy(dtype=float) if "cost" in od.columns else None
    minutes = merged["minutes"].to_numpy(dtype=float) if "minutes" in od.columns else None
    keep = km <= max_road_km
    return (
        merged["option"].to_numpy()[keep],
        merged["region"].to_numpy()[keep],
        km[keep],
        None if cost is None else cost[keep],
        None if minutes is None else minutes[keep],
    )


@dataclass(frozen=True)
class Options:
    """The (site, facility type) options: positions and per-option costs (currency/yr, currency)."""

    table: pd.DataFrame  # one row per option: site, site_id, facility_type, forced, existing, ...
    option_type: np.ndarray
    option_site: np.ndarray
    multiplier: np.ndarray

    def per_type(self, config: ModelConfig, attribute: str, default=None) -> np.ndarray:
        """A facility-type attribute for every option (``default`` where it is None)."""
        values = [getattr(config.facility_types[t], attribute) for t in config.facility_types]
        return np.asarray([default if v is None else v for v in values], dtype=float)[self.option_type]


def facility_options(config: ModelConfig, sites: pd.DataFrame, sites_path: Path | None = None) -> Options:
    """One option per site and facility type it may take (``sites_path``: the sites file, for its errors)."""
    table = _option_table(config, sites, sites_path)
    type_position = {name: k for k, name in enumerate(config.facility_types)}
    return Options(
        table=table,
        option_type=table["facility_type"].map(type_position).to_numpy(dtype=int),
        option_site=table["site"].to_numpy(dtype=int),
        multiplier=table["cost_multiplier"].to_numpy(dtype=float),
    )


def _radius_keys(config: ModelConfig, type_name: str, products: list[str]) -> str:
    """The model keys that set a delivery radius for ``products`` made at ``type_name``, as written in the
    model file ('facility_types.microfactory.max_delivery_km = 300'); '' where none does."""
    given = [(("transport", p, "max_distance_km"), config.transport[p].max_distance_km) for p in products]
    given.append((("facility_types", type_name, "max_delivery_km"), config.facility_types[type_name].max_delivery_km))
    return ", ".join(f"{dotted_key(*key)} = {value:g}" for key, value in given if np.isfinite(finite_or_inf(value)))


ARC_COLUMNS = ("option", "region", "product", "km", "production", "transport", "co2", "minutes", "factor", "price")


def type_arcs(config: ModelConfig, inputs: Inputs, options: Options, k: int, keep_dear: bool = False) -> list[dict]:
    """The arcs of facility type k: per product it makes, the pairs within its radius and cheaper
    than the product's unmet penalty (every pair within the radius with ``keep_dear``)."""
    product_ids = tuple(config.products)
    type_name = tuple(config.facility_types)[k]
    facility = config.facility_types[type_name]
    options_k = np.flatnonzero(options.option_type == k)
    if len(options_k) == 0:
        return []
    made = [product_ids.index(p) for p in facility.products]
    radii = {
        p: min(finite_or_inf(config.transport[product_ids[p]].max_distance_km), finite_or_inf(facility.max_delivery_km))
        for p in made
    }
    regions = np.flatnonzero((inputs.demand[:, made] > 0).any(axis=1))
    pos, region, km, od_cost, od_minutes = _distances(
        config, inputs, options.option_site[options_k], regions, max(radii.values()),
        radius_keys=_radius_keys(config, type_name, [product_ids[p] for p in made]), type_name=type_name,
    )
    parts = []
    for p in made:
        keep = (km <= radii[p]) & (inputs.demand[region, p] > 0)
        cost = od_cost[keep] if od_cost is not None else None
        minutes = od_minutes[keep] if od_minutes is not None else np.full(int(keep.sum()), np.nan)
        arcs = product_arcs(config, facility, p, options_k[pos[keep]], region[keep], km[keep], cost, minutes,
                            keep_dear)
        parts.append(arcs)
    return parts


def product_arcs(config: ModelConfig, facility, p: int, option, region, km, od_cost, minutes,
                 keep_dear: bool = False) -> dict:
    """Unit costs of product p's arcs (production + transport + carbon price × CO2); arcs at or above
    the unmet penalty are dropped (never used: exact pruning) unless :func:`served_at_a_loss` or
    ``keep_dear`` keeps them."""
    product = tuple(config.products)[p]
    transport, production = config.transport[product], facility.products[product]
    by_km = transport.cost_per_unit_km * km
    transport_cost = by_km if od_cost is None else np.where(np.isnan(od_cost), by_km, od_cost)  # blank: by km
    co2_t = (production.co2_kg_per_unit + transport.co2_kg_per_unit_km * km) / KG_PER_T
    factor, price = proximity_bands(config.products[product], km)
    unit_cost = production.cost_per_unit + transport_cost + config.carbon_price * co2_t - price
    cheaper = factor * unit_cost < product_penalty(config.products[product])
    useful = (factor > 0) & (keep_dear | cheaper | served_at_a_loss(config, config.products[product], km, minutes))
    n = int(useful.sum())
    return {
        "option": option[useful],
        "region": region[useful],
        "product": np.full(n, p),
        "km": km[useful],
        "production": np.full(n, production.cost_per_unit),
        "transport": np.asarray(transport_cost, dtype=float)[useful],
        "co2": co2_t[useful],
        "factor": factor[useful],
        "price": price[useful],
        "minutes": np.asarray(minutes, dtype=float)[useful],
    }


def served_at_a_loss(config: ModelConfig, product, km: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """(arcs,) bool: arcs that may be used although they cost at least the unmet penalty, so the penalty
    pruning must keep them. A classic ``[objective] kind`` measures distance or coverage, not cost,
    and ignores the penalty (all arcs); a service level counts the deliveries within its limit, so
    serving them at a loss can be the cheapest way to meet it (the arcs within the limit; deliveries
    beyond it count against the level like unmet demand, and dearer than it are never used)."""
    if config.objective.kind != "cost":
        return np.ones(len(km), dtype=bool)
    service = product.service
    if service is None:
        return np.zeros(len(km), dtype=bool)
    return within_limits(km, minutes, finite_or_inf(service.within_km), finite_or_inf(service.within_minutes))


def proximity_bands(product, km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per arc of ``km`` road km: the demand factor and the price (currency/unit) of its delivery band
    (band b: bands_km[b-1] < km ≤ bands_km[b]); 1 and 0 without proximity bands."""
    proximity = product.proximity
    if proximity is None:
        return np.ones(len(km)), np.zeros(len(km))
    band = np.searchsorted(np.asarray(proximity.bands_km, dtype=float), km, side="left")
    factor = np.ones(len(km)) if proximity.demand_factor is None else np.asarray(proximity.demand_factor)[band]
    price = np.zeros(len(km)) if proximity.price is None else np.asarray(proximity.price, dtype=float)[band]
    return factor.astype(float), price


def product_penalty(product) -> float:
    """Currency per unit of the product's unserved demand: its penalty (inf = must serve), 0 for a
    product with prices (unserved demand earns nothing)."""
    if product.proximity is not None and product.proximity.price is not None:
        return 0.0
    return finite_or_inf(product.unmet_penalty_per_unit)


def all_arcs(config: ModelConfig, inputs: Inputs, options: Options, keep_dear: bool = False) -> dict[str, np.ndarray]:
    """Every type's arcs, sorted by (region, product, option) (``keep_dear``: see :func:`type_arcs`)."""
    parts = [part for k in range(len(config.facility_types))
             for part in type_arcs(config, inputs, options, k, keep_dear)]
    arcs = {c: np.concatenate([part[c] for part in parts]) if parts else np.zeros(0) for c in ARC_COLUMNS}
    order = np.lexsort((arcs["option"], arcs["product"], arcs["region"]))
    return {c: v[order] for c, v in arcs.items()}


def setup_costs(config: ModelConfig, options: Options) -> np.ndarray:
    """(O, P) setup cost of product p at option o, currency/yr."""
    by_type = np.array(
        [
            [config.facility_types[t].products[p].setup_cost_per_yr if p in config.facility_types[t].products else 0.0
             for p in config.products]
            for t in config.facility_types
        ]
    ).reshape(len(config.facility_types), len(config.products))
    return by_type[options.option_type] * options.multiplier[:, None]


def type_counts(config: ModelConfig, n_options: int) -> tuple[np.ndarray, np.ndarray]:
    """min_count and max_count per facility type (max: no limit when not given, the number of options or the
    min_count where more: a min_count above the candidates is the screening's infeasibility, not a maximum)."""
    types = config.facility_types.values()
    return (
        np.array([t.min_count for t in types], dtype=int),
        np.array([t.max_count if t.max_count is not None else max(n_options, t.min_count) for t in types], dtype=int),
    )


def service_levels(config: ModelConfig, inputs: Inputs) -> dict[str, np.ndarray]:
    """``service_share``, ``service_km`` and ``service_minutes`` per product (0, inf, inf without a
    service level); a time limit needs an OD matrix with a ``minutes`` column."""
    services = [product.service for product in config.products.values()]
    timed = [name for name, service in zip(config.products, services, strict=True)
             if service is not None and service.within_minutes is not None]
    if timed and (inputs.od is None or "minutes" not in inputs.od.columns):
        where = "no --od-matrix is given" if inputs.od is None else f"{inputs.od_path} has no 'minutes' column"
        raise InputError(
            f"{dotted_key('products', timed[0], 'service', 'within_minutes')} needs delivery times, but {where}; "
            "give an OD matrix with a 'minutes' column or use within_km"
        )
    return {
        "service_share": np.array([s.min_share_within if s else 0.0 for s in services], dtype=float),
        "service_km": np.array([finite_or_inf(s.within_km) if s else np.inf for s in services], dtype=float),
        "service_minutes": np.array([finite_or_inf(s.within_minutes) if s else np.inf for s in services]),
    }


def prepare_problem(config: ModelConfig, inputs: Inputs, *, keep_dear_arcs: bool = False) -> Problem:
    """The numeric problem; see the module docstring for the arc rules (``keep_dear_arcs``: keep the arcs
    that cost at least the unmet penalty, for a study that will limit the unmet demand). A classic
    ``[objective] kind`` replaces its costs (``planner.inputs.objectives``)."""
    objective = config.objective
    if objective.coverage_minutes is not None and (inputs.od is None or "minutes" not in inputs.od.columns):
        raise InputError("objective.coverage_minutes needs delivery times: give --od-matrix with a 'minutes' column, "
                         "or use coverage_km")
    check_od_distances(config, inputs)
    problem = cost_problem(config, inputs, keep_dear_arcs=keep_dear_arcs)
    check_makers(config, problem)
    check_magnitudes(config, inputs, problem)
    return classic_problem(problem, objective.kind, objective.p, finite_or_inf(objective.coverage_km),
                           finite_or_inf(objective.coverage_minutes))


def check_od_distances(config: ModelConfig, inputs: Inputs) -> None:
    """An OD matrix without ``distance_km`` gives every pair 0 km: refused where the model measures
    distance (a service level in km, proximity bands, a coverage distance, p-median or p-center), whose
    result would otherwise hold trivially (as a delivery radius is refused in ``od_pairs``)."""
    if inputs.od is None or "distance_km" in inputs.od.columns:
        return
    emitting = [name for name, transport in config.transport.items() if transport.co2_kg_per_unit_km > 0]
    if emitting:
        logger.warning("%s: no 'distance_km' column, so every pair counts as 0 km and the transport CO2 of %s "
                       "(co2_kg_per_unit_km) is 0; add distance_km to the OD matrix", inputs.od_path,
                       ", ".join(emitting))
    keys = [dotted_key("products", name, "service", "within_km") for name, product in config.products.items()
            if product.service is not None and product.service.within_km is not None]
    keys += [dotted_key("products", name, "proximity") for name, product in config.products.items()
             if product.proximity]
    if config.objective.coverage_km is not None:
        keys.append("objective.coverage_km")
    if config.objective.kind in ("p_median", "p_center"):
        keys.append(f"objective.kind = '{config.objective.kind}'")
    if keys:
        raise InputError(
            f"{inputs.od_path}: {keys[0]} measures road km, but the OD matrix has no 'distance_km' column (every "
            "pair would count as 0 km); add distance_km to the OD matrix"
        )


def check_makers(config: ModelConfig, problem: Problem) -> None:
    """A product with demand that no facility type makes and that must be served in full (no
    unmet_penalty_per_unit) is refused naming the keys to add: the reach screening would blame radii
    and candidate sites instead."""
    if config.objective.kind != "cost":
        return  # the classic objectives leave demand nothing can reach out of the model
    unmade = config.unmade_products()
    for p, name in enumerate(config.products):
        demand = float(problem.demand[:, p].sum())
        if name not in unmade or demand <= 0 or np.isfinite(problem.unmet_penalty[p]):
            continue
        raise InfeasibleError(
            f"product '{name}': no facility type makes it and it has no unmet_penalty_per_unit, so its demand "
            f"({amount_text(demand)} units/yr) cannot be met; add a "
            f"[facility_types.<type>.products.{dotted_key(name)}] table "
            f"or set {dotted_key('products', name, 'unmet_penalty_per_unit')}"
        )


def cost_problem(config: ModelConfig, inputs: Inputs, *, keep_dear_arcs: bool = False) -> Problem:
    """The planner's cost model of ``config`` on ``inputs`` (``keep_dear_arcs``: see :func:`prepare_problem`)."""
    options = facility_options(config, inputs.sites, inputs.sites_path)
    existing = options.table["existing"].to_numpy(dtype=bool)
    arcs = all_arcs(config, inputs, options, keep_dear_arcs)
    type_min, type_max = type_counts(config, len(options.table))
    network = config.network
    return Problem(
        name=config.name,
        region_ids=inputs.regions["region_id"].to_numpy(dtype=object),
        product_ids=tuple(config.products),
        type_ids=tuple(config.facility_types),
        site_ids=inputs.sites["site_id"].to_numpy(dtype=object),
        demand=inputs.demand,
        unmet_penalty=np.array([product_penalty(p) for p in config.products.values()]),
        max_distance_km=np.array([finite_or_inf(config.transport[p].max_distance_km) for p in config.products]),
        option_site=options.option_site,
        option_type=options.option_type,
        opening_cost=np.where(existing, 0.0, options.per_type(config, "opening_cost_per_yr") * options.multiplier),
        module_cost=options.per_type(config, "module_cost_per_yr") * options.multiplier,
        module_capacity=options.per_type(config, "module_capacity_per_yr", np.inf),
        min_modules=options.per_type(config, "min_modules").astype(int),
        max_modules=options.per_type(config, "max_modules").astype(int),
        capex=np.where(existing, 0.0, options.per_type(config, "capex") * options.multiplier),
        capex_per_module=options.per_type(config, "capex_per_module") * options.multiplier,
        forced=options.table["forced"].to_numpy(dtype=bool),
        arc_option=arcs["option"].astype(int),
        arc_region=arcs["region"].astype(int),
        arc_product=arcs["product"].astype(int),
        arc_distance_km=arcs["km"].astype(float),
        arc_production_cost=arcs["production"].astype(float),
        arc_transport_cost=arcs["transport"].astype(float),
        arc_co2_t=arcs["co2"].astype(float),
        arc_minutes=arcs["minutes"].astype(float),
        arc_demand_factor=arcs["factor"].astype(float),
        arc_price=arcs["price"].astype(float),
        **service_levels(config, inputs),
        carbon_price=config.carbon_price,
        single_sourcing=network.single_sourcing,
        capex_budget=finite_or_inf(network.capex_budget),
        type_min_count=type_min,
        type_max_count=type_max,
        min_facilities=network.min_facilities,
        max_facilities=network.max_facilities,
        co2_cap_t=finite_or_inf(network.max_co2_t_per_yr),
        currency=config.currency,
        site_lon=inputs.sites["lon"].to_numpy(dtype=float),
        site_lat=inputs.sites["lat"].to_numpy(dtype=float),
        region_lon=inputs.region_lon,
        region_lat=inputs.region_lat,
        setup_cost=setup_costs(config, options),
        supply=None if inputs.suppliers is None else build_supply(
            config, inputs.suppliers, options.option_type,
            inputs.sites["lon"].to_numpy(dtype=float)[options.option_site],
            inputs.sites["lat"].to_numpy(dtype=float)[options.option_site], inputs.suppliers_path),
    )


# --- magnitudes: model values × data that reach the solver's matrix ----------------------------------


def check_magnitudes(config: ModelConfig, inputs: Inputs, problem: Problem) -> None:
    """The cost terms made of model-file values and the data stay within the screening's limit
    (``planner.inputs.screen``: a cost term ≤ MAX_COST_TERM currency/yr); unlike the screening, the
    error names the key that makes them large. The schema keeps each value below 1e15
    (``planner.inputs.config.MAX_NUMBER``), so no product overflows; the screening checks the demand
    (demand_rate × the demand column ≤ MAX_DEMAND)."""
    if config.objective.kind != "cost" or problem.demand.max(initial=0.0) > MAX_DEMAND:
        return  # a classic objective replaces the costs; the screening refuses the demand itself
    check_penalty_terms(config, problem)
    check_fixed_terms(config, inputs, problem)
    check_arc_terms(config, inputs, problem)
    check_purchase_terms(problem)


def _od_cost_given(od: pd.DataFrame, site: str, region: str) -> bool:
    """Whether the OD matrix gives a cost for the pair (site, region) (a blank cell is costed by km)."""
    cost = od.loc[(od["from"] == site) & (od["to"] == region), "cost"]
    return bool(cost.notna().any())


def _too_large(config: ModelConfig, key: str, what: str, fix: str) -> InputError:
    """One line: the model file, the key, what is too large and the fix."""
    source = config.source_path or f"model '{config.name}'"
    return InputError(f"{source}: key '{key}': {what} (too large for the solver); {fix}")


COST_FIX = "express costs in a larger currency unit (e.g. thousands) or check the value"


def check_penalty_terms(config: ModelConfig, problem: Problem) -> None:
    """unmet_penalty_per_unit × a region's demand (the objective coefficient of its unmet share) ≤
    MAX_COST_TERM currency/yr."""
    for p, name in enumerate(problem.product_ids):
        penalty = float(problem.unmet_penalty[p])
        if not np.isfinite(penalty) or penalty <= 0 or problem.n_regions == 0:
            continue
        r = int(np.argmax(problem.demand[:, p]))
        term = penalty * float(problem.demand[r, p])
        if term > MAX_COST_TERM:
            raise _too_large(
                config, dotted_key("products", name, "unmet_penalty_per_unit"),
                f"{penalty:.6g} {problem.currency}/unit × the demand of region '{problem.region_ids[r]}' "
                f"({problem.demand[r, p]:.6g} units/yr) = {term:.3g} {problem.currency}/yr, above {MAX_COST_TERM:.0e}",
                COST_FIX,
            )


def check_fixed_terms(config: ModelConfig, inputs: Inputs, problem: Problem) -> None:
    """Fixed costs of a site (opening, modules at max_modules, setups) ≤ MAX_COST_TERM currency/yr: the
    schema keeps the model's values below it, a sites file's cost_multiplier can raise them above."""
    terms = {"opening_cost_per_yr": problem.opening_cost,
             "module_cost_per_yr": problem.module_cost * problem.max_modules}
    terms.update({dotted_key("products", name, "setup_cost_per_yr"): problem.setup_cost[:, p]
                  for p, name in enumerate(problem.product_ids)})
    for field, values in terms.items():
        o = int(np.argmax(values)) if len(values) else 0
        if len(values) and values[o] > MAX_COST_TERM:
            site = problem.site_ids[problem.option_site[o]]
            raise _too_large(
                config, f"{dotted_key('facility_types', problem.type_ids[problem.option_type[o]])}.{field}",
                f"at site '{site}' (× its cost_multiplier in {inputs.sites_path}) the cost is {values[o]:.3g} "
                f"{problem.currency}/yr, above {MAX_COST_TERM:.0e}", COST_FIX,
            )


def check_purchase_terms(problem: Problem) -> None:
    """A supplier's price × the material all the demand needs ≤ MAX_COST_TERM currency/yr; the error names the
    suppliers file and the supplier (the screening had named the model: "bad: a cost term of 3e+18")."""
    supply = problem.supply
    if supply is None or not len(supply.supplier_ids):
        return
    material = problem.demand.sum(axis=0) @ supply.bom  # (M,) units of material/yr
    quantity = material[supply.supplier_material]
    terms = np.abs(supply.supplier_cost) * quantity
    j = int(np.argmax(terms))
    if terms[j] > MAX_COST_TERM:
        raise InputError(
            f"{supply.source}: column 'cost_per_unit' of supplier '{supply.supplier_ids[j]}': "
            f"{supply.supplier_cost[j]:.6g} {problem.currency}/unit × the {quantity[j]:,.6g} units/yr of "
            f"'{supply.material_ids[supply.supplier_material[j]]}' all the demand needs is {terms[j]:.3g} "
            f"{problem.currency}/yr, above {MAX_COST_TERM:.0e} (too large for the solver); {COST_FIX}")


def check_arc_terms(config: ModelConfig, inputs: Inputs, problem: Problem) -> None:
    """Each part of an arc's cost at full demand (production, transport, carbon price × CO2, price)
    ≤ MAX_COST_TERM currency/yr, and its CO2 (t CO2/yr, a coefficient of the emission cap) too; the
    error names the key of the part and shows its factors."""
    if problem.n_arcs == 0:
        return
    demand, currency = problem.arc_demand, problem.currency
    od_cost = inputs.od is not None and "cost" in inputs.od.columns
    parts = {  # part: (per unit, its unit, key)
        "production cost": (problem.arc_production_cost, f"{currency}/unit", "{facility}.cost_per_unit"),
        "transport cost": (problem.arc_transport_cost, f"{currency}/unit",
                           "transport.{product}.cost_per_unit_km" if not od_cost else None),
        "carbon cost": (problem.carbon_price * problem.arc_co2_t, f"{currency}/unit", "carbon_price"),
        "revenue": (problem.arc_price, f"{currency}/unit", "products.{product}.proximity.price"),
        "CO2": (problem.arc_co2_t, "t CO2/unit", None),
    }
    for part, (per_unit, unit, key) in parts.items():
        terms = per_unit * demand
        a = int(np.argmax(terms))
        if terms[a] <= MAX_COST_TERM:
            continue
        product, option = problem.product_ids[problem.arc_product[a]], problem.arc_option[a]
        facility = dotted_key("facility_types", problem.type_ids[problem.option_type[option]], "products", product)
        site, region = problem.site_ids[problem.option_site[option]], problem.region_ids[problem.arc_region[a]]
        what = (f"the {part} of {per_unit[a]:.6g} {unit} × {demand[a]:,.6g} units/yr of '{product}' from site "
                f"'{site}' to region '{region}' ({problem.arc_distance_km[a]:,.6g} km) is {terms[a]:.3g} "
                f"{unit.removesuffix('/unit')}/yr, above {MAX_COST_TERM:.0e}")
        if part == "transport cost" and od_cost and _od_cost_given(inputs.od, site, region):
            raise InputError(f"{inputs.od_path}: column 'cost': {what} (too large for the solver); use a larger "
                             "currency unit")
        if part == "transport cost" and od_cost:  # a blank cost cell: costed by km
            key = "transport.{product}.cost_per_unit_km"
        if part == "CO2":
            transport_t = config.transport[product].co2_kg_per_unit_km * problem.arc_distance_km[a] / KG_PER_T
            key = "transport.{product}.co2_kg_per_unit_km" if 2 * transport_t >= per_unit[a] else \
                f"{facility}.co2_kg_per_unit"
        fix = {"carbon cost": COST_FIX + " (and the co2_kg_* values)",
               "CO2": "check the value (kg CO2 per unit, per unit-km)"}.get(part, COST_FIX)
        raise _too_large(config, key.format(product=dotted_key(product), facility=facility), what, fix)
