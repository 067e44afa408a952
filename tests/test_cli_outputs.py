"""Nothing lost, ever: the planner replaces or deletes only folders it wrote itself (they carry the
marker file ``.planner-output``). Every refused run is checked against a snapshot of the file tree
(names, sizes, SHA-256) taken before it: exit code 2, one ``error:`` line, nothing created, changed or
deleted.

The instance: two point regions on the equator (tests.builders), one plant type; a solve takes about a
second, most of it drawing the map.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from planner.cli import main
from planner.errors import InputError
from planner.export.folder import MARKER, check_output_dir, discard_staging, prepare_output_dir, staged_folder
from tests.builders import equator_regions, tiny_model_file
from tests.conftest import snapshot

TWO_ROLES = """[facility_types.central]
role = "central"
opening_cost_per_yr = 100.0
products = { standard = { cost_per_unit = 1.0 } }
[facility_types.micro]
role = "microfactory"
opening_cost_per_yr = 50.0
products = { standard = { cost_per_unit = 1.0 } }
"""


def instance(folder: Path, facility_types: str | None = None, name: str = "tiny") -> Path:
    """regions.geojson and model.toml in ``folder``; returns the model path."""
    folder.mkdir(parents=True, exist_ok=True)
    regions = equator_regions(folder / "regions.geojson", [0.0, 1.0], [10, 20])
    model = tiny_model_file(folder / "model.toml", regions, *([facility_types] if facility_types else []))
    model.write_text(model.read_text().replace('name = "tiny"', f"name = {name!r}"))
    return model


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_refused(result: Result, before: dict, root: Path, *fragments: str) -> str:
    """Exit 2, one ``error:`` line with every fragment, no traceback, the file tree as it was."""
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert snapshot(root) == before, "a refused run changed the file tree"
    return lines[0]


def keepsakes(folder: Path) -> None:
    """A folder the planner did not write: a file, a hidden file and a subfolder."""
    (folder / "sub").mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    (folder / ".hidden").write_bytes(b"\x00\x01")
    (folder / "sub" / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")


# --- refused output folders --------------------------------------------------------------------------


def test_out_dot_is_refused(tmp_path, monkeypatch):
    model = instance(tmp_path)
    keepsakes(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    assert_refused(invoke("solve", "--model", str(model), "--out", ".", "--quiet"), before, tmp_path, "--out")


def test_out_dot_in_an_empty_folder_is_refused(tmp_path, monkeypatch):
    model = instance(tmp_path / "data")
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")
    before = snapshot(tmp_path)
    assert_refused(invoke("solve", "--model", str(model), "--out", ".", "--quiet"), before, tmp_path,
                   "current folder")


def test_out_on_the_folder_holding_the_input_is_refused(tmp_path, monkeypatch):
    model = instance(tmp_path / "data")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    before = snapshot(tmp_path)
    line = assert_refused(invoke("solve", "--model", str(model), "--out", str(tmp_path / "data"), "--quiet"),
                          before, tmp_path, "not written by the planner", MARKER, "choose a new or empty folder")
    assert line.startswith(f"error: {tmp_path / 'data'}: ")


@pytest.mark.slow
def test_out_on_results_itself_is_refused(tmp_path, monkeypatch):
    model = instance(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert invoke("solve", "--model", str(model), "--quiet").exit_code == 0  # results/tiny, marked
    before = snapshot(tmp_path)
    assert_refused(invoke("solve", "--model", str(model), "--out", "results", "--quiet"), before, tmp_path,
                   "results", "not written by the planner")


@pytest.mark.slow
def test_a_folder_that_lost_its_marker_is_refused(tmp_path):
    model = instance(tmp_path)
    out = tmp_path / "out"
    assert invoke("solve", "--model", str(model), "--out", str(out), "--quiet").exit_code == 0
    (out / MARKER).unlink()
    before = snapshot(tmp_path)
    assert_refused(invoke("solve", "--model", str(model), "--out", str(out), "--quiet"), before, tmp_path)


def test_out_that_is_a_link_is_refused(tmp_path):
    model = instance(tmp_path)
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    before = snapshot(tmp_path)
    assert_refused(invoke("solve", "--model", str(model), "--out", str(tmp_path / "link"), "--quiet"), before,
                   tmp_path, "is a link")


@pytest.mark.parametrize(("name", "fragment"), [("out\nnext", "has a control character"),
                                              ("x" * 245, "the folder name is 245 bytes, at most 237"),
                                              ("x" * 300, "the folder name is 300 bytes"),
                                              ("x" * 238, "the folder name is 238 bytes")])
def test_out_names_the_planner_cannot_write_are_refused_up_front(tmp_path, name, fragment):
    """A newline ended in an internal error from the GeoPackage writer after the solve; a name too long
    for the staging folder beside it in "not writable" (245 bytes) or an internal error (300)."""
    model = instance(tmp_path)
    before = snapshot(tmp_path)
    assert_refused(invoke("solve", "--model", str(model), "--out", str(tmp_path / name), "--quiet"), before,
                   tmp_path, fragment)


def test_an_out_path_longer_than_the_file_system_takes_is_refused_up_front(tmp_path):
    """22 names of 200 bytes (each within the name limit, 4,400 bytes in all): an internal error before
    (the first check of the path raised ENAMETOOLONG)."""
    model = instance(tmp_path)
    before = snapshot(tmp_path)
    long_path = tmp_path.joinpath(*["b" * 200] * 22)
    assert_refused(invoke("solve", "--model", str(model), "--out", str(long_path), "--quiet"), before, tmp_path,
                   "choose a shorter path")


@pytest.mark.parametrize("command", [["init", "--out", "model.toml"], ["solve", "--quiet"]])
def test_an_input_path_too_long_for_the_file_system_is_one_line(tmp_path, command):
    """A data file named with 300 bytes: an internal error (OSError ENAMETOOLONG) before."""
    too_long = tmp_path / ("c" * 300 + ".csv")
    result = invoke(*command[:1], str(too_long), *command[1:])
    assert result.exit_code == 2, result.output
    assert "too long for the file system; choose a shorter path" in result.output
    assert "internal error" not in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_out_holding_an_input_is_refused_even_when_marked(tmp_path):
    model = instance(tmp_path)
    out = tmp_path / "out"
    assert invoke("solve", "--model", str(model), "--out", str(out), "--quiet").exit_code == 0
    moved = out / "regions.geojson"
    (tmp_path / "regions.geojson").rename(moved)
    before = snapshot(tmp_path)
    assert_refused(invoke("solve", str(moved), "--model", str(model), "--out", str(out), "--quiet"), before,
                   tmp_path, "holds regions.geojson, which the planner did not write")


@pytest.mark.parametrize("name", [".", "..", "", "  ", "/tmp/elsewhere", "a/b", "..\\\\up"])
def test_unsafe_model_name_cannot_make_the_default_folder(tmp_path, monkeypatch, name):
    model = instance(tmp_path / "data", name=name)
    keepsakes(tmp_path / "results")
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    assert_refused(invoke("solve", "--model", str(model), "--quiet"), before, tmp_path, "name")


@pytest.mark.parametrize("command", [
    ["solve"],
    ["compare"],
    ["sweep", "--vary", "carbon_price=0:10:2", "--workers", "1"],
    ["pareto", "--points", "2"],
    ["alternatives", "--count", "1"],
])
def test_every_writing_command_refuses_a_folder_it_did_not_write(tmp_path, command):
    model = instance(tmp_path, TWO_ROLES)
    out = tmp_path / "mine"
    keepsakes(out)
    before = snapshot(tmp_path)
    result = invoke(*command, "--model", str(model), "--out", str(out), "--quiet")
    assert_refused(result, before, tmp_path, "not written by the planner")


@pytest.mark.parametrize("prefix", ["compare_", "sweep_", "pareto_", "alternatives_"])
def test_every_default_folder_needs_a_safe_model_name(tmp_path, monkeypatch, prefix):
    model = instance(tmp_path / "data", TWO_ROLES, name="../escape")
    monkeypatch.chdir(tmp_path)
    command = {"compare_": ["compare"], "sweep_": ["sweep", "--vary", "carbon_price=0:10:2"],
               "pareto_": ["pareto"], "alternatives_": ["alternatives"]}[prefix]
    before = snapshot(tmp_path)
    assert_refused(invoke(*command, "--model", str(model), "--quiet"), before, tmp_path, "name")


# --- staging folders --------------------------------------------------------------------------------


def _dead_pid() -> int:
    """A process id that no process has now (the highest possible one)."""
    return int(Path("/proc/sys/kernel/pid_max").read_text()) if Path("/proc/sys/kernel/pid_max").exists() else 2**22


def _staging(parent: Path, name: str, pid: int | None, manifest: bool = False) -> Path:
    folder = parent / name
    folder.mkdir()
    (folder / "map.png").write_bytes(b"half written")
    if pid is not None:
        import socket

        listed = "written map.png\n" if manifest else ""
        (folder / MARKER).write_text(f"marked by the planner\npid {pid}\nhost {socket.gethostname()}\n{listed}")
    return folder


@pytest.mark.slow  # in the whole suite only: the fast subset measured 193.6 s on a slow day
def test_staging_left_by_a_killed_run_is_cleaned_by_the_next(tmp_path):
    """Only a marked staging folder of this output (``.out.tmp-`` and mkdtemp's eight characters),
    whose writer is gone and whose marker lists no files, is removed: a finished output copied under
    such a name (its marker lists its files), or one of another name length, is the user's."""
    model = instance(tmp_path)
    killed = _staging(tmp_path, ".out.tmp-killed_1", _dead_pid())
    kept = [
        _staging(tmp_path, ".out.tmp-running", os.getppid()),  # a live process: still writing
        _staging(tmp_path, ".out.tmp-foreign", None),  # not the planner's: never touched
        _staging(tmp_path, ".other.tmp-killed_1", _dead_pid()),  # another output's: left for its own run
        _staging(tmp_path, ".out.tmp-backup01", _dead_pid(), manifest=True),  # a finished output, copied
        _staging(tmp_path, ".out.tmp-keep", _dead_pid()),  # not a name mkdtemp makes
        _staging(tmp_path, ".out.tmp-nomarker", None),  # killed before its marker, or not the planner's
    ]
    (kept[3] / "notes.txt").write_text("mine")
    result = invoke("solve", "--model", str(model), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 0, result.output
    assert not killed.exists()
    assert all(folder.exists() for folder in kept)
    assert (kept[3] / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_staged_folder_removes_its_staging_on_any_exception(tmp_path, error):
    out = tmp_path / "out"
    with pytest.raises(error), staged_folder(out) as staging:
        assert (staging / MARKER).is_file()
        (staging / "part.csv").write_text("x")
        raise error()
    assert list(tmp_path.iterdir()) == []


def test_discard_staging_removes_what_this_process_left(tmp_path):
    staging = prepare_output_dir(tmp_path / "out")
    assert staging.is_dir()
    discard_staging()
    assert list(tmp_path.iterdir()) == []


def test_a_marked_folder_is_replaced_whole(tmp_path):
    out = tmp_path / "out"
    with staged_folder(out) as staging:
        (staging / "first.txt").write_text("1")
    with staged_folder(out) as staging:
        (staging / "second.txt").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "second.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_old_output_that_cannot_be_removed_is_named_and_the_next_run_removes_it(tmp_path, monkeypatch, caplog):
    """The previous output is moved aside and removed once the new one is in place; where a file in it
    cannot be deleted (a locked file), a warning names the folder left; a later run into the same --out
    removes such a folder when it is still whole (marked, its files listed, nothing else in it)."""
    import errno
    import logging
    import shutil

    import planner.export.folder as folder

    out = tmp_path / "out"
    with staged_folder(out) as staging:
        (staging / "first.txt").write_text("1")
    real_rmtree = shutil.rmtree

    def locked(path, ignore_errors=False, **kwargs):  # one file cannot be deleted: nothing is
        if not ignore_errors:
            raise OSError(errno.EPERM, "Operation not permitted", str(Path(path) / "first.txt"))

    monkeypatch.setattr(folder.shutil, "rmtree", locked)
    with caplog.at_level(logging.WARNING), staged_folder(out) as staging:
        (staging / "second.txt").write_text("2")
    monkeypatch.setattr(folder.shutil, "rmtree", real_rmtree)
    left = [path for path in tmp_path.iterdir() if path.name != "out"]
    assert len(left) == 1 and left[0].name.startswith(".out.tmp-") and left[0].name.endswith("-old")
    assert (left[0] / "first.txt").read_text() == "1"
    assert any(str(left[0]) in r.getMessage() and "first.txt: Operation not permitted" in r.getMessage()
               and "delete it by hand" in r.getMessage() for r in caplog.records)
    with staged_folder(out) as staging:
        (staging / "third.txt").write_text("3")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_old_output_holding_a_file_of_the_users_is_kept(tmp_path):
    out = tmp_path / "out"
    with staged_folder(out) as staging:
        (staging / "first.txt").write_text("1")
    aside = tmp_path / ".out.tmp-abcd1234-old"
    out.rename(aside)
    (aside / "notes.txt").write_text("mine")
    with staged_folder(out) as staging:
        (staging / "second.txt").write_text("2")
    assert (aside / "notes.txt").read_text() == "mine"


def test_a_file_added_to_a_marked_folder_is_never_deleted(tmp_path):
    """A file put into the planner's folder after it was written (notes, a copy of an input) refuses the
    next run into it, naming the file; the OS's own litter (.DS_Store) does not."""
    out = tmp_path / "out"
    with staged_folder(out) as staging:
        (staging / "sub").mkdir()
        (staging / "sub" / "first.txt").write_text("1")
    (out / ".DS_Store").write_bytes(b"")
    check_output_dir(out)
    (out / "sub" / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    with pytest.raises(InputError, match="holds sub/notes.txt, which the planner did not write"):
        with staged_folder(out) as staging:
            (staging / "second.txt").write_text("2")
    assert snapshot(tmp_path) == before


def test_check_output_dir_accepts_new_empty_and_marked_folders(tmp_path):
    check_output_dir(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    check_output_dir(tmp_path / "empty")
    (tmp_path / "marked").mkdir()
    (tmp_path / "marked" / MARKER).write_text("written old.csv\n")
    (tmp_path / "marked" / "old.csv").write_text("")
    check_output_dir(tmp_path / "marked")
    (tmp_path / "marked_only").mkdir()
    (tmp_path / "marked_only" / MARKER).write_text("")
    check_output_dir(tmp_path / "marked_only")  # nothing in it but the marker


@pytest.mark.slow
def test_write_outputs_leaves_the_run_timing_as_it_is(tmp_path):
    from planner.export import write_outputs
    from planner.inputs.prepare import DataOptions
    from planner.pipeline import plan
    from planner.solver.outcome import SolverOptions
    from tests.builders import tiny_config

    config = tiny_config(equator_regions(tmp_path / "regions.geojson", [0.0, 1.0], [10, 20]))
    result = plan(config, DataOptions(), SolverOptions())
    before = dict(result.run.timing.seconds)
    summary = write_outputs(result.run, result.inputs, tmp_path / "out", {}, [])
    assert result.run.timing.seconds == before and "write" not in before
    assert set(summary["timing"]) == set(before) | {"write"} and summary["timing"]["write"] > 0
    on_disk = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert on_disk["timing"] == summary["timing"]
    report = (tmp_path / "out" / "report.html").read_text()
    tables_and_maps = float(re.search(r"write_tables_and_maps</td><td[^>]*>([0-9.]+)", report).group(1))
    assert summary["timing"]["write"] > tables_and_maps  # the workbook and the report counted too


def test_a_folder_written_in_place_is_never_replaced(tmp_path):
    """A sweep's folder is written in place and its marker lists no files, so a file the user added to it
    cannot be told from the sweep's: a command that replaces its --out is refused there (the folder and
    the user's file untouched), while a sweep may go on in it."""
    from planner.export.folder import folder_in_place

    out = tmp_path / "sweep"
    with folder_in_place(out):
        (out / "scenario_1").mkdir()
        (out / "scenario_1" / "summary.csv").write_text("x\n")
    (out / "my_notes.txt").write_text("mine")
    with pytest.raises(InputError, match="holds outputs written in place"):
        check_output_dir(out)
    check_output_dir(out, in_place=True)
    assert (out / "my_notes.txt").read_text() == "mine" and (out / "scenario_1" / "summary.csv").exists()


@pytest.mark.slow  # a few seconds: in the whole suite only (the fast subset neared 180 s)
def test_the_longest_name_accepted_is_replaced_by_a_second_run(tmp_path):
    """A 240-byte name passed the check, and the second run failed after its solve: the old folder is
    moved aside as .NAME.tmp-XXXXXXXX-old, four bytes longer than the staging folder."""
    import os

    model = instance(tmp_path)
    longest = os.pathconf(tmp_path, "PC_NAME_MAX") - len(".") - len(".tmp-") - 8 - len("-old")
    out = tmp_path / ("x" * longest)
    for _ in range(2):
        result = invoke("solve", "--model", str(model), "--out", str(out), "--quiet")
        assert result.exit_code == 0, result.output


def test_a_product_without_demand_reads_no_demand_not_served_0(capsys, tmp_path):
    from planner.cli.console import print_summary

    summary = {"currency": "USD", "status": "optimal", "mip_gap": 0.0, "mip_gap_tolerance": 1e-4,
               "best_bound": 10.0, "objective": 10.0, "costs": {"fixed": 10.0}, "co2_t": 0.0,
               "facilities": {"plant": 1}, "demand": {"standard": {"demand": 5.0, "served": 5.0},
                                                       "custom": {"demand": 0.0, "served": 0.0}},
               "timing": {"solve": 0.1}, "audit": {"passed": True, "max_violation": 0.0,
                                                    "objective_relative_difference": 0.0}}
    print_summary(summary, tmp_path)
    printed = capsys.readouterr().out
    assert "custom: 0 units/yr, no demand" in printed and "standard: 5 units/yr, served 100" in printed


def test_small_demand_and_co2_print_their_figures_not_0(capsys, tmp_path):
    """A model in small units (0.001 units/yr of demand) printed 'demand 0 units/yr' and 'co2 0' beside
    an objective of 0.1763, and report.html 'total cost 0 USD/yr'; such figures keep 4 significant
    digits, and a figure of rounding noise (below 1e-9) still reads 0."""
    from planner.cli.console import print_summary
    from planner.export.report import num

    summary = {"currency": "USD", "status": "optimal", "mip_gap": 0.0, "mip_gap_tolerance": 1e-4,
               "best_bound": 0.1763, "objective": 0.1763, "costs": {"unmet_penalty": 0.1763}, "co2_t": 2.5e-5,
               "facilities": {"plant": 0}, "demand": {"standard": {"demand": 0.001025, "served": 0.0}},
               "timing": {"solve": 0.1}, "audit": {"passed": True, "max_violation": 0.0,
                                                    "objective_relative_difference": 0.0}}
    print_summary(summary, tmp_path)
    printed = capsys.readouterr().out
    assert "standard: 0.001025 units/yr, served 0.0%" in printed and "co2         2.5e-05 t/yr" in printed
    assert "co2         0 t/yr" not in printed
    assert [num(0.1763, 0, "USD/yr"), num(-0.3), num(1e-13), num(-1e-12, 2), num(1234.56, 1), num(0.0)] == \
        ["0.1763 USD/yr", "-0.3", "0", "0.00", "1,234.6", "0"]
    # below 100, a figure shown whole keeps 4 significant digits, as on the console: a cost of 1.42 read "1"
    assert [num(1.42), num(45.0), num(99.54), num(123.4)] == ["1.42", "45", "99.54", "123"]


def test_costs_line_names_its_currency_and_unit(capsys, tmp_path):
    """The console's 'costs' line printed bare figures beside 'objective ... EUR/yr'; it now names its
    unit as summary.json's ``units.costs`` does, with the model's currency."""
    from planner.cli.console import print_summary

    summary = {"currency": "EUR", "status": "optimal", "mip_gap": 0.0, "mip_gap_tolerance": 1e-4,
               "best_bound": 1500.0, "objective": 1500.0, "costs": {"fixed": 1000.0, "transport": 500.0},
               "co2_t": 1.0, "facilities": {"plant": 1}, "demand": {"standard": {"demand": 5.0, "served": 5.0}},
               "timing": {"solve": 0.1}, "audit": {"passed": True, "max_violation": 0.0,
                                                    "objective_relative_difference": 0.0},
               "units": {"costs": "currency/yr"}}
    print_summary(summary, tmp_path)
    assert "costs       fixed 1,000, transport 500 (EUR/yr)" in capsys.readouterr().out
    print_summary({key: value for key, value in summary.items() if key != "units"}, tmp_path)
    assert "transport 500 (EUR/yr)" in capsys.readouterr().out  # a summary without units: currency/yr
