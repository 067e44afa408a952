"""Data files the planner had not been tried on: Shapefiles whose .dbf cut the column names, GeoParquet
given a layer, tables with a title above their header; each read as meant or refused in one line."""

import json
import logging
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from planner.errors import InputError
from planner.inputs.config import read_model_config
from planner.inputs.prepare import read_candidate_sites
from planner.inputs.suppliers import read_suppliers
from tests.test_reader_defects import model_file, regions_csv


def shapefile(folder, frame: gpd.GeoDataFrame):
    """``frame`` written as ``folder/points.shp``, its long column names cut to 10 characters by the .dbf."""
    folder.mkdir()
    path = folder / "points.shp"
    with warnings.catch_warnings():  # geopandas and GDAL say so as they write
        warnings.simplefilter("ignore")
        frame.to_file(path)
    return path


def test_shapefile_sites_read_the_columns_the_dbf_cut(tmp_path, caplog):
    """'facility_t' and 'cost_multi' are facility_types and cost_multiplier: they had been passed over, every
    site taking every type at cost multiplier 1."""
    config = read_model_config(model_file(tmp_path, regions_csv(tmp_path / "au.csv")))
    sites = gpd.GeoDataFrame({"site_id": ["S1", "S2"], "facility_types": ["plant", "plant"],
                              "cost_multiplier": [2.0, 3.0]}, geometry=[Point(151.2, -33.9), Point(138.6, -34.9)],
                             crs="EPSG:4326")
    path = shapefile(tmp_path / "shp", sites)
    with caplog.at_level(logging.WARNING):
        table = read_candidate_sites(path, config)
    assert list(table["cost_multiplier"]) == [2.0, 3.0]
    assert "'facility_t', 'cost_multi' are read as 'facility_types', 'cost_multiplier'" in caplog.text
    archive = tmp_path / "sites.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for part in path.parent.iterdir():
            zipped.write(part, part.name)
    assert list(read_candidate_sites(archive, config)["cost_multiplier"]) == [2.0, 3.0]


def test_shapefile_suppliers_read_the_columns_the_dbf_cut(tmp_path):
    """'supplier_i' had been "column 'supplier_id' not found", a name a Shapefile cannot hold."""
    suppliers = gpd.GeoDataFrame({"supplier_id": ["A", "B"], "material": ["steel", "steel"],
                                  "capacity_per_yr": [10.0, 20.0], "cost_per_unit": [1.0, 2.0]},
                                 geometry=[Point(10, 50), Point(11, 51)], crs="EPSG:4326")
    table = read_suppliers(shapefile(tmp_path / "shp", suppliers))
    assert list(table["supplier_id"]) == ["A", "B"]
    assert list(table["capacity_per_yr"]) == [10.0, 20.0]
    assert list(table["cost_per_unit"]) == [1.0, 2.0]


def test_a_cut_name_is_not_taken_beside_the_full_one(tmp_path):
    """A file holding both 'cost_multi' and 'cost_multiplier' keeps its own full column."""
    from planner.inputs.vector import with_dbf_names

    frame = gpd.GeoDataFrame({"cost_multi": [5.0], "cost_multiplier": [2.0]}, geometry=[Point(0, 0)])
    assert list(with_dbf_names(frame, tmp_path / "x.shp", ("cost_multiplier",)).columns[:2]) == \
        ["cost_multi", "cost_multiplier"]


def test_a_title_row_above_the_header_is_named(tmp_path):
    """'North Carolina counties,,,' above the header had been read as the column names, the error then listing
    'Unnamed: 1', 'Unnamed: 2' as the file's columns; a merged title row in a workbook likewise."""
    from openpyxl import Workbook

    from planner.inputs.io import read_regions

    path = tmp_path / "title.csv"
    path.write_text("North Carolina counties,,,\nid,lon,lat,pop\nA,-79.4,36.1,10\nB,-81.1,36.5,20\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"title\.csv: the first row holds only 'North Carolina counties' beside "
                                         r"blank cells, which is read as the header \(the header looks like row 2: id, "
                                         r"lon, lat, pop\); a title or group labels above the header\? remove the rows "
                                         r"above the header"):
        read_regions(path)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["North Carolina counties"])
    sheet.merge_cells("A1:D1")
    sheet.append(["Identity", None, "Location"])
    sheet.append(["id", "lon", "lat", "pop"])
    sheet.append(["A", -79.4, 36.1, 10])
    workbook.save(tmp_path / "title.xlsx")
    with pytest.raises(InputError, match=r"the header looks like row 3: id, lon, lat, pop"):
        read_regions(tmp_path / "title.xlsx")


