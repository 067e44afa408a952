"""Benchmark readers (``planner.formats``): parsing of tiny hand-written files, one trap each, and the
published instances solved with the planner's model against ``known_optima.csv``.

The published instances live outside the repository (``../shared/benchmarks``, or the folder in
``PLANNER_BENCHMARKS``); their tests are skipped when it is missing. Instances that take more than
about 5 s are marked ``slow``; the ``capa`` rows (100 × 1,000) are marked ``capa`` and ``slow``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from planner.errors import InputError
from planner.formats import read_orlib_cap, read_pmed, read_sscflp, read_ufl_opt, read_uflib
from planner.formats.dense import problem_from_costs
from planner.formats.orlib_cap import parse_orlib_cap
from planner.formats.pmed import read_pmed_distances
from planner.formats.uflib import assignment_cost, opt_path
from planner.studies.bench import (
    OPTIMA_COLUMNS,
    cases_from_optima,
    known_optimum,
    matches,
    parse_params,
    problem_variant,
    read_known_optima,
    run_bench,
)
from tests.conftest import SHARED_BENCHMARKS

BENCHMARKS = SHARED_BENCHMARKS
OPTIMA = BENCHMARKS / "known_optima.csv"
needs_benchmarks = pytest.mark.skipif(not OPTIMA.exists(), reason=f"published benchmarks not found at {BENCHMARKS}")


def write(tmp_path: Path, name: str, text: str, newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode("ascii"))
    return path


def cost_matrix(problem) -> np.ndarray:
    """(sites, customers) cost of serving all of each customer: unit cost × demand, from the arcs."""
    total = np.full((problem.n_options, problem.n_regions), np.nan)
    total[problem.arc_option, problem.arc_region] = problem.arc_unit_cost * problem.arc_demand
    return total


# 2 warehouses, 3 customers. Customer-major costs: customer j's line lists c_1j c_2j.
CAP = """\
2 3
 10 7500.
 8 .00000
4
 +32.5 8.
2
 6. 4.
3
 9 1.5e1
