"""Set-ups and supply relationships paid for no flow are taken out of a solved network
(``planner.solver.idle``): the objective falls by their cost, every rule still holds, and a solve
stopped within a wide gap delivers no such payment."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from planner.model import ModelIndex
from planner.model.solution import Solution
from planner.pipeline import solve_problem
from planner.solver import SolverOptions
from planner.solver.heuristic import network_cost, satisfies_coupling
from planner.solver.idle import idle_relations, idle_setups, without_idle_payments
from planner.solver.outcome import SolveReport, Status
from tests.builders import dense_problem, with_supply


def two_site_problem():
    """Two sites, two regions of demand 10, opening 10 each, unit costs 1 from s0 and 5 from s1, a
    set-up of 100 at each; at least two facilities (so both open)."""
    return dense_problem([10, 10], [10, 10], [100, 100], [[1, 1], [5, 5]], setup_cost=np.array([[100.0], [100.0]]),
                         min_facilities=2)


def both_set_up(problem) -> Solution:
    """Both open, s0 serves both regions, and s1 pays its set-up too (for no flow): 20 + 200 + 20 = 240."""
    index = ModelIndex.from_problem(problem)
    assign = np.where(problem.arc_option == 0, 1.0, 0.0)
    return Solution(open=np.array([1, 1]), modules=np.array([1, 1]), assign=assign,
                    unmet=np.zeros(index.n_pairs), setup=np.array([[1], [1]]))


def report_for(objective: float, bound: float, status=Status.TIME_LIMIT) -> SolveReport:
    return SolveReport.of(status, "test", objective, bound, 1e-4, "test")


def test_an_idle_setup_is_dropped_and_its_cost_leaves_the_objective():
    """By hand: s1's set-up (100) carries no flow; without it 140, the optimum (both must open, s0
    serves both: 20 + 100 + 20), so the gap against the bound 140 closes."""
    problem = two_site_problem()
    index = ModelIndex.from_problem(problem)
    solution = both_set_up(problem)
    assert network_cost(problem, index, solution) == pytest.approx(240.0)
    assert idle_setups(problem, solution).tolist() == [[False], [True]]
    report, cleaned = without_idle_payments(problem, report_for(240.0, 140.0), solution)
    assert cleaned.setup.tolist() == [[1], [0]]
    assert report.objective == pytest.approx(140.0) == network_cost(problem, index, cleaned)
    assert report.mip_gap == pytest.approx(0.0)
    assert report.best_bound == 140.0
    assert satisfies_coupling(problem, index, cleaned)


def test_a_network_without_idle_payments_is_returned_as_it_is():
    problem = two_site_problem()
    solution = dataclasses.replace(both_set_up(problem), setup=np.array([[1], [0]]))
    report = report_for(140.0, 140.0, Status.OPTIMAL)
    assert without_idle_payments(problem, report, solution) == (report, solution)


def test_an_idle_supply_relationship_is_dropped():
    """One product needing one unit of one material per unit; two suppliers with a relationship of 50
    each; the network buys all 20 units from j0, and pays j1's relationship too: 50 less without it."""
    problem = with_supply(dense_problem([10, 10], [10], [100], [[1, 1]]), bom=[[1.0]], supplier_material=[0, 0],
                          capacity=[100.0, 100.0], price=[1.0, 2.0], km=[[0.0], [0.0]], rate=0.0, fixed=50.0)
    index = ModelIndex.from_problem(problem)
    solution = Solution(open=np.array([1]), modules=np.array([1]), assign=np.ones(problem.n_arcs),
                        unmet=np.zeros(index.n_pairs), inbound=np.array([20.0, 0.0]), relation=np.array([1, 1]))
    assert idle_relations(problem, solution).tolist() == [False, True]
    cost = network_cost(problem, index, solution)
    report, cleaned = without_idle_payments(problem, report_for(cost, cost - 60.0), solution)
    assert cleaned.relation.tolist() == [1, 0]
    assert report.objective == pytest.approx(cost - 50.0) == network_cost(problem, index, cleaned)


def test_a_solve_stopped_within_its_gap_delivers_no_idle_setup(monkeypatch):
    """The solver's routes stopped within a gap of 90 % at the network with s1's idle set-up (as a solver
    may, the set-up being within the gap): what :func:`planner.solver.solve` delivers pays no set-up
    without flow, its objective is what that network costs, and the pipeline's audit passes."""
    from planner.solver import engine

    problem = two_site_problem()
    index = ModelIndex.from_problem(problem)
    stopped = (SolveReport.of(Status.GAP_LIMIT, "test", 240.0, 130.0, 0.9, "test"), both_set_up(problem))
    monkeypatch.setattr(engine, "_solve_routes", lambda *args, **kwargs: stopped)
    run = solve_problem(problem, SolverOptions(mip_gap=0.9))
    assert not idle_setups(problem, run.solution).any()
    assert run.report.objective == pytest.approx(140.0) == network_cost(problem, index, run.solution)
    assert run.report.mip_gap == pytest.approx(10 / 140)
