"""Independent audit of a solution: recomputed from the output tables and the problem's input data,
never from the solver's variables or objective.

The tables are joined with the input data once (:func:`join_tables`); then each ``check_*``
function of :data:`CHECKS` returns its violations (≥ 0; units/yr unless stated) and tolerances:

* :func:`check_demand_balance`: ``demand_balance``, served + unmet = demand for every (region,
  product) with demand (served: each flow's quantity over its arc's demand factor, 1 without
  proximity bands), no pair missing, no unmet demand that must be served; ``negative_quantities``.
* :func:`check_eligible_arcs`: ``eligible_arcs``, every flow uses an allowed (site, type, region,
  product) arc, so the type makes the product and every delivery radius holds; ``radius_km``
  (distance − product radius).
* :func:`check_sites`: ``closed_sites``, no flow leaves a facility that is not in the sites table;
  ``capacity``, production ≤ modules × module capacity; ``modules`` whole and within [min, max].
* :func:`check_structure`: ``one_type_per_site``, ``facility_counts``, ``forced_open``,
  ``capex_budget``, ``single_sourcing``.
* :func:`check_co2_and_service`: ``co2_cap`` (t CO2/yr over the cap, recomputed from the input arcs)
  and ``unmet_limit`` (unmet units/yr over a product's limit).
* :func:`check_service_level`: ``service_level`` (units/yr a product's service level requires within
  its distance/time limit that the flows do not deliver within it, judged by the input arc's km and minutes).
* :func:`check_revenue`: ``revenue`` (the flows' revenue against price × quantity of their arcs).
* :func:`check_supply`: ``inbound_arcs``, ``material_balance`` (material in = the flows' production
  × bill of materials, per facility and material), ``supplier_capacity`` (units of material/yr).
* :func:`check_setups`: ``setup_paid`` (currency/yr of setups that flows need and their facility's row
  of the sites table lacks).
* :func:`check_table_figures`: ``co2_table``, ``cost_parts`` and ``table_figures``: the CO2, cost parts,
  demand, distances, production and capacity the summary, report and maps show agree with the inputs
  (relative differences).

``objective`` (:func:`recompute_objective`, :func:`objective_differs`): Σ fixed_cost + setups +
Σ flow cost + Σ unmet × penalty + inbound cost (:func:`inbound_cost`), each recomputed from unit
costs, against the solver's objective:
within 1e-6 of it, plus what the solver's feasibility tolerance (1e-6 of a pair's demand) can move
the unmet penalty (1e-6 × Σ penalty × demand).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from planner.problem import CAPEX_ROUNDING, Problem
from planner.results import ResultTables

logger = logging.getLogger(__name__)

RELATIVE_TOLERANCE = 1e-6
SOLVER_FEASIBILITY_TOLERANCE = 1e-6  # HiGHS's mip_feasibility_tolerance (shares of a pair's demand)


def _largest(values, floor: float = 0.0) -> float:
    """Largest of ``values`` and ``floor`` (so empty inputs give ``floor``)."""
    return float(np.max(np.asarray(values, dtype=float), initial=floor))


@dataclass(frozen=True)
class AuditReport:
    """Violation per check (absolute, in the check's unit) and the recomputed objective."""

    violations: dict[str, float]
    tolerances: dict[str, float]
    objective_recomputed: float
    objective_reported: float | None
    objective_difference: float | None  # relative
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def max_violation(self) -> float:
        return max(self.violations.values(), default=0.0)

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "failures": self.failures,
            "max_violation": self.max_violation,
            "violations": self.violations,
            "objective_recomputed": self.objective_recomputed,
            "objective_reported": self.objective_reported,
            "objective_relative_difference": self.objective_difference,
        }


def _option_keys(problem: Problem) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_id": problem.site_ids[problem.option_site],
            "facility_type": np.asarray(problem.type_ids, dtype=object)[problem.option_type],
            "option": np.arange(problem.n_options),
        }
    )


