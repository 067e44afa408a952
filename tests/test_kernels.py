"""The compiled loops of ``planner.solver.kernels`` against the numpy routes they replace and against
plain computations written here. Capacitated: the same option values and the same demand taken per
option, on dense and sparse tables, over sequences of multipliers (the kernel's thresholds carry over
from call to call), with options fixed closed, and with options that have more attractive arcs than
the insertion sort takes; the selection that replaces their sort, with many ties; the fractional
evaluation in one call against the numpy route, with options fixed either way and a cover the
free options cannot make. Uncoupled: the same values, bound, relaxed open set and subgradient, with
arcs missing, ties in cost, options fixed either way and count limits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.solver import kernels, lagrangian_bb
from planner.solver.capacitated_bb import CoverKnapsack, DenseCapacitated, Relaxation

pytestmark = pytest.mark.skipif(kernels._kernel() is None, reason="numba is not available")


def table(seed: int, n_options: int, n_pairs: int, density: float, ratio: float) -> DenseCapacitated:
    """A random capacitated table: costs from distances × demand, ∞ off the ``density`` share of arcs
    (every pair keeps one), capacities ``ratio`` × the demand in all."""
    rng = np.random.default_rng(seed)
    demand = rng.integers(5, 50, n_pairs).astype(float)
    options, pairs = rng.uniform(0, 100, (n_options, 2)), rng.uniform(0, 100, (n_pairs, 2))
    cost = np.linalg.norm(options[:, None, :] - pairs[None, :, :], axis=2) * demand[None, :]
    cost[rng.random(cost.shape) > density] = np.inf
    cost[rng.integers(n_options, size=n_pairs), np.arange(n_pairs)] = 1.0 * demand
    capacity = rng.uniform(0.5, 1.5, n_options) * ratio * demand.sum() / n_options
    return DenseCapacitated(cost, demand, capacity, rng.uniform(100, 500, n_options), np.full(n_pairs, np.inf),
                            float(demand.sum()), np.zeros(n_options, bool))


def greedy_values(costs: DenseCapacitated, multipliers: np.ndarray, allowed: np.ndarray):
    """(F_o + k_o, demand taken) per option by sorting each option's arcs with a negative reduced cost."""
    values, taken = np.full(len(costs.fixed), np.inf), np.zeros(len(costs.fixed))
    for option in np.flatnonzero(allowed):
        reduced = (costs.cost[option] - multipliers) / costs.demand  # per unit; ∞ without an arc
        room, total = costs.capacity[option], 0.0
        for pair in np.argsort(reduced, kind="stable"):
            if not reduced[pair] < 0 or room <= 0:
                break
            share = min(room / costs.demand[pair], 1.0)
            total += share * costs.demand[pair] * reduced[pair]
            taken[option] += share * costs.demand[pair]
            room -= costs.demand[pair]
        values[option] = costs.fixed[option] + total
    return values, taken


def taken_per_option(costs: DenseCapacitated, arcs) -> np.ndarray:
    option, pair, share = arcs
    return np.bincount(option, weights=share * costs.demand[pair], minlength=len(costs.fixed))


@pytest.mark.parametrize("seed, n_options, n_pairs, density, ratio", [
    (1, 12, 80, 1.0, 3.0),     # dense, loose
    (2, 15, 120, 1.0, 1.2),    # dense, tight
    (3, 20, 150, 0.3, 2.0),    # sparse: the arcs, not the table
    (4, 3, 400, 1.0, 1.1),     # more attractive arcs per option than the insertion sort takes
])
def test_compiled_knapsacks_equal_the_numpy_route_and_a_plain_greedy_fill(seed, n_options, n_pairs, density, ratio):
    costs = table(seed, n_options, n_pairs, density, ratio)
    compiled, plain = Relaxation(costs), Relaxation(costs)
    plain.compiled = None
    assert compiled.compiled is not None and (compiled.dense == (density == 1.0))
    rng = np.random.default_rng(seed)
    finite = np.where(np.isfinite(costs.cost), costs.cost, np.nan)
    base = np.nanpercentile(finite, 30, axis=0)  # multipliers that make a fair share of the arcs attractive
    for step in range(40):  # one sequence: the thresholds of both routes move on from call to call
        multipliers = base * rng.uniform(0.5, 2.5 if step % 5 == 0 else 1.2, n_pairs)
        fixing = np.where(rng.random(n_options) < 0.2, 0, -1).astype(np.int8)
        values, arcs = compiled.option_values(multipliers, fixing)
        numpy_values, numpy_arcs = plain.option_values(multipliers, fixing)
        reference, reference_taken = greedy_values(costs, multipliers, fixing != 0)
        assert np.array_equal(np.isfinite(values), fixing != 0)
        allowed = fixing != 0
        assert values[allowed] == pytest.approx(numpy_values[allowed], rel=1e-12, abs=1e-9)
        assert values[allowed] == pytest.approx(reference[allowed], rel=1e-12, abs=1e-9)
        assert taken_per_option(costs, arcs) == pytest.approx(taken_per_option(costs, numpy_arcs), rel=1e-12, abs=1e-9)
        assert taken_per_option(costs, arcs) == pytest.approx(reference_taken, rel=1e-12, abs=1e-9)
        assert compiled.evaluate(multipliers, fixing).bound == pytest.approx(
            plain.evaluate(multipliers, fixing).bound, rel=1e-12, abs=1e-9)
    if seed == 4:  # the case it is there for: an option with more arcs than one insertion sort takes in _select
        reduced = costs.cost - base[None, :]
        assert ((reduced < 0).sum(axis=1) > 4 * kernels.SELECT_SORT_MAX).any()


