"""Inbound supply in the outputs: the static and interactive maps, report.html (the "Inbound supply"
section and a cost split with negative revenue), network.gpkg and results.xlsx; a run without
suppliers has none of it.

The instance: point regions on the equator at longitudes 0, 1 and 2 (populations 10, 20, 30), one
plant type whose product "standard" needs 1 steel per unit (inbound 0.001 per unit-km) and sells at
30 within 50 km, else 20 (proximity prices, so the costs have a negative ``revenue`` part). Three
steel suppliers: J0 at longitude 0.5 (price 2, 40 units/yr), J1 at longitude 30, about 3,300 km off
the map (price 1, unlimited: 1 + 3.3 per unit delivered), J2 at longitude 1.5 (price 10, unlimited).
Every region buys (any price beats the cost), so the plants need 60 steel: J0 its 40, J1 the other 20
(about 4.3 against J2's 10 per unit), J2 nothing.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from matplotlib.collections import LineCollection, PathCollection

from planner.cli import main
from planner.export.report import cost_chart
from planner.export.static_map import INBOUND_COLOUR, build_map_figure
from tests.builders import equator_regions, tiny_model_file
from tests.conftest import restored_planner_logger

SUPPLIERS_CSV = """supplier_id,material,lon,lat,capacity_per_yr,cost_per_unit
J0,steel,0.5,0.0,40,2.0
J1,steel,30.0,0.0,,1.0
J2,steel,1.5,0.0,,10.0
"""
PLANT_WITH_INBOUND = """[facility_types.plant]
opening_cost_per_yr = 100.0
products = { standard = { cost_per_unit = 1.0 } }
[facility_types.plant.inbound]
steel = { cost_per_unit_km = 0.001 }
"""
PRICES = "materials = { steel = 1.0 }\n[products.standard.proximity]\nbands_km = [50]\nprice = [30.0, 20.0]\n"
PLANNER_DATA = re.compile(r'<script id="planner-data" type="application/json">(.*?)</script>', re.DOTALL)


def solve(folder: Path, supplied: bool) -> Path:
    """The CLI run on the equator regions, with suppliers (and prices) or as the plain tiny model."""
    folder.mkdir(parents=True, exist_ok=True)
    regions = equator_regions(folder / "regions.geojson", [0.0, 1.0, 2.0], [10, 20, 30])
    args = []
    if supplied:
        model = tiny_model_file(folder / "model.toml", regions, PLANT_WITH_INBOUND)
        text = model.read_text().replace("unmet_penalty_per_unit = 1000.0\n", PRICES)
        model.write_text(text)
        (folder / "suppliers.csv").write_text(SUPPLIERS_CSV)
        args = ["--suppliers", str(folder / "suppliers.csv")]
    else:
        model = tiny_model_file(folder / "model.toml", regions)
    out = folder / "out"
    with restored_planner_logger():
        result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(out), "--quiet", *args])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def supplied(tmp_path_factory) -> Path:
    return solve(tmp_path_factory.mktemp("supplied"), supplied=True)


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Path:
    return solve(tmp_path_factory.mktemp("plain"), supplied=False)


def map_data(out: Path) -> dict:
    return json.loads(PLANNER_DATA.search((out / "map.html").read_text(encoding="utf-8")).group(1))


class _Tables(HTMLParser):
    """The text of every cell of every table, as tables of rows."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def section(page: str, heading: str) -> str:
    """The HTML from ``<h2>heading`` to the next ``<h2>``."""
    start = page.index(f"<h2>{heading}")
    end = page.find("<h2>", start + 4)
    return page[start:end if end > 0 else len(page)]


def tables(html_text: str) -> list[list[list[str]]]:
    parser = _Tables()
    parser.feed(html_text)
    return parser.tables


def number(text: str) -> float:
    return float(text.replace(",", "").split()[0])


# --- the solve itself, hand-checked ------------------------------------------------------------------


def test_the_cheap_near_supplier_ships_its_capacity_and_the_far_one_the_rest(supplied):
    inbound = pd.read_csv(supplied / "inbound_flows.csv")
    shipped = inbound.groupby("supplier_id")["quantity"].sum()
    assert shipped.to_dict() == pytest.approx({"J0": 40.0, "J1": 20.0})
    summary = json.loads((supplied / "summary.json").read_text())
    assert summary["costs"]["revenue"] < 0
    assert summary["costs"]["inbound"] == pytest.approx(
        (inbound["material_cost"] + inbound["transport_cost"] + inbound["relationship_cost"]).sum())


