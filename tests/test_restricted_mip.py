"""Fix-and-optimise (``planner.solver.restricted_mip``): nearness by hand, the restricted solves
against HiGHS on the whole model and on the model with the open set forced, and the search's
networks feasible and never dearer than its start."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from planner.model import ModelIndex
from planner.model.arrays import build_standard_form
from planner.pipeline import solve_problem
from planner.problem import ARC_FIELDS
from planner.solver.heuristic import Restriction, satisfies_coupling, solution_cost
from planner.solver.outcome import SolverOptions
from planner.solver.restricted_mip import around, fix_and_optimise, nearness, restricted_solve
from tests.builders import dense_problem
from tests.test_presolve_service import CASES, assert_meets_service, highs_optimum, service_problem

EXACT = SolverOptions(mip_gap=1e-9, threads=1)


def never() -> bool:
    return False


def line_problem():
    """Sites and regions at 0, 10 and 50 km on a line: each site sits on its own region."""
    position = np.array([0.0, 10.0, 50.0])
    distance = np.abs(position[:, None] - position[None, :])
    return dense_problem(demand=[1, 1, 1], opening_cost=[1, 1, 1], capacity=[np.inf] * 3, unit_cost=distance,
                         arc_distance_km=distance.ravel())


def test_nearness_runs_through_the_regions_both_serve():
    """δ(0, o) = min_r d(0, r) + d(o, r): 10 to the site at 10 km, 50 to the one at 50 km; −1 at itself."""
    problem = line_problem()
    assert nearness(problem, 0).tolist() == [-1.0, 10.0, 50.0]
    assert nearness(problem, 2).tolist() == [50.0, 40.0, -1.0]
    assert around(problem, 0, size=2).tolist() == [True, True, False]
    assert around(problem, 2, size=2).tolist() == [False, True, True]


def test_an_option_sharing_no_region_is_never_near():
    """Site 2 reaching only its own region and site 0 not reaching it, the two share no region."""
    problem = line_problem()
    far = (problem.arc_option == 2) & (problem.arc_region < 2)
    keep = ~far & ~((problem.arc_option == 0) & (problem.arc_region == 2))
    fields = {name: getattr(problem, name)[keep] for name in ARC_FIELDS if getattr(problem, name) is not None}
    problem = dataclasses.replace(problem, **fields)
    assert np.isinf(nearness(problem, 0)[2])
    assert around(problem, 0, size=3).tolist() == [True, True, False]


def start_network(problem, index):
    """Every option open: a network dearer than the optimum (HiGHS with every option forced)."""
    forced = dataclasses.replace(problem, forced=np.ones(problem.n_options, dtype=bool))
    return solve_problem(forced, EXACT).solution


@pytest.mark.parametrize("seed, capacitated, binding", CASES)
def test_nothing_fixed_is_the_whole_model(seed, capacitated, binding):
    problem = service_problem(seed, capacitated, binding)
    index = ModelIndex.from_problem(problem)
    form = build_standard_form(problem, index)
    found = restricted_solve(form, problem, index, start_network(problem, index), np.ones(problem.n_options, bool),
                             60.0, never)
    assert satisfies_coupling(problem, index, found)
    assert solution_cost(problem, index, found) == pytest.approx(highs_optimum(problem), rel=1e-6)


@pytest.mark.parametrize("seed, capacitated, binding", CASES)
def test_nothing_freed_re_decides_the_module_counts_of_the_open_set(seed, capacitated, binding):
    """With every open state fixed, the result keeps the start's open set and costs what HiGHS finds
    on the problem restricted to that set, each of its options forced open (modules free)."""
    problem = service_problem(seed, capacitated, binding)
    index = ModelIndex.from_problem(problem)
    start = solve_problem(problem, SolverOptions(mip_gap=0.5, threads=1)).solution
    start = dataclasses.replace(start, modules=np.where(start.open > 0, problem.max_modules, 0).astype(float))
    form = build_standard_form(problem, index)
    found = restricted_solve(form, problem, index, start, np.zeros(problem.n_options, bool), 60.0, never)
    assert (found.open > 0.5).tolist() == (start.open > 0.5).tolist()
    restriction = Restriction.of(problem, start.open > 0.5)
    sub = dataclasses.replace(restriction.problem, forced=np.ones(restriction.problem.n_options, dtype=bool))
    assert solution_cost(problem, index, found) == pytest.approx(highs_optimum(sub), rel=1e-6)
    assert solution_cost(problem, index, found) <= solution_cost(problem, index, start) * (1 + 1e-9)


@pytest.mark.parametrize("seed, capacitated, binding", CASES)
def test_the_search_returns_only_cheaper_feasible_networks(seed, capacitated, binding):
    problem = service_problem(seed, capacitated, binding)
    index = ModelIndex.from_problem(problem)
    start = start_network(problem, index)
    found = fix_and_optimise(build_standard_form(problem, index), problem, index, start, never, None, seed)
    start_cost, optimum = solution_cost(problem, index, start), highs_optimum(problem)
    assert start_cost > optimum * (1 + 1e-6)  # else the case tests nothing
    assert found is not None
    assert satisfies_coupling(problem, index, found)
    assert_meets_service(problem, index, found)
    assert optimum * (1 - 1e-9) - 1e-9 <= solution_cost(problem, index, found) < start_cost


def test_the_search_stops_when_asked():
    problem = service_problem(1, True, True)
    index = ModelIndex.from_problem(problem)
    start = start_network(problem, index)
    assert fix_and_optimise(build_standard_form(problem, index), problem, index, start, lambda: True, None) is None
