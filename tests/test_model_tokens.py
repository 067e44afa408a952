"""The header and value checks shared by the benchmark readers (``planner.formats.tokens``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from planner.errors import InputError
from planner.formats.tokens import check_dense_values, header_counts, read_sites_customers

PATH = Path("f.txt")


def test_header_counts_read_each_count_with_its_minimum():
    counts = header_counts(["3", "0", "2.", "9"], PATH, "'nv ne p'", ["nv", "ne", "p"], minimum=[1, 0, 1])
    assert counts == [3, 0, 2]
    with pytest.raises(InputError, match=r"f\.txt: ne is 0, expected an integer ≥ 1"):
        header_counts(["3", "0"], PATH, "'m n'", ["m", "ne"])


def test_a_short_header_names_what_was_expected_and_found():
    with pytest.raises(InputError, match=r"f\.txt: expected 'n m 0' after the FILE: line, found 2 tokens"):
        header_counts(["3", "2"], PATH, "'n m 0' after the FILE: line", ["n", "m"], n_header=3)
    with pytest.raises(InputError, match=r"expected a header 'm n', found 1 token$"):
        header_counts(["3"], PATH, "a header 'm n'", ["m", "n"])


def test_read_sites_customers_checks_the_token_count(tmp_path):
    path = tmp_path / "cap.txt"
    path.write_text("2 3 " + "1 " * 13)
    tokens, n_sites, n_customers = read_sites_customers(path, "warehouses", lambda m, n: 2 + 2 * m + n * (1 + m))
    assert (len(tokens), n_sites, n_customers) == (2 + 4 + 9, 2, 3)
    with pytest.raises(InputError, match="expected 16 numbers for 2 warehouses × 3 customers, found 15"):
        read_sites_customers(path, "warehouses", lambda m, n: 16)


def test_dense_values_are_checked_capacities_first():
    good = np.ones(2)
    check_dense_values(PATH, opening_cost=good, total_cost=np.ones((2, 2)), demand=good, positive_demand=True)
    with pytest.raises(InputError, match="1 capacities are not finite"):
        check_dense_values(PATH, capacity=np.array([1.0, -1.0]), opening_cost=-good, total_cost=np.ones((2, 2)))
    with pytest.raises(InputError, match="1 demands are not positive"):
        check_dense_values(PATH, opening_cost=good, total_cost=np.ones((2, 2)), demand=np.array([1.0, 0.0]),
                           positive_demand=True)
