"""``read_*`` functions for the inputs (regions or demand points, candidate sites,
origin–destination matrix).

Regions may be any vector file geopandas reads (GeoPackage, GeoJSON, Shapefile, GeoParquet) with
polygons or points, or a table (CSV, TSV, Parquet without geometry) with coordinate columns.
Readers check that files exist and columns are there; the meaning of values is checked in
``planner.inputs.validate``. Every failure is an :class:`InputError` naming the file and the fix.
The formats are read by :mod:`planner.inputs.tables` (CSV, Excel, Parquet) and :mod:`planner.inputs.vector`
(vector files), and points are made from a table's coordinates by :mod:`planner.inputs.coordinates`.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import warnings
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.errors import InputError, truncated
from planner.inputs.coordinates import (
    LONLAT,
    check_projected_range,
    decimal_comma_hint,
    named_alike,
    points_from_table,
    same_crs,
)
from planner.inputs.geo import points_to_lonlat
from planner.inputs.tables import (
    EXCEL_SUFFIXES,
    FIRST_SHEET,
    OD_IDS,
    PARQUET_SUFFIXES,
    REGIONS_SHEET,
    check_file,
    csv_dialect,
    is_table,
    quoted_names,
    read_table,
    require_columns,
    whole_numbers,
)
from planner.inputs.vector import GEOJSON_SUFFIXES, read_vector, with_dbf_names

logger = logging.getLogger(__name__)

# columns read as text from a CSV (case-insensitive): ids such as ZIP or FIPS codes keep their leading zeros
ID_NAMES = ("region_id", "id", "geoid", "fid", "code", "site_id", "customer_id", "store_id", "name")

SITES_FIX = "name them lon and lat (degrees, WGS84)"

TRUE_WORDS = {"1", "true", "yes", "y", "t"}

FALSE_WORDS = {"0", "false", "no", "n", "f", ""}

def warn_first_sheet(path: Path, sheets: list[str] | None) -> None:
    """A warning where the regions were read from the first of a workbook's several sheets: which is meant is
    the user's call, as a GeoPackage's layer is (a sheet per year had been read from the first, saying nothing)."""
    if sheets:
        logger.warning("%s: the workbook has %d sheets (%s); its first, '%s', is read: choose another with --layer "
                       "(the [regions] key layer)", path, len(sheets), quoted_names(sheets),
                       sheets[0])

def read_regions(
    path: Path,
    layer: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    crs: str | None = None,
    text_columns: Iterable[str] = (),
    option: str = "the REGIONS argument",
) -> gpd.GeoDataFrame:
    """The regions (polygons or demand points) as read; a table gets point geometries from its
    coordinate columns, and its id-like columns (ID_NAMES and ``text_columns``) are read as text.
    Columns are checked by ``planner.inputs.validate.check_regions``; ``option`` is where the path came
    from, for the errors (a typo in the model's ``regions.path`` is not the REGIONS argument's)."""
    path = check_file(Path(path), "regions", option)
    if is_table(path):
        if layer is not None and path.suffix.lower() not in EXCEL_SUFFIXES:
            raise InputError(f"{path}: a table has no layers, so layer '{layer}' cannot be chosen; drop --layer "
                             "(or the [regions] key layer), which is for multi-layer files such as GeoPackage "
                             "and a workbook's sheets")
        table = read_table(path, "regions", option, (*ID_NAMES, *text_columns), codes=True, sheet=layer)
        table.attrs[REGIONS_SHEET] = True
        frame = points_from_table(table, path, lon, lat, crs)
        warn_first_sheet(path, table.attrs.get(FIRST_SHEET))
    else:
        if (lon is not None or lat is not None) and not path.is_dir():
            raise InputError(f"{path}: --lon-column and --lat-column (the [regions] keys lon_column and lat_column) "
                             "are for CSV/Parquet tables of points; this file has its own geometry: drop them")
        frame = with_given_crs(read_vector(path, layer, "regions", option), crs, path)
    if frame.empty:
        raise InputError(f"{path}: the regions dataset has no rows; pass a file with at least one region")
    check_projected_range(frame, path)
    return frame

def with_given_crs(frame: gpd.GeoDataFrame, crs: str | None, path: Path) -> gpd.GeoDataFrame:
    """A vector file's frame with ``--crs`` (the [regions] key crs) set where the file has none (a
    shapefile without its .prj had no fix but Python); refused where the file has its own."""
    if crs is None or same_crs(frame.crs, crs):  # the file's own CRS, given again: nothing to refuse
        return frame
    if frame.crs is not None and not _geojson_beyond_degrees(frame, path):
        raise InputError(f"{path}: this file has its own CRS ({frame.crs.name or frame.crs.to_string()}); --crs (the "
                         "[regions] key crs) is for tables of points and files without one: drop it")
    try:
        return frame.set_crs(crs, allow_override=True)
    except Exception as error:
        raise InputError(f"{path}: --crs '{crs}' is not a CRS pyproj knows ({error}); e.g. EPSG:3857") from None

def _geojson_beyond_degrees(frame: gpd.GeoDataFrame, path: Path) -> bool:
    """Whether ``frame`` is a GeoJSON file's whose coordinates lie outside ±180°/±90° of the WGS 84 GDAL gives
    every GeoJSON without a "crs" member (RFC 7946 has no other): metres, whose CRS only --crs can give."""
    if Path(path).suffix.lower() not in GEOJSON_SUFFIXES or not frame.crs.is_geographic:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an empty geometry's NaN bounds
        x0, y0, x1, y1 = frame.total_bounds
    beyond = x0 < -180 or x1 > 360 or y0 < -90 or y1 > 90  # as check_coordinates refuses them (0–360° data fit)
    return bool(beyond and frame.crs.equals(LONLAT, ignore_axis_order=True))

def parse_flags(values: pd.Series, path: Path, column: str) -> pd.Series:
    """true/false/yes/no/1/0 (case-insensitive; empty = false) as booleans; 1.0 and 0.0 too, as a
    column of 1s with an empty cell is read as floats."""
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip().str.lower()
    text = text.replace({"1.0": "1", "0.0": "0"})
    bad = ~text.isin(TRUE_WORDS | FALSE_WORDS)
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(
            f"{path}: column '{column}' row {row + 1}: '{values.iloc[row]}' is not true/false; use true or false"
        )
    return text.isin(TRUE_WORDS)

def read_sites(path: Path) -> gpd.GeoDataFrame:
    """Candidate sites: a point vector file, or a CSV/TSV/Parquet table with coordinate columns in
    degrees (WGS84), found as for the regions (lon/lat, longitude/latitude, lng, long, x/y).

    Columns: ``site_id`` (unique, read as text), optional ``facility_types`` (names separated by ``;``,
    empty or ``*`` = every type), ``cost_multiplier`` (> 0, scales opening and module costs and capex),
    ``existing``, ``forced``, ``excluded`` (true/false).
    """
    path = check_file(Path(path), "sites", "--sites")
    if is_table(path):
        table = read_table(path, "sites", "--sites", text_columns=("site_id",))
        require_columns(table, ["site_id"], path, "each candidate site needs an id")
        frame = points_from_table(table, path, fix=SITES_FIX, points_only=True)
    else:
        frame = with_dbf_names(read_vector(path, None, "sites", "--sites"), path, ("facility_types", "cost_multiplier"))
    if frame.empty:  # before the columns: a GeoJSON of no features has none ("column 'site_id' not found")
        raise InputError(f"{path}: the sites file has no rows; give at least one candidate site or omit --sites")
    require_columns(frame, ["site_id"], path, "each candidate site needs an id")
    check_projected_range(frame, path)
    return frame

def points_lonlat(frame: gpd.GeoDataFrame, path: Path, what: str = "sites") -> tuple[np.ndarray, np.ndarray]:
    """The points of a sites (or suppliers) vector file as lon/lat; one line naming the rows without a point (a
    null or empty geometry had been "outside ±180°/±90° in lon/lat; check their coordinates and the file's CRS")
    or outside the degrees' range."""
    geoms = np.asarray(frame.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        rows = (np.flatnonzero(missing) + 1).tolist()
        raise InputError(f"{path}: {what} in rows {truncated(rows)} have no geometry (null or empty); give each a "
                         "point, or delete the row")
    lon, lat = points_to_lonlat(frame)
    outside = ~np.isfinite(lon) | ~np.isfinite(lat) | (lon < -180) | (lon > 360) | (np.abs(lat) > 90)
    if outside.any():
        rows = (np.flatnonzero(outside) + 1).tolist()
        raise InputError(
            f"{path}: {what} in rows {truncated(rows)} lie outside ±180°/±90° in lon/lat; check their coordinates "
            "and the file's CRS"
        )
    return lon, lat

def id_text(raw: pd.Series) -> pd.Series:
    """Ids as text; a float column of whole numbers (as spreadsheets and shapefiles store integer codes)
    without its '.0', so that 1001.0 matches '1001' in OD matrices, scenario and sites files."""
    if pd.api.types.is_float_dtype(raw):
        values = raw.to_numpy(dtype=float)
        known = np.isfinite(values)
        if whole_numbers(values) and (np.abs(values[known]) < 2**53).all():  # an int64 holds them exactly
            text = pd.Series(np.where(known, np.nan_to_num(values).astype(np.int64).astype(str), ""), index=raw.index)
            return text.where(known, raw.astype(str))
    return raw.astype(str)

def id_keys(raw: pd.Series) -> pd.Series:
    """Ids as every reader compares them: :func:`id_text`, stripped, in Unicode NFC."""
    return id_text(raw).str.strip().str.normalize("NFC")

DIGITS = re.compile(r"[0-9]+")

def lost_zeros_hint(unknown: Iterable, known: Iterable, what: str = "region ids") -> str:
    """"; 2 of them look like region ids without their leading zeros ('1001' for '01001', ...) ..." for the
    ``unknown`` ids of a file that are ``known`` ids without their leading zeros (Excel shows the code 01001
    as the number 1001, and a CSV saved from it keeps that), else '': one hint for every file whose ids must
    match the data's (OD matrix, scenarios)."""
    padded: dict[str, list[str]] = {}
    for key in {str(k) for k in known if DIGITS.fullmatch(str(k))}:
        padded.setdefault(key.lstrip("0"), []).append(key)
    lost = {}
    for key in dict.fromkeys(str(u) for u in unknown):  # in the file's order, once each
        matches = padded.get(key.lstrip("0"), []) if DIGITS.fullmatch(key) else []
        if len(matches) == 1 and len(matches[0]) > len(key):
            lost[key] = matches[0]
    if not lost:
        return decimal_ids_hint(unknown, known, what)
    pairs = truncated([f"'{key}' for '{meant}'" for key, meant in lost.items()], 3)
    return (f"; {len(lost)} of them look like {what} without their leading zeros ({pairs}), as Excel writes codes: "
            "write them as the ids they name are written (as text in Excel)")

WHOLE_DECIMAL = re.compile(r"([0-9]+)\.0+")  # '1001.0': a whole number written as a decimal

def decimal_ids_hint(unknown: Iterable, known: Iterable, what: str = "region ids") -> str:
    """"; 2 of them look like region ids written as decimals ('1.0' for '1', ...) ..." for the ``unknown`` ids that
    are ``known`` ones with '.0' after them (pandas writes a column of whole numbers with a blank cell so; the ids
    of a file are read as text, and '1.0' had been named no id with no word of why), else ''."""
    known = {str(k) for k in known}
    meant = {}
    for key in dict.fromkeys(str(u) for u in unknown):
        match = WHOLE_DECIMAL.fullmatch(key.strip())
        if match and match.group(1) in known:
            meant[key] = match.group(1)
    if not meant:
        return ""
    pairs = truncated([f"'{key}' for '{whole}'" for key, whole in meant.items()], 3)
    return (f"; {len(meant)} of them look like {what} written as decimals ({pairs}): write them as the ids they name "
            "are written, without '.0'")

def names_hint(unknown: Iterable, ids: Iterable, names: Iterable, what: str = "region") -> str:
    """"; 2 of them are region names, not ids ('München' for '001', ...)" for the ``unknown`` ids of a file that
    are the ``names`` of ``ids`` (each name of one id, and not that id itself), else '': a scenario file or an OD
    matrix written with the names people know the regions by had been told only that its ids are unknown."""
    by_name: dict[str, list[str]] = {}
    for key, name in zip(ids, names, strict=True):
        if isinstance(name, str) and name.strip() and name.strip() != str(key):
            by_name.setdefault(unicodedata.normalize("NFC", name.strip()), []).append(str(key))
    meant = {u: by_name[u][0] for u in dict.fromkeys(unicodedata.normalize("NFC", str(u).strip()) for u in unknown)
             if len(by_name.get(u, [])) == 1}
    if not meant:
        return ""
    pairs = truncated([f"'{name}' for '{key}'" for name, key in meant.items()], 3)
    return f"; {len(meant)} of them are {what} names, not ids ({pairs})"

def blank_allowed(columns: list[str]) -> set[str]:
    """The OD columns whose cells may be blank (NaN): ``minutes`` (an unknown time, never within a time
    limit) and, beside ``distance_km``, ``cost`` (the product's ``cost_per_unit_km`` × km instead)."""
    return {"minutes"} | ({"cost"} if "distance_km" in columns else set())

def _per_distinct(values: pd.Series, convert) -> pd.Series:
    """``convert`` applied to the distinct values of ``values`` only, then spread back to every row: an
    OD matrix of 4 million rows names a few thousand ids (4.7 s → 0.3 s for their text and NFC form)."""
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    converted = convert(pd.Series(distinct, dtype=values.dtype))
    return pd.Series(converted.to_numpy(dtype=object)[codes], index=values.index, dtype=converted.dtype)

TRANSPORT_RATE = re.compile(r"^transport\.[^.]+\.cost_per_unit_km$")

def warn_od_costs_fixed(keys, od_path: Path | str | None, what: str) -> None:
    """A warning where ``what`` (``planner sweep``, ``--sensitivity``) varies a ``transport.<p>.cost_per_unit_km``
    while the OD matrix has a ``cost`` column: its costs hold for every pair that has one, whatever the
    rate, so the varied values change only the pairs whose cost is blank (identical objectives had
    been reported with no word)."""
    varied = sorted({key for key in keys if TRANSPORT_RATE.match(str(key))})
    if not varied or od_path is None:
        return
    import pyarrow.parquet as pq

    path = Path(od_path)
    try:
        columns = (pq.read_schema(path).names if path.suffix.lower() in PARQUET_SUFFIXES
                   else list(pd.read_csv(path, nrows=0, **csv_dialect(path)).columns))
    except Exception:  # noqa: BLE001 - the OD matrix is read, and any fault in it named, by each solve
        return
    if "cost" in [str(column).strip() for column in columns]:
        logger.warning("%s varies %s, but %s has a 'cost' column: its costs are used for every pair that has one, "
                       "whatever the rate, so only the pairs whose cost is blank change; vary the costs in the OD "
                       "matrix instead (one file per value)", what, ", ".join(varied), path)

OD_MOST = {"distance_km": 1e6, "minutes": 1e7}  # 25 times around the Earth; 19 years: a unit or a typo

def _refuse_beyond(path: Path, column: str, number: np.ndarray, most: float) -> None:
    """One line for the first value of ``column`` above ``most`` (a distance of 1e308 km had been blamed on
    the model's carbon_price, or dropped with numpy's overflow warning shown)."""
    above = np.flatnonzero(np.isfinite(number) & (number > most))
    if len(above):
        row = int(above[0])
        raise InputError(f"{path}: column '{column}' row {row + 1} ({number[row]:.6g}) is above {most:.0e}: no "
                         f"delivery is that long; check its unit")

def _refuse_od_columns_named_otherwise(table: pd.DataFrame, path: Path) -> None:
    """The OD matrix's columns in another case ('Cost' would be dropped silently, costing by km; 'From' had been
    "column 'from' not found"), or as QGIS's distance matrix names them (InputID, TargetID, Distance in the layer's
    unit), named with the fix; then the ids' columns required."""
    for known in (*OD_IDS, "distance_km", "cost", "minutes"):
        alike = [c for c in named_alike(table.columns, known, path, f"one lower-case '{known}' column") if c != known]
        if alike:
            raise InputError(f"{path}: column '{alike[0]}' is read only as '{known}' (lower case); rename it")
    hint = "the OD matrix needs from (site id) and to (region id)"
    if "from" not in table.columns and {"inputid", "targetid"} <= {str(c).lower() for c in table.columns}:
        available = truncated([str(column) for column in table.columns], 12)
        raise InputError(f"{path}: column 'from' not found ({hint}); available: {available}; QGIS's distance "
                         "matrix? rename InputID to from and TargetID to to, and give Distance in km as distance_km")
    require_columns(table, list(OD_IDS), path, hint)

def read_od_matrix(path: Path) -> pd.DataFrame:
    """Origin–destination table (CSV, TSV or Parquet; read as the regions' tables are: separator sniffed,
    ids as text, so 'NA' or '01001' stay as written): ``from`` (site id), ``to`` (region id), and
    ``distance_km`` and/or ``cost`` (transport cost per unit, currency/unit, for every product), and
    optionally ``minutes`` (delivery time, for service levels ``within_minutes``); blank cells as
    :func:`blank_allowed` allows."""
    path = check_file(Path(path), "OD matrix", "--od-matrix")
    table = read_table(path, "OD matrix", "--od-matrix", text_columns=tuple(OD_IDS))
    _refuse_od_columns_named_otherwise(table, path)
    if table.empty:  # a header alone had ended in an internal error (an IndexError) where the arcs are looked up
        raise InputError(f"{path}: the OD matrix has no rows; give a row per candidate site and region, or omit "
                         "--od-matrix")
    values = [column for column in ("distance_km", "cost", "minutes") if column in table.columns]
    if not set(values) & {"distance_km", "cost"}:  # 'distance_miles' or 'distance' had not been named
        near = [column for column in table.columns if str(column).strip().lower().startswith("dist")]
        hint = (f"; column '{near[0]}' is not read: give the road distance in km as 'distance_km' (miles × 1.609344)"
                if near else "")
        raise InputError(f"{path}: the OD matrix needs a 'distance_km' or a 'cost' column; add one (its columns: "
                         f"{truncated([str(column) for column in table.columns], 8)}){hint}")
    for column, what in OD_IDS.items():
        ids = _per_distinct(table[column], id_keys)
        empty = table[column].isna() | (ids == "")
        if empty.any():
            rows = (np.flatnonzero(empty.to_numpy()) + 1).tolist()
            raise InputError(f"{path}: column '{column}' is empty in rows {truncated(rows)}; give {what} in every row")
        table[column] = ids
    for column in values:
        numeric = pd.to_numeric(table[column], errors="coerce")
        number = numeric.to_numpy(dtype=float)
        suspect = ~np.isfinite(number) | (number < 0)
        blank = np.zeros(len(number), dtype=bool)  # judged on the suspect cells only (4 M floats as text took 3 s)
        cells = table[column][suspect]
        blank[suspect] = (cells.isna() | (cells.astype(str).str.strip() == "")).to_numpy()
        bad = suspect & ~(blank & (column in blank_allowed(values)))
        if bad.any():  # inf would silently drop the pair (cost × inf km = nan)
            row = int(np.flatnonzero(bad)[0])
            written = "is blank" if blank[row] else f"('{table[column].iloc[row]}')"
            raise InputError(
                f"{path}: column '{column}' row {row + 1} {written}: it must be a finite number ≥ 0"
                f"{decimal_comma_hint(table[column][bad])}"
            )
        table[column] = numeric
        if column in OD_MOST:
            _refuse_beyond(path, column, number, OD_MOST[column])
    duplicated = table.duplicated(["from", "to"])
    if duplicated.any():
        row = int(duplicated.to_numpy().nonzero()[0][0])
        raise InputError(f"{path}: pair ({table['from'].iloc[row]}, {table['to'].iloc[row]}) appears twice; keep one")
    return table
