"""The presolve under a capex budget: the relaxation drops the budget (a valid, weaker bound), the
heuristics close options and take modules away until the capex fits; the whole route against HiGHS
alone on seeded two-type instances whose budget binds."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from planner.pipeline import solve_problem
from planner.solver.heuristic import affordable_modules, capex_spend, within_budget
from tests.marks import some_slow
from tests.test_presolve_counts import EXACT, presolve_then_route_match_highs, two_type_problem


def budget_problem(seed: int, budget: float):
    """Plants cost 100 + 40 per module of capex, microfactories 20 + 10; without a budget the optimum
    spends 230 (five microfactories)."""
    problem = two_type_problem(seed, max_facilities=None)
    half = problem.n_options // 2
    return dataclasses.replace(
        problem, capex=np.concatenate([np.full(half, 100.0), np.full(half, 20.0)]),
        capex_per_module=np.concatenate([np.full(half, 40.0), np.full(half, 10.0)]), capex_budget=budget,
    )


@pytest.mark.parametrize("seed", some_slow(range(5), fast=1))
@pytest.mark.parametrize("budget", [120.0, 150.0, 200.0])
def test_the_presolve_under_a_budget_ends_at_highs_optimum(seed, budget):
    problem = budget_problem(seed, budget)
    free = solve_problem(dataclasses.replace(problem, capex_budget=np.inf), EXACT)
    assert capex_spend(problem, free.solution.open > 0, free.solution.modules) > budget  # the budget binds
    found = presolve_then_route_match_highs(problem)
    assert found.incumbent is not None
    assert capex_spend(problem, found.incumbent.open > 0, found.incumbent.modules) <= budget * (1 + 1e-9)


def test_modules_are_taken_away_dearest_first_until_the_capex_fits():
    """A plant with two modules and a microfactory with three spend 100 + 2 × 40 + 20 + 3 × 10 = 230
    against 200: one plant module (the dearest, 40) goes, 190 is left; against 125 even the fewest
    modules spend 100 + 40 + 20 + 10 = 170: None."""
    problem = budget_problem(0, 200.0)
    is_open = np.zeros(problem.n_options, dtype=bool)
    is_open[[0, problem.n_options // 2 + 1]] = True
    modules = np.where(is_open, 3, 0)
    modules[0] = 2  # a plant has at most two
    fewer = affordable_modules(problem, is_open, modules)
    assert fewer[0] == 1 and fewer[problem.n_options // 2 + 1] == 3
    assert within_budget(problem, is_open, fewer)
    tight = dataclasses.replace(problem, capex_budget=125.0)
    assert affordable_modules(tight, is_open, modules) is None
