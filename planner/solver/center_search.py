r"""The p-center on the planner's problem (``[objective] kind = "p_center"``): the smallest radius R
such that at most p facilities serve all demand from within R, with the capacities, modules and
constraints of the model.

The optimal R is one of the arc distances :math:`\rho_1 < \rho_2 < \dots`. For a level
:math:`\rho_k` the covering problem keeps the arcs with :math:`d_a \le \rho_k` and asks for any network
of at most p open facilities (every cost 0, so the first network found ends the step: minimising the count
instead, a step of 1,000 points with a service level had spent its whole 40 s limit proving 6 facilities the
fewest after finding them in 4 s): feasible ⇔ R* ≤ ρ_k. A binary search
over k, started at the largest nearest-site distance of any demand pair (no radius below it can
serve that pair), finds the first feasible level; every "infeasible" is HiGHS's proof, every
"feasible" a solution, so the radius is proven optimal when no step ran out of time. At the time limit
the search stops with the smallest level known feasible (status ``time_limit``). The network
returned is the p-median on the arcs within the optimal radius (the same radius, least
demand-weighted distance), so the report's objective is that sum (units·km/yr, what the problem's
costs measure: ``planner.inputs.objectives``) and the radius is read off the flows.

**Where nothing but p constrains the network** (:func:`classic_applies`: no capacity, forced site,
lower count, per-type limit below p, budget, CO2 cap, service level or inbound supply), the radius is
the classic p-center's of the pair × option distance matrix, found by
:func:`planner.solver.classic.pcenter.solve_pcenter` (farthest-first seeds, LP levels and row
generation: small covering problems over a few dozen demand pairs instead of one over every arc), and
its sites, each pair served from the nearest, are the p-median's start. 3,000 points in a 1° square,
p = 3: the covering search's first step (every arc, 9 M) took the whole 10 s limit and the answer was
one site at 155.8 km; the classic search proves the radius in seconds. Elsewhere the covering search
first tries the radius of a farthest-first set of p options (:func:`farthest_first_radius`), so its
steps hold only the arcs within it where that radius is feasible.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np

from planner.errors import InfeasibleError, NoSolutionInTimeError, SolverError
from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.problem import ARC_FIELDS, Problem
from planner.solver.classic.covering import solve_lscp
from planner.solver.classic.pcenter import solve_pcenter
from planner.solver.heuristic import flows_for_open_set
from planner.solver.outcome import LEFT_FLOOR_S, SolveReport, SolverOptions, Status
from planner.solver.service import explain_service_infeasibility

logger = logging.getLogger(__name__)

EXPLAIN_TIME_LIMIT_S = 60.0  # at most this long for each solve finding the best share of a service level
CLASSIC_MAX_CELLS = 20_000_000  # pairs × options of the dense distance matrix of the classic search (160 MB)


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


def covering_level(problem: Problem, radius_km: float) -> Problem:
    """The step of the search at ``radius_km``: the arcs within it, every cost 0 (any network of at most p
    facilities serving all demand ends it)."""
    within = _within(problem, radius_km)
    return dataclasses.replace(within, objective_kind="set_covering", opening_cost=np.zeros(within.n_options),
                               arc_transport_cost=np.zeros(within.n_arcs))


def center_causes(problem: Problem) -> tuple[str, str]:
    """What may keep a p-center model from serving all reachable demand at any radius, and the fixes:
    the limits the model has (p always; capacity where an option has one, forced sites, a capex budget,
    a CO2 cap, service levels)."""
    capacitated = bool(np.isfinite(problem.module_capacity).any())
    limits = [("capacity", "raise p or capacity") if capacitated else ("counts", "raise p")]
    if capacitated:
        limits.append(("counts", None))
    if problem.forced.any():
        limits.append(("forced or existing sites", "free a forced site"))
    if np.isfinite(problem.capex_budget):
        limits.append(("the capex budget (network.capex_budget)", "raise the budget"))
    if np.isfinite(problem.co2_cap_t):
        limits.append(("the CO2 cap (network.max_co2_t_per_yr)", "raise the CO2 cap"))
    products = [problem.product_ids[position] for position in problem.serviced_products]
    if products:
        limits.append((", ".join(f"products.{name}.service" for name in products), "lower the service level"))
    return _either([cause for cause, _ in limits]), ", or ".join(fix for _, fix in limits if fix)


def refuse_out_of_reach(problem: Problem, time_limit_s: float | None) -> None:
    """Raise :class:`InfeasibleError` where the sites' reach alone leaves p too few: whatever the capacity,
    no p facilities (the forced ones among them) have an arc to every demand pair that some site reaches
    (delivery radii, product eligibility, an OD matrix's pairs). Names the fewest that do, by the
    classic LSCP on the pairs the forced options leave."""
    index = ModelIndex.from_problem(problem)
    reach = np.isfinite(pair_option_distances(problem, index))
    forced = np.flatnonzero(problem.forced)
    free = np.flatnonzero(~problem.forced)
    left = ~reach[:, forced].any(axis=1)
    needed = len(forced)
    if left.any():
        covered = np.where(reach[np.ix_(left, free)], 0.0, np.inf)
        result = solve_lscp(covered, 0.0, SolverOptions(time_limit_s=time_limit_s, progress_s=None, quiet=True))
        if result.status is not Status.OPTIMAL:
            return
        needed += int(result.objective)
    p = problem.objective_p
    if p is None or needed <= p:
        return
    with_forced = f" ({len(forced)} forced or existing among them)" if len(forced) else ""
    radii = [f"transport.{problem.product_ids[q]}.max_distance_km" for q in range(problem.n_products)
             if np.isfinite(problem.max_distance_km[q])]
    widen = f"widen {', '.join(radii)} or a facility type's max_delivery_km" if radii else \
        "widen a facility type's max_delivery_km"  # the types' radii are in the arcs, not in the problem
    raise InfeasibleError(
        f"p_center: no {p} facilities reach every region with demand: the candidate sites' reach (delivery radii, "
        f"the facility types' products, the OD matrix's pairs) needs at least {needed}{with_forced}, whatever the "
        f"capacity; raise objective.p to {needed}, {widen}, or add candidate sites")


def _either(texts: list[str]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return texts[0] if len(texts) == 1 else f"{', '.join(texts[:-1])} or {texts[-1]}"


class CenterSearch:
    """The binary search of the module docstring; ``solve_level`` is the engine's solve."""

    def __init__(self, problem: Problem, options: SolverOptions, solve_level) -> None:
        self.problem, self.options, self.solve_level = problem, options, solve_level
        self.deadline = None if options.time_limit_s is None else time.perf_counter() + options.time_limit_s
        self.proven = True
        self.steps = 0
        self.unanswered = False  # the last step ran out of time without an answer
        self.networks: dict[float, Solution] = {}  # the covering network of the least feasible radius found

    def left(self) -> float | None:
        return None if self.deadline is None else max(self.deadline - time.perf_counter(), LEFT_FLOOR_S)

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() >= self.deadline

    def feasible(self, radius_km: float) -> bool:
        """Whether at most p facilities serve all demand within ``radius_km`` (False also when the
        step ran out of time without an answer; the result is then not proven)."""
        self.steps += 1
        self.unanswered = False
        covering = covering_level(self.problem, radius_km)
        try:
            report, network = self.solve_level(covering, dataclasses.replace(self.options, time_limit_s=self.left()))
        except InfeasibleError:
            return False
        except SolverError:
            self.proven, self.unanswered = False, True
            return False
        logger.info("p-center: radius %.6g km is feasible (%s)", radius_km, report.status.value)
        self.networks = {float(radius_km): network}  # each feasible radius found is below the last: keep one
        return True

    def refusal(self, radius_km: float) -> InfeasibleError:
        """The error of a p-center no network serves at ``radius_km``, the largest distance: its limits, and
        with service levels the best share each reaches there (``planner.solver.service``)."""
        def plain(problem: Problem) -> InfeasibleError:
            causes, fixes = center_causes(problem)
            return InfeasibleError(f"p_center: {problem.objective_p} facilities cannot serve all reachable demand "
                                   f"even at the largest distance ({causes}); {fixes}")

        if not len(self.problem.serviced_products):
            return plain(self.problem)
        limit = EXPLAIN_TIME_LIMIT_S if self.left() is None else min(self.left(), EXPLAIN_TIME_LIMIT_S)
        quick = dataclasses.replace(self.options, time_limit_s=limit, quiet=True, progress_s=None)
        return explain_service_infeasibility(covering_level(self.problem, radius_km), quick, explain_rest=plain)

    def first_feasible(self) -> float:
        """The smallest feasible level (km)."""
        levels, low = radius_levels(self.problem)
        if len(levels) == 0:
            raise InfeasibleError("p_center: no candidate site can serve any demand")
        high = len(levels) - 1
        seed = farthest_first_radius(self.problem)
        if seed is not None and levels[low] <= seed < levels[high]:  # a likely radius first: fewer arcs
            middle = int(np.searchsorted(levels, seed))
            if self.feasible(levels[middle]):
                high = middle
            elif self.proven:
                low = middle + 1
        # past the deadline after the likely radius, no step at the largest (its most arcs: 2.8 s of HiGHS at a
        # 0.3 s limit on 3,000 points) is started: the search ends without a network
        late = high == len(levels) - 1 and self.steps > 0 and self.out_of_time()
        if high == len(levels) - 1 and (late or not self.feasible(levels[high])):
            if late or self.unanswered:  # out of time, not proven infeasible
                raise NoSolutionInTimeError(
                    f"p_center: the time limit ended the radius search before any network of at most "
                    f"{self.problem.objective_p} facilities serving all reachable demand was found; give it more "
                    "time (--time-limit)")
            refuse_out_of_reach(self.problem, self.left())
            raise self.refusal(float(levels[high]))
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
    """The optimal radius (km) and the p-median network within it; ``solve_level(problem, options, start)``
    solves one covering or p-median problem (the engine). The report's status is ``optimal`` only when
    every step of the search was answered."""
    search = CenterSearch(problem, options, solve_level)
    if not (problem.demand > 0).any():  # nothing to reach: radius 0, as p_median's value is 0 there
        report, solution = solve_level(dataclasses.replace(problem, objective_kind="p_median"), options, None)
        return dataclasses.replace(report, termination="p-center: no demand, radius 0", kind_proven=True), solution, 0.0
    try:
        classic = classic_radius(problem, options) if classic_applies(problem) else None
    except InfeasibleError:  # the search's own text speaks of graphs and points
        refuse_out_of_reach(problem, search.left())
        raise
    if classic is not None:
        radius_km, sites, proven, steps = classic
        search.proven = proven
    else:
        radius_km, sites, steps = search.first_feasible(), None, None
    within = _within(problem, radius_km)
    p_median = dataclasses.replace(within, objective_kind="p_median")
    # the network the search found at this radius starts the last solve: given only the floor of the time left,
    # it had ended without a network and the radius found was lost ("HiGHS ended without a feasible solution")
    start = search.networks.get(float(radius_km)) if sites is None else \
        flows_for_open_set(p_median, ModelIndex.from_problem(p_median), sites)
    report, solution = solve_level(p_median, dataclasses.replace(options, time_limit_s=search.left()), start)
    steps = f"{steps} classic p-center solves" if steps is not None else f"{search.steps} covering solves"
    logger.info("p-center: radius %.6g km after %s", radius_km, steps)
    status = report.status if search.proven else Status.TIME_LIMIT
    report = dataclasses.replace(report, status=status, termination=f"p-center radius search, {steps}",
                                 kind_proven=search.proven)
    return report, lift(problem, radius_km, solution), radius_km


def classic_applies(problem: Problem) -> bool:
    """Whether only the count p limits the network (see the module), on a distance matrix of at most
    ``CLASSIC_MAX_CELLS`` cells."""
    p = problem.objective_p
    return p is not None and problem.max_facilities == p and bool((problem.type_max_count >= p).all()) \
        and nothing_else_binds(problem)


def nothing_else_binds(problem: Problem) -> bool:
    """No capacity, forced site, lower count, budget, CO2 cap, service level, inbound supply or proximity
    prices (revenue in the objective), one option per site (so no two chosen columns are one site), and a
    matrix of at most ``CLASSIC_MAX_CELLS``."""
    return (not np.isfinite(problem.module_capacity).any() and not problem.forced.any() and not problem.has_proximity
            and not problem.has_lower_counts and not np.isfinite(problem.capex_budget)
            and not np.isfinite(problem.co2_cap_t) and not len(problem.serviced_products) and problem.supply is None
            and len(np.unique(problem.option_site)) == problem.n_options
            and np.count_nonzero(problem.demand > 0) * problem.n_options <= CLASSIC_MAX_CELLS)


def cover_applies(problem: Problem) -> bool:
    """A set-covering problem (its arcs within the coverage) that only the coverage limits."""
    return problem.objective_kind == "set_covering" and problem.max_facilities is None \
        and bool((problem.type_max_count >= problem.n_options).all()) and nothing_else_binds(problem)


def solve_cover(problem: Problem, options: SolverOptions) -> tuple[SolveReport, Solution]:
    """The fewest options serving every pair within the coverage (the arcs), by the classic LSCP
    (``planner.solver.classic.covering.solve_lscp``: dominance-reduced rows and columns), each pair then
    served from a chosen option. 3,000 points within 25 km: the model over every arc had ended its 10 s
    without a cover (exit 1)."""
    index = ModelIndex.from_problem(problem)
    covered = np.where(np.isfinite(pair_option_distances(problem, index)), 0.0, np.inf)  # an arc: within the coverage
    if len(covered) == 0:  # no demand to cover: no facility (the LSCP of no rows had ended in an error)
        nothing = np.zeros(problem.n_options, dtype=int)
        return (SolveReport.of(Status.OPTIMAL, "classic set covering, no demand to cover", 0.0, 0.0, options.mip_gap,
                               "HiGHS"),
                Solution(open=nothing, modules=nothing.copy(), assign=np.zeros(problem.n_arcs),
                         unmet=np.zeros(index.n_pairs)))
    result = solve_lscp(covered, 0.0, dataclasses.replace(options, quiet=True))
    opened = opened_options(problem, result.sites)
    solution = flows_for_open_set(problem, index, opened)
    if solution is None:
        raise SolverError("the classic set covering's sites do not serve every pair; rerun with --debug")
    report = SolveReport.of(result.status, f"classic set covering, {result.termination}", float(opened.sum()),
                            result.best_bound, options.mip_gap, "HiGHS", solve_s=result.solve_s)
    return report, solution


def pair_option_distances(problem: Problem, index: ModelIndex) -> np.ndarray:
    """The (pairs with an arc, O) matrix of arc distances in km, ∞ without an arc."""
    reachable, row = np.unique(index.arc_pair, return_inverse=True)
    distance = np.full((len(reachable), problem.n_options), np.inf)
    np.minimum.at(distance, (row, problem.arc_option), problem.arc_distance_km)
    return distance


def opened_options(problem: Problem, sites: np.ndarray) -> np.ndarray:
    """(O,) bool: the options a classic solver chose (its ``sites``: the matrix's columns, the options)."""
    opened = np.zeros(problem.n_options, dtype=bool)
    opened[sites] = True
    return opened


def classic_radius(problem: Problem, options: SolverOptions) -> tuple[float, np.ndarray, bool, int]:
    """(radius km, the open options (bool, O), proven, HiGHS runs) of the classic p-center over the
    pairs that have an arc."""
    distance = pair_option_distances(problem, ModelIndex.from_problem(problem))
    result = solve_pcenter(distance, int(problem.objective_p), dataclasses.replace(options, quiet=True))  # dozens
    return result.objective, opened_options(problem, result.sites), result.status == Status.OPTIMAL, result.solves


def farthest_first_radius(problem: Problem) -> float | None:
    """The radius (km) of a farthest-first set of p options over the arcs (Gonzalez's rule: the option
    nearest to the pair farthest from those chosen), or None where some pair is out of its reach."""
    p = problem.objective_p
    if not p or problem.n_arcs == 0:
        return None
    index = ModelIndex.from_problem(problem)
    (pair_order, pair_starts), (option_order, option_starts) = index.arcs_by_pair, index.arcs_by_option
    nearest = np.where(np.diff(pair_starts) > 0, np.inf, -np.inf)  # a pair without arcs is never the farthest
    farthest = int(index.arc_pair[np.argmax(problem.arc_distance_km)])
    for _ in range(int(p)):
        arcs = pair_order[pair_starts[farthest]:pair_starts[farthest + 1]]
        option = int(problem.arc_option[arcs[np.argmin(problem.arc_distance_km[arcs])]])
        own = option_order[option_starts[option]:option_starts[option + 1]]
        np.minimum.at(nearest, index.arc_pair[own], problem.arc_distance_km[own])
        farthest = int(np.argmax(nearest))
    radius = float(nearest.max(initial=0.0))
    return radius if np.isfinite(radius) else None


def lift(problem: Problem, radius_km: float, solution: Solution) -> Solution:
    """A solution of the arcs within ``radius_km`` as one of all arcs (the others carry nothing)."""
    assign = np.zeros(problem.n_arcs)
    assign[problem.arc_distance_km <= radius_km] = solution.assign
    return dataclasses.replace(solution, assign=assign)
