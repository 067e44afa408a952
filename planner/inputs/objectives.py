r"""The classic location models on the planner's own problem (``[objective] kind``): the same
regions, candidate options, capacities, modules, counts, budget, forced sites and facility-type
eligibility, with the costs replaced by the kind's measure, so the planner's solver, audit and
outputs apply unchanged. In the output tables the cost columns then hold that measure.

With :math:`q_d` demand (units/yr), :math:`d_a` the road distance of arc a (km), :math:`y_o` open,
:math:`x_a` the share of pair d(a)'s demand on arc a (the planner's variables):

* ``p_median``: :math:`\min \sum_a q_{d(a)} d_a x_a` with exactly p facilities open and all demand
  served (transport cost per unit = distance; unit: units·km/yr).
* ``p_center``: :math:`\min R` such that every demand is served from within R by at most p
  facilities: solved by a search over the arc distances, each step a covering problem
  (``planner.solver.center_search``); the network returned is the p-median on the arcs within the
  optimal R (unit: km).
* ``max_covering`` (MCLP): :math:`\max \sum_a q_{d(a)} x_a` over the arcs within the coverage
  distance, at most p facilities; written as :math:`\min` uncovered demand (unmet penalty 1 per
  unit, arcs beyond the coverage dropped), so objective = total demand − covered demand.
* ``set_covering`` (LSCP): :math:`\min \sum_o y_o` such that all demand is served within the
  coverage distance (opening cost 1; arcs beyond the coverage dropped).

Proximity prices and demand factors and the suppliers' costs are not part of any kind's measure: they
are left out, with a warning (base demand is counted; the suppliers' capacities still hold).

Demand no candidate can reach at all (beyond every delivery radius) is left out of ``p_median``
and ``p_center`` (it would make them infeasible), with a warning naming the regions and units (the
demand and shares reported count only the rest); ``set_covering`` refuses a region no candidate
covers, naming it.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from planner.errors import InfeasibleError, ServiceReachError, amount_text, truncated
from planner.problem import ARC_FIELDS, Problem, Supply

logger = logging.getLogger(__name__)

KINDS = ("cost", "p_median", "p_center", "max_covering", "set_covering")
UNITS = {"p_median": "units·km/yr", "p_center": "km", "max_covering": "units/yr", "set_covering": "facilities"}
MEASURES = {"p_median": "demand-weighted distance", "p_center": "radius", "max_covering": "covered demand",
            "set_covering": "facilities opened"}
OBJECTIVE_TEXTS = {  # what the solver's objective (and best bound) counts for each kind, with its unit
    "p_median": "units·km/yr of demand-weighted distance",
    "p_center": "units·km/yr of demand-weighted distance within the radius",
    "max_covering": "units/yr of uncovered demand",
    "set_covering": "facilities",
}
# the unit of the solver's objective, its bound and the tables' cost columns for each kind (the text's head)
OBJECTIVE_UNITS = {kind: text.split(" of ")[0] for kind, text in OBJECTIVE_TEXTS.items()}


def classic_problem(problem: Problem, kind: str, p: int | None = None, coverage_km: float = np.inf,
                    coverage_minutes: float = np.inf) -> Problem:
    """``problem`` with the costs, penalties, counts and arcs of ``kind`` (see the module docstring)."""
    if kind == "cost":
        return problem
    if kind not in KINDS:
        raise ValueError(f"unknown objective kind {kind!r}; use one of {', '.join(KINDS)}")
    zeros_o, zeros_a = np.zeros(problem.n_options), np.zeros(problem.n_arcs)
    warn_money_left_out(problem, kind)
    measured = dataclasses.replace(
        problem, opening_cost=zeros_o, module_cost=zeros_o, setup_cost=np.zeros_like(problem.setup_cost),
        arc_production_cost=zeros_a, arc_transport_cost=zeros_a, carbon_price=0.0, objective_kind=kind,
        objective_p=p, coverage_km=float(coverage_km), coverage_minutes=float(coverage_minutes),
        arc_price=zeros_a, arc_demand_factor=np.ones(problem.n_arcs), supply=supply_without_costs(problem.supply),
    )
    if kind in ("max_covering", "set_covering"):
        measured = keep_arcs(measured, within_coverage(measured))
    if kind == "max_covering":
        return dataclasses.replace(measured, unmet_penalty=np.ones(problem.n_products), max_facilities=p)
    served = reachable_demand(measured)
    if kind == "set_covering":
        uncovered_regions(measured)
        return dataclasses.replace(measured, demand=served, unmet_penalty=np.full(problem.n_products, np.inf),
                                   opening_cost=np.ones(problem.n_options))
    # p_median, and p_center's network (the p-median within the optimal radius; planner.solver.center_search)
    warn_left_out(measured, served)
    refuse_levels_left_out(measured, served)
    return dataclasses.replace(measured, arc_transport_cost=problem.arc_distance_km.astype(float), demand=served,
                               service_share=levels_of_the_rest(measured, served),
                               unmet_penalty=np.full(problem.n_products, np.inf), max_facilities=p,
                               min_facilities=p if kind == "p_median" else problem.min_facilities)


def warn_money_left_out(problem: Problem, kind: str) -> None:
    """Warn where the model has terms the kind's measure leaves out: proximity prices and demand factors
    (the kind counts the customers' base demand) and the suppliers' costs (their capacities still hold)."""
    left_out = []
    if problem.has_proximity:
        left_out.append("the proximity prices and demand factors (base demand is counted)")
    if problem.supply is not None:
        left_out.append("the suppliers' purchase, transport and fixed costs (their capacities still hold)")
    if left_out:
        logger.warning(f"{kind}: the objective counts {MEASURES[kind]}; it leaves out {' and '.join(left_out)}")


def supply_without_costs(supply: Supply | None) -> Supply | None:
    """``supply`` with no purchase, inbound transport or relationship cost: a classic kind's measure
    holds no money (CO2 has no price there either)."""
    if supply is None:
        return None
    return dataclasses.replace(supply, supplier_cost=np.zeros_like(supply.supplier_cost, dtype=float),
                               in_transport_cost=np.zeros_like(supply.in_transport_cost, dtype=float),
                               in_fixed_cost=np.zeros_like(supply.in_fixed_cost, dtype=float))


def within_coverage(problem: Problem) -> np.ndarray:
    """(A,) bool: arcs within the coverage distance and time (an unknown time is never within)."""
    with np.errstate(invalid="ignore"):
        minutes_ok = np.isinf(problem.coverage_minutes) | (problem.arc_minutes <= problem.coverage_minutes)
    return (problem.arc_distance_km <= problem.coverage_km) & minutes_ok


def keep_arcs(problem: Problem, keep: np.ndarray) -> Problem:
    """``problem`` with only the arcs where ``keep``."""
    return dataclasses.replace(problem, **{name: getattr(problem, name)[keep] for name in ARC_FIELDS})


def reachable_demand(problem: Problem) -> np.ndarray:
    """(R, P) demand of the (region, product) pairs some arc reaches; 0 for the others."""
    reached = np.zeros(problem.demand.shape, dtype=bool)
    reached[problem.arc_region, problem.arc_product] = True
    return np.where(reached, problem.demand, 0.0)


def warn_left_out(problem: Problem, served: np.ndarray) -> None:
    """Warn, per product, about the regions whose demand no arc reaches (``served`` is 0 there): the
    kind leaves it out of its objective and of the demand it reports."""
    for p, product in enumerate(problem.product_ids):
        lost = np.flatnonzero((problem.demand[:, p] > 0) & (served[:, p] == 0))
        if len(lost):
            ids = [str(problem.region_ids[r]) for r in lost]
            logger.warning(
                f"{problem.objective_kind}: product '{product}': {len(ids)} regions ({truncated(ids)}) are beyond "
                f"every delivery radius of the candidate sites and are left out "
                f"({amount_text(problem.demand[lost, p].sum())} "
                "units/yr): the demand and the shares served count only the rest; widen the radius or add sites"
            )


def refuse_levels_left_out(problem: Problem, served: np.ndarray) -> None:
    """Raise ServiceReachError where the demand left out (``served`` is what arcs reach) leaves a product
    less of its demand than its service level asks: left out, the level would count only the rest and
    read as met (100 % of 0 units) with none of the demand served."""
    for p in problem.serviced_products:
        demand, reached = float(problem.demand[:, p].sum()), float(served[:, p].sum())
        if demand > 0 and reached < problem.service_share[p] * demand * (1 - 1e-9):
            raise ServiceReachError(
                f"{problem.objective_kind}: product '{problem.product_ids[p]}' asks {problem.service_share[p]:.1%} of "
                f"its demand within its service limit, but only {reached / demand:.1%} of it "
                f"({amount_text(reached)} of {amount_text(demand)} units/yr) is within any delivery radius of the "
                "candidate sites; "
                "widen the radius, add sites or lower products."
                f"{problem.product_ids[p]}.service.min_share_within")


def levels_of_the_rest(problem: Problem, served: np.ndarray) -> np.ndarray:
    """(P,) the service shares asked of the demand within reach (``served``), so that they ask as much of
    the whole demand as the model does: share × whole / within reach (the demand left out is never within
    any limit; a level of 45 % with a third of the demand out of reach asks 67.5 % of the rest)."""
    share = problem.service_share.copy()
    for p in problem.serviced_products:
        whole, reached = float(problem.demand[:, p].sum()), float(served[:, p].sum())
        if 0 < reached < whole:
            share[p] = min(1.0, share[p] * whole / reached)
            logger.warning(f"{problem.objective_kind}: product '{problem.product_ids[p]}': its service level of "
                           f"{problem.service_share[p]:.1%} of the whole demand is {share[p]:.1%} of the demand "
                           "within reach, which the level is measured against")
    return share


def uncovered_regions(problem: Problem) -> None:
    """Raise InfeasibleError naming the regions with demand that no candidate covers."""
    reached = reachable_demand(problem)
    missing = np.flatnonzero(((problem.demand > 0) & (reached == 0)).any(axis=1))
    if len(missing):
        names = [str(problem.region_ids[r]) for r in missing[:5]]
        raise InfeasibleError(
            f"set_covering: {len(missing)} regions with demand have no candidate site within the coverage "
            f"({truncated(names)}); widen {coverage_keys(problem)} or add candidate sites"
        )


def coverage_keys(problem: Problem) -> str:
    """The [objective] keys that set the coverage: 'coverage_km', 'coverage_minutes' or both."""
    keys = [key for key, value in (("coverage_km", problem.coverage_km), ("coverage_minutes", problem.coverage_minutes))
            if np.isfinite(value)]
    return " or ".join(keys) or "coverage_km"


def kind_value(problem: Problem, flows, sites, regions) -> float | None:
    """The kind's measure recomputed from the output tables (None for ``cost``)."""
    kind = problem.objective_kind
    used = flows[flows["quantity"] > 0]
    if kind == "p_median":
        return float((used["quantity"] * used["distance_km"]).sum())
    if kind == "p_center":
        return float(used["distance_km"].max()) if len(used) else 0.0
    if kind == "max_covering":
        return float(used["quantity"].sum())
    if kind == "set_covering":
        return float(len(sites))
    return None
