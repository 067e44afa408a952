r"""OR-Library uncapacitated p-median instances ``pmed1`` … ``pmed40`` (Beasley 1985).

Format (whitespace-separated tokens)::

    nv ne p            # vertices, edges, number of medians
    u v w              # ne undirected edges: 1-based vertex ids, integer length

Every vertex is a demand point (weight 1) and a candidate site; the distance :math:`d_{uv}` is the
all-pairs shortest-path length (:func:`scipy.sparse.csgraph.shortest_path`). **If an edge appears
more than once, the last occurrence counts** (``u v`` and ``v u`` are the same edge); taking the
shortest instead gives wrong optima (pmed1 5718 instead of 5819). Self-loops are ignored.

Model (open exactly :math:`p` sites, serve every vertex from its nearest open site):

.. math::
    \min \sum_{uv} d_{uv} x_{uv}
    \quad\text{s.t.}\quad \sum_u x_{uv} = 1,\; x_{uv} \le y_u,\; \sum_u y_u = p,\; y \in \{0,1\}

Mapping onto :class:`planner.problem.Problem`: opening cost 0, capacity ``np.inf``, demand 1 per
vertex, unit cost and ``arc_distance_km`` = :math:`d_{uv}` (graph length units),
``min_facilities = max_facilities = p``. Unreachable pairs (a disconnected graph) get no arc.

Limits (:mod:`planner.formats.tokens`): counts at most 10,000,000, edge lengths at most 1e15 (so path
lengths stay finite), and the nv × nv distance table must fit in the memory available.

Cite: J.E. Beasley, "A note on solving large p-median problems", EJOR 21 (1985) 270–273;
J.E. Beasley, "OR-Library", JORS 41 (1990) 1069–1072.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from planner.errors import InputError
from planner.formats.dense import problem_from_costs
from planner.formats.tokens import (
    check_magnitude,
    check_table_fits,
    check_token_count,
    check_values,
    header_counts,
    instance_name,
    read_tokens,
    to_floats,
    token_place,
)
from planner.problem import Problem

logger = logging.getLogger(__name__)


def read_pmed_distances(path: Path) -> tuple[np.ndarray, int]:
    """The (nv, nv) shortest-path distance matrix (``inf`` where unreachable) and p of a p-median file."""
    path = Path(path)
    tokens = read_tokens(path)
    n_vertices, n_edges, p = header_counts(
        tokens, path, "a header 'nv ne p' (vertices, edges, medians)",
        ["the number of vertices (token 1)", "the number of edges (token 2)", "p, the number of medians (token 3)"],
        minimum=[1, 0, 0],  # p = 0: a p the file does not give (--p gives it; lscp needs none)
    )
    check_token_count(tokens, 3 + 3 * n_edges, path, f"{n_edges} edges 'u v w'")
    check_table_fits(path, n_vertices, n_vertices, "distance")
    edges = to_floats(tokens[3:], path, start=3).reshape(n_edges, 3)
    ends = edges[:, :2]
    bad = (ends != np.round(ends)) | (ends < 1) | (ends > n_vertices)
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        raise InputError(
            f"{path}: {token_place(path, 4 + 3 * row)}: edge {row + 1} joins {ends[row, 0]:g} and {ends[row, 1]:g}; "
            f"vertex ids must be integers 1 … {n_vertices}"
        )
    check_values(edges[:, 2], path, "edge lengths", place=lambda k: 6 + 3 * k)
    check_magnitude(edges[:, 2], path, "edge", "length")
    return shortest_paths(n_vertices, ends.astype(int) - 1, edges[:, 2]), p


def shortest_paths(n_vertices: int, ends: np.ndarray, length: np.ndarray) -> np.ndarray:
    """All-pairs shortest paths of the undirected graph with edges ``ends`` (0-based, (E, 2)); where an
    edge is listed more than once the last listing counts; self-loops are dropped."""
    low, high = ends.min(axis=1), ends.max(axis=1)
    proper = low != high
    low, high, length = low[proper], high[proper], length[proper]
    key = low * n_vertices + high
    # np.unique returns the first position of each key; on the reversed list that is the last listing
    _, first_in_reversed = np.unique(key[::-1], return_index=True)
    last = len(key) - 1 - first_in_reversed
    # explicit zeros in a sparse matrix are edges for csgraph, so zero-length edges are kept
    graph = sp.csr_matrix((length[last], (low[last], high[last])), shape=(n_vertices, n_vertices))
    return shortest_path(graph, method="D", directed=False)


def read_pmed(path: Path, *, p: int | None = None) -> Problem:
    """The p-median instance of an OR-Library ``pmed`` file; ``p`` overrides the file's value (needed where it is 0).

    Named after the file (``pmed1``), with ``-p<p>`` when ``p`` differs from the file's.
    """
    path = Path(path)
    distance, p_file = read_pmed_distances(path)
    n_vertices = len(distance)
    name = instance_name(path)
    if p is not None and p != p_file:
        name += f"-p{p}"
    p = p_file if p is None else p
    if not 1 <= p <= n_vertices:
        given = "--p" if p != p_file else "the file's p (token 3, the header's third number)"
        raise InputError(f"{path}: p={p} medians must be between 1 and the {n_vertices} vertices; {given} is out of "
                         f"range: pass --p N with N from 1 to {n_vertices}")
    unreachable = np.isinf(distance)
    if unreachable.any():
        pairs = int(unreachable.sum()) // 2
        logger.warning("%s: the graph is disconnected; %d vertex pairs are unreachable", path.name, pairs)
    logger.info("read %s: %d vertices, p=%d", path.name, n_vertices, p)
    problem = problem_from_costs(
        name,
        source=path,
        opening_cost=np.zeros(n_vertices),
        capacity=np.full(n_vertices, np.inf),
        demand=np.ones(n_vertices),
        total_cost=distance,
        distance_km=distance,
        min_facilities=p,
        max_facilities=p,
    )
    return dataclasses.replace(problem, count_limit_source="the file's p (or --p)")
