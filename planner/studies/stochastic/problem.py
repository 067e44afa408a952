"""The numeric instance of the two-stage stochastic model: a :class:`Problem` (options, arcs, costs)
plus demand scenarios and the rules of recourse and risk. No geometry, no files."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from planner.inputs.scenarios import Scenarios
from planner.model.index import ModelIndex
from planner.problem import ARC_FIELDS, Problem, restrict_options

MICROFACTORY = "microfactory"


@dataclass(frozen=True)
class StochasticProblem:
    """``problem.demand`` is the expected demand (positive wherever a scenario has demand, so arcs
    exist for every pair a scenario can ask for); ``scenarios.demand`` is (N, R, P)."""

    problem: Problem
    scenarios: Scenarios
    type_role: tuple[str, ...]  # (K,) "central", "microfactory" or "other"
    recourse_modules: bool = True  # microfactory-role options may add modules after demand is known
    recourse_premium: float = 0.5  # fraction extra on module_cost for a module added then
    cvar_alpha: float = 0.9
    cvar_weight: float = 0.0

    def __post_init__(self) -> None:
        if len(self.type_role) != len(self.problem.type_ids):
            raise ValueError("StochasticProblem.type_role needs one role per facility type")
        if self.scenarios.demand.shape[1:] != self.problem.demand.shape:
            raise ValueError(
                f"scenario demand has shape {self.scenarios.demand.shape[1:]}, the problem {self.problem.demand.shape}"
            )
        outside = (self.scenarios.demand > 0).any(axis=0) & ~(self.problem.demand > 0)
        if outside.any():
            raise ValueError("scenario demand where the problem has no demand pair; use stochastic_problem()")

    @property
    def n_scenarios(self) -> int:
        return self.scenarios.n

    @property
    def recourse_options(self) -> np.ndarray:
        """(O,) bool: options that may add modules after demand is known (microfactory role, modular)."""
        if not self.recourse_modules:
            return np.zeros(self.problem.n_options, dtype=bool)
        role = np.asarray(self.type_role, dtype=object)[self.problem.option_type]
        return (role == MICROFACTORY) & (self.problem.max_modules > self.problem.min_modules)

    def pair_demand(self, index: ModelIndex) -> np.ndarray:
        """(N, D) demand of each pair in each scenario, units/yr."""
        return self.scenarios.demand[:, index.pair_region, index.pair_product]

    def with_scenarios(self, scenarios: Scenarios, **changes) -> StochasticProblem:
        """The same network choices under other scenarios (and other settings in ``changes``)."""
        return dataclasses.replace(self, scenarios=scenarios, **changes)


def stochastic_problem(
    problem: Problem,
    scenarios: Scenarios,
    type_role,
    recourse_modules: bool = True,
    recourse_premium: float = 0.5,
    cvar_alpha: float = 0.9,
    cvar_weight: float = 0.0,
    prune_options: bool = True,
) -> StochasticProblem:
    """A :class:`StochasticProblem` whose problem demand is the scenarios' expected demand; options
    that no scenario could pay for are dropped (:func:`never_worth_opening`) unless ``prune_options``
    is False.

    ``problem`` must have arcs for every pair a scenario has demand for (``planner.inputs.prepare`` builds
    them where the demand it is given is positive; give it the scenarios' largest demand)."""
    expected = scenarios.expected_demand()
    has_arcs_for = problem.demand > 0
    if ((scenarios.demand > 0).any(axis=0) & ~has_arcs_for).any():
        raise ValueError("scenario demand where the problem has no demand pair; build the problem from the scenarios")
    demand = np.where(has_arcs_for, expected, 0.0)
    keep = demand[problem.arc_region, problem.arc_product] > 0  # pairs no scenario asks for need no arcs
    arcs = {name: getattr(problem, name)[keep] for name in ARC_FIELDS}
    result = StochasticProblem(
        problem=dataclasses.replace(problem, demand=demand, **arcs),
        scenarios=scenarios,
        type_role=tuple(type_role),
        recourse_modules=recourse_modules,
        recourse_premium=recourse_premium,
        cvar_alpha=cvar_alpha,
        cvar_weight=cvar_weight,
    )
    return prune(result) if prune_options else result




def keep_options(problem: Problem, keep: np.ndarray) -> Problem:
    """``problem`` without the options where ``keep`` is False, and without their arcs."""
    return restrict_options(problem, np.asarray(keep, dtype=bool))[0]


def never_worth_opening(sp: StochasticProblem) -> np.ndarray:
    """(O,) bool: options that no scenario could ever pay for, closed without loss.

    In scenario s, opening o saves at most :math:`\\sum_{a: o(a)=o} q_{sd(a)} (\\pi_{d(a)} - c_a)^+`
    (serving instead of leaving unmet), and at most its largest capacity times the best margin. If
    its opening cost plus its cheapest module count is at least that in every scenario, closing it
    (its flows become unmet) never raises any scenario's cost, so it is closed in an optimum of
    expected cost and of expected cost + λ·CVaR. Forced options, options serving demand that must
    be served, options within a service level (:func:`serves_a_level`), and problems with minimum
    facility counts keep every option."""
    problem = sp.problem
    if problem.min_facilities > 0 or (problem.type_min_count > 0).any():
        return np.zeros(problem.n_options, dtype=bool)
    penalty = problem.unmet_penalty[problem.arc_product]
    margin = np.where(np.isfinite(penalty), np.maximum(penalty - problem.arc_unit_cost, 0.0), np.inf)
    arc_demand = sp.scenarios.demand[:, problem.arc_region, problem.arc_product]  # (N, A)
    with np.errstate(invalid="ignore"):
        saving = np.zeros((sp.n_scenarios, problem.n_options))
        for s in range(sp.n_scenarios):
            saving[s] = np.bincount(problem.arc_option, weights=arc_demand[s] * margin, minlength=problem.n_options)
    best_margin = np.zeros(problem.n_options)
    np.maximum.at(best_margin, problem.arc_option, margin)
    with np.errstate(invalid="ignore"):  # no capacity (inf) × no margin (0): no bound, read as inf below
        capacity_bound = problem.module_capacity * problem.max_modules * best_margin
    saving = np.minimum(saving, np.where(np.isnan(capacity_bound), np.inf, capacity_bound)[None, :])
    cost = problem.opening_cost + problem.module_cost * problem.min_modules
    return ~problem.forced & ~serves_a_level(problem) & (cost[None, :] >= np.nan_to_num(saving, nan=np.inf)).all(axis=0)


def serves_a_level(problem: Problem) -> np.ndarray:
    """(O,) bool: options with an arc within a product's service level (which a level may need open
    whatever they save)."""
    counted = problem.arc_within_service & (problem.service_share[problem.arc_product] > 0)
    return np.bincount(problem.arc_option[counted], minlength=problem.n_options) > 0


def prune(sp: StochasticProblem) -> StochasticProblem:
    """``sp`` without the options of :func:`never_worth_opening`."""
    closed = never_worth_opening(sp)
    if not closed.any():
        return sp
    return dataclasses.replace(sp, problem=keep_options(sp.problem, ~closed))
