"""``planner solve`` as a composition of public steps:
load → validate → prepare → build → solve → audit (→ export, in ``planner.export``).

Each step is a public function a notebook user can call alone; this module only strings them
together and times them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from planner.audit import AuditReport, audit
from planner.errors import SolverError
from planner.inputs.screen import screen_problem
from planner.model import ModelIndex
from planner.model.solution import Solution
from planner.problem import Problem
from planner.results import ResultTables
from planner.solver import SolveReport, SolverOptions, solve
from planner.timing import Timing

logger = logging.getLogger(__name__)


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
    """Screen, build, solve (:func:`planner.solver.solve`) and audit ``problem``; raise if the audit
    finds the solution wrong.

    ``start``, a solution known to be feasible for ``problem``, is handed to HiGHS as its first
    incumbent where the Lagrangian presolve does not run."""
    timing = timing or Timing()
    if screen:
        screen_problem(problem)
    with timing.phase("build"):
        index = ModelIndex.from_problem(problem)
    report, solution = solve(problem, options, start=start, index=index, timing=timing)
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

    inputs: object  # planner.inputs.prepare.Inputs (kept loose: the model path never imports geopandas)
    screening: object  # planner.inputs.screen.Screening
    run: Run


def load_and_prepare(config, data_options, timing: Timing):
    """load → validate → prepare → screen; returns (inputs, problem, screening)."""
    from planner.inputs.prepare import load_inputs, prepare_problem
    from planner.inputs.screen import screen_problem

    with timing.phase("load"):
        inputs = load_inputs(config, data_options)
    with timing.phase("prepare"):
        problem = prepare_problem(config, inputs)
        screening = screen_problem(problem)
    return inputs, problem, screening


def plan(config, data_options, options: SolverOptions, start: Solution | None = None) -> Plan:
    """The whole geographic path up to the audit (writing is ``planner.export.write_outputs``);
    ``start``, a solution of the same model and data, is HiGHS's first incumbent."""
    timing = Timing()
    inputs, problem, screening = load_and_prepare(config, data_options, timing)
    run = solve_problem(problem, options, timing, screen=False, start=start)
    return Plan(inputs=inputs, screening=screening, run=run)
