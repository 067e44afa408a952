"""The writers draw degenerate data without raising: no open facility (all demand unmet), one region,
costs that are all equal or equal but for float noise, missing and non-finite numbers, empty tables.

The layers are tiny: 0.2° square regions on the equator at longitudes 0, 1, 2, ... The solved runs use
five such regions with two products (demand 1, 1.1, 1.2, 2 and 1.3 units/yr of one, a tenth of that of
the other), both with the unmet penalty of the Vermont run that opened nothing (1,720/11 per unit):
opening a plant costs 10^12, so nothing opens and every region's cost to serve is the penalty, give or
take float noise (156.36363636363635, ...37 and ...4), which made the histogram raise "Too many bins".
"""

from __future__ import annotations

import json
import warnings
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import LineString, Point, box

from planner.cli import main
from planner.export.alternatives_report import side_by_side_figure
from planner.export.charts import finite, histogram, new_figure, scaled_text, unit_prefix
from planner.export.compare_report import breakeven_figure, where_micro_wins_figure
from planner.export.interactive_map import interactive_map_html
from planner.export.layers import flow_layer, region_layer, site_layer
from planner.export.pareto_report import frontier_figure
from planner.export.report import cost_chart, cost_to_serve_chart, demand_chart, report_html
from planner.export.rollout_report import timeline_figure
from planner.export.static_map import build_map_figure
from planner.export.stochastic_report import cost_distribution_chart
from planner.export.summary import build_summary
from planner.export.sweep_charts import facility_mix_figure, results_figure
from planner.inputs.prepare import DataOptions
from planner.pipeline import plan
from planner.solver.outcome import SolverOptions
from tests.builders import tiny_config, tiny_model_file

TYPES = ("plant", "micro")
DEMAND = [1.0, 1.1, 1.2, 2.0, 1.3]
VERMONT_PENALTY = 1720 / 11
NOISY_PENALTY = [156.36363636363635, 156.36363636363637, 156.3636363636364, 156.36363636363635, 156.36363636363637]
NOT_FINITE = [np.nan, np.inf, -np.inf]


# --- layers ----------------------------------------------------------------------------------------------


def regions(n: int, **columns) -> gpd.GeoDataFrame:
    """``n`` square regions; every column a list of ``n`` values (or one value for all)."""
    data = {"region_id": [f"R{i}" for i in range(n)], "region_name": [f"Region {i}" for i in range(n)]}
    data.update({name: values if isinstance(values, list) else [values] * n for name, values in columns.items()})
    return gpd.GeoDataFrame(data, geometry=[box(i - 0.1, -0.1, i + 0.1, 0.1) for i in range(n)], crs="EPSG:4326")


def sites(**columns) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values()), []))
    data = {"site_id": [f"S{j}" for j in range(n)], "facility_type": [TYPES[j % 2] for j in range(n)], **columns}
    return gpd.GeoDataFrame(data, geometry=[Point(j, 0.0) for j in range(n)], crs="EPSG:4326")


def flows(quantity: list[float]) -> gpd.GeoDataFrame:
    n = len(quantity)
    data = {"site_id": ["S0"] * n, "region_id": [f"R{i}" for i in range(n)], "quantity": quantity}
    return gpd.GeoDataFrame(data, geometry=[LineString([(0, 0), (i, 0)]) for i in range(n)], crs="EPSG:4326")


NO_SITES = sites(capacity=[], production=[])
NO_FLOWS = flows([])


def without_positions() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A site and a flow with NaN coordinates, a site and a flow without a geometry, one of each drawable."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # shapely warns when it builds a line through NaN
        nan_line = LineString([(np.nan, np.nan), (0, 0)])
    placed = sites(capacity=[1.0, 1.0, 1.0], production=[1.0, 1.0, 1.0])
    placed = placed.set_geometry(gpd.GeoSeries([Point(np.nan, np.nan), None, Point(1, 0)], crs="EPSG:4326"))
    lines = flows([1.0, 2.0, 3.0]).set_geometry(gpd.GeoSeries([nan_line, None, LineString([(0, 0), (2, 0)])],
                                                               crs="EPSG:4326"))
    return placed, lines

CASES = {
    "nothing open": (
        regions(5, demand=DEMAND, served_by="unmet", unmet_share=1.0, cost_to_serve=NOISY_PENALTY),
        NO_SITES, NO_FLOWS,
    ),
    "one region": (regions(1, demand=5.0, served_by="plant", unmet_share=0.0, cost_to_serve=2.0),
                   sites(capacity=[10.0], production=[5.0]), flows([5.0])),
    "no demand": (regions(3, demand=0.0, served_by="no demand", unmet_share=np.nan, cost_to_serve=np.nan),
                  NO_SITES, NO_FLOWS),
    "not finite": (
        regions(4, demand=[1.0, *NOT_FINITE], served_by=["plant", "unmet", "micro", "elsewhere"],
                unmet_share=[0.0, *NOT_FINITE], cost_to_serve=[3.0, *NOT_FINITE]),
        sites(capacity=[np.inf, np.nan, 0.0, 10.0], production=[np.inf, np.nan, -1.0, 0.0]),
        flows([np.inf, np.nan, -1.0, 0.0]),
    ),
    "no position": (regions(3, demand=1.0, served_by="plant", unmet_share=0.0, cost_to_serve=1.0),
                    *without_positions()),
}


@pytest.mark.parametrize("case", CASES)
def test_static_map_draws_degenerate_layers(case):
    figure = build_map_figure(*CASES[case], TYPES, case)
    figure.canvas.draw()
    assert figure.axes


