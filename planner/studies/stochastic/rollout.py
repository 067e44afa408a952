r"""Staged rollout: the network over periods, optionally under demand scenarios revealed after the
first period ("pilot, then scale"). One ``define_*`` per family; extensive form.

Index sets: periods :math:`t = 1..T`, scenarios :math:`s` with probability :math:`p_s`, and the
decision nodes of the scenario tree :math:`n(s, t)`: one root node for period 1 (decided before the
scenario is known) and one node per scenario for each later period. Cells :math:`c = (s, t)` carry
demand :math:`q_{cd}` (units/yr).

Variables: :math:`y_{no} \in \{0,1\}` open, :math:`m_{no}` modules, :math:`z_{n,op}` setups at
node n; :math:`x_{ca} \in [0,1]`, :math:`u_{cd} \in [0,1]` shares served and unmet in cell c.

Constraints: facilities stay open, modules are only added
(:math:`y_{no} \ge y_{\text{parent}(n)o}`, :math:`m_{no} \ge m_{\text{parent}(n)o}`); per node the
deterministic network rules (module bounds, one type per site, counts, capex budget on what is open);
per cell demand balance, capacity :math:`\sum_a q_{cd(a)} x_{ca} \le C_o m_{n(c)o}`, setup linking,
and the valid inequalities of :mod:`planner.studies.stochastic.build` (load linking, capacity rounding).

Cost of cell c (currency/yr): :math:`K_c = \sum_o (F_o y_{no} + M_o m_{no}) + \sum G z + \sum_a
c_a q_{cd(a)} x_{ca} + \sum_d \pi_d q_{cd} u_{cd}` with n = n(c). Scenario cost (currency, present
value): :math:`K_s = \sum_t w_t K_{(s,t)}` with :math:`w_t = \sum_{j} (1+r)^{-j}` over the years j
of period t. Objective :math:`\sum_s p_s K_s + \lambda\,\mathrm{CVaR}_\alpha(K)` as in the two-stage
model. With one period of one year, one scenario and no discounting it is the deterministic model.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from planner.audit import RELATIVE_TOLERANCE, audit
from planner.errors import InputError, SolverError
from planner.model.index import ModelIndex
from planner.model.solution import Solution, values
from planner.problem import ARC_FIELDS, Problem, budget_row_scale
from planner.results import ResultTables
from planner.solver.budget import excess_of_networks, kept_within_budget
from planner.solver.cost_unit import cost_factor, costs_in_unit, report_in_unit
from planner.solver.highs import solve_model
from planner.solver.outcome import SolveReport, SolverOptions
from planner.studies.stochastic.build import CapacityRounding
from planner.studies.stochastic.results import cvar

logger = logging.getLogger(__name__)


def period_weights(periods: int, period_years: float, discount_rate: float) -> np.ndarray:
    """(T,) present-value years of each period: Σ over its years j of (1 + rate)^−j (partial last
    year pro rata)."""
    weights = np.zeros(periods)
    for t in range(periods):
        start, end = t * period_years, (t + 1) * period_years
        year = math.floor(start)
        while year < end:
            share = min(end, year + 1) - max(start, year)
            weights[t] += share / (1.0 + discount_rate) ** year
            year += 1
    return weights


def adoption_curve(periods: int, adoption=None, source: str = "rollout.adoption") -> np.ndarray:
    """(T,) demand fraction per period: the given list, or a logistic curve scaled to 1 at the end;
    ``source`` names the list in the error where its length is not ``periods`` (--periods overrides
    the model's)."""
    if adoption is not None:
        if len(adoption) != periods:
            raise InputError(
                f"{source} has {len(adoption)} numbers for {periods} periods; give one per period (or leave "
                "--periods out)"
            )
        return np.asarray(adoption, dtype=float)
    t = np.arange(1, periods + 1)
    curve = 1.0 / (1.0 + np.exp(-(t - periods / 2.0) * 4.0 / periods))
    return curve / curve[-1]


def demand_trajectories(
    mature: np.ndarray, adoption: np.ndarray, pilot: np.ndarray | None = None, pilot_periods: int = 0
) -> np.ndarray:
    """(N, T, R, P) demand: ``mature`` (N, R, P) × adoption of the period; during the first
    ``pilot_periods`` periods only the regions where ``pilot`` (R,) is True have demand."""
    demand = mature[:, None, :, :] * adoption[None, :, None, None]
    if pilot is not None and pilot_periods > 0:
        demand[:, :pilot_periods, ~np.asarray(pilot, dtype=bool), :] = 0.0
    return demand


@dataclass(frozen=True)
class RolloutProblem:
    """``problem`` has arcs for every pair some cell asks for; ``demand`` is (N, T, R, P)."""

    problem: Problem
    demand: np.ndarray
    probability: np.ndarray
    period_weight: np.ndarray
    scenario_ids: tuple[str, ...]
    type_role: tuple[str, ...]
    cvar_alpha: float = 0.9
    cvar_weight: float = 0.0

    @property
    def n_scenarios(self) -> int:
        return self.demand.shape[0]

    @property
    def n_periods(self) -> int:
        return self.demand.shape[1]

    @property
    def n_nodes(self) -> int:
        return 1 + self.n_scenarios * (self.n_periods - 1)

    def node(self, s: int, t: int) -> int:
        """Decision node of scenario s in period t (0-based): the root in the first period."""
        return 0 if t == 0 else 1 + s * (self.n_periods - 1) + (t - 1)

    def parent(self, n: int) -> int | None:
        if n == 0:
            return None
        t = (n - 1) % (self.n_periods - 1) + 1
        return 0 if t == 1 else n - 1

    @property
    def cells(self) -> list[tuple[int, int]]:
        return [(s, t) for s in range(self.n_scenarios) for t in range(self.n_periods)]

    def cell_problem(self, s: int, t: int) -> Problem:
        return dataclasses.replace(self.problem, demand=self.demand[s, t])


def rollout_problem(
    problem: Problem, demand: np.ndarray, probability, period_weight, scenario_ids, type_role,
    cvar_alpha: float = 0.9, cvar_weight: float = 0.0,
) -> RolloutProblem:
    """A :class:`RolloutProblem` whose ``problem`` keeps only the arcs of pairs some cell asks for."""
    asked = (demand > 0).any(axis=(0, 1))
    keep = asked[problem.arc_region, problem.arc_product]
    largest = demand.max(axis=(0, 1))
    base = dataclasses.replace(problem, demand=largest, **{name: getattr(problem, name)[keep] for name in ARC_FIELDS})
    return RolloutProblem(
        problem=base,
        demand=np.asarray(demand, dtype=float),
        probability=np.asarray(probability, dtype=float),
        period_weight=np.asarray(period_weight, dtype=float),
        scenario_ids=tuple(scenario_ids),
        type_role=tuple(type_role),
        cvar_alpha=cvar_alpha,
        cvar_weight=cvar_weight,
    )


# --- the model -------------------------------------------------------------------------------------


def build_rollout_model(rp: RolloutProblem, index: ModelIndex | None = None, cuts: bool = True) -> pyo.ConcreteModel:
    """The extensive form of ``rp``."""
    index = index or ModelIndex.from_problem(rp.problem)
    model = pyo.ConcreteModel(name=f"{rp.problem.name}_rollout")
    define_sets(model, rp, index)
    define_open(model, rp)
    define_modules(model, rp, index)
    define_setup(model, rp, index)
    define_flows(model, rp)
    define_demand_balance(model, rp, index)
    define_capacity(model, rp, index)
    define_linking(model, rp, index)
    define_network_rules(model, rp)
    if cuts:
        define_capacity_rounding(model, rp, index)
    define_costs(model, rp, index)
    define_objective(model, rp)
    return model


def _cell_pair_demand(rp: RolloutProblem, index: ModelIndex) -> np.ndarray:
    """(N, T, D) demand per cell and pair."""
    return rp.demand[:, :, index.pair_region, index.pair_product]


def define_sets(model, rp: RolloutProblem, index: ModelIndex) -> None:
    """NODES, OPTIONS, MODULAR, SETUPS, CELLS (s, t); CELL_ARCS (s, t, a) and CELL_UNMET (s, t, d)
    where the cell has demand on the pair."""
    problem = rp.problem
    demand = _cell_pair_demand(rp, index)
    model.NODES = pyo.Set(initialize=range(rp.n_nodes), ordered=True)
    model.OPTIONS = pyo.Set(initialize=range(problem.n_options), ordered=True)
    model.MODULAR = pyo.Set(initialize=index.modular_options.tolist(), ordered=True)
    model.SETUPS = pyo.Set(initialize=range(len(index.setup_option)), ordered=True)
    model.CELLS = pyo.Set(initialize=rp.cells, dimen=2, ordered=True)
    s, t, a = np.nonzero(demand[:, :, index.arc_pair] > 0)
    model.CELL_ARCS = pyo.Set(initialize=list(zip(s.tolist(), t.tolist(), a.tolist(), strict=True)), dimen=3)
    may = np.isfinite(index.pair_penalty)
    s, t, d = np.nonzero((demand > 0) & may[None, None, :])
    model.CELL_UNMET = pyo.Set(initialize=list(zip(s.tolist(), t.tolist(), d.tolist(), strict=True)), dimen=3)


def define_open(model, rp: RolloutProblem) -> None:
    r""":math:`y_{no} \in \{0,1\}`, :math:`y_{no} \ge y_{\text{parent}(n)o}` (open for good); forced
    options open at every node."""
    model.open = pyo.Var(model.NODES, model.OPTIONS, domain=pyo.Binary)
    for n in model.NODES:
        for o in np.flatnonzero(rp.problem.forced).tolist():
            model.open[n, o].fix(1)
    rows = [(n, o) for n in model.NODES if rp.parent(n) is not None for o in model.OPTIONS]

    def _stay_open_rule(m, n, o):
        return m.open[n, o] >= m.open[rp.parent(n), o]

    model.stay_open_constr = pyo.Constraint(rows, rule=_stay_open_rule)


def define_modules(model, rp: RolloutProblem, index: ModelIndex) -> None:
    r""":math:`\underline m_o y_{no} \le m_{no} \le \overline m_o y_{no}`, integer, and
    :math:`m_{no} \ge m_{\text{parent}(n)o}` (modules are only added)."""
    problem = rp.problem
    model.modules = pyo.Var(model.NODES, model.MODULAR, domain=pyo.NonNegativeIntegers)

    def _bounds_rule(m, n, o):
        return (0, m.modules[n, o] - int(problem.min_modules[o]) * m.open[n, o], None)

    def _max_rule(m, n, o):
        return m.modules[n, o] <= int(problem.max_modules[o]) * m.open[n, o]

    model.modules_min_constr = pyo.Constraint(model.NODES, model.MODULAR, rule=_bounds_rule)
    model.modules_max_constr = pyo.Constraint(model.NODES, model.MODULAR, rule=_max_rule)
    rows = [(n, o) for n in model.NODES if rp.parent(n) is not None for o in model.MODULAR]

    def _add_only_rule(m, n, o):
        return m.modules[n, o] >= m.modules[rp.parent(n), o]

    model.modules_added_only_constr = pyo.Constraint(rows, rule=_add_only_rule)


def node_modules(model, problem: Problem, n: int, o: int):
    """:math:`m_{no}`, or ``min_modules × open`` where the count is fixed."""
    if o in model.MODULAR:
        return model.modules[n, o]
    return int(problem.min_modules[o]) * model.open[n, o]


def define_setup(model, rp: RolloutProblem, index: ModelIndex) -> None:
    r""":math:`z_{n,op} \le y_{no}` (product setups at node n)."""
    model.setup = pyo.Var(model.NODES, model.SETUPS, domain=pyo.Binary)
    option = index.setup_option.tolist()

    def _setup_open_rule(m, n, z):
        return m.setup[n, z] <= m.open[n, option[z]]

    model.setup_open_constr = pyo.Constraint(model.NODES, model.SETUPS, rule=_setup_open_rule)


def define_flows(model, rp: RolloutProblem) -> None:
    r""":math:`x_{ca} \in [0,1]` (binary with single sourcing), :math:`u_{cd} \in [0,1]`."""
    domain = pyo.Binary if rp.problem.single_sourcing else pyo.UnitInterval
    model.assign = pyo.Var(model.CELL_ARCS, domain=domain)
    model.unmet = pyo.Var(model.CELL_UNMET, domain=pyo.UnitInterval)


def define_demand_balance(model, rp: RolloutProblem, index: ModelIndex) -> None:
    r""":math:`\sum_{a \to d} x_{ca} + u_{cd} = 1` where cell c has demand on pair d."""
    demand = _cell_pair_demand(rp, index)
    order, starts = index.arcs_by_pair
    may = np.isfinite(index.pair_penalty)
    rows = [(int(s), int(t), int(d)) for s, t, d in zip(*np.nonzero(demand > 0), strict=True)]

    def _balance_rule(m, s, t, d):
        arcs = order[starts[d] : starts[d + 1]].tolist()
        if not arcs and not may[d]:
            return pyo.Constraint.Infeasible
        served = sum(m.assign[s, t, a] for a in arcs)
        if may[d]:
            served = served + m.unmet[s, t, d]
        return served == 1

    model.demand_balance_constr = pyo.Constraint(rows, rule=_balance_rule)


def _cell_arc_demand(rp: RolloutProblem, index: ModelIndex) -> np.ndarray:
    return _cell_pair_demand(rp, index)[:, :, index.arc_pair]  # (N, T, A)


def define_capacity(model, rp: RolloutProblem, index: ModelIndex) -> None:
    r""":math:`\sum_{a: o(a)=o} q_{cd(a)} x_{ca} \le C_o m_{n(c)o}` for capacitated options, and the
    load linking :math:`\sum_a q x \le \min(Q_{co}, C_o \overline m_o) y_{n(c)o}`."""
    problem = rp.problem
    arc_demand = _cell_arc_demand(rp, index)
    order, starts = index.arcs_by_option
    rows = {}
    for o in range(problem.n_options):
        arcs = order[starts[o] : starts[o + 1]]
        for s, t in rp.cells:
            used = arcs[arc_demand[s, t, arcs] > 0]
            if len(used):
                rows[(s, t, o)] = used.tolist()
    capacitated = np.isfinite(problem.module_capacity)
    limit = problem.module_capacity * problem.max_modules

    def _load(m, s, t, o):
        return sum(float(arc_demand[s, t, a]) * m.assign[s, t, a] for a in rows[(s, t, o)])

    def _capacity_rule(m, s, t, o):
        if not capacitated[o]:
            return pyo.Constraint.Skip
        return _load(m, s, t, o) <= float(problem.module_capacity[o]) * node_modules(m, problem, rp.node(s, t), o)

    def _load_linking_rule(m, s, t, o):
        reach = float(sum(arc_demand[s, t, a] for a in rows[(s, t, o)]))
        return _load(m, s, t, o) <= min(reach, float(limit[o])) * m.open[rp.node(s, t), o]

    model.capacity_constr = pyo.Constraint(sorted(rows), rule=_capacity_rule)
    model.load_linking_constr = pyo.Constraint(sorted(rows), rule=_load_linking_rule)


def define_linking(model, rp: RolloutProblem, index: ModelIndex) -> None:
    r""":math:`x_{ca} \le z_{n(c),o(a)p(a)}` where the product needs a setup; :math:`x_{ca} \le
    y_{n(c)o(a)}` for uncapacitated options (capacitated ones link through capacity and the load
    linking of ``define_capacity``, one row per cell and option instead of one per cell and arc)."""
    problem = rp.problem
    arc_setup = index.arc_setup
    needed = (arc_setup >= 0) | ~np.isfinite(problem.module_capacity[problem.arc_option])
    rows = [(s, t, a) for s, t, a in model.CELL_ARCS if needed[a]]
    arc_option = problem.arc_option.tolist()

    def _linking_rule(m, s, t, a):
        n = rp.node(s, t)
        if arc_setup[a] >= 0:
            return m.assign[s, t, a] <= m.setup[n, int(arc_setup[a])]
        return m.assign[s, t, a] <= m.open[n, arc_option[a]]

    model.linking_constr = pyo.Constraint(rows, rule=_linking_rule)


def define_network_rules(model, rp: RolloutProblem) -> None:
    r"""Per node: one type per site, facility counts by type and in total, the capex budget."""
    problem = rp.problem
    sites, counts = np.unique(problem.option_site, return_counts=True)
    groups = [np.flatnonzero(problem.option_site == site).tolist() for site in sites[counts > 1]]

    def _one_type_rule(m, n, g):
        return sum(m.open[n, o] for o in groups[g]) <= 1

    model.one_type_per_site_constr = pyo.Constraint(model.NODES, range(len(groups)), rule=_one_type_rule)
    n_per_type = np.bincount(problem.option_type, minlength=len(problem.type_ids))
    limited = [k for k in range(len(problem.type_ids))
               if problem.type_min_count[k] > 0 or problem.type_max_count[k] < n_per_type[k]]

    def _type_count_rule(m, n, k):
        opened = sum(m.open[n, o] for o in np.flatnonzero(problem.option_type == k).tolist())
        return (int(problem.type_min_count[k]), opened, int(problem.type_max_count[k]))

    model.type_count_constr = pyo.Constraint(model.NODES, limited, rule=_type_count_rule)
    high = problem.n_options if problem.max_facilities is None else problem.max_facilities
    if problem.min_facilities > 0 or high < problem.n_options:
        def _count_rule(m, n):
            return (problem.min_facilities, sum(m.open[n, o] for o in m.OPTIONS), high)

        model.facility_count_constr = pyo.Constraint(model.NODES, rule=_count_rule)
    if np.isfinite(problem.capex_budget):
        scale = budget_row_scale(problem)

        def _budget_rule(m, n):
            return sum(float(problem.capex[o]) / scale * m.open[n, o]
                       + float(problem.capex_per_module[o]) / scale * node_modules(m, problem, n, o)
                       for o in m.OPTIONS) <= float(problem.capex_budget) / scale

        model.capex_budget_constr = pyo.Constraint(model.NODES, rule=_budget_rule)


def define_capacity_rounding(model, rp: RolloutProblem, index: ModelIndex) -> None:
    r"""Per cell, the capacity-rounding inequality of
    :func:`planner.studies.stochastic.build.define_capacity_rounding` (every option capacitated)."""
    problem = rp.problem
    rounding = CapacityRounding.of(problem, index)
    if rounding is None:
        return
    weight = rounding.weight
    demand = _cell_pair_demand(rp, index)
    total = rounding.reached_demand(demand)
    unmet_pairs = rounding.unmet_pairs(model.CELL_UNMET)

    def _rounding_rule(m, s, t):
        if total[s, t] <= 0:
            return pyo.Constraint.Skip
        n = rp.node(s, t)
        modules = sum(weight[o] * node_modules(m, problem, n, o) for o in m.OPTIONS)
        unmet = sum(float(demand[s, t, d]) * m.unmet[s, t, d] for d in unmet_pairs.get((s, t), []))
        return rounding.constraint(total[s, t], modules, unmet)

    model.capacity_rounding_constr = pyo.Constraint(model.CELLS, rule=_rounding_rule)


def define_costs(model, rp: RolloutProblem, index: ModelIndex) -> None:
    r"""``cell_cost[s, t]`` :math:`K_c` (currency/yr) and ``scenario_cost[s]`` :math:`K_s = \sum_t w_t K_{(s,t)}`."""
    problem = rp.problem
    arc_cost = problem.arc_unit_cost[None, None, :] * _cell_arc_demand(rp, index)
    penalty = np.where(np.isfinite(index.pair_penalty), index.pair_penalty, 0.0)  # must-serve pairs have no unmet
    unmet_cost = penalty[None, None, :] * _cell_pair_demand(rp, index)
    setup_cost = problem.setup_cost[index.setup_option, index.setup_product].tolist()
    terms: dict[tuple[int, int], list] = {cell: [] for cell in rp.cells}
    for s, t, a in model.CELL_ARCS:
        if arc_cost[s, t, a] != 0:
            terms[(s, t)].append(float(arc_cost[s, t, a]) * model.assign[s, t, a])
    for s, t, d in model.CELL_UNMET:
        terms[(s, t)].append(float(unmet_cost[s, t, d]) * model.unmet[s, t, d])

    def _cell_cost_rule(m, s, t):
        n = rp.node(s, t)
        fixed = sum(float(problem.opening_cost[o]) * m.open[n, o]
                    + float(problem.module_cost[o]) * node_modules(m, problem, n, o) for o in m.OPTIONS)
        setup = sum(setup_cost[z] * m.setup[n, z] for z in m.SETUPS)
        return fixed + setup + pyo.quicksum(terms[(s, t)])

    model.cell_cost = pyo.Expression(model.CELLS, rule=_cell_cost_rule)
    weight = rp.period_weight.tolist()

    def _scenario_cost_rule(m, s):
        return sum(weight[t] * m.cell_cost[s, t] for t in range(rp.n_periods))

    model.scenario_cost = pyo.Expression(range(rp.n_scenarios), rule=_scenario_cost_rule)


def define_objective(model, rp: RolloutProblem) -> None:
    r""":math:`\sum_s p_s K_s`, plus :math:`\lambda` × CVaR (Rockafellar–Uryasev) when :math:`\lambda > 0`."""
    probability = rp.probability.tolist()
    expected = sum(probability[s] * model.scenario_cost[s] for s in range(rp.n_scenarios))
    if rp.cvar_weight > 0:
        model.var_level = pyo.Var(domain=pyo.Reals)
        model.excess = pyo.Var(range(rp.n_scenarios), domain=pyo.NonNegativeReals)
        model.excess_constr = pyo.Constraint(
            range(rp.n_scenarios), rule=lambda m, s: m.excess[s] >= m.scenario_cost[s] - m.var_level
        )
        tail = 1.0 / (1.0 - rp.cvar_alpha)
        expected = expected + rp.cvar_weight * (
            model.var_level + sum(tail * probability[s] * model.excess[s] for s in range(rp.n_scenarios))
        )
    model.total_cost = pyo.Objective(expr=expected, sense=pyo.minimize)


# --- solution, tables, audit ----------------------------------------------------------------------


@dataclass(frozen=True)
class RolloutRun:
    """A solved rollout: per-cell deterministic solutions and tables, per-scenario present-value costs."""

    rp: RolloutProblem
    report: SolveReport
    solutions: dict[tuple[int, int], Solution]
    tables: dict[tuple[int, int], ResultTables]
    scenario_costs: np.ndarray  # (N,) currency, present value, recomputed by the audit
    expected_cost: float
    cvar: float
    objective: float

    def period_table(self) -> pd.DataFrame:
        """periods.csv: one row per scenario and period: facilities, modules and capacity by type,
        demand, served, cost parts (currency/yr), weight and present-value cost."""
        rows = []
        problem = self.rp.problem
        for (s, t), tables in self.tables.items():
            sites = tables.sites
            row = {"scenario": self.rp.scenario_ids[s], "probability": float(self.rp.probability[s]),
                   "period": t + 1, "weight_years": float(self.rp.period_weight[t])}
            for type_id in problem.type_ids:
                mine = sites[sites["facility_type"] == type_id]
                row[f"n_{type_id}"] = len(mine)
                row[f"capacity_{type_id}"] = float(mine["capacity"].sum())
            row["demand"] = float(tables.regions["demand"].sum())
            row["served"] = float(tables.regions["served"].sum())
            parts = tables.cost_parts()
            row.update(parts)
            row["cost_per_yr"] = sum(parts.values())
            row["present_value"] = row["cost_per_yr"] * row["weight_years"]
            rows.append(row)
        return pd.DataFrame(rows)


def load_rollout_start(model, rp: RolloutProblem, index: ModelIndex, start: RolloutRun, money: float = 1.0) -> None:
    """Set the model's variables to the solution of ``start`` (same problem; its costs × ``money`` in the model)."""
    for (s, t), solution in start.solutions.items():
        n = rp.node(s, t)
        for o in model.OPTIONS:
            if not model.open[n, o].fixed:
                model.open[n, o].set_value(int(solution.open[o]))
        for o in model.MODULAR:
            model.modules[n, o].set_value(int(solution.modules[o]))
        for z, (o, p) in enumerate(zip(index.setup_option.tolist(), index.setup_product.tolist(), strict=True)):
            model.setup[n, z].set_value(int(solution.setup[o, p]))
        for a in np.flatnonzero(solution.assign > 0).tolist():
            if (s, t, a) in model.assign:
                model.assign[s, t, a].set_value(float(solution.assign[a]))
        for d in range(index.n_pairs):
            if (s, t, d) in model.unmet:
                model.unmet[s, t, d].set_value(float(solution.unmet[d]))
    if rp.cvar_weight > 0:
        costs = start.scenario_costs * money
        best = min(costs, key=lambda eta: eta + rp.probability @ np.maximum(costs - eta, 0) / (1 - rp.cvar_alpha))
        model.var_level.set_value(float(best))
        for s in range(rp.n_scenarios):
            model.excess[s].set_value(float(max(costs[s] - best, 0.0)))


def solve_rollout(
    rp: RolloutProblem, options: SolverOptions, start: RolloutRun | None = None,
    allowed_first: np.ndarray | None = None, require_open_first: np.ndarray | None = None,
) -> RolloutRun:
    """Solve, keep within the capex budget beyond HiGHS's tolerance (:mod:`planner.solver.budget`) and audit.
    ``start`` warm-starts it (a feasible solution of the same problem); ``allowed_first`` (O,) bool: only
    these may be open in period 1; ``require_open_first`` (O,) bool: at least one of these opens in period 1
    (a commitment)."""
    index = ModelIndex.from_problem(rp.problem)
    def solve(budget: float, options: SolverOptions) -> tuple[SolveReport, dict]:
        lowered = dataclasses.replace(rp, problem=dataclasses.replace(rp.problem, capex_budget=budget))
        return _solve_extensive(lowered, index, options, start if budget == rp.problem.capex_budget else None,
                                allowed_first, require_open_first)

    def over(solutions: dict) -> float:
        return excess_of_networks(rp.problem, [(cell.open, cell.modules) for cell in solutions.values()])

    report, solutions = kept_within_budget(rp.problem, over, solve, options)
    tables = {}
    for (s, t), solution in solutions.items():
        cell_index = dataclasses.replace(index, pair_demand=_cell_pair_demand(rp, index)[s, t])
        table = ResultTables.from_solution(rp.cell_problem(s, t), cell_index, solution)
        regions = table.regions[table.regions["demand"] > 0].reset_index(drop=True)
        tables[(s, t)] = ResultTables(table.sites, table.flows, regions)
    run = audit_rollout(rp, tables, report)
    return dataclasses.replace(run, solutions=solutions)


def _solve_extensive(rp: RolloutProblem, index: ModelIndex, options: SolverOptions, start, allowed_first,
                     require_open_first) -> tuple[SolveReport, dict]:
    """The extensive form solved by HiGHS (see :func:`solve_rollout`): its report and each cell's solution. Where
    every cost term is below 1, in a larger unit of money (:func:`planner.solver.cost_unit.cost_factor`: HiGHS's
    tolerances are absolute, and costs of 1e-9 had ended "optimal" at 1.4 × the optimum), its report in the model's."""
    started = time.perf_counter()  # the time limit covers the extensive form's build
    money = cost_factor(rp.problem)
    if money != 1.0:
        rp = dataclasses.replace(rp, problem=costs_in_unit(rp.problem, money))
        index = dataclasses.replace(index, pair_penalty=index.pair_penalty * money)
    model = build_rollout_model(rp, index)
    if allowed_first is not None:
        for o in np.flatnonzero(~np.asarray(allowed_first)).tolist():
            if not model.open[0, o].fixed:
                model.open[0, o].fix(0)
    if require_open_first is not None:
        chosen = np.flatnonzero(require_open_first).tolist()
        if not chosen:
            raise InputError("no option can make the required period-1 commitment")
        model.commitment_constr = pyo.Constraint(expr=sum(model.open[0, o] for o in chosen) >= 1)
    if start is not None:
        load_rollout_start(model, rp, index, start, money)
    report = solve_model(model, options, warm_start=start is not None, started=started)  # run_highs checks the start
    return report_in_unit(report, 1.0 / money), {(s, t): _cell_solution(model, rp, index, s, t) for s, t in rp.cells}


def _cell_solution(model, rp: RolloutProblem, index: ModelIndex, s: int, t: int) -> Solution:
    """The decisions of node n(s, t) and the shares of cell (s, t), rounded like any solution (0
    for arcs and pairs the cell has no variable for)."""
    problem = rp.problem
    n = rp.node(s, t)
    assign = np.zeros(problem.n_arcs)
    arcs = [a for a in range(problem.n_arcs) if (s, t, a) in model.assign]
    assign[arcs] = values(model.assign, [(s, t, a) for a in arcs])
    unmet = np.zeros(index.n_pairs)
    pairs = [d for d in range(index.n_pairs) if (s, t, d) in model.unmet]
    unmet[pairs] = values(model.unmet, [(s, t, d) for d in pairs])
    return Solution.from_columns(
        problem,
        index,
        values(model.open, [(n, o) for o in range(problem.n_options)]),
        values(model.modules, [(n, o) for o in index.modular_options]),
        assign,
        unmet[index.unmet_pairs],
        values(model.setup, [(n, z) for z in range(len(index.setup_option))]),
    )


def audit_rollout(rp: RolloutProblem, tables: dict, report: SolveReport) -> RolloutRun:
    """Every cell passes the deterministic audit; facilities never close and modules never shrink
    along a scenario; the first period is the same in every scenario; the objective recomputed from
    the tables (present value over periods, expected cost and CVaR) equals the solver's."""
    failures = []
    costs = np.zeros(rp.n_scenarios)
    for (s, t), table in tables.items():
        cell = audit(rp.cell_problem(s, t), table, None)
        failures += [f"{name} in scenario {rp.scenario_ids[s]} period {t + 1}" for name in cell.failures]
        costs[s] += rp.period_weight[t] * cell.objective_recomputed
    for s in range(rp.n_scenarios):
        for t in range(1, rp.n_periods):
            before = tables[(s, t - 1)].sites.set_index(["site_id", "facility_type"])["modules"]
            after = tables[(s, t)].sites.set_index(["site_id", "facility_type"])["modules"]
            if (after.reindex(before.index).fillna(0) < before).any():
                failures.append(f"closed or shrunk in scenario {rp.scenario_ids[s]} period {t + 1}")
        first = tables[(s, 0)].sites[["site_id", "facility_type", "modules"]].reset_index(drop=True)
        if not first.equals(tables[(0, 0)].sites[["site_id", "facility_type", "modules"]].reset_index(drop=True)):
            failures.append(f"non_anticipativity in scenario {rp.scenario_ids[s]}")
    expected = float(rp.probability @ costs)
    tail = cvar(costs, rp.probability, rp.cvar_alpha)
    objective = expected + rp.cvar_weight * tail
    if report.objective is not None and abs(objective - report.objective) > RELATIVE_TOLERANCE * max(abs(objective), 1):
        failures.append("objective")
    if failures:
        raise SolverError(f"the rollout failed the independent audit ({', '.join(failures[:5])}); nothing written")
    return RolloutRun(rp, report, {}, tables, costs, expected, tail, objective)
