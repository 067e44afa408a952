"""Run a sweep's scenarios on dask.distributed and collect ``sweep.csv``.

By default a :class:`~distributed.LocalCluster` of worker *processes* on loopback (one thread each,
HiGHS on one thread), or the scheduler at an address (``tcp://host:8786``) when one machine is not
enough: every worker must then have the planner installed and see the data and output paths.

Scenarios whose folder already exists (keyed by a hash of the resolved model, the data's content and
the solver options) are read back instead of solved, so a rerun finishes an interrupted sweep.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planner.errors import InputError
from planner.inputs.config import ModelConfig
from planner.inputs.io import warn_od_costs_fixed
from planner.inputs.paths import file_mode
from planner.inputs.prepare import DataOptions
from planner.interrupt import stop_requested
from planner.owner import owner_is_gone, owner_lines
from planner.solver.outcome import SolverOptions
from planner.studies.sweep.rivals import keep_cheaper_networks
from planner.studies.sweep.scenario import (
    FAILED,
    FULL_DISK_KEY,
    INFEASIBLE,
    NO_NETWORK_IN_TIME,
    NO_RESULT,
    ScenarioTask,
    base_row,
    data_fingerprint,
    read_finished,
    resolve,
    run_scenario,
    scenario_key,
)
from planner.studies.sweep.spec import Vary, sample_points

logger = logging.getLogger(__name__)

SCENARIO_DIR = "scenarios"
TRACKER_WARNINGS = "ignore:resource_tracker:UserWarning"  # a -W option for the tracker process


@dataclass(frozen=True)
class SweepResult:
    """The rows (one per scenario, in scenario order) and how many were solved, reused, failed (crashed, or
    values or inputs refused), infeasible (the model has no feasible network: explained in their ``error``) or
    without a network in time (the time limit ended the solve before any)."""

    rows: pd.DataFrame
    keys: list[str]
    solved: int
    reused: int
    failed: int
    infeasible: int = 0
    no_network_in_time: int = 0

    @property
    def without_network(self) -> int:
        """Scenarios with no network: infeasible, failed or without one in time."""
        return self.failed + self.infeasible + self.no_network_in_time


def make_tasks(
    config: ModelConfig,
    varies: list[Vary],
    data: DataOptions,
    options: SolverOptions,
    out: Path,
    method: str = "grid",
    samples: int | None = None,
    seed: int = 0,
    writer: Callable[..., None] | None = None,
) -> list[ScenarioTask]:
    """One task per parameter point, each with its resolved model (or the schema's objection) and key."""
    from planner.errors import PlannerError

    points = sample_points(varies, method, samples, seed)
    fingerprint = data_fingerprint(config, data)
    source = str(config.source_path) if config.source_path else None
    tasks = []
    for number, params in enumerate(points):
        try:
            config_data, error = resolve(config, params).model_dump(mode="json"), None
        except PlannerError as rejected:
            config_data, error = None, str(rejected)
        key = scenario_key(config_data if config_data is not None else {"rejected": params}, fingerprint, options)
        folder = out / SCENARIO_DIR / key
        tasks.append(
            ScenarioTask(number, key, params, config_data, error, source, data, options, str(folder), writer)
        )
    refuse_values_rejected_everywhere(tasks)
    return tasks


def refuse_values_rejected_everywhere(tasks: list[ScenarioTask]) -> None:
    """Raise InputError (before anything runs) for a varied value the schema rejects in every scenario
    it is part of (``carbon_price=-1``): no combination can use it, so it is the command that is wrong.
    A value rejected only in some combinations (``min_modules = 5`` where ``max_modules`` is 3) fails
    those scenarios only."""
    from planner.errors import InputError

    errors: dict[tuple[str, float], list[str | None]] = {}
    for task in tasks:
        for name, value in task.params.items():
            errors.setdefault((name, value), []).append(task.config_error)
    for (name, value), seen in errors.items():
        if all(error is not None for error in seen):
            raise InputError(f"--vary {name}={value:g}: the model rejects it in every scenario ({seen[0]}); "
                             "remove or change that value")


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None):
    """A client of the scheduler at ``scheduler``, or of a new LocalCluster with ``workers`` processes."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as error:
            raise InputError(
                f"--scheduler {scheduler}: cannot connect ({error}); start one with 'dask scheduler'"
            ) from None
        except (ValueError, TypeError) as error:  # distributed's parse of the address
            raise InputError(f"--scheduler {scheduler}: not a scheduler address ({error}); give one such as "
                             "tcp://host:8786") from None
        with client:
            yield client
        return
    cores = os.cpu_count() or 1
    n_workers = min(workers or cores, cores)
    if workers and workers > cores:  # each worker solves on one core: more only queue behind each other
        logger.warning("--workers %d: this machine has %d cores; %d workers are used", workers, cores, cores)
    _quiet_distributed_when_stopped()
    with _quiet_resource_tracker(), _workers_without_ctrl_c(), scratch_folder() as scratch, dask.config.set(
            {"temporary-directory": scratch}), LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
        silence_logs=logging.ERROR,
        local_directory=scratch,
        env={"TMPDIR": scratch},  # the workers' temporary files (a workbook being written) go there too
    ) as cluster, Client(cluster) as client:
        try:
            yield client
        except BaseException:  # Ctrl-C, SIGTERM or a failure: end the solves now, then close the cluster
            kill_workers(cluster)
            raise


SCRATCH_PREFIX = "planner-sweep-"
SCRATCH_OWNER = ".planner-sweep-owner"  # in each scratch folder: its writer (planner.owner)


@contextmanager
def scratch_folder():
    """A temporary folder for the local cluster's scratch space and its workers' temporary files, removed
    when the cluster is done, also after Ctrl-C or SIGTERM: workers killed then leave their scratch folders
    and half-written temporary files behind (``dask-scratch-space``). Those a
    killed sweep left (``kill -9``: no cleanup runs) are removed first (:func:`remove_abandoned_scratch`)."""
    remove_abandoned_scratch()
    folder = tempfile.mkdtemp(prefix=SCRATCH_PREFIX)
    try:
        Path(folder, SCRATCH_OWNER).write_text(owner_lines(), encoding="utf-8")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remove_abandoned_scratch() -> list[Path]:
    """Remove the scratch folders (``planner-sweep-*`` in the system's temporary folder) whose sweep was
    killed: marked by the planner, their writer gone (``planner.owner``); any other folder stays. Returns them."""
    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        try:
            abandoned = path.is_dir() and not path.is_symlink() and owner_is_gone(
                (path / SCRATCH_OWNER).read_text(encoding="utf-8"))
        except OSError:
            continue
        if abandoned:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if removed:
        logger.info("removed %d scratch folder(s) left by a killed sweep in %s", len(removed), tempfile.gettempdir())
    return removed


@contextmanager
def _workers_without_ctrl_c():
    """Start every process multiprocessing spawns (the cluster's workers) with SIGINT (and SIGHUP) blocked: Ctrl-C in
    the terminal, sent to the whole process group, reaches only the planner, which ends the workers
    itself; a worker it reached while it was starting printed Python's traceback (6 of 10 runs with
    Ctrl-C 2.4–3.2 s into a sweep). The mask is that of the thread that spawns, kept across the exec,
    so it is blocked there for the spawn alone (the cluster spawns from threads of its own, where a
    mask set around its start does not last). multiprocessing's own spawn is back afterwards (a caller
    from Python keeps its process as it was)."""
    import multiprocessing.util as mp_util

    if not hasattr(signal, "pthread_sigmask") or getattr(mp_util.spawnv_passfds, "sigint_blocked", False):
        yield
        return
    spawn = mp_util.spawnv_passfds

    def spawn_without_ctrl_c(path, args, passfds):
        # SIGHUP too: a closed terminal hangs up the whole group, and the resource tracker (spawned here as well)
        # printed a traceback per semaphore it then lost track of
        before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGHUP})
        try:
            return spawn(path, args, passfds)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)

    spawn_without_ctrl_c.sigint_blocked = True
    mp_util.spawnv_passfds = spawn_without_ctrl_c
    try:
        yield
    finally:
        mp_util.spawnv_passfds = spawn


class _DropWhenStopped(logging.Filter):
    """After Ctrl-C or SIGTERM, distributed logs the comms of the killed workers closing (INFO, with a
    traceback) even past ``silence_logs``, which closing the cluster resets: the CLI's one line says it all."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not stop_requested()