@pytest.mark.parametrize("case", CASES)
def test_interactive_map_writes_degenerate_layers_as_strict_json(case):
    page = interactive_map_html(*CASES[case], TYPES, case, currency="USD")
    start = page.index('type="application/json">') + len('type="application/json">')
    data = json.loads(page[start : page.index("</script>", start)], parse_constant=pytest.fail)  # no NaN
    assert len(data["regions"]["features"]) == len(CASES[case][0])
    assert all(radius > 0 for radius in data["sites"]["radius"])


# --- charts ----------------------------------------------------------------------------------------------


def tick_texts(axis) -> list[str]:
    return [label.get_text() for label in axis.get_ticklabels() if label.get_visible() and label.get_text()]


def assert_tick_labels_apart(figure) -> None:
    """No two visible tick labels of an axis overlap, on any axes of the figure that shows its axes."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    for ax in figure.axes:
        if not ax.axison:
            continue
        for axis, lo, hi in ((ax.xaxis, "x0", "x1"), (ax.yaxis, "y0", "y1")):
            low, high = sorted(axis.get_view_interval())
            labels = [tick.label1 for tick in axis.get_major_ticks() if low <= tick.get_loc() <= high]
            boxes = sorted((label.get_window_extent(renderer) for label in labels
                            if label.get_visible() and label.get_text()), key=lambda extent: getattr(extent, lo))
            for first, second in zip(boxes, boxes[1:], strict=False):
                assert getattr(first, hi) <= getattr(second, lo) + 0.5, (axis.get_label_text(), tick_texts(axis))


@pytest.mark.parametrize(
    "values",
    [[], [5.0], [0.0, 0.0], [VERMONT_PENALTY, VERMONT_PENALTY * (1 + 2e-16)], NOT_FINITE, [1.0, np.nan, 2.0],
     [1e-300, 0.0], [1e15, 1e15 * (1 + 1e-12)]],
)
def test_histogram_of_degenerate_values(values):
    figure, ax = new_figure(4, 3)
    drawn = histogram(ax, np.array(values, dtype=float), 30)
    assert len(drawn) == np.isfinite(values).sum()
    figure.canvas.draw()


def test_cost_chart_reads_in_millions_without_overlap():
    costs = {"fixed": 2.1e7, "production": 4.3e7, "transport": 1.9e7, "carbon": 0.0, "unmet_penalty": 6.1e7}
    figure = cost_chart(costs, "USD")
    assert_tick_labels_apart(figure)
    ax = figure.axes[0]
    assert ax.get_xlabel() == "M USD/yr"
    assert {"0", "20", "40", "60"} <= set(tick_texts(ax.xaxis))


@pytest.mark.parametrize("costs", [{"fixed": None, "carbon": np.nan}, {"fixed": 0.0}, {"fixed": np.inf}, {}])
def test_cost_chart_of_missing_zero_and_infinite_parts(costs):
    assert_tick_labels_apart(cost_chart(costs, "USD"))


@pytest.mark.parametrize("values", [[], [VERMONT_PENALTY] * 14, NOISY_PENALTY, NOT_FINITE, [0.5, 2.5e6, 1.2e6]])
def test_cost_to_serve_and_demand_charts(values):
    assert_tick_labels_apart(cost_to_serve_chart(np.array(values, dtype=float), "USD"))
    demand = {f"p{i}": {"served": v, "unmet": None} for i, v in enumerate(values)}
    assert_tick_labels_apart(demand_chart(demand))


def test_units_and_texts():
    assert unit_prefix(2e7) == (1e6, "M") and unit_prefix(1500) == (1e3, "k") and unit_prefix(np.nan) == (1.0, "")
    assert scaled_text(1_234_567, "USD/yr") == "1.23 M USD/yr" and scaled_text(None, "USD/yr") == "n/a"
    assert finite([1, None, "x", np.inf, 2.5]).tolist() == [1.0, 2.5]


def test_study_charts_of_degenerate_tables():
    periods = pd.DataFrame({"strategy": ["optimum"] * 3, "period": [1, 2, 3], "probability": 1.0,
                            "demand": [10.0, np.nan, 12.0], "capacity_plant": [np.inf, 0.0, 0.0]})
    assert_tick_labels_apart(timeline_figure(periods, TYPES))
    assert_tick_labels_apart(timeline_figure(periods.iloc[:0], TYPES))
    frontier = pd.DataFrame({"point": [0, 1], "co2_t": [1.2e4, np.nan], "objective": [3.4e7, 3.0e7],
                             "dominated_by": ["", ""], "n_plant": [1, 0]})
    assert_tick_labels_apart(frontier_figure(frontier, "USD"))
    named = frontier.rename(columns={"n_plant": "n_central plant"}).assign(**{"n_micro-factory": [2, 3]})
    figure = frontier_figure(named, "USD")  # type names no attribute can hold (itertuples renames them)
    assert "0: 1 central plant, 2 micro-factory" in [text.get_text() for text in figure.axes[0].texts]
    sweep = pd.DataFrame({"status": ["optimal"], "carbon_price": [50.0], "objective": [np.inf], "co2_t": [0.0],
                          "n_type_plant": [0]})
    assert_tick_labels_apart(results_figure(sweep, ["carbon_price"]))
    assert_tick_labels_apart(facility_mix_figure(sweep, ["carbon_price"]))
    comparison = SimpleNamespace(sweep=sweep.assign(n_central=0, n_microfactory=0), sweep_key="carbon_price",
                                 plans={})
    assert_tick_labels_apart(breakeven_figure(comparison))
    scenarios = pd.DataFrame({"probability": [0.5, np.nan], "total": [np.nan, np.inf]})
    assert cost_distribution_chart(scenarios, {"strategies": {}}, "USD").startswith("<img")


# --- solved runs that open nothing -----------------------------------------------------------------------


def nothing_opens_regions(folder):
    frame = gpd.GeoDataFrame(
        {"GEOID": [f"R{i}" for i in range(5)], "NAME": [f"Region {i}" for i in range(5)], "pop": DEMAND},
        geometry=[box(i - 0.1, -0.1, i + 0.1, 0.1) for i in range(5)],
        crs="EPSG:4326",
    )
    frame.to_file(folder / "regions.geojson", driver="GeoJSON")
    return folder / "regions.geojson"


@pytest.fixture(scope="module")
def nothing_opens(tmp_path_factory):
    """Opening a plant costs more than leaving every region unmet: the optimum opens nothing."""
    both = ("standard", "custom")
    config = tiny_config(
        nothing_opens_regions(tmp_path_factory.mktemp("regions")),
        products={p: {"demand_rate": rate, "unmet_penalty_per_unit": VERMONT_PENALTY}
                  for p, rate in zip(both, (1.0, 0.1), strict=True)},
        transport={p: {"cost_per_unit_km": 0.01} for p in both},
        facility_types={"plant": {"opening_cost_per_yr": 1e12, "module_capacity_per_yr": 1000.0,
                                  "products": {p: {"cost_per_unit": 1.0} for p in both}}},
    )
    result = plan(config, DataOptions(), SolverOptions(mip_gap=1e-9))
    assert result.run.tables.sites.empty and result.run.tables.flows.empty
    return result


def test_report_of_a_network_that_opens_nothing(nothing_opens):
    run, inputs = nothing_opens.run, nothing_opens.inputs
    layers = region_layer(run, inputs), site_layer(run), flow_layer(run)
    cost = layers[0]["cost_to_serve"].to_numpy(dtype=float)
    assert np.allclose(cost, VERMONT_PENALTY) and np.ptp(cost) > 0  # equal but for float noise
    with pytest.raises(ValueError, match="Too many bins"):  # what the report called before
        np.histogram(cost, bins=30)
    page = report_html(run, *layers, build_summary(run, {}, []))
    assert "No facility is open." in page and page.count("data:image/png;base64,") == 4
    # 0 % served within 0 km: no curve of one point (a dot on an axis from -0.05 to 0.05 km), a sentence
    assert "Service level and coverage curve" in page and "No curve to draw" in page
    import re
    assert re.search(r"Share of demand served at 0 km: [^<]*0(\.0)? %", page), re.findall("No curve[^<]*", page)


def test_report_of_missing_summary_figures_and_costs(nothing_opens):
    run, inputs = nothing_opens.run, nothing_opens.inputs
    regions_layer = region_layer(run, inputs).assign(cost_to_serve=np.nan, demand=[np.inf, 1.0, 0.0, np.nan, -1.0])
    summary = {**build_summary(run, {}, []), "costs": {"fixed": None, "transport": np.nan}, "demand": {},
               "objective": None, "mip_gap": None, "co2_t": np.nan}
    page = report_html(run, regions_layer, site_layer(run), flow_layer(run), summary)
    assert "No demand." in page and "No region with demand has a finite cost to serve." in page


def test_side_by_side_of_networks_that_open_nothing(nothing_opens):
    run = nothing_opens.run
    table = pd.DataFrame({"audited_cost": [run.report.objective, np.nan], "above_optimum_pct": [0.0, np.nan],
                          "distance_to_optimum": [0, 0]})
    result = SimpleNamespace(inputs=nothing_opens.inputs, slack=0.1, table=table,
                             networks=[SimpleNamespace(number=k, run=run) for k in range(2)])
    figure = side_by_side_figure(result)
    assert "M USD/yr" in figure.axes[0].get_title() or "k USD/yr" in figure.axes[0].get_title()


def test_side_by_side_of_regions_round_the_whole_world_keeps_their_areas(nothing_opens):
    """A grid of 30° cells over the globe: the side-by-side map of ``planner alternatives`` drew it in the
    azimuthal projection about its centre, the cell at the antipode stretched round the rim of the map and
    across it; it takes the static map's Equal Earth projection (cells split at the meridian opposite the
    centre), as compare's map does, and each cell keeps its area."""
    from planner.export.alternatives_report import _main_outline

    cells = [box(x, y, x + 30, y + 30) for x in range(-180, 180, 30) for y in range(-90, 90, 30)]
    regions = gpd.GeoDataFrame({"region_id": [f"C{i}" for i in range(len(cells))], "demand": 100.0},
                               geometry=shapely.segmentize(cells, 1.0), crs="EPSG:4326")
    crs, outline, (xmin, ymin, xmax, ymax) = _main_outline(regions)
    assert crs.startswith("+proj=eqearth") and len(outline) == len(regions)
    true_area = regions.to_crs("+proj=cea +datum=WGS84 +units=m").area.to_numpy()
    assert outline.area.to_numpy() == pytest.approx(true_area, rel=0.05)  # simplified outlines
    run = nothing_opens.run
    table = pd.DataFrame({"audited_cost": [run.report.objective] * 2, "above_optimum_pct": [0.0, 1.0],
                          "distance_to_optimum": [0, 1]})
    result = SimpleNamespace(inputs=SimpleNamespace(regions=regions), slack=0.1, table=table,
                             networks=[SimpleNamespace(number=k, run=run) for k in range(2)])
    panel = side_by_side_figure(result).axes[0]
    (left, right), (bottom, top) = panel.get_xlim(), panel.get_ylim()
    assert (top - bottom) / (right - left) < 0.6  # Equal Earth, padded: 0.53; the azimuthal map's disk: 1.0


