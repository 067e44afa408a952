"""When the presolve goes on past its first incumbent (``planner.solver.presolve.worth_going_on``), and what
HiGHS gets when it does not (``keep_better``). That either way the optimum is kept is checked by
brute force in ``test_brute_force.py``."""

from __future__ import annotations

import numpy as np
import pytest

import planner.solver.presolve as presolve
from planner.model import ModelIndex
from planner.pipeline import solve_problem
from planner.solver.outcome import SolverOptions
from planner.solver.presolve import lagrangian_presolve, worth_going_on
from tests.test_brute_force import brute_force, random_problem


def _fixed(problem, n_closed: int) -> tuple[np.ndarray, np.ndarray]:
    closed = np.zeros(problem.n_options, dtype=bool)
    closed[:n_closed] = True
    return closed, np.zeros(problem.n_options, dtype=bool)


def test_worth_going_on_needs_an_incumbent_a_gap_and_enough_fixing_or_a_poor_incumbent():
    problem = random_problem(0)
    free = int((~problem.forced).sum())
    half = int(np.ceil(presolve.PAYING_FIXED_SHARE * free))
    options = SolverOptions(mip_gap=0.001)
    assert not worth_going_on(problem, options, 100.0, None, _fixed(problem, free))  # no incumbent
    assert not worth_going_on(problem, options, 100.0, 100.05, _fixed(problem, free))  # within the gap
    good = 100.0 * (1 + presolve.POOR_INCUMBENT_GAP / 2)  # between the MIP gap and a poor incumbent
    assert worth_going_on(problem, options, 100.0, good, _fixed(problem, half))
    assert not worth_going_on(problem, options, 100.0, good, _fixed(problem, half - 1))
    poor = 100.0 * (1 + presolve.POOR_INCUMBENT_GAP * 2)
    assert worth_going_on(problem, options, 100.0, poor, _fixed(problem, 0))


@pytest.mark.parametrize("share, rounds", [(1.01, 1), (0.0, 2)])
def test_the_presolve_stops_after_its_first_incumbent_unless_fixing_pays(monkeypatch, share, rounds):
    """With a threshold no fixing can reach, one subgradient round; with none, the second one runs
    (the instance's first incumbent is within ``POOR_INCUMBENT_GAP``, which is raised to be sure)."""
    problem = random_problem(5, capacitated_must_serve=True)  # a 4% gap after the first round
    calls = []
    real_bound = presolve.lagrangian_bound

    def counting_bound(*args, **kwargs):
        calls.append(1)
        return real_bound(*args, **kwargs)

    monkeypatch.setattr(presolve, "PAYING_FIXED_SHARE", share)
    monkeypatch.setattr(presolve, "POOR_INCUMBENT_GAP", 1.0)
    monkeypatch.setattr(presolve, "lagrangian_bound", counting_bound)
    result = lagrangian_presolve(problem, ModelIndex.from_problem(problem), SolverOptions(mip_gap=1e-9))
    assert result.incumbent is not None
    assert len(calls) == rounds


def _presolved(seed: int = 5):
    from planner.model.arrays import build_standard_form

    problem = random_problem(seed, capacitated_must_serve=True)
    index = ModelIndex.from_problem(problem)
    result = lagrangian_presolve(problem, index, SolverOptions(mip_gap=1e-9))
    return problem, index, build_standard_form(problem, index), result


def _report(objective: float, bound: float, status):
    from planner.solver.outcome import SolveReport

    return SolveReport(
        status=status, termination="test", objective=objective, best_bound=bound, mip_gap=None,
        mip_gap_tolerance=0.01, solve_s=1.0, nodes=1, solver="test",
    )


