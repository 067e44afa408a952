"""Independent formulations of the planner's less-tested paths, written from the README ("Uncertainty and staged
rollout", "What-if at scale", "Service levels and the classic location models") and models/README.md
(``[uncertainty]``, ``[rollout]``, ``[objective]``), solved by scipy.optimize.milp through
:class:`tests.independent_milp.Milp` or by enumeration. Nothing of planner.model, planner.solver or
planner.studies is used.

Two-stage stochastic model (scenarios s with probability p_s, demand q_sd): first stage y_o open, n_o modules,
g_op set-up (binary, where o has a set-up cost for p: the set-up is paid whatever the scenario), shared by every
scenario; per scenario x_sa served share,
u_sd unmet share, e_so modules added after demand is known (microfactory-role options with max > min modules,
n_o + e_so ≤ max_o y_o, each at (1 + ρ) M_o). Scenario cost

    K_s = Σ_o (F_o y_o + M_o n_o) + Σ G_op g_op + Σ_a c_a q_sd x_sa + Σ_d π_p q_sd u_sd + Σ_o (1 + ρ) M_o e_so

    min Σ_s p_s K_s + λ (η + Σ_s p_s ξ_s / (1 − α)),  ξ_s ≥ K_s − η, ξ_s ≥ 0      (CVaR, Rockafellar–Uryasev)

with per scenario: Σ_a x_sa + u_sd = 1, x_sa ≤ y_o, x_sa ≤ g_op, Σ q_sd x_sa ≤ C_o (n_o + e_so), the
service level on the scenario's demand, and the capex budget on Σ capex_o y_o + capex/module_o (n_o + e_so).

Staged rollout: one decision node for period 1 and one per scenario and later period; y and n never fall along
the tree (facilities stay open, modules are only added); each node holds the network rules; cell (s, t) pays its
node's annual costs and its flows, weighted by w_t, the discounted years of period t; K_s = Σ_t w_t K_st.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from planner.problem import Problem, within_limits
from tests.independent_milp import Milp, network_rows, option_columns

MICROFACTORY = "microfactory"


class Costs:
    """Per scenario a linear cost ``{column: coefficient}``; the objective Σ p_s K_s + λ CVaR_α(K)."""

    def __init__(self, n_scenarios: int) -> None:
        self.terms = [dict() for _ in range(n_scenarios)]

    def add(self, s: int, columns, coefs) -> None:
        coefs = np.broadcast_to(np.asarray(coefs, dtype=float), np.shape(columns))
        for c, v in zip(columns, coefs, strict=True):
            self.terms[s][int(c)] = self.terms[s].get(int(c), 0.0) + float(v)

    def objective(self, model: Milp, probability: np.ndarray, alpha: float, weight: float) -> None:
        """Set ``model``'s cost to the expected cost plus ``weight`` × CVaR at ``alpha`` (rows for ξ and η)."""
        cost = np.zeros(len(model.cost))
        for p, terms in zip(probability, self.terms, strict=True):
            for c, v in terms.items():
                cost[c] += p * v
        model.cost = list(cost)
        if weight <= 0:
            return
        eta = model.columns([weight], -np.inf, np.inf, integral=False)[0]
        xi = model.columns(weight * np.asarray(probability) / (1.0 - alpha), 0.0, np.inf, integral=False)
        for s, terms in enumerate(self.terms):  # ξ_s + η − K_s ≥ 0
            columns = [xi[s], eta, *terms]
            model.row(columns, [1.0, 1.0, *(-v for v in terms.values())], lower=0.0)


def setup_columns(model: Milp, problem: Problem) -> dict[tuple[int, int], int]:
    """g_op (binary) for every option and product with a set-up cost > 0."""
    if problem.setup_cost is None:
        return {}
    pairs = [tuple(int(v) for v in op) for op in np.argwhere(problem.setup_cost > 0)]
    columns = model.columns(np.zeros(len(pairs)), 0.0, 1.0, integral=True)
    return dict(zip(pairs, columns.tolist(), strict=True))


