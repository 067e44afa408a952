"""A sweep's scratch folder in the system's temporary folder (``planner.studies.sweep.runner.scratch_folder``):
marked with its writer, removed when the sweep ends, and, where a sweep was killed (``kill -9``: no cleanup
runs), removed by the next sweep; nothing unmarked, nothing of a running process."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest

from planner.owner import owner_is_gone, owner_lines
from planner.studies.sweep import runner


@pytest.fixture
def temporary_folder(tmp_path, monkeypatch):
    """The system's temporary folder for this test: an empty folder of its own."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def ended_process_id() -> int:
    """The process id of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def scratch(parent, name: str, owner: str | None):
    folder = parent / f"planner-sweep-{name}"
    (folder / "dask-scratch-space").mkdir(parents=True)
    if owner is not None:
        (folder / runner.SCRATCH_OWNER).write_text(owner, encoding="utf-8")
    return folder


def test_a_killed_sweeps_scratch_folder_goes_and_nothing_else(temporary_folder):
    host = owner_lines().splitlines()[1]
    killed = scratch(temporary_folder, "killed", f"pid {ended_process_id()}\n{host}\n")
    running = scratch(temporary_folder, "running", f"pid {os.getppid()}\n{host}\n")
    unmarked = scratch(temporary_folder, "unmarked", None)
    elsewhere = scratch(temporary_folder, "elsewhere", f"pid {ended_process_id()}\nhost another-machine\n")
    other = temporary_folder / "planner-other"
    other.mkdir()
    with runner.scratch_folder() as folder:
        assert (temporary_folder / os.path.basename(folder) / runner.SCRATCH_OWNER).read_text() == owner_lines()
        assert not killed.exists()
        assert running.exists() and unmarked.exists() and elsewhere.exists() and other.exists()
    assert not os.path.exists(folder)


def test_the_owner_mark_tells_an_ended_writer_from_a_running_one():
    host = owner_lines().splitlines()[1]
    assert owner_is_gone(f"pid {ended_process_id()}\n{host}\n")
    assert not owner_is_gone(owner_lines())  # this process
    assert not owner_is_gone(f"pid {os.getppid()}\n{host}\n")
    assert not owner_is_gone("pid twelve\n" + host)
    assert not owner_is_gone("")
