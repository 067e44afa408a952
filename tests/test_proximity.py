"""Demand that rewards being close (``[products.<p>.proximity]``): hand-derived cases where a local
premium makes a microfactory pay, brute force on tiny instances, neutral settings equal today's
model, the audit of revenue and captured demand, the model-file checks and the CLI."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from planner.audit import audit
from planner.cli import main
from planner.errors import InputError
from planner.inputs.config import model_config_from_dict
from planner.pipeline import solve_problem
from planner.results import ResultTables
from planner.solver import SolverOptions
from tests.brute import best_by_enumeration
from tests.builders import dense_problem, equator_regions, solved_summary, tiny_model_file
from tests.marks import some_slow

EXACT = SolverOptions(mip_gap=0.0, quiet=True)


def central_or_micro(near_price: float, near_factor: float = 1.0):
    """One region (100 units/yr); a central site C 500 km away (opening 100, 5 per unit delivered)
    and a microfactory M 10 km away (opening 250, 6 per unit). Price 10 per unit from beyond 50 km,
    ``near_price`` within; ``near_factor`` of the demand is captured from within 50 km."""
    problem = dense_problem(demand=[100], opening_cost=[100, 250], capacity=[np.inf, np.inf],
                            unit_cost=[[5], [6]], penalty=0.0)
    return dataclasses.replace(problem, arc_distance_km=np.array([500.0, 10.0]),
                               arc_price=np.array([10.0, near_price]),
                               arc_demand_factor=np.array([1.0, near_factor]))


@pytest.mark.parametrize(("near_price", "near_factor", "objective", "opened"), [
    (12.0, 1.0, -400.0, "s0"),  # C: 100·(10 − 5) − 100 = 400 > M: 100·(12 − 6) − 250 = 350
    (14.0, 1.0, -550.0, "s1"),  # M: 100·(14 − 6) − 250 = 550 > 400: the local premium makes it pay
    (12.0, 1.3, -530.0, "s1"),  # M captures 130: 130·(12 − 6) − 250 = 530 > 400
])
def test_a_local_premium_makes_the_microfactory_pay(near_price, near_factor, objective, opened):
    run = solve_problem(central_or_micro(near_price, near_factor), EXACT)
    assert run.report.objective == pytest.approx(objective)
    assert run.tables.sites["site_id"].tolist() == [opened]
    parts = run.tables.cost_parts()
    assert sum(parts.values()) == pytest.approx(objective)
    assert parts["revenue"] < 0
    assert run.audit.passed


@pytest.mark.parametrize("seed", range(6))
def test_brute_force_with_factors_and_prices(seed):
    rng = np.random.default_rng(seed)
    n_sites, n_regions = 4, 5
    problem = dense_problem(demand=rng.integers(1, 20, n_regions), opening_cost=rng.uniform(5, 40, n_sites),
                            capacity=rng.uniform(15, 50, n_sites), unit_cost=rng.uniform(1, 5, (n_sites, n_regions)),
                            penalty=0.0 if seed % 2 else 9.0)
    problem = dataclasses.replace(problem, arc_demand_factor=rng.choice([0.8, 1.0, 1.3], problem.n_arcs),
                                  arc_price=rng.uniform(3, 8, problem.n_arcs) if seed % 2 else np.zeros(problem.n_arcs))
    run = solve_problem(problem, EXACT)
    assert run.report.objective == pytest.approx(best_by_enumeration(problem), rel=1e-7, abs=1e-6)
    assert run.audit.passed


def test_the_audit_recomputes_revenue():
    run = solve_problem(central_or_micro(14.0), EXACT)
    flows = run.tables.flows.assign(revenue=run.tables.flows["revenue"] * 1.1)
    tampered = ResultTables(run.tables.sites, flows, run.tables.regions)
    assert "revenue" in audit(run.problem, tampered, run.report.objective).failures


def test_served_counts_the_base_demand_and_captured_the_delivery():
    run = solve_problem(central_or_micro(12.0, 1.3), EXACT)
    regions = run.tables.regions
    assert regions["served"].tolist() == [pytest.approx(100.0)]
    assert regions["captured"].tolist() == [pytest.approx(130.0)]
    assert run.tables.flows["quantity"].tolist() == [pytest.approx(130.0)]


MODEL = {
    "name": "m", "transport": {"a": {"cost_per_unit_km": 0.1}},
    "facility_types": {"t": {"opening_cost_per_yr": 1.0, "products": {"a": {"cost_per_unit": 1.0}}}},
}


@pytest.mark.parametrize(("product", "message"), [
    ({"proximity": {"bands_km": [50, 20], "price": [1, 1, 1]}}, "strictly increasing"),
    ({"proximity": {"bands_km": [50], "price": [1]}}, "price needs 2 values"),
    ({"proximity": {"bands_km": [50]}}, "give demand_factor or price"),
    ({"unmet_penalty_per_unit": 5, "proximity": {"bands_km": [50], "price": [2, 1]}}, "remove unmet_penalty"),
])
def test_proximity_keys_are_checked(product, message):
    with pytest.raises(InputError, match=message):
        model_config_from_dict({**MODEL, "products": {"a": product}})


def cli_model(tmp_path, proximity: str):
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0, 5.0], [10, 10, 10])
    model = tiny_model_file(tmp_path / "model.toml", regions)
    model.write_text(model.read_text().replace("[transport.standard]", f"{proximity}\n[transport.standard]"))
    return model


@pytest.mark.slow
def test_neutral_factors_are_todays_model(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    plain = cli_model(tmp_path / "a", "")
    neutral = cli_model(tmp_path / "b", "[products.standard.proximity]\nbands_km = [50, 200]\n"
                                        "demand_factor = [1.0, 1.0, 1.0]")
    summaries = []
    for model in (plain, neutral):
        out = model.parent / "out"
        result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(out), "--quiet"])
        assert result.exit_code == 0, result.output
        summaries.append(json.loads((out / "summary.json").read_text()))
    assert summaries[0]["objective"] == pytest.approx(summaries[1]["objective"], rel=1e-12)
    assert summaries[0]["costs"] == summaries[1]["costs"]


@pytest.mark.slow  # a whole CLI run (2-4 s): in the full suite only
def test_cli_prices_give_a_revenue_part(tmp_path):
    model = cli_model(tmp_path, "[products.standard.proximity]\nbands_km = [50]\nprice = [30.0, 20.0]")
    model.write_text(model.read_text().replace("unmet_penalty_per_unit = 1000.0\n", ""))
    out = tmp_path / "out"
    summary = solved_summary(model, out)
    assert summary["costs"]["revenue"] < 0
    assert sum(summary["costs"].values()) == pytest.approx(summary["objective"])
    flows = pd.read_csv(out / "flows.csv")
    assert (flows["revenue"] > 0).all()
    assert summary["audit"]["passed"]
    # the report's cost shares are of the cost before revenue: never negative for a cost part
    assert "share of cost before revenue" in (out / "report.html").read_text()


@pytest.mark.parametrize("builder", ["arrays", "pyomo"])
@pytest.mark.parametrize("seed", some_slow(range(8), fast=3))
def test_a_service_level_counts_the_base_demand_under_demand_factors(seed, builder):
    """Demand factors scale what an arc delivers, not the customers' demand a service level is a share
    of: the level counts the base demand served within the limit (Σ_{a∈W} q_d(a) x_a ≥ s Σ_d q_d). Against
    enumeration (whose service row uses the base demand), the achieved share from the tables (never above
    1, and at least the level) and the coverage curve's end (at most 1)."""
    rng = np.random.default_rng(seed)
    n_sites, n_regions = 4, 5
    problem = dense_problem(demand=rng.integers(1, 20, n_regions), opening_cost=rng.uniform(5, 40, n_sites),
                            capacity=rng.uniform(15, 50, n_sites), unit_cost=rng.uniform(1, 5, (n_sites, n_regions)),
                            penalty=9.0)
    problem = dataclasses.replace(problem, arc_demand_factor=rng.choice([1.0, 1.25, 1.5], problem.n_arcs),
                                  arc_distance_km=rng.uniform(0, 300, problem.n_arcs),
                                  service_share=np.array([rng.uniform(0.5, 0.8)]), service_km=np.array([150.0]))
    expected = best_by_enumeration(problem)
    if not np.isfinite(expected):
        return
    run = solve_problem(problem, dataclasses.replace(EXACT, builder=builder))
    assert run.report.objective == pytest.approx(expected, rel=1e-7, abs=1e-6)
    assert run.audit.passed
    (level,) = run.tables.service_levels(problem)
    assert problem.service_share[0] - 1e-7 <= level["achieved_share"] <= 1.0 + 1e-9
    assert run.tables.coverage_curve()["share_within"].max() <= 1.0 + 1e-9


