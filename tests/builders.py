"""Tiny instances for tests: numeric problems from lists, and geographic ones on the equator
(1 degree of longitude = 111.195 km on the planner's sphere, so distances are hand-checkable)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np

from planner.inputs.config import model_config_from_dict
from planner.inputs.geo import EARTH_RADIUS_KM
from planner.problem import Problem

KM_PER_DEGREE = 2 * np.pi * EARTH_RADIUS_KM / 360


def dense_problem(
    demand,
    opening_cost,
    capacity,
    unit_cost,
    penalty=np.inf,
    single_sourcing=False,
    **overrides,
) -> Problem:
    """One product, one type, every (site, region) pair an arc; ``unit_cost[s][r]`` per unit."""
    demand = np.asarray(demand, dtype=float)
    unit_cost = np.asarray(unit_cost, dtype=float)
    n_sites, n_regions = unit_cost.shape
    site, region = np.repeat(np.arange(n_sites), n_regions), np.tile(np.arange(n_regions), n_sites)
    keep = demand[region] > 0
    fields = dict(
        name="test",
        region_ids=np.array([f"r{j}" for j in range(n_regions)], dtype=object),
        product_ids=("p",),
        type_ids=("t",),
        site_ids=np.array([f"s{i}" for i in range(n_sites)], dtype=object),
        demand=demand.reshape(-1, 1),
        unmet_penalty=np.array([penalty], dtype=float),
        max_distance_km=np.array([np.inf]),
        option_site=np.arange(n_sites),
        option_type=np.zeros(n_sites, dtype=int),
        opening_cost=np.asarray(opening_cost, dtype=float),
        module_cost=np.zeros(n_sites),
        module_capacity=np.asarray(capacity, dtype=float),
        min_modules=np.ones(n_sites, dtype=int),
        max_modules=np.ones(n_sites, dtype=int),
        capex=np.zeros(n_sites),
        capex_per_module=np.zeros(n_sites),
        forced=np.zeros(n_sites, dtype=bool),
        arc_option=site[keep],
        arc_region=region[keep],
        arc_product=np.zeros(int(keep.sum()), dtype=int),
        arc_distance_km=np.zeros(int(keep.sum())),
        arc_production_cost=unit_cost[site, region][keep],
        arc_transport_cost=np.zeros(int(keep.sum())),
        arc_co2_t=np.zeros(int(keep.sum())),
        single_sourcing=single_sourcing,
    )
    fields.update(overrides)
    return Problem(**fields)


def equator_regions(path: Path, longitudes, populations, ids=None, names=None) -> Path:
    """Point regions on the equator at the given longitudes, written as GeoJSON."""
    ids = ids or [f"R{i}" for i in range(len(longitudes))]
    frame = gpd.GeoDataFrame(
        {"GEOID": ids, "NAME": names or ids, "pop": np.asarray(populations, dtype=float)},
        geometry=gpd.points_from_xy(longitudes, np.zeros(len(longitudes))),
        crs="EPSG:4326",
    )
    frame.to_file(path, driver="GeoJSON")
    return path


def tiny_config(regions_path: Path, **sections):
    """A one-product model on ``regions_path``; ``sections`` replace top-level tables."""
    data = {
        "name": "tiny",
        "carbon_price": 0.0,
        "regions": {"path": str(regions_path), "id_column": "GEOID", "demand_column": "pop", "name_column": "NAME"},
        "distance": {"circuity": 1.0},
        "products": {"standard": {"demand_rate": 1.0, "unmet_penalty_per_unit": 1000.0}},
        "transport": {"standard": {"cost_per_unit_km": 0.01}},
        "facility_types": {
            "plant": {
                "opening_cost_per_yr": 100.0,
                "module_capacity_per_yr": 1000.0,
                "products": {"standard": {"cost_per_unit": 1.0}},
            }
        },
    }
    data.update(sections)
    return model_config_from_dict(data)


# transport of 'standard' and one plant type making it, the tail of the small model files of the CLI tests
STANDARD_PLANT_TOML = """[transport.standard]
cost_per_unit_km = 0.01
[facility_types.plant]
opening_cost_per_yr = 100.0
[facility_types.plant.products.standard]
cost_per_unit = 1.0
"""

PLANT_TOML = """[facility_types.plant]
opening_cost_per_yr = 100.0
products = { standard = { cost_per_unit = 1.0 } }
"""


def tiny_model_file(path: Path, regions_path: Path, facility_types_toml: str = PLANT_TOML) -> Path:
    """The model of :func:`tiny_config` as a TOML file (for CLI tests), with the given facility types."""
    path.write_text(
        f"""name = "tiny"
