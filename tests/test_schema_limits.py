"""Model-file values the solver cannot take, and TOML types that are not what a key means, are refused
with one line naming the file and the key, by ``planner validate`` as by ``planner solve``:

* every number of the model file is below 1e15 (HiGHS refuses matrix values from 1e15 on, and the
  planner refuses cost terms above it); module capacity × max_modules too;
* whole-number keys fit their limits (max_modules ≤ 1,000,000; no integer wraps around in numpy);
* a number is not a boolean or a string (``true`` is not 1, ``"190"`` not 190), a boolean not a number
  or a string (``0`` and ``"no"`` are not false); an integer stays valid for a decimal key;
* ``[rollout] adoption`` has one number per period;
* the products of model values and the data that reach the matrix (penalty × demand, transport cost
  × km × demand, carbon price × CO2 × demand) stay below the limits.

The instance is the four-square instance of ``tests.test_bad_input``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.errors import InputError
from planner.inputs.config import model_config_from_dict
from tests.test_bad_input import MODEL, PENALTY_LINE, assert_clean_failure, run_solve, write_instance


def model_with(*changes: tuple[str | None, str]) -> str:
    """MODEL with each (old, new) text replaced once (the old text must be there); old None: new appended."""
    text = MODEL
    for old, new in changes:
        if old is None:
            text += f"\n{new}\n"
            continue
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def config_error(*changes: tuple[str, str]) -> str:
    """The one-line error of the schema for MODEL with ``changes``."""
    with pytest.raises(InputError) as caught:
        model_config_from_dict(tomllib.loads(model_with(*changes)), "m.toml")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("m.toml: ")
    return message


def refused_alike(tmp_path: Path, model: str, *fragments: str) -> str:
    """``planner validate`` and ``planner solve`` refuse ``model`` with the same line holding ``fragments``."""
    path = write_instance(tmp_path, model=model)
    solved = assert_clean_failure(run_solve(tmp_path, model=path), tmp_path / "out", "model.toml", *fragments)
    checked = CliRunner().invoke(main, ["validate", "--model", str(path)])
    assert checked.exit_code == 2, checked.output
    assert checked.stdout == ""
    assert checked.stderr.splitlines()[-1] == solved
    assert "Warning" not in checked.stderr and "Traceback" not in checked.stderr
    return solved


# --- TOML types ------------------------------------------------------------------------------------

TYPE_CASES = [
    ("max_modules = 2", "max_modules = true", "facility_types.plant.max_modules", "True"),
    ("carbon_price = 10.0", 'carbon_price = "190"', "carbon_price", "'190'"),
    ("cost_per_unit_km = 0.1", 'cost_per_unit_km = "0.1"', "transport.widget.cost_per_unit_km", "'0.1'"),
    ("top_n = 2", "top_n = true", "facility_types.plant.candidates.top_n", "True"),
    (None, '[network]\nsingle_sourcing = "no"', "network.single_sourcing", "'no'"),
    (None, '[network]\nsingle_sourcing = 0', "network.single_sourcing", "0"),
    (None, '[uncertainty]\nrecourse_modules = 1', "uncertainty.recourse_modules",
     "1"),
    (None, '[rollout]\nperiods = 2\nadoption = [0.5, "1"]', "rollout.adoption.1",
     "'1'"),
    (None, '[distance]\ncircuity = true', "distance.circuity", "True"),
    (None, '[solver]\nmip_gap = "0.01"', "solver.mip_gap", "'0.01'"),
    ("carbon_price = 10.0", "carbon_price = [190]", "carbon_price", "[190]"),
]


@pytest.mark.parametrize(("old", "new", "key", "got"), TYPE_CASES, ids=[case[2] for case in TYPE_CASES])
def test_a_boolean_or_string_is_not_read_as_a_number_nor_a_number_as_a_boolean(old, new, key, got):
    message = config_error((old, new))
    assert f"key '{key}'" in message and f"(got {got})" in message


def test_an_integer_stays_valid_for_a_decimal_key_and_a_whole_float_for_a_count():
    config = model_config_from_dict(tomllib.loads(model_with(("carbon_price = 10.0", "carbon_price = 190"),
                                                             ("max_modules = 2", "max_modules = 4.0"))))
    assert config.carbon_price == 190.0 and isinstance(config.carbon_price, float)
    assert config.facility_types["plant"].max_modules == 4
    assert model_config_from_dict(tomllib.loads(model_with(
        (None, '[network]\nsingle_sourcing = true')))).network.single_sourcing


def test_the_cli_refuses_a_boolean_module_count(tmp_path):
    refused_alike(tmp_path, model_with(("max_modules = 2", "max_modules = true")),
                  "key 'facility_types.plant.max_modules'", "(got True)")


# --- limits of single values -----------------------------------------------------------------------

LIMIT_CASES = [
    ("max_modules = 2", "max_modules = 99999999999999999999999", "facility_types.plant.max_modules"),
    ("max_modules = 2", "max_modules = 1000001", "facility_types.plant.max_modules"),
    ("top_n = 2", "top_n = 99999999999999999999999", "facility_types.plant.candidates.top_n"),
    ("module_capacity_per_yr = 300.0", "module_capacity_per_yr = 1e15", "facility_types.plant.module_capacity_per_yr"),
    ("module_capacity_per_yr = 300.0", "module_capacity_per_yr = 1e308",
     "facility_types.plant.module_capacity_per_yr"),
    ("unmet_penalty_per_unit = 1000.0", "unmet_penalty_per_unit = 1e308", "products.widget.unmet_penalty_per_unit"),
    ("demand_rate = 1.0", "demand_rate = 1e308", "products.widget.demand_rate"),
    ("cost_per_unit_km = 0.1", "cost_per_unit_km = 1e308", "transport.widget.cost_per_unit_km"),
    ("carbon_price = 10.0", "carbon_price = 1e308", "carbon_price"),
    (None, '[distance]\ncircuity = 1e308', "distance.circuity"),
    (None, '[network]\ncapex_budget = 1e300', "network.capex_budget"),
]


@pytest.mark.parametrize(("old", "new", "key"), LIMIT_CASES, ids=[case[1].split("\n")[-1] for case in LIMIT_CASES])
def test_values_beyond_the_limits_are_refused_naming_the_key(old, new, key):
    assert f"key '{key}'" in config_error((old, new))


def test_module_capacity_times_max_modules_is_below_the_matrix_limit():
    message = config_error(("module_capacity_per_yr = 300.0", "module_capacity_per_yr = 2e14"),
                           ("max_modules = 2", "max_modules = 10"))
    assert "key 'facility_types.plant.max_modules'" in message and "module_capacity_per_yr 2e+14" in message
    model_config_from_dict(tomllib.loads(model_with(("module_capacity_per_yr = 300.0", "module_capacity_per_yr = 1e13"),
                                                    ("max_modules = 2", "max_modules = 10"))))


@pytest.mark.parametrize("capacity", ["1e15", "1e20", "1e308"])
def test_validate_refuses_the_capacity_solve_could_not_solve(tmp_path, capacity):
    refused_alike(tmp_path, model_with(("module_capacity_per_yr = 300.0", f"module_capacity_per_yr = {capacity}")),
                  "key 'facility_types.plant.module_capacity_per_yr'", "1e+15")


def test_a_huge_integer_does_not_wrap_around(tmp_path):
    refused_alike(tmp_path, model_with(("max_modules = 2", "max_modules = 99999999999999999999999")),
                  "key 'facility_types.plant.max_modules'", "1000000")


# --- rollout ---------------------------------------------------------------------------------------


def test_adoption_needs_one_number_per_period(tmp_path):
    rollout = '[rollout]\nperiods = 3\nadoption = [0.3, 0.7]'
    message = config_error((None, rollout))
    assert "key 'rollout.adoption'" in message and "2 numbers for 3 periods" in message
    refused_alike(tmp_path, model_with((None, rollout)), "key 'rollout.adoption'", "3 periods")



def test_an_adoption_of_0_in_every_period_and_a_pilot_named_twice_are_refused():
    """Both had been solved without a word ('optimal, present value 0' for a rollout with no demand)."""
    message = config_error((None, "[rollout]\nadoption = [0.0, 0.0, 0.0]"))
    assert "key 'rollout.adoption'" in message and "every period's adoption is 0" in message
    message = config_error((None, '[rollout]\npilot_regions = ["T01", "T02", "T01"]\npilot_periods = 1'))
    assert "key 'rollout.pilot_regions'" in message and "T01 listed more than once" in message
    assert config_error((None, "[rollout]\nadoption = [0.0, 0.5]\nbroken = 1")).find("adoption") < 0  # 0 first: fine


def test_adoption_without_periods_gives_their_number():
    """A model with ``adoption`` and no ``periods`` was refused ("3 numbers for 1 periods"), also beside
    ``--periods 3``: the list's length is the number of periods."""
    from planner.inputs.config import RolloutConfig

    assert RolloutConfig(adoption=[0.2, 0.6, 1.0]).periods == 3
    assert RolloutConfig().periods == 1


