"""Generate fixed families of facility-location instances and solve each with ``planner bench``: the
generalisation check of issue 14 (develop on generated families, not on the published files).

The families, classes and seeds are fixed here (``FAMILIES``), so two runs solve the same instances:

=================  =======================================  =========  ======  =========
family             generator (``benchmarks/generate.py``)   size       count   target
=================  =======================================  =========  ======  =========
``cflp-r3/5/10``   Cornuéjols et al., capacity ratio r      100×1,000  3 × 7   ≤ 30 s
``holmberg-150``   Holmberg type, single source, r 1.5      30×150     4       (as now)
``holmberg-200``   Holmberg type, single source, r 2        30×200     4       (as now)
``kratica``        Kratica "M" type (MP-like)               200×200    5       ≤ 20 s
``kg-a/b/c``       Körkel–Ghosh, fixed-cost class a/b/c     200×200    3 × 2   (as now)
=================  =======================================  =========  ======  =========

Each instance is written into a temporary folder (``--keep DIR`` keeps them) and solved as a
subprocess, ``python -m planner bench FORMAT FILE --time-limit T`` (one process per instance, as a
user runs it). One line per instance (family, seed, status, objective, gap, total_s), then a summary
per family: instances, proven optimal, max and sum of ``total_s``, and how many met the target.

Usage::

    python benchmarks/solver_families.py                     # everything (long: run on an idle machine)
    python benchmarks/solver_families.py --quick             # the first seed of each class
    python benchmarks/solver_families.py --quick --small     # ... at reduced sizes, a smoke check
    python benchmarks/solver_families.py --only cflp-r3 kratica --time-limit 60 --threads 2
    python benchmarks/solver_families.py --seeds 101 102 103      # held-out seeds, never developed on

``--seeds`` replaces every class's seeds: the fixed ones are those the solver was developed and
measured on, so a run on seeds nobody has looked at is the check that it generalises.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (benchmarks/generate.py, a sibling script)


@dataclass(frozen=True)
class Family:
    """One class of generated instances: the generator, its settings, the seeds, the ``planner bench``
    format, the time target (seconds, None: none) and the settings of ``--small``."""

    label: str
    generator: str
    fmt: str
    settings: dict
    seeds: tuple[int, ...]
    target_s: float | None
    small: dict = field(default_factory=dict)


CFLP_SMALL = {"n_facilities": 50, "n_customers": 200}
UFL_SMALL = {"n_facilities": 100}
SSCFLP_SMALL = {"n_facilities": 10, "n_customers": 50}
FAMILIES = (
    *(Family(f"cflp-r{ratio:g}", "cflp", "cap", {"n_facilities": 100, "n_customers": 1000, "ratio": ratio},
             tuple(range(1, 8)), 30.0, CFLP_SMALL) for ratio in (3.0, 5.0, 10.0)),
    *(Family(f"holmberg-{size}", "sscflp", "sscflp",
             {"n_facilities": 30, "n_customers": size, "ratio": ratio}, tuple(range(1, 5)), None, SSCFLP_SMALL)
      for size, ratio in ((150, 1.5), (200, 2.0))),
    Family("kratica", "ufl-kratica", "ufl", {"n_facilities": 200}, tuple(range(1, 6)), 20.0, UFL_SMALL),
    *(Family(f"kg-{c}", "ufl-kg", "ufl", {"n_facilities": 200, "fixed_class": c}, (1, 2), None, UFL_SMALL)
      for c in ("a", "b", "c")),
)


def solve_file(fmt: str, path: Path, time_limit: float, threads: int | None) -> dict:
    """``planner bench FORMAT FILE`` in a subprocess: its JSON row (status ``error`` and the command's
    last stderr line where it printed none), with ``wall_s`` the subprocess's wall time."""
    command = [sys.executable, "-m", "planner", "bench", fmt, str(path), "--time-limit", f"{time_limit:g}"]
    if threads is not None:
        command += ["--threads", str(threads)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent)
    wall_s = time.perf_counter() - started
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if not rows:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": "error", "objective": None, "mip_gap": None, "total_s": None, "wall_s": wall_s,
                "message": last}
    return rows[0] | {"wall_s": wall_s}


