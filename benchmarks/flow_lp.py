"""The heuristics' flow LPs with and without HiGHS's presolve, on seeded generated point sets.

For each size (demand points uniform in a 9° × 8° box, log-normal demand, seeded), the model
``planner init`` writes for the file is prepared as ``planner solve`` prepares it; the flow LP of
one open set (the ``--open`` options with the most demand near them by the first-arcs rule below) is
built once and solved by HiGHS three ways: with its presolve, without it (what
``planner.solver.highs.flow_lp_highs`` does), and with its presolve under a time limit of
``--limit`` seconds, to show whether HiGHS keeps to it. One row per size::

    regions  arcs  with_presolve_s  without_s  limited_s  limit_s  same_objective

Usage::

    python benchmarks/flow_lp.py                      # 5,000, 20,000 and 50,000 points
    python benchmarks/flow_lp.py --sizes 2000 10000 --limit 0.5

Wall-clock figures depend on the machine and its load: compare runs on an idle machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
BOX = (6.0, 15.0, 47.0, 55.0)  # lon min, lon max, lat min, lat max


def write_points(path: Path, n: int, seed: int) -> None:
    """``n`` demand points uniform in ``BOX``, 5 million units in all, log-normal per point."""
    rng = np.random.default_rng(seed)
    demand = np.round(5e6 / n * rng.lognormal(0, 1, n) / np.exp(0.5), 3)
    pd.DataFrame({
        "id": [f"r{i}" for i in range(n)],
        "lon": rng.uniform(BOX[0], BOX[1], n),
        "lat": rng.uniform(BOX[2], BOX[3], n),
        "demand": demand,
    }).to_csv(path, index=False)


def flow_lp(folder: Path, n: int, seed: int, n_open: int):
    """The flow LP form of ``n_open`` options (those with the most arcs) on ``n`` generated points."""
    sys.path.insert(0, str(ROOT))
    from planner.inputs.config import read_model_config
    from planner.inputs.prepare import DataOptions
    from planner.model.index import ModelIndex
    from planner.pipeline import Timing, load_and_prepare
    from planner.solver.heuristic import flow_form, sized_arc_cost

    points, model = folder / f"points_{n}.csv", folder / f"points_{n}.toml"
    write_points(points, n, seed)
    subprocess.run([sys.executable, "-m", "planner", "init", str(points), "--out", str(model)],
                   check=True, capture_output=True)
    _, problem, _ = load_and_prepare(read_model_config(model), DataOptions(), Timing())
    index = ModelIndex.from_problem(problem)
    opened = np.zeros(problem.n_options, dtype=bool)
    opened[np.argsort(-np.bincount(problem.arc_option, minlength=problem.n_options))[:n_open]] = True
    arcs = np.flatnonzero(opened[problem.arc_option])
    capacitated = np.flatnonzero(opened & np.isfinite(problem.module_capacity))
    form = flow_form(problem, index, sized_arc_cost(problem, index)[arcs], np.ones(len(arcs)),
                     problem.option_capacity_max[capacitated], arcs=arcs, capacitated=capacitated)
    return problem.n_regions, len(arcs), form


def timed(form, presolve: bool, limit_s: float | None) -> tuple[float, float | None]:
    """Seconds HiGHS takes on ``form``, and its objective (None unless optimal)."""
    from planner.solver.highs import new_highs, pass_model
    from planner.solver.outcome import SolverOptions

    highs = new_highs(SolverOptions(quiet=True, time_limit_s=limit_s))
    highs.setOptionValue("presolve", "on" if presolve else "off")
    pass_model(highs, form)
    started = time.perf_counter()
    highs.run()
    seconds = time.perf_counter() - started
    optimal = highs.getModelStatus() == highs.getModelStatus().kOptimal
    return seconds, (highs.getInfo().objective_function_value if optimal else None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[5000, 20000, 50000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--open", type=int, default=12, help="open options in the LP (default 12)")
    parser.add_argument("--limit", type=float, default=1.0, help="HiGHS time limit of the third solve, s")
    args = parser.parse_args(argv)
    print("regions  arcs  with_presolve_s  without_s  limited_s  limit_s  same_objective")
    with tempfile.TemporaryDirectory() as folder:
        for n in args.sizes:
            regions, arcs, form = flow_lp(Path(folder), n, args.seed, args.open)
            with_s, with_objective = timed(form, True, None)
            without_s, without_objective = timed(form, False, None)
            limited_s, _ = timed(form, True, args.limit)
            same = (with_objective is not None and without_objective is not None
                    and abs(with_objective - without_objective) <= 1e-7 * max(abs(with_objective), 1.0))
            print(f"{regions:7d}  {arcs:7d}  {with_s:15.2f}  {without_s:9.2f}  {limited_s:9.2f}  "
                  f"{args.limit:7.2f}  {same}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
