"""The planner's own presolve before HiGHS: a Lagrangian bound, a heuristic incumbent, and exact
fixing of facility options (see ``planner.solver.lagrangian``); then the incumbent is loaded into the
Pyomo model as HiGHS's starting solution and the fixed options are fixed there.

Correctness: an option is fixed only when every solution that flips it costs more than the
incumbent, so the optimum of the reduced model, or the incumbent itself, is the optimum of the
original; the reported bound is the larger of HiGHS's bound and the Lagrangian bound, both valid.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from planner.errors import SolverError
from planner.interrupt import raise_if_stopped
from planner.model.arrays import StandardForm, start_vector
from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.model.start import load_start
from planner.problem import Problem
from planner.solver.heuristic import (
    incumbent_from_values,
    restricted_mip,
    satisfies_coupling,
    solution_cost,
    within_upper_counts,
    worth_serving,
)
from planner.solver.lagrangian import CapacityCover, fixable_options, lagrangian_bound
from planner.solver.module_search import largest_capacity_type, module_search
from planner.solver.outcome import SolveReport, SolverOptions, Status, relative_gap, within_gap, within_tolerance
from planner.solver.service_search import cost_first_cover, drop_and_repair

logger = logging.getLogger(__name__)

RESTRICTED_OPTIONS = 60  # options (at least) in the restricted MIP of the presolve
RESTRICTED_PER_TYPE = 10  # and the best of each facility type
SEARCH_PER_TYPE = 3  # the module search's LP: the best of each type (fewer arcs: more moves per second)
RESTRICTED_SHARE = 0.5  # no restricted MIP when it would hold more than this share of the options
LARGE_MODEL_ARCS = 50_000  # from this size the presolve gets most of the time limit (docs/solver.md, "From 50,000")
LARGE_MODEL_SHARE = 0.9
MOVES_MAX_ARCS = 200_000  # from this size the first incumbent gets no local search (the module search does better)
MIN_HIGHS_SECONDS_LARGE = 20.0  # on large models HiGHS is not run with less time left (highs_can_help)
FIRST_ROUND_SHARE_LARGE = 0.15  # of the budget: the first subgradient round (it stalls soon on large models)
LARGE_MODEL_TARGET_GAP = 0.02  # Polyak targets at most this far above the bound on large models
LARGE_MODEL_ITERATIONS = 2000  # subgradient steps per round on large models (time-limited anyway)
FIRST_HEURISTIC_SHARE = 0.05  # of the budget: the first incumbent's local search (none on large models)
PAYING_FIXED_SHARE = 0.5  # below LARGE_MODEL_ARCS, go on past the first incumbent if fixing closes this share
PRESOLVE_SOLVER = "planner presolve"  # SolveReport.solver of an answer that is the presolve's own (HiGHS not run)
SERVICE_SEARCH_SHARE = 0.3  # of the time left: the drop-and-repair search where there are service levels
SERVICE_BUDGET_SHARE = 0.4  # of the time limit: the presolve's with service levels (else a fifth)
COST_FIRST_SHARE = 0.4  # of the time left before it: the cost-first start of that search
POOR_INCUMBENT_GAP = 0.02  # or if the first incumbent is more than this far above the bound
UNCAPPED_ROUND_SHARE = 0.1  # of the budget: the subgradient without the CO2 cap (uncapped_start)


def promising_options(
    problem: Problem, option_value: np.ndarray, chosen: np.ndarray, per_type: int = RESTRICTED_PER_TYPE
) -> np.ndarray:
    """Mask of the options for the restricted MIP (and the module search): those the relaxation
    opens, the ``max(RESTRICTED_OPTIONS, 4 × opened)`` lowest v_o overall, and the ``per_type``
    lowest of each facility type."""
    n_best = min(problem.n_options, max(RESTRICTED_OPTIONS, 4 * int(chosen.sum())))
    promising = chosen.copy()
    promising[np.argsort(option_value, kind="stable")[:n_best]] = True
    for k in range(len(problem.type_ids)):
        of_type = np.flatnonzero(problem.option_type == k)
        promising[of_type[np.argsort(option_value[of_type], kind="stable")[:per_type]]] = True
    return promising


def best_of_missing_types(problem: Problem, option_value: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Mask of the option with the lowest v_o of each facility type none of whose options is in
    ``chosen`` (a mask)."""
    added = np.zeros(problem.n_options, dtype=bool)
    for k in np.setdiff1d(np.unique(problem.option_type), problem.option_type[chosen]):
        of_type = np.flatnonzero(problem.option_type == k)
        added[of_type[np.argmin(option_value[of_type])]] = True
    return added


