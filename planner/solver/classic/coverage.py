r"""The coverage matrix of a distance instance and its dominance reductions.

:math:`a_{ij} = 1` when site :math:`j` covers demand point :math:`i`, i.e. :math:`d_{ij} \le D`
(:math:`D` the coverage distance, in the distances' length unit), built sparse from one vectorised
comparison. :math:`N_i = \{j : a_{ij} = 1\}` is the cover set of demand point :math:`i`,
:math:`M_j = \{i : a_{ij} = 1\}` the set site :math:`j` covers.

Reductions (Toregas & ReVelle 1973; valid for the uncapacitated models, each keeps the optimal value):

* **identical rows** (:math:`N_i = N_k`) are one row; for the MCLP their weights are summed;
* **LSCP superset rows**: a row with :math:`N_k \subsetneq N_i` for another row :math:`k` is dropped
  (any cover of :math:`k` covers :math:`i`); MCLP rows with no cover or weight 0 are dropped;
* **dominated columns**: a site with :math:`M_j \subsetneq M_l` is dropped (swapping :math:`j` for
  :math:`l` covers at least as much); of identical columns the first is kept (ties kept once).

Rows and columns are reduced in turn until neither changes (a reduction of one can enable the other).
Containment is found without a loop over pairs: for a block of rows, the sparse product
:math:`A_{block} A^\top` counts :math:`|N_i \cap N_k|`, and :math:`N_i \subseteq N_k` exactly when
that count equals :math:`|N_i|`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import sparse

logger = logging.getLogger(__name__)

PRODUCT_BLOCK_NONZEROS = 4_000_000  # the sparse product is formed for blocks of rows of about this many entries
MAX_ROUNDS = 20
DENSE_SPEEDUP = 200  # a dense float32 product counts this many times faster than a sparse one (measured)


@dataclass(frozen=True)
class Cover:
    """A (reduced) coverage matrix: row ``r`` stands for the demand points ``row_of == r``, column
    ``c`` for the original site ``sites[c]``."""

    matrix: sparse.csr_array  # (n_rows, n_columns) 0/1, int8
    weight: np.ndarray  # (n_rows,) summed demand weight of each row
    sites: np.ndarray  # (n_columns,) original site index of each column
    row_of: np.ndarray  # (n_demand,) the row of each original demand point, −1 where it was dropped

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape


def cover_matrix(distance: np.ndarray, coverage_distance: float) -> sparse.csr_array:
    """(n_demand, n_sites) sparse 0/1 matrix :math:`a_{ij} = [d_{ij} \\le D]` (``inf`` never covers)."""
    return sparse.csr_array(np.asarray(distance) <= coverage_distance, dtype=np.int8)


def full_cover(distance: np.ndarray, coverage_distance: float, weight: np.ndarray | None = None) -> Cover:
    """The unreduced :class:`Cover` of ``distance`` at ``coverage_distance`` (weights 1 by default)."""
    matrix = cover_matrix(distance, coverage_distance)
    n_demand, n_sites = matrix.shape
    weight = np.ones(n_demand) if weight is None else np.asarray(weight, dtype=float)
    return Cover(matrix, weight, np.arange(n_sites), np.arange(n_demand))


def reduce_lscp(cover: Cover) -> Cover:
    """``cover`` with identical and superset rows and dominated columns removed, until stable (every
    row must have a site: see :func:`uncovered_points`)."""
    return _until_stable(cover, _lscp_rows)


def reduce_mclp(cover: Cover) -> Cover:
    """``cover`` with uncoverable and weight-0 rows dropped, identical rows merged (weights summed)
    and dominated columns removed, until stable."""
    return _until_stable(cover, _mclp_rows)


def uncovered_points(cover: Cover) -> np.ndarray:
    """The original demand points of ``cover`` that no column covers."""
    empty_rows = np.flatnonzero(np.diff(cover.matrix.indptr) == 0)
    return np.flatnonzero(np.isin(cover.row_of, empty_rows))


def _until_stable(cover: Cover, reduce_rows) -> Cover:
    """Rows (``reduce_rows``) and columns reduced in turn until the shape stops changing."""
    start_shape = cover.shape
    for _ in range(MAX_ROUNDS):
        before = cover.shape
        cover = _dominant_columns(reduce_rows(cover))
        if cover.shape == before:
            break
    logger.debug("cover reduced from %s to %s", start_shape, cover.shape)
    return cover


def _lscp_rows(cover: Cover) -> Cover:
    """Identical rows as one; rows that hold another row's cover set dropped."""
    cover = _merged_rows(cover)
    _, holds_smaller = containment(cover.matrix)
    return _kept_rows(cover, np.flatnonzero(~holds_smaller))


