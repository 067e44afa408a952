r"""Seeded generators of facility-location instances, written in the published file formats so that
``planner bench FORMAT FILE`` reads them unchanged (the point: develop on families, not on the files
of a benchmark library; see issue 14).

Families, each a pure function of its sizes, class and ``seed`` (``numpy.random.default_rng``):

``cflp``: capacitated, after Cornuéjols, Sridharan & Thizy (1991), "A comparison of heuristics and
    relaxations for the capacitated plant location problem", EJOR 50, 280–297 — the generator behind
    most CFLP test sets (Klose & Görtz 2007, Avella & Boccia 2009, Fischetti, Ljubić & Sinnl 2016):

    * facilities and customers uniform in the unit square;
    * demand :math:`d_j \sim U[5, 35]` (integer);
    * capacity :math:`s_i \sim U[10, 160]`, fixed cost :math:`f_i = U[0, 90] + U[100, 110]\sqrt{s_i}`
      (economies of scale: drawn with the capacity before it is rescaled, as those papers read it);
    * the capacities are then rescaled by one factor so that :math:`\sum_i s_i = r \sum_j d_j`
      (the capacity ratio :math:`r`: classes 3, 5, 10, and the tight 2);
    * :math:`c_{ij} = 10 \cdot \lVert p_i - q_j \rVert \cdot d_j`, the cost of serving **all** of
      :math:`j`'s demand from :math:`i` (the OR-Library convention).

    Written in the OR-Library ``cap`` layout (``planner bench cap FILE``) with numeric capacities.

``sscflp``: single-source capacitated, of the Holmberg type — Holmberg, Rönnqvist & Yuan (1999),
    "An exact algorithm for the capacitated facility location problems with single sourcing", EJOR
    113, 544–559 (p1 … p71: 10–30 facilities × 50–200 customers). Their generator is not stored here;
    this module's reading of ``../shared/benchmarks/sscflp`` p1–p24 (costs look planar: 9 … 850,
    not scaled by demand):

    * facilities and customers uniform in :math:`[0, 600]^2`, :math:`c_{ij}` the rounded Euclidean
      distance (the cost of serving all of :math:`j` from :math:`i`);
    * demand :math:`d_j \sim U\{10, …, 50\}`;
    * capacity :math:`s_i \sim U[100, 400]`, rescaled so that :math:`\sum_i s_i = r \sum_j d_j` and
      rounded (p1–p24: r 1.7 … 3.5; ``--ratio``), fixed cost :math:`U[300, 700] \cdot s_i / \bar s`
      rounded.

    Written in the Holmberg layout (facility-major costs; ``planner bench sscflp FILE``).

``ufl-kratica``: the Kratica type — Kratica, Tošić, Filipović & Ljubić (2001), "Solving the simple
    plant location problem by genetic algorithm", RAIRO-OR 35, 127–142, the UflLib "M" instances
    MO/MP/MQ/MR/MS/MT (100 … 2000 facilities = customers), built to have many near-optimal solutions.
    The construction could not be found in a stored copy of the paper; it was read off the five MO
    files in ``../shared/benchmarks/uflib/M/O`` (this module's reading, checked on all five):

    * demand :math:`d_j \in \{1, …, 5\}` uniform (integers);
    * :math:`c_{ij} = d_j \cdot U[2, 10]`, independent (no geometry: files agree to 4 decimals);
    * :math:`f_i = 50 + 250 \cdot (S_{max} - S_i) / (S_{max} - S_{min})` with :math:`S_i = \sum_j c_{ij}`,
      so that a facility cheap to serve from is dear to open (correlation −1.000 in every MO file),
      exactly one facility at 50 and one at 300 — the source of the many near-optimal solutions;
    * capacities 0 (ignored: UFL), numbers printed with 6 significant digits.

    Written in the OR-Library layout, like the M files (``planner bench ufl FILE``).

``ufl-kg``: the Körkel–Ghosh type — Körkel (1989), EJOR 39, 157–173; Ghosh (2003), "Neighborhood
    search heuristics for the uncapacitated facility location problem", EJOR 150, 150–162 (UflLib
    ``ga``/``gs`` 250 … 750): :math:`c_{ij} \sim U[1000, 2000]` and :math:`f_i \sim U[100, 200]` (class
    A), :math:`U[1000, 2000]` (B) or :math:`U[10000, 20000]` (C), all integers; ``--symmetric`` (square
    sizes only) mirrors the costs (:math:`c_{ij} = c_{ji}`, Ghosh's ``gs`` instances). Written in the
    UflLib "simple" format (``planner bench ufl FILE``).

``coverage-square`` / ``coverage-clustered``: demand points and candidate sites for the classic
    covering models (``planner bench pcenter|mclp|lscp FILE``), written in the planner's ``POINTS``
    format (:mod:`planner.formats.points`): ``--n-customers`` demand points with integer weights
    :math:`w_i \sim U\{1, …, 100\}` and ``--n-facilities`` candidate sites, integer coordinates in the
    square :math:`[0, 1000]^2` (length units); sites always uniform, demand points uniform
    (``square``) or in 10 Gaussian clusters (``clustered``: centres uniform, standard deviation 50,
    clipped to the square), :math:`d_{ij}` Euclidean. ``p`` (default: sites / 20, at least 2) is
    written in the file. Two coverage distances make non-trivial instances and are printed (one
    decimal): for the MCLP :math:`1000 \sqrt{0.5 / (p \pi)}` (p discs could cover half the square,
    so part of the demand stays uncovered), for the LSCP :math:`2.5 \max_i \min_j d_{ij}` rounded up
    (every point coverable; some 10 to 30 sites needed).

``pmed-graph``: the p-median graphs of Beasley (1985), "A note on solving large p-median problems",
    EJOR 21, 270–273 (OR-Library ``pmed1`` … ``pmed40``): a random connected undirected graph on
    ``--n-vertices`` n vertices with :math:`n^2 / 50` edges (the pmed sizes: 100 → 200, 200 → 800,
    …, 900 → 16,200; at least n − 1), integer lengths :math:`U\{1, …, 100\}`. Connected by
    construction: a random spanning tree (each vertex, in a random order, joined to a uniformly drawn
    earlier one), then distinct extra pairs drawn without replacement from the pairs not in the tree
    (no self-loops, no pair twice); the edges are listed in a random order. Every vertex is a demand
    point (weight 1) and a candidate site, distances are shortest paths. Written in the OR-Library
    ``pmed`` layout with the given ``--p`` (``planner bench pmed|pcenter FILE``). Unlike the
    OR-Library files (among its 200 edge lines pmed1 lists 2 pairs more than once, pmed20 55 among
    3,200; the last listing counts), every pair is listed once: the n² / 50 edges are all distinct.

Usage::

    python benchmarks/generate.py cflp --n-facilities 100 --n-customers 1000 --ratio 5 --seed 1 --out cflp.txt
    python benchmarks/generate.py sscflp --n-facilities 30 --n-customers 150 --ratio 1.5 --seed 1 --out ss.txt
    python benchmarks/generate.py ufl-kratica --n-facilities 200 --seed 1 --out mp.txt
    python benchmarks/generate.py ufl-kg --n-facilities 200 --fixed-class b --seed 1 --out kg.txt
    python benchmarks/generate.py coverage-clustered --n-facilities 500 --n-customers 5000 --seed 1 --out cov.txt
    python benchmarks/generate.py pmed-graph --n-vertices 500 --p 50 --seed 1 --out pmed.txt

The same arguments give the same bytes (a test checks it).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.distance import cdist

FAMILIES = ("cflp", "sscflp", "ufl-kratica", "ufl-kg", "coverage-square", "coverage-clustered", "pmed-graph")
CFLP_RATIOS = (2.0, 3.0, 5.0, 10.0)
COVERAGE_SIDE = 1000.0  # the side of the square of the coverage families, length units
COVERAGE_CLUSTERS = 10
COVERAGE_CLUSTER_SD = 50.0  # standard deviation of a cluster, length units
KG_FIXED_COST = {"a": (100, 200), "b": (1000, 2000), "c": (10000, 20000)}
COSTS_PER_LINE = 7  # the OR-Library files wrap the costs of a customer over lines of 7
PMED_EDGE_DIVISOR = 50  # Beasley's pmed graphs have n² / 50 edges
PMED_MAX_LENGTH = 100  # edge lengths uniform in 1 … 100


@dataclass(frozen=True)
class DenseInstance:
    """A generated instance: ``total_cost[i, j]`` is the cost of serving all of customer ``j`` from
    facility ``i``; ``capacity`` is 0 where the instance is uncapacitated."""

    name: str
    capacity: np.ndarray  # (m,)
    opening_cost: np.ndarray  # (m,)
    demand: np.ndarray  # (n,)
    total_cost: np.ndarray  # (m, n)

    @property
    def capacity_ratio(self) -> float:
        """Total capacity / total demand (0 for an uncapacitated instance)."""
        return float(self.capacity.sum() / self.demand.sum())


@dataclass(frozen=True)
class PointsInstance:
    """A generated covering instance: demand points with weights and candidate sites in the square
    (integer coordinates, length units), and the p it was made for."""

    name: str
    demand_xy: np.ndarray  # (n, 2)
    weight: np.ndarray  # (n,) integer weights 1 … 100
    site_xy: np.ndarray  # (m, 2)
    p: int

    def distance(self) -> np.ndarray:
        """(n, m) Euclidean distances, as ``planner.formats.points`` computes them from the file."""
        return cdist(self.demand_xy, self.site_xy)

    @property
    def mclp_coverage(self) -> float:
        """A coverage distance for the MCLP at which p discs could cover half the square."""
        return round(COVERAGE_SIDE * math.sqrt(0.5 / (self.p * math.pi)), 1)

    @property
    def lscp_coverage(self) -> float:
        """A coverage distance for the LSCP: 2.5 × the farthest nearest-site distance, rounded up."""
        return math.ceil(25.0 * float(np.max(np.min(self.distance(), axis=1)))) / 10.0


@dataclass(frozen=True)
class GraphInstance:
    """A generated p-median graph: undirected edges (0-based vertex ids, each pair once, no loops), their
    integer lengths, and the p it was made for."""

    name: str
    n_vertices: int
    ends: np.ndarray  # (ne, 2) 0-based vertex ids
    length: np.ndarray  # (ne,) integer lengths 1 … 100
    p: int


# generators -----------------------------------------------------------------------------------------
def cflp_instance(n_facilities: int, n_customers: int, ratio: float, seed: int) -> DenseInstance:
    """A capacitated instance after Cornuéjols, Sridharan & Thizy (1991): see the module docstring."""
    if ratio <= 1:
        raise ValueError(f"capacity ratio {ratio:g} must exceed 1 (total capacity / total demand)")
    rng = np.random.default_rng(seed)
    sites = rng.uniform(0.0, 1.0, size=(n_facilities, 2))
    customers = rng.uniform(0.0, 1.0, size=(n_customers, 2))
    demand = rng.integers(5, 36, size=n_customers).astype(float)
    drawn = rng.uniform(10.0, 160.0, size=n_facilities)
    opening_cost = rng.uniform(0.0, 90.0, n_facilities) + rng.uniform(100.0, 110.0, n_facilities) * np.sqrt(drawn)
    capacity = drawn * (ratio * demand.sum() / drawn.sum())
    distance = np.linalg.norm(sites[:, np.newaxis, :] - customers[np.newaxis, :, :], axis=2)
    name = f"cflp-{n_facilities}x{n_customers}-r{ratio:g}-s{seed}"
    return DenseInstance(name, capacity, opening_cost, demand, 10.0 * distance * demand[np.newaxis, :])


def holmberg_instance(n_facilities: int, n_customers: int, ratio: float, seed: int) -> DenseInstance:
    """A single-source instance of the Holmberg type: see the module docstring."""
    rng = np.random.default_rng(seed)
    facilities, customers = rng.uniform(0, 600, (n_facilities, 2)), rng.uniform(0, 600, (n_customers, 2))
    total_cost = np.rint(cdist(facilities, customers))
    demand = rng.integers(10, 51, n_customers).astype(float)
    drawn = rng.uniform(100, 400, n_facilities)
    capacity = np.rint(drawn * ratio * demand.sum() / drawn.sum())
    opening_cost = np.rint(rng.uniform(300, 700, n_facilities) * capacity / capacity.mean())
    name = f"holmberg-{n_facilities}x{n_customers}-r{ratio:g}-s{seed}"
    return DenseInstance(name, capacity, opening_cost, demand, total_cost)


def format_holmberg(instance: DenseInstance) -> str:
    """The Holmberg layout: ``m n``; m lines ``s_i f_i``; the n demands; m lines of n costs (facility-major)."""
    def whole(values) -> str:
        return " ".join(str(int(value)) for value in values)

    lines = [f"{len(instance.opening_cost)} {len(instance.demand)}"]
    lines += [whole(pair) for pair in zip(instance.capacity, instance.opening_cost, strict=True)]
    lines.append(whole(instance.demand))
    lines += [whole(row) for row in instance.total_cost]
    return "\n".join(lines) + "\n"


def kratica_instance(n_facilities: int, seed: int, n_customers: int | None = None) -> DenseInstance:
    """A UFL instance of the Kratica "M" type (MO … MT): see the module docstring for the reading."""
    n_customers = n_facilities if n_customers is None else n_customers
    rng = np.random.default_rng(seed)
    demand = rng.integers(1, 6, size=n_customers).astype(float)
    total_cost = _round_significant(demand[np.newaxis, :] * rng.uniform(2.0, 10.0, size=(n_facilities, n_customers)))
    served = total_cost.sum(axis=1)
    spread = max(served.max() - served.min(), 1e-12)
    opening_cost = _round_significant(50.0 + 250.0 * (served.max() - served) / spread)
    name = f"kratica-{n_facilities}x{n_customers}-s{seed}"
    return DenseInstance(name, np.zeros(n_facilities), opening_cost, demand, total_cost)


def korkel_ghosh_instance(
    n_facilities: int, fixed_class: str, seed: int, n_customers: int | None = None, symmetric: bool = False
) -> DenseInstance:
    """A UFL instance of the Körkel–Ghosh type: costs U[1000, 2000], fixed costs by class a/b/c."""
    n_customers = n_facilities if n_customers is None else n_customers
    if fixed_class not in KG_FIXED_COST:
        raise ValueError(f"fixed-cost class {fixed_class!r}; use one of {', '.join(KG_FIXED_COST)}")
    if symmetric and n_customers != n_facilities:
        raise ValueError(f"symmetric costs need as many customers as facilities ({n_customers} ≠ {n_facilities})")
    rng = np.random.default_rng(seed)
    total_cost = rng.integers(1000, 2001, size=(n_facilities, n_customers)).astype(float)
    if symmetric:
        total_cost = np.triu(total_cost) + np.triu(total_cost, 1).T
    low, high = KG_FIXED_COST[fixed_class]
    opening_cost = rng.integers(low, high + 1, size=n_facilities).astype(float)
    kind = "gs" if symmetric else "ga"
    name = f"kg-{kind}{n_facilities}x{n_customers}{fixed_class}-s{seed}"
    return DenseInstance(name, np.zeros(n_facilities), opening_cost, np.ones(n_customers), total_cost)


def coverage_instance(n_sites: int, n_demand: int, seed: int, clustered: bool = False,
                      p: int | None = None) -> PointsInstance:
    """Demand points and sites for the covering models (``coverage-square`` / ``-clustered``: see the
    module docstring)."""
    rng = np.random.default_rng(seed)
    sites = rng.integers(0, int(COVERAGE_SIDE) + 1, size=(n_sites, 2)).astype(float)
    if clustered:
        centres = rng.uniform(0.0, COVERAGE_SIDE, size=(COVERAGE_CLUSTERS, 2))
        spread = rng.normal(0.0, COVERAGE_CLUSTER_SD, size=(n_demand, 2))
        demand = np.clip(np.round(centres[rng.integers(0, COVERAGE_CLUSTERS, n_demand)] + spread), 0, COVERAGE_SIDE)
    else:
        demand = rng.integers(0, int(COVERAGE_SIDE) + 1, size=(n_demand, 2)).astype(float)
    weight = rng.integers(1, 101, size=n_demand).astype(float)
    p = max(2, round(n_sites / 20)) if p is None else p
    kind = "clustered" if clustered else "square"
    return PointsInstance(f"coverage-{kind}-{n_sites}x{n_demand}-p{p}-s{seed}", demand, weight, sites, p)


def pmed_graph_instance(n_vertices: int, p: int, seed: int, n_edges: int | None = None) -> GraphInstance:
    """A connected graph of the Beasley (1985) p-median type (``pmed-graph``: see the module docstring);
    ``n_edges`` defaults to n² / 50 (at least n − 1)."""
    n_edges = max(n_vertices - 1, n_vertices**2 // PMED_EDGE_DIVISOR) if n_edges is None else n_edges
    pairs = n_vertices * (n_vertices - 1) // 2
    if n_vertices < 2 or not n_vertices - 1 <= n_edges <= pairs:
        raise ValueError(f"{n_edges} edges on {n_vertices} vertices: need n ≥ 2 and n − 1 ≤ edges ≤ {pairs}")
    if not 1 <= p <= n_vertices:
        raise ValueError(f"p={p} must be between 1 and the {n_vertices} vertices")
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_vertices)
    tree = np.column_stack([order[1:], order[rng.integers(0, np.arange(1, n_vertices))]])
    tree_keys = np.sort(tree, axis=1) @ np.array([n_vertices, 1])
    low, high = np.triu_indices(n_vertices, 1)
    free = np.setdiff1d(low * n_vertices + high, tree_keys, assume_unique=True)
    extra = rng.choice(free, size=n_edges - (n_vertices - 1), replace=False)
    ends = np.concatenate([tree, np.column_stack([extra // n_vertices, extra % n_vertices])])
    ends = ends[rng.permutation(n_edges)]
    length = rng.integers(1, PMED_MAX_LENGTH + 1, size=n_edges)
    return GraphInstance(f"pmed-graph-{n_vertices}-e{n_edges}-p{p}-s{seed}", n_vertices, ends, length, p)


def _round_significant(values: np.ndarray, digits: int = 6) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits (what ``%g`` prints), so that the numbers
    the generator reasons with are the numbers in the file."""
    return np.array([float(f"{value:.{digits}g}") for value in np.ravel(values)]).reshape(np.shape(values))


