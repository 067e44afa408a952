"""map.html and report.html: self-contained (no outside host), user strings escaped, and the map
really renders in a headless Chromium without errors or network requests.

The tiny instance: five 0.2° square regions on the equator at longitudes 0, 1, 2, 5 and 3 (the
last without demand), one facility type allowed only at R0 (top_n=1), a 300 km delivery radius, so
R3 (556 km away) stays unmet. R3 is named like a script and the facility type like an image with an onerror handler.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from planner.export.interactive_map import longitude_cut, write_interactive_map
from planner.export.layers import flow_layer, region_layer, site_layer
from planner.export.report import write_report
from planner.export.summary import build_summary
from planner.inputs.prepare import DataOptions
from planner.pipeline import plan
from planner.solver.outcome import SolverOptions
from tests.builders import tiny_config

SCRIPT_NAME = "<script>alert(1)</script>"
TYPE_NAME = "<img src=x onerror=alert(2)>"
ODD_ID = 'R1 & "one"'
CHROMIUM = Path(shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium")  # as .ci/run
LEAFLET_JS = (Path(__file__).parents[1] / "planner" / "export" / "assets" / "leaflet.js").read_text(encoding="utf-8")
URL = re.compile(r"https?://[^\s\"'<>)]+")


@pytest.fixture(scope="module")
def layers(tmp_path_factory):
    """The tiny run and its three layers, solved once for the module."""
    folder = tmp_path_factory.mktemp("tiny")
    ids = ["R0", ODD_ID, "R2", "R3", "R4"]
    names = ["Zero", "One", "Two", SCRIPT_NAME, "Empty"]
    longitudes = [0.0, 1.0, 2.0, 5.0, 3.0]
    frame = gpd.GeoDataFrame(
        {"GEOID": ids, "NAME": names, "pop": [100.0, 50.0, 30.0, 20.0, 0.0]},
        geometry=[box(x - 0.1, -0.1, x + 0.1, 0.1) for x in longitudes],
        crs="EPSG:4326",
    )
    frame.to_file(folder / "regions.geojson", driver="GeoJSON")
    config = tiny_config(
        folder / "regions.geojson",
        products={"standard": {"unmet_penalty_per_unit": 1000.0}},
        transport={"standard": {"cost_per_unit_km": 0.01, "max_distance_km": 300.0}},
        facility_types={
            TYPE_NAME: {
                "opening_cost_per_yr": 100.0,
                "module_capacity_per_yr": 1000.0,
                "products": {"standard": {"cost_per_unit": 1.0}},
                "candidates": {"top_n": 1},
            }
        },
    )
    result = plan(config, DataOptions(), SolverOptions(mip_gap=1e-9))
    run = result.run
    assert run.tables.regions.set_index("region_id").loc["R3", "unmet"] == pytest.approx(20.0)
    return run, region_layer(run, result.inputs), site_layer(run), flow_layer(run)


def _map(layers, path: Path, basemap: bool = False) -> str:
    run, regions, sites, flows = layers
    write_interactive_map(regions, sites, flows, run.problem.type_ids, f"tiny {SCRIPT_NAME}", path, basemap=basemap)
    return path.read_text(encoding="utf-8")


def _links(page: str) -> list[str]:
    """Every src/href attribute of the page, as the browser's parser sees them."""
    links = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            links.extend(value or "" for name, value in attrs if name in ("src", "href"))

    Parser().feed(page)
    return links


def _embedded_data(page: str) -> dict:
    start = page.index('<script id="planner-data" type="application/json">') + len(
        '<script id="planner-data" type="application/json">'
    )
    return json.loads(page[start : page.index("</script>", start)])


