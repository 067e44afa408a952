"""Text files from other tools and countries (a review of encodings, locales and file shapes): rows with a
field more than the header, numbers grouped with dots, names in other Unicode forms."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planner.errors import InputError
from planner.inputs.scenarios import read_scenarios
from planner.inputs.tables import read_table


@pytest.mark.parametrize("header, rows", [
    # the demand written with an unquoted thousands separator, in the middle or as the last column
    ("region_id,name,demand,lon,lat", ["A1,Muenchen,12,345,11.58,48.14", "A2,Lodz,2,500,19.46,51.76"]),
    ("region_id,name,lon,lat,demand", ["A1,Muenchen,11.58,48.14,12,345", "A2,Lodz,19.46,51.76,2,500"]),
])
def test_rows_with_a_field_more_than_the_header_are_refused_naming_the_line(tmp_path, header, rows):
    """pandas took the first column for an index and shifted every column by one: ids read as names, the
    demand as its last three digits (845 units/yr for 47,845), exit 0."""
    path = tmp_path / "r.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"r.csv: the rows have 6 fields and the header 5 \(line 2: 'A1,Muenchen,"):
        read_table(path, "regions", "REGIONS")


def test_a_separator_left_at_the_end_of_every_row_is_left_out(tmp_path):
    """A trailing separator on the data rows only: the sites file ended in an internal error (TypeError) and
    the scenario file too; codes with leading zeros stay as written."""
    path = tmp_path / "s.csv"
    path.write_text("site_id,lon,lat\n007,8.54,47.37,\n012,8.6,47.4,\n", encoding="utf-8")
    table = read_table(path, "sites", "--sites", text_columns=["site_id"], codes=True)
    assert table.to_dict("list") == {"site_id": ["007", "012"], "lon": [8.54, 8.6], "lat": [47.37, 47.4]}
    scenarios = tmp_path / "sc.csv"
    scenarios.write_text("scenario,region,product,demand,probability\nlow,007,p,10,0.5,\nhigh,007,p,20,0.5,\n",
                         encoding="utf-8")
    read = read_scenarios(scenarios, np.array(["007"], dtype=object), ("p",))
    assert sorted(read.ids) == ["high", "low"]


def _regions(path: Path, values, sep: str) -> Path:
    rows = [f"r{i}{sep}{8 + i / 10}{sep}{48 + i / 10}{sep}{value}" for i, value in enumerate(values)]
    path.write_text("\n".join([sep.join(["id", "lon", "lat", "pop"]), *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("values, sep", [
    (["850", "420", "1.250", "300", "12.345", "600", "75", "990"], ";"),  # most below 1,000: two grouped
    (["12.345", "2.500", "9.876", "4.100"], "\t"),  # Excel's "Text (tab-delimited)"
])
def test_dots_that_may_group_thousands_warn_also_when_few_or_in_a_tab_file(tmp_path, caplog, values, sep):
    """Only ';' files where most values were grouped had been warned about: 3,249 units/yr read for 16,830."""
    from planner.inputs.validate import dot_grouped_columns

    path = _regions(tmp_path / "r.txt", values, sep)
    assert dot_grouped_columns(path, ["pop"]) == ["pop"]
    assert dot_grouped_columns(_regions(tmp_path / "fractions.csv", ["0.125", "2", "3"], ";"), ["pop"]) == []


def test_dots_that_may_group_thousands_in_scenario_and_supplier_files_warn(tmp_path, caplog):
    """Both readers took 9.876 and 150.000 for decimals without a word (the plan built nothing, exit 0)."""
    import logging

    from planner.inputs.suppliers import read_suppliers

    scenarios = tmp_path / "sc.csv"
    scenarios.write_text("scenario;region;product;demand;probability\nlow;a;p;9.876;0.3\nhigh;a;p;12.345;0.3\n"
                         "mid;a;p;11.000;0.4\n", encoding="utf-8")
    suppliers = tmp_path / "su.csv"
    suppliers.write_text("supplier_id;material;lon;lat;capacity_per_yr;cost_per_unit\n"
                         "S1;steel;7.0;51.4;150.000;0.905\nS2;steel;8.0;50.4;2.500;1.1\nS3;steel;9.0;50.4;800;1.2\n",
                         encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        read_scenarios(scenarios, np.array(["a"], dtype=object), ("p",))
        read_suppliers(suppliers)
    assert "sc.csv: column 'demand' holds numbers such as 12.345" in caplog.text
    assert "su.csv: column 'capacity_per_yr' holds numbers such as 12.345" in caplog.text


def test_a_product_named_in_another_unicode_form_in_the_scenario_file_is_that_product(tmp_path):
    """The model's 'Bürostuhl' decomposed (as text copied on macOS), the file's byte for byte the same: the
    reader composes the file's names, and had then called it unknown ("known products: Bürostuhl")."""
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "Bürostuhl")
    path = tmp_path / "sc.csv"
    path.write_text(f"scenario,region,product,demand,probability\nlow,a,{decomposed},10,1\n", encoding="utf-8")
    scenarios = read_scenarios(path, np.array(["a"], dtype=object), (decomposed,))
    assert scenarios.demand.sum() == 10


