"""The searches beside HiGHS: while HiGHS works on the model after the presolve, the presolve's
module search (``planner.solver.module_search``) goes on from its incumbent on the second core,
followed by fix-and-optimise (``planner.solver.restricted_mip``: HiGHS on the model with most open
states fixed at the network's), and the better of HiGHS's and their networks is kept.

Where it runs (:func:`applies`): a model with service levels or a CO2 cap whose presolve ran its steps and
found an incumbent, with more than one core for the run (``SolverOptions.threads`` unset or at least
2, and at least two cores on the machine). There HiGHS spends most of a time limit on its root LP
(the bundled counties with 80 % of ``standard`` within 500 km: about 35 s of a 50 s limit) and rarely
finds a better network in it, while its root LP runs on one core; the search does find better ones.
It ends when HiGHS ends (or at HiGHS's time limit, or on Ctrl-C or SIGTERM, whichever is first).

Each better network the searches find is offered to HiGHS at its next user-solution callback
(:class:`Offers`): HiGHS prunes with it, and stops as soon as its own bound is within the MIP gap of
it, where without it HiGHS went on to its time limit (the bundled counties with 40 % of ``standard``
within 100 km: a gap of 0.18 % at the 60 s limit, status ``time_limit``, against the 1 % asked for).

Correctness: the search only proposes networks; each is feasible for the whole problem (its flows
from the flow LP with every coupling row), and its cost replaces the presolve's incumbent only where
lower. HiGHS's bound and the presolve's bound are untouched, so the reported bound stays valid (the
presolve's fixings close only options of networks dearer than its incumbent, dearer still than a
better one).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import highspy

from planner.interrupt import stop_requested
from planner.model.arrays import StandardForm, start_vector
from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.problem import Problem
from planner.solver.heuristic import satisfies_coupling, solution_cost
from planner.solver.module_search import module_search
from planner.solver.outcome import SolverOptions
from planner.solver.presolve import PresolveResult, has_side_rows
from planner.solver.restricted_mip import fix_and_optimise

logger = logging.getLogger(__name__)

Result = TypeVar("Result")

MODULE_SEARCH_SHARE = 0.3  # of the time left: a round's module search; fix-and-optimise follows it
USER_SOLUTION = highspy.cb.HighsCallbackType.kCallbackMipUserSolution


class Offers:
    """The searches' newest better network, handed to HiGHS at its next user-solution callback
    (:meth:`observe`, HiGHS's ``observe`` hook; HiGHS calls it from its own threads)."""

    def __init__(self, form: StandardForm, problem: Problem, index: ModelIndex, cost: float) -> None:
        self.form, self.problem, self.index = form, problem, index
        self.lock = threading.Lock()
        self.newest: Solution | None = None
        self.best_cost = cost

    def publish(self, network: Solution, cost: float) -> None:
        """Offer ``network`` (cost ``cost``) if it is cheaper than every network offered before."""
        with self.lock:
            if cost < self.best_cost:
                self.newest, self.best_cost = network, cost

    def observe(self, event) -> None:
        if event.callback_type != USER_SOLUTION:
            return
        with self.lock:
            network, self.newest = self.newest, None
        if network is not None:
            event.data_in.setSolution(start_vector(self.form, self.problem, self.index, network))


def applies(problem: Problem, presolve: PresolveResult | None, options: SolverOptions) -> bool:
    """Whether the search runs beside HiGHS (see the module docstring)."""
    cores = os.cpu_count() or 1
    return (
        presolve is not None
        and presolve.paid
        and presolve.incumbent is not None
        and presolve.promising is not None
        and has_side_rows(problem)
        and cores >= 2
        and (options.threads is None or options.threads >= 2)
    )


def run_beside_search(
    run: Callable[[Callable[[object], None]], Result],
    form: StandardForm,
    problem: Problem,
    index: ModelIndex,
    presolve: PresolveResult,
    options: SolverOptions,
) -> tuple[Result, PresolveResult]:
    """``run(observe)`` (HiGHS, ``observe`` its callback hook: :meth:`Offers.observe`) with the module search
    from the presolve's incumbent on a worker thread; returns what ``run`` returned and the presolve's result
    with the better incumbent."""
    ended = threading.Event()
    deadline = None if options.time_limit_s is None else time.perf_counter() + options.time_limit_s

    def should_stop() -> bool:
        return ended.is_set() or stop_requested() or (deadline is not None and time.perf_counter() > deadline)

    offers = Offers(form, problem, index, presolve.incumbent_cost)
    with ThreadPoolExecutor(max_workers=1) as pool:
        searching = pool.submit(_searches, form, problem, index, presolve, should_stop, deadline, offers.publish)
        try:
            result = run(offers.observe)
        finally:
            ended.set()
        improved = searching.result()
    if improved is None:
        return result, presolve
    network, cost = improved
    logger.info("the search beside HiGHS found %.10g (the presolve had %.10g)", cost, presolve.incumbent_cost)
    return result, dataclasses.replace(presolve, incumbent=network, incumbent_cost=cost)


def _searches(
    form: StandardForm, problem: Problem, index: ModelIndex, presolve: PresolveResult,
    should_stop: Callable[[], bool], deadline: float | None, publish: Callable[[Solution, float], None],
):
    """Rounds from the best network so far until ``should_stop``: a module search with its own random
    kicks (seeds 1, 2, …) for ``MODULE_SEARCH_SHARE`` of the time left to ``deadline``
    (``time.perf_counter()``; none: each step runs to its own end), then fix-and-optimise
    (``planner.solver.restricted_mip``: HiGHS on the model restricted around each open option in turn)
    until its neighbourhoods are done or the time is up; the best network cheaper than the presolve's
    incumbent with its cost, or None. The repairs and the relocation run only from a network they have
    not been run from (they have no random part). Each better network goes to ``publish`` as it is found."""
    best, best_cost, found = presolve.incumbent, presolve.incumbent_cost, None
    seed, new_start = 0, True
    while not should_stop():
        seed += 1
        seconds = float("inf") if deadline is None else MODULE_SEARCH_SHARE * max(deadline - time.perf_counter(), 0.0)
        candidate = module_search(problem, index, best, presolve.promising, seconds, seed=seed,
                                  should_stop=should_stop, close_and_repair=new_start, relocate=new_start)
        if candidate is None or not satisfies_coupling(problem, index, candidate):
            break
        publish(candidate, solution_cost(problem, index, candidate))
        improved = fix_and_optimise(form, problem, index, candidate, should_stop, deadline, seed, on_better=publish)
        candidate = candidate if improved is None else improved
        cost = solution_cost(problem, index, candidate)
        new_start = cost < best_cost
        if new_start:
            best, best_cost = candidate, cost
            found = (best, best_cost)
    return found
