"""The heuristics' flow LPs under a deadline: HiGHS's time limit counts the run time of every run of
an instance, so a persistent LP's re-solve gets the time left, not the time left less all earlier
runs; a passed deadline runs nothing; the presolve's first networks keep to its budget. And the
capacity a network filled to the demand worth serving needs (``worth_serving``), by hand."""

from __future__ import annotations

import time

import numpy as np
import pytest

from planner.model import ModelIndex
from planner.solver import presolve as presolve_module
from planner.solver.heuristic import FlowLP, flows_for_open_set, incumbent_from_values, worth_serving
from planner.solver.highs import limit_next_run
from planner.solver.outcome import SolverOptions
from planner.solver.presolve import lagrangian_presolve
from tests.builders import dense_problem


def random_problem(seed: int, n_sites: int = 30, n_regions: int = 400, penalty: float = np.inf):
    rng = np.random.default_rng(seed)
    demand = rng.uniform(1, 10, n_regions)
    cost = rng.uniform(1, 20, (n_sites, n_regions))
    capacity = np.full(n_sites, 3 * demand.sum() / n_sites)
    return dense_problem(demand, rng.uniform(50, 100, n_sites), capacity, cost, penalty=penalty)


def presolve_networks_recorded(monkeypatch, argument: str) -> list:
    """The ``argument`` of every network the presolve asks ``incumbent_from_values`` for, as it runs."""
    seen = []
    real = presolve_module.incumbent_from_values

    def recording(*args, **kwargs):
        seen.append(kwargs.get(argument))
        return real(*args, **kwargs)

    monkeypatch.setattr(presolve_module, "incumbent_from_values", recording)
    return seen


def test_a_persistent_flow_lp_gets_the_time_left_whatever_its_earlier_runs_took():
    problem = random_problem(0)
    index = ModelIndex.from_problem(problem)
    lp = FlowLP(problem, index)
    opened = np.ones(problem.n_options, dtype=bool)
    rng = np.random.default_rng(1)
    while lp.highs.getRunTime() < 0.3:  # earlier runs: fresh solves of open sets
        lp.highs.clearSolver()
        assert lp.solve(rng.random(problem.n_options) < 0.6) is not None
    lp.highs.clearSolver()
    started = time.perf_counter()
    # 0.25 s is far more than one LP of this size takes, but less than the runs before it
    solution = lp.solve(opened, deadline=time.perf_counter() + 0.25)
    assert solution is not None, "the re-solve was cut short by the earlier runs' time"
    assert time.perf_counter() - started < 0.25


def test_the_next_run_limit_is_the_run_time_so_far_plus_the_seconds():
    problem = random_problem(2)
    lp = FlowLP(problem, ModelIndex.from_problem(problem))
    assert lp.solve(np.ones(problem.n_options, dtype=bool)) is not None
    limit_next_run(lp.highs, 5.0)
    assert lp.highs.getOptionValue("time_limit")[1] == pytest.approx(lp.highs.getRunTime() + 5.0)


def test_a_passed_deadline_solves_no_flow_lp():
    problem = random_problem(3)
    index = ModelIndex.from_problem(problem)
    opened = np.ones(problem.n_options, dtype=bool)
    assert flows_for_open_set(problem, index, opened) is not None
    assert flows_for_open_set(problem, index, opened, deadline=time.perf_counter() - 1.0) is None
    assert FlowLP(problem, index).solve(opened, deadline=time.perf_counter() - 1.0) is None
    values = -np.ones(problem.n_options)
    assert incumbent_from_values(problem, index, values, time_limit_s=0.0) is not None
    assert incumbent_from_values(problem, index, values, time_limit_s=0.0,
                                 deadline=time.perf_counter() - 1.0) is None


@pytest.mark.slow  # two presolves (2.6 s)
def test_the_presolve_passes_its_budget_end_to_the_first_networks(monkeypatch):
    deadlines = presolve_networks_recorded(monkeypatch, "deadline")
    problem = random_problem(4)
    index = ModelIndex.from_problem(problem)
    started = time.perf_counter()
    lagrangian_presolve(problem, index, SolverOptions(time_limit_s=2.0))
    assert deadlines and all(d is not None and started < d <= started + 2.0 + 1e-6 for d in deadlines)
    deadlines.clear()
    lagrangian_presolve(problem, index, SolverOptions(time_limit_s=None))
    assert deadlines and all(d is None for d in deadlines)