def _arc_keys(problem: Problem, options_used: np.ndarray | None = None) -> pd.DataFrame:
    """The arcs with their keys and figures; only those of ``options_used`` (option positions) where given:
    the flows can match no other (on 15 million arcs the whole table had raised the audit's peak memory
    from 2.3 to 6.1 GB to check 5,000 flows)."""
    options = _option_keys(problem)
    arcs = slice(None) if options_used is None else np.flatnonzero(np.isin(problem.arc_option, options_used))
    arc_option = problem.arc_option[arcs]
    return pd.DataFrame(
        {
            "site_id": options["site_id"].to_numpy()[arc_option],
            "facility_type": options["facility_type"].to_numpy()[arc_option],
            "region_id": problem.region_ids[problem.arc_region[arcs]],
            "product": np.asarray(problem.product_ids, dtype=object)[problem.arc_product[arcs]],
            "unit_cost": problem.arc_unit_cost[arcs],
            "arc_co2_t": problem.arc_co2_t[arcs],
            "arc_distance_km": problem.arc_distance_km[arcs],
            "arc_minutes": problem.arc_minutes[arcs],
            "arc_factor": problem.arc_demand_factor[arcs],
            "arc_price": problem.arc_price[arcs],
        }
    )


class Check(NamedTuple):
    """One check's outcome: its violation (≥ 0, in the check's unit; None where the check does not
    apply, e.g. ``single_sourcing`` without single sourcing) and the tolerance it is held to."""

    name: str
    violation: float | None
    tolerance: float


@dataclass(frozen=True)
class Joined:
    """The result tables joined with the problem's input data once, for all checks.

    ``demand``: one row per (region, product) with input demand: ``demand_input``, ``penalty``,
    ``unmet`` (NaN where the regions table lacks the pair) and ``quantity`` served by the flows.
    ``flows``: the flows table with ``unit_cost`` and ``arc_distance_km`` of their arc (NaN: no arc).
    ``option``, ``modules``, ``unknown``: per row of the sites table, its option position (0 where
    ``unknown``, the site matches no option) and its modules."""

    tables: ResultTables
    options: pd.DataFrame
    demand: pd.DataFrame
    flows: pd.DataFrame
    option: np.ndarray
    modules: np.ndarray
    unknown: np.ndarray
    open_keys: set
    demand_scale: float  # units/yr: the largest demand (1 without any), the scale of quantity tolerances

    @property
    def quantity_tolerance(self) -> float:
        return RELATIVE_TOLERANCE * self.demand_scale


def join_tables(problem: Problem, tables: ResultTables) -> Joined:
    """See :class:`Joined`."""
    sites, flows = tables.sites, tables.flows
    products = np.asarray(problem.product_ids, dtype=object)
    region_index, product_index = np.nonzero(problem.demand > 0)
    expected = pd.DataFrame(
        {
            "region_id": problem.region_ids[region_index],
            "product": products[product_index],
            "demand_input": problem.demand[region_index, product_index],
            "penalty": problem.unmet_penalty[product_index],
        }
    )
    pairs = ["region_id", "product"]
    options = _option_keys(problem)
    used = flows[["site_id", "facility_type"]].drop_duplicates().merge(options, on=["site_id", "facility_type"])
    keyed = flows.merge(_arc_keys(problem, used["option"].to_numpy()), on=["site_id", "facility_type", "region_id",
                                                                          "product"], how="left")
    base = keyed[pairs].assign(quantity=base_served(keyed))
    served = base.groupby(pairs, as_index=False)["quantity"].sum()
    demand = expected.merge(tables.regions[[*pairs, "unmet"]], on=pairs, how="left")
    demand = demand.merge(served, on=pairs, how="left").fillna({"quantity": 0.0})
    option = sites.merge(options, on=["site_id", "facility_type"], how="left")["option"].to_numpy()
    unknown = np.isnan(option.astype(float))
    return Joined(
        tables=tables,
        options=options,
        demand=demand,
        flows=keyed,
        option=np.where(unknown, 0, option).astype(int),
        modules=sites["modules"].to_numpy(),
        unknown=unknown,
        open_keys=set(zip(sites["site_id"], sites["facility_type"], strict=False)),
        demand_scale=float(problem.demand.max(initial=0.0)) or 1.0,  # no floor: 1e-7 units are held to 1e-13
    )


