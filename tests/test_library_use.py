"""The planner used from Python, not through the command: the model's ``[solver]`` table applies,
options a command line could not give are refused with a planner error, and what the run warns
about reaches its warnings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.errors import InputError, PlannerError
from planner.inputs.prepare import DataOptions
from planner.pipeline import plan
from planner.solver.outcome import SolverOptions
from tests.builders import equator_regions, tiny_config


@pytest.mark.parametrize("fields", [
    {"mip_gap": 2.0}, {"mip_gap": -0.5}, {"mip_gap": math.nan}, {"threads": 0}, {"threads": -3},
    {"threads": 1.5}, {"time_limit_s": math.nan}, {"time_limit_s": "10"}, {"time_limit_s": 0}, {"time_limit_s": -5.0},
])
def test_options_no_command_line_lets_through_are_a_planner_error(fields):
    with pytest.raises(InputError, match=f"SolverOptions.{next(iter(fields))} is"):
        SolverOptions(**fields)


def test_the_options_of_the_model_apply_and_what_is_given_wins(tmp_path):
    config = tiny_config(equator_regions(tmp_path / "r.geojson", [0, 1], [10, 20]),
                         solver={"mip_gap": 0.2, "time_limit_s": 5.0, "threads": 1})
    options = SolverOptions.from_model(config)
    assert (options.mip_gap, options.time_limit_s, options.threads) == (0.2, 5.0, 1)
    assert SolverOptions.from_model(config, mip_gap=0.0, time_limit_s=9, quiet=False) == SolverOptions(
        mip_gap=0.0, time_limit_s=9, threads=1, quiet=False)


def test_plan_without_options_solves_with_the_models_solver_table(tmp_path):
    config = tiny_config(equator_regions(tmp_path / "r.geojson", [0, 1, 2], [10, 20, 30]),
                         solver={"mip_gap": 0.2, "time_limit_s": 5.0, "threads": 1})
    result = plan(config, DataOptions())
    assert result.run.report.mip_gap_tolerance == 0.2


def test_an_unknown_formulation_is_a_planner_error(tmp_path):
    config = tiny_config(equator_regions(tmp_path / "r.geojson", [0, 1], [10, 20]))
    with pytest.raises(PlannerError, match="SolverOptions.formulation is 'bogus'"):
        plan(config, DataOptions(), SolverOptions(formulation="bogus"))


def test_the_warnings_of_loading_and_preparing_reach_the_run_and_its_summary(tmp_path):
    """A library caller has no log to read: a warning logged before the solve (here the prepare step's
    "no facility delivers it") had reached neither ``Run.warnings`` nor summary.json."""
    import json

    from planner.export.folder import write_outputs

    config = tiny_config(
        equator_regions(tmp_path / "r.geojson", [0, 1], [10, 20]),
        products={"standard": {"unmet_penalty_per_unit": 1000.0}, "custom": {"unmet_penalty_per_unit": 5.0}},
        transport={"standard": {"cost_per_unit_km": 0.01}, "custom": {"cost_per_unit_km": 0.01}},
    )
    result = plan(config, DataOptions(), SolverOptions(threads=1))
    assert any("'custom'" in warning and "no facility delivers it" in warning for warning in result.run.warnings)
    write_outputs(result.run, result.inputs, tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert list(summary["warnings"]) == list(result.run.warnings)


@pytest.mark.parametrize("select, expected", [
    ((("zone", "NS"),), (("zone", ("NS",)),)),  # one string is one value (had been the letters N and S)
    ({"zone": ["N", "S"]}, (("zone", ("N", "S")),)),
    ({"zone": "N"}, (("zone", ("N",)),)),
    ([["zone", ("N",)]], (("zone", ("N",)),)),
])
def test_select_takes_pairs_or_a_mapping_and_one_string_as_one_value(select, expected):
    assert DataOptions(select=select).select == expected


@pytest.mark.parametrize("select", ["zone=N", [("zone",)], [3], [(1, "N")]])
def test_a_select_of_another_shape_is_a_planner_error(select):
    with pytest.raises(InputError, match="DataOptions.select"):
        DataOptions(select=select)


def test_a_frame_for_a_path_is_a_planner_error_and_text_is_a_path(tmp_path):
    import geopandas as gpd

    frame = gpd.read_file(equator_regions(tmp_path / "r.geojson", [0, 1], [10, 20]))
    with pytest.raises(InputError, match="DataOptions.regions_path is a GeoDataFrame; give the path of a file"):
        DataOptions(regions_path=frame)
    assert DataOptions(regions_path=str(tmp_path / "r.geojson")).regions_path == tmp_path / "r.geojson"


def test_a_start_of_other_data_is_a_planner_error(tmp_path):
    config = tiny_config(equator_regions(tmp_path / "r.geojson", [0, 1, 2], [10, 20, 30]))
    other = tiny_config(equator_regions(tmp_path / "o.geojson", [0, 1], [10, 20]))
    start = plan(other, DataOptions(), SolverOptions(threads=1)).run.solution
    with pytest.raises(InputError, match=r"plan\(start=...\): the start has 2 options and 4 arcs, this model and "
                                         "data 3 and 9"):
        plan(config, DataOptions(), SolverOptions(threads=1), start=start)


def test_a_model_changed_in_ways_assignment_does_not_check_is_checked_by_plan(tmp_path):
    """A table changed in place (a product added to ``products`` without its transport, a value put into a
    dict) passed no check: the run failed inside, or solved a model the schema refuses."""
    config = tiny_config(equator_regions(tmp_path / "r.geojson", [0, 1], [10, 20]))
    config.products["extra"] = config.products["standard"].model_copy()
    with pytest.raises(InputError, match="transport"):
        plan(config, DataOptions(), SolverOptions(threads=1))
    config = tiny_config(equator_regions(tmp_path / "r2.geojson", [0, 1], [10, 20]))
    config.facility_types["plant"].__dict__["module_capacity_per_yr"] = -5.0  # round the assignment check
    with pytest.raises(InputError, match="module_capacity_per_yr"):
        plan(config, DataOptions(), SolverOptions(threads=1))


@pytest.mark.parametrize("study", ["pareto", "alternatives"])
def test_a_model_changed_in_place_is_checked_by_the_studies_too(tmp_path, study):
    """``cost_co2_frontier`` and ``near_optimal_networks`` had solved a model with a capacity of -5 put into it
    from Python (a frontier of one point that builds nothing), where ``plan`` refuses it naming the key."""
    from planner.studies.mga import near_optimal_networks
    from planner.studies.pareto import cost_co2_frontier

    config = tiny_config(equator_regions(tmp_path / "r.geojson", [0, 1], [10, 20]))
    config.facility_types["plant"].__dict__["module_capacity_per_yr"] = -5.0  # round the assignment check
    options = SolverOptions(threads=1, time_limit_s=10)
    with pytest.raises(InputError, match="module_capacity_per_yr"):
        if study == "pareto":
            cost_co2_frontier(config, DataOptions(), options, 2)
        else:
            near_optimal_networks(config, DataOptions(), options, 0.1, 1)


def test_write_outputs_refuses_the_inputs_of_another_plan(tmp_path):
    """The run of one plan written with the inputs of another (reused in a loop) had been written: network.gpkg
    and the maps with the other plan's 2 regions, regions.csv with the run's 3."""
    from planner.export.folder import write_outputs

    options = SolverOptions(threads=1)
    first = plan(tiny_config(equator_regions(tmp_path / "a.geojson", [0, 1, 2], [10, 20, 30])), DataOptions(), options)
    other = plan(tiny_config(equator_regions(tmp_path / "b.geojson", [0, 1], [10, 20])), DataOptions(), options)
    with pytest.raises(InputError, match="the run and the inputs of the same plan"):
        write_outputs(first.run, other.inputs, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    write_outputs(first.run, first.inputs, tmp_path / "out")
    assert (tmp_path / "out" / "network.gpkg").is_file()


@pytest.mark.parametrize("arguments", [
    ({"name": "tiny"}, DataOptions(), None), ("model", DataOptions(), None), (None, None, None),
    ("config", None, None), ("config", DataOptions(), {"time_limit_s": 5}),
])
def test_arguments_of_another_type_are_a_planner_error_naming_them(tmp_path, arguments):
    """A dict for the model, None for the data or a dict for the options had failed inside plan with an
    AttributeError ('dict' object has no attribute 'model_dump')."""
    config = tiny_config(equator_regions(tmp_path / "r.geojson", [0, 1], [10, 20]))
    arguments = tuple(config if argument == "config" else argument for argument in arguments)
    with pytest.raises(InputError, match=r"plan\((config|data_options|options)=\.\.\.\) is a "):
        plan(*arguments)


@pytest.mark.parametrize("varies", ["carbon_price=0:200:3", "one", ["carbon_price=0:200:3"]])
def test_a_sweep_of_no_list_of_vary_is_a_planner_error(tmp_path, varies):
    """Text or one Vary for ``varies`` had failed inside run_sweep (AttributeError, TypeError), after the folder
    was made."""
    from planner.export.sweep_folder import sweep_to_folder
    from planner.studies.sweep import Vary

    config = tiny_config(equator_regions(tmp_path / "r.geojson", [0, 1], [10, 20]))
    varies = Vary.parse("carbon_price=0:200:3", config) if varies == "one" else varies
    with pytest.raises(InputError, match="give a list of Vary"):
        sweep_to_folder(config, varies, DataOptions(), SolverOptions(threads=1), tmp_path / "sweep", workers=1)
    assert not (tmp_path / "sweep").exists()


def test_write_outputs_from_python_records_the_data_read(tmp_path):
    """``write_outputs(run, result.inputs, out)``, as the README shows it, had written summary.json with
    ``"inputs": {}``: no regions file, columns or --select, where the command's summary has them."""
    import json

    from planner.export.folder import write_outputs

    regions = equator_regions(tmp_path / "r.geojson", [0, 1, 2], [10, 20, 30], ids=["a", "b", "c"])
    result = plan(tiny_config(regions), DataOptions(select={"GEOID": ["a", "b"]}), SolverOptions(threads=1))
    write_outputs(result.run, result.inputs, tmp_path / "out")
    inputs = json.loads((tmp_path / "out" / "summary.json").read_text())["inputs"]
    assert inputs["regions"] == str(regions) and inputs["select"] == {"GEOID": ["a", "b"]}
    assert inputs["region_columns"]["id"] == "GEOID" and inputs["sites"] is None
    assert str(regions) in (tmp_path / "out" / "report.html").read_text()


