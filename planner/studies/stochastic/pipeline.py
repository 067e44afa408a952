"""``planner solve --scenarios`` as public steps: load → scenarios → prepare → screen → analyse
(EV, EEV, RP, WS, strategies) → the expected-demand view of the chosen network (for the maps,
tables and report, audited like any deterministic solve)."""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyomo.common.errors import InfeasibleConstraintException

from planner.audit import audit
from planner.errors import InfeasibleError, InputError, SolverError
from planner.inputs.scenarios import (
    MAX_SCENARIOS,
    Scenarios,
    generate_scenarios,
    read_scenarios,
    unsupported_with_scenarios,
)
from planner.model import ModelIndex, build_model
from planner.model.solution import Solution
from planner.pipeline import Run, Timing
from planner.problem import Problem
from planner.results import ResultTables
from planner.solver.budget import excess, kept_within_budget
from planner.solver.explain import explain_demand_cells
from planner.solver.heuristic import capex_spend
from planner.solver.highs import solve_model
from planner.solver.outcome import SolveReport, SolverOptions
from planner.studies.stochastic.analysis import StochasticAnalysis, analyse
from planner.studies.stochastic.problem import StochasticProblem, stochastic_problem
from planner.studies.stochastic.results import FirstStage

logger = logging.getLogger(__name__)


SCENARIO_ARC_COPY_BYTES = 2_700  # memory per delivery arc per scenario in the extensive form (measured:
# 100 and 300 scenarios of 618 arcs, 0.73 and 1.05 GB: 2.6 kB per arc and scenario)


def parse_scenarios_option(text: str) -> int | Path:
    """``--scenarios``: a whole number (generate that many) or a CSV file."""
    text = str(text).strip()
    if text.isdigit():
        n = int(text)
        if not 1 <= n <= MAX_SCENARIOS:
            raise InputError(f"--scenarios {text}: give a number of scenarios from 1 to {MAX_SCENARIOS:,} (each "
                             "copies the model's flows) or a scenario CSV file")
        return n
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text) and not Path(text).exists():
        raise InputError(f"--scenarios {text}: give a whole number of scenarios from 1 to {MAX_SCENARIOS:,} or a "
                         "scenario CSV file")  # it had read '-1' and '1.5' as file names: 'scenario file not found'
    return Path(text)


def load_scenarios(spec: int | Path, config, inputs, seed: int) -> Scenarios:
    """Generated around the regions' demand (``[uncertainty]``), or read for their ids."""
    product_ids = tuple(config.products)
    if isinstance(spec, int):
        return generate_scenarios(inputs.demand, spec, seed, config.uncertainty)
    return read_scenarios(spec, inputs.regions["region_id"].to_numpy(dtype=object), product_ids, inputs.demand,
                          inputs.left_out_ids, inputs.regions["region_name"].to_numpy(dtype=object))


def stochastic_problem_from(config, problem: Problem, scenarios: Scenarios) -> StochasticProblem:
    """Roles and the ``[uncertainty]`` settings of ``config`` around ``problem``."""
    u = config.uncertainty
    return stochastic_problem(
        problem,
        scenarios,
        type_role=[config.facility_types[t].role for t in problem.type_ids],
        recourse_modules=u.recourse_modules,
        recourse_premium=u.recourse_premium,
        cvar_alpha=u.cvar_alpha,
        cvar_weight=u.cvar_weight,
    )


def screen_scenarios(problem: Problem, scenarios: Scenarios, base_demand: np.ndarray | None = None):
    """The deterministic screening (``planner.inputs.screen.screen_problem``) of the demand the
    scenarios ask for (``hardest_cell_view``); an infeasible one names the scenario asking for most
    demand that must be served, unless the data's own demand (``base_demand``) fails the same way."""
    from planner.inputs.screen import hardest_cell_view, screen_problem

    view, hardest = hardest_cell_view(problem, scenarios.demand)
    try:
        return screen_problem(view, scenarios.demand)
    except InfeasibleError as error:
        if base_demand is not None:  # fails on the data's own demand too where the scenarios are not the cause
            screen_problem(dataclasses.replace(problem, demand=base_demand))
        where = (f"scenario '{scenarios.ids[hardest]}' (the one with the most demand that must be served)"
                 if (~np.isfinite(problem.unmet_penalty)).any() else "the scenarios' demand")
        raise InfeasibleError(f"{where}: {error}") from None


@dataclass(frozen=True)
class StochasticPlan:
    """Like :class:`planner.pipeline.Plan`; ``run`` is the stochastic optimum's first-stage network
    serving the expected demand (what the maps, tables and report show)."""

    inputs: object  # planner.inputs.prepare.Inputs
    screening: object  # planner.inputs.screen.Screening
    analysis: StochasticAnalysis
    run: Run


