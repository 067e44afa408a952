"""Where the presolve's Lagrangian bound already proves its incumbent within the MIP gap, that is the
answer: HiGHS is not run, and on the large-model path neither are the module searches (a 20,000-point
file with the default model spent 110 s searching after a first round that had closed the gap). The
answer against brute force: the bound valid, the cost within the gap of the optimum, ``optimal`` only
where it is."""

from __future__ import annotations

import numpy as np
import pytest

from planner.pipeline import solve_problem
from planner.solver import SolverOptions, presolve
from planner.solver.outcome import OPTIMAL_GAP
from tests.brute import best_by_enumeration
from tests.builders import dense_problem
from tests.marks import some_slow

GAP = 0.02


def ample_problem(seed: int):
    """Eight sites with room for all 30 regions' demand: the Lagrangian bound is tight or nearly."""
    rng = np.random.default_rng(seed)
    return dense_problem(demand=rng.integers(5, 20, 30), opening_cost=rng.uniform(50, 150, 8),
                         capacity=np.full(8, 1000.0), unit_cost=rng.uniform(1, 10, (8, 30)), penalty=100.0)


def check_against_enumeration(run, problem) -> bool:
    """The run's figures against the optimum by enumeration; whether HiGHS was left out."""
    optimum = best_by_enumeration(problem)
    report = run.report
    assert run.audit.passed
    assert report.best_bound <= optimum * (1 + 1e-9) + 1e-9
    assert optimum * (1 - 1e-9) - 1e-9 <= report.objective <= optimum * (1 + GAP) + 1e-9
    if report.status.value == "optimal":
        assert report.objective <= optimum * (1 + OPTIMAL_GAP) + 1e-9
    proven_by_presolve = report.solver == presolve.PRESOLVE_SOLVER
    if proven_by_presolve:
        assert report.status.value in ("optimal", "gap_limit") and report.mip_gap <= GAP
    return proven_by_presolve


@pytest.mark.slow  # a few seconds: in the whole suite only (the fast subset neared 180 s)
def test_a_presolve_within_the_gap_is_the_answer_without_highs():
    options = SolverOptions(mip_gap=GAP, presolve_min_arcs=0, formulation="standard")
    by_presolve = [check_against_enumeration(solve_problem(ample_problem(seed), options), ample_problem(seed))
                   for seed in range(6)]
    assert sum(by_presolve) >= 4


@pytest.mark.slow  # in the whole suite only: the fast subset measured 193.6 s on a slow day
@pytest.mark.parametrize("threads", some_slow([1, 2], fast=1))
def test_the_large_model_path_stops_once_the_gap_is_closed(monkeypatch, threads):
    """Every model counts as large; with a limit of 30 s each run ends long before it."""
    monkeypatch.setattr(presolve, "LARGE_MODEL_ARCS", 0)
    options = SolverOptions(mip_gap=GAP, presolve_min_arcs=0, formulation="standard", time_limit_s=30.0,
                            threads=threads)
    runs = [solve_problem(ample_problem(seed), options) for seed in range(4)]
    by_presolve = [check_against_enumeration(run, ample_problem(seed)) for seed, run in enumerate(runs)]
    assert sum(by_presolve) >= 3
    assert max(run.timing.seconds["presolve"] for run in runs) < 15.0  # not the presolve's 22.5 s


def test_an_answer_of_the_presolve_reports_the_presolve_time_as_its_solve_time():
    """HiGHS not run: the summary's (and the report's) solve time is the presolve's (and the solve phase's,
    where a search ran before it), not 0.00 s; the report's own solve_s stays HiGHS's (0)."""
    from planner.export.summary import solver_seconds

    options = SolverOptions(mip_gap=GAP, presolve_min_arcs=0, formulation="standard")
    runs = [solve_problem(ample_problem(seed), options) for seed in range(6)]
    by_presolve = [run for run in runs if run.report.solver == presolve.PRESOLVE_SOLVER]
    assert by_presolve
    for run in by_presolve:
        seconds = run.timing.seconds
        assert run.report.solve_s == 0 and solver_seconds(run) == seconds["presolve"] + seconds.get("solve", 0) > 0
    for run in runs:
        if run.report.solver != presolve.PRESOLVE_SOLVER:
            assert solver_seconds(run) == run.report.solve_s <= run.timing.seconds["solve"]


@pytest.mark.slow  # six solves, a few seconds
def test_no_model_is_built_for_highs_where_highs_is_not_run(monkeypatch):
    """The standard form had been built before deciding not to run HiGHS (on 15 million arcs it raised
    the peak memory from 3.8 to 6.5 GB for a model never solved); the presolve's answers stay audited."""
    import planner.solver.engine as engine

    real_build, builds = engine.build_standard_form, []

    def counted_build(*args, **kwargs):
        builds.append(1)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(engine, "build_standard_form", counted_build)
    options = SolverOptions(mip_gap=GAP, presolve_min_arcs=0, formulation="standard")
    for seed in range(6):
        before = len(builds)
        run = solve_problem(ample_problem(seed), options)
        by_presolve = check_against_enumeration(run, ample_problem(seed))
        assert (len(builds) == before) == by_presolve, seed
