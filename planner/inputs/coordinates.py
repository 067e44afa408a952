"""Points from a table's coordinates: the coordinate columns found or named, WKT and (E)WKB geometry
columns, numbers written with decimal commas, grouped digits or degree signs, degrees against
projected metres, and projected coordinates against their CRS's area of use."""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.errors import InputError, truncated
from planner.inputs.geo import finite_coordinates, require_crs
from planner.inputs.tables import is_table, no_header_hint, od_hint, require_columns, sheet_note

logger = logging.getLogger(__name__)

# a column of WKT text (QGIS's "AS_WKT" export, PostGIS's ST_AsText) where the table has no coordinate pair
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "shape")

# coordinate column pairs found automatically in tables (case-insensitive), in this order
LON_NAMES, LAT_NAMES = ("lon", "longitude", "lng", "long"), ("lat", "latitude")  # degrees

# the pairs looked for, in this order: every longitude name with every latitude name, then x/y
COORDINATE_PAIRS = (*((lon, lat) for lon in LON_NAMES for lat in LAT_NAMES), ("x", "y"))

LONLAT = "EPSG:4326"

DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d*,\d+\s*$")  # '12,5': a number written with a decimal comma

# '1,129,410': grouped digits (also by a space, a no-break or thin space as in French, an apostrophe as in Swiss)
THOUSANDS = re.compile(r"^\s*[+-]?\d{1,3}([,' \u00a0\u202f\u2009\u2019]\d{3})+(\.\d+)?\s*$")

# '11°35′E', '48.14 N', "8 32' W": degrees with a sign, minutes or a hemisphere letter
DEGREES_WRITTEN = re.compile(r"[°º'′\"″]|^\s*[+-]?\d+(?:\.\d+)?\s*[NSEWnsew]\s*$")

DOT_THOUSANDS = re.compile(r"^\s*[+-]?\d{1,3}(\.\d{3}){2,}(,\d+)?\s*$")  # '1.640.072': grouped by dots

PROJECTED_ABOVE = 1000.0  # |coordinate| above this in a lon/lat column: metres, not degrees

REGION_FIX = "name them with --lon-column and --lat-column"

# a sites or suppliers table has no --crs (the regions' is theirs alone): how to say the CRS of projected points
POINTS_CRS_FIX = ("their CRS, in a geometry column of e.g. 'SRID=3857;POINT (x y)' or a vector file (GeoPackage) "
                  "that holds it (a sites or suppliers table takes no --crs)")

def decimal_comma_hint(values: pd.Series) -> str:
    """'; decimal commas ...' when some of ``values`` are numbers written with a decimal comma, '; thousands
    separators ...' when some have their digits grouped ('1,129,410'; '12,500' is read as either), else ''."""
    text = values.dropna().astype(str)
    if text.str.match(DOT_THOUSANDS).any():
        return ("; dots as thousands separators are not read: write the digits alone (e.g. 1640072, not "
                "1.640.072), and check values such as 282.316 too, which are read as decimals")
    grouped = text.str.match(THOUSANDS)
    if grouped.any() and not text.str.match(DECIMAL_COMMA).all():
        return "; thousands separators are not read: write the digits alone (e.g. 1129410, not 1,129,410)"
    if grouped.any():  # every value like '12,000': a decimal comma or a thousands separator
        return ("; commas are not read, neither as decimal marks nor as thousands separators: write 12.5 for "
                "12,5 and 12000 for 12,000")
    if text.str.match(DECIMAL_COMMA).any():
        return "; decimal commas are not read: use '.' as the decimal mark (e.g. 12.5, not 12,5)"
    return ""

def degrees_hint(values: pd.Series) -> str:
    """'; degrees written with ° ...' where some of ``values`` are degrees with a degree sign, minutes or a
    hemisphere letter ('11°35′E', '48.14 N'), else ''."""
    if not values.dropna().astype(str).str.contains(DEGREES_WRITTEN).any():
        return ""
    return ("; degrees written with °, minutes or N/S/E/W are not read: write decimal degrees, negative for south "
            "and west (e.g. 11.5833 for 11°35′E, -8.6 for 8°36′W)")