"""


# --- OR-Library cap -------------------------------------------------------------------------------
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_cap_reads_number_spellings_and_line_endings(tmp_path, newline):
    problem = read_orlib_cap(write(tmp_path, "cap00.txt", CAP, newline))
    assert problem.name == "cap00"
    np.testing.assert_array_equal(problem.opening_cost, [7500.0, 0.0])
    np.testing.assert_array_equal(problem.module_capacity, [10.0, 8.0])
    np.testing.assert_array_equal(problem.demand[:, 0], [4.0, 2.0, 3.0])
    np.testing.assert_allclose(cost_matrix(problem), [[32.5, 6.0, 9.0], [8.0, 4.0, 15.0]])


def test_cap_maps_to_one_option_per_site_and_dense_arcs(tmp_path):
    problem = read_orlib_cap(write(tmp_path, "cap00.txt", CAP))
    np.testing.assert_array_equal(problem.arc_option, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(problem.arc_region, [0, 1, 2, 0, 1, 2])
    np.testing.assert_array_equal(problem.arc_product, np.zeros(6))
    np.testing.assert_allclose(problem.arc_production_cost[:3], [32.5 / 4, 6.0 / 2, 9.0 / 3])
    assert not problem.arc_transport_cost.any() and not problem.arc_co2_t.any()
    assert problem.unmet_penalty.tolist() == [np.inf] and problem.max_distance_km.tolist() == [np.inf]
    assert problem.min_modules.tolist() == problem.max_modules.tolist() == [1, 1]
    assert problem.site_ids.tolist() == ["1", "2"] and problem.region_ids.tolist() == ["1", "2", "3"]
    assert not problem.single_sourcing


def test_cap_wrapped_cost_lines_are_read_as_tokens(tmp_path):
    wrapped = "2 1\n10 1\n10 2\n5\n3\n4\n"  # the two costs of customer 1 on separate lines
    np.testing.assert_allclose(cost_matrix(read_orlib_cap(write(tmp_path, "w.txt", wrapped))), [[3.0], [4.0]])


def test_cap_capacity_word_is_replaced_by_the_argument(tmp_path):
    text = "2 1\ncapacity 100.\ncapacity 200.\n5\n3 4\n"
    problem = read_orlib_cap(write(tmp_path, "capa.txt", text), capacity=8000)
    assert problem.name == "capa-8000"
    np.testing.assert_array_equal(problem.module_capacity, [8000.0, 8000.0])
    np.testing.assert_array_equal(problem.opening_cost, [100.0, 200.0])


def test_cap_capacity_word_without_a_value_is_an_error(tmp_path):
    path = write(tmp_path, "capa.txt", "2 1\ncapacity 100.\ncapacity 200.\n5\n3 4\n")
    with pytest.raises(InputError, match=r"capa\.txt: the capacity field is the word 'capacity'.*capacity=8000"):
        read_orlib_cap(path)


def test_cap_capacity_value_for_numeric_capacities_is_an_error(tmp_path):
    with pytest.raises(InputError, match="numeric capacities"):
        read_orlib_cap(write(tmp_path, "cap00.txt", CAP), capacity=8000)


def test_cap_single_source_names_the_variant(tmp_path):
    problem = read_orlib_cap(write(tmp_path, "cap00.txt", CAP), single_source=True)
    assert problem.name == "cap00-ss" and problem.single_sourcing


ZERO_DEMAND_CAP = "2 3\n10 5\n10 7\n0 0 0\n4 1 2\n3 2 1\n"  # customer 1 has demand 0 and no costs


@pytest.mark.parametrize("single_source", [False, True])
def test_cap_zero_demand_needs_no_supply(tmp_path, single_source):
    """Customer 1 (demand 0) gets no arcs; customers 2 (4 units) and 3 (3 units) fit site 1 (capacity 10):
    5 + 1 + 2 = 8, against site 2 alone 7 + 2 + 1 = 10. The solve is audited (solve_benchmark_problem)."""
    from planner.studies.bench import solve_benchmark_problem

    problem = read_orlib_cap(write(tmp_path, "z.txt", ZERO_DEMAND_CAP), single_source=single_source)
    assert problem.demand[:, 0].tolist() == [0.0, 4.0, 3.0] and 0 not in set(problem.arc_region.tolist())
    run = solve_benchmark_problem(problem)
    assert run.report.objective == pytest.approx(8.0) and run.audit.passed
    assert run.tables.regions["region_id"].tolist() == ["2", "3"]  # the regions table lists demand only
    assert "1" not in set(run.tables.flows["region_id"].astype(str))


def test_cap_wrong_token_count_names_file_and_counts(tmp_path):
    path = write(tmp_path, "cap00.txt", CAP.rstrip() + " 7\n")
    with pytest.raises(InputError, match=r"cap00\.txt: expected 15 numbers for 2 warehouses × 3 customers, found 16"):
        read_orlib_cap(path)


def test_cap_non_numeric_token_names_its_position(tmp_path):
    path = write(tmp_path, "cap00.txt", CAP.replace("+32.5", "32,5"))
    with pytest.raises(InputError, match=r"cap00\.txt: token 8 \(line 5\) is '32,5', not a number"):
        read_orlib_cap(path)


def test_cap_bad_header_is_an_error(tmp_path):
    with pytest.raises(InputError, match=r"number of warehouses m \(token 1\) is 2.5"):
        read_orlib_cap(write(tmp_path, "h.txt", "2.5 3\n"))


def test_cap_negative_cost_is_an_error(tmp_path):
    with pytest.raises(InputError, match="costs c_ij are not finite and ≥ 0"):
        read_orlib_cap(write(tmp_path, "n.txt", CAP.replace("+32.5", "-32.5")))


@pytest.mark.parametrize("reader", [read_orlib_cap, read_uflib, read_sscflp, read_pmed, read_ufl_opt])
def test_missing_file_is_an_input_error(tmp_path, reader):
    with pytest.raises(InputError, match=r"nothere: benchmark file not found"):
        reader(tmp_path / "nothere")


@pytest.mark.parametrize("reader", [read_orlib_cap, read_uflib, read_sscflp, read_pmed])
def test_empty_file_is_an_input_error(tmp_path, reader):
    with pytest.raises(InputError, match="empty"):
        reader(write(tmp_path, "empty", "  \r\n"))


# --- UflLib ---------------------------------------------------------------------------------------
SIMPLE = """\
FILE: tiny.txt
3 2 0
2 5 1 +2.
1 7. 3 .5
3 0 9 9
"""


def test_ufl_simple_format_places_rows_by_label(tmp_path):
    problem = read_uflib(write(tmp_path, "B9.10", SIMPLE, "\r\n"))
    assert problem.name == "B9.10"  # the name keeps its dots
    np.testing.assert_array_equal(problem.opening_cost, [7.0, 5.0, 0.0])
    np.testing.assert_allclose(cost_matrix(problem), [[3.0, 0.5], [1.0, 2.0], [9.0, 9.0]])
    np.testing.assert_array_equal(problem.demand[:, 0], [1.0, 1.0])
    assert np.isinf(problem.module_capacity).all()


def test_ufl_simple_format_bad_labels(tmp_path):
    with pytest.raises(InputError, match=r"labels must be 1 … 3, each once; found unexpected 4; missing 3"):
        read_uflib(write(tmp_path, "bad", SIMPLE.replace("\n3 0 9 9", "\n4 0 9 9")))


def test_ufl_simple_format_repeated_label_is_named(tmp_path):
    """A label given twice was refused as "each once; found missing 3", the repeated label and its rows unnamed."""
    with pytest.raises(InputError, match=r"each once; found repeated 1 \(rows 2 and 3\); missing 3"):
        read_uflib(write(tmp_path, "bad", SIMPLE.replace("\n3 0 9 9", "\n1 0 9 9")))


def test_ufl_simple_format_token_count(tmp_path):
    with pytest.raises(InputError, match=r"bad: expected 15 numbers for 3 facilities × 2 customers, found 14"):
        read_uflib(write(tmp_path, "bad", SIMPLE.replace(" 9 9", " 9")))


def test_a_simple_ufl_file_with_a_wrong_count_is_not_read_as_another_layout(tmp_path):
    """'3 4 0' over rows of 5 customers: its 24 numbers fit the OR-Library layout of 3 × 4 by chance, and
    it had been solved as that (objective 58; the file's own optimum 204), exit 0."""
    rows = "1 100 49 9 14 18 14\n2 120 5 7 30 22 3\n3 90 11 12 13 14 15\n"
    with pytest.raises(InputError, match=r"expected 21 numbers for 3 facilities × 4 customers, found 24"):
        read_uflib(write(tmp_path, "x", "FILE: x\n3 4 0\n" + rows))


@pytest.mark.parametrize("third", ["9", "abc"])
def test_the_simple_ufl_headers_third_number_is_zero(tmp_path, third):
    with pytest.raises(InputError, match=f"the third number after the FILE: line \\(token 5\\) is '{third}'"):
        read_uflib(write(tmp_path, "x", SIMPLE.replace("3 2 0", f"3 2 {third}")))


def test_ufl_orlib_layout_ignores_capacity_and_demand(tmp_path):
    # M instances: capacity 0, demands 1…5 that must be ignored; cost per unit stays c_ij
    text = "2 2\n0 10\n0 20\n3\n1.5 2.5\n0\n4 0.25\n"
    problem = read_uflib(write(tmp_path, "MO9", text))
    np.testing.assert_array_equal(problem.demand[:, 0], [1.0, 1.0])
    np.testing.assert_allclose(cost_matrix(problem), [[1.5, 4.0], [2.5, 0.25]])
    np.testing.assert_allclose(problem.arc_production_cost, [1.5, 4.0, 2.5, 0.25])
    assert np.isinf(problem.module_capacity).all()


def test_ufl_reads_capa_without_a_capacity(tmp_path):
    problem = read_uflib(write(tmp_path, "capa.txt", "1 1\ncapacity 100.\n5\n3\n"))
    assert problem.name == "capa" and np.isinf(problem.module_capacity).all()


def test_ufl_opt_is_zero_based_and_cost_recomputed(tmp_path):
    problem = read_uflib(write(tmp_path, "B9.1", SIMPLE))
    write(tmp_path, "B9.1.opt", "0 1\n 7.5\n")
    opt = read_ufl_opt(opt_path(tmp_path / "B9.1"))
    assert opt.assignment.tolist() == [0, 1] and opt.objective == 7.5
    # facility 0 (label 1, f=7) serves customer 1 (3); facility 1 (label 2, f=5) serves customer 2 (2)
    assert assignment_cost(problem, opt.assignment) == 7 + 3 + 5 + 2


def test_ufl_opt_rejects_non_integer_index(tmp_path):
    with pytest.raises(InputError, match="integers ≥ 0"):
        read_ufl_opt(write(tmp_path, "x.opt", "0 1.5 3\n"))


# --- Holmberg sscflp ------------------------------------------------------------------------------
def test_sscflp_costs_are_facility_major(tmp_path):
    # 2 facilities × 3 customers: the cost block is c_11 c_12 c_13 then c_21 c_22 c_23
    text = "2 3\n10 100\n20 200\n1 2\n3\n11 12 13 21\n22 23\n\x00\x00"
    problem = read_sscflp(write(tmp_path, "p99", text))
    assert problem.single_sourcing and problem.name == "p99"
    np.testing.assert_allclose(cost_matrix(problem), [[11, 12, 13], [21, 22, 23]])
    np.testing.assert_array_equal(problem.demand[:, 0], [1, 2, 3])
    np.testing.assert_array_equal(problem.module_capacity, [10, 20])
    np.testing.assert_array_equal(problem.opening_cost, [100, 200])


def test_sscflp_token_count(tmp_path):
    with pytest.raises(InputError, match=r"p99: expected 15 numbers for 2 facilities × 3 customers, found 14"):
        read_sscflp(write(tmp_path, "p99", "2 3\n10 100\n20 200\n1 2 3\n11 12 13 21 22\n"))



def test_sscflp_copy_ending_with_its_optimum_value_reads_as_the_instance(tmp_path, caplog):
    """Guastaroba & Speranza's single-source files end with the optimum value on a line of its own
    ('…, c_{|J||I|}, OPT_VAL'); such a copy had been refused ('found 16: … is the first extra one'). The value
    is left out with a warning; a number more on a data line, or two more, is still refused."""
    text = "2 3\n10 100\n20 200\n1 2 3\n11 12 13\n21 22 23\n"
    plain = read_sscflp(write(tmp_path, "p99", text))
    _same_problem(read_sscflp(write(tmp_path, "p98", text + "152.0\n\n", newline="\r\n")), plain)
    assert "its last line, 152.0, one number more than 2 facilities × 3 customers hold" in caplog.text
    for extra in ("21 22 23 152\n", "21 22 23\n152\n7\n", "21 22 23\nEOF\n"):
        with pytest.raises(InputError, match="found 1[67]: token 16 \\(line [67]\\)"):
            read_sscflp(write(tmp_path, "p97", text.replace("21 22 23\n", extra)))
    with pytest.raises(InputError, match="found 16: token 16"):  # the OR-Library layout has no such line
        read_orlib_cap(write(tmp_path, "cap00.txt", "2 3\n10 100\n20 200\n1 11 21\n2 12 22\n3 13 23\n152\n"))

def test_sscflp_zero_demand_needs_no_supply(tmp_path):
    """The instance of ``ZERO_DEMAND_CAP`` in Holmberg's layout (facility-major costs): optimum 8."""
    [row] = run_bench("sscflp", [write(tmp_path, "p99", "2 3\n10 5\n10 7\n0 4 3\n0 1 2\n0 2 1\n")])
    assert (row["status"], row["objective"], row["reason"]) == ("optimal", pytest.approx(8.0), None)


@pytest.mark.parametrize("fmt, text", [
    ("cap", "2 3\n10 5\n10 7\n0 100 1\n4 1 2\n3 2 1\n"),  # textbook optimum 11 (site 2 alone), not 8
    ("sscflp", "2 3\n10 5\n10 7\n0 4 3\n100 1 2\n1 2 1\n"),
])
def test_a_zero_demand_customer_with_costs_is_refused_not_dropped(tmp_path, fmt, text):
    reader = read_orlib_cap if fmt == "cap" else read_sscflp
    with pytest.raises(InputError, match=r"customer 1 has demand 0 but allocation costs up to 100 .*positive demand"):
        reader(write(tmp_path, "p99", text))


def test_sscflp_negative_demand_is_an_error(tmp_path):
    with pytest.raises(InputError, match="demands are not finite and ≥ 0"):
        read_sscflp(write(tmp_path, "p99", "1 2\n10 100\n-1 2\n5 6\n"))


# --- p-median -------------------------------------------------------------------------------------
def test_pmed_last_edge_occurrence_counts(tmp_path):
    # edge 1-2 is listed three times (the last as 2 1): 5, then 1, then 9 → 9 counts, not the shortest 1
    text = "3 5 1\n1 2 5\n1 2 1\n2 3 4\n2 1 9\n1 3 20\n"
    distance, p = read_pmed_distances(write(tmp_path, "pmed0.txt", text))
    assert p == 1
    np.testing.assert_array_equal(distance, [[0, 9, 13], [9, 0, 4], [13, 4, 0]])


def test_pmed_maps_to_exactly_p_free_sites(tmp_path):
    problem = read_pmed(write(tmp_path, "pmed0.txt", "3 2 2\n1 2 5\n2 3 4\n"))
    assert problem.name == "pmed0"
    assert problem.min_facilities == problem.max_facilities == 2
    assert not problem.opening_cost.any() and np.isinf(problem.module_capacity).all()
    np.testing.assert_array_equal(problem.demand[:, 0], [1, 1, 1])
    np.testing.assert_array_equal(cost_matrix(problem), [[0, 5, 9], [5, 0, 4], [9, 4, 0]])
    np.testing.assert_array_equal(problem.arc_distance_km, problem.arc_production_cost)


def test_pmed_p_override_renames(tmp_path):
    problem = read_pmed(write(tmp_path, "pmed0.txt", "3 2 2\n1 2 5\n2 3 4\n"), p=1)
    assert problem.name == "pmed0-p1" and problem.max_facilities == 1


def test_pmed_disconnected_pairs_get_no_arc(tmp_path):
    problem = read_pmed(write(tmp_path, "pmed0.txt", "3 1 2\n1 2 5\n"))
    assert problem.n_arcs == 5  # 1-2, 2-1 and the three self arcs


def test_pmed_bad_vertex_id(tmp_path):
    with pytest.raises(InputError, match="edge 2 joins 2 and 4; vertex ids must be integers 1 … 3"):
        read_pmed(write(tmp_path, "pmed0.txt", "3 2 1\n1 2 5\n2 4 4\n"))


def test_pmed_p_out_of_range(tmp_path):
    with pytest.raises(InputError, match="p=4 medians"):
        read_pmed(write(tmp_path, "pmed0.txt", "3 1 1\n1 2 5\n"), p=4)
    # the way out is named, and which p is wrong (it had been only 'p=5 medians must be between 1 and the 3 vertices')
    with pytest.raises(InputError, match=r"the 3 vertices; the file's p \(token 3, the header's third number\) is out "
                       "of range: pass --p N with N from 1 to 3$"):
        read_pmed(write(tmp_path, "pmed0.txt", "3 1 5\n1 2 5\n"))
    with pytest.raises(InputError, match="; --p is out of range: pass --p N with N from 1 to 3$"):
        read_pmed(write(tmp_path, "pmed0.txt", "3 1 1\n1 2 5\n"), p=4)


# --- shared mapping -------------------------------------------------------------------------------
def test_dense_problem_keeps_total_cost():
    total = np.array([[7.0, 1.0], [3.0, 2.0]])
    problem = problem_from_costs(
        "x", opening_cost=np.zeros(2), capacity=np.ones(2), demand=np.array([3.0, 7.0]), total_cost=total
    )
    np.testing.assert_allclose(cost_matrix(problem), total)


# --- known optima and run_bench -------------------------------------------------------------------
OPTIMA_CSV = """\
instance,problem,params,n_facilities,n_customers,optimal_value,status,file,source,verified_here
cap00,cflp,,2,3,100.0,optimal,orlib_cap/cap00.txt,hand,yes
cap00-ss,sscflp,,2,3,120.0,optimal,orlib_cap/cap00.txt,hand,yes
cap00,ufl,ignore capacities,2,3,90.0,optimal (derived),orlib_cap/cap00.txt,hand,yes
capa-8000,cflp,capacity=8000,2,1,1.0,optimal,orlib_cap/capa.txt,hand,no
holmberg_p99,sscflp,,2,3,50.0,optimal,sscflp/p99,hand,yes
pmed0,pmedian,p=2,3,3,4.0,optimal,pmed/pmed0.txt,hand,yes
guess,ufl,,2,3,1.0,best known,uflib/guess,hand,no
"""


@pytest.fixture
def optima(tmp_path):
    return read_known_optima(write(tmp_path, "known_optima.csv", OPTIMA_CSV))


def test_read_known_optima_keeps_empty_params(optima):
    assert optima.loc[0, "params"] == "" and optima["optimal_value"].dtype == float


def test_read_known_optima_missing_columns(tmp_path):
    with pytest.raises(InputError, match="missing columns problem, params"):
        read_known_optima(write(tmp_path, "k.csv", "instance,optimal_value,status,file\nx,1,optimal,x\n"))


def test_read_known_optima_refuses_two_proven_values_and_infinite_ones(tmp_path):
    header = ",".join(OPTIMA_COLUMNS) + "\n"
    row = "cap71,ufl,,{value},optimal,orlib_cap/cap71.txt\n"
    two = write(tmp_path, "two.csv", header + row.format(value=932615.75) + row.format(value=932000))
    with pytest.raises(InputError, match=r"two.csv: cap71 \(ufl\) has two proven optima, 932000 and 932615.75"):
        read_known_optima(two)
    same = write(tmp_path, "same.csv", header + row.format(value=932615.75) + row.format(value=932615.75))
    assert len(read_known_optima(same)) == 2  # a repeated row with the same value is harmless
    unproven = write(tmp_path, "unproven.csv", header + row.format(value=932615.75)
                     + row.format(value=1e6).replace(",optimal,", ",best known,"))
    assert len(read_known_optima(unproven)) == 2  # only proven optima must agree
    with pytest.raises(InputError, match="not a finite number for cap71"):
        read_known_optima(write(tmp_path, "inf.csv", header + row.format(value="inf")))
    sized = "instance,problem,params,n_facilities,n_customers,optimal_value,status,file\n"
    with pytest.raises(InputError, match=r"n_facilities is not a whole number for capt1 \(line 3, got 'three'\)"):
        read_known_optima(write(tmp_path, "size.csv", sized + "capt0,cflp,,,5,1,optimal,x\n"
                                "capt1,cflp,,three,5,1,optimal,x\n"))


def test_known_optima_written_by_hand_read_as_meant(tmp_path):
    """Spaces after the commas and 'Optimal' match (they had been no known value, so a wrong one went
    unflagged); a status of 1 is text, not a crash; an open row without a value is allowed; a row with
    a field too many is refused naming the cause."""
    header = ",".join(OPTIMA_COLUMNS) + "\n"
    spaced = read_known_optima(write(tmp_path, "s.csv", header.replace(",", ", ")
                                     + "cap41, cflp, , 1040444.375, Optimal, orlib_cap/cap41.txt\n"))
    assert known_optimum(spaced, instance="cap41", file_name="cap41.txt", problem="cflp", params={}) == 1040444.375
    numeric = read_known_optima(write(tmp_path, "n.csv", header + "cap41,cflp,,1040444.375,1,orlib_cap/cap41.txt\n"))
    assert known_optimum(numeric, instance="cap41", file_name="cap41.txt", problem="cflp", params={}) is None
    open_row = read_known_optima(write(tmp_path, "o.csv", header + "capb,cflp,,,open,orlib_cap/capb.txt\n"
                                       + "cap41,cflp,,1040444.375,optimal,orlib_cap/cap41.txt\n"))
    assert known_optimum(open_row, instance="cap41", file_name="cap41.txt", problem="cflp", params={}) == 1040444.375
    with pytest.raises(InputError, match=r"the rows have 7 fields and the header 6 \(line 2"):
        read_known_optima(write(tmp_path, "x.csv", header + "cap41,cflp,,1040444.375,optimal,f.txt,extra\n"))


def test_read_known_optima_refuses_a_folder(tmp_path):
    with pytest.raises(InputError, match="is a folder; give the known-optima CSV file"):
        read_known_optima(tmp_path)


def test_parse_params():
    assert parse_params("capacity=8000") == {"capacity": 8000.0}
    assert parse_params("p=5") == {"p": 5.0}
    assert parse_params("ignore capacities") == {} and parse_params("") == {}


@pytest.mark.parametrize(
    ("instance", "file_name", "problem", "params", "known"),
    [
        ("cap00", "cap00.txt", "cflp", {}, 100.0),
        ("cap00-ss", "cap00.txt", "sscflp", {}, 120.0),
        ("cap00", "cap00.txt", "ufl", {}, 90.0),
        ("capa-8000", "capa.txt", "cflp", {"capacity": 8000.0}, 1.0),
        ("capa-9000", "capa.txt", "cflp", {"capacity": 9000.0}, None),
        ("p99", "p99", "sscflp", {}, 50.0),  # found by file name
        ("pmed0", "pmed0.txt", "pmedian", {"p": 2.0}, 4.0),
        ("pmed0-p1", "pmed0.txt", "pmedian", {"p": 1.0}, None),  # other p: no known value
        ("guess", "guess", "ufl", {}, None),  # not a proven optimum
    ],
)
def test_known_optimum_lookup(optima, instance, file_name, problem, params, known):
    assert known_optimum(optima, instance=instance, file_name=file_name, problem=problem, params=params) == known


def test_matches_is_relative():
    assert matches(1e6 + 0.5, 1e6) and not matches(1e6 + 2, 1e6)
    assert matches(None, 1.0) is False and matches(1.0, None) is None


def test_a_known_value_rounded_to_its_printed_digits_matches(tmp_path):
    """Published tables print 6 significant digits: 1305.95 for the optimum 1305.95141 (1.08e-6 off) had
    been a mismatch, exit 1."""
    from planner.studies.bench import half_unit, known_and_match

    texts = ("1305.95", "17326", "932616", "1.5e3", "1e6", "0", "12", "932615.75", "x")
    assert [half_unit(text) for text in texts] == pytest.approx([0.005, 0.5, 0.5, 0, 0, 0, 0, 0, 0])  # else exact
    optima = read_known_optima(write(tmp_path, "k.csv", ",".join(OPTIMA_COLUMNS) + "\nMO1,ufl,,1305.95,optimal,MO1\n"
                                     "MO3,ufl,,1516.77,optimal,MO3\n"))
    where = {"file_name": "x", "problem": "ufl", "params": {}, "size": (100, 100)}
    assert known_and_match(optima, 1305.95141, instance="MO1", **where) == {"known": 1305.95, "match": True}
    assert known_and_match(optima, 1305.956, instance="MO1", **where)["match"] is False
    assert known_and_match(optima, 1516.7749, instance="MO3", **where)["match"] is True
    assert known_and_match(optima, 1.0, instance="MO9", **where) == {"known": None, "match": None}


def test_problem_variants():
    assert problem_variant("cap") == "cflp" and problem_variant("cap", single_source=True) == "sscflp"
    assert [problem_variant(f) for f in ("ufl", "sscflp", "pmed")] == ["ufl", "sscflp", "pmedian"]


@pytest.mark.parametrize(
    ("fmt", "options", "message"),
    [
        ("lp", {}, "unknown benchmark format 'lp'"),
        ("ufl", {"capacity": 8000}, "--capacity applies to format 'cap'"),
        ("cap", {"p": 3}, "--p applies to format 'pmed'"),
        ("pmed", {"single_source": True}, "--single-source applies to format 'cap'"),
    ],
)
def test_run_bench_rejects_meaningless_options(fmt, options, message):
    with pytest.raises(InputError, match=message):
        run_bench(fmt, [Path("unused")], **options)  # raised at the call, before any file is read


def test_run_bench_refuses_a_malformed_file_before_solving_the_others(tmp_path, monkeypatch):
    import planner.studies.bench as bench

    good = write(tmp_path, "cap00.txt", CAP)
    bad = write(tmp_path, "cap01.txt", CAP.replace("7500", "x7500"))
    solved = []
    monkeypatch.setattr(bench, "_solve_row", lambda problem, **_: solved.append(problem.name))
    with pytest.raises(InputError, match="cap01.txt"):
        run_bench("cap", [good, bad])
    assert solved == []  # refused at the call: nothing was solved or printed
    with pytest.raises(InputError, match="cap01.txt"):
        run_bench("ufl", [good, bad])
    missing = tmp_path / "pmed99.txt"
    graph = write(tmp_path, "pmed00.txt", "3 2 1\n1 2 5\n2 3 4\n")  # a readable graph before the missing one
    with pytest.raises(InputError, match="pmed99.txt"):
        run_bench("pcenter", [graph, missing])


# --- tiny solves through the planner, hand-checked --------------------------------------------------
# cap00: f = (7500, 0), s = (10, 8), d = (4, 2, 3). Warehouse 2 alone holds 8 < 9 units, so warehouse 1
# opens (7500); then every customer goes to its cheaper warehouse, 8 + 4 (w2, load 6 ≤ 8) + 9 (w1,
# load 3 ≤ 10): the optimum is 7521.
CAP00_OPTIMUM = 7521.0


def test_run_bench_solves_a_tiny_cap_instance(tmp_path):
    path = write(tmp_path, "cap00.txt", CAP)
    csv = write(tmp_path, "known_optima.csv", OPTIMA_CSV.replace("2,3,100.0", f"2,3,{CAP00_OPTIMUM}"))
    [row] = run_bench("cap", [path], optima=csv)
    assert row["instance"] == "cap00" and row["status"] == "optimal"
    assert row["objective"] == pytest.approx(CAP00_OPTIMUM) and row["match"] is True
    assert set(row) >= {
        "instance",
        "format",
        "objective",
        "status",
        "best_bound",
        "mip_gap",
        "build_s",
        "solve_s",
        "total_s",
        "known",
        "match",
    }


def test_solve_s_counts_the_solve_phase_where_the_presolve_answers(monkeypatch):
    """A 500 × 500 UFL whose search ran in the solve phase and whose answer the presolve then gave had
    solve_s 5.0 of a 10.6 s run: the solve phase was left out (report.solve_s is HiGHS's, 0 there)."""
    from types import SimpleNamespace

    from planner.export.summary import solver_seconds
    from planner.studies import bench

    report = SimpleNamespace(objective=1.0, status="time_limit", best_bound=0.5, mip_gap=0.5, solve_s=0.0,
                             solver="planner presolve")
    run = SimpleNamespace(report=report, timing=SimpleNamespace(seconds={"build": 0.1, "solve": 5.03, "presolve": 5.0}))
    monkeypatch.setattr(bench, "solve_benchmark_problem", lambda *args, **kwargs: run)
    assert bench._solve_row(None, time_limit=10, threads=1, mip_gap=1e-6)["solve_s"] == pytest.approx(10.03)
    assert solver_seconds(run) == pytest.approx(10.03)


def test_single_source_changes_the_tiny_optimum(tmp_path):
    # capacities 5 + 5 for demands 3 + 3, so both warehouses open (110); costs (1, 5) for each customer
    text = "2 2\n5 10\n5 100\n3\n1 5\n3\n1 5\n"
    path = write(tmp_path, "t.txt", text)
    [multi] = run_bench("cap", [path])
    [single] = run_bench("cap", [path], single_source=True)
    # multi-source: 5 of the 6 units from warehouse 1 at 1/3 per unit, 1 unit from warehouse 2 at 5/3
    # single-source: one customer to each warehouse, 1 + 5
    assert multi["objective"] == pytest.approx(110 + 5 / 3 + 5 / 3)
    assert single["objective"] == pytest.approx(110 + 1 + 5) and single["instance"] == "t-ss"


def test_run_bench_reports_an_infeasible_instance(tmp_path):
    # a customer of demand 6 fits no single warehouse of capacity 5 (as in cap41 … cap51 single-sourced)
    path = write(tmp_path, "t.txt", "2 1\n5 10\n5 10\n6\n1 1\n")
    [multi] = run_bench("cap", [path])
    [single] = run_bench("cap", [path], single_source=True)
    assert multi["status"] == "optimal" and multi["objective"] == pytest.approx(10 + 10 + 1)
    assert single["status"] == "infeasible" and single["objective"] is None


def test_run_bench_pmedian_tiny(tmp_path):
    # path 1 -5- 2 -4- 3 with p = 2: {1, 2} and {1, 3} cost 4, {2, 3} costs 5
    [row] = run_bench("pmed", [write(tmp_path, "pmed0.txt", "3 2 2\n1 2 5\n2 3 4\n")])
    assert row["objective"] == pytest.approx(4.0)



def _enumerated_optimum(opening, cost, capacity=None, demand=None, *, single=False, p=None) -> float:
    """Least cost of a tiny dense instance over every open set, from the numbers written (not the readers):
    UFL or p-median (nearest open site), CFLP (a transportation LP) or single-source (every assignment)."""
    from itertools import combinations, product

    from scipy.optimize import linprog

    m, n = cost.shape
    best = np.inf
    for k in [p] if p is not None else range(1, m + 1):
        for open_ in map(list, combinations(range(m), k)):
            if capacity is None:
                best = min(best, opening[open_].sum() + cost[open_].min(axis=0).sum())
            elif single:
                for to in product(open_, repeat=n):
                    if all(demand[np.array(to) == i].sum() <= capacity[i] for i in open_):
                        best = min(best, opening[open_].sum() + cost[list(to), range(n)].sum())
            else:
                fits = linprog(cost[open_].ravel(), A_ub=np.kron(np.eye(k), demand), b_ub=capacity[open_],
                               A_eq=np.tile(np.eye(n), k), b_eq=np.ones(n), bounds=(0, 1))
                best = min(best, opening[open_].sum() + fits.fun) if fits.status == 0 else best
    return best


@pytest.mark.parametrize("seed", range(3))
def test_generated_files_of_every_layout_solve_to_their_enumerated_optimum(tmp_path, seed):
    """Tiny instances written in each layout (CRLF or tabs, exponents, a name line, facility rows out of order,
    a pmed edge repeated the other way round, possibly a disconnected graph) against enumeration."""
    rng = np.random.default_rng(seed)
    m, n = 3, 4
    cap, opening = rng.integers(4, 12, m).astype(float), rng.integers(0, 30, m).astype(float)
    demand, cost = rng.integers(1, 5, n).astype(float), rng.integers(0, 20, (m, n)).astype(float)
    sep = "\t" if seed % 2 else " "
    line = lambda *xs: sep.join(f"{x:.3e}" if x % 3 == 0 else f"{x:g}" for x in xs)  # noqa: E731
    rows = [f"{m} {n}", *(line(cap[i], opening[i]) for i in range(m))]
    orlib = "\r\n".join(rows + [line(demand[j], *cost[:, j]) for j in range(n)]) + "\r\n\r\n"
    holmberg = "\n".join(rows + [line(*demand), *(line(*cost[i]) for i in range(m))])
    simple = f"FILE: u{seed}\n{m} {n} 0\n" + "\n".join(f"{i + 1} " + line(opening[i], *cost[i]) for i in (2, 0, 1))
    cases = [("cap", orlib, {}, dict(capacity=cap, demand=demand)),
             ("cap", orlib, dict(single_source=True), dict(capacity=cap, demand=demand, single=True)),
             ("sscflp", holmberg, {}, dict(capacity=cap, demand=demand, single=True)), ("ufl", simple, {}, {})]
    for fmt, text, options, brute in cases:
        (row,) = run_bench(fmt, [write(tmp_path, f"{fmt}{len(options)}", text)], threads=1, **options)
        want = _enumerated_optimum(opening, cost, **brute)
        assert (row["objective"] is None) if np.isinf(want) else row["objective"] == pytest.approx(want), (fmt, row)
    edges = [(a, b, int(rng.integers(0, 9))) for a, b in rng.integers(1, 6, (5, 2)) if a != b]
    edges += [(edges[0][1], edges[0][0], 7)] if edges else []  # the last listing counts, either way round
    graph = write(tmp_path, "pm.txt", f"5 {len(edges)} 2\n" + "".join(f"{a} {b} {w}\n" for a, b, w in edges))
    length = np.full((5, 5), np.inf)
    np.fill_diagonal(length, 0)
    for a, b, w in edges:
        length[a - 1, b - 1] = length[b - 1, a - 1] = w
    for k in range(5):  # Floyd–Warshall, as OR-Library describes
        length = np.minimum(length, length[:, [k]] + length[[k], :])
    (row,) = run_bench("pmed", [graph], threads=1)
    want = _enumerated_optimum(np.zeros(5), length, p=2)
    assert (row["objective"] is None) if np.isinf(want) else row["objective"] == pytest.approx(want), row

# --- published instances -----------------------------------------------------------------------------
FAST_PER_PROBLEM = 3  # published instances of each problem in the fast subset (all run in the whole suite)
SLOW = {  # instance names (known_optima.csv) that took more than about 5 s with the planner
    "pmed6",
    "pmed11",
    "pmed12",
    "pmed16",
    "pmed17",
    "MO1",
    "MO2",
    "MO3",
    "MO4",
    "MO5",
}


def _published_cases():
    if not OPTIMA.exists():
        return [pytest.param(None, marks=needs_benchmarks, id="benchmarks-missing")]
    params, fast_per_problem = [], {}
    for case in cases_from_optima(OPTIMA):
        marks = []
        if case.path.name.startswith("capa"):
            marks = [pytest.mark.capa, pytest.mark.slow]
        elif case.name in SLOW or fast_per_problem.get(case.problem, 0) >= FAST_PER_PROBLEM:
            marks = [pytest.mark.slow]
        else:
            fast_per_problem[case.problem] = fast_per_problem.get(case.problem, 0) + 1
        params.append(pytest.param(case, marks=marks, id=f"{case.name}-{case.problem}"))
    return params


CAPA_TIME_LIMIT_S = 300  # each capa instance closes in well under a minute; fail fast if that regresses


@needs_benchmarks
@pytest.mark.parametrize("case", _published_cases())
def test_published_optimum(case):
    [row] = run_bench(
        case.fmt,
        [case.path],
        capacity=case.capacity,
        p=case.p,
        single_source=case.single_source,
        optima=OPTIMA,
        time_limit=CAPA_TIME_LIMIT_S if case.path.name.startswith("capa") else None,
    )
    assert row["known"] == case.known
    assert row["status"] == "optimal", row
    assert row["match"], f"{case.name}: found {row['objective']}, known {case.known}"


@needs_benchmarks
def test_uflib_opt_files_give_the_known_optima():
    """The assignments in the .opt files cost exactly the known optimum (no solver)."""
    checked = 0
    for case in cases_from_optima(OPTIMA):
        if case.path.parent.parent.parent.name != "uflib":
            continue
        problem = read_uflib(case.path)
        opt = read_ufl_opt(opt_path(case.path))
        assert assignment_cost(problem, opt.assignment) == pytest.approx(case.known, rel=1e-9), case.name
        checked += 1
    assert checked == 25


def test_parse_orlib_cap_keeps_word_positions(tmp_path):
    data = parse_orlib_cap(write(tmp_path, "capa.txt", "2 1\ncapacity 1\n7 2\n5\n3 4\n"), ignore_capacity=True)
    assert np.isnan(data.capacity[0]) and data.capacity[1] == 7 and data.capacity_is_word


def test_run_bench_bad_optima_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"missing\.csv: file not found"):
        run_bench("cap", [], optima=tmp_path / "missing.csv")
    with pytest.raises(InputError, match=r"empty\.csv: not a readable CSV"):
        run_bench("cap", [], optima=write(tmp_path, "empty.csv", ""))


