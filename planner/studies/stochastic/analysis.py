"""Solve the stochastic model and weigh it: RP, EEV, WS, VSS, EVPI and the cost distribution of
each strategy.

* **RP** (recourse problem): the stochastic optimum, expected cost + λ·CVaR.
* **EV / EEV**: the mean-value network (the deterministic model on the expected demand, no
  recourse) and the same objective with its first stage fixed, evaluated over the scenarios.
* **WS** (wait and see): each scenario solved alone (perfect information), the objective taken over
  the resulting cost distribution.
* **VSS** = EEV − RP ≥ 0, **EVPI** = RP − WS ≥ 0.

Both inequalities hold for optimal solves; with gaps they are kept by construction: RP is started
from the cheapest of the EEV solution and the role strategies' plans (so it is never worse than EEV
or a strategy shown beside it) and each WS solve is started from RP's
solution of its scenario (so WS is never worse than RP scenario by scenario). The gaps are reported
beside the values.

* **Strategies**: the mean-value central-only, micro-only and hybrid networks (facility types by
  ``role``), each evaluated over the scenarios, and the stochastic optimum: expected cost, CVaR and
  worst case.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.common.errors import InfeasibleConstraintException

from planner.errors import InfeasibleError, SolverError, truncated
from planner.inputs.scenarios import Scenarios
from planner.model.index import ModelIndex
from planner.model.start import takes_whole_numbers
from planner.pipeline import Timing
from planner.solver import solve
from planner.solver.budget import excess_of_networks, kept_within_budget
from planner.solver.cost_unit import cost_factor, costs_in_unit, report_in_unit
from planner.solver.heuristic import Restriction, capex_spend
from planner.solver.highs import solve_model
from planner.solver.outcome import OPTIMAL_GAP, SolveReport, SolverOptions, Status, relative_gap, within_tolerance
from planner.studies.stochastic.audit import StochasticAudit, audit_stochastic
from planner.studies.stochastic.build import build_stochastic_model
from planner.studies.stochastic.problem import StochasticProblem
from planner.studies.stochastic.results import (
    COST_PARTS,
    FirstStage,
    StochasticSolution,
    cvar,
    scenario_cost_parts,
    scenario_tables,
)

logger = logging.getLogger(__name__)

CENTRAL, MICRO = "central", "microfactory"
EVALUATION_GAP = 1e-4  # mean-value solves and evaluations of a fixed first stage: solved to optimality
WAIT_AND_SEE_MIN_S = 2.0  # seconds each wait-and-see solve has at least when the N of them share the limit


def _tight(options: SolverOptions) -> SolverOptions:
    return dataclasses.replace(options, mip_gap=min(options.mip_gap, EVALUATION_GAP))


@dataclass(frozen=True)
class StochasticRun:
    """One solve of the stochastic model: solution, solver report, audit and per-scenario costs."""

    sp: StochasticProblem
    index: ModelIndex
    solution: StochasticSolution
    report: SolveReport
    audit: StochasticAudit

    @property
    def scenario_costs(self) -> np.ndarray:
        return self.audit.scenario_costs

    @property
    def expected_cost(self) -> float:
        return self.audit.expected_cost

    @property
    def cvar(self) -> float:
        return self.audit.cvar

    @property
    def objective(self) -> float:
        return self.audit.objective_recomputed

    def cost_table(self) -> pd.DataFrame:
        """One row per scenario: probability, cost parts and total (currency/yr), modules added."""
        rows = []
        for s, scenario_id in enumerate(self.sp.scenarios.ids):
            tables = scenario_tables(self.sp, self.index, self.solution, s)
            parts = scenario_cost_parts(self.sp, tables)
            rows.append(
                {
                    "scenario": scenario_id,
                    "probability": float(self.sp.scenarios.probability[s]),
                    "demand": float(self.sp.scenarios.demand[s].sum()),
                    "served": float(tables.regions["served"].sum()),
                    "modules_added": int(self.solution.recourse[s].sum()),
                    **parts,
                    "total": sum(parts.values()),
                }
            )
        frame = pd.DataFrame(rows)
        frame.attrs["unit"] = {
            "probability": "fraction",
            "demand": "units/yr",
            "served": "units/yr",
            "modules_added": "modules",
            **{name: "currency/yr" for name in (*COST_PARTS, "total")},
        }
        return frame

    def scenario_network(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """scenario_sites.csv and scenario_flows.csv: sites.csv (with ``recourse_modules``, the modules added
        in that scenario) and flows.csv of the stochastic optimum in each scenario, a ``scenario`` column
        first."""
        sites, flows = [], []
        for s, scenario_id in enumerate(self.sp.scenarios.ids):
            tables = scenario_tables(self.sp, self.index, self.solution, s)
            sites.append(tables.sites.assign(scenario=scenario_id))
            flows.append(tables.flows.assign(scenario=scenario_id))
        return tuple(_scenario_first(pd.concat(parts, ignore_index=True), parts[0].attrs)
                     for parts in (sites, flows))


def load_start(model: pyo.ConcreteModel, sp: StochasticProblem, solution: StochasticSolution) -> None:
    """Set the model's variables to ``solution`` (scenarios of ``solution`` in the model's order)."""
    first = solution.first_stage
    for o in model.OPTIONS:
        if not model.open[o].fixed:
            model.open[o].set_value(int(first.open[o]))
    for o in model.MODULAR:
        if not model.modules[o].fixed:
            model.modules[o].set_value(int(first.modules[o]))
    for (s, o), var in model.recourse.items():
        var.set_value(int(solution.recourse[s, o]))
    whole = takes_whole_numbers(model.assign)  # single sourcing: a share of 0.9999999 is 1, not Pyomo's W1001
    for (s, a), var in model.assign.items():
        var.set_value(round(float(solution.assign[s, a])) if whole else float(solution.assign[s, a]))
    for (s, d), var in model.unmet.items():
        var.set_value(float(solution.unmet[s, d]))


def _load_setups(model: pyo.ConcreteModel, index: ModelIndex, first: FirstStage, fix: bool) -> None:
    for z, (o, p) in enumerate(zip(index.setup_option.tolist(), index.setup_product.tolist(), strict=True)):
        value = int(first.setup[o, p])
        if fix:
            model.setup[z].fix(value)
        else:
            model.setup[z].set_value(value)


def _start_cvar(model: pyo.ConcreteModel, sp: StochasticProblem) -> None:
    """η and ξ consistent with the other variables' values (the VaR and the excess over it)."""
    if sp.cvar_weight <= 0:
        return
    costs = np.array([pyo.value(model.first_stage_cost + model.scenario_cost[s]) for s in model.SCENARIOS])
    best = min(costs, key=lambda eta: eta + sp.scenarios.probability @ np.maximum(costs - eta, 0) / (1 - sp.cvar_alpha))
    model.var_level.set_value(float(best))
    for s in model.SCENARIOS:
        model.excess[s].set_value(float(max(costs[s] - best, 0.0)))


