"""Generate graphs of the OR-Library p-median type at the sizes of pmed21–pmed40 (which are not in
``../shared/benchmarks/pmed``) and solve each with the p-center and the p-median model of ``planner bench``.

The instances are fixed here (``CASES``), so two runs solve the same graphs: ``gpmed21`` … ``gpmed40``
have the (n, p) of ``pmed21`` … ``pmed40`` and the seed 21 … 40 (``benchmarks/generate.py pmed-graph``:
a random connected graph, n² / 50 edges, integer lengths 1 … 100):

=====  ===================  ======  =================
n      p                    edges   instances
=====  ===================  ======  =================
500    5, 10, 50, 100, 167  5,000   gpmed21 … gpmed25
600    5, 10, 60, 120, 200  7,200   gpmed26 … gpmed30
700    5, 10, 70, 140       9,800   gpmed31 … gpmed34
800    5, 10, 80            12,800  gpmed35 … gpmed37
900    5, 10, 90            16,200  gpmed38 … gpmed40
=====  ===================  ======  =================

Targets: p-center ≤ 30 s, p-median ≤ 10 s (proven optimal, ``total_s``). Each instance is written into a
temporary folder (``--keep DIR`` keeps them) and solved as a subprocess, ``python -m planner bench
pcenter|pmed FILE --time-limit T`` (one process per instance and model, as a user runs it). One line per
instance and model (name, n, p, model, status, objective, gap, total_s), then a summary per model:
instances, proven optimal, max and sum of ``total_s``, and how many were proven within the target.

Usage::

    python benchmarks/pmed_family.py --threads 1                  # all 20 × 2 (long: run on an idle machine)
    python benchmarks/pmed_family.py --quick                      # p = 5 at each n
    python benchmarks/pmed_family.py --model pmed --time-limit 60 --keep /tmp/gpmed
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (benchmarks/generate.py, a sibling script)
from solver_families import run_and_report, solve_file  # noqa: E402  (benchmarks/solver_families.py)

SIZES = {  # n → the p of pmed21 … pmed40, in their order
    500: (5, 10, 50, 100, 167),
    600: (5, 10, 60, 120, 200),
    700: (5, 10, 70, 140),
    800: (5, 10, 80),
    900: (5, 10, 90),
}
FIRST_NUMBER = 21  # gpmed21 is pmed21's size
TARGET_S = {"pcenter": 30.0, "pmed": 10.0}  # model (the planner bench format) → target seconds


@dataclass(frozen=True)
class Case:
    """One generated instance: its number (21 … 40, the pmed file of the same size), vertices, p, seed."""

    number: int
    n: int
    p: int
    seed: int

    @property
    def name(self) -> str:
        """``gpmed<number>``: the file stem, so the instance name in ``planner bench``'s rows."""
        return f"gpmed{self.number}"


CASES = tuple(
    Case(number, n, p, seed=number)
    for number, (n, p) in enumerate(((n, p) for n, ps in SIZES.items() for p in ps), start=FIRST_NUMBER)
)


def chosen_cases(quick: bool) -> list[Case]:
    """Every case, or with ``quick`` the first (p = 5) of each n."""
    if not quick:
        return list(CASES)
    return [next(case for case in CASES if case.n == n) for n in SIZES]


def line(case: Case, model: str, row: dict) -> str:
    """One printed line: name, n, p, model, status, objective, gap, total_s."""
    objective = "-" if row["objective"] is None else f"{row['objective']:.1f}"
    gap = "-" if row.get("mip_gap") is None else f"{100 * row['mip_gap']:.3f}%"
    total = "-" if row.get("total_s") is None else f"{row['total_s']:.2f}"
    text = f"{case.name:<9}{case.n:>5}{case.p:>5}  {model:<8}{row['status']:<12}{objective:>10}{gap:>10}{total:>9}"
    return text + (f"  {row['message']}" if "message" in row else "")


def summary(results: dict) -> list[str]:
    """One line per model (``results``: model → rows): instances, proven optimal, max and sum of total_s,
    how many were proven optimal within the model's target."""
    lines = [f"{'model':<8}{'n':>4}{'optimal':>9}{'max_s':>9}{'sum_s':>10}  target"]
    for model, rows in results.items():
        times = [row["total_s"] for row in rows if row.get("total_s") is not None]
        proven = sum(row["status"] == "optimal" for row in rows)
        hits = sum(row["status"] == "optimal" and row["total_s"] <= TARGET_S[model] for row in rows)
        worst = max(times) if times else float("nan")
        met = f"{hits}/{len(rows)} proven in ≤ {TARGET_S[model]:g} s"
        lines.append(f"{model:<8}{len(rows):>4}{proven:>9}{worst:>9.2f}{sum(times):>10.2f}  {met}")
    return lines


def run(args, folder: Path) -> dict:
    """Generate and solve every chosen instance with every chosen model, printing each line as it ends;
    model → rows."""
    models = list(TARGET_S) if args.model == "both" else [args.model]
    results: dict = {model: [] for model in models}
    header = f"{'name':<9}{'n':>5}{'p':>5}  {'model':<8}{'status':<12}{'objective':>10}{'gap':>10}{'total_s':>9}"
    print(header, flush=True)
    for case in chosen_cases(args.quick):
        _, text = generate.generate("pmed-graph", n_facilities=case.n, p=case.p, seed=case.seed)
        path = generate.write_instance(text, folder / f"{case.name}.txt")
        for model in models:
            row = solve_file(model, path, args.time_limit, args.threads)
            results[model].append(row)
            print(line(case, model, row), flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("pcenter", "pmed", "both"), default="both", help="default: both")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per instance and model (120)")
    parser.add_argument("--threads", type=int, default=None, help="HiGHS threads (default: HiGHS's)")
    parser.add_argument("--quick", action="store_true", help="only the first instance (p = 5) of each n")
    parser.add_argument("--keep", type=Path, help="write the instances here and keep them")
    args = parser.parse_args(argv)
    return run_and_report(run, summary, args, "pmed_family_")


if __name__ == "__main__":
    sys.exit(main())
