"""HiGHS beside the Lagrangian branch-and-bounds, in a second process: a race on two cores.

**Why.** Neither method wins on every instance of the capacitated branch-and-bound's shape
(``planner.solver.capacitated_bb``): on sparse generated 200 × 3,000 instances
(``benchmarks/overhead.py``'s generator, one thread each, gap 0.1 %) the search proved seed 2 in 16.1 s
where HiGHS took 67.0 s, and seed 3 in 158.2 s where HiGHS took 71.6 s; on ``capa`` at capacity 2,000
the search finds the optimum at its root but its Lagrangian bound stays 1.3 % below it, where HiGHS's
cuts on the capacity rows prove it (116.5 s). The search runs on one core, so a second core is free.

**Where** (:func:`applies`): the engine has chosen either branch-and-bound, on a POSIX system
(the child gets a pipe and a session of its own), the run may use two cores (``SolverOptions.threads``
unset or at least 2, and the machine has them) and the model has at least ``MIN_ARCS`` arcs (smaller
ones are proven before a second interpreter has started).

**How.** A child process (``python -m planner.solver.race``: a fresh interpreter, so no HiGHS threads
are copied from this one and no user's script is imported again; in a session of its own, so Ctrl-C at
a terminal reaches only this process) builds the standard form and runs HiGHS on it with one thread
from the same start, within the same deadline; it sends its dual bound as it rises, and its report and
solution when it ends, through a pipe. The search here stops, besides at its own proof and the time
limit, when HiGHS has proven its solution or when HiGHS's bound would prune the search's root (its
incumbent is then within the MIP gap of a valid bound). The answer is the cheaper of the two solutions
with the larger of the two valid bounds (:func:`combined`); each solution is audited by the pipeline
as any other. The child is killed whenever this process stops racing (a proof, an error, Ctrl-C or
SIGTERM), and ends itself if this process disappears.

**Uncoupled flows** (``uncoupled``: UFL, p-median, ``planner.solver.lagrangian_bb``): the search gets the
whole time limit instead of ``engine.BB_SHARE`` of it, and the child runs HiGHS's route for uncoupled
flows (the radius model or the standard route, ``engine.solve_uncoupled_by_highs``) from the start; it
sends no bound (that route runs HiGHS more than once) and takes no incumbents (the search keeps open
sets, not flows). On the generated Kratica instance of seed 3 (200 × 200, 30 s) the search ended at
1.59 % instead of 2.41 % with half the time; HiGHS alone had 7.1 %.
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
from pathlib import Path

import highspy

from planner.errors import InfeasibleError, SolverError
from planner.model.arrays import build_standard_form, solution_from_vector, start_vector
from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.problem import Problem
from planner.solver.capacitated_bb import DenseCapacitated, branch_and_bound
from planner.solver.highs import run_highs
from planner.solver.lagrangian_bb import search_report, solve_lagrangian_bb
from planner.solver.outcome import OPTIMAL_GAP, SolveReport, SolverOptions, Status, relative_gap

logger = logging.getLogger(__name__)

MIN_ARCS = 5000  # arcs: below this the search alone (a tiny model is proven before HiGHS has started)
GRACE_S = 1.0  # seconds a child whose HiGHS has started gets past the deadline to send its result
PARENT_CHECK_S = 0.5  # how often the child checks that this process still exists
USER_SOLUTION = highspy.cb.HighsCallbackType.kCallbackMipUserSolution
BOUND_EVERY_S = 0.2  # the child sends a risen bound at most this often


def applies(problem: Problem, options: SolverOptions) -> bool:
    """Whether HiGHS races the branch-and-bound (see the module docstring)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return (os.name == "posix" and cores >= 2 and (options.threads is None or options.threads >= 2)
            and problem.n_arcs >= MIN_ARCS)