def test_map_is_self_contained_and_escapes_user_strings(layers, tmp_path):
    page = _map(layers, tmp_path / "map.html")
    assert LEAFLET_JS in page  # the vendored library, inlined unchanged
    # outside the vendored library (whose only URLs are the SVG namespace and a link to leafletjs.com,
    # shown only in the attribution prefix, which the map switches off) no URL at all
    assert URL.findall(page.replace(LEAFLET_JS, "")) == []
    assert set(URL.findall(LEAFLET_JS)) == {"http://www.w3.org/2000/svg", "https://leafletjs.com"}
    assert "url(images/" not in page  # Leaflet's CSS images are inlined as data: URIs
    for raw in (SCRIPT_NAME, TYPE_NAME, ODD_ID):
        assert raw not in page
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in page
    assert f"<title>tiny {html.escape(SCRIPT_NAME)}</title>" in page

    data = _embedded_data(page)  # the JSON round-trips to the raw strings
    names = {f["properties"]["id"]: f["properties"]["name"] for f in data["regions"]["features"]}
    assert names == {"R0": "Zero", ODD_ID: "One", "R2": "Two", "R3": SCRIPT_NAME, "R4": "Empty"}
    assert data["sites"]["type"] == [TYPE_NAME] and data["basemap"] is None
    served_by = {f["properties"]["id"]: f["properties"]["served_by"] for f in data["regions"]["features"]}
    assert served_by == {"R0": TYPE_NAME, ODD_ID: TYPE_NAME, "R2": TYPE_NAME, "R3": "unmet", "R4": "no demand"}
    coordinates = np.array([c for f in data["regions"]["features"] for c in f["geometry"]["coordinates"][0]])
    assert np.array_equal(coordinates, np.round(coordinates, 5))
    assert len(data["flows"]["quantity"]) == 3 and len(data["region_layers"]) == 3


def test_basemap_adds_only_openstreetmap_tiles(layers, tmp_path):
    page = _map(layers, tmp_path / "map.html", basemap=True)
    hosts = {re.sub(r"https?://([^/]+).*", r"\1", url) for url in URL.findall(page.replace(LEAFLET_JS, ""))}
    assert hosts == {"tile.openstreetmap.org", "www.openstreetmap.org"}  # tiles and their attribution


