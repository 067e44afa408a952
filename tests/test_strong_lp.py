"""The strong LP's duals (``planner.solver.strong_lp``) and their use in the capacitated
branch-and-bound: the lazily completed LP is the full strong LP (its duals attain the full LP's value
in the LP Lagrangian, computed here independently with scipy), and a search that takes them, at the
root or later for its open nodes, still equals brute force."""

from __future__ import annotations

import logging
import math
import subprocess
import sys
import threading

import numpy as np
import pytest
from scipy.optimize import linprog

from planner.model.index import ModelIndex
from planner.solver import capacitated_bb
from planner.solver.capacitated_bb import DenseCapacitated, Node, solve_capacitated_bb
from planner.solver.strong_lp import strong_lp_duals
from tests.builders import dense_problem
from tests.conftest import CHECKOUT
from tests.marks import some_slow
from tests.test_capacitated_bb import EXACT, enumerated, random_capacitated


def full_strong_lp(costs: DenseCapacitated) -> float:
    """The strong LP with every x ≤ y row written, by scipy's HiGHS: min F y + w x (+ u x^u)."""
    n_options, n_pairs = costs.cost.shape
    finite = np.isfinite(costs.cost)
    option, pair = np.nonzero(finite)
    n_arcs = len(option)
    unmet_pairs = np.flatnonzero(np.isfinite(costs.unmet))
    n = n_options + n_arcs + len(unmet_pairs)
    cost = np.concatenate([costs.fixed, costs.cost[finite], costs.unmet[unmet_pairs]])
    equality = np.zeros((n_pairs, n))
    equality[pair, n_options + np.arange(n_arcs)] = 1.0
    equality[unmet_pairs, n_options + n_arcs + np.arange(len(unmet_pairs))] = 1.0
    upper_rows = []
    for o in range(n_options):  # Σ q x ≤ C y
        row = np.zeros(n)
        mine = np.flatnonzero(option == o)
        row[n_options + mine] = costs.demand[pair[mine]]
        row[o] = -costs.capacity[o]
        upper_rows.append(row)
    for a in range(n_arcs):  # x ≤ y
        row = np.zeros(n)
        row[n_options + a], row[option[a]] = 1.0, -1.0
        upper_rows.append(row)
    aggregate = np.zeros(n)
    aggregate[:n_options] = -costs.capacity
    upper_rows.append(aggregate)
    upper_bound = np.zeros(len(upper_rows))
    upper_bound[-1] = -costs.need
    bounds = [(1.0 if forced else 0.0, 1.0) for forced in costs.forced] + [(0.0, 1.0)] * (n - n_options)
    result = linprog(cost, A_ub=np.array(upper_rows), b_ub=upper_bound, A_eq=equality, b_eq=np.ones(n_pairs),
                     bounds=bounds, method="highs")
    assert result.status == 0
    return float(result.fun)


def lp_lagrangian(costs: DenseCapacitated, multipliers: np.ndarray) -> float:
    """L(λ) of the strong LP with the demand rows relaxed: each option's continuous knapsack by a
    plain greedy loop, the choice of y ∈ [0, 1] with Σ C y ≥ Q by scipy (no rounding of any kind)."""
    n_options, _ = costs.cost.shape
    values = costs.fixed.astype(float).copy()
    for o in range(n_options):
        reduced = costs.cost[o] - multipliers
        room = costs.capacity[o]
        for d in np.argsort(reduced / costs.demand):
            if not reduced[d] < 0 or room <= 0:
                break
            share = min(1.0, room / costs.demand[d])
            values[o] += share * reduced[d]
            room -= share * costs.demand[d]
    bounds = [(1.0 if forced else 0.0, 1.0) for forced in costs.forced]
    choice = linprog(values, A_ub=-costs.capacity[None, :], b_ub=[-costs.need], bounds=bounds, method="highs")
    assert choice.status == 0
    return float(multipliers.sum() + np.minimum(costs.unmet - multipliers, 0.0).sum() + choice.fun)


def tables(problem) -> DenseCapacitated:
    return DenseCapacitated.of(problem, ModelIndex.from_problem(problem))


def duals_of(costs: DenseCapacitated) -> np.ndarray:
    duals = strong_lp_duals(costs.cost, costs.demand, costs.capacity, costs.fixed, costs.unmet, costs.need,
                            costs.forced, time_limit_s=60.0)
    assert duals is not None
    return duals


@pytest.mark.parametrize("seed", range(8))
def test_the_lazily_completed_lp_has_the_full_strong_lps_duals(seed):
    problem = random_capacitated(seed, ratio=1.2 + 0.4 * seed, penalty=np.inf if seed % 2 else 6.0 + seed,
                                 forced=seed % 3 == 1)
    costs = tables(problem)
    optimum = full_strong_lp(costs)
    duals = duals_of(costs)
    assert lp_lagrangian(costs, duals) == pytest.approx(optimum, rel=1e-7)
    rng = np.random.default_rng(seed)
    for _ in range(5):  # weak duality of the independent Lagrangian: a check of the check
        assert lp_lagrangian(costs, duals + rng.normal(0, 3, len(duals))) <= optimum * (1 + 1e-9) + 1e-9


