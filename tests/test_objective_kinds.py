"""The classic location models on the planner's problem (``[objective] kind``): brute force over the
open sets on seeded tiny instances, hand-derived cases, the key checks of the model file, the CLI."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.errors import InfeasibleError, InputError
from planner.inputs.config import model_config_from_dict
from planner.inputs.objectives import classic_problem, kind_value
from planner.pipeline import solve_problem
from planner.problem import ARC_FIELDS
from planner.solver import SolverOptions
from planner.timing import Timing
from tests.builders import KM_PER_DEGREE, PLANT_TOML, dense_problem, equator_regions, tiny_model_file
from tests.marks import some_slow

EXACT = SolverOptions(mip_gap=0.0, quiet=True)


def random_instance(seed: int, n_sites: int = 5, n_regions: int = 7):
    """Sites and regions at random points of a 100 km square; demand 1–9 per region; uncapacitated."""
    rng = np.random.default_rng(seed)
    sites, regions = rng.uniform(0, 100, (n_sites, 2)), rng.uniform(0, 100, (n_regions, 2))
    km = np.linalg.norm(sites[:, None, :] - regions[None, :, :], axis=2)
    problem = dense_problem(demand=rng.integers(1, 10, n_regions), opening_cost=np.zeros(n_sites),
                            capacity=np.full(n_sites, np.inf), unit_cost=np.zeros((n_sites, n_regions)))
    return dataclasses.replace(problem, arc_distance_km=km.ravel()), km


def brute(km: np.ndarray, demand: np.ndarray, kind: str, p: int | None, coverage: float = np.inf) -> float:
    """The kind's optimum over all open sets (uncapacitated: each region to its nearest open site)."""
    n_sites = km.shape[0]
    values = []
    sizes = [p] if kind == "p_median" else range(1, (p or n_sites) + 1)
    for size in sizes:
        for opened in itertools.combinations(range(n_sites), size):
            nearest = km[list(opened)].min(axis=0)
            if kind == "p_median":
                values.append(float(demand @ nearest))
            elif kind == "p_center":
                values.append(float(nearest.max()))
            elif kind == "max_covering":
                values.append(-float(demand[nearest <= coverage].sum()))
            elif (nearest <= coverage).all():
                values.append(float(size))
    return min(values) if values else np.inf


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("kind", ["p_median", "p_center", "max_covering", "set_covering"])
def test_each_kind_against_brute_force(kind, seed):
    problem, km = random_instance(seed)
    demand = problem.demand[:, 0]
    p = None if kind == "set_covering" else 2
    coverage = 45.0 if kind in ("max_covering", "set_covering") else np.inf
    expected = brute(km, demand, kind, p, coverage)
    if not np.isfinite(expected):  # a region no site covers: refused when the problem is made
        with pytest.raises(InfeasibleError, match="no candidate site within the coverage"):
            solve_problem(classic_problem(problem, kind, p, coverage_km=coverage), EXACT)
        return
    run = solve_problem(classic_problem(problem, kind, p, coverage_km=coverage), EXACT)
    value = kind_value(run.problem, run.tables.flows, run.tables.sites, run.tables.regions)
    assert value == pytest.approx(-expected if kind == "max_covering" else expected, rel=1e-9)
    assert run.audit.passed
    assert run.report.status.value == "optimal"


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kind", ["p_median", "p_center", "max_covering", "set_covering"])
def test_prices_demand_factors_and_supplier_costs_are_not_part_of_a_kinds_measure(kind, seed, caplog):
    """A proximity price and demand factor on every arc and suppliers with costs change no kind's optimum
    (brute force of the plain instance, base demand): they had been let into the measure, and a
    set_covering had opened 5 sites where 3 cover, 'proven optimal'."""
    from tests.builders import with_supply

    problem, km = random_instance(seed)
    rng = np.random.default_rng(100 + seed)
    n_sites = km.shape[0]
    problem = dataclasses.replace(problem, arc_price=rng.uniform(0, 500, problem.n_arcs),
                                  arc_demand_factor=rng.uniform(0.5, 1.5, problem.n_arcs))
    problem = with_supply(problem, bom=[[1.0]], supplier_material=[0, 0], capacity=[np.inf, np.inf],
                          price=[50.0, 70.0], km=rng.uniform(10, 900, (2, n_sites)), rate=3.0, fixed=1e4)
    p = None if kind == "set_covering" else 2
    coverage = 60.0 if kind in ("max_covering", "set_covering") else np.inf
    expected = brute(km, problem.demand[:, 0], kind, p, coverage)
    run = solve_problem(classic_problem(problem, kind, p, coverage_km=coverage), EXACT)
    value = kind_value(run.problem, run.tables.flows, run.tables.sites, run.tables.regions)
    assert value == pytest.approx(-expected if kind == "max_covering" else expected, rel=1e-9)
    assert run.report.status.value == "optimal" and run.audit.passed
    assert "leaves out the proximity prices and demand factors" in caplog.text


def test_hand_derived_line():
    """Regions at 0, 10, 20, 30 km (demand 1), sites at the same places. p-median p=2: sites 0|10 and
    20|30 (either) → distance 2 × 10 = 20; p-center p=2: radius 10; MCLP p=1 within 10 km: 3 regions;
    LSCP within 10 km: 2 sites (10 and 20 cover everything: 0-10-20 and 20-30)."""
    positions = np.array([0.0, 10.0, 20.0, 30.0])
    km = np.abs(positions[:, None] - positions[None, :])
    problem = dense_problem(demand=[1, 1, 1, 1], opening_cost=np.zeros(4), capacity=np.full(4, np.inf),
                            unit_cost=np.zeros((4, 4)))
    problem = dataclasses.replace(problem, arc_distance_km=km.ravel())
    for kind, p, coverage, expected in (("p_median", 2, np.inf, 20.0), ("p_center", 2, np.inf, 10.0),
                                        ("max_covering", 1, 10.0, 3.0), ("set_covering", None, 10.0, 2.0)):
        run = solve_problem(classic_problem(problem, kind, p, coverage_km=coverage), EXACT)
        assert kind_value(run.problem, run.tables.flows, run.tables.sites, run.tables.regions) == expected, kind


