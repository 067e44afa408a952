"""The seeded instance generators (``benchmarks/generate.py``): the same seed gives the same bytes,
the files read with the planner's readers, the instances have the intended structure (capacity
ratio, the Kratica and Körkel–Ghosh cost ranges), and tiny generated instances solved by the planner
equal brute force over every open set with the allocation LP (scipy.optimize.linprog)."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linprog

from planner.formats.orlib_cap import read_orlib_cap
from planner.formats.pmed import read_pmed, read_pmed_distances
from planner.formats.sscflp import read_sscflp
from planner.formats.uflib import read_uflib
from planner.pipeline import solve_problem
from planner.solver.outcome import SolverOptions
from tests.test_single_source import enumerated_optimum

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "generate.py"
_spec = importlib.util.spec_from_file_location("benchmarks_generate", SCRIPT)  # a script, not a package
generate = sys.modules.setdefault("benchmarks_generate", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(generate)

EXACT = SolverOptions(mip_gap=1e-9, quiet=True)


def write(tmp_path: Path, family: str, name: str, **settings) -> tuple[object, Path]:
    instance, text = generate.generate(family, **settings)
    return instance, generate.write_instance(text, tmp_path / name)


def parse_cap(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Capacities, fixed costs, demands and (m, n) costs of an OR-Library cap layout file, by tokens."""
    values = np.array(path.read_text().split(), dtype=float)
    m, n = int(values[0]), int(values[1])
    sites = values[2 : 2 + 2 * m].reshape(m, 2)
    rest = values[2 + 2 * m :].reshape(n, 1 + m)
    return sites[:, 0], sites[:, 1], rest[:, 0], rest[:, 1:].T


def brute_force(fixed: np.ndarray, cost: np.ndarray, demand: np.ndarray, capacity: np.ndarray | None) -> float:
    """Least cost over every open set: fixed costs + the allocation LP (fractions x_ij of j's demand,
    cost c_ij x_ij, Σ_i x_ij = 1, Σ_j d_j x_ij ≤ s_i) over the open sites."""
    m, n = cost.shape
    best = np.inf
    for chosen in itertools.product((0, 1), repeat=m):
        sites = np.flatnonzero(chosen)
        if not len(sites) or (capacity is not None and capacity[sites].sum() < demand.sum()):
            continue
        k = len(sites)
        equality = np.kron(np.ones((1, k)), np.eye(n))  # x ordered site-major: x[s * n + j]
        upper = None if capacity is None else np.kron(np.eye(k), demand[None, :])
        result = linprog(cost[sites].ravel(), A_ub=upper, b_ub=None if capacity is None else capacity[sites],
                         A_eq=equality, b_eq=np.ones(n), bounds=(0, 1), method="highs")
        if result.status == 0:
            best = min(best, fixed[sites].sum() + result.fun)
    return best


@pytest.mark.parametrize(("family", "settings"), [
    ("cflp", dict(n_facilities=10, n_customers=40, ratio=5.0)),
    ("sscflp", dict(n_facilities=10, n_customers=40, ratio=2.0)),
    ("ufl-kratica", dict(n_facilities=12)),
    ("ufl-kg", dict(n_facilities=12, fixed_class="b", symmetric=True)),
    ("pmed-graph", dict(n_facilities=100, p=3)),  # 200 edges: a tree and 101 extra pairs
])
def test_the_same_seed_gives_the_same_bytes(family, settings):
    first = generate.generate(family, seed=7, **settings)[1]
    assert generate.generate(family, seed=7, **settings)[1] == first
    assert generate.generate(family, seed=8, **settings)[1] != first


@pytest.mark.parametrize("ratio", generate.CFLP_RATIOS)
def test_cflp_reads_with_the_cap_reader_at_the_intended_capacity_ratio(tmp_path, ratio):
    instance, path = write(tmp_path, "cflp", "c.txt", n_facilities=20, n_customers=200, ratio=ratio, seed=1)
    problem = read_orlib_cap(path)
    assert (problem.n_options, problem.n_regions, problem.n_arcs) == (20, 200, 4000)
    assert problem.module_capacity.sum() / problem.demand.sum() == pytest.approx(ratio, rel=1e-6)
    assert instance.capacity_ratio == pytest.approx(ratio)
    demand = problem.demand[:, 0]
    assert demand.min() >= 5 and demand.max() <= 35 and np.all(demand == np.round(demand))
    fixed = problem.opening_cost  # U[0, 90] + U[100, 110] × sqrt(s_i) with s_i ~ U[10, 160] before rescaling
    assert np.all((fixed >= 100 * np.sqrt(10)) & (fixed <= 90 + 110 * np.sqrt(160)))
    assert np.corrcoef(fixed, np.sqrt(problem.module_capacity))[0, 1] > 0.9
    assert np.all(problem.arc_unit_cost <= 10 * np.sqrt(2) + 1e-4)  # c_ij / d_j = 10 × distance


def test_holmberg_type_reads_with_the_sscflp_reader_and_its_optimum_equals_enumeration(tmp_path):
    """Facility-major costs as the sscflp reader expects them (a transposed reading would not give the
    costs back), the intended capacity ratio, and a tiny instance's optimum against every map of
    customers to facilities."""
    instance, path = write(tmp_path, "sscflp", "ss.txt", n_facilities=4, n_customers=7, ratio=1.6, seed=5)
    problem = read_sscflp(path)
    assert problem.single_sourcing and (problem.n_options, problem.n_regions) == (4, 7)
    demand = problem.demand[:, 0]
    assert np.array_equal(demand, instance.demand) and np.all((demand >= 10) & (demand <= 50))
    assert problem.module_capacity.sum() / demand.sum() == pytest.approx(1.6, rel=0.01)
    total = (problem.arc_unit_cost * demand[problem.arc_region]).reshape(4, 7)
    assert total == pytest.approx(instance.total_cost)
    best = enumerated_optimum(demand, instance.total_cost / demand, instance.opening_cost, instance.capacity)
    assert solve_problem(problem, EXACT).report.objective == pytest.approx(best, rel=1e-9)


