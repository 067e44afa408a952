"""``report.html``: one self-contained page summarising a solve, for people who do not open QGIS.

Sections: key figures (total cost, cost per unit served, CO2, facilities, share served), the cost
split (a negative part, the revenue of proximity prices, drawn as a bar to the left of 0; the parts
add up to the objective), with suppliers the inbound supply per material (suppliers used, quantity,
purchase, transport, relationship and carbon cost, mean distance, CO2) and its share of the cost, the
map, the open facilities with their utilisation, demand and unmet demand by product, the
distribution of the cost to serve, the regions with the most unmet demand, the assumptions of the
instance (products, facility types, network rules, as the :class:`~planner.problem.Problem` holds
them), the solver's status, bound and gap, and the independent audit.

Charts are matplotlib PNGs embedded as base64 ``data:`` URIs, styles are inline, so the file opens
offline and requests nothing. Every string that comes from the data or the model file (names, ids,
types, products, warnings, paths) goes through :func:`html.escape`. Money axes read in k or M of the
currency; empty, constant and non-finite figures (a run that opens nothing, one region) give a page
with 'n/a' where a figure is missing, never an error.
"""

from __future__ import annotations

import html
import logging
import math
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import shows_few_digits, significant_text
from planner.export.charts import (
    UNMET_COLOUR,
    bar_values,
    from_zero,
    histogram,
    img_tag,
    new_figure,
    plain_text,
    readable_axis,
    stacked,
)
from planner.export.layers import inbound_layer, supplier_layer
from planner.export.static_map import draw_map
from planner.export.summary import empty_network_note, measure_unit
from planner.model.arrays import share_text
from planner.pipeline import Run
from planner.problem import Problem
from planner.results import amount_text
from planner.solver.outcome import gap_text

logger = logging.getLogger(__name__)

SHOWN_AS_ZERO = 1e-9  # a figure this small is rounding noise and reads 0 (see num)
TOP_UNMET_REGIONS = 15  # rows of the "most unmet demand" table
HISTOGRAM_BINS = 30
SERVED_COLOUR = "#2ca02c"
COST_COLOUR = "#4c72b0"
COST_PART_LABELS = {
    "fixed": "fixed (opening + modules)",
    "production": "production",
    "transport": "transport",
    "carbon": "carbon",
    "unmet_penalty": "unmet demand penalty",
    "revenue": "revenue (proximity prices, negative)",
    "inbound": "inbound (materials, transport, relationships)",
    "inbound_carbon": "inbound carbon",
}
NOT_SUPPLY = ("unmet_penalty", "revenue")  # cost parts left out of the cost per unit served


def esc(value: Any) -> str:
    """Any value as HTML text (quotes escaped too, so it is safe in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def num(value: Any, digits: int = 0, unit: str = "") -> str:
    """A number with thousands separators; 'n/a' when missing, '∞' when infinite. A value below 100 (above
    ``SHOWN_AS_ZERO``) that ``digits`` decimals would show with fewer than three significant digits shows 4
    significant digits, as the console's figures (``amount_text``): a model in small units had a total cost and
    demand of '0' beside a penalty that was 100 % of it, a cost of 1.42 read '1' and one of 0.01273 '0.01'."""
    if value is None or not _is_number(value) or (isinstance(value, float | np.floating) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return "∞"
    value = 0.0 if abs(value) <= SHOWN_AS_ZERO else value
    text = f"{value:,.{digits}f}"
    rounded = digits == 0 and value != round(value)  # 99.54 shown whole reads 100
    if value != 0 and abs(value) < 100 and (rounded or shows_few_digits(text)):
        text = significant_text(value)  # fewer than three significant digits shown: 0.01273 had read 0.01
    return esc(f"{text} {unit}" if unit else text)


def kind_value_text(kind: dict) -> str:
    """A classic kind's value with its unit: a count of facilities whole, other measures to 2 decimals."""
    return num(kind["value"], 0 if kind["unit"] == "facilities" else 2, kind["unit"])


def pct(value: Any, digits: int = 1) -> str:
    """A share as a percentage; a share strictly between 0 and 1 never shows as 0 or 100 (``share_text``)."""
    if value is None or not _is_number(value) or not math.isfinite(value):
        return "n/a"
    return share_text(float(value), digits).replace("%", " %")


def gap_pct(value: Any, digits: int = 3) -> str:
    """A relative MIP gap as the status line writes it (``gap_text``: the costs' rounding reads 0), not as a
    share, which showed a gap of 1e-16 as '0.000001 %' beside the status line's 0.00%."""
    if value is None or not _is_number(value):
        return "n/a"
    return esc(gap_text(float(value), digits).replace("%", " %"))


