"""No traceback for anything a user did: the CLI's one catch point turns every error into one line and
an exit code (internal errors: 1, the traceback saved to a file, shown with ``--debug``; Ctrl-C: 130;
SIGTERM: 143), ``bench`` fails on an instance without a solution, repeated ``--select`` on one column
combines its values, ``--threads`` is bounded by the machine and the coordinate options reach the
data options.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import planner.pipeline
from planner.cli import main
from planner.errors import InputError
from planner.interrupt import Interrupted
from tests.builders import equator_regions, tiny_model_file

CAP_INFEASIBLE = "2 1\n10 5\n10 5\n100 1 1\n"  # two sites of capacity 10, one customer of demand 100
CAP_FEASIBLE = "2 1\n100 5\n100 7\n10 1 2\n"


@pytest.fixture
def model(tmp_path) -> Path:
    """Three point regions on the equator with a state column (X, X, Y), one plant type."""
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0, 2.0], [10, 20, 30])
    import geopandas as gpd

    frame = gpd.read_file(regions)
    frame["state"] = ["X", "X", "Y"]
    frame.to_file(regions, driver="GeoJSON")
    return tiny_model_file(tmp_path / "model.toml", regions)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def fail_with(monkeypatch, error: BaseException) -> list:
    """Make the planning step raise ``error``; returns the list that receives the data options it saw."""
    seen = []

    def plan(config, data, options, **starts):
        seen.append(data)
        raise error

    monkeypatch.setattr(planner.pipeline, "plan", plan)
    return seen


def solve_raising(monkeypatch, error: BaseException) -> list:
    """Make each benchmark solve raise ``error``; returns the list that receives the problems it saw."""
    seen = []

    def solve_problem(problem, *args, **kwargs):
        seen.append(problem)
        raise error

    monkeypatch.setattr(planner.pipeline, "solve_problem", solve_problem)
    return seen


def assert_nothing_written(tmp_path: Path) -> None:
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.toml", "regions.geojson"]


# --- the one catch point ------------------------------------------------------------------------------


def test_an_internal_error_is_one_line_and_a_saved_traceback(tmp_path, model, monkeypatch):
    fail_with(monkeypatch, ValueError("Too many bins\nfor data range"))
    result = invoke("solve", "--model", str(model), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    match = re.fullmatch(r"error: internal error: ValueError: Too many bins for data range; details in (.+)", lines[0])
    assert match, lines[0]
    log = Path(match.group(1))
    try:
        text = log.read_text(encoding="utf-8")
        assert "Traceback (most recent call last)" in text and "ValueError: Too many bins" in text
    finally:
        log.unlink()
    assert_nothing_written(tmp_path)  # the staging folder reserved before planning is gone


def test_debug_shows_the_traceback_instead(tmp_path, model, monkeypatch):
    fail_with(monkeypatch, ZeroDivisionError("boom"))
    result = invoke("--debug", "solve", "--model", str(model), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().endswith("ZeroDivisionError: boom")
    assert "details in" not in result.stderr
    assert_nothing_written(tmp_path)


def test_planner_errors_stay_one_line_with_debug(tmp_path, model, monkeypatch):
    fail_with(monkeypatch, InputError("x.csv: column 'a' not found; pass --id-column"))
    result = invoke("--debug", "solve", "--model", str(model), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 2
    assert result.stderr == "error: x.csv: column 'a' not found; pass --id-column\n"


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (KeyboardInterrupt(), 130, "error: interrupted by Ctrl-C; nothing written"),
        (Interrupted(signal.SIGINT), 130, "error: interrupted by Ctrl-C; nothing written"),
        (Interrupted(signal.SIGTERM), 143, "error: interrupted by SIGTERM; nothing written"),
    ],
    ids=["KeyboardInterrupt", "SIGINT", "SIGTERM"],
)
def test_an_interrupt_is_one_line_and_its_exit_code(tmp_path, model, monkeypatch, error, code, line):
    fail_with(monkeypatch, error)
    result = invoke("solve", "--model", str(model), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == code
    assert result.stderr.splitlines() == [line]
    assert_nothing_written(tmp_path)


def test_usage_errors_are_still_clicks(tmp_path, model):
    result = invoke("sweep", "--model", str(model), "--vary", "carbon_price=0:1:2", "--workers", "2",
                    "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == 2
    assert "give --workers or --scheduler, not both" in result.stderr
    assert_nothing_written(tmp_path)


# --- bench --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("known", "code"), [(6.0, 0), (6.5, 1)], ids=["agrees", "disagrees"])
def test_bench_exits_1_when_a_proven_optimum_disagrees_with_optima(tmp_path, known, code):
    instance = tmp_path / "good.txt"
    instance.write_text(CAP_FEASIBLE)  # optimum 6: open site 1 (5), serve all of it there (1)
    optima = tmp_path / "optima.csv"
    optima.write_text(f"instance,problem,params,optimal_value,status,file\ngood,cflp,,{known},optimal,good.txt\n")
    result = invoke("bench", "cap", str(instance), "--optima", str(optima))
    assert result.exit_code == code, result.output
    row = json.loads(result.stdout)
    assert (row["status"], row["known"], row["match"]) == ("optimal", known, code == 0)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    expected = [] if code == 0 else ["error: 1 of 1 instances proven optimal disagree with --optima: good (6, known "
                                     "6.5); check the file's row and the instance's variant (e.g. --capacity, "
                                     "--single-source, --p)"]
    assert errors == expected

def test_bench_exits_1_when_an_instance_is_infeasible(tmp_path):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text(CAP_FEASIBLE)
    bad.write_text(CAP_INFEASIBLE)
    result = invoke("bench", "cap", str(good), str(bad))
    assert result.exit_code == 1, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["status"] for row in rows] == ["optimal", "infeasible"]
    assert rows[0]["objective"] == pytest.approx(6.0)  # open site 1 (5) and serve all of it there (1)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == ["error: 1 of 2 instances have no solution: bad (infeasible: demand that must be served is "
                      "100 units but all candidate sites together can make at most 20)"]
    assert rows[1]["reason"] == "demand that must be served is 100 units but all candidate sites together can " \
                                "make at most 20"
    assert rows[0]["reason"] is None
    assert "Traceback" not in result.stderr


def test_bench_names_why_a_pmed_instance_is_infeasible_without_model_file_hints(tmp_path):
    """Two components (1–2, 3–4) and p = 1: no single median reaches every vertex; two are needed."""
    graph = tmp_path / "split.txt"
    graph.write_text("4 2 1\n1 2 5\n3 4 5\n")
    result = invoke("bench", "pmed", str(graph))
    assert result.exit_code == 1, result.output
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["status"] == "infeasible"
    assert row["reason"].startswith("the network is infeasible: at least 2 facilities must open to serve all demand "
                                    "that must be served, but at most 1 may")
    assert "the file's p (or --p)" in row["reason"] and "network.max_facilities" not in row["reason"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [f"error: 1 of 1 instances have no solution: split (infeasible: {row['reason']})"]
    assert "planner validate" not in result.stderr and "HiGHS" not in result.stderr


@pytest.mark.parametrize(("fmt", "option"), [("pmed", "--p"), ("cap", "--capacity"), ("lscp", "--coverage"),
                                           ("cap", "--time-limit"), ("cap", "--threads")])
def test_bench_refuses_numbers_with_underscores(tmp_path, fmt, option):
    """Python's int() and float() read '1_0' as 10; a number option takes digits only."""
    instance = tmp_path / "good.txt"
    instance.write_text(CAP_FEASIBLE)
    result = invoke("bench", fmt, str(instance), option, "1_0")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: Invalid value for '{option}': '1_0' is not a plain number (no underscores: write digits only, e.g. "
        "'10' if that is what was meant). (see 'main bench --help')"]


