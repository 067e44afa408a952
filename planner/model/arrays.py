r"""The same MILP as ``planner.model.build``, assembled straight from the index arrays as a
sparse standard form (``row_lower ≤ A x ≤ row_upper``, column bounds, integrality, costs) with no
Python loop per arc: the fast route to HiGHS.

Column blocks, in this order: ``open`` (O), ``modules`` (the modular options), ``assign`` (A),
``unmet`` (pairs with a finite penalty), ``setup`` (Z); :class:`Columns` says where each decision
sits. One ``rows_*`` function per ``define_*`` function of ``build_model``, composed in the same
order by :func:`build_standard_form`; each returns its :class:`RowFamily` (or families) stating the
same inequality as the Pyomo constraint of the same name (see that module for the math and units).
Forced options are columns with bounds [1, 1] where Pyomo substitutes the constant; a test checks
that, once that substitution is made, the rows, bounds, costs and offset equal Pyomo's compiled
standard form.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from planner.errors import InfeasibleError, ServiceReachError
from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.model.supply import MaterialBalance, limited_suppliers, relation_arcs, relation_bound
from planner.problem import Problem, budget_row_scale

logger = logging.getLogger(__name__)

BLOCKS = ("open", "modules", "assign", "unmet", "setup", "inbound", "relation")


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
            "inbound": range(problem.n_inbound),
            "relation": relation_arcs(problem).tolist() if problem.supply is not None else [],
        }
        return [f"{name}[{i}]" for name in BLOCKS for i in labels[name]]

    def row_names(self) -> list[str]:
        return [f"{name}[{i}]" for name, count in self.row_families for i in range(count)]


@dataclass(frozen=True)
class RowFamily:
    """One constraint family as COO triplets: ``row`` numbers its own rows 0 … n_rows − 1; ``val``,
    ``lower`` and ``upper`` are broadcast to the triplets and to the rows."""

    name: str
    n_rows: int
    row: np.ndarray
    col: np.ndarray
    val: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def of(cls, name: str, n_rows: int, row, col, val, lower, upper) -> RowFamily:
        return cls(
            name,
            n_rows,
            np.asarray(row, dtype=np.int64),
            np.asarray(col, dtype=np.int64),
            np.broadcast_to(np.asarray(val, dtype=float), np.shape(row)),
            np.broadcast_to(np.asarray(lower, dtype=float), (n_rows,)),
            np.broadcast_to(np.asarray(upper, dtype=float), (n_rows,)),
        )


def one_row(name: str, col, val, lower, upper) -> RowFamily:
    """A family of one row: ``lower ≤ Σ val · x[col] ≤ upper``."""
    return RowFamily.of(name, 1, np.zeros(len(col)), col, val, lower, upper)


def pair_rows(name: str, first, second, second_coef, lower, upper) -> RowFamily:
    """One row per i: ``lower ≤ x[first[i]] + second_coef[i] · x[second[i]] ≤ upper``."""
    n_rows = len(first)
    coef = np.column_stack([np.ones(n_rows), np.broadcast_to(second_coef, (n_rows,))]).ravel()
    return RowFamily.of(name, n_rows, np.repeat(np.arange(n_rows), 2), np.column_stack([first, second]).ravel(),
                        coef, lower, upper)


def row_numbers(selected: np.ndarray, size: int) -> np.ndarray:
    """(size,) the row of each ``selected`` group (0, 1, … in their order) and −1 for the others."""
    row = np.full(size, -1)
    row[selected] = np.arange(len(selected))
    return row


@dataclass(frozen=True)
class Columns:
    """Where each decision sits in the column vector: ``open`` (O,), ``modules`` (O,; −1 where the
    count is fixed), ``assign`` (A,), ``unmet`` (D,; −1 where the pair must be served), ``setup`` (Z,)."""

    blocks: dict  # block name -> (start, stop)
    open: np.ndarray
    modules: np.ndarray
    assign: np.ndarray
    unmet: np.ndarray
    setup: np.ndarray
    min_modules: np.ndarray  # (O,) the module count where it is fixed (× open)
    inbound: np.ndarray  # (B,) material on each inbound arc (planner.model.supply)
    relation: np.ndarray  # (B,) its supply relationship, −1 where the arc has no fixed cost

    @classmethod
    def of(cls, problem: Problem, index: ModelIndex) -> Columns:
        modular, unmet_pairs = index.modular_options, index.unmet_pairs
        related = relation_arcs(problem) if problem.supply is not None else np.zeros(0, dtype=int)
        sizes = {"open": problem.n_options, "modules": len(modular), "assign": problem.n_arcs,
                 "unmet": len(unmet_pairs), "setup": len(index.setup_option), "inbound": problem.n_inbound,
                 "relation": len(related)}
        blocks, start = {}, 0
        for name in BLOCKS:
            blocks[name] = (start, start + sizes[name])
            start += sizes[name]
        modules = np.full(problem.n_options, -1)
        modules[modular] = blocks["modules"][0] + np.arange(len(modular))
        unmet = np.full(index.n_pairs, -1)
        unmet[unmet_pairs] = blocks["unmet"][0] + np.arange(len(unmet_pairs))
        relation = np.full(problem.n_inbound, -1)
        relation[related] = blocks["relation"][0] + np.arange(len(related))
        return cls(
            blocks=blocks,
            open=np.arange(problem.n_options),
            modules=modules,
            assign=blocks["assign"][0] + np.arange(problem.n_arcs),
            unmet=unmet,
            setup=blocks["setup"][0] + np.arange(sizes["setup"]),
            min_modules=problem.min_modules,
            inbound=blocks["inbound"][0] + np.arange(problem.n_inbound),
            relation=relation,
        )

    @property
    def n(self) -> int:
        return self.blocks[BLOCKS[-1]][1]

    def modules_terms(self, options: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(columns, coefficients) of ``weight_o × m_o``: the module column, or min_modules × open
        (``planner.model.build.modules_expr``)."""
        modular = self.modules[options] >= 0
        columns = np.where(modular, self.modules[options], self.open[options])
        return columns, np.where(modular, weight, weight * self.min_modules[options])


