"""Service levels (``[products.<p>.service]``): hand-derived optima, brute force on tiny instances,
the two builders agree, the audit recomputes the achieved share, infeasible levels are explained
with the best reachable share, and the CLI writes the share and the coverage curve."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from planner.audit import audit
from planner.cli import main
from planner.errors import InfeasibleError
from planner.inputs.config import ServiceConfig
from planner.inputs.prepare import served_at_a_loss
from planner.pipeline import solve_problem
from planner.results import service_text
from planner.solver import SolverOptions
from planner.solver.service import explain_service_infeasibility
from tests.brute import best_by_enumeration
from tests.builders import KM_PER_DEGREE, dense_problem, equator_regions, solved_summary, tiny_model_file

EXACT = SolverOptions(mip_gap=0.0, quiet=True)


def two_sites_two_regions(share: float, **overrides):
    """r0, r1 (10 units/yr each); s0 free to open, s1 opens for 100; a unit costs 1 from the near site
    and 2 from the far one; s0 is 10 km from r0 and 500 km from r1, s1 the other way round. Without a
    service level s0 alone serves both (cost 10 + 20 = 30); ``share`` > 0.5 within 100 km needs s1
    too (cost 100 + 10 + 10 = 120)."""
    problem = dense_problem(demand=[10, 10], opening_cost=[0, 100], capacity=[np.inf, np.inf],
                            unit_cost=[[1, 2], [2, 1]], **overrides)
    return dataclasses.replace(
        problem,
        arc_distance_km=np.array([10.0, 500.0, 500.0, 10.0]),
        service_share=np.array([share]),
        service_km=np.array([100.0]),
    )


@pytest.mark.parametrize(("share", "cost", "achieved"), [(0.0, 30.0, 0.5), (0.5, 30.0, 0.5), (0.9, 120.0, 1.0)])
def test_hand_derived_service_levels(share, cost, achieved):
    run = solve_problem(two_sites_two_regions(share), EXACT)
    assert run.report.objective == pytest.approx(cost)
    assert run.tables.served_within("p", 100.0) / 20.0 == pytest.approx(achieved)
    assert run.audit.passed


@pytest.mark.parametrize("builder", ["arrays", "pyomo"])
def test_both_builders_meet_the_level(builder):
    run = solve_problem(two_sites_two_regions(0.75), dataclasses.replace(EXACT, builder=builder))
    assert run.report.objective == pytest.approx(120.0)
    (level,) = run.tables.service_levels(run.problem)
    assert level["achieved_share"] >= 0.75 - 1e-9
    assert service_text(level) == "p: 100.0% within 100 km (required 75.0%)"


@pytest.mark.parametrize("seed", range(6))
def test_brute_force_on_random_tiny_instances(seed):
    rng = np.random.default_rng(seed)
    n_sites, n_regions = 4, 5
    problem = dense_problem(
        demand=rng.integers(1, 20, n_regions), opening_cost=rng.uniform(10, 60, n_sites),
        capacity=rng.uniform(15, 40, n_sites), unit_cost=rng.uniform(1, 5, (n_sites, n_regions)), penalty=8.0,
    )
    problem = dataclasses.replace(
        problem,
        arc_distance_km=rng.uniform(0, 300, problem.n_arcs),
        service_share=np.array([rng.uniform(0.3, 0.8)]),
        service_km=np.array([150.0]),
    )
    expected = best_by_enumeration(problem)
    if not np.isfinite(expected):
        with pytest.raises(InfeasibleError):
            solve_problem(problem, EXACT)
        return
    run = solve_problem(problem, EXACT)
    assert run.report.objective == pytest.approx(expected, rel=1e-7)
    assert run.audit.passed


def test_the_audit_recomputes_the_share():
    """A network built without the level fails the audit of the problem with it."""
    with_level = two_sites_two_regions(0.9)
    run = solve_problem(dataclasses.replace(with_level, service_share=np.array([0.0])), EXACT)
    report = audit(with_level, run.tables, run.report.objective)  # s0 alone: 10 of 20 units within
    assert "service_level" in report.failures
    assert report.violations["service_level"] == pytest.approx(0.9 * 20 - 10)


def test_a_level_capacity_cannot_meet_names_the_best_share():
    """One site 10 km from r0 with capacity 6, r1 only reachable from 500 km: at most 6 of 20 units
    (30 %) can be served within 100 km."""
    problem = dense_problem(demand=[10, 10], opening_cost=[0, 0], capacity=[6, np.inf],
                            unit_cost=[[1, 1], [1, 1]], penalty=50.0)
    problem = dataclasses.replace(problem, arc_distance_km=np.array([10.0, 500.0, 500.0, 500.0]),
                                  service_share=np.array([0.5]), service_km=np.array([100.0]))
    with pytest.raises(InfeasibleError, match=r"asks 50\.0%.*at most 30\.0% is reachable"):
        solve_problem(problem, EXACT)


def test_a_level_the_delivery_radius_blocks_names_the_radius_not_the_limit():
    """r1 is beyond every site's delivery radius (no arc): 80 % within 1,000 km cannot be met, and widening
    the service limit would not help; the refusal says so (it had said 'widen the limit')."""
    from planner.inputs.objectives import keep_arcs

    problem = dense_problem(demand=[10, 10], opening_cost=[0, 0], capacity=[np.inf, np.inf],
                            unit_cost=[[1, 1], [1, 1]], penalty=50.0)
    problem = dataclasses.replace(problem, arc_distance_km=np.array([10.0, 500.0, 500.0, 10.0]),
                                  service_share=np.array([0.8]), service_km=np.array([1000.0]))
    radius = keep_arcs(problem, np.array([True, False, True, False]))  # no site reaches r1
    with pytest.raises(InfeasibleError, match=r"only 50\.0% can be served at all: no candidate site's "
                                              r"delivery radius reaches the rest"):
        solve_problem(radius, EXACT)
    within = dataclasses.replace(problem, arc_distance_km=np.array([10.0, 500.0, 500.0, 500.0]),
                                 service_km=np.array([100.0]))  # every site reaches r1, none within the limit
    with pytest.raises(InfeasibleError, match=r"only 50\.0% of it has any candidate site that near"):
        solve_problem(within, EXACT)


def test_a_level_beyond_both_the_radius_and_the_limit_names_the_best_share_within_the_limit():
    """Three regions of 10 units; r2 beyond every radius, r1 within a radius but 500 km away: 90 % within
    100 km is refused with the best share within 100 km (33.3 %, what a user can lower the level to), not the
    66.7 % that can be served at any distance (it had named only that, and 0.6 was refused again)."""
    from planner.inputs.objectives import keep_arcs

    problem = dense_problem(demand=[10, 10, 10], opening_cost=[0, 0], capacity=[np.inf, np.inf],
                            unit_cost=[[1, 1, 1], [1, 1, 1]], penalty=50.0)
    problem = dataclasses.replace(problem, arc_distance_km=np.array([10.0, 500.0, 800.0, 500.0, 500.0, 900.0]),
                                  service_share=np.array([0.9]), service_km=np.array([100.0]))
    radius = keep_arcs(problem, np.array([True, True, False, True, True, False]))  # no site reaches r2
    with pytest.raises(InfeasibleError, match=r"asks 90\.0%.* only 33\.3% of it has any candidate site that near "
                                              r"\(no network can reach more\), and only 66\.7% can be served at all"):
        solve_problem(radius, EXACT)


def test_a_level_short_by_a_billionth_is_refused_before_solving():
    """2e9 units within reach and 1 unit beyond the limit: 100 % cannot be met, and the check before
    solving says so (its tolerance of 1e-9 of the demand had let it through to the solver)."""
    problem = dense_problem(demand=[2e9, 1], opening_cost=[0, 0], capacity=[np.inf, np.inf],
                            unit_cost=[[1, 1], [1, 1]], penalty=50.0)
    problem = dataclasses.replace(problem, arc_distance_km=np.array([10.0, 500.0, 10.0, 500.0]),
                                  service_share=np.array([1.0]), service_km=np.array([100.0]))
    with pytest.raises(InfeasibleError, match=r"asks 100\.0%.*only 99\.999999% of it has any candidate site"):
        solve_problem(problem, EXACT)


def test_one_level_missed_by_less_than_the_rounding_is_at_most_not_alone(monkeypatch):
    """With one service level, the explanation never says 'each level is reachable alone'."""
    import planner.solver.service as service

    problem = dataclasses.replace(two_sites_two_regions(0.9), max_facilities=1)
    monkeypatch.setattr(service, "best_service_shares", lambda *_: {0: (0.9 - 1e-10, 0.9 - 1e-10, True)})
    text = str(service.explain_service_infeasibility(problem, EXACT))
    assert "at most" in text and "alone" not in text


def test_a_level_a_facility_count_limit_blocks_names_that_limit():
    """Two sites each 10 km from one of two regions, at most one site open: 50 % within 100 km at most;
    the refusal says to raise the count limit (and only where there is one)."""
    problem = dense_problem(demand=[10, 10], opening_cost=[0, 0], capacity=[np.inf, np.inf],
                            unit_cost=[[1, 1], [1, 1]], penalty=50.0)
    problem = dataclasses.replace(problem, arc_distance_km=np.array([10.0, 500.0, 500.0, 10.0]),
                                  service_share=np.array([0.8]), service_km=np.array([100.0]))
    solve_problem(problem, EXACT)  # both open: 100 % within
    limited = dataclasses.replace(problem, max_facilities=1)
    with pytest.raises(InfeasibleError, match=r"at most 50\.0% is reachable.*raise the facility-count limits"):
        solve_problem(limited, EXACT)


def test_a_level_a_capex_budget_blocks_names_the_budget():
    """As above with both sites needed for 80 %, each costing 100 of capex, and a budget of 150: one
    site, 50 % at most; the refusal names the budget (it named only sites and capacity)."""
    problem = dense_problem(demand=[10, 10], opening_cost=[0, 0], capacity=[np.inf, np.inf],
                            unit_cost=[[1, 1], [1, 1]], penalty=50.0)
    problem = dataclasses.replace(problem, arc_distance_km=np.array([10.0, 500.0, 500.0, 10.0]),
                                  service_share=np.array([0.8]), service_km=np.array([100.0]),
                                  capex=np.array([100.0, 100.0]), capex_budget=150.0)
    with pytest.raises(InfeasibleError, match=r"at most 50\.0% is reachable.*raise the capex budget "
                                              r"\(network.capex_budget\)"):
        solve_problem(problem, EXACT)
    unbudgeted = dataclasses.replace(problem, capex_budget=np.inf, max_facilities=1)
    with pytest.raises(InfeasibleError) as caught:
        solve_problem(unbudgeted, EXACT)
    assert "capex budget" not in str(caught.value) and "CO2 cap" not in str(caught.value)


def test_a_refusal_names_the_budget_or_the_co2_cap_only_where_dropping_it_raises_the_best_share():
    """A budget of 0 beside a CO2 cap nothing emits against: 0 % reachable, and the refusal had said to raise
    the budget "or the CO2 cap"; dropping the cap raises nothing, so only the budget is named. The converse:
    near deliveries emit 1 t/unit under a cap of 15 t (75 % within 100 km at most) beside a budget that
    holds both sites: only the cap is named (the run itself is refused by the cap's explanation, which comes
    first; the service level's is asked directly)."""
    problem = dense_problem(demand=[10, 10], opening_cost=[0, 0], capacity=[np.inf, np.inf],
                            unit_cost=[[1, 1], [1, 1]], penalty=50.0)
    near = np.array([10.0, 500.0, 500.0, 10.0])
    problem = dataclasses.replace(problem, arc_distance_km=near, service_share=np.array([0.8]),
                                  service_km=np.array([100.0]), capex=np.array([100.0, 100.0]))
    with pytest.raises(InfeasibleError) as caught:
        solve_problem(dataclasses.replace(problem, capex_budget=0.0, co2_cap_t=5.0), EXACT)
    assert "raise the capex budget (network.capex_budget) or add" in str(caught.value)  # the cap is not a fix
    assert "the CO2 cap (network.max_co2_t_per_yr)" not in str(caught.value)
    capped = dataclasses.replace(problem, capex_budget=1000.0, co2_cap_t=15.0,
                                 arc_co2_t=np.where(near < 100.0, 1.0, 0.0))
    with pytest.raises(InfeasibleError, match="no network meets the CO2 cap"):  # the cap's own explanation first
        solve_problem(capped, EXACT)
    text = str(explain_service_infeasibility(capped, EXACT))  # the service level's, as where both are asked
    assert "at most 75.0% is reachable" in text and "raise the CO2 cap (network.max_co2_t_per_yr) or add" in text
    assert "capex budget" not in text


def test_a_level_refused_for_reach_states_the_best_share_found_by_solving():
    """Three sites each within 100 km of one of four regions: 75 % has a site that near, and at most one
    site may open: 25 % is the best. The refusal before solving had named 75 % as the best any network
    reaches, so a user who asked for 75 % was refused again."""
    problem = dense_problem(demand=[10, 10, 10, 10], opening_cost=[0, 0, 0], capacity=[np.inf] * 3,
                            unit_cost=np.ones((3, 4)), penalty=50.0)
    near = np.where(problem.arc_option == problem.arc_region, 10.0, 500.0)
    problem = dataclasses.replace(problem, arc_distance_km=near, service_share=np.array([0.9]),
                                  service_km=np.array([100.0]))
    with pytest.raises(InfeasibleError, match=r"only 75\.0% of it has any candidate site that near"):
        solve_problem(problem, EXACT)  # nothing else limits it: the reach is the best, with its own advice
    with pytest.raises(InfeasibleError, match=r"asks 90\.0% .*at most 25\.0% is reachable.*facility-count"):
        solve_problem(dataclasses.replace(problem, max_facilities=1), EXACT)


def test_a_level_refused_for_reach_in_a_model_infeasible_without_it_names_the_other_cause():
    """A budget for one site whose capacity cannot serve the demand that must be served: the reach
    message had come back with "(even without the service levels)" after it, the budget unnamed."""
    problem = dense_problem(demand=[10, 10], opening_cost=[0, 0], capacity=[15, 15], unit_cost=[[1, 1], [1, 1]])
    problem = dataclasses.replace(problem, capex=np.array([100.0, 100.0]), capex_budget=150.0,
                                  arc_distance_km=np.array([10.0, 500.0, 500.0, 500.0]),
                                  service_share=np.array([0.9]), service_km=np.array([100.0]))
    with pytest.raises(InfeasibleError, match=r"needs a capex of at least 200 USD, but network\.capex_budget is 150.*"
                                              r"\(even without the service levels\)$"):
        solve_problem(problem, EXACT)


def test_a_level_no_site_is_near_enough_for_is_refused_before_solving():
    problem = dataclasses.replace(two_sites_two_regions(0.9), arc_distance_km=np.array([10.0, 500, 500, 500]))
    with pytest.raises(InfeasibleError, match=r"only 50\.0% of it has any candidate site that near"):
        solve_problem(problem, EXACT)


def test_minutes_count_only_where_known():
    problem = dataclasses.replace(two_sites_two_regions(0.9), service_km=np.array([np.inf]),
                                  service_minutes=np.array([60.0]), arc_minutes=np.array([30.0, 400, np.nan, 45]))
    assert problem.arc_within_service.tolist() == [True, False, False, True]
    run = solve_problem(problem, EXACT)
    assert run.report.objective == pytest.approx(120.0)


def test_coverage_curve_steps_at_each_delivery():
    run = solve_problem(two_sites_two_regions(0.0), EXACT)  # s0 serves r0 at 10 km, r1 at 500 km
    curve = run.tables.coverage_curve(points=3)  # 0, 250, 500 km
    assert curve["distance_km"].tolist() == [0.0, 250.0, 500.0]
    assert curve["share_within"].tolist() == [0.0, 0.5, 1.0]


def test_coverage_curve_of_no_delivery_and_of_deliveries_all_0_km_is_one_point():
    from planner.results import ResultTables

    regions = pd.DataFrame({"region_id": ["a", "b", "a"], "product": ["x", "x", "y"], "demand": [3.0, 1.0, 2.0],
                            "served": [3.0, 0.0, 0.0], "unmet": [0.0, 1.0, 2.0]})
    flows = pd.DataFrame({"region_id": ["a"], "product": ["x"], "distance_km": [0.0], "quantity": [3.0]})
    curve = ResultTables(sites=pd.DataFrame(), flows=flows, regions=regions).coverage_curve()
    # x: every delivery 0 km (50 equal rows had been written); y: demand, no delivery (no row had been)
    assert curve.values.tolist() == [["x", 0.0, 0.75], ["y", 0.0, 0.0]]


# CLI ----------------------------------------------------------------------------------------------------
SERVICE_TYPES = """[facility_types.plant]
opening_cost_per_yr = 100.0
products = { standard = { cost_per_unit = 1.0 } }
"""


def service_model(tmp_path, service: str, od: bool = False):
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0, 5.0], [10, 10, 10])
    model = tiny_model_file(tmp_path / "model.toml", regions, SERVICE_TYPES)
    model.write_text(model.read_text().replace("unmet_penalty_per_unit = 1000.0",
                                               f"unmet_penalty_per_unit = 1000.0\nservice = {service}"))
    return model