def _scenario_first(frame: pd.DataFrame, attrs: dict) -> pd.DataFrame:
    """``frame`` with its ``scenario`` column first and the units (``attrs``) of the tables it joins."""
    frame = frame[["scenario", *(column for column in frame.columns if column != "scenario")]]
    frame.attrs = attrs
    return frame


def solve_stochastic(
    sp: StochasticProblem,
    options: SolverOptions,
    index: ModelIndex | None = None,
    start: StochasticSolution | None = None,
    fixed: FirstStage | None = None,
    allowed: np.ndarray | None = None,
    require_clean_audit: bool = True,
) -> StochasticRun:
    """Build and solve the extensive form; ``start`` warm-starts it, ``fixed`` fixes the first stage
    (an evaluation), ``allowed`` (O,) bool closes the other options. Kept within the capex budget beyond
    HiGHS's tolerance (:mod:`planner.solver.budget`) and audited independently."""
    index = index or ModelIndex.from_problem(sp.problem)
    def solve(budget: float, options: SolverOptions) -> tuple[SolveReport, StochasticSolution]:
        if budget == sp.problem.capex_budget:
            return _solve_extensive(sp, options, index, start, fixed, allowed)
        return _solve_extensive(_with_budget(sp, budget), options, index, None, fixed, allowed)

    report, solution = kept_within_budget(sp.problem, lambda solution: _stochastic_excess(sp, solution), solve,
                                          options, _fixed_spend(sp.problem, fixed))
    audit_report = audit_stochastic(sp, index, solution, report.objective)
    if require_clean_audit and not audit_report.passed:
        raise SolverError(
            f"the stochastic solution failed the independent audit ({', '.join(audit_report.failures[:5])}; "
            f"max violation {audit_report.max_violation:.3g}); nothing written"
        )
    return StochasticRun(sp, index, solution, report, audit_report)


