"""HiGHS through ``planner.solver.highs``: how each HiGHS model status becomes a :class:`Status` or an
error, the retry without the MIP start, Ctrl-C (``planner.interrupt.STOP``) ending a run at once, and
the thread count kept within the machine's cores. Tiny hand-made LPs and MIPs."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import time

import highspy
import numpy as np
import pytest
from scipy import sparse

import planner.interrupt as interrupt
import planner.solver.highs as highs_module
from planner.errors import InfeasibleError, SolverError
from planner.interrupt import Interrupted
from planner.model.arrays import LinearForm
from planner.solver.highs import new_highs, pass_model, run_highs, run_highs_once, run_interruptibly, solve_lp
from planner.solver.outcome import SolveReport, SolverOptions, Status

MODEL_STATUS = highspy.HighsModelStatus
QUIET = SolverOptions(progress_s=None)

# what each HiGHS model status means for the planner (kInterrupt: see the Ctrl-C tests)
REPORTED = {
    MODEL_STATUS.kOptimal: Status.OPTIMAL,
    MODEL_STATUS.kModelEmpty: Status.OPTIMAL,
    MODEL_STATUS.kTimeLimit: Status.TIME_LIMIT,
    MODEL_STATUS.kIterationLimit: Status.OTHER_LIMIT,
    MODEL_STATUS.kSolutionLimit: Status.OTHER_LIMIT,
    MODEL_STATUS.kObjectiveBound: Status.OTHER_LIMIT,
    MODEL_STATUS.kObjectiveTarget: Status.OTHER_LIMIT,
}
RAISED = {
    MODEL_STATUS.kInfeasible: InfeasibleError,
    MODEL_STATUS.kUnboundedOrInfeasible: InfeasibleError,
    MODEL_STATUS.kUnbounded: SolverError,
}
UNMAPPED = [
    status
    for status in MODEL_STATUS.__members__.values()
    if status not in REPORTED and status not in RAISED and status != MODEL_STATUS.kInterrupt
]


def two_variable_lp(rhs: float = 1.0) -> LinearForm:
    """min x + 2y s.t. x + y ≥ rhs, 0 ≤ x, y ≤ 1: x = rhs, objective rhs (infeasible for rhs > 2)."""
    return LinearForm(
        matrix=sparse.csr_array(np.array([[1.0, 1.0]])),
        row_lower=np.array([rhs]),
        row_upper=np.array([np.inf]),
        col_lower=np.zeros(2),
        col_upper=np.ones(2),
        integer=np.zeros(2, dtype=bool),
        cost=np.array([1.0, 2.0]),
        offset=0.0,
    )


def knapsack(n_items: int = 30, n_rows: int = 3, seed: int = 0) -> LinearForm:
    """A seeded multi-dimensional 0-1 knapsack (maximise value as min −value): HiGHS's presolve does
    not solve it, so the simplex and MIP callbacks are reached."""
    rng = np.random.default_rng(seed)
    weight = rng.integers(20, 100, (n_rows, n_items)).astype(float)
    return LinearForm(
        matrix=sparse.csr_array(weight),
        row_lower=np.full(n_rows, -np.inf),
        row_upper=weight.sum(axis=1) / 2,
        col_lower=np.zeros(n_items),
        col_upper=np.ones(n_items),
        integer=np.ones(n_items, dtype=bool),
        cost=-rng.integers(20, 100, n_items).astype(float),
        offset=0.0,
    )


@pytest.fixture
def stop():
    """``STOP`` set as by Ctrl-C, and cleared afterwards whatever happens."""
    interrupt.STOP.set()
    try:
        yield
    finally:
        interrupt.STOP.clear()


def with_model_status(monkeypatch, status) -> None:
    """HiGHS solves for real, but reports ``status``."""
    real_new_highs = highs_module.new_highs

    def faked(options):
        instance = real_new_highs(options)
        instance.getModelStatus = lambda: status
        return instance

    monkeypatch.setattr(highs_module, "new_highs", faked)


def test_a_solved_lp_and_mip_are_optimal_and_an_infeasible_lp_raises():
    report, values = run_highs_once(two_variable_lp(), QUIET)
    assert report.status is Status.OPTIMAL and report.termination == "Optimal"
    assert report.objective == pytest.approx(1.0) and report.best_bound == pytest.approx(1.0)
    np.testing.assert_allclose(values, [1.0, 0.0], atol=1e-9)
    report, values = run_highs_once(knapsack(10), QUIET)
    assert report.status is Status.OPTIMAL and report.nodes is not None
    assert report.objective == pytest.approx(float(knapsack(10).cost @ values))
    with pytest.raises(InfeasibleError, match="infeasible"):
        run_highs_once(two_variable_lp(rhs=3.0), QUIET)


@pytest.mark.parametrize("model_status", list(REPORTED), ids=lambda status: status.name)
def test_each_mapped_status_with_a_solution_gives_its_status(monkeypatch, model_status):
    with_model_status(monkeypatch, model_status)
    report, _ = run_highs_once(two_variable_lp(), QUIET)
    assert report.status is REPORTED[model_status]
    assert report.objective == pytest.approx(1.0)
    # an LP has a bound only when it is proven optimal
    assert (report.best_bound is not None) == (REPORTED[model_status] is Status.OPTIMAL)


def test_a_mip_stopped_at_its_time_limit_within_its_gap_is_gap_limit_never_optimal(monkeypatch):
    """HiGHS's time limit reached where the gap is already within the tolerance: the single solve's rule
    (``planner.solver.presolve.with_gap``) for every HiGHS run, the studies' too (a rollout had read
    ``time_limit`` at a gap under the one asked for)."""
    with_model_status(monkeypatch, highspy.HighsModelStatus.kTimeLimit)
    report, _ = run_highs_once(knapsack(10), QUIET)
    assert report.status is Status.GAP_LIMIT and report.mip_gap <= report.mip_gap_tolerance


def test_within_tolerance_keeps_a_gap_above_the_tolerance_stopped_and_never_says_optimal():
    from planner.solver.outcome import within_tolerance

    def report(status, bound):
        return SolveReport.of(status, "", 100.0, bound, 0.01, "HiGHS")

    assert within_tolerance(report(Status.TIME_LIMIT, 99.5)).status is Status.GAP_LIMIT
    assert within_tolerance(report(Status.TIME_LIMIT, 100.0)).status is Status.GAP_LIMIT  # not optimal: stopped
    assert within_tolerance(report(Status.OTHER_LIMIT, 99.5)).status is Status.GAP_LIMIT
    assert within_tolerance(report(Status.TIME_LIMIT, 90.0)).status is Status.TIME_LIMIT
    assert within_tolerance(report(Status.TIME_LIMIT, None)).status is Status.TIME_LIMIT
    assert within_tolerance(report(Status.OPTIMAL, 100.0)).status is Status.OPTIMAL


@pytest.mark.parametrize("model_status", list(RAISED), ids=lambda status: status.name)
def test_infeasible_and_unbounded_statuses_raise(monkeypatch, model_status):
    with_model_status(monkeypatch, model_status)
    with pytest.raises(RAISED[model_status]):
        run_highs_once(two_variable_lp(), QUIET)


@pytest.mark.parametrize("model_status", UNMAPPED, ids=lambda status: status.name)
def test_an_unmapped_status_is_an_error_and_no_result_is_trusted(monkeypatch, model_status):
    assert len(UNMAPPED) >= 8  # kNotset, the error statuses, kUnknown, kMemoryLimit, ...
    with_model_status(monkeypatch, model_status)
    with pytest.raises(SolverError, match="no result is trusted"):
        run_highs_once(two_variable_lp(), QUIET)


def _report(objective: float, mismatch: bool = False) -> SolveReport:
    return SolveReport.of(Status.OPTIMAL, "test", objective, objective, 1e-4, "test", objective_mismatch=mismatch)


class FakeRuns:
    """Stands in for ``run_highs_once``: the first run's report has a mismatched objective; the
    retry returns ``retry`` (a report, or an exception to raise). Records each run's start."""

    def __init__(self, first: float, retry) -> None:
        self.first, self.retry, self.starts, self.limits = first, retry, [], []

    def __call__(self, compiled, options, start=None, started=None, observe=None):
        self.starts.append(start)
        self.limits.append(options.time_limit_s)
        if len(self.starts) == 1:
            return _report(self.first, mismatch=True), np.array([1.0])
        if isinstance(self.retry, Exception):
            raise self.retry
        return _report(self.retry), np.array([2.0])


