r"""The same MILP as ``planner.model.build``, assembled straight from the index arrays as a
sparse standard form (``row_lower ≤ A x ≤ row_upper``, column bounds, integrality, costs) with no
Python loop per arc: the fast route to HiGHS.

Column blocks, in this order: ``open`` (O), ``modules`` (the modular options), ``assign`` (A),
``unmet`` (pairs with a finite penalty), ``setup`` (Z). Row families, in the order of
``build_model``'s ``define_*`` functions; each row states the same inequality as the Pyomo
constraint of the same name (see that module for the math and units). Forced options are columns
with bounds [1, 1] where Pyomo substitutes the constant; a test checks that, once that
substitution is made, the rows, bounds, costs and offset equal Pyomo's compiled standard form.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.problem import Problem

logger = logging.getLogger(__name__)

BLOCKS = ("open", "modules", "assign", "unmet", "setup")


@dataclass(frozen=True)
class LinearForm:
    """``min cost·x + offset`` s.t. ``row_lower ≤ A x ≤ row_upper``, ``col_lower ≤ x ≤ col_upper``:
    what HiGHS receives (``planner.solver.highs.pass_model``)."""

    matrix: sparse.csr_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray  # bool per column
    cost: np.ndarray
    offset: float


@dataclass(frozen=True)
class StandardForm(LinearForm):
    """The planner's MILP as a :class:`LinearForm` with its column blocks and row families named."""

    blocks: dict  # block name -> (start, stop) column range
    row_families: tuple  # ((constraint name, n rows), ...) in row order

    @property
    def n_columns(self) -> int:
        return len(self.cost)

    def block(self, name: str) -> slice:
        start, stop = self.blocks[name]
        return slice(start, stop)

    def column_names(self, problem: Problem, index: ModelIndex) -> list[str]:
        """Pyomo-style names (``open[3]``, ``assign[17]``) of every column, for tests and debugging."""
        labels = {
            "open": range(problem.n_options),
            "modules": index.modular_options.tolist(),
            "assign": range(problem.n_arcs),
            "unmet": index.unmet_pairs.tolist(),
            "setup": range(len(index.setup_option)),
        }
        return [f"{name}[{i}]" for name in BLOCKS for i in labels[name]]

    def row_names(self) -> list[str]:
        return [f"{name}[{i}]" for name, count in self.row_families for i in range(count)]


class _Rows:
    """Accumulates row families as COO triplets."""

    def __init__(self) -> None:
        self.rows, self.cols, self.vals, self.lower, self.upper, self.families = [], [], [], [], [], []
        self.n = 0

    def add(self, name: str, n_rows: int, row, col, val, lower, upper) -> None:
        if n_rows == 0:
            return
        self.rows.append(np.asarray(row, dtype=np.int64) + self.n)
        self.cols.append(np.asarray(col, dtype=np.int64))
        self.vals.append(np.broadcast_to(np.asarray(val, dtype=float), np.shape(row)))
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (n_rows,)))
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (n_rows,)))
        self.families.append((name, n_rows))
        self.n += n_rows

    def matrix(self, n_columns: int) -> sparse.csr_array:
        if not self.rows:
            return sparse.csr_array((0, n_columns))
        coo = sparse.coo_array(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(self.n, n_columns),
        )
        return sparse.csr_array(coo)  # duplicates (none expected) are summed


