"""The radius formulation (``planner.solver.radius``) on seeded tiny UFL and p-median instances:
equal to brute force over every open set and to the standard formulation (``solve_problem``), a
valid LP bound, the rounds of the truncated relaxation, the audit of its solution, and the rule of
when it applies."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from planner.errors import InfeasibleError
from planner.model.index import ModelIndex
from planner.pipeline import audited_solution, solve_problem
from planner.problem import ARC_FIELDS
from planner.solver.outcome import SolverOptions, Status
from planner.solver.radius import (
    applies,
    open_set_cost,
    pair_levels,
    preferred,
    proven_caps,
    radius_lp_bound,
    solve_radius,
)
from planner.timing import Timing
from tests.builders import dense_problem

EXACT = SolverOptions(mip_gap=1e-9, quiet=True)


def random_uncapacitated(seed: int, p: int | None = None, penalty: float = np.inf, dense: bool = True):
    """A random tiny UFL (or, with ``p``, p-median: exactly p open, no opening costs) instance; the
    unit cost matrix is returned too, for the brute force. Without ``dense`` about 15 % of the arcs are
    left out."""
    rng = np.random.default_rng(seed)
    n_sites, n_regions = int(rng.integers(3, 8)), int(rng.integers(3, 10))
    unit_cost = rng.integers(1, 30, (n_sites, n_regions)).astype(float)
    if not dense:
        unit_cost[rng.random(unit_cost.shape) < 0.15] = np.inf
        unit_cost[rng.integers(n_sites, size=n_regions), np.arange(n_regions)] = rng.integers(1, 30, n_regions)
    opening = np.zeros(n_sites) if p is not None else rng.integers(0, 60, n_sites).astype(float)
    counts = {} if p is None else {"min_facilities": p, "max_facilities": p}
    problem = dense_problem(rng.integers(1, 6, n_regions), opening, np.full(n_sites, np.inf),
                            np.where(np.isfinite(unit_cost), unit_cost, 0.0), penalty=penalty, **counts)
    keep = np.isfinite(unit_cost[problem.arc_option, problem.arc_region])
    arcs = {name: getattr(problem, name)[keep] for name in ARC_FIELDS}
    return dataclasses.replace(problem, **arcs), unit_cost


def brute_force(problem, unit_cost: np.ndarray) -> float | None:
    """Least cost over every open set (of size p under a facility count): each region served by its
    cheapest open site, or unmet at the penalty where that is cheaper; None when nothing is feasible."""
    demand, penalty = problem.demand[:, 0], problem.unmet_penalty[0]
    low, high = problem.min_facilities, problem.max_facilities or problem.n_options
    best = None
    for chosen in itertools.product((0, 1), repeat=problem.n_options):
        chosen = np.array(chosen, dtype=bool)
        if not low <= chosen.sum() <= high or (problem.forced & ~chosen).any():
            continue
        nearest = np.min(np.where(chosen[:, None], unit_cost, np.inf), axis=0)
        per_unit = np.minimum(nearest, penalty)
        if not np.isfinite(per_unit).all():
            continue
        cost = problem.opening_cost @ chosen + demand @ per_unit
        best = cost if best is None else min(best, cost)
    return best


@pytest.mark.parametrize("form", ["chain", "cover"])
@pytest.mark.parametrize("seed", range(6))
def test_ufl_equals_brute_force_and_the_standard_formulation(seed, form):
    problem, unit_cost = random_uncapacitated(seed, penalty=np.inf if seed % 2 else 20.0, dense=seed < 3)
    expected = brute_force(problem, unit_cost)
    report, solution = solve_radius(problem, EXACT, form=form)
    assert report.status is Status.OPTIMAL
    assert report.objective == pytest.approx(expected, abs=1e-6)
    assert report.best_bound <= report.objective + 1e-6
    assert solve_problem(problem, EXACT).report.objective == pytest.approx(expected, abs=1e-6)
    assert open_set_cost(problem, ModelIndex.from_problem(problem), solution.open) == pytest.approx(expected)


@pytest.mark.parametrize("form", ["chain", "cover"])
@pytest.mark.parametrize("seed", range(6))
def test_p_median_equals_brute_force_and_the_standard_formulation(seed, form):
    rng = np.random.default_rng(100 + seed)
    problem, unit_cost = random_uncapacitated(100 + seed, p=int(rng.integers(1, 4)))
    expected = brute_force(problem, unit_cost)
    report, solution = solve_radius(problem, EXACT, form=form)
    assert report.objective == pytest.approx(expected, abs=1e-6)
    assert solution.open.sum() == problem.max_facilities
    assert solve_problem(problem, EXACT).report.objective == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_truncated_levels_are_extended_until_every_pair_is_covered(seed):
    """One level per pair at first: a relaxation whose optimum leaves pairs uncovered, so rounds follow."""
    problem, unit_cost = random_uncapacitated(200 + seed, p=2)
    report, _ = solve_radius(problem, EXACT, first_levels=1)
    assert report.status is Status.OPTIMAL
    assert "1 rounds" not in report.solver  # "HiGHS … (radius formulation, N rounds)"
    assert report.objective == pytest.approx(brute_force(problem, unit_cost), abs=1e-6)
    assert report.best_bound == pytest.approx(report.objective, abs=1e-6)


def test_the_lp_bound_is_valid_and_the_chain_is_at_least_as_tight():
    for seed in range(5):
        problem, unit_cost = random_uncapacitated(300 + seed, p=2 if seed % 2 else None)
        optimum = brute_force(problem, unit_cost)
        chain, cover = radius_lp_bound(problem, form="chain"), radius_lp_bound(problem, form="cover")
        assert cover <= chain + 1e-7 <= optimum + 2e-7


def test_the_solution_passes_the_independent_audit():
    problem, _ = random_uncapacitated(7, penalty=15.0, dense=False)
    index = ModelIndex.from_problem(problem)
    report, solution = solve_radius(problem, EXACT, index=index)
    run = audited_solution(problem, index, solution, report, Timing())
    assert run.audit.passed


def test_ufl_cap_drops_levels_no_optimal_solution_needs():
    """Region 0 can be served for 1/unit from site 0 (opening 10, demand 10): no optimum pays more than
    1 + 10/10 = 2 per unit there, so its levels 5 and 9 are never needed."""
    problem = dense_problem([10, 1], [10, 0], [np.inf, np.inf], [[1, 9], [5, 9]])
    index = ModelIndex.from_problem(problem)
    assert proven_caps(problem, index).tolist() == [2.0, 9.0]
    report, solution = solve_radius(problem, EXACT)
    assert report.objective == 10 + 10 * 1 + 9
    assert solution.open.tolist() == [1, 0]


def test_forced_option_caps_the_levels():
    problem = dense_problem([1, 1], [0, 0], [np.inf, np.inf], [[4, 1], [2, 3]], max_facilities=1,
                            forced=np.array([False, True]))
    index = ModelIndex.from_problem(problem)
    assert proven_caps(problem, index).tolist() == [2.0, 3.0]
    report, solution = solve_radius(problem, EXACT)
    assert report.objective == 5 and solution.open.tolist() == [0, 1]


def test_levels_are_the_distinct_costs_below_the_penalty():
    problem = dense_problem([1, 1], [0, 0, 0], [np.inf] * 3, [[3, 7], [3, 2], [9, 2]], penalty=8.0)
    levels = pair_levels(problem, ModelIndex.from_problem(problem))
    assert levels.cost.tolist() == [3, 2, 7]  # pair 0: 3 (twice) and 9 ≥ 8 dropped; pair 1: 2 (twice), 7
    assert levels.next_cost.tolist() == [8, 7, 8]
    assert levels.count.tolist() == [1, 2]


def test_a_pair_no_option_reaches_is_infeasible():
    problem, _ = random_uncapacitated(3, dense=False)
    stranded = problem.arc_region != 0
    arcs = {name: getattr(problem, name)[stranded] for name in ARC_FIELDS}
    with pytest.raises(InfeasibleError, match="no facility option reaches it"):
        solve_radius(dataclasses.replace(problem, **arcs), EXACT)


def test_applies_only_where_the_flows_are_uncoupled():
    uncapacitated = dense_problem([5, 5], [1, 1], [np.inf, np.inf], [[1, 2], [2, 1]])
    assert applies(uncapacitated)
    assert applies(dataclasses.replace(uncapacitated, module_capacity=np.array([10.0, 10.0])))  # ≥ all demand
    assert applies(dataclasses.replace(uncapacitated, single_sourcing=True, max_facilities=1))
    capacitated = dataclasses.replace(uncapacitated, module_capacity=np.array([6.0, 6.0]))
    assert not applies(capacitated)
    assert not applies(dataclasses.replace(uncapacitated, max_modules=np.array([2, 1])))
    assert not applies(dataclasses.replace(uncapacitated, setup_cost=np.array([[1.0], [0.0]])))
    assert not applies(dataclasses.replace(uncapacitated, co2_cap_t=5.0))
    assert not applies(dataclasses.replace(uncapacitated, max_unmet=np.array([1.0])))
    with pytest.raises(ValueError, match="does not apply"):
        solve_radius(capacitated, EXACT)


def test_preferred_where_a_facility_limit_opens_one_option_in_ten():
    pmedian = dense_problem(np.ones(3), np.zeros(40), np.full(40, np.inf), np.ones((40, 3)), max_facilities=4)
    assert preferred(pmedian)
    assert not preferred(dataclasses.replace(pmedian, max_facilities=3))  # 13 options per median
    assert not preferred(dataclasses.replace(pmedian, max_facilities=None))  # UFL: the LP gap decides
    assert not preferred(dataclasses.replace(pmedian, module_capacity=np.full(40, 1.0)))  # does not apply
