"""A Lagrangian bound above every network's cost proves a model infeasible
(``planner.solver.settled.network_ceiling``, ``proves_infeasible``): no network costs more than the ceiling
(checked against HiGHS maximising the cost on seeded small instances), and a service level no network
meets is explained with its best share where HiGHS itself would end its time limit without a network
(4 sites for 80 % of 5,000 points within 200 km had ended "give it more time")."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import planner.solver.engine as engine
from planner.errors import InfeasibleError, NoSolutionInTimeError
from planner.model import ModelIndex
from planner.model.arrays import build_standard_form, reachable_service_share
from planner.solver.highs import run_highs
from planner.solver.outcome import SolverOptions
from planner.solver.settled import network_ceiling, proves_infeasible
from tests.test_presolve_service import service_problem


def unmeetable(seed: int):
    """``service_problem`` with one facility at most and 95 % of the reachable share asked."""
    problem = service_problem(seed, capacitated=True, binding=True)
    reach = reachable_service_share(problem, ModelIndex.from_problem(problem))[0]
    return dataclasses.replace(problem, max_facilities=1, service_share=np.array([0.95 * reach]))


@pytest.mark.parametrize("seed", range(6))
def test_no_network_costs_more_than_the_ceiling(seed):
    """Seeds 4 and 5 with product setups, demand factors and prices as well."""
    problem = dataclasses.replace(service_problem(seed, capacitated=seed % 2 == 0, binding=True),
                                  service_share=np.zeros(1))
    if seed >= 4:
        rng = np.random.default_rng(seed)
        problem = dataclasses.replace(problem, setup_cost=rng.uniform(0, 30, (problem.n_options, 1)).round(1),
                                      arc_demand_factor=rng.uniform(0.8, 1.3, problem.n_arcs).round(2),
                                      arc_price=rng.uniform(0, 1, problem.n_arcs).round(2))
    index = ModelIndex.from_problem(problem)
    form = build_standard_form(problem, index)
    report, _ = run_highs(dataclasses.replace(form, cost=-form.cost, offset=-form.offset),
                          SolverOptions(mip_gap=1e-9, threads=1, quiet=True))
    assert -report.objective <= network_ceiling(problem, index) * (1 + 1e-9)
    assert not proves_infeasible(problem, index, -report.objective)


@pytest.mark.parametrize("seed, reason", [(0, "no network meets the service level: .* is reachable"),
                                          (2, "no network meets the service level: .* is reachable"),
                                          (4, "no network meets the service level: .* is reachable"),
                                          (1, "at least 2 facilities must open")])  # odd seeds: all demand served
def test_an_unmeetable_model_is_explained_where_highs_finds_no_network_in_time(seed, reason, monkeypatch):
    def no_network(*args, **kwargs):
        raise NoSolutionInTimeError("HiGHS ended without a feasible solution (status: Time limit reached)")

    monkeypatch.setattr(engine, "run_highs", no_network)  # the explanation's own solves still run
    problem = unmeetable(seed)
    with pytest.raises(InfeasibleError, match=reason):
        engine.solve(problem, SolverOptions(mip_gap=1e-9, presolve_min_arcs=0, threads=1, quiet=True))
