"""``planner compare`` outputs: compare.csv, compare_regions.csv, sweep.csv, the where-microfactories-win
map, the breakeven chart and a self-contained compare.html (charts embedded, strings escaped)."""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import math
from pathlib import Path

import numpy as np

from planner.errors import shows_few_digits, significant_text
from planner.export.charts import img_tag, new_figure, plain_text, png_bytes, readable_axis
from planner.export.compare_maps import draw_network_maps, variant_title
from planner.export.folder import staged_folder
from planner.export.layers import region_layer
from planner.export.static_map import padded_view, regions_for_map
from planner.export.stochastic_output import stochastic_output
from planner.export.summary import clean_for_json
from planner.export.workbook import WORKBOOK, write_compare_workbook
from planner.inputs.config import key_unit
from planner.model.arrays import share_text
from planner.pipeline import with_region_names
from planner.results import region_names
from planner.solver.outcome import gap_text
from planner.studies.compare import Comparison

logger = logging.getLogger(__name__)

PNG_DPI = 110


def _currency(comparison: Comparison) -> str:
    plan = next(iter(comparison.plans.values()), None)
    return plan.run.problem.currency if plan is not None else "currency"


@plain_text
def where_micro_wins_figure(comparison: Comparison):
    """Choropleth of the micro advantage (currency/unit): blue where serving locally is cheaper; regions
    without a finite advantage in grey (no colour bar when none has one)."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    central = comparison.plans["central_only"]
    regions = region_layer(central.run, central.inputs)[["region_id", "geometry"]]
    regions = regions.merge(comparison.regions, on="region_id", how="left")
    _, projected = regions_for_map(regions)
    advantage = projected["micro_advantage"].to_numpy(dtype=float)
    known = np.isfinite(advantage)
    limit = float(np.percentile(np.abs(advantage[known]), 95)) if known.any() else 1.0
    limit = limit if limit > 0 else 1.0
    fig, ax = new_figure(11, 7)
    points = projected.geom_type.isin(["Point", "MultiPoint"]).to_numpy()
    # points near 0 are white: a grey outline keeps them on the white page; polygons keep white borders
    style = {"edgecolor": "#888888", "linewidth": 0.4, "markersize": 24} if points.any() else \
        {"edgecolor": "white", "linewidth": 0.1}
    if not known.all():
        projected[~known].plot(ax=ax, color="#eeeeee", **style)
    if known.any():
        projected[known].plot(ax=ax, column="micro_advantage", cmap="RdBu", vmin=-limit, vmax=limit, **style)
        beyond = {"min": advantage[known].min() < -limit, "max": advantage[known].max() > limit}  # past the scale
        extend = "both" if all(beyond.values()) else next((end for end, past in beyond.items() if past), "neither")
        bar = fig.colorbar(ScalarMappable(Normalize(vmin=-limit, vmax=limit), cmap="RdBu"), ax=ax, shrink=0.6,
                           extend=extend)  # arrows: regions past the 95th percentile are drawn at its colour
        readable_axis(bar.ax, "y", f"{_currency(comparison)}/unit", "cost to serve, central-only − micro-only")
    _pad_to_data(ax, projected.total_bounds)
    ax.set_title("Where microfactories win (blue: serving locally is cheaper)")
    ax.set_axis_off()
    return fig


def _pad_to_data(ax, bounds) -> None:
    """Axis limits around ``bounds`` (xmin, ymin, xmax, ymax, metres) with the static map's margin
    (:func:`~planner.export.static_map.padded_view`): the points at the edge of the data had been cut in
    half by the frame."""
    if not np.isfinite(bounds).all():
        return
    xmin, ymin, xmax, ymax = padded_view(tuple(float(value) for value in bounds), 0.04)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)


def draw_where_micro_wins(comparison: Comparison) -> bytes:
    """where_micro_wins.png as bytes."""
    return png_bytes(where_micro_wins_figure(comparison), dpi=PNG_DPI)


@plain_text
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
    readable_axis(bottom, "x", key_unit(str(key), _currency(comparison)), str(key))
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
INFEASIBLE_NAMES = {"central_only": "central-only network", "micro_only": "micro-only network",
                    "hybrid": "hybrid network"}
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
    if unit == "fraction":  # strictly between 0 and 1 never 0.00 % or 100.00 %: 99.999 % served had read 100.00 %
        return share_text(value, 2).replace("%", " %")
    if unit == "km":  # as the service table beside it (62.6298 km had stood next to 187)
        return figure_text(value)
    if value.is_integer() or abs(value) >= 100:
        return f"{value:,.0f}".replace("-", "−")
    shown = f"{value:,.4f}".rstrip("0").rstrip(".")
    if float(shown) == 0 and value != 0:  # 1e-05 had read 0
        shown = significant_text(value)
    return _minus(shown)


def _minus(shown: str) -> str:
    """A figure's text with a typographic minus, and none for a value shown as zero ('−0')."""
    if float(shown.replace(",", "")) == 0:
        return shown.lstrip("-")
    return "−" + shown[1:] if shown.startswith("-") else shown