def instances(families, *, quick: bool, small: bool, seeds: tuple[int, ...] | None = None):
    """(family, seed, generator settings) of every instance to run (``seeds``: instead of each class's)."""
    for family in families:
        chosen = family.seeds if seeds is None else seeds
        for seed in chosen[:1] if quick else chosen:
            settings = family.settings | (family.small if small else {})
            yield family, seed, settings


def line(family: Family, seed: int, row: dict) -> str:
    """One printed line: family, seed, status, objective, gap, total_s."""
    objective = "-" if row["objective"] is None else f"{row['objective']:.6f}"
    gap = "-" if row.get("mip_gap") is None else f"{100 * row['mip_gap']:.3f}%"
    total = "-" if row.get("total_s") is None else f"{row['total_s']:.2f}"
    return f"{family.label:<10}{seed:>5}  {row['status']:<11}{objective:>20}{gap:>10}{total:>9}"


def summary(results: dict) -> list[str]:
    """One line per family (``results``: label → (family, rows)): instances, proven optimal, max and sum
    of total_s, how many met the target."""
    lines = [f"{'family':<10}{'n':>4}{'optimal':>9}{'max_s':>9}{'sum_s':>9}  target"]
    for family, rows in results.values():
        times = [row["total_s"] for row in rows if row.get("total_s") is not None]
        proven = sum(row["status"] == "optimal" for row in rows)
        met = "-"
        if family.target_s is not None:
            hits = sum(row["status"] == "optimal" and row["total_s"] <= family.target_s for row in rows)
            met = f"{hits}/{len(rows)} proven in ≤ {family.target_s:g} s"
        worst = max(times) if times else float("nan")
        lines.append(f"{family.label:<10}{len(rows):>4}{proven:>9}{worst:>9.2f}{sum(times):>9.2f}  {met}")
    return lines


def run(args, folder: Path) -> dict:
    """Generate and solve every chosen instance, printing its line as it ends; label → (family, rows)."""
    families = [f for f in FAMILIES if not args.only or any(f.label.startswith(p) for p in args.only)]
    results: dict = {family.label: (family, []) for family in families}
    print(f"{'family':<10}{'seed':>5}  {'status':<11}{'objective':>20}{'gap':>10}{'total_s':>9}", flush=True)
    for family, seed, settings in instances(families, quick=args.quick, small=args.small,
                                         seeds=tuple(args.seeds) if args.seeds else None):
        instance, text = generate.generate(family.generator, seed=seed, **settings)
        path = generate.write_instance(text, folder / f"{instance.name}.txt")
        row = solve_file(family.fmt, path, args.time_limit, args.threads)
        results[family.label][1].append(row)
        print(line(family, seed, row) + (f"  {row['message']}" if "message" in row else ""), flush=True)
    return results


def seed_number(text: str) -> int:
    """A seed for ``--seeds``: a whole number ≥ 0 (numpy's generators take no negative seed)."""
    seed = int(text)
    if seed < 0:
        raise argparse.ArgumentTypeError(f"{text}: a seed is a whole number ≥ 0")
    return seed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=90.0, help="seconds per instance (default 90)")
    parser.add_argument("--threads", type=int, default=None, help="HiGHS threads (default: HiGHS's)")
    parser.add_argument("--quick", action="store_true", help="only the first seed of each class")
    parser.add_argument("--small", action="store_true", help="reduced sizes (CFLP 50 × 200, UFL 100 × 100)")
    parser.add_argument("--only", nargs="*", help="family label prefixes (cflp-r3, kratica, kg-b, ...)")
    parser.add_argument("--seeds", nargs="+", type=seed_number,
                        help="seeds (≥ 0) for every class instead of its fixed ones")
    parser.add_argument("--keep", type=Path, help="write the instances here and keep them")
    args = parser.parse_args(argv)
    return run_and_report(run, summary, args, "solver_families_")


def run_and_report(run_all, summarise, args, prefix: str) -> int:
    """``run_all(args, folder)`` in ``args.keep`` or a temporary folder, then ``summarise``'s lines
    and the wall time; 0."""
    started = time.perf_counter()
    if args.keep is not None:
        results = run_all(args, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix=prefix) as folder:
            results = run_all(args, Path(folder))
    print()
    print("\n".join(summarise(results)))
    print(f"wall {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