def _quiet_distributed_when_stopped() -> None:
    """Put :class:`_DropWhenStopped` on every handler of the ``distributed`` logger (once)."""
    for handler in logging.getLogger("distributed").handlers:
        if not any(isinstance(f, _DropWhenStopped) for f in handler.filters):
            handler.addFilter(_DropWhenStopped())


@contextmanager
def _quiet_resource_tracker():
    """multiprocessing's resource tracker (started with the first worker, with this process's warning
    options) reclaims the semaphores of workers killed on an interrupt and warns about each: noise after
    Ctrl-C, so its warnings are turned off (in the options it starts with; this process's are as they were
    afterwards)."""
    added = TRACKER_WARNINGS not in sys.warnoptions
    if added:
        sys.warnoptions.append(TRACKER_WARNINGS)
    try:
        yield
    finally:
        if added and TRACKER_WARNINGS in sys.warnoptions:
            sys.warnoptions.remove(TRACKER_WARNINGS)


def kill_workers(cluster) -> None:
    """Kill the worker processes of a local cluster at once (closing it waits for running tasks, seconds
    per worker; their scenarios are left unfinished, as a rerun expects)."""
    for nanny in list(cluster.workers.values()):
        pid = getattr(nanny, "pid", None)
        if pid:
            with suppress(OSError):
                os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))


