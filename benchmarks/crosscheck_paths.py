r"""The solver's paths at mid size (5,000 – 80,000 arcs, the real thresholds) against HiGHS on the whole model.

Seeded instances of two kinds:

* ``g<seed>``: a model file and a regions table of demand points (clusters in Europe or the US, some
  points on other continents), sometimes a sites file with existing and forced sites, solved as
  ``planner solve`` does (``planner.pipeline.plan``; outputs not written). Each seed draws 1–3 products
  (a service level on one, delivery radii), 1–3 facility types (fixed or a range of module counts,
  ``min_count``/``max_count``, set-up costs per product), tight or loose capacity, a high or low unmet
  penalty, single sourcing, a capex budget, facility-count limits and a CO2 cap; the number of points
  is scaled until the model has about the seed's target arc count (log-uniform in 5,000–80,000).
* ``d<seed>``: a ``tests.builders.dense_problem`` of Cornuéjols-type geometry (capacity ratio 1.5–10,
  fixed or varying module counts, forced sites, counts, a budget; seeds 100–109 single-source and
  110–119 forced, both of the capacitated branch-and-bound's shape).

Each is solved by the planner with its defaults at ``--time-limit`` and at ``--short``, and by HiGHS on
the independent MILP of ``tests/independent_milp.py`` (nothing of ``planner.model`` or
``planner.solver``) for ``--reference-limit`` seconds at a gap of 1e-7. Printed per run: the path the
engine takes, status, gap, and the margins: (bound − reference incumbent) / objective (≤ 0), (objective −
reference bound) / objective (≥ 0), and what is wrong: a bound above the reference incumbent, an
objective below the reference bound, ``optimal`` more than 0.01 % or ``gap_limit`` more than the
tolerance above the reference's network, a failed audit, or a verdict of infeasibility that differs.

Usage (from the project root; one instance takes up to the three limits together)::

    python benchmarks/crosscheck_paths.py --geo 3 4 5 6 --dense 2 9 100 110
    python benchmarks/crosscheck_paths.py --geo 17 --time-limit 40 --short 8 --reference-limit 300
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import highspy
import numpy as np
from scipy.sparse import coo_matrix

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from planner.errors import InfeasibleError  # noqa: E402
from planner.inputs.config import read_model_config  # noqa: E402
from planner.inputs.prepare import DataOptions  # noqa: E402
from planner.model import ModelIndex  # noqa: E402
from planner.pipeline import load_and_prepare, plan, solve_problem  # noqa: E402
from planner.solver.capacitated_bb import applies as capacitated_applies  # noqa: E402
from planner.solver.outcome import OPTIMAL_GAP, SolverOptions  # noqa: E402
from planner.solver.presolve import LARGE_MODEL_ARCS, presolve_applies  # noqa: E402
from planner.solver.setup_options import applies as setup_options_applies  # noqa: E402
from planner.solver.setup_options import folded_applies  # noqa: E402
from planner.solver.single_source import applies as single_source_applies  # noqa: E402
from planner.timing import Timing  # noqa: E402
from tests import independent_milp  # noqa: E402
from tests.builders import dense_problem  # noqa: E402

TOLERANCE = 1e-6  # relative, on the objective
AREAS = {"eu": (-9, 28, 37, 58), "us": (-120, -75, 30, 47)}
FAR = ((-60, -20), (135, -25), (100, 30), (20, 0))  # South America, Australia, China, Africa
TYPES = {"central": ("central", 3e6, 40, 4), "micro": ("microfactory", 3e5, 52, 25), "mid": ("other", 1e6, 46, 10)}
PRODUCTS = {"std": (0.01, 60.0, 1.0), "cus": (0.002, 90.0, 1.3), "xtr": (0.004, 75.0, 1.1)}  # rate, penalty, cost


def demand_points(rng, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lon, lat and population of ``n`` clustered points, and maybe a few on other continents."""
    x0, x1, y0, y1 = AREAS["eu" if rng.random() < 0.5 else "us"]
    k = int(rng.integers(5, 20))
    cx, cy, c = rng.uniform(x0, x1, k), rng.uniform(y0, y1, k), rng.integers(0, k, n)
    lon, lat = np.clip(cx[c] + rng.normal(0, 1.5, n), x0, x1), np.clip(cy[c] + rng.normal(0, 1.0, n), y0, y1)
    pop = np.round(rng.lognormal(10, 1.0, n))
    if rng.random() < 0.5:
        f = rng.integers(0, len(FAR), int(rng.integers(3, 30)))
        lon = np.append(lon, np.array([FAR[i][0] for i in f]) + rng.normal(0, 2, len(f)))
        lat = np.append(lat, np.array([FAR[i][1] for i in f]) + rng.normal(0, 2, len(f)))
        pop = np.append(pop, np.round(rng.lognormal(10, 1.0, len(f))))
    return lon, lat, pop


