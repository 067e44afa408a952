"""``planner init DATA``: a model file for a user's own table of demand points that ``planner solve
--model`` solves with no column flags; an existing model file is never overwritten.

The data: 40 customers with lon/lat columns in East Africa, orders 1,000–50,000 a year (seeded)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli import main


def customers(n: int = 40, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "lon": rng.uniform(33, 41, n),
                         "lat": rng.uniform(-8, 3, n), "orders": rng.integers(1_000, 50_000, n)})


@pytest.mark.slow  # a whole CLI run (2-4 s): in the full suite only
def test_init_then_solve_without_column_flags(tmp_path, monkeypatch):
    customers().to_csv(tmp_path / "stores.csv", index=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init", "stores.csv", "--demand-column", "orders", "--out", "models/s.toml"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "written     models/s.toml", "solve with  planner solve --model models/s.toml"
    ]
    solved = CliRunner().invoke(main, ["solve", "--model", "models/s.toml", "--quiet", "--time-limit", "60"])
    assert solved.exit_code == 0, solved.output
    summary = json.loads((tmp_path / "results" / "stores" / "summary.json").read_text())
    assert summary["size"]["regions"] == 40 and summary["audit"]["passed"]


def test_init_does_not_overwrite_a_model_file(tmp_path):
    customers().to_csv(tmp_path / "stores.csv", index=False)
    model = tmp_path / "stores.toml"
    model.write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(main, ["init", str(tmp_path / "stores.csv"), "--out", str(model)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {model}: exists; the planner does not overwrite it: choose another --out or remove it"
    ]
    assert model.read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stores.csv", "stores.toml"]


def test_init_default_file_is_named_after_the_data(tmp_path, monkeypatch):
    customers().to_csv(tmp_path / "my stores.csv", index=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init", "my stores.csv"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "my_stores.toml").is_file()


def test_init_refuses_a_demand_rate_too_large_naming_the_option(tmp_path):
    """--demand-rate 1e20 is named as the option, not as a key of the hidden staging file."""
    customers().to_csv(tmp_path / "stores.csv", index=False)
    result = CliRunner().invoke(main, ["init", str(tmp_path / "stores.csv"), "--out", str(tmp_path / "s.toml"),
                                       "--demand-rate", "1e20"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: --demand-rate 1e+20: give a positive number below 1e+15 (units/yr per unit of the demand column)"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stores.csv"]


def test_init_takes_no_name_column_where_two_are_named_alike_but_for_case(tmp_path):
    data = tmp_path / "pts.csv"
    data.write_text("rid,name,NAME,lon,lat,pop\na,Alpha,ALPHA,0.05,0.05,100\nb,Beta,BETA,0.25,0.05,200\n"
                    "c,Gamma,GAMMA,0.05,0.25,50\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["init", str(data), "--id-column", "rid", "--demand-column", "pop",
                                       "--out", str(tmp_path / "m.toml")])
    assert result.exit_code == 0, result.output
    assert "name_column =" not in (tmp_path / "m.toml").read_text(encoding="utf-8")


def test_init_finds_a_name_column_named_in_another_language(tmp_path):
    """'NOM' (French data) had not been found: the model file had no name_column, so no output named a region."""
    from planner.inputs.config import read_model_config

    customers().assign(NOM=[f"ville {i}" for i in range(40)]).to_csv(tmp_path / "stores.csv", index=False)
    model = tmp_path / "stores.toml"
    result = CliRunner().invoke(main, ["init", str(tmp_path / "stores.csv"), "--demand-column", "orders",
                                       "--out", str(model)])
    assert result.exit_code == 0, result.output
    assert read_model_config(model).regions.name_column == "NOM"


def test_init_names_its_own_argument_and_a_folder_given_as_out(tmp_path):
    """init's errors spoke of 'the REGIONS argument' (its argument is DATA) and called a folder given as
    --out a file that 'exists'."""
    (tmp_path / "adir").mkdir()
    result = CliRunner().invoke(main, ["init", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2 and "pass an existing file to the DATA argument of init" in result.stderr
    (tmp_path / "t.csv").write_text("name,lon,lat,pop\nA,1,2,3\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["init", str(tmp_path / "t.csv"), "--out", str(tmp_path / "adir")])
    assert result.exit_code == 2 and "is a folder (--out names the model file to write)" in result.stderr


def test_init_of_a_vector_file_without_a_crs_writes_the_crs_given(tmp_path):
    """The written model had lacked the --crs given, and so failed its own check ('the data has no CRS')."""
    import warnings

    import geopandas as gpd
    from shapely.geometry import Point

    shp = tmp_path / "nocrs.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # 'crs' was not provided: the point here
        gpd.GeoDataFrame({"id": ["a", "b"], "pop": [5, 4]}, geometry=[Point(151.2, -33.9), Point(145.0, -37.8)]
                         ).to_file(shp)
    result = CliRunner().invoke(main, ["init", str(shp), "--crs", "EPSG:4326", "--out", str(tmp_path / "m.toml")])
    assert result.exit_code == 0, result.stderr
    assert 'crs = "EPSG:4326"' in (tmp_path / "m.toml").read_text(encoding="utf-8")