def test_report_is_self_contained_and_escapes_user_strings(layers, tmp_path):
    run, regions, sites, flows = layers
    summary = build_summary(run, {"regions": str(tmp_path / f"{SCRIPT_NAME}.geojson")}, [f"warning about {TYPE_NAME}"])
    write_report(run, regions, sites, flows, summary, tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert URL.findall(page) == []
    assert [link for link in _links(page) if not link.startswith("data:")] == []
    for raw in (SCRIPT_NAME, TYPE_NAME):  # in the unmet-regions table, the facility table and the warnings
        assert raw not in page
        assert html.escape(raw) in page
    for heading in ("Cost breakdown", "Facilities (1 open)", "Demand and unmet demand by product", "Cost to serve",
                    "Regions with the most unmet demand", "Model assumptions", "Solver", "Independent audit"):
        assert f"<h2>{heading}" in page
    assert "passed" in page and page.count("data:image/png;base64,") == 5  # map + four charts (with coverage)


@pytest.mark.parametrize(
    ("points", "cut"), [([-179.5, 179.5], 0.0), ([-120.0, -70.0, 172.0], 51.0), ([0.0, 1.0], None)]
)
def test_longitudes_are_cut_at_the_widest_gap(points, cut):
    """Aleutians-like data (172°E with the US at −120…−70°) is cut in the widest gap, not at ±180°."""
    assert longitude_cut(np.array(points)) == cut


@pytest.mark.parametrize("cut", [None, 100.0, -60.0])
def test_every_flow_is_drawn_the_short_way_whatever_the_cut(cut):
    """London–Tokyo goes east (139.8° of longitude, as its distance is measured), a flow across 180°
    crosses it, and each path starts where the map's cut puts its first point."""
    from shapely.geometry import LineString

    from planner.export.interactive_map import _line_paths

    lines = gpd.GeoDataFrame(geometry=[LineString([(-0.13, 51.5), (139.7, 35.7)]),
                                       LineString([(179.0, -17.0), (-179.0, -18.0)]),
                                       LineString([(10.0, 1.0), (20.0, 2.0), (-170.0, 3.0)])], crs="EPSG:4326")
    paths = _line_paths(lines, cut)
    for path, line in zip(paths, lines.geometry, strict=True):
        lons = [lon for _, lon in path]
        assert all(abs(b - a) <= 180.0 for a, b in zip(lons, lons[1:], strict=False))
        first = line.coords[0][0]
        assert lons[0] == pytest.approx(first - 360.0 if cut is not None and first > cut else first)
    assert paths[0][1][1] - paths[0][0][1] == pytest.approx(139.83)


def test_popup_numbers_keep_what_the_tables_round_to():
    from planner.export.interactive_map import _number

    assert _number(1_234_567.5) == 1_234_567.5  # shown 1,234,568, as the table's value rounds
    assert _number(32_462_884.51) == 32_462_884.51
    assert _number(0.123456789, 4) == 0.1235
    assert _number(3.0) == 3 and _number(float("nan")) is None


def test_the_regions_layer_writes_zero_for_a_region_without_demand(layers):
    regions = layers[1].set_index("region_id")
    assert regions.loc["R4", "served_by"] == "no demand"
    assert regions.loc["R4", ["demand", "served", "unmet", "unmet_share"]].tolist() == [0.0] * 4


def test_a_polygon_drawn_across_the_antimeridian_is_split_there_for_gis():
    """A ring 179.6° → −179.6° (0.8° wide) becomes two parts within ±180°, of the same area; a polygon
    elsewhere, and a wide one within ±180°, stay as they are."""
    import shapely

    from planner.inputs.geo import polygons_split_at_antimeridian

    ring = shapely.Polygon([(179.6, -17.2), (-179.6, -17.2), (-179.6, -16.6), (179.6, -16.6)])
    suva, band = box(178.2, -18.3, 178.6, -17.9), box(-120.0, 0.0, 50.0, 1.0)
    split = polygons_split_at_antimeridian(np.array([ring, suva, band], dtype=object))
    assert split[1].equals(suva) and split[2].equals(band)
    parts = list(split[0].geoms)
    assert len(parts) == 2 and all(-180.0 <= p.bounds[0] and p.bounds[2] <= 180.0 for p in parts)
    assert sum(p.area for p in parts) == pytest.approx(0.8 * 0.6)
    assert sorted(round(p.bounds[0], 1) for p in parts) == [-180.0, 179.6]


def test_the_gis_layer_keeps_polar_caps_and_moves_data_written_in_0_to_360():
    """A cap from −180° to 180° is already within ±180° (it had lost its area); polygons written in
    0–360° are split at 180° and moved into ±180°, as are points beyond 180° (the sites layer is)."""
    import shapely

    from planner.inputs.geo import polygons_split_at_antimeridian

    cap, beyond, straddle = box(-180, -90, 180, -85), box(181.0, -18.0, 181.5, -17.5), box(179.8, -17, 180.4, -16.5)
    split = polygons_split_at_antimeridian(np.array([cap, beyond, straddle, shapely.Point(181.0, -17.0)],
                                                    dtype=object))
    assert split[0].equals(cap)
    svalbard = box(10.0, 77.0, 30.0, 81.0)  # a cap beside an island is no crossing either
    with_island = polygons_split_at_antimeridian(np.array([shapely.MultiPolygon([cap, svalbard])], dtype=object))
    assert with_island[0].area == pytest.approx(cap.area + svalbard.area)
    assert split[1].bounds == pytest.approx((-179.0, -18.0, -178.5, -17.5)) and split[1].area == pytest.approx(0.25)
    assert sorted(round(p.bounds[0], 1) for p in split[2].geoms) == [-180.0, 179.8]
    assert split[2].area == pytest.approx(0.3) and split[3].equals(shapely.Point(-179.0, -17.0))


def test_only_the_gis_layer_splits_a_region_at_the_antimeridian(layers):
    """The maps draw the regions layer as it is (a seam at 180° would show); the GeoPackage gets it split."""
    import shapely

    from planner.export.layers import regions_for_gis

    ring = shapely.Polygon([(179.6, -17.2), (-179.6, -17.2), (-179.6, -16.6), (179.6, -16.6)])
    regions = gpd.GeoDataFrame({"region_id": ["ring", "box"]}, geometry=[ring, box(0, 0, 1, 1)], crs="EPSG:4326")
    split = regions_for_gis(regions)
    assert split.geometry.iloc[0].geom_type == "MultiPolygon" and split.geometry.iloc[1].equals(box(0, 0, 1, 1))
    assert regions.geometry.iloc[0].equals(ring) and list(split["region_id"]) == ["ring", "box"]


def test_the_map_never_tears_a_region_across_its_cut():
    """Three 120° bands round the South Pole, a polar cap from −180° to 180° beside a small region, a
    ring drawn across ±180° (the map's cut falls between regions, never through one: a band had been
    drawn 240° wide over the others, the cap with no area)."""
    import shapely

    from planner.export.interactive_map import map_cut, shifted_parts

    bands = np.array([box(-180, -80, -60, -70), box(-60, -80, 60, -70), box(60, -80, 180, -70)], dtype=object)
    cap_and_box = np.array([box(-180, -90, 180, -85), box(0, -85, 30, -75)], dtype=object)
    ring = shapely.Polygon([(179.6, -17.2), (-179.6, -17.2), (-179.6, -16.6), (179.6, -16.6)])
    fiji = np.array([ring, box(178.2, -18.3, 178.6, -17.9), box(-179.0, -16.0, -178.5, -15.5)], dtype=object)
    for geoms in (bands, cap_and_box, fiji):
        drawn = shifted_parts(geoms, map_cut(geoms))
        assert [g.area for g in drawn] == pytest.approx([0.8 * 0.6 if g is ring else g.area for g in geoms])
        widths = [g.bounds[2] - g.bounds[0] for g in drawn]
        assert widths == pytest.approx([0.8 if g is ring else g.bounds[2] - g.bounds[0] for g in geoms])
    assert map_cut(cap_and_box) is None
    line = shapely.LineString([(170.0, 0.0), (-170.0, 1.0)])  # a line region drawn across ±180°: 20° long
    drawn = shifted_parts(np.array([line, shapely.Point(175.0, 0.5)], dtype=object),
                          map_cut(np.array([line, shapely.Point(175.0, 0.5)], dtype=object)))
    assert drawn[0].length == pytest.approx(np.hypot(20.0, 1.0))
    drawn = shifted_parts(fiji, map_cut(fiji))
    assert max(g.bounds[2] for g in drawn) - min(g.bounds[0] for g in drawn) == pytest.approx(3.3)  # side by side


# --- headless Chromium ------------------------------------------------------------------------------

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0", "--window-size=1000,800",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: any outside request fails (and is in the net log)
]