@dataclass
class Rival:
    """HiGHS in its child process, seen from here: its bound so far, its result once it has ended. A
    reader thread takes the child's messages off the pipe (``("started",)`` once HiGHS starts, ``("bound",
    value)`` while it runs, then ``("solved", report, solution)`` or ``("failed", message)``)."""

    process: subprocess.Popen
    highs_bound: float = -math.inf
    result: tuple | None = None
    done: threading.Event = field(default_factory=threading.Event)
    outbox: queue.Queue = field(default_factory=queue.Queue)  # incumbents for the child; None ends the writer
    offered_cost: float = math.inf
    stopping: bool = False  # set by stop(): the child's end is this process's doing
    running: bool = False  # HiGHS has started in the child (its model built)

    @classmethod
    def start(cls, problem: Problem, options: SolverOptions, start: Solution | None, uncoupled: bool = False) -> Rival:
        """The child: ``python -m planner.solver.race`` in a session of its own (Ctrl-C at a terminal is
        this process's to handle), the task on its standard input, its messages on a pipe of their own
        (HiGHS may print on standard output)."""
        process, reading = spawn_child("planner.solver.race")
        logger.info("HiGHS races the branch-and-bound in process %d", process.pid)
        rival = cls(process)
        threading.Thread(target=rival._read, args=(os.fdopen(reading, "rb"),), daemon=True).start()
        child_options = replace(options, threads=1, quiet=True, progress_s=None)
        task = (problem, child_options, start, time.time(), os.getpid(), uncoupled)
        # written by a thread: the pipe takes the task only as fast as the child, still importing, reads it;
        # then the search's incumbents as they come (see offer)
        threading.Thread(target=_write_to_child, args=(task, rival.outbox, process.stdin), daemon=True).start()
        return rival

    def _read(self, stream) -> None:
        with stream:
            try:
                while True:
                    message = pickle.load(stream)
                    if message[0] == "started":
                        self.running = True
                    elif message[0] == "bound":
                        self.highs_bound = max(self.highs_bound, message[1])
                    else:
                        self.result = message
            except Exception:  # EOF, or a broken message: the child has ended
                pass
        if self.result is None:
            self.result = ("failed", "HiGHS's process ended without a result")
        if self.result[0] == "failed" and not self.stopping:
            logger.info("HiGHS beside the search ended without a solution (%s); the search goes on alone",
                        self.result[1])
        self.done.set()

    def bound(self) -> float:
        return self.highs_bound

    def refill(self, search) -> bool:
        """No nodes from HiGHS: a search whose queue is empty has ended."""
        return False

    def ended(self, wait_s: float = 0.0) -> bool:
        """True once the child has ended (with a result or not), waiting up to ``wait_s``."""
        return self.done.wait(wait_s) if wait_s > 0 else self.done.is_set()

    def solved(self) -> bool:
        return self.ended() and self.result[0] == "solved"

    def proven(self) -> bool:
        """HiGHS has ended with its solution proven (within the MIP gap)."""
        return self.solved() and self.result[1].status in (Status.OPTIMAL, Status.GAP_LIMIT)

    def decides(self, search) -> bool:
        """Whether the search may stop: HiGHS has proven its solution (one stopped at its time limit
        leaves the search its own), or its bound prunes the search's root. Offers
        HiGHS the search's incumbent where it is new (HiGHS prunes with it, and takes it as its own)."""
        offer = getattr(search, "best", None)  # a Solution (the capacitated search's; the uncoupled one has none)
        if offer is not None and search.best_cost < self.offered_cost:
            self.offered_cost = search.best_cost
            self.outbox.put(offer)
        return self.proven() or (math.isfinite(search.best_cost) and search.prunes(self.bound()))

    def stop(self) -> None:
        """Kill the child if it still runs."""
        self.stopping = True
        self.outbox.put(None)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def spawn_child(module: str) -> tuple[subprocess.Popen, int]:
    """``python -m MODULE FD`` in a session of its own (Ctrl-C at a terminal is this process's to handle),
    with a pipe for its standard input and another for its messages (to ``FD``; HiGHS may print on
    standard output): the process and the reading end of the message pipe."""
    reading, writing = os.pipe()
    package_root = str(Path(__file__).resolve().parents[2])  # this planner, wherever it was imported from
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", module, str(writing)], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(writing,), start_new_session=True,
            env=env)
    except BaseException:
        os.close(reading)
        raise
    finally:
        os.close(writing)
    return process, reading


