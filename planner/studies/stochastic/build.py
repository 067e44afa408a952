r"""The two-stage stochastic network model (extensive form) in Pyomo, one ``define_*`` per family.

Symbols are those of :mod:`planner.model.build`, plus scenarios :math:`s \in \Sigma` with probability
:math:`p_s` and demand :math:`q_{sd}` (units/yr).

First stage (decided before demand is known, shared by every scenario): :math:`y_o` open,
:math:`m_o` modules, :math:`z_{op}` product setups — the same variables and network rules (one type
per site, counts, capex budget) as the deterministic model.

Second stage (per scenario, after demand is known):

* :math:`x_{sa} \in [0,1]` share of :math:`q_{sd(a)}` served on arc :math:`a`;
* :math:`u_{sd} \in [0,1]` unmet share (finite penalty only);
* :math:`e_{so} \in \mathbb{Z}_{\ge 0}` modules added after demand is known, only at options of
  microfactory role (:math:`o \in O^{rec}`), at :math:`(1+\rho) M_o` each — the adaptability of
  modular capacity; a central plant cannot add capacity at short notice.

Cost of scenario s (currency/yr):

.. math:: K_s = \underbrace{\sum_o (F_o y_o + M_o m_o) + \sum_{o,p} G_{op} z_{op}}_{\text{first stage } f}
          + \sum_a c_a q_{sd(a)} x_{sa} + \sum_d \pi_d q_{sd} u_{sd} + \sum_{o \in O^{rec}} (1+\rho) M_o e_{so}

Objective: expected cost plus :math:`\lambda` × CVaR at level :math:`\alpha` (Rockafellar–Uryasev):

.. math:: \min \sum_s p_s K_s + \lambda \Big(\eta + \frac{1}{1-\alpha} \sum_s p_s \xi_s\Big),
          \quad \xi_s \ge K_s - \eta,\ \xi_s \ge 0,\ \eta \text{ free}

(:math:`\eta` and :math:`\xi` exist only when :math:`\lambda > 0`). With one scenario, no recourse
gain and :math:`\lambda = 0` this is exactly the deterministic model.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from planner.model.build import (
    define_capex_budget,
    define_facility_counts,
    define_modules,
    define_one_type_per_site,
    define_open,
    modules_expr,
)
from planner.model.index import ModelIndex
from planner.problem import Problem, budget_row_scale
from planner.studies.stochastic.problem import StochasticProblem

logger = logging.getLogger(__name__)


def build_stochastic_model(
    sp: StochasticProblem, index: ModelIndex | None = None, strong_linking: bool = True, cuts: bool = True
) -> pyo.ConcreteModel:
    r"""The extensive form of ``sp``; ``index`` (of ``sp.problem``) is computed when not given.
    ``strong_linking`` = False leaves out :math:`x_{sa} \le y_{o(a)}` for capacitated options (see
    ``define_linking``); ``cuts`` = False leaves out the valid inequalities (load linking, aggregate
    capacity, capacity rounding), which never change the optimum (tests compare both)."""
    problem = sp.problem
    index = index or ModelIndex.from_problem(problem)
    model = pyo.ConcreteModel(name=f"{problem.name}_stochastic")
    define_sets(model, sp, index)
    define_open(model, problem)
    define_modules(model, problem, index)
    define_setup_first_stage(model, problem, index)
    define_recourse_modules(model, sp)
    define_assign(model, sp, index)
    define_unmet(model)
    define_demand_balance(model, sp, index)
    define_capacity(model, sp, index)
    define_linking(model, sp, index, strong_linking)
    if cuts:
        define_load_linking(model, sp, index)
    define_one_type_per_site(model, problem)
    define_facility_counts(model, problem)
    define_capex_budget(model, problem, index)
    define_capex_budget_recourse(model, sp)
    define_service_level(model, sp, index)
    if cuts:
        define_aggregate_capacity(model, sp, index)
        define_capacity_rounding(model, sp, index)
    define_costs(model, sp, index)
    define_cvar(model, sp)
    define_objective(model, sp)
    return model


def define_sets(model: pyo.ConcreteModel, sp: StochasticProblem, index: ModelIndex) -> None:
    """SCENARIOS Σ, OPTIONS O, PAIRS D, ARCS A, MODULAR, SETUPS as in the deterministic model;
    RECOURSE (options that may add modules per scenario); SCENARIO_ARCS (s, a) and SCENARIO_UNMET
    (s, d) for pairs with demand in scenario s."""
    problem = sp.problem
    pair_demand = sp.pair_demand(index)
    model.SCENARIOS = pyo.Set(initialize=range(sp.n_scenarios), ordered=True)
    model.OPTIONS = pyo.Set(initialize=range(problem.n_options), ordered=True)
    model.PAIRS = pyo.Set(initialize=range(index.n_pairs), ordered=True)
    model.ARCS = pyo.Set(initialize=range(problem.n_arcs), ordered=True)
    model.MODULAR = pyo.Set(initialize=index.modular_options.tolist(), ordered=True)
    model.SETUPS = pyo.Set(initialize=range(len(index.setup_option)), ordered=True)
    model.RECOURSE = pyo.Set(initialize=np.flatnonzero(sp.recourse_options).tolist(), ordered=True)
    scenario, arc = np.nonzero(pair_demand[:, index.arc_pair] > 0)
    model.SCENARIO_ARCS = pyo.Set(initialize=list(zip(scenario.tolist(), arc.tolist(), strict=True)), dimen=2)
    may_be_unmet = np.isfinite(index.pair_penalty)
    scenario, pair = np.nonzero((pair_demand > 0) & may_be_unmet[None, :])
    model.SCENARIO_UNMET = pyo.Set(initialize=list(zip(scenario.tolist(), pair.tolist(), strict=True)), dimen=2)


def define_setup_first_stage(model: pyo.ConcreteModel, problem, index: ModelIndex) -> None:
    r""":math:`z_{op} \in \{0,1\}`, :math:`z_{op} \le y_o` (first stage; the arcs link in ``define_linking``)."""
    model.setup = pyo.Var(model.SETUPS, domain=pyo.Binary)
    setup_option = index.setup_option.tolist()

    def _setup_open_rule(m, z):
        return m.setup[z] <= m.open[setup_option[z]]

    model.setup_open_constr = pyo.Constraint(model.SETUPS, rule=_setup_open_rule)


def define_recourse_modules(model: pyo.ConcreteModel, sp: StochasticProblem) -> None:
    r""":math:`e_{so} \in \mathbb{Z}_{\ge 0}`, :math:`m_o + e_{so} \le \overline m_o y_o` for
    :math:`o \in O^{rec}` (modules added after demand is known, within the site's module limit)."""
    problem = sp.problem
    model.recourse = pyo.Var(model.SCENARIOS, model.RECOURSE, domain=pyo.NonNegativeIntegers)
    high = problem.max_modules

    def _recourse_max_rule(m, s, o):
        return modules_expr(m, problem, o) + m.recourse[s, o] <= int(high[o]) * m.open[o]

    model.recourse_max_constr = pyo.Constraint(model.SCENARIOS, model.RECOURSE, rule=_recourse_max_rule)


def define_capex_budget_recourse(model: pyo.ConcreteModel, sp: StochasticProblem) -> None:
    r"""With a budget, per scenario: :math:`\sum_o (\text{capex}_o y_o + \text{capex\_per\_module}_o
    (m_o + e_{so})) \le B` (modules added later are investment too)."""
    problem = sp.problem
    if not np.isfinite(problem.capex_budget) or not len(model.RECOURSE):
        return
    first = sum(
        float(problem.capex[o]) * model.open[o] + float(problem.capex_per_module[o]) * modules_expr(model, problem, o)
        for o in range(problem.n_options)
        if problem.capex[o] > 0 or problem.capex_per_module[o] > 0
    )

    scale = budget_row_scale(problem)

    def _budget_rule(m, s):
        added = sum(float(problem.capex_per_module[o]) * m.recourse[s, o] for o in m.RECOURSE)
        return (first + added) / scale <= float(problem.capex_budget) / scale

    model.capex_budget_recourse_constr = pyo.Constraint(model.SCENARIOS, rule=_budget_rule)


def define_assign(model: pyo.ConcreteModel, sp: StochasticProblem, index: ModelIndex) -> None:
    r""":math:`x_{sa} \in [0,1]` (binary with single sourcing) where scenario s has demand on a's pair."""
    domain = pyo.Binary if sp.problem.single_sourcing else pyo.UnitInterval
    model.assign = pyo.Var(model.SCENARIO_ARCS, domain=domain)


def define_unmet(model: pyo.ConcreteModel) -> None:
    r""":math:`u_{sd} \in [0,1]` for pairs with a finite penalty and demand in scenario s."""
    model.unmet = pyo.Var(model.SCENARIO_UNMET, domain=pyo.UnitInterval)


def _arcs_by_scenario_pair(sp: StochasticProblem, index: ModelIndex) -> dict[tuple[int, int], list[int]]:
    pair_demand = sp.pair_demand(index)
    groups: dict[tuple[int, int], list[int]] = {}
    order, starts = index.arcs_by_pair
    for d in range(index.n_pairs):
        arcs = order[starts[d] : starts[d + 1]].tolist()
        for s in np.flatnonzero(pair_demand[:, d] > 0).tolist():
            groups[(s, d)] = arcs
    return groups


def define_demand_balance(model: pyo.ConcreteModel, sp: StochasticProblem, index: ModelIndex) -> None:
    r""":math:`\sum_{a: d(a)=d} x_{sa} + u_{sd} = 1` for every scenario s and pair d with :math:`q_{sd} > 0`."""
    groups = _arcs_by_scenario_pair(sp, index)
    may_be_unmet = np.isfinite(index.pair_penalty)

    def _demand_balance_rule(m, s, d):
        arcs = groups[(s, d)]
        if not arcs and not may_be_unmet[d]:
            return pyo.Constraint.Infeasible
        served = sum(m.assign[s, a] for a in arcs)
        if may_be_unmet[d]:
            served = served + m.unmet[s, d]
        return served == 1

    model.demand_balance_constr = pyo.Constraint(sorted(groups), rule=_demand_balance_rule)


def define_capacity(model: pyo.ConcreteModel, sp: StochasticProblem, index: ModelIndex) -> None:
    r""":math:`\sum_{a: o(a)=o} q_{sd(a)} x_{sa} \le C_o (m_o + e_{so})` for capacitated options."""
    problem = sp.problem
    arc_demand = sp.pair_demand(index)[:, index.arc_pair]  # (N, A)
    order, starts = index.arcs_by_option
    rows = {}
    for o in np.flatnonzero(np.isfinite(problem.module_capacity)).tolist():
        arcs = order[starts[o] : starts[o + 1]]
        for s in range(sp.n_scenarios):
            used = arcs[arc_demand[s, arcs] > 0]
            if len(used):
                rows[(s, o)] = used.tolist()

    def _capacity_rule(m, s, o):
        load = sum(float(arc_demand[s, a]) * m.assign[s, a] for a in rows[(s, o)])
        capacity = modules_expr(m, problem, o)
        if o in m.RECOURSE:
            capacity = capacity + m.recourse[s, o]
        return load <= float(problem.module_capacity[o]) * capacity

    model.capacity_constr = pyo.Constraint(sorted(rows), rule=_capacity_rule)


def define_linking(
    model: pyo.ConcreteModel, sp: StochasticProblem, index: ModelIndex, strong_linking: bool = True
) -> None:
    r""":math:`x_{sa} \le y_{o(a)}`, or :math:`x_{sa} \le z_{o(a)p(a)}` where the product needs a setup.

    For a capacitated option without setups the capacity row already links (:math:`y_o = 0 \Rightarrow
    m_o = e_{so} = 0 \Rightarrow` no flow), so these S × A rows are needed only for uncapacitated
    options and setups; with ``strong_linking`` (the default) they are added for every arc: they keep
    the relaxation from opening a site by the fraction of its capacity it uses."""
    arc_option = sp.problem.arc_option.tolist()
    arc_setup = index.arc_setup.tolist()
    needed = (index.arc_setup >= 0) | ~np.isfinite(sp.problem.module_capacity[sp.problem.arc_option])
    if strong_linking:
        needed[:] = True
    rows = [(s, a) for s, a in model.SCENARIO_ARCS if needed[a]]

    def _linking_rule(m, s, a):
        if arc_setup[a] >= 0:
            return m.assign[s, a] <= m.setup[arc_setup[a]]
        return m.assign[s, a] <= m.open[arc_option[a]]

    model.linking_constr = pyo.Constraint(rows, rule=_linking_rule)


def define_service_level(model: pyo.ConcreteModel, sp: StochasticProblem, index: ModelIndex) -> None:
    r"""The service level of ``planner.model.build.define_service_level`` in every scenario s:
    :math:`\sum_{a \in W_p} q_{sd(a)} x_{sa} \ge s_p \sum_{d: p(d)=p} q_{sd}`."""
    problem = sp.problem
    serviced = problem.serviced_products.tolist()
    if not serviced:
        return
    pair_demand = sp.pair_demand(index)  # (N, D)
    arc_demand = pair_demand[:, index.arc_pair]  # (N, A)
    within = problem.arc_within_service
    need = {(s, p): float(problem.service_share[p] * pair_demand[s, index.pair_product == p].sum())
            for s in range(sp.n_scenarios) for p in serviced}

    def _service_rule(m, s, p):
        arcs = np.flatnonzero(within & (problem.arc_product == p) & (arc_demand[s] > 0)).tolist()
        if not arcs:
            return pyo.Constraint.Infeasible if need[(s, p)] > 0 else pyo.Constraint.Skip
        return sum(float(arc_demand[s, a]) * m.assign[s, a] for a in arcs) >= need[(s, p)]

    model.service_level_constr = pyo.Constraint(sorted(need), rule=_service_rule)


def define_load_linking(model: pyo.ConcreteModel, sp: StochasticProblem, index: ModelIndex) -> None:
    r"""Valid inequality per scenario and option: :math:`\sum_{a: o(a)=o} q_{sd(a)} x_{sa} \le
    \min(Q_{so}, C_o \overline m_o) \, y_o`, with :math:`Q_{so}` the demand option o can reach in
    scenario s. The aggregated form of the strong linking (S × O rows instead of S × A): it keeps
    the relaxation from opening a site by a fraction of the modules it uses."""
    problem = sp.problem
    arc_demand = sp.pair_demand(index)[:, index.arc_pair]  # (N, A)
    reach = np.zeros((sp.n_scenarios, problem.n_options))
    for s in range(sp.n_scenarios):
        reach[s] = np.bincount(problem.arc_option, weights=arc_demand[s], minlength=problem.n_options)
    limit = np.minimum(reach, (problem.module_capacity * problem.max_modules)[None, :])
    order, starts = index.arcs_by_option
    rows = [(s, o) for s, o in zip(*np.nonzero(limit > 0), strict=True)]

    def _load_linking_rule(m, s, o):
        arcs = order[starts[o] : starts[o + 1]]
        load = sum(float(arc_demand[s, a]) * m.assign[s, a] for a in arcs.tolist() if arc_demand[s, a] > 0)
        return load <= float(limit[s, o]) * m.open[o]

    model.load_linking_constr = pyo.Constraint([(int(s), int(o)) for s, o in rows], rule=_load_linking_rule)


def define_aggregate_capacity(model: pyo.ConcreteModel, sp: StochasticProblem, index: ModelIndex) -> None:
    r"""Valid inequality per scenario: :math:`\sum_o C_o (m_o + e_{so}) \ge \sum_{d: \pi_d=\infty} q_{sd}`
    (see the deterministic ``define_aggregate_capacity``); only when every option is capacitated."""
    problem = sp.problem
    must = ~np.isfinite(index.pair_penalty)
    must_serve = sp.pair_demand(index)[:, must].sum(axis=1)
    if not must.any() or not np.isfinite(problem.module_capacity).all() or problem.n_options == 0:
        return
    capacity = [float(c) for c in problem.module_capacity]

    def _aggregate_rule(m, s):
        if must_serve[s] <= 0:
            return pyo.Constraint.Skip
        total = sum(capacity[o] * modules_expr(m, problem, o) for o in range(problem.n_options))
        total = total + sum(capacity[o] * m.recourse[s, o] for o in m.RECOURSE)
        return total >= float(must_serve[s])

    model.aggregate_capacity_constr = pyo.Constraint(model.SCENARIOS, rule=_aggregate_rule)


@dataclass(frozen=True)
class CapacityRounding:
    r"""What the capacity-rounding inequality of :func:`define_capacity_rounding` needs, shared by
    the rollout's: :math:`\delta` the smallest module capacity (units/yr), the integer weights
    :math:`\lceil C_o/\delta \rceil` per option, and which pairs some arc reaches."""

    delta: float
    weight: list[int]
    reached: np.ndarray  # (D,) bool

    @classmethod
    def of(cls, problem: Problem, index: ModelIndex) -> CapacityRounding | None:
        """None unless there are options and every one is capacitated."""
        capacity = problem.module_capacity
        if problem.n_options == 0 or not np.isfinite(capacity).all():
            return None
        delta = float(capacity.min())
        reached = np.zeros(index.n_pairs, dtype=bool)
        reached[index.arc_pair] = True
        return cls(delta, np.ceil(capacity / delta - 1e-9).astype(int).tolist(), reached)

    def reached_demand(self, pair_demand: np.ndarray) -> np.ndarray:
        """:math:`Q`: the demand of the reached pairs, summed over the last axis of ``pair_demand``."""
        return (pair_demand * self.reached).sum(axis=-1)

    def unmet_pairs(self, unmet_keys) -> dict[tuple, list[int]]:
        """The reached pairs ``d`` of the unmet variables ``(*cell, d)``, per cell."""
        pairs: dict[tuple, list[int]] = {}
        for *cell, d in unmet_keys:
            if self.reached[d]:
                pairs.setdefault(tuple(cell), []).append(d)
        return pairs

    def constraint(self, total: float, modules, unmet):
        r""":math:`U \ge r (k - N)` written as ``unmet + r·modules ≥ r·k``, for :math:`Q` = ``total`` > 0,
        :math:`N` = ``modules`` (weighted) and :math:`U` = ``unmet`` (units/yr)."""
        k = math.ceil(total / self.delta - 1e-9)
        r = float(total - self.delta * (k - 1))
        return unmet + r * modules >= r * k


def define_capacity_rounding(model: pyo.ConcreteModel, sp: StochasticProblem, index: ModelIndex) -> None:
    r"""Valid inequality per scenario (mixed-integer rounding of the total capacity), when every
    option is capacitated. With :math:`\delta` the smallest module capacity, :math:`N_s = \sum_o
    \lceil C_o/\delta \rceil (m_o + e_{so})` (integer), :math:`Q_s` the demand of the pairs some arc
    reaches and :math:`U_s = \sum_d q_{sd} u_{sd}` their unmet units, every solution has
    :math:`\delta N_s + U_s \ge Q_s`; with :math:`k_s = \lceil Q_s/\delta \rceil` and
    :math:`r_s = Q_s - \delta (k_s - 1) \in (0, \delta]`:

    .. math:: U_s \ge r_s (k_s - N_s)

    (if :math:`N_s \ge k_s` the right side is ≤ 0; otherwise :math:`U_s \ge Q_s - \delta N_s =
    r_s + \delta (k_s - 1 - N_s) \ge r_s (k_s - N_s)`). The relaxation otherwise buys fractions of
    modules; this charges the last, partly used module's units."""
    problem = sp.problem
    rounding = CapacityRounding.of(problem, index)
    if rounding is None:
        return
    weight = rounding.weight
    pair_demand = sp.pair_demand(index)
    total = rounding.reached_demand(pair_demand)
    unmet_pairs = rounding.unmet_pairs(model.SCENARIO_UNMET)

    def _rounding_rule(m, s):
        if total[s] <= 0:
            return pyo.Constraint.Skip
        modules = sum(weight[o] * modules_expr(m, problem, o) for o in range(problem.n_options))
        modules = modules + sum(weight[o] * m.recourse[s, o] for o in m.RECOURSE)
        unmet = sum(float(pair_demand[s, d]) * m.unmet[s, d] for d in unmet_pairs.get((s,), []))
        return rounding.constraint(total[s], modules, unmet)

    model.capacity_rounding_constr = pyo.Constraint(model.SCENARIOS, rule=_rounding_rule)


def define_costs(model: pyo.ConcreteModel, sp: StochasticProblem, index: ModelIndex) -> None:
    r"""Expressions ``first_stage_cost`` :math:`f` and ``scenario_cost[s]`` :math:`K_s - f` (currency/yr)."""
    problem = sp.problem
    fixed = sum(
        float(problem.opening_cost[o]) * model.open[o] + float(problem.module_cost[o]) * modules_expr(model, problem, o)
        for o in range(problem.n_options)
    )
    setup_cost = problem.setup_cost[index.setup_option, index.setup_product]
    setup = sum(float(cost) * model.setup[z] for z, cost in enumerate(setup_cost.tolist()))
    model.first_stage_cost = pyo.Expression(expr=fixed + setup)
    pair_demand = sp.pair_demand(index)
    arc_cost = problem.arc_unit_cost[None, :] * pair_demand[:, index.arc_pair]  # (N, A) currency/yr at x = 1
    penalty = np.where(np.isfinite(index.pair_penalty), index.pair_penalty, 0.0)  # must-serve pairs have no unmet
    unmet_cost = penalty[None, :] * pair_demand
    recourse_cost = (1.0 + sp.recourse_premium) * problem.module_cost
    terms: dict[int, list] = {s: [] for s in range(sp.n_scenarios)}
    for s, a in model.SCENARIO_ARCS:
        cost = float(arc_cost[s, a])
        if cost != 0:
            terms[s].append(cost * model.assign[s, a])
    for s, d in model.SCENARIO_UNMET:
        terms[s].append(float(unmet_cost[s, d]) * model.unmet[s, d])
    for s in range(sp.n_scenarios):
        for o in model.RECOURSE:
            terms[s].append(float(recourse_cost[o]) * model.recourse[s, o])

    def _scenario_cost_rule(m, s):
        return pyo.quicksum(terms[s]) if terms[s] else 0.0

    model.scenario_cost = pyo.Expression(model.SCENARIOS, rule=_scenario_cost_rule)


def define_cvar(model: pyo.ConcreteModel, sp: StochasticProblem) -> None:
    r"""Rockafellar–Uryasev CVaR when :math:`\lambda > 0`: :math:`\eta` free, :math:`\xi_s \ge 0`,
    :math:`\xi_s \ge f + (K_s - f) - \eta`; ``cvar`` = :math:`\eta + \frac{1}{1-\alpha}\sum_s p_s \xi_s`."""
    if sp.cvar_weight <= 0:
        return
    model.var_level = pyo.Var(domain=pyo.Reals)
    model.excess = pyo.Var(model.SCENARIOS, domain=pyo.NonNegativeReals)

    def _excess_rule(m, s):
        return m.excess[s] >= m.first_stage_cost + m.scenario_cost[s] - m.var_level

    model.excess_constr = pyo.Constraint(model.SCENARIOS, rule=_excess_rule)
    probability = sp.scenarios.probability.tolist()
    tail = 1.0 / (1.0 - sp.cvar_alpha)
    model.cvar = pyo.Expression(
        expr=model.var_level + sum(tail * probability[s] * model.excess[s] for s in model.SCENARIOS)
    )


def define_objective(model: pyo.ConcreteModel, sp: StochasticProblem) -> None:
    r"""Expected cost :math:`f + \sum_s p_s (K_s - f)`, plus :math:`\lambda` × CVaR when :math:`\lambda > 0`."""
    probability = sp.scenarios.probability.tolist()
    expected = model.first_stage_cost + sum(probability[s] * model.scenario_cost[s] for s in model.SCENARIOS)
    if sp.cvar_weight > 0:
        expected = expected + float(sp.cvar_weight) * model.cvar
    model.total_cost = pyo.Objective(expr=expected, sense=pyo.minimize)
