"""``planner init``: a commented model file for a user's own regions or demand points that solves
as it is.

It records the data file (relative to the model file), its layer and the columns that mean id,
demand, name and coordinates, so that ``planner solve --model FILE`` needs no column flags. The
demand column is taken as units/yr of the main product (``demand_rate``, 1 unless given). Costs,
transport and carbon are the documented defaults of ``models/hybrid.toml`` (sources in
``models/README.md``); candidate rules are relative to the data, so every facility type gets
candidates on any dataset with demand.

The file is staged beside ``out`` and checked as ``planner validate --model`` checks it (model keys,
then the data read, validated and prepared with the file's own settings) before it is moved into
place, so ``init`` never writes a model that ``validate`` or ``solve`` would refuse for its data.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import tempfile
from contextlib import suppress
from pathlib import Path

from planner.errors import InputError
from planner.inputs.config import MAX_NUMBER, is_folder_name, read_model_config
from planner.inputs.coordinates import found_coordinates
from planner.inputs.io import read_regions
from planner.inputs.paths import file_mode, missing_folders, refuse_unreachable, remove_if_empty
from planner.inputs.prepare import DataOptions, load_inputs, prepare_problem
from planner.inputs.regions import RegionSource, found_name_column, resolve_columns
from planner.inputs.screen import screen_problem
from planner.inputs.tables import is_table

logger = logging.getLogger(__name__)

CENTRAL_CANDIDATES = 10  # the most demanding regions may host a central plant
MICRO_CANDIDATES = 30  # microfactory candidates spread over the demand by k-means


def model_name(path: Path) -> str:
    """A safe model name (and default output folder) from the data file's name."""
    name = re.sub(r"[^\w.-]+", "_", Path(path).stem).strip("._-") or "model"
    return name if is_folder_name(name) else "model"


def toml_string(value: str) -> str:
    """A TOML basic string: backslash and quote escaped, control characters (a newline in a file
    name) as ``\\uXXXX``, which TOML reads back as the same character."""
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub(r"[\x00-\x1f\x7f]", lambda match: f"\\u{ord(match.group()):04x}", escaped) + '"'


def describe_data(path: Path, layer, id_column, demand_column, lon_column, lat_column, crs) -> dict:
    """The file's keys for ``[regions]``: read the file once and resolve every column. The coordinate
    columns are never candidates for the demand (nor the id). The path is made absolute, as the check of
    the written model reads it, so that a warning about the file is the same message there (said once)."""
    path = Path(path).resolve()
    frame = read_regions(path, layer, lon_column, lat_column, crs, text_columns=(id_column or "",),
                         option="the DATA argument of init")
    coordinates = found_coordinates(frame, path, lon_column, lat_column, crs)
    source = RegionSource(path, layer, id_column, demand_column, None, None, lon_column, lat_column, crs, False)
    id_found, demand_found = resolve_columns(frame.drop(columns=list(coordinates)), source, needs_demand=True)
    keys = {"layer": layer, "id_column": None if id_found == "region_id" and "region_id" not in frame else id_found,
            "demand_column": demand_found, "name_column": found_name_column(frame, path)}
    if is_table(path):
        keys["lon_column"], keys["lat_column"] = coordinates or (None, None)  # none: geometry read from WKT
    keys["crs"] = crs  # a table's, or that of a vector file without one (the written model had lacked it)
    return {key: value for key, value in keys.items() if value is not None}


def write_model_template(
    data: Path,
    out: Path,
    *,
    layer: str | None = None,
    id_column: str | None = None,
    demand_column: str | None = None,
    demand_rate: float = 1.0,
    lon_column: str | None = None,
    lat_column: str | None = None,
    crs: str | None = None,
) -> Path:
    """Write the model file ``out`` for ``data``; refuse to overwrite an existing file."""
    data, out = Path(data), Path(out)
    refuse_existing(out)
    if not 0 < demand_rate < MAX_NUMBER:
        raise InputError(f"--demand-rate {demand_rate:g}: give a positive number below {MAX_NUMBER:.0e} (units/yr per "
                         "unit of the demand column)")
    keys = describe_data(data, layer, id_column, demand_column, lon_column, lat_column, crs)
    relative = os.path.relpath(data.resolve(), out.resolve().parent)
    regions = "\n".join(f"{key} = {toml_string(value)}" for key, value in keys.items())
    text = TEMPLATE.format(
        name=toml_string(model_name(data)), data=toml_string(Path(relative).as_posix()), regions=regions,
        demand_rate=repr(float(demand_rate)), column=toml_string(keys["demand_column"])[1:-1],
        central=CENTRAL_CANDIDATES, micro=MICRO_CANDIDATES,
    )
    created = missing_folders(out.parent)
    staging, written = None, False
    try:
        staging = write_staged(out, text)
        try:
            check_model(staging)  # what `planner validate --model` would refuse, init refuses
        except InputError as error:  # named as the file it would have become
            raise InputError(str(error).replace(str(staging), str(out))) from None
        refuse_existing(out)  # made while the data was read: still not overwritten
        move_staged(staging, out)
        written = True
        # demand beyond every site's capacity, or too small for any site to pay for itself, is warned about by
        # the check itself (planner.inputs.screen)
    finally:
        if staging is not None and not written:
            with suppress(OSError):
                staging.unlink(missing_ok=True)
        if not written:
            remove_if_empty(created)
    return out