def expected_view(sp: StochasticProblem, first: FirstStage, options: SolverOptions, timing: Timing) -> Run:
    """The first-stage network serving the expected demand (deterministic model, network fixed;
    if its modules cannot serve demand that must be served, modules may be added, within the capex budget
    beyond HiGHS's tolerance: :mod:`planner.solver.budget`)."""
    problem = sp.problem
    index = ModelIndex.from_problem(problem)
    try:
        report, solution = _view_solve(problem, index, first, options, add_modules=False)
    except (InfeasibleError, InfeasibleConstraintException):  # the latter: a row with every variable fixed
        def solve(budget: float, options: SolverOptions) -> tuple[SolveReport, Solution]:
            return _view_solve(dataclasses.replace(problem, capex_budget=budget), index, first, options, True)

        try:
            report, solution = kept_within_budget(problem, lambda solution: excess(problem, solution), solve, options,
                                                  capex_spend(problem, first.open > 0, first.modules))
        except (InfeasibleError, InfeasibleConstraintException):
            raise InfeasibleError("the first-stage network cannot serve the expected demand that must be served, "
                                  "even with every module its sites can take") from None
    tables = ResultTables.from_solution(problem, index, solution)
    audit_report = audit(problem, tables, report.objective)
    if not audit_report.passed:
        raise SolverError(f"the expected-demand view failed the independent audit ({', '.join(audit_report.failures)})")
    return Run(problem, index, solution, tables, report, audit_report, timing)


def _view_solve(problem, index: ModelIndex, first: FirstStage, options: SolverOptions, add_modules: bool
                ) -> tuple[SolveReport, Solution]:
    """:func:`expected_view`'s solve: the network of ``first`` fixed, its modules too unless ``add_modules``
    (then at least ``first``'s)."""
    model = build_model(problem, index)
    for o in range(problem.n_options):
        model.open[o].fix(int(first.open[o]))
    for z, (o, p) in enumerate(zip(index.setup_option.tolist(), index.setup_product.tolist(), strict=True)):
        model.setup[z].fix(int(first.setup[o, p]))
    for o in index.modular_options.tolist():
        if add_modules:
            model.modules[o].setlb(int(first.modules[o]))
        else:
            model.modules[o].fix(int(first.modules[o]))
    report = solve_model(model, options)
    return report, Solution.from_model(model, problem, index)


def scenario_problem(config, data_options, spec: int | Path, seed: int = 0, timing: Timing | None = None):
    """(inputs, scenarios, problem): the data, the scenarios and the problem with arcs for every pair
    any scenario asks for; an extensive form beyond the memory available is refused here, before
    anything is solved (``planner compare --scenarios`` calls it before its variants)."""
    from planner.inputs.prepare import check_copies_memory, load_inputs, prepare_problem

    timing = timing or Timing()
    with timing.phase("load"):
        inputs = load_inputs(config, data_options)
        scenarios = load_scenarios(spec, config, inputs, seed)
    with timing.phase("prepare"):
        widest = dataclasses.replace(inputs, demand=np.maximum(inputs.demand, scenarios.demand.max(axis=0)))
        problem = prepare_problem(config, widest)
        check_copies_memory(problem.n_arcs, scenarios.n, SCENARIO_ARC_COPY_BYTES,
                            f"--scenarios ({scenarios.n} scenarios)",
                            "fewer scenarios or fewer arcs (a delivery radius, fewer candidate sites or regions) "
                            "make it fit")
    return inputs, scenarios, problem


def plan_stochastic(config, data_options, options: SolverOptions, spec: int | Path, seed: int = 0) -> StochasticPlan:
    """The whole stochastic path up to the audits (writing is ``planner.export``)."""
    unsupported_with_scenarios(config, "scenario models", data_options)
    timing = Timing()
    inputs, scenarios, problem = scenario_problem(config, data_options, spec, seed, timing)
    with timing.phase("prepare"):
        screening = screen_scenarios(problem, scenarios, inputs.demand)
        sp = stochastic_problem_from(config, problem, scenarios)
    try:
        analysis = analyse(sp, options, timing)
    except InfeasibleError as error:  # explained or not: name the scenario that cannot be met
        cells = [(f"scenario {name}", scenarios.demand[s]) for s, name in enumerate(scenarios.ids)]
        raise explain_demand_cells(problem, cells, options, error) from None
    with timing.phase("view"):
        view = expected_view(sp, analysis.rp.solution.first_stage, options, timing)
    return StochasticPlan(inputs=inputs, screening=screening, analysis=analysis, run=view)
