"""``results.xlsx``: the tables of a solve (or a comparison) as one workbook for people who live in Excel.

Each sheet has one frozen header row whose names are the CSV column names followed by their unit from
the table's ``attrs["unit"]`` (``quantity (units/yr)``; "currency" replaced by the run's currency, e.g.
``cost (USD/yr)``), and number formats with thousands separators and no scientific notation. The
cells hold the same figures as the CSV files; missing values (NaN) are empty cells and infinite ones
the text ``inf`` (as in the CSV files). Sheets: ``summary``, ``sites``, ``flows``, ``inbound`` (only
with suppliers: ``inbound_flows.csv``), ``regions``, ``costs``, ``inputs`` (the instance's key inputs),
``coverage`` (the coverage curves, where there are any) and, for ``planner compare``, ``compare``. A table
longer than a worksheet holds (``EXCEL_MAX_ROWS``) is left out and named in a sheet ``left_out``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.export.summary import build_summary, clean_for_json, kind_unit
from planner.pipeline import Run
from planner.problem import Problem
from planner.studies.compare import Comparison

logger = logging.getLogger(__name__)

WORKBOOK = "results.xlsx"
INTEGER_FORMAT = "#,##0"
NUMBER_FORMAT = "#,##0.00"
MAX_DECIMALS = 15  # of a value below 10 shown to four significant digits (Excel shows no more)
UNIT_FORMATS = {"fraction": "0.0000", "degrees": "0.000000"}
COUNT_UNITS = {"facilities", "modules"}  # whole numbers: a column of them with a blank read 2.00 (float)
MIN_WIDTH, MAX_WIDTH = 10, 60
EXCEL_MAX_TEXT = 32_767  # characters of a cell
EXCEL_MAX_ROWS = 1_048_576  # rows of a worksheet, its header included: Excel cuts a longer sheet when it opens it


def unit_text(unit: str, currency: str) -> str:
    """``unit`` with the word "currency" replaced by the run's currency (``currency/yr`` → ``USD/yr``)."""
    return unit.replace("currency", currency)


def header(frame: pd.DataFrame, currency: str) -> list[str]:
    """The column names, each followed by its unit when ``frame.attrs["unit"]`` has one."""
    units = frame.attrs.get("unit", {})
    return [f"{column} ({unit_text(units[column], currency)})" if _needs_unit(str(column), units.get(column))
            else str(column) for column in frame.columns]


def _needs_unit(column: str, unit: str | None) -> bool:
    """Whether the header names the unit after the column: not where the name says it already
    ("modules (modules)", "distance_km (km)" had been written)."""
    return bool(unit) and column != unit and not column.endswith(f"_{unit}")


def cell_format(value: Any, unit: str | None) -> str | None:
    """The Excel number format of one value (None for text and empty cells)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if unit in UNIT_FORMATS:
        return UNIT_FORMATS[unit]
    if isinstance(value, int) or (unit in COUNT_UNITS and float(value).is_integer()):
        return INTEGER_FORMAT
    if value == 0 or abs(value) >= 10 or not math.isfinite(value):
        return NUMBER_FORMAT
    # below 10: four significant digits in plain decimals (0.0214 t had shown 0.02, a cost of 2.1e-8 0.000000)
    decimals = min(max(2, 3 - math.floor(math.log10(abs(value)))), MAX_DECIMALS)
    return "#,##0." + "0" * decimals


WORKBOOK_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what a workbook's XML cannot hold


def cell_value(value: Any) -> Any:
    """A value openpyxl writes as the CSV would: numpy scalars as Python ones, NaN empty, ±inf as text;
    control characters, which a workbook cannot hold, as U+FFFD; a text longer than a cell holds cut, ending
    in "…" (Excel would call the file damaged)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):  # a control character in a name column would stop the whole workbook
        value = WORKBOOK_ILLEGAL.sub("\ufffd", value)
        return value if len(value) <= EXCEL_MAX_TEXT else value[:EXCEL_MAX_TEXT - 1] + "…"
    return value


