"""``planner compare`` outputs: compare.csv, compare_regions.csv, sweep.csv, the where-microfactories-win
map, the breakeven chart and a self-contained compare.html (charts embedded, strings escaped)."""

from __future__ import annotations

import html
import json
import logging
import math
from pathlib import Path

import numpy as np

from planner.export.charts import img_tag, new_figure, png_bytes, readable_axis
from planner.export.folder import staged_folder
from planner.export.layers import region_layer
from planner.export.stochastic_output import stochastic_output
from planner.export.summary import clean_for_json
from planner.export.workbook import WORKBOOK, write_compare_workbook
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


VARIANT_NAMES = {"central_only": "central-only network", "micro_only": "micro-only network",
                 "hybrid": "hybrid network"}
AGAINST_NAMES = {"central_only": "the best central-only network", "micro_only": "microfactories only",
                 "hybrid": "the hybrid network"}
ROLE_NAMES = {"central": ("central plant", "central plants"), "microfactory": ("microfactory", "microfactories"),
              "other": ("other facility", "other facilities")}


def number_text(value, unit: str | None = None) -> str:
    """A figure for the page: thousands separators, never scientific notation, "–" when missing;
    fractions in %."""
    if value is None or isinstance(value, str | bool):
        return "–" if value is None else str(value)
    value = float(value)
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if unit == "fraction":
        return f"{100 * value:,.2f} %"
    if value.is_integer() or abs(value) >= 100:
        return f"{value:,.0f}".replace("-", "−")
    return f"{value:,.4f}".rstrip("0").rstrip(".").replace("-", "−")


def money_range(low: float, high: float, currency: str) -> str:
    """``18.2–23.1 M USD/yr`` (millions from 1 M on, else whole units; "to" when an end is negative)."""
    scale, suffix, digits = (1e6, " M", 1) if max(abs(low), abs(high)) >= 1e6 else (1.0, "", 0)

    def text(value: float) -> str:
        return f"{value / scale:,.{digits}f}".replace("-", "−")

    if text(low) == text(high):
        return f"{text(low)}{suffix} {currency}/yr"
    joiner = "–" if low >= 0 and high >= 0 else " to "
    return f"{text(low)}{joiner}{text(high)}{suffix} {currency}/yr"


def _network_name(name: str, facilities: dict[str, int] | None) -> str:
    label = VARIANT_NAMES.get(name, f"network '{name}'")
    label = label[0].upper() + label[1:]
    if facilities:
        parts = [f"{n:,} {ROLE_NAMES[role][n != 1]}" for role, n in facilities.items() if n]
        label += f" ({' + '.join(parts) or 'no facility'})"
    return label


def decision_sentence(decision: dict | None, currency: str) -> str:
    """The page's first sentence: the winner and its proven saving over each other network, or that
    the winner is not decided at these gaps."""
    if not decision or decision.get("winner") is None or not decision["savings"]:
        return "Only one network was solved; there is nothing to compare it with."
    winner = _network_name(decision["winner"], decision.get("facilities"))
    parts = []
    for index, saving in enumerate(decision["savings"]):
        against = AGAINST_NAMES.get(saving["against"], f"network '{saving['against']}'")
        if saving.get("tie"):
            parts.append(f"the same cost as {against} (proven)")
            continue
        if saving["at_least"] is None:
            parts.append(f"cheaper than {against} at the solutions found (no bound, so not proven)")
            continue
        proven = " (proven)" if index == 0 else ""
        parts.append(f"{money_range(saving['at_least'], saving['at_most'], currency)} cheaper than {against}{proven}")
    if decision["decided"]:
        return f"{winner} wins: " + ", ".join(parts) + "."
    return (
        f"Not decided at this gap: the {winner[0].lower() + winner[1:]} has the lowest cost found, but the proven "
        f"savings ({'; '.join(parts)}) reach zero or below; solve to a smaller --mip-gap or a longer --time-limit "
        "to decide."
    )


def value_sentence(value: dict, currency: str) -> str:
    """Value of decentralisation: its proven interval, then the figure at the solutions found."""
    if value.get("absolute") is None:
        return "Value of decentralisation: needs a central_only and a hybrid variant."
    interval = value.get("proven_interval") or {}
    text = "Value of decentralisation (best central-only cost − hybrid cost): "
    if interval.get("at_least") is not None:
        text += f"proven {money_range(interval['at_least'], interval['at_most'], currency)} whatever the gaps; "
    percent = "" if value.get("percent") is None else f" ({value['percent']:.2f} % of the central-only cost)"
    return text + f"{number_text(value['absolute'])} {currency}/yr at the solutions found{percent}."


def _label(column: str, units: dict[str, str], currency: str) -> str:
    unit = units.get(column)
    if unit == "fraction":
        return f"{column} (%)"
    return f"{column} ({unit.replace('currency', currency)})" if unit else str(column)


def variants_table(rows, currency: str) -> str:
    """compare.csv turned on its side (one column per variant, one row per figure, units and the
    currency in the row headers), so it never runs off the page."""
    units = rows.attrs.get("unit", {})
    head = "<th>figure</th>" + "".join(f"<th>{html.escape(str(name))}</th>" for name in rows["variant"])
    body = []
    for column in rows.columns[1:]:
        cells = "".join(f"<td>{html.escape(number_text(value, units.get(column)))}</td>" for value in rows[column])
        body.append(f"<tr><th scope='row'>{html.escape(_label(column, units, currency))}</th>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _table_html(frame, currency: str) -> str:
    units = frame.attrs.get("unit", {})
    head = "".join(f"<th>{html.escape(_label(c, units, currency))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False, name=None):
        cells = "".join(f"<td>{html.escape(number_text(v, units.get(c)))}</td>" for c, v in zip(frame.columns, row,
                                                                                               strict=True))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


STYLE = (
    "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse;font-size:12px;max-width:100%}"
    "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right;overflow-wrap:anywhere}"
    "th[scope=row]{text-align:left}img{max-width:100%}.answer{font-size:1.2em}</style>"
)


def compare_html(comparison: Comparison, images: dict[str, bytes]) -> str:
    currency = _currency(comparison)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Network comparison</title>", STYLE,
        "</head><body><h1>Central plant, microfactories or both?</h1>",
        f"<p class='answer'><strong>{html.escape(decision_sentence(comparison.decision, currency))}</strong></p>",
        f"<p>{html.escape(value_sentence(comparison.value, currency))} A proven interval runs from the other "
        "network's lower bound minus this network's cost to the other network's cost minus this network's lower "
        "bound, so it holds whatever the solver gaps in the table.</p>",
        "<h2>Variants</h2>",
        variants_table(comparison.rows, currency),
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
            _table_html(comparison.sweep, currency),
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
        write_compare_workbook(staging / WORKBOOK, comparison)
        headline = {"value_of_decentralisation": clean_for_json(comparison.value),
                     "decision": clean_for_json(comparison.decision)}
        if comparison.stochastic is not None:
            extra = stochastic_output(comparison.stochastic)
            extra.files["scenarios.csv"].to_csv(staging / "scenarios.csv", index=False)
            headline["stochastic"] = clean_for_json(extra.block)
        (staging / "value.json").write_text(json.dumps(headline, indent=2) + "\n", encoding="utf-8")
    return headline