@pytest.mark.parametrize(
    ("name", "text", "reader"),
    [
        ("count.txt", "2 1\n1 1\n", read_orlib_cap),
        ("token.txt", "1 1\n1 x\n1 1\n", read_orlib_cap),
        ("binary", "\x01\x02\xff", read_sscflp),
        ("labels", "FILE: x\n1 1 0\n2 1 1\n", read_uflib),
    ],
)
def test_input_errors_are_one_line_and_name_the_file(tmp_path, name, text, reader):
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(InputError) as caught:
        reader(path)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


def test_a_number_with_a_digit_separator_in_a_file_is_refused_by_position(tmp_path):
    """Python's float() reads '2_2' as 22; a data file's token is a number as written, or an error."""
    path = write(tmp_path, "cap00.txt", CAP.replace("+32.5", "3_2.5"))
    with pytest.raises(InputError, match=r"cap00\.txt: token 8 \(line 5\) is '3_2\.5', not a number"):
        read_orlib_cap(path)


@pytest.mark.parametrize("width", [None, 4, 12])
def test_a_simple_ufl_file_is_read_whatever_its_line_layout(tmp_path, width):
    """UflLib's simple format with its numbers wrapped onto the FILE: line (a copy re-wrapped at a fixed
    width, or all on one line) reads as the original: the header is FILE: and the name."""
    from planner.formats.uflib import read_uflib

    tokens = "FILE: tiny.txt 2 3 0 1 10 1 2 3 2 20 3 2 1".split()
    original = tmp_path / "tiny.txt"
    original.write_text("FILE: tiny.txt\n2 3 0\n1 10 1 2 3\n2 20 3 2 1\n")
    copy = tmp_path / "copy.txt"
    step = width or len(tokens)
    copy.write_text("\n".join(" ".join(tokens[i:i + step]) for i in range(0, len(tokens), step)) + "\n")
    first, second = read_uflib(original), read_uflib(copy)
    assert np.array_equal(first.opening_cost, second.opening_cost) and first.opening_cost.tolist() == [10.0, 20.0]
    assert np.array_equal(first.arc_production_cost, second.arc_production_cost)