@pytest.mark.parametrize(("args", "option", "value"), [(("bench", "pmed", "--p"), "--p", "2.5"),
                                                      (("solve", "--seed"), "--seed", "abc")])
def test_a_whole_number_option_says_whole_number(tmp_path, args, option, value):
    """click said "'2.5' is not a valid integer range"."""
    instance = tmp_path / "g.txt"
    instance.write_text("3 2 1\n1 2 2\n2 3 2\n")
    command = [*args[:-1], *([str(instance)] if args[0] == "bench" else []), args[-1], value]
    result = invoke(*command)
    assert result.exit_code == 2 and result.stdout == ""
    assert f"Invalid value for '{option}': '{value}' is not a whole number; give one such as 2" in result.stderr


def test_bench_exits_0_when_every_instance_solves(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(CAP_FEASIBLE)
    result = invoke("bench", "cap", str(good))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


@pytest.mark.parametrize("fmt", ["cap", "ufl"])
def test_bench_an_instance_whose_demands_are_all_zero_still_opens_its_cheapest_site(tmp_path, fmt):
    """The textbook rows Σ_i x_ij = 1 and x_ij ≤ y_i open a site even for customers of demand 0 (it read 0)."""
    instance = tmp_path / "zero.txt"
    instance.write_text("2 2\n0 86\n0 83\n0\n0 0\n0\n0 0\n")
    result = invoke("bench", fmt, str(instance))
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)
    assert (row["status"], row["objective"]) == ("optimal", 83.0)


