"""The independent audit catches wrong solutions: each test breaks one thing in the tables of a
correct solve and expects exactly that check to fail.

The instance: two regions of demand 10 (longitudes 0 and 1), two capacity-15 plants at them; the
optimum opens both (each serves its own region) for 2 × 100 + 20 = 220.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from planner.audit import audit
from planner.pipeline import solve_problem
from planner.results import ResultTables
from planner.solver.outcome import SolverOptions
from tests.builders import dense_problem

EXACT = SolverOptions(mip_gap=1e-9)


@pytest.fixture
def run():
    problem = dense_problem([10, 10], [100.0, 100.0], [15.0, 15.0], [[1.0, 50.0], [50.0, 1.0]], penalty=1000.0,
                           arc_co2_t=np.array([0.01, 0.01, 0.01, 0.01]))
    result = solve_problem(problem, EXACT)
    assert result.report.objective == pytest.approx(220.0) and result.audit.passed
    return result


def check(run, tables, objective=None, problem=None):
    return audit(problem or run.problem, tables, run.report.objective if objective is None else objective)


def test_the_correct_solution_passes(run):
    report = check(run, run.tables)
    assert report.passed and report.objective_recomputed == pytest.approx(220.0)


def test_a_wrong_objective_fails(run):
    assert check(run, run.tables, objective=219.0).failures == ["objective"]


def test_a_lost_delivery_fails_the_balance(run):
    flows = run.tables.flows.copy()
    flows.loc[0, "quantity"] -= 1.0
    assert "demand_balance" in check(run, dataclasses.replace(run.tables, flows=flows)).failures


def test_flow_from_a_closed_site_fails(run):
    sites = run.tables.sites.iloc[[0]].reset_index(drop=True)
    failures = check(run, ResultTables(sites=sites, flows=run.tables.flows, regions=run.tables.regions)).failures
    assert "closed_sites" in failures


def test_over_capacity_fails(run):
    flows = run.tables.flows.copy()
    flows.loc[0, "quantity"] += 6.0  # 16 > 15 at the first plant
    regions = run.tables.regions.copy()
    failures = check(run, ResultTables(sites=run.tables.sites, flows=flows, regions=regions)).failures
    assert "capacity" in failures


def test_co2_cap_and_unmet_limit_are_checked(run):
    capped = dataclasses.replace(run.problem, co2_cap_t=0.1)  # the solution emits 0.2 t
    assert check(run, run.tables, problem=capped).failures == ["co2_cap"]
    tiny = dataclasses.replace(run.problem, arc_co2_t=run.problem.arc_co2_t * 1e-6, co2_cap_t=1e-9)
    assert "co2_cap" in check(run, run.tables, problem=tiny).failures  # 2e-7 t against 1e-9: under the 1e-6 floor
    regions = run.tables.regions.copy()
    flows = run.tables.flows.copy()
    flows = flows[flows["region_id"] != "r1"]
    regions.loc[regions["region_id"] == "r1", ["served", "unmet"]] = [0.0, 10.0]
    limited = dataclasses.replace(run.problem, max_unmet=np.array([5.0]))
    report = audit(limited, ResultTables(sites=run.tables.sites, flows=flows, regions=regions), None)
    assert "unmet_limit" in report.failures


def test_a_flow_within_the_tolerance_from_a_closed_site_needs_no_setup():
    problem = dense_problem([10, 10], [1000.0, 1000.0], [25.0, 25.0], [[1.0, 2.0], [50.0, 50.0]], penalty=1000.0)
    problem = dataclasses.replace(problem, setup_cost=np.array([[40.0], [40.0]]))
    result = solve_problem(problem, EXACT)
    assert result.audit.passed and result.report.objective == pytest.approx(1070.0)
    assert list(result.tables.sites["site_id"]) == [problem.site_ids[0]]
    stray = result.tables.flows.iloc[[0]].assign(site_id=problem.site_ids[1], cost=0.0)
    for quantity, passes in ((1e-9, True), (1.0, False)):
        flows = pd.concat([result.tables.flows, stray.assign(quantity=quantity)], ignore_index=True)
        report = audit(problem, dataclasses.replace(result.tables, flows=flows), result.report.objective)
        assert ("setup_paid" not in report.failures) is passes


@pytest.mark.parametrize(("table", "column", "factor", "failure"), [
    ("flows", "co2_t", 0.5, "co2_table"),  # the summary's CO2 (and a cap judged by it) had come from this column
    ("flows", "production_cost", 0.5, "cost_parts"),  # the summary's cost split is built from these columns
    ("regions", "unmet_cost", 0.0, "cost_parts"),
    ("regions", "demand", 2.0, "table_figures"),  # shares served are computed from it
    ("flows", "distance_km", None, "table_figures"),  # None: 100 km added (each plant serves its own region at 0)
    ("sites", "production", 2.0, "table_figures"),
    ("sites", "capacity", 2.0, "table_figures"),
])
def test_a_figure_the_outputs_show_is_checked_against_the_inputs(run, table, column, factor, failure):
    frame = getattr(run.tables, table).copy()
    assert (frame[column] != 0).any() or factor in (None, 0.0), f"{column} is 0: the edit would change nothing"
    frame[column] = frame[column] + 100.0 if factor is None else frame[column] * factor
    if column == "unmet_cost":
        frame.loc[0, "unmet"], frame.loc[0, "unmet_cost"] = 1.0, 0.0  # one unit unmet, its penalty left out
        flows = run.tables.flows.copy()
        flows.loc[flows["region_id"] == frame.loc[0, "region_id"], "quantity"] -= 1.0
        tables = dataclasses.replace(run.tables, regions=frame, flows=flows)
    else:
        tables = dataclasses.replace(run.tables, **{table: frame})
    assert failure in check(run, tables, objective=check(run, tables).objective_recomputed).failures


def test_fractional_modules_fail():
    problem = dense_problem([10, 10], [100.0, 100.0], [15.0, 15.0], [[1.0, 50.0], [50.0, 1.0]], penalty=1000.0)
    problem = dataclasses.replace(problem, module_capacity=np.array([5.0, 5.0]), max_modules=np.array([4, 4]),
                                  min_modules=np.array([1, 1]))
    result = solve_problem(problem, EXACT)
    assert result.audit.passed
    sites = result.tables.sites.copy()
    sites["modules"] = sites["modules"] - 0.25
    sites["capacity"] = sites["modules"] * 5.0
    tables = dataclasses.replace(result.tables, sites=sites)
    assert "modules" in audit(problem, tables, None).failures


def test_a_setup_paid_by_another_facility_fails():
    """Both plants make the product and each owes a setup of 30: moving one's setup onto the other keeps
    the total, and had passed."""
    problem = dense_problem([10, 10], [100.0, 100.0], [15.0, 15.0], [[1.0, 50.0], [50.0, 1.0]], penalty=1000.0)
    problem = dataclasses.replace(problem, setup_cost=np.array([[30.0], [30.0]]))
    result = solve_problem(problem, EXACT)
    assert result.audit.passed and len(result.tables.sites) == 2
    sites = result.tables.sites.copy()
    sites["setup_cost"] = [60.0, 0.0]
    assert "setup_paid" in audit(problem, dataclasses.replace(result.tables, sites=sites), None).failures


def test_the_audit_joins_the_flows_with_the_arcs_of_their_options_only():
    """Only the arcs of options the flows use are tabled (the whole table of 15 million arcs had raised the
    audit's peak memory to 6.1 GB for 5,000 flows); a flow on an arc that does not exist is still caught."""
    from planner.audit import _arc_keys

    problem = dense_problem([10, 10, 10], [100.0, 100.0, 100.0], [50.0, 50.0, 50.0],
                            [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], penalty=1000.0)
    assert len(_arc_keys(problem)) == 9
    only = _arc_keys(problem, np.array([1]))
    assert len(only) == 3 and set(only["unit_cost"]) == {4.0, 5.0, 6.0}
    run = solve_problem(problem, SolverOptions(mip_gap=0.0))
    assert run.audit.passed
    flows = run.tables.flows.copy()
    flows.loc[flows.index[0], "region_id"] = "nowhere"  # an arc no option has
    report = audit(problem, dataclasses.replace(run.tables, flows=flows), run.report.objective, warn=False)
    assert not report.passed
