"""Suppliers of materials (``--suppliers`` or ``[suppliers] path``) and the inbound arcs they make
with the facility options (:class:`planner.problem.Supply`; the model rows are in
``planner.model.supply``).

The file: points (any vector format with a CRS) or a CSV/TSV/Parquet table with coordinate columns
(lon/lat, longitude/latitude or x/y in degrees), one row per supplier and material:

* ``supplier_id`` (unique), ``material`` (a material of a product's ``materials``);
* ``capacity_per_yr`` (units of material/yr, > 0; empty = unlimited);
* ``cost_per_unit`` (currency per unit of material, ≥ 0; empty = 0).

Inbound arcs: every supplier to every option whose type makes a product that needs the supplier's
material, at road distance (great-circle × circuity), with the type's ``inbound.<material>`` costs.
"""

from __future__ import annotations

import difflib
import logging
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import InputError, truncated
from planner.inputs.config import ModelConfig
from planner.inputs.coordinates import check_projected_range, decimal_comma_hint, points_from_table
from planner.inputs.geo import great_circle_km, require_crs
from planner.inputs.io import SITES_FIX, id_keys, points_lonlat
from planner.inputs.tables import is_table, read_table, require_columns
from planner.inputs.validate import (
    check_ids,
    dot_grouped_columns,
    dot_grouped_message,
    file_rows,
    refuse_near_columns,
)
from planner.inputs.vector import read_vector, with_dbf_names
from planner.problem import Supply

logger = logging.getLogger(__name__)

KG_PER_T = 1000.0
SUPPLIER_COLUMNS = ("capacity_per_yr", "cost_per_unit")  # optional: unlimited and free where missing


def read_suppliers(path: Path, option: str = "--suppliers") -> pd.DataFrame:
    """The supplier table: ``supplier_id, material, capacity_per_yr, cost_per_unit, lon, lat``. ``option``
    is where the path came from, for the errors (``--suppliers``, or the model's ``[suppliers] path``)."""
    path = Path(path)
    if is_table(path):
        frame = points_from_table(read_table(path, "suppliers", option, text_columns=("supplier_id",)), path,
                                  fix=SITES_FIX, points_only=True)  # ids as text: '001' stays '001'
    else:
        frame = with_dbf_names(read_vector(path, None, "suppliers", option), path, ("supplier_id", *SUPPLIER_COLUMNS))
        require_crs(frame, path)
        kinds = set(frame.geometry.geom_type.dropna())
        if kinds - {"Point"}:
            raise InputError(f"{path}: suppliers must be points, found {sorted(kinds)}; give point geometries")
    if frame.empty:  # before the columns: a GeoJSON of no features has none
        raise InputError(f"{path}: the suppliers file has no rows; give at least one supplier or omit it")
    require_columns(frame, ["supplier_id", "material"], path, "each supplier needs an id and the material it offers")
    refuse_near_columns(frame, path, SUPPLIER_COLUMNS, "the suppliers file's optional", prefixes=True)
    check_projected_range(frame, path)
    material = frame["material"].astype("string").str.strip()
    if (material.isna() | (material == "")).any():
        rows = (np.flatnonzero((material.isna() | (material == "")).to_numpy()) + 1).tolist()
        raise InputError(f"{path}: column 'material' is empty in rows {truncated(rows)}; name the material each "
                         "supplier offers")
    lon, lat = points_lonlat(frame, path, "suppliers")
    for column in dot_grouped_columns(path, ["capacity_per_yr", "cost_per_unit"]):
        logger.warning(dot_grouped_message(path, column, "the capacity" if column == "capacity_per_yr" else "a price"))
    material = frame["material"].astype(str).str.strip().str.normalize("NFC")  # as ids
    refuse_one_id_for_several_materials(frame, material, path)
    return pd.DataFrame({
        "supplier_id": check_ids(frame, "supplier_id", path, "supplier").astype(str).to_numpy(),
        "material": material.to_numpy(),
        "capacity_per_yr": _numbers(frame, "capacity_per_yr", path, np.inf, positive=True),
        "cost_per_unit": _numbers(frame, "cost_per_unit", path, 0.0, positive=False),
        "lon": lon,
        "lat": lat,
    })