def test_a_region_left_without_arcs_by_a_zero_demand_factor_is_named_with_that_cause():
    """demand_factor = [1.1, 0.0]: the far band's arcs capture nothing and are dropped; the refusal had
    blamed only radii and eligibility."""
    from planner.errors import InfeasibleError
    from planner.inputs.screen import screen_problem
    from planner.problem import ARC_FIELDS
    from tests.builders import dense_problem

    problem = dense_problem(demand=[10, 10], opening_cost=[0, 0], capacity=[np.inf, np.inf],
                            unit_cost=[[1, 1], [1, 1]], penalty=None)
    near = problem.arc_region == 0  # region 1 only in the far band (factor 0): no arc
    problem = dataclasses.replace(problem, **{name: getattr(problem, name)[near] for name in ARC_FIELDS})
    problem = dataclasses.replace(problem, arc_demand_factor=np.full(problem.n_arcs, 1.1))
    with pytest.raises(InfeasibleError, match="a proximity band whose demand_factor is 0"):
        screen_problem(problem)


def test_a_zero_demand_factor_without_a_price_is_refused():
    """Serving at factor 0 delivers nothing and costs nothing, yet counts the base demand served: the
    planner had dropped those arcs and charged the penalty, against its own documented math (the penalty
    on base demand left unserved), and called that optimal. A price makes factor 0 plain: no sale there."""
    from pydantic import ValidationError

    from planner.inputs.config import ProximityConfig

    with pytest.raises(ValidationError, match="demand_factor is 0 for deliveries beyond 50 km: without a price"):
        ProximityConfig(bands_km=[50.0], demand_factor=[1.0, 0.0])
    ProximityConfig(bands_km=[50.0], demand_factor=[1.0, 0.0], price=[10.0, 10.0])
    ProximityConfig(bands_km=[50.0], demand_factor=[1.0, 0.5])


@pytest.mark.parametrize(("penalty", "must"), [(np.inf, "must-serve "), (100.0, "")])
def test_a_zero_demand_factor_in_a_problem_is_a_planner_error(penalty, must):
    """A Problem from Python with demand factor 0 on an arc (one region, must be served, sites at unit cost
    1 and 5): the arc of factor 0 "served" the region while delivering nothing, and the audit then failed
    with an IndexError. The model files never make such an arc; a Problem refuses one, naming it."""
    from planner.errors import InputError
    from tests.builders import dense_problem

    problem = dense_problem(demand=[10], opening_cost=[0, 0], capacity=[np.inf, np.inf], unit_cost=[[1], [5]],
                            penalty=penalty)
    with pytest.raises(InputError, match=f"Problem.arc_demand_factor is not a number above 0 on 1 arcs \\(arc 0: site "
                                         f"'s0' to region 'r0', product 'p', factor 0\\): such an arc delivers nothing "
                                         f"yet would count its {must}demand served"):
        dataclasses.replace(problem, arc_demand_factor=np.array([0.0, 1.0]))
    with pytest.raises(InputError, match="arc 1: .* factor nan"):
        dataclasses.replace(problem, arc_demand_factor=np.array([1.0, np.nan]))