# --- maps ------------------------------------------------------------------------------------------


def test_map_files_exist_and_the_interactive_map_has_the_supply_layers(supplied):
    for name in ("map.png", "map.svg", "map.pdf", "map.html"):
        assert (supplied / name).stat().st_size > 1000, name
    page = (supplied / "map.html").read_text(encoding="utf-8")
    assert '"Suppliers"' in page and '"Inbound flows"' in page  # the layer control's names
    supply = map_data(supplied)["supply"]
    keys = ("id", "material", "capacity", "price", "shipped")
    assert [dict(zip(keys, row, strict=True)) for row in zip(*(supply["suppliers"][k] for k in keys), strict=True)] == [
        {"id": "J0", "material": "steel", "capacity": 40, "price": 2, "shipped": 40},
        {"id": "J1", "material": "steel", "capacity": None, "price": 1, "shipped": 20},
        {"id": "J2", "material": "steel", "capacity": None, "price": 10, "shipped": 0},
    ]
    inbound = pd.read_csv(supplied / "inbound_flows.csv")
    lines = supply["inbound"]
    assert lines["supplier"] == inbound["supplier_id"].tolist() and lines["site"] == inbound["site_id"].tolist()
    assert lines["quantity"] == pytest.approx(inbound["quantity"].tolist())
    assert lines["cost"] == pytest.approx(inbound["cost"].tolist(), rel=1e-5)
    assert [path[0] for path in lines["path"]][inbound["supplier_id"].tolist().index("J1")] == [0.0, 30.0]
    assert supply["legend"] == [[supply["suppliers"]["colour"][0], "steel"]]


def test_static_map_draws_suppliers_in_the_view_and_cuts_lines_to_far_ones(supplied):
    layers = {name: gpd.read_file(supplied / "network.gpkg", layer=name)
              for name in ("regions", "sites", "flows", "suppliers", "inbound")}
    fig = build_map_figure(layers["regions"], layers["sites"], layers["flows"], ("plant",), "t",
                           suppliers=layers["suppliers"], inbound=layers["inbound"])
    main_axes = fig.axes[0]
    xmin, xmax = main_axes.get_xlim()
    assert xmax - xmin < 1_000_000  # metres: framed by the regions (222 km), not by J1 3,300 km away
    triangles = [c for c in main_axes.collections if isinstance(c, PathCollection) and c.get_zorder() == 2.5]
    assert sum(len(c.get_offsets()) for c in triangles) == 2  # J0 (filled) and J2 (open); J1 is off the map
    inbound = [c for c in main_axes.collections if isinstance(c, LineCollection) and c.get_zorder() == 1.8]
    assert len(inbound) == 1 and np.allclose(inbound[0].get_colors()[0][:3], _rgb(INBOUND_COLOUR))
    ends = np.concatenate(inbound[0].get_segments())
    assert len(inbound[0].get_segments()) == len(layers["inbound"])  # the line to J1 is cut, not dropped
    assert (ends[:, 0] >= xmin - 1).all() and (ends[:, 0] <= xmax + 1).all()
    titles = [legend.get_title().get_text() for legend in fig.legends]
    assert titles[-2:] == ["Suppliers: material", "Inbound material: width ∝ volume"]
    assert "1 of 3 suppliers is outside the panels" in fig.texts[-1].get_text()
    plain = build_map_figure(layers["regions"], layers["sites"], layers["flows"], ("plant",), "t")
    assert "Suppliers: material" not in [legend.get_title().get_text() for legend in plain.legends]


def _rgb(colour: str) -> tuple[float, ...]:
    from matplotlib.colors import to_rgb

    return to_rgb(colour)


# --- report ----------------------------------------------------------------------------------------