def test_a_p_center_no_network_of_p_meets_names_the_service_level():
    """One site cannot bring 95 % of the demand within 40 km (each region has a site that near): the
    refusal names the service level, the best share one site reaches (brute force) and how to lift it."""
    problem, km = random_instance(0, n_sites=5, n_regions=7)
    assert (km.min(axis=0) <= 40).all()
    problem = dataclasses.replace(classic_problem(problem, "p_center", 1), service_share=np.array([0.95]),
                                  service_km=np.array([40.0]), service_minutes=np.array([np.inf]))
    demand = problem.demand[:, 0]
    best = max(demand[km[site] <= 40].sum() for site in range(5)) / demand.sum()  # one site's share within 40 km
    with pytest.raises(InfeasibleError, match=rf"product 'p' asks 95.0% of its demand within 40 km; at most "
                                              rf"{best:.1%} is reachable; lower min_share_within, widen the limit, "
                                              r"raise the facility-count limits \(max_facilities, max_count or the "
                                              r"objective's p\)"):
        solve_problem(problem, EXACT, Timing())


def test_a_p_center_a_capex_budget_blocks_names_the_budget():
    """Two sites each needed for one of two far-apart regions with every demand to be served; a budget
    for one: the refusal had named only capacity and counts."""
    problem = dense_problem(demand=[10, 10], opening_cost=[0, 0], capacity=[np.inf, np.inf],
                            unit_cost=[[1, 1], [1, 1]], penalty=None)
    problem = dataclasses.replace(problem, arc_distance_km=np.where(problem.arc_option == problem.arc_region, 10.0,
                                                                    np.inf), capex=np.array([100.0, 100.0]),
                                  capex_budget=150.0)
    problem = dataclasses.replace(problem, **{name: getattr(problem, name)[np.isfinite(problem.arc_distance_km)]
                                              for name in ARC_FIELDS})
    with pytest.raises(InfeasibleError, match=r"\(counts or the capex budget \(network\.capex_budget\)\); "
                                              r"raise p, or raise the budget"):  # uncapacitated: no capacity named
        solve_problem(classic_problem(problem, "p_center", 2), EXACT, Timing())


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("route", ["classic", "covering"])
def test_both_p_center_routes_against_brute_force(seed, route, monkeypatch):
    """The classic search (only p binds) and the covering search (forced here, as with capacities) find
    the brute-force radius on random instances of 4–8 sites, p = 1–3, and say it is proven."""
    from planner.solver import center_search

    rng = np.random.default_rng(seed)
    problem, km = random_instance(seed, n_sites=int(rng.integers(4, 9)), n_regions=int(rng.integers(5, 12)))
    p = int(rng.integers(1, 4))
    classic = classic_problem(problem, "p_center", p)
    assert center_search.classic_applies(classic)
    if route == "covering":
        monkeypatch.setattr(center_search, "classic_applies", lambda problem: False)
    run = solve_problem(classic, EXACT)
    assert run.report.termination.endswith("classic p-center solves" if route == "classic" else "covering solves")
    assert kind_value(run.problem, run.tables.flows, run.tables.sites, run.tables.regions) == \
        pytest.approx(brute(km, problem.demand[:, 0], "p_center", p), rel=1e-12)
    assert run.report.status.value == "optimal" and run.audit.passed


@pytest.mark.parametrize("seed", range(4))
def test_a_capacitated_p_center_against_brute_force_over_assignments(seed):
    """Capacity 2 or 3 regions per site (demand 1 each), 4 sites, 6 regions, p = 2 or 3: the least
    radius over every open set and every assignment within the capacities (the covering search; the
    classic one does not apply)."""
    from planner.solver import center_search

    rng = np.random.default_rng(100 + seed)
    n_sites, n_regions, capacity, p = 4, 6, float(rng.integers(2, 4)), int(rng.integers(2, 4))
    sites, regions = rng.uniform(0, 100, (n_sites, 2)), rng.uniform(0, 100, (n_regions, 2))
    km = np.linalg.norm(sites[:, None, :] - regions[None, :, :], axis=2)
    problem = dense_problem(demand=np.ones(n_regions), opening_cost=np.zeros(n_sites),
                            capacity=np.full(n_sites, capacity), unit_cost=np.zeros((n_sites, n_regions)))
    classic = classic_problem(dataclasses.replace(problem, arc_distance_km=km.ravel()), "p_center", p)
    assert not center_search.classic_applies(classic)
    best = np.inf
    for assignment in itertools.product(range(n_sites), repeat=n_regions):
        loads = np.bincount(assignment, minlength=n_sites)
        if (loads <= capacity).all() and np.count_nonzero(loads) <= p:
            best = min(best, float(km[list(assignment), np.arange(n_regions)].max()))
    if not np.isfinite(best):
        with pytest.raises(InfeasibleError):
            solve_problem(classic, EXACT)
        return
    run = solve_problem(classic, EXACT)
    assert kind_value(run.problem, run.tables.flows, run.tables.sites, run.tables.regions) == pytest.approx(best)
    assert run.report.status.value == "optimal" and run.audit.passed


def test_capacitated_p_center():
    """The line with capacity 2 per site and p = 2: each site serves two neighbours, radius 10 (0|10
    from 0 or 10, 20|30 from 20 or 30); with capacity 1 and p = 2 two regions stay unserved:
    infeasible."""
    positions = np.array([0.0, 10.0, 20.0, 30.0])
    km = np.abs(positions[:, None] - positions[None, :])
    for capacity, radius in ((2.0, 10.0), (1.0, None)):
        problem = dense_problem(demand=[1, 1, 1, 1], opening_cost=np.zeros(4), capacity=np.full(4, capacity),
                                unit_cost=np.zeros((4, 4)))
        classic = classic_problem(dataclasses.replace(problem, arc_distance_km=km.ravel()), "p_center", 2)
        if radius is None:
            with pytest.raises(InfeasibleError, match=r"the 2 largest sites \(objective.p = 2\) can make at most 2; "
                               "raise objective.p"):  # the screening says it, naming the key that binds
                solve_problem(classic, EXACT)
            continue
        run = solve_problem(classic, EXACT)
        assert kind_value(run.problem, run.tables.flows, run.tables.sites, run.tables.regions) == radius


