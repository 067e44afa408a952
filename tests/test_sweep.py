"""`planner sweep` on a real dask.distributed LocalCluster (2 worker processes on loopback).

The instance: regions at longitudes 0, 1, 2, 3 (demand 10, 20, 10, 20), a central type (opens for
100, makes a unit for 1, emits 10 kg) and a microfactory type (opens for 60, makes a unit for 1.6,
emits 2 kg), transport 0.01 per unit-km and 0.1 kg per unit-km. A higher carbon price can only move
the exact optimum to a network with no more CO2 (exchange argument: if the price rises from c to c',
optimality at both gives (c' − c)(E' − E) ≤ 0).
"""

from __future__ import annotations

import errno
import json
import logging
import os

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.errors import InputError
from planner.export.sweep_charts import write_sweep_charts
from planner.export.sweep_folder import write_scenario_folder
from planner.inputs.prepare import DataOptions
from planner.pipeline import plan
from planner.solver.outcome import SolverOptions
from planner.studies.sweep import Vary, run_sweep, sample_points
from planner.studies.sweep.runner import make_tasks
from planner.studies.sweep.scenario import resolve, result_figures
from tests.builders import equator_regions, tiny_config, tiny_model_file

EXACT = SolverOptions(mip_gap=1e-9)


def two_type_config(tmp_path):
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 1.0, 2.0, 3.0], [10, 20, 10, 20])
    return tiny_config(
        regions,
        transport={"standard": {"cost_per_unit_km": 0.01, "co2_kg_per_unit_km": 0.1}},
        facility_types={
            "central": {"role": "central", "opening_cost_per_yr": 100.0,
                        "products": {"standard": {"cost_per_unit": 1.0, "co2_kg_per_unit": 10.0}}},
            "micro": {"role": "microfactory", "opening_cost_per_yr": 60.0,
                      "products": {"standard": {"cost_per_unit": 1.6, "co2_kg_per_unit": 2.0}}},
        },
    )


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0", silence_logs=logging.ERROR) as local:
        yield local


@pytest.mark.slow
def test_carbon_price_sweep_on_two_workers(tmp_path, cluster):
    config = two_type_config(tmp_path)
    varies = [Vary.parse("carbon_price=0:300:7", config)]
    out = tmp_path / "sweep"
    result = run_sweep(config, varies, DataOptions(), EXACT, out, scheduler=cluster.scheduler_address,
                       writer=write_scenario_folder)
    write_sweep_charts(result.rows, result.keys, out)
    rows = result.rows
    assert result.solved == 7 and result.failed == 0 and rows["status"].eq("optimal").all()
    assert (np.diff(rows["co2_t"].to_numpy()) <= 1e-9).all()
    assert rows["co2_t"].iloc[0] > rows["co2_t"].iloc[-1]  # the price does move this network
    keys = {json.loads((out / f / "summary.json").read_text())["inputs"]["sweep"]["key"] for f in rows["folder"]}
    assert len(keys) == 7
    # each scenario is the same optimum as a direct solve of its resolved model
    for row in rows.iloc[[0, 3, 6]].itertuples(index=False):
        direct = plan(resolve(config, {"carbon_price": row.carbon_price}), DataOptions(), EXACT).run
        assert row.objective == pytest.approx(direct.report.objective, rel=1e-9)
    assert (out / "sweep_results.png").stat().st_size > 0 and (out / "facility_mix.png").stat().st_size > 0
    csv = pd.read_csv(out / "sweep.csv")
    assert list(csv.columns[:3]) == ["scenario", "carbon_price", "status"]
    assert list(csv.columns[4:6]) == ["mip_gap", "currency"] and set(csv["currency"]) == {config.currency}


def write_onto_a_full_disk(result, config, task, row) -> None:
    """A scenario writer on a disk with no space left (a module-level function, so the workers can load it)."""
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), task.folder)


@pytest.mark.slow
def test_a_full_disk_stops_the_sweep(tmp_path, cluster):
    """The first scenario that fails on a full disk ends the sweep with that error (the CLI's one line, exit
    2) and the scenarios not yet started are not solved: each would fail the same way."""
    config = two_type_config(tmp_path)
    varies = [Vary.parse("carbon_price=0:300:12", config)]
    seen = []
    with pytest.raises(OSError) as raised:
        run_sweep(config, varies, DataOptions(), EXACT, tmp_path / "sweep", scheduler=cluster.scheduler_address,
                  writer=write_onto_a_full_disk, on_result=seen.append)
    assert raised.value.errno == errno.ENOSPC and "scenarios" in raised.value.filename
    assert 1 <= len(seen) < 12 and all("No space left" in row["error"] for row in seen)