@dataclass(frozen=True)
class PresolveResult:
    bound: float
    incumbent: Solution | None
    incumbent_cost: float | None
    fix_closed: np.ndarray
    fix_open: np.ndarray
    paid: bool = True  # False: the presolve stopped early; HiGHS gets the model as it is (see keep_better)
    promising: np.ndarray | None = None  # the options a search from the incumbent should look at (promising_options)
    arcs: int = 0  # arcs of the problem the presolve ran on, where larger than the model's (setup_options)

    def closes_gap(self, mip_gap: float) -> bool:
        """Whether the incumbent is within ``mip_gap`` of the bound: then it is the answer, and HiGHS
        is not run (on a model of 800,000 arcs it could not even prove what is already proven)."""
        return within_gap(self.incumbent_cost, self.bound, mip_gap)


def presolve_applies(problem: Problem, options: SolverOptions) -> bool:
    """Large enough to pay, and of the shape the heuristic can make feasible: no product setups,
    no single sourcing or unmet limit (which the relaxation drops, so its solutions would rarely be
    feasible and fixing would never trigger). A capex budget is in: the relaxation's option choice
    keeps within it on each option's least capex (``lagrangian.CapacityCover``), and the heuristics
    close options and take modules away until the capex fits (``heuristic.trimmed_to_budget``,
    ``affordable_modules``). Limits on facility counts
    (``min_facilities``, ``max_facilities``, a type's ``min_count`` and ``max_count``) are in: the
    relaxation's option choice keeps within them (``lagrangian.CapacityCover``), the heuristics open
    options until the lower ones hold and every move checks them. Service levels are in: the
    relaxation prices them (multipliers μ_p, ``planner.solver.lagrangian``) and every flow LP of the
    heuristics holds them (``planner.solver.heuristic.flow_form``); so is a CO2 cap, priced and held
    the same way. Not (yet) with proximity bands or inbound supply, whose arc factors, prices and
    material rows the relaxation and heuristics do not model."""
    forced_within_counts = within_upper_counts(problem, problem.forced)
    return (
        problem.n_arcs >= options.presolve_min_arcs
        and not problem.setup_cost.any()
        and not problem.single_sourcing
        and forced_within_counts
        and not np.isfinite(problem.max_unmet).any()
        and not problem.has_proximity
        and problem.supply is None
    )


def has_side_rows(problem: Problem) -> bool:
    """Whether rows besides balance and capacity couple the flows: service levels or a CO2 cap. There
    HiGHS rarely finds better networks than the presolve's searches in a time limit, so they get more
    of it (``SERVICE_BUDGET_SHARE``), the module search and the search beside HiGHS
    (``planner.solver.beside``)."""
    return len(problem.serviced_products) > 0 or bool(np.isfinite(problem.co2_cap_t))


def presolve_budget(problem: Problem, options: SolverOptions) -> float:
    """Seconds the presolve may spend: a fifth of the time limit, ``SERVICE_BUDGET_SHARE`` with
    service levels (there its searches find the networks HiGHS does not), 30 s without one; on a model
    with at least ``LARGE_MODEL_ARCS`` arcs, where HiGHS cannot get far within the limit, most of it
    (``LARGE_MODEL_SHARE``), and all of it where the rest would be too little for HiGHS to be run
    at all (:func:`highs_can_help`). At least a second, but never more than half of a short limit,
    so that the two together keep to it."""
    if options.time_limit_s is None:
        return 30.0
    if problem.n_arcs < LARGE_MODEL_ARCS:
        share = SERVICE_BUDGET_SHARE if has_side_rows(problem) else 0.2
        return min(max(1.0, share * options.time_limit_s), 0.5 * options.time_limit_s)
    if (1 - LARGE_MODEL_SHARE) * options.time_limit_s < MIN_HIGHS_SECONDS_LARGE:
        return options.time_limit_s
    return max(1.0, LARGE_MODEL_SHARE * options.time_limit_s)


