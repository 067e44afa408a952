r"""Payments a network makes for nothing, taken out of a solved network.

A product set-up :math:`z_{op}` only permits flows (:math:`x_a \le z_{op}` for the arcs of option o
and product p) and a supply relationship :math:`v_b` only permits material on its inbound arc
(:math:`w_b \le U_b v_b`); no other row of the model (counts, budget, CO2, service levels) holds
them. So where a solved network pays a set-up with no flow of its product from that facility, or a
relationship with no material on its arc, setting it to 0 keeps every rule and lowers the objective
by exactly its cost. A solver stopped within its gap may leave such payments (each smaller than
the gap); the report's objective and gap then describe the network as delivered.

The same holds for capacity: modules beyond :math:`\max(\underline m_o, \lceil \sum_{a \in A(o)}
q_{d(a)} x_a / C_o \rceil)` carry nothing, and an open facility with no flow and no inbound material
carries nothing at all. Those are taken away too where no rule needs them: a facility forced open
(forced or existing) stays, one that a count limit (a type's ``min_count``, ``min_facilities``) needs
stays, and a module or facility whose cost is not positive stays. The network that results is checked
against every coupling rule (:func:`planner.solver.heuristic.satisfies_coupling`) before it is kept.

Only the cost objective pays them (the classic kinds, p-median to set covering, have other
objectives and counts of their own).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from planner.model import ModelIndex
from planner.model.solution import Solution
from planner.problem import Problem
from planner.solver.budget import repaired_report
from planner.solver.heuristic import modules_for_loads, option_loads, satisfies_coupling, within_counts
from planner.solver.outcome import SolveReport, within_tolerance


def idle_setups(problem: Problem, solution: Solution) -> np.ndarray:
    """(O, P) True where ``solution`` pays the set-up of product p at option o and delivers none of it."""
    if solution.setup is None:
        return np.zeros((problem.n_options, problem.n_products), dtype=bool)
    delivering = solution.assign > 0
    made = np.zeros((problem.n_options, problem.n_products), dtype=bool)
    made[problem.arc_option[delivering], problem.arc_product[delivering]] = True
    return (solution.setup > 0) & ~made


def idle_relations(problem: Problem, solution: Solution) -> np.ndarray:
    """(B,) True where ``solution`` pays a supply relationship whose inbound arc carries no material."""
    if solution.relation is None or solution.inbound is None:
        return np.zeros(problem.n_inbound, dtype=bool)
    return (solution.relation > 0) & (solution.inbound <= 0)


def trimmed_modules(problem: Problem, index: ModelIndex, solution: Solution) -> np.ndarray:
    """(O,) module counts no larger than ``solution``'s, each the fewest that carry its option's load (at least
    ``min_modules`` where open; unchanged where a module costs nothing or less)."""
    fewest = modules_for_loads(problem, option_loads(problem, index, solution.assign))
    trimmed = np.where(solution.open > 0, np.minimum(solution.modules, fewest), solution.modules)
    return np.where(problem.module_cost > 0, trimmed, solution.modules)


def closable_idle(problem: Problem, index: ModelIndex, solution: Solution) -> np.ndarray:
    """(O,) True for the open options with no flow and no inbound material that can close: not forced, a
    positive fixed cost, and the count limits kept (the dearest closed first)."""
    is_open = solution.open > 0
    idle = is_open & (option_loads(problem, index, solution.assign) <= 0) & ~problem.forced
    if solution.inbound is not None:
        idle &= np.bincount(problem.supply.in_option, weights=solution.inbound, minlength=problem.n_options) <= 0
    fixed = problem.opening_cost + problem.module_cost * solution.modules
    closed = np.zeros(problem.n_options, dtype=bool)
    for option in sorted(np.flatnonzero(idle & (fixed > 0)).tolist(), key=lambda o: -fixed[o]):
        closed[option] = True
        if not within_counts(problem, is_open & ~closed):
            closed[option] = False
    return closed


def without_idle_capacity(problem: Problem, solution: Solution) -> tuple[float, Solution]:
    """The saving (currency/yr) and ``solution`` with idle facilities closed and idle modules taken away
    (module docstring); (0, ``solution``) where nothing is idle or the result would break a rule."""
    index = ModelIndex.from_problem(problem)
    closed = closable_idle(problem, index, solution)
    modules = np.where(closed, 0, trimmed_modules(problem, index, solution))
    saving = float(problem.opening_cost[closed].sum() + (problem.module_cost * (solution.modules - modules)).sum())
    if saving <= 0.0:  # (a closed option's set-ups carried no flow: without_idle_payments took them out before)
        return 0.0, solution
    cleaned = dataclasses.replace(solution, open=np.where(closed, 0, solution.open), modules=modules)
    if not satisfies_coupling(problem, index, cleaned):
        return 0.0, solution
    return saving, cleaned


def without_idle_payments(problem: Problem, report: SolveReport, solution: Solution
                          ) -> tuple[SolveReport, Solution]:
    """``report`` and ``solution`` with the set-ups, relationships, modules and facilities paid for nothing taken
    out (module docstring): the objective lower by their cost, the bound kept, the gap and status that follow."""
    if problem.objective_kind != "cost" or report.objective is None:
        return report, solution
    setups, relations = idle_setups(problem, solution), idle_relations(problem, solution)
    saving = float(problem.setup_cost[setups].sum())
    if relations.any():
        saving += float(problem.supply.in_fixed_cost[relations].sum())
    cleaned = dataclasses.replace(
        solution,
        setup=np.where(setups, 0, solution.setup) if solution.setup is not None else None,
        relation=np.where(relations, 0, solution.relation) if solution.relation is not None else None,
    )
    capacity_saving, cleaned = without_idle_capacity(problem, cleaned)
    if saving + capacity_saving <= 0.0:
        return report, solution
    note = (f"set-ups, supply relationships, modules and facilities paid for no flow taken away "
            f"({saving + capacity_saving:.6g} {problem.currency}/yr)")
    cleaned_report = repaired_report(report, report.objective - saving - capacity_saving, report.best_bound, note)
    return within_tolerance(cleaned_report), cleaned
