"""The presolve on models with product setups (``planner.solver.setup_options``): the expansion into
options (o, S) is exact, checked against enumeration of every network and setup choice, and the
whole route against HiGHS on the original model."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from planner.model import ModelIndex
from planner.model.arrays import build_standard_form, start_vector
from planner.pipeline import solve_problem
from planner.problem import ARC_FIELDS, Problem
from planner.solver import SolverOptions
from planner.solver.setup_options import (
    applies,
    expand,
    expanded_arcs,
    folded,
    folded_applies,
    presolve_with_folded_setups,
    presolve_with_setups,
    subsets_per_option,
)
from tests.marks import some_slow

EXACT = SolverOptions(mip_gap=1e-9, presolve_min_arcs=10**9)  # HiGHS alone on the original model
WITH_PRESOLVE = SolverOptions(mip_gap=1e-9, presolve_min_arcs=0)


def setup_problem(seed: int, n_sites: int = 3, n_regions: int = 5, tightness: float = 1.5, modules: int = 1,
                  plain_product: bool = False, penalty: float = 60.0, setup_products: int = 2) -> Problem:
    """Seeded sites and regions in a 100 km square; ``setup_products`` products with setups (and one more
    without with ``plain_product``, the last); one type; capacity per module = total demand ×
    ``tightness`` / sites; unit cost 10 + 0.1/km."""
    rng = np.random.default_rng(seed)
    n_products = setup_products + 1 if plain_product else setup_products
    sites, regions = rng.uniform(0, 100, (n_sites, 2)), rng.uniform(0, 100, (n_regions, 2))
    demand = rng.integers(1, 20, (n_regions, n_products)).astype(float)
    km = np.linalg.norm(sites[:, None, :] - regions[None, :, :], axis=2)
    option, region, product = (a.ravel() for a in np.meshgrid(np.arange(n_sites), np.arange(n_regions),
                                                                np.arange(n_products), indexing="ij"))
    setup = rng.uniform(20, 200, (n_sites, n_products))
    if plain_product:
        setup[:, -1] = 0.0
    n_arcs = len(option)
    return Problem(
        name=f"setups_{seed}", region_ids=np.array([f"r{j}" for j in range(n_regions)], dtype=object),
        product_ids=tuple(f"p{k}" for k in range(n_products)), type_ids=("plant",),
        site_ids=np.array([f"s{i}" for i in range(n_sites)], dtype=object), demand=demand,
        unmet_penalty=np.full(n_products, penalty), max_distance_km=np.full(n_products, np.inf),
        option_site=np.arange(n_sites), option_type=np.zeros(n_sites, dtype=int),
        opening_cost=rng.uniform(100, 400, n_sites), module_cost=np.full(n_sites, 30.0),
        module_capacity=np.full(n_sites, demand.sum() * tightness / n_sites / modules),
        min_modules=np.ones(n_sites, dtype=int), max_modules=np.full(n_sites, modules, dtype=int),
        capex=np.zeros(n_sites), capex_per_module=np.zeros(n_sites), forced=np.zeros(n_sites, dtype=bool),
        arc_option=option, arc_region=region, arc_product=product, arc_distance_km=km[option, region],
        arc_production_cost=np.full(n_arcs, 10.0), arc_transport_cost=0.1 * km[option, region],
        arc_co2_t=np.zeros(n_arcs), setup_cost=setup,
    )


def best_by_enumeration(problem: Problem) -> float:
    """Least cost over every choice per option of closed or open making a set S of products (one
    module each), with the flows of each choice from one LP (scipy): independent of the expansion."""
    n_options, n_products = problem.n_options, problem.n_products
    choices = [None] + [s for r in range(n_products + 1) for s in itertools.combinations(range(n_products), r)]
    best = np.inf
    for choice in itertools.product(choices, repeat=n_options):
        fixed = sum(problem.opening_cost[o] + problem.module_cost[o] + problem.setup_cost[o, list(made)].sum()
                    for o, made in enumerate(choice) if made is not None)
        allowed = np.array([choice[o] is not None and (p in choice[o] or problem.setup_cost[o, p] == 0)
                            for o, p in zip(problem.arc_option, problem.arc_product, strict=True)])
        best = min(best, fixed + flows(problem, allowed))
    return best


def flows(problem: Problem, allowed: np.ndarray) -> float:
    """Least flow + unmet cost over the ``allowed`` arcs: each (region, product) served or unmet in
    full, each option within its capacity."""
    arcs = np.flatnonzero(allowed)
    q = problem.demand[problem.arc_region[arcs], problem.arc_product[arcs]]
    pairs = np.argwhere(problem.demand > 0)
    n_x = len(arcs)
    a_eq = np.zeros((len(pairs), n_x + len(pairs)))
    for row, (r, p) in enumerate(pairs):
        a_eq[row, np.flatnonzero((problem.arc_region[arcs] == r) & (problem.arc_product[arcs] == p))] = 1.0
        a_eq[row, n_x + row] = 1.0
    a_ub = np.zeros((problem.n_options, n_x + len(pairs)))
    a_ub[problem.arc_option[arcs], np.arange(n_x)] = q
    cost = np.concatenate([problem.arc_unit_cost[arcs] * q,
                           problem.unmet_penalty[pairs[:, 1]] * problem.demand[pairs[:, 0], pairs[:, 1]]])
    result = linprog(cost, A_ub=a_ub, b_ub=problem.module_capacity, A_eq=a_eq, b_eq=np.ones(len(pairs)),
                     bounds=(0, 1), method="highs")
    assert result.status == 0
    return float(result.fun)


@pytest.mark.parametrize("seed", some_slow(range(4), fast=1))
@pytest.mark.parametrize("tightness", [0.8, 3.0])
def test_the_presolve_with_setups_finds_the_enumerated_optimum(seed, tightness):
    """Tight (0.8: some demand must go unmet) and loose capacities; the presolve's bound is below the
    optimum, its incumbent at or above it, and the whole route ends at the enumerated optimum."""
    problem = setup_problem(seed, tightness=tightness)
    index = ModelIndex.from_problem(problem)
    assert applies(problem, index, WITH_PRESOLVE)
    optimum = best_by_enumeration(problem)
    found = presolve_with_setups(problem, index, WITH_PRESOLVE)
    assert found.bound <= optimum + 1e-6 * abs(optimum)
    assert found.incumbent_cost >= optimum - 1e-6 * abs(optimum)
    run = solve_problem(problem, WITH_PRESOLVE)
    assert run.report.objective == pytest.approx(optimum, rel=1e-7)
    assert run.audit.passed


@pytest.mark.parametrize("seed", range(3))
def test_the_mapped_incumbent_costs_what_the_presolve_says(seed):
    """The incumbent of the expanded problem, mapped back (setups z_op included), costs exactly its
    cost in the expanded problem in the original model's objective: the opening cost of (o, S) is
    F_o + Σ_{p∈S} s_op, and a product without a setup travels with every S."""
    problem = setup_problem(seed, n_sites=4, n_regions=6, modules=3, plain_product=True)
    index = ModelIndex.from_problem(problem)
    found = presolve_with_setups(problem, index, WITH_PRESOLVE)
    form = build_standard_form(problem, index)
    vector = start_vector(form, problem, index, found.incumbent)
    assert float(form.cost @ vector) + float(form.offset) == pytest.approx(found.incumbent_cost, rel=1e-9)
    assert ((found.incumbent.setup > 0) <= (found.incumbent.open[:, None] > 0)).all()


@pytest.mark.parametrize("seed", some_slow(range(3), fast=1))
def test_modular_setups_match_highs_on_the_original_model(seed):
    """Up to three modules per site and a product without a setup: the presolve's route and HiGHS
    alone on the model with its z_op reach the same optimum."""
    problem = setup_problem(seed, n_sites=5, n_regions=8, modules=3, plain_product=True, tightness=1.2)
    reference = solve_problem(problem, EXACT).report.objective
    run = solve_problem(problem, WITH_PRESOLVE)
    assert run.report.objective == pytest.approx(reference, rel=1e-7)
    assert run.report.best_bound <= reference * (1 + 1e-9)


def test_the_expansion_has_one_option_per_product_set_and_the_arcs_it_counts():
    """Two setup products and one without: each option becomes four (o, S): ∅, {p0}, {p1}, {p0, p1};
    an arc of p0 is in two of them, an arc of the plain product in all four."""
    problem = setup_problem(0, n_sites=2, n_regions=3, plain_product=True)
    index = ModelIndex.from_problem(problem)
    expansion = expand(problem, index)
    assert expansion.option_of.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert expansion.makes[:4, :2].tolist() == [[False, False], [True, False], [False, True], [True, True]]
    assert expansion.problem.n_arcs == expanded_arcs(problem, index) == 2 * 3 * (2 + 2 + 4)
    opening = problem.opening_cost[0] + problem.setup_cost[0, :2].sum()
    assert expansion.problem.opening_cost[3] == pytest.approx(opening)
    assert not expansion.problem.setup_cost.any()


def test_a_forced_option_with_a_choice_of_products_keeps_the_model_as_it_is():
    """Forcing o means one of its (o, S) opens, which the presolve cannot say: no expansion."""
    problem = setup_problem(1)
    forced = dataclasses.replace(problem, forced=np.array([True, False, False]))
    assert applies(problem, ModelIndex.from_problem(problem), WITH_PRESOLVE)
    assert not applies(forced, ModelIndex.from_problem(forced), WITH_PRESOLVE)
    assert solve_problem(forced, WITH_PRESOLVE).report.objective == pytest.approx(
        solve_problem(forced, EXACT).report.objective, rel=1e-7)


@pytest.mark.parametrize("seed", some_slow(range(3), fast=1))
def test_a_count_limit_holds_on_the_product_sets(seed):
    """At most two facilities: each open (o, S) counts once, so the limit carries over as it is and the
    route with the presolve reaches HiGHS's optimum on the original model."""
    problem = dataclasses.replace(setup_problem(seed, n_sites=5, n_regions=8, tightness=2.0), max_facilities=2)
    index = ModelIndex.from_problem(problem)
    assert applies(problem, index, WITH_PRESOLVE)
    assert expand(problem, index).problem.max_facilities == 2
    reference = solve_problem(problem, EXACT).report.objective
    run = solve_problem(problem, WITH_PRESOLVE)
    assert run.report.objective == pytest.approx(reference, rel=1e-7)
    assert run.solution.open.sum() <= 2


