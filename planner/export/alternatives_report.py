"""Outputs of ``planner alternatives``: one solve folder per network (``networks/NN``, 00 = the
optimum), ``alternatives.csv`` and ``alternatives.png`` (the networks side by side, sites that
differ from the optimum ringed), written atomically as one folder."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import geopandas as gpd
import numpy as np

from planner.export.charts import new_figure, plain_text, save_png, scaled_text, type_colours
from planner.export.folder import staged_folder, write_run_folders
from planner.export.layers import site_layer
from planner.export.static_map import in_panel_crs, regions_for_map
from planner.inputs.geo import region_clusters

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
            (network_folder(a.number), a.run, {"alternatives": {
                "number": a.number, **budget,
                # the status, bound and gap of an alternative are those of its cost solve over its own sites
                "solved_over": "the model" if a.number == 0 else "the sites this network opens"}})
            for a in result.networks
        ]
        table = result.table.copy()
        table["currency"] = result.networks[0].run.problem.currency  # of every cost column: the file names it
        table["folder"] = write_run_folders(staging, "networks", runs, result.inputs, sources, warnings_seen)
        table.to_csv(staging / "alternatives.csv", index=False)
        draw_side_by_side(result, staging / "alternatives.png")
    logger.info("wrote %s", out)
    return out


def draw_side_by_side(result, path: Path) -> None:
    """Write :func:`side_by_side_figure` to ``path`` (PNG)."""
    save_png(side_by_side_figure(result), path)


@plain_text
def side_by_side_figure(result):
    """One panel per network on the same extent (the main group of regions; remote groups are left to
    each network's own map): sites coloured by type; sites open here and not in the optimum ringed black,
    the optimum's sites closed in this network crossed. A first network not proven optimal (stopped at its
    gap or time limit) is called the first network, not the optimum."""
    crs, outline, (xmin, ymin, xmax, ymax) = _main_outline(result.inputs.regions)
    optimum = result.networks[0].run
    colours = type_colours(optimum.problem.type_ids)
    n = len(result.networks)
    columns = min(3, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / columns)
    aspect = (ymax - ymin) / max(xmax - xmin, 1e-9)
    fig, axes = new_figure(PANEL_INCHES * columns, PANEL_INCHES * aspect * rows + 0.8, rows, columns, squeeze=False)
    optimum_sites = in_panel_crs(site_layer(optimum), crs)
    proven = optimum.report.status.value == "optimal"  # a base stopped at its gap or time limit is no optimum
    base = "optimum" if proven else "first network"
    drawn: set[str] = set()  # the types open in some network: the legend keys these alone
    for panel, alternative in zip(axes.ravel(), result.networks, strict=False):
        if len(outline):
            outline.plot(ax=panel, color="#eeeeee", edgecolor="#bbbbbb", linewidth=0.1)
        sites = in_panel_crs(site_layer(alternative.run), crs)
        drawn.update(sites["facility_type"])
        _draw_network(panel, sites, optimum_sites, colours)
        row = result.table.iloc[alternative.number]
        title = (base if proven else f"{base} ({optimum.report.status.value})") if alternative.number == 0 \
            else f"alternative {alternative.number}"
        cost = scaled_text(row["audited_cost"], f"{optimum.problem.currency}/yr")
        differ = int(row["distance_to_optimum"])
        panel.set_title(f"{title}: {cost} ({row['above_optimum_pct']:+.2f}%)\n"
                        f"{differ} option{'s differ' if differ != 1 else ' differs'} from the {base}", fontsize=8)
        panel.set_xlim(xmin, xmax)
        panel.set_ylim(ymin, ymax)
    for panel in axes.ravel():
        panel.set_axis_off()
    handles = _legend_handles({t: colour for t, colour in colours.items() if t in drawn}, base)
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    title = f"Networks within {100 * result.slack:g}% of the {'optimal cost' if proven else base + '’s cost'}"
    outside = _sites_outside(result, crs, (xmin, ymin, xmax, ymax))
    if outside:  # remote groups of regions are not drawn: a difference there would not show
        title += (f"\n{outside} open site{'s' if outside != 1 else ''} of these networks, in remote regions, "
                  "not shown: see each network's map.png")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    return fig


def _sites_outside(result, crs: str, extent: tuple[float, float, float, float]) -> int:
    """The (site, type) options open in some network whose site lies outside ``extent`` (the panels' frame)."""
    xmin, ymin, xmax, ymax = extent
    outside = set()
    for alternative in result.networks:
        sites = in_panel_crs(site_layer(alternative.run), crs)
        x, y = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
        off = ~((x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax))
        outside.update(zip(sites["site_id"][off], sites["facility_type"][off], strict=True))
    return len(outside)


def _main_outline(regions: gpd.GeoDataFrame) -> tuple[str, gpd.GeoSeries, tuple[float, float, float, float]]:
    """The panels' CRS (the static map's, :func:`~planner.export.static_map.regions_for_map`: Equal Earth for
    regions round the world, which the azimuthal projection had stretched round its rim), the outlines of the
    group of regions with the most members in it, simplified, and the padded extent (metres) every panel shows."""
    labels = region_clusters(regions)
    main = labels == np.bincount(labels).argmax() if len(labels) else np.zeros(0, dtype=bool)
    crs, projected = regions_for_map(regions)
    outline = projected.loc[main]
    xmin, ymin, xmax, ymax = outline.total_bounds if len(outline) else (-1e5, -1e5, 1e5, 1e5)
    if not np.isfinite([xmin, ymin, xmax, ymax]).all():
        xmin, ymin, xmax, ymax = -1e5, -1e5, 1e5, 1e5
    outline = outline.geometry.simplify(SIMPLIFY_SHARE * (xmax - xmin))
    pad = 0.05 * max(xmax - xmin, ymax - ymin, 1.0)  # metres; point regions on a line have no height
    return crs, outline, (xmin - pad, ymin - pad, xmax + pad, ymax + pad)


def _draw_network(panel, sites: gpd.GeoDataFrame, optimum_sites: gpd.GeoDataFrame, colours: dict[str, str]) -> None:
    """Sites by type; ringed where open here and not in the optimum; the optimum's sites closed here crossed."""
    keys = list(zip(sites["site_id"], sites["facility_type"], strict=True))
    optimum_keys = list(zip(optimum_sites["site_id"], optimum_sites["facility_type"], strict=True))
    for type_id, colour in colours.items():
        chosen = sites[sites["facility_type"] == type_id]
        panel.scatter(chosen.geometry.x, chosen.geometry.y, s=28, color=colour, zorder=3)
    in_optimum, here = set(optimum_keys), set(keys)
    moved = sites[np.array([key not in in_optimum for key in keys], dtype=bool)]
    panel.scatter(moved.geometry.x, moved.geometry.y, s=90, facecolors="none", edgecolors="black", linewidths=1.0,
                  zorder=4)
    gone = optimum_sites[np.array([key not in here for key in optimum_keys], dtype=bool)]
    panel.scatter(gone.geometry.x, gone.geometry.y, s=40, marker="x", color="black", linewidths=1.0, zorder=4)


def _legend_handles(colours: dict[str, str], base: str = "optimum") -> list:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", linestyle="", color=colour, label=t) for t, colour in colours.items()]
    handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor="none", markeredgecolor="black",
                          label=f"open here, not in the {base}"))
    handles.append(Line2D([], [], marker="x", linestyle="", color="black", label=f"open in the {base}, closed here"))
    return handles
