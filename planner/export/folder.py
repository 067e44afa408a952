"""Write every output of a solve into a folder, atomically: into a temporary sibling folder first,
moved into place only when complete (an existing folder of the same name is replaced then)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.errors import InputError
from planner.export.interactive_map import write_interactive_map
from planner.export.layers import flow_layer, region_layer, site_layer
from planner.export.report import write_report
from planner.export.static_map import draw_maps
from planner.export.summary import build_summary, clean_for_json
from planner.inputs.prepare import Inputs
from planner.pipeline import Run

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtraOutput:
    """More outputs of a solve: a summary.json block, files (CSV tables or bytes), a report section."""

    key: str
    block: dict[str, Any]
    files: dict[str, Any]
    section: str
    view: str | None = None  # what the maps and tables show, when not the plain solve


def prepare_output_dir(out: Path) -> Path:
    """Create a temporary folder beside ``out``; fail early with one line when it is not writable."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder; choose another --out")
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    except OSError as error:
        blocker = next((p for p in [parent, *parent.parents] if p.exists()), parent)
        reason = f"'{blocker}' is a file, not a folder" if not blocker.is_dir() else error.strerror
        raise InputError(f"{out}: output folder is not writable ({reason}); choose another --out") from None
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; results are ordinary files
    return staging


@contextmanager
def reserved_output_dir(out: Path) -> Iterator[Path]:
    """The staging folder of ``out`` made before the work starts (so an unwritable ``--out`` fails
    before a long solve), removed if the work fails; hand it to the writer as ``staging``."""
    staging = prepare_output_dir(out)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


@contextmanager
def staged_folder(out: Path, staging: Path | None = None) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; on success it replaces ``out``, on failure it is removed."""
    staging = staging or prepare_output_dir(out)
    try:
        yield staging
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_outputs(
    run: Run,
    inputs: Inputs,
    out: Path,
    sources: dict[str, Any],
    warnings_seen: list[str],
    staging: Path | None = None,
    basemap: bool = False,
    extras: tuple[ExtraOutput, ...] = (),
) -> dict[str, Any]:
    """Write summary.json, sites/flows/regions CSV, network.gpkg, map.png/.svg/.pdf, map.html (offline
    unless ``basemap``) and report.html; return the summary.

    ``extras`` (from ``--scenarios`` or ``--periods``) add their block to summary.json, their files
    and their section of report.html."""
    out = Path(out)
    started = time.perf_counter()
    with staged_folder(out, staging) as staging:
        run.tables.sites.to_csv(staging / "sites.csv", index=False)
        run.tables.flows.to_csv(staging / "flows.csv", index=False)
        run.tables.regions.to_csv(staging / "regions.csv", index=False)
        regions = region_layer(run, inputs)
        sites = site_layer(run)
        flows = flow_layer(run)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            regions.to_file(staging / "network.gpkg", layer="regions", driver="GPKG")
            sites.to_file(staging / "network.gpkg", layer="sites", driver="GPKG")
            flows.to_file(staging / "network.gpkg", layer="flows", driver="GPKG")
        report = run.report
        gap = "n/a" if report.mip_gap is None else f"{100 * report.mip_gap:.2f}%"
        cost = f"{report.objective:,.0f} {run.problem.currency}/yr"
        title = f"{run.problem.name}: {report.status.value}, cost {cost}, gap {gap}"
        draw_maps(regions, sites, flows, run.problem.type_ids, title, staging)
        write_interactive_map(
            regions, sites, flows, run.problem.type_ids, title, staging / "map.html",
            basemap=basemap, currency=run.problem.currency,
        )
        run.timing.seconds["write"] = time.perf_counter() - started
        summary = build_summary(run, sources, warnings_seen)
        for extra in extras:
            for name, content in extra.files.items():
                if isinstance(content, bytes):
                    (staging / name).write_bytes(content)
                else:
                    content.to_csv(staging / name, index=False)
            summary[extra.key] = clean_for_json(extra.block)
            if extra.view:
                summary["view"] = extra.view
        extra_sections = tuple(extra.section for extra in extras)
        write_report(
            run, regions, sites, flows, summary, staging / "report.html", map_png=staging / "map.png",
            extra_sections=extra_sections,
        )
        (staging / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    logger.info("wrote %s", out)
    return summary


def write_run_folders(staging: Path, subfolder: str, runs: list[tuple[str, Any, dict]], inputs: Inputs,
                      sources: dict[str, Any], warnings_seen: list[str]) -> list[str]:
    """Write one solve folder per ``(name, run, extra sources)`` into ``staging/subfolder``; returns
    their paths relative to ``staging`` (used by ``pareto`` and ``alternatives``)."""
    (staging / subfolder).mkdir()
    for name, run, extra in runs:
        write_outputs(run, inputs, staging / subfolder / name, {**sources, **extra}, warnings_seen)
    return [f"{subfolder}/{name}" for name, _, _ in runs]
