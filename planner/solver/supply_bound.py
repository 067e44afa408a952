r"""Models with inbound supply: a bound from a relaxation without suppliers, an incumbent from the
full model restricted to the network that relaxation opens, then HiGHS on the full model from it.

**Relaxation.** Dropping supplier capacities and the fixed costs of supply relationships, the
cheapest way to feed product p at option o is to buy every material from the supplier whose
delivered price (purchase + inbound transport + carbon) to o is lowest, :math:`\mu_{om}`. So

.. math:: c'_a = c_a + \sum_m \beta_{p(a)m}\, \mu_{o(a)m}

on the planner's model without suppliers (arcs whose option cannot get a material they need are
dropped) is a relaxation: every solution of the full model maps to one of the relaxation that
costs no more. Its best bound is a valid lower bound of the full model; it is solved by the
engine as any model (Lagrangian presolve, HiGHS) with most of the time limit.

**Restriction.** The full model (with suppliers) restricted to the options the relaxation opens
is small; its optimum is a feasible solution of the full model, the incumbent. If the gap between
it and the relaxation's bound is within the tolerance, that is the answer (status ``gap_limit``);
otherwise HiGHS runs on the full model from the incumbent with the time left, and the better
solution and the larger bound are kept.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np

from planner.errors import InfeasibleError, SolverError
from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.problem import ARC_FIELDS, Problem, restrict_options
from planner.solver.heuristic import network_cost
from planner.solver.outcome import (
    HIGHS_START_S_PER_ARC,
    LEFT_FLOOR_S,
    SolveReport,
    SolverOptions,
    Status,
    closed_status,
    relative_gap,
    within_gap,
)

logger = logging.getLogger(__name__)

RELAXATION_SHARE = 0.7  # of the time limit for the relaxation; the rest for the restriction and HiGHS


def relaxed_without_supply(problem: Problem) -> tuple[Problem, np.ndarray]:
    """The relaxation of the module docstring and the positions of its arcs in ``problem``."""
    supply = problem.supply
    cheapest = np.full((problem.n_options, len(supply.material_ids)), np.inf)
    np.minimum.at(cheapest, (supply.in_option, supply.in_material), supply.in_unit_cost(problem.carbon_price))
    need = supply.bom[problem.arc_product]  # (A, M)
    with np.errstate(invalid="ignore"):
        material_cost = np.where(need > 0, need * cheapest[problem.arc_option], 0.0).sum(axis=1)
    keep = np.flatnonzero(np.isfinite(material_cost))
    arcs = {name: getattr(problem, name)[keep] for name in ARC_FIELDS}
    arcs["arc_production_cost"] = arcs["arc_production_cost"] + material_cost[keep]
    return dataclasses.replace(problem, supply=None, **arcs), keep


def lift(problem: Problem, options: np.ndarray, arcs: np.ndarray, solution: Solution) -> Solution:
    """A solution of ``problem`` restricted to ``options`` (its ``arcs``) as one of ``problem``."""
    position = np.full(problem.n_options, -1)
    position[options] = np.arange(len(options))
    inbound_kept = np.flatnonzero(position[problem.supply.in_option] >= 0)
    full = {"open": np.zeros(problem.n_options, dtype=int), "modules": np.zeros(problem.n_options, dtype=int),
            "assign": np.zeros(problem.n_arcs), "inbound": np.zeros(problem.n_inbound),
            "relation": np.zeros(problem.n_inbound, dtype=int),
            "setup": np.zeros((problem.n_options, problem.n_products), dtype=int)}
    full["open"][options], full["modules"][options] = solution.open, solution.modules
    full["assign"][arcs] = solution.assign
    full["inbound"][inbound_kept] = solution.inbound
    if solution.relation is not None:
        full["relation"][inbound_kept] = solution.relation
    if solution.setup is not None:
        full["setup"][options] = solution.setup
    return Solution(unmet=solution.unmet, **full)


def solve_with_supply(problem: Problem, options: SolverOptions, index: ModelIndex, solve_relaxed, solve_full,
                      start: Solution | None = None):
    """The bound, incumbent and final HiGHS run of the module docstring. ``solve_relaxed(problem,
    options)`` is the engine; ``solve_full(problem, index, options, start)`` HiGHS on the standard form;
    ``start`` (feasible, with its inbound flows) replaces the restricted network where it is cheaper."""
    started = time.perf_counter()
    limit = options.time_limit_s

    def left(share: float = 1.0, floor: float = LEFT_FLOOR_S) -> float | None:
        return None if limit is None else max(share * limit - (time.perf_counter() - started), floor)

    relaxed, _ = relaxed_without_supply(problem)
    relaxed_options = dataclasses.replace(options, time_limit_s=left(RELAXATION_SHARE))
    relaxed_report, relaxed_solution = solve_relaxed(relaxed, relaxed_options)
    bound = relaxed_report.best_bound
    chosen = np.flatnonzero((relaxed_solution.open > 0) | problem.forced)
    restricted, arcs = restrict_options(problem, chosen)
    try:
        report, solution = solve_full(restricted, ModelIndex.from_problem(restricted),
                                      dataclasses.replace(options, time_limit_s=left(0.85)), None)
        incumbent = lift(problem, chosen, arcs, solution)
    except (InfeasibleError, SolverError) as error:
        logger.info("the relaxation's network is infeasible with the suppliers (%s); HiGHS gets the full model", error)
        incumbent, report = None, None
    if report is not None and report.objective is None:  # the restriction stopped without a network
        incumbent, report = None, None
    known = None if report is None else report.objective  # the cost of ``incumbent``
    start_cost = None if start is None or start.inbound is None else network_cost(problem, index, start)
    if start_cost is not None and (known is None or start_cost < known):
        logger.info("the start (%.10g) is cheaper than the relaxation's network; the full model starts from it",
                    start_cost)
        incumbent, report, known = start, None, start_cost
    out_of_time = limit is not None and left(floor=0.0) < max(LEFT_FLOOR_S, HIGHS_START_S_PER_ARC * problem.n_arcs)
    if report is not None and (out_of_time or within_gap(report.objective, bound, options.mip_gap)):
        return _restricted_answer(report, bound, options, time.perf_counter() - started), incumbent
    final_report, final = solve_full(problem, index, dataclasses.replace(options, time_limit_s=left()), incumbent)
    if known is not None and (final_report.objective is None or final_report.objective > known):
        final_report, final = dataclasses.replace(final_report, objective=known), incumbent
    if final_report.objective is None:  # a report may hold no objective: a run stopped before its first solution
        raise SolverError(f"no feasible network was found with the suppliers ({final_report.termination}); give "
                          "the solver more time (--time-limit, or time_limit_s under [solver])")
    best = max(b for b in (bound, final_report.best_bound, -np.inf) if b is not None)
    best = min(best, final_report.objective)
    status = final_report.status
    new_gap = relative_gap(final_report.objective, best)
    if status is Status.TIME_LIMIT and new_gap is not None and new_gap <= options.mip_gap:
        status = Status.GAP_LIMIT
    return dataclasses.replace(final_report, best_bound=best, mip_gap=new_gap, status=status), final


def _restricted_answer(report: SolveReport, bound: float | None, options: SolverOptions, seconds: float):
    """The restricted network as the answer, with the relaxation's bound: within the MIP gap of it
    (``optimal`` or ``gap_limit``), or ``time_limit`` where no time is left for HiGHS on the full model."""
    if within_gap(report.objective, bound, options.mip_gap):
        gap = relative_gap(report.objective, bound)
        logger.info("inbound supply: the restricted network is within %.3g%% of the relaxation's bound", 100 * gap)
        status, why = closed_status(gap), "relaxation bound and restricted incumbent"
    else:
        logger.info("inbound supply: no time is left for HiGHS on the full model")
        status, why = Status.TIME_LIMIT, "time limit reached in the restricted model; HiGHS not run on the full one"
    if bound is not None:
        bound = min(bound, report.objective)
    return SolveReport.of(status, why, report.objective, bound, options.mip_gap, report.solver, solve_s=seconds)
