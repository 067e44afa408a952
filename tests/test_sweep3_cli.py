"""The command line on a demanding user's shell (robustness sweep 3): an option given an empty value
(an unset shell variable) is refused, not taken as "not given"; a reader that closes stdout early
(`planner ... | head`) ends the run quietly, without an "internal error" and its traceback file."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main
from tests.builders import STANDARD_PLANT_TOML
from tests.conftest import snapshot

REGIONS = "id,lon,lat,pop\nA,10.0,50.0,100\nB,10.5,50.2,200\n"
MODEL = """name = "t"
[products.standard]
unmet_penalty_per_unit = 1000.0
""" + STANDARD_PLANT_TOML


def workspace(root: Path) -> Path:
    (root / "regions.csv").write_text(REGIONS, encoding="utf-8")
    (root / "m.toml").write_text(MODEL, encoding="utf-8")
    return root


@pytest.mark.parametrize("args, option", [
    (["--od-matrix", ""], "--od-matrix"),  # was solved with great-circle distances, silently
    (["--sites", ""], "--sites"),  # was solved with the model's candidate rules
    (["--out", ""], "--out"),  # was written to results/<model name>
    (["--id-column", " "], "--id-column"),
])
def test_an_empty_option_value_is_refused_and_nothing_is_written(tmp_path, monkeypatch, args, option):
    root = workspace(tmp_path)
    monkeypatch.chdir(root)
    before = snapshot(root)
    result = CliRunner().invoke(main, ["solve", "regions.csv", "--model", "m.toml", "--quiet", *args],
                                 prog_name="planner")
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [
        f"error: Invalid value for '{option}': an empty value; give one or leave it out. (see 'planner solve --help')"
    ]
    assert snapshot(root) == before


def test_an_empty_regions_argument_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(workspace(tmp_path))
    result = CliRunner().invoke(main, ["validate", "", "--model", "m.toml"])
    assert result.exit_code == 2
    assert "Invalid value for '[REGIONS]': an empty value" in result.stderr


def run_with_stdout_closed(args: list[str], cwd: Path, tmp: Path) -> subprocess.CompletedProcess:
    """``python -m planner ARGS`` whose stdout is a pipe nobody reads (its read end closed), TMPDIR ``tmp``."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "planner", *args], cwd=cwd, stdout=write_end,
                              stderr=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(tmp)}, timeout=300)
    finally:
        os.close(write_end)


def test_help_into_a_closed_pipe_ends_quietly(tmp_path):
    """Was "error: internal error: BrokenPipeError ..." with a traceback file in the temp folder."""
    result = run_with_stdout_closed(["solve", "--help"], tmp_path, tmp_path)
    assert result.returncode == 1
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.glob("planner-error-*"))


@pytest.mark.slow
def test_solve_into_a_closed_pipe_keeps_its_outputs_and_ends_quietly(tmp_path):
    (tmp_path / "work").mkdir()
    root = workspace(tmp_path / "work")
    temp = tmp_path / "temp"
    temp.mkdir()
    result = run_with_stdout_closed(["solve", "regions.csv", "--model", "m.toml", "--out", "out", "--quiet"], root,
                                    temp)
    assert result.returncode == 1
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert not list(temp.glob("planner-error-*"))
    assert (root / "out" / "summary.json").is_file()  # written in full before the summary was printed
    assert not [path.name for path in root.iterdir() if ".tmp-" in path.name]