@pytest.mark.parametrize(("objective", "message"), [
    ({"kind": "p_median"}, "needs p"),
    ({"kind": "max_covering", "p": 2}, "needs coverage_km"),
    ({"kind": "set_covering", "coverage_km": 10, "p": 2}, "p has no meaning"),
    ({"kind": "p_center", "p": 2, "coverage_km": 5}, "coverage has no meaning"),
    ({"kind": "minimax"}, "kind"),
])
def test_objective_keys_are_checked(objective, message):
    data = {
        "name": "m", "products": {"a": {}}, "transport": {"a": {"cost_per_unit_km": 0.1}},
        "facility_types": {"t": {"opening_cost_per_yr": 1.0, "products": {"a": {"cost_per_unit": 1.0}}}},
        "objective": objective,
    }
    with pytest.raises(InputError, match=message):
        model_config_from_dict(data)


def test_cli_p_center(tmp_path):
    """Regions at 0°, 1°, 2°, 10° E (a degree is 111.2 km); p = 2: one site at 1° serves 0°-2° within
    111.2 km, one at 10° serves itself: radius 111.2 km."""
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0, 2.0, 10.0], [10, 10, 10, 10])
    model = tiny_model_file(tmp_path / "model.toml", regions)
    model.write_text(model.read_text() + '[objective]\nkind = "p_center"\np = 2\n')
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    kind = summary["objective_kind"]
    assert kind["kind"] == "p_center" and kind["proven_optimal"]
    assert kind["value"] == pytest.approx(111.195, abs=0.01)
    assert "kind        p_center (p = 2): radius 111.19" in result.output
    objective = next(line for line in result.output.splitlines() if line.startswith("objective"))
    assert objective.endswith("units·km/yr of demand-weighted distance within the radius (best bound "
                              f"{summary['best_bound']:,.0f})"), objective
    assert kind["objective_counts"] == "units·km/yr of demand-weighted distance within the radius"


def test_cli_set_covering_in_minutes_prints_its_coverage(tmp_path):
    """R0 and R1 are 20 minutes apart (OD matrix): within 30 minutes one site covers both."""
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0], [10, 10])
    model = tiny_model_file(tmp_path / "model.toml", regions)
    model.write_text(model.read_text() + '[objective]\nkind = "set_covering"\ncoverage_minutes = 30\n')
    od = tmp_path / "od.csv"
    od.write_text("from,to,distance_km,minutes\nR0,R0,0,0\nR0,R1,111,20\nR1,R0,111,20\nR1,R1,0,0\n")
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--od-matrix", str(od), "--out",
                                       str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "kind        set_covering (coverage 30 min): facilities opened 1\n" in result.output
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "facilities opened 1 facilities" in report and "1.00 facilities" not in report


@pytest.mark.parametrize(("km", "minutes", "keys"), [(1.0, np.inf, "coverage_km"),
                                                    (np.inf, 1.0, "coverage_minutes"),
                                                    (1.0, 1.0, "coverage_km or coverage_minutes")])
def test_an_uncovered_region_names_the_coverage_keys_the_model_set(km, minutes, keys):
    problem, _ = random_instance(0)
    problem = dataclasses.replace(problem, arc_minutes=problem.arc_distance_km.copy())
    with pytest.raises(InfeasibleError, match=f"; widen {keys} or add candidate sites"):
        classic_problem(problem, "set_covering", coverage_km=km, coverage_minutes=minutes)


def test_the_report_of_max_covering_does_not_show_its_count_as_a_penalty_in_money(tmp_path):
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0], [10, 10])
    model = tiny_model_file(tmp_path / "model.toml", regions)
    model.write_text(model.read_text() + '[objective]\nkind = "max_covering"\np = 1\ncoverage_km = 50\n')
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "uncovered demand counted" in report and "<td>1.00</td>" not in report


def test_cli_p_median_p_above_the_candidates_names_objective_p(tmp_path):
    """p = 5 on two regions (two candidate sites): refused naming objective.p, the key the user wrote,
    not network.min_facilities, which the file does not set."""
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0], [10, 10])
    model = tiny_model_file(tmp_path / "model.toml", regions)
    model.write_text(model.read_text() + '[objective]\nkind = "p_median"\np = 5\n')
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 1
    assert "objective.p = 5 exceeds the 2 candidate sites" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [["compare"], ["pareto"], ["alternatives"], ["solve", "--scenarios", "3"]])
def test_cost_studies_refuse_a_classic_kind(tmp_path, command):
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0], [10, 10])
    model = tiny_model_file(tmp_path / "model.toml", regions)
    model.write_text(model.read_text() + '[objective]\nkind = "p_median"\np = 1\n')
    result = CliRunner().invoke(main, [*command, "--model", str(model), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "works on the cost model" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("objective", "value"), [
    ('kind = "p_median"\np = 2', 20 * KM_PER_DEGREE), ('kind = "p_center"\np = 2', KM_PER_DEGREE),
    ('kind = "max_covering"\np = 1\ncoverage_km = 120', 30.0), ('kind = "set_covering"\ncoverage_km = 120', 2.0),
])
def test_an_unmet_penalty_below_the_unit_cost_changes_no_classic_kind(tmp_path, objective, value):
    """Regions at 0°, 1°, 2°, 10° E (10 each), a unit costs at least 1.0 to make: with an unmet penalty of 0.5
    per unit every delivery costs more than leaving it unmet, which the classic kinds do not measure, so
    their optimum is the one by hand (p = 2: a site at 1° and one at 10°; one site at 1° covers 30 units
    within 120 km). The penalty pruning of the cost model dropped every arc here: p_median reported 0."""
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0, 2.0, 10.0], [10, 10, 10, 10])
    model = tiny_model_file(tmp_path / "model.toml", regions)
    model.write_text(model.read_text().replace("unmet_penalty_per_unit = 1000.0", "unmet_penalty_per_unit = 0.5")
                     + f"[objective]\n{objective}\n")
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["objective_kind"]["value"] == pytest.approx(value, rel=1e-4)


