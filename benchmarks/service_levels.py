"""Service levels on the bundled counties within a time limit (issue 16's ≤ 60 s target).

Solves ``models/hybrid.toml`` with a service level on ``standard`` (at least SHARE of its demand
served within KM road km) for each level given, with ``planner.pipeline.plan`` (the whole engine:
presolve, HiGHS, the searches beside it, the audit; outputs are not written, which the command adds
4–5 s to) with the model file's solver settings (its ``mip_gap``, 1 %, as ``planner solve`` takes it), and
prints per level: status, objective, bound, gap and wall time.

Usage (from the project root; run on an idle machine, one level takes up to the limit)::

    python benchmarks/service_levels.py                          # the six levels below, 60 s each
    python benchmarks/service_levels.py --levels 0.7:300 0.8:500 --time-limit 30
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from planner.inputs.config import read_model_config, set_dotted  # noqa: E402
from planner.inputs.prepare import DataOptions  # noqa: E402
from planner.pipeline import plan  # noqa: E402
from planner.solver.outcome import SolverOptions, gap_text  # noqa: E402

LEVELS = ("0.5:150", "0.6:200", "0.7:300", "0.75:400", "0.8:500", "0.82:500")


def level_model(share: float, km: float):
    """``models/hybrid.toml`` with ``service = { min_share_within = share, within_km = km }`` on standard."""
    config = read_model_config(ROOT / "models" / "hybrid.toml")
    return set_dotted(config, "products.standard.service", {"min_share_within": share, "within_km": km})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", nargs="+", default=list(LEVELS), metavar="SHARE:KM")
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    print(f"{'level':>12} {'status':>10} {'objective':>16} {'bound':>16} {'gap':>8} {'seconds':>8}")
    for text in args.levels:
        share, km = (float(part) for part in text.split(":"))
        started = time.perf_counter()
        config = level_model(share, km)
        options = SolverOptions(time_limit_s=args.time_limit, mip_gap=config.solver.mip_gap)
        report = plan(config, DataOptions(), options).run.report
        seconds = time.perf_counter() - started
        print(f"{f'{share:.0%}/{km:g} km':>12} {report.status.value:>10} {report.objective:>16,.0f} "
              f"{report.best_bound or float('nan'):>16,.0f} {gap_text(report.mip_gap):>8} {seconds:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
