"""Independent audit of a stochastic solution, from its per-scenario tables and the input data.

* Every scenario's tables pass the deterministic audit (:func:`planner.audit.audit`) against that
  scenario's demand: balance, eligible arcs and radii, closed sites, capacity with the modules added,
  module bounds, counts, forced sites, budget, single sourcing, setups.
* Non-anticipativity: every scenario has the same open facilities and first-stage modules.
* Recourse: modules are added only at microfactory-role facility types (when allowed at all).
* Objective: per-scenario costs recomputed from unit costs (``planner.audit``) plus the premium on
  added modules; expected cost = Σ p_s K_s, CVaR_α by its definition over the sorted costs; the
  solver's objective must equal expected cost + λ × CVaR.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planner.audit import RELATIVE_TOLERANCE, audit
from planner.model.index import ModelIndex
from planner.studies.stochastic.problem import MICROFACTORY, StochasticProblem
from planner.studies.stochastic.results import (
    StochasticSolution,
    cvar,
    module_cost_of,
    scenario_problem,
    scenario_tables,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StochasticAudit:
    """Recomputed per-scenario costs, expected cost, CVaR and objective; failures name the scenarios."""

    scenario_costs: np.ndarray  # (N,) currency/yr, recomputed
    expected_cost: float
    cvar: float
    objective_recomputed: float
    objective_reported: float | None
    objective_difference: float | None
    max_violation: float
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "failures": self.failures,
            "max_violation": self.max_violation,
            "expected_cost_recomputed": self.expected_cost,
            "cvar_recomputed": self.cvar,
            "objective_recomputed": self.objective_recomputed,
            "objective_reported": self.objective_reported,
            "objective_relative_difference": self.objective_difference,
        }


def audit_stochastic(
    sp: StochasticProblem, index: ModelIndex, solution: StochasticSolution, reported_objective: float | None
) -> StochasticAudit:
    """See the module docstring."""
    failures: list[str] = []
    costs = np.zeros(sp.n_scenarios)
    max_violation = 0.0
    first_sites = None
    problem = sp.problem
    role = pd.Series(dict(zip(problem.type_ids, sp.type_role, strict=True)))
    for s, scenario_id in enumerate(sp.scenarios.ids):
        tables = scenario_tables(sp, index, solution, s)
        report = audit(scenario_problem(sp, s), tables, None)
        failures += [f"{name} in scenario {scenario_id}" for name in report.failures]
        max_violation = max(max_violation, report.max_violation)
        sites = tables.sites
        added = sites["recourse_modules"].to_numpy()
        planned = sites[["site_id", "facility_type"]].assign(modules=sites["modules"].to_numpy() - added)
        if first_sites is None:
            first_sites = planned
        elif not planned.reset_index(drop=True).equals(first_sites.reset_index(drop=True)):
            failures.append(f"non_anticipativity in scenario {scenario_id}")
        not_allowed = (added > 0) & (
            ~sp.recourse_modules | (role.reindex(sites["facility_type"]).to_numpy() != MICROFACTORY)
        )
        if not_allowed.any():
            failures.append(f"recourse_modules in scenario {scenario_id}")
        module_cost = module_cost_of(problem, sites)
        costs[s] = report.objective_recomputed + sp.recourse_premium * float((module_cost * added).sum())
    probability = sp.scenarios.probability
    expected = float(probability @ costs)
    tail = cvar(costs, probability, sp.cvar_alpha)
    recomputed = expected + sp.cvar_weight * tail
    difference = None
    if reported_objective is not None:
        difference = abs(recomputed - reported_objective) / max(abs(reported_objective), 1.0)
        if difference > RELATIVE_TOLERANCE:
            failures.append("objective")
    if failures:
        logger.warning("stochastic audit failed: %s", failures[:5])
    return StochasticAudit(
        scenario_costs=costs,
        expected_cost=expected,
        cvar=tail,
        objective_recomputed=recomputed,
        objective_reported=reported_objective,
        objective_difference=difference,
        max_violation=max_violation,
        failures=failures,
    )
