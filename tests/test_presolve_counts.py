"""The presolve with limits on facility counts (``min_facilities``, ``max_facilities``, a type's
``min_count`` and ``max_count``): the relaxation's option choice within the limits against
enumeration, and the whole route (bound, fixings, incumbent) against HiGHS alone on the same model."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from planner.errors import InfeasibleError
from planner.inputs.screen import screen_problem
from planner.model import ModelIndex
from planner.pipeline import solve_problem
from planner.problem import Problem
from planner.solver import SolverOptions
from planner.solver.heuristic import satisfies_coupling
from planner.solver.lagrangian import CapacityCover, counted_choice, fixable_options
from planner.solver.presolve import lagrangian_presolve, presolve_applies
from tests.builders import dense_problem
from tests.marks import some_slow

EXACT = SolverOptions(mip_gap=1e-9, presolve_min_arcs=10**9, formulation="standard")  # HiGHS alone
WITH_PRESOLVE = SolverOptions(mip_gap=1e-9, presolve_min_arcs=0, formulation="standard")


def two_type_problem(seed: int, n_sites: int = 6, n_regions: int = 12, max_facilities: int | None = 3,
                     max_micro: int | None = None, penalty: float = 80.0) -> Problem:
    """Every site may host a large plant (type 0, 1–2 modules) or a microfactory (type 1, 1–3 small
    modules), one per site; unit cost 10 + 0.2/km at a plant, 14 + 0.05/km at a microfactory."""
    rng = np.random.default_rng(seed)
    sites, regions = rng.uniform(0, 100, (n_sites, 2)), rng.uniform(0, 100, (n_regions, 2))
    demand = rng.integers(5, 30, n_regions).astype(float)
    km = np.linalg.norm(sites[:, None, :] - regions[None, :, :], axis=2)
    option_site = np.tile(np.arange(n_sites), 2)
    option_type = np.repeat([0, 1], n_sites)
    site, region = np.repeat(np.arange(2 * n_sites), n_regions), np.tile(np.arange(n_regions), 2 * n_sites)
    is_plant = option_type[site] == 0
    unit = np.where(is_plant, 10 + 0.2 * km[option_site[site], region], 14 + 0.05 * km[option_site[site], region])
    total = demand.sum()
    return dense_problem(
        demand, opening_cost=np.concatenate([rng.uniform(300, 500, n_sites), rng.uniform(60, 120, n_sites)]),
        capacity=np.concatenate([np.full(n_sites, 0.4 * total), np.full(n_sites, 0.08 * total)]),
        unit_cost=unit.reshape(2 * n_sites, n_regions), penalty=penalty,
        type_ids=("plant", "micro"), option_site=option_site, option_type=option_type,
        site_ids=np.array([f"s{i}" for i in range(n_sites)], dtype=object),
        module_cost=np.concatenate([np.full(n_sites, 150.0), np.full(n_sites, 25.0)]),
        min_modules=np.ones(2 * n_sites, dtype=int),
        max_modules=np.concatenate([np.full(n_sites, 2), np.full(n_sites, 3)]),
        max_facilities=max_facilities,
        type_max_count=np.array([n_sites, n_sites if max_micro is None else max_micro]),
    )


def best_choice_by_enumeration(problem: Problem, values: np.ndarray, fixed_in: np.ndarray) -> float:
    """Least Σ v over the free options of every set holding ``fixed_in`` within the limits."""
    best = np.inf
    for picked in itertools.product([False, True], repeat=problem.n_options):
        chosen = np.array(picked) | fixed_in
        per_type = np.bincount(problem.option_type[chosen], minlength=len(problem.type_ids))
        if (per_type > problem.type_max_count).any() or (per_type < problem.type_min_count).any():
            continue
        if problem.max_facilities is not None and chosen.sum() > problem.max_facilities:
            continue
        if chosen.sum() < problem.min_facilities:
            continue
        best = min(best, float(values[chosen & ~problem.forced].sum()))
    return best


@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("seed", range(30))
def test_the_counted_choice_is_the_least_within_the_limits(seed, lower):
    """Random values (some positive), three types, random limits (``lower``: lower ones too, some of
    them out of reach), a forced option or two: the greedy choice equals enumeration of every set of
    ten options, and it is None exactly where no set keeps within the limits (min_facilities is cut to
    max_facilities: a Problem refuses a lower limit above the upper one)."""
    rng = np.random.default_rng(seed)
    n = 10
    type_max_count = rng.integers(1, 5, 3)
    option_type, max_facilities = rng.integers(0, 3, n), int(rng.integers(2, 7))
    type_min_count = rng.integers(0, type_max_count + 1) if lower else np.zeros(3, dtype=int)
    problem = dense_problem(
        np.ones(2), np.zeros(n), np.full(n, np.inf), np.ones((n, 2)),
        type_ids=("a", "b", "c"), option_type=option_type,
        type_max_count=type_max_count, max_facilities=max_facilities, type_min_count=type_min_count,
        min_facilities=min(int(rng.integers(0, 7)), max_facilities) if lower else 0,
        forced=rng.random(n) < 0.15,
    )
    values = rng.normal(-1.0, 2.0, n)
    fixed_in = problem.forced.copy()
    chosen = counted_choice(problem, values, fixed_in, np.ones(n, dtype=bool))
    expected = best_choice_by_enumeration(problem, values, fixed_in)
    if not np.isfinite(expected):
        assert chosen is None
    else:
        assert float(values[chosen & ~problem.forced].sum()) == pytest.approx(expected)


@pytest.mark.parametrize("seed", some_slow(range(5), fast=1))
@pytest.mark.parametrize(("max_facilities", "max_micro"), [(2, None), (None, 2), (3, 1)])
def test_the_presolve_under_count_limits_ends_at_highs_optimum(seed, max_facilities, max_micro):
    """Bound below and incumbent above HiGHS's optimum; the whole route (fixings included) reaches it."""
    problem = two_type_problem(seed, max_facilities=max_facilities, max_micro=max_micro)
    found = presolve_then_route_match_highs(problem)
    if found.incumbent is not None:
        assert found.incumbent.open.sum() <= (max_facilities or problem.n_options)