def coordinate_columns(
    frame: pd.DataFrame, path: Path, lon: str | None, lat: str | None, fix: str = REGION_FIX,
    crs: str | None = None,
) -> tuple[str, str]:
    """The coordinate columns: those given, or the first pair of COORDINATE_PAIRS present (x/y first
    where ``crs`` is projected; ``fix`` says how to name them when none is found)."""
    if lon or lat:
        if not (lon and lat):
            raise InputError(f"{path}: give both --lon-column and --lat-column (or neither, to find them)")
        require_columns(frame, [lon, lat], path, "the coordinate columns given")
        return lon, lat
    found = coordinate_pair(frame, path, crs)
    if found is None:
        raise InputError(
            f"{path}: no coordinate columns found (looked for lon/longitude/lng/long with lat/latitude, x/y, and for "
            f"WKT geometry in a column named {'/'.join(WKT_NAMES)}); {fix}{_coordinate_like_hint(frame, fix)}; "
            f"available: {truncated(list(frame.columns), 12)}{no_header_hint(frame.columns)}{od_hint(frame)}"
            f"{sheet_note(frame)}"
        )
    return found

LON_PARTS, LAT_PARTS = ("lon", "lng", "long", "longitude", "x"), ("lat", "latitude", "y")

PARTNER = (("lon", "lat"), ("LON", "LAT"), ("Lon", "Lat"), ("long", "lat"), ("LONG", "LAT"), ("lng", "lat"),
           ("x", "y"), ("X", "Y"))  # a lon-like name into its lat-like partner's: cenpop_lon → cenpop_lat

def _named_like(column, parts: tuple[str, ...]) -> bool:
    """Whether ``column``'s name holds one of ``parts`` as a word ('rep_lon', 'x_coord') or at its end ('INTPTLAT')."""
    name = str(column).strip().lower()
    return any(word in parts for word in re.split(r"[^a-z]+", name)) or \
        name.endswith(tuple(part for part in parts if len(part) > 1))

def _coordinate_like_hint(frame: pd.DataFrame, fix: str) -> str:
    """'; columns that may hold them: 'cenpop_lat', 'cenpop_lon' (e.g. --lon-column cenpop_lon --lat-column
    cenpop_lat)' for columns named like coordinates but not as looked for, else '': the Census county table had
    been told only "available: GEOID, ... and 4 more", the 4 left out its coordinates."""
    lons = [c for c in frame.columns if _named_like(c, LON_PARTS) and not _named_like(c, LAT_PARTS)]
    lats = [c for c in frame.columns if _named_like(c, LAT_PARTS) and not _named_like(c, LON_PARTS)]
    if not lons or not lats:
        return ""
    shown = truncated([f"'{c}'" for c in frame.columns if c in lons or c in lats], 8)
    if fix != REGION_FIX:
        return f"; columns that may hold them: {shown}"
    partners = [str(lons[0]).replace(a, b) for a, b in PARTNER if a in str(lons[0])]
    lat = next((c for c in lats if str(c) in partners), lats[0])
    return f"; columns that may hold them: {shown} (e.g. --lon-column {lons[0]} --lat-column {lat})"

def named_alike(columns, name: str, path=None, option: str = "") -> list:
    """The columns named ``name`` in any case ('demand', 'Demand'); more than one is an error naming
    ``option``, since which one is meant is unclear (the last one read had been taken silently)."""
    matches = [column for column in columns if str(column).strip().lower() == name]
    if len(matches) > 1:
        raise InputError(f"{path or 'the data'}: columns {truncated(matches)} differ only in case, so which one is "
                         f"meant is unclear; name it with {option or 'its option'} (or rename the others)")
    return matches

