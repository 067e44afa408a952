"""``planner bench`` on files of the published families it has not seen (other sizes, other quirks), each
written here in its family's layout: a file given in the wrong format is named as the format that reads it,
whatever part of the file the wrong reader stops at (a header count as much as a token count)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from planner.errors import InputError
from planner.studies.bench import run_bench

UFLIB_SIMPLE = "FILE: B2.1\n3 2 0\n1 10 1 2\n2 10 2 1\n3 10 3 3\n"  # Bilde–Krarup layout: n m 0, then i f_i c_i1 c_i2
CAP_FILE = "2 3\n 10 5\n 10 5\n 4\n 1 2\n 4\n 2 1\n 4\n 3 3\n"  # OR-Library cap: m n, s_i f_i, then d_j c_1j c_2j


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(("fmt", "name", "text", "other"), [
    ("pmed", "B2.1", UFLIB_SIMPLE, "ufl"),  # 'n m 0' read as 'nv ne p'
    ("ufl", "graph.txt", "3 0 1\n", "pmed"),  # a graph without edges: 'm n' with n = 0 customers
])
def test_a_header_count_refused_names_the_format_that_reads_the_file(tmp_path, fmt, name, text, other):
    """The refusal of a header count names the format that reads the file, as a refusal of the token count does."""
    path = write(tmp_path, name, text)
    with pytest.raises(InputError, match=f"it reads as a '{other}' file: if it is one, use 'planner bench {other}'$"):
        list(run_bench(fmt, [path], threads=1))


@pytest.mark.parametrize(("fmt", "options"), [("pcenter", {}), ("mclp", {"coverage": 5.0}),
                                             ("lscp", {"coverage": 5.0})])
def test_a_cap_file_given_to_a_classic_model_is_named_a_cap_file(tmp_path, fmt, options):
    """The classic models read pmed graphs; an OR-Library cap file refused by their reader is named as what it is."""
    path = write(tmp_path, "capx.txt", CAP_FILE)
    with pytest.raises(InputError, match=r"it reads as a 'cap' file: if it is one, use 'planner bench cap'$"):
        list(run_bench(fmt, [path], threads=1, **options))
    good = write(tmp_path, "graph.txt", "3 2 1\n1 2 5\n2 3 4\n")
    with pytest.raises(InputError, match="use 'planner bench cap'"):  # several files: checked before the first solve
        list(run_bench(fmt, [good, path], threads=1, **options))


OPT_LONG = "2 0 0 1 1 2 0 1 9 4 0 2 2 1 0 1 3 0 2 1 1 0 4 1 1 2 2 0 1 2 236500\n"  # 30 customers' facilities, the cost


@pytest.mark.parametrize(("opt", "name"), [("0 1 23\n", "B2.1.opt"), ("0 1 23\n", "B2.1.opt.gz"),
                                          (OPT_LONG, "B2.1.opt")])
def test_a_uflib_opt_file_given_as_an_instance_is_named_a_solution(tmp_path, opt, name):
    """`planner bench ufl B/*` takes in the .opt files beside the instances (gzip-compressed too); the refusal says
    what they are and to leave them out, not to download them again whole or to correct a count."""
    write(tmp_path, "B2.1", UFLIB_SIMPLE)
    path = tmp_path / name
    path.write_bytes(gzip.compress(opt.encode()) if name.endswith(".gz") else opt.encode())
    with pytest.raises(InputError, match=rf"{re.escape(name)} is a UflLib solution file .*: leave it out "
                       r"\(the instance is B2\.1\)$"):
        list(run_bench("ufl", [tmp_path / "B2.1", path], threads=1))


HOLMBERG_FILE = "2 4\n 10 5\n 10 5\n 2 3 4 1\n 1 2 3 2\n 2 1 3 2\n"  # m n, s_i f_i, the demands, then costs by facility


def test_a_holmberg_file_given_as_ufl_is_warned_about(tmp_path, caplog):
    """ufl reads any OR-Library layout file, customer by customer; a Holmberg file holds as many numbers,
    facility by facility, so it reads as other costs: its line breaks are warned about, as under cap."""
    path = write(tmp_path, "p25", HOLMBERG_FILE)
    list(run_bench("ufl", [path], threads=1))
    assert "laid out as in a Holmberg single-source file" in caplog.text
    assert "read it with 'planner bench sscflp'" in caplog.text
    caplog.clear()
    for name, text in (("capx.txt", CAP_FILE), ("B2.1", UFLIB_SIMPLE)):  # the layouts ufl reads: no warning
        list(run_bench("ufl", [write(tmp_path, name, text)], threads=1))
    assert "laid out as in" not in caplog.text


GRAPH_P0 = "4 3 0\n1 2 5\n2 3 4\n3 4 6\n"  # a path graph whose header asks for p = 0 medians


def test_a_graph_whose_p_is_0_is_solved_with_p_given_and_by_lscp(tmp_path):
    """p = 0 in the header is a p the file does not give: --p N gives it (pmed, pcenter, mclp), and lscp, which
    opens as many sites as covering needs, reads the graph as it is; without --p the refusal says to pass it."""
    path = write(tmp_path, "graph.txt", GRAPH_P0)
    for fmt, options in (("pmed", {}), ("pcenter", {}), ("mclp", {"coverage": 5.0})):
        with pytest.raises(InputError, match=r"graph\.txt: .*p( is |=)0.*pass --p N"):
            list(run_bench(fmt, [path], threads=1, **options))
    assert [row["objective"] for row in run_bench("pmed", [path], p=2, threads=1)] == [9.0]  # sites 2 and 4
    assert [row["objective"] for row in run_bench("pcenter", [path], p=2, threads=1)] == [5.0]
    assert [row["objective"] for row in run_bench("lscp", [path], coverage=5.0, threads=1)] == [2.0]


KRATICA_FILE = "2 3\n0 5.5\n0 4.25\n1\n1.5 2.5\n1\n2 1\n1\n3 0.5\n"  # UflLib M layout: capacities 0, demands 1


@pytest.mark.parametrize("fmt", ["cap", "sscflp"])
def test_a_kratica_file_given_as_capacitated_is_named_an_uncapacitated_one(tmp_path, fmt):
    """A Kratica M file is UFL in the OR-Library layout with every capacity 0: read as capacitated it has no
    solution, and the reason says to read it as ufl, which solves it."""
    path = write(tmp_path, "MP1", KRATICA_FILE)
    (row,) = run_bench(fmt, [path], threads=1)
    assert row["status"] == "infeasible"
    assert row["reason"].endswith("every capacity is 0, as in UflLib's uncapacitated M files: if MP1 is one, read it "
                                  "with 'planner bench ufl'")
    (row,) = run_bench("ufl", [path], threads=1)
    assert row["objective"] == pytest.approx(4.25 + 2.5 + 1 + 0.5)  # facility 2 alone serves all three


@pytest.mark.parametrize("fmt", ["pmed", "cap", "ufl", "sscflp"])
def test_a_points_file_given_to_a_problem_format_is_named_for_the_classic_models(tmp_path, fmt):
    path = write(tmp_path, "square.txt", "POINTS 2 2 1\n0 0 1\n3 4 2\n0 0\n3 4\n")
    with pytest.raises(InputError, match=r"it is a POINTS file .*: read it with 'planner bench pcenter', 'mclp' or "
                       r"'lscp'$"):
        list(run_bench(fmt, [path], threads=1))