# writers --------------------------------------------------------------------------------------------
def format_orlib_cap(instance: DenseInstance, number: str = "{:.5f}") -> str:
    """The OR-Library ``cap`` layout: ``m n``; m lines ``s_i f_i``; per customer ``d_j`` and its m costs
    (7 per line). ``number`` formats every non-integer value."""
    def fmt(value: float) -> str:
        return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else number.format(value)

    m, n = instance.total_cost.shape
    lines = [f" {m} {n} "]
    lines += [f" {fmt(s)} {fmt(f)} " for s, f in zip(instance.capacity, instance.opening_cost, strict=True)]
    for j in range(n):
        lines.append(f" {fmt(instance.demand[j])} ")
        column = [fmt(value) for value in instance.total_cost[:, j]]
        lines += [" " + " ".join(column[k : k + COSTS_PER_LINE]) + " " for k in range(0, m, COSTS_PER_LINE)]
    return "\n".join(lines) + "\n"


def format_uflib_simple(instance: DenseInstance) -> str:
    """The UflLib "simple" format: ``FILE: name``; ``n m 0``; per facility ``i f_i c_i1 … c_im``
    (integers where the values are integers)."""
    m, n = instance.total_cost.shape
    lines = [f"FILE: {instance.name}", f"{m} {n} 0"]
    for i in range(m):
        values = np.concatenate([[instance.opening_cost[i]], instance.total_cost[i]])
        lines.append(f"{i + 1} " + " ".join(f"{v:.0f}" if float(v).is_integer() else f"{v:.6g}" for v in values))
    return "\n".join(lines) + "\n"