def build_standard_form(problem: Problem, index: ModelIndex | None = None) -> StandardForm:
    """The model of ``problem`` as arrays: one ``rows_*`` per ``define_*`` of ``build_model``, in its order."""
    index = index or ModelIndex.from_problem(problem)
    cols = Columns.of(problem, index)
    families = [
        *rows_modules(problem, index, cols),
        *rows_demand_balance(problem, index, cols),
        *rows_capacity(problem, index, cols),
        *rows_linking(problem, index, cols),
        *rows_setup(problem, index, cols),
        *rows_supply(problem, index, cols),
        *rows_one_type_per_site(problem, index, cols),
        *rows_facility_counts(problem, index, cols),
        *rows_capex_budget(problem, index, cols),
        *rows_aggregate_capacity(problem, index, cols),
        *rows_co2_cap(problem, index, cols),
        *rows_unmet_limit(problem, index, cols),
        *rows_service_level(problem, index, cols),
    ]
    return standard_form(families, cols, objective_cost(problem, index, cols), *column_bounds(problem, index, cols))


def standard_form(families, cols: Columns, cost, col_lower, col_upper, integer) -> StandardForm:
    """The row families stacked in order (empty ones left out), with the columns' costs and bounds."""
    families = [family for family in families if family.n_rows > 0]
    return StandardForm(
        matrix=stack_rows(families, cols.n),
        row_lower=np.concatenate([f.lower for f in families]) if families else np.zeros(0),
        row_upper=np.concatenate([f.upper for f in families]) if families else np.zeros(0),
        col_lower=col_lower,
        col_upper=col_upper,
        integer=integer,
        cost=cost,
        offset=0.0,
        blocks=cols.blocks,
        row_families=tuple((f.name, f.n_rows) for f in families),
    )


def stack_rows(families: list[RowFamily], n_columns: int) -> sparse.csr_array:
    """The matrix of ``families``, one below the other."""
    if not families:
        return sparse.csr_array((0, n_columns))
    starts = np.cumsum([0] + [f.n_rows for f in families[:-1]])
    row = np.concatenate([f.row + start for f, start in zip(families, starts, strict=True)])
    col = np.concatenate([f.col for f in families])
    val = np.concatenate([f.val for f in families])
    coo = sparse.coo_array((val, (row, col)), shape=(sum(f.n_rows for f in families), n_columns))
    return sparse.csr_array(coo)  # duplicates (none expected) are summed


