"""The classic location models (``planner.solver.classic``, ``planner bench pcenter|mclp|lscp``):
each against brute force over every site subset on seeded tiny instances, hand-derived cases on a
line, the dominance reductions (they keep the optimum; each reduction step on a hand-made matrix),
the independent check, the POINTS format and its generator, the CLI lines and errors, and pmed1's
p-center radius proven from both sides by separate LSCP solves."""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.errors import InfeasibleError, InputError, SolverError
from planner.formats.points import read_distance_instance
from planner.solver.classic import coverage
from planner.solver.classic.check import checked_objective
from planner.solver.classic.coverage import Cover, containment, full_cover, reduce_lscp, reduce_mclp, unique_rows
from planner.solver.classic.covering import solve_lscp, solve_mclp
from planner.solver.classic.pcenter import solve_pcenter
from planner.solver.classic.result import ClassicResult
from planner.solver.outcome import SolverOptions, Status
from planner.studies.bench import run_bench
from tests.conftest import SHARED_BENCHMARKS

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "generate.py"
_spec = importlib.util.spec_from_file_location("benchmarks_generate", SCRIPT)  # a script, not a package
generate = sys.modules.setdefault("benchmarks_generate", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(generate)

EXACT = SolverOptions(mip_gap=1e-9, progress_s=None)
SEEDS = range(8)
LINE = np.abs(np.arange(11.0)[:, None] - np.arange(11.0)[None, :])  # points 0 … 10 on a line, a site at each


# --- brute force over every site subset ---------------------------------------------------------------
def subsets(n_sites: int, size: int):
    return (list(chosen) for chosen in itertools.combinations(range(n_sites), size))


def brute_pcenter(distance: np.ndarray, p: int) -> float:
    """The least radius over every set of min(p, m) sites (more sites never lengthen the radius)."""
    return min(distance[:, s].min(axis=1).max() for s in subsets(distance.shape[1], min(p, distance.shape[1])))


def brute_mclp(distance: np.ndarray, weight: np.ndarray, coverage_distance: float, p: int) -> float:
    """The most weight covered within the distance by any min(p, m) sites."""
    covers = distance <= coverage_distance
    return max(weight @ covers[:, s].any(axis=1) for s in subsets(distance.shape[1], min(p, distance.shape[1])))


def brute_lscp(covers: np.ndarray) -> int | None:
    """The fewest columns of the 0/1 matrix covering every row; None when no set does."""
    for size in range(covers.shape[1] + 1):
        if any(covers[:, s].any(axis=1).all() for s in subsets(covers.shape[1], size)):
            return size
    return None


def tiny_instance(seed: int) -> tuple[np.ndarray, np.ndarray, int, float]:
    """(distance (n ≤ 10, m ≤ 8) from integer points on a small grid (many ties), weights 1 … 5, p, D)."""
    rng = np.random.default_rng(seed)
    n_demand, n_sites = int(rng.integers(3, 11)), int(rng.integers(2, 9))
    points, sites = rng.integers(0, 6, size=(n_demand, 2)), rng.integers(0, 6, size=(n_sites, 2))
    distance = np.sqrt(((points[:, None, :] - sites[None, :, :]) ** 2).sum(axis=2))
    p = int(rng.integers(1, n_sites + 1))
    return distance, rng.integers(1, 6, size=n_demand).astype(float), p, float(rng.choice(np.unique(distance)))


@pytest.mark.parametrize("seed", SEEDS)
def test_pcenter_equals_brute_force(seed):
    distance, _, p, _ = tiny_instance(seed)
    result = solve_pcenter(distance, p, EXACT)
    assert result.status is Status.OPTIMAL and result.best_bound == result.objective
    assert result.objective == pytest.approx(brute_pcenter(distance, p))
    assert checked_objective("pcenter", result, distance, p=p) == pytest.approx(result.objective)


@pytest.mark.parametrize("seed", SEEDS)
def test_mclp_equals_brute_force(seed):
    distance, weight, p, reach = tiny_instance(seed)
    result = solve_mclp(distance, weight, reach, p, EXACT)
    assert result.status is Status.OPTIMAL
    assert result.objective == pytest.approx(brute_mclp(distance, weight, reach, p))
    assert checked_objective("mclp", result, distance, weight=weight, p=p, coverage_distance=reach) == result.objective


@pytest.mark.parametrize("seed", SEEDS)
def test_lscp_equals_brute_force(seed):
    distance, _, _, _ = tiny_instance(seed)
    reach = float(distance.min(axis=1).max()) + 1.0  # every point coverable
    result = solve_lscp(distance, reach, EXACT)
    assert result.status is Status.OPTIMAL
    assert result.objective == brute_lscp(distance <= reach)
    assert checked_objective("lscp", result, distance, coverage_distance=reach) == result.objective


def test_a_non_metric_rectangular_matrix_equals_brute_force():
    rng = np.random.default_rng(11)
    distance = rng.integers(1, 30, size=(9, 7)).astype(float)
    for p in (1, 2, 3, 7):
        assert solve_pcenter(distance, p, EXACT).objective == brute_pcenter(distance, p)
        assert solve_mclp(distance, np.ones(9), 12.0, p, EXACT).objective == brute_mclp(distance, np.ones(9), 12.0, p)


# --- hand-derived: points 0 … 10 on a line, a site at every point -------------------------------------
def test_pcenter_on_a_line():
    # one site: the middle (5), radius 5; two: sites 2 (or 3) and 8 cover 0…5 and 6…10 within 3
    assert solve_pcenter(LINE, 1, EXACT).objective == 5.0
    two = solve_pcenter(LINE, 2, EXACT)
    assert two.objective == 3.0 and len(two.sites) <= 2
    assert solve_pcenter(LINE, 11, EXACT).objective == 0.0  # a site at every point


def test_lscp_on_a_line():
    # within 1 each site covers 3 consecutive points: ceil(11 / 3) = 4 sites (e.g. 1, 4, 7, 9)
    assert solve_lscp(LINE, 1.0, EXACT).objective == 4.0
    assert solve_lscp(LINE, 0.0, EXACT).objective == 11.0
    assert solve_lscp(LINE, 10.0, EXACT).objective == 1.0


def test_mclp_on_a_line():
    # within 1 two sites cover 6 points; with weight 10 at both ends, sites 1 and 9: 10 + 1 + 1 + 1 + 1 + 10
    assert solve_mclp(LINE, np.ones(11), 1.0, 2, EXACT).objective == 6.0
    weight = np.ones(11)
    weight[[0, 10]] = 10.0
    result = solve_mclp(LINE, weight, 1.0, 2, EXACT)
    assert result.objective == 24.0 and sorted(result.sites.tolist()) == [1, 9]
    assert solve_mclp(LINE, weight, 1.0, 11, EXACT).objective == weight.sum()


def test_lscp_with_a_point_out_of_reach_is_infeasible():
    distance = np.array([[1.0, 9.0], [9.0, 1.0], [5.0, 6.0]])
    with pytest.raises(InfeasibleError, match=r"1 demand points have no site within the coverage distance 4: points 3"):
        solve_lscp(distance, 4.0, EXACT)


def test_pcenter_with_an_unreachable_point_is_infeasible():
    with pytest.raises(InfeasibleError, match="cannot be reached from any site"):
        solve_pcenter(np.array([[1.0, 2.0], [np.inf, np.inf]]), 1, EXACT)


def test_the_time_limit_gives_an_honest_status():
    distance = np.abs(np.arange(60.0)[:, None] - np.arange(60.0)[None, :] * 1.01)
    result = solve_pcenter(distance, 4, SolverOptions(time_limit_s=1e-9, progress_s=None))
    assert result.status is Status.TIME_LIMIT
    assert result.best_bound < result.objective  # the seeds only: 0 and the farthest-first radius
    assert checked_objective("pcenter", result, distance, p=4) == result.objective


def test_covering_models_stopped_at_once_still_answer_with_the_greedy_start():
    """MCLP and LSCP had ended with no solution (exit 1) where HiGHS's root found none in the limit,
    though any p sites are an MCLP answer and every site an LSCP one; where the greedy's p sites cover
    every coverable point the MCLP is proven at once."""
    rng = np.random.default_rng(1)
    points = rng.uniform(0, 100, (400, 2))
    distance = np.sqrt(((points[:, None] - points[None]) ** 2).sum(axis=2))
    stopped = SolverOptions(time_limit_s=1e-9, progress_s=None)
    for result, kwargs in ((solve_mclp(distance, np.ones(400), 8.0, 20, stopped), {"p": 20, "weight": np.ones(400)}),
                           (solve_lscp(distance, 12.0, stopped), {})):
        assert result.status is Status.TIME_LIMIT and len(result.sites)
        assert checked_objective(result.problem, result, distance, coverage_distance=8.0 if kwargs else 12.0,
                                 **kwargs) == result.objective
    everything = solve_mclp(distance, np.ones(400), 40.0, 10, stopped)
    assert everything.status is Status.OPTIMAL and everything.objective == 400.0 and everything.solves == 0


def test_the_greedy_covers_a_line_in_threes():
    from planner.solver.classic.covering import greedy_columns

    cover = full_cover(LINE, 1.0)
    chosen = greedy_columns(cover)
    assert (cover.matrix[:, chosen].toarray().any(axis=1)).all() and len(chosen) == 4  # 1, 4, 7, 9
    assert len(greedy_columns(cover, 2)) == 2


# --- dominance reductions ---------------------------------------------------------------------------------
MATRIX = np.array([  # rows: demand points; columns: sites
    [1, 1, 0, 0],  # row 0
    [1, 1, 0, 0],  # row 1 = row 0
    [1, 1, 1, 0],  # row 2 ⊋ row 0: dropped for the LSCP
    [0, 0, 1, 1],  # row 3
])


def test_unique_rows_and_containment_by_hand():
    first, group = unique_rows(coverage.sparse.csr_array(MATRIX))
    assert first.tolist() == [0, 2, 3] and group.tolist() == [0, 0, 1, 2]
    in_larger, holds_smaller = containment(coverage.sparse.csr_array(MATRIX[first]))
    assert in_larger.tolist() == [True, False, False] and holds_smaller.tolist() == [False, True, False]


def test_the_dense_product_finds_the_same_containment(monkeypatch):
    rng = np.random.default_rng(3)
    matrix = coverage.sparse.csr_array((rng.random((40, 12)) < 0.3).astype(np.int8))
    distinct = coverage.sparse.csr_array(matrix[unique_rows(matrix)[0]])
    monkeypatch.setattr(coverage, "DENSE_SPEEDUP", 0)  # always sparse
    sparse_answer = containment(distinct)
    monkeypatch.setattr(coverage, "DENSE_SPEEDUP", 1e12)  # always dense
    dense_answer = containment(distinct)
    assert all((a == b).all() for a, b in zip(sparse_answer, dense_answer, strict=True))


def test_lscp_reduction_by_hand():
    cover = reduce_lscp(Cover(coverage.sparse.csr_array(MATRIX), np.ones(4), np.arange(4), np.arange(4)))
    # rows 0 = 1 merge, row 2 ⊋ row 0 goes; sites: 1 = 0 and, on the rows left, 3 = 2: the copies go
    assert cover.matrix.toarray().tolist() == [[1, 0], [0, 1]]
    assert cover.sites.tolist() == [0, 2] and cover.row_of.tolist() == [0, 0, -1, 1]


def test_mclp_reduction_merges_weights_by_hand():
    weight = np.array([1.0, 2.0, 4.0, 8.0])
    cover = reduce_mclp(Cover(coverage.sparse.csr_array(MATRIX), weight, np.arange(4), np.arange(4)))
    # rows 0 = 1 merge (1 + 2); sites: 1 = 0 goes, 3 ⊊ 2 goes; the rows left: {0} 3, {0, 2} 4, {2} 8
    assert cover.sites.tolist() == [0, 2]
    assert sorted(zip(cover.weight.tolist(), cover.matrix.toarray().tolist(), strict=True)) == [
        (3.0, [1, 0]), (4.0, [1, 1]), (8.0, [0, 1])]


@pytest.mark.parametrize("seed", SEEDS)
def test_reductions_keep_the_optimum(seed):
    distance, weight, p, reach = tiny_instance(seed)
    full = full_cover(distance, reach, weight)
    reduced = reduce_mclp(full)
    dense = reduced.matrix.toarray().astype(bool)
    best_reduced = max(reduced.weight @ dense[:, s].any(axis=1)
                       for s in subsets(dense.shape[1], min(p, dense.shape[1]))) if dense.size else 0.0
    assert best_reduced == pytest.approx(brute_mclp(distance, weight, reach, p))
    lscp_reach = float(distance.min(axis=1).max())
    reduced = reduce_lscp(full_cover(distance, lscp_reach))
    assert brute_lscp(reduced.matrix.toarray().astype(bool)) == brute_lscp(distance <= lscp_reach)
    assert (reduced.row_of >= -1).all() and reduced.shape[1] <= distance.shape[1]


# --- the independent check --------------------------------------------------------------------------------
def test_the_check_recomputes_and_rejects_a_wrong_answer():
    def answer(objective, sites, bound=None):
        return ClassicResult("x", objective, bound, Status.OPTIMAL, "", np.array(sites), 0.0, 0.0)

    assert checked_objective("pcenter", answer(3.0, [2, 8]), LINE, p=2) == 3.0
    with pytest.raises(SolverError, match="recomputed from the sites is 3, the solver reported 2"):
        checked_objective("pcenter", answer(2.0, [2, 8]), LINE, p=2)
    with pytest.raises(SolverError, match="opens 3 sites, more than p=2"):
        checked_objective("pcenter", answer(2.0, [1, 5, 9]), LINE, p=2)
    with pytest.raises(SolverError, match="leave 2 demand points uncovered"):
        checked_objective("lscp", answer(3.0, [1, 4, 7]), LINE, coverage_distance=1.0)
    with pytest.raises(SolverError, match="bound 5 is past the objective 6"):  # an upper bound below the cover
        checked_objective("mclp", answer(6.0, [1, 4], bound=5.0), LINE, weight=np.ones(11), p=2, coverage_distance=1.0)


# --- POINTS files and the generator -------------------------------------------------------------------
@pytest.mark.parametrize("family", ["coverage-square", "coverage-clustered"])
def test_generated_points_read_back_and_repeat(tmp_path, family):
    instance, text = generate.generate(family, n_facilities=6, n_customers=30, seed=2)
    assert generate.generate(family, n_facilities=6, n_customers=30, seed=2)[1] == text
    assert generate.generate(family, n_facilities=6, n_customers=30, seed=3)[1] != text
    read = read_distance_instance(generate.write_instance(text, tmp_path / "cov.txt"))
    assert read.p == instance.p == 2 and read.name == "cov"
    np.testing.assert_array_equal(read.distance, instance.distance())
    np.testing.assert_array_equal(read.weight, instance.weight)
    assert solve_lscp(read.distance, instance.lscp_coverage, EXACT).objective == brute_lscp(
        read.distance <= instance.lscp_coverage)
    assert solve_mclp(read.distance, read.weight, instance.mclp_coverage, 2, EXACT).objective == pytest.approx(
        brute_mclp(read.distance, read.weight, instance.mclp_coverage, 2))


def test_the_generator_cli_prints_the_coverage_distances(tmp_path, capsys):
    out = tmp_path / "cov.txt"
    assert generate.main(["coverage-clustered", "--n-facilities", "6", "--n-customers", "30", "--seed", "2",
                          "--p", "3", "--out", str(out)]) == 0
    instance, text = generate.generate("coverage-clustered", n_facilities=6, n_customers=30, seed=2, p=3)
    assert out.read_text() == text and text.startswith("POINTS 30 6 3\n")
    assert capsys.readouterr().out == (
        f"{out}: coverage-clustered-6x30-p3-s2, 6 sites × 30 demand points, p=3; coverage distances: "
        f"mclp {instance.mclp_coverage:g}, lscp {instance.lscp_coverage:g}\n")


def test_a_bad_points_file_is_one_input_error(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("POINTS 2 1 1\n0 0 1\n3 4\n")
    with pytest.raises(InputError, match="expected 11 numbers for 2 demand points 'x y w' and 1 sites 'x y', found 8"):
        read_distance_instance(path)


# --- planner bench: rows, CLI lines and errors ----------------------------------------------------------
PATH_GRAPH = "4 3 2\n1 2 5\n2 3 4\n3 4 3\n"  # a path 1 -5- 2 -4- 3 -3- 4, p = 2


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_bench_rows_of_the_three_models(tmp_path):
    path = tmp_path / "path4.txt"
    path.write_text(PATH_GRAPH)
    # p = 2: sites {1, 3} or {2, 3}/{2, 4}…: {2, 4} gives max(5, 0, 3, 0) = 5, {1, 3} max(0, 4, 0, 3) = 4, {2, 3} 5
    [center] = run_bench("pcenter", [path])
    assert (center["objective"], center["status"], center["p"], center["coverage"]) == (4.0, "optimal", 2, None)
    [cover] = run_bench("mclp", [path], coverage=3.0, p=1)  # within 3 one site covers 2 vertices (3 and 4)
    assert (cover["objective"], cover["instance"], cover["problem"]) == (2.0, "path4-p1", "mclp")
    [fewest] = run_bench("lscp", [path], coverage=4.0)  # {1, 3}: only site 1 is within 4 of vertex 1
    assert (fewest["objective"], fewest["best_bound"], fewest["p"]) == (2.0, 2.0, None)
    assert set(center) >= {"instance", "format", "problem", "n_facilities", "n_customers", "objective", "status",
                           "best_bound", "mip_gap", "build_s", "solve_s", "total_s"}


@pytest.mark.parametrize(("fmt", "options", "message"), [
    ("mclp", {}, "format 'mclp' needs a coverage distance: pass --coverage D"),
    ("lscp", {}, "format 'lscp' needs a coverage distance"),
    ("pcenter", {"coverage": 3.0}, "--coverage applies to format 'mclp' or 'lscp' only, not 'pcenter'"),
    ("lscp", {"coverage": 3.0, "p": 2}, "--p applies to format 'pmed', 'pcenter' or 'mclp' only, not 'lscp'"),
    ("pmed", {"coverage": 3.0}, "--coverage applies to format 'mclp' or 'lscp' only, not 'pmed'"),
    ("mclp", {"coverage": -1.0}, "coverage distance -1.0 must be a finite number ≥ 0"),
])
def test_bench_rejects_meaningless_or_missing_options(fmt, options, message):
    with pytest.raises(InputError, match=message):
        run_bench(fmt, [Path("unused")], **options)


def test_cli_prints_one_json_line_per_instance(tmp_path):
    path = tmp_path / "path4.txt"
    path.write_text(PATH_GRAPH)
    result = invoke("bench", "pcenter", str(path), str(path), "--p", "1")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(row["instance"], row["objective"], row["status"]) for row in rows] == [("path4-p1", 7.0, "optimal")] * 2


@pytest.mark.parametrize(("args", "line"), [
    (["mclp"], "error: format 'mclp' needs a coverage distance: pass --coverage D (a site covers a demand point "
               "within distance D)"),
    (["pcenter", "--coverage", "3"], "error: --coverage applies to format 'mclp' or 'lscp' only, not 'pcenter'"),
    (["lscp", "--coverage", "3", "--p", "2"], "error: --p applies to format 'pmed', 'pcenter' or 'mclp' only, "
                                              "not 'lscp'"),
])
def test_cli_errors_are_one_line(tmp_path, args, line):
    path = tmp_path / "path4.txt"
    path.write_text(PATH_GRAPH)
    result = invoke("bench", args[0], str(path), *args[1:])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [line]


def test_cli_lscp_out_of_reach_is_infeasible_and_exits_1(tmp_path):
    path = tmp_path / "far.txt"  # on a pmed graph every vertex covers itself; here point 2 is 10 from the one site
    path.write_text("POINTS 2 1 1\n0 0 1\n10 0 1\n0 0\n")
    result = invoke("bench", "lscp", str(path), "--coverage", "5")
    assert result.exit_code == 1
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert (row["status"], row["objective"]) == ("infeasible", None)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == ["error: 1 of 1 instances have no solution: far (infeasible: 1 demand points have no site "
                      "within the coverage distance 5: points 2 (1-based))"]


def test_a_points_file_with_p_0_serves_lscp_and_asks_the_others_for_a_p(tmp_path):
    """lscp ignores p, so a POINTS file made for it may say 0; pcenter needs --p for it."""
    path = tmp_path / "cover.txt"
    path.write_text("POINTS 2 2 0\n0 0 1\n10 0 1\n0 0\n10 0\n")
    [row] = [json.loads(line) for line in invoke("bench", "lscp", str(path), "--coverage", "5").stdout.splitlines()]
    assert (row["status"], row["objective"]) == ("optimal", 2.0)
    result = invoke("bench", "pcenter", str(path))
    assert result.exit_code == 2 and "the file's p is 0; pcenter opens at least 1 site: pass --p N" in result.stderr
    [row] = [json.loads(line) for line in invoke("bench", "pcenter", str(path), "--p", "1").stdout.splitlines()]
    assert (row["status"], row["objective"]) == ("optimal", 10.0)


# --- pmed1: the radius proven from both sides -------------------------------------------------------------
PMED1 = SHARED_BENCHMARKS / "pmed" / "pmed1.txt"


@pytest.mark.skipif(not PMED1.exists(), reason="the OR-Library pmed files are beside the checkout")
def test_pmed1_pcenter_radius_is_achieved_and_no_smaller_level_has_a_cover():
    instance = read_distance_instance(PMED1)
    result = solve_pcenter(instance.distance, instance.p, EXACT)
    assert result.status is Status.OPTIMAL and result.objective == 127.0  # Daskin (1995); Elloumi et al. (2004)
    # achieved: the 5 sites reach every vertex within the radius (recomputed from the distances)
    sites = np.asarray(result.sites)
    assert len(sites) <= 5 and instance.distance[:, sites].min(axis=1).max() == result.objective
    # optimal: at the next smaller distance level the fewest covering sites are more than p (a separate LSCP)
    levels = np.unique(instance.distance)
    below = float(levels[np.searchsorted(levels, result.objective) - 1])
    fewest = solve_lscp(instance.distance, below, EXACT)
    assert fewest.status is Status.OPTIMAL and fewest.best_bound > instance.p + 0.5


def test_pcenter_on_a_disconnected_graph_needs_a_site_in_each_part():
    from planner.errors import InfeasibleError
    from planner.solver.classic.pcenter import solve_pcenter

    inf = np.inf
    distance = np.array([[0.0, 2.0, inf, inf], [2.0, 0.0, inf, inf], [inf, inf, 0.0, 3.0], [inf, inf, 3.0, 0.0]])
    with pytest.raises(InfeasibleError, match="raise p"):
        solve_pcenter(distance, 1)
    assert solve_pcenter(distance, 2).objective == 3.0


@pytest.mark.parametrize("format_name", ["pmed", "pcenter"])
def test_a_graph_without_edges_where_every_vertex_is_a_site(tmp_path, format_name):
    """Three vertices, no edges, p = 3 (the reader allows 0 edges): each vertex serves itself, objective
    0, proven; it crashed in the magnitude check of the empty edge table."""
    path = tmp_path / "noedges.txt"
    path.write_text("3 0 3\n")
    result = CliRunner().invoke(main, ["bench", format_name, str(path)])
    assert result.exit_code == 0, result.output
    line = json.loads(result.output.strip().splitlines()[-1])
    assert line["objective"] == 0.0 and line["status"] == "optimal"


def test_a_p_above_the_sites_opens_every_site(tmp_path):
    """pcenter and mclp open at most p sites: the file's p of 5 on 2 sites opens both (radius 0, all covered)."""
    path = tmp_path / "pgt.txt"
    path.write_text("POINTS 2 2 5\n0 0 1\n4 0 1\n0 0\n4 0\n")
    [center] = run_bench("pcenter", [path])
    assert center["status"] == "optimal" and center["objective"] == pytest.approx(0.0) and center["p"] == 5
    [asked] = run_bench("pcenter", [path], p=9)  # the row's p is the p its name carries (it had said 2 beside -p9)
    assert (asked["instance"], asked["p"], asked["objective"]) == ("pgt-p9", 9, pytest.approx(0.0))
    [cover] = run_bench("mclp", [path], coverage=1.0)
    assert cover["objective"] == pytest.approx(2.0)


@pytest.mark.parametrize("seed", range(40))
def test_pcenter_with_sites_out_of_reach_against_brute_force(seed):
    """Radii leave some (site, point) pairs at an infinite distance, as in the planner's own problem: the
    first farthest-first site had been one that reaches nothing (every column's largest distance infinite,
    so column 0), and a feasible model was called infeasible. Brute force decides both ways."""
    distance, _, p, _ = tiny_instance(seed)
    rng = np.random.default_rng(1000 + seed)
    distance = np.where(rng.random(distance.shape) < 0.45, np.inf, distance)
    distance[:, 0] = np.inf  # a site first in the file that reaches no point
    if not np.isfinite(distance.min(axis=1)).all():
        pytest.skip("a point no site reaches: refused before any search (tested elsewhere)")
    best = brute_pcenter(distance, p)
    if not np.isfinite(best):
        with pytest.raises(InfeasibleError, match=f"no {p} sites reach every demand point"):
            solve_pcenter(distance, p, EXACT)
    else:
        result = solve_pcenter(distance, p, EXACT)
        assert result.status is Status.OPTIMAL and result.objective == best