def greedy_fill(reduced: np.ndarray, demand: np.ndarray, room: float) -> tuple[float, float, float]:
    """(value, demand taken, last r taken) of the greedy fill over the arcs in their order."""
    total, taken, last = 0.0, 0.0, 0.0
    for r, q in zip(reduced, demand, strict=True):
        share = min(room / q, 1.0)
        if share <= 0:
            break
        total, taken, last, room = total + share * q * r, taken + share * q, r, room - q
    return total, taken, last


@pytest.mark.parametrize("seed", range(6))
def test_select_leaves_the_greedy_fill_as_the_sort_does(seed):
    select = kernels._kernel("select")
    rng = np.random.default_rng(seed)
    for _ in range(200):
        count = int(rng.integers(1, 300))
        reduced = -rng.integers(1, 6 if seed % 2 else 10_000, count).astype(float)  # few values: many ties
        pairs = rng.permutation(count).astype(np.int64)
        demand = rng.integers(1, 40, count).astype(float)
        room = float(demand.sum() * rng.uniform(0.05, 0.999))
        order = np.argsort(reduced, kind="stable")
        expected = greedy_fill(reduced[order], demand[pairs[order]], room)
        mine_r, mine_pairs = reduced.copy(), pairs.copy()
        select(mine_r, mine_pairs, demand, count, room)
        same_arcs = sorted(zip(mine_r, mine_pairs, strict=True)) == sorted(zip(reduced, pairs, strict=True))
        assert same_arcs  # reordered
        assert greedy_fill(mine_r, demand[mine_pairs], room) == pytest.approx(expected, rel=1e-12, abs=1e-9)


def test_compiled_cover_shares_equal_the_numpy_fractional_cover():
    cover_shares = kernels._kernel("cover_shares")
    rng, infeasible = np.random.default_rng(3), 0
    for _ in range(300):
        n_options = int(rng.integers(1, 40))
        cover = CoverKnapsack(rng.integers(1, 20, n_options) * 10.0, float(rng.integers(1, 150) * 10))
        values = rng.integers(-30, 60, n_options).astype(float)  # integers: ties in value per unit
        fixing = rng.choice(np.array([-1, -1, -1, 0, 1], dtype=np.int8), n_options)
        values[fixing == 0] = np.inf
        share = np.full(n_options, np.nan)
        total = cover_shares(values, fixing, cover.units, cover.need_units, share)
        expected, expected_share = cover.fractional(values, fixing)
        assert total == pytest.approx(expected, rel=1e-12, abs=1e-9)  # ∞ as ∞: no cover of the free options
        assert np.array_equal(share, expected_share)
        infeasible += math.isinf(expected)
    assert 0 < infeasible < 300


@pytest.mark.parametrize("seed, n_options, n_pairs, density, ratio", [
    (1, 12, 80, 1.0, 3.0), (2, 15, 120, 1.0, 1.2), (3, 20, 150, 0.3, 2.0), (4, 3, 400, 1.0, 1.1)])