def lagrangian_presolve(
    problem: Problem, index: ModelIndex, options: SolverOptions, start: Solution | None = None
) -> PresolveResult:
    """Bound, incumbent and fixings within :func:`presolve_budget`; ``start`` (a feasible solution, or
    None) is the first incumbent.

    1. Subgradient rounds (``planner.solver.lagrangian``) for the bound and the option values v_o.
    2. A heuristic incumbent from the options the relaxation opens (LP flows, then drop, add and
       swap moves for ``FIRST_HEURISTIC_SHARE`` of the budget; from ``MOVES_MAX_ARCS`` arcs no moves,
       the module search of step 4 does better there, but below it the moves give that search a better
       start: on ``models/launch.toml`` (74,061 arcs, 86 options open) the search, from the network
       without them, improved nothing in 350 flow LPs and ended at a 1.41 % gap in five runs of seven).
    3. On models below ``LARGE_MODEL_ARCS`` arcs: with service levels, the cost-first start
       (``service_search.cost_first_cover``: the network found without the levels, opened further by
       coverage until they hold) for ``COST_FIRST_SHARE`` of the time left, then from the better
       incumbent the drop-and-repair search (``planner.solver.service_search``: close an option,
       reopen by coverage until the levels hold; it leaves networks that no single-option move can,
       e.g. a second central plant where several microfactories serve cheaper) for
       ``SERVICE_SEARCH_SHARE`` of the time left; HiGHS on
       the MIP restricted to the most promising options by v_o (a primal heuristic), when they are
       at most ``RESTRICTED_SHARE`` of the options, or else, with service levels, the module search
       over them (their module counts are decisions there; the flow heuristic only rounds them up);
       more subgradient steps aimed at the incumbent's cost (Polyak steps need a target); the
       heuristic of step 2 again from their values.
    4. On models of ``LARGE_MODEL_ARCS`` arcs or more, where HiGHS cannot even solve the root LP of
       the restricted MIP in time: the module search (``planner.solver.module_search``) over the
       promising options, from the incumbent, side by side with the subgradient steps, in two
       halves so that the second half's steps aim at the first half's incumbent and its search
       starts from the options the newer values promise.
    Fixing with the best bound against the best incumbent.

    Steps 3 and 4 run only where they pay (:func:`worth_going_on`): on models of
    ``LARGE_MODEL_ARCS`` arcs or more, which HiGHS cannot solve alone within a time limit, and on
    smaller ones when the first incumbent already lets fixing close ``PAYING_FIXED_SHARE`` of the
    options, so that a better incumbent shrinks HiGHS's model further, or when that incumbent is
    poor. Otherwise (``paid`` False) HiGHS, with its cuts, does more with that time than the
    presolve's heuristics: it starts at once on the model as it is, without the few fixings or the
    start (with them HiGHS was seen to take another, slower way than the direct run on the instance
    of ``benchmarks/overhead.py``; without them it makes the direct run's search), and the incumbent
    is kept in reserve (:func:`keep_better`). Ctrl-C or SIGTERM raises
    :class:`~planner.interrupt.Interrupted` once the subgradient thread has ended."""
    run = _PresolveRun(problem, index, options)
    run.consider(start)
    run.first_steps()
    closed = within_gap(run.cost, run.bound, options.mip_gap)
    paid = (run.large and not closed) or worth_going_on(problem, options, run.bound, run.cost, run.fixings())
    if paid and run.large:
        run.large_model_steps()
    elif paid:
        run.small_model_steps()
    return run.result(paid or closed)


