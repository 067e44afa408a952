"""Read, solve and check published benchmark instances against their known optima.

:func:`run_bench` reads each file with the reader of its format, solves the Problem with the
planner's own model (``planner.pipeline.solve_problem``) and yields one result row per instance.
With ``optima`` (``known_optima.csv``, see :func:`read_known_optima`) each row also carries the
published optimum and whether the objective matches it (relative difference ≤ 1e-6, or within half a
unit of the last digit the file prints).

Each instance is proven to a relative gap of ``DEFAULT_MIP_GAP`` = 5e-7, half that tolerance: the
objective is then within 1e-6 of the true optimum, so it matches a correct published value, where
the planner's own runs stop at 1e-4 (HiGHS's default, the ``optimal`` status). Until 2026-12-04 it
proved to 1e-9; on tight capacitated instances the last 1e-6 took most of the time (generated
100 × 1,000 instances of capacity ratio 3, seeds 6 and 7: gap below 5e-6 at the 30 s limit, both
now proven in 29 and 27 s).

Formats and the problem variant they give (the ``problem`` column of ``known_optima.csv``):

* ``cap``: OR-Library ``cap*`` files → ``cflp``; with ``single_source`` → ``sscflp`` (rows
  ``cap41-ss`` …); ``capacity`` substitutes the word ``capacity`` of ``capa``/``capb``/``capc``
  (rows ``capa-8000`` …, params ``capacity=8000``).
* ``ufl``: UflLib simple format or any OR-Library layout file with capacities ignored → ``ufl``.
* ``sscflp``: Holmberg ``p*`` files → ``sscflp`` (rows ``holmberg_p1`` …, found by file name).
* ``pmed``: OR-Library ``pmed*`` files → ``pmedian`` (params ``p=5``; ``p`` overrides the file).
* ``pcenter``, ``mclp``, ``lscp``: the classic location models (``planner.solver.classic``) on a
  distance instance (:func:`planner.formats.points.read_distance_instance`: an OR-Library ``pmed``
  graph, every vertex a demand point of weight 1 and a site, or a ``POINTS`` file of
  ``benchmarks/generate.py``) → the problem of the same name. ``p`` (pcenter, mclp; default the
  file's) is the number of sites; ``coverage`` (mclp, lscp; required) the distance D within which a
  site covers a demand point (≤ D). ``objective``: the radius (pcenter), the covered demand weight
  (mclp: the number of covered vertices on a pmed graph), the number of sites (lscp); it is
  recomputed from the chosen sites and the distances (``planner.solver.classic.check``) before the
  row is yielded. Params in ``known_optima.csv``: ``p=…`` and/or ``coverage=…``.
"""

from __future__ import annotations

import io
import logging
import math
import re
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.errors import InfeasibleError, InputError, NoSolutionInTimeError, SolverError, refuse_special_file
from planner.formats.orlib_cap import read_orlib_cap
from planner.formats.pmed import read_pmed
from planner.formats.points import DistanceInstance, read_distance_instance, read_points
from planner.formats.sscflp import read_sscflp
from planner.formats.tokens import instance_name
from planner.formats.uflib import read_ufl_opt, read_uflib
from planner.inputs.screen import check_numerics
from planner.inputs.tables import csv_dialect, refuse_repeated_columns
from planner.logs import errors_only
from planner.problem import Problem

if TYPE_CHECKING:
    from planner.solver.outcome import SolverOptions

logger = logging.getLogger(__name__)

CLASSIC_FORMATS = ("pcenter", "mclp", "lscp")  # the classic location models on distance instances
FORMATS = ("cap", "ufl", "sscflp", "pmed", *CLASSIC_FORMATS)
MATCH_RTOL = 1e-6
# an OR-Library cap file and a Holmberg file both hold 2 + 2m + n + mn numbers: one read as the other reads
OTHER_LAYOUT = {"cap": ("sscflp", "a Holmberg single-source file"), "sscflp": ("cap", "an OR-Library cap file")}
DEFAULT_MIP_GAP = 5e-7  # relative: half of MATCH_RTOL (see the module)
OPTIMA_COLUMNS = ("instance", "problem", "params", "optimal_value", "status", "file")


@dataclass(frozen=True)
class BenchCase:
    """One proven-optimal row of ``known_optima.csv`` as the arguments of :func:`run_bench`."""

    name: str  # the csv's instance name, e.g. capa-8000, cap41-ss, holmberg_p1
    problem: str  # cflp, ufl, sscflp, pmedian
    fmt: str  # cap, ufl, sscflp, pmed
    path: Path
    known: float
    n_facilities: int
    n_customers: int
    capacity: float | None = None
    p: int | None = None
    single_source: bool = False


