"""Named checks on the input tables (ids, demand, geometries, selections); each raises
:class:`InputError` naming the file, the rows and the fix. The screening of the prepared problem is
``planner.inputs.screen``."""

from __future__ import annotations

import difflib
import logging
import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pandas.api.types import is_numeric_dtype
from scipy.spatial import cKDTree

from planner.errors import InputError, has_control_characters, truncated
from planner.inputs.config import PER_YEAR, other_period
from planner.inputs.coordinates import decimal_comma_hint
from planner.inputs.geo import (
    EARTH_RADIUS_KM,
    REGIONS_CRS_FIX,
    great_circle_km,
    has_finite_geometry,
    read_across_antimeridian,
    require_crs,
    unit_vectors,
)
from planner.inputs.io import id_keys
from planner.inputs.tables import csv_dialect, require_columns

logger = logging.getLogger(__name__)

DEGREES_AS_METRES_SPAN = 1000.0  # metres: projected data spanning less, all within ±180/±90, look like degrees
MAX_ID_CHARACTERS = 32_767  # Excel's limit of a cell's text
FAR_KM = 1000.0  # a site farther than this (and than the demand's own extent) from all demand is suspicious


def file_rows(frame: pd.DataFrame, mask) -> list[int]:
    """1-based row numbers in the file (the frame keeps the file's 0-based index) where ``mask`` holds."""
    return (frame.index[np.asarray(mask, dtype=bool)] + 1).tolist()


def check_ids(frame: pd.DataFrame, column: str, path: Path, what: str) -> pd.Series:
    """Ids present, non-empty and unique; returned as strings, stripped and in Unicode NFC (so that 'Zürich'
    typed on one system matches it decomposed, as files saved on macOS may hold it)."""
    raw = frame[column]
    ids = id_keys(raw)
    empty = raw.isna() | (ids == "")  # a text id "Nan" (a Thai province) or "NA" is an id
    if empty.any():
        rows = file_rows(frame, empty)
        raise InputError(f"{path}: column '{column}' is empty in rows {truncated(rows)}; give every {what} an id")
    controlled = ids.map(has_control_characters)
    if controlled.any():
        rows = file_rows(frame, controlled.to_numpy())
        raise InputError(f"{path}: column '{column}' has control characters in rows {truncated(rows)} (e.g. "
                         f"{ascii(ids[controlled].iloc[0])}); remove them from the ids")
    long = (ids.str.len() > MAX_ID_CHARACTERS).to_numpy()
    if long.any():
        rows = file_rows(frame, long)
        raise InputError(f"{path}: column '{column}' has ids longer than {MAX_ID_CHARACTERS:,} characters in rows "
                         f"{truncated(rows)} (a workbook cell holds no more: results.xlsx would cut them short); "
                         "give shorter ids")
    repeated = ids.duplicated(keep=False).to_numpy()
    if repeated.any():
        first = ids[repeated].iloc[0]
        clash = (ids == first).to_numpy()
        written = raw[clash].astype(str).unique().tolist()
        decomposed = [unicodedata.normalize("NFC", text) != text for text in written]  # shown by ascii(): 'Sa\u0303o'
        shown = [ascii(text) if odd else repr(text) for text, odd in zip(written, decomposed, strict=True)]
        spelled = (f", written {truncated(shown)}: ids are compared without spaces "
                   "around them and in Unicode NFC" if len(written) > 1 else "")
        others = len(ids[repeated].unique()) - 1
        more = f"; {others} more {'id is' if others == 1 else 'ids are'} duplicated" if others else ""
        raise InputError(f"{path}: column '{column}' has duplicated ids {first} in rows "
                         f"{truncated(file_rows(frame, clash))}{spelled}{more}; ids must be unique")
    return ids


def check_demand_column(
    frame: pd.DataFrame, column: str, path: Path, fix: str = "give a number ≥ 0 in every row"
) -> np.ndarray:
    """A numeric, finite, non-negative column as floats; errors quote the values as written and end
    with ``fix``. Its size is not limited here: a product's demand is the column × its ``demand_rate``
    (GDP in USD × 1e-9), and that is checked against ``MAX_DEMAND`` once it is known
    (``planner.inputs.screen.check_numerics``)."""
    numeric = pd.to_numeric(frame[column], errors="coerce")
    logical = frame[column].map(lambda value: isinstance(value, bool | np.bool_))  # read as 1 and 0 otherwise
    dated = frame[column].map(lambda value: isinstance(value, pd.Timestamp | np.datetime64 | pd.Timedelta))
    for mask, problem in (
        (logical, "is true/false, not a number"),
        (dated, "holds dates or times, not numbers"),  # read as nanoseconds since 1970 otherwise
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
                f"{fix}{decimal_comma_hint(frame[column][mask])}"
            )
    return numeric.to_numpy(dtype=float)


