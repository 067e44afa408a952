"""``summary.json``: status, objective, bound, gap, cost split, CO2, counts, demand, timing, size,
inputs and audit of one solve."""

from __future__ import annotations

import math
from typing import Any

from planner import __version__
from planner.inputs.objectives import MEASURES, OBJECTIVE_TEXTS, OBJECTIVE_UNITS, UNITS, kind_value
from planner.pipeline import Run
from planner.solver.presolve import PRESOLVE_SOLVER


def clean_for_json(value: Any) -> Any:
    """JSON-safe: non-finite floats become None (JSON has no inf/NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): clean_for_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_for_json(v) for v in value]
    return value


def _path_text(path) -> str | None:
    return None if path is None else str(path)


def solve_sources(config, data, options, regions_path, region_columns: dict | None = None) -> dict[str, Any]:
    """Where a solve's inputs came from and how it was solved (``summary.json`` ``inputs``):
    ``region_columns`` the regions file's id, demand and name columns read (None: row numbers, the
    products' own demand columns, the ids as names)."""
    return {
        "model": str(config.source_path),
        "model_name": config.name,
        "regions": str(regions_path),
        "region_columns": region_columns,
        "select": {column: list(values) for column, values in data.select},
        # how the command line read the regions file (the model file's [regions] keys are in the model)
        "region_options": {"layer": data.layer, "lon_column": data.lon_column, "lat_column": data.lat_column,
                           "crs": data.crs},
        "sites": None if data.sites_path is None else str(data.sites_path),
        "od_matrix": None if data.od_path is None else str(data.od_path),
        # --suppliers, else the model's [suppliers] path (it had been null where the model named the file)
        "suppliers": _path_text(data.suppliers_path or getattr(getattr(config, "suppliers", None), "path", None)),
        "solver_options": {
            "time_limit_s": options.time_limit_s,
            "mip_gap": options.mip_gap,
            "threads": options.threads,
        },
    }


def data_sources(inputs) -> dict[str, Any]:
    """What ``summary.json`` ``inputs`` can say from the loaded data alone (the files read, the columns, the
    ``--select``): its block where :func:`planner.export.write_outputs` is called from Python without
    ``sources``, which had left it empty."""
    return {
        "regions": _path_text(inputs.regions_path),
        "region_columns": inputs.region_columns,
        "select": {column: list(values) for column, values in inputs.select},
        "sites": _path_text(inputs.sites_path),
        "od_matrix": _path_text(inputs.od_path),
        "suppliers": _path_text(inputs.suppliers_path),
    }


# per unit of demand, what a classic kind's cost columns hold (the cost to serve of a region)
KIND_PER_UNIT = {"p_median": "km", "p_center": "km", "max_covering": "uncovered units per unit",
                 "set_covering": "facilities per unit"}


def kind_unit(unit: str, kind: str) -> str:
    """A money unit of the tables ('currency/yr', 'currency/unit') in a classic ``[objective] kind``'s
    measure (its cost columns hold that, not money); as it is for ``cost``."""
    if kind == "cost":
        return unit
    return unit.replace("currency/yr", OBJECTIVE_UNITS[kind]).replace("currency/unit", KIND_PER_UNIT[kind])


def measure_unit(unit: str, kind: str, currency: str) -> str:
    """:func:`kind_unit` with the word 'currency' replaced by ``currency``."""
    return kind_unit(unit, kind).replace("currency", currency)


def service_block(run: Run) -> dict[str, Any]:
    """``levels``: each product's service level with its achieved share; ``coverage_curve``: per
    product, [distance_km, share of demand served within it] at the distances of ``coverage.csv`` (not
    rounded: the last, the longest delivery, rounded down had a share of 1 that flows.csv gives only at
    the full figure)."""
    curve = run.tables.coverage_curve()
    return {
        "levels": run.tables.service_levels(run.problem),
        "coverage_curve": {
            str(product): [[float(km), float(share)] for km, share in zip(part["distance_km"],
                                                                                     part["share_within"], strict=True)]
            for product, part in curve.groupby("product")
        },
    }