def found_coordinates(frame, path: Path, lon_column, lat_column, crs: str | None = None) -> tuple[str, ...]:
    """The coordinate columns of a table (as given or found with its ``crs``; the reader has checked
    them), or of a vector file a lon/lat-named pair of attribute columns, if any: never the demand or
    the id."""
    if is_table(path):
        if lon_column or lat_column or coordinate_pair(frame) is not None:
            return coordinate_columns(frame, path, lon_column, lat_column, crs=crs)
        return ()  # the reader took the geometry from a WKT column
    try:
        return coordinate_columns(frame.drop(columns=frame.geometry.name), path, None, None)
    except InputError:
        return ()

def coordinate_pair(frame: pd.DataFrame, path=None, crs: str | None = None) -> tuple[str, str] | None:
    """The first pair of COORDINATE_PAIRS among the columns (case-insensitive), or None; where ``crs``
    (the table's, as given) is projected, x/y comes first: lon/lat-named columns hold degrees, so a
    table with both pairs and a CRS in metres means its x/y. Columns named alike but for case ('lat',
    'LAT') are an error (:func:`named_alike`)."""
    option = "--lon-column and --lat-column"
    pairs = COORDINATE_PAIRS if not _projected(crs) else (COORDINATE_PAIRS[-1], *COORDINATE_PAIRS[:-1])
    for lon_name, lat_name in pairs:
        lon = named_alike(frame.columns, lon_name, path, option)
        lat = named_alike(frame.columns, lat_name, path, option)
        if lon and lat:
            return lon[0], lat[0]
    return None

def _projected(crs: str | None) -> bool:
    """Whether ``crs`` (text as given, None: lon/lat) is a CRS pyproj knows and is projected; text it
    does not know is refused where the points are made."""
    if crs is None:
        return False
    from pyproj import CRS

    try:
        return CRS.from_user_input(crs).is_projected
    except Exception:
        return False

def wkt_column(frame: pd.DataFrame) -> str | None:
    """The first column named as in WKT_NAMES (case-insensitive) whose first filled cell is WKT text."""
    for column in frame.columns:
        if str(column).strip().lower() not in WKT_NAMES:
            continue
        filled = frame[column].dropna().map(_geometry_text)
        filled = filled[filled != ""]
        if len(filled) and _parse_wkt(filled.head(1).to_numpy(dtype=object))[0] is not None:
            return column
    return None

def _geometry_text(value) -> str:
    """A cell of a geometry column as text: WKB bytes as hex (a Parquet file's geometry without GeoParquet metadata,
    as DuckDB writes one, had ended in "internal error: UnicodeDecodeError"), anything else stripped."""
    return value.hex() if isinstance(value, bytes | bytearray | memoryview) else str(value).strip()

EWKT_SRID = re.compile(r"^\s*SRID=(\d+);", flags=re.IGNORECASE)  # PostGIS's ST_AsEWKT: 'SRID=4326;POINT (1 2)'

HEX_WKB = re.compile(r"(?:[0-9A-Fa-f]{2}){5,}")  # a PostGIS geometry column copied out as text: (E)WKB in hex

