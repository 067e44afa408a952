r"""A smaller unit of CO2 for a CO2 cap below one tonne, so that HiGHS's absolute feasibility
tolerance stays small against it.

HiGHS takes a row as met within 1e-7 of its bound. A cap of 5e-11 t CO2/yr (tiny quantities, or a cap
written in megatonnes) was then met by a network emitting 1.1e-7 t, 2,200 times the cap. Where the cap
:math:`C` is below 1 t, :func:`co2_factor` gives the power of ten :math:`k` that brings it into [1, 10),
and :func:`co2_in_unit` states CO2 in units :math:`1/k` of a tonne: the CO2 per unit of every arc and
inbound arc and the cap × k, the carbon price / k, so every cost, the objective and the solution are the
same. The factor is lowered where the largest arc's CO2 at its whole demand would pass
``MAX_CO2_TERM``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from planner.problem import Problem
from planner.solver.cost_unit import power_of_ten_into_one_to_ten

MAX_CO2_TERM = 1e12  # t CO2 (in the smaller unit) of one arc at its whole demand, well within HiGHS's range


def co2_factor(problem: Problem) -> float:
    """The power of ten that brings a CO2 cap below 1 t into [1, 10); else 1."""
    cap = problem.co2_cap_t
    if not (np.isfinite(cap) and 0.0 < cap < 1.0):
        return 1.0
    largest = float((problem.arc_co2_t * problem.demand[problem.arc_region, problem.arc_product]).max(initial=0.0))
    return power_of_ten_into_one_to_ten(cap, largest, MAX_CO2_TERM)


def co2_objective_factor(problem: Problem) -> float:
    """The power of ten that brings the largest CO2 term (an arc at its whole demand) into [1, 10) where it is
    below 1 t; else 1. For a solve that minimises CO2 (pareto's least emissions): HiGHS judges optimality with
    absolute tolerances, and CO2 terms of 1e-8 t had ended "optimal" at 2.3 × the least CO2."""
    largest = float((problem.arc_co2_t * problem.arc_demand).max(initial=0.0))
    if not 0.0 < largest < 1.0:
        return 1.0
    return power_of_ten_into_one_to_ten(largest, largest, MAX_CO2_TERM)


def co2_in_unit(problem: Problem, factor: float) -> Problem:
    """``problem`` with CO2 × ``factor`` and the carbon price / ``factor`` (see the module)."""
    supply = problem.supply
    if supply is not None:
        supply = dataclasses.replace(supply, in_co2_t=supply.in_co2_t * factor)
    return dataclasses.replace(problem, arc_co2_t=problem.arc_co2_t * factor, co2_cap_t=problem.co2_cap_t * factor,
                               carbon_price=problem.carbon_price / factor, supply=supply)
