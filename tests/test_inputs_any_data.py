"""Anyone's data: polygon and point files, coordinate tables, other CRSs and continents, with the
default model; the [regions] keys apply to the model's own file only; mistakes get one clear error."""

import logging
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, box

from planner.errors import InputError
from planner.inputs.candidates import candidate_mask, share_count
from planner.inputs.config import CandidateRule, read_model_config
from planner.inputs.prepare import DataOptions, load_inputs, prepare_problem
from planner.inputs.screen import screen_problem
from planner.inputs.template import write_model_template

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "models" / "hybrid.toml"


@pytest.fixture(scope="module")
def default_model():
    return read_model_config(DEFAULT_MODEL)


def europe_grid(path: Path, seed: int = 3) -> Path:
    """30 box 'countries' over Europe with a name and pop_est (none of the default model's columns)."""
    rng = np.random.default_rng(seed)
    cells = [
        {"name": f"C{i}{j}", "pop_est": float(rng.integers(100_000, 20_000_000)),
         "geometry": box(-8 + 5 * i, 38 + 4 * j, -3 + 5 * i, 42 + 4 * j)}
        for i in range(6) for j in range(5)
    ]
    gpd.GeoDataFrame(cells, crs="EPSG:4326").to_file(path)
    return path


def east_africa_points(n: int = 120, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"customer_id": [f"k{i}" for i in range(n)], "lon": rng.uniform(33, 41, n), "lat": rng.uniform(-8, 3, n),
         "orders": rng.integers(1_000, 50_000, n)}
    )


def load(config, path, **options):
    inputs = load_inputs(config, DataOptions(regions_path=Path(path), **options))
    return inputs, prepare_problem(config, inputs)


def test_polygons_of_another_file_use_its_own_columns(tmp_path, default_model):
    path = europe_grid(tmp_path / "countries.geojson")
    inputs, problem = load(default_model, path, id_column="name", demand_column="pop_est")
    assert list(inputs.regions["region_id"][:2]) == ["C00", "C01"]
    assert problem.demand[:, 0] == pytest.approx(0.01 * inputs.base_demand)  # demand_rate of 'standard'
    counts = np.bincount(problem.option_type, minlength=len(problem.type_ids))
    assert (counts > 0).all(), "the default rules give every facility type candidates"
    # without flags the id ('name') and the demand ('pop_est') are found in the file
    found, _ = load(default_model, path)
    assert list(found.regions["region_id"]) == list(inputs.regions["region_id"])
    assert found.base_demand == pytest.approx(inputs.base_demand)


def test_points_in_geojson_csv_and_parquet_give_the_same_inputs(tmp_path, default_model):
    table = east_africa_points()
    geo = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table.lon, table.lat), crs="EPSG:4326")
    geo.drop(columns=["lon", "lat"]).to_file(tmp_path / "customers.geojson")
    table.to_csv(tmp_path / "customers.csv", index=False)
    table.rename(columns={"lon": "Longitude", "lat": "Latitude"}).to_parquet(tmp_path / "customers.parquet")
    loaded = [load(default_model, tmp_path / name)[0] for name in ("customers.geojson", "customers.csv",
                                                                     "customers.parquet")]
    for inputs in loaded:
        assert list(inputs.regions["region_id"]) == list(table["customer_id"])
        assert inputs.region_lon == pytest.approx(table["lon"].to_numpy())
        assert inputs.region_lat == pytest.approx(table["lat"].to_numpy())
        assert inputs.base_demand == pytest.approx(table["orders"].to_numpy())


def test_projected_coordinates_need_their_crs(tmp_path, default_model):
    rng = np.random.default_rng(1)
    lonlat = gpd.GeoSeries(gpd.points_from_xy(rng.uniform(-50, -40, 40), rng.uniform(-25, -15, 40)), crs=4326)
    metres = lonlat.to_crs(3857)
    pd.DataFrame({"x": metres.x, "y": metres.y, "demand": 1000.0}).to_csv(tmp_path / "brazil.csv", index=False)
    inputs, _ = load(default_model, tmp_path / "brazil.csv", crs="EPSG:3857")
    assert inputs.region_lon == pytest.approx(lonlat.x.to_numpy(), abs=1e-6)
    with pytest.raises(InputError, match=r"brazil.csv: rows 1, 2, 3, 4, 5 and 35 more have coordinates outside"):
        load(default_model, tmp_path / "brazil.csv")
    labelled = gpd.GeoDataFrame({"id": range(40), "demand": 1.0}, geometry=metres.values)
    labelled = labelled.set_crs(4326, allow_override=True)  # metres labelled as degrees
    labelled.to_file(tmp_path / "labelled.geojson")
    with pytest.raises(InputError, match="look projected"):
        load(default_model, tmp_path / "labelled.geojson")


