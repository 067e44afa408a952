"""What flips the decision: one model parameter at a time set to the low and the high end of its range
(every other one at the model's value), and at each end the central-only, micro-only and hybrid
networks solved and compared (``planner compare --sensitivity``).

* **Parameters** (:func:`default_parameters`): transport cost (every ``transport.<p>.cost_per_unit_km``
  scaled together), demand (every ``products.<p>.demand_rate``), microfactory and central fixed cost
  (``opening_cost_per_yr`` and ``module_cost_per_yr`` of the types of that role), custom share (the
  ``demand_rate`` of the products only microfactory-role types make), each as a multiplier of the
  model's values (default ×0.7 to ×1.3); the carbon price as an absolute range (0 to twice the model's,
  0 to 400 currency/t CO2 when the model's is 0). A dotted model key can be added with an absolute range.
* **At each point**: the value of decentralisation (best central-only cost − hybrid cost, currency/yr,
  with its proven interval, :func:`~planner.studies.compare.value_of_decentralisation`) and the winner
  (:func:`winner_name`): the cheapest network found, where a hybrid that costs no less than the
  central-only (micro-only) network is named after that one, since it needs nothing else, and a plan that
  opens no facility is ``none`` (no network pays off; it had been named central-only). A point is
  *decided* when :func:`~planner.studies.compare.decide` proves its winner whatever the solver gaps, and
  *reached the gap* when none of its solves stopped at a time or other limit.
* **Breakeven**: where the winners at the two ends differ and both are decided, the range is bisected
  ``steps`` times (each midpoint one more compare) to bracket the value where the winner changes,
  reported as the bracket's middle ± half its width. A midpoint that is not decided stops the bisection
  and the breakeven is reported as not decided at this gap, never as a number. Only the ends are
  compared otherwise: a winner that flips and flips back inside the range is not seen.

The solves of a round (all ends first, then one midpoint per parameter still bisecting) run on the
sweep's Dask cluster (:func:`planner.studies.sweep.runner.dask_client`), one HiGHS thread each, or one
after another in this process with ``scheduler="synchronous"``; each hybrid after its point's rivals,
started from their networks (:func:`evaluate_points`).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd

from planner.errors import InfeasibleError, InputError, PlannerError
from planner.inputs.config import (
    ModelConfig,
    check_read_by_a_solve,
    dotted_key,
    key_parts,
    model_config_from_dict,
    plain_number,
    split_assignment,
)
from planner.inputs.io import warn_od_costs_fixed
from planner.inputs.prepare import DataOptions
from planner.logs import errors_only
from planner.solver.outcome import SolverOptions, Status
from planner.studies.compare import (
    CENTRAL,
    MICRO,
    decide,
    open_modules,
    open_network,
    standard_variants,
    value_of_decentralisation,
    winner_name,
)
from planner.studies.sweep.scenario import resolve

logger = logging.getLogger(__name__)

DEFAULT_SPREAD = 0.3  # scaled parameters run from ×(1 − spread) to ×(1 + spread)
CARBON_HIGH_IF_ZERO = 400.0  # currency/t CO2: the high end of the carbon price when the model's is 0
BISECT_STEPS = 4  # midpoints per breakeven: the bracket is the range / 2**steps
SYNCHRONOUS = "synchronous"  # the scheduler name for solving in this process, one after another
VARIANTS = ("central_only", "micro_only", "hybrid")
REACHED = (Status.OPTIMAL.value, Status.GAP_LIMIT.value)  # statuses of a solve that reached its gap
NO_CHANGE, NOT_DECIDED, BREAKEVEN, FAILED = "no change within the range", "not decided at this gap", "breakeven", \
    "a solve failed"
NOTHING_BUILT = "none"  # the winner of a point whose cheapest plan opens no facility: no network pays off


@dataclass(frozen=True)
class Parameter:
    """One parameter of the sensitivity: the model keys it sets and its range.

    ``scaled``: ``low``, ``high`` (and a breakeven) are multipliers of each key's model value, the base
    is 1; else they are the value every key is set to, the base is the model's value (``unit``)."""

    name: str
    label: str
    keys: tuple[tuple[str, float | None], ...]  # (dotted key, the model's value)
    low: float
    high: float
    scaled: bool = True
    unit: str = "× model value"

    @property
    def base(self) -> float:
        """1 for a scaled parameter, else the model's value of the (first) key (NaN when it has none)."""
        if self.scaled:
            return 1.0
        value = self.keys[0][1]
        return math.nan if value is None else float(value)

    def settings(self, x: float) -> dict[str, float]:
        """The model keys and their values at ``x``."""
        return {key: (value or 0.0) * x if self.scaled else float(x) for key, value in self.keys}

    def apply(self, config: ModelConfig, x: float) -> ModelConfig:
        """The model at ``x`` (raises :class:`InputError` naming the key when the schema refuses a value)."""
        return resolve(config, self.settings(x))