MONEY_PREFIXES = ((1e9, "bn"), (1e6, "M"))  # money_range: a figure from this divisor on is shown in its multiple
NOISE = 1e-6  # currency/yr: a cost difference this small is the solver's rounding, not a figure


def money_range(low: float, high: float, currency: str) -> str:
    """``18.2–23.1 M USD/yr`` (billions from 1 bn on: 35,541,402.5 M KRW had filled a line; millions from 1 M on,
    else whole units, and four significant digits below 100: a
    saving of 1.774 kEUR/yr had read 2, and one of 0.0018 read 0; "to" when an end is negative). An end within
    ``NOISE`` of 0 is the solver's rounding (a difference of −1.5e-8 between equal networks) and reads 0."""
    low, high = (0.0 if abs(value) < NOISE else value for value in (low, high))
    largest = max(abs(low), abs(high))
    scale, suffix, digits = next(((divisor, f" {prefix}", 1) for divisor, prefix in MONEY_PREFIXES
                                  if largest >= divisor), (1.0, "", 0))

    def text(value: float) -> str:
        shown = f"{value / scale:,.{digits}f}" if largest >= 100 else significant_text(value)
        return _minus(shown)

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
    the winner is not decided at these gaps; then the networks that no variant could build."""
    if not decision or decision.get("winner") is None or not decision["savings"]:
        return "Only one network was solved; there is nothing to compare it with."
    named = decision.get("network") or decision["winner"]  # a hybrid that is a micro-only network is named so
    winner = _network_name(named, decision.get("facilities"))
    parts, lost = [], []
    for saving in decision["savings"]:
        against = AGAINST_NAMES.get(saving["against"], f"network '{saving['against']}'")
        if saving["against"] == named:  # the network the winner is named after: itself
            continue
        if saving.get("infeasible"):
            lost.append(INFEASIBLE_NAMES.get(saving["against"], f"network of variant '{saving['against']}'"))
        elif saving.get("same_network") and not saving.get("tie") and (saving["at_least"] or 0.0) > 0:
            # the same sites and types at a proven other cost: another model's costs or demand
            parts.append(f"{money_range(saving['at_least'], saving['at_most'], currency)} cheaper than {against} "
                         "(proven) with the same sites and types (the models' costs or demand differ)")
        elif saving.get("same_network"):
            parts.append(f"the same network as {against} (the same sites and types)")
        elif saving.get("tie"):
            parts.append(f"the same cost as {against} (proven)")
        elif saving["at_least"] is None:
            parts.append(f"cheaper than {against} at the solutions found (no bound, so not proven)")
        else:
            proven = " (proven)" if not parts else ""
            parts.append(f"{money_range(saving['at_least'], saving['at_most'], currency)} cheaper than {against}"
                         f"{proven}")
        if saving.get("builds_nothing") and parts:  # a saving over "the best central-only network" of no plant
            parts[-1] += ", which builds nothing: no facility of its kind pays off"
    no_such = f"no {' and no '.join(lost)} meets the model (see the note in compare.csv)" if lost else ""
    facilities = decision.get("facilities")
    if decision["decided"] and facilities is not None and not any(facilities.values()):
        return ("No network pays off: the cheapest plan opens no facility and leaves all demand unmet."
                + (f" {no_such[0].upper()}{no_such[1:]}." if lost else ""))
    if decision["decided"]:
        if not parts:
            return f"{winner} wins: {no_such}."
        return f"{winner} wins: " + ", ".join(parts) + "." + (f" {no_such[0].upper()}{no_such[1:]}." if lost else "")
    return (
        f"Not decided at this gap: the {winner[0].lower() + winner[1:]} has the lowest cost found, but the proven "
        f"savings ({'; '.join(parts)}) reach zero or below; solve to a smaller --mip-gap or a longer --time-limit "
        "to decide." + (f" {no_such[0].upper()}{no_such[1:]}." if lost else "")
    )


def value_sentence(value: dict, currency: str) -> str:
    """Value of decentralisation: its proven interval, then the figure at the solutions found."""
    if value.get("hybrid_infeasible"):
        return ("Value of decentralisation: the hybrid model has no feasible network (see compare.csv's note), so "
                "there is no hybrid cost to measure it with.")
    if value.get("central_only_infeasible"):
        return ("Value of decentralisation: no central-only network meets the model (see compare.csv's note), so "
                "there is no central-only cost to measure the hybrid's saving against.")
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


def _cell_text(column, value, units: dict) -> str:
    """A table cell: a MIP gap as the status lines write it (a gap of 1e-16 is 0.00 %, one of 3e-5 not), any
    other figure by :func:`number_text` in its column's unit."""
    if str(column).startswith("mip_gap") and isinstance(value, int | float) and not isinstance(value, bool) \
            and value == value:  # NaN: "–" as any missing figure
        return gap_text(float(value), 2).replace("%", " %")
    return number_text(value, units.get(column))