def _checked_varies(varies) -> list[Vary]:
    """``varies`` as a list of :class:`Vary`; one line where a caller from Python gives one Vary or its text (an
    AttributeError or a TypeError had come from inside)."""
    given = varies if isinstance(varies, (str, Vary)) else list(varies)
    if isinstance(given, (str, Vary)) or not all(isinstance(vary, Vary) for vary in given):
        odd = given if isinstance(given, (str, Vary)) else next(v for v in given if not isinstance(v, Vary))
        what = ("one Vary, not a list" if isinstance(given, Vary) else f"the text {given[:60]!r}"
                if isinstance(given, str) else f"a list holding a {type(odd).__name__}")
        raise InputError(f"sweep: varies is {what}; give a list of Vary, e.g. [Vary.parse('carbon_price=0:200:5', "
                         "config)]")
    return given


def run_sweep(
    config: ModelConfig,
    varies: list[Vary],
    data: DataOptions,
    options: SolverOptions,
    out: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    method: str = "grid",
    samples: int | None = None,
    seed: int = 0,
    on_result: Callable[[dict], None] | None = None,
    writer: Callable[..., None] | None = None,
    on_table: Callable[[pd.DataFrame], None] | None = None,
) -> SweepResult:
    """Solve every scenario not already finished under ``out`` and write ``sweep.csv``; ``writer``
    writes each scenario's folder (see :class:`ScenarioTask`; required when anything is to be solved).
    ``out`` is written as it is: ``planner.export.sweep_folder.sweep_to_folder`` checks and marks it
    first (the command's way, and the one to call from Python);
    ``on_table`` gets the table before sweep.csv is written (the charts: with the earlier sweep.csv removed
    first, an interrupt never leaves a table beside charts of another)."""
    out = Path(out)
    varies = _checked_varies(varies)
    options = dataclasses.replace(options, threads=1, quiet=True)  # one HiGHS thread per worker
    warn_od_costs_fixed([vary.key for vary in varies], data.od_path, "planner sweep")
    tasks = make_tasks(config, varies, data, options, out, method, samples, seed, writer)
    report = on_result or (lambda row: None)
    rows, pending = known_rows(tasks, report)
    logger.info("sweep: %d scenarios, %d to solve", len(tasks), len(pending))
    if pending:
        solved = solve_on_dask(pending, out, report, workers, scheduler)
        rows.update(solved)
        keep_cheaper_networks(tasks, rows, set(solved))
    out.mkdir(parents=True, exist_ok=True)
    table = sweep_table(tasks, rows, varies, out)
    table.insert(table.columns.get_loc("mip_gap") + 1, "currency", config.currency)  # of the costs
    if on_table is not None:
        (out / "sweep.csv").unlink(missing_ok=True)  # the planner's own (the folder is checked as its output)
        on_table(table)
    write_csv_atomically(table, out / "sweep.csv")
    failed, infeasible, late = (int((table["status"] == status).sum())
                                for status in (FAILED, INFEASIBLE, NO_NETWORK_IN_TIME))
    reused = int((table["reused"] & ~table["status"].isin(NO_RESULT)).sum())
    solved = len(tasks) - reused - failed - infeasible - late
    return SweepResult(table, [v.key for v in varies], solved=solved, reused=reused, failed=failed,
                       infeasible=infeasible, no_network_in_time=late)


