r"""Planner (Pyomo → HiGHS) versus the same formulation built directly in highspy from the arrays.

For every instance in ``../shared/benchmarks`` (or the files given) this reads the Problem with
:mod:`planner.formats`, solves it through the planner (``planner.pipeline.solve_problem``) and
through a direct highspy model with the same options (relative gap, absolute gap 1e-9, time limit,
threads), and prints both objectives, both times and the ratio planner time / highspy time.

The direct model is the planner's formulation for benchmark problems (one module per option, all
demand must be served):

.. math::
    \min \sum_o F_o y_o + \sum_a c_a q_a x_a \quad\text{s.t.}\quad
    \sum_{a \ni d} x_a = 1,\; \sum_{a \ni o} q_a x_a \le C_o y_o \;(C_o < \infty),\;
    x_a \le y_{o(a)},\; n_{\min} \le \sum_o y_o \le n_{\max}

Usage::

    python benchmarks/compare_highspy.py                        # every instance except capa
    python benchmarks/compare_highspy.py --only cap4 pmed1 --time-limit 60 --threads 1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import highspy
import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from planner.problem import Problem  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_published import BENCHMARKS, instances  # noqa: E402

from planner.studies.bench import read_instance, solve_benchmark_problem  # noqa: E402


def highspy_model(problem: Problem) -> highspy.HighsLp:
    """The benchmark formulation of ``problem`` as a highspy LP with integrality, built with numpy/scipy."""
    if (problem.max_modules != problem.min_modules).any() or np.isfinite(problem.unmet_penalty).any():
        raise ValueError("the direct model covers benchmark problems only (fixed modules, must-serve demand)")
    n_options, n_arcs = problem.n_options, problem.n_arcs
    pair_code = problem.arc_pair
    pairs, arc_pair = np.unique(pair_code, return_inverse=True)
    n_pairs = len(pairs)
    demand = problem.arc_demand
    capacity = problem.module_capacity * problem.min_modules
    capacitated = np.flatnonzero(np.isfinite(capacity))
    y = np.arange(n_options)  # columns: y_o, then x_a
    x = n_options + np.arange(n_arcs)
    arc_index = np.arange(n_arcs)
    cap_row = np.full(n_options, -1)
    cap_row[capacitated] = n_pairs + np.arange(len(capacitated))
    link_row0 = n_pairs + len(capacitated)
    has_cap = cap_row[problem.arc_option] >= 0
    rows = [
        arc_pair,
        cap_row[problem.arc_option][has_cap],
        cap_row[capacitated],
        link_row0 + arc_index,
        link_row0 + arc_index,
    ]
    cols = [x, x[has_cap], y[capacitated], x, y[problem.arc_option]]
    vals = [np.ones(n_arcs), demand[has_cap], -capacity[capacitated], np.ones(n_arcs), -np.ones(n_arcs)]
    row_lower = [np.ones(n_pairs), np.full(len(capacitated), -np.inf), np.full(n_arcs, -np.inf)]
    row_upper = [np.ones(n_pairs), np.zeros(len(capacitated)), np.zeros(n_arcs)]
    low = problem.min_facilities
    high = n_options if problem.max_facilities is None else problem.max_facilities
    n_rows = link_row0 + n_arcs
    if low > 0 or high < n_options:
        rows.append(np.full(n_options, n_rows))
        cols.append(y)
        vals.append(np.ones(n_options))
        row_lower.append(np.array([float(low)]))
        row_upper.append(np.array([float(high)]))
        n_rows += 1
    matrix = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_rows, n_options + n_arcs)
    )
    lp = highspy.HighsLp()
    lp.num_col_ = n_options + n_arcs
    lp.num_row_ = n_rows
    lp.col_cost_ = np.concatenate([problem.opening_cost, problem.arc_unit_cost * demand])
    col_lower = np.zeros(lp.num_col_)
    col_lower[y[problem.forced]] = 1.0  # forced options are open
    lp.col_lower_ = col_lower
    lp.col_upper_ = np.ones(lp.num_col_)
    lp.row_lower_ = np.concatenate(row_lower)
    lp.row_upper_ = np.concatenate(row_upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    lp.a_matrix_.num_col_ = lp.num_col_
    lp.a_matrix_.num_row_ = n_rows
    integer, continuous = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
    lp.integrality_ = [integer] * n_options + [integer if problem.single_sourcing else continuous] * n_arcs
    return lp


def solve_highspy(problem: Problem, *, mip_gap: float, time_limit: float | None, threads: int | None) -> dict:
    """Build and solve the direct model; objective, status and seconds (build, solve)."""
    started = time.perf_counter()
    lp = highspy_model(problem)
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("mip_rel_gap", mip_gap)
    solver.setOptionValue("mip_abs_gap", 1e-9)
    if time_limit is not None:
        solver.setOptionValue("time_limit", float(time_limit))
    if threads is not None:
        solver.setOptionValue("threads", int(threads))
    solver.passModel(lp)
    built = time.perf_counter()
    solver.run()
    done = time.perf_counter()
    info = solver.getInfo()
    return {
        "objective": info.objective_function_value,
        "status": solver.modelStatusToString(solver.getModelStatus()),
        "build_s": built - started,
        "solve_s": done - built,
        "total_s": done - started,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmarks", type=Path, default=BENCHMARKS, help="folder with known_optima.csv")
    parser.add_argument("--only", nargs="*", help="instance name prefixes to run (default: all but capa)")
    parser.add_argument("--capa", action="store_true", help="include the capa rows (large, slow)")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per solve")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--mip-gap", type=float, default=1e-9, help="relative MIP gap (default 1e-9)")
    args = parser.parse_args(argv)

    print(
        f"{'instance':<16}{'size':>10}{'planner obj':>16}{'highspy obj':>16}{'planner s':>11}"
        f"{'highspy s':>11}{'ratio':>8}"
    )
    ratios = []
    for row in instances(args.benchmarks, only=args.only, capa=args.capa):
        problem = read_instance(row.fmt, row.path, capacity=row.capacity, p=row.p, single_source=row.single_source)
        started = time.perf_counter()
        result = solve_benchmark_problem(
            problem, time_limit=args.time_limit, threads=args.threads, mip_gap=args.mip_gap
        ).report
        planner_s = time.perf_counter() - started
        direct = solve_highspy(problem, mip_gap=args.mip_gap, time_limit=args.time_limit, threads=args.threads)
        ratio = planner_s / direct["total_s"]
        ratios.append(ratio)
        size = f"{problem.n_options}x{problem.n_regions}"
        print(
            f"{row.name:<16}{size:>10}{result.objective:>16.4f}{direct['objective']:>16.4f}"
            f"{planner_s:>11.2f}{direct['total_s']:>11.2f}{ratio:>8.1f}",
            flush=True,
        )
    if ratios:
        print(f"geometric mean ratio planner/highspy: {float(np.exp(np.mean(np.log(ratios)))):.2f} over {len(ratios)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
