"""Ctrl-C in the presolve (``planner.interrupt.STOP``): the subgradient ends at its next step, also
on the worker thread beside the module search, and the main thread raises ``Interrupted`` once that
thread has ended. Seeded tiny instances."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import planner.interrupt as interrupt
import planner.solver.presolve as presolve
from planner.interrupt import Interrupted
from planner.model import ModelIndex
from planner.solver.lagrangian import lagrangian_bound
from planner.solver.outcome import SolverOptions
from tests.test_brute_force import random_problem


@pytest.fixture
def stop():
    """Clears ``STOP`` afterwards, whatever happens (the test sets it)."""
    try:
        yield interrupt.STOP
    finally:
        interrupt.STOP.clear()


def test_the_subgradient_ends_at_its_first_step_once_stop_is_set(stop):
    problem = random_problem(3)
    index = ModelIndex.from_problem(problem)
    free = lagrangian_bound(problem, index, upper_bound=None, max_iterations=50, time_limit_s=60)
    stop.set()
    stopped = lagrangian_bound(problem, index, upper_bound=None, max_iterations=50, time_limit_s=60)
    assert free.iterations > 1 and stopped.iterations == 1
    assert np.isfinite(stopped.bound) and stopped.bound <= free.bound + 1e-9


@pytest.mark.parametrize("search_raises", [False, True])
def test_the_subgradient_thread_beside_the_module_search_ends_and_interrupted_is_raised(
    monkeypatch, stop, search_raises
):
    """The module search (faked) is stopped by Ctrl-C while the subgradient runs on the worker
    thread with no iteration limit and half a minute to go: the run ends within seconds with
    ``Interrupted``, whether the search raised it or returned."""
    real_bound = presolve.lagrangian_bound
    worker_rounds = []

    def endless_on_the_worker(*args, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            kwargs["max_iterations"] = 10**9
            worker_rounds.append(kwargs["time_limit_s"])
        return real_bound(*args, **kwargs)

    def stopped_search(*args, **kwargs):
        time.sleep(0.2)  # the worker is well into its round
        stop.set()
        if search_raises:
            raise Interrupted()
        return None

    monkeypatch.setattr(presolve, "LARGE_MODEL_ARCS", 0)
    monkeypatch.setattr(presolve, "lagrangian_bound", endless_on_the_worker)
    monkeypatch.setattr(presolve, "module_search", stopped_search)
    problem = random_problem(5, capacitated_must_serve=True)  # a duality gap: the subgradient never ends alone
    options = SolverOptions(time_limit_s=60.0, presolve_min_arcs=0, threads=2)
    started = time.perf_counter()
    with pytest.raises(Interrupted):
        presolve.lagrangian_presolve(problem, ModelIndex.from_problem(problem), options)
    assert len(worker_rounds) == 1 and worker_rounds[0] > 20.0
    assert time.perf_counter() - started < 10.0


def test_pyomo_construction_errors_are_not_logged_once_stopped(caplog):
    """An interruption raised inside a constraint rule: Pyomo's own 'Constructing component ... failed'
    line is dropped (the CLI prints the one line); other Pyomo errors still show."""
    import logging

    import planner.model.build  # noqa: F401 - installs the filter
    from planner import interrupt

    pyomo_core = logging.getLogger("pyomo.core")
    with caplog.at_level(logging.ERROR, logger="pyomo.core"):
        pyomo_core.error("shown before a stop")
        interrupt.STOP.set()
        try:
            pyomo_core.error("Constructing component 'x' from data=None failed")
        finally:
            interrupt.STOP.clear()
    assert "shown before a stop" in caplog.text
    assert "Constructing component" not in caplog.text


def test_an_interruption_raised_in_a_finaliser_prints_no_traceback(monkeypatch):
    """A signal that lands in a finaliser or weakref callback raises Interrupted where Python can only
    report it as "Exception ignored … Traceback"; inside ``handle_signals`` that report is dropped (the
    run still stops), while any other unraisable exception is still reported."""
    import sys

    reported = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: reported.append(type(unraisable.exc_value)))

    class Finalised:
        def __init__(self, error):
            self.error = error

        def __del__(self):
            raise self.error

    with interrupt.handle_signals():
        Finalised(Interrupted())
        Finalised(ValueError("other"))
    Finalised(Interrupted())  # outside: reported as before
    assert reported == [ValueError, Interrupted]


def test_a_keyboard_interrupt_outside_the_command_stops_highs_too():
    """A library caller's Ctrl-C (Python's own handler: ``KeyboardInterrupt`` in the main thread, no
    ``STOP``) had left HiGHS running on its thread to its time limit, a core busy after the call
    returned."""
    import _thread

    import highspy

    from planner.solver.highs import run_interruptibly

    namespace = {}
    exec(HARD_KNAPSACK, namespace)
    highs = namespace["highs"]
    highs.setOptionValue("time_limit", 60.0)
    timer = threading.Timer(1.0, _thread.interrupt_main)
    timer.start()
    started = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_interruptibly(highs)
    finally:
        timer.cancel()
    assert time.perf_counter() - started < 5
    deadline = time.perf_counter() + 5
    while any(t.name == "planner-highs" for t in threading.enumerate()) and time.perf_counter() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "planner-highs" for t in threading.enumerate())
    assert highs.getModelStatus() == highspy.HighsModelStatus.kInterrupt


HARD_KNAPSACK = """
import highspy
import numpy as np

rng = np.random.default_rng(7)
n, m = 200, 30  # a multi-dimensional knapsack HiGHS does not close in 20 s
weights = rng.integers(10, 100, size=(m, n)).astype(float)
highs = highspy.Highs()
highs.setOptionValue("output_flag", False)
highs.setOptionValue("threads", 1)
for value in rng.integers(10, 100, size=n):
    highs.addVar(0.0, 1.0)
    highs.changeColCost(highs.getNumCol() - 1, -float(value))
highs.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.ones(n, dtype=np.uint8))
for row in weights:
    highs.addRow(-highspy.kHighsInf, float(row.sum() / 2), n, np.arange(n, dtype=np.int32), row)
"""

ENDS_RIGHT_AFTER_CTRL_C = HARD_KNAPSACK + """
import _thread, threading
from planner.solver.highs import run_interruptibly

threading.Timer(1.0, _thread.interrupt_main).start()
try:
    run_interruptibly(highs)
except KeyboardInterrupt:
    print("interrupted")
"""


def test_a_script_that_ends_right_after_a_keyboard_interrupt_is_not_aborted():
    """A library caller's script ending at once after Ctrl-C (its KeyboardInterrupt caught, or not) had ended
    while HiGHS still ran on its thread: 'terminate called without an active exception', exit 134 (SIGABRT)."""
    import subprocess
    import sys
    from pathlib import Path

    ended = subprocess.run([sys.executable, "-c", ENDS_RIGHT_AFTER_CTRL_C], capture_output=True, text=True,
                           timeout=60, cwd=Path(__file__).resolve().parents[1])
    assert ended.stdout.strip().endswith("interrupted"), ended.stderr  # after the banner of HiGHS
    assert ended.returncode == 0 and "terminate called" not in ended.stderr, ended.stderr