def test_compiled_fractional_evaluation_equals_the_numpy_route(seed, n_options, n_pairs, density, ratio):
    costs = table(seed, n_options, n_pairs, density, ratio)
    costs = DenseCapacitated(costs.cost, costs.demand, costs.capacity, costs.fixed,
                             np.where(np.arange(n_pairs) % 4 == 0, 30.0 * costs.demand, np.inf),  # some unmet costs
                             float(costs.demand[np.arange(n_pairs) % 4 != 0].sum()), costs.forced)
    compiled, plain = Relaxation(costs), Relaxation(costs)
    plain.compiled = None
    rng = np.random.default_rng(seed)
    finite = np.where(np.isfinite(costs.cost), costs.cost, np.nan)
    base = np.nanpercentile(finite, 30, axis=0)
    infeasible = 0
    for step in range(60):
        multipliers = base * rng.uniform(0.5, 2.5 if step % 5 == 0 else 1.2, n_pairs)
        closed = 0.2 if step % 3 else 0.9  # mostly closed: the free options may not cover the need
        fixing = np.where(rng.random(n_options) < closed, 0, np.where(rng.random(n_options) < 0.2, 1, -1))
        mine = compiled.evaluate(multipliers, fixing.astype(np.int8), exact=False)
        theirs = plain.evaluate(multipliers, fixing.astype(np.int8), exact=False)
        infeasible += math.isinf(theirs.bound)
        assert mine.bound == pytest.approx(theirs.bound, rel=1e-12, abs=1e-9)
        assert np.array_equal(mine.values, theirs.values) or mine.values == pytest.approx(theirs.values, rel=1e-12)
        assert mine.open_share == pytest.approx(theirs.open_share, rel=1e-12, abs=1e-12)
        assert np.array_equal(mine.chosen, theirs.chosen)
        assert mine.subgradient == pytest.approx(theirs.subgradient, rel=1e-9, abs=1e-9)
    assert infeasible > 0


def test_planner_no_jit_keeps_the_numpy_route(monkeypatch):
    costs = table(5, 6, 30, 1.0, 2.0)
    monkeypatch.setenv("PLANNER_NO_JIT", "1")
    kernels._kernel.cache_clear()
    try:
        assert Relaxation(costs).compiled is None
        assert lagrangian_bb.Relaxation(uncoupled_table(1, 4, 6, 0, 4)).compiled is None
    finally:
        monkeypatch.delenv("PLANNER_NO_JIT")
        kernels._kernel.cache_clear()
    assert Relaxation(costs).compiled is not None


def uncoupled_table(seed: int, n_options: int, n_pairs: int, min_open: int, max_open: int):
    """A UFL table with integer costs (many ties), a tenth of the arcs missing and some unmet costs."""
    rng = np.random.default_rng(seed)
    cost = rng.integers(1, 40, (n_options, n_pairs)).astype(float)
    cost[rng.random(cost.shape) < 0.1] = np.inf
    cost[0] = np.minimum(cost[0], 50.0)  # every pair has an arc
    unmet = np.where(rng.random(n_pairs) < 0.3, rng.uniform(20, 60, n_pairs), np.inf)
    return lagrangian_bb.DenseCosts(cost, rng.uniform(10, 80, n_options), unmet, min_open, max_open,
                                    np.zeros(n_options, bool))


@pytest.mark.parametrize("seed, n_options, n_pairs, min_open, max_open", [
    (1, 10, 40, 0, 10), (2, 25, 60, 3, 5), (3, 8, 200, 2, 2)])
def test_compiled_cheap_arcs_equal_the_numpy_forms(seed, n_options, n_pairs, min_open, max_open):
    costs = uncoupled_table(seed, n_options, n_pairs, min_open, max_open)
    compiled, plain = lagrangian_bb.Relaxation(costs), lagrangian_bb.Relaxation(costs)
    plain.compiled = None
    assert compiled.compiled is not None
    rng = np.random.default_rng(seed)
    for step in range(40):
        multipliers = rng.uniform(0, 45, n_pairs).round(0 if step % 2 else 3)  # ties with the costs, or not
        fixing = rng.choice(np.array([-1, -1, -1, 0, 1], dtype=np.int8), n_options)
        fallback = np.minimum(costs.unmet, rng.uniform(10, 100, n_pairs)) if step % 3 == 0 else None
        mine, theirs = compiled.evaluate(multipliers, fixing, fallback), plain.evaluate(multipliers, fixing, fallback)
        reduced = np.minimum(costs.cost - multipliers[None, :], 0.0)
        by_hand = np.where(fixing != 0, costs.fixed + np.nan_to_num(reduced, posinf=0.0).sum(axis=1), np.inf)
        assert mine.values == pytest.approx(by_hand, rel=1e-12, abs=1e-9)
        assert mine.values == pytest.approx(theirs.values, rel=1e-12, abs=1e-9)
        assert mine.feasible == theirs.feasible and np.array_equal(mine.chosen, theirs.chosen)
        if mine.feasible:
            assert mine.bound == pytest.approx(theirs.bound, rel=1e-12, abs=1e-9)
            assert np.array_equal(mine.subgradient, theirs.subgradient)
