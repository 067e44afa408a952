"""Charts of a sweep: each result against each varied parameter (``sweep_results.png``) and the
facility mix against each parameter (``facility_mix.png``). Scenarios without a network (``infeasible``: the
model has none; ``failed``: crashed or refused) are left out and counted in the titles, each kind apart, and so
are values that are missing or not finite."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import significant_text
from planner.export.charts import (
    bar_values,
    category_ticks,
    from_zero,
    new_figure,
    plain_text,
    readable_axis,
    save_png,
    stacked,
    unit_prefix,
)
from planner.inputs.config import key_unit
from planner.results import TYPE_COUNT_PREFIX
from planner.solver.outcome import Status
from planner.studies.sweep.scenario import NO_RESULT  # no network to draw: counted apart in the titles

PROVEN = (Status.OPTIMAL.value, Status.GAP_LIMIT.value)  # within the tolerance; else stopped by a limit
RESULTS = {  # column: (what, unit)
    "objective": ("total cost", "currency/yr"),
    "co2_t": ("CO2", "t/yr"),
    "share_served": ("demand served", "share"),
    "cost_fixed": ("fixed cost", "currency/yr"),
    "cost_transport": ("transport cost", "currency/yr"),
    "cost_unmet_penalty": ("unmet penalty", "currency/yr"),
}
PANEL_SIZE = (3.4, 2.5)


def _type_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if c.startswith(TYPE_COUNT_PREFIX)]


def _numbers(values) -> np.ndarray:
    """Floats with every missing or non-finite value as NaN (a gap in the line)."""
    numbers = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(numbers), numbers, np.nan)


CHARTS = ("sweep_results.png", "facility_mix.png")


def write_sweep_charts(table: pd.DataFrame, keys: list[str], out: Path, currency: str = "currency") -> list[Path]:
    """Write the two charts into ``out`` (costs in ``currency``, the model's); returns their paths (none when
    no scenario succeeded). The charts an earlier sweep into the folder left are removed first: one this table
    has nothing for had shown that sweep's results beside this one's table, and a run stopped (Ctrl-C) between
    the two charts had left one of each sweep."""
    for name in CHARTS:
        (Path(out) / name).unlink(missing_ok=True)
    done = table[~table["status"].isin(NO_RESULT)]
    left_out = {status: int((table["status"] == status).sum()) for status in NO_RESULT}
    paths = []
    if not done.empty:
        paths.append(save_png(results_figure(done, keys, currency, left_out), Path(out) / CHARTS[0]))
        if _type_columns(done):
            paths.append(save_png(facility_mix_figure(done, keys, currency, left_out), Path(out) / CHARTS[1]))
    return paths


@plain_text
def results_figure(done: pd.DataFrame, keys: list[str], currency: str = "currency",
                   left_out: dict[str, int] | None = None):
    """A panel per (result, key): the result against the key, a line for one key, dots for several; the
    title counts the scenarios ``left_out`` (status → count: infeasible, failed), which are not drawn."""
    results = [column for column in RESULTS if column in done and np.isfinite(_numbers(done[column])).any()]
    rows = max(len(results), 1)
    fig, axes = new_figure(PANEL_SIZE[0] * len(keys), PANEL_SIZE[1] * rows, rows, len(keys), squeeze=False)
    for row, result in enumerate(results):
        what, unit = RESULTS[result]
        unit = unit.replace("currency", currency)
        for col, key in enumerate(keys):
            axis = axes[row][col]
            ordered = done.sort_values(key)
            x, y = _numbers(ordered[key]), _numbers(ordered[result])
            if len(keys) == 1:
                axis.plot(x, y, marker="o", color="#1f77b4")
            else:
                axis.scatter(x, y, s=14, color="#1f77b4")
            stopped = _stopped(ordered).to_numpy()
            if stopped.any():  # an upper bound, not the scenario's optimum: drawn hollow, as pareto.png does
                axis.scatter(x[stopped], y[stopped], s=40, facecolors="white", edgecolors="#1f77b4", zorder=3)
            _small_axes(axis, key, what, unit, currency)
            axis.grid(alpha=0.3)
    stopped = int(_stopped(done).sum())
    apart = "\n" if any((left_out or {}).values()) else " "  # after the left-out count's line, on one of its own
    note = f";{apart}{stopped} stopped by a limit, not proven (hollow)" if stopped else ""
    fig.suptitle(f"Sweep: {_solved_text(len(done), left_out)}{note}", fontsize=10)
    fig.tight_layout()
    return fig


@plain_text
def facility_mix_figure(done: pd.DataFrame, keys: list[str], currency: str = "currency",
                        left_out: dict[str, int] | None = None):
    """A panel per key: the open facilities of each type stacked, mean over the other keys (of the solved
    scenarios; the title counts those ``left_out``, as :func:`results_figure`'s)."""
    types = _type_columns(done)
    drawn = [column for column in types if (np.nan_to_num(_numbers(done[column])) > 0).any()]  # none open: no bar
    fig, axes = new_figure(4.2 * len(keys), 3.0, 1, len(keys), squeeze=False)
    for col, key in enumerate(keys):
        axis = axes[0][col]
        mean = done.assign(**{key: _numbers(done[key])}).groupby(key)[types].mean()
        x = mean.index.to_numpy(dtype=float)
        bottom = np.zeros(len(mean))
        for column in types:
            values = bar_values(mean[column].to_numpy(dtype=float))
            label = column.removeprefix(TYPE_COUNT_PREFIX) if column in drawn else "_"  # keyed where a bar is drawn
            bars = axis.bar(x, values, width=_bar_width(x), bottom=bottom, label=label)
            stacked(bars, "y")
            bottom += values
        from_zero(axis, "y", bottom)
        _small_axes(axis, key, "open facilities" + (" (mean over other keys)" if len(keys) > 1 else ""), "", currency)
        _ticks_at_values(axis, x)
    if drawn:
        axes[0][-1].legend(fontsize=7, title="type", title_fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                           borderaxespad=0.0)  # beside the last panel: inside, it had covered its tallest bar
    missing = any((left_out or {}).values())
    fig.suptitle("Facility mix" + (f" of {_solved_text(len(done), left_out)}" if missing else ""), fontsize=10)
    fig.tight_layout()
    return fig


def _solved_text(solved: int, left_out: dict[str, int] | None) -> str:
    """"4 scenarios solved", or with scenarios left out "4 of 6 scenarios solved;" and on a line of its own "1
    infeasible, 1 failed, not drawn (their error in sweep.csv)": a curve that ends short of the range had not said
    that the scenarios beyond it have no result, nor whether the model has none there or the run failed."""
    counts = {status: n for status, n in (left_out or {}).items() if n}
    if not counts:
        return f"{solved} scenarios solved"
    parts = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in counts.items())
    total = solved + sum(counts.values())
    return f"{solved} of {total} scenarios solved;\n{parts}, not drawn (their error in sweep.csv)"


