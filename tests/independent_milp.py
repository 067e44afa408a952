"""An independent MILP of a :class:`planner.problem.Problem`, written from models/README.md ("How the numbers
become the model" and each section's meaning) and the field docs of planner/problem.py, solved by
scipy.optimize.milp (HiGHS). Nothing of planner.model or planner.solver is used: it checks the planner's
rows themselves, not only its solver.

Columns: y_o open (binary, 1 where forced), n_o modules (integer), x_a share of arc a's pair served on a
(binary with single sourcing), u_d unmet share of demand pair d, s_op product set-up (binary, where o has a
set-up cost for p), w_b material on inbound arc b, z_b supply relationship in use (binary, where it has a
fixed cost). Arc a delivers x_a · q_d · f_a units (f_a its demand factor) at c_a per unit (production +
transport + carbon price × CO2 − price).

    min Σ_o (F_o y_o + M_o n_o) + Σ_op S_op s_op + Σ_a c_a q_d f_a x_a + Σ_d π_p q_d u_d
        + Σ_b (v_b w_b + G_b z_b)
    Σ_{a ∈ d} x_a + u_d = 1                 every demand pair; u_d = 0 where π_p = ∞
    x_a ≤ y_o,  x_a ≤ s_op (set-up > 0)      an arc serves from an open option making its product
    min_o y_o ≤ n_o ≤ max_o y_o;  Σ_{a ∈ o} q_d f_a x_a ≤ cap_o n_o
    Σ_{o ∈ site} y_o ≤ 1;  type and network counts;  Σ (capex_o y_o + capex/module_o n_o) ≤ budget
    Σ_a co2_a q_d f_a x_a + Σ_b co2_b w_b ≤ cap;  Σ_d q_d u_d ≤ max unmet of p
    Σ_{a of p within the service limit} q_d x_a ≥ share_p Σ_d q_d   (base demand, not the factor)
    Σ_{b into o of m} w_b = Σ_{a ∈ o} bom_pm q_d f_a x_a;  Σ_{b of j} w_b ≤ cap_j;  w_b ≤ W_b z_b
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from planner.problem import Problem


class Milp:
    """Columns with cost, bounds and integrality, and rows ``lower ≤ Σ coef · column ≤ upper``."""

    def __init__(self) -> None:
        self.cost, self.lower, self.upper, self.integral = [], [], [], []
        self.entries, self.row_lower, self.row_upper = [], [], []

    def columns(self, cost, lower, upper, integral: bool) -> np.ndarray:
        """Add len(cost) columns; their positions."""
        cost = np.asarray(cost, dtype=float)
        first = len(self.cost)
        self.cost.extend(cost)
        self.lower.extend(np.broadcast_to(lower, cost.shape))
        self.upper.extend(np.broadcast_to(upper, cost.shape))
        self.integral.extend([int(integral)] * len(cost))
        return np.arange(first, first + len(cost))

    def row(self, columns, coefs, lower: float = -np.inf, upper: float = np.inf) -> None:
        row = len(self.row_lower)
        coefs = np.broadcast_to(np.asarray(coefs, dtype=float), np.shape(columns))
        self.entries.extend((row, int(c), float(v)) for c, v in zip(columns, coefs, strict=True))
        self.row_lower.append(lower)
        self.row_upper.append(upper)

    def solve(self, time_limit_s: float = 20.0) -> float | None:
        """The optimum (None when infeasible); raise when HiGHS does not prove it."""
        n_rows = len(self.row_lower)
        rows, cols, values = (np.array(v) for v in zip(*self.entries, strict=True)) if self.entries else ([], [], [])
        matrix = coo_matrix((values, (rows, cols)), shape=(n_rows, len(self.cost))).tocsr()
        constraints = [LinearConstraint(matrix, self.row_lower, self.row_upper)] if n_rows else []
        result = milp(np.array(self.cost), constraints=constraints, integrality=np.array(self.integral),
                      bounds=Bounds(self.lower, self.upper),
                      options={"mip_rel_gap": 1e-10, "time_limit": time_limit_s})
        if result.status == 2:
            return None
        assert result.status == 0, result.message
        return float(result.fun)


def optimum(problem: Problem, time_limit_s: float = 20.0) -> float | None:
    """Least objective of ``problem`` (None when no network is feasible)."""
    model = Milp()
    y, n = option_columns(model, problem)
    x = flow_columns(model, problem, y, n)
    network_rows(model, problem, y, n)
    co2 = supply_columns(model, problem, x, y)
    delivered = problem.arc_demand
    if np.isfinite(problem.co2_cap_t):
        model.row(np.concatenate([x, co2[0]]), np.concatenate([problem.arc_co2_t * delivered, co2[1]]),
                  upper=problem.co2_cap_t)
    return model.solve(time_limit_s)


def option_columns(model: Milp, problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """y_o (open) and n_o (modules) with min_o y_o ≤ n_o ≤ max_o y_o."""
    y = model.columns(problem.opening_cost, np.asarray(problem.forced, dtype=float), 1.0, integral=True)
    n = model.columns(problem.module_cost, 0.0, np.asarray(problem.max_modules, dtype=float), integral=True)
    for o in range(problem.n_options):
        model.row([n[o], y[o]], [1.0, -problem.min_modules[o]], lower=0.0)
        model.row([n[o], y[o]], [1.0, -problem.max_modules[o]], upper=0.0)
    return y, n


def flow_columns(model: Milp, problem: Problem, y: np.ndarray, n: np.ndarray) -> np.ndarray:
    """x_a and u_d with their pair, linking, capacity, set-up, service and unmet rows; x."""
    delivered = problem.arc_demand
    x = model.columns(problem.arc_unit_cost * delivered, 0.0, 1.0, integral=problem.single_sourcing)
    for r, p in np.argwhere(problem.demand > 0):
        q, penalty = problem.demand[r, p], problem.unmet_penalty[p]
        u = model.columns([penalty * q if np.isfinite(penalty) else 0.0], 0.0,
                          1.0 if np.isfinite(penalty) else 0.0, integral=False)
        mine = x[(problem.arc_region == r) & (problem.arc_product == p)]
        model.row(np.append(mine, u), 1.0, 1.0, 1.0)
    for a in range(problem.n_arcs):
        model.row([x[a], y[problem.arc_option[a]]], [1.0, -1.0], upper=0.0)
    for o in np.flatnonzero(np.isfinite(problem.module_capacity)):
        mine = np.flatnonzero(problem.arc_option == o)
        model.row(np.append(x[mine], n[o]), np.append(delivered[mine], -problem.module_capacity[o]), upper=0.0)
    setup_rows(model, problem, x)
    service_and_unmet_rows(model, problem, x)
    return x


def setup_rows(model: Milp, problem: Problem, x: np.ndarray) -> None:
    """s_op paid where option o makes product p at all (set-up cost > 0): x_a ≤ s_op."""
    for o, p in np.argwhere(problem.setup_cost > 0):
        arcs = np.flatnonzero((problem.arc_option == o) & (problem.arc_product == p))
        if not len(arcs):
            continue
        s = model.columns([problem.setup_cost[o, p]], 0.0, 1.0, integral=True)
        for a in arcs:
            model.row([x[a], s[0]], [1.0, -1.0], upper=0.0)


def service_and_unmet_rows(model: Milp, problem: Problem, x: np.ndarray) -> None:
    """Service level per product on the base demand within its limit; the unmet limit (units/yr) per product,
    as base demand less base demand served."""
    base = problem.demand[problem.arc_region, problem.arc_product]
    within = problem.arc_within_service
    for p in range(problem.n_products):
        total = problem.demand[:, p].sum()
        mine = problem.arc_product == p
        if problem.service_share[p] > 0:
            near = np.flatnonzero(mine & within)
            model.row(x[near], base[near], lower=problem.service_share[p] * total)
        if np.isfinite(problem.max_unmet[p]):  # unmet = total − served
            arcs = np.flatnonzero(mine)
            model.row(x[arcs], base[arcs], lower=total - problem.max_unmet[p])


def network_rows(model: Milp, problem: Problem, y: np.ndarray, n: np.ndarray) -> None:
    """One option per site, the counts per type and in all, and the capex budget (divided by itself)."""
    for site in np.unique(problem.option_site):
        model.row(y[problem.option_site == site], 1.0, upper=1.0)
    for k in range(len(problem.type_ids)):
        mine = y[problem.option_type == k]
        model.row(mine, 1.0, lower=float(problem.type_min_count[k]), upper=float(problem.type_max_count[k]))
    top = np.inf if problem.max_facilities is None else float(problem.max_facilities)
    model.row(y, 1.0, lower=float(problem.min_facilities), upper=top)
    budget = problem.capex_budget
    if np.isfinite(budget):
        scale = budget if budget > 0 else 1.0
        model.row(np.concatenate([y, n]), np.concatenate([problem.capex, problem.capex_per_module]) / scale,
                  upper=budget / scale)


def supply_columns(model: Milp, problem: Problem, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """w_b and z_b with the material balances, supplier capacities and relationships; (w, CO2 per unit of w)."""
    supply = problem.supply
    if supply is None:
        return np.zeros(0, dtype=int), np.zeros(0)
    w = model.columns(supply.in_unit_cost(problem.carbon_price), 0.0, np.inf, integral=False)
    need = supply.bom[problem.arc_product] * problem.arc_demand[:, None]  # (A, M) material at x_a = 1
    for o in range(problem.n_options):
        arcs = np.flatnonzero(problem.arc_option == o)
        for m in range(len(supply.material_ids)):
            inbound = np.flatnonzero((supply.in_option == o) & (supply.in_material == m))
            model.row(np.concatenate([w[inbound], x[arcs]]), np.concatenate([np.ones(len(inbound)), -need[arcs, m]]),
                      0.0, 0.0)
    for j in np.flatnonzero(np.isfinite(supply.supplier_capacity)):
        model.row(w[supply.in_supplier == j], 1.0, upper=supply.supplier_capacity[j])
    for b in np.flatnonzero(supply.in_fixed_cost > 0):
        o, m = supply.in_option[b], supply.in_material[b]
        most = min(need[problem.arc_option == o, m].sum(), supply.supplier_capacity[supply.in_supplier[b]])
        z = model.columns([supply.in_fixed_cost[b]], 0.0, 1.0, integral=True)
        model.row([w[b], z[0]], [1.0, -most], upper=0.0)
    return w, supply.in_co2_t
