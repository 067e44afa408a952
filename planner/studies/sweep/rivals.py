"""A sweep's scenarios against each other's networks.

The scenarios are solved apart (on Dask workers), so one stopped at its time limit could report a network far
dearer than one another scenario found that is feasible for it too: a microfactory opening cost of 60 kEUR/yr
reported 35,400 kEUR/yr where the network of the scenario at 120 cost 18,295 there. After the cluster is done,
each scenario solved now that stopped at a limit (``time_limit``, ``limit``) is priced with the other scenarios'
networks (:func:`planner.studies.rival_start.cheapest_network_start`: whole modules and cheapest flows, checked
by the audit); where one is cheaper, it becomes the scenario's answer, with the scenario's own bound (still
valid) and the gap against it, and the folder is written again. Networks with suppliers are not priced (their
flows would lack the inbound supply). The pricing is bounded: the networks of the ``MAX_RIVALS`` cheapest other
scenarios, within a share of the sweep's solve time, and it stops on Ctrl-C.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pandas as pd

from planner.errors import PlannerError
from planner.interrupt import stop_requested
from planner.studies.sweep.scenario import NO_RESULT, ScenarioTask, result_figures

logger = logging.getLogger(__name__)

STOPPED = ("time_limit", "limit")  # statuses whose scenario may be beaten by another's network
TIE = 1e-9  # relative: a rival this close is no better
MAX_RIVALS = 8  # networks priced per scenario: those of the cheapest scenarios (each a flow LP and an audit)
PRICING_SHARE = 0.25  # of the scenarios' solve time summed, at most, for the pricing (at least MIN_PRICING_S)
MIN_PRICING_S = 30.0


def open_network(folder: Path) -> frozenset | None:
    """The open (site id, facility type) pairs of a scenario folder's sites.csv, None where it has none."""
    found = open_network_modules(folder)
    return None if found is None else frozenset(found)


def open_network_modules(folder: Path) -> dict | None:
    """The module count of each open (site id, facility type) pair of a scenario folder's sites.csv, None where
    it has none (the counts let a network be priced with its own capacity: rebuilt at its largest, its flows
    rounded up to whole modules can cost more than the scenario's own answer)."""
    path = Path(folder) / "sites.csv"
    if not path.is_file():
        return None
    try:
        sites = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=["site_id", "facility_type", "modules"])
        modules = pd.to_numeric(sites["modules"], errors="raise").astype(int)
    except (OSError, ValueError):  # not a table the planner wrote: no network to price
        return None
    return dict(zip(zip(sites["site_id"], sites["facility_type"], strict=True), modules, strict=True))


def keep_cheaper_networks(tasks: list[ScenarioTask], rows: dict[int, dict], solved_now: set[int]) -> None:
    """See the module: ``rows`` (scenario number → row) of the scenarios in ``solved_now`` updated in place
    where another scenario's network is cheaper, their folders written again."""
    networks = {task.number: network for task in tasks
                if rows.get(task.number, {}).get("status") not in (None, *NO_RESULT)
                and (network := open_network_modules(task.folder)) is not None}
    cheapest_first = sorted(networks, key=lambda number: rows[number].get("objective") or float("inf"))
    seconds = sum(float(row.get("seconds") or 0.0) for row in rows.values())
    deadline = time.perf_counter() + max(MIN_PRICING_S, PRICING_SHARE * seconds)
    for task in tasks:
        row = rows.get(task.number, {})
        others = _rivals(networks, cheapest_first, task.number)
        if task.number not in solved_now or row.get("status") not in STOPPED or not others:
            continue
        if stop_requested() or time.perf_counter() > deadline:
            logger.info("sweep: the pricing of stopped scenarios with the others' networks ended at its time")
            return
        try:
            better = _cheaper_plan(task, row, others)
        except PlannerError as error:  # pricing is a bonus: the scenario's own answer stands
            logger.info("sweep: scenario %s not priced with the others' networks (%s)", task.number, error)
            continue
        if better is not None:
            plan, config = better
            figures = result_figures(plan.run, config)
            logger.warning("sweep: scenario %s stopped at %.10g; another scenario's network costs %.10g there and "
                           "is kept", task.number, row["objective"], figures["objective"])
            row.update(figures)
            task.writer(plan, config, task, {**row, "params": task.params, "error": ""})


def _rivals(networks: dict[int, dict], cheapest_first: list[int], number: int) -> dict[frozenset, dict]:
    """The other scenarios' networks, each once with the module counts of the cheapest scenario that found it,
    those of the ``MAX_RIVALS`` cheapest scenarios, cheapest first."""
    found: dict[frozenset, dict] = {}
    for other in cheapest_first:
        if other != number:
            found.setdefault(frozenset(networks[other]), networks[other])
    return dict(list(found.items())[:MAX_RIVALS])


def _cheaper_plan(task: ScenarioTask, row: dict, others: dict):
    """(plan, config) of the cheapest of ``others`` (network → its module counts) in the scenario's model where it
    beats ``row``, else None."""
    from planner.inputs.config import model_config_from_dict
    from planner.model import ModelIndex
    from planner.pipeline import Plan, Timing, audited_solution, load_and_prepare
    from planner.solver.heuristic import network_cost
    from planner.solver.outcome import SolveReport, Status, within_tolerance
    from planner.studies.rival_start import cheapest_network_start

    config = model_config_from_dict(task.config_data, task.source_path or "<sweep>")
    config.source_path = Path(task.source_path) if task.source_path else None
    inputs, problem, screening = load_and_prepare(config, task.data, Timing())
    if problem.supply is not None or problem.objective_kind != "cost":
        return None
    start = cheapest_network_start(problem, list(others), list(others.values()))
    if start is None:
        return None
    index = ModelIndex.from_problem(problem)
    cost = network_cost(problem, index, start)
    if not cost < row["objective"] - TIE * max(1.0, abs(row["objective"])):
        return None
    report = within_tolerance(SolveReport.of(Status(row["status"]), "another scenario's network, cheaper than the "
                                             "solve's", cost, row.get("best_bound"), task.options.mip_gap, "highs"))
    run = audited_solution(problem, index, start, report, Timing())
    return Plan(inputs=inputs, screening=screening, run=run), config