def test_group_labels_above_the_header_are_named(tmp_path):
    """'Identity,,Location,' above 'id,name,lon,lat' (a workbook's merged group labels) had been read as the header."""
    from planner.inputs.io import read_regions

    path = tmp_path / "groups.csv"
    path.write_text("Identity,,Location,\nid,name,lon,lat\nA,a,-79.4,36.1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"groups\.csv: the first row holds only 'Identity', 'Location' beside blank "
                                         r"cells, .*\(the header looks like row 2: id, name, lon, lat\)"):
        read_regions(path)


def test_a_header_with_one_blank_name_is_still_read(tmp_path):
    """A table whose header leaves one of several columns unnamed is not taken for a title."""
    from planner.inputs.tables import read_table

    path = tmp_path / "blank.csv"
    path.write_text("id,,lon,lat\nA,x,-79.4,36.1\n", encoding="utf-8")
    assert list(read_table(path, "regions", "REGIONS")["id"]) == ["A"]


def geojson(path, features: list[tuple], ids: list | None) -> Path:
    """A FeatureCollection of points (lon, lat, pop), each feature with the id of ``ids`` beside its properties."""
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", **({"id": ids[n]} if ids else {}), "properties": {"pop": pop},
         "geometry": {"type": "Point", "coordinates": [lon, lat]}} for n, (lon, lat, pop) in enumerate(features)]}),
        encoding="utf-8")
    return path


def test_geojson_feature_ids_that_are_numbers_are_the_ids(tmp_path):
    """'"id": 37001' beside the properties is the region's id; GDAL keeps it as the feature id, not a column, and
    the regions had been numbered by row (1, 2) with a warning that no id was found."""
    from planner.inputs.io import read_regions

    points = [(-79.4, 36.1, 10), (-81.1, 36.5, 20)]
    frame = read_regions(geojson(tmp_path / "ids.geojson", points, [37001, 37003]))
    assert list(frame["id"]) == ["37001", "37003"]
    assert "id" not in read_regions(geojson(tmp_path / "none.geojson", points, None)).columns
    assert list(read_regions(geojson(tmp_path / "text.geojson", points, ["A", "B"]))["id"]) == ["A", "B"]


def test_a_layer_of_a_geoparquet_file_is_refused(tmp_path):
    """A layer named for a GeoParquet file (which has none) had been passed over silently, as if the file were the
    layer meant."""
    from planner.inputs.io import read_regions

    path = tmp_path / "regions.parquet"
    gpd.GeoDataFrame({"id": ["A"], "pop": [1]}, geometry=[Point(10, 50)], crs="EPSG:4326").to_parquet(path)
    assert list(read_regions(path)["id"]) == ["A"]
    with pytest.raises(InputError, match=r"regions\.parquet: a GeoParquet file has no layers, so layer 'counties' "
                                         r"cannot be chosen; drop --layer"):
        read_regions(path, layer="counties")


def test_a_model_file_written_on_windows_finds_its_regions(tmp_path):
    """``path = "data\\\\au.csv"`` (a model file from a Windows machine) names data/au.csv here; it had been
    "regions file not found"."""
    (tmp_path / "data").mkdir()
    regions = regions_csv(tmp_path / "data" / "au.csv")
    model = model_file(tmp_path, regions)
    text = model.read_text(encoding="utf-8").replace('path = "au.csv"', 'path = "data\\\\au.csv"')
    assert 'path = "data\\\\au.csv"' in text
    model.write_text(text, encoding="utf-8")
    assert read_model_config(model).regions.path == regions.resolve()