# --- the parameters --------------------------------------------------------------------------------------


def _role_types(config: ModelConfig, role: str) -> list[str]:
    return [name for name, facility in config.facility_types.items() if facility.role == role]


def _fixed_cost_keys(config: ModelConfig, role: str) -> tuple[tuple[str, float], ...]:
    """opening_cost_per_yr and module_cost_per_yr of the types of ``role`` (the nonzero ones)."""
    keys = []
    for name in _role_types(config, role):
        facility = config.facility_types[name]
        for field in ("opening_cost_per_yr", "module_cost_per_yr"):
            if getattr(facility, field) > 0:
                keys.append((dotted_key("facility_types", name, field), float(getattr(facility, field))))
    return tuple(keys)


def custom_products(config: ModelConfig) -> list[str]:
    """The products that microfactory-role types make and no other type does."""
    makers: dict[str, set[str]] = {}
    for facility in config.facility_types.values():
        for product in facility.products:
            makers.setdefault(product, set()).add(facility.role)
    return [product for product in config.products if makers.get(product) == {MICRO}]


def _demand_keys(config: ModelConfig, products) -> tuple[tuple[str, float], ...]:
    """demand_rate of ``products`` (those with their own demand_column ignore it and are left out)."""
    return tuple((dotted_key("products", p, "demand_rate"), float(config.products[p].demand_rate)) for p in products
                 if config.products[p].demand_column is None and config.products[p].demand_rate > 0)


def candidate_parameters(config: ModelConfig, spread: float = DEFAULT_SPREAD) -> list[Parameter]:
    """The default set (see the module docstring), those the model has nothing for (no custom product,
    fixed costs of 0) with no keys."""
    low, high = 1.0 - spread, 1.0 + spread
    transport = tuple((dotted_key("transport", name, "cost_per_unit_km"), float(mode.cost_per_unit_km))
                      for name, mode in config.transport.items() if mode.cost_per_unit_km > 0)
    return [
        Parameter("transport_cost", "transport cost", transport, low, high),
        Parameter("demand", "demand level", _demand_keys(config, config.products), low, high),
        Parameter("micro_fixed_cost", "microfactory fixed cost", _fixed_cost_keys(config, MICRO), low, high),
        Parameter("central_fixed_cost", "central fixed cost", _fixed_cost_keys(config, CENTRAL), low, high),
        Parameter("carbon_price", "carbon price", (("carbon_price", float(config.carbon_price)),), 0.0,
                  2 * config.carbon_price if config.carbon_price > 0 else CARBON_HIGH_IF_ZERO, scaled=False,
                  unit=f"{config.currency}/t CO2"),
        Parameter("custom_share", "custom share", _demand_keys(config, custom_products(config)), low, high),
    ]


def default_parameters(config: ModelConfig, spread: float = DEFAULT_SPREAD) -> list[Parameter]:
    """The default parameters the model has something to vary for."""
    return [parameter for parameter in candidate_parameters(config, spread) if parameter.keys]


