"""Brute force for tiny problems, independent of the planner's model builders: every open set is
enumerated and its flows found by one LP (scipy's linprog), written here from the problem's arrays.

Covers one module per option, capacities, unmet penalties, proximity factors and prices (through
``arc_demand`` and ``arc_unit_cost``), service levels, and inbound supply without relationship
costs (material balance per option and material, supplier capacities)."""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import linprog

from planner.problem import Problem


def best_by_enumeration(problem: Problem) -> float:
    """Least objective over every open set (inf when none is feasible)."""
    best = np.inf
    for opened in itertools.product([0, 1], repeat=problem.n_options):
        opened = np.array(opened, dtype=bool)
        value = flow_lp(problem, opened)
        if value is not None:
            best = min(best, value + problem.opening_cost[opened].sum())
    return best


def flow_lp(problem: Problem, opened: np.ndarray) -> float | None:
    """The least flow (and inbound) cost with ``opened`` open, or None when infeasible. Columns: the
    shares x of the open options' arcs, one unmet share per region (single product), inbound w."""
    arcs = np.flatnonzero(opened[problem.arc_option])
    n_x, n_r, n_w = len(arcs), problem.n_regions, problem.n_inbound
    q = problem.arc_demand[arcs]
    rows = Rows(n_x + n_r + n_w)
    for r in range(n_r):
        rows.add({**dict.fromkeys(np.flatnonzero(problem.arc_region[arcs] == r), 1.0), n_x + r: 1.0}, 1.0, 1.0)
    for o in np.flatnonzero(opened):
        mine = np.flatnonzero(problem.arc_option[arcs] == o)
        rows.add(dict(zip(mine, q[mine], strict=True)), -np.inf, problem.module_capacity[o])
    base = problem.demand[problem.arc_region[arcs], problem.arc_product[arcs]]  # a level counts the base demand
    for p in problem.serviced_products:
        near = np.flatnonzero(problem.arc_within_service[arcs] & (problem.arc_product[arcs] == p))
        rows.add(dict(zip(near, base[near], strict=True)), problem.service_share[p] * problem.demand[:, p].sum(),
                 np.inf)
    cost = [problem.arc_unit_cost[arcs] * q, problem.unmet_penalty[0] * problem.demand[:, 0]]
    if problem.supply is not None:
        add_supply_rows(problem, arcs, rows, n_x + n_r)
        cost.append(problem.supply.in_unit_cost(problem.carbon_price))
    bounds = [(0, 1)] * (n_x + n_r) + [(0, None)] * n_w
    result = rows.solve(np.concatenate(cost), bounds)
    return None if result.status != 0 else float(result.fun)


def add_supply_rows(problem: Problem, arcs: np.ndarray, rows: Rows, first_w: int) -> None:
    """Material in = production's need per option and material; suppliers within capacity."""
    supply = problem.supply
    q = problem.arc_demand[arcs]
    for o, m in itertools.product(range(problem.n_options), range(len(supply.material_ids))):
        mine = np.flatnonzero(problem.arc_option[arcs] == o)
        terms = dict(zip(mine, -supply.bom[problem.arc_product[arcs][mine], m] * q[mine], strict=True))
        for b in np.flatnonzero((supply.in_option == o) & (supply.in_material == m)):
            terms[first_w + b] = 1.0
        rows.add(terms, 0.0, 0.0)
    for j in np.flatnonzero(np.isfinite(supply.supplier_capacity)):
        rows.add(dict.fromkeys(first_w + np.flatnonzero(supply.in_supplier == j), 1.0), -np.inf,
                 supply.supplier_capacity[j])


class Rows:
    """``lower ≤ Σ coef · column ≤ upper`` rows, split into linprog's equality and ≤ rows."""

    def __init__(self, n_columns: int) -> None:
        self.n = n_columns
        self.eq, self.eq_rhs, self.ub, self.ub_rhs = [], [], [], []

    def add(self, terms: dict, lower: float, upper: float) -> None:
        row = np.zeros(self.n)
        for column, coef in terms.items():
            row[int(column)] = coef
        if lower == upper:
            self.eq.append(row)
            self.eq_rhs.append(lower)
            return
        if np.isfinite(upper):
            self.ub.append(row)
            self.ub_rhs.append(upper)
        if np.isfinite(lower):
            self.ub.append(-row)
            self.ub_rhs.append(-lower)

    def solve(self, cost: np.ndarray, bounds):
        return linprog(cost, A_ub=np.array(self.ub) if self.ub else None, b_ub=self.ub_rhs or None,
                       A_eq=np.array(self.eq) if self.eq else None, b_eq=self.eq_rhs or None, bounds=bounds,
                       method="highs")
