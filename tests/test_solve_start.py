"""``planner solve --start FOLDER``: a previous run's network is the solver's first incumbent where it is a
feasible network of the model solved; otherwise a warning says why and the solve goes on without it. A bad
start file is one line before anything is solved or written."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import planner.pipeline
from planner.cli import main
from tests.builders import equator_regions, tiny_model_file

# Three regions 1 degree apart, 100 units each; a plant opens at 300/yr and makes at 1/unit, transport 0.01/unit-km
PLANTS = """[facility_types.plant]
opening_cost_per_yr = 300.0
module_capacity_per_yr = 1000.0
products = { standard = { cost_per_unit = 1.0 } }
"""


@pytest.fixture
def model(tmp_path):
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0, 2.0], [100.0, 100.0, 100.0])
    return tiny_model_file(tmp_path / "model.toml", regions, PLANTS)


def solve(model, out, *arguments):
    return CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(out), *arguments])


@pytest.fixture
def starts(monkeypatch):
    """The start each solve of the pipeline was handed."""
    seen = []
    solve_problem = planner.pipeline.solve_problem

    def recording(problem, options, timing, screen=True, start=None):
        seen.append(start)
        return solve_problem(problem, options, timing, screen=screen, start=start)

    monkeypatch.setattr(planner.pipeline, "solve_problem", recording)
    return seen


def test_a_previous_run_is_the_start_and_the_summary_says_so(model, tmp_path, starts):
    first = tmp_path / "first"
    assert solve(model, first, "--quiet").exit_code == 0
    before = json.loads((first / "summary.json").read_text())
    assert before["inputs"]["start"] is None
    result = solve(model, first, "--start", str(first))  # into the same folder: the planner wrote it
    assert result.exit_code == 0, result.output
    assert "the solve starts from its network (1 open" in result.output
    after = json.loads((first / "summary.json").read_text())
    assert after["inputs"]["start"]["used"] is True
    # one plant at the middle region: 300 + 300 × 1 + 200 × 111.195 km × 0.01 = 822.39 (two: 1,011.2; three: 1,200)
    assert before["objective"] == pytest.approx(822.39, abs=0.01)
    assert after["inputs"]["start"]["objective"] == pytest.approx(before["objective"])
    start = starts[-1]
    assert start is not None and start.open.sum() == 1 and after["objective"] <= before["objective"] + 1e-9


def test_a_network_of_other_sites_is_not_used(model, tmp_path, starts):
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,facility_type,modules\nnowhere,plant,1\nR1,plant,1\n")
    result = solve(model, tmp_path / "out", "--start", str(sites))
    assert result.exit_code == 0, result.output
    assert "1 of its 2 open sites are no candidate of this model (nowhere as plant); solved without it" in result.output
    assert starts == [None]
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["inputs"]["start"]["used"] is False


def test_an_infeasible_network_is_not_used(tmp_path, starts):
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0, 2.0], [100.0, 100.0, 100.0])
    model = tiny_model_file(tmp_path / "model.toml", regions, PLANTS + "max_count = 1\n")
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,facility_type,modules\nR0,plant,1\nR2,plant,1\n")
    result = solve(model, tmp_path / "out", "--start", str(sites))
    assert result.exit_code == 0, result.output
    assert "its network is not feasible in this model (" in result.output and "solved without it" in result.output
    assert starts == [None]


@pytest.mark.parametrize(("content", "message"), [
    (None, "the folder has no sites.csv"),
    ("site_id,type\nR0,plant\n", "no column 'facility_type', 'modules'"),
    ("site_id,facility_type,modules\nR0,plant,1.5\n", "row 2, column 'modules': 1.5 is no whole number"),
    ("site_id,facility_type,modules\nR0,plant,1\nR0,plant,2\n", "row 3 repeats site 'R0' as 'plant'"),
])
def test_a_bad_start_is_one_line_and_nothing_is_written(model, tmp_path, content, message):
    start = tmp_path / "previous"
    start.mkdir()
    if content is not None:
        (start / "sites.csv").write_text(content)
    result = solve(model, tmp_path / "out", "--start", str(start))
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_a_missing_start_and_a_study_are_refused(model, tmp_path):
    missing = solve(model, tmp_path / "out", "--start", str(tmp_path / "nothing"))
    assert missing.exit_code == 2 and "not found; pass a previous run's output folder" in missing.output
    study = solve(model, tmp_path / "out", "--start", str(tmp_path), "--scenarios", "3")
    assert study.exit_code == 2 and "--start works with a single solve" in study.output
    assert not (tmp_path / "out").exists()