def test_the_facility_mix_labels_each_bar_with_its_value():
    """Bars at 30, 165 and 300 M had round ticks "0, 200, 300" between them; 0.005 read "0.00"."""
    sweep = pd.DataFrame({"status": ["optimal"] * 3, "opening": [30e6, 165e6, 300e6], "rate": [0.005, 0.01, 0.02],
                          "n_type_plant": [1, 2, 3]})
    for key, labels in (("opening", ["30", "165", "300"]), ("rate", ["0.005", "0.01", "0.02"])):
        figure = facility_mix_figure(sweep, [key])
        figure.canvas.draw()
        axis = figure.axes[0]
        assert [tick.get_text() for tick in axis.get_xticklabels()] == labels
        assert axis.get_xlabel() == (f"{key} (M)" if key == "opening" else key)


def test_the_facility_mix_turns_labels_that_would_run_together():
    """A Latin hypercube's uneven values 5.774 and 6.233 (M) in a range from 1.1 to 8.6 had printed "5.7746.233";
    evenly spread values keep their labels level."""
    sweep = pd.DataFrame({"status": ["optimal"] * 5, "opening": [1.104e6, 2.74e6, 5.774e6, 6.233e6, 8.568e6],
                          "n_type_plant": [1, 2, 3, 2, 1]})
    figure = facility_mix_figure(sweep, ["opening"])
    assert {label.get_rotation() for label in figure.axes[0].get_xticklabels()} == {45.0}
    even = sweep.assign(opening=[1e6, 2e6, 3e6, 4e6, 5e6])
    assert {label.get_rotation() for label in facility_mix_figure(even, ["opening"]).axes[0].get_xticklabels()} == {0.0}


