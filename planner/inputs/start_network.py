"""A previous run's network, read for ``planner solve --start FOLDER``: the open sites, their facility types
and module counts of that run's ``sites.csv`` (its output folder, or the file itself; CSV, Excel or Parquet
with the columns ``site_id``, ``facility_type`` and ``modules``, as the planner writes them). The solver
starts from it where it is a feasible network of the model solved (``planner.studies.previous_start``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import InputError
from planner.inputs.tables import read_table

START_COLUMNS = ("site_id", "facility_type", "modules")
OPTION = "--start"


@dataclass(frozen=True)
class StartNetwork:
    """Open (site id, facility type) pairs of a previous run and each one's module count (0: not given)."""

    source: Path
    modules: dict[tuple[str, str], int]

    @property
    def pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset(self.modules)


def start_table_path(path: Path) -> Path:
    """``path``'s ``sites.csv`` where it is a folder (a previous run's ``--out``), else ``path``."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: not found; pass a previous run's output folder (or its sites.csv) to {OPTION}")
    if path.is_dir():
        table = path / "sites.csv"
        if not table.is_file():
            raise InputError(f"{path}: the folder has no sites.csv; pass a previous run's output folder (planner "
                             f"solve --out) or a sites table to {OPTION}")
        return table
    return path


def read_start_network(path: Path) -> StartNetwork:
    """The network of ``path`` (a folder or a sites table); one line naming the file, column or row where it
    is not one."""
    table_path = start_table_path(path)
    table = read_table(table_path, "sites", OPTION, text_columns=("site_id", "facility_type"))
    missing = [column for column in START_COLUMNS if column not in table.columns]
    if missing:
        raise InputError(f"{table_path}: no column {', '.join(repr(c) for c in missing)}; {OPTION} reads a "
                         f"previous run's sites.csv, with the columns {', '.join(START_COLUMNS)}")
    modules = {}
    for row, (site, kind, count) in enumerate(table[list(START_COLUMNS)].itertuples(index=False), start=2):
        if pd.isna(site) or pd.isna(kind) or str(site).strip() == "" or str(kind).strip() == "":
            raise InputError(f"{table_path}: row {row} has no site_id or facility_type; fill it in or delete the row")
        pair = (str(site).strip(), str(kind).strip())
        if pair in modules:
            raise InputError(f"{table_path}: row {row} repeats site {pair[0]!r} as {pair[1]!r}; keep one row per "
                             "open site")
        modules[pair] = _module_count(table_path, row, count)
    return StartNetwork(source=table_path, modules=modules)


def _module_count(path: Path, row: int, value) -> int:
    """A whole number of modules ≥ 0 (empty: 0, sized by the solver)."""
    if pd.isna(value) or (isinstance(value, str) and value.strip() == ""):
        return 0
    try:  # as the other tables' numbers are read: '1_000' or full-width digits are no count (float() took them)
        number = float(pd.to_numeric(value))
    except (TypeError, ValueError):
        number = np.nan
    if not np.isfinite(number) or number < 0 or number != round(number):
        raise InputError(f"{path}: row {row}, column 'modules': {value!r} is no whole number ≥ 0; give the module "
                         "count, or leave it empty for the solver to size it")
    return int(number)
