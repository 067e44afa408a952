"""The planner against PySAL spopt on the classic location models (issue 14): p-median and p-center
on the OR-Library ``pmed`` graphs, the maximal covering (MCLP) and location set covering (LSCP)
problems on seeded generated instances (``benchmarks/generate.py coverage-square|coverage-clustered``).

Each instance is built once: its distance matrix (and weights) are read with the planner's reader
(``planner.formats.points.read_distance_instance``) and handed to spopt's ``from_cost_matrix``
(``PMedian``, ``PCenter``, ``MCLP``, ``LSCP``; PuLP, with HiGHS through highspy where PuLP has it,
else CBC; the first line says which), and the file itself to ``planner bench FORMAT``
(``planner.studies.bench.run_bench``: ``pmed``, ``pcenter``, ``mclp``, ``lscp``). Where both finish,
the objectives must agree (relative difference ≤ 1e-6; p-median also with the known optimum).

spopt runs under a time limit per instance (``--spopt-time-limit``, default 60 s, on its HiGHS solve;
its model build is not limited). A spopt run that stops at the limit (no proven optimum) is
counted at the limit in the totals, marked ``limit``, and its objective is not compared.

Printed per model: one line per instance (the parameters, the two objectives, seconds each — spopt's
model build + solve, the planner's ``total_s`` = read + build + solve + check — and spopt / planner),
then the totals and their ratio.

Generated instances (``--model mclp|lscp``; seed 1, written to a temporary folder): the sizes of
``GENERATED`` (100 sites × 1,000 demand points … 1,000 × 10,000), square and clustered, with the
generator's p and coverage distances (MCLP: p discs could cover half the square; LSCP: 2.5 × the
farthest nearest-site distance). ``--sizes 100x1000,500x5000`` picks others.

spopt is a benchmark-only extra (``pip install -e .[bench]``), never a runtime dependency.

Usage::

    python benchmarks/peer_spopt.py                                  # p-median, pmed1 … pmed20
    python benchmarks/peer_spopt.py pmed1 pmed2 --threads 2
    python benchmarks/peer_spopt.py --model pcenter pmed1 pmed2 pmed3 --threads 1
    python benchmarks/peer_spopt.py --model mclp --sizes 100x1000,500x5000
    python benchmarks/peer_spopt.py --model all                      # all four (long)
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from planner.formats.points import read_distance_instance  # noqa: E402
from planner.studies.bench import DEFAULT_MIP_GAP, run_bench  # noqa: E402

BENCHMARKS = Path(__file__).resolve().parent.parent.parent / "shared" / "benchmarks"
MATCH_RTOL = 1e-6
MODELS = ("pmedian", "pcenter", "mclp", "lscp")
BENCH_FORMAT = {"pmedian": "pmed", "pcenter": "pcenter", "mclp": "mclp", "lscp": "lscp"}
GENERATED = (  # (sites, demand points, family) of the MCLP and LSCP instances
    (100, 1000, "coverage-square"),
    (200, 2000, "coverage-clustered"),
    (500, 5000, "coverage-square"),
    (1000, 10000, "coverage-clustered"),
)


@dataclass(frozen=True)
class Case:
    """One instance of one model: the file both solve, the matrix spopt gets, the parameters."""

    model: str
    name: str
    path: Path
    distance: np.ndarray  # (n_demand, n_sites), length units
    weight: np.ndarray  # (n_demand,)
    p: int | None
    coverage: float | None
    known: float | None = None


def pulp_solver(time_limit: float | None, threads: int | None):
    """PuLP's HiGHS (highspy) if PuLP has it, else CBC; and its name for the printout."""
    import pulp

    highs = pulp.HiGHS(msg=False, gapRel=DEFAULT_MIP_GAP, timeLimit=time_limit, threads=threads)
    if highs.available():
        return highs, f"PuLP {pulp.__version__} + HiGHS (highspy)"
    cbc = pulp.PULP_CBC_CMD(msg=False, gapRel=DEFAULT_MIP_GAP, timeLimit=time_limit, threads=threads)
    return cbc, f"PuLP {pulp.__version__} + CBC (HiGHS not available to PuLP)"


