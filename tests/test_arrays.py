"""The array-built standard form equals Pyomo's compiled form of the same model: after Pyomo's
substitution of fixed (forced) columns, the same rows (coefficients and bounds, in any order), the
same column bounds, integrality and costs, and the same objective offset; and both routes solve to
the same optimum."""

from __future__ import annotations

import numpy as np
import pytest

from planner.model import ModelIndex, build_model
from planner.model.arrays import build_standard_form, solution_from_vector, start_vector
from planner.pipeline import solve_problem
from planner.solver.highs import compile_model
from planner.solver.outcome import SolverOptions
from tests.builders import dense_problem, with_supply

INF = float("inf")


def varied_problem(seed: int, **overrides):
    """A tiny instance exercising every row family the flags ask for."""
    rng = np.random.default_rng(seed)
    n_sites, n_regions = 4, 5
    fields = dict(
        demand=rng.integers(1, 20, n_regions).astype(float),
        opening_cost=rng.uniform(0, 60, n_sites).round(1),
        capacity=np.array([30.0, 25.0, np.inf, 40.0]),
        unit_cost=rng.uniform(1, 10, (n_sites, n_regions)).round(2),
        penalty=12.5,
        max_modules=np.array([1, 3, 1, 2]),
        module_cost=np.array([0.0, 4.0, 0.0, 3.0]),
        option_site=np.array([0, 1, 2, 2]),  # options 2 and 3: two types at one site
        option_type=np.array([0, 0, 0, 1]),
        type_ids=("t", "u"),
    )
    fields.update(overrides)
    return dense_problem(**fields)


CASES = {
    "plain": {},
    "must_serve": {"penalty": INF, "capacity": np.array([30.0, 25.0, 20.0, 40.0])},
    "forced": {"forced": np.array([False, True, False, False])},
    "counts": {"min_facilities": 1, "max_facilities": 3, "type_max_count": np.array([2, 1]),
               "type_min_count": np.array([0, 1])},
    "budget": {"capex_budget": 100.0, "capex": np.array([10.0, 20.0, 0.0, 30.0]),
               "capex_per_module": np.array([1.0, 2.0, 3.0, 0.0])},
    "single_sourcing": {"single_sourcing": True},
    "setup": {"setup_cost": np.array([[5.0], [0.0], [7.0], [3.0]])},
    "co2_cap": {"co2_cap_t": 0.5, "arc_co2_t": np.linspace(0.0, 0.05, 20)},
    "unmet_limit": {"max_unmet": np.array([4.0])},
    "service": {"service_share": np.array([0.6]), "service_km": np.array([50.0]),
                "arc_distance_km": np.linspace(0.0, 100.0, 20)},
    "proximity": {"arc_demand_factor": np.tile([1.3, 1.0, 0.8, 1.1], 5), "arc_price": np.linspace(0.0, 4.0, 20)},
    "supply": {"supply": with_supply(varied_problem(0), bom=[[1.5, 0.5]], supplier_material=[0, 1, 0],
                                     capacity=[40.0, INF, INF], price=[1.0, 2.0, 1.5],
                                     km=[[10, 20, 30, 40], [5, 5, 50, 50], [60, 10, 10, 0]], rate=0.01,
                                     co2_rate=0.2, fixed=[0.0, 3.0, 0.0, 2.0]).supply,
               "co2_cap_t": 5.0},
}


def canonical_rows(matrix, lower, upper, names):
    """Each row as (sorted (column name, coefficient) pairs, lower, upper); ranged rows split in
    two one-sided rows (as Pyomo's mixed form writes them); explicit zeros dropped."""
    matrix = matrix.tocsr()
    rows = []
    for r in range(matrix.shape[0]):
        start, stop = matrix.indptr[r], matrix.indptr[r + 1]
        terms = tuple(
            sorted((names[c], round(float(v), 9)) for c, v in zip(matrix.indices[start:stop], matrix.data[start:stop],
                                                                  strict=True) if v != 0)
        )
        lo = -INF if lower[r] <= -1e30 else round(float(lower[r]), 9)
        hi = INF if upper[r] >= 1e30 else round(float(upper[r]), 9)
        if lo != hi and lo > -INF and hi < INF:
            rows += [normal(terms, lo, INF), normal(terms, -INF, hi)]
        else:
            rows.append(normal(terms, lo, hi))
    return sorted(rows)


def normal(terms, lo, hi):
    """One sign convention: a ≥ row becomes a ≤ row; an equality has a positive first coefficient."""
    if (hi == INF and lo > -INF) or (lo == hi and terms and terms[0][1] < 0):
        return tuple((name, -value) for name, value in terms), -hi, -lo
    return terms, lo, hi


