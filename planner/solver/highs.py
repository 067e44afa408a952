"""HiGHS through highspy: a :class:`~planner.model.arrays.LinearForm` (the standard form built
from arrays, or a Pyomo model compiled with Pyomo's standard-form compiler) is handed over in one
call, solved, and its outcome returned as a :class:`~planner.solver.outcome.SolveReport`. The other
modules of ``planner.solver`` that call highspy (the heuristic's flow LPs, the module search's
persistent LP) create their instances with :func:`new_highs` and :func:`pass_model` from here and
solve them with :func:`optimal_lp_solution`.

A run that stops at a limit with an incumbent is reported as such, never as optimal; no solution
raises :class:`InfeasibleError` or :class:`SolverError`. Every run goes through
:func:`run_interruptibly`: Ctrl-C or SIGTERM stops HiGHS through its interrupt callbacks and raises
:class:`~planner.interrupt.Interrupted`, so that a stopped run never yields a result.
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.tee import capture_output
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler
from scipy import sparse

from planner.errors import NoSolutionInTimeError, SolverError, UnexplainedInfeasibleError
from planner.interrupt import Interrupted, native_section, raise_if_stopped, stop_requested
from planner.model.arrays import LinearForm
from planner.solver.outcome import (
    OPTIMAL_GAP,
    SolveReport,
    SolverOptions,
    Status,
    gap_text,
    relative_gap,
    within_tolerance,
)

logger = logging.getLogger(__name__)

INF = highspy.kHighsInf
INTERRUPT_EVERY_ITERATION_NONZEROS = 20_000  # see run_interruptibly
WAIT_STEP_S = 0.05  # the main thread's polling step while HiGHS runs on its own thread
RETRY_MIN_S = 0.1  # run_highs: a retry without the start needs at least this much of the time limit left
ABANDON_AFTER_S = 0.5  # after Ctrl-C or SIGTERM: how long HiGHS gets to reach its next callback


_MODEL_STATUS = highspy.HighsModelStatus
_STATUS_OF = {
    _MODEL_STATUS.kOptimal: Status.OPTIMAL,
    _MODEL_STATUS.kModelEmpty: Status.OPTIMAL,  # nothing to decide: every variable is fixed or unused
    _MODEL_STATUS.kTimeLimit: Status.TIME_LIMIT,
    _MODEL_STATUS.kIterationLimit: Status.OTHER_LIMIT,
    _MODEL_STATUS.kSolutionLimit: Status.OTHER_LIMIT,
    _MODEL_STATUS.kObjectiveBound: Status.OTHER_LIMIT,
    _MODEL_STATUS.kObjectiveTarget: Status.OTHER_LIMIT,
    _MODEL_STATUS.kInfeasible: Status.INFEASIBLE,
    _MODEL_STATUS.kUnboundedOrInfeasible: Status.INFEASIBLE,  # our models are bounded
    _MODEL_STATUS.kUnbounded: Status.UNBOUNDED,
}


@dataclass(frozen=True)
class CompiledModel(LinearForm):
    """A compiled Pyomo model: its :class:`LinearForm` and the Pyomo variable of each column."""

    columns: list  # Pyomo VarData per column


def compile_model(model: pyo.ConcreteModel) -> CompiledModel:
    """The model as sparse arrays (fixed variables become constants)."""
    info = LinearStandardFormCompiler().write(model, mixed_form=True)
    kinds = np.fromiter((kind for _, kind in info.rows), dtype=np.int8, count=len(info.rows))
    rhs = np.asarray(info.rhs, dtype=float)
    row_lower = np.where(kinds == 1, -INF, rhs)
    row_upper = np.where(kinds == -1, INF, rhs)
    columns = list(info.columns)
    col_lower = np.array([-INF if v.lb is None else v.lb for v in columns], dtype=float)
    col_upper = np.array([INF if v.ub is None else v.ub for v in columns], dtype=float)
    integer = np.array([v.is_integer() for v in columns], dtype=bool)
    cost = np.asarray(info.c.toarray()).ravel() if info.c.shape[0] else np.zeros(len(columns))
    offset = float(info.c_offset[0]) if len(info.c_offset) else 0.0
    return CompiledModel(
        matrix=sparse.csr_array(info.A),
        row_lower=row_lower,
        row_upper=row_upper,
        col_lower=col_lower,
        col_upper=col_upper,
        integer=integer,
        cost=cost,
        offset=offset,
        columns=columns,
    )


_CONSTRUCTION = threading.Lock()
_BANNER_SHOWN = threading.Event()  # the first instance of the process was constructed (its banner captured)


def new_highs(options: SolverOptions) -> highspy.Highs:
    """A HiGHS instance with the options set; its log goes to stderr unless quiet. A ``threads``
    option above the machine's cores (``os.cpu_count()``) is lowered to them. Constructed under a
    lock. HiGHS prints a banner on stdout the first time an instance is constructed in a process;
    that once, standard output is captured (which swaps the process's streams: never while HiGHS
    runs on another thread, as beside ``planner.solver.beside``'s search, whose log would be lost)."""
    with _CONSTRUCTION:
        if _BANNER_SHOWN.is_set():
            highs = highspy.Highs()
        else:
            with capture_output(capture_fd=True):
                highs = highspy.Highs()
            _BANNER_SHOWN.set()
    highs.setOptionValue("log_to_console", False)
    highs.setOptionValue("output_flag", not options.quiet)
    if not options.quiet:
        highs.cbLogging.subscribe(_SolverLog())
    if options.threads is not None:
        # HiGHS keeps one global thread scheduler per process; a new thread count needs a fresh one
        highspy.Highs.resetGlobalScheduler(True)
        highs.setOptionValue("threads", available_threads(options.threads))
    if options.time_limit_s is not None:
        highs.setOptionValue("time_limit", float(options.time_limit_s))
    highs.setOptionValue("mip_rel_gap", float(options.mip_gap))
    highs.setOptionValue("mip_abs_gap", 1e-9)
    if not options.highs_heuristics:
        highs.setOptionValue("mip_heuristic_effort", 0.0)
    return highs


class _SolverLog:
    """HiGHS's log to stderr, each line marked ``HiGHS |`` (its "Status Optimal" and "badly scaled" warnings had
    read as the planner's, beside the planner's own status). HiGHS's empty lines are left out: between the
    planner's own progress lines they read as gaps in the log."""

    MARK = "HiGHS | "

    def __init__(self) -> None:
        self.partial = ""

    def __call__(self, event) -> None:
        text = self.partial + (event.message or "")
        *lines, self.partial = text.split("\n")
        shown = [self.MARK + line for line in lines if line.strip()]
        if shown:
            sys.stderr.write("\n".join(shown) + "\n")


def available_threads(threads: int, note: bool = True) -> int:
    """``threads``, or the machine's cores (``os.cpu_count()``) where it asks for more (logged with ``note``;
    the command warns of it itself)."""
    cores = os.cpu_count() or 1
    if int(threads) > cores:
        if note:
            logger.info("%d threads asked for, but this machine has %d cores: HiGHS uses %d", threads, cores,
                        cores)
        return cores
    return int(threads)


def pass_model(highs: highspy.Highs, compiled) -> None:
    """Hand the arrays of a :class:`CompiledModel` or a ``StandardForm`` to HiGHS in one call
    (the numpy overload of ``passModel``: no per-column Python objects)."""
    csc = sparse.csc_array(compiled.matrix)
    n_cols, n_rows = len(compiled.cost), len(compiled.row_lower)
    integrality = np.asarray(compiled.integer, dtype=np.int32)
    highs.passModel(
        n_cols,
        n_rows,
        int(csc.nnz),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        float(compiled.offset),
        np.asarray(compiled.cost, dtype=np.float64),
        np.where(np.isfinite(compiled.col_lower), compiled.col_lower, -INF).astype(np.float64),
        np.where(np.isfinite(compiled.col_upper), compiled.col_upper, INF).astype(np.float64),
        np.where(np.isfinite(compiled.row_lower), compiled.row_lower, -INF).astype(np.float64),
        np.where(np.isfinite(compiled.row_upper), compiled.row_upper, INF).astype(np.float64),
        csc.indptr.astype(np.int32),
        csc.indices.astype(np.int32),
        csc.data.astype(np.float64),
        integrality,
    )


class _Progress:
    """Logs the incumbent, bound, gap and elapsed time while HiGHS solves a MIP (at most every
    ``every_s`` seconds, and at every improved incumbent)."""

    def __init__(self, every_s: float = 5.0) -> None:
        self.every_s = every_s
        self.last = -math.inf

    def __call__(self, event) -> None:
        data = event.data_out
        now = data.running_time
        improving = event.callback_type == highspy.cb.HighsCallbackType.kCallbackMipImprovingSolution
        if not improving and now - self.last < self.every_s:
            return
        self.last = now
        primal, dual = data.mip_primal_bound, data.mip_dual_bound
        gap = relative_gap(primal, dual) if math.isfinite(primal) else None
        logger.info(
            "HiGHS %.1fs: incumbent %s, bound %s, gap %s, %d nodes",
            now,
            f"{primal:.10g}" if math.isfinite(primal) else "none",
            f"{dual:.10g}" if math.isfinite(dual) else "none",
            gap_text(gap),
            data.mip_node_count,
        )


def run_highs(
    compiled, options: SolverOptions, start: np.ndarray | None = None, started: float | None = None,
    observe: Callable[[object], None] | None = None,
) -> tuple[SolveReport, np.ndarray]:
    """:func:`run_highs_once`, checked: HiGHS 1.16 was seen, after a MIP start, to hand back the
    starting values with the objective of a better solution it had found and then rejected. When
    the values it returns do not have the objective it reports, the model is solved again without
    the start, within what is left of the time limit (it had been given the whole limit again, so a
    ``--time-limit 10`` solve could take 20 s); if that run finds nothing, or no time is left, the first
    run's values stand with their own objective. The user is not warned: the answer is the values' own,
    audited as any other."""
    started = time.perf_counter() if started is None else started
    report, values = run_highs_once(compiled, options, start, started, observe=observe)
    if start is None or not report.objective_mismatch:
        return report, values
    left = None if options.time_limit_s is None else options.time_limit_s - (time.perf_counter() - started)
    if left is not None and left < RETRY_MIN_S:
        return report, values
    logger.info("HiGHS returned values that do not have the objective it reported after a MIP start; solving "
                "again without the start%s", "" if left is None else f" ({left:.1f} s left)")
    try:
        retry, retry_values = run_highs_once(compiled, replace(options, time_limit_s=left), observe=observe)
    except SolverError:
        return report, values
    return (retry, retry_values) if retry.objective <= report.objective else (report, values)


def run_highs_once(
    compiled, options: SolverOptions, start: np.ndarray | None = None, started: float | None = None,
    observe: Callable[[object], None] | None = None,
) -> tuple[SolveReport, np.ndarray]:
    """Hand ``compiled`` (a :class:`CompiledModel` or ``StandardForm``) to HiGHS, solve, and return
    the report and the column values. ``start`` is a MIP start (one value per column);
    ``started`` is when the hand-over began (default: now); ``options.progress_s`` the interval of
    the progress log lines (None: none); ``observe``, if given, is called with each of HiGHS's MIP
    interrupt, improving-solution and user-solution callback events (``event.data_out`` holds its
    bounds; at a user-solution event ``event.data_in.setSolution`` offers HiGHS a solution).

    Raises :class:`InfeasibleError` when HiGHS proves infeasibility, :class:`SolverError` when it
    ends without a feasible solution for another reason, and :class:`~planner.interrupt.Interrupted`
    when Ctrl-C or SIGTERM stopped it.
    """
    highs, handover_s = _handed_over(compiled, options, time.perf_counter() if started is None else started)
    if start is not None:
        set_start(highs, start)
    is_mip = bool(np.asarray(compiled.integer).any())
    if options.progress_s is not None and is_mip:
        progress = _Progress(options.progress_s)
        highs.cbMipInterrupt.subscribe(progress)
        highs.cbMipImprovingSolution.subscribe(progress)
    if observe is not None and is_mip:
        highs.cbMipInterrupt.subscribe(observe)
        highs.cbMipImprovingSolution.subscribe(observe)
        highs.cbMipUserSolution.subscribe(observe)
    solve_s = run_interruptibly(highs)
    status, termination = _checked_status(highs)
    values, objective, mismatch = _values_and_objective(highs, compiled)
    bound = float(highs.getInfo().mip_dual_bound) if is_mip else (objective if status is Status.OPTIMAL else None)
    if bound is not None and not math.isfinite(bound):
        bound = None
    gap = relative_gap(objective, bound)
    if status is Status.OPTIMAL and gap is not None and gap > OPTIMAL_GAP:
        status = Status.GAP_LIMIT
        if gap > options.mip_gap * (1 + 1e-9):  # HiGHS stopped on an absolute tolerance, not on the gap asked for
            termination = (f"HiGHS: Optimal within its absolute tolerances, at a gap of {100 * gap:.3g}%, above the "
                           f"{100 * options.mip_gap:.3g}% asked for")
    report = within_tolerance(SolveReport.of(
        status, termination, objective, bound, options.mip_gap, f"HiGHS {highs.version()}", solve_s=solve_s,
        nodes=int(highs.getInfo().mip_node_count) if is_mip else None, handover_s=handover_s,
        objective_mismatch=mismatch,
    ))
    logger.info("solve ended: %s, objective %.10g, bound %s, gap %s", report.status.value, objective,
                "none" if bound is None else f"{bound:.10g}", "n/a" if gap is None else f"{100 * gap:.3g}%")
    return report, values


def _handed_over(compiled, options: SolverOptions, started: float) -> tuple[highspy.Highs, float]:
    """A HiGHS instance holding ``compiled``, and the seconds since ``started``; the time limit
    covers the hand-over too."""
    highs = new_highs(options)
    pass_model(highs, compiled)
    handover_s = time.perf_counter() - started
    if options.time_limit_s is not None:
        highs.setOptionValue("time_limit", max(float(options.time_limit_s) - handover_s, 1e-3))
    logger.info(
        "model handed to HiGHS in %.2fs: %d rows, %d columns (%d integer)",
        handover_s,
        len(compiled.row_lower),
        len(compiled.cost),
        int(np.asarray(compiled.integer).sum()),
    )
    return highs, handover_s


def set_start(highs: highspy.Highs, start: np.ndarray) -> None:
    """``start`` (one value per column) as HiGHS's MIP start."""
    solution = highspy.HighsSolution()
    solution.col_value = np.asarray(start, dtype=float)
    solution.value_valid = True
    highs.setSolution(solution)


def _interrupt_on_stop(event) -> None:
    """HiGHS's interrupt callbacks: ask HiGHS to stop once Ctrl-C or SIGTERM set ``STOP``, or once
    the run was abandoned (``event.user_data``, the instance's cancel event: see
    :func:`run_interruptibly`)."""
    if stop_requested() or event.user_data.is_set():
        event.data_in.user_interrupt = True


def run_interruptibly(highs: highspy.Highs, resolve: bool = False) -> float:
    """``highs.run()`` inside :func:`~planner.interrupt.native_section`, with interrupt callbacks
    subscribed: Ctrl-C or SIGTERM only sets ``STOP``, HiGHS ends at its next callback, and
    :class:`~planner.interrupt.Interrupted` is raised, so that nothing the stopped run found is used.
    Every HiGHS run of ``planner.solver`` goes through here; returns the seconds it ran.

    The MIP callback is always subscribed; the simplex and interior-point ones (called at every
    iteration) only from ``INTERRUPT_EVERY_ITERATION_NONZEROS``, where an iteration costs far more
    than a call into Python (a 40,000-nonzero MIP took 12.0–12.9 s with and without them).

    HiGHS calls none of them while it solves the LP of a MIP's root (the national model's took 13 s
    on one thread, and Ctrl-C waited that long), nor, in a small model, while it branches strongly
    (a 12,675-nonzero rollout model ran on 3–6 s after Ctrl-C). So on the main thread, whatever the
    size, HiGHS runs on a thread of its own while the main thread waits for it: a signal is handled
    at once, HiGHS gets ``ABANDON_AFTER_S`` to reach a callback, and otherwise the run is abandoned
    (it ends at its next callback, its results unused) and :class:`~planner.interrupt.Interrupted`
    raised.

    ``resolve``: the LP is a persistent one re-solved from its last basis, many times in a loop (the
    flow LPs of the searches), where each run is short and the loop checks for a stop between runs.
    Such runs get no per-iteration callbacks and no thread of their own: with another thread holding
    the GIL (the subgradient beside the module search), every callback waited for it, up to the 5 ms
    switch interval, and the national model's search made 611 flow LPs in 46 s instead of 1,013."""
    cancel = getattr(highs, "planner_cancel", None)
    if cancel is None:
        cancel = highs.planner_cancel = threading.Event()
    cancel.clear()
    large = not resolve and highs.getNumNz() >= INTERRUPT_EVERY_ITERATION_NONZEROS
    callbacks = [highs.cbMipInterrupt]
    if large:
        callbacks += [highs.cbSimplexInterrupt, highs.cbIpmInterrupt]
    for callback in callbacks:
        callback.subscribe(_interrupt_on_stop, user_data=cancel)  # once per instance: again changes nothing
    run_started = time.perf_counter()
    with native_section():
        if not resolve and threading.current_thread() is threading.main_thread():
            _run_abandonably(highs, cancel)
        else:
            highs.run()
    return time.perf_counter() - run_started


def _run_abandonably(highs: highspy.Highs, cancel: threading.Event) -> None:
    """``highs.run()`` on a daemon thread (HiGHS releases the GIL), waited for in steps of
    ``WAIT_STEP_S``; ``ABANDON_AFTER_S`` after a stop request without HiGHS ending, ``cancel`` is set
    and :class:`~planner.interrupt.Interrupted` raised. Whatever else ends the wait (a
    ``KeyboardInterrupt`` from Python's own SIGINT handler, outside the command) sets ``cancel`` too."""
    done = threading.Event()

    def solve() -> None:
        try:
            highs.run()
        finally:
            done.set()

    threading.Thread(target=solve, name="planner-highs", daemon=True).start()
    stop_seen = None
    try:
        while not done.wait(WAIT_STEP_S):
            if not stop_requested():
                continue
            stop_seen = stop_seen or time.perf_counter()
            if time.perf_counter() - stop_seen >= ABANDON_AFTER_S:
                cancel.set()
                raise_if_stopped()
    except KeyboardInterrupt:  # where Python's own handler runs (a library caller, a notebook)
        cancel.set()  # HiGHS ends at its next callback instead of running on to its time limit
        if not done.wait(ABANDON_AFTER_S):
            _wait_at_exit(done)
        raise
    except BaseException:
        cancel.set()
        raise


_ABANDONED: list[threading.Event] = []  # the ends of runs a KeyboardInterrupt left inside HiGHS
EXIT_WAIT_S = 10.0  # at the interpreter's exit, the most it waits for them, in all


def _wait_at_exit(done: threading.Event) -> None:
    """Have the interpreter's exit wait (up to ``EXIT_WAIT_S``) for a cancelled run still inside HiGHS: a
    process ending while HiGHS ran on its thread was aborted ('terminate called without an active
    exception', exit 134 instead of a KeyboardInterrupt's), as a script does right after Ctrl-C."""
    if not _ABANDONED:
        atexit.register(_wait_for_abandoned)
    _ABANDONED.append(done)


def _wait_for_abandoned() -> None:
    deadline = time.perf_counter() + EXIT_WAIT_S
    for done in _ABANDONED:
        done.wait(max(deadline - time.perf_counter(), 0.0))


def _empty_rows_violated(highs: highspy.Highs) -> bool:
    """A model without columns whose rows 0 does not satisfy (demand that must be served and no arc
    to serve it): HiGHS calls it "empty" and returns no verdict, but it is infeasible."""
    lp = highs.getLp()
    if lp.num_col_ > 0:
        return False
    lower, upper = np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)
    return bool((lower > 1e-9).any() or (upper < -1e-9).any())