def check_degree_column(frame: pd.DataFrame, column: str, path: Path, axis: str, key: str) -> None:
    """A longitude (``axis`` 'longitude') or latitude column: a finite number in every row; the range
    is checked by ``check_demand_points``. ``key`` names where the column is chosen."""
    numeric = pd.to_numeric(frame[column], errors="coerce")
    bad = numeric.isna() | ~np.isfinite(numeric.fillna(0))
    if bad.any():
        limits = "[−180, 180]" if axis == "longitude" else "[−90, 90]"
        raise InputError(
            f"{path}: column '{column}' is not a finite number in rows {truncated(file_rows(frame, bad))} (values "
            f"{frame[column][bad].head(3).tolist()}); give a {axis} in {limits} degrees in every row ({key})"
            f"{decimal_comma_hint(frame[column][bad])}"
        )


def check_geometries(frame: gpd.GeoDataFrame, path: Path, need_geometry: bool) -> gpd.GeoDataFrame:
    """Missing or empty geometries are errors when they are needed, coordinates that are not finite
    always; invalid ones are repaired with a warning when the repair keeps a non-empty geometry of the
    same kind, otherwise an error."""
    missing = frame.geometry.isna() | frame.geometry.is_empty
    if need_geometry and missing.any():
        rows = file_rows(frame, missing)
        raise InputError(
            f"{path}: rows {truncated(rows)} have no geometry; give every region a polygon or point "
            "(or demand_point_columns in the model file)"
        )
    not_finite = ~missing & ~has_finite_geometry(frame)
    if not_finite.any():
        raise InputError(f"{path}: rows {truncated(file_rows(frame, not_finite))} have coordinates that are not finite "
                         "numbers (inf or NaN); fix or remove them")
    frame = without_measures(frame, path)
    invalid = ~missing & ~frame.geometry.is_valid
    if not invalid.any():
        return frame
    candidates = across_antimeridian_where_valid(frame, invalid)
    invalid &= ~candidates["valid_across"]
    if not invalid.any():
        return frame
    # repaired as drawn across ±180° where it is (flat in lon/lat such a ring crosses itself, and its repair
    # had cut it into pieces far from the region)
    repaired = gpd.GeoSeries(_repaired(candidates["read"][invalid.to_numpy()]), index=frame.index[invalid],
                             crs=frame.crs)
    kinds_before = frame.geometry[invalid].geom_type.str.replace("Multi", "")
    kinds_after = repaired.geom_type.str.replace("Multi", "")
    broken = repaired.is_empty | (kinds_after != kinds_before) & (kinds_after != "GeometryCollection")
    if broken.any():
        rows = (frame.index[invalid.to_numpy()][broken.to_numpy()] + 1).tolist()
        first = frame.geometry[invalid].iloc[int(np.flatnonzero(broken.to_numpy())[0])]
        raise InputError(f"{path}: rows {truncated(rows)} have invalid geometries that cannot be repaired "
                         f"({_unrepaired(first, rows[0])}); fix them in the file (QGIS: Fix geometries), or give "
                         "a point for each")
    rows = file_rows(frame, invalid)
    logger.warning("%s: repaired %d invalid geometries (rows %s) with make_valid", path, len(rows), truncated(rows))
    frame = frame.copy()
    frame.loc[invalid, frame.geometry.name] = repaired
    return frame


def _unrepaired(geom, row: int) -> str:
    """Why ``geom`` (of file row ``row``) is invalid: 'row 3: a polygon of no area, its corners on one line', or
    GEOS's reason ('row 3: Too few points in geometry component[0 0]'); the message had only said "fix them"."""
    if geom.geom_type.endswith("Polygon") and geom.area == 0:
        return f"row {row}: a polygon of no area, its corners on one line or at one point"
    return f"row {row}: {shapely.is_valid_reason(geom)}"


def _repaired(geoms: np.ndarray) -> np.ndarray:
    """``make_valid`` of each geometry; polygons by their structure, without the parts that collapse to lines
    or points (a spike had made a region a GeometryCollection of a polygon and a line, which the static map
    left out)."""
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    repaired = np.empty(len(geoms), dtype=object)
    repaired[polygonal] = shapely.make_valid(geoms[polygonal], method="structure", keep_collapsed=False)
    repaired[~polygonal] = shapely.make_valid(geoms[~polygonal])
    return repaired


