"""The module search (``planner.solver.module_search``): its flow LP against an independent LP (scipy),
its dual estimates against the gains they promise to bound, and its networks against brute force."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

import planner.solver.presolve as presolve
from planner.model import ModelIndex
from planner.model.solution import Solution
from planner.pipeline import solve_problem
from planner.solver.heuristic import incumbent_from_values, solution_cost
from planner.solver.lagrangian import _Relaxation, lagrangian_bound
from planner.solver.module_search import ModularFlowLP, _full_solution, _Search, largest_capacity_type, module_search
from planner.solver.outcome import SolverOptions
from tests.brute import flow_lp
from tests.builders import dense_problem
from tests.marks import some_slow
from tests.test_brute_force import brute_force, random_problem


def _configurations(problem):
    """Every (open, modules) pair: module count 0 means closed."""
    choices = [range(0, int(problem.max_modules[o]) + 1) for o in range(problem.n_options)]
    for counts in itertools.product(*choices):
        counts = np.array(counts)
        yield counts > 0, np.maximum(counts, problem.min_modules * (counts > 0))


@pytest.mark.parametrize("seed", some_slow(range(15), 5))
def test_the_flow_lp_reproduces_brute_force_and_the_solution_cost(seed):
    """The best z(S, m) over every configuration is the brute-force optimum (scipy's LP per
    configuration), and each evaluation's cost is the cost recomputed from its solution."""
    problem = random_problem(seed)
    expected = brute_force(problem)
    index = ModelIndex.from_problem(problem)
    lp = ModularFlowLP(problem, index)
    everything = np.arange(problem.n_options)
    costs = []
    for is_open, modules in _configurations(problem):
        evaluation = lp.evaluate(is_open, modules)
        if evaluation is None:
            continue
        solution = _full_solution(problem, index, everything, np.arange(problem.n_arcs), index, evaluation)
        assert solution_cost(problem, index, solution) == pytest.approx(evaluation.cost, rel=1e-7, abs=1e-6)
        costs.append(evaluation.cost)
    if expected is None:
        assert not costs
    else:
        assert min(costs) == pytest.approx(expected, rel=1e-7, abs=1e-7)


@pytest.mark.parametrize("seed", some_slow(range(15), 5))
def test_the_duals_never_understate_a_moves_gain(seed):
    """Φ is convex in the capacities, so one module more gains at most μC − M, one fewer saves at
    most M − μC, and opening j with the module count its Lagrangian value picks gains at most
    −v_j(λ) at the LP's duals (the order the search tries moves in rests on these)."""
    problem = random_problem(seed)
    index = ModelIndex.from_problem(problem)
    lp = ModularFlowLP(problem, index)
    pricing = _Relaxation(problem, index)
    slack = 1e-6 * max(1.0, float(problem.opening_cost.sum() + problem.module_cost.sum()))
    checked = 0
    for is_open, modules in _configurations(problem):
        base = lp.evaluate(is_open, modules)
        if base is None:
            continue
        for option in np.flatnonzero(is_open & np.isfinite(problem.module_capacity)).tolist():
            marginal = base.capacity_value[option] * problem.module_capacity[option]
            gain = marginal - problem.module_cost[option]
            for step, promise in ((+1, gain), (-1, -gain)):
                trial = modules.copy()
                trial[option] += step
                if not problem.min_modules[option] <= trial[option] <= problem.max_modules[option]:
                    continue
                moved = lp.evaluate(is_open, trial)
                if moved is not None:
                    assert base.cost - moved.cost <= promise + slack
                    checked += 1
        values, counts = pricing.option_values(base.balance_dual)
        for option in np.flatnonzero(~is_open).tolist():
            trial_open, trial = is_open.copy(), modules.copy()
            trial_open[option], trial[option] = True, counts[option]
            moved = lp.evaluate(trial_open, trial)
            if moved is not None:
                assert base.cost - moved.cost <= -values[option] + slack
                checked += 1
    assert checked or brute_force(problem) is None