def test_pilot_ids_written_as_whole_numbers_are_read_as_text():
    from planner.inputs.config import RolloutConfig

    rollout = RolloutConfig(periods=3, pilot_regions=[1, "007"], pilot_periods=1)
    assert rollout.pilot_regions == ("1", "007")


@pytest.mark.parametrize(("changes", "fragments"), [
    # a percent typed for a fraction: every scenario's demand had been 0 (σ 40), 26 bn for 0.1 bn (adoption)
    (((None, "[uncertainty]\nacceptance_sigma = 40"),), ("key 'uncertainty.acceptance_sigma'", "3", "(got 40)")),
    (((None, "[rollout]\nadoption = [30, 70, 100]"),), ("key 'rollout.adoption'", "30 is more than 10 ×")),
    (((None, "[products.widget.proximity]\nbands_km = [50.0]\ndemand_factor = [1e14, 1.0]"),),
     ("key 'products.widget.proximity'", "demand_factor 1e+14 is more than 10 ×")),
    # the workbook cannot hold a control character: an internal error after the whole solve
    ((('currency = "USD"', 'currency = "US\\u0007D"'),), ("key 'currency'", "control characters")),
    ((('currency = "USD"', 'currency = "US\\tD"'),), ("key 'currency'", "control characters")),
    # a NUL byte had been an internal error where the file was opened; an empty path read as the folder
    ((('path = "regions.geojson"', 'path = "regions\\u0000.geojson"'),), ("key 'regions.path'", "NUL character")),
    ((('path = "regions.geojson"', 'path = ""'),), ("key 'regions.path'", "is empty")),
])
def test_values_no_model_means_are_refused(changes, fragments):
    message = config_error(*changes)
    assert all(fragment in message for fragment in fragments), message