@pytest.mark.parametrize("kind", ["p_median", "p_center"])
def test_demand_out_of_every_radius_is_left_out_with_a_warning(tmp_path, kind):
    """Regions at 0°, 1° and 10° E with a 200 km delivery radius: the one at 10° is out of reach of the
    others' sites and its own site is not a candidate (sites at 0° and 1° only); it is left out of the
    kind, and the run says so, naming it and its units."""
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0, 10.0], [10, 20, 30])
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,lon,lat\nA,0,0\nB,1,0\n")
    model = tiny_model_file(tmp_path / "model.toml", regions)
    radius = "cost_per_unit_km = 0.01\nmax_distance_km = 200"
    model.write_text(model.read_text().replace("cost_per_unit_km = 0.01", radius)
                     + f'[objective]\nkind = "{kind}"\np = 1\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--sites", str(sites), "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    expected = f"{kind}: product 'standard': 1 regions (R2) are beyond every delivery radius"
    assert any(w.startswith(expected) and "(30 units/yr)" in w for w in summary["warnings"]), summary["warnings"]


def test_the_report_and_the_workbook_state_the_kinds_measure_not_money(tmp_path):
    """p_median on regions at 0°, 1°, 2°, 10° E, p = 2: 20 × 111.2 = 2,223.9 units·km/yr. The report's
    headline and key figure state that measure (no total cost, no cost per unit); the workbook's
    objective and cost column carry its unit, not the currency."""
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0, 2.0, 10.0], [10, 10, 10, 10])
    model = tiny_model_file(tmp_path / "model.toml", regions)
    model.write_text(model.read_text() + '[objective]\nkind = "p_median"\np = 2\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "kind        p_median (p = 2): demand-weighted distance 2,223.9 units·km/yr\n" in result.output
    html = (out / "report.html").read_text()
    assert "optimal, p_median: demand-weighted distance 2,223.90 units·km/yr, gap" in html
    assert "total cost" not in html and "cost per unit served" not in html and "<h2>Objective: p_median</h2>" in html
    summary_sheet = pd.read_excel(out / "results.xlsx", sheet_name="summary").set_index("item")
    assert summary_sheet.loc["objective", "unit"] == "units·km/yr"
    assert "cost (units·km/yr)" in pd.read_excel(out / "results.xlsx", sheet_name="costs").columns
    # the solver and audit rows, the facility table, the tables' sheets and the map's legend too
    solver_rows = html[html.index("<td>objective</td>"):html.index("relative difference")]
    assert "units·km/yr" in solver_rows and "USD" not in solver_rows
    assert "fixed cost (units·km/yr)" in html
    for sheet, column in (("sites", "fixed_cost"), ("flows", "transport_cost"), ("regions", "unmet_cost")):
        assert f"{column} (units·km/yr)" in pd.read_excel(out / "results.xlsx", sheet_name=sheet).columns
    page = (out / "map.html").read_text()
    assert "cost to serve (km, quantiles)" in page and '"per_year":"units·km/yr"' in page
    # the maps' title too (it read "cost 2,224 USD/yr")
    title = re.search(r"<title>(.*?)</title>", page).group(1)
    assert "p_median: demand-weighted distance 2,223.90 units·km/yr" in title and "USD" not in title


def test_the_assumptions_state_set_coverings_unit_costs_in_facilities_not_money(tmp_path):
    """set_covering solves with an opening cost of 1 per facility: the report's assumptions and the inputs sheet
    had read "opening (USD/yr) 1" and "opening cost min 1 USD/yr"; capex stays money."""
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0], [10, 10])
    model = tiny_model_file(tmp_path / "model.toml", regions)
    model.write_text(model.read_text() + '[objective]\nkind = "set_covering"\ncoverage_km = 50\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "opening (facilities)" in html and "opening (USD/yr)" not in html
    inputs = pd.read_excel(out / "results.xlsx", sheet_name="inputs")
    units = dict(zip(inputs["item"], inputs["unit"], strict=True))
    assert units["opening cost min"] == "facilities" and units["capex min"] == "USD"


def _p_median_on_the_equator(tmp_path, p, lines: str = ""):
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 10.0, 20.0], [10, 10, 10])
    model = tiny_model_file(tmp_path / "model.toml", regions)
    radius = "cost_per_unit_km = 0.01\nmax_distance_km = 200"
    model.write_text(model.read_text().replace("cost_per_unit_km = 0.01", radius)
                     + f'[objective]\nkind = "p_median"\np = {p}\n{lines}')
    return model


