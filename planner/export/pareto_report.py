"""Outputs of ``planner pareto``: one solve folder per point (``points/NN_kind``), ``pareto.csv`` and
``pareto.png`` (cost against CO2), written atomically as one folder."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from planner.export.charts import new_figure, plain_text, readable_axis, save_png
from planner.export.folder import staged_folder, write_run_folders
from planner.solver.outcome import gap_text

logger = logging.getLogger(__name__)

PROVEN = ("optimal", "gap_limit")  # statuses whose point is on the frontier within the tolerance


def point_folder(point) -> str:
    return f"{point.number:02d}_{point.kind}"


def write_frontier(frontier, out: Path, sources: dict, warnings_seen: list[str], staging: Path | None = None) -> Path:
    """Write every point's folder, the table and the chart; returns ``out``."""
    out = Path(out)
    with staged_folder(out, staging) as staging:
        runs = [
            (point_folder(p), p.run, {"pareto": {"point": p.number, "kind": p.kind, "co2_cap_t": p.co2_cap_t,
                                                 "max_unmet_units": p.max_unmet}})
            for p in frontier.points
        ]
        table = frontier.table.copy()
        table["currency"] = frontier.points[0].run.problem.currency  # of every cost column: the file names it
        table["folder"] = write_run_folders(staging, "points", runs, frontier.inputs, sources, warnings_seen)
        table.to_csv(staging / "pareto.csv", index=False)
        draw_frontier(table, frontier.points[0].run.problem.currency, staging / "pareto.png")
    logger.info("wrote %s", out)
    return out


@plain_text
def frontier_figure(table, currency: str):
    """Total cost against CO2, each point labelled with its number and facility mix; points without a
    finite cost or CO2 are left out."""
    types = [c for c in table.columns if c.startswith("n_")]
    shown = table[np.isfinite(table[["co2_t", "objective"]].to_numpy(dtype=float)).all(axis=1)]
    frontier = shown[shown["dominated_by"] == ""].sort_values("co2_t")
    dominated = shown[shown["dominated_by"] != ""]
    fig, axis = new_figure(8, 5)
    axis.plot(frontier["co2_t"], frontier["objective"], color="#1f77b4", marker="o", label="non-dominated")
    if len(dominated):
        axis.scatter(dominated["co2_t"], dominated["objective"], color="#d62728", marker="x", label="dominated")
    status = shown["status"] if "status" in shown else pd.Series("optimal", index=shown.index)
    unproven = shown[~status.isin(PROVEN)]  # stopped by a limit: its cost is an upper bound, not the frontier's
    if len(unproven):
        axis.scatter(unproven["co2_t"], unproven["objective"], s=70, facecolors="white", edgecolors="#1f77b4",
                     zorder=3, label="not proven (stopped by its limit)")
    middle = (shown["co2_t"].min() + shown["co2_t"].max()) / 2 if len(shown) else 0.0
    for index, row in shown.iterrows():  # by column name: a type named 'central plant' is no attribute
        mix = ", ".join(f"{row[c]} {c[2:]}" for c in types if row[c])
        note = f" ({status[index]}, gap {gap_text(row.get('mip_gap'), 1)})" if index in unproven.index else ""
        right = row["co2_t"] > middle  # below left, off the falling line: the rightmost had run off the axes
        axis.annotate(f"{row['point']}: {mix}{note}", (row["co2_t"], row["objective"]), fontsize=7,
                      xytext=(-4, -4) if right else (4, 4), textcoords="offset points",
                      ha="right" if right else "left", va="top" if right else "baseline")
    readable_axis(axis, "x", "t/yr", "CO2")
    readable_axis(axis, "y", f"{currency}/yr", "total cost")
    axis.set_title("Cost–CO2 frontier (ε-constraint on CO2)")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    fig.tight_layout()
    return fig


def draw_frontier(table, currency: str, path: Path) -> None:
    """Write :func:`frontier_figure` to ``path`` (PNG)."""
    save_png(frontier_figure(table, currency), path)
