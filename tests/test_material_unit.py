"""Inbound supply needed in large quantities is solved in a larger unit of material
(``planner.solver.quantity_unit.material_factor``), by hand.

Two sites, both forced open at no fixed cost, can serve one region of 1,000,000 units/yr at 1e-4 per unit
(100/yr); each unit needs 2 kg of one material, from supplier j0 (185 km from s0, 215 km from s1) or j1
(181 and 211 km), at 1e-8 per kg-km, neither with a price or a capacity. The optimum makes everything at s0
from j1: 100 + 2,000,000 × 1e-8 × 181 = 103.62/yr. In kg, j0 is dearer by 4e-8 per kg, within HiGHS's
reduced-cost tolerance of 1e-7: the planner had reported 103.70 (all from j0) "optimal", its bound equal to it
(measured first on a generated model: 61.80 "optimal" where 61.77 is, a supplier 3.4e-8 per kg dearer taking
922,879 kg; the same model in tonnes: 61.77).
"""

from __future__ import annotations

import numpy as np
import pytest

from planner.solver import SolverOptions, solve
from planner.solver.quantity_unit import material_factor
from tests.builders import dense_problem, with_supply


def problem():
    plain = dense_problem([1_000_000], [0.0, 0.0], [np.inf, np.inf], [[1e-4], [1e-4]], forced=np.array([True, True]))
    return with_supply(plain, bom=[[2.0]], supplier_material=[0, 0], capacity=[np.inf, np.inf], price=[0.0, 0.0],
                       km=[[185.0, 215.0], [181.0, 211.0]], rate=1e-8)


def test_the_nearest_supplier_ships_everything_to_the_nearest_site():
    report, solution = solve(problem(), SolverOptions(threads=1))
    assert solution.inbound.tolist() == pytest.approx([0.0, 0.0, 2_000_000.0, 0.0], abs=1e-3)
    assert report.objective == pytest.approx(103.62, rel=1e-9)
    assert report.best_bound <= 103.62 * (1 + 1e-9)


def test_the_unit_brings_the_largest_need_into_one_to_ten():
    assert material_factor(problem()) == 1e-6