def test_cli_writes_the_share_and_the_curve(tmp_path):
    """Regions at 0°, 1° and 5° E; candidate sites at each. One plant (opening 100) is cheapest without
    a level; 2/3 of the demand within 50 km needs two plants."""
    model = service_model(tmp_path, "{ min_share_within = 0.66, within_km = 50 }")
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "service     standard: 66.7% within 50 km (required 66.0%)" in result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["facilities"]["plant"] == 2
    (level,) = summary["service"]["levels"]
    assert level["achieved_share"] == pytest.approx(2 / 3)
    assert summary["audit"]["violations"]["service_level"] <= 1e-6
    curve = pd.read_csv(tmp_path / "out" / "coverage.csv")
    assert curve["share_within"].iloc[-1] == pytest.approx(1.0)
    flows = pd.read_csv(tmp_path / "out" / "flows.csv")
    for km, share in summary["service"]["coverage_curve"]["standard"]:  # each point as flows.csv gives it
        assert share == pytest.approx(flows.loc[flows["distance_km"] <= km, "quantity"].sum() / 30.0)
    # the same curve in both files (summary.json had 21 distances, coverage.csv 50)
    assert summary["service"]["coverage_curve"]["standard"] == curve[["distance_km", "share_within"]].values.tolist()
    assert "Service level and coverage curve" in (tmp_path / "out" / "report.html").read_text()


