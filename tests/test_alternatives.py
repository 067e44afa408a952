"""`planner alternatives`: near-optimal networks derived by hand.

Three regions of demand 10 on the equator at longitudes 0, 1, 2 (A, B, C; 111.195 km apart), one
uncapacitated plant type opening for 100, production 1 per unit, transport 0.01 per unit-km, so
shipping one degree costs 1.11195 per unit:

* B alone: 100 + 30 + 2 × 10 × 1.11195 = 152.239 (the optimum);
* A alone or C alone: 100 + 30 + 10 × 1.11195 + 10 × 2.22390 = 163.359 (+7.30 %);
* any two plants: at least 200 + 30 + 11.1195 = 241.1 (+58 %).

With a 10 % slack (budget 167.46) the alternatives are A alone and C alone (each 2 options away from
B and from each other) and then no other network fits; with 5 % there is none.
"""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.inputs.prepare import DataOptions
from planner.solver.outcome import SolverOptions
from planner.studies.mga import near_optimal_networks
from tests.builders import KM_PER_DEGREE, equator_regions, record_study_parts, tiny_config, tiny_model_file

EXACT = SolverOptions(mip_gap=1e-9)
SHIP = 0.01 * KM_PER_DEGREE  # per unit per degree
OPTIMUM = 100 + 30 + 2 * 10 * SHIP
END_SITE = 100 + 30 + 10 * SHIP + 10 * 2 * SHIP


def three_regions(tmp_path):
    path = equator_regions(tmp_path / "r.geojson", [0.0, 1.0, 2.0], [10, 10, 10], ids=["A", "B", "C"])
    return tiny_config(path)


def test_ten_percent_slack_finds_the_two_end_sites(tmp_path):
    result = near_optimal_networks(three_regions(tmp_path), DataOptions(), EXACT, slack=0.10, count=5)
    table = result.table
    assert table["audited_cost"].tolist() == pytest.approx([OPTIMUM, END_SITE, END_SITE])
    assert table.loc[0, "sites_opened"] == "[]"
    assert sorted(table.loc[1:, "sites_opened"]) == ['[["A", "plant"]]', '[["C", "plant"]]']
    assert table.loc[1:, "sites_closed"].tolist() == ['[["B", "plant"]]', '[["B", "plant"]]']
    assert table["distance_to_optimum"].tolist() == [0, 2, 2]
    assert table.loc[2, "min_distance_to_earlier"] == 2
    assert table["within_slack"].all() and table["audit_passed"].all()
    assert result.budget == pytest.approx(1.1 * OPTIMUM)
    assert "no further network" in result.stopped_early


def test_the_side_by_side_map_says_where_open_sites_lie_outside_its_frame(tmp_path):
    """A fourth region D at longitude 90 has a plant of its own in every network: the panels frame the main
    group (A, B, C), so D's plant is not drawn; the title says so (a network differing only there had shown
    no difference at all)."""
    from planner.export.alternatives_report import side_by_side_figure

    path = equator_regions(tmp_path / "r.geojson", [0.0, 1.0, 2.0, 90.0], [10, 10, 10, 10], ids=["A", "B", "C", "D"])
    result = near_optimal_networks(tiny_config(path), DataOptions(), EXACT, slack=0.10, count=1)
    assert all(("D", "plant") in {tuple(k) for k in n.run.tables.sites[["site_id", "facility_type"]].to_numpy()}
               for n in result.networks)
    title = side_by_side_figure(result)._suptitle.get_text()
    assert "1 open site of these networks, in remote regions, not shown" in title
    three = near_optimal_networks(three_regions(tmp_path), DataOptions(), EXACT, slack=0.10, count=1)
    assert "not shown" not in side_by_side_figure(three)._suptitle.get_text()


def test_five_percent_slack_has_no_alternative(tmp_path):
    result = near_optimal_networks(three_regions(tmp_path), DataOptions(), EXACT, slack=0.05, count=3)
    assert len(result.networks) == 1
    assert result.stopped_early is not None