def parse_range(text: str) -> tuple[str, float, float]:
    """``KEY=LOW:HIGH`` → (KEY, LOW, HIGH), LOW < HIGH, both finite.

    >>> parse_range("carbon_price=0:250")
    ('carbon_price', 0.0, 250.0)
    >>> parse_range("carbon_price=250:0")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    planner.errors.InputError: --sensitivity-param 'carbon_price=250:0': use KEY=LOW:HIGH with LOW < HIGH, ...
    """
    key, sep, spec = split_assignment(text)
    parts = spec.split(":")
    try:
        if not sep or not key.strip() or len(parts) != 2:
            raise ValueError
        low, high = plain_number(parts[0]), plain_number(parts[1])
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError
    except ValueError:
        raise InputError(
            f"--sensitivity-param '{text}': use KEY=LOW:HIGH with LOW < HIGH, e.g. micro_fixed_cost=0.5:1.5 "
            "(multipliers) or carbon_price=0:300"
        ) from None
    return key.strip(), low, high


def _model_key_parameter(config: ModelConfig, key: str, low: float, high: float, known: list[str]) -> Parameter:
    """A parameter of one dotted model key over an absolute range in the key's own unit."""
    check_read_by_a_solve(key, f"--sensitivity-param '{key}'")
    node, walked = config.model_dump(mode="python"), []
    for part in key_parts(key, "--sensitivity-param"):
        if not isinstance(node, dict) or part not in node:
            where = f"'{dotted_key(*walked)}'" if walked else f"model '{config.name}'"
            raise InputError(f"--sensitivity-param '{key}': '{part}' is not a key of {where}; use a parameter "
                             f"({', '.join(known)}) or a dotted model key such as facility_types.<name>.opening_cost_"
                             "per_yr")
        node, walked = node[part], [*walked, part]
    if isinstance(node, bool | int) or not (node is None or isinstance(node, float)):
        kind = "an integer" if isinstance(node, int) and not isinstance(node, bool) else type(node).__name__
        raise InputError(f"--sensitivity-param '{key}': the value there is {kind}, not a continuous number")
    return Parameter(key, key, ((key, node),), low, high, scaled=False, unit="")


def sensitivity_parameters(config: ModelConfig, spread: float = DEFAULT_SPREAD,
                           overrides: tuple[str, ...] = ()) -> list[Parameter]:
    """The default parameters with ``spread``, each ``KEY=LOW:HIGH`` of ``overrides`` replacing the range
    of the parameter KEY or adding the dotted model key KEY; each end is checked against the schema. The
    defaults the model has nothing for are left out, with a log line once everything is checked."""
    candidates = {parameter.name: parameter for parameter in candidate_parameters(config, spread)}
    parameters = {name: parameter for name, parameter in candidates.items() if parameter.keys}
    given: dict[str, str] = {}
    for text in overrides:
        key, low, high = parse_range(text)
        if key in given:  # the second range had replaced the first without a word
            raise InputError(f"--sensitivity-param: '{given[key]}' and '{text}' both give {key}; give each key once")
        given[key] = text
        if key in candidates and not candidates[key].keys:
            raise InputError(f"--sensitivity-param '{text}': model '{config.name}' has no {candidates[key].label} "
                             "to vary (see the help of --sensitivity-param)")
        if key in parameters:
            parameters[key] = dataclasses.replace(parameters[key], low=low, high=high)
        else:
            parameters[key] = _model_key_parameter(config, key, low, high, list(candidates))
    for parameter in parameters.values():
        for x in (parameter.low, parameter.high):
            try:
                parameter.apply(config, x)
            except InputError as error:
                raise InputError(f"sensitivity {parameter.name} at {x:g}: {error}") from None
    if not parameters:
        raise InputError(f"model '{config.name}': nothing to vary; add --sensitivity-param KEY=LOW:HIGH")
    for parameter in candidates.values():
        if parameter.name not in parameters:
            logger.info("sensitivity: model '%s' has no %s to vary; left out", config.name, parameter.label)
    return list(parameters.values())


# --- one solve, here or on a worker ------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """A parameter at one value (``parameter`` None: the model as it is, the base)."""

    parameter: Parameter | None
    role: str  # base, low, high or bisect
    x: float