def check_demand_balance(problem: Problem, joined: Joined) -> list[Check]:
    """Served + unmet = demand for every pair with demand, no pair missing, no unmet demand that must
    be served (``demand_balance``); no negative flow or unmet quantity (``negative_quantities``)."""
    demand, flows, regions = joined.demand, joined.tables.flows, joined.tables.regions
    missing_rows = demand["unmet"].isna().sum()
    balance = (demand["quantity"] + demand["unmet"].fillna(0.0) - demand["demand_input"]).abs()
    must_serve_unmet = demand.loc[~np.isfinite(demand["penalty"]), "unmet"].clip(lower=0).fillna(0.0)
    imbalance = float(max(_largest(balance), _largest(must_serve_unmet), joined.demand_scale * missing_rows))
    negative = max(_largest(-flows["quantity"]), _largest(-regions["unmet"]))
    return [
        Check("demand_balance", imbalance, joined.quantity_tolerance),
        Check("negative_quantities", negative, joined.quantity_tolerance),
    ]


def check_eligible_arcs(problem: Problem, joined: Joined) -> list[Check]:
    """Every flow is an arc of the problem (``eligible_arcs``, units/yr off the arcs) and within its
    product's delivery radius (``radius_km``, km beyond it)."""
    flows = joined.tables.flows
    ineligible = joined.flows["unit_cost"].isna()
    radius = pd.Series(problem.max_distance_km, index=list(problem.product_ids))
    over = flows["distance_km"].to_numpy() - radius.reindex(flows["product"]).to_numpy()
    return [
        Check("eligible_arcs", float(joined.flows.loc[ineligible, "quantity"].sum()), joined.quantity_tolerance),
        Check("radius_km", _largest(over), 1e-6),
    ]


def check_sites(problem: Problem, joined: Joined) -> list[Check]:
    """No flow from a facility missing from the sites table (``closed_sites``); production ≤ modules
    × module capacity (``capacity``); whole modules within [min, max] of a known option (``modules``)."""
    sites, flows = joined.tables.sites, joined.tables.flows
    from_closed = [key not in joined.open_keys for key in zip(flows["site_id"], flows["facility_type"], strict=False)]
    production = flows.groupby(["site_id", "facility_type"])["quantity"].sum()
    keys = list(zip(sites["site_id"], sites["facility_type"], strict=False))
    load = production.reindex(keys).fillna(0.0).to_numpy()
    option, modules = joined.option, joined.modules
    capacity = problem.module_capacity[option] * modules
    module_excess = np.maximum(problem.min_modules[option] - modules, 0) + np.maximum(
        modules - problem.max_modules[option], 0
    ) + np.abs(modules - np.round(modules))  # whole modules
    return [
        Check("closed_sites", float(flows.loc[from_closed, "quantity"].sum()), joined.quantity_tolerance),
        Check("capacity", _largest(load - capacity), joined.quantity_tolerance),
        Check("modules", _largest(module_excess) + float(joined.unknown.sum()), 0.0),
    ]


def check_structure(problem: Problem, joined: Joined) -> list[Check]:
    """One type per site, facility counts by type and in total, forced sites open, the capex budget
    (currency), single sourcing (extra sources of a pair)."""
    sites, flows, options = joined.tables.sites, joined.tables.flows, joined.options
    one_type = float(max(sites["site_id"].value_counts().max() - 1, 0) if len(sites) else 0)
    forced_keys = set(zip(options["site_id"][problem.forced], options["facility_type"][problem.forced], strict=False))
    spend = float((problem.capex[joined.option] + problem.capex_per_module[joined.option] * joined.modules).sum())
    over_budget = max(spend - problem.capex_budget, 0.0) if np.isfinite(problem.capex_budget) else 0.0
    extra_sources = None
    if problem.single_sourcing:
        extra_sources = _largest(flows[flows["quantity"] > 0].groupby(["region_id", "product"]).size() - 1)
    return [
        Check("one_type_per_site", one_type, 0.0),
        Check("facility_counts", _count_excess(problem, sites), 0.0),
        Check("forced_open", float(len(forced_keys - joined.open_keys)), 0.0),
        Check("capex_budget", over_budget, CAPEX_ROUNDING * max(spend, abs(problem.capex_budget))),  # rounding only
        Check("single_sourcing", extra_sources, 0.0),
    ]


