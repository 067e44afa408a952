"""The pre-solve screening of a prepared :class:`~planner.problem.Problem`: named checks that find
instances that cannot be feasible before the solver is asked (each raises :class:`InfeasibleError`
with the numbers and the fix) and regions that no facility can reach (a warning: they stay unmet).
Numbers only: no files, no geometry."""

from __future__ import annotations

import dataclasses
import itertools
import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planner.errors import InfeasibleError, InputError, amount_text, digits_text, telling_digits, truncated
from planner.inputs.config import MAX_NUMBER
from planner.problem import Problem, capex_excess

logger = logging.getLogger(__name__)

MAX_DEMAND = 1e12  # units/yr of one product in one region
MIN_LARGEST_DEMAND = 1e-30  # units/yr: far below (1e-310) the unit the solver rescales to overflows; 1e-12 is solved
MAX_COST_TERM = MAX_NUMBER  # currency/yr of one cost term (a facility's fixed cost, an arc at full demand)


@dataclass(frozen=True)
class Screening:
    """What the pre-solve screening found."""

    unreachable: dict[str, list[str]] = field(default_factory=dict)  # product → region ids
    warnings: list[str] = field(default_factory=list)


def screen_problem(problem: Problem, cells: np.ndarray | None = None) -> Screening:
    """Reject instances that cannot be feasible or that the solver cannot solve reliably; report
    regions no facility can reach. ``cells`` (N, R, P): a study's demand cells, ``problem`` their
    :func:`hardest_cell_view` (the capacity warning is of the cell asking for most)."""
    check_numerics(problem)
    screening = check_reach(problem)
    check_capacity(problem)
    warn_capacity_short(problem, screening, cells)
    warn_no_site_pays(problem, screening)
    check_material_supply(problem)
    check_capacity_in_reach(problem)
    check_single_source_sizes(problem)
    check_forced_types(problem)
    check_type_counts(problem)
    check_type_minimums_together(problem)
    check_facility_counts(problem)
    check_capex_budget(problem)
    warn_inbound_not_minimised(problem, screening)
    return screening


def warn_inbound_not_minimised(problem: Problem, screening: Screening) -> None:
    """A classic objective kind with suppliers: their flows are any feasible ones (a p-median had shipped from
    551 km beside a supplier 50 km away with capacity to spare), so their costs and CO2 mean nothing."""
    if problem.objective_kind == "cost" or problem.supply is None or not len(problem.supply.supplier_ids):
        return
    message = (f"objective.kind = '{problem.objective_kind}' ignores costs: the suppliers are kept to their "
               "capacities, but which supplier ships to which site is any feasible choice, so the inbound costs and "
               "CO2 reported are not minimised (solve with kind = 'cost' for them)")
    screening.warnings.append(message)
    logger.warning(message)


def hardest_cell_view(problem: Problem, cells: np.ndarray) -> tuple[Problem, int]:
    """``problem`` to screen a study of demand ``cells`` (N, R, P: scenarios, or scenario-periods) by,
    and the cell that asks for most demand that must be served: its demand is every cell's largest
    (which pairs have demand decides reachability), except that the demand that must be served is that
    cell's. No one cell asks for every cell's largest, so the capacity checks on that maximum would
    call feasible plans infeasible (two scenarios of 300 units, in different regions, against 400)."""
    must = ~np.isfinite(problem.unmet_penalty)
    hardest = int(np.argmax(cells[:, :, must].sum(axis=(1, 2)))) if must.any() else 0
    demand = cells.max(axis=0)
    demand[:, must] = cells[hardest][:, must]
    return dataclasses.replace(problem, demand=demand), hardest


