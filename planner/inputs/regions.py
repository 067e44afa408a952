"""The regions (or demand points) of a run: which file, which of the model's ``[regions]`` keys
describe it, and its demand points and demand matrix.

The keys of ``[regions]`` other than ``path`` (layer, id/demand/name columns, demand-point and
coordinate columns, CRS) describe one file: they apply when the regions file is the model's own
``regions.path`` (or the model names no file). A different file given on the command line is read
with the command-line flags; the model's id, demand, name and demand-point columns apply where that
file has columns of those names (next year's data in the same layout), and what is still open is
found in the file itself (an id column named ``region_id``/``id``/..., else row numbers; a demand
column named ``demand``/``population``/...), with a warning naming the columns taken.
"""

from __future__ import annotations

import dataclasses
import logging
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from planner.errors import InputError, truncated
from planner.inputs.config import ModelConfig, RegionsConfig, dotted_key
from planner.inputs.coordinates import LAT_NAMES, LON_NAMES, found_coordinates, named_alike
from planner.inputs.geo import representative_lonlat, wrap_longitude
from planner.inputs.io import ID_NAMES, id_keys, read_regions
from planner.inputs.tables import require_columns, zero_padded
from planner.inputs.validate import (
    check_coordinates,
    check_demand_points,
    check_regions,
    select_rows,
    warn_plausible_mistakes,
)

logger = logging.getLogger(__name__)

COORDINATE_NAMES = (*LON_NAMES, *LAT_NAMES, "x", "y")  # not taken for an id
# 'demand_uni': 'demand_units' in a Shapefile, whose column names are cut to 10 characters
DEMAND_NAMES = ("demand", "demand_units", "demand_uni", "quantity", "units", "orders", "population", "pop", "pop_est",
                "pop2020")
SHAPEFILE_NAME_CHARS = 10  # a Shapefile's column names are cut to this; names cut alike get '_1', '_2' (GDAL)
NAME_NAMES = ("name", "region_name", "label",  # and "name" in the languages data often comes in
              "nom", "nombre", "nome", "naam", "namn", "navn", "nimi", "nazwa", "název", "név", "isim",
              "名称", "名前", "이름", "الاسم", "название")
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
    model_keys: RegionsConfig | None = None  # those keys, for another file: their columns apply where it has them


def region_source(config: ModelConfig, options) -> RegionSource:
    """The file to read and its columns: CLI flags first, then the model's keys if they describe this file."""
    model = config.regions
    path = options.regions_path or model.path
    if path is None:
        raise InputError("no regions file: pass REGIONS or set regions.path in the model file")
    path = Path(path)
    same = model.path is None or options.regions_path is None or _same_file(path, model.path)
    keys = model if same else RegionsConfig(path=path)  # the column keys: see adopt_model_columns
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
        model_keys=None if same else model,
    )


def adopt_model_columns(frame: gpd.GeoDataFrame, source: RegionSource) -> RegionSource:
    """For a file other than the model's own: the model's id, demand, name and demand-point columns
    where the file has columns of those names and no command-line flag names another; a warning
    names the keys whose columns the file lacks (those are found in the file instead)."""
    keys = source.model_keys
    if keys is None:
        return source
    columns = {str(column) for column in frame.columns}
    adopted, missing = {}, {}
    for key in ("id_column", "demand_column", "name_column", "demand_point_columns"):
        value = getattr(keys, key)
        if value is None or getattr(source, key) is not None:
            continue
        wanted = [value] if isinstance(value, str) else list(value)
        if all(column in columns for column in wanted):
            adopted[key] = value if isinstance(value, str) else tuple(value)
        else:
            missing[key] = f"{key} = {value!r}"
    if missing:
        logger.warning("%s is not the model's regions file and has no column for its [regions] key%s %s: %s",
                       source.path, "s" if len(missing) > 1 else "", ", ".join(missing.values()),
                       _instead_of(list(missing), source.path))
    return dataclasses.replace(source, **adopted)


