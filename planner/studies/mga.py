"""Near-optimal alternative networks (``planner alternatives``), by modelling to generate alternatives.

1. Solve the cost model: the optimum, cost :math:`C^*` (its incumbent when stopped at a gap).
2. For k = 1..count: maximise the smallest Hamming distance (in open (site, type) options) to every
   network found so far, subject to cost ≤ C* + slack |C*| (see ``planner.model.alternatives``; |C*|
   since with proximity prices the optimum can be negative);
   then fix that network's open decisions and minimise cost again, so each alternative is the
   cheapest way to run its network. Stops early when no network at distance ≥ 1 fits the slack.
3. Each alternative is audited like any solve, and its audited cost is checked against the budget.

Each row of the table carries the real status and gap of both solves: ``diversity_status`` and
``diversity_gap`` of the diversity solve (stopped at a time limit, the network is within the budget
but not proven the most different), ``status`` and ``mip_gap`` of the cost re-solve. A solve that
ends without any network ends the search; the networks found before it are kept and written.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.errors import InfeasibleError, InputError, SolverError
from planner.logs import study_part
from planner.model import ModelIndex, build_model
from planner.model.alternatives import define_cost_budget, define_distance_objective, restore_cost_objective
from planner.model.solution import Solution
from planner.pipeline import Run, Timing, audited_solution, load_and_prepare, solve_problem, with_own_warnings
from planner.solver.budget import excess, kept_within_budget
from planner.solver.cost_unit import cost_factor, costs_in_unit, report_in_unit
from planner.solver.highs import solve_model
from planner.solver.outcome import OPTIMAL_GAP, SolveReport, SolverOptions, gap_text

logger = logging.getLogger(__name__)

MAX_ALTERNATIVES = 100  # alternatives of one run: each a diversity solve, a cost solve and a folder
BUDGET_TOLERANCE = 1e-6  # relative: the audited cost may exceed the budget by solver rounding only


@dataclass(frozen=True)
class Alternative:
    number: int  # 0 = the optimum
    run: Run
    distance_report: SolveReport | None  # the MGA solve (None for the optimum)


@dataclass(frozen=True)
class Alternatives:
    networks: list[Alternative]
    budget: float
    slack: float
    table: pd.DataFrame
    stopped_early: str | None  # why fewer than ``count`` were found
    inputs: object
    screening: object


def open_keys(run: Run) -> set[tuple[str, str]]:
    sites = run.tables.sites
    return set(zip(sites["site_id"].astype(str), sites["facility_type"].astype(str), strict=False))


def near_optimal_networks(config, data, options: SolverOptions, slack: float, count: int) -> Alternatives:
    """The optimum and up to ``count`` alternatives within ``slack``; see the module docstring. A solve
    that ends without a network (a time limit before the first incumbent) ends the search: the networks
    found so far are kept and ``stopped_early`` says which alternative was not completed and why."""
    if slack < 0:
        raise InputError("--slack must be ≥ 0 (a share of the optimal cost, e.g. 0.05)")
    if not 1 <= count <= MAX_ALTERNATIVES:
        raise InputError(f"--count {count:,}: give between 1 and {MAX_ALTERNATIVES} alternatives (each is two solves)")
    timing = Timing()
    inputs, problem, screening = load_and_prepare(config, data, timing)
    with study_part("optimum"):  # a warning of one network's solves names it
        optimum = solve_problem(problem, options, Timing(), screen=False)
    budget = cost_budget(float(optimum.report.objective), slack)
    index = ModelIndex.from_problem(problem)
    networks = [Alternative(0, optimum, None)]
    stopped = None
    for number in range(1, count + 1):
        try:
            with study_part(f"alternative {number}"):
                found = next_alternative(problem, index, networks, budget, options)
        except InfeasibleError:
            stopped = (
                f"no further network differs from the {len(networks)} found within {100 * slack:g}% of the optimum"
            )
        except SolverError as error:
            stopped = f"alternative {number} was not completed ({error}); {_found_before(networks)}"
        same = [alt.number for alt in networks if hamming(found[0], alt.run) == 0] if not stopped else []
        if same:
            stopped = (f"alternative {number}, once the facilities the diversity solve opened without use were "
                       f"closed, is the network of {'the optimum' if same[0] == 0 else f'alternative {same[0]}'}; "
                       f"{_found_before(networks)}")
        if stopped:
            logger.info("alternatives: %s", stopped)
            break
        networks.append(Alternative(number, *found))
    return Alternatives(networks, budget, slack, alternatives_table(networks, budget), stopped, inputs, screening)


def next_alternative(problem, index: ModelIndex, networks: list[Alternative], budget: float,
                     options: SolverOptions) -> tuple[Run, SolveReport]:
    """The network farthest from ``networks`` within ``budget`` (the diversity solve), re-solved for its
    least cost over the options it opens (those it leaves closed fixed closed; one it opened without
    use closes): its audited run (with the warnings of both solves) and the diversity solve's report.
    Raises InfeasibleError when no other network fits, SolverError when a solve ends without a network."""
    diversity: list[SolveReport] = []

    def solved() -> Run:
        run, report = _next_alternative(problem, index, networks, budget, options)
        diversity.append(report)
        return run

    return with_own_warnings(solved), diversity[0]


def _next_alternative(problem, index: ModelIndex, networks: list[Alternative], budget: float,
                      options: SolverOptions) -> tuple[Run, SolveReport]:
    """:func:`next_alternative`'s two solves, kept within the capex budget beyond HiGHS's tolerance
    (:mod:`planner.solver.budget`), audited against ``problem``."""
    def solve(capex_budget: float, options: SolverOptions) -> tuple[SolveReport, tuple[Solution, SolveReport]]:
        return _two_solves(dataclasses.replace(problem, capex_budget=capex_budget), index, networks, budget, options)

    report, (solution, distance) = kept_within_budget(problem, lambda answer: excess(problem, answer[0]), solve,
                                                      options)
    return audited_solution(problem, index, solution, report, Timing()), distance


def _two_solves(problem, index: ModelIndex, networks: list[Alternative], budget: float, options: SolverOptions
                ) -> tuple[SolveReport, tuple[Solution, SolveReport]]:
    """:func:`_two_solves_in_unit`, in a larger unit of money where every cost term is below 1
    (:func:`planner.solver.cost_unit.cost_factor`: HiGHS's tolerances are absolute, and costs of 1e-8 had let
    alternatives 6 × over the cost budget through, "optimal"); the cost report in the model's unit."""
    money = cost_factor(problem)
    if money == 1.0:
        return _two_solves_in_unit(problem, index, networks, budget, options)
    scaled_index = dataclasses.replace(index, pair_penalty=index.pair_penalty * money)
    report, found = _two_solves_in_unit(costs_in_unit(problem, money), scaled_index, networks, budget * money, options)
    return report_in_unit(report, 1.0 / money), found