def _count_excess(problem: Problem, sites: pd.DataFrame) -> float:
    """How far the open facilities are outside the count limits, per type or in total."""
    type_counts = sites["facility_type"].value_counts()
    count_excess = 0
    for k, type_id in enumerate(problem.type_ids):
        n = int(type_counts.get(type_id, 0))
        count_excess = max(count_excess, problem.type_min_count[k] - n, n - problem.type_max_count[k])
    max_facilities = problem.n_options if problem.max_facilities is None else problem.max_facilities
    count_excess = max(count_excess, problem.min_facilities - len(sites), len(sites) - max_facilities)
    return float(max(count_excess, 0))


CAP_SHARE_TOLERATED = 1e-3  # of a small CO2 cap: its floor of 1e-6 t had let 2,200x a cap of 5e-11 t pass


def co2_cap_tolerance(co2: float, cap: float) -> float:
    """t CO2/yr over the cap that the audit lets pass: 1e-6 of the emissions (at least of 1 t), at most
    ``CAP_SHARE_TOLERATED`` of a positive cap (a cap of 0 keeps the 1e-6 t the solver's tolerances need)."""
    tolerance = RELATIVE_TOLERANCE * max(co2, 1.0)
    return min(tolerance, CAP_SHARE_TOLERATED * cap) if cap > 0 else tolerance


def check_co2_and_service(problem: Problem, joined: Joined) -> list[Check]:
    """Emissions over the cap (``co2_cap``, t CO2/yr) and unmet units over a product's limit
    (``unmet_limit``, units/yr)."""
    co2 = recompute_co2(problem, joined)
    over_cap = max(co2 - problem.co2_cap_t, 0.0) if np.isfinite(problem.co2_cap_t) else 0.0
    unmet = joined.demand.groupby("product")["unmet"].sum().reindex(list(problem.product_ids)).fillna(0.0)
    over_limit = unmet.to_numpy() - problem.max_unmet
    return [
        Check("co2_cap", over_cap, co2_cap_tolerance(co2, problem.co2_cap_t)),
        Check("unmet_limit", _largest(over_limit[np.isfinite(problem.max_unmet)]), joined.quantity_tolerance),
    ]


def recompute_co2(problem: Problem, joined: Joined) -> float:
    """t CO2/yr: Σ flow quantity × its input arc's t CO2 per unit, and the same for inbound material."""
    flows = joined.flows
    co2 = float((flows["arc_co2_t"].fillna(0.0) * flows["quantity"]).sum())
    inbound = joined.tables.inbound
    if problem.supply is not None and inbound is not None and not inbound.empty:
        keyed = inbound.merge(_inbound_keys(problem), on=["supplier_id", "site_id", "facility_type"], how="left")
        co2 += float((keyed["co2_input"].fillna(0.0) * keyed["quantity"]).sum())
    return co2


