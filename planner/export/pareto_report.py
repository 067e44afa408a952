"""Outputs of ``planner pareto``: one solve folder per point (``points/NN_kind``), ``pareto.csv`` and
``pareto.png`` (cost against CO2), written atomically as one folder."""

from __future__ import annotations

import logging
from pathlib import Path

from planner.export.folder import staged_folder, write_run_folders

logger = logging.getLogger(__name__)


def point_folder(point) -> str:
    return f"{point.number:02d}_{point.kind}"


def write_frontier(frontier, out: Path, sources: dict, warnings_seen: list[str], staging: Path | None = None) -> Path:
    """Write every point's folder, the table and the chart; returns ``out``."""
    out = Path(out)
    with staged_folder(out, staging) as staging:
        runs = [
            (point_folder(p), p.run, {"pareto": {"point": p.number, "kind": p.kind, "co2_cap_t": p.co2_cap_t}})
            for p in frontier.points
        ]
        table = frontier.table.copy()
        table["folder"] = write_run_folders(staging, "points", runs, frontier.inputs, sources, warnings_seen)
        table.to_csv(staging / "pareto.csv", index=False)
        draw_frontier(table, frontier.points[0].run.problem.currency, staging / "pareto.png")
    logger.info("wrote %s", out)
    return out


def draw_frontier(table, currency: str, path: Path) -> None:
    """Total cost against CO2, each point labelled with its number and facility mix."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    types = [c for c in table.columns if c.startswith("n_")]
    frontier = table[table["dominated_by"] == ""].sort_values("co2_t")
    figure, axis = plt.subplots(figsize=(8, 5))
    axis.plot(frontier["co2_t"], frontier["objective"] / 1e6, color="#1f77b4", marker="o", label="non-dominated")
    dominated = table[table["dominated_by"] != ""]
    if len(dominated):
        axis.scatter(dominated["co2_t"], dominated["objective"] / 1e6, color="#d62728", marker="x", label="dominated")
    for row in table.itertuples(index=False):
        mix = ", ".join(f"{getattr(row, c)} {c[2:]}" for c in types if getattr(row, c))
        axis.annotate(f"{row.point}: {mix}", (row.co2_t, row.objective / 1e6), fontsize=7,
                      xytext=(4, 4), textcoords="offset points")
    axis.set_xlabel("CO2 (t/yr)")
    axis.set_ylabel(f"total cost (million {currency}/yr)")
    axis.set_title("Cost–CO2 frontier (ε-constraint on CO2)")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=130)
    plt.close(figure)
