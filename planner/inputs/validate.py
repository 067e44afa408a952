"""Named checks on the input tables (ids, demand, geometries, selections); each raises
:class:`InputError` naming the file, the rows and the fix. The screening of the prepared problem is
``planner.inputs.screen``."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import InputError, truncated
from planner.inputs.geo import require_crs
from planner.inputs.io import require_columns

logger = logging.getLogger(__name__)


def file_rows(frame: pd.DataFrame, mask) -> list[int]:
    """1-based row numbers in the file (the frame keeps the file's 0-based index) where ``mask`` holds."""
    return (frame.index[np.asarray(mask, dtype=bool)] + 1).tolist()


def check_ids(frame: pd.DataFrame, column: str, path: Path, what: str) -> pd.Series:
    """Ids present, non-empty and unique; returned as strings."""
    raw = frame[column]
    ids = raw.astype(str).str.strip()
    empty = raw.isna() | (ids == "") | (ids.str.lower() == "nan")
    if empty.any():
        rows = file_rows(frame, empty)
        raise InputError(f"{path}: column '{column}' is empty in rows {truncated(rows)}; give every {what} an id")
    duplicated = ids[ids.duplicated()].unique().tolist()
    if duplicated:
        raise InputError(f"{path}: column '{column}' has duplicated ids {truncated(duplicated)}; ids must be unique")
    return ids


def check_demand_column(frame: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    """A numeric, finite, non-negative column as floats."""
    numeric = pd.to_numeric(frame[column], errors="coerce")
    for mask, problem in (
        (numeric.isna() & frame[column].notna(), "is not a number"),
        (numeric.isna(), "is missing (NaN)"),
        (numeric < 0, "is negative"),
        (~np.isfinite(numeric.fillna(0)), "is infinite"),
    ):
        if mask.any():
            rows = file_rows(frame, mask)
            values = frame[column][mask].head(3).tolist()
            raise InputError(
                f"{path}: column '{column}' {problem} in rows {truncated(rows)} (values {values}); "
                "give a number ≥ 0 in every row"
            )
    return numeric.to_numpy(dtype=float)


def check_geometries(frame: gpd.GeoDataFrame, path: Path, need_geometry: bool) -> gpd.GeoDataFrame:
    """Missing or empty geometries are errors when they are needed; invalid ones are repaired with a
    warning when the repair keeps a non-empty geometry of the same kind, otherwise an error."""
    missing = frame.geometry.isna() | frame.geometry.is_empty
    if need_geometry and missing.any():
        rows = file_rows(frame, missing)
        raise InputError(
            f"{path}: rows {truncated(rows)} have no geometry; give every region a polygon or point "
            "(or demand_point_columns in the model file)"
        )
    invalid = ~missing & ~frame.geometry.is_valid
    if not invalid.any():
        return frame
    repaired = frame.geometry[invalid].make_valid()
    kinds_before = frame.geometry[invalid].geom_type.str.replace("Multi", "")
    kinds_after = repaired.geom_type.str.replace("Multi", "")
    broken = repaired.is_empty | (kinds_after != kinds_before) & (kinds_after != "GeometryCollection")
    if broken.any():
        rows = (frame.index[invalid.to_numpy()][broken.to_numpy()] + 1).tolist()
        raise InputError(f"{path}: rows {truncated(rows)} have invalid geometries that cannot be repaired; fix them")
    rows = file_rows(frame, invalid)
    logger.warning("%s: repaired %d invalid geometries (rows %s) with make_valid", path, len(rows), truncated(rows))
    frame = frame.copy()
    frame.loc[invalid, frame.geometry.name] = repaired
    return frame


def check_regions(
    frame: gpd.GeoDataFrame,
    path: Path,
    id_column: str,
    demand_columns: list[str],
    demand_point_columns: tuple[str, str] | None,
) -> gpd.GeoDataFrame:
    """Validate a regions frame; return it with ids as strings and repaired geometries."""
    require_crs(frame, path)
    require_columns(frame, [id_column], path, "set --id-column or regions.id_column in the model file")
    for column in demand_columns:
        require_columns(frame, [column], path, "set --demand-column or the product's demand_column")
    if demand_point_columns:
        require_columns(frame, list(demand_point_columns), path, "regions.demand_point_columns in the model file")
        for column in demand_point_columns:
            check_demand_column(frame.assign(**{column: frame[column].abs()}), column, path)
    frame = frame.copy()
    frame[id_column] = check_ids(frame, id_column, path, "region")
    for column in demand_columns:
        frame[column] = check_demand_column(frame, column, path)
    return check_geometries(frame, path, need_geometry=demand_point_columns is None)


def select_rows(frame: pd.DataFrame, selections: list[tuple[str, list[str]]], path: Path) -> pd.DataFrame:
    """Rows whose COLUMN is one of VALUES, for every (COLUMN, VALUES) given (``--select``)."""
    for column, wanted in selections:
        require_columns(frame, [column], path, "--select COLUMN=VALUE names a column of the regions file")
        frame = frame[frame[column].astype(str).isin(wanted)]
        if frame.empty:
            raise InputError(f"{path}: --select {column}={','.join(wanted)} matches no region; check the values")
    return frame
