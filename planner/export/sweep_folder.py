"""The folder of one sweep scenario: the normal solve outputs plus ``row.json`` (its row of
``sweep.csv``), written atomically on the Dask worker that solved it; a finished folder is what
lets a rerun skip the scenario (``planner.studies.sweep``)."""

from __future__ import annotations

import json
from pathlib import Path

from planner.export.folder import prepare_output_dir, write_outputs
from planner.export.summary import solve_sources
from planner.studies.sweep.scenario import OUTPUTS_KEY, ROW_FILE


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
