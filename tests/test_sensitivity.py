"""`planner compare --sensitivity`: what flips the decision, on the hand-derivable instance of
tests/test_compare.py.

Two regions of demand 10 at longitudes 0 and 10 (1,111.95 km apart), transport 0.01 per unit-km,
production 1 per unit. A central plant opens for 100, a microfactory for m. Central-only: two plants,
200 + 20 = 220 (one plant shipping to the other region costs 231.2). For m < 100 the hybrid opens two
microfactories, 2m + 20, which is the micro-only network, so the value of decentralisation is
220 − (2m + 20) = 200 − 2m and the winner is micro-only; for m ≥ 100 the hybrid is the central-only
network (value 0, winner central-only). The breakeven is m = 100.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.errors import InputError
from planner.export.sensitivity_report import plain_number, sensitivity_lines, sensitivity_section, tornado_figure
from planner.inputs.prepare import DataOptions
from planner.solver.outcome import SolverOptions
from planner.studies.compare import compare, standard_variants
from planner.studies.sensitivity import (
    BREAKEVEN,
    NO_CHANGE,
    NOT_DECIDED,
    NOTHING_BUILT,
    Bracket,
    Point,
    Sensitivity,
    point_row,
    run_sensitivity,
    sensitivity_parameters,
)
from tests.test_compare import two_role_config, two_role_model_file

EXACT = SolverOptions(mip_gap=1e-9)
MICRO_OPEN = "facility_types.micro.opening_cost_per_yr"
HERE = "synchronous"


def chosen(config, names, overrides=()):
    return [p for p in sensitivity_parameters(config, overrides=overrides) if p.name in names]


@pytest.mark.slow
def test_bisection_finds_the_microfactory_breakeven(tmp_path):
    """m from 60 to 150: value 200 − 2·60 = 80 at the low end, 0 at the high end; 4 bisection steps
    bracket m = 100 to ± 90 / 32."""
    config = two_role_config(tmp_path, 50.0)
    parameters = chosen(config, {MICRO_OPEN}, (f"{MICRO_OPEN}=60:150",))
    result = run_sensitivity(config, DataOptions(), EXACT, parameters, scheduler=HERE)
    row = result.parameters.iloc[0]
    assert row["value_of_decentralisation_low"] == pytest.approx(80.0)
    assert row["value_of_decentralisation_high"] == pytest.approx(0.0, abs=1e-6)
    assert (row["winner_low"], row["winner_high"]) == ("micro_only", "central_only")
    assert row["outcome"] == BREAKEVEN and row["breakeven_tolerance"] == pytest.approx(90 / 32)
    assert abs(row["breakeven"] - 100.0) <= row["breakeven_tolerance"]
    assert row["bracket_low"] < 100.0 <= row["bracket_high"]
    assert list(result.points["role"]) == ["base", "low", "high", "bisect", "bisect", "bisect", "bisect"]
    assert result.base["value_of_decentralisation"] == pytest.approx(100.0)  # m = 50: 200 − 100


@pytest.mark.slow
def test_tornado_values_equal_separate_compares(tmp_path):
    """The ends of the default microfactory fixed cost (×0.7, ×1.3 of m = 80: 56 and 104) and transport
    cost are the values of separate compares at those values; at m = 56 by hand 200 − 112 = 88."""
    config = two_role_config(tmp_path, 80.0)
    parameters = chosen(config, {"micro_fixed_cost", "transport_cost"})
    result = run_sensitivity(config, DataOptions(), EXACT, parameters, steps=0, scheduler=HERE)
    ends = result.points.set_index(["parameter", "role"])
    for parameter in parameters:
        for role, x in (("low", parameter.low), ("high", parameter.high)):
            separate = compare(standard_variants(parameter.apply(config, x)), DataOptions(), EXACT)
            assert ends.loc[(parameter.name, role), "value_of_decentralisation"] == pytest.approx(
                separate.value["absolute"], abs=1e-6)
    assert ends.loc[("micro_fixed_cost", "low"), "value_of_decentralisation"] == pytest.approx(88.0)
    assert ends.loc[("micro_fixed_cost", "low"), "settings"] == f"{MICRO_OPEN}=56"
    table = result.parameters.set_index("parameter")
    assert table.loc["micro_fixed_cost", "outcome"] == BREAKEVEN  # steps = 0: the bracket is the range
    assert table.loc["transport_cost", "outcome"] == NO_CHANGE
    assert list(result.parameters["parameter"]) == ["micro_fixed_cost", "transport_cost"]  # larger swing first


def test_the_default_parameters_follow_the_roles(tmp_path):
    config = two_role_config(tmp_path, 80.0)
    parameters = {p.name: p for p in sensitivity_parameters(config, 0.5)}
    assert set(parameters) == {"transport_cost", "demand", "micro_fixed_cost", "central_fixed_cost", "carbon_price"}
    assert (parameters["demand"].low, parameters["demand"].high) == (0.5, 1.5)
    assert parameters["central_fixed_cost"].settings(0.5) == {"facility_types.central.opening_cost_per_yr": 50.0}
    assert (parameters["carbon_price"].low, parameters["carbon_price"].high) == (0.0, 400.0)  # the model's is 0


def gapped(central, hybrid, status="optimal"):
    """The three solves of a point: (objective, bound) of central-only and hybrid, micro-only far worse."""
    rows = [("central_only", *central), ("micro_only", 500.0, 490.0), ("hybrid", *hybrid)]
    return [{"point": 0, "variant": v, "status": status, "objective": o, "best_bound": b, "mip_gap": 0.1,
             "error": ""} for v, o, b in rows]


def test_a_point_is_decided_only_when_the_gaps_prove_it():
    """Hybrid 90 (bound 80) against central-only 100 (bound 85): the proven saving runs from 85 − 90
    to 100 − 80, so the winner is not decided; with the central bound at 95 it is."""
    open_point = point_row(Point(None, "base", math.nan), gapped((100.0, 85.0), (90.0, 80.0), "time_limit"))
    assert open_point["winner"] == "hybrid" and not open_point["decided"] and not open_point["reached_gap"]
    assert (open_point["proven_at_least"], open_point["proven_at_most"]) == (-5.0, 20.0)
    proven = point_row(Point(None, "base", math.nan), gapped((100.0, 95.0), (90.0, 80.0)))
    assert proven["decided"] and proven["reached_gap"]


def test_a_point_where_two_variants_found_the_same_network_is_decided():
    """Hybrid 90 (bound 80) and central-only 90.0000001 (bound 85) open the same sites: as in compare,
    there is nothing left to decide between them whatever the gaps; with different networks it stays open."""
    rows = gapped((90.0000001, 85.0), (90.0, 80.0), "time_limit")
    same = frozenset({("s1", "micro")})
    for row in rows:
        row["network"] = same if row["variant"] != "micro_only" else frozenset({("s2", "central")})
    assert point_row(Point(None, "base", math.nan), rows)["decided"]
    rows[0]["network"] = frozenset({("s3", "central")})
    assert not point_row(Point(None, "base", math.nan), rows)["decided"]


def test_a_point_where_no_network_pays_off_has_no_network_as_its_winner():
    """Every variant opens nothing (a low unmet penalty: all demand is left unmet at the same cost): the point's
    winner is 'none', not central-only, so a breakeven never reads 'central-only below' where no plant is built."""
    rows = gapped((100.0, 100.0), (100.0, 100.0))
    for row in rows:
        row["objective"] = row["best_bound"] = 100.0
        row["network"] = frozenset()
    row = point_row(Point(None, "base", math.nan), rows)
    assert (row["winner"], row["decided"]) == (NOTHING_BUILT, True)
    rows[2]["network"] = frozenset({("s1", "micro")})  # a hybrid that opens a site at the same cost: it is named
    assert point_row(Point(None, "base", math.nan), rows)["winner"] != NOTHING_BUILT


def test_an_infeasible_variant_loses_as_in_compare_and_a_failed_one_decides_nothing():
    """With a service level no central-only network meets, every point had read "a solve failed", its
    base row undecided, while the comparison itself (rightly) called the hybrid the proven winner."""
    rows = gapped((100.0, 95.0), (90.0, 90.0))
    rows[0].update(status="infeasible", objective=None, best_bound=None, mip_gap=None, error="no network meets it")
    row = point_row(Point(None, "base", math.nan), rows)
    assert (row["winner"], row["decided"], row["reached_gap"]) == ("hybrid", True, True)
    assert row["value_of_decentralisation"] is None and row["status_central_only"] == "infeasible"
    rows[0]["status"] = "failed"  # an error that is no answer (a worker died): nothing is decided
    row = point_row(Point(None, "base", math.nan), rows)
    assert (row["winner"], row["decided"]) == (None, False)


def test_a_breakeven_between_undecided_points_is_no_number():
    decided = {"x": 0.7, "winner": "micro_only", "decided": True}
    undecided = {"x": 1.3, "winner": "central_only", "decided": False}
    assert Bracket.from_ends(decided, undecided).outcome == NOT_DECIDED
    searching = Bracket.from_ends(decided, {**undecided, "decided": True})
    assert searching.outcome == BREAKEVEN
    stopped = searching.narrowed({"x": 1.0, "winner": "hybrid", "decided": False})
    assert stopped.outcome == NOT_DECIDED and stopped.value is None and stopped.tolerance is None
    narrowed = searching.narrowed({"x": 1.0, "winner": "micro_only", "decided": True})
    assert (narrowed.lo, narrowed.hi, narrowed.value) == (1.0, 1.3, pytest.approx(1.15))


def test_section_and_lines_say_what_flips(tmp_path):
    config = two_role_config(tmp_path, 80.0)
    result = run_sensitivity(config, DataOptions(), EXACT, chosen(config, {"micro_fixed_cost"}), steps=1,
                             scheduler=HERE)
    section = sensitivity_section(result, "USD")
    assert section.startswith("<h2>Sensitivity: what flips the decision</h2>") and "data:image/png;base64" in section
    assert "<td>×0.7–×1.3</td>" in section and "<td>88 USD/yr</td>" in section
    assert sensitivity_lines(result, "USD") == [
        "sensitivity microfactory fixed cost ×0.7–×1.3: value 88 USD/yr → 0 USD/yr, winner micro-only → "
        "central-only, breakeven ×1.15 ± 0.15 (micro-only below, central-only above)"
    ]
    assert plain_number(2.5e7) == "25,000,000"


@pytest.mark.parametrize(
    ("text", "message"),
    [("nope=1:2", "'nope' is not a key of model"), ("micro_fixed_cost=2:1", "LOW < HIGH"),
     ("transport.nope.cost_per_unit_km=1:2", "'nope' is not a key of 'transport'"),
     ("micro_fixed_cost=-1:1", "sensitivity micro_fixed_cost at -1"),
     ("network.single_sourcing=0:1", "not a continuous number"),
     ("custom_share=0.5:1.5", "has no custom share to vary")],
)
def test_bad_parameters_are_input_errors(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        sensitivity_parameters(two_role_config(tmp_path, 80.0), overrides=(text,))


def test_a_parameter_given_twice_is_refused(tmp_path):
    """The second range had replaced the first without a word."""
    with pytest.raises(InputError, match="'micro_fixed_cost=0.5:1.5' and 'micro_fixed_cost=0.6:1.4' both give "
                                         "micro_fixed_cost; give each key once"):
        sensitivity_parameters(two_role_config(tmp_path, 80.0),
                               overrides=("micro_fixed_cost=0.5:1.5", "micro_fixed_cost=0.6:1.4"))


@pytest.mark.slow
def test_dask_and_here_agree(tmp_path):
    from distributed import LocalCluster

    config = two_role_config(tmp_path, 80.0)
    parameters = chosen(config, {"micro_fixed_cost", "central_fixed_cost"})
    here = run_sensitivity(config, DataOptions(), EXACT, parameters, steps=2, scheduler=HERE)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster:
        on_dask = run_sensitivity(config, DataOptions(), EXACT, parameters, steps=2,
                                  scheduler=cluster.scheduler_address)
    columns = ["parameter", "role", "x", "value_of_decentralisation", "winner", "decided", "objective_hybrid"]
    pd.testing.assert_frame_equal(here.points[columns], on_dask.points[columns])
    pd.testing.assert_frame_equal(here.parameters, on_dask.parameters)


@pytest.mark.slow
def test_compare_command_writes_the_sensitivity(tmp_path):
    out, model = tmp_path / "cmp", two_role_model_file(tmp_path)
    result = CliRunner().invoke(main, ["compare", "--model", str(model), "--out", str(out), "--quiet",
                                       "--mip-gap", "0", "--sensitivity", "--scheduler", "synchronous",
                                       "--sensitivity-param", f"{MICRO_OPEN}=60:150", "--sensitivity-steps", "2"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("sensitivity ")]
    assert len(lines) == 6  # transport, demand, micro and central fixed cost, carbon price and the added key
    assert (f"sensitivity {MICRO_OPEN} 60–150 (model 50): value 80 USD/yr → 0 USD/yr, winner micro-only → "
            "central-only, breakeven 93.75 ± 11 (micro-only below, central-only above)") in lines
    points = pd.read_csv(out / "sensitivity.csv")
    assert set(points["currency"]) == {"USD"}
    assert points["role"].iloc[0] == "base" and points["value_of_decentralisation"].iloc[0] == pytest.approx(100)
    assert (points["role"] == "low").sum() == 6 and (points["role"] == "high").sum() == 6
    assert (out / "sensitivity.png").exists()
    assert "Sensitivity: what flips the decision" in (out / "compare.html").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--sensitivity-range", "0.5"], "--sensitivity-range needs --sensitivity"),
     (["--sensitivity", "--sensitivity-range", "1.5"], "1.5"),
     (["--sensitivity", "--sensitivity-param", "micro_fixed_cost=1"], "use KEY=LOW:HIGH"),
     (["--sensitivity", "--sensitivity-param", "demand=0.5:x"], "use KEY=LOW:HIGH"),
     (["--sensitivity", "--workers", "2", "--scheduler", "tcp://127.0.0.1:9"], "not both")],
)
def test_bad_flags_are_one_line_errors(tmp_path, args, message):
    out, model = tmp_path / "cmp", two_role_model_file(tmp_path)
    result = CliRunner().invoke(main, ["compare", "--model", str(model), "--out", str(out), *args])
    assert result.exit_code == 2, result.output
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: ") and message in result.stderr
    assert not out.exists()


def test_each_hybrid_starts_from_its_rivals_networks(tmp_path, monkeypatch):
    """Solved apart from its rivals, a hybrid stopped at its limit had cost more than the micro-only
    network of its point (value −13,260 EUR/yr): the hybrids now run after the rivals, each started from
    the cheapest of its point's rival networks (m = 50: micro-only's two microfactories, 2·50 + 20 = 120)."""
    import planner.pipeline as pipeline
    from planner.audit import audit
    from planner.model.index import ModelIndex
    from planner.results import ResultTables
    from planner.studies.sensitivity import evaluate_points, run_here

    starts, real_plan = [], pipeline.plan

    def recording_plan(config, data, options, start_for=None):
        def recorded(problem):
            start = start_for(problem)
            tables = ResultTables.from_solution(problem, ModelIndex.from_problem(problem), start)
            starts.append((config.name, audit(problem, tables, None, warn=False).objective_recomputed))
            return start
        return real_plan(config, data, options, start_for=recorded if start_for else None)

    monkeypatch.setattr(pipeline, "plan", recording_plan)
    config = two_role_config(tmp_path, 50.0)
    rows = evaluate_points(config, [Point(None, "base", 1.0)], DataOptions(), EXACT, run_here)
    assert len(starts) == 1 and starts[0][1] == pytest.approx(120.0)  # the hybrid's start: micro-only's network
    assert rows[0]["objective_hybrid"] == pytest.approx(120.0)
    assert rows[0]["value_of_decentralisation"] == pytest.approx(100.0)


def test_a_network_of_sites_or_types_the_model_lacks_is_no_start(tmp_path):
    from planner.pipeline import load_and_prepare
    from planner.studies.rival_start import cheapest_network_start
    from planner.timing import Timing

    _, problem, _ = load_and_prepare(two_role_config(tmp_path, 50.0), DataOptions(), Timing())
    assert cheapest_network_start(problem, [frozenset({("R0", "nowhere")}), frozenset({("R9", "micro")})]) is None
    start = cheapest_network_start(problem, [frozenset({("R0", "central"), ("R1", "central")}),
                                             frozenset({("R0", "micro"), ("R1", "micro")})])
    assert start is not None and start.open.sum() == 2


def test_a_breakeven_followed_by_another_change_says_so():
    """"winner micro-only → hybrid, breakeven ×1.02 (micro-only below, central-only above)" had read as a
    contradiction: a midpoint's third winner made the bracket the first of two changes."""
    from planner.export.sensitivity_report import breakeven_text

    row = {"outcome": BREAKEVEN, "winner_below": "micro_only", "winner_above": "central_only",
           "winner_low": "micro_only", "winner_high": "hybrid", "breakeven": 1.02, "breakeven_tolerance": 0.019,
           "scaled": True, "unit": ""}
    text = breakeven_text(row)
    assert "(micro-only below, central-only above; the first change: the winner changes again to" in text
    assert breakeven_text({**row, "winner_above": "hybrid"}).endswith("above)")


