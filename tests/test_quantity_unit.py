"""Problems whose demands are all small (``planner.solver.quantity_unit``): the same answers as in a
unit 10^7 times larger, and an audit that holds their quantities to their own scale.

The hand-derived case: two sites of capacity 1 (fixed cost 0), three customers of demand 0.6 whose
whole demand costs (1, 20), (3, 40), (5, 60) from the two sites. Site 2 must take 0.8 of the 1.8
units; per unit it costs (20 − 1) / 0.6, (40 − 3) / 0.6 and (60 − 5) / 0.6 more, so it takes customer
1 whole and a third of customer 2: 20 + 40 / 3 at site 2, 2 + 5 at site 1, 40.333… Single sourcing:
three items of 0.6 do not fit two bins of 1: infeasible.
In units 10^7 times smaller (capacity 1e-7, demand 6e-8) the answers are the same; before, HiGHS's
absolute tolerance let site 1 take everything (1.8e-7 on 1e-7): "optimal" 9.0.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from planner.audit import audit
from planner.errors import InfeasibleError
from planner.formats.orlib_cap import read_orlib_cap
from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.pipeline import solve_problem
from planner.results import ResultTables
from planner.solver import SolverOptions
from planner.solver.heuristic import network_cost
from planner.solver.quantity_unit import in_unit, material_factor, quantity_factor
from tests.builders import dense_problem, with_supply

EXACT = SolverOptions(mip_gap=1e-9, quiet=True)


def packing_file(path, scale: float):
    path.write_text(f"2 3\n{scale} 0\n{scale} 0\n{0.6 * scale}\n1 20\n{0.6 * scale}\n3 40\n{0.6 * scale}\n5 60\n")
    return path


@pytest.mark.parametrize("scale", [1.0, 1e-7, 1e-12])
def test_the_hand_derived_packing_is_the_same_in_every_unit(tmp_path, scale):
    problem = read_orlib_cap(packing_file(tmp_path / "pack.txt", scale))
    run = solve_problem(problem, EXACT)
    assert run.report.status.value == "optimal" and run.report.objective == pytest.approx(20 + 40 / 3 + 2 + 5)
    load = run.tables.flows.groupby("site_id")["quantity"].sum()
    assert (load <= scale * (1 + 1e-9)).all()
    with pytest.raises(InfeasibleError):
        solve_problem(read_orlib_cap(tmp_path / "pack.txt", single_source=True), EXACT)


def test_the_audit_holds_small_quantities_to_their_own_scale(tmp_path):
    """Every customer at site 1 (1.8e-7 on a capacity of 1e-7) fails the audit's capacity check; it
    passed with a tolerance of 1e-6 units whatever the demands."""
    problem = read_orlib_cap(packing_file(tmp_path / "pack.txt", 1e-7))
    index = ModelIndex.from_problem(problem)
    at_site_1 = (problem.arc_option == 0).astype(float)
    solution = Solution(open=np.array([1, 0]), modules=np.array([1, 0]), assign=at_site_1, unmet=np.zeros(3))
    checked = audit(problem, ResultTables.from_solution(problem, index, solution), None)
    assert "capacity" in checked.failures


@pytest.mark.parametrize("seed", range(4))
def test_random_capacitated_problems_with_suppliers_cost_the_same_in_a_small_unit(seed):
    """Demands, capacities, unmet limits and supplier capacities × 1e-8, every cost and CO2 per unit × 1e8:
    the same optimum (HiGHS on both, the small one through the larger unit), and the larger unit
    states the small problem exactly as the original."""
    rng = np.random.default_rng(seed)
    n_sites, n_regions = 5, 9
    base = dense_problem(demand=rng.integers(1, 20, n_regions).astype(float),
                         opening_cost=rng.uniform(50, 150, n_sites), capacity=rng.uniform(20, 60, n_sites),
                         unit_cost=rng.uniform(1, 10, (n_sites, n_regions)), penalty=40.0, max_unmet=np.array([15.0]))
    base = with_supply(base, bom=[[2.0]], supplier_material=[0, 0], capacity=[np.inf, 120.0], price=[1.5, 1.0],
                       km=rng.uniform(10, 300, (2, n_sites)), rate=0.01, co2_rate=0.001, fixed=5.0)
    base = dataclasses.replace(base, carbon_price=30.0, arc_co2_t=rng.uniform(0.001, 0.01, base.n_arcs))
    small = in_unit(base, 1e-8)
    assert quantity_factor(small) == pytest.approx(10.0 ** (8 - int(np.floor(np.log10(base.demand.max())))))
    assert in_unit(small, 1e8).demand == pytest.approx(base.demand)
    expected, found = solve_problem(base, EXACT), solve_problem(small, EXACT)
    assert found.report.status.value == "optimal" and found.audit.passed
    assert found.report.objective == pytest.approx(expected.report.objective, rel=1e-7)
    assert found.solution.inbound.sum() == pytest.approx(expected.solution.inbound.sum() * 1e-8, rel=1e-6)


def test_an_infeasible_small_problem_is_explained_as_in_units_a_million_times_larger():
    """Sites A, B (capacity 1) and C (5); two customers of 0.6 only from A or B, one of 0.1 only from C;
    at most 2 open: 3 must. At scale 1e-7 the explanation's own solves overran the capacities within
    HiGHS's tolerance and the count was lost ("check forced sites…")."""
    from planner.inputs.objectives import keep_arcs

    messages = []
    for scale in (1.0, 1e-7):
        problem = dense_problem(demand=np.array([0.6, 0.6, 0.1]) * scale, opening_cost=[1, 1, 1],
                                capacity=np.array([1.0, 1.0, 5.0]) * scale, unit_cost=np.ones((3, 3)),
                                max_facilities=2)
        reach = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], bool)
        with pytest.raises(InfeasibleError) as error:
            solve_problem(keep_arcs(problem, reach[problem.arc_option, problem.arc_region]), EXACT)
        messages.append(str(error.value))
    assert messages[0] == messages[1] and "at least 3 facilities must open" in messages[0]


