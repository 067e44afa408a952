"""Inputs a seeded mutation campaign over every file the planner reads found mishandled (a cell, a byte or a
token changed in a valid file): each is refused in one line that names the file and the fix, or accepted
only where it means what it says."""

from pathlib import Path

import pytest

from planner.errors import InputError
from planner.inputs.io import read_od_matrix, read_sites
from planner.inputs.tables import read_table


def _written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_row_with_one_field_too_many_is_named_with_its_line_and_fix(tmp_path):
    """'1,5' typed into a cell of row 8 splits it: pandas' tokenizer error had ended in "give a CSV, Excel or
    Parquet file", for a CSV file."""
    path = _written(tmp_path / "od.csv", b"from,to,distance_km\ns1,r1,10\ns1,r2,1,5\ns2,r1,12\n")
    with pytest.raises(InputError) as caught:
        read_od_matrix(path)
    message = str(caught.value)
    assert "line 3 has 4 fields and the header 3" in message and "thousands separator" in message
    assert "give a CSV" not in message and "\n" not in message


def test_a_quote_never_closed_is_named_with_its_line(tmp_path):
    path = _written(tmp_path / "t.csv", b'id,lon,lat\na,1,2\nb,"1,2\n')
    with pytest.raises(InputError, match=r'a quote \(\"\) opened in line 3 is never closed'):
        read_table(path, "regions", "REGIONS")


def test_a_file_of_blank_lines_is_named_so(tmp_path):
    path = _written(tmp_path / "t.csv", b"   \n\n  \n")
    with pytest.raises(InputError, match=r"only blank lines or spaces\); pass the file that holds the data to --sites"):
        read_table(path, "sites", "--sites")


def test_a_nul_byte_in_a_header_name_is_refused_not_the_column_left_out(tmp_path):
    """Two NUL bytes inside 'cost_multiplier' (a damaged file) had left the column unread, every site's
    cost multiplier silently 1."""
    path = _written(tmp_path / "sites.csv",
                    b"site_id,lon,lat,cost_mult\x00\x00iplier\ns0,-80.8,35.3,2.5\ns1,-78.6,35.8,1.1\n")
    with pytest.raises(InputError) as caught:
        read_sites(path)
    message = str(caught.value)
    assert "sites.csv: the header's column 'cost_mult\\x00\\x00iplier' holds a control character" in message


def test_an_od_matrix_of_a_header_alone_is_refused_in_one_line(tmp_path):
    """A header without rows had ended in an internal error (IndexError) where the arcs were looked up."""
    path = _written(tmp_path / "od.csv", b"from,to,distance_km,minutes\n")
    with pytest.raises(InputError, match=r"od.csv: the OD matrix has no rows; give a row per candidate site"):
        read_od_matrix(path)


def test_a_misspelt_optional_column_is_refused_not_left_out(tmp_path):
    """'capacity_per_year' for 'capacity_per_yr' had left every supplier's capacity unlimited, and
    'cost_multipler' every site's cost multiplier 1, without a word; other extra columns are still read past."""
    from planner.inputs.prepare import check_site_columns
    from planner.inputs.suppliers import read_suppliers

    suppliers = _written(tmp_path / "suppliers.csv", b"supplier_id,material,lon,lat,capacity_per_year,cost_per_unit\n"
                                                     b"S1,steel_kg,-80.0,35.0,1000,0.9\n")
    with pytest.raises(InputError, match="column 'capacity_per_year' is not read; name it 'capacity_per_yr'"):
        read_suppliers(suppliers)
    sites = _written(tmp_path / "sites.csv", b"site_id,lon,lat,cost_multipler,existing_capacity,forced_reason\n"
                                             b"s0,-80.8,35.3,2.5,10,none\n")
    with pytest.raises(InputError, match="column 'cost_multipler' is not read; name it 'cost_multiplier'"):
        check_site_columns(read_sites(sites), sites)
    kept = _written(tmp_path / "kept.csv", b"site_id,lon,lat,existing_capacity,forced_reason\ns0,-80.8,35.3,10,none\n")
    check_site_columns(read_sites(kept), kept)
    # a capacity per day renamed alone would be read as one per year: the fix says so
    daily = _written(tmp_path / "daily.csv", b"supplier_id,material,lon,lat,capacity_per_day,cost_per_unit\n"
                                             b"S1,steel_kg,-80.0,35.0,1000,0.9\n")
    with pytest.raises(InputError, match=r"name it 'capacity_per_yr' with its figures per year \(a figure per day "
                                         r"× 365\)"):
        read_suppliers(daily)


