"""Vertex substitution (``planner.solver.interchange``) and the sparse Lagrangian evaluation of
``planner.solver.lagrangian_bb`` on seeded random cost tables: every move's cost change equals the
recomputed cost of the moved open set, the best move equals the best of all single moves found by
enumeration, the search ends in a local optimum that keeps the limits, forced and closed options, and
the sparse :math:`L(\\lambda)` equals the dense formula."""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.solver.interchange import _best_move, improve, open_set_cost
from planner.solver.lagrangian_bb import DenseCosts, Relaxation


def random_table(seed: int, n_options: int | None = None, n_pairs: int | None = None) -> DenseCosts:
    """A cost table with missing arcs, pairs that must be served and pairs with a finite penalty,
    fixed costs (or none), count limits and forced options."""
    rng = np.random.default_rng(seed)
    n_options = n_options or int(rng.integers(2, 8))
    n_pairs = n_pairs or int(rng.integers(1, 10))
    cost = rng.uniform(1, 10, (n_options, n_pairs))
    cost[rng.random((n_options, n_pairs)) < 0.3] = np.inf
    unmet = np.where(rng.random(n_pairs) < 0.5, np.inf, rng.uniform(5, 20, n_pairs))
    fixed = rng.uniform(0, 10, n_options) * (rng.random() < 0.7)
    low = int(rng.integers(0, n_options))
    high = int(rng.integers(max(low, 1), n_options + 1))
    forced = rng.random(n_options) < 0.15
    return DenseCosts(cost, fixed, unmet, low, high, forced)


def a_case(seed: int, **sizes) -> tuple[DenseCosts, np.ndarray, np.ndarray]:
    """(table, options fixed closed, a start of finite cost within the limits): the first table drawn
    from ``seed`` onwards that has such a start."""
    for attempt in range(1000):
        rng = np.random.default_rng(1000 * seed + attempt)
        costs = random_table(1000 * seed + attempt, **{key: int(rng.choice(value)) for key, value in sizes.items()})
        closed = (rng.random(len(costs.fixed)) < 0.15) & ~costs.forced
        is_open = ((rng.random(len(costs.fixed)) < 0.5) | costs.forced) & ~closed
        if costs.min_open <= is_open.sum() <= costs.max_open and math.isfinite(open_set_cost(costs, is_open)):
            return costs, closed, is_open
    raise AssertionError("no case drawn")


def moved(is_open: np.ndarray, opened: int, closed: int) -> np.ndarray:
    after = is_open.copy()
    if opened >= 0:
        after[opened] = True
    if closed >= 0:
        after[closed] = False
    return after


def best_single_move(costs: DenseCosts, is_open: np.ndarray, closed: np.ndarray) -> float:
    """The least cost change over every add, drop and swap the limits allow (0 for none), by enumeration."""
    base = open_set_cost(costs, is_open)
    best = 0.0
    for opened in [*np.flatnonzero(~is_open & ~closed), -1]:
        for dropped in [*np.flatnonzero(is_open & ~costs.forced), -1]:
            after = moved(is_open, opened, dropped)
            if (opened >= 0 or dropped >= 0) and costs.min_open <= after.sum() <= costs.max_open:
                best = min(best, open_set_cost(costs, after) - base)
    return best


@pytest.mark.parametrize("seed", range(150))
def test_the_best_move_is_the_best_of_every_single_move(seed):
    costs, closed, is_open = a_case(seed)
    delta, opened, dropped = _best_move(costs, is_open, closed)
    assert delta == pytest.approx(best_single_move(costs, is_open, closed), abs=1e-9)
    if opened >= 0 or dropped >= 0:
        after = moved(is_open, opened, dropped)
        assert open_set_cost(costs, after) - open_set_cost(costs, is_open) == pytest.approx(delta, abs=1e-9)


@pytest.mark.parametrize("seed", range(60))
def test_the_search_ends_in_a_local_optimum_within_the_limits(seed):
    costs, closed, start = a_case(seed, n_options=range(3, 12), n_pairs=range(3, 20))
    is_open, cost, _ = improve(costs, start, closed_fixed=closed)
    assert costs.min_open <= is_open.sum() <= costs.max_open
    assert is_open[costs.forced].all() and not is_open[closed].any()
    assert cost == pytest.approx(open_set_cost(costs, is_open), abs=1e-12)
    assert cost <= open_set_cost(costs, start) + 1e-12
    assert best_single_move(costs, is_open, closed) >= -1e-9 * max(abs(cost), 1.0)


def dense_lagrangian(costs: DenseCosts, multipliers: np.ndarray, fixing: np.ndarray):
    """:math:`v_o` and :math:`L(\\lambda)` straight from the formula over the whole table."""
    values = costs.fixed + np.minimum(costs.cost - multipliers[None, :], 0.0).sum(axis=1)
    values[fixing == 0] = np.inf
    return values


@pytest.mark.parametrize("seed", range(40))
def test_the_sparse_evaluation_equals_the_dense_formula(seed):
    """Tables wider than the stepped scan too (40 options), multipliers from below every cost to above
    most of them."""
    rng = np.random.default_rng(3000 + seed)
    costs = random_table(seed, n_options=int(rng.choice([3, 12, 40])), n_pairs=int(rng.integers(1, 30)))
    multipliers = rng.uniform(0, 12 if seed % 2 else 40, len(costs.unmet))
    fixing = rng.choice(np.array([-1, 0, 1], dtype=np.int8), len(costs.fixed), p=[0.7, 0.2, 0.1])
    fixing[costs.forced] = 1
    evaluation = Relaxation(costs).evaluate(multipliers, fixing)
    values = dense_lagrangian(costs, multipliers, fixing)
    np.testing.assert_allclose(evaluation.values, values, rtol=1e-12, atol=1e-9)
    if evaluation.feasible:
        chosen = evaluation.chosen
        bound = multipliers.sum() + np.minimum(costs.unmet - multipliers, 0.0).sum() + values[chosen].sum()
        assert evaluation.bound == pytest.approx(bound, rel=1e-12, abs=1e-9)
        covered = (costs.cost[chosen] < multipliers[None, :]).sum(axis=0) + (costs.unmet < multipliers)
        np.testing.assert_array_equal(evaluation.subgradient, 1.0 - covered)