@pytest.mark.parametrize("seed", some_slow(range(3), fast=1))
def test_a_lower_count_limit_holds_on_the_product_sets(seed):
    """At least four of five facilities (the optimum without the limit opens fewer): the relaxation may
    count two product sets of one site, which only weakens its bound; the route reaches HiGHS's optimum
    on the original model with four or more open."""
    free = setup_problem(seed, n_sites=5, n_regions=8, tightness=2.0)
    assert solve_problem(free, EXACT).solution.open.sum() < 4
    problem = dataclasses.replace(free, min_facilities=4)
    index = ModelIndex.from_problem(problem)
    assert applies(problem, index, WITH_PRESOLVE)
    reference = solve_problem(problem, EXACT).report.objective
    found = presolve_with_setups(problem, index, WITH_PRESOLVE)
    assert found.bound <= reference * (1 + 1e-9)
    assert found.incumbent.open.sum() >= 4 and found.incumbent_cost >= reference * (1 - 1e-9)
    run = solve_problem(problem, WITH_PRESOLVE)
    assert run.report.objective == pytest.approx(reference, rel=1e-7)
    assert run.solution.open.sum() >= 4


@pytest.mark.parametrize("limit", ["type_min_count", "min_facilities"])
def test_a_site_opened_only_to_be_counted_pays_no_setup(limit):
    """Two sites, two regions of demand 10, opening 1, unit costs 1 at s0 and 5 at s1, a setup of 100
    at each; at least two facilities. By hand: both open, the product set up at s0 only, which serves
    both regions: 2 + 100 + 20 = 122. The expansion had left out (s1, ∅), so s1 had to pay a setup to
    open: 222, reported optimal with a bound of 222 by the presolve (HiGHS not run)."""
    from tests.builders import dense_problem

    counts = {"type_min_count": np.array([2])} if limit == "type_min_count" else {"min_facilities": 2}
    problem = dense_problem([10, 10], [1, 1], [100, 100], [[1, 1], [5, 5]],
                            setup_cost=np.array([[100.0], [100.0]]), **counts)
    for options in (EXACT, WITH_PRESOLVE):
        run = solve_problem(problem, options)
        assert run.report.objective == pytest.approx(122.0)
        assert run.report.best_bound <= 122.0 + 1e-9