# --- products of model values and data ---------------------------------------------------------------

PRODUCT_CASES = [
    # penalty 1e13 USD/unit × demand 200 units/yr = 2e15 USD/yr
    (((PENALTY_LINE, "unmet_penalty_per_unit = 1e13\n"),), "products.widget.unmet_penalty_per_unit"),
    # must serve; 1e12 USD/unit-km × ~11 km × 200 units/yr
    (((PENALTY_LINE, ""), ("cost_per_unit_km = 0.1", "cost_per_unit_km = 1e12")), "transport.widget.cost_per_unit_km"),
    # must serve; 9e14 USD/t × (1 kg + 1 kg/km × ≥11 km) / 1000 × 200 units/yr
    (((PENALTY_LINE, ""), ("carbon_price = 10.0", "carbon_price = 9e14")), "carbon_price"),
    # an emission cap: 9e14 kg/unit-km × ≥11 km / 1000 × 200 units/yr t CO2 in its row
    (((PENALTY_LINE, ""), ("carbon_price = 10.0", "carbon_price = 0.0"),
      ("co2_kg_per_unit_km = 1.0", "co2_kg_per_unit_km = 9e14"), (None, "[network]\nmax_co2_t_per_yr = 1e6")),
     "transport.widget.co2_kg_per_unit_km"),
]


