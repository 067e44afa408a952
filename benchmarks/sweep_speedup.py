"""Speed-up of ``planner sweep`` on dask.distributed: the same 16 scenarios on a LocalCluster of 1
worker process and of 2, each into a fresh folder (nothing reused), HiGHS on one thread per worker.

The instance: the bundled counties of five south-eastern states with the default hybrid model; the
16 scenarios are a 4 × 4 grid of the carbon price and the microfactory opening cost. Prints the wall
time of each sweep once its cluster is up (and how long the cluster took to start), the
scenarios' own seconds summed, and the speed-up of the sweeps. A one-scenario sweep runs first,
untimed, so that no configuration pays for cold caches.

Usage::

    python benchmarks/sweep_speedup.py                 # 1 worker vs 2 workers
    python benchmarks/sweep_speedup.py --workers 1 2 4 --select STUSPS=NC,SC
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from planner.export.sweep_folder import write_scenario_folder  # noqa: E402
from planner.inputs.config import read_model_config  # noqa: E402
from planner.inputs.prepare import DataOptions, parse_select  # noqa: E402
from planner.solver.outcome import SolverOptions  # noqa: E402
from planner.studies.sweep import Vary, run_sweep  # noqa: E402
from planner.studies.sweep.runner import dask_client  # noqa: E402

VARY = ["carbon_price=0:150:4", "facility_types.microfactory.opening_cost_per_yr=1000000:2500000:4"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(ROOT / "models" / "hybrid.toml"))
    parser.add_argument("--select", default="STUSPS=NC,SC,GA,VA,TN")
    parser.add_argument("--vary", nargs="+", default=VARY)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--mip-gap", type=float, default=1e-4)
    args = parser.parse_args()

    config = read_model_config(args.model)
    varies = [Vary.parse(text, config) for text in args.vary]
    data = DataOptions(select=parse_select([args.select]))
    options = SolverOptions(mip_gap=args.mip_gap, threads=1)
    seconds = {}
    with tempfile.TemporaryDirectory() as folder:  # warm-up: file cache, compiled modules; not timed
        run_sweep(config, [Vary.parse(args.vary[0], config)][:1], data, options, Path(folder) / "warm", workers=1,
                  samples=1, method="lhs", writer=write_scenario_folder)
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            with dask_client(workers=workers) as client:
                ready = time.perf_counter()
                address = client.scheduler.address
                result = run_sweep(config, varies, data, options, Path(folder) / "sweep", scheduler=address,
                                   writer=write_scenario_folder)
                done = time.perf_counter()
            seconds[workers] = done - ready
            solve_seconds = result.rows["seconds"].sum()
        print(
            f"workers={workers}: {len(result.rows)} scenarios ({result.solved} solved, {result.failed} failed): "
            f"sweep {seconds[workers]:.1f} s wall after the cluster started in {ready - started:.1f} s; "
            f"scenario seconds summed {solve_seconds:.1f} s",
            flush=True,
        )
    base_workers = min(seconds)
    for workers in sorted(seconds):
        if workers != base_workers:
            print(f"speed-up {base_workers} → {workers} workers: {seconds[base_workers] / seconds[workers]:.2f}×")


if __name__ == "__main__":
    main()
