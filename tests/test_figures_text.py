"""Figures as the pages and the terminal print them: a share strictly between 0 and 1 never shows as
0 % or 100 %, a best share is told apart from the share asked, and a cost difference of solver noise
shows as 0, never as '−0' or '−0.0000000149'."""

import pytest

from planner.export.compare_report import money_range
from planner.export.report import pct
from planner.export.sensitivity_report import value_text
from planner.model.arrays import share_text
from planner.solver.service import shares_apart


@pytest.mark.parametrize(("share", "text"), [(62_800 / 62_810, "99.98%"), (10 / 62_810, "0.02%"), (1.0, "100.0%"),
                                            (0.0, "0.0%"), (0.5, "50.0%"), (0.9994, "99.9%"), (1.5, "150.0%")])
def test_a_share_never_rounds_to_all_or_nothing(share, text):
    assert share_text(share) == text


def test_the_report_percentages_follow_the_same_rule():
    assert pct(62_800 / 62_810) == "99.98 %" and pct(10 / 62_810) == "0.02 %" and pct(None) == "n/a"
    assert pct(0.0123456, 3) == "1.235 %"


def test_a_best_share_short_of_the_one_asked_is_told_apart():
    assert shares_apart(0.85, 0.8495) == ("85.00%", "84.95%")
    assert shares_apart(0.85, 0.84996) == ("85.000%", "84.996%")
    assert shares_apart(0.85, 0.60) == ("85.0%", "60.0%")
    assert shares_apart(1.0, -1e-12) == ("100.0%", "0.0%")  # the solver's rounding of none, not "-0.0%"


def test_cost_differences_of_solver_noise_show_as_zero():
    assert money_range(-1.49e-8, 1.2e-9, "USD") == "0 USD/yr"
    assert money_range(-3.0, 5.0, "USD") == "−3 to 5 USD/yr"
    row = {"value_of_decentralisation_low": -1.34e-7, "proven_at_least_low": -1.34e-7, "proven_at_most_low": -1.34e-7}
    assert value_text(row, "low", "USD") == "0 USD/yr"
    row = {"value_of_decentralisation_low": 0.0, "proven_at_least_low": -7.45e-12, "proven_at_most_low": 4120.0}
    assert "−" not in value_text(row, "low", "USD")


def test_the_workbook_writes_a_list_of_tables_as_json():
    import json

    from planner.export.workbook import flatten

    items = dict(flatten({"service": {"levels": [{"product": "a", "share": 0.5}]}, "kinds": ["x", "y"]}))
    assert json.loads(items["service.levels"]) == [{"product": "a", "share": 0.5}]
    assert items["kinds"] == "x, y"


def test_demand_served_in_full_but_for_rounding_is_all_served_and_a_full_plant_is_full():
    """Flows that sum to 1e-15 short of the demand: unmet 0 and served = demand in the tables, so the
    summary says 100.0 % (it said 99.999999 % beside 'unmet 0'); a facility at its capacity but for
    the same rounding is 100 % used."""
    import numpy as np

    from planner.model import ModelIndex
    from planner.model.solution import Solution
    from planner.results import regions_table, sites_table
    from tests.builders import dense_problem

    problem = dense_problem([3.0, 7.0], [1.0, 1.0], [10.0, 10.0], [[1.0, 1.0], [2.0, 2.0]])
    index = ModelIndex.from_problem(problem)
    assign = np.where(problem.arc_option == 0, 1.0 - 1e-15, 0.0)
    solution = Solution(open=np.array([1.0, 0.0]), modules=np.array([1, 0]), assign=assign,
                        unmet=np.zeros(index.n_pairs))
    regions = regions_table(problem, index, solution)
    assert (regions["unmet"] == 0).all() and (regions["served"] == regions["demand"]).all()
    assert share_text(regions["served"].sum() / regions["demand"].sum()) == "100.0%"
    assert sites_table(problem, index, solution)["utilization"].tolist() == [1.0]


def test_demand_served_beyond_the_demand_by_the_solvers_tolerance_is_served_in_full_not_negative_unmet():
    """Shares that sum to 1 + 7e-7 (a CO2-capped pareto point): regions.csv had listed unmet -0.011 units."""
    import numpy as np

    from planner.model import ModelIndex
    from planner.model.solution import Solution
    from planner.results import regions_table
    from tests.builders import dense_problem

    problem = dense_problem([15960.0, 7.0], [1.0, 1.0], [1e5, 1e5], [[1.0, 1.0], [2.0, 2.0]], penalty=100.0)
    index = ModelIndex.from_problem(problem)
    assign = np.where(problem.arc_option == 0, 1.0, 0.0) + np.where(problem.arc_option == 1, 7e-7, 0.0)
    assign[(problem.arc_option == 1) & (problem.arc_region == 1)] = 0.0
    solution = Solution(open=np.array([1.0, 1.0]), modules=np.array([1, 1]), assign=assign,
                        unmet=np.zeros(index.n_pairs))
    regions = regions_table(problem, index, solution)
    assert (regions["unmet"] == 0).all() and (regions["served"] == regions["demand"]).all()


def test_small_figures_keep_three_significant_digits_in_the_report_gaps_and_map_legend():
    """A cost to serve of 0.01273 read 0.01 in the report, a gap of 3.25e-5 read 0.00 %, the map's cost classes
    of a model in kEUR read 0.00–0.00, and a VSS of one float step between costs of 2.2e12 read 0.0004883."""
    from planner.export.interactive_map import _edge_text
    from planner.export.report import num
    from planner.solver.outcome import gap_text
    from planner.studies.stochastic.analysis import _difference

    assert [num(0.01273, 2), num(0.012, 2), num(1.42), num(5), num(150.456, 2)] == \
        ["0.01273", "0.012", "1.42", "5", "150.46"]
    # never in scientific notation on a board's page (2.1e-05 had been shown)
    assert [num(2.1e-5), num(-3.25e-7, 2)] == ["0.000021", "-0.000000325"]
    assert [gap_text(3.25e-5), gap_text(0.0123), gap_text(0.0)] == ["0.0032%", "1.23%", "0.00%"]
    assert gap_text(1e-9) == "0.00%"  # the costs' rounding, not "1e-07%"
    assert [_edge_text(0.003186), _edge_text(12.345), _edge_text(0.0)] == ["0.003186", "12.35", "0.00"]
    assert _difference(2.2e12 + 0.00048828125, 2.2e12) == 0.0 and _difference(2.54, 2.5362) == pytest.approx(0.0038)


def test_an_input_given_as_a_float_reads_ten_significant_digits_not_seventeen():
    from planner.export.report import _input_text

    assert _input_text({"co2_cap_t": 0.003415182526927368, "time_limit": 30.0, "threads": 2}) == \
        "co2 cap t: 0.003415182527; time limit: 30; threads: 2"


def test_compare_pages_demand_rates_read_alike():
    """compare.html's assumptions had shown the demand rates 0.01 and 0.001 as "0.0100" and "0.001"."""
    from planner.export.compare_report import value_text as assumption_text

    field = "demand per unit of the demand column"
    assert [assumption_text((rate, rate), field) for rate in (0.01, 0.001, 0.01273, 1.0, 250.0)] == [
        "0.01", "0.001", "0.01273", "1", "250"]
    assert assumption_text((0.0125, 0.02), field) == "0.0125–0.02"