class _Formats:
    """The workbook's cell formats, made once each: the bold header and each number format."""

    def __init__(self, book) -> None:
        self.book, self.numbers = book, {}
        self.bold = book.add_format({"bold": True})

    def number(self, code: str):
        if code not in self.numbers:
            self.numbers[code] = self.book.add_format({"num_format": code})
        return self.numbers[code]


def _write_sheet(book, formats: _Formats, name: str, frame: pd.DataFrame, currency: str) -> None:
    """One sheet of ``book`` (an XlsxWriter workbook in constant-memory mode, written row by row): header,
    rows, formats, frozen header. Every text is written as text: a region id or name such as ``=1+1`` in the
    data is never a formula Excel would run, nor ``#N/A`` an error."""
    sheet = book.add_worksheet(name)
    names = header(frame, currency)
    units = [frame.attrs.get("unit", {}).get(column) for column in frame.columns]
    for position, column in enumerate(frame.columns):
        longest = max([len(names[position]), *(len(str(v)) for v in frame[column].head(200))], default=0)
        sheet.set_column(position, position, min(max(longest + 2, MIN_WIDTH), MAX_WIDTH))
    sheet.freeze_panes(1, 0)
    for position, text in enumerate(names):
        sheet.write_string(0, position, text, formats.bold)
    for row, values in enumerate(frame.itertuples(index=False, name=None), start=1):
        for position, (value, unit) in enumerate(zip(values, units, strict=True)):
            _write_cell(sheet, formats, row, position, cell_value(value), unit)


def _write_cell(sheet, formats: _Formats, row: int, column: int, value, unit: str | None) -> None:
    """One cell: text as text, numbers with their format (:func:`cell_format`), nothing for an empty value."""
    if value is None or value == "":
        return
    if isinstance(value, str):
        sheet.write_string(row, column, value)
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value)
    elif isinstance(value, int | float):
        sheet.write_number(row, column, value, formats.number(cell_format(value, unit)))
    else:
        sheet.write_string(row, column, str(value))


def write_workbook(path: Path, sheets: dict[str, pd.DataFrame], currency: str) -> Path:
    """Write ``sheets`` (name → table with ``attrs["unit"]``) to ``path`` in this order. The rows go to
    temporary files beside ``path`` (constant-memory mode: a run interrupted before the end leaves them in
    its staging folder, which is removed, not in the system's temporary folder)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": str(Path(path).parent),
                                           "strings_to_formulas": False, "strings_to_numbers": False,
                                           "strings_to_urls": False})
    formats = _Formats(book)
    too_long = {name: len(frame) for name, frame in sheets.items() if len(frame) >= EXCEL_MAX_ROWS}
    try:
        for name, frame in sheets.items():
            if name not in too_long:
                _write_sheet(book, formats, name, frame, currency)
        if too_long:
            _write_sheet(book, formats, "left_out", _left_out_sheet(too_long), currency)
    except BaseException:  # an error or Ctrl-C: no workbook is assembled from the rows so far
        _discard(book)
        raise
    book.close()
    logger.debug("wrote %s (%s)", path, ", ".join(sheets))
    return Path(path)


def _discard(book) -> None:
    """Close and remove the temporary row files of ``book``'s sheets (XlsxWriter's constant-memory mode keeps
    one open per sheet until ``close`` assembles the workbook from them, which an interrupted run skips)."""
    for sheet in book.worksheets():
        handle, name = getattr(sheet, "row_data_fh", None), getattr(sheet, "row_data_filename", None)
        if handle is not None and not handle.closed:
            handle.close()
        if name:
            with contextlib.suppress(OSError):
                os.remove(name)


def _left_out_sheet(too_long: dict[str, int]) -> pd.DataFrame:
    """The sheets longer than a worksheet holds (Excel would cut them without a word when it opens the file,
    and the rows cut are lost to whoever reads only the workbook): named, with their row counts, in a sheet
    of their own and in a warning; their CSV files hold them whole."""
    for name, rows in too_long.items():
        logger.warning("%s: the %s table has %s rows, more than an Excel sheet holds (%s with its header); it is "
                       "left out of the workbook, its CSV file holds it", WORKBOOK, name, f"{rows:,}",
                       f"{EXCEL_MAX_ROWS:,}")
    frame = pd.DataFrame({"sheet": list(too_long), "rows": list(too_long.values()),
                          "note": "more rows than an Excel sheet holds: in the CSV file of the same table"})
    frame.attrs["unit"] = {"rows": "rows"}
    return frame


def flatten(block: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested dictionaries as (dotted key, value) pairs; lists as text (a list of tables, such as the
    service levels, as JSON), None as empty."""
    items: list[tuple[str, Any]] = []
    for key, value in block.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            items += flatten(value, f"{name}.")
        elif isinstance(value, list | tuple) and any(isinstance(v, dict | list | tuple) for v in value):
            items.append((name, json.dumps(clean_for_json(list(value)), ensure_ascii=False)))
        elif isinstance(value, list | tuple):
            items.append((name, ", ".join(str(v) for v in value)))
        else:
            items.append((name, value))
    return items


