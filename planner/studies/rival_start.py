"""The hybrid run of ``compare`` started from the cheapest network its rivals found.

The central-only and micro-only variants are solved first; each of their networks, carried over to
the hybrid model by ids (:func:`planner.model.transfer.transferred`), is checked by the independent
audit against the hybrid problem (a type's ``min_count``, a forced site, a budget or a service level
of the hybrid may rule it out) and the cheapest that passes is the hybrid's start. The hybrid's
answer is then never dearer than a network a rival found, also where the time limit stops it short
of optimal.
"""

from __future__ import annotations

import itertools
import logging

import numpy as np

from planner.audit import audit
from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.model.transfer import transferred
from planner.problem import Problem
from planner.results import ResultTables
from planner.solver.heuristic import flows_for_open_set

logger = logging.getLogger(__name__)


def cheapest_rival_start(problem: Problem, rivals: dict) -> Solution | None:
    """The cheapest of the ``rivals``' solutions (name → ``planner.pipeline.Run``) that is a feasible
    solution of ``problem`` once carried over, by the audit's recomputed objective; None where none is."""
    found = cheapest_rival(problem, rivals)
    return None if found is None else found[0]


def cheapest_rival(problem: Problem, rivals: dict) -> tuple[Solution, float] | None:
    """:func:`cheapest_rival_start` and its objective in ``problem`` (currency/yr)."""
    index = ModelIndex.from_problem(problem)
    best, best_cost, best_name = None, float("inf"), None
    for name, run in rivals.items():
        candidate = transferred(run.solution, run.problem, run.index, problem, index)
        if candidate is None:
            logger.info("compare: the %s network is not a network of the %s model (an option or arc it uses "
                        "is not there); not a start", name, problem.name)
            continue
        checked = audit(problem, ResultTables.from_solution(problem, index, candidate), None, warn=False)
        if not checked.passed:
            logger.info("compare: the %s network is not feasible in the %s model (%s); not a start", name,
                        problem.name, ", ".join(checked.failures))
            continue
        if checked.objective_recomputed < best_cost:
            best, best_cost, best_name = candidate, checked.objective_recomputed, name
    if best is None:
        return None
    logger.info("compare: the %s model starts from the %s network (%.10g)", problem.name, best_name, best_cost)
    return best, best_cost


def cheapest_network_start(problem: Problem, networks, modules=()) -> Solution | None:
    """The cheapest of ``networks`` (each a set of open (site id, facility type) pairs, as
    :func:`planner.studies.compare.open_network` gives them) that is a feasible network of ``problem``,
    with its cheapest flows and whole modules and checked by the audit; None where none is. The
    sensitivity's hybrid solves, run apart from their rivals' (on a Dask worker), start from their
    networks this way: a hybrid stopped at its limit had cost more than the micro-only network of the
    same point (a negative value of decentralisation). ``modules``, where given, holds each network's
    module counts (a mapping of its pairs, in the order of ``networks``): the network is then also tried
    with those counts (:func:`network_starts`). With suppliers there is no start: the flows are
    rebuilt without the inbound supply, which the audit then finds missing."""
    index = ModelIndex.from_problem(problem)
    pairs = option_pairs(problem)
    best, best_cost = None, float("inf")
    for network, counts in itertools.zip_longest(networks, modules):
        opened = np.array([pair in network for pair in pairs])
        if opened.sum() != len(network):  # a site or type this model does not have
            continue
        candidates = network_starts(problem, index, opened, [(counts or {}).get(pair, 0) for pair in pairs])
        candidate, cost, _ = cheapest_passing(problem, index, candidates)
        if cost < best_cost:
            best, best_cost = candidate, cost
    if best is not None:
        logger.info("the %s model starts from a rival's network (%.10g)", problem.name, best_cost)
    return best


def option_pairs(problem: Problem) -> list[tuple[str, str]]:
    """Each option's (site id, facility type id), as a network's sites table names them."""
    return list(zip(np.asarray(problem.site_ids, dtype=str)[problem.option_site],
                    np.asarray(problem.type_ids, dtype=str)[problem.option_type], strict=True))


def cheapest_passing(problem: Problem, index: ModelIndex, candidates) -> tuple[Solution | None, float, list[str]]:
    """The cheapest of ``candidates`` the audit passes, its recomputed objective (∞ without one), and the
    checks the others failed."""
    best, best_cost, failures = None, float("inf"), []
    for candidate in candidates:
        checked = audit(problem, ResultTables.from_solution(problem, index, candidate), None, warn=False)
        if not checked.passed:
            failures.extend(checked.failures)
        elif checked.objective_recomputed < best_cost:
            best, best_cost = candidate, checked.objective_recomputed
    return best, best_cost, failures


def network_starts(problem: Problem, index: ModelIndex, opened: np.ndarray, modules: list[int]) -> list[Solution]:
    """Solutions of ``problem`` on the open options ``opened``: the cheapest flows at their largest capacity,
    then whole modules; and where ``modules`` (per option) gives the counts of the network as its solve found
    them, the cheapest flows within those counts' capacity (which the network's own flows meet, so this one
    is never dearer than that solve's answer: rounding the flows of the largest capacity up to whole modules
    can open a module for a few units the solve left unmet, 1.4 M KES/yr dearer on 120 generated towns)."""
    starts = [flows_for_open_set(problem, index, opened)]
    if any(modules):
        with np.errstate(invalid="ignore"):  # 0 modules × an unlimited capacity: not a capacity row
            capacity = np.asarray(modules, dtype=float) * problem.module_capacity
        starts.append(flows_for_open_set(problem, index, opened, capacity=capacity,
                                         arc_cost=problem.arc_unit_cost * index.arc_demand))
    return [start for start in starts if start is not None]