# Opens the popup of every region, flow and site, switches through the region colourings, and writes
# what it saw into <pre id="probe"> (the DOM dump shows it); alert() only records its argument.
PROBE_HEAD = (
    "<script>window.__alerts = []; window.alert = function (m) { window.__alerts.push(String(m)); };"
    "window.__errors = []; window.addEventListener('error', function (e) { window.__errors.push(e.message); });"
    "</script>"
)
PROBE_BODY = """<pre id="probe"></pre><script>
(function () {
  var out = {popups: [], legends: [], injected: 0, alerts: null, errors: null};
  function collect() {
    var open = document.querySelectorAll('.leaflet-popup-content');  // closed ones fade out for 200 ms
    var content = open[open.length - 1];
    out.popups.push(content ? content.textContent : null);
    out.injected += document.querySelectorAll('.leaflet-popup-content script, .leaflet-popup-content img').length;
  }
  ['regions', 'flows', 'sites'].forEach(function (pane) {
    document.querySelectorAll('.leaflet-planner-' + pane + '-pane path.leaflet-interactive').forEach(function (p) {
      p.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: 500, clientY: 400}));
      collect();
    });
  });
  document.querySelectorAll('.leaflet-control-layers-base input').forEach(function (input) {
    input.click();
    out.legends.push(document.querySelector('.planner-legend').textContent);
  });
  out.alerts = window.__alerts;
  out.errors = window.__errors;
  document.getElementById('probe').textContent = JSON.stringify(out);
})();
</script>"""