@pytest.mark.parametrize("fields, message", [
    ({"min_facilities": 3, "max_facilities": 1},
     r"Problem.min_facilities \(3\) > Problem.max_facilities \(1\); lower min_facilities or raise max_facilities"),
    ({"type_min_count": np.array([2]), "type_max_count": np.array([1])},
     r"facility type 't': Problem.type_min_count \(2\) > Problem.type_max_count \(1\)"),
    ({"min_facilities": -1}, r"Problem.min_facilities is -1; give a whole number ≥ 0"),
    ({"max_facilities": 1.5}, r"Problem.max_facilities is 1.5; give a whole number ≥ 0"),
    ({"type_min_count": np.array([-1])}, r"Problem.type_min_count is \[-1\]; give a whole number ≥ 0"),
])
def test_contradictory_counts_of_a_problem_are_a_planner_error(fields, message):
    """A Problem built from Python with min_facilities 3 and max_facilities 1 had reached the Pyomo builder
    (its own InvalidConstraintError) or the solver (an explanation about demand that must be served)."""
    from tests.builders import dense_problem

    with pytest.raises(InputError, match=message):
        dense_problem([10, 10], [1, 1, 1], [100, 100, 100], [[1, 2], [2, 1], [1, 1]], penalty=100.0, **fields)


