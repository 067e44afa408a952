"""The decision values of one solve, as arrays indexed like the problem (:class:`Solution`), read
from a solved Pyomo model or from a column vector of the standard form."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.model.index import ModelIndex
from planner.problem import Problem

SHARE_ZERO = 1e-9  # shares below this are solver noise, not flows


INBOUND_ZERO = 1e-6  # units of material/yr: below this an inbound flow is solver noise, read as 0


@dataclass(frozen=True)
class Solution:
    """Decision values: ``open``/``modules`` per option, ``assign`` share per arc, ``unmet`` share per pair."""

    open: np.ndarray
    modules: np.ndarray
    assign: np.ndarray
    unmet: np.ndarray
    setup: np.ndarray | None = None  # (O, P) 1 where option o pays the setup of product p
    inbound: np.ndarray | None = None  # (B,) material on each inbound arc, units/yr (with suppliers)
    relation: np.ndarray | None = None  # (B,) 1 where the supply relationship is paid (arcs with a fixed cost)

    @classmethod
    def from_columns(
        cls,
        problem: Problem,
        index: ModelIndex,
        open_values: np.ndarray,
        modular_values: np.ndarray,
        assign_values: np.ndarray,
        unmet_values: np.ndarray,
        setup_values: np.ndarray,
        inbound_values: np.ndarray | None = None,
        relation_values: np.ndarray | None = None,
    ) -> Solution:
        """Round raw solver values: ``open`` per option, ``modules`` per modular option, ``assign``
        per arc, ``unmet`` per pair with a penalty, ``setup`` per setup variable."""
        is_open, modules, setup = round_network(problem, index, open_values, modular_values, setup_values)
        assign = np.clip(np.asarray(assign_values, dtype=float), 0.0, 1.0)
        assign[assign < SHARE_ZERO] = 0.0
        # a share on an arc of an option that rounds closed is the solver's row tolerance (x_a ≤ y_o + 1e-6), not
        # a flow: flows.csv had listed deliveries from facilities sites.csv does not have; unmet where it may be
        closed = is_open[problem.arc_option] == 0
        dropped = np.bincount(index.arc_pair[closed], weights=assign[closed], minlength=index.n_pairs)
        assign[closed] = 0.0
        unmet = np.zeros(index.n_pairs)
        if len(index.unmet_pairs):
            unmet[index.unmet_pairs] = np.clip(unmet_values + dropped[index.unmet_pairs], 0.0, 1.0)
        inbound = None
        if inbound_values is not None:
            inbound = np.asarray(inbound_values, dtype=float).copy()
            inbound[inbound < INBOUND_ZERO] = 0.0
        relation = None
        if relation_values is not None:
            relation = np.zeros(problem.n_inbound, dtype=int)
            relation[problem.supply.in_fixed_cost > 0] = np.round(relation_values).astype(int)
        return cls(open=is_open, modules=modules, assign=assign, unmet=unmet, setup=setup, inbound=inbound,
                   relation=relation)

    @classmethod
    def from_model(cls, model, problem: Problem, index: ModelIndex) -> Solution:
        """The values of a solved Pyomo model (``planner.model.build``)."""
        return cls.from_columns(
            problem,
            index,
            values(model.open, range(problem.n_options)),
            values(model.modules, index.modular_options.tolist()) if len(index.modular_options) else [],
            values(model.assign, range(problem.n_arcs)),
            values(model.unmet, index.unmet_pairs.tolist()) if len(index.unmet_pairs) else [],
            values(model.setup, range(len(index.setup_option))) if len(index.setup_option) else [],
            inbound_values=values(model.inbound, range(problem.n_inbound)) if problem.n_inbound else None,
            relation_values=values(model.relation, list(model.relation)) if problem.n_inbound else None,
        )


def round_network(
    problem: Problem, index: ModelIndex, open_values, modular_values, setup_values
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The network decisions from raw solver values: ``open`` (O,) and ``modules`` (O,; min_modules ×
    open where the count is fixed) as integers, ``setup`` (O, P) as 0/1; ``modular_values`` are per
    modular option and ``setup_values`` per setup variable."""
    is_open = np.round(open_values).astype(int)
    modules = problem.min_modules * is_open
    if len(index.modular_options):
        modules = modules.copy()
        modules[index.modular_options] = np.round(modular_values)
    setup = np.zeros((problem.n_options, problem.n_products), dtype=int)
    if len(index.setup_option):
        setup[index.setup_option, index.setup_product] = np.round(setup_values).astype(int)
    return is_open, modules.astype(int), setup


def values(component, index) -> np.ndarray:
    """Values of an indexed variable at the given integer positions, as a float array (0 if unset)."""
    return np.array([component[i].value or 0.0 for i in index], dtype=float)


def setup_paid(problem: Problem, solution: Solution) -> np.ndarray:
    """(O, P) 1 where a product setup is paid (all zeros when the model has no setup costs)."""
    if solution.setup is None:
        return np.zeros((problem.n_options, problem.n_products), dtype=int)
    return solution.setup
