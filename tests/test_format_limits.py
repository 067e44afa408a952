"""Limits of the benchmark readers (``planner.formats``): a table that cannot fit in memory is refused
before it is allocated, header counts are integers up to a documented limit, edge lengths and
coordinates so large that distances overflow are refused, a UTF-8 byte-order mark is skipped and a
path that is not a regular file (a device, a pipe) is refused. Every refusal is one InputError line
naming the file; through the CLI it exits 2 without a traceback or a numpy warning."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.errors import InputError
from planner.formats import read_orlib_cap, read_pmed, read_sscflp, read_uflib
from planner.formats import tokens as token_rule
from planner.formats.pmed import read_pmed_distances
from planner.formats.points import read_distance_instance, read_points

CAP = "2 3\n10 5\n10 5\n4 1 2\n4 2 1\n4 3 3\n"
GB = 1e9


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1"))
    return path


def one_line(caught: pytest.ExceptionInfo, path: Path) -> str:
    """The message of an InputError, checked to be one line that names ``path`` (short apart from the path,
    whose length depends on where pytest puts its temporary folders)."""
    message = str(caught.value)
    assert message.startswith(str(path)) and "\n" not in message and len(message) - len(str(path)) < 250, message
    return message


def with_memory(monkeypatch, available: float) -> None:
    """Pretend the machine has ``available`` bytes of memory available."""
    monkeypatch.setattr(token_rule, "available_memory", lambda: available)


def points_text(n_demand: int, n_sites: int, demand_xy=(0.0, 0.0), site_xy=(1.0, 1.0)) -> str:
    demand = "".join(f"{demand_xy[0]} {demand_xy[1]} 1\n" for _ in range(n_demand))
    sites = "".join(f"{site_xy[0]} {site_xy[1]}\n" for _ in range(n_sites))
    return f"POINTS {n_demand} {n_sites} 1\n{demand}{sites}"


def bench(*args: str):
    return CliRunner().invoke(main, ["bench", *args])


def assert_refused(result, *fragments: str) -> None:
    """Exit 2 with one 'error:' line holding every fragment, and nothing else on stderr."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "internal error" not in lines[0] and "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# --- memory: a table that cannot fit is refused before it is allocated ----------------------------


def test_pmed_distance_table_larger_than_memory_is_refused(tmp_path, monkeypatch):
    with_memory(monkeypatch, 16 * GB)
    path = write(tmp_path, "pmed_hugenv.txt", "1000000 0 1\n")
    with pytest.raises(InputError) as caught:
        read_pmed_distances(path)
    message = one_line(caught, path)
    assert "1000000 × 1000000 distance table" in message
    assert "96,000 GB" in message and "12.8 GB of the 16.0 GB available" in message


def test_pmed_table_that_fits_is_read(tmp_path, monkeypatch):
    with_memory(monkeypatch, 16 * GB)
    distance, _ = read_pmed_distances(write(tmp_path, "pmed0.txt", "3 1 1\n1 2 5\n"))
    assert distance.shape == (3, 3)


def test_points_distance_table_larger_than_memory_is_refused(tmp_path, monkeypatch):
    with_memory(monkeypatch, 1e6)  # a 100 × 100 table needs 80 kB, about 1 MB with the working copies
    path = write(tmp_path, "pts.txt", points_text(100, 100))
    with pytest.raises(InputError) as caught:
        read_points(path)
    assert "100 × 100 distance table" in one_line(caught, path)


@pytest.mark.parametrize(
    ("reader", "text"),
    [
        (read_orlib_cap, CAP),
        (read_sscflp, "2 3\n10 5\n10 5\n4 4 4\n1 2 3\n4 5 6\n"),
        (read_uflib, "FILE: x\n2 3 0\n1 5 1 2 3\n2 5 4 5 6\n"),
    ],
)
def test_dense_cost_table_larger_than_memory_is_refused(tmp_path, monkeypatch, reader, text):
    path = write(tmp_path, "inst.txt", text)
    reader(path)  # fits on any machine
    monkeypatch.setattr(token_rule, "FILE_BYTE_COST", 1)  # let the file itself fit
    with_memory(monkeypatch, 600.0)  # its 2 × 3 table needs 48 bytes, 576 with the working copies
    with pytest.raises(InputError) as caught:
        reader(path)
    assert "2 × 3 cost table" in one_line(caught, path)


def test_file_larger_than_memory_is_refused_before_it_is_read(tmp_path, monkeypatch):
    with_memory(monkeypatch, 1000.0)
    path = write(tmp_path, "big.txt", CAP * 10)
    with pytest.raises(InputError) as caught:
        read_orlib_cap(path)
    assert "needs about" in one_line(caught, path)


def test_meminfo_available_is_read_in_bytes(tmp_path):
    meminfo = write(tmp_path, "meminfo", "MemTotal:       4096 kB\nMemAvailable:    2048 kB\n")
    assert token_rule.meminfo_available(meminfo) == 2048 * 1024
    assert token_rule.meminfo_available(tmp_path / "missing") is None
    assert token_rule.meminfo_available(write(tmp_path, "odd", "MemAvailable: lots\n")) is None
    available = token_rule.available_memory()
    assert available is None or available > 0


