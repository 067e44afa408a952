"""The Lagrangian presolve with service levels (``define_service_level``): the relaxation prices
them (``planner.solver.lagrangian``), every flow LP of the heuristics holds them. On seeded small
instances with sites and regions on a 100 km square: the presolve route keeps HiGHS's optimum, the
Lagrangian bound stays below it at any multipliers, and every network a heuristic returns meets
the service level, checked here from the flows alone."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import planner.solver.presolve as presolve
from planner.model import ModelIndex
from planner.model.arrays import build_standard_form
from planner.pipeline import solve_problem
from planner.solver.heuristic import (
    FlowLP,
    flows_for_open_set,
    incumbent_from_values,
    restricted_mip,
    satisfies_coupling,
    service_repair,
    solution_cost,
)
from planner.solver.highs import run_highs
from planner.solver.lagrangian import _Relaxation, lagrangian_bound
from planner.solver.module_search import module_search
from planner.solver.outcome import SolverOptions
from planner.solver.presolve import lagrangian_presolve, presolve_applies
from tests.builders import dense_problem
from tests.marks import some_slow

SERVICE_KM = 35.0


def service_problem(seed: int, capacitated: bool, binding: bool):
    """Six sites and twelve regions at random on a 100 km square, unit cost growing with distance
    (capacitated: room for twice the demand in all);
    at least ``share`` of the demand within ``SERVICE_KM``: 90 % of the most any network could
    serve that near (binding: cheaper networks serve less), or 10 % of it (not binding)."""
    rng = np.random.default_rng(seed)
    n_sites, n_regions = 6, 12
    site_xy, region_xy = rng.uniform(0, 100, (n_sites, 2)), rng.uniform(0, 100, (n_regions, 2))
    distance = np.linalg.norm(site_xy[:, None, :] - region_xy[None, :, :], axis=2).round(1)
    demand = rng.integers(1, 20, n_regions).astype(float)
    max_modules = rng.integers(1, 3, n_sites)
    capacity = np.full(n_sites, np.inf)
    if capacitated:  # room for twice the demand in all, in uneven shares
        capacity = rng.uniform(0.5, 1.5, n_sites)
        capacity = np.ceil(capacity * 2 * demand.sum() / (capacity * max_modules).sum())
    penalty = np.inf if seed % 2 else 9.0
    problem = dense_problem(
        demand=demand,
        opening_cost=rng.uniform(20, 80, n_sites).round(1),
        capacity=capacity,
        unit_cost=(2 + 0.05 * distance).round(2),
        penalty=penalty,
        max_modules=max_modules,
        module_cost=rng.uniform(0, 10, n_sites).round(1),
        arc_distance_km=distance.ravel(),
    )
    within = (distance <= SERVICE_KM).any(axis=0)
    reachable = float(demand[within].sum() / demand.sum())
    share = reachable * (0.9 if binding else 0.1)
    return dataclasses.replace(problem, service_share=np.array([share]), service_km=np.array([SERVICE_KM]))


def highs_optimum(problem) -> float:
    """HiGHS alone on the standard form, to a gap of 1e-9."""
    index = ModelIndex.from_problem(problem)
    report, _ = run_highs(build_standard_form(problem, index), SolverOptions(mip_gap=1e-9, threads=1))
    return report.objective


def within_service(problem, index, solution) -> float:
    """Units/yr of the serviced product delivered within the service distance, from the flows."""
    near = problem.arc_distance_km <= problem.service_km[problem.arc_product]
    return float((index.arc_demand * solution.assign)[near].sum())


def need(problem, index) -> float:
    return float(problem.service_share[0] * index.pair_demand.sum())


def assert_meets_service(problem, index, solution):
    assert within_service(problem, index, solution) >= need(problem, index) * (1 - 1e-9)


BINDING_SEEDS = (1, 3, 5, 7, 9)  # binding for both capacity settings (checked below)
CASES = some_slow(  # the fast subset: binding with and without capacities (slack in the whole suite)
    [(1, False, True), (1, True, True), (0, False, False), (0, True, False)]
    + [(seed, capacitated, True) for seed in BINDING_SEEDS[1:] for capacitated in (False, True)]
    + [(seed, capacitated, False) for seed in range(1, 4) for capacitated in (False, True)],
    2,
)


def test_the_service_level_binds_in_the_binding_cases():
    """The binding cases cost more with the service level than without it (else they test nothing)."""
    for seed in BINDING_SEEDS:
        for capacitated in (False, True):
            problem = service_problem(seed, capacitated, binding=True)
            free = dataclasses.replace(problem, service_share=np.zeros(1))
            assert highs_optimum(problem) > highs_optimum(free) + 1e-6


def test_the_presolve_applies_to_service_levels():
    problem = service_problem(1, False, binding=True)
    assert presolve_applies(problem, SolverOptions(presolve_min_arcs=0))


@pytest.mark.parametrize("seed, capacitated, binding", CASES)
def test_the_presolve_route_keeps_the_optimum(seed, capacitated, binding):
    """The presolve (bound, incumbent, fixing), then HiGHS on the reduced model: HiGHS's optimum."""
    problem = service_problem(seed, capacitated, binding)
    run = solve_problem(problem, SolverOptions(mip_gap=1e-9, presolve_min_arcs=0, threads=1))
    assert run.timing.seconds.get("presolve", 0.0) > 0  # the presolve ran
    assert run.audit.passed
    assert run.report.objective == pytest.approx(highs_optimum(problem), rel=1e-7, abs=1e-7)
    assert_meets_service(problem, run.index, run.solution)