def test_side_by_side_names_a_first_network_not_proven_no_optimum_and_counts_in_words(nothing_opens):
    """The first panel of a run stopped at its gap limit was titled "optimum" under "within 10 % of the
    optimal cost"; "1 options differ"; the ring's legend read "not open so in the optimum"."""
    import dataclasses

    from planner.solver.outcome import Status

    proven = nothing_opens.run
    stopped = dataclasses.replace(proven, report=dataclasses.replace(proven.report, status=Status.GAP_LIMIT))
    table = pd.DataFrame({"audited_cost": [proven.report.objective] * 2, "above_optimum_pct": [0.0, 1.0],
                          "distance_to_optimum": [0, 1]})
    for run, base, title in ((proven, "optimum", "optimum: "), (stopped, "first network", "first network (gap_limit)")):
        result = SimpleNamespace(inputs=nothing_opens.inputs, slack=0.1, table=table,
                                 networks=[SimpleNamespace(number=k, run=run) for k in range(2)])
        figure = side_by_side_figure(result)
        assert figure.axes[0].get_title().startswith(title)
        assert figure.axes[1].get_title().endswith(f"1 option differs from the {base}")
        labels = [text.get_text() for text in figure.legends[0].get_texts()]
        assert f"open here, not in the {base}" in labels and f"open in the {base}, closed here" in labels
        assert ("optimal cost" in figure._suptitle.get_text()) == (base == "optimum")


def test_where_micro_wins_without_any_finite_advantage(nothing_opens):
    central = SimpleNamespace(run=nothing_opens.run, inputs=nothing_opens.inputs)
    advantage = pd.DataFrame({"region_id": [f"R{i}" for i in range(5)], "micro_advantage": [np.nan] * 4 + [np.inf]})
    comparison = SimpleNamespace(plans={"central_only": central}, regions=advantage)
    where_micro_wins_figure(comparison).canvas.draw()
    comparison.regions = advantage.assign(micro_advantage=0.0)
    assert_tick_labels_apart(where_micro_wins_figure(comparison))


def test_solve_command_exits_0_when_nothing_is_served(tmp_path):
    """The command line end to end: nothing opens, every region unmet at the same cost, report written."""
    regions_path = nothing_opens_regions(tmp_path)
    model = tiny_model_file(tmp_path / "model.toml", regions_path, f"""[products.custom]
demand_rate = 0.1
unmet_penalty_per_unit = {VERMONT_PENALTY!r}
[transport.custom]
cost_per_unit_km = 0.01
[facility_types.plant]
opening_cost_per_yr = 1e12
products = {{ standard = {{ cost_per_unit = 1.0 }}, custom = {{ cost_per_unit = 1.0 }} }}
""")
    text = model.read_text().replace("unmet_penalty_per_unit = 1000.0", f"unmet_penalty_per_unit = {VERMONT_PENALTY!r}")
    model.write_text(text)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "Cost to serve" in (out / "report.html").read_text(encoding="utf-8")


def test_lines_across_the_antimeridian_are_split_there():
    """Taveuni (−179.95°) to Labasa (179.39°): 0.66° apart the short way; the line was drawn 359° wide."""
    from planner.export.layers import lonlat_lines

    coords = np.array([[[-179.95, -16.8], [179.39, -16.43]], [[177.4, -17.8], [178.4, -18.1]]])
    first, second = lonlat_lines(coords)
    assert first.geom_type == "MultiLineString" and len(first.geoms) == 2
    west, east = first.geoms
    assert west.coords[0] == (-179.95, -16.8) and west.coords[1][0] == -180.0
    assert east.coords[0][0] == 180.0 and east.coords[1] == (179.39, -16.43)
    # the crossing latitude lies on the straight segment of the short way: 0.05 of its 0.66° of longitude
    assert west.coords[1][1] == east.coords[0][1] == pytest.approx(-16.8 + 0.05 / 0.66 * 0.37)
    assert sum(part.length for part in first.geoms) == pytest.approx(np.hypot(0.66, 0.37))
    assert list(second.geoms[0].coords) == [(177.4, -17.8), (178.4, -18.1)]
    plain = lonlat_lines(coords[1:])
    assert plain[0].geom_type == "LineString"  # no line crosses: plain lines, as before
    [short] = lonlat_lines(np.array([[[-175.0, -17.0], [190.0, -16.0]]]))  # 190° written 0–360: −170°
    assert list(short.coords) == [(-175.0, -17.0), (-170.0, -16.0)]


