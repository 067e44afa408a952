"""report.html's sections read alone."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest


def test_the_unmet_table_is_by_product_not_summed_over_products():
    """Cook's custom demand all unmet and its standard demand all served had read "Cook 58,031 / 5,276 /
    9.1 %" (the products summed): a board read 9 % of Chicago unserved."""
    from types import SimpleNamespace

    import geopandas as gpd

    from planner.export.report import _unmet_regions_section

    pairs = pd.DataFrame({"region_id": ["17031", "17031", "06037"], "product": ["custom", "standard", "custom"],
                          "demand": [5276.0, 52755.0, 100.0], "served": [0.0, 52755.0, 60.0],
                          "unmet": [5276.0, 0.0, 40.0]})
    regions = gpd.GeoDataFrame({"region_id": ["17031", "06037"], "region_name": ["Cook", "Los Angeles"]})
    page = _unmet_regions_section(SimpleNamespace(tables=SimpleNamespace(regions=pairs)), regions)
    assert "<td>17031</td><td>Cook</td><td>custom</td>" in page.replace(" class='text'", "")
    assert "100.0 %" in page and "40.0 %" in page and "9.1 %" not in page
    assert "2 regions have unmet demand (2 region and product pairs)" in page
    # the share is of the region's demand for the product: Cook is not 100 % of custom's demand
    assert "unmet share of the region&#x27;s demand for it" in page and "of the product&#x27;s demand" not in page


def test_the_unmet_table_has_no_name_column_repeating_the_ids_of_unnamed_regions():
    """Regions without names had a "name" column holding their ids again."""
    from types import SimpleNamespace

    import geopandas as gpd

    from planner.export.report import _unmet_regions_section

    pairs = pd.DataFrame({"region_id": ["a7", "b9"], "product": ["p", "p"], "demand": [10.0, 20.0],
                          "served": [5.0, 20.0], "unmet": [5.0, 0.0]})
    page = _unmet_regions_section(SimpleNamespace(tables=SimpleNamespace(regions=pairs)),
                                  gpd.GeoDataFrame({"region_id": ["a7", "b9"]})).replace(" class='text'", "")
    assert "<th>name</th>" not in page and "<td>a7</td><td>p</td>" in page and page.count("a7") == 1


def test_the_all_materials_row_adds_no_quantities_of_different_materials():
    """t of steel + kg of glass + pieces of chips had been added into one "shipped" figure, and the mean inbound
    distance weighted by that sum (2,059 km, driven by the kg)."""
    from planner.export.report import _all_materials_row

    frame = pd.DataFrame({"used": [1, 2], "available": [2, 3], "quantity": [3.0, 4000.0],
                          "material_cost": [10.0, 20.0], "transport_cost": [1.0, 2.0], "relationship_cost": [0.0, 0.0],
                          "carbon_cost": [0.0, 0.0], "mean_km": [100.0, 2100.0], "co2_t": [1.0, 2.0]},
                         index=pd.Index(["steel_t", "chips"], name="material"))
    row = _all_materials_row(frame, 3)
    assert row[2] == row[7] == "– (units differ)" and row[3] == "30"
    one = _all_materials_row(frame.iloc[:1], 1)
    assert one[2] == "3" and one[7] == "100.0"


def test_the_solver_table_gives_the_gap_as_the_status_line_does():
    """A gap of the costs' rounding (1.2e-16) had read '0.000001 %' in the solver table beside the status
    line's 'gap 0.00%'; a gap that is there keeps its digits."""
    from planner.export.report import _solver_section, report_title

    summary = {"status": "optimal", "objective": 15779655.68, "best_bound": 15779655.68,
               "mip_gap": 1.18e-16, "mip_gap_tolerance": 0.01, "currency": "USD"}
    page = _solver_section(summary)
    assert "<td>gap</td><td class=\"num\">0.000 %</td>" in page and "0.000001" not in page
    assert report_title("hybrid", summary, "cost").endswith("gap 0.00%")
    assert "14.041 %" in _solver_section({**summary, "status": "time_limit", "mip_gap": 0.14040783})