def rows_modules(problem: Problem, index: ModelIndex, cols: Columns) -> tuple[RowFamily, ...]:
    r"""``define_modules``: :math:`m_o - \underline m_o y_o \ge 0` and :math:`m_o - \overline m_o y_o \le 0`."""
    modular = index.modular_options
    low, high = problem.min_modules[modular].astype(float), problem.max_modules[modular].astype(float)
    return (
        pair_rows("modules_min_constr", cols.modules[modular], cols.open[modular], -low, 0, np.inf),
        pair_rows("modules_max_constr", cols.modules[modular], cols.open[modular], -high, -np.inf, 0),
    )


def rows_demand_balance(problem: Problem, index: ModelIndex, cols: Columns) -> tuple[RowFamily, ...]:
    r"""``define_demand_balance``: :math:`\sum_{a: d(a)=d} x_a + u_d = 1`."""
    unmet_pairs = index.unmet_pairs
    row = np.concatenate([index.arc_pair, unmet_pairs])
    col = np.concatenate([cols.assign, cols.unmet[unmet_pairs]])
    return (RowFamily.of("demand_balance_constr", index.n_pairs, row, col, 1.0, 1.0, 1.0),)


def rows_capacity(problem: Problem, index: ModelIndex, cols: Columns) -> tuple[RowFamily, ...]:
    r"""``define_capacity``: :math:`\sum_{a: o(a)=o} q_a x_a - C_o m_o \le 0` for capacitated options with arcs."""
    has_arcs = np.bincount(problem.arc_option, minlength=problem.n_options) > 0
    capacitated = np.flatnonzero(np.isfinite(problem.module_capacity) & has_arcs)
    cap_row = row_numbers(capacitated, problem.n_options)
    in_cap = cap_row[problem.arc_option] >= 0
    m_cols, m_coef = cols.modules_terms(capacitated, -problem.module_capacity[capacitated])
    return (
        RowFamily.of(
            "capacity_constr",
            len(capacitated),
            np.concatenate([cap_row[problem.arc_option[in_cap]], np.arange(len(capacitated))]),
            np.concatenate([cols.assign[in_cap], m_cols]),
            np.concatenate([index.arc_demand[in_cap], m_coef]),
            -np.inf,
            0.0,
        ),
    )


def rows_linking(problem: Problem, index: ModelIndex, cols: Columns) -> tuple[RowFamily, ...]:
    r"""``define_linking``: :math:`x_a - y_{o(a)} \le 0` for the arcs of :func:`linked_arcs`."""
    plain = linked_arcs(problem, index)
    return (pair_rows("linking_constr", cols.assign[plain], cols.open[problem.arc_option[plain]], -1.0, -np.inf, 0.0),)


def linked_arcs(problem: Problem, index: ModelIndex) -> np.ndarray:
    r"""The arcs with a linking row :math:`x_a \le y_{o(a)}`: those whose product needs no setup (the
    others link through their setup decision), except, with single sourcing, those of options with a
    capacity and a fixed module count :math:`\underline m_o = \overline m_o`. There :math:`x_a \in \{0, 1\}`
    and :math:`q_a > 0`, so :math:`x_a = 1` puts a load on the capacity row
    :math:`\sum q x \le C_o \underline m_o y_o`, which needs :math:`y_o = 1`: the row is implied at every
    integer point and adds little to the LP relaxation, and HiGHS proves single-source optima sooner without
    it: on 16 generated Holmberg-type instances (30 × 150 and 30 × 200, capacity ratios 1.5–2;
    ``planner bench sscflp``, 60 s, one thread) 11 proven against 9 (docs/solver.md, "Single sourcing"). With a
    choice of module counts the capacity row links only through :math:`m_o \le \overline m_o y_o`, far
    weaker in the LP: ``models/hybrid.toml`` with single sourcing ended 60 s at a 21 % gap without those
    rows, at 3.2 % with them, so they stay. So do the rows of an option whose capacity covers all the demand
    its arcs reach (:math:`C_o \underline m_o \ge \sum_{a \in o} q_a`): its capacity row never binds, the LP
    opens it at :math:`y_o = \sum q x / (C_o \underline m_o)`, and x ≤ y is its only real link (a generated
    16,215-arc model with single sourcing and a CO2 cap, each option's capacity 1.87 × the demand it reaches:
    HiGHS at a 35.8 % gap after 40 s, still at its root, without them; proven optimal in 11 s with them; the
    Holmberg instances p1–p24 reach at most 0.26, so their figures above stand)."""
    plain = index.arc_setup < 0
    if problem.single_sourcing:
        capacity = problem.module_capacity * problem.min_modules
        reach = np.bincount(problem.arc_option, weights=problem.arc_demand, minlength=problem.n_options)
        implied = (np.isfinite(problem.module_capacity) & (problem.min_modules == problem.max_modules)
                   & (capacity < reach))
        plain &= ~implied[problem.arc_option]
    return np.flatnonzero(plain)