def _write_to_child(task: tuple, outbox: queue.Queue, stream) -> None:
    """The task, then each solution from ``outbox`` until None, pickled onto the child's standard input."""
    try:
        with stream:
            pickle.dump(task, stream)
            stream.flush()
            while (solution := outbox.get()) is not None:
                pickle.dump(solution, stream)
                stream.flush()
    except OSError:  # the child has ended (killed, or failed at once); its reader reports it
        pass


class Inbox:
    """The child's side of the incumbents: the newest one not yet handed to HiGHS."""

    def __init__(self) -> None:
        self.lock, self.newest = threading.Lock(), None

    def read(self, stream) -> None:
        try:
            while True:
                solution = pickle.load(stream)
                with self.lock:
                    self.newest = solution
        except Exception:  # EOF: the parent has stopped writing
            pass

    def take(self):
        with self.lock:
            solution, self.newest = self.newest, None
        return solution


def _highs_side(problem: Problem, options: SolverOptions, start: Solution | None, race_started: float,
                send, inbox: Inbox) -> None:
    """The child's work: HiGHS on the standard form from ``start`` within what is left of the time limit
    since ``race_started`` (a ``time.time()`` reading), offered the search's incumbents from ``inbox``
    at its user-solution callbacks; ``send`` its dual bound as it rises (at most every
    ``BOUND_EVERY_S``), then its result."""
    options = _time_left(options, race_started)
    last = {"bound": -math.inf, "at": 0.0}

    def observe(event) -> None:
        if event.callback_type == USER_SOLUTION:
            offered = inbox.take()
            if offered is not None:
                event.data_in.setSolution(start_vector(form, problem, index, offered))
            return
        bound = event.data_out.mip_dual_bound
        if math.isfinite(bound) and bound > last["bound"] and time.perf_counter() - last["at"] >= BOUND_EVERY_S:
            last["bound"], last["at"] = bound, time.perf_counter()
            send(("bound", float(bound)))

    try:
        index = ModelIndex.from_problem(problem)
        form = build_standard_form(problem, index)
        vector = None if start is None else start_vector(form, problem, index, start)
        send(("started",))
        report, values = run_highs(form, options, start=vector, observe=observe)
        send(("solved", report, solution_from_vector(form, problem, index, values)))
    except (InfeasibleError, SolverError) as error:
        send(("failed", str(error)))


def _uncoupled_side(problem: Problem, options: SolverOptions, start: Solution | None, race_started: float,
                    send) -> None:
    """The child's work beside the uncoupled Lagrangian branch-and-bound: HiGHS's route for uncoupled
    flows (``planner.solver.engine.solve_uncoupled_by_highs``: the radius model or the standard route)
    within what is left of the time limit; ``send`` its result."""
    from planner.solver.engine import solve_uncoupled_by_highs  # the engine imports this module

    options = _time_left(options, race_started)
    try:
        send(("started",))
        send(("solved", *solve_uncoupled_by_highs(problem, options, start)))
    except (InfeasibleError, SolverError) as error:
        send(("failed", str(error)))


def _time_left(options: SolverOptions, race_started: float) -> SolverOptions:
    """``options`` with what is left of the time limit since ``race_started`` (a ``time.time()`` reading)."""
    if options.time_limit_s is None:
        return options
    return replace(options, time_limit_s=max(options.time_limit_s - (time.time() - race_started), 0.1))


def _end_with_parent(parent: int) -> None:
    """End this (child) process once its parent is gone (a parent killed outright cannot kill it)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def child_main(fd: int) -> None:
    """``python -m planner.solver.race FD``: the task from standard input, the messages to ``FD``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    problem, options, start, race_started, parent, uncoupled = pickle.load(sys.stdin.buffer)
    threading.Thread(target=_end_with_parent, args=(parent,), daemon=True).start()
    inbox = Inbox()
    threading.Thread(target=inbox.read, args=(sys.stdin.buffer,), daemon=True).start()
    lock = threading.Lock()  # HiGHS's callbacks may come from its threads
    with os.fdopen(fd, "wb") as channel:
        def send(message) -> None:
            with lock:
                pickle.dump(message, channel)
                channel.flush()
        if uncoupled:
            _uncoupled_side(problem, options, start, race_started, send)
        else:
            _highs_side(problem, options, start, race_started, send, inbox)


