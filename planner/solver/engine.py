"""The solver's one entry point, :func:`solve`: the engine decisions between the problem and
HiGHS.

1. Which builder: the sparse standard form from arrays (default) or the Pyomo model
   (``SolverOptions.builder``), checked before anything runs. Where the flows are uncoupled
   (uncapacitated, p-median-like) and the only constraints on the open set are a facility count and
   forced options, the Lagrangian branch-and-bound of ``planner.solver.lagrangian_bb`` runs first, with
   ``BB_SHARE`` of the time limit (on two cores the whole limit, with HiGHS's route beside it in a
   second process: ``planner.solver.race``, or from ``parallel_bb.UNCOUPLED_MIN_CELLS`` a second search
   on the same tree: ``planner.solver.parallel_bb``); what it has not proven by then goes on from its incumbent,
   its bound kept (``lagrangian_bb_first``), with the radius model of ``planner.solver.radius`` where many
   facilities open (rule in ``radius.preferred``), else by the standard route below. Where the
   branch-and-bound does not apply (type counts, one type per site, a capex budget) the radius model
   replaces the standard one by the same rule (``SolverOptions.formulation`` forces either).
   Capacitated facility location of the presolve's shape
   with fixed module counts (``planner.solver.capacitated_bb.applies``) is solved by the capacitated
   Lagrangian branch-and-bound with the whole time limit (without one, ``BB_NO_LIMIT_S``, then the
   standard route from its incumbent, ``capacitated_bb_first``): where it applies, HiGHS does not finish
   even the root LP of the full model in the time the branch-and-bound needs to prove the optimum
   (100 × 1,000: ~25 s against 5–9 s in all), and at a time limit its bound is the higher. Where the
   run may use two cores and the model is not tiny (``planner.solver.race.applies``), HiGHS races it
   in a second process instead (the first proof, or the two bounds together, end both); on large dense
   tables (``planner.solver.parallel_bb.applies``) a second search shares its tree instead.
2. Whether the Lagrangian presolve runs (``presolve_applies``; on a model with product setups, on its
   exact reformulation without them, ``planner.solver.setup_options``); what it used of the time
   limit is not HiGHS's to spend.
3. Whether HiGHS can still help in the time left (``highs_can_help``); if not, the presolve's
   incumbent is the answer, labelled ``time_limit``.
4. HiGHS on the (possibly reduced) model with the incumbent as its start; the better of HiGHS's
   result and the presolve's incumbent is kept (``keep_better``) and the reported bound is the
   larger of the two valid bounds (``combine_bounds``). With service levels and a second core, the
   presolve's module search goes on beside HiGHS (``planner.solver.beside``).
5. A large model with inbound supply: a bound from a relaxation without suppliers and an incumbent
   from the full model restricted to the relaxation's network (``planner.solver.supply_bound``).
6. A model HiGHS proves infeasible is explained (``planner.solver.explain``): a CO2 cap with the least
   CO2 any network reaches, service levels with the best share each product can reach
   (``planner.solver.service``), single sourcing with the regions too large for any one facility or the
   split-flow model's feasibility.
"""

from __future__ import annotations

import dataclasses
import logging
import time

