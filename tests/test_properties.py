"""Hypothesis properties on random tiny instances: every demand is served or counted unmet, no flow
leaves a closed site, capacities hold, and the independent audit is clean."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.errors import InfeasibleError
from planner.pipeline import solve_problem
from planner.solver.outcome import SolverOptions
from tests.builders import dense_problem


@st.composite
def problems(draw):
    n_sites = draw(st.integers(1, 4))
    n_regions = draw(st.integers(1, 5))
    demand = draw(st.lists(st.integers(0, 30), min_size=n_regions, max_size=n_regions))
    capacity = draw(st.lists(st.one_of(st.just(np.inf), st.integers(1, 60)), min_size=n_sites, max_size=n_sites))
    opening = draw(st.lists(st.integers(0, 100), min_size=n_sites, max_size=n_sites))
    costs = draw(st.lists(st.integers(0, 20), min_size=n_sites * n_regions, max_size=n_sites * n_regions))
    penalty = draw(st.one_of(st.just(np.inf), st.integers(1, 40).map(float)))
    single = draw(st.booleans())
    return dense_problem(
        demand=demand,
        opening_cost=opening,
        capacity=capacity,
        unit_cost=np.array(costs, dtype=float).reshape(n_sites, n_regions),
        penalty=penalty,
        single_sourcing=single,
    )


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_solutions_are_feasible_and_audited(problem):
    try:
        run = solve_problem(problem, SolverOptions(mip_gap=1e-9), require_clean_audit=False)
    except InfeasibleError:
        assert not np.isfinite(problem.unmet_penalty[0])  # only must-serve demand can be infeasible
        return
    tables = run.tables
    assert run.audit.passed, run.audit.failures
    # served + unmet = demand for every region with demand
    merged = tables.regions.assign(total=tables.regions["served"] + tables.regions["unmet"])
    assert np.allclose(merged["total"], merged["demand"], rtol=1e-6, atol=1e-6)
    # no flow from a closed site
    open_sites = set(tables.sites["site_id"])
    assert set(tables.flows["site_id"]) <= open_sites
    # capacities hold
    load = tables.flows.groupby("site_id")["quantity"].sum()
    capacity = tables.sites.set_index("site_id")["capacity"]
    assert (load <= capacity.reindex(load.index) * (1 + 1e-6) + 1e-6).all()
    # the cost parts add up to the objective
    assert np.isclose(sum(tables.cost_parts().values()), run.report.objective, rtol=1e-6, atol=1e-6)