def largest_cost_term(problem: Problem) -> float:
    """The largest fixed cost (opening, all modules, setup, a supply relationship) or cost of an arc at its
    whole demand (currency/yr, as large as a revenue where an arc earns more than it costs), an inbound arc's
    at all the material the demand needs."""
    fixed = np.concatenate(
        [problem.opening_cost, problem.module_cost * problem.max_modules, problem.setup_cost.ravel()]
    )
    arc_cost = np.abs(problem.arc_unit_cost) * problem.demand[problem.arc_region, problem.arc_product]
    largest = max(float(np.abs(fixed).max(initial=0.0)), float(arc_cost.max(initial=0.0)))
    supply = problem.supply
    if supply is not None and supply.n_inbound:  # costs of suppliers alone had left a model of tiny costs unscaled
        material = problem.demand.sum(axis=0) @ supply.bom  # (M,) units of material/yr at all the demand
        unit = np.abs(supply.supplier_cost[supply.in_supplier]) + np.abs(supply.in_transport_cost)
        inbound = np.concatenate([unit * material[supply.in_material], np.abs(supply.in_fixed_cost)])
        largest = max(largest, float(inbound.max(initial=0.0)))
    return largest


def check_numerics(problem: Problem, where: str | None = None) -> None:
    """Demand and cost terms within what double precision and HiGHS's tolerances handle: demand per
    region and product ≤ MAX_DEMAND units/yr, every cost term ≤ MAX_COST_TERM currency/yr. ``where``
    names a benchmark file (the messages then speak of its demands and costs, not of a model file)."""
    demand = float(problem.demand.max(initial=0.0))
    if demand > MAX_DEMAND:
        region, product = np.unravel_index(int(problem.demand.argmax()), problem.demand.shape)
        what = (f"demand of '{problem.product_ids[product]}' in region '{problem.region_ids[region]}'" if where is None
                else f"the demand of customer {problem.region_ids[region]}")
        fix = ("use a larger unit (in a model file, or a smaller demand_rate)" if where is None
               else "scale the file's demands and capacities down together")
        unit = " units/yr" if where is None else ""  # a benchmark file's demand has no time unit
        raise InputError(f"{where or problem.name}: {what} is {demand:.3g}{unit}, above {MAX_DEMAND:.0e}: too "
                         f"large for the solver; {fix}")
    if 0.0 < demand < MIN_LARGEST_DEMAND:
        fix = ("use a smaller unit (in a model file, a larger demand_rate)" if where is None
               else "scale the file's demands and capacities up together")
        raise InputError(f"{where or problem.name}: the largest demand is {demand:.3g}, below "
                         f"{MIN_LARGEST_DEMAND:.0e}: too small for the solver; {fix}")
    largest = largest_cost_term(problem)
    if largest > MAX_COST_TERM:
        unit = f" {problem.currency}/yr" if where is None else ""
        raise InputError(
            f"{where or problem.name}: a cost term of {largest:.3g}{unit} is above {MAX_COST_TERM:.0e}: too large "
            "for the solver; express the costs in a larger unit (e.g. thousands) or check them"
        )


