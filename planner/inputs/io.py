"""``read_*`` functions for the inputs (regions or demand points, candidate sites,
origin–destination matrix).

Regions may be any vector file geopandas reads (GeoPackage, GeoJSON, Shapefile, GeoParquet) with
polygons or points, or a table (CSV, TSV, Parquet without geometry) with coordinate columns.
Readers check that files exist and columns are there; the meaning of values is checked in
``planner.inputs.validate``. Every failure is an :class:`InputError` naming the file and the fix.
"""

from __future__ import annotations

import bz2
import csv
import datetime
import functools
import gzip
import io
import logging
import lzma
import os
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.errors import InputError, has_control_characters, refuse_special_file, truncated
from planner.formats.tokens import WIDE_SAMPLE, wide_encoding
from planner.inputs.geo import finite_coordinates, points_to_lonlat, require_crs

logger = logging.getLogger(__name__)

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}  # the first sheet, read by openpyxl
UNREAD_SPREADSHEETS = {".xls", ".ods", ".numbers"}  # refused with the fix: save as .xlsx or CSV
FIRST_SHEET = "planner_first_sheet"  # DataFrame.attrs key: the sheets of a workbook read by its first
REGIONS_SHEET = "planner_regions_sheet"  # DataFrame.attrs key: a table of regions, whose sheet --layer chooses
TABLE_SUFFIXES = {".csv", ".tsv", ".txt", *EXCEL_SUFFIXES}
PARQUET_SUFFIXES = {".parquet", ".geoparquet"}
COMPRESSED_SUFFIXES = {".gz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".tgz"}  # not read; a .zip is
# read as the vector file inside: a KMZ is a zip of its doc.kml, whose typed fields GDAL reads only from the .kml
ZIPPED_SUFFIXES = {".zip", ".kmz"}
ZIPPED_VECTOR_SUFFIXES = {".shp", ".gpkg", ".geojson", ".json", ".fgb", ".gml", ".kml"}  # found inside a .zip
# a column of WKT text (QGIS's "AS_WKT" export, PostGIS's ST_AsText) where the table has no coordinate pair
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "shape")
# coordinate column pairs found automatically in tables (case-insensitive), in this order
LON_NAMES, LAT_NAMES = ("lon", "longitude", "lng", "long"), ("lat", "latitude")  # degrees
# the pairs looked for, in this order: every longitude name with every latitude name, then x/y
COORDINATE_PAIRS = (*((lon, lat) for lon in LON_NAMES for lat in LAT_NAMES), ("x", "y"))
LONLAT = "EPSG:4326"
# columns read as text from a CSV (case-insensitive): ids such as ZIP or FIPS codes keep their leading zeros
ID_NAMES = ("region_id", "id", "geoid", "fid", "code", "site_id", "customer_id", "store_id", "name")
DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d*,\d+\s*$")  # '12,5': a number written with a decimal comma
# '1,129,410': grouped digits (also by a space, a no-break or thin space as in French, an apostrophe as in Swiss)
THOUSANDS = re.compile(r"^\s*[+-]?\d{1,3}([,' \u00a0\u202f\u2009\u2019]\d{3})+(\.\d+)?\s*$")
# '11°35′E', '48.14 N', "8 32' W": degrees with a sign, minutes or a hemisphere letter
DEGREES_WRITTEN = re.compile(r"[°º'′\"″]|^\s*[+-]?\d+(?:\.\d+)?\s*[NSEWnsew]\s*$")
DOT_THOUSANDS = re.compile(r"^\s*[+-]?\d{1,3}(\.\d{3}){2,}(,\d+)?\s*$")  # '1.640.072': grouped by dots
PROJECTED_ABOVE = 1000.0  # |coordinate| above this in a lon/lat column: metres, not degrees
REGION_FIX = "name them with --lon-column and --lat-column"
SITES_FIX = "name them lon and lat (degrees, WGS84)"
# a sites or suppliers table has no --crs (the regions' is theirs alone): how to say the CRS of projected points
POINTS_CRS_FIX = ("their CRS, in a geometry column of e.g. 'SRID=3857;POINT (x y)' or a vector file (GeoPackage) "
                  "that holds it (a sites or suppliers table takes no --crs)")
TRUE_WORDS = {"1", "true", "yes", "y", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "f", ""}


