r"""A heuristic arc limit with an exact check: keep, for each demand pair and facility type, only the
``k`` cheapest arcs, then add back every pruned arc that the relaxation says could pay.

The check is the reduced cost of the Lagrangian relaxation (``planner.lagrangian``). With the
multipliers :math:`\lambda` of the best bound, a pruned arc :math:`a` can lower :math:`L(\lambda)`
only if its reduced cost :math:`c_a q_{d(a)} - \lambda_{d(a)}` is negative; such arcs are added
back and the bound is re-evaluated on the full arc set, so the bound the planner reports is always
valid for the full model. The solution found on the limited arc set is feasible for the full model
(a pruned arc carries nothing), so its cost is a valid upper bound; the gap between the two is
what the run reports.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from planner.problem import Problem

logger = logging.getLogger(__name__)


def nearest_arcs(problem: Problem, k: int) -> np.ndarray:
    """Positions of the ``k`` cheapest arcs (by unit cost, then distance) of each (demand pair,
    facility type), in the problem's arc order."""
    arc_type = problem.option_type[problem.arc_option]
    group = problem.arc_pair * len(problem.type_ids) + arc_type
    order = np.lexsort((problem.arc_distance_km, problem.arc_unit_cost, group))
    sorted_group = group[order]
    starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return np.sort(order[rank < k])


def subset_arcs(problem: Problem, arcs: np.ndarray) -> Problem:
    """``problem`` with only the arcs at positions ``arcs`` (sorted)."""
    fields = {
        name: getattr(problem, name)[arcs]
        for name in (
            "arc_option",
            "arc_region",
            "arc_product",
            "arc_distance_km",
            "arc_production_cost",
            "arc_transport_cost",
            "arc_co2_t",
        )
    }
    return dataclasses.replace(problem, **fields)


def improving_arcs(problem: Problem, pair_of_arc: np.ndarray, multipliers: np.ndarray, pair_demand) -> np.ndarray:
    """Mask of arcs with negative Lagrangian reduced cost :math:`c_a q_{d(a)} - \\lambda_{d(a)}`."""
    return problem.arc_unit_cost * pair_demand[pair_of_arc] - multipliers[pair_of_arc] < 0
