"""Two capacitated branch-and-bounds sharing one tree (``planner.solver.parallel_bb``): the shared search's
optimum equals brute force with the child searching part of the tree, a search stopped at its limit is not
called optimal and its bound stays valid, the bound accounting covers nodes in transit, and where the
engine shares the tree instead of racing HiGHS."""

from __future__ import annotations

import dataclasses
import heapq
import math

import numpy as np
import pytest

from planner.model.index import ModelIndex
from planner.pipeline import solve_problem
from planner.solver import capacitated_bb, parallel_bb, race
from planner.solver.lagrangian_bb import Node
from planner.solver.outcome import SolverOptions, Status
from planner.timing import Timing
from tests.marks import some_slow
from tests.test_capacitated_bb import enumerated, random_capacitated
from tests.test_solver_radius import brute_force, random_uncapacitated

EXACT = SolverOptions(mip_gap=1e-9, quiet=True)


@pytest.mark.parametrize("seed, ratio, settings", some_slow([
    (4, 1.15, {}),
    (2, 1.2, {"penalty": 6.0}),  # demand may go unmet at a price
    (1, 1.4, {}), (7, 1.25, {}),
    (3, 1.3, {"forced": True, "integral": True}),
], fast=2))
def test_the_shared_search_finds_the_brute_force_optimum(seed, ratio, settings):
    problem = random_capacitated(seed, ratio=ratio, n_sites=9, n_regions=24, **settings)
    index = ModelIndex.from_problem(problem)
    report, solution, proven = parallel_bb.solve_shared(problem, index, EXACT, wait_for_child=True)
    optimum = enumerated(problem)
    assert proven and report.status is Status.OPTIMAL
    assert report.objective == pytest.approx(optimum, rel=1e-7)
    assert report.best_bound <= optimum * (1 + 1e-7)
    assert "two cores" in report.solver


@pytest.mark.parametrize("seed, p", [(1, None), (2, None), (3, 2), (4, 3), (6, None)])
def test_the_shared_uncoupled_search_finds_the_brute_force_optimum(seed, p):
    problem, unit_cost = random_uncapacitated(seed, p=p, penalty=40.0 if seed == 6 else np.inf)
    index = ModelIndex.from_problem(problem)
    report, solution, proven = parallel_bb.solve_shared_uncoupled(problem, index, EXACT, None, wait_for_child=True)
    optimum = brute_force(problem, unit_cost)
    assert proven and report.status is Status.OPTIMAL and "two cores" in report.solver
    assert report.objective == pytest.approx(optimum, rel=1e-9)
    assert report.best_bound <= optimum * (1 + 1e-9)


class NoDuals:
    """A stand-in for ``capacitated_bb.BackgroundDuals`` that never delivers: the strong LP's duals
    solve these small instances at the root, and the tests below need a tree to share."""

    def __init__(self, costs, time_limit_s: float) -> None:
        pass

    def nearly_done(self, share: float) -> bool:
        return False

    def take(self, wait_s: float = 0.0):
        return None

    def cancel(self) -> None:
        pass


@pytest.mark.slow  # in the whole suite only: the fast subset measured 193.6 s on a slow day
def test_the_child_searches_part_of_the_tree(caplog, monkeypatch):
    monkeypatch.setattr(capacitated_bb, "BackgroundDuals", NoDuals)
    problem = random_capacitated(4, ratio=1.15, n_sites=9, n_regions=24)
    with caplog.at_level("INFO", logger="planner.solver.parallel_bb"):
        parallel_bb.solve_shared(problem, ModelIndex.from_problem(problem), EXACT, wait_for_child=True)
    [line] = [record.getMessage() for record in caplog.records if "the second search" in record.getMessage()]
    assert int(line.split()[3]) > 0, line  # "the second search: N nodes"


def test_a_search_stopped_at_its_limit_is_not_optimal_and_its_bound_is_valid():
    problem = random_capacitated(4, ratio=1.15, n_sites=9, n_regions=24)
    index = ModelIndex.from_problem(problem)
    options = dataclasses.replace(EXACT, time_limit_s=1e-3)
    report, solution, proven = parallel_bb.solve_shared(problem, index, options, wait_for_child=True)
    optimum = enumerated(problem)
    assert report.best_bound <= optimum * (1 + 1e-7)
    assert report.objective >= optimum * (1 - 1e-7)
    if not proven:
        assert report.status is Status.TIME_LIMIT