@pytest.mark.slow
def test_failures_are_recorded_and_a_rerun_skips_finished(tmp_path, cluster):
    """max_facilities 0 cannot serve demand that must be served (infeasible on a worker, recorded as such with
    the explanation); min_modules 3 with max_modules 2 is rejected by the schema (3 with 3 is fine): failed. The
    other scenarios finish; a rerun reuses them and retries the rest; a finished folder whose outputs were
    deleted by hand is solved again."""
    config = two_type_config(tmp_path)
    config = resolve(config, {"products.standard.unmet_penalty_per_unit": None})
    varies = [Vary.parse("network.max_facilities=0,2", config),
              Vary.parse("facility_types.micro.min_modules=1,3", config),
              Vary.parse("facility_types.micro.max_modules=2,3", config)]
    out = tmp_path / "sweep"
    first = run_sweep(config, varies, DataOptions(), EXACT, out, scheduler=cluster.scheduler_address,
                       writer=write_scenario_folder)
    keys = ["network.max_facilities", "facility_types.micro.min_modules", "facility_types.micro.max_modules"]
    table = first.rows.set_index(keys)
    assert table.loc[0, "status"].tolist() == ["infeasible", "infeasible", "failed", "infeasible"]
    assert first.infeasible == 3 and first.failed == 2
    rejected = table.loc[(2, 3, 2)]
    assert rejected["status"] == "failed" and "max_modules (2) < min_modules (3)" in rejected["error"]
    assert "infeasible" in table.loc[(0, 1, 2), "error"] and "network.max_facilities" in table.loc[(0, 1, 2), "error"]
    assert [table.loc[k, "status"] for k in [(2, 1, 2), (2, 1, 3), (2, 3, 3)]] == ["optimal"] * 3
    assert first.rows["network.max_facilities"].map(type).eq(int).all()  # whole numbers stay whole in the table
    finished = [out / folder for folder in first.rows.loc[first.rows["status"] == "optimal", "folder"]]
    stamp = (finished[0] / "summary.json").stat().st_mtime_ns
    (finished[1] / "flows.csv").unlink()  # a finished folder with an output deleted by hand
    again = run_sweep(config, varies, DataOptions(), EXACT, out, scheduler=cluster.scheduler_address,
                       writer=write_scenario_folder)
    assert again.reused == 2 and again.failed == 2 and again.infeasible == 3 and again.solved == 1
    assert (finished[0] / "summary.json").stat().st_mtime_ns == stamp and (finished[1] / "flows.csv").is_file()
    assert again.rows["objective"].tolist() == pytest.approx(first.rows["objective"].tolist(), nan_ok=True)
    reused = again.rows[again.rows["reused"]]
    assert len(reused) == 2 and (reused["seconds"] > 0).all()  # a reused row had shown no seconds


def test_a_reused_row_keeps_no_key_of_the_earlier_sweep(tmp_path):
    """A rerun with fewer --vary keys: the reused rows brought the earlier sweep's key into sweep.csv as a column
    (60.0 in them, blank in the new rows)."""
    import json

    from planner.studies.sweep.scenario import OUTPUTS_KEY, ROW_FILE, read_finished

    row = {"scenario": 1, "key": "k", "carbon_price": 0.1, "facility_types.micro.opening_cost_per_yr": 60.0,
           "objective": 5.0, "seconds": 3.2, "params": {"carbon_price": 0.1,
                                                         "facility_types.micro.opening_cost_per_yr": 60.0},
           OUTPUTS_KEY: []}
    (tmp_path / ROW_FILE).write_text(json.dumps(row), encoding="utf-8")
    assert read_finished(tmp_path) == {"scenario": 1, "key": "k", "objective": 5.0, "seconds": 3.2}


def test_a_value_rejected_in_every_scenario_refuses_the_sweep(tmp_path):
    """A negative opening cost can be part of no scenario: the command is wrong, before anything runs
    (exit 2 from the CLI); min_modules 3 is rejected only beside max_modules 2, so that is a failed scenario."""
    config = two_type_config(tmp_path)
    bad = [Vary.parse("network.max_facilities=1,2", config),
           Vary.parse("facility_types.micro.opening_cost_per_yr=-5,60", config)]
    with pytest.raises(InputError, match=r"--vary facility_types.micro.opening_cost_per_yr=-5: .*every scenario"):
        make_tasks(config, bad, DataOptions(), EXACT, tmp_path / "out")
    partly = [Vary.parse("facility_types.micro.min_modules=1,3", config),
              Vary.parse("facility_types.micro.max_modules=2,3", config)]
    tasks = make_tasks(config, partly, DataOptions(), EXACT, tmp_path / "out")
    assert [task.config_error is not None for task in tasks] == [False, False, True, False]
    assert not (tmp_path / "out").exists()


def test_whole_number_keys_left_unset_are_whole(tmp_path):
    """network.max_facilities is None in the model; the schema says it is an integer."""
    config = two_type_config(tmp_path)
    assert Vary.parse("network.max_facilities=1,2", config).integer
    assert not Vary.parse("carbon_price=1,2", config).integer