def check_reach(problem: Problem) -> Screening:
    """Regions with demand of a product that no arc reaches: an error when the product must be
    served (no unmet penalty), otherwise a warning; a warning too for a product with a service level
    and no demand at all (the level then holds whatever the network)."""
    served_pairs = np.zeros(problem.demand.shape, dtype=bool)
    served_pairs[problem.arc_region, problem.arc_product] = True
    unreachable: dict[str, list[str]] = {}
    warnings: list[str] = []
    for p, product in enumerate(problem.product_ids):
        lost = np.flatnonzero((problem.demand[:, p] > 0) & ~served_pairs[:, p])
        if len(lost) == 0:
            continue
        ids = problem.region_ids[lost].tolist()
        if not np.isfinite(problem.unmet_penalty[p]):
            banded = (problem.arc_demand_factor[problem.arc_product == p] != 1).any()  # proximity bands
            raise InfeasibleError(
                f"product '{product}': regions {truncated(ids)} cannot be reached by any facility that makes it "
                f"(delivery radius, eligibility{', a proximity band whose demand_factor is 0' if banded else ''}) "
                "and the product has no unmet_penalty_per_unit; add candidate sites, widen the radius or set a "
                "penalty"
            )
        unreachable[product] = ids
        units = f"{amount_text(problem.demand[lost, p].sum())} units/yr"
        if problem.objective_kind == "max_covering":  # its arcs beyond the coverage are left out
            message = (f"product '{product}': {len(ids)} regions ({truncated(ids)}) have no candidate site within the "
                       f"objective's coverage (or a type's delivery radius) and stay uncovered ({units})")
            warnings.append(message)
            logger.warning(message)
            continue
        message = (
            f"product '{product}': no facility delivers it to any region (no facility type makes it, or none "
            f"reaches a region at a cost below its unmet penalty or price), so all its demand stays unmet ({units})"
            if not served_pairs[:, p].any() else
            f"product '{product}': {len(ids)} regions ({truncated(ids)}) cannot be served within a delivery "
            f"radius at a cost below the unmet penalty (or the price it sells at) and stay unmet ({units})"
        )
        warnings.append(message)
        logger.warning(message)
    for p in problem.serviced_products.tolist():
        if problem.demand[:, p].sum() <= 0:
            message = (f"product '{problem.product_ids[p]}' has a service level but no demand in these regions: "
                       "the level holds trivially (check its demand_rate and the demand column)")
            warnings.append(message)
            logger.warning(message)
    return Screening(unreachable=unreachable, warnings=warnings)


def warn_capacity_short(problem: Problem, screening: Screening, cells: np.ndarray | None = None) -> None:
    """A warning (into ``screening``) where all demand is more than every candidate site can make at its
    largest, one type per site: at least that share goes unmet whatever is built. ``planner init`` said so,
    a solve of the same data did not (and read 'optimal' with 46 % served). With a study's ``cells``
    (N, R, P), the demand of the cell asking for most: the sum of each region's largest over the cells,
    which no one scenario asks for, had been called short of capacity where every scenario was served."""
    demand = float(problem.demand.sum()) if cells is None else float(cells.sum(axis=(1, 2)).max(initial=0.0))
    capacity = float(site_capacities(problem).sum()) if problem.n_options else 0.0
    if not demand > capacity > 0:
        return
    whose = "the demand" if cells is None else "the demand of the scenario (or period) asking for most"
    ratio, short = demand / capacity, 1 - capacity / demand
    times = f"{ratio:.3g}×" if np.isfinite(ratio) else "more than 1e308 times"  # a capacity of 5e-324 read "inf×"
    share = f"{short:.1%}" if short < 0.999 else "99.9%"  # "at least 100.0%" where some is served
    message = (f"{whose} ({amount_text(demand)} units/yr) is {times} what all candidate sites can "
               f"make at their largest ({amount_text(capacity)} units/yr): at least {share} of it "
               "goes unmet "
               "whatever is built; scale the demand (the products' demand_rate; planner init --demand-rate) or "
               "raise max_modules and module_capacity_per_yr")
    screening.warnings.append(message)
    logger.warning(message)


