"""The planner against PySAL spopt on the OR-Library p-median instances (issue 14): each instance is
read once; spopt's ``PMedian.from_cost_matrix`` (PuLP, with HiGHS through highspy where PuLP has it,
else CBC; the line says which) and ``planner bench pmed`` (``planner.studies.bench.run_bench``) solve
it in the same run; the optima must agree (relative difference ≤ 1e-6, and with the known optimum).

Printed: one line per instance (p, the two objectives, the known optimum, seconds each, spopt /
planner), then the totals and their ratio (summed seconds: spopt's model build + solve; the
planner's ``total_s`` = read + build + solve + audit).

spopt is a benchmark-only extra (``pip install -e .[bench]``), never a runtime dependency.

Usage::

    python benchmarks/peer_spopt.py                        # pmed1 … pmed20 (long: run on an idle machine)
    python benchmarks/peer_spopt.py pmed1 pmed2 --threads 2
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from planner.formats.pmed import read_pmed_distances  # noqa: E402
from planner.studies.bench import DEFAULT_MIP_GAP, run_bench  # noqa: E402

BENCHMARKS = Path(__file__).resolve().parent.parent.parent / "shared" / "benchmarks"
MATCH_RTOL = 1e-6


def pulp_solver(time_limit: float | None, threads: int | None):
    """PuLP's HiGHS (highspy) if PuLP has it, else CBC; and its name for the printout."""
    import pulp

    highs = pulp.HiGHS(msg=False, gapRel=DEFAULT_MIP_GAP, timeLimit=time_limit, threads=threads)
    if highs.available():
        return highs, f"PuLP {pulp.__version__} + HiGHS (highspy)"
    cbc = pulp.PULP_CBC_CMD(msg=False, gapRel=DEFAULT_MIP_GAP, timeLimit=time_limit, threads=threads)
    return cbc, f"PuLP {pulp.__version__} + CBC (HiGHS not available to PuLP)"


def solve_spopt(distance: np.ndarray, p: int, solver) -> tuple[float, float]:
    """spopt's p-median on the (clients × sites) distance matrix, every client of weight 1: its
    objective and the seconds to build and solve the model."""
    import pulp
    from pyomo.common.tee import capture_output
    from spopt.locate import PMedian

    started = time.perf_counter()
    model = PMedian.from_cost_matrix(distance, np.ones(len(distance)), p_facilities=p, name="pmed")
    with capture_output(capture_fd=True):  # HiGHS prints its banner on stdout when PuLP creates it
        model.solve(solver, results=False)
    return float(pulp.value(model.problem.objective)), time.perf_counter() - started


def solve_planner(path: Path, time_limit: float | None, threads: int | None) -> dict:
    """``planner bench pmed FILE`` in this process: its result row."""
    [row] = run_bench("pmed", [path], time_limit=time_limit, threads=threads)
    return row


def known_optima(benchmarks: Path) -> dict[str, float]:
    """Instance name → published optimum (the pmedian rows of ``known_optima.csv``)."""
    path = benchmarks / "known_optima.csv"
    if not path.exists():
        return {}
    with path.open(newline="") as handle:
        return {row["instance"]: float(row["optimal_value"]) for row in csv.DictReader(handle)
                if row["problem"] == "pmedian"}


def agree(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= MATCH_RTOL * max(abs(b), 1.0)


def compare(path: Path, known: float | None, solver, args) -> tuple[float, float, bool]:
    """One instance: read once, solve with both, print its line; (spopt s, planner s, optima agree)."""
    distance, p = read_pmed_distances(path)
    spopt_objective, spopt_s = solve_spopt(distance, p, solver)
    row = solve_planner(path, args.time_limit, args.threads)
    planner_s = row["total_s"]
    same = agree(spopt_objective, row["objective"]) and (known is None or agree(row["objective"], known))
    known_text = "-" if known is None else f"{known:.0f}"
    planner_objective = "-" if row["objective"] is None else f"{row['objective']:.2f}"
    print(f"{path.stem:<8}{p:>5}{spopt_objective:>12.2f}{planner_objective:>12}{known_text:>10}"
          f"{spopt_s:>10.2f}{planner_s:>10.2f}{spopt_s / planner_s:>8.1f}x  {row['status']}"
          f"{'' if same else '  OPTIMA DIFFER'}", flush=True)
    return spopt_s, planner_s, same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("instances", nargs="*", help="pmed names (default: pmed1 … pmed20)")
    parser.add_argument("--benchmarks", type=Path, default=BENCHMARKS, help="folder with pmed/ and known_optima.csv")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per solve, for both")
    parser.add_argument("--threads", type=int, default=None, help="threads, for both")
    args = parser.parse_args(argv)
    names = args.instances or [f"pmed{k}" for k in range(1, 21)]
    optima = known_optima(args.benchmarks)
    solver, solver_name = pulp_solver(args.time_limit, args.threads)
    print(f"spopt: {solver_name}; planner: planner bench pmed")
    print(f"{'instance':<8}{'p':>5}{'spopt':>12}{'planner':>12}{'known':>10}{'spopt_s':>10}{'planner_s':>10}"
          f"{'ratio':>9}")
    totals, all_agree = np.zeros(2), True
    for name in names:
        spopt_s, planner_s, same = compare(args.benchmarks / "pmed" / f"{name}.txt", optima.get(name), solver, args)
        totals += (spopt_s, planner_s)
        all_agree &= same
    print(f"total   spopt {totals[0]:.2f} s, planner {totals[1]:.2f} s: the planner is "
          f"{totals[0] / totals[1]:.1f}x faster; optima {'agree' if all_agree else 'DIFFER'}")
    return 0 if all_agree else 1


if __name__ == "__main__":
    sys.exit(main())