@pytest.mark.parametrize("text", ["carbon_price=0:inf:2", "carbon_price=-inf:3", "carbon_price=nan:1:3"])
def test_vary_range_ends_must_be_finite(text, recwarn):
    with pytest.raises(InputError, match="--vary"):
        Vary.parse(text)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize(
    "text", ["carbon_price", "carbon_price=1:2:1", "carbon_price=a:b:3", "=1:2:3", "carbon_price=1:2:3:4"]
)
def test_bad_vary_is_an_input_error(text):
    with pytest.raises(InputError, match="--vary"):
        Vary.parse(text)


def test_vary_keys_are_checked_against_the_model(tmp_path):
    config = two_type_config(tmp_path)
    with pytest.raises(InputError, match="'nope' is not a key of facility_types.micro"):
        Vary.parse("facility_types.micro.nope=1:2:3", config)
    with pytest.raises(InputError, match="not a number"):
        Vary.parse("name=1:2:3", config)
    assert Vary.parse("facility_types.micro.min_modules=1:3:3", config).values == (1.0, 2.0, 3.0)


def test_vary_a_key_of_a_table_the_model_leaves_out(tmp_path):
    """products.<p>.service is unset: the key exists in the schema, so "not a key" would mislead."""
    config = two_type_config(tmp_path)
    product = next(iter(config.products))
    with pytest.raises(InputError, match=rf"products.{product}.service is not set in model .*; add it to the model"):
        Vary.parse(f"products.{product}.service.min_share_within=0.5,0.9", config)


def test_grid_and_latin_hypercube():
    a, b = Vary("a", (0.0, 1.0, 2.0)), Vary("b", (10.0, 20.0))
    assert sample_points([a, b]) == [{"a": x, "b": y} for x in (0.0, 1.0, 2.0) for y in (10.0, 20.0)]
    points = sample_points([a, b], "lhs", samples=8, seed=3)
    assert points == sample_points([a, b], "lhs", samples=8, seed=3)
    values = np.array([[p["a"], p["b"]] for p in points])
    # one point in each of the 8 equal strata of each range
    assert sorted(np.floor((values[:, 0] - 0.0) / 2.0 * 8).astype(int).tolist()) == list(range(8))
    assert sorted(np.floor((values[:, 1] - 10.0) / 10.0 * 8).astype(int).tolist()) == list(range(8))
    with pytest.raises(InputError, match="--samples"):
        sample_points([a], "lhs")


def test_latin_hypercube_samples_of_a_whole_number_key_are_solved_once_each(caplog):
    """Six samples of 1–3 modules round onto at most three scenarios; repeats had shared one task and
    ended the sweep in an internal error."""
    modules = Vary("facility_types.micro.max_modules", (1.0, 3.0), integer=True)
    points = sample_points([modules], "lhs", samples=6, seed=0)
    values = [p["facility_types.micro.max_modules"] for p in points]
    assert len(values) == len(set(values)) and set(values) <= {1, 2, 3}
    assert "distinct scenarios are solved" in caplog.text