def first_stage_cost(problem: Problem, y, n, setups: dict) -> tuple[list[int], list[float]]:
    """The columns and coefficients of Σ F y + Σ M n + Σ G g."""
    columns = [*y, *n, *setups.values()]
    coefs = [*problem.opening_cost, *problem.module_cost, *(problem.setup_cost[op] for op in setups)]
    return columns, coefs


def cell_rows(model: Milp, problem: Problem, demand: np.ndarray, y, capacity: list, setups: dict
              ) -> tuple[list[int], list[float]]:
    """Flows and unmet demand of one demand ``demand`` (R, P) on the network (y, set-ups) whose option o has
    capacity ``Σ C_o · columns`` (``capacity[o]``: module columns); the columns and coefficients of its cost."""
    q = demand[problem.arc_region, problem.arc_product]
    live = np.flatnonzero(q > 0)
    x = np.full(problem.n_arcs, -1)
    x[live] = model.columns(np.zeros(len(live)), 0.0, 1.0, integral=problem.single_sourcing)
    columns, coefs = list(x[live]), list(problem.arc_unit_cost[live] * q[live])
    for r, p in np.argwhere(demand > 0):
        penalty = problem.unmet_penalty[p]
        mine = x[(problem.arc_region == r) & (problem.arc_product == p) & (x >= 0)]
        u = model.columns([0.0], 0.0, 1.0 if np.isfinite(penalty) else 0.0, integral=False)
        model.row(np.append(mine, u), 1.0, 1.0, 1.0)
        if np.isfinite(penalty):
            columns.append(int(u[0]))
            coefs.append(penalty * demand[r, p])
    for a in live:
        o, p = problem.arc_option[a], problem.arc_product[a]
        model.row([x[a], y[o]], [1.0, -1.0], upper=0.0)
        if (o, p) in setups:
            model.row([x[a], setups[(o, p)]], [1.0, -1.0], upper=0.0)
    for o in np.flatnonzero(np.isfinite(problem.module_capacity)):
        mine = live[problem.arc_option[live] == o]
        model.row([*x[mine], *capacity[o]], [*q[mine], *([-problem.module_capacity[o]] * len(capacity[o]))],
                  upper=0.0)
    service_rows(model, problem, demand, x, live)
    return columns, coefs


def service_rows(model: Milp, problem: Problem, demand: np.ndarray, x: np.ndarray, live: np.ndarray) -> None:
    """At least service_share[p] of this demand of p served on arcs within the product's limits."""
    q = demand[problem.arc_region, problem.arc_product]
    near = within_limits(problem.arc_distance_km, problem.arc_minutes, problem.service_km[problem.arc_product],
                         problem.service_minutes[problem.arc_product])
    for p in np.flatnonzero(problem.service_share > 0):
        mine = live[(problem.arc_product[live] == p) & near[live]]
        model.row(x[mine], q[mine], lower=problem.service_share[p] * demand[:, p].sum())


