"""The regions (or demand points) of a run: which file, which of the model's ``[regions]`` keys
describe it, and its demand points and demand matrix.

The keys of ``[regions]`` other than ``path`` (layer, id/demand/name columns, demand-point and
coordinate columns, CRS) describe one file: they apply when the regions file is the model's own
``regions.path`` (or the model names no file); a different file given on the command line is read
with the command-line flags, and what they leave open is found in the file itself (an id column
named ``region_id``/``id``/..., else row numbers; a demand column named ``demand``/``population``/...).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
from pandas.api.types import is_numeric_dtype

from planner.errors import InputError, truncated
from planner.inputs.config import ModelConfig, RegionsConfig
from planner.inputs.geo import representative_lonlat
from planner.inputs.io import read_regions
from planner.inputs.validate import (
    check_coordinates,
    check_demand_points,
    check_regions,
    select_rows,
    warn_plausible_mistakes,
)

logger = logging.getLogger(__name__)

ID_NAMES = ("region_id", "id", "geoid", "fid", "code", "site_id", "customer_id", "store_id", "name")
DEMAND_NAMES = ("demand", "demand_units", "quantity", "units", "orders", "population", "pop", "pop_est", "pop2020")
NAME_NAMES = ("name", "region_name", "label")
ROW_NUMBER_ID = "region_id"


@dataclass(frozen=True)
class RegionSource:
    """A regions file and the columns that mean id, demand, name and demand point in it."""

    path: Path
    layer: str | None
    id_column: str | None  # None: found in the file (or row numbers)
    demand_column: str | None  # None: found in the file
    name_column: str | None
    demand_point_columns: tuple[str, str] | None
    lon_column: str | None
    lat_column: str | None
    crs: str | None
    from_model: bool  # the model's [regions] keys describe this file


def region_source(config: ModelConfig, options) -> RegionSource:
    """The file to read and its columns: CLI flags first, then the model's keys if they describe this file."""
    model = config.regions
    path = options.regions_path or model.path
    if path is None:
        raise InputError("no regions file: pass REGIONS or set regions.path in the model file")
    path = Path(path)
    same = model.path is None or options.regions_path is None or _same_file(path, model.path)
    keys = model if same else RegionsConfig(path=path)  # every column key at its default: found in the file
    if not same:
        logger.info("%s is not the model's regions file: its [regions] column keys are not applied", path)
    return RegionSource(
        path=path,
        layer=options.layer or keys.layer,
        id_column=options.id_column or keys.id_column,
        demand_column=options.demand_column or keys.demand_column,
        name_column=keys.name_column,
        demand_point_columns=keys.demand_point_columns,
        lon_column=options.lon_column or keys.lon_column,
        lat_column=options.lat_column or keys.lat_column,
        crs=options.crs or keys.crs,
        from_model=same and model.path is not None,
    )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def find_column(frame: gpd.GeoDataFrame, names: tuple[str, ...], numeric: bool) -> str | None:
    """The first column whose lower-case name is in ``names`` (numeric ones only if asked)."""
    by_lower = {str(column).lower(): column for column in frame.columns if column != frame.geometry.name}
    for name in names:
        column = by_lower.get(name)
        if column is not None and (not numeric or is_numeric_dtype(frame[column])):
            return column
    return None


def resolve_columns(frame: gpd.GeoDataFrame, source: RegionSource, needs_demand: bool) -> tuple[str, str | None]:
    """(id column, demand column) of ``frame``: as given, or found; row numbers become the ids when
    no id column is given or found."""
    geometry = frame.geometry.name
    for option, column in (("--id-column", source.id_column), ("--demand-column", source.demand_column)):
        if column is not None and column == geometry:
            raise InputError(f"{source.path}: '{column}' is the geometry column; name a data column with {option}")
    id_column = source.id_column or find_column(frame, ID_NAMES, numeric=False)
    if id_column is None or (source.id_column is None and frame[id_column].duplicated().any()):
        logger.info("%s: no id column given or found; regions are numbered by row", source.path)
        id_column = ROW_NUMBER_ID
    demand_column = source.demand_column or (find_column(frame, DEMAND_NAMES, numeric=True) if needs_demand else None)
    numeric = [c for c in frame.columns if c not in (geometry, id_column) and is_numeric_dtype(frame[c])]
    if needs_demand and demand_column is None and len(numeric) == 1:
        demand_column = numeric[0]
        logger.warning("%s: taking '%s', its one numeric column, as the demand (--demand-column)", source.path,
                       numeric[0])
    if needs_demand and demand_column is None:
        raise InputError(
            f"{source.path}: which column is the demand? name it with --demand-column "
            f"(numeric columns: {truncated(numeric, 12) or 'none'})"
        )
    return id_column, demand_column


