"""The folder of one sweep scenario: the normal solve outputs plus ``row.json`` (its row of
``sweep.csv``), written atomically on the Dask worker that solved it; a finished folder is what
lets a rerun skip the scenario (``planner.studies.sweep``).

The marker of the sweep's folder records the scenario folders a sweep wrote there (``scenario KEY`` lines): a
rerun with other values replaces those of the earlier sweep that it does not list, once it has finished
(:func:`replace_earlier_scenarios`); a folder the marker does not record, or one holding files the planner did not
write there, is left and named in a warning."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from pathlib import Path

from planner.errors import truncated
from planner.export.folder import (
    MARKER,
    check_top_files,
    folder_in_place,
    marker_lines,
    prepare_output_dir,
    record_marker_lines,
    record_top_files,
    write_outputs,
)
from planner.export.summary import solve_sources
from planner.export.sweep_charts import CHARTS
from planner.studies.sweep import run_sweep
from planner.studies.sweep.runner import SCENARIO_DIR
from planner.studies.sweep.scenario import NO_RESULT, OUTPUTS_KEY, ROW_FILE

logger = logging.getLogger(__name__)

SWEEP_FILES = ("sweep.csv", *CHARTS)  # what a sweep writes beside its scenario folders, and replaces on a rerun
SCENARIO_LINE = "scenario "  # a line of the marker: the key of a scenario folder a sweep wrote into this folder
REPLACED_SUFFIX = ".replaced"  # .KEY.replaced: a scenario folder being removed (moved aside first, then deleted)


def sweep_to_folder(config, varies, data, options, out: Path, **sweep_options):
    """:func:`planner.studies.sweep.run_sweep` into output folder ``out`` with each scenario's folder
    written (:func:`write_scenario_folder`): the folder is checked, created and marked as the planner's
    first (:func:`~planner.export.folder.folder_in_place`: a folder holding files the planner did not
    write is refused, nothing changed), as ``planner sweep`` does; on a rerun, so are ``sweep.csv`` and the
    charts where they are not as the last sweep wrote them (edited, or put there), before anything is
    solved. Once the sweep has finished, the scenario folders of an earlier sweep it does not list are replaced
    (:func:`replace_earlier_scenarios`); a sweep stopped before leaves them, and records its own. ``sweep_options``:
    those of ``run_sweep`` (workers, method, samples, seed, on_result, on_table, ...)."""
    on_result = sweep_options.pop("on_result", None)
    written: set[str] = set()

    def note(row: dict) -> None:
        if row.get("status") not in NO_RESULT:
            written.add(str(row.get("key")))
        if on_result is not None:
            on_result(row)

    with folder_in_place(Path(out)) as folder:
        check_top_files(folder, SWEEP_FILES)
        try:
            result = run_sweep(config, varies, data, options, folder, writer=write_scenario_folder, on_result=note,
                               **sweep_options)
        except BaseException:  # also when stopped after writing some of them: what is there now, the planner wrote
            with contextlib.suppress(OSError):
                record_top_files(folder, SWEEP_FILES)
                record_scenarios(folder, set(marker_lines(folder, SCENARIO_LINE)) | written)
            raise
        record_top_files(folder, SWEEP_FILES)  # first: a stop while replacing leaves them recorded as the planner's
        rows = result.rows
        replace_earlier_scenarios(folder, set(rows.loc[~rows["status"].isin(NO_RESULT), "key"].astype(str)))
        return result


def record_scenarios(folder: Path, keys: set[str]) -> None:
    """Record in the marker of ``folder`` the scenario folders of ``keys`` that are there."""
    record_marker_lines(folder, SCENARIO_LINE, sorted(key for key in keys if (folder / SCENARIO_DIR / key).is_dir()))


def replace_earlier_scenarios(folder: Path, ours: set[str]) -> None:
    """Remove each folder under ``folder/scenarios`` that is not one of this sweep's (``ours``, their keys) where
    the marker records it as a sweep's and it holds just what the planner wrote there (:func:`only_its_outputs`);
    name the others in a warning, left as they are (not in sweep.csv: the table and the charts read this sweep's
    scenarios only). This sweep's scenarios are recorded, and the recorded ones left."""
    scenarios = folder / SCENARIO_DIR
    recorded = set(marker_lines(folder, SCENARIO_LINE))
    others = sorted(path for path in scenarios.iterdir() if path.is_dir() and not path.name.startswith(".")
                    and path.name not in ours) if scenarios.is_dir() else []
    for leftover in scenarios.glob(f".*{REPLACED_SUFFIX}") if scenarios.is_dir() else []:  # a stop while removing
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
    replaced = []
    for path in others:
        if path.name in recorded and only_its_outputs(path):
            with contextlib.suppress(OSError):
                aside = path.rename(path.with_name(f".{path.name}{REPLACED_SUFFIX}"))  # gone whole from the listing
                replaced.append(path.name)
                shutil.rmtree(aside)
    left = [path.name for path in others if path.name not in replaced]
    if replaced:
        logger.info("%s: %d scenario folders of an earlier sweep with other values replaced (%s)", scenarios,
                    len(replaced), truncated(replaced))
    if left:
        logger.warning("%s: %d folders (%s) are not scenarios of this sweep, and not the planner's record of an "
                       "earlier one or holding files it did not write: left as they are, not in sweep.csv (choose a "
                       "new --out to keep sweeps apart)", scenarios, len(left), truncated(left))
    record_scenarios(folder, ours | (recorded & set(left)))


def only_its_outputs(folder: Path) -> bool:
    """Whether ``folder`` holds just what a sweep wrote there: the files its ``row.json`` lists and that file, none
    changed since (none newer than ``row.json``, written last but for the folder's marker), no link."""
    try:
        row_file = folder / ROW_FILE
        listed = json.loads(row_file.read_text(encoding="utf-8")).get(OUTPUTS_KEY)
        entries = [folder, *folder.rglob("*")]
        written_ns = row_file.stat().st_mtime_ns
        if not isinstance(listed, list) or any(entry.is_symlink() for entry in entries):
            return False
        files = [entry for entry in entries if entry.is_file()]
        newer = any(entry.stat().st_mtime_ns > written_ns for entry in files if entry != folder / MARKER)
    except (OSError, ValueError, AttributeError):  # unreadable, or no row the planner wrote
        return False
    return not newer and {str(entry.relative_to(folder)) for entry in files} == {*map(str, listed), ROW_FILE}


def write_scenario_folder(result, config, task, row: dict) -> None:
    """Write ``result`` (a ``planner.pipeline.Plan``) of sweep ``task`` to ``task.folder``; ``row.json``
    last, listing the files written (a rerun solves the scenario again if one of them is missing)."""
    folder = Path(task.folder)
    staging = prepare_output_dir(folder)
    sources = solve_sources(config, task.data, task.options, result.inputs.regions_path,
                            result.inputs.region_columns)
    sources["sweep"] = {"scenario": task.number, "key": task.key, "params": task.params}

    def write_row(staging: Path) -> None:
        outputs = sorted(str(path.relative_to(staging)) for path in staging.rglob("*") if path.is_file())
        text = json.dumps({**row, OUTPUTS_KEY: outputs}, indent=2, default=float)
        (staging / ROW_FILE).write_text(text + "\n", encoding="utf-8")

    write_outputs(result.run, result.inputs, folder, sources, result.screening.warnings, staging, finish=write_row)
