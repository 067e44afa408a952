"""Solve every proven-optimal instance in ``../shared/benchmarks`` with the planner and print a table.

Columns: instance, size (facilities x customers), known optimum, objective found, match (relative
difference <= 1e-6: "yes"; "yes*" when found but a limit stopped the proof; "limit" when a time limit
stopped the solve short of it; "NO" otherwise), seconds (read + build + solve + audit).
The rows come from ``known_optima.csv``; each is run through ``planner.studies.bench.run_bench``.

Usage::

    python benchmarks/run_published.py                      # everything except the capa rows
    python benchmarks/run_published.py --capa --time-limit 600
    python benchmarks/run_published.py --only pmed holmberg_p1 --threads 1
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from planner.studies.bench import DEFAULT_MIP_GAP, BenchCase, cases_from_optima, run_bench  # noqa: E402

BENCHMARKS = Path(__file__).resolve().parent.parent.parent / "shared" / "benchmarks"


def instances(benchmarks: Path, *, only: list[str] | None = None, capa: bool = False) -> Iterator[BenchCase]:
    """The proven-optimal cases of ``known_optima.csv``: capa rows only with ``capa``, and with ``only``
    those whose name starts with one of its prefixes."""
    for case in cases_from_optima(benchmarks / "known_optima.csv"):
        if case.path.name.startswith("capa") and not capa:
            continue
        if only and not any(case.name.startswith(prefix) for prefix in only):
            continue
        yield case


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmarks", type=Path, default=BENCHMARKS, help="folder with known_optima.csv")
    parser.add_argument("--only", nargs="*", help="instance name prefixes to run")
    parser.add_argument("--capa", action="store_true", help="include the capa rows (100 x 1000, slow)")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per solve")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--mip-gap", type=float, default=DEFAULT_MIP_GAP, help="relative MIP gap")
    args = parser.parse_args(argv)

    optima = args.benchmarks / "known_optima.csv"
    print(f"{'instance':<16}{'problem':<9}{'size':>10}{'known':>16}{'found':>16}{'match':>7}{'seconds':>9}")
    counts = {"yes": 0, "yes*": 0, "NO": 0, "limit": 0}
    started = time.perf_counter()
    for case in instances(args.benchmarks, only=args.only, capa=args.capa):
        [row] = run_bench(
            case.fmt,
            [case.path],
            capacity=case.capacity,
            p=case.p,
            single_source=case.single_source,
            time_limit=args.time_limit,
            threads=args.threads,
            optima=optima,
            mip_gap=args.mip_gap,
        )
        if row["match"] and row["status"] == "optimal":
            match = "yes"
        elif row["match"]:
            match = "yes*"  # the known value was found but not proven optimal (a limit stopped the solve)
        elif row["status"] == "time_limit":
            match = "limit"
        else:
            match = "NO"
        counts[match] += 1
        found = "-" if row["objective"] is None else f"{row['objective']:.4f}"
        known = "-" if row["known"] is None else f"{row['known']:.4f}"
        size = f"{row['n_facilities']}x{row['n_customers']}"
        print(
            f"{case.name:<16}{case.problem:<9}{size:>10}{known:>16}{found:>16}{match:>7}{row['total_s']:>9.2f}",
            flush=True,
        )
    total = sum(counts.values())
    print(
        f"{counts['yes']}/{total} match, {counts['yes*']} match unproven (yes*: stopped at a limit), "
        f"{counts['NO']} differ, {counts['limit']} stopped at the time limit without the known value; "
        f"{time.perf_counter() - started:.1f} s in all"
    )
    return 0 if counts["NO"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