def test_a_polygon_of_no_area_is_named_with_why(tmp_path):
    """A polygon whose corners lie on one line cannot be repaired into a polygon; the error had only said
    "invalid geometries that cannot be repaired; fix them"."""
    from shapely.geometry import Polygon

    from planner.inputs.validate import check_geometries

    frame = gpd.GeoDataFrame({"id": ["A", "B"]}, geometry=[Point(0, 0).buffer(1),
                                                           Polygon([(0, 0), (1, 0), (2, 0), (0, 0)])], crs="EPSG:4326")
    with pytest.raises(InputError, match=r"rows 2 have invalid geometries that cannot be repaired \(row 2: a polygon "
                                         r"of no area, its corners on one line or at one point\); fix them"):
        check_geometries(frame, tmp_path / "flat.geojson", need_geometry=True)


def test_an_od_matrix_in_miles_is_named(tmp_path):
    """An OD matrix with 'distance_miles' had been refused as having no distance column, without naming its
    columns or the one meant."""
    from planner.inputs.io import read_od_matrix

    path = tmp_path / "od.csv"
    path.write_text("from,to,distance_miles,minutes\nA,B,10,20\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"od\.csv: the OD matrix needs a 'distance_km' or a 'cost' column; add one "
                                         r"\(its columns: from, to, distance_miles, minutes\); column 'distance_miles' "
                                         r"is not read: give the road distance in km as 'distance_km' \(miles × "):
        read_od_matrix(path)


def test_excel_formulas_without_saved_values_are_named(tmp_path):
    """A workbook a program wrote with formulas (no values saved with them) had been refused as 'missing (NaN)
    in rows 1, 2', while a spreadsheet shows numbers there; a formula with its value saved is read."""
    from openpyxl import Workbook

    from planner.inputs.io import read_regions

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["id", "lon", "lat", "base", "pop"])
    sheet.append(["A", -79.4, 36.1, 10, "=D2*100"])
    sheet.append(["B", -81.1, 36.5, 20, 2000])
    workbook.save(tmp_path / "formulas.xlsx")
    with pytest.raises(InputError, match=r"formulas\.xlsx: column 'pop' row 1 holds the formula '=D2\*100' and no "
                                         r"value saved with it .*open it in a spreadsheet and save it"):
        read_regions(tmp_path / "formulas.xlsx")
    sheet["E2"] = 1000
    workbook.save(tmp_path / "values.xlsx")
    assert list(read_regions(tmp_path / "values.xlsx")["pop"]) == [1000, 2000]


def test_text_not_in_the_files_encoding_says_which_and_the_fix(tmp_path):
    """A Shapefile whose .cpg says UTF-8 for a .dbf saved in Latin-1, or a GeoJSON in Latin-1, had been "cannot read
    as a vector file ('utf-8' codec can't decode ...); check the format and layer"."""
    from planner.inputs.io import read_regions

    frame = gpd.GeoDataFrame({"id": ["A"], "name": ["Bézier"], "pop": [1]}, geometry=[Point(10, 50)], crs="EPSG:4326")
    (tmp_path / "shp").mkdir()
    path = tmp_path / "shp" / "points.shp"
    frame.to_file(path, encoding="ISO-8859-1")
    path.with_suffix(".cpg").write_text("UTF-8", encoding="ascii")
    with pytest.raises(InputError, match=r"points\.shp: its text is not UTF-8, the code page its points\.cpg names "
                                         r"\(.*byte 0xe9\); write the code page the \.dbf was saved in into"):
        read_regions(path)
    path.with_suffix(".cpg").write_text("1252", encoding="ascii")
    assert list(read_regions(path)["name"]) == ["Bézier"]
    geojson = tmp_path / "latin1.geojson"
    geojson.write_bytes(frame.to_json(ensure_ascii=False).encode("latin-1"))
    with pytest.raises(InputError, match=r"latin1\.geojson: its text is not UTF-8 \(.*byte 0xe9\); save it as UTF-8"):
        read_regions(geojson)