def problem_variant(fmt: str, *, single_source: bool = False) -> str:
    """The ``problem`` column value of a format: cflp, sscflp, ufl, pmedian, pcenter, mclp or lscp."""
    _check_format(fmt)
    if fmt == "cap":
        return "sscflp" if single_source else "cflp"
    return {"ufl": "ufl", "sscflp": "sscflp", "pmed": "pmedian"}.get(fmt, fmt)


def read_instance(
    fmt: str, path: Path, *, capacity: float | None = None, p: int | None = None, single_source: bool = False
) -> Problem:
    """The Problem of one benchmark file in format ``fmt`` (see the module docstring; the classic
    formats read with :func:`planner.formats.points.read_distance_instance` instead)."""
    _check_format(fmt)
    if fmt in CLASSIC_FORMATS:
        raise InputError(f"format {fmt!r} is not a Problem; read it with planner.formats.points.read_distance_instance")
    _check_options(fmt, capacity=capacity, p=p, single_source=single_source)
    if fmt == "cap":
        return read_orlib_cap(path, capacity=capacity, single_source=single_source)
    if fmt == "ufl":
        return read_uflib(path)
    if fmt == "sscflp":
        return read_sscflp(path)
    return read_pmed(path, p=p)


def read_known_optima(path: Path) -> pd.DataFrame:
    """``known_optima.csv`` as a DataFrame (``params`` "" where empty, ``optimal_value`` float).

    Columns: instance, problem, params, n_facilities, n_customers, optimal_value, status, file,
    source, verified_here. Only rows whose ``status`` starts with ``optimal`` are proven optima.
    """
    path = Path(path)
    refuse_special_file(path, "the known-optima CSV", "--optima", pipes=False)  # /dev/zero had filled the memory
    try:
        with warnings.catch_warnings():  # a row with more fields than the header: refused, not cut short
            warnings.simplefilter("error", pd.errors.ParserWarning)
            dialect = csv_dialect(path) if path.is_file() else {}  # a pipe is read once, with commas
            if path.is_file():  # a column named twice had been read as 'instance.1' and another called missing
                refuse_repeated_columns(path, pd.read_csv(path, nrows=1, header=None, dtype=str, **dialect))
            table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, index_col=False,
                                **dialect)  # ';' or tab as every table the planner reads; UTF-16
    except pd.errors.ParserWarning:
        raise InputError(f"{path}: a row has more fields than the header ({', '.join(OPTIMA_COLUMNS)}, …); quote a "
                         "value holding a comma or remove the extra field") from None
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder; give the known-optima CSV file") from None
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not a readable CSV ({str(error).splitlines()[0]})") from None
    table.columns = [str(column).strip() for column in table.columns]
    table = table.apply(lambda column: column.str.strip())  # 'cap41, cflp, , 1040444.375, optimal' reads alike
    missing = [column for column in OPTIMA_COLUMNS if column not in table.columns]
    if missing:
        raise InputError(f"{path}: missing columns {', '.join(missing)}; expected {', '.join(OPTIMA_COLUMNS)}")
    table["status"] = table["status"].str.lower()  # 'Optimal' is a proven optimum too
    values = pd.to_numeric(table["optimal_value"], errors="coerce").astype(float)
    bad = np.flatnonzero(~np.isfinite(values.to_numpy()) & table["status"].str.startswith("optimal").to_numpy())
    if len(bad):  # rows that are not proven optima may leave the value out
        rows = [f"{table['instance'].iloc[i] or '(no instance)'} (line {i + 2})" for i in bad[:5]]
        raise InputError(f"{path}: optimal_value is not a finite number for {', '.join(rows)}")
    for column in ("n_facilities", "n_customers"):  # optional: blank is any size, anything else a count
        if column in table.columns:
            given = table[column].to_numpy(dtype=str)
            counts = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
            bad = np.flatnonzero((given != "") & ~((counts >= 0) & (counts == np.round(counts))))
            if len(bad):
                raise InputError(f"{path}: {column} is not a whole number for "
                                 f"{table['instance'].iloc[bad[0]] or '(no instance)'} (line {bad[0] + 2}, got "
                                 f"'{given[bad[0]]}'); give the count or leave it blank for any size")
    table["optimal_half_unit"] = [half_unit(text) for text in table["optimal_value"]]
    table["optimal_value"] = values
    for row, text in enumerate(table["params"]):
        try:
            parse_params(text)
        except InputError as error:
            reason = str(error).removeprefix("known optima: ")
            raise InputError(f"{path}: the row of instance '{table['instance'].iloc[row]}': {reason}; write e.g. "
                             "capacity=8000 or p=5") from None
    _refuse_conflicting_optima(table, path)
    return table


