"""The answer of a classic location model as data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.solver.outcome import Status, relative_gap


@dataclass(frozen=True)
class ClassicResult:
    """What a solve of ``pcenter``, ``mclp`` or ``lscp`` found.

    ``objective``: the radius (length units) for ``pcenter``, the covered demand weight for ``mclp``,
    the number of sites for ``lscp``; ``best_bound``: the proven bound on it (a lower bound for
    ``pcenter`` and ``lscp``, an upper bound for ``mclp``), equal to ``objective`` when ``status`` is
    optimal. ``sites``: the chosen sites (0-based indices of the distance matrix's columns)."""

    problem: str
    objective: float
    best_bound: float | None
    status: Status
    termination: str
    sites: np.ndarray
    build_s: float
    solve_s: float
    solves: int = 1  # HiGHS runs (LPs and MIPs) behind the answer

    @property
    def mip_gap(self) -> float | None:
        """|objective − bound| / max(|objective|, 1e-9); None without a bound."""
        return relative_gap(self.objective, self.best_bound)
