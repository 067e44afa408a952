r"""Shared by every benchmark reader: whitespace tokens → floats, and a dense cost matrix → Problem.

Token rule (all formats): split the file on whitespace and convert each token with ``float()``, so
``7500.``, ``.00000``, ``+32.5`` and CRLF line endings need no special case; NUL bytes (padding
left by some copies) count as whitespace. The line layout is never relied on.

Mapping of a facility-location instance with :math:`m` facilities and :math:`n` customers onto
:class:`planner.problem.Problem` (:func:`problem_from_costs`):

* site :math:`i` = one option (type ``"facility"``), opening cost :math:`f_i`, one module of
  capacity :math:`s_i` (``np.inf`` when uncapacitated), ``min_modules = max_modules = 1``;
* customer :math:`j` = one region with demand :math:`d_j` of the one product ``"demand"``, which
  must be served (``unmet_penalty = inf``, no delivery radius);
* every pair :math:`(i, j)` is an arc with unit cost :math:`c_{ij} / d_j` in
  ``arc_production_cost`` (transport and CO2 zero), where :math:`c_{ij}` is the cost of serving
  **all** of :math:`j`'s demand from :math:`i`. The model's flow cost
  :math:`(c_{ij}/d_j) \cdot d_j \cdot x_{ij} = c_{ij} x_{ij}` is the benchmark's cost term.

Ids are the 1-based labels of the files, as strings (``"1"`` … ``"m"``, ``"1"`` … ``"n"``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from planner.errors import InputError
from planner.problem import Problem

logger = logging.getLogger(__name__)

PRODUCT = "demand"
FACILITY_TYPE = "facility"


def read_text(path: Path) -> str:
    """The text of ``path`` (bytes as latin-1, NUL bytes as spaces); InputError if it cannot be read."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("latin-1")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a benchmark file") from None
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from None
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


def check_token_count(tokens: list[str], expected: int, path: Path, layout: str) -> None:
    """Raise InputError unless the file has exactly ``expected`` tokens."""
    if len(tokens) != expected:
        raise InputError(f"{path}: expected {expected} numbers for {layout}, found {len(tokens)}")


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


def instance_name(path: Path) -> str:
    """The instance name of a benchmark file: its file name without a ``.txt`` suffix
    (``cap41.txt`` → ``cap41``, ``B1.10`` → ``B1.10``: names may contain dots)."""
    name = Path(path).name
    return name[: -len(".txt")] if name.lower().endswith(".txt") else name


def labels(count: int) -> np.ndarray:
    """The 1-based labels ``"1"`` … ``str(count)`` as a numpy string array."""
    return np.arange(1, count + 1).astype(str)


def problem_from_costs(
    name: str,
    *,
    opening_cost: np.ndarray,
    capacity: np.ndarray,
    demand: np.ndarray,
    total_cost: np.ndarray,
    single_sourcing: bool = False,
    distance_km: np.ndarray | None = None,
    min_facilities: int = 0,
    max_facilities: int | None = None,
) -> Problem:
    r"""The Problem of a dense instance: ``total_cost[i, j]`` = :math:`c_{ij}`, the cost of serving all
    of customer ``j``'s ``demand[j]`` (> 0) from facility ``i``; ``capacity[i]`` may be ``np.inf``.

    Pairs whose cost is infinite (unreachable, e.g. a disconnected graph) get no arc.
    """
    opening_cost = np.asarray(opening_cost, dtype=float)
    capacity = np.asarray(capacity, dtype=float)
    demand = np.asarray(demand, dtype=float)
    total_cost = np.asarray(total_cost, dtype=float)
    n_sites, n_customers = total_cost.shape
    if opening_cost.shape != (n_sites,) or capacity.shape != (n_sites,) or demand.shape != (n_customers,):
        raise ValueError(
            f"shapes disagree: costs {total_cost.shape}, opening {opening_cost.shape}, "
            f"capacity {capacity.shape}, demand {demand.shape}"
        )
    if (demand <= 0).any():
        raise ValueError("every customer needs positive demand; map zero demand before calling")

    unit_cost = (total_cost / demand[np.newaxis, :]).ravel()
    arc_option = np.repeat(np.arange(n_sites), n_customers)
    arc_region = np.tile(np.arange(n_customers), n_sites)
    distance = np.zeros(n_sites * n_customers) if distance_km is None else np.asarray(distance_km, float).ravel()
    keep = np.isfinite(unit_cost)
    if not keep.all():
        arc_option, arc_region, unit_cost, distance = (
            arc_option[keep],
            arc_region[keep],
            unit_cost[keep],
            distance[keep],
        )
    n_arcs = len(arc_option)
    ones = np.ones(n_sites, dtype=int)
    problem = Problem(
        name=name,
        region_ids=labels(n_customers),
        product_ids=(PRODUCT,),
        type_ids=(FACILITY_TYPE,),
        site_ids=labels(n_sites),
        demand=demand.reshape(n_customers, 1).copy(),
        unmet_penalty=np.array([np.inf]),
        max_distance_km=np.array([np.inf]),
        option_site=np.arange(n_sites),
        option_type=np.zeros(n_sites, dtype=int),
        opening_cost=opening_cost.copy(),
        module_cost=np.zeros(n_sites),
        module_capacity=capacity.copy(),
        min_modules=ones,
        max_modules=ones.copy(),
        capex=np.zeros(n_sites),
        capex_per_module=np.zeros(n_sites),
        forced=np.zeros(n_sites, dtype=bool),
        arc_option=arc_option,
        arc_region=arc_region,
        arc_product=np.zeros(n_arcs, dtype=int),
        arc_distance_km=distance,
        arc_production_cost=unit_cost,
        arc_transport_cost=np.zeros(n_arcs),
        arc_co2_t=np.zeros(n_arcs),
        single_sourcing=single_sourcing,
        min_facilities=min_facilities,
        max_facilities=max_facilities,
    )
    logger.debug("%s: %d sites × %d customers, %d arcs", name, n_sites, n_customers, n_arcs)
    return problem