def _chromium(page: Path, work: Path, *mode: str) -> tuple[str, str, list[str]]:
    """Run Chromium on ``page``; return stdout, stderr and the URLs the page requested (net log)."""
    profile = work / f"profile-{page.stem}-{mode[0].strip('-').split('=')[0]}"
    net_log = profile.with_suffix(".netlog.json")
    done = subprocess.run(
        [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--log-net-log={net_log}", *mode,
         page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    log = json.loads(net_log.read_text(encoding="utf-8"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    # requests of the page carry its file:// isolation key; Chromium's own background requests do not
    requested = [
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start_job and "file://" in event.get("params", {}).get("network_isolation_key", "")
    ]
    return done.stdout, done.stderr, requested


def _console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line and ("Uncaught" in line or "rror" in line)]


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium on the PATH (apt-get install chromium)")
def test_map_renders_in_headless_chromium_offline(layers, tmp_path):
    page = tmp_path / "map.html"
    text = _map(layers, page)
    run, regions, sites, flows = layers

    # the page as written: a screenshot with the map drawn, no console error, no request
    _, stderr, requested = _chromium(page, tmp_path, f"--screenshot={tmp_path / 'shot.png'}")
    assert _console_errors(stderr) == []
    assert requested == []
    from PIL import Image

    with Image.open(tmp_path / "shot.png") as shot:
        colours = shot.convert("RGB").getcolors(maxcolors=1 << 20)
    assert shot.size == (1000, 800) and len(colours) > 50  # not blank: regions, lines, circles, legend

    # the probe: every popup and every colouring, user strings stay text, nothing executes
    probe_page = tmp_path / "probe.html"
    probe_page.write_text(text.replace("<head>", "<head>" + PROBE_HEAD, 1).replace("</body>", PROBE_BODY + "</body>"),
                          encoding="utf-8")
    dom, stderr, requested = _chromium(probe_page, tmp_path, "--dump-dom")
    assert _console_errors(stderr) == []
    assert requested == []
    probe = json.loads(html.unescape(re.search(r'<pre id="probe">(.*?)</pre>', dom, re.DOTALL).group(1)))
    assert probe["errors"] == []
    assert probe["injected"] == 0  # no <script>/<img> element made from data inside a popup
    assert probe["alerts"] == []
    assert len(probe["popups"]) == len(regions) + len(flows) + len(sites)
    assert all(probe["popups"]), probe["popups"]
    assert any(SCRIPT_NAME in text for text in probe["popups"])  # shown as text in its popup
    assert any(TYPE_NAME in text and ODD_ID in text for text in probe["popups"])  # flow popup
    titles = [legend.split("Sites")[0] for legend in probe["legends"]]
    assert len(set(titles)) == 3 and TYPE_NAME in probe["legends"][0] and "cost to serve" in probe["legends"][2]
    # a region 85 % unmet read "served by: unmet": it is the type (or unmet) taking most of its demand
    assert probe["legends"][0].startswith("Regions: mainly served by")
    assert sum("mainly served by" in text for text in probe["popups"]) == len(regions)
    for raw in (SCRIPT_NAME, TYPE_NAME, '<img src="x"'):
        assert raw not in dom
    assert dom.count("<path") >= len(regions) + len(flows) + len(sites)  # the vector layers, as SVG paths
    assert dom.count("leafletjs.com") == LEAFLET_JS.count("leafletjs.com")  # no attribution link rendered


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium on the PATH (apt-get install chromium)")
def test_basemap_is_the_only_network_use(layers, tmp_path):
    """The control for the net-log check above: with basemap=True the page asks for OSM tiles."""
    page = tmp_path / "map.html"
    _map(layers, page, basemap=True)
    _, stderr, requested = _chromium(page, tmp_path, "--dump-dom")
    assert requested and all(url.startswith("https://tile.openstreetmap.org/") for url in requested)



def test_points_nearer_a_pole_than_web_mercator_draws_are_warned_about(caplog):
    """Leaflet's map ends at 85.05°: 40 points at 84–90°N had been drawn on one line without a word."""
    import logging

    import shapely

    from planner.export.interactive_map import _warn_beyond_mercator

    arctic = np.array([shapely.Point(10.0 * i, 84.0 + 0.2 * i) for i in range(30)], dtype=object)
    with caplog.at_level(logging.WARNING):
        _warn_beyond_mercator([arctic[:5], np.array([box(0, -80, 1, -70), None], dtype=object)])
    assert "lie beyond" not in caplog.text  # 84.0–84.8°N and 75°S
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        _warn_beyond_mercator([arctic])
    assert "map.html: 24 regions, sites or suppliers lie beyond 85.05° of latitude" in caplog.text
    _warn_beyond_mercator([np.array([shapely.Polygon(), shapely.Point(), shapely.MultiPolygon()], dtype=object)])


def test_a_site_popup_names_its_site_where_the_regions_have_names():
    from planner.export.interactive_map import _site_data

    sites = gpd.GeoDataFrame({"site_id": ["12", "4", "7"], "site_name": ["Abidjan", "", "7"],
                              "facility_type": ["plant"] * 3, "capacity": [1.0, 2.0, 3.0],
                              "production": [1.0, 1.0, 1.0]},
                             geometry=gpd.points_from_xy([-4.0, -0.6, 1.0], [5.4, 35.8, 2.0]), crs="EPSG:4326")
    data, _ = _site_data(sites, ("plant",), None)
    assert data["id"] == ["12 (Abidjan)", "4", "7"]
    assert _site_data(sites.drop(columns="site_name"), ("plant",), None)[0]["id"] == ["12", "4", "7"]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's number formatting")
def test_popup_figures_below_100_keep_four_significant_digits():
    """A site of 4.4e-6 units/yr and a flow of 0.0037 read "0 units/yr" in the popups (two decimals)."""
    script = (Path(__file__).parent.parent / "planner/export/assets/interactive_map.js").read_text(encoding="utf-8")
    start = script.index("  var numberFormat")
    end = script.index("  function percent")
    probe = script[start:end] + 'console.log(JSON.stringify([number(4.4e-6, "units/yr"), number(0.0037), ' \
                                'number(12.3456), number(1234.5), number(0)]));'
    shown = json.loads(subprocess.run(["node", "-e", probe], capture_output=True, text=True, check=True).stdout)
    assert shown == ["0.0000044 units/yr", "0.0037", "12.35", "1,235", "0"]


def test_the_site_legend_says_production_where_the_capacity_is_unlimited(layers, tmp_path):
    """An uncapacitated site is sized by its production: the legends had called that circle its capacity."""
    from planner.export.static_map import build_map_figure

    run, regions, sites, flows = layers
    assert _embedded_data(_map(layers, tmp_path / "capacity.html"))["site_size"] == "capacity"
    unlimited = sites.assign(capacity=np.inf)
    write_interactive_map(regions, unlimited, flows, run.problem.type_ids, "t", tmp_path / "unlimited.html")
    page = (tmp_path / "unlimited.html").read_text(encoding="utf-8")
    assert _embedded_data(page)["site_size"] == "production (capacity unlimited)"
    assert '"Sites (area ~ " + data.site_size + ")"' in page
    figure = build_map_figure(regions, unlimited, flows, run.problem.type_ids, "t")
    titles = [legend.get_title().get_text() for legend in figure.legends]
    assert "Site production (capacity unlimited): circle area" in titles


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's number formatting")
def test_popup_shares_strictly_between_0_and_1_never_read_0_or_100_percent(layers, tmp_path):
    """1 unit unmet of 36,000 read "unmet 0 %" beside a region coloured "up to 10 %", and a site 99.999 % used
    read "utilisation 100 %"."""
    script = (Path(__file__).parent.parent / "planner/export/assets/interactive_map.js").read_text(encoding="utf-8")
    start = script.index("  var numberFormat")
    end = script.index("  function element")
    probe = script[start:end] + "console.log(JSON.stringify([1 / 36000, 0.99999, 0, 1, 0.25, 1e-12].map(percent)));"
    shown = json.loads(subprocess.run(["node", "-e", probe], capture_output=True, text=True, check=True).stdout)
    assert shown == ["0.003 %", "99.999 %", "0 %", "100 %", "25 %", "0.000001 %"]
    run, regions, sites, flows = layers
    nearly = (regions.assign(unmet_share=0.99999), sites.assign(utilization=0.99999), flows)
    data = _embedded_data(_map((run, *nearly), tmp_path / "nearly.html"))
    assert {feature["properties"]["unmet_share"] for feature in data["regions"]["features"]} == {0.99999}
    assert set(data["sites"]["utilization"]) == {0.99999}  # four digits had sent 1: "100 %"


def test_flow_popups_give_the_delivery_time_where_an_od_matrix_has_minutes(layers, tmp_path):
    """A service level of 80 % within 240 min: the flows' popups gave the km alone, not the minutes it is
    measured in."""
    run, regions, sites, flows = layers
    timed = flows.assign(minutes=[15.0 + k for k in range(len(flows))])
    data = _embedded_data(_map((run, regions, sites, timed), tmp_path / "timed.html"))
    assert data["flows"]["minutes"] == [15.0 + k for k in range(len(flows))]
    assert "minutes" not in _embedded_data(_map(layers, tmp_path / "plain.html"))["flows"]
    script = (Path(__file__).parent.parent / "planner/export/assets/interactive_map.js").read_text(encoding="utf-8")
    assert 'if (flows.minutes) rows.push(["delivery time", number(flows.minutes[i], "min")]);' in script
