"""Bad input on the command line: one ``error: ...`` line on stderr, exit code 2, nothing written.

Every case runs ``planner solve --quiet`` on a tiny instance built in ``tmp_path`` (four 0.1° squares
at the equator, one product, one facility type) with one thing broken, and checks that

* the exit code is 2 (1 for an instance that cannot be feasible),
* stderr is exactly one line starting with ``error: `` that names the file/column/row/key and says
  how to fix it (no traceback),
* stdout is empty, the ``--out`` folder does not exist and no ``.<out>.tmp-*`` folder is left beside it.

``--quiet`` keeps the progress log (info level) off stderr; warnings the planner logs on purpose
still appear there.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from shapely.geometry import Polygon, box

from planner.cli import main

SIDE_DEG = 0.1  # side of a region square, degrees (about 11 km at the equator)

MODEL = """\
name = "tiny"
currency = "USD"
carbon_price = 10.0                 # USD/t CO2

[regions]
path = "regions.geojson"
id_column = "rid"
demand_column = "pop"

[products.widget]
demand_rate = 1.0                   # units/yr per unit of pop
unmet_penalty_per_unit = 1000.0     # USD/unit

[transport.widget]
cost_per_unit_km = 0.1              # USD/unit-km
co2_kg_per_unit_km = 1.0
max_distance_km = 100.0

[facility_types.plant]
opening_cost_per_yr = 500.0         # USD/yr
module_cost_per_yr = 10.0           # USD/yr per module
module_capacity_per_yr = 300.0      # units/yr per module
max_modules = 2
candidates = { top_n = 2 }          # the two regions with the largest pop

[facility_types.plant.products.widget]
cost_per_unit = 2.0                 # USD/unit
co2_kg_per_unit = 1.0
"""

PENALTY_LINE = "unmet_penalty_per_unit = 1000.0     # USD/unit\n"


def regions_frame(**columns) -> gpd.GeoDataFrame:
    """Four squares a, b, c, d near (0°, 0°) with pop 100, 200, 50, 80; ``columns`` replace or add columns."""
    frame = gpd.GeoDataFrame(
        {"rid": ["a", "b", "c", "d"], "pop": [100.0, 200.0, 50.0, 80.0], "state": ["X", "X", "Y", "Y"]},
        geometry=[box(0.0, 0.0, 0.1, 0.1), box(0.2, 0.0, 0.3, 0.1), box(0.0, 0.2, 0.1, 0.3), box(0.2, 0.2, 0.3, 0.3)],
        crs="EPSG:4326",
    )
    for name, values in columns.items():
        frame[name] = values
    return frame


def with_far_region(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add region 'far' at 5° E (about 550 km from the others, beyond the 100 km radius), pop 10."""
    far = gpd.GeoDataFrame({"rid": ["far"], "pop": [10.0], "state": ["Z"]}, geometry=[box(5.0, 0.0, 5.1, 0.1)],
                           crs="EPSG:4326")
    return pd.concat([frame, far], ignore_index=True)


def write_instance(tmp_path: Path, frame: gpd.GeoDataFrame | None = None, model: str = MODEL) -> Path:
    """Write regions.geojson and model.toml into ``tmp_path``; return the model path."""
    (regions_frame() if frame is None else frame).to_file(tmp_path / "regions.geojson", driver="GeoJSON")
    path = tmp_path / "model.toml"
    path.write_text(model, encoding="utf-8")
    return path


def run_solve(tmp_path: Path, *args: str, model: Path | None = None, out: Path | None = None) -> Result:
    model = model or tmp_path / "model.toml"
    out = out or tmp_path / "out"
    return CliRunner().invoke(main, ["solve", *args, "--model", str(model), "--out", str(out), "--quiet"])


def assert_clean_failure(result: Result, out: Path, *fragments: str, exit_code: int = 2) -> str:
    """One ``error:`` line holding every fragment, the exit code, no output folder; returns the line."""
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), (
        f"traceback instead of one line: {result.exception!r}\n{result.stderr}"
    )
    assert result.exit_code == exit_code, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"stderr is not one line:\n{result.stderr}"
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    assert result.stdout == ""
    assert not out.exists(), f"{out} was written"
    assert not list(out.parent.glob(f".{out.name}.tmp-*")), "a staging folder was left behind"
    return lines[0]