class _PresolveRun:
    """The state of one :func:`lagrangian_presolve` and its steps: the clock, the best Lagrangian
    bound with its option values and multipliers, the best incumbent and its cost, and the module
    search's best cost as it goes (``found_cost``: written on the main thread while the subgradient
    thread reads it as its Polyak target)."""

    def __init__(self, problem: Problem, index: ModelIndex, options: SolverOptions) -> None:
        self.problem, self.index, self.options = problem, index, options
        self.started = time.perf_counter()
        self.budget = presolve_budget(problem, options)
        self.large = problem.n_arcs >= LARGE_MODEL_ARCS
        self.cover = CapacityCover(problem, index)
        self.bound: float | None = None
        self.option_value: np.ndarray | None = None  # v_o at the best bound's multipliers
        self.chosen: np.ndarray | None = None  # the options the relaxation opens there
        self.multipliers: np.ndarray | None = None  # the last round's best, where the next one starts
        self.incumbent: Solution | None = None
        self.cost: float | None = None
        self.found_cost: float | None = None

    def left(self) -> float:
        """Seconds left of the budget."""
        return self.budget - (time.perf_counter() - self.started)

    @property
    def deadline(self) -> float | None:
        """When the budget ends (a ``time.perf_counter()`` time), under a time limit; the heuristic's
        flow LPs end there too, so that on a large model the presolve keeps to the limit (without,
        two 7 s LPs on 50,000 regions had made 14.6 s of presolve under ``--time-limit 2``)."""
        return None if self.options.time_limit_s is None else self.started + self.budget

    def gap_closed(self) -> bool:
        """The best cost known now (the running search's too) is within the MIP gap of the best bound:
        nothing is left to find (the searches stop)."""
        return within_gap(self.current_upper_bound(), self.bound, self.options.mip_gap)

    def noted(self, candidate_cost: float) -> None:
        """The module search found a network of this cost (see :meth:`current_upper_bound`)."""
        self.found_cost = candidate_cost if self.found_cost is None else min(self.found_cost, candidate_cost)

    def current_upper_bound(self) -> float | None:
        """The best cost known now: the incumbent's or the running module search's."""
        return min((c for c in (self.cost, self.found_cost) if c is not None), default=None)

    def bound_round(self, seconds: float) -> None:
        """One subgradient round from the last one's multipliers; keeps the best bound."""
        large = self.large
        result = lagrangian_bound(
            self.problem,
            self.index,
            upper_bound=self.cost,
            time_limit_s=seconds,
            start=self.multipliers,
            max_iterations=LARGE_MODEL_ITERATIONS if large else 400,
            current_upper_bound=self.current_upper_bound if large else None,
            restart_when_stuck=large,
            max_target_gap=LARGE_MODEL_TARGET_GAP if large and self.cost is not None else None,
            stop_gap=self.options.mip_gap,
        )
        self.multipliers = result.multipliers
        if self.bound is None or result.bound > self.bound:
            self.bound, self.option_value, self.chosen = result.bound, result.option_value, result.chosen

    def consider(self, candidate: Solution | None) -> None:
        """Keep ``candidate`` if it is feasible and cheaper than the incumbent."""
        if candidate is not None and satisfies_coupling(self.problem, self.index, candidate):
            candidate_cost = solution_cost(self.problem, self.index, candidate)
            if self.cost is None or candidate_cost < self.cost:
                self.incumbent, self.cost = candidate, candidate_cost

    def fixings(self) -> tuple[np.ndarray, np.ndarray]:
        """The options fixed closed and open by the best bound against the incumbent."""
        return fixable_options(self.problem, self.bound, self.option_value, self.cost, self.cover)

    def heuristic_incumbent(self, seconds: float) -> None:
        """Step 2: the heuristic incumbent from the best bound's option values."""
        self.consider(
            incumbent_from_values(self.problem, self.index, self.option_value, time_limit_s=seconds,
                                  opened=self.chosen, deadline=self.deadline)
        )

    def first_steps(self) -> None:
        """Steps 1 and 2; on large models also the network with the best option (lowest v_o) of each
        facility type the relaxation leaves out added to its options, when that one is cheaper. Early
        in the subgradient the relaxation can open no central plant at all, and then the network of
        its options leaves much demand unserved: on the national model, after 100 and 140 steps,
        510.1 M and 502.1 M with no central plant against 363.0 M and 353.5 M with the best one
        added; from 180 steps on it opens one itself. Then that network with options added by v_o
        until its capacity covers the demand worth serving (:func:`worth_serving`), when it is cheaper:
        where all demand may go unmet, the relaxation's first networks can serve too little (on 50,000
        points, 44 % served at 576.4 M against a bound of 351.4 M; filled, 367.1 M, all served, within
        the same 30 s limit). Under a CO2 cap also :meth:`uncapped_start`."""
        self.bound_round(self.budget * (FIRST_ROUND_SHARE_LARGE if self.large else 0.25))
        self.heuristic_incumbent(0.0 if self.problem.n_arcs >= MOVES_MAX_ARCS else self.budget * FIRST_HEURISTIC_SHARE)
        if np.isfinite(self.problem.co2_cap_t):
            self.uncapped_start()
        if self.large and self.chosen is not None:
            with_every_type = self.chosen | best_of_missing_types(self.problem, self.option_value, self.chosen)
            if (with_every_type != self.chosen).any():
                self.consider(incumbent_from_values(
                    self.problem, self.index, self.option_value, time_limit_s=0.0, opened=with_every_type,
                    deadline=self.deadline,
                ))
            target = worth_serving(self.problem, self.index)
            if self.problem.option_capacity_max[with_every_type].sum() < target * (1 + 1e-9):
                self.consider(incumbent_from_values(
                    self.problem, self.index, self.option_value, time_limit_s=0.0, opened=with_every_type,
                    deadline=self.deadline, capacity_target=target,
                ))  # the same network, filled to the capacity of the demand worth serving

    def uncapped_start(self) -> None:
        """The heuristic network of the relaxation without the CO2 cap (``UNCAPPED_ROUND_SHARE`` of the
        budget for its subgradient, then its option values and choice), its flows within the cap. At a
        high CO2 price the capped relaxation opens many small facilities and the searches from its
        network stay there: on the bundled counties with ``models/hybrid.toml`` and a 25,000 t cap,
        386.9 M, and 340.7 M with 25 options open after 15 s of module search, against 340.2 M from
        the network without the cap, and 339.0 M with 16 open after the same search."""
        uncapped = dataclasses.replace(self.problem, co2_cap_t=np.inf)
        relaxed = lagrangian_bound(uncapped, self.index, None, time_limit_s=UNCAPPED_ROUND_SHARE * self.budget)
        seconds = 0.0 if self.large else self.budget * FIRST_HEURISTIC_SHARE
        self.consider(incumbent_from_values(self.problem, self.index, relaxed.option_value, time_limit_s=seconds,
                                            opened=relaxed.chosen, deadline=self.deadline))

    def small_model_steps(self) -> None:
        """Step 3: with service levels, the drop-and-repair search; the restricted MIP (with service
        levels, where it would hold most of the options, the module search over them instead); a
        subgradient round aimed at the incumbent; the heuristic again. A CO2 cap counts as a service
        level for the module search (:func:`has_side_rows`)."""
        serviced = len(self.problem.serviced_products) > 0
        if serviced and self.left() > 0.5:
            self.consider(cost_first_cover(self.problem, self.index, COST_FIRST_SHARE * self.left()))
            self.consider(drop_and_repair(self.problem, self.index, self.incumbent, self.option_value,
                                          SERVICE_SEARCH_SHARE * self.left()))
        promising = promising_options(self.problem, self.option_value, self.chosen)
        if promising.sum() <= RESTRICTED_SHARE * self.problem.n_options and self.left() > 0.5:
            self.consider(restricted_mip(
                self.problem, self.index, promising, self.left() * 0.5, start=self.incumbent,
                threads=self.options.threads,
            ))
        elif has_side_rows(self.problem) and self.left() > 0.5:
            self.consider(module_search(self.problem, self.index, self.incumbent, promising, self.left() * 0.5))
        if self.left() > 0.2:
            self.bound_round(self.left() / 2)
        if self.left() > 0.2:
            self.heuristic_incumbent(self.left())

    def large_model_steps(self) -> None:
        """Step 4: the module search beside the subgradient on two threads, or one after the
        other on one; with no incumbent to search from, the subgradient alone."""
        threads = self.options.threads
        if self.incumbent is not None and self.left() > 0.5 and (threads is None or threads >= 2):
            self.search_beside_subgradient()
        elif self.incumbent is not None and self.left() > 0.5:
            promising = promising_options(self.problem, self.option_value, self.chosen, SEARCH_PER_TYPE)
            first = promising & self.first_half_options()
            self.consider(module_search(self.problem, self.index, self.incumbent, first, self.left() / 4))
            self.consider(module_search(self.problem, self.index, self.incumbent, promising, self.left() / 3))
            self.bound_round(self.left())
        elif self.left() > 0.2:
            self.bound_round(self.left())

    def search_beside_subgradient(self) -> None:
        """The module search (in HiGHS) on this thread and a subgradient round (in numpy) on
        another: both release the GIL (the flow LPs are re-solves, which call no Python callback at
        each iteration: see ``run_interruptibly``), so side by side they use two cores at nearly
        full speed each. In two halves, so
        that the second gets the first's incumbent as its Polyak target and its values for the
        search. The subgradient thread ends on Ctrl-C or SIGTERM like the search, and
        :class:`~planner.interrupt.Interrupted` is raised once it has."""
        searched = np.zeros(self.problem.n_options, dtype=bool)
        for half in (2, 1):
            if self.gap_closed():
                return
            seconds = self.left() / half
            searched |= promising_options(self.problem, self.option_value, self.chosen, SEARCH_PER_TYPE)
            promising = searched & self.first_half_options() if half == 2 else searched
            with ThreadPoolExecutor(max_workers=1) as pool:
                bounding = pool.submit(self.bound_round, seconds)
                self.consider(module_search(
                    self.problem, self.index, self.incumbent, promising, seconds, on_improvement=self.noted,
                    should_stop=self.gap_closed,
                ))
                bounding.result()
            raise_if_stopped()

    def first_half_options(self) -> np.ndarray:
        """Mask of the options the first half may open: those of the facility types the relaxation
        or the incumbent opens (all types where they open none), without the closed options of the type of the largest
        capacity among them (options without a capacity count as the largest) when it is larger than
        every other's. A greedy search from a network short of capacity otherwise opens a large
        facility first (the steepest gain) and stays in that basin: on the national model, from the
        relaxation's one central plant and eight microfactories, it opened a second central plant
        at once and ended at 338.1 M after 45 s; with no other central plant to open, at 319.2 M
        (one plant, seventeen microfactories). On the 12 eastern states the type rule alone took it
        from 114.4 M to 103.0 M. The second half may open anything."""
        problem = self.problem
        opened_types = np.unique(problem.option_type[self.chosen | (self.incumbent.open > 0)])
        if not len(opened_types):
            opened_types = np.arange(len(problem.type_ids))
        allowed = np.isin(problem.option_type, opened_types)
        big_type = largest_capacity_type(problem, opened_types)
        if big_type is not None:
            allowed &= ~((problem.option_type == big_type) & ~self.chosen & ~(self.incumbent.open > 0))
        return allowed

    def result(self, paid: bool) -> PresolveResult:
        """The presolve's outcome: fixings by the best bound against the best incumbent."""
        fix_closed, fix_open = self.fixings()
        logger.info(
            "presolve: bound %.10g, incumbent %s, %d options fixed closed, %d fixed open (%.1fs)%s",
            self.bound,
            "none" if self.cost is None else f"{self.cost:.10g}",
            int(fix_closed.sum()),
            int(fix_open.sum()),
            time.perf_counter() - self.started,
            "" if paid else "; it did not pay, so HiGHS gets the model unchanged and the incumbent is kept in reserve",
        )
        promising = None
        if self.option_value is not None:
            promising = promising_options(self.problem, self.option_value, self.chosen) & ~fix_closed
        return PresolveResult(self.bound, self.incumbent, self.cost, fix_closed, fix_open, paid, promising)


