r"""A primal heuristic over open options *and their module counts*: local search on a persistent
flow LP whose duals say which moves may pay.

For a set of open options :math:`S` with module counts :math:`m_o` the cost is

.. math::

    z(S, m) = \sum_{o \in S} (F_o + M_o m_o) + \Phi(S, m), \qquad
    \Phi = \min \{ \textstyle\sum_a c_a q_a x_a + \sum_d \pi_d q_d u_d :
        \sum_{a \to d} x_a + u_d = 1,\ \sum_{a \in o} q_a x_a \le C_o m_o,\
        \sum_{a \in W_p} q_a x_a \ge n_p,\ x_a = 0 \text{ for } o(a) \notin S \}

(the flow LP, with the service levels of ``define_service_level``; :math:`\lambda_d` are the duals
of its balance rows, :math:`\mu_o \ge 0` the values of capacity, :math:`\sigma_p \ge 0` those of the
service levels; an open set whose flows cannot meet a service level is infeasible, never a
network). :math:`\Phi` is convex in the capacities, so the duals give optimistic estimates of a
move's gain, used to order and to skip moves, never to accept them (every move is re-solved):

* one more module at :math:`o` gains at most :math:`\mu_o C_o - M_o`; one fewer saves at most
  :math:`M_o - \mu_o C_o`;
* opening a closed option :math:`j` with :math:`m` modules gains at most :math:`-v_j(\lambda, \sigma)`,
  the Lagrangian option value of ``planner.solver.lagrangian`` at the LP's duals (:math:`\sigma` as
  the service multipliers :math:`\mu_p` there);
* closing an open option is tried for every open option, and a swap is a close followed by an open
  of a neighbour that can serve the same customers or of the best-priced option at the duals after
  the close.

An open, close or swap changes the open set; its module counts are then sized from the flows at
continuous module counts (:class:`planner.solver.heuristic.FlowLP`: modules priced per unit of capacity,
loads rounded up) and polished one module at a time by the duals' estimates. Sizing alone is what
the flow heuristic of ``planner.solver.heuristic`` does, so its networks often pay for modules they barely
use; here the polish makes the module counts decisions, and the flows fill the modules that are
paid for. (Evaluating moves at the module counts they inherit instead got stuck further from the
optimum: see models/README.md.)
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse

from planner.errors import InfeasibleError
from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.problem import Problem
from planner.solver.heuristic import (
    FlowLP,
    Restriction,
    affordable_modules,
    clean_shares,
    flow_form,
    lift_solution,
    within_budget,
    within_counts,
    within_upper_counts,
)
from planner.solver.highs import flow_lp_highs, optimal_lp_solution
from planner.solver.lagrangian import _Relaxation
from planner.solver.service_search import cover_repair

logger = logging.getLogger(__name__)

RELATIVE_IMPROVEMENT = 1e-9  # a move must lower the cost by at least this share to be taken
PRICED_OPENS = 40  # closed options tried per round, the best priced first
SWAP_OPENS = 3  # best-priced options tried in place of each closed one
SWAP_NEIGHBOURS = 3  # and neighbours that can serve the same customers
POLISH_STEPS = 20  # module moves after a structural move, at most
POLISH_TRIES = 4  # module moves tried per polish step after a structural move, the most promising first
THOROUGH_STEPS = 200  # module moves of the thorough polish of a local optimum, at most
KICK_MOVES = 2  # random closes or swaps per kick of the iterated local search
MAX_IDLE_KICKS = 30  # the search ends after this many kicks in a row found nothing better
KICK_NEIGHBOURS = 5  # a swap goes to one of this many neighbours
OPTIMISM = 0.01  # a structural move more than this share dearer is not polished
REPAIR_SHARE = 0.1  # of the search's time: the descent of each close-and-repair of a large option
RELOCATIONS_DESCENDED = 2  # under service levels: the cheapest relocations of a large option descended from
RELOCATION_TARGETS = 10  # options a large option is moved to, at most (the best priced)


@dataclass(frozen=True)
class Evaluation:
    cost: float  # z(S, m), currency/yr
    open: np.ndarray  # (O,) bool
    modules: np.ndarray  # (O,) int
    shares: np.ndarray  # (arcs of the LP,) x_a
    unmet_shares: np.ndarray  # (unmet columns,) u_d
    balance_dual: np.ndarray  # (pairs,) λ_d, currency per pair
    capacity_value: np.ndarray  # (O,) μ_o ≥ 0, currency per unit of capacity (0 where uncapacitated)
    service_dual: np.ndarray  # (products with a service level,) ≥ 0, currency per unit within the limit;
    # then, under a CO2 cap, its dual (≥ 0, currency per t CO2): the side rows of lagrangian.SideRows


class ModularFlowLP:
    """The flow LP :math:`\\Phi(S, m)` of one problem on a persistent HiGHS instance: each solve
    changes the bounds of the arcs and capacity rows that differ from the last one and re-solves
    from the last basis."""

    def __init__(self, problem: Problem, index: ModelIndex) -> None:
        self.problem, self.index = problem, index
        quantity = index.arc_demand
        n_arcs = problem.n_arcs
        self.capacitated = np.flatnonzero(np.isfinite(problem.module_capacity))
        row_of = np.full(problem.n_options, -1)
        row_of[self.capacitated] = index.n_pairs + np.arange(len(self.capacitated))
        self.row_of = row_of  # the row layout of flow_form: balance, capacity, then service rows
        self.service_rows = index.n_pairs + len(self.capacitated) + np.arange(len(problem.serviced_products))
        co2_at = index.n_pairs + len(self.capacitated) + len(problem.serviced_products)
        # the CO2 cap's row of flow_form, after the service rows (≤: its dual is ≤ 0); none without a cap
        self.co2_rows = np.array([co2_at]) if np.isfinite(problem.co2_cap_t) else np.zeros(0, dtype=int)
        form = flow_form(
            problem, index, problem.arc_unit_cost * quantity, np.zeros(n_arcs), np.zeros(len(self.capacitated))
        )
        self.highs = flow_lp_highs(form)
        self.arcs_of = np.split(np.argsort(problem.arc_option, kind="stable"),
                                np.cumsum(np.bincount(problem.arc_option, minlength=problem.n_options))[:-1])
        self.open = np.zeros(problem.n_options, dtype=bool)
        self.capacity = np.zeros(problem.n_options)
        self.reach = sparse.csr_array(  # options × pairs: 1 where the option has an arc to the pair
            (np.ones(n_arcs), (problem.arc_option, index.arc_pair)), shape=(problem.n_options, index.n_pairs)
        )
        self.quantity = quantity

    def overlapping(self, options: np.ndarray) -> np.ndarray:
        """Mask of the options that can serve a pair one of ``options`` (a mask) can serve."""
        pairs = (self.reach.T @ options.astype(float)) > 0
        return (self.reach @ pairs.astype(float)) > 0

    def neighbours(
        self, option: int, evaluation: Evaluation, limit: int, banned: np.ndarray | None = None
    ) -> list[int]:
        """Up to ``limit`` closed options on free sites, of the same type, not ``banned``, that can
        serve most of what ``option`` serves in ``evaluation`` (by quantity)."""
        problem = self.problem
        arcs = self.arcs_of[option]
        served = np.zeros(self.index.n_pairs)
        np.add.at(served, self.index.arc_pair[arcs], evaluation.shares[arcs] * self.quantity[arcs])
        overlap = self.reach @ served
        occupied = np.zeros(len(problem.site_ids), dtype=bool)
        occupied[problem.option_site[evaluation.open]] = True
        eligible = (
            ~evaluation.open
            & ~occupied[problem.option_site]
            & (problem.option_type == problem.option_type[option])
            & (overlap > 0)
        )
        if banned is not None:
            eligible &= ~banned
        chosen = np.flatnonzero(eligible)
        return chosen[np.argsort(-overlap[chosen], kind="stable")][:limit].tolist()

    def evaluate(self, is_open: np.ndarray, modules: np.ndarray, deadline: float | None = None) -> Evaluation | None:
        """z(S, m) with its flows and duals, or None when the LP is infeasible or not solved by
        ``deadline`` (a ``time.perf_counter()`` time; None: no limit)."""
        problem = self.problem
        capacity = np.zeros(problem.n_options)
        capped = self.capacitated
        capacity[capped] = np.where(is_open[capped], problem.module_capacity[capped] * modules[capped], 0.0)
        changed = np.flatnonzero(is_open != self.open)
        if len(changed):
            arcs = np.concatenate([self.arcs_of[o] for o in changed.tolist()]).astype(np.int32)
            upper = is_open[problem.arc_option[arcs]].astype(float)
            self.highs.changeColsBounds(len(arcs), arcs, np.zeros(len(arcs)), upper)
        resized = self.capacitated[capacity[self.capacitated] != self.capacity[self.capacitated]]
        if len(resized):
            self.highs.changeRowsBounds(
                len(resized),
                self.row_of[resized].astype(np.int32),
                np.full(len(resized), -highspy.kHighsInf),
                capacity[resized],
            )
        self.open, self.capacity = is_open.copy(), capacity
        solution = optimal_lp_solution(self.highs, resolve=True, deadline=deadline)
        if solution is None:
            return None
        x = np.asarray(solution.col_value, dtype=float)
        row_dual = np.asarray(solution.row_dual, dtype=float)
        capacity_value = np.zeros(problem.n_options)
        capacity_value[self.capacitated] = np.maximum(-row_dual[self.row_of[self.capacitated]], 0.0)
        fixed = float((problem.opening_cost * is_open + problem.module_cost * modules * is_open).sum())
        return Evaluation(
            cost=fixed + float(self.highs.getInfo().objective_function_value),
            open=is_open.copy(),
            modules=np.where(is_open, modules, 0).astype(int),
            shares=x[: problem.n_arcs],
            unmet_shares=x[problem.n_arcs :],
            balance_dual=row_dual[: self.index.n_pairs],
            capacity_value=capacity_value,
            service_dual=np.maximum(np.concatenate([row_dual[self.service_rows], -row_dual[self.co2_rows]]), 0.0),
        )


def module_search(
    problem: Problem,
    index: ModelIndex,
    start: Solution,
    candidates: np.ndarray,
    time_limit_s: float,
    seed: int = 0,
    on_improvement: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    close_and_repair: bool = True,
    relocate: bool = False,
) -> Solution | None:
    """Best network found from ``start`` over the ``candidates`` options (a boolean mask;
    ``start``'s open options and the forced ones are added) within ``time_limit_s``: a
    first-improvement local search (module counts up and down, opening, closing and swapping
    options; see the module doc) after a close-and-repair of each open option of the largest
    capacity (:meth:`_Search.without_large`) and, with ``relocate``, under service levels a
    relocation-and-repair of each (:meth:`_Search.relocated_large`; the search beside HiGHS asks for
    it, where the search has the time of HiGHS's root: in the presolve's shorter search the descent
    it would delay is worth more); after the descent, a module-drop-and-repair of each
    (:meth:`_Search.without_a_module`), then, while time is left, iterated local search: a random kick
    (``KICK_MOVES`` closes or swaps of open options) and local search again from it, kept when it
    ends cheaper, until ``MAX_IDLE_KICKS`` kicks in a row found nothing better. The result is
    feasible for the whole problem; None if the start's flows are infeasible on the candidates;
    ``start`` itself where the time ends before its flows are solved.
    ``on_improvement`` gets the cost of every better network as it is found (the cost of the whole
    problem: the other options stay closed). ``should_stop`` (polled between moves) ends it early.
    ``close_and_repair`` False skips both repairs (a search restarted from a network it has
    already been run from would repeat them move for move).
    """
    restriction = Restriction.of(problem, candidates | problem.forced | (start.open > 0))
    sub, sub_start = restriction.problem, restriction.restrict(start)
    try:
        search = _Search(sub, restriction.index, time_limit_s, on_improvement, should_stop)
    except InfeasibleError:  # a service level out of the options' reach: the start was infeasible
        return None
    modules = np.maximum(sub_start.modules, np.where(sub_start.open > 0, sub.min_modules, 0))
    first = search.lp.evaluate(sub_start.open > 0, modules, search.deadline)
    if first is None:  # out of time before the start's flows (a search beside HiGHS would stop), or infeasible
        return start if time.perf_counter() >= search.deadline else None
    best = search.polished(first)
    if close_and_repair:
        best = search.without_large(best)
    if relocate:
        best = search.relocated_large(best)
    best = search.descend(best, np.zeros(sub.n_options, dtype=bool))
    if close_and_repair:
        best = search.without_a_module(best)
    best, kicks = search.iterated(best, np.random.default_rng(seed))
    logger.info(
        "module search over %d options: %.10g -> %.10g (%d flow LPs, %d kicks, %.1fs)",
        len(restriction.options), first.cost, best.cost, search.evaluations, kicks,
        time.perf_counter() - search.started,
    )
    return _full_solution(problem, index, restriction.options, restriction.arcs, restriction.index, best)


class _Search:
    """The moves of :func:`module_search` on one flow LP, with its clock and LP count."""

    def __init__(
        self, problem: Problem, index: ModelIndex, time_limit_s: float,
        on_improvement: Callable[[float], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.started = time.perf_counter()
        self.should_stop = should_stop
        self.problem = problem
        self.time_limit_s = time_limit_s
        self.lp = ModularFlowLP(problem, index)
        self.flow_lp = FlowLP(problem, index)
        self.pricing = _Relaxation(problem, index)
        self.evaluations = 0
        self.on_improvement = on_improvement
        self.best_cost = np.inf
        self.banned = np.zeros(problem.n_options, dtype=bool)  # options no move may open
        self.repair_deadline = np.inf  # perf_counter time at which a close-and-repair's descent ends

    @property
    def deadline(self) -> float:
        """When the search's time ends (a ``time.perf_counter()`` time): its flow LPs end there too
        (on 50,000 regions one takes 1–2 s)."""
        return self.started + self.time_limit_s

    def out_of_time(self) -> bool:
        if self.should_stop is not None and self.should_stop():
            return True
        now = time.perf_counter()
        return now - self.started > self.time_limit_s or now > self.repair_deadline

    def evaluate(self, is_open: np.ndarray, modules: np.ndarray) -> Evaluation | None:
        """z(S, m), or None where the LP is infeasible or (S, m) breaks a facility-count limit or the
        capex budget."""
        if not within_counts(self.problem, is_open) or not within_budget(self.problem, is_open, modules):
            return None
        self.evaluations += 1
        evaluation = self.lp.evaluate(is_open, modules, self.deadline)
        if evaluation is not None and evaluation.cost < self.best_cost:
            self.best_cost = evaluation.cost
            if self.on_improvement is not None:
                self.on_improvement(evaluation.cost)
        return evaluation

    def sized(self, is_open: np.ndarray) -> Evaluation | None:
        """The open set with module counts from the flows at continuous module counts (modules
        priced per unit of capacity, loads rounded up to whole modules, taken away where they break the
        capex budget; options left without load closed, unless a lower count limit needs them),
        evaluated."""
        if not within_counts(self.problem, is_open):
            return None
        self.evaluations += 1
        flows = self.flow_lp.solve(is_open, self.deadline)
        if flows is None:
            return None
        modules = affordable_modules(self.problem, flows.open > 0, flows.modules)  # within the capex budget
        return None if modules is None else self.evaluate(flows.open > 0, modules)

    @staticmethod
    def better(trial: Evaluation | None, than: Evaluation) -> bool:
        return trial is not None and trial.cost < than.cost - RELATIVE_IMPROVEMENT * max(abs(than.cost), 1.0)

    def polished(self, evaluation: Evaluation, thorough: bool = False) -> Evaluation:
        """Module moves on ``evaluation`` while one of the first ``POLISH_TRIES`` pays; ``thorough``:
        while any move with a positive optimistic gain pays (up to ``THOROUGH_STEPS`` moves)."""
        steps, tries = (THOROUGH_STEPS, None) if thorough else (POLISH_STEPS, POLISH_TRIES)
        for _ in range(steps):
            for is_open, trial_modules in itertools.islice(_module_moves(self.problem, evaluation), tries):
                if thorough and self.out_of_time():
                    return evaluation
                trial = self.evaluate(is_open, trial_modules)
                if self.better(trial, evaluation):
                    evaluation = trial
                    break
            else:
                return evaluation
        return evaluation

    def descend(self, best: Evaluation, settled: np.ndarray) -> Evaluation:
        """First-improvement local search by structural moves, each followed by a quick polish, and
        at each local optimum a thorough polish (every module move that may pay; the quick one tries
        the ``POLISH_TRIES`` most promising, and where the capacity duals are degenerate the estimates
        order the moves poorly); ``settled`` are don't-look bits (options none of whose moves paid
        since their neighbourhood last changed)."""
        settled = settled.copy()
        while not self.out_of_time():
            found = self._structural_step(best, settled)
            if found is None:
                found = self.polished(best, thorough=True)
                if not self.better(found, best):
                    break
            changed = (found.open != best.open) | (found.modules != best.modules)
            settled &= ~self.lp.overlapping(changed)
            best = found
        return best

    def _structural_step(self, best: Evaluation, settled: np.ndarray) -> Evaluation | None:
        """The first structural move that pays (sized, then polished), or None; marks the options
        none of whose moves paid in ``settled``."""
        for option, trials in _structural_moves(self.problem, self.lp, self.pricing, best, self.banned):
            if settled[option]:
                continue
            for is_open in trials():
                if self.out_of_time():
                    return None
                trial = self.sized(is_open)
                if trial is None or trial.cost > best.cost + OPTIMISM * abs(best.cost):
                    continue
                trial = self.polished(trial)
                if self.better(trial, best):
                    return trial
            settled[option] = True
        return None

    def without_large(self, best: Evaluation) -> Evaluation:
        """Close-and-repair of the options of the largest capacity: each open one of
        :func:`largest_capacity_type` (when there is another type) is closed and the descent run
        again with no option of that type allowed to open, so that the capacity comes back from the
        other types; kept when cheaper. It crosses the basin a greedy descent stays in once it has
        opened one large facility too many (the national model ended at 337.4 M with two central
        plants; a single close is too dear to be taken, as the demand it served goes unmet). Each
        repair's descent gets ``REPAIR_SHARE`` of the search's time: it runs before the main
        descent, whose polish of module counts takes the rest."""
        large = largest_capacity_type(self.problem)
        if large is None:
            return best
        of_large = self.problem.option_type == large
        for option in np.flatnonzero(best.open & of_large & ~self.problem.forced).tolist():
            if self.out_of_time():
                break
            if not best.open[option]:  # closed by an earlier repair
                continue
            is_open = best.open.copy()
            is_open[option] = False
            start = self.sized(is_open)
            if start is None:
                continue
            self.banned = of_large & ~is_open
            self.repair_deadline = time.perf_counter() + REPAIR_SHARE * self.time_limit_s
            try:
                repaired = self.descend(self.polished(start), np.zeros(self.problem.n_options, dtype=bool))
            finally:
                self.banned = np.zeros(self.problem.n_options, dtype=bool)
                self.repair_deadline = np.inf
            if self.better(repaired, best):
                best = repaired
        return best

    def without_a_module(self, best: Evaluation) -> Evaluation:
        """Module-drop-and-repair of the options of the largest capacity: for each open one of
        :func:`largest_capacity_type` with more than its fewest modules, the search runs on the
        problem with that option's module limit one below its count (the network sized from its flows
        and descended, ``REPAIR_SHARE`` of the time: the other options take over the load), and the
        network it ends at is descended again without the limit; kept when cheaper. A large
        facility's module is worth keeping until enough small facilities take its load, and none
        of them pays alone, so the descent keeps the module: on 1,500 European towns with
        ``models/hybrid.toml`` and a CO2 cap of 6,000 t, one central plant with two modules
        (105.36 M) became one with one module and seven microfactories (103.69 M)."""
        problem = self.problem
        large = largest_capacity_type(problem)
        if large is None:
            return best
        larger = best.open & (problem.option_type == large) & (best.modules > problem.min_modules)
        for option in np.flatnonzero(larger).tolist():
            if self.out_of_time():
                break
            fewer = problem.max_modules.copy()
            fewer[option] = best.modules[option] - 1
            limited = _Search(dataclasses.replace(problem, max_modules=fewer), self.lp.index,
                              REPAIR_SHARE * self.time_limit_s, self.on_improvement, self.out_of_time)
            start = limited.sized(best.open)
            if start is None:
                continue
            repaired = limited.descend(limited.polished(start), np.zeros(problem.n_options, dtype=bool))
            self.evaluations += limited.evaluations
            trial = self.evaluate(repaired.open, repaired.modules)
            if trial is not None:
                trial = self.descend(self.polished(trial), np.zeros(problem.n_options, dtype=bool))
            if self.better(trial, best):
                best = trial
        return best

    def relocated_large(self, best: Evaluation) -> Evaluation:
        """Relocation-and-repair of the options of the largest capacity, under service levels: each
        open one of :func:`largest_capacity_type` is moved to every other option of its type
        (:meth:`_relocations`), and the descent runs from the ``RELOCATIONS_DESCENDED`` cheapest of
        those networks (``REPAIR_SHARE`` of the time each); kept when cheaper. A swap of the
        descent cannot move a central plant where moving it leaves the demand around its old site
        out of the service distance (the flows miss the level, the swap is infeasible), and the
        small facilities that would restore the level do not pay before the plant has moved: on
        the bundled counties with ``models/hybrid.toml`` and 70 % of ``standard`` within 300 km, the
        search ended with the plant in Cook County at 340.8 M; moved to Kings County and repaired,
        the descent reached 338.3 M in 3 s."""
        problem = self.problem
        large = largest_capacity_type(problem)
        if large is None or not len(problem.serviced_products):
            return best
        for option in np.flatnonzero(best.open & (problem.option_type == large) & ~problem.forced).tolist():
            if self.out_of_time() or not best.open[option]:  # closed by an earlier relocation
                continue
            for trial in self._relocations(best, option)[:RELOCATIONS_DESCENDED]:
                self.repair_deadline = time.perf_counter() + REPAIR_SHARE * self.time_limit_s
                try:
                    found = self.descend(self.polished(trial), np.zeros(problem.n_options, dtype=bool))
                finally:
                    self.repair_deadline = np.inf
                if self.better(found, best):
                    best = found
                    break
        return best

    def _relocations(self, best: Evaluation, option: int) -> list[Evaluation]:
        """``best`` with ``option`` closed and each other closed option of its type opened instead (the
        ``RELOCATION_TARGETS`` of lowest Lagrangian value at ``best``'s duals; an option of another type
        on that site closed), sized; where its flows miss a service level,
        repaired by coverage first (``service_search.cover_repair``, no option of the type opened; not
        where the move breaks an upper count limit or the capex budget, which opening more cannot mend;
        ``REPAIR_SHARE`` of the time at most); cheapest first."""
        problem = self.problem
        of_type = problem.option_type == problem.option_type[option]
        targets = np.flatnonzero(of_type & ~best.open & ~self.banned)
        values, _ = self.pricing.option_values(self.pricing.multipliers_of(best.balance_dual, best.service_dual))
        found = []
        for into in targets[np.argsort(values[targets], kind="stable")][:RELOCATION_TARGETS].tolist():
            if self.out_of_time():
                break
            is_open = best.open & (problem.option_site != problem.option_site[into])
            is_open[option], is_open[into] = False, True
            trial = self.sized(is_open)
            repairable = within_upper_counts(problem, is_open) and within_budget(problem, is_open, problem.min_modules)
            if trial is None and repairable:  # opening more can meet a level, never a count limit or the budget
                deadline = min(self.started + self.time_limit_s, time.perf_counter() + REPAIR_SHARE * self.time_limit_s)
                repaired = cover_repair(problem, self.lp.index, is_open, of_type, self.flow_lp, deadline)
                trial = None if repaired is None else self.sized(repaired.open > 0)
            if trial is not None:
                found.append(trial)
        return sorted(found, key=lambda evaluation: evaluation.cost)

    def iterated(self, best: Evaluation, rng: np.random.Generator) -> tuple[Evaluation, int]:
        """Iterated local search from ``best`` while time is left: a kick (:meth:`kicked`) and the
        descent from it, kept when it ends cheaper, until ``MAX_IDLE_KICKS`` kicks in a row found
        nothing better; the best network and the number of kicks."""
        kicks = idle = 0
        while not self.out_of_time() and idle < MAX_IDLE_KICKS:
            kicked = self.kicked(best, rng)
            kicks, idle = kicks + 1, idle + 1
            if kicked is None:
                continue
            changed = (kicked.open != best.open) | (kicked.modules != best.modules)
            found = self.descend(kicked, ~self.lp.overlapping(changed))
            if self.better(found, best):
                best, idle = found, 0
        return best, kicks

    def kicked(self, best: Evaluation, rng: np.random.Generator) -> Evaluation | None:
        """``best`` after ``KICK_MOVES`` random closes or swaps (for a random neighbour; a swap where a
        close would break a lower count limit), polished."""
        problem = self.problem
        current = best
        for _ in range(KICK_MOVES):
            closable = np.flatnonzero(current.open & ~problem.forced)
            if not len(closable):
                return None
            option = int(rng.choice(closable))
            is_open, modules = current.open.copy(), current.modules.copy()
            is_open[option] = False
            neighbours = self.lp.neighbours(option, current, KICK_NEIGHBOURS)
            closable_alone = within_counts(problem, is_open)  # else only a swap keeps a lower limit
            if neighbours and (rng.random() < 0.5 or not closable_alone):
                into = int(rng.choice(neighbours))
                is_open[into] = True
                modules[into] = np.clip(modules[option], problem.min_modules[into], problem.max_modules[into])
            trial = self.evaluate(is_open, modules)
            if trial is None:
                return None
            current = trial
        return self.polished(current)


def largest_capacity_type(problem: Problem, types: np.ndarray | None = None) -> int | None:
    """The facility type (among ``types``, default those with options) whose options reach the
    largest capacity (an uncapacitated option counts as the largest), when it is larger than every
    other type's; None with fewer than two types or a tie."""
    if types is None:
        types = np.unique(problem.option_type)
    if len(types) < 2:
        return None
    largest = np.full(len(problem.type_ids), -np.inf)
    np.maximum.at(largest, problem.option_type, problem.option_capacity_max)
    ranked = np.sort(largest[types])
    if not ranked[-1] > ranked[-2]:
        return None
    return int(types[np.argmax(largest[types])])


