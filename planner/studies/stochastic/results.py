"""The stochastic solution as arrays, per-scenario result tables and the per-scenario cost table.

Each scenario's network is the first-stage network plus the modules it added; its tables are the
deterministic :class:`~planner.results.ResultTables` (``sites`` gains ``recourse_modules``), so the
deterministic audit checks each scenario and the exports read them unchanged.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from planner.model.index import ModelIndex
from planner.model.solution import SHARE_ZERO, Solution, round_network, values
from planner.problem import Problem
from planner.results import ResultTables
from planner.studies.stochastic.problem import StochasticProblem

logger = logging.getLogger(__name__)

COST_PARTS = ("fixed", "setup", "recourse", "production", "transport", "carbon", "unmet_penalty")


@dataclass(frozen=True)
class FirstStage:
    """The decisions taken before demand is known: open (O,), modules (O,), setup (O, P)."""

    open: np.ndarray
    modules: np.ndarray
    setup: np.ndarray


@dataclass(frozen=True)
class StochasticSolution:
    """First stage plus, per scenario, ``recourse`` modules (N, O), ``assign`` shares (N, A) and
    ``unmet`` shares (N, D)."""

    first_stage: FirstStage
    recourse: np.ndarray
    assign: np.ndarray
    unmet: np.ndarray

    @classmethod
    def from_model(cls, model: pyo.ConcreteModel, sp: StochasticProblem, index: ModelIndex) -> StochasticSolution:
        problem = sp.problem
        first_stage = FirstStage(*round_network(
            problem,
            index,
            values(model.open, range(problem.n_options)),
            values(model.modules, index.modular_options.tolist()),
            values(model.setup, range(len(index.setup_option))),
        ))
        n = sp.n_scenarios
        recourse = np.zeros((n, problem.n_options), dtype=int)
        keys = list(model.recourse.keys())
        if keys:
            s, o = np.array(keys).T
            recourse[s, o] = np.round(values(model.recourse, keys)).astype(int)
        assign = np.zeros((n, problem.n_arcs))
        keys = list(model.SCENARIO_ARCS)
        if keys:
            s, a = np.array(keys).T
            assign[s, a] = np.clip(values(model.assign, keys), 0.0, 1.0)
        assign[assign < SHARE_ZERO] = 0.0
        unmet = np.zeros((n, index.n_pairs))
        keys = list(model.SCENARIO_UNMET)
        if keys:
            s, d = np.array(keys).T
            unmet[s, d] = np.clip(values(model.unmet, keys), 0.0, 1.0)
        return cls(first_stage, recourse, assign, unmet)

    def scenario(self, s: int) -> Solution:
        """Scenario s as a deterministic solution: modules = first stage + added."""
        first = self.first_stage
        return Solution(
            open=first.open,
            modules=first.modules + self.recourse[s],
            assign=self.assign[s],
            unmet=self.unmet[s],
            setup=first.setup,
        )

    def subset(self, positions) -> StochasticSolution:
        positions = np.atleast_1d(np.asarray(positions, dtype=int))
        return StochasticSolution(
            self.first_stage, self.recourse[positions], self.assign[positions], self.unmet[positions]
        )


def scenario_problem(sp: StochasticProblem, s: int) -> Problem:
    """The problem with scenario s's demand (arcs of pairs it does not ask for stay, unused)."""
    return dataclasses.replace(sp.problem, demand=sp.scenarios.demand[s])


def scenario_index(sp: StochasticProblem, index: ModelIndex, s: int) -> ModelIndex:
    """``index`` with scenario s's pair demand."""
    return dataclasses.replace(index, pair_demand=sp.pair_demand(index)[s])


def scenario_tables(sp: StochasticProblem, index: ModelIndex, solution: StochasticSolution, s: int) -> ResultTables:
    """sites, flows and regions of scenario s; ``sites`` has ``recourse_modules`` (modules added)."""
    problem = scenario_problem(sp, s)
    tables = ResultTables.from_solution(problem, scenario_index(sp, index, s), solution.scenario(s))
    opened = np.flatnonzero(solution.first_stage.open > 0)
    sites = tables.sites.copy()
    sites.attrs = tables.sites.attrs
    sites.insert(3, "recourse_modules", solution.recourse[s, opened])
    regions = tables.regions[tables.regions["demand"] > 0].reset_index(drop=True)
    regions.attrs = tables.regions.attrs
    return ResultTables(sites=sites, flows=tables.flows, regions=regions)


def scenario_cost_parts(sp: StochasticProblem, tables: ResultTables) -> dict[str, float]:
    """Cost of one scenario from its tables (currency/yr): ``fixed`` is the first-stage opening and
    module cost, ``recourse`` the modules added after demand is known at the premium."""
    parts = tables.cost_parts()
    sites = tables.sites
    module_cost = module_cost_of(sp.problem, sites)
    added = sites["recourse_modules"].to_numpy()
    parts["fixed"] -= float((module_cost * added).sum())  # fixed_cost counted them at the base price
    parts["recourse"] = float(((1.0 + sp.recourse_premium) * module_cost * added).sum())
    return {name: parts[name] for name in COST_PARTS}


def module_cost_of(problem: Problem, sites: pd.DataFrame) -> np.ndarray:
    """The module cost (currency/yr per module) of each row of a sites table (0 for an unknown site)."""
    keys = pd.DataFrame(
        {
            "site_id": problem.site_ids[problem.option_site],
            "facility_type": np.asarray(problem.type_ids, dtype=object)[problem.option_type],
            "module_cost": problem.module_cost,
        }
    )
    merged = sites[["site_id", "facility_type"]].merge(keys, on=["site_id", "facility_type"], how="left")
    return merged["module_cost"].fillna(0.0).to_numpy()


def cvar(costs: np.ndarray, probability: np.ndarray, alpha: float) -> float:
    """CVaR_α of a discrete cost distribution: min over η of η + Σ p (c − η)⁺ / (1 − α), evaluated at
    every scenario cost (the minimum of this convex piecewise-linear function is at one of them)."""
    costs = np.asarray(costs, dtype=float)
    probability = np.asarray(probability, dtype=float)
    excess = np.maximum(costs[None, :] - costs[:, None], 0.0) @ probability
    return float(np.min(costs + excess / (1.0 - alpha)))
