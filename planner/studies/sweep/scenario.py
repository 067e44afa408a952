"""One sweep scenario: its resolved model, its key (a hash of everything that decides its result)
and the task a Dask worker runs: solve, hand the result to the task's writer (the normal solve
outputs, written by ``planner.export``), return one row.

A scenario's folder ``scenarios/<key>/`` is written atomically and holds ``row.json``, which lists the
folder's files; a folder with a readable ``row.json`` and every file it lists is a finished scenario,
which is what lets a rerun skip it (one with a file deleted by hand is solved again).
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import json
import logging
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.errors import InfeasibleError, NoSolutionInTimeError, PlannerError, full_disk_cause
from planner.inputs.config import ModelConfig, model_config_from_dict, set_dotted_keys
from planner.inputs.paths import hash_file_into
from planner.inputs.prepare import DataOptions
from planner.results import type_count_column
from planner.solver.outcome import SolverOptions

logger = logging.getLogger(__name__)

ROW_FILE = "row.json"
OUTPUTS_KEY = "outputs"  # in ROW_FILE: the files of the finished folder (paths relative to it)
FULL_DISK_KEY = "full_disk"  # in a failed scenario's row: [errno, text, file] of the full disk that failed it
FAILED = "failed"  # a scenario's status where it crashed or its values or inputs were refused ("error": why)
INFEASIBLE = "infeasible"  # where its model has no feasible network ("error": the explanation, regions and capacity)
# where the time limit ended its solve before any network was found ("error": the solver's words): the model may
# well have one, more time may find it, so neither infeasible nor a failure of the run
NO_NETWORK_IN_TIME = "no_network_in_time"
NO_RESULT = (INFEASIBLE, FAILED, NO_NETWORK_IN_TIME)  # statuses of scenarios without a network, folder or figures
KEY_LENGTH = 16  # hex digits of the SHA-256 used as the folder name


SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")  # a shapefile's attributes are in its .dbf


def file_digest(path: Path | None) -> str | None:
    """SHA-256 of what a data file holds: its bytes; a shapefile's with those of its sidecar files; a
    folder's (a shapefile folder, a File Geodatabase) with every file's name and bytes (None for no file)."""
    if path is None:
        return None
    path = Path(path)
    if path.is_dir():
        files = sorted(item for item in path.rglob("*") if item.is_file())
    elif path.suffix.lower() == ".shp":  # its sidecars whatever the case of their suffix (GDAL reads UP.DBF)
        files = sorted(part for part in path.parent.glob(f"{glob.escape(path.stem)}.*")
                       if part.stem == path.stem and part.suffix.lower() in SHAPEFILE_PARTS and part.is_file())
    else:
        files = [path]
    digest = hashlib.sha256()
    for file in files:
        digest.update(os.fsencode(file.relative_to(path) if path.is_dir() else file.suffix))
        hash_file_into(digest, file)
    return digest.hexdigest()


def data_fingerprint(config: ModelConfig, data: DataOptions) -> dict[str, Any]:
    """Every data option, with the content hash of each file it names (the regions and suppliers files
    default to the model's): a rerun reuses a scenario only on the same data read the same way (a
    changed suppliers file, ``--lon-column`` or ``--crs`` had reused the old results)."""
    fingerprint: dict[str, Any] = {
        field.name: file_digest(value) if isinstance(value, Path) else value
        for field in dataclasses.fields(data) for value in [getattr(data, field.name)]
    }
    regions = data.regions_path or config.regions.path
    suppliers = data.suppliers_path or config.suppliers.path
    fingerprint["regions_path"] = file_digest(Path(regions)) if regions else None
    fingerprint["suppliers_path"] = file_digest(Path(suppliers)) if suppliers else None
    fingerprint["select"] = [[column, list(values)] for column, values in data.select]
    return fingerprint


def resolve(config: ModelConfig, params: dict[str, float]) -> ModelConfig:
    """The model with each dotted key set to its value, checked with all of them in place (raises
    InputError for values the schema rejects)."""
    return set_dotted_keys(config, params)


def scenario_key(config_data: dict, fingerprint: dict, options: SolverOptions) -> str:
    """Hash of the resolved model, the data and the solver options that decide the result."""
    solver = {"time_limit_s": options.time_limit_s, "mip_gap": options.mip_gap}
    text = json.dumps({"model": config_data, "data": fingerprint, "solver": solver}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:KEY_LENGTH]


@dataclass(frozen=True)
class ScenarioTask:
    """Everything a worker needs (plain, picklable data)."""

    number: int
    key: str
    params: dict[str, float]
    config_data: dict | None  # the resolved model as a dict; None when the values were rejected
    config_error: str | None
    source_path: str | None
    data: DataOptions
    options: SolverOptions
    folder: str
    # writes the scenario's folder atomically, ROW_FILE included: writer(plan, config, task, row)
    # (``planner.export.sweep_folder.write_scenario_folder``; a module-level function, so picklable)
    writer: Callable[..., None]


def base_row(task: ScenarioTask) -> dict[str, Any]:
    return {"scenario": task.number, "key": task.key, **task.params}


def run_scenario(task: ScenarioTask) -> dict[str, Any]:
    """Solve one scenario and write its folder (on a Dask worker); never raises: a model without a feasible
    network becomes a row with ``status = infeasible`` and the explanation in ``error`` (which regions, which
    capacity), a solve the time limit ended before any network one with ``status = no_network_in_time``, any
    other failure one with ``status = failed`` and the one-line ``error``; a full disk also sets
    ``FULL_DISK_KEY`` (the error's errno, text and file), on which the sweep stops: every scenario after it
    would fail the same way."""
    started = time.perf_counter()
    row = base_row(task)
    # screening warnings go to the scenario's summary.json, not to the worker's log
    logging.getLogger("planner").setLevel(logging.ERROR)
    try:
        config = model_config_from_dict(task.config_data, task.source_path or "<sweep>")
        config.source_path = Path(task.source_path) if task.source_path else None
        row.update(_solve_and_write(config, task, row, started))
        row["error"] = ""
    except InfeasibleError as error:  # the model's answer, explained: not a failure of the sweep
        row.update(status=INFEASIBLE, error=str(error))
    except NoSolutionInTimeError as error:
        row.update(status=NO_NETWORK_IN_TIME, error=str(error))
    except PlannerError as error:
        row.update(status=FAILED, error=str(error))
    except Exception as error:  # a defect, recorded with its type so the sweep can go on
        logger.debug("scenario %s failed:\n%s", task.number, traceback.format_exc())
        row.update(status=FAILED, error=f"{type(error).__name__}: {error}")
        if (full := full_disk_cause(error)) is not None:
            row[FULL_DISK_KEY] = [full.errno, full.strerror, full.filename]
    row["seconds"] = round(time.perf_counter() - started, 3)
    return row


def _solve_and_write(config: ModelConfig, task: ScenarioTask, row: dict, started: float) -> dict[str, Any]:
    """Solve and write the scenario's folder; its row.json has the seconds to the end of the solve (a rerun that
    reuses the folder had shown none)."""
    from planner.pipeline import plan

    result = plan(config, task.data, task.options)
    figures = result_figures(result.run, config)
    seconds = round(time.perf_counter() - started, 3)
    task.writer(result, config, task, {**row, **figures, "params": task.params, "error": "", "seconds": seconds})
    return figures


def result_figures(run, config: ModelConfig) -> dict[str, Any]:
    """The row of one solve: status, objective, bound, gap, cost parts, CO2, facility counts."""
    from planner.studies.compare import CENTRAL, MICRO

    report = run.report
    counts = run.tables.facility_counts(run.problem.type_ids)
    roles = {name: facility.role for name, facility in config.facility_types.items()}
    demand = run.tables.regions["demand"].sum()
    return {
        "status": report.status.value,
        "objective": report.objective,
        "best_bound": report.best_bound,
        "mip_gap": report.mip_gap,
        **{f"cost_{name}": value for name, value in run.tables.cost_parts().items()},
        "co2_t": run.tables.co2_t(),
        "share_served": float(run.tables.regions["served"].sum() / demand) if demand else 1.0,
        "n_facilities": int(sum(counts.values())),
        "n_central": sum(n for t, n in counts.items() if roles.get(t) == CENTRAL),
        "n_microfactory": sum(n for t, n in counts.items() if roles.get(t) == MICRO),
        **{type_count_column(t): n for t, n in counts.items()},
        "audit_passed": run.audit.passed,
    }


def read_finished(folder: Path) -> dict[str, Any] | None:
    """The row of a finished scenario folder, or None (no readable row, or a file it lists is gone)."""
    path = Path(folder) / ROW_FILE
    if not path.is_file():
        return None
    try:
        row = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(row, dict):
        return None
    outputs = row.pop(OUTPUTS_KEY, [])
    if not isinstance(outputs, list) or not all((Path(folder) / str(name)).is_file() for name in outputs):
        return None
    params = row.pop("params", None)
    for key in params if isinstance(params, dict) else ():  # the earlier sweep's keys: this sweep sets its own
        row.pop(key, None)
    return row