from planner.errors import InputError, NoSolutionInTimeError, SolverError, UnexplainedInfeasibleError
from planner.model import ModelIndex, build_model
from planner.model.arrays import (
    build_standard_form,
    service_need,
    solution_from_vector,
    start_vector,
    unmet_limit_need,
)
from planner.model.solution import Solution
from planner.model.start import load_start
from planner.problem import Problem
from planner.solver.beside import applies as search_beside_applies
from planner.solver.beside import run_beside_search
from planner.solver.budget import excess, kept_within_budget, repaired_report
from planner.solver.capacitated_bb import applies as capacitated_bb_applies
from planner.solver.capacitated_bb import solve_capacitated_bb
from planner.solver.center_search import cover_applies, solve_center, solve_cover
from planner.solver.co2_unit import co2_factor, co2_in_unit
from planner.solver.cost_unit import cost_factor, costs_in_unit, report_in_unit
from planner.solver.explain import explain_infeasibility
from planner.solver.heuristic import flows_within_budget, network_cost, satisfies_coupling, solution_cost
from planner.solver.highs import run_highs, solve_model
from planner.solver.idle import without_idle_payments
from planner.solver.lagrangian_bb import applies as lagrangian_bb_applies
from planner.solver.lagrangian_bb import solve_lagrangian_bb
from planner.solver.outcome import (
    HIGHS_START_S_PER_ARC,
    LEFT_FLOOR_S,
    SolveReport,
    SolverOptions,
    Status,
    closed_status,
    relative_gap,
)
from planner.solver.parallel_bb import applies as parallel_applies
from planner.solver.parallel_bb import applies_uncoupled as shared_uncoupled_applies
from planner.solver.parallel_bb import solve_shared, solve_shared_uncoupled
from planner.solver.presolve import (
    PRESOLVE_SOLVER,
    PresolveResult,
    apply_presolve,
    apply_presolve_to_form,
    combine_bounds,
    highs_can_help,
    keep_better,
    lagrangian_presolve,
    presolve_applies,
    presolve_report,
    with_gap,
)
from planner.solver.quantity_unit import (
    in_unit,
    material_factor,
    materials_in_unit,
    quantity_factor,
    solution_in_unit,
)
from planner.solver.race import applies as race_applies
from planner.solver.race import solve_racing
from planner.solver.radius import applies as radius_applies
from planner.solver.radius import preferred as radius_preferred
from planner.solver.radius import solve_radius
from planner.solver.settled import network_ceiling, proves_infeasible
from planner.solver.setup_options import applies as setup_presolve_applies
from planner.solver.setup_options import folded_applies, presolve_with_folded_setups, presolve_with_setups
from planner.solver.single_source import applies as single_source_applies
from planner.solver.single_source import single_source_start
from planner.solver.supply_bound import solve_with_supply
from planner.timing import Timing

logger = logging.getLogger(__name__)


BUILDERS = ("arrays", "pyomo")
BB_SHARE = 0.5  # of the time limit: the Lagrangian branch-and-bound's (BB_NO_LIMIT_S without one)
BB_NO_LIMIT_S = 60.0
FORMULATIONS = ("auto", "standard", "radius")


def solve(
    problem: Problem,
    options: SolverOptions | None = None,
    start: Solution | None = None,
    index: ModelIndex | None = None,
    timing: Timing | None = None,
    explain: bool = True,
) -> tuple[SolveReport, Solution]:
    """Solve ``problem``: the report (real status, objective, bound, gap) and the solution.

    ``start``, a solution known to be feasible for ``problem``, is HiGHS's first incumbent (where
    the Lagrangian presolve runs, the presolve's searches start from it and the cheaper of the two
    is). Raises ``InfeasibleError`` or ``SolverError`` when there is no solution; with ``explain`` an
    infeasible model's error says why (step 6 of the module: more solves, which a caller that only asks
    *whether* a model is feasible leaves out)."""
    options = options or SolverOptions()
    money = cost_factor(problem)
    if money != 1.0:
        logger.info("every cost below 1 %s/yr: solved in units %g times smaller (HiGHS's tolerances are absolute)",
                    problem.currency, money)
        report, solution = solve(costs_in_unit(problem, money), options, start, None, timing, explain)
        return report_in_unit(report, 1 / money), solution
    co2 = co2_factor(problem)
    if co2 != 1.0:  # explained in tonnes, not in the smaller unit
        logger.info("CO2 cap below 1 t: solved with CO2 in units %g times smaller (HiGHS's tolerances are absolute)",
                    co2)
        try:
            return solve(co2_in_unit(problem, co2), options, start, None, timing, explain=False)
        except UnexplainedInfeasibleError as error:
            if not explain:
                raise
            quantity = quantity_factor(problem)  # tiny demands are explained in the unit they are solved in
            raise explain_infeasibility(in_unit(problem, quantity) if quantity != 1.0 else problem, options,
                                        error) from None
    material = material_factor(problem)
    if material != 1.0:
        logger.info("materials needed in large quantities: solved in units %g times larger (HiGHS's tolerances are "
                    "absolute)", 1 / material)
        report, solution = solve(materials_in_unit(problem, material), options, solution_in_unit(start, material),
                                 None, timing, explain)
        return report, solution_in_unit(solution, 1 / material)
    factor = quantity_factor(problem)
    solved = problem
    try:
        if factor == 1.0:
            return _kept_within_budget(problem, options, timing, start, index)
        logger.info("demands below 1 unit: solved in units %g times smaller (HiGHS's tolerances are absolute)",
                    factor)
        unmet_limit_need(problem, index or ModelIndex.from_problem(problem))  # its message in the user's units
        solved = in_unit(problem, factor)
        report, solution = _kept_within_budget(solved, options, timing, solution_in_unit(start, factor), None)
        return report, solution_in_unit(solution, 1 / factor)
    except UnexplainedInfeasibleError as error:
        if not explain:
            raise
        raise explain_infeasibility(solved, options, error) from None  # its messages hold counts, shares, CO2