def _check_file(path: Path, what: str, option: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: {what} file not found; pass an existing file to {option}")
    refuse_special_file(path, f"the {what} file", option)  # /dev/zero filled the memory, a FIFO hung
    if path.suffix.lower() in UNREAD_SPREADSHEETS:
        raise InputError(f"{path}: {path.suffix} spreadsheets are not read; save the sheet as .xlsx or CSV and pass "
                         f"that to {option}")
    if path.is_dir() and path.suffix.lower() not in {".gdb", ".parquet"}:
        raise InputError(f"{path}: is a folder, not {'an' if what[:1].lower() in 'aeio' else 'a'} {what} file; "
                         f"pass a file to {option}{_files_in(path)}")
    if not os.access(path, os.R_OK):  # not a format problem: 'give a CSV, Excel or Parquet file' had been the fix
        raise InputError(f"{path}: the {what} file is not readable (permission denied); give this user read access "
                         f"or pass another file to {option}")
    if path.is_file() and path.stat().st_size == 0:  # pandas had said "No columns to parse from file"
        raise InputError(f"{path}: the {what} file is empty (0 bytes); pass a file that holds the data to {option}")
    return path


def _files_in(folder: Path) -> str:
    """": the vector file in it is cb/a.shp" (or the files, up to 4) for a folder passed as a data file, else ''."""
    try:
        inside = sorted(p for p in folder.iterdir() if p.suffix.lower() in ZIPPED_VECTOR_SUFFIXES | TABLE_SUFFIXES
                        and p.suffix.lower() not in {".txt", ".json"} and p.is_file())
    except OSError:
        return ""
    if not inside:
        return ""
    if len(inside) == 1:
        return f": the {'table' if is_table(inside[0]) else 'vector file'} in it is {inside[0]}"
    return f": the files in it are {truncated([str(p) for p in inside], 4)}"


def list_layers(path: Path) -> list[tuple[str, bool]]:
    """The layer names of a vector file (one for single-layer formats), each with whether it has geometry (a
    GeoPackage holds tables without any too, such as the layer_styles QGIS saves a layer's style in)."""
    import pyogrio

    try:
        return [(str(name), kind is not None) for name, kind in pyogrio.list_layers(path)]
    except Exception:  # not a multi-layer container, or unreadable: read_vector reports it
        return []


def chosen_layer(path: Path, layers: list[tuple[str, bool]], layer: str | None) -> str | None:
    """``layer`` checked against the file's ``layers``; without it, the one layer with geometry where the others
    are tables without any (a GeoPackage whose layer style QGIS saved in it had been refused as one of 2 layers),
    else an error listing the layers with geometry; a table without geometry chosen is an error naming them."""
    names = [name for name, _ in layers]
    spatial = [name for name, has_geometry in layers if has_geometry] or names
    if layer is not None:
        if layers and layer not in names:
            raise InputError(f"{path}: has no layer '{layer}'; its layers: {truncated(names, 8)} (--layer, or the "
                             "[regions] key layer)")
        if layer not in spatial:
            raise InputError(f"{path}: layer '{layer}' is a table without geometry; choose a layer with geometry: "
                             f"{truncated(spatial, 8)} (--layer, or the [regions] key layer)")
        return layer
    if len(spatial) > 1:
        raise InputError(f"{path}: has {len(spatial)} layers ({truncated(spatial, 8)}); choose one with --layer")
    return spatial[0] if len(names) > 1 else None


def read_vector(path: Path, layer: str | None, what: str, option: str) -> gpd.GeoDataFrame:
    """Any vector file geopandas reads (GeoPackage, GeoJSON, Shapefile; GeoParquet by suffix).

    Without ``layer``, a file with several layers is an error listing them."""
    path = _check_file(path, what, option)
    source = _zipped_vector(path) if path.suffix.lower() in ZIPPED_SUFFIXES else path
    if path.suffix.lower() not in PARQUET_SUFFIXES:
        layer = chosen_layer(path, list_layers(source), layer)
    elif layer is not None:  # read_parquet has no layers: the layer had been passed over silently
        raise InputError(f"{path}: a GeoParquet file has no layers, so layer '{layer}' cannot be chosen; drop --layer "
                         "(or the [regions] key layer), which is for multi-layer files such as GeoPackage")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # reported as InputError below, never as a raw warning
            warnings.simplefilter("ignore", RuntimeWarning)  # NaN coordinates: refused by name in check_geometries
            if path.suffix.lower() in PARQUET_SUFFIXES:
                frame = gpd.read_parquet(path)
            else:
                frame = _with_geojson_ids(source, layer, _read_vector_text(source, layer))
    except UnicodeDecodeError as error:  # had been "cannot read as a vector file (...); check the format and layer"
        raise InputError(_not_its_encoding(path, source, error)) from None
    except Exception as error:  # the readers raise many types; all mean "cannot read"
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        reason = reason.split(" It might help to specify")[0].rstrip(".;")
        if path.suffix.lower() in COMPRESSED_SUFFIXES:  # 'regions.csv.gz': GDAL's own words named no way out
            raise InputError(f"{path}: is compressed ({path.suffix}), which is read only as a .zip; decompress it "
                             f"and pass the file inside ({path.stem})") from None
        if path.suffix.lower() == ".toml":  # a model file where data was expected
            raise InputError(f"{path}: is a model file (TOML), not {what} data; pass it with --model and the data "
                             f"file to {option}") from None
        check_shapefile_parts(path)  # a part missing: named with the fix
        if isinstance(error, shapely.errors.GEOSException):  # "check the format and layer" did not name the row
            raise InputError(_unreadable_geometries(path, source, layer, reason)) from None
        raise InputError(f"{path}: cannot read as a vector file ({reason}); check the format and layer") from None
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(f"{path}: has no geometry column; give a vector file (GeoPackage, GeoJSON, Shapefile)")
    check_shapefile_parts(path)
    return _header_stripped(frame)  # ' GEOID' had been "column 'GEOID' not found; available:  GEOID", as tables'


def _unreadable_geometries(path: Path, source: Path | str, layer: str | None, reason: str) -> str:
    """The message for a file whose geometries GEOS refuses to build (a polygon ring not closed, or of fewer
    than 4 points, in a GeoJSON file), naming the rows where they can be read again as WKB."""
    try:
        import pyogrio.raw

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "Non closed ring detected"
            wkb = pyogrio.raw.read(source, layer=layer, read_geometry=True)[2]
        built = shapely.from_wkb(wkb, on_invalid="ignore")
        rows = [row + 1 for row, (raw, geom) in enumerate(zip(wkb, built, strict=True)) if raw is not None
                and geom is None]
    except Exception:  # noqa: BLE001 - the rows are a help; the fault is named without them
        rows = []
    where = f"rows {truncated(rows)} have" if rows else "some rows have"
    return (f"{path}: {where} geometries that cannot be built, such as a polygon ring not closed (its last point not "
            f"its first) or of fewer than 4 points ({reason}); fix them in the file (QGIS: Fix geometries), or give a "
            "point for each")


GEOJSON_SUFFIXES = {".geojson", ".json"}


def _with_geojson_ids(source: Path | str, layer: str | None, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A GeoJSON's features' own numeric ids (``"id": 37001`` beside ``"properties"``) as a first column 'id'
    (text), where the file has no column of that name: GDAL keeps them as feature ids, not a column (string
    ids it makes a column 'id'), and the regions had been numbered by row instead. Features without ids
    GDAL numbers 0, 1, ..., which are no ids."""
    if Path(str(source)).suffix.lower() not in GEOJSON_SUFFIXES or any(str(c).lower() == "id" for c in frame.columns):
        return frame
    import pyogrio

    ids = pyogrio.read_dataframe(source, layer=layer, columns=[], read_geometry=False, fid_as_index=True).index
    if len(ids) != len(frame) or ids.equals(pd.RangeIndex(len(frame))):
        return frame
    frame.insert(0, "id", ids.astype(str).to_numpy())
    return frame


def _not_its_encoding(path: Path, source: Path | str, error: UnicodeDecodeError) -> str:
    """The error for a vector file whose text is not in the encoding it is read in: a Shapefile's .cpg naming UTF-8
    for a .dbf saved in another code page, or a GeoJSON not in UTF-8."""
    where = f"{error.reason}: byte 0x{error.object[error.start]:02x}"
    if str(source).lower().endswith(".shp"):
        cpg = Path(str(source)).with_suffix(".cpg").name
        return (f"{path}: its text is not {error.encoding.upper()}, the code page its {cpg} names ({where}); write "
                f"the code page the .dbf was saved in into {cpg} (e.g. 1252 for Western European text)")
    return f"{path}: its text is not {error.encoding.upper()} ({where}); save it as UTF-8"


def _read_vector_text(source: Path | str, layer: str | None) -> gpd.GeoDataFrame:
    """``gpd.read_file``; a Shapefile whose .dbf names no code page (no .cpg beside it, no language byte) is
    read as UTF-8 where its text is UTF-8: GDAL reads it as Latin-1 then, and 'München' came out as
    'MÃ¼nchen' in every output."""
    if _dbf_without_code_page(source):
        try:
            return gpd.read_file(source, layer=layer, encoding="utf-8")
        except Exception:  # noqa: BLE001 - not UTF-8 after all: as GDAL reads it
            pass
    return gpd.read_file(source, layer=layer)


DBF_LANGUAGE_BYTE = 29  # the .dbf header's language driver id; 0: no code page named


def _dbf_without_code_page(source: Path | str) -> bool:
    """Whether ``source`` is a Shapefile (on disk, or in a zip as ``/vsizip/ZIP/NAME.shp``) whose .dbf names no
    code page: no .cpg beside it and language byte 0."""
    zipped = re.fullmatch(r"/vsizip/(.+?\.zip)/(.+)\.shp", str(source), flags=re.IGNORECASE)
    if zipped is not None:
        return _zipped_dbf_without_code_page(Path(zipped[1]), zipped[2])
    path = Path(source)
    if isinstance(source, str) or path.suffix.lower() != ".shp":
        return False
    if any(path.with_suffix(suffix).is_file() for suffix in (".cpg", ".CPG", ".Cpg")):
        return False
    dbf = next((path.with_suffix(s) for s in (".dbf", ".DBF", ".Dbf") if path.with_suffix(s).is_file()), None)
    try:
        with open(dbf, "rb") as handle:  # type: ignore[arg-type]
            return _no_code_page(handle.read(DBF_LANGUAGE_BYTE + 1))
    except (OSError, TypeError):
        return False


def _zipped_dbf_without_code_page(archive: Path, stem: str) -> bool:
    """:func:`_dbf_without_code_page` for the Shapefile ``stem`` inside the zip ``archive``."""
    try:
        with zipfile.ZipFile(archive) as opened:
            names = {name.lower(): name for name in opened.namelist()}
            if f"{stem}.cpg".lower() in names or f"{stem}.dbf".lower() not in names:
                return False
            with opened.open(names[f"{stem}.dbf".lower()]) as handle:
                return _no_code_page(handle.read(DBF_LANGUAGE_BYTE + 1))
    except (OSError, zipfile.BadZipFile, KeyError):
        return False


def _no_code_page(header: bytes) -> bool:
    return len(header) > DBF_LANGUAGE_BYTE and header[DBF_LANGUAGE_BYTE] == 0


def _zipped_vector(path: Path) -> Path | str:
    """What to read of a .zip: the one vector file at its top (``/vsizip/…/regions.geojson``), else the one in
    its folders (``/vsizip/…/shp/regions.shp``: a zipped folder, which GDAL does not search); several at its
    top are left to GDAL as before, several only in folders are an error naming them. macOS's resource
    copies (``__MACOSX/``, ``._regions.shp``) are not vector files."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return path  # the reader says it cannot read it
    vectors = [name for name in names if Path(name).suffix.lower() in ZIPPED_VECTOR_SUFFIXES
               and not name.startswith("__MACOSX/") and not Path(name).name.startswith("._")]
    top = [name for name in vectors if "/" not in name]
    chosen = top if top else vectors
    if len(top) > 1 or not chosen:
        return path
    if len(chosen) > 1:
        raise InputError(f"{path}: holds {len(chosen)} vector files in its folders ({truncated(chosen, 6)}); unzip "
                         "it and pass the one to read")
    return f"/vsizip/{path.resolve()}/{chosen[0]}"


DBF_NAME_LENGTH = 10  # a Shapefile's .dbf keeps the first 10 characters of a column name


def with_dbf_names(frame: gpd.GeoDataFrame, path: Path, names: Iterable[str]) -> gpd.GeoDataFrame:
    """``frame`` read from a Shapefile (``.shp``, or a ``.zip`` of one) with the columns its .dbf cut to 10
    characters ('facility_t', 'supplier_i') named as the ``names`` they begin, where the file has no column of
    that name, with a warning: the full name cannot be written in a Shapefile, and 'facility_t' had been passed
    over silently (every site taking every facility type)."""
    source = _zipped_vector(path) if path.suffix.lower() == ".zip" else path
    if not str(source).lower().endswith(".shp"):
        return frame
    renamed = {name[:DBF_NAME_LENGTH]: name for name in names
               if len(name) > DBF_NAME_LENGTH and name not in frame.columns and name[:DBF_NAME_LENGTH] in frame.columns}
    if renamed:
        logger.warning("%s: the Shapefile's columns %s are read as %s (a .dbf cuts names to %d characters)", path,
                       ", ".join(f"'{cut}'" for cut in renamed), ", ".join(f"'{full}'" for full in renamed.values()),
                       DBF_NAME_LENGTH)
    return frame.rename(columns=renamed)


def check_shapefile_parts(path: Path) -> None:
    """A Shapefile keeps its columns in the .dbf beside it: without one it reads as geometry alone, so
    say that rather than "no demand column"; and the index of its shapes in the .shx, without which GDAL's
    error had named a GDAL setting ("Set SHAPE_RESTORE_SHX config option to YES") the planner does not take."""
    if path.suffix.lower() != ".shp":
        return
    if not any(path.with_suffix(suffix).is_file() for suffix in (".shx", ".SHX", ".Shx")):
        raise InputError(f"{path}: the Shapefile has no {path.with_suffix('.shx').name} beside it, which indexes its "
                         "shapes; copy the .shx with the .shp")
    if not any(path.with_suffix(suffix).is_file() for suffix in (".dbf", ".DBF", ".Dbf")):
        raise InputError(f"{path}: the Shapefile has no {path.with_suffix('.dbf').name} beside it, which holds its "
                         "columns (ids, demand); copy the .dbf with the .shp")


def is_table(path: Path) -> bool:
    """A CSV/TSV file, or a Parquet file without GeoParquet geometry metadata."""
    suffix = Path(path).suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return True
    if suffix in PARQUET_SUFFIXES and Path(path).is_file():
        import pyarrow.parquet as pq

        try:
            return b"geo" not in (pq.read_schema(path).metadata or {})
        except Exception:
            return False
    return False


SEPARATORS = ",;\t| "  # the separators a table may use, sniffed from its first lines in this order of preference
SNIFF_BYTES = 64 * 1024


# the compressions pandas reads a table in by its suffix, each opened so for the sniffing of its separator and encoding
DECOMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def open_bytes(path: Path):
    """The bytes of ``path`` as pandas reads them: decompressed where its suffix is one of ``DECOMPRESSED``, or the
    one file of a .zip (the separator and encoding of an OD matrix 'od.csv.gz' had been sniffed from its compressed
    bytes, and its semicolons then read as one column 'from;to;distance_km')."""
    if Path(path).suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                names = [name for name in archive.namelist() if not name.endswith("/")]
                if len(names) == 1:  # pandas reads that one; it stays open after the archive's close
                    return archive.open(names[0])
        except zipfile.BadZipFile:
            pass  # the reader says what is wrong
    return DECOMPRESSED.get(Path(path).suffix.lower(), open)(path, "rb")


def open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    """``path`` as text in ``encoding`` (:func:`open_bytes`; bytes not in it replaced, line ends kept)."""
    return io.TextIOWrapper(open_bytes(path), encoding=encoding, errors="replace", newline="")


def table_suffix(path: Path) -> str:
    """The suffix of a table's format, inside its compression: '.tsv' for 'od.tsv.gz'."""
    path = Path(path)
    return Path(path.stem).suffix.lower() if path.suffix.lower() in {*DECOMPRESSED, ".zip"} else path.suffix.lower()


def text_encoding(path: Path) -> str:
    """The encoding a text table is read in: UTF-16 or UTF-32 where its first bytes say so (a byte-order mark,
    or the NUL bytes of ASCII text in those encodings: ``planner.formats.tokens.wide_encoding``, as for the
    benchmark files; Excel's "Unicode Text" is tab-separated UTF-16 and was refused as "not UTF-8"), else
    UTF-8 (a byte-order mark allowed)."""
    try:
        with open_bytes(path) as file:
            start = file.read(WIDE_SAMPLE)
    except OSError:
        return "utf-8-sig"
    return wide_encoding(start) or "utf-8-sig"


def csv_dialect(path: Path) -> dict:
    """``pd.read_csv`` options of every table the planner reads: tab for .tsv, else the separator sniffed
    among ``SEPARATORS`` (a comma where none fits: a table of one column, whose header must not be split
    on one of its own letters), UTF-8 (a byte-order mark allowed) or, after their byte-order mark, UTF-16
    and UTF-32 (:func:`text_encoding`). pandas' C reader (a one-character separator is all it needs; 9×
    faster than the Python reader on a 4-million-row OD matrix; pandas ≥ 3 parses numbers exactly as
    Python does)."""
    path = Path(path)
    try:
        state = path.stat()
    except OSError:
        return _dialect(path)  # the reader says what is wrong
    if state.st_size < DIALECT_CACHE_MIN_BYTES:  # cheap to probe again; a small file rewritten within the
        return _dialect(path)  # clock's tick at the same size would otherwise keep its old dialect
    return dict(_dialect_of_version(path, state.st_size, state.st_mtime_ns, state.st_ino))  # a copy to add to


DIALECT_CACHE_MIN_BYTES = 1_000_000


@functools.lru_cache(maxsize=16)
def _dialect_of_version(path: Path, size: int, mtime_ns: int, inode: int) -> tuple:
    """:func:`_dialect` once per version of a file: a table is read by several steps (the reader, the header
    checks, the warnings), and the check of a separator left at the end of every row reads a whole column
    (0.3 s on a 2-million-row OD matrix)."""
    return tuple(_dialect(path).items())


def _dialect(path: Path) -> dict:
    options = {"sep": "\t" if table_suffix(path) == ".tsv" else sniffed_separator(path), "engine": "c",
               "encoding": text_encoding(path)}
    hinted = _excel_separator_line(path)
    if hinted is not None:  # Excel's "sep=;" line: the separator, then the header
        options |= {"sep": hinted, "skiprows": 1}
    return options | _extra_field_options(path, options)


def _excel_separator_line(path: Path) -> str | None:
    """The separator a first line ``sep=;`` names (Excel writes and reads one), else None."""
    try:
        with open_text(path, text_encoding(path)) as file:
            first = file.readline(16).rstrip("\r\n")
    except OSError:
        return None
    match = re.fullmatch(r"sep=(.)", first)
    return match.group(1) if match else None


EXTRA_FIELD_PROBE_ROWS = 50


def _extra_field_options(path: Path, options: dict) -> dict:
    """Where the data rows have one field more than the header, pandas takes the first column for an index
    and shifts every column by one (ids read as names, '12,345' as 345): an empty last field in each row (a
    separator left at the end of the line) is left out (``usecols``); anything else is refused, naming
    the first such line."""
    try:
        probe = pd.read_csv(path, nrows=EXTRA_FIELD_PROBE_ROWS, dtype=str, keep_default_na=False, **options)
    except (ValueError, OSError, UnicodeDecodeError, csv.Error):
        return {}  # the reader itself says what is wrong
    if isinstance(probe.index, pd.RangeIndex) or not len(probe.columns):
        return {}
    width = len(probe.columns)
    if probe.index.nlevels > 1:  # several fields more than the header: pandas made them a MultiIndex
        _refuse_a_short_header(path, options, width, width + probe.index.nlevels)
    if (probe.iloc[:, -1].str.strip() == "").all():
        _refuse_a_later_extra_field(path, options, width)
        return {"usecols": range(width)}  # the header's fields (index_col=False warned on every read)
    skipped = options.get("skiprows", 0)
    with open_text(path, options["encoding"]) as file:
        for _ in range(1 + skipped):
            file.readline()
        line = file.readline().rstrip("\r\n")
    cause = ("a number written with a thousands separator (12,345) or a separator too many? write numbers "
             "without separators (or quote them)")
    if list(probe.index.astype(str)) == [str(n) for n in range(1, len(probe) + 1)]:  # R's write.table, maybe
        cause += "; row names before each row (R's write.table)? write them with row.names = FALSE"
    raise InputError(f"{path}: the rows have {width + 1} fields and the header {width} (line {2 + skipped}: "
                     f"{line[:80]!r}); {cause}, and give every row as many fields as the header")


def _refuse_a_short_header(path: Path, options: dict, width: int, fields: int) -> None:
    """The data rows have several fields more than the header: a title or comment line above it ('# exported
    2024') was taken for the header (the reader had failed with pandas' own words on a MultiIndex)."""
    skipped = options.get("skiprows", 0)
    with open_text(path, options["encoding"]) as file:
        for _ in range(skipped):
            file.readline()
        line = file.readline().rstrip("\r\n")
    raise InputError(f"{path}: the rows have {fields} fields and the header {width} (line {1 + skipped}: "
                     f"{line[:80]!r}); a title or comment line above the header? remove it, so that the file "
                     "starts with the header, and give every row as many fields as the header")


def _refuse_a_later_extra_field(path: Path, options: dict, width: int) -> None:
    """Every row ends in a separator (an empty field after the header's): refuse where one further down holds a
    value there (the first rows alone had been looked at, and '12,345' in row 61 was read as 12)."""
    skipped = options.get("skiprows", 0)
    extra = pd.read_csv(path, **(options | {"header": None, "skiprows": 1 + skipped, "usecols": [width],
                                            "dtype": str, "keep_default_na": False}))
    filled = np.flatnonzero(extra.iloc[:, 0].fillna("").str.strip().to_numpy() != "")
    if len(filled):
        raise InputError(f"{path}: data row {int(filled[0]) + 1:,} has more fields than the header's {width} "
                         f"(its value {extra.iloc[filled[0], 0]!r} after them); a number written with a thousands "
                         "separator (12,345) or a separator too many? write numbers without separators (or quote "
                         "them)")


def sniffed_separator(path: Path) -> str:
    """The separator of the CSV at ``path`` among ``SEPARATORS``: the first that splits the header and every
    line of the sample into as many cells (quotes respected; the data rows may have one more, an empty field
    after a separator left at their end), else the one ``csv.Sniffer`` guesses, else ','.
    The sniffer alone took a space for the separator of a comma table whose quoted cells have spaces
    around them (``" A ",8,48``)."""
    try:
        with open_text(path, text_encoding(path)) as file:
            sample = file.read(SNIFF_BYTES)
        if len(sample) == SNIFF_BYTES and "\n" in sample:
            sample = sample[: sample.rindex("\n")]  # whole lines only
        for separator in SEPARATORS.strip():
            header, *rows = [len(row) for row in csv.reader(io.StringIO(sample), delimiter=separator) if row] or [0]
            widths = set(rows) or {header}
            # the data rows may end in a separator the header lacks (see _extra_field_options)
            if len(widths) == 1 and header > 1 and widths.pop() in (header, header + 1):
                return separator
        return csv.Sniffer().sniff(sample, delimiters=SEPARATORS).delimiter
    except (OSError, csv.Error):
        return ","


def _header_stripped(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with spaces around its column names removed (a header written ``id, units`` names
    ``units``; a vector file's field ' GEOID' names 'GEOID'), unless two names would then be the same."""
    names = [str(column).strip() if isinstance(column, str) else column for column in table.columns]
    if names != list(table.columns) and len(set(names)) == len(names):
        table.columns = names
    return table


def read_table(path: Path, what: str, option: str, text_columns: Iterable[str] = (), codes: bool = False,
               sheet: str | None = None) -> pd.DataFrame:
    """A CSV (comma, semicolon or tab, sniffed; tab for .tsv), or a Parquet file, as a plain table.

    CSV columns named in ``text_columns`` (case-insensitive) are read as text, so ids such as ZIP or
    FIPS codes keep their leading zeros ('02134' stays '02134', '7' stays '7'); with ``codes``, so is
    any other column of whole numbers written with a leading zero in some row (:func:`zero_padded`:
    a FIPS column named 'fips'). Only empty cells are missing: a word such as 'n/a' is kept as
    written, so the checks can quote it."""
    path = _check_file(path, what, option)
    try:
        table = _read_table_file(path, text_columns, codes, sheet)
    except InputError:
        raise
    except UnicodeDecodeError as error:
        encoding = text_encoding(path)
        if encoding != "utf-8-sig":  # its byte-order mark said so, but the rest is not
            raise InputError(f"{path}: not {encoding.upper()} text, as its first bytes say ({error.reason}); "
                             "save it as UTF-8") from None
        raise InputError(f"{path}: not UTF-8 text ({_where_not_utf8(path, error)}); save it as UTF-8") from None
    except pd.errors.EmptyDataError:  # spaces and blank lines only: "No columns to parse from file"
        raise InputError(f"{path}: holds no header and no rows (only blank lines or spaces); pass the file that holds "
                         f"the data to {option}") from None
    except pd.errors.ParserError as error:  # pandas' tokenizer: a row's field count, a quote never closed
        raise InputError(f"{path}: {parser_fault(str(error))}") from None
    except Exception as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        if path.suffix.lower() in EXCEL_SUFFIXES and "engine manually" in reason:  # pandas cannot tell what it is
            raise InputError(f"{path}: is not an Excel workbook, whatever its name says; save it from the "
                             "spreadsheet as .xlsx, or as CSV") from None
        raise InputError(f"{path}: cannot read as a table ({reason}); give a CSV, Excel or Parquet file") from None
    _refuse_control_characters_in_header(path, table)
    return table


def _read_table_file(path: Path, text_columns: Iterable[str], codes: bool, sheet: str | None) -> pd.DataFrame:
    """The table of :func:`read_table`, its faults raised as the libraries raise them."""
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return pd.read_parquet(path)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return _refuse_a_title_row(path, _read_excel(path, text_columns, codes, sheet))
    options = csv_dialect(path) | {"keep_default_na": False, "na_values": [""]}
    refuse_repeated_columns(path, pd.read_csv(path, nrows=1, header=None, dtype=str, **options))
    wanted = {str(column).lower() for column in text_columns if column}
    header = pd.read_csv(path, nrows=0, **options).columns if wanted else []
    dtype = {column: str for column in header if str(column).strip().lower() in wanted}
    table = _without_empty_rows(path, pd.read_csv(path, dtype=dtype or None, **options))
    table = _refuse_a_title_row(path, table)
    return _header_stripped(_with_codes_as_text(path, table, options) if codes else table)


FIELD_COUNT = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
OPEN_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


def parser_fault(message: str) -> str:
    """pandas' tokenizer error as what is wrong in the file and the fix (it had ended in "give a CSV, Excel or
    Parquet file", for a CSV file with one field too many in a row)."""
    if (found := FIELD_COUNT.search(message)) is not None:
        expected, line, saw = found.groups()
        return (f"line {line} has {saw} fields and the header {expected}; a number written with a thousands "
                "separator (12,345) or a separator too many? write numbers without separators (or quote them), "
                "and give every row as many fields as the header")
    if (found := OPEN_QUOTE.search(message)) is not None:
        return (f"a quote (\") opened in line {int(found.group(1)) + 1:,} is never closed (a file cut short?); "
                "close the quote, or give the whole file")
    return f"cannot read as a table ({message.splitlines()[0] if message else 'no reason given'}); save it as CSV again"


def _refuse_control_characters_in_header(path: Path, table: pd.DataFrame) -> None:
    """A column name holding a control character (a NUL byte of a damaged file: 'cost_mult\\x00iplier') is
    refused: it matched no column the planner reads, so the column was silently left out."""
    for column in table.columns:
        if isinstance(column, str) and has_control_characters(column):
            raise InputError(f"{path}: the header's column {ascii(column)} holds a control character (a damaged file "
                             "or not text?); write the column's name in plain text")


BLANK_HEADER = re.compile(r"Unnamed: \d+")  # pandas' name for a column whose header cell is blank


HEADER_PROBE_ROWS = 5  # the rows under a header looked at for the real header below it


def _refuse_a_title_row(path: Path, table: pd.DataFrame) -> pd.DataFrame:
    """``table``, unless its header has blank cells and is a title or group labels above the real header: one
    filled cell beside blank ones (a spreadsheet's merged title row, 'North Carolina counties,,,'), or a row of
    the first few below it is all words, none a number ('id,name,lon,lat' under 'Identity,,Location,'). It had
    been read as the column names, the error then listing 'Unnamed: 1', 'Unnamed: 2' as the file's columns."""
    names = [str(column) for column in table.columns]
    named = [name for name in names if not BLANK_HEADER.fullmatch(name)]
    if len(names) < 2 or len(named) == len(names) or (not named and table.empty):
        return table
    probe = table.head(HEADER_PROBE_ROWS).astype(str).apply(lambda column: column.str.strip())
    filled = table.head(HEADER_PROBE_ROWS).notna() & (probe != "")
    words = filled & probe.apply(lambda column: pd.to_numeric(column, errors="coerce").isna())
    if not named:  # a table below blank rows (and right of blank columns): its header is the first row of words
        rows = np.flatnonzero(((words == filled).all(axis=1) & (filled.sum(axis=1) > 1)).to_numpy())
        if not len(rows):
            return table
        header = truncated(probe.iloc[rows[0]][filled.iloc[rows[0]]].tolist(), 6)
        raise InputError(f"{path}: the first row is blank, which is read as the header (the header looks like row "
                         f"{int(rows[0]) + 2}: {header}); remove the blank rows and columns above and left of the "
                         "table, so that the file starts with its header in the first column")
    rows = np.flatnonzero(words.all(axis=1).to_numpy())
    if len(named) > 1 and not len(rows):
        return table
    header = (f" (the header looks like row {int(rows[0]) + 2}: {truncated(probe.iloc[rows[0]].tolist(), 4)})"
              if len(rows) else "")
    raise InputError(f"{path}: the first row holds only {truncated([repr(name) for name in named], 4)} beside blank "
                     f"cells, which is read as the header{header}; a title or group labels above the header? remove "
                     "the rows above the header, so that the file starts with it")


def _where_not_utf8(path: Path, error: UnicodeDecodeError) -> str:
    """The reason and the line of the file's first byte that is not UTF-8 (pandas' offset counts from the
    chunk it read: "at byte 47050" named plain text in line 1,026 of a 2 MB file whose bad byte was in line
    45,002)."""
    try:
        with open_bytes(path) as file:
            data = file.read()
        data.decode("utf-8")
    except UnicodeDecodeError as whole:
        line = data.count(b"\n", 0, whole.start) + 1
        return f"{whole.reason} in line {line:,}, byte {whole.start:,}"
    except OSError:
        pass
    return error.reason


def _without_empty_rows(path: Path, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` without the empty rows (every cell blank) it ends with, as a spreadsheet's export ends
    with ``,,,`` rows; logged. An empty row between filled ones stays, and the checks name it: the
    errors number rows by their place in the table, which leaving out only the last rows keeps right."""
    filled = np.flatnonzero(~table.isna().all(axis=1).to_numpy())
    last = int(filled[-1]) + 1 if len(filled) else 0
    if last == len(table):
        return table
    logger.info("%s: the %d empty rows (every cell blank) it ends with are left out", path, len(table) - last)
    return table.iloc[:last]


def zero_padded(values: pd.Series) -> bool:
    """Text of digits only with a leading zero in some row ('01001', '02134'): codes such as FIPS, ZIP
    or INSEE codes, which are ids, never numbers."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    text = values.dropna().astype(str).str.strip()
    return len(text) > 0 and bool(text.str.fullmatch(r"\d+").all()) and bool(text.str.fullmatch(r"0\d+").any())


def _with_codes_as_text(path: Path, table: pd.DataFrame, options: dict) -> pd.DataFrame:
    """``table`` with its columns of whole numbers that :func:`zero_padded` calls codes in the file read
    again as text: pandas had read '01001' as 1001 (or 1001.0, beside an empty row)."""
    integers = _whole_number_columns(table)
    if not integers:
        return table
    raw = pd.read_csv(path, **(options | {"dtype": str, "usecols": integers, "index_col": False}))
    return _with_codes_from(table, raw.loc[table.index])


def _whole_number_columns(table: pd.DataFrame) -> list:
    return [column for column in table.columns if pd.api.types.is_integer_dtype(table[column])
            or (pd.api.types.is_float_dtype(table[column]) and _whole(table[column].to_numpy()))]


def _with_codes_from(table: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """``table`` with each whole-number column whose text in ``raw`` (the same rows read as text)
    :func:`zero_padded` calls codes replaced by that text."""
    for column in _whole_number_columns(table):
        if column in raw and zero_padded(raw[column]):
            table[column] = raw[column].str.strip()
    return table


def _whole(values: np.ndarray) -> bool:
    """Whether the finite ``values`` (at least one) are whole numbers."""
    known = values[np.isfinite(values)]
    return len(known) > 0 and bool((known == np.round(known)).all())


def _read_excel(path: Path, text_columns: Iterable[str], codes: bool = False, sheet: str | None = None
                ) -> pd.DataFrame:
    """The first sheet of an Excel workbook (or the one named ``sheet``) as a table, as :func:`read_table` reads a
    CSV: the header checked for repeated names, ``text_columns`` as text, only empty cells missing; with ``codes``,
    columns pandas read as whole numbers from text cells with leading zeros ('007' stored as text) kept as that
    text. The sheet names of a workbook of several read by its first are kept in ``attrs[FIRST_SHEET]``."""
    with pd.ExcelFile(path) as workbook:
        sheets = [str(name) for name in workbook.sheet_names]
    if sheet is not None and sheet not in sheets:
        raise InputError(f"{path}: has no sheet '{sheet}'; its sheets: {quoted_names(sheets)} (--layer, or the "
                         "[regions] key layer)")
    name = 0 if sheet is None else sheet
    refuse_repeated_columns(path, pd.read_excel(path, sheet_name=name, header=None, nrows=1, dtype=str))
    wanted = {str(column).lower() for column in text_columns if column}
    header = pd.read_excel(path, sheet_name=name, nrows=0).columns if wanted else []
    dtype = {column: str for column in header if str(column).strip().lower() in wanted}
    table = _without_empty_rows(path, pd.read_excel(path, sheet_name=name, dtype=dtype or None,
                                                    keep_default_na=False, na_values=[""]))
    if table.isna().any().any():
        _refuse_formulas_without_values(path, table)
    _refuse_logical_cells_among_numbers(path, name, table)
    if len(sheets) > 1 and sheet is None:  # named where a column is missing: the data may be on another sheet
        table.attrs[FIRST_SHEET] = sheets
    if dtype:
        restore_shown_ids(path, table, list(dtype))
    if codes:
        raw = pd.read_excel(path, sheet_name=name, dtype=str, keep_default_na=False, na_values=[""])
        table = _with_codes_from(table, raw.iloc[:len(table)].set_axis(table.index))
    return _header_stripped(table)


def _refuse_logical_cells_among_numbers(path: Path, sheet: str | int, table: pd.DataFrame) -> None:
    """Refuse a TRUE/FALSE cell (a logical value, a checkbox) in a column of numbers: pandas reads it as 1 or 0,
    and a longitude of TRUE had placed a region at 1° E without a word (in a CSV, 'TRUE' is not a number)."""
    numeric = [position for position, kind in enumerate(table.dtypes)
               if pd.api.types.is_numeric_dtype(kind) and not pd.api.types.is_bool_dtype(kind)]
    if not numeric:
        return
    raw = pd.read_excel(path, sheet_name=sheet, usecols=numeric, dtype=object, keep_default_na=False, na_values=[""])
    for position, column in zip(numeric, raw.columns, strict=True):
        logical = raw[column].iloc[:len(table)].map(lambda value: isinstance(value, bool | np.bool_)).to_numpy()
        if logical.any():
            rows = (np.flatnonzero(logical) + 1).tolist()
            raise InputError(f"{path}: column '{table.columns[position]}' holds TRUE/FALSE in rows {truncated(rows)} "
                             "among numbers (read as 1 and 0); give a number in every row")


EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                          "#SPILL!", "#CALC!"})  # a spreadsheet's error values, which pandas reads as empty cells


def _refuse_formulas_without_values(path: Path, table: pd.DataFrame) -> None:
    """Refuse cells of the first sheet that hold a formula (``=D2*100``) and no value saved with it, as a
    workbook written by a program rather than saved by a spreadsheet has: they read as empty, and the error
    had said the column was missing (NaN) in every row while the spreadsheet showed numbers; and cells holding an
    error value (#DIV/0!, #N/A), which read as empty too: an optional flag or facility_types cell had been taken as
    false or every type."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=False)
    try:
        rows = workbook.worksheets[0].iter_rows(min_row=2, max_row=len(table) + 1, max_col=len(table.columns),
                                                values_only=True)
        for row_number, row in enumerate(rows):
            for position, value in enumerate(row):
                if isinstance(value, str) and value in EXCEL_ERRORS and pd.isna(table.iat[row_number, position]):
                    raise InputError(f"{path}: column '{table.columns[position]}' row {row_number + 1} holds the error "
                                     f"value {value}, which reads as an empty cell; correct the formula or the value")
                if isinstance(value, str) and value.startswith("=") and pd.isna(table.iat[row_number, position]):
                    raise InputError(
                        f"{path}: column '{table.columns[position]}' row {row_number + 1} holds the formula "
                        f"{value[:40]!r} and no value saved with it (a workbook written by a program, not saved by a "
                        "spreadsheet); open it in a spreadsheet and save it, which stores the values, or save it as "
                        "CSV")
    finally:
        workbook.close()


ZERO_PADDING = re.compile(r"0+")  # Excel's number format that shows 2134 as 02134 (ZIP codes, FIPS codes)


def restore_shown_ids(path: Path, table: pd.DataFrame, columns: list) -> None:
    """Text columns of ``table`` as Excel shows them where a cell holds a whole number formatted with
    leading zeros (``00000``: 2134 shown and meant as 02134), so that ids keep the zeros they have on screen,
    or a date (read as '2024-01-02 00:00:00'; its ISO text '2024-01-02', as a CSV file would hold it)."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows()
        header = [cell.value for cell in next(rows, ())]
        positions = {column: header.index(column) for column in columns if column in header}
        for row_number, row in enumerate(rows):
            if row_number >= len(table):  # the empty rows it ended with are left out
                break
            for column, position in positions.items():
                cell = row[position] if position < len(row) else None
                value = getattr(cell, "value", None)
                width = getattr(cell, "number_format", "")
                if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer() \
                        and ZERO_PADDING.fullmatch(width or "") and value >= 0:
                    table.at[table.index[row_number], column] = str(int(value)).zfill(len(width))
                elif isinstance(value, datetime.datetime | datetime.date):
                    midnight = not isinstance(value, datetime.datetime) or value.time() == datetime.time()
                    shown = value.date() if midnight and isinstance(value, datetime.datetime) else value
                    table.at[table.index[row_number], column] = shown.isoformat()
    finally:
        workbook.close()


def refuse_repeated_columns(path: Path, first_row: pd.DataFrame) -> None:
    """A header naming a column twice ('demand,...,demand'): pandas would read the second as 'demand.1'
    and the first would silently be the one used."""
    names = [str(name).strip() for name in first_row.iloc[0].tolist()] if len(first_row) else []
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen and name != "nan":
            raise InputError(f"{path}: column '{name}' appears twice in the header (columns {seen[name]} and "
                             f"{position}); give each column its own name")
        seen.setdefault(name, position)


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
            f"available: {truncated(list(frame.columns), 12)}{no_header_hint(frame.columns)}{_od_hint(frame)}"
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

    if srids and crs is not None and not _same_crs(CRS.from_epsg(srids[0]), crs):
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


def require_columns(frame: pd.DataFrame, columns: list[str], path: Path, hint: str) -> None:
    """Raise naming the first missing column and the columns that exist."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        geometry = getattr(frame, "_geometry_column_name", None) if isinstance(frame, gpd.GeoDataFrame) else None
        available = [column for column in frame.columns if column != geometry]  # the file's own columns
        alike = [str(c) for c in available if str(c).strip().lower() == str(missing[0]).strip().lower()][:1]
        meant = f"; did you mean '{alike[0]}'? (column names are case-sensitive)" if alike else ""
        raise InputError(f"{path}: column '{missing[0]}' not found ({hint}); available: {truncated(available, 12)}"
                         f"{meant}{no_header_hint(available)}{sheet_note(frame)}")


def _od_hint(frame: pd.DataFrame) -> str:
    """"; it looks like an OD matrix ..." for a table of 'from' and 'to' given where points were wanted, else ''."""
    if not set(OD_IDS) <= {str(column).strip().lower() for column in frame.columns}:
        return ""
    return "; it looks like an OD matrix (from, to): pass it with --od-matrix, and the regions as the data"


def no_header_hint(columns) -> str:
    """"; the first row holds numbers ('145', '-37'): has the file no header? ..." where most column names are
    numbers (a CSV without a header row, its first row read as the names), else ''."""
    numbers = [str(c) for c in columns if isinstance(c, str) and pd.notna(pd.to_numeric(c.strip(), errors="coerce"))]
    if len(numbers) < 2 or 2 * len(numbers) < len(columns):
        return ""
    return (f"; the first row holds numbers ({truncated([repr(n) for n in numbers], 4)}): has the file no header? "
            "add one as its first line (e.g. id,lon,lat,demand)")


def sheet_note(frame: pd.DataFrame) -> str:
    """'; only the workbook's first sheet ... is read' for a table read from a workbook of several sheets,
    else ''; for the regions, whose sheet --layer chooses (:data:`REGIONS_SHEET` in the attrs), with that fix."""
    sheets = frame.attrs.get(FIRST_SHEET)
    if not sheets:
        return ""
    fix = (f"choose the sheet with the data with --layer (the [regions] key layer; its sheets: "
           f"{quoted_names(sheets)})" if frame.attrs.get(REGIONS_SHEET)
           else "move the sheet with the data to the front, or save it as CSV")
    return f"; only the workbook's first sheet ('{sheets[0]}' of {len(sheets)}) is read: {fix}"


def quoted_names(names: list[str]) -> str:
    """"'2019', '2020'" (at most 8 named)."""
    return truncated([f"'{name}'" for name in names], 8)


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
    path = _check_file(Path(path), "regions", option)
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
    if crs is None or _same_crs(frame.crs, crs):  # the file's own CRS, given again: nothing to refuse
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


def _same_crs(own, given: str) -> bool:
    """Whether the file's ``own`` CRS is the one ``given`` (--crs EPSG:3035 on a GeoPackage in EPSG:3035 had been
    refused with "drop it")."""
    try:
        return own is not None and own.equals(given, ignore_axis_order=True)
    except Exception:  # noqa: BLE001 - not a CRS pyproj knows: refused as another CRS
        return False


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
    path = _check_file(Path(path), "sites", "--sites")
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
        if _whole(values) and (np.abs(values[known]) < 2**53).all():  # an int64 holds them exactly
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


OD_IDS = {"from": "a site id", "to": "a region id"}


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
    path = _check_file(Path(path), "OD matrix", "--od-matrix")
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
