"""How inbound supply and a local premium change the hybrid network (issue 17's worked example).

Solves, on the bundled counties, ``models/hybrid.toml`` and ``models/local_premium.toml`` (both
forces on), and the latter with each force alone (suppliers removed; prices and demand factors
removed), and prints per run: status, gap, objective, the cost parts, facilities by type, the
share of delivered units made within 50 km of the customer, the mean delivery distance, inbound
km per unit of material and the wall time.

Usage (from the project root)::

    python benchmarks/local_premium.py            # four national runs, ~5 min
    python benchmarks/local_premium.py --select STUSPS=NC
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from planner.inputs.config import read_model_config  # noqa: E402
from planner.inputs.prepare import DataOptions, parse_select  # noqa: E402
from planner.pipeline import plan  # noqa: E402
from planner.solver.outcome import SolverOptions, gap_text  # noqa: E402


def variants():
    """(label, config) of the four runs."""
    hybrid = read_model_config(ROOT / "models" / "hybrid.toml")
    both = read_model_config(ROOT / "models" / "local_premium.toml")
    no_supply = both.model_copy(deep=True)
    no_supply.suppliers.path = None
    no_premium = both.model_copy(deep=True)
    for name, product in no_premium.products.items():
        product.proximity = None
        product.unmet_penalty_per_unit = hybrid.products[name].unmet_penalty_per_unit
    return [("hybrid.toml", hybrid), ("local_premium.toml (both)", both), ("premium only", no_supply),
            ("supply only", no_premium)]


def figures(run) -> str:
    """The printed line of one run."""
    tables, report = run.tables, run.report
    flows = tables.flows
    quantity = flows["quantity"].sum()
    near = flows.loc[flows["distance_km"] <= 50, "quantity"].sum() / quantity if quantity else 0.0
    mean_km = (flows["quantity"] * flows["distance_km"]).sum() / quantity if quantity else 0.0
    parts = ", ".join(f"{name} {value / 1e6:,.1f}" for name, value in tables.cost_parts().items())
    counts = ", ".join(f"{t} {n}" for t, n in tables.facility_counts(run.problem.type_ids).items())
    inbound = ""
    if tables.inbound is not None and len(tables.inbound):
        km = (tables.inbound["quantity"] * tables.inbound["distance_km"]).sum() / tables.inbound["quantity"].sum()
        inbound = f", inbound {km:,.0f} km/unit"
    head = f"  {report.status.value} (gap {gap_text(report.mip_gap, 2)}), objective {report.objective / 1e6:,.1f} M/yr"
    return (f"{head}\n"
            f"  parts (M/yr): {parts}\n  facilities: {counts}; made within 50 km {near:.1%}, "
            f"mean delivery {mean_km:,.0f} km{inbound}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--select", action="append", default=[], help="COLUMN=VALUE, as planner solve --select")
    args = parser.parse_args()
    data = DataOptions(select=parse_select(args.select))
    for label, config in variants():
        options = SolverOptions(time_limit_s=config.solver.time_limit_s, mip_gap=config.solver.mip_gap, quiet=True)
        started = time.perf_counter()
        run = plan(config, data, dataclasses.replace(options)).run
        print(f"{label}: {time.perf_counter() - started:.1f} s wall")
        print(figures(run))
    np.seterr(all="ignore")


if __name__ == "__main__":
    main()