@pytest.mark.parametrize(("changes", "key"), PRODUCT_CASES, ids=[case[1] for case in PRODUCT_CASES])
def test_products_that_reach_the_matrix_are_refused_naming_the_key(tmp_path, changes, key):
    model_config_from_dict(tomllib.loads(model_with(*changes)))  # each value alone is valid
    refused_alike(tmp_path, model_with(*changes), f"key '{key}'", "1e+")


def test_a_huge_demand_rate_is_refused_without_a_runtime_warning(tmp_path):
    refused_alike(tmp_path, model_with(("demand_rate = 1.0", "demand_rate = 1e308")),
                  "key 'products.widget.demand_rate'", "1e+15")


def test_pilot_periods_need_pilot_regions():
    message = config_error((None, "[rollout]\nperiods = 2\npilot_periods = 1"))
    assert "key 'rollout.pilot_periods'" in message and "pilot_regions is empty" in message


def test_a_cost_multiplier_that_makes_a_fixed_cost_too_large_names_the_key(tmp_path):
    # 1e14 USD/yr × cost_multiplier 100 = 1e16 USD/yr at site s1
    (tmp_path / "sites.csv").write_text("site_id,lon,lat,cost_multiplier\ns1,0.05,0.05,100\ns2,0.25,0.05,1\n")
    path = write_instance(tmp_path, model=model_with(("opening_cost_per_yr = 500.0", "opening_cost_per_yr = 1e14")))
    result = run_solve(tmp_path, "--sites", str(tmp_path / "sites.csv"), model=path)
    assert_clean_failure(result, tmp_path / "out", "model.toml", "key 'facility_types.plant.opening_cost_per_yr'",
                         "site 's1'", "sites.csv")


@pytest.mark.parametrize(("old", "new", "table"), [
    ("[products.widget]", '[products." "]', "products"),
    ("[facility_types.plant]", '[facility_types.""]', "facility_types"),
])
def test_a_blank_product_or_type_name_is_refused(old, new, table):
    """``[products.""]`` solved and printed "demand      : 10,439 units/yr"."""
    renamed = [(old, new), ("[transport.widget]", '[transport." "]'), ("[facility_types.plant.products.widget]",
                                                                      '[facility_types.plant.products." "]')]
    changes = renamed if table == "products" else [(old, new), ("[facility_types.plant.products.widget]",
                                                                '[facility_types."".products.widget]')]
    assert f"[{table}." in config_error(*changes) and "a blank name" in config_error(*changes)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("max_modules = 2", "max_module = 2", "key 'facility_types.plant.max_module': unknown key (got 2) (did you mean "
                                          "'max_modules'?)"),
    ("carbon_price = 10.0", "Carbon_Price = 10.0", "key 'Carbon_Price': unknown key (got 10.0) (did you mean "
                                                   "'carbon_price'?)"),
    ("[transport.widget]", "[transports.widget]", "key 'transports': unknown key (did you mean 'transport'?)"),
    ("max_modules = 2", "zzz = 2", "key 'facility_types.plant.zzz': unknown key (got 2); check its spelling"),
])
def test_an_unknown_key_names_the_known_key_it_resembles(old, new, expected):
    assert expected in config_error((old, new))


def test_nan_is_named_as_no_number():
    """TOML reads ``nan`` as a float, which failed every bound as "should be greater than or equal to 0"."""
    assert "key 'carbon_price': nan is no number; give one (got nan)" in config_error(
        ("carbon_price = 10.0", "carbon_price = nan"))
    misspelt = config_error(("carbon_price = 10.0", "carbon_prise = nan"))  # unknown, whatever its value
    assert "key 'carbon_prise': unknown key (got nan) (did you mean 'carbon_price'?)" in misspelt


def test_a_period_longer_than_a_century_is_refused():
    """``period_years = 1e9`` had made ``solve --periods`` count its years one by one, past any time limit."""
    message = config_error((None, "[rollout]\nperiods = 3\nperiod_years = 1e9"))
    assert "rollout.period_years" in message and "less than or equal to 100" in message
    model_config_from_dict(tomllib.loads(model_with((None, "[rollout]\nperiods = 3\nperiod_years = 100"))), "m.toml")