def build_standard_form(problem: Problem, index: ModelIndex | None = None) -> StandardForm:
    """The model of ``problem`` as arrays (see the module docstring)."""
    index = index or ModelIndex.from_problem(problem)
    n_options, n_arcs = problem.n_options, problem.n_arcs
    modular = index.modular_options
    unmet_pairs = index.unmet_pairs
    n_setups = len(index.setup_option)
    sizes = {"open": n_options, "modules": len(modular), "assign": n_arcs, "unmet": len(unmet_pairs), "setup": n_setups}
    blocks, start = {}, 0
    for name in BLOCKS:
        blocks[name] = (start, start + sizes[name])
        start += sizes[name]
    n_columns = start
    open_col = np.arange(n_options)
    modules_col = np.full(n_options, -1)
    modules_col[modular] = blocks["modules"][0] + np.arange(len(modular))
    assign_col = blocks["assign"][0] + np.arange(n_arcs)
    unmet_col = np.full(index.n_pairs, -1)
    unmet_col[unmet_pairs] = blocks["unmet"][0] + np.arange(len(unmet_pairs))
    setup_col = blocks["setup"][0] + np.arange(n_setups)
    is_modular = modules_col >= 0

    def modules_terms(options: np.ndarray, weight: np.ndarray):
        """(columns, coefficients) of ``weight_o × m_o``: the module column, or min_modules × open."""
        columns = np.where(is_modular[options], modules_col[options], open_col[options])
        coefficient = np.where(is_modular[options], weight, weight * problem.min_modules[options])
        return columns, coefficient

    rows = _Rows()
    n_mod = len(modular)
    low, high = problem.min_modules[modular].astype(float), problem.max_modules[modular].astype(float)
    mod_rows = np.repeat(np.arange(n_mod), 2)
    mod_cols = np.column_stack([modules_col[modular], open_col[modular]]).ravel()
    min_coef = np.column_stack([np.ones(n_mod), -low]).ravel()
    max_coef = np.column_stack([np.ones(n_mod), -high]).ravel()
    rows.add("modules_min_constr", n_mod, mod_rows, mod_cols, min_coef, 0, np.inf)
    rows.add("modules_max_constr", n_mod, mod_rows, mod_cols, max_coef, -np.inf, 0)

    # demand balance: Σ x_a + u_d = 1
    balance_row = np.concatenate([index.arc_pair, unmet_pairs])
    balance_col = np.concatenate([assign_col, unmet_col[unmet_pairs]])
    rows.add("demand_balance_constr", index.n_pairs, balance_row, balance_col, 1.0, 1.0, 1.0)

    # capacity: Σ q_a x_a − C_o m_o ≤ 0 for capacitated options with arcs
    has_arcs = np.bincount(problem.arc_option, minlength=n_options) > 0
    capacitated = np.flatnonzero(np.isfinite(problem.module_capacity) & has_arcs)
    cap_row = np.full(n_options, -1)
    cap_row[capacitated] = np.arange(len(capacitated))
    arc_demand = index.arc_demand
    in_cap = cap_row[problem.arc_option] >= 0
    m_cols, m_coef = modules_terms(capacitated, -problem.module_capacity[capacitated])
    rows.add(
        "capacity_constr",
        len(capacitated),
        np.concatenate([cap_row[problem.arc_option[in_cap]], np.arange(len(capacitated))]),
        np.concatenate([assign_col[in_cap], m_cols]),
        np.concatenate([arc_demand[in_cap], m_coef]),
        -np.inf,
        0.0,
    )

    # linking x_a − y_o ≤ 0 (arcs without setup); setup linking x_a − z ≤ 0; z − y ≤ 0
    plain = np.flatnonzero(index.arc_setup < 0)
    n_plain = len(plain)
    rows.add(
        "linking_constr",
        n_plain,
        np.repeat(np.arange(n_plain), 2),
        np.column_stack([assign_col[plain], open_col[problem.arc_option[plain]]]).ravel(),
        np.tile([1.0, -1.0], n_plain),
        -np.inf,
        0.0,
    )
    with_setup = np.flatnonzero(index.arc_setup >= 0)
    n_ws = len(with_setup)
    rows.add(
        "setup_linking_constr",
        n_ws,
        np.repeat(np.arange(n_ws), 2),
        np.column_stack([assign_col[with_setup], setup_col[index.arc_setup[with_setup]]]).ravel(),
        np.tile([1.0, -1.0], n_ws),
        -np.inf,
        0.0,
    )
    rows.add(
        "setup_open_constr",
        n_setups,
        np.repeat(np.arange(n_setups), 2),
        np.column_stack([setup_col, open_col[index.setup_option]]).ravel(),
        np.tile([1.0, -1.0], n_setups),
        -np.inf,
        0.0,
    )

    # one type per site
    sites, counts = np.unique(problem.option_site, return_counts=True)
    shared = np.flatnonzero(np.isin(problem.option_site, sites[counts > 1]))
    group = np.searchsorted(sites[counts > 1], problem.option_site[shared])
    rows.add("one_type_per_site_constr", int((counts > 1).sum()), group, open_col[shared], 1.0, -np.inf, 1.0)

    # facility counts per type and in total
    n_per_type = np.bincount(problem.option_type, minlength=len(problem.type_ids))
    limited = np.flatnonzero((problem.type_min_count > 0) | (problem.type_max_count < n_per_type))
    type_row = np.full(len(problem.type_ids), -1)
    type_row[limited] = np.arange(len(limited))
    in_limited = type_row[problem.option_type] >= 0
    rows.add(
        "type_count_constr",
        len(limited),
        type_row[problem.option_type[in_limited]],
        open_col[in_limited],
        1.0,
        problem.type_min_count[limited],
        problem.type_max_count[limited],
    )
    low_count = problem.min_facilities
    high_count = n_options if problem.max_facilities is None else problem.max_facilities
    if low_count > 0 or high_count < n_options:
        rows.add("facility_count_constr", 1, np.zeros(n_options), open_col, 1.0, low_count, high_count)

    # capex budget
    if np.isfinite(problem.capex_budget):
        spending = np.flatnonzero((problem.capex > 0) | (problem.capex_per_module > 0))
        m_cols, m_coef = modules_terms(spending, problem.capex_per_module[spending])
        rows.add(
            "capex_budget_constr",
            1,
            np.zeros(2 * len(spending)),
            np.concatenate([open_col[spending], m_cols]),
            np.concatenate([problem.capex[spending], m_coef]),
            -np.inf,
            problem.capex_budget,
        )

    # aggregate capacity (valid inequality)
    must_serve = float(index.pair_demand[~np.isfinite(index.pair_penalty)].sum())
    if must_serve > 0 and np.isfinite(problem.module_capacity).all() and n_options:
        m_cols, m_coef = modules_terms(open_col, problem.module_capacity)
        rows.add("aggregate_capacity_constr", 1, np.zeros(n_options), m_cols, m_coef, must_serve, np.inf)

    # emission cap: Σ e_a q_a x_a ≤ E
    if np.isfinite(problem.co2_cap_t):
        emitting = np.flatnonzero(problem.arc_co2_t * arc_demand != 0)
        rows.add("co2_cap_constr", 1, np.zeros(len(emitting)), assign_col[emitting],
                 (problem.arc_co2_t * arc_demand)[emitting], -np.inf, problem.co2_cap_t)

    # service floor: Σ_{a: p(a)=p} q_a x_a ≥ Σ_{d: p(d)=p} q_d − U_p
    limited_products = np.flatnonzero(np.isfinite(problem.max_unmet))
    if len(limited_products):
        need = unmet_limit_need(problem, index)[limited_products]
        floor_row = np.full(problem.n_products, -1)
        floor_row[limited_products] = np.arange(len(limited_products))
        in_floor = floor_row[problem.arc_product] >= 0
        rows.add("unmet_limit_constr", len(limited_products), floor_row[problem.arc_product[in_floor]],
                 assign_col[in_floor], arc_demand[in_floor], need, np.inf)

    # objective
    cost = np.zeros(n_columns)
    np.add.at(cost, open_col, problem.opening_cost)
    m_cols, m_coef = modules_terms(open_col, problem.module_cost)
    np.add.at(cost, m_cols, m_coef)
    cost[assign_col] = problem.arc_unit_cost * arc_demand
    cost[unmet_col[unmet_pairs]] = index.pair_penalty[unmet_pairs] * index.pair_demand[unmet_pairs]
    cost[setup_col] = problem.setup_cost[index.setup_option, index.setup_product]

    col_lower = np.zeros(n_columns)
    col_upper = np.ones(n_columns)
    col_lower[open_col[problem.forced]] = 1.0
    col_upper[modules_col[modular]] = np.inf  # NonNegativeIntegers: bounded by the module rows
    integer = np.zeros(n_columns, dtype=bool)
    integer[open_col] = True
    integer[modules_col[modular]] = True
    integer[setup_col] = True
    if problem.single_sourcing:
        integer[assign_col] = True
    return StandardForm(
        matrix=rows.matrix(n_columns),
        row_lower=np.concatenate(rows.lower) if rows.lower else np.zeros(0),
        row_upper=np.concatenate(rows.upper) if rows.upper else np.zeros(0),
        col_lower=col_lower,
        col_upper=col_upper,
        integer=integer,
        cost=cost,
        offset=0.0,
        blocks=blocks,
        row_families=tuple(rows.families),
    )