def _kept_within_budget(problem: Problem, options: SolverOptions, timing, start: Solution | None, index
                        ) -> tuple[SolveReport, Solution]:
    """:func:`_solve_routes` under :func:`planner.solver.budget.kept_within_budget`: a solve again starts from
    ``start`` where it keeps within the lowered budget (a compare hybrid started from a rival's network had ended
    dearer than it without), and :func:`_repaired` is beside it."""
    def solve(budget: float, options: SolverOptions) -> tuple[SolveReport, Solution]:
        if budget == problem.capex_budget:
            return _solve_routes(problem, options, start, index, timing)
        lowered = dataclasses.replace(problem, capex_budget=budget)
        kept = start if start is not None and excess(lowered, start) == 0.0 else None
        return _solve_routes(lowered, options, kept, None, timing)

    report, solution = kept_within_budget(problem, lambda solution: excess(problem, solution), solve, options,
                                          repair=lambda report, solution: _repaired(problem, report, solution, start))
    return without_idle_payments(problem, report, solution)


def _repaired(problem: Problem, report: SolveReport, solution: Solution, start: Solution | None
              ) -> tuple[SolveReport, Solution] | None:
    """The cheaper of HiGHS's network with modules taken away until it keeps the budget (its flows solved
    again: :func:`planner.solver.heuristic.flows_within_budget`) and ``start``, where either keeps every rule
    (cost objective only); None where neither does."""
    if problem.objective_kind != "cost" or problem.supply is not None:  # flows without the inbound supply
        return None
    index = ModelIndex.from_problem(problem)
    found = []
    for candidate, how in ((flows_within_budget(problem, index, solution), "modules taken away to keep the capex "
                            "budget"), (start, "its start, within the capex budget")):
        if candidate is not None and excess(problem, candidate) == 0.0 \
                and satisfies_coupling(problem, index, candidate):
            found.append((network_cost(problem, index, candidate), how, candidate))
    if not found:
        return None
    cost, how, best = min(found, key=lambda item: item[0])
    return repaired_report(report, cost, report.best_bound, how), best


def _solve_routes(problem: Problem, options: SolverOptions, start, index, timing) -> tuple[SolveReport, Solution]:
    """:func:`solve` without the explanation: the route of the module's steps 1–5."""
    if options.builder not in BUILDERS:
        raise InputError(f"SolverOptions.builder is '{options.builder}'; use 'arrays' or 'pyomo'")
    if options.formulation not in FORMULATIONS:
        raise InputError(f"SolverOptions.formulation is '{options.formulation}'; use one of {', '.join(FORMULATIONS)}")
    timing = timing or Timing()
    if index is None:
        with timing.phase("build"):
            index = ModelIndex.from_problem(problem)
    if len(problem.serviced_products):
        service_need(problem, index)  # a level no candidate site is near enough for: say so before solving
    if cover_applies(problem):
        with timing.phase("solve"):
            return solve_cover(problem, options)
    if problem.objective_kind == "p_center":
        with timing.phase("solve"):
            report, solution, _radius_km = solve_center(
                problem, options, lambda level, opts, start=None: solve(level, opts, start=start, explain=False))
        return report, solution
    if problem.supply is not None and problem.n_arcs >= options.presolve_min_arcs and options.builder == "arrays":
        with timing.phase("solve"):
            return solve_with_supply(
                problem, options, index, solve_relaxed=lambda relaxed, opts: solve(relaxed, opts, explain=False),
                solve_full=lambda full, full_index, opts, start: _solve_with_arrays(
                    full, full_index, opts, None, start, Timing()), start=start)
    if options.formulation == "auto" and options.builder == "arrays" and lagrangian_bb_applies(problem):
        return lagrangian_bb_first(problem, options, index, start, timing)
    if _use_radius(problem, options):
        return _solve_uncoupled(problem, options, index, start, timing)
    if options.formulation == "auto" and options.builder == "arrays" and capacitated_bb_applies(
            problem, presolve_applies(problem, options)):
        return capacitated_bb_first(problem, options, index, start, timing)
    return _solve_standard(problem, options, index, start, timing)