@pytest.mark.slow  # a few seconds: in the whole suite only
def test_a_child_that_ends_early_with_nodes_leaves_the_run_unproven_with_a_valid_bound(monkeypatch, caplog):
    monkeypatch.setattr(capacitated_bb, "BackgroundDuals", NoDuals)
    problem = random_capacitated(4, ratio=1.15, n_sites=9, n_regions=24)
    exchange = parallel_bb.Partner.exchange

    def exchange_then_kill(partner, search, wait_s=0.0):
        exchange(partner, search, wait_s)
        if partner.batches and partner.process.poll() is None:
            partner.process.kill()  # the child dies holding the nodes just sent

    monkeypatch.setattr(parallel_bb.Partner, "exchange", exchange_then_kill)
    with caplog.at_level("WARNING", logger="planner.solver.parallel_bb"):
        report, _, proven = parallel_bb.solve_shared(problem, ModelIndex.from_problem(problem), EXACT,
                                                     wait_for_child=True)
    optimum = enumerated(problem)
    assert not proven and report.status is Status.TIME_LIMIT
    assert report.best_bound <= optimum * (1 + 1e-7) and report.objective >= optimum * (1 - 1e-7)
    assert any("ended early" in record.getMessage() for record in caplog.records)


def _nodes(*bounds: float) -> list[Node]:
    return [Node(np.full(3, -1, dtype=np.int8), bound, np.zeros(2)) for bound in bounds]


class _Queue:
    """A search as far as the exchange sees it: a queue, an incumbent's cost, the outside bound."""

    def __init__(self, *bounds: float) -> None:
        self.queue, self.best_cost, self.outside_bound, self.pushed = [], math.inf, math.inf, []
        for number, node in enumerate(_nodes(*bounds)):
            heapq.heappush(self.queue, (node.bound, number, node))

    def push(self, node: Node) -> None:
        self.pushed.append(node.bound)
        heapq.heappush(self.queue, (node.bound, len(self.queue) + 100, node))


class _Link:
    def __init__(self, *messages) -> None:
        self.waiting, self.sent = list(messages), []

    def messages(self, wait_s: float = 0.0):
        found, self.waiting = self.waiting, []
        return found

    def send(self, message) -> None:
        self.sent.append(message)


def test_give_half_hands_over_every_second_node_in_bound_order():
    search = _Queue(5.0, 1.0, 4.0, 2.0, 3.0)
    given = parallel_bb.give_half(search)
    assert [node.bound for node in given] == [2.0, 4.0]
    assert sorted(bound for bound, _, _ in search.queue) == [1.0, 3.0, 5.0]
    assert search.queue[0][0] == 1.0  # still a heap


def test_nodes_in_transit_count_in_the_bound_until_a_report_covers_them():
    partner = parallel_bb.Partner(None, _Link(("want",)), None, until=None)
    search = _Queue(10.0, 11.0, 12.0, 13.0)
    partner.exchange(search)  # the child asked: it gets 11 and 13
    [(kind, batch, nodes)] = [message for message in partner.link.sent if message[0] == "nodes"]
    assert (kind, batch, [node.bound for node in nodes]) == ("nodes", 1, [11.0, 13.0])
    assert partner.bound() == 11.0 and search.outside_bound == 11.0 and not partner.finished()
    partner.handle(search, ("bound", 12.5, 0, 1, 3))  # a report sent before the batch arrived
    assert partner.bound() == 11.0
    partner.handle(search, ("bound", 13.0, 1, 1, 4))  # the batch received: 11 searched, 13 open
    assert partner.bound() == 13.0 and not partner.finished()
    partner.handle(search, ("bound", 14.0, 1, 0, 6))
    assert partner.finished() and partner.child_nodes == 6


def test_the_parent_takes_the_childs_nodes_and_networks_and_offers_its_cost():
    considered = []
    search = _Queue()
    search.best_cost = 50.0
    search.consider = considered.append
    partner = parallel_bb.Partner(None, _Link(("solution", "network"), ("nodes", _nodes(7.0))), None, until=None)
    assert partner.refill(search)  # the nodes arrived
    assert search.pushed == [7.0] and considered == ["network"]
    assert ("cost", 50.0) in partner.link.sent


