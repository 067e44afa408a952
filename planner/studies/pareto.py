r"""The cost–CO2 frontier by the ε-constraint method (``planner pareto``).

Let :math:`X` be the networks of the model that serve at least what the cost-optimal network serves
(per product: unmet :math:`\le` its unmet), so emissions fall through cleaner networks, not through
customers dropped. Then:

1. the cost-optimal network :math:`x^c = \arg\min_{x} \text{cost}(x)` (it lies in :math:`X`),
   with emissions :math:`E^{\max}`;
2. the least emissions :math:`E^{\min} = \min_{x \in X} \text{CO2}(x)`, and the least-CO2 network
   :math:`\arg\min \{\text{cost}(x) : x \in X, \text{CO2}(x) \le E^{\min}\}` (the cheapest of the
   cleanest);
3. between them, for caps :math:`\varepsilon` stepped evenly from :math:`E^{\max}` to
   :math:`E^{\min}`: :math:`\min \{\text{cost}(x) : x \in X, \text{CO2}(x) \le \varepsilon\}`.

The caps are solved from the tightest up, each starting from the network of the tighter cap
before it (feasible for the looser one), the first from the least-CO2 solution of step 2, so HiGHS
always has an incumbent.

Each point's status, bound and gap are those of this problem (the cap and the service floor of :math:`X`, both
in its ``summary.json``), not of the model with the cap alone, which may leave more unmet for less.

Solved to optimality, every point is non-dominated (a point that dominated it would be feasible for
its ε and cheaper). With a MIP gap a point may be dominated by up to that gap: the table flags any
point another point dominates. Every arc within the radii is in the network, those dearer than a
product's unmet penalty too (which a plain solve drops): under the held service floor a pair may no
longer be left unmet, so a clean arc dearer than the penalty can be the least-CO2 way to serve it.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from planner.errors import InputError, SolverError
from planner.logs import study_part
from planner.model import ModelIndex, build_model
from planner.model.build import co2_expr
from planner.model.solution import Solution
from planner.model.start import load_start
from planner.pipeline import Run, Timing, load_and_prepare, solve_problem
from planner.problem import Problem
from planner.solver.budget import excess, kept_within_budget
from planner.solver.co2_unit import co2_in_unit, co2_objective_factor
from planner.solver.cost_unit import report_in_unit
from planner.solver.highs import solve_model
from planner.solver.outcome import SolveReport, SolverOptions, Status

logger = logging.getLogger(__name__)

MAX_POINTS = 100  # points of a frontier: each one a solve and a folder
CAP_SLACK = 1e-7  # relative slack on the least-CO2 cap, so rounding in the solver cannot cut its own network
DOMINANCE_TOLERANCE = 1e-6  # relative: differences below this are ties, not dominance


@dataclass(frozen=True)
class ParetoPoint:
    number: int
    kind: str  # cost_optimal | epsilon | least_co2
    co2_cap_t: float | None
    run: Run
    # the most each product may leave unmet (units/yr): the cost optimum's; the point's status and bound are those
    # of its model with the cap and this floor (None: the cost-optimal point, solved without a floor and under the
    # model's own cap, if any, its ``co2_cap_t``)
    max_unmet: dict[str, float] | None = None


@dataclass(frozen=True)
class Frontier:
    points: list[ParetoPoint]
    table: pd.DataFrame
    least_co2: SolveReport  # the emissions minimisation of step 2
    inputs: object
    screening: object


def co2_of(run: Run) -> float:
    return run.tables.co2_t()


def service_floor(run: Run) -> np.ndarray:
    """Unmet units/yr per product of ``run`` (plus a rounding allowance): the most each frontier
    point may leave unmet."""
    regions = run.tables.regions
    unmet = regions.groupby("product")["unmet"].sum().reindex(list(run.problem.product_ids)).fillna(0.0)
    demand = run.problem.demand.sum(axis=0)
    return np.maximum(unmet.to_numpy(dtype=float), 0.0) + 1e-7 * demand


def least_emissions(problem: Problem, options: SolverOptions, start: Solution) -> tuple[SolveReport, Solution]:
    """Minimise CO2 (t/yr) over the networks of ``problem`` (its service floor included), starting
    from ``start`` (feasible: the cost-optimal network); the report and the least-CO2 solution, within the
    capex budget beyond HiGHS's tolerance (:mod:`planner.solver.budget`)."""
    def solve(capex_budget: float, options: SolverOptions) -> tuple[SolveReport, Solution]:
        return _least_emissions(dataclasses.replace(problem, capex_budget=capex_budget), options, start)

    return kept_within_budget(problem, lambda solution: excess(problem, solution), solve, options)


def _least_emissions(problem: Problem, options: SolverOptions, start: Solution) -> tuple[SolveReport, Solution]:
    """The least-CO2 solve, with CO2 in a smaller unit where every CO2 term is below 1 t
    (:func:`planner.solver.co2_unit.co2_objective_factor`); its objective and bound in tonnes."""
    factor = co2_objective_factor(problem)
    solved = co2_in_unit(problem, factor) if factor != 1.0 else problem
    index = ModelIndex.from_problem(solved)
    model = build_model(solved, index)
    model.total_cost.deactivate()
    model.co2_objective = pyo.Objective(expr=co2_expr(model, solved, index), sense=pyo.minimize)
    load_start(model, solved, index, start)
    report = solve_model(model, options, warm_start=True)
    return report_in_unit(report, 1.0 / factor), Solution.from_model(model, solved, index)