# --- regions file ---------------------------------------------------------------------------------


def test_missing_regions_file(tmp_path):
    model = write_instance(tmp_path)
    result = run_solve(tmp_path, str(tmp_path / "nowhere.geojson"), model=model)
    assert_clean_failure(result, tmp_path / "out", "nowhere.geojson", "not found", "pass an existing file")


def test_regions_path_of_model_file_missing(tmp_path):
    model = write_instance(tmp_path, model=MODEL.replace('path = "regions.geojson"', 'path = "gone.geojson"'))
    assert_clean_failure(run_solve(tmp_path, model=model), tmp_path / "out", "gone.geojson", "not found")


def test_no_regions_file_given(tmp_path):
    model = write_instance(tmp_path, model=MODEL.replace('path = "regions.geojson"\n', ""))
    assert_clean_failure(run_solve(tmp_path, model=model), tmp_path / "out", "no regions file", "regions.path")


@pytest.mark.parametrize("content", [b"", b"garbage{", b"\x00\x01\x02"], ids=["empty", "text", "binary"])
def test_unreadable_regions_file(tmp_path, content):
    model = write_instance(tmp_path)
    bad = tmp_path / "bad.geojson"
    bad.write_bytes(content)
    expected = "the regions file is empty (0 bytes)" if not content else "cannot read"  # not "cannot read" it
    assert_clean_failure(run_solve(tmp_path, str(bad), model=model), tmp_path / "out", "bad.geojson", expected)


def test_regions_path_is_a_folder(tmp_path):
    model = write_instance(tmp_path)
    (tmp_path / "folder.geojson").mkdir()
    result = run_solve(tmp_path, str(tmp_path / "folder.geojson"), model=model)
    assert_clean_failure(result, tmp_path / "out", "folder.geojson", "is a folder")


def test_regions_table_without_coordinates(tmp_path):
    model = write_instance(tmp_path)
    table = tmp_path / "regions.csv"
    table.write_text("rid,pop\na,100\nb,200\n", encoding="utf-8")
    assert_clean_failure(
        run_solve(tmp_path, str(table), model=model), tmp_path / "out", "regions.csv", "no coordinate columns",
        "--lon-column",
    )


def test_regions_without_crs(tmp_path):
    model = write_instance(tmp_path)
    path = tmp_path / "nocrs.gpkg"
    with warnings.catch_warnings():
        # pyogrio warns that a frame without CRS is written without one: that is the point here
        warnings.filterwarnings("ignore", message=".*'crs' was not provided.*", category=UserWarning)
        regions_frame().set_crs(None, allow_override=True).to_file(path, driver="GPKG")
    assert gpd.read_file(path).crs is None
    line = assert_clean_failure(run_solve(tmp_path, str(path), model=model), tmp_path / "out", "nocrs.gpkg", "no CRS")
    assert "give it with --crs" in line
    result = run_solve(tmp_path, str(path), "--crs", "EPSG:4326", model=model)  # the fix the line gives works
    assert result.exit_code == 0, result.stderr


def test_empty_regions_dataset(tmp_path):
    model = write_instance(tmp_path, regions_frame().iloc[:0])
    assert_clean_failure(run_solve(tmp_path, model=model), tmp_path / "out", "regions.geojson", "no rows")


# --- ids --------------------------------------------------------------------------------------------


def test_missing_id_column(tmp_path):
    model = write_instance(tmp_path, regions_frame().drop(columns="rid"))
    assert_clean_failure(run_solve(tmp_path, model=model), tmp_path / "out", "regions.geojson", "'rid'",
                         "not found", "--id-column")


def test_id_column_option_names_missing_column(tmp_path):
    model = write_instance(tmp_path)
    result = run_solve(tmp_path, "--id-column", "GEOID", model=model)
    assert_clean_failure(result, tmp_path / "out", "'GEOID'", "not found", "available: rid")