def summary_sheet(summary: dict[str, Any]) -> pd.DataFrame:
    """``item, value, unit``: the scalars of summary.json (inputs, warnings, units and audit details
    left to summary.json), units from its ``units`` block."""
    currency = summary.get("currency") or "currency"
    kept = {key: value for key, value in summary.items() if key not in {"inputs", "warnings", "units", "audit"}}
    if isinstance(kept.get("service"), dict):  # the curves have their sheet (they had been JSON text here)
        kept["service"] = {key: value for key, value in kept["service"].items() if key != "coverage_curve"}
    kept["audit_passed"] = (summary.get("audit") or {}).get("passed")
    rows = [(item, value, unit_text(unit_of(summary, item), currency)) for item, value in flatten(kept)
            if ".units." not in f".{item}"]
    return pd.DataFrame(rows, columns=["item", "value", "unit"])


def unit_of(summary: dict[str, Any], item: str) -> str:
    """The unit of the dotted ``item`` of ``summary``: from the top-level ``units`` by its first key, or
    from the ``units`` of a study's block (``rollout``, ``stochastic``) by its key there or its last key
    (``rollout.strategies.pilot_micro.cvar``); "" where none says. A dotted key of the top-level ``units``
    (``solver.solve_s``) names its item alone (the sheet had shown the solve time without its unit); a
    block's ``value`` takes the block's ``unit`` (``objective_kind``: a p-center radius in km had none)."""
    parts = item.split(".")
    units = summary.get("units") or {}
    unit = str(units.get(item) or units.get(parts[0], ""))
    block: Any = summary
    for depth, key in enumerate(parts[:-1]):
        block = block.get(key) if isinstance(block, dict) else None
        units = block.get("units") if isinstance(block, dict) else None
        if isinstance(units, dict):
            unit = str(units.get(parts[depth + 1]) or units.get(parts[-1]) or unit)
    if parts[-1] == "value" and isinstance(block, dict) and block.get("unit"):  # objective_kind: value, unit
        unit = str(block["unit"])
    return unit


def costs_sheet(costs: dict[str, float | None], unit: str = "currency/yr") -> pd.DataFrame:
    """``part, cost``: the objective split (``unit``: currency/yr, or a classic kind's measure) and its total."""
    parts = [(part, value) for part, value in costs.items()]
    total = sum(value for _, value in parts if value is not None)
    frame = pd.DataFrame([*parts, ("total", total)], columns=["part", "cost"])
    frame.attrs["unit"] = {"cost": unit}
    return frame


def _span(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)] if len(values) else values
    if not len(finite):
        return (float("inf"), float("inf")) if len(values) else (float("nan"), float("nan"))
    return float(finite.min()), float(finite.max())