def test_a_multi_layer_file_needs_a_layer(tmp_path, default_model):
    frame = gpd.read_file(europe_grid(tmp_path / "grid.geojson")).to_crs(3035)  # a projected CRS, metres
    frame.to_file(tmp_path / "two.gpkg", layer="countries")
    frame.head(2).to_file(tmp_path / "two.gpkg", layer="extra")
    with pytest.raises(InputError, match=r"two.gpkg: has 2 layers \(countries, extra\); choose one with --layer"):
        load(default_model, tmp_path / "two.gpkg")
    inputs, _ = load(default_model, tmp_path / "two.gpkg", layer="countries")
    assert len(inputs.regions) == 30 and inputs.region_lat.min() > 38  # back in degrees



def test_a_layer_for_a_table_is_refused(tmp_path, default_model):
    east_africa_points().to_csv(tmp_path / "points.csv", index=False)
    with pytest.raises(InputError, match=r"points.csv: a table has no layers, so layer 'towns' cannot be chosen; "
                                         r"drop --layer"):
        load(default_model, tmp_path / "points.csv", layer="towns")

def test_the_geometry_column_is_not_an_id(tmp_path, default_model):
    path = europe_grid(tmp_path / "countries.geojson")
    with pytest.raises(InputError, match="'geometry' is the geometry column"):
        load(default_model, path, id_column="geometry")


def test_demand_column_not_found_lists_the_numeric_columns(tmp_path, default_model):
    frame = east_africa_points().rename(columns={"orders": "weight"}).assign(size=2.0)
    frame.to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(InputError, match=r"--demand-column \(numeric columns: weight, size\)"):
        load(default_model, tmp_path / "c.csv")


@pytest.mark.parametrize(("lon", "lat"), [("lon", "lat"), ("longitude", "lat"), ("lng", "latitude"),
                                          ("Long", "LAT")])
def test_a_tables_one_numeric_column_besides_its_coordinates_is_the_demand(tmp_path, default_model, lon, lat):
    """As in a GeoJSON of the same points: the coordinate columns are not demand candidates (a CSV had been
    refused, its 'numeric columns' listing lon and lat), and any longitude name pairs with any latitude name."""
    frame = east_africa_points().rename(columns={"orders": "Einwohner", "lon": lon, "lat": lat})
    frame.to_csv(tmp_path / "c.csv", index=False)
    inputs, _ = load(default_model, tmp_path / "c.csv")
    assert inputs.base_demand == pytest.approx(frame["Einwohner"].to_numpy())
    assert inputs.region_lon == pytest.approx(frame[lon].to_numpy())


def test_a_header_with_spaces_names_its_columns(tmp_path, default_model):
    """``customer_id, lon, lat, orders`` with spaces after the commas: the columns are found by name."""
    frame = east_africa_points(12)
    text = frame.to_csv(index=False).replace(",", ", ", 3)
    assert text.startswith("customer_id, lon, lat, orders\n")
    (tmp_path / "c.csv").write_text(text)
    inputs, problem = load(default_model, tmp_path / "c.csv")
    assert problem.demand.sum() == pytest.approx(frame["orders"].sum() * (0.01 + 0.001))


def test_true_false_demand_is_not_read_as_one_and_zero(tmp_path, default_model):
    frame = east_africa_points(4).assign(orders=[True, False, True, True])
    frame.to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(InputError, match=r"column 'orders' is true/false, not a number in rows 1, 2, 3, 4"):
        load(default_model, tmp_path / "c.csv")


def test_a_missing_demand_column_lists_only_the_files_columns(tmp_path, default_model):
    """Without an id column the regions are numbered by row; that column is the planner's, not the file's."""
    frame = east_africa_points(4).drop(columns="customer_id")
    frame.to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(InputError, match=r"column 'nope' not found .*; available: lon, lat, orders$"):
        load(default_model, tmp_path / "c.csv", demand_column="nope")


