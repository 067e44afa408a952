"""A CO2 cap below 1 t (``planner.solver.co2_unit``): solved with CO2 in a smaller unit. HiGHS's absolute
feasibility tolerance (1e-7) had let a network emit 2,200 times a cap of 5e-11 t, called optimal."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from planner.errors import InfeasibleError
from planner.pipeline import solve_problem
from planner.solver import SolverOptions
from planner.solver.co2_unit import co2_factor
from tests.builders import dense_problem

EXACT = SolverOptions(mip_gap=0.0, quiet=True, threads=1)


def dirty_and_clean(scale: float, cap_t: float = 5.0):
    """20 units from a cheap site emitting 1 t a unit or a dear one (3 a unit) emitting 0.1 t, under a cap:
    x ≤ 10/3 units from the cheap site, cost 60 − 2x = 53.33 (CO2 and the cap × ``scale``)."""
    problem = dense_problem(demand=[10, 10], opening_cost=[0, 0], capacity=[np.inf, np.inf],
                            unit_cost=[[1, 1], [3, 3]], penalty=None)
    co2 = np.where(problem.arc_option == 0, 1.0, 0.1) * scale
    return dataclasses.replace(problem, arc_co2_t=co2, co2_cap_t=cap_t * scale)


@pytest.mark.parametrize("scale", [1.0, 1e-12])
def test_a_tiny_cap_binds_as_the_same_cap_in_tonnes(scale):
    run = solve_problem(dirty_and_clean(scale), EXACT)
    assert run.report.objective == pytest.approx(60 - 20 / 3, rel=1e-7)
    assert run.tables.co2_t() <= 5.0 * scale * (1 + 1e-6) and run.audit.passed


def test_the_factor_brings_the_cap_into_one_to_ten():
    assert co2_factor(dirty_and_clean(1.0)) == 1.0
    assert co2_factor(dirty_and_clean(1e-12)) == pytest.approx(1e12)


def test_a_tiny_cap_no_network_meets_is_explained_in_tonnes():
    with pytest.raises(InfeasibleError, match=r"max_co2_t_per_yr = 1e-12 t/yr: the least CO2 any network can reach "
                                              r"is 2e-12 t/yr"):
        solve_problem(dirty_and_clean(1e-12, cap_t=1.0), EXACT)  # 20 units × 0.1 t × 1e-12 at the least