def _span(values: np.ndarray, fmt) -> str:
    """``a`` or ``a–b`` over the finite and infinite values of an array; '–' when empty."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return "–"
    low, high = float(values.min()), float(values.max())
    return fmt(low) if low == high else f"{fmt(low)}–{fmt(high)}"


def status_with_gap(block: dict) -> str:
    """A strategy's status, with its gap where it is not ``optimal`` ('time_limit (gap 17.18 %)'): a plan
    stopped by its limit had shown its status alone beside figures that read as proven; an ``infeasible`` one
    (no plan, so no gap: it read 'infeasible (gap n/a)') with its reason where the block has one, as the console."""
    status = block.get("status")
    if status == "infeasible" or block.get("reason"):  # no plan: no gap, its reason
        return esc(status) + (f" ({esc(block['reason'])})" if block.get("reason") else "")
    return esc(status) if status in (None, "optimal") else f"{esc(status)} (gap {gap_pct(block.get('mip_gap'), 2)})"


def html_table(header: list[str], rows: list[list[str]], text: tuple[int, ...] = (0,)) -> str:
    """An HTML table; cells are already escaped/formatted; columns not in ``text`` are right-aligned."""

    def cell(tag: str, i: int, content: str) -> str:
        return f"<{tag}>{content}</{tag}>" if i in text else f'<{tag} class="num">{content}</{tag}>'

    head = "".join(cell("th", i, esc(h)) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f'<div class="table-box"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


# sections ---------------------------------------------------------------------------------------------


def _kpis(run: Run, summary: dict) -> str:
    currency = summary.get("currency") or run.problem.currency
    costs = summary.get("costs") or {}
    demand = summary.get("demand") or {}
    total_demand = sum(d.get("demand") or 0.0 for d in demand.values())
    total_served = sum(d.get("served") or 0.0 for d in demand.values())
    supply_cost = sum(v or 0.0 for k, v in costs.items() if k not in NOT_SUPPLY)
    inbound = " + inbound" if "inbound" in costs else ""
    kind = summary.get("objective_kind")
    study = "evaluation_status" in summary  # the tables show a study's network, whose cost is not its objective
    cost_note = "penalty for unmet demand included" + ("; net of revenue" if "revenue" in costs else "")
    cost_card = ("total cost", f"the objective, {cost_note}") if not study else (
        "cost of the network shown", f"per year, {cost_note}; the network shown: "
        f"{esc(summary.get('view') or 'the study’s')}; the study's own objective is in its section below")
    cards = [  # (label, value HTML, note HTML)
        (cost_card[0], num(summary.get("objective"), 0, f"{currency}/yr"), cost_card[1]),
        ("cost per unit served", num(supply_cost / total_served if total_served > 0 else None, 2, f"{currency}/unit"),
         f"(fixed + setup + production + transport + carbon{inbound}"
         f"{' + inbound carbon' if 'inbound_carbon' in costs else ''}) / units served"),
    ] if not kind else [
        (kind["measure"], kind_value_text(kind), f"the objective: {esc(kind['kind'])}, not money"),
    ]
    cards += [
        ("CO2", num(summary.get("co2_t"), 0, "t/yr"), f"production + transport{inbound and ' + inbound transport'}"),
        ("share served", pct(total_served / total_demand if total_demand > 0 else None),
         f"{num(total_served)} of {num(total_demand)} units/yr"),
    ]
    facilities = summary.get("facilities") or {}
    by_type = ", ".join(f"{esc(t)} {num(n)}" for t, n in facilities.items())
    cards.append(("facilities open", num(sum(facilities.values())), by_type))
    return '<div class="kpis">' + "".join(
        f'<div class="kpi"><div class="kpi-label">{esc(label)}</div><div class="kpi-value">{value}</div>'
        f'<div class="kpi-note">{note}</div></div>'
        for label, value, note in cards
    ) + "</div>"


def _kind_section(kind: dict) -> str:
    """For a classic ``[objective] kind``: what it measures, in place of the cost breakdown."""
    def finite(key: str) -> bool:
        return _is_number(kind.get(key)) and bool(np.isfinite(kind[key]))

    limits = [f"p = {kind['p']}" if kind.get("p") is not None else "",
              f"coverage {num(kind['coverage_km'], 1, 'km')}" if finite("coverage_km") else "",
              f"coverage {num(kind['coverage_minutes'], 1, 'min')}" if finite("coverage_minutes") else ""]
    limits_text = ", ".join(text for text in limits if text)
    return (
        f"<h2>Objective: {esc(kind['kind'])}</h2><p>The network minimises the {esc(kind['objective_counts'])}"
        f"{f' ({limits_text})' if limits_text else ''}: {esc(kind['measure'])} "
        f"{kind_value_text(kind)}"
        f"{', proven optimal' if kind.get('proven_optimal') else ''}. "
        "The model file's costs are not used: the cost columns of the tables hold this measure, not money, "
        "and the model assumptions below show the costs as the solved instance holds them, in this measure.</p>"
    )


def _cost_section(summary: dict) -> str:
    currency = summary.get("currency") or ""
    costs = {k: (v or 0.0) for k, v in (summary.get("costs") or {}).items()}
    total = sum(costs.values())
    gross = sum(v for v in costs.values() if v > 0)  # with revenue (a negative part) shares are of the cost before it
    base, share_label = (total, "share") if gross == total else (gross, "share of cost before revenue")
    rows = [[esc(COST_PART_LABELS.get(k, k)), num(v), pct(v / base if base else None)] for k, v in costs.items()]
    rows.append(["<strong>total</strong>", f"<strong>{num(total)}</strong>", pct(total / base if base else None)])
    table = html_table(["part", f"{currency}/yr", share_label], rows)
    if not costs:
        return f"<h2>Cost breakdown</h2>{table}"
    chart = img_tag(cost_chart(costs, currency))
    return f'<h2>Cost breakdown</h2><div class="pair"><div>{table}</div><div>{chart}</div></div>'


@plain_text
def cost_chart(costs: dict[str, float | None], currency: str):
    """The cost parts (currency/yr) as horizontal bars, the axis in k or M of the currency; a missing or
    non-finite part is drawn as 0, a negative part (revenue) as a green bar to the left of a line at 0."""
    fig, ax = new_figure(7, 0.45 * len(costs) + 0.8)
    labels = [COST_PART_LABELS.get(k, str(k)) for k in costs]
    values = bar_values(list(costs.values()))
    colours = [SERVED_COLOUR if value < 0 else COST_COLOUR for value in values]
    ax.barh(labels[::-1], values[::-1], color=colours[::-1])
    if (values < 0).any():
        ax.axvline(0.0, color="black", linewidth=0.8)
    from_zero(ax, "x", values)
    readable_axis(ax, "x", f"{currency}/yr")
    ax.grid(axis="x", alpha=0.3)
    return fig


def inbound_by_material(run: Run) -> pd.DataFrame | None:
    """Per material (index, in the model's order): ``used`` and ``available`` suppliers, ``quantity``
    shipped (units/yr), ``material_cost``, ``transport_cost``, ``relationship_cost``, ``carbon_cost``
    (currency/yr), ``mean_km`` (quantity-weighted inbound distance; NaN when nothing is shipped) and
    ``co2_t`` (t CO2/yr); None without suppliers."""
    supply, inbound = run.problem.supply, run.tables.inbound
    if supply is None or inbound is None:
        return None
    materials = list(supply.material_ids)
    money = ["material_cost", "transport_cost", "relationship_cost", "carbon_cost"]
    frame = inbound.groupby("material")[["quantity", *money, "co2_t"]].sum().reindex(materials, fill_value=0.0)
    shipping = inbound[inbound["quantity"] > 0]
    frame["used"] = shipping.groupby("material")["supplier_id"].nunique().reindex(materials, fill_value=0)
    frame["available"] = np.bincount(supply.supplier_material, minlength=len(materials))
    km = (inbound["distance_km"] * inbound["quantity"]).groupby(inbound["material"]).sum().reindex(materials)
    frame["mean_km"] = (km.fillna(0.0) / frame["quantity"].where(frame["quantity"] > 0)).to_numpy()
    return frame[["used", "available", "quantity", *money, "mean_km", "co2_t"]]


def _supply_section(run: Run, summary: dict) -> str:
    """The inbound supply per material and how much of the total cost it is (empty without suppliers)."""
    frame = inbound_by_material(run)
    if frame is None:
        return ""
    currency = run.problem.currency
    rows = [_supply_row(esc(material), figures) for material, figures in frame.iterrows()]
    shipped = run.tables.inbound.loc[run.tables.inbound["quantity"] > 0, "supplier_id"].nunique()
    rows.append(_all_materials_row(frame, shipped))
    header = ["material", "suppliers used / available", "shipped (units/yr)", f"purchase ({currency}/yr)",
              f"transport ({currency}/yr)", f"relationships ({currency}/yr)", f"carbon ({currency}/yr)",
              "mean inbound distance (km)", "CO2 (t/yr)"]
    return "<h2>Inbound supply</h2>" + _supply_sentence(summary, currency) + html_table(header, rows)


def _all_materials_row(frame: pd.DataFrame, shipped: int) -> list[str]:
    """The total row of :func:`inbound_by_material`'s ``frame`` (``shipped``: suppliers that ship): of several
    materials no quantity and no mean distance, whose units differ (t of steel + kg of glass + pieces had
    been added, and the distance weighted by that sum)."""
    total = frame.sum()
    total["used"] = shipped
    weighted = (frame["mean_km"].fillna(0.0) * frame["quantity"]).sum()
    total["mean_km"] = weighted / total["quantity"] if total["quantity"] > 0 else np.nan
    row = _supply_row("<strong>all materials</strong>", total)
    if len(frame) > 1:
        row[2] = row[7] = "– (units differ)"
    return row


def _supply_row(label: str, figures: pd.Series) -> list[str]:
    return [label, f"{num(int(figures['used']))} / {num(int(figures['available']))}", num(figures["quantity"]),
            num(figures["material_cost"]), num(figures["transport_cost"]), num(figures["relationship_cost"]),
            num(figures["carbon_cost"]), num(figures["mean_km"], 1), num(figures["co2_t"], 2)]


def _supply_sentence(summary: dict, currency: str) -> str:
    """Inbound's cost and its share of the total cost (before revenue, where there is revenue)."""
    costs = {k: (v or 0.0) for k, v in (summary.get("costs") or {}).items()}
    inbound = costs.get("inbound", 0.0) + costs.get("inbound_carbon", 0.0)
    total = sum(v for k, v in costs.items() if k != "revenue")
    before = " before revenue" if "revenue" in costs else ""
    return (f"<p>Inbound supply (materials bought, their transport, supply relationships and the carbon of "
            f"inbound transport) costs {num(inbound, 0, f'{currency}/yr')}: {pct(inbound / total if total else None)} "
            f"of the total cost{before} of {num(total, 0, f'{currency}/yr')}. Mean inbound distance: "
            "weighted by the quantity shipped.</p>")


def _map_section(run: Run, regions, sites, flows, title: str, map_png: Path | None) -> str:
    if map_png is not None and Path(map_png).is_file():
        image = Path(map_png).read_bytes()
    else:
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "map.png"
            draw_map(regions, sites, flows, run.problem.type_ids, title, target,
                     suppliers=supplier_layer(run), inbound=inbound_layer(run))
            image = target.read_bytes()
    return "<h2>Map</h2>" + img_tag(image, "map of the network", css_class="map")


def _facility_section(run: Run, summary: dict) -> str:
    sites = run.tables.sites.sort_values(["facility_type", "production"], ascending=[True, False])
    named = "site_name" in sites
    rows = [
        [
            esc(s.site_id), *([esc(s.site_name)] if named else []), esc(s.facility_type), num(s.modules),
            num(s.capacity) if np.isfinite(s.capacity) else "unlimited",
            num(s.production), pct(s.utilization), num(s.fixed_cost), num(s.lon, 4), num(s.lat, 4),
        ]
        for s in sites.itertuples(index=False)
    ]
    fixed_unit = measure_unit("currency/yr", run.problem.objective_kind, run.problem.currency)
    header = ["site", *(["name"] if named else []), "type", "modules", "capacity (units/yr)", "production (units/yr)",
              "utilisation",
              f"fixed cost ({fixed_unit})", "lon", "lat"]
    if not rows:
        note = empty_network_note(summary)
        return f"<h2>Facilities</h2><p>No facility is open.{f' {esc(note)}.' if note else ''}</p>"
    return f"<h2>Facilities ({len(rows)} open)</h2>" + html_table(header, rows, text=(0, 1, 2) if named else (0, 1))


def _demand_section(summary: dict) -> str:
    demand = summary.get("demand") or {}
    rows = []
    for product, figures in demand.items():
        total, served, unmet = (figures.get(k) or 0.0 for k in ("demand", "served", "unmet"))
        rows.append([esc(product), num(total), num(served), num(unmet), pct(unmet / total if total else None)])
    if not rows:
        return "<h2>Demand and unmet demand by product</h2><p>No demand.</p>"
    table = html_table(["product", "demand (units/yr)", "served", "unmet", "unmet share"], rows)
    chart = img_tag(demand_chart(demand))
    return f'<h2>Demand and unmet demand by product</h2><div class="pair"><div>{table}</div><div>{chart}</div></div>'


def _service_section(summary: dict) -> str:
    """The service levels with their achieved shares, and the coverage curve of every product."""
    service = summary.get("service") or {}
    curves = service.get("coverage_curve") or {}
    if not curves:
        return ""
    levels = service.get("levels") or []
    rows = [[esc(level["product"]), pct(level["required_share"]), _limit_text(level), pct(level["achieved_share"]),
             "met" if level["achieved_share"] >= level["required_share"] - 1e-9 else "NOT met"] for level in levels]
    table = (html_table(["product", "required share", "within", "achieved share", ""], rows, text=(0, 2, 4))
             if rows else "<p>No service level is set; the curve shows the share of demand served within each "
             "distance.</p>")
    if any(level.get("within_minutes") is not None for level in levels):  # a level of 240 min beside a km curve
        table += ("<p>The curve is by road km: a level in minutes is not marked on it (its achieved share is in the "
                  "table).</p>")
    farthest = max((point[0] for points in curves.values() for point in points), default=0.0)
    chart = img_tag(coverage_chart(curves, levels), alt="coverage curve") if farthest > 0 else _no_curve_text(curves)
    return f'<h2>Service level and coverage curve</h2><div class="pair"><div>{table}</div><div>{chart}</div></div>'


def _no_curve_text(curves: dict[str, list]) -> str:
    """In place of a curve of one point (every delivery 0 km, or none): what is served at 0 km, per product."""
    shares = ", ".join(f"{esc(product)} {pct(points[-1][1] if points else 0.0)}" for product, points in curves.items())
    return (f"<p>No curve to draw: every delivery is 0 km (a site in the region it serves), or nothing is served. "
            f"Share of demand served at 0 km: {shares}.</p>")


def _limit_text(level: dict) -> str:
    parts = [f"{level['within_km']:g} km" if level.get("within_km") is not None else "",
             f"{level['within_minutes']:g} min" if level.get("within_minutes") is not None else ""]
    return esc(" and ".join(part for part in parts if part))


@plain_text
def coverage_chart(curves: dict[str, list], levels: list[dict]):
    """Share of each product's demand served within d (km), with each service level's target as a point."""
    fig, ax = new_figure(7, 3.2)
    for product, points in curves.items():
        km, share = np.asarray(points, dtype=float).T if points else (np.zeros(0), np.zeros(0))
        ax.plot(km, 100 * share, marker="o" if len(km) == 1 else None, label=str(product))  # one point: 0 km
    for level in levels:
        if level.get("within_km") is not None:
            ax.plot([level["within_km"]], [100 * level["required_share"]], "kx", markersize=8)
    ax.set_ylim(0, 101)
    readable_axis(ax, "x", "km", "delivery distance d")
    ax.set_ylabel("% of demand served within d")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return fig


@plain_text
def demand_chart(demand: dict[str, dict]):
    """Served and unmet demand (units/yr) per product as stacked horizontal bars."""
    fig, ax = new_figure(7, 0.5 * len(demand) + 0.9)
    products = [str(p) for p in demand]
    served = bar_values([figures.get("served") for figures in demand.values()])
    unmet = bar_values([figures.get("unmet") for figures in demand.values()])
    ax.barh(products, served, color=SERVED_COLOUR, label="served")
    stacked(ax.barh(products, unmet, left=served, color=UNMET_COLOUR, label="unmet"), "x")
    from_zero(ax, "x", served + unmet)
    readable_axis(ax, "x", "units/yr")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)  # beside: not over a bar
    ax.grid(axis="x", alpha=0.3)
    return fig


