"""The shared pieces of the array builder (``planner.model.arrays``) and of the solution rounding
(``planner.model.solution.round_network``), on numbers checkable by hand."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from scipy import sparse

from planner.model import ModelIndex, build_model
from planner.model.arrays import Columns, build_standard_form, pair_rows, row_numbers
from planner.model.solution import round_network
from tests.builders import dense_problem
from tests.test_arrays import CASES, varied_problem


def modular_problem():
    """Four options: 0 fixed at 2 modules, 1 with 1–3, 2 fixed at 1, 3 with 1–2 (so 1 and 3 are modular)."""
    return dense_problem([5, 5], [1, 1, 1, 1], [10, 10, 10, 10], np.ones((4, 2)),
                         min_modules=np.array([2, 1, 1, 1]), max_modules=np.array([2, 3, 1, 2]))


def test_pair_rows_write_one_row_per_pair():
    family = pair_rows("link", np.array([4, 5]), np.array([0, 1]), np.array([-2.0, -3.0]), -np.inf, 0.0)
    matrix = sparse.coo_array((family.val, (family.row, family.col)), shape=(2, 6)).toarray()
    assert matrix.tolist() == [[-2, 0, 0, 0, 1, 0], [0, -3, 0, 0, 0, 1]]  # x4 − 2 x0 ≤ 0, x5 − 3 x1 ≤ 0
    assert family.lower.tolist() == [-np.inf, -np.inf] and family.upper.tolist() == [0.0, 0.0]


def test_row_numbers_number_the_selected_groups_in_their_order():
    assert row_numbers(np.array([3, 1]), 5).tolist() == [-1, 1, -1, 0, -1]


def test_modules_terms_use_the_module_column_or_min_modules_times_open():
    problem = modular_problem()
    columns = Columns.of(problem, ModelIndex.from_problem(problem))
    cols, coef = columns.modules_terms(np.arange(4), np.array([10.0, 20.0, 30.0, 40.0]))
    assert cols.tolist() == [0, 4, 2, 5]  # open[0], modules[1] (first after the 4 open columns), open[2], modules[3]
    assert coef.tolist() == [20.0, 20.0, 30.0, 40.0]  # 10 × 2 fixed modules, 20, 30 × 1, 40


def test_one_rows_function_per_pyomo_family_in_the_same_order():
    everything = {name: value for case in CASES.values() for name, value in case.items()}
    problem = varied_problem(3, **everything)
    index = ModelIndex.from_problem(problem)
    pyomo = build_model(problem, index)
    families = [(c.name, len(c)) for c in pyomo.component_objects(pyo.Constraint, descend_into=False) if len(c)]
    assert list(build_standard_form(problem, index).row_families) == families
    assert len(families) == 18  # every family of build_model appears in this instance


def test_round_network_rounds_and_fills_the_fixed_module_counts():
    problem = modular_problem()
    index = ModelIndex.from_problem(problem)
    is_open, modules, setup = round_network(problem, index, [0.9999999, 1e-8, 1.0, 1.0], [2.0000001, 0.9999999], [])
    assert is_open.tolist() == [1, 0, 1, 1]
    assert modules.tolist() == [2, 2, 1, 1]  # 2 × open, modular 2, 1 × open, modular 1
    assert setup.shape == (4, 1) and not setup.any()