@pytest.mark.parametrize("capacitated", [False, True])
@pytest.mark.parametrize("seed", some_slow(range(20), 3))
def test_the_module_search_improves_on_its_start_and_stays_feasible(seed, capacitated):
    """Never dearer than its start, never below the optimum, and its cost is its solution's."""
    problem = random_problem(seed, capacitated_must_serve=capacitated)
    expected = brute_force(problem)
    if expected is None:
        return
    index = ModelIndex.from_problem(problem)
    relaxed = lagrangian_bound(problem, index, upper_bound=None, max_iterations=50)
    start = incumbent_from_values(problem, index, relaxed.option_value, time_limit_s=1.0)
    if start is None:
        return
    found = module_search(problem, index, start, np.ones(problem.n_options, dtype=bool), time_limit_s=5.0)
    cost = solution_cost(problem, index, found)
    assert expected * (1 - 1e-9) - 1e-9 <= cost <= solution_cost(problem, index, start) * (1 + 1e-9) + 1e-9
    assert np.allclose(np.bincount(index.arc_pair, found.assign, index.n_pairs) + found.unmet, 1.0)


def _large_model_path(monkeypatch, min_highs_seconds: float):
    """Every model counts as large: the search beside the subgradient, then HiGHS or not."""
    monkeypatch.setattr(presolve, "LARGE_MODEL_ARCS", 0)
    monkeypatch.setattr(presolve, "MIN_HIGHS_SECONDS_LARGE", min_highs_seconds)


@pytest.mark.slow
def test_a_large_model_with_too_little_time_left_reports_the_presolve_incumbent(monkeypatch):
    """HiGHS is skipped where the presolve has an incumbent (and run where it has none): the
    presolve's network, audited, with the Lagrangian bound; optimal only where that bound proves it."""
    _large_model_path(monkeypatch, min_highs_seconds=1e9)
    skipped = 0
    for seed in range(10):
        problem = random_problem(seed, capacitated_must_serve=True)
        expected = brute_force(problem)
        options = SolverOptions(mip_gap=1e-9, presolve_min_arcs=0, time_limit_s=2.0, threads=2, formulation="standard")
        run = solve_problem(problem, options)
        assert run.audit.passed
        assert run.report.objective >= expected * (1 - 1e-9) - 1e-9
        assert run.report.best_bound <= expected * (1 + 1e-9) + 1e-9
        if run.report.solver == "planner presolve":
            skipped += 1
            assert run.report.status.value in ("time_limit", "gap_limit", "optimal")
            if run.report.status.value == "optimal":  # the bound proves the presolve's network
                assert run.report.objective <= expected * (1 + 1e-9) + 1e-9
    assert skipped >= 5


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("seed", some_slow(range(8), 2))
def test_the_large_model_path_keeps_the_optimum(monkeypatch, seed, threads):
    """With the time HiGHS needs, the large-model presolve (search and subgradient side by side,
    or one after the other on one thread) and its fixings keep the optimum."""
    problem = random_problem(seed, capacitated_must_serve=True)
    expected = brute_force(problem)
    _large_model_path(monkeypatch, min_highs_seconds=0.0)
    run = solve_problem(problem, SolverOptions(
        mip_gap=1e-9, presolve_min_arcs=0, time_limit_s=3.0, threads=threads, formulation="standard"))
    assert run.audit.passed
    assert run.report.objective == pytest.approx(expected, rel=1e-7, abs=1e-7)


@pytest.mark.parametrize("seed", some_slow(range(20), 5))
def test_the_large_model_subgradient_options_keep_the_bound_valid(seed):
    """A target that moves (as the search improves it), a cap on it and restarts when stuck change
    the steps, never the validity: the bound stays at or below the optimum, and the moving target
    is consulted at every step."""
    problem = random_problem(seed)
    expected = brute_force(problem)
    if expected is None:
        return
    index = ModelIndex.from_problem(problem)
    targets = iter(np.linspace(expected * 1.5, expected, 400))
    asked = []

    def current_upper_bound():
        asked.append(1)
        return next(targets, expected)

    result = lagrangian_bound(
        problem, index, upper_bound=expected * 1.5, max_iterations=300, time_limit_s=10.0,
        current_upper_bound=current_upper_bound, restart_when_stuck=True, max_target_gap=0.02,
    )
    assert result.bound <= expected * (1 + 1e-9) + 1e-9
    assert len(asked) >= min(result.iterations - 1, 1)