def _finite_or(value: float, text: str) -> float | str:
    """``value``, or ``text`` for an infinite one (the sheet had read "inf" where the report says "none")."""
    return text if math.isinf(value) else float(value)


def _network_inputs(problem: Problem) -> list[tuple[str, str, Any, str]]:
    rows = [
        ("network", "currency", problem.currency, ""),
        ("network", "carbon price", problem.carbon_price, "currency/t CO2"),
        ("network", "single sourcing", bool(problem.single_sourcing), ""),
        ("network", "capex budget", _finite_or(problem.capex_budget, "none"), "currency"),
        ("network", "CO2 cap", _finite_or(problem.co2_cap_t, "none"), "t CO2/yr"),
        ("network", "min facilities", problem.min_facilities, "facilities"),
        ("network", "max facilities", "no limit" if problem.max_facilities is None else problem.max_facilities,
         "facilities"),
    ]
    if problem.max_unmet is not None:  # a pareto point's service floor
        rows += [(f"product {product}", "most unmet (the pareto point's service floor)", float(limit), "units/yr")
                 for product, limit in zip(problem.product_ids, problem.max_unmet, strict=True) if math.isfinite(limit)]
    rows += [("size", name, value, "") for name, value in problem.summary().items()]
    for p, product in enumerate(problem.product_ids):
        rows += [
            (f"product {product}", "demand", float(problem.demand[:, p].sum()), "units/yr"),
            (f"product {product}", "unmet penalty", _finite_or(problem.unmet_penalty[p], "none: must be served"),
             "currency/unit"),
            (f"product {product}", "delivery radius", _finite_or(problem.max_distance_km[p], "none"), "km"),
        ]
    return rows


def _type_inputs(problem: Problem) -> list[tuple[str, str, Any, str]]:
    rows = []
    arc_type = problem.option_type[problem.arc_option]
    for k, type_id in enumerate(problem.type_ids):
        options = np.flatnonzero(problem.option_type == k)
        section = f"facility type {type_id}"
        rows.append((section, "candidate sites", len(options), "sites"))
        for item, values, unit in [
            ("opening cost", problem.opening_cost[options], "currency/yr"),
            ("module cost", problem.module_cost[options], "currency/yr"),
            ("module capacity", problem.module_capacity[options], "units/yr"),
            ("capex", problem.capex[options], "currency"),
        ]:
            low, high = _span(values)
            rows += [(section, f"{item} min", _finite_or(low, "no limit"), unit),
                     (section, f"{item} max", _finite_or(high, "no limit"), unit)]
        for p, product in enumerate(problem.product_ids):
            arcs = (arc_type == k) & (problem.arc_product == p)
            if arcs.any():
                low, high = _span(problem.arc_production_cost[arcs])
                rows += [(section, f"production cost {product} min", low, "currency/unit"),
                         (section, f"production cost {product} max", high, "currency/unit")]
    return rows


def inputs_sheet(problem: Problem) -> pd.DataFrame:
    """``section, item, value, unit``: the solved instance's key inputs (network, size, products,
    facility types with the ranges over their candidate sites); a classic kind's costs in its measure
    (set_covering's opening cost of 1 had read "1 EUR/yr", max_covering's penalty "1 EUR/unit")."""
    rows = [(section, item, cell_value(value), unit_text(kind_unit(unit, problem.objective_kind), problem.currency))
            for section, item, value, unit in _network_inputs(problem) + _type_inputs(problem)]
    return pd.DataFrame(rows, columns=["section", "item", "value", "unit"])