def warn_no_site_pays(problem: Problem, screening: Screening) -> None:
    """A warning (into ``screening``) where no candidate can pay for itself even in the best case: what serving
    saves (the unmet penalty less the cheapest cost of making and delivering a unit from it, on all the demand it
    could make: at most its largest capacity) is below what it costs a year to open with its fewest modules, so
    every site stays closed and nothing is served. ``planner init`` said so; a solve of the same data (demand in
    small units, 785 units/yr over five Arctic towns) served 0 % without a word."""
    if (problem.objective_kind != "cost" or problem.n_options == 0 or problem.forced.any()
            or problem.has_lower_counts or not np.isfinite(problem.unmet_penalty).all()
            or np.isfinite(problem.max_unmet).any() or (problem.service_share > 0).any()):
        return  # demand that must be served (or a share of it), forced sites and count minimums open sites anyway
    demand = float(problem.demand.sum())
    margin = np.full(problem.n_options, -np.inf)
    np.maximum.at(margin, problem.arc_option, problem.unmet_penalty[problem.arc_product] - problem.arc_unit_cost)
    best_saving = np.maximum(margin, 0.0) * np.minimum(demand, problem.option_capacity_max)
    fixed = problem.fixed_cost_at_min_modules
    if demand <= 0 or not (best_saving < fixed).all():
        return
    closest = int(np.argmax(best_saving - fixed))  # the site that comes nearest to paying for itself
    message = (f"the demand ({amount_text(demand)} units/yr in all) is too small for any candidate site to pay for "
               "itself: what serving it saves (the unmet penalty less the cost to make and deliver it) is below each "
               f"site's fixed cost (at best {float(best_saving[closest]):,.0f} against "
               f"{float(fixed[closest]):,.0f} {problem.currency}/yr), so no site opens and nothing is served; scale "
               "the demand (the products' demand_rate; planner init --demand-rate) or lower opening_cost_per_yr")
    screening.warnings.append(message)
    logger.warning(message)


def check_capacity(problem: Problem) -> None:
    """Demand that must be served ≤ the largest capacity of every site (one type per site),
    counting only the ``max_facilities`` largest sites."""
    must_serve = ~np.isfinite(problem.unmet_penalty)
    least = least_demand(problem)
    if len(problem.product_ids) > 1:  # (one product: the check below, in its words)
        check_product_capacity(problem, least.sum(axis=0))
    required = float(least[:, must_serve].sum())
    capacity = problem.option_capacity_max
    if required <= 0 or not np.all(np.isfinite(capacity)):
        return
    by_site = site_capacities(problem)
    top = largest_countable(problem, by_site)
    if top.sum() < required * (1 - 1e-9):
        sites = _sites_text(problem, len(top))
        raise InfeasibleError(f"demand that must be served is {required:,.6g} units/yr but {sites} can make at most "
                              f"{top.sum():,.6g}; {_capacity_fix(problem, len(top), len(by_site))}")
    typed = largest_countable(problem, type_limited_capacities(problem)).sum()
    if typed < required * (1 - 1e-9):
        options = np.bincount(problem.option_type, minlength=len(problem.type_ids))
        limits = ", ".join(f"{name} {int(most)}" for name, most, count in zip(
            problem.type_ids, problem.type_max_count, options, strict=True) if most < count)  # the limits set
        raise InfeasibleError(f"demand that must be served is {required:,.6g} units/yr but the facility types' "
                              f"max_count ({limits}) let the sites make at most {typed:,.6g}; raise max_count, or add "
                              "modules or an unmet penalty")


def type_limited_capacities(problem: Problem) -> np.ndarray:
    """The largest capacities each facility type's ``max_count`` lets open, all types together (a site may
    appear for two types: an upper bound on what the types' limits let the sites make)."""
    parts = []
    for k in range(len(problem.type_ids)):
        capacity = np.sort(problem.option_capacity_max[problem.option_type == k])[::-1]
        parts.append(capacity[: int(problem.type_max_count[k])])
    return np.concatenate(parts) if parts else np.zeros(0)


def least_demand(problem: Problem) -> np.ndarray:
    """(R, P) the least each (region, product) can take when served: its demand × its smallest
    proximity demand factor (1 without proximity bands)."""
    smallest_factor = np.ones(problem.demand.shape)
    if problem.n_arcs:
        smallest_factor[:] = np.inf
        np.minimum.at(smallest_factor, (problem.arc_region, problem.arc_product), problem.arc_demand_factor)
        smallest_factor[~np.isfinite(smallest_factor)] = 1.0
    return problem.demand * smallest_factor


