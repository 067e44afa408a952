"""The regions' names beside their ids in the output tables (a name column in the regions file)."""

from __future__ import annotations

import pandas as pd

from planner.inputs.prepare import DataOptions
from planner.pipeline import plan, with_region_names
from planner.solver.outcome import SolverOptions
from tests.builders import equator_regions, tiny_config


def solved_tables(tmp_path, names=None, sites=None):
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 1.0, 2.0], [10, 20, 10], names=names)
    config = tiny_config(regions)
    result = plan(config, DataOptions(sites_path=sites), SolverOptions(mip_gap=1e-9))
    return with_region_names(result.run, result.inputs).tables


def test_named_regions_name_sites_regions_and_flows(tmp_path):
    tables = solved_tables(tmp_path, names=["Oran", "Rabat", "Zürich"])
    names = {"R0": "Oran", "R1": "Rabat", "R2": "Zürich"}
    assert list(tables.sites.columns[:2]) == ["site_id", "site_name"]
    assert (tables.sites["site_name"] == tables.sites["site_id"].map(names)).all()
    assert list(tables.regions.columns[:2]) == ["region_id", "region_name"]
    assert (tables.regions["region_name"] == tables.regions["region_id"].map(names)).all()
    flows = tables.flows
    assert (flows["site_name"] == flows["site_id"].map(names)).all()
    assert (flows["region_name"] == flows["region_id"].map(names)).all()
    # the cost parts are read by column name, so the names change no figure
    assert tables.cost_parts()["production"] == flows["production_cost"].sum()


def test_no_name_columns_where_the_names_are_the_ids(tmp_path):
    tables = solved_tables(tmp_path)
    assert "site_name" not in tables.sites and "region_name" not in tables.regions


def test_sites_of_a_sites_file_are_not_named_after_regions(tmp_path):
    """A sites file's ids may be other places than the regions of the same id."""
    sites = tmp_path / "sites.csv"
    pd.DataFrame({"site_id": ["R0", "R1"], "lon": [0.5, 1.5], "lat": [0.0, 0.0]}).to_csv(sites, index=False)
    tables = solved_tables(tmp_path, names=["Oran", "Rabat", "Zürich"], sites=sites)
    assert "site_name" not in tables.sites and "site_name" not in tables.flows
    assert "region_name" in tables.regions and "region_name" in tables.flows


def test_a_region_without_a_name_is_labelled_by_its_id(tmp_path):
    tables = solved_tables(tmp_path, names=["Oran", None, ""])
    assert tables.regions.set_index("region_id")["region_name"].to_dict() == {"R0": "Oran", "R1": "R1", "R2": "R2"}


def test_a_study_written_to_a_folder_names_its_regions_too(tmp_path):
    """--scenarios evaluates its network outside plan(); its tables are named where they are written."""
    from tests.test_bad_input import MODEL, regions_frame, run_solve, write_instance

    model = MODEL.replace('demand_column = "pop"\n', 'demand_column = "pop"\nname_column = "name"\n', 1)
    assert model != MODEL
    write_instance(tmp_path, regions_frame(name=["Aa", "Bb", "Cc", "Dd"]), model=model)
    result = run_solve(tmp_path, "--scenarios", "2", "--seed", "1")
    assert result.exit_code == 0, result.output
    sites = pd.read_csv(tmp_path / "out" / "sites.csv")
    regions = pd.read_csv(tmp_path / "out" / "regions.csv")
    assert "site_name" in sites and set(regions["region_name"]) <= {"Aa", "Bb", "Cc", "Dd"}


def test_compare_outputs_name_their_regions(tmp_path):
    """compare's workbook sheets and compare_regions.csv had ids only where ``planner solve`` names them."""
    from planner.export.compare_report import with_names
    from planner.studies.compare import compare, standard_variants

    regions = equator_regions(tmp_path / "r.geojson", [0.0, 10.0], [10, 10], names=["Quito", "Libreville"])
    production = {"standard": {"cost_per_unit": 1.0}}
    config = tiny_config(regions, facility_types={
        "central": {"role": "central", "opening_cost_per_yr": 100.0, "products": production},
        "micro": {"role": "microfactory", "opening_cost_per_yr": 50.0, "products": production},
    })
    names = {"R0": "Quito", "R1": "Libreville"}
    named = with_names(compare(standard_variants(config), DataOptions(), SolverOptions(mip_gap=1e-9)))
    for result in named.plans.values():
        tables = result.run.tables
        assert (tables.regions["region_name"] == tables.regions["region_id"].map(names)).all()
        assert (tables.sites["site_name"] == tables.sites["site_id"].map(names)).all()
    assert (named.regions["region_name"] == named.regions["region_id"].map(names)).all()


def test_compare_regions_csv_carries_the_currency_of_its_costs(tmp_path):
    """compare_regions.csv's costs to serve (currency/unit) had no currency, where compare.csv, sweep.csv and
    the other tables of money carry theirs: a EUR model's figures read as anyone's."""
    from planner.export.compare_report import write_comparison
    from planner.studies.compare import compare, standard_variants

    regions = equator_regions(tmp_path / "r.geojson", [0.0, 10.0], [10, 10], names=["Quito", "Libreville"])
    production = {"standard": {"cost_per_unit": 1.0}}
    config = tiny_config(regions, currency="EUR", facility_types={
        "central": {"role": "central", "opening_cost_per_yr": 100.0, "products": production},
        "micro": {"role": "microfactory", "opening_cost_per_yr": 50.0, "products": production},
    })
    comparison = compare(standard_variants(config), DataOptions(), SolverOptions(mip_gap=1e-9))
    write_comparison(comparison, tmp_path / "cmp")
    table = pd.read_csv(tmp_path / "cmp" / "compare_regions.csv")
    assert list(table.columns)[-2:] == ["micro_advantage", "currency"] and set(table["currency"]) == {"EUR"}


def test_the_compare_and_alternatives_console_lines_carry_the_currency(tmp_path, capsys):
    """compare's variant lines read "cost 66,501,347 (gap 0.69%), co2 4,546 t" and alternatives' "cost
    54,213,000 (+4.90%)": a EUR model's costs without a currency, CO2 without its year."""
    from types import SimpleNamespace

    from planner.cli.console import alternative_line, print_comparison
    from planner.studies.compare import compare, standard_variants

    regions = equator_regions(tmp_path / "r.geojson", [0.0, 10.0], [10, 10])
    production = {"standard": {"cost_per_unit": 1.0}}
    config = tiny_config(regions, currency="EUR", facility_types={
        "central": {"role": "central", "opening_cost_per_yr": 100.0, "products": production},
        "micro": {"role": "microfactory", "opening_cost_per_yr": 50.0, "products": production},
    })
    print_comparison(compare(standard_variants(config), DataOptions(), SolverOptions(mip_gap=1e-9)), "EUR")
    variants = [line for line in capsys.readouterr().out.splitlines() if line.startswith(("central_only", "hybrid"))]
    assert len(variants) == 2 and all(" EUR/yr (gap " in line and " t/yr, served" in line for line in variants)
    row = SimpleNamespace(alternative=0, status="optimal", mip_gap=0.0, audited_cost=100.0, above_optimum_pct=0.0,
                          distance_to_optimum=0, sites_opened="[]", sites_closed="[]", sites_retyped="[]")
    assert alternative_line(row, None, " EUR/yr").startswith("optimum        cost 100 EUR/yr (+0.00%)")