def capacitated_bb_first(problem, options: SolverOptions, index, start, timing: Timing):
    """The capacitated branch-and-bound with the whole time limit (its result is the answer), or,
    without a limit, for ``BB_NO_LIMIT_S`` (longer while it is about to finish: ``capacitated_bb.Deadline``):
    what it has not proven by then goes on to HiGHS from its incumbent, the better solution and the
    larger bound kept. HiGHS goes on without the Lagrangian presolve: the search already has a better
    bound and an incumbent (on the instance of ``benchmarks/overhead.py`` the presolve spent 3.2 s and
    fixed nothing that helped HiGHS). Where ``parallel_bb.applies`` (large dense tables, two cores), a
    second search shares its tree (``planner.solver.parallel_bb``); elsewhere, where ``race.applies``,
    HiGHS runs beside it instead, within the same limit (``planner.solver.race``)."""
    shared = parallel_applies(problem, options, index)
    if race_applies(problem, options) and not shared:
        return _raced(problem, options, index, start, timing, uncoupled=False)
    bb_options = options if options.time_limit_s is not None else dataclasses.replace(
        options, time_limit_s=BB_NO_LIMIT_S)
    started = time.perf_counter()
    with timing.phase("solve"):
        found = (solve_shared if shared else solve_capacitated_bb)(
            problem, index, bb_options, start, extendable=options.time_limit_s is None)
    if found is None:  # no network: HiGHS has what is left of the limit, not all of it again
        return _solve_standard(problem, left_of(options, started), index, start, timing)
    bb_report, bb_solution, proven = found
    if proven or options.time_limit_s is not None:
        return bb_report, bb_solution
    no_presolve = dataclasses.replace(options, presolve_min_arcs=problem.n_arcs + 1)  # the search has a better bound
    report, solution = _solve_standard(problem, no_presolve, index, bb_solution, timing)
    if report.objective is None or bb_report.objective < report.objective:
        report, solution = with_gap(report, bb_report.objective, report.best_bound), bb_solution
    return combine_bounds(report, bb_report.best_bound), solution


def left_of(options: SolverOptions, started: float) -> SolverOptions:
    r"""``options`` with what is left of their time limit since ``started`` (a ``time.perf_counter()``
    reading), :math:`\max(T - (t - t_0), \text{LEFT\_FLOOR\_S})`; unchanged without a limit."""
    if options.time_limit_s is None:
        return options
    spent = time.perf_counter() - started
    return dataclasses.replace(options, time_limit_s=max(options.time_limit_s - spent, LEFT_FLOOR_S))


def lagrangian_bb_first(problem, options: SolverOptions, index, start, timing: Timing):
    """The Lagrangian branch-and-bound within ``BB_SHARE`` of the time limit; unproven, the standard
    route in the time left from its incumbent, with the better solution and the larger bound kept.
    Where ``parallel_bb.applies_uncoupled``, the search has the whole limit with a second search on its
    tree; elsewhere where ``race.applies``, with HiGHS's route beside it."""
    shared = shared_uncoupled_applies(problem, options, index)
    if race_applies(problem, options) and not shared:
        return _raced(problem, options, index, start, timing, uncoupled=True)
    budget = BB_NO_LIMIT_S if options.time_limit_s is None else \
        options.time_limit_s if shared else BB_SHARE * options.time_limit_s
    started = time.perf_counter()
    with timing.phase("solve"):
        found = (solve_shared_uncoupled if shared else solve_lagrangian_bb)(
            problem, index, options, budget, None if start is None else start.open > 0)
    if found is None:
        return _solve_standard(problem, left_of(options, started), index, start, timing)
    bb_report, bb_solution, proven = found
    if proven or (shared and options.time_limit_s is not None):
        return bb_report, bb_solution
    if options.time_limit_s is not None:
        options = dataclasses.replace(options, time_limit_s=max(options.time_limit_s - bb_report.solve_s, LEFT_FLOOR_S))
    report, solution = _solve_uncoupled(problem, options, index, bb_solution, timing)
    if report.objective is None or bb_report.objective < report.objective:
        report, solution = with_gap(report, bb_report.objective, report.best_bound), bb_solution
    return combine_bounds(report, bb_report.best_bound), solution


def _raced(problem, options: SolverOptions, index, start, timing: Timing, uncoupled: bool):
    """``planner.solver.race``'s answer, or the standard route where its search found nothing."""
    with timing.phase("solve"):
        found = solve_racing(problem, index, options, start, uncoupled=uncoupled)
    return found if found is not None else _solve_standard(problem, options, index, start, timing)


