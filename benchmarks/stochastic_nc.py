"""The stochastic benchmark of issue 6: ``planner solve --select STUSPS=NC --scenarios 50`` (100
counties, 50 generated scenarios, the default model ``models/hybrid.toml``, 1 % gap).

Prints the instance size, then per step (mean value, EEV, stochastic optimum RP, wait and see,
strategies) the wall time, and for RP the status, gap, bound, HiGHS time, nodes and model size;
then VSS and EVPI; then the end-to-end wall time of the command itself (outputs included).

Usage::

    python benchmarks/stochastic_nc.py                      # 50 scenarios, seed 1
    python benchmarks/stochastic_nc.py --scenarios 20 --seed 3 --no-cli
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from planner.inputs.config import read_model_config  # noqa: E402
from planner.inputs.prepare import DataOptions, load_inputs, prepare_problem  # noqa: E402
from planner.model import ModelIndex  # noqa: E402
from planner.solver.highs import compile_model  # noqa: E402
from planner.solver.outcome import SolverOptions  # noqa: E402
from planner.studies.stochastic import analysis  # noqa: E402
from planner.studies.stochastic.build import build_stochastic_model  # noqa: E402
from planner.studies.stochastic.pipeline import load_scenarios, stochastic_problem_from  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "hybrid.toml"))
    parser.add_argument("--state", default="NC")
    parser.add_argument("--scenarios", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-cli", action="store_true", help="skip the end-to-end command")
    args = parser.parse_args()

    config = read_model_config(args.model)
    options = SolverOptions(
        time_limit_s=config.solver.time_limit_s, mip_gap=config.solver.mip_gap, threads=config.solver.threads
    )
    started = time.perf_counter()
    inputs = load_inputs(config, DataOptions(select=(("STUSPS", (args.state,)),)))
    scenarios = load_scenarios(args.scenarios, config, inputs, args.seed)
    widest = dataclasses.replace(inputs, demand=np.maximum(inputs.demand, scenarios.demand.max(axis=0)))
    problem = prepare_problem(config, widest)
    sp = stochastic_problem_from(config, problem, scenarios)
    index = ModelIndex.from_problem(sp.problem)
    print(f"instance    {args.state}: {problem.n_regions} regions, {problem.n_options} options "
          f"({sp.problem.n_options} after pruning), {sp.problem.n_arcs} arcs, {args.scenarios} scenarios "
          f"(seed {args.seed}), mip_gap {options.mip_gap}, time limit {options.time_limit_s} s")
    print(f"prepare     {time.perf_counter() - started:.2f} s")

    tick = time.perf_counter()
    built = build_stochastic_model(sp, index)
    compiled = compile_model(built)
    print(f"model       {len(compiled.row_lower):,} rows, {len(compiled.cost):,} columns "
          f"({int(compiled.integer.sum())} integer); build + compile {time.perf_counter() - tick:.2f} s")

    tick = time.perf_counter()
    ev = analysis.mean_value_run(sp, options, index)
    print(f"mean value  {time.perf_counter() - tick:6.2f} s  EV {ev.objective:,.0f} ({ev.report.status.value})")
    tick = time.perf_counter()
    eev = analysis.evaluate_first_stage(sp, ev.solution.first_stage, options, index)
    print(f"EEV         {time.perf_counter() - tick:6.2f} s  EEV {eev.objective:,.0f}")
    tick = time.perf_counter()
    rp = analysis.solve_stochastic(sp, options, index=index, start=eev.solution)
    report = rp.report
    print(f"RP          {time.perf_counter() - tick:6.2f} s  {report.status.value}, objective {rp.objective:,.0f}, "
          f"bound {report.best_bound:,.0f}, gap {100 * report.mip_gap:.3f} %, HiGHS {report.solve_s:.2f} s, "
          f"hand-over {report.handover_s:.2f} s, {report.nodes} nodes")
    tick = time.perf_counter()
    ws_costs, ws_gap = analysis.wait_and_see(sp, options, index, rp)
    ws = float(sp.scenarios.probability @ ws_costs)
    print(f"WS          {time.perf_counter() - tick:6.2f} s  WS {ws:,.0f} (largest gap {100 * (ws_gap or 0):.2f} %)")
    print(f"VSS         {eev.objective - rp.objective:,.0f}   EVPI {rp.objective - ws:,.0f}  (cvar_weight "
          f"{sp.cvar_weight}: objective = expected cost)")

    if not args.no_cli:
        with tempfile.TemporaryDirectory() as folder:
            command = [sys.executable, str(ROOT / "cli.py"), "solve", "--select", f"STUSPS={args.state}",
                       "--scenarios", str(args.scenarios), "--seed", str(args.seed), "--model", args.model,
                       "--out", str(Path(folder) / "out"), "--quiet"]
            tick = time.perf_counter()
            result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
            wall = time.perf_counter() - tick
        print(f"command     {wall:6.2f} s end to end (exit {result.returncode}): {' '.join(command[1:])}")
        for line in result.stdout.splitlines():
            if line.startswith(("scenarios", "timing")):
                print(f"            {line}")


if __name__ == "__main__":
    main()