def _refuse_conflicting_optima(table: pd.DataFrame, path: Path) -> None:
    """Raise InputError where two proven rows of one instance, variant and params give different values
    (which would make a match depend on the row order)."""
    proven = table[table["status"].astype(str).str.startswith("optimal")]
    keys = ["instance", "problem", "params"]
    spread = proven.groupby(keys)["optimal_value"].agg(["min", "max"])
    conflicting = spread[~np.isclose(spread["min"], spread["max"], rtol=MATCH_RTOL, atol=0.0)]
    if len(conflicting):
        (instance, problem, params), row = next(iter(conflicting.iterrows()))
        where = f"{instance} ({problem}{', ' + params if params else ''})"
        raise InputError(f"{path}: {where} has two proven optima, {row['min']:.10g} and {row['max']:.10g}; "
                         "keep one row per instance, variant and params")


def parse_params(text: str) -> dict[str, float]:
    """``"capacity=8000"`` → ``{"capacity": 8000.0}``; descriptive text (``"ignore capacities"``) → ``{}``."""
    params = {}
    for part in str(text).replace(";", ",").split(","):
        key, sep, value = part.partition("=")
        if sep:
            try:
                params[key.strip()] = float(value)
            except ValueError:
                raise InputError(f"known optima: parameter {part.strip()!r} is not key=number") from None
    return params


def known_and_match(optima: pd.DataFrame, objective: float | None, **instance) -> dict:
    """``known`` (:func:`known_optimum`) and ``match``: within 1e-6 relative, or within half a unit of
    the known value's last printed digit (1305.95 for 1305.9514: published tables round to 6
    significant digits)."""
    hit = known_row(optima, **instance)
    if hit is None:
        return {"known": None, "match": None}
    known = float(hit["optimal_value"])
    return {"known": known, "match": matches(objective, known, printed=float(hit.get("optimal_half_unit", 0.0)))}


PRINTED_DIGITS = (4, 6)  # published tables round to 6 significant digits; fewer than 4 are exact values


def half_unit(text: str) -> float:
    """Half a unit of the last digit of a number written in plain decimals with 4 to 6 significant
    digits, as published tables round ("1305.95" → 0.005, "17326" → 0.5); 0 for anything else (more
    digits, an exponent, a small whole number such as "0" or "12"), where the value is taken as exact."""
    written = str(text).strip()
    if not re.fullmatch(r"-?\d+(\.\d+)?", written):
        return 0.0
    digits = written.lstrip("-").replace(".", "").lstrip("0")
    if not PRINTED_DIGITS[0] <= len(digits) <= PRINTED_DIGITS[1]:
        return 0.0
    decimals = len(written.partition(".")[2])
    return 0.5 * 10.0 ** -decimals


def known_optimum(
    optima: pd.DataFrame, *, instance: str, file_name: str, problem: str, params: dict[str, float],
    size: tuple[int, int] | None = None,
) -> float | None:
    """The proven optimum for an instance, problem variant and params, or None (:func:`known_row`)."""
    hit = known_row(optima, instance=instance, file_name=file_name, problem=problem, params=params, size=size)
    return None if hit is None else float(hit["optimal_value"])