MISSING_KEY_FLAGS = {"id_column": "--id-column", "demand_column": "--demand-column"}


def _instead_of(keys: list[str], path: Path) -> str:
    """What the run takes instead of the model's columns ``keys`` lacking in another file, and the fix: the
    id and demand columns have flags; the name and demand-point columns only a model file's keys."""
    parts = []
    flags = [MISSING_KEY_FLAGS[key] for key in keys if key in MISSING_KEY_FLAGS]
    if flags:
        parts.append(f"found in the file instead (name {'it' if len(flags) == 1 else 'them'} with "
                     f"{' / '.join(flags)})")
    if "name_column" in keys:
        parts.append("names found in the file instead (else the ids label the regions)")
    if "demand_point_columns" in keys:
        parts.append("each region's demand point is a point inside it instead")
    if "name_column" in keys or "demand_point_columns" in keys:
        parts.append(f"to set {'them' if len(keys) > 1 else 'it'}, give a model file whose [regions] path is this "
                     f"file (planner init {path} writes one)")
    return "; ".join(parts)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def numeric_like(values: pd.Series) -> bool:
    """Numbers, or text that is mostly numbers: a demand column with a stray 'n/a' is still found as
    the demand column, and its bad cells are then reported with their text by the checks. Codes
    written with leading zeros ('01001') are not numbers (:func:`planner.inputs.tables.zero_padded`)."""
    if is_numeric_dtype(values):
        return True
    if zero_padded(values):
        return False
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    return len(text) > 0 and bool(pd.to_numeric(text, errors="coerce").notna().mean() > 0.5)


def find_column(frame: gpd.GeoDataFrame, names: tuple[str, ...], numeric: bool, path=None,
                option: str = "") -> str | None:
    """The first column whose lower-case name is in ``names`` (numeric ones only if asked); two columns
    named alike but for case ('demand', 'Demand') are an error naming ``option`` (:func:`named_alike`)."""
    columns = [column for column in frame.columns if column != frame.geometry.name]
    for name in names:
        matches = named_alike(columns, name, path, option)
        if matches and (not numeric or numeric_like(frame[matches[0]])):
            return matches[0]
    return None


def found_name_column(frame: gpd.GeoDataFrame, path) -> str | None:
    """The column of region names, where one is found; none (logged) where two are named alike but for
    case ('name', 'NAME'): names only label the regions, and regions.name_column can choose one."""
    try:
        return find_column(frame, NAME_NAMES, numeric=False, path=path, option="regions.name_column")
    except InputError as error:
        logger.warning("%s; the regions are labelled by their ids", error)
        return None


def found_id_column(frame: gpd.GeoDataFrame, source: RegionSource) -> str:
    """The id column given, else the first ID_NAMES column found, else ROW_NUMBER_ID (rows numbered
    1, 2, ...). A found column with duplicated values is not used: a warning names them and the rows
    are numbered (a duplicated ``region_id`` column itself stays, and ``check_ids`` reports it)."""
    if source.id_column is not None:
        return source.id_column
    id_column = find_column(_without_blank_columns(frame), ID_NAMES, numeric=False, path=source.path,
                            option="--id-column") or sole_text_key(frame, source)
    if id_column is None:
        return ROW_NUMBER_ID  # resolve_columns warns, naming the columns that might be the id
    text = frame[id_column].astype(str).str.strip()
    duplicated = text[text.duplicated()].unique().tolist()
    if duplicated and id_column != ROW_NUMBER_ID:
        logger.warning(
            "%s: column '%s' has duplicated values (%s), so it is not used as the id: regions are numbered by row; "
            "name a column with unique values with --id-column (or regions.id_column in the model file)",
            source.path, id_column, truncated(duplicated),
        )
        return ROW_NUMBER_ID
    return id_column