def _two_type_run(capacity):
    """A presolve run on six sites: sites 0-1 of type ``big``, 2-5 of type ``small``, with the
    relaxation opening options 0 and 2 and the incumbent 0, 2 and 3."""
    n_sites = 6
    problem = dense_problem(
        demand=[10.0, 10.0], opening_cost=np.ones(n_sites), capacity=capacity, unit_cost=np.ones((n_sites, 2)),
        type_ids=("big", "small"), option_type=np.array([0, 0, 1, 1, 1, 1]),
        type_min_count=np.zeros(2, dtype=int), type_max_count=np.full(2, n_sites),
    )
    run = presolve._PresolveRun(problem, ModelIndex.from_problem(problem), SolverOptions(time_limit_s=1.0))
    run.chosen = np.array([True, False, True, False, False, False])
    run.incumbent = Solution(open=np.array([1, 0, 1, 1, 0, 0]), modules=np.array([1, 0, 1, 1, 0, 0]),
                             assign=np.zeros(problem.n_arcs), unmet=np.zeros(2))
    return run


@pytest.mark.parametrize("big_capacity", [100.0, np.inf])
def test_the_first_half_opens_no_other_option_of_the_largest_type(big_capacity):
    """The first half of the large-model search may not open another option of the type of the
    largest capacity (an uncapacitated one counts as the largest); the relaxation's and the
    incumbent's stay, and every option of the other type may open."""
    run = _two_type_run([big_capacity, big_capacity, 10.0, 10.0, 10.0, 10.0])
    assert run.first_half_options().tolist() == [True, False, True, True, True, True]


def test_the_first_half_freezes_no_type_when_the_capacities_tie():
    run = _two_type_run([10.0] * 6)
    assert run.first_half_options().all()


def test_the_first_half_keeps_to_the_types_the_relaxation_or_the_incumbent_opens():
    """With the relaxation and the incumbent opening only the small type, the big type's options are
    out of the first half (the rule of the 12 eastern states), whatever their capacity; with the
    incumbent's big option, that one stays and no other opens."""
    run = _two_type_run([100.0, 100.0, 10.0, 10.0, 10.0, 10.0])
    run.chosen = np.array([False, False, True, True, False, False])
    run.incumbent = dataclasses.replace(run.incumbent, open=np.array([0, 0, 1, 1, 0, 0]))
    assert run.first_half_options().tolist() == [False, False, True, True, True, True]
    run.incumbent = dataclasses.replace(run.incumbent, open=np.array([0, 1, 1, 1, 0, 0]))
    assert run.first_half_options().tolist() == [False, True, True, True, True, True]


def test_the_best_option_of_each_type_left_out_is_added():
    run = _two_type_run([100.0, 100.0, 10.0, 10.0, 10.0, 10.0])
    values = np.array([-1.0, -3.0, -5.0, 0.0, 2.0, -9.0])
    only_small = np.array([False, False, True, False, False, False])
    assert presolve.best_of_missing_types(run.problem, values, only_small).tolist() == [
        False, True, False, False, False, False]
    both = np.array([True, False, True, False, False, False])
    assert not presolve.best_of_missing_types(run.problem, values, both).any()


def _two_large_basin():
    """Four regions of 10 units (penalty 100/unit): two large options (capacity 20, opening 50, unit
    cost 1 everywhere) and four small ones (capacity 10, opening 5, unit cost 1 at their own region,
    50 elsewhere). Both large: 100 + 40 = 140; one large alone leaves 20 units unmet (2,070); the
    four small: 20 + 40 = 60, the optimum."""
    unit_cost = np.full((6, 4), 50.0)
    unit_cost[:2] = 1.0
    unit_cost[2 + np.arange(4), np.arange(4)] = 1.0
    return dense_problem(
        demand=np.full(4, 10.0), opening_cost=[50.0, 50.0, 5.0, 5.0, 5.0, 5.0],
        capacity=[20.0, 20.0, 10.0, 10.0, 10.0, 10.0], unit_cost=unit_cost, penalty=100.0,
        type_ids=("large", "small"), option_type=np.array([0, 0, 1, 1, 1, 1]),
        type_min_count=np.zeros(2, dtype=int), type_max_count=np.full(2, 6),
    )


