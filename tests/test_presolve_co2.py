"""The presolve under a CO2 cap: the relaxation prices the cap (a multiplier μ_E ≥ 0), its bound is
valid at any multipliers, every flow LP holds the cap, and the whole route reaches HiGHS's optimum."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from planner.errors import InfeasibleError
from planner.model import ModelIndex
from planner.pipeline import solve_problem
from planner.problem import Problem
from planner.solver import SolverOptions
from planner.solver.engine import with_start
from planner.solver.heuristic import flows_for_open_set, satisfies_coupling
from planner.solver.lagrangian import _Relaxation, co2_priced_start, initial_multipliers
from planner.solver.presolve import lagrangian_presolve
from tests.marks import some_slow
from tests.test_presolve_counts import presolve_then_route_match_highs, two_type_problem

EXACT = SolverOptions(mip_gap=1e-9, presolve_min_arcs=10**9, formulation="standard")  # HiGHS alone
WITH_PRESOLVE = SolverOptions(mip_gap=1e-9, presolve_min_arcs=0, formulation="standard")


def capped_problem(seed: int, tightness: float, penalty: float = 80.0) -> Problem:
    """:func:`two_type_problem` (no count limit) where a plant emits 0.02 t/unit + 0.002 t/unit-km and
    a microfactory 0.01 t/unit + 0.0005 t/unit-km; the cap is ``tightness`` × the emissions of the
    cost-optimal network (HiGHS alone)."""
    problem = two_type_problem(seed, max_facilities=None, penalty=penalty)
    km = problem.arc_production_cost  # a stand-in for distance that differs by arc
    is_plant = problem.option_type[problem.arc_option] == 0
    co2 = np.where(is_plant, 0.02 + 0.002 * km, 0.01 + 0.0005 * km)
    problem = dataclasses.replace(problem, arc_co2_t=co2)
    free = solve_problem(problem, EXACT)
    emitted = float((co2 * free.index.arc_demand * free.solution.assign).sum())
    return dataclasses.replace(problem, co2_cap_t=tightness * emitted)


@pytest.mark.slow  # in the whole suite only: the fast subset measured 193.6 s on a slow day
@pytest.mark.parametrize("seed", some_slow(list(range(5)), fast=1))
@pytest.mark.parametrize("tightness", some_slow([0.85, 0.6], fast=1))
def test_the_presolve_under_a_co2_cap_ends_at_highs_optimum(seed, tightness):
    """Bound below and incumbent above HiGHS's optimum (the incumbent within the cap); the whole route
    reaches it."""
    presolve_then_route_match_highs(capped_problem(seed, tightness))


@pytest.mark.parametrize("seed", some_slow(range(3), fast=1))
def test_the_relaxation_bounds_the_optimum_at_any_multipliers(seed):
    """L(λ, μ_E) ≤ the optimum for random λ and μ_E ≥ 0 (the cap's term −μ_E E and the arcs' +μ_E e_a q_a)."""
    problem = capped_problem(seed, 0.7)
    optimum = solve_problem(problem, EXACT).report.objective
    index = ModelIndex.from_problem(problem)
    relaxation = _Relaxation(problem, index)
    assert relaxation.side.n_rows == 1
    rng = np.random.default_rng(seed)
    for _ in range(20):
        balance = rng.uniform(0, 2, index.n_pairs) * index.pair_demand * 20
        mu = rng.uniform(0, 200, 1)
        bound, gradient, _, _ = relaxation.evaluate(relaxation.multipliers_of(balance, mu))
        assert bound <= optimum * (1 + 1e-9)
        assert len(gradient) == index.n_pairs + 1


def test_the_flow_lp_holds_the_cap_and_the_check_sees_a_breach():
    """Every option open: the flows emit at most the cap; the same flows under a cap 10 % lower fail
    ``satisfies_coupling``."""
    problem = capped_problem(0, 0.7)
    index = ModelIndex.from_problem(problem)
    solution = flows_for_open_set(problem, index, np.ones(problem.n_options, dtype=bool) & (problem.option_type == 1))
    emitted = float((problem.arc_co2_t * index.arc_demand * solution.assign).sum())
    assert emitted <= problem.co2_cap_t * (1 + 1e-9)
    tighter = dataclasses.replace(problem, co2_cap_t=0.9 * emitted)
    assert not satisfies_coupling(tighter, index, solution)


def test_a_cap_no_network_meets_is_explained():
    """All demand must be served and the cap is below the least emissions: the presolve finds no
    network and the run ends in the explained infeasibility, not a crash."""
    problem = capped_problem(1, 1.0, penalty=np.inf)
    impossible = dataclasses.replace(problem, co2_cap_t=0.01 * problem.co2_cap_t)
    with pytest.raises(InfeasibleError, match="CO2"):
        solve_problem(impossible, WITH_PRESOLVE)


@pytest.mark.slow  # in the whole suite only: the fast subset measured 193.6 s on a slow day
def test_a_start_cheaper_than_the_presolves_incumbent_replaces_it():
    """``planner pareto`` hands each point the network of the tighter cap as its start: where that is
    cheaper than the presolve's incumbent (or the presolve found none) it becomes the incumbent, with
    its cost; a dearer one does not."""
    problem = capped_problem(2, 0.7)
    index = ModelIndex.from_problem(problem)
    best = solve_problem(problem, EXACT)
    found = lagrangian_presolve(problem, index, WITH_PRESOLVE)
    empty = dataclasses.replace(found, incumbent=None, incumbent_cost=None)
    replaced = with_start(problem, index, empty, best.solution)
    assert replaced.incumbent is best.solution
    assert replaced.incumbent_cost == pytest.approx(best.report.objective, rel=1e-9)
    dearer = dataclasses.replace(found, incumbent_cost=best.report.objective * 1.1)
    assert with_start(problem, index, dearer, best.solution).incumbent is best.solution
    cheaper = dataclasses.replace(found, incumbent_cost=best.report.objective * 0.9)
    assert with_start(problem, index, cheaper, best.solution) is cheaper


@pytest.mark.parametrize("seed", some_slow(range(3), fast=1))
def test_the_priced_start_is_the_best_of_its_trial_prices_and_no_worse_than_none(seed):
    """The start under a cap is the all-in prices at the trial CO2 price of highest L, so its L is at
    least that of the start without a CO2 price (price 0 is one of the trials)."""
    problem = capped_problem(seed, 0.6)
    index = ModelIndex.from_problem(problem)
    relaxation = _Relaxation(problem, index)
    unpriced = relaxation.evaluate(initial_multipliers(problem, index, relaxation))[0]
    start = co2_priced_start(problem, index, relaxation)
    assert relaxation.evaluate(start)[0] >= unpriced
    assert start[-1] >= 0