def known_rows(tasks: list[ScenarioTask], report: Callable[[dict], None]) -> tuple[dict[int, dict], list[ScenarioTask]]:
    """The rows known without solving (values the schema rejected, scenarios finished by an earlier
    run), each handed to ``report``; and the tasks left to solve."""
    rows: dict[int, dict] = {}
    pending = []
    for task in tasks:
        if task.config_error is not None:  # the schema rejected its values: no solve to distribute
            rows[task.number] = {**base_row(task), "status": FAILED, "error": task.config_error, "seconds": 0.0,
                                 "reused": False}
        elif (finished := read_finished(Path(task.folder))) is not None:
            rows[task.number] = {**finished, "scenario": task.number, **task.params, "reused": True}
        else:
            pending.append(task)
            continue
        report(rows[task.number])
    return rows, pending


def solve_on_dask(pending: list[ScenarioTask], out: Path, report: Callable[[dict], None], workers: int | None,
                  scheduler: str | None) -> dict[int, dict]:
    """Solve ``pending`` on the cluster, each row handed to ``report`` as it arrives; a worker that
    dies fails its scenario only. An interrupt, or a scenario that failed on a full disk (raised as that
    OSError, which the CLI states in one line), cancels what is left and closes the cluster; the finished
    scenarios are kept for a rerun."""
    from distributed import as_completed

    rows = {}
    with dask_client(workers, scheduler) as client:
        (out / SCENARIO_DIR).mkdir(parents=True, exist_ok=True)  # only once there is a cluster to fill it
        futures = {client.submit(run_scenario, task, key=f"scenario-{task.key}", pure=False): task for task in pending}
        try:
            for future in as_completed(futures):
                try:
                    row = future.result()
                except Exception as error:  # the worker died (memory, a crash): record it, go on
                    row = {**base_row(futures[future]), "status": FAILED,
                           "error": f"{type(error).__name__}: {error}", "seconds": None}
                row["reused"] = False
                full_disk = row.pop(FULL_DISK_KEY, None)
                rows[row["scenario"]] = row
                report(row)
                future.release()
                if full_disk is not None:
                    raise OSError(*full_disk)
        except BaseException:
            client.cancel(list(futures), force=True)
            raise
    return rows


def sweep_table(tasks: list[ScenarioTask], rows: dict[int, dict], varies: list[Vary], out: Path) -> pd.DataFrame:
    """One row per scenario in order: parameters first, then status and results, then the folder."""
    table = pd.DataFrame([rows[task.number] for task in tasks])
    table["folder"] = [
        os.path.relpath(task.folder, out) if rows[task.number].get("status") not in NO_RESULT else "" for task in tasks
    ]
    first = ["scenario", *[vary.key for vary in varies], "status", "objective", "mip_gap"]
    last = ["error", "seconds", "reused", "key", "folder"]
    for column in first + last:
        if column not in table:
            table[column] = pd.NA
    middle = [c for c in table.columns if c not in first + last]
    return table[first + middle + last]


def write_csv_atomically(table: pd.DataFrame, path: Path) -> None:
    """Write to a temporary file beside ``path`` and move it into place."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    os.chmod(temporary, file_mode())  # mkstemp's 0600 would hide it from the cluster's other users
    try:
        table.to_csv(temporary, index=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