def check_table_figures(problem: Problem, joined: Joined) -> list[Check]:
    """The figures the summary, report and maps are built from agree with the inputs (each a relative
    difference): the tables' CO2 with :func:`recompute_co2` (``co2_table``); their cost parts with the
    recomputed objective (``cost_parts``); each region's demand, each flow's distance, each site's
    production (Σ its flows) and capacity (modules × module capacity) (``table_figures``)."""
    tables = joined.tables
    co2 = recompute_co2(problem, joined)
    objective = recompute_objective(problem, joined)
    parts = float(sum(value for value in tables.cost_parts().values() if value is not None))
    demand = joined.demand.merge(tables.regions[["region_id", "product", "demand"]], on=["region_id", "product"],
                                 how="left")
    sites = tables.sites
    production = tables.flows.groupby(["site_id", "facility_type"])["quantity"].sum()
    keys = list(zip(sites["site_id"], sites["facility_type"], strict=False))
    capacity = problem.module_capacity[joined.option] * joined.modules
    pairs = [(demand["demand"].to_numpy(), demand["demand_input"].to_numpy()),
             (tables.flows["distance_km"].to_numpy(), joined.flows["arc_distance_km"].to_numpy()),
             (sites["production"].to_numpy(), production.reindex(keys).fillna(0.0).to_numpy()),
             (sites["capacity"].to_numpy(), capacity)]
    return [
        Check("co2_table", abs(tables.co2_t() - co2) / max(co2, 1.0), RELATIVE_TOLERANCE),
        Check("cost_parts", abs(parts - objective) / max(abs(objective), 1.0), RELATIVE_TOLERANCE),
        Check("table_figures", max(_largest_relative(shown, actual) for shown, actual in pairs), RELATIVE_TOLERANCE),
    ]


def _largest_relative(shown: np.ndarray, actual: np.ndarray) -> float:
    """The largest |shown − actual| / max(|actual|, 1) (equal infinities and NaNs agree; a NaN or an
    infinity against a number is 1)."""
    shown, actual = np.asarray(shown, dtype=float), np.asarray(actual, dtype=float)
    same = (shown == actual) | (np.isnan(shown) & np.isnan(actual))
    with np.errstate(invalid="ignore"):
        relative = np.abs(shown - actual) / np.maximum(np.abs(actual), 1.0)
    relative = np.where(same, 0.0, np.where(np.isfinite(relative), relative, 1.0))
    return float(relative.max(initial=0.0))


def check_revenue(problem: Problem, joined: Joined) -> list[Check]:
    """The revenue column equals price × quantity of each flow's arc (``revenue``, currency/yr)."""
    if "revenue" not in joined.flows:
        return [Check("revenue", None, 0.0)]
    expected = joined.flows["arc_price"].fillna(0.0) * joined.flows["quantity"]
    difference = float((joined.flows["revenue"] - expected).abs().sum())
    return [Check("revenue", difference, RELATIVE_TOLERANCE * max(float(expected.sum()), 1.0))]


def base_served(flows: pd.DataFrame) -> pd.Series:
    """The base demand each flow serves (units/yr): its quantity over its input arc's demand factor
    (proximity; 1 without, and where the arc is unknown)."""
    return flows["quantity"] / flows["arc_factor"].fillna(1.0).replace(0.0, 1.0)


def check_service_level(problem: Problem, joined: Joined) -> list[Check]:
    """Per product with a service level: the units/yr its level requires within the limit minus the
    units the flows deliver within it, judged by the distance and time of each flow's arc in the
    input (``service_level``, units/yr short)."""
    if not len(problem.serviced_products):
        return [Check("service_level", None, 0.0)]
    flows, demand = joined.flows, joined.demand
    total = demand.groupby("product")["demand_input"].sum()
    short, required = [], []
    for p in problem.serviced_products.tolist():
        product = problem.product_ids[p]
        own = flows[flows["product"] == product]
        with np.errstate(invalid="ignore"):
            near = (own["arc_distance_km"] <= problem.service_km[p]).to_numpy()
            if np.isfinite(problem.service_minutes[p]):
                near = near & (own["arc_minutes"] <= problem.service_minutes[p]).to_numpy()
        within = float(base_served(own)[near].sum())
        required.append(problem.service_share[p] * float(total.get(product, 0.0)))
        short.append(required[-1] - within)
    tolerance = max(joined.quantity_tolerance, RELATIVE_TOLERANCE * max(required))
    return [Check("service_level", _largest(short), tolerance)]