def test_the_base_row_sees_the_variants_same_network_as_compare_does():
    """compare decided the hybrid against micro-only by their same network (value.json: decided), and
    sensitivity.csv's base row, made without the networks, read decided=False."""
    from planner.studies.sensitivity import Point, base_solves, point_row

    rows = pd.DataFrame({"variant": ["central_only", "micro_only", "hybrid"], "status": ["gap_limit"] * 3,
                         "objective": [100.0, 90.0, 90.0], "best_bound": [95.0, 80.0, 80.0],
                         "mip_gap": [0.05, 0.11, 0.11]})
    same = frozenset({("s1", "micro")})
    networks = {"central_only": frozenset({("s2", "central")}), "micro_only": same, "hybrid": same}
    base = Point(None, "base", float("nan"))
    assert point_row(base, base_solves(rows))["decided"] is False  # the intervals alone span zero
    assert point_row(base, base_solves(rows, networks))["decided"] is True


def test_a_rivals_network_with_its_module_counts_starts_no_dearer_than_its_solve():
    """A rival's network carried to the hybrid without its module counts was priced at the flows of its
    largest capacity rounded up to whole modules: a second module for the one unit the rival left unmet
    (on 120 generated towns the start was 80.09 M KES/yr against micro-only's 78.66 M, and a hybrid
    stopped at its limit ended dearer than micro-only). With the counts it costs what the rival's did."""
    from planner.model import ModelIndex
    from planner.solver.heuristic import solution_cost
    from planner.studies.rival_start import cheapest_network_start
    from tests.builders import dense_problem

    problem = dense_problem([11.0], [50.0], [10.0], [[1.0]], penalty=15.0, module_cost=np.array([100.0]),
                            max_modules=np.array([2]))
    index = ModelIndex.from_problem(problem)
    network = frozenset({("s0", "t")})
    plain = cheapest_network_start(problem, [network])
    assert solution_cost(problem, index, plain) == pytest.approx(50 + 200 + 11)  # two modules, all served
    start = cheapest_network_start(problem, [network], [{("s0", "t"): 1}])
    assert start.modules.tolist() == [1]
    assert solution_cost(problem, index, start) == pytest.approx(50 + 100 + 10 + 15)  # the rival's own cost