def _checked_status(highs: highspy.Highs) -> tuple[Status, str]:
    """The :class:`Status` HiGHS ended with (:data:`_STATUS_OF`, ``ERROR`` where unmapped) and its
    text; raises where there is no result to trust."""
    model_status = highs.getModelStatus()
    termination = highs.modelStatusToString(model_status)
    if model_status == _MODEL_STATUS.kInterrupt:  # only the STOP callbacks interrupt HiGHS
        raise_if_stopped()
        raise Interrupted()
    if model_status == _MODEL_STATUS.kModelEmpty and _empty_rows_violated(highs):
        status = Status.INFEASIBLE
    else:
        status = _STATUS_OF.get(model_status, Status.ERROR)
    has_solution = highs.getInfo().primal_solution_status == 2 or model_status == _MODEL_STATUS.kModelEmpty
    if status is Status.INFEASIBLE:
        raise UnexplainedInfeasibleError(
            "HiGHS proved the network infeasible: check forced sites, facility counts, the capex budget "
            "and capacity against demand that must be served"
        )
    if not has_solution and status is Status.TIME_LIMIT:
        raise NoSolutionInTimeError(f"HiGHS ended without a feasible solution (status: {termination}); give it more "
                                    "time (--time-limit, or time_limit_s under [solver] in the model file)")
    if not has_solution:
        raise SolverError(f"HiGHS ended without a feasible solution (status: {termination})")
    if status in (Status.ERROR, Status.UNBOUNDED):
        raise SolverError(f"HiGHS ended with status '{termination}'; no result is trusted")
    return status, termination