@pytest.mark.slow  # a whole CLI run (2-4 s): in the full suite only
def test_alternatives_command_writes_folders_table_and_map(tmp_path):
    config_path = tmp_path / "m.toml"
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 1.0, 2.0], [10, 10, 10], ids=["A", "B", "C"])
    tiny_model_file(config_path, regions)
    out = tmp_path / "alt"
    result = CliRunner().invoke(
        main, ["alternatives", "--model", str(config_path), "--slack", "0.1", "--count", "1", "--mip-gap", "0",
               "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "alternatives.csv", keep_default_na=False)
    assert len(table) == 2 and set(table["currency"]) == {"USD"}  # the costs' currency, in the file itself
    assert (out / "alternatives.png").stat().st_size > 0
    import json

    solved_over = [json.loads((out / folder / "summary.json").read_text(encoding="utf-8"))["inputs"]["alternatives"]
                   ["solved_over"] for folder in table["folder"]]
    # an alternative's status and bound are those of its cost solve over its own sites, and say so
    assert solved_over == ["the model", "the sites this network opens"]
    assert "alternative 1" in result.output and "2 options differ" in result.output


def stop_at_diversity_solve(monkeypatch, failing_call: int) -> None:
    """Make the ``failing_call``-th HiGHS solve of the search (1: the first diversity solve, 2: its cost
    re-solve, 3: the second diversity solve, ...) end at its time limit without a network."""
    import planner.studies.mga as mga
    from planner.errors import SolverError

    calls = []
    solve_model = mga.solve_model

    def limited(model, options, **kwargs):
        calls.append(1)
        if len(calls) == failing_call:
            raise SolverError("HiGHS ended without a feasible solution (status: Time limit reached)")
        return solve_model(model, options, **kwargs)

    monkeypatch.setattr(mga, "solve_model", limited)


def test_a_first_diversity_solve_at_its_time_limit_keeps_the_optimum_in_the_singular(tmp_path, monkeypatch):
    """'the 1 networks found before it are kept' read as a slip beside the optimum alone."""
    stop_at_diversity_solve(monkeypatch, failing_call=1)
    result = near_optimal_networks(three_regions(tmp_path), DataOptions(), EXACT, slack=0.10, count=5)
    assert len(result.networks) == 1
    assert result.stopped_early.endswith("; the network found before it is kept")


def test_a_later_solve_at_its_time_limit_keeps_the_alternatives_found(tmp_path, monkeypatch):
    stop_at_diversity_solve(monkeypatch, failing_call=3)
    result = near_optimal_networks(three_regions(tmp_path), DataOptions(), EXACT, slack=0.10, count=5)
    assert len(result.networks) == 2
    assert result.stopped_early == ("alternative 2 was not completed (HiGHS ended without a feasible solution "
                                    "(status: Time limit reached)); the 2 networks found before it are kept")
    table = result.table
    assert table["diversity_status"].isna().tolist() == [True, False] and table.loc[1, "diversity_status"] == "optimal"
    assert table.loc[1, "diversity_gap"] == pytest.approx(0.0, abs=1e-9)
    assert table["status"].tolist() == ["optimal", "optimal"] and table["mip_gap"].notna().all()
    assert (table["best_bound"] <= table["objective"] + 1e-6).all()  # the cost solve's bound beside its gap


@pytest.mark.slow  # a whole CLI run (2-4 s): in the full suite only
def test_alternatives_command_writes_what_it_found_and_each_solves_status(tmp_path, monkeypatch):
    stop_at_diversity_solve(monkeypatch, failing_call=3)
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 1.0, 2.0], [10, 10, 10], ids=["A", "B", "C"])
    config_path = tiny_model_file(tmp_path / "m.toml", regions)
    out = tmp_path / "alt"
    result = CliRunner().invoke(main, ["alternatives", "--model", str(config_path), "--slack", "0.1", "--count", "3",
                                       "--mip-gap", "0", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "alternatives.csv", keep_default_na=False)
    assert table["alternative"].tolist() == [0, 1]
    assert table.loc[1, "diversity_status"] == "optimal"
    assert "(diversity optimal, gap 0.00%; cost optimal, gap 0.00%)" in result.output
    assert "stopped     alternative 2 was not completed" in result.output


@pytest.mark.parametrize("count", [0, 101])
def test_the_count_of_alternatives_is_limited(tmp_path, count):
    from planner.errors import InputError

    with pytest.raises(InputError, match=f"--count {count}: give between 1 and 100 alternatives"):
        near_optimal_networks(three_regions(tmp_path), DataOptions(), EXACT, slack=0.10, count=count)


def test_the_cost_budget_lies_above_a_negative_optimum_too():
    from planner.studies.mga import cost_budget

    assert cost_budget(-1_504_497.0, 0.10) == pytest.approx(-1_354_047.3)  # revenue above costs: still above it
    assert cost_budget(200.0, 0.05) == pytest.approx(210.0)
    assert cost_budget(0.0, 0.05) == 0.0


def test_the_slack_is_not_spent_on_facilities_that_produce_nothing(tmp_path):
    """The three regions with a second type, a micro opening for 3 whose production (100 per unit) no
    region ever takes. With 10 % slack (15.2) the diversity solve can add idle micros (3 each) to count as
    different: A plant + C micro (166.36, 3 options from B). Re-solved for cost, the idle micro closes:
    A alone, then C alone, and then B plant + idle micros at A and C is the optimum again, so the
    search stops (it had reported B + two idle micros as a third network, and A + idle C as 166.36)."""
    micro = {"opening_cost_per_yr": 3.0, "module_capacity_per_yr": 1000.0,
             "products": {"standard": {"cost_per_unit": 100.0}}}
    plant = {"opening_cost_per_yr": 100.0, "module_capacity_per_yr": 1000.0,
             "products": {"standard": {"cost_per_unit": 1.0}}}
    path = equator_regions(tmp_path / "r.geojson", [0.0, 1.0, 2.0], [10, 10, 10], ids=["A", "B", "C"])
    config = tiny_config(path, facility_types={"plant": plant, "micro": micro})
    result = near_optimal_networks(config, DataOptions(), EXACT, slack=0.10, count=5)
    table = result.table
    assert table["audited_cost"].tolist() == pytest.approx([OPTIMUM, END_SITE, END_SITE])
    for alternative in result.networks:
        assert (alternative.run.tables.sites["production"] > 0).all()
    assert "is the network of the optimum" in result.stopped_early


def test_an_alternative_cheaper_than_a_time_limited_optimum_is_noted():
    """Network 0 stopped at its limit and alternative 2 cost less: printed '(-0.01%)' beside an 'optimum'."""
    import pandas as pd

    from planner.cli.console import cheaper_than_the_first

    table = pd.DataFrame({"alternative": [0, 1, 2], "audited_cost": [100.0, 101.0, 99.99],
                          "status": ["time_limit", "optimal", "optimal"], "mip_gap": [0.5, 0.0, 0.0]})
    note = cheaper_than_the_first(table)
    assert note.startswith("note        alternative 2 costs less than the 'optimum'") and "time_limit" in note
    assert cheaper_than_the_first(table.iloc[:2]) is None
    two = cheaper_than_the_first(table.assign(audited_cost=[100.0, 99.98, 99.99]))  # two cheaper: plural
    assert two.startswith("note        alternatives 1, 2 cost less than the 'optimum'")
    # a proven optimum: a cheaper network is within its tolerance; a gap_limit's fix is the gap
    assert cheaper_than_the_first(table.assign(status=["optimal"] * 3)) is None
    assert "lower --mip-gap" in cheaper_than_the_first(table.assign(status=["gap_limit", "optimal", "optimal"]))
    tie = table.assign(audited_cost=[100.0, 101.0, 100.0 - 1e-12])  # one network costed twice
    assert cheaper_than_the_first(tie) is None


def test_site_lists_round_trip_ids_with_separators():
    """Joined with ';' and ':', an id 'P;Q' next to 'x:y' had read back as three mangled entries."""
    import json

    from planner.studies.mga import site_list, site_list_text

    entries = [["P;Q", "central_plant"], ["x:y", "micro"], ['a "b"', "plant"]]
    assert json.loads(site_list(entries)) == entries
    assert site_list_text(site_list(entries)) == 'P;Q (central_plant), x:y (micro), a "b" (plant)'
    assert site_list_text(site_list([["S", "micro", "plant"]])) == "S (micro>plant)"
    # the console names the sites where they are the regions (bare county codes had been listed)
    assert site_list_text(site_list([["04019", "micro"], ["X", "plant"]]), {"04019": "Pima", "X": "X"}) == \
        "04019 Pima (micro), X (plant)"


def test_the_console_line_names_a_first_network_not_proven_as_alternatives_png_does():
    """The console called a first network stopped at its gap limit "optimum" (alternatives.png: "first
    network (gap_limit)") and said "1 options differ"."""
    from types import SimpleNamespace

    from planner.cli.console import alternative_line

    row = SimpleNamespace(alternative=0, status="gap_limit", mip_gap=0.004, audited_cost=100.0, above_optimum_pct=0.0,
                          distance_to_optimum=0, sites_opened="[]", sites_closed="[]", sites_retyped="[]")
    assert alternative_line(row).startswith("first network  cost 100 (+0.00%), 0 options differ (gap_limit")
    assert alternative_line(SimpleNamespace(**{**vars(row), "status": "optimal"})).startswith("optimum        cost")
    other = SimpleNamespace(**{**vars(row), "alternative": 1, "distance_to_optimum": 1, "diversity_status": "optimal",
                               "diversity_gap": 0.0})
    assert "1 option differs (diversity optimal" in alternative_line(other)


def test_small_costs_keep_alternatives_within_the_cost_budget():
    """Every cost below 1e-7 (leaving all 15 units unmet, 1.3425e-8, is the optimum, and every network costs at
    least 2.6e-8 more): the cost budget row had been within HiGHS's absolute tolerance, so an alternative at 6.7 ×
    the optimum came back "optimal" and within_slack. Solved in a larger unit of money, no alternative fits."""
    import numpy as np

    from planner.errors import InfeasibleError
    from planner.model import ModelIndex
    from planner.pipeline import Timing, solve_problem
    from planner.studies.mga import Alternative, alternatives_table, cost_budget, next_alternative
    from tests.builders import dense_problem

    problem = dense_problem(
        demand=[2.0, 13.0], opening_cost=[2.896e-08, 2.982e-08, 2.642e-08], capacity=[5.0, 3.0, 8.0],
        unit_cost=np.zeros((3, 2)), penalty=8.95e-10, arc_option=np.array([0, 0, 1, 2, 2]),
        arc_region=np.array([0, 1, 0, 0, 1]), arc_product=np.zeros(5, dtype=int), arc_distance_km=np.zeros(5),
        arc_production_cost=np.array([1.57e-10, 4.91e-10, 1.28e-10, 2.14e-10, 4.04e-10]),
        arc_transport_cost=np.array([1.946e-10, 4.8e-11, 1.2e-10, 3.61e-11, 2.08e-10]), arc_co2_t=np.zeros(5),
        arc_demand_factor=np.array([0.6, 1.0, 0.6, 1.0, 0.6]), arc_price=np.array([0.0, 1.89e-10, 0.0, 1.89e-10, 0.0]))
    options = SolverOptions(mip_gap=1e-6)
    optimum = solve_problem(problem, options, Timing(), screen=False)
    assert optimum.report.objective == pytest.approx(1.3425e-08, rel=1e-9)
    budget = cost_budget(optimum.report.objective, 0.1)
    networks = [Alternative(0, optimum, None)]
    try:
        run, distance = next_alternative(problem, ModelIndex.from_problem(problem), networks, budget, options)
    except InfeasibleError:
        return
    table = alternatives_table([*networks, Alternative(1, run, distance)], budget)
    assert run.report.objective <= budget * (1 + 1e-6)
    assert not (run.report.objective > budget * (1 + 1e-6) and table["within_slack"].iloc[1])


def test_a_warning_of_an_alternatives_solves_names_it(tmp_path, monkeypatch):
    """A warning of one network's solves (its gap against the costs it decides, say) had not said which."""
    from planner.studies import mga

    parts = record_study_parts(monkeypatch, mga, "solve_problem", "next_alternative")
    near_optimal_networks(three_regions(tmp_path), DataOptions(), EXACT, slack=0.10, count=2)
    assert parts[:2] == ["optimum", "alternative 1"] and set(parts[2:]) <= {"alternative 2"}


def test_the_side_by_side_legend_keys_only_the_types_drawn(tmp_path):
    """A type no network opens (central plants on 30 towns of Europe) was keyed in the legend, a colour drawn
    nowhere on the map."""
    from planner.export.alternatives_report import side_by_side_figure

    plant = {"opening_cost_per_yr": 100.0, "module_capacity_per_yr": 1000.0,
             "products": {"standard": {"cost_per_unit": 1.0}}}
    idle = {**plant, "opening_cost_per_yr": 1e6}
    path = equator_regions(tmp_path / "r.geojson", [0.0, 1.0, 2.0], [10, 10, 10], ids=["A", "B", "C"])
    config = tiny_config(path, facility_types={"plant": plant, "idle": idle})
    result = near_optimal_networks(config, DataOptions(), EXACT, slack=0.10, count=1)
    legend = [text.get_text() for text in side_by_side_figure(result).legends[0].get_texts()]
    assert "plant" in legend and "idle" not in legend
