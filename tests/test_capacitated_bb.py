"""The capacitated Lagrangian branch-and-bound (``planner.solver.capacitated_bb``) on seeded tiny
capacitated instances: equal to brute force over every open set (tight and loose capacity, integer
and fractional capacities, unmet penalties, forced sites), a valid bound at every stop, exact
covering knapsack and penalty tests against enumeration, and chosen by the engine where it applies
(audited there)."""

from __future__ import annotations

import dataclasses
import itertools
import math
import time

import numpy as np
import pytest

from planner.model.index import ModelIndex
from planner.pipeline import solve_problem
from planner.solver.capacitated_bb import (
    CoverKnapsack,
    Deadline,
    DenseCapacitated,
    Evaluation,
    Node,
    Relaxation,
    applies,
    flipped_bounds,
    solve_capacitated_bb,
)
from planner.solver.outcome import SolverOptions, Status
from planner.timing import Timing
from tests.brute import flow_lp
from tests.builders import dense_problem
from tests.marks import some_slow

EXACT = SolverOptions(mip_gap=1e-9, quiet=True)


def random_capacitated(seed: int, *, ratio: float, n_sites: int = 7, n_regions: int = 14, penalty=np.inf,
                       integral: bool = False, forced: bool = False):
    """Sites and regions on the unit square, costs by distance, total capacity ``ratio`` × demand."""
    rng = np.random.default_rng(seed)
    sites, regions = rng.random((n_sites, 2)), rng.random((n_regions, 2))
    demand = rng.integers(5, 36, n_regions).astype(float)
    unit_cost = 10 * np.linalg.norm(sites[:, None, :] - regions[None, :, :], axis=2)
    capacity = rng.uniform(10, 160, n_sites)
    capacity *= ratio * demand.sum() / capacity.sum()
    if integral:
        capacity = np.ceil(capacity / 10) * 10
    opening = rng.uniform(0, 90, n_sites) + rng.uniform(100, 110, n_sites) * np.sqrt(capacity)
    problem = dense_problem(demand, opening, capacity, unit_cost, penalty=penalty)
    if forced:
        problem = dataclasses.replace(problem, forced=np.arange(n_sites) == int(rng.integers(n_sites)))
    return problem


def enumerated(problem) -> float:
    """Least cost over every open set that holds the forced sites (flows by ``tests.brute.flow_lp``);
    demand that must be served priced far above any route instead (every instance here has the
    capacity for all of it)."""
    if np.isinf(problem.unmet_penalty).all():
        problem = dataclasses.replace(problem, unmet_penalty=np.full_like(problem.unmet_penalty, 1e6))
    best = math.inf
    for opened in itertools.product([False, True], repeat=problem.n_options):
        opened = np.array(opened)
        value = flow_lp(problem, opened) if (opened >= problem.forced).all() else None
        if value is not None:
            best = min(best, value + problem.opening_cost[opened].sum())
    return best


def solved(problem, options=EXACT):
    found = solve_capacitated_bb(problem, ModelIndex.from_problem(problem), options)
    assert found is not None
    report, solution, proven = found
    assert proven and report.status is Status.OPTIMAL
    assert report.best_bound <= report.objective + 1e-9 * max(abs(report.objective), 1.0)
    return report, solution


@pytest.mark.parametrize(("seed", "ratio"), some_slow(list(itertools.product(range(6), (1.3, 2.0, 4.0))), 4))
def test_equals_brute_force(seed, ratio):
    problem = random_capacitated(seed, ratio=ratio, integral=seed % 2 == 0, forced=seed % 3 == 1)
    assert applies(problem, True)
    report, _ = solved(problem)
    assert report.objective == pytest.approx(enumerated(problem), rel=1e-7)


@pytest.mark.parametrize("seed", some_slow(range(6), 2))
def test_unmet_penalties_equal_brute_force(seed):
    problem = random_capacitated(seed, ratio=0.8 + 0.3 * seed, penalty=4.0 + seed)
    report, _ = solved(problem)
    assert report.objective == pytest.approx(enumerated(problem), rel=1e-7)


@pytest.mark.slow  # in the whole suite only: the fast subset measured 193.6 s on a slow day
@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow), pytest.param(2, marks=pytest.mark.slow)])
def test_a_stopped_search_reports_a_valid_bound(seed):
    problem = random_capacitated(seed, ratio=1.5, n_sites=9, n_regions=24)
    optimum = enumerated(problem)
    options = SolverOptions(mip_gap=1e-9, quiet=True, time_limit_s=1e-6)  # the root only
    report, solution, proven = solve_capacitated_bb(problem, ModelIndex.from_problem(problem), options)
    assert report.best_bound <= optimum + 1e-7 * optimum
    assert report.objective >= optimum - 1e-7 * optimum
    if not proven:
        assert report.status is Status.TIME_LIMIT