def rows_setup(problem: Problem, index: ModelIndex, cols: Columns) -> tuple[RowFamily, ...]:
    r"""``define_setup``: :math:`x_a - z_{o(a)p(a)} \le 0` and :math:`z_{op} - y_o \le 0`."""
    with_setup = np.flatnonzero(index.arc_setup >= 0)
    setup_of_arc = cols.setup[index.arc_setup[with_setup]]
    return (
        pair_rows("setup_linking_constr", cols.assign[with_setup], setup_of_arc, -1.0, -np.inf, 0.0),
        pair_rows("setup_open_constr", cols.setup, cols.open[index.setup_option], -1.0, -np.inf, 0.0),
    )


def rows_one_type_per_site(problem: Problem, index: ModelIndex, cols: Columns) -> tuple[RowFamily, ...]:
    r"""``define_one_type_per_site``: :math:`\sum_{o: s(o)=s} y_o \le 1` for sites with more than one type."""
    sites, counts = np.unique(problem.option_site, return_counts=True)
    shared_sites = sites[counts > 1]
    shared = np.flatnonzero(np.isin(problem.option_site, shared_sites))
    group = np.searchsorted(shared_sites, problem.option_site[shared])
    return (RowFamily.of("one_type_per_site_constr", len(shared_sites), group, cols.open[shared], 1.0, -np.inf, 1.0),)


def rows_facility_counts(problem: Problem, index: ModelIndex, cols: Columns) -> tuple[RowFamily, ...]:
    r"""``define_facility_counts``: :math:`\underline n_k \le \sum_{o: k(o)=k} y_o \le \overline n_k` for
    limited types; ``min_facilities`` :math:`\le \sum_o y_o \le` ``max_facilities`` when either binds."""
    n_options = problem.n_options
    n_per_type = np.bincount(problem.option_type, minlength=len(problem.type_ids))
    limited = np.flatnonzero((problem.type_min_count > 0) | (problem.type_max_count < n_per_type))
    type_row = row_numbers(limited, len(problem.type_ids))
    in_limited = type_row[problem.option_type] >= 0
    families = [RowFamily.of("type_count_constr", len(limited), type_row[problem.option_type[in_limited]],
                             cols.open[in_limited], 1.0, problem.type_min_count[limited],
                             problem.type_max_count[limited])]
    low = problem.min_facilities
    high = n_options if problem.max_facilities is None else problem.max_facilities
    if low > 0 or high < n_options:
        families.append(one_row("facility_count_constr", cols.open, 1.0, low, high))
    return tuple(families)


def rows_capex_budget(problem: Problem, index: ModelIndex, cols: Columns) -> tuple[RowFamily, ...]:
    r"""``define_capex_budget``: :math:`\sum_o (\text{capex}_o y_o + \text{capex\_per\_module}_o m_o) \le B`
    (divided by :func:`planner.problem.budget_row_scale`)."""
    if not np.isfinite(problem.capex_budget):
        return ()
    spending = np.flatnonzero((problem.capex > 0) | (problem.capex_per_module > 0))
    m_cols, m_coef = cols.modules_terms(spending, problem.capex_per_module[spending])
    scale = budget_row_scale(problem)
    return (one_row("capex_budget_constr", np.concatenate([cols.open[spending], m_cols]),
                    np.concatenate([problem.capex[spending], m_coef]) / scale, -np.inf, problem.capex_budget / scale),)