def worth_going_on(
    problem: Problem,
    options: SolverOptions,
    bound: float,
    cost: float | None,
    fixed: tuple[np.ndarray, np.ndarray],
) -> bool:
    """Whether the presolve's steps after the first incumbent pay on a model below
    ``LARGE_MODEL_ARCS`` arcs: an incumbent exists, it is not already within the MIP gap of the
    bound, and either fixing against it closes at least ``PAYING_FIXED_SHARE`` of the free options
    or it is poor (more than ``POOR_INCUMBENT_GAP`` above the bound), so that the restricted MIP
    and the second local search can still find much better, which tightens the fixing."""
    if cost is None:
        return False
    gap = relative_gap(cost, bound)
    if gap is not None and options.mip_gap is not None and gap <= options.mip_gap:
        return False
    if gap is not None and gap > POOR_INCUMBENT_GAP:
        return True
    free = int((~problem.forced).sum())
    return free > 0 and int(fixed[0].sum() + fixed[1].sum()) >= PAYING_FIXED_SHARE * free


def apply_presolve(model: pyo.ConcreteModel, problem: Problem, index: ModelIndex, presolve: PresolveResult) -> None:
    """Fix the fixable options and load the incumbent as the starting point (``load_start``)."""
    for option in np.flatnonzero(presolve.fix_closed).tolist():
        model.open[option].fix(0)
    for option in np.flatnonzero(presolve.fix_open).tolist():
        model.open[option].fix(1)
    if presolve.incumbent is not None:
        load_start(model, problem, index, presolve.incumbent)