def test_keep_better_keeps_the_cheaper_of_highs_and_the_presolve():
    from planner.solver.outcome import Status
    from planner.solver.presolve import keep_better

    problem, index, form, result = _presolved()
    cost = result.incumbent_cost
    cheaper = _report(cost - 1.0, cost - 2.0, Status.OPTIMAL)
    values = np.zeros(len(form.cost))
    assert keep_better(cheaper, values, form, problem, index, result, 0.01) == (cheaper, values)

    dearer = _report(cost * 1.05, cost * 0.995, Status.TIME_LIMIT)
    report, vector = keep_better(dearer, values, form, problem, index, result, 0.01)
    assert report.objective == pytest.approx(cost, rel=1e-9)
    assert float(form.cost @ vector) + form.offset == pytest.approx(cost, rel=1e-9)
    assert report.best_bound == dearer.best_bound
    assert report.mip_gap == pytest.approx((cost - cost * 0.995) / cost)
    assert report.status is Status.GAP_LIMIT  # 0.5% is within the 1% tolerance

    report, vector = keep_better(None, None, form, problem, index, result, 0.01)
    assert report.objective == pytest.approx(cost, rel=1e-9)
    assert report.status is Status.OTHER_LIMIT and report.best_bound is None


@pytest.mark.parametrize("out_of_time, status", [(False, "limit"), (True, "time_limit")])
def test_the_pipeline_reports_the_presolve_incumbent_when_highs_finds_none(monkeypatch, out_of_time, status):
    """An unpaid presolve keeps its incumbent in reserve; HiGHS failing to find any solution then yields that
    incumbent, audited, with the Lagrangian bound. Where HiGHS ended at the time limit with no solution of its
    own (its presolve and root LP on a mid-size model can take all the time left), the run stopped at the time
    limit: ``time_limit``, not ``limit`` (a stop at another limit; a generated 29,302-arc model with a service
    level and setups at ``--time-limit 8`` had said ``limit``)."""
    import planner.solver.engine as engine
    from planner.errors import NoSolutionInTimeError, SolverError

    monkeypatch.setattr(presolve, "PAYING_FIXED_SHARE", 1.01)
    monkeypatch.setattr(presolve, "POOR_INCUMBENT_GAP", 1.0)

    def no_solution(*args, **kwargs):
        raise (NoSolutionInTimeError if out_of_time else SolverError)(
            "HiGHS ended without a feasible solution (status: Time limit reached)")

    monkeypatch.setattr(engine, "run_highs", no_solution)
    problem = random_problem(5, capacitated_must_serve=True)
    expected = brute_force(problem)
    run = solve_problem(problem, SolverOptions(mip_gap=1e-9, presolve_min_arcs=0, formulation="standard",
                                               time_limit_s=30.0 if out_of_time else None))
    assert run.audit.passed
    assert run.report.objective >= expected * (1 - 1e-9)
    assert run.report.best_bound is not None and run.report.best_bound <= expected * (1 + 1e-9)
    assert run.report.status.value == status


@pytest.mark.parametrize("moves_max_arcs, with_moves", [(10**9, True), (0, False)])
def test_the_large_paths_first_network_gets_moves_below_moves_max_arcs(monkeypatch, moves_max_arcs, with_moves):
    """On the large-model path (``LARGE_MODEL_ARCS`` 0 here) the first network gets the small path's local
    search below ``MOVES_MAX_ARCS`` arcs (on ``models/launch.toml`` the module search, started from a network
    without them, improved nothing), and none from it (on 700,000 arcs the moves are too slow)."""
    problem = random_problem(5, capacitated_must_serve=True)
    seconds = []
    real = presolve.incumbent_from_values

    def timed(*args, **kwargs):
        seconds.append(kwargs["time_limit_s"])
        return real(*args, **kwargs)

    monkeypatch.setattr(presolve, "LARGE_MODEL_ARCS", 0)
    monkeypatch.setattr(presolve, "MOVES_MAX_ARCS", moves_max_arcs)
    monkeypatch.setattr(presolve, "incumbent_from_values", timed)
    result = lagrangian_presolve(problem, ModelIndex.from_problem(problem), SolverOptions(mip_gap=1e-9,
                                                                                        time_limit_s=4.0))
    assert result.incumbent is not None
    budget = presolve.presolve_budget(problem, SolverOptions(time_limit_s=4.0))
    assert seconds[0] == (pytest.approx(budget * presolve.FIRST_HEURISTIC_SHARE) if with_moves else 0.0)
