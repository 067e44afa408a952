r"""UflLib uncapacitated facility location (M. Hoefer), and OR-Library ``cap`` files read as UFL.

Two layouts, told apart by the first token:

* **"Simple" format** (Bilde–Krarup, Galvão–Raggi, …)::

      FILE: name             # the header: its first line, or 'FILE:' and the name where the numbers were
                             # wrapped onto that line (the line layout is not relied on)
      n m 0                  # n facilities, m customers, an unused 0
      i f_i c_i1 … c_im      # n times: 1-based label, opening cost, cost of serving customer j

  The rows are placed by their label, so their order does not matter.
* **OR-Library layout** (M instances ``MO1`` … ``MO5``, and ``cap41`` … ``capa`` as uncapacitated
  rows ``cap71``/``ufl``): see :mod:`planner.formats.orlib_cap`. Capacities and demands are
  **ignored**.

Model (uncapacitated facility location):

.. math::
    \min \sum_i f_i y_i + \sum_{ij} c_{ij} x_{ij}
    \quad\text{s.t.}\quad \sum_i x_{ij} = 1,\; x_{ij} \le y_i,\; y \in \{0,1\},\; x \ge 0

Since demand plays no part, every customer gets demand 1 and unit cost :math:`c_{ij}`, so the
model's flow cost is exactly :math:`c_{ij} x_{ij}`; capacities are ``np.inf``.

``.opt`` files (:func:`read_ufl_opt`): for each customer the **0-based** index of the facility
serving it, then the objective (sometimes printed rounded to 6 significant digits;
:func:`assignment_cost` recomputes the exact value).

Cite: M. Hoefer, UflLib, MPI Informatik; Bilde & Krarup (1977); Galvão & Raggi (1989);
Kratica, Tošić, Filipović & Ljubić (2001) for the M instances.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from planner.errors import InputError
from planner.formats.dense import problem_from_costs
from planner.formats.orlib_cap import parse_orlib_cap
from planner.formats.tokens import (
    after_first_line,
    check_dense_values,
    check_table_fits,
    check_token_count,
    header_counts,
    instance_name,
    name_line_tokens,
    read_text,
    read_tokens,
    to_floats,
)
from planner.problem import Problem

logger = logging.getLogger(__name__)

HEADER = "FILE:"


@dataclass(frozen=True)
class UflOpt:
    """A UflLib ``.opt`` file: the serving facility of each customer (0-based) and the printed objective."""

    assignment: np.ndarray  # (n,) int, 0-based facility index
    objective: float


def read_uflib(path: Path) -> Problem:
    """The UFL instance of a UflLib file (simple format) or an OR-Library layout file (capacities and
    demands ignored), named after the file (``B1.1``, ``MO1``, ``cap71``)."""
    path = Path(path)
    text = read_text(path)
    tokens = text.split()
    if text.lstrip().upper().startswith(HEADER) and not _orlib_after_name_line(text):
        header_tokens = _header_length(text, tokens)
        opening_cost, total_cost = _parse_simple(tokens[header_tokens:], path, header_tokens=header_tokens,
                                                 name_line=name_line_tokens(text))
        layout = "simple"
    elif _simple_without_header(tokens):
        logger.warning("%s: read as the UflLib simple format ('n m 0', then 'i f_i c_i1 … c_im' per facility with "
                       "labels 1 … n), which its layout fits, although its 'FILE:' line is missing", path)
        opening_cost, total_cost = _parse_simple(tokens, path, header_tokens=0)
        layout = "simple, no FILE: line"
    else:
        data = parse_orlib_cap(path, ignore_capacity=True)
        opening_cost, total_cost = data.opening_cost, data.total_cost
        layout = "OR-Library"
    n_sites, n_customers = total_cost.shape
    logger.info("read %s (%s layout): %d facilities × %d customers", path.name, layout, n_sites, n_customers)
    return problem_from_costs(
        instance_name(path),
        source=path,
        opening_cost=opening_cost,
        capacity=np.full(n_sites, np.inf),
        demand=np.ones(n_customers),
        total_cost=total_cost,
    )


def _header_length(text: str, tokens: list[str]) -> int:
    """How many tokens the ``FILE:`` header has: its first line's, or ``FILE:`` and a name (two tokens, or
    one written ``FILE:name``) where the rest fits the simple layout only so (a copy whose numbers were
    wrapped onto the header's line had been read from the wrong place)."""
    first_line = len(text.lstrip().replace("\r", "\n").partition("\n")[0].split())
    for length in (first_line, 2 if tokens[0].upper() == HEADER else 1):
        if _simple_without_header(tokens[length:]):
            return length
    return first_line  # fits neither: the errors are those of the first line's reading


def _parse_simple(tokens: list[str], path: Path, *, header_tokens: int, name_line: int = 0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Opening costs (n,) and costs (n, m) of a simple-format file; ``tokens`` follow the ``FILE:``
    header, which has ``header_tokens`` tokens, and the file's first line ``name_line`` tokens that
    :func:`planner.formats.tokens.read_tokens` leaves out (for places in messages)."""
    n_sites, n_customers = header_counts(
        tokens, path, "'n m 0' (facilities, customers, 0) after the FILE: line",
        ["the number of facilities n (line 2)", "the number of customers m (line 2)"], n_header=3,
    )
    if _number(tokens[2]) != 0:  # '3 5 9' or '3 5 abc' had passed unnoticed: a header other than the layout's
        raise InputError(f"{path}: the third number after the FILE: line (token {header_tokens + 3}) is "
                         f"{tokens[2][:20]!r}; the simple layout has 'n m 0' there")
    check_token_count(tokens, 3 + n_sites * (2 + n_customers), path, f"{n_sites} facilities × {n_customers} customers",
                      start=header_tokens - name_line)
    check_table_fits(path, n_sites, n_customers, "cost")
    rows = to_floats(tokens[3:], path, start=header_tokens - name_line + 3).reshape(n_sites, 2 + n_customers)
    label = rows[:, 0]
    expected = np.arange(1, n_sites + 1)
    if not np.array_equal(np.sort(label), expected):
        raise InputError(
            f"{path}: facility labels must be 1 … {n_sites}, each once; found {_describe(label, expected)}"
        )
    order = np.argsort(label, kind="stable")
    opening_cost = rows[order, 1]
    total_cost = rows[order, 2:]
    first = header_tokens - name_line + 3 + order * (2 + n_customers)  # the place before each row's label
    check_dense_values(path, opening_cost=opening_cost, total_cost=total_cost, places={
        "opening costs": lambda i: int(first[i]) + 2,
        "costs c_ij": lambda k: int(first[k // n_customers]) + 3 + k % n_customers})
    return opening_cost, total_cost


def _orlib_after_name_line(text: str) -> bool:
    """Whether the lines after a ``FILE:`` line fit the OR-Library layout exactly ('m n', m lines
    'capacity cost', then per customer its demand and m costs) and not the simple one's count (an M
    instance with a name line), and its next line is not the simple layout's 'n m 0' (a simple file with a
    wrong customer count had fitted the OR-Library count by chance and was solved as that, exit 0)."""
    rest = after_first_line(text)
    tokens = rest.split()
    next_line = rest.strip().replace("\r", "\n").partition("\n")[0].split()
    if len(next_line) == 3 and _number(next_line[2]) == 0:
        return False
    try:
        m, n = float(tokens[0]), float(tokens[1])
    except (ValueError, IndexError):
        return False
    fits = m.is_integer() and n.is_integer() and m >= 1 and n >= 1 and len(tokens) == 2 + 2 * m + n * (1 + m)
    return fits and len(tokens) != 3 + m * (2 + n)  # 'n m 0' and rows 'i f_i c_i1 … c_im' would count as many


def _number(token: str) -> float:
    """``token`` as a number; NaN where it is none."""
    try:
        return float(token)
    except ValueError:
        return math.nan


def _simple_without_header(tokens: list[str]) -> bool:
    """Whether ``tokens`` fit the simple format exactly: 'n m 0', then n rows of 2 + m numbers whose first
    is a label, the labels 1 … n each once (an OR-Library layout file has its fixed costs there)."""
    try:
        sites, customers, zero = float(tokens[0]), float(tokens[1]), float(tokens[2])  # '8.' is a count too
    except (ValueError, IndexError):
        return False
    if not (sites.is_integer() and customers.is_integer()):
        return False
    n_sites, n_customers = int(sites), int(customers)
    if zero != 0 or n_sites < 1 or n_customers < 1 or len(tokens) != 3 + n_sites * (2 + n_customers):
        return False
    labels = tokens[3::2 + n_customers]
    try:
        return sorted(float(label) for label in labels) == list(range(1, n_sites + 1))
    except ValueError:
        return False


def _describe(label: np.ndarray, expected: np.ndarray) -> str:
    """Which labels are wrong (missing or unexpected), for an error message."""
    unexpected = np.setdiff1d(label, expected)
    missing = np.setdiff1d(expected, label)
    values, counts = np.unique(label, return_counts=True)
    repeated = values[counts > 1]
    parts = []
    if len(unexpected):
        parts.append(f"unexpected {', '.join(f'{x:g}' for x in unexpected[:5])}")
    if len(repeated):
        parts.append(f"repeated {', '.join(f'{x:g} (rows {_rows_of(label, x)})' for x in repeated[:5])}")
    if len(missing):
        parts.append(f"missing {', '.join(f'{x:g}' for x in missing[:5])}")
    return "; ".join(parts) or "duplicates"


def _rows_of(label: np.ndarray, value: float) -> str:
    """The 1-based facility rows (after the 'n m 0' line) that carry ``value``, e.g. '1 and 2'."""
    rows = [str(row + 1) for row in np.flatnonzero(label == value)[:5]]
    return ", ".join(rows[:-1]) + f" and {rows[-1]}"


def read_ufl_opt(path: Path) -> UflOpt:
    """Read a UflLib ``.opt`` file: n 0-based facility indices (one per customer), then the objective."""
    path = Path(path)
    tokens = read_tokens(path)
    if len(tokens) < 2:
        raise InputError(
            f"{path}: expected the serving facility of each customer, then the objective; found {len(tokens)} token"
        )
    values = to_floats(tokens, path)
    assignment = values[:-1]
    if not (np.all(np.isfinite(assignment)) and np.all(assignment == np.round(assignment)) and assignment.min() >= 0):
        raise InputError(f"{path}: the facility indices must be integers ≥ 0 (0-based)")
    return UflOpt(assignment=assignment.astype(int), objective=float(values[-1]))


def assignment_cost(problem: Problem, assignment: np.ndarray) -> float:
    r"""Cost of serving customer ``j`` from facility ``assignment[j]`` (0-based site positions):
    :math:`\sum_{i \text{ used}} f_i + \sum_j c_{i(j) j}`. For dense single-product problems built by
    :mod:`planner.formats` (one option per site, arcs ordered site-major)."""
    assignment = np.asarray(assignment, dtype=int)
    n_sites, n_customers = problem.n_options, problem.n_regions
    if assignment.shape != (n_customers,):
        raise InputError(f"{problem.name}: the assignment has {assignment.size} entries for {n_customers} customers")
    if assignment.min() < 0 or assignment.max() >= n_sites:
        raise InputError(f"{problem.name}: facility indices must be 0 … {n_sites - 1}; found {assignment.max()}")
    if problem.n_arcs != n_sites * n_customers:
        raise InputError(f"{problem.name}: not a dense instance ({problem.n_arcs} arcs for {n_sites} × {n_customers})")
    arc_cost = (problem.arc_unit_cost * problem.arc_demand).reshape(n_sites, n_customers)
    served = arc_cost[assignment, np.arange(n_customers)].sum()
    return float(problem.opening_cost[np.unique(assignment)].sum() + served)


def opt_path(path: Path) -> Path:
    """The ``.opt`` file next to a UflLib instance file."""
    path = Path(path)
    return path.with_name(path.name + ".opt")
