"""The planner's less-tested paths against independent formulations (tests/independent_studies.py, written from
the docs, solved by scipy.optimize.milp or enumeration): the two-stage stochastic model (RP with expected cost,
CVaR, recourse modules and the capex budget; EV, EEV, WS, VSS, EVPI), the staged rollout (periods, discounting,
adoption, pilot regions, stay-open, the pilot and central-now strategies), the classic objective kinds on the
planner's own problem (capacities, modules, counts, forced sites, type eligibility, service levels), and the
studies (pareto, alternatives, compare): at the Problem level, through the library on tiny equator regions, and
through ``planner solve --scenarios`` / ``--periods``. Defects found on the way have a test each, by name."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from planner.errors import InfeasibleError
from planner.inputs.scenarios import Scenarios
from planner.problem import Problem
from planner.solver.outcome import SolverOptions
from tests.independent_studies import (
    adoption_curve,
    classic_optimum,
    cvar,
    every_network,
    least_co2,
    most_different,
    period_weights,
    rollout_optimum,
    stochastic_optimum,
)
from tests.marks import some_slow
from tests.test_independent_model import keep_arcs, random_instance

EXACT = SolverOptions(mip_gap=1e-9, time_limit_s=30.0)
ROLES = ("central", "microfactory", "other")
STOCHASTIC_FEATURES = ("modules", "capacity", "type_counts", "facility_counts", "forced", "existing", "must_serve",
                       "single_sourcing", "setup", "service", "radius", "carbon_price", "budget")
ROLLOUT_FEATURES = tuple(f for f in STOCHASTIC_FEATURES if f != "service")  # refused with --periods
TINY = {"regions": (3, 6), "sites": (2, 4), "products": (1, 3), "options": 5}


def features_for(seed: int, pool=STOCHASTIC_FEATURES, most: int = 5) -> frozenset:
    rng = np.random.default_rng(3000 + seed)
    return frozenset(rng.choice(pool, int(rng.integers(1, most + 1)), replace=False).tolist())


def scenario_demand(rng, problem: Problem, n_scenarios: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, R, P) demand: the base demand × a lognormal factor per product and scenario × regional noise, some
    pairs without demand in a scenario; and unequal probabilities summing to 1."""
    acceptance = rng.lognormal(0.0, 0.5, (n_scenarios, 1, problem.n_products))
    noise = rng.lognormal(0.0, 0.3, (n_scenarios, *problem.demand.shape))
    demand = (problem.demand[None] * acceptance * noise).round(1)
    demand[rng.random(demand.shape) < 0.15] = 0.0
    probability = rng.uniform(0.5, 1.5, n_scenarios)
    return demand, probability / probability.sum()


def stochastic_case(seed: int):
    """A tiny problem (``TINY``), 2–4 scenarios, roles, recourse settings and a CVaR weight for ``seed``."""
    rng = np.random.default_rng(seed)
    problem = random_instance(seed, features_for(seed), TINY)
    n_scenarios = int(rng.integers(2, 5))
    demand, probability = scenario_demand(rng, problem, n_scenarios)
    settings = dict(type_role=tuple(rng.choice(ROLES, len(problem.type_ids)).tolist()),
                    recourse_modules=bool(rng.random() < 0.8), recourse_premium=round(float(rng.uniform(0, 1)), 2),
                    cvar_alpha=round(float(rng.uniform(0.5, 0.95)), 2),
                    cvar_weight=0.0 if rng.random() < 0.4 else round(float(rng.uniform(0.1, 2.0)), 2))
    return problem, demand, probability, settings


def planner_stochastic(problem: Problem, demand, probability, settings):
    from planner.studies.stochastic.problem import stochastic_problem

    scenarios = Scenarios(ids=tuple(f"s{i}" for i in range(len(probability))), probability=np.asarray(probability),
                          demand=demand)
    return stochastic_problem(problem, scenarios, **settings)


@pytest.mark.parametrize("seed", some_slow(range(60), fast=5))
def test_the_stochastic_optimum_agrees(seed):
    """RP: the planner's objective (and the audit's expected cost + λ CVaR recomputed from its tables) is the
    independent extensive form's optimum; its bound is not above it; the audit's CVaR is the definition's."""
    from planner.studies.stochastic.analysis import solve_stochastic

    problem, demand, probability, settings = stochastic_case(seed)
    expected = stochastic_optimum(problem, demand, probability, **settings)
    sp = planner_stochastic(problem, demand, probability, settings)
    if expected is None:
        with pytest.raises(InfeasibleError):
            solve_stochastic(sp, EXACT)
        return
    run = solve_stochastic(sp, EXACT)
    assert run.report.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert run.report.best_bound <= expected + 1e-6 * max(1.0, abs(expected))
    assert run.audit.passed
    assert run.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
    costs = run.scenario_costs
    assert run.expected_cost == pytest.approx(float(sp.scenarios.probability @ costs), rel=1e-9)
    assert run.cvar == pytest.approx(cvar(costs, sp.scenarios.probability, settings["cvar_alpha"]), rel=1e-9,
                                     abs=1e-9)


def one_scenario_each(problem: Problem, demand) -> tuple[np.ndarray, np.ndarray]:
    demand = np.asarray(demand, dtype=float)[..., None]
    return demand, np.full(len(demand), 1.0 / len(demand))


def test_a_scenario_no_arc_can_serve_is_infeasible_not_a_crash():
    """r1 must be served and has no arc: the stochastic solve had ended in Pyomo's InfeasibleConstraintException
    ("trivially infeasible constraint") instead of the planner's InfeasibleError."""
    from planner.studies.stochastic.analysis import solve_stochastic
    from tests.builders import dense_problem
    from tests.test_independent_model import keep_arcs

    problem = dense_problem(demand=[10, 10], opening_cost=[5], capacity=[np.inf], unit_cost=[[1, 1]])
    problem = keep_arcs(problem, problem.arc_region == 0)
    demand, probability = one_scenario_each(problem, [[10, 5], [20, 0]])
    settings = {"type_role": ("microfactory",)}
    assert stochastic_optimum(problem, demand, probability, **settings) is None
    with pytest.raises(InfeasibleError, match="no first stage serves every scenario"):
        solve_stochastic(planner_stochastic(problem, demand, probability, settings), EXACT)