def stochastic_optimum(problem: Problem, demand: np.ndarray, probability, type_role, recourse_modules: bool = True,
                       recourse_premium: float = 0.5, cvar_alpha: float = 0.9, cvar_weight: float = 0.0,
                       fixed: tuple | None = None, time_limit_s: float = 30.0) -> float | None:
    """The two-stage stochastic optimum (module docstring) of ``problem``'s network under the scenario demands
    ``demand`` (N, R, P) with ``probability`` (N,); None when no first stage serves every scenario. ``fixed``
    (open (O,), modules (O,), set-up (O, P)): that first stage's evaluation (EEV of the mean-value network)."""
    model = Milp()
    y, n = option_columns(model, problem)
    network_rows(model, problem, y, n)
    setups = setup_columns(model, problem)
    if fixed is not None:
        for o, (is_open, modules) in enumerate(zip(*fixed[:2], strict=True)):
            model.lower[y[o]] = model.upper[y[o]] = float(is_open > 0.5)
            model.lower[n[o]] = model.upper[n[o]] = float(round(modules))
        for (o, p), column in setups.items():
            model.lower[column] = model.upper[column] = float(fixed[2][o, p] > 0.5)
    first = first_stage_cost(problem, y, n, setups)
    role = np.asarray(type_role, dtype=object)[problem.option_type]
    recourse = (role == MICROFACTORY) & (problem.max_modules > problem.min_modules) & recourse_modules
    costs = Costs(len(probability))
    for s in range(len(probability)):
        costs.add(s, *first)
        capacity = [[int(n[o])] for o in range(problem.n_options)]
        added = []
        for o in np.flatnonzero(recourse):
            e = int(model.columns([0.0], 0.0, float(problem.max_modules[o]), integral=True)[0])
            model.row([e, n[o], y[o]], [1.0, 1.0, -float(problem.max_modules[o])], upper=0.0)
            capacity[o].append(e)
            added.append((o, e))
            costs.add(s, [e], [(1.0 + recourse_premium) * problem.module_cost[o]])
        if np.isfinite(problem.capex_budget) and added:  # a module added later is investment too
            scale = problem.capex_budget if problem.capex_budget > 0 else 1.0
            model.row([*y, *n, *(e for _, e in added)],
                      np.concatenate([problem.capex, problem.capex_per_module,
                                      [problem.capex_per_module[o] for o, _ in added]]) / scale,
                      upper=problem.capex_budget / scale)
        costs.add(s, *cell_rows(model, problem, demand[s], y, capacity, setups))
    costs.objective(model, np.asarray(probability, dtype=float), cvar_alpha, cvar_weight)
    return model.solve(time_limit_s)


def cvar(costs, probability, alpha: float) -> float:
    """CVaR_α by its definition: the mean cost of the worst 1 − α probability share (min over η of
    η + E[(K − η)+] / (1 − α), which is reached at a scenario's cost)."""
    costs, probability = np.asarray(costs, dtype=float), np.asarray(probability, dtype=float)
    return min(eta + probability @ np.maximum(costs - eta, 0.0) / (1.0 - alpha) for eta in costs)


def rollout_optimum(problem: Problem, demand: np.ndarray, probability, period_weight, cvar_alpha: float = 0.9,
                    cvar_weight: float = 0.0, first_allowed: np.ndarray | None = None,
                    first_required: np.ndarray | None = None, time_limit_s: float = 30.0) -> float | None:
    """The staged rollout optimum (module docstring): ``demand`` (N, T, R, P); ``first_allowed`` (O,) the
    options that may open in period 1 (besides forced ones); ``first_required`` (O,): at least one of these opens
    in period 1 (a commitment). None when infeasible."""
    n_scenarios, n_periods = demand.shape[:2]
    model = Milp()
    nodes = {}
    for s, t in itertools.product(range(n_scenarios), range(n_periods)):
        key = (0, 0) if t == 0 else (s, t)
        if key not in nodes:
            y, n = option_columns(model, problem)
            network_rows(model, problem, y, n)
            nodes[key] = (y, n, setup_columns(model, problem))
            parent = None if t == 0 else nodes[(0, 0) if t == 1 else (s, t - 1)]
            for o in range(problem.n_options):
                if parent is not None:  # stay open, modules only added
                    model.row([y[o], parent[0][o]], [1.0, -1.0], lower=0.0)
                    model.row([n[o], parent[1][o]], [1.0, -1.0], lower=0.0)
                elif first_allowed is not None and not first_allowed[o] and not problem.forced[o]:
                    model.row([y[o]], [1.0], upper=0.0)
    if first_required is not None:
        model.row(nodes[(0, 0)][0][np.asarray(first_required, dtype=bool)], 1.0, lower=1.0)
    costs = Costs(n_scenarios)
    for s, t in itertools.product(range(n_scenarios), range(n_periods)):
        y, n, setups = nodes[(0, 0) if t == 0 else (s, t)]
        columns, coefs = first_stage_cost(problem, y, n, setups)
        costs.add(s, columns, np.asarray(coefs) * period_weight[t])
        columns, coefs = cell_rows(model, problem, demand[s, t], y, [[int(n[o])] for o in range(problem.n_options)],
                                   setups)
        costs.add(s, columns, np.asarray(coefs) * period_weight[t])
    costs.objective(model, np.asarray(probability, dtype=float), cvar_alpha, cvar_weight)
    return model.solve(time_limit_s)