def _values_and_objective(highs: highspy.Highs, compiled) -> tuple[np.ndarray, float, bool]:
    """The column values HiGHS returned, their objective, and whether HiGHS reported another one
    (the values are what counts; see :func:`run_highs`)."""
    values = np.asarray(highs.getSolution().col_value, dtype=float)
    if not len(compiled.cost):
        return values, float(compiled.offset), False
    if len(values) != len(compiled.cost):  # HiGHS's 'Empty' model: no values, nothing to trust
        raise SolverError(f"HiGHS returned {len(values)} values for {len(compiled.cost)} variables (model status "
                          f"{highs.modelStatusToString(highs.getModelStatus())}); no result is trusted")
    objective = float(highs.getInfo().objective_function_value)
    evaluated = float(np.asarray(compiled.cost) @ values) + float(compiled.offset)
    mismatch = abs(evaluated - objective) > 1e-9 * max(abs(objective), 1.0)
    if mismatch:
        logger.info("HiGHS reported objective %.10g; the values it returned evaluate to %.10g", objective, evaluated)
    return values, evaluated if mismatch else objective, mismatch


def solve_model(
    model: pyo.ConcreteModel,
    options: SolverOptions,
    warm_start: bool = False,
    started: float | None = None,
) -> SolveReport:
    """Solve the Pyomo ``model`` with HiGHS and load the incumbent into its variables.

    With ``warm_start`` the current values of the model's variables are handed to HiGHS as a
    starting incumbent. The time limit counts from ``started`` (a ``time.perf_counter()`` reading, e.g.
    before the model was built; default: now), the model's compilation included. Errors as :func:`run_highs`.
    """
    started = time.perf_counter() if started is None else started
    compiled = compile_model(model)
    start = None
    if warm_start:
        start = np.array([0.0 if v.value is None else float(v.value) for v in compiled.columns])
    report, values = run_highs(compiled, options, start=start, started=started)
    for variable, value in zip(compiled.columns, values.tolist(), strict=False):
        variable.set_value(value, skip_validation=True)
    return report