def test_an_uncapacitated_option_without_arcs_is_pruned_without_a_numpy_warning():
    """s1 reaches no region and has no capacity limit: the pruning had multiplied inf by its margin 0 and
    printed NumPy's "invalid value encountered in multiply" (an error under the test suite's warnings)."""
    from planner.studies.stochastic.analysis import solve_stochastic
    from tests.builders import dense_problem
    from tests.test_independent_model import keep_arcs

    problem = dense_problem(demand=[10, 10], opening_cost=[5, 1], capacity=[np.inf, np.inf],
                            unit_cost=[[1, 1], [1, 1]], penalty=30.0)
    problem = keep_arcs(problem, problem.arc_option == 0)
    demand, probability = one_scenario_each(problem, [[10, 5], [20, 10]])
    settings = {"type_role": ("microfactory",)}
    run = solve_stochastic(planner_stochastic(problem, demand, probability, settings), EXACT)
    assert run.report.objective == pytest.approx(stochastic_optimum(problem, demand, probability, **settings))


@pytest.mark.parametrize("seed", some_slow(range(30), fast=1))
def test_wait_and_see_vss_and_evpi_agree(seed):
    """WS is Σ p_s (each scenario's own optimum, tests/independent_milp.py) + λ CVaR of those optima; RP the
    independent optimum; EVPI = RP − WS; VSS = EEV − RP ≥ 0; no strategy shown beside RP is cheaper."""
    from planner.studies.stochastic.analysis import analyse
    from tests.independent_milp import optimum

    problem, demand, probability, settings = stochastic_case(seed)
    rp = stochastic_optimum(problem, demand, probability, **settings)
    if rp is None:
        return
    own = np.array([optimum(dataclasses.replace(problem, demand=d)) for d in demand])
    ws = float(probability @ own) + settings["cvar_weight"] * cvar(own, probability, settings["cvar_alpha"])
    analysis = analyse(planner_stochastic(problem, demand, probability, settings), EXACT)
    tolerance = 1e-6 * max(1.0, abs(rp))
    assert analysis.rp.objective == pytest.approx(rp, rel=1e-6, abs=1e-6)
    assert analysis.ws == pytest.approx(ws, rel=1e-6, abs=1e-6)
    assert analysis.evpi == pytest.approx(rp - ws, rel=1e-6, abs=1e-5)
    assert analysis.vss >= -tolerance
    for strategy in analysis.strategies.values():  # a role strategy leaving out a forced site or min_count
        if np.isfinite(strategy.expected_cost) and allowed(problem, settings["type_role"], strategy.name):
            weighted = strategy.expected_cost + settings["cvar_weight"] * strategy.cvar
            assert weighted >= rp - tolerance, strategy.name


def allowed(problem: Problem, type_role, name: str) -> bool:
    """Whether strategy ``name``'s network is one the whole model allows: a role strategy leaves out the other
    role's types with their forced sites and ``min_count`` (README, as compare's variants), so only where those
    ask for nothing."""
    left_out = {"central_only": "microfactory", "micro_only": "central"}.get(name)
    other = np.asarray(type_role, dtype=object) == left_out
    return not (problem.forced & other[problem.option_type]).any() and not (problem.type_min_count[other] > 0).any()


def rollout_case(seed: int):
    """A tiny problem, 1–2 scenarios, 2–3 periods of 0.5–2.5 years, discounting, a rising adoption and on some
    seeds pilot regions alone in the first period; (problem, demand (N, T, R, P), probability, weights, roles,
    CVaR settings)."""
    rng = np.random.default_rng(seed)
    problem = random_instance(seed, features_for(seed, ROLLOUT_FEATURES), TINY)
    n_scenarios, n_periods = int(rng.integers(1, 3)), int(rng.integers(2, 4))
    mature, probability = scenario_demand(rng, problem, n_scenarios)
    adoption = np.sort(rng.uniform(0.2, 1.0, n_periods)).round(2)
    adoption[-1] = 1.0
    demand = mature[:, None] * adoption[None, :, None, None]
    if rng.random() < 0.5:
        demand[:, 0, rng.random(problem.demand.shape[0]) < 0.5, :] = 0.0
    weights = period_weights(n_periods, round(float(rng.uniform(0.5, 2.5)), 2), round(float(rng.uniform(0, 0.2)), 3))
    risk = dict(cvar_alpha=round(float(rng.uniform(0.5, 0.95)), 2),
                cvar_weight=0.0 if rng.random() < 0.5 else round(float(rng.uniform(0.1, 2.0)), 2))
    roles = tuple(rng.choice(ROLES, len(problem.type_ids)).tolist())
    return problem, demand, probability, weights, roles, risk