def objective_kind_block(run: Run) -> dict[str, Any] | None:
    """For a classic ``[objective] kind``: its measure recomputed from the tables, its unit, p and
    coverage, and whether it is proven optimal; None for the cost model."""
    problem = run.problem
    if problem.objective_kind == "cost":
        return None
    tables = run.tables
    return {
        "kind": problem.objective_kind,
        "measure": MEASURES[problem.objective_kind],
        "value": kind_value(problem, tables.flows, tables.sites, tables.regions),
        "unit": UNITS[problem.objective_kind],
        "p": problem.objective_p,
        "coverage_km": problem.coverage_km,
        "coverage_minutes": problem.coverage_minutes,
        "proven_optimal": run.report.status.value == "optimal" if run.report.kind_proven is None
        else bool(run.report.kind_proven),  # the p-center's radius: proven apart from the sum within it
        "objective_counts": OBJECTIVE_TEXTS[problem.objective_kind],
        "note": "the cost columns of the tables hold this kind's measure, not money",
    }


def solver_seconds(run: Run) -> float:
    """The seconds of the solver whose answer this is: HiGHS's run, or, where the answer is the
    presolve's own (HiGHS not run, ``solve_s`` 0), the presolve's and the solve phase's before it (a
    search of the planner's; the report read "solve time 0.00 s")."""
    report = run.report
    if report.solver == PRESOLVE_SOLVER and not report.solve_s:
        return float(run.timing.seconds.get("presolve", 0.0) + run.timing.seconds.get("solve", 0.0))
    return report.solve_s


def empty_network_note(summary: dict[str, Any]) -> str | None:
    """Why a cost model's network opens no facility while it has demand (None where one is open, for a
    classic kind or a study's network): no arc can serve it, or no network costs less than leaving it unmet
    (proven only where the solve is optimal)."""
    demand = sum(figures["demand"] for figures in (summary.get("demand") or {}).values())
    if any((summary.get("facilities") or {}).values()) or summary.get("objective_kind") or demand <= 0:
        return None
    if "evaluation_status" in summary:
        return None
    if not (summary.get("size") or {}).get("arcs", 1):
        return ("No facility can serve any demand: no candidate site is within a delivery radius of a region "
                "with demand (max_delivery_km of the facility types and products)")
    if summary.get("status") == "optimal":
        return ("No network pays off: leaving all demand unmet, at its unmet penalty, costs less than any network "
                "that serves it; lower the facilities' costs or raise unmet_penalty_per_unit to serve it")
    return (f"No facility is open in the best network found (status {summary.get('status')}); that no network "
            "pays off is not proven")


SERVICE_UNIT = ("shares are fractions of each product's demand; within_km and the coverage curves' distances in km, "
                "within_minutes in minutes")  # "distances in km" alone had been wrong beside a level in minutes


def build_summary(run: Run, sources: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """The summary dictionary; ``costs`` add up to ``objective`` (currency/yr; for a classic kind in its
    measure's unit, ``units``); ``warnings`` each once, in order."""
    report = run.report
    costs = run.tables.cost_parts()
    summary = {
        "planner_version": __version__,
        "status": report.status.value,
        "termination": report.termination,
        "objective": report.objective,
        "best_bound": report.best_bound,
        "mip_gap": report.mip_gap,
        "mip_gap_tolerance": report.mip_gap_tolerance,
        "currency": run.problem.currency,
        "costs": costs,
        "co2_t": run.tables.co2_t(),
        "facilities": run.tables.facility_counts(run.problem.type_ids),
        "demand": run.tables.demand_by_product(run.problem.product_ids),
        "service": service_block(run),
        "objective_kind": objective_kind_block(run),
        "timing": {name: round(seconds, 4) for name, seconds in run.timing.seconds.items()},
        "size": run.problem.summary(),
        "solver": {"name": report.solver, "nodes": report.nodes, "solve_s": solver_seconds(run)},
        "inputs": sources,
        "warnings": list(dict.fromkeys(warnings)),
        "audit": run.audit.to_dict(),
        "units": {
            "objective": OBJECTIVE_UNITS.get(run.problem.objective_kind, "currency/yr"),
            "best_bound": OBJECTIVE_UNITS.get(run.problem.objective_kind, "currency/yr"),
            "costs": OBJECTIVE_UNITS.get(run.problem.objective_kind, "currency/yr"),
            "co2_t": "t CO2/yr",
            "demand": "units/yr",
            "service": SERVICE_UNIT,
            "timing": "s",
            "mip_gap": "fraction of the objective (0.01 = 1 %)",
            "mip_gap_tolerance": "fraction of the objective (0.01 = 1 %)",
            "solver.solve_s": "s",
        },
    }
    return clean_for_json(summary)