def _without_blank_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` without the columns blank in every row, which name nothing: GDAL gives every KML layer an 'id'
    column, blank where the placemarks have none (as Google My Maps exports them), and it had been found as the
    id, refused for its "duplicated values (nan)", and the regions numbered by row instead of by 'Name'."""
    blank = [column for column in frame.columns if column != frame.geometry.name and _blank_column(frame[column])]
    return frame.drop(columns=blank) if blank else frame


def _blank_column(values: pd.Series) -> bool:
    missing = values.isna()
    if missing.all() or is_numeric_dtype(values):
        return bool(missing.all())
    return bool((missing | (values.astype(str).str.strip() == "")).all())


def _warn_numbered_by_row(frame: gpd.GeoDataFrame, source: RegionSource, demand_columns: set) -> None:
    logger.warning("%s: no id column given or found, so the regions are numbered by row (1, 2, ...) and the "
                   "ids of an OD matrix, a scenarios file or pilot regions are read as those row numbers%s; "
                   "name the id with --id-column (or regions.id_column)", source.path,
                   _numbered_like_ids(frame, demand_columns))


def _ids_left_out(whole: pd.DataFrame, selected: pd.Index, id_column: str, numbered: bool) -> frozenset:
    """The ids (stripped, NFC; row numbers where ``numbered``) of the rows of ``whole`` not ``selected``."""
    left_out = whole.index.difference(selected)
    if numbered:
        return frozenset((left_out + 1).astype(str))
    return frozenset(id_keys(whole.loc[left_out, id_column]))


def _numbered_like_ids(frame: gpd.GeoDataFrame, demand_columns: set) -> str:
    """', not as column 'nr'' where columns of unique whole numbers other than the demand and the coordinates
    (a code such as 'nr', 'PLZ', 'AGS' without an id name) might be the id the user meant; else ''."""
    columns = []
    for column in frame.columns:
        named = str(column).strip().lower()
        if column == frame.geometry.name or column in demand_columns or named in COORDINATE_NAMES \
                or not numeric_like(frame[column]):
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        if values.notna().all() and (values == values.round()).all() and not values.duplicated().any():
            columns.append(f"'{column}'")
    return f", not as column {truncated(columns)}" if columns else ""


def sole_text_key(frame: gpd.GeoDataFrame, source: RegionSource) -> str | None:
    """The one text column whose every cell is filled and unique (a column of names in the data's own
    language, 'município', 'Gemeinde'), where no column has an id name: taken as the id with a warning,
    as the one numeric column is taken as the demand. None where there is no such column or several."""
    keys = []
    for column in frame.columns:
        if column == frame.geometry.name or numeric_like(frame[column]):
            continue
        text = frame[column].astype("string").str.strip()
        if text.notna().all() and (text != "").all() and not text.duplicated().any():
            keys.append(column)
    if len(keys) > 1:  # which is the id is the user's call; numbering by row drops the ids from every output
        logger.warning("%s: columns %s each hold unique text, so either could be the region id: regions are "
                       "numbered by row; name the id with --id-column (or regions.id_column)", source.path,
                       truncated([f"'{key}'" for key in keys]))
    if len(keys) != 1:
        return None
    logger.warning("%s: taking '%s', its one text column with unique values, as the region id (--id-column)",
                   source.path, keys[0])
    return keys[0]


def warn_other_demand_names(frame: gpd.GeoDataFrame, taken: str, source: RegionSource) -> None:
    """A warning where more numeric columns than the one taken have a demand name ('demand' and
    'population'): which is meant is the user's call, and the one taken goes by DEMAND_NAMES's order."""
    columns = [c for c in frame.columns if c not in (frame.geometry.name, taken)]
    shapefile = source.path.suffix.lower() in {".shp", ".dbf", ".zip"}
    others = [c for c in columns if (str(c).strip().lower() in DEMAND_NAMES
                                     or shapefile and _cut_alike(str(c), str(taken))) and numeric_like(frame[c])]
    if others:
        logger.warning("%s: taking '%s' as the demand; %s also named like a demand column: name the one you mean "
                       "with --demand-column (or regions.demand_column)", source.path, taken,
                       ", ".join(f"'{c}'" for c in others) + (" is" if len(others) == 1 else " are"))


def _cut_alike(column: str, taken: str) -> bool:
    """``column`` is what GDAL names a second column whose name, cut to a Shapefile's 10 characters, is
    ``taken``'s ('population_2020' and 'population_2021' become 'population' and 'populati_1')."""
    if len(taken) != SHAPEFILE_NAME_CHARS:
        return False
    stem, _, number = column.rpartition("_")
    return number.isdigit() and len(column) == SHAPEFILE_NAME_CHARS and taken.startswith(stem)


def resolve_columns(frame: gpd.GeoDataFrame, source: RegionSource, needs_demand: bool) -> tuple[str, str | None]:
    """(id column, demand column) of ``frame``: as given, or found; row numbers become the ids when
    no id column is given or found (or the one found has duplicated values)."""
    geometry = frame.geometry.name
    for option, column in (("--id-column", source.id_column), ("--demand-column", source.demand_column)):
        if column is not None and column == geometry:
            raise InputError(f"{source.path}: '{column}' is the geometry column; name a data column with {option}")
    id_column = found_id_column(frame, source)
    demand_column = source.demand_column or (
        find_column(frame, DEMAND_NAMES, numeric=True, path=source.path, option="--demand-column")
        if needs_demand else None)
    if needs_demand and source.demand_column is None and demand_column is not None:
        warn_other_demand_names(frame, demand_column, source)
    numeric = [c for c in frame.columns if c not in (geometry, id_column) and numeric_like(frame[c])]
    if needs_demand and demand_column is None and len(numeric) == 1:
        demand_column = numeric[0]
        logger.warning("%s: taking '%s', its one numeric column, as the demand (--demand-column)", source.path,
                       numeric[0])
    if needs_demand and demand_column is None:
        # a 'demand' column whose cells are mostly not numbers ('NaN', '1,5'): the checks name its bad rows
        demand_column = find_column(frame, DEMAND_NAMES, numeric=False)
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
    columns: dict  # the columns read: id (None: row numbers), demand (None: the products' own), name
    left_out_ids: frozenset = frozenset()  # ids (stripped, NFC) of the file's regions --select leaves out


def _text_columns(source: RegionSource, options) -> tuple[str, ...]:
    """The columns read as text: ids (leading zeros kept), those --select compares, and names as written
    ('1.10' and '1E5' had become 1.1 and 100000.0 in every output)."""
    keys = source.model_keys
    return (source.id_column or "", (keys.id_column if keys is not None else None) or "",
            *(column for column, _ in options.select), source.name_column or "",
            (keys.name_column if keys is not None else None) or "", *NAME_NAMES)


def _columns_as_given(frame: gpd.GeoDataFrame, given) -> gpd.GeoDataFrame:
    """``frame`` with each column named as ``given`` where it is written in another Unicode form ('Bevölkerung'
    composed in the file, decomposed as typed: "column 'Bevölkerung' not found; available: ..., Bevölkerung")."""
    columns = [str(column) for column in frame.columns]
    renames = {}
    for name in {str(name) for name in given if name}:
        if name in columns:
            continue
        alike = [c for c in columns if unicodedata.normalize("NFC", c) == unicodedata.normalize("NFC", name)]
        if len(alike) == 1:
            renames[alike[0]] = name
    return frame.rename(columns=renames) if renames else frame


def _read_for(source: RegionSource, config: ModelConfig, options) -> gpd.GeoDataFrame:
    """The regions file of ``source`` as read, its columns named as the model and the options give them."""
    option = ("the REGIONS argument (compare: --regions)" if options.regions_path is not None
              else f"regions.path in {config.file_name}")
    frame = read_regions(source.path, source.layer, source.lon_column, source.lat_column, source.crs,
                         _text_columns(source, options), option)
    return _columns_as_given(frame, [source.id_column, source.demand_column, source.name_column,
                                     *(source.demand_point_columns or ()), *(c for c, _ in options.select),
                                     *(p.demand_column for p in config.products.values())])


def load_regions(config: ModelConfig, options) -> tuple[RegionSource, RegionData]:
    """Read, select and validate the regions; their demand points and the demand of each product."""
    source = region_source(config, options)
    frame = _read_for(source, config, options)
    source = adopt_model_columns(frame, source)
    whole = frame
    if options.select:
        frame = select_rows(frame, [(c, list(v)) for c, v in options.select], source.path)
    selected = frame.index
    product_columns = [p.demand_column for p in config.products.values() if p.demand_column]
    # the base column: for products with a demand_rate, and, where it is named, for the candidate rules
    rated = any(p.demand_column is None for p in config.products.values())
    needs_base = rated or source.demand_column is not None
    coordinates = set(found_coordinates(frame, source.path, source.lon_column, source.lat_column, source.crs))
    named = {source.id_column, source.demand_column}
    id_column, base_column = resolve_columns(frame.drop(columns=list(coordinates - named)), source, needs_base)
    numbered = id_column == ROW_NUMBER_ID and ROW_NUMBER_ID not in frame.columns
    if numbered and source.id_column is None:
        _warn_numbered_by_row(frame, source, {base_column, *product_columns})
    columns = {"id": None if numbered else id_column, "demand": base_column if needs_base else None}
    demand_columns = ([base_column] if needs_base else []) + product_columns
    owners = {p.demand_column: dotted_key("products", name, "demand_column")
              for name, p in config.products.items() if p.demand_column}
    for column in demand_columns:  # before the row numbers join the columns a message lists as the file's
        if column in owners:
            fix = f"{owners[column]} in the model file names it: name a column of the file"
        elif rated:
            fix = "set --demand-column, or regions.demand_column (or the product's demand_column) in the model file"
        else:
            fix = ("the base demand column, regions.demand_column or --demand-column, which the candidate rules "
                   "read: name a column of the file, or leave it out to rank by the products' total demand")
        require_columns(frame, [column], source.path, fix)
    note_columns_taken(source, columns, config)  # after the checks: it had said "demand from column 'units'" of none
    if numbered:
        frame = frame.assign(**{ROW_NUMBER_ID: (frame.index + 1).astype(str)})
    frame = check_regions(frame, source.path, id_column, demand_columns, source.demand_point_columns)
    left_out_ids = _ids_left_out(whole, selected, id_column, numbered)
    check_coordinates(frame, source.path, source.crs)
    frame = frame.reset_index(drop=True)
    lon, lat = demand_points(frame, source)
    base = frame[base_column].to_numpy(dtype=float) if needs_base else np.zeros(len(frame))
    demand = np.column_stack(
        [
            frame[p.demand_column].to_numpy(dtype=float) if p.demand_column else p.demand_rate * base
            for p in config.products.values()
        ]
    )
    _refuse_demand_beyond_the_solver(demand, config, source.path, base_column, frame[id_column].to_numpy())
    if not needs_base:  # every product has its own column and none is named: candidate rules rank by total demand
        base = demand.sum(axis=1)
    warn_plausible_mistakes(frame, source.path, demand, tuple(dict.fromkeys(demand_columns)),
                            frame[id_column].to_numpy())
    regions, columns["name"] = named_regions(frame, source, id_column)
    return source, RegionData(regions, lon, lat, base, demand, columns, left_out_ids)


def _refuse_demand_beyond_the_solver(demand: np.ndarray, config, path, base_column: str | None, ids) -> None:
    """InputError naming the file, the column, the region and the demand_rate where a product's demand in a
    region (units/yr) is above the screening's ``MAX_DEMAND`` (the screening named only the model)."""
    from planner.inputs.screen import MAX_DEMAND

    if not demand.size or not demand.max() > MAX_DEMAND:
        return
    row, p = np.unravel_index(int(demand.argmax()), demand.shape)
    name, product = list(config.products.items())[p]
    if product.demand_column:
        made = f"column '{product.demand_column}' (products.{name}.demand_column)"
        fix = "give the column in a larger unit"
    else:
        made = f"column '{base_column}' × products.{name}.demand_rate {product.demand_rate:g}"
        fix = "give the column in a larger unit or lower the demand_rate"
    raise InputError(f"{path}: the demand of '{name}' in region '{ids[row]}', {made}, is {demand[row, p]:.3g} "
                     f"units/yr, above {MAX_DEMAND:.0e}: too large for the solver; {fix}")


def note_columns_taken(source: RegionSource, columns: dict, config: ModelConfig) -> None:
    """For a file other than the model's own, the id and demand columns read (``columns``: None for
    row numbers or the products' own columns): a warning where one was found in the file rather than
    named by a flag or the model, else a note. A demand column other than the model's own names the demand
    rates it is multiplied by: the bundled model's 0.01 units/yr per person had turned 2,000 orders into 20
    units/yr without a word."""
    if source.model_keys is None:
        return
    found = source.id_column is None or (columns["demand"] is not None and source.demand_column is None)
    ids = "row numbers" if columns["id"] is None else f"column '{columns['id']}'"
    demand = "the product columns" if columns["demand"] is None else f"column '{columns['demand']}'"
    own = source.model_keys.demand_column
    rates = [f"{name} {product.demand_rate:g}" for name, product in config.products.items()
             if product.demand_column is None and product.demand_rate != 1.0]
    if columns["demand"] is not None and own and columns["demand"] != own and rates:
        found = True
        demand += (f" × the model's demand_rate ({', '.join(rates)} units/yr per unit of it, set for its own column "
                   f"'{own}'; a model file for this file, planner init {source.path}, sets 1)")
    logger.log(logging.WARNING if found else logging.INFO, "%s is not the model's regions file: ids from %s, "
               "demand from %s", source.path, ids, demand)


def demand_points(frame: gpd.GeoDataFrame, source: RegionSource) -> tuple[np.ndarray, np.ndarray]:
    """The demand-point columns (checked against the geometries) or a point inside each geometry."""
    if source.demand_point_columns:
        lon_col, lat_col = source.demand_point_columns
        lon, lat = frame[lon_col].to_numpy(dtype=float), frame[lat_col].to_numpy(dtype=float)
        check_demand_points(frame, source.path, lon, lat, source.demand_point_columns)
        return wrap_longitude(lon), lat
    return representative_lonlat(frame)


def named_regions(frame: gpd.GeoDataFrame, source: RegionSource, id_column: str) -> tuple[gpd.GeoDataFrame, str | None]:
    """``region_id`` and ``region_name`` columns (the name column as given, found, or the id), and the
    name column used (None: the ids)."""
    name_column = source.name_column  # looked up before the id column is renamed: it may be the same column
    if name_column is not None and name_column not in frame.columns:
        available = [column for column in frame.columns if column not in (frame.geometry.name, ROW_NUMBER_ID)]
        raise InputError(
            f"{source.path}: name column '{name_column}' not found (regions.name_column); available: "
            f"{truncated(available, 12)}"
        )
    if name_column is None and not source.from_model:
        name_column = found_name_column(frame, source.path)
    regions = frame.rename(columns={id_column: "region_id"}) if id_column != "region_id" else frame
    names = regions["region_id"]
    if name_column:  # a region without a name (empty, NULL) is labelled by its id, never 'nan' or 'None'
        raw = frame[name_column]
        missing = (raw.isna() | (raw.astype(str).str.strip() == "")).to_numpy()
        names = np.where(missing, regions["region_id"].astype(str).to_numpy(), raw.astype(str).to_numpy())
    return regions.assign(region_name=names), name_column