@pytest.mark.parametrize("seed", some_slow(range(60), fast=3))
def test_the_rollout_optimum_agrees(seed):
    """Staged rollout: the planner's present-value objective (and its audit's) is the independent optimum, with
    period 1 open to every option and with only microfactories (and forced sites) open in period 1 (the pilot)."""
    from planner.studies.stochastic.rollout import rollout_problem, solve_rollout

    problem, demand, probability, weights, roles, risk = rollout_case(seed)
    rp = rollout_problem(problem, demand, probability, weights, tuple(f"s{i}" for i in range(len(probability))),
                         roles, **risk)
    pilot = np.asarray(roles, dtype=object)[problem.option_type] == "microfactory"
    for first in (None, pilot):
        expected = rollout_optimum(problem, demand, probability, weights, first_allowed=first, **risk)
        if expected is None:
            with pytest.raises(InfeasibleError):
                solve_rollout(rp, EXACT, allowed_first=first)
            continue
        run = solve_rollout(rp, EXACT, allowed_first=first)
        assert run.report.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
        assert run.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
        assert run.report.best_bound <= expected + 1e-6 * max(1.0, abs(expected))
        assert run.cvar == pytest.approx(cvar(run.scenario_costs, probability, risk["cvar_alpha"]), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(("periods", "years", "rate"), [(3, 2.0, 0.08), (4, 1.5, 0.05), (2, 0.5, 0.1), (1, 1.0, 0.0)])
def test_period_weights_are_the_discounted_years(periods, years, rate):
    """models/README.md [rollout]: year y (0 = the first) weighs 1/(1 + rate)^y; a period's annual costs are paid
    every year of it (a part year pro rata)."""
    from planner.studies.stochastic import rollout

    assert rollout.period_weights(periods, years, rate) == pytest.approx(period_weights(periods, years, rate))
    if years == 2.0:
        assert rollout.period_weights(periods, years, rate)[1] == pytest.approx(1 / 1.08**2 + 1 / 1.08**3)


CLASSIC_FEATURES = ("modules", "capacity", "type_counts", "facility_counts", "forced", "existing",
                    "single_sourcing", "budget", "radius", "service")
KINDS = ("p_median", "p_center", "max_covering", "set_covering")


def classic_case(seed: int, kind: str):
    """A tiny problem with capacities, modules, counts, forced or existing sites, a budget, radii as drawn; p
    within the facility counts (as the model file's checks ask); a coverage of 20–70 km."""
    rng = np.random.default_rng(seed)
    problem = random_instance(seed, features_for(seed, CLASSIC_FEATURES), TINY)
    sites = len(np.unique(problem.option_site))
    low = max(problem.min_facilities, 1)
    high = min(sites, problem.max_facilities if problem.max_facilities is not None else sites)
    p = None if kind == "set_covering" else int(rng.integers(low, max(low, high) + 1))
    return problem, p, round(float(rng.uniform(20, 70)), 1)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", some_slow(range(40), fast=3))
def test_each_classic_kind_agrees(seed, kind):
    """The kind's value recomputed from the planner's tables is the independent optimum on the planner's own
    problem (capacities, modules, counts, forced and existing sites, budget, type eligibility); where the
    independent model has no network the planner refuses."""
    from planner.inputs.objectives import classic_problem, kind_value
    from planner.pipeline import solve_problem

    problem, p, coverage = classic_case(seed, kind)
    coverage = coverage if kind in ("max_covering", "set_covering") else np.inf
    expected = classic_optimum(problem, kind, p, coverage)

    def build():
        return classic_problem(problem, kind, p, coverage_km=coverage)

    if expected is None:
        with pytest.raises(InfeasibleError):
            solve_problem(build(), EXACT)
        return
    run = solve_problem(build(), EXACT)
    value = kind_value(run.problem, run.tables.flows, run.tables.sites, run.tables.regions)
    assert value == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert run.audit.passed
    if kind == "p_center":  # its network: the least demand × km of at most p sites within the optimal radius
        near = keep_arcs(problem, problem.arc_distance_km <= expected + 1e-9)
        most = p if problem.max_facilities is None else min(p, problem.max_facilities)
        least = classic_optimum(dataclasses.replace(near, max_facilities=most), "p_median", None)
        flows = run.tables.flows
        assert float((flows["quantity"] * flows["distance_km"]).sum()) == pytest.approx(least, rel=1e-6, abs=1e-6)


# the studies through the library on tiny equator regions, against the Problem written from the docs
# (tests/test_independent_model.py, problem_from_docs: every arc within the radii, none pruned)


def geo_case(tmp_path, seed: int, limits: bool = False):
    """(config, model dict, the Problem from the docs) of a seeded model on 3–5 equator regions."""
    from tests.builders import equator_regions, tiny_config
    from tests.test_independent_model import geo_limits, geo_model, problem_from_docs

    rng = np.random.default_rng(seed)
    n_regions = int(rng.integers(3, 6))
    lons, pops = np.sort(rng.uniform(0.0, 4.0, n_regions)).round(3), rng.integers(10, 100, n_regions).astype(float)
    model = geo_limits(rng, geo_model(rng)) if limits else geo_model(rng)
    config = tiny_config(equator_regions(tmp_path / "regions.geojson", lons.tolist(), pops.tolist()), **model)
    return config, model, problem_from_docs(model, lons, pops)


@pytest.mark.parametrize("seed", some_slow(range(30), fast=1))
def test_every_pareto_point_is_the_optimum_of_its_cap(tmp_path, seed):
    """Point 0 is the optimum; the least CO2 at the cost optimum's service floor is the independent least; every
    later point costs the independent optimum under its cap and that floor and meets its cap; cost rises and
    CO2 falls along the frontier."""
    from planner.inputs.prepare import DataOptions
    from planner.studies.pareto import cost_co2_frontier
    from tests.independent_milp import optimum

    config, _, problem = geo_case(tmp_path, seed, limits=seed % 2 == 1)
    expected = optimum(problem)
    if expected is None:
        return
    frontier = cost_co2_frontier(config, DataOptions(), EXACT, points=4)
    first, rest = frontier.points[0], frontier.points[1:]
    assert first.run.report.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
    floor = np.array([first.run.tables.regions.query("product == @p")["unmet"].sum() for p in problem.product_ids])
    held = dataclasses.replace(problem, max_unmet=floor + 1e-7 * problem.demand.sum(axis=0))
    lowest = least_co2(held)
    assert float(frontier.least_co2.objective) == pytest.approx(lowest, rel=1e-6, abs=1e-6)
    costs, co2 = [expected], [first.run.tables.co2_t()]
    for point in rest:
        assert np.array(list(point.max_unmet.values())) == pytest.approx(held.max_unmet, rel=1e-9, abs=1e-9)
        # between the optimum at the cap and at the cap + 1e-6: the least-CO2 cap is the solver's least × (1 + 1e-7),
        # which may lie 2e-7 below the exact least (seed 2: 1.95512442 t against 1.95512452 t), no network under it
        tight = optimum(dataclasses.replace(held, co2_cap_t=point.co2_cap_t))
        loose = optimum(dataclasses.replace(held, co2_cap_t=point.co2_cap_t * (1 + 1e-6)))
        tolerance = (1e-5 if point.kind == "least_co2" else 1e-6) * max(1.0, abs(loose))  # a cap at the edge: steep
        assert loose - tolerance <= point.run.report.objective <= (np.inf if tight is None else tight + tolerance)
        costs.append(point.run.report.objective)
        co2.append(point.run.tables.co2_t())
        assert co2[-1] <= point.co2_cap_t * (1 + 1e-6) + 1e-9
    assert np.all(np.diff(costs) >= -1e-6 * max(1.0, abs(expected)))
    assert np.all(np.diff(co2) <= 1e-6 * max(1.0, co2[0]))
    if rest:
        assert co2[-1] == pytest.approx(lowest, rel=1e-5, abs=1e-6)
    assert (frontier.table["dominated_by"].fillna("") == "").all()  # solved to optimality, none is dominated


def opened(run) -> frozenset:
    return frozenset(np.flatnonzero(run.solution.open > 0.5).tolist())


@pytest.mark.parametrize("seed", some_slow(range(20), fast=1))
def test_each_alternative_is_the_most_different_within_the_slack(tmp_path, seed):
    """Alternatives (enumerating every open set of the Problem from the docs): the optimum first; each later
    network costs at most optimum + slack × |optimum|, is the least cost over the options it opens, differs from
    every earlier one, and its diversity solve reached the largest smallest distance any network within the
    budget has to the networks found before it; a search that stops early has no network left at distance ≥ 1."""
    from planner.inputs.prepare import DataOptions
    from planner.studies.mga import near_optimal_networks
    from tests.independent_milp import optimum

    config, _, problem = geo_case(tmp_path, 100 + seed, limits=seed % 2 == 1)
    best = optimum(problem)
    if best is None:
        return
    slack = [0.02, 0.1, 0.3, 0.0][seed % 4]
    result = near_optimal_networks(config, DataOptions(), EXACT, slack, 3)
    planned = result.networks[0].run.problem
    assert (planned.option_site == problem.option_site).all() and (planned.option_type == problem.option_type).all()
    budget = best + slack * abs(best)
    assert result.budget == pytest.approx(budget, rel=1e-9)
    assert result.networks[0].run.report.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    costs = every_network(problem)
    found = [opened(result.networks[0].run)]
    for alternative in result.networks[1:]:
        network, cost = opened(alternative.run), alternative.run.report.objective
        assert cost <= budget * (1 + 1e-6) + 1e-6
        assert cost == pytest.approx(min(c for n, c in costs.items() if n <= network), rel=1e-6, abs=1e-6)
        assert min(len(network ^ other) for other in found) >= 1
        assert -alternative.distance_report.objective == pytest.approx(most_different(costs, budget, found))
        row = result.table.set_index("alternative").loc[alternative.number]
        assert row["distance_to_optimum"] == len(network ^ found[0]) and bool(row["within_slack"])
        assert row["min_distance_to_earlier"] == min(len(network ^ other) for other in found)
        found.append(network)
    if result.stopped_early and "no further network" in result.stopped_early:
        assert most_different(costs, budget, found) in (None, 0)


def test_a_co2_cap_where_nothing_emits_builds_in_pyomo():
    """A CO2 cap on a network whose arcs emit nothing (or that has no arc): the Pyomo builder (used by
    ``planner alternatives`` and ``builder="pyomo"``) had failed on the row 0 ≤ cap ("resolved to a trivial
    Boolean (True)"); the row holds and is left out."""
    from planner.pipeline import solve_problem
    from tests.builders import dense_problem
    from tests.independent_milp import optimum

    problem = dataclasses.replace(dense_problem(demand=[10, 5], opening_cost=[5, 8], capacity=[np.inf, np.inf],
                                                unit_cost=[[1, 3], [2, 1]], penalty=30.0), co2_cap_t=1.0)
    run = solve_problem(problem, dataclasses.replace(EXACT, builder="pyomo"))
    assert run.report.objective == pytest.approx(optimum(problem))


@pytest.mark.parametrize("seed", some_slow(range(30), fast=1))
def test_each_compare_variant_is_the_optimum_of_its_roles(tmp_path, seed):
    """compare: central-only keeps the central (and other) types, micro-only the microfactory (and other) types,
    hybrid all, each as if the others were never in the model file (their min_count with them); each variant's
    objective is the independent optimum of the Problem from the docs of that model, or infeasible with it; the
    value of decentralisation is the best rival's cost less the hybrid's."""
    import geopandas as gpd

    from planner.inputs.prepare import DataOptions
    from planner.studies.compare import compare, standard_variants
    from tests.builders import tiny_config
    from tests.independent_milp import optimum
    from tests.test_independent_model import problem_from_docs

    config, model, _ = geo_case(tmp_path, 200 + seed, limits=seed % 2 == 1)
    roles = {"plant": "central", "micro": "microfactory"}
    for name, role in roles.items():
        model["facility_types"][name]["role"] = role
    config = tiny_config(tmp_path / "regions.geojson", **model)
    frame = gpd.read_file(config.regions.path)
    lons, pops = frame.geometry.x.to_numpy(), frame["pop"].to_numpy(dtype=float)
    expected = {}
    for variant, kept in (("central_only", {"central", "other"}), ("micro_only", {"microfactory", "other"}),
                          ("hybrid", {"central", "microfactory", "other"})):
        types = {k: v for k, v in model["facility_types"].items() if roles[k] in kept}
        expected[variant] = optimum(problem_from_docs({**model, "facility_types": types}, lons, pops))
    if all(value is None for value in expected.values()):  # only then does compare stop, naming the first
        with pytest.raises(InfeasibleError, match="variant 'central_only'"):
            compare(standard_variants(config), DataOptions(), EXACT)
        return
    result = compare(standard_variants(config), DataOptions(), EXACT)
    rows = result.rows.set_index("variant")
    for variant, value in expected.items():
        if value is None:
            assert rows.loc[variant, "status"] == "infeasible", variant
        else:
            assert rows.loc[variant, "objective"] == pytest.approx(value, rel=1e-6, abs=1e-6), variant
    if expected["central_only"] is not None and expected["hybrid"] is not None:  # README: C − H
        assert result.value["absolute"] == pytest.approx(expected["central_only"] - expected["hybrid"], rel=1e-6,
                                                         abs=1e-5)


def staged_model(rng, model: dict, n_regions: int) -> dict:
    """``model`` without what --periods refuses (service levels, proximity bands; a penalty instead of prices)
    and with a ``[rollout]``: 2–3 periods of 0.5–3 years, discounting, an adoption list or the logistic curve,
    on some seeds pilot regions alone in the first period(s)."""
    for product in model["products"].values():
        product.pop("service", None)
        if product.pop("proximity", None) is not None:
            product["unmet_penalty_per_unit"] = 50.0
    periods = int(rng.integers(2, 4))
    rollout = {"periods": periods, "period_years": round(float(rng.uniform(0.5, 3.0)), 2),
               "discount_rate": round(float(rng.uniform(0, 0.15)), 3)}
    if rng.random() < 0.5:
        rollout["adoption"] = sorted(round(float(v), 2) for v in rng.uniform(0.2, 1.0, periods))
    if rng.random() < 0.5:
        rollout["pilot_regions"] = [f"R{i}" for i in rng.choice(n_regions, int(rng.integers(1, n_regions)), False)]
        rollout["pilot_periods"] = int(rng.integers(1, periods))
    model["rollout"] = rollout
    return model


def staged_demand(problem: Problem, rollout: dict) -> np.ndarray:
    """(1, T, R, P): the regions' demand × adoption; outside the pilot regions none in the pilot periods."""
    periods = rollout["periods"]
    adoption = np.asarray(rollout["adoption"]) if "adoption" in rollout else adoption_curve(periods)
    demand = problem.demand[None, None] * adoption[None, :, None, None]
    if rollout.get("pilot_periods", 0):
        outside = ~np.isin(problem.region_ids, rollout["pilot_regions"])
        demand[:, : rollout["pilot_periods"], outside, :] = 0.0
    return demand


@pytest.mark.parametrize("seed", some_slow(range(24), fast=1))
def test_plan_staged_agrees_on_a_model_file(tmp_path, seed):
    """``plan_staged`` on a model file with ``[rollout]`` (its periods, years, discounting, adoption or logistic
    curve, pilot regions): the optimum, the pilot (only microfactories and forced sites in period 1) and the
    commitment to a central plant now are the independent optima of the Problem from the docs."""
    from planner.inputs.prepare import DataOptions
    from planner.studies.stochastic.staged import plan_staged
    from tests.builders import equator_regions, tiny_config
    from tests.test_independent_model import geo_model, problem_from_docs

    rng = np.random.default_rng(seed)
    n_regions = int(rng.integers(3, 6))
    lons, pops = np.sort(rng.uniform(0.0, 4.0, n_regions)).round(3), rng.integers(10, 100, n_regions).astype(float)
    model = staged_model(rng, geo_model(rng), n_regions)
    model["facility_types"]["plant"]["role"], model["facility_types"]["micro"]["role"] = "central", "microfactory"
    config = tiny_config(equator_regions(tmp_path / "regions.geojson", lons.tolist(), pops.tolist()), **model)
    problem = problem_from_docs(model, lons, pops)
    rollout = model["rollout"]
    demand = staged_demand(problem, rollout)
    weights = period_weights(rollout["periods"], rollout["period_years"], rollout["discount_rate"])
    central = problem.option_type == 0
    expected = {"optimum": rollout_optimum(problem, demand, [1.0], weights),
                "pilot_micro": rollout_optimum(problem, demand, [1.0], weights, first_allowed=~central),
                "central_now": rollout_optimum(problem, demand, [1.0], weights, first_required=central)}
    if expected["optimum"] is None:
        with pytest.raises(InfeasibleError):
            plan_staged(config, DataOptions(), EXACT, None)
        return
    staged = plan_staged(config, DataOptions(), EXACT, None)
    for name, value in expected.items():
        run = staged.strategies.get(name)
        assert (run is None) == (value is None), name
        if value is not None:
            assert run.objective == pytest.approx(value, rel=1e-6, abs=1e-6), name


def scenario_file(rng, path, problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """A scenario CSV (scenario, region, product, demand, probability) of 2–3 scenarios: probabilities rounded to
    6 places (three of 0.333333), about a tenth of the pairs not listed (no demand); its demand and the
    probabilities scaled to sum to 1."""
    import pandas as pd

    n = int(rng.integers(2, 4))
    probability = np.full(n, 1 / n) if n == 3 else rng.dirichlet(np.ones(n))
    probability = probability.round(6)
    demand = (problem.demand[None] * rng.lognormal(0.0, 0.5, (n, 1, problem.n_products))
              * rng.lognormal(0.0, 0.2, (n, *problem.demand.shape))).round(2)
    listed = rng.random(demand.shape) > 0.1
    rows = [{"scenario": f"sc{s}", "region": problem.region_ids[r], "product": problem.product_ids[p],
             "demand": demand[s, r, p], "probability": probability[s]} for s, r, p in np.argwhere(listed)]
    pd.DataFrame(rows).to_csv(path, index=False)
    return np.where(listed, demand, 0.0), probability / probability.sum()


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(16))
def test_plan_stochastic_agrees_on_a_scenario_file(tmp_path, seed):
    """``plan_stochastic`` with a scenario file and a model's ``[uncertainty]`` (recourse, premium, CVaR): RP and
    WS are the independent ones of the Problem from the docs under the file's demand and scaled probabilities."""
    from planner.inputs.prepare import DataOptions
    from planner.studies.stochastic.pipeline import plan_stochastic
    from tests.builders import equator_regions, tiny_config
    from tests.independent_milp import optimum
    from tests.test_independent_model import geo_model, problem_from_docs

    rng = np.random.default_rng(seed)
    n_regions = int(rng.integers(3, 5))
    lons, pops = np.sort(rng.uniform(0.0, 4.0, n_regions)).round(3), rng.integers(10, 100, n_regions).astype(float)
    model = geo_model(rng)
    if model["products"]["custom"].pop("proximity", None) is not None:  # refused with --scenarios
        model["products"]["custom"]["unmet_penalty_per_unit"] = 50.0
    model["facility_types"]["plant"]["role"], model["facility_types"]["micro"]["role"] = "central", "microfactory"
    settings = {"recourse_modules": bool(rng.random() < 0.7), "recourse_premium": round(float(rng.uniform(0, 1)), 2),
                "cvar_alpha": round(float(rng.uniform(0.5, 0.9)), 2),
                "cvar_weight": 0.0 if rng.random() < 0.5 else round(float(rng.uniform(0.2, 1.5)), 2)}
    model["uncertainty"] = settings
    config = tiny_config(equator_regions(tmp_path / "regions.geojson", lons.tolist(), pops.tolist()), **model)
    problem = problem_from_docs(model, lons, pops)
    demand, probability = scenario_file(rng, tmp_path / "scenarios.csv", problem)
    rp = stochastic_optimum(problem, demand, probability, ("central", "microfactory"), **settings)
    if rp is None:
        with pytest.raises(InfeasibleError):
            plan_stochastic(config, DataOptions(), EXACT, tmp_path / "scenarios.csv")
        return
    analysis = plan_stochastic(config, DataOptions(), EXACT, tmp_path / "scenarios.csv").analysis
    assert analysis.rp.objective == pytest.approx(rp, rel=1e-6, abs=1e-6)
    own = np.array([optimum(dataclasses.replace(problem, demand=d)) for d in demand])
    ws = probability @ own + settings["cvar_weight"] * cvar(own, probability, settings["cvar_alpha"])
    assert analysis.ws == pytest.approx(ws, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("study", ["stochastic", "staged"])
def test_the_library_refuses_what_the_scenario_models_leave_out(tmp_path, study):
    """``plan_stochastic`` and ``plan_staged`` (the README's ``planner.studies.stochastic``) refuse a CO2 cap, and
    ``plan_staged`` a service level, with one line as ``planner solve`` does: called alone they had solved the
    model without them and ended in the audit's SolverError ("failed the independent audit (co2_cap ...)")."""
    from planner.errors import InputError
    from planner.inputs.prepare import DataOptions
    from planner.studies.stochastic.pipeline import plan_stochastic
    from planner.studies.stochastic.staged import plan_staged
    from tests.builders import equator_regions, tiny_config

    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0, 2.0], [50, 60, 70])
    capped = tiny_config(regions, network={"max_co2_t_per_yr": 0.0},
                         transport={"standard": {"cost_per_unit_km": 0.01, "co2_kg_per_unit_km": 1.0}})
    serviced = tiny_config(regions, products={"standard": {"demand_rate": 1.0, "unmet_penalty_per_unit": 1000.0,
                                                           "service": {"min_share_within": 0.9, "within_km": 50.0}}})
    if study == "stochastic":
        with pytest.raises(InputError, match="do not support a CO2 cap"):
            plan_stochastic(capped, DataOptions(), EXACT, 3)
        return
    for config, words in ((capped, "do not support a CO2 cap"), (serviced, "does not support service levels")):
        with pytest.raises(InputError, match=words):
            plan_staged(config, DataOptions(), EXACT, 2)