def rows_aggregate_capacity(problem: Problem, index: ModelIndex, cols: Columns) -> tuple[RowFamily, ...]:
    r"""``define_aggregate_capacity``: :math:`\sum_o C_o m_o \ge \sum_{d: \pi_d = \infty} q_d` (valid
    inequality) when every option is capacitated."""
    must_serve = float(index.pair_must_serve.sum())
    if must_serve <= 0 or not np.isfinite(problem.module_capacity).all() or problem.n_options == 0:
        return ()
    m_cols, m_coef = cols.modules_terms(cols.open, problem.module_capacity)
    return (one_row("aggregate_capacity_constr", m_cols, m_coef, must_serve, np.inf),)


def rows_co2_cap(problem: Problem, index: ModelIndex, cols: Columns) -> tuple[RowFamily, ...]:
    r"""``define_co2_cap``: :math:`\sum_a e_a q_{d(a)} x_a \le E` (t CO2/yr) when the cap is finite."""
    if not np.isfinite(problem.co2_cap_t):
        return ()
    arc_co2 = problem.arc_co2_t * index.arc_demand
    emitting = np.flatnonzero(arc_co2 != 0)
    columns, coefs = cols.assign[emitting], arc_co2[emitting]
    if problem.supply is not None:  # inbound transport emits too
        inbound = np.flatnonzero(problem.supply.in_co2_t != 0)
        columns = np.concatenate([columns, cols.inbound[inbound]])
        coefs = np.concatenate([coefs, problem.supply.in_co2_t[inbound]])
    return (one_row("co2_cap_constr", columns, coefs, -np.inf, problem.co2_cap_t),)


def rows_unmet_limit(problem: Problem, index: ModelIndex, cols: Columns) -> tuple[RowFamily, ...]:
    r"""``define_unmet_limit``: :math:`\sum_{a: p(a)=p} q_{d(a)} x_a \ge \sum_{d: p(d)=p} q_d - \overline U_p`
    for products with a finite ``max_unmet``."""
    limited = np.flatnonzero(np.isfinite(problem.max_unmet))
    if not len(limited):
        return ()
    need = unmet_limit_need(problem, index)[limited]
    floor_row = row_numbers(limited, problem.n_products)
    in_floor = floor_row[problem.arc_product] >= 0
    return (RowFamily.of("unmet_limit_constr", len(limited), floor_row[problem.arc_product[in_floor]],
                         cols.assign[in_floor], index.arc_base_demand[in_floor], need, np.inf),)


def rows_service_level(problem: Problem, index: ModelIndex, cols: Columns) -> tuple[RowFamily, ...]:
    r"""``define_service_level``: :math:`\sum_{a \in W_p} q_{d(a)} x_a \ge s_p \sum_{d: p(d)=p} q_d` for
    products with a service level, :math:`W_p` the arcs of product p within its service limit."""
    serviced = problem.serviced_products
    if not len(serviced):
        return ()
    need = service_need(problem, index)[serviced]
    level_row = row_numbers(serviced, problem.n_products)
    counted = (level_row[problem.arc_product] >= 0) & problem.arc_within_service
    return (RowFamily.of("service_level_constr", len(serviced), level_row[problem.arc_product[counted]],
                         cols.assign[counted], index.arc_base_demand[counted], need, np.inf),)