def without_measures(frame: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """Geometries with M values (a measure per vertex, as in routes) as flat ones, noted in the log: nothing
    reads M (or Z) values, and the GeoPackage writer cannot write M back ("Could not create geometry ... WKB
    type")."""
    geoms = np.asarray(frame.geometry.array, dtype=object)
    measured = shapely.has_m(geoms)
    if not measured.any():
        return frame
    logger.info("%s: the M (and Z) values of %d geometries are left out (not used)", path, int(measured.sum()))
    frame = frame.copy()
    frame.loc[measured, frame.geometry.name] = shapely.force_2d(geoms[measured])
    return frame


def across_antimeridian_where_valid(frame: gpd.GeoDataFrame, invalid: pd.Series) -> dict[str, np.ndarray]:
    """For the ``invalid`` geometries of a lon/lat ``frame``: each read across the antimeridian where it is
    drawn so (:func:`read_across_antimeridian`: longitudes shifted into 0–360°), and whether it is valid
    read so (``valid_across``: it is no invalid geometry, the later steps read it across ±180° alike);
    ``read`` holds every geometry as it is read."""
    geoms = np.asarray(frame.geometry.array, dtype=object)
    valid_across = np.zeros(len(frame), dtype=bool)
    if frame.crs is None or not frame.crs.is_geographic:
        return {"read": geoms, "valid_across": valid_across}
    rows = np.flatnonzero(invalid.to_numpy())
    shifted, crossing = read_across_antimeridian(geoms[rows])
    read = geoms.copy()
    read[rows[crossing]] = shifted[crossing]
    valid_across[rows[crossing]] = shapely.is_valid(shifted[crossing])
    return {"read": read, "valid_across": valid_across}


def check_regions(
    frame: gpd.GeoDataFrame,
    path: Path,
    id_column: str,
    demand_columns: list[str],
    demand_point_columns: tuple[str, str] | None,
) -> gpd.GeoDataFrame:
    """Validate a regions frame; return it with ids as strings and repaired geometries."""
    require_crs(frame, path, REGIONS_CRS_FIX)
    require_columns(frame, [id_column], path, "set --id-column or regions.id_column in the model file")
    for column in demand_columns:
        require_columns(frame, [column], path, "set --demand-column, or regions.demand_column (or the product's "
                        "demand_column) in the model file")
    if demand_point_columns:
        require_columns(frame, list(demand_point_columns), path, "regions.demand_point_columns in the model file")
        for column, axis in zip(demand_point_columns, ("longitude", "latitude"), strict=True):
            check_degree_column(frame, column, path, axis, "regions.demand_point_columns")
    frame = frame.copy()
    frame[id_column] = check_ids(frame, id_column, path, "region")
    for column in demand_columns:
        frame[column] = check_demand_column(frame, column, path)
    return check_geometries(frame, path, need_geometry=demand_point_columns is None)


def select_rows(frame: pd.DataFrame, selections: list[tuple[str, list[str]]], path: Path) -> pd.DataFrame:
    """Rows whose COLUMN is one of VALUES, for every (COLUMN, VALUES) given (``--select``): values are
    compared as text ('02134' matches only '02134'), and a numeric column also by value (7 matches 7.0)."""
    whole = frame
    for column, wanted in selections:
        require_columns(frame, [column], path, "--select COLUMN=VALUE names a column of the regions file")
        unique = whole[column].drop_duplicates()
        for value in wanted:  # a typo would silently plan for fewer regions than asked
            if not _selected(unique, [value]).any():
                hint = _did_you_mean(unique, value)
                raise InputError(f"{path}: --select {column}={value} matches no region{hint}; check the values "
                                 "(compared as text)")
        frame = frame[_selected(frame[column], wanted).to_numpy()]
        if frame.empty:  # each filter matches regions on its own (checked above): together they match none
            given = " and ".join(f"--select {name}={','.join(values)}" for name, values in selections)
            alone = ", ".join(str(int(_selected(whole[name], values).sum())) for name, values in selections)
            raise InputError(f"{path}: no region matches all of {given} together (alone they match {alone} "
                             "regions); check the values")
    return frame


def _selected(values: pd.Series, wanted: list[str]) -> pd.Series:
    """Mask of the ``values`` equal to one of ``wanted`` as text (both in Unicode NFC, as ids are compared
    everywhere: 'é' typed as one character or as e + accent), or, in a numeric column, by value."""
    wanted = [unicodedata.normalize("NFC", value) for value in wanted]
    match = values.astype(str).str.strip().str.normalize("NFC").isin(wanted)
    if is_numeric_dtype(values):
        numbers = pd.to_numeric(pd.Series(list(wanted), dtype=object), errors="coerce").dropna()
        match |= values.isin(numbers.tolist())
    return match


def _did_you_mean(values: pd.Series, value: str) -> str:
    """' (did you mean 'X'?)' where ``value`` matches a value of the column but for case and spaces, or is a
    code of the column without its leading zeros ('1001' for '01001': the code as Excel shows it)."""
    texts = pd.Series(values.astype(str).str.strip().str.normalize("NFC").unique())
    key = unicodedata.normalize("NFC", value.strip())
    near = texts[texts.str.casefold() == key.casefold()]
    if not len(near) and key.isdecimal():
        near = texts[texts.str.isdecimal() & (texts.str.len() > len(key)) & (texts.str.lstrip("0") == key.lstrip("0"))]
        if len(near) == 1:
            return f" (did you mean '{near.iloc[0]}'? codes are compared with their leading zeros)"
    return f" (did you mean '{near.iloc[0]}'?)" if len(near) else ""


ANTIMERIDIAN_OVERSHOOT_DEG = 10.0  # longitudes up to 190° beside negative ones: shifted across the antimeridian


def check_coordinates(frame: gpd.GeoDataFrame, path: Path, crs_given: str | None = None) -> None:
    """Coordinates of a geographic CRS within ±180° longitude (up to 360° for 0–360 data, which has no
    negative longitude; beside negative ones, a longitude may reach ``ANTIMERIDIAN_OVERSHOOT_DEG`` past
    180°: data shifted across the antimeridian) and ±90° latitude: metres
    labelled as degrees, latitude written first, or a mix of the two longitude conventions are errors
    naming the rows. A
    projected CRS on data that look like degrees (all within ±180/±90 and spanning under
    DEGREES_AS_METRES_SPAN metres) is a warning; ``crs_given``: the CRS came from --crs/regions.crs."""
    if frame.crs is None or frame.empty:
        return
    bounds = frame.geometry.bounds
    if not frame.crs.is_geographic:
        warn_degrees_as_projected(frame, bounds, path, crs_given)
        return
    bad = (bounds["minx"] < -180) | (bounds["maxx"] > 360) | (bounds["miny"] < -90) | (bounds["maxy"] > 90)
    if bad.any():
        rows = file_rows(frame, bad.to_numpy())
        swapped = bounds["minx"].min() >= -90 and bounds["maxx"].max() <= 90 and bounds["miny"].min() >= -180 \
            and bounds["maxy"].max() <= 180
        fix = ("the coordinates look swapped (latitude written first): write them as x = longitude, y = latitude"
               if swapped else "the data look projected (metres or feet): give their CRS (--crs for a table or a "
               "GeoJSON file, else set it in the file)")
        raise InputError(
            f"{path}: rows {truncated(rows)} have coordinates outside ±180°/±90° for {frame.crs.to_string()}; {fix}"
        )
    # wholly east of 180° + the overshoot: 0–360° data, which has no negative longitude
    beyond = (bounds["minx"] > 180 + ANTIMERIDIAN_OVERSHOOT_DEG).to_numpy()
    if beyond.any() and (bounds["minx"] < 0).any():
        raise InputError(
            f"{path}: rows {truncated(file_rows(frame, beyond))} have longitudes above 180° while others are negative, "
            "so they are neither ±180° nor 0–360° data; write every longitude within ±180° (or all within 0–360°)"
        )


def warn_degrees_as_projected(frame: gpd.GeoDataFrame, bounds: pd.DataFrame, path: Path, crs_given) -> None:
    """A warning when every coordinate of a projected CRS fits within ±180/±90 and the whole extent
    is under DEGREES_AS_METRES_SPAN metres: lon/lat degrees labelled with a projected CRS."""
    if not np.isfinite(bounds.to_numpy(dtype=float)).all():
        return
    in_degrees = (bounds["minx"].min() >= -180 and bounds["maxx"].max() <= 360 and bounds["miny"].min() >= -90
                  and bounds["maxy"].max() <= 90)
    unit = frame.crs.axis_info[0].unit_conversion_factor if frame.crs.axis_info else 1.0
    span_m = max(bounds["maxx"].max() - bounds["minx"].min(), bounds["maxy"].max() - bounds["miny"].min()) * unit
    if not in_degrees or span_m >= DEGREES_AS_METRES_SPAN:
        return
    where = f"--crs {crs_given}" if crs_given else f"the file's CRS {frame.crs.to_string()}"
    fix = ("use --crs EPSG:4326 (or leave --crs and regions.crs out)" if crs_given
           else "set the file's CRS to EPSG:4326")
    logger.warning(
        "%s: with %s every coordinate lies within ±180/±90 and the data span only %.0f m; they look like lon/lat "
        "degrees: %s", path, where, span_m, fix,
    )


def check_demand_points(frame: gpd.GeoDataFrame, path: Path, lon, lat, columns: tuple[str, str]) -> None:
    """Demand-point columns in degrees, and (for polygons and points) inside their regions' extents
    (a point's extent is itself): points outside most of them, by more than half a degree, mean
    swapped or wrong columns."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wrong = (np.abs(lat) > 90) | (np.abs(lon) > 360)
    if wrong.any():
        raise InputError(
            f"{path}: {columns[0]}/{columns[1]} are not lon/lat degrees in rows {truncated(file_rows(frame, wrong))}; "
            "fix regions.demand_point_columns"
        )
    polygons = frame.geometry.geom_type.isin(["Polygon", "MultiPolygon", "Point"]).to_numpy()
    if not polygons.any() or frame.crs is None:
        return
    bounds = frame.geometry[polygons].to_crs("EPSG:4326").bounds
    margin = 0.5  # degrees
    outside = _outside_bounds(lon[polygons], lat[polygons], bounds, margin)
    if not outside.any():
        return
    rows = (frame.index[polygons][outside] + 1).tolist()
    if outside.mean() > 0.5:
        swapped = _outside_bounds(lat[polygons], lon[polygons], bounds, margin).mean() <= 0.5
        cause = ("are longitude and latitude swapped? regions.demand_point_columns is [lon, lat]" if swapped else
                 f"swapping them does not fit either: is the regions' CRS ({frame.crs.to_string()}) the one their "
                 "coordinates are in (--crs, or the [regions] key crs), and are these the columns meant?")
        raise InputError(
            f"{path}: the points in {columns[0]}/{columns[1]} lie outside their regions in {int(outside.sum())} of "
            f"{int(polygons.sum())} rows ({truncated(rows)}); {cause}"
        )
    logger.warning("%s: the points in %s/%s of rows %s lie more than %g° outside their regions; their demand is "
                   "placed and served there: check those rows", path, columns[0], columns[1], truncated(rows), margin)


def _outside_bounds(lon: np.ndarray, lat: np.ndarray, bounds: pd.DataFrame, margin: float) -> np.ndarray:
    """(n,) bool: the point lies more than ``margin`` degrees outside its region's lon/lat ``bounds`` (a longitude
    matched in ±180° or 0–360°: a point at 181.05° in a region drawn at −179°)."""
    west, east = bounds["minx"].to_numpy() - margin, bounds["maxx"].to_numpy() + margin
    across = np.zeros(len(lon), dtype=bool)
    for turn in (-360.0, 0.0, 360.0):
        across |= (lon + turn >= west) & (lon + turn <= east)
    return ~across | (lat < bounds["miny"].to_numpy() - margin) | (lat > bounds["maxy"].to_numpy() + margin)


def warn_plausible_mistakes(frame: gpd.GeoDataFrame, path: Path, demand: np.ndarray,
                            demand_columns: tuple[str, ...] = (), ids: np.ndarray | None = None) -> list[str]:
    """Warnings (logged and returned) for inputs that are valid but probably not meant: regions that
    are lines or several points, all-zero demand, demand columns whose dots may group thousands, a row
    that is the total of the others (``ids``: the regions' ids, to name it)."""
    labelled = total_labelled(frame)
    messages = [total_row_message(path, demand, ids, labelled)] \
        if ids is not None and total_rows(demand, labelled).size else []
    kinds = set(frame.geometry.geom_type.dropna())
    lines = sorted(kinds & {"LineString", "MultiLineString", "LinearRing"})
    if lines:
        messages.append(f"{path}: regions are lines ({', '.join(lines)}); each demand point is a point on its line")
    if ids is not None:
        hashed = np.flatnonzero(pd.Series(ids, dtype=object).astype(str).str.startswith("#").to_numpy())
        if len(hashed):  # '# 00999,fake,...' had been a region like any other
            messages.append(f"{path}: the ids of rows {truncated((hashed + 1).tolist())} begin with '#' (e.g. "
                            f"{str(ids[hashed[0]])[:40]!r}); if they are comment lines, remove them: they are read "
                            "as regions")
    multipoint = frame.geometry.geom_type == "MultiPoint"
    if (multipoint & (frame.geometry.count_geometries() > 1)).any():
        rows = (np.flatnonzero(multipoint.to_numpy() & (frame.geometry.count_geometries() > 1).to_numpy()) + 1)
        messages.append(f"{path}: {len(rows):,} regions are several points each (MultiPoint; rows "
                        f"{truncated(rows.tolist())}); each region's demand is placed at one of its points: give one "
                        "point per row to place demand at every point")
    if not (np.asarray(demand) > 0).any():
        messages.append(f"{path}: all demand is zero; there is nothing to plan (check the demand column and rates)")
    messages += null_island_messages(frame, path)
    grouped = dot_grouped_columns(path, demand_columns)
    if grouped:
        messages.append(dot_grouped_message(path, grouped[0], "the demand"))
    for message in messages:
        logger.warning(message)
    return messages


NULL_ISLAND_DEG = 1e-6  # a point this close to 0° E, 0° N: where a geocoder puts an address it could not find
NULL_ISLAND_OTHERS_DEG = 20.0  # ... while every other point lies this far from it (data of West Africa aside)


def null_island_messages(frame: gpd.GeoDataFrame, path: Path) -> list[str]:
    """A warning where some points lie at 0° longitude, 0° latitude, in the sea, while all the others are far from
    there: geocoders return 0, 0 for an address they cannot find, and its demand had been planned for in the Gulf
    of Guinea without a word."""
    points = (frame.geometry.geom_type == "Point").to_numpy()
    if frame.crs is None or not points.any():
        return []
    lonlat = frame.geometry[points].to_crs("EPSG:4326")
    x, y = lonlat.x.to_numpy(), lonlat.y.to_numpy()
    mask = np.zeros(len(frame), dtype=bool)
    mask[np.flatnonzero(points)] = (np.abs(x) < NULL_ISLAND_DEG) & (np.abs(y) < NULL_ISLAND_DEG)
    if not mask.any():
        return []
    shapes = ~points & ~frame.geometry.isna().to_numpy() & ~frame.geometry.is_empty.to_numpy()
    if shapes.any():  # the others among polygons too: one point at 0, 0 among counties had passed unwarned
        inside = frame.geometry[shapes].representative_point().to_crs("EPSG:4326")
        x, y = np.concatenate([x, inside.x.to_numpy()]), np.concatenate([y, inside.y.to_numpy()])
    zero = (np.abs(x) < NULL_ISLAND_DEG) & (np.abs(y) < NULL_ISLAND_DEG)
    if zero.all() and len(zero) > 1:  # every row at one point: coordinates missing, not a dataset around 0°, 0°
        return [f"{path}: every row lies at 0° longitude, 0° latitude (in the Gulf of Guinea): its coordinates are "
                "probably missing (zeros where a geocoder or an export had none); check them: all demand is placed "
                "and served there"]
    if zero.mean() > 0.5 or (np.hypot(x, y)[~zero] <= NULL_ISLAND_OTHERS_DEG).any():
        return []
    return [f"{path}: rows {truncated(file_rows(frame, mask))} lie at 0° longitude, 0° latitude (in the Gulf of "
            "Guinea), where geocoders put addresses they could not find; check their coordinates: their demand is "
            "placed and served there"]


TOTAL_ROW_MIN_OTHERS = 5  # rows with demand besides a total row before one is suspected by its figures alone
TOTAL_WORDS = frozenset({  # a cell that names its row a total, in the languages a spreadsheet export is often in
    "total", "totals", "grand total", "sum", "summe", "gesamt", "insgesamt", "totaal", "totale", "totalt", "somme",
    "suma", "soma", "итого", "всего", "合計", "合计", "总计", "總計",
    # the grand-total labels of pivot tables
    "total general", "total général", "gesamtergebnis", "gesamtsumme", "eindtotaal", "totale complessivo",
    "total geral", "suma total", "totalsumma", "summa", "総計"})


def total_labelled(frame: pd.DataFrame) -> np.ndarray:
    """Per row, whether a text cell of it is a word of ``TOTAL_WORDS`` (any case, spaces around ignored);
    only the first and last rows are read, the only ones :func:`total_rows` looks at."""
    labelled = np.zeros(len(frame), dtype=bool)
    for row in sorted({0, len(frame) - 1}) if len(frame) else []:
        labelled[row] = any(isinstance(value, str) and value.strip().casefold() in TOTAL_WORDS
                            for value in frame.iloc[row].tolist())
    return labelled


def total_rows(demand: np.ndarray, labelled: np.ndarray | None = None) -> np.ndarray:
    """Positions of the first or last row whose demand of every product equals that of all the other
    rows together (relative 1e-6): the "Total" row a spreadsheet export ends (or starts) with, which would
    count every unit twice. Where ``labelled`` (per row: a cell names it a total, :func:`total_labelled`)
    at least two other rows must have demand, elsewhere ``TOTAL_ROW_MIN_OTHERS`` (1, 1, 1, 3 is no total)."""
    demand = np.asarray(demand, dtype=float).reshape(len(demand), -1)
    labelled = np.zeros(len(demand), dtype=bool) if labelled is None else np.asarray(labelled, dtype=bool)
    if len(demand) < 3:
        return np.empty(0, dtype=int)
    everything = demand.sum(axis=0)
    ends = np.array(sorted({0, len(demand) - 1}))
    rows = demand[ends]
    others = np.count_nonzero(demand.sum(axis=1) > 0) - (rows.sum(axis=1) > 0)
    enough = others >= np.where(labelled[ends], 2, TOTAL_ROW_MIN_OTHERS)
    equal = (np.abs(2 * rows - everything) <= 1e-6 * everything).all(axis=1) & (rows.sum(axis=1) > 0)
    return ends[equal & enough]


def total_row_message(path: Path, demand: np.ndarray, ids: np.ndarray, labelled: np.ndarray | None = None) -> str:
    shown = truncated([f"'{ids[row]}'" for row in total_rows(demand, labelled)])
    return (f"{path}: the demand of region {shown} equals that of all the other regions together: if it is a "
            "total row, remove it, or every unit is planned twice")


DOT_GROUPED = r"[1-9]\d{0,2}\.\d{3}"  # what grouping thousands with one dot writes: 1.000 … 999.999
WHOLE_DIGITS = r"\d+"


def dot_grouped_columns(path: Path, columns) -> list[str]:
    """The ``columns`` of ``path``, a table separated by ';' or a tab (as European spreadsheets write CSV and
    text), that hold, as written, only whole numbers and numbers of one to three digits, a dot and three digits
    (282.316, 1.250): there a '.' often groups thousands, which a reader takes for the decimal mark. Read from
    the text (12.500 and 8.000 are 12.5 and 8 once parsed), once for all columns."""
    path = Path(path)
    if not columns or path.suffix.lower() not in {".csv", ".txt", ".tsv"}:
        return []
    try:
        dialect = csv_dialect(path)
        if dialect["sep"] not in (";", "\t"):
            return []
        table = pd.read_csv(path, dtype=str, keep_default_na=False, **dialect)
    except (ValueError, OSError, UnicodeDecodeError):
        return []
    table.columns = [str(name).strip() for name in table.columns]  # as the reader strips 'pop ' to 'pop'
    return [column for column in columns if list(table.columns).count(str(column)) == 1
            and _dot_grouped(table[str(column)])]


def dot_grouped_message(path: Path, column: str, what: str) -> str:
    """The warning for a column :func:`dot_grouped_columns` found: ``what`` it holds is read 1,000× too small."""
    return (f"{path}: column '{column}' holds numbers such as 12.345 beside whole numbers in a file separated by "
            f"';' or tabs; if '.' groups thousands there (12.345 meaning 12345), {what} is read 1,000× too small: "
            "write the digits alone")


def _dot_grouped(values: pd.Series) -> bool:
    """Whole or dot-grouped numbers only, at least two of them grouped or most of them (850, 1.250, 75, 12.345;
    a low and a high scenario, 9.876 and 12.345)."""
    text = values.str.strip()
    text = text[(text != "") & ~text.str.fullmatch(r"0+(\.0*)?")]
    grouped = text.str.fullmatch(DOT_GROUPED)
    return len(text) >= 2 and bool((grouped | text.str.fullmatch(WHOLE_DIGITS)).all()) and (
        int(grouped.sum()) >= 2 or grouped.mean() > 0.5)


def far_sites(site_ids, site_lon, site_lat, demand_lon, demand_lat) -> list[str]:
    """Sites farther than FAR_KM, and than the demand's own extent, from every demand point."""
    if len(site_ids) == 0 or len(demand_lon) == 0:
        return []
    tree = cKDTree(unit_vectors(np.asarray(demand_lon), np.asarray(demand_lat)))
    chord, _ = tree.query(unit_vectors(np.asarray(site_lon), np.asarray(site_lat)))
    nearest_km = 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2, 0, 1))
    extent_km = great_circle_km(np.min(demand_lon), np.min(demand_lat), np.max(demand_lon), np.max(demand_lat))
    far = nearest_km > max(FAR_KM, float(extent_km))
    return [str(site) for site in np.asarray(site_ids)[far]]