def test_report_inbound_section_recomputed_from_inbound_flows(supplied):
    page = (supplied / "report.html").read_text(encoding="utf-8")
    part = section(page, "Inbound supply")
    (table,) = tables(part)
    header, steel, total = table
    assert header[:3] == ["material", "suppliers used / available", "shipped (units/yr)"]
    inbound = pd.read_csv(supplied / "inbound_flows.csv")
    shipping = inbound[inbound["quantity"] > 0]
    quantity = inbound["quantity"].sum()
    expected = [
        (inbound[["material_cost", "transport_cost", "relationship_cost", "carbon_cost"]].sum().tolist(), 0.5),
        ([(inbound["distance_km"] * inbound["quantity"]).sum() / quantity], 0.05),
        ([inbound["co2_t"].sum()], 0.005),
    ]
    for row in (steel, total):
        assert row[1] == f"{shipping['supplier_id'].nunique()} / 3"
        assert number(row[2]) == pytest.approx(quantity, abs=0.5)
        cells = row[3:]
        for values, tolerance in expected:
            for value in values:
                assert number(cells.pop(0)) == pytest.approx(value, abs=tolerance)
    costs = json.loads((supplied / "summary.json").read_text())["costs"]
    share = inbound["cost"].sum() / sum(v for k, v in costs.items() if k != "revenue")
    assert f"{100 * share:.1f} % of the total cost before revenue" in part


def test_report_cost_split_shows_inbound_and_negative_revenue_adding_up(supplied):
    page = (supplied / "report.html").read_text(encoding="utf-8")
    (table,) = tables(section(page, "Cost breakdown"))
    rows = {row[0]: number(row[1]) for row in table[1:]}
    summary = json.loads((supplied / "summary.json").read_text())
    assert rows["revenue (proximity prices, negative)"] < 0
    assert rows["inbound (materials, transport, relationships)"] > 0 and "inbound carbon" in rows
    assert rows["total"] == pytest.approx(summary["objective"], abs=0.5)
    assert sum(v for k, v in rows.items() if k != "total") == pytest.approx(summary["objective"], abs=len(rows))


def test_the_cost_per_unit_served_names_every_part_it_adds(supplied):
    """The figure adds the inbound carbon too; its note had listed the parts without it."""
    page = (supplied / "report.html").read_text(encoding="utf-8")
    summary = json.loads((supplied / "summary.json").read_text())
    parts = [k for k in summary["costs"] if k not in ("unmet_penalty", "revenue")]
    assert parts == ["fixed", "setup", "production", "transport", "carbon", "inbound", "inbound_carbon"]
    assert "(fixed + setup + production + transport + carbon + inbound + inbound carbon) / units served" in page


def test_cost_chart_draws_a_negative_part_left_of_zero():
    fig = cost_chart({"fixed": 100.0, "production": 50.0, "revenue": -30.0, "inbound": 20.0}, "USD")
    ax = fig.axes[0]
    widths = [bar.get_width() for bar in ax.patches]
    assert sorted(widths) == [-30.0, 20.0, 50.0, 100.0] and sum(widths) == 140.0
    assert ax.get_xlim()[0] <= -30.0


# --- GeoPackage and workbook ---------------------------------------------------------------------


def test_gpkg_has_inbound_and_supplier_layers(supplied):
    assert [name for name, _ in pyogrio.list_layers(supplied / "network.gpkg")] == [
        "regions", "sites", "flows", "inbound", "suppliers"]
    suppliers = gpd.read_file(supplied / "network.gpkg", layer="suppliers")
    assert suppliers.set_index("supplier_id")["shipped"].to_dict() == pytest.approx({"J0": 40, "J1": 20, "J2": 0})


def test_workbook_has_the_inbound_sheet(supplied):
    book = openpyxl.load_workbook(supplied / "results.xlsx", read_only=True)
    assert book.sheetnames == ["summary", "sites", "flows", "inbound", "regions", "costs", "inputs", "coverage",
                               "warnings"]  # the run has warnings
    sheet = pd.read_excel(supplied / "results.xlsx", sheet_name="inbound")
    assert "quantity (material units/yr)" in sheet.columns and "distance_km" in sheet.columns
    assert any(re.fullmatch(r"material_cost \(\w+/yr\)", column) for column in sheet.columns)
    csv = pd.read_csv(supplied / "inbound_flows.csv")
    sheet.columns = [re.sub(r" \([^()]*\)$", "", column) for column in sheet.columns]
    pd.testing.assert_frame_equal(sheet, csv, check_dtype=False)


# --- without suppliers ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_run_without_suppliers_has_no_supply_output(plain):
    assert not (plain / "inbound_flows.csv").exists()
    assert map_data(plain)["supply"] is None
    assert "<h2>Inbound supply" not in (plain / "report.html").read_text(encoding="utf-8")
    assert [name for name, _ in pyogrio.list_layers(plain / "network.gpkg")] == ["regions", "sites", "flows"]
    assert "inbound" not in openpyxl.load_workbook(plain / "results.xlsx", read_only=True).sheetnames
    costs = json.loads((plain / "summary.json").read_text())["costs"]
    assert not {"inbound", "inbound_carbon", "revenue"} & set(costs)


