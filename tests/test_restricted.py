"""The presolve's restricted MIP: over every option it finds the optimum; over a subset, a solution
feasible for the whole problem (checked by the independent audit) that costs no less."""

from __future__ import annotations

import numpy as np
import pytest

from planner.audit import audit
from planner.model import ModelIndex
from planner.pipeline import solve_problem
from planner.problem import restrict_options
from planner.results import ResultTables
from planner.solver.heuristic import restricted_mip, solution_cost
from planner.solver.presolve import promising_options
from tests.test_brute_force import random_problem


@pytest.mark.parametrize("seed", range(6))
def test_restricted_mip_over_all_options_is_optimal(seed):
    problem = random_problem(seed)
    index = ModelIndex.from_problem(problem)
    optimum = solve_problem(problem).report.objective
    found = restricted_mip(problem, index, np.ones(problem.n_options, dtype=bool), time_limit_s=10)
    assert solution_cost(problem, index, found) == pytest.approx(optimum, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_restricted_mip_over_a_subset_is_feasible_and_no_cheaper(seed):
    problem = random_problem(seed)
    index = ModelIndex.from_problem(problem)
    optimum = solve_problem(problem).report.objective
    subset = np.zeros(problem.n_options, dtype=bool)
    subset[: max(1, problem.n_options // 2)] = True
    found = restricted_mip(problem, index, subset, time_limit_s=10)
    if found is None:  # the subset alone cannot serve demand that must be served
        assert not np.isfinite(problem.unmet_penalty).all()
        return
    assert not found.open[~subset].any()
    cost = solution_cost(problem, index, found)
    assert cost >= optimum - 1e-6 * max(abs(optimum), 1.0)
    tables = ResultTables.from_solution(problem, index, found)
    assert audit(problem, tables, cost).passed


def test_restrict_options_keeps_only_their_arcs():
    problem = random_problem(1)
    keep = np.array([0])
    sub, arcs = restrict_options(problem, keep)
    assert sub.n_options == 1 and (sub.arc_option == 0).all()
    np.testing.assert_array_equal(arcs, np.flatnonzero(problem.arc_option == 0))


def test_promising_options_include_the_chosen_and_the_best_of_each_type():
    problem = random_problem(2)
    values = np.linspace(-1.0, 1.0, problem.n_options)
    chosen = np.zeros(problem.n_options, dtype=bool)
    chosen[-1] = True
    mask = promising_options(problem, values, chosen)
    assert mask[-1] and mask[0]


@pytest.mark.parametrize("seed", range(8))
def test_persistent_flow_lp_matches_a_fresh_lp_for_every_open_set(seed):
    """FlowLP re-solves from the last basis after bound changes; each open set's flow cost must be
    the one a fresh LP gives (same optimum, so the same solution cost)."""
    from planner.solver.heuristic import FlowLP, flows_for_open_set

    problem = random_problem(seed)
    index = ModelIndex.from_problem(problem)
    flow_lp = FlowLP(problem, index)
    rng = np.random.default_rng(seed)
    for _ in range(6):
        opened = rng.random(problem.n_options) < 0.6
        fresh = flows_for_open_set(problem, index, opened)
        persistent = flow_lp.solve(opened)
        assert (fresh is None) == (persistent is None)
        if fresh is not None:
            assert solution_cost(problem, index, persistent) == pytest.approx(
                solution_cost(problem, index, fresh), rel=1e-7, abs=1e-6
            )