def flow_lp_highs(form: LinearForm) -> highspy.Highs:
    """A quiet HiGHS instance holding the flow LP ``form``, without HiGHS's presolve: on these
    transportation LPs it leaves a model on which the dual simplex is slower, and then HiGHS can miss
    its time limit (in a solve of 50,000 points one LP took 13.0 s under a limit of 1.4 s; without
    presolve it takes 1.8 s to its optimum). ``python benchmarks/flow_lp.py`` (generated points, 12
    options open): 0.25 / 0.88 / 4.24 s with presolve, 0.10 / 0.49 / 2.78 s without, at 5,000 /
    20,000 / 50,000 points. Re-solves from a basis do not presolve."""
    highs = new_highs(SolverOptions(quiet=True))
    highs.setOptionValue("presolve", "off")
    pass_model(highs, form)
    return highs


def limit_next_run(highs: highspy.Highs, seconds: float) -> None:
    """Let the next ``highs.run()`` take at most ``seconds``. HiGHS compares its ``time_limit`` with
    its run time summed over every run of the instance, so on a persistent instance (re-solves, rows
    added in rounds) the limit is that sum plus ``seconds``: a plain ``seconds`` had ended later runs
    early, or at once."""
    highs.setOptionValue("time_limit", highs.getRunTime() + max(float(seconds), 0.0))