@pytest.mark.parametrize(("text", "expected"), [
    ("scenario,scenario,product,demand,probability\ns1,r1,p,1,1\n", "column 'scenario' appears twice in the header"),
    ("scenario,region,product,demand,probability\ns1,r1,p,1,1\ns1,r2,p,1,5,1\n",
     "line 3 has 6 fields and the header 5"),
])
def test_a_scenario_file_s_header_or_row_fault_is_named_as_the_tables_are(tmp_path, text, expected):
    """A column named twice had been reported as the next column 'missing' (pandas' 'scenario.1'), and a row
    with a field too many with pandas' tokenizer message and "give a CSV"."""
    from planner.inputs.scenarios import check_scenario_file

    path = _written(tmp_path / "scenarios.csv", text.encode())
    with pytest.raises(InputError, match=expected) as caught:
        check_scenario_file(path)
    assert "missing" not in str(caught.value) and "give a CSV" not in str(caught.value)


def test_a_point_at_zero_zero_among_polygons_is_warned_about(tmp_path):
    """A region given as the point 0° E, 0° N among county polygons in North Carolina had passed without the
    warning the same point among points gets (the others were looked for among the points alone)."""
    import geopandas as gpd
    from shapely.geometry import Point, box

    from planner.inputs.validate import null_island_messages

    shapes = [box(lon - 0.1, 35.0, lon + 0.1, 35.2) for lon in (-80.8, -78.6, -79.8)]
    frame = gpd.GeoDataFrame({"id": ["a", "b", "c", "d"]}, geometry=[shapes[0], Point(0, 0), *shapes[1:]],
                             crs="EPSG:4326")
    assert null_island_messages(frame, tmp_path / "r.geojson") == [
        f"{tmp_path / 'r.geojson'}: rows 2 lie at 0° longitude, 0° latitude (in the Gulf of Guinea), where geocoders "
        "put addresses they could not find; check their coordinates: their demand is placed and served there"]
    near = frame.set_geometry([box(-0.1, -0.1, 0.1, 0.1), Point(0, 0), box(0.2, 0.2, 0.4, 0.4), Point(1, 1)],
                              crs="EPSG:4326")
    assert null_island_messages(near, tmp_path / "r.geojson") == []
    # every row at 0°, 0° (a file whose coordinates are all zeros) had passed unwarned; one region there is data
    zeros = frame.set_geometry([Point(0, 0)] * 4, crs="EPSG:4326")
    assert null_island_messages(zeros, tmp_path / "r.geojson")[0].startswith(
        f"{tmp_path / 'r.geojson'}: every row lies at 0° longitude, 0° latitude")
    assert null_island_messages(zeros.iloc[:1], tmp_path / "r.geojson") == []


def test_a_polygon_ring_geos_cannot_build_is_named_with_its_row(tmp_path):
    """A GeoJSON polygon of three corners, its ring not closed, had been "cannot read as a vector file (...);
    check the format and layer", with no row and the wrong fix."""
    import json

    from planner.inputs.vector import read_vector

    ring = [[[-80.9, 35.1], [-80.7, 35.1], [-80.7, 35.3], [-80.9, 35.1]]]
    features = [{"type": "Feature", "properties": {"id": name}, "geometry": {"type": "Polygon", "coordinates": shape}}
                for name, shape in (("a", ring), ("b", [ring[0][:3]]))]
    path = tmp_path / "r.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with pytest.raises(InputError) as caught:
        read_vector(path, None, "regions", "REGIONS")
    message = str(caught.value)
    assert message.startswith(f"{path}: rows 2 have geometries that cannot be built, such as a polygon ring not closed")
    assert "QGIS: Fix geometries" in message and "check the format and layer" not in message


