"""Readers and model checks on data nobody prepared for the planner (robustness sweep 3): OD matrices
written like the regions' tables (semicolons, tabs, 'NA' ids, float ids), a demand column with text
cells, a missing layer, a header naming a column twice, a scenario file with semicolons, a product no
facility type makes, and an OD matrix without distances where the model measures km."""

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from planner.errors import InfeasibleError, InputError
from planner.inputs.config import read_model_config
from planner.inputs.io import read_od_matrix, read_regions
from planner.inputs.prepare import DataOptions, load_inputs, prepare_problem
from planner.inputs.scenarios import read_scenarios
from tests.builders import STANDARD_PLANT_TOML

# Namibia (NA) and South Africa (ZA): 'NA' is a country code, not a missing value
AFRICA = "iso,lon,lat,pop\nNA,17.08,-22.56,100\nZA,28.05,-26.20,200\n"
MODEL = """name = "t"
[regions]
path = "regions.csv"
id_column = "iso"
demand_column = "pop"
[products.standard]
unmet_penalty_per_unit = 1000.0
{product_keys}
""" + STANDARD_PLANT_TOML + "{extra}\n"


def workspace(tmp_path: Path, product_keys: str = "", extra: str = "") -> Path:
    (tmp_path / "regions.csv").write_text(AFRICA, encoding="utf-8")
    model = tmp_path / "m.toml"
    model.write_text(MODEL.format(product_keys=product_keys, extra=extra), encoding="utf-8")
    return model


def od_rows(sep: str = ",", header: str = "from,to,distance_km") -> str:
    pairs = [("NA", "NA", "0"), ("NA", "ZA", "1200.5"), ("ZA", "NA", "1200.5"), ("ZA", "ZA", "0")]
    return "\n".join([header.replace(",", sep), *(sep.join(row) for row in pairs)]) + "\n"


@pytest.mark.parametrize("name, sep, encoding", [("od.csv", ";", "utf-8"), ("od.tsv", "\t", "utf-8"),
                                                 ("od.csv", ",", "utf-8-sig")])
def test_od_matrix_is_read_like_the_regions_table(tmp_path, name, sep, encoding):
    """A semicolon CSV or a TSV was read as one column ('column from not found'); 'NA' ids became NaN,
    so the pairs of Namibia were 'missing'."""
    path = tmp_path / name
    path.write_text(od_rows(sep), encoding=encoding)
    table = read_od_matrix(path)
    assert table["from"].tolist() == ["NA", "NA", "ZA", "ZA"]
    assert table["distance_km"].tolist() == [0.0, 1200.5, 1200.5, 0.0]


def test_od_matrix_with_na_ids_solves_with_its_distances(tmp_path):
    model = workspace(tmp_path)
    (tmp_path / "od.csv").write_text(od_rows(), encoding="utf-8")
    config = read_model_config(model)
    problem = prepare_problem(config, load_inputs(config, DataOptions(od_path=tmp_path / "od.csv")))
    assert sorted(problem.arc_distance_km.tolist()) == [0.0, 0.0, 1200.5, 1200.5]


def test_od_matrix_float_ids_match_whole_number_ids(tmp_path):
    """A Parquet OD matrix with float ids (1001.0: a column with a gap is float) matched no region."""
    path = tmp_path / "od.parquet"
    pd.DataFrame({"from": [1001.0, 1002.0], "to": [1002.0, 1001.0], "cost": [1.0, 2.0]}).to_parquet(path)
    table = read_od_matrix(path)
    assert table["from"].tolist() == ["1001", "1002"] and table["to"].tolist() == ["1002", "1001"]


