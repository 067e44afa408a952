r"""A dense cost matrix → :class:`planner.problem.Problem`, shared by every benchmark reader (the
reading itself, tokens to numbers, is :mod:`planner.formats.tokens`).

Mapping of a facility-location instance with :math:`m` facilities and :math:`n` customers onto
:class:`planner.problem.Problem` (:func:`problem_from_costs`):

* site :math:`i` = one option (type ``"facility"``), opening cost :math:`f_i`, one module of
  capacity :math:`s_i` (``np.inf`` when uncapacitated), ``min_modules = max_modules = 1``;
* customer :math:`j` = one region with demand :math:`d_j` of the one product ``"demand"``, which
  must be served (``unmet_penalty = inf``, no delivery radius); a customer of demand 0 and no costs
  needs no supply and gets no arcs (exact: the textbook row :math:`\sum_i x_{ij} = 1` charges it
  nothing, except that where every demand is 0 it still opens one site: ``min_facilities`` = 1
  then); one of demand 0 with a cost is refused by the readers (:func:`check_zero_demand`);
* every pair :math:`(i, j)` is an arc with unit cost :math:`c_{ij} / d_j` in
  ``arc_production_cost`` (transport and CO2 zero), where :math:`c_{ij}` is the cost of serving
  **all** of :math:`j`'s demand from :math:`i`. The model's flow cost
  :math:`(c_{ij}/d_j) \cdot d_j \cdot x_{ij} = c_{ij} x_{ij}` is the benchmark's cost term.

Ids are the 1-based labels of the files, as strings (``"1"`` … ``"m"``, ``"1"`` … ``"n"``).
"""

from __future__ import annotations

import logging

import numpy as np

from planner.errors import InputError
from planner.problem import Problem

logger = logging.getLogger(__name__)

PRODUCT = "demand"
FACILITY_TYPE = "facility"


def labels(count: int) -> np.ndarray:
    """The 1-based labels ``"1"`` … ``str(count)`` as a numpy string array."""
    return np.arange(1, count + 1).astype(str)


def problem_from_costs(
    name: str,
    *,
    opening_cost: np.ndarray,
    capacity: np.ndarray,
    demand: np.ndarray,
    total_cost: np.ndarray,
    single_sourcing: bool = False,
    distance_km: np.ndarray | None = None,
    min_facilities: int = 0,
    max_facilities: int | None = None,
    source: object = None,
) -> Problem:
    r"""The Problem of a dense instance: ``total_cost[i, j]`` = :math:`c_{ij}`, the cost of serving all
    of customer ``j``'s ``demand[j]`` (≥ 0) from facility ``i``; ``capacity[i]`` may be ``np.inf``.
    Errors name ``source`` (the file read; default the instance ``name``).

    Pairs whose cost is infinite (unreachable, e.g. a disconnected graph) get no arc; nor does a
    customer of demand 0, which needs no supply (the readers accept one only with zero costs).
    """
    opening_cost = np.asarray(opening_cost, dtype=float)
    capacity = np.asarray(capacity, dtype=float)
    demand = np.asarray(demand, dtype=float)
    total_cost = np.asarray(total_cost, dtype=float)
    check_dense_shapes(opening_cost, capacity, demand, total_cost)
    n_sites, n_customers = total_cost.shape
    arcs = dense_arcs(total_cost, demand, distance_km, name if source is None else str(source))
    if n_customers and not (demand > 0).any():  # the textbook rows Σ_i x_ij = 1, x_ij ≤ y_i still open one site
        min_facilities = max(min_facilities, 1)
    problem = Problem(
        name=name,
        region_ids=labels(n_customers),
        product_ids=(PRODUCT,),
        type_ids=(FACILITY_TYPE,),
        site_ids=labels(n_sites),
        demand=demand.reshape(n_customers, 1).copy(),
        unmet_penalty=np.array([np.inf]),
        max_distance_km=np.array([np.inf]),
        **one_option_per_site(opening_cost, capacity),
        **arcs,
        single_sourcing=single_sourcing,
        min_facilities=min_facilities,
        max_facilities=max_facilities,
    )
    logger.debug("%s: %d sites × %d customers, %d arcs", name, n_sites, n_customers, problem.n_arcs)
    return problem


