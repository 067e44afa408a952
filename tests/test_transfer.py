"""A solution carried over between two problems on the same data (``planner.model.transfer``) and the
hybrid's start from its rivals' networks (``planner.studies.rival_start``).

The problems: four sites, each with a "central" and a "micro" option, six regions, random costs; the
micro-only problem is the whole one restricted to the micro options, so its options and arcs sit at
other positions than in the whole problem, and the transfer has to match them by id.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from planner.audit import audit
from planner.model.index import ModelIndex
from planner.model.transfer import transferred
from planner.problem import restrict_options
from planner.results import ResultTables
from planner.solver import SolverOptions, solve
from planner.studies.rival_start import cheapest_rival_start
from tests.builders import dense_problem, with_supply

EXACT = SolverOptions(mip_gap=1e-9, quiet=True)
N_SITES, N_REGIONS = 4, 6


def two_type_problem(seed: int, extra: str = "plain"):
    """Both types at every site (options site-major: central, micro); ``extra`` adds set-up costs or
    inbound supply with a relationship cost."""
    rng = np.random.default_rng(seed)
    n_options = 2 * N_SITES
    micro = np.tile([False, True], N_SITES)
    problem = dense_problem(
        demand=rng.integers(5, 20, N_REGIONS),
        opening_cost=np.where(micro, rng.uniform(20, 60, n_options), rng.uniform(80, 200, n_options)),
        capacity=np.where(micro, 30.0, 120.0),
        unit_cost=rng.uniform(1, 10, (n_options, N_REGIONS)),
    )
    problem = dataclasses.replace(problem, type_ids=("central", "micro"), option_site=np.repeat(np.arange(N_SITES), 2),
                                  option_type=micro.astype(int), site_ids=problem.site_ids[:N_SITES],
                                  type_min_count=np.zeros(2, dtype=int), type_max_count=np.full(2, N_SITES))
    if extra == "setup":
        problem = dataclasses.replace(problem, setup_cost=rng.uniform(5, 15, (n_options, 1)))
    if extra == "supply":
        problem = with_supply(problem, bom=[[1.0]], supplier_material=[0, 0], capacity=[np.inf, 60.0], price=[2.0, 1.0],
                              km=rng.uniform(10, 500, (2, n_options)), rate=0.01, fixed=8.0)
    return problem, micro


def solved(problem):
    report, solution = solve(problem, EXACT)
    return SimpleNamespace(problem=problem, index=ModelIndex.from_problem(problem), solution=solution,
                           report=report)


def audited(problem, solution):
    index = ModelIndex.from_problem(problem)
    return audit(problem, ResultTables.from_solution(problem, index, solution), None)


@pytest.mark.parametrize("extra", ["plain", "setup", "supply"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_micro_only_network_is_a_network_of_the_whole_model_at_the_same_cost(seed, extra):
    whole, micro = two_type_problem(seed, extra)
    rival = solved(restrict_options(whole, micro)[0])
    carried = transferred(rival.solution, rival.problem, rival.index, whole, ModelIndex.from_problem(whole))
    assert carried is not None
    micro_options = np.flatnonzero(micro)
    assert set(np.flatnonzero(carried.open)) == {int(micro_options[o]) for o in np.flatnonzero(rival.solution.open)}
    checked = audited(whole, carried)
    assert checked.passed, checked.failures
    assert checked.objective_recomputed == pytest.approx(rival.report.objective, rel=1e-9)
    assert solved(whole).report.objective <= checked.objective_recomputed + 1e-6


def test_a_network_with_an_option_the_target_lacks_is_not_carried_over():
    whole, micro = two_type_problem(3)
    both = solved(whole)
    with_central = dataclasses.replace(both.solution, open=np.where(micro, 0, 1), modules=np.where(micro, 0, 1))
    micro_only = restrict_options(whole, micro)[0]
    assert transferred(with_central, whole, both.index, micro_only, ModelIndex.from_problem(micro_only)) is None


def test_the_cheapest_feasible_rival_is_the_start_and_an_infeasible_one_is_not(caplog):
    """Two rivals (micro-only and central-only): the cheaper one carried over is the start; with a
    central plant required (``min_count``) the micro-only network is no start, the central-only one is."""
    whole, micro = two_type_problem(4)
    rivals = {"micro_only": solved(restrict_options(whole, micro)[0]),
              "central_only": solved(restrict_options(whole, ~micro)[0])}
    cheaper = min(rivals, key=lambda name: rivals[name].report.objective)
    start = cheapest_rival_start(whole, rivals)
    assert audited(whole, start).objective_recomputed == pytest.approx(rivals[cheaper].report.objective, rel=1e-9)

    needs_central = dataclasses.replace(whole, type_min_count=np.array([1, 0]))
    start = cheapest_rival_start(needs_central, rivals)
    assert start is not None and (start.open[~micro] > 0).any()
    assert audited(needs_central, start).objective_recomputed == pytest.approx(rivals["central_only"].report.objective,
                                                                               rel=1e-9)
    with caplog.at_level("INFO", logger="planner"):
        assert cheapest_rival_start(needs_central, {"micro_only": rivals["micro_only"]}) is None
    assert not [r for r in caplog.records if r.levelname == "WARNING"]  # "audit failed" read as the run's own
    assert any("the micro_only network is not feasible" in r.getMessage() for r in caplog.records)
