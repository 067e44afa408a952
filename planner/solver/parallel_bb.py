"""Two capacitated branch-and-bounds sharing one tree, one on each core (``planner.solver.capacitated_bb``).

**Why.** On large dense tables (Cornuéjols-type CFLP, OR-Library ``capa``: 100 × 1,000, every option
reaching every customer) HiGHS beside the search (``planner.solver.race``) does not finish its root LP
in the time the search needs (generated capacity ratio 3, seed 1: no bound from HiGHS in 40 s), so the
second core added nothing to the answer. The search's steps are numpy calls too short to let a second
thread run beside them (two threads: 1.13× the steps of one), so the second core gets a second
process that works on the same tree.

**Where** (:func:`applies`): where the race would apply (a POSIX system, two cores allowed) and the
pair × option table has at least ``MIN_ARCS`` arcs filling at least ``DENSE_SHARE`` of its cells. The
uncoupled search (UFL, p-median: ``planner.solver.lagrangian_bb``) shares its tree the same way from
``UNCOUPLED_MIN_CELLS`` cells (:func:`applies_uncoupled`; the generated Kratica-type 200 × 200 instance
of seed 3: 22.3 s with HiGHS's route beside it, 12.4 s shared); its incumbents are open sets.

**How.** A child process (``python -m planner.solver.parallel_bb FD``, a fresh interpreter in a session of
its own, as the race's) builds the same tables and asks for work. This process solves the root (with its
dive and local search) as before; from then on each search works best-first on a queue of its own:

- a search whose queue runs empty asks the other (``want``); the other, at its next node with at least
  two open nodes, sends every second node of its queue in bound order (:func:`give_half`);
- incumbents go both ways: the child sends each network it finds that is better than what it knows, this
  process the incumbent's cost; both prune with the better;
- after every node the child reports its bound (the least bound of its open nodes and of the subtrees it
  discarded), how many nodes it holds, and the number of the last batch of nodes it received.

The global bound is the least of this search's own, the child's last report, and the batches sent but
not yet covered by a report. It is valid at every moment: the child's bound only rises between the
batches it receives. The tree is done when this queue is empty, the child holds no node and no batch is
in transit; the incumbent is then optimal within the prune margin. A run stopped at its limit (or whose
child ended early) reports the global bound and is not called optimal.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, replace

import numpy as np

from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.problem import Problem
from planner.solver import lagrangian_bb
from planner.solver.capacitated_bb import EXTENSION_SHARE, DenseCapacitated, Search, branch_and_bound
from planner.solver.lagrangian_bb import DenseCosts, Node, search_report
from planner.solver.outcome import SolverOptions
from planner.solver.race import _end_with_parent, _write_to_child, spawn_child
from planner.solver.race import applies as race_applies
from planner.solver.radius import solution_from_open

logger = logging.getLogger(__name__)

MIN_ARCS = 50_000  # arcs: below this HiGHS beside the search (the race) finishes its root LP in time
UNCOUPLED_MIN_CELLS = 20_000  # options × pairs of an uncoupled (UFL, p-median) table: from this, shared
DENSE_SHARE = 0.5  # of the pair × option cells with an arc
WAIT_S = 0.02  # a search without nodes looks for messages this often
GRACE_S = 2.0  # seconds the child has to send its last report once told to stop
NAME = "capacitated Lagrangian branch-and-bound on two cores"
UNCOUPLED_NAME = "Lagrangian branch-and-bound on two cores"


def applies(problem: Problem, options: SolverOptions, index: ModelIndex) -> bool:
    """Whether two searches share the tree (see the module docstring)."""
    cells = problem.n_options * index.n_pairs
    return (race_applies(problem, options) and problem.n_arcs >= MIN_ARCS
            and problem.n_arcs >= DENSE_SHARE * cells)


def applies_uncoupled(problem: Problem, options: SolverOptions, index: ModelIndex) -> bool:
    """Whether two uncoupled searches (``planner.solver.lagrangian_bb``) share the tree instead of the race:
    two cores allowed and a table of at least ``UNCOUPLED_MIN_CELLS`` cells."""
    return race_applies(problem, options) and problem.n_options * index.n_pairs >= UNCOUPLED_MIN_CELLS


def uncoupled(search) -> bool:
    """Whether ``search`` is an uncoupled one (its incumbent an open set, ``best_open``)."""
    return isinstance(search, lagrangian_bb.Search)


def give_half(search: Search) -> list[Node]:
    """Every second open node of ``search`` in bound order (the 2nd, 4th, ...), taken out of its queue."""
    entries = sorted(search.queue, key=lambda entry: entry[:2])
    search.queue[:] = entries[0::2]  # a sorted list is a heap
    return [node for _, _, node in entries[1::2]]


class Link:
    """One end of the two pipes: a reader thread puts each message that arrives in ``inbox`` (("gone",)
    once the other side has closed its end), ``send`` writes one."""

    def __init__(self, stream, send) -> None:
        self.inbox: queue.Queue = queue.Queue()
        self.send = send
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        with stream:
            try:
                while True:
                    self.inbox.put(pickle.load(stream))
            except Exception:  # EOF, or a broken message: the other side has ended
                pass
        self.inbox.put(("gone",))

    def messages(self, wait_s: float = 0.0) -> list[tuple]:
        """The messages waiting, the first waited for up to ``wait_s`` seconds."""
        found = []
        try:
            found.append(self.inbox.get(timeout=wait_s) if wait_s > 0 else self.inbox.get_nowait())
            while True:
                found.append(self.inbox.get_nowait())
        except queue.Empty:
            pass
        return found


@dataclass
class Partner:
    """The child's search, seen from here (the ``rival`` of this process's ``branch_and_bound``)."""

    process: subprocess.Popen
    link: Link
    outbox: queue.Queue
    until: float | None  # a time.perf_counter reading: no waiting for nodes past it
    child_bound: float = math.inf  # its last report (none yet: it holds nothing)
    child_open: int = 0  # open nodes it holds, as last reported
    child_nodes: int = 0  # nodes it has searched, as last reported
    batches: int = 0  # batches of nodes sent
    transit: dict = field(default_factory=dict)  # batch number -> least bound, until a report covers it
    child_wants: bool = False
    asked: bool = False
    offered_cost: float = math.inf
    gone: bool = False
    done: bool = False
    wait_for_child: bool = False  # hold the first node boundary after the root until the child asks (tests)

    @classmethod
    def start(cls, problem: Problem, options: SolverOptions, until: float | None, of_uncoupled: bool = False
              ) -> Partner:
        process, reading = spawn_child("planner.solver.parallel_bb")
        logger.info("a second branch-and-bound shares the tree in process %d", process.pid)
        outbox: queue.Queue = queue.Queue()
        task = (problem, replace(options, threads=1, quiet=True, progress_s=None), os.getpid(), of_uncoupled)
        # written by a thread: the pipe takes the task only as fast as the child, still importing, reads it
        threading.Thread(target=_write_to_child, args=(task, outbox, process.stdin), daemon=True).start()
        return cls(process, Link(os.fdopen(reading, "rb"), outbox.put), outbox, until)

    def bound(self) -> float:
        """The least bound of the nodes the child holds or is being sent."""
        return min([self.child_bound, *self.transit.values()])

    def finished(self) -> bool:
        """The child holds no node and none is on its way."""
        return self.child_open == 0 and not self.transit

    def handle(self, search: Search, message: tuple) -> None:
        kind = message[0]
        if kind in ("bound", "done"):
            self.child_bound, acknowledged, self.child_open, self.child_nodes = message[1:5]
            self.transit = {batch: bound for batch, bound in self.transit.items() if batch > acknowledged}
            self.done = kind == "done"
        elif kind == "solution":
            search.consider(message[1])
        elif kind == "nodes":
            for node in message[1]:
                search.push(node)
            self.asked = False
        elif kind == "want":
            self.child_wants = True
        elif kind == "gone":
            self.gone = True
        search.outside_bound = self.bound()

    def exchange(self, search: Search, wait_s: float = 0.0) -> None:
        """Take the child's messages, offer it the incumbent's cost where it is new, and send it half the
        queue where it asked for work."""
        for message in self.link.messages(wait_s):
            self.handle(search, message)
        if search.best_cost < self.offered_cost and not self.gone:
            self.offered_cost = search.best_cost
            self.link.send(("cost", search.best_cost))
        if self.child_wants and len(search.queue) >= 2 and not self.gone:
            nodes = give_half(search)
            self.batches += 1
            self.transit[self.batches] = min(node.bound for node in nodes)
            self.link.send(("nodes", self.batches, nodes))
            self.child_wants = False
            search.outside_bound = self.bound()

    def decides(self, search: Search) -> bool:
        """Called after every node: the exchange; the search goes on (it ends with its tree)."""
        waited_until = time.perf_counter() + GRACE_S * 10
        while self.wait_for_child and not (self.child_wants or self.gone) and time.perf_counter() < waited_until:
            self.exchange(search, WAIT_S)
        self.wait_for_child = False
        self.exchange(search)
        return False

    def refill(self, search: Search) -> bool:
        """This queue is empty: wait for nodes from the child (asking it once); False when the child holds
        none either (the tree is done), has ended, or the time is up."""
        while True:
            self.exchange(search, WAIT_S)
            if search.queue:
                return True
            if self.finished() or self.gone or (self.until is not None and time.perf_counter() > self.until):
                return False
            if not self.asked:
                self.link.send(("want",))
                self.asked = True

    def finish(self, search: Search) -> None:
        """Tell the child to stop and take its last report (its best network and bound), where it holds
        nodes: a child that holds none has sent all it found before its last report (a small tree may be
        done before the child has even started)."""
        self.link.send(("stop",))
        if self.finished():
            return
        waited_until = time.perf_counter() + GRACE_S
        while not (self.done or self.gone) and time.perf_counter() < waited_until:
            for message in self.link.messages(WAIT_S):
                self.handle(search, message)

    def stop(self) -> None:
        """Kill the child if it still runs."""
        self.outbox.put(None)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def solve_shared(problem: Problem, index: ModelIndex, options: SolverOptions, start: Solution | None = None,
                 extendable: bool = False, wait_for_child: bool = False):
    """``capacitated_bb.solve_capacitated_bb`` with a second search in a child process sharing the tree:
    (report, solution, proven), or None where the tables cannot be built or no network was found. The
    report's nodes are both searches'. ``wait_for_child``: the first split waits until the child asks
    (at most ``10 × GRACE_S``), so that even a small tree is shared (tests)."""
    costs = DenseCapacitated.of(problem, index)
    if costs is None:
        return None
    started = time.perf_counter()
    limit = options.time_limit_s
    until = None if limit is None else started + limit * (1 + EXTENSION_SHARE if extendable else 1)
    search, proven = _with_partner(problem, options, until, wait_for_child, lambda partner: branch_and_bound(
        problem, index, costs, options, limit, start, extendable, rival=partner))
    if search.best is None:
        return None
    report, proven = search_report(search, options, time.perf_counter() - started, NAME, proven=proven)
    return report, search.best, proven


def solve_shared_uncoupled(problem: Problem, index: ModelIndex, options: SolverOptions, time_limit_s: float | None,
                           start: np.ndarray | None = None, wait_for_child: bool = False):
    """``lagrangian_bb.solve_lagrangian_bb`` with a second search in a child process sharing the tree."""
    costs = DenseCosts.of(problem, index)
    if costs is None:
        return None
    started = time.perf_counter()
    until = None if time_limit_s is None else started + time_limit_s
    def run(partner: Partner):
        return lagrangian_bb.branch_and_bound(costs, options, time_limit_s, start, rival=partner)

    search, proven = _with_partner(problem, options, until, wait_for_child, run, of_uncoupled=True)
    if search.best_open is None or not math.isfinite(search.best_cost):
        return None
    report, proven = search_report(search, options, time.perf_counter() - started, UNCOUPLED_NAME, proven=proven)
    return report, solution_from_open(problem, index, search.best_open.astype(int)), proven


def _with_partner(problem: Problem, options: SolverOptions, until: float | None, wait_for_child: bool, run,
                  of_uncoupled: bool = False):
    """``run(partner)``'s search with the child beside it, the child's nodes added: (search, whether the
    whole tree is done)."""
    partner = Partner.start(problem, options, until, of_uncoupled)
    partner.wait_for_child = wait_for_child
    try:
        search = run(partner)
        partner.finish(search)
    finally:
        partner.stop()
    logger.info("the second search: %d nodes%s", partner.child_nodes, "" if partner.done else " (no last report)")
    before_the_limit = until is None or time.perf_counter() < until  # at the limit it stops with nodes left
    if partner.gone and not partner.finished() and before_the_limit:
        logger.warning("the second search's process ended early with nodes of the tree (its last bound %.10g "
                       "is kept): the result is not proven optimal", partner.bound())
    search.nodes += partner.child_nodes
    return search, not search.queue and partner.finished()


@dataclass
class Worker:
    """The child's side (the ``rival`` of its ``branch_and_bound``): nodes, costs, requests and the stop
    from the parent; its reports, networks and nodes to the parent."""

    link: Link
    pending: list = field(default_factory=list)  # nodes received before the search started
    received: int = 0  # the number of the last batch received
    parent_cost: float = math.inf
    parent_wants: bool = False
    stopping: bool = False
    sent: Solution | None = None

    def handle(self, search: Search | None, message: tuple) -> None:
        kind = message[0]
        if kind == "nodes":
            self.received = message[1]
            if search is None:
                self.pending.extend(message[2])
            else:
                for node in message[2]:
                    search.push(node)
        elif kind == "cost":
            self.parent_cost = min(self.parent_cost, message[1])
        elif kind == "want":
            self.parent_wants = True
        elif kind in ("stop", "gone"):
            self.stopping = True
        if search is not None:
            search.best_cost = min(search.best_cost, self.parent_cost)  # prune with the better incumbent

    def report(self, search, kind: str = "bound") -> None:
        best = search.best_open if uncoupled(search) else search.best  # an open set, or a network
        if best is not None and best is not self.sent:
            self.sent = best
            self.link.send(("solution", best))
        self.link.send((kind, search.global_bound(), self.received, len(search.queue), search.nodes))

    def decides(self, search: Search) -> bool:
        for message in self.link.messages():
            self.handle(search, message)
        if self.parent_wants and len(search.queue) >= 2:
            self.link.send(("nodes", give_half(search)))
            self.parent_wants = False
        self.report(search)
        return self.stopping

    def refill(self, search: Search | None) -> bool:
        """Out of nodes: report, ask the parent, wait for nodes or the stop."""
        if search is not None:
            self.report(search)
        self.link.send(("want",))
        while not self.stopping:
            for message in self.link.messages(WAIT_S):
                self.handle(search, message)
            if self.pending or (search is not None and search.queue):
                return True
        return False


def child_main(fd: int) -> None:
    """``python -m planner.solver.parallel_bb FD``: the task from standard input, messages to ``FD``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    problem, options, parent, of_uncoupled = pickle.load(sys.stdin.buffer)
    threading.Thread(target=_end_with_parent, args=(parent,), daemon=True).start()
    lock = threading.Lock()
    with os.fdopen(fd, "wb") as channel:
        def send(message) -> None:
            with lock:
                pickle.dump(message, channel)
                channel.flush()
        worker = Worker(Link(sys.stdin.buffer, send))
        index = ModelIndex.from_problem(problem)
        costs = (DenseCosts if of_uncoupled else DenseCapacitated).of(problem, index)
        if costs is None or not worker.refill(None):
            return
        seeds, worker.pending = worker.pending, []
        if of_uncoupled:
            search = lagrangian_bb.branch_and_bound(costs, options, None, rival=worker, seeds=seeds)
        else:
            search = branch_and_bound(problem, index, costs, options, None, rival=worker, seeds=seeds)
        search.best_cost = min(search.best_cost, worker.parent_cost)
        worker.report(search, "done")


if __name__ == "__main__":
    child_main(int(sys.argv[1]))