def test_lines_with_an_end_on_the_antimeridian_have_no_nan_and_no_empty_part():
    """(180, −17) to (−180, −17), one point, was a line split into NaN coordinates; (180, −17) to
    (−179.9, −17) had a first part of one point (invalid in GIS)."""
    from planner.export.layers import lonlat_lines

    coords = np.array([[[180.0, -17.0], [-179.9, -17.0]], [[-180.0, -17.0], [179.5, -16.0]],
                       [[180.0, -17.0], [-180.0, -17.0]], [[170.0, -17.0], [171.0, -17.0]]])
    lines = lonlat_lines(coords)
    assert not np.isnan(shapely.get_coordinates(lines)).any()
    assert all(line.is_valid for line in lines[:2])
    assert list(lines[0].coords) == [(-180.0, -17.0), (-179.9, -17.0)]  # on the other end's side: no crossing
    assert list(lines[1].coords) == [(180.0, -17.0), (179.5, -16.0)]
    assert shapely.length(lines[2]) == 0.0


def test_a_region_mostly_unmet_is_mainly_unmet():
    """56 % unmet and the rest from one microfactory was 'mainly served by microfactory'."""
    from planner.export.layers import region_service

    regions_table = pd.DataFrame({"region_id": ["A", "B", "C"], "product": "p", "demand": [100.0, 100.0, 10.0],
                                  "served": [44.0, 60.0, 0.0], "unmet": [56.0, 40.0, 10.0],
                                  "unmet_cost": [5600.0, 4000.0, 1000.0]})
    flows_table = pd.DataFrame({"region_id": ["A", "B", "B"], "facility_type": ["micro", "micro", "plant"],
                                "quantity": [44.0, 35.0, 25.0]})
    tables = SimpleNamespace(regions=regions_table, flows=flows_table,
                             cost_to_serve=lambda: pd.Series([1.0, 1.0, 1.0], index=["A", "B", "C"]))
    service = region_service(SimpleNamespace(tables=tables)).set_index("region_id")
    assert service["served_by"].to_dict() == {"A": "unmet", "B": "unmet", "C": "unmet"}
    flows_table.loc[1, "quantity"] = 45.0  # B: 45 from microfactories against 40 unmet
    service = region_service(SimpleNamespace(tables=tables)).set_index("region_id")
    assert service.loc["B", "served_by"] == "micro"


def test_the_unmet_label_compares_the_customers_demand_under_demand_factors():
    """Proximity: 55 of 100 served, delivered as 44 (factor 0.8), 45 unmet: mainly served, not 'unmet'."""
    from planner.export.layers import region_service

    regions_table = pd.DataFrame({"region_id": ["A"], "product": "p", "demand": [100.0], "served": [55.0],
                                  "unmet": [45.0], "unmet_cost": [4500.0]})
    flows_table = pd.DataFrame({"region_id": ["A"], "facility_type": ["micro"], "quantity": [44.0], "served": [55.0]})
    tables = SimpleNamespace(regions=regions_table, flows=flows_table,
                             cost_to_serve=lambda: pd.Series([1.0], index=["A"]))
    assert region_service(SimpleNamespace(tables=tables))["served_by"].tolist() == ["micro"]


def test_gis_layers_split_crossing_lines_and_the_map_reads_ends_of_split_lines():
    from planner.export.layers import lines_for_gis
    from planner.export.static_map import line_ends

    lines = gpd.GeoDataFrame({"quantity": [1.0, 2.0]}, geometry=[LineString([(-179.95, -16.8), (179.39, -16.43)]),
                                                                 LineString([(177.4, -17.8), (178.4, -18.1)])],
                             crs="EPSG:4326")
    split = lines_for_gis(lines)
    assert split["quantity"].tolist() == [1.0, 2.0] and split.crs == lines.crs
    assert [len(g.geoms) for g in split.geometry] == [2, 1]
    (x0, y0), (x1, y1) = line_ends(np.asarray(split.geometry.array, dtype=object))
    assert x0.tolist() == [-179.95, 177.4] and x1.tolist() == [179.39, 178.4]  # the flows' ends, as before
    assert y0.tolist() == [-16.8, -17.8] and y1.tolist() == [-16.43, -18.1]
    (x0, _), _ = line_ends(np.array([None, LineString()], dtype=object))
    assert np.isnan(x0).all()


def test_gis_lines_of_one_point_have_no_geometry_also_in_a_layer_split_at_the_antimeridian():
    from planner.export.layers import lines_for_gis

    for far in ((10.0, 50.0), (179.39, -16.43)):  # plain lines; a layer made multi-part by a crossing
        lines = gpd.GeoDataFrame({"quantity": [1.0, 2.0, 3.0]}, geometry=[
            LineString([(-179.95, -16.8), far]), LineString([(5.0, 45.0), (5.0, 45.0)]),
            LineString([(179.9, 1.0), (179.9, 1.0)])], crs="EPSG:4326")
        split = lines_for_gis(lines)
        assert split.geometry.isna().tolist() == [False, True, True]
        assert split.geometry.dropna().is_valid.all()


def test_an_empty_layer_is_written_with_its_geometry_type(tmp_path):
    import pyogrio

    from planner.export.folder import write_gis_layer

    empty = gpd.GeoDataFrame({"site_id": pd.Series([], dtype=object)}, geometry=[], crs="EPSG:4326")
    write_gis_layer(empty, tmp_path / "n.gpkg", "sites", "Point")
    write_gis_layer(empty, tmp_path / "n.gpkg", "flows", "LineString")
    assert pyogrio.read_info(tmp_path / "n.gpkg", layer="sites")["geometry_type"] == "Point"
    assert pyogrio.read_info(tmp_path / "n.gpkg", layer="flows")["geometry_type"] == "LineString"
    all_0_km = gpd.GeoDataFrame({"quantity": [1.0]}, geometry=[None], crs="EPSG:4326")  # every flow 0 km long
    write_gis_layer(all_0_km, tmp_path / "n.gpkg", "inbound", "LineString")
    assert pyogrio.read_info(tmp_path / "n.gpkg", layer="inbound")["geometry_type"] == "LineString"


