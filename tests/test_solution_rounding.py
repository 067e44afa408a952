"""Reading raw solver values into a network (``planner.model.solution.Solution.from_columns``), by hand.

HiGHS holds a row to 1e-6, so ``x_a - y_o ≤ 0`` lets an arc of a closed option (y_o = 0) carry a share
up to 1e-6. Measured (a generated model of 6 regions with a CO2 cap and a product setup): flows.csv
listed four deliveries of 5e-11 to 5e-6 units from ``r0``/``k1``, a facility sites.csv does not
have (``r0`` was open as ``k0``), and the audit passed them within its tolerance.
"""

from __future__ import annotations

import numpy as np

from planner.model import ModelIndex
from planner.model.solution import Solution
from tests.builders import dense_problem


def read(penalty):
    """Sites s0 (open) and s1 (closed) serving regions r0 (demand 100) and r1 (50): HiGHS's values put
    a share 5e-8 of each region on s1."""
    problem = dense_problem([100, 50], [10, 10], [np.inf, np.inf], [[1, 1], [1, 1]], penalty=penalty)
    index = ModelIndex.from_problem(problem)
    assign = np.array([1 - 5e-8, 1 - 5e-8, 5e-8, 5e-8])  # arcs (s0,r0), (s0,r1), (s1,r0), (s1,r1)
    unmet = np.zeros(len(index.unmet_pairs))
    return problem, Solution.from_columns(problem, index, np.array([1.0, 0.0]), [], assign, unmet, [])


def test_a_closed_option_delivers_nothing():
    problem, solution = read(penalty=np.inf)
    assert solution.open.tolist() == [1, 0]
    assert solution.assign[problem.arc_option == 1].tolist() == [0.0, 0.0]
    assert solution.assign[problem.arc_option == 0].tolist() == [1 - 5e-8, 1 - 5e-8]


def test_the_share_dropped_is_unmet_where_demand_may_go_unmet():
    _, solution = read(penalty=5.0)
    assert np.allclose(solution.unmet, [5e-8, 5e-8], rtol=0, atol=1e-15)
