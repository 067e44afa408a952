"""A user's own names, columns and CRS: control characters, names with dots or in two Unicode forms,
reserved type names, columns named alike but for case, dots grouping thousands, CRSs that place nothing
on the map, and the small parsing rules of --select, --out and the sites flags."""

import unicodedata
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.errors import InputError
from planner.export.folder import check_output_name
from planner.export.workbook import cell_value
from planner.inputs.config import dotted_key, key_parts, read_model_config, set_dotted, split_assignment
from planner.inputs.io import parse_flags
from planner.inputs.prepare import parse_select
from planner.studies.compare import Sweep
from planner.studies.sensitivity import parse_range
from planner.studies.sweep.spec import Vary
from tests.test_reader_defects import AU, load, model_file, regions_csv

PRODUCT_TOML = """name = "t"
carbon_price = 0.0
[products.{product}]
demand_rate = 1.0
unmet_penalty_per_unit = 1000.0
[transport.{transport}]
cost_per_unit_km = 0.01
[facility_types.{facility}]
opening_cost_per_yr = 100.0
[facility_types.{facility}.products.{product}]
cost_per_unit = 1.0
"""


def model_text(tmp_path: Path, product: str = "standard", transport: str | None = None,
               facility: str = "plant") -> Path:
    path = tmp_path / "names.toml"
    path.write_text(PRODUCT_TOML.format(product=product, transport=transport or product, facility=facility),
                    encoding="utf-8")
    return path


def test_control_characters_in_region_ids_are_refused_with_the_rows(tmp_path):
    rows = [("A\x0bB", 151.21, -33.87, 5300), *AU[1:]]
    model = model_file(tmp_path, regions_csv(tmp_path / "r.csv", rows))
    with pytest.raises(InputError, match=r"control characters in rows 1 .*'A\\x0bB'"):
        load(model)


def test_control_characters_in_model_names_are_refused(tmp_path):
    with pytest.raises(InputError, match="control characters"):
        read_model_config(model_text(tmp_path, product='"std\\u001b[31m"'))


def test_the_workbook_replaces_control_characters_in_other_columns():
    assert cell_value("north\x0bside") == "north\ufffdside"
    assert cell_value("tab\tkept") == "tab\tkept"
    assert cell_value("c1\x85kept") == "c1\x85kept"  # a workbook holds these


@pytest.mark.parametrize("name", ["unmet", "No demand"])
def test_a_facility_type_named_as_a_map_label_is_refused(tmp_path, name):
    with pytest.raises(InputError, match="the maps' label"):
        read_model_config(model_text(tmp_path, facility=f'"{name}"'))


def test_model_names_in_two_unicode_forms_are_named_as_such(tmp_path):
    composed, decomposed = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
    with pytest.raises(InputError, match="looks the same but is written in another Unicode form"):
        read_model_config(model_text(tmp_path, product=f'"{composed}"', transport=f'"{decomposed}"'))
    path = model_text(tmp_path, product=f'"{decomposed}"')  # one form throughout: kept as written
    assert list(read_model_config(path).products) == [decomposed]
    path.write_text(path.read_text(encoding="utf-8") + f'[products."{composed}"]\ndemand_rate = 1.0\n',
                    encoding="utf-8")
    with pytest.raises(InputError, match="twice, written in two Unicode forms"):
        read_model_config(path)


def test_dotted_keys_quote_names_with_dots_and_read_back():
    key = dotted_key("products", "std.v2", "demand_rate")
    assert key == 'products."std.v2".demand_rate'
    assert key_parts(key) == ["products", "std.v2", "demand_rate"]
    assert key_parts("transport.standard.cost_per_unit_km") == ["transport", "standard", "cost_per_unit_km"]
    assert key_parts("products.men's.demand_rate") == ["products", "men's", "demand_rate"]
    assert key_parts('facility_types."micro 2.0".products.café.cost_per_unit')[1:4] == ["micro 2.0", "products",
                                                                                       "café"]
    assert key_parts("a.'x.y'.b") == ["a", "x.y", "b"]
    assert key_parts(dotted_key("a", 'q"x\\', "b")) == ["a", 'q"x\\', "b"]
    for bad in ('products."open', 'products."x"y.b'):
        with pytest.raises(InputError, match="not a dotted key"):
            key_parts(bad)


def test_a_product_with_a_dot_is_set_by_its_quoted_key(tmp_path):
    config = read_model_config(model_text(tmp_path, product='"std.v2"'))
    updated = set_dotted(config, dotted_key("products", "std.v2", "demand_rate"), 3.0)
    assert updated.products["std.v2"].demand_rate == 3.0
    with pytest.raises(InputError, match='known there: "std.v2"'):
        set_dotted(config, "products.std.v2.demand_rate", 3.0)