OD_CHECK_KM = 100.0  # pairs at least this far apart (great circle) are compared: below it the data's own points and
# the planner's demand points (a polygon's representative point) may differ by as much as the distance itself
OD_MEDIAN_PAIRS = 30  # the median is judged over at least this many pairs
OD_SHORTER = 0.9  # a median of distance_km / great-circle km below this: the road is shorter than the straight line
OD_LONGER = 5.0  # ... above this: a detour no road network makes on average
OD_ROW_SHORT, OD_ROW_LONG = 0.5, 20.0  # single pairs beyond these: a unit mixed up in some rows


def positions_among(values: pd.Series, ids) -> np.ndarray:
    """The position of each of ``values`` among ``ids`` (as text), −1 where it is none of them (or blank);
    looked up once per distinct value (a lookup per row had taken 1.6 s per column of a 2.5-million-row OD
    matrix)."""
    codes, distinct = pd.factorize(values)
    at = np.append(pd.Index(ids).astype(str).get_indexer(distinct), -1)
    return at[codes]  # a blank's code −1 picks the −1 appended


def odd_od_distances(od: pd.DataFrame, site_ids, site_lon, site_lat, region_ids, region_lon, region_lat,
                     region_is_point=None) -> list[str]:
    """What looks like a unit error in the OD matrix's ``distance_km``, as warnings. A road is never
    shorter than the straight line between its ends, and rarely more than a few times longer, so over
    the pairs at least ``OD_CHECK_KM`` apart (a site's pair with its own region left out: its distance
    is within the region): a median ratio below ``OD_SHORTER`` (miles?) or above ``OD_LONGER`` (metres?)
    over at least ``OD_MEDIAN_PAIRS`` pairs, or single pairs above ``OD_ROW_LONG``, or below
    ``OD_ROW_SHORT`` where the region is a point (``region_is_point``; a polygon's own point for the data
    may lie far from the planner's, so a short distance to it proves nothing)."""
    if "distance_km" not in od.columns or od.empty:
        return []
    site, region = positions_among(od["from"], site_ids), positions_among(od["to"], region_ids)
    rows = np.flatnonzero((site >= 0) & (region >= 0) & od["distance_km"].notna().to_numpy()
                          & (od["from"] != od["to"]).to_numpy())
    s, r = site[rows], region[rows]
    straight = great_circle_km(np.asarray(site_lon)[s], np.asarray(site_lat)[s], np.asarray(region_lon)[r],
                               np.asarray(region_lat)[r])
    far = straight >= OD_CHECK_KM
    rows, straight, r = rows[far], straight[far], r[far]
    ratio = od["distance_km"].to_numpy(dtype=float)[rows] / straight
    if len(rows) >= OD_MEDIAN_PAIRS:
        median = float(np.median(ratio))
        where = (f"the OD matrix's distance_km is a median {median:.3g} × the straight-line distance over "
                 f"{len(rows):,} pairs at least {OD_CHECK_KM:.0f} km apart")
        if median < OD_SHORTER:
            return [f"{where}: shorter than the straight line, which no road is; is it in miles or another unit? "
                    "give road kilometres"]
        if median > OD_LONGER:
            return [f"{where}: is it in metres or another unit? give road kilometres"]
    point = np.ones(len(region_ids), dtype=bool) if region_is_point is None else np.asarray(region_is_point, bool)
    odd = (ratio > OD_ROW_LONG) | ((ratio < OD_ROW_SHORT) & point[r])
    if not odd.any():
        return []
    first = int(np.flatnonzero(odd)[0])
    row = int(rows[first])
    return [f"the OD matrix's distance_km is more than {OD_ROW_LONG:g} × (or, to a point, less than "
            f"{OD_ROW_SHORT:g} ×) the straight-line distance in {int(odd.sum()):,} rows (e.g. row {row + 1}, "
            f"{od['from'].iloc[row]}->{od['to'].iloc[row]}: {od['distance_km'].iloc[row]:,.6g} km against "
            f"{straight[first]:,.1f} km in a straight line); check their unit"]