def _stopped(table: pd.DataFrame) -> pd.Series:
    """Scenarios stopped by a limit (``time_limit``): their results are a network's, not proven the best."""
    return ~table["status"].isin(PROVEN) if "status" in table else pd.Series(False, index=table.index)


def _small_axes(axis, key: str, what: str, unit: str, currency: str) -> None:
    readable_axis(axis, "x", key_unit(key, currency), key)
    readable_axis(axis, "y", unit, what)
    axis.xaxis.label.set_fontsize(8)
    axis.yaxis.label.set_fontsize(8)
    axis.tick_params(labelsize=7)


def _ticks_at_values(axis, x: np.ndarray) -> None:
    """The x ticks of a bar chart at its bars, each the value swept (in the axis label's multiple): round
    ticks between uneven values had labelled bars at 30, 165 and 300 M "0, 200, 300", and 0.005 "0.00"."""
    low, high = axis.get_xlim()
    divisor, _ = unit_prefix(max(abs(low), abs(high)), small=True)
    category_ticks(axis, "x", x, [significant_text(value / divisor) for value in x])  # "1.297e-05" had been shown
    if _labels_overlap(axis):  # uneven values (a Latin hypercube's) had run two labels together, "5.7746.233"
        for label in axis.get_xticklabels():
            label.set_rotation(45)
            label.set_horizontalalignment("right")


def _labels_overlap(axis) -> bool:
    """Whether two neighbouring x tick labels of ``axis``, as drawn now, overlap."""
    canvas = axis.figure.canvas
    canvas.draw()
    boxes = sorted((label.get_window_extent(canvas.get_renderer()) for label in axis.get_xticklabels()
                    if label.get_text()), key=lambda box: box.x0)
    return any(left.x1 > right.x0 for left, right in zip(boxes, boxes[1:], strict=False))


def _bar_width(x: np.ndarray) -> float:
    distinct = np.unique(x[np.isfinite(x)])
    if len(distinct) < 2:
        return 0.8 * max(abs(float(distinct[0])), 1.0) if len(distinct) else 1.0
    return 0.8 * float(np.min(np.diff(distinct)))
