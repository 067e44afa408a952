"""The drop-and-repair search for service levels (``planner.solver.service_search``): on a
hand-built line where every single-option move from a network with a large central site is
infeasible or dearer, it finds the optimum (checked by enumerating every open set); on the seeded
instances of the presolve's service tests every network it returns meets the service level and the
other coupling rows, costs no more than where it started and no less than HiGHS's optimum. The
cost-first start (the network found without the levels, repaired by coverage) meets every level, and
where the levels do not bind it is the cost-only network itself."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from planner.model import ModelIndex
from planner.solver.heuristic import (
    FlowLP,
    add_moves,
    drop_moves,
    flows_for_open_set,
    incumbent_from_values,
    local_search,
    satisfies_coupling,
    solution_cost,
    swap_moves,
)
from planner.solver.lagrangian import lagrangian_bound
from planner.solver.service_search import cost_first_cover, cover_repair, drop_and_repair
from tests.builders import dense_problem
from tests.test_presolve_service import CASES, assert_meets_service, highs_optimum, service_problem

# A line: regions A at 0 km, B at 100 km, C at 160 km (10 units each); sites s0 at 0, s100 at 100,
# s160 at 160 (opening 12 each) and a large site at 130 (opening 30), the only one within 30 km of
# both B and C. Every unit delivered within 30 km (share 1.0).
LINE_REGIONS_KM = np.array([0.0, 100.0, 160.0])
LINE_SITES_KM = np.array([0.0, 100.0, 160.0, 130.0])
LINE_OPENING = [12.0, 12.0, 12.0, 30.0]
LINE_SERVICE_KM = 30.0
S0, S100, S160, LARGE = range(4)


def line_problem():
    distance = np.abs(LINE_SITES_KM[:, None] - LINE_REGIONS_KM[None, :])
    problem = dense_problem(
        demand=[10.0, 10.0, 10.0], opening_cost=LINE_OPENING, capacity=np.full(4, np.inf),
        unit_cost=1.0 + 0.01 * distance, arc_distance_km=distance.ravel(),
    )
    return dataclasses.replace(problem, service_share=np.array([1.0]), service_km=np.array([LINE_SERVICE_KM]))


def enumerated_optimum(problem, index) -> tuple[float, frozenset]:
    """The cheapest feasible open set by trying every one (uncapacitated: its flows are exact)."""
    best = (np.inf, frozenset())
    for size in range(1, problem.n_options + 1):
        for chosen in itertools.combinations(range(problem.n_options), size):
            opened = np.zeros(problem.n_options, dtype=bool)
            opened[list(chosen)] = True
            solution = flows_for_open_set(problem, index, opened)
            if solution is not None and satisfies_coupling(problem, index, solution):
                best = min(best, (solution_cost(problem, index, solution), frozenset(chosen)), key=lambda b: b[0])
    return best


def network(problem, index, options) -> object:
    opened = np.zeros(problem.n_options, dtype=bool)
    opened[list(options)] = True
    return flows_for_open_set(problem, index, opened)


def test_the_line_traps_single_moves_and_drop_and_repair_leaves_the_trap():
    problem = line_problem()
    index = ModelIndex.from_problem(problem)
    optimum, optimal_set = enumerated_optimum(problem, index)
    assert optimal_set == {S0, S100, S160}  # by hand: 36 + 30 units at unit cost 1 = 66
    assert optimum == pytest.approx(66.0)
    start = network(problem, index, [S0, LARGE])  # 42 + 10 + 20 × 1.3 = 78
    assert solution_cost(problem, index, start) == pytest.approx(78.0)
    values = np.zeros(problem.n_options)
    trapped = start
    for moves in (drop_moves, add_moves, swap_moves):
        trapped = local_search(problem, index, trapped, values, moves, 10.0, FlowLP(problem, index))
    assert solution_cost(problem, index, trapped) == pytest.approx(78.0)  # no single move pays
    found = drop_and_repair(problem, index, start, values, time_limit_s=10.0)
    assert set(np.flatnonzero(found.open).tolist()) == optimal_set
    assert solution_cost(problem, index, found) == pytest.approx(optimum)


def test_cover_repair_never_opens_the_banned_option():
    """Without the large site, the repair of {s0} must open s100 and s160."""
    problem = line_problem()
    index = ModelIndex.from_problem(problem)
    opened = np.array([True, False, False, False])
    banned = np.array([False, False, False, True])
    repaired = cover_repair(problem, index, opened, banned, FlowLP(problem, index))
    assert set(np.flatnonzero(repaired.open).tolist()) == {S0, S100, S160}
    banned[S160] = True  # nothing left that reaches C within 30 km
    assert cover_repair(problem, index, opened, banned, FlowLP(problem, index)) is None


@pytest.mark.parametrize("seed, capacitated, binding", CASES)
def test_drop_and_repair_keeps_every_coupling_row(seed, capacitated, binding):
    problem = service_problem(seed, capacitated, binding)
    index = ModelIndex.from_problem(problem)
    optimum = highs_optimum(problem)
    relaxed = lagrangian_bound(problem, index, upper_bound=None, max_iterations=50)
    starts = [incumbent_from_values(problem, index, relaxed.option_value, time_limit_s=0.0, opened=relaxed.chosen),
              network(problem, index, range(problem.n_options))]
    starts = [s for s in starts if s is not None and satisfies_coupling(problem, index, s)]
    assert starts
    for start in starts:
        found = drop_and_repair(problem, index, start, relaxed.option_value, time_limit_s=5.0)
        assert satisfies_coupling(problem, index, found)
        assert_meets_service(problem, index, found)
        cost = solution_cost(problem, index, found)
        assert optimum * (1 - 1e-9) - 1e-9 <= cost <= solution_cost(problem, index, start) * (1 + 1e-12)


@pytest.mark.parametrize("seed, capacitated, binding", CASES)
def test_the_cost_first_start_meets_the_levels(seed, capacitated, binding):
    problem = service_problem(seed, capacitated, binding)
    index = ModelIndex.from_problem(problem)
    found = cost_first_cover(problem, index, time_limit_s=5.0)
    assert found is not None
    assert satisfies_coupling(problem, index, found)
    assert_meets_service(problem, index, found)
    assert solution_cost(problem, index, found) >= highs_optimum(problem) * (1 - 1e-9) - 1e-9
    if not binding:  # the network found by cost alone already meets a slack level: nothing is added
        cost_only = dataclasses.replace(problem, service_share=np.zeros(problem.n_products))
        relaxed = lagrangian_bound(cost_only, index, upper_bound=None)
        alone = incumbent_from_values(cost_only, index, relaxed.option_value, time_limit_s=1.0, opened=relaxed.chosen)
        assert np.array_equal(found.open > 0, alone.open > 0)


def test_the_cost_first_start_keeps_the_cheap_backbone_on_the_line():
    """Without the level the line's optimum is s100 alone: 12 + 10 × 2 + 10 × 1 + 10 × 1.6 = 58 (by
    hand, and by enumeration); the repair then opens s0 and s160 (only they reach A and C within
    30 km) and so reaches the optimum with the level, {s0, s100, s160} at 66, not the large site."""
    problem = line_problem()
    index = ModelIndex.from_problem(problem)
    cost_only = dataclasses.replace(problem, service_share=np.zeros(1))
    assert enumerated_optimum(cost_only, index) == (pytest.approx(58.0), frozenset({S100}))
    found = cost_first_cover(problem, index, time_limit_s=5.0)
    assert found is not None and satisfies_coupling(problem, index, found)
    assert set(np.flatnonzero(found.open).tolist()) == {S0, S100, S160}
    assert solution_cost(problem, index, found) == pytest.approx(66.0)