def _two_solves_in_unit(problem, index: ModelIndex, networks: list[Alternative], budget: float,
                        options: SolverOptions) -> tuple[SolveReport, tuple[Solution, SolveReport]]:
    """The diversity solve and the least-cost solve over what it opened: the latter's report, its network and
    the diversity solve's report."""
    model = build_model(problem, index)
    define_cost_budget(model, problem, index, budget)
    define_distance_objective(model, [alt.run.solution.open for alt in networks])
    distance = solve_model(model, options)
    logger.info("alternatives: diversity solve %s (gap %s), smallest distance %g", distance.status.value,
                gap_text(distance.mip_gap), model.min_distance.value)
    restore_cost_objective(model)
    # over the few options it opened (the rest fixed closed): cheap to solve to optimality
    report = solve_model(model, dataclasses.replace(options, mip_gap=min(options.mip_gap, OPTIMAL_GAP)),
                         warm_start=True)
    logger.info("alternatives: cost %.10g (%s)", report.objective, report.status.value)
    return report, (Solution.from_model(model, problem, index), distance)


def hamming(a: Run, b: Run) -> int:
    """Facility options (site, type) open in exactly one of the two networks."""
    return int(np.sum(a.solution.open != b.solution.open))


def differences(base: Run, other: Run) -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    """Sites opened, closed and retyped in ``other`` relative to ``base``: ``[site, type]`` each
    (retyped: ``[site, old type, new type]``), sorted."""
    before = dict(open_keys(base))
    after = dict(open_keys(other))
    opened = sorted([str(s), str(t)] for s, t in after.items() if s not in before)
    closed = sorted([str(s), str(t)] for s, t in before.items() if s not in after)
    retyped = sorted([str(s), str(before[s]), str(after[s])] for s in after if s in before and before[s] != after[s])
    return opened, closed, retyped