def test_cli_refuses_a_huge_vertex_count_in_one_line(tmp_path):
    result = bench("pmed", str(write(tmp_path, "pmed_hugenv.txt", "1000000 0 1\n")))
    assert_refused(result, "pmed_hugenv.txt", "1000000 × 1000000 distance table", "GB")


# --- a path that is not a regular file ------------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null")
def test_a_device_is_not_a_benchmark_file():
    with pytest.raises(InputError) as caught:
        read_orlib_cap(Path("/dev/null"))
    assert "not a regular file" in one_line(caught, Path("/dev/null"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_a_named_pipe_is_refused_without_reading_it(tmp_path):
    # checked before it is opened: opening a pipe with no writer would wait for ever
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(InputError, match="not a regular file"):
        token_rule.check_regular_file(pipe)
    with pytest.raises(InputError, match="not a regular file"):
        read_orlib_cap(pipe)


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(), reason="no pipes or /dev/zero")
def test_known_optima_and_model_files_that_are_devices_are_refused(tmp_path):
    """--optima on /dev/zero had filled the memory (2.8 GB in 5 s); --model too. A pipe passes (a shell's
    process substitution, '--optima <(grep cap known_optima.csv)'), as a pipe written to in full."""
    from planner.inputs.config import read_model_config
    from planner.studies.bench import OPTIMA_COLUMNS, read_known_optima

    with pytest.raises(InputError, match=r"not a regular file \(a device\); .*to --optima"):
        read_known_optima(Path("/dev/zero"))
    with pytest.raises(InputError, match=r"not a regular file \(a device\); .*to --model"):
        read_model_config(Path("/dev/zero"))
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    writer = threading.Thread(target=lambda: pipe.write_text(",".join(OPTIMA_COLUMNS) + "\n", encoding="utf-8"))
    writer.start()
    assert read_known_optima(pipe).empty
    writer.join()


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(), reason="no pipes or /dev/zero")
def test_data_files_that_are_devices_or_pipes_are_refused_before_reading(tmp_path):
    """--od-matrix /dev/zero read 1.3 GB before failing, --scenarios /dev/zero ran out of memory, and a FIFO as
    the regions file hung for ever (it was opened four times, the first read draining it)."""
    from planner.inputs.io import read_od_matrix, read_regions, read_sites
    from planner.inputs.scenarios import read_scenarios

    pipe = tmp_path / "regions.csv"
    os.mkfifo(pipe)
    with pytest.raises(InputError, match=r"/dev/zero: is not a regular file \(a device or a pipe\); .*--od-matrix"):
        read_od_matrix(Path("/dev/zero"))
    with pytest.raises(InputError, match=r"not a regular file \(a device or a pipe\); .*to --sites"):
        read_sites(Path("/dev/zero"))
    with pytest.raises(InputError, match=r"regions.csv: is not a regular file \(a device or a pipe\)"):
        read_regions(pipe)
    with pytest.raises(InputError, match=r"not a regular file \(a device or a pipe\); .*to --scenarios"):
        read_scenarios(Path("/dev/zero"), np.array(["a"]), ("p",))


# --- header counts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["1e300 1e300", "20000000 3", "2.5 3", "0 3", "2 inf"])
def test_header_counts_are_integers_up_to_the_limit(tmp_path, header):
    path = write(tmp_path, "cap_huge.txt", f"{header}\n10 5\n")
    with pytest.raises(InputError) as caught:
        read_orlib_cap(path)
    assert "expected an integer ≥ 1 and at most 10,000,000" in one_line(caught, path)


def test_a_huge_vertex_count_is_refused_by_the_count_limit(tmp_path):
    path = write(tmp_path, "pmed_hugenv_ok.txt", "100000000 1 1\n1 2 3\n")
    with pytest.raises(InputError) as caught:
        read_pmed(path)
    assert "the number of vertices (token 1) is 100000000" in one_line(caught, path)


def test_a_file_with_far_fewer_numbers_than_its_header_promises_is_refused_shortly(tmp_path):
    path = write(tmp_path, "short.txt", "10000000 10000000\n10 5\n")
    with pytest.raises(InputError) as caught:
        read_orlib_cap(path)
    assert "found 4" in one_line(caught, path)


def test_a_utf8_byte_order_mark_is_skipped(tmp_path):
    plain = read_orlib_cap(write(tmp_path, "plain.txt", CAP))
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + CAP.encode("ascii"))
    with_bom = read_orlib_cap(path)
    np.testing.assert_array_equal(with_bom.arc_production_cost, plain.arc_production_cost)
    simple = tmp_path / "bom_simple"
    simple.write_bytes(b"\xef\xbb\xbfFILE: x\n1 2 0\n1 5 1 2\n")
    assert read_uflib(simple).n_arcs == 2


# --- lengths and coordinates so large that distances overflow --------------------------------------