def spopt_model(case: Case):
    """spopt's model of ``case`` from its cost matrix."""
    from spopt.locate import LSCP, MCLP, PCenter, PMedian

    if case.model == "pmedian":
        return PMedian.from_cost_matrix(case.distance, case.weight, p_facilities=case.p, name="pmed")
    if case.model == "pcenter":
        return PCenter.from_cost_matrix(case.distance, p_facilities=case.p, name="pcenter")
    if case.model == "mclp":
        return MCLP.from_cost_matrix(case.distance, case.weight, service_radius=case.coverage,
                                     p_facilities=case.p, name="mclp")
    return LSCP.from_cost_matrix(case.distance, service_radius=case.coverage, name="lscp")


def solve_spopt(case: Case, solver, time_limit: float | None) -> tuple[float | None, float, bool]:
    """spopt on ``case``: its objective (None without a solution), the seconds to build and solve
    (the time limit where it did not prove an optimum) and whether it proved one."""
    import pulp
    from pyomo.common.tee import capture_output

    started = time.perf_counter()
    model = spopt_model(case)
    try:
        with capture_output(capture_fd=True):  # HiGHS prints its banner on stdout when PuLP creates it
            model.solve(solver, results=False)
    except RuntimeError:  # spopt: "Model is not solved" (no solution within the limit)
        return None, time_limit or time.perf_counter() - started, False
    seconds = time.perf_counter() - started
    proven = model.problem.sol_status == pulp.LpSolutionOptimal
    if not proven and time_limit is not None:
        seconds = time_limit
    return float(pulp.value(model.problem.objective)), seconds, proven


def solve_planner(case: Case, time_limit: float | None, threads: int | None) -> dict:
    """``planner bench FORMAT FILE`` in this process: its result row."""
    p = None if case.model == "lscp" else case.p
    [row] = run_bench(BENCH_FORMAT[case.model], [case.path], p=p, coverage=case.coverage, time_limit=time_limit,
                      threads=threads)
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


def compare(case: Case, solver, args) -> tuple[float, float, bool]:
    """One instance: solve with both, print its line; (spopt s, planner s, objectives agree or not comparable)."""
    spopt_objective, spopt_s, proven = solve_spopt(case, solver, args.spopt_time_limit)
    row = solve_planner(case, args.time_limit, args.threads)
    planner_s = row["total_s"]
    same = not proven or agree(spopt_objective, row["objective"])
    same &= case.known is None or agree(row["objective"], case.known)
    params = " ".join(f"{key}={value:g}" for key, value in (("p", case.p), ("D", case.coverage)) if value is not None)
    text = {key: "-" if value is None else f"{value:.2f}" for key, value in
            (("spopt", spopt_objective), ("planner", row["objective"]), ("known", case.known))}
    print(f"{case.name:<28}{params:>16}{text['spopt']:>13}{text['planner']:>13}{text['known']:>10}"
          f"{spopt_s:>10.2f}{planner_s:>10.2f}{spopt_s / planner_s:>8.1f}x  {'optimal' if proven else 'limit'}"
          f"/{row['status']}{'' if same else '  OPTIMA DIFFER'}", flush=True)
    return spopt_s, planner_s, same


def pmed_cases(model: str, names: list[str], benchmarks: Path) -> list[Case]:
    """The p-median or p-center cases of the named pmed graphs (every vertex weight 1, the file's p)."""
    optima = known_optima(benchmarks) if model == "pmedian" else {}
    cases = []
    for name in names:
        path = benchmarks / "pmed" / f"{name}.txt"
        instance = read_distance_instance(path)
        cases.append(Case(model, name, path, instance.distance, instance.weight, instance.p, None, optima.get(name)))
    return cases