def test_a_problem_asking_more_facilities_than_options_is_infeasible_in_the_pyomo_builder():
    from planner.errors import InfeasibleError
    from planner.model import ModelIndex, build_model
    from tests.builders import dense_problem

    problem = dense_problem([10, 10], [1, 1, 1], [100, 100, 100], [[1, 2], [2, 1], [1, 1]], min_facilities=5)
    with pytest.raises(InfeasibleError, match="min_facilities 5 but only 3 candidate options"):
        build_model(problem, ModelIndex.from_problem(problem))


def test_a_type_minimum_above_the_sites_without_a_maximum_is_infeasible_not_a_contradiction():
    """Without a type_max_count the type has no upper limit: a minimum above its sites is the screening's
    infeasibility, not a maximum the caller never gave."""
    from planner.errors import InfeasibleError
    from planner.pipeline import solve_problem
    from tests.builders import dense_problem

    problem = dense_problem([10, 10], [1, 1], [100, 100], [[1, 2], [2, 1]], type_min_count=np.array([3]))
    with pytest.raises(InfeasibleError, match="facility type 't': min_count 3 but only 2 candidate sites"):
        solve_problem(problem, SolverOptions(threads=1))


def test_a_type_minimum_above_its_options_names_them_where_a_maximum_is_set_to_them():
    """The solver's explanation sets a type's maximum to its options: a minimum above them is the minimum's
    infeasibility, said in the screening's words, not a contradiction of limits the caller never gave."""
    from planner.errors import InfeasibleError
    from planner.solver import solve
    from tests.builders import dense_problem

    problem = dense_problem([10, 10], [1, 1], [100, 100], [[1, 2], [2, 1]], type_min_count=np.array([3]),
                            max_facilities=3)  # unscreened: the solver finds it infeasible and explains
    with pytest.raises(InfeasibleError, match="facility type 't': min_count 3 but only 2 candidate sites"):
        solve(problem, SolverOptions(threads=1))