# --- the interactive map in a browser --------------------------------------------------------------

# Opens the popup of every supplier and inbound line and reads the layer control's overlay names.
SUPPLY_PROBE = """<pre id="probe"></pre><script>
(function () {
  var out = {suppliers: [], inbound: [], overlays: [], errors: window.__errors};
  function popup() {
    var open = document.querySelectorAll('.leaflet-popup-content');
    return open.length ? open[open.length - 1].textContent : null;
  }
  document.querySelectorAll('.leaflet-planner-suppliers-pane .leaflet-marker-icon').forEach(function (icon) {
    icon.dispatchEvent(new MouseEvent('click', {bubbles: true}));
    out.suppliers.push(popup());
  });
  document.querySelectorAll('.leaflet-planner-inbound-pane path.leaflet-interactive').forEach(function (p) {
    p.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: 500, clientY: 400}));
    out.inbound.push(popup());
  });
  document.querySelectorAll('.leaflet-control-layers-overlays label').forEach(function (label) {
    out.overlays.push(label.textContent.trim());
  });
  document.getElementById('probe').textContent = JSON.stringify(out);
})();
</script>"""


@pytest.mark.slow
def test_supply_layers_render_with_popups_in_headless_chromium(supplied, tmp_path):
    import html

    from tests.test_interactive_map import CHROMIUM, PROBE_HEAD, _chromium, _console_errors

    if not CHROMIUM.exists():
        pytest.skip("needs Chromium on the PATH (apt-get install chromium)")
    text = (supplied / "map.html").read_text(encoding="utf-8")
    page = tmp_path / "probe.html"
    page.write_text(text.replace("<head>", "<head>" + PROBE_HEAD, 1).replace("</body>", SUPPLY_PROBE + "</body>"),
                    encoding="utf-8")
    dom, stderr, requested = _chromium(page, tmp_path, "--dump-dom")
    assert _console_errors(stderr) == [] and requested == []
    probe = json.loads(html.unescape(re.search(r'<pre id="probe">(.*?)</pre>', dom, re.DOTALL).group(1)))
    assert probe["errors"] == []
    assert probe["overlays"] == ["Inbound flows", "Flows", "Suppliers", "Sites"]
    assert sorted(p.split("material")[0] for p in probe["suppliers"]) == ["supplier J0", "supplier J1", "supplier J2"]
    assert all("steel" in p and "shipped" in p and "price" in p for p in probe["suppliers"])
    assert len(probe["inbound"]) == len(pd.read_csv(supplied / "inbound_flows.csv"))
    assert all("material" in p and "quantity" in p and "cost" in p for p in probe["inbound"])


def test_the_cost_to_serve_adds_up_to_the_objective_with_revenue_and_inbound_costs(supplied):
    """Σ cost to serve × demand is the objective: revenue subtracted, inbound supply costs shared out
    by quantity (without them a priced model's served regions had looked dearer than unserved ones)."""
    summary = json.loads((supplied / "summary.json").read_text(encoding="utf-8"))
    regions = gpd.read_file(supplied / "network.gpkg", layer="regions")
    sites = pd.read_csv(supplied / "sites.csv")
    assert (sites["production"] > 0).all()  # no idle facility whose overhead no region carries
    total = float((regions["cost_to_serve"] * regions["demand"]).sum())
    assert summary["costs"]["revenue"] < 0 and summary["costs"]["inbound"] > 0
    assert total == pytest.approx(summary["objective"], rel=1e-9)


def test_summary_names_the_suppliers_file_the_model_names():
    """summary.json's inputs.suppliers was null where the file came from the model's [suppliers] path."""
    from planner.export.summary import solve_sources
    from planner.inputs.config import read_model_config
    from planner.inputs.prepare import DataOptions
    from planner.solver.outcome import SolverOptions

    config = read_model_config("models/local_premium.toml")
    sources = solve_sources(config, DataOptions(), SolverOptions(), "regions.gpkg")
    assert sources["suppliers"] == str(config.suppliers.path) and sources["suppliers"].endswith("suppliers_us.csv")
    given = solve_sources(config, DataOptions(suppliers_path=Path("mine.csv")), SolverOptions(), "regions.gpkg")
    assert given["suppliers"] == "mine.csv"