@pytest.mark.parametrize("seed", some_slow(range(4), fast=1))
def test_a_forced_option_that_need_make_nothing_keeps_the_model_as_it_is(seed):
    """A forced option whose only product has a dear setup may open without making it (z = 0): its one
    set {p} would force the setup, so (o, ∅) is one of its choices and the expansion does not apply;
    the run reaches HiGHS's optimum (an expansion without (o, ∅) reported a bound above it)."""
    problem = setup_problem(seed, n_sites=4, n_regions=6)
    keep = ~((problem.arc_option == 0) & (problem.arc_product == 1))
    setup = problem.setup_cost.copy()
    setup[0, 0] = 1500.0
    forced = dataclasses.replace(problem, forced=np.array([True, False, False, False]), setup_cost=setup,
                                 **{name: getattr(problem, name)[keep] for name in ARC_FIELDS})
    index = ModelIndex.from_problem(forced)
    assert subsets_per_option(forced, index)[0] == 2
    assert not applies(forced, index, WITH_PRESOLVE)
    assert solve_problem(forced, WITH_PRESOLVE).report.objective == pytest.approx(
        solve_problem(forced, EXACT).report.objective, rel=1e-7)


def test_an_option_without_setup_products_counts_as_one_option():
    """An option whose products need no setup becomes one option (o, ∅) with all its arcs, and the
    arc count of the expansion says so."""
    problem = setup_problem(0, n_sites=3, n_regions=4)
    setup = problem.setup_cost.copy()
    setup[0] = 0.0
    problem = dataclasses.replace(problem, setup_cost=setup)
    index = ModelIndex.from_problem(problem)
    assert subsets_per_option(problem, index).tolist() == [1, 3, 3]
    assert expanded_arcs(problem, index) == expand(problem, index).problem.n_arcs == 4 * 2 + 2 * (4 * 2 * 2)