def solve_sheets(run: Run, summary: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The sheets of one solve: summary, sites, flows, inbound (only with suppliers), regions, costs, inputs,
    coverage and warnings (where there are any)."""
    inbound = {} if run.tables.inbound is None else {"inbound": in_measure(run.tables.inbound, run.problem)}
    return {
        "summary": summary_sheet(summary),
        "sites": in_measure(run.tables.sites, run.problem),
        "flows": in_measure(run.tables.flows, run.problem),
        **inbound,
        "regions": in_measure(run.tables.regions, run.problem),
        "costs": costs_sheet(summary.get("costs") or run.tables.cost_parts(),
                             (summary.get("units") or {}).get("costs", "currency/yr")),
        "inputs": inputs_sheet(run.problem),
        **({"coverage": coverage} if len(coverage := coverage_sheet(summary)) else {}),
        **({"warnings": warnings} if len(warnings := warnings_sheet(summary)) else {}),
    }


def warnings_sheet(summary: dict[str, Any]) -> pd.DataFrame:
    """summary.json's warnings, one per row (the workbook a board reads had none: 87,727 units/yr that no site
    can reach were in summary.json only)."""
    return pd.DataFrame({"warning": [str(text) for text in summary.get("warnings") or []]})


def coverage_sheet(summary: dict[str, Any]) -> pd.DataFrame:
    """The coverage curves of summary.json (as coverage.csv): the share of each product's demand served
    within each distance."""
    curves = (summary.get("service") or {}).get("coverage_curve") or {}
    rows = [(product, float(km), float(share)) for product, points in curves.items() for km, share in points]
    frame = pd.DataFrame(rows, columns=["product", "distance_km", "share_within"])
    frame.attrs["unit"] = {"distance_km": "km", "share_within": "fraction"}
    return frame


def in_measure(frame: pd.DataFrame, problem: Problem) -> pd.DataFrame:
    """``frame`` (not copied) with the units of its money columns in the run's measure
    (:func:`planner.export.summary.kind_unit`): a classic kind's cost columns do not hold money."""
    if problem.objective_kind == "cost":
        return frame
    labelled = frame.copy(deep=False)
    units = {column: kind_unit(unit, problem.objective_kind) for column, unit in frame.attrs.get("unit", {}).items()}
    labelled.attrs = {**frame.attrs, "unit": units}
    return labelled


def write_solve_workbook(path: Path, run: Run, summary: dict[str, Any]) -> Path:
    """``results.xlsx`` of one solve (the figures of summary.json and the CSV files)."""
    return write_workbook(path, solve_sheets(run, summary), run.problem.currency)


def _compare_unit(item: str) -> str:
    if item.endswith("percent"):
        return "%"
    if item.endswith("infeasible"):
        return ""
    return "currency/yr" if item.startswith("value_of_decentralisation.") else ""


def compare_sheets(comparison: Comparison) -> dict[str, pd.DataFrame]:
    """The sheets of a comparison: summary (the value of decentralisation, then the summary of the
    network whose tables follow: the hybrid, else the first variant), its sites, flows, regions, costs
    and inputs, and compare (compare.csv)."""
    name = "hybrid" if "hybrid" in comparison.plans else next(iter(comparison.plans))
    run = comparison.plans[name].run
    summary = build_summary(run, {}, [])
    decision = comparison.decision or {}
    block = {"winner": decision.get("winner"), "decided": decision.get("decided"),
             "value_of_decentralisation": clean_for_json(comparison.value)}
    head = pd.DataFrame(
        [("tables of variant", name, ""),
         *((item, value, _compare_unit(item)) for item, value in flatten(block))],
        columns=["item", "value", "unit"],
    )
    head["unit"] = [unit_text(unit, run.problem.currency) for unit in head["unit"]]
    sheets = solve_sheets(run, summary)
    sheets["summary"] = pd.concat([head, sheets["summary"]], ignore_index=True)
    return {**sheets, "compare": comparison.rows}


def write_compare_workbook(path: Path, comparison: Comparison) -> Path:
    """``results.xlsx`` of ``planner compare``."""
    name = "hybrid" if "hybrid" in comparison.plans else next(iter(comparison.plans))
    return write_workbook(path, compare_sheets(comparison), comparison.plans[name].run.problem.currency)