@pytest.mark.slow
def test_sweep_command_with_its_own_local_cluster(tmp_path):
    config_path = tmp_path / "m.toml"
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 1.0], [10, 10])
    tiny_model_file(config_path, regions)
    out = tmp_path / "s"
    args = ["sweep", "--model", str(config_path), "--vary", "transport.standard.cost_per_unit_km=0.001:0.1:3",
            "--workers", "2", "--out", str(out), "--quiet"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "solved 3, reused 0, infeasible 0, failed 0" in result.output
    result = CliRunner().invoke(main, args)
    assert "solved 0, reused 3, infeasible 0, failed 0" in result.output
    bad = CliRunner().invoke(main, [*args[:3], "--vary", "transport.nope=1:2:3", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "'nope' is not a key of transport" in bad.output
    assert not (tmp_path / "x").exists()
    unreachable = CliRunner().invoke(
        main, [*args[:5], "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "y")]
    )
    assert unreachable.exit_code == 2 and "cannot connect" in unreachable.output
    assert not (tmp_path / "y").exists()


def leave_a_temporary_file(seconds: float) -> str:
    """On a worker: a temporary file as a workbook writer leaves it while it writes, then a long wait."""
    import tempfile
    import time

    handle, name = tempfile.mkstemp(prefix="openpyxl.")
    os.close(handle)
    time.sleep(seconds)
    return name


@pytest.mark.slow
def test_an_interrupted_sweep_leaves_nothing_in_the_temporary_folder(tmp_path, monkeypatch):
    """Workers killed on Ctrl-C had left dask's scratch folders and their half-written temporary files in
    $TMPDIR; both now live in one folder of the sweep's, removed with the cluster."""
    import tempfile
    import time

    from planner.studies.sweep.runner import dask_client

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    with pytest.raises(KeyboardInterrupt), dask_client(workers=1) as client:
        client.submit(leave_a_temporary_file, 60.0)
        deadline = time.monotonic() + 60
        while not list(temporary.rglob("openpyxl.*")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert list(temporary.rglob("openpyxl.*")), "the worker's temporary file was not in the sweep's folder"
        raise KeyboardInterrupt
    assert list(temporary.iterdir()) == []


@pytest.mark.parametrize(("text", "fragment"), [
    ("carbon_price=5,5", "the value 5 is repeated"),
    ("carbon_price=5:5:3", "the value 5 is repeated"),
    ("facility_types.micro.max_modules=1:4:3", "is a whole number and 2.5 is not"),
])
def test_vary_values_are_checked_before_anything_runs(tmp_path, text, fragment):
    config = two_type_config(tmp_path)
    with pytest.raises(InputError, match=fragment) as raised:
        Vary.parse(text, config)
    assert str(raised.value).startswith(f"--vary '{text}'")


def test_options_a_method_does_not_use_are_warned_about(caplog):
    listed = [Vary("carbon_price", (0.0, 50.0, 100.0))]
    with caplog.at_level("WARNING", logger="planner"):
        assert len(sample_points(listed, "lhs", samples=3)) == 3
        assert len(sample_points(listed, "grid", samples=3)) == 3
    assert "the 3 values listed are not used" in caplog.text
    assert "--samples 3 is for --method lhs" in caplog.text
    ranged = Vary.parse("carbon_price=0:100")  # a range for lhs: the grid had solved its two ends without a word
    assert ranged.range_only and not Vary.parse("carbon_price=0:100:2").range_only
    with caplog.at_level("WARNING", logger="planner"):
        assert len(sample_points([ranged], "grid")) == 2
    assert "--vary carbon_price=START:STOP is a range for --method lhs; the grid solves its two ends" in caplog.text


def test_a_type_named_like_a_role_total_does_not_overwrite_it(tmp_path):
    """A microfactory type named ``central`` and a central type named ``facilities``: the row's role
    totals count roles (the per-type counts have their own ``n_type_`` columns)."""
    regions = equator_regions(tmp_path / "r.geojson", [0.0, 1.0, 2.0, 3.0], [10, 20, 10, 20])
    config = tiny_config(
        regions, transport={"standard": {"cost_per_unit_km": 0.01, "co2_kg_per_unit_km": 0.1}},
        facility_types={
            "facilities": {"role": "central", "opening_cost_per_yr": 1e6,
                           "products": {"standard": {"cost_per_unit": 1.0, "co2_kg_per_unit": 10.0}}},
            "central": {"role": "microfactory", "opening_cost_per_yr": 1.0,
                        "products": {"standard": {"cost_per_unit": 1.6, "co2_kg_per_unit": 2.0}}},
        },
    )
    run = plan(config, DataOptions(), EXACT).run
    row = result_figures(run, config)
    opened = int(run.solution.open.sum())
    assert opened == 4  # a microfactory (named central) at each region; the plant is too dear
    assert row["n_facilities"] == opened and row["n_central"] == 0 and row["n_microfactory"] == opened
    assert row["n_type_central"] == opened and row["n_type_facilities"] == 0


@pytest.mark.parametrize(("text", "typed"), [("carbon_price=nan:1:3", "nan"), ("carbon_price=0:inf:3", "inf"),
                                             ("carbon_price=1,-inf", "-inf")])
def test_a_non_finite_vary_value_names_what_was_typed(text, typed):
    with pytest.raises(InputError, match=f"--vary '{text}': '{typed}' is not a finite number; give finite values"):
        Vary.parse(text)


def _scenario_folder(root, key: str, *extra: str) -> None:
    """A finished scenario folder as a sweep writes it (row.json last, listing the others), plus ``extra`` files."""
    from planner.studies.sweep.scenario import OUTPUTS_KEY, ROW_FILE

    folder = root / "scenarios" / key
    folder.mkdir(parents=True)
    (folder / "sites.csv").write_text("site_id\n")
    (folder / ROW_FILE).write_text(json.dumps({"key": key, OUTPUTS_KEY: ["sites.csv"]}))
    for name in extra:
        (folder / name).write_text("mine")


def test_a_rerun_replaces_only_the_earlier_scenarios_the_planner_recorded_and_left_unchanged(tmp_path, caplog):
    """A rerun with other values had left the earlier sweep's scenario folders beside its own; they are replaced
    now where the marker records them and they hold just what the planner wrote; a folder not recorded, or one
    holding a file of the user's, is left and named."""
    from planner.export.folder import marker_lines, write_marker
    from planner.export.sweep_folder import SCENARIO_LINE, record_scenarios, replace_earlier_scenarios

    write_marker(tmp_path)
    for key in ("new1", "old1", "old2"):
        _scenario_folder(tmp_path, key)
    _scenario_folder(tmp_path, "old3", "notes.txt")  # the user's note in a folder of the earlier sweep
    record_scenarios(tmp_path, {"old1", "old3"})
    _scenario_folder(tmp_path, "mine")  # not recorded: not known as the planner's
    (tmp_path / "scenarios" / ".old0.replaced").mkdir()  # one a stopped rerun had moved aside to remove
    with caplog.at_level(logging.INFO, logger="planner"):
        replace_earlier_scenarios(tmp_path, {"new1"})
    assert sorted(p.name for p in (tmp_path / "scenarios").iterdir()) == ["mine", "new1", "old2", "old3"]
    assert "1 scenario folders of an earlier sweep with other values replaced (old1)" in caplog.text
    assert "3 folders (mine, old2, old3) are not scenarios of this sweep" in caplog.text
    assert (tmp_path / "scenarios" / "old3" / "notes.txt").read_text() == "mine"
    assert marker_lines(tmp_path, SCENARIO_LINE) == ["new1", "old3"]


@pytest.mark.slow
def test_a_rerun_with_other_values_leaves_only_its_own_scenarios(tmp_path, cluster):
    """The second sweep's folder holds its scenarios only, and its sweep.csv and charts; one stopped by Ctrl-C
    (here after its first scenario) leaves the earlier sweep's as they were and records its own."""
    from planner.export.folder import marker_lines
    from planner.export.sweep_folder import SCENARIO_LINE, sweep_to_folder

    config = two_type_config(tmp_path)
    out = tmp_path / "sweep"

    def sweep(text, **options):
        return sweep_to_folder(config, [Vary.parse(text, config)], DataOptions(), EXACT, out,
                               **({"scheduler": cluster.scheduler_address} | options))

    first = sweep("carbon_price=0,50")

    def stop(row):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # its own cluster, whose workers are killed at once, as on Ctrl-C
        sweep("network.max_facilities=1,2,3", on_result=stop, scheduler=None, workers=1)
    folders = {p.name for p in (out / "scenarios").iterdir() if not p.name.startswith(".")}
    assert set(first.rows["key"]) < folders and set(marker_lines(out, SCENARIO_LINE)) == folders
    second = sweep("network.max_facilities=1,2")
    assert {p.name for p in (out / "scenarios").iterdir()} == set(second.rows["key"])
    assert pd.read_csv(out / "sweep.csv")["key"].tolist() == second.rows["key"].tolist()
    assert sorted(marker_lines(out, SCENARIO_LINE)) == sorted(second.rows["key"])


def _blocked_signals() -> list[int]:
    import signal

    return sorted(int(number) for number in signal.pthread_sigmask(signal.SIG_BLOCK, set()))


@pytest.mark.slow  # a local cluster starts (2-3 s)
@pytest.mark.skipif(not hasattr(__import__("signal"), "pthread_sigmask"), reason="POSIX signal masks")
def test_the_workers_start_with_ctrl_c_blocked_and_the_planner_keeps_it():
    """Ctrl-C to the process group reaches only the planner, which ends the workers itself (a worker
    reached while it started printed Python's traceback)."""
    import multiprocessing.util as mp_util
    import signal
    import sys

    from planner.studies.sweep.runner import dask_client

    spawn, warning_options = mp_util.spawnv_passfds, list(sys.warnoptions)
    with dask_client(workers=1) as client:
        masks = client.run(_blocked_signals)
    assert masks and all({int(signal.SIGINT), int(signal.SIGHUP)} <= set(mask) for mask in masks.values())
    assert int(signal.SIGINT) not in _blocked_signals()
    # a caller from Python keeps its process as it was: multiprocessing's own spawn, its warning options
    assert mp_util.spawnv_passfds is spawn and sys.warnoptions == warning_options


@pytest.mark.parametrize("text", ["carbon_price=1_0,2", "carbon_price=0:100:1_0", "carbon_price=1_0:20"])
def test_vary_refuses_digit_separators(text):
    with pytest.raises(InputError, match="use KEY=START:STOP:N"):
        Vary.parse(text)


def test_latin_hypercube_draws_each_whole_value_equally_often():
    """Rounding a draw over [1, 3] had given 1 and 3 half the weight of 2 (75, 150, 75 of 300)."""
    import collections

    modules = Vary("facility_types.micro.max_modules", (1.0, 3.0), integer=True)
    points = sample_points([modules, Vary("carbon_price", (0.0, 1.0))], "lhs", samples=300, seed=0)
    assert collections.Counter(p["facility_types.micro.max_modules"] for p in points) == {1: 100, 2: 100, 3: 100}


@pytest.mark.parametrize("text", ["carbon_price=1,000", "carbon_price=5,1,050"])
def test_vary_refuses_a_list_that_reads_as_thousands(text):
    """--vary carbon_price=1,000 had run the values 1 and 0."""
    with pytest.raises(InputError, match="after a comma reads as a thousands group"):
        Vary.parse(text)
    assert Vary.parse("carbon_price=0,0.5,100").values == (0.0, 0.5, 100.0)


def test_sensitivity_ranges_refuse_digit_separators():
    from planner.studies.sensitivity import parse_range

    with pytest.raises(InputError, match="KEY=LOW:HIGH"):
        parse_range("carbon_price=0:1_0")


def test_one_key_in_two_spellings_is_given_twice():
    varies = [Vary.parse("products.standard.demand_rate=1,2"), Vary.parse('products."standard".demand_rate=3,4')]
    assert varies[1].key == "products.standard.demand_rate"
    with pytest.raises(InputError, match="a key is given twice"):
        sample_points(varies)


def test_the_data_fingerprint_changes_with_every_input_that_decides_a_result(tmp_path):
    """A rerun reuses a scenario only on the same data read the same way: a changed suppliers file (the
    model's or --suppliers), coordinate columns, CRS or a shapefile's attributes (its .dbf) each change it."""
    import geopandas as gpd
    from shapely.geometry import Point

    from planner.studies.sweep.scenario import data_fingerprint

    regions = equator_regions(tmp_path / "regions.geojson", [0.0, 1.0], [10.0, 20.0])
    config = tiny_config(regions)
    suppliers = tmp_path / "suppliers.csv"
    suppliers.write_text("supplier_id,material,lon,lat,cost_per_unit\nS,steel,0,0,1\n")
    base = data_fingerprint(config, DataOptions(suppliers_path=suppliers))
    suppliers.write_text("supplier_id,material,lon,lat,cost_per_unit\nS,steel,0,0,10\n")
    assert data_fingerprint(config, DataOptions(suppliers_path=suppliers)) != base
    model_suppliers = config.model_copy(update={"suppliers": config.suppliers.model_copy(update={"path": suppliers})})
    before = data_fingerprint(model_suppliers, DataOptions())
    suppliers.write_text("supplier_id,material,lon,lat,cost_per_unit\nS,steel,0,0,100\n")
    assert data_fingerprint(model_suppliers, DataOptions()) != before
    plain = data_fingerprint(config, DataOptions())
    for changed in (DataOptions(lon_column="x"), DataOptions(lat_column="y"), DataOptions(crs="EPSG:3857")):
        assert data_fingerprint(config, changed) != plain
    shapefile = tmp_path / "regions.shp"
    gpd.GeoDataFrame({"GEOID": ["a"], "pop": [1.0]}, geometry=[Point(0, 0)], crs="EPSG:4326").to_file(shapefile)
    first = data_fingerprint(config, DataOptions(regions_path=shapefile))
    gpd.GeoDataFrame({"GEOID": ["a"], "pop": [2.0]}, geometry=[Point(0, 0)], crs="EPSG:4326").to_file(shapefile)
    assert data_fingerprint(config, DataOptions(regions_path=shapefile)) != first
    upper = tmp_path / "UP.SHP"  # sidecars in upper case: UP.DBF
    for part in tmp_path.glob("regions.*"):
        if part.suffix != ".geojson":
            part.rename(tmp_path / f"UP{part.suffix.upper()}")
    before = data_fingerprint(config, DataOptions(regions_path=upper))
    gpd.GeoDataFrame({"GEOID": ["a"], "pop": [3.0]}, geometry=[Point(0, 0)], crs="EPSG:4326").to_file(
        tmp_path / "other.shp")
    (tmp_path / "other.dbf").replace(tmp_path / "UP.DBF")
    assert data_fingerprint(config, DataOptions(regions_path=upper)) != before
    after = data_fingerprint(config, DataOptions(regions_path=upper))
    (tmp_path / "UP.backup.dbf").write_bytes(b"another shapefile's attributes")  # not a sidecar of UP.SHP
    assert data_fingerprint(config, DataOptions(regions_path=upper)) == after


@pytest.mark.parametrize(("key", "message"), [("rollout.discount_rate", "is read only by planner solve --"),
                                              ("uncertainty.acceptance_sigma", "is read only by planner solve --"),
                                              ("solver.mip_gap", r"\[solver\] settings are read once")])
def test_a_key_no_plain_solve_reads_is_refused_by_every_study(tmp_path, key, message):
    """A sweep, compare's breakeven sweep and a sensitivity run plain solves, which read neither
    [rollout] nor [uncertainty]: three equal objectives and a flat tornado bar had followed in silence.
    [solver] is read once for the whole study: solver.mip_gap=0.5,0.0001 had given two equal optima."""
    from planner.studies.compare import Sweep
    from planner.studies.sensitivity import sensitivity_parameters

    config = two_type_config(tmp_path)
    with pytest.raises(InputError, match=message):
        Vary.parse(f"{key}=0.1,0.2", config)
    with pytest.raises(InputError, match=message):
        Sweep.parse(f"{key}=0.1:0.2:2").check(config)
    with pytest.raises(InputError, match=message):
        sensitivity_parameters(config, overrides=(f"{key}=0.1:0.2",))


@pytest.mark.slow
def test_a_scenario_stopped_at_its_limit_takes_another_scenarios_cheaper_network(tmp_path):
    """Scenarios are solved apart: one stopped at its time limit had reported 35,400 kEUR/yr where another
    scenario's network cost 18,295 in its model. The cheaper network is kept, with the scenario's bound, its
    folder written again; a scenario solved to optimality is left alone."""
    from planner.studies.sweep.rivals import keep_cheaper_networks
    from planner.studies.sweep.scenario import run_scenario

    config = two_type_config(tmp_path)
    varies = [Vary.parse("facility_types.micro.opening_cost_per_yr=60,61", config)]
    tasks = make_tasks(config, varies, DataOptions(), EXACT, tmp_path / "sweep", writer=write_scenario_folder)
    rows = {task.number: run_scenario(task) for task in tasks}
    first, second = tasks
    solved = dict(rows[first.number])
    rows[first.number] = {**solved, "status": "time_limit", "objective": solved["objective"] + 500.0}  # stopped
    keep_cheaper_networks(tasks, rows, {first.number, second.number})
    kept = rows[first.number]
    assert kept["objective"] <= solved["objective"] + 1.0 + 1e-9  # the other's network, 1 dearer at most
    assert kept["best_bound"] == pytest.approx(solved["best_bound"])
    # its bound proves the other's network within the gap asked for: gap_limit, never optimal (it stopped)
    assert kept["status"] == ("gap_limit" if kept["mip_gap"] <= EXACT.mip_gap else "time_limit")
    summary = json.loads((tmp_path / "sweep" / first.folder / "summary.json").read_text())
    assert summary["objective"] == pytest.approx(kept["objective"]) and summary["audit"]["passed"]
    assert rows[second.number]["status"] == "optimal"


def test_a_sweep_from_python_into_a_folder_of_the_users_is_refused_and_nothing_changed(tmp_path):
    """``sweep_to_folder``, the way from Python: ``run_sweep`` called alone had replaced a user's sweep.csv."""
    from planner.export.sweep_folder import sweep_to_folder

    config = two_type_config(tmp_path)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "sweep.csv").write_text("user,data\n")
    with pytest.raises(InputError, match="was not written by the planner .* nothing was changed"):
        sweep_to_folder(config, [Vary.parse("carbon_price=0,50", config)], DataOptions(), EXACT, out, workers=1)
    assert sorted(p.name for p in out.iterdir()) == ["sweep.csv"] and (out / "sweep.csv").read_text() == "user,data\n"


def test_the_other_scenarios_networks_are_priced_with_their_module_counts(tmp_path):
    """A stopped scenario was priced with the other scenarios' networks as open (site, type) pairs only, rebuilt
    at their largest capacity and rounded up to whole modules, which can cost more than the network did in its
    own scenario (compare --sensitivity: 80.09 M KES/yr against 78.66 M): the counts now go with each network,
    those of the cheapest scenario that found it."""
    from planner.studies.sweep.rivals import _rivals, open_network, open_network_modules

    folder = tmp_path / "a"
    folder.mkdir()
    pd.DataFrame({"site_id": ["01", "02"], "site_name": ["x", "y"], "facility_type": ["micro", "central"],
                  "modules": [3, 1]}).to_csv(folder / "sites.csv", index=False)
    assert open_network_modules(folder) == {("01", "micro"): 3, ("02", "central"): 1}
    assert open_network(folder) == frozenset({("01", "micro"), ("02", "central")})
    assert open_network_modules(tmp_path / "missing") is None
    same = {("01", "micro"): 3}
    networks = {0: same, 1: {("01", "micro"): 5}, 2: {("02", "central"): 1}}
    rivals = _rivals(networks, cheapest_first=[2, 1, 0], number=2)
    assert rivals == {frozenset(same): {("01", "micro"): 5}}  # scenario 1's counts: it is cheaper than 0
    assert list(_rivals(networks, [2, 1, 0], number=0)) == [frozenset({("02", "central")}), frozenset(same)]


def test_an_infeasible_scenario_is_recorded_as_infeasible_with_its_explanation(tmp_path):
    """A scenario whose model has no feasible network (two plants at most where demand that must be served
    needs three) had been recorded as ``failed``, as a crash or a refused value is: it is ``infeasible`` now,
    with the explanation (which capacity falls short) in ``error``, and no folder."""
    from planner.studies.sweep.scenario import run_scenario

    config = resolve(two_type_config(tmp_path), {"products.standard.unmet_penalty_per_unit": None})
    config = resolve(config, {"facility_types.central.module_capacity_per_yr": 20.0,
                              "facility_types.micro.module_capacity_per_yr": 20.0})
    varies = [Vary.parse("network.max_facilities=2,3", config)]
    tasks = make_tasks(config, varies, DataOptions(), EXACT, tmp_path / "sweep", writer=write_scenario_folder)
    short, enough = (run_scenario(task) for task in tasks)
    assert short["status"] == "infeasible"
    assert "network.max_facilities = 2" in short["error"] and "can make at most 40" in short["error"]
    assert enough["status"] == "optimal" and enough["error"] == ""
    assert not os.path.exists(tasks[0].folder)


def test_the_sweep_table_and_its_result_count_infeasible_scenarios_apart_from_failed_ones(tmp_path, monkeypatch):
    """``SweepResult`` and sweep.csv tell a scenario without a feasible network from one that failed."""
    from planner.studies.sweep import runner

    config = two_type_config(tmp_path)
    varies = [Vary.parse("network.max_facilities=1,2,3,4", config)]
    statuses = {0: ("infeasible", "the 1 largest sites can make at most 20"), 1: ("failed", "RuntimeError: boom"),
                2: ("optimal", ""), 3: ("no_network_in_time", "HiGHS ended without a feasible solution")}

    def solve_on_dask(pending, out, report, workers, scheduler):
        return {task.number: {"scenario": task.number, "key": task.key, **task.params,
                              "status": statuses[task.number][0], "error": statuses[task.number][1],
                              "objective": 5.0 if task.number == 2 else None, "mip_gap": 0.0, "seconds": 0.1,
                              "reused": False} for task in pending}

    monkeypatch.setattr(runner, "solve_on_dask", solve_on_dask)
    result = run_sweep(config, varies, DataOptions(), EXACT, tmp_path / "sweep", writer=write_scenario_folder)
    counts = (result.solved, result.reused, result.infeasible, result.failed, result.no_network_in_time)
    assert counts == (1, 0, 1, 1, 1)
    assert result.rows["status"].tolist() == ["infeasible", "failed", "optimal", "no_network_in_time"]
    assert result.rows["folder"].tolist() == ["", "", result.rows["folder"][2], ""] and result.rows["folder"][2]
    assert result.without_network == 3


def test_a_scenario_the_time_limit_ends_before_any_network_is_no_network_in_time_not_failed(tmp_path, monkeypatch):
    """A scenario whose solve the time limit ended before any network was found had been ``failed``, as a crash
    is: the model may well have a network, more time may find it. It is ``no_network_in_time``, with the
    solver's words in ``error`` and no folder."""
    from planner.errors import NoSolutionInTimeError
    from planner.studies.sweep import scenario

    def out_of_time(*args, **kwargs):
        raise NoSolutionInTimeError("HiGHS ended without a feasible solution (status: time limit); give it more time")

    config = two_type_config(tmp_path)
    varies = [Vary.parse("network.max_facilities=2", config)]
    task = make_tasks(config, varies, DataOptions(), EXACT, tmp_path / "sweep", writer=write_scenario_folder)[0]
    monkeypatch.setattr(scenario, "_solve_and_write", out_of_time)
    row = scenario.run_scenario(task)
    assert row["status"] == "no_network_in_time" and row["error"].startswith("HiGHS ended without a feasible")
    assert not os.path.exists(task.folder)


def test_a_stopped_scenario_whose_rival_network_is_within_the_gap_asked_for_is_gap_limit(tmp_path):
    """A scenario stopped at its time limit takes another scenario's cheaper network; where that one is within
    the --mip-gap asked for of the scenario's own bound, it is ``gap_limit`` (as a single solve labels a run
    stopped at a limit within its gap), in sweep.csv's row and the folder's summary.json; it had stayed
    ``time_limit``."""
    from planner.studies.sweep.rivals import keep_cheaper_networks
    from planner.studies.sweep.scenario import run_scenario

    config = two_type_config(tmp_path)
    varies = [Vary.parse("facility_types.micro.opening_cost_per_yr=60,61", config)]
    tasks = make_tasks(config, varies, DataOptions(), SolverOptions(mip_gap=0.01), tmp_path / "sweep",
                       writer=write_scenario_folder)
    rows = {task.number: run_scenario(task) for task in tasks}
    first = tasks[0]
    solved = dict(rows[first.number])
    rows[first.number] = {**solved, "status": "time_limit", "objective": solved["objective"] + 500.0}
    keep_cheaper_networks(tasks, rows, {task.number for task in tasks})
    kept = rows[first.number]
    assert kept["mip_gap"] <= 0.01 and kept["status"] == "gap_limit"
    summary = json.loads((tmp_path / "sweep" / first.folder / "summary.json").read_text())
    assert summary["status"] == "gap_limit"