def cover_by_enumeration(capacity, need, values, fixing):
    """The least Σ v over the free options, every fixed-open one in, holding ``need`` with the real
    capacities (∞ when none does)."""
    best = math.inf
    free = np.flatnonzero(fixing == -1)
    for picked in itertools.product([0, 1], repeat=len(free)):
        chosen = fixing == 1
        chosen[free[np.array(picked, dtype=bool)]] = True
        if capacity[chosen].sum() >= need:
            best = min(best, values[chosen].sum())
    return best


@pytest.mark.parametrize("seed", range(40))
def test_the_covering_knapsack_is_a_relaxation_and_exact_on_whole_steps(seed):
    rng = np.random.default_rng(seed)
    n = 8
    integral = seed % 2 == 0
    capacity = rng.integers(1, 30, n).astype(float) * (10 if integral else 1) + (0 if integral else rng.random(n))
    need = float(rng.uniform(0.2, 0.9) * capacity.sum())
    values = rng.normal(0, 10, n)
    fixing = rng.choice([-1, -1, -1, 0, 1], n).astype(np.int8)
    cover = CoverKnapsack(capacity, need)
    value, chosen = cover.choose(values, fixing)
    truth = cover_by_enumeration(capacity, need, values, fixing)
    assert value <= truth + 1e-9
    if integral:  # whole steps: exact
        assert value == pytest.approx(truth)
    if math.isfinite(value):
        assert (chosen[fixing == 1]).all() and not chosen[fixing == 0].any()
        assert values[chosen].sum() == pytest.approx(value)
        assert cover.units[chosen].sum() * cover.step >= need - 1e-6 * need


@pytest.mark.parametrize("seed", range(30))
def test_flipped_bounds_never_exceed_the_relaxation_with_the_option_flipped(seed):
    rng = np.random.default_rng(100 + seed)
    problem = random_capacitated(seed, ratio=float(rng.uniform(1.2, 3.0)), integral=seed % 3 == 0)
    costs = DenseCapacitated.of(problem, ModelIndex.from_problem(problem))
    relaxation = Relaxation(costs)
    multipliers = np.min(costs.cost, axis=0) * rng.uniform(0.8, 2.5, costs.cost.shape[1])
    fixing = rng.choice([-1, -1, -1, 0, 1], problem.n_options).astype(np.int8)
    evaluation: Evaluation = relaxation.evaluate(multipliers, fixing)
    if not math.isfinite(evaluation.bound):
        return
    node = Node(fixing, evaluation.bound, multipliers)
    flipped = flipped_bounds(relaxation, node, evaluation)
    for option in np.flatnonzero(fixing == -1).tolist():
        forced = fixing.copy()
        forced[option] = 0 if evaluation.chosen[option] else 1
        direct = relaxation.evaluate(multipliers, forced).bound
        assert flipped[option] <= direct + 1e-7 * max(abs(direct), 1.0)
        if not evaluation.chosen[option] and relaxation.cover.mandatory(evaluation.values, fixing)[1] <= 0:
            assert flipped[option] == pytest.approx(direct)  # nothing to cover: exact
    assert np.isnan(flipped[fixing != -1]).all()


def test_the_engine_solves_capacitated_location_with_it_and_audits_the_result():
    problem = random_capacitated(3, ratio=1.6, n_sites=8, n_regions=20)
    options = SolverOptions(mip_gap=1e-9, quiet=True, presolve_min_arcs=0)
    run = solve_problem(problem, options, Timing())
    assert run.report.solver == "planner capacitated Lagrangian branch-and-bound"
    assert run.report.status is Status.OPTIMAL
    assert run.report.objective == pytest.approx(enumerated(problem), rel=1e-7)


def test_it_does_not_apply_with_module_choices_or_outside_the_presolve_shape():
    problem = random_capacitated(0, ratio=2.0)
    assert applies(problem, True)
    assert not applies(problem, False)
    assert not applies(dataclasses.replace(problem, max_modules=problem.max_modules + 1), True)


def test_without_a_time_limit_an_unproven_search_goes_on_by_the_standard_route(monkeypatch):
    """The branch-and-bound stopped at its no-limit budget (here at once, after the root): HiGHS
    finishes from its incumbent, and the optimum and a valid bound come back."""
    import planner.solver.engine as engine

    monkeypatch.setattr(engine, "BB_NO_LIMIT_S", 1e-9)
    problem = random_capacitated(1, ratio=1.4, n_sites=8, n_regions=20)  # not proven at the root
    timing = Timing()
    run = solve_problem(problem, SolverOptions(mip_gap=1e-9, quiet=True, presolve_min_arcs=0), timing)
    optimum = enumerated(problem)
    assert run.report.solver.startswith("HiGHS")
    assert "presolve" not in timing.seconds  # the search's bound and incumbent are better than its
    assert run.audit.passed
    assert run.report.objective == pytest.approx(optimum, rel=1e-7)
    assert run.report.best_bound <= optimum * (1 + 1e-7)