def cost_co2_frontier(config, data, options: SolverOptions, points: int) -> Frontier:
    """``points`` networks from the cost-optimal to the least-CO2 one; see the module docstring."""
    if points < 2:
        raise InputError("--points must be at least 2 (the cost-optimal and the least-CO2 network)")
    if points > MAX_POINTS:
        raise InputError(f"--points {points:,}: a frontier has at most {MAX_POINTS} points (each is a solve); "
                         "give fewer")
    timing = Timing()
    # every arc, those dearer than the unmet penalty too: under the service floor below a pair may no longer be
    # left unmet, so the least-CO2 network may need them (pruned, the frontier had stopped short of it)
    inputs, problem, screening = load_and_prepare(config, data, timing, keep_dear_arcs=True)
    logger.info("pareto: the cost-optimal network")
    try:
        with study_part("point 0"):  # a warning of one point's solve names it
            cost_optimal = solve_problem(problem, options, Timing(), screen=False)
    except SolverError as error:  # the later solves start from a network, so only this one can end without
        raise type(error)(f"pareto, the cost-optimal network: {error}") from None
    e_max = co2_of(cost_optimal)
    held = dataclasses.replace(problem, max_unmet=service_floor(cost_optimal))
    logger.info("pareto: the least emissions at the cost-optimal service level")
    with study_part("least-CO2 solve"):
        least, cleanest = least_emissions(held, options, cost_optimal.solution)
    e_min = min(float(least.objective), e_max)
    model_cap = float(problem.co2_cap_t) if np.isfinite(problem.co2_cap_t) else None  # the model's own cap holds here
    result = [ParetoPoint(0, "cost_optimal", model_cap, cost_optimal)]
    if e_max - e_min <= DOMINANCE_TOLERANCE * max(e_max, 1.0):
        warn_single_point(least, e_max, points)
    else:
        caps = np.linspace(e_max, e_min, points)[1:]
        caps[-1] = e_min * (1 + CAP_SLACK)
        capped = {}
        start = cleanest  # meets every cap, so HiGHS always starts with an incumbent
        # from the tightest cap up: each point's network meets the next, looser cap and starts it
        for number in range(len(caps), 0, -1):
            cap_t = float(caps[number - 1])
            logger.info("pareto: point %d, CO2 ≤ %.6g t/yr", number, cap_t)
            with study_part(f"point {number}"):
                run = solve_problem(dataclasses.replace(held, co2_cap_t=cap_t), options, Timing(), screen=False,
                                    start=start)
            floor = dict(zip(map(str, problem.product_ids), map(float, held.max_unmet), strict=True))
            capped[number] = ParetoPoint(number, "least_co2" if number == len(caps) else "epsilon", cap_t, run, floor)
            start = run.solution
        result.extend(capped[number] for number in sorted(capped))
    return Frontier(result, frontier_table(result), least, inputs, screening)


def warn_single_point(least: SolveReport, e_max: float, points: int) -> None:
    """The frontier is one point: say whether the least-CO2 solve proved that the cost-optimal network
    has the least emissions (its bound reaches them) or only found no cleaner network in its time."""
    bound = least.best_bound
    proven = least.status is Status.OPTIMAL or (
        bound is not None and e_max - bound <= DOMINANCE_TOLERANCE * max(e_max, 1.0))
    if proven:
        logger.warning("pareto: the cost-optimal network already has the least emissions (%.6g t CO2/yr); the "
                       "frontier is that one point, not the %d asked for", e_max, points)
        return
    bound_text = "no bound" if bound is None else f"its bound {bound:,.6g} t/yr"
    stopped, fix = {Status.GAP_LIMIT: ("within the MIP gap", "lower --mip-gap"),
                    Status.TIME_LIMIT: ("within the time limit", "give more time (--time-limit)")}.get(
        least.status, ("where it ended", f"it ended: {least.termination}"))
    logger.warning("pareto: the least-CO2 solve found no network with less CO2 than the cost-optimal one (%.6g t/yr) "
                   "%s (%s, %s): the frontier is that one point, not the %d asked for, and a cleaner network may "
                   "exist; %s", e_max, stopped, least.status.value, bound_text, points, fix)


def frontier_table(points: list[ParetoPoint]) -> pd.DataFrame:
    """One row per point: cap, cost, CO2, status, gap, bound, cost parts, facility counts, dominated flag."""
    rows = []
    for point in points:
        run = point.run
        rows.append(
            {
                "point": point.number,
                "kind": point.kind,
                "co2_cap_t": point.co2_cap_t,
                "objective": run.report.objective,
                "co2_t": co2_of(run),
                "status": run.report.status.value,
                "mip_gap": run.report.mip_gap,
                "best_bound": run.report.best_bound,  # of that point's problem (its cap and service floor)
                **{f"cost_{k}": v for k, v in run.tables.cost_parts().items()},
                **{f"n_{t}": n for t, n in run.tables.facility_counts(run.problem.type_ids).items()},
                "audit_passed": run.audit.passed,
            }
        )
    table = pd.DataFrame(rows)
    table["dominated_by"] = [dominating(table, i) for i in range(len(table))]
    return table


def dominating(table: pd.DataFrame, i: int) -> str:
    """Points (comma-separated numbers) that dominate row ``i``: no dearer, no dirtier, better in one."""
    cost, co2 = table["objective"].to_numpy(float), table["co2_t"].to_numpy(float)
    tol_cost = DOMINANCE_TOLERANCE * max(abs(cost[i]), 1.0)
    tol_co2 = DOMINANCE_TOLERANCE * max(abs(co2[i]), 1.0)
    no_worse = (cost <= cost[i] + tol_cost) & (co2 <= co2[i] + tol_co2)
    better = (cost < cost[i] - tol_cost) | (co2 < co2[i] - tol_co2)
    return ",".join(str(int(table["point"].iloc[j])) for j in np.flatnonzero(no_worse & better))
