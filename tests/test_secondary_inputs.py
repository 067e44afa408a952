"""The secondary files a user brings: the OD matrix (columns in another case, blank cells), the
suppliers (a blank material, coordinates far from all demand, too little of a material for the demand
that must be served) and a compare variant left without sites."""

import logging

import numpy as np
import pandas as pd
import pytest

from planner.errors import InfeasibleError, InputError
from planner.inputs.io import read_od_matrix
from planner.inputs.screen import check_material_supply
from planner.inputs.suppliers import read_suppliers
from planner.pipeline import sites_for_types
from tests.builders import dense_problem, with_supply
from tests.test_reader_defects import load, model_file, regions_csv


def test_an_od_column_in_another_case_is_refused_not_ignored(tmp_path):
    path = tmp_path / "od.csv"
    path.write_text("from,to,distance_km,Cost\ns1,a,10,0.01\n", encoding="utf-8")
    with pytest.raises(InputError, match="column 'Cost' is read only as 'cost'"):
        read_od_matrix(path)


def test_a_blank_od_distance_is_called_blank(tmp_path):
    path = tmp_path / "od.csv"
    path.write_text("from,to,distance_km\ns1,a,\ns1,b,4\n", encoding="utf-8")
    with pytest.raises(InputError, match="column 'distance_km' row 1 is blank: it must be a finite number"):
        read_od_matrix(path)


def test_a_blank_supplier_material_is_refused_with_its_row(tmp_path):
    path = tmp_path / "suppliers.csv"
    path.write_text("supplier_id,material,lon,lat\nA,,10.0,50.0\nB,steel,11.0,51.0\n", encoding="utf-8")
    with pytest.raises(InputError, match="column 'material' is empty in rows 1"):
        read_suppliers(path)


def test_suppliers_far_from_all_demand_are_named(tmp_path, caplog):
    regions = regions_csv(tmp_path / "r.csv")  # Australian cities
    suppliers = tmp_path / "suppliers.csv"
    suppliers.write_text("supplier_id,material,lon,lat\nnear,steel,150.0,-33.0\npolar,steel,-33.9,-80.0\n",
                         encoding="utf-8")  # -33.9, -80: a supplier's lat and lon swapped, lat then negated
    with caplog.at_level(logging.WARNING):
        load(model_file(tmp_path, regions), suppliers_path=str(suppliers))
    assert "suppliers polar are more than" in caplog.text


def test_too_little_of_a_material_for_the_demand_that_must_be_served_is_named():
    problem = dense_problem(demand=[100, 50], opening_cost=[0], capacity=[np.inf], unit_cost=[[0, 0]])
    short = with_supply(problem, bom=[[2.0]], supplier_material=[0, 0], capacity=[120.0, 170.0], price=[1, 1],
                        km=[[0.0], [0.0]], rate=0.0, material_ids=("steel",))
    with pytest.raises(InfeasibleError, match="material 'steel': .* needs 300 units/yr of it but all its suppliers "
                                              "together can ship at most 290"):
        check_material_supply(short)
    enough = with_supply(problem, bom=[[2.0]], supplier_material=[0, 0], capacity=[120.0, 180.0], price=[1, 1],
                         km=[[0.0], [0.0]], rate=0.0, material_ids=("steel",))
    check_material_supply(enough)
    penalised = with_supply(dense_problem(demand=[100, 50], opening_cost=[0], capacity=[np.inf], unit_cost=[[0, 0]],
                                          penalty=5.0),
                            bom=[[2.0]], supplier_material=[0], capacity=[1.0], price=[1], km=[[0.0]], rate=0.0)
    check_material_supply(penalised)  # unmet demand may stay unmet: no material is needed for it


def test_a_variant_left_without_sites_is_warned_about(caplog):
    sites = pd.DataFrame({"site_id": ["s1", "s2"], "types": [("micro",), ("micro",)], "forced": [False, False]})
    with caplog.at_level(logging.WARNING):
        assert sites_for_types(sites, ("central",), "central_only").empty
    assert "central_only: no site of the sites file allows its facility types (central)" in caplog.text


def test_with_the_types_listed_nothing_is_said(caplog):
    sites = pd.DataFrame({"site_id": ["s1"], "types": [("central",)], "forced": [False]})
    with caplog.at_level(logging.WARNING):
        assert len(sites_for_types(sites, ("central",), "central_only")) == 1
    assert caplog.text == ""



