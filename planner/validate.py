"""Named checks on the inputs, and the pre-solve screening of a prepared problem.

Input checks raise :class:`InputError` (what, which rows, the fix). Screening finds instances that
cannot be feasible before the solver is asked (raise :class:`InfeasibleError` with the numbers) and
warns about regions that no facility can reach (they show as unmet).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import InfeasibleError, InputError, truncated
from planner.geo import require_crs
from planner.io import require_columns
from planner.problem import Problem

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


@dataclass(frozen=True)
class Screening:
    """What the pre-solve screening found."""

    unreachable: dict[str, list[str]] = field(default_factory=dict)  # product → region ids
    warnings: list[str] = field(default_factory=list)


def screen_problem(problem: Problem) -> Screening:
    """Reject instances that cannot be feasible; report regions no facility can reach."""
    products = problem.product_ids
    served_pairs = np.zeros(problem.demand.shape, dtype=bool)
    served_pairs[problem.arc_region, problem.arc_product] = True
    unreachable: dict[str, list[str]] = {}
    warnings: list[str] = []
    for p, product in enumerate(products):
        lost = np.flatnonzero((problem.demand[:, p] > 0) & ~served_pairs[:, p])
        if len(lost) == 0:
            continue
        ids = problem.region_ids[lost].tolist()
        if not np.isfinite(problem.unmet_penalty[p]):
            raise InfeasibleError(
                f"product '{product}': regions {truncated(ids)} cannot be reached by any facility that makes it "
                "(delivery radius, eligibility) and the product has no unmet_penalty_per_unit; add candidate "
                "sites, widen the radius or set a penalty"
            )
        unreachable[product] = ids
        message = (
            f"product '{product}': {len(ids)} regions ({truncated(ids)}) cannot be served within a delivery "
            f"radius at a cost below the unmet penalty and stay unmet ({problem.demand[lost, p].sum():,.0f} units/yr)"
        )
        warnings.append(message)
        logger.warning(message)

    must_serve = ~np.isfinite(problem.unmet_penalty)
    required = float(problem.demand[:, must_serve].sum())
    capacity = problem.option_capacity_max
    if required > 0 and np.all(np.isfinite(capacity)):
        # each site opens at most one type: a site contributes its largest option
        by_site = pd.Series(capacity).groupby(problem.option_site).max()
        top = np.sort(by_site.to_numpy())[::-1]
        if problem.max_facilities is not None:
            top = top[: problem.max_facilities]
        if top.sum() < required * (1 - 1e-9):
            raise InfeasibleError(
                f"demand that must be served is {required:,.6g} units/yr but all candidate sites together "
                f"can make at most {top.sum():,.6g}; add sites, modules or an unmet penalty"
            )

    option_sites, counts = np.unique(problem.option_site[problem.forced], return_counts=True)
    if (counts > 1).any():
        ids = problem.site_ids[option_sites[counts > 1]].tolist()
        raise InfeasibleError(f"sites {truncated(ids)} are forced open as more than one type; force one type")
    for k, type_id in enumerate(problem.type_ids):
        candidates = int(np.count_nonzero(problem.option_type == k))
        forced = int(np.count_nonzero(problem.forced & (problem.option_type == k)))
        if problem.type_min_count[k] > candidates:
            raise InfeasibleError(
                f"facility type '{type_id}': min_count {problem.type_min_count[k]} but only {candidates} candidate "
                "sites; lower min_count or add candidates"
            )
        if forced > problem.type_max_count[k]:
            raise InfeasibleError(
                f"facility type '{type_id}': {forced} sites forced open but max_count is {problem.type_max_count[k]}"
            )
    n_forced = int(problem.forced.sum())
    if problem.max_facilities is not None and n_forced > problem.max_facilities:
        raise InfeasibleError(f"{n_forced} sites forced open but max_facilities is {problem.max_facilities}")
    if problem.min_facilities > len(np.unique(problem.option_site)):
        raise InfeasibleError(
            f"min_facilities {problem.min_facilities} exceeds the {len(np.unique(problem.option_site))} candidate sites"
        )
    if np.isfinite(problem.capex_budget):
        forced_spend = float((problem.capex + problem.capex_per_module * problem.min_modules)[problem.forced].sum())
        if forced_spend > problem.capex_budget:
            raise InfeasibleError(
                f"forced and existing sites need capex {forced_spend:,.6g} but capex_budget is "
                f"{problem.capex_budget:,.6g}; raise the budget or force fewer sites"
            )
    return Screening(unreachable=unreachable, warnings=warnings)