def test_bench_optima_of_another_instance_of_the_same_file_name_are_not_its_optimum(tmp_path):
    """A user's own 'p1' (2 × 1) is not Holmberg's p1 (10 × 50): no known value, no false disagreement."""
    instance = tmp_path / "p1"
    instance.write_text(CAP_FEASIBLE)
    optima = tmp_path / "optima.csv"
    optima.write_text("instance,problem,params,n_facilities,n_customers,optimal_value,status,file\n"
                      "holmberg_p1,cflp,,10,50,8848,optimal,sscflp/p1\n")
    result = invoke("bench", "cap", str(instance), "--optima", str(optima))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["known"] is None
    optima.write_text(optima.read_text().replace(",10,50,8848,", ",2,1,6,"))  # the same size: its optimum
    result = invoke("bench", "cap", str(instance), "--optima", str(optima))
    assert (result.exit_code, json.loads(result.stdout)["match"]) == (0, True)


@pytest.mark.parametrize("fmt, extra", [("pcenter", []), ("lscp", ["--coverage", "3"])])
def test_bench_optima_without_a_row_for_the_model_are_no_known_value(tmp_path, fmt, extra):
    """A CSV with no proven row for pcenter or lscp raised an internal KeyError after the solve."""
    graph = tmp_path / "g.txt"
    graph.write_text("3 2 1\n1 2 2\n2 3 2\n")
    optima = tmp_path / "optima.csv"
    optima.write_text("instance,problem,params,optimal_value,status,file\ng,cflp,,6,optimal,g.txt\n")
    result = invoke("bench", fmt, str(graph), *extra, "--optima", str(optima))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["known"] is None


def test_bench_optima_with_a_bad_parameter_are_refused_before_solving_naming_the_line(tmp_path, monkeypatch):
    instance = tmp_path / "good.txt"
    instance.write_text(CAP_FEASIBLE)
    optima = tmp_path / "optima.csv"
    optima.write_text("instance,problem,params,optimal_value,status,file\na,cflp,,6,optimal,a.txt\n"
                      "b,cflp,p=abc,6,optimal,b.txt\n")
    solved = solve_raising(monkeypatch, AssertionError("solved before the optima were checked"))
    result = invoke("bench", "cap", str(instance), "--optima", str(optima))
    assert result.exit_code == 2 and result.stdout == "" and not solved
    assert result.stderr.splitlines() == [f"error: {optima}: the row of instance 'b': parameter 'p=abc' is not "
                                          "key=number; write e.g. capacity=8000 or p=5"]


def test_bench_a_time_limit_before_any_solution_is_time_limit_not_error(tmp_path, monkeypatch):
    from planner.errors import NoSolutionInTimeError

    instance = tmp_path / "good.txt"
    instance.write_text(CAP_FEASIBLE)
    solve_raising(monkeypatch, NoSolutionInTimeError("HiGHS ended without a feasible solution (status: Time limit "
                                                     "reached); give it more time"))
    result = invoke("bench", "cap", str(instance), "--time-limit", "0.01")
    assert result.exit_code == 1
    row = json.loads(result.stdout)
    assert (row["status"], row["objective"]) == ("time_limit", None)
    assert row["reason"] == "no feasible solution found within the time limit; give it more time (--time-limit)"


# --- options ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_repeated_select_on_one_column_is_a_union_with_a_warning(tmp_path, model):
    out = tmp_path / "out"
    result = invoke("solve", "--model", str(model), "--out", str(out), "--quiet", "--select", "state=X",
                    "--select", "state=Y")
    assert result.exit_code == 0, result.output
    warnings = result.stderr.splitlines()
    assert len(warnings) == 1 and "warning" in warnings[0], result.stderr
    assert "--select state is given 2 times: its values combine" in warnings[0] and "any of X, Y" in warnings[0]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["size"]["regions"] == 3
    assert summary["inputs"]["select"] == {"state": ["X", "Y"]}


@pytest.mark.slow
def test_select_on_different_columns_must_all_match(tmp_path, model):
    out = tmp_path / "out"
    result = invoke("solve", "--model", str(model), "--out", str(out), "--quiet", "--select", "state=X",
                    "--select", "GEOID=R1,R2")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # nothing to warn about
    assert json.loads((out / "summary.json").read_text())["size"]["regions"] == 1  # R1: state X and in R1, R2


