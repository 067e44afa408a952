"""HiGHS raced beside the capacitated branch-and-bound (``planner.solver.race``): the race's optimum
equals brute force on seeded tiny instances, the answer combines the cheaper solution with the larger
valid bound, HiGHS's bound alone can end the search, a child that fails or is stopped leaves nothing
behind, and where the race applies (the engine's choice between the race and a second search on the
tree is tested in ``tests/test_parallel_bb.py``)."""

from __future__ import annotations

import dataclasses
import math
import queue
import time

import pytest

from planner.model.index import ModelIndex
from planner.pipeline import solve_problem
from planner.solver import race
from planner.solver.capacitated_bb import DenseCapacitated, branch_and_bound, solve_capacitated_bb
from planner.solver.lagrangian_bb import search_report
from planner.solver.outcome import SolveReport, SolverOptions, Status
from planner.timing import Timing
from tests.test_capacitated_bb import enumerated, random_capacitated
from tests.test_solver_radius import brute_force, random_uncapacitated

EXACT = SolverOptions(mip_gap=1e-9, quiet=True)


@pytest.mark.parametrize("seed, ratio", [(1, 1.4), (4, 1.15)])
def test_the_race_finds_the_brute_force_optimum(seed, ratio):
    problem = random_capacitated(seed, ratio=ratio, n_sites=8, n_regions=20)
    index = ModelIndex.from_problem(problem)
    report, solution = race.solve_racing(problem, index, EXACT)
    optimum = enumerated(problem)
    assert report.status is Status.OPTIMAL
    assert report.objective == pytest.approx(optimum, rel=1e-7)
    assert report.best_bound <= optimum * (1 + 1e-7)
    assert "raced with" in report.solver


class _FakeRival:
    """A rival whose bound and result are set by the test."""

    def __init__(self, bound: float = -math.inf, result=None) -> None:
        self.highs_bound, self.result = bound, result
        self.outbox, self.offered_cost = queue.Queue(), math.inf

    bound = race.Rival.bound
    solved = race.Rival.solved
    proven = race.Rival.proven
    decides = race.Rival.decides
    refill = race.Rival.refill

    def ended(self, wait_s: float = 0.0) -> bool:
        return self.result is not None


def test_a_highs_bound_at_the_optimum_ends_the_search_after_its_root():
    problem = random_capacitated(1, ratio=1.4, n_sites=8, n_regions=20)  # not proven at the root alone
    index = ModelIndex.from_problem(problem)
    costs = DenseCapacitated.of(problem, index)
    alone = branch_and_bound(problem, index, costs, EXACT, None)
    optimum = enumerated(problem)
    assert alone.nodes > 1
    rival = _FakeRival(bound=optimum * (1 - 1e-12))
    search = branch_and_bound(problem, index, costs, EXACT, None, rival=rival)
    assert search.nodes < alone.nodes and search.queue  # stopped with nodes open: HiGHS's bound closed the gap
    assert rival.outbox.get_nowait() is not None  # HiGHS was offered the search's incumbent
    bb_report, proven = search_report(search, EXACT, 0.1, "capacitated Lagrangian branch-and-bound")
    assert not proven and bb_report.status is Status.TIME_LIMIT
    report, _ = race.combined(bb_report, search.best, proven, rival, EXACT, 0.1)
    assert report.status is Status.OPTIMAL
    assert report.objective == pytest.approx(optimum, rel=1e-9)
    assert report.best_bound == pytest.approx(optimum * (1 - 1e-12), rel=1e-12)


@pytest.mark.parametrize("status, ends", [(Status.OPTIMAL, True), (Status.GAP_LIMIT, True),
                                           (Status.TIME_LIMIT, False)])
def test_only_a_proven_highs_result_ends_the_search(status, ends):
    """HiGHS stopped at its time limit (which may come before the search's) leaves the search its own."""
    problem = random_capacitated(1, ratio=1.4, n_sites=8, n_regions=20)
    index = ModelIndex.from_problem(problem)
    costs = DenseCapacitated.of(problem, index)
    alone = branch_and_bound(problem, index, costs, EXACT, None)
    highs = _report(1e12, 0.0, status, "HiGHS")  # a dear solution and a useless bound: only the status counts
    search = branch_and_bound(problem, index, costs, EXACT, None, rival=_FakeRival(result=("solved", highs, None)))
    assert (search.nodes == 1) is ends
    assert (search.nodes == alone.nodes) is not ends


def _report(objective: float, bound: float, status: Status, solver: str) -> SolveReport:
    return SolveReport.of(status, "x", objective, bound, 1e-4, solver)


def test_the_answer_is_the_cheaper_solution_with_the_larger_bound():
    bb = _report(100.0, 90.0, Status.TIME_LIMIT, "planner search")
    highs = _report(99.0, 95.0, Status.TIME_LIMIT, "HiGHS")
    report, solution = race.combined(bb, "bb network", False, _FakeRival(96.0, ("solved", highs, "highs network")),
                                     SolverOptions(mip_gap=1e-4), 5.0)
    assert solution == "highs network"
    assert (report.objective, report.best_bound) == (99.0, 96.0)  # the bound HiGHS sent last is the larger
    assert report.status is Status.TIME_LIMIT
    assert report.solver == "HiGHS (raced with the capacitated branch-and-bound)"