def test_a_quoted_name_holding_an_equals_sign_is_addressed_in_every_spec():
    assert split_assignment('products."a=b".demand_rate=1,2') == ('products."a=b".demand_rate', "=", "1,2")
    assert split_assignment("products.'x=y'.demand_rate=0:1") == ("products.'x=y'.demand_rate", "=", "0:1")
    assert split_assignment("carbon_price=1=2") == ("carbon_price", "=", "1=2")
    assert Vary.parse('products."a=b".demand_rate=1,2').key == 'products."a=b".demand_rate'
    assert Sweep.parse('products."a=b".demand_rate=1:2:3').key == 'products."a=b".demand_rate'
    assert parse_range('products."a=b".demand_rate=1:2')[1:] == (1.0, 2.0)


def test_columns_named_alike_but_for_case_are_an_error_naming_the_option(tmp_path):
    path = tmp_path / "r.csv"
    pd.DataFrame({"id": ["a", "b"], "lon": [1.0, 2.0], "lat": [40.0, 41.0], "demand": [1.0, 2.0],
                  "Demand": [1000.0, 2000.0]}).to_csv(path, index=False)
    model = model_file(tmp_path, path, 'id_column = "id"')
    with pytest.raises(InputError, match="demand, Demand differ only in case.*--demand-column"):
        load(model)
    pd.DataFrame({"id": ["a", "b"], "lon": [1.0, 2.0], "lat": [40.0, 41.0], "LAT": [4.0, 4.1],
                  "pop": [1.0, 2.0]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="lat, LAT differ only in case.*--lat-column"):
        load(model_file(tmp_path, path))


def test_dots_that_may_group_thousands_warn_in_a_semicolon_file(tmp_path, caplog):
    rows = [("SYD", 151.21, -33.87, "282.316"), ("MEL", 144.96, -37.81, "312.792"), ("BNE", 153.03, -27.47, "95.120")]
    model = model_file(tmp_path, regions_csv(tmp_path / "r.csv", rows, header="id;lon;lat;pop", sep=";"))
    load(model)
    assert "groups thousands" in caplog.text
    for values, header in ((("12.500", "3.750", "8.000", "25.600"), "id;lon;lat;pop"),  # round figures
                           (("12.500", "3", "8.000", "25.600"), "id; lon; lat; pop ")):  # spaces around names
        caplog.clear()
        rows = [(name, lon, lat, value) for (name, lon, lat, _), value in zip(AU, values, strict=True)]
        load(model_file(tmp_path, regions_csv(tmp_path / "r.csv", rows, header=header, sep=";")))
        assert "groups thousands" in caplog.text
    for values in (("12.5", "3.5", "4.5", "7.5"), ("0.125", "0.375", "0.625", "0.875"), ("12.500", "3.75", "8", "9"),
                   ("1250.125", "3075.375", "2210.625", "4100.875")):  # not what grouping by dots writes
        caplog.clear()
        rows = [(name, lon, lat, value) for (name, lon, lat, _), value in zip(AU, values, strict=True)]
        load(model_file(tmp_path, regions_csv(tmp_path / "r.csv", rows, header="id;lon;lat;pop", sep=";")))
        assert "groups thousands" not in caplog.text


def test_a_value_with_dots_grouping_thousands_gets_the_hint(tmp_path):
    rows = [("SYD", 151.21, -33.87, "1.640.072"), *AU[1:]]
    model = model_file(tmp_path, regions_csv(tmp_path / "r.csv", rows, header="id;lon;lat;pop", sep=";"))
    with pytest.raises(InputError, match="dots as thousands separators are not read"):
        load(model)


@pytest.mark.parametrize("crs, kind", [("EPSG:5703", "vertical"), (
    'LOCAL_CS["x",LOCAL_DATUM["x",0],UNIT["m",1],AXIS["X",EAST],AXIS["Y",NORTH]]', "engineering")])
def test_a_crs_that_places_nothing_on_the_map_is_refused(tmp_path, crs, kind):
    model = model_file(tmp_path, regions_csv(tmp_path / "r.csv"))
    result = CliRunner().invoke(main, ["validate", "--model", str(model), "--crs", crs])
    assert result.exit_code == 2
    assert f"not a horizontal lon/lat or projected CRS (it is {kind}" in result.output


def test_select_values_with_commas_are_quoted():
    assert parse_select(['name="Washington, D.C.",Boston']) == (("name", ("Washington, D.C.", "Boston")),)
    assert parse_select(["STUSPS=NC, SC"]) == (("STUSPS", ("NC", "SC")),)
    assert parse_select(["GEOID=37\\001", "NAME=A\\"]) == (("GEOID", ("37\\001",)), ("NAME", ("A\\",)))


def test_out_with_dotdot_after_a_missing_folder_is_refused_before_solving(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="'newdir' does not exist"):
        check_output_name(Path("newdir/../result"))
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InputError, match="'afile' is not a folder"):
        check_output_name(Path("afile/../result"))
    (tmp_path / "there").mkdir()
    check_output_name(Path("there/../result"))


