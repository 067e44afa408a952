"""The solution tables with units (``attrs["unit"]`` per column), built from the solution arrays
(:class:`planner.model.solution.Solution`).

Tables:

* ``sites``: one row per open facility: ``site_id, facility_type, modules, capacity, production,
  utilization, fixed_cost, lon, lat``; ``fixed_cost`` = opening + module costs (currency/yr).
* ``flows``: ``site_id, facility_type, region_id, product, quantity, distance_km, production_cost,
  transport_cost, carbon_cost, co2_t, cost``; ``cost`` = production + transport + carbon cost.
* ``regions``: ``region_id, product, demand, served, unmet, unmet_cost``.

Where the regions have names (a name column), a geographic solve adds them beside the ids
(:meth:`ResultTables.named`): ``region_name`` in ``regions`` and ``flows``, and ``site_name`` in ``sites``
and ``flows`` where the sites are the regions.

With proximity bands, ``quantity`` is what an arc delivers (its demand factor × the share of the
base demand it serves), ``flows`` gains ``revenue`` (price × quantity) where products have prices,
``regions.served`` counts the base demand served and ``regions.captured`` the units delivered; the
cost part ``revenue`` is minus the revenue, so the parts still add up to the objective.

Service (:meth:`ResultTables.service_levels`, :meth:`ResultTables.coverage_curve`): the share of each
product's demand served within a distance (and time), recomputed from ``flows`` and ``regions``.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.errors import amount_text  # noqa: F401  (kept here too: the CLI and the exports import it from here)
from planner.model.index import ModelIndex
from planner.model.solution import SHARE_ZERO, Solution, setup_paid
from planner.problem import Problem

logger = logging.getLogger(__name__)

TYPE_COUNT_PREFIX = "n_type_"  # per-type count columns of study tables, apart from the role totals (n_central …)


def type_count_column(type_id: str) -> str:
    """The study tables' column of the open facilities of one type (``n_type_<type>``: a type named
    ``central`` or ``facilities`` must not overwrite a role total)."""
    return f"{TYPE_COUNT_PREFIX}{type_id}"


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
    "minutes": "min",
    "share_within": "fraction",
    "production_cost": "currency/yr",
    "transport_cost": "currency/yr",
    "carbon_cost": "currency/yr",
    "co2_t": "t CO2/yr",
    "cost": "currency/yr",
    "demand": "units/yr",
    "served": "units/yr",
    "unmet": "units/yr",
    "unmet_cost": "currency/yr",
    "revenue": "currency/yr",
    "captured": "units/yr",
    "material_cost": "currency/yr",
    "relationship_cost": "currency/yr",
}


def _with_units(frame: pd.DataFrame) -> pd.DataFrame:
    frame.attrs["unit"] = {column: UNITS[column] for column in frame.columns if column in UNITS}
    return frame


def flows_table(problem: Problem, index: ModelIndex, solution: Solution) -> pd.DataFrame:
    """One row per arc that carries product."""
    used = np.flatnonzero(solution.assign > 0)
    quantity = solution.assign[used] * index.arc_demand[used]
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
    if (problem.arc_price != 0).any():  # proximity prices: revenue (currency/yr), not part of cost
        frame["revenue"] = problem.arc_price[used] * quantity
    if np.isfinite(problem.arc_minutes).any():  # the OD matrix gave delivery times
        frame.insert(frame.columns.get_loc("distance_km") + 1, "minutes", problem.arc_minutes[used])
    if (problem.arc_demand_factor != 1).any():  # proximity: the base demand each flow serves (service levels count it)
        served = solution.assign[used] * index.arc_base_demand[used]
        frame.insert(frame.columns.get_loc("quantity") + 1, "served", served)
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
    utilization[np.abs(utilization - 1.0) < SHARE_ZERO] = 1.0  # a full facility, not 99.999999 %
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
    served = np.bincount(index.arc_pair, weights=solution.assign * index.arc_base_demand,
                         minlength=index.n_pairs)  # of the base demand (a demand factor scales the delivery)
    unmet = index.pair_demand - served
    noise = np.abs(unmet) < SHARE_ZERO * index.pair_demand  # served in full: the rest is the solver's rounding
    noise |= unmet < 0  # served beyond the demand is the tolerance of its row (shares + unmet = 1, unmet ≥ 0): a
    # CO2-capped solve had listed unmet -0.011; the audit still sees the flows' excess (demand_balance)
    unmet[noise], served[noise] = 0.0, index.pair_demand[noise]
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
    if (problem.arc_demand_factor != 1).any():  # proximity: units delivered (captured) differ from served
        frame.insert(frame.columns.get_loc("served") + 1, "captured",
                     np.bincount(index.arc_pair, weights=solution.assign * index.arc_demand, minlength=index.n_pairs))
    return _with_units(frame)


def served_column(flows: pd.DataFrame) -> str:
    """The column of ``flows`` with the base demand each flow serves: ``served`` with proximity bands (a
    demand factor scales what is delivered, not the customers' demand), else ``quantity``."""
    return "served" if "served" in flows.columns else "quantity"


def service_text(level: dict) -> str:
    """One service level in words: ``standard: 83.1% within 500 km (required 80.0%)``."""
    limits = [f"{level['within_km']:g} km" if level.get("within_km") not in (None, np.inf) else "",
              f"{level['within_minutes']:g} min" if level.get("within_minutes") not in (None, np.inf) else ""]
    within = " and ".join(limit for limit in limits if limit)
    return (f"{level['product']}: {100 * level['achieved_share']:.1f}% within {within} "
            f"(required {100 * level['required_share']:.1f}%)")


def inbound_table(problem: Problem, solution: Solution) -> pd.DataFrame | None:
    """One row per inbound arc carrying material (None without suppliers): ``supplier_id, material,
    site_id, facility_type, quantity`` (units of material/yr), ``distance_km``, ``material_cost``,
    ``transport_cost``, ``carbon_cost``, ``relationship_cost`` (currency/yr), ``co2_t``, ``cost``."""
    supply = problem.supply
    if supply is None:
        return None
    inbound = solution.inbound if solution.inbound is not None else np.zeros(supply.n_inbound)
    paid = solution.relation if solution.relation is not None else np.zeros(supply.n_inbound, dtype=int)
    used = np.flatnonzero((inbound > 0) | (paid > 0))  # a relationship may be paid without a flow
    quantity, option, supplier = inbound[used], supply.in_option[used], supply.in_supplier[used]
    co2 = supply.in_co2_t[used] * quantity
    frame = pd.DataFrame({
        "supplier_id": supply.supplier_ids[supplier],
        "material": np.asarray(supply.material_ids, dtype=object)[supply.supplier_material[supplier]],
        "site_id": problem.site_ids[problem.option_site[option]],
        "facility_type": np.asarray(problem.type_ids, dtype=object)[problem.option_type[option]],
        "quantity": quantity,
        "distance_km": supply.in_distance_km[used],
        "material_cost": supply.supplier_cost[supplier] * quantity,
        "transport_cost": supply.in_transport_cost[used] * quantity,
        "carbon_cost": problem.carbon_price * co2,
        # a flow to a closed facility is the solver's rounding (within the closed-site tolerance the audit allows,
        # as its relationship variable is within the integrality tolerance of 0): it pays no relationship
        "relationship_cost": supply.in_fixed_cost[used] * ((paid[used] > 0) | ((inbound[used] > 0)
                                                                              & (solution.open[option] > 0))),
        "co2_t": co2,
    })
    frame["cost"] = frame[["material_cost", "transport_cost", "carbon_cost", "relationship_cost"]].sum(axis=1)
    frame = _with_units(frame)
    frame.attrs["unit"]["quantity"] = "material units/yr"  # kg of steel, sets of electronics, ...
    return frame


def region_names(regions: pd.DataFrame) -> dict[str, str]:
    """Region id → name, where the regions (``region_id``, ``region_name``) have names of their own; else empty."""
    if "region_name" not in regions:
        return {}
    ids, names = regions["region_id"].astype(str), regions["region_name"].astype(str)
    return dict(zip(ids, names, strict=True)) if (ids != names).any() else {}


COVERAGE_POINTS = 50  # distances of a coverage curve, in coverage.csv and summary.json alike


@dataclass(frozen=True)
class ResultTables:
    """The solution tables; ``inbound`` only with suppliers."""

    sites: pd.DataFrame
    flows: pd.DataFrame
    regions: pd.DataFrame
    inbound: pd.DataFrame | None = None

    @classmethod
    def from_solution(cls, problem: Problem, index: ModelIndex, solution: Solution) -> ResultTables:
        return cls(
            sites=sites_table(problem, index, solution),
            flows=flows_table(problem, index, solution),
            regions=regions_table(problem, index, solution),
            inbound=inbound_table(problem, solution),
        )

    def cost_parts(self) -> dict[str, float]:
        """The objective split (currency/yr): fixed, setup, production, transport, carbon, unmet_penalty
        (and revenue, negative, where products have prices)."""
        return {
            "fixed": float(self.sites["fixed_cost"].sum()),
            "setup": float(self.sites["setup_cost"].sum()),
            "production": float(self.flows["production_cost"].sum()),
            "transport": float(self.flows["transport_cost"].sum()),
            "carbon": float(self.flows["carbon_cost"].sum()),
            "unmet_penalty": float(self.regions["unmet_cost"].sum()),
            **({"revenue": -float(self.flows["revenue"].sum())} if "revenue" in self.flows else {}),
            **self.inbound_parts(),
        }

    def named(self, region_names: dict[str, str], sites_are_regions: bool) -> ResultTables:
        """The tables with the regions' names beside their ids (``region_names``: id → name; empty where
        the regions have no names of their own, and then the tables are returned as they are):
        ``region_name`` after ``region_id`` in ``regions`` and ``flows``, and, where the sites are the
        regions themselves (``sites_are_regions``: no sites file, whose ids may mean other places),
        ``site_name`` after ``site_id`` in ``sites`` and ``flows``."""
        if not region_names:
            return self
        pairs = [("region_id", "region_name")] + ([("site_id", "site_name")] if sites_are_regions else [])

        def with_names(table: pd.DataFrame) -> pd.DataFrame:
            table = table.copy()
            for id_column, name_column in pairs:
                if id_column in table and name_column not in table:
                    names = table[id_column].astype(str).map(region_names).fillna("")
                    table.insert(table.columns.get_loc(id_column) + 1, name_column, names.to_numpy(dtype=object))
            return table

        return dataclasses.replace(self, sites=with_names(self.sites), flows=with_names(self.flows),
                                   regions=with_names(self.regions))

    def inbound_parts(self) -> dict[str, float]:
        """``inbound`` (materials bought, their transport and supply relationships) and
        ``inbound_carbon`` (currency/yr); empty without suppliers."""
        if self.inbound is None:
            return {}
        inbound = self.inbound
        bought = inbound["material_cost"].sum() + inbound["transport_cost"].sum() + inbound["relationship_cost"].sum()
        return {"inbound": float(bought), "inbound_carbon": float(inbound["carbon_cost"].sum())}

    def co2_t(self) -> float:
        """The network's emissions, t CO2/yr: production and delivery, and inbound transport."""
        inbound = 0.0 if self.inbound is None else float(self.inbound["co2_t"].sum())
        return float(self.flows["co2_t"].sum()) + inbound

    def cost_to_serve(self) -> pd.Series:
        """Fully loaded cost to serve per region (currency/unit): its flow costs less their revenue
        (where products have prices), its share of the fixed and setup costs and of the inbound supply
        costs of the facilities serving it (by quantity), and its unmet penalty, per unit of its demand.
        (Without the revenue a priced model's profitable regions had cost more to serve than regions
        left unserved, which cost nothing: ``compare`` had shown central plants winning everywhere.)"""
        flows = self.flows
        facility = self.sites.set_index(["site_id", "facility_type"])
        overhead = facility["fixed_cost"] + facility.get("setup_cost", 0.0)
        if self.inbound is not None:
            inbound = self.inbound.groupby(["site_id", "facility_type"])["cost"].sum()
            overhead = overhead.add(inbound.reindex(overhead.index).fillna(0.0), fill_value=0.0)
        per_unit = (overhead / facility["production"].where(facility["production"] > 0)).fillna(0.0)
        keys = pd.MultiIndex.from_frame(flows[["site_id", "facility_type"]])
        net = flows["cost"].to_numpy() - (flows["revenue"].to_numpy() if "revenue" in flows else 0.0)
        loaded = net + flows["quantity"].to_numpy() * per_unit.reindex(keys).fillna(0.0).to_numpy()
        demand = self.regions.groupby("region_id")["demand"].sum()
        cost = pd.Series(loaded, index=flows["region_id"].to_numpy()).groupby(level=0).sum()
        unmet = self.regions.groupby("region_id")["unmet_cost"].sum()
        total = cost.reindex(demand.index).fillna(0.0) + unmet.reindex(demand.index).fillna(0.0)
        return total / demand.where(demand > 0)

    def facility_counts(self, type_ids) -> dict[str, int]:
        counts = self.sites["facility_type"].value_counts()
        return {type_id: int(counts.get(type_id, 0)) for type_id in type_ids}

    def served_within(self, product: str, within_km: float, within_minutes: float = np.inf) -> float:
        """Units/yr of ``product``'s demand served within ``within_km`` km and ``within_minutes`` minutes (the
        base demand: with proximity bands the flows' ``served``, not the units they deliver)."""
        flows = self.flows[self.flows["product"] == product]
        near = flows["distance_km"] <= within_km
        if np.isfinite(within_minutes):
            near &= flows["minutes"] <= within_minutes if "minutes" in flows else False
        return float(flows.loc[near, served_column(flows)].sum())

    def service_levels(self, problem: Problem) -> list[dict]:
        """Per product with a service level: the required and the achieved share of its demand within
        the limit (fractions), the demand and the units served within (units/yr)."""
        demand = self.regions.groupby("product")["demand"].sum()
        rows = []
        for p in problem.serviced_products.tolist():
            product = problem.product_ids[p]
            total = float(demand.get(product, 0.0))
            within = self.served_within(product, problem.service_km[p], problem.service_minutes[p])
            rows.append({
                "product": product,
                "required_share": float(problem.service_share[p]),
                "within_km": float(problem.service_km[p]),
                "within_minutes": float(problem.service_minutes[p]),
                "achieved_share": within / total if total > 0 else 1.0,
                "demand": total,
                "served_within": within,
            })
        return rows

    def coverage_curve(self, points: int = COVERAGE_POINTS) -> pd.DataFrame:
        """Per product with demand, the share of its demand served within d km for ``points`` distances d
        from 0 to the longest delivery (``product, distance_km, share_within``; unmet demand is never
        within): one row at 0 km where every delivery is 0 km long, or where none is made (share 0)."""
        demand = self.regions.groupby("product")["demand"].sum()
        parts = []
        delivered = dict(tuple(self.flows.groupby("product"))) if len(self.flows) else {}
        for product, total in demand[demand > 0].items():
            flows = delivered.get(product)
            if flows is None:
                parts.append(pd.DataFrame({"product": [product], "distance_km": [0.0], "share_within": [0.0]}))
                continue
            order = np.argsort(flows["distance_km"].to_numpy(), kind="stable")
            km = flows["distance_km"].to_numpy()[order]
            served = np.cumsum(flows[served_column(flows)].to_numpy()[order])
            grid = np.linspace(0.0, float(km[-1]), points) if km[-1] > 0 else np.zeros(1)
            count = np.searchsorted(km, grid, side="right")
            within = np.where(count > 0, served[np.maximum(count - 1, 0)], 0.0)
            parts.append(pd.DataFrame({"product": product, "distance_km": grid, "share_within": within / total}))
        columns = ["product", "distance_km", "share_within"]
        return _with_units(pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns))

    def demand_by_product(self, product_ids: tuple[str, ...] = ()) -> dict[str, dict[str, float]]:
        """units/yr demanded, served and unmet per product; ``product_ids`` listed with zeros where no
        region demands them (all demand 0 gave ``{}``)."""
        grouped = self.regions.groupby("product")[["demand", "served", "unmet"]].sum()
        totals = {str(p): {k: float(v) for k, v in row.items()} for p, row in grouped.iterrows()}
        zero = {"demand": 0.0, "served": 0.0, "unmet": 0.0}
        every = {**{str(p): dict(zero) for p in product_ids}, **totals}
        return {p: every[p] for p in sorted(every)}  # by name, as the groupby orders them