def _solve_extensive(sp: StochasticProblem, options: SolverOptions, index: ModelIndex, start, fixed, allowed
                     ) -> tuple[SolveReport, StochasticSolution]:
    """The extensive form of ``sp`` solved by HiGHS (see :func:`solve_stochastic`), not audited; in a larger unit
    of money where every cost term is below 1 (:func:`in_money_unit`), its report in the model's unit."""
    started = time.perf_counter()  # the time limit covers the extensive form's build (1.6 s of a 3 s limit)
    sp, index, money = in_money_unit(sp, index)
    model = build_stochastic_model(sp, index)
    if allowed is not None:
        for o in np.flatnonzero(~np.asarray(allowed, dtype=bool)).tolist():
            if model.open[o].fixed and model.open[o].value == 1:
                continue  # forced or existing: stays open
            model.open[o].fix(0)
    if fixed is not None:
        _fix_first_stage(model, index, fixed)
    if start is not None:
        load_start(model, sp, start)
        if fixed is None:
            _load_setups(model, index, start.first_stage, fix=False)
        _start_cvar(model, sp)
    try:  # run_highs checks the start
        report = solve_model(model, options, warm_start=start is not None, started=started)
    except InfeasibleConstraintException:  # a row without free variables (a scenario's level or pair) is violated
        raise InfeasibleError("no first stage serves every scenario: a scenario asks for demand, or a share within "
                              "a service level, that no arc can deliver") from None
    return report_in_unit(report, 1.0 / money), StochasticSolution.from_model(model, sp, index)


def in_money_unit(sp: StochasticProblem, index: ModelIndex) -> tuple[StochasticProblem, ModelIndex, float]:
    """``sp`` and ``index`` with every cost × the factor of :func:`planner.solver.cost_unit.cost_factor` (where
    every cost term is below 1: HiGHS's tolerances are absolute, and costs of 1e-9 had ended "optimal" at 2.1 ×
    the optimum, the bound above it), and that factor (1: unchanged)."""
    money = cost_factor(sp.problem)
    if money == 1.0:
        return sp, index, 1.0
    scaled = dataclasses.replace(sp, problem=costs_in_unit(sp.problem, money))
    return scaled, dataclasses.replace(index, pair_penalty=index.pair_penalty * money), money


def _fixed_spend(problem, fixed: FirstStage | None) -> float | None:
    """The capex of a fixed first stage (every answer spends it), None without one."""
    return None if fixed is None else capex_spend(problem, fixed.open > 0, fixed.modules)


def _stochastic_excess(sp: StochasticProblem, solution: StochasticSolution) -> float:
    """The largest excess over the capex budget of the first stage with one scenario's recourse modules."""
    first = solution.first_stage
    return excess_of_networks(sp.problem, [(first.open, first.modules + added) for added in solution.recourse])


def _fix_first_stage(model: pyo.ConcreteModel, index: ModelIndex, fixed: FirstStage) -> None:
    for o in model.OPTIONS:
        model.open[o].fix(int(fixed.open[o]))
    for o in model.MODULAR:
        model.modules[o].fix(int(fixed.modules[o]))
    _load_setups(model, index, fixed, fix=True)