def test_a_facility_type_named_in_another_unicode_form_in_the_sites_file_is_that_type(tmp_path):
    import unicodedata

    import pandas as pd

    from planner.inputs.prepare import site_types
    from tests.builders import equator_regions, tiny_config

    composed = "Mikro Süd"
    config = tiny_config(equator_regions(tmp_path / "r.geojson", [0, 1], [10, 20]),
                         facility_types={composed: {"opening_cost_per_yr": 1.0,
                                                    "products": {"standard": {"cost_per_unit": 1.0}}}})
    frame = pd.DataFrame({"site_id": ["s"], "facility_types": [unicodedata.normalize("NFD", composed)]})
    assert site_types(frame, Path("sites.csv"), config) == [(composed,)]


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_a_shapefile_without_its_code_page_file_keeps_its_names(tmp_path, encoding):
    """A UTF-8 Shapefile without its .cpg read as Latin-1: 'München' was 'MÃ¼nchen' in every output."""
    import warnings

    import geopandas as gpd
    from shapely.geometry import Point

    from planner.inputs.vector import read_vector

    frame = gpd.GeoDataFrame({"id": ["a", "b"], "name": ["München", "Köln"], "demand": [10, 20]},
                             geometry=[Point(11, 48), Point(7, 51)], crs="EPSG:4326")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame.to_file(tmp_path / "r.shp", encoding=encoding)
    for sidecar in tmp_path.glob("*.cpg"):
        sidecar.unlink()
    assert read_vector(tmp_path / "r.shp", None, "regions", "REGIONS")["name"].tolist() == ["München", "Köln"]
    import zipfile

    with zipfile.ZipFile(tmp_path / "r.zip", "w") as archive:  # zipped the same, without its .cpg
        for part in tmp_path.glob("r.*"):
            if part.suffix != ".zip":
                archive.write(part, part.name)
    assert read_vector(tmp_path / "r.zip", None, "regions", "REGIONS")["name"].tolist() == ["München", "Köln"]


def test_a_name_the_file_systems_encoding_cannot_write_is_one_line(tmp_path, monkeypatch):
    """LC_ALL=C (an ASCII file system encoding): a model named 椅子模型, written to results/椅子模型, had been an
    internal error (UnicodeEncodeError)."""
    import planner.export.folder as folder

    def ascii_only(text):
        return str(text).encode("ascii")

    monkeypatch.setattr(folder.os, "fsencode", ascii_only)
    with pytest.raises(InputError, match=r"the file system's encoding here .* cannot write this name"):
        folder.check_output_name(tmp_path / "椅子模型")