def _parse_wkt(text: np.ndarray) -> np.ndarray:
    """Geometries of WKT text, EWKT ('SRID=4326;POINT (1 2)') or hex (E)WKB, with the SRID either gives set (as
    they come out of PostGIS; they had been "no coordinate columns found"); None where the text is none of them."""
    srid = np.array([int(m.group(1)) if isinstance(t, str) and (m := EWKT_SRID.match(t)) else 0 for t in text])
    plain = np.array([EWKT_SRID.sub("", t) if isinstance(t, str) else t for t in text], dtype=object)
    hexed = np.array([isinstance(t, str) and HEX_WKB.fullmatch(t) is not None for t in text], dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 'nan' coordinates: refused by geometry_from_wkt
        geoms = shapely.from_wkt(np.where(hexed, None, plain), on_invalid="ignore")
        if hexed.any():
            geoms[hexed] = shapely.from_wkb(plain[hexed], on_invalid="ignore")
    return shapely.set_srid(geoms, np.where(srid > 0, srid, shapely.get_srid(geoms)))

def _srid_crs(geoms: np.ndarray, column: str, path: Path, crs: str | None) -> str | None:
    """``crs`` as given, else the one SRID the geometries name ('EPSG:4269'); several SRIDs, or one that is not
    the ``crs`` given, are an error."""
    srids = sorted({int(srid) for srid in shapely.get_srid(geoms[~shapely.is_missing(geoms)]) if srid > 0})
    if len(srids) > 1:
        raise InputError(f"{path}: column '{column}' names several SRIDs ({truncated(srids)}); give every geometry "
                         "in one CRS")
    from pyproj import CRS

    if srids and crs is not None and not same_crs(CRS.from_epsg(srids[0]), crs):
        raise InputError(f"{path}: column '{column}' names SRID {srids[0]}, and --crs is '{crs}'; drop --crs (or "
                         "give the SRID's CRS)")
    return crs if crs is not None or not srids else f"EPSG:{srids[0]}"

def geometry_from_wkt(frame: pd.DataFrame, column: str, path: Path, crs: str | None,
                      points_only: bool = False) -> gpd.GeoDataFrame:
    """The table with the WKT text of ``column`` as its geometry (``crs`` default EPSG:4326). An empty
    cell is a missing geometry (refused by name where a geometry is needed); text that is not WKT,
    coordinates that are not finite numbers, degrees outside ±180°/±90° (360° for longitudes written
    0–360°) and, with ``points_only`` (sites, suppliers), other geometries than points are errors
    naming the rows."""
    text = np.array([None if _blank(value) else _geometry_text(value) for value in frame[column]], dtype=object)
    geoms = _parse_wkt(text)
    not_wkt = (text != None) & shapely.is_missing(geoms)  # noqa: E711 - elementwise
    quoted = [value[:40] for value in text[not_wkt][:2]]
    _refuse_rows(path, column, not_wkt, "is not WKT geometry",
                 f"values {quoted}; write e.g. POINT (13.4 52.5) or POLYGON ((...)), or give lon/lat columns")
    _refuse_rows(path, column, ~finite_coordinates(geoms), "has coordinates that are not finite numbers (inf or NaN)",
                 "fix them")
    if points_only:
        _refuse_rows(path, column, ~shapely.is_missing(geoms) & (shapely.get_type_id(geoms) != 0), "is not a POINT",
                     "give each site's location as POINT (x y)")
    crs = _srid_crs(geoms, column, path, crs)
    try:
        frame = gpd.GeoDataFrame(frame.drop(columns=column), geometry=geoms, crs=crs or LONLAT)
    except Exception as error:
        raise InputError(f"{path}: --crs '{crs}' is not a CRS pyproj knows ({error}); e.g. EPSG:3857") from None
    if frame.crs.is_geographic:
        bounds = shapely.bounds(geoms)
        with np.errstate(invalid="ignore"):
            outside = (bounds[:, 0] < -180) | (bounds[:, 2] > 360) | (bounds[:, 1] < -90) | (bounds[:, 3] > 90)
        _refuse_rows(path, column, outside, "has coordinates outside ±180° longitude / ±90° latitude",
                     "write x as the longitude and y as the latitude in degrees, or "
                     + (f"give {POINTS_CRS_FIX}" if points_only else "pass the data's --crs"))
    return frame

# a point that comes back from lon/lat farther than this is outside its CRS: relative (at least 1 CRS
# unit), and within (AREA_MARGIN_DEG of) the CRS's area of use at least ROUND_TRIP_MIN_M metres, since pyproj
# may take another datum shift back than forth there (ED50, S-JTSK: 3-14 m); a point the CRS cannot hold
# comes back far off (EPSG:3857 at 10^12 m lands on the pole), or 15-500 m off for a UTM zone 78° away
ROUND_TRIP_TOLERANCE = 1e-6

ROUND_TRIP_MIN_M = 1000.0

AREA_MARGIN_DEG = 2.0

# most points (over AREA_WARN_SHARE) beyond AREA_WARN_MARGIN_DEG of the CRS's area of use: read in a wrong but
# plausible CRS, as UTM metres read as NC State Plane feet (EPSG:2264), which land 8° north of North Carolina
AREA_WARN_MARGIN_DEG = 5.0

AREA_WARN_SHARE = 0.5

def check_projected_range(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Projected coordinates the CRS cannot hold: a point inside each geometry is taken to lon/lat and
    back; where it does not come back (EPSG:3857 at 10^12 m lands on the pole) or is not finite, the rows
    are refused, naming the CRS and the area it is for. Lon/lat data are checked by their degrees. Points
    that fit the CRS but lie far outside its area of use are a warning (:func:`warn_outside_area`)."""
    if frame.crs is None or frame.empty:
        return
    require_crs(frame, path)
    if frame.crs.is_geographic:  # degrees of another datum are metres apart, not a misplacement
        return
    geoms = np.asarray(frame.geometry.array, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # coordinates not finite: refused by check_geometries
        points = shapely.point_on_surface(geoms[present])
    x, y = shapely.get_x(points), shapely.get_y(points)
    from pyproj import Transformer

    forward = Transformer.from_crs(frame.crs, LONLAT, always_xy=True)
    backward = Transformer.from_crs(LONLAT, frame.crs, always_xy=True)
    with np.errstate(invalid="ignore"):
        lon, lat = forward.transform(x, y, errcheck=False)
        x_back, y_back = backward.transform(lon, lat, errcheck=False)
        metres_per_unit = frame.crs.axis_info[0].unit_conversion_factor if frame.crs.axis_info else 1.0
        area = area_of_use(frame.crs)
        least = np.where(_within_area(area, lon, lat), ROUND_TRIP_MIN_M / (metres_per_unit or 1.0), 1.0)
        tolerance = np.maximum(least, ROUND_TRIP_TOLERANCE * np.maximum(np.abs(x), np.abs(y)))
        lost = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90)
                 & (np.abs(x_back - x) <= tolerance) & (np.abs(y_back - y) <= tolerance))
    if lost.any():
        bad = np.zeros(len(geoms), dtype=bool)
        bad[np.flatnonzero(present)[lost]] = True
        rows = (np.flatnonzero(bad) + 1).tolist()
        area = frame.crs.area_of_use  # the CRS's own, as it is named
        where = "" if area is None else (f" (it is for {area.name.rstrip('.')}: longitude {area.west:g} to "
                                         f"{area.east:g}, latitude {area.south:g} to {area.north:g})")
        raise InputError(
            f"{path}: rows {truncated(rows)} have coordinates outside what {frame.crs.to_string()} can hold{where}, "
            f"e.g. x {x[lost][0]:g}, y {y[lost][0]:g}; check the coordinates and the CRS (--crs for a table)"
        )
    warn_outside_area(frame.crs, area, lon, lat, path)

def warn_outside_area(crs, area, lon: np.ndarray, lat: np.ndarray, path: Path) -> None:
    """A wrong but plausible CRS passes the round trip (UTM metres read as NC State Plane feet land 800 km away
    and shrink the distances), so where most points lie beyond ``AREA_WARN_MARGIN_DEG`` of the CRS's area of
    use (``area``, :func:`area_of_use`), a warning names the file, the CRS and the fix; none for a CRS of the whole
    world or without an area."""
    known = np.isfinite(lon) & np.isfinite(lat)  # others are refused by name elsewhere
    if area is None or _of_the_world(area) or not known.any():
        return
    lon, lat = lon[known], lat[known]
    outside = ~_within_area(area, lon, lat, AREA_WARN_MARGIN_DEG)
    if outside.mean() <= AREA_WARN_SHARE:
        return
    authority = crs.to_authority(min_confidence=70)
    fix = ("give the CRS they are in with --crs (the [regions] key crs)" if is_table(path) else
           "set the CRS they are in in the file (or give it with --crs where the file has none)")
    logger.warning("%s: %d of %d points lie more than %g° outside the area of use of %s (%s: longitude %g to %g, "
                   "latitude %g to %g), e.g. at longitude %.2f, latitude %.2f: if the coordinates are in another CRS, "
                   "they are misplaced and the distances wrong; %s", path, outside.sum(), len(lon),
                   AREA_WARN_MARGIN_DEG, ":".join(authority) if authority else "the CRS", crs.name, area.west,
                   area.east, area.south, area.north, lon[outside][0], lat[outside][0], fix)

def _of_the_world(area) -> bool:
    """Whether an area of use is the whole world (EPSG:4326, 3857, Equal Earth): no point lies outside it."""
    return area.east - area.west >= 359 and area.south <= -80 and area.north >= 80

def area_of_use(crs):
    """The CRS's area of use, or that of the authority's CRS it matches where it has none itself (a shapefile's
    .prj); None where none is known."""
    area = crs.area_of_use
    if area is None:
        from pyproj import CRS

        try:
            authority = crs.to_authority(min_confidence=70)
            area = CRS.from_authority(*authority).area_of_use if authority else None
        except Exception:  # a CRS pyproj cannot match: no area
            area = None
    return area

def _within_area(area, lon: np.ndarray, lat: np.ndarray, margin: float = AREA_MARGIN_DEG) -> np.ndarray:
    """Whether each point lies within ``margin`` degrees of a CRS's area of use (:func:`area_of_use`; None:
    False, the round trip's strict tolerance); longitudes are measured eastwards from the area's west
    edge round the globe, as an area across the antimeridian has its west edge east of its east edge (and New
    Zealand's Chatham Islands at -176.5° lie 5° east of its 178.6°)."""
    if area is None:
        return np.zeros(len(lon), dtype=bool)
    width = 360.0 if area.east - area.west >= 360.0 else (area.east - area.west) % 360.0
    with np.errstate(invalid="ignore"):
        in_lat = (lat >= area.south - margin) & (lat <= area.north + margin)
        in_lon = (lon - (area.west - margin)) % 360.0 <= width + 2 * margin
        return in_lat & (in_lon | (width + 2 * margin >= 360.0))

def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip()

def _refuse_rows(path: Path, column: str, bad: np.ndarray, what: str, fix: str) -> None:
    if bad.any():
        rows = (np.flatnonzero(bad) + 1).tolist()
        raise InputError(f"{path}: column '{column}' {what} in rows {truncated(rows)}; {fix}")

def points_from_table(
    frame: pd.DataFrame,
    path: Path,
    lon: str | None = None,
    lat: str | None = None,
    crs: str | None = None,
    fix: str = REGION_FIX,
    points_only: bool = False,
) -> gpd.GeoDataFrame:
    """Point geometries from the coordinate columns of a table (``crs`` default EPSG:4326, lon/lat
    degrees; degrees must lie within [−180, 360] longitude and [−90, 90] latitude), or, where no
    coordinate columns are given or found, the geometries of a WKT column (:func:`geometry_from_wkt`;
    ``points_only`` for sites and suppliers)."""
    if not (lon or lat) and coordinate_pair(frame, path) is None and (wkt := wkt_column(frame)) is not None:
        return geometry_from_wkt(frame, wkt, path, crs, points_only)
    lon, lat = coordinate_columns(frame, path, lon, lat, fix, crs)
    xy = {}
    for column in (lon, lat):
        numeric = pd.to_numeric(frame[column], errors="coerce")
        bad = numeric.isna() | ~np.isfinite(numeric.fillna(0))
        if bad.any():
            rows = (np.flatnonzero(bad.to_numpy()) + 1).tolist()
            values = frame[column][bad].head(3).tolist()
            raise InputError(
                f"{path}: column '{column}' is not a number in rows {truncated(rows)} (values {values}); give "
                f"coordinates in every row{decimal_comma_hint(frame[column]) or degrees_hint(frame[column][bad])}"
                f"{totals_hint(frame, bad.to_numpy())}"
            )
        xy[column] = numeric.to_numpy(dtype=float)
    try:
        geometry = gpd.points_from_xy(xy[lon], xy[lat], crs=crs or LONLAT)
    except Exception as error:
        raise InputError(f"{path}: --crs '{crs}' is not a CRS pyproj knows ({error}); e.g. EPSG:3857") from None
    if geometry.crs.is_geographic:
        check_degrees(xy[lon], xy[lat], path, (lon, lat), fix)
    return gpd.GeoDataFrame(frame, geometry=geometry)

SWAPPED_MIN_SHARE = 0.1  # of the rows out of range in the latitude column before the columns look swapped

TOTAL_WORDS = re.compile(r"(grand )?(total|totals|sum|summe|gesamt|totaal|totale|somme)\b\W*", flags=re.IGNORECASE)

def totals_hint(frame: pd.DataFrame, bad: np.ndarray) -> str:
    """"; row 13 ('Total') looks like a totals row: remove it" where the first of the ``bad`` rows has a cell that
    says total (a spreadsheet's sum under the table had been called a row without coordinates), else ''."""
    row = int(np.flatnonzero(bad)[0])
    words = [str(cell).strip() for cell in frame.iloc[row] if isinstance(cell, str) and TOTAL_WORDS.fullmatch(
        str(cell).strip())]
    return f"; row {row + 1} ('{words[0]}') looks like a totals row: remove it" if words else ""

def check_degrees(lon: np.ndarray, lat: np.ndarray, path: Path, columns: tuple[str, str], fix: str) -> None:
    """Longitudes within [−180, 360] (0–360 data allowed) and latitudes within [−90, 90] degrees; the
    error says whether the columns look swapped (``SWAPPED_MIN_SHARE`` of the rows, and at least two,
    out of range, and every value in range the other way round) or projected (metres), naming the column and rows."""
    bad_lon, bad_lat = (lon < -180) | (lon > 360), np.abs(lat) > 90
    if not (bad_lon.any() or bad_lat.any()):
        return
    # one row at 91° is a typo, not swapped columns
    swapped_share = bad_lat.mean() >= SWAPPED_MIN_SHARE and bad_lat.sum() >= 2
    if bad_lat.any() and swapped_share and np.all(np.abs(lat) <= 180) and np.all(np.abs(lon) <= 90):
        rows = (np.flatnonzero(bad_lat) + 1).tolist()
        if fix == REGION_FIX:
            fix = f"pass --lon-column {columns[1]} --lat-column {columns[0]} (lon_column/lat_column in [regions])"
        raise InputError(
            f"{path}: rows {truncated(rows)} have coordinates outside ±180°/±90°: column '{columns[1]}' holds values "
            f"such as {lat[bad_lat][0]:g} and every value of '{columns[0]}' is within ±90, so the columns look "
            f"swapped (latitude in '{columns[0]}', longitude in '{columns[1]}'); swap them in the file or {fix}"
        )
    outside = bad_lon | bad_lat
    rows = (np.flatnonzero(outside) + 1).tolist()
    names = [f"'{c}'" for c, bad in zip(columns, (bad_lon, bad_lat), strict=True) if bad.any()]
    named = ("column " if len(names) == 1 else "columns ") + " and ".join(names)
    largest = max(np.abs(lon[bad_lon]).max(initial=0.0), np.abs(lat[bad_lat]).max(initial=0.0))
    if largest > PROJECTED_ABOVE:
        projected = "their CRS (--crs for a table)" if fix == REGION_FIX else POINTS_CRS_FIX
        raise InputError(
            f"{path}: rows {truncated(rows)} have coordinates outside ±180°/±90° in {named} (up to "
            f"{largest:g}); the data look projected (metres or feet): give lon/lat degrees or {projected}"
        )
    raise InputError(
        f"{path}: rows {truncated(rows)} have coordinates outside ±180°/±90° in {named} (e.g. "
        f"{(lat[bad_lat] if bad_lat.any() else lon[bad_lon])[0]:g}); give longitude in [−180, 180] and latitude in "
        "[−90, 90] degrees (WGS84)"
    )

def same_crs(own, given: str) -> bool:
    """Whether the file's ``own`` CRS is the one ``given`` (--crs EPSG:3035 on a GeoPackage in EPSG:3035 had been
    refused with "drop it")."""
    try:
        return own is not None and own.equals(given, ignore_axis_order=True)
    except Exception:  # noqa: BLE001 - not a CRS pyproj knows: refused as another CRS
        return False
