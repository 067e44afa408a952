"""What an interruption says it kept, and the sweep's folder, cluster address and size checks
(found by signalling and feeding malformed options to every command)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pandas as pd
import pytest

from planner.errors import InputError
from planner.export.folder import folder_in_place, staged_folder, write_marker
from planner.interrupt import STOP, handle_signals, interruption, note_kept
from planner.studies.sweep.runner import dask_client, write_csv_atomically
from planner.studies.sweep.spec import MAX_SCENARIOS, Vary, sample_points


def test_an_interruption_after_the_folder_is_in_place_says_it_was_written(tmp_path):
    """A signal that comes once the output folder has been moved into place: the folder is the new
    one, complete, and the message says so instead of "nothing written"."""
    out = tmp_path / "out"
    with handle_signals():
        with staged_folder(out) as staging:
            (staging / "summary.json").write_text("{}", encoding="utf-8")
        STOP.set()
        assert str(interruption()) == f"interrupted by Ctrl-C; {out} written in full"
    assert (out / "summary.json").is_file()


def test_a_folder_finished_inside_another_still_being_written_is_not_called_kept(tmp_path):
    """``alternatives`` writes each network's folder inside its own staging folder: an interruption
    after one of them is in place still removes the whole staging folder, so nothing was written."""
    out = tmp_path / "out"
    with handle_signals():
        with pytest.raises(KeyboardInterrupt), staged_folder(out) as staging:
            with staged_folder(staging / "networks") as inner:
                (inner / "summary.json").write_text("{}", encoding="utf-8")
            STOP.set()
            assert str(interruption()) == "interrupted by Ctrl-C; nothing written"
            raise KeyboardInterrupt
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_an_interruption_before_anything_is_written_says_nothing_written():
    with handle_signals():
        STOP.set()
        assert str(interruption()) == "interrupted by Ctrl-C; nothing written"
        note_kept("x")
        assert str(interruption()) == "interrupted by Ctrl-C; x"
    with handle_signals():  # a later run starts afresh
        STOP.set()
        assert str(interruption()) == "interrupted by Ctrl-C; nothing written"


def test_an_interrupted_sweep_says_its_finished_scenarios_are_kept(tmp_path):
    out = tmp_path / "sweep"
    with handle_signals():
        with pytest.raises(KeyboardInterrupt):
            with folder_in_place(out):
                (out / "scenarios" / "abc").mkdir(parents=True)
                (out / "scenarios" / "abc" / "row.json").write_text("{}", encoding="utf-8")
                raise KeyboardInterrupt
        STOP.set()
        assert str(interruption()).endswith(f"what was finished is kept in {out} (a rerun goes on from it)")
    assert (out / "scenarios" / "abc" / "row.json").is_file()


def test_an_interrupted_sweep_leaves_the_users_empty_folder_empty(tmp_path):
    """Nothing finished in an existing empty folder: it is left as it was, without the planner's marker
    (a marker left behind had let a later sweep overwrite a file the user then put there)."""
    out = tmp_path / "mine"
    out.mkdir()
    with handle_signals():
        with pytest.raises(KeyboardInterrupt):
            with folder_in_place(out):
                (out / "scenarios" / "abc").mkdir(parents=True)
                raise KeyboardInterrupt
        STOP.set()
        assert str(interruption()) == "interrupted by Ctrl-C; nothing written"
    assert out.is_dir() and list(out.iterdir()) == []


def test_an_interrupted_sweep_leaves_a_folder_another_sweep_is_writing_in(tmp_path):
    """Two sweeps into one new folder: the one that created it, interrupted with nothing finished, had
    removed it whole, the other's staging folders with it (its scenarios failed "No such file") and its marker
    (no rerun could resume it)."""
    out = tmp_path / "shared"
    with handle_signals():
        with pytest.raises(KeyboardInterrupt):
            with folder_in_place(out):
                staging = out / "scenarios" / ".abc.tmp-12345678"
                staging.mkdir(parents=True)
                (staging / ".planner-output").write_text(f"pid {os.getppid()}\n", encoding="utf-8")  # alive
                (staging / "map.png").write_bytes(b"png")
                raise KeyboardInterrupt
    assert (out / ".planner-output").is_file() and (staging / "map.png").is_file()


def test_an_interrupted_sweep_removes_the_folder_it_created_with_nothing_in_it(tmp_path):
    out = tmp_path / "new" / "sweep"
    with handle_signals():
        with pytest.raises(KeyboardInterrupt):
            with folder_in_place(out):
                (out / "scenarios").mkdir()
                raise KeyboardInterrupt
    assert not (tmp_path / "new").exists()


def test_a_sweep_rerun_refuses_a_table_or_chart_edited_or_put_there(tmp_path):
    """A rerun had replaced sweep.csv with the user's notes in it, overwritten a chart the user put there, and
    removed charts it had nothing for: each is refused now, nothing touched."""
    from planner.export.folder import check_top_files, record_top_files

    names = ("sweep.csv", "sweep_results.png", "facility_mix.png")
    out = tmp_path / "sweep"
    with folder_in_place(out):
        (out / "sweep.csv").write_text("scenario,cost\n0,1\n", encoding="utf-8")
        record_top_files(out, names)
    check_top_files(out, names)  # as written: a rerun may replace it
    (out / "facility_mix.png").write_bytes(b"MY OWN CHART")
    with pytest.raises(InputError, match="facility_mix.png changed since the planner wrote it .or was put there"):
        check_top_files(out, names)
    (out / "facility_mix.png").unlink()
    with open(out / "sweep.csv", "a", encoding="utf-8") as table:
        table.write("my notes on row 1\n")
    with pytest.raises(InputError, match="sweep.csv changed since the planner wrote it"):
        check_top_files(out, names)


def test_a_sweep_into_a_solve_folder_is_refused(tmp_path):
    """Written in place, a sweep would leave the solve's summary, tables and maps beside its own."""
    out = tmp_path / "solved"
    out.mkdir()
    write_marker(out)
    (out / "summary.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="holds the outputs of another planner command"):
        with folder_in_place(out):
            pass
    assert sorted(p.name for p in out.iterdir()) == [".planner-output", "summary.json"]


def test_sweep_csv_is_readable_by_others_as_the_umask_allows(tmp_path):
    previous = os.umask(0o022)
    try:
        write_csv_atomically(pd.DataFrame({"a": [1]}), tmp_path / "sweep.csv")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "sweep.csv").stat().st_mode) == 0o644


