r"""Modelling to generate alternatives (MGA): the constraints and objective that turn the cost model
into "as different as possible, within a cost slack".

Given the optimum's cost :math:`C^*`, a slack :math:`\sigma` and the open decisions
:math:`\hat y^1, \dots, \hat y^J` of the networks found so far:

.. math::

   \max\ \delta \quad\text{s.t.}\quad \text{cost}(y, m, x, u) \le (1 + \sigma)\, C^*, \qquad
   \delta \le \sum_{o: \hat y^j_o = 1} (1 - y_o) + \sum_{o: \hat y^j_o = 0} y_o \quad \forall j,
   \qquad \delta \ge 1

:math:`\delta` is the smallest Hamming distance, in facility options (site, type), to any earlier
network: a site that changes type counts twice (closed as one type, opened as another).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from planner.model.build import total_cost_expr
from planner.model.index import ModelIndex
from planner.problem import Problem


def define_cost_budget(model: pyo.ConcreteModel, problem: Problem, index: ModelIndex, budget: float) -> None:
    r""":math:`\text{cost} \le (1+\sigma) C^*` (currency/yr)."""
    model.cost_budget_constr = pyo.Constraint(expr=total_cost_expr(model, problem, index) <= float(budget))


def define_distance_objective(model: pyo.ConcreteModel, earlier: list[np.ndarray]) -> None:
    r""":math:`\max \delta`, :math:`\delta \le` Hamming distance to each earlier network, :math:`\delta \ge 1`;
    the cost objective is deactivated."""
    model.total_cost.deactivate()
    model.min_distance = pyo.Var(domain=pyo.NonNegativeReals)
    options = list(model.OPTIONS)

    def _distance_rule(m, j):
        opened = earlier[j]
        distance = sum((1 - m.open[o]) if opened[o] else m.open[o] for o in options)
        return m.min_distance <= distance

    model.distance_constr = pyo.Constraint(range(len(earlier)), rule=_distance_rule)
    model.min_distance_constr = pyo.Constraint(expr=model.min_distance >= 1)
    model.distance_objective = pyo.Objective(expr=model.min_distance, sense=pyo.maximize)


def restore_cost_objective(model: pyo.ConcreteModel) -> None:
    """Close the options the diversity solve left closed and minimise cost again over the ones it
    opened (modules and flows free): an opened option may close again, so that the network reported
    has no facility that produces nothing (the diversity objective counts an idle facility as a
    difference, and had spent the slack on four idle microfactories). Forced options stay fixed."""
    for option in model.OPTIONS:
        if model.open[option].fixed:
            continue  # forced or existing
        if round(model.open[option].value or 0.0):
            model.open[option].unfix()
        else:
            model.open[option].fix(0)
    model.distance_objective.deactivate()
    model.cost_budget_constr.deactivate()
    model.distance_constr.deactivate()
    model.min_distance_constr.deactivate()
    model.total_cost.activate()