def test_a_gzip_utf16_or_utf32_copy_of_a_benchmark_file_reads_as_the_file(tmp_path):
    import gzip

    source = BENCHMARKS / "orlib_cap" / "cap41.txt"
    if not source.exists():
        pytest.skip("the published cap41 is not here")
    packed = tmp_path / "cap41.txt.gz"
    packed.write_bytes(gzip.compress(source.read_bytes()))
    text = source.read_text(encoding="latin-1")
    copies = [packed]
    # with a byte-order mark, and without one (its NULs had split '100' into '1 0 0': "found 8894")
    for encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"):
        copies.append(tmp_path / encoding / "cap41.txt")
        copies[-1].parent.mkdir()
        copies[-1].write_bytes(text.encode(encoding))
    original = read_orlib_cap(source)
    for copy in copies:
        problem = read_orlib_cap(copy)
        assert problem.name == "cap41" and np.array_equal(problem.opening_cost, original.opening_cost)
        assert np.array_equal(problem.arc_production_cost, original.arc_production_cost)
    broken = tmp_path / "cut.txt.gz"
    broken.write_bytes(packed.read_bytes()[:200])
    with pytest.raises(InputError, match="gzip-compressed but cannot be decompressed"):
        read_orlib_cap(broken)


def test_no_break_spaces_in_utf8_separate_tokens(tmp_path):
    """A UTF-8 no-break space (copied from a web page) had been read as latin-1 'Â' and a space: "token 15
    (line 5) is '5Â', not a number", a character the file does not hold."""
    plain = "4 4 2\n1 2 5\n2 3 5\n3 4 5\n4 1 5\n"
    (tmp_path / "nbsp.txt").write_bytes(plain.replace(" ", "\u00a0").encode("utf-8"))
    (tmp_path / "plain.txt").write_text(plain)
    np.testing.assert_array_equal(read_pmed_distances(tmp_path / "nbsp.txt")[0],
                                  read_pmed_distances(tmp_path / "plain.txt")[0])
    latin = tmp_path / "latin.txt"  # a latin-1 name line still reads
    latin.write_bytes(b"FILE: Caf\xe9\n" + b"3 2 0\n2 5 1 2\n1 7 3 .5\n3 0 9 9\n")
    assert read_uflib(latin).n_options == 3