def _mclp_rows(cover: Cover) -> Cover:
    """Rows with no site or weight 0 dropped; identical rows merged, their weights summed."""
    useful = np.flatnonzero((np.diff(cover.matrix.indptr) > 0) & (cover.weight > 0))
    return _merged_rows(_kept_rows(cover, useful))


def _kept_rows(cover: Cover, kept: np.ndarray) -> Cover:
    """``cover`` with only the rows ``kept`` (in that order)."""
    if len(kept) == cover.shape[0]:
        return cover
    new_row = np.full(cover.shape[0] + 1, -1)
    new_row[kept] = np.arange(len(kept))
    return Cover(cover.matrix[kept], cover.weight[kept], cover.sites, new_row[cover.row_of])


def _merged_rows(cover: Cover) -> Cover:
    """Rows with the same cover set merged into the first of them, their weights summed."""
    first, group = unique_rows(cover.matrix)
    if len(first) == cover.shape[0]:
        return cover
    weight = np.bincount(group, weights=cover.weight, minlength=len(first))
    row_of = np.where(cover.row_of >= 0, group[np.maximum(cover.row_of, 0)], -1)
    return Cover(cover.matrix[first], weight, cover.sites, row_of)


def _dominant_columns(cover: Cover) -> Cover:
    """Columns that are a copy of an earlier column, or strictly inside another column, dropped."""
    columns = sparse.csr_array(cover.matrix.T)
    first, _ = unique_rows(columns)
    in_larger, _ = containment(columns[first])
    kept = np.sort(first[~in_larger])
    if len(kept) == cover.shape[1]:
        return cover
    return Cover(sparse.csr_array(cover.matrix[:, kept]), cover.weight, cover.sites[kept], cover.row_of)


def unique_rows(matrix: sparse.csr_array) -> tuple[np.ndarray, np.ndarray]:
    """(first, group): the first row of each distinct row pattern of a 0/1 matrix (ascending) and
    the group (index into ``first``) of every row; rows are compared as packed bit strings."""
    if matrix.shape[0] == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    packed = np.packbits(matrix.toarray().astype(bool), axis=1)
    keys = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, group = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first)  # number the groups by their first row
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[group.ravel()]


def containment(matrix: sparse.csr_array) -> tuple[np.ndarray, np.ndarray]:
    """For a 0/1 matrix with distinct rows: (in_larger, holds_smaller), whether each row's set is
    strictly inside another row's, and whether it strictly holds another row's (an empty row is
    inside every non-empty row). The counts come from a sparse product, or a dense one where that is
    cheaper (:data:`DENSE_SPEEDUP`)."""
    csr = sparse.csr_array(matrix, dtype=np.int32)
    n_rows, n_columns = csr.shape
    size = np.diff(csr.indptr)
    in_larger, holds_smaller = np.zeros(n_rows, dtype=bool), np.zeros(n_rows, dtype=bool)
    empty = size == 0
    if empty.any() and (~empty).any():
        in_larger |= empty
        holds_smaller |= ~empty
    work = csr @ np.bincount(csr.indices, minlength=n_columns).astype(np.int64)  # entries of each row's product
    dense = DENSE_SPEEDUP * float(work.sum()) > float(n_rows) * n_rows * n_columns
    other = csr.toarray().astype(np.float32).T if dense else sparse.csr_array(csr.T)
    for start, stop in _row_blocks(np.full(n_rows, n_rows) if dense else work):
        row, col = _inside_pairs(csr, start, stop, size, other)
        in_larger[row] = True
        holds_smaller[col] = True
    return in_larger, holds_smaller


def _inside_pairs(csr: sparse.csr_array, start: int, stop: int, size: np.ndarray, other):
    """(row, col): the pairs with row in ``start:stop`` whose set lies inside another row ``col``'s:
    :math:`|N_{row} \\cap N_{col}| = |N_{row}|`, from the product of the block with ``other``, the
    transpose: sparse, or dense float32 (exact below 2**24 columns)."""
    if isinstance(other, np.ndarray):
        counts = csr[start:stop].toarray().astype(np.float32) @ other
        row, col = np.nonzero(counts == size[start:stop, np.newaxis])
        row = row + start
    else:
        counts = sparse.coo_array(csr[start:stop] @ other)
        row, col = counts.row + start, counts.col
        hit = counts.data == size[row]
        row, col = row[hit], col[hit]
    inside = (row != col) & (size[row] > 0)
    return row[inside], col[inside]


def _row_blocks(work: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive row ranges whose ``work`` (product entries per row) sums to about
    ``PRODUCT_BLOCK_NONZEROS`` at most (one row at least)."""
    total = np.cumsum(work)
    last = total[-1] if len(total) else 0
    cuts = np.searchsorted(total, np.arange(PRODUCT_BLOCK_NONZEROS, last, PRODUCT_BLOCK_NONZEROS), side="right")
    edges = np.unique(np.concatenate([[0], cuts, [len(work)]]))
    return list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))