@pytest.mark.parametrize(("p", "sites", "message"), [
    (1, "", "at least 3 facilities must open to serve all demand that must be served, but at most 1 may"),
    (2, "forced", "need at least 3 facilities but objective.p is 2; raise objective.p, lower min_count or force"),
    ("1e20", "", "key 'objective.p': a whole number far too large for a count (got 1e+20)"),
])
def test_a_classic_kind_is_refused_in_its_own_terms(tmp_path, p, sites, message):
    """Regions 10° apart with a 200 km radius: each needs its own site. p = 1 names objective.p (never an
    unmet penalty, which the kinds ignore); three sites forced open against p = 2 name objective.p, not
    network.max_facilities, which the file does not set; a p too large for a count says so."""
    model = _p_median_on_the_equator(tmp_path, p)
    arguments = ["solve", "--model", str(model), "--out", str(tmp_path / "out")]
    if sites:
        (tmp_path / "sites.csv").write_text("site_id,lon,lat,forced\nA,0,0,true\nB,10,0,true\nC,20,0,true\n")
        arguments += ["--sites", str(tmp_path / "sites.csv")]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code in (1, 2) and message in result.output, result.output
    assert "unmet penalty" not in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("objective", "plant_line", "message"), [
    ('kind = "p_median"\np = 3', "max_count = 2", "objective.p = 3 but the facility types allow at most 2 "
     "facilities (max_count: plant 2); raise max_count or lower objective.p"),
    ('kind = "set_covering"\ncoverage_km = 200', "", "at most 2 may (the facility-count limit: "
     "network.max_facilities); raise network.max_facilities"),
])
def test_a_classic_kinds_count_limit_names_the_key_that_set_it(tmp_path, objective, plant_line, message):
    """Three regions 10° apart, 200 km radius: three sites needed. A type's max_count of 2 under p = 3 is
    named first, before solving; set_covering has no p, so network.max_facilities = 2 is named."""
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 10.0, 20.0], [10, 10, 10])
    model = tiny_model_file(tmp_path / "model.toml", regions)
    text = model.read_text().replace("cost_per_unit_km = 0.01", "cost_per_unit_km = 0.01\nmax_distance_km = 200")
    text = text.replace("opening_cost_per_yr = 100.0", f"opening_cost_per_yr = 100.0\n{plant_line}")
    network = "" if plant_line else "[network]\nmax_facilities = 2\n"
    model.write_text(text + f"{network}[objective]\n{objective}\n")
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and message in result.output, result.output
    assert ("objective.p" not in result.output or "p = 3" in objective) and "unmet penalty" not in result.output


def test_a_p_center_search_stops_at_its_time_limit_with_the_least_radius_known_feasible(monkeypatch):
    """Past the deadline each further covering step still had a second of its own (a 1 s limit ran 5 s):
    now the search stops with its smallest feasible radius, status time_limit, a valid upper value."""
    from planner.solver import center_search

    problem, km = random_instance(3, n_sites=6, n_regions=9)
    classic = classic_problem(problem, "p_center", 2)
    optimum = brute(km, problem.demand[:, 0], "p_center", 2)
    clock = iter(np.arange(0.0, 1000.0, 1.0))  # every reading a second later: the deadline passes at once
    monkeypatch.setattr(center_search.time, "perf_counter", lambda: float(next(clock)))
    monkeypatch.setattr(center_search, "classic_applies", lambda problem: False)  # the covering search's limit
    monkeypatch.setattr(center_search, "farthest_first_radius", lambda problem: None)  # (whose radius is optimal)
    run = solve_problem(classic, dataclasses.replace(EXACT, time_limit_s=0.5))
    assert run.report.status.value == "time_limit" and run.report.termination.endswith(" 1 covering solves")
    radius = kind_value(run.problem, run.tables.flows, run.tables.sites, run.tables.regions)
    assert radius >= optimum - 1e-9  # a feasible radius, not claimed least
    monkeypatch.undo()
    exact = solve_problem(classic, EXACT)
    assert exact.report.status.value == "optimal"
    assert kind_value(exact.problem, exact.tables.flows, exact.tables.sites, exact.tables.regions) == \
        pytest.approx(optimum)


def test_regions_beyond_every_coverage_are_named_as_uncovered_not_as_too_dear(caplog):
    """Max covering within 10 km on the line 0, 10, 20, 30 with sites at 0 and 10 only: 30 is beyond every
    coverage; the warning spoke of delivery radii and unmet penalties, which the kind does not use."""
    import logging

    km = np.abs(np.array([0.0, 10.0])[:, None] - np.array([0.0, 10.0, 20.0, 30.0])[None, :])
    problem = dense_problem(demand=[1, 1, 1, 1], opening_cost=np.zeros(2), capacity=np.full(2, np.inf),
                            unit_cost=np.zeros((2, 4)))
    problem = classic_problem(dataclasses.replace(problem, arc_distance_km=km.ravel()), "max_covering", 1,
                              coverage_km=10.0)
    with caplog.at_level(logging.WARNING, logger="planner"):
        run = solve_problem(problem, EXACT)
    assert kind_value(run.problem, run.tables.flows, run.tables.sites, run.tables.regions) == 3.0
    [line] = [r.getMessage() for r in caplog.records if "r3" in r.getMessage()]
    assert "no candidate site within the objective's coverage" in line and "penalty" not in line


def test_a_proven_radius_is_reported_proven_where_the_sum_within_it_is_not():
    """The p-center's radius is proven by its own search; the p-median within it may stop at its limit.
    The summary's kind block follows the radius (``kind_proven``), the status the sum."""
    from planner.export.summary import objective_kind_block
    from planner.solver.outcome import Status

    problem, _ = random_instance(2)
    run = solve_problem(classic_problem(problem, "p_center", 2), EXACT)
    assert run.report.kind_proven is True and objective_kind_block(run)["proven_optimal"]
    stopped = dataclasses.replace(run, report=dataclasses.replace(run.report, status=Status.TIME_LIMIT))
    assert objective_kind_block(stopped)["proven_optimal"]
    unproven = dataclasses.replace(run, report=dataclasses.replace(run.report, kind_proven=False))
    assert not objective_kind_block(unproven)["proven_optimal"]
    median = solve_problem(classic_problem(problem, "p_median", 2), EXACT)
    assert median.report.kind_proven is None and objective_kind_block(median)["proven_optimal"]