@pytest.mark.parametrize("seed", some_slow(range(5), fast=1))
@pytest.mark.parametrize(("min_facilities", "min_plants", "max_facilities"), [(6, 0, None), (0, 2, None), (5, 2, 5)])
def test_the_presolve_under_lower_count_limits_ends_at_highs_optimum(seed, min_facilities, min_plants, max_facilities):
    """Lower limits that bind (the optimum opens one plant and few sites): the bound below and the
    incumbent above HiGHS's optimum, within the limits; the whole route reaches it."""
    problem = dataclasses.replace(
        two_type_problem(seed, max_facilities=max_facilities), min_facilities=min_facilities,
        type_min_count=np.array([min_plants, 0]),
    )
    found = presolve_then_route_match_highs(problem)
    assert found.incumbent is not None
    is_open = found.incumbent.open > 0
    assert is_open.sum() >= min_facilities and (problem.option_type[is_open] == 0).sum() >= min_plants


def presolve_then_route_match_highs(problem: Problem):
    """Assert the presolve's bound is below HiGHS's optimum, its incumbent (if any) above it and
    feasible, and the whole route (fixings and start included) reaches it; the presolve's result."""
    assert presolve_applies(problem, WITH_PRESOLVE)
    optimum = solve_problem(problem, EXACT).report.objective
    index = ModelIndex.from_problem(problem)
    found = lagrangian_presolve(problem, index, WITH_PRESOLVE)
    assert found.bound <= optimum * (1 + 1e-9)
    if found.incumbent is not None:
        assert found.incumbent_cost >= optimum * (1 - 1e-9)
        assert satisfies_coupling(problem, index, found.incumbent)
    run = solve_problem(problem, WITH_PRESOLVE)
    assert run.report.objective == pytest.approx(optimum, rel=1e-7)
    assert run.audit.passed
    return found


def test_a_closed_option_is_not_fixed_open_when_another_can_take_its_place():
    """At most one facility: the chosen option (v = −5) may be replaced by the next (v = −4), so the
    relaxation without it is L + 1, not L + 5; with U = L + 2 nothing is fixed open."""
    problem = dense_problem(np.ones(2), np.zeros(3), np.full(3, np.inf), np.ones((3, 2)), max_facilities=1)
    cover = CapacityCover(problem, ModelIndex.from_problem(problem))
    values = np.array([-5.0, -4.0, 3.0])
    fix_closed, fix_open = fixable_options(problem, 10.0, values, 12.0, cover)
    assert not fix_open.any()
    assert fix_closed.tolist() == [False, False, True]  # L + 3 + 5 (it must replace the chosen one) > 12
    simple = dataclasses.replace(problem, max_facilities=None)
    _, fix_open_unlimited = fixable_options(simple, 10.0, values, 12.0, CapacityCover(
        simple, ModelIndex.from_problem(simple)))
    assert fix_open_unlimited.tolist() == [True, True, False]


def test_an_option_chosen_to_meet_a_lower_limit_is_not_fixed_closed():
    """At least two facilities: the relaxation takes v = −5 and, to meet the limit, v = 3 (L = 10
    counts both). The plain rule L + v_o > U would fix the second closed (13 > 12) though it is in the
    relaxation's choice; the exact one re-chooses: with option 2 forced in, {0, 2} gives L + 1 = 11
    (not fixed); without option 0, {1, 2} gives L + 9 = 19 (fixed open). Without the choice (``cover``
    None, the plain rules) nothing is fixed."""
    problem = dense_problem(np.ones(2), np.zeros(3), np.full(3, np.inf), np.ones((3, 2)), min_facilities=2)
    cover = CapacityCover(problem, ModelIndex.from_problem(problem))
    values = np.array([-5.0, 3.0, 4.0])
    assert cover.choose(values)[0] == pytest.approx(-2.0)
    fix_closed, fix_open = fixable_options(problem, 10.0, values, 12.0, cover)
    assert fix_closed.tolist() == [False, False, False] and fix_open.tolist() == [True, False, False]
    fix_closed, fix_open = fixable_options(problem, 10.0, values, 12.0, None)
    assert not fix_closed.any() and not fix_open.any()