def product_lines(rng, products: list[str], high_penalty: bool, single: bool) -> list[str]:
    """``[products.*]`` (a service level on the first, maybe) and ``[transport.*]``."""
    lines, service = [], rng.random() < 0.3 and not single
    for p in products:
        rate, penalty, _ = PRODUCTS[p]
        penalty *= 5 if high_penalty else 1.25
        lines += [f"[products.{p}]", f"demand_rate = {rate}", f"unmet_penalty_per_unit = {penalty}"]
        if service and p == products[0]:
            lines += [f"[products.{p}.service]", f"min_share_within = {rng.choice([0.5, 0.7, 0.85])}",
                      f"within_km = {rng.choice([200.0, 300.0, 500.0])}"]
    for p in products:
        lines += [f"[transport.{p}]", f"cost_per_unit_km = {rng.uniform(0.006, 0.02):.4f}",
                  f"co2_kg_per_unit_km = {rng.uniform(0.001, 0.004):.4f}"]
        if p == "cus":
            lines.append(f"max_distance_km = {rng.choice([300.0, 600.0, 1000.0])}")
    return lines


def type_lines(rng, t: str, products: list[str], n_types: int, demand: float, shape: dict,
               counts: list[int]) -> list[str]:
    """``[facility_types.t]`` with its products; ``counts`` gathers the ``min_count``s."""
    role, opening, unit, n_expected = TYPES[t]
    low = high = 1
    if not shape["fixed"]:
        low = int(rng.integers(1, 3))
        high = low + int(rng.integers(1, 6))
    elif rng.random() < 0.5:
        low = high = int(rng.integers(1, 4))
    capacity = float(np.round(demand * shape["ratio"] / n_expected / n_types / high, -2)) or 100.0
    opening *= rng.uniform(0.5, 1.5)
    lines = [f"[facility_types.{t}]", f'role = "{role}"', f"opening_cost_per_yr = {opening:.0f}",
             f"module_cost_per_yr = {opening * rng.uniform(0.1, 0.4):.0f}", f"module_capacity_per_yr = {capacity}",
             f"min_modules = {low}", f"max_modules = {high}", f"capex = {7 * opening:.0f}",
             f"capex_per_module = {2.1 * opening:.0f}"]
    if t != "central":
        lines.append(f"max_delivery_km = {rng.choice([250.0, 400.0, 700.0] if t == 'micro' else [800.0, 1500.0])}")
    if rng.random() < 0.25:
        counts.append(int(rng.integers(1, 3)))
        lines.append(f"min_count = {counts[-1]}")
    if rng.random() < 0.25:
        lines.append(f"max_count = {int(rng.integers(4, 8))}")
    n = int(rng.integers(*{"central": (6, 25), "micro": (20, 80), "mid": (10, 40)}[t]))
    lines.append(f"candidates = {{ {'kmeans' if rng.random() < 0.5 else 'top_n'} = {n} }}")
    shape["capex"] = max(shape.get("capex", 0.0), 7 * opening * 1.3 * low)
    for p in [p for p in products if t != "central" or p != "cus"] or products:
        cost = unit * PRODUCTS[p][2] * rng.uniform(0.9, 1.1)
        lines += [f"[facility_types.{t}.products.{p}]", f"cost_per_unit = {cost:.2f}",
                  f"co2_kg_per_unit = {rng.uniform(4, 9):.2f}"]
        if shape["setups"] and rng.random() < 0.6:
            lines.append(f"setup_cost_per_yr = {opening * rng.uniform(0.05, 0.5):.0f}")
    return lines


def network_lines(rng, single: bool, demand: float, shape: dict, counts: list[int]) -> list[str]:
    """``[network]``: single sourcing, maybe a capex budget, counts and a CO2 cap; ``[solver]``."""
    lines = ["[network]", f"single_sourcing = {str(single).lower()}"]
    if rng.random() < 0.3:
        lines.append(f"capex_budget = {shape['capex'] * (sum(counts) + 2 + rng.uniform(1, 5)):.0f}")
    if rng.random() < 0.25:
        lines.append(f"max_facilities = {int(rng.integers(3, 20)) + sum(counts) + 2}")
    if rng.random() < 0.15:
        lines.append(f"min_facilities = {int(rng.integers(1, 4))}")
    if rng.random() < 0.3:
        lines.append(f"max_co2_t_per_yr = {rng.uniform(0.4, 0.9) * demand * 0.008:.1f}")
    return lines + ["[solver]", "time_limit_s = 40.0", f"mip_gap = {rng.choice([1e-4, 1e-4, 0.005, 0.01])}"]