@dataclass(frozen=True)
class SolveTask:
    """One variant of the model at one point (plain, picklable data for a Dask worker)."""

    point: int
    variant: str
    config_data: dict
    source_path: str | None
    data: DataOptions
    options: SolverOptions
    derived_from_data: dict | None = None  # the model a variant leaves facility types out of (its --sites names)
    start_networks: tuple = ()  # the rivals' open networks (frozensets of (site id, type)): the hybrid's starts
    start_modules: tuple = ()  # their module counts ((site id, type) → modules), in the same order
    start_from: tuple[int, ...] = ()  # positions in its batch of the tasks whose networks are its starts


def _failed(task: SolveTask, error: str) -> dict:
    return {"point": task.point, "variant": task.variant, "status": "failed", "objective": None, "best_bound": None,
            "mip_gap": None, "error": error}


def solve_task(task: SolveTask) -> dict:
    """Solve one variant: its status, objective, bound and gap; an infeasible variant becomes status
    ``infeasible``, any other planner error (data the model refuses) status ``failed``, with the error's line."""
    from pathlib import Path

    from planner.pipeline import plan
    from planner.studies.rival_start import cheapest_network_start

    try:
        config = model_config_from_dict(task.config_data, task.source_path or "<sensitivity>")
        config.source_path = Path(task.source_path) if task.source_path else None
        if task.derived_from_data is not None:
            config.derived_from = model_config_from_dict(task.derived_from_data, task.source_path or "<sensitivity>")
        networks, modules = task.start_networks, task.start_modules
        result = plan(config, task.data, task.options, start_for=(lambda problem: cheapest_network_start(
            problem, networks, modules) if problem.objective_kind == "cost" else None) if networks else None)
    except InfeasibleError as error:  # a result, as in the comparison itself: this variant has no network here
        return {**_failed(task, str(error)), "status": "infeasible"}
    except PlannerError as error:
        return _failed(task, str(error))
    report = result.run.report
    return {"point": task.point, "variant": task.variant, "status": report.status.value,
            "objective": report.objective, "best_bound": report.best_bound, "mip_gap": report.mip_gap, "error": "",
            "network": open_network(result),  # two variants that found the same network are decided (compare)
            "modules": open_modules(result)}


Runner = Callable[[list[SolveTask]], list[dict]]


def _after(task: SolveTask, *started_by: dict) -> SolveTask:
    """``task`` with the networks of the solves it starts from (their rows) as its starts."""
    found = [row for row in started_by if row.get("network") is not None]
    return dataclasses.replace(task, start_networks=tuple(row["network"] for row in found),
                               start_modules=tuple(row.get("modules") for row in found), start_from=())


def _in_start_order(tasks: list[SolveTask]) -> list[int]:
    """The tasks' positions, those started from others after every task started from nothing."""
    return sorted(range(len(tasks)), key=lambda n: bool(tasks[n].start_from))


def run_here(tasks: list[SolveTask]) -> list[dict]:
    """Solve the tasks one after another in this process, each after the tasks it starts from (the solves'
    log lines held back)."""
    rows: dict[int, dict] = {}
    with errors_only("planner"):  # the solves' progress and the model's warnings, shown once, not per point
        for number in _in_start_order(tasks):
            task = tasks[number]
            rows[number] = solve_task(_after(task, *(rows[n] for n in task.start_from)))
    return [rows[number] for number in range(len(tasks))]


def _solve_on_worker(task: SolveTask, *started_by: dict) -> dict:
    logging.getLogger("planner").setLevel(logging.ERROR)  # screening warnings stay on the worker
    return solve_task(_after(task, *started_by))


def run_on_dask(client, tasks: list[SolveTask]) -> list[dict]:
    """Solve the tasks on the cluster of ``client``, rows in task order, each as soon as the tasks it
    starts from are done (a point's hybrid after that point's rivals, not after every point's); a worker
    that dies fails its solve (and those started from it) only. An interrupt cancels what is left."""
    futures = {}
    for number in _in_start_order(tasks):
        task = tasks[number]
        futures[number] = client.submit(_solve_on_worker, task, *(futures[n] for n in task.start_from), pure=False)
    futures = [futures[number] for number in range(len(tasks))]
    rows = []
    try:
        for task, future in zip(tasks, futures, strict=True):
            try:
                rows.append(future.result())
            except Exception as error:  # the worker died (memory, a crash): record it, go on
                rows.append(_failed(task, f"{type(error).__name__}: {error}"))
    except BaseException:
        client.cancel(futures, force=True)
        raise
    return rows