def test_the_parent_does_not_wait_for_a_child_that_holds_nothing_or_has_gone():
    assert not parallel_bb.Partner(None, _Link(), None, until=None).refill(_Queue())
    gone = parallel_bb.Partner(None, _Link(("gone",)), None, until=None)
    gone.child_open = 3  # it held nodes: they are lost, so the tree is not done
    assert not gone.refill(_Queue()) and not gone.finished()


def test_the_worker_prunes_with_the_parents_cost_and_shares_when_asked():
    worker = parallel_bb.Worker(_Link(("cost", 42.0), ("want",), ("nodes", 3, _nodes(1.0, 2.0, 3.0))))
    search = _Queue()
    search.best, search.nodes = None, 5
    search.global_bound = lambda: min([bound for bound, _, _ in search.queue] + [search.best_cost])
    assert not worker.decides(search)
    assert search.best_cost == 42.0 and worker.received == 3
    [(_, given)] = [message for message in worker.link.sent if message[0] == "nodes"]
    assert [node.bound for node in given] == [2.0]
    assert worker.link.sent[-1] == ("bound", 1.0, 3, 2, 5)
    worker.link.waiting = [("stop",)]
    assert worker.decides(search)


def test_where_the_uncoupled_tree_is_shared(monkeypatch):
    problem, _ = random_uncapacitated(1)
    index = ModelIndex.from_problem(problem)
    monkeypatch.setattr(race.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(race, "MIN_ARCS", 1)
    monkeypatch.setattr(parallel_bb, "UNCOUPLED_MIN_CELLS", problem.n_options * index.n_pairs)
    assert parallel_bb.applies_uncoupled(problem, SolverOptions(), index)
    assert not parallel_bb.applies_uncoupled(problem, SolverOptions(threads=1), index)
    monkeypatch.setattr(parallel_bb, "UNCOUPLED_MIN_CELLS", problem.n_options * index.n_pairs + 1)
    assert not parallel_bb.applies_uncoupled(problem, SolverOptions(), index)


def test_where_the_tree_is_shared(monkeypatch):
    problem = random_capacitated(0, ratio=2.0, n_sites=7, n_regions=14)  # every site reaches every region
    index = ModelIndex.from_problem(problem)
    monkeypatch.setattr(race.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(race, "MIN_ARCS", 1)
    monkeypatch.setattr(parallel_bb, "MIN_ARCS", 1)
    assert parallel_bb.applies(problem, SolverOptions(), index)
    assert not parallel_bb.applies(problem, SolverOptions(threads=1), index)
    monkeypatch.setattr(parallel_bb, "MIN_ARCS", problem.n_arcs + 1)
    assert not parallel_bb.applies(problem, SolverOptions(), index)
    monkeypatch.setattr(parallel_bb, "MIN_ARCS", 1)
    monkeypatch.setattr(parallel_bb, "DENSE_SHARE", 1.5)  # no table is that dense
    assert not parallel_bb.applies(problem, SolverOptions(), index)


@pytest.mark.parametrize("shared_from_arcs, solver", [(1, "two cores"), (10**9, "raced with")])
def test_the_engine_shares_the_tree_or_races_highs_and_the_pipeline_audits_the_result(
        monkeypatch, shared_from_arcs, solver):
    monkeypatch.setattr(race.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(race, "MIN_ARCS", 1)
    monkeypatch.setattr(parallel_bb, "MIN_ARCS", shared_from_arcs)
    problem = random_capacitated(5, ratio=1.3, n_sites=8, n_regions=20)
    run = solve_problem(problem, dataclasses.replace(EXACT, presolve_min_arcs=0), Timing())
    assert solver in run.report.solver
    assert run.audit.passed
    assert run.report.objective == pytest.approx(enumerated(problem), rel=1e-7)
    assert np.isfinite(run.report.best_bound)


@pytest.mark.parametrize("shared_from_cells, solver", [(1, "two cores"), (10**9, "raced with")])
def test_the_engine_shares_the_uncoupled_tree_or_races_highs(monkeypatch, shared_from_cells, solver):
    monkeypatch.setattr(race.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(race, "MIN_ARCS", 1)
    monkeypatch.setattr(parallel_bb, "UNCOUPLED_MIN_CELLS", shared_from_cells)
    problem, unit_cost = random_uncapacitated(2)
    run = solve_problem(problem, EXACT, Timing())
    assert solver in run.report.solver
    assert run.audit.passed
    assert run.report.objective == pytest.approx(brute_force(problem, unit_cost), rel=1e-9)