@dataclass(frozen=True)
class RegionData:
    """The validated regions with ``region_id`` and ``region_name``, demand points and demand."""

    frame: gpd.GeoDataFrame
    lon: np.ndarray
    lat: np.ndarray
    base_demand: np.ndarray  # (R,) the demand column (or total demand when every product has its own)
    demand: np.ndarray  # (R, P) units/yr


def load_regions(config: ModelConfig, options) -> tuple[RegionSource, RegionData]:
    """Read, select and validate the regions; their demand points and the demand of each product."""
    source = region_source(config, options)
    frame = read_regions(source.path, source.layer, source.lon_column, source.lat_column, source.crs)
    if options.select:
        frame = select_rows(frame, [(c, list(v)) for c, v in options.select], source.path)
    product_columns = [p.demand_column for p in config.products.values() if p.demand_column]
    needs_base = any(p.demand_column is None for p in config.products.values())
    id_column, base_column = resolve_columns(frame, source, needs_base)
    if id_column == ROW_NUMBER_ID and ROW_NUMBER_ID not in frame.columns:
        frame = frame.assign(**{ROW_NUMBER_ID: (frame.index + 1).astype(str)})
    demand_columns = ([base_column] if needs_base else []) + product_columns
    frame = check_regions(frame, source.path, id_column, demand_columns, source.demand_point_columns)
    check_coordinates(frame, source.path)
    frame = frame.reset_index(drop=True)
    lon, lat = demand_points(frame, source)
    base = frame[base_column].to_numpy(dtype=float) if needs_base else np.zeros(len(frame))
    demand = np.column_stack(
        [
            frame[p.demand_column].to_numpy(dtype=float) if p.demand_column else p.demand_rate * base
            for p in config.products.values()
        ]
    )
    if not needs_base:  # every product has its own column: candidate rules rank by total demand
        base = demand.sum(axis=1)
    warn_plausible_mistakes(frame, source.path, demand)
    return source, RegionData(named_regions(frame, source, id_column), lon, lat, base, demand)


def demand_points(frame: gpd.GeoDataFrame, source: RegionSource) -> tuple[np.ndarray, np.ndarray]:
    """The demand-point columns (checked against the geometries) or a point inside each geometry."""
    if source.demand_point_columns:
        lon_col, lat_col = source.demand_point_columns
        lon, lat = frame[lon_col].to_numpy(dtype=float), frame[lat_col].to_numpy(dtype=float)
        check_demand_points(frame, source.path, lon, lat, source.demand_point_columns)
        return lon, lat
    return representative_lonlat(frame)


def named_regions(frame: gpd.GeoDataFrame, source: RegionSource, id_column: str) -> gpd.GeoDataFrame:
    """``region_id`` and ``region_name`` columns (the name column as given, found, or the id)."""
    regions = frame.rename(columns={id_column: "region_id"}) if id_column != "region_id" else frame
    name_column = source.name_column
    if name_column is not None and name_column not in regions.columns:
        raise InputError(
            f"{source.path}: name column '{name_column}' not found (regions.name_column); available: "
            f"{truncated(list(frame.columns), 12)}"
        )
    if name_column is None and not source.from_model:
        name_column = find_column(regions, NAME_NAMES, numeric=False)
    names = regions[name_column].astype(str) if name_column else regions["region_id"]
    return regions.assign(region_name=names)