@pytest.mark.parametrize("seed, capacitated, binding", CASES)
def test_the_large_model_presolve_keeps_the_optimum(monkeypatch, seed, capacitated, binding):
    """The large-model path (the module search beside the subgradient) with its fixings."""
    monkeypatch.setattr(presolve, "LARGE_MODEL_ARCS", 0)
    monkeypatch.setattr(presolve, "MIN_HIGHS_SECONDS_LARGE", 0.0)
    problem = service_problem(seed, capacitated, binding)
    options = SolverOptions(mip_gap=1e-9, presolve_min_arcs=0, time_limit_s=2.0, threads=2)
    run = solve_problem(problem, options)
    assert run.audit.passed
    assert run.report.objective == pytest.approx(highs_optimum(problem), rel=1e-7, abs=1e-7)


@pytest.mark.parametrize("seed, capacitated, binding", CASES)
def test_the_lagrangian_bound_stays_below_the_optimum_at_any_multipliers(seed, capacitated, binding):
    """L(λ, ν) is a lower bound at the subgradient's best and at random λ and ν ≥ 0 (up to the
    size of the unit costs), and the presolve's bound is one too."""
    problem = service_problem(seed, capacitated, binding)
    index = ModelIndex.from_problem(problem)
    optimum = highs_optimum(problem)
    limit = optimum * (1 + 1e-9) + 1e-9
    assert lagrangian_bound(problem, index, upper_bound=optimum, max_iterations=300).bound <= limit
    relaxation = _Relaxation(problem, index)
    rng = np.random.default_rng(seed)
    for _ in range(20):
        balance = rng.uniform(0, 2, index.n_pairs) * index.pair_demand * 6
        service = rng.uniform(0, 10, relaxation.side.n_rows)
        bound, _, _, _ = relaxation.evaluate(relaxation.multipliers_of(balance, service))
        assert bound <= limit
    assert lagrangian_presolve(problem, index, SolverOptions(mip_gap=1e-9)).bound <= limit


@pytest.mark.parametrize("seed, capacitated, binding", CASES)
def test_every_heuristic_network_meets_the_service_level(seed, capacitated, binding):
    """The first incumbent, the module search, the restricted MIP and the presolve's incumbent all
    meet the service level (and the other coupling rows), and their cost is at least the optimum."""
    problem = service_problem(seed, capacitated, binding)
    index = ModelIndex.from_problem(problem)
    optimum = highs_optimum(problem)
    relaxed = lagrangian_bound(problem, index, upper_bound=None, max_iterations=50)
    first = incumbent_from_values(problem, index, relaxed.option_value, time_limit_s=1.0, opened=relaxed.chosen)
    assert first is not None
    everything = np.ones(problem.n_options, dtype=bool)
    found = [
        first,
        module_search(problem, index, first, everything, time_limit_s=1.0),
        restricted_mip(problem, index, relaxed.chosen, time_limit_s=2.0, threads=1),
        lagrangian_presolve(problem, index, SolverOptions(mip_gap=1e-9)).incumbent,
    ]
    for solution in (s for s in found if s is not None):
        assert satisfies_coupling(problem, index, solution)
        assert_meets_service(problem, index, solution)
        assert solution_cost(problem, index, solution) >= optimum * (1 - 1e-9) - 1e-9


@pytest.mark.parametrize("seed", some_slow(BINDING_SEEDS, 2))
def test_an_open_set_that_cannot_meet_the_service_level_has_no_flows(seed):
    """Only the site nearest the most demand open, too little within reach: no flows from either
    flow LP, and the repair opens options until the flows meet the level."""
    problem = service_problem(seed, capacitated=False, binding=True)
    index = ModelIndex.from_problem(problem)
    near = problem.arc_distance_km <= SERVICE_KM
    reach = np.bincount(problem.arc_option[near], weights=index.arc_demand[near], minlength=problem.n_options)
    alone = np.zeros(problem.n_options, dtype=bool)
    alone[np.argmax(reach)] = True
    assert reach.max() < need(problem, index)
    assert flows_for_open_set(problem, index, alone) is None
    assert FlowLP(problem, index).solve(alone) is None
    repaired = service_repair(problem, index, alone)
    solution = flows_for_open_set(problem, index, repaired)
    assert solution is not None
    assert_meets_service(problem, index, solution)


def test_a_network_short_of_the_service_level_is_not_an_incumbent():
    """``satisfies_coupling`` rejects flows that miss the level: those of the same instance without
    it, with the near arcs made dear so that the LP avoids them."""
    problem = service_problem(1, capacitated=False, binding=True)
    index = ModelIndex.from_problem(problem)
    every_site = np.ones(problem.n_options, dtype=bool)
    assert satisfies_coupling(problem, index, flows_for_open_set(problem, index, every_site))
    near = problem.arc_distance_km <= SERVICE_KM
    avoiding_near = dataclasses.replace(
        problem, service_share=np.zeros(1), arc_production_cost=np.where(near, 1e3, 1.0)
    )
    solution = flows_for_open_set(avoiding_near, index, every_site)
    assert within_service(problem, index, solution) < need(problem, index)
    assert not satisfies_coupling(problem, index, solution)
