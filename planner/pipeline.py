"""``planner solve`` as a composition of public steps:
load → validate → prepare → build → solve → audit (→ export, in ``planner.export``).

Each step is a public function a notebook user can call alone; this module only strings them
together and times them.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.audit import AuditReport, audit
from planner.errors import InputError, SolverError, truncated
from planner.inputs.config import rechecked
from planner.inputs.screen import screen_problem
from planner.model import ModelIndex
from planner.model.solution import Solution
from planner.problem import Problem
from planner.results import ResultTables, region_names
from planner.solver import SolveReport, SolverOptions, solve
from planner.solver.settled import warn_if_nothing_built, warn_if_unsettled, with_floor
from planner.timing import Timing

logger = logging.getLogger(__name__)


class WarningLog(logging.Handler):
    """Appends the message of every WARNING (or worse) record of the 'planner' loggers to ``messages``,
    each message once (:func:`logged_warnings`)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        try:
            add_warnings(self.messages, [record.getMessage()])
        except Exception:  # a record whose arguments do not format: logging's own error path
            self.handleError(record)


def add_warnings(messages: list[str], more: Iterable[str]) -> list[str]:
    """``messages`` with those of ``more`` it does not hold yet appended, in order."""
    for message in more:
        if message not in messages:
            messages.append(message)
    return messages


@contextmanager
def logged_warnings() -> Iterator[list[str]]:
    """A list of the warnings the 'planner' loggers log inside the block, in order, each once: a run's
    warnings from loading to writing (``summary.json`` → ``warnings``). The list grows while the block
    runs, so a writer handed it also holds the warnings logged while writing before it reads it."""
    messages: list[str] = []
    handler = WarningLog(messages)
    root = logging.getLogger("planner")
    root.addHandler(handler)
    try:
        yield messages
    finally:
        root.removeHandler(handler)


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
    # logged while it was solved (by plan(): from loading on): a study's folder per run keeps its own
    warnings: tuple[str, ...] = ()


def with_own_warnings(solve: Callable[[], Run]) -> Run:
    """``solve()``'s run with the warnings logged while it ran (``Run.warnings``)."""
    with logged_warnings() as own:
        run = solve()
    return dataclasses.replace(run, warnings=tuple(own))


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

    def solved() -> Run:
        if screen:
            screen_problem(problem)
        with timing.phase("build"):
            index = ModelIndex.from_problem(problem)
        report, solution = solve(problem, options, start=start, index=index, timing=timing)
        report = with_floor(problem, index, report)
        warn_if_unsettled(problem, index, report)
        warn_if_nothing_built(problem, report, int(np.count_nonzero(solution.open > 0)))
        return audited_solution(problem, index, solution, report, timing, require_clean_audit)

    return with_own_warnings(solved)


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


def load_for_model(config, data_options):
    """:func:`planner.inputs.prepare.load_inputs`; for a model derived from the user's by leaving out
    facility types (``config.derived_from``, compare's central-only and micro-only variants) a
    ``--sites`` file is read against the user's model, so it may name every type of it, and each site
    keeps only the types of ``config`` (:func:`sites_for_types`)."""
    from planner.inputs.prepare import load_inputs

    user_model = getattr(config, "derived_from", None)
    if user_model is None or not data_options.sites_path:
        return load_inputs(config, data_options)
    inputs = load_inputs(user_model, data_options)
    return dataclasses.replace(inputs, sites=sites_for_types(inputs.sites, tuple(config.facility_types), config.name))


def sites_for_types(sites: pd.DataFrame, type_names: tuple[str, ...], model_name: str) -> pd.DataFrame:
    """``sites`` (a sites table, ``types`` a tuple per site) with each site's types narrowed to
    ``type_names``: a site left with no type is no candidate, so a forced or existing site of left-out
    types is not forced in this model (an info line names such sites)."""
    types = [tuple(t for t in site_types if t in type_names) for site_types in sites["types"]]
    keep = np.array([bool(t) for t in types], dtype=bool)
    narrowed = sites.assign(types=types)
    is_forced = narrowed["forced"].to_numpy(bool)
    dropped = narrowed.loc[~keep & ~is_forced, "site_id"].astype(str).tolist()
    forced = narrowed.loc[~keep & is_forced, "site_id"].astype(str).tolist()
    if dropped:
        logger.info("%s: sites %s allow only facility types this model leaves out; not candidates here",
                    model_name, truncated(dropped))
    if forced:  # a warning: the comparison then weighs a network without sites the user has or must have
        logger.warning("%s: forced/existing sites %s allow only facility types this model leaves out, so this "
                       "network does without them (neither forced nor candidates here); its cost leaves out theirs",
                       model_name, truncated(forced))
    if not keep.any():  # a compare variant whose types the sites file never lists: an empty network, said so
        logger.warning("%s: no site of the sites file allows its facility types (%s), so this network has no "
                       "facility and serves nothing; list sites for them to compare it", model_name,
                       ", ".join(type_names))
    return narrowed[keep].reset_index(drop=True)


