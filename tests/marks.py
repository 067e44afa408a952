"""Marks shared by the tests: which parametrized cases the fast subset (``pytest -m "not slow"``) runs."""

from __future__ import annotations

import pytest


def some_slow(cases, fast: int) -> list:
    """The first ``fast`` cases as they are, the rest marked slow: every case runs in the whole suite,
    the first ones in the fast subset too. A case is a value or a tuple of the test's arguments."""
    cases = list(cases)
    return [
        case if i < fast else pytest.param(*(case if isinstance(case, tuple) else (case,)), marks=pytest.mark.slow)
        for i, case in enumerate(cases)
    ]
