"""The capacity-rounding inequality shared by the two-stage and the rollout model
(``planner.studies.stochastic.build.CapacityRounding``), by hand.

Module capacities 10 and 25: δ = 10, weights ⌈10/10⌉ = 1 and ⌈25/10⌉ = 3. Demand 20 + 17 = 37
reached: k = ⌈37/10⌉ = 4, r = 37 − 10 × 3 = 7, so U ≥ 7 (4 − N): 4 weighted modules need no unmet
units, 3 need at least 7.
"""

from __future__ import annotations

import numpy as np

from planner.model import ModelIndex
from planner.studies.stochastic.build import CapacityRounding
from tests.builders import dense_problem


def rounding(capacity=(10.0, 25.0)):
    problem = dense_problem([20, 17], [1, 1], list(capacity), [[1, 1], [1, 1]], penalty=5.0)
    return CapacityRounding.of(problem, ModelIndex.from_problem(problem))


def test_delta_weights_and_reached_demand():
    cut = rounding()
    assert cut.delta == 10.0 and cut.weight == [1, 3]
    assert cut.reached_demand(np.array([[20.0, 17.0], [1.0, 2.0]])).tolist() == [37.0, 3.0]


def test_the_row_charges_the_partly_used_module():
    cut = rounding()
    assert cut.constraint(37.0, modules=4, unmet=0.0)
    assert cut.constraint(37.0, modules=3, unmet=7.0)
    assert not cut.constraint(37.0, modules=3, unmet=6.9)


def test_unmet_pairs_per_cell_and_no_cut_without_capacities():
    assert rounding().unmet_pairs([(0, 1), (1, 0), (0, 0)]) == {(0,): [1, 0], (1,): [0]}
    assert rounding(capacity=(10.0, np.inf)) is None