def sites_file(rng, path: Path, lon, lat, types: list[str]) -> None:
    """20–80 candidate sites near demand points, some of given types; the first maybe existing, the second forced."""
    pick = rng.choice(len(lon), min(int(rng.integers(20, 80)), len(lon)), replace=False)
    rows = ["site_id,lon,lat,facility_types,existing,forced,cost_multiplier"]
    for j, i in enumerate(pick):
        some = rng.choice(types, int(rng.integers(1, len(types) + 1)), replace=False)
        kinds = ";".join(some) if rng.random() < 0.5 else ""
        existing, forced = j == 0 and rng.random() < 0.5, j == 1 and rng.random() < 0.5
        kinds = str(rng.choice(types)) if existing or forced else kinds
        rows.append(f"S{j},{lon[i] + rng.normal(0, .05):.5f},{lat[i] + rng.normal(0, .05):.5f},{kinds},"
                    f"{str(existing).lower()},{str(forced).lower()},{rng.uniform(0.7, 1.3):.3f}")
    path.write_text("\n".join(rows) + "\n")


def geo_instance(seed: int, folder: Path, n_points: int | None = None) -> DataOptions:
    """Write the model file and regions (and sites) of seed ``seed`` into ``folder``; the data options."""
    rng = np.random.default_rng(seed)
    drawn = int(rng.integers(300, 1500))  # drawn either way, so that the rest of the instance stays the seed's
    lon, lat, pop = demand_points(rng, n_points or drawn)
    (folder / "regions.csv").write_text("id,lon,lat,pop\n" + "".join(
        f"P{i:05d},{a:.5f},{b:.5f},{p:.0f}\n" for i, (a, b, p) in enumerate(zip(lon, lat, pop, strict=True))))
    products = list(PRODUCTS)[:int(rng.integers(1, 4))]
    types = list(TYPES)[:int(rng.integers(1, 4))]
    high_penalty, single = rng.random() < 0.5, rng.random() < 0.2
    demand = sum(pop.sum() * PRODUCTS[p][0] for p in products)
    shape = {"fixed": single or rng.random() < 0.25, "setups": rng.random() < 0.35 and not single,
             "ratio": rng.uniform(1.2, 1.8) if rng.random() < 0.5 else rng.uniform(3, 8)}
    counts: list[int] = []
    lines = [f'name = "g{seed}"', 'currency = "EUR"', f"carbon_price = {rng.choice([0.0, 50.0, 190.0])}",
             "[regions]", f'path = "{folder / "regions.csv"}"', 'id_column = "id"', 'demand_column = "pop"',
             "[distance]", "circuity = 1.2", *product_lines(rng, products, high_penalty, single)]
    for t in types:
        lines += type_lines(rng, t, products, len(types), demand, shape, counts)
    lines += network_lines(rng, single, demand, shape, counts)
    (folder / "model.toml").write_text("\n".join(lines) + "\n")
    sites = folder / "sites.csv"
    sites.unlink(missing_ok=True)
    if rng.random() < 0.4:
        sites_file(rng, sites, lon, lat, types)
    return DataOptions(sites_path=sites if sites.exists() else None)


def sized_geo_instance(seed: int, folder: Path):
    """The instance of ``seed``, its number of points scaled towards its target arc count; (config, data, problem)."""
    target = float(np.exp(np.random.default_rng(1000 + seed).uniform(np.log(5000), np.log(80000))))
    n_points = None
    for _ in range(6):
        data = geo_instance(seed, folder, n_points)
        config = read_model_config(folder / "model.toml")
        problem = load_and_prepare(config, data, Timing())[1]
        if 0.7 * target <= problem.n_arcs <= 1.3 * target:
            break
        points = len((folder / "regions.csv").read_text().splitlines()) - 1
        n_points = max(30, int(points * target / max(problem.n_arcs, 1)))
    return config, data, problem


