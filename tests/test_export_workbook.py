"""results.xlsx: the same figures as the CSV files, headers with units and the model's currency,
number formats without scientific notation, frozen header rows, and the compare sheet.

The instance: regions of demand 10 and 20 at longitudes 0 and 1 (111.19 km apart), one plant type
without a capacity limit (capacity inf, utilization NaN: written as "inf" and an empty cell), EUR.
"""

from __future__ import annotations

import json
import re

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.export.compare_report import write_comparison
from planner.export.workbook import cell_format, header, write_workbook
from planner.inputs.prepare import DataOptions
from planner.solver.outcome import SolverOptions
from planner.studies.compare import compare, standard_variants
from tests.builders import equator_regions, tiny_config, tiny_model_file
from tests.conftest import restored_planner_logger

UNIT = re.compile(r" \([^()]*\)$")


def strip_units(frame: pd.DataFrame) -> pd.DataFrame:
    """The column names without their units (read_excel reads the text "inf" as a number, as read_csv)."""
    return frame.rename(columns=lambda name: UNIT.sub("", name))


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("workbook")
    regions = equator_regions(folder / "r.geojson", [0.0, 1.0], [10, 20])
    model = tiny_model_file(folder / "model.toml", regions)
    model.write_text('currency = "EUR"\n' + model.read_text())
    out = folder / "out"
    with restored_planner_logger():
        result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("table", ["sites", "flows", "regions"])
def test_sheets_hold_the_csv_figures(solved, table):
    csv = pd.read_csv(solved / f"{table}.csv")
    sheet = strip_units(pd.read_excel(solved / "results.xlsx", sheet_name=table))
    assert len(csv) > 0
    pd.testing.assert_frame_equal(sheet, csv, check_dtype=False)


def test_headers_carry_units_in_the_run_currency(solved):
    flows = pd.read_excel(solved / "results.xlsx", sheet_name="flows")
    assert "quantity (units/yr)" in flows.columns and "cost (EUR/yr)" in flows.columns
    assert "distance_km" in flows.columns and "distance_km (km)" not in flows.columns and "site_id" in flows.columns
    sites = pd.read_excel(solved / "results.xlsx", sheet_name="sites")
    assert sites["capacity (units/yr)"].tolist() == [float("inf")] and sites["utilization (fraction)"].isna().all()
    cells = openpyxl.load_workbook(solved / "results.xlsx")["sites"]
    assert cells["D2"].value == "inf" and cells["F2"].value is None  # capacity, utilization
    assert not any("currency" in str(name) for name in flows.columns)


def test_summary_and_costs_sheets_match_summary_json(solved):
    summary = json.loads((solved / "summary.json").read_text())
    items = pd.read_excel(solved / "results.xlsx", sheet_name="summary").set_index("item")
    assert float(items.loc["objective", "value"]) == pytest.approx(summary["objective"])
    assert items.loc["objective", "unit"] == "EUR/yr"
    assert items.loc["status", "value"] == summary["status"]
    costs = pd.read_excel(solved / "results.xlsx", sheet_name="costs").set_index("part")["cost (EUR/yr)"]
    assert costs.drop("total").to_dict() == pytest.approx(summary["costs"])
    assert costs["total"] == pytest.approx(summary["objective"])


def test_inputs_sheet_holds_the_key_inputs(solved):
    inputs = pd.read_excel(solved / "results.xlsx", sheet_name="inputs")
    assert list(inputs.columns) == ["section", "item", "value", "unit"]
    rows = inputs.set_index(["section", "item"])
    assert float(rows.loc[("product standard", "demand"), "value"]) == pytest.approx(30.0)
    assert float(rows.loc[("facility type plant", "opening cost min"), "value"]) == pytest.approx(100.0)
    assert rows.loc[("facility type plant", "opening cost min"), "unit"] == "EUR/yr"