@contextmanager
def task_runner(workers: int | None = None, scheduler: str | None = None) -> Iterator[Runner]:
    """A runner of solve tasks: on the sweep's Dask cluster (a local one with ``workers`` processes, or
    the scheduler at an address), or here with ``scheduler="synchronous"``."""
    if scheduler == SYNCHRONOUS:
        yield run_here
        return
    from planner.studies.sweep.runner import dask_client

    with dask_client(workers, scheduler) as client:
        yield functools.partial(run_on_dask, client)


# --- a point: three solves, one comparison ------------------------------------------------------------------


def _variant_columns(frame: pd.DataFrame) -> dict:
    columns = {}
    for variant in VARIANTS:
        found = frame[frame["variant"] == variant]
        for field in ("status", "objective", "best_bound", "mip_gap"):
            columns[f"{field}_{variant}"] = found[field].iloc[0] if len(found) else None
    return columns


def point_row(point: Point, solved: list[dict]) -> dict:
    """One line of sensitivity.csv from the three solves of ``point``."""
    frame = pd.DataFrame(solved)
    for field in ("objective", "best_bound", "mip_gap"):
        frame[field] = pd.to_numeric(frame[field], errors="coerce")
    found = frame[frame["objective"].notna()]
    parameter = point.parameter
    row = {"parameter": parameter.name if parameter else "base", "label": parameter.label if parameter else "model",
           "role": point.role, "x": point.x,
           "settings": "; ".join(f"{k}={v:g}" for k, v in parameter.settings(point.x).items()) if parameter else ""}
    value, winner, decided = {}, None, False
    if not found.empty and not (frame["status"] == "failed").any():  # an infeasible variant loses, as in compare
        networks = {r["variant"]: r["network"] for r in solved if r.get("network") is not None}
        decision = decide(frame, networks)
        value, winner, decided = value_of_decentralisation(frame), winner_name(found, decision), decision["decided"]
        if networks.get(decision["winner"]) == frozenset():  # the cheapest plan opens nothing: no network wins
            winner = NOTHING_BUILT
    interval = value.get("proven_interval") or {}
    row.update(value_of_decentralisation=value.get("absolute"), proven_at_least=interval.get("at_least"),
               proven_at_most=interval.get("at_most"), winner=winner, decided=bool(decided),
               reached_gap=bool(frame["status"].isin([*REACHED, "infeasible"]).all()), **_variant_columns(frame),
               note="; ".join(f"{r.variant}: {r.error}" for r in frame.itertuples() if r.error))
    return row


def evaluate_points(config: ModelConfig, points: list[Point], data: DataOptions, options: SolverOptions,
                    run: Runner) -> list[dict]:
    """Solve the three variants of the model at every point (one batch on ``run``); one row each. Each
    hybrid runs after its point's rivals, started from the cheapest of their networks that is feasible for
    it, as ``planner compare`` starts its hybrid: a hybrid stopped at its limit is then never dearer than
    a rival (models with suppliers aside: :func:`~planner.studies.rival_start.cheapest_network_start`)."""
    source = str(config.source_path) if config.source_path else None
    tasks = []
    for number, point in enumerate(points):
        with errors_only("planner"):  # the solves' progress and the model's warnings, shown once, not per point
            model = point.parameter.apply(config, point.x) if point.parameter else config
            variants = standard_variants(model)
        rivals = tuple(len(tasks) + i for i, name in enumerate(variants) if name != "hybrid")
        for name, variant in variants.items():
            derived = variant.derived_from.model_dump(mode="json") if variant.derived_from else None
            tasks.append(SolveTask(number, name, variant.model_dump(mode="json"), source, data, options, derived,
                                   start_from=rivals if name == "hybrid" else ()))
    rows = run(tasks)
    return [point_row(point, [row for row in rows if row["point"] == number]) for number, point in enumerate(points)]