def optimal_lp_solution(
    highs: highspy.Highs, resolve: bool = False, deadline: float | None = None
) -> highspy.HighsSolution | None:
    """Run the LP held by ``highs`` (:func:`run_interruptibly`, ``resolve`` as there): its solution,
    or None if HiGHS finds no optimum, also where it does not by ``deadline`` (a
    ``time.perf_counter()`` time; None: no limit; passed: not run). The flow LPs of the heuristics
    use it, fresh (:func:`solve_lp`) or persistent (``resolve=True``; a run without a deadline after
    one with is not held to the earlier one's limit)."""
    if deadline is not None and deadline <= time.perf_counter():
        return None
    limit_next_run(highs, math.inf if deadline is None else deadline - time.perf_counter())
    run_interruptibly(highs, resolve)
    if highs.getModelStatus() != _MODEL_STATUS.kOptimal:
        return None
    return highs.getSolution()


def solve_lp(form: LinearForm, deadline: float | None = None) -> np.ndarray | None:
    """The continuous ``form`` solved on a fresh :func:`flow_lp_highs`: x, or None if HiGHS finds no
    optimum, also where it does not by ``deadline`` (as in :func:`optimal_lp_solution`). Used by the
    primal heuristic."""
    solution = optimal_lp_solution(flow_lp_highs(form), deadline=deadline)
    return None if solution is None else np.asarray(solution.col_value, dtype=float)