@pytest.mark.parametrize("bad_id", [None, "", "  "], ids=["null", "empty", "blank"])
def test_empty_region_id(tmp_path, bad_id):
    model = write_instance(tmp_path, regions_frame(rid=["a", "b", bad_id, "d"]))
    assert_clean_failure(run_solve(tmp_path, model=model), tmp_path / "out", "regions.geojson", "'rid'",
                         "rows 3", "give every region an id")


def test_duplicated_region_ids(tmp_path):
    model = write_instance(tmp_path, regions_frame(rid=["a", "b", "a", "d"]))
    assert_clean_failure(run_solve(tmp_path, model=model), tmp_path / "out", "regions.geojson", "'rid'",
                         "duplicated ids a", "must be unique")


# --- demand -----------------------------------------------------------------------------------------


def test_missing_demand_column(tmp_path):
    model = write_instance(tmp_path, regions_frame().drop(columns="pop"))
    assert_clean_failure(run_solve(tmp_path, model=model), tmp_path / "out", "regions.geojson", "'pop'",
                         "not found", "--demand-column")


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (["100", "200", "lots", "80"], "is not a number"),
        ([100.0, 200.0, -5.0, 80.0], "is negative"),
        ([100.0, 200.0, None, 80.0], "is missing (NaN)"),
    ],
    ids=["non-numeric", "negative", "nan"],
)
def test_bad_demand_value(tmp_path, values, problem):
    model = write_instance(tmp_path, regions_frame(pop=values))
    assert_clean_failure(run_solve(tmp_path, model=model), tmp_path / "out", "regions.geojson", "'pop'",
                         problem, "rows 3", "give a number ≥ 0")


def test_bad_demand_row_is_the_file_row_after_select(tmp_path):
    # c is the 3rd row of the file and the 1st row of state Y
    model = write_instance(tmp_path, regions_frame(pop=[100.0, 200.0, -5.0, 80.0]))
    result = run_solve(tmp_path, "--select", "state=Y", model=model)
    assert_clean_failure(result, tmp_path / "out", "'pop'", "is negative", "rows 3")


def test_select_matching_nothing(tmp_path):
    model = write_instance(tmp_path)
    result = run_solve(tmp_path, "--select", "state=Q", model=model)
    assert_clean_failure(result, tmp_path / "out", "regions.geojson", "state=Q", "matches no region")


@pytest.mark.parametrize(("values", "fragments"), [
    ("X,Q", ["state=Q matches no region;"]),  # the plan would silently leave out what Q was meant to be
    ("X,y", ["state=y matches no region (did you mean 'Y'?)"]),
])
def test_select_with_one_value_matching_nothing_is_refused(tmp_path, values, fragments):
    model = write_instance(tmp_path)
    result = run_solve(tmp_path, "--select", f"state={values}", model=model)
    assert_clean_failure(result, tmp_path / "out", "regions.geojson", *fragments)


def test_select_of_a_code_without_its_leading_zeros_names_the_code(tmp_path):
    """A FIPS code typed as the number Excel shows ('1001' for '01001') had matched nothing with no hint."""
    model = write_instance(tmp_path, regions_frame(county=["01001", "01003", "37119", "37183"]))
    result = run_solve(tmp_path, "--select", "county=1001", model=model)
    assert_clean_failure(result, tmp_path / "out", "regions.geojson", "county=1001 matches no region (did you mean "
                         "'01001'? codes are compared with their leading zeros)")


def test_select_filters_that_match_only_apart_name_the_combination(tmp_path):
    """state=X matches a and b, rid=c matches c: each matches on its own, together nothing."""
    model = write_instance(tmp_path)
    result = run_solve(tmp_path, "--select", "state=X", "--select", "rid=c", model=model)
    assert_clean_failure(result, tmp_path / "out", "regions.geojson",
                         "no region matches all of --select state=X and --select rid=c together",
                         "alone they match 2, 1 regions")