def check_product_capacity(problem: Problem, product_demand: np.ndarray) -> None:
    """Each product's demand that must be served ≤ what the sites whose options deliver it can make, each
    at its largest such option (a necessary condition: the products share that capacity). The sum over
    products can pass where one product fails: central plants that cannot make a custom product."""
    must_serve = ~np.isfinite(problem.unmet_penalty)
    for p in np.flatnonzero(must_serve & (product_demand > 0)).tolist():
        by_site = site_capacities(problem, np.unique(problem.arc_option[problem.arc_product == p]))
        top = largest_countable(problem, by_site)
        if top.sum() < product_demand[p] * (1 - 1e-9):
            raise InfeasibleError(
                f"product '{problem.product_ids[p]}': demand that must be served is {product_demand[p]:,.6g} units/yr "
                f"but the {len(top):,} sites whose facility types deliver it can make at most {top.sum():,.6g}; "
                f"{_capacity_fix(problem, len(top), len(by_site))}")


def check_material_supply(problem: Problem) -> None:
    """Each material the demand that must be served needs (its bill of materials × that demand, at its
    least proximity demand factor) ≤ what all suppliers of it can ship together: the products cannot be made
    without it, and HiGHS's "infeasible" would not say which material is short."""
    supply = problem.supply
    if supply is None or not len(supply.material_ids):
        return
    must_serve = ~np.isfinite(problem.unmet_penalty)
    served = least_demand(problem)[:, must_serve].sum(axis=0)
    needed = served @ supply.bom[must_serve]  # (M,) units of material/yr
    available = np.bincount(supply.supplier_material, weights=supply.supplier_capacity,
                            minlength=len(supply.material_ids))
    short = np.flatnonzero(needed > available * (1 + 1e-9) + 1e-9)
    if len(short):
        m = int(short[0])
        raise InfeasibleError(
            f"material '{supply.material_ids[m]}': the demand that must be served needs {needed[m]:,.6g} units/yr "
            f"of it but all its suppliers together can ship at most {available[m]:,.6g} (capacity_per_yr in "
            f"{supply.source}); add suppliers or capacity, or an unmet penalty")


def check_capacity_in_reach(problem: Problem) -> None:
    """Every (region, product) pair that must be served needs no more than all the sites that can reach
    it (arcs: within the radius) can make together, each site at its largest option; the pair's need is
    its least arc demand (proximity factors included)."""
    must_serve = ~np.isfinite(problem.unmet_penalty)[problem.arc_product] & (problem.arc_demand > 0)
    if not must_serve.any() or not np.isfinite(problem.option_capacity_max).all():
        return
    arcs = pd.DataFrame({"region": problem.arc_region[must_serve], "product": problem.arc_product[must_serve],
                         "site": problem.option_site[problem.arc_option[must_serve]],
                         "capacity": problem.option_capacity_max[problem.arc_option[must_serve]],
                         "need": problem.arc_demand[must_serve]})
    by_site = arcs.groupby(["region", "product", "site"]).agg(capacity=("capacity", "max"), need=("need", "min"))
    pairs = by_site.groupby(level=["region", "product"]).agg(capacity=("capacity", "sum"), need=("need", "min"),
                                                              sites=("capacity", "size"))
    short = pairs[pairs["need"] > pairs["capacity"] * (1 + 1e-9)]
    if short.empty:
        return
    items = [f"'{problem.region_ids[r]}' needs {row.need:,.6g} units/yr of '{problem.product_ids[p]}' but the "
             f"{int(row.sites)} site(s) that can reach it make at most {row.capacity:,.6g}"
             for (r, p), row in short.iterrows()]
    raise InfeasibleError(
        f"{len(items)} region(s) need more than the facilities within reach can make: {truncated(items, 3)}; raise "
        "their capacity (modules) or the delivery radius (max_distance_km), add candidate sites near them, or set "
        "an unmet penalty")


