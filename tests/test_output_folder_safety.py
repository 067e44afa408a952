"""What the planner may replace in an output folder and how it leaves it: a file changed since the planner
wrote it is kept (the run is refused), a sweep never writes into another command's folder, a rerun's
charts never sit beside another sweep's table, a staging folder that cannot be removed is left marked,
and a folder made private stays private."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

import planner.export.folder as folder_module
from planner.errors import InputError
from planner.export.folder import MARKER, check_output_dir, folder_in_place, prepare_output_dir, staged_folder
from planner.export.sweep_charts import write_sweep_charts


def written_output(out: Path) -> Path:
    with staged_folder(out) as staging:
        (staging / "report.html").write_text("<p>the planner's report</p>", encoding="utf-8")
        (staging / "tables").mkdir()
        (staging / "tables" / "flows.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    return out


def test_a_file_changed_since_the_planner_wrote_it_is_kept(tmp_path):
    out = written_output(tmp_path / "res")
    check_output_dir(out)  # as written: may be replaced
    (out / "report.html").write_text("my notes", encoding="utf-8")
    with pytest.raises(InputError, match="report.html changed since the planner wrote it; nothing was changed"):
        check_output_dir(out)
    with pytest.raises(InputError, match="changed since"):
        written_output(out)
    assert (out / "report.html").read_text(encoding="utf-8") == "my notes"


def test_an_older_marker_without_contents_still_lets_a_run_replace_its_folder(tmp_path):
    out = written_output(tmp_path / "res")
    marker = out / MARKER
    marker.write_text("".join(line + "\n" for line in marker.read_text(encoding="utf-8").splitlines()
                              if not line.startswith("content ")), encoding="utf-8")
    (out / "report.html").write_text("changed", encoding="utf-8")
    written_output(out)
    assert (out / "report.html").read_text(encoding="utf-8") == "<p>the planner's report</p>"


def test_a_sweep_never_writes_into_another_commands_folder(tmp_path):
    out = written_output(tmp_path / "pareto")  # lists its files, as compare, pareto and alternatives do
    with pytest.raises(InputError, match="holds the outputs of another planner command"):
        with folder_in_place(out):
            pass
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "report.html", "tables"]


def test_no_run_writes_inside_another_runs_output(tmp_path):
    """An alternatives run with --out in a pareto's point folder replaced it (exit 0); the pareto was then
    refused as holding files the planner did not write."""
    from click.testing import CliRunner

    from planner.cli import main
    from tests.test_bad_input import write_instance

    write_instance(tmp_path)
    out = written_output(tmp_path / "pareto")
    inner = out / "tables" / "deeper"
    result = CliRunner().invoke(main, ["solve", "--model", str(tmp_path / "model.toml"), "--out", str(inner),
                                       "--quiet"])
    assert result.exit_code == 2 and result.stderr.startswith(f"error: {inner}: is inside {out}, an output")
    assert len(result.stderr.splitlines()) == 1 and not inner.exists()
    assert folder_module.enclosing_output(tmp_path / "elsewhere" / "x") is None


def test_a_default_folder_inside_an_output_says_it_is_the_default(tmp_path, monkeypatch):
    """After '--out results', every run without --out (results/<model name>) is inside that output: the
    message had told the user to choose another --out they never gave."""
    from click.testing import CliRunner

    from planner.cli import main
    from tests.test_bad_input import write_instance

    write_instance(tmp_path)
    monkeypatch.chdir(tmp_path)
    written_output(tmp_path / "results")
    result = CliRunner().invoke(main, ["solve", "--model", "model.toml", "--quiet"])
    assert result.exit_code == 2
    assert "the default output folder, is inside" in result.stderr and "pass --out" in result.stderr


def test_a_sweep_whose_scenarios_all_failed_leaves_no_chart_of_an_earlier_sweep(tmp_path):
    keys = ["carbon_price"]
    done = pd.DataFrame({"carbon_price": [0.0, 10.0], "status": ["optimal"] * 2, "objective": [5.0, 6.0],
                         "n_open_central": [1, 1]})
    first = write_sweep_charts(done, keys, tmp_path)
    assert first and all(path.is_file() for path in first)
    failed = done.assign(status="failed", objective=float("nan"))
    assert write_sweep_charts(failed, keys, tmp_path) == []
    assert not any(path.exists() for path in first)


def test_a_sweep_stopped_between_its_two_charts_leaves_no_chart_of_the_earlier_sweep(tmp_path, monkeypatch):
    """Ctrl-C after the first chart of a rerun had left it beside the earlier sweep's facility_mix.png."""
    from planner.export import sweep_charts

    keys = ["carbon_price"]
    done = pd.DataFrame({"carbon_price": [0.0, 10.0], "status": ["optimal"] * 2, "objective": [5.0, 6.0],
                         "n_type_central": [1, 1]})
    first = write_sweep_charts(done, keys, tmp_path)
    assert [path.name for path in first] == ["sweep_results.png", "facility_mix.png"]
    real = sweep_charts.save_png

    def stopped_at_the_second(figure, path):
        if path.name == "facility_mix.png":
            raise KeyboardInterrupt
        return real(figure, path)

    monkeypatch.setattr(sweep_charts, "save_png", stopped_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        write_sweep_charts(done.assign(objective=[7.0, 8.0]), keys, tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["sweep_results.png"]


def test_a_staging_folder_that_cannot_be_removed_is_left_marked(tmp_path, monkeypatch, caplog):
    staging = prepare_output_dir(tmp_path / "res")
    (staging / "map.png").write_bytes(b"png")

    def files_only(path, ignore_errors=False):  # as when the parent was made read-only meanwhile
        for item in Path(path).iterdir():
            item.unlink()

    monkeypatch.setattr(folder_module.shutil, "rmtree", files_only)
    folder_module._discard(staging)
    assert staging.is_dir() and (staging / MARKER).is_file()
    assert "could not be removed" in caplog.text


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_a_folder_made_private_stays_private(tmp_path):
    out = tmp_path / "private"
    out.mkdir()
    out.chmod(0o700)
    written_output(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    written_output(out)  # and so on a rerun
    assert stat.S_IMODE(out.stat().st_mode) == 0o700


def test_viewing_the_geopackage_in_gis_software_is_not_a_change(tmp_path):
    """QGIS rewrites a GeoPackage's SQLite header (change counter, journal mode) on opening it: a rerun must
    still replace the folder; a change past the header is one."""
    import sqlite3

    out = tmp_path / "res"
    with staged_folder(out) as staging:
        connection = sqlite3.connect(staging / "network.gpkg")
        connection.execute("CREATE TABLE t (x)")
        connection.execute("INSERT INTO t VALUES (1)")
        connection.commit()
        connection.close()
    connection = sqlite3.connect(out / "network.gpkg")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("SELECT count(*) FROM t").fetchall()
    connection.close()
    check_output_dir(out)
    connection = sqlite3.connect(out / "network.gpkg")
    connection.execute("INSERT INTO t VALUES (2)")
    connection.commit()
    connection.close()
    with pytest.raises(InputError, match="network.gpkg changed since"):
        check_output_dir(out)


def test_a_marker_that_recorded_the_whole_geopackage_still_lets_a_rerun_replace_it(tmp_path):
    """Markers written before the SQLite header was left out recorded the whole file's digest."""
    import hashlib
    import sqlite3

    out = tmp_path / "res"
    with staged_folder(out) as staging:
        connection = sqlite3.connect(staging / "network.gpkg")
        connection.execute("CREATE TABLE t (x)")
        connection.commit()
        connection.close()
    marker = out / MARKER
    whole = hashlib.sha256((out / "network.gpkg").read_bytes()).hexdigest()
    marker.write_text("".join(f"content {whole} network.gpkg\n" if line.startswith("content ") else line + "\n"
                              for line in marker.read_text(encoding="utf-8").splitlines()), encoding="utf-8")
    check_output_dir(out)


def test_an_out_behind_a_folder_the_user_may_not_enter_is_one_line(tmp_path, monkeypatch):
    """As a user without the right to enter a folder on the way, --out had ended in an internal error
    ('PermissionError') in solve, compare, sweep, pareto and init (the tests run as root: the denial is
    simulated)."""
    import os

    from planner.export.folder import check_output_dir
    from planner.inputs.template import refuse_existing

    real_lstat = os.lstat

    def denied(path, *args, **kwargs):
        if "locked" in str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_lstat(path, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", denied)
    locked = tmp_path / "locked"
    for check, out in ((check_output_dir, locked / "out"), (refuse_existing, locked / "m.toml")):
        with pytest.raises(InputError, match="permission denied on the way there"):
            check(out)


def test_a_staging_folder_left_by_a_dying_worker_is_not_finished_work(tmp_path):
    """A sweep interrupted while a worker still wrote its staging folder said "what was finished is kept" with
    nothing finished (seen once in CI): a staging folder is unfinished by its name."""
    from planner.export.folder import MARKER, _holds_nothing_but_the_marker

    out = tmp_path / "out"
    (out / "scenarios" / ".s01.tmp-abcdef12").mkdir(parents=True)
    (out / MARKER).write_text("x", encoding="utf-8")
    (out / "scenarios" / ".s01.tmp-abcdef12" / "flows.csv").write_text("a\n", encoding="utf-8")
    assert _holds_nothing_but_the_marker(out)
    (out / "scenarios" / "s02").mkdir()
    (out / "scenarios" / "s02" / "row.json").write_text("{}", encoding="utf-8")
    assert not _holds_nothing_but_the_marker(out)


@pytest.mark.parametrize("read_only, in_place, fragment", [
    ("out", False, "folder is read-only"), ("out", True, "folder is read-only"),
    ("parent", False, "the folder holding it is read-only"),
])
def test_a_read_only_output_is_refused_before_anything_is_done(tmp_path, monkeypatch, read_only, in_place, fragment):
    """A read-only (chmod 555) output had been replaced anyway, each run leaving behind a copy it could not
    remove; a read-only sweep folder ended in an internal error after every scenario was solved. (Run as root,
    the test makes os.access say what an ordinary user's would.)"""
    out = tmp_path / "out"
    out.mkdir()
    folder_module.write_marker(out)
    denied = out if read_only == "out" else tmp_path
    real_access = os.access
    monkeypatch.setattr(folder_module.os, "access", lambda path, mode: Path(path) != denied and real_access(path, mode))
    with pytest.raises(InputError, match=f"out: {fragment}, so the planner cannot write its outputs there"):
        check_output_dir(out, in_place=in_place)


def test_a_sweep_folder_needs_no_write_access_to_the_folder_holding_it(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    folder_module.write_marker(out)
    real_access = os.access
    denied = tmp_path
    monkeypatch.setattr(folder_module.os, "access", lambda path, mode: Path(path) != denied and real_access(path, mode))
    check_output_dir(out, in_place=True)


def test_a_link_to_nothing_on_the_way_to_out_is_not_followed(tmp_path):
    """'results' a link to a missing folder: the solve had made that folder (at the file system's root in
    the review), as mkdir -p would refuse to."""
    target = tmp_path / "missing" / "deeper"
    (tmp_path / "results").symlink_to(target)
    with pytest.raises(InputError, match="results on the way there is a link to a folder that does not exist"):
        check_output_dir(tmp_path / "results" / "run")
    assert not target.exists() and not (tmp_path / "missing").exists()


def test_init_out_ending_in_a_slash_names_a_folder_not_a_file(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from planner.cli import main

    points = tmp_path / "p.csv"
    points.write_text("id,lon,lat,demand\na,8,47,100\nb,9,48,200\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init", str(points), "--out", "newdir/"])
    assert result.exit_code == 2 and "'newdir/' names a folder; give the model file to write" in result.output
    assert not (tmp_path / "newdir").exists()


def test_a_file_of_the_users_put_into_out_during_the_run_keeps_both(tmp_path):
    """The check at the end refused to replace a folder the user had put a file into while the run worked,
    and the finished results went with the staging folder: both are kept now, the results beside it."""
    out = tmp_path / "results"
    with pytest.raises(InputError, match=r"results: folder exists, is not empty and was not written.*"
                                         r"this run's results are kept in .*results-1$"):
        with staged_folder(out) as staging:
            (staging / "flows.csv").write_text("a,b\n1,2\n")
            out.mkdir()
            (out / "notes.txt").write_text("mine")
    assert (out / "notes.txt").read_text() == "mine" and sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    kept = tmp_path / "results-1"
    assert (kept / "flows.csv").read_text() == "a,b\n1,2\n"
    check_output_dir(kept)  # an output of the planner's: a later run may replace it
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left behind


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


@pytest.mark.parametrize("number", [errno.EROFS, errno.EACCES])
def test_a_file_that_may_not_be_written_is_one_line_that_says_the_previous_outputs_are_unchanged(
        tmp_path, capsys, number):
    """A file system remounted read-only during the write (or a permission denied there) had been "internal error:
    OSError: [Errno 30] Read-only file system: '…/.out.tmp-…/map.png'", exit 1."""
    from planner.cli.process import _exit_for

    out = written_output(tmp_path / "res")
    before = tree_bytes(out)
    with pytest.raises(InputError) as caught, staged_folder(out) as staging:
        denied = OSError(number, os.strerror(number), str(staging / "map.png"))
        raise RuntimeError("could not save the figure") from denied
    assert str(caught.value) == (f"{out}: cannot write the outputs ({os.strerror(number)} writing map.png); the "
                                 f"previous outputs in {out} are unchanged; make the folder writable or choose another "
                                 "--out")
    with pytest.raises(SystemExit) as stop:
        _exit_for(caught.value, debug=False)
    assert stop.value.code == 2 and "internal" not in capsys.readouterr().err
    assert tree_bytes(out) == before and sorted(os.listdir(tmp_path)) == ["res"]
    with pytest.raises(InputError, match="; nothing was written; make the folder writable"), \
            staged_folder(tmp_path / "new"):
        raise PermissionError(errno.EACCES, "Permission denied")
    assert sorted(os.listdir(tmp_path)) == ["res"]


def test_a_full_disk_says_the_previous_outputs_are_unchanged(tmp_path, capsys):
    from planner.cli.process import _exit_for

    out = written_output(tmp_path / "res")
    before = tree_bytes(out)
    with pytest.raises(OSError) as caught, staged_folder(out):
        raise OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(SystemExit) as stop:
        _exit_for(caught.value, debug=False)
    assert stop.value.code == 2
    assert capsys.readouterr().err == (f"error: no space left on the device writing {out} (No space left on device); "
                                       f"the previous outputs in {out} are unchanged; free some space or choose "
                                       "another --out\n")
    assert tree_bytes(out) == before and sorted(os.listdir(tmp_path)) == ["res"]


@pytest.mark.parametrize("edit", ["added", "changed"])
def test_a_file_of_the_users_saved_into_out_as_the_run_moves_its_folder_into_place_is_kept(
        tmp_path, monkeypatch, edit):
    """Between the last check of --out and moving the previous output aside, the finished folder's files are
    hashed for its marker (seconds for a large GeoPackage): a file saved into --out then had been deleted with the
    previous output."""
    out = written_output(tmp_path / "res")
    manifest = folder_module.write_manifest

    def user_saves_meanwhile(folder):
        manifest(folder)
        (out / ("notes.txt" if edit == "added" else "report.html")).write_text("mine", encoding="utf-8")

    monkeypatch.setattr(folder_module, "write_manifest", user_saves_meanwhile)
    with pytest.raises(InputError, match=r"nothing was changed.*this run's results are kept in .*res-1$"), \
            staged_folder(out) as staging:
        (staging / "report.html").write_text("<p>the new report</p>", encoding="utf-8")
    assert (out / ("notes.txt" if edit == "added" else "report.html")).read_text(encoding="utf-8") == "mine"
    assert (tmp_path / "res-1" / "report.html").read_text(encoding="utf-8") == "<p>the new report</p>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res", "res-1"]


def long_out(root: Path, length: int) -> Path:
    """A folder path of ``length`` bytes below ``root`` (its parents made)."""
    folder = root
    while len(os.fsencode(str(folder))) + 201 < length - 20:
        folder = folder / ("d" * 200)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / ("o" * (length - len(os.fsencode(str(folder))) - 1))
    assert len(os.fsencode(str(out))) == length
    return out


def longest_out(root: Path) -> Path:
    """The longest --out below ``root`` that the planner accepts."""
    accepted, refused = 300, 4096
    while refused - accepted > 1:
        middle = (accepted + refused) // 2
        try:
            check_output_dir(long_out(root, middle))
            accepted = middle
        except InputError:
            refused = middle
    return long_out(root, accepted)


def two_type_model(tmp_path: Path) -> Path:
    from tests.builders import equator_regions, tiny_model_file

    regions = equator_regions(tmp_path / "r.geojson", [0.0, 1.0], [10, 10])
    return tiny_model_file(tmp_path / "m.toml", regions, """[facility_types.central]
opening_cost_per_yr = 100.0
products = { standard = { cost_per_unit = 1.0, co2_kg_per_unit = 10.0 } }
[facility_types.micro]
opening_cost_per_yr = 150.0
products = { standard = { cost_per_unit = 1.5, co2_kg_per_unit = 2.0 } }
""")


def test_an_out_too_long_for_the_geopackage_is_refused_before_solving(tmp_path):
    """A 2,100-byte --out (well within the file system's 4,095) had solved, then ended in "internal error:
    DataSourceError: sqlite3_open(…/network.gpkg) failed": GDAL opens no GeoPackage path above 2,040 bytes."""
    from click.testing import CliRunner

    from planner.cli import main

    model, out = two_type_model(tmp_path), long_out(tmp_path / "deep", 2100)
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.output
    assert "the path is 2,100 bytes, at most" in result.output and "internal" not in result.output
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize("command", [["pareto", "--points", "2"], ["alternatives", "--count", "1"]])
def test_the_longest_out_accepted_holds_the_folders_of_its_runs(tmp_path, command):
    """At the longest --out accepted, pareto's points and the alternatives' networks (folders inside the staging
    folder, each checked as an output) had been refused after solving."""
    from click.testing import CliRunner

    from planner.cli import main

    model, out = two_type_model(tmp_path), longest_out(tmp_path / "deep")
    result = CliRunner().invoke(main, [*command, "--model", str(model), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert (out / ("pareto.csv" if command[0] == "pareto" else "alternatives.csv")).is_file()
    assert list(out.rglob("network.gpkg"))