def combined(bb_report: SolveReport, bb_solution: Solution, bb_proven: bool, rival: Rival,
             options: SolverOptions, seconds: float) -> tuple[SolveReport, Solution]:
    """The cheaper solution of the two, the larger of the two valid bounds (at most its cost), and the
    status they give: optimal where a side proved the kept solution or the gap is within the MIP gap
    (``gap_limit`` above ``OPTIMAL_GAP``), else ``time_limit``."""
    objective, solution, solver = bb_report.objective, bb_solution, bb_report.solver
    bound, proven = bb_report.best_bound, bb_proven
    if rival.solved():
        _, highs_report, highs_solution = rival.result
        if highs_report.objective < objective:
            objective, solution, solver = highs_report.objective, highs_solution, highs_report.solver
            proven = highs_report.status in (Status.OPTIMAL, Status.GAP_LIMIT)
        bound = max(bound, highs_report.best_bound if highs_report.best_bound is not None else -math.inf)
    bound = min(max(bound, rival.bound()), objective)
    gap = relative_gap(objective, bound)
    closed = proven or (gap is not None and gap <= options.mip_gap)
    status = Status.TIME_LIMIT if not closed else Status.GAP_LIMIT if gap is not None and gap > OPTIMAL_GAP \
        else Status.OPTIMAL
    termination = "search complete" if closed else "time limit reached"
    other = "HiGHS" if solver == bb_report.solver else "the capacitated branch-and-bound"
    report = SolveReport.of(status, termination, objective, bound, options.mip_gap, f"{solver} (raced with {other})",
                            solve_s=seconds, nodes=bb_report.nodes)
    logger.info("race: %s from %s, bound %.10g, gap %s", status.value, solver, bound, gap)
    return report, solution


def solve_racing(problem: Problem, index: ModelIndex, options: SolverOptions, start: Solution | None = None,
                 uncoupled: bool = False):
    """The capacitated branch-and-bound (``uncoupled``: the Lagrangian one of ``planner.solver.lagrangian_bb``)
    here and HiGHS in a child process, within ``options.time_limit_s`` (none: until one proves its
    solution, or the two together do): (report, solution), or None where the search's tables cannot be
    built or it found nothing (the caller's standard route then runs, and explains why)."""
    started = time.perf_counter()
    rival = Rival.start(problem, options, start, uncoupled)
    try:
        found = _search(problem, index, options, start, rival, uncoupled)
        if found is None:
            return None
        bb_report, bb_solution, proven = found
        closed = relative_gap(bb_report.objective, rival.bound())
        if not proven and rival.running and not rival.ended() and (closed is None or closed > options.mip_gap):
            rival.ended(GRACE_S)  # stopped at the time limit: HiGHS stops at the same deadline
        return combined(bb_report, bb_solution, proven, rival, options, time.perf_counter() - started)
    finally:
        rival.stop()


def _search(problem: Problem, index: ModelIndex, options: SolverOptions, start: Solution | None, rival: Rival,
            uncoupled: bool):
    """The branch-and-bound's (report, solution, proven), or None (see :func:`solve_racing`)."""
    if uncoupled:
        return solve_lagrangian_bb(problem, index, options, options.time_limit_s,
                                   None if start is None else start.open > 0, rival=rival)
    costs = DenseCapacitated.of(problem, index)
    if costs is None:
        return None
    started = time.perf_counter()
    search = branch_and_bound(problem, index, costs, options, options.time_limit_s, start, rival=rival)
    if search.best is None:
        return None
    report, proven = search_report(search, options, time.perf_counter() - started,
                                   "capacitated Lagrangian branch-and-bound")
    return report, search.best, proven

if __name__ == "__main__":
    child_main(int(sys.argv[1]))