def _module_moves(problem: Problem, best: Evaluation):
    """One module more or fewer at an open option, by the duals' optimistic gain, best first;
    only moves whose optimistic gain is positive."""
    is_open, modules = best.open, best.modules
    capacity = problem.module_capacity
    modular = is_open & np.isfinite(capacity)
    marginal = np.where(modular, best.capacity_value * np.where(modular, capacity, 0.0), 0.0)
    add_gain = np.where(modular & (modules < problem.max_modules), marginal - problem.module_cost, -np.inf)
    drop_gain = np.where(modular & (modules > problem.min_modules), problem.module_cost - marginal, -np.inf)
    ranked = sorted(
        [(gain, option, +1) for option, gain in enumerate(add_gain.tolist()) if gain > 0]
        + [(gain, option, -1) for option, gain in enumerate(drop_gain.tolist()) if gain > 0],
        reverse=True,
    )
    for _, option, step in ranked:
        trial = modules.copy()
        trial[option] += step
        yield is_open, trial


def _structural_moves(problem: Problem, lp: ModularFlowLP, pricing, best: Evaluation, banned: np.ndarray):
    """(option, trials) groups: opening each of the best-priced closed options (never one of
    ``banned``, nor as a swap's target); then for each open
    option closing it, swapping it for a neighbour that can serve the same customers, and swapping
    it for the best-priced options at the duals after the close. ``trials`` is a callable that
    yields open sets (their module counts are sized by :meth:`_Search.sized`), so that a settled
    option costs nothing."""
    is_open, modules = best.open, best.modules

    def opening(option: int):
        def trials():
            trial_open = is_open.copy()
            trial_open[option] = True
            yield trial_open

        return trials

    def closing(option: int):
        def trials():
            closed_open = is_open.copy()
            closed_open[option] = False
            yield closed_open
            for into in lp.neighbours(option, best, SWAP_NEIGHBOURS, banned):
                trial_open = closed_open.copy()
                trial_open[into] = True
                yield trial_open
            closed = lp.evaluate(closed_open, modules)
            if closed is None:
                return
            for into in _priced_opens(problem, pricing, closed, SWAP_OPENS, banned, exclude=option):
                trial_open = closed_open.copy()
                trial_open[into] = True
                yield trial_open

        return trials

    for option in _priced_opens(problem, pricing, best, PRICED_OPENS, banned):
        yield option, opening(option)
    for option in np.flatnonzero(is_open & ~problem.forced).tolist():
        yield option, closing(option)