def period_weights(periods: int, period_years: float, discount_rate: float) -> np.ndarray:
    """w_t = Σ over the years of period t of 1/(1 + rate)^y, year y = 0 the first; a part year pro rata."""
    weights = np.zeros(periods)
    for t in range(periods):
        start, end = t * period_years, (t + 1) * period_years
        for year in range(math.floor(start), math.ceil(end)):
            share = min(end, year + 1) - max(start, year)
            weights[t] += share / (1.0 + discount_rate) ** year
    return weights


def classic_optimum(problem: Problem, kind: str, p: int | None, coverage_km: float = np.inf,
                    time_limit_s: float = 30.0) -> float | None:
    """The classic kind's optimum on ``problem``'s network rules (models/README.md ``[objective]``), None when
    no network is feasible (or, for ``set_covering``, a region with demand has no site within the coverage):

    * ``p_median``: min Σ q_d km_a x_a, exactly p sites, all demand some candidate reaches served;
    * ``p_center``: min R with R ≥ km_a v_a, x_a ≤ v_a (v binary: the arc is used), at most p sites, all demand
      some candidate reaches served;
    * ``max_covering``: max Σ q_d x_a over arcs within the coverage, Σ_{a ∈ d} x_a ≤ 1, at most p sites (the
      value returned is the covered demand);
    * ``set_covering``: min Σ y, all demand served on arcs within the coverage.

    Each with x_a ≤ y_o, capacities C_o n_o, module bounds, one type per site, counts, forced sites, budget, and
    each product's service level as a share of its whole demand (reachable or not)."""
    covering = kind in ("max_covering", "set_covering")
    arcs = np.flatnonzero(problem.arc_distance_km <= coverage_km) if covering else np.arange(problem.n_arcs)
    q = problem.demand[problem.arc_region, problem.arc_product][arcs]  # base demand: no demand factor counts
    pairs = np.unique(problem.arc_pair[arcs])
    if kind == "set_covering" and len(pairs) < int((problem.demand > 0).sum()):
        return None
    model = Milp()
    y, n = option_columns(model, problem)
    network_rows(model, problem, y, n)
    if p is not None:
        model.row(y, 1.0, lower=float(p) if kind == "p_median" else 0.0, upper=float(p))
    x = model.columns(np.zeros(len(arcs)), 0.0, 1.0, integral=problem.single_sourcing)
    for d in pairs:
        mine = x[problem.arc_pair[arcs] == d]
        model.row(mine, 1.0, lower=0.0 if kind == "max_covering" else 1.0, upper=1.0)
    for i, a in enumerate(arcs):
        model.row([x[i], y[problem.arc_option[a]]], [1.0, -1.0], upper=0.0)
    for o in np.flatnonzero(np.isfinite(problem.module_capacity)):
        mine = np.flatnonzero(problem.arc_option[arcs] == o)
        model.row(np.append(x[mine], n[o]), np.append(q[mine], -problem.module_capacity[o]), upper=0.0)
    within = problem.arc_within_service[arcs]
    for p_ in np.flatnonzero(problem.service_share > 0):  # a share of the whole demand, reachable or not
        mine = np.flatnonzero(within & (problem.arc_product[arcs] == p_))
        model.row(x[mine], q[mine], lower=problem.service_share[p_] * problem.demand[:, p_].sum())
    cost = np.zeros(len(model.cost))
    if kind == "p_median":
        cost[x] = q * problem.arc_distance_km[arcs]
    elif kind == "max_covering":
        cost[x] = -q
    elif kind == "set_covering":
        cost[y] = 1.0
    model.cost = list(cost)
    if kind == "p_center":
        radius = model.columns([1.0], 0.0, np.inf, integral=False)[0]
        used = model.columns(np.zeros(len(arcs)), 0.0, 1.0, integral=True)
        for i, a in enumerate(arcs):
            model.row([x[i], used[i]], [1.0, -1.0], upper=0.0)
            model.row([radius, used[i]], [1.0, -problem.arc_distance_km[a]], lower=0.0)
    value = model.solve(time_limit_s)
    return None if value is None else (-value if kind == "max_covering" else value)