class _Gap:
    """A stand-in for a search: its incumbent's cost, global bound and MIP gap."""

    def __init__(self, gap: float) -> None:
        self.best_cost, self.bound, self.mip_gap = 100.0, 100.0 * (1 - gap), 1e-3

    def global_bound(self) -> float:
        return self.bound


@pytest.mark.parametrize(
    ("elapsed", "gap", "extendable", "stops"),
    [
        (59.0, 0.01, False, False),  # within the limit
        (61.0, 0.00105, False, True),  # a user's limit is never extended
        (61.0, 0.00105, True, False),  # 0.00045 in 11 s: the 0.1 % reached in about 1 s
        (61.0, 0.0015, True, True),  # no progress in the last 11 s
        (61.0, 0.0014, True, True),  # 0.0001 in 11 s: 44 s more, beyond the extension
        (91.0, 0.00105, True, True),  # the extension (half the budget) used up
    ],
)
def test_the_deadline_extends_a_budget_only_while_the_gap_is_about_to_close(elapsed, gap, extendable, stops):
    deadline = Deadline(time.perf_counter() - elapsed, 60.0, extendable, [(40.0, 0.003), (50.0, 0.0015)])
    assert deadline.passed(_Gap(gap)) is stops


@pytest.mark.parametrize(
    ("gap", "extendable", "stops"),
    [
        (0.0100, True, True),  # 1.05 % → 1.00 % in 10 s: 180 s from the 0.1 % at that rate, 60 s left
        (0.0012, True, False),  # 1.05 % → 0.12 % in 10 s: it closes in time
        (0.0100, False, False),  # a user's limit: the search has all of it
    ],
)
def test_a_budget_is_handed_over_early_where_the_gap_will_not_close_in_time(gap, extendable, stops):
    deadline = Deadline(time.perf_counter() - 30.0, 60.0, extendable, [(19.0, 0.0105), (20.0, 0.0105)])
    assert deadline.passed(_Gap(gap)) is stops
    early = Deadline(time.perf_counter() - 15.0, 60.0, True, [(4.0, 0.5), (5.0, 0.5)])
    assert not early.passed(_Gap(0.5))  # before a third of the budget it always goes on