def test_select_matches_ids_in_either_unicode_form(tmp_path):
    """'Zürich' with ü as u + combining diaeresis in the file, typed with the one-character ü (NFC)."""
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "Zürich")
    model = write_instance(tmp_path, regions_frame(rid=["a", "b", decomposed, "d"]))
    result = run_solve(tmp_path, "--select", f"rid={unicodedata.normalize('NFC', 'Zürich')},a", model=model)
    assert result.exit_code == 0, result.output


# --- geometries -------------------------------------------------------------------------------------

BOW_TIE = Polygon([(0.0, 0.2), (0.1, 0.3), (0.1, 0.2), (0.0, 0.3), (0.0, 0.2)])  # self-intersecting
FLAT = Polygon([(0.0, 0.2), (0.05, 0.25), (0.1, 0.3), (0.0, 0.2)])  # collinear: no area, repairs to a line


@pytest.mark.slow  # in the whole suite only: the fast subset measured 193.6 s on a slow day
def test_bow_tie_polygon_is_repaired_with_a_warning(tmp_path):
    frame = regions_frame()
    frame.loc[2, "geometry"] = BOW_TIE
    model = write_instance(tmp_path, frame)
    result = run_solve(tmp_path, model=model)
    assert result.exit_code == 0, result.stderr
    assert "repaired 1 invalid geometries (rows 3)" in result.stderr
    assert (tmp_path / "out" / "summary.json").exists()
    regions = pd.read_csv(tmp_path / "out" / "regions.csv", dtype={"region_id": str})
    assert sorted(regions["region_id"]) == ["a", "b", "c", "d"]


def test_unrepairable_geometry(tmp_path):
    frame = regions_frame()
    frame.loc[2, "geometry"] = FLAT
    model = write_instance(tmp_path, frame)
    assert_clean_failure(run_solve(tmp_path, model=model), tmp_path / "out", "regions.geojson", "rows 3",
                         "cannot be repaired")


def test_missing_geometry(tmp_path):
    frame = regions_frame()
    frame.loc[1, "geometry"] = None
    model = write_instance(tmp_path, frame)
    assert_clean_failure(run_solve(tmp_path, model=model), tmp_path / "out", "regions.geojson", "rows 2",
                         "no geometry")


# --- model file -------------------------------------------------------------------------------------


def test_model_file_missing(tmp_path):
    write_instance(tmp_path)
    result = run_solve(tmp_path, model=tmp_path / "absent.toml")
    assert_clean_failure(result, tmp_path / "out", "absent.toml", "model file not found", "--model")