@pytest.mark.parametrize(("first", "retry", "kept"), [(10.0, 8.0, 8.0), (10.0, 12.0, 10.0)])
def test_a_mismatched_objective_after_a_start_is_solved_again_without_it(monkeypatch, first, retry, kept):
    runs = FakeRuns(first, retry)
    monkeypatch.setattr(highs_module, "run_highs_once", runs)
    start = np.array([0.5])
    report, values = run_highs(two_variable_lp(), QUIET, start=start)
    assert len(runs.starts) == 2
    assert runs.starts[0] is start and runs.starts[1] is None
    assert report.objective == kept
    assert values[0] == (2.0 if kept == retry else 1.0)


def test_a_failed_retry_keeps_the_first_run(monkeypatch):
    runs = FakeRuns(10.0, SolverError("HiGHS ended without a feasible solution"))
    monkeypatch.setattr(highs_module, "run_highs_once", runs)
    report, values = run_highs(two_variable_lp(), QUIET, start=np.array([0.5]))
    assert len(runs.starts) == 2
    assert report.objective == 10.0 and report.objective_mismatch and values[0] == 1.0


def test_the_retry_gets_what_is_left_of_the_time_limit(monkeypatch):
    """The retry without the start had been given the whole limit again (a 10 s solve could take 20 s);
    with too little left it is not run, and the first run's values stand."""
    runs = FakeRuns(10.0, 8.0)
    monkeypatch.setattr(highs_module, "run_highs_once", runs)
    options = dataclasses.replace(QUIET, time_limit_s=10.0)
    report, _ = run_highs(two_variable_lp(), options, start=np.array([0.5]), started=time.perf_counter() - 6.0)
    assert runs.limits[0] == 10.0 and 3.0 < runs.limits[1] <= 4.0 and report.objective == 8.0
    runs = FakeRuns(10.0, 8.0)
    monkeypatch.setattr(highs_module, "run_highs_once", runs)
    report, _ = run_highs(two_variable_lp(), options, start=np.array([0.5]), started=time.perf_counter() - 9.99)
    assert runs.starts == [runs.starts[0]] and report.objective == 10.0 and report.objective_mismatch


