"""A cost model whose best network opens no facility says why, on the console and in the report: no network
pays off (proven only where the solve is optimal), or no arc can serve the demand."""

from __future__ import annotations

from click.testing import CliRunner

from planner.cli import main
from planner.export.summary import empty_network_note
from tests.builders import equator_regions, tiny_model_file

# 20 units at a penalty of 1,000/unit: 20,000/yr unserved, against an opening cost of 100,000/yr or 100/yr
DEAR_PLANT = """[facility_types.plant]
opening_cost_per_yr = 100_000.0
products = { standard = { cost_per_unit = 1.0 } }
"""
CHEAP_PLANT = DEAR_PLANT.replace("100_000.0", "100.0")


def solve_text(tmp_path, plant_toml: str) -> tuple[str, str]:
    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0], [10.0, 10.0])
    model = tiny_model_file(tmp_path / "model.toml", regions, plant_toml)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", "--model", str(model), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result.output, (out / "report.html").read_text(encoding="utf-8")


def test_a_network_that_does_not_pay_off_is_said_so(tmp_path):
    console, report = solve_text(tmp_path, DEAR_PLANT)
    assert "facilities  plant 0" in console
    assert "note        No network pays off: leaving all demand unmet" in console
    assert "No facility is open. No network pays off" in report


def test_no_note_where_a_facility_opens(tmp_path):
    console, report = solve_text(tmp_path, CHEAP_PLANT)
    assert "facilities  plant 1" in console
    assert "pays off" not in console and "pays off" not in report


SUMMARY = {"facilities": {"plant": 0}, "demand": {"standard": {"demand": 5.0, "served": 0.0}},
           "size": {"arcs": 3}, "status": "optimal", "objective_kind": None}


def test_the_note_tells_unproven_and_unreachable_apart():
    assert empty_network_note(SUMMARY).startswith("No network pays off")
    assert "is not proven" in empty_network_note({**SUMMARY, "status": "gap_limit"})
    assert empty_network_note({**SUMMARY, "size": {"arcs": 0}}).startswith("No facility can serve any demand")
    assert empty_network_note({**SUMMARY, "facilities": {"plant": 1}}) is None
    assert empty_network_note({**SUMMARY, "demand": {"standard": {"demand": 0.0, "served": 0.0}}}) is None
    assert empty_network_note({**SUMMARY, "objective_kind": {"kind": "p_median"}}) is None
