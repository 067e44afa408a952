r"""The facility network MILP in Pyomo, one ``define_*`` function per family.

Symbols (units):

* :math:`o \in O` facility options (site :math:`s(o)`, type :math:`k(o)`);
  :math:`d \in D` demand pairs (region, product) with demand :math:`q_d` (units/yr);
  :math:`a \in A` arcs from option :math:`o(a)` to pair :math:`d(a)`.
* :math:`F_o` opening cost (currency/yr), :math:`M_o` cost per module (currency/yr),
  :math:`C_o` capacity per module (units/yr), :math:`\underline m_o, \overline m_o` module bounds.
* :math:`c_a` = production + transport + carbon price × CO2 − price per unit on arc :math:`a`
  (currency/unit; the price of proximity bands, 0 without);
* :math:`f_a` demand factor of arc a (proximity bands; 1 without): arc a delivers :math:`f_a q_{d(a)} x_a`,
  and :math:`q_{d(a)}` in the rows below stands for :math:`f_a q_{d(a)}` (``ModelIndex.arc_demand``);
  :math:`\pi_d` unmet penalty (currency/unit; :math:`\infty` = must serve).

Variables:

* :math:`y_o \in \{0,1\}` open; :math:`m_o \in \mathbb{Z}` modules (a variable only where
  :math:`\overline m_o > \underline m_o`, else :math:`m_o = \underline m_o y_o`);
* :math:`x_a \in [0,1]` share of pair :math:`d(a)`'s demand served on arc :math:`a`
  (binary with single sourcing), i.e. flow :math:`= q_{d(a)} x_a`;
* :math:`u_d \in [0,1]` unmet share (only where :math:`\pi_d < \infty`).

Objective (currency/yr):

.. math:: \min \sum_o (F_o y_o + M_o m_o) + \sum_{o,p} G_{op} z_{op} + \sum_a c_a q_{d(a)} x_a
          + \sum_d \pi_d q_d u_d

with :math:`z_{op}` the product setups of ``define_setup`` (economies of scope), plus the inbound
supply terms of ``define_supply`` where the problem has suppliers (``planner.model.supply``).
"""

from __future__ import annotations

import logging

import numpy as np
import pyomo.environ as pyo

from planner.errors import InfeasibleError
from planner.interrupt import stop_requested
from planner.model.arrays import linked_arcs, service_need, unmet_limit_need
from planner.model.index import ModelIndex, members
from planner.model.supply import MaterialBalance, limited_suppliers, relation_arcs, relation_bound
from planner.problem import Problem, budget_row_scale

logger = logging.getLogger(__name__)