def _inbound_keys(problem: Problem) -> pd.DataFrame:
    """Each inbound arc of the input: supplier, site, type, material, unit cost and fixed cost."""
    supply = problem.supply
    option = supply.in_option
    return pd.DataFrame({
        "supplier_id": supply.supplier_ids[supply.in_supplier],
        "site_id": problem.site_ids[problem.option_site[option]],
        "facility_type": np.asarray(problem.type_ids, dtype=object)[problem.option_type[option]],
        "material_input": np.asarray(supply.material_ids, dtype=object)[supply.in_material],
        "unit_cost_input": supply.in_unit_cost(problem.carbon_price),
        "fixed_input": supply.in_fixed_cost,
        "co2_input": supply.in_co2_t,
    })


def check_supply(problem: Problem, joined: Joined) -> list[Check]:
    """With suppliers: every inbound flow is an inbound arc of the input (``inbound_arcs``, units of
    material/yr off them); material in = material the production needs, per facility and material
    (``material_balance``, from flows × bill of materials); suppliers within capacity
    (``supplier_capacity``)."""
    inbound = joined.tables.inbound
    if problem.supply is None or inbound is None:
        return [Check(name, None, 0.0) for name in ("inbound_arcs", "material_balance", "supplier_capacity")]
    supply = problem.supply
    keyed = inbound.merge(_inbound_keys(problem), on=["supplier_id", "site_id", "facility_type"], how="left")
    off_arcs = float(keyed.loc[keyed["unit_cost_input"].isna(), "quantity"].sum())
    flows = joined.tables.flows
    product = flows["product"].map({p: i for i, p in enumerate(problem.product_ids)}).to_numpy()
    need = flows["quantity"].to_numpy()[:, None] * supply.bom[product]  # (rows, M)
    needed = pd.DataFrame(need, columns=list(supply.material_ids)).assign(
        site_id=flows["site_id"].to_numpy(), facility_type=flows["facility_type"].to_numpy())
    needed = needed.melt(["site_id", "facility_type"], var_name="material", value_name="need")
    keys = ["site_id", "facility_type", "material"]
    balance = needed.groupby(keys)["need"].sum().sub(inbound.groupby(keys)["quantity"].sum(), fill_value=0.0)
    shipped = inbound.groupby("supplier_id")["quantity"].sum()
    capacity = pd.Series(supply.supplier_capacity, index=supply.supplier_ids)
    over = (shipped - capacity.reindex(shipped.index)).to_numpy()
    scale = RELATIVE_TOLERANCE * (_largest(needed["need"].abs()) or 1.0)  # no floor: tiny quantities, tiny tolerance
    return [
        Check("inbound_arcs", off_arcs, scale),
        Check("material_balance", _largest(balance.abs()), scale * 10),
        Check("supplier_capacity", _largest(over[np.isfinite(over)]), scale),
    ]


def inbound_cost(problem: Problem, joined: Joined) -> float:
    """Σ (purchase + transport + carbon) per unit × material + the fixed cost of every relationship
    used, from the input's inbound arcs (currency/yr; 0 without suppliers). A relationship is used where
    the table pays it or where it supplies a facility of the sites table: material for a closed one is
    the solver's rounding, which ``closed_sites`` bounds (its production within the quantity tolerance)."""
    inbound = joined.tables.inbound
    if problem.supply is None or inbound is None or inbound.empty:
        return 0.0
    keyed = inbound.merge(_inbound_keys(problem), on=["supplier_id", "site_id", "facility_type"], how="left")
    to_open = np.array([key in joined.open_keys for key in zip(keyed["site_id"], keyed["facility_type"], strict=True)],
                       dtype=bool)
    used = to_open | (keyed["relationship_cost"].to_numpy() > 0)
    return float((keyed["unit_cost_input"].fillna(0.0) * keyed["quantity"]).sum() + keyed["fixed_input"][used].sum())