def known_row(
    optima: pd.DataFrame, *, instance: str, file_name: str, problem: str, params: dict[str, float],
    size: tuple[int, int] | None = None,
) -> pd.Series | None:
    """The row of the proven optimum for an instance, problem variant and params, or None.

    A row matches on ``problem`` and ``params`` and, where the table gives them, on the instance's
    ``size`` (n_facilities, n_customers: another file of the same name, e.g. a user's own ``p1``, is
    not the published one), then by ``instance`` name (``capa-8000``, ``cap41-ss``) or, failing that,
    by the name of its ``file`` (``sscflp/p1`` → ``holmberg_p1``), each name without a ``.gz`` and then a
    ``.txt`` suffix (a copy saved as ``p1.txt`` is the file ``sscflp/p1``).
    """
    proven = optima[(optima["problem"] == problem) & optima["status"].str.startswith("optimal")]
    proven = proven[np.array([parse_params(text) == params for text in proven["params"]], dtype=bool)]
    if size is not None:
        for column, count in zip(("n_facilities", "n_customers"), size, strict=True):
            if column in proven.columns:
                given = pd.to_numeric(proven[column], errors="coerce")
                proven = proven[given.isna().to_numpy() | (given == count).to_numpy()]
    file_name = instance_name(Path(file_name))  # p1.gz and p1.txt are the file p1, as sscflp/p1.txt is
    for column, value in (("instance", instance), ("file", file_name)):
        keys = proven[column] if column == "instance" else proven[column].map(lambda f: instance_name(Path(f)))
        hits = proven.loc[keys == value]
        if len(hits):
            return hits.iloc[0]
    return None


def matches(objective: float | None, known: float | None, rtol: float = MATCH_RTOL, printed: float = 0.0
            ) -> bool | None:
    """|objective − known| ≤ max(rtol·max(|known|, 1), ``printed``); None without a known value."""
    if known is None:
        return None
    if objective is None or not math.isfinite(objective):
        return False
    return abs(objective - known) <= max(rtol * max(abs(known), 1.0), printed)


def solve_benchmark_problem(
    problem: Problem, *, time_limit: float | None = None, threads: int | None = None, mip_gap: float = DEFAULT_MIP_GAP
):
    """Build, solve and audit with the planner (:func:`planner.pipeline.solve_problem`); its ``Run``."""
    from planner.pipeline import Timing, solve_problem  # lazy: the pipeline may import the readers
    from planner.solver.outcome import SolverOptions

    options = SolverOptions(time_limit_s=time_limit, mip_gap=mip_gap, threads=threads, quiet=True)
    return solve_problem(problem, options, Timing())


def run_bench(
    fmt: str,
    paths: Iterable[Path],
    *,
    capacity: float | None = None,
    p: int | None = None,
    single_source: bool = False,
    time_limit: float | None = None,
    threads: int | None = None,
    optima: Path | None = None,
    mip_gap: float = DEFAULT_MIP_GAP,
    coverage: float | None = None,
) -> Iterator[dict]:
    """Read and solve each file; yield one row per instance.

    Keys: ``instance, format, problem, n_facilities, n_customers, objective, status, best_bound,
    mip_gap, build_s, solve_s, total_s`` (seconds; ``solve_s`` includes the pipeline's presolve
    phase, ``total_s`` = read + screen + build + solve + audit) and, with ``optima``, ``known`` (None
    when the csv has no proven optimum for this instance, variant and params) and ``match``
    (relative difference ≤ 1e-6 or half a unit of its last printed digit, None without ``known``). The
    classic formats add ``p`` and
    ``coverage`` (None where they do not apply); their ``time_limit`` covers the whole solve
    (every HiGHS run of the p-center's radius search).

    A solve that proves infeasibility or fails yields ``status`` ``"infeasible"``/``"error"``,
    ``objective`` None and the ``reason`` (None for an instance with a solution). Bad options, an
    unknown format, a bad ``optima`` file or, with several files, a bad instance file raise
    :class:`InputError` at the call, before anything is solved (each file is read once to check it,
    and again when its row comes: the instances are not all held at once).
    """
    _check_format(fmt)
    _check_options(fmt, capacity=capacity, p=p, single_source=single_source, coverage=coverage)
    table = read_known_optima(optima) if optima is not None else None
    paths = [Path(path) for path in paths]
    if len(paths) > 1:
        _check_files(fmt, paths, capacity=capacity, p=p, single_source=single_source)
    if fmt in CLASSIC_FORMATS:
        from planner.solver.outcome import SolverOptions  # lazy, as in solve_benchmark_problem

        options = SolverOptions(time_limit_s=time_limit, mip_gap=mip_gap, threads=threads, progress_s=None)
        return _classic_rows(fmt, paths, p=p, coverage=coverage, options=options, table=table)
    settings = dict(capacity=capacity, p=p, single_source=single_source, time_limit=time_limit, threads=threads)
    return _bench_rows(fmt, paths, table=table, mip_gap=mip_gap, **settings)