def solve_uncoupled_by_highs(problem: Problem, options: SolverOptions, start: Solution | None = None):
    """HiGHS's route for uncoupled flows (the radius model or the standard route), from ``start``:
    what ``planner.solver.race`` runs beside the Lagrangian branch-and-bound."""
    return _solve_uncoupled(problem, options, ModelIndex.from_problem(problem), start, Timing())


def _solve_uncoupled(problem, options: SolverOptions, index, start, timing: Timing):
    """The radius model where ``_use_radius`` says so, else the standard route."""
    if not _use_radius(problem, options):
        return _solve_standard(problem, options, index, start, timing)
    with timing.phase("solve"):
        return solve_radius(problem, options, index=index, start=start)


def _solve_standard(problem, options: SolverOptions, index, start, timing: Timing):
    """The standard route: the Lagrangian presolve where it applies, then HiGHS on the arrays or
    the Pyomo model (steps 2–4 and 6 of the module)."""
    presolve, single = None, None
    if presolve_applies(problem, options):
        with timing.phase("presolve"):
            presolve = lagrangian_presolve(problem, index, options, start)
    elif setup_presolve_applies(problem, index, options):
        with timing.phase("presolve"):
            presolve = presolve_with_setups(problem, index, options)
    elif folded_applies(problem, index, options):
        with timing.phase("presolve"):
            presolve = presolve_with_folded_setups(problem, index, options)
    elif single_source_applies(problem, options) and options.builder == "arrays":
        with timing.phase("presolve"):
            single = single_source_start(problem, index, options)
        if single is not None and single.start is not None and (
                start is None or solution_cost(problem, index, single.start) < solution_cost(problem, index, start)):
            start = single.start
    if presolve is not None and presolve.incumbent is None and proves_infeasible(problem, index, presolve.bound):
        raise UnexplainedInfeasibleError(
            f"the presolve's Lagrangian bound ({presolve.bound:.6g}) is above the cost of every network "
            f"({network_ceiling(problem, index):.6g}): no network meets the model's constraints")
    if presolve is not None and start is not None:
        presolve = with_start(problem, index, presolve, start)
    if options.time_limit_s is not None and "presolve" in timing.seconds:
        remaining = options.time_limit_s - timing.seconds["presolve"]
        if single is not None and start is not None and remaining < HIGHS_START_S_PER_ARC * problem.n_arcs:
            return _single_start_only(problem, index, start, single.bound, options)
        options = dataclasses.replace(options, time_limit_s=max(remaining, LEFT_FLOOR_S))
    route = _solve_with_pyomo if options.builder == "pyomo" else _solve_with_arrays
    report, solution = route(problem, index, options, presolve, start, timing)
    return (report, solution) if single is None else (combine_bounds(report, single.bound), solution)


def with_start(problem: Problem, index: ModelIndex, presolve: PresolveResult, start: Solution) -> PresolveResult:
    """The presolve's result with ``start`` (feasible for ``problem``) as its incumbent where that is
    cheaper (setups included): its fixings stay valid, they close only options of networks dearer than
    the presolve's own incumbent. A start without its setups on a model with setup costs is left out
    (its cost is not known)."""
    if start.setup is None and problem.setup_cost.any():
        return presolve
    cost = network_cost(problem, index, start)
    if presolve.incumbent_cost is not None and presolve.incumbent_cost <= cost:
        return presolve
    return dataclasses.replace(presolve, incumbent=start, incumbent_cost=cost)


def _single_start_only(problem: Problem, index: ModelIndex, start: Solution, bound: float, options: SolverOptions):
    """The single-source start as the answer where too little time is left for HiGHS to even start on
    the model (its presolve and root LP of 100,000 binaries took 2 s on this machine, 4–19 s beside other
    work, against a limit of 1 s): status ``time_limit``, with the start's bound."""
    logger.info("HiGHS is not run: too little time is left for a single-source model of %d arcs", problem.n_arcs)
    report = presolve_report(solution_cost(problem, index, start), Status.TIME_LIMIT,
                             f"the time limit is too short for HiGHS on {problem.n_arcs:,} single-source arcs; the "
                             "single-source start", options.mip_gap)
    return combine_bounds(report, bound), start


def _use_radius(problem: Problem, options: SolverOptions) -> bool:
    """The radius model: when asked for (it must apply), or by default where ``radius.preferred``."""
    if options.formulation == "radius":
        if not radius_applies(problem):
            raise ValueError(
                f"{problem.name}: formulation 'radius' does not apply (capacities, modules, setup costs, "
                "a CO2 cap, an unmet limit or a service level couple the flows)"
            )
        return True
    return options.formulation == "auto" and options.builder == "arrays" and radius_preferred(problem)


