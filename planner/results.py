"""The solution tables with units (``attrs["unit"]`` per column), built from the solution arrays
(:class:`planner.model.solution.Solution`).

Tables:

* ``sites``: one row per open facility: ``site_id, facility_type, modules, capacity, production,
  utilization, fixed_cost, lon, lat``; ``fixed_cost`` = opening + module costs (currency/yr).
* ``flows``: ``site_id, facility_type, region_id, product, quantity, distance_km, production_cost,
  transport_cost, carbon_cost, co2_t, cost``; ``cost`` = production + transport + carbon cost.
* ``regions``: ``region_id, product, demand, served, unmet, unmet_cost``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.model.index import ModelIndex
from planner.model.solution import SHARE_ZERO, Solution, setup_paid
from planner.problem import Problem

logger = logging.getLogger(__name__)

UNITS = {
    "modules": "modules",
    "capacity": "units/yr",
    "production": "units/yr",
    "utilization": "fraction",
    "fixed_cost": "currency/yr",
    "setup_cost": "currency/yr",
    "lon": "degrees",
    "lat": "degrees",
    "quantity": "units/yr",
    "distance_km": "km",
    "production_cost": "currency/yr",
    "transport_cost": "currency/yr",
    "carbon_cost": "currency/yr",
    "co2_t": "t CO2/yr",
    "cost": "currency/yr",
    "demand": "units/yr",
    "served": "units/yr",
    "unmet": "units/yr",
    "unmet_cost": "currency/yr",
}


def _with_units(frame: pd.DataFrame) -> pd.DataFrame:
    frame.attrs["unit"] = {column: UNITS[column] for column in frame.columns if column in UNITS}
    return frame


def flows_table(problem: Problem, index: ModelIndex, solution: Solution) -> pd.DataFrame:
    """One row per arc that carries product."""
    used = np.flatnonzero(solution.assign > 0)
    quantity = solution.assign[used] * index.pair_demand[index.arc_pair[used]]
    option = problem.arc_option[used]
    co2 = problem.arc_co2_t[used] * quantity
    frame = pd.DataFrame(
        {
            "site_id": problem.site_ids[problem.option_site[option]],
            "facility_type": np.asarray(problem.type_ids, dtype=object)[problem.option_type[option]],
            "region_id": problem.region_ids[problem.arc_region[used]],
            "product": np.asarray(problem.product_ids, dtype=object)[problem.arc_product[used]],
            "quantity": quantity,
            "distance_km": problem.arc_distance_km[used],
            "production_cost": problem.arc_production_cost[used] * quantity,
            "transport_cost": problem.arc_transport_cost[used] * quantity,
            "carbon_cost": problem.carbon_price * co2,
            "co2_t": co2,
        }
    )
    frame["cost"] = frame["production_cost"] + frame["transport_cost"] + frame["carbon_cost"]
    return _with_units(frame)


def sites_table(problem: Problem, index: ModelIndex, solution: Solution) -> pd.DataFrame:
    """One row per open facility."""
    opened = np.flatnonzero(solution.open > 0)
    arc_quantity = solution.assign * index.arc_demand
    production = np.bincount(problem.arc_option, weights=arc_quantity, minlength=problem.n_options)
    modules = solution.modules[opened]
    capacity = problem.module_capacity[opened] * modules
    site = problem.option_site[opened]
    with np.errstate(invalid="ignore", divide="ignore"):
        utilization = np.where(np.isfinite(capacity), production[opened] / capacity, np.nan)
    frame = pd.DataFrame(
        {
            "site_id": problem.site_ids[site],
            "facility_type": np.asarray(problem.type_ids, dtype=object)[problem.option_type[opened]],
            "modules": modules,
            "capacity": capacity,
            "production": production[opened],
            "utilization": utilization,
            "fixed_cost": problem.opening_cost[opened] + problem.module_cost[opened] * modules,
            "setup_cost": (problem.setup_cost[opened] * setup_paid(problem, solution)[opened]).sum(axis=1),
            "lon": problem.site_lon[site] if problem.site_lon is not None else np.nan,
            "lat": problem.site_lat[site] if problem.site_lat is not None else np.nan,
        }
    )
    return _with_units(frame)


def regions_table(problem: Problem, index: ModelIndex, solution: Solution) -> pd.DataFrame:
    """Demand, served and unmet per (region, product) with positive demand."""
    arc_quantity = solution.assign * index.arc_demand
    served = np.bincount(index.arc_pair, weights=arc_quantity, minlength=index.n_pairs)
    unmet = index.pair_demand - served
    unmet[np.abs(unmet) < SHARE_ZERO * index.pair_demand] = 0.0
    penalty = np.where(np.isfinite(index.pair_penalty), index.pair_penalty, 0.0)
    frame = pd.DataFrame(
        {
            "region_id": problem.region_ids[index.pair_region],
            "product": np.asarray(problem.product_ids, dtype=object)[index.pair_product],
            "demand": index.pair_demand,
            "served": served,
            "unmet": unmet,
            "unmet_cost": penalty * np.maximum(unmet, 0.0),
        }
    )
    return _with_units(frame)


@dataclass(frozen=True)
class ResultTables:
    """The three solution tables."""

    sites: pd.DataFrame
    flows: pd.DataFrame
    regions: pd.DataFrame

    @classmethod
    def from_solution(cls, problem: Problem, index: ModelIndex, solution: Solution) -> ResultTables:
        return cls(
            sites=sites_table(problem, index, solution),
            flows=flows_table(problem, index, solution),
            regions=regions_table(problem, index, solution),
        )

    def cost_parts(self) -> dict[str, float]:
        """The objective split (currency/yr): fixed, setup, production, transport, carbon, unmet_penalty."""
        return {
            "fixed": float(self.sites["fixed_cost"].sum()),
            "setup": float(self.sites["setup_cost"].sum()),
            "production": float(self.flows["production_cost"].sum()),
            "transport": float(self.flows["transport_cost"].sum()),
            "carbon": float(self.flows["carbon_cost"].sum()),
            "unmet_penalty": float(self.regions["unmet_cost"].sum()),
        }

    def cost_to_serve(self) -> pd.Series:
        """Fully loaded cost to serve per region (currency/unit): its flow costs, its share of the fixed
        and setup costs of the facilities serving it (by quantity), and its unmet penalty, per unit of
        its demand."""
        flows = self.flows
        facility = self.sites.set_index(["site_id", "facility_type"])
        overhead = facility["fixed_cost"] + facility.get("setup_cost", 0.0)
        per_unit = (overhead / facility["production"].where(facility["production"] > 0)).fillna(0.0)
        keys = pd.MultiIndex.from_frame(flows[["site_id", "facility_type"]])
        loaded = flows["cost"].to_numpy() + flows["quantity"].to_numpy() * per_unit.reindex(keys).fillna(0.0).to_numpy()
        demand = self.regions.groupby("region_id")["demand"].sum()
        cost = pd.Series(loaded, index=flows["region_id"].to_numpy()).groupby(level=0).sum()
        unmet = self.regions.groupby("region_id")["unmet_cost"].sum()
        total = cost.reindex(demand.index).fillna(0.0) + unmet.reindex(demand.index).fillna(0.0)
        return total / demand.where(demand > 0)

    def facility_counts(self, type_ids) -> dict[str, int]:
        counts = self.sites["facility_type"].value_counts()
        return {type_id: int(counts.get(type_id, 0)) for type_id in type_ids}

    def demand_by_product(self) -> dict[str, dict[str, float]]:
        grouped = self.regions.groupby("product")[["demand", "served", "unmet"]].sum()
        return {str(p): {k: float(v) for k, v in row.items()} for p, row in grouped.iterrows()}
