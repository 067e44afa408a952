"""``planner solve --start FOLDER``: a previous run's network as the solver's first incumbent.

The network (open sites, their types and module counts, :mod:`planner.inputs.start_network`) is carried
over to the model solved by site id and type, given its cheapest flows at its module counts and at whole
modules sized from the flows (:func:`planner.studies.rival_start.network_starts`), and checked by the
independent audit; the cheaper network that passes is the start. The solver's answer is then never dearer
than it, also where the time limit stops the solve short of optimal. Where the network is not one of this
model (a site or type it does not have), or the audit finds it infeasible (a forced site, a count, the
budget, a service level), or the model has suppliers (the flows are rebuilt without the inbound supply),
a warning says why and the solve goes on without it.
"""

from __future__ import annotations

import logging

import numpy as np

from planner.inputs.start_network import StartNetwork
from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.problem import Problem
from planner.studies.rival_start import cheapest_passing, network_starts, option_pairs

logger = logging.getLogger(__name__)
NAMED = 5  # sites named in a warning


def previous_network_start(problem: Problem, network: StartNetwork, record: dict | None = None) -> Solution | None:
    """The start from ``network`` for ``problem``, or None (with a warning saying why). ``record``, where
    given, receives ``used`` and the start's ``objective`` (the audit's, in the model's currency/yr)."""
    record = record if record is not None else {}
    record.update(path=str(network.source), used=False, objective=None)
    where = f"--start {network.source}"
    if problem.supply is not None:
        logger.warning("%s: not used with suppliers (the start's flows are rebuilt without the inbound supply); "
                       "solved without it", where)
        return None
    pairs = option_pairs(problem)
    unknown = sorted(network.pairs - set(pairs))
    if unknown:
        names = ", ".join(f"{site} as {kind}" for site, kind in unknown[:NAMED])
        logger.warning("%s: %d of its %d open sites are no candidate of this model (%s%s); solved without it",
                       where, len(unknown), len(network.pairs), names, " and more" if len(unknown) > NAMED else "")
        return None
    index = ModelIndex.from_problem(problem)
    opened = np.array([pair in network.pairs for pair in pairs], dtype=bool)
    candidates = network_starts(problem, index, opened, [network.modules.get(pair, 0) for pair in pairs])
    best, cost, failures = cheapest_passing(problem, index, candidates)
    if best is None:
        reason = ", ".join(dict.fromkeys(failures)) or "no flows found for it"
        logger.warning("%s: its network is not feasible in this model (%s); solved without it", where, reason)
        return None
    record.update(used=True, objective=cost)
    logger.info("%s: the solve starts from its network (%d open, %.10g %s/yr)", where, int(opened.sum()), cost,
                problem.currency)
    return best