def test_sites_flags_read_as_floats_where_a_cell_is_empty():
    flags = parse_flags(pd.Series([1.0, None, 0.0]), Path("sites.csv"), "forced")
    assert flags.tolist() == [True, False, False]


def test_excel_ids_formatted_with_leading_zeros_keep_them(tmp_path):
    from openpyxl import Workbook

    from planner.inputs.tables import read_table

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["id", "lon", "lat", "pop"])
    for row in ([2134, 1.0, 2.0, 3.0], [], [1002, 1.0, 2.0, 3.0], ["x7", 1.0, 2.0, 3.0], [55, 1.0, 2.0, 3.0]):
        sheet.append(row)
    for row in (2, 4):
        sheet.cell(row, 1).number_format = "00000"
    workbook.save(tmp_path / "r.xlsx")
    table = read_table(tmp_path / "r.xlsx", "regions", "REGIONS", ["id"])
    assert table["id"].tolist()[:1] + table["id"].tolist()[2:] == ["02134", "01002", "x7", "55"]  # empty row kept


def test_excel_codes_stored_as_text_keep_their_leading_zeros(tmp_path):
    """Text cells '007' in a column not named like an id: pandas reads them as 7 (the CSV reader keeps such
    codes as text, so the regions were read differently from the same table saved as CSV)."""
    from openpyxl import Workbook

    from planner.inputs.tables import read_table

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Kunde", "lon", "lat", "Menge"])
    for code, amount in (("007", 1000), ("003", 2000), ("012", 1500), ("1", 4500)):
        sheet.append([code, 8.5, 47.3, amount])
    workbook.save(tmp_path / "r.xlsx")
    table = read_table(tmp_path / "r.xlsx", "regions", "REGIONS", codes=True)
    assert table["Kunde"].tolist() == ["007", "003", "012", "1"]
    assert table["Menge"].tolist() == [1000, 2000, 1500, 4500]  # numbers stay numbers


def test_two_text_columns_that_could_each_be_the_id_are_named(tmp_path, caplog):
    """Neither is taken (which is the id is the user's call), but numbering the regions by row drops the
    ids from every output, so it is a warning naming both, not an info line."""
    rows = [(f"0{n}", name, lon, lat, pop) for n, (name, lon, lat, pop) in enumerate(AU, start=1)]
    path = regions_csv(tmp_path / "r.csv", rows, header="kennung,city,lon,lat,pop")
    _, inputs = load(model_file(tmp_path, path, 'demand_column = "pop"'))
    assert inputs.regions["region_id"].tolist() == ["1", "2", "3", "4"]
    assert "columns 'kennung', 'city' each hold unique text" in caplog.text and "--id-column" in caplog.text


def test_long_legend_labels_are_wrapped():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from planner.export.static_map import LEGEND_LABEL_CHARS, _legend

    name = "Regional assembly hub (contract manufacturer, 2 shifts)"
    legend = _legend(Figure(), "types", [Patch(label=name), Patch(label="plant")])
    lines = [text.get_text() for text in legend.get_texts()]
    assert lines[1] == "plant" and lines[0].replace("\n", " ") == name
    assert max(len(line) for line in lines[0].splitlines()) <= LEGEND_LABEL_CHARS


def test_region_names_named_alike_but_for_case_are_left_out_with_a_warning(caplog):
    import geopandas as gpd

    from planner.inputs.regions import found_name_column

    frame = gpd.GeoDataFrame({"name": ["Alpha"], "NAME": ["ALPHA"]}, geometry=gpd.points_from_xy([1.0], [2.0]))
    assert found_name_column(frame, "r.csv") is None
    assert "columns name, NAME differ only in case" in caplog.text
    assert found_name_column(frame.drop(columns="NAME"), "r.csv") == "name"