def check_setups(problem: Problem, joined: Joined) -> list[Check]:
    """Every (facility, product) with flow pays its setup, as that facility's row of the sites table shows
    (``setup_paid``, currency/yr unpaid); a flow within the quantity tolerance (a solver's rounding, as the closed-site
    check allows) needs none."""
    flows = joined.tables.flows
    made = flows[flows["quantity"] > joined.quantity_tolerance][["site_id", "facility_type", "product"]]
    made = made.drop_duplicates()
    made = made.merge(joined.options, on=["site_id", "facility_type"], how="left").dropna(subset=["option"])
    product_position = {p: i for i, p in enumerate(problem.product_ids)}
    option, product = made["option"].astype(int).to_numpy(), made["product"].map(product_position).to_numpy()
    required = pd.Series(problem.setup_cost[option, product]).groupby(option).sum()  # per facility
    sites = joined.tables.sites
    paid = pd.Series(sites["setup_cost"].to_numpy() if "setup_cost" in sites else np.zeros(len(sites)),
                     index=joined.option).groupby(level=0).sum()
    unpaid = (required - paid.reindex(required.index).fillna(0.0)).clip(lower=0.0)
    return [Check("setup_paid", float(unpaid.sum()), RELATIVE_TOLERANCE * max(float(required.sum()), 1.0))]


def _paid_setup(joined: Joined) -> float:
    sites = joined.tables.sites
    return float(sites["setup_cost"].sum()) if "setup_cost" in sites else 0.0


CHECKS = (check_demand_balance, check_eligible_arcs, check_sites, check_structure, check_co2_and_service,
          check_service_level, check_revenue, check_supply, check_setups, check_table_figures)


def recompute_objective(problem: Problem, joined: Joined) -> float:
    """Σ fixed cost + setups + Σ flow cost + Σ unmet × penalty (currency/yr), from unit costs of the input."""
    option, demand = joined.option, joined.demand
    fixed = float((problem.opening_cost[option] + problem.module_cost[option] * joined.modules).sum())
    flow_cost = float((joined.flows["unit_cost"].fillna(0.0) * joined.flows["quantity"]).sum())
    unmet_penalty = (
        demand["penalty"].where(np.isfinite(demand["penalty"]), 0.0) * demand["unmet"].fillna(0.0).clip(lower=0)
    ).sum()
    return fixed + _paid_setup(joined) + flow_cost + float(unmet_penalty) + inbound_cost(problem, joined)


def objective_differs(joined: Joined, recomputed: float, reported: float) -> bool:
    """Whether ``recomputed`` is further from ``reported`` than 1e-6 of it plus what the solver's
    feasibility tolerance can move the unmet penalty: its rows hold to that share of a pair's demand,
    so the cost moves by at most that share of the penalty of the demand that may go unmet."""
    demand = joined.demand
    penalised = float((demand["penalty"].where(np.isfinite(demand["penalty"]), 0.0) * demand["demand_input"]).sum())
    allowed = RELATIVE_TOLERANCE * max(abs(reported), 1.0) + SOLVER_FEASIBILITY_TOLERANCE * penalised
    return abs(recomputed - reported) > allowed


def audit(problem: Problem, tables: ResultTables, reported_objective: float | None,
          warn: bool = True) -> AuditReport:
    """Recompute feasibility (:data:`CHECKS`) and the objective from ``tables``; see the module docstring.
    ``warn``: log a failure as a warning (False where the audit only asks whether a candidate start is
    feasible: a failure there is an answer, not a fault of the run)."""
    joined = join_tables(problem, tables)
    checks = [check for run in CHECKS for check in run(problem, joined)]
    violations = {check.name: check.violation for check in checks if check.violation is not None}
    tolerances = {check.name: check.tolerance for check in checks}
    failures = [name for name, value in violations.items() if value > tolerances[name]]
    recomputed = recompute_objective(problem, joined)
    difference = None
    if reported_objective is not None:
        difference = abs(recomputed - reported_objective) / max(abs(reported_objective), 1.0)
        if objective_differs(joined, recomputed, reported_objective):
            failures.append("objective")
    if failures:
        logger.log(logging.WARNING if warn else logging.DEBUG, "audit failed: %s", failures)
    return AuditReport(
        violations=violations,
        tolerances=tolerances,
        objective_recomputed=recomputed,
        objective_reported=reported_objective,
        objective_difference=difference,
        failures=failures,
    )