def generated_cases(model: str, sizes, folder: Path, seed: int) -> list[Case]:
    """The MCLP or LSCP cases of generated instances written to ``folder`` (see the module docstring)."""
    generate = _generator()
    cases = []
    for n_sites, n_demand, family in sizes:
        instance, text = generate.generate(family, n_facilities=n_sites, n_customers=n_demand, seed=seed)
        path = generate.write_instance(text, folder / f"{instance.name}.txt")
        read = read_distance_instance(path)
        coverage = instance.mclp_coverage if model == "mclp" else instance.lscp_coverage
        p = read.p if model == "mclp" else None
        cases.append(Case(model, instance.name.removeprefix("coverage-"), path, read.distance, read.weight, p,
                          coverage))
    return cases


def _generator():
    """``benchmarks/generate.py`` as a module (a script, not a package)."""
    spec = importlib.util.spec_from_file_location("benchmarks_generate", Path(__file__).with_name("generate.py"))
    module = sys.modules.setdefault("benchmarks_generate", importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    return module


def run_model(cases: list[Case], solver, args) -> bool:
    """Every case of one model, then its totals; whether the objectives agree."""
    print(f"\n{cases[0].model}:")
    print(f"{'instance':<28}{'params':>16}{'spopt':>13}{'planner':>13}{'known':>10}{'spopt_s':>10}{'planner_s':>10}"
          f"{'ratio':>9}  spopt/planner status")
    totals, all_agree = np.zeros(2), True
    for case in cases:
        spopt_s, planner_s, same = compare(case, solver, args)
        totals += (spopt_s, planner_s)
        all_agree &= same
    print(f"total {cases[0].model}: spopt {totals[0]:.2f} s, planner {totals[1]:.2f} s: the planner is "
          f"{totals[0] / totals[1]:.1f}x faster; objectives {'agree' if all_agree else 'DIFFER'}", flush=True)
    return all_agree


def parse_sizes(text: str | None):
    """``"100x1000,500x5000"`` → ((100, 1000, family), …), square and clustered in turn; None → GENERATED."""
    if not text:
        return GENERATED
    pairs = [part.lower().split("x") for part in text.split(",")]
    families = ("coverage-square", "coverage-clustered")
    return tuple((int(m), int(n), families[k % 2]) for k, (m, n) in enumerate(pairs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("instances", nargs="*", help="pmed names for pmedian and pcenter (default: pmed1 … pmed20)")
    parser.add_argument("--model", choices=(*MODELS, "all"), default="pmedian", help="the model (default pmedian)")
    parser.add_argument("--benchmarks", type=Path, default=BENCHMARKS, help="folder with pmed/ and known_optima.csv")
    parser.add_argument("--sizes", help="sites x demand points of the generated mclp/lscp instances, e.g. 100x1000")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated instances")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per instance, for the planner")
    parser.add_argument("--spopt-time-limit", type=float, default=60.0, help="seconds per spopt solve (default 60)")
    parser.add_argument("--threads", type=int, default=None, help="threads, for both")
    args = parser.parse_args(argv)
    names = args.instances or [f"pmed{k}" for k in range(1, 21)]
    solver, solver_name = pulp_solver(args.spopt_time_limit, args.threads)
    print(f"spopt: {solver_name}, limit {args.spopt_time_limit:g} s; planner: planner bench FORMAT")
    all_agree = True
    with tempfile.TemporaryDirectory() as folder:
        for model in MODELS if args.model == "all" else (args.model,):
            if model in ("pmedian", "pcenter"):
                cases = pmed_cases(model, names, args.benchmarks)
            else:
                cases = generated_cases(model, parse_sizes(args.sizes), Path(folder), args.seed)
            all_agree &= run_model(cases, solver, args)
    return 0 if all_agree else 1


if __name__ == "__main__":
    sys.exit(main())
