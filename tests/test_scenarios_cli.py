"""``planner solve --scenarios``: bad scenario files give one line and exit code 2 with nothing
written; a file and generated scenarios give summary.json ``stochastic``, scenarios.csv and the
report section, and the figures agree with scenarios.csv.

The instance is the one of ``tests/test_bad_input.py``: regions a, b, c, d (pop 100, 200, 50, 80),
one product (widget), one facility type (plant).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from planner.errors import InputError
from planner.studies.stochastic.results import cvar
from tests.test_bad_input import MODEL, PENALTY_LINE, assert_clean_failure, run_solve, write_instance

GOOD = """\
scenario,region,product,demand,probability
low,a,widget,50,0.25
low,b,widget,100,0.25
high,a,widget,150,0.75
high,b,widget,300,0.75
high,d,widget,80,0.75
low,c,widget,0,0.25
"""  # c named with zero demand: a region with base demand that no row names is warned about


def write_scenarios(tmp_path, text: str):
    path = tmp_path / "scenarios.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (GOOD.replace("probability", "prob"), ["column 'probability' is missing", "give columns"]),
        (GOOD.replace("low,b,widget,100", "low,b,widget,-5"), ["'demand' is negative in rows 2", "≥ 0"]),
        (GOOD.replace("low,b,widget,100", "low,b,widget,lots"), ["'demand' is not a finite number in rows 2"]),
        (GOOD.replace("0.75", "0.7"), ["sum to 0.95, not 1", "scale them"]),
        (GOOD.replace("high,d,widget,80,0.75", "high,d,widget,80,0.5"), ["differs within scenario 'high'"]),
        (GOOD.replace("high,d,", "high,zz,"), ["'region' has ids not in the regions data in rows 5", "'zz'"]),
        (GOOD.replace("high,d,widget", "high,d,gizmo"), ["unknown products in rows 5", "known products: widget"]),
        (GOOD + "high,d,widget,1,0.75\n", ["rows 7 repeat a (scenario, region, product)"]),
        (GOOD.replace("low,a,widget,50,0.25", "low,a,widget,50,0"), ["outside (0, 1] in rows 1"]),
        ("scenario,region,product,demand,probability\n", ["has no rows"]),
        (GOOD.replace("high,b,widget,300", "high,b,widget,2e12"), ["'demand' is above 1e+12 in rows 4 (values 2e+12)",
                                                                   "larger unit"]),
        (GOOD.replace(",", ";").replace("0.25", "0,25").replace("0.75", "0,75"),  # Excel in a German locale
         ["'probability' is not a finite number in rows 1", "decimal commas are not read: use '.'"]),
    ],
    ids=["missing-column", "negative", "not-a-number", "sum", "inconsistent", "region", "product", "duplicate",
         "zero-probability", "empty", "too-large", "decimal-comma"],
)
def test_bad_scenario_file(tmp_path, text, fragments):
    write_instance(tmp_path)
    path = write_scenarios(tmp_path, text)
    result = run_solve(tmp_path, "--scenarios", str(path))
    assert_clean_failure(result, tmp_path / "out", str(path), *fragments)


def test_missing_scenario_file(tmp_path):
    write_instance(tmp_path)
    result = run_solve(tmp_path, "--scenarios", str(tmp_path / "nope.csv"))
    assert_clean_failure(result, tmp_path / "out", "nope.csv", "scenario file not found")


def test_zero_scenarios(tmp_path):
    write_instance(tmp_path)
    result = run_solve(tmp_path, "--scenarios", "0")
    assert_clean_failure(result, tmp_path / "out", "--scenarios 0")


def test_a_probability_that_differs_in_a_large_scenario_names_the_scenario_and_the_odd_rows(tmp_path):
    """Two scenarios of 100 rows each; row 151 (of 'high') has 0.4 where its other 99 rows have 0.5: the
    message names the scenario and that row, not the scenario's 100 rows."""
    from planner.errors import InputError
    from planner.inputs.scenarios import read_scenarios

    lines = ["scenario,region,product,demand,probability"]
    lines += [f"{name},R{r},widget,10,{0.4 if (name, r) == ('high', 50) else 0.5}"
              for name in ("low", "high") for r in range(100)]
    path = write_scenarios(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(InputError) as caught:
        read_scenarios(path, np.array([f"R{r}" for r in range(100)], dtype=object), ("widget",))
    assert str(caught.value) == (f"{path}: column 'probability' differs within scenario 'high': 0.5 in 99 of its 100 "
                                 "rows, but row 151 has 0.4; repeat the same probability on every row of a scenario")


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--scenarios", "1001", "--scenarios 1001: give a number of scenarios from 1 to 1,000"),
    ("--scenarios", "100000000000", "--scenarios 100000000000: give a number of scenarios from 1 to 1,000"),
    ("--periods", "1001", "--periods 1001: give from 1 to 1,000 periods"),
])
def test_scenario_and_period_counts_have_an_upper_limit(tmp_path, option, value, message):
    write_instance(tmp_path)
    result = run_solve(tmp_path, option, value)
    assert_clean_failure(result, tmp_path / "out", message)