@pytest.mark.parametrize("seed", some_slow(range(3), fast=1))
def test_five_setup_products_fold_into_the_opening_costs_and_reach_highss_optimum(seed):
    """Five setup products at each option (31 sets: too many for the exact expansion) and one without: the
    presolve runs on the model with the setups folded; its network, its setups paid where it serves, is
    feasible and costs at most its folded cost; its bound is the model's without setups; the route ends at the
    optimum of HiGHS alone on the model (before, the presolve did not run at all: HiGHS alone had found no network on
    4.75 million arcs in 60 s)."""
    problem = setup_problem(seed, n_sites=5, n_regions=6, setup_products=5, plain_product=True, tightness=1.3)
    index = ModelIndex.from_problem(problem)
    assert not applies(problem, index, WITH_PRESOLVE) and folded_applies(problem, index, WITH_PRESOLVE)
    found = presolve_with_folded_setups(problem, index, WITH_PRESOLVE)
    assert not found.fix_closed.any() and not found.fix_open.any()
    form = build_standard_form(problem, index)
    vector = start_vector(form, problem, index, found.incumbent)
    assert float(form.cost @ vector) + float(form.offset) == pytest.approx(found.incumbent_cost, rel=1e-9)
    wide = folded(problem, index)
    wide_form = build_standard_form(wide, ModelIndex.from_problem(wide))
    folded_cost = wide_form.cost @ start_vector(wide_form, wide, ModelIndex.from_problem(wide), found.incumbent)
    assert found.incumbent_cost <= float(folded_cost) + float(wide_form.offset) + 1e-9
    reference = solve_problem(problem, EXACT).report.objective
    assert -np.inf < found.bound <= reference * (1 + 1e-9)
    run = solve_problem(problem, WITH_PRESOLVE)
    assert run.report.objective == pytest.approx(reference, rel=1e-7)
    assert run.report.best_bound <= reference * (1 + 1e-9) and run.audit.passed


def test_the_folded_network_is_the_answer_where_highs_finds_none(monkeypatch):
    """HiGHS ending without a network (as on 4.75 million arcs in 60 s): the folded presolve's network is the
    answer, audited, with the bound of the model without setups (below the optimum), not called optimal."""
    from planner.errors import SolverError

    def no_network(*args, **kwargs):
        raise SolverError("HiGHS ended without a feasible solution (status: Time limit reached)")

    problem = setup_problem(1, n_sites=5, n_regions=6, setup_products=5, plain_product=True)
    optimum = solve_problem(problem, EXACT).report.objective
    monkeypatch.setattr("planner.solver.engine.run_highs", no_network)
    run = solve_problem(problem, WITH_PRESOLVE)
    assert run.audit.passed and run.report.status.value != "optimal"
    assert run.report.best_bound <= optimum * (1 + 1e-9) <= run.report.objective * (1 + 2e-9)
    assert run.solution.setup is not None and run.solution.setup.any()