def apply_presolve_to_form(
    form: StandardForm, problem: Problem, index: ModelIndex, presolve: PresolveResult
) -> tuple[StandardForm, np.ndarray | None]:
    """The array route's :func:`apply_presolve`: the form with the fixable options' bounds
    fixed, and the incumbent as a start vector (None without one)."""
    col_lower, col_upper = form.col_lower.copy(), form.col_upper.copy()
    open_columns = np.arange(*form.blocks["open"])
    col_upper[open_columns[presolve.fix_closed]] = 0.0
    col_lower[open_columns[presolve.fix_open]] = 1.0
    form = dataclasses.replace(form, col_lower=col_lower, col_upper=col_upper)
    if presolve.incumbent is None:
        return form, None
    return form, start_vector(form, problem, index, presolve.incumbent)


def combine_bounds(report: SolveReport, lagrangian: float) -> SolveReport:
    """The larger of the two valid lower bounds, and the gap and status that follow from it (a presolve
    without a bound of the model, -∞, leaves the report as it is)."""
    if lagrangian == -math.inf or (report.best_bound is not None and report.best_bound >= lagrangian):
        return report
    bound = lagrangian if report.objective is None else min(lagrangian, report.objective)
    return with_gap(report, report.objective, bound)


def with_gap(report: SolveReport, objective: float, bound: float | None) -> SolveReport:
    """``report`` with this objective and bound, their gap, and status ``gap_limit`` where a run
    stopped at a limit is within its gap tolerance."""
    gap = relative_gap(objective, bound)
    return within_tolerance(dataclasses.replace(report, objective=objective, best_bound=bound, mip_gap=gap))