def test_model_keys_apply_to_the_models_own_file(tmp_path):
    regions = europe_grid(tmp_path / "countries.geojson")
    model = tmp_path / "m.toml"
    text = DEFAULT_MODEL.read_text(encoding="utf-8").split("[distance]")[1]
    header = '[regions]\npath = "countries.geojson"\nid_column = "name"\ndemand_column = "pop_est"\n'
    model.write_text('name = "eu"\n' + header + 'name_column = "nom"\n[distance]' + text, encoding="utf-8")
    config = read_model_config(model)
    with pytest.raises(InputError, match="name column 'nom' not found"):
        load_inputs(config, DataOptions())
    model.write_text('name = "eu"\n' + header + "[distance]" + text, encoding="utf-8")
    inputs = load_inputs(read_model_config(model), DataOptions(regions_path=regions))  # the same file
    assert inputs.regions["region_id"].iloc[0] == "C00"


@pytest.mark.parametrize("points", [False, True])
def test_swapped_demand_point_columns_are_an_error(tmp_path, points):
    """Regions in Europe (polygons, or points) with their demand points given as [lat, lon]: the
    demand would sit in the Middle East, in range of no region."""
    frame = gpd.read_file(europe_grid(tmp_path / "grid.geojson"))
    centre = frame.geometry.representative_point()
    frame = frame.assign(cx=centre.x, cy=centre.y)
    (frame.set_geometry(centre) if points else frame).to_file(tmp_path / "pts.gpkg")
    model = tmp_path / "m.toml"
    body = DEFAULT_MODEL.read_text(encoding="utf-8").split("[distance]")[1]
    regions = '[regions]\npath = "pts.gpkg"\nid_column = "name"\ndemand_column = "pop_est"\n'
    for columns, ok in (('["cx", "cy"]', True), ('["cy", "cx"]', False)):
        model.write_text(f'name = "eu"\n{regions}demand_point_columns = {columns}\n[distance]{body}', encoding="utf-8")
        if ok:
            load_inputs(read_model_config(model), DataOptions())
        else:
            with pytest.raises(InputError, match="are longitude and latitude swapped"):
                load_inputs(read_model_config(model), DataOptions())


