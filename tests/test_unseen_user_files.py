"""A user's own files the planner had not been tried on: a compressed OD matrix with semicolons, a GeoJSON in
metres without a CRS member, a KML file whose placemarks have names but no ids; each read as meant or refused in
one line naming the file and the fix."""

import bz2
import gzip
import json
import logging
import lzma
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from planner.errors import InputError
from planner.inputs.config import read_model_config
from planner.inputs.io import read_od_matrix
from planner.inputs.prepare import DataOptions, load_inputs
from tests.test_reader_defects import model_file

OD_ROWS = "from;to;distance_km;minutes\nS1;R1;12;20\nS1;R2;30;45\n"


def zipped(data: bytes) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("od.csv", data)
    return buffer.getvalue()


@pytest.mark.parametrize(("suffix", "compress"), [(".gz", gzip.compress), (".bz2", bz2.compress),
                                                  (".xz", lzma.compress), (".zip", zipped)])
def test_a_compressed_od_matrix_with_semicolons_is_read(tmp_path, suffix, compress):
    """'od.csv.gz' written with ';' had been "column 'from' not found ...; available: from;to;distance_km;minutes":
    the separator was sniffed from the compressed bytes, which pandas then decompressed and split on ','."""
    path = tmp_path / f"od.csv{suffix}"
    path.write_bytes(compress(OD_ROWS.encode("utf-8")))
    table = read_od_matrix(path)
    assert list(table.columns) == ["from", "to", "distance_km", "minutes"]
    assert table["distance_km"].tolist() == [12.0, 30.0]
    assert table["to"].tolist() == ["R1", "R2"]


def test_a_compressed_utf16_od_matrix_is_read(tmp_path):
    """Excel's "Unicode Text" (UTF-16, tabs), gzip-compressed: its encoding is read from the decompressed bytes."""
    path = tmp_path / "od.txt.gz"
    path.write_bytes(gzip.compress("from\tto\tdistance_km\nS1\tR1\t12\n".encode("utf-16")))
    assert read_od_matrix(path)["distance_km"].tolist() == [12.0]


def my_maps_kml(path, names: list[str]):
    """A KML file as Google My Maps exports one: placemarks with a name and an untyped ExtendedData value, no ids."""
    marks = "".join(f'<Placemark><name>{name}</name><ExtendedData><Data name="pop"><value>{100 * (i + 1)}</value>'
                    f'</Data></ExtendedData><Point><coordinates>{144 + i},-37.{i},0</coordinates></Point></Placemark>'
                    for i, name in enumerate(names))
    path.write_text('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
                    f"<name>My map</name><Folder><name>Stores</name>{marks}</Folder></Document></kml>",
                    encoding="utf-8")
    return path


def test_kml_placemarks_are_named_by_their_names(tmp_path, caplog):
    """GDAL gives every KML layer an 'id' column, blank where placemarks have no id: it had been found as the id
    column, passed over for its "duplicated values (nan)", and the regions numbered by row, their names lost."""
    path = my_maps_kml(tmp_path / "stores.kml", ["Carlton", "Fitzroy", "Brunswick"])
    config = read_model_config(model_file(tmp_path, path, 'demand_column = "pop"'))
    with caplog.at_level(logging.WARNING):
        inputs = load_inputs(config, DataOptions())
    assert inputs.regions["region_id"].tolist() == ["Carlton", "Fitzroy", "Brunswick"]
    assert "duplicated" not in caplog.text and "numbered by row" not in caplog.text


