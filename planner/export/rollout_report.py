"""The staged-rollout outputs (``planner solve --periods``): ``timeline.png`` (capacity by facility
type per period, expected over the scenarios, one panel per strategy) and the report section with
the strategies' expected cost, CVaR and worst case. Reads summary.json's ``rollout`` block and
periods.csv only."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from planner.export.charts import (
    bar_values,
    category_ticks,
    img_tag,
    new_figure,
    plain_text,
    png_bytes,
    readable_axis,
    stacked,
    type_colours,
)
from planner.export.report import esc, gap_pct, html_table, num, status_with_gap

logger = logging.getLogger(__name__)

MAPS_PER_ROW = 2  # the periods' maps in rows of two (five side by side had unreadable legends)

LABELS = {
    "central_now": "commit to a central plant now",
    "pilot_micro": "pilot microfactories, then scale",
    "optimum": "best first period",
}


def _expected_by_period(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """(strategy, period) → probability-weighted mean of ``column``."""
    weighted = table.assign(_w=table[column] * table["probability"])
    return weighted.groupby(["strategy", "period"])["_w"].sum().unstack("period")


@plain_text
def timeline_figure(table: pd.DataFrame, type_ids):
    """One panel per strategy: the expected capacity of each facility type stacked per period and the
    expected demand as a line (capacities that are not finite, i.e. unlimited, are drawn as 0)."""
    strategies = list(dict.fromkeys(table["strategy"])) or [None]
    fig, axes = new_figure(3.4 * len(strategies) + 0.6, 3.2, 1, len(strategies), sharey=True, squeeze=False)
    for ax, strategy in zip(axes[0], strategies, strict=True):
        if strategy is not None:
            _timeline_panel(ax, table, strategy, type_colours(type_ids))
    readable_axis(axes[0][0], "y", "units/yr", "expected capacity")
    handles, labels = axes[0][-1].get_legend_handles_labels()
    if handles:
        axes[0][-1].legend(handles, labels, fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def _timeline_panel(ax, table: pd.DataFrame, strategy: str, colours: dict[str, str]) -> None:
    demand = _expected_by_period(table, "demand").loc[strategy]
    periods = demand.index.to_numpy()
    bottom = np.zeros(len(periods))
    for type_id, colour in colours.items():
        if f"capacity_{type_id}" in table:
            series = _expected_by_period(table, f"capacity_{type_id}").loc[strategy].reindex(demand.index)
            values = bar_values(series.to_numpy())
            stacked(ax.bar(periods, values, bottom=bottom, color=colour, label=str(type_id)), "y")
            bottom = bottom + values
    shown = demand.to_numpy(dtype=float)
    ax.plot(periods, np.where(np.isfinite(shown), shown, np.nan), color="black", marker="o", label="demand")
    ax.set_title(LABELS.get(strategy, strategy), fontsize=9)
    ax.set_xlabel("period")
    category_ticks(ax, "x", periods, periods)


def timeline_png(table: pd.DataFrame, type_ids) -> bytes:
    """timeline.png as bytes."""
    return png_bytes(timeline_figure(table, type_ids), dpi=110)


def rollout_section(block: dict, table: pd.DataFrame, type_ids, currency: str, maps_png: bytes | None = None) -> str:
    rows = []
    for name, strategy in block["strategies"].items():
        first = ", ".join(f"{esc(t)} {n}" for t, n in (strategy.get("period1_facilities") or {}).items() if n)
        rows.append([
            esc(LABELS.get(name, name)), status_with_gap(strategy), num(strategy.get("expected_cost")),
            num(strategy.get("cvar")), num(strategy.get("worst_case")), first or "none",
        ])
    strategies = html_table(
        ["strategy", "status", f"expected cost ({currency}, present value)",
         f"CVaR {block.get('cvar_alpha')} ({currency}, present value)", f"worst case ({currency}, present value)",
         "open in period 1"],
        rows, text=(0, 1, 5),
    )
    fig = timeline_figure(table, type_ids)
    note = (
        f"<p>{block.get('periods')} periods (present-value years per period: "
        f"{', '.join(f'{w:.2f}' for w in block.get('period_weight_years') or [])}), {block.get('scenarios')} "
        "scenario(s). Facilities stay open once opened and modules are only added; with scenarios, the first "
        "period is decided before the scenario is known and later periods after it. The best first period "
        f"was solved to status {esc(block.get('status'))}, gap {gap_pct(block.get('mip_gap'), 2)}.</p>"
    )
    maps = ""
    if maps_png:
        maps = "<h3>The best plan, period by period</h3>" + img_tag(maps_png, "maps per period", css_class="map")
    return "<h2>Staged rollout</h2>" + note + img_tag(fig) + strategies + maps


@plain_text
def small_multiples_png(runs, inputs, type_ids, titles) -> bytes:
    """One static map per period (the same map as map.png: regions by serving type, sites sized by
    capacity, flows), at most ``MAPS_PER_ROW`` side by side in one PNG, all on one frame and one symbol
    scale (each period's own scale had drawn a site of 40,000 units/yr in period 1 as large as one of
    60,000 in period 2, under legends of other sizes). ``runs`` are :class:`planner.pipeline.Run`
    views of the periods."""
    import tempfile
    import warnings
    from pathlib import Path

    from matplotlib.image import imread

    from planner.export.layers import flow_layer, region_layer, site_layer
    from planner.export.static_map import build_map_figure, save_figure

    layers = [(region_layer(run, inputs), site_layer(run), flow_layer(run)) for run in runs]
    images = []
    with tempfile.TemporaryDirectory() as folder:
        for k, ((regions, sites, flows), title) in enumerate(zip(layers, titles, strict=True)):
            others = [(other_sites, other_flows) for j, (_, other_sites, other_flows) in enumerate(layers) if j != k]
            path = Path(folder) / f"period_{k}.png"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                save_figure(build_map_figure(regions, sites, flows, type_ids, title, alike=others), [path], title)
            images.append(imread(path))
    columns = min(MAPS_PER_ROW, len(images))
    rows = -(-len(images) // columns)
    height = max(image.shape[0] for image in images) * rows
    width = max(image.shape[1] for image in images) * columns
    fig, axes = new_figure(width / 100, height / 100, rows, columns, squeeze=False,
                           gridspec_kw={"wspace": 0.02, "hspace": 0.02})
    for k, ax in enumerate(axes.ravel()):
        if k < len(images):
            ax.imshow(images[k])
        ax.set_axis_off()
    return png_bytes(fig, dpi=100)
