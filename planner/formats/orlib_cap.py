r"""OR-Library capacitated warehouse location: ``cap41`` … ``cap134`` and ``capa``/``capb``/``capc``.

Format (Beasley 1988; all tokens whitespace-separated, the line layout is not relied on)::

    m n                      # m warehouses, n customers
    s_i f_i                  # m times: capacity, fixed opening cost
    d_j  c_1j c_2j … c_mj    # n times: demand of customer j, then the cost of serving ALL of it from each i

so a file has exactly :math:`2 + 2m + n(1 + m)` tokens. In ``capa``/``capb``/``capc`` every capacity
field is the word ``capacity``; the published instances substitute a value (``capa`` with 8000,
10000, 12000, 14000 …), passed here as ``capacity=``.

Model that reproduces the published optima (``c_ij`` is a total, not a per-unit cost):

.. math::
    \min \sum_i f_i y_i + \sum_{ij} c_{ij} x_{ij}
    \quad\text{s.t.}\quad \sum_i x_{ij} = 1,\;
    \sum_j d_j x_{ij} \le s_i y_i,\; x_{ij} \le y_i,\; y \in \{0,1\},\; x \in [0,1]

(:math:`x` binary for the single-source variant, rows ``cap41-ss`` …). The mapping onto
:class:`planner.problem.Problem` is described in :mod:`planner.formats.dense`.

Cite: J.E. Beasley, "OR-Library", JORS 41 (1990) 1069–1072; J.E. Beasley, "An algorithm for solving
large capacitated warehouse location problems", EJOR 33 (1988) 314–325.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from planner.errors import InputError
from planner.formats.dense import check_zero_demand, problem_from_costs
from planner.formats.tokens import Place, check_dense_values, instance_name, read_sites_customers, to_floats
from planner.problem import Problem

logger = logging.getLogger(__name__)

CAPACITY_WORD = "capacity"


@dataclass(frozen=True)
class OrlibCap:
    """The raw numbers of an OR-Library ``cap`` file (``capacity`` is NaN where the file has the word
    ``capacity`` and no value was given)."""

    capacity: np.ndarray  # (m,) units
    opening_cost: np.ndarray  # (m,) f_i
    demand: np.ndarray  # (n,) d_j
    total_cost: np.ndarray  # (m, n) c_ij, cost of serving all of j from i
    capacity_is_word: bool  # the capacity fields are the word ``capacity``


def parse_orlib_cap(path: Path, *, capacity: float | None = None, ignore_capacity: bool = False) -> OrlibCap:
    """Read the numbers of an OR-Library ``cap`` file; ``capacity`` replaces the word ``capacity``.

    Raises :class:`InputError` for a missing file, a wrong token count, a non-numeric token, or (unless
    ``ignore_capacity``, for uncapacitated use, where capacities and demands are not checked either) a
    missing ``capacity`` for a file with the word, or a ``capacity`` given for a file whose capacities
    are numbers.
    """
    path = Path(path)
    tokens, n_sites, n_customers = read_sites_customers(path, "warehouses", lambda m, n: 2 + 2 * m + n * (1 + m))
    site_block = 2 + 2 * n_sites
    capacity_tokens = tokens[2:site_block:2]
    is_word = np.array([token.lower() == CAPACITY_WORD for token in capacity_tokens])
    if ignore_capacity:
        capacity = None
    elif is_word.any() and capacity is None:
        raise InputError(
            f"{path}: the capacity field is the word 'capacity' ({np.count_nonzero(is_word)} of {n_sites} "
            "warehouses); give a value, e.g. capacity=8000 (--capacity 8000)"
        )
    elif capacity is not None and not is_word.any():
        raise InputError(
            f"{path}: capacity={capacity:g} was given but the file has numeric capacities; "
            "the value only replaces the word 'capacity' (capa, capb, capc)"
        )
    elif capacity is not None and not (np.isfinite(capacity) and capacity > 0):
        raise InputError(f"{path}: capacity={capacity} must be a positive number")
    numeric = list(tokens)
    numeric[2:site_block:2] = ["nan" if word else token for token, word in zip(capacity_tokens, is_word, strict=True)]
    values = to_floats(numeric, path)
    site_capacity = values[2:site_block:2].copy()
    site_capacity[is_word] = np.nan if capacity is None else float(capacity)
    opening_cost = values[3:site_block:2]
    rest = values[site_block:].reshape(n_customers, 1 + n_sites)
    demand = rest[:, 0]
    total_cost = rest[:, 1:].T.copy()  # customer-major in the file → (m, n)
    check_dense_values(
        path,
        capacity=None if ignore_capacity else site_capacity[~is_word],
        opening_cost=opening_cost,
        demand=None if ignore_capacity else demand,  # uncapacitated use ignores demands too (M instances: 1)
        total_cost=total_cost,
        places=token_places(n_sites, n_customers, np.flatnonzero(~is_word)),
    )
    return OrlibCap(site_capacity, opening_cost, demand, total_cost, bool(is_word.any()))


def token_places(n_sites: int, n_customers: int, numeric_sites: np.ndarray) -> dict[str, Place]:
    """The 1-based token places of the values :func:`parse_orlib_cap` checks (for messages): capacities of
    ``numeric_sites`` (those not the word), opening costs, demands, and costs ``c_ij`` flat facility-major
    (the file lists them customer-major)."""
    data = 2 + 2 * n_sites  # tokens before the first customer's record of 1 + m numbers

    def cost(k: int) -> int:
        site, customer = divmod(k, n_customers)
        return data + customer * (1 + n_sites) + 2 + site

    return {"capacities": lambda k: 3 + 2 * int(numeric_sites[k]), "opening costs": lambda i: 4 + 2 * i,
            "demands": lambda j: data + j * (1 + n_sites) + 1, "costs c_ij": cost}


def read_orlib_cap(path: Path, *, capacity: float | None = None, single_source: bool = False) -> Problem:
    """The capacitated instance (CFLP; SSCFLP with ``single_source``) of an OR-Library ``cap`` file.

    The instance is named after the file, with ``-<capacity>`` when the capacity was substituted and
    ``-ss`` when single-sourced: ``cap41``, ``cap61-ss``, ``capa-8000`` (as in ``known_optima.csv``).
    A customer with zero demand and zero costs needs no supply and gets no arcs; one with zero demand
    and a cost is an error (:func:`planner.formats.dense.check_zero_demand`).
    """
    path = Path(path)
    data = parse_orlib_cap(path, capacity=capacity)
    check_zero_demand(path, data.demand, data.total_cost)
    name = instance_name(path)
    if data.capacity_is_word:
        name += f"-{capacity:g}"
    if single_source:
        name += "-ss"
    logger.info("read %s: %d warehouses × %d customers as %s", path.name, *data.total_cost.shape, name)
    return problem_from_costs(
        name,
        source=path,
        opening_cost=data.opening_cost,
        capacity=data.capacity,
        demand=data.demand,
        total_cost=data.total_cost,
        single_sourcing=single_source,
    )