def test_a_geojson_in_metres_without_a_crs_member_takes_the_crs_given(tmp_path):
    """GeoJSON has no CRS of its own but WGS 84 (RFC 7946), which GDAL gives a file without a "crs" member: one in
    UTM metres had been refused as "outside ±180°/±90° ...: give their CRS (--crs for a table, or set it in the
    file)", and with --crs as "this file has its own CRS (WGS 84) ...: drop it", leaving no way but to edit it."""
    from planner.inputs.io import read_regions
    from planner.inputs.validate import check_coordinates

    path = tmp_path / "stores.geojson"
    features = [{"type": "Feature", "properties": {"id": name, "pop": 10}, "geometry": {"type": "Point",
                 "coordinates": [320000.0 + 1000 * i, 5810000.0]}} for i, name in enumerate(["A", "B"])]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    with pytest.raises(InputError, match=r"stores\.geojson: rows 1, 2 have coordinates outside ±180°/±90° for "
                                         r"EPSG:4326; the data look projected \(metres or feet\): give their CRS "
                                         r"\(--crs for a table or a GeoJSON file"):
        check_coordinates(read_regions(path), path)
    frame = read_regions(path, crs="EPSG:32755")
    assert frame.crs == "EPSG:32755"
    lon, lat = frame.to_crs("EPSG:4326").geometry.iloc[0].coords[0]
    assert lon == pytest.approx(144.95, abs=0.01) and lat == pytest.approx(-37.83, abs=0.01)


def test_a_geojson_in_degrees_still_refuses_another_crs(tmp_path):
    """--crs on a GeoJSON in lon/lat degrees is refused as before: its coordinates fit WGS 84."""
    from planner.inputs.io import read_regions

    path = tmp_path / "stores.geojson"
    gpd.GeoDataFrame({"id": ["A"], "pop": [1]}, geometry=[Point(145, -37.8)], crs="EPSG:4326").to_file(path)
    with pytest.raises(InputError, match=r"this file has its own CRS \(WGS 84\)"):
        read_regions(path, crs="EPSG:32755")


def test_a_material_no_supplier_offers_lists_what_the_suppliers_file_offers(tmp_path):
    """'steel_kg' needed, a file of 'aluminium' suppliers and no inbound table: the error had said "check its name
    (known: none)", as if the suppliers file offered nothing."""
    from click.testing import CliRunner

    from planner.cli import main
    from tests.test_reader_defects import regions_csv

    model = model_file(tmp_path, regions_csv(tmp_path / "r.csv"))
    text = model.read_text(encoding="utf-8").replace(
        "unmet_penalty_per_unit = 1000.0\n", "unmet_penalty_per_unit = 1000.0\nmaterials = { steel_kg = 1.0 }\n", 1)
    model.write_text(text + '[suppliers]\npath = "s.csv"\n', encoding="utf-8")
    (tmp_path / "s.csv").write_text("supplier_id,material,lon,lat\nA,aluminium,150.0,-33.0\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", "--model", str(model)])
    assert result.exit_code == 2, result.output
    assert ("error: products.standard.materials.steel_kg: no supplier offers it and no facility type has an inbound "
            "table for it; check its name (known: aluminium)") in result.stderr


def workbook(path, sheets: dict):
    """An .xlsx file of ``sheets`` (name → DataFrame), in that order."""
    import pandas as pd

    with pd.ExcelWriter(path) as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return path


def test_the_sheet_of_a_workbook_is_chosen_with_layer(tmp_path, caplog):
    """A workbook of a sheet per year had been read from its first sheet, saying nothing, and --layer 2020 refused
    as "a table has no layers"; --layer now names the sheet, as it names a GeoPackage's layer, and reading the
    first of several sheets is a warning naming the others."""
    import pandas as pd

    from planner.inputs.io import read_regions

    year = pd.DataFrame({"id": ["A", "B"], "lon": [144.9, 145.1], "lat": [-37.8, -37.9], "pop": [10, 20]})
    path = workbook(tmp_path / "years.xlsx", {"2019": year, "2020": year.assign(pop=[30, 40])})
    assert read_regions(path, layer="2020")["pop"].tolist() == [30, 40]
    with caplog.at_level(logging.WARNING):
        assert read_regions(path)["pop"].tolist() == [10, 20]
    assert ("years.xlsx: the workbook has 2 sheets ('2019', '2020'); its first, '2019', is read: choose another with "
            "--layer (the [regions] key layer)") in caplog.text
    with pytest.raises(InputError, match=r"years\.xlsx: has no sheet '2021'; its sheets: '2019', '2020' \(--layer, "
                                         r"or the \[regions\] key layer\)"):
        read_regions(path, layer="2021")


