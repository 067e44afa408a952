r"""The p-center on the planner's problem (``[objective] kind = "p_center"``): the smallest radius R
such that at most p facilities serve all demand from within R, with the capacities, modules and
constraints of the model.

The optimal R is one of the arc distances :math:`\rho_1 < \rho_2 < \dots`. For a level
:math:`\rho_k` the covering problem keeps the arcs with :math:`d_a \le \rho_k` and minimises the
number of open facilities (opening cost 1, count at most p): feasible ⇔ R* ≤ ρ_k. A binary search
over k, started at the largest nearest-site distance of any demand pair (no radius below it can
serve that pair), finds the first feasible level; every "infeasible" is HiGHS's proof, every
"feasible" a solution, so the radius is proven optimal when no step ran out of time. At the time limit
the search stops with the smallest level known feasible (status ``time_limit``). The network
returned is the p-median on the arcs within the optimal radius (the same radius, least
demand-weighted distance), so the report's objective is that sum (units·km/yr, what the problem's
costs measure: ``planner.inputs.objectives``) and the radius is read off the flows.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np

from planner.errors import InfeasibleError, SolverError
from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.problem import ARC_FIELDS, Problem
from planner.solver.outcome import LEFT_FLOOR_S, SolveReport, SolverOptions, Status

logger = logging.getLogger(__name__)


def _within(problem: Problem, radius_km: float) -> Problem:
    keep = problem.arc_distance_km <= radius_km
    return dataclasses.replace(problem, **{name: getattr(problem, name)[keep] for name in ARC_FIELDS})


def radius_levels(problem: Problem) -> tuple[np.ndarray, int]:
    """The distinct arc distances (km, ascending) and the position of the first one that can be
    optimal: the largest over demand pairs of the pair's nearest arc."""
    levels = np.unique(problem.arc_distance_km)
    index = ModelIndex.from_problem(problem)
    nearest = np.full(index.n_pairs, np.inf)
    np.minimum.at(nearest, index.arc_pair, problem.arc_distance_km)
    floor = float(nearest.max(initial=0.0))
    return levels, int(np.searchsorted(levels, floor))


class CenterSearch:
    """The binary search of the module docstring; ``solve_level`` is the engine's solve."""

    def __init__(self, problem: Problem, options: SolverOptions, solve_level) -> None:
        self.problem, self.options, self.solve_level = problem, options, solve_level
        self.deadline = None if options.time_limit_s is None else time.perf_counter() + options.time_limit_s
        self.proven = True
        self.steps = 0

    def left(self) -> float | None:
        return None if self.deadline is None else max(self.deadline - time.perf_counter(), LEFT_FLOOR_S)

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() >= self.deadline

    def feasible(self, radius_km: float) -> bool:
        """Whether at most p facilities serve all demand within ``radius_km`` (False also when the
        step ran out of time without an answer; the result is then not proven)."""
        self.steps += 1
        within = _within(self.problem, radius_km)
        covering = dataclasses.replace(within, objective_kind="set_covering", opening_cost=np.ones(within.n_options),
                                       arc_transport_cost=np.zeros(within.n_arcs))
        try:
            report, _ = self.solve_level(covering, dataclasses.replace(self.options, time_limit_s=self.left()))
        except InfeasibleError:
            return False
        except SolverError:
            self.proven = False
            return False
        logger.info("p-center: radius %.6g km is feasible (%s)", radius_km, report.status.value)
        return True

    def first_feasible(self) -> float:
        """The smallest feasible level (km)."""
        levels, low = radius_levels(self.problem)
        if len(levels) == 0:
            raise InfeasibleError("p_center: no candidate site can serve any demand")
        high = len(levels) - 1
        if not self.feasible(levels[high]):
            products = (self.problem.product_ids[position] for position in self.problem.serviced_products)
            serviced = ", ".join(f"products.{name}.service" for name in products)
            causes, fixes = ("capacity, counts or " + serviced, "raise p or capacity, or lower the service level") \
                if serviced else ("capacity or counts", "raise p or capacity")
            raise InfeasibleError(f"p_center: {self.problem.objective_p} facilities cannot serve all reachable demand "
                                  f"even at the largest distance ({causes}); {fixes}")
        while low < high:
            if self.out_of_time():  # the smallest level known feasible, not proven the least
                logger.info("p-center: time limit reached with radii %.6g–%.6g km left to search", levels[low],
                            levels[high])
                self.proven = False
                break
            middle = (low + high) // 2
            if self.feasible(levels[middle]):
                high = middle
            else:
                low = middle + 1
        return float(levels[high])


def solve_center(problem: Problem, options: SolverOptions, solve_level) -> tuple[SolveReport, Solution, float]:
    """The optimal radius (km) and the p-median network within it; ``solve_level(problem, options)``
    solves one covering or p-median problem (the engine). The report's status is ``optimal`` only when
    every step of the search was answered."""
    search = CenterSearch(problem, options, solve_level)
    radius_km = search.first_feasible()
    p_median = dataclasses.replace(_within(problem, radius_km), objective_kind="p_median")
    report, solution = solve_level(p_median, dataclasses.replace(options, time_limit_s=search.left()))
    logger.info("p-center: radius %.6g km after %d covering solves", radius_km, search.steps)
    status = report.status if search.proven else Status.TIME_LIMIT
    report = dataclasses.replace(report, status=status, termination=f"p-center radius search, {search.steps} steps")
    return report, lift(problem, radius_km, solution), radius_km


def lift(problem: Problem, radius_km: float, solution: Solution) -> Solution:
    """A solution of the arcs within ``radius_km`` as one of all arcs (the others carry nothing)."""
    assign = np.zeros(problem.n_arcs)
    assign[problem.arc_distance_km <= radius_km] = solution.assign
    return dataclasses.replace(solution, assign=assign)