def _bench_rows(
    fmt: str,
    paths: list[Path],
    *,
    capacity: float | None,
    p: int | None,
    single_source: bool,
    time_limit: float | None,
    threads: int | None,
    table: pd.DataFrame | None,
    mip_gap: float,
) -> Iterator[dict]:
    """The rows of :func:`run_bench`, one instance at a time (its options are already checked)."""
    import planner.pipeline  # noqa: F401 - import Pyomo before the first instance's clock starts

    variant = problem_variant(fmt, single_source=single_source)
    for path in paths:
        started = time.perf_counter()
        problem = _read_checked(fmt, path, capacity=capacity, p=p, single_source=single_source)
        row = {
            "instance": problem.name,
            "format": fmt,
            "problem": variant,
            "n_facilities": problem.n_options,
            "n_customers": problem.n_regions,
        }
        row.update(_solve_row(problem, time_limit=time_limit, threads=threads, mip_gap=mip_gap))
        if row["status"] == "infeasible" and fmt in OTHER_LAYOUT and _fits_other_layout(fmt, path):
            row["reason"] += (f"; if {path.name} is {OTHER_LAYOUT[fmt][1]}, read it with 'planner bench "
                              f"{OTHER_LAYOUT[fmt][0]}'")
        elif row["status"] == "infeasible" and fmt in OTHER_LAYOUT and not problem.module_capacity.any():
            row["reason"] += (f"; every capacity is 0, as in UflLib's uncapacitated M files: if {path.name} is one, "
                              "read it with 'planner bench ufl'")
        row["total_s"] = time.perf_counter() - started
        if table is not None:
            params = _params(fmt, capacity=capacity, problem=problem)
            row.update(known_and_match(table, row["objective"], instance=problem.name, file_name=path.name,
                                       problem=variant, params=params, size=(row["n_facilities"], row["n_customers"])))
        logger.info("%s: %s objective=%s (%.2f s)", row["instance"], row["status"], row["objective"], row["total_s"])
        yield row


def _classic_rows(
    fmt: str, paths: list[Path], *, p: int | None, coverage: float | None, options: SolverOptions,
    table: pd.DataFrame | None,
) -> Iterator[dict]:
    """The rows of :func:`run_bench` for a classic format, one instance at a time."""
    for path in paths:
        started = time.perf_counter()
        instance = _read_distance_checked(fmt, path)
        p_open = _sites_to_open(fmt, instance, p, path)
        row = {
            "instance": instance.name + (f"-p{p}" if p is not None and p != instance.p else ""),
            "format": fmt,
            "problem": fmt,
            "n_facilities": instance.n_sites,
            "n_customers": instance.n_demand,
            # the p asked, as the name says (at most p open: a p above the sites' count is solved as that count)
            "p": None if p_open is None else (instance.p if p is None else int(p)),
            "coverage": coverage,
        }
        row.update(solve_classic(fmt, instance, p=p_open, coverage=coverage, options=options))
        row["total_s"] = time.perf_counter() - started
        if table is not None:
            params = {key: float(row[key]) for key in ("p", "coverage") if row[key] is not None}
            row.update(known_and_match(table, row["objective"], instance=row["instance"], file_name=path.name,
                                       problem=fmt, params=params, size=(row["n_facilities"], row["n_customers"])))
        logger.info("%s: %s objective=%s (%.2f s)", row["instance"], row["status"], row["objective"], row["total_s"])
        yield row


def _check_files(fmt: str, paths: list[Path], *, capacity: float | None, p: int | None,
                 single_source: bool) -> None:
    """Read every file as its row will (each dropped before the next), its numbers checked against the
    solver's limits: a malformed or out-of-range second file is refused before the first is solved."""
    for path in paths:
        if fmt in CLASSIC_FORMATS:
            _sites_to_open(fmt, _read_distance_checked(fmt, path), p, path)
        else:
            _read_checked(fmt, path, capacity=capacity, p=p, single_source=single_source, warn=False)


