r"""Inbound supply rows, shared by both builders (``planner.model.build.define_supply`` and
``planner.model.arrays.rows_supply``).

Symbols (units): materials :math:`m`, suppliers :math:`j` with material :math:`m(j)`, capacity
:math:`K_j` (units of material/yr) and price :math:`e_j` (currency/unit); inbound arcs :math:`b`
from supplier :math:`j(b)` to option :math:`o(b)` with transport :math:`t_b` (currency/unit),
emissions :math:`\varepsilon_b` (t CO2/unit) and a fixed cost :math:`H_b` (currency/yr) per supply
relationship; bill of materials :math:`\beta_{pm}` (units of m per unit of p).

Variables: :math:`w_b \ge 0` material on arc b (units/yr); :math:`v_b \in \{0,1\}` the relationship,
only where :math:`H_b > 0`.

.. math::

    \sum_{b: o(b)=o, m(b)=m} w_b = \sum_{a: o(a)=o} \beta_{p(a)m} f_a q_{d(a)} x_a
        \quad \forall (o, m) \qquad \text{(material balance)}

    \sum_{b: j(b)=j} w_b \le K_j \quad \forall j: K_j < \infty \qquad \text{(supplier capacity)}

    w_b \le U_b v_b \quad \forall b: H_b > 0 \qquad \text{(relationship; } U_b = \min(K_{j(b)},
        \text{the most o can need of m)}

Objective terms: :math:`\sum_b (e_{j(b)} + t_b + \text{carbon price} \cdot \varepsilon_b) w_b + \sum_b H_b v_b`;
the CO2 cap counts :math:`\sum_b \varepsilon_b w_b`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.model.index import ModelIndex
from planner.problem import Problem


@dataclass(frozen=True)
class MaterialBalance:
    """The material balance rows, one per (option, material) that production needs or an inbound arc
    reaches: production terms (arc, row, coefficient −β f q) and each inbound arc's row."""

    n_rows: int
    row_option: np.ndarray  # (n_rows,) option of each row
    row_material: np.ndarray  # (n_rows,) material of each row
    arc: np.ndarray  # production terms: the arc
    arc_row: np.ndarray  # ... its row
    arc_coef: np.ndarray  # ... −β × arc demand (units of material/yr at x = 1)
    inbound_row: np.ndarray  # (B,) the row of each inbound arc

    @classmethod
    def of(cls, problem: Problem, index: ModelIndex) -> MaterialBalance:
        supply = problem.supply
        n_materials = len(supply.material_ids)
        need = supply.bom[problem.arc_product]  # (A, M)
        arc, material = np.nonzero(need > 0)
        arc_key = problem.arc_option[arc] * n_materials + material
        inbound_key = supply.in_option * n_materials + supply.in_material
        keys = np.unique(np.concatenate([arc_key, inbound_key]))
        return cls(
            n_rows=len(keys),
            row_option=keys // max(n_materials, 1),
            row_material=keys % max(n_materials, 1),
            arc=arc,
            arc_row=np.searchsorted(keys, arc_key),
            arc_coef=-need[arc, material] * index.arc_demand[arc],
            inbound_row=np.searchsorted(keys, inbound_key),
        )


def relation_arcs(problem: Problem) -> np.ndarray:
    """Inbound arcs with a fixed cost per supply relationship (they get a binary :math:`v_b`)."""
    return np.flatnonzero(problem.supply.in_fixed_cost > 0)


def relation_bound(problem: Problem, balance: MaterialBalance) -> np.ndarray:
    """(B,) :math:`U_b`: the supplier's capacity or the most the arc's option can need of the material."""
    most = np.bincount(balance.arc_row, weights=-balance.arc_coef, minlength=balance.n_rows)
    supply = problem.supply
    return np.minimum(supply.supplier_capacity[supply.in_supplier], most[balance.inbound_row])


def limited_suppliers(problem: Problem) -> np.ndarray:
    """Suppliers with a finite capacity (they get a capacity row)."""
    return np.flatnonzero(np.isfinite(problem.supply.supplier_capacity))