def _cost_to_serve_section(regions: gpd.GeoDataFrame, currency: str) -> str:
    heading = f"<h2>Cost to serve ({esc(currency)}/unit, per region)</h2>"
    if "cost_to_serve" not in regions or "demand" not in regions:
        return heading + "<p>Not available.</p>"
    demand = pd.to_numeric(regions["demand"], errors="coerce").to_numpy(dtype=float)
    cost = pd.to_numeric(regions["cost_to_serve"], errors="coerce").to_numpy(dtype=float)
    with_demand = np.isfinite(demand) & (demand > 0)
    if not with_demand.any():
        return heading + "<p>No region has demand.</p>"
    shown = with_demand & np.isfinite(cost)
    if not shown.any():
        return heading + "<p>No region with demand has a finite cost to serve.</p>"
    cost, weights = cost[shown], demand[shown]
    quantiles = np.quantile(cost, [0.0, 0.5, 0.9, 1.0])
    rows = [
        ["regions with demand", num(len(cost))],
        ["minimum", num(quantiles[0], 2)],
        ["median", num(quantiles[1], 2)],
        ["90th percentile", num(quantiles[2], 2)],
        ["maximum", num(quantiles[3], 2)],
        ["demand-weighted mean", num(float(np.average(cost, weights=weights)), 2)],
    ]
    table = html_table(["statistic", "value"], rows)
    chart = img_tag(cost_to_serve_chart(cost, currency))
    return heading + f'<div class="pair"><div>{table}</div><div>{chart}</div></div>'