def test_no_retry_without_a_start(monkeypatch):
    runs = FakeRuns(10.0, 8.0)
    monkeypatch.setattr(highs_module, "run_highs_once", runs)
    report, _ = run_highs(two_variable_lp(), QUIET)
    assert runs.starts == [None] and report.objective == 10.0


def test_stop_ends_a_mip_at_once_and_raises_interrupted(stop):
    highs = new_highs(SolverOptions(threads=1))
    pass_model(highs, knapsack())
    started = time.perf_counter()
    with pytest.raises(Interrupted):
        run_interruptibly(highs)
    assert time.perf_counter() - started < 5.0
    # stopped by the callbacks before any work, not solved and then discarded
    assert highs.getModelStatus() == MODEL_STATUS.kInterrupt
    assert highs.getInfo().mip_node_count == 0


def test_a_stopped_solve_raises_interrupted_and_returns_nothing(stop):
    with pytest.raises(Interrupted):
        run_highs(knapsack(), QUIET)
    with pytest.raises(Interrupted):
        solve_lp(two_variable_lp())


def test_an_interrupted_status_raises_even_outside_a_native_section(monkeypatch, stop):
    """kInterrupt comes only from the STOP callbacks: it is never reported as a result."""
    monkeypatch.setattr(highs_module, "native_section", contextlib.nullcontext)
    with pytest.raises(Interrupted):
        run_highs_once(knapsack(), QUIET)


def test_a_solve_after_stop_is_cleared_runs_normally():
    report, _ = run_highs(knapsack(), QUIET)
    assert report.status is Status.OPTIMAL


@pytest.mark.parametrize(("asked", "cores", "used"), [(4, 1, 1), (2, 2, 2), (1, 8, 1)])
def test_threads_are_kept_within_the_cores(monkeypatch, caplog, asked, cores, used):
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    with caplog.at_level(logging.INFO, logger="planner.solver.highs"):
        highs = new_highs(SolverOptions(threads=asked))
    _, threads = highs.getOptionValue("threads")  # (status, value)
    assert threads == used
    assert ("cores" in caplog.text) == (asked > cores)


