r"""Whether a run's gap settles its network: the penalty for demand no network can serve is a floor
that no decision moves, so a relative gap measured on a total it dominates can hide the network.

A valid floor :math:`K` on the objective of every network (currency/yr):

.. math:: K = \sum_{d:\ A(d) = \emptyset} p_d q_d
          + \min_{d:\ A(d) \ne \emptyset} p_d \cdot \max\Bigl(0,\ \sum_{d:\ A(d) \ne \emptyset} q_d
          - \frac{\sum_o C_o \overline m_o}{\min_a f_a}\Bigr)

— pairs without an arc are unmet whatever is built, and beyond the largest capacity any network has
(:math:`C_o \overline m_o`, the flow of arc a using :math:`f_a` units of it per unit of demand) the rest
is unmet at the smallest penalty at least (every other cost is ≥ 0; with prices, whose revenue the
objective subtracts, there is no such floor and no warning). The part of the objective the network
decides is then at most :math:`z - K`, and the run's absolute gap :math:`z - \max(\underline z, K)`
against it is the gap that matters for the network. Where it exceeds ``UNSETTLED_SHARE``, the run's
status may read ``optimal`` or ``gap_limit`` for a network that is not: with demand 2.6 × 10⁵ times
every capacity (a demand column in the wrong unit), a gap of 0.009 % was "optimal" with nothing open,
1.8 × 10⁹ a year dearer than opening every site.
"""

from __future__ import annotations

import logging

import numpy as np

from planner.model.index import ModelIndex
from planner.problem import Problem
from planner.solver.outcome import SolveReport, Status
from planner.solver.presolve import combine_bounds

logger = logging.getLogger(__name__)

UNSETTLED_SHARE = 0.05  # of the costs the network decides: a larger absolute gap leaves the network open
ROUNDING = 1e-9  # relative to the objective: a gap or a decided cost this small is rounding, not a figure


def unavoidable_penalty(problem: Problem, index: ModelIndex) -> float:
    """The floor K of the module (currency/yr; 0 where demand must be served or capacity is unlimited)."""
    has_arc = np.bincount(index.arc_pair, minlength=index.n_pairs) > 0
    penalty = index.pair_penalty * index.pair_demand
    without_arc = float(np.where(~has_arc & np.isfinite(penalty), penalty, 0.0).sum())
    if not has_arc.any() or not np.isfinite(index.pair_penalty[has_arc]).all():
        return without_arc
    capacity = float(problem.option_capacity_max.sum())
    factor = float(index.arc_factor.min()) if len(index.arc_factor) else 1.0
    if not np.isfinite(capacity) or factor <= 0:
        return without_arc
    beyond = float(index.pair_demand[has_arc].sum()) - capacity / factor
    return without_arc + max(beyond, 0.0) * float(index.pair_penalty[has_arc].min())


def network_ceiling(problem: Problem, index: ModelIndex) -> float:
    """A cost no network exceeds (in the problem's unit per yr; ∞ with inbound supply): every option open
    with its most modules and every product's setup, and each pair both served on its dearest arc (prices,
    which the objective subtracts, left out) and unmet at its penalty. A valid lower bound above it proves
    that no network meets the constraints (:func:`proves_infeasible`)."""
    if problem.supply is not None:
        return np.inf
    fixed = np.maximum(problem.opening_cost, 0.0) + np.maximum(problem.module_cost, 0.0) * problem.max_modules
    unit = problem.arc_production_cost + problem.arc_transport_cost + problem.carbon_price * problem.arc_co2_t
    dearest = np.zeros(index.n_pairs)
    np.maximum.at(dearest, index.arc_pair, np.maximum(unit, 0.0) * index.arc_demand)
    penalty = np.where(np.isfinite(index.pair_penalty), index.pair_penalty * index.pair_demand, 0.0)
    return float(fixed.sum() + np.maximum(problem.setup_cost, 0.0).sum() + dearest.sum() + penalty.sum())