def check_outputs(out, n):
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    block = summary["stochastic"]
    table = pd.read_csv(out / "scenarios.csv")
    assert len(table) == block["scenarios"] == n and set(table["currency"]) == {summary["currency"]}
    probability = table["probability"].to_numpy()
    assert probability.sum() == pytest.approx(1.0)
    parts = ["fixed", "setup", "recourse", "production", "transport", "carbon", "unmet_penalty"]
    np.testing.assert_allclose(table[parts].sum(axis=1), table["total"], rtol=1e-9)
    assert block["expected_cost"] == pytest.approx(float(probability @ table["total"]), rel=1e-9)
    assert block["cvar"] == pytest.approx(cvar(table["total"].to_numpy(), probability, block["cvar_alpha"]), rel=1e-9)
    assert block["vss"] >= -1e-6 * block["objective"] and block["evpi"] >= -1e-6 * block["objective"]
    assert block["ws"] == pytest.approx(float(probability @ table["total_wait_and_see"]), rel=1e-9)
    assert block["audit"]["passed"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Uncertainty: cost over the demand scenarios" in page
    # every cost of the section carries its unit (VSS, EVPI, CVaR and the worst case had none)
    assert re.search(r"VSS = EEV − RP</td><td[^>]*><strong>[−\d,.]+ USD/yr</strong>", page)
    assert "CVaR 0.9 (USD/yr)" in page and "worst case (USD/yr)" in page
    # each scenario's network: its flows deliver what scenarios.csv says is served, at its production and
    # transport cost, and its sites add the modules it says
    flows = pd.read_csv(out / "scenario_flows.csv", keep_default_na=False, dtype={"scenario": str})
    sites = pd.read_csv(out / "scenario_sites.csv", keep_default_na=False, dtype={"scenario": str})
    by_scenario = table.set_index(table["scenario"].astype(str))
    for column, total in (("quantity", "served"), ("production_cost", "production"), ("transport_cost", "transport")):
        np.testing.assert_allclose(flows.groupby("scenario")[column].sum().reindex(by_scenario.index, fill_value=0),
                                   by_scenario[total], rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(sites.groupby("scenario")["recourse_modules"].sum().reindex(by_scenario.index),
                                  by_scenario["modules_added"])
    return summary, table


@pytest.mark.slow  # a whole CLI run (2-4 s): in the full suite only
def test_solve_with_a_scenario_file(tmp_path):
    write_instance(tmp_path)
    path = write_scenarios(tmp_path, GOOD)
    result = run_solve(tmp_path, "--scenarios", str(path))
    assert result.exit_code == 0, result.stderr
    assert "scenarios   2: stochastic optimum" in result.stdout
    # each strategy's figures carry their unit (they had none)
    costed = [line for line in result.stdout.splitlines() if line.startswith("strategy    ") and "expected" in line]
    assert costed and all(line.endswith("USD/yr") for line in costed)
    summary, table = check_outputs(tmp_path / "out", 2)
    status = next(line for line in result.stdout.splitlines() if line.startswith("status"))
    block = summary["stochastic"]  # the status line names the study's own status and gap, then the evaluation's
    assert f"(the study above: {block['status']}, gap " in status
    assert f"fixed and evaluated: {summary['evaluation_status']}, gap " in status
    assert table["scenario"].tolist() == ["low", "high"]
    assert table["demand"].tolist() == pytest.approx([150.0, 530.0])
    assert summary["inputs"]["scenarios"] == str(path)


@pytest.mark.slow
def test_solve_with_generated_scenarios_is_seeded(tmp_path):
    write_instance(tmp_path)
    first = run_solve(tmp_path, "--scenarios", "3", "--seed", "4", out=tmp_path / "one")
    second = run_solve(tmp_path, "--scenarios", "3", "--seed", "4", out=tmp_path / "two")
    assert first.exit_code == 0 and second.exit_code == 0, first.stderr
    summary, table = check_outputs(tmp_path / "one", 3)
    other = pd.read_csv(tmp_path / "two" / "scenarios.csv")
    np.testing.assert_allclose(table["demand"], other["demand"])
    assert summary["inputs"]["scenarios"] == {"generated": 3, "seed": 4}


ROLLOUT = """
[rollout]
periods = 2
discount_rate = 0.05
adoption = [0.5, 1.0]
pilot_regions = ["b"]
pilot_periods = 1
"""


@pytest.mark.slow  # a few seconds: in the whole suite only
def test_a_scenario_workbook_is_read_as_the_csv_is(tmp_path):
    """The first sheet of an .xlsx (regions, sites and OD matrices are read from Excel too); a file that
    is not a workbook gets one line."""
    import io

    write_instance(tmp_path)
    pd.read_csv(io.StringIO(GOOD), dtype=str).to_excel(tmp_path / "scenarios.xlsx", index=False)
    result = run_solve(tmp_path, "--scenarios", str(tmp_path / "scenarios.xlsx"))
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(tmp_path / "out" / "scenarios.csv")
    assert table["scenario"].tolist() == ["low", "high"] and table["demand"].tolist() == pytest.approx([150.0, 530.0])
    fake = tmp_path / "fake.xlsx"
    fake.write_text(GOOD, encoding="utf-8")
    assert_clean_failure(run_solve(tmp_path, "--scenarios", str(fake), out=tmp_path / "out2"), tmp_path / "out2",
                         "cannot read the scenario file as an Excel workbook")


@pytest.mark.slow  # a few seconds: in the whole suite only
def test_probabilities_rounded_to_six_decimals_are_accepted_and_scaled(tmp_path):
    """Three scenarios of 0.333333 (the closest six decimals come to thirds) were refused: "sum to
    0.999999, not 1"."""
    text = GOOD.replace("0.25", "0.333333").replace("0.75", "0.333333") + "mid,a,widget,100,0.333333\n"
    write_instance(tmp_path)
    result = run_solve(tmp_path, "--scenarios", str(write_scenarios(tmp_path, text)))
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(tmp_path / "out" / "scenarios.csv")
    assert table.groupby("scenario")["probability"].first().tolist() == pytest.approx([1 / 3] * 3, rel=1e-12)


@pytest.mark.slow
def test_solve_with_periods_and_scenarios(tmp_path):
    from tests.test_bad_input import MODEL

    write_instance(tmp_path, model=MODEL + ROLLOUT)
    result = run_solve(tmp_path, "--periods", "2", "--scenarios", "2", "--seed", "3")
    assert result.exit_code == 0, result.stderr
    assert "rollout     2 periods, 2 scenario(s)" in result.stdout
    out = tmp_path / "out"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    block = summary["rollout"]
    table = pd.read_csv(out / "periods.csv")
    assert set(table["currency"]) == {summary["currency"]}
    best = table[table["strategy"] == "optimum"]
    assert len(best) == 4  # 2 scenarios × 2 periods
    pv = best.groupby("scenario")["present_value"].sum()
    probability = best.groupby("scenario")["probability"].first()
    assert block["expected_cost"] == pytest.approx(float((pv * probability).sum()), rel=1e-9)
    headline = next(line for line in result.stdout.splitlines() if line.startswith("rollout"))
    assert f"present value {block['expected_cost']:,.0f} " in headline  # the present value, not the objective
    # period 1: only the pilot region b has demand, at half the adoption
    first = best[best["period"] == 1]
    assert (first["weight_years"] == 1.0).all()
    assert best[best["period"] == 2]["weight_years"].tolist() == pytest.approx([1 / 1.05] * 2)
    assert (out / "timeline.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "periods_map.png").read_bytes().startswith(b"\x89PNG")
    assert "Staged rollout" in (out / "report.html").read_text(encoding="utf-8")


def test_unknown_pilot_region(tmp_path):
    from tests.test_bad_input import MODEL

    write_instance(tmp_path, model=MODEL + ROLLOUT.replace('["b"]', '["b", "nowhere"]'))
    result = run_solve(tmp_path, "--periods", "2")
    assert_clean_failure(result, tmp_path / "out", "rollout.pilot_regions", "nowhere")


def test_vss_and_evpi_say_when_they_are_not_proven():
    """The value line adds the gaps where RP or a wait-and-see solve stopped short of optimality."""
    from planner.cli.console import _value_gaps

    assert _value_gaps({"status": "optimal", "mip_gap": 0.0, "ws_mip_gap_max": 0.0}) == ""
    assert _value_gaps({"status": "optimal", "mip_gap": None, "ws_mip_gap_max": None}) == ""
    text = _value_gaps({"status": "time_limit", "mip_gap": 0.92838, "ws_mip_gap_max": 0.0})
    assert "not proven: RP time_limit gap 92.838%" in text and "(VSS and EVPI are estimates)" in text
    assert "largest WS gap 1.000%" in _value_gaps({"status": "optimal", "mip_gap": 0.0, "ws_mip_gap_max": 0.01})


def test_periods_other_than_the_adoption_list_name_the_model_file(tmp_path):
    from tests.test_bad_input import MODEL

    write_instance(tmp_path, model=MODEL + ROLLOUT)
    result = run_solve(tmp_path, "--periods", "3")
    assert_clean_failure(result, tmp_path / "out", "key 'rollout.adoption' has 2 numbers for 3 periods", ".toml")


@pytest.mark.parametrize(("addition", "option", "message"), [
    ("\n[network]\nmax_co2_t_per_yr = 1000.0\n", ("--scenarios", "2"),
     "--scenarios and --periods do not support a CO2 cap yet (network.max_co2_t_per_yr = 1000)"),
    ("\n[network]\nmax_co2_t_per_yr = 1000.0\n", ("--periods", "2"),
     "--scenarios and --periods do not support a CO2 cap yet"),
    ("\n[products.widget.service]\nmin_share_within = 0.5\nwithin_km = 100.0\n", ("--periods", "2"),
     "--periods does not support service levels yet (products.widget.service)"),
])
def test_constraints_the_scenario_models_lack_are_refused_up_front(tmp_path, addition, option, message):
    """The scenario and staged models have no CO2-cap row (the staged one no service rows): their
    networks would only fail the audit after the solve; the model is refused in one line instead."""
    from tests.test_bad_input import MODEL

    write_instance(tmp_path, model=MODEL + addition)
    result = run_solve(tmp_path, *option)
    assert_clean_failure(result, tmp_path / "out", message)


def test_a_study_stopped_at_its_limit_is_not_called_optimal(tmp_path):
    """The tables show the study's network evaluated (an LP, ``optimal``); the top-level status is the
    least proven of that and the study's own, and the evaluation's is kept beside it."""
    from planner.export.folder import ExtraOutput, _write_extras, weakest_status

    summary = {"status": "optimal", "mip_gap": 0.0, "best_bound": 100.0, "termination": "Optimal"}
    _write_extras((ExtraOutput(key="stochastic", block={"status": "time_limit", "mip_gap": 0.0099}, files={},
                               section=""),), summary, tmp_path)
    assert summary["status"] == "time_limit" and summary["evaluation_status"] == "optimal"
    # HiGHS's "Optimal" of the evaluation had stood beside the study's time_limit
    assert summary["termination"].startswith("the study (stochastic) ended at time_limit")
    assert summary["evaluation_termination"] == "Optimal"
    # the gap beside the status is the study's (it read "time_limit (gap 0.000%)"), the evaluation's kept
    assert summary["mip_gap"] == 0.0099 and summary["best_bound"] is None
    assert summary["evaluation_mip_gap"] == 0.0 and summary["evaluation_best_bound"] == 100.0
    summary = {"status": "optimal", "mip_gap": 0.0, "best_bound": 100.0}
    _write_extras((ExtraOutput(key="rollout", block={"status": "optimal", "mip_gap": 1e-5}, files={}, section=""),),
                  summary, tmp_path)
    assert summary["status"] == "optimal" and summary["evaluation_status"] == "optimal"
    assert summary["mip_gap"] == 0.0 and summary["best_bound"] == 100.0
    # a rollout's view is a period of its plan, not solved again: no evaluation, the study's status and gap
    summary = {"status": "gap_limit", "mip_gap": None, "best_bound": None, "termination": "period 2 of scenario base"}
    _write_extras((ExtraOutput(key="rollout", block={"status": "gap_limit", "mip_gap": 0.0094}, files={}, section="",
                               evaluated=False),), summary, tmp_path)
    assert summary == {"status": "gap_limit", "mip_gap": 0.0094, "best_bound": None, "rollout": summary["rollout"],
                       "evaluation_status": None, "evaluation_mip_gap": None, "evaluation_best_bound": None,
                       "termination": "period 2 of scenario base"}  # no evaluation: its termination as it was
    assert weakest_status(["gap_limit", "optimal"]) == "gap_limit"
    assert weakest_status(["time_limit", "gap_limit"]) == "time_limit"
    assert weakest_status(["optimal", "infeasible"]) == "infeasible"


def test_the_map_title_of_a_study_gives_the_study_status_not_its_evaluation():
    """The maps of a --scenarios run stopped at its gap limit were titled "optimal, ... gap 0.00%" (the
    status of its network evaluated alone); they take the report's title now."""
    from types import SimpleNamespace

    from planner.export.folder import ExtraOutput, _map_title

    run = SimpleNamespace(
        report=SimpleNamespace(status=SimpleNamespace(value="optimal"), objective=1234.4, mip_gap=0.0,
                               best_bound=1234.4),
        problem=SimpleNamespace(name="japan", currency="JPY", objective_kind="cost"),
        tables=SimpleNamespace(service_levels=lambda problem: []))
    assert _map_title(run) == "japan: optimal, cost 1,234 JPY/yr, gap 0.00%"
    study = ExtraOutput(key="stochastic", block={"status": "gap_limit", "mip_gap": 0.0007}, files={}, section="")
    assert _map_title(run, (study,)) == ("japan: gap_limit (the study's gap 0.07%); its network evaluated: cost "
                                         "1,234 JPY/yr, gap 0.00%")
    period = ExtraOutput(key="rollout", block={"status": "time_limit", "mip_gap": 0.02}, files={}, section="",
                         evaluated=False)
    assert _map_title(run, (period,)) == "japan: time_limit (the study's gap 2.00%); its network: cost 1,234 JPY/yr"


def test_the_report_card_of_a_study_is_the_cost_of_the_network_shown_not_the_objective():
    """A --periods report's card read "total cost 13,012,779 USD/yr, the objective" for the last period's
    network, where the study's objective was a present value of 21,388,442 USD."""
    from planner.export.report import _kpis

    summary = {"currency": "USD", "objective": 13_012_779.0, "costs": {"fixed": 13_012_779.0}, "co2_t": 1.0,
               "demand": {}, "facilities": {}}
    assert "total cost" in _kpis(None, summary) and "the objective, penalty" in _kpis(None, summary)
    page = _kpis(None, {**summary, "evaluation_status": None, "view": "period 2 of the staged plan"})
    assert "total cost" not in page and "the objective" not in page
    assert "cost of the network shown" in page and "the network shown: period 2 of the staged plan" in page


def test_the_report_pairs_each_gap_with_its_own_objective():
    """The top-level objective is the study's network evaluated and, where the study is the less proven,
    the top-level gap the study's: the report had shown "gap_limit, cost 22,663,714, gap 0.41 %" (the
    0.41 % was of the study's 20.94 M)."""
    from planner.export.report import _objective_rows, report_title

    summary = {"status": "gap_limit", "objective": 22_663_714.0, "best_bound": None, "mip_gap": 0.0041,
               "evaluation_status": "optimal", "evaluation_mip_gap": 0.0, "evaluation_best_bound": 22_663_714.0,
               "stochastic": {"objective": 20_940_217.0, "best_bound": 20_855_126.0, "mip_gap": 0.0041}}
    rows = {label: value for label, value in _objective_rows(summary, 0, "USD/yr")}
    assert rows["the study's objective"].startswith("20,940,217") and rows["the study's gap"].startswith("0.41")
    assert rows["its network evaluated: objective"].startswith("22,663,714")
    assert rows["its network evaluated: gap"].startswith("0.000")
    plain = {label: value for label, value in _objective_rows({"objective": 5.0, "mip_gap": 0.0}, 0, "USD/yr")}
    assert list(plain) == ["objective", "best bound", "gap"]
    # --periods leaves the top-level gap empty where the study is the weaker; the title reads its block
    rollout = {**summary, "mip_gap": None, "rollout": {"mip_gap": 0.00836}}
    rollout.pop("stochastic")
    title = report_title("m", rollout, "cost 1 USD/yr")
    assert "the study's gap 0.84%" in title and "its network evaluated: cost 1 USD/yr, gap 0.00%" in title
    sliced = {**rollout, "evaluation_status": None, "evaluation_mip_gap": None, "evaluation_best_bound": None}
    assert report_title("m", sliced, "cost 1 USD/yr").endswith("(the study's gap 0.84%); its network: cost 1 USD/yr")
    assert [label for label, _ in _objective_rows(sliced, 0, "USD/yr")][3:] == [
        "its network (part of the study's solution): cost"]
    # the rollout's objective is a present value over its periods, not per year (it read "149,385,749.43 EUR/yr")
    units = {"objective": "currency: expected present value over the periods + cvar_weight × CVaR"}
    rollout["rollout"].update(objective=149_385_749.43, best_bound=148_000_000.0, units=units)
    rows = dict(_objective_rows({**rollout, "currency": "EUR"}, 2, "EUR/yr"))
    assert rows["the study's objective"] == "149,385,749.43 EUR (present value)"
    assert rows["the study's best bound"].endswith("EUR (present value)")
    assert rows["its network evaluated: objective"].endswith("EUR/yr")


def test_pilot_periods_covering_every_period_are_refused(tmp_path):
    """With as many pilot periods as periods the regions outside the pilot never had demand, and the
    plan served the pilot regions only, without a word."""
    from tests.test_bad_input import MODEL

    write_instance(tmp_path, model=MODEL + ROLLOUT.replace("pilot_periods = 1", "pilot_periods = 2"))
    result = run_solve(tmp_path, "--periods", "2")
    assert_clean_failure(result, tmp_path / "out", "rollout.pilot_periods = 2 covers all 2 periods")


def test_a_staged_plan_that_no_network_can_serve_names_the_cell(tmp_path):
    """The screening of --periods with --scenarios had given the capacity shortfall without the
    (scenario, period) it is in; the same run without --periods names the scenario."""
    from tests.test_bad_input import MODEL, PENALTY_LINE

    write_instance(tmp_path, model=MODEL.replace(PENALTY_LINE, "") + ROLLOUT)  # 2 plants × 2 × 300 units
    path = write_scenarios(tmp_path, GOOD.replace("high,b,widget,300", "high,b,widget,1100"))
    result = run_solve(tmp_path, "--periods", "2", "--scenarios", str(path))
    assert_clean_failure(result, tmp_path / "out", "error: scenario high, period 2 (the cell with the most demand "
                         "that must be served): demand that must be served is 1,330 units/yr", exit_code=1)


def test_a_staged_plan_infeasible_whatever_the_demand_names_no_cell(tmp_path):
    """Three facilities required of two candidate sites: no (scenario, period) cell is the cause."""
    from tests.test_bad_input import MODEL, PENALTY_LINE

    write_instance(tmp_path, model=MODEL.replace(PENALTY_LINE, "") + "\n[network]\nmin_facilities = 3\n" + ROLLOUT)
    result = run_solve(tmp_path, "--periods", "2")
    assert_clean_failure(result, tmp_path / "out", "error: network.min_facilities = 3 exceeds the 2 candidate sites",
                         exit_code=1)


def test_a_seed_beside_a_scenario_file_is_refused(tmp_path):
    """--seed seeds generated scenarios only; beside a file it had been ignored without a word."""
    write_instance(tmp_path)
    result = run_solve(tmp_path, "--scenarios", str(write_scenarios(tmp_path, GOOD)), "--seed", "7")
    assert result.exit_code == 2 and "--seed needs --scenarios N" in result.output
    assert not (tmp_path / "out").exists()


def test_pilot_regions_without_pilot_periods_are_refused(tmp_path):
    """pilot_periods defaults to 0: the test markets named had changed nothing, without a word."""
    from tests.test_bad_input import MODEL

    write_instance(tmp_path, model=MODEL + ROLLOUT.replace("pilot_periods = 1\n", ""))
    result = run_solve(tmp_path, "--periods", "2")
    assert_clean_failure(result, tmp_path / "out", "rollout.pilot_regions names test markets but "
                         "rollout.pilot_periods is 0")


@pytest.mark.slow  # a few seconds: in the whole suite only
def test_a_rollout_table_without_periods_is_named_not_ignored(tmp_path):
    """Without --periods the solve is of one period (as documented); a warning says the table is unread."""
    from tests.test_bad_input import MODEL

    write_instance(tmp_path, model=MODEL + ROLLOUT)
    result = run_solve(tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "[rollout] (2 periods) is read only with --periods" in result.stderr


def test_validate_warns_of_what_solve_periods_would_refuse(tmp_path):
    from click.testing import CliRunner

    from planner.cli import main
    from tests.test_bad_input import MODEL

    write_instance(tmp_path, model=MODEL + ROLLOUT.replace('["b"]', '["b", "nowhere"]'))
    model = next(tmp_path.glob("*.toml"))
    result = CliRunner().invoke(main, ["validate", "--model", str(model)])
    assert result.exit_code == 0, result.output
    # the model file named (the line had not said which file's rollout.pilot_regions)
    assert f"warning     {model}: rollout.pilot_regions: 'nowhere' are not region ids" in result.stdout


def test_a_service_level_one_scenario_cannot_meet_names_the_scenario(tmp_path):
    """Plants only at b and a; 90 % within 1 km is met by 'low' (a and b only) and not by 'high' (d's 80
    of 530 is beyond reach: 84.9 %). The explained error named no scenario."""
    from tests.test_bad_input import MODEL, PENALTY_LINE

    model = MODEL.replace(PENALTY_LINE, PENALTY_LINE + "service = { min_share_within = 0.9, within_km = 1 }\n")
    write_instance(tmp_path, model=model)
    result = run_solve(tmp_path, "--scenarios", str(write_scenarios(tmp_path, GOOD)))
    line = assert_clean_failure(result, tmp_path / "out", exit_code=1)
    assert line.startswith("error: scenario high: product 'widget': the service level asks 90.0% of its demand "
                           "within 1 km, but only 84.9% of it has any candidate site that near")


def test_a_scenario_no_network_can_serve_is_named(tmp_path):
    from tests.test_bad_input import MODEL

    write_instance(tmp_path, model=MODEL.replace("unmet_penalty_per_unit = 1000.0     # USD/unit\n", ""))
    text = GOOD.replace("high,b,widget,300", "high,b,widget,3000")
    result = run_solve(tmp_path, "--scenarios", str(write_scenarios(tmp_path, text)))
    assert_clean_failure(result, tmp_path / "out", "scenario 'high' (the one with the most demand that must be "
                         "served)", "can make at most 1,200", exit_code=1)


def test_the_per_product_capacity_check_counts_only_the_makers():
    import dataclasses

    from planner.errors import InfeasibleError
    from planner.inputs.screen import check_capacity
    from tests.builders import dense_problem

    # two products on one site pair: the plant (capacity 50) makes both, the micro (capacity 10) only 'custom'
    problem = dense_problem([30, 30], [1.0, 1.0], [50.0, 10.0], [[1.0, 1.0], [1.0, 1.0]])
    assert problem.n_arcs == 4
    per_product = {name: np.repeat(getattr(problem, name), 2) for name in (
        "unmet_penalty", "max_distance_km", "max_unmet", "service_share", "service_km", "service_minutes")}
    two = dataclasses.replace(
        problem, product_ids=("standard", "custom"), demand=np.array([[0.0, 30.0], [30.0, 0.0]]),
        setup_cost=np.zeros((2, 2)), arc_product=np.array([1, 0, 1, 1]), **per_product)
    check_capacity(two)  # 60 ≤ 60 in all, custom 30 ≤ 60
    custom_only_micro = dataclasses.replace(two, arc_product=np.array([0, 0, 1, 1]), arc_region=np.array([1, 1, 0, 0]))
    with pytest.raises(InfeasibleError, match="product 'custom': .* 30 units/yr but the 1 sites .* at most 10"):
        check_capacity(custom_only_micro)


@pytest.mark.slow  # in the whole suite only: the fast subset measured 193.6 s on a slow day
def test_must_serve_demand_missing_from_some_scenarios_solves_without_warnings(tmp_path, recwarn):
    from tests.test_bad_input import MODEL

    write_instance(tmp_path, model=MODEL.replace("unmet_penalty_per_unit = 1000.0     # USD/unit\n", ""))
    result = run_solve(tmp_path, "--scenarios", str(write_scenarios(tmp_path, GOOD)))  # 'low' has no rows c, d
    assert result.exit_code == 0, result.stderr
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    assert "RuntimeWarning" not in result.stderr


@pytest.mark.parametrize("text", ["-1", "1.5", "2e3"])
def test_a_number_that_is_no_count_of_scenarios_is_not_a_missing_file(text):
    """'--scenarios -1' had said 'scenario file not found'."""
    from planner.studies.stochastic.pipeline import parse_scenarios_option

    with pytest.raises(InputError, match=f"^--scenarios {re.escape(text)}: give a whole number of scenarios"):
        parse_scenarios_option(text)


def test_the_periods_maps_share_one_scale_in_rows_of_two(monkeypatch):
    """Each period's map had its own symbol scale (a site of 40,000 units/yr in period 1 drawn as large as
    one of 60,000 in period 2, under legends of other sizes), all periods in one row."""
    from planner.export import layers as layers_module
    from planner.export import static_map
    from planner.export.charts import new_figure
    from planner.export.rollout_report import small_multiples_png

    calls = []

    def figure(regions, sites, flows, type_ids, title, alike=None):
        calls.append((sites, [other for other, _ in alike]))
        fig, ax = new_figure(3, 2)
        ax.set_axis_off()
        return fig

    monkeypatch.setattr(layers_module, "region_layer", lambda run, inputs: f"regions {run}")
    monkeypatch.setattr(layers_module, "site_layer", lambda run: f"sites {run}")
    monkeypatch.setattr(layers_module, "flow_layer", lambda run: f"flows {run}")
    monkeypatch.setattr(static_map, "build_map_figure", figure)
    png = small_multiples_png([1, 2, 3], None, ["plant"], ["period 1", "period 2", "period 3"])
    assert calls == [("sites 1", ["sites 2", "sites 3"]), ("sites 2", ["sites 1", "sites 3"]),
                     ("sites 3", ["sites 1", "sites 2"])]
    from io import BytesIO

    from matplotlib.image import imread

    height, width = imread(BytesIO(png)).shape[:2]
    assert height > 0.5 * width  # two rows of two 3 × 2 maps (about 2:3), not one row of three (about 2:9)


def test_rows_of_regions_select_leaves_out_are_not_used_and_a_typo_is_still_named_by_its_row(tmp_path):
    """A scenario file for every region with --select state=X (a and b): the rows of c and d were refused as
    "ids not in the regions data ... (after --select)"; they are left out, as an OD matrix's are, while an id
    of no region at all is still refused with its row in the file."""
    import json

    write_instance(tmp_path)
    result = run_solve(tmp_path, "--select", "state=X", "--scenarios", str(write_scenarios(tmp_path, GOOD)))
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["demand"]["widget"]["demand"] == pytest.approx(0.25 * 150 + 0.75 * 450)  # a and b only
    typo = GOOD.replace("high,d,", "high,zz,")
    result = run_solve(tmp_path, "--select", "state=X", "--scenarios", str(write_scenarios(tmp_path, typo)),
                       out=tmp_path / "out2")
    assert_clean_failure(result, tmp_path / "out2", "'region' has ids not in the regions data in rows 5", "'zz'")


def test_validate_checks_a_scenario_file_as_solve_reads_it(tmp_path):
    """validate had no --scenarios: a scenario file's wrong ids showed only when solve ran."""
    from click.testing import CliRunner

    from planner.cli import main

    model = write_instance(tmp_path)
    good = write_scenarios(tmp_path, GOOD)
    result = CliRunner().invoke(main, ["validate", "--model", str(model), "--scenarios", str(good)])
    assert result.exit_code == 0, result.output
    assert f"scenarios   2 from {good}\n" in result.stdout
    bad = write_scenarios(tmp_path, GOOD.replace("high,d,", "high,zz,"))
    result = CliRunner().invoke(main, ["validate", "--model", str(model), "--scenarios", str(bad)])
    assert result.exit_code == 2
    assert "'region' has ids not in the regions data in rows 5" in result.stderr
    result = CliRunner().invoke(main, ["validate", "--model", str(model), "--scenarios", "5"])
    assert result.exit_code == 2 and "validate checks a scenario file; give its path" in result.stderr
    result = CliRunner().invoke(main, ["validate", "--model", str(model), "--scenarios", str(tmp_path / "no.csv")])
    assert result.exit_code == 2 and "scenario file not found; give the path of a scenario CSV" in result.stderr


def test_a_scenario_of_only_left_out_regions_keeps_its_probability_and_rows_are_the_files(tmp_path):
    """With --select state=X (a and b), a scenario naming only c and d had vanished, and the probabilities of the
    rest were refused as summing to 0.75; a probability that differs is named by its row in the file (it had been
    counted among the rows left after --select)."""
    import json

    write_instance(tmp_path)
    only_y = "scenario,region,product,demand,probability\nlow,a,widget,50,0.5\nlow,b,widget,100,0.5\n" \
             "high,c,widget,150,0.25\nhigh,d,widget,300,0.25\nmid,c,widget,1,0.25\n"
    result = run_solve(tmp_path, "--select", "state=X", "--scenarios", str(write_scenarios(tmp_path, only_y)))
    assert result.exit_code == 0, result.output
    stochastic = json.loads((tmp_path / "out" / "summary.json").read_text())["stochastic"]
    assert stochastic["scenarios"] == 3
    differing = GOOD.replace("high,d,widget,80,0.75", "high,d,widget,80,0.5")
    result = run_solve(tmp_path, "--select", "state=Y", "--scenarios", str(write_scenarios(tmp_path, differing)),
                       out=tmp_path / "out2")
    assert_clean_failure(result, tmp_path / "out2", "differs within scenario 'high'", "row 5 has 0.5")


def test_validate_with_scenarios_refuses_what_solve_with_them_refuses_before_solving(tmp_path):
    """validate --scenarios said "ok" to a CO2 cap and a classic kind (which solve --scenarios refuses at once)
    and to a scenario whose demand no network can serve (refused by solve's screen)."""
    from click.testing import CliRunner

    from planner.cli import main

    good = write_scenarios(tmp_path, GOOD)
    for extra, exit_code, fragment in (
        ("[network]\nmax_co2_t_per_yr = 100.0\n", 2, "do not support a CO2 cap yet"),
        ('[objective]\nkind = "p_median"\np = 1\n', 2, "works on the cost model"),
    ):
        model = write_instance(tmp_path, model=MODEL + extra)
        result = CliRunner().invoke(main, ["validate", "--model", str(model), "--scenarios", str(good)])
        assert result.exit_code == exit_code and fragment in result.stderr, result.output
    model = write_instance(tmp_path, model=MODEL.replace(PENALTY_LINE, ""))
    heavy = write_scenarios(tmp_path, GOOD.replace("high,b,widget,300", "high,b,widget,1300"))  # beyond 1,200
    result = CliRunner().invoke(main, ["validate", "--model", str(model), "--scenarios", str(heavy)])
    solved = CliRunner().invoke(main, ["solve", "--model", str(model), "--scenarios", str(heavy),
                                       "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == solved.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == solved.stderr.strip().splitlines()[-1]


def test_validate_warns_of_what_solve_periods_refuses_in_a_rollout_model(tmp_path):
    from click.testing import CliRunner

    from planner.cli import main

    service = PENALTY_LINE + "service = { min_share_within = 0.5, within_km = 50 }\n"
    model = write_instance(tmp_path, model=MODEL.replace(PENALTY_LINE, service) + "[rollout]\nperiods = 2\n")
    result = CliRunner().invoke(main, ["validate", "--model", str(model)])
    assert result.exit_code == 0 and "--periods does not support service levels yet" in result.stdout, result.output


def test_scenario_region_ids_that_lost_their_leading_zeros_are_named_with_the_ids_meant(tmp_path):
    """A scenario file saved from Excel has '1001' for the region '01001': it was refused as an id not in the
    regions data with no word of the zeros; it names the ids meant, with the same hint as an OD matrix's."""
    from planner.inputs.prepare import _unknown_od_ids
    from planner.inputs.scenarios import read_scenarios

    regions = ["01001", "01003", "02134", "001005", "01005"]
    path = write_scenarios(tmp_path, "scenario,region,product,demand,probability\n"
                                     "low,1001,widget,5,0.5\nlow,01003,widget,5,0.5\nhigh,1003,widget,7,0.5\n"
                                     "high,2134,widget,7,0.5\nhigh,1005,widget,7,0.5\nhigh,zz,widget,7,0.5\n")
    hint = ("; 3 of them look like region ids without their leading zeros ('1001' for '01001', '1003' for '01003', "
            "'2134' for '02134'), as Excel writes codes: write them as the ids they name are written "
            "(as text in Excel)")
    with pytest.raises(InputError) as error:
        read_scenarios(path, regions, ["widget"])
    assert str(error.value) == (f"{path}: column 'region' has ids not in the regions data in rows 1, 3, 4, 5, 6 "
                                f"(e.g. '1001'){hint}; use the regions' id column (after --select)")
    od = pd.DataFrame({"from": ["01001"] * 3, "to": ["1001", "1003", "2134"]})
    table = pd.DataFrame({"region_id": regions, "region_name": regions})
    assert hint in _unknown_od_ids(od, np.array(["01001"]), table)
    clean = write_scenarios(tmp_path, "scenario,region,product,demand,probability\nlow,zz,widget,5,1\n")
    with pytest.raises(InputError, match=r"\(e\.g\. 'zz'\); use the regions' id column"):
        read_scenarios(clean, regions, ["widget"])


def test_validate_estimates_the_memory_of_the_scenarios_extensive_form(tmp_path, monkeypatch):
    """validate --scenarios FILE printed the plain solve's estimate (0.5 GB + 450 bytes per arc): 200 scenarios
    of 4,478 arcs were estimated 502 MB and the solve peaked at 1.6 GB."""
    from click.testing import CliRunner

    from planner.cli import main
    from planner.inputs.prepare import memory_line

    monkeypatch.setattr("planner.inputs.prepare.available_memory", lambda: 8e9)
    monkeypatch.setattr("planner.studies.stochastic.pipeline.SCENARIO_ARC_COPY_BYTES", 1e7)
    model = write_instance(tmp_path)
    good = write_scenarios(tmp_path, GOOD)
    result = CliRunner().invoke(main, ["validate", "--model", str(model), "--scenarios", str(good)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    sizes = next(line for line in lines if line.startswith("arcs")).replace(",", "").replace(")", "").split()
    arcs, pairs = int(sizes[1]), int(sizes[-1])
    assert f"memory      {memory_line(arcs, 2, 1e7, n_pairs=pairs)}" in lines
    assert memory_line(arcs, 2, 1e7) != memory_line(arcs)


def test_the_memory_estimate_counts_the_demand_pairs(monkeypatch):
    """60,000 demand points of one product had peaked at 1.84 GB against an estimate of 0.98 GB from the arcs
    alone (the presolve's flow LPs hold rows per pair): each pair adds PAIR_BYTES."""
    from planner.inputs.prepare import PAIR_BYTES, memory_line, solve_memory_estimate

    monkeypatch.setattr("planner.inputs.prepare.available_memory", lambda: None)
    assert solve_memory_estimate(1_057_711, 60_000) - solve_memory_estimate(1_057_711) == 60_000 * PAIR_BYTES
    assert solve_memory_estimate(1_057_711, 60_000) >= 1.84e9
    assert memory_line(100, n_pairs=60_000) == "about 1.4 GB at the solve's peak (estimate)"


def test_scenario_demand_in_the_demand_columns_unit_is_a_warning(tmp_path, caplog):
    """A scenario file of persons (100× the units/yr at a demand rate of 0.01) had been solved as it was; demand
    within a factor of 10 of the regions' is not warned about."""
    from planner.inputs.scenarios import read_scenarios

    base = np.array([[1.0], [2.0]])  # units/yr: 0.01 × 100 and 200 persons
    path = write_scenarios(tmp_path, "scenario,region,product,demand,probability\n"
                                     "low,a,widget,80,0.5\nlow,b,widget,160,0.5\nhigh,a,widget,120,0.5\n"
                                     "high,b,widget,240,0.5\n")
    with caplog.at_level("WARNING", logger="planner"):
        read_scenarios(path, np.array(["a", "b"], dtype=object), ("widget",), base)
    assert (f"{path}: product 'widget': the scenarios' expected demand (300 units/yr) is 100× the regions' (3 "
            "units/yr, its demand_rate × the demand column); the file's demand is in units/yr of the product: is it in "
            "another unit, such as the demand column's?") in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="planner"):
        read_scenarios(path, np.array(["a", "b"], dtype=object), ("widget",), base * 50)
    assert "expected demand" not in caplog.text


def test_scenario_regions_given_by_their_names_say_so(tmp_path):
    """A scenario file naming 'München' for the region '001' had been told only that its ids are unknown."""
    from planner.inputs.scenarios import read_scenarios

    path = write_scenarios(tmp_path, "scenario,region,product,demand,probability\ns1,München,widget,5,1\n"
                                     "s1,002,widget,5,1\n")
    with pytest.raises(InputError) as caught:
        read_scenarios(path, np.array(["001", "002"], dtype=object), ("widget",), None, frozenset(),
                       np.array(["München", "Zürich"], dtype=object))
    assert str(caught.value) == (f"{path}: column 'region' has ids not in the regions data in rows 1 (e.g. "
                                 "'München'); 1 of them are region names, not ids ('München' for '001'); use the "
                                 "regions' id column (after --select)")


def test_a_strategy_line_names_a_plan_not_proven_optimal(capsys):
    """A rollout's central_now stopped at its limit with a 17 % gap had printed its expected cost as the proven
    strategies' were, its status and gap only in summary.json."""
    from planner.cli.console import _print_strategy

    figures = {"expected_cost": 380552386.5, "cvar": 380552386.5, "worst_case": 380552386.5}
    _print_strategy("central_now", {**figures, "status": "time_limit", "mip_gap": 0.17183}, " (period 1: x 1)", " USD")
    _print_strategy("optimum", {**figures, "status": "optimal", "mip_gap": 0.0}, unit=" USD/yr")
    stopped, proven = capsys.readouterr().out.splitlines()
    assert stopped.startswith("strategy    central_now (time_limit, gap 17.18%): expected 380,552,386,")
    assert stopped.endswith(" USD (period 1: x 1)")
    assert proven.startswith("strategy    optimum: expected") and proven.endswith("USD/yr")


def test_the_sweep_line_counts_the_scenarios_stopped_at_their_time_limit():
    """A sweep whose scenarios stopped at their limit had printed 'solved 3' alone, as if all were proven."""
    import pandas as pd

    from planner.cli.console import stopped_text

    rows = pd.DataFrame({"status": ["optimal", "time_limit", "time_limit", "failed"],
                         "mip_gap": [0.0, 0.0123, 0.031, None]})
    assert stopped_text(rows) == "; 2 stopped at the time limit (not proven, gap up to 3.10%: status in sweep.csv)"
    assert stopped_text(rows.iloc[[0, 3]]) == ""
    # a scenario stopped at another limit (a network re-solved under the capex budget) is not proven either
    assert stopped_text(rows.assign(status=["optimal", "limit", "time_limit", "infeasible"])).startswith(
        "; 2 stopped at a limit (not proven")


def _study_summary(**changes) -> dict:
    """summary.json of a --scenarios run whose study stopped at its time limit (the top-level bound then empty:
    the study's status is the weaker) and whose network evaluated is exact."""
    summary = {"currency": "USD", "status": "time_limit", "objective": 277.0, "best_bound": None, "mip_gap": 0.012,
               "evaluation_status": "optimal", "evaluation_mip_gap": 0.0, "evaluation_best_bound": 277.0,
               "stochastic": {"status": "time_limit", "mip_gap": 0.012, "best_bound": 262.0, "objective": 265.7},
               "costs": {"fixed": 200.0, "production": 77.0}, "co2_t": 0.5, "facilities": {"central": 2},
               "demand": {}, "timing": {"solve": 1.0}, "audit": {"passed": True, "max_violation": 0.0,
                                                                 "objective_relative_difference": 0.0}}
    summary.update(changes)
    return summary


def test_the_objective_line_of_a_study_gives_the_bound_summary_json_has_not_n_a(capsys, tmp_path):
    """The fixed network's evaluation has a bound (evaluation_best_bound, its cost being exact): the console had
    printed "best bound n/a" where the study stopped at its limit; a period of a rollout's plan has none of its
    own, which is said, with the study's bound beside."""
    from planner.cli.console import print_summary

    print_summary(_study_summary(), tmp_path)
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("objective"))
    assert line == ("objective   277 USD/yr (best bound 277, the network fixed and evaluated; the study's best "
                    "bound 262 USD/yr)")
    rollout = {"status": "time_limit", "mip_gap": 0.012, "best_bound": 590.0, "objective": 595.0}
    print_summary(_study_summary(stochastic=None, rollout=rollout, evaluation_status=None, evaluation_mip_gap=None,
                                  evaluation_best_bound=None, view="period 1"), tmp_path)
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("objective"))
    assert line == ("objective   277 USD/yr (no bound of its own: a period of the study's plan, not solved alone; "
                    "the study's best bound 590 USD, a present value)")
    plain = {key: value for key, value in _study_summary(best_bound=270.0).items()
             if not key.startswith(("evaluation_", "stochastic"))}  # a plain solve: its own bound, as before
    print_summary({**plain, "mip_gap_tolerance": 0.01}, tmp_path)
    assert "(best bound 270)" in capsys.readouterr().out