def oversized_pairs(problem: Problem, must_serve: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Under single sourcing, the (region, product) pairs that must be served (no unmet penalty; with
    ``must_serve`` False, those that may go unmet) but whose demand exceeds the largest capacity of
    every option that can serve them (each arc's own demand, proximity factor included): (region
    indices, product indices); empty without single sourcing."""
    empty = np.zeros(0, dtype=int)
    if not problem.single_sourcing or not problem.n_arcs:
        return empty, empty
    fits = problem.arc_demand <= problem.option_capacity_max[problem.arc_option] * (1 + 1e-9)
    has_fit = np.zeros(problem.demand.shape, dtype=bool)
    has_fit[problem.arc_region[fits], problem.arc_product[fits]] = True
    reached = np.zeros(problem.demand.shape, dtype=bool)
    reached[problem.arc_region, problem.arc_product] = True
    served_kind = ~np.isfinite(problem.unmet_penalty) if must_serve else np.isfinite(problem.unmet_penalty)
    return np.nonzero(served_kind[None, :] & (problem.demand > 0) & reached & ~has_fit)


def check_single_source_sizes(problem: Problem) -> None:
    """Under single sourcing, every pair that must be served fits whole into some option that can serve it;
    a pair that may go unmet and fits into none stays unmet whatever is built: a warning names it."""
    unmet = _oversized_items(problem, *oversized_pairs(problem, must_serve=False))
    if unmet:
        logger.warning("single sourcing: %d region(s) need more than any one facility can make and stay unmet (their "
                       "unmet penalty is paid): %s; allow split flows (network.single_sourcing = false) or add modules "
                       "or capacity to serve them", len(unmet), truncated(unmet, 3))
    items = _oversized_items(problem, *oversized_pairs(problem))
    if items:
        raise InfeasibleError(
            f"single sourcing: {len(items)} region(s) need more than any one facility can make: {truncated(items, 3)}; "
            "allow split flows (network.single_sourcing = false), add modules or capacity, or set an unmet penalty"
        )


def _oversized_items(problem: Problem, regions: np.ndarray, products: np.ndarray) -> list[str]:
    """'<region>' needs … units/yr of '<product>', the largest facility that can serve it makes …"""
    items = []
    for r, p in zip(regions.tolist(), products.tolist(), strict=True):
        arcs = (problem.arc_region == r) & (problem.arc_product == p)
        largest = float(problem.option_capacity_max[problem.arc_option[arcs]].max())
        items.append(f"'{problem.region_ids[r]}' needs {problem.arc_demand[arcs].min():,.6g} units/yr of "
                     f"'{problem.product_ids[p]}', the largest facility that can serve it makes {largest:,.6g}")
    return items


def site_capacities(problem: Problem, options: np.ndarray | None = None) -> np.ndarray:
    """(sites with an option,) the largest capacity each site can have (one type per site), units/yr;
    ``options``: only these count (those that deliver one product, say)."""
    options = np.arange(problem.n_options) if options is None else options
    return pd.Series(problem.option_capacity_max[options]).groupby(problem.option_site[options]).max().to_numpy()


def largest_countable(problem: Problem, by_site: np.ndarray) -> np.ndarray:
    """The site capacities largest first, as many as a facility-count limit lets open."""
    top = np.sort(by_site)[::-1]
    return top if problem.max_facilities is None else top[: problem.max_facilities]


def _count_key(problem: Problem) -> str:
    """The model key that limits the number of facilities."""
    return "objective.p" if problem.objective_kind != "cost" else "network.max_facilities"


def _sites_text(problem: Problem, counted: int) -> str:
    """Which sites the capacity counts: all candidates, or the largest ``counted`` of a facility limit."""
    if problem.max_facilities is None or counted < problem.max_facilities:
        return "all candidate sites together"
    return f"the {counted} largest sites ({_count_key(problem)} = {problem.max_facilities})"


def _capacity_fix(problem: Problem, counted: int, n_sites: int) -> str:
    """The fix to suggest: more sites where a facility limit binds, else sites, modules or a penalty."""
    if problem.max_facilities is not None and problem.max_facilities <= counted < n_sites:
        return f"raise {_count_key(problem)}, or add modules or capacity"
    if problem.objective_kind in ("p_median", "p_center"):
        return "add sites, modules or capacity (this kind serves all demand it can reach)"
    return "add sites, modules or an unmet penalty"


def check_forced_types(problem: Problem) -> None:
    """No site forced open as two types."""
    option_sites, counts = np.unique(problem.option_site[problem.forced], return_counts=True)
    if (counts > 1).any():
        ids = problem.site_ids[option_sites[counts > 1]].tolist()
        raise InfeasibleError(f"sites {truncated(ids)} are forced open as more than one type; force one type")


def check_type_counts(problem: Problem) -> None:
    """Per facility type: min_count ≤ candidates and forced ≤ max_count."""
    for k, type_id in enumerate(problem.type_ids):
        candidates = int(np.count_nonzero(problem.option_type == k))
        forced = int(np.count_nonzero(problem.forced & (problem.option_type == k)))
        if problem.type_min_count[k] > candidates:
            raise InfeasibleError(
                f"facility type '{type_id}': min_count {problem.type_min_count[k]} but only {candidates} candidate "
                "sites; lower min_count or add candidates"
            )
        if forced > problem.type_max_count[k]:
            raise InfeasibleError(
                f"facility type '{type_id}': {forced} sites are forced open as it (the sites file's forced or "
                f"existing column) but facility_types.{type_id}.max_count is {problem.type_max_count[k]}; raise "
                "max_count or force fewer sites"
            )


MAX_TYPES_TOGETHER = 12  # types with a min_count checked together (2^this subsets)


def check_type_minimums_together(problem: Problem) -> None:
    """The types' ``min_count`` can be met together: the minimums (or the forced sites of a type,
    where more) fit ``max_facilities``; with one type per site, for every set T of types with a
    minimum, Σ_{k∈T} min_count_k ≤ the sites that may host a type of T and are not forced open as a
    type outside T (Hall's condition, which is also sufficient)."""
    forced_per_type = np.bincount(problem.option_type[problem.forced], minlength=len(problem.type_ids))
    fewest = int(np.maximum(problem.type_min_count, forced_per_type).sum())
    if problem.max_facilities is not None and fewest > problem.max_facilities:
        key = count_limit_key(problem)
        raise InfeasibleError(
            f"the facility types' min_count (and forced sites) need at least {fewest} facilities but "
            f"{key} is {problem.max_facilities}; raise {key}, lower min_count or force fewer sites"
        )
    limited = np.flatnonzero(problem.type_min_count > 0)
    if not len(limited) or len(limited) > MAX_TYPES_TOGETHER:  # beyond: left to the solver
        return
    forced_type = np.full(len(problem.site_ids), -1)
    forced_type[problem.option_site[problem.forced]] = problem.option_type[problem.forced]
    for size in range(1, len(limited) + 1):
        for types in itertools.combinations(limited.tolist(), size):
            in_set = np.isin(problem.option_type, types)
            sites = np.unique(problem.option_site[in_set])
            hosts = int(np.count_nonzero((forced_type[sites] < 0) | np.isin(forced_type[sites], types)))
            need = int(problem.type_min_count[list(types)].sum())
            if need > hosts:
                names = ", ".join(f"'{problem.type_ids[k]}'" for k in types)
                what = f"facility types {names}: their min_count add up to" if size > 1 else \
                    f"facility type {names}: min_count"
                raise InfeasibleError(
                    f"{what} {need} but only {hosts} candidate sites can host them (one type per site, sites "
                    "forced open as another type excluded); lower min_count or add candidate sites"
                )


def count_limit_key(problem: Problem) -> str:
    """The model-file key that set ``max_facilities``: ``objective.p`` for a classic kind with a p, else
    ``network.max_facilities``; a benchmark format's own words where the file set it."""
    if problem.count_limit_source is not None:
        return problem.count_limit_source
    return "objective.p" if problem.objective_kind != "cost" and problem.objective_p is not None \
        else "network.max_facilities"


def min_count_key(problem: Problem) -> str:
    """The key that set ``min_facilities``: ``objective.p`` for p-median, else ``network.min_facilities``;
    a benchmark format's own words where the file set it."""
    return problem.count_limit_source or (
        "objective.p" if problem.objective_kind == "p_median" else "network.min_facilities")


def check_facility_counts(problem: Problem) -> None:
    """forced ≤ max_facilities and min_facilities ≤ candidate sites."""
    n_forced = int(problem.forced.sum())
    if problem.max_facilities is not None and n_forced > problem.max_facilities:
        key = count_limit_key(problem)
        raise InfeasibleError(f"{n_forced} sites forced open but {key} is {problem.max_facilities}; raise {key} "
                              "or force fewer sites")
    n_sites = len(np.unique(problem.option_site))
    if problem.min_facilities > n_sites:
        key = min_count_key(problem)
        raise InfeasibleError(
            f"{key} = {problem.min_facilities} exceeds the {n_sites} candidate sites; lower it or add candidate sites"
        )
    check_min_against_type_limits(problem)


def check_min_against_type_limits(problem: Problem) -> None:
    """min_facilities ≤ Σ_k min(max_count_k, sites that can host type k): the most facilities the
    facility types' max_count allow."""
    n_types = len(problem.type_ids)
    hosts = np.array([len(np.unique(problem.option_site[problem.option_type == k])) for k in range(n_types)])
    most = np.minimum(problem.type_max_count, hosts)
    if problem.min_facilities <= int(most.sum()):
        return
    key = min_count_key(problem)
    limited = ", ".join(f"{problem.type_ids[k]} {int(problem.type_max_count[k])}" for k in range(n_types)
                        if problem.type_max_count[k] < hosts[k])
    raise InfeasibleError(
        f"{key} = {problem.min_facilities} but the facility types allow at most {int(most.sum())} facilities "
        f"(max_count: {limited}); raise max_count or lower {key}"
    )


def least_capex(problem: Problem) -> float:
    """A lower bound on any network's capex: the forced and existing sites, and the cheapest further sites
    each type's ``min_count`` asks for, at their fewest modules."""
    spend = problem.capex + problem.capex_per_module * problem.min_modules
    least = float(spend[problem.forced].sum())
    for k in range(len(problem.type_ids)):
        of_type = problem.option_type == k
        further = int(problem.type_min_count[k]) - int(np.count_nonzero(of_type & problem.forced))
        least += float(np.sort(spend[of_type & ~problem.forced])[:max(further, 0)].sum())
    return least


def check_capex_budget(problem: Problem) -> None:
    """The capex of forced and existing sites, and of the cheapest further sites each type's
    ``min_count`` asks for, fits the budget."""
    if not np.isfinite(problem.capex_budget):
        return
    spend = problem.capex + problem.capex_per_module * problem.min_modules
    forced_spend = float(spend[problem.forced].sum())
    if forced_spend > problem.capex_budget:
        digits = telling_digits(forced_spend, problem.capex_budget)  # 3,133,584.444 against 3,133,584.44
        raise InfeasibleError(
            f"forced and existing sites need capex {digits_text(forced_spend, digits)} but capex_budget is "
            f"{digits_text(problem.capex_budget, digits)}; raise the budget or force fewer sites"
        )
    least = least_capex(problem)
    if capex_excess(least, problem.capex_budget) > 0:
        digits = telling_digits(least, problem.capex_budget)
        raise InfeasibleError(
            f"the facility types' min_count (with the forced and existing sites) needs capex of at least "
            f"{digits_text(least, digits)} but network.capex_budget is {digits_text(problem.capex_budget, digits)}; "
            "raise the budget or lower min_count"
        )