@plain_text
def cost_to_serve_chart(cost, currency: str):
    """A histogram of the regions' cost to serve (currency/unit); one bar when all are (almost) equal, an
    empty chart when none is finite."""
    fig, ax = new_figure(7, 3)
    histogram(ax, cost, HISTOGRAM_BINS, color="#4c72b0")
    readable_axis(ax, "x", f"{currency}/unit",
                  "cost to serve: flows less revenue, fixed and supply costs, unmet penalty, per unit of demand")
    readable_axis(ax, "y", "", "regions", integer=True)
    ax.grid(axis="y", alpha=0.3)
    return fig


def _unmet_regions_section(run: Run, regions: gpd.GeoDataFrame) -> str:
    """The regions and products with the most unmet demand, one row per (region, product): the regions'
    totals over products had read as 9 % of Chicago unserved where all its custom demand was."""
    heading = "<h2>Regions with the most unmet demand</h2>"
    pairs = run.tables.regions
    if "unmet" not in pairs:
        return heading + "<p>Not available.</p>"
    unmet = pairs[pd.to_numeric(pairs["unmet"], errors="coerce").fillna(0) > 0]
    if unmet.empty:
        return heading + "<p>All demand is served.</p>"
    top = unmet.sort_values("unmet", ascending=False, kind="stable").head(TOP_UNMET_REGIONS)
    named = "region_name" in regions and "region_id" in regions  # without names, no column repeating the ids
    names = (regions.drop_duplicates("region_id").set_index("region_id")["region_name"].reindex(top["region_id"])
             if named else top["region_id"])
    rows = [
        [esc(rid), *([esc(name)] if named else []), esc(product), num(d), num(u), pct(u / d if d > 0 else float("nan"))]
        for rid, name, product, d, u in zip(top["region_id"], names, top["product"], top["demand"], top["unmet"],
                                            strict=True)
    ]
    regions_short = unmet["region_id"].nunique()
    note = (f"<p>{regions_short:,} regions have unmet demand ({len(unmet):,} region and product pairs); the "
            f"{len(top)} largest, by product:</p>")
    header = ["region", *(["name"] if named else []), "product", "demand (units/yr)", "unmet (units/yr)",
              "unmet share of the region's demand for it"]
    return heading + note + html_table(header, rows, text=(0, 1, 2) if named else (0, 1))


