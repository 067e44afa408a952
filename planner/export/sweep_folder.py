"""The folder of one sweep scenario: the normal solve outputs plus ``row.json`` (its row of
``sweep.csv``), written atomically on the Dask worker that solved it; a finished folder is what
lets a rerun skip the scenario (``planner.studies.sweep``)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from planner.export.folder import check_top_files, folder_in_place, prepare_output_dir, record_top_files, write_outputs
from planner.export.summary import solve_sources
from planner.export.sweep_charts import CHARTS
from planner.studies.sweep import run_sweep
from planner.studies.sweep.scenario import OUTPUTS_KEY, ROW_FILE

SWEEP_FILES = ("sweep.csv", *CHARTS)  # what a sweep writes beside its scenario folders, and replaces on a rerun


def sweep_to_folder(config, varies, data, options, out: Path, **sweep_options):
    """:func:`planner.studies.sweep.run_sweep` into output folder ``out`` with each scenario's folder
    written (:func:`write_scenario_folder`): the folder is checked, created and marked as the planner's
    first (:func:`~planner.export.folder.folder_in_place`: a folder holding files the planner did not
    write is refused, nothing changed), as ``planner sweep`` does; on a rerun, so are ``sweep.csv`` and the
    charts where they are not as the last sweep wrote them (edited, or put there), before anything is
    solved. ``sweep_options``: those of ``run_sweep`` (workers, method, samples, seed, on_result,
    on_table, ...)."""
    with folder_in_place(Path(out)) as folder:
        check_top_files(folder, SWEEP_FILES)
        try:
            result = run_sweep(config, varies, data, options, folder, writer=write_scenario_folder, **sweep_options)
        except BaseException:  # also when stopped after writing some of them: what is there now, the planner wrote
            with contextlib.suppress(OSError):
                record_top_files(folder, SWEEP_FILES)
            raise
        record_top_files(folder, SWEEP_FILES)
        return result


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