def _read_checked(fmt: str, path: Path, *, capacity: float | None, p: int | None, single_source: bool,
                  warn: bool = True) -> Problem:
    """:func:`read_instance` with its numbers checked; a file the format refuses but another format reads is
    named in the error, and (``warn``) a capacitated file whose line breaks are those of the other
    capacitated layout, or a ``ufl`` one laid out as a Holmberg file, is warned about."""
    try:
        problem = read_instance(fmt, path, capacity=capacity, p=p, single_source=single_source)
    except InputError as error:
        raise InputError(f"{error}{_other_format_hint(fmt, path, error)}") from None
    check_numerics(problem, str(path))  # in the file's words (screening would name the model's keys)
    if warn and fmt in OTHER_LAYOUT and _line_layout(path, problem) == OTHER_LAYOUT[fmt][0]:
        logger.warning("%s: its lines are laid out as in %s (read as '%s'; both layouts hold as many numbers); "
                       "if it is one, read it with 'planner bench %s'", path, OTHER_LAYOUT[fmt][1], fmt,
                       OTHER_LAYOUT[fmt][0])
    if warn and fmt == "ufl" and _line_layout(path, problem) == "sscflp":  # ufl reads the OR-Library layout only
        logger.warning("%s: its lines are laid out as in a Holmberg single-source file (each facility's costs in a "
                       "block), which 'ufl' reads as the OR-Library layout (each customer's demand and costs): the "
                       "costs read are not the file's; if it is one, read it with 'planner bench sscflp'", path)
    return problem


def _read_distance_checked(fmt: str, path: Path) -> DistanceInstance:
    """:func:`read_distance_instance`; a file it refuses but another format reads is named in the error."""
    try:
        return read_distance_instance(path)
    except InputError as error:
        raise InputError(f"{error}{_other_format_hint(fmt, path, error)}") from None


def _sites_to_open(fmt: str, instance: DistanceInstance, p: int | None, path: Path) -> int | None:
    """The p of a pcenter or mclp row (the file's unless given; None for lscp): at least 1; both open at
    most p sites, so a p above the sites' count opens every site (logged)."""
    if fmt == "lscp":
        return None
    if p is None and instance.p < 1:
        raise InputError(f"{path}: the file's p is {instance.p}; {fmt} opens at least 1 site: pass --p N")
    p = instance.p if p is None else int(p)
    if p < 1:
        raise InputError(f"{path}: p={p}: open at least 1 site; pass another --p")
    if p > instance.n_sites:
        logger.info("%s: p=%d is more than the %d sites; %s opens at most p, so every site may open", path, p,
                    instance.n_sites, fmt)
        return instance.n_sites
    return p


def solve_classic(
    fmt: str, instance: DistanceInstance, *, p: int | None, coverage: float | None, options: SolverOptions
) -> dict:
    """objective, status, best_bound, mip_gap, build_s, solve_s of one classic model, the objective
    recomputed from the chosen sites (``planner.solver.classic.check``); a solve that proves
    infeasibility, fails or fails the check gives ``status`` infeasible/error and ``objective`` None."""
    from planner.solver.classic import check, covering, pcenter  # lazy: only the classic formats need them

    try:
        if fmt == "pcenter":
            result = pcenter.solve_pcenter(instance.distance, p, options)
        elif fmt == "mclp":
            result = covering.solve_mclp(instance.distance, instance.weight, coverage, p, options)
        else:
            result = covering.solve_lscp(instance.distance, coverage, options)
        objective = check.checked_objective(fmt, result, instance.distance, weight=instance.weight, p=p,
                                            coverage_distance=coverage)
    except (InfeasibleError, SolverError) as error:
        return unsolved_row(instance.name, error)
    return dict(objective=objective, status=result.status.value, best_bound=result.best_bound,
                mip_gap=result.mip_gap, build_s=result.build_s, solve_s=result.solve_s, reason=None)


def unsolved_row(name: str, error: InfeasibleError | SolverError) -> dict:
    """The result columns of an instance without a solution: status ``infeasible`` or ``error`` and its
    ``reason``, the error's first clause (what is wrong and the numbers; the fix after it speaks of
    model-file keys and data a benchmark file does not have)."""
    logger.info("%s: %s", name, error)
    if isinstance(error, NoSolutionInTimeError):  # not an error of the instance: more time may find one
        return dict(objective=None, status="time_limit", best_bound=None, mip_gap=None, build_s=None, solve_s=None,
                    reason="no feasible solution found within the time limit; give it more time (--time-limit)")
    status = "infeasible" if isinstance(error, InfeasibleError) else "error"
    reason = str(error).split("; ")[0].replace(" units/yr", " units")  # a benchmark file's demand has no time unit
    return dict(objective=None, status=status, best_bound=None, mip_gap=None, build_s=None, solve_s=None,
                reason=reason)