def _assumption_section(run: Run) -> str:
    note = (
        "<p>As the solved instance holds them. Ranges span the candidate sites (cost multipliers; existing "
        "sites have no opening cost or capex). Delivery radii per facility type show as the longest arc.</p>"
    )
    return (
        "<h2>Model assumptions</h2>" + note + "<h3>Products</h3>" + _product_table(run.problem)
        + "<h3>Facility types</h3>" + _type_table(run.problem)
        + "<h3>Network and instance size</h3>" + _network_table(run.problem)
    )


def _product_table(problem: Problem) -> str:
    """Per product: demand, unmet penalty, delivery radius, arcs and the types that have arcs for it."""
    type_names = np.asarray(problem.type_ids, dtype=object)
    arc_type = problem.option_type[problem.arc_option]
    rows = []
    for p, product in enumerate(problem.product_ids):
        on_p = problem.arc_product == p
        makers = ", ".join(esc(t) for t in type_names[np.unique(arc_type[on_p])])
        penalty = problem.unmet_penalty[p]
        radius = problem.max_distance_km[p]
        if problem.objective_kind == "max_covering":  # its "penalty" is 1 per uncovered unit: the measure, not money
            penalty_text = "uncovered demand counted"
        else:
            penalty_text = num(penalty, 2) if math.isfinite(penalty) else "must be served"
        rows.append([
            esc(product), num(float(problem.demand[:, p].sum())), penalty_text,
            num(radius, 0) if math.isfinite(radius) else "none", num(int(on_p.sum())), makers or "–",
        ])
    per_unit = measure_unit("currency/unit", problem.objective_kind, problem.currency)
    header = ["product", "demand (units/yr)", f"unmet penalty ({per_unit})", "delivery radius (km)",
              "arcs", "made by (types with arcs)"]
    return html_table(header, rows, text=(0, 5))