def evaluate_first_stage(
    sp: StochasticProblem, fixed: FirstStage, options: SolverOptions, index: ModelIndex | None = None
) -> StochasticRun:
    """The objective of a fixed first stage: with it fixed the scenarios are independent, so each is
    solved alone (an LP, or a small MIP with recourse modules) and the solutions are assembled.

    Per-scenario optimal costs also minimise expected cost + λ·CVaR (CVaR is monotone), and the
    same combination of the per-scenario bounds is a valid bound. Audited as one solution."""
    index = index or ModelIndex.from_problem(sp.problem)
    parts, reports = [], []
    for s in range(sp.n_scenarios):
        alone = sp.with_scenarios(sp.scenarios.subset([s]), cvar_weight=0.0)
        report, part = _evaluated_scenario(alone, fixed, options, index)
        reports.append(report)
        parts.append(part)
    solution = StochasticSolution(
        first_stage=parts[0].first_stage,
        recourse=np.vstack([part.recourse for part in parts]),
        assign=np.vstack([part.assign for part in parts]),
        unmet=np.vstack([part.unmet for part in parts]),
    )
    probability = sp.scenarios.probability
    costs = np.array([report.objective for report in reports])
    objective = float(probability @ costs) + sp.cvar_weight * cvar(costs, probability, sp.cvar_alpha)
    bounds = [report.best_bound for report in reports]
    bound = None
    if all(b is not None for b in bounds):
        bounds = np.array(bounds, dtype=float)
        bound = float(probability @ bounds) + sp.cvar_weight * cvar(bounds, probability, sp.cvar_alpha)
    gap = relative_gap(objective, bound)
    status = next((r.status for r in reports if r.status is not Status.OPTIMAL), Status.OPTIMAL)
    if status is Status.OPTIMAL and gap is not None and gap > OPTIMAL_GAP:
        status = Status.GAP_LIMIT
    report = within_tolerance(dataclasses.replace(  # scenarios stopped at a limit may add up within the tolerance
        reports[0],
        status=status,
        termination=f"{len(reports)} scenario solves",
        objective=objective,
        best_bound=bound,
        mip_gap=gap,
        solve_s=sum(r.solve_s for r in reports),
        nodes=sum(r.nodes or 0 for r in reports),
        handover_s=sum(r.handover_s for r in reports),
    ))
    audit_report = audit_stochastic(sp, index, solution, objective)
    if not audit_report.passed:
        raise SolverError(
            f"the evaluated solution failed the independent audit ({', '.join(audit_report.failures[:5])}); "
            "nothing written"
        )
    return StochasticRun(sp, index, solution, report, audit_report)


def _evaluated_scenario(alone: StochasticProblem, fixed: FirstStage, options: SolverOptions, index: ModelIndex
                        ) -> tuple[SolveReport, StochasticSolution]:
    """One scenario (``alone``) with the first stage fixed, its recourse modules kept within the capex budget
    beyond HiGHS's tolerance (:mod:`planner.solver.budget`: they had been 100,000 JPY over it in each scenario,
    and the study ended at the audit)."""
    def solve(budget: float, options: SolverOptions) -> tuple[SolveReport, StochasticSolution]:
        scaled, scaled_index, money = in_money_unit(_with_budget(alone, budget), index)
        model = build_stochastic_model(scaled, scaled_index)
        _fix_first_stage(model, scaled_index, fixed)
        try:
            report = solve_model(model, _tight(options))
        except InfeasibleConstraintException:  # a row left without free variables is violated when compiled
            raise InfeasibleError(f"the fixed network cannot serve scenario {alone.scenarios.ids[0]} (too little "
                                  "capacity for its demand that must be served)") from None
        except InfeasibleError:  # HiGHS's own words name forced sites, counts and budget, which are fixed here
            raise InfeasibleError(f"the fixed network cannot serve scenario {alone.scenarios.ids[0]} (a service "
                                  "level it misses, or too little capacity for its demand that must be served)"
                                  ) from None
        return report_in_unit(report, 1.0 / money), StochasticSolution.from_model(model, scaled, scaled_index)

    return kept_within_budget(alone.problem, lambda part: _stochastic_excess(alone, part), solve, options,
                              _fixed_spend(alone.problem, fixed))


def _with_budget(sp: StochasticProblem, budget: float) -> StochasticProblem:
    return dataclasses.replace(sp, problem=dataclasses.replace(sp.problem, capex_budget=budget))


def mean_value_problem(sp: StochasticProblem) -> StochasticProblem:
    """One scenario, the expected demand; no recourse, risk-neutral: the deterministic model."""
    return sp.with_scenarios(
        Scenarios.single(sp.problem.demand, "expected"), recourse_modules=False, cvar_weight=0.0
    )


@dataclass(frozen=True)
class Strategy:
    """A network evaluated over the scenarios."""

    name: str
    status: str  # the evaluation's solver status, or "infeasible"
    costs: np.ndarray  # (N,) currency/yr; NaN when infeasible
    expected_cost: float
    cvar: float
    worst: float
    facilities: dict[str, int]
    gap: float | None = None  # of the solve that chose the network (mean-value or stochastic)
    reason: str | None = None  # why there is no plan (an infeasible strategy: its explanation)

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "reason": self.reason,
            "expected_cost": self.expected_cost,
            "cvar": self.cvar,
            "worst_case": self.worst,
            "facilities": self.facilities,
            "mip_gap": self.gap,
        }