@pytest.mark.parametrize("seed", range(6))
def test_the_dense_and_the_arc_forms_find_the_same_attractive_arcs(seed):
    """The broadcast over the table (mostly dense tables) and the gather per arc give the same arcs,
    in the same order, with the same reduced costs; missing arcs and options fixed closed left out."""
    rng = np.random.default_rng(seed)
    problem = random_capacitated(seed, ratio=2.0, n_sites=6, n_regions=9)
    costs = DenseCapacitated.of(problem, ModelIndex.from_problem(problem))
    costs.cost[rng.random(costs.cost.shape) < 0.3] = np.inf
    dense, sparse = Relaxation(costs), Relaxation(costs)
    dense.dense, dense.buffer = True, np.empty_like(dense.unit_cost)
    sparse.dense = False
    for _ in range(10):
        price = rng.uniform(0, 15, costs.cost.shape[1])
        allowed = rng.random(costs.cost.shape[0]) < rng.choice([0.2, 0.7])  # a few rows: the row-subset form
        threshold = np.where(rng.random(costs.cost.shape[0]) < 0.5, 0.0, -rng.uniform(0, 5, costs.cost.shape[0]))
        for got, expected in zip(dense.attractive_arcs(price, allowed, threshold),
                                 sparse.attractive_arcs(price, allowed, threshold), strict=True):
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(("seed", "dense"), [(seed, dense) for seed in range(8) for dense in (True, False)])
def test_the_thresholds_kept_across_evaluations_leave_every_knapsack_exact(seed, dense):
    """A relaxation evaluated along a random walk of multipliers and fixings (its thresholds carried
    from one evaluation to the next, some too tight) gives the values, bound and shares of a fresh one
    (every threshold 0: all arcs with a negative reduced cost sorted)."""
    rng = np.random.default_rng(seed)
    problem = random_capacitated(seed, ratio=rng.choice([1.5, 3.0]), n_sites=8, n_regions=30)
    costs = DenseCapacitated.of(problem, ModelIndex.from_problem(problem))
    kept = Relaxation(costs)
    kept.dense, kept.buffer = dense, np.empty_like(kept.unit_cost) if dense else None
    multipliers = costs.cost.min(axis=0) * rng.uniform(1.0, 2.0, costs.cost.shape[1])
    for _ in range(40):
        multipliers = multipliers * rng.uniform(0.8, 1.25, len(multipliers))  # some steps big enough to cross
        fixing = rng.choice(np.array([-1, -1, -1, 0, 1], dtype=np.int8), costs.cost.shape[0])
        fresh = Relaxation(costs)
        for exact in (False, True):
            got, expected = kept.evaluate(multipliers, fixing, exact), fresh.evaluate(multipliers, fixing, exact)
            assert got.bound == pytest.approx(expected.bound, rel=1e-12, abs=1e-9)
            np.testing.assert_allclose(got.values, expected.values, rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(got.subgradient, expected.subgradient, rtol=1e-9, atol=1e-9)


def test_a_search_without_a_network_leaves_highs_only_what_is_left_of_the_limit(monkeypatch):
    """Where the branch-and-bound ends without a network, the standard route gets the time limit less
    what the search spent, not the whole limit again (the solve ended at twice the user's limit)."""
    import planner.solver.engine as engine

    def slow_and_empty(*args, **kwargs):
        time.sleep(0.5)
        return None

    given = []
    monkeypatch.setattr(engine, "solve_capacitated_bb", slow_and_empty)
    monkeypatch.setattr(engine, "solve_shared", slow_and_empty)
    monkeypatch.setattr(engine, "race_applies", lambda *args: False)
    monkeypatch.setattr(engine, "_solve_standard", lambda problem, options, *rest: given.append(options.time_limit_s))
    problem = random_capacitated(1, ratio=1.4, n_sites=8, n_regions=20)
    engine.capacitated_bb_first(problem, SolverOptions(time_limit_s=2.0, quiet=True), ModelIndex.from_problem(problem),
                                None, Timing())
    assert given and given[0] <= 1.55


def test_the_roots_heuristics_keep_to_the_time_limit(monkeypatch):
    """The root's local search and its first flows (one fresh LP) get no time past the limit where the
    search already holds a network (on 200 × 2,000 they had taken 1.2 s of a 0.3 s limit)."""
    import planner.solver.capacitated_bb as capacitated_bb

    problem = random_capacitated(1, ratio=1.4, n_sites=8, n_regions=20)
    _, optimum = solved(problem)
    given = []

    def recorded(*args, **kwargs):
        given.append((time.perf_counter(), kwargs["time_limit_s"], kwargs.get("deadline")))

    monkeypatch.setattr(capacitated_bb, "incumbent_from_values", recorded)
    index = ModelIndex.from_problem(problem)
    started = time.perf_counter()
    capacitated_bb.branch_and_bound(problem, index, capacitated_bb.DenseCapacitated.of(problem, index),
                                    SolverOptions(time_limit_s=0.2, quiet=True), 0.2, start=optimum)
    assert given
    called, seconds, deadline = given[0]
    assert deadline is not None and started < deadline <= called + 0.2  # the search's start plus its limit
    assert called + seconds <= max(deadline, called) + 1e-6


def test_the_roots_subgradient_steps_stop_at_the_time_limit(monkeypatch):
    """The root's subgradient steps (0.8 s of a 0.3 s limit on 200 × 2,000) end at the limit after one
    step; without a limit, or at a later node, they run their count."""
    import planner.solver.capacitated_bb as capacitated_bb

    problem = random_capacitated(1, ratio=1.4, n_sites=8, n_regions=20)
    index = ModelIndex.from_problem(problem)
    costs = DenseCapacitated.of(problem, index)
    relaxation = Relaxation(costs)
    search = capacitated_bb.Search(problem, index, costs, 1e-9, None)
    steps = []
    fractional = relaxation.evaluate
    monkeypatch.setattr(relaxation, "evaluate", lambda *args, exact=True: steps.append(exact) or fractional(
        *args, exact=exact))
    root = capacitated_bb.root_node(problem, index, costs, None)
    capacitated_bb.raise_bound(search, relaxation, root, 30, until=time.perf_counter() - 1.0)
    assert steps.count(False) == 1
    given = []
    raise_bound = capacitated_bb.raise_bound
    monkeypatch.setattr(capacitated_bb, "raise_bound", lambda *args, **kwargs: given.append(
        args[4] if len(args) > 4 else kwargs.get("until", math.inf)) or raise_bound(*args, **kwargs))
    started = time.perf_counter()
    capacitated_bb.branch_and_bound(problem, index, costs, SolverOptions(time_limit_s=0.2, quiet=True), 0.2)
    assert started + 0.2 < given[0] <= time.perf_counter() + 0.2  # the root's: its search's start plus the limit
    assert all(until == math.inf for until in given[1:])