@pytest.mark.parametrize("geometry", [None, {"type": "Point", "coordinates": []}])
def test_a_site_or_supplier_without_a_point_is_named_so(tmp_path, geometry):
    """A null or empty geometry in a sites GeoJSON had been "outside ±180°/±90° in lon/lat; check their
    coordinates and the file's CRS", and in a suppliers GeoJSON an internal error (ValueError: 'x' must be
    finite)."""
    import json

    from planner.inputs.config import read_model_config
    from planner.inputs.prepare import read_candidate_sites
    from planner.inputs.suppliers import read_suppliers

    def features(properties):
        rows = [{"type": "Feature", "properties": dict(properties, **{key: f"{value}{n}" for key, value in
                                                                       properties.items() if key.endswith("_id")}),
                 "geometry": {"type": "Point", "coordinates": [-80.0 + n, 35.0]}} for n in range(3)]
        rows[1]["geometry"] = geometry
        return json.dumps({"type": "FeatureCollection", "features": rows})

    sites = tmp_path / "sites.geojson"
    sites.write_text(features({"site_id": "s"}))
    config = read_model_config(Path(__file__).parents[1] / "models" / "hybrid.toml")
    with pytest.raises(InputError, match=r"sites.geojson: sites in rows 2 have no geometry \(null or empty\)"):
        read_candidate_sites(sites, config)
    suppliers = tmp_path / "suppliers.geojson"
    suppliers.write_text(features({"supplier_id": "S", "material": "steel_kg", "capacity_per_yr": 10.0}))
    with pytest.raises(InputError, match=r"suppliers.geojson: suppliers in rows 2 have no geometry"):
        read_suppliers(suppliers)


def test_a_sites_or_suppliers_geojson_of_no_features_says_it_has_no_rows(tmp_path):
    """An empty FeatureCollection had been "column 'site_id' not found ...; available: " (nothing)."""
    from planner.inputs.suppliers import read_suppliers

    path = _written(tmp_path / "points.geojson", b'{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputError, match="points.geojson: the sites file has no rows"):
        read_sites(path)
    with pytest.raises(InputError, match="points.geojson: the suppliers file has no rows"):
        read_suppliers(path)


def test_a_true_false_cell_among_numbers_in_a_workbook_is_refused(tmp_path):
    """A logical TRUE in a workbook's longitude column had been read as 1 (pandas' inference), placing the region
    at 1° E without a word; a column of TRUE/FALSE alone (a flag) is read as before."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (["id", "lon", "lat", "pop", "flag"], ["a", -80.8, 35.2, 100, True], ["b", True, 35.8, 200, False]):
        sheet.append(row)
    workbook.save(tmp_path / "r.xlsx")
    with pytest.raises(InputError, match=r"r.xlsx: column 'lon' holds TRUE/FALSE in rows 2 among numbers"):
        read_table(tmp_path / "r.xlsx", "regions", "REGIONS")
    sheet["B3"] = -78.6
    workbook.save(tmp_path / "r.xlsx")
    assert read_table(tmp_path / "r.xlsx", "regions", "REGIONS")["flag"].tolist() == [True, False]


def test_an_error_value_in_a_workbook_cell_is_refused_not_read_as_empty(tmp_path):
    """#DIV/0! in a sites workbook's 'existing' column had read as an empty cell, so the site was silently not
    existing."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (["site_id", "lon", "lat", "existing"], ["s0", -80.8, 35.2, "#DIV/0!"], ["s1", -78.6, 35.8, False]):
        sheet.append(row)
    workbook.save(tmp_path / "sites.xlsx")
    with pytest.raises(InputError, match=r"sites.xlsx: column 'existing' row 1 holds the error value #DIV/0!"):
        read_table(tmp_path / "sites.xlsx", "sites", "--sites")


def test_a_known_optima_csv_with_a_column_named_twice_says_so(tmp_path):
    """'instance,instance,...' had been "missing columns problem" (pandas read the second as 'instance.1')."""
    from planner.studies.bench import read_known_optima

    path = _written(tmp_path / "optima.csv", b"instance,instance,params,optimal_value,status,file\n"
                                             b"cap41,cflp,,1040444.375,optimal,cap41.txt\n")
    with pytest.raises(InputError, match=r"optima.csv: column 'instance' appears twice in the header"):
        read_known_optima(path)


@pytest.mark.parametrize("written", ["1_000", "１２"])
def test_a_start_module_count_is_a_plain_number(tmp_path, written):
    """float() had read '1_000' as 1000 and full-width '１２' as 12 modules; every other table refuses them."""
    from planner.inputs.start_network import read_start_network

    path = _written(tmp_path / "sites.csv", f"site_id,facility_type,modules\ns0,plant,{written}\n".encode())
    with pytest.raises(InputError, match=r"sites.csv: row 2, column 'modules': .* is no whole number ≥ 0"):
        read_start_network(path)
    path.write_text("site_id,facility_type,modules\ns0,plant, 2 \ns1,plant,\n")
    assert read_start_network(path).modules == {("s0", "plant"): 2, ("s1", "plant"): 0}