def test_a_gzipped_table_says_to_decompress_it(tmp_path):
    """'regions.csv.gz' had been "cannot read as a vector file (... not recognized as being in a supported file
    format); check the format and layer"."""
    import gzip

    from planner.inputs.io import read_regions

    path = tmp_path / "regions.csv.gz"
    path.write_bytes(gzip.compress(b"id,lon,lat,pop\nA,10,50,1\n"))
    with pytest.raises(InputError, match=r"regions\.csv\.gz: is compressed \(\.gz\), which is read only as a \.zip; "
                                         r"decompress it and pass the file inside \(regions\.csv\)"):
        read_regions(path)


def test_spaces_around_a_vector_files_field_names_are_dropped(tmp_path):
    """A GeoPackage field 'pop2020 ' is 'pop2020', as a table's header is read; the error had said "column
    'pop2020' not found; available:  GEOID, pop2020 ", the names looking the same."""
    from planner.inputs.io import read_regions

    path = tmp_path / "spaces.gpkg"
    gpd.GeoDataFrame({" GEOID": ["A"], "pop2020 ": [1]}, geometry=[Point(10, 50)], crs="EPSG:4326").to_file(path)
    frame = read_regions(path)
    assert list(frame.columns) == ["GEOID", "pop2020", "geometry"]
    assert frame.geometry.name == "geometry" and frame.crs == "EPSG:4326"


@pytest.mark.parametrize(("written", "fix"), [
    ('"1,2"', r"write it with '\.' as the decimal mark and without quotes \(1\.2\)"),
    ('"190 USD"', r"write the number alone, without quotes or units"),
    ('"190"', r"remove the quotes"),
])
def test_a_quoted_number_in_a_model_file_gets_the_fix_that_works(tmp_path, written, fix):
    """'carbon_price = "1,2"' had been told to remove the quotes, which leaves 1,2: invalid TOML."""
    model = model_file(tmp_path, regions_csv(tmp_path / "au.csv"))
    model.write_text(model.read_text(encoding="utf-8").replace("carbon_price = 0.0", f"carbon_price = {written}"),
                     encoding="utf-8")
    with pytest.raises(InputError, match=rf"key 'carbon_price': must be a number, not a string: {fix}"):
        read_model_config(model)


def test_ewkt_and_hex_wkb_geometry_columns_are_read_in_their_srid(tmp_path):
    """'SRID=2264;POINT (...)' (PostGIS's ST_AsEWKT) and hex EWKB (a geometry column copied out as text) had been
    "no coordinate columns found ... looked for WKT geometry in a column named ... geom"."""
    import shapely

    from planner.inputs.io import read_regions

    feet = gpd.GeoSeries([Point(-79.4, 36.1), Point(-81.1, 36.5)], crs="EPSG:4326").to_crs("EPSG:2264")
    ewkt = tmp_path / "ewkt.csv"
    ewkt.write_text("id,pop,geom\n" + "".join(f"{n},1,SRID=2264;{point.wkt}\n" for n, point in enumerate(feet)),
                    encoding="utf-8")
    ewkb = tmp_path / "ewkb.csv"
    ewkb.write_text("id,pop,geom\n" + "".join(
        f"{n},1,{shapely.to_wkb(shapely.set_srid(point, 2264), hex=True, include_srid=True)}\n"
        for n, point in enumerate(feet)), encoding="utf-8")
    for path in (ewkt, ewkb):
        frame = read_regions(path)
        assert frame.crs == "EPSG:2264"
        back = frame.to_crs("EPSG:4326").geometry
        assert [round(back.x[0], 6), round(back.y[1], 6)] == [-79.4, 36.5]
    with pytest.raises(InputError, match=r"column 'geom' names SRID 2264, and --crs is 'EPSG:4326'; drop --crs"):
        read_regions(ewkt, crs="EPSG:4326")
