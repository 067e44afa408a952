"""Problems whose costs are all small (``planner.solver.cost_unit``): the same answers as in a unit 10^k
times larger. HiGHS's absolute tolerances (reduced costs within 1e-7, an absolute MIP gap of 1e-6) had
let such problems be called optimal far from their optimum (review of 2026-12-06: +45 % at costs × 1e-11,
its bound equal to its objective)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from planner.pipeline import solve_problem
from planner.solver import SolverOptions
from planner.solver.cost_unit import cost_factor, costs_in_unit
from tests.brute import best_by_enumeration
from tests.builders import dense_problem, with_supply
from tests.marks import some_slow

EXACT = SolverOptions(mip_gap=0.0, quiet=True, threads=1)


def small_ufl(seed: int, n_sites: int = 8, n_regions: int = 25, capacity=np.inf):
    """Kratica-like: sites and customers on a square, costs = distance × demand, fixed costs about a
    third of a customer's full cost to its nearest site × the regions per site."""
    rng = np.random.default_rng(seed)
    sites, regions = rng.uniform(0, 100, (n_sites, 2)), rng.uniform(0, 100, (n_regions, 2))
    distance = np.linalg.norm(sites[:, None, :] - regions[None, :, :], axis=2)
    demand = rng.integers(5, 40, n_regions).astype(float)
    opening = rng.uniform(300, 3000, n_sites)
    return dense_problem(demand=demand, opening_cost=opening, capacity=np.full(n_sites, capacity, dtype=float),
                         unit_cost=distance, penalty=1000.0)


@pytest.mark.parametrize("seed", some_slow(range(4), fast=2))
@pytest.mark.parametrize("scale", some_slow([1e-11, 1e-9], fast=1))  # at 1e-11 HiGHS had failed on every seed
def test_tiny_costs_give_the_optimum_of_the_same_problem_in_larger_units(seed, scale):
    problem = small_ufl(seed)
    optimum = best_by_enumeration(problem)
    tiny = costs_in_unit(problem, scale)
    run = solve_problem(tiny, EXACT)
    assert run.report.status.value == "optimal"
    assert run.report.objective == pytest.approx(optimum * scale, rel=1e-7)
    assert run.report.best_bound <= optimum * scale * (1 + 1e-9)
    assert run.audit.passed


def test_tiny_costs_with_capacities_and_suppliers_cost_the_same_scaled():
    problem = small_ufl(7, capacity=150.0)
    problem = with_supply(problem, bom=[[1.0]], supplier_material=[0, 0], capacity=[np.inf, 400.0], price=[2.0, 1.0],
                          km=np.random.default_rng(7).uniform(0, 50, (2, 8)), rate=0.01, fixed=20.0)
    problem = dataclasses.replace(problem, carbon_price=3.0)
    plain = solve_problem(problem, EXACT)
    tiny = solve_problem(costs_in_unit(problem, 1e-10), EXACT)
    assert tiny.report.objective == pytest.approx(plain.report.objective * 1e-10, rel=1e-7)
    assert tiny.tables.sites["site_id"].tolist() == plain.tables.sites["site_id"].tolist()


def test_tiny_costs_of_suppliers_alone_are_solved_in_a_larger_unit():
    """Every cost zero but the suppliers' (3e-9 and 1e-9 a unit): the dearer supplier had been called
    optimal at 3× the optimum, as the factor looked at facility and arc costs only."""
    problem = small_ufl(3, n_sites=3, n_regions=6)
    problem = dataclasses.replace(problem, opening_cost=np.zeros(3), arc_production_cost=np.zeros(problem.n_arcs),
                                  arc_transport_cost=np.zeros(problem.n_arcs))
    problem = with_supply(problem, bom=[[1.0]], supplier_material=[0, 0], capacity=[np.inf, np.inf],
                          price=[3e-9, 1e-9], km=np.zeros((2, 3)), rate=0.0)
    assert cost_factor(problem) == 10.0 ** -np.floor(np.log10(3e-9 * problem.demand.sum()))  # the dearer into [1, 10)
    run = solve_problem(problem, EXACT)
    assert run.report.objective == pytest.approx(1e-9 * problem.demand.sum(), rel=1e-9)
    assert run.tables.inbound.groupby("supplier_id")["quantity"].sum().to_dict().get("j0", 0.0) == 0.0


def test_the_factor_brings_the_largest_cost_term_into_one_to_ten():
    problem = small_ufl(0)
    assert cost_factor(problem) == 1.0  # costs in the thousands: solved as they are
    assert cost_factor(costs_in_unit(problem, 1e-9)) == 1e6  # largest term of the order of 1e-6 → [1, 10)
    assert cost_factor(dataclasses.replace(problem, objective_kind="p_median")) == 1.0


def test_small_figures_are_printed_to_their_digits_not_as_zero():
    from planner.cli.console import costs_text
    from planner.results import amount_text

    assert amount_text(7.294560046e-4) == "0.0007295" and amount_text(321_251_807.2) == "321,251,807"
    assert costs_text({"fixed": 7e-4, "transport": 2.5e-5}) == "fixed 0.0007, transport 2.5e-05"
    assert costs_text({"fixed": 1000.0, "revenue": -0.3}) == "fixed 1,000, revenue -0.3"  # a figure, not 0 nor "-0"
    assert costs_text({"fixed": 1e6, "transport": 0.1439}) == "fixed 1,000,000, transport 0.1439"  # had read 0
    assert costs_text({"fixed": 1e6, "x": 0.5}) == "fixed 1,000,000, x 0.5"  # not rounded half to even, to 0
    assert costs_text({"fixed": 7e-4, "carbon": -1e-16}) == "fixed 0.0007, carbon 0"  # rounding, not a figure


def test_the_factor_keeps_a_prohibitive_penalty_within_what_the_solver_takes():
    problem = costs_in_unit(small_ufl(0), 1e-11)
    assert cost_factor(problem) == 1e8
    strict = dataclasses.replace(problem, unmet_penalty=np.array([1e9]))  # 'serve it' × ~560 units: 5.6e11
    assert cost_factor(strict) == 1e3  # 5.6e14 ≤ 1e15, where 1e8 would give 5.6e19
