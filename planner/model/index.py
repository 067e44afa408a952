"""Sparse groupings of the problem's arcs, computed once with numpy and shared by the model,
the solution extraction and the audit."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from planner.problem import Problem


def group_positions(keys: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR grouping: positions of ``keys`` sorted by key, and the start of each group (n_groups+1)."""
    order = np.argsort(keys, kind="stable")
    starts = np.searchsorted(keys[order], np.arange(n_groups + 1))
    return order, starts


@dataclass(frozen=True)
class ModelIndex:
    """Index sets of the model as arrays.

    ``pair_*`` describe the demand pairs D (region, product) with positive demand; ``arc_pair`` maps
    each arc to its pair; ``*_order``/``*_starts`` are CSR groupings of arcs by pair and by option.
    """

    pair_region: np.ndarray
    pair_product: np.ndarray
    pair_demand: np.ndarray
    pair_penalty: np.ndarray
    arc_pair: np.ndarray
    arcs_by_pair: tuple[np.ndarray, np.ndarray]
    arcs_by_option: tuple[np.ndarray, np.ndarray]
    modular_options: np.ndarray  # options whose module count is a decision (max > min)
    setup_option: np.ndarray  # (Z,) option of each product setup decision (setup cost > 0, arcs exist)
    setup_product: np.ndarray  # (Z,) its product
    arc_setup: np.ndarray  # (A,) the setup decision an arc needs, -1 if none
    arc_factor: np.ndarray  # (A,) the arc's demand factor (proximity; 1 without)

    @classmethod
    def from_problem(cls, problem: Problem) -> ModelIndex:
        pair_region, pair_product = np.nonzero(problem.demand > 0)
        pair_code = pair_region * problem.n_products + pair_product
        arc_code = problem.arc_pair
        arc_pair = np.searchsorted(pair_code, arc_code)
        valid = (arc_pair < len(pair_code)) & (pair_code[np.minimum(arc_pair, len(pair_code) - 1)] == arc_code)
        if len(arc_code) and not valid.all():
            raise ValueError("arcs must serve demand pairs with positive demand; prune zero-demand arcs")
        n_products = problem.n_products
        arc_key = problem.arc_option * n_products + problem.arc_product
        needs_setup = problem.setup_cost.ravel()[arc_key] > 0
        setup_keys = np.unique(arc_key[needs_setup])
        arc_setup = np.full(problem.n_arcs, -1)
        arc_setup[needs_setup] = np.searchsorted(setup_keys, arc_key[needs_setup])
        return cls(
            setup_option=setup_keys // n_products,
            setup_product=setup_keys % n_products,
            arc_setup=arc_setup,
            pair_region=pair_region,
            pair_product=pair_product,
            pair_demand=problem.demand[pair_region, pair_product],
            pair_penalty=problem.unmet_penalty[pair_product],
            arc_pair=arc_pair,
            arcs_by_pair=group_positions(arc_pair, len(pair_code)),
            arcs_by_option=group_positions(problem.arc_option, problem.n_options),
            modular_options=np.flatnonzero(problem.max_modules > problem.min_modules),
            arc_factor=problem.arc_demand_factor,
        )

    @functools.cached_property
    def arc_demand(self) -> np.ndarray:
        """(A,) units/yr arc a delivers at ``assign[a]`` = 1: its pair's demand q_d(a) × its demand factor
        f_a (1 without proximity); the flow of arc a is ``arc_demand[a] · assign[a]``."""
        return self.pair_demand[self.arc_pair] * self.arc_factor

    @functools.cached_property
    def arc_base_demand(self) -> np.ndarray:
        """(A,) units/yr of its pair's demand arc a serves at ``assign[a]`` = 1: q_d(a), without the demand
        factor (what a service level counts: the share of the customers' demand served within a limit)."""
        return self.pair_demand[self.arc_pair]

    @functools.cached_property
    def pair_must_serve(self) -> np.ndarray:
        """(D,) units/yr a pair that must be served needs at the least: q_d × its smallest arc factor
        (q_d without proximity; 0 for pairs that may go unmet)."""
        smallest = np.full(self.n_pairs, np.inf)
        np.minimum.at(smallest, self.arc_pair, self.arc_factor)
        smallest[~np.isfinite(smallest)] = 1.0
        return np.where(np.isfinite(self.pair_penalty), 0.0, self.pair_demand * smallest)

    @property
    def n_pairs(self) -> int:
        return len(self.pair_region)

    @property
    def unmet_pairs(self) -> np.ndarray:
        """Demand pairs that may be left unserved (finite penalty)."""
        return np.flatnonzero(np.isfinite(self.pair_penalty))


def members(grouping: tuple[np.ndarray, np.ndarray], group: int) -> np.ndarray:
    """Positions in one CSR group."""
    order, starts = grouping
    return order[starts[group] : starts[group + 1]]
