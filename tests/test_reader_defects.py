"""Readers of regions and sites on a tester's data: ids read as text, sites read like the regions,
coordinates checked, antimeridian polygons, and messages that quote the user's values and the right fix."""

import json
import logging
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import MultiPolygon, Point, Polygon, box

from planner.cli import main
from planner.errors import InputError
from planner.inputs.config import read_model_config
from planner.inputs.geo import representative_lonlat
from planner.inputs.prepare import DataOptions, load_inputs, parse_select, prepare_problem, read_candidate_sites
from tests.builders import STANDARD_PLANT_TOML

AU = [("SYD", 151.21, -33.87, 5300), ("MEL", 144.96, -37.81, 5100), ("BNE", 153.03, -27.47, 2600),
      ("PER", 115.86, -31.95, 2200)]


def regions_csv(path: Path, rows=AU, header: str = "id,lon,lat,pop", sep: str = ",") -> Path:
    """A CSV of point regions; each row is written as given (ids keep their text)."""
    lines = [header] + [sep.join(str(value) for value in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def model_file(tmp_path: Path, regions: Path, regions_keys: str = 'id_column = "id"\ndemand_column = "pop"') -> Path:
    """A one-product, one-type model on ``regions`` (km costs small, a penalty so nothing must be served)."""
    path = tmp_path / "m.toml"
    path.write_text(
        f"""name = "t"
carbon_price = 0.0
[regions]
path = "{regions.name}"
{regions_keys}
[products.standard]
demand_rate = 1.0
unmet_penalty_per_unit = 1000.0
""" + STANDARD_PLANT_TOML,
        encoding="utf-8",
    )
    return path


def sites_csv(path: Path, lines: list[str], header: str = "site_id,lon,lat") -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def load(model: Path, **options):
    config = read_model_config(model)
    return config, load_inputs(config, DataOptions(**options))


# --- defect 2: ids keep their leading zeros ---------------------------------------------------------------


ZIP = [("02134", 151.21, -33.87, 5300), ("00501", 144.96, -37.81, 5100), ("0712", 153.03, -27.47, 2600),
       ("10001", 115.86, -31.95, 2200)]


def test_csv_ids_keep_leading_zeros_and_match_od_matrix_and_select(tmp_path):
    model = model_file(tmp_path, regions_csv(tmp_path / "zip.csv", ZIP))
    config, inputs = load(model)
    assert list(inputs.regions["region_id"]) == ["02134", "00501", "0712", "10001"]
    assert list(inputs.sites["site_id"]) == ["02134", "00501", "0712", "10001"]  # generated at the regions
    od = tmp_path / "od.csv"
    od.write_text("from,to,distance_km\n" + "".join(f"{a[0]},{b[0]},1.0\n" for a in ZIP for b in ZIP))
    config, inputs = load(model, od_path=od)
    problem = prepare_problem(config, inputs)
    assert problem.n_arcs == 16
    _, selected = load(model, select=parse_select(["id=02134,0712"]))
    assert list(selected.regions["region_id"]) == ["02134", "0712"]


def test_numeric_looking_ids_stay_their_text(tmp_path):
    rows = [(str(i + 1), *row[1:]) for i, row in enumerate(AU)]
    model = model_file(tmp_path, regions_csv(tmp_path / "n.csv", rows))
    _, inputs = load(model, select=parse_select(["id=2,3"]))
    assert list(inputs.regions["region_id"]) == ["2", "3"]


def test_select_on_a_numeric_column_matches_by_value(tmp_path):
    rows = [(*row, state) for row, state in zip(AU, (1, 2, 1, 2), strict=True)]
    model = model_file(tmp_path, regions_csv(tmp_path / "s.csv", rows, header="id,lon,lat,pop,state"))
    _, inputs = load(model, select=parse_select(["state=1"]))
    assert list(inputs.regions["region_id"]) == ["SYD", "BNE"]


# --- defect 3: a facility type listed twice ---------------------------------------------------------------


@pytest.mark.slow  # a whole CLI run
def test_a_type_listed_twice_counts_once_and_solves(tmp_path):
    model = model_file(tmp_path, regions_csv(tmp_path / "au.csv"))
    sites = sites_csv(tmp_path / "sites.csv", ["S1,151.2,-33.9,plant", "S2,138.6,-34.9,plant;plant"],
                      header="site_id,lon,lat,facility_types")
    table = read_candidate_sites(sites, read_model_config(model))
    assert list(table["types"]) == [("plant",), ("plant",)]
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--sites", str(sites), "--out",
                                       str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["audit"]["passed"]


# --- defects 7 and 16: site coordinates are checked, and found like the regions' ------------------------


@pytest.mark.parametrize(("line", "column"), [("S2,130.8,95.0", "'lat'"), ("S2,400.0,-20.0", "'lon'")])
def test_site_coordinates_outside_the_globe_are_an_error(tmp_path, line, column):
    model = model_file(tmp_path, regions_csv(tmp_path / "au.csv"))
    sites = sites_csv(tmp_path / "sites.csv", ["S1,151.2,-33.9", line])
    with pytest.raises(InputError, match=rf"sites.csv: rows 2 have coordinates outside ±180°/±90° in column {column}"):
        load(model, sites_path=sites)
    result = CliRunner().invoke(main, ["validate", "--model", str(model), "--sites", str(sites)])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_site_coordinate_columns_are_found_like_the_regions(tmp_path):
    model = model_file(tmp_path, regions_csv(tmp_path / "au.csv"))
    sites = sites_csv(tmp_path / "sites.csv", ["007,151.2,-33.9", "S2,115.9,-31.9"],
                      header="site_id,Longitude,Latitude")
    _, inputs = load(model, sites_path=sites)
    assert list(inputs.sites["site_id"]) == ["007", "S2"]
    assert inputs.sites["lon"].tolist() == [151.2, 115.9]


# --- defect 10: a duplicated id column found in the file ----------------------------------------------


def test_a_duplicated_found_id_column_is_a_warning_naming_it(tmp_path, caplog):
    rows = [("SYD", *AU[0][1:]), ("MEL", *AU[1][1:]), ("SYD", *AU[2][1:]), ("PER", *AU[3][1:])]
    model = model_file(tmp_path, regions_csv(tmp_path / "au.csv"), 'demand_column = "pop"')  # the id is found
    other = regions_csv(tmp_path / "dup.csv", rows)
    with caplog.at_level(logging.WARNING):
        _, inputs = load(model, regions_path=other)
    assert list(inputs.regions["region_id"]) == ["1", "2", "3", "4"]
    assert inputs.region_columns["id"] is None  # row numbers
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("column 'id' has duplicated values (SYD)" in m and "numbered by row" in m and "--id-column" in m
               for m in warnings), warnings



def test_the_one_unique_text_column_is_the_id_where_none_has_an_id_name(tmp_path, caplog):
    """'município' (no id name, every value filled and unique) gives the ids, with a warning naming it;
    with a second such column, or with a duplicate in it, the rows are numbered as before."""
    towns = [("São Paulo", *AU[0][1:]), ("Brasília", *AU[1][1:]), ("Belém", *AU[2][1:]), ("Natal", *AU[3][1:])]
    header = "município,lon,lat,pop"
    model = model_file(tmp_path, regions_csv(tmp_path / "br.csv", towns, header), 'demand_column = "pop"')
    with caplog.at_level(logging.WARNING):
        _, inputs = load(model)
    assert list(inputs.regions["region_id"]) == ["São Paulo", "Brasília", "Belém", "Natal"]
    assert any("taking 'município', its one text column with unique values, as the region id" in r.getMessage()
               for r in caplog.records)
    two = regions_csv(tmp_path / "two.csv", [(*row, f"code{i}") for i, row in enumerate(towns)], header + ",sigla")
    duplicated = regions_csv(tmp_path / "dup.csv", [("Natal", *row[1:]) if i == 0 else row
                                                     for i, row in enumerate(towns)], header)
    for other in (two, duplicated):
        _, inputs = load(model, regions_path=other)
        assert list(inputs.regions["region_id"]) == ["1", "2", "3", "4"]


def test_projected_coordinates_the_crs_cannot_hold_are_refused_naming_the_rows(tmp_path):
    """EPSG:3857 at 10^12 m would land on the pole: refused with the rows and the CRS's area; real
    Australian towns in metres (EPSG:3577) and a row at the edge of the Mercator map are read."""
    rows = [("a", 1.0e12, 1.0e12, 10), ("b", 1.68e7, -4.0e6, 20), ("c", 2.0e12, 0.0, 30)]
    model = model_file(tmp_path, regions_csv(tmp_path / "huge.csv", rows, "id,x,y,pop"),
                       'id_column = "id"\ndemand_column = "pop"\ncrs = "EPSG:3857"')
    with pytest.raises(InputError, match=r"huge.csv: rows 1, 3 have coordinates outside what EPSG:3857 can hold "
                                         r"\(it is for World .*latitude -85.06 to 85.06\), e.g. x 1e\+12"):
        load(model)
    towns = [("SYD", 1_750_000.0, -3_960_000.0, 10), ("PER", -1_630_000.0, -3_560_000.0, 20)]
    model = model_file(tmp_path, regions_csv(tmp_path / "au.csv", towns, "id,x,y,pop"),
                       'id_column = "id"\ndemand_column = "pop"\ncrs = "EPSG:3577"')
    _, inputs = load(model)
    assert list(inputs.regions["region_id"]) == ["SYD", "PER"]


@pytest.mark.parametrize("header, rows", [("wkt", ['"POINT (151.2 -33.9)"', '"POINT (144.9 -37.8)"']),
                                          ("name", ["Sydney", "Melbourne"])])
def test_a_table_of_one_column_is_not_split_on_a_letter_of_its_header(tmp_path, header, rows):
    from planner.inputs.tables import read_table

    path = tmp_path / "one.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    assert list(read_table(path, "regions", "the REGIONS argument").columns) == [header]


@pytest.mark.parametrize("separator", [",", ";", "\t", "|"])
def test_the_separator_is_sniffed_from_the_lines_among_the_usual_ones(tmp_path, separator):
    from planner.inputs.tables import read_table

    path = tmp_path / "t.csv"
    path.write_text("\n".join(separator.join(row) for row in [("id", "name", "pop"), ("1", "New York", "5"),
                                                                ("2", "Rio", "7")]) + "\n", encoding="utf-8")
    table = read_table(path, "regions", "the REGIONS argument")
    assert list(table.columns) == ["id", "name", "pop"] and list(table["name"]) == ["New York", "Rio"]


def test_table_keys_on_a_vector_file_name_the_model_keys(tmp_path):
    gpkg = tmp_path / "au.gpkg"
    gpd.GeoDataFrame({"id": ["SYD"], "pop": [5]}, geometry=[Point(151.2, -33.9)], crs="EPSG:4326").to_file(gpkg)
    model = model_file(tmp_path, gpkg, 'id_column = "id"\ndemand_column = "pop"\ncrs = "EPSG:3857"')
    with pytest.raises(InputError, match=r"this file has its own CRS \(WGS 84\); --crs \(the \[regions\] key crs\) "
                                         r"is for tables of points and files without one: drop it"):
        load(model)
    model = model_file(tmp_path, gpkg, 'id_column = "id"\ndemand_column = "pop"\nlon_column = "x"')
    with pytest.raises(InputError, match=r"the \[regions\] keys lon_column and lat_column\) are for CSV/Parquet "
                                         r"tables of points; this file has its own geometry: drop them"):
        load(model)


def test_a_vector_file_without_a_crs_takes_it_from_crs(tmp_path):
    """A shapefile without its .prj had no fix but Python ('gdf.set_crs'), and --crs was refused as if
    the file had its own."""
    shp = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        gpd.GeoDataFrame({"id": ["SYD", "MEL"], "pop": [5, 4]}, geometry=[Point(151.2, -33.9), Point(145.0, -37.8)]
                         ).to_file(shp)
    model = model_file(tmp_path, shp, 'id_column = "id"\ndemand_column = "pop"')
    with pytest.raises(InputError, match=r"the data has no CRS .*; give it with --crs \(the \[regions\] key crs\)"):
        load(model)
    _, inputs = load(model_file(tmp_path, shp, 'id_column = "id"\ndemand_column = "pop"\ncrs = "EPSG:4326"'))
    assert inputs.regions.crs == "EPSG:4326" and len(inputs.regions) == 2


def test_another_file_in_the_model_layout_is_read_with_the_model_columns(tmp_path, caplog):
    """Next year's file has the model's demand column ('sales') and a 'population' column the detection
    would take: the model's column is used, and a warning names what was taken."""
    keys = 'id_column = "code"\ndemand_column = "sales"\nname_column = "town"'
    header = "code,town,lon,lat,sales,population"
    this_year = [(f"0{i}", name, *AU[i][1:3], 10 * (i + 1), 1000 * (i + 1)) for i, name in enumerate("ABCD")]
    model = model_file(tmp_path, regions_csv(tmp_path / "y1.csv", this_year, header), keys)
    next_year = regions_csv(tmp_path / "y2.csv", [(*row[:4], 2 * row[4], row[5]) for row in this_year], header)
    with caplog.at_level(logging.INFO):
        _, inputs = load(model, regions_path=next_year)
    assert list(inputs.regions["region_id"]) == ["00", "01", "02", "03"]  # text: the zeros kept
    assert list(inputs.regions["region_name"]) == list("ABCD")
    assert inputs.demand[:, 0] == pytest.approx([20, 40, 60, 80])
    assert inputs.region_columns == {"id": "code", "demand": "sales", "name": "town"}  # summary.json inputs
    notes = {r.getMessage(): r.levelno for r in caplog.records}
    taken = [level for message, level in notes.items()
             if "ids from column 'code', demand from column 'sales'" in message]
    assert taken == [logging.INFO], notes  # every column named by the model: a note, not a warning


def test_another_file_without_a_model_column_warns_naming_the_key(tmp_path, caplog):
    model = model_file(tmp_path, regions_csv(tmp_path / "au.csv", header="id,lon,lat,sales"),
                       'id_column = "id"\ndemand_column = "sales"')
    other = regions_csv(tmp_path / "other.csv")  # demand in 'pop'
    with caplog.at_level(logging.WARNING):
        _, inputs = load(model, regions_path=other)
    assert inputs.demand[:, 0] == pytest.approx([row[3] for row in AU])
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("has no column for its [regions] key demand_column = 'sales'" in m for m in warnings), warnings
    assert any("demand from column 'pop'" in m for m in warnings), warnings


def test_the_warning_on_missing_model_columns_names_a_fix_that_sets_them(tmp_path, caplog):
    """The model's name and demand-point columns lacking in another file: the warning said they were "found in
    the file instead (name them with --id-column / --demand-column)", flags that set neither."""
    model = model_file(tmp_path, regions_csv(tmp_path / "au.csv", [(*row, row[1], row[2]) for row in AU],
                                             header="id,lon,lat,pop,plon,plat"),
                       'id_column = "id"\ndemand_column = "pop"\nname_column = "town"\n'
                       'demand_point_columns = ["plon", "plat"]')
    other = regions_csv(tmp_path / "other.csv")
    with caplog.at_level(logging.WARNING):
        load(model, regions_path=other)
    warning = next(r.getMessage() for r in caplog.records if "has no column for its [regions] keys" in r.getMessage())
    assert "--id-column" not in warning and "--demand-column" not in warning, warning
    assert "name_column = 'town', demand_point_columns = ('plon', 'plat'): names found in the file instead" in warning
    assert "each region's demand point is a point inside it instead" in warning
    assert f"give a model file whose [regions] path is this file (planner init {other} writes one)" in warning


def test_the_id_column_may_also_be_the_name_column(tmp_path):
    cities = [("東京", 139.69, 35.69, 14), ("大阪", 135.5, 34.69, 3)]
    model = model_file(tmp_path, regions_csv(tmp_path / "jp.csv", cities, header="name,lon,lat,pop"),
                       'id_column = "name"\nname_column = "name"\ndemand_column = "pop"')
    _, inputs = load(model)
    assert list(inputs.regions["region_id"]) == ["東京", "大阪"]
    assert list(inputs.regions["region_name"]) == ["東京", "大阪"]


def test_whole_number_float_ids_match_integer_ids_in_an_od_matrix(tmp_path):
    """A GeoJSON whose code column is float (1001.0, as spreadsheets and shapefiles store codes): the
    ids are '1001', ..., and an OD matrix written with integer ids matches them."""
    points = [Point(lon, lat) for _, lon, lat, _ in AU]
    frame = gpd.GeoDataFrame({"code": [1001.0, 1002.0, 1003.0, 1004.0], "pop": [row[3] for row in AU]},
                             geometry=points, crs="EPSG:4326")
    regions = tmp_path / "au.geojson"
    frame.to_file(regions, driver="GeoJSON")
    model = model_file(tmp_path, regions, 'id_column = "code"\ndemand_column = "pop"')
    od = tmp_path / "od.csv"
    od.write_text("from,to,distance_km\n" + "".join(f"{a},{b},{0 if a == b else 500}\n"
                                                    for a in range(1001, 1005) for b in range(1001, 1005)))
    _, inputs = load(model, od_path=od)
    assert list(inputs.regions["region_id"]) == ["1001", "1002", "1003", "1004"]

# --- defect 6: a polygon drawn across the antimeridian ------------------------------------------------


def test_a_polygon_crossing_the_antimeridian_gets_its_point_there():
    ring = [(179.9, -16.9), (-179.9, -16.9), (-179.9, -16.7), (179.9, -16.7), (179.9, -16.9)]
    split = MultiPolygon([box(179.9, -16.9, 180.0, -16.7), box(-180.0, -16.9, -179.9, -16.7)])
    frame = gpd.GeoDataFrame(geometry=[Polygon(ring), split, Point(-179.95, -16.8), box(177.3, -17.9, 177.5, -17.7)],
                             crs="EPSG:4326")
    lon, lat = representative_lonlat(frame)
    assert np.all(np.abs(np.abs(lon[:3]) - 180.0) <= 0.11), lon  # all within 0.1° of the antimeridian
    assert lon[3] == pytest.approx(177.4) and lat == pytest.approx([-16.8, -16.8, -16.8, -17.8])


@pytest.mark.parametrize("crs", ["EPSG:3857", "EPSG:3832", "EPSG:4269"])
def test_a_projected_polygon_crossing_the_antimeridian_gets_its_point_there(crs):
    """The same rings projected (in EPSG:3857 a ring 179.9° → −179.9° spans the whole map, and its
    representative point was near lon 0, in the Gulf of Guinea) or in another geographic CRS."""
    ring = [(179.9, -16.9), (-179.8, -16.9), (-179.8, -16.7), (179.9, -16.7), (179.9, -16.9)]
    frame = gpd.GeoDataFrame(geometry=[Polygon(ring), box(177.3, -17.9, 177.5, -17.7)], crs="EPSG:4326").to_crs(crs)
    lon, lat = representative_lonlat(frame)
    assert abs(abs(lon[0]) - 180.0) <= 0.21 and lat[0] == pytest.approx(-16.8, abs=0.01), (lon, lat)
    assert lon[1] == pytest.approx(177.4, abs=0.01) and lat[1] == pytest.approx(-17.8, abs=0.01)


@pytest.mark.parametrize("ring", [
    # flat in lon/lat both cross themselves; drawn across ±180° both are valid
    [(173.48, 6.9), (176.01, 2.61), (164.62, -4.34), (-178.69, -4.88), (-177.84, -11.72), (-168.24, -9.53)],
    [(-175, -10), (170, -12), (165, -11), (-174, -26), (-175, -24)],
])
def test_a_polygon_valid_across_the_antimeridian_is_not_repaired_flat(caplog, ring):
    """make_valid ran on the flat lon/lat ring before it was read across ±180°: the repair cut it into
    pieces, its demand point fell 2,400 km outside it (a distance of 4,354 km for 764) or the GIS layer's
    split crashed ("TopologyException: side location conflict")."""
    from planner.inputs.geo import polygons_split_at_antimeridian
    from planner.inputs.validate import check_geometries

    drawn = Polygon(ring)
    across = shapely.transform(drawn, lambda xy: np.column_stack([xy[:, 0] % 360, xy[:, 1]]))
    assert not drawn.is_valid and across.is_valid
    frame = gpd.GeoDataFrame({"id": ["x"]}, geometry=[drawn], crs="EPSG:4326")
    with caplog.at_level(logging.WARNING):
        checked = check_geometries(frame, Path("f.geojson"), True)
    assert "repaired" not in caplog.text
    lon, lat = representative_lonlat(checked)
    assert across.contains(Point(lon[0] % 360, lat[0]))
    split = polygons_split_at_antimeridian(np.asarray(checked.geometry.array, dtype=object))
    assert split[0].area == pytest.approx(across.area)


def test_a_polygon_invalid_also_across_the_antimeridian_is_repaired_there():
    """A bow-tie drawn across ±180°: repaired as it is read (across), its demand point on one of its wings."""
    from planner.inputs.validate import check_geometries

    bowtie = Polygon([(178, -10), (-178, -14), (-178, -10), (178, -14)])
    checked = check_geometries(gpd.GeoDataFrame({"id": ["x"]}, geometry=[bowtie], crs="EPSG:4326"),
                               Path("f.geojson"), True)
    lon, lat = representative_lonlat(checked)
    wings = shapely.make_valid(shapely.transform(bowtie, lambda xy: np.column_stack([xy[:, 0] % 360, xy[:, 1]])))
    assert wings.buffer(1e-9).contains(Point(lon[0] % 360, lat[0])) and -14 < lat[0] < -10


def test_ids_that_read_like_missing_values_are_ids(tmp_path):
    """Nan is a Thai province: the text "Nan" (and "NA", "None", "null") is an id, only an empty cell is not."""
    thai = [("Nan", 100.78, 18.78, 480), ("NA", 100.5, 13.75, 900), ("None", 99.0, 18.8, 300), ("null", 98.9, 8.4, 200)]
    model = model_file(tmp_path, regions_csv(tmp_path / "thai.csv", thai))
    sites = sites_csv(tmp_path / "sites.csv", ["Nan,100.78,18.78", "NA,100.5,13.75"])
    _, inputs = load(model, sites_path=sites)
    assert list(inputs.regions["region_id"]) == ["Nan", "NA", "None", "null"]
    assert list(inputs.sites["site_id"]) == ["Nan", "NA"]
    with pytest.raises(InputError, match="column 'id' is empty in rows 2"):
        load(model_file(tmp_path, regions_csv(tmp_path / "blank.csv", [thai[0], ("", 100.5, 13.75, 900)])))


@pytest.mark.parametrize("wkt", ["POINT (inf 0)", "POLYGON ((0 0, 1 0, nan 1, 0 0))"])
def test_coordinates_that_are_not_finite_are_an_error_naming_the_row(tmp_path, wkt):
    path = tmp_path / "bad.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        geometry = shapely.from_wkt(wkt)
    gpd.GeoDataFrame({"id": ["a", "b"], "pop": [1.0, 2.0]}, geometry=[Point(1.0, 1.0), geometry],
                     crs="EPSG:4326").to_file(path)
    result = CliRunner().invoke(main, ["init", str(path), "--out", str(tmp_path / "m.toml")])
    assert result.exit_code == 2, result.output
    assert "rows 2 have coordinates that are not finite numbers" in result.output
    assert "internal error" not in result.output and not (tmp_path / "m.toml").exists()


def test_a_table_with_wkt_geometry_is_read_as_a_vector_file(tmp_path):
    """QGIS's CSV export ("AS_WKT") and PostGIS's ST_AsText write the geometry as WKT text."""
    rows = ['id,pop,WKT', '"001",100,"POLYGON ((-2 -3, -2 -2, -3 -2, -3 -3, -2 -3))"', '"002",50,POINT (1.5 0.5)',
            '"003",70,"MULTIPOLYGON (((10 10, 11 10, 11 11, 10 10)), ((20 20, 21 20, 21 21, 20 20)))"']
    (tmp_path / "wkt.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    model = model_file(tmp_path, tmp_path / "wkt.csv")
    _, inputs = load(model)
    assert list(inputs.regions["region_id"]) == ["001", "002", "003"]
    assert list(inputs.regions.geometry.geom_type) == ["Polygon", "Point", "MultiPolygon"]
    sites = sites_csv(tmp_path / "sites.csv", ['a,"POINT (1.5 0.5)"', 'b,"POINT (-2.5 -2.5)"'], header="site_id,wkt")
    _, inputs = load(model, sites_path=sites)
    assert list(inputs.sites["site_id"]) == ["a", "b"]
    result = CliRunner().invoke(main, ["init", str(tmp_path / "wkt.csv"), "--out", str(tmp_path / "init.toml")])
    assert result.exit_code == 0, result.output
    assert "lon_column" not in (tmp_path / "init.toml").read_text(encoding="utf-8")
    (tmp_path / "bad.csv").write_text("id,pop,geometry\na,1,POINT (1 1)\nb,2,POINT (1 1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"column 'geometry' is not WKT geometry in rows 2; values \['POINT \(1 1'\]"):
        load(model_file(tmp_path, tmp_path / "bad.csv"))
    (tmp_path / "far.csv").write_text("id,pop,wkt\na,1,POINT (10 1)\nb,1,POINT (400 1)\n", encoding="utf-8")
    with pytest.raises(InputError, match="column 'wkt' has coordinates outside ±180° longitude / ±90° latitude in "
                                         "rows 2;"):
        load(model_file(tmp_path, tmp_path / "far.csv"))


@pytest.mark.parametrize(("sites_rows", "message"), [
    (['a,"POINT (nan nan)"', 'b,"POINT (inf 5)"'], "has coordinates that are not finite numbers .* in rows 1, 2"),
    (['a,"POINT (1.5 0.5)"', 'b,"POLYGON ((0 0, 1 0, 1 1, 0 0))"'], "is not a POINT in rows 2"),
])
def test_wkt_sites_must_be_finite_points(tmp_path, sites_rows, message):
    rows = ['id,pop,wkt', 'a,100,"POINT (1.5 0.5)"', 'b,50,', 'c,70,"POINT (2 2)"']  # b: a blank cell
    (tmp_path / "wkt.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    model = model_file(tmp_path, tmp_path / "wkt.csv")
    with pytest.raises(InputError, match="rows 2 have no geometry"):
        load(model)
    (tmp_path / "wkt.csv").write_text("\n".join(rows[:2] + rows[3:]) + "\n", encoding="utf-8")
    sites = sites_csv(tmp_path / "sites.csv", sites_rows, header="site_id,wkt")
    with pytest.raises(InputError, match=message):
        load(model, sites_path=sites)


def test_longitudes_written_in_0_to_360_come_back_in_plus_minus_180():
    frame = gpd.GeoDataFrame(geometry=[Point(180.03, -16.8), Point(178.44, -18.14), Point(359.5, 51.5)],
                             crs="EPSG:4326")
    lon, _ = representative_lonlat(frame)
    assert lon == pytest.approx([-179.97, 178.44, -0.5])


@pytest.mark.parametrize(("lon", "refused"), [(200.0, True), (185.0, False), (-175.0, False)])
def test_a_longitude_far_past_180_among_negative_ones_is_refused(tmp_path, lon, refused):
    """Marseille at 200° among rows at −5°…−3°: neither ±180° nor 0–360° data (it had become a region in
    the North Pacific at −160°); a point just past 180° beside negative ones is data shifted across the
    antimeridian, and stays."""
    rows = [("Brest", -4.49, 48.39, 140_000), ("Nantes", -1.55, 47.22, 300_000), ("Marseille", lon, 43.3, 870_000)]
    model = model_file(tmp_path, regions_csv(tmp_path / "fr.csv", rows))
    if refused:
        with pytest.raises(InputError, match=r"rows 3 have longitudes above 180° while others are negative"):
            load(model)
    else:
        load(model)


# --- defect 13: degrees given a projected CRS -----------------------------------------------------------


def test_degrees_with_a_projected_crs_are_a_warning_naming_the_option(tmp_path, caplog):
    model = model_file(tmp_path, regions_csv(tmp_path / "au.csv"))
    with caplog.at_level(logging.WARNING):
        load(model, crs="EPSG:3857")
    assert any("--crs EPSG:3857" in r.getMessage() and "EPSG:4326" in r.getMessage() for r in caplog.records)
    caplog.clear()
    metres = [(name, lon * 1000, lat * 1000, pop) for name, lon, lat, pop in AU]  # 38 km across: genuine metres
    with caplog.at_level(logging.WARNING):
        load(model_file(tmp_path, regions_csv(tmp_path / "m.csv", metres)), crs="EPSG:3857")
    assert not any("look like lon/lat" in r.getMessage() for r in caplog.records)


# --- defect 12: messages quote the user's text and give the right fix ---------------------------------


def test_swapped_coordinate_columns_are_named(tmp_path):
    model = model_file(tmp_path, regions_csv(tmp_path / "au.csv", header="id,lat,lon,pop"))
    with pytest.raises(InputError, match="look swapped.*--lon-column lat --lat-column lon"):
        load(model)


@pytest.mark.parametrize("n_towns", [5, 20])
def test_one_latitude_out_of_range_names_its_row_not_swapped_columns(tmp_path, n_towns):
    """European towns, one with latitude 91 (a typo): the message said the columns look swapped and to
    pass --lon-column lat --lat-column lon, which would break every other row."""
    rows = [(f"T{i}", -10.0 + 1.5 * i, 40.0 + 0.5 * i, 100) for i in range(n_towns)]
    rows[2] = ("T2", -7.0, 91.0, 100)
    model = model_file(tmp_path, regions_csv(tmp_path / "eu.csv", rows))
    with pytest.raises(InputError, match=r"rows 3 have coordinates outside .* in column 'lat' \(e.g. 91\)") as raised:
        load(model)
    assert "swapped" not in str(raised.value)


def test_text_in_the_demand_column_is_quoted(tmp_path):
    rows = [AU[0], ("MEL", 144.96, -37.81, "n/a"), *AU[2:]]
    model = model_file(tmp_path, regions_csv(tmp_path / "au.csv"))
    with pytest.raises(InputError, match=r"column 'pop' is not a number in rows 2 \(values \['n/a'\]\)"):
        load(model, regions_path=regions_csv(tmp_path / "na.csv", rows))


def test_decimal_commas_are_named(tmp_path):
    rows = [(name, str(lon).replace(".", ","), str(lat).replace(".", ","), pop) for name, lon, lat, pop in AU]
    model = model_file(tmp_path, regions_csv(tmp_path / "au.csv"))
    semicolon = regions_csv(tmp_path / "semi.csv", rows, header="id;lon;lat;pop", sep=";")
    with pytest.raises(InputError, match="'lon' is not a number.*use '.' as the decimal mark"):
        load(model, regions_path=semicolon)


def test_cost_multiplier_asks_for_a_number_above_zero(tmp_path):
    model = model_file(tmp_path, regions_csv(tmp_path / "au.csv"))
    sites = sites_csv(tmp_path / "sites.csv", ['S1,151.2,-33.9,"1,5"', "S2,115.9,-31.9,1"],
                      header="site_id,lon,lat,cost_multiplier")
    with pytest.raises(InputError, match=r"'cost_multiplier' is not a number.*give a number > 0.*decimal mark"):
        load(model, sites_path=sites)


def test_a_missing_demand_point_longitude_asks_for_a_longitude(tmp_path):
    frame = gpd.GeoDataFrame({"id": ["a", "b"], "pop": [1.0, 2.0], "plon": [-70.6, np.nan], "plat": [-33.4, -33.5]},
                             geometry=[box(-71, -34, -70, -33), box(-71, -34, -70, -33)], crs="EPSG:4326")
    frame.to_file(tmp_path / "r.gpkg")
    model = model_file(tmp_path, tmp_path / "r.gpkg",
                       'id_column = "id"\ndemand_column = "pop"\ndemand_point_columns = ["plon", "plat"]')
    with pytest.raises(InputError, match=r"'plon' is not a finite number in rows 2.*longitude in \[−180, 180\]"):
        load(model)


def test_a_demand_with_thousands_separators_says_so(tmp_path):
    import pandas as pd

    from planner.errors import InputError
    from planner.inputs.validate import check_demand_column

    frame = pd.DataFrame({"pop": ["1,129,410", "250,000", "12"]})
    with pytest.raises(InputError, match=r"column 'pop' is not a number .*thousands separators are not read"):
        check_demand_column(frame, "pop", tmp_path / "towns.csv")
    ambiguous = pd.DataFrame({"pop": ["12,000", "250,000"]})  # decimal comma or thousands separator
    with pytest.raises(InputError, match=r"is not a number .*commas are not read, neither as decimal marks nor as "
                                         r"thousands separators: write 12.5 for 12,5 and 12000 for 12,000"):
        check_demand_column(ambiguous, "pop", tmp_path / "towns.csv")


def test_a_demand_column_of_dates_says_so(tmp_path):
    """A spreadsheet column of dates is read as nanoseconds since 1970 by a number check: it is named
    as dates, not as a demand too large for the solver."""
    import pandas as pd

    from planner.inputs.validate import check_demand_column

    frame = pd.DataFrame({"pop": pd.to_datetime(["2020-01-01", "2020-01-02"])})
    with pytest.raises(InputError, match=r"column 'pop' holds dates or times, not numbers in rows 1, 2"):
        check_demand_column(frame, "pop", tmp_path / "towns.xlsx")


def test_ids_in_either_unicode_form_are_one_id(tmp_path):
    import unicodedata

    import pandas as pd

    from planner.inputs.io import read_od_matrix
    from planner.inputs.validate import check_ids

    composed, decomposed = "Zürich", unicodedata.normalize("NFD", "Zürich")
    assert composed != decomposed
    ids = check_ids(pd.DataFrame({"id": [decomposed, "Bern"]}), "id", tmp_path / "regions.csv", "region")
    assert ids.tolist() == [composed, "Bern"]
    od = tmp_path / "od.csv"
    od.write_text(f"from,to,distance_km\nS1,{decomposed},12.5\n", encoding="utf-8")
    assert read_od_matrix(od)["to"].tolist() == [composed]


def test_a_demand_too_small_for_its_costs_is_one_line(tmp_path):
    """c/d overflowed to ∞ for a demand of 1e-320 and the arcs were dropped: "infeasible" for a
    feasible instance; now the file's customer is named."""
    from planner.formats.orlib_cap import read_orlib_cap

    path = tmp_path / "tiny.txt"
    path.write_text("2 2\n10 5\n10 5\n1e-320\n3 4\n1\n2 1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"customer 1 has demand [0-9.e+-]+, too small for its costs") as raised:
        read_orlib_cap(path)
    assert str(raised.value).startswith(f"{path}: ")  # the file, not only the instance's name


@pytest.mark.parametrize(("column", "meant"), [("facility_type", "facility_types"), ("Forced", "forced"),
                                               ("Cost Multiplier", "cost_multiplier")])
def test_a_near_miss_site_column_is_refused_not_ignored(tmp_path, column, meant):
    """``facility_type`` or ``Forced`` would be ignored: every site would take every type, none forced."""
    model = model_file(tmp_path, regions_csv(tmp_path / "au.csv"))
    sites = sites_csv(tmp_path / "sites.csv", ["S1,151.2,-33.9,plant", "S2,115.9,-31.9,plant"],
                      header=f"site_id,lon,lat,{column}")
    with pytest.raises(InputError, match=rf"sites.csv: column '{column}' is not read; name it '{meant}'"):
        load(model, sites_path=sites)


def test_an_excel_table_of_points_is_read_as_a_csv_is(tmp_path):
    """An .xlsx was refused ("has no geometry column; give a vector file"); its first sheet is a table."""
    import pandas as pd

    csv = regions_csv(tmp_path / "au.csv")
    (tmp_path / "x").mkdir()
    pd.read_csv(csv).to_excel(tmp_path / "x" / "au.xlsx", index=False)
    _, from_csv = load(model_file(tmp_path, csv))
    _, from_excel = load(model_file(tmp_path / "x", tmp_path / "x" / "au.xlsx"))
    assert from_excel.regions["region_id"].tolist() == from_csv.regions["region_id"].tolist()
    assert from_excel.demand.tolist() == from_csv.demand.tolist()


def test_a_workbook_whose_first_sheet_is_notes_says_which_sheet_was_read(tmp_path):
    """The line had ended at "is read", with no word of what to do about the sheet the data is on."""
    import pandas as pd

    with pd.ExcelWriter(tmp_path / "two.xlsx") as writer:
        pd.DataFrame({"note": ["data on the next sheet"]}).to_excel(writer, sheet_name="README", index=False)
        pd.read_csv(regions_csv(tmp_path / "au.csv")).to_excel(writer, sheet_name="data", index=False)
    with pytest.raises(InputError, match=r"available: note; only the workbook's first sheet \('README' of 2\) is "
                                         r"read: choose the sheet with the data with --layer \(the \[regions\] key "
                                         r"layer; its sheets: 'README', 'data'\)$"):
        load(model_file(tmp_path, tmp_path / "two.xlsx"))


@pytest.mark.parametrize("suffix", [".xls", ".ods"])
def test_old_and_open_document_spreadsheets_are_refused_with_the_fix(tmp_path, suffix):
    (tmp_path / f"au{suffix}").write_bytes(b"\xd0\xcf\x11\xe0 not read")
    result = CliRunner().invoke(main, ["init", str(tmp_path / f"au{suffix}"), "--out", str(tmp_path / "m.toml")])
    assert result.exit_code == 2
    assert f"{suffix} spreadsheets are not read; save the sheet as .xlsx or CSV" in result.output


def test_multipoint_regions_are_warned_about_their_one_demand_point(tmp_path, caplog):
    """Regions of two points each: the demand sits at one of them, which went without a word (lines get one)."""
    from shapely.geometry import MultiPoint

    frame = gpd.GeoDataFrame({"id": ["a", "b", "c"], "pop": [10.0, 20.0, 30.0]},
                             geometry=[MultiPoint([(151.2, -33.9), (151.7, -33.9)]), Point(144.96, -37.81),
                                       MultiPoint([(153.0, -27.5), (153.5, -27.5)])], crs="EPSG:4326")
    frame.to_file(tmp_path / "r.gpkg", driver="GPKG")
    with caplog.at_level(logging.WARNING, logger="planner"):
        load(model_file(tmp_path, tmp_path / "r.gpkg"))
    [line] = [r.getMessage() for r in caplog.records if "MultiPoint" in r.getMessage()]
    assert "2 regions are several points each" in line and "rows 1, 3" in line


def test_a_shapefile_without_its_dbf_says_so(tmp_path):
    """Read without its .dbf, a Shapefile has no columns: "which column is the demand? (numeric columns:
    none)" before."""
    frame = gpd.GeoDataFrame({"id": ["a"], "pop": [1.0]}, geometry=[Point(151.2, -33.9)], crs="EPSG:4326")
    frame.to_file(tmp_path / "r.shp")
    (tmp_path / "r.dbf").unlink()
    result = CliRunner().invoke(main, ["solve", str(tmp_path / "r.shp"), "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 2 and "the Shapefile has no r.dbf beside it" in result.output


def test_an_unreadable_regions_or_scenario_file_says_so(tmp_path, monkeypatch):
    """A regions file named by the model's regions.path, and a scenario file, that this user may not read
    had been told to be 'a CSV, Excel or Parquet file' (the tests run as root: the denial is simulated)."""
    import os

    import pandas as pd

    from planner.inputs.scenarios import check_scenario_file

    csv_path = tmp_path / "r.csv"
    csv_path.write_text("id,lon,lat,pop\na,151.2,-33.9,5\n", encoding="utf-8")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if str(path).endswith(".csv")
                        else real_access(path, mode, **kw))
    with pytest.raises(InputError, match=r"the regions file is not readable \(permission denied\); give this user "
                                         r"read access or pass another file to regions.path in m.toml"):
        load(model_file(tmp_path, csv_path))

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pd, "read_csv", denied)
    with pytest.raises(InputError, match=r"the scenario file is not readable \(permission denied\)"):
        check_scenario_file(tmp_path / "s.csv")


def test_a_model_file_and_a_data_file_given_in_each_others_place_are_named(tmp_path):
    """A model file as the regions had been GDAL's 'not recognized as being in a supported file format.;',
    a regions CSV as a model 'not valid TOML'; neither said which file goes where."""
    from planner.inputs.config import read_model_config
    from planner.inputs.io import read_regions

    model = tmp_path / "m.toml"
    model.write_text('name = "x"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"m.toml: is a model file \(TOML\), not regions data; pass it with --model"):
        read_regions(model)
    data = tmp_path / "towns.csv"
    data.write_text("name,lon,lat,pop\nA,1,2,3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"towns.csv: is a data file, not a model file \(TOML\); give regions with "
                                         r"--regions \(compare\)"):
        read_model_config(data)
    data.rename(tmp_path / "towns.xlsx")  # pandas' 'you must specify an engine manually' had been the reason
    with pytest.raises(InputError, match=r"towns.xlsx: is not an Excel workbook, whatever its name says"):
        read_regions(tmp_path / "towns.xlsx")


def test_a_forced_site_of_several_types_names_the_sites_file(tmp_path):
    from planner.inputs.prepare import facility_options
    from tests.builders import equator_regions, tiny_config

    production = {"standard": {"cost_per_unit": 1.0}}
    config = tiny_config(equator_regions(tmp_path / "r.geojson", [0.0, 1.0], [10, 10]), facility_types={
        "central": {"opening_cost_per_yr": 100.0, "products": production},
        "micro": {"opening_cost_per_yr": 50.0, "products": production}})
    sites = pd.DataFrame({"site_id": ["town0"], "types": [["central", "micro"]], "forced": [True]})
    with pytest.raises(InputError, match=r"sites.csv: site 'town0' is forced/existing and allows several facility "
                                         r"types; give it exactly one facility type"):
        facility_options(config, sites, tmp_path / "sites.csv")


@pytest.mark.parametrize("text, message", [
    ('name="abc', "a quote is not closed"),
    ('name="town1"x', "a quote stands inside a value"),
    ("name=town1\nx", "a value holds a line break; give values on one line"),
])
def test_select_says_what_is_wrong_with_its_quotes(text, message):
    """A line break and a quote inside a value had both been 'a quote is not closed'."""
    from planner.inputs.prepare import parse_select

    with pytest.raises(InputError, match=message):
        parse_select([text])


def test_points_in_an_old_datum_crs_whose_round_trip_takes_another_datum_shift_are_read(tmp_path):
    """Towns inside the areas of ESRI:102014 (Europe LCC on ED50) and EPSG:5514 (S-JTSK) come back
    3-14 m off from lon/lat, as pyproj takes another datum shift back than forth: they had been refused as
    outside what the CRS can hold."""
    from pyproj import Transformer

    towns = {"ESRI:102014": [("SEV", -5.98, 37.39), ("BUC", 26.10, 44.43), ("BER", 13.40, 52.52)],
             "EPSG:5514": [("PAS", 13.46, 48.57), ("BRN", 16.61, 49.20), ("PRA", 14.42, 50.08)]}
    for crs, places in towns.items():
        to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        rows = [(code, *to_crs.transform(lon, lat), 10) for code, lon, lat in places]
        name = crs.replace(":", "_")
        model = model_file(tmp_path, regions_csv(tmp_path / f"{name}.csv", rows, "id,x,y,pop"),
                           f'id_column = "id"\ndemand_column = "pop"\ncrs = "{crs}"')
        _, inputs = load(model)
        assert list(inputs.regions["region_id"]) == [code for code, _, _ in places]
    # a shapefile's .prj gives a CRS without an area of use: that of the authority's CRS it matches counts
    frame = gpd.GeoDataFrame({"id": ["SEV", "BUC"], "pop": [10, 20]},
                             geometry=gpd.points_from_xy([-5.98, 26.10], [37.39, 44.43]), crs="EPSG:4326")
    frame.to_crs("ESRI:102014").to_file(tmp_path / "towns.shp")
    _, inputs = load(model_file(tmp_path, tmp_path / "towns.shp"))
    assert list(inputs.regions["region_id"]) == ["SEV", "BUC"]


def test_a_utm_point_far_outside_its_zone_is_still_refused(tmp_path):
    """The round trip's 1 km allowance holds only near the CRS's area of use: a point 78° from EPSG:32633's
    central meridian comes back 15-500 m off and had been accepted with it."""
    rows = [("far", -14_400_000.0, 0.0, 10), ("near", 500_000.0, 5_000_000.0, 20)]
    model = model_file(tmp_path, regions_csv(tmp_path / "utm.csv", rows, "id,x,y,pop"),
                       'id_column = "id"\ndemand_column = "pop"\ncrs = "EPSG:32633"')
    with pytest.raises(InputError, match=r"utm.csv: rows 1 have coordinates outside what EPSG:32633 can hold"):
        load(model)


def test_a_table_with_lon_lat_and_x_y_and_a_projected_crs_takes_x_y(tmp_path):
    """Degrees in lon/lat and EPSG:3035 metres in x/y, --crs EPSG:3035: the lon/lat pair had been read as
    metres (every town within 35 m of the others, a plan made on it); the x/y pair is meant. Without a CRS
    the lon/lat pair is read, as before."""
    from pyproj import Transformer

    places = [("PAR", 2.35, 48.86), ("MAD", -3.70, 40.42), ("BER", 13.40, 52.52)]
    to_laea = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
    rows = [(code, lon, lat, *to_laea.transform(lon, lat), 10) for code, lon, lat in places]
    table = regions_csv(tmp_path / "both.csv", rows, "id,lon,lat,x,y,pop")
    for crs in ("EPSG:3035", None):
        keys = 'id_column = "id"\ndemand_column = "pop"' + (f'\ncrs = "{crs}"' if crs else "")
        _, inputs = load(model_file(tmp_path, table, keys))
        points = inputs.regions.geometry.to_crs("EPSG:4326")
        assert np.allclose(points.x, [lon for _, lon, _ in places], atol=1e-6)
        assert np.allclose(points.y, [lat for _, _, lat in places], atol=1e-6)


def _boxes_with_points(points):
    """Ten 1° boxes 1.5° apart along the equator, and the demand points given per row."""
    boxes = [box(1.5 * i, 0, 1.5 * i + 1, 1) for i in range(10)]
    frame = gpd.GeoDataFrame({"id": [f"r{i}" for i in range(10)]}, geometry=boxes, crs="EPSG:4326")
    lon, lat = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    return frame, lon, lat


def test_demand_points_outside_a_few_regions_are_a_warning_naming_the_rows(caplog):
    """Four rows carrying the points of others, 600–1,000 km away, had passed without a word (only over half
    of the rows outside was refused)."""
    from planner.inputs.validate import check_demand_points

    points = [(1.5 * i + 0.5, 0.5) for i in range(10)]
    points[:4] = points[9:5:-1]
    frame, lon, lat = _boxes_with_points(points)
    with caplog.at_level(logging.WARNING):
        check_demand_points(frame, Path("r.gpkg"), lon, lat, ("cx", "cy"))
    assert "the points in cx/cy of rows 1, 2, 3, 4 lie more than 0.5° outside their regions" in caplog.text


def test_demand_points_written_0_to_360_are_inside_regions_drawn_in_180(caplog):
    from planner.inputs.validate import check_demand_points

    """Had been refused as "outside their regions ... swapped?"."""
    lau = [box(-179.5, -17, -178.5, -16), box(-179.9, -18, -179.1, -17)]
    frame = gpd.GeoDataFrame({"id": ["a", "b"]}, geometry=lau, crs="EPSG:4326")
    with caplog.at_level(logging.WARNING):
        check_demand_points(frame, Path("lau.gpkg"), np.array([181.0, 180.5]), np.array([-16.5, -17.5]), ("cx", "cy"))
    assert "outside" not in caplog.text


@pytest.mark.parametrize("columns, taken, other", [
    ({"demand_units": [10, 20], "population": [1000, 2000]}, "demand_uni", "population"),
    ({"population_2020": [10, 20], "population_2021": [11, 21]}, "population", "populati_1"),
])
def test_a_shapefiles_cut_column_names_are_read_as_their_whole_names(tmp_path, caplog, columns, taken, other):
    """A Shapefile cuts column names to 10 characters: 'demand_uni' was not read as demand_units, so the
    demand was the population, 100× (a GeoPackage of the same data read demand_units); and of two years'
    columns the first was taken without a word."""
    import warnings as python_warnings

    frame = gpd.GeoDataFrame({"id": ["a", "b"], **columns}, geometry=[Point(10, 50), Point(11, 50)], crs="EPSG:4326")
    with python_warnings.catch_warnings():
        python_warnings.simplefilter("ignore")  # GDAL's own note on the cut names
        frame.to_file(tmp_path / "r.shp")
    model = model_file(tmp_path, tmp_path / "r.shp", 'id_column = "id"')
    with caplog.at_level(logging.WARNING):
        _, inputs = load(model)
    assert inputs.region_columns["demand"] == taken
    assert f"taking '{taken}' as the demand; '{other}' is also named like a demand column" in caplog.text


def test_geometries_with_m_values_are_read_flat_and_written(tmp_path):
    """POLYGON M (a measure per vertex) solved, then its write failed: "internal error: GeometryError: Could
    not create geometry at index 0 for WKB type 1073741827"."""
    rows = ['a,1000,"POLYGON M ((7 48 5, 8 48 5, 8 49 5, 7 49 5, 7 48 5))"',
            'b,1100,"POLYGON ZM ((8.5 48 1 5, 9.5 48 1 5, 9.5 49 1 5, 8.5 49 1 5, 8.5 48 1 5))"']
    (tmp_path / "m.csv").write_text("id,pop,wkt\n" + "\n".join(rows) + "\n", encoding="utf-8")
    model = model_file(tmp_path, tmp_path / "m.csv")
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(tmp_path / "out"), "--quiet",
                                       "--threads", "1"])
    assert result.exit_code == 0, result.output
    written = gpd.read_file(tmp_path / "out" / "network.gpkg", layer="regions")
    assert not shapely.has_m(np.asarray(written.geometry.array, dtype=object)).any()


def test_a_polygon_repaired_stays_a_polygon_without_the_collapsed_spike():
    """A ring with a spike (out and back along one line) was repaired into a GeometryCollection of the
    polygon and a line, which the static map left out: the region, the largest, was missing from map.png."""
    from planner.inputs.validate import check_geometries

    spiked = Polygon([(0, 0), (1, 0), (1, 0.5), (3, 0.5), (1, 0.5), (1, 1), (0, 1)])
    assert not spiked.is_valid
    checked = check_geometries(gpd.GeoDataFrame({"id": ["x"]}, geometry=[spiked], crs="EPSG:4326"),
                               Path("f.gpkg"), True)
    assert checked.geometry.iloc[0].geom_type == "Polygon" and checked.geometry.iloc[0].area == pytest.approx(1.0)


NC_TOWNS = [("RAL", -78.64, 35.78), ("CLT", -80.84, 35.23), ("ASH", -82.55, 35.60), ("WIL", -77.95, 34.23)]


def _area_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "outside the area of use" in r.getMessage()]


def test_points_in_a_plausible_but_wrong_crs_are_a_warning_naming_the_file_the_crs_and_the_fix(tmp_path, caplog):
    """UTM metres of North Carolina towns read with --crs EPSG:2264 (NC State Plane, US feet) came back from the
    round trip and were read silently, 800 km north; the right CRS and a world CRS warn of nothing."""
    from pyproj import Transformer

    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32617", always_xy=True)
    table = regions_csv(tmp_path / "nc_utm.csv", [(code, *to_utm.transform(lon, lat), 10)
                                                  for code, lon, lat in NC_TOWNS], "id,x,y,pop")
    keys = 'id_column = "id"\ndemand_column = "pop"\ncrs = '
    with caplog.at_level(logging.WARNING):
        load(model_file(tmp_path, table, keys + '"EPSG:2264"'))
    [warned] = _area_warnings(caplog)
    assert warned.startswith(f"{table}: 4 of 4 points lie more than 5° outside the area of use of EPSG:2264 (NAD83 / "
                             "North Carolina (ftUS): longitude -84.33 to -75.38, latitude 33.83 to 36.59), e.g. at ")
    assert warned.endswith("give the CRS they are in with --crs (the [regions] key crs)")
    gpkg = tmp_path / "nc.gpkg"
    utm = pd.read_csv(table)
    gpd.GeoDataFrame(utm[["id", "pop"]], geometry=gpd.points_from_xy(utm["x"], utm["y"]), crs="EPSG:2264").to_file(gpkg)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        load(model_file(tmp_path, gpkg))
    [warned] = _area_warnings(caplog)
    assert warned.startswith(f"{gpkg}: 4 of 4 points")
    assert warned.endswith("set the CRS they are in in the file (or give it with --crs where the file has none)")
    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    mercator = regions_csv(tmp_path / "nc_3857.csv", [(code, *to_mercator.transform(lon, lat), 10)
                                                      for code, lon, lat in NC_TOWNS], "id,x,y,pop")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        load(model_file(tmp_path, table, keys + '"EPSG:32617"'))
        load(model_file(tmp_path, mercator, keys + '"EPSG:3857"'))
    assert _area_warnings(caplog) == []


def test_the_area_of_use_check_reads_areas_across_the_antimeridian_and_crss_without_one(tmp_path, caplog):
    """Places on the Chatham Islands (-176.5°, 4.9° east of the antimeridian) in NZTM (EPSG:2193, whose area ends
    at 178.6°) and points in a CRS without an area of use (a PROJ string) warn of nothing; NZTM metres read
    in a UTM zone of Europe do."""
    from pyproj import Transformer

    places = [("AKL", 174.76, -36.85), ("WAI", -176.56, -43.95), ("OWE", -176.37, -44.02), ("PIT", -176.22, -44.27)]
    to_nztm = Transformer.from_crs("EPSG:4326", "EPSG:2193", always_xy=True)
    table = regions_csv(tmp_path / "nz.csv", [(code, *to_nztm.transform(lon, lat), 10) for code, lon, lat in places],
                        "id,x,y,pop")
    keys = 'id_column = "id"\ndemand_column = "pop"\ncrs = '
    nztm = "+proj=tmerc +lat_0=0 +lon_0=173 +k=0.9996 +x_0=1600000 +y_0=10000000 +ellps=GRS80 +units=m +no_defs"
    with caplog.at_level(logging.WARNING):
        for crs in ("EPSG:2193", nztm):
            _, inputs = load(model_file(tmp_path, table, keys + f'"{crs}"'))
            assert list(inputs.regions["region_id"]) == [code for code, _, _ in places]
    assert _area_warnings(caplog) == []
    with caplog.at_level(logging.WARNING):
        load(model_file(tmp_path, table, keys + '"EPSG:32633"'))
    assert len(_area_warnings(caplog)) == 1


def test_a_geopackage_with_a_style_table_beside_its_one_layer_reads_that_layer(tmp_path):
    """QGIS saves a layer's style in the GeoPackage as the table layer_styles, which has no geometry: the file had
    been refused as one "of 2 layers"; a file of two layers with geometry still needs --layer, naming only those."""
    import pyogrio

    path = tmp_path / "stores.gpkg"
    points = gpd.GeoDataFrame({"id": ["a", "b"], "pop": [100.0, 200.0]}, geometry=[Point(10, 50), Point(11, 51)],
                              crs="EPSG:4326")
    points.to_file(path, layer="stores")
    pyogrio.write_dataframe(pd.DataFrame({"styleName": ["stores"], "styleQML": ["<qgis/>"]}), path,
                            layer="layer_styles")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    points.to_file(path, layer="depots")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"error: {path}: has 2 layers (stores, depots); choose one with --layer"
    result = CliRunner().invoke(main, ["validate", str(path), "--layer", "layer_styles"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (f"error: {path}: layer 'layer_styles' is a table without geometry; "
                                              "choose a layer with geometry: stores, depots (--layer, or the [regions] "
                                              "key layer)")


@pytest.mark.parametrize(("lat", "lon"), [("48°08′N", "11°35′E"), ("48.14 N", "11.58 E")], ids=["dms", "hemisphere"])
def test_coordinates_written_with_degree_signs_or_hemispheres_say_how_to_write_them(tmp_path, lat, lon):
    """'11°35′E' had been refused as "not a number ...; give coordinates in every row", which every row had."""
    path = tmp_path / "towns.csv"
    path.write_text(f'id,lat,lon,pop\na,"{lat}","{lon}",100\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].endswith(
        "give coordinates in every row; degrees written with °, minutes or N/S/E/W are not read: write decimal "
        "degrees, negative for south and west (e.g. 11.5833 for 11°35′E, -8.6 for 8°36′W)"), result.stderr


@pytest.mark.parametrize("suffix", [".gpkg", ".parquet", ".xlsx"])
def test_a_binary_data_file_given_as_a_model_file_is_named_a_data_file(tmp_path, suffix):
    """`planner compare regions.gpkg` (the regions as solve takes them) had been told "not UTF-8 text ...; save the
    model file as UTF-8"; a CSV had been named a data file already."""
    from planner.inputs.config import read_model_config

    data = tmp_path / f"regions{suffix}"
    data.write_bytes(b"SQLite format 3\x00\xa0\xff\x10")
    with pytest.raises(InputError, match=rf"regions\{suffix}: is a data file, not a model file \(TOML\); give regions "
                                         r"with --regions \(compare\)"):
        read_model_config(data)


@pytest.mark.parametrize("crs", ["EPSG:4326", "OGC:CRS84"])
def test_the_crs_a_vector_file_has_given_again_is_read(tmp_path, crs):
    """--crs EPSG:4326 on a GeoJSON (in WGS 84 by definition) had been refused with "drop it"; it says what the
    file says. Another CRS than the file's is still refused."""
    path = tmp_path / "towns.geojson"
    gpd.GeoDataFrame({"id": ["a", "b"], "pop": [100.0, 200.0]}, geometry=[Point(10, 50), Point(11, 51)],
                     crs="EPSG:4326").to_file(path)
    result = CliRunner().invoke(main, ["validate", str(path), "--crs", crs])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["validate", str(path), "--crs", "EPSG:3035"])
    assert result.exit_code == 2 and "this file has its own CRS (WGS 84)" in result.stderr