def test_demand_points_off_their_regions_by_a_wrong_crs_do_not_say_the_columns_are_swapped(tmp_path):
    """Polygons in metres (EPSG:3035) given the wrong CRS (EPSG:3857, as a --crs typo): their degree demand points
    lie off every region, swapped or not; the line had asked whether longitude and latitude were swapped."""
    frame = gpd.read_file(europe_grid(tmp_path / "grid.geojson"))
    centre = frame.geometry.representative_point()
    metres = frame.assign(cx=centre.x, cy=centre.y).to_crs("EPSG:3035").set_crs(None, allow_override=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "'crs' was not provided": the file is meant to have none
        metres.to_file(tmp_path / "grid_m.gpkg")
    model = tmp_path / "m.toml"
    body = DEFAULT_MODEL.read_text(encoding="utf-8").split("[distance]")[1]
    regions = ('[regions]\npath = "grid_m.gpkg"\nid_column = "name"\ndemand_column = "pop_est"\n'
               'demand_point_columns = ["cx", "cy"]\n')
    for crs, ok in (("EPSG:3035", True), ("EPSG:3857", False)):
        model.write_text(f'name = "eu"\n{regions}crs = "{crs}"\n[distance]{body}', encoding="utf-8")
        if ok:
            load_inputs(read_model_config(model), DataOptions())
            continue
        with pytest.raises(InputError, match=r"swapping them does not fit either: is the regions' CRS \(EPSG:3857\) "
                                             "the one their coordinates are in") as caught:
            load_inputs(read_model_config(model), DataOptions())
        assert "are longitude and latitude swapped" not in str(caught.value)


def test_lines_zero_demand_and_far_sites_are_warnings(tmp_path, default_model, caplog):
    lines = gpd.GeoDataFrame({"id": ["a", "b"], "pop": [0.0, 0.0]},
                             geometry=[LineString([(0, 50), (1, 51)]), LineString([(2, 50), (3, 51)])], crs=4326)
    lines.to_file(tmp_path / "lines.geojson")
    pd.DataFrame({"site_id": ["paris", "near"], "lon": [2.35, 0.5], "lat": [48.86, 50.5]}).to_csv(
        tmp_path / "sites.csv", index=False)
    with caplog.at_level(logging.WARNING):
        load(default_model, tmp_path / "lines.geojson", demand_column="pop")
    assert "regions are lines (LineString)" in caplog.text
    assert "all demand is zero" in caplog.text
    far = gpd.GeoDataFrame({"id": ["a", "b"], "pop": [1e6, 2e6]},
                           geometry=gpd.points_from_xy([-80.0, -79.0], [35.0, 36.0]), crs=4326)
    far.to_file(tmp_path / "nc.geojson")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        load(default_model, tmp_path / "nc.geojson", sites_path=tmp_path / "sites.csv")
    assert "sites paris, near are more than 1000 km from any demand point" in caplog.text


def test_demand_too_large_for_the_solver_is_refused(tmp_path, default_model):
    """The limit is on a product's demand (the column × its rate), not on the column: GDP in USD (4.4e13)
    × 1e-9 is 44,000 units/yr, and had been refused for the column's size."""
    table = east_africa_points(10).astype({"orders": float})
    table.loc[3, "orders"] = 1e300
    table.to_csv(tmp_path / "huge.csv", index=False)
    with pytest.raises(InputError, match=r"huge.csv: the demand of 'standard' in region 'k3', column 'orders' × "
                                         r"products.standard.demand_rate 0.01, is 1e\+298 units/yr, above 1e\+12"):
        load(default_model, tmp_path / "huge.csv")  # the file and its column named (the screening named the model)
    table.loc[3, "orders"] = 4.4e13
    table.to_csv(tmp_path / "gdp.csv", index=False)
    config = default_model.model_copy(deep=True)
    config.products["standard"].demand_rate = 1e-9
    _, problem = load(config, tmp_path / "gdp.csv")
    screen_problem(problem)
    assert problem.demand[3, 0] == pytest.approx(44_000.0)
    table.loc[3, "orders"] = 5e11  # fine as a column, but × a demand rate of 100 it is not
    table.to_csv(tmp_path / "large.csv", index=False)
    config = default_model.model_copy(deep=True)
    config.products["standard"].demand_rate = 100.0
    with pytest.raises(InputError, match="demand of 'standard' in region 'k3', column 'orders' × "
                                         "products.standard.demand_rate 100, is 5e\\+13 units/yr"):
        load(config, tmp_path / "large.csv")


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({}, [0, 1, 2, 3, 4]),
        ({"min_demand": 25}, [1, 3, 4]),
        ({"top_n": 2}, [3, 4]),
        ({"top_share": 0.5}, [3, 4]),  # of 145 in all, 60 + 40 hold 69 %
        ({"top_share": 0.7}, [1, 3, 4]),
        ({"quantile": 0.5}, [1, 3, 4]),  # the median of 10, 30, 5, 60, 40... is 30 (zero demand excluded)
        ({"top_n": 3, "min_demand": 35}, [3, 4]),
        ({"min_demand": 50, "min_candidates": 3}, [1, 3, 4]),  # the floor adds the largest regions
        ({"min_demand": 1e6, "min_candidates": 1}, [3]),
        ({"min_demand": 25, "min_candidates": 2}, [1, 3, 4]),  # already enough: nothing added
    ],
)
def test_candidate_rules_on_a_hand_case(rule, expected):
    demand = np.array([10.0, 30.0, 5.0, 60.0, 40.0])
    lon = np.arange(5.0)
    mask = candidate_mask(CandidateRule(**rule), demand, lon, np.zeros(5))
    assert np.flatnonzero(mask).tolist() == expected


def test_share_count_and_kmeans_spread_candidates():
    assert share_count(np.array([50.0, 30.0, 20.0]), 0.8) == 2
    assert share_count(np.zeros(3), 0.5) == 0
    # two towns far apart, each of five points: k-means with 2 picks one candidate in each
    lon = np.array([0, 0.1, 0.2, 0.1, 0.0, 20, 20.1, 20.2, 20.1, 20.0])
    lat = np.array([0, 0.1, 0.0, -0.1, 0.1, 0, 0.1, 0.0, -0.1, 0.1])
    demand = np.array([1, 1, 9, 1, 1, 1, 1, 9, 1, 1], dtype=float)
    chosen = np.flatnonzero(candidate_mask(CandidateRule(kmeans=2), demand, lon, lat))
    assert len(chosen) == 2 and chosen[0] < 5 <= chosen[1]
    # no demand anywhere (an all-zero column): the regions themselves are clustered, one in each town
    chosen = np.flatnonzero(candidate_mask(CandidateRule(kmeans=2), np.zeros(10), lon, lat))
    assert len(chosen) == 2 and chosen[0] < 5 <= chosen[1]