def _solve_with_pyomo(problem, index, options, presolve: PresolveResult | None, start, timing):
    """The Pyomo model, compiled by Pyomo and handed to HiGHS."""
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
    return report, Solution.from_model(model, problem, index)


def _solve_with_arrays(problem, index, options, presolve: PresolveResult | None, start, timing):
    """The standard form built from the index arrays, handed to HiGHS in one call; not built where HiGHS
    will not run and the presolve's network is the answer (on 15 million arcs its build had raised the
    peak memory from 3.8 to 6.5 GB for a model never solved). A presolve that closes the gap has its
    incumbent and is paid, so only a presolve without an incumbent reaches the form without HiGHS."""
    if presolve is not None and presolve.paid and presolve.incumbent is not None and (
            presolve.closes_gap(options.mip_gap) or not highs_can_help(problem, presolve, options.time_limit_s)):
        with timing.phase("solve"):
            objective = network_cost(problem, index, presolve.incumbent)
            return _presolve_answer(objective, presolve, options), presolve.incumbent
    with timing.phase("build"):
        form = build_standard_form(problem, index)
        vector = None
        if presolve is not None and presolve.paid:
            form, vector = apply_presolve_to_form(form, problem, index, presolve)
        elif start is not None:
            vector = start_vector(form, problem, index, start)
    with timing.phase("solve"):
        if presolve is not None and not highs_can_help(problem, presolve, options.time_limit_s):
            objective = float(form.cost @ vector) + float(form.offset) if vector is not None else None
            report, values = _presolve_answer(objective, presolve, options), vector
        else:
            report, values = _run_highs_keeping_better(form, problem, index, vector, presolve, options)
    return report, solution_from_vector(form, problem, index, values)


def _presolve_answer(objective: float | None, presolve: PresolveResult, options: SolverOptions) -> SolveReport:
    """The report of the presolve's network (``objective``, None without one) as the answer, without
    HiGHS: proven within the MIP gap by the presolve's bound (``optimal`` within ``OPTIMAL_GAP``, else
    ``gap_limit``), or at the time limit where too little time is left for HiGHS on a model this size."""
    if presolve.closes_gap(options.mip_gap):
        bound = min(presolve.bound, objective)
        gap = relative_gap(objective, bound)
        logger.info("HiGHS is not run: the presolve's bound proves its incumbent within %.3g%%", 100 * gap)
        return SolveReport.of(closed_status(gap), "the presolve's incumbent, within the MIP gap of its Lagrangian "
                              "bound", objective, bound, options.mip_gap, PRESOLVE_SOLVER)
    logger.info("HiGHS is not run: %.1fs are left, too little for a model this size", options.time_limit_s)
    report = presolve_report(objective, Status.TIME_LIMIT, "time limit reached in the presolve; HiGHS not run",
                             options.mip_gap)
    return combine_bounds(report, presolve.bound)


def _run_highs_keeping_better(form, problem, index, vector, presolve: PresolveResult | None, options):
    """HiGHS from ``vector`` (with the module search beside it where ``beside.applies``); with a
    presolve, the better of its result and the presolve's (or the search's) incumbent."""
    failures: list[SolverError] = []

    def run(highs_options: SolverOptions, observe=None):
        try:
            return run_highs(form, highs_options, start=vector, observe=observe)
        except SolverError as error:
            if presolve is None or presolve.incumbent is None:
                raise
            failures.append(error)
            return None, None

    if search_beside_applies(problem, presolve, options):
        # threads unset: a new thread count resets HiGHS's global scheduler, which the search's LPs use too;
        # HiGHS's heuristics off: the searches find the networks, and HiGHS's root heuristics on this model
        # took most of its time (docs/solver.md: "HiGHS beside the searches")
        highs_options = dataclasses.replace(options, threads=None, highs_heuristics=False)
        (report, values), presolve = run_beside_search(lambda observe: run(highs_options, observe), form, problem,
                                                     index, presolve, options)
    else:
        report, values = run(options)
    if presolve is not None:
        timed_out = any(isinstance(error, NoSolutionInTimeError) for error in failures)
        report, values = keep_better(report, values, form, problem, index, presolve, options.mip_gap, timed_out)
        report = combine_bounds(report, presolve.bound)
    return report, values