def test_arcs_beyond_the_memory_available_are_refused_in_one_line(monkeypatch):
    """50 million arcs (2,000 candidate sites × 25,000 regions, no delivery radius) had ended in a
    MemoryError or the out-of-memory killer."""
    import planner.inputs.prepare as prepare

    monkeypatch.setattr(prepare, "available_memory", lambda: 24e9)
    prepare.check_arc_memory(727_134)  # the national model
    with pytest.raises(InputError, match=r"50,000,000 delivery arcs .* need about 22.5 GB of memory, more than the "):
        prepare.check_arc_memory(50_000_000)
    monkeypatch.setattr(prepare, "available_memory", lambda: None)
    prepare.check_arc_memory(50_000_000)  # the system does not say: no check


@pytest.mark.parametrize("arguments", [["--periods", "40", "--scenarios", "50"], ["--scenarios", "1000"]])
def test_an_extensive_form_beyond_the_memory_available_is_refused_before_it_is_built(tmp_path, monkeypatch,
                                                                                      arguments):
    """--periods 100 --scenarios 100 (10,000 copies of every arc) had ended in a MemoryError."""
    from click.testing import CliRunner

    import planner.inputs.prepare as prepare
    import planner.studies.stochastic.pipeline as pipeline
    import planner.studies.stochastic.staged as staged
    from planner.cli import main
    from tests.builders import equator_regions, tiny_model_file

    monkeypatch.setattr(prepare, "available_memory", lambda: 10e6)

    def not_built(*args, **kwargs):
        raise AssertionError("built before its size was checked")

    monkeypatch.setattr(pipeline, "analyse", not_built)  # where it is called: patching its own module after the
    # pipeline's first import would miss it, and one before that import would leak into every later test
    monkeypatch.setattr(staged, "compare_strategies", not_built)
    model = tiny_model_file(tmp_path / "m.toml", equator_regions(tmp_path / "r.geojson", [0.0, 1.0, 2.0], [5, 6, 7]))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(out), "--quiet", *arguments])
    assert result.exit_code == 2, result.output
    assert "copies of" in result.output and "make it fit" in result.output and not out.exists()


@pytest.mark.parametrize("circuity", [1.2, 1.0, 1.37])
def test_a_region_exactly_at_the_delivery_radius_is_within_it(tmp_path, circuity):
    """The radius is the road distance A→B to the last bit (great-circle km × circuity, as flows.csv
    shows it): the arc exists (d ≤ the limit). Divided by the circuity for the great-circle search, the
    limit had rounded below the pair's great-circle km: B unreachable, the model infeasible."""
    from planner.inputs.config import read_model_config
    from planner.inputs.geo import great_circle_km
    from planner.inputs.prepare import DataOptions
    from planner.pipeline import Timing, load_and_prepare

    (tmp_path / "r.csv").write_text("id,lon,lat,demand\nA,0,0,100\nB,0.55,0,10\n", encoding="utf-8")
    road_km = float(great_circle_km(np.array([0.0]), np.array([0.0]), np.array([0.55]), np.array([0.0]))[0]) * circuity
    (tmp_path / "m.toml").write_text(
        f'name = "gc"\n[regions]\npath = "r.csv"\nid_column = "id"\ndemand_column = "demand"\n'
        f"[distance]\ncircuity = {circuity!r}\n[products.standard]\ndemand_rate = 1.0\n"
        f"[transport.standard]\ncost_per_unit_km = 1.0\nmax_distance_km = {road_km!r}\n"
        "[facility_types.fac]\nopening_cost_per_yr = 1000.0\ncandidates = { top_n = 1 }\n"
        "[facility_types.fac.products.standard]\ncost_per_unit = 0.0\n", encoding="utf-8")
    _, problem, _ = load_and_prepare(read_model_config(tmp_path / "m.toml"), DataOptions(), Timing())
    assert problem.n_arcs == 2 and problem.arc_distance_km.max() == road_km


def test_a_material_no_supplier_offers_and_no_type_brings_in_is_refused(tmp_path):
    """``steel_k`` for ``steel_kg`` had left every product unmade, with one warning: objective 0, nothing built."""
    from click.testing import CliRunner

    from planner.cli import main

    regions = regions_csv(tmp_path / "r.csv")
    model = model_file(tmp_path, regions)
    text = model.read_text(encoding="utf-8").replace(
        "unmet_penalty_per_unit = 1000.0\n", "unmet_penalty_per_unit = 1000.0\nmaterials = { steel_k = 1.0 }\n", 1)
    text += '[facility_types.plant.inbound.steel_kg]\ncost_per_unit_km = 0.01\n[suppliers]\npath = "s.csv"\n'
    model.write_text(text, encoding="utf-8")
    (tmp_path / "s.csv").write_text("supplier_id,material,lon,lat\nA,steel_kg,150.0,-33.0\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", "--model", str(model)])
    assert result.exit_code == 2, result.output
    assert ("error: products.standard.materials.steel_k: no supplier offers it and no facility type has an inbound "
            "table for it; check its name (known: steel_kg)") in result.stderr
    model.write_text(text.replace("steel_k =", "steel_kg ="), encoding="utf-8")
    assert CliRunner().invoke(main, ["validate", "--model", str(model)]).exit_code == 0


