"""The program with unusual standard streams and names: stdout or stderr closed by the caller, a terminal
that cannot encode the names, a file name that is not text, a full disk. Each runs ``python -m planner``
as a subprocess through the shell (the only way to close a descriptor for it) on a tiny model."""

from __future__ import annotations

import collections
import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from planner.cli.process import _exit_for
from tests.builders import equator_regions, tiny_model_file

pytestmark = pytest.mark.skipif(os.name != "posix", reason="closes descriptors with a POSIX shell")


@pytest.fixture()
def model(tmp_path) -> Path:
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0, 2.0], [10.0, 20.0, 30.0])
    return tiny_model_file(tmp_path / "model.toml", regions)


def shell(command: str, folder: Path, **environment: str) -> subprocess.CompletedProcess:
    """``command`` with ``planner`` standing for this interpreter's ``-m planner``, run in ``folder``."""
    planner = f"{sys.executable} -m planner"
    return subprocess.run(["bash", "-c", command.replace("planner", planner, 1)], cwd=folder, capture_output=True,
                          env={**os.environ, **environment}, timeout=300)


@pytest.mark.slow
def test_a_solve_with_stdout_closed_writes_its_outputs(model, tmp_path):
    done = shell(f"planner solve --model {model} --out out --quiet >&- 2>err.txt", tmp_path)
    assert done.returncode == 0, (tmp_path / "err.txt").read_text()
    assert "Traceback" not in (tmp_path / "err.txt").read_text()
    assert (tmp_path / "out" / "summary.json").is_file()


@pytest.mark.slow
def test_a_solve_with_stderr_closed_writes_its_outputs(model, tmp_path):
    """A closed descriptor 2 had been taken by the first file opened (or left read-only by a launcher), and
    HiGHS ended without a solution."""
    done = shell(f"planner solve --model {model} --out out 2>&- >log.txt", tmp_path)
    assert done.returncode == 0, (tmp_path / "log.txt").read_text()
    assert "written" in (tmp_path / "log.txt").read_text()
    assert (tmp_path / "out" / "summary.json").is_file()


@pytest.mark.slow
def test_names_a_terminal_cannot_encode_are_escaped_not_an_error(model, tmp_path):
    done = shell(f"planner solve --model {model} --out 'résultats 日本'", tmp_path, PYTHONIOENCODING="latin-1")
    assert done.returncode == 0, done.stderr
    assert b"r\xe9sultats \\u65e5\\u672c" in done.stdout
    assert (tmp_path / "résultats 日本" / "summary.json").is_file()


@pytest.mark.slow
def test_a_name_that_is_not_text_is_refused_in_one_line(model, tmp_path):
    done = shell(f"planner solve --model {model} --out $'bad\\xffname'", tmp_path)
    assert done.returncode == 2
    assert done.stderr.decode().strip().startswith("error: 'bad\\xffname' holds bytes that are not")
    assert b"Traceback" not in done.stderr
    assert sorted(os.listdir(tmp_path)) == ["model.toml", "regions.geojson"]  # nothing written


def test_a_full_disk_is_one_line_not_an_internal_error(capsys):
    with pytest.raises(SystemExit) as stop:
        _exit_for(OSError(errno.ENOSPC, "No space left on device", "out/.tmp-1/map.png"), debug=False)
    assert stop.value.code == 2
    line = capsys.readouterr().err
    assert line.startswith("error: no space left on the device writing out/.tmp-1/map.png") and "internal" not in line


@pytest.mark.parametrize("number", [errno.EACCES, errno.EROFS])
def test_a_file_that_may_not_be_written_is_one_line_not_an_internal_error(capsys, number):
    """sweep.csv, written in place, in a folder made read-only during the sweep had been "internal error:
    PermissionError: [Errno 13] Permission denied: 'out/sweep.csv'", exit 1."""
    with pytest.raises(SystemExit) as stop:
        _exit_for(OSError(number, os.strerror(number), "out/sweep.csv"), debug=False)
    assert stop.value.code == 2
    assert capsys.readouterr().err == (f"error: out/sweep.csv: {os.strerror(number)}; check the permissions of the "
                                       "file and its folder, or choose another path\n")