def test_region_names_that_look_like_numbers_are_kept_as_written(tmp_path):
    from planner.inputs.config import model_config_from_dict
    from planner.inputs.prepare import DataOptions, load_inputs

    path = tmp_path / "r.csv"
    path.write_text("region_id,label,lon,lat,demand\nA1,1.10,11.5,48.1,10\nA2,1E5,12.5,48.1,20\n", encoding="utf-8")
    config = model_config_from_dict({
        "name": "t", "regions": {"path": str(path)}, "products": {"p": {"unmet_penalty_per_unit": 10.0}},
        "transport": {"p": {"cost_per_unit_km": 0.01}},
        "facility_types": {"f": {"opening_cost_per_yr": 1.0, "products": {"p": {"cost_per_unit": 1.0}}}},
    })
    inputs = load_inputs(config, DataOptions())
    assert inputs.regions["label"].tolist() == ["1.10", "1E5"]


def test_a_byte_that_is_not_utf8_is_named_by_its_line(tmp_path):
    path = tmp_path / "r.csv"
    rows = "".join(f"r{i},Town number {i},8.5,47.5,{i}\n" for i in range(60_000))
    path.write_bytes(("id,name,lon,lat,demand\n" + rows).encode() + "x,K\xf6ln,8.5,47.5,1\n".encode("cp1252"))
    with pytest.raises(InputError, match=r"not UTF-8 text \(invalid start byte in line 60,002, byte [\d,]+\)"):
        read_table(path, "regions", "REGIONS")


def test_excels_separator_line_names_the_separator(tmp_path):
    """A first line 'sep=;' (Excel writes one): "no coordinate columns found; available: sep=;"."""
    path = tmp_path / "r.csv"
    path.write_text("sep=;\nid;lon;lat;pop\na;8.5;47;10\n", encoding="utf-8")
    assert read_table(path, "regions", "REGIONS").to_dict("list") == {"id": ["a"], "lon": [8.5], "lat": [47],
                                                                       "pop": [10]}


@pytest.mark.parametrize("name", ["std\nx", "std\tx", "std\x1bx"])
def test_a_product_name_with_a_line_break_or_tab_is_refused(name):
    """'demand std' / 'x: 47,845 ...': a line break in a product name split the console's one-line summary."""
    from planner.inputs.config import model_config_from_dict

    with pytest.raises(InputError, match="the name has control characters"):
        model_config_from_dict({
            "name": "t", "products": {name: {"unmet_penalty_per_unit": 10.0}},
            "transport": {name: {"cost_per_unit_km": 0.01}},
            "facility_types": {"f": {"opening_cost_per_yr": 1.0, "products": {name: {"cost_per_unit": 1.0}}}},
        })


def test_a_column_named_in_another_unicode_form_is_that_column(tmp_path):
    """The model's demand_column 'Bevölkerung' decomposed, the file's composed: "column 'Bevölkerung' not found
    ...; available: region_id, name, lon, lat, Bevölkerung"."""
    import unicodedata

    from planner.inputs.config import model_config_from_dict
    from planner.inputs.prepare import DataOptions, load_inputs

    path = tmp_path / "r.csv"
    path.write_text("region_id,lon,lat,Bevölkerung\nA1,11.5,48.1,10\nA2,12.5,48.1,20\n", encoding="utf-8")
    config = model_config_from_dict({
        "name": "t", "products": {"p": {"unmet_penalty_per_unit": 10.0}},
        "regions": {"path": str(path), "demand_column": unicodedata.normalize("NFD", "Bevölkerung")},
        "transport": {"p": {"cost_per_unit_km": 0.01}},
        "facility_types": {"f": {"opening_cost_per_yr": 1.0, "products": {"p": {"cost_per_unit": 1.0}}}},
    })
    assert load_inputs(config, DataOptions()).demand.sum() == 30


def test_a_value_after_a_trailing_separator_further_down_is_refused_naming_its_line(tmp_path):
    """Only the first 50 rows had been looked at: '12,345' in row 61 was read as 12, exit 0."""
    path = tmp_path / "r.csv"
    rows = "".join(f"r{i},0.005,0.5,10.5,\n" for i in range(60))
    path.write_text("id,lon,lat,demand\n" + rows + "x,0.7,0.5,12,345\n", encoding="utf-8")
    with pytest.raises(InputError, match="r.csv: data row 61 has more fields than the header's 4 .its value '345'"):
        read_table(path, "regions", "REGIONS")