class _QuietWhenStopped(logging.Filter):
    """Pyomo logs "Constructing component ... failed" before an exception leaves a constraint rule;
    when that exception is the run's interruption (Ctrl-C, SIGTERM), the CLI's one line says it all."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not stop_requested()


logging.getLogger("pyomo.core").addFilter(_QuietWhenStopped())


def build_model(problem: Problem, index: ModelIndex | None = None) -> pyo.ConcreteModel:
    """The Pyomo model of ``problem``; ``index`` is computed when not given."""
    index = index or ModelIndex.from_problem(problem)
    model = pyo.ConcreteModel(name=problem.name)
    define_sets(model, problem, index)
    define_open(model, problem)
    define_modules(model, problem, index)
    define_assign(model, problem)
    define_unmet(model, index)
    define_demand_balance(model, index)
    define_capacity(model, problem, index)
    define_linking(model, problem, index)
    define_setup(model, problem, index)
    define_supply(model, problem, index)
    define_one_type_per_site(model, problem)
    define_facility_counts(model, problem)
    define_capex_budget(model, problem, index)
    define_aggregate_capacity(model, problem, index)
    define_co2_cap(model, problem, index)
    define_unmet_limit(model, problem, index)
    define_service_level(model, problem, index)
    define_objective(model, problem, index)
    return model


def define_sets(model: pyo.ConcreteModel, problem: Problem, index: ModelIndex) -> None:
    """OPTIONS O, PAIRS D, ARCS A, MODULAR (options with a module decision), UNMET (pairs that may
    go unserved). Plain integer ranges: ids live in the problem, not in the model."""
    model.OPTIONS = pyo.Set(initialize=range(problem.n_options), ordered=True)
    model.PAIRS = pyo.Set(initialize=range(index.n_pairs), ordered=True)
    model.ARCS = pyo.Set(initialize=range(problem.n_arcs), ordered=True)
    model.MODULAR = pyo.Set(initialize=index.modular_options.tolist(), ordered=True)
    model.UNMET = pyo.Set(initialize=index.unmet_pairs.tolist(), ordered=True)
    model.SETUPS = pyo.Set(initialize=range(len(index.setup_option)), ordered=True)


def define_open(model: pyo.ConcreteModel, problem: Problem) -> None:
    r""":math:`y_o \in \{0,1\}`; forced and existing options are fixed to 1."""
    model.open = pyo.Var(model.OPTIONS, domain=pyo.Binary)
    for option in np.flatnonzero(problem.forced).tolist():
        model.open[option].fix(1)


def define_modules(model: pyo.ConcreteModel, problem: Problem, index: ModelIndex) -> None:
    r""":math:`\underline m_o y_o \le m_o \le \overline m_o y_o`, :math:`m_o` integer, for modular options."""
    model.modules = pyo.Var(model.MODULAR, domain=pyo.NonNegativeIntegers)
    low, high = problem.min_modules, problem.max_modules

    def _modules_min_rule(m, o):
        return m.modules[o] >= int(low[o]) * m.open[o]

    def _modules_max_rule(m, o):
        return m.modules[o] <= int(high[o]) * m.open[o]

    model.modules_min_constr = pyo.Constraint(model.MODULAR, rule=_modules_min_rule)
    model.modules_max_constr = pyo.Constraint(model.MODULAR, rule=_modules_max_rule)


def modules_expr(model: pyo.ConcreteModel, problem: Problem, option: int):
    """:math:`m_o`: the module variable, or ``min_modules × open`` where the count is fixed."""
    if option in model.MODULAR:
        return model.modules[option]
    return int(problem.min_modules[option]) * model.open[option]


def define_assign(model: pyo.ConcreteModel, problem: Problem) -> None:
    r""":math:`x_a \in [0,1]`, binary when single sourcing is on."""
    domain = pyo.Binary if problem.single_sourcing else pyo.UnitInterval
    model.assign = pyo.Var(model.ARCS, domain=domain)


def define_unmet(model: pyo.ConcreteModel, index: ModelIndex) -> None:
    r""":math:`u_d \in [0,1]` for pairs with a finite penalty."""
    model.unmet = pyo.Var(model.UNMET, domain=pyo.UnitInterval)


def define_demand_balance(model: pyo.ConcreteModel, index: ModelIndex) -> None:
    r""":math:`\sum_{a: d(a)=d} x_a + u_d = 1` for every pair :math:`d` (no :math:`u_d` when it must be served)."""
    may_be_unmet = np.isfinite(index.pair_penalty)

    def _demand_balance_rule(m, d):
        arcs = members(index.arcs_by_pair, d).tolist()
        served = sum(m.assign[a] for a in arcs)
        if may_be_unmet[d]:
            served = served + m.unmet[d]
        if not arcs and not may_be_unmet[d]:
            return pyo.Constraint.Infeasible
        return served == 1

    model.demand_balance_constr = pyo.Constraint(model.PAIRS, rule=_demand_balance_rule)


def define_capacity(model: pyo.ConcreteModel, problem: Problem, index: ModelIndex) -> None:
    r""":math:`\sum_{a: o(a)=o} q_{d(a)} x_a \le C_o m_o` for capacitated options (units/yr)."""
    arc_demand = index.arc_demand
    capacitated = [o for o in range(problem.n_options) if np.isfinite(problem.module_capacity[o])]

    def _capacity_rule(m, o):
        arcs = members(index.arcs_by_option, o).tolist()
        if not arcs:
            return pyo.Constraint.Skip
        load = sum(float(arc_demand[a]) * m.assign[a] for a in arcs)
        return load <= float(problem.module_capacity[o]) * modules_expr(m, problem, o)

    model.capacity_constr = pyo.Constraint(capacitated, rule=_capacity_rule)


def define_linking(model: pyo.ConcreteModel, problem: Problem, index: ModelIndex) -> None:
    r""":math:`x_a \le y_{o(a)}`: the strong linking (no flow from a closed site), for the arcs of
    ``planner.model.arrays.linked_arcs``: those whose product needs no setup (the others link through
    their setup decision, see ``define_setup``), with single sourcing not those of options with a
    capacity and a fixed module count."""
    arc_option = problem.arc_option.tolist()

    def _linking_rule(m, a):
        return m.assign[a] <= m.open[arc_option[a]]

    model.linking_constr = pyo.Constraint(linked_arcs(problem, index).tolist(), rule=_linking_rule)


def define_setup(model: pyo.ConcreteModel, problem: Problem, index: ModelIndex) -> None:
    r"""Economies of scope: :math:`z_{op} \in \{0,1\}` = option o makes product p at all, paying
    :math:`G_{op}` (currency/yr); :math:`x_a \le z_{o(a)p(a)}` and :math:`z_{op} \le y_o`."""
    model.setup = pyo.Var(model.SETUPS, domain=pyo.Binary)
    arc_setup = index.arc_setup.tolist()
    setup_option = index.setup_option.tolist()

    def _setup_linking_rule(m, a):
        return m.assign[a] <= m.setup[arc_setup[a]]

    def _setup_open_rule(m, z):
        return m.setup[z] <= m.open[setup_option[z]]

    model.setup_linking_constr = pyo.Constraint(np.flatnonzero(index.arc_setup >= 0).tolist(), rule=_setup_linking_rule)
    model.setup_open_constr = pyo.Constraint(model.SETUPS, rule=_setup_open_rule)


def define_one_type_per_site(model: pyo.ConcreteModel, problem: Problem) -> None:
    r""":math:`\sum_{o: s(o)=s} y_o \le 1` for sites with more than one candidate type."""
    sites, counts = np.unique(problem.option_site, return_counts=True)
    shared = sites[counts > 1]
    order = np.argsort(problem.option_site, kind="stable")
    starts = np.searchsorted(problem.option_site[order], shared)
    groups = [order[start : start + count].tolist() for start, count in zip(starts, counts[counts > 1], strict=False)]

    def _one_type_rule(m, g):
        return sum(m.open[o] for o in groups[g]) <= 1

    model.one_type_per_site_constr = pyo.Constraint(range(len(groups)), rule=_one_type_rule)


def define_facility_counts(model: pyo.ConcreteModel, problem: Problem) -> None:
    r"""Per type :math:`\underline n_k \le \sum_{o: k(o)=k} y_o \le \overline n_k`; in total
    ``min_facilities`` :math:`\le \sum_o y_o \le` ``max_facilities`` (exactly p for p-median)."""
    n_options = problem.n_options
    limited_types = [
        k
        for k in range(len(problem.type_ids))
        if problem.type_min_count[k] > 0 or problem.type_max_count[k] < np.count_nonzero(problem.option_type == k)
    ]

    def _type_count_rule(m, k):
        options = np.flatnonzero(problem.option_type == k).tolist()
        if not options:  # Pyomo refuses a row without variables
            if problem.type_min_count[k] > 0:
                raise InfeasibleError(f"facility type '{problem.type_ids[k]}': min_count {problem.type_min_count[k]} "
                                      "but no candidate site of that type")
            return pyo.Constraint.Skip
        opened = sum(m.open[o] for o in options)
        return (int(problem.type_min_count[k]), opened, int(problem.type_max_count[k]))

    model.type_count_constr = pyo.Constraint(limited_types, rule=_type_count_rule)
    low = problem.min_facilities
    high = n_options if problem.max_facilities is None else problem.max_facilities
    if low > n_options:  # a constant row Pyomo refuses with its own error
        raise InfeasibleError(f"min_facilities {low} but only {n_options} candidate options (sites × types); "
                              "lower min_facilities or add candidate sites")
    if n_options > 0 and (low > 0 or high < n_options):
        model.facility_count_constr = pyo.Constraint(
            expr=pyo.inequality(low, sum(model.open[o] for o in model.OPTIONS), high)
        )


def define_capex_budget(model: pyo.ConcreteModel, problem: Problem, index: ModelIndex) -> None:
    r""":math:`\sum_o (\text{capex}_o y_o + \text{capex\_per\_module}_o m_o) \le B` (currency, one-off),
    divided by :func:`planner.problem.budget_row_scale` (HiGHS's tolerances are absolute)."""
    if not np.isfinite(problem.capex_budget):
        return
    spending = [o for o in range(problem.n_options) if problem.capex[o] > 0 or problem.capex_per_module[o] > 0]
    if not spending and problem.capex_budget >= 0:
        return  # nothing costs capex: the budget holds (Pyomo refuses a row without variables)
    spend = sum(
        float(problem.capex[o]) * model.open[o] + float(problem.capex_per_module[o]) * modules_expr(model, problem, o)
        for o in spending
    )
    scale = budget_row_scale(problem)
    model.capex_budget_constr = pyo.Constraint(expr=spend / scale <= float(problem.capex_budget) / scale)


def define_aggregate_capacity(model: pyo.ConcreteModel, problem: Problem, index: ModelIndex) -> None:
    r"""Valid inequality :math:`\sum_o C_o m_o \ge \sum_{d: \pi_d = \infty} q_d \min_{a \to d} f_a` (the
    smallest demand factor of the pair's arcs, 1 without proximity): the capacity
    opened covers the demand that must be served (capacity is shared by all products). Implied by
    the other rows in integer solutions, it lets the solver derive knapsack cover cuts on the
    open/module decisions. Added only when every option is capacitated."""
    must_serve = float(index.pair_must_serve.sum())
    if must_serve <= 0 or not np.isfinite(problem.module_capacity).all() or problem.n_options == 0:
        return
    capacity = sum(
        float(problem.module_capacity[o]) * modules_expr(model, problem, o) for o in range(problem.n_options)
    )
    model.aggregate_capacity_constr = pyo.Constraint(expr=capacity >= must_serve)


def co2_expr(model: pyo.ConcreteModel, problem: Problem, index: ModelIndex):
    r"""Network emissions :math:`\sum_a e_a q_{d(a)} x_a` (t CO2/yr), :math:`e_a` per unit on arc a."""
    arc_co2 = problem.arc_co2_t * index.arc_demand
    inbound = 0.0
    if problem.supply is not None:
        inbound = sum(float(co2) * model.inbound[b] for b, co2 in enumerate(problem.supply.in_co2_t.tolist()) if co2)
    return sum(float(co2) * model.assign[a] for a, co2 in enumerate(arc_co2.tolist()) if co2 != 0) + inbound


def define_co2_cap(model: pyo.ConcreteModel, problem: Problem, index: ModelIndex) -> None:
    r"""Emission cap :math:`\sum_a e_a q_{d(a)} x_a \le E` (t CO2/yr), when ``co2_cap_t`` is finite
    (``network.max_co2_t_per_yr``; the ε of ``planner pareto``)."""
    if not np.isfinite(problem.co2_cap_t):
        return
    emissions = co2_expr(model, problem, index)
    if isinstance(emissions, (int, float)):  # nothing emits: 0 ≤ E holds (Pyomo refuses a row of no terms)
        return
    model.co2_cap_constr = pyo.Constraint(expr=emissions <= float(problem.co2_cap_t))


def define_unmet_limit(model: pyo.ConcreteModel, problem: Problem, index: ModelIndex) -> None:
    r"""Service floor per product, for products with a finite ``max_unmet`` :math:`\overline U_p`
    (units/yr; ``planner pareto`` holds the cost-optimal service level), written on the flows:

    .. math:: \sum_{a: p(a)=p} q_{d(a)} x_a \ge \sum_{d: p(d)=p} q_d - \overline U_p

    (by the demand balance the same as :math:`\sum_{d: p(d)=p} q_d u_d \le \overline U_p`), with
    :math:`q_d` the customers' demand: a proximity demand factor changes the units an arc delivers,
    not the share of the demand it serves."""
    limited = [p for p in range(problem.n_products) if np.isfinite(problem.max_unmet[p])]
    if not limited:
        return
    base_demand = index.arc_base_demand  # the customers' demand, without a proximity demand factor
    need = unmet_limit_need(problem, index)

    def _unmet_limit_rule(m, p):
        arcs = np.flatnonzero(problem.arc_product == p).tolist()
        if not arcs:
            return pyo.Constraint.Skip  # nothing to serve by unmet_limit_need: need ≤ 0
        return sum(float(base_demand[a]) * m.assign[a] for a in arcs) >= float(need[p])

    model.unmet_limit_constr = pyo.Constraint(limited, rule=_unmet_limit_rule)


def define_service_level(model: pyo.ConcreteModel, problem: Problem, index: ModelIndex) -> None:
    r"""Service level per product with ``service_share`` :math:`s_p > 0`: with :math:`W_p` the arcs of
    product p within its service distance (km) and time (minutes) (``Problem.arc_within_service``),

    .. math:: \sum_{a \in W_p} q_{d(a)} x_a \ge s_p \sum_{d: p(d)=p} q_d

    ("90 % of the demand within 320 km": flows from farther, and unmet demand, count against it)."""
    serviced = problem.serviced_products.tolist()
    if not serviced:
        return
    arc_demand = index.arc_base_demand  # the base demand served: a demand factor scales deliveries, not customers
    need = service_need(problem, index)
    within = problem.arc_within_service

    def _service_level_rule(m, p):
        arcs = np.flatnonzero((problem.arc_product == p) & within).tolist()
        if not arcs:
            return pyo.Constraint.Skip  # service_need raised unless nothing is needed
        return sum(float(arc_demand[a]) * m.assign[a] for a in arcs) >= float(need[p])

    model.service_level_constr = pyo.Constraint(serviced, rule=_service_level_rule)


def define_supply(model: pyo.ConcreteModel, problem: Problem, index: ModelIndex) -> None:
    r"""Inbound supply (``planner.model.supply``, math there): :math:`w_b \ge 0` ``inbound``,
    :math:`v_b \in \{0,1\}` ``relation``; material balance, supplier capacity, relationship rows."""
    if problem.supply is None:
        return
    supply = problem.supply
    balance = MaterialBalance.of(problem, index)
    related = relation_arcs(problem).tolist()
    model.inbound = pyo.Var(range(supply.n_inbound), domain=pyo.NonNegativeReals)
    model.relation = pyo.Var(related, domain=pyo.Binary)
    terms = [[] for _ in range(balance.n_rows)]
    for a, row, coef in zip(balance.arc.tolist(), balance.arc_row.tolist(), balance.arc_coef.tolist(), strict=True):
        terms[row].append(coef * model.assign[a])
    for b, row in enumerate(balance.inbound_row.tolist()):
        terms[row].append(model.inbound[b])
    model.material_balance_constr = pyo.Constraint(range(balance.n_rows), rule=lambda m, r: sum(terms[r]) == 0)
    limited = limited_suppliers(problem).tolist()

    def _supplier_capacity_rule(m, j):
        arcs = np.flatnonzero(supply.in_supplier == j).tolist()
        if not arcs:
            return pyo.Constraint.Skip  # a supplier no site reaches: Pyomo refuses a row without variables
        return sum(m.inbound[b] for b in arcs) <= float(supply.supplier_capacity[j])

    model.supplier_capacity_constr = pyo.Constraint(limited, rule=_supplier_capacity_rule)
    bound = relation_bound(problem, balance)
    model.relation_constr = pyo.Constraint(
        related, rule=lambda m, b: m.inbound[b] - float(bound[b]) * m.relation[b] <= 0)


def supply_cost_expr(model: pyo.ConcreteModel, problem: Problem):
    """Inbound cost (currency/yr): material bought, transported and its carbon, and relationships."""
    if problem.supply is None:
        return 0.0
    unit = problem.supply.in_unit_cost(problem.carbon_price)
    fixed = problem.supply.in_fixed_cost
    return (sum(float(c) * model.inbound[b] for b, c in enumerate(unit.tolist()) if c != 0)
            + sum(float(fixed[b]) * model.relation[b] for b in model.relation))


def total_cost_expr(model: pyo.ConcreteModel, problem: Problem, index: ModelIndex):
    """Total annual cost (currency/yr): fixed + setups + flows + unmet penalty."""
    arc_cost = problem.arc_unit_cost * index.arc_demand
    fixed = sum(
        float(problem.opening_cost[o]) * model.open[o] + float(problem.module_cost[o]) * modules_expr(model, problem, o)
        for o in range(problem.n_options)
    )
    flows = sum(cost * model.assign[a] for a, cost in enumerate(arc_cost.tolist()) if cost != 0)
    unmet_cost = index.pair_penalty * index.pair_demand
    unmet = sum(float(unmet_cost[d]) * model.unmet[d] for d in model.UNMET)
    setup_cost = problem.setup_cost[index.setup_option, index.setup_product]
    setup = sum(float(cost) * model.setup[z] for z, cost in enumerate(setup_cost.tolist()))
    return fixed + setup + flows + unmet + supply_cost_expr(model, problem)


def define_objective(model: pyo.ConcreteModel, problem: Problem, index: ModelIndex) -> None:
    r"""Total annual cost: fixed + setups + flows + unmet penalty (see the module docstring)."""
    model.total_cost = pyo.Objective(expr=total_cost_expr(model, problem, index), sense=pyo.minimize)