def test_a_quantile_rule_on_data_without_demand_is_no_internal_error(tmp_path):
    """An all-zero demand column (or a --select of regions without demand) under a ``quantile`` rule: the
    quantile of no demand had ended in an internal error (IndexError), where the other rules warn that
    there is nothing to plan."""
    assert candidate_mask(CandidateRule(quantile=0.9), np.zeros(4), np.arange(4.0), np.zeros(4)).all()
    frame = east_africa_points().assign(orders=0)
    frame.to_csv(tmp_path / "stores.csv", index=False)
    model = write_model_template(tmp_path / "stores.csv", tmp_path / "stores.toml")
    text = model.read_text(encoding="utf-8").replace("candidates = { top_n = 10 }", "candidates = { quantile = 0.9 }")
    assert "quantile = 0.9" in text
    model.write_text(text, encoding="utf-8")
    inputs = load_inputs(read_model_config(model), DataOptions())
    assert inputs.demand.sum() == 0 and "central_plant" in set(inputs.sites["types"].explode())


def test_init_writes_a_model_that_loads_without_flags(tmp_path):
    east_africa_points().to_csv(tmp_path / "stores.csv", index=False)
    model = write_model_template(tmp_path / "stores.csv", tmp_path / "models" / "stores.toml", demand_rate=2.0)
    config = read_model_config(model)
    assert config.name == "stores" and config.regions.demand_column == "orders"
    assert (config.regions.lon_column, config.regions.lat_column) == ("lon", "lat")
    inputs = load_inputs(config, DataOptions())
    assert inputs.demand[:, 0] == pytest.approx(2.0 * east_africa_points()["orders"].to_numpy())
    assert set(inputs.sites["types"].explode()) == {"central_plant", "microfactory"}
    with pytest.raises(InputError, match="exists; the planner does not overwrite it"):
        write_model_template(tmp_path / "stores.csv", model)


def test_init_never_writes_over_a_file_saved_there_after_its_last_check(tmp_path, monkeypatch):
    """The model file had been renamed into place over a file of the user's saved between the check just before
    and the rename."""
    import planner.inputs.template as template

    east_africa_points().to_csv(tmp_path / "stores.csv", index=False)
    model, check = tmp_path / "stores.toml", template.refuse_existing
    calls = []

    def user_saves_after_the_second_check(out):
        check(out)
        calls.append(out)
        if len(calls) == 2:
            out.write_text("my model", encoding="utf-8")

    monkeypatch.setattr(template, "refuse_existing", user_saves_after_the_second_check)
    with pytest.raises(InputError, match="stores.toml: exists; the planner does not overwrite it"):
        write_model_template(tmp_path / "stores.csv", model)
    assert model.read_text(encoding="utf-8") == "my model"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["stores.csv", "stores.toml"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (lambda text: text.encode("latin-1"), "not UTF-8 text (byte 0xe9"),
        (lambda text: text.replace('name = "hybrid"', 'name = ".."').encode(), "key 'name': must be a plain folder"),
        (lambda text: text.replace('name = "hybrid"', 'name = "/tmp/x"').encode(), "key 'name': must be a plain"),
        (lambda text: text.split("[products.standard]")[0].encode(), "key 'products': required key is missing"),
    ],
)
def test_model_file_mistakes_are_one_short_line(tmp_path, content, fragment):
    text = DEFAULT_MODEL.read_text(encoding="utf-8").replace("Sources", "Sourcés")
    path = tmp_path / "m.toml"
    path.write_bytes(content(text))
    with pytest.raises(InputError) as caught:
        read_model_config(path)
    assert fragment in str(caught.value) and len(str(caught.value)) < 200 and "\n" not in str(caught.value)


@pytest.mark.parametrize("encode", [lambda t: b"\xef\xbb\xbf" + t.encode(), lambda t: t.encode("utf-16")])
def test_model_files_with_a_bom_or_in_utf16_are_read(tmp_path, encode):
    path = tmp_path / "m.toml"
    path.write_bytes(encode(DEFAULT_MODEL.read_text(encoding="utf-8")))
    assert read_model_config(path).name == "hybrid"