def test_generated_scenarios_follow_the_documented_factors():
    """models/README.md [uncertainty]: demand = base × A_sp × N_srp, A shared by all regions, both mean-one
    lognormals; equally likely. σ_R = 0: every region of a product moves by the same factor; both 0: the base;
    4,000 draws: the mean factor within 0.05 of 1 and the spread of log A near σ_A."""
    from planner.inputs.config import UncertaintyConfig
    from planner.inputs.scenarios import generate_scenarios

    base = np.array([[10.0, 4.0], [20.0, 0.0], [5.0, 8.0]])
    shared = generate_scenarios(base, 6, 3, UncertaintyConfig(acceptance_sigma=0.7, regional_sigma=0.0))
    ratio = shared.demand[:, [0, 2], :] / base[None, [0, 2], :]
    assert ratio[:, 0, :] == pytest.approx(ratio[:, 1, :], rel=1e-12)
    assert (shared.demand[:, 1, 1] == 0).all() and shared.probability == pytest.approx(np.full(6, 1 / 6))
    still = generate_scenarios(base, 3, 1, UncertaintyConfig(acceptance_sigma=0.0, regional_sigma=0.0))
    assert still.demand == pytest.approx(np.broadcast_to(base, (3, 3, 2)))
    many = generate_scenarios(base, 4000, 7, UncertaintyConfig(acceptance_sigma=0.5, regional_sigma=0.2))
    factor = many.demand[:, 0, 0] / base[0, 0]
    assert factor.mean() == pytest.approx(1.0, abs=0.05)
    acceptance = np.log(many.demand[:, :, 0] / base[None, :, 0]).mean(axis=1)  # log A plus the regions' mean noise
    assert acceptance.std() == pytest.approx(np.sqrt(0.5**2 + 0.2**2 / 3), rel=0.1)


