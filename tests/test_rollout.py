"""Staged rollout: one period is the deterministic model, discounting and adoption by hand, and a
hand-derived "pilot, then scale" comparison."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from planner.errors import InputError
from planner.model import ModelIndex, build_model
from planner.model.solution import Solution
from planner.pipeline import Timing
from planner.solver.highs import solve_model
from planner.solver.outcome import SolverOptions
from planner.studies.stochastic.rollout import (
    adoption_curve,
    demand_trajectories,
    period_weights,
    rollout_problem,
    solve_rollout,
)
from planner.studies.stochastic.staged import compare_strategies
from tests.test_stochastic import random_problem

EXACT = SolverOptions(mip_gap=0.0)


def test_period_weights_by_hand():
    assert period_weights(2, 1.0, 0.1).tolist() == pytest.approx([1.0, 1 / 1.1])
    assert period_weights(2, 2.0, 0.0).tolist() == pytest.approx([2.0, 2.0])
    # 1.5 years at 10 %: year 0 whole, half of year 1
    assert period_weights(1, 1.5, 0.1).tolist() == pytest.approx([1.0 + 0.5 / 1.1])


def test_adoption_and_pilot_regions():
    assert adoption_curve(3, [0.2, 0.5, 1.0]).tolist() == [0.2, 0.5, 1.0]
    curve = adoption_curve(4)
    assert curve[-1] == pytest.approx(1.0) and (np.diff(curve) > 0).all()
    with pytest.raises(InputError, match="2 numbers for 3 periods"):
        adoption_curve(3, [0.5, 1.0])
    mature = np.array([[[10.0], [20.0]]])  # one scenario, regions r0 (pilot) and r1
    demand = demand_trajectories(mature, np.array([0.5, 1.0]), pilot=np.array([True, False]), pilot_periods=1)
    assert demand[0, :, :, 0].tolist() == [[5.0, 0.0], [10.0, 20.0]]


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_one_period_is_the_single_period_model(seed):
    problem = random_problem(seed, n_sites=5, n_regions=8)
    model = build_model(problem)
    report = solve_model(model, EXACT)
    expected = Solution.from_model(model, problem, ModelIndex.from_problem(problem))
    rp = rollout_problem(problem, problem.demand[None, None], [1.0], period_weights(1, 1.0, 0.0), ["only"], ["other"])
    run = solve_rollout(rp, EXACT)
    assert run.objective == pytest.approx(report.objective, rel=1e-9)
    assert run.solutions[(0, 0)].open.tolist() == expected.open.tolist()
    assert run.solutions[(0, 0)].modules.tolist() == expected.modules.tolist()


def test_facilities_stay_open_and_modules_grow():
    problem = random_problem(3, n_sites=4, n_regions=6)
    mature = np.stack([problem.demand * 0.5, problem.demand * 1.5])
    demand = demand_trajectories(mature, adoption_curve(3), pilot=np.arange(6) < 2, pilot_periods=1)
    rp = rollout_problem(problem, demand, [0.5, 0.5], period_weights(3, 1.0, 0.05), ["lo", "hi"], ["microfactory"])
    run = solve_rollout(rp, EXACT)
    for s in range(2):
        modules = np.array([run.solutions[(s, t)].modules for t in range(3)])
        assert (np.diff(modules, axis=0) >= 0).all()
    assert run.solutions[(0, 0)].modules.tolist() == run.solutions[(1, 0)].modules.tolist()
    table = run.period_table()
    assert (table["present_value"].groupby(table["scenario"]).sum().reindex(["lo", "hi"]).to_numpy()
            == pytest.approx(run.scenario_costs))


def pilot_case():
    """One region, two periods of one year, no discounting, penalty 20/unit; demand 100 (high) or 10
    (low) in both periods, p = ½ each, known only after period 1's decisions.

    * central plant: 300/yr open, capacity 200, unit cost 1;
    * microfactory: 50/yr open, capacity 200, unit cost 4.

    **Central now** (open in period 1, stays open): high 2 × (300 + 100) = 800, low 2 × 310 = 620;
    expected 710, worst 800.

    **Pilot microfactories, then scale**: micro in period 1: high 50 + 400 = 450, low 90; in period 2
    high: keep it (450; adding the central plant 300 + 50 + 100 = 450 ties), low 90: high 900, low 180,
    expected 540, worst 900. Opening nothing in period 1: high 2,000 + 400, low 200 + 90: 1,345.
    So pilot = 540.

    **Optimum**: the better of the two first periods (central + micro in period 1 costs more than
    central alone): 540, the pilot. The pilot has the lower expected cost but the worse worst case
    (900 > 800): CVaR at α = ½ is the worst half, 800 against 900.
    """
    problem = random_problem(0, n_sites=2, n_regions=1)
    problem = dataclasses.replace(
        problem,
        demand=np.array([[100.0]]),
        type_ids=("central", "micro"),
        option_type=np.array([0, 1]),
        type_min_count=np.zeros(2, dtype=int),
        type_max_count=np.full(2, 2),
        opening_cost=np.array([300.0, 50.0]),
        module_cost=np.zeros(2),
        module_capacity=np.array([200.0, 200.0]),
        max_modules=np.ones(2, dtype=int),
        arc_production_cost=np.array([1.0, 4.0]),
        arc_transport_cost=np.zeros(2),
        unmet_penalty=np.array([20.0]),
    )
    mature = np.array([[[100.0]], [[10.0]]])
    demand = demand_trajectories(mature, np.array([1.0, 1.0]))
    return rollout_problem(problem, demand, [0.5, 0.5], period_weights(2, 1.0, 0.0), ["high", "low"],
                           ["central", "microfactory"], cvar_alpha=0.5)


def test_pilot_then_scale_by_hand():
    rp = pilot_case()
    assert rp.problem.arc_option.tolist() == [0, 1]
    strategies = compare_strategies(rp, EXACT, Timing())
    central, pilot, best = strategies["central_now"], strategies["pilot_micro"], strategies["optimum"]
    assert central.scenario_costs.tolist() == pytest.approx([800.0, 620.0])
    assert central.expected_cost == pytest.approx(710.0) and central.cvar == pytest.approx(800.0)
    assert pilot.scenario_costs.tolist() == pytest.approx([900.0, 180.0])
    assert pilot.expected_cost == pytest.approx(540.0) and pilot.cvar == pytest.approx(900.0)
    assert best.objective == pytest.approx(540.0)
    assert best.solutions[(0, 0)].open.tolist() == [0, 1]


def test_a_central_plant_beyond_the_capex_budget_says_why_central_now_has_no_plan():
    """"strategy central_now: infeasible" had given no reason (and with one, HiGHS's "check forced sites,
    facility counts, the capex budget ..."): the cheapest central plant's capex against the budget."""
    rp = pilot_case()
    problem = dataclasses.replace(rp.problem, capex=np.array([500.0, 40.0]), capex_budget=100.0)
    rp = dataclasses.replace(rp, problem=problem)
    reasons: dict[str, tuple[str, str]] = {}
    strategies = compare_strategies(rp, EXACT, Timing(), reasons)
    assert strategies["central_now"] is None and strategies["pilot_micro"] is not None
    assert reasons == {"central_now": ("infeasible",
                                       "the cheapest central plant needs capex 500, beyond the capex budget of 100")}


def test_a_strategy_without_a_plan_in_its_time_leaves_the_others_and_the_optimum(monkeypatch):
    """HiGHS found no central_now plan within the time limit: that had ended the whole rollout with the error;
    the strategy is now 'time_limit' without a plan, its reason given, and the other strategies and the optimum
    are solved all the same."""
    from planner.errors import NoSolutionInTimeError
    from planner.studies.stochastic import staged

    real = staged.solve_rollout

    def no_central_plan_in_time(rp, options, **first_step):
        if "require_open_first" in first_step:
            raise NoSolutionInTimeError("HiGHS ended without a feasible solution (status: Time limit reached)")
        return real(rp, options, **first_step)

    monkeypatch.setattr(staged, "solve_rollout", no_central_plan_in_time)
    reasons: dict[str, tuple[str, str]] = {}
    strategies = compare_strategies(pilot_case(), EXACT, Timing(), reasons)
    assert strategies["central_now"] is None and strategies["optimum"].objective == pytest.approx(540.0)
    assert reasons["central_now"][0] == "time_limit" and "Time limit reached" in reasons["central_now"][1]
    block = staged._strategy_block(None, pilot_case(), *reasons["central_now"])
    assert block["status"] == "time_limit" and block["expected_cost"] is None


def test_only_microfactories_open_in_the_pilots_first_period():
    """A cheap depot (role "other") beside the pilot case: "pilot microfactories" had opened the depot
    alone in period 1. The optimum opens the depot from the start."""
    problem = dataclasses.replace(
        random_problem(0, n_sites=3, n_regions=1),
        demand=np.array([[100.0]]), type_ids=("central", "micro", "depot"), option_type=np.array([0, 1, 2]),
        type_min_count=np.zeros(3, dtype=int), type_max_count=np.full(3, 2),
        opening_cost=np.array([300.0, 50.0, 10.0]), module_cost=np.zeros(3),
        module_capacity=np.full(3, 200.0), max_modules=np.ones(3, dtype=int),
        arc_production_cost=np.array([1.0, 4.0, 1.0]), arc_transport_cost=np.zeros(3), unmet_penalty=np.array([20.0]),
    )
    rp = rollout_problem(problem, demand_trajectories(np.array([[[100.0]], [[10.0]]]), np.array([1.0, 1.0])),
                         [0.5, 0.5], period_weights(2, 1.0, 0.0), ["high", "low"],
                         ["central", "microfactory", "other"], cvar_alpha=0.5)
    strategies = compare_strategies(rp, EXACT, Timing())
    pilot, best = strategies["pilot_micro"], strategies["optimum"]
    assert [pilot.solutions[(s, 0)].open[2] for s in range(2)] == [0, 0]
    assert pilot.solutions[(0, 0)].open[1] == 1
    # the micro plant in period 1 (50 + 4 × demand); in period 2 it stays open (50) and the depot serves
    # (10 + demand), cheaper than the micro plant alone (450 or 90)
    assert pilot.scenario_costs.tolist() == pytest.approx([450.0 + 160.0, 90.0 + 70.0])
    assert best.objective == pytest.approx(0.5 * 220.0 + 0.5 * 40.0)  # the depot from the start


TWO_MARKETS_MODEL = """name = "two_markets"
currency = "USD"
[regions]
path = "regions.geojson"
id_column = "rid"
demand_column = "pop"
[products.widget]
demand_rate = 1.0
[products.gadget]
demand_rate = 0.0
unmet_penalty_per_unit = 1000.0
[transport.widget]
cost_per_unit_km = 0.1
max_distance_km = 100.0
[transport.gadget]
cost_per_unit_km = 0.1
max_distance_km = 100.0
"""


def facility_type_toml(name: str, capacity: float, top_n: int, product: str) -> str:
    """One facility type of one module of ``capacity`` on the ``top_n`` largest regions, making ``product``."""
    return (f"[facility_types.{name}]\nopening_cost_per_yr = 500.0\nmodule_capacity_per_yr = {capacity}\n"
            f"max_modules = 1\ncandidates = {{ top_n = {top_n} }}\n"
            f"[facility_types.{name}.products.{product}]\ncost_per_unit = 2.0\n")


TWO_MARKETS_MODEL += facility_type_toml("plant", 200.0, 2, "widget") + facility_type_toml("hub", 5000.0, 4, "gadget")


@pytest.mark.slow  # a few seconds: in the whole suite only (the fast subset neared 180 s)
def test_a_staged_plan_is_screened_by_one_cell_not_every_cells_largest(tmp_path):
    """Each scenario asks for 300 widgets that must be served, in different regions; the two plants make
    400. The largest demand of every cell (600 in all) is asked for by no scenario: the screening must
    not call the plan infeasible on it."""
    from tests.test_bad_input import run_solve, write_instance

    write_instance(tmp_path, model=TWO_MARKETS_MODEL)
    scenarios = tmp_path / "scenarios.csv"
    scenarios.write_text("scenario,region,product,demand,probability\nwest,a,widget,300,0.5\neast,b,widget,300,0.5\n",
                         encoding="utf-8")
    result = run_solve(tmp_path, "--periods", "2", "--scenarios", str(scenarios), "--time-limit", "10")
    assert result.exit_code == 0, result.stderr


def test_pilot_regions_are_compared_in_nfc():
    """A pilot id typed with a decomposed accent names the region the data holds composed."""
    import unicodedata

    from planner.studies.stochastic.staged import pilot_mask

    composed, decomposed = "BR-001-São", unicodedata.normalize("NFD", "BR-001-São")
    assert composed != decomposed
    assert pilot_mask([composed, "BR-002"], [decomposed]).tolist() == [True, False]
    assert pilot_mask([decomposed, "BR-002"], [composed]).tolist() == [True, False]


def test_a_pilot_id_written_with_spaces_names_the_region_and_an_unknown_one_is_quoted():
    """Every id reader strips; the pilots were not, so ' 42 ' (the id '42') was refused as "42  are not region
    ids", its spaces unseen in the message."""
    from planner.errors import InputError
    from planner.studies.stochastic.staged import pilot_mask

    assert pilot_mask(["42", "01001"], [" 42 "]).tolist() == [True, False]
    with pytest.raises(InputError, match=r"pilot_regions: 'x 1' are not region ids"):
        pilot_mask(["42"], ["x 1"])


def test_a_pilot_code_written_as_a_toml_number_names_the_code_with_its_leading_zeros():
    """pilot_regions = [1001] for the county '01001' (01001 is no TOML number) had been refused as "'1001' are not
    region ids" with nothing on the zeros; the line names the code and how to write it."""
    from planner.errors import InputError
    from planner.inputs.config import RolloutConfig
    from planner.studies.stochastic.staged import pilot_mask

    pilots = RolloutConfig(periods=2, pilot_regions=[1001, 37119], pilot_periods=1).pilot_regions
    with pytest.raises(InputError) as caught:
        pilot_mask(["01001", "37119", "37183"], pilots)
    assert str(caught.value) == ("rollout.pilot_regions: '1001' are not region ids of the data (after --select); use "
                                 "ids from the regions' id column ('01001' for 1001? write codes with leading zeros "
                                 'as quoted text, pilot_regions = ["01001"])')


def test_demand_grown_past_the_solvers_limit_by_the_adoption_names_the_key():
    from planner.studies.stochastic.staged import check_adopted_demand

    demand = np.ones((1, 3, 2, 1)) * 1e9
    check_adopted_demand(demand, "m.toml: key 'rollout.adoption'")
    demand[0, 2, 1, 0] = 2e12
    with pytest.raises(InputError, match=r"^m.toml: key 'rollout.adoption': the adoption of period 3 makes a "
                                         r"region's demand 2e\+12 units/yr, above 1e\+12"):
        check_adopted_demand(demand, "m.toml: key 'rollout.adoption'")


def test_a_central_plant_every_network_has_is_not_counted_twice_against_the_budget():
    """With min_count 1 on the central type, least_capex already held the cheapest central plant: adding it
    again called central_now infeasible where the optimum itself was that plan."""
    rp = pilot_case()
    problem = dataclasses.replace(rp.problem, capex=np.array([60.0, 40.0]), capex_budget=100.0,
                                  type_min_count=np.array([1, 0]))
    reasons: dict[str, tuple[str, str]] = {}
    strategies = compare_strategies(dataclasses.replace(rp, problem=problem), EXACT, Timing(), reasons)
    assert strategies["central_now"] is not None and "central_now" not in reasons


@pytest.mark.parametrize("k", [1.0, 1e9])
def test_small_costs_are_solved_in_a_larger_unit(k):
    """One period of one year and one scenario: the deterministic model, whose optimum the extensive form had
    missed where every cost was below 1e-7 (solved in that unit, "optimal" at 2.1 × it)."""
    from tests.test_stochastic import SMALL_COST_OPTIMUM, small_cost_problem

    problem = small_cost_problem(k)
    rp = rollout_problem(problem, problem.demand[None, None], [1.0], [1.0], ("s0",), ("central",))
    run = solve_rollout(rp, SolverOptions(mip_gap=1e-6))
    assert run.report.objective == pytest.approx(SMALL_COST_OPTIMUM * k, rel=1e-5)
    assert run.report.best_bound <= SMALL_COST_OPTIMUM * k * (1 + 1e-5)


def test_the_time_limit_of_a_rollout_or_stochastic_solve_covers_the_build_of_its_extensive_form(monkeypatch):
    """HiGHS's limit counts from before the extensive form is built (its build had taken 1.6 s beside a
    3 s limit): the clock handed to the solve is read before the build."""
    import time

    from planner.studies.stochastic import analysis, rollout

    def slow(build):
        def built(*args, **kwargs):
            time.sleep(0.2)
            return build(*args, **kwargs)
        return built

    given = []

    def recorded(solve):
        def solved(model, options, warm_start=False, started=None):
            given.append(time.perf_counter() - (time.perf_counter() if started is None else started))
            return solve(model, options, warm_start=warm_start, started=started)
        return solved

    for module, build in ((rollout, "build_rollout_model"), (analysis, "build_stochastic_model")):
        monkeypatch.setattr(module, build, slow(getattr(module, build)))
        monkeypatch.setattr(module, "solve_model", recorded(solve_model))
    problem = random_problem(5, n_sites=5, n_regions=8)
    rp = rollout_problem(problem, problem.demand[None, None], [1.0], period_weights(1, 1.0, 0.0), ["only"], ["other"])
    solve_rollout(rp, dataclasses.replace(EXACT, time_limit_s=30.0))
    from planner.studies.stochastic.analysis import solve_stochastic
    from planner.studies.stochastic.problem import stochastic_problem
    from tests.test_stochastic import hedging_case
    case, scenarios = hedging_case()
    solve_stochastic(stochastic_problem(case, scenarios, ["other"]), dataclasses.replace(EXACT, time_limit_s=30.0))
    assert len(given) >= 2 and all(seconds >= 0.2 for seconds in given)