def test_a_kmz_file_keeps_its_typed_fields(tmp_path):
    """A KMZ whose placemarks hold typed fields (``<SchemaData schemaUrl="#stores">``, as QGIS and ogr2ogr write KML)
    had lost them, GDAL's LIBKML resolving the schema inside the .kml but not inside the .kmz: "which column is the
    demand? (numeric columns: tessellate, extrude, visibility, drawOrder)". Its .kml is read from inside the zip."""
    import zipfile

    from planner.inputs.io import read_regions

    marks = "".join(f'<Placemark><name>{name}</name><ExtendedData><SchemaData schemaUrl="#stores"><SimpleData '
                    f'name="pop">{pop}</SimpleData></SchemaData></ExtendedData><Point><coordinates>{lon},-37.8'
                    '</coordinates></Point></Placemark>' for name, pop, lon in (("A", 10, 144.9), ("B", 20, 145.1)))
    kml = ('<?xml version="1.0" encoding="utf-8" ?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
           '<Schema name="stores" id="stores"><SimpleField name="pop" type="float"></SimpleField></Schema>'
           f"<Folder><name>stores</name>{marks}</Folder></Document></kml>")
    path = tmp_path / "stores.kmz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("doc.kml", kml)
    assert read_regions(path)["pop"].tolist() == [10.0, 20.0]


def test_od_ids_written_as_decimals_are_named(tmp_path):
    """An OD matrix whose ids a program wrote as decimals ('1.0', as pandas writes a column of whole numbers with a
    blank) had been told only that '1.0' is no site id, the ids it names being 1, 2, ..."""
    from planner.inputs.prepare import prepare_problem
    from tests.test_reader_defects import regions_csv

    regions = regions_csv(tmp_path / "r.csv", rows=[(1, 151.21, -33.87, 5300), (2, 144.96, -37.81, 5100)])
    od = tmp_path / "od.csv"
    od.write_text("from,to,distance_km\n1.0,1.0,0\n1.0,2.0,900\n2.0,1.0,900\n2.0,2.0,0\n", encoding="utf-8")
    sites = tmp_path / "s.csv"
    sites.write_text("site_id,lon,lat\n1,151.21,-33.87\n2,144.96,-37.81\n", encoding="utf-8")
    config = read_model_config(model_file(tmp_path, regions))
    with pytest.raises(InputError, match=r"'from' in rows 1, 2, 3, 4 \('1\.0', '2\.0'\) is no site id of this run; "
                                         r"2 of them look like site ids written as decimals \('1\.0' for '1', '2\.0' "
                                         r"for '2'\): write them as the ids they name are written, without '\.0'"):
        prepare_problem(config, load_inputs(config, DataOptions(sites_path=sites, od_path=od)))


@pytest.mark.parametrize(("header", "columns", "example"), [
    ("GEOID,NAME,pop2020,cenpop_lat,cenpop_lon,rep_lat,rep_lon", "'cenpop_lat', 'cenpop_lon', 'rep_lat', 'rep_lon'",
     "--lon-column cenpop_lon --lat-column cenpop_lat"),
    ("GEOID,NAME,ALAND,AWATER,pop2020,INTPTLAT,INTPTLONG", "'INTPTLAT', 'INTPTLONG'",
     "--lon-column INTPTLONG --lat-column INTPTLAT"),
])
def test_coordinate_columns_under_other_names_are_named(tmp_path, header, columns, example):
    """The Census county table had been told "no coordinate columns found ...; available: GEOID, ..., pop2020 and 4
    more": the 4 left out were its coordinates, cenpop_lat/cenpop_lon and rep_lat/rep_lon."""
    from planner.inputs.io import read_regions

    path = tmp_path / "counties.csv"
    width = header.count(",") + 1
    path.write_text(f"{header}\n" + ",".join(["01001", "Autauga", "58805"] + ["32.5"] * (width - 3)) + "\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match=rf"no coordinate columns found .*; columns that may hold them: {columns} "
                                         rf"\(e\.g\. {example}\); available: "):
        read_regions(path)