@pytest.mark.parametrize("change", [("[products.widget]", '[products.widget]\ndemand_column = ""'),
                                    ("[regions]", '[regions]\nname_column = "  "')])
def test_an_empty_column_name_is_refused(change):
    """``demand_column = ""`` had fallen back to ``demand_rate`` in silence."""
    assert "is empty: name a column" in config_error(change)


@pytest.mark.parametrize("objective, network, fragment", [
    ('kind = "p_median"\np = 3', "max_facilities = 2", "objective.p (3) > network.max_facilities (2)"),
    ('kind = "max_covering"\np = 5\ncoverage_km = 50', "max_facilities = 2", "objective.p (5) > network"),
    ('kind = "p_center"\np = 3', "min_facilities = 5", "objective.p (3) < the 5 facilities"),
])
def test_a_p_that_contradicts_the_facility_counts_is_refused(objective, network, fragment):
    """p had overridden network.max_facilities and min_facilities in silence (3 plants opened with at most 2)."""
    assert fragment in config_error((None, f"[objective]\n{objective}\n[network]\n{network}"))


@pytest.mark.parametrize("changes, fragment", [
    ([("max_distance_km = 100.0", "max_distance_km = 100.0\n[products.widget.service]\nmin_share_within = 1.0\n"
       "within_km = 0.001")], "the service level asks 100.0% of its demand within 0.001 km"),
    ([("max_modules = 2", "max_modules = 2\nmax_count = 0"), (PENALTY_LINE, "")],
     "the facility types' max_count (plant 0) let the sites make at most 0"),
    ([("max_modules = 2", "max_modules = 2\nmin_count = 2\ncapex = 1000.0"), (None, "[network]\ncapex_budget = 1500")],
     "min_count (with the forced and existing sites) needs capex of at least 2,000"),
])
def test_validate_finds_what_solve_would_refuse_without_solving(tmp_path, changes, fragment):
    """A service level no candidate site is near enough for, a max_count that lets nothing open, and a
    min_count whose capex the budget cannot pay: ``validate`` had said ok, then ``solve`` refused."""
    path = write_instance(tmp_path, model=model_with(*changes))
    solved = assert_clean_failure(run_solve(tmp_path, model=path), tmp_path / "out", fragment, exit_code=1)
    checked = CliRunner().invoke(main, ["validate", "--model", str(path)])
    assert checked.exit_code == 1 and checked.stderr.splitlines()[-1] == solved


def test_a_regions_path_of_the_model_that_does_not_exist_is_named_as_such(tmp_path):
    """A typo in regions.path of a model with coordinate keys had been an error about those keys, and
    'not found' told the user to fix the REGIONS argument."""
    model = model_with(('path = "regions.geojson"', 'path = "regions_v2.gpkg"\nlon_column = "x"'))
    line = refused_alike(tmp_path, model, "regions_v2.gpkg: regions file not found", "regions.path in model.toml")
    assert "lon_column" not in line


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("carbon_price = 10.0", "carbon_price = 10.0\ncircuity = 1.3",
     "key 'circuity': unknown key (got 1.3) ('circuity' is a key of [distance]); move it there"),
    ("[facility_types.plant]", "[facility_types.plant]\ndemand_rate = 2.0", "('demand_rate' is a key of "
                                                                            "[products.<name>]); move it there"),
    ("[regions]", "[regions]\ncarbon_price = 3.0", "('carbon_price' is a key of the top level"),
    ("cost_per_unit = 2.0", "cost_per_unit = 2.0\nmodule_cost_per_yr = 1.0", "('module_cost_per_yr' is a key of "
                                                                              "[facility_types.plant])"),
])
def test_a_key_in_the_wrong_table_names_its_table(old, new, expected):
    """A key of another table (``circuity`` at the top level, not under ``[distance]``) had been "unknown key ...;
    check its spelling", which its spelling cannot fix."""
    message = config_error((old, new))
    assert expected in message
    assert "check its spelling" not in message or "did you mean" in message
