r"""Payments a network makes for nothing, taken out of a solved network.

A product set-up :math:`z_{op}` only permits flows (:math:`x_a \le z_{op}` for the arcs of option o
and product p) and a supply relationship :math:`v_b` only permits material on its inbound arc
(:math:`w_b \le U_b v_b`); no other row of the model (counts, budget, CO2, service levels) holds
them. So where a solved network pays a set-up with no flow of its product from that facility, or a
relationship with no material on its arc, setting it to 0 keeps every rule and lowers the objective
by exactly its cost. A solver stopped within its gap may leave such payments (each smaller than
the gap); the report's objective and gap then describe the network as delivered.

Only the cost objective pays them (the classic kinds, p-median to set covering, have other
objectives). Open facilities without flows are not closed here: count limits, forced and existing
sites may hold them open.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from planner.model.solution import Solution
from planner.problem import Problem
from planner.solver.budget import repaired_report
from planner.solver.outcome import SolveReport


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


def without_idle_payments(problem: Problem, report: SolveReport, solution: Solution
                          ) -> tuple[SolveReport, Solution]:
    """``report`` and ``solution`` with the set-ups and relationships paid for nothing taken out (module
    docstring): the objective lower by their cost, the bound kept, the gap and status that follow."""
    if problem.objective_kind != "cost" or report.objective is None:
        return report, solution
    setups, relations = idle_setups(problem, solution), idle_relations(problem, solution)
    saving = float(problem.setup_cost[setups].sum())
    if relations.any():
        saving += float(problem.supply.in_fixed_cost[relations].sum())
    if saving <= 0.0:
        return report, solution
    cleaned = dataclasses.replace(
        solution,
        setup=np.where(setups, 0, solution.setup) if solution.setup is not None else None,
        relation=np.where(relations, 0, solution.relation) if solution.relation is not None else None,
    )
    note = f"{int(setups.sum())} set-up(s) and {int(relations.sum())} supply relationship(s) paid for no flow dropped"
    return repaired_report(report, report.objective - saving, report.best_bound, note), cleaned