def test_an_extra_token_at_the_end_is_named_with_its_line(tmp_path):
    """A trailing EOF marker had been only 'found 885'."""
    path = write(tmp_path, "cap00.txt", "2 2\n100 10\n100 20\n5\n1 5\n5\n1 2\nEOF\n")
    with pytest.raises(InputError, match=r"found 13: token 13 \(line 8\), 'EOF', is the first extra one"):
        read_orlib_cap(path)



def test_a_file_cut_short_names_its_last_line_and_the_fix(tmp_path):
    """A truncated file had been only 'expected 884 numbers …, found 447': no line, no way out."""
    path = write(tmp_path, "cap00.txt", "2 2\n100 10\n100 20\n5\n1 5\n5\n", newline="\r\n")
    with pytest.raises(InputError, match=r"cap00\.txt: expected 12 numbers for 2 warehouses × 2 customers, found 10, "
                       r"the last token 10 \(line 6\): the file is cut short or a count of its header is wrong; "
                       r"download the file again whole or correct the count$"):
        read_orlib_cap(path)
    with pytest.raises(InputError, match=r"found 11, the last token 13 \(line 4\): the file is cut short"):
        read_uflib(write(tmp_path, "B0", "FILE: B0\n2 3 0\n1 5 1 2 3\n2 6 1\n"))


