"""The floor of unmet penalty no network avoids, and the warning where a run's gap hides the network."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest

from planner.model import ModelIndex
from planner.pipeline import solve_problem
from planner.solver import SolverOptions
from planner.solver.outcome import SolveReport, Status
from planner.solver.settled import UNSETTLED_SHARE, unavoidable_penalty, warn_if_unsettled
from tests.brute import best_by_enumeration
from tests.builders import dense_problem


def without_arcs_of_region(problem, region: int):
    keep = problem.arc_region != region
    arrays = {field.name: getattr(problem, field.name)[keep] for field in dataclasses.fields(problem)
              if field.name.startswith("arc_") and isinstance(getattr(problem, field.name), np.ndarray)}
    return dataclasses.replace(problem, **arrays)


def test_the_floor_by_hand():
    """Regions of 20, 20, 20 and 7 units, two sites of capacity 10, penalty 5/unit; region 3 has no arc:
    35 is its penalty, and of the 60 units in reach at most 20 can be served: 40 × 5 = 200 more."""
    problem = dense_problem(demand=[20, 20, 20, 7], opening_cost=[1, 1], capacity=[10, 10],
                            unit_cost=np.ones((2, 4)), penalty=5.0)
    problem = without_arcs_of_region(problem, 3)
    assert unavoidable_penalty(problem, ModelIndex.from_problem(problem)) == pytest.approx(35 + 200)
    roomy = dataclasses.replace(problem, module_capacity=np.array([50.0, 50.0]))
    assert unavoidable_penalty(roomy, ModelIndex.from_problem(roomy)) == pytest.approx(35)
    must = dataclasses.replace(roomy, unmet_penalty=np.array([np.inf]))
    assert unavoidable_penalty(must, ModelIndex.from_problem(must)) == 0.0


def huge_demand_problem():
    """Demand ten thousand times the capacity: the penalty is almost all of the objective (6 × 10⁷ a
    year), and the costs the network decides are 210 a year (each site opened, 10 units made at 1)."""
    return dense_problem(demand=[1e5, 2e5, 3e5], opening_cost=[50.0, 60.0, 70.0], capacity=[10.0, 10.0, 10.0],
                         unit_cost=np.ones((3, 3)), penalty=100.0)


@pytest.mark.parametrize("gap, warned", [(200.0, True), (10.0, False), (0.0, False)])
def test_a_gap_that_hides_the_network_is_a_warning_with_a_mip_gap_that_settles_it(caplog, gap, warned):
    """The floor is 59,997,000 a year; a run at 59,997,310 decides 310 of it: a gap of 200 (0.0003 % of
    the objective, within a 1 % tolerance) is 65 % of that, a gap of 10 is 3 %."""
    problem = huge_demand_problem()
    index = ModelIndex.from_problem(problem)
    objective = 59_997_310.0
    report = SolveReport.of(Status.OPTIMAL, "Optimal", objective, objective - gap, 0.01, "HiGHS")
    with caplog.at_level(logging.WARNING, logger="planner"):
        warn_if_unsettled(problem, index, report)
    lines = [r.getMessage() for r in caplog.records if "not settled" in r.getMessage()]
    assert len(lines) == warned
    if warned:
        assert "is 65% of the costs the network decides: 59,997,000 USD/yr" in lines[0]
        suggested = float(lines[0].split("lower --mip-gap to ")[1].split(" ")[0])
        assert suggested == pytest.approx(0.01 * 310 / objective, rel=0.01)  # 1 % of what the network decides
        assert suggested * objective < UNSETTLED_SHARE * 310


def test_a_run_stopped_by_its_limit_is_told_to_take_more_time_and_the_floor_counts_as_a_bound(caplog):
    problem = huge_demand_problem()
    index = ModelIndex.from_problem(problem)
    objective = 59_997_310.0
    stopped = SolveReport.of(Status.TIME_LIMIT, "Time limit reached", objective, objective * 0.7, 0.01, "HiGHS")
    with caplog.at_level(logging.WARNING, logger="planner"):
        warn_if_unsettled(problem, index, stopped)
    [line] = [r.getMessage() for r in caplog.records if "not settled" in r.getMessage()]
    assert "give it more time (--time-limit)" in line and "--mip-gap to" not in line
    assert "(310 USD/yr," in line  # measured from the floor (59,997,000), not from the bound 30 % below it


def test_the_planner_solves_the_huge_demand_case_to_its_optimum():
    problem = huge_demand_problem()
    run = solve_problem(problem, SolverOptions(mip_gap=0.01 * 310 / 59_997_310.0))
    assert run.audit.objective_recomputed == pytest.approx(best_by_enumeration(problem), abs=1e-6)


def test_no_warning_where_the_gap_is_small_against_the_network(caplog):
    problem = dense_problem(demand=[5, 6, 7], opening_cost=[50.0, 60.0], capacity=[10.0, 10.0],
                            unit_cost=[[1, 2, 3], [3, 2, 1]], penalty=100.0)
    with caplog.at_level(logging.WARNING, logger="planner"):
        solve_problem(problem, SolverOptions(mip_gap=0.01))
    assert not [r for r in caplog.records if "not settled" in r.getMessage()]


def test_no_warning_where_prices_make_the_floor_no_bound(caplog):
    problem = huge_demand_problem()
    priced = dataclasses.replace(problem, arc_price=np.full(problem.n_arcs, 5.0))
    report = SolveReport.of(Status.OPTIMAL, "Optimal", 59_997_310.0, 59_997_110.0, 0.01, "HiGHS")
    with caplog.at_level(logging.WARNING, logger="planner"):
        warn_if_unsettled(priced, ModelIndex.from_problem(priced), report)
        assert not [r for r in caplog.records if "not settled" in r.getMessage()]
        warn_if_unsettled(problem, ModelIndex.from_problem(problem), report)
    assert [r for r in caplog.records if "not settled" in r.getMessage()]


def test_the_floor_is_the_bound_where_it_is_the_larger():
    """The case by hand: K = 235; a run stopped with a weaker bound reports K as its bound, and the gap
    and status that follow (at 40,000 points a saturated network had read a 16–40 % gap against a
    Lagrangian bound, its K proving it within 5 %); a stronger bound, or prices, leave the report alone."""
    from planner.solver.settled import with_floor

    problem = without_arcs_of_region(dense_problem(demand=[20, 20, 20, 7], opening_cost=[1, 1], capacity=[10, 10],
                                                   unit_cost=np.ones((2, 4)), penalty=5.0), 3)
    index = ModelIndex.from_problem(problem)
    stopped = SolveReport.of(Status.TIME_LIMIT, "time limit", 237.0, 100.0, 0.01, "test")
    floored = with_floor(problem, index, stopped)
    assert floored.best_bound == pytest.approx(235.0) and floored.status is Status.GAP_LIMIT
    assert floored.mip_gap == pytest.approx(2 / 237)
    assert with_floor(problem, index, dataclasses.replace(stopped, best_bound=236.0)).best_bound == 236.0
    priced = dataclasses.replace(problem, arc_price=np.full(problem.n_arcs, 0.5))
    assert with_floor(priced, index, stopped).best_bound == 100.0
    assert best_by_enumeration(problem) >= 235.0 - 1e-9  # K is a floor of the true optimum


def test_a_run_stopped_with_nothing_built_says_so(caplog):
    """A priced model on one thread whose root LP outlasted a short limit wrote an empty plan (status
    time_limit, objective 0) with nothing said."""
    from planner.solver.settled import warn_if_nothing_built

    problem = dense_problem(demand=[5, 6], opening_cost=[50.0, 60.0], capacity=[10.0, 10.0],
                            unit_cost=[[1, 2], [2, 1]])
    stopped = SolveReport.of(Status.TIME_LIMIT, "Time limit reached", 0.0, -1000.0, 0.01, "HiGHS")
    with caplog.at_level(logging.WARNING, logger="planner"):
        warn_if_nothing_built(problem, stopped, 0)
        warn_if_nothing_built(problem, stopped, 1)  # something built: a network, however poor
        warn_if_nothing_built(problem, dataclasses.replace(stopped, status=Status.OPTIMAL), 0)  # proven: nothing pays
    [line] = [r.getMessage() for r in caplog.records]
    assert "before any network better than building nothing was found" in line and "--time-limit" in line


def test_no_warning_where_the_network_decides_nothing_but_rounding(caplog):
    """Every unit unmet at a cheap penalty, the run optimal with a gap of 1e-14 of its objective: the
    warning had said the gap was "100 % of the costs the network decides" and asked for --mip-gap 1.8e-18."""
    problem = huge_demand_problem()
    index = ModelIndex.from_problem(problem)
    floor = unavoidable_penalty(problem, index)
    report = SolveReport.of(Status.OPTIMAL, "Optimal", floor + 1e-6, floor - 1e-6, 0.01, "HiGHS")
    with caplog.at_level(logging.WARNING, logger="planner"):
        warn_if_unsettled(problem, index, report)
    assert not [r for r in caplog.records if "not settled" in r.getMessage()]
