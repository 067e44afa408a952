"""How cost grows with size: one row per instance of a model file on the bundled counties, from one
state to every county, with build time, solve time, peak memory and gap.

Each instance runs in its own Python process (so its peak RSS is its own) through the same path as
``planner solve`` without writing outputs: load → prepare → screen → index → presolve → standard
form → HiGHS → audit. Columns:

* ``regions``, ``options`` (candidate site × type pairs), ``arcs``;
* ``build_s``: index + standard form (+ hand-over to HiGHS); ``presolve_s``: the planner's
  Lagrangian presolve; ``solve_s``: HiGHS; ``total_s``: load to audit;
* ``peak_mb``: peak resident memory of the process; ``status`` and ``gap`` as ``planner solve``
  reports them.

Usage::

    python benchmarks/scaling.py                                   # NC, a few states, all counties
    python benchmarks/scaling.py --model models/hybrid.toml --time-limit 60
    python benchmarks/scaling.py --only NC NC,SC,GA,VA,TN
    python benchmarks/scaling.py --only "all counties" --mip-gap 0.005 --repeat 5            # idle target
    python benchmarks/scaling.py --only "all counties" --mip-gap 0.005 --repeat 5 --contended

Wall-clock figures depend on the machine and its load: compare runs on an idle machine.
``--contended`` measures the other case on purpose: one CPU-bound process (a Python loop) runs beside
each solve, started before it and stopped after it, as a second job on the machine would.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (label, --select value or None for every county)
INSTANCES = [
    ("NC", "STUSPS=NC"),
    ("NC,SC,GA,VA,TN", "STUSPS=NC,SC,GA,VA,TN"),
    ("12 eastern states", "STUSPS=NC,SC,GA,VA,TN,FL,AL,KY,WV,MD,PA,OH"),
    ("all counties", None),
]


def run_one(model: str, select: str | None, time_limit: float | None, mip_gap: float | None, threads: int | None):
    """Solve one instance in this process and return its row (called in a child process)."""
    sys.path.insert(0, str(ROOT))
    import dataclasses

    from planner.inputs.config import read_model_config
    from planner.inputs.prepare import DataOptions, parse_select
    from planner.pipeline import Timing, load_and_prepare, solve_problem
    from planner.solver.outcome import SolverOptions

    config = read_model_config(Path(model))
    options = SolverOptions(
        time_limit_s=time_limit if time_limit is not None else config.solver.time_limit_s,
        mip_gap=mip_gap if mip_gap is not None else config.solver.mip_gap,
        threads=threads if threads is not None else config.solver.threads,
    )
    data = DataOptions(select=parse_select([select]) if select else ())
    timing = Timing()
    started = time.perf_counter()
    _, problem, _ = load_and_prepare(config, data, timing)
    run = solve_problem(problem, dataclasses.replace(options), timing, screen=False)
    total = time.perf_counter() - started
    report = run.report
    seconds = timing.seconds
    return {
        "regions": problem.n_regions,
        "options": problem.n_options,
        "arcs": problem.n_arcs,
        "build_s": seconds.get("build", 0.0) + report.handover_s,
        "presolve_s": seconds.get("presolve", 0.0),
        "solve_s": report.solve_s,
        "total_s": total,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "status": report.status.value,
        "gap": report.mip_gap,
        "objective": report.objective,
        "bound": report.best_bound,
    }


@contextlib.contextmanager
def cpu_load(enabled: bool):
    """One CPU-bound process beside the block (``--contended``); nothing when not ``enabled``."""
    if not enabled:
        yield
        return
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        busy.kill()
        busy.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "us_counties_full.toml"))
    parser.add_argument("--only", nargs="*", help="instance labels to run (default: all)")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds (default: the model file's)")
    parser.add_argument("--mip-gap", type=float, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each instance (default 1)")
    parser.add_argument("--contended", action="store_true", help="one CPU-bound process beside each solve")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:  # one instance, its row as JSON on stdout
        select = args.child or None
        row = run_one(args.model, select, args.time_limit, args.mip_gap, args.threads)
        print(json.dumps(row))
        return 0

    print(f"model {args.model}; time limit {args.time_limit or 'of the model file'}; threads {args.threads}; "
          f"{'one CPU-bound process beside each run' if args.contended else 'no other load started'}")
    header = (f"{'instance':<20}{'regions':>8}{'options':>8}{'arcs':>10}{'build s':>9}{'presolve s':>11}"
              f"{'solve s':>9}{'total s':>9}{'peak MB':>9}  {'status':<11}{'gap':>8}")
    print(header)
    for label, select in [item for item in INSTANCES for _ in range(args.repeat)]:
        if args.only and label not in args.only:
            continue
        command = [sys.executable, __file__, "--model", args.model, "--child", select or ""]
        for flag, value in (("--time-limit", args.time_limit), ("--mip-gap", args.mip_gap),
                            ("--threads", args.threads)):
            if value is not None:
                command += [flag, str(value)]
        with cpu_load(args.contended):
            done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            print(f"{label:<20} failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else '?'}")
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        gap = "n/a" if row["gap"] is None else f"{100 * row['gap']:.2f}%"
        print(f"{label:<20}{row['regions']:>8}{row['options']:>8}{row['arcs']:>10,}{row['build_s']:>9.2f}"
              f"{row['presolve_s']:>11.2f}{row['solve_s']:>9.2f}{row['total_s']:>9.2f}{row['peak_mb']:>9,.0f}  "
              f"{row['status']:<11}{gap:>8}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