CANDIDATE_REGIONS = """region_id,lon,lat,pop,units
R1,8.0,48.0,100,900
R2,9.0,48.5,200,800
R3,10.0,49.0,300,100
R4,11.0,48.0,900,100
R5,12.0,48.5,800,700
R6,13.0,49.0,700,600
"""


@pytest.mark.parametrize(("base", "expected"), [('demand_column = "pop"\n', ["R4", "R5"]), ("", ["R1", "R2"])])
def test_candidate_rules_read_the_named_base_column_where_every_product_has_its_own(tmp_path, base, expected):
    """Product 'a' has its own demand column ('units'); the top 2 candidates are ranked by the named
    base column 'pop' (R4 900, R5 800), and only without one by the products' total (R1 900, R2 800)."""
    (tmp_path / "regions.csv").write_text(CANDIDATE_REGIONS, encoding="utf-8")
    model = tmp_path / "m.toml"
    model.write_text(
        f'name = "c"\n[regions]\npath = "regions.csv"\nid_column = "region_id"\n{base}'
        '[products.a]\ndemand_column = "units"\n[transport.a]\ncost_per_unit_km = 0.1\n'
        "[facility_types.plant]\nopening_cost_per_yr = 10000.0\ncandidates = { top_n = 2 }\n"
        "[facility_types.plant.products.a]\ncost_per_unit = 10.0\n", encoding="utf-8")
    inputs = load_inputs(read_model_config(model), DataOptions())
    assert sorted(inputs.sites["site_id"]) == expected
    assert inputs.demand[:, 0].tolist() == [900, 800, 100, 100, 700, 600]


def test_a_total_row_is_warned_about_and_ordinary_rows_are_not(tmp_path, default_model, caplog):
    """A spreadsheet export's "Total" row (with coordinates) would be planned as one more region holding
    every unit a second time."""
    table = east_africa_points(12)
    total = table.iloc[[0]].assign(customer_id="Total", orders=table["orders"].sum())
    pd.concat([table, total]).to_csv(tmp_path / "with_total.csv", index=False)
    table.to_csv(tmp_path / "plain.csv", index=False)
    with caplog.at_level(logging.WARNING):
        load(default_model, tmp_path / "plain.csv")
    assert "total row" not in caplog.text
    with caplog.at_level(logging.WARNING):
        load(default_model, tmp_path / "with_total.csv")
    assert "the demand of region 'Total' equals that of all the other regions together" in caplog.text


@pytest.mark.parametrize("demand", [[1, 1, 1, 3], [10, 20, 30, 60], [1, 2, 3, 21, 4, 5, 6],
                                    [[1, 0], [1, 0], [1, 0], [1, 1], [0, 1], [2, 4]]])
def test_ordinary_demand_is_no_total_row(demand):
    """Few regions, a row in the middle, or a row equal to the others only summed over products."""
    from planner.inputs.validate import total_rows

    assert total_rows(np.array(demand, dtype=float)).size == 0


def test_a_row_named_total_is_one_beside_two_others(tmp_path, caplog):
    """Its figures alone need five other rows (1, 1, 1, 3 is ordinary); a row whose cell says it is a total
    ('Summe') needs two: three customers and their sum had been counted twice without a word."""
    from planner.inputs.validate import total_labelled, total_rows
    from tests.test_reader_defects import load, model_file, regions_csv

    frame = pd.DataFrame({"Kunde": ["001", "002", "003", " Summe "], "Menge": [1000, 2000, 1500, 4500]})
    labelled = total_labelled(frame)
    assert labelled.tolist() == [False, False, False, True]
    pivot = frame.assign(Kunde=["001", "002", "003", "Total general"])  # a pivot table's grand total
    assert total_labelled(pivot).tolist() == [False, False, False, True]
    assert total_rows(frame[["Menge"]].to_numpy(dtype=float), labelled).tolist() == [3]
    assert total_rows(frame[["Menge"]].to_numpy(dtype=float)).size == 0
    assert total_rows(np.array([[1.0], [1.0]]), np.array([False, True])).size == 0  # one other: no total
    assert total_rows(np.array([[5.0], [2.0], [4.0]]), np.array([False, False, True])).size == 0  # not the sum
    path = regions_csv(tmp_path / "r.csv", [("a", 1.0, 40.0, 1000), ("b", 2.0, 41.0, 2000), ("c", 3.0, 42.0, 1500),
                                          ("Total", 2.0, 41.0, 4500)])
    load(model_file(tmp_path, path))
    assert "the demand of region 'Total' equals that of all the other regions together" in caplog.text