def cases_from_optima(path: Path) -> list[BenchCase]:
    """Every proven-optimal row of ``known_optima.csv`` as a :class:`BenchCase` (files relative to the csv)."""
    path = Path(path)
    table = read_known_optima(path)
    cases = []
    for record in table[table["status"].str.startswith("optimal")].itertuples(index=False):
        params = parse_params(record.params)
        file = path.parent / record.file
        if record.problem == "cflp":
            fmt, single_source = "cap", False
        elif record.problem == "sscflp":
            fmt, single_source = ("cap", True) if record.instance.endswith("-ss") else ("sscflp", False)
        elif record.problem == "ufl":
            fmt, single_source = "ufl", False
        elif record.problem == "pmedian":
            fmt, single_source = "pmed", False
        else:
            raise InputError(f"{path}: row {record.instance} has unknown problem {record.problem!r}")
        cases.append(
            BenchCase(
                name=record.instance,
                problem=record.problem,
                fmt=fmt,
                path=file,
                known=float(record.optimal_value),
                n_facilities=int(record.n_facilities),
                n_customers=int(record.n_customers),
                capacity=params.get("capacity"),
                p=int(params["p"]) if "p" in params else None,
                single_source=single_source,
            )
        )
    return cases


def _solve_row(problem: Problem, *, time_limit: float | None, threads: int | None, mip_gap: float) -> dict:
    """objective, status, best_bound, mip_gap, build_s, solve_s of one solve (failures as a status)."""
    try:
        run = solve_benchmark_problem(problem, time_limit=time_limit, threads=threads, mip_gap=mip_gap)
    except (InfeasibleError, SolverError) as error:
        return unsolved_row(problem.name, error)
    report = run.report
    return dict(
        objective=report.objective,
        status=str(getattr(report.status, "value", report.status)),
        best_bound=report.best_bound,
        mip_gap=report.mip_gap,
        build_s=run.timing.seconds.get("build"),
        # the solve phase (HiGHS, or a search of the planner's whose answer the presolve then bettered) and the
        # pipeline's presolve
        solve_s=run.timing.seconds.get("solve", report.solve_s) + run.timing.seconds.get("presolve", 0.0),
        reason=None,
    )


PROBLEM_FORMATS = ("cap", "sscflp", "ufl", "pmed")  # the formats read_instance reads, in the order hints try them


HINT_MAX_BYTES = 20 << 20  # a larger file refused by its format is not read again in the others for a hint
# errors of the file's content (its token count, a token, a header count: a p-median graph without edges read as
# 'm n' has n = 0, so has a UflLib .opt file), not of options
LAYOUT_PATTERN = re.compile(r"expected \d+ numbers for|not a number|expected an integer ≥")


def _other_format_hint(fmt: str, path: Path, error: InputError) -> str:
    """'; it reads as a FORMAT file ...' where ``path``, whose numbers format ``fmt`` refused (a count or a
    token, not an option such as a missing --capacity), reads cleanly in another format of
    :data:`PROBLEM_FORMATS` (with its defaults); else ''."""
    try:
        small = Path(path).stat().st_size <= HINT_MAX_BYTES
    except OSError:
        return ""
    if not small or not LAYOUT_PATTERN.search(str(error)):
        return ""
    if _is_uflib_solution(path):
        instance = Path(path).name.removesuffix(".gz").removesuffix(".GZ")[: -len(".opt")]
        return (f"; {Path(path).name} is a UflLib solution file (the facility serving each customer, then the "
                f"objective), not an instance: leave it out (the instance is {instance})")
    if fmt not in CLASSIC_FORMATS and _reads_as_points(path):
        return ("; it is a POINTS file (demand points and candidate sites): read it with 'planner bench pcenter', "
                "'mclp' or 'lscp'")
    tries = [(other, {}, "") for other in PROBLEM_FORMATS if other != fmt]
    if fmt != "cap":  # capa, capb, capc: the word 'capacity' where a number stands
        tries.insert(0, ("cap", {"capacity": 1.0}, " --capacity C"))
    for other, options, needs in tries:
        try:
            with errors_only("planner.formats"):  # a trial read's warnings (a pmed graph's parts) are not the user's
                problem = read_instance(other, path, **options)
        except InputError:
            continue
        layout = _line_layout(path, problem) if other in OTHER_LAYOUT else None
        if layout is not None and layout != other and layout != fmt:  # both read it: the line breaks tell which
            other, needs = layout, ""
        return f"; it reads as a '{other}' file: if it is one, use 'planner bench {other}{needs}'"
    return ""


def _reads_as_points(path: Path) -> bool:
    """Whether ``path`` reads as a ``POINTS`` file of the classic models (:func:`read_points`)."""
    try:
        with errors_only("planner.formats"):
            read_points(path)
    except InputError:
        return False
    return True