def dense_instance(seed: int):
    """A Cornuéjols-type dense problem of 5,000–80,000 arcs (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n_sites = int(rng.integers(30, 120))
    n_customers = max(50, int(float(np.exp(rng.uniform(np.log(5000), np.log(80000)))) / n_sites))
    sites, customers = rng.random((n_sites, 2)), rng.random((n_customers, 2))
    distance = np.linalg.norm(sites[:, None] - customers[None], axis=2)
    demand = rng.integers(5, 36, n_customers).astype(float)
    capacity, ratio = rng.uniform(10, 160, n_sites), float(rng.choice([1.5, 3, 5, 10]))
    varying = rng.random() < 0.5
    most = rng.integers(1, 5, n_sites) if varying else np.ones(n_sites, dtype=int)
    penalty, single = float(rng.choice([np.inf, 8.0, 20.0])), rng.random() < 0.2
    if 100 <= seed < 120:  # the capacitated branch-and-bound's shape: single-source from 100, forced from 110
        varying, single, most = False, seed < 110, np.ones(n_sites, dtype=int)
        penalty = np.inf if seed < 110 else penalty
    capacity = capacity * ratio * demand.sum() / (capacity * most).sum()
    opening = rng.uniform(0, 90, n_sites) + rng.uniform(100, 110, n_sites) * np.sqrt(capacity)
    unit_cost = 10 * distance * rng.uniform(0.8, 1.2)
    extra = {}
    if varying:
        extra.update(max_modules=most, module_cost=opening * rng.uniform(0.2, 0.5, n_sites))
        opening = opening * 0.5
    if rng.random() < 0.3 or seed >= 110:
        forced = np.zeros(n_sites, dtype=bool)
        forced[rng.choice(n_sites, 2, replace=False)] = True
        extra["forced"] = forced
    if rng.random() < 0.3 and seed < 100:
        extra["max_facilities"] = int(n_sites * rng.uniform(0.1, 0.4)) + 2
    if rng.random() < 0.3 and seed < 100:
        capex = np.round(opening * 10)
        extra.update(capex=capex, capex_per_module=np.round(capex * 0.2),
                     capex_budget=float(np.round(capex.mean() * n_sites * rng.uniform(0.3, 0.6))))
    return dense_problem(demand, opening, capacity, unit_cost, penalty=penalty, single_sourcing=single, **extra)


def engine_path(problem, options: SolverOptions) -> str:
    """The engine's route for ``problem`` (see ``planner.solver.engine``), and its side rows."""
    index = ModelIndex.from_problem(problem)
    presolve = presolve_applies(problem, options)
    if capacitated_applies(problem, presolve):
        path = "capacitated_bb"
    elif presolve:
        path = "presolve_large" if problem.n_arcs >= LARGE_MODEL_ARCS else "presolve"
    elif setup_options_applies(problem, index, options):
        path = "setup_options"
    elif folded_applies(problem, index, options):
        path = "folded_setups"
    elif single_source_applies(problem, options):
        path = "single_source"
    else:
        path = "highs"
    rows = [name for name, on in (("service", len(problem.serviced_products)), ("co2", np.isfinite(problem.co2_cap_t)),
                                  ("budget", np.isfinite(problem.capex_budget)), ("single", problem.single_sourcing),
                                  ("setups", problem.setup_cost.any())) if on]
    return path + ("+" + ",".join(rows) if rows else "")


