"""Independent audit of a solution: recomputed from the output tables and the problem's input data,
never from the solver's variables or objective.

Checks (each gives a violation ≥ 0; units/yr unless stated):

* ``demand_balance``: served + unmet = demand for every (region, product) with demand; no pair is
  missing; demand that must be served has no unmet.
* ``eligible_arcs``: every flow uses an allowed (site, type, region, product) arc, so the type makes
  the product and every delivery radius holds (also ``radius_km``: distance − product radius).
* ``closed_sites``: no flow leaves a facility that is not in the sites table.
* ``capacity``: production ≤ modules × module capacity; modules within [min, max].
* ``one_type_per_site``, ``facility_counts``, ``forced_open``, ``capex_budget``, ``single_sourcing``.
* ``co2_cap`` (t CO2/yr over the cap) and ``unmet_limit`` (unmet units/yr over a product's limit).
* ``objective``: Σ fixed_cost + Σ flow cost + Σ unmet × penalty, each recomputed from unit costs,
  against the solver's objective: within 1e-6 of it, plus what the solver's feasibility tolerance
  (1e-6 of a pair's demand) can move the unmet penalty (1e-6 × Σ penalty × demand).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planner.problem import Problem
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


def _arc_keys(problem: Problem) -> pd.DataFrame:
    options = _option_keys(problem)
    return pd.DataFrame(
        {
            "site_id": options["site_id"].to_numpy()[problem.arc_option],
            "facility_type": options["facility_type"].to_numpy()[problem.arc_option],
            "region_id": problem.region_ids[problem.arc_region],
            "product": np.asarray(problem.product_ids, dtype=object)[problem.arc_product],
            "unit_cost": problem.arc_unit_cost,
            "arc_distance_km": problem.arc_distance_km,
        }
    )


def audit(problem: Problem, tables: ResultTables, reported_objective: float | None) -> AuditReport:
    """Recompute feasibility and the objective from ``tables``; see the module docstring."""
    sites, flows, regions = tables.sites, tables.flows, tables.regions
    violations: dict[str, float] = {}
    tolerances: dict[str, float] = {}
    demand_scale = max(float(problem.demand.max(initial=0.0)), 1.0)

    # demand balance against the input demand matrix
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
    served = flows.groupby(["region_id", "product"], as_index=False)["quantity"].sum()
    merged = expected.merge(regions[["region_id", "product", "unmet"]], on=["region_id", "product"], how="left")
    merged = merged.merge(served, on=["region_id", "product"], how="left").fillna({"quantity": 0.0})
    missing_rows = merged["unmet"].isna().sum()
    balance = (merged["quantity"] + merged["unmet"].fillna(0.0) - merged["demand_input"]).abs()
    must_serve_unmet = merged.loc[~np.isfinite(merged["penalty"]), "unmet"].clip(lower=0).fillna(0.0)
    violations["demand_balance"] = float(
        max(_largest(balance), _largest(must_serve_unmet), demand_scale * missing_rows)
    )
    violations["negative_quantities"] = max(_largest(-flows["quantity"]), _largest(-regions["unmet"]))
    tolerances["demand_balance"] = tolerances["negative_quantities"] = RELATIVE_TOLERANCE * demand_scale

    # eligibility and radii: each flow must be an arc of the problem
    arcs = _arc_keys(problem)
    keyed = flows.merge(arcs, on=["site_id", "facility_type", "region_id", "product"], how="left")
    ineligible = keyed["unit_cost"].isna()
    violations["eligible_arcs"] = float(keyed.loc[ineligible, "quantity"].sum())
    tolerances["eligible_arcs"] = RELATIVE_TOLERANCE * demand_scale
    radius = pd.Series(problem.max_distance_km, index=list(problem.product_ids))
    over = flows["distance_km"].to_numpy() - radius.reindex(flows["product"]).to_numpy()
    violations["radius_km"] = _largest(over)
    tolerances["radius_km"] = 1e-6

    # closed sites, capacity, module bounds
    options = _option_keys(problem)
    opened = sites.merge(options, on=["site_id", "facility_type"], how="left")
    open_keys = set(zip(sites["site_id"], sites["facility_type"], strict=False))
    from_closed = [key not in open_keys for key in zip(flows["site_id"], flows["facility_type"], strict=False)]
    violations["closed_sites"] = float(flows.loc[from_closed, "quantity"].sum())
    tolerances["closed_sites"] = RELATIVE_TOLERANCE * demand_scale
    production = flows.groupby(["site_id", "facility_type"])["quantity"].sum()
    option = opened["option"].to_numpy()
    unknown_options = np.isnan(option.astype(float))
    option = np.where(unknown_options, 0, option).astype(int)
    modules = opened["modules"].to_numpy()
    capacity = problem.module_capacity[option] * modules
    load = (
        production.reindex(list(zip(opened["site_id"], opened["facility_type"], strict=False))).fillna(0.0).to_numpy()
    )
    violations["capacity"] = _largest(load - capacity)
    tolerances["capacity"] = RELATIVE_TOLERANCE * demand_scale
    module_excess = np.maximum(problem.min_modules[option] - modules, 0) + np.maximum(
        modules - problem.max_modules[option], 0
    )
    violations["modules"] = _largest(module_excess) + float(unknown_options.sum())
    tolerances["modules"] = 0.0

    # structure: one type per site, counts, forced, budget, single sourcing
    violations["one_type_per_site"] = float(max(sites["site_id"].value_counts().max() - 1, 0) if len(sites) else 0)
    type_counts = sites["facility_type"].value_counts()
    count_excess = 0
    for k, type_id in enumerate(problem.type_ids):
        n = int(type_counts.get(type_id, 0))
        count_excess = max(count_excess, problem.type_min_count[k] - n, n - problem.type_max_count[k])
    max_facilities = problem.n_options if problem.max_facilities is None else problem.max_facilities
    count_excess = max(count_excess, problem.min_facilities - len(sites), len(sites) - max_facilities)
    violations["facility_counts"] = float(max(count_excess, 0))
    forced_keys = set(zip(options["site_id"][problem.forced], options["facility_type"][problem.forced], strict=False))
    violations["forced_open"] = float(len(forced_keys - open_keys))
    spend = float((problem.capex[option] + problem.capex_per_module[option] * modules).sum())
    violations["capex_budget"] = max(spend - problem.capex_budget, 0.0) if np.isfinite(problem.capex_budget) else 0.0
    tolerances["capex_budget"] = RELATIVE_TOLERANCE * max(spend, 1.0)
    if problem.single_sourcing:
        sources = flows[flows["quantity"] > 0].groupby(["region_id", "product"]).size()
        violations["single_sourcing"] = _largest(sources - 1)
    for name in ("one_type_per_site", "facility_counts", "forced_open", "single_sourcing"):
        tolerances.setdefault(name, 0.0)

    # emission cap and service floor
    co2 = float(flows["co2_t"].sum())
    violations["co2_cap"] = max(co2 - problem.co2_cap_t, 0.0) if np.isfinite(problem.co2_cap_t) else 0.0
    tolerances["co2_cap"] = RELATIVE_TOLERANCE * max(co2, 1.0)
    unmet_by_product = merged.groupby("product")["unmet"].sum().reindex(list(problem.product_ids)).fillna(0.0)
    over_limit = unmet_by_product.to_numpy() - problem.max_unmet
    violations["unmet_limit"] = _largest(over_limit[np.isfinite(problem.max_unmet)])
    tolerances["unmet_limit"] = RELATIVE_TOLERANCE * demand_scale

    # setups: every (facility, product) with flow pays its setup; the sites table must show it
    made = flows[flows["quantity"] > 0][["site_id", "facility_type", "product"]].drop_duplicates()
    made = made.merge(options, on=["site_id", "facility_type"], how="left").dropna(subset=["option"])
    product_position = {p: i for i, p in enumerate(problem.product_ids)}
    required_setup = float(
        problem.setup_cost[
            made["option"].astype(int).to_numpy(), made["product"].map(product_position).to_numpy()
        ].sum()
    )
    paid_setup = float(sites["setup_cost"].sum()) if "setup_cost" in sites else 0.0
    violations["setup_paid"] = max(required_setup - paid_setup, 0.0)
    tolerances["setup_paid"] = RELATIVE_TOLERANCE * max(required_setup, 1.0)

    # objective from unit costs of the input
    fixed = float((problem.opening_cost[option] + problem.module_cost[option] * modules).sum()) + paid_setup
    flow_cost = float((keyed["unit_cost"].fillna(0.0) * keyed["quantity"]).sum())
    unmet_penalty = (
        merged["penalty"].where(np.isfinite(merged["penalty"]), 0.0) * merged["unmet"].fillna(0.0).clip(lower=0)
    ).sum()
    recomputed = fixed + flow_cost + float(unmet_penalty)
    difference = None
    failures = [name for name, value in violations.items() if value > tolerances.get(name, 0.0)]
    if reported_objective is not None:
        difference = abs(recomputed - reported_objective) / max(abs(reported_objective), 1.0)
        # the solver's rows hold to its feasibility tolerance: a demand balance off by that share moves
        # the cost by at most that share of the penalty of the demand that may go unmet
        penalised = float((merged["penalty"].where(np.isfinite(merged["penalty"]), 0.0) * merged["demand_input"]).sum())
        allowed = RELATIVE_TOLERANCE * max(abs(reported_objective), 1.0) + SOLVER_FEASIBILITY_TOLERANCE * penalised
        if abs(recomputed - reported_objective) > allowed:
            failures.append("objective")
    report = AuditReport(
        violations=violations,
        tolerances=tolerances,
        objective_recomputed=recomputed,
        objective_reported=reported_objective,
        objective_difference=difference,
        failures=failures,
    )
    if failures:
        logger.warning("audit failed: %s", failures)
    return report
