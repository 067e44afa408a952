"""The staged-rollout outputs (``planner solve --periods``): ``timeline.png`` (capacity by facility
type per period, expected over the scenarios, one panel per strategy) and the report section with
the strategies' expected cost, CVaR and worst case. Reads summary.json's ``rollout`` block and
periods.csv only."""

from __future__ import annotations

import io
import logging

import numpy as np
import pandas as pd

from planner.export.report import _png, _table, esc, num, pct
from planner.export.stochastic_report import _millions

logger = logging.getLogger(__name__)

LABELS = {
    "central_now": "commit to a central plant now",
    "pilot_micro": "pilot microfactories, then scale",
    "optimum": "best first period",
}
TYPE_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"]


def _expected_by_period(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """(strategy, period) → probability-weighted mean of ``column``."""
    weighted = table.assign(_w=table[column] * table["probability"])
    return weighted.groupby(["strategy", "period"])["_w"].sum().unstack("period")


def timeline_figure(table: pd.DataFrame, type_ids):
    from matplotlib.figure import Figure

    strategies = list(dict.fromkeys(table["strategy"]))
    fig = Figure(figsize=(3.4 * len(strategies) + 0.6, 3.2))
    axes = np.atleast_1d(fig.subplots(1, len(strategies), sharey=True))
    for ax, strategy in zip(axes, strategies, strict=True):
        bottom = None
        for k, type_id in enumerate(type_ids):
            series = _expected_by_period(table, f"capacity_{type_id}").loc[strategy]
            periods = series.index.to_numpy()
            ax.bar(periods, series.to_numpy(), bottom=bottom, color=TYPE_COLOURS[k % len(TYPE_COLOURS)],
                   label=str(type_id))
            bottom = series.to_numpy() if bottom is None else bottom + series.to_numpy()
        demand = _expected_by_period(table, "demand").loc[strategy]
        ax.plot(demand.index.to_numpy(), demand.to_numpy(), color="black", marker="o", label="demand")
        ax.set_title(LABELS.get(strategy, strategy), fontsize=9)
        ax.set_xlabel("period")
        ax.set_xticks(periods)
    axes[0].set_ylabel("capacity, units/yr (expected)")
    axes[0].yaxis.set_major_formatter(_millions())
    axes[-1].legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def timeline_png(table: pd.DataFrame, type_ids) -> bytes:
    """timeline.png as bytes."""
    buffer = io.BytesIO()
    timeline_figure(table, type_ids).savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def rollout_section(block: dict, table: pd.DataFrame, type_ids, currency: str, maps_png: bytes | None = None) -> str:
    rows = []
    for name, strategy in block["strategies"].items():
        first = ", ".join(f"{esc(t)} {n}" for t, n in (strategy.get("period1_facilities") or {}).items() if n)
        rows.append([
            esc(LABELS.get(name, name)), esc(strategy.get("status")), num(strategy.get("expected_cost")),
            num(strategy.get("cvar")), num(strategy.get("worst_case")), first or "none",
        ])
    strategies = _table(
        ["strategy", "status", f"expected cost ({currency}, present value)", f"CVaR {block.get('cvar_alpha')}",
         "worst case", "open in period 1"],
        rows, text=(0, 1, 5),
    )
    fig = timeline_figure(table, type_ids)
    note = (
        f"<p>{block.get('periods')} periods (present-value years per period: "
        f"{', '.join(f'{w:.2f}' for w in block.get('period_weight_years') or [])}), {block.get('scenarios')} "
        "scenario(s). Facilities stay open once opened and modules are only added; with scenarios, the first "
        "period is decided before the scenario is known and later periods after it. The best first period "
        f"was solved to status {esc(block.get('status'))}, gap {pct(block.get('mip_gap'), 2)}.</p>"
    )
    maps = ""
    if maps_png:
        import base64

        encoded = base64.b64encode(maps_png).decode("ascii")
        maps = f'<h3>The best plan, period by period</h3><img class="map" alt="maps per period" ' \
               f'src="data:image/png;base64,{encoded}">'
    return "<h2>Staged rollout</h2>" + note + _png(fig) + strategies + maps


def small_multiples_png(runs, inputs, type_ids, titles) -> bytes:
    """One static map per period (the same map as map.png: regions by serving type, sites sized by
    capacity, flows), side by side in one PNG. ``runs`` are :class:`planner.pipeline.Run` views of
    the periods."""
    import tempfile
    import warnings
    from pathlib import Path

    from matplotlib.figure import Figure
    from matplotlib.image import imread

    from planner.export.layers import flow_layer, region_layer, site_layer
    from planner.export.static_map import draw_map

    images = []
    with tempfile.TemporaryDirectory() as folder:
        for k, (run, title) in enumerate(zip(runs, titles, strict=True)):
            path = Path(folder) / f"period_{k}.png"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                draw_map(region_layer(run, inputs), site_layer(run), flow_layer(run), type_ids, title, path)
            images.append(imread(path))
    height = max(image.shape[0] for image in images)
    width = sum(image.shape[1] for image in images)
    fig = Figure(figsize=(width / 100, height / 100), dpi=100)
    axes = np.atleast_1d(fig.subplots(1, len(images), gridspec_kw={"wspace": 0.02}))
    for ax, image in zip(axes, images, strict=True):
        ax.imshow(image)
        ax.set_axis_off()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()