def test_an_od_matrix_without_distances_under_a_radius_names_the_radius_key(tmp_path):
    """An OD matrix of costs only, beside a delivery radius: the error said "a delivery radius is set" without
    the key that sets it (a model from planner init has one on its microfactories)."""
    from planner.inputs.config import read_model_config
    from planner.inputs.prepare import DataOptions
    from planner.pipeline import Timing, load_and_prepare

    (tmp_path / "r.csv").write_text("id,lon,lat,demand\nA,0,0,100\nB,0.5,0,10\n", encoding="utf-8")
    (tmp_path / "od.csv").write_text("from,to,cost\nA,A,0\nA,B,1\nB,A,1\nB,B,0\n", encoding="utf-8")
    (tmp_path / "m.toml").write_text(
        'name = "od"\n[regions]\npath = "r.csv"\nid_column = "id"\ndemand_column = "demand"\n'
        "[products.standard]\ndemand_rate = 1.0\n[transport.standard]\ncost_per_unit_km = 1.0\n"
        '[facility_types."micro 2"]\nopening_cost_per_yr = 1000.0\nmax_delivery_km = 300.0\n'
        'candidates = { top_n = 2 }\n[facility_types."micro 2".products.standard]\ncost_per_unit = 0.0\n',
        encoding="utf-8")
    with pytest.raises(InputError, match=r"od.csv: a delivery radius is set \(facility_types\.\"micro 2\"\."
                                         r"max_delivery_km = 300\) but the OD matrix has no 'distance_km'; add "
                                         r"distances, or remove the radius from the model file"):
        load_and_prepare(read_model_config(tmp_path / "m.toml"), DataOptions(od_path=tmp_path / "od.csv"), Timing())


def test_od_regions_given_by_their_names_say_so():
    """An OD matrix whose 'to' holds the regions' names ('München' for '001') had been told only that they are no
    region ids of the run."""
    from planner.inputs.prepare import _unknown_od_ids

    od = pd.DataFrame({"from": ["s1", "s1"], "to": ["München", "Zürich"], "distance_km": [1.0, 2.0]})
    regions = pd.DataFrame({"region_id": ["001", "002"], "region_name": ["München", "Zürich"]})
    assert _unknown_od_ids(od, np.array(["s1"], dtype=object), regions) == (
        "; if a pair is there under another spelling: 'to' in rows 1, 2 ('München', 'Zürich') is no region id of this "
        "run; 2 of them are region names, not ids ('München' for '001', 'Zürich' for '002') (rows of other ids are "
        "otherwise allowed and not read)")


@pytest.mark.parametrize(("name", "text"), [
    ("sites.csv", "site_id,x,y\nA,0,0\nB,111319.5,0\n"),
    ("suppliers.csv", "supplier_id,material,x,y\nS,steel,0,1000000\n"),
    ("sites.csv", "site_id,geometry\nA,POINT (0 0)\nB,POINT (111319.5 0)\n"),
])
def test_a_projected_sites_or_suppliers_table_is_told_how_to_give_its_crs(tmp_path, name, text):
    """A sites or suppliers table in metres: its message had said "give their CRS (a vector file with its CRS)";
    these tables take no --crs, so it names the two ways they can carry one."""
    from planner.inputs.io import read_sites

    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"their CRS, in a geometry column of e.g. 'SRID=3857;POINT \(x y\)' or a "
                                         r"vector file \(GeoPackage\) that holds it \(a sites or suppliers table takes "
                                         r"no --crs\)"):
        (read_sites if name == "sites.csv" else read_suppliers)(path)


def test_sites_in_metres_with_their_srid_are_read_as_those_points(tmp_path):
    """The way the message names: 'SRID=3857;POINT (111319.49 0)' is 1° east on the equator."""
    from planner.inputs.geo import points_to_lonlat
    from planner.inputs.io import read_sites

    path = tmp_path / "sites.csv"
    path.write_text("site_id,geometry\nA,SRID=3857;POINT (0 0)\nB,SRID=3857;POINT (111319.49 0)\n", encoding="utf-8")
    lon, lat = points_to_lonlat(read_sites(path))
    assert lon == pytest.approx([0.0, 1.0], abs=1e-6) and lat == pytest.approx([0.0, 0.0], abs=1e-6)