@pytest.mark.parametrize("seed", range(4))
def test_set_covering_by_the_classic_route_against_brute_force(seed):
    """Uncapacitated: the classic LSCP (dominance-reduced) on the planner's problem, the fewest sites of the
    brute force; capacitated (2 regions a site): the model's own route, which it does not apply to."""
    from planner.solver import center_search

    problem, km = random_instance(10 + seed, n_sites=6, n_regions=9)
    coverage = float(np.sort(km.min(axis=0))[-1]) * 1.3  # every region has a site within it
    classic = classic_problem(problem, "set_covering", None, coverage_km=coverage)
    assert center_search.cover_applies(classic)
    run = solve_problem(classic, EXACT)
    assert run.report.termination.startswith("classic set covering")
    assert kind_value(run.problem, run.tables.flows, run.tables.sites, run.tables.regions) == \
        brute(km, problem.demand[:, 0], "set_covering", None, coverage)
    assert run.report.status.value == "optimal" and run.audit.passed
    capacitated = dataclasses.replace(classic, module_capacity=np.full(classic.n_options, 2.0 * problem.demand.max()))
    assert not center_search.cover_applies(capacitated)
    two_types = dataclasses.replace(classic, option_site=np.zeros(classic.n_options, dtype=int))
    assert not center_search.cover_applies(two_types) and not center_search.nothing_else_binds(two_types)
    priced = dataclasses.replace(classic, arc_price=np.full(classic.n_arcs, 2.0))  # revenue in the objective
    assert not center_search.cover_applies(priced)
    run = solve_problem(priced, EXACT)
    assert run.audit.passed and not run.report.termination.startswith("classic set covering")


@pytest.mark.parametrize("capacity", [np.inf, 40.0])
def test_a_p_center_without_demand_has_radius_zero(capacity):
    """No region has demand: nothing to reach, radius 0 (as p_median's value is 0), not an internal error
    nor 'no candidate site can serve any demand'."""
    problem = dense_problem(demand=[0, 0, 0], opening_cost=np.zeros(2), capacity=np.full(2, capacity),
                            unit_cost=np.zeros((2, 3)))  # no demand: no arc
    run = solve_problem(classic_problem(problem, "p_center", 2), EXACT)
    assert run.report.status.value == "optimal" and run.audit.passed
    assert kind_value(run.problem, run.tables.flows, run.tables.sites, run.tables.regions) == 0.0


@pytest.mark.parametrize("kind", ["p_median", "p_center"])
def test_a_service_level_the_left_out_demand_cannot_meet_is_refused(kind):
    """Region 1 is beyond every radius: left out, a level of 90 % had been reported met (100 % of the rest,
    '0 units' of a product whose demand was all out of reach) where at most 50 % can be served."""
    import dataclasses

    from planner.errors import ServiceReachError
    from planner.problem import ARC_FIELDS
    from tests.builders import dense_problem

    problem = dense_problem(demand=[10, 10], opening_cost=[0, 0], capacity=[np.inf, np.inf],
                            unit_cost=[[1, 1], [1, 1]], penalty=None)
    near = problem.arc_region == 0
    problem = dataclasses.replace(problem, **{name: getattr(problem, name)[near] for name in ARC_FIELDS})
    asking = dataclasses.replace(problem, service_share=np.array([0.9]), service_km=np.array([1e6]))
    with pytest.raises(ServiceReachError, match="asks 90.0% of its demand .* only 50.0% of it"):
        classic_problem(asking, kind, 1)
    classic_problem(dataclasses.replace(asking, service_share=np.array([0.5])), kind, 1)  # reachable: no refusal
    # what is left asks as much of the whole: 30 % of 20 units is 60 % of the 10 within reach (it had been
    # measured against the 10 alone, so a level the whole demand cannot meet read as met)
    rest = classic_problem(dataclasses.replace(asking, service_share=np.array([0.3])), kind, 1)
    assert rest.service_share.tolist() == pytest.approx([0.6]) and rest.demand.sum() == 10


def test_a_service_level_refused_under_p_center_says_its_share_is_of_the_demand_within_reach():
    """Region r2 is beyond every radius, so p_center leaves its 10 units out and a level of 40 % of all
    30 units asks 60 % of the 20 within reach; only r0's 10 are within 150 km. The refusal had quoted the
    60 % as a share 'of its demand', beside a model file that says 40 %."""
    from planner.errors import InfeasibleError
    from planner.inputs.objectives import classic_problem, keep_arcs

    problem = dense_problem(demand=[10, 10, 10], opening_cost=[1.0, 1.0], capacity=[1e6, 1e6],
                            unit_cost=np.ones((2, 3)), arc_distance_km=np.array([0.0, 300, 300, 300, 300, 300]),
                            service_share=np.array([0.4]), service_km=np.array([150.0]))
    problem = keep_arcs(problem, problem.arc_region != 2)
    with pytest.raises(InfeasibleError) as raised:
        solve_problem(classic_problem(problem, "p_center", p=1), EXACT)
    assert "asks 60.0% of its demand within reach of a candidate site" in str(raised.value)


def capacitated_p_center_of_four_sites():
    """Seeded: 4 sites and 6 regions of demand 1 in a 100 km square, capacity 3 each, p = 2."""
    rng = np.random.default_rng(7)
    sites, regions = rng.uniform(0, 100, (4, 2)), rng.uniform(0, 100, (6, 2))
    km = np.linalg.norm(sites[:, None, :] - regions[None, :, :], axis=2)
    problem = dense_problem(demand=np.ones(6), opening_cost=np.zeros(4), capacity=np.full(4, 3.0),
                            unit_cost=np.zeros((4, 6)))
    return classic_problem(dataclasses.replace(problem, arc_distance_km=km.ravel()), "p_center", 2)


def test_the_last_solve_of_a_p_center_starts_from_the_network_its_search_found():
    """With the floor of the time left, the p-median within the radius had ended without a network and the
    run with "HiGHS ended without a feasible solution": the covering network of that radius starts it now."""
    from planner.errors import SolverError
    from planner.solver import center_search
    from planner.solver.engine import solve

    classic = capacitated_p_center_of_four_sites()
    assert not center_search.classic_applies(classic)

    def no_time_for_the_last(level, options, start=None):
        if level.objective_kind == "p_median":  # the last solve, out of time: only a start gives a network
            if start is None:
                raise SolverError("HiGHS ended without a feasible solution")
            return solve(level, options, start=start, explain=False)[0], start
        return solve(level, options, start=start, explain=False)

    report, solution, radius = center_search.solve_center(classic, EXACT, no_time_for_the_last)
    assert np.isfinite(radius) and solution.open.sum() <= 2