def test_a_name_line_counts_in_the_place_and_line_of_a_bad_token(tmp_path):
    """In a layout that skips a 'FILE: name' first line (cap, sscflp, pmed), a bad or extra token had been
    placed as if the name line were not there: 'token 12 (line 7)' for the 'x' on line 8."""
    cap = write(tmp_path, "cap00.txt", "FILE: cap00\n2 2\n10 5\n10 6\n1\n1 2\n1\n2 x\n")
    with pytest.raises(InputError, match=r"token 14 \(line 8\) is 'x'"):
        read_orlib_cap(cap)
    with pytest.raises(InputError, match=r"token 14 \(line 8\) is 'x'"):
        read_sscflp(cap)
    extra = write(tmp_path, "pm.txt", "FILE: pm\n3 2 1\n1 2 5\n2 3 4\n9\n")
    with pytest.raises(InputError, match=r"found 10: token 12 \(line 5\), '9', is the first extra one"):
        read_pmed(extra)
    wrapped = write(tmp_path, "w", "FILE: w 2 2 0\n1 5 1 2\n2 6 x 1\n")  # the simple layout's counts on the name line
    with pytest.raises(InputError, match=r"token 12 \(line 3\) is 'x'"):
        read_uflib(wrapped)


@pytest.mark.parametrize(("reader", "text", "place"), [
    (read_orlib_cap, "2 2\n10 5\n-10 6\n1\n1 2\n1\n2 1\n", "capacities .* token 5 \\(line 3\\)"),
    (read_orlib_cap, "2 2\n10 5\n10 6\n1\n1 2\n-1\n2 1\n", "demands .* token 10 \\(line 6\\)"),
    (read_orlib_cap, "FILE: x\n2 2\n10 5\n10 6\n1\n1 2\n1\n2 -1\n", "customer 2 = -1.0, token 14 \\(line 8\\)"),
    (read_uflib, "2 2\n10 5\n10 6\n1\n1 -2\n1\n2 1\n", "facility 2, customer 1 = -2.0, token 9 \\(line 5\\)"),
    (read_sscflp, "2 2\n10 5\n10 -6\n1 1\n1 2 3\n4\n", "opening costs .* token 6 \\(line 3\\)"),
    (read_sscflp, "2 2\n10 5\n10 6\n1 1\n1 2 3\nnan\n", "customer 2 = nan, token 12 \\(line 6\\)"),
    (read_uflib, "FILE: u\n2 2 0\n2 6 3 -1\n1 5 1 2\n", "customer 2 = -1.0, token 9 \\(line 3\\)"),
    (read_uflib, "FILE: u\n2 2 0\n2 -6 3 1\n1 5 1 2\n", "opening costs .* token 7 \\(line 3\\)"),
    (read_pmed, "3 2 1\n1 2 5\n2 3 -4\n", "edge lengths .* token 9 \\(line 3\\)"),
    (read_pmed, "3 2 1\n1 2 5\n\n2 4 4\n", "token 7 \\(line 4\\): edge 2 joins 2 and 4"),
])
def test_a_value_out_of_range_is_named_with_its_line(tmp_path, reader, text, place):
    """A negative or missing number had been named by its entry only ('first: entry 2 = -4.0'), not where
    the file holds it; the place counts a name line, and the rows of the simple layout as the file orders them."""
    with pytest.raises(InputError, match=place):
        reader(write(tmp_path, "f.txt", text))