def test_a_zipped_folder_with_a_shapefile_is_read(tmp_path):
    """GDAL reads a zip whose shapefile lies at its top, not one zipped with its folder (shp/regions.shp)."""
    import zipfile

    import geopandas as gpd

    from planner.inputs.vector import read_vector

    folder = tmp_path / "shp"
    folder.mkdir()
    frame = gpd.GeoDataFrame({"ID": ["a", "b"], "pop": [1.0, 2.0]}, geometry=gpd.points_from_xy([1, 2], [3, 4]),
                             crs="EPSG:4326")
    frame.to_file(folder / "regions.shp")
    zipped = tmp_path / "regions.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        for part in sorted(folder.iterdir()):
            archive.write(part, f"shp/{part.name}")
    assert read_vector(zipped, None, "regions", "REGIONS")["ID"].tolist() == ["a", "b"]
    with zipfile.ZipFile(zipped, "a") as archive:  # macOS's resource copy beside it is no second file
        archive.writestr("shp/._regions.shp", b"\x00\x05\x16\x07")
    assert read_vector(zipped, None, "regions", "REGIONS")["ID"].tolist() == ["a", "b"]
    beside = tmp_path / "beside.zip"  # a GeoJSON at the top beside the zipped folder: the top one is read
    frame.assign(ID=["c", "d"]).to_file(tmp_path / "top.geojson")
    with zipfile.ZipFile(zipped) as source, zipfile.ZipFile(beside, "w") as archive:
        for name in source.namelist():
            archive.writestr(name, source.read(name))
        archive.write(tmp_path / "top.geojson", "top.geojson")
    assert read_vector(beside, None, "regions", "REGIONS")["ID"].tolist() == ["c", "d"]
    with zipfile.ZipFile(zipped, "a") as archive:
        archive.write(folder / "regions.shp", "other/more.shp")
    with pytest.raises(InputError, match=r"holds 2 vector files in its folders .*shp/regions\.shp.*unzip it"):
        read_vector(zipped, None, "regions", "REGIONS")


def test_points_at_zero_zero_among_far_ones_are_a_warning(tmp_path, default_model, caplog):
    """Two customers at 0° E, 0° N (where geocoders put what they cannot find) among 20 in East Africa had been
    planned for in the Gulf of Guinea without a word; points of a dataset around 0°, 0° are not warned about."""
    frame = east_africa_points(20)
    frame.loc[[3, 7], ["lon", "lat"]] = 0.0
    frame.to_csv(tmp_path / "c.csv", index=False)
    with caplog.at_level(logging.WARNING):
        load(default_model, tmp_path / "c.csv")
    assert ("c.csv: rows 4, 8 lie at 0° longitude, 0° latitude (in the Gulf of Guinea), where geocoders put addresses "
            "they could not find; check their coordinates") in caplog.text
    caplog.clear()
    frame.assign(lon=frame["lon"] / 10, lat=frame["lat"] / 10).to_csv(tmp_path / "near.csv", index=False)
    with caplog.at_level(logging.WARNING):
        load(default_model, tmp_path / "near.csv")
    assert "0° latitude" not in caplog.text


def test_a_demand_column_other_than_the_models_names_the_rates_it_is_multiplied_by(tmp_path, default_model, caplog):
    """20 stores' orders on the bundled model became 1 % of them (its 0.01 units/yr per person) with only
    "demand from column 'orders'" said; a file with the model's own column keeps the note as it was."""
    east_africa_points(20).to_csv(tmp_path / "c.csv", index=False)
    with caplog.at_level(logging.WARNING):
        load(default_model, tmp_path / "c.csv")
    assert (f"{tmp_path / 'c.csv'} is not the model's regions file: ids from column 'customer_id', demand from "
            "column 'orders' × the model's demand_rate (standard 0.01, custom 0.001 units/yr per unit of it, set for "
            f"its own column 'pop2020'; a model file for this file, planner init {tmp_path / 'c.csv'}, sets 1)"
            ) in caplog.text
    caplog.clear()
    east_africa_points(20).rename(columns={"orders": "pop2020"}).to_csv(tmp_path / "p.csv", index=False)
    with caplog.at_level(logging.WARNING):
        load(default_model, tmp_path / "p.csv")
    assert "× the model's demand_rate" not in caplog.text