@pytest.mark.parametrize("seed", some_slow(range(3), fast=1))
def test_each_p_center_covering_step_ends_at_its_first_network(seed, monkeypatch):
    """A step of the covering search asks only whether some network of at most p facilities serves all
    demand within the radius: its objective is 0, so the first network found ends it. With the count
    minimised, a step of 1,000 points with a service level had spent its whole 40 s proving 6 facilities
    the fewest, and the radius stayed at 1,644 km against 1,052 km."""
    import planner.solver.engine as engine

    steps, original = [], engine.solve

    def recorded(problem, *args, **kwargs):
        report, solution = original(problem, *args, **kwargs)
        if problem.objective_kind == "set_covering":
            steps.append(report)
        return report, solution

    monkeypatch.setattr(engine, "solve", recorded)
    rng = np.random.default_rng(200 + seed)
    sites, regions = rng.uniform(0, 100, (5, 2)), rng.uniform(0, 100, (8, 2))
    km = np.linalg.norm(sites[:, None, :] - regions[None, :, :], axis=2)
    problem = dense_problem(demand=np.ones(8), opening_cost=np.zeros(5), capacity=np.full(5, 4.0),
                            unit_cost=np.zeros((5, 8)))
    run = solve_problem(classic_problem(dataclasses.replace(problem, arc_distance_km=km.ravel()), "p_center", 3), EXACT)
    assert steps and all(step.objective == 0 and step.status.value == "optimal" for step in steps)
    best = min(float(km[list(assignment), np.arange(8)].max())
               for assignment in itertools.product(range(5), repeat=8)
               if (np.bincount(assignment, minlength=5) <= 4).all() and len(set(assignment)) <= 3)
    assert kind_value(run.problem, run.tables.flows, run.tables.sites, run.tables.regions) == pytest.approx(best)


@pytest.mark.parametrize(("forced", "capacity"), [(False, np.inf), (True, np.inf), (False, 100.0)])
def test_a_p_center_the_sites_reach_blocks_names_the_reach_not_capacity(forced, capacity):
    """Two regions 500 km apart, each with a candidate site 10 km away, a 100 km delivery radius and p = 1:
    no one facility reaches both, whatever the capacity. The refusal had read "(capacity or counts); raise p
    or capacity" without any capacity in the model (a forced site), or with ample capacity, and spoke of a
    graph of disconnected parts on the classic route; it names the reach, the facilities needed and the key."""
    problem = dense_problem(demand=[5, 5], opening_cost=[0, 0], capacity=[capacity, capacity],
                            unit_cost=np.zeros((2, 2)), arc_distance_km=np.array([10.0, 500.0, 500.0, 10.0]),
                            max_distance_km=np.array([100.0]), forced=np.array([forced, False]))
    problem = dataclasses.replace(problem, **{name: getattr(problem, name)[problem.arc_distance_km <= 100]
                                              for name in ARC_FIELDS})
    with pytest.raises(InfeasibleError) as raised:
        solve_problem(classic_problem(problem, "p_center", 1), EXACT)
    text = str(raised.value)
    assert "p_center: no 1 facilities reach every region with demand" in text
    assert "needs at least 2" in text and "whatever the capacity" in text
    assert "raise objective.p to 2, widen transport.p.max_distance_km" in text
    assert "raise p or capacity" not in text and "graph" not in text
    assert ("1 forced or existing among them" in text) == forced


def test_a_p_center_a_forced_site_blocks_without_capacity_does_not_name_capacity():
    """The causes a p-center refusal lists are the limits the model has: capacity only where an option has
    one (it had been named always), forced sites where some are forced."""
    from planner.solver.center_search import center_causes

    problem = dense_problem(demand=[1, 1], opening_cost=[0, 0], capacity=[np.inf, np.inf], unit_cost=np.zeros((2, 2)),
                            forced=np.array([True, False]))
    causes, fixes = center_causes(classic_problem(problem, "p_center", 1))
    assert "capacity" not in causes and "capacity" not in fixes
    assert "forced or existing sites" in causes and fixes.startswith("raise p")
    capacitated = dataclasses.replace(problem, module_capacity=np.array([5.0, 5.0]))
    assert center_causes(classic_problem(capacitated, "p_center", 1))[0].startswith("capacity")


def test_a_p_center_search_out_of_time_at_the_largest_radius_is_not_called_infeasible():
    """Every covering step of a capacitated p-center ends at the time limit without a network: the run had
    been refused as "cannot serve all reachable demand even at the largest distance (capacity or counts)",
    an infeasibility nothing proved (600 regions, 80 sites, capacity 1.3 × demand / p, p = 8, --time-limit 1:
    feasible with --time-limit 0.05). It is a time limit without a network now."""
    from planner.errors import NoSolutionInTimeError
    from planner.solver import center_search

    classic = capacitated_p_center_of_four_sites()
    assert not center_search.classic_applies(classic)

    def out_of_time(level, options, start=None):
        raise NoSolutionInTimeError("HiGHS ended without a feasible solution (status: time limit)")

    with pytest.raises(NoSolutionInTimeError, match="the time limit ended the radius search before any network"):
        center_search.solve_center(classic, EXACT, out_of_time)


def test_a_p_center_service_level_no_network_meets_states_the_best_share():
    """Regions at 0 and 100 km (10 units each), a site at each, capacity 100, p = 1 and 75 % within 50 km: one
    facility brings 50 % that near. The refusal had listed only the limits ("capacity, counts or
    products.p.service"), where every other kind states the best share a network reaches, as documented."""
    problem = dense_problem(demand=[10, 10], opening_cost=[0, 0], capacity=[100.0, 100.0], unit_cost=np.zeros((2, 2)),
                            arc_distance_km=np.array([0.0, 100.0, 100.0, 0.0]), service_share=np.array([0.75]),
                            service_km=np.array([50.0]))
    with pytest.raises(InfeasibleError, match=r"product 'p' asks 75.0% of its demand within 50 km; at most 50.0% is "
                                              r"reachable; lower min_share_within"):
        solve_problem(classic_problem(problem, "p_center", 1), EXACT)


