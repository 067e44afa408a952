"""Shared by every benchmark reader: a file → whitespace tokens → numbers, the counts that open it,
the checks on its values, and its instance name.

Token rule (all formats): split the file on whitespace and convert each token with ``float()``, so
``7500.``, ``.00000``, ``+32.5`` and CRLF line endings need no special case; NUL bytes (padding
left by some copies) count as whitespace. The line layout is never relied on. Every error is an
:class:`~planner.errors.InputError` naming the file, the token or count, and what was expected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from planner.errors import InputError, read_input_bytes

logger = logging.getLogger(__name__)


def read_text(path: Path) -> str:
    """The text of ``path`` (bytes as latin-1, NUL bytes as spaces); InputError if it cannot be read."""
    text = read_input_bytes(path, "benchmark file", "planner bench").decode("latin-1")
    return text.replace("\x00", " ")


def read_tokens(path: Path) -> list[str]:
    """The whitespace-separated tokens of ``path`` (NUL bytes count as whitespace)."""
    tokens = read_text(path).split()
    if not tokens:
        raise InputError(f"{path}: file is empty")
    return tokens


def to_floats(tokens: list[str], path: Path, *, start: int = 0) -> np.ndarray:
    """``float()`` of every token; ``start`` is the position of ``tokens[0]`` in the file (for messages)."""
    try:
        return np.array([float(token) for token in tokens], dtype=float)
    except ValueError:
        for position, token in enumerate(tokens, start=start + 1):
            try:
                float(token)
            except ValueError:
                raise InputError(
                    f"{path}: token {position} is {token[:20]!r}, not a number (every token of the file must be one)"
                ) from None
        raise  # pragma: no cover - unreachable: some token failed above


def to_count(token: str, path: Path, what: str, *, minimum: int = 1) -> int:
    """A header token that must be an integer ≥ ``minimum`` (``"16"`` or ``"16."``)."""
    try:
        value = float(token)
    except ValueError:
        raise InputError(f"{path}: {what} is {token[:20]!r}, not a number") from None
    if not value.is_integer() or value < minimum:
        raise InputError(f"{path}: {what} is {token}, expected an integer ≥ {minimum}")
    return int(value)


def header_counts(
    tokens: list[str], path: Path, header: str, counts: Sequence[str], *, n_header: int | None = None,
    minimum: Sequence[int] | None = None,
) -> list[int]:
    """The counts that open a file: ``counts[i]`` says what token i is (``"the number of customers n
    (token 2)"``) and ``minimum[i]`` its least value (1 by default). ``header`` describes the
    ``n_header`` tokens of the header (default: one per count), for the error when there are fewer."""
    n_header = len(counts) if n_header is None else n_header
    if len(tokens) < n_header:
        found = f"{len(tokens)} token" + ("" if len(tokens) == 1 else "s")
        raise InputError(f"{path}: expected {header}, found {found}")
    least = [1] * len(counts) if minimum is None else list(minimum)
    return [to_count(tokens[i], path, counts[i], minimum=least[i]) for i in range(len(counts))]


def check_token_count(tokens: list[str], expected: int, path: Path, layout: str) -> None:
    """Raise InputError unless the file has exactly ``expected`` tokens."""
    if len(tokens) != expected:
        raise InputError(f"{path}: expected {expected} numbers for {layout}, found {len(tokens)}")


def read_sites_customers(path: Path, sites: str, n_tokens: Callable[[int, int], int]) -> tuple[list[str], int, int]:
    """The tokens of a file that opens with ``m n`` (m ``sites``, e.g. ``"warehouses"``, and n
    customers) and has exactly ``n_tokens(m, n)`` tokens; also m and n."""
    tokens = read_tokens(path)
    n_sites, n_customers = header_counts(
        tokens, path, f"a header 'm n' ({sites}, customers)",
        [f"the number of {sites} m (token 1)", "the number of customers n (token 2)"],
    )
    check_token_count(tokens, n_tokens(n_sites, n_customers), path, f"{n_sites} {sites} × {n_customers} customers")
    return tokens, n_sites, n_customers


def check_values(values: np.ndarray, path: Path, what: str, *, positive: bool = False) -> None:
    """Raise InputError if ``values`` has a non-finite or negative (or, if ``positive``, zero) entry."""
    bad = ~np.isfinite(values) | (values <= 0 if positive else values < 0)
    if bad.any():
        first = int(np.flatnonzero(bad.ravel())[0])
        need = "positive" if positive else "finite and ≥ 0"
        raise InputError(
            f"{path}: {np.count_nonzero(bad)} {what} are not {need} "
            f"(first: entry {first + 1} = {values.ravel()[first]})"
        )


def check_dense_values(
    path: Path, *, opening_cost: np.ndarray, total_cost: np.ndarray, capacity: np.ndarray | None = None,
    demand: np.ndarray | None = None, positive_demand: bool = False,
) -> None:
    """The numbers of a dense facility-location instance, in this order: capacities (if given) and
    opening costs finite and ≥ 0, demands (if given) ≥ 0 or, with ``positive_demand``, > 0, costs
    ``c_ij`` finite and ≥ 0."""
    if capacity is not None:
        check_values(capacity, path, "capacities")
    check_values(opening_cost, path, "opening costs")
    if demand is not None:
        check_values(demand, path, "demands", positive=positive_demand)
    check_values(total_cost, path, "costs c_ij")


def instance_name(path: Path) -> str:
    """The instance name of a benchmark file: its file name without a ``.txt`` suffix
    (``cap41.txt`` → ``cap41``, ``B1.10`` → ``B1.10``: names may contain dots)."""
    name = Path(path).name
    return name[: -len(".txt")] if name.lower().endswith(".txt") else name