def test_a_time_limit_before_any_solution_says_to_give_more_time():
    """A MIP stopped by its time limit before HiGHS found a solution: the error names the limit and the
    fix (the option and the model-file key), not just HiGHS's status."""

    class Stopped:  # what HiGHS reports then
        def getModelStatus(self):
            return highspy.HighsModelStatus.kTimeLimit

        def modelStatusToString(self, status):
            return "Time limit reached"

        def getInfo(self):
            return type("Info", (), {"primal_solution_status": 0})()

    with pytest.raises(SolverError, match=r"Time limit reached\); give it more time \(--time-limit, or time_limit_s"):
        highs_module._checked_status(Stopped())


@pytest.mark.parametrize("row_lower, row_upper, infeasible", [(1.0, 1.0, True), (-np.inf, -1.0, True),
                                                              (0.0, 5.0, False)])
def test_a_model_without_columns_is_infeasible_when_zero_misses_a_row(row_lower, row_upper, infeasible):
    """HiGHS calls a model without columns "empty" whatever its rows ask (a demand row = 1 with no arc):
    infeasible when 0 misses a row, an empty solution otherwise."""
    form = LinearForm(
        matrix=sparse.csr_array((1, 0)), row_lower=np.array([row_lower]), row_upper=np.array([row_upper]),
        col_lower=np.zeros(0), col_upper=np.zeros(0), integer=np.zeros(0, dtype=bool), cost=np.zeros(0),
        offset=0.0,
    )
    if infeasible:
        with pytest.raises(InfeasibleError):
            run_highs(form, SolverOptions(quiet=True))
    else:
        report, values = run_highs(form, SolverOptions(quiet=True))
        assert report.status is Status.OPTIMAL and len(values) == 0


@pytest.mark.parametrize(("resolve", "per_iteration"), [(False, True), (True, False)])
def test_a_resolve_subscribes_no_per_iteration_callback(monkeypatch, resolve, per_iteration):
    """From the size threshold, a run gets HiGHS's simplex and interior-point callbacks, but a
    re-solve of a persistent LP does not (with another thread holding the GIL, every callback waits
    for it); the MIP callback is always there."""
    monkeypatch.setattr(highs_module, "INTERRUPT_EVERY_ITERATION_NONZEROS", 0)
    highs = new_highs(SolverOptions(threads=1))
    pass_model(highs, two_variable_lp())
    run_interruptibly(highs, resolve=resolve)
    assert highs.getModelStatus() == MODEL_STATUS.kOptimal
    assert bool(highs.cbSimplexInterrupt.callbacks) is per_iteration
    assert bool(highs.cbIpmInterrupt.callbacks) is per_iteration
    assert highs.cbMipInterrupt.callbacks


def test_relative_gap_of_an_objective_of_about_zero_is_none_not_astronomical():
    """An empty network of a model with revenues costs 0 against a bound of −2.8e9: the gap was printed as
    281134449660063580160.000 % (divided by 1e-9); there is no relative gap there."""
    from planner.solver.outcome import gap_text, relative_gap

    assert relative_gap(0.0, -2.811e9) is None
    assert relative_gap(0.0, 0.0) == 0.0
    assert relative_gap(-177.7e6, -179.3e6) == pytest.approx(1.6 / 177.7)
    assert relative_gap(100.0, 99.0) == pytest.approx(0.01)
    assert gap_text(relative_gap(0.0, -2.811e9)) == "n/a"
    assert gap_text(relative_gap(10.0, -2.811e9)) == "> 10000%"


def test_a_solve_stopped_at_a_looser_gap_is_never_termed_optimal():
    """HiGHS says "Optimal" when it reaches its relative gap tolerance; where the planner's status is not
    optimal (a gap looser than 0.01 %), the termination says so in words that do not contradict it."""
    loose = SolveReport.of(Status.GAP_LIMIT, "Optimal", 101.0, 100.0, 0.01, "highs")
    assert "Optimal" != loose.termination and "gap tolerance" in loose.termination
    assert SolveReport.of(Status.OPTIMAL, "Optimal", 100.0, 100.0, 1e-4, "highs").termination == "Optimal"
