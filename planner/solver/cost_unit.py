r"""A larger unit of money for problems whose costs are all small, so that HiGHS's absolute
tolerances stay small against them.

HiGHS judges optimality with absolute tolerances: reduced costs within 1e-7 count as zero and a MIP
stops within an absolute gap of 1e-6. Where every cost term is of that order (a model in millions of
a currency written in units, costs × 1e-9: an objective of 7.3e-4), both hide real differences: such an
instance was called optimal at 7.30042e-4, its bound equal to it, where the optimum is 7.29456e-4
(the same instance with costs 10^9 times larger, solved and scaled back); at costs × 1e-11 an
uncapacitated instance was 45 % above its optimum, "optimal" with a gap of 0.

Where the largest cost term (:func:`planner.inputs.screen.largest_cost_term`: a fixed cost, or an arc at
its whole demand) is below 1, :func:`cost_factor` gives the power of ten :math:`k` that brings it into
[1, 10), and :func:`costs_in_unit` states every cost in units :math:`1/k` of the original (opening,
module and setup costs, unit costs, prices, the carbon price and the unmet penalties, and the
suppliers' prices, transport and relationship costs, all × k). Budgets (capex, not an objective term),
CO2 and quantities keep their values. The solution is the same in both units; the objective and the
bound are divided by k again (:func:`report_in_unit`). The factor is lowered where an unmet penalty at a
product's whole demand would then pass ``MAX_COST_TERM`` (a penalty of 1e9 meaning "serve it").

It applies wherever :func:`planner.solver.solve` solves (``solve``, ``compare``, ``sweep``, the
points of ``pareto``, the least-cost networks of ``alternatives``); the diversity solves of
``alternatives`` and the stochastic extensive form are solved in the model's own unit.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from planner.inputs.screen import MAX_COST_TERM, largest_cost_term
from planner.problem import Problem
from planner.solver.outcome import SolveReport


def cost_factor(problem: Problem) -> float:
    """The power of ten that brings the largest cost term into [1, 10) where it is below 1; else 1 (also
    for the classic kinds, whose measure is not money)."""
    if problem.objective_kind != "cost":
        return 1.0
    largest = largest_cost_term(problem)
    if not 0.0 < largest < 1.0:
        return 1.0
    penalty = np.where(np.isfinite(problem.unmet_penalty), problem.unmet_penalty, 0.0) * problem.demand.sum(axis=0)
    return power_of_ten_into_one_to_ten(largest, float(penalty.max(initial=0.0)), MAX_COST_TERM)


def power_of_ten_into_one_to_ten(small: float, largest: float, limit: float) -> float:
    """The power of ten that brings ``small`` (in (0, 1)) into [1, 10), lowered (not below 1) where
    ``largest`` times it would pass ``limit``."""
    factor = 10.0 ** -math.floor(math.log10(small))
    if largest * factor > limit:
        factor = max(1.0, 10.0 ** math.floor(math.log10(limit / largest)))
    return factor


def costs_in_unit(problem: Problem, factor: float) -> Problem:
    """``problem`` with every cost × ``factor`` (see the module)."""
    supply = problem.supply
    if supply is not None:
        supply = dataclasses.replace(supply, supplier_cost=supply.supplier_cost * factor,
                                     in_transport_cost=supply.in_transport_cost * factor,
                                     in_fixed_cost=supply.in_fixed_cost * factor)
    return dataclasses.replace(
        problem,
        opening_cost=problem.opening_cost * factor,
        module_cost=problem.module_cost * factor,
        setup_cost=problem.setup_cost * factor,
        unmet_penalty=problem.unmet_penalty * factor,
        arc_production_cost=problem.arc_production_cost * factor,
        arc_transport_cost=problem.arc_transport_cost * factor,
        arc_price=problem.arc_price * factor,
        carbon_price=problem.carbon_price * factor,
        supply=supply,
    )


def report_in_unit(report: SolveReport, factor: float) -> SolveReport:
    """``report`` with its objective and bound × ``factor`` (its gap is relative: unchanged)."""
    def scaled(value: float | None) -> float | None:
        return None if value is None else value * factor

    return dataclasses.replace(report, objective=scaled(report.objective), best_bound=scaled(report.best_bound))