def least_co2(problem: Problem, time_limit_s: float = 30.0) -> float | None:
    """The least CO2 (t/yr) of any network of ``problem`` (its rules, service levels and unmet limits included):
    the independent MILP of tests/independent_milp.py with CO2 as its objective."""
    from tests.independent_milp import flow_columns, supply_columns

    model = Milp()
    y, n = option_columns(model, problem)
    x = flow_columns(model, problem, y, n)
    network_rows(model, problem, y, n)
    inbound, inbound_co2 = supply_columns(model, problem, x, y)
    cost = np.zeros(len(model.cost))
    cost[x] = problem.arc_co2_t * problem.arc_demand
    cost[inbound] = inbound_co2
    model.cost = list(cost)
    return model.solve(time_limit_s)


def network_cost(problem: Problem, open_mask: np.ndarray, time_limit_s: float = 30.0) -> float | None:
    """The least cost with exactly the options of ``open_mask`` open (the independent MILP with y fixed); None
    when that network is not feasible."""
    from tests.independent_milp import flow_columns, supply_columns

    model = Milp()
    y, n = option_columns(model, problem)
    x = flow_columns(model, problem, y, n)
    network_rows(model, problem, y, n)
    co2 = supply_columns(model, problem, x, y)
    if np.isfinite(problem.co2_cap_t):
        model.row(np.concatenate([x, co2[0]]), np.concatenate([problem.arc_co2_t * problem.arc_demand, co2[1]]),
                  upper=problem.co2_cap_t)
    for o, is_open in enumerate(np.asarray(open_mask, dtype=bool)):
        model.lower[y[o]] = model.upper[y[o]] = float(is_open)
    return model.solve(time_limit_s)


def every_network(problem: Problem) -> dict[frozenset, float]:
    """Every open set (at most one option per site, every forced option in it) with its least cost, where
    feasible: what the alternatives' diversity solves choose from."""
    per_site = [np.flatnonzero(problem.option_site == site) for site in np.unique(problem.option_site)]
    costs = {}
    for choice in itertools.product(*([-1, *options] for options in per_site)):
        chosen = frozenset(int(o) for o in choice if o >= 0)
        mask = np.isin(np.arange(problem.n_options), list(chosen))
        if (problem.forced & ~mask).any():
            continue
        cost = network_cost(problem, mask)
        if cost is not None:
            costs[chosen] = cost
    return costs


def most_different(costs: dict[frozenset, float], budget: float, found: list[frozenset]) -> int | None:
    """The largest smallest number of options by which a network within ``budget`` differs from each of
    ``found`` (None: no network within the budget)."""
    within = [network for network, cost in costs.items() if cost <= budget + 1e-9 * max(1.0, abs(budget))]
    return max((min(len(network ^ other) for other in found) for network in within), default=None)


def adoption_curve(periods: int) -> np.ndarray:
    """models/README.md [rollout]: 1/(1 + e^(−(t − T/2)·4/T)) scaled so the last period is 1 (t = 1..T read as
    the period's number; the page does not say whether t counts from 0 or 1)."""
    t = np.arange(1, periods + 1)
    curve = 1.0 / (1.0 + np.exp(-(t - periods / 2) * 4.0 / periods))
    return curve / curve[-1]