def test_set_covering_without_demand_opens_nothing(tmp_path):
    """Two regions of demand 0 within 5 km: there is nothing to cover, so no facility (0, proven). The classic
    LSCP of no rows had ended `planner solve` with "the classic set covering's sites do not serve every pair;
    rerun with --debug" (exit 1), where every other kind reports 0."""
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 0.01], [0, 0])
    model = tiny_model_file(tmp_path / "model.toml", regions)
    model.write_text(model.read_text() + '[objective]\nkind = "set_covering"\ncoverage_km = 5\n')
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    kind = json.loads((tmp_path / "out" / "summary.json").read_text())["objective_kind"]
    assert kind["value"] == 0 and kind["proven_optimal"]


def test_cli_p_center_a_types_delivery_radius_blocks_names_the_reach(tmp_path):
    """Regions at 0° and 10° E, the plant type delivering within 200 km, p = 1: no one facility reaches both;
    exit 1 naming the reach, the 2 facilities needed and the type's radius (the classic search had spoken of
    "delivery radii, or a graph of more disconnected parts than 1")."""
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 10.0], [10, 10])
    model = tiny_model_file(tmp_path / "model.toml", regions, PLANT_TOML.replace(
        "opening_cost_per_yr = 100.0", "opening_cost_per_yr = 100.0\nmax_delivery_km = 200"))
    model.write_text(model.read_text() + '[objective]\nkind = "p_center"\np = 1\n')
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 1, result.output
    assert "p_center: no 1 facilities reach every region with demand" in result.output
    assert "needs at least 2, whatever the capacity; raise objective.p to 2, widen a facility type's " \
           "max_delivery_km" in result.output
    assert not (tmp_path / "out").exists()


def test_a_p_center_search_past_its_deadline_starts_no_step_at_the_largest_radius(monkeypatch):
    """The likely radius tried first ends without an answer at the deadline: the search had then solved the
    largest radius, its most arcs, past the limit (0.3 s: 7.8 s on 3,000 points); it ends without a network
    instead, at one step."""
    from planner.errors import NoSolutionInTimeError
    from planner.solver import center_search

    rng = np.random.default_rng(7)
    sites, regions = rng.uniform(0, 100, (4, 2)), rng.uniform(0, 100, (6, 2))
    km = np.linalg.norm(sites[:, None, :] - regions[None, :, :], axis=2)
    problem = dense_problem(demand=np.ones(6), opening_cost=np.zeros(4), capacity=np.full(4, 3.0),
                            unit_cost=np.zeros((4, 6)))
    classic = classic_problem(dataclasses.replace(problem, arc_distance_km=km.ravel()), "p_center", 2)
    levels, _ = center_search.radius_levels(classic)
    monkeypatch.setattr(center_search, "farthest_first_radius", lambda problem: float(levels[len(levels) // 2]))
    clock = iter(np.arange(0.0, 1000.0, 1.0))  # every reading a second later: the deadline passes at once
    monkeypatch.setattr(center_search.time, "perf_counter", lambda: float(next(clock)))
    radii = []

    def out_of_time(level, options, start=None):
        radii.append(float(level.arc_distance_km.max()))
        raise NoSolutionInTimeError("HiGHS ended without a feasible solution (status: time limit)")

    with pytest.raises(NoSolutionInTimeError, match="the time limit ended the radius search before any network"):
        center_search.solve_center(classic, dataclasses.replace(EXACT, time_limit_s=0.5), out_of_time)
    assert len(radii) == 1 and radii[0] < levels[-1]


@pytest.mark.parametrize(("objective", "value", "served"), [
    ('kind = "max_covering"\np = 2\ncoverage_km = 0', 70.0, 70.0),
    ('kind = "set_covering"\ncoverage_km = 0', 4.0, 100.0),
])
def test_a_coverage_of_0_km_covers_a_region_from_its_own_site(tmp_path, objective, value, served):
    """Regions at 0°, 1°, 2°, 10° E with demand 10, 20, 30, 40 and a candidate site at each: within 0 km a
    site covers only its own region (distance ≤ D), so 2 sites cover at most 40 + 30 = 70 and covering all
    takes 4 sites. The model file had refused 0 where ``planner bench mclp|lscp --coverage 0`` took it."""
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0, 2.0, 10.0], [10, 20, 30, 40])
    model = tiny_model_file(tmp_path / "model.toml", regions)
    model.write_text(model.read_text() + f"[objective]\n{objective}\n")
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["objective_kind"]["value"] == value and summary["objective_kind"]["coverage_km"] == 0.0
    assert summary["demand"]["standard"]["served"] == served
    opened = pd.read_csv(tmp_path / "out" / "sites.csv")["site_id"].tolist()
    regions = pd.read_csv(tmp_path / "out" / "regions.csv").set_index("region_id")
    assert regions["served"].sum() == regions.loc[opened, "demand"].sum() == served  # each site serves its own region


def test_a_coverage_of_0_on_a_graph_covers_the_opened_vertices_alone(tmp_path):
    """The path 1-2-3-4 (edges of 5): within 0 a vertex is covered only by a site at itself, so MCLP with
    p = 2 covers 2 vertices of weight 1 and LSCP needs all 4, alike in `planner bench` and the model file."""
    from planner.studies.bench import run_bench

    graph = tmp_path / "path.txt"
    graph.write_text("4 3 2\n1 2 5\n2 3 5\n3 4 5\n")
    mclp = list(run_bench("mclp", [graph], coverage=0.0, threads=1))
    lscp = list(run_bench("lscp", [graph], coverage=0.0, threads=1))
    assert [row["objective"] for row in mclp] == [2.0] and [row["objective"] for row in lscp] == [4.0]


@pytest.mark.parametrize("key", ["coverage_km", "coverage_minutes"])
def test_a_coverage_of_0_is_accepted_and_a_negative_one_refused(key):
    from planner.inputs.config import ObjectiveConfig

    assert getattr(ObjectiveConfig(kind="set_covering", **{key: 0}), key) == 0.0
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        ObjectiveConfig(kind="set_covering", **{key: -1})