def rows_supply(problem: Problem, index: ModelIndex, cols: Columns) -> tuple[RowFamily, ...]:
    r"""``define_supply``: material balance per (option, material), supplier capacity, supply
    relationships (``planner.model.supply``)."""
    if problem.supply is None:
        return ()
    supply = problem.supply
    balance = MaterialBalance.of(problem, index)
    limited = limited_suppliers(problem)
    supplier_row = row_numbers(limited, len(supply.supplier_ids))
    in_limited = supplier_row[supply.in_supplier] >= 0
    related = relation_arcs(problem)
    return (
        RowFamily.of("material_balance_constr", balance.n_rows,
                     np.concatenate([balance.arc_row, balance.inbound_row]),
                     np.concatenate([cols.assign[balance.arc], cols.inbound]),
                     np.concatenate([balance.arc_coef, np.ones(supply.n_inbound)]), 0.0, 0.0),
        RowFamily.of("supplier_capacity_constr", len(limited), supplier_row[supply.in_supplier[in_limited]],
                     cols.inbound[in_limited], 1.0, -np.inf, supply.supplier_capacity[limited]),
        pair_rows("relation_constr", cols.inbound[related], cols.relation[related],
                  -relation_bound(problem, balance)[related], -np.inf, 0.0),
    )


def objective_cost(problem: Problem, index: ModelIndex, cols: Columns) -> np.ndarray:
    """``define_objective``: the cost (currency/yr) of each column at value 1."""
    cost = np.zeros(cols.n)
    np.add.at(cost, cols.open, problem.opening_cost)
    m_cols, m_coef = cols.modules_terms(cols.open, problem.module_cost)
    np.add.at(cost, m_cols, m_coef)
    cost[cols.assign] = problem.arc_unit_cost * index.arc_demand
    unmet_pairs = index.unmet_pairs
    cost[cols.unmet[unmet_pairs]] = index.pair_penalty[unmet_pairs] * index.pair_demand[unmet_pairs]
    cost[cols.setup] = problem.setup_cost[index.setup_option, index.setup_product]
    if problem.supply is not None:
        cost[cols.inbound] = problem.supply.in_unit_cost(problem.carbon_price)
        related = relation_arcs(problem)
        cost[cols.relation[related]] = problem.supply.in_fixed_cost[related]
    return cost