def test_cli_minutes_need_an_od_matrix(tmp_path):
    model = service_model(tmp_path, "{ min_share_within = 0.5, within_minutes = 60 }")
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "products.standard.service.within_minutes needs delivery times" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # a few seconds: in the whole suite only
def test_cli_minutes_from_the_od_matrix(tmp_path):
    model = service_model(tmp_path, "{ min_share_within = 0.6, within_minutes = 60 }")
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,lon,lat\nA,0,0\nB,5,0\n")
    km = {("A", "R0"): 0, ("A", "R1"): KM_PER_DEGREE, ("A", "R2"): 5 * KM_PER_DEGREE,
          ("B", "R0"): 5 * KM_PER_DEGREE, ("B", "R1"): 4 * KM_PER_DEGREE, ("B", "R2"): 0}
    rows = [f"{a},{r},{d:.3f},{d / 80 * 60:.3f}" for (a, r), d in km.items()]  # 80 km/h
    od = tmp_path / "od.csv"
    od.write_text("from,to,distance_km,minutes\n" + "\n".join(rows) + "\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--sites", str(sites), "--od-matrix", str(od),
                                       "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    # A alone is cheapest but has only R0 within 60 min (R1 is 83 min away, R2 417): B must open too
    assert summary["facilities"]["plant"] == 2
    flows = pd.read_csv(out / "flows.csv")
    assert "minutes" in flows.columns
    assert summary["service"]["levels"][0]["achieved_share"] == pytest.approx(2 / 3)


def test_cli_level_no_network_meets_exits_1(tmp_path):
    model = service_model(tmp_path, "{ min_share_within = 0.9, within_km = 50 }")
    model.write_text(model.read_text().replace("opening_cost_per_yr = 100.0",
                                               "opening_cost_per_yr = 100.0\nmax_count = 1"))
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert "at most 33.3% is reachable" in result.output
    assert "Traceback" not in result.output


def test_the_level_holds_in_every_scenario():
    """Scenarios a (r1 demand 10) and b (r1 demand 30), equally likely; s1 now opens for 10,000 and
    unmet demand costs 50/unit, so s1 never pays for itself (the pruning of options that cannot pay
    must keep it for the level). The level (90 % within 100 km) needs s1 open in both: a 10,000 + 10
    + 10, b 10,000 + 10 + 30, expected 10,030; without the level s0 alone: a 10 + 20 = 30, b 10 + 60
    = 70, expected 50."""
    from planner.inputs.scenarios import Scenarios
    from planner.studies.stochastic.analysis import solve_stochastic
    from planner.studies.stochastic.problem import never_worth_opening, stochastic_problem

    scenarios = Scenarios(("a", "b"), np.array([0.5, 0.5]), np.array([[[10.0], [10.0]], [[10.0], [30.0]]]))
    for share, expected, pruned in ((0.9, 10_030.0, [False, False]), (0.0, 50.0, [False, True])):
        problem = dataclasses.replace(two_sites_two_regions(share, penalty=50.0), demand=np.array([[10.0], [30.0]]),
                                      opening_cost=np.array([0.0, 10_000.0]))
        sp = stochastic_problem(problem, scenarios, ["other"], prune_options=False)
        assert never_worth_opening(sp).tolist() == pruned
        run = solve_stochastic(stochastic_problem(problem, scenarios, ["other"]), EXACT)
        assert run.objective == pytest.approx(expected)
        assert run.audit.passed


def test_a_share_short_of_the_whole_is_never_shown_as_the_whole():
    """The refusal names the share asked: 0.999999 must not read '100.0%', nor a tiny share '0.0%'."""
    from planner.model.arrays import share_text

    assert share_text(0.95) == "95.0%" and share_text(1.0) == "100.0%" and share_text(0.0) == "0.0%"
    assert share_text(0.999999) == "99.9999%"
    assert share_text(1e-5) == "0.001%"


def test_a_share_closer_than_the_last_digit_still_reads_short_of_the_end():
    from planner.model.arrays import share_text

    assert share_text(1 - 1e-9) == "99.999999%" and share_text(1e-9) == "0.000001%"


def test_a_service_level_on_a_product_without_demand_is_warned_about():
    from planner.inputs.screen import screen_problem

    problem = dataclasses.replace(two_sites_two_regions(0.9), demand=np.zeros((2, 1)))
    assert any("has a service level but no demand" in w for w in screen_problem(problem).warnings)
    assert not any("service level" in w for w in screen_problem(two_sites_two_regions(0.9)).warnings)


def test_a_level_is_met_at_a_loss_where_the_penalty_is_below_every_unit_cost(tmp_path):
    """Regions at 0°, 1° and 5° E (10 units each), a unit costs 1.0 to make and the unmet penalty is 1.0:
    every delivery costs at least as much as leaving it unmet, but 60 % within 50 km needs two of the
    regions served by a plant on their own site (the others are over 111 km away): 2 × 100 + 20 × 1.0 +
    10 unmet × 1.0 = 230 (a unit within beyond the level ties with leaving it unmet). The penalty
    pruning dropped every arc, and the level was refused."""
    model = service_model(tmp_path, "{ min_share_within = 0.6, within_km = 50 }")
    model.write_text(model.read_text().replace("unmet_penalty_per_unit = 1000.0", "unmet_penalty_per_unit = 1.0"))
    summary = solved_summary(model, tmp_path / "out")
    assert summary["objective"] == pytest.approx(230.0)
    assert summary["service"]["levels"][0]["achieved_share"] >= 0.6 - 1e-9  # serving at 1.0 or not ties


def test_only_deliveries_within_the_level_are_kept_at_a_loss():
    """Arcs within the km and the minutes (an unknown time is never within) survive the penalty pruning."""
    cost_model = SimpleNamespace(objective=SimpleNamespace(kind="cost"))
    product = SimpleNamespace(service=ServiceConfig(min_share_within=0.5, within_km=100, within_minutes=60))
    km, minutes = np.array([50.0, 150.0, 50.0, 50.0]), np.array([30.0, 30.0, 90.0, np.nan])
    assert served_at_a_loss(cost_model, product, km, minutes).tolist() == [True, False, False, False]
    assert not served_at_a_loss(cost_model, SimpleNamespace(service=None), km, minutes).any()
    assert served_at_a_loss(SimpleNamespace(objective=SimpleNamespace(kind="p_median")), product, km, minutes).all()


def test_validate_refuses_a_level_no_site_is_near_enough_for(tmp_path):
    """Without solving: the reach check (its solve-time refusal now solves for the best share)."""
    from click.testing import CliRunner

    from planner.cli import main
    from tests.test_bad_input import MODEL, PENALTY_LINE, write_instance

    model = write_instance(tmp_path, model=MODEL.replace(
        PENALTY_LINE, PENALTY_LINE + "service = { min_share_within = 0.99, within_km = 1 }\n"))
    result = CliRunner().invoke(main, ["validate", "--model", str(model)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "has any candidate site that near (no network can reach more)" in result.stderr.splitlines()[-1]
