"""Defects found with a tester's own data, each kept fixed:

* ``compare --sites`` with sites restricted to one facility type: each variant keeps the sites' types
  it has (a site left with none is no candidate there, a forced one not forced); names the user's
  model does not know stay an error.
* ``summary.json`` → ``warnings`` holds every warning the run logged (loading included), each once.
* A model name in any script is a folder name; separators, control characters, '.', '..' are not.
* A model-file error names every problem when there are few, and how to see the rest otherwise.

The instance: point regions on the equator (tests.builders), a central and a micro facility type.
"""

from __future__ import annotations

import html
import json
import logging
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.errors import InputError
from planner.inputs.config import is_folder_name, model_config_from_dict
from planner.inputs.prepare import DataOptions
from planner.pipeline import logged_warnings
from planner.solver.outcome import SolverOptions
from planner.studies.compare import compare, standard_variants
from planner.studies.sensitivity import Point, evaluate_points, run_here
from tests.builders import equator_regions, tiny_config, tiny_model_file
from tests.test_cli_outputs import TWO_ROLES

EXACT = SolverOptions(mip_gap=1e-9)
PRODUCTION = {"standard": {"cost_per_unit": 1.0}}


def two_roles(tmp_path: Path):
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 10.0], [10, 10])
    return tiny_config(
        regions,
        facility_types={
            "central": {"role": "central", "opening_cost_per_yr": 100.0, "products": PRODUCTION},
            "micro": {"role": "microfactory", "opening_cost_per_yr": 50.0, "products": PRODUCTION},
        },
    )


def sites_file(path: Path, rows: list[str], forced: bool = False) -> Path:
    """A sites CSV of (site_id, lon, facility_types[, forced]) rows on the equator."""
    header = "site_id,lon,lat,facility_types" + (",forced" if forced else "")
    lines = [header] + [f"{site_id},{lon},0,{rest}" for site_id, lon, rest in (row.split(",", 2) for row in rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def site_types(result) -> dict[str, tuple[str, ...]]:
    sites = result.inputs.sites
    return {str(site): tuple(types) for site, types in zip(sites["site_id"], sites["types"], strict=True)}


# --- compare --sites with sites restricted to one facility type ---------------------------------------


def test_compare_variants_keep_the_types_of_each_site_they_have(tmp_path):
    sites = sites_file(tmp_path / "sites.csv", ["C0,0,central", "M1,10,micro", "A5,5,"])
    result = compare(standard_variants(two_roles(tmp_path)), DataOptions(sites_path=sites), EXACT)
    assert site_types(result.plans["central_only"]) == {"C0": ("central",), "A5": ("central",)}
    assert site_types(result.plans["micro_only"]) == {"M1": ("micro",), "A5": ("micro",)}
    assert site_types(result.plans["hybrid"]) == {"C0": ("central",), "M1": ("micro",), "A5": ("central", "micro")}
    assert set(result.rows["status"]) == {"optimal"}


def test_a_forced_site_of_left_out_types_is_not_forced_in_that_variant(tmp_path, caplog):
    sites = sites_file(tmp_path / "sites.csv", ["C0,0,central,true", "M1,10,micro,false"], forced=True)
    with caplog.at_level(logging.INFO, logger="planner"):
        result = compare(standard_variants(two_roles(tmp_path)), DataOptions(sites_path=sites), EXACT)
    assert site_types(result.plans["micro_only"]) == {"M1": ("micro",)}
    [line] = [r for r in caplog.records if "micro_only" in r.message and "C0" in r.message and "forced" in r.message]
    assert line.levelname == "WARNING" and "its cost leaves out theirs" in line.message  # a rival without them
    assert result.plans["central_only"].run.tables.facility_counts(("central",))["central"] == 1


def test_a_type_the_users_model_does_not_have_stays_an_error(tmp_path):
    sites = sites_file(tmp_path / "sites.csv", ["C0,0,central", "M1,10,mikro"])
    refused = r"row 2: \['mikro'\] not in the model's facility types \['central', 'micro'\]"
    with pytest.raises(InputError, match=refused):
        compare(standard_variants(two_roles(tmp_path)), DataOptions(sites_path=sites), EXACT)


def test_sensitivity_solves_each_variant_with_sites_of_one_type(tmp_path):
    """The sensitivity's solves get the variants as plain data (for Dask workers): the user's model too."""
    sites = sites_file(tmp_path / "sites.csv", ["C0,0,central", "M1,10,micro"])
    rows = evaluate_points(two_roles(tmp_path), [Point(None, "base", math.nan)], DataOptions(sites_path=sites), EXACT,
                           run_here)
    assert rows[0]["note"] == "" and rows[0]["winner"] is not None


@pytest.mark.slow  # a whole CLI run
def test_compare_command_takes_sites_of_one_type(tmp_path):
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 10.0], [10, 10])
    model = tiny_model_file(tmp_path / "model.toml", regions, TWO_ROLES)
    sites = sites_file(tmp_path / "sites.csv", ["C0,0,central", "M1,10,micro"])
    result = CliRunner().invoke(main, ["compare", "--model", str(model), "--sites", str(sites),
                                       "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert (tmp_path / "out" / "compare.csv").exists()


# --- summary.json holds every warning the run logged --------------------------------------------------


def test_logged_warnings_collects_each_planner_warning_once():
    with logged_warnings() as seen:
        logging.getLogger("planner.inputs.prepare").warning("far %s", "S3")
        logging.getLogger("planner.pipeline").warning("far %s", "S3")
        logging.getLogger("planner").info("not a warning")
        logging.getLogger("elsewhere").warning("not the planner's")
        logging.getLogger("planner.x").error("worse")
    logging.getLogger("planner").warning("after the block")
    assert seen == ["far S3", "worse"]


def solve_and_read_summary(tmp_path: Path, populations, sites_rows=None) -> dict:
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 1.0], populations)
    model = tiny_model_file(tmp_path / "model.toml", regions)
    extra = ["--sites", str(sites_file(tmp_path / "sites.csv", sites_rows))] if sites_rows else []
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", "--model", str(model), *extra, "--out", str(out), "--quiet"])
    assert result.exit_code == 0, (result.output, result.exception)
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["warnings"]) == len(set(summary["warnings"]))
    report = (out / "report.html").read_text()
    assert all(html.escape(w) in report for w in summary["warnings"])
    return summary


