"""The MILP agrees with brute force on seeded random tiny instances: enumerate every open set and
module count, solve the remaining flow problem as an LP (scipy.optimize.linprog), keep the best."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from planner.errors import InfeasibleError
from planner.pipeline import solve_problem
from planner.solver.outcome import SolverOptions
from tests.builders import dense_problem
from tests.marks import some_slow


def random_problem(seed: int, capacitated_must_serve: bool = False):
    """A random tiny instance; ``capacitated_must_serve`` gives the CFLP shape (all capacitated,
    fixed modules, no unmet), where the Lagrangian uses its capacity cover."""
    rng = np.random.default_rng(seed)
    n_sites, n_regions = rng.integers(2, 5), rng.integers(2, 6)
    demand = rng.integers(1, 20, n_regions).astype(float)
    capacity = np.where(rng.random(n_sites) < 0.2, np.inf, rng.integers(5, 40, n_sites).astype(float))
    unit_cost = rng.uniform(1, 10, (n_sites, n_regions)).round(2)
    penalty = np.inf if rng.random() < 0.4 else round(float(rng.uniform(5, 15)), 2)
    max_modules = rng.integers(1, 3, n_sites)
    if capacitated_must_serve:
        capacity = rng.integers(5, 40, n_sites).astype(float) * 2
        penalty, max_modules = np.inf, np.ones(n_sites, dtype=int)
    problem = dense_problem(
        demand=demand,
        opening_cost=rng.uniform(0, 60, n_sites).round(1),
        capacity=capacity,
        unit_cost=unit_cost,
        penalty=penalty,
        max_modules=max_modules,
        module_cost=rng.uniform(0, 20, n_sites).round(1),
    )
    # drop a few arcs so groupings are sparse
    keep = rng.random(problem.n_arcs) > 0.15
    arrays = ("arc_option", "arc_region", "arc_product", "arc_distance_km", "arc_production_cost",
              "arc_transport_cost", "arc_co2_t")
    fields = {name: getattr(problem, name)[keep] for name in arrays}
    return dense_problem(
        demand=demand, opening_cost=problem.opening_cost, capacity=capacity, unit_cost=unit_cost,
        penalty=penalty, max_modules=max_modules, module_cost=problem.module_cost, **fields,
    )


def brute_force(problem) -> float | None:
    """Best objective over all open sets and module counts; None when none is feasible."""
    n_options = problem.n_options
    regions = problem.n_regions
    q = problem.demand[:, 0]
    penalty = problem.unmet_penalty[0]
    best = None
    choices = [range(0, int(problem.max_modules[o]) + 1) for o in range(n_options)]  # 0 = closed
    for modules in itertools.product(*choices):
        modules = np.array(modules)
        is_open = modules > 0
        fixed = float((problem.opening_cost * is_open + problem.module_cost * modules).sum())
        usable = is_open[problem.arc_option]
        arcs = np.flatnonzero(usable)
        has_unmet = np.isfinite(penalty)
        n_vars = len(arcs) + (regions if has_unmet else 0)
        cost = list(problem.arc_unit_cost[arcs] * q[problem.arc_region[arcs]])
        if has_unmet:
            cost += list(penalty * q)
        a_eq = np.zeros((regions, n_vars))
        a_eq[problem.arc_region[arcs], np.arange(len(arcs))] = 1.0
        if has_unmet:
            a_eq[np.arange(regions), len(arcs) + np.arange(regions)] = 1.0
        rows, b_ub = [], []
        for o in np.flatnonzero(is_open):
            cap = problem.module_capacity[o] * modules[o]
            if np.isfinite(cap):
                row = np.zeros(n_vars)
                mine = problem.arc_option[arcs] == o
                row[np.flatnonzero(mine)] = q[problem.arc_region[arcs[mine]]]
                rows.append(row)
                b_ub.append(cap)
        if n_vars == 0:
            continue
        result = linprog(
            cost, A_ub=np.array(rows) if rows else None, b_ub=b_ub or None, A_eq=a_eq, b_eq=np.ones(regions),
            bounds=(0, 1), method="highs",
        )
        if result.status == 0:
            total = fixed + result.fun
            best = total if best is None else min(best, total)
    return best


@pytest.mark.parametrize("seed", some_slow(range(60), 12))
def test_milp_matches_brute_force(seed):
    problem = random_problem(seed)
    expected = brute_force(problem)
    if expected is None:
        with pytest.raises(InfeasibleError):
            solve_problem(problem, SolverOptions(mip_gap=1e-9))
        return
    run = solve_problem(problem, SolverOptions(mip_gap=1e-9))
    assert run.report.objective == pytest.approx(expected, rel=1e-7, abs=1e-7)
    assert run.audit.passed


PRESOLVE_RULES = {  # (PAYING_FIXED_SHARE, POOR_INCUMBENT_GAP) of planner.solver.presolve; None: as shipped
    "as shipped": None,
    "always goes on": (0.0, 1.0),
    "stops after the first incumbent": (1.01, 1.0),
}


@pytest.mark.parametrize("rule", PRESOLVE_RULES)
@pytest.mark.parametrize("capacitated", [False, True])
@pytest.mark.parametrize("seed", some_slow(range(20), 2))
def test_lagrangian_presolve_keeps_the_optimum(monkeypatch, seed, capacitated, rule):
    """The Lagrangian bound never exceeds the optimum, and fixing options never loses it, whether
    the presolve goes on past its first incumbent or stops there."""
    import planner.solver.presolve as presolve
    from planner.model import ModelIndex
    from planner.solver.lagrangian import lagrangian_bound

    if PRESOLVE_RULES[rule] is not None:
        paying_share, poor_gap = PRESOLVE_RULES[rule]
        monkeypatch.setattr(presolve, "PAYING_FIXED_SHARE", paying_share)
        monkeypatch.setattr(presolve, "POOR_INCUMBENT_GAP", poor_gap)
    problem = random_problem(seed, capacitated_must_serve=capacitated)
    expected = brute_force(problem)
    if expected is None:
        return
    bound = lagrangian_bound(problem, ModelIndex.from_problem(problem), upper_bound=None, max_iterations=200)
    assert bound.bound <= expected * (1 + 1e-9) + 1e-9
    run = solve_problem(problem, SolverOptions(mip_gap=1e-9, presolve_min_arcs=0, formulation="standard"))
    assert run.report.objective == pytest.approx(expected, rel=1e-7, abs=1e-7)
    assert run.report.best_bound <= expected * (1 + 1e-7) + 1e-7
    assert run.audit.passed