def test_the_summary_lists_every_product_also_where_no_region_demands_it():
    from planner.results import ResultTables

    regions = pd.DataFrame({"region_id": ["A", "B"], "product": ["x", "x"], "demand": [3.0, 2.0],
                            "served": [3.0, 1.0], "unmet": [0.0, 1.0]})
    tables = ResultTables(sites=pd.DataFrame(), flows=pd.DataFrame(), regions=regions)
    assert tables.demand_by_product(("y", "x")) == {"x": {"demand": 5.0, "served": 4.0, "unmet": 1.0},
                                                    "y": {"demand": 0.0, "served": 0.0, "unmet": 0.0}}
    empty = ResultTables(sites=pd.DataFrame(), flows=pd.DataFrame(), regions=regions.iloc[:0])
    assert empty.demand_by_product(("standard",)) == {"standard": {"demand": 0.0, "served": 0.0, "unmet": 0.0}}


def test_sweep_costs_are_labelled_in_the_model_currency():
    sweep = pd.DataFrame({"status": ["optimal", "optimal"], "carbon_price": [0.0, 50.0], "objective": [3e7, 3.2e7],
                          "cost_fixed": [1e7, 1e7], "co2_t": [5.0, 4.0]})
    labels = [axis.get_ylabel() for axis in results_figure(sweep, ["carbon_price"], "EUR").axes]
    assert any("EUR/yr" in label for label in labels) and not any("currency" in label for label in labels)


def test_a_sweep_scenario_stopped_by_its_limit_is_drawn_hollow_and_counted():
    """A time_limit scenario's cost (a network's, not proven the least) was drawn as the proven ones, under
    "Sweep: 3 scenarios solved"; pareto.png draws such points hollow."""
    sweep = pd.DataFrame({"status": ["optimal", "time_limit", "gap_limit"], "carbon_price": [0.0, 50.0, 100.0],
                          "objective": [3e7, 3.4e7, 3.2e7], "co2_t": [5.0, 4.0, 3.0]})
    figure = results_figure(sweep, ["carbon_price"], "EUR")
    assert "1 stopped by a limit, not proven (hollow)" in figure._suptitle.get_text()
    hollow = [c.get_offsets().tolist() for axis in figure.axes for c in axis.collections]
    assert hollow == [[[50.0, 3.4e7]], [[50.0, 4.0]]]
    assert "stopped" not in results_figure(sweep.assign(status="optimal"), ["carbon_price"])._suptitle.get_text()


def test_the_sweep_charts_count_the_failed_scenarios_they_leave_out(tmp_path, monkeypatch):
    """A sweep of 6 scenarios of which 2 had no network (a service level of 99.9 %) was titled "Sweep: 4
    scenarios solved", its curve ending at 0.95 with nothing to say that the scenarios beyond it failed."""
    from planner.export import sweep_charts

    titles = []
    monkeypatch.setattr(sweep_charts, "save_png", lambda figure, path: titles.append(figure._suptitle.get_text())
                        or path)
    sweep = pd.DataFrame({"status": ["optimal", "optimal", "failed", "failed"], "share": [0.5, 0.9, 0.99, 0.999],
                          "objective": [3e7, 3.4e7, None, None], "n_type_micro": [1.0, 2.0, None, None]})
    sweep_charts.write_sweep_charts(sweep, ["share"], tmp_path, "EUR")
    assert titles == ["Sweep: 2 of 4 scenarios solved;\n2 failed, not drawn (their error in sweep.csv)",
                      "Facility mix of 2 of 4 scenarios solved;\n2 failed, not drawn (their error in sweep.csv)"]
    titles.clear()
    sweep_charts.write_sweep_charts(sweep.iloc[:2], ["share"], tmp_path, "EUR")
    assert titles == ["Sweep: 2 scenarios solved", "Facility mix"]
    titles.clear()  # a scenario whose model has no feasible network is counted apart from one that failed
    sweep_charts.write_sweep_charts(sweep.assign(status=["optimal", "optimal", "infeasible", "failed"]), ["share"],
                                    tmp_path, "EUR")
    assert titles[0] == "Sweep: 2 of 4 scenarios solved;\n1 infeasible, 1 failed, not drawn (their error in sweep.csv)"
    titles.clear()  # and one the time limit ended before any network was found apart from both
    sweep_charts.write_sweep_charts(sweep.assign(status=["optimal", "optimal", "no_network_in_time", "failed"]),
                                    ["share"], tmp_path, "EUR")
    assert titles[0] == ("Sweep: 2 of 4 scenarios solved;\n1 failed, 1 no network in time, not drawn (their error in "
                         "sweep.csv)")


def test_the_demand_chart_legend_stands_beside_the_bars_not_over_them():
    """The served/unmet legend sat in the lower right corner, over the unmet part of the longest bar."""
    from planner.export.report import demand_chart

    figure = demand_chart({"standard": {"served": 100.0, "unmet": 900.0}, "custom": {"served": 0.0, "unmet": 50.0}})
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    axes = figure.axes[0]
    assert axes.get_legend().get_window_extent(renderer).x0 > axes.get_window_extent(renderer).x1