def _priced_opens(
    problem: Problem, pricing, evaluation: Evaluation, limit: int, banned: np.ndarray, exclude: int | None = None
):
    """Up to ``limit`` closed options on free sites, not ``banned``, with negative Lagrangian value at
    the LP's duals, lowest first."""
    values, _ = pricing.option_values(pricing.multipliers_of(evaluation.balance_dual, evaluation.service_dual))
    occupied = np.zeros(len(problem.site_ids), dtype=bool)
    occupied[problem.option_site[evaluation.open]] = True
    eligible = ~evaluation.open & ~banned & ~occupied[problem.option_site] & (values < 0)
    if exclude is not None:
        eligible[exclude] = False
    chosen = np.flatnonzero(eligible)
    yield from chosen[np.argsort(values[chosen], kind="stable")][:limit].tolist()


def _full_solution(
    problem: Problem, index: ModelIndex, options: np.ndarray, arcs: np.ndarray, sub_index: ModelIndex, best: Evaluation
) -> Solution:
    """``best`` (on the problem restricted to ``options``, whose arcs are ``arcs``) as a solution of
    the whole problem (``index`` and ``sub_index`` have the same demand pairs)."""
    assign, unmet = clean_shares(sub_index, best.shares, best.unmet_shares)
    found = Solution(open=best.open.astype(int), modules=best.modules, assign=assign, unmet=unmet)
    return lift_solution(problem, options, arcs, found)