@pytest.mark.parametrize("periods", [1, 2, 3, 5])
def test_the_default_adoption_is_the_documented_logistic_curve(periods):
    """models/README.md [rollout] ``adoption``: 1/(1 + e^(−(t − T/2)·4/T)) over t = 1..T, the last period 1."""
    from planner.studies.stochastic.rollout import adoption_curve as planned

    assert planned(periods) == pytest.approx(adoption_curve(periods), rel=1e-12)
    assert planned(periods)[-1] == pytest.approx(1.0)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", some_slow(range(12), fast=0))
def test_each_classic_kind_agrees_on_a_model_file(tmp_path, seed, kind):
    """``[objective] kind`` in a model file through ``planner.pipeline.plan`` on equator regions (every arc within
    the radii kept, prices and demand factors left out): the kind's value is the independent optimum of the
    Problem from the docs."""
    from planner.inputs.objectives import kind_value
    from planner.inputs.prepare import DataOptions
    from planner.pipeline import plan
    from tests.builders import equator_regions, tiny_config
    from tests.test_independent_model import geo_model, problem_from_docs

    rng = np.random.default_rng(seed)
    n_regions = int(rng.integers(3, 6))
    lons, pops = np.sort(rng.uniform(0.0, 4.0, n_regions)).round(3), rng.integers(10, 100, n_regions).astype(float)
    model = geo_model(rng)
    p = None if kind == "set_covering" else int(rng.integers(1, model["network"]["max_facilities"] + 1))
    coverage = round(float(rng.uniform(60, 250)), 1) if kind in ("max_covering", "set_covering") else None
    model["objective"] = {"kind": kind, **({"p": p} if p else {}), **({"coverage_km": coverage} if coverage else {})}
    config = tiny_config(equator_regions(tmp_path / "regions.geojson", lons.tolist(), pops.tolist()), **model)
    expected = classic_optimum(problem_from_docs(model, lons, pops), kind, p, coverage or np.inf)
    if expected is None:
        with pytest.raises(InfeasibleError):
            plan(config, DataOptions(), EXACT)
        return
    run = plan(config, DataOptions(), EXACT).run
    value = kind_value(run.problem, run.tables.flows, run.tables.sites, run.tables.regions)
    assert value == pytest.approx(expected, rel=1e-6, abs=1e-6)