def test_kratica_reads_with_the_ufl_reader_and_has_the_m_structure(tmp_path):
    _, path = write(tmp_path, "ufl-kratica", "mp.txt", n_facilities=30, seed=2)
    problem = read_uflib(path)
    _, fixed, demand, cost = parse_cap(path)
    assert (problem.n_options, problem.n_regions) == (30, 30)
    assert set(np.unique(demand)) <= {1, 2, 3, 4, 5}
    assert np.all((cost / demand >= 2 - 1e-4) & (cost / demand <= 10 + 1e-4))
    assert fixed.min() == 50 and fixed.max() == 300
    assert np.corrcoef(fixed, cost.sum(axis=1))[0, 1] < -0.999  # dear to open where cheap to serve from
    assert problem.arc_unit_cost.reshape(30, 30) == pytest.approx(cost)  # demand ignored: UFL


def test_korkel_ghosh_reads_with_the_ufl_reader_in_each_class(tmp_path):
    for fixed_class, (low, high) in generate.KG_FIXED_COST.items():
        _, path = write(tmp_path, "ufl-kg", f"kg{fixed_class}.txt", n_facilities=15, fixed_class=fixed_class, seed=3)
        problem = read_uflib(path)
        assert path.read_text().startswith(f"FILE: kg-ga15x15{fixed_class}-s3\n15 15 0\n")
        assert np.all((problem.opening_cost >= low) & (problem.opening_cost <= high))
        assert np.all((problem.arc_unit_cost >= 1000) & (problem.arc_unit_cost <= 2000))
    _, path = write(tmp_path, "ufl-kg", "gs.txt", n_facilities=15, symmetric=True, seed=3)
    cost = read_uflib(path).arc_unit_cost.reshape(15, 15)
    assert np.array_equal(cost, cost.T)


@pytest.mark.parametrize("seed", [1, 2])
def test_tiny_cflp_solved_by_the_planner_equals_brute_force(tmp_path, seed):
    _, path = write(tmp_path, "cflp", "tiny.txt", n_facilities=6, n_customers=12, ratio=2.0, seed=seed)
    capacity, fixed, demand, cost = parse_cap(path)
    run = solve_problem(read_orlib_cap(path), EXACT)
    assert run.report.objective == pytest.approx(brute_force(fixed, cost, demand, capacity), rel=1e-9)


@pytest.mark.parametrize(("family", "settings"), [
    ("ufl-kratica", dict(n_facilities=7)),
    ("ufl-kg", dict(n_facilities=7, n_customers=9, fixed_class="a")),
])
def test_tiny_ufl_solved_by_the_planner_equals_brute_force(tmp_path, family, settings):
    instance, path = write(tmp_path, family, "tiny.txt", seed=4, **settings)
    problem = read_uflib(path)
    cost = problem.arc_unit_cost.reshape(problem.n_options, problem.n_regions)
    expected = brute_force(problem.opening_cost, cost, np.ones(problem.n_regions), None)
    assert solve_problem(problem, EXACT).report.objective == pytest.approx(expected, rel=1e-9)


def test_the_cli_writes_the_file_and_rejects_bad_arguments(tmp_path, capsys):
    out = tmp_path / "sub" / "c.txt"
    assert generate.main(["cflp", "--n-facilities", "5", "--n-customers", "9", "--ratio", "3", "--seed", "1",
                          "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"{out}: cflp-5x9-r3-s1, 5 facilities × 9 customers, capacity ratio 3\n"
    assert out.read_bytes() == generate.generate("cflp", n_facilities=5, n_customers=9, ratio=3.0, seed=1)[1].encode()
    assert generate.main(["cflp", "--n-facilities", "5", "--ratio", "1", "--out", str(out)]) == 2
    assert "capacity ratio 1 must exceed 1" in capsys.readouterr().err
    assert generate.main(["ufl-kg", "--n-facilities", "5", "--n-customers", "6", "--symmetric",
                          "--out", str(out)]) == 2


@pytest.mark.parametrize("seed", range(3))
def test_pmed_graph_is_connected_with_distinct_edges_and_its_p_median_equals_brute_force(tmp_path, seed):
    """Distinct edges (a spanning tree and extra pairs), lengths 1–100, connected; the planner's
    p-median of the file equals enumeration of every set of p sites on the shortest-path distances."""
    instance, path = write(tmp_path, "pmed-graph", "g.txt", n_facilities=12, p=2, seed=seed, n_edges=25)
    pairs = np.sort(instance.ends, axis=1)
    assert len(pairs) == 25 and len(np.unique(pairs, axis=0)) == len(pairs) and (pairs[:, 0] < pairs[:, 1]).all()
    assert instance.length.min() >= 1 and instance.length.max() <= 100
    distance, p = read_pmed_distances(path)
    assert p == 2 and np.isfinite(distance).all()
    best = min(distance[list(sites)].min(axis=0).sum() for sites in itertools.combinations(range(12), p))
    run = solve_problem(read_pmed(path), EXACT)
    assert run.report.objective == pytest.approx(best)
