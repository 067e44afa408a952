r"""A larger unit of quantity for problems whose demands are all small, so that HiGHS's absolute
tolerances stay small against them.

HiGHS holds every row to an absolute feasibility tolerance (1e-7). Where demands and capacities are
of that order (a demand of 6e-8 units against a module of 1e-7), a capacity row
:math:`\sum_a q_a x_a \le C_o` can be overrun by most of a capacity within it: such an instance was
"solved optimal" at 9.0 with every customer at one site (a load of 1.8e-7 on 1e-7), where the true
optimum is 40.33 (the same instance in units 10^7 times larger).

Where the largest demand is below 1, :func:`quantity_factor` gives the power of ten :math:`k` that
brings it to [1, 10), and :func:`in_unit` states the problem in units :math:`1/k` of the original:

.. math::

    q' = k q, \quad C' = k C, \quad \text{max unmet}' = k\,\text{max unmet}, \quad
    c' = c / k \ \text{(every cost, price and CO2 per unit)},

and for inbound supply the material quantities alike (supplier capacities × k, costs and CO2 per unit
of material / k; the bill of materials keeps its value, both units being scaled). Open states,
module counts and shares are the same in both units, and every total (cost, CO2, objective) is
unchanged; only the inbound flows of a solution are in the new unit (:func:`solution_in_unit`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from planner.model.solution import Solution
from planner.problem import Problem


def quantity_factor(problem: Problem) -> float:
    """The power of ten that brings the largest demand into [1, 10) where it is below 1; else 1."""
    largest = float(np.max(problem.demand, initial=0.0))
    if not 0.0 < largest < 1.0:
        return 1.0
    return 10.0 ** -math.floor(math.log10(largest))


def in_unit(problem: Problem, factor: float) -> Problem:
    """``problem`` with quantities × ``factor`` and everything per unit / ``factor`` (see the module).
    A finite capacity beyond all that can ever be delivered (or, for a supplier, needed) is held at that: the
    same model, whose coefficients stay within HiGHS's range (a module of 10,000 units in units 1e12
    times smaller, 1e16, was dropped by HiGHS with the whole matrix: 'Model status: Empty')."""
    delivered = float(problem.demand.sum()) * factor * max(1.0, float(np.max(problem.arc_demand_factor, initial=1.0)))
    supply = problem.supply
    if supply is not None:
        needed = max(delivered * float(np.max(supply.bom, initial=0.0)), 1.0)
        supply = dataclasses.replace(
            supply, supplier_capacity=_held_at(supply.supplier_capacity * factor, needed),
            supplier_cost=supply.supplier_cost / factor,
            in_transport_cost=supply.in_transport_cost / factor, in_co2_t=supply.in_co2_t / factor)
    return dataclasses.replace(
        problem,
        demand=problem.demand * factor,
        module_capacity=_held_at(problem.module_capacity * factor, max(delivered, 1.0)),
        max_unmet=problem.max_unmet * factor,
        unmet_penalty=problem.unmet_penalty / factor,
        arc_production_cost=problem.arc_production_cost / factor,
        arc_transport_cost=problem.arc_transport_cost / factor,
        arc_co2_t=problem.arc_co2_t / factor,
        arc_price=problem.arc_price / factor,
        supply=supply,
    )


def _held_at(capacity: np.ndarray, most: float) -> np.ndarray:
    """Finite capacities held at ``most``; an unlimited one stays unlimited (held, it made an uncapacitated
    model capacitated and cost it its fast routes: set covering at 175 facilities instead of 116)."""
    return np.where(np.isfinite(capacity), np.minimum(capacity, most), capacity)


def solution_in_unit(solution: Solution | None, factor: float) -> Solution | None:
    """``solution`` with its inbound flows × ``factor`` (everything else is unit-free)."""
    if solution is None or solution.inbound is None:
        return solution
    return dataclasses.replace(solution, inbound=solution.inbound * factor)


def material_factor(problem: Problem) -> float:
    """The power of ten that brings the largest need of a material (its bill of materials × all demand, at the
    largest demand factor) into [1, 10) where it is 10 or more; else 1. Inbound flows are columns in units of
    material, not shares: at a need of 1e6 kg a year, a price difference of 3.4e-8 per kg between two suppliers
    of a site lies within HiGHS's reduced-cost tolerance (1e-7) and was left unused, 0.0318 of an objective of
    61.77 ("optimal" at 61.80, bound 61.80; the same model in tonnes: 61.77)."""
    if problem.supply is None:
        return 1.0
    delivered = float(problem.demand.sum()) * max(1.0, float(np.max(problem.arc_demand_factor, initial=1.0)))
    largest = delivered * float(np.max(problem.supply.bom, initial=0.0))
    if not largest >= 10.0 or not np.isfinite(largest):
        return 1.0
    return 10.0 ** -math.floor(math.log10(largest))


def materials_in_unit(problem: Problem, factor: float) -> Problem:
    """``problem`` with material quantities × ``factor`` (bill of materials, supplier capacities) and the costs
    and CO2 per unit of material / ``factor``; a solution's inbound flows are then in the new unit
    (:func:`solution_in_unit`), everything else unchanged."""
    supply = problem.supply
    return dataclasses.replace(problem, supply=dataclasses.replace(
        supply, bom=supply.bom * factor, supplier_capacity=supply.supplier_capacity * factor,
        supplier_cost=supply.supplier_cost / factor, in_transport_cost=supply.in_transport_cost / factor,
        in_co2_t=supply.in_co2_t / factor))