def proves_infeasible(problem: Problem, index: ModelIndex, bound: float | None) -> bool:
    """Whether ``bound``, a valid lower bound on every network's objective, lies above
    :func:`network_ceiling` (beyond rounding): then no network exists. The Lagrangian bound of a model
    whose service level no network meets grows without end (4 sites for 80 % of 5,000 points within 200 km:
    1.2e11 against a ceiling of 1.1e9), where HiGHS had ended its time limit with no network and no proof."""
    if bound is None or not np.isfinite(bound):
        return False
    ceiling = network_ceiling(problem, index)
    return bound > ceiling + 1e-6 * max(abs(ceiling), 1.0)


def with_floor(problem: Problem, index: ModelIndex, report: SolveReport) -> SolveReport:
    """``report`` with the floor K of the module as its bound where K is the larger (a valid lower bound
    on every network's objective, for cost models without prices): at 40,000 points with demand 2–9 ×
    every capacity, a run whose network opened every site at full capacity had read a 16–40 % gap
    against its Lagrangian bound while K proved it within 5 %."""
    if problem.objective_kind != "cost" or report.objective is None or (problem.arc_price != 0).any():
        return report
    floor = unavoidable_penalty(problem, index)
    if floor <= 0 or (report.best_bound is not None and report.best_bound >= floor):
        return report
    return combine_bounds(report, floor)


def warn_if_unsettled(problem: Problem, index: ModelIndex, report: SolveReport) -> None:
    """Log a warning where the run's absolute gap (against the larger of its bound and the floor) is more
    than ``UNSETTLED_SHARE`` of the costs its network decides (see the module), naming the floor and
    the fix: a MIP gap that would settle the network where the run stopped at its gap, more time where
    it stopped at a limit."""
    if problem.objective_kind != "cost" or report.objective is None or report.best_bound is None:
        return
    if (problem.arc_price != 0).any():  # revenues lower the objective: the floor is no bound on it
        return
    objective, floor = report.objective, unavoidable_penalty(problem, index)
    gap, decided = objective - max(report.best_bound, floor), objective - floor
    noise = ROUNDING * max(abs(objective), 1.0)  # a proven run's gap of 1e-14 against a network deciding nothing
    if floor <= 0 or gap <= noise or decided <= noise or gap <= UNSETTLED_SHARE * decided:
        return
    settling_gap = report.mip_gap_tolerance * decided / abs(objective)
    if report.status not in (Status.OPTIMAL, Status.GAP_LIMIT):
        fix = "give it more time (--time-limit)"
    elif settling_gap > 0:
        fix = f"lower --mip-gap to {settling_gap:.2g} or below"
    else:
        fix = "lower --mip-gap"
    currency = problem.currency
    logger.warning(
        "the run's gap (%s %s/yr, %.3g%% of the objective) is %.0f%% of the costs the network decides: %s %s/yr of "
        "the objective is the unmet penalty for demand no network can serve (beyond every site's largest capacity, "
        "or out of reach), so the network is not settled at this gap; %s, or check the demand's unit",
        f"{gap:,.0f}", currency, 100 * gap / abs(objective), 100 * gap / decided, f"{floor:,.0f}", currency, fix)


def warn_if_nothing_built(problem: Problem, report: SolveReport, open_options: int) -> None:
    """Log a warning where a run stopped at its time limit with nothing built while demand has arcs: its
    answer is the empty network only because nothing better was found in time (a priced model on one
    thread, whose root LP outlasted a short limit, had written an empty plan with nothing said)."""
    if report.status is not Status.TIME_LIMIT or open_options > 0 or problem.n_arcs == 0:
        return
    bound = "none" if report.best_bound is None else f"{report.best_bound:,.0f} {problem.currency}/yr"
    logger.warning("the time limit ended the solve before any network better than building nothing was found: "
                   "nothing is built and no demand is served (objective %s %s/yr, bound %s); give it more time "
                   "(--time-limit)", f"{report.objective:,.0f}", problem.currency, bound)