def test_a_proof_on_either_side_makes_the_answer_optimal():
    bb = _report(100.0, 100.0, Status.OPTIMAL, "planner search")
    report, solution = race.combined(bb, "bb network", True, _FakeRival(), SolverOptions(mip_gap=1e-4), 1.0)
    assert (solution, report.status, report.mip_gap) == ("bb network", Status.OPTIMAL, 0.0)
    highs = _report(98.0, 98.0, Status.OPTIMAL, "HiGHS")
    bb = _report(100.0, 90.0, Status.TIME_LIMIT, "planner search")
    report, solution = race.combined(bb, "bb network", False, _FakeRival(result=("solved", highs, "h")),
                                     SolverOptions(mip_gap=1e-4), 1.0)
    assert (solution, report.status, report.objective, report.best_bound) == ("h", Status.OPTIMAL, 98.0, 98.0)


def test_a_failed_child_leaves_the_search_alone():
    rival = _FakeRival(result=("failed", "HiGHS ended without a feasible solution"))
    assert not rival.solved()
    bb = _report(100.0, 95.0, Status.TIME_LIMIT, "planner search")
    report, solution = race.combined(bb, "bb network", False, rival, SolverOptions(mip_gap=1e-4), 1.0)
    assert (solution, report.objective, report.best_bound, report.status) == ("bb network", 100.0, 95.0,
                                                                             Status.TIME_LIMIT)


@pytest.mark.slow  # in the whole suite only: the fast subset measured 193.6 s on a slow day
def test_an_infeasible_model_is_a_failed_child_not_a_traceback():
    problem = random_capacitated(2, ratio=1.4, n_sites=6, n_regions=12)
    problem = dataclasses.replace(problem, module_capacity=problem.module_capacity * 0.1)  # cannot hold demand
    rival = race.Rival.start(problem, EXACT, None)
    try:
        assert rival.ended(60.0)
        assert rival.result[0] == "failed" and "infeasible" in rival.result[1]
    finally:
        rival.stop()


def test_a_stopped_child_is_gone_at_once():
    problem = random_capacitated(3, ratio=1.4, n_sites=8, n_regions=20)
    rival = race.Rival.start(problem, SolverOptions(time_limit_s=60.0, quiet=True), None)
    rival.stop()
    assert rival.process.poll() is not None
    assert rival.ended(5.0) and not rival.solved()


def test_the_child_ends_when_its_parent_is_gone(monkeypatch):
    """``_end_with_parent`` returns (by ending the process) once the parent pid changes."""
    exits = []
    monkeypatch.setattr(race.os, "getppid", lambda: 1)
    monkeypatch.setattr(race.os, "_exit", exits.append)
    started = time.perf_counter()
    race._end_with_parent(12345)
    assert exits == [0] and time.perf_counter() - started < 1.0


def test_where_the_race_applies(monkeypatch):
    problem = random_capacitated(0, ratio=2.0)
    monkeypatch.setattr(race.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(race, "MIN_ARCS", 1)
    assert race.applies(problem, SolverOptions())
    assert race.applies(problem, SolverOptions(threads=2))
    assert not race.applies(problem, SolverOptions(threads=1))
    monkeypatch.setattr(race.os, "sched_getaffinity", lambda pid: {0})
    assert not race.applies(problem, SolverOptions())
    monkeypatch.setattr(race.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(race, "MIN_ARCS", problem.n_arcs + 1)
    assert not race.applies(problem, SolverOptions())


def test_the_child_offers_highs_the_searchs_incumbent():
    """``_highs_side`` run here: HiGHS takes the incumbent waiting in the inbox at its user-solution
    callback (the inbox is empty afterwards) and ends with the same optimum."""
    problem = random_capacitated(2, ratio=1.3, n_sites=12, n_regions=40)
    index = ModelIndex.from_problem(problem)
    bb_report, solution, proven = solve_capacitated_bb(problem, index, EXACT)
    assert proven
    inbox, sent = race.Inbox(), []
    inbox.newest = solution
    race._highs_side(problem, EXACT, None, time.time(), sent.append, inbox)
    assert inbox.newest is None
    assert sent[0] == ("started",)  # before HiGHS runs: the parent waits past the deadline only after it
    kind, report, _ = sent[-1]
    assert kind == "solved" and report.objective == pytest.approx(bb_report.objective, rel=1e-9)


@pytest.mark.parametrize("seed, p", [(3, None), (5, 2)])
def test_the_uncoupled_race_finds_the_brute_force_optimum(seed, p):
    """UFL and p-median: the Lagrangian branch-and-bound here, HiGHS's route for uncoupled flows in
    the child; equal to enumeration, with a valid bound."""
    problem, unit_cost = random_uncapacitated(seed, p=p)
    report, solution = race.solve_racing(problem, ModelIndex.from_problem(problem), EXACT, uncoupled=True)
    optimum = brute_force(problem, unit_cost)
    assert report.status is Status.OPTIMAL
    assert report.objective == pytest.approx(optimum, abs=1e-6)
    assert report.best_bound <= optimum + 1e-6
    assert "raced with" in report.solver


def test_the_uncoupled_child_runs_highs_route_and_sends_its_result():
    problem, unit_cost = random_uncapacitated(7)
    sent = []
    race._uncoupled_side(problem, EXACT, None, time.time(), sent.append)
    assert sent[0] == ("started",)
    kind, report, solution = sent[-1]
    assert kind == "solved" and report.solver.startswith("HiGHS")
    assert report.objective == pytest.approx(brute_force(problem, unit_cost), abs=1e-6)


def test_the_engine_races_the_uncoupled_search_where_it_applies(monkeypatch):
    monkeypatch.setattr(race.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(race, "MIN_ARCS", 1)
    problem, unit_cost = random_uncapacitated(9)
    run = solve_problem(problem, EXACT, Timing())
    assert "raced with" in run.report.solver and run.audit.passed
    assert run.report.objective == pytest.approx(brute_force(problem, unit_cost), abs=1e-6)