@pytest.mark.parametrize(("min_counts", "max_facilities", "fragment"), [
    ((4, 4), None, "their min_count add up to 8 but only 6 candidate sites can host them"),
    ((3, 3), 5, "need at least 6 facilities but network.max_facilities is 5"),
    ((0, 4), 3, "need at least 4 facilities but network.max_facilities is 3"),
])
def test_type_minimums_that_cannot_hold_together_are_explained_before_solving(min_counts, max_facilities, fragment):
    """Six sites, each may host a plant or a microfactory (one type per site)."""
    problem = dataclasses.replace(two_type_problem(0, max_facilities=max_facilities),
                                  type_min_count=np.array(min_counts))
    with pytest.raises(InfeasibleError, match=fragment):
        screen_problem(problem)


def test_type_minimums_that_just_fit_are_solved():
    """Three plants and three microfactories on six sites: feasible (Hall's condition is sufficient),
    and the optimum opens every site."""
    problem = dataclasses.replace(two_type_problem(0, max_facilities=None), type_min_count=np.array([3, 3]))
    screen_problem(problem)
    run = solve_problem(problem, WITH_PRESOLVE)
    assert run.audit.passed and run.solution.open.sum() == 6
    assert run.report.objective == pytest.approx(solve_problem(problem, EXACT).report.objective, rel=1e-7)


def test_a_type_minimum_on_sites_forced_as_another_type_is_explained():
    """Site 0 is forced open as a plant, so microfactories can open on the other five sites only: a
    microfactory min_count of 6 cannot hold (six microfactory options, one per site)."""
    problem = two_type_problem(0, max_facilities=None)
    forced = np.zeros(problem.n_options, dtype=bool)
    forced[0] = True
    problem = dataclasses.replace(problem, forced=forced, type_min_count=np.array([0, 6]))
    with pytest.raises(InfeasibleError, match="facility type 'micro': min_count 6 but only 5 candidate sites"):
        screen_problem(problem)


def test_more_sites_forced_than_a_type_may_open_name_the_key_and_the_fix():
    problem = two_type_problem(0, max_facilities=None)
    forced = np.zeros(problem.n_options, dtype=bool)
    forced[:3] = True  # three plants
    problem = dataclasses.replace(problem, forced=forced, type_max_count=np.array([2, 6]))
    with pytest.raises(InfeasibleError, match=r"facility type 'plant': 3 sites are forced open as it \(the sites "
                                              r"file's forced or existing column\) but facility_types.plant.max_count "
                                              r"is 2; raise max_count or force fewer sites"):
        screen_problem(problem)


def test_the_plain_fixing_rule_does_not_close_an_option_the_capacity_cover_needs(monkeypatch):
    """Demand 10 must be served; capacities 10, 5, 5 (the cover is active). The cover takes option 0
    (v = 3 against 4 + 4): with it the relaxation is 10, without it 15 > U = 12.5, so it must stay open;
    the plain rule L + v_o > U (used above MAX_COVER_FIXING_OPTIONS options) would close it."""
    import planner.solver.lagrangian as lagrangian

    problem = dense_problem(np.array([5.0, 5.0]), np.zeros(3), np.array([10.0, 5.0, 5.0]), np.ones((3, 2)))
    cover = CapacityCover(problem, ModelIndex.from_problem(problem))
    assert cover.active
    values = np.array([3.0, 4.0, 4.0])
    fix_closed, fix_open = fixable_options(problem, 10.0, values, 12.5, cover)
    assert fix_open.tolist() == [True, False, False] and fix_closed.tolist() == [False, True, True]
    monkeypatch.setattr(lagrangian, "MAX_COVER_FIXING_OPTIONS", 2)
    fix_closed, _ = fixable_options(problem, 10.0, values, 12.5, cover)
    assert not fix_closed.any()


def test_a_capacity_near_a_whole_number_is_not_rounded_in_the_cover():
    """Capacity 1,000,000.4 against a need of 1,000,000.2: rounded down it would seem to need two
    options; the cover is off instead (its choice is then the options with v < 0, a valid bound)."""
    problem = dense_problem(np.array([500_000.1, 500_000.1]), np.zeros(3),
                            np.array([1_000_000.4, 1_000_000.0, 1_000_000.0]), np.ones((3, 2)))
    cover = CapacityCover(problem, ModelIndex.from_problem(problem))
    assert not cover.active
    assert cover.choose(np.array([1.0, 1.0, 1.0]))[0] <= 1.0
