"""`planner compare`: variants by role, the value of decentralisation on hand-derived cases, the
where-microfactories-win table and the breakeven sweep.

Two regions of demand 10 at longitudes 0 and 10 (1,111.95 km apart), transport 0.01 per unit-km,
production 1 per unit everywhere. A central plant opens for 100, a microfactory for ``micro_open``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.errors import InputError
from planner.inputs.prepare import DataOptions
from planner.solver.outcome import SolverOptions
from planner.studies.compare import Sweep, compare, standard_variants
from tests.builders import KM_PER_DEGREE, equator_regions, tiny_config

EXACT = SolverOptions(mip_gap=1e-9)


def two_role_config(tmp_path, micro_open: float):
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 10.0], [10, 10])
    production = {"standard": {"cost_per_unit": 1.0}}
    return tiny_config(
        regions,
        facility_types={
            "central": {"role": "central", "opening_cost_per_yr": 100.0, "products": production},
            "micro": {"role": "microfactory", "opening_cost_per_yr": micro_open, "products": production},
        },
    )


def test_central_only_optimal_gives_zero_value(tmp_path):
    """Micro at 300: central-only = two centrals 200 + 20 = 220 = hybrid, so the value is 0."""
    result = compare(standard_variants(two_role_config(tmp_path, 300.0)), DataOptions(), EXACT)
    costs = result.rows.set_index("variant")["objective"]
    assert costs["central_only"] == pytest.approx(220.0)
    assert costs["micro_only"] == pytest.approx(min(600 + 20, 300 + 20 + 10 * 0.01 * 10 * KM_PER_DEGREE))
    assert costs["hybrid"] == pytest.approx(220.0)
    assert result.value["absolute"] == pytest.approx(0.0, abs=1e-6)
    assert result.decision["winner"] == "hybrid" and result.decision["network"] == "central_only"  # as sensitivity


def test_cheap_microfactories_have_positive_value(tmp_path):
    """Micro at 50: two micros 100 + 20 = 120 against central-only 220: value 100 = 45.45 %."""
    result = compare(standard_variants(two_role_config(tmp_path, 50.0)), DataOptions(), EXACT)
    assert result.value["absolute"] == pytest.approx(100.0)
    assert result.value["percent"] == pytest.approx(100 * 100 / 220)
    # fully loaded: micro-only 120 / 20 units = 6 per unit, central-only 220 / 20 = 11: advantage 5
    wins = result.regions.set_index("region_id")["micro_advantage"]
    assert wins.tolist() == pytest.approx([5.0, 5.0])


def test_each_variant_is_solved_inside_its_study_part(tmp_path, monkeypatch):
    """What a variant's solve logs is marked with the variant (the command prints a warning once, so one
    that only a later variant raises must say which)."""
    import planner.studies.compare as compare_module
    from planner.logs import current_study_part

    seen = []
    real_plan = compare_module.plan

    def recording_plan(*args, **kwargs):
        seen.append(current_study_part())
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(compare_module, "plan", recording_plan)
    compare(standard_variants(two_role_config(tmp_path, 300.0)), DataOptions(), EXACT)
    assert seen[:3] == ["variant central_only", "variant micro_only", "variant hybrid"]
    assert current_study_part() is None


def test_variants_need_roles(tmp_path):
    regions = equator_regions(tmp_path / "r.geojson", [0.0], [10])
    with pytest.raises(InputError, match="role"):
        standard_variants(tiny_config(regions))


def test_sweep_parses_and_flips_the_network(tmp_path):
    """Sweeping the micro opening cost from 50 to 300 moves the network from micros to centrals."""
    config = two_role_config(tmp_path, 50.0)
    sweep = Sweep.parse("facility_types.micro.opening_cost_per_yr=50:300:2")
    result = compare({"hybrid": config}, DataOptions(), EXACT, sweep)
    table = result.sweep.set_index("facility_types.micro.opening_cost_per_yr")
    assert table.loc[50.0, "n_microfactory"] == 2 and table.loc[50.0, "n_central"] == 0
    assert table.loc[300.0, "n_microfactory"] == 0 and table.loc[300.0, "n_central"] == 2


@pytest.mark.parametrize("text", ["x=1:2", "x=a:b:3", "x=1:2:1", "nokey", "x=1_0:20:3", "x=1:2:1_0"])
def test_bad_sweep_is_an_input_error(text):
    with pytest.raises(InputError, match="KEY=START:STOP:N"):
        Sweep.parse(text)


@pytest.mark.parametrize(("text", "message"), [
    ("carbon_price=inf:1:2", "--sweep 'carbon_price=inf:1:2': START 'inf' is not a finite number"),
    ("carbon_price=0:-inf:2", "--sweep 'carbon_price=0:-inf:2': STOP '-inf' is not a finite number"),
    ("carbon_price=nan:1:2", "START 'nan' is not a finite number"),
    ("carbon_price=1e400:1:2", "START '1e400' is not a finite number"),
    ("carbon_price=0:1:1001", "N = 1,001 values is more than the 1,000 a breakeven sweep solves"),
    ("carbon_price=5:5:3", "START and STOP are both 5, so every value is the same"),
])
def test_a_non_finite_or_huge_sweep_names_what_was_typed(text, message):
    with pytest.raises(InputError) as caught:
        Sweep.parse(text)
    assert message in str(caught.value) and "(got nan)" not in str(caught.value)


def two_role_model_file(tmp_path):
    """The model of :func:`two_role_config` (microfactory opening cost 50) as a TOML file."""
    config = two_role_config(tmp_path, 50.0)
    model = tmp_path / "model.toml"
    lines = [
        'name = "two"', "carbon_price = 0.0",
        "[regions]", f'path = "{config.regions.path}"', 'id_column = "GEOID"', 'demand_column = "pop"',
        'name_column = "NAME"', "[distance]", "circuity = 1.0",
        "[products.standard]", "unmet_penalty_per_unit = 1000.0",
        "[transport.standard]", "cost_per_unit_km = 0.01",
        "[facility_types.central]", 'role = "central"', "opening_cost_per_yr = 100.0",
        "[facility_types.central.products.standard]", "cost_per_unit = 1.0",
        "[facility_types.micro]", 'role = "microfactory"', "opening_cost_per_yr = 50.0",
        "[facility_types.micro.products.standard]", "cost_per_unit = 1.0",
    ]
    model.write_text("\n".join(lines) + "\n")
    return model


@pytest.mark.slow  # a whole CLI run (2-4 s): in the full suite only
def test_compare_command_writes_csv_and_html(tmp_path):
    model = two_role_model_file(tmp_path)
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        main, ["compare", "--model", str(model), "--out", str(out), "--quiet", "--mip-gap", "0",
               "--sweep", "facility_types.micro.opening_cost_per_yr=50:300:2"],
    )
    assert result.exit_code == 0, result.output
    assert "value of decentralisation: 100 USD/yr (45.45%)" in result.output
    rows = pd.read_csv(out / "compare.csv")
    assert list(rows["variant"]) == ["central_only", "micro_only", "hybrid"] and set(rows["currency"]) == {"USD"}
    assert json.loads((out / "value.json").read_text())["value_of_decentralisation"]["absolute"] == pytest.approx(100)
    page = (out / "compare.html").read_text()
    assert "Value of decentralisation" in page and "data:image/png;base64" in page
    answer = ("Micro-only network (2 microfactories) wins: 100 USD/yr cheaper than the best central-only network "
              "(proven)")
    assert answer in page
    text = re.sub(r"data:image/png;base64,[^'\"]*", "", page)
    assert not re.search(r"\de[+-]?\d", text) and not re.search(r"\bnan\b", text, re.IGNORECASE)
    assert "objective (USD/yr)" in text and "–" in text  # units and currency in the headers; missing counts
    assert (out / "sweep.csv").exists() and (out / "breakeven.png").exists()
    assert set(pd.read_csv(out / "sweep.csv")["currency"]) == {"USD"}  # of every cost column, as compare.csv


def test_proven_value_uses_the_central_bound():
    """value = central objective − hybrid objective; proven = central bound − hybrid objective."""
    from planner.studies.compare import value_of_decentralisation

    rows = pd.DataFrame(
        {"variant": ["central_only", "micro_only", "hybrid"], "objective": [110.0, 130.0, 90.0],
         "best_bound": [100.0, 120.0, 89.0]}
    )
    value = value_of_decentralisation(rows)
    assert value["absolute"] == pytest.approx(20.0) and value["percent"] == pytest.approx(100 * 20 / 110)
    assert value["proven_at_least"] == pytest.approx(10.0)


def test_the_same_network_costed_twice_has_no_value_not_a_negative_zero():
    """Hybrid and central-only open the same network; their costs differ in the last bits: the value is
    0 (printed "0", not "-0"), while a real difference of one unit in 10^8 is kept."""
    from planner.studies.compare import value_of_decentralisation

    cost = 109_846_946.4
    same = value_of_decentralisation(interval_rows([cost, 2 * cost, cost * (1 + 1e-15)], [cost, 2 * cost, cost]))
    assert same["absolute"] == 0.0 and same["percent"] == 0.0
    assert str(same["absolute"]) == "0.0"  # not -0.0
    apart = value_of_decentralisation(interval_rows([cost, 2 * cost, cost - 1.0], [cost, 2 * cost, cost - 1.0]))
    assert apart["absolute"] == pytest.approx(1.0)


@pytest.mark.slow
def test_compare_with_scenarios_adds_the_stochastic_analysis(tmp_path):
    """With --scenarios the comparison also plans the hybrid model under uncertainty: strategy costs,
    VSS ≥ 0 and EVPI ≥ 0 (solved exactly), scenarios.csv and the value.json block."""
    from planner.export.compare_report import write_comparison

    config = two_role_config(tmp_path, 50.0)
    comparison = compare(standard_variants(config), DataOptions(), EXACT, scenarios=4, seed=3)
    block = comparison.stochastic.analysis.summary()
    assert block["scenarios"] == 4
    assert {"central_only", "micro_only", "hybrid", "stochastic"} <= set(block["strategies"])
    assert comparison.stochastic.analysis.vss >= -1e-6 and comparison.stochastic.analysis.evpi >= -1e-6
    headline = write_comparison(comparison, tmp_path / "cmp")
    assert headline["stochastic"]["scenarios"] == 4
    assert len(pd.read_csv(tmp_path / "cmp" / "scenarios.csv")) >= 4
    assert "VSS" in (tmp_path / "cmp" / "compare.html").read_text()


def interval_rows(objective, bound):
    return pd.DataFrame({"variant": ["central_only", "micro_only", "hybrid"], "objective": objective,
                         "best_bound": bound})


def test_proven_interval_decides_when_it_excludes_zero():
    """Hybrid H = 90, h = 85; central C = 110, c = 100; micro 130, 120: saving over central-only in
    [c − H, C − h] = [10, 25], over micro-only [120 − 90, 130 − 85] = [30, 45]: hybrid wins, decided."""
    from planner.export.compare_report import decision_sentence
    from planner.studies.compare import decide, value_of_decentralisation

    rows = interval_rows([110.0, 130.0, 90.0], [100.0, 120.0, 85.0])
    assert value_of_decentralisation(rows)["proven_interval"] == {"at_least": 10.0, "at_most": 25.0}
    decision = decide(rows)
    assert decision["winner"] == "hybrid" and decision["decided"]
    assert [(s["against"], s["at_least"], s["at_most"]) for s in decision["savings"]] == [
        ("central_only", 10.0, 25.0), ("micro_only", 30.0, 45.0)]
    sentence = decision_sentence({**decision, "facilities": {"central": 1, "microfactory": 16, "other": 0}}, "USD")
    assert sentence == ("Hybrid network (1 central plant + 16 microfactories) wins: 10–25 USD/yr cheaper than the "
                        "best central-only network (proven), 30–45 USD/yr cheaper than microfactories only.")


def test_overlapping_interval_is_not_decided():
    """Hybrid H = 100, h = 80; central C = 105, c = 95: saving in [95 − 100, 105 − 80] = [−5, 25], which
    holds zero: the winner is not decided at this gap."""
    from planner.export.compare_report import decision_sentence
    from planner.studies.compare import decide, value_of_decentralisation

    rows = interval_rows([105.0, 300.0, 100.0], [95.0, 290.0, 80.0])
    assert value_of_decentralisation(rows)["proven_interval"] == {"at_least": -5.0, "at_most": 25.0}
    decision = decide(rows)
    assert decision["winner"] == "hybrid" and not decision["decided"]
    sentence = decision_sentence(decision, "USD")
    assert sentence.startswith("Not decided at this gap: the hybrid network has the lowest cost found")
    assert "−5 to 25 USD/yr cheaper than the best central-only network" in sentence


def test_interval_in_millions_and_without_bounds():
    from planner.export.compare_report import money_range, number_text
    from planner.studies.compare import decide

    assert money_range(18_234_000.0, 23_100_000.0, "USD") == "18.2–23.1 M USD/yr"
    assert money_range(1_234.0, 5_678.0, "EUR") == "1,234–5,678 EUR/yr"
    assert money_range(3.55414025e13, 3.55414026e13, "KRW") == "35,541.4 bn KRW/yr"  # had read 35,541,402.5 M
    assert money_range(1.7736, 1.7736, "kEUR") == "1.774 kEUR/yr"  # a saving of 1.77 kEUR had read 2, 0.0018 read 0
    assert money_range(0.0018, 0.0019, "kEUR") == "0.0018–0.0019 kEUR/yr"
    assert money_range(-0.5, 2.3, "EUR") == "−0.5 to 2.3 EUR/yr"
    assert money_range(-1e-5, 1e-5, "X") == "−0.00001 to 0.00001 X/yr"  # never in scientific notation
    from planner.export.compare_report import figure_text

    # a carbon price of 0.08 had read 0.1, a CO2 of 0.0043 t 0.0, a total cost of 30.18 read 30
    assert [figure_text(0.08), figure_text(0.004344), figure_text(30.18, 0), figure_text(62.6298)] == \
        ["0.08", "0.004344", "30.18", "62.6"]
    assert [figure_text(99.54, 0), figure_text(99.96, 1), figure_text(150.4)] == ["99.54", "99.96", "150"]  # not 100
    assert number_text(3.444e8, "currency/yr") == "344,400,000" and number_text(float("nan")) == "–"
    assert number_text(0.0144, "fraction") == "1.44 %"
    assert number_text(62.6298, "km") == "62.6" and number_text(187.2, "km") == "187"  # km as the service table
    rows = interval_rows([110.0, 130.0, 90.0], [float("nan"), 120.0, 85.0])
    decision = decide(rows)
    assert decision["savings"][0]["at_least"] is None and not decision["decided"]


def test_equal_costs_are_a_proven_tie_won_by_the_hybrid():
    """Micro-only and hybrid both 120 with bound 120 (the hybrid opens only microfactories): the hybrid
    wins, its saving over micro-only is [0, 0], a proven tie, so the decision stands."""
    from planner.export.compare_report import decision_sentence
    from planner.studies.compare import decide

    decision = decide(interval_rows([220.0, 120.0, 120.0], [220.0, 120.0, 120.0]))
    assert decision["winner"] == "hybrid" and decision["decided"]
    assert [s["tie"] for s in decision["savings"]] == [False, True]
    assert decision_sentence(decision, "USD") == (
        "Hybrid network wins: 100 USD/yr cheaper than the best central-only network (proven), the same cost "
        "as microfactories only (proven).")


def test_the_same_network_at_a_gap_is_said_to_be_the_same_not_undecided():
    """Hybrid and micro-only both found 120 with bound 119.988 (a 1e-4 gap): the saving over micro-only is
    [−0.012, 0.012], wider than the tie tolerance (1.2e-4), so on costs alone the winner is open; but both
    opened the same microfactories, so they are one network and the decision stands."""
    from planner.export.compare_report import decision_sentence
    from planner.studies.compare import decide

    rows = interval_rows([220.0, 120.0, 120.0], [220.0, 119.988, 119.988])
    assert not decide(rows)["decided"]
    micro = frozenset({("A", "micro"), ("B", "micro")})
    networks = {"central_only": frozenset({("A", "central")}), "micro_only": micro, "hybrid": micro}
    decision = decide(rows, networks)
    assert decision["decided"] and [s["same_network"] for s in decision["savings"]] == [False, True]
    assert decision_sentence(decision, "USD") == (
        "Hybrid network wins: 100 USD/yr cheaper than the best central-only network (proven), the same network "
        "as microfactories only (the same sites and types).")
    other = {**networks, "micro_only": frozenset({("A", "micro")})}
    assert not decide(rows, other)["decided"]


def test_a_proven_saving_over_the_same_network_is_said_and_the_winner_is_named_as_its_network():
    """A further model with a cheaper microfactory found the hybrid's sites at a proven 0.9-1.1 M lower cost:
    the sentence said only "the same network as the hybrid network". A hybrid winner that is a micro-only
    network (decision['network']) was called "Hybrid network (2 microfactories)" beside "the same network as
    microfactories only"."""
    from planner.export.compare_report import decision_sentence

    same = {"tie": False, "same_network": True, "infeasible": False}
    decision = {"winner": "cheap", "decided": True, "network": "cheap", "savings": [
        {"against": "hybrid", "at_least": 890_000.0, "at_most": 1_100_000.0, **same},
        {"against": "micro_only", "at_least": -5.0, "at_most": 5.0, **same}]}
    assert decision_sentence(decision, "USD") == (
        "Network 'cheap' wins: 0.9–1.1 M USD/yr cheaper than the hybrid network (proven) with the same sites and "
        "types (the models' costs or demand differ), the same network as microfactories only (the same sites and "
        "types).")
    decision = {"winner": "hybrid", "decided": True, "network": "micro_only", "facilities": {"microfactory": 2},
                "savings": [{"against": "central_only", "at_least": 10.0, "at_most": 25.0, "tie": False,
                             "same_network": False, "infeasible": False},
                            {"against": "micro_only", "at_least": 0.0, "at_most": 0.0, "tie": True, **same}]}
    assert decision_sentence(decision, "USD") == (
        "Micro-only network (2 microfactories) wins: 10–25 USD/yr cheaper than the best central-only network "
        "(proven).")