[regions]
path = "{regions_path}"
id_column = "GEOID"
demand_column = "pop"
[distance]
circuity = 1.0
[products.standard]
unmet_penalty_per_unit = 1000.0
[transport.standard]
cost_per_unit_km = 0.01
{facility_types_toml}"""
    )
    return path


def with_supply(problem: Problem, bom, supplier_material, capacity, price, km, rate, co2_rate=0.0, fixed=0.0,
                material_ids=None) -> Problem:
    """``problem`` with suppliers: ``bom`` (P, M); per supplier its material, capacity and price;
    ``km[j][o]`` the distance from supplier j to option o (every pair an inbound arc); ``rate`` (and
    ``co2_rate``, ``fixed``) per option, scalar or (O,): the inbound cost per unit-km of its type."""
    import dataclasses

    from planner.problem import Supply

    km = np.asarray(km, dtype=float)
    n_suppliers, n_options = km.shape
    supplier, option = np.repeat(np.arange(n_suppliers), n_options), np.tile(np.arange(n_options), n_suppliers)
    distance = km[supplier, option]
    per_option = {name: np.broadcast_to(np.asarray(v, dtype=float), (n_options,))[option]
                  for name, v in (("rate", rate), ("co2", co2_rate), ("fixed", fixed))}
    bom = np.asarray(bom, dtype=float)
    supply = Supply(
        material_ids=tuple(material_ids or [f"m{i}" for i in range(bom.shape[1])]),
        bom=bom,
        supplier_ids=np.array([f"j{i}" for i in range(n_suppliers)], dtype=object),
        supplier_material=np.asarray(supplier_material, dtype=int),
        supplier_capacity=np.asarray(capacity, dtype=float),
        supplier_cost=np.asarray(price, dtype=float),
        supplier_lon=np.zeros(n_suppliers),
        supplier_lat=np.zeros(n_suppliers),
        in_supplier=supplier,
        in_option=option,
        in_distance_km=distance,
        in_transport_cost=per_option["rate"] * distance,
        in_co2_t=per_option["co2"] * distance / 1000.0,
        in_fixed_cost=per_option["fixed"],
    )
    return dataclasses.replace(problem, supply=supply)


def solved_summary(model: Path, out: Path, *arguments: str) -> dict:
    """``planner solve --model model --out out --quiet`` (and ``arguments``), which must succeed; its
    summary.json."""
    import json

    from click.testing import CliRunner

    from planner.cli import main

    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(out), "--quiet", *arguments])
    assert result.exit_code == 0, result.output
    return json.loads((out / "summary.json").read_text())


def record_study_parts(monkeypatch, module, *names: str) -> list[str]:
    """Wrap each function ``module.<name>`` so that every call first appends the study part being run
    (``planner.logs.current_study_part``) to the returned list."""
    from planner.logs import current_study_part

    parts: list[str] = []

    def recorded(original):
        def recording(*args, **kwargs):
            parts.append(current_study_part())
            return original(*args, **kwargs)
        return recording

    for name in names:
        monkeypatch.setattr(module, name, recorded(getattr(module, name)))
    return parts
