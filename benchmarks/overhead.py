r"""Modelling overhead: the planner versus HiGHS called directly, on one generated sparse instance.

A seeded capacitated facility-location instance (default 200 candidate sites × 3,000 customers,
each customer linked to its ``--neighbours`` nearest sites; all demand must be served; one module
per site) is solved in ONE run

1. by the planner, ``planner.pipeline.solve_problem`` (index, its presolve when it applies, the
   array-built standard form, the hand-over to HiGHS, the solve, the audit), and
2. by HiGHS called directly: the same formulation built here from the instance arrays with numpy
   and handed to highspy (no planner code), with the same options (relative gap, absolute gap 1e-9,
   threads, time limit).

The direct model is the planner's formulation for this shape:

.. math::
    \min \sum_o F_o y_o + \sum_a c_a q_a x_a \quad\text{s.t.}\quad
    \sum_{a \ni d} x_a = 1,\; \sum_{a \ni o} q_a x_a - C_o y_o \le 0,\;
    x_a - y_{o(a)} \le 0,\; \sum_o C_o y_o \ge \sum_d q_d

It prints the planner's per-phase times, its build + hand-over share of its total (target ≤ 15 %),
the ratio of its end-to-end time to the direct run's (target ≤ 1.15), both objectives, and, for
the record, how long the Pyomo route (``build_model`` + standard-form compiler + hand-over) takes to
build the same model. Wall-clock figures depend on the machine and its load: compare runs on an
idle machine.

Usage::

    python benchmarks/overhead.py                      # 200 x 3000, 1 thread, mip_gap 1e-3
    python benchmarks/overhead.py --sites 50 --customers 500 --threads 2
    python benchmarks/overhead.py --no-presolve        # the planner without its own presolve
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import time
from pathlib import Path

import highspy
import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from planner.model import ModelIndex, build_model  # noqa: E402
from planner.pipeline import Timing, solve_problem  # noqa: E402
from planner.problem import Problem  # noqa: E402
from planner.solver.highs import compile_model, new_highs, pass_model  # noqa: E402
from planner.solver.outcome import SolverOptions  # noqa: E402


def generate(n_sites: int, n_customers: int, neighbours: int, seed: int) -> Problem:
    """A seeded sparse CFLP: points in a 1,000 km square, each customer linked to its nearest sites."""
    rng = np.random.default_rng(seed)
    sites = rng.uniform(0, 1000, (n_sites, 2))
    customers = rng.uniform(0, 1000, (n_customers, 2))
    demand = rng.integers(5, 36, n_customers).astype(float)
    capacity = rng.integers(10, 161, n_sites).astype(float) * demand.sum() / n_sites / 25
    opening = rng.uniform(5_000, 15_000, n_sites) * capacity / capacity.mean()
    km, nearest = cKDTree(sites).query(customers, k=min(neighbours, n_sites))
    arc_region = np.repeat(np.arange(n_customers), nearest.shape[1])
    arc_option = nearest.ravel()
    arc_km = km.ravel()
    order = np.lexsort((arc_option, arc_region))
    arc_region, arc_option, arc_km = arc_region[order], arc_option[order], arc_km[order]
    n_arcs = len(arc_option)
    return Problem(
        name=f"overhead_{n_sites}x{n_customers}",
        region_ids=np.array([f"c{j}" for j in range(n_customers)], dtype=object),
        product_ids=("p",),
        type_ids=("site",),
        site_ids=np.array([f"s{i}" for i in range(n_sites)], dtype=object),
        demand=demand.reshape(-1, 1),
        unmet_penalty=np.array([np.inf]),
        max_distance_km=np.array([np.inf]),
        option_site=np.arange(n_sites),
        option_type=np.zeros(n_sites, dtype=int),
        opening_cost=opening.round(0),
        module_cost=np.zeros(n_sites),
        module_capacity=capacity.round(0),
        min_modules=np.ones(n_sites, dtype=int),
        max_modules=np.ones(n_sites, dtype=int),
        capex=np.zeros(n_sites),
        capex_per_module=np.zeros(n_sites),
        forced=np.zeros(n_sites, dtype=bool),
        arc_option=arc_option,
        arc_region=arc_region,
        arc_product=np.zeros(n_arcs, dtype=int),
        arc_distance_km=arc_km,
        arc_production_cost=np.zeros(n_arcs),
        arc_transport_cost=(arc_km * 1.0).round(3),
        arc_co2_t=np.zeros(n_arcs),
    )


def direct_highs(problem: Problem, options: SolverOptions) -> dict:
    """The formulation above, built from the instance arrays with numpy, solved by highspy."""
    started = time.perf_counter()
    n_options, n_arcs, n_customers = problem.n_options, problem.n_arcs, problem.n_regions
    demand = problem.demand[problem.arc_region, 0]
    capacity = problem.module_capacity
    y, x = np.arange(n_options), n_options + np.arange(n_arcs)
    # rows in the planner's order (balance, capacity, linking, aggregate capacity): HiGHS's search
    # depends on the order, so the same order makes the two runs the same computation
    cap0 = n_customers
    link0 = cap0 + n_options
    agg = link0 + n_arcs
    rows = np.concatenate([problem.arc_region, cap0 + problem.arc_option, cap0 + y, link0 + np.arange(n_arcs),
                           link0 + np.arange(n_arcs), np.full(n_options, agg)])
    cols = np.concatenate([x, x, y, x, y[problem.arc_option], y])
    vals = np.concatenate([np.ones(n_arcs), demand, -capacity, np.ones(n_arcs), -np.ones(n_arcs), capacity])
    n_rows = agg + 1
    matrix = sparse.csc_array((vals, (rows, cols)), shape=(n_rows, n_options + n_arcs))
    inf = highspy.kHighsInf
    row_lower = np.concatenate([np.ones(n_customers), np.full(n_options + n_arcs, -inf), [demand_total(problem)]])
    row_upper = np.concatenate([np.ones(n_customers), np.zeros(n_options + n_arcs), [inf]])
    cost = np.concatenate([problem.opening_cost, problem.arc_unit_cost * demand])
    integrality = np.concatenate([np.ones(n_options, dtype=np.int32), np.zeros(n_arcs, dtype=np.int32)])
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", options.mip_gap)
    highs.setOptionValue("mip_abs_gap", 1e-9)
    if options.threads is not None:
        # as the planner does (planner.solver.highs.new_highs): a scheduler started by an earlier run with
        # another thread count makes run() return at once with no status
        highspy.Highs.resetGlobalScheduler(True)
        highs.setOptionValue("threads", int(options.threads))
    if options.time_limit_s is not None:
        highs.setOptionValue("time_limit", float(options.time_limit_s))
    highs.passModel(
        n_options + n_arcs, n_rows, int(matrix.nnz), int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize), 0.0, cost, np.zeros(len(cost)), np.ones(len(cost)), row_lower, row_upper,
        matrix.indptr.astype(np.int32), matrix.indices.astype(np.int32), matrix.data, integrality,
    )
    built = time.perf_counter()
    highs.run()
    done = time.perf_counter()
    info = highs.getInfo()
    return {
        "objective": info.objective_function_value,
        "bound": info.mip_dual_bound,
        "status": highs.modelStatusToString(highs.getModelStatus()),
        "build_s": built - started,
        "solve_s": done - built,
        "total_s": done - started,
    }


def demand_total(problem: Problem) -> float:
    return float(problem.demand.sum())


def pyomo_route_s(problem: Problem, options: SolverOptions) -> dict:
    """Seconds for the Pyomo route's build, compile and hand-over of the same model (not solved)."""
    started = time.perf_counter()
    index = ModelIndex.from_problem(problem)
    model = build_model(problem, index)
    built = time.perf_counter()
    compiled = compile_model(model)
    highs = new_highs(dataclasses.replace(options, quiet=True))
    pass_model(highs, compiled)
    done = time.perf_counter()
    return {"build_s": built - started, "handover_s": done - built}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--neighbours", type=int, default=31, help="arcs per customer (nearest sites)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="HiGHS threads, both runs (default 1)")
    parser.add_argument("--mip-gap", type=float, default=1e-3)
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--no-presolve", action="store_true", help="switch off the planner's own presolve")
    parser.add_argument("--skip-pyomo", action="store_true", help="do not time the Pyomo route's build")
    parser.add_argument("--repeat", type=int, default=1, help="alternate planner and direct runs N times; best of N")
    parser.add_argument("--progress", action="store_true", help="keep the planner's live progress callback on")
    args = parser.parse_args(argv)

    problem = generate(args.sites, args.customers, args.neighbours, args.seed)
    options = SolverOptions(time_limit_s=args.time_limit, mip_gap=args.mip_gap, threads=args.threads, quiet=True)
    if not args.progress:  # the direct run has no callback either
        options = dataclasses.replace(options, progress_s=None)
    if args.no_presolve:
        options = dataclasses.replace(options, presolve_min_arcs=10**12)
    print(f"instance    {problem.name}: {problem.n_options} sites, {problem.n_regions} customers, "
          f"{problem.n_arcs:,} arcs; threads {args.threads}, mip_gap {args.mip_gap}")

    planner_runs, direct_runs = [], []
    for _ in range(args.repeat):  # alternate, so that a change in machine load hits both
        timing = Timing()
        started = time.perf_counter()
        run = solve_problem(problem, options, timing)
        planner_runs.append((time.perf_counter() - started, run, dict(timing.seconds)))
        direct_runs.append(direct_highs(problem, options))
    planner_s, run, phases = min(planner_runs, key=lambda item: item[0])
    direct = min(direct_runs, key=lambda item: item["total_s"])
    if direct["status"] not in ("Optimal", "Time limit reached"):
        print(f"error: HiGHS called directly ended with status {direct['status']!r}; no ratio", file=sys.stderr)
        return 1
    report = run.report
    highs_s = report.solve_s
    handover_s = report.handover_s
    build_s = phases.get("build", 0.0)
    print(f"planner     {planner_s:.2f} s end to end (best of {args.repeat}: "
          f"{', '.join(f'{item[0]:.2f}' for item in planner_runs)}): status {report.status.value}, objective "
          f"{report.objective:.6f}, bound {report.best_bound:.6f}, nodes {report.nodes}")
    print("  phases    " + ", ".join(f"{k} {v:.2f}s" for k, v in phases.items())
          + f" (of solve: hand-over {handover_s:.2f}s, HiGHS run {highs_s:.2f}s)")
    share = (build_s + handover_s) / planner_s
    print(f"  build + hand-over {build_s + handover_s:.2f} s = {100 * share:.1f}% of the planner's total "
          f"(target <= 15%): {'met' if share <= 0.15 else 'NOT met'}")
    print(f"direct      {direct['total_s']:.2f} s (best of {args.repeat}: "
          f"{', '.join(format(item['total_s'], '.2f') for item in direct_runs)}): status {direct['status']}, objective "
          f"{direct['objective']:.6f}, bound {direct['bound']:.6f} (build+pass {direct['build_s']:.2f}s, "
          f"run {direct['solve_s']:.2f}s)")
    ratio = planner_s / direct["total_s"]
    print(f"ratio       planner / direct = {ratio:.3f} (target <= 1.15): {'met' if ratio <= 1.15 else 'NOT met'}")
    outside = planner_s - highs_s
    print(f"  outside HiGHS's run: planner {outside:.2f} s, direct {direct['total_s'] - direct['solve_s']:.2f} s; "
          f"same bound {report.best_bound == direct['bound']} (equal bounds: the same search, so a difference "
          "in the HiGHS run times is machine load)")
    difference = abs(report.objective - direct["objective"]) / max(abs(direct["objective"]), 1.0)
    print(f"objectives  relative difference {difference:.2e} (both within mip_gap {args.mip_gap} of optimal)")
    if not args.skip_pyomo:
        pyomo = pyomo_route_s(problem, options)
        print(f"pyomo route build {pyomo['build_s']:.2f} s + compile/hand-over {pyomo['handover_s']:.2f} s "
              f"(not solved; for comparison with the array build above)")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS    {peak_mb:,.0f} MB (whole script)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