def test_an_unmet_limit_message_states_the_users_units():
    """0.08 units/yr of which at most 0.01 may go unmet and no arc: the message said 8 and 1 (the solve's unit)."""
    problem = dense_problem(demand=[0.05, 0.03], opening_cost=[1.0], capacity=[np.inf], unit_cost=[[1.0, 1.0]],
                            penalty=5.0, max_unmet=np.array([0.01]))
    problem = dataclasses.replace(problem, **{name: getattr(problem, name)[:0] for name in (
        "arc_option", "arc_region", "arc_product", "arc_distance_km", "arc_production_cost", "arc_transport_cost",
        "arc_co2_t", "arc_minutes", "arc_demand_factor", "arc_price")})
    with pytest.raises(InfeasibleError, match=r"at most 0\.01 units/yr may go unmet, .* its 0\.08 units/yr"):
        solve_problem(problem, EXACT, screen=False)


def test_the_audit_holds_small_material_flows_to_their_own_scale():
    """A network that buys no material at all, at scale 1e-7: the material balance check passed (floor 1e-6)."""
    base = dense_problem(demand=[3e-7, 4e-7], opening_cost=[1, 1], capacity=[np.inf, np.inf],
                         unit_cost=[[1, 2], [2, 1]])
    problem = with_supply(base, bom=[[2.0]], supplier_material=[0], capacity=[np.inf], price=[1.0], km=[[10, 10]],
                          rate=0.0)
    run = solve_problem(problem, EXACT)
    unbought = dataclasses.replace(run.solution, inbound=np.zeros_like(run.solution.inbound))
    checked = audit(problem, ResultTables.from_solution(problem, run.index, unbought), None)
    assert "material_balance" in checked.failures


def test_the_supplier_route_starts_from_a_given_network_cheaper_than_its_own(monkeypatch):
    """With suppliers the route's own restricted network came first and a caller's start (compare's rival
    network) was dropped: where the restricted solve finds nothing, the final solve now starts from it."""
    import planner.solver.supply_bound as supply_bound
    from planner.solver import solve

    base = dense_problem(demand=[3.0, 4.0], opening_cost=[1, 1], capacity=[np.inf, np.inf],
                         unit_cost=[[1, 2], [2, 1]])
    problem = with_supply(base, bom=[[2.0]], supplier_material=[0], capacity=[np.inf], price=[1.0], km=[[10, 10]],
                          rate=0.01, fixed=3.0)
    options = dataclasses.replace(EXACT, presolve_min_arcs=1)
    _, optimum = solve(problem, options)
    index = ModelIndex.from_problem(problem)
    expected = audit(problem, ResultTables.from_solution(problem, index, optimum), None).objective_recomputed
    assert network_cost(problem, index, optimum) == pytest.approx(expected, rel=1e-12)
    original, handed = supply_bound.solve_with_supply, []

    def spied(problem, options, index, solve_relaxed, solve_full, start=None):
        def full(part, part_index, part_options, part_start):
            if part is problem:
                handed.append(part_start)
                return solve_full(part, part_index, part_options, part_start)
            raise InfeasibleError("the restricted network (made to fail here)")
        return original(problem, options, index, solve_relaxed, full, start=start)

    monkeypatch.setattr("planner.solver.engine.solve_with_supply", spied)
    report, _ = solve(problem, options, start=optimum)
    (start,) = handed  # in the unit of material it is solved in (planner.solver.quantity_unit.material_factor)
    assert start.open.tolist() == optimum.open.tolist() and start.assign.tolist() == optimum.assign.tolist()
    assert start.inbound.tolist() == pytest.approx((optimum.inbound * material_factor(problem)).tolist(), rel=1e-12)
    assert report.objective == pytest.approx(expected, rel=1e-9)


def test_tiny_demands_beside_ordinary_capacities_solve_as_in_the_ordinary_unit():
    """Demands of 1e-12 units against modules of 10,000: in the unit 1e12 times smaller the modules were
    1e16, above HiGHS's matrix limit; HiGHS dropped the matrix ('Model status: Empty') and the solve ended
    in an internal error. A capacity beyond all that can be delivered is held at that, the same model."""
    rng = np.random.default_rng(7)
    demand, unit_cost = rng.integers(1, 9, 6).astype(float), rng.uniform(1, 5, (3, 6))
    opening = np.array([30.0, 20.0, 25.0])
    ordinary = solve_problem(dense_problem(demand, opening, [1e4] * 3, unit_cost), EXACT)
    tiny = solve_problem(dense_problem(demand * 1e-12, opening, [1e4] * 3, unit_cost * 1e12), EXACT)
    assert tiny.report.status.value == "optimal" and tiny.audit.passed
    assert tiny.report.objective == pytest.approx(ordinary.report.objective, rel=1e-9)
    assert in_unit(dense_problem(demand * 1e-12, opening, [1e4] * 3, unit_cost), 1e12).module_capacity.max() <= 1e3
    # an unlimited capacity stays unlimited (held, it made an uncapacitated model capacitated: slower routes)
    unlimited = in_unit(dense_problem(demand * 1e-12, opening, [np.inf, 1e4, np.inf], unit_cost), 1e12)
    assert np.isinf(unlimited.module_capacity[[0, 2]]).all() and np.isfinite(unlimited.module_capacity[1])
