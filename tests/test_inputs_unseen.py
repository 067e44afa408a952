"""Inputs of a review on files the project had not seen: codes with leading zeros as ids, distances in
another unit, several demand columns, scenario files that leave regions out, polygons wider than 180°,
and large OD matrices read as exactly as small ones."""

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from planner.errors import InputError
from planner.inputs.config import read_model_config
from planner.inputs.geo import great_circle_km, representative_lonlat
from planner.inputs.io import read_od_matrix
from planner.inputs.prepare import DataOptions, load_inputs
from planner.inputs.scenarios import read_scenarios
from planner.inputs.tables import zero_padded
from planner.inputs.validate import odd_od_distances

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "models" / "hybrid.toml"


@pytest.fixture(scope="module")
def default_model():
    return read_model_config(DEFAULT_MODEL)


def points_table(n: int = 8, seed: int = 4) -> pd.DataFrame:
    """n points over Germany with FIPS-like codes ('01001', ...) and a population."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"lon": rng.uniform(6, 15, n).round(4), "lat": rng.uniform(47.5, 54.5, n).round(4),
                         "fips": [f"{1000 + i:05d}" for i in range(1, n + 1)],
                         "population": rng.integers(100_000, 900_000, n)})


def test_codes_with_leading_zeros_are_the_id_and_kept_as_written(tmp_path, default_model):
    """'01001' had been read as the number 1001, so the column was no text key: regions were numbered
    by row, the codes lost from every output, and an OD matrix keyed on them refused."""
    points_table().to_csv(tmp_path / "fips.csv", index=False)
    inputs = load_inputs(default_model, DataOptions(regions_path=tmp_path / "fips.csv"))
    assert inputs.regions["region_id"].tolist()[:3] == ["01001", "01002", "01003"]
    assert inputs.region_columns["id"] == "fips"
    assert inputs.base_demand.tolist() == points_table()["population"].astype(float).tolist()


def test_zero_padded_means_digits_with_a_leading_zero():
    assert zero_padded(pd.Series(["01001", "12005", None]))
    assert not zero_padded(pd.Series(["1001", "12005"]))  # no leading zero: numbers as far as anyone can tell
    assert not zero_padded(pd.Series(["0.5", "01"]))  # a decimal is a number
    assert not zero_padded(pd.Series([1001, 12005]))
    assert not zero_padded(pd.Series(["0"]))  # zero itself is a number


def test_a_numeric_population_beside_the_codes_is_still_the_demand(tmp_path, default_model):
    table = points_table().rename(columns={"population": "einwohner"})  # no demand name: the one numeric column
    table.to_csv(tmp_path / "codes.csv", index=False)
    inputs = load_inputs(default_model, DataOptions(regions_path=tmp_path / "codes.csv"))
    assert inputs.region_columns["demand"] == "einwohner" and inputs.region_columns["id"] == "fips"


def test_several_demand_columns_are_named_in_a_warning(tmp_path, default_model, caplog):
    table = points_table().assign(demand=lambda t: t["population"] // 10)
    table.to_csv(tmp_path / "two.csv", index=False)
    with caplog.at_level(logging.WARNING):
        inputs = load_inputs(default_model, DataOptions(regions_path=tmp_path / "two.csv"))
    assert inputs.region_columns["demand"] == "demand"
    assert "taking 'demand' as the demand; 'population' is also named like a demand column" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        load_inputs(default_model, DataOptions(regions_path=tmp_path / "two.csv", demand_column="population"))
    assert "named like a demand column" not in caplog.text  # chosen by the user: nothing to say


def od_for(lon, lat, ids, scale) -> pd.DataFrame:
    """Every pair of the points, road km = great circle × 1.2, then × ``scale`` (a unit mistake)."""
    i, j = np.meshgrid(np.arange(len(ids)), np.arange(len(ids)), indexing="ij")
    km = great_circle_km(lon[i.ravel()], lat[i.ravel()], lon[j.ravel()], lat[j.ravel()]) * 1.2
    return pd.DataFrame({"from": ids[i.ravel()], "to": ids[j.ravel()], "distance_km": km * scale})


@pytest.mark.parametrize(("scale", "fragment"), [
    (1.0, None),
    (1000.0, "is it in metres or another unit?"),
    (1 / 1.609, "shorter than the straight line, which no road is; is it in miles"),
])
def test_od_distances_in_another_unit_are_warned_about(scale, fragment):
    table = points_table(12)
    lon, lat, ids = table["lon"].to_numpy(), table["lat"].to_numpy(), table["fips"].to_numpy()
    warnings = odd_od_distances(od_for(lon, lat, ids, scale), ids, lon, lat, ids, lon, lat)
    if fragment is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and fragment in warnings[0]


def test_od_rows_in_another_unit_are_named():
    table = points_table(12)
    lon, lat, ids = table["lon"].to_numpy(), table["lat"].to_numpy(), table["fips"].to_numpy()
    od = od_for(lon, lat, ids, 1.0)
    far = np.flatnonzero(od["distance_km"].to_numpy() > 200)[:3]
    od.loc[far, "distance_km"] *= 1000  # three rows in metres
    (warning,) = odd_od_distances(od, ids, lon, lat, ids, lon, lat)
    assert f"in 3 rows (e.g. row {far[0] + 1}, " in warning and "check their unit" in warning


def test_od_rows_of_ids_not_in_the_data_or_blank_are_passed_over():
    table = points_table(12)
    lon, lat, ids = table["lon"].to_numpy(), table["lat"].to_numpy(), table["fips"].to_numpy()
    od = od_for(lon, lat, ids, 1.0)
    far = int(np.flatnonzero(od["distance_km"].to_numpy() > 200)[0])
    od.loc[far, "distance_km"] *= 1000
    strays = pd.DataFrame({"from": [ids[0], "nowhere", None], "to": ["nowhere", ids[1], ids[1]],
                           "distance_km": [1e6, 1e6, 1e6]})
    (warning,) = odd_od_distances(pd.concat([od, strays], ignore_index=True), ids, lon, lat, ids, lon, lat)
    assert f"in 1 rows (e.g. row {far + 1}, " in warning


def test_an_od_matrix_in_metres_is_warned_about_when_loaded(tmp_path, default_model, caplog):
    table = points_table(12)
    table.to_csv(tmp_path / "pts.csv", index=False)
    lon, lat, ids = table["lon"].to_numpy(), table["lat"].to_numpy(), table["fips"].to_numpy()
    od_for(lon, lat, ids, 1000.0).to_csv(tmp_path / "od.csv", index=False)
    with caplog.at_level(logging.WARNING):
        load_inputs(default_model, DataOptions(regions_path=tmp_path / "pts.csv", od_path=tmp_path / "od.csv"))
    assert "od.csv: the OD matrix's distance_km is a median 1.2e+03 × the straight-line distance" in caplog.text


def test_a_large_od_matrix_reads_as_a_small_one_does(tmp_path):
    """The C reader and the per-id conversion (4 M rows: 23.6 s → 3.6 s) give what the cell-by-cell
    reading gave: ids as text in NFC without padding, numbers exact, blanks allowed only in minutes."""
    rng = np.random.default_rng(7)
    ids = np.array(["01001", " 02002 ", "Cafe\u0301", "NA", "7"], dtype=object)
    n = 20_000
    frame = pd.DataFrame({"from": ids[rng.integers(0, 5, n)], "to": ids[rng.integers(0, 5, n)]})
    frame = frame.drop_duplicates().reset_index(drop=True)
    frame["distance_km"] = [repr(float(v)) for v in rng.uniform(0, 3000, len(frame))]
    frame["minutes"] = ["" if k % 3 == 0 else f"{k * 0.1:.1f}" for k in range(len(frame))]
    frame.to_csv(tmp_path / "od.csv", index=False)
    od = read_od_matrix(tmp_path / "od.csv")
    assert set(od["from"]) <= {"01001", "02002", "Café", "NA", "7"} and "Café" in set(od["from"]) | set(od["to"])
    assert od["distance_km"].tolist() == [float(v) for v in frame["distance_km"]]
    assert od["minutes"].isna().sum() == sum(1 for v in frame["minutes"] if v == "")


def test_a_scenario_file_that_leaves_regions_out_says_which(tmp_path, caplog):
    demand = np.array([[5.0], [6.0], [0.0], [7.0]])
    pd.DataFrame({"scenario": ["low", "high"], "region": ["a", "a"], "product": ["w", "w"],
                  "demand": [4, 8], "probability": [0.5, 0.5]}).to_csv(tmp_path / "s.csv", index=False)
    with caplog.at_level(logging.WARNING):
        scenarios = read_scenarios(tmp_path / "s.csv", np.array(["a", "b", "c", "d"], dtype=object), ("w",), demand)
    assert scenarios.demand[:, 1:, 0].sum() == 0
    assert "product 'w' has demand in 2 regions (b, d) that no row names" in caplog.text  # c has none anyway


def test_a_polygon_wider_than_180_degrees_is_read_with_a_warning(caplog):
    """A box from −100° to 100° had its demand point put at 180° in the Pacific, 18,000 km from the
    box's centre in the reading through Greenwich, with only an info line."""
    frame = gpd.GeoDataFrame({"id": ["band", "fiji", "russia"]}, crs="EPSG:4326", geometry=[
        box(-100, 30, 100, 40),
        box(177.0, -18.0, 180.0, -16.0).union(box(-180.0, -18.0, -179.0, -16.0)),  # split at ±180°: clear
        box(27.0, 50.0, 180.0, 70.0).union(box(-180.0, 64.0, -169.0, 70.0)),  # Russia, split at ±180°: clear
    ])
    with caplog.at_level(logging.WARNING):
        lon, _ = representative_lonlat(frame)
    assert abs(abs(lon[1]) - 180) < 3.5
    assert "1 polygons span more than 180° of longitude (e.g. one from -100° to 100°)" in caplog.text
    caplog.clear()
    coarse = gpd.GeoDataFrame({"id": ["pacific"]}, crs="EPSG:4326",  # one ring, 20° across ±180°
                              geometry=[shapely.Polygon([(170, 0), (-170, 0), (-170, 10), (170, 10)])])
    with caplog.at_level(logging.WARNING):
        lon, _ = representative_lonlat(pd.concat([frame.iloc[[1]], coarse]))
    assert caplog.text == "" and abs(lon[1]) == pytest.approx(180.0)  # read across ±180°, no doubt to warn of