def check_dense_shapes(opening_cost: np.ndarray, capacity: np.ndarray, demand: np.ndarray, total_cost: np.ndarray):
    """ValueError unless the vectors fit the (m, n) cost matrix and every demand is finite and ≥ 0."""
    n_sites, n_customers = total_cost.shape
    if opening_cost.shape != (n_sites,) or capacity.shape != (n_sites,) or demand.shape != (n_customers,):
        raise ValueError(
            f"shapes disagree: costs {total_cost.shape}, opening {opening_cost.shape}, "
            f"capacity {capacity.shape}, demand {demand.shape}"
        )
    if (demand < 0).any() or not np.isfinite(demand).all():
        raise ValueError("every customer needs a finite demand ≥ 0")


def check_zero_demand(path, demand: np.ndarray, total_cost: np.ndarray) -> None:
    """Customers of demand 0 are read when every cost of theirs is 0 (they then change nothing: no
    arcs, said at info level); InputError where one has a cost, which the textbook row
    :math:`\\sum_i x_{ij} = 1` would charge (its cheapest open facility's) and flows priced per unit
    cannot."""
    zero = np.flatnonzero(np.asarray(demand) == 0)
    if not len(zero):
        return
    priced = zero[(np.nan_to_num(np.abs(total_cost[:, zero]), posinf=1.0) > 0).any(axis=0)]
    if len(priced):
        raise InputError(
            f"{path}: customer {priced[0] + 1} has demand 0 but allocation costs up to "
            f"{np.nanmax(np.where(np.isfinite(total_cost[:, priced[0]]), total_cost[:, priced[0]], np.nan)):g} "
            f"({len(priced)} such customers): the model still assigns it and charges its cheapest open facility, "
            "which the planner's per-unit flow costs cannot express; give it a positive demand or zero costs, "
            "or read the file as uncapacitated (format 'ufl')")
    logger.info("%s: %d customers have demand 0 and no costs (first: customer %d); they need no supply", path,
                len(zero), zero[0] + 1)


def one_option_per_site(opening_cost: np.ndarray, capacity: np.ndarray) -> dict[str, np.ndarray]:
    """The option fields: site i is option i of the one type, one module of ``capacity[i]``."""
    n_sites = len(opening_cost)
    ones = np.ones(n_sites, dtype=int)
    return dict(
        option_site=np.arange(n_sites),
        option_type=np.zeros(n_sites, dtype=int),
        opening_cost=opening_cost.copy(),
        module_cost=np.zeros(n_sites),
        module_capacity=capacity.copy(),
        min_modules=ones,
        max_modules=ones.copy(),
        capex=np.zeros(n_sites),
        capex_per_module=np.zeros(n_sites),
        forced=np.zeros(n_sites, dtype=bool),
    )


def dense_arcs(total_cost: np.ndarray, demand: np.ndarray, distance_km: np.ndarray | None,
               name: str = "instance") -> dict[str, np.ndarray]:
    """The arc fields: every (site, customer) pair with a finite cost, site-major, unit cost
    ``total_cost[i, j] / demand[j]`` as production cost (transport and CO2 zero). InputError where a
    demand is so small that a finite cost per unit overflows (an arc would be lost, not made dearer)."""
    n_sites, n_customers = total_cost.shape
    served = demand > 0  # a customer of demand 0 needs no supply: no arcs
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        per_unit = np.where(served[np.newaxis, :], total_cost / np.where(served, demand, 1.0)[np.newaxis, :], np.inf)
    overflow = np.isfinite(total_cost) & ~np.isfinite(per_unit) & served[np.newaxis, :]
    if overflow.any():
        customer = int(np.flatnonzero(overflow.any(axis=0))[0])
        raise InputError(f"{name}: customer {customer + 1} has demand {demand[customer]:g}, too small for its costs "
                         "(the cost per unit overflows); scale the demands up")
    unit_cost = per_unit.ravel()
    arc_option = np.repeat(np.arange(n_sites), n_customers)
    arc_region = np.tile(np.arange(n_customers), n_sites)
    distance = np.zeros(n_sites * n_customers) if distance_km is None else np.asarray(distance_km, float).ravel()
    keep = np.isfinite(unit_cost)
    n_arcs = int(keep.sum())
    return dict(
        arc_option=arc_option[keep],
        arc_region=arc_region[keep],
        arc_product=np.zeros(n_arcs, dtype=int),
        arc_distance_km=distance[keep],
        arc_production_cost=unit_cost[keep],
        arc_transport_cost=np.zeros(n_arcs),
        arc_co2_t=np.zeros(n_arcs),
    )
