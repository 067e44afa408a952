"""``planner compare --sensitivity`` outputs: sensitivity.csv (one row per evaluated point), the tornado
chart sensitivity.png, the HTML section "Sensitivity: what flips the decision" for compare.html and the
lines the command prints.

The tornado chart draws, per parameter, the value of decentralisation at the low and the high end of its
range as bars from its value for the model as it is, the parameter with the largest swing on top; a
hatched bar is a point whose winner is not decided at the solver gaps.
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path

import numpy as np

from planner.export.charts import img_tag, new_figure, plain_text, png_bytes, readable_axis, unit_prefix
from planner.studies.sensitivity import BREAKEVEN, FAILED, NOT_DECIDED, NOTHING_BUILT, Sensitivity
from planner.studies.sweep.runner import write_csv_atomically

PNG_DPI = 110
LOW_COLOUR, HIGH_COLOUR = "#1f77b4", "#ff7f0e"
NETWORK_NAMES = {"central_only": "central-only", "micro_only": "micro-only", "hybrid": "hybrid",
                 NOTHING_BUILT: "no network"}
HEADING = "Sensitivity: what flips the decision"


# --- text ---------------------------------------------------------------------------------------------------


def plain_number(value, significant: int = 3) -> str:
    """``value`` to ``significant`` digits, thousands separated, never in scientific notation.

    >>> plain_number(30_000_000.0), plain_number(1.24375), plain_number(0.01875, 2), plain_number(-0.5)
    ('30,000,000', '1.24', '0.019', '−0.5')
    """
    if value is None or not math.isfinite(float(value)):
        return "n/a"
    value = float(value)
    if value == 0:
        return "0"
    decimals = max(0, significant - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace("-", "−")


def parameter_value(row: dict, x) -> str:
    """A value of the parameter of ``row`` (a row of ``Sensitivity.parameters``): ×multiplier or the value."""
    return f"×{plain_number(x)}" if row["scaled"] else plain_number(x, 4)


def range_text(row: dict) -> str:
    """``×0.7–×1.3`` or ``0–400 USD/t CO2 (model 190)``."""
    text = f"{parameter_value(row, row['low'])}–{parameter_value(row, row['high'])}"
    if row["scaled"]:
        return text
    unit = f" {row['unit']}" if row["unit"] else ""
    return f"{text}{unit} (model {plain_number(row['base'], 4)})"


def money(value, currency: str, divisor: float | None = None) -> str:
    """``4.1 M USD/yr`` (k, M, bn from the value, or ``divisor``'s prefix); 'n/a' when missing."""
    if value is None or not math.isfinite(float(value)):
        return "n/a"
    divisor, prefix = unit_prefix(abs(float(value))) if divisor is None else unit_prefix(divisor)
    return f"{plain_number(float(value) / divisor)} {prefix} {currency}/yr".replace("  ", " ")


def value_text(row: dict, end: str, currency: str) -> str:
    """The value of decentralisation at ``end`` and, when it differs, its proven interval."""
    value, low, high = (_noise_as_zero(row[f"{key}_{end}"])
                        for key in ("value_of_decentralisation", "proven_at_least", "proven_at_most"))
    text = money(value, currency)
    if any(map(_missing, (value, low, high))):
        return text
    scale = max(abs(float(value)), abs(float(low)), abs(float(high)))
    interval = f"{money(low, currency, scale)} to {money(high, currency, scale)}"
    return text if interval == f"{text} to {text}" else f"{text} (proven {interval})"


NOISE_PER_YR = 0.5  # currency/yr: a cost difference below this is the solver's rounding, shown as 0


def _noise_as_zero(value):
    """``value`` (a cost difference, currency/yr), 0 where it is within ``NOISE_PER_YR`` of it (−1.5e-8
    from two equal costs printed as '−0.0000000149 USD/yr')."""
    return 0.0 if not _missing(value) and abs(float(value)) < NOISE_PER_YR else value


def _missing(value) -> bool:
    return value is None or not math.isfinite(float(value))


def winner_text(row: dict, end: str) -> str:
    """The winner at ``end``, flagged when it is not decided at the gaps or a solve stopped at a limit."""
    winner = row[f"winner_{end}"]
    if winner is None or (isinstance(winner, float) and math.isnan(winner)):
        return FAILED
    text = NETWORK_NAMES.get(winner, str(winner))
    if not row[f"decided_{end}"]:
        text += " (not decided)"
    if not row[f"reached_gap_{end}"]:
        text += " (a solve stopped at its time limit before the gap)"
    return text


def breakeven_text(row: dict) -> str:
    """``×1.24 ± 0.019 (micro-only below, central-only above)``, or why there is no number; where the winner
    above the breakeven is not the high end's (the winner changes more than once), that is said."""
    if row["outcome"] != BREAKEVEN:
        return row["outcome"]
    below = NETWORK_NAMES.get(row["winner_below"], row["winner_below"])
    above = NETWORK_NAMES.get(row["winner_above"], row["winner_above"])
    again = ""
    if row["winner_above"] != row["winner_high"]:  # a midpoint had a third winner: the bisection took the first change
        high = NETWORK_NAMES.get(row["winner_high"], row["winner_high"])
        again = f"; the first change: the winner changes again to {high} by the high end"
    return (f"{parameter_value(row, row['breakeven'])} ± {plain_number(row['breakeven_tolerance'], 2)} "
            f"({below} below, {above} above{again})")


def sensitivity_lines(sensitivity: Sensitivity, currency: str) -> list[str]:
    """One line per parameter for the command line: range, value and winner at each end, breakeven."""
    lines = []
    for row in sensitivity.parameters.to_dict("records"):
        low, high = (money(row[f"value_of_decentralisation_{end}"], currency) for end in ("low", "high"))
        breakeven = f"breakeven {breakeven_text(row)}" if row["outcome"] == BREAKEVEN else breakeven_text(row)
        lines.append(f"sensitivity {row['label']} {range_text(row)}: value {low} → {high}, winner "
                     f"{winner_text(row, 'low')} → {winner_text(row, 'high')}, {breakeven}")
    return lines


# --- the tornado chart ----------------------------------------------------------------------------------


def _base_value(sensitivity: Sensitivity) -> float:
    value = sensitivity.base.get("value_of_decentralisation")
    return 0.0 if _missing(value) else float(value)


def _base_text(sensitivity: Sensitivity, currency: str) -> str:
    """The value for the model as it is, or why there is none (an infeasible central-only or hybrid variant:
    it had read '0 EUR/yr' where value.json has none)."""
    if _missing(sensitivity.base.get("value_of_decentralisation")):
        return "none: the central-only or the hybrid network has no solution here, or its solve failed"
    return money(_base_value(sensitivity), currency)


def _draw_bars(ax, rows: list[dict], base: float) -> bool:
    """Low-end bars above, high-end bars below each parameter's line; hatched when not decided; each end
    labelled with its winner. True when a bar drawn is not decided (hatched)."""
    hatched = False
    for position, row in zip(range(len(rows) - 1, -1, -1), rows, strict=True):
        for end, colour, offset in (("low", LOW_COLOUR, 0.2), ("high", HIGH_COLOUR, -0.2)):
            value = row[f"value_of_decentralisation_{end}"]
            if _missing(value):  # no bar (no central-only or hybrid network there), but still its winner
                if isinstance(row.get(f"winner_{end}"), str) and row[f"winner_{end}"]:
                    name = NETWORK_NAMES.get(row[f"winner_{end}"], row[f"winner_{end}"])
                    ax.text(base, position + offset, f" {name} (no value) ", va="center", ha="left", fontsize=8,
                            color="#555555")
                continue
            ax.barh(position + offset, float(value) - base, left=base, height=0.38, color=colour,
                    hatch=None if row[f"decided_{end}"] else "///", edgecolor="white" if row[f"decided_{end}"]
                    else "black", linewidth=0.5)
            name = NETWORK_NAMES.get(row[f"winner_{end}"], str(row[f"winner_{end}"]))
            ax.text(float(value), position + offset, f" {name} " if row[f"decided_{end}"] else f" {name}? ",
                    va="center", ha="left" if float(value) >= base else "right", fontsize=8)
            hatched = hatched or not row[f"decided_{end}"]
    return hatched


@plain_text
def tornado_figure(sensitivity: Sensitivity, currency: str):
    """The tornado chart as a figure (see the module docstring)."""
    from matplotlib.patches import Patch

    rows = sensitivity.parameters.to_dict("records")
    base = _base_value(sensitivity)
    fig, ax = new_figure(10, 1.6 + 0.8 * max(1, len(rows)))
    hatched = _draw_bars(ax, rows, base)
    known = not _missing(sensitivity.base.get("value_of_decentralisation"))
    if known:  # a line at 0 had stood for a model without a value
        ax.axvline(base, color="black", linewidth=1)
    valued = known or any(not _missing(row[f"value_of_decentralisation_{end}"]) for row in rows
                          for end in ("low", "high"))
    if valued:
        ax.axvline(0.0, color="grey", linewidth=0.8, linestyle=":")  # below 0: the hybrid found costs more
    positions = np.arange(len(rows) - 1, -1, -1)
    ax.set_yticks(positions, [f"{row['label']}\n{range_text(row)}" for row in rows], fontsize=9)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.margins(x=0.3)
    readable_axis(ax, "x", f"{currency}/yr", "value of decentralisation (best central-only cost − hybrid cost)")
    if not valued:  # no value anywhere: ticks of -0.05 to 0.05 had measured nothing
        ax.set_xticks([])
    handles = [Patch(color=LOW_COLOUR, label="low end of the range"),
               Patch(color=HIGH_COLOUR, label="high end of the range")]
    if hatched:  # only where a bar is: every end decided had still shown the key of a hatched bar
        handles.append(Patch(facecolor="white", edgecolor="black", hatch="///", label=f"{NOT_DECIDED} (winner?)"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=len(handles), fontsize=8)
    base_text = f"line: the model as it is, {_base_text(sensitivity, currency)}" if known else \
        "no line: the model as it is has no value, no central-only or hybrid network or a failed solve"
    ax.set_title(f"What flips the decision ({base_text}; labels: the winner)", fontsize=10)
    fig.tight_layout()
    return fig


def tornado_png(sensitivity: Sensitivity, currency: str) -> bytes:
    """sensitivity.png as bytes."""
    return png_bytes(tornado_figure(sensitivity, currency), dpi=PNG_DPI)


# --- the section and the files ----------------------------------------------------------------------------


def _parameter_table_html(sensitivity: Sensitivity, currency: str) -> str:
    head = ["parameter", "range", "value of decentralisation at low", "at high", "winner at low", "winner at high",
            "breakeven"]
    body = []
    for row in sensitivity.parameters.to_dict("records"):
        cells = [row["label"], range_text(row), value_text(row, "low", currency), value_text(row, "high", currency),
                 winner_text(row, "low"), winner_text(row, "high"), breakeven_text(row)]
        body.append("<tr><th scope='row'>" + html.escape(cells[0]) + "</th>"
                    + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells[1:]) + "</tr>")
    header = "".join(f"<th>{html.escape(cell)}</th>" for cell in head)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def sensitivity_section(sensitivity: Sensitivity, currency: str, image: bytes | None = None) -> str:
    """The HTML section for compare.html: the tornado chart (``image``, else drawn) and the table."""
    image = image if image is not None else tornado_png(sensitivity, currency)
    intro = (
        "Each parameter is set to the low and the high end of its range, every other one at the model's value, and "
        "the central-only, micro-only and hybrid networks are solved and compared at each end. The bars show the "
        "value of decentralisation at each end against its value for the model as it is "
        f"({_base_text(sensitivity, currency)}). The winner is the cheapest network found; a hybrid that "
        "costs no less than the central-only (or micro-only) network is named after it. Where the winners at the "
        f"two ends differ and both are decided, the range is bisected {sensitivity.steps} times and the breakeven "
        "is the middle of the last bracket ± half its width. Only the ends are compared otherwise, so a winner "
        f"that changes and changes back inside a range is not seen. '{NOT_DECIDED}': the solver gaps leave the "
        "winner open; solve to a smaller --mip-gap or a longer --time-limit to decide."
    )
    return "\n".join([f"<h2>{html.escape(HEADING)}</h2>", f"<p>{html.escape(intro)}</p>",
                      img_tag(image, "tornado chart of the value of decentralisation"),
                      _parameter_table_html(sensitivity, currency)])


def write_sensitivity(sensitivity: Sensitivity, folder: Path, image: bytes, currency: str = "currency") -> None:
    """Write sensitivity.csv (with the ``currency`` of its costs) and sensitivity.png (``image``, from
    :func:`tornado_png`) into ``folder``, each atomically (a temporary file beside it, then renamed)."""
    folder = Path(folder)
    write_csv_atomically(sensitivity.points.assign(currency=currency), folder / "sensitivity.csv")
    temporary = folder / ".sensitivity.png.tmp"
    try:
        temporary.write_bytes(image)
        os.replace(temporary, folder / "sensitivity.png")
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
