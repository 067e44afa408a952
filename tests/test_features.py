"""Hand-derived optima, one model feature each, through the whole geographic path.

Regions are points on the equator, circuity 1, so the distance between longitudes 0 and 1 is
KM_PER_DEGREE = 111.195 km; every expected value below is derived in the test's docstring.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from planner.inputs.prepare import DataOptions
from planner.pipeline import load_and_prepare, plan
from planner.solver.outcome import SolverOptions, Status
from planner.timing import Timing
from tests.builders import KM_PER_DEGREE, dense_problem, equator_regions, tiny_config

EXACT = SolverOptions(mip_gap=1e-9)


def solve(config, **data):
    result = plan(config, DataOptions(**data), EXACT)
    assert result.run.report.status is Status.OPTIMAL
    assert result.run.audit.passed, result.run.audit.failures
    return result.run


def plant(**fields):
    base = {
        "opening_cost_per_yr": 100.0,
        "module_capacity_per_yr": 1000.0,
        "products": {"standard": {"cost_per_unit": 1.0}},
    }
    base.update(fields)
    return base


def test_modules_are_bought_in_whole_units(tmp_path):
    """Demand 25, 10 units per module at 7 each, opening 100, 1 per unit: 3 modules, 100 + 21 + 25 = 146."""
    regions = equator_regions(tmp_path / "r.geojson", [0.0], [25])
    config = tiny_config(regions, facility_types={
        "micro": plant(module_cost_per_yr=7.0, module_capacity_per_yr=10.0, min_modules=1, max_modules=5)})
    run = solve(config)
    assert run.report.objective == pytest.approx(146.0, rel=1e-9)
    assert run.tables.sites["modules"].tolist() == [3]


def test_only_eligible_types_make_a_product(tmp_path):
    """Two co-located sites. Central makes standard only (open 10, 1/unit); micro makes both (open 50;
    standard 3, custom 2). Demand 10 of each. Central + micro = 10 + 10 + 50 + 20 = 90 beats micro
    alone = 50 + 30 + 20 = 100; custom must come from the micro."""
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 0.0], [10, 0])
    config = tiny_config(
        regions,
        products={"standard": {"unmet_penalty_per_unit": 1000.0}, "custom": {"unmet_penalty_per_unit": 1000.0}},
        transport={"standard": {"cost_per_unit_km": 0.01}, "custom": {"cost_per_unit_km": 0.01}},
        facility_types={
            "central": plant(opening_cost_per_yr=10.0),
            "micro": plant(opening_cost_per_yr=50.0, products={"standard": {"cost_per_unit": 3.0},
                                                               "custom": {"cost_per_unit": 2.0}}),
        },
    )
    run = solve(config)
    assert run.report.objective == pytest.approx(90.0, rel=1e-9)
    flows = run.tables.flows.groupby("product")["facility_type"].unique()
    assert list(flows["custom"]) == ["micro"] and list(flows["standard"]) == ["central"]


@pytest.mark.parametrize(
    ("radius_km", "expected"),
    [(150.0, 100 + 10 + 5 * 50.0), (None, 100 + 10 + 5 * (1 + 0.02 * KM_PER_DEGREE))],
)
def test_delivery_radius_leaves_far_regions_unmet(tmp_path, radius_km, expected):
    """Site only at R0 (top_n=1). R1 is 2° = 222.4 km away with demand 5 and penalty 50. Within a 150 km
    radius it is unmet: 100 + 10·1 + 5·50 = 360; without a radius it is served at 1 + 0.01·222.4."""
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 2.0], [10, 5])
    transport = {"cost_per_unit_km": 0.01} | ({"max_distance_km": radius_km} if radius_km else {})
    config = tiny_config(
        regions,
        products={"standard": {"unmet_penalty_per_unit": 50.0}},
        transport={"standard": transport},
        facility_types={"plant": plant(candidates={"top_n": 1})},
    )
    run = solve(config)
    assert run.report.objective == pytest.approx(expected, rel=1e-9)
    unmet = run.tables.regions.set_index("region_id")["unmet"]
    assert unmet["R1"] == pytest.approx(5.0 if radius_km else 0.0, abs=1e-6)


def test_arcs_dearer_than_the_penalty_are_pruned_exactly(tmp_path):
    """Serving R1 costs 1 + 2.224 per unit > penalty 2: the arc is never created and R1 is unmet.
    Opening at R0 pays (100 + 200·1 < 200·2): cost 100 + 200 + 5·2 = 310."""
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 2.0], [200, 5])
    config = tiny_config(
        regions,
        products={"standard": {"unmet_penalty_per_unit": 2.0}},
        facility_types={"plant": plant(candidates={"top_n": 1})},
    )
    run = solve(config)
    assert run.problem.n_arcs == 1
    assert run.report.objective == pytest.approx(310.0, rel=1e-9)


@pytest.mark.parametrize(("single", "expected"), [(False, 14.0), (True, 10.0 + 4 * 100.0)])
def test_single_sourcing_forbids_split_deliveries(single, expected):
    """Two forced sites of capacity 7, demands 5, 5, 4, unit cost 1, penalty 100. Split: all 14 served.
    Single-sourced: 5, 5 and 4 do not fit into two bins of 7, the cheapest loss is the 4: 10 + 400."""
    problem = dense_problem(
        demand=[5, 5, 4], opening_cost=[0, 0], capacity=[7, 7], unit_cost=np.ones((2, 3)), penalty=100.0,
        single_sourcing=single, forced=np.array([True, True]),
    )
    from planner.pipeline import solve_problem

    run = solve_problem(problem, EXACT)
    assert run.report.objective == pytest.approx(expected, rel=1e-9)
    if single:
        assert run.tables.flows.groupby("region_id").size().max() == 1


REMOTE = 100 + 10 + 10 * (1 + 0.01 * 10 * KM_PER_DEGREE)  # one site serves both ends: 231.195


@pytest.mark.parametrize(
    ("fields", "network", "expected"),
    [
        ({}, {}, 220.0),  # a site at each end: 2·100 + 20
        ({"capex": 1000.0}, {"capex_budget": 1500.0}, REMOTE),
        ({"max_count": 1}, {}, REMOTE),
        ({}, {"max_facilities": 1}, REMOTE),
    ],
)
def test_budget_and_counts_limit_the_network(tmp_path, fields, network, expected):
    """Demand 10 at each end of a 10° (1,112 km) line. Unconstrained: two sites, 220. One site only
    (budget for one, max_count 1 or max_facilities 1): 100 + 10 + 10·(1 + 11.12) = 231.195."""
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 10.0], [10, 10])
    config = tiny_config(regions, facility_types={"plant": plant(**fields)}, network=network)
    run = solve(config)
    assert run.report.objective == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(("existing", "expected"), [(False, REMOTE), (True, REMOTE - 100.0)])
def test_forced_excluded_and_existing_sites(tmp_path, existing, expected):
    """Sites A (lon 0, forced or existing), B (lon 10, excluded), C (lon 5). Without B the best is A
    alone (231.195; C would add 100 and still ship 556 km). Existing A has its opening cost sunk."""
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 10.0], [10, 10])
    sites = tmp_path / "sites.csv"
    pd.DataFrame(
        {
            "site_id": ["A", "B", "C"], "lon": [0.0, 10.0, 5.0], "lat": [0.0, 0.0, 0.0],
            "forced": [not existing, False, False], "existing": [existing, False, False],
            "excluded": [False, True, False],
        }
    ).to_csv(sites, index=False)
    config = tiny_config(regions, facility_types={"plant": plant()})
    run = solve(config, sites_path=sites)
    assert run.report.objective == pytest.approx(expected, rel=1e-9)
    assert run.tables.sites["site_id"].tolist() == ["A"]
    assert "B" not in set(run.problem.site_ids)


@pytest.mark.parametrize(("carbon_price", "chosen"), [(50.0, "dirty"), (150.0, "clean")])
def test_carbon_price_switches_technology(tmp_path, carbon_price, chosen):
    """One site, two types: dirty (1/unit, 10 kg CO2/unit) or clean (2/unit, no CO2). Breakeven at
    100 per t: below it dirty, above it clean. Cost 100 + 10·min(1 + 0.01·price, 2)."""
    regions = equator_regions(tmp_path / "r.geojson", [0.0], [10])
    config = tiny_config(
        regions,
        carbon_price=carbon_price,
        facility_types={
            "dirty": plant(products={"standard": {"cost_per_unit": 1.0, "co2_kg_per_unit": 10.0}}),
            "clean": plant(products={"standard": {"cost_per_unit": 2.0}}),
        },
    )
    run = solve(config)
    assert run.tables.sites["facility_type"].tolist() == [chosen]
    assert run.report.objective == pytest.approx(100 + 10 * min(1 + 0.01 * carbon_price, 2.0), rel=1e-9)
    assert run.tables.flows["co2_t"].sum() == pytest.approx(0.1 if chosen == "dirty" else 0.0)


@pytest.mark.parametrize(("cap_t", "dirty_units", "expected"), [(None, 10, 110), (0.1, 10, 110), (0.06, 6, 286),
                                                                 (0.0, 0, 300)])
def test_co2_cap_limits_the_dirty_type(tmp_path, cap_t, dirty_units, expected):
    """One region of demand 10 and two sites A and B at its location; a dirty type (1/unit, 10 kg
    CO2/unit) and a clean one (20/unit, no CO2), both opening for 100, one type per site, unmet
    penalty 1000. Without a cap, or with a cap of 0.1 t, the dirty plant makes all 10: 110. A cap of
    0.06 t lets it make 6; a clean plant at the other site makes 4: 200 + 6 + 80 = 286 (beats the clean
    plant alone, 100 + 200 = 300). A cap of 0 leaves the clean plant alone: 300."""
    regions = equator_regions(tmp_path / "r.geojson", [0.0], [10])
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,lon,lat\nA,0,0\nB,0,0\n")
    config = tiny_config(
        regions,
        network={} if cap_t is None else {"max_co2_t_per_yr": cap_t},
        facility_types={
            "dirty": plant(products={"standard": {"cost_per_unit": 1.0, "co2_kg_per_unit": 10.0}}),
            "clean": plant(products={"standard": {"cost_per_unit": 20.0}}),
        },
    )
    run = solve(config, sites_path=sites)
    made = run.tables.flows.groupby("facility_type")["quantity"].sum()
    assert made.get("dirty", 0.0) == pytest.approx(dirty_units, abs=1e-6)
    assert run.report.objective == pytest.approx(expected, rel=1e-9)
    assert run.audit.violations["co2_cap"] == 0.0


@pytest.mark.parametrize(("max_unmet", "unmet", "expected"), [(None, 10, 100), (4.0, 4, 146), (9.0, 4, 146)])
def test_unmet_limit_forces_service(max_unmet, unmet, expected):
    """One region of demand 10 with penalty 10 per unit; a plant of capacity 6 opens for 100 and makes
    a unit for 1. Unlimited, leaving all 10 unmet (100) beats opening (100 + 6 + 40 = 146). At most 4
    (or 9) unmet: the plant opens and, once open, makes all it can: 146 with 4 unmet. At most 3 unmet
    is infeasible."""
    import dataclasses

    from planner.errors import InfeasibleError
    from planner.pipeline import solve_problem

    problem = dense_problem([10], [100.0], [6.0], [[1.0]], penalty=10.0)
    if max_unmet is not None:
        problem = dataclasses.replace(problem, max_unmet=np.array([max_unmet]))
    run = solve_problem(problem, EXACT)
    assert run.tables.regions["unmet"].sum() == pytest.approx(unmet, abs=1e-9)
    assert run.report.objective == pytest.approx(expected, rel=1e-9)
    assert run.audit.passed
    with pytest.raises(InfeasibleError):
        solve_problem(dataclasses.replace(problem, max_unmet=np.array([3.0])), EXACT)


@pytest.mark.parametrize("builder", ["arrays", "pyomo"])
def test_an_unmet_limit_counts_the_customers_demand_under_a_demand_factor(builder):
    """As above, but the arc delivers 1.5 units per unit of demand (a proximity demand factor): serving
    all 10 takes 15 units, so the plant of capacity 6 serves 4 of the 10 and 6 stay unmet. At most 6
    unmet: 100 + 6 × 1 + 6 × 10 = 166. At most 5 is infeasible. (The limit's row had counted the units
    delivered, 15 per unit share: 6 units "served" 6 of the 10, and the audit found 6 of 10 unmet
    against a limit of 5, or, with factors below 1, a feasible limit was called infeasible.)"""
    import dataclasses

    from planner.errors import InfeasibleError
    from planner.pipeline import solve_problem

    problem = dense_problem([10], [100.0], [6.0], [[1.0]], penalty=10.0, arc_demand_factor=np.array([1.5]))
    options = dataclasses.replace(EXACT, builder=builder)
    run = solve_problem(dataclasses.replace(problem, max_unmet=np.array([6.0])), options)
    assert run.tables.regions["unmet"].sum() == pytest.approx(6.0, abs=1e-9)
    assert run.report.objective == pytest.approx(166.0, rel=1e-9)
    assert run.audit.passed
    with pytest.raises(InfeasibleError):
        solve_problem(dataclasses.replace(problem, max_unmet=np.array([5.0])), options)


@pytest.mark.parametrize(("setup", "expected_sites"), [(0.0, 1), (500.0, 2)])
def test_product_setup_cost_rewards_focused_plants(tmp_path, setup, expected_sites):
    """Economies of scope. Two co-located candidate sites, products a and b (demand 10 each), one
    type (open 100, 1/unit) with a setup cost G per product made at a site ... and a specialist type
    (open 150, 1/unit) with no setup cost that makes only b. Without setups: one generalist site,
    100 + 20 = 120. With G = 500: generalist making a (100 + 500 + 10) plus specialist for b
    (150 + 10) = 770 beats the generalist making both (100 + 1000 + 20 = 1120)."""
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 0.0], [10, 0])
    config = tiny_config(
        regions,
        products={"a": {"unmet_penalty_per_unit": 1000.0}, "b": {"unmet_penalty_per_unit": 1000.0}},
        transport={"a": {"cost_per_unit_km": 0.01}, "b": {"cost_per_unit_km": 0.01}},
        facility_types={
            "generalist": plant(products={"a": {"cost_per_unit": 1.0, "setup_cost_per_yr": setup},
                                          "b": {"cost_per_unit": 1.0, "setup_cost_per_yr": setup}}),
            "specialist": plant(opening_cost_per_yr=150.0, products={"b": {"cost_per_unit": 1.0}}),
        },
    )
    run = solve(config)
    assert len(run.tables.sites) == expected_sites
    assert run.report.objective == pytest.approx(120.0 if setup == 0 else 770.0, rel=1e-9)
    assert run.tables.cost_parts()["setup"] == pytest.approx(setup)


def test_candidate_rules_rank_by_total_demand_when_products_have_columns(tmp_path):
    """Both products read their own column (no base column): top_n=1 picks the region with the
    largest total demand (R1: 3 + 9), not the first row."""
    import geopandas as gpd

    from planner.errors import InputError

    frame = gpd.GeoDataFrame(
        {"GEOID": ["R0", "R1"], "NAME": ["R0", "R1"], "a": [5.0, 3.0], "b": [1.0, 9.0]},
        geometry=gpd.points_from_xy([0.0, 1.0], [0.0, 0.0]),
        crs="EPSG:4326",
    )
    frame.to_file(tmp_path / "r.geojson", driver="GeoJSON")
    config = tiny_config(
        tmp_path / "r.geojson",
        regions={"path": str(tmp_path / "r.geojson"), "id_column": "GEOID", "name_column": "NAME"},
        products={"a": {"demand_column": "a"}, "b": {"demand_column": "b"}},
        transport={"a": {"cost_per_unit_km": 0.01}, "b": {"cost_per_unit_km": 0.01}},
        facility_types={"plant": plant(candidates={"top_n": 1},
                                       products={"a": {"cost_per_unit": 1.0}, "b": {"cost_per_unit": 1.0}})},
    )
    run = solve(config)
    assert list(run.problem.site_ids) == ["R1"]
    named = config.model_copy(update={"regions": config.regions.model_copy(update={"demand_column": "pop"})})
    with pytest.raises(InputError, match="--demand-column, which the candidate rules read: name a column"):
        solve(named)


def test_od_matrix_without_distances_is_rejected_when_any_radius_applies(tmp_path):
    """One product has a radius, the other none: distances are still needed."""
    from planner.errors import InputError
    from planner.inputs.prepare import load_inputs, prepare_problem

    regions = equator_regions(tmp_path / "r.geojson", [0.0, 1.0], [10, 10])
    od = tmp_path / "od.csv"
    pd.DataFrame({"from": ["R0", "R0", "R1", "R1"], "to": ["R0", "R1", "R0", "R1"], "cost": [0, 1, 1, 0]}).to_csv(
        od, index=False
    )
    config = tiny_config(
        regions,
        products={"a": {"unmet_penalty_per_unit": 99.0}, "b": {"unmet_penalty_per_unit": 99.0}},
        transport={"a": {"cost_per_unit_km": 0.01, "max_distance_km": 50.0}, "b": {"cost_per_unit_km": 0.01}},
        facility_types={"plant": plant(products={"a": {"cost_per_unit": 1.0}, "b": {"cost_per_unit": 1.0}})},
    )
    inputs = load_inputs(config, DataOptions(od_path=od))
    with pytest.raises(InputError, match="no 'distance_km'"):
        prepare_problem(config, inputs)


def co2_problem(cap_t, **overrides):
    """Demand 10 at each of two regions; two sites of capacity 10 emitting 1 and 2 kg CO2 per unit on
    every arc; all demand must be served. The cleanest network puts 10 units on each site (capacity):
    0.01 + 0.02 = 0.03 t CO2/yr, above the 0.02 t of the lowest-emission arcs alone."""
    co2 = np.array([0.001, 0.001, 0.002, 0.002])  # arcs site-major: s0→r0, s0→r1, s1→r0, s1→r1
    return dense_problem(demand=[10, 10], opening_cost=[0, 0], capacity=[10, 10], unit_cost=np.ones((2, 2)),
                         arc_co2_t=co2, co2_cap_t=cap_t, **overrides)


def test_an_impossible_co2_cap_names_the_cap_and_the_least_co2_any_network_reaches():
    from planner.errors import InfeasibleError
    from planner.pipeline import solve_problem

    with pytest.raises(InfeasibleError) as caught:
        solve_problem(co2_problem(0.025), EXACT)
    message = str(caught.value)
    assert "max_co2_t_per_yr = 0.025 t/yr" in message
    assert "least CO2 any network can reach is 0.03 t/yr (proven" in message
    assert "HiGHS" not in message and "\n" not in message
    assert solve_problem(co2_problem(0.03), EXACT).report.status is Status.OPTIMAL


def test_a_co2_cap_a_service_level_forces_names_the_level_not_a_penalty_the_product_has():
    """With a penalty of 1,000 nothing must be served, but 100 % within 50 km forces every unit out:
    the fix is the level (or the cap or the factors), not an unmet penalty the product already has."""
    from planner.errors import InfeasibleError
    from planner.pipeline import solve_problem

    problem = co2_problem(0.025, penalty=1000.0, service_share=np.array([1.0]), service_km=np.array([50.0]))
    with pytest.raises(InfeasibleError) as caught:
        solve_problem(problem, EXACT)
    message = str(caught.value)
    assert "least CO2 any network can reach is 0.03 t/yr" in message
    assert "lower the service levels (min_share_within)" in message and "unmet_penalty_per_unit" not in message
    with pytest.raises(InfeasibleError, match="or give the products an unmet_penalty_per_unit$"):
        solve_problem(co2_problem(0.025), EXACT)  # must be served: the penalty is a fix


@pytest.mark.parametrize(
    ("demand", "expected"),
    [
        ([600, 600, 600], "single sourcing makes the network infeasible: the demand that must be served fits the "
                          "capacities with split flows"),
        ([1200, 100, 100], "single sourcing: 1 region(s) need more than any one facility can make: 'r0' needs "
                           "1,200 units/yr of 'p', the largest facility that can serve it makes 1,000"),
    ],
)
@pytest.mark.parametrize("screen", [True, False])
def test_single_sourcing_infeasibility_is_explained(demand, expected, screen):
    """Two sites of capacity 1,000, all demand must be served. 600 × 3 fits split (1,800 ≤ 2,000) but two
    of the regions share a site whole: 1,200 > 1,000. A region of 1,200 fits no site whole (found by the
    screening, or after HiGHS when it is skipped)."""
    from planner.errors import InfeasibleError
    from planner.pipeline import solve_problem

    problem = dense_problem(demand, [10, 10], [1000, 1000], [[1, 2, 3], [3, 2, 1]], single_sourcing=True)
    with pytest.raises(InfeasibleError, match="^" + re.escape(expected)):
        solve_problem(problem, EXACT, screen=screen)


def test_a_region_too_large_for_any_one_facility_that_may_go_unmet_is_named_in_a_warning(caplog):
    """With a penalty the region of 1,200 (sites of 1,000) stays unmet whatever is built: said by name."""
    import logging

    from planner.pipeline import solve_problem

    problem = dense_problem([1200, 100, 100], [10, 10], [1000, 1000], [[1, 2, 3], [3, 2, 1]], penalty=50.0,
                            single_sourcing=True)
    with caplog.at_level(logging.WARNING, logger="planner"):
        run = solve_problem(problem, EXACT)
    [line] = [r.getMessage() for r in caplog.records if "single sourcing" in r.getMessage()]
    assert line.startswith("single sourcing: 1 region(s) need more than any one facility can make and stay unmet "
                           "(their unmet penalty is paid): 'r0' needs 1,200 units/yr of 'p'")
    assert run.tables.regions.set_index("region_id").loc["r0", "unmet"] == pytest.approx(1200)


def test_a_scenario_model_is_explained_by_its_largest_cell_that_is_infeasible_alone():
    """Two sites of 40, at most one open: demand 30 fits one, 70 needs two. The cells are tried
    largest first; the one of 70 is infeasible alone, named with the count explanation; where every
    cell fits alone, the original error stands."""
    from planner.errors import InfeasibleError, UnexplainedInfeasibleError
    from planner.solver.explain import explain_demand_cells

    problem = dense_problem(demand=[70], opening_cost=[10, 10], capacity=[40, 40], unit_cost=[[1], [1]],
                            max_facilities=1)
    original = UnexplainedInfeasibleError("HiGHS proved the network infeasible")
    cells = [("scenario low", np.array([[30.0]])), ("scenario high", np.array([[70.0]]))]
    explained = explain_demand_cells(problem, cells, SolverOptions(quiet=True), original)
    assert isinstance(explained, InfeasibleError) and not isinstance(explained, UnexplainedInfeasibleError)
    assert str(explained).startswith("scenario high: the network is infeasible: at least 2 facilities must open")
    fitting = [("scenario low", np.array([[30.0]])), ("scenario mid", np.array([[35.0]]))]
    assert explain_demand_cells(problem, fitting, SolverOptions(quiet=True), original) is original


def test_a_capex_budget_that_no_network_fits_is_explained_with_the_least_capex():
    """Demand 70 must be served; sites of capacity 40 with capex 30 (and 5 per module, one module
    each): two must open, so at least 2 × 35 = 70 of capex against a budget of 50. With a budget of
    70 it solves; with 50 and an unmet penalty, too."""
    from planner.errors import InfeasibleError
    from planner.pipeline import solve_problem

    def problem(budget, penalty=np.inf):
        return dense_problem(demand=[70], opening_cost=[10, 10, 10], capacity=[40, 40, 40],
                             unit_cost=[[1], [1], [2]], penalty=penalty, capex=np.full(3, 30.0),
                             capex_per_module=np.full(3, 5.0), capex_budget=budget)

    with pytest.raises(InfeasibleError, match=re.escape("needs a capex of at least 70 USD, but network.capex_budget "
                                                        "is 50; raise the budget")):
        solve_problem(problem(50.0), EXACT)
    assert solve_problem(problem(70.0), EXACT).report.objective == pytest.approx(20.0 + 70.0)
    assert solve_problem(problem(50.0, penalty=100.0), EXACT).report.objective == pytest.approx(10.0 + 40.0 + 3000.0)


def test_a_budget_broken_by_a_lower_count_blames_the_count_not_the_demand():
    """With an unmet penalty nothing must be served, but min_facilities = 2 needs 2 × 35 = 70 of capex
    against 50: the message named demand that must be served and suggested the penalty already set."""
    from planner.errors import InfeasibleError
    from planner.pipeline import solve_problem

    problem = dense_problem(demand=[70], opening_cost=[10, 10, 10], capacity=[40, 40, 40], unit_cost=[[1], [1], [2]],
                            penalty=100.0, capex=np.full(3, 30.0), capex_per_module=np.full(3, 5.0),
                            capex_budget=50.0, min_facilities=2)
    with pytest.raises(InfeasibleError) as raised:
        solve_problem(problem, EXACT)
    message = str(raised.value)
    assert "every network that meets the lower facility counts (network.min_facilities) needs a capex of at " \
           "least 70 USD" in message
    assert "demand that must be served" not in message and "unmet penalty" not in message


@pytest.mark.parametrize("kind, need, fix", [
    ("set_covering", "covers all demand within objective.coverage_km", "or a longer coverage distance"),
    ("p_median", "meets the lower facility counts (objective.p)", "or lower them"),
])
def test_a_budget_broken_under_a_classic_kind_names_its_cause_not_the_unmet_penalty(kind, need, fix):
    """Classic kinds ignore the unmet penalty: a message had suggested setting one already set, and named
    min_count and min_facilities where objective.p was the count."""
    from planner.errors import InfeasibleError
    from planner.inputs.objectives import classic_problem
    from planner.pipeline import solve_problem

    problem = dense_problem(demand=[10, 10, 10], opening_cost=[100.0] * 3, capacity=[1e6] * 3,
                            unit_cost=np.ones((3, 3)), penalty=150.0, capex=np.full(3, 20.0),
                            capex_per_module=np.zeros(3), capex_budget=30.0,
                            arc_distance_km=np.array([0.0, 111, 222, 111, 0, 111, 222, 111, 0]))
    classic = classic_problem(problem, kind, p=2, coverage_km=50.0)
    with pytest.raises(InfeasibleError) as raised:
        solve_problem(classic, EXACT)
    message = str(raised.value)
    assert "every network that " in message and need in message and message.endswith(fix)
    assert "unmet penalty" not in message and "min_count" not in message


def test_a_sites_cost_multiplier_scales_its_fixed_costs_and_not_its_unit_costs(tmp_path):
    """models/README.md: a site's cost_multiplier multiplies opening, module, setup, capex and capex per
    module cost of that site, not the production cost per unit."""
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0], [10, 10])
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,lon,lat,cost_multiplier\nA,0,0,1\nB,1,0,0.8\n")
    plant = {"opening_cost_per_yr": 100.0, "module_cost_per_yr": 10.0, "module_capacity_per_yr": 100.0,
             "max_modules": 2, "capex": 1000.0, "capex_per_module": 50.0,
             "products": {"standard": {"cost_per_unit": 2.0, "setup_cost_per_yr": 30.0}}}
    config = tiny_config(regions, facility_types={"plant": plant})
    _, problem, _ = load_and_prepare(config, DataOptions(sites_path=sites), Timing())
    b = int(np.flatnonzero(problem.site_ids[problem.option_site] == "B")[0])
    a = 1 - b
    for name in ("opening_cost", "module_cost", "capex", "capex_per_module"):
        assert getattr(problem, name)[b] == pytest.approx(0.8 * getattr(problem, name)[a]), name
    assert problem.setup_cost[b, 0] == pytest.approx(0.8 * 30.0) and problem.setup_cost[a, 0] == pytest.approx(30.0)
    assert set(problem.arc_production_cost.tolist()) == {2.0}


def test_blank_od_cost_and_minutes_cells_fall_back_to_the_per_km_cost_and_an_unknown_time(tmp_path):
    """OD rows R0->R1 with a blank cost (0.01/km × 50 km = 0.5 instead) and a blank time (unknown);
    a blank cost without a distance_km column, or a blank distance, is an error naming the row."""
    from planner.errors import InputError
    from planner.inputs.prepare import load_inputs, prepare_problem

    regions = equator_regions(tmp_path / "r.geojson", [0.0, 1.0], [10, 10])
    od = tmp_path / "od.csv"
    od.write_text("from,to,distance_km,cost,minutes\nR0,R0,0,0,0\nR0,R1,50,,\nR1,R0,50,2,40\nR1,R1,0,0,0\n")
    config = tiny_config(regions, transport={"standard": {"cost_per_unit_km": 0.01}})
    problem = prepare_problem(config, load_inputs(config, DataOptions(od_path=od)))
    pairs = {(problem.site_ids[problem.option_site[o]], problem.region_ids[r]): (cost, minutes) for o, r, cost, minutes
             in zip(problem.arc_option, problem.arc_region, problem.arc_transport_cost, problem.arc_minutes,
                    strict=True)}
    assert pairs[("R0", "R1")][0] == pytest.approx(0.5) and np.isnan(pairs[("R0", "R1")][1])
    assert pairs[("R1", "R0")] == pytest.approx((2.0, 40.0))
    od.write_text("from,to,cost\nR0,R0,0\nR0,R1,\nR1,R0,2\nR1,R1,0\n")
    with pytest.raises(InputError, match=r"column 'cost' row 2 is blank: it must be a finite number"):
        load_inputs(config, DataOptions(od_path=od))
    od.write_text("from,to,distance_km\nR0,R0,0\nR0,R1,\nR1,R0,50\nR1,R1,0\n")
    with pytest.raises(InputError, match=r"column 'distance_km' row 2 "):
        load_inputs(config, DataOptions(od_path=od))


def test_min_facilities_above_what_the_types_max_count_allow_is_named_before_solving():
    """Four sites, one type limited to two: at least three facilities cannot be, whatever the demand
    (a penalty lets demand go unserved; the solver's explanation blamed max_count against demand)."""
    from planner.errors import InfeasibleError
    from planner.inputs.screen import check_facility_counts

    problem = dense_problem(demand=[1, 1, 1, 1], opening_cost=[1] * 4, capacity=[np.inf] * 4,
                            unit_cost=np.ones((4, 4)), penalty=9.0, min_facilities=3, type_max_count=np.array([2]))
    with pytest.raises(InfeasibleError, match=r"^network.min_facilities = 3 but the facility types allow at most 2 "
                       r"facilities \(max_count: t 2\); raise max_count or lower network.min_facilities$"):
        check_facility_counts(problem)
    check_facility_counts(dataclasses.replace(problem, min_facilities=2))


def test_a_huge_transport_term_on_a_blank_od_cost_names_the_per_km_key(tmp_path):
    """R0->R1 has a blank cost, so it is costed by km: 1e12/km × 50 km × 1,000 units is above the solver's
    limit, and the per-km key is named, not the OD matrix's cost column (whose cells are all small)."""
    from planner.errors import InputError
    from planner.inputs.prepare import load_inputs, prepare_problem

    regions = equator_regions(tmp_path / "r.geojson", [0.0, 1.0], [1000, 1000])
    od = tmp_path / "od.csv"
    od.write_text("from,to,distance_km,cost\nR0,R0,0,0\nR0,R1,50,\nR1,R0,50,2\nR1,R1,0,0\n")
    config = tiny_config(regions, transport={"standard": {"cost_per_unit_km": 1e12}}, products={"standard": {}})
    with pytest.raises(InputError, match=r"transport.standard.cost_per_unit_km"):
        prepare_problem(config, load_inputs(config, DataOptions(od_path=od)))


def test_a_cap_and_its_least_co2_print_differently():
    """A cap of 2,321.9285 t/yr against a least CO2 of 2,321.92784 had both printed as 2,321.93."""
    from planner.errors import telling_digits

    assert telling_digits(2321.9285, 2321.92784) == 8  # 2321.9285 is 2321.928499… in binary: 7 digits tie
    assert f"{2321.9285:,.8g}" != f"{2321.92784:,.8g}"
    assert telling_digits(1000.0, 2000.0) == 6  # never fewer than six
    assert telling_digits(1.0, 1.0) == 15


def test_a_share_of_nothing_never_reads_minus_zero():
    from planner.model.arrays import share_text

    assert share_text(-0.0) == share_text(-1e-12) == "0.0%"  # "at most -0.0% is reachable" (review of 2026-12-06)


def test_forced_sites_over_the_budget_are_refused_with_figures_that_differ():
    """3,133,584.444 of capex against a budget of 3,133,584.44 had read '3.13358e+06 but 3.13358e+06'."""
    import dataclasses

    import numpy as np

    from planner.errors import InfeasibleError
    from planner.inputs.screen import check_capex_budget
    from tests.builders import dense_problem

    problem = dense_problem(demand=[1, 1], opening_cost=[1, 1], capacity=[np.inf, np.inf], unit_cost=[[1, 1], [1, 1]])
    problem = dataclasses.replace(problem, capex=np.array([3_133_584.444, 5.0]), forced=np.array([True, False]),
                                  capex_budget=3_133_584.44)
    with pytest.raises(InfeasibleError, match=r"need capex 3,133,584\.444 but capex_budget is 3,133,584\.44\b"):
        check_capex_budget(problem)