def format_points(instance: PointsInstance) -> str:
    """The ``POINTS`` format of ``planner.formats.points``: ``POINTS n m p``; n lines ``x y w``; m lines ``x y``."""
    lines = [f"POINTS {len(instance.weight)} {len(instance.site_xy)} {instance.p}"]
    lines += [f"{x:.0f} {y:.0f} {w:.0f}" for (x, y), w in zip(instance.demand_xy, instance.weight, strict=True)]
    lines += [f"{x:.0f} {y:.0f}" for x, y in instance.site_xy]
    return "\n".join(lines) + "\n"


def format_orlib_pmed(instance: GraphInstance) -> str:
    """The OR-Library ``pmed`` layout: ``nv ne p``; ne lines ``u v w`` (1-based vertex ids, integer lengths)."""
    lines = [f" {instance.n_vertices} {len(instance.length)} {instance.p} "]
    lines += [f" {u + 1} {v + 1} {w} " for (u, v), w in zip(instance.ends, instance.length, strict=True)]
    return "\n".join(lines) + "\n"


def write_instance(text: str, out: Path) -> Path:
    """Write ``text`` to ``out`` (parent folders created) with LF line endings; returns ``out``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(text.encode("ascii"))
    return out


def generate(family: str, *, n_facilities: int, n_customers: int | None = None, seed: int = 0,
             ratio: float = 5.0, fixed_class: str = "a", symmetric: bool = False, p: int | None = None,
             n_edges: int | None = None) -> tuple[DenseInstance | PointsInstance | GraphInstance, str]:
    """The instance of ``family`` (one of :data:`FAMILIES`) and its file text; ``p`` for the coverage
    families and ``pmed-graph`` (required there, with ``n_facilities`` its vertices and ``n_edges``)."""
    if family == "cflp":
        instance = cflp_instance(n_facilities, n_customers or 10 * n_facilities, ratio, seed)
        return instance, format_orlib_cap(instance)
    if family == "sscflp":
        instance = holmberg_instance(n_facilities, n_customers or 5 * n_facilities, ratio, seed)
        return instance, format_holmberg(instance)
    if family == "ufl-kratica":
        instance = kratica_instance(n_facilities, seed, n_customers)
        return instance, format_orlib_cap(instance, number="{:.6g}")
    if family == "ufl-kg":
        instance = korkel_ghosh_instance(n_facilities, fixed_class, seed, n_customers, symmetric)
        return instance, format_uflib_simple(instance)
    if family in ("coverage-square", "coverage-clustered"):
        instance = coverage_instance(n_facilities, n_customers or 10 * n_facilities, seed,
                                     clustered=family == "coverage-clustered", p=p)
        return instance, format_points(instance)
    if family == "pmed-graph":
        if p is None:
            raise ValueError("pmed-graph needs p, the number of medians / centres")
        instance = pmed_graph_instance(n_facilities, p, seed, n_edges)
        return instance, format_orlib_pmed(instance)
    raise ValueError(f"unknown family {family!r}; use {', '.join(FAMILIES)}")


# command line ---------------------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    """The CLI: one subcommand per family, each with its sizes, class, seed and output file."""
    cli = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    families = cli.add_subparsers(dest="family", required=True)
    helps = {"cflp": "capacitated, Cornuéjols et al. (1991); OR-Library cap layout",
             "sscflp": "single-source capacitated, Holmberg et al. (1999) type; Holmberg layout",
             "ufl-kratica": "UFL of the Kratica M type; OR-Library layout",
             "ufl-kg": "UFL of the Körkel–Ghosh type; UflLib simple format",
             "coverage-square": "covering models, demand uniform in a square; POINTS format",
             "coverage-clustered": "covering models, demand in 10 clusters; POINTS format"}
    for family, text in helps.items():
        sub = families.add_parser(family, help=text, description=text)
        sub.add_argument("--n-facilities", type=int, required=True)
        sub.add_argument("--n-customers", type=int,
                         help="default: 10 × facilities (cflp, coverage: demand points), 5 × (sscflp), "
                              "= facilities (UFL)")
        sub.add_argument("--seed", type=int, default=0)
        sub.add_argument("--out", type=Path, required=True, help="the instance file to write")
        if family in ("cflp", "sscflp"):
            sub.add_argument("--ratio", type=float, default=5.0,
                             help="total capacity / total demand (cflp: 3, 5, 10; sscflp: 1.5 … 3.5)")
        if family == "ufl-kg":
            sub.add_argument("--fixed-class", choices=sorted(KG_FIXED_COST), default="a")
            sub.add_argument("--symmetric", action="store_true", help="c_ij = c_ji (square sizes)")
        if family.startswith("coverage"):
            sub.add_argument("--p", type=int, help="sites to open, written in the file (default: sites / 20)")
    add_graph_parser(families)
    return cli


def add_graph_parser(families: argparse._SubParsersAction) -> None:
    """The ``pmed-graph`` subcommand: vertices (not facilities × customers), p, edges, seed, output file."""
    text = "p-median graphs of the Beasley (1985) OR-Library pmed type; pmed layout"
    sub = families.add_parser("pmed-graph", help=text, description=text)
    sub.add_argument("--n-vertices", dest="n_facilities", metavar="N", type=int, required=True, help="vertices = sites")
    sub.add_argument("--p", type=int, required=True, help="medians / centres to open, written in the file")
    sub.add_argument("--n-edges", type=int, help="default: vertices² / 50, the pmed density (at least vertices − 1)")
    sub.add_argument("--seed", type=int, default=0)
    sub.add_argument("--out", type=Path, required=True, help="the instance file to write")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        instance, text = generate(
            args.family, n_facilities=args.n_facilities, n_customers=getattr(args, "n_customers", None),
            seed=args.seed, ratio=getattr(args, "ratio", 5.0), fixed_class=getattr(args, "fixed_class", "a"),
            symmetric=getattr(args, "symmetric", False), p=getattr(args, "p", None),
            n_edges=getattr(args, "n_edges", None),
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    write_instance(text, args.out)
    if isinstance(instance, GraphInstance):
        print(
            f"{args.out}: {instance.name}, {instance.n_vertices} vertices, {len(instance.ends)} edges, p={instance.p}"
        )
        return 0
    if isinstance(instance, PointsInstance):
        print(f"{args.out}: {instance.name}, {len(instance.site_xy)} sites × {len(instance.weight)} demand points, "
              f"p={instance.p}; coverage distances: mclp {instance.mclp_coverage:g}, lscp {instance.lscp_coverage:g}")
        return 0
    ratio = f", capacity ratio {instance.capacity_ratio:.4g}" if instance.capacity.any() else ""
    print(f"{args.out}: {instance.name}, {len(instance.opening_cost)} facilities × {len(instance.demand)} customers"
          f"{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
