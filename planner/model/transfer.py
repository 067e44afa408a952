"""A solution of one problem carried over to another problem on the same data.

``compare`` solves the central-only and micro-only variants (the model with some facility types left
out) before the hybrid (the whole model). Each of their networks is usually a network of the hybrid
too: the same sites with the same types, the same arcs, flows and set-ups. Carried over, the cheaper
of them is the hybrid's start, so a time-limited hybrid run never stops at a network dearer than
one a variant already found.

Everything is matched by id, never by position: an option by (site id, type id), an arc by (its
option, region id, product id), a demand pair by (region id, product id), an inbound arc by
(supplier id, its option). Where anything the solution uses has no counterpart in the target, there
is no transfer (None); whether the carried-over solution is *feasible* for the target (its counts,
forced sites, budget, service levels) is for the caller to check (``planner.audit``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.problem import Problem


def positions(source_keys: list[np.ndarray], target_keys: list[np.ndarray]) -> np.ndarray:
    """For each source row (one array per key column), its row in the target, −1 where it has none.

    >>> positions([np.array(["a", "b"]), np.array([1, 2])], [np.array(["b", "a"]), np.array([2, 3])])
    array([-1,  0])
    """
    target = pd.MultiIndex.from_arrays([np.asarray(key) for key in target_keys])
    return target.get_indexer(pd.MultiIndex.from_arrays([np.asarray(key) for key in source_keys]))


def option_keys(problem: Problem) -> list[np.ndarray]:
    """(site id, type id) per option."""
    return [np.asarray(problem.site_ids)[problem.option_site].astype(str),
            np.asarray(problem.type_ids, dtype=object)[problem.option_type].astype(str)]


def arc_keys(problem: Problem) -> list[np.ndarray]:
    """(site id, type id, region id, product id) per arc."""
    site, type_id = option_keys(problem)
    return [site[problem.arc_option], type_id[problem.arc_option],
            np.asarray(problem.region_ids)[problem.arc_region].astype(str),
            np.asarray(problem.product_ids, dtype=object)[problem.arc_product].astype(str)]


def pair_keys(problem: Problem, index: ModelIndex) -> list[np.ndarray]:
    """(region id, product id) per demand pair."""
    return [np.asarray(problem.region_ids)[index.pair_region].astype(str),
            np.asarray(problem.product_ids, dtype=object)[index.pair_product].astype(str)]


def inbound_keys(problem: Problem) -> list[np.ndarray]:
    """(supplier id, site id, type id) per inbound arc."""
    site, type_id = option_keys(problem)
    supply = problem.supply
    return [np.asarray(supply.supplier_ids)[supply.in_supplier].astype(str),
            site[supply.in_option], type_id[supply.in_option]]


def _carried(values: np.ndarray, where: np.ndarray, size: int) -> np.ndarray | None:
    """``values`` placed at ``where`` in an array of ``size`` zeros; None where a non-zero value has no
    place (−1)."""
    values = np.asarray(values)
    used = values != 0
    if (where[used] < 0).any():
        return None
    out = np.zeros(size, dtype=values.dtype)
    out[where[used]] = values[used]
    return out


def transferred(solution: Solution, source: Problem, source_index: ModelIndex, target: Problem,
                target_index: ModelIndex) -> Solution | None:
    """``solution`` (of ``source``) as a solution of ``target``, matched by ids (module docstring); None
    where an option, arc, pair, set-up or inbound arc it uses is not in ``target``, or where one of the
    two has inbound supply and the other has not."""
    if (source.supply is None) != (target.supply is None):
        return None
    option_at = positions(option_keys(source), option_keys(target))
    is_open = _carried(np.asarray(solution.open, dtype=int), option_at, target.n_options)
    modules = _carried(np.asarray(solution.modules, dtype=int) * (np.asarray(solution.open) > 0), option_at,
                       target.n_options)
    assign = _carried(np.asarray(solution.assign, dtype=float), positions(arc_keys(source), arc_keys(target)),
                      target.n_arcs)
    unmet = _carried(np.asarray(solution.unmet, dtype=float),
                     positions(pair_keys(source, source_index), pair_keys(target, target_index)), target_index.n_pairs)
    if any(part is None for part in (is_open, modules, assign, unmet)):
        return None
    setup = _setups(solution, source, target, option_at)
    if solution.setup is not None and setup is None:
        return None
    inbound = relation = None
    if source.supply is not None and solution.inbound is not None:
        inbound_at = positions(inbound_keys(source), inbound_keys(target))
        inbound = _carried(np.asarray(solution.inbound, dtype=float), inbound_at, target.n_inbound)
        relation = None if solution.relation is None else _carried(np.asarray(solution.relation, dtype=int),
                                                                    inbound_at, target.n_inbound)
        if inbound is None or (solution.relation is not None and relation is None):
            return None
    return Solution(open=is_open, modules=modules, assign=assign, unmet=unmet, setup=setup, inbound=inbound,
                    relation=relation)


def _setups(solution: Solution, source: Problem, target: Problem, option_at: np.ndarray) -> np.ndarray | None:
    """The (O, P) set-ups of ``solution`` in ``target``'s options and products; None where one has no place."""
    if solution.setup is None:
        return None
    product_at = positions([np.asarray(source.product_ids, dtype=object).astype(str)],
                           [np.asarray(target.product_ids, dtype=object).astype(str)])
    rows, columns = np.nonzero(np.asarray(solution.setup))
    if (option_at[rows] < 0).any() or (product_at[columns] < 0).any():
        return None
    setup = np.zeros((target.n_options, target.n_products), dtype=np.asarray(solution.setup).dtype)
    setup[option_at[rows], product_at[columns]] = 1
    return setup