def _type_table(problem: Problem) -> str:
    """Per facility type: its candidate sites' ranges of costs, capacities and modules, and its products."""
    currency, per_year = problem.currency, measure_unit("currency/yr", problem.objective_kind, problem.currency)
    rows = [_type_row(problem, k, type_id) for k, type_id in enumerate(problem.type_ids)]
    header = ["type", "candidate sites", "forced/existing", f"opening ({per_year})", f"per module ({per_year})",
              "module capacity (units/yr)", "modules", f"capex ({currency})", f"capex per module ({currency})",
              "open count", "products: production cost, longest arc"]
    return html_table(header, rows, text=(0, 10))


def _type_row(problem: Problem, k: int, type_id: str) -> list[str]:
    def money(value: float) -> str:
        return num(value, 0)

    def limit(value: float) -> str:
        return "unlimited" if not math.isfinite(value) else num(value, 0)

    options = np.flatnonzero(problem.option_type == k)
    arc_type = problem.option_type[problem.arc_option]
    made, per_unit = [], measure_unit("currency/unit", problem.objective_kind, problem.currency)
    for p, product in enumerate(problem.product_ids):
        arcs = (arc_type == k) & (problem.arc_product == p)
        if arcs.any():
            cost = _span(problem.arc_production_cost[arcs], lambda v: num(v, 2))
            longest = num(float(problem.arc_distance_km[arcs].max()), 0)
            made.append(f"{esc(product)}: {cost} {esc(per_unit)}, arcs up to {longest} km")
    max_count = int(problem.type_max_count[k])
    return [
        esc(type_id), num(len(options)), num(int(problem.forced[options].sum())),
        _span(problem.opening_cost[options], money), _span(problem.module_cost[options], money),
        _span(problem.module_capacity[options], limit),
        _span(np.concatenate([problem.min_modules[options], problem.max_modules[options]]), lambda v: num(v)),
        _span(problem.capex[options], money), _span(problem.capex_per_module[options], money),
        f"{num(int(problem.type_min_count[k]))}–{'no limit' if max_count >= len(options) else num(max_count)}",
        "<br>".join(made) or "no arcs",
    ]


def _network_table(problem: Problem) -> str:
    currency = problem.currency
    rows = [
        ["currency", esc(currency)],
        ["carbon price", num(problem.carbon_price, 2, f"{currency}/t CO2")],
        ["single sourcing", "yes" if problem.single_sourcing else "no"],
        ["capex budget", num(problem.capex_budget, 0, currency) if math.isfinite(problem.capex_budget) else "none"],
        ["CO2 cap", num(problem.co2_cap_t, 2, "t CO2/yr") if math.isfinite(problem.co2_cap_t) else "none"],
        *([["most unmet (the pareto point's service floor)", floor]] if (floor := _unmet_limits(problem)) else []),
        ["open facilities", f"{num(problem.min_facilities)}–"
                            f"{'no limit' if problem.max_facilities is None else num(problem.max_facilities)}"],
        *[[esc(name), num(value)] for name, value in problem.summary().items()],
    ]
    return html_table(["item", "value"], rows, text=(0, 1))


def _unmet_limits(problem: Problem) -> str:
    """"standard 73,576 units/yr, custom 10,870 units/yr": the most each product may leave unmet (a pareto
    point's floor), or "" where none is limited."""
    limits = np.full(len(problem.product_ids), np.inf) if problem.max_unmet is None else problem.max_unmet
    given = [f"{esc(p)} {num(limit, 0, 'units/yr')}" for p, limit in zip(problem.product_ids, limits, strict=True)
             if math.isfinite(limit)]
    return ", ".join(given)


def measured_text(objective: float | None, currency: str, kind: dict | None) -> str:
    """What a title states of the answer: 'cost X CUR/yr', or a classic kind's measure and value (its
    ``objective_kind`` block: the objective is then no money)."""
    if not kind:
        return f"cost {'n/a' if objective is None else amount_text(objective)} {currency}/yr"
    return f"{kind['kind']}: {kind['measure']} {kind_value_text(kind)}"