def load_and_prepare(config, data_options, timing: Timing, *, keep_dear_arcs: bool = False):
    """load → validate → prepare → screen; returns (inputs, problem, screening). ``config`` is checked again by
    the schema first (:func:`rechecked`): the studies that call this from Python (pareto, alternatives) take a
    model that may have been changed in place since it was read, as :func:`plan` does. ``keep_dear_arcs``:
    keep the arcs dearer than the unmet penalty (:func:`planner.inputs.prepare.prepare_problem`)."""
    from planner.inputs.prepare import prepare_problem
    from planner.inputs.screen import screen_problem

    config = rechecked(config)
    with timing.phase("load"):
        inputs = load_for_model(config, data_options)
    with timing.phase("prepare"):
        problem = prepare_problem(config, inputs, keep_dear_arcs=keep_dear_arcs)
        screening = screen_problem(problem)
    return inputs, problem, screening


def plan(config, data_options, options: SolverOptions | None = None, start: Solution | None = None,
         start_for: Callable[[Problem], Solution | None] | None = None) -> Plan:
    """The whole geographic path up to the audit (writing is ``planner.export.write_outputs``);
    ``options`` None: the model's ``[solver]`` table (:meth:`SolverOptions.from_model`); ``start``, a
    solution of the same model and data, is HiGHS's first incumbent; ``start_for`` makes one from the
    prepared problem where ``start`` is not given (a solution feasible for it, or None)."""
    check_argument_types(config, data_options, options)
    config = rechecked(config)  # changed in place since it was read, maybe
    options = options if options is not None else SolverOptions.from_model(config)
    timing = Timing()
    with logged_warnings() as seen:  # from loading on: what a caller from Python has no log to read for
        inputs, problem, screening = load_and_prepare(config, data_options, timing)
        if start is None and start_for is not None:
            start = start_for(problem)
        _check_start(start, problem)
        run = solve_problem(problem, options, timing, screen=False, start=start)
    warnings = add_warnings(add_warnings(seen, screening.warnings), run.warnings)
    return Plan(inputs=inputs, screening=screening, run=dataclasses.replace(run, warnings=tuple(warnings)))


def check_argument_types(config, data_options, options) -> None:
    """One line naming the argument where a caller from Python gives another type (a dict for the model, None
    for the data, a dict for the options), which had failed inside with an AttributeError."""
    from planner.inputs.config import ModelConfig
    from planner.inputs.prepare import DataOptions

    expected = (("config", config, ModelConfig, "a model: read_model_config(path) or model_config_from_dict(data)"),
                ("data_options", data_options, DataOptions, "DataOptions(...), DataOptions() for the model's files"),
                ("options", options, (SolverOptions, type(None)), "SolverOptions(...), or None for the model's "
                                                                   "[solver] table"))
    for name, value, kind, fix in expected:
        if not isinstance(value, kind):
            raise InputError(f"plan({name}=...) is a {type(value).__name__}; give {fix}")


def _check_start(start: Solution | None, problem: Problem) -> None:
    """Raise unless ``start`` (if any) has a value per option and per arc of ``problem``."""
    if start is None:
        return
    sizes, expected = (len(start.open), len(start.assign)), (len(problem.option_site), len(problem.arc_option))
    if sizes != expected:
        raise InputError(f"plan(start=...): the start has {sizes[0]:,} options and {sizes[1]:,} arcs, this model and "
                         f"data {expected[0]:,} and {expected[1]:,}; give a solution of the same model and data")


def with_region_names(run: Run, inputs) -> Run:
    """``run`` with the regions' names beside their ids in its tables (:meth:`ResultTables.named`; the sites
    named where they are the regions, i.e. without a sites file): what ``planner.export.write_outputs`` writes."""
    names = region_names(inputs.regions)
    return dataclasses.replace(run, tables=run.tables.named(names, sites_are_regions=inputs.sites_path is None))
