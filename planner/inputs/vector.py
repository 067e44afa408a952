"""Reading vector files (GeoPackage, GeoJSON, Shapefile, KML, zipped ones): their layers, encodings
and code pages, and geometries GEOS cannot build named with their rows."""

from __future__ import annotations

import logging
import re
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from planner.errors import InputError, truncated
from planner.inputs.tables import (
    COMPRESSED_SUFFIXES,
    PARQUET_SUFFIXES,
    ZIPPED_SUFFIXES,
    ZIPPED_VECTOR_SUFFIXES,
    check_file,
    header_stripped,
)

logger = logging.getLogger(__name__)

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
    path = check_file(path, what, option)
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
    return header_stripped(frame)  # ' GEOID' had been "column 'GEOID' not found; available:  GEOID", as tables'

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