def test_od_matrix_empty_id_and_decimal_comma_are_named(tmp_path):
    path = tmp_path / "od.csv"
    path.write_text("from,to,distance_km\nA,,5\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"od.csv: column 'to' is empty in rows 1; give a region id in every row"):
        read_od_matrix(path)
    path.write_text("from;to;distance_km\nA;B;12,5\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 1 \('12,5'\): it must be a finite number ≥ 0; decimal commas are not"):
        read_od_matrix(path)


def test_demand_column_with_text_cells_is_named_not_asked_for(tmp_path):
    """A 'demand' column with a 'NaN' cell in a small file: "which column is the demand?" instead of the
    bad cell."""
    config = read_model_config(workspace(tmp_path))
    (tmp_path / "towns.csv").write_text("id,lon,lat,demand\n1,10,50,NaN\n2,10.5,50.2,200\n", encoding="utf-8")
    options = DataOptions(regions_path=tmp_path / "towns.csv")
    with pytest.raises(InputError, match=r"column 'demand' is not a number in rows 1 \(values \['NaN'\]\)"):
        load_inputs(config, options)


def test_missing_layer_lists_the_layers(tmp_path):
    path = tmp_path / "two.gpkg"
    frame = gpd.GeoDataFrame({"id": ["a"], "pop": [1.0]}, geometry=[Point(10, 50)], crs="EPSG:4326")
    frame.to_file(path, layer="towns")
    frame.to_file(path, layer="cities")
    with pytest.raises(InputError, match=r"two.gpkg: has no layer 'town'; its layers: towns, cities"):
        read_regions(path, layer="town")


def test_a_column_named_twice_in_the_header_is_refused(tmp_path):
    """pandas reads the second 'demand' as 'demand.1' and the first was silently the one used."""
    path = tmp_path / "regions.csv"
    path.write_text("id,lon,lat,demand,demand\n1,10,50,1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"column 'demand' appears twice in the header \(columns 4 and 5\)"):
        read_regions(path)


def test_scenario_file_with_semicolons_is_read(tmp_path):
    path = tmp_path / "scenarios.csv"
    path.write_text("scenario;region;product;demand;probability\nlow;NA;standard;50;0.5\nhigh;NA;standard;150;0.5\n",
                    encoding="utf-8")
    scenarios = read_scenarios(path, ("NA", "ZA"), ("standard",))
    assert scenarios.ids == ("low", "high") and scenarios.demand[:, 0, 0].tolist() == [50.0, 150.0]


def test_a_product_no_type_makes_and_no_penalty_names_the_keys(tmp_path):
    """The screening blamed radii and candidate sites ('add candidate sites, widen the radius')."""
    model = workspace(tmp_path, extra="[products.spare]\n[transport.spare]\ncost_per_unit_km = 0.01\n")
    config = read_model_config(model)
    with pytest.raises(InfeasibleError, match=r"product 'spare': no facility type makes it .* add a "
                                              r"\[facility_types.<type>.products.spare\] table or set "
                                              r"products.spare.unmet_penalty_per_unit"):
        prepare_problem(config, load_inputs(config, DataOptions()))


@pytest.mark.parametrize("keys, named", [
    ("service = { min_share_within = 0.9, within_km = 50 }", "products.standard.service.within_km"),
    ("proximity = { bands_km = [50], demand_factor = [1.2, 1.0] }", "products.standard.proximity"),
])
def test_od_matrix_without_distances_is_refused_where_km_are_measured(tmp_path, keys, named):
    """Every pair counted as 0 km, so "100.0% within 50 km" was reported whatever the network."""
    model = workspace(tmp_path, product_keys=keys)
    (tmp_path / "od.csv").write_text(od_rows(header="from,to,cost"), encoding="utf-8")
    config = read_model_config(model)
    inputs = load_inputs(config, DataOptions(od_path=tmp_path / "od.csv"))
    with pytest.raises(InputError, match=rf"{named} measures road km, but the OD matrix has no 'distance_km'"):
        prepare_problem(config, inputs)


def test_od_matrix_without_distances_warns_that_transport_co2_is_zero(tmp_path, caplog):
    """Transport CO2 per unit-km times 0 km is 0: said once, naming the product, where it emits."""
    model = workspace(tmp_path)
    model.write_text(model.read_text(encoding="utf-8").replace(
        "cost_per_unit_km = 0.01\n", "cost_per_unit_km = 0.01\nco2_kg_per_unit_km = 0.002\n"), encoding="utf-8")
    (tmp_path / "od.csv").write_text(od_rows(header="from,to,cost"), encoding="utf-8")
    config = read_model_config(model)
    with caplog.at_level("WARNING"):
        prepare_problem(config, load_inputs(config, DataOptions(od_path=tmp_path / "od.csv")))
    assert [r.getMessage() for r in caplog.records if "transport CO2 of standard" in r.getMessage()]


def test_a_product_no_facility_delivers_is_said_so_not_blamed_on_radii(tmp_path):
    """With a penalty, a product no type makes was 'cannot be served within a delivery radius'."""
    from planner.inputs.screen import check_reach

    extra = "[products.spare]\nunmet_penalty_per_unit = 10.0\n[transport.spare]\ncost_per_unit_km = 0.01\n"
    config = read_model_config(workspace(tmp_path, extra=extra))
    warnings = check_reach(prepare_problem(config, load_inputs(config, DataOptions()))).warnings
    assert [w for w in warnings if w.startswith("product 'spare': no facility delivers it to any region")], warnings
    assert not [w for w in warnings if "within a delivery radius" in w], warnings


def test_an_od_distance_or_time_beyond_any_delivery_is_refused_with_its_row(tmp_path):
    """distance_km 1e308 had been blamed on the model's carbon_price (with a cost column) or dropped with numpy's
    overflow warning on the console (without one)."""
    path = tmp_path / "od.csv"
    path.write_text("from,to,distance_km,minutes\nA,B,12.5,30\nA,C,1e308,40\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"od.csv: column 'distance_km' row 2 \(1e\+308\) is above 1e\+06: no "
                                         r"delivery is that long; check its unit"):
        read_od_matrix(path)
    path.write_text("from,to,distance_km,minutes\nA,B,12.5,30\nA,C,14,2e7\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"column 'minutes' row 2 \(2e\+07\) is above 1e\+07"):
        read_od_matrix(path)
    path.write_text("from,to,distance_km\nA,B,40000\n", encoding="utf-8")
    assert read_od_matrix(path)["distance_km"].tolist() == [40000.0]
