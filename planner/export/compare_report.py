"""``planner compare`` outputs: compare.csv, compare_regions.csv, sweep.csv, the where-microfactories-win
map, the breakeven chart and a self-contained compare.html (charts embedded, strings escaped)."""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path

import numpy as np

from planner.export.charts import img_tag, new_figure, png_bytes, readable_axis
from planner.export.folder import staged_folder
from planner.export.layers import region_layer
from planner.export.stochastic_output import stochastic_output
from planner.export.summary import clean_for_json
from planner.inputs.geo import equal_area_crs
from planner.studies.compare import Comparison

logger = logging.getLogger(__name__)

PNG_DPI = 110


def _currency(comparison: Comparison) -> str:
    plan = next(iter(comparison.plans.values()), None)
    return plan.run.problem.currency if plan is not None else "currency"


def where_micro_wins_figure(comparison: Comparison):
    """Choropleth of the micro advantage (currency/unit): blue where serving locally is cheaper; regions
    without a finite advantage in grey (no colour bar when none has one)."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    central = comparison.plans["central_only"]
    regions = region_layer(central.run, central.inputs)[["region_id", "geometry"]]
    regions = regions.merge(comparison.regions, on="region_id", how="left")
    projected = regions.to_crs(equal_area_crs(regions))
    advantage = projected["micro_advantage"].to_numpy(dtype=float)
    known = np.isfinite(advantage)
    limit = float(np.percentile(np.abs(advantage[known]), 95)) if known.any() else 1.0
    limit = limit if limit > 0 else 1.0
    fig, ax = new_figure(11, 7)
    if not known.all():
        projected[~known].plot(ax=ax, color="#eeeeee", edgecolor="white", linewidth=0.1)
    if known.any():
        projected[known].plot(ax=ax, column="micro_advantage", cmap="RdBu", vmin=-limit, vmax=limit,
                              edgecolor="white", linewidth=0.1)
        bar = fig.colorbar(ScalarMappable(Normalize(vmin=-limit, vmax=limit), cmap="RdBu"), ax=ax, shrink=0.6)
        readable_axis(bar.ax, "y", f"{_currency(comparison)}/unit", "cost to serve, central-only − micro-only")
    ax.set_title("Where microfactories win (blue: serving locally is cheaper)")
    ax.set_axis_off()
    return fig


def draw_where_micro_wins(comparison: Comparison) -> bytes:
    """where_micro_wins.png as bytes."""
    return png_bytes(where_micro_wins_figure(comparison), dpi=PNG_DPI)


def breakeven_figure(comparison: Comparison):
    """Facility counts by role and total cost against the swept parameter."""
    sweep, key = comparison.sweep, comparison.sweep_key
    fig, (top, bottom) = new_figure(8, 7, 2, 1, sharex=True)
    top.plot(sweep[key], sweep["n_central"], marker="o", label="central plants")
    top.plot(sweep[key], sweep["n_microfactory"], marker="s", label="microfactories")
    readable_axis(top, "y", "", "open facilities", integer=True)
    top.legend()
    bottom.plot(sweep[key], sweep["objective"], marker="o", color="black")
    readable_axis(bottom, "y", f"{_currency(comparison)}/yr", "total cost")
    readable_axis(bottom, "x", "", str(key))
    fig.suptitle(f"Breakeven: network against {key}")
    fig.tight_layout()
    return fig


def draw_breakeven(comparison: Comparison) -> bytes:
    """breakeven.png as bytes."""
    return png_bytes(breakeven_figure(comparison), dpi=PNG_DPI)


def _table_html(frame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            text = f"{value:,.4g}" if isinstance(value, float) else str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def compare_html(comparison: Comparison, images: dict[str, bytes]) -> str:
    value = comparison.value
    if value["absolute"] is None:
        headline = "Value of decentralisation: needs a central_only and a hybrid variant."
    else:
        headline = (
            f"Value of decentralisation: {value['absolute']:,.0f} per year "
            f"({value['percent']:.2f}% of the best central-only network's cost)"
        )
        if value.get("proven_at_least") is not None:
            headline += f"; proven at least {value['proven_at_least']:,.0f} per year whatever the gaps"
        headline += "."
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Network comparison</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse;"
        "font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}img{max-width:100%}</style>",
        "</head><body><h1>Central plant, microfactories or both?</h1>",
        f"<p><strong>{html.escape(headline)}</strong> Gaps of each solve are in the table: a value within the "
        "sum of the gaps is not significant.</p>",
        "<h2>Variants</h2>",
        _table_html(comparison.rows),
    ]
    if "where_micro_wins" in images:
        parts += [
            "<h2>Where microfactories win</h2>",
            img_tag(images["where_micro_wins"], "where microfactories win"),
        ]
    if "breakeven" in images:
        parts += [
            "<h2>Breakeven</h2>",
            img_tag(images["breakeven"], "breakeven chart"),
            _table_html(comparison.sweep),
        ]
    if comparison.stochastic is not None:
        parts.append(stochastic_output(comparison.stochastic).section)
    parts.append("</body></html>")
    return "\n".join(parts)


def write_comparison(comparison: Comparison, out: Path) -> dict:
    """Write every compare output into ``out`` atomically; return the headline figures."""
    out = Path(out)
    with staged_folder(out) as staging:
        comparison.rows.to_csv(staging / "compare.csv", index=False)
        images = {}
        if comparison.regions is not None:
            comparison.regions.to_csv(staging / "compare_regions.csv", index=False)
            images["where_micro_wins"] = draw_where_micro_wins(comparison)
            (staging / "where_micro_wins.png").write_bytes(images["where_micro_wins"])
        if comparison.sweep is not None:
            comparison.sweep.to_csv(staging / "sweep.csv", index=False)
            images["breakeven"] = draw_breakeven(comparison)
            (staging / "breakeven.png").write_bytes(images["breakeven"])
        (staging / "compare.html").write_text(compare_html(comparison, images), encoding="utf-8")
        headline = {"value_of_decentralisation": comparison.value}
        if comparison.stochastic is not None:
            extra = stochastic_output(comparison.stochastic)
            extra.files["scenarios.csv"].to_csv(staging / "scenarios.csv", index=False)
            headline["stochastic"] = clean_for_json(extra.block)
        (staging / "value.json").write_text(json.dumps(headline, indent=2) + "\n", encoding="utf-8")
    return headline