def column_bounds(problem: Problem, index: ModelIndex, cols: Columns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper bound and integrality of each column (the domains of ``define_open``,
    ``define_modules``, ``define_assign``, ``define_unmet``, ``define_setup``); forced options get [1, 1]."""
    col_lower, col_upper = np.zeros(cols.n), np.ones(cols.n)
    col_lower[cols.open[problem.forced]] = 1.0
    modular = cols.modules[index.modular_options]
    col_upper[modular] = np.inf  # NonNegativeIntegers: bounded by the module rows
    integer = np.zeros(cols.n, dtype=bool)
    integer[cols.open] = True
    integer[modular] = True
    integer[cols.setup] = True
    col_upper[cols.inbound] = np.inf
    integer[cols.relation[cols.relation >= 0]] = True
    if problem.single_sourcing:
        integer[cols.assign] = True
    return col_lower, col_upper, integer


def unmet_limit_need(problem: Problem, index: ModelIndex) -> np.ndarray:
    """Per product, the demand (units/yr) the flows must serve under ``max_unmet`` (−inf: no limit);
    raises InfeasibleError for a product that must be served but that no arc reaches."""
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


def reachable_service_share(problem: Problem, index: ModelIndex) -> np.ndarray:
    """(P,) the share of each product's demand with an arc within its service limit: no network
    serves more of it within the limit (1 for a product without demand)."""
    demand = np.bincount(index.pair_product, weights=index.pair_demand, minlength=problem.n_products)
    reachable = _demand_of_pairs_with_arcs(problem, index, problem.arc_within_service)
    return np.divide(reachable, demand, out=np.ones(problem.n_products), where=demand > 0)


def service_need(problem: Problem, index: ModelIndex) -> np.ndarray:
    """Per product, the demand (units/yr) its service level requires within the limit (0 without one);
    raises :class:`ServiceReachError` naming the share no network exceeds when the arcs within the
    limit cannot carry that much even with unlimited capacity."""
    demand = np.bincount(index.pair_product, weights=index.pair_demand, minlength=problem.n_products)
    need = problem.service_share * demand
    reachable = reachable_service_share(problem, index)
    short = np.flatnonzero(need > reachable * demand * (1 + 1e-12))
    if len(short):
        p = short[0]
        of_demand = ("of its demand within reach of a candidate site (what p_median and p_center serve: their "
                     "levels are rescaled to it, as warned)" if problem.objective_kind in ("p_median", "p_center")
                     else "of its demand")
        asks = (f"product '{problem.product_ids[p]}': the service level asks {share_text(problem.service_share[p])} "
                f"{of_demand} {service_limit_text(problem, p)}, but")
        servable = _demand_of_pairs_with_arcs(problem, index, np.ones(problem.n_arcs, dtype=bool))
        if need[p] > servable[p] * (1 + 1e-12):  # the delivery radii, not only the service limit, stop it
            raise ServiceReachError(
                f"{asks} only {share_text(reachable[p])} of it has any candidate site that near (no network can "
                f"reach more), and only {share_text(servable[p] / demand[p])} can be served at all: no candidate "
                "site's delivery radius reaches the rest (max_delivery_km of the facility types, max_distance_km "
                "of the transport, the objective's coverage), or serving the rest costs more than its unmet "
                "penalty and is beyond the limit; lower min_share_within, widen those radii or the limit, or add "
                "candidate sites"
            )
        raise ServiceReachError(
            f"{asks} only {share_text(reachable[p])} of it has any candidate site that near (no network "
            "can reach more); lower min_share_within or widen the limit"
        )
    return need


def _demand_of_pairs_with_arcs(problem: Problem, index: ModelIndex, arcs: np.ndarray) -> np.ndarray:
    """(P,) the demand (units/yr) of the pairs some arc where ``arcs`` reaches."""
    pairs = np.unique(index.arc_pair[arcs])
    return np.bincount(index.pair_product[pairs], weights=index.pair_demand[pairs], minlength=problem.n_products)


def share_text(share: float, digits: int = 1) -> str:
    """A share as a percentage with ``digits`` decimals, or as many more (up to six) as it takes not to
    show a share below 100 % as 100.0 % or one above 0 % as 0.0 % (0.999999 is '99.9999%'; closer than
    1e-8 to either end, the nearest six-decimal value short of it); never "-0.0%" (a share of -1e-12 is
    the solver's rounding of none)."""
    share = 0.0 if -1e-9 < share <= 0.0 else share
    for shown_digits in range(digits, max(digits, 6) + 1):
        text = f"{share:.{shown_digits}%}"
        shown = float(text[:-1]) / 100
        if (shown < 1 or share >= 1) and (shown > 0 or share <= 0):
            return text
    return "99.999999%" if share > 0.5 else "0.000001%"  # within 1e-8 of the whole or of nothing


def service_limit_text(problem: Problem, product: int) -> str:
    """'within 320 km', 'within 120 min' or 'within 320 km and 120 min'."""
    parts = []
    if np.isfinite(problem.service_km[product]):
        parts.append(f"{problem.service_km[product]:g} km")
    if np.isfinite(problem.service_minutes[product]):
        parts.append(f"{problem.service_minutes[product]:g} min")
    return "within " + " and ".join(parts)


def start_vector(form: StandardForm, problem: Problem, index: ModelIndex, solution) -> np.ndarray:
    """A :class:`~planner.model.solution.Solution` as a column vector of ``form`` (a MIP start)."""
    x = np.zeros(form.n_columns)
    x[form.block("open")] = solution.open
    x[form.block("modules")] = solution.modules[index.modular_options]
    x[form.block("assign")] = solution.assign
    x[form.block("unmet")] = solution.unmet[index.unmet_pairs]
    if solution.setup is not None and len(index.setup_option):
        x[form.block("setup")] = solution.setup[index.setup_option, index.setup_product]
    if solution.inbound is not None and problem.n_inbound:
        x[form.block("inbound")] = solution.inbound
        paid = solution.relation if solution.relation is not None else (solution.inbound > 0)
        x[form.block("relation")] = paid[relation_arcs(problem)].astype(float)
    return x


def solution_from_vector(form: StandardForm, problem: Problem, index: ModelIndex, x: np.ndarray):
    """Column values as a :class:`~planner.model.solution.Solution` (rounded like ``Solution.from_model``)."""
    def block(name):
        return x[form.block(name)]

    return Solution.from_columns(
        problem, index, block("open"), block("modules"), block("assign"), block("unmet"), block("setup"),
        inbound_values=block("inbound") if problem.n_inbound else None,
        relation_values=block("relation") if problem.n_inbound else None,
    )