MISSPELT_RATIO = 0.85  # difflib's ratio above which a column is taken for a misspelt known one

def _plain_column(name) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_").removesuffix("s")


def _per_year_note(plain: str, meant: str) -> str:
    """Where a per-year column is given per another period (``capacity_per_day``), that its figures are per
    year: renaming the column alone would read a daily capacity as a yearly one (as model keys are told,
    :func:`planner.inputs.config.other_period`)."""
    period = other_period(plain)
    if period is None or not meant.endswith("_per_yr"):
        return ""
    return f" with its figures per year (a figure per {period} × {PER_YEAR[period]:,})"


def refuse_near_columns(frame: pd.DataFrame, path: Path, known: tuple[str, ...], whose: str,
                        prefixes: bool = False) -> None:
    """Refuse a column that is one of the optional ``known`` columns but for case, spaces or a plural
    ``s`` (``Forced``, ``Capacity_per_yr``), or (``prefixes``) the start of one (``capacity`` for
    ``capacity_per_yr``), or one of them misspelt (``capacity_per_year``, ``cost_multipler``; where that
    column is not there too): it would be ignored, and what it says silently left out (a supplier's
    capacity unlimited, every site's cost multiplier 1)."""
    wanted = {_plain_column(name): name for name in known}
    for column in frame.columns:
        plain = _plain_column(column)
        meant = wanted.get(plain) or next((name for key, name in wanted.items() if prefixes and len(plain) >= 4
                                           and key.startswith(plain) and name not in frame.columns), None)
        if meant is None and column not in known:
            close = difflib.get_close_matches(plain, list(wanted), n=1, cutoff=MISSPELT_RATIO)
            meant = wanted[close[0]] if close and wanted[close[0]] not in frame.columns else None
        if meant is not None and column != meant:
            raise InputError(f"{path}: column '{column}' is not read; name it '{meant}'{_per_year_note(plain, meant)} "
                             f"({whose} columns are {', '.join(known)})")