def report_title(name: str, summary: dict, measured: str) -> str:
    """'NAME: STATUS, MEASURED, gap G'; with a study (its status, the objective its network evaluated), each
    gap beside its own figure."""
    status = summary.get("status")
    if "evaluation_status" not in summary:
        return f"{name}: {status}, {measured}, gap {gap_text(summary.get('mip_gap'), 2)}"
    study = f"{name}: {status} (the study's gap {gap_text(_study_block(summary).get('mip_gap'), 2)})"
    if summary["evaluation_status"] is None:  # a slice of the study's solution (a rollout's period)
        return f"{study}; its network: {measured}"
    return f"{study}; its network evaluated: {measured}, gap {gap_text(summary.get('evaluation_mip_gap'), 2)}"


def _study_block(summary: dict) -> dict:
    """The block of the study (``--scenarios`` or ``--periods``) whose network the tables evaluate."""
    return summary.get("stochastic") or summary.get("rollout") or {}


def _objective_rows(summary: dict, digits: int, unit: str) -> list[list[str]]:
    """Objective, bound and gap; with a study (``--scenarios``, ``--periods``) those of the study and of
    its network evaluated, each beside its own (the top-level gap is the study's where its status is the
    weaker, beside the evaluation's objective)."""
    if "evaluation_status" not in summary:
        return [["objective", num(summary.get("objective"), digits, unit)],
                ["best bound", num(summary.get("best_bound"), digits, unit)],
                ["gap", gap_pct(summary.get("mip_gap"))]]
    study = _study_block(summary)
    study_unit = _study_unit(study, unit, summary.get("currency") or "")
    rows = [["the study's objective", num(study.get("objective"), digits, study_unit)],
            ["the study's best bound", num(study.get("best_bound"), digits, study_unit)],
            ["the study's gap", gap_pct(study.get("mip_gap"))]]
    if summary["evaluation_status"] is None:  # a slice of the study's solution (a rollout's period)
        return rows + [["its network (part of the study's solution): cost", num(summary.get("objective"), digits,
                                                                                 unit)]]
    return rows + [["its network evaluated: objective", num(summary.get("objective"), digits, unit)],
                   ["its network evaluated: best bound", num(summary.get("evaluation_best_bound"), digits, unit)],
                   ["its network evaluated: gap", gap_pct(summary.get("evaluation_mip_gap"))]]


def _study_unit(study: dict, unit: str, currency: str) -> str:
    """The unit of a study's objective: its block's own where it has one (``--periods``: a present value
    over the periods, in the currency, not per year), else ``unit``."""
    text = (study.get("units") or {}).get("objective")
    if not text:
        return unit
    head = text.split(":")[0].replace("currency", currency)
    return f"{head} (present value)" if "present value" in text else head


def _solver_rows(summary: dict, solver: dict) -> list[list[str]]:
    """HiGHS's nodes and time; with ``--scenarios`` those of the network's evaluation, said so (the report had
    read "solve time 0.01 s" for a study whose solves took seconds: they are in the phases below)."""
    whose = " of the network's evaluation" if summary.get("evaluation_status") is not None else ""
    return [[f"branch-and-bound nodes{whose}", num(solver.get("nodes"))],
            [f"solve time{whose}", num(solver.get("solve_s"), 2, "s")]]


def _solver_section(summary: dict) -> str:
    currency = summary.get("currency") or ""
    objective_unit = ((summary.get("units") or {}).get("objective") or "currency/yr").replace("currency", currency)
    digits = 0 if objective_unit == "facilities" else 2  # set_covering counts sites: no decimals
    solver = summary.get("solver") or {}
    rows = [
        ["status", f"<strong>{esc(summary.get('status'))}</strong>"],
        *([["status of the network's evaluation (network fixed)", esc(summary["evaluation_status"])]]
          if summary.get("evaluation_status") is not None else []),
        ["termination", esc(summary.get("termination"))],
        *_objective_rows(summary, digits, objective_unit),
        ["gap tolerance", pct(summary.get("mip_gap_tolerance"), 3)],
        ["solver", esc(solver.get("name"))],
        *_solver_rows(summary, solver),
    ]
    timing = summary.get("timing") or {}
    timing_rows = [[esc(name), num(seconds, 2)] for name, seconds in timing.items()]
    audit = summary.get("audit") or {}
    passed = audit.get("passed")
    verdict = "passed" if passed else "FAILED" if passed is not None else "n/a"
    audit_rows = [
        ["result", f'<strong class="{"ok" if passed else "bad"}">{verdict}</strong>'],
        ["failed checks", esc(", ".join(audit.get("failures") or [])) or "none"],
        ["max violation", _sci(audit.get("max_violation"))],
        ["objective recomputed", num(audit.get("objective_recomputed"), digits, objective_unit)],
        ["objective reported", num(audit.get("objective_reported"), digits, objective_unit)],
        ["relative difference", _sci(audit.get("objective_relative_difference"))],
    ]
    violation_rows = [[esc(name), _sci(value)] for name, value in (audit.get("violations") or {}).items()]
    return (
        "<h2>Solver</h2>" + '<div class="pair"><div>' + html_table(["item", "value"], rows) + "</div><div>"
        + html_table(["phase", "seconds"], timing_rows) + "</div></div>"
        + "<h2>Independent audit</h2><p>Recomputed from the result tables and the input data, independently of "
        "the solver.</p>" + '<div class="pair"><div>' + html_table(["item", "value"], audit_rows) + "</div><div>"
        + html_table(["check", "violation"], violation_rows) + "</div></div>"
    )