def test_close_and_repair_leaves_the_basin_of_a_large_option_too_many():
    """From both large options open no single move pays (the descent stays at 140), while closing a
    large option and reopening by the small ones reaches the optimum, 60 (by hand and by brute
    force)."""
    problem = _two_large_basin()
    assert brute_force(problem) == pytest.approx(60.0)
    search = _Search(problem, ModelIndex.from_problem(problem), time_limit_s=30.0)
    both_large = search.lp.evaluate(np.array([True, True, False, False, False, False]), np.ones(6, dtype=int))
    assert both_large.cost == pytest.approx(140.0)
    assert search.descend(both_large, np.zeros(6, dtype=bool)).cost == pytest.approx(140.0)
    repaired = search.without_large(both_large)
    assert repaired.cost == pytest.approx(60.0)
    assert repaired.open.tolist() == [False, False, True, True, True, True]
    assert not search.banned.any()


def _module_basin():
    """Four regions of 10 units (penalty 1,000/unit): a large option (opening 50, modules of 20 units
    at 100 each, one or two) serving all at 1/unit, and small options (opening 40, capacity 10, 1/unit)
    at regions 0 and 1 only. The large one with two modules: 50 + 200 + 40 = 290; one small added keeps
    both modules (30 units left: 290 + 50); with both small ones the large needs one module:
    50 + 100 + 2 × 40 + 40 = 270, the optimum."""
    unit_cost = np.full((3, 4), 1.0)
    unit_cost[1, 1:] = unit_cost[2, [0, 2, 3]] = 1000.0
    return dense_problem(
        demand=np.full(4, 10.0), opening_cost=[50.0, 40.0, 40.0], capacity=[20.0, 10.0, 10.0],
        unit_cost=unit_cost, penalty=1000.0, module_cost=np.array([100.0, 0.0, 0.0]),
        max_modules=np.array([2, 1, 1]), type_ids=("large", "small"), option_type=np.array([0, 1, 1]),
        type_min_count=np.zeros(2, dtype=int), type_max_count=np.full(2, 3),
    )


def test_a_module_dropped_and_repaired_leaves_the_basin_of_a_large_module_too_many():
    """From the large option with two modules no single move pays (the descent and the kicks stay at
    290): the module pays until both small options open, and neither pays alone. Dropping the module
    and repairing reaches the optimum, 270 (by hand and by brute force)."""
    problem = _module_basin()
    assert brute_force(problem) == pytest.approx(270.0)
    index = ModelIndex.from_problem(problem)
    search = _Search(problem, index, time_limit_s=30.0)
    large_alone = search.lp.evaluate(np.array([True, False, False]), np.array([2, 0, 0]))
    assert large_alone.cost == pytest.approx(290.0)
    assert search.descend(large_alone, np.zeros(3, dtype=bool)).cost == pytest.approx(290.0)
    repaired = search.without_a_module(large_alone)
    assert repaired.cost == pytest.approx(270.0)
    assert repaired.open.tolist() == [True, True, True] and repaired.modules.tolist() == [1, 1, 1]
    start = Solution(open=np.array([1, 0, 0]), modules=np.array([2, 0, 0]),
                     assign=np.where(problem.arc_option == 0, 1.0, 0.0), unmet=np.zeros(4))
    found = module_search(problem, index, start, np.ones(3, dtype=bool), 30.0)
    assert solution_cost(problem, index, found) == pytest.approx(270.0)


def test_largest_capacity_type():
    problem = _two_large_basin()
    assert largest_capacity_type(problem) == 0
    assert largest_capacity_type(problem, np.array([1])) is None


def _cluster_and_remote_sites():
    """Sites 0 and 1 share regions r0 and r1 (24 units, 40 of capacity between them); sites 2–5 each
    alone serve one region of 15 units with two modules of 10. Every open option has spare capacity
    (value 0), so every module drop promises the module's cost and the promises tie; the ties are
    tried from the highest option down, and only a drop at site 1 or 0 pays (a remote one leaves 5
    units unmet at 100 each, dearer than the module's 50)."""
    unit_cost = np.full((6, 6), 1000.0)
    unit_cost[0:2, 0:2] = 1.0
    for site in range(2, 6):
        unit_cost[site, site] = 1.0
    return dense_problem(
        demand=[12.0, 12.0, 15.0, 15.0, 15.0, 15.0], opening_cost=np.full(6, 10.0), capacity=np.full(6, 10.0),
        unit_cost=unit_cost, penalty=100.0, max_modules=np.full(6, 3), module_cost=np.full(6, 50.0),
    )


