"""The regions' names beside their ids in the output tables (a name column in the regions file)."""

from __future__ import annotations

import pandas as pd

from planner.inputs.prepare import DataOptions
from planner.pipeline import plan
from planner.solver.outcome import SolverOptions
from tests.builders import equator_regions, tiny_config


def solved_tables(tmp_path, names=None, sites=None):
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 1.0, 2.0], [10, 20, 10], names=names)
    config = tiny_config(regions)
    return plan(config, DataOptions(sites_path=sites), SolverOptions(mip_gap=1e-9)).run.tables


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