def _tornado_legend(decided_high: bool) -> list[str]:
    ends = {"value_of_decentralisation_low": 5.8e6, "value_of_decentralisation_high": 1.33e7, "decided_low": True,
            "decided_high": decided_high, "winner_low": "micro_only", "winner_high": "micro_only"}
    parameters = pd.DataFrame([{"label": "demand level", "scaled": True, "unit": "", "base": 1.0, "low": 0.7,
                                "high": 1.3, **ends}])
    points = pd.DataFrame([{"value_of_decentralisation": 9.14e6}])
    figure = tornado_figure(Sensitivity(points, parameters, 4), "AUD")
    return [text.get_text() for text in figure.axes[0].get_legend().get_texts()]


def test_the_tornado_legend_keys_a_hatched_bar_only_where_one_is_drawn():
    """Every end decided (three Australian regions, all optimal) still showed the key of the hatched bar."""
    assert _tornado_legend(decided_high=True) == ["low end of the range", "high end of the range"]
    assert _tornado_legend(decided_high=False)[-1] == "not decided at this gap (winner?)"


def test_a_tornado_without_values_draws_no_line_and_still_names_the_winners():
    """No central-only network met the model (a capex budget below a central plant's): the chart was empty but for
    a line at 0 called "the model as it is", and no winner was named."""
    ends = {"value_of_decentralisation_low": None, "value_of_decentralisation_high": None, "decided_low": True,
            "decided_high": True, "winner_low": "micro_only", "winner_high": "micro_only"}
    parameters = pd.DataFrame([{"label": "transport cost", "scaled": True, "unit": "", "base": 1.0, "low": 0.7,
                                "high": 1.3, **ends}])
    figure = tornado_figure(Sensitivity(pd.DataFrame([{"value_of_decentralisation": None}]), parameters, 4), "EUR")
    axis = figure.axes[0]
    assert not axis.lines and axis.get_title().startswith("What flips the decision (no line: ")
    assert [text.get_text() for text in axis.texts] == [" micro-only (no value) "] * 2 and not axis.get_xticks().size