def test_where_micro_wins_leaves_a_margin_around_the_regions(nothing_opens):
    """Points at the edge of the data were cut in half by the frame of the where-micro-wins map."""
    from planner.export.compare_report import _pad_to_data

    central = SimpleNamespace(run=nothing_opens.run, inputs=nothing_opens.inputs)
    advantage = pd.DataFrame({"region_id": nothing_opens.inputs.regions["region_id"], "micro_advantage": 1.0})
    figure = where_micro_wins_figure(SimpleNamespace(plans={"central_only": central}, regions=advantage))
    axis = figure.axes[0]
    xmin, ymin, xmax, ymax = axis.collections[0].get_datalim(axis.transData).extents
    (left, right), (bottom, top) = axis.get_xlim(), axis.get_ylim()
    margin = 0.03 * max(xmax - xmin, ymax - ymin)
    assert left < xmin - margin and right > xmax + margin and bottom < ymin - margin and top > ymax + margin
    _pad_to_data(axis, (np.nan, 0.0, 1.0, 1.0))  # no finite extent: the limits stay
    assert axis.get_xlim() == (left, right)


def test_the_inputs_table_reads_as_text_not_python():
    """The report's inputs table showed Python dicts ("{'layer': None, 'lon_column': None, ...}")."""
    from planner.export.report import _inputs_section

    page = _inputs_section({"inputs": {"model": "m.toml", "region_options": {"layer": None, "crs": "EPSG:3035"},
                                       "select": {"STUSPS": ["NC", "SC"]}, "sites": None, "od_matrix": {}},
                            "planner_version": "0.1.0"})
    assert "<td>region options</td><td>crs: EPSG:3035</td>" in page
    assert "<td>select</td><td>STUSPS: NC, SC</td>" in page
    assert "None" not in page and "{" not in page and "od matrix" not in page


def test_a_swept_key_is_labelled_with_its_unit():
    """The sweep's and compare's breakeven axes read "facility_types.microfactory.opening_cost_per_yr (M)":
    no currency; each key now has the unit of models/README.md's tables."""
    from planner.inputs.config import key_unit

    key = "facility_types.microfactory.opening_cost_per_yr"
    sweep = pd.DataFrame({"status": ["optimal"] * 2, key: [50e6, 262.5e6], "objective": [1e9, 2e9],
                          "n_type_plant": [1, 2]})
    for figure in (facility_mix_figure(sweep, [key], "JPY"), results_figure(sweep, [key], "JPY")):
        assert figure.axes[0].get_xlabel() == f"{key} (M JPY/yr)"
    assert [key_unit(k, "EUR") for k in ("carbon_price", "transport.std.cost_per_unit_km", "products.std.demand_rate",
                                        'products."std.v2".unmet_penalty_per_unit', "network.capex_budget",
                                        "facility_types.m.module_capacity_per_yr", "products.std.max_delivery_km",
                                        "facility_types.m.products.std.co2_kg_per_unit", "facility_types.m.max_modules",
                                        "network.max_co2_t_per_yr")] == [
        "EUR/t CO2", "EUR/unit-km", "units/yr per demand unit", "EUR/unit", "EUR", "units/yr per module", "km",
        "kg CO2/unit", "",
        "t CO2/yr"]


def test_a_frontier_point_stopped_by_its_limit_is_drawn_as_not_proven():
    """A point that stopped at its time limit with a 1.5 % gap was drawn as 'non-dominated' like the proven ones."""
    frontier = pd.DataFrame({"point": [0, 1, 2], "co2_t": [3e4, 2e4, 1e4], "objective": [3.0e7, 3.2e7, 3.9e7],
                             "dominated_by": ["", "", ""], "status": ["optimal", "gap_limit", "time_limit"],
                             "mip_gap": [0.0, 0.009, 0.0151], "n_plant": [1, 1, 2]})
    figure = frontier_figure(frontier, "USD")
    axis = figure.axes[0]
    assert [text.get_text() for text in axis.get_legend().get_texts()] == [
        "non-dominated", "not proven (stopped by its limit)"]
    assert [text.get_text() for text in axis.texts] == ["0: 1 plant", "1: 1 plant", "2: 2 plant (time_limit, gap 1.5%)"]


def test_sweep_axes_of_tiny_values_and_of_a_prefixed_currency_read_plainly():
    """A cost per unit-km swept over 1e-12 to 4e-12 MEUR had every tick "0.000000000"; the facility mix's bars
    read "1e-12", "1.297e-05"; a kEUR model's totals read "(k kEUR/yr)"."""
    key = "transport.standard.cost_per_unit_km"
    sweep = pd.DataFrame({"status": ["optimal"] * 4, key: [1e-12, 2e-12, 3e-12, 4e-12],
                          "objective": [1.5e3, 2.5e3, 3.5e3, 4.5e3], "n_type_plant": [1, 2, 2, 3]})
    mix = facility_mix_figure(sweep, [key], "MEUR")
    mix.canvas.draw()
    assert [tick.get_text() for tick in mix.axes[0].get_xticklabels()] == ["1", "2", "3", "4"]
    assert mix.axes[0].get_xlabel() == f"{key} (1e-12 MEUR/unit-km)"
    results = results_figure(sweep, [key], "kEUR")
    results.canvas.draw()
    ticks = [tick.get_text() for tick in results.axes[0].get_xticklabels()]
    assert len(set(ticks)) > 1 and "0.000000000" not in ticks
    assert "thousands of kEUR/yr" in results.axes[0].get_ylabel() and "k kEUR" not in results.axes[0].get_ylabel()