def refuse_one_id_for_several_materials(frame: pd.DataFrame, material: pd.Series, path: Path) -> None:
    """One line where a supplier id repeats on rows of different materials: each row is one supplier of one
    material (its capacity, price and relationship cost), so a supplier of three materials, written with one id
    on three rows, had been refused with "ids must be unique" alone, which did not say what to write instead."""
    ids = id_keys(frame["supplier_id"])
    repeated = (ids.duplicated(keep=False) & frame["supplier_id"].notna() & (ids != "")).to_numpy()
    if not repeated.any():
        return
    first = ids[repeated].iloc[0]
    clash = (ids == first).to_numpy()
    offered = material[clash].unique().tolist()
    if len(offered) < 2:
        return  # the same id for the same material twice: check_ids says so
    raise InputError(f"{path}: column 'supplier_id' has {first} in rows {truncated(file_rows(frame, clash))}, for "
                     f"materials {truncated(offered)}; each row is one supplier of one material, with an id of its "
                     f"own: give each material its own id (e.g. '{first}-{offered[0]}', as data/suppliers_us.csv "
                     "does)")


def _numbers(frame: pd.DataFrame, column: str, path: Path, empty: float, positive: bool) -> np.ndarray:
    """A numeric column (``empty`` where missing or blank); one-line errors name the row."""
    if column not in frame.columns:
        return np.full(len(frame), empty)
    raw = frame[column]
    blank = raw.isna() | (raw.astype(str).str.strip() == "")
    values = pd.to_numeric(raw.where(~blank), errors="coerce")
    bad = (values.isna() & ~blank) | ~np.isfinite(values.fillna(0.0)) | (values <= 0 if positive else values < 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        rule = "> 0" if positive else "≥ 0"
        raise InputError(f"{path}: column '{column}' row {row + 1} ('{raw.iloc[row]}') must be a number {rule}"
                         f"{decimal_comma_hint(raw.iloc[[row]])}")
    return values.fillna(empty).to_numpy(dtype=float)


def material_ids(config: ModelConfig) -> tuple[str, ...]:
    """The materials the products need, in order of first mention."""
    return tuple(dict.fromkeys(m for product in config.products.values() for m, v in product.materials.items() if v))


def _check_materials(config: ModelConfig, materials: tuple[str, ...], missing: list[str], offered: list[str],
                     in_file: list[str] = ()) -> None:
    """A material no supplier offers and no facility type has an inbound table for is a typo, not a
    material: it had left every product that lists it unmade, with one warning (``steel_k`` for
    ``steel_kg``: objective 0, nothing built). Inbound tables of materials no product lists are warned about."""
    inbound = {m for facility in config.facility_types.values() for m in facility.inbound}
    for material in missing:
        if material not in inbound:
            product = next(p for p, c in config.products.items() if c.materials.get(material))
            known = sorted(inbound | set(offered) | {str(name) for name in in_file})  # 'none' beside a file's own
            alike = sorted({name for name in in_file if _material_key(name) == _material_key(material)})
            hint = f"; the suppliers file has {truncated([_shown(name) for name in alike])} (names are " \
                   "case-sensitive)" if alike else ""
            raise InputError(f"products.{product}.materials.{material}: no supplier offers it and no facility type "
                             f"has an inbound table for it; check its name (known: {truncated(known) or 'none'})"
                             f"{hint}")
    for name, facility in config.facility_types.items():
        for material in sorted(set(facility.inbound) - set(materials)):
            logger.warning("facility_types.%s.inbound.%s: no product needs %s; the table is not used", name, material,
                           material)


def build_supply(config: ModelConfig, suppliers: pd.DataFrame, option_type: np.ndarray, site_lon: np.ndarray,
                 site_lat: np.ndarray, source: Path) -> Supply | None:
    """The :class:`Supply` of the model on ``suppliers`` (None when no product needs a material)."""
    materials = material_ids(config)
    if not materials:
        logger.warning("%s: no product lists materials, so the suppliers are not used", source)
        return None
    unused = sorted(set(suppliers["material"]) - set(materials))
    offered = suppliers[suppliers["material"].isin(materials)].reset_index(drop=True)
    missing = [m for m in materials if m not in set(offered["material"])]
    _check_materials(config, materials, missing, sorted(set(offered["material"])), suppliers["material"].tolist())
    if missing:
        raise _missing_material_error(config, suppliers, missing, source)
    if unused:
        logger.warning("%s: suppliers of %s are not used: no product needs them", source, truncated(unused))
    suppliers = offered
    bom = np.array([[product.materials.get(m, 0.0) for m in materials] for product in config.products.values()])
    material = suppliers["material"].map({m: i for i, m in enumerate(materials)}).to_numpy(dtype=int)
    arcs = inbound_arcs(config, bom, material, option_type)
    supplier, option, k = arcs
    km = great_circle_km(suppliers["lon"].to_numpy()[supplier], suppliers["lat"].to_numpy()[supplier],
                         site_lon[option], site_lat[option]) * config.distance.circuity
    costs = inbound_costs(config, materials, material[supplier], k)
    return Supply(
        material_ids=materials, bom=bom, supplier_ids=suppliers["supplier_id"].to_numpy(dtype=object),
        supplier_material=material, supplier_capacity=suppliers["capacity_per_yr"].to_numpy(dtype=float),
        supplier_cost=suppliers["cost_per_unit"].to_numpy(dtype=float), supplier_lon=suppliers["lon"].to_numpy(),
        supplier_lat=suppliers["lat"].to_numpy(), in_supplier=supplier, in_option=option, in_distance_km=km,
        in_transport_cost=costs[:, 0] * km, in_co2_t=costs[:, 1] * km / KG_PER_T, in_fixed_cost=costs[:, 2],
        source=str(source),
    )


def _missing_material_error(config: ModelConfig, suppliers: pd.DataFrame, missing: list[str], source: Path
                            ) -> InputError:
    """A material products need that no row of the suppliers file offers: every product that needs it could
    not be made (with an unmet penalty the run had built nothing, exit 0, after a warning). The row of a
    look-alike name (another case, a zero-width or Cyrillic letter) is named with the name it may mean."""
    material = missing[0]
    product = next(p for p, c in config.products.items() if c.materials.get(material))
    names = suppliers["material"].astype(str).tolist()
    alike = next(((row, name) for row, name in enumerate(names) if _material_key(name) == _material_key(material)),
                 None)
    if alike is None:
        close = difflib.get_close_matches(material, names, n=1, cutoff=0.8)
        alike = (names.index(close[0]), close[0]) if close else None
    if alike is not None:
        row, name = alike
        return InputError(f"{source}: column 'material' row {row + 1} ({_shown(name)}) is no material of the model; "
                          f"'{material}' (products.{product}.materials) has no supplier: did you mean it? (names "
                          "are case-sensitive)")
    return InputError(f"{source}: no supplier offers {truncated([repr(name) for name in missing])}, which the "
                      f"products need (products.{product}.materials.{material}): a product needing a material no one "
                      "offers could not be made; add rows for each (column 'material'), or remove it from the "
                      "products' materials")


def _shown(name: str) -> str:
    """``name`` quoted, with escapes where it holds what the eye cannot tell: a format character (zero-width
    space) or letters of two scripts (a Cyrillic 'е' in 'steel')."""
    scripts = {unicodedata.name(character, "?").split()[0] for character in name if character.isalpha()}
    hidden = any(unicodedata.category(character) == "Cf" for character in name)
    return ascii(name) if hidden or len(scripts) > 1 else repr(name)


def _material_key(name: str) -> str:
    """``name`` without format characters (zero-width spaces), compatibility-normalised and case-folded."""
    shown = "".join(character for character in name if unicodedata.category(character) != "Cf")
    return unicodedata.normalize("NFKC", shown).casefold().strip()


def inbound_arcs(config: ModelConfig, bom: np.ndarray, supplier_material: np.ndarray, option_type: np.ndarray):
    """(supplier, option, type) of every inbound arc: the option's type makes a product that needs the
    supplier's material. Raises when such a type has no ``inbound.<material>`` table."""
    type_names = list(config.facility_types)
    product_position = {p: i for i, p in enumerate(config.products)}
    needs = np.zeros((len(type_names), bom.shape[1]), dtype=bool)  # (K, M)
    for k, name in enumerate(type_names):
        made = [product_position[p] for p in config.facility_types[name].products]
        needs[k] = (bom[made] > 0).any(axis=0)
    supplier, option = np.nonzero(needs[option_type][:, supplier_material].T)  # (J, O) pairs
    return supplier, option, option_type[option]


def inbound_costs(config: ModelConfig, materials: tuple[str, ...], material: np.ndarray, k: np.ndarray) -> np.ndarray:
    """(B, 3) per inbound arc: cost per unit-km, kg CO2 per unit-km, fixed cost per relationship."""
    type_names = list(config.facility_types)
    table = np.full((len(type_names), len(materials), 3), np.nan)
    for t, name in enumerate(type_names):
        for m, material_id in enumerate(materials):
            inbound = config.facility_types[name].inbound.get(material_id)
            if inbound is not None:
                table[t, m] = (inbound.cost_per_unit_km, inbound.co2_kg_per_unit_km,
                               inbound.fixed_cost_per_supplier_per_yr)
    costs = table[k, material]
    lacking = np.flatnonzero(np.isnan(costs[:, 0]))
    if len(lacking):
        name, material_id = type_names[k[lacking[0]]], materials[material[lacking[0]]]
        raise InputError(f"facility_types.{name}.inbound.{material_id}: missing; say how {material_id} reaches a "
                         f"{name} (cost_per_unit_km, co2_kg_per_unit_km, fixed_cost_per_supplier_per_yr)")
    return costs