def test_empty_rows_a_spreadsheet_export_ends_with_are_left_out(tmp_path, default_model):
    """A CSV ending with ',,,' rows (an Excel export) had been refused: "column 'lon' is not a number in
    rows 9". An empty row between filled ones stays, so that every error's row number is the file's:
    leaving those out too had numbered a bad longitude after them by its place in what was left."""
    table = points_table(4)
    text = table.to_csv(index=False) + ",,,\n,,,\n"
    (tmp_path / "blank.csv").write_text(text, encoding="utf-8")
    inputs = load_inputs(default_model, DataOptions(regions_path=tmp_path / "blank.csv"))
    assert inputs.regions["region_id"].tolist() == table["fips"].tolist()
    lines = text.splitlines()
    lines[4] = "abc" + lines[4][lines[4].index(","):]  # the longitude of data row 4
    (tmp_path / "bad.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"column 'lon' is not a .*number in rows 4\b"):
        load_inputs(default_model, DataOptions(regions_path=tmp_path / "bad.csv"))
    lines.insert(2, ",,,")  # an empty row in the middle: named, the bad longitude now in row 5
    (tmp_path / "middle.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"column 'lon' is not a .*number in rows 2, 5\b"):
        load_inputs(default_model, DataOptions(regions_path=tmp_path / "middle.csv"))


def test_a_missing_supplier_file_of_the_model_names_its_key(tmp_path, default_model):
    points_table(4).to_csv(tmp_path / "pts.csv", index=False)
    config = default_model.model_copy(deep=True)
    config.suppliers.path = tmp_path / "nope.csv"
    config.source_path = tmp_path / "mine.toml"
    with pytest.raises(InputError, match=r"nope.csv: suppliers file not found; pass an existing file to "
                                         r"\[suppliers\] path in mine.toml"):
        load_inputs(config, DataOptions(regions_path=tmp_path / "pts.csv"))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_varying_a_transport_rate_beside_od_costs_is_warned_about(tmp_path, caplog, suffix):
    """A sweep or sensitivity of transport.<p>.cost_per_unit_km with an OD matrix whose 'cost' column
    fixes every pair's cost had given identical objectives, and the tornado "no change", with no word."""
    from planner.inputs.io import warn_od_costs_fixed

    od = pd.DataFrame({"from": ["a"], "to": ["b"], "distance_km": [10.0], "cost": [3.0]})
    path = tmp_path / f"od{suffix}"
    od.to_parquet(path) if suffix == ".parquet" else od.to_csv(path, index=False)
    with caplog.at_level(logging.WARNING):
        warn_od_costs_fixed(["transport.standard.cost_per_unit_km", "carbon_price"], path, "planner sweep")
    assert "planner sweep varies transport.standard.cost_per_unit_km, but" in caplog.text
    assert "has a 'cost' column" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        warn_od_costs_fixed(["carbon_price"], path, "planner sweep")  # nothing the OD costs fix
        warn_od_costs_fixed(["transport.standard.cost_per_unit_km"], None, "planner sweep")  # no OD matrix
        od.drop(columns="cost").to_csv(tmp_path / "km.csv", index=False)
        warn_od_costs_fixed(["transport.standard.cost_per_unit_km"], tmp_path / "km.csv", "--sweep")
    assert caplog.text == ""


def test_od_distances_to_large_polygons_and_within_a_region_raise_no_alarm():
    """A site's distance to its own region, and a short distance to a polygon whose planner point lies far
    from the data's own point, are no unit error; nor is a median over a handful of pairs (the review of
    this change had both warned about)."""
    lon, lat = np.array([0.0, 5.0, 10.0]), np.array([0.0, 0.0, 0.0])
    ids = np.array(["R1", "R2", "R3"], dtype=object)
    od = pd.DataFrame({"from": ["R1", "R2", "R3", "R1"], "to": ["R1", "R2", "R3", "R2"],
                       "distance_km": [0.0, 0.0, 0.0, 40.0]})  # R2 a large polygon: its edge is 40 km from R1
    assert odd_od_distances(od, ids, lon, lat, ids, lon, lat, region_is_point=[False] * 3) == []
    (warning,) = odd_od_distances(od, ids, lon, lat, ids, lon, lat, region_is_point=[True] * 3)
    assert "in 1 rows (e.g. row 4, R1->R2: 40 km against 556.0 km" in warning  # a point: the road is too short


def test_many_kmeans_candidates_are_found_without_quadratic_seeding():
    """1,000 k-means candidates over 40,000 points took 65 s in SciPy's seeding and 2.5 GB for a table of
    distances; the planner's own k-means++ seeding and a k-d tree give as many, spread over the demand."""
    from planner.inputs.candidates import SCIPY_SEEDING_WORK, kmeans_pp_seeds, nearest_to_centres

    rng = np.random.default_rng(3)
    n, k = 20_000, 600
    assert k * k * n > SCIPY_SEEDING_WORK  # the planner's own seeding
    lon, lat = rng.uniform(-60, -35, n), rng.uniform(-30, 0, n)
    chosen = nearest_to_centres(np.ones(n, dtype=bool), rng.pareto(1.2, n) * 1000, lon, lat, k)
    assert chosen.sum() >= 0.95 * k
    west = chosen & (lon < -47.5)
    assert 0.3 < west.sum() / chosen.sum() < 0.7  # spread over the whole area, not one corner
    blobs = np.vstack([rng.normal(0, 0.01, (500, 3)), rng.normal(10, 0.01, (500, 3))])
    seeds = kmeans_pp_seeds(blobs, 2)
    assert sorted(np.round(seeds[:, 0]).tolist()) == [0.0, 10.0]  # the second seed is drawn far from the first


def test_demand_beyond_every_site_is_warned_about_by_every_solve(tmp_path, default_model, caplog):
    """planner init said so, validate and solve of the same data did not (and read 'optimal' with 46 %
    of the demand served)."""
    from planner.inputs.prepare import prepare_problem
    from planner.inputs.screen import screen_problem

    table = points_table(6)
    table.to_csv(tmp_path / "pts.csv", index=False)
    config = default_model.model_copy(deep=True)
    config.products["standard"].demand_rate = 100.0  # 100 units a person: far beyond every plant
    inputs = load_inputs(config, DataOptions(regions_path=tmp_path / "pts.csv"))
    with caplog.at_level(logging.WARNING):
        screening = screen_problem(prepare_problem(config, inputs))
    assert any("what all candidate sites can make at their largest" in warning for warning in screening.warnings)
    assert "goes unmet whatever is built" in caplog.text


def test_scenarios_each_within_capacity_are_not_called_short_of_it():
    """Two scenarios of 300 units in different regions against 400 of capacity: each is served in full.
    The warning had summed each region's largest demand over the scenarios (600) and said a third goes
    unmet whatever is built; a scenario of 500 is short, and the warning names its demand."""
    from planner.inputs.screen import hardest_cell_view, screen_problem
    from tests.builders import dense_problem

    problem = dense_problem([300.0, 300.0], [1.0, 1.0], [200.0, 200.0], [[1.0, 1.0], [1.0, 1.0]], penalty=50.0)
    cells = np.array([[[300.0], [0.0]], [[0.0], [300.0]]])
    assert screen_problem(hardest_cell_view(problem, cells)[0], cells).warnings == []
    cells[1, 0, 0] = 200.0  # scenario 2 now asks for 500
    [warning] = screen_problem(hardest_cell_view(problem, cells)[0], cells).warnings
    assert warning.startswith("the demand of the scenario (or period) asking for most (500 units/yr) is 1.25× what")


@pytest.mark.parametrize(("capacity", "times", "share"), [(5e-324, "more than 1e308 times", "99.9%"),
                                                           (1e-3, "5e+04×", "99.9%"), (20.0, "2.5×", "60.0%")])
def test_the_capacity_warning_never_reads_inf_or_all_unmet_where_some_is_served(capacity, times, share):
    """A module capacity of 5e-324 read "the demand … is inf× what all candidate sites can make … at least
    100.0% of it goes unmet", and one of 1e-3 "100.0%" where some is served."""
    from planner.inputs.screen import Screening, warn_capacity_short
    from tests.builders import dense_problem

    screening = Screening()
    warn_capacity_short(dense_problem([50.0, 50.0], [1.0, 1.0], [capacity, capacity], [[1.0, 1.0], [1.0, 1.0]],
                                      penalty=10.0), screening)
    assert f"is {times} what all candidate sites" in screening.warnings[0]
    assert f"at least {share} of it goes unmet" in screening.warnings[0]


def test_pairs_within_reach_are_those_brute_force_finds_once_each_with_sites_at_demand_points():
    """Sites placed on demand points (distance 0, which the k-d tree's sparse matrix drops and a second query
    adds back): every pair within the limit once, in (site, region) order, as testing every pair finds them."""
    from planner.inputs.geo import pairs_within

    rng = np.random.default_rng(5)
    to_lon, to_lat = rng.uniform(5.0, 9.0, 60), rng.uniform(45.0, 48.0, 60)
    from_lon, from_lat = np.r_[to_lon[:8], 7.0], np.r_[to_lat[:8], 46.5]  # eight on demand points, one not
    i, j, km = pairs_within(from_lon, from_lat, to_lon, to_lat, 120.0)
    every_i, every_j = np.repeat(np.arange(9), 60), np.tile(np.arange(60), 9)
    every_km = great_circle_km(from_lon[every_i], from_lat[every_i], to_lon[every_j], to_lat[every_j])
    near = every_km <= 120.0
    assert (i.tolist(), j.tolist()) == (every_i[near].tolist(), every_j[near].tolist())
    assert np.allclose(km, every_km[near]) and (km[i == j] == 0).all() and (i == j).sum() == 8