def test_a_trailing_separator_with_whole_number_columns_read_as_codes(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("id,lon,lat,demand\na,0,0,10,\nb,1,0,20,\nc,2,0,30,\n", encoding="utf-8")
    table = read_table(path, "regions", "REGIONS", codes=True)
    assert table["demand"].tolist() == [10, 20, 30] and table["id"].tolist() == ["a", "b", "c"]


def test_row_names_as_r_writes_them_are_named_as_such(tmp_path):
    path = tmp_path / "r.tsv"
    path.write_text("id\tlon\tlat\tdemand\n1\tr0\t8.5\t47.5\t10\n2\tr1\t8.5\t47.5\t11\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"thousands separator .*; row names before each row \(R's write.table\)\? "
                                         "write them with row.names = FALSE"):
        read_table(path, "regions", "REGIONS")


def test_a_scenario_file_with_a_field_too_many_is_said_once(tmp_path):
    path = tmp_path / "sc.csv"
    path.write_text("scenario,region,product,demand,probability\ns1,a,p,12,345,0.5\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_scenarios(path, np.array(["a"], dtype=object), ("p",))
    assert str(caught.value).count("sc.csv") == 1 and "the rows have 6 fields and the header 5" in str(caught.value)


def test_cut_names_are_those_gdal_writes():
    from planner.inputs.regions import _cut_alike

    assert _cut_alike("populati_1", "population") and _cut_alike("populat_10", "population")
    assert not any(_cut_alike(name, "population") for name in ("pop_1", "p_2", "po_3", "popul_12"))


def test_two_scenarios_with_dot_grouped_demand_warn():
    """A low and a high scenario, 9.876 and 12.345: two values, both grouped."""
    import pandas as pd

    from planner.inputs.validate import _dot_grouped

    assert _dot_grouped(pd.Series(["9.876", "12.345"])) and not _dot_grouped(pd.Series(["1.375", "2"]))


def test_a_commented_out_row_is_named(tmp_path, caplog):
    """'# 00999,fake,0,0,99999' was read as a region (9 regions, demand 147,844) without a word."""
    import logging

    import geopandas as gpd
    from shapely.geometry import Point

    from planner.inputs.validate import warn_plausible_mistakes

    frame = gpd.GeoDataFrame({"id": ["a", "# b"]}, geometry=[Point(8, 47), Point(9, 47)], crs="EPSG:4326")
    with caplog.at_level(logging.WARNING):
        warn_plausible_mistakes(frame, Path("r.csv"), np.array([[10.0], [99999.0]]), ("pop",), np.array(["a", "# b"]))
    assert "the ids of rows 2 begin with '#'" in caplog.text


def test_figures_beside_each_other_in_a_message_are_plain():
    """'needs a capex of at least 4e+06 USD, but network.capex_budget is 1,000': one figure in scientific
    notation beside one in plain figures."""
    from planner.errors import digits_text, telling_digits

    assert digits_text(4e6, telling_digits(4e6, 1000.0)) == "4,000,000"
    assert (digits_text(3133584.444, 10), digits_text(3133584.44, 10)) == ("3,133,584.444", "3,133,584.44")
    assert digits_text(4.80247e12 + 1, telling_digits(4.80247e12 + 1, 4.80247e12)) == "4,802,470,000,001"
    assert digits_text(1e-12, 6) == "1e-12" and digits_text(0.03, 6) == "0.03"


@pytest.mark.parametrize("encoding, mark", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
                                            ("utf-32-le", b"\xff\xfe\x00\x00"), ("utf-16-le", b"")])
def test_a_table_in_utf16_or_utf32_with_its_byte_order_mark_is_read(tmp_path, encoding, mark):
    """Excel's "Unicode Text" (tab-separated UTF-16 with a byte-order mark, CRLF) was refused as "not UTF-8
    text"; the same table in UTF-8 and in the wide encodings (also without the mark) reads alike, scenario
    files too."""
    text = "id\tname\tlon\tlat\tpop\r\n007\tMünchen\t11.5\t48.1\t1.500\r\n012\tKöln\t6.96\t50.94\t2.250\r\n"
    wide = tmp_path / "unicode.txt"
    wide.write_bytes(mark + text.encode(encoding))
    plain = tmp_path / "plain.txt"
    plain.write_text(text, encoding="utf-8")
    read = read_table(wide, "regions", "REGIONS", text_columns=["id"], codes=True)
    assert read.equals(read_table(plain, "regions", "REGIONS", text_columns=["id"], codes=True))
    assert read["name"].tolist() == ["München", "Köln"] and read["id"].tolist() == ["007", "012"]
    from planner.inputs.validate import dot_grouped_columns

    assert dot_grouped_columns(wide, ["pop"]) == ["pop"]  # the warning reads it as the table is read
    scenarios = tmp_path / "scenarios.txt"
    rows = "scenario\tregion\tproduct\tdemand\tprobability\r\nlow\t007\tp\t10\t0.5\r\nhigh\t007\tp\t20\t0.5\r\n"
    scenarios.write_bytes(mark + rows.encode(encoding))
    assert sorted(read_scenarios(scenarios, np.array(["007"], dtype=object), ("p",)).ids) == ["high", "low"]


def test_a_byte_order_mark_before_text_of_another_encoding_is_one_line(tmp_path):
    path = tmp_path / "r.txt"
    path.write_bytes(b"\xff\xfe" + b"id\tpop\r\nA\t1\r\n")
    with pytest.raises(InputError, match=r"r.txt: not UTF-16 text, as its first bytes say .*save it as UTF-8"):
        read_table(path, "regions", "REGIONS")


def test_a_large_tables_dialect_is_probed_once_per_version(tmp_path, monkeypatch):
    """The reader, the header checks and the warnings each probed the separator again, and the check of a
    separator left at every row's end read a whole column each time (0.3 s on a 2-million-row OD matrix)."""
    from planner.inputs import tables

    tables._dialect_of_version.cache_clear()
    monkeypatch.setattr(tables, "DIALECT_CACHE_MIN_BYTES", 0)
    probes = []
    real = tables._dialect
    monkeypatch.setattr(tables, "_dialect", lambda path: probes.append(path) or real(path))
    path = tmp_path / "od.csv"
    path.write_text("origin_id;destination_id;distance_km\n1;2;3.5;\n", encoding="utf-8")
    first = tables.csv_dialect(path)
    first["nrows"] = 1  # a caller adding options changes no later answer
    assert tables.csv_dialect(path) == {k: v for k, v in first.items() if k != "nrows"} and len(probes) == 1
    assert tables.csv_dialect(path)["sep"] == ";" and "usecols" in tables.csv_dialect(path)
    path.write_text("origin_id,destination_id,distance_km\n1,2,3.5\n10,20,30.5\n", encoding="utf-8")
    assert tables.csv_dialect(path)["sep"] == "," and len(probes) == 2


@pytest.mark.parametrize("grouping", ["\u00a0", "\u202f", "\u2009", "\u2019"])
def test_digits_grouped_by_a_no_break_thin_space_or_apostrophe_get_the_thousands_hint(grouping):
    """French spreadsheets group digits with a no-break or narrow no-break space, Swiss ones with an
    apostrophe: the error said only "not a number"."""
    from planner.inputs.coordinates import decimal_comma_hint

    values = pd.Series([f"1{grouping}500{grouping}000", f"3{grouping}600"])
    assert decimal_comma_hint(values).startswith("; thousands separators are not read")


@pytest.mark.parametrize("first", ["# exported 2024", "Population by county;2020"])
def test_a_comment_line_above_the_header_is_refused_naming_it(tmp_path, first):
    """A line above the header with several fields fewer than the rows: the reader had ended with pandas' own
    words ('Setting a MultiIndex dtype to anything other than object is not supported') and "give a CSV"."""
    path = tmp_path / "c.csv"
    path.write_text(f"{first}\nregion_id,name,demand,lon,lat\nA1,Muenchen,12,11.58,48.14\nA2,Lodz,25,19.46,51.76\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match=r"c.csv: the rows have 5 fields and the header \d \(line 1: '"
                                         + first[:6] + r".*a title or comment line above the header\? remove it"):
        read_table(path, "regions", "REGIONS")