def refuse_existing(out: Path) -> None:
    """An error where ``out`` is a file, a folder or a link (a dangling one too): never overwritten."""
    refuse_unreachable(out)
    if out.exists() or out.is_symlink():
        what = "is a link" if out.is_symlink() else "is a folder (--out names the model file to write)" \
            if out.is_dir() else "exists"
        raise InputError(f"{out}: {what}; the planner does not overwrite it: choose another --out or remove it")


def write_staged(out: Path, text: str) -> Path:
    """``text`` in a new file of a name of its own beside ``out`` (made with ``mkstemp``, so no file of
    the user's is touched); its path. One line when the place is not writable."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as error:
        raise _unwritable(out, error) from None
    try:
        os.fchmod(handle, file_mode())  # mkstemp makes it private; a model file is an ordinary file
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as error:
        with suppress(OSError):
            os.unlink(name)
        raise _unwritable(out, error) from None
    return Path(name)


# os.link on a file system that has no links
NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS}


def move_staged(staging: Path, out: Path) -> None:
    """``staging`` moved to ``out``, never over a file (one the user saved there since the last check: a link
    cannot be made over it, where a rename replaces it); one line when the place is not writable."""
    try:
        os.link(staging, out)
    except FileExistsError:
        refuse_existing(out)  # names what is there
        raise InputError(f"{out}: exists; the planner does not overwrite it: choose another --out or remove "
                         "it") from None
    except OSError as error:
        if error.errno not in NO_LINKS:
            raise _unwritable(out, error) from None
        try:  # a file system without links (FAT, some network shares): the check just before must do
            os.replace(staging, out)
        except OSError as error:
            raise _unwritable(out, error) from None
    else:
        os.unlink(staging)


def _unwritable(out: Path, error: OSError) -> InputError:
    blocker = next((p for p in out.parents if p.exists()), None)
    reason = f"'{blocker}' is a file, not a folder" if blocker and not blocker.is_dir() else error.strerror
    return InputError(f"cannot write {out}: {reason or error}; choose another --out")


def check_model(path: Path):
    """Check the model file ``path`` and its data as ``planner validate --model`` does: the keys, then
    the regions read, validated and prepared with the file's own settings, and screened; the problem."""
    config = read_model_config(path)
    problem = prepare_problem(config, load_inputs(config, DataOptions()))
    screen_problem(problem)
    return problem


TEMPLATE = """\
# Model file written by `planner init` for {data}.
# Solve it with `planner solve --model THIS_FILE`. Every key, unit and default, and the sources of
# the default numbers, are in models/README.md of the planner; units are in the key names.
name = {name}                           # also the default output folder results/<name>
currency = "USD"
carbon_price = 190.0                    # USD per t CO2 (US EPA 2023 social cost of carbon); 0 = private costs only

[regions]                               # these keys describe this one file
path = {data}
{regions}

[distance]
circuity = 1.2                          # road km per great-circle km

[products.standard]                     # the main product
demand_rate = {demand_rate}                       # units/yr per unit of '{column}' (planner init --demand-rate)
unmet_penalty_per_unit = 150.0          # USD/unit: margin lost on demand not served

[transport.standard]
cost_per_unit_km = 0.008                # USD per unit-km (less-than-truckload freight, 10 kg unit)
co2_kg_per_unit_km = 0.0012             # kg CO2 per unit-km

[facility_types.central_plant]
role = "central"
opening_cost_per_yr = 30_000_000.0      # USD/yr: ~200 M USD plant annualised over 15 yr at 8% + fixed opex
module_cost_per_yr = 6_000_000.0        # USD/yr per production line
module_capacity_per_yr = 500_000.0      # units/yr per line
min_modules = 1
max_modules = 4
capex = 200_000_000.0                   # USD
capex_per_module = 40_000_000.0         # USD
candidates = {{ top_n = {central} }}             # the {central} regions with the most demand

[facility_types.central_plant.products.standard]
cost_per_unit = 40.0                    # USD/unit
co2_kg_per_unit = 8.0                   # kg CO2/unit

[facility_types.microfactory]
role = "microfactory"
opening_cost_per_yr = 800_000.0         # USD/yr: ~4 M USD site annualised + fixed opex
module_cost_per_yr = 500_000.0          # USD/yr per automated cell
module_capacity_per_yr = 20_000.0       # units/yr per cell
min_modules = 1
max_modules = 10
capex = 4_000_000.0                     # USD
capex_per_module = 2_500_000.0          # USD
max_delivery_km = 300.0                 # local delivery by van
candidates = {{ kmeans = {micro} }}            # {micro} sites spread over the demand (demand-weighted k-means)

[facility_types.microfactory.products.standard]
cost_per_unit = 52.0                    # USD/unit
co2_kg_per_unit = 6.0                   # kg CO2/unit

[solver]
mip_gap = 0.01                          # stop within 1% of the proven bound
time_limit_s = 120.0
"""