def test_the_thorough_polish_goes_past_the_promising_moves_that_fail():
    """The quick polish tries the ``POLISH_TRIES`` most promising module moves and stops when they all
    fail; the thorough one (run at each local optimum of the descent) goes on to the drop that pays."""
    problem = _cluster_and_remote_sites()
    index = ModelIndex.from_problem(problem)
    search = _Search(problem, index, time_limit_s=10.0)
    start = search.lp.evaluate(np.ones(6, dtype=bool), np.full(6, 2))
    assert search.polished(start).cost == pytest.approx(start.cost)
    thorough = search.polished(start, thorough=True)
    assert thorough.cost == pytest.approx(start.cost - 50.0)
    assert thorough.modules[:2].sum() == 3 and thorough.modules[2:].tolist() == [2, 2, 2, 2]


def _relocation_basin():
    """Two regions 500 km apart, X and Y (10 units each, penalty 1,000/unit), every unit within 100 km
    of its facility (service share 1). Sites X and Y each hold a central plant (opening 50, capacity
    20; a unit costs 2 at X's, 1 at Y's) or a microfactory (opening 20, capacity 10, 6/unit); at most
    one central plant. Central at X with a microfactory at Y: 50 + 20 + 20 + 60 = 150; the plant at Y
    with the microfactory at X: 140, the optimum; two microfactories 160."""
    problem = dense_problem(
        demand=[10.0, 10.0], opening_cost=[50.0, 50.0, 20.0, 20.0], capacity=[20.0, 20.0, 10.0, 10.0],
        unit_cost=[[2.0, 2.0], [1.0, 1.0], [6.0, 6.0], [6.0, 6.0]], penalty=1000.0,
        site_ids=np.array(["X", "Y"], dtype=object), option_site=np.array([0, 1, 0, 1]),
        type_ids=("central", "micro"), option_type=np.array([0, 0, 1, 1]),
        type_min_count=np.zeros(2, dtype=int), type_max_count=np.array([1, 2]),
    )
    return dataclasses.replace(problem, arc_distance_km=np.array([0.0, 500.0, 500.0, 0.0, 0.0, 500.0, 500.0, 0.0]),
                               service_share=np.array([1.0]), service_km=np.array([100.0]))


def test_a_relocated_central_plant_leaves_the_basin_the_service_level_keeps_it_in():
    """From the plant at X and the microfactory at Y every single move misses the service level or
    breaks a rule (the swap of the plant to Y leaves X out of reach; the microfactory cannot move to
    X's site), so the descent and the kicks stay at 150. Moving the plant and repairing by coverage
    reaches the optimum, 140 (by hand and by enumeration of the sets the rules allow)."""
    problem = _relocation_basin()
    allowed = [np.array(s, dtype=bool) for s in itertools.product([0, 1], repeat=4)
               if s[0] + s[2] <= 1 and s[1] + s[3] <= 1 and s[0] + s[1] <= 1]
    values = [flow_lp(problem, s) for s in allowed]
    assert min(v + problem.opening_cost[s].sum() for s, v in zip(allowed, values, strict=True) if v is not None) \
        == pytest.approx(140.0)
    index = ModelIndex.from_problem(problem)
    search = _Search(problem, index, time_limit_s=30.0)
    start = search.lp.evaluate(np.array([True, False, False, True]), np.ones(4, dtype=int))
    assert start.cost == pytest.approx(150.0)
    assert search.descend(start, np.zeros(4, dtype=bool)).cost == pytest.approx(150.0)
    relocated = search.relocated_large(start)
    assert relocated.cost == pytest.approx(140.0)
    assert relocated.open.tolist() == [False, True, True, False]
    solution = Solution(open=start.open.astype(int), modules=np.ones(4, dtype=int),
                        assign=np.where(np.isin(problem.arc_option, [0, 3]) & (problem.arc_distance_km == 0), 1.0, 0.0),
                        unmet=np.zeros(2))
    found = module_search(problem, index, solution, np.ones(4, dtype=bool), 30.0, relocate=True)
    assert solution_cost(problem, index, found) == pytest.approx(140.0)