def test_every_sheet_has_a_frozen_bold_header_and_number_formats(solved):
    book = openpyxl.load_workbook(solved / "results.xlsx")
    assert book.sheetnames == ["summary", "sites", "flows", "regions", "costs", "inputs", "coverage"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet["A1"].font.bold, sheet.title
    flows = book["flows"]
    formats = {cell.number_format for row in flows.iter_rows(min_row=2) for cell in row
               if isinstance(cell.value, float)}
    assert formats and all("E" not in f and f != "General" for f in formats)
    assert "#,##0.00" in formats


def test_number_formats_avoid_scientific_notation():
    assert cell_format(1234567.0, None) == "#,##0.00" and cell_format(12, None) == "#,##0"
    assert cell_format(1e-9, None) == "#,##0.000000000000" and cell_format(0.5, "fraction") == "0.0000"
    # four significant digits below 10 (0.0214 t had shown 0.02, 2.1e-8 as 0.000000)
    assert cell_format(0.0214, None) == "#,##0.00000" and cell_format(2.1e-8, None) == "#,##0.00000000000"
    assert cell_format(1.5, None) == "#,##0.000" and cell_format(0.0, None) == "#,##0.00"
    assert cell_format(1e-30, None) == "#,##0.000000000000000"  # at most 15 decimals
    # facility counts of a compare sheet are floats where a variant has none (a blank): 2.0 read 2.00
    assert cell_format(2.0, "facilities") == "#,##0" and cell_format(2.5, "facilities") == "#,##0.000"
    assert cell_format("a", None) is None and cell_format(True, None) is None
    frame = pd.DataFrame({"cost": [1.0], "site_id": ["s"]})
    frame.attrs["unit"] = {"cost": "currency/yr"}
    assert header(frame, "USD") == ["cost (USD/yr)", "site_id"]


def test_text_starting_with_equals_stays_text(tmp_path):
    """A region id "=1+1" (or "=HYPERLINK(...)") from the data is written as text, not as a formula
    that Excel would evaluate, and "#N/A" as text, not as Excel's error."""
    frame = pd.DataFrame({"region_id": ["=1+1", "plain", "#N/A"], "=col": [1.0, 2.0, 3.0]})
    path = write_workbook(tmp_path / "w.xlsx", {"regions": frame}, "EUR")
    sheet = openpyxl.load_workbook(path)["regions"]
    assert [(cell.value, cell.data_type) for cell in sheet["A"]] == [("region_id", "s"), ("=1+1", "s"),
                                                                     ("plain", "s"), ("#N/A", "s")]
    assert (sheet["B1"].value, sheet["B1"].data_type) == ("=col", "s")


def test_compare_writes_the_compare_sheet(tmp_path):
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 10.0], [10, 10])
    production = {"standard": {"cost_per_unit": 1.0}}
    config = tiny_config(regions, facility_types={
        "central": {"role": "central", "opening_cost_per_yr": 100.0, "products": production},
        "micro": {"role": "microfactory", "opening_cost_per_yr": 50.0, "products": production},
    })
    comparison = compare(standard_variants(config), DataOptions(), SolverOptions(mip_gap=1e-9))
    write_comparison(comparison, tmp_path / "cmp")
    workbook = tmp_path / "cmp" / "results.xlsx"
    assert "compare" in openpyxl.load_workbook(workbook).sheetnames
    sheet = pd.read_excel(workbook, sheet_name="compare")
    assert "objective (currency/yr)" not in sheet.columns and "cost_fixed (USD/yr)" in sheet.columns
    csv = pd.read_csv(tmp_path / "cmp" / "compare.csv")  # its currency column is in the sheet's headers
    assert set(csv.pop("currency")) == {"USD"}
    pd.testing.assert_frame_equal(strip_units(sheet), csv, check_dtype=False)



def test_the_workbooks_temporary_files_stay_beside_it(tmp_path, monkeypatch):
    """The rows go to temporary files in the workbook's own folder (the output's staging folder, removed when a
    run is interrupted, also by an exit at once that skips the exit functions), never the system's."""
    import tempfile

    system = tmp_path / "system"
    system.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system))
    made = []
    mkstemp = tempfile.mkstemp

    def recording(*args, **kwargs):
        made.append(kwargs.get("dir"))
        return mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", recording)
    folder = tmp_path / "staging"
    folder.mkdir()
    write_workbook(folder / "results.xlsx", {"flows": pd.DataFrame({"quantity": [1.0, 2.0]})}, "USD")
    assert made and set(made) == {str(folder)}
    assert list(system.iterdir()) == [] and [path.name for path in folder.iterdir()] == ["results.xlsx"]


def test_the_summary_sheet_gives_the_study_blocks_their_units():
    """The rollout's present values and the stochastic figures had an empty unit beside the
    objective's currency/yr, easy to mix up."""
    from planner.export.workbook import summary_sheet

    summary = {"currency": "KES", "objective": 5.0, "units": {"objective": "currency/yr", "timing": "s"},
               "timing": {"load": 0.1},
               "rollout": {"objective": 9.0, "mip_gap": 0.0, "strategies": {"pilot_micro": {"cvar": 3.0}},
                           "units": {"objective": "currency (present value)", "cvar": "currency (pv)"}}}
    units = dict(summary_sheet(summary)[["item", "unit"]].itertuples(index=False, name=None))
    assert units == {"currency": "", "objective": "KES/yr", "timing.load": "s", "audit_passed": "",
                     "rollout.objective": "KES (present value)", "rollout.mip_gap": "",
                     "rollout.strategies.pilot_micro.cvar": "KES (pv)"}


def test_the_summary_sheet_takes_a_dotted_unit_of_summary_json():
    """summary.json's units name "solver.solve_s": "s"; the sheet had shown the solve time with no unit."""
    from planner.export.workbook import summary_sheet

    summary = {"solver": {"nodes": 3, "solve_s": 0.75}, "units": {"solver.solve_s": "s"}}
    units = dict(summary_sheet(summary)[["item", "unit"]].itertuples(index=False, name=None))
    assert units["solver.solve_s"] == "s" and units["solver.nodes"] == ""
    kind = {"objective_kind": {"kind": "p_center", "value": 1579.97, "unit": "km", "p": 3}, "units": {}}
    units = dict(summary_sheet(kind)[["item", "unit"]].itertuples(index=False, name=None))
    assert units["objective_kind.value"] == "km" and units["objective_kind.p"] == ""