def test_a_file_size_limit_is_one_line_not_an_internal_error(capsys):
    with pytest.raises(SystemExit) as stop:
        _exit_for(OSError(errno.EFBIG, "File too large", "out/.tmp-1/results.xlsx"), debug=False)
    assert stop.value.code == 2
    line = capsys.readouterr().err
    assert line.startswith("error: a file larger than the file system or this process's file-size limit allows "
                           "writing out/.tmp-1/results.xlsx (File too large); raise the limit (ulimit -f)")


def test_a_full_disk_behind_another_error_is_still_one_line(capsys):
    """The PDF writer's AttributeError raised while handling ENOSPC had been an internal error."""
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError:
            raise AttributeError("'Stream' object has no attribute 'pos'") from None
    except AttributeError as error:
        hidden = error
    hidden.__context__ = OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(SystemExit) as stop:
        _exit_for(hidden, debug=False)
    assert stop.value.code == 2
    assert capsys.readouterr().err.startswith("error: no space left on the device")


def test_a_gis_write_failing_on_a_full_disk_is_an_oserror(tmp_path, monkeypatch):
    import geopandas as gpd
    from shapely.geometry import Point

    import planner.export.folder as folder

    layer = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs="EPSG:4326")

    def failing(*args, **kwargs):
        raise RuntimeError("Failed to commit transaction")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", failing)
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(folder.shutil, "disk_usage", lambda path: usage(10**9, 10**9, 1000))
    with pytest.raises(OSError) as caught:
        folder.write_gis_layer(layer, tmp_path / "network.gpkg", "regions")
    assert caught.value.errno == errno.ENOSPC
    monkeypatch.setattr(folder.shutil, "disk_usage", lambda path: usage(10**9, 0, 10**9))
    with pytest.raises(RuntimeError):  # space left: the library's error is not a full disk
        folder.write_gis_layer(layer, tmp_path / "network.gpkg", "regions")


def test_a_gis_write_failing_on_a_device_out_of_inodes_is_an_oserror(tmp_path, monkeypatch):
    """A tmpfs with no inodes left (bytes to spare): "internal error: DataSourceError: sqlite3_exec(CREATE
    TABLE ..." had been the message."""
    import os

    import geopandas as gpd
    from shapely.geometry import Point

    import planner.export.folder as folder

    layer = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs="EPSG:4326")

    def failing(*args, **kwargs):
        raise RuntimeError("sqlite3_exec(CREATE TABLE gpkg_spatial_ref_sys ...) failed")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", failing)
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(folder.shutil, "disk_usage", lambda path: usage(10**9, 0, 10**9))  # bytes to spare
    stats = collections.namedtuple("stats", "f_files f_favail")
    monkeypatch.setattr(folder.os, "statvfs", lambda path: stats(8, 0), raising=False)
    with pytest.raises(OSError) as caught:
        folder.write_gis_layer(layer, tmp_path / "network.gpkg", "regions")
    assert caught.value.errno == errno.ENOSPC
    monkeypatch.setattr(folder.os, "statvfs", lambda path: stats(10**6, 10**5), raising=False)
    with pytest.raises(RuntimeError):
        folder.write_gis_layer(layer, tmp_path / "network.gpkg", "regions")
    assert os.path.isdir(tmp_path)


def test_a_full_disk_while_writing_the_outputs_names_the_out_folder(tmp_path, capsys):
    """matplotlib's full-disk error (a zlib flush) names no file, and one from a GIS write names the staging
    folder's: the line names --out, and nothing is left behind."""
    from planner.export.folder import staged_folder

    out = tmp_path / "results"
    for filename in (None, "x/.results.tmp-1/network.gpkg"):
        with pytest.raises(OSError) as caught, staged_folder(out):
            raise RuntimeError("zlib flush") from OSError(errno.ENOSPC, "No space left on device", filename)
        with pytest.raises(SystemExit) as stop:
            _exit_for(caught.value, debug=False)
        assert stop.value.code == 2
        assert capsys.readouterr().err == (f"error: no space left on the device writing {out} (No space left on "
                                           "device); free some space or choose another --out\n")
        assert os.listdir(tmp_path) == []
