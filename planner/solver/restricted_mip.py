r"""Fix-and-optimise: HiGHS on the whole model with most open decisions fixed at a network's.

Given a network :math:`\bar y` (its open options) and a neighbourhood :math:`N` of options, the
restricted model is the planner's MILP (the array form ``planner.model.arrays``, with the presolve's
fixings) with

.. math::

    y_o = \bar y_o \quad (o \notin N)

and every other decision free: the open state of the options in :math:`N`, the module counts of
every option, the flows, unmet demand, set-ups. It holds every row of the model (service levels, CO2
cap, budget, counts), so each of its solutions is a network of the whole problem, with the whole
objective; :math:`\bar y` and its flows are one of them, handed to HiGHS as its start, so the result
is never dearer than the network.

Two kinds of neighbourhood:

* :math:`N = \emptyset`: the **module counts** of the open set, decided jointly by HiGHS (a local
  search changes one count at a time against a flow LP; on the bundled counties with 70 % of
  ``standard`` within 300 km the network the searches had after 60 s, 338.15 M USD/yr, costs
  336.36 M with its counts re-decided in 3 s);
* **around an open option** :math:`c`: the ``NEIGHBOURHOOD_OPTIONS`` options nearest to it, so that
  a facility can move to a nearby site with its modules and its neighbours' modules re-sized at once
  (the moves a one-option search cannot make without passing through dearer networks; from there
  the same model reached 335.73 M, cheaper than HiGHS's network after 400 s). Nearness is measured
  through the regions both can serve (no coordinates needed):
  :math:`\delta(c, o) = \min_r d_{cr} + d_{or}`, an upper bound on the road distance between the two
  that is exact where a region lies between them (a site's own region is next to it).

Each restricted solve has a short time limit; its bound is local to the restriction and unused.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

import numpy as np

from planner.interrupt import raise_if_stopped
from planner.model.arrays import StandardForm, solution_from_vector, start_vector
from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.problem import Problem
from planner.solver.heuristic import satisfies_coupling, solution_cost
from planner.solver.highs import new_highs, pass_model, run_interruptibly, set_start
from planner.solver.outcome import SolverOptions

logger = logging.getLogger(__name__)

NEIGHBOURHOOD_OPTIONS = 6  # options freed around a centre (the centre included)
COUNTS_SOLVE_MAX_S = 6.0  # the time limit of the solve of the module counts (no option freed)
SOLVE_MAX_S = 2.0  # that of a solve around an option; either has fewer seconds where less is left
SOLVE_MIN_S = 0.5  # a restricted solve is not started with less than this left
RESTRICTED_GAP = 1e-5  # relative gap at which HiGHS ends a restricted solve
IMPROVEMENT = 1e-9  # a network replaces the best only where it is cheaper by this share


def nearness(problem: Problem, centre: int) -> np.ndarray:
    r""":math:`\delta(c, o) = \min_r d_{cr} + d_{or}` (road km through a region both can serve) for
    every option :math:`o`; ∞ where they share no region, −1 at the centre itself."""
    to_region = np.full(len(problem.region_ids), np.inf)
    own = problem.arc_option == centre
    np.minimum.at(to_region, problem.arc_region[own], problem.arc_distance_km[own])
    through = to_region[problem.arc_region] + problem.arc_distance_km
    result = np.full(problem.n_options, np.inf)
    np.minimum.at(result, problem.arc_option, through)
    result[centre] = -1.0
    return result


def around(problem: Problem, centre: int, size: int = NEIGHBOURHOOD_OPTIONS) -> np.ndarray:
    """The neighbourhood of ``centre``: a mask of it and the ``size`` − 1 options nearest to it
    (:func:`nearness`; options sharing no region with it are never in it)."""
    near = nearness(problem, centre)
    order = np.argsort(near, kind="stable")[:size]
    mask = np.zeros(problem.n_options, dtype=bool)
    mask[order[np.isfinite(near[order])]] = True
    return mask


def restricted_solve(form: StandardForm, problem: Problem, index: ModelIndex, network: Solution, free: np.ndarray,
                     seconds: float, should_stop: Callable[[], bool]) -> Solution | None:
    """HiGHS on ``form`` with the open state of every option outside ``free`` fixed at ``network``'s,
    started from ``network``, for at most ``seconds``; the best network it found (None: none). Ends
    early once ``should_stop()`` or at ``seconds`` (polled at HiGHS's MIP, simplex and interior-point
    callbacks: HiGHS's own time limit does not stop a long root LP); raises
    :class:`~planner.interrupt.Interrupted` on Ctrl-C or SIGTERM."""
    fixed = np.flatnonzero(~free) + form.block("open").start
    state = np.round(network.open[~free]).astype(float)
    col_lower, col_upper = form.col_lower.copy(), form.col_upper.copy()
    col_lower[fixed], col_upper[fixed] = state, state
    restricted = dataclasses.replace(form, col_lower=col_lower, col_upper=col_upper)
    highs = new_highs(SolverOptions(time_limit_s=seconds, mip_gap=RESTRICTED_GAP, quiet=True))
    pass_model(highs, restricted)
    set_start(highs, start_vector(form, problem, index, network))

    ends = time.perf_counter() + seconds

    def stop_when_asked(event) -> None:
        if should_stop() or time.perf_counter() > ends:
            event.data_in.user_interrupt = True

    for callback in (highs.cbMipInterrupt, highs.cbSimplexInterrupt, highs.cbIpmInterrupt):
        callback.subscribe(stop_when_asked)  # the root LP too: HiGHS's time limit does not stop it
    run_interruptibly(highs)
    raise_if_stopped()
    if highs.getInfo().primal_solution_status != 2:
        return None
    values = np.asarray(highs.getSolution().col_value, dtype=float)
    return solution_from_vector(form, problem, index, values)


def fix_and_optimise(form: StandardForm, problem: Problem, index: ModelIndex, network: Solution,
                     should_stop: Callable[[], bool], deadline: float | None, seed: int = 0,
                     on_better: Callable[[Solution, float], None] | None = None) -> Solution | None:
    """Restricted solves (:func:`restricted_solve`) around the best network so far: first its module
    counts (no option freed), then :func:`around` each of its open options in random order, an option
    opened by an improvement joining the options still to try and one it closed leaving them; until
    they are done, ``should_stop()`` or ``deadline`` (``time.perf_counter()``). The best network cheaper
    than ``network`` (feasible for every coupling row), else None; ``on_better`` gets each better network
    and its cost as it is found."""
    rng = np.random.default_rng(seed)
    best, best_cost, found = network, solution_cost(problem, index, network), None
    centres, tried = [None], set()  # None: the module counts of the open set, no option freed
    while centres:
        centre = centres.pop()
        left = np.inf if deadline is None else deadline - time.perf_counter()
        if should_stop() or left < SOLVE_MIN_S:
            break
        if centre is None:
            free = np.zeros(problem.n_options, dtype=bool)
            centres = list(rng.permutation(np.flatnonzero(best.open > 0.5)))
        else:
            tried.add(centre)
            free = around(problem, int(centre))
        seconds = min(SOLVE_MAX_S if free.any() else COUNTS_SOLVE_MAX_S, left)
        candidate = restricted_solve(form, problem, index, best, free, seconds, should_stop)
        if candidate is None or not satisfies_coupling(problem, index, candidate):
            continue
        cost = solution_cost(problem, index, candidate)
        if cost < best_cost - IMPROVEMENT * abs(best_cost):
            logger.info("fix-and-optimise (%d options freed): %.10g (was %.10g)", int(free.sum()), cost, best_cost)
            opened = [option for option in np.flatnonzero((candidate.open > 0.5) & (best.open < 0.5))
                      if option not in tried]
            best, best_cost, found = candidate, cost, candidate
            if on_better is not None:
                on_better(candidate, cost)
            centres = [option for option in centres if best.open[option] > 0.5] + opened
    return found