def substitute_fixed(form, names):
    """Pyomo's treatment of fixed columns: their terms move to the row bounds and the offset."""
    fixed = form.col_lower == form.col_upper
    value = form.col_lower
    shift = form.matrix @ np.where(fixed, value, 0.0)
    keep = np.flatnonzero(~fixed)
    matrix = form.matrix.tocsc()[:, keep]
    offset = form.offset + float(form.cost[fixed] @ value[fixed])
    return (
        matrix,
        form.row_lower - shift,
        form.row_upper - shift,
        [names[c] for c in keep],
        keep,
        offset,
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_array_form_equals_pyomo_compiled_form(case):
    problem = varied_problem(3, **CASES[case])
    index = ModelIndex.from_problem(problem)
    form = build_standard_form(problem, index)
    compiled = compile_model(build_model(problem, index))
    names = form.column_names(problem, index)
    matrix, row_lower, row_upper, kept_names, keep, offset = substitute_fixed(form, names)
    pyomo_names = [v.name for v in compiled.columns]
    assert sorted(kept_names) == sorted(pyomo_names)
    position = {name: i for i, name in enumerate(kept_names)}
    order = np.array([position[name] for name in pyomo_names])
    columns = keep[order]
    np.testing.assert_allclose(form.cost[columns], compiled.cost)
    np.testing.assert_allclose(form.col_lower[columns], compiled.col_lower)
    upper = np.where(np.isinf(form.col_upper[columns]), INF, form.col_upper[columns])
    np.testing.assert_allclose(upper, np.where(compiled.col_upper >= 1e30, INF, compiled.col_upper))
    np.testing.assert_array_equal(form.integer[columns], compiled.integer)
    assert offset == pytest.approx(compiled.offset)
    # rows with no free column left are constants in Pyomo (dropped); ours must then hold
    nonempty = np.diff(matrix.tocsr().indptr) > 0
    empty_ok = (row_lower[~nonempty] <= 1e-9) & (row_upper[~nonempty] >= -1e-9)
    assert empty_ok.all()
    ours = canonical_rows(matrix.tocsr()[nonempty], row_lower[nonempty], row_upper[nonempty], kept_names)
    theirs = canonical_rows(compiled.matrix, compiled.row_lower, compiled.row_upper, pyomo_names)
    assert ours == theirs


@pytest.mark.parametrize("case", sorted(CASES))
def test_both_routes_reach_the_same_optimum(case):
    problem = varied_problem(5, **CASES[case])
    arrays = solve_problem(problem, SolverOptions(builder="arrays"))
    pyomo = solve_problem(problem, SolverOptions(builder="pyomo"))
    assert arrays.report.objective == pytest.approx(pyomo.report.objective, rel=1e-9, abs=1e-6)
    assert arrays.audit.passed and pyomo.audit.passed


def test_start_vector_round_trips_a_solution():
    problem = varied_problem(7, setup_cost=np.array([[5.0], [0.0], [7.0], [3.0]]))
    index = ModelIndex.from_problem(problem)
    form = build_standard_form(problem, index)
    run = solve_problem(problem)
    back = solution_from_vector(form, problem, index, start_vector(form, problem, index, run.solution))
    for name in ("open", "modules", "assign", "unmet", "setup"):
        np.testing.assert_allclose(getattr(back, name), getattr(run.solution, name))


def test_the_pyomo_model_takes_rows_left_without_variables():
    """A capex budget where nothing costs capex and a supplier no site reaches: Pyomo refuses a row
    without variables (InvalidConstraintError), so the Pyomo model leaves them out, as the arrays do
    (the alternatives and the stochastic studies build it)."""
    import dataclasses

    from planner.pipeline import solve_problem
    from planner.solver import SolverOptions
    from tests.builders import dense_problem, with_supply

    base = dense_problem([10, 10], [5, 5], [20, 20], [[1, 2], [2, 1]])
    supplied = with_supply(base, bom=[[1.0]], supplier_material=[0, 0], capacity=[50, 50], price=[1, 1],
                           km=[[0, 0], [0, 0]], rate=0.0)
    keep = supplied.supply.in_supplier == 0  # supplier 1 reaches no site
    fields = ("in_supplier", "in_option", "in_distance_km", "in_transport_cost", "in_co2_t", "in_fixed_cost")
    unreached = dataclasses.replace(supplied, supply=dataclasses.replace(
        supplied.supply, **{name: getattr(supplied.supply, name)[keep] for name in fields}))
    for problem, objective in ((dataclasses.replace(base, capex_budget=100.0), 30.0), (unreached, 50.0)):
        for builder in ("arrays", "pyomo"):
            run = solve_problem(problem, SolverOptions(mip_gap=0.0, builder=builder))
            assert run.report.objective == pytest.approx(objective)


def test_a_type_count_without_options_is_infeasible_in_the_pyomo_model():
    import dataclasses

    from planner.errors import InfeasibleError
    from planner.model import ModelIndex, build_model
    from tests.builders import dense_problem

    base = dense_problem([10, 10], [5, 5], [20, 20], [[1, 2], [2, 1]])
    problem = dataclasses.replace(base, type_ids=("t", "u"), type_min_count=np.array([0, 1]),
                                  type_max_count=np.array([2, 1]))
    with pytest.raises(InfeasibleError, match="facility type 'u': min_count 1 but no candidate site"):
        build_model(problem, ModelIndex.from_problem(problem))