def site_list(entries: list[list[str]]) -> str:
    """A site list of :func:`differences` as the JSON text of ``alternatives.csv``: a site id may hold any
    character (joined with ';' and ':', 'P;Q:central_plant' could not be split back)."""
    return json.dumps(entries, ensure_ascii=False)


def site_list_text(text: str, names: dict[str, str] | None = None) -> str:
    """The JSON of :func:`site_list` for people: 'A (plant), B (micro>plant)'; with ``names`` (site id → name)
    each named site reads '04019 Pima (micro)' (bare county codes had been listed)."""
    names = names or {}

    def site(site_id: str) -> str:
        name = names.get(site_id)
        return f"{site_id} {name}" if name and name != site_id else site_id

    return ", ".join(f"{site(entry[0])} ({'>'.join(entry[1:])})" for entry in json.loads(text))


def cost_budget(optimum: float, slack: float) -> float:
    """The most a near-optimal network may cost: ``slack`` of the optimum's size above it (also where the
    optimum is negative, revenue from proximity prices exceeding the costs).

    >>> cost_budget(-100.0, 0.25), cost_budget(100.0, 0.25)
    (-75.0, 125.0)
    """
    return optimum + slack * abs(optimum)


def alternatives_table(networks: list[Alternative], budget: float) -> pd.DataFrame:
    """One row per network: cost, excess over the optimum, slack check, CO2, counts, distances, differences."""
    optimum = networks[0].run
    best = float(optimum.audit.objective_recomputed)
    rows = []
    for k, alternative in enumerate(networks):
        run, diversity = alternative.run, alternative.distance_report
        audited = run.audit.objective_recomputed
        opened, closed, retyped = differences(optimum, run)
        earlier = [hamming(run, networks[j].run) for j in range(k)]
        rows.append(
            {
                "alternative": alternative.number,
                "status": run.report.status.value,
                "mip_gap": run.report.mip_gap,
                "best_bound": run.report.best_bound,  # of the cost solve
                "diversity_status": None if diversity is None else diversity.status.value,
                "diversity_gap": None if diversity is None else diversity.mip_gap,
                "objective": run.report.objective,
                "audited_cost": audited,
                "above_optimum_pct": 100 * (audited - best) / abs(best) if best else 0.0,
                "within_slack": bool(audited <= budget + BUDGET_TOLERANCE * max(abs(budget), abs(best))),
                "co2_t": run.tables.co2_t(),
                **{f"n_{t}": n for t, n in run.tables.facility_counts(run.problem.type_ids).items()},
                "distance_to_optimum": hamming(run, optimum),
                "min_distance_to_earlier": min(earlier) if earlier else None,
                "sites_opened": site_list(opened),
                "sites_closed": site_list(closed),
                "sites_retyped": site_list(retyped),
                "audit_passed": run.audit.passed,
            }
        )
    return pd.DataFrame(rows)


def _found_before(networks: list) -> str:
    """'the network found before it is kept' (the optimum alone) or 'the 3 networks found before it are kept'."""
    return ("the network found before it is kept" if len(networks) == 1
            else f"the {len(networks)} networks found before it are kept")