@pytest.mark.slow  # a whole CLI run
def test_summary_holds_a_far_away_site_warning_of_loading(tmp_path):
    summary = solve_and_read_summary(tmp_path, [10, 20], ["S0,0,plant", "FAR,120,plant"])
    assert any("FAR" in w and "more than 1000 km from any demand point" in w for w in summary["warnings"])


def test_summary_holds_the_all_demand_zero_warning(tmp_path):
    summary = solve_and_read_summary(tmp_path, [0, 0])
    assert any("all demand is zero" in w for w in summary["warnings"])


# --- model names in any script ------------------------------------------------------------------------


def named(tmp_path: Path, name: str):
    regions = equator_regions(tmp_path / "r.geojson", [0.0], [10])
    config = tiny_config(regions)
    return model_config_from_dict({**config.model_dump(mode="json"), "name": name})


@pytest.mark.parametrize("name", ["東京 ネットワーク", "हिन्दी", "ภาษาไทย", "Café 2.0", "_x", "my-model v2", "x" * 100])
def test_names_in_any_script_are_folder_names(tmp_path, name):
    assert is_folder_name(name)
    assert named(tmp_path, name).name == name


@pytest.mark.parametrize("name", ["", ".", "..", ".x", "-x", " x", "a/b", "a\\b", "a\x01b", "a\tb", "x" * 101])
def test_other_names_are_refused_in_one_line(tmp_path, name):
    assert not is_folder_name(name)
    with pytest.raises(InputError, match="key 'name': must be a plain folder name") as error:
        named(tmp_path, name)
    assert "\n" not in str(error.value)


@pytest.mark.slow  # a whole CLI run
def test_a_unicode_name_names_the_default_output_folder(tmp_path, monkeypatch):
    """Greek and Cyrillic: letters the map's font draws (the map's title holds the name)."""
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 1.0], [10, 20])
    model = tiny_model_file(tmp_path / "model.toml", regions)
    model.write_text(model.read_text().replace('name = "tiny"', 'name = "Ελλάδα Москва 2"'))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--quiet"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert (tmp_path / "results" / "Ελλάδα Москва 2" / "summary.json").exists()


# --- a model-file error names its problems ------------------------------------------------------------


def test_a_model_error_names_every_problem_when_few(tmp_path):
    regions = equator_regions(tmp_path / "r.geojson", [0.0], [10])
    model = tiny_model_file(tmp_path / "model.toml", regions, TWO_ROLES.replace("opening_cost_per_yr = 50.0",
                                                                                 "opening_cost_per_year = 50.0"))
    result = CliRunner().invoke(main, ["validate", "--model", str(model)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "key 'facility_types.micro.opening_cost_per_year': unknown key (got 50.0) (did you mean " \
           "'opening_cost_per_yr'?)" in lines[0]
    assert "required key is missing" not in lines[0]  # the suggestion names it
    assert "more" not in lines[0] and len(lines[0]) < 300


def test_a_model_error_names_problems_of_several_kinds(tmp_path):
    regions = equator_regions(tmp_path / "r.geojson", [0.0], [10])
    config = tiny_config(regions).model_dump(mode="json")
    config["distance"]["circuity"] = 0.5
    config["solver"]["mip_gap"] = -1
    with pytest.raises(InputError) as error:
        model_config_from_dict(config, "m.toml")
    text = str(error.value)
    assert "key 'distance.circuity'" in text and "(got 0.5)" in text and "key 'solver.mip_gap'" in text


def test_a_model_error_with_many_problems_says_how_many_more_and_how_to_see_them(tmp_path):
    regions = equator_regions(tmp_path / "r.geojson", [0.0], [10])
    config = tiny_config(regions).model_dump(mode="json")
    config.update(typo_a=1, typo_b=2, typo_c=3, typo_d=4, typo_e=5)
    with pytest.raises(InputError) as error:
        model_config_from_dict(config, "m.toml")
    text = str(error.value)
    assert "\n" not in text
    assert "key 'typo_a': unknown key (also 'typo_b', 'typo_c')" in text
    assert "+2 more problems" in text and "planner validate" in text


def test_text_in_a_script_the_font_lacks_draws_without_warnings(tmp_path):
    import warnings

    from planner.export.charts import new_figure, png_bytes, save_png
    from planner.export.static_map import save_figure

    fig, axes = new_figure(3, 2)
    axes.set_title("東京 ネットワーク")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert png_bytes(fig)[:4] == b"\x89PNG"
        save_png(fig, tmp_path / "chart.png")
        save_figure(fig, [tmp_path / "map.png", tmp_path / "map.svg", tmp_path / "map.pdf"])