def _strategy(name: str, run: StochasticRun | None, sp: StochasticProblem, design: SolveReport | None,
              status=None, reason: str | None = None) -> Strategy:
    """A strategy from its evaluation ``run`` and the ``design`` solve that chose its network: the
    status is the design's where that one did not prove optimality (an evaluation of a network chosen
    at a 50 % gap is not an optimal strategy), else the evaluation's; the gap is the design's."""
    gap = None if design is None else design.mip_gap
    if run is None:
        nan = float("nan")
        return Strategy(name, status or "infeasible", np.full(sp.n_scenarios, nan), nan, nan, nan, {}, gap, reason)
    counts = np.bincount(sp.problem.option_type[run.solution.first_stage.open > 0], minlength=len(sp.problem.type_ids))
    unproven = design is not None and design.status is not Status.OPTIMAL
    return Strategy(
        name=name,
        status=(design.status if unproven else run.report.status).value,
        costs=run.scenario_costs,
        expected_cost=run.expected_cost,
        cvar=run.cvar,
        worst=float(run.scenario_costs.max()),
        facilities={t: int(c) for t, c in zip(sp.problem.type_ids, counts.tolist(), strict=True)},
        gap=gap,
    )


@dataclass
class StochasticAnalysis:
    """RP with its VSS and EVPI and the strategies' cost distributions."""

    sp: StochasticProblem
    rp: StochasticRun
    eev: float
    ws: float
    ws_costs: np.ndarray
    ws_gap_max: float | None
    ev_report: SolveReport
    strategies: dict[str, Strategy]
    timing: Timing = field(default_factory=Timing)

    @property
    def vss(self) -> float:
        return _difference(self.eev, self.rp.objective)

    @property
    def evpi(self) -> float:
        return _difference(self.rp.objective, self.ws)

    def summary(self) -> dict:
        """The ``stochastic`` block of summary.json."""
        sp, rp = self.sp, self.rp
        return {
            "scenarios": sp.n_scenarios,
            "status": rp.report.status.value,
            "objective": rp.objective,
            "best_bound": rp.report.best_bound,
            "mip_gap": rp.report.mip_gap,
            "expected_cost": rp.expected_cost,
            "cvar": rp.cvar,
            "cvar_alpha": sp.cvar_alpha,
            "cvar_weight": sp.cvar_weight,
            "worst_case": float(rp.scenario_costs.max()),
            "recourse_modules": sp.recourse_modules,
            "recourse_premium": sp.recourse_premium,
            "eev": self.eev,
            "ws": self.ws,
            "vss": self.vss,
            "evpi": self.evpi,
            "ev_mip_gap": self.ev_report.mip_gap,
            "ws_mip_gap_max": self.ws_gap_max,
            "strategies": {name: strategy.to_dict() for name, strategy in self.strategies.items()},
            "audit": rp.audit.to_dict(),
            "timing": {name: round(seconds, 4) for name, seconds in self.timing.seconds.items()},
            "units": {**dict.fromkeys(("objective", "best_bound", "expected_cost", "cvar", "worst_case", "eev", "ws",
                                       "vss", "evpi"), "currency/yr"), "timing": "s"},
        }

    def scenario_table(self) -> pd.DataFrame:
        """scenarios.csv: the stochastic optimum's cost parts per scenario, plus the total cost of
        each strategy and the wait-and-see cost in that scenario."""
        frame = self.rp.cost_table()
        for name, strategy in self.strategies.items():
            if name != "stochastic":
                frame[f"total_{name}"] = strategy.costs
        frame["total_wait_and_see"] = self.ws_costs
        frame.attrs["unit"].update({column: "currency/yr" for column in frame.columns if column.startswith("total_")})
        return frame


def _with_roles_only(sp: StochasticProblem, roles: set[str], name: str) -> StochasticProblem:
    """``sp`` without the forcing and the lower counts of the facility types outside ``roles``; a
    warning names forced or existing sites so dropped (their costs are left out of that strategy)."""
    problem = sp.problem
    dropped = problem.forced & ~_role_mask(sp, roles)
    if dropped.any():
        logger.warning("strategy %s: forced/existing sites %s are of facility types it leaves out, so it does "
                       "without them; its cost leaves out theirs", name,
                       truncated(problem.site_ids[problem.option_site[dropped]].tolist()))
    kept_types = np.isin(np.asarray(sp.type_role, dtype=object), list(roles))
    problem = dataclasses.replace(problem, forced=problem.forced & _role_mask(sp, roles),
                                  type_min_count=np.where(kept_types, problem.type_min_count, 0))
    return dataclasses.replace(sp, problem=problem)