def test_the_strategy_tables_give_a_plan_not_proven_optimal_its_gap():
    """The rollout's and scenarios' strategy tables had 'time_limit' alone beside a plan stopped at a 17 % gap."""
    from planner.export.report import status_with_gap
    from planner.export.rollout_report import rollout_section

    assert status_with_gap({"status": "time_limit", "mip_gap": 0.17183}) == "time_limit (gap 17.18 %)"
    assert status_with_gap({"status": "optimal", "mip_gap": 1e-16}) == "optimal"
    # a strategy without a plan has no gap: its reason, as the console gives it (it read "infeasible (gap n/a)")
    infeasible = {"status": "infeasible", "reason": "capex < 5", "mip_gap": None}
    assert status_with_gap(infeasible) == "infeasible (capex &lt; 5)"
    assert status_with_gap({"status": "infeasible", "mip_gap": None}) == "infeasible"
    assert status_with_gap({"status": "time_limit", "reason": "no plan in time", "mip_gap": None}) == (
        "time_limit (no plan in time)")
    figures = {"expected_cost": 3.8e8, "cvar": 3.8e8, "worst_case": 3.8e8, "period1_facilities": {"micro": 1}}
    block = {"status": "gap_limit", "mip_gap": 0.0086, "cvar_alpha": 0.9,
             "strategies": {"central_now": {**figures, "status": "time_limit", "mip_gap": 0.17183},
                            "optimum": {**figures, "status": "optimal", "mip_gap": 0.0}}}
    table = pd.DataFrame({"strategy": ["central_now", "optimum"], "scenario": "base", "probability": 1.0,
                          "period": 1, "demand": 10.0, "capacity_micro": 20.0})
    page = rollout_section(block, table, ("micro",), "USD")
    assert "<td>time_limit (gap 17.18 %)</td>" in page and "<td>optimal</td>" in page
    # the CVaR and worst-case columns had no unit beside "expected cost (USD, present value)"
    assert "CVaR 0.9 (USD, present value)</th>" in page and "worst case (USD, present value)</th>" in page


def test_the_report_and_workbook_state_the_co2_cap_and_service_floor_solved_under():
    """A pareto point's report.html and results.xlsx gave its status and gap but not the CO2 cap (nor the
    most it may leave unmet) of the problem they are of; a solve with network.max_co2_t_per_yr neither."""
    from planner.export.report import _network_table
    from planner.export.workbook import _network_inputs
    from tests.builders import dense_problem

    plain = dense_problem([10.0], [5.0], [np.inf], [[1.0]], penalty=9.0)
    assert "<td>CO2 cap</td><td>none</td>" in _network_table(plain) and "most unmet" not in _network_table(plain)
    capped = dataclasses.replace(plain, co2_cap_t=2343.4477, max_unmet=np.array([73576.01]))
    page = _network_table(capped)
    assert "<td>CO2 cap</td><td>2,343.45 t CO2/yr</td>" in page
    assert "p 73,576 units/yr" in page
    rows = {(section, item): (value, unit) for section, item, value, unit in _network_inputs(capped)}
    assert rows[("network", "CO2 cap")] == (pytest.approx(2343.4477), "t CO2/yr")
    assert rows[("product p", "most unmet (the pareto point's service floor)")] == (pytest.approx(73576.01), "units/yr")
    assert ("network", "CO2 cap") in {(s, i) for s, i, _, _ in _network_inputs(plain)}


def test_a_service_level_in_minutes_is_said_not_to_be_on_the_km_curve():
    """A level of 80 % within 240 min (an OD matrix of minutes) sat beside a coverage curve by km with no word
    that the level cannot be read on it; a level in km is marked on the curve and needs none."""
    from planner.export.report import _service_section

    curves = {"standard": [[0.0, 0.4], [150.0, 0.8], [300.0, 0.95]]}
    level = {"product": "standard", "required_share": 0.8, "within_km": None, "within_minutes": 240.0,
             "achieved_share": 0.923}
    section = _service_section({"service": {"levels": [level], "coverage_curve": curves}})
    assert "a level in minutes is not marked on it" in section and "240 min" in section
    in_km = {**level, "within_km": 320.0, "within_minutes": None}
    assert "not marked" not in _service_section({"service": {"levels": [in_km], "coverage_curve": curves}})


def test_the_solve_time_of_a_scenario_study_names_the_evaluation_it_measures():
    """With --scenarios the solver rows are the network's evaluation's (0.01 s, no nodes) and read as the
    study's solve time, beside a stochastic solve of seconds."""
    from planner.export.report import _solver_rows

    solver = {"nodes": None, "solve_s": 0.0104}
    assert [row[0] for row in _solver_rows({"evaluation_status": "optimal"}, solver)] == [
        "branch-and-bound nodes of the network's evaluation", "solve time of the network's evaluation"]
    assert [row[0] for row in _solver_rows({}, solver)] == ["branch-and-bound nodes", "solve time"]