def test_headers_name_no_unit_twice_and_the_curves_have_their_own_sheet():
    """Headers read "modules (modules)" and "distance_km (km)"; the coverage curves were JSON text with
    16-digit floats in one cell of the summary sheet."""
    from planner.export.workbook import coverage_sheet, header, summary_sheet

    frame = pd.DataFrame(columns=["modules", "distance_km", "quantity", "cost"])
    frame.attrs["unit"] = {"modules": "modules", "distance_km": "km", "quantity": "units/yr", "cost": "currency/yr"}
    assert header(frame, "EUR") == ["modules", "distance_km", "quantity (units/yr)", "cost (EUR/yr)"]
    summary = {"currency": "USD", "objective": 1.0, "service": {"levels": [], "coverage_curve": {
        "standard": [[0.0, 0.25], [12.345678901234, 1.0]]}}}
    assert not summary_sheet(summary)["item"].str.contains("coverage_curve").any()
    sheet = coverage_sheet(summary)
    assert sheet.to_dict("list") == {"product": ["standard"] * 2, "distance_km": [0.0, 12.345678901234],
                                     "share_within": [0.25, 1.0]}
    assert coverage_sheet({"currency": "USD"}).empty


def test_the_inputs_sheet_says_none_where_there_is_no_budget_or_radius(solved):
    """The inputs sheet wrote the text "inf" for a capex budget and a delivery radius the model does not set, where
    the report says "none"."""
    inputs = pd.read_excel(solved / "results.xlsx", sheet_name="inputs")
    values = dict(zip(inputs["item"], inputs["value"], strict=False))
    assert values["capex budget"] == "none" and values["max facilities"] == "no limit"  # it was blank
    assert "inf" not in [str(value) for value in values.values()]


def test_the_runs_warnings_have_their_sheet(solved, tmp_path):
    """results.xlsx had no warnings (demand no site can reach was said in summary.json only); a run without
    warnings has no such sheet (above)."""
    from planner.export.workbook import warnings_sheet, write_workbook

    sheet = warnings_sheet({"warnings": ["product 'custom': 1835 regions … stay unmet (87,727 units/yr)"]})
    write_workbook(tmp_path / "w.xlsx", {"warnings": sheet}, "EUR")
    cells = [row for row in openpyxl.load_workbook(tmp_path / "w.xlsx")["warnings"].iter_rows(values_only=True)]
    assert cells == [("warning",), ("product 'custom': 1835 regions … stay unmet (87,727 units/yr)",)]
    assert warnings_sheet({"warnings": []}).empty and warnings_sheet({}).empty


def test_a_table_longer_than_a_sheet_is_left_out_and_named(tmp_path, monkeypatch, caplog):
    """Excel cuts a sheet of more than 1,048,576 rows when it opens the file, without a word: such a table is
    left out of the workbook and named, with its rows, in a sheet and a warning (here with the limit at 4)."""
    import planner.export.workbook as workbook

    monkeypatch.setattr(workbook, "EXCEL_MAX_ROWS", 4)
    sheets = {"sites": pd.DataFrame({"site_id": ["A", "B", "C"]}),  # 3 rows and the header: 4
              "flows": pd.DataFrame({"quantity": [1.0, 2.0, 3.0, 4.0]})}
    with restored_planner_logger(), caplog.at_level("WARNING", logger="planner"):
        path = write_workbook(tmp_path / "results.xlsx", sheets, "USD")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["sites", "left_out"]
    assert [cell.value for cell in book["left_out"][2]][:2] == ["flows", 4]
    assert "the flows table has 4 rows, more than an Excel sheet holds (4 with its header)" in caplog.text


def test_a_text_longer_than_a_cell_holds_is_cut(tmp_path):
    """A cell holds at most 32,767 characters (Excel calls a file with a longer one damaged)."""
    sheets = {"regions": pd.DataFrame({"region_id": ["R0", "R1"], "region_name": ["x" * 40_000, "short"]})}
    book = openpyxl.load_workbook(write_workbook(tmp_path / "results.xlsx", sheets, "USD"))
    names = [row[1].value for row in book["regions"].iter_rows(min_row=2)]
    assert len(names[0]) == 32_767 and names[0].endswith("…") and names[1] == "short"


def test_an_interrupted_workbook_is_not_assembled(tmp_path, monkeypatch):
    """Ctrl-C while the rows are written stops at once: no workbook is put together from the rows so far, and its
    temporary row files are closed and gone."""
    import planner.export.workbook as workbook
    from planner.interrupt import Interrupted

    def interrupted(*args):
        raise Interrupted()

    monkeypatch.setattr(workbook, "_write_cell", interrupted)
    with pytest.raises(Interrupted):
        write_workbook(tmp_path / "results.xlsx", {"flows": pd.DataFrame({"quantity": [1.0]})}, "USD")
    assert list(tmp_path.iterdir()) == []
