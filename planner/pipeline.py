"""``planner solve`` as a composition of public steps:
load → validate → prepare → build → solve → audit (→ export, in ``planner.export``).

Each step is a public function a notebook user can call alone; this module only strings them
together and times them.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from planner.audit import AuditReport, audit
from planner.errors import SolverError
from planner.model import ModelIndex, build_model
from planner.model.arrays import build_standard_form, solution_from_vector, start_vector
from planner.model.start import load_start
from planner.presolve import (
    apply_presolve,
    apply_presolve_to_form,
    combine_bounds,
    highs_can_help,
    keep_better,
    lagrangian_presolve,
    presolve_applies,
    presolve_report,
)
from planner.problem import Problem
from planner.results import ResultTables, Solution
from planner.solve import SolveReport, SolverOptions, Status, run_highs, solve_model

logger = logging.getLogger(__name__)


@dataclass
class Timing:
    """Seconds per phase."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str):
        started = time.perf_counter()
        logger.info("%s ...", name)
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


@dataclass(frozen=True)
class Run:
    """Everything one solve produced."""

    problem: Problem
    index: ModelIndex
    solution: Solution
    tables: ResultTables
    report: SolveReport
    audit: AuditReport
    timing: Timing


def solve_problem(
    problem: Problem,
    options: SolverOptions | None = None,
    timing: Timing | None = None,
    require_clean_audit: bool = True,
    screen: bool = True,
    start: Solution | None = None,
) -> Run:
    """Screen, build, solve and audit ``problem``; raise if the audit finds the solution wrong.

    ``start``, a solution known to be feasible for ``problem``, is handed to HiGHS as its first
    incumbent where the Lagrangian presolve does not run."""
    from planner.validate import screen_problem

    options = options or SolverOptions()
    timing = timing or Timing()
    if screen:
        screen_problem(problem)
    with timing.phase("build"):
        index = ModelIndex.from_problem(problem)
    presolve = None
    if presolve_applies(problem, options):
        with timing.phase("presolve"):
            presolve = lagrangian_presolve(problem, index, options)
    if options.time_limit_s is not None and presolve is not None:
        # the time limit covers the whole solve: what the presolve used is not HiGHS's to spend
        remaining = options.time_limit_s - timing.seconds.get("presolve", 0.0)
        options = dataclasses.replace(options, time_limit_s=max(remaining, 1.0))
    if options.builder == "pyomo":
        with timing.phase("build"):
            model = build_model(problem, index)
            if presolve is not None:
                apply_presolve(model, problem, index, presolve)
            elif start is not None:
                load_start(model, problem, index, start)
        with timing.phase("solve"):
            warm = start is not None if presolve is None else presolve.incumbent is not None
            report = solve_model(model, options, warm_start=warm)
            if presolve is not None:
                report = combine_bounds(report, presolve.bound)
        return audited_run(model, problem, index, report, timing, require_clean_audit)
    if options.builder != "arrays":
        raise ValueError(f"SolverOptions.builder is '{options.builder}'; use 'arrays' or 'pyomo'")
    with timing.phase("build"):
        form = build_standard_form(problem, index)
        vector = None
        if presolve is not None and presolve.paid:
            form, vector = apply_presolve_to_form(form, problem, index, presolve)
        elif start is not None:
            vector = start_vector(form, problem, index, start)
    with timing.phase("solve"):
        if presolve is not None and not highs_can_help(problem, presolve, options.time_limit_s):
            logger.info("HiGHS is not run: %.1fs are left, too little for a model this size", options.time_limit_s)
            objective = float(form.cost @ vector) + float(form.offset) if vector is not None else None
            report = presolve_report(
                objective, Status.TIME_LIMIT, "time limit reached in the presolve; HiGHS not run", options.mip_gap
            )
            report, values = combine_bounds(report, presolve.bound), vector
            solution = solution_from_vector(form, problem, index, values)
            return audited_solution(problem, index, solution, report, timing, require_clean_audit)
        try:
            report, values = run_highs(form, options, start=vector, progress_s=options.progress_s)
        except SolverError:
            if presolve is None or presolve.incumbent is None:
                raise
            report, values = None, None
        if presolve is not None:
            report, values = keep_better(report, values, form, problem, index, presolve, options.mip_gap)
            report = combine_bounds(report, presolve.bound)
    solution = solution_from_vector(form, problem, index, values)
    return audited_solution(problem, index, solution, report, timing, require_clean_audit)


def audited_run(
    model,
    problem: Problem,
    index: ModelIndex,
    report: SolveReport,
    timing: Timing,
    require_clean_audit: bool = True,
) -> Run:
    """Read the solution out of a solved Pyomo ``model`` and audit it (see :func:`audited_solution`)."""
    solution = Solution.from_model(model, problem, index)
    return audited_solution(problem, index, solution, report, timing, require_clean_audit)


def audited_solution(
    problem: Problem,
    index: ModelIndex,
    solution: Solution,
    report: SolveReport,
    timing: Timing,
    require_clean_audit: bool = True,
) -> Run:
    """Audit ``solution`` against ``problem`` (and its total cost against ``report.objective``);
    raise when the audit finds it wrong."""
    with timing.phase("audit"):
        tables = ResultTables.from_solution(problem, index, solution)
        audit_report = audit(problem, tables, report.objective)
    if require_clean_audit and not audit_report.passed:
        raise SolverError(
            f"the solution failed the independent audit ({', '.join(audit_report.failures)}; "
            f"max violation {audit_report.max_violation:.3g}, objective difference "
            f"{audit_report.objective_difference}); nothing written"
        )
    return Run(problem, index, solution, tables, report, audit_report, timing)


@dataclass(frozen=True)
class Plan:
    """A geographic solve: the inputs it read, the screening and the run."""

    inputs: object  # planner.prepare.Inputs (kept loose: the model path never imports geopandas)
    screening: object  # planner.validate.Screening
    run: Run


def load_and_prepare(config, data_options, timing: Timing):
    """load → validate → prepare → screen; returns (inputs, problem, screening)."""
    from planner.prepare import load_inputs, prepare_problem
    from planner.validate import screen_problem

    with timing.phase("load"):
        inputs = load_inputs(config, data_options)
    with timing.phase("prepare"):
        problem = prepare_problem(config, inputs)
        screening = screen_problem(problem)
    return inputs, problem, screening


def plan(config, data_options, options: SolverOptions) -> Plan:
    """The whole geographic path up to the audit (writing is ``planner.export.write_outputs``)."""
    timing = Timing()
    inputs, problem, screening = load_and_prepare(config, data_options, timing)
    run = solve_problem(problem, options, timing, screen=False)
    return Plan(inputs=inputs, screening=screening, run=run)