def _role_mask(sp: StochasticProblem, roles: set[str]) -> np.ndarray:
    role = np.asarray(sp.type_role, dtype=object)[sp.problem.option_type]
    return np.isin(role, list(roles))


def mean_value_run(sp: StochasticProblem, options: SolverOptions, index: ModelIndex, allowed=None) -> StochasticRun:
    """The deterministic model on the expected demand (``allowed`` options only), solved by the
    planner's engine (``planner.solver.solve``: its presolve and heuristics, which the extensive
    form's plain HiGHS run lacks — with a service level HiGHS alone was seen to stop at networks
    tens of per cent dearer) to 1e-4 (it is one deterministic solve; a looser gap would make VSS
    depend on which near-optimal mean-value plan the solver stops at). Audited as a one-scenario
    stochastic solution."""
    problem = sp.problem
    keep = np.ones(problem.n_options, dtype=bool) if allowed is None else np.asarray(allowed, bool) | problem.forced
    restriction = Restriction.of(problem, keep)
    report, found = solve(restriction.problem, _tight(options), index=restriction.index)
    solution = restriction.lift(problem, found)
    setup = solution.setup if solution.setup is not None else np.zeros((problem.n_options, problem.n_products), int)
    mean_value = mean_value_problem(sp)
    as_scenario = StochasticSolution(
        first_stage=FirstStage(solution.open.astype(int), solution.modules.astype(int), setup.astype(int)),
        recourse=np.zeros((1, problem.n_options), dtype=int),
        assign=solution.assign[None, :],
        unmet=solution.unmet[None, :],
    )
    audit_report = audit_stochastic(mean_value, index, as_scenario, report.objective)
    if not audit_report.passed:
        failures = ", ".join(audit_report.failures[:5])
        raise SolverError(f"the mean-value solution failed the independent audit ({failures}); nothing written")
    return StochasticRun(mean_value, index, as_scenario, report, audit_report)


def wait_and_see(
    sp: StochasticProblem, options: SolverOptions, index: ModelIndex, rp: StochasticRun
) -> tuple[np.ndarray, float | None]:
    """Each scenario alone (risk-neutral, started from RP's solution of it): costs (N,) and the
    largest gap. The N solves share one time limit, at least ``WAIT_AND_SEE_MIN_S`` each (with the limit
    per solve, 20 scenarios of 2,000 regions had run 610 s against a limit of 30)."""
    costs = np.zeros(sp.n_scenarios)
    gaps = []
    if options.time_limit_s is not None:
        options = dataclasses.replace(
            options, time_limit_s=max(options.time_limit_s / max(sp.n_scenarios, 1), WAIT_AND_SEE_MIN_S))
    for s in range(sp.n_scenarios):
        alone = sp.with_scenarios(sp.scenarios.subset([s]), cvar_weight=0.0)
        run = solve_stochastic(alone, options, index=index, start=rp.solution.subset([s]))
        costs[s] = run.expected_cost
        gaps.append(run.report.mip_gap or 0.0)
    return costs, max(gaps, default=None)