def variants_table(rows, currency: str) -> str:
    """compare.csv turned on its side (one column per variant, one row per figure, units and the
    currency in the row headers), so it never runs off the page."""
    units = rows.attrs.get("unit", {})
    head = "<th>figure</th>" + "".join(f"<th>{html.escape(str(name))}</th>" for name in rows["variant"])
    body = []
    for column in rows.columns[1:]:
        cells = "".join(f"<td>{html.escape(_cell_text(column, value, units))}</td>" for value in rows[column])
        body.append(f"<tr><th scope='row'>{html.escape(_label(column, units, currency))}</th>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _table_html(frame, currency: str) -> str:
    units = frame.attrs.get("unit", {})
    head = "".join(f"<th>{html.escape(_label(c, units, currency))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False, name=None):
        cells = "".join(f"<td>{html.escape(_cell_text(c, v, units))}</td>" for c, v in zip(frame.columns, row,
                                                                                          strict=True))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def figure_text(value, digits: int = 1) -> str:
    """A measured figure: ``digits`` decimals below 100, whole numbers from 100 on, thousands separators,
    "–" when missing (None, NaN); four significant digits where ``digits`` decimals would show fewer than three
    (a carbon price of 0.08 had read 0.1, a CO2 of 0.0043 t 0.0, a total cost of 30.18 read 30)."""
    if value is None or math.isnan(value := float(value)):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    shown = f"{value:,.{digits if abs(value) < 100 else 0}f}"
    rounded = abs(value) < 100 <= abs(float(shown.replace(",", "")))  # 99.96 at 1 decimal had read 100.0
    if abs(value) < 100 and (rounded or shows_few_digits(shown)):
        shown = significant_text(value)
    return _minus(shown)


def _scroll(table: str) -> str:
    """A table in its own horizontally scrolling box, so a wide one never widens the page."""
    return f"<div class='scroll'>{table}</div>"


SERVICE_COLUMNS = (
    ("share_served_within_radius", "demand served within the delivery radius (%)"),
    ("mean_delivery_km", "mean delivery distance (km, by quantity)"),
    ("p95_delivery_km", "95th-percentile delivery distance (km, by quantity)"),
    ("co2_t", "CO2 (t/yr)"),
    ("objective", "total cost ({currency}/yr)"),
)


def service_table(comparison: Comparison, currency: str) -> str:
    """Per variant: open facilities, service within the radius, delivery distances, CO2 and cost."""
    head = "<th>network</th><th>open facilities</th>" + "".join(
        f"<th>{html.escape(label.format(currency=currency))}</th>" for _, label in SERVICE_COLUMNS)
    body = []
    for row in comparison.rows.to_dict("records"):
        if row["variant"] not in comparison.plans:
            reason = html.escape(f"infeasible: {row['note']}")
            body.append(f"<tr><th scope='row'>{html.escape(str(row['variant']))}</th>"
                        f"<td colspan='{len(SERVICE_COLUMNS) + 1}'>{reason}</td></tr>")
            continue
        run = comparison.plans[row["variant"]].run
        opened = sum(run.tables.facility_counts(run.problem.type_ids).values())
        cells = [
            number_text(row[column], "fraction") if column.startswith("share")
            else figure_text(row[column], 0 if column == "objective" else 1)
            for column, _ in SERVICE_COLUMNS
        ]
        body.append(f"<tr><th scope='row'>{html.escape(str(row['variant']))}</th><td>{opened:,}</td>"
                    + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>")
    return _scroll(f"<table class='service'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


# --- assumptions ------------------------------------------------------------------------------------------

TYPE_FIELDS = {
    "candidate sites": "sites",
    "opening cost": "currency/yr",
    "module cost": "currency/yr per module",
    "module capacity": "units/yr",
    "max modules": "modules",
    "longest candidate delivery": "km",
}
PRODUCT_FIELDS = {
    "demand": "units/yr",
    "demand per unit of the demand column": "units",
    "unmet penalty": "currency/unit",
    "price": "currency/unit",
    "delivery radius": "km",
    "service level": "",
}
MODEL_FIELDS = {"currency": "", "carbon price": "currency/t CO2", "CO2 cap": "t CO2/yr", "capex budget": "currency"}
NO_LIMIT = {"module capacity": "unlimited", "unmet penalty": "must be served", "delivery radius": "none",
            "longest candidate delivery": "none", "CO2 cap": "none", "capex budget": "none"}


def _spread(values) -> tuple[float, float] | None:
    """(lowest, highest) of ``values`` (None when empty)."""
    values = np.asarray(values, dtype=float)
    return (float(values.min()), float(values.max())) if values.size else None


def type_assumptions(problem) -> dict[str, dict[str, tuple[float, float] | None]]:
    """Per facility type, the spread over its candidate sites of each of :data:`TYPE_FIELDS` (the
    longest candidate delivery: the longest arc the type may serve, which its radius bounds)."""
    arc_type = problem.option_type[problem.arc_option]
    found = {}
    for k, type_id in enumerate(problem.type_ids):
        options = problem.option_type == k
        count = float(options.sum())
        found[type_id] = {
            "candidate sites": (count, count),
            "opening cost": _spread(problem.opening_cost[options]),
            "module cost": _spread(problem.module_cost[options]),
            "module capacity": _spread(problem.module_capacity[options]),
            "max modules": _spread(problem.max_modules[options]),
            "longest candidate delivery": _spread(problem.arc_distance_km[arc_type == k].max(initial=0.0)),
        }
    return found


def product_assumptions(plan) -> dict[str, dict[str, tuple[float, float] | None]]:
    """Per product: demand (units/yr), demand per unit of the regions' demand column, unmet penalty,
    price (proximity bands) and delivery radius."""
    problem = plan.run.problem
    base = float(np.sum(getattr(plan.inputs, "base_demand", np.zeros(0))))
    found = {}
    for p, product in enumerate(problem.product_ids):
        demand = float(problem.demand[:, p].sum())
        prices = problem.arc_price[problem.arc_product == p]
        found[product] = {
            "demand": (demand, demand),
            "demand per unit of the demand column": (demand / base, demand / base) if base > 0 else None,
            "unmet penalty": _spread([problem.unmet_penalty[p]]),
            "price": _spread(prices) if (prices != 0).any() else None,
            "delivery radius": _spread([problem.max_distance_km[p]]),
            "service level": service_level_text(problem, p),
        }
    return found


def service_level_text(problem, p: int) -> str | None:
    """"95% within 200 km" (and/or minutes): product ``p``'s service level, None without one (the page had
    not said which level made a variant infeasible)."""
    share = float(problem.service_share[p]) if problem.service_share is not None else 0.0
    if share <= 0:
        return None
    limits = [f"{figure_text(limit)} {unit}" for limit, unit in ((problem.service_km[p], "km"),
                                                                 (problem.service_minutes[p], "min"))
              if math.isfinite(limit)]
    return f"{figure_text(100 * share)}% within {' and '.join(limits)}"


def assumptions(plan) -> dict[tuple[str, str, str], object]:
    """The key values of a variant's model, flat: (section, item, field) → value; sections ``model``,
    ``type`` and ``product``; values a string, a (lowest, highest) pair or None."""
    problem = plan.run.problem
    flat: dict[tuple[str, str, str], object] = {
        ("model", "", "currency"): problem.currency,
        ("model", "", "carbon price"): (float(problem.carbon_price), float(problem.carbon_price)),
        ("model", "", "CO2 cap"): (float(problem.co2_cap_t), float(problem.co2_cap_t)),
        ("model", "", "capex budget"): (float(problem.capex_budget), float(problem.capex_budget)),
    }
    for section, found in (("type", type_assumptions(problem)), ("product", product_assumptions(plan))):
        for item, fields in found.items():
            flat.update({(section, item, field): value for field, value in fields.items()})
    return flat


def value_text(value, field: str) -> str:
    """An assumption for the page: "–" when not set, "unlimited"/"none"/"must be served" when infinite,
    a range "low–high" when it differs between candidate sites."""
    if value is None or isinstance(value, str):
        return "–" if value is None else value
    low, high = value
    if math.isinf(high):
        return NO_LIMIT.get(field, "∞")
    if field.startswith("demand per"):  # a rate to 4 significant digits (0.01 had read 0.0100 beside 0.001)
        low_text, high_text = _rate_text(low), _rate_text(high)
    else:
        digits = 0 if low.is_integer() and high.is_integer() else 1
        low_text, high_text = figure_text(low, digits), figure_text(high, digits)
    return low_text if low_text == high_text else f"{low_text}–{high_text}"


def _rate_text(value: float) -> str:
    return figure_text(value, 0) if abs(value) >= 100 else _minus(significant_text(value))


def _unit(unit: str, currency: str) -> str:
    return f" ({unit.replace('currency', currency)})" if unit else ""


def assumptions_tables(flat: dict, currency: str) -> str:
    """The model's key values: the model, one row per facility type and one per product."""
    model = [f"{field}{_unit(unit, currency)}: {value_text(flat[('model', '', field)], field)}"
             for field, unit in MODEL_FIELDS.items()]
    parts = ["<ul>" + "".join(f"<li>{html.escape(text)}</li>" for text in model) + "</ul>"]
    for section, fields, title in (("type", TYPE_FIELDS, "facility type"), ("product", PRODUCT_FIELDS, "product")):
        items = list(dict.fromkeys(item for kind, item, _ in flat if kind == section))
        head = f"<th>{title}</th>" + "".join(f"<th>{html.escape(f + _unit(u, currency))}</th>"
                                             for f, u in fields.items())
        rows = "".join(
            f"<tr><th scope='row'>{html.escape(item)}</th>"
            + "".join(f"<td>{html.escape(value_text(flat.get((section, item, f)), f))}</td>" for f in fields)
            + "</tr>" for item in items)
        parts.append(_scroll(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"))
    return "\n".join(parts)


def assumption_changes(base: dict, variant: dict, currency: str) -> list[str]:
    """What ``variant`` changes in ``base`` (both from :func:`assumptions`): facility types and products
    left out or added, then every differing value as "item · field: base → variant"."""
    changes = []
    for section, noun in (("type", "facility type"), ("product", "product")):
        mine = dict.fromkeys(item for kind, item, _ in variant if kind == section)
        theirs = dict.fromkeys(item for kind, item, _ in base if kind == section)
        for verb, items in (("without", [i for i in theirs if i not in mine]),
                            ("adds", [i for i in mine if i not in theirs])):
            if items:
                changes.append(f"{verb} {noun}{'s' if len(items) > 1 else ''} {', '.join(items)}")
    units = {**MODEL_FIELDS, **TYPE_FIELDS, **PRODUCT_FIELDS}
    for key in variant.keys() & base.keys():
        section, item, field = key
        before, after = value_text(base[key], field), value_text(variant[key], field)
        if before != after:
            where = f"{item} · " if item else ""
            changes.append(f"{where}{field}: {before} → {after}{_unit(units.get(field, ''), currency)}")
    return sorted(changes, key=lambda text: (not text.startswith(("without", "adds")), text))


def _unsolved_variants(comparison: Comparison) -> list:
    """(name, reason) of the variants without a network (infeasible), in the rows' order: they have no plan
    to show values of (they had been left out of the list of what each variant changes)."""
    rows = comparison.rows
    if "variant" not in rows:
        return []
    notes = rows["note"] if "note" in rows else [""] * len(rows)
    return [(name, note) for name, note in zip(rows["variant"], notes, strict=True) if name not in comparison.plans]


def assumptions_section(comparison: Comparison, currency: str) -> str:
    """The base model's key values (the hybrid, else the first variant) and what each other variant
    changes."""
    if not comparison.plans:
        return ""
    base_name = "hybrid" if "hybrid" in comparison.plans else next(iter(comparison.plans))
    base = assumptions(comparison.plans[base_name])
    items = []
    for name, plan in comparison.plans.items():
        if name == base_name:
            continue
        changes = assumption_changes(base, assumptions(plan), currency)
        text = "; ".join(changes) if changes else "the same key values"
        items.append(f"<li><strong>{html.escape(name)}</strong>: {html.escape(text)}</li>")
    items += [f"<li><strong>{html.escape(str(name))}</strong>: no network meets it, so its values are not shown "
              f"(infeasible: {html.escape(str(note))})</li>" for name, note in _unsolved_variants(comparison)]
    return "\n".join([
        "<section class='major'><h2>Assumptions</h2>",
        f"<p>Key values of the base model <strong>{html.escape(base_name)}</strong> as solved (spreads over the "
        "candidate sites where they differ, e.g. existing sites open free):</p>",
        assumptions_tables(base, currency),
        "<h3>What each variant changes</h3>",
        f"<ul>{''.join(items)}</ul>" if items else "<p>No other variant.</p>",
        "</section>",
    ])


# --- the page ---------------------------------------------------------------------------------------------

STYLE = (
    "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.4}"
    "p,li,figcaption{overflow-wrap:break-word}"
    ".scroll{overflow-x:auto;max-width:100%;margin:0.5em 0}"
    "table{border-collapse:collapse;font-size:12px}"
    ":not(.scroll)>table{display:block;overflow-x:auto;max-width:100%}"  # tables of plugged-in sections
    "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right;overflow-wrap:break-word;vertical-align:top}"
    "th[scope=row]{text-align:left}img{max-width:100%;height:auto}.answer{font-size:1.2em}"
    ".maps{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr));gap:1em 1.5em;"
    "align-items:start}.maps figure{margin:0}"
    # a map of long, thin data (Chile) at the column's width had been one of 1,900 px height per variant
    ".maps img.network-map{width:100%;max-height:85vh;object-fit:contain;object-position:left top}"
    "figcaption{font-weight:bold;font-size:0.95em;margin:0 0 0.3em}.note{color:#555;font-size:0.85em}"
    "@media print{body{max-width:none;margin:0;padding:0;font-size:10pt}"
    "*{box-shadow:none!important;text-shadow:none!important}"
    ".major{break-before:page}h2,h3{break-after:avoid}"
    "img{max-width:100%!important;max-height:24cm;break-inside:avoid}figure,tr{break-inside:avoid}"
    ".scroll{overflow:visible}table{font-size:8pt}"
    ".maps{grid-template-columns:1fr 1fr}}</style>"
)


def maps_section(comparison: Comparison, maps, currency: str) -> str:
    """The networks side by side (:func:`planner.export.compare_maps.draw_network_maps`), each titled
    with its variant, open facilities and cost; the shared legend in the last cell."""
    figures = [
        f"<figure><figcaption>{html.escape(variant_title(name, comparison, currency))}</figcaption>"
        f"{img_tag(image, f'map of the network {name}', 'network-map')}</figure>"
        for name, image in maps.maps.items()
    ]
    if maps.legend:
        legend = img_tag(maps.legend, "map legend")
        figures.append(f"<figure><figcaption>Legend (all maps)</figcaption>{legend}</figure>")
    return "\n".join([
        "<section class='major'><h2>The networks side by side</h2>",
        "<p>Every map has the same frame, projection and scale; circle area (site capacity) and line width "
        "(flow volume) follow one scale across all maps.</p>",
        f"<div class='maps'>{''.join(figures)}</div>",
        f"<p class='note'>{html.escape(maps.caption)}</p></section>",
    ])


def compare_html(comparison: Comparison, images: dict[str, bytes], maps=None, extra_sections=()) -> str:
    """The page: the decision, the networks side by side (``maps``, a
    :class:`~planner.export.compare_maps.NetworkMaps`), service and CO2, the variants, the assumptions,
    where microfactories win, the breakeven sweep, then ``extra_sections`` (HTML fragments, already
    escaped, e.g. a sensitivity section) and the stochastic analysis."""
    currency = _currency(comparison)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><title>Network comparison</title>",
        STYLE, "</head><body><h1>Central plant, microfactories or both?</h1>",
        f"<p class='answer'><strong>{html.escape(decision_sentence(comparison.decision, currency))}</strong></p>",
        f"<p>{html.escape(value_sentence(comparison.value, currency))} A proven interval runs from the other "
        "network's lower bound minus this network's cost to the other network's cost minus this network's lower "
        "bound, so it holds whatever the solver gaps in the table.</p>",
    ]
    if maps is not None and maps.maps:
        parts.append(maps_section(comparison, maps, currency))
    parts += [
        "<section><h2>Service and CO2</h2>", service_table(comparison, currency),
        "<p class='note'>Every delivery arc lies within its delivery radius, so the share served within the "
        "radius is the share of demand served; distances are weighted by the quantity delivered.</p></section>",
        "<section><h2>Variants</h2>", _scroll(variants_table(comparison.rows, currency)), "</section>",
        assumptions_section(comparison, currency),
    ]
    if "where_micro_wins" in images:
        parts += ["<section class='major'><h2>Where microfactories win</h2>",
                  img_tag(images["where_micro_wins"], "where microfactories win"), "</section>"]
    if "breakeven" in images:
        parts += ["<section class='major'><h2>Breakeven</h2>", img_tag(images["breakeven"], "breakeven chart"),
                  _scroll(_table_html(comparison.sweep, currency)), "</section>"]
    # extra sections (e.g. planner.export.sensitivity_report) plug in here, after the breakeven charts
    parts += [f"<section class='major extra'>{section}</section>" for section in extra_sections]
    if comparison.stochastic is not None:
        parts.append(stochastic_output(comparison.stochastic).section)
    parts.append("</body></html>")
    return "\n".join(parts)


def with_names(comparison: Comparison) -> Comparison:
    """``comparison`` with the regions' names beside their ids in every table it writes (each variant's
    tables as ``planner solve`` writes them, :func:`planner.pipeline.with_region_names`, and
    ``compare_regions``); as it is where the regions have no names of their own."""
    plans = {name: dataclasses.replace(plan, run=with_region_names(plan.run, plan.inputs))
             for name, plan in comparison.plans.items()}
    regions = comparison.regions
    names = region_names(next(iter(plans.values())).inputs.regions) if plans else {}
    if regions is not None and names and "region_name" not in regions:
        regions = regions.copy()
        regions.insert(1, "region_name", regions["region_id"].astype(str).map(names).fillna("").to_numpy(dtype=object))
    return dataclasses.replace(comparison, plans=plans, regions=regions)


def write_comparison(comparison: Comparison, out: Path, extra_sections=(), extra_files=None,
                     staging: Path | None = None) -> dict:
    """Write every compare output into ``out`` atomically; return the headline figures.
    ``extra_sections``: HTML fragments (already escaped) appended to compare.html after the breakeven
    charts, each in its own ``<section>`` (e.g. the sensitivity tornado); ``extra_files(folder)``
    writes further files into the staging folder, so they arrive with the rest or not at all;
    ``staging``: the folder reserved before the solves (``planner.export.folder.reserved_output_dir``)."""
    out = Path(out)
    comparison = with_names(comparison)
    with staged_folder(out, staging) as staging:
        comparison.rows.assign(currency=_currency(comparison)).to_csv(staging / "compare.csv", index=False)
        images = {}
        if comparison.regions is not None:
            comparison.regions.assign(currency=_currency(comparison)).to_csv(staging / "compare_regions.csv",
                                                                             index=False)
            images["where_micro_wins"] = draw_where_micro_wins(comparison)
            (staging / "where_micro_wins.png").write_bytes(images["where_micro_wins"])
        if comparison.sweep is not None:
            comparison.sweep.assign(currency=_currency(comparison)).to_csv(staging / "sweep.csv", index=False)
            images["breakeven"] = draw_breakeven(comparison)
            (staging / "breakeven.png").write_bytes(images["breakeven"])
        maps = draw_network_maps(comparison) if comparison.plans else None
        page = compare_html(comparison, images, maps, extra_sections)
        (staging / "compare.html").write_text(page, encoding="utf-8")
        write_compare_workbook(staging / WORKBOOK, comparison)
        headline = {"value_of_decentralisation": clean_for_json(comparison.value),
                     "decision": clean_for_json(comparison.decision)}
        if comparison.stochastic is not None:
            extra = stochastic_output(comparison.stochastic)
            extra.files["scenarios.csv"].to_csv(staging / "scenarios.csv", index=False)
            headline["stochastic"] = clean_for_json(extra.block)
        (staging / "value.json").write_text(json.dumps(headline, indent=2) + "\n", encoding="utf-8")
        if extra_files is not None:
            extra_files(staging)
    return headline