def keep_better(
    report: SolveReport | None,
    values: np.ndarray | None,
    form: StandardForm,
    problem: Problem,
    index: ModelIndex,
    presolve: PresolveResult,
    mip_gap_tolerance: float,
    timed_out: bool = False,
) -> tuple[SolveReport, np.ndarray]:
    """HiGHS's result, or the presolve's incumbent where HiGHS ended with no solution (``report``
    None) or a dearer one: the case of an unpaid presolve, whose incumbent HiGHS did not start from.
    HiGHS's bound stays (it is valid whatever the incumbent); the gap follows the kept solution.
    ``timed_out``: HiGHS ended at the time limit without a solution, so the run stopped at the time
    limit (status ``time_limit``; ``limit`` is for HiGHS ending without one for another reason)."""
    if presolve.incumbent is None:
        if report is None:
            raise SolverError("HiGHS ended without a feasible solution and the presolve found none")
        return report, values
    vector = start_vector(form, problem, index, presolve.incumbent)
    objective = float(form.cost @ vector) + float(form.offset)
    if report is not None and report.objective <= objective:
        return report, values
    logger.info(
        "the presolve's incumbent (%.10g) is kept: HiGHS ended with %s",
        objective,
        "no solution" if report is None else f"{report.objective:.10g}",
    )
    if report is None:
        if timed_out:
            return presolve_report(objective, Status.TIME_LIMIT, "time limit reached; HiGHS found no solution in it, "
                                   "the presolve's incumbent", mip_gap_tolerance), vector
        return presolve_report(
            objective, Status.OTHER_LIMIT, "HiGHS ended without a usable solution; the presolve's incumbent",
            mip_gap_tolerance,
        ), vector
    return with_gap(report, objective, report.best_bound), vector


def presolve_report(objective: float, status: Status, termination: str, mip_gap_tolerance: float) -> SolveReport:
    """A report for the presolve's incumbent alone (no bound yet: see :func:`combine_bounds`)."""
    return SolveReport.of(status, termination, objective, None, mip_gap_tolerance, PRESOLVE_SOLVER)


def highs_can_help(problem: Problem, presolve: PresolveResult, seconds: float | None) -> bool:
    """Whether HiGHS should get the model after the presolve: not on a model of
    ``LARGE_MODEL_ARCS`` arcs or more with an incumbent in hand and less than
    ``MIN_HIGHS_SECONDS_LARGE`` left (or whose presolve ran on such a problem, ``PresolveResult.arcs``),
    where HiGHS's own presolve and root LP take longer than that,
    so it would only overrun the time limit."""
    return not (
        max(problem.n_arcs, presolve.arcs) >= LARGE_MODEL_ARCS
        and presolve.incumbent is not None
        and seconds is not None
        and seconds < MIN_HIGHS_SECONDS_LARGE
    )