def test_the_demand_worth_serving_by_hand():
    # region 0 must be served (no penalty); regions 1-3 may go unmet at a penalty of 10 per unit
    demand = [4.0, 3.0, 2.0, 5.0]
    cost = [[1.0, 12.0, 9.0, 30.0],  # site 0
            [2.0, 11.0, 15.0, 10.0]]  # site 1
    problem = dense_problem(demand, [1.0, 1.0], [100.0, 100.0], cost, penalty=10.0)
    index = ModelIndex.from_problem(problem)
    # cheapest arcs: 1, 11, 9, 10; penalty 10 exceeds 1 and 9 only (not 11, not the tie at 10)
    assert worth_serving(problem, index) == pytest.approx(4.0 + 2.0)
    must = dense_problem(demand, [1.0, 1.0], [100.0, 100.0], cost)  # nothing may go unmet
    assert worth_serving(must, ModelIndex.from_problem(must)) == pytest.approx(14.0)


def test_a_capacity_target_opens_options_until_it_is_covered():
    problem = random_problem(5, penalty=1e6)  # every unit pays to serve, none must be
    index = ModelIndex.from_problem(problem)
    values = np.linspace(1.0, 2.0, problem.n_options)  # no option with v_o < 0: nothing opened
    unfilled = incumbent_from_values(problem, index, values, time_limit_s=0.0)
    filled = incumbent_from_values(problem, index, values, time_limit_s=0.0,
                                   capacity_target=worth_serving(problem, index))
    demand = float(index.pair_demand.sum())
    assert unfilled.unmet.sum() == pytest.approx(index.n_pairs)  # all unmet
    assert float((problem.option_capacity_max * (filled.open > 0)).sum()) >= demand
    assert filled.unmet.sum() == pytest.approx(0.0, abs=1e-9)


def test_a_search_out_of_time_before_its_first_flows_returns_its_start():
    """None means an infeasible start: a search beside HiGHS stops its rounds on it. Out of time before
    the start's flows, the search returns the start (it had returned None)."""
    from planner.solver.module_search import module_search

    problem = random_problem(6)
    index = ModelIndex.from_problem(problem)
    start = flows_for_open_set(problem, index, np.ones(problem.n_options, dtype=bool))
    candidates = np.ones(problem.n_options, dtype=bool)
    assert module_search(problem, index, start, candidates, time_limit_s=0.0) is start
    assert module_search(problem, index, start, candidates, time_limit_s=1.0) is not None


@pytest.mark.slow  # the large-model steps under a 2 s limit
@pytest.mark.parametrize(("target", "filled"), [(0.0, 0), (1e12, 1)])
def test_the_filled_network_is_solved_only_where_it_adds_capacity(monkeypatch, target, filled):
    """On a large model the network filled to the demand worth serving is tried only where the
    relaxation's network lacks that capacity: otherwise it is the same network, a second full flow LP
    (about 7 s on 50,000 regions) for nothing."""
    calls = presolve_networks_recorded(monkeypatch, "capacity_target")
    monkeypatch.setattr(presolve_module, "worth_serving", lambda problem, index: target)
    monkeypatch.setattr(presolve_module, "LARGE_MODEL_ARCS", 0)  # the large-model steps on a small model
    problem = random_problem(7)
    lagrangian_presolve(problem, ModelIndex.from_problem(problem), SolverOptions(time_limit_s=2.0))
    assert sum(c is not None for c in calls) == filled


def test_a_run_without_a_deadline_is_not_held_to_an_earlier_runs_limit():
    problem = random_problem(8)
    lp = FlowLP(problem, ModelIndex.from_problem(problem))
    opened = np.ones(problem.n_options, dtype=bool)
    assert lp.solve(opened, deadline=time.perf_counter() + 0.05) is not None  # its limit: run time + 0.05 s
    left_at = lp.highs.getOptionValue("time_limit")[1]
    rng = np.random.default_rng(2)
    while lp.highs.getRunTime() < left_at + 0.1:  # fresh solves past that limit, none of them given a deadline
        lp.highs.clearSolver()
        assert lp.solve(rng.random(problem.n_options) < 0.6) is not None