LARGER = {"regions": (6, 10), "sites": (3, 6), "products": (1, 3), "options": 8}


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
def test_larger_stochastic_and_rollout_instances_agree(seed):
    """6–9 regions, up to 8 options, 3–5 scenarios (stochastic) or 2 scenarios × 3 periods (rollout)."""
    from planner.studies.stochastic.analysis import solve_stochastic
    from planner.studies.stochastic.rollout import rollout_problem, solve_rollout

    rng = np.random.default_rng(700 + seed)
    problem = random_instance(700 + seed, features_for(700 + seed, ROLLOUT_FEATURES, 6), LARGER)
    roles = tuple(rng.choice(ROLES, len(problem.type_ids)).tolist())
    demand, probability = scenario_demand(rng, problem, int(rng.integers(3, 6)))
    settings = dict(type_role=roles, recourse_premium=0.3, cvar_alpha=0.8, cvar_weight=float(seed % 2))
    expected = stochastic_optimum(problem, demand, probability, **settings)
    if expected is not None:
        run = solve_stochastic(planner_stochastic(problem, demand, probability, settings), EXACT)
        assert run.report.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
    trajectory = demand[:2, None] * np.array([0.4, 0.7, 1.0])[None, :, None, None]
    weights = period_weights(3, 1.5, 0.05)
    two = probability[:2] / probability[:2].sum()
    expected = rollout_optimum(problem, trajectory, two, weights)
    if expected is not None:
        rp = rollout_problem(problem, trajectory, two, weights, ("a", "b"), roles)
        assert solve_rollout(rp, EXACT).objective == pytest.approx(expected, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("seed", some_slow(range(30), fast=1))
def test_the_mean_value_plan_and_its_evaluation_agree(seed):
    """EV: the mean-value plan is the independent optimum under the expected demand; EEV: its first stage (open
    sites, modules and set-ups fixed) evaluated in every scenario is the independent evaluation."""
    from planner.model import ModelIndex
    from planner.studies.stochastic.analysis import evaluate_first_stage, mean_value_run
    from planner.studies.stochastic.problem import stochastic_problem
    from tests.independent_milp import optimum

    problem, demand, probability, settings = stochastic_case(seed)
    scenarios = Scenarios(ids=tuple(f"s{i}" for i in range(len(probability))), probability=np.asarray(probability),
                          demand=demand)
    sp = stochastic_problem(problem, scenarios, prune_options=False, **settings)
    index = ModelIndex.from_problem(sp.problem)
    expected_ev = optimum(sp.problem)
    if expected_ev is None:
        return
    ev = mean_value_run(sp, EXACT, index)
    assert ev.report.objective == pytest.approx(expected_ev, rel=1e-6, abs=1e-6)
    first = ev.solution.first_stage
    eev = stochastic_optimum(problem, demand, probability, fixed=(first.open, first.modules, first.setup),
                             **settings)
    if eev is None:
        with pytest.raises(InfeasibleError):
            evaluate_first_stage(sp, first, EXACT, index)
        return
    assert evaluate_first_stage(sp, first, EXACT, index).objective == pytest.approx(eev, rel=1e-6, abs=1e-6)


def cli_model(rng, path, regions) -> dict:
    """A central plant type and a modular microfactory type, one product, [uncertainty] settings: written as a
    model file at ``path`` and returned as the dict tests/test_independent_model.py's problem_from_docs reads."""
    plant = {"role": "central", "opening_cost_per_yr": round(float(rng.uniform(300, 800))),
             "module_capacity_per_yr": round(float(rng.uniform(150, 400))),
             "products": {"standard": {"cost_per_unit": 2.0}}}
    micro = {"role": "microfactory", "opening_cost_per_yr": round(float(rng.uniform(40, 150))),
             "module_capacity_per_yr": 30.0, "min_modules": 1, "max_modules": 3,
             "module_cost_per_yr": round(float(rng.uniform(10, 40))), "products": {"standard": {"cost_per_unit": 4.0}}}
    uncertainty = {"recourse_premium": round(float(rng.uniform(0, 1)), 2), "cvar_alpha": 0.75,
                   "cvar_weight": round(float(rng.uniform(0, 1)), 2)}
    model = {"carbon_price": 0.0, "network": {}, "uncertainty": uncertainty,
             "products": {"standard": {"demand_rate": 1.0, "unmet_penalty_per_unit": 40.0}},
             "transport": {"standard": {"cost_per_unit_km": 0.05}}, "facility_types": {"plant": plant, "micro": micro}}

    def table(name: str, values: dict) -> str:
        rows = [f"{k} = {v!r}" if not isinstance(v, str) else f'{k} = "{v}"' for k, v in values.items()
                if not isinstance(v, dict)]
        return f"[{name}]\n" + "\n".join(rows) + "\n"

    text = ['name = "tiny"\n', table("regions", {"path": str(regions), "id_column": "GEOID", "demand_column": "pop"}),
            table("distance", {"circuity": 1.0}), table("products.standard", model["products"]["standard"]),
            table("transport.standard", model["transport"]["standard"]), table("uncertainty", uncertainty)]
    for name, facility in model["facility_types"].items():
        text += [table(f"facility_types.{name}", facility),
                 table(f"facility_types.{name}.products.standard", facility["products"]["standard"])]
    path.write_text("\n".join(text))
    return model


@pytest.mark.parametrize("seed", some_slow(range(8), fast=0))
def test_solve_scenarios_summary_agrees(tmp_path, seed):
    """``planner solve --scenarios FILE``: summary.json's stochastic block has RP (expected cost + λ CVaR) and WS
    of the independent model, VSS = EEV − RP, EVPI = RP − WS, and the CVaR of scenarios.csv's totals."""
    import pandas as pd

    from tests.builders import equator_regions, solved_summary
    from tests.independent_milp import optimum
    from tests.test_independent_model import problem_from_docs

    rng = np.random.default_rng(seed)
    n_regions = int(rng.integers(3, 6))
    lons, pops = np.sort(rng.uniform(0.0, 4.0, n_regions)).round(3), rng.integers(10, 100, n_regions).astype(float)
    regions = equator_regions(tmp_path / "regions.geojson", lons.tolist(), pops.tolist())
    model = cli_model(rng, tmp_path / "model.toml", regions)
    problem = problem_from_docs(model, lons, pops)
    demand, probability = scenario_file(rng, tmp_path / "scenarios.csv", problem)
    settings = {key: model["uncertainty"][key] for key in ("recourse_premium", "cvar_alpha", "cvar_weight")}
    rp = stochastic_optimum(problem, demand, probability, ("central", "microfactory"), **settings)
    summary = solved_summary(tmp_path / "model.toml", tmp_path / "out", "--scenarios", str(tmp_path / "scenarios.csv"),
                             "--mip-gap", "0")
    block = summary["stochastic"]
    weighted = block["expected_cost"] + settings["cvar_weight"] * block["cvar"]
    assert weighted == pytest.approx(rp, rel=1e-6, abs=1e-6)
    own = np.array([optimum(dataclasses.replace(problem, demand=d)) for d in demand])
    ws = probability @ own + settings["cvar_weight"] * cvar(own, probability, settings["cvar_alpha"])
    assert block["ws"] == pytest.approx(ws, rel=1e-6, abs=1e-6)
    assert block["evpi"] == pytest.approx(rp - ws, rel=1e-6, abs=1e-5)
    if block["eev"] is not None:
        assert block["vss"] == pytest.approx(block["eev"] - rp, rel=1e-6, abs=1e-5)
    table = pd.read_csv(tmp_path / "out" / "scenarios.csv")
    assert table["probability"].to_numpy() == pytest.approx(probability, rel=1e-9)
    totals = table["total"].to_numpy()
    assert block["expected_cost"] == pytest.approx(float(probability @ totals), rel=1e-6)
    assert block["cvar"] == pytest.approx(cvar(totals, probability, settings["cvar_alpha"]), rel=1e-6)
    assert block["worst_case"] == pytest.approx(totals.max(), rel=1e-9)


@pytest.mark.parametrize("seed", some_slow(range(8), fast=0))
def test_solve_periods_summary_agrees(tmp_path, seed):
    """``planner solve --periods`` on a model file with ``[rollout]`` (adoption list, years, discounting, pilot
    regions; a scenario file on odd seeds): summary.json's rollout block has the independent optimum's present
    value, and its pilot's."""
    from tests.builders import equator_regions, solved_summary
    from tests.test_independent_model import problem_from_docs

    rng = np.random.default_rng(seed)
    n_regions = int(rng.integers(3, 6))
    lons, pops = np.sort(rng.uniform(0.0, 4.0, n_regions)).round(3), rng.integers(10, 100, n_regions).astype(float)
    regions = equator_regions(tmp_path / "regions.geojson", lons.tolist(), pops.tolist())
    model = cli_model(rng, tmp_path / "model.toml", regions)
    rollout = {"periods": 3, "period_years": 1.5, "discount_rate": 0.06, "adoption": [0.3, 0.6, 1.0],
               "pilot_regions": ["R0"], "pilot_periods": 1}
    with (tmp_path / "model.toml").open("a") as file:
        file.write('\n[rollout]\nperiods = 3\nperiod_years = 1.5\ndiscount_rate = 0.06\nadoption = [0.3, 0.6, 1.0]\n'
                   'pilot_regions = ["R0"]\npilot_periods = 1\n')
    problem = problem_from_docs(model, lons, pops)
    weights = period_weights(3, 1.5, 0.06)
    risk = {key: model["uncertainty"][key] for key in ("cvar_alpha", "cvar_weight")}  # [uncertainty] holds here too
    demand, probability, more = staged_demand(problem, rollout), [1.0], []
    if seed % 2:  # with a scenario file: period 1 decided before the scenario is known
        mature, probability = scenario_file(rng, tmp_path / "scenarios.csv", problem)
        demand = np.concatenate([staged_demand(dataclasses.replace(problem, demand=d), rollout) for d in mature])
        more = ["--scenarios", str(tmp_path / "scenarios.csv")]
    expected = rollout_optimum(problem, demand, probability, weights, **risk)
    summary = solved_summary(tmp_path / "model.toml", tmp_path / "out", "--periods", "3", "--mip-gap", "0", *more)
    block = summary["rollout"]
    assert block["period_weight_years"] == pytest.approx(weights, rel=1e-12)
    assert block["objective"] == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert block["expected_cost"] + risk["cvar_weight"] * block["cvar"] == pytest.approx(expected, rel=1e-6)
    pilot = rollout_optimum(problem, demand, probability, weights, first_allowed=problem.option_type == 1, **risk)
    strategy = block["strategies"]["pilot_micro"]
    assert strategy["expected_cost"] + risk["cvar_weight"] * strategy["cvar"] == pytest.approx(pilot, rel=1e-6)