def reference(problem, seconds: float) -> dict:
    """HiGHS on ``tests/independent_milp.py``'s MILP: status, objective (None without one), bound."""
    model = independent_milp.Milp()
    y, n = independent_milp.option_columns(model, problem)
    x = independent_milp.flow_columns(model, problem, y, n)
    independent_milp.network_rows(model, problem, y, n)
    if np.isfinite(problem.co2_cap_t):
        model.row(x, problem.arc_co2_t * problem.arc_demand, upper=problem.co2_cap_t)
    rows, cols, values = (np.array(v) for v in zip(*model.entries, strict=True))
    matrix = coo_matrix((values, (rows, cols)), shape=(len(model.row_lower), len(model.cost))).tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(model.cost), len(model.row_lower)
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = (np.array(v, dtype=float)
                                                  for v in (model.cost, model.lower, model.upper))
    lp.row_lower_, lp.row_upper_ = np.array(model.row_lower, dtype=float), np.array(model.row_upper, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = matrix.indptr, matrix.indices, matrix.data
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
    lp.integrality_ = [kinds[i] for i in model.integral]
    highs = highspy.Highs()
    for option, value in (("output_flag", False), ("time_limit", float(seconds)), ("mip_rel_gap", 1e-7),
                          ("mip_abs_gap", 1e-9)):
        highs.setOptionValue(option, value)
    highs.passModel(lp)
    highs.run()
    info, status = highs.getInfo(), highs.modelStatusToString(highs.getModelStatus())
    objective = info.objective_function_value if info.primal_solution_status == 2 else None
    return {"status": status, "objective": objective, "bound": info.mip_dual_bound}


def verdicts(report, audit_passed: bool, ref: dict) -> list[str]:
    """What is wrong with the planner's ``report`` against the reference (see the module docstring)."""
    if report is None:
        return [] if ref["status"] == "Infeasible" else ["planner: infeasible, reference: " + ref["status"]]
    if ref["status"] == "Infeasible":
        return ["reference proves it infeasible"]
    scale, wrong = max(abs(report.objective), 1.0), []
    incumbent, bound = ref["objective"], ref["bound"]
    if incumbent is not None and report.best_bound is not None and report.best_bound > incumbent + TOLERANCE * scale:
        wrong.append("bound above the reference's network")
    if report.objective < bound - TOLERANCE * scale:
        wrong.append("objective below the reference bound")
    above = None if incumbent is None else (report.objective - incumbent) / scale
    if report.status.value == "optimal" and above is not None and above > OPTIMAL_GAP + TOLERANCE:
        wrong.append("optimal, but above the reference's network by more than 0.01 %")
    if report.status.value == "gap_limit" and above is not None and above > report.mip_gap_tolerance + TOLERANCE:
        wrong.append("gap_limit, but above the reference's network by more than the tolerance")
    return wrong + ([] if audit_passed else ["audit failed"])


def planner_runs(solve, limits: list[float]) -> list[tuple]:
    """``solve(time_limit)`` at each limit: (limit, report or None where infeasible, audit passed, seconds)."""
    runs = []
    for limit in limits:
        started = time.perf_counter()
        try:
            run = solve(limit)
            runs.append((limit, run.report, run.audit.passed, time.perf_counter() - started))
        except InfeasibleError:
            runs.append((limit, None, True, time.perf_counter() - started))
    return runs


def check(name: str, problem, solve, args) -> int:
    """Print one line per planner run of ``problem``; the number of runs with something wrong."""
    ref = reference(problem, args.reference_limit)
    path = engine_path(problem, SolverOptions(time_limit_s=args.time_limit))
    bad = 0
    for limit, report, passed, seconds in planner_runs(solve, [args.time_limit, args.short]):
        wrong = verdicts(report, passed, ref)
        bad += bool(wrong)
        fields = {"instance": name, "arcs": problem.n_arcs, "path": path, "limit_s": limit,
                  "seconds": round(seconds, 1), "reference": ref["status"], "reference_gap": None, "wrong": wrong}
        if ref["objective"] is not None:
            fields["reference_gap"] = (ref["objective"] - ref["bound"]) / max(abs(ref["objective"]), 1.0)
        if report is not None:
            scale = max(abs(report.objective), 1.0)
            fields.update(status=report.status.value, gap=report.mip_gap,
                          bound_minus_reference=None if ref["objective"] is None or report.best_bound is None
                          else (report.best_bound - ref["objective"]) / scale,
                          objective_minus_reference_bound=(report.objective - ref["bound"]) / scale)
        print(json.dumps(fields, default=lambda v: float(v) if isinstance(v, np.floating) else str(v)), flush=True)
    return bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--geo", type=int, nargs="*", default=[3, 4, 5, 6], metavar="SEED")
    parser.add_argument("--dense", type=int, nargs="*", default=[2, 9, 100, 110], metavar="SEED")
    parser.add_argument("--time-limit", type=float, default=40.0)
    parser.add_argument("--short", type=float, default=8.0)
    parser.add_argument("--reference-limit", type=float, default=150.0)
    args = parser.parse_args()
    bad = 0
    with tempfile.TemporaryDirectory() as scratch:
        for seed in args.geo:
            folder = Path(scratch) / f"g{seed}"
            folder.mkdir()
            config, data, problem = sized_geo_instance(seed, folder)
            bad += check(f"g{seed}", problem, lambda limit, config=config, data=data: plan(
                config, data, SolverOptions(time_limit_s=limit, mip_gap=config.solver.mip_gap)).run, args)
    for seed in args.dense:
        problem = dense_instance(seed)
        bad += check(f"d{seed}", problem, lambda limit, problem=problem: solve_problem(
            problem, SolverOptions(time_limit_s=limit), require_clean_audit=False), args)
    print(f"runs with something wrong: {bad}")


if __name__ == "__main__":
    main()