@pytest.mark.parametrize(("written", "said"), [
    ("max_distance_miles = 150", "(did you mean 'max_distance_km'? it is in km: 150 miles = 241.402 km)"),
    ("cost_per_unit_mile = 0.013",
     "(did you mean 'cost_per_unit_km'? it is in km: 0.013 per mile = 0.00807783 per km)"),
    ("max_distance_metres = 250000", "(did you mean 'max_distance_km'? it is in km: 250000 m = 250 km)"),
])
def test_a_key_in_another_unit_says_the_value_in_the_keys_unit(tmp_path, written, said):
    """'max_distance_miles = 150' had been told "did you mean 'max_distance_km'?", and renamed so, 150 miles became a
    150 km radius; the hint now gives the value in the unit of the key it names."""
    from tests.test_reader_defects import regions_csv

    model = model_file(tmp_path, regions_csv(tmp_path / "r.csv"))
    text = model.read_text(encoding="utf-8")
    model.write_text(text.replace("[transport.standard]\n", f"[transport.standard]\n{written}\n", 1), encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_model_config(model)
    assert said in str(error.value)


def test_a_parquet_table_of_wkb_geometry_without_geoparquet_metadata_is_read(tmp_path):
    """A Parquet file whose 'geometry' column holds WKB bytes but no GeoParquet metadata (DuckDB's COPY, pandas with
    shapely.to_wkb) had ended in "internal error: UnicodeDecodeError"; its geometry is read as hex WKB text is."""
    import pandas as pd
    import shapely

    from planner.inputs.io import read_regions

    path = tmp_path / "stores.parquet"
    points = shapely.points([144.9, 145.1], [-37.8, -37.9])
    pd.DataFrame({"id": ["A", "B"], "pop": [10, 20], "geometry": shapely.to_wkb(points)}).to_parquet(path)
    frame = read_regions(path)
    assert frame.crs == "EPSG:4326" and frame.geometry.x.tolist() == [144.9, 145.1]
    ewkb = shapely.to_wkb(shapely.set_srid(points, 4269), include_srid=True)
    pd.DataFrame({"id": ["A", "B"], "pop": [10, 20], "geom": ewkb}).to_parquet(path)
    assert read_regions(path).crs == "EPSG:4269"


@pytest.mark.parametrize(("written", "said"), [
    ("50%", r"column 'probability' is not a finite number in rows 1, 2, 3, 4 \(e\.g\. '50%'\); give a number in "
            r"every row; a probability is a fraction: write 0\.5 for 50%"),
    ("50", r"column 'probability' is outside \(0, 1\] in rows 1, 2, 3, 4; give each scenario a probability > 0 "
           r"and ≤ 1; a probability is a fraction: write 0\.5 for 50%"),
])
def test_scenario_probabilities_in_percent_are_named(tmp_path, written, said):
    """'50%' and 50 had been refused as not a number, or outside (0, 1] with "give each scenario a probability > 0",
    no word of the percent."""
    from planner.inputs.scenarios import read_scenarios

    path = tmp_path / "scenarios.csv"
    rows = [f"{s},{r},standard,100,{written}" for s in ("low", "high") for r in ("A", "B")]
    path.write_text("scenario,region,product,demand,probability\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=said):
        read_scenarios(path, ["A", "B"], ["standard"])


def test_a_shapefile_without_its_shx_names_the_file_to_copy(tmp_path):
    """A .shp copied without its .shx had been told GDAL's "Set SHAPE_RESTORE_SHX config option to YES", a setting
    the planner does not take."""
    from planner.inputs.io import read_regions

    stores = gpd.GeoDataFrame({"id": ["A"], "pop": [1]}, geometry=[Point(145, -37.8)], crs="EPSG:4326")
    path = shapefile_of(tmp_path, stores)
    path.with_suffix(".shx").unlink()
    with pytest.raises(InputError, match=r"stores\.shp: the Shapefile has no stores\.shx beside it, which indexes its "
                                         r"shapes; copy the \.shx with the \.shp$"):
        read_regions(path)


def shapefile_of(folder, frame):
    import warnings

    path = folder / "stores.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame.to_file(path)
    return path


def test_od_id_columns_in_another_case_or_name_say_which_to_rename(tmp_path):
    """'From'/'To' and QGIS's distance matrix ('InputID', 'TargetID') had been told only "column 'from' not found",
    whereas a 'Cost' column is named as the 'cost' it is meant for."""
    path = tmp_path / "od.csv"
    path.write_text("From,To,distance_km\nS1,R1,10\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"od\.csv: column 'From' is read only as 'from' \(lower case\); rename it$"):
        read_od_matrix(path)
    path.write_text("InputID,TargetID,Distance\nS1,R1,10000\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"column 'from' not found .*; available: InputID, TargetID, Distance; "
                                         r"QGIS's distance matrix\? rename InputID to from and TargetID to to, "
                                         r"and give Distance in km as distance_km"):
        read_od_matrix(path)


def test_a_table_below_blank_rows_says_where_its_header_is(tmp_path):
    """A sheet whose table starts at B3 (blank rows above it, a blank column left of it, as reports are laid out) had
    been "no coordinate columns found ...; available: Unnamed: 0, Unnamed: 1, ...", naming no column of the file."""
    from openpyxl import Workbook

    from planner.inputs.io import read_regions

    book = Workbook()
    for i, row in enumerate([["id", "lon", "lat", "pop"], ["A", 144.9, -37.8, 10], ["B", 145.1, -37.9, 20]]):
        for j, value in enumerate(row):
            book.active.cell(row=i + 3, column=j + 2, value=value)
    book.save(tmp_path / "report.xlsx")
    with pytest.raises(InputError, match=r"report\.xlsx: the first row is blank, which is read as the header \(the "
                                         r"header looks like row 3: id, lon, lat, pop\); remove the blank rows and "
                                         r"columns above and left of the table, so that the file starts with its "
                                         r"header in the first column"):
        read_regions(tmp_path / "report.xlsx")


def test_a_totals_row_below_the_table_is_named_as_one(tmp_path):
    """A spreadsheet's 'Total' row under the regions had been "column 'lon' is not a number in rows 3 (values
    [nan]); give coordinates in every row", as if a region lacked its coordinates."""
    from planner.inputs.io import read_regions

    path = tmp_path / "regions.csv"
    path.write_text("id,lon,lat,pop\nA,145,-37,5\nB,145.5,-37.5,10\nTotal,,,15\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"column 'lon' is not a number in rows 3 \(values \[nan\]\); give coordinates "
                                         r"in every row; row 3 \('Total'\) looks like a totals row: remove it"):
        read_regions(path)


def test_a_sites_file_without_a_crs_gets_a_fix_without_python(tmp_path):
    """A sites file without a CRS (a shapefile whose .prj was not copied) had been told "e.g. gdf.set_crs('EPSG:4326')
    ... and save it again", a line of Python for a user of the command line (the sites take no --crs)."""
    from planner.inputs.prepare import read_candidate_sites
    from tests.test_reader_defects import regions_csv

    config = read_model_config(model_file(tmp_path, regions_csv(tmp_path / "r.csv")))
    sites = gpd.GeoDataFrame({"site_id": ["S1"]}, geometry=[Point(320000, 5810000)])
    path = shapefile_of(tmp_path, sites)
    with pytest.raises(InputError, match=r"stores\.shp: the data has no CRS \(coordinate reference system\); save the "
                                         r"file with its CRS \(QGIS: Layer > Set CRS, then Export; ogr2ogr -a_srs "
                                         r"EPSG:\.\.\.\), or give the points as a CSV of lon/lat degrees$"):
        read_candidate_sites(path, config)


def test_a_column_given_in_another_case_names_the_one_meant(tmp_path):
    """--id-column ID on a file whose column is 'id' had been "column 'ID' not found ...; available: id, lon, ...",
    the difference left for the user to see."""
    from planner.inputs.prepare import DataOptions, load_inputs
    from tests.test_reader_defects import regions_csv

    regions = regions_csv(tmp_path / "r.csv")
    config = read_model_config(model_file(tmp_path, regions))
    with pytest.raises(InputError, match=r"column 'POP' not found .*; available: id, lon, lat, pop; did you mean "
                                         r"'pop'\? \(column names are case-sensitive\)$"):
        load_inputs(config, DataOptions(regions_path=regions, demand_column="POP"))


def test_a_table_without_a_header_is_named_so(tmp_path):
    """A CSV without a header row had its first region taken for the column names: "no coordinate columns found ...;
    available: A, 145, -37, 5", and an OD matrix "column 'from' not found", with no word of the missing header."""
    from planner.inputs.io import read_regions

    path = tmp_path / "points.csv"
    path.write_text("A,145,-37,5\nB,145.5,-37.5,10\n", encoding="utf-8")
    fix = r"; the first row holds numbers \('145', '-37', '5'\): has the file no header\? add one as its first line"
    with pytest.raises(InputError, match=r"available: A, 145, -37, 5" + fix):
        read_regions(path)
    with pytest.raises(InputError, match=r"column 'from' not found .*; available: A, 145, -37, 5" + fix):
        read_od_matrix(path)


def test_an_od_matrix_given_as_the_regions_is_named(tmp_path):
    """An OD matrix passed as the regions (planner init od.csv) had been "no coordinate columns found ...; available:
    from, to, distance_km", with no word that it is an OD matrix."""
    from planner.inputs.io import read_regions

    path = tmp_path / "od.csv"
    path.write_text("from,to,distance_km\nS1,R1,10\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"available: from, to, distance_km; it looks like an OD matrix \(from, to\): "
                                         r"pass it with --od-matrix, and the regions as the data$"):
        read_regions(path)


def test_a_folder_of_a_shapefile_names_the_file_inside(tmp_path):
    """The unzipped folder of a Census download passed as the regions had been "is a folder, not a regions file; pass
    a file", the .shp inside it left to be found."""
    from planner.inputs.io import read_regions

    stores = gpd.GeoDataFrame({"id": ["A"], "pop": [1]}, geometry=[Point(145, -37.8)], crs="EPSG:4326")
    (tmp_path / "cb_2018").mkdir()
    path = shapefile_of(tmp_path / "cb_2018", stores)
    with pytest.raises(InputError, match=r"cb_2018: is a folder, not a regions file; pass a file to the REGIONS "
                                         rf"argument: the vector file in it is {path}$"):
        read_regions(tmp_path / "cb_2018")


def test_a_key_per_another_period_says_the_value_per_year():
    """'opening_cost_per_month = 1000' had been told "did you mean 'opening_cost_per_yr'?", and renamed so, a
    monthly cost became a yearly one; the hint gives the yearly figure, as for miles (the tables' columns are told
    alike, tests/test_fuzz_found.py)."""
    import tomllib

    from planner.inputs.config import model_config_from_dict

    model = Path(__file__).resolve().parent.parent / "models" / "hybrid.toml"
    data = tomllib.loads(model.read_text(encoding="utf-8"))
    micro = data["facility_types"]["microfactory"]
    micro["opening_cost_per_month"] = micro.pop("opening_cost_per_yr") / 12
    with pytest.raises(InputError) as error:
        model_config_from_dict(data)
    monthly = micro["opening_cost_per_month"]
    assert (f"(did you mean 'opening_cost_per_yr'? it is per year: {monthly:g} per month = {monthly * 12:g} per "
            "year)") in str(error.value)