def _is_uflib_solution(path: Path) -> bool:
    """Whether ``path`` is named ``*.opt`` (or ``*.opt.gz``) and reads as a UflLib solution (:func:`read_ufl_opt`)."""
    if not Path(path).name.lower().removesuffix(".gz").endswith(".opt"):
        return False
    try:
        read_ufl_opt(path)
    except InputError:
        return False
    return True


def _line_layout(path: Path, problem: Problem) -> str | None:
    """Which capacitated layout the line breaks of ``path`` show, where they tell (``cap``: each customer's
    record starts a line, and where the two layouts' breaks coincide (m + 1 divides n), its demand alone
    on the first line and its costs on the next; ``sscflp``: the n demands, then each facility's n costs,
    each block starting a line), else None (one number per line, one long line, breaks that fit both).
    Only the line breaks are read, streamed: the numbers themselves fit either layout."""
    from planner.formats.tokens import FILE_HEADER, read_text

    m, n = problem.n_options, problem.n_regions
    if n == 1:  # one customer: both layouts are d, then the m costs
        return None
    data = 2 + 2 * m  # the first token after the counts and the m (capacity, fixed cost) pairs
    records = {data + k * (m + 1) for k in range(n)}
    blocks = {data} | {data + n + i * n for i in range(m)}
    wanted = records | {start + 1 for start in records} | blocks
    starts, offset, first_length = set(), 0, {}
    for number, line in enumerate(io.StringIO(read_text(path), newline=None)):  # CR, LF or CRLF lines
        tokens = len(line.split())
        if number == 0 and line.lstrip()[:len(FILE_HEADER)].upper() == FILE_HEADER:
            continue
        if tokens:
            if offset in wanted:
                starts.add(offset)
            if offset in (data, data + 1):
                first_length[offset] = tokens
            offset += tokens
    cap, sscflp = records <= starts, blocks <= starts
    demand_alone = cap and first_length.get(data) == 1 and first_length.get(data + 1, 0) > 1 \
        and all(start + 1 in starts for start in records)
    return "cap" if demand_alone or (cap and not sscflp) else "sscflp" if sscflp and not cap else None


def _fits_other_layout(fmt: str, path: Path) -> bool:
    """Whether ``path``, read in the other capacitated layout (``OTHER_LAYOUT``: both hold as many
    numbers), has the capacity for its demand, so that it may be a file of that layout."""
    try:
        other = read_instance(OTHER_LAYOUT[fmt][0], path)
    except InputError:
        return False
    capacity = float(np.sum(other.module_capacity * other.max_modules))
    return capacity >= float(other.demand.sum())


def _params(fmt: str, *, capacity: float | None, problem: Problem) -> dict[str, float]:
    """The params of an instance as in ``known_optima.csv``: capacity=… for capa, p=… for p-median."""
    if fmt == "cap" and capacity is not None:
        return {"capacity": float(capacity)}
    if fmt == "pmed":
        return {"p": float(problem.max_facilities)}
    return {}


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InputError(f"unknown benchmark format {fmt!r}; use one of {', '.join(FORMATS)}")


def _check_options(
    fmt: str, *, capacity: float | None, p: int | None, single_source: bool, coverage: float | None = None
) -> None:
    """Reject options that have no meaning for ``fmt`` instead of ignoring them, and require
    ``coverage`` where it has one."""
    if capacity is not None and fmt != "cap":
        raise InputError(f"--capacity applies to format 'cap' (capa, capb, capc) only, not {fmt!r}")
    if p is not None and fmt not in ("pmed", "pcenter", "mclp"):
        raise InputError(f"--p applies to format 'pmed', 'pcenter' or 'mclp' only, not {fmt!r}")
    if coverage is not None and fmt not in ("mclp", "lscp"):
        raise InputError(f"--coverage applies to format 'mclp' or 'lscp' only, not {fmt!r}")
    if coverage is None and fmt in ("mclp", "lscp"):
        raise InputError(f"format {fmt!r} needs a coverage distance: pass --coverage D (a site covers a demand "
                         "point within distance D)")
    if coverage is not None and not (math.isfinite(coverage) and coverage >= 0):
        raise InputError(f"coverage distance {coverage} must be a finite number ≥ 0")
    if single_source and fmt not in ("cap", "sscflp"):
        raise InputError(f"--single-source applies to format 'cap' only (sscflp is always single-source), not {fmt!r}")