# --- breakevens -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bracket:
    """Where the winner changes: between ``lo`` and ``hi`` (``winner_lo`` below, ``winner_hi`` above), or
    why that is not known (``outcome``)."""

    lo: float
    hi: float
    winner_lo: str | None
    winner_hi: str | None
    outcome: str

    @classmethod
    def from_ends(cls, low: dict, high: dict) -> Bracket:
        if low["winner"] is None or high["winner"] is None:
            outcome = FAILED
        elif not (low["decided"] and high["decided"]):
            outcome = NOT_DECIDED
        else:
            outcome = NO_CHANGE if low["winner"] == high["winner"] else BREAKEVEN
        return cls(low["x"], high["x"], low["winner"], high["winner"], outcome)

    def narrowed(self, middle: dict) -> Bracket:
        """The half in which the winner changes, after a compare at the middle (the lower change when
        the middle has a third winner); a middle not decided or failed ends the search."""
        if middle["winner"] is None:
            return dataclasses.replace(self, outcome=FAILED)
        if not middle["decided"]:
            return dataclasses.replace(self, outcome=NOT_DECIDED)
        if middle["winner"] == self.winner_lo:
            return dataclasses.replace(self, lo=middle["x"])
        return dataclasses.replace(self, hi=middle["x"], winner_hi=middle["winner"])

    @property
    def value(self) -> float | None:
        return (self.lo + self.hi) / 2 if self.outcome == BREAKEVEN else None

    @property
    def tolerance(self) -> float | None:
        return (self.hi - self.lo) / 2 if self.outcome == BREAKEVEN else None


def find_breakevens(parameters: list[Parameter], ends: dict[tuple[str, str], dict],
                    evaluate: Callable[[list[Point]], list[dict]], steps: int) -> tuple[dict[str, Bracket], list[dict]]:
    """Bisect every parameter whose decided winners differ at its ends, ``steps`` rounds, one midpoint
    per parameter still searching in each round (one batch); the brackets and the midpoints' rows."""
    brackets = {p.name: Bracket.from_ends(ends[p.name, "low"], ends[p.name, "high"]) for p in parameters}
    rows = []
    for _ in range(steps):
        active = [p for p in parameters if brackets[p.name].outcome == BREAKEVEN]
        if not active:
            break
        middles = evaluate([Point(p, "bisect", (brackets[p.name].lo + brackets[p.name].hi) / 2) for p in active])
        for parameter, middle in zip(active, middles, strict=True):
            brackets[parameter.name] = brackets[parameter.name].narrowed(middle)
        rows += middles
    return brackets, rows


# --- the whole study ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sensitivity:
    """What ``compare --sensitivity`` computed: ``points`` (one row per evaluated point, the base
    first: sensitivity.csv) and ``parameters`` (one row per parameter, largest swing first)."""

    points: pd.DataFrame
    parameters: pd.DataFrame
    steps: int

    @property
    def base(self) -> dict:
        return self.points.iloc[0].to_dict()


POINT_UNITS = {"value_of_decentralisation": "currency/yr", "proven_at_least": "currency/yr",
               "proven_at_most": "currency/yr", **{f"objective_{v}": "currency/yr" for v in VARIANTS},
               **{f"best_bound_{v}": "currency/yr" for v in VARIANTS}, **{f"mip_gap_{v}": "fraction" for v in VARIANTS}}


def _parameter_row(parameter: Parameter, low: dict, high: dict, bracket: Bracket) -> dict:
    values = [low["value_of_decentralisation"], high["value_of_decentralisation"]]
    swing = abs(values[1] - values[0]) if None not in values else math.nan
    row = {"parameter": parameter.name, "label": parameter.label, "unit": parameter.unit, "scaled": parameter.scaled,
           "base": parameter.base, "low": parameter.low, "high": parameter.high, "swing": swing}
    for end, point in (("low", low), ("high", high)):
        for field in ("value_of_decentralisation", "proven_at_least", "proven_at_most", "winner", "decided",
                      "reached_gap"):
            row[f"{field}_{end}"] = point[field]
    row.update(outcome=bracket.outcome, breakeven=bracket.value, breakeven_tolerance=bracket.tolerance,
               bracket_low=bracket.lo, bracket_high=bracket.hi, winner_below=bracket.winner_lo,
               winner_above=bracket.winner_hi)
    return row