def test_token_positions_and_lines_count_the_whole_file(tmp_path):
    """The first extra token of a POINTS file is named by its place in the file (a header before it had
    been left out of the count), a line break written as CR alone counts, and a broken UTF-16 file is one
    line, not an internal error."""
    from planner.formats.points import read_distance_instance

    points = write(tmp_path, "p.txt", "POINTS 3 2 1\n0 0 1\n1 0 1\n0 1 1\n0 0\n1 1\n7\n")
    with pytest.raises(InputError, match=r"token 18 \(line 7\), '7', is the first extra one"):
        read_distance_instance(points)
    carriage = write(tmp_path, "cr.txt", "5 2 1\r1 2 1\r2 x 1\r")
    with pytest.raises(InputError, match=r"token 8 \(line 3\) is 'x'"):
        read_pmed(carriage)
    broken = tmp_path / "u.txt"
    broken.write_bytes("2 2\n100 10\n".encode("utf-16") + b"\x00\xd8" + "1".encode("utf-16-le"))  # a lone surrogate
    with pytest.raises(InputError, match="reads as UTF-16 text but cannot be decoded"):
        read_orlib_cap(broken)
    assert known_optimum(read_known_optima(write(tmp_path, "k.csv", ",".join(OPTIMA_COLUMNS) + "\nholmberg_p1,sscflp,,"
                                                 "8848,optimal,sscflp/p1\n")),
                         instance="p1", file_name="p1.gz", problem="sscflp", params={}) == 8848



def test_a_copy_saved_with_a_txt_suffix_finds_its_known_optimum(tmp_path):
    """A Holmberg file saved as 'p1.txt' (as other sites serve it) had got no known optimum ('known' null,
    nothing checked, exit 0) where 'p1' and 'p1.gz' got the row of 'sscflp/p1'; a file column written with
    '.txt' is found from a copy without it."""
    header = ",".join(OPTIMA_COLUMNS)
    table = read_known_optima(write(tmp_path, "k.csv", f"{header}\nholmberg_p1,sscflp,,8848,optimal,sscflp/p1\n"
                                    "holmberg_p2,sscflp,,7913,optimal,sscflp/p2.txt\n"))
    for file_name, known in (("p1.txt", 8848), ("p1.txt.gz", 8848), ("p2", 7913), ("p2.gz", 7913)):
        assert known_optimum(table, instance=file_name.split(".")[0], file_name=file_name, problem="sscflp",
                             params={}) == known, file_name