def test_invalid_toml(tmp_path):
    line = MODEL.splitlines().index("[transport.widget]") + 1
    model = write_instance(tmp_path, model=MODEL.replace("[transport.widget]", "[transport.widget"))
    assert_clean_failure(run_solve(tmp_path, model=model), tmp_path / "out", "model.toml", "not valid TOML",
                         f"line {line}", "fix the syntax")


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        pytest.param("module_cost_per_yr", "module_cost_per_yer",
                     ["key 'facility_types.plant.module_cost_per_yer'", "unknown key", "spelling"], id="typo"),
        pytest.param(
            "opening_cost_per_yr", "opening_cost_per_yer",
            ["key 'facility_types.plant.opening_cost_per_yer'", "unknown key", "spelling"],
            id="typo-of-required-key"
        ),
        pytest.param('currency = "USD"', 'currency = "USD"\ncolour = "red"',
                     ["key 'colour'", "unknown key"], id="unknown-top-level"),
        pytest.param("opening_cost_per_yr = 500.0", "opening_cost_per_yr = -500.0",
                     ["key 'facility_types.plant.opening_cost_per_yr'", "greater than or equal to 0", "-500"],
                     id="negative-cost"),
        pytest.param("cost_per_unit_km = 0.1", "cost_per_unit_km = -0.1",
                     ["key 'transport.widget.cost_per_unit_km'", "greater than or equal to 0"],
                     id="negative-transport-cost"),
        pytest.param("module_capacity_per_yr = 300.0", "module_capacity_per_yr = -300.0",
                     ["key 'facility_types.plant.module_capacity_per_yr'", "greater than 0"],
                     id="negative-capacity"),
        pytest.param("opening_cost_per_yr = 500.0", 'opening_cost_per_yr = "cheap"',
                     ["key 'facility_types.plant.opening_cost_per_yr'", "'cheap'"], id="mistyped-value"),
        pytest.param("[facility_types.plant.products.widget]", "[facility_types.plant.products.gizmo]",
                     ["facility_types.plant.products", "['gizmo'] are not products", "known: ['widget']"],
                     id="unknown-product"),
        pytest.param("opening_cost_per_yr = 500.0         # USD/yr\n", "",
                     ["key 'facility_types.plant.opening_cost_per_yr'", "required key is missing"], id="missing-key"),
        pytest.param("[facility_types.plant.products.widget]",
                     "[network]\nmin_facilities = 5\nmax_facilities = 2\n\n[facility_types.plant.products.widget]",
                     ["key 'network'", "max_facilities (2) < min_facilities (5); raise max_facilities or lower "
                      "min_facilities"], id="min-above-max-facilities"),
        pytest.param("[facility_types.plant]\n",
                     "[network]\nmax_facilities = 1\n\n[facility_types.plant]\nmin_count = 2\n",
                     ["max_facilities (1) < the facility types' min_count together (2); raise max_facilities or lower "
                      "min_count"], id="type-minimums-above-max"),
        pytest.param("[facility_types.plant]\n", "[facility_types.plant]\nmin_count = 3\nmax_count = 1\n",
                     ["key 'facility_types.plant'",
                      "max_count (1) < min_count (3); raise max_count or lower min_count"],
                     id="type-minimum-above-its-maximum"),
    ],
)
def test_bad_model_file(tmp_path, old, new, fragments):
    assert old in MODEL
    model = write_instance(tmp_path, model=MODEL.replace(old, new, 1))
    assert_clean_failure(run_solve(tmp_path, model=model), tmp_path / "out", "model.toml", *fragments)


def test_unknown_product_error_does_not_dump_the_model_file(tmp_path):
    model = write_instance(tmp_path, model=MODEL.replace("[facility_types.plant.products.widget]",
                                                         "[facility_types.plant.products.gizmo]"))
    line = assert_clean_failure(run_solve(tmp_path, model=model), tmp_path / "out", "['gizmo'] are not products")
    assert "(top level)" not in line
    assert "'name': 'tiny'" not in line


def test_validate_bad_input_ends_with_one_error_line(tmp_path):
    # validate has no --quiet: its progress lines come first, then exactly one error line
    model = write_instance(tmp_path, regions_frame(pop=[100.0, 200.0, -5.0, 80.0]))
    result = CliRunner().invoke(main, ["validate", "--model", str(model)])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("error: ") and "'pop' is negative in rows 3" in lines[-1]
    assert all(re.match(r"\[ *[0-9.]+s\] info ", line) for line in lines[:-1]), result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


# --- sites and OD matrix ----------------------------------------------------------------------------