@pytest.mark.slow
def test_threads_above_the_cores_are_cut_with_a_note(tmp_path, model):
    import highspy

    highspy.Highs.resetGlobalScheduler(True)
    out = tmp_path / "out"
    result = invoke("solve", "--model", str(model), "--out", str(out), "--threads", "100000")
    assert result.exit_code == 0, result.output
    cores = os.cpu_count()
    assert f"threads: 100000 asked for, this machine has {cores} cores; using {cores}" in result.stderr
    assert result.stderr.count("asked for") == 1, result.stderr  # said once, not again by the solver
    assert json.loads((out / "summary.json").read_text())["inputs"]["solver_options"]["threads"] == cores


def test_coordinate_options_reach_the_data_options(tmp_path, model, monkeypatch):
    seen = fail_with(monkeypatch, InputError("stop here"))
    result = invoke("solve", "--model", str(model), "--out", str(tmp_path / "out"), "--quiet", "--lon-column", "x",
                    "--lat-column", "y", "--crs", "EPSG:3857")
    assert result.exit_code == 2 and result.stderr == "error: stop here\n"
    data = seen[0]
    assert (data.lon_column, data.lat_column, data.crs) == ("x", "y", "EPSG:3857")


def test_summary_inputs_record_how_the_regions_were_read():
    """A run of points in EPSG:3577 (--crs) could not be repeated from summary.json alone."""
    from types import SimpleNamespace

    from planner.export.summary import solve_sources
    from planner.inputs.prepare import DataOptions
    from planner.solver.outcome import SolverOptions

    data = DataOptions(lon_column="x", lat_column="y", crs="EPSG:3577", suppliers_path=Path("s.csv"))
    sources = solve_sources(SimpleNamespace(source_path="m.toml", name="m"), data, SolverOptions(), "au.csv")
    assert sources["region_options"] == {"layer": None, "lon_column": "x", "lat_column": "y", "crs": "EPSG:3577"}
    assert sources["suppliers"] == "s.csv"


def test_the_cli_leaves_the_planner_logger_as_it_found_it(tmp_path, model):
    logger = logging.getLogger("planner")
    before = (logger.handlers[:], logger.level, logger.propagate)
    assert invoke("validate", "--model", str(model)).exit_code == 0
    assert (logger.handlers[:], logger.level, logger.propagate) == before


def test_bench_refuses_a_file_beyond_the_solvers_limits_before_solving_any(tmp_path):
    """A second file whose cost term is above 1e15 had been refused only after the first was solved, in
    the words of a model file; it is now refused first, naming the file."""
    good = tmp_path / "good.txt"
    good.write_text("2 2\n100 10\n100 20\n5\n1 5\n5\n1 2\n")
    big = tmp_path / "big.txt"
    big.write_text("2 2\n100 10\n100 20\n5\n2e15 5\n5\n1 2\n")
    result = CliRunner().invoke(main, ["bench", "cap", str(good), str(big), "--time-limit", "20"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == (f"error: {big}: a cost term of 2e+15 is above 1e+15: too large for the solver; "
                                     "express the costs in a larger unit (e.g. thousands) or check them")


def test_a_control_character_of_the_data_is_escaped_in_the_error_line(tmp_path):
    """An id column named 'a<NUL>b' in the model printed a raw NUL (an ESC would have reached the terminal)."""
    from tests.test_bad_input import MODEL, write_instance

    model = MODEL.replace('id_column = "rid"', 'id_column = "a\\u0000b\\u001b[31m"', 1)
    assert model != MODEL
    write_instance(tmp_path, model=model)
    result = invoke("validate", "--model", str(tmp_path / "model.toml"))
    assert result.exit_code == 2 and "column 'a\\x00b\\x1b[31m' not found" in result.stderr
    assert "\x00" not in result.stderr and "\x1b" not in result.stderr


def test_validate_prints_a_small_demand_to_its_digits_not_as_0(tmp_path):
    """A demand of 0.00043 units/yr (demand_rate 1e-6 × pop 430) read "0 units/yr"."""
    from tests.test_bad_input import MODEL, write_instance

    model = write_instance(tmp_path, model=MODEL.replace("demand_rate = 1.0 ", "demand_rate = 1e-6"))
    result = CliRunner().invoke(main, ["validate", "--model", str(model)])
    assert result.exit_code == 0, result.output
    assert "demand      widget: 0.00043 units/yr\n" in result.stdout