def test_pmed_edge_length_above_the_limit_is_refused(tmp_path):
    path = write(tmp_path, "pmed_overflow.txt", "3 2 1\n1 2 1e308\n2 3 1e308\n")
    for reader in (read_pmed, read_distance_instance):
        with pytest.raises(InputError) as caught:
            reader(path)
        assert "edge 1 has length 1e+308, above the limit 1e+15" in one_line(caught, path)


def test_pmed_edge_length_at_the_limit_is_read(tmp_path):
    distance, _ = read_pmed_distances(write(tmp_path, "pmed0.txt", "3 2 1\n1 2 1e15\n2 3 1e15\n"))
    assert distance[0, 2] == 2e15


@pytest.mark.parametrize(
    ("demand_xy", "site_xy", "where"),
    [((1e308, 0.0), (0.0, 0.0), "demand point 1"), ((0.0, 0.0), (0.0, -2e15), "site 1")],
)
def test_points_coordinate_above_the_limit_is_refused(tmp_path, demand_xy, site_xy, where):
    path = write(tmp_path, "pts_hugecoord.txt", points_text(2, 2, demand_xy, site_xy))
    with pytest.raises(InputError) as caught:
        read_points(path)
    message = one_line(caught, path)
    assert where in message and "above the limit 1e+15" in message


@pytest.mark.parametrize(
    ("fmt", "name", "text", "extra"),
    [
        ("pmed", "pmed_overflow.txt", "3 2 1\n1 2 1e308\n2 3 1e308\n", []),
        ("pcenter", "pts_hugecoord.txt", "POINTS 3 2 1\n0 0 1\n1e308 0 1\n-1e308 1 1\n0 0\n1 1\n", []),
        ("lscp", "pts_hugecoord.txt", "POINTS 3 2 1\n0 0 1\n1e308 0 1\n-1e308 1 1\n0 0\n1 1\n", ["--coverage", "1"]),
    ],
)
def test_cli_refuses_overflowing_distances(tmp_path, fmt, name, text, extra):
    result = bench(fmt, str(write(tmp_path, name, text)), *extra)
    assert_refused(result, name, "above the limit 1e+15")
    assert "disconnected" not in result.output and "at least inf" not in result.output


def test_mclp_weight_above_the_limit_is_refused_and_at_it_is_solved(tmp_path):
    """A weight of 1e20 is a covered demand HiGHS's tolerances cannot count to the unit: exit 2 naming the
    point (it was 'check failed' before); at the limit 1e12 the instance solves."""
    huge = write(tmp_path, "pts_heavy.txt", "POINTS 2 1 1\n0 0 1\n3 0 1e20\n0 0\n")
    assert_refused(bench("mclp", str(huge), "--coverage", "5"), "pts_heavy.txt",
                   "demand point 2 has weight 1e+20, above the limit 1e+12")
    at_limit = write(tmp_path, "pts_limit.txt", "POINTS 2 1 1\n0 0 1\n3 0 1e12\n0 0\n")
    result = bench("mclp", str(at_limit), "--coverage", "5")
    assert result.exit_code == 0, result.output
    assert '"objective": 1000000000001.0' in result.output


def test_a_simple_ufl_file_without_its_file_line_is_read_as_simple(tmp_path, caplog):
    """'1 1 0 / 1 5 3' also fits the OR-Library layout (capacity 0, fixed cost 1, demand 5, cost 3: 4);
    its labels and the 0 say simple format: opening cost 5 and cost 3, 8."""
    path = tmp_path / "nohdr.txt"
    path.write_text("2 2 0\n1 5 3 4\n2 6 1 1\n")
    problem = read_uflib(path)
    assert problem.opening_cost.tolist() == [5.0, 6.0]
    assert "'FILE:' line is missing" in caplog.text
    cr_only = tmp_path / "cr.txt"
    cr_only.write_bytes(b"FILE: cr\r2 2 0\r1 5 3 4\r2 6 1 1\r")
    assert read_uflib(cr_only).opening_cost.tolist() == [5.0, 6.0]


def test_points_header_counts_and_cost_positions_in_messages(tmp_path):
    magic = tmp_path / "magic.txt"
    magic.write_text("POINTS\n")
    with pytest.raises(InputError, match="expected the counts 'n_demand n_sites p' after 'POINTS', found 0 tokens"):
        read_points(magic)
    negative = tmp_path / "neg.txt"
    negative.write_text("3 2\n10 5\n10 5\n10 5\n3 1 2 9\n3 2 -1 4\n")  # customer 2's cost from facility 2
    with pytest.raises(InputError, match=r"first: facility 2, customer 2 = -1.0"):
        read_orlib_cap(negative)


def test_an_or_library_file_read_as_ufl_ignores_its_demands():
    """UFL ignores capacities and demands (the M instances hold 0 and 1): a demand of -1 was refused."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mneg.txt"
        path.write_text("2 2\n0 5\n0 6\n-1\n1 2\n1\n3 1\n")
        problem = read_uflib(path)
    assert problem.demand.ravel().tolist() == [1.0, 1.0]
    assert problem.opening_cost.tolist() == [5.0, 6.0]