def test_a_malformed_scheduler_address_is_an_input_error():
    with pytest.raises(InputError, match="--scheduler garbage: not a scheduler address"):
        with dask_client(scheduler="garbage"):
            pass


@pytest.mark.slow  # in the whole suite only: the fast subset measured 193.6 s on a slow day
def test_a_sweep_is_bounded_in_size():
    with pytest.raises(InputError, match="1,000,000,000 values; a sweep runs at most"):
        Vary.parse("carbon_price=0:150:1000000000")
    assert len(Vary.parse(f"carbon_price=0:1:{MAX_SCENARIOS}").values) == MAX_SCENARIOS
    wide = Vary("a", tuple(float(v) for v in range(400)))
    with pytest.raises(InputError, match="160,000 combinations"):
        sample_points([wide, Vary("b", wide.values)])
    with pytest.raises(InputError, match="--samples 100,000,000"):
        sample_points([wide], "lhs", samples=100_000_000)


def test_a_signal_after_the_run_has_ended_says_what_it_had_finished():
    """The program's run has ended (its output in place); a signal in the interpreter's teardown gets
    the run's line and the signal's code, not a silent death by the default handler."""
    script = (
        "import os, signal, time\n"
        "from planner.interrupt import handle_signals, note_kept\n"
        "with handle_signals(until_exit=True):\n"
        "    note_kept('out written in full')\n"
        "os.kill(os.getpid(), signal.SIGTERM)\n"
        "time.sleep(10)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 143
    assert done.stderr.strip() == "error: interrupted by SIGTERM while exiting; out written in full"


def test_a_signal_ignored_before_the_run_stays_ignored_after_it():
    """Under nohup SIGHUP is ignored: closing the terminal as the run ends must not turn a finished run
    into exit 129."""
    script = (
        "import os, signal\n"
        "from planner.interrupt import handle_signals\n"
        "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
        "with handle_signals(until_exit=True):\n"
        "    pass\n"
        "os.kill(os.getpid(), signal.SIGHUP)\n"
        "print('done')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "done" and not done.stderr


@pytest.mark.parametrize("name", ["SIGHUP", "SIGINT"])
def test_a_signal_ignored_before_the_run_stays_ignored_during_it(name):
    """Under nohup SIGHUP is ignored, and a script's background job starts with SIGINT ignored: the run
    must go on when it comes (it had ended with exit 129 or 130, its solve lost)."""
    script = (
        "import os, signal\n"
        "from planner.interrupt import handle_signals\n"
        f"signal.signal(signal.{name}, signal.SIG_IGN)\n"
        "with handle_signals(until_exit=True):\n"
        f"    os.kill(os.getpid(), signal.{name})\n"
        "    print('went on')\n"
        f"print(signal.getsignal(signal.{name}) is signal.SIG_IGN)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.split() == ["went", "on", "True"] and not done.stderr


def test_a_sweep_stopped_after_writing_its_charts_can_be_rerun(tmp_path, monkeypatch):
    """The charts were written, then Ctrl-C before the record: every rerun was refused as if the user had put
    the planner's own charts there."""
    import planner.export.sweep_folder as sweep_folder

    out = tmp_path / "sweep"

    def charts_then_ctrl_c(config, varies, data, options, folder, **kwargs):
        (folder / "scenarios").mkdir(exist_ok=True)
        (folder / "scenarios" / "row.json").write_text("{}", encoding="utf-8")  # a finished scenario is kept
        (folder / "sweep_results.png").write_bytes(b"the planner's chart")
        raise KeyboardInterrupt

    from planner.studies.sweep import SweepResult

    done = SweepResult(pd.DataFrame({"status": [], "key": []}), [], solved=0, reused=0, failed=0)

    def finished(config, varies, data, options, folder, **kwargs):
        (folder / "sweep.csv").write_text("scenario\n0\n", encoding="utf-8")
        (folder / "sweep_results.png").write_bytes(b"the first sweep's chart")
        return done

    monkeypatch.setattr(sweep_folder, "run_sweep", finished)
    sweep_folder.sweep_to_folder(None, [], None, None, out)  # a finished sweep: its files recorded
    monkeypatch.setattr(sweep_folder, "run_sweep", charts_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        sweep_folder.sweep_to_folder(None, [], None, None, out)
    monkeypatch.setattr(sweep_folder, "run_sweep", lambda *args, **kwargs: done)
    assert sweep_folder.sweep_to_folder(None, [], None, None, out) is done


def test_a_sweep_whose_record_cannot_be_written_says_so_and_leaves_no_partial_marker(tmp_path, monkeypatch):
    """A finished sweep whose record failed (a full disk) had returned as if written, and the next rerun was
    refused; a failed record left '.planner-output-new' behind."""
    import errno

    import planner.export.folder as folder
    import planner.export.sweep_folder as sweep_folder

    out = tmp_path / "sweep"
    monkeypatch.setattr(sweep_folder, "run_sweep", lambda *args, **kwargs: "done")
    real_replace = os.replace

    def full(source, target):
        if str(source).endswith("-new"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr(folder.os, "replace", full)
    with pytest.raises(OSError):
        sweep_folder.sweep_to_folder(None, [], None, None, out)
    assert not list(tmp_path.rglob("*-new"))