def test_excel_ids_held_as_dates_read_as_their_iso_text(tmp_path):
    """A date cell in an id column came out as '2024-01-02 00:00:00' in every output, so a CSV OD matrix or
    scenario file holding '2024-01-02' did not match it."""
    import datetime

    from openpyxl import Workbook

    from planner.inputs.tables import read_table

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["id", "lon", "lat", "pop"])
    for name in (datetime.date(2024, 1, 2), datetime.datetime(2024, 3, 4, 5, 6), "x7"):
        sheet.append([name, 1.0, 2.0, 3.0])
    workbook.save(tmp_path / "r.xlsx")
    table = read_table(tmp_path / "r.xlsx", "regions", "REGIONS", ["id"])
    assert table["id"].tolist() == ["2024-01-02", "2024-03-04T05:06:00", "x7"]


def test_a_scenario_workbook_keeps_the_leading_zeros_excel_shows(tmp_path):
    """1001 formatted 00000 in the scenario workbook's region column is 01001, as the regions' reader reads
    it (it was read as '1001' and refused as an id not in the regions data)."""
    from openpyxl import Workbook

    from planner.inputs.scenarios import _read_scenario_table

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["scenario", "region", "product", "demand", "probability"])
    sheet.append(["s1", 1001, "std", 100, 1.0])
    sheet.append(["s1", "B", "std", 100, 1.0])
    sheet["B2"].number_format = "00000"
    workbook.save(tmp_path / "scenarios.xlsx")
    assert _read_scenario_table(tmp_path / "scenarios.xlsx")["region"].tolist() == ["01001", "B"]


@pytest.mark.parametrize("text, separator", [
    ('region_id,lon,lat,demand\n" A ",8,48,10\n" B,C ",9,49,20\n" D ",9.5,49.5,30\n', ","),  # was ' '
    ("id;lon;lat\nA;8,5;48,2\nB;9,5;49,1\n", ";"),  # decimal commas
    ("id\tname\tdemand\nA\tx, y\t3\nB\tz\t4\n", "\t"),
    ("id|demand\nA|3\nB|4\n", "|"),
    ("demand\n3\n4\n", ","),  # one column
])
def test_the_separator_is_the_one_that_splits_every_line_alike(tmp_path, text, separator):
    from planner.inputs.tables import sniffed_separator

    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    assert sniffed_separator(path) == separator


def test_duplicated_ids_are_named_with_their_rows_and_spellings(tmp_path):
    """'A' and 'A ' clash once stripped; the error had named only 'A', so the user could not see which rows
    clash or why."""
    from planner.errors import InputError
    from planner.inputs.validate import check_ids

    frame = pd.DataFrame({"region_id": ["A", "B", "A ", "C", "C"]})
    with pytest.raises(InputError, match=r"duplicated ids A in rows 1, 3, written 'A', 'A ': ids are compared "
                                         r"without spaces around them and in Unicode NFC; 1 more id is duplicated"):
        check_ids(frame, "region_id", tmp_path / "r.csv", "region")


def test_ids_longer_than_a_workbook_cell_holds_are_refused(tmp_path):
    """results.xlsx cut a 40,000-character id to 32,767 without a word (two such ids then read as one)."""
    from planner.errors import InputError
    from planner.inputs.validate import check_ids

    longest = "L" * 32_767
    assert check_ids(pd.DataFrame({"id": [longest]}), "id", tmp_path / "r.csv", "region").tolist() == [longest]
    with pytest.raises(InputError, match=r"column 'id' has ids longer than 32,767 characters in rows 2 "):
        check_ids(pd.DataFrame({"id": ["a", "L" * 40_000]}), "id", tmp_path / "r.csv", "region")


def test_ids_differing_only_in_their_unicode_form_are_shown_escaped(tmp_path):
    import unicodedata

    from planner.errors import InputError
    from planner.inputs.validate import check_ids

    frame = pd.DataFrame({"id": ["São", unicodedata.normalize("NFD", "São")]})
    with pytest.raises(InputError, match=r"written 'São', 'Sa\\u0303o'"):
        check_ids(frame, "id", tmp_path / "r.csv", "region")


def test_regions_numbered_by_row_name_code_columns_not_demand_or_coordinates(tmp_path, caplog):
    """The warning named a product's own demand column ('units_a') as a possible id."""
    import geopandas as gpd
    from shapely.geometry import Point

    from planner.inputs.regions import _numbered_like_ids

    frame = gpd.GeoDataFrame({"nr": [3, 1, 2], "units_a": [10, 20, 30], "x": [1, 2, 3], "share": [0.5, 0.2, 0.1]},
                             geometry=[Point(0, 0), Point(1, 1), Point(2, 2)])
    assert _numbered_like_ids(frame, {None, "units_a"}) == ", not as column 'nr'"
    assert _numbered_like_ids(frame.drop(columns="nr"), {"units_a"}) == ""