def parameter_table(parameters: list[Parameter], ends: dict[tuple[str, str], dict],
                    brackets: dict[str, Bracket]) -> pd.DataFrame:
    """One row per parameter: its range, the value and winner at each end, the swing of the value and
    the breakeven (or why there is none), largest swing first."""
    rows = [_parameter_row(p, ends[p.name, "low"], ends[p.name, "high"], brackets[p.name]) for p in parameters]
    table = pd.DataFrame(rows).sort_values("swing", ascending=False, na_position="last", kind="stable")
    table.attrs["unit"] = {"swing": "currency/yr", "value_of_decentralisation_low": "currency/yr",
                           "value_of_decentralisation_high": "currency/yr"}
    return table.reset_index(drop=True)


def base_solves(rows: pd.DataFrame, networks: dict[str, frozenset] | None = None) -> list[dict]:
    """The standard variants' rows of a comparison (compare.csv) as solves of the base point, with their
    open networks where given (without them the base row had not seen two variants' same network, and read
    ``decided=False`` where value.json said decided)."""
    kept = rows[rows["variant"].isin(VARIANTS)]
    notes = kept["note"].fillna("") if "note" in kept else pd.Series("", index=kept.index)  # an infeasible variant's
    networks = networks or {}
    return [{"point": -1, "variant": r.variant, "status": r.status, "objective": r.objective,
             "best_bound": r.best_bound, "mip_gap": r.mip_gap, "error": note, "network": networks.get(r.variant)}
            for r, note in zip(kept.itertuples(), notes, strict=True)]


def run_sensitivity(config: ModelConfig, data: DataOptions, options: SolverOptions, parameters: list[Parameter],
                    base_rows: pd.DataFrame | None = None, steps: int = BISECT_STEPS, workers: int | None = None,
                    scheduler: str | None = None, base_networks: dict[str, frozenset] | None = None) -> Sensitivity:
    """Compare the networks at each parameter's low and high end (one batch), then bisect where the
    decided winner changes (see the module docstring). ``base_rows``: the comparison of the model as it
    is (compare.csv rows; ``base_networks`` their open networks), else it is solved too. Each solve keeps
    ``options``' time limit and gap, on one HiGHS thread."""
    options = dataclasses.replace(options, threads=1, quiet=True)
    warn_od_costs_fixed([key for parameter in parameters for key, _ in parameter.keys], data.od_path, "--sensitivity")
    points = [Point(p, role, x) for p in parameters for role, x in (("low", p.low), ("high", p.high))]
    base = Point(None, "base", math.nan)
    if base_rows is None:
        points.append(base)
    logger.info("sensitivity: %d parameters, %d solves at their ends on %s", len(parameters), 3 * len(points),
                scheduler or f"a local cluster of {workers or 'one worker per core'}")
    with task_runner(workers, scheduler) as run:
        evaluate = functools.partial(evaluate_points, config, data=data, options=options, run=run)
        rows = evaluate(points)
        base_row = rows.pop() if base_rows is None else point_row(base, base_solves(base_rows, base_networks))
        ends = {(row["parameter"], row["role"]): row for row in rows}
        brackets, middles = find_breakevens(parameters, ends, evaluate, steps)
    for name, bracket in brackets.items():
        logger.info("sensitivity %s: %s → %s, %s", name, bracket.winner_lo, bracket.winner_hi, bracket.outcome)
    points_table = pd.DataFrame([base_row, *rows, *middles])
    points_table.attrs["unit"] = POINT_UNITS
    return Sensitivity(points_table, parameter_table(parameters, ends, brackets), steps)