def unmet_limit_need(problem: Problem, index: ModelIndex) -> np.ndarray:
    """Per product, the demand (units/yr) the flows must serve under ``max_unmet`` (−inf: no limit);
    raises InfeasibleError for a product that must be served but that no arc reaches."""
    from planner.errors import InfeasibleError

    demand = np.bincount(index.pair_product, weights=index.pair_demand, minlength=problem.n_products)
    need = demand - problem.max_unmet
    reached = np.bincount(problem.arc_product, minlength=problem.n_products) > 0
    stranded = np.flatnonzero((need > 0) & ~reached)
    if len(stranded):
        p = stranded[0]
        raise InfeasibleError(
            f"product '{problem.product_ids[p]}': at most {problem.max_unmet[p]:g} units/yr may go unmet, "
            f"but no facility can deliver any of its {demand[p]:g} units/yr"
        )
    return need


def start_vector(form: StandardForm, problem: Problem, index: ModelIndex, solution) -> np.ndarray:
    """A :class:`~planner.model.solution.Solution` as a column vector of ``form`` (a MIP start)."""
    x = np.zeros(form.n_columns)
    x[form.block("open")] = solution.open
    x[form.block("modules")] = solution.modules[index.modular_options]
    x[form.block("assign")] = solution.assign
    x[form.block("unmet")] = solution.unmet[index.unmet_pairs]
    if solution.setup is not None and len(index.setup_option):
        x[form.block("setup")] = solution.setup[index.setup_option, index.setup_product]
    return x


def solution_from_vector(form: StandardForm, problem: Problem, index: ModelIndex, x: np.ndarray):
    """Column values as a :class:`~planner.model.solution.Solution` (rounded like ``Solution.from_model``)."""
    def block(name):
        return x[form.block(name)]

    return Solution.from_columns(
        problem, index, block("open"), block("modules"), block("assign"), block("unmet"), block("setup")
    )
