"""Outputs of ``planner alternatives``: one solve folder per network (``networks/NN``, 00 = the
optimum), ``alternatives.csv`` and ``alternatives.png`` (the networks side by side, sites that
differ from the optimum ringed), written atomically as one folder."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from planner.export.folder import staged_folder, write_run_folders
from planner.export.layers import site_layer
from planner.export.static_map import TYPE_COLOURS, equal_area_crs, region_clusters

logger = logging.getLogger(__name__)

PANEL_INCHES = 4.2
SIMPLIFY_SHARE = 0.002  # region outlines simplified to this share of the panel's width


def network_folder(number: int) -> str:
    return f"{number:02d}_optimum" if number == 0 else f"{number:02d}_alternative"


def write_alternatives(result, out: Path, sources: dict, warnings_seen: list[str], staging: Path | None = None) -> Path:
    out = Path(out)
    with staged_folder(out, staging) as staging:
        budget = {"slack": result.slack, "cost_budget": result.budget}
        runs = [
            (network_folder(a.number), a.run, {"alternatives": {"number": a.number, **budget}})
            for a in result.networks
        ]
        table = result.table.copy()
        table["folder"] = write_run_folders(staging, "networks", runs, result.inputs, sources, warnings_seen)
        table.to_csv(staging / "alternatives.csv", index=False)
        draw_side_by_side(result, staging / "alternatives.png")
    logger.info("wrote %s", out)
    return out


def draw_side_by_side(result, path: Path) -> None:
    """One panel per network on the same extent (the main group of regions; remote groups are left to
    each network's own map): sites coloured by type; sites not open so in the optimum ringed black, the
    optimum's sites closed in this network crossed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    regions = result.inputs.regions
    crs = equal_area_crs(regions)
    labels = region_clusters(regions)
    main = labels == np.bincount(labels).argmax()
    outline = regions.loc[main].to_crs(crs)
    xmin, ymin, xmax, ymax = outline.total_bounds
    outline = outline.simplify(SIMPLIFY_SHARE * (xmax - xmin))
    pad = 0.05 * max(xmax - xmin, ymax - ymin, 1.0)  # metres; point regions on a line have no height
    xmin, ymin, xmax, ymax = xmin - pad, ymin - pad, xmax + pad, ymax + pad
    type_ids = list(result.networks[0].run.problem.type_ids)
    colours = {t: TYPE_COLOURS[i % len(TYPE_COLOURS)] for i, t in enumerate(type_ids)}
    n = len(result.networks)
    columns = min(3, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / columns)
    aspect = (ymax - ymin) / max(xmax - xmin, 1e-9)
    figure, axes = plt.subplots(rows, columns, figsize=(PANEL_INCHES * columns, PANEL_INCHES * aspect * rows + 0.8),
                                squeeze=False)
    optimum_sites = site_layer(result.networks[0].run).to_crs(crs)
    optimum_keys = set(zip(optimum_sites["site_id"], optimum_sites["facility_type"], strict=False))
    for panel, alternative in zip(axes.ravel(), result.networks, strict=False):
        outline.plot(ax=panel, color="#eeeeee", edgecolor="#bbbbbb", linewidth=0.1)
        sites = site_layer(alternative.run).to_crs(crs)
        changed = [(s, t) not in optimum_keys for s, t in zip(sites["site_id"], sites["facility_type"], strict=False)]
        for type_id in type_ids:
            chosen = sites[sites["facility_type"] == type_id]
            panel.scatter(chosen.geometry.x, chosen.geometry.y, s=28, color=colours[type_id], zorder=3)
        moved = sites[np.asarray(changed, dtype=bool)]
        panel.scatter(moved.geometry.x, moved.geometry.y, s=90, facecolors="none", edgecolors="black",
                      linewidths=1.0, zorder=4)
        kept = set(zip(sites["site_id"], sites["facility_type"], strict=False))
        gone = optimum_sites[[key not in kept for key in zip(optimum_sites["site_id"], optimum_sites["facility_type"],
                                                                strict=False)]]
        panel.scatter(gone.geometry.x, gone.geometry.y, s=40, marker="x", color="black", linewidths=1.0, zorder=4)
        row = result.table.iloc[alternative.number]
        title = "optimum" if alternative.number == 0 else f"alternative {alternative.number}"
        panel.set_title(f"{title}: {row['audited_cost'] / 1e6:,.2f} M (+{row['above_optimum_pct']:.2f}%)\n"
                        f"{row['distance_to_optimum']} options differ from the optimum", fontsize=8)
        panel.set_xlim(xmin, xmax)
        panel.set_ylim(ymin, ymax)
        panel.set_axis_off()
    for panel in axes.ravel()[n:]:
        panel.set_axis_off()
    handles = [Line2D([], [], marker="o", linestyle="", color=colours[t], label=t) for t in type_ids]
    handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor="none", markeredgecolor="black",
                          label="not open so in the optimum"))
    handles.append(Line2D([], [], marker="x", linestyle="", color="black", label="open in the optimum, closed here"))
    figure.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    figure.suptitle(f"Networks within {100 * result.slack:g}% of the optimal cost", fontsize=10)
    figure.tight_layout(rect=(0, 0.05, 1, 0.97))
    figure.savefig(path, dpi=130)
    plt.close(figure)