def write_sites(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "sites.csv"
    path.write_text("site_id,lon,lat,facility_types\n" + rows, encoding="utf-8")
    return path


def test_site_ids_not_unique(tmp_path):
    model = write_instance(tmp_path)
    sites = write_sites(tmp_path, "s1,0.05,0.05,plant\ns1,0.25,0.05,plant\n")
    result = run_solve(tmp_path, "--sites", str(sites), model=model)
    assert_clean_failure(result, tmp_path / "out", "sites.csv", "'site_id'", "duplicated ids s1", "must be unique")


def test_site_of_unknown_facility_type(tmp_path):
    model = write_instance(tmp_path)
    sites = write_sites(tmp_path, "s1,0.05,0.05,plant\ns2,0.25,0.05,warehouse\n")
    result = run_solve(tmp_path, "--sites", str(sites), model=model)
    assert_clean_failure(result, tmp_path / "out", "sites.csv", "'facility_types'", "row 2", "['warehouse']",
                         "fix the name")


def test_od_matrix_missing_pairs(tmp_path):
    model = write_instance(tmp_path)
    sites = write_sites(tmp_path, "s1,0.05,0.05,plant\n")
    od = tmp_path / "od.csv"
    od.write_text("from,to,distance_km\ns1,a,1\ns1,b,20\ns1,c,20\n", encoding="utf-8")  # no s1 -> d
    result = run_solve(tmp_path, "--sites", str(sites), "--od-matrix", str(od), model=model)
    assert_clean_failure(result, tmp_path / "out", "od.csv", "lacks 1 site->region pairs", "s1->d",
                         "add a row for every")


def test_od_matrix_with_a_typo_names_the_unknown_id_and_its_row(tmp_path):
    model = write_instance(tmp_path)
    sites = write_sites(tmp_path, "s1,0.05,0.05,plant\n")
    od = tmp_path / "od.csv"
    od.write_text("from,to,distance_km\ns1,a,1\ns1,b,20\ns1,c,20\ns1,D,20\n", encoding="utf-8")  # D: a typo of d
    result = run_solve(tmp_path, "--sites", str(sites), "--od-matrix", str(od), model=model)
    assert_clean_failure(result, tmp_path / "out", "od.csv", "lacks 1 site->region pairs", "s1->d",
                         "; if a pair is there under another spelling: 'to' in rows 4 ('D') is no region id of this "
                         "run (rows of other ids are otherwise allowed and not read)")


def test_od_matrix_missing_pairs_of_one_type_name_the_type_and_no_known_site_as_unknown(tmp_path):
    """Two types at separate sites; the OD matrix lacks depot s2's pairs to c and d. The message named
    plant site s1 "no site id of this run" (only the type's own sites counted as known)."""
    depot = MODEL.split("[facility_types.plant]")[1].replace("plant.products", "depot.products")
    model = write_instance(tmp_path, model=MODEL + "\n[facility_types.depot]" + depot)
    sites = write_sites(tmp_path, "s1,0.05,0.05,plant\ns2,0.25,0.05,depot\n")
    od = tmp_path / "od.csv"
    rows = [f"s1,{r},5" for r in "abcd"] + ["s2,a,5", "s2,b,5"]
    od.write_text("from,to,distance_km\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = run_solve(tmp_path, "--sites", str(sites), "--od-matrix", str(od), model=model)
    line = assert_clean_failure(result, tmp_path / "out", "od.csv", "lacks 2 site->region pairs of the depot "
                                "candidate sites", "s2->c")
    assert "no site id" not in line


# --- output folder ----------------------------------------------------------------------------------


def test_out_under_a_regular_file(tmp_path):
    model = write_instance(tmp_path)
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder", encoding="utf-8")
    out = blocker / "out"
    result = run_solve(tmp_path, model=model, out=out)
    assert_clean_failure(result, out, "blocker/out", "not writable", "choose another --out")
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_out_is_a_regular_file(tmp_path):
    model = write_instance(tmp_path)
    out = tmp_path / "out"
    out.write_text("keep me", encoding="utf-8")
    result = run_solve(tmp_path, model=model, out=out)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: {out}: exists and is not a folder; choose another --out"]
    assert out.read_text(encoding="utf-8") == "keep me"
    assert not list(tmp_path.glob(".out.tmp-*"))


# --- regions beyond every delivery radius -----------------------------------------------------------


def test_must_serve_region_beyond_every_radius_is_infeasible(tmp_path):
    model = write_instance(tmp_path, with_far_region(regions_frame()), MODEL.replace(PENALTY_LINE, ""))
    line = assert_clean_failure(run_solve(tmp_path, model=model), tmp_path / "out", "product 'widget'",
                                "regions far", "unmet_penalty_per_unit", exit_code=1)
    assert "widen the radius or set a penalty" in line


@pytest.mark.slow  # in the whole suite only: the fast subset measured 193.6 s on a slow day
def test_region_beyond_every_radius_with_penalty_stays_unmet(tmp_path):
    model = write_instance(tmp_path, with_far_region(regions_frame()))
    result = run_solve(tmp_path, model=model)
    assert result.exit_code == 0, result.stderr
    warning = result.stderr.splitlines()
    assert len(warning) == 1 and " warning " in warning[0]
    assert "product 'widget': 1 regions (far)" in warning[0] and "stay unmet (10 units/yr)" in warning[0]
    regions = pd.read_csv(tmp_path / "out" / "regions.csv", dtype={"region_id": str}).set_index("region_id")
    assert regions.loc["far", "unmet"] == pytest.approx(10.0)
    assert regions.loc["far", "served"] == pytest.approx(0.0)
    assert regions.loc["far", "unmet_cost"] == pytest.approx(10.0 * 1000.0)
    assert regions.drop(index="far")["unmet"].sum() == pytest.approx(0.0)


def test_a_region_needing_more_than_the_sites_within_reach_is_named_before_solving():
    """Region r0 (demand 50) is reached only by site s0 (capacity 40; s1's arc is beyond the radius):
    infeasible though the sites together hold 80 for the 60 of demand; the screening names r0 and 40."""
    import dataclasses

    import numpy as np

    from planner.errors import InfeasibleError
    from planner.inputs.screen import screen_problem
    from planner.problem import ARC_FIELDS
    from tests.builders import dense_problem

    problem = dense_problem(demand=[50, 10], opening_cost=[1, 1], capacity=[40, 40], unit_cost=[[1, 1], [1, 1]])
    keep = ~((problem.arc_option == 1) & (problem.arc_region == 0))  # s1 cannot reach r0
    problem = dataclasses.replace(problem, **{name: getattr(problem, name)[keep] for name in ARC_FIELDS})
    with pytest.raises(InfeasibleError, match=r"'r0' needs 50 units/yr of 'p' but the 1 site\(s\) that can reach it "
                                              r"make at most 40; raise"):
        screen_problem(problem)
    roomy = dataclasses.replace(problem, module_capacity=np.array([60.0, 40.0]))
    screen_problem(roomy)  # 50 fits s0's 60: no error


@pytest.mark.parametrize("command", [["solve"], ["sweep", "--vary", "carbon_price=0,10", "--workers", "1"]])
def test_a_failed_run_leaves_no_folder_it_made_for_its_output(tmp_path, command):
    """--out a/b/out with a demand column the file lacks: exit 2, and neither out nor a/b is left."""
    model = write_instance(tmp_path)
    out = tmp_path / "a" / "b" / "out"
    result = CliRunner().invoke(main, [*command, "--model", str(model), "--demand-column", "nosuch", "--out", str(out),
                                       "--quiet"])
    assert_clean_failure(result, out, "column 'nosuch' not found")
    assert not (tmp_path / "a").exists()


@pytest.mark.slow  # a few seconds: in the whole suite only (the fast subset neared 180 s)
def test_a_sweep_whose_every_scenario_fails_on_the_files_exits_2_with_the_error(tmp_path):
    """An OD matrix that lacks a pair fails every scenario the same way: the sweep says so in one line
    with exit 2, as solve does, not exit 1 with a table of failures only."""
    model = write_instance(tmp_path)
    ids = ["a", "b", "c", "d"]
    od = tmp_path / "od.csv"
    od.write_text("from,to,distance_km\n" + "".join(f"{i},{j},10\n" for i in ids for j in ids if (i, j) != ("b", "c")))
    result = CliRunner().invoke(main, ["sweep", "--vary", "carbon_price=0,10", "--workers", "1", "--model", str(model),
                                       "--od-matrix", str(od), "--out", str(tmp_path / "sw"), "--quiet"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {od}: OD matrix lacks 1 site->region pairs")


def test_a_missing_demand_column_is_not_first_announced_as_read(tmp_path):
    """A user's file with --demand-column naming no column: a warning said "demand from column 'units'",
    then the error said column 'units' was not found."""
    write_instance(tmp_path)
    (tmp_path / "stores.csv").write_text("store_id,lon,lat,sales\nA,10,50,5\nB,11,51,6\n", encoding="utf-8")
    result = run_solve(tmp_path, str(tmp_path / "stores.csv"), "--demand-column", "units")
    assert result.exit_code == 2 and "column 'units' not found" in result.stderr
    assert "from column 'units'" not in result.stderr