@pytest.mark.slow  # a whole CLI run (2-4 s): in the full suite only
def test_compare_says_each_warning_once(tmp_path):
    """Two sites at longitudes 0 and 10 and a third region at 20, beyond the 100 km radius: every variant
    leaves it unmet, and the warning saying so appears once, not once per variant."""
    model = two_role_model_file(tmp_path)
    text = model.read_text().replace("[transport.standard]\n", "[transport.standard]\nmax_distance_km = 100.0\n")
    regions = equator_regions(tmp_path / "r3.geojson", [0.0, 10.0, 20.0], [10, 10, 10])
    model.write_text(text.replace(str(tmp_path / "r.geojson"), str(regions)))
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,lon,lat\nS1,0,0\nS2,10,0\n")
    result = CliRunner().invoke(main, ["compare", "--model", str(model), "--sites", str(sites), "--out",
                                       str(tmp_path / "cmp"), "--quiet", "--mip-gap", "0"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if " warning " in line]
    assert len(warnings) == 1 and "(R2) cannot be served" in warnings[0]


def test_catch_up_gives_the_unused_time_to_the_variant_behind(monkeypatch):
    """Three variants with a 60 s limit; two reached the 1 % gap in 10 s each, one stopped at 60 s
    with 5 %: it is solved again from its own solution with the 100 s left, and the new solve replaces
    it only because it ends at a smaller gap."""
    from types import SimpleNamespace

    from planner.solver import SolverOptions
    from planner.studies import compare as compare_module

    def fake(gap, label):
        return SimpleNamespace(run=SimpleNamespace(report=SimpleNamespace(mip_gap=gap), solution=label))

    plans = {"central_only": fake(0.05, "first"), "micro_only": fake(0.005, "m"), "hybrid": fake(0.009, "h")}
    calls = []

    def replan(config, data, options, start=None):
        calls.append((config, options.time_limit_s, start))
        return fake(0.02, "second")

    monkeypatch.setattr(compare_module, "plan", replan)
    seconds = {"central_only": 60.0, "micro_only": 10.0, "hybrid": 10.0}
    compare_module.catch_up(plans, {name: name for name in plans}, None, SolverOptions(time_limit_s=60, mip_gap=0.01),
                            seconds)
    assert calls == [("central_only", 100.0, "first")]
    assert plans["central_only"].run.solution == "second"


def _at_least_three_facilities(config):
    return config.model_copy(update={"network": config.network.model_copy(update={"min_facilities": 3})})


def test_an_infeasible_variant_is_reported_and_the_others_compared(tmp_path):
    """Central-only asked for three facilities on two sites is infeasible: compare.csv says so with the
    reason, and the hybrid (two centrals, 220) still beats the micro-only network (one microfactory,
    300 + 20 + 10 units × 0.01 × 1,111.95 km = 431.2): it wins, decided, and no central-only network is feasible."""
    from planner.export.compare_report import write_comparison

    variants = standard_variants(two_role_config(tmp_path, 300.0))
    variants["central_only"] = _at_least_three_facilities(variants["central_only"])
    result = compare(variants, DataOptions(), EXACT)
    rows = result.rows.set_index("variant")
    assert rows.loc["central_only", "status"] == "infeasible" and pd.isna(rows.loc["central_only", "objective"])
    assert "3" in rows.loc["central_only", "note"] and "compare, variant" not in rows.loc["central_only", "note"]
    assert rows.loc["hybrid", "objective"] == pytest.approx(220.0)
    assert set(result.plans) == {"micro_only", "hybrid"}
    assert result.decision["winner"] == "hybrid" and result.decision["decided"]
    against = {saving["against"]: saving for saving in result.decision["savings"]}
    assert against["central_only"]["infeasible"] and against["micro_only"]["at_least"] == pytest.approx(
        300 + 20 + 10 * 0.01 * 10 * KM_PER_DEGREE - 220.0)
    assert result.value["absolute"] is None and result.value["central_only_infeasible"]
    write_comparison(result, tmp_path / "cmp")
    page = (tmp_path / "cmp" / "compare.html").read_text()
    assert "(proven). No central-only network meets the model (see the note in compare.csv)." in page
    assert "no central-only cost" in page
    # the assumptions list every variant, the infeasible one with its reason (it had been left out)
    changes = page.split("What each variant changes", 1)[1]
    assert re.search(r"<li><strong>central_only</strong>: no network meets it, so its values are not shown "
                     r"\(infeasible: [^<]*3", changes)
    assert not re.search(r"\bnan\b", re.sub(r"data:image/png;base64,[^'\"]*", "", page), re.IGNORECASE)
    assert pd.read_csv(tmp_path / "cmp" / "compare.csv")["status"].tolist() == ["infeasible", "optimal", "optimal"]


def test_a_comparison_with_no_feasible_variant_names_the_first(tmp_path):
    """Every variant asked for three facilities on two sites: the error names central_only."""
    from planner.errors import InfeasibleError

    variants = {name: _at_least_three_facilities(config)
                for name, config in standard_variants(two_role_config(tmp_path, 300.0)).items()}
    with pytest.raises(InfeasibleError, match=r"^compare, variant 'central_only': "):
        compare(variants, DataOptions(), EXACT)


def test_networks_no_variant_can_build_close_the_decision_sentence():
    """Only the hybrid is feasible: it wins, decided, and the sentence names both networks no variant
    could build; with an undecided rival they follow the undecided clause."""
    import numpy as np

    from planner.export.compare_report import decision_sentence
    from planner.studies.compare import decide

    rows = pd.DataFrame({"variant": ["central_only", "micro_only", "hybrid"], "objective": [np.nan, np.nan, 100.0],
                         "best_bound": [np.nan, np.nan, 99.0]})
    decision = decide(rows)
    assert decision["winner"] == "hybrid" and decision["decided"]
    assert decision_sentence(decision, "USD") == ("Hybrid network wins: no central-only network and no micro-only "
                                                  "network meets the model (see the note in compare.csv).")
    rows.loc[1, ["objective", "best_bound"]] = [101.0, 90.0]
    decision = decide(rows)
    assert not decision["decided"]
    sentence = decision_sentence(decision, "USD")
    assert sentence.startswith("Not decided at this gap: the hybrid network has the lowest cost found, but the proven "
                               "savings (−10 to 2 USD/yr cheaper than microfactories only (proven))")
    assert sentence.endswith(" No central-only network meets the model (see the note in compare.csv).")


def test_an_infeasible_hybrid_leaves_out_its_sweep_and_says_why_there_is_no_value(tmp_path):
    from planner.export.compare_report import value_sentence

    variants = standard_variants(two_role_config(tmp_path, 300.0))
    variants["hybrid"] = _at_least_three_facilities(variants["hybrid"])
    sweep = Sweep.parse("facility_types.micro.opening_cost_per_yr=50:300:2")
    result = compare(variants, DataOptions(), EXACT, sweep=sweep)
    assert result.sweep is None and result.value["hybrid_infeasible"]
    assert result.decision["winner"] == "central_only"
    assert "the hybrid model has no feasible network" in value_sentence(result.value, "USD")


def test_a_time_limited_hybrid_dearer_than_a_rival_is_warned_about(caplog):
    """Micro-only 118.8 against a time-limited hybrid at 120.2: a warning says the hybrid is not final;
    an optimal hybrid, or one at least as cheap, gets none."""
    import logging
    from types import SimpleNamespace

    from planner.solver.outcome import Status
    from planner.studies.compare import warn_if_hybrid_behind

    def result(objective, status):
        return SimpleNamespace(run=SimpleNamespace(report=SimpleNamespace(objective=objective, status=status)))

    with caplog.at_level(logging.WARNING):
        warn_if_hybrid_behind({"micro_only": result(118.8, Status.OPTIMAL), "hybrid": result(120.2, Status.TIME_LIMIT)})
        warn_if_hybrid_behind({"micro_only": result(118.8, Status.OPTIMAL), "hybrid": result(118.8, Status.TIME_LIMIT)})
        warn_if_hybrid_behind({"micro_only": result(118.8, Status.TIME_LIMIT), "hybrid": result(120.2, Status.OPTIMAL)})
        # a model passed beside them is priced with its own costs: nothing to say about the hybrid
        warn_if_hybrid_behind({"cheap": result(100.0, Status.OPTIMAL), "hybrid": result(120.2, Status.TIME_LIMIT)})
    warned = [r.getMessage() for r in caplog.records if "not final" in r.getMessage()]
    assert len(warned) == 1 and "micro_only network (118.8) is cheaper" in warned[0] and "time_limit" in warned[0]


def test_the_hybrid_starts_from_the_cheapest_network_of_its_rivals(tmp_path, monkeypatch):
    """Micro at 50: the micro-only network (120) is the cheapest of the rivals and a network of the
    hybrid; the hybrid run is handed it as its start (carried over by ids and audited)."""
    import planner.studies.compare as compare_module

    starts = []

    def recorded(problem, rivals):
        start = cheapest_rival_start(problem, rivals)
        starts.append((problem, sorted(rivals), start))
        return start

    from planner.studies.rival_start import cheapest_rival_start
    monkeypatch.setattr(compare_module, "cheapest_rival_start", recorded)
    result = compare(standard_variants(two_role_config(tmp_path, 50.0)), DataOptions(), EXACT)
    assert len(starts) == 1
    problem, rivals, start = starts[0]
    assert rivals == ["central_only", "micro_only"]
    from planner.audit import audit
    from planner.model.index import ModelIndex
    from planner.results import ResultTables
    index = ModelIndex.from_problem(problem)
    cost = audit(problem, ResultTables.from_solution(problem, index, start), None).objective_recomputed
    costs = result.rows.set_index("variant")["objective"]
    assert cost == pytest.approx(costs["micro_only"]) == pytest.approx(120.0)
    assert costs["hybrid"] == pytest.approx(120.0)


def test_each_sweep_value_starts_from_the_network_of_the_value_before(tmp_path, monkeypatch):
    """Micro opening cost 50, 175, 300: each solve after the first is handed the network of the value
    before, re-costed at its own value (two micros: 2 × 175 + 20 = 370 at 175, 620 at 300); the
    optima are those of the hand-derived case (120; 220 = two centrals at 175 and 300)."""
    import planner.studies.compare as compare_module
    from planner.audit import audit
    from planner.model.index import ModelIndex
    from planner.results import ResultTables
    from planner.studies.rival_start import cheapest_rival_start

    starts = []

    def recorded(problem, rivals):
        start = cheapest_rival_start(problem, rivals)
        index = ModelIndex.from_problem(problem)
        starts.append((sorted(rivals), audit(problem, ResultTables.from_solution(problem, index, start),
                                             None).objective_recomputed))
        return start

    monkeypatch.setattr(compare_module, "cheapest_rival_start", recorded)
    sweep = Sweep.parse("facility_types.micro.opening_cost_per_yr=50:300:3")
    result = compare({"hybrid": two_role_config(tmp_path, 50.0)}, DataOptions(), EXACT, sweep)
    key = "facility_types.micro.opening_cost_per_yr"
    model = "the model as it is"  # the comparison's own network (two micros at 50), a rival at every value
    assert [names for names, _ in starts] == [[model], [f"{key}=50", model], [f"{key}=175", model]]
    assert [cost for _, cost in starts] == pytest.approx([120.0, 370.0, 220.0])
    assert result.sweep["objective"].tolist() == pytest.approx([120.0, 220.0, 220.0])


def test_a_time_limited_sweep_value_takes_a_cheaper_network_found_at_another_value(tmp_path):
    """Micro opening cost 50 (solved: two micros, 120) and 60, whose solve stopped (made here) at two
    central plants: 2 × 100 + 20 = 220, bound 100. The network of 50 costs 2 × 60 + 20 = 140 at 60: it
    replaces the 220, with the solve's bound and status and the gap recomputed; 50 stays."""
    from planner.model.transfer import transferred
    from planner.pipeline import audited_solution
    from planner.solver.outcome import Status
    from planner.studies.compare import role_variant, with_cheaper_network
    from planner.timing import Timing

    key = "facility_types.micro.opening_cost_per_yr"
    config = two_role_config(tmp_path, 50.0)
    at_50, at_60 = compare_module_plan(config, key, 50.0), compare_module_plan(config, key, 60.0)
    centrals = compare_module_plan(role_variant(config, {"central"}, "central_only"),
                                   "facility_types.central.opening_cost_per_yr", 100.0).run
    run = at_60.run
    two_centrals = transferred(centrals.solution, centrals.problem, centrals.index, run.problem, run.index)
    stopped = dataclasses.replace(run.report, status=Status.TIME_LIMIT, objective=220.0, best_bound=100.0,
                                  mip_gap=120.0 / 220.0)
    at_60 = dataclasses.replace(at_60, run=audited_solution(run.problem, run.index, two_centrals, stopped, Timing()))
    assert with_cheaper_network(at_50, {"60": at_60.run}) is at_50  # optimal: kept as it is
    kept = with_cheaper_network(at_60, {"50": at_50.run})
    report = kept.run.report
    assert report.objective == pytest.approx(140.0) and report.best_bound == 100.0
    assert report.mip_gap == pytest.approx(40.0 / 140.0) and report.status == Status.TIME_LIMIT
    assert kept.run.audit.passed
    assert kept.run.tables.facility_counts(("central", "micro")) == {"central": 0, "micro": 2}


def compare_module_plan(config, key: str, value: float):
    from planner.inputs.config import set_dotted
    from planner.pipeline import plan

    return plan(set_dotted(config, key, value), DataOptions(), EXACT)


def test_each_sweep_value_is_checked_against_the_network_of_the_value_after(tmp_path, monkeypatch):
    """The sweep hands each value's plan, with the next value's run and the comparison's own network, to
    ``with_cheaper_network`` (the last value has none after it)."""
    import planner.studies.compare as compare_module

    seen = []

    def recorded(result, rivals):
        seen.append(sorted(rivals))
        return result

    monkeypatch.setattr(compare_module, "with_cheaper_network", recorded)
    sweep = Sweep.parse("facility_types.micro.opening_cost_per_yr=50:300:3")
    compare({"hybrid": two_role_config(tmp_path, 50.0)}, DataOptions(), EXACT, sweep)
    key = "facility_types.micro.opening_cost_per_yr"
    model = "the model as it is"
    assert seen == [[f"{key}=175", model], [f"{key}=300", model], [model]]


def test_the_share_served_of_no_demand_is_not_a_number_printed():
    from planner.cli.console import _served_text

    assert _served_text(float("nan")) == "n/a (no demand)"
    assert _served_text(0.5) == "50.0%" and _served_text(0.9999999) != "100.0%"


@pytest.mark.parametrize(("arguments", "message"), [
    (["--sweep", "carbon_pricee=0:100:3"], "'carbon_pricee' does not exist"),
    (["--sweep", "carbon_price=-5:100:3"], "carbon_price': Input should be greater than or equal to 0"),
    (["--scenarios", "missing.csv"], "scenario file not found"),
    (["--scenarios", "1000"], "copies of"),  # more memory than is available (here 10 MB)
])
def test_compare_refuses_a_bad_sweep_or_scenario_file_before_solving(tmp_path, monkeypatch, arguments, message):
    """Each had been refused only after the three variants were solved (about 6 minutes at the model
    file's time limit)."""
    import planner.inputs.prepare as prepare
    import planner.studies.compare as compare_module

    monkeypatch.setattr(prepare, "available_memory", lambda: 10e6)

    def no_solve(*args, **kwargs):
        raise AssertionError("solved before the options were checked")

    monkeypatch.setattr(compare_module, "compare", no_solve)
    monkeypatch.chdir(tmp_path)
    model = two_role_model_file(tmp_path)
    result = CliRunner().invoke(main, ["compare", "--model", str(model), "--out", str(tmp_path / "cmp"), *arguments])
    assert result.exit_code == 2, result.output
    assert message in result.output and not (tmp_path / "cmp").exists()


@pytest.mark.parametrize("command", ["solve", "compare"])
def test_a_seed_without_scenarios_is_refused(tmp_path, command):
    """--seed seeds generated scenarios; alone it had been ignored in silence."""
    model = two_role_model_file(tmp_path)
    result = CliRunner().invoke(main, [command, "--model", str(model), "--out", str(tmp_path / "o"), "--seed", "7"])
    assert result.exit_code == 2 and "--seed needs --scenarios N" in result.output
    assert not (tmp_path / "o").exists()


def test_a_sweep_value_no_network_meets_is_a_row_not_the_end(tmp_path):
    """One value of compare --sweep at which the model is infeasible had ended the whole compare with exit 1
    and nothing written (review of 2026-12-06); planner sweep records it and goes on, and so does this."""
    config = two_role_config(tmp_path, 50.0)
    config.products["standard"].unmet_penalty_per_unit = None  # every unit served: 20 units, 1 kg CO2 each
    for facility in config.facility_types.values():
        facility.products["standard"].co2_kg_per_unit = 1.0
    sweep = Sweep.parse("network.max_co2_t_per_yr=0.01:0.03:2")
    result = compare({"hybrid": config}, DataOptions(), EXACT, sweep)
    table = result.sweep.set_index("network.max_co2_t_per_yr")
    assert table.loc[0.01, "status"] == "infeasible" and pd.isna(table.loc[0.01, "objective"])
    assert "no network meets the CO2 cap" in table.loc[0.01, "note"]
    assert table.loc[0.03, "objective"] == pytest.approx(2 * 50 + 20)  # two microfactories, as without a cap
    assert list(result.sweep.columns)[-1] == "note"


def test_compare_csv_columns_keep_their_places_whichever_variant_is_infeasible(tmp_path):
    """The n_<type> columns had moved with the variants' order and which of them was infeasible."""
    from planner.studies.compare import in_column_order

    config = two_role_config(tmp_path, 50.0)
    configs = standard_variants(config)
    feasible = {"objective": 1.0, "co2_t": 0.0, "mean_delivery_km": 3.0}
    rows = [{"variant": "central_only", "status": "infeasible", "note": "no network"},
            {"variant": "micro_only", "status": "optimal", **feasible, "n_micro": 2},
            {"variant": "hybrid", "status": "optimal", **feasible, "n_central": 0, "n_micro": 2}]
    expected = ["variant", "status", "objective", "co2_t", "n_central", "n_micro", "mean_delivery_km", "note"]
    assert list(in_column_order(pd.DataFrame(rows), configs).columns) == expected
    assert list(in_column_order(pd.DataFrame(rows[::-1]), configs).columns) == expected


def test_further_models_with_one_name_are_told_apart_by_their_files():
    from planner.cli.studies import _variant_name

    taken = {"central_only": 1, "micro_only": 1, "hybrid": 1, "small": 1}
    assert _variant_name("lean", Path("a/lean.toml"), taken) == "lean"
    assert _variant_name("small", Path("a/small_dense.toml"), taken) == "small_dense"  # had been 'small_4'
    assert _variant_name("small", Path("b/small.toml"), taken) == "small_2"
    assert _variant_name("hybrid", Path("hybrid.toml"), {**taken, "hybrid_2": 1}) == "hybrid_3"


def test_a_further_model_named_like_a_variant_group_is_not_taken_for_it():
    from planner.cli.studies import _variant_name
    from planner.studies.compare import _group

    name = _variant_name("hybrid", Path("micro_only_cheap.toml"), {"hybrid": 1})
    assert name == "model_micro_only_cheap" and _group(name) == name


def test_a_product_no_type_of_a_variant_makes_is_warned_about_with_the_variant_named(tmp_path, caplog):
    """Only central_only lacks a maker of 'custom': the warning had not said which of the three models."""
    from planner.studies.compare import role_variant

    config = two_role_config(tmp_path, 50.0)
    data = config.model_dump(mode="python")
    data["products"]["custom"] = {"demand_rate": 1.0, "unmet_penalty_per_unit": 1000.0}
    data["transport"]["custom"] = {"cost_per_unit_km": 0.01}
    data["facility_types"]["micro"]["products"]["custom"] = {"cost_per_unit": 2.0}
    from planner.inputs.config import model_config_from_dict

    config = model_config_from_dict(data, "m.toml")
    caplog.clear()
    role_variant(config, {"central"}, "central_only")
    assert "model 'central_only': no facility type makes product 'custom'" in caplog.text


def test_a_variant_without_a_network_in_time_is_named(tmp_path, monkeypatch):
    """A short time limit ended compare with "HiGHS ended without a feasible solution", no variant named."""
    import planner.studies.compare as compare_module
    from planner.errors import NoSolutionInTimeError

    def no_network(config, *args, **kwargs):
        raise NoSolutionInTimeError("HiGHS ended without a feasible solution (status: Time limit reached)")

    monkeypatch.setattr(compare_module, "plan", no_network)
    with pytest.raises(NoSolutionInTimeError, match="^compare, variant 'central_only': HiGHS ended without"):
        compare(standard_variants(two_role_config(tmp_path, 50.0)), DataOptions(), EXACT)


def test_a_sweep_value_the_model_rejects_names_the_sweep_not_the_file(tmp_path):
    """The error had read "model.toml: key 'transport.standard.cost_per_unit_km': ... (got -1.0)"."""
    sweep = Sweep.parse("transport.standard.cost_per_unit_km=-1:-0.5:2")
    with pytest.raises(InputError, match=r"^--sweep transport.standard.cost_per_unit_km=-1: the model rejects it"):
        sweep.check(two_role_config(tmp_path, 50.0))


def test_an_unwritable_out_is_refused_before_the_variants_are_solved(tmp_path, monkeypatch):
    """compare had solved its three variants (minutes on a national dataset) and only then found that
    --out could not be written; solve, pareto and alternatives refuse it first."""
    import planner.studies.compare as compare_module

    model = two_role_model_file(tmp_path)
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setattr(compare_module, "compare", lambda *a, **k: pytest.fail("solved before --out was checked"))
    result = CliRunner().invoke(main, ["compare", "--model", str(model), "--out", str(blocker / "out")])
    assert result.exit_code == 2 and "not writable" in result.stderr
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_a_wrong_scheduler_address_is_refused_before_the_variants_are_solved(tmp_path, monkeypatch):
    """It had been found after the three variants were solved; 'synchronous' (solve here) is no address."""
    import planner.studies.compare as compare_module
    from planner.cli.studies import _check_scheduler

    model = two_role_model_file(tmp_path)
    monkeypatch.setattr(compare_module, "compare", lambda *a, **k: pytest.fail("solved before --scheduler was checked"))
    result = CliRunner().invoke(main, ["compare", "--model", str(model), "--sensitivity", "--scheduler", "garbage",
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "--scheduler garbage: not a scheduler address" in result.stderr
    _check_scheduler("synchronous")
    _check_scheduler(None)


def test_a_decision_where_no_network_opens_a_facility_says_none_pays_off():
    """Every variant opens nothing (all demand unmet at one cost): the sentence had read "Central-only network
    (no facility) wins", as if a central plant had won."""
    from planner.export.compare_report import decision_sentence
    from planner.studies.compare import decide

    rows = interval_rows([100.0, 100.0, 100.0], [100.0, 100.0, 100.0])
    decision = decide(rows, dict.fromkeys(("central_only", "micro_only", "hybrid"), frozenset()))
    decision.update(facilities={"central": 0, "microfactory": 0, "other": 0}, network="central_only")
    assert decision_sentence(decision, "USD") == (
        "No network pays off: the cheapest plan opens no facility and leaves all demand unmet.")


def test_a_saving_over_a_network_of_nothing_says_so():
    """Central-only opened nothing (all its cost unmet demand): "micro-only wins: 7.0–7.1 M USD/yr cheaper
    than the best central-only network (proven)" read as if a central plant had been weighed."""
    from planner.export.compare_report import decision_sentence
    from planner.studies.compare import decide

    rows = interval_rows([110.0, 90.0, 90.0], [100.0, 85.0, 85.0])
    networks = {"central_only": frozenset(), "micro_only": frozenset({("a", "micro")}),
                "hybrid": frozenset({("a", "micro")})}
    decision = decide(rows, networks)
    assert [s["builds_nothing"] for s in decision["savings"]] == [True, False]
    sentence = decision_sentence(decision, "USD")
    assert "cheaper than the best central-only network (proven), which builds nothing: no facility of its kind " \
           "pays off" in sentence


def test_shares_and_gaps_on_the_compare_page_never_read_0_or_100_percent_when_they_are_not():
    """Served within the radius 0.99999 (3 units unmet of 300,000) read "100.00 %" beside those units; a gap of
    3.2e-5 read "0.00 %"; a gap of 1e-16, the solver's noise, stays 0.00 %."""
    import pandas as pd

    from planner.export.compare_report import number_text, variants_table

    assert [number_text(v, "fraction") for v in (0.99999, 4e-6, 1.0, 0.0, 0.974675)] == [
        "99.999 %", "0.0004 %", "100.00 %", "0.00 %", "97.47 %"]
    rows = pd.DataFrame({"variant": ["micro_only", "hybrid"], "mip_gap": [3.2e-5, 1e-16],
                         "share_served_within_radius": [0.99999, 1.0]})
    rows.attrs["unit"] = {"mip_gap": "fraction", "share_served_within_radius": "fraction"}
    table = variants_table(rows, "EUR")
    assert "<td>0.0032 %</td><td>0.00 %</td>" in table and "<td>99.999 %</td><td>100.00 %</td>" in table