def _sci(value: Any) -> str:
    if value is None or not _is_number(value):
        return "n/a"
    return esc(f"{value:.2g}")


def _warnings_section(summary: dict) -> str:
    warnings = summary.get("warnings") or []
    if not warnings:
        return ""
    return "<h2>Warnings</h2><ul>" + "".join(f"<li>{esc(w)}</li>" for w in warnings) + "</ul>"


def _inputs_section(summary: dict) -> str:
    inputs = summary.get("inputs") or {}
    rows = [[esc(key.replace("_", " ")), esc(_input_text(value))] for key, value in inputs.items()
            if _input_text(value)]
    rows.append(["planner version", esc(summary.get("planner_version"))])
    return "<h2>Inputs</h2>" + html_table(["input", "value"], rows, text=(0, 1))


def _input_text(value) -> str:
    """An input as read: a table of options as 'key: value' pairs of those given (a Python dict had been
    shown, "{'layer': None, ...}"), a list comma-separated; '' when nothing is given."""
    if isinstance(value, dict):
        return "; ".join(f"{key.replace('_', ' ')}: {_input_text(item)}" for key, item in value.items()
                         if _input_text(item))
    if isinstance(value, list | tuple):
        return ", ".join(_input_text(item) for item in value if _input_text(item))
    if isinstance(value, float) and not isinstance(value, bool):
        return f"{value:.10g}"  # a pareto point's CO2 cap had read 0.003415182526927368
    return "" if value is None else str(value)


STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1200px; padding: 0 16px; color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; }
.status { color: #555; margin-top: 0; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; }
.kpi { border: 1px solid #ddd; border-radius: 6px; padding: 10px 14px; min-width: 180px; flex: 1; }
.kpi-label { font-size: 12px; color: #666; text-transform: uppercase; letter-spacing: 0.04em; }
.kpi-value { font-size: 20px; font-weight: 600; margin: 4px 0; }
.kpi-note { font-size: 12px; color: #666; }
.pair { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border-bottom: 1px solid #eee; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f6f6f6; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; }
img.map { border: 1px solid #ddd; }
.ok { color: #2ca02c; }
.bad { color: #d62728; }
.table-box { max-width: 100%; overflow-x: auto; }
h1, p, li, .kpi-note { overflow-wrap: anywhere; }  /* a long id without spaces in a warning had widened the page */
.pair > div { min-width: 0; max-width: 100%; }
@media print {
  body { max-width: none; margin: 0; }
  h2 { break-before: auto; break-after: avoid; }
  .table-box { overflow: visible; }
  img { break-inside: avoid; }
  table { font-size: 11px; }
}
"""


def report_html(
    run: Run,
    regions: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    flows: gpd.GeoDataFrame,
    summary: dict,
    map_png: Path | None = None,
    extra_sections: tuple[str, ...] = (),
) -> str:
    """The page as a string; see :func:`write_report`."""
    problem = run.problem
    kind = summary.get("objective_kind")
    title = report_title(problem.name, summary, measured_text(summary.get("objective"), problem.currency, kind))
    sections = [
        _kpis(run, summary),
        *extra_sections,
        _cost_section(summary) if not kind else _kind_section(kind),
        _supply_section(run, summary),
        _map_section(run, regions, sites, flows, title, map_png),
        _facility_section(run, summary),
        _demand_section(summary),
        _service_section(summary),
        _cost_to_serve_section(regions, problem.currency) if not kind else "",
        _unmet_regions_section(run, regions),
        _assumption_section(run),
        _solver_section(summary),
        _warnings_section(summary),
        _inputs_section(summary),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(problem.name)}: network plan</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{esc(problem.name)}: network plan</h1>\n"
        f'<p class="status">{esc(title)}</p>\n' + "\n".join(sections) + "\n</body>\n</html>\n"
    )


def write_report(
    run: Run,
    regions: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    flows: gpd.GeoDataFrame,
    summary: dict,
    path: Path,
    map_png: Path | None = None,
    extra_sections: tuple[str, ...] = (),
) -> None:
    """Write ``report.html`` to ``path``: one self-contained file, charts as embedded PNGs.

    ``regions``, ``sites`` and ``flows`` are the layers of :mod:`planner.export.layers`; ``summary``
    is :func:`planner.export.summary.build_summary`'s dictionary. ``map_png`` embeds an existing
    ``map.png`` instead of drawing the static map again. ``extra_sections`` (HTML) follow the key figures.
    """
    page = report_html(run, regions, sites, flows, summary, map_png=map_png, extra_sections=extra_sections)
    Path(path).write_text(page, encoding="utf-8")
    logger.info("wrote %s (%.0f kB)", Path(path).name, len(page.encode("utf-8")) / 1000)