def test_the_facility_mix_legend_covers_no_bar():
    """The legend stands beside the last panel: inside it, it had covered that panel's tallest bar."""
    sweep = pd.DataFrame({"status": ["optimal"] * 4, "carbon_price": [0.0, 100.0, 200.0, 300.0],
                          "n_type_plant": [1, 1, 1, 1], "n_type_micro": [20, 21, 21, 22]})  # no free corner
    figure = facility_mix_figure(sweep, ["carbon_price"])
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    axis = figure.axes[0]
    legend = axis.get_legend().get_window_extent(renderer)
    bars = [patch.get_window_extent(renderer) for patch in axis.patches]
    assert bars and not any(legend.overlaps(bar) for bar in bars)
    assert legend.x1 <= figure.bbox.x1 + 0.5  # and it is on the page


def test_stacked_bars_of_length_zero_on_the_tallest_do_not_end_the_axis():
    """A layer of length 0 on the tallest stack (no microfactory on a central plant's 500,000 units/yr; 0 unmet
    beside all served) had ended the axis at that stack, which then touched the frame as if cut off."""
    periods = pd.DataFrame({"strategy": ["central_now"] * 2, "period": [1, 2], "probability": 1.0,
                            "demand": [100.0, 300.0], "capacity_plant": [500.0, 500.0], "capacity_micro": 0.0})
    figure = timeline_figure(periods, TYPES)
    figure.canvas.draw()
    assert figure.axes[0].get_ylim()[1] > 500.0
    figure = demand_chart({"standard": {"served": 53_000.0, "unmet": 0.0}})
    figure.canvas.draw()
    assert figure.axes[0].get_xlim()[1] > 53_000.0
    sweep = pd.DataFrame({"status": ["optimal"] * 2, "carbon_price": [0.0, 50.0], "n_type_plant": [3, 3],
                          "n_type_micro": [0, 0]})
    figure = facility_mix_figure(sweep, ["carbon_price"])
    figure.canvas.draw()
    assert figure.axes[0].get_ylim()[1] > 3.0


def test_frontier_labels_stay_inside_the_axes():
    """The label of the cost-optimal point, the rightmost, had run past the frame ("0: 8 microfactory" on 30
    towns of Europe)."""
    frontier = pd.DataFrame({"point": [0, 1, 2, 3], "co2_t": [1760.1, 1742.6, 1725.9, 1708.8],
                             "objective": [3.10e7, 3.22e7, 3.60e7, 5.31e7], "dominated_by": "",
                             "status": "gap_limit", "mip_gap": 0.009, "n_microfactory": [8, 9, 14, 28]})
    figure = frontier_figure(frontier, "EUR")
    renderer = figure.canvas.get_renderer()
    frame = figure.axes[0].get_window_extent(renderer)
    for text in figure.axes[0].texts:
        box = text.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, text.get_text()


def test_a_sweep_result_equal_but_for_float_noise_reads_one_value():
    """A transport cost of 2,095,513.2344843713 to ...4373 JPY/yr in every scenario had its axis span the noise
    alone, every tick labelled "2.095513234"."""
    sweep = pd.DataFrame({"status": ["optimal"] * 6, "carbon_price": [0.0, 0.0, 3e4, 3e4, 6e4, 6e4],
                          "objective": [4.47e8, 5.67e8, 4.51e8, 5.71e8, 4.54e8, 5.74e8],
                          "cost_transport": [2095513.2344843724, 2095513.234484369, 2095513.2344843713,
                                             2095513.2344843734, 2095513.2344843715, 2095513.2344843736]})
    figure = results_figure(sweep, ["carbon_price"], "JPY")
    figure.canvas.draw()
    panel = next(axis for axis in figure.axes if axis.get_ylabel().startswith("transport cost"))
    labels = [label.get_text() for label in panel.get_yticklabels() if label.get_text()]
    assert len(labels) == len(set(labels)) > 1
    low, high = panel.get_ylim()
    assert low < 2095513.2344843713 < high and high - low > 1e4


def test_the_facility_mix_keys_only_the_types_drawn():
    """A type no scenario opens (central plants in a sweep of 48 Brazilian cells) was keyed in the legend with
    no bar; where nothing opens anywhere there is no legend at all."""
    sweep = pd.DataFrame({"status": ["optimal"] * 2, "carbon_price": [0.0, 50.0], "n_type_plant": [0, 0],
                          "n_type_micro": [1, 2]})
    figure = facility_mix_figure(sweep, ["carbon_price"])
    assert [text.get_text() for text in figure.axes[-1].get_legend().get_texts()] == ["micro"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = facility_mix_figure(sweep.assign(n_type_micro=0), ["carbon_price"])
    assert figure.axes[-1].get_legend() is None


def test_the_summary_unit_of_service_levels_names_minutes_too(nothing_opens):
    """The unit of `service` read "distances in km" beside a level of 240 minutes (an OD matrix of minutes)."""
    unit = build_summary(nothing_opens.run, {}, [])["units"]["service"]
    assert "within_minutes in minutes" in unit and "within_km" in unit


def test_where_micro_wins_marks_regions_beyond_its_colour_scale(nothing_opens):
    """The scale ends at the 95th percentile of the advantage: 186 of 3,000 Brazilian points at -168 BRL/unit were
    drawn as -134, the colour bar's end, with nothing to say they lie beyond it."""
    central = SimpleNamespace(run=nothing_opens.run, inputs=nothing_opens.inputs)
    ids = nothing_opens.inputs.regions["region_id"]
    for values, extend in (([1.0, 2.0, 3.0, 4.0, 100.0], "max"), ([-100.0, 1.0, 1.0, 1.0, 1.0], "min"),
                           ([1.0] * 5, "neither")):
        advantage = pd.DataFrame({"region_id": ids, "micro_advantage": values})
        figure = where_micro_wins_figure(SimpleNamespace(plans={"central_only": central}, regions=advantage))
        colour_bar = next(axis for axis in figure.axes if axis.get_ylabel().startswith("cost to serve"))
        assert colour_bar._colorbar.extend == extend