def identical_capacities(seed: int, n_sites: int = 8, n_regions: int = 16, ratio: float = 1.25):
    """``capa``-like: every site the same capacity and similar opening costs, total capacity ``ratio`` ×
    demand (the aggregate row's rounding is what the LP's duals find and the subgradient misses)."""
    rng = np.random.default_rng(seed)
    sites, regions = rng.random((n_sites, 2)), rng.random((n_regions, 2))
    demand = rng.integers(5, 36, n_regions).astype(float)
    capacity = np.full(n_sites, np.ceil(ratio * demand.sum() / n_sites))
    opening = rng.uniform(400, 500, n_sites)
    unit_cost = 10 * np.linalg.norm(sites[:, None, :] - regions[None, :, :], axis=2)
    return dense_problem(demand, opening, capacity, unit_cost)


def poor_root(problem, index, costs, time_limit_s):
    """The root from multipliers 0 (the subgradient's start stands in for one that stalled low)."""
    return Node(np.where(costs.forced, 1, -1).astype(np.int8), -math.inf, np.zeros(len(costs.demand)))


@pytest.mark.slow  # in the whole suite only: the fast subset measured 193.6 s on a slow day
def test_a_search_from_the_lps_duals_at_the_root_equals_brute_force(monkeypatch, caplog):
    monkeypatch.setattr(capacitated_bb, "root_node", poor_root)
    taken = 0
    for seed in range(4):
        problem = identical_capacities(seed)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="planner.solver.capacitated_bb"):
            report, _, proven = solve_capacitated_bb(problem, ModelIndex.from_problem(problem), EXACT)
        assert proven
        assert report.objective == pytest.approx(enumerated(problem), rel=1e-7)
        taken += "the strong LP's duals raise the root bound" in caplog.text
    assert taken  # the path under test (where the root is not settled before it asks for them)


class FarFromDone:
    """A stand-in for ``BackgroundDuals`` whose LP is far from its end when the root asks."""

    cancelled = False

    def __init__(self, costs, time_limit_s: float) -> None:
        pass

    def nearly_done(self, share: float) -> bool:
        return False

    def take(self, wait_s: float = 0.0):
        assert wait_s == 0.0  # the root does not wait for it
        return None

    def cancel(self) -> None:
        FarFromDone.cancelled = True


@pytest.mark.parametrize("seed", some_slow(range(3), fast=1))
def test_an_lp_far_from_its_end_is_stopped_at_the_root_and_the_search_still_equals_brute_force(seed, monkeypatch):
    problem = random_capacitated(seed, ratio=1.3, n_sites=8, n_regions=18)
    monkeypatch.setattr(capacitated_bb, "BackgroundDuals", FarFromDone)
    FarFromDone.cancelled = False
    report, _, proven = solve_capacitated_bb(problem, ModelIndex.from_problem(problem), EXACT)
    assert proven and FarFromDone.cancelled
    assert report.objective == pytest.approx(enumerated(problem), rel=1e-7)


def test_the_lp_gives_up_at_its_time_limit_or_when_stopped():
    costs = tables(random_capacitated(0, ratio=1.5))
    args = (costs.cost, costs.demand, costs.capacity, costs.fixed, costs.unmet, costs.need, costs.forced)
    assert strong_lp_duals(*args, time_limit_s=0.0) is None
    stop = threading.Event()
    stop.set()
    assert strong_lp_duals(*args, time_limit_s=60.0, stop=stop) is None


EXIT_WHILE_SOLVING = """
import sys, time
from planner.model.index import ModelIndex
from planner.solver.capacitated_bb import DenseCapacitated
from planner.solver.strong_lp import BackgroundDuals
from tests.test_capacitated_bb import random_capacitated
problem = random_capacitated(1, ratio=8.0, n_sites=100, n_regions=1000)
lp = BackgroundDuals(DenseCapacitated.of(problem, ModelIndex.from_problem(problem)), 60.0)
time.sleep(float(sys.argv[1]))
lp.cancel()
"""


@pytest.mark.slow
def test_a_process_that_ends_while_the_lp_runs_exits_cleanly():
    for wait_s in (0.2, 0.5, 1.0, 2.0):  # HiGHS mid-round on the thread (its rounds take seconds here)
        done = subprocess.run([sys.executable, "-c", EXIT_WHILE_SOLVING, str(wait_s)], cwd=CHECKOUT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (wait_s, done.returncode, done.stderr[-500:])