def _same_problem(a, b) -> None:
    for name in ("opening_cost", "module_capacity", "demand", "arc_unit_cost", "arc_option", "arc_region"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


@pytest.mark.parametrize(("reader", "relative"), [
    (read_orlib_cap, "orlib_cap/cap41.txt"), (read_sscflp, "sscflp/p1"), (read_pmed, "pmed/pmed1.txt"),
    (read_uflib, "uflib/M/O/MO1"), (read_uflib, "uflib/GalvaoRaggi/50/50.1"),
])
@pytest.mark.parametrize("variant", ["ctrl_z", "name_line"])
def test_a_dos_end_of_file_byte_and_a_name_line_are_read_past(tmp_path, reader, relative, variant):
    """Copies of every layout that end with DOS's Ctrl-Z, or open with UflLib's 'FILE: name' line, read
    as the file itself (they had been refused, or an M instance with a name line read as the simple
    layout)."""
    original = SHARED_BENCHMARKS / relative
    if not original.exists():
        pytest.skip(f"{original} not found")
    data = original.read_bytes()
    if variant == "ctrl_z":
        data = data + b"\x1a"
    elif not data.lstrip().upper().startswith(b"FILE:"):
        data = b"FILE: " + original.name.encode() + b"\r\n" + data
    copy = tmp_path / original.name
    copy.write_bytes(data)
    _same_problem(reader(copy), reader(original))


def test_a_simple_file_without_its_name_line_reads_counts_written_with_a_point(tmp_path):
    original = SHARED_BENCHMARKS / "uflib/GalvaoRaggi/50/50.1"
    if not original.exists():
        pytest.skip(f"{original} not found")
    lines = original.read_text(encoding="latin-1").splitlines()
    n, m, zero = lines[1].split()
    copy = tmp_path / "50.1"
    copy.write_text("\n".join([f"{n}. {m}. {zero}", *lines[2:]]) + "\n", encoding="latin-1")
    _same_problem(read_uflib(copy), read_uflib(original))


@needs_benchmarks
@pytest.mark.parametrize(("fmt", "relative", "hint"), [
    ("cap", "sscflp/p1", "if p1 is a Holmberg single-source file, read it with 'planner bench sscflp'"),
    ("sscflp", "orlib_cap/cap41.txt", "if cap41.txt is an OR-Library cap file, read it with 'planner bench cap'"),
])
def test_a_file_of_the_other_capacitated_layout_is_named_as_such(fmt, relative, hint):
    """Both layouts hold 2 + 2m + n + mn numbers, so one reads as the other: capacities and demands
    change places and the instance reads infeasible; the reason says which format it may be."""
    (row,) = run_bench(fmt, [BENCHMARKS / relative], threads=1)
    assert row["status"] == "infeasible" and row["reason"].endswith(hint)


CAP_LINES = "2 4\n 10 5\n 10 5\n 2\n 1 2\n 3\n 2 1\n 4\n 3 3\n 1\n 2 2\n"  # each demand alone on a line, its 2 costs
HOLMBERG_LINES = "2 4\n 10 5\n 10 5\n 2 3 4 1\n 1 2 3 2\n 2 1 3 2\n"  # the 4 demands, then each facility's 4 costs


@pytest.mark.parametrize(("text", "fmt", "other"), [(CAP_LINES, "sscflp", "cap"), (HOLMBERG_LINES, "cap", "sscflp")])
def test_line_breaks_of_the_other_capacitated_layout_are_warned_about(tmp_path, caplog, text, fmt, other):
    """Read as the other layout, the file may well be feasible (and then solved to an optimum of other
    numbers); its line breaks tell which layout it was written in."""
    path = tmp_path / "instance.txt"
    path.write_text(text)
    list(run_bench(fmt, [path], threads=1))
    assert f"read it with 'planner bench {other}'" in caplog.text
    caplog.clear()
    list(run_bench(other, [path], threads=1))
    assert "laid out as in" not in caplog.text


def test_line_breaks_that_tell_nothing_are_not_warned_about(tmp_path, caplog):
    path = tmp_path / "instance.txt"
    path.write_text("\n".join(CAP_LINES.split()) + "\n")  # one number per line: either layout
    list(run_bench("sscflp", [path], threads=1))
    list(run_bench("cap", [path], threads=1))
    # a customer a line (demand, then its 2 costs) with m + 1 = 3 dividing n = 6: the line breaks fall where
    # a Holmberg file's blocks start too, so they tell nothing (a cap file had been called a Holmberg one)
    rows = "\n".join(f"{1 + k % 3} {k + 1} {k + 2}" for k in range(6))
    path.write_text(f"2 6\n 20 5\n 20 5\n{rows}\n")
    list(run_bench("cap", [path], threads=1))
    assert "laid out as in" not in caplog.text


def test_one_customer_reads_the_same_in_both_layouts(tmp_path, caplog):
    path = tmp_path / "instance.txt"
    path.write_text("2 1\n 10 5\n 10 5\n 2\n 1 2\n")
    list(run_bench("sscflp", [path], threads=1))
    assert "laid out as in" not in caplog.text


def test_a_hint_between_the_capacitated_layouts_follows_the_line_breaks(tmp_path, caplog):
    """A Holmberg file given as pmed reads as cap and as sscflp; its line breaks say sscflp. The trial
    reads' own warnings are not shown."""
    path = tmp_path / "instance.txt"
    path.write_text(HOLMBERG_LINES)
    with pytest.raises(InputError, match="use 'planner bench sscflp'"):
        list(run_bench("pmed", [path], threads=1))
    graph = tmp_path / "graph.txt"
    graph.write_text("4 2 1\n1 2 5\n3 4 5\n")  # two parts: the pmed reader warns when it reads it
    caplog.clear()
    with pytest.raises(InputError, match="use 'planner bench pmed'"):
        list(run_bench("ufl", [graph], threads=1))
    assert "disconnected" not in caplog.text


def test_a_demand_alone_on_its_line_tells_cap_where_the_breaks_coincide(tmp_path, caplog):
    """m + 1 = n = 3: each record's start is also a Holmberg block's start, but a demand alone on a line with
    its costs on the next is the OR-Library layout."""
    path = tmp_path / "instance.txt"
    path.write_text("2 3\n 10 5\n 10 5\n 2\n 1 2\n 3\n 2 1\n 4\n 3 3\n")
    list(run_bench("sscflp", [path], threads=1))
    assert "read it with 'planner bench cap'" in caplog.text


def test_a_file_with_the_capacity_word_is_named_a_cap_file_with_capacity(tmp_path):
    path = tmp_path / "capx.txt"
    path.write_text("2 2\n capacity 5\n capacity 5\n 2\n 1 2\n 3\n 2 1\n")
    with pytest.raises(InputError, match=r"'capacity', not a number .* use 'planner bench cap --capacity C'"):
        list(run_bench("sscflp", [path], threads=1))
    with pytest.raises(InputError, match=r"word 'capacity'.*--capacity 8000\)$"):  # an option missing: no hint
        list(run_bench("cap", [path], threads=1))


@pytest.mark.parametrize(("fmt", "text", "other"), [
    ("cap", "FILE: g.txt\n3 2 0\n1 10 1 2\n2 10 2 1\n3 10 3 3\n", "ufl"),  # UflLib's simple layout
    ("ufl", "3 3 1\n1 2 5\n2 3 4\n1 3 2\n", "pmed"),  # a p-median graph: nv ne p, then the edges
])
def test_a_file_another_format_reads_is_named_in_the_error(tmp_path, fmt, text, other):
    path = tmp_path / "instance.txt"
    path.write_text(text)
    with pytest.raises(InputError, match=f"it reads as a '{other}' file: if it is one, use 'planner bench {other}'"):
        list(run_bench(fmt, [path], threads=1))


def test_wide_text_is_told_from_nul_padding_and_read_with_a_stray_character_or_byte(tmp_path):
    """8-bit text after 4 KiB of NUL padding had been taken for UTF-32; UTF-16 without a byte-order mark
    holding an en dash (beyond Latin-1) was still split into digits; an odd byte at its end refused it."""
    from planner.formats.tokens import wide_encoding

    assert wide_encoding(b"\x00" * 5000 + b"2 2\n100 10\n") is None
    text = "FILE: a \u2013 b\n" + "2 3 0\n1 5 1 2 3\n2 7 4 5 6\n" * 1
    assert wide_encoding(text.encode("utf-16-le")) == "utf-16-le"
    path = tmp_path / "dash.txt"
    path.write_bytes(text.encode("utf-16-le") + b"\x1a")
    problem = read_uflib(path)
    np.testing.assert_array_equal(problem.opening_cost, [5.0, 7.0])


@pytest.mark.parametrize("separator, encoding", [(";", "utf-8"), ("\t", "utf-16")])
def test_known_optima_separated_by_semicolons_or_tabs_are_read(tmp_path, separator, encoding):
    """A ';' file (Excel in much of Europe) or Excel's tab-separated UTF-16 'Unicode Text' had been one
    column, refused as missing every column but the first: sniffed as every table the planner reads."""
    text = (separator.join(OPTIMA_COLUMNS) + "\n"
            + separator.join(["cap41", "cflp", "", "1040444.375", "optimal", "orlib_cap/cap41.txt"]) + "\n")
    path = tmp_path / "k.csv"
    path.write_bytes(text.encode(encoding))
    table = read_known_optima(path)
    assert known_optimum(table, instance="cap41", file_name="cap41.txt", problem="cflp", params={}) == 1040444.375