def analyse(
    sp: StochasticProblem, options: SolverOptions, timing: Timing | None = None, strategies: bool = True
) -> StochasticAnalysis:
    """EV, EEV, the role strategies, RP (started from the cheapest of EEV's network and the
    strategies' that keep every forced site, so that under a time limit it is never dearer than a
    plan beside it: it had been started from EEV's alone and ended dearer than micro_only), WS; see
    the module docstring."""
    timing = timing or Timing()
    index = ModelIndex.from_problem(sp.problem)
    with timing.phase("mean_value"):
        ev = mean_value_run(sp, options, index)
    with timing.phase("evaluate"):
        eev_run = _evaluated_or_none(sp, ev.solution.first_stage, options, index)
    unserved = None if eev_run is not None else UNSERVED_BY_MEAN_VALUE
    results = {
        "hybrid": _strategy("hybrid", eev_run, sp, ev.report, reason=unserved),
    }
    starts = [eev_run] if eev_run is not None else []
    if strategies:
        with timing.phase("strategies"):
            for name, roles in (("central_only", {CENTRAL, "other"}), ("micro_only", {MICRO, "other"})):
                results[name], run = _role_strategy(sp, options, index, name, roles)
                starts.append(run)
    starts = [run for run in starts if run is not None and _keeps_forced_sites(sp, run.solution.first_stage)]
    with timing.phase("stochastic"):
        start = min(starts, key=lambda run: run.objective).solution if starts else None
        rp = solve_stochastic(sp, options, index=index, start=start)
    with timing.phase("wait_and_see"):
        ws_costs, ws_gap = wait_and_see(sp, options, index, rp)
    ws = float(sp.scenarios.probability @ ws_costs) + sp.cvar_weight * cvar(
        ws_costs, sp.scenarios.probability, sp.cvar_alpha
    )
    results["stochastic"] = _strategy("stochastic", rp, sp, rp.report)
    order = ("central_only", "micro_only", "hybrid", "stochastic")
    results = {name: results[name] for name in order if name in results}
    eev = eev_run.objective if eev_run else math.inf
    logger.info("stochastic: RP %.10g, EEV %.10g, WS %.10g, VSS %.6g, EVPI %.6g",
                rp.objective, eev, ws, eev - rp.objective, rp.objective - ws)
    return StochasticAnalysis(sp, rp, eev, ws, ws_costs, ws_gap, ev.report, results, timing)


def _keeps_forced_sites(sp: StochasticProblem, first: FirstStage) -> bool:
    """Whether ``first`` opens every forced option and each type's ``min_count`` (a role strategy
    leaves out the other role's: then its network is no start for the whole problem)."""
    problem = sp.problem
    opened = first.open > 0
    counts = np.bincount(problem.option_type[opened], minlength=len(problem.type_ids))
    return bool(opened[problem.forced].all() and (counts >= problem.type_min_count).all())


UNSERVED_BY_MEAN_VALUE = ("the mean-value network is infeasible in some scenario (a service level it misses or too "
                          "little capacity)")


def _evaluated_or_none(sp: StochasticProblem, first: FirstStage, options: SolverOptions, index: ModelIndex):
    """:func:`evaluate_first_stage`, or None where the network is infeasible in some scenario (a
    service level it misses, or too little capacity, when demand differs): its EEV and VSS are then
    infinite."""
    try:
        return evaluate_first_stage(sp, first, options, index)
    except InfeasibleError:
        logger.warning("%s: EEV and VSS are infinite", UNSERVED_BY_MEAN_VALUE)
        return None


def _role_strategy(sp, options, index, name, roles) -> tuple[Strategy, StochasticRun | None]:
    """The mean-value network with the facility types of ``roles`` only, evaluated in every scenario
    (and its run, None where it is infeasible or has no such types).
    As in ``planner compare``'s variants, the other types' forced and existing sites and their
    ``min_count`` go with them (a "micro_only" plan kept a forced central plant and no microfactory)."""
    role = CENTRAL if name == "central_only" else MICRO
    if role not in sp.type_role:  # said in words on the console and in the report, beside the status
        return _strategy(name, None, sp, None, status="no_such_types",
                         reason=f'the model has no facility type with role = "{role}"'), None
    sp = _with_roles_only(sp, roles, name)
    allowed = _role_mask(sp, roles)
    try:
        ev = mean_value_run(sp, options, index, allowed=allowed)
        run = evaluate_first_stage(sp, ev.solution.first_stage, options, index)
    except InfeasibleError as error:  # its explanation goes with it (summary.json, the console, the report)
        logger.info("strategy %s is infeasible in some scenario", name)
        return _strategy(name, None, sp, None, reason=str(error)), None
    return _strategy(name, run, sp, ev.report), run


DIFFERENCE_ROUNDING = 1e-12  # relative: a difference of two costs this small is float rounding, not a value


def _difference(a: float, b: float) -> float:
    """``a − b``, 0 where it is float rounding of the two (a VSS of 0.00049 JPY/yr between costs of 2.2e12, one
    float step apart, of the same network); infinite where ``a`` is (an EEV of a mean-value network that cannot
    serve some scenario: its VSS had read 0)."""
    difference = a - b
    if not math.isfinite(difference):
        return difference
    return 0.0 if abs(difference) <= DIFFERENCE_ROUNDING * max(abs(a), abs(b)) else difference
