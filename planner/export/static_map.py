"""``map.png``: regions coloured by the facility type that serves them (or unmet), sites by type and
capacity, flows as lines; drawn in a Lambert azimuthal equal-area projection centred on the data."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np

logger = logging.getLogger(__name__)

TYPE_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
UNMET_COLOUR = "#d62728"
NO_DEMAND_COLOUR = "#eeeeee"


def equal_area_crs(regions: gpd.GeoDataFrame) -> str:
    """A Lambert azimuthal equal-area projection centred on the median demand location."""
    points = regions.geometry.representative_point()
    lon, lat = float(np.median(points.x)), float(np.median(points.y))
    return f"+proj=laea +lat_0={lat:.4f} +lon_0={lon:.4f} +datum=WGS84 +units=m +no_defs"


def draw_map(
    regions: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    flows: gpd.GeoDataFrame,
    type_ids: tuple[str, ...],
    title: str,
    path: Path,
) -> None:
    """Write the static map to ``path`` (format from the suffix: .png, .svg, .pdf)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    crs = equal_area_crs(regions)
    colours = {t: TYPE_COLOURS[i % len(TYPE_COLOURS)] for i, t in enumerate(type_ids)}
    region_colours = regions["served_by"].map({**colours, "unmet": UNMET_COLOUR}).fillna(NO_DEMAND_COLOUR)
    fig, ax = plt.subplots(figsize=(12, 8), dpi=120)
    projected = regions.to_crs(crs)
    projected.plot(ax=ax, color=region_colours, alpha=0.35, edgecolor="white", linewidth=0.2)
    if len(flows):
        widths = 0.3 + 2.5 * flows["quantity"] / max(flows["quantity"].max(), 1e-9)
        flows.to_crs(crs).plot(ax=ax, color="#444444", linewidth=widths, alpha=0.35)
    if len(sites):
        projected_sites = sites.to_crs(crs)
        capacity = sites["capacity"].where(np.isfinite(sites["capacity"]), sites["production"])
        sizes = 20 + 300 * np.sqrt(capacity / max(capacity.max(), 1e-9))
        for type_id in type_ids:
            mask = (sites["facility_type"] == type_id).to_numpy()
            if mask.any():
                projected_sites[mask].plot(
                    ax=ax,
                    color=colours[type_id],
                    markersize=sizes[mask].to_numpy(),
                    edgecolor="black",
                    linewidth=0.6,
                    zorder=3,
                )
    handles = [Patch(facecolor=colours[t], alpha=0.5, label=f"served by {t}") for t in type_ids]
    handles.append(Patch(facecolor=UNMET_COLOUR, alpha=0.5, label="unmet"))
    handles += [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markerfacecolor=colours[t],
            markeredgecolor="black",
            label=f"{t} (size ~ capacity)",
        )
        for t in type_ids
        if (sites["facility_type"] == t).any()
    ]
    handles.append(Line2D([], [], color="#444444", alpha=0.6, label="flow (width ~ volume)"))
    ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9)
    ax.set_title(title, fontsize=12)
    ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
