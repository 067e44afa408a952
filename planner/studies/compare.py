"""The microfactory question answered: the same data solved as central-only, micro-only and hybrid
networks (and any other model files), the value of decentralisation, where microfactories win, and
a breakeven sweep of one model parameter.

* **Value of decentralisation** = cost of the best central-only network − cost of the hybrid
  network (currency/yr, and in % of the central-only cost). The hybrid contains every central-only
  network, so with both solved to optimality it is ≥ 0; with a gap tolerance it can differ by up
  to the gaps, which are reported beside it. Whatever the gaps, it lies in the **proven interval**
  [central-only bound − hybrid cost, central-only cost − hybrid bound] (:func:`proven_saving`); the
  winner is decided only when every such interval excludes zero (:func:`decide`).
* **A common target gap** (:func:`catch_up`): the time the variants that reached the gap did not use
  goes to those that stopped above it, so the interval is as narrow as the overall limit allows.
* **Where microfactories win**: per region, the fully loaded cost to serve it (flow costs, its share
  of the serving facilities' fixed and setup costs, unmet penalty; per unit of demand) in the
  central-only network minus that in the micro-only network; positive means local is cheaper.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.errors import InfeasibleError, InputError, SolverError
from planner.inputs.config import (
    ModelConfig,
    check_read_by_a_solve,
    model_config_from_dict,
    plain_number,
    set_dotted,
    split_assignment,
)
from planner.inputs.io import warn_od_costs_fixed
from planner.inputs.prepare import DataOptions
from planner.logs import study_part
from planner.pipeline import Plan, audited_solution, plan
from planner.results import type_count_column
from planner.solver.outcome import SolverOptions, Status, relative_gap
from planner.studies.rival_start import cheapest_rival, cheapest_rival_start
from planner.timing import Timing

logger = logging.getLogger(__name__)

CENTRAL, MICRO = "central", "microfactory"
MAX_SWEEP_VALUES = 1000  # values of a --sweep: each is a solve of the model
MIN_CATCH_UP_S = 10.0  # a variant behind its gap is solved again, from its solution, only with this much left


def role_variant(config: ModelConfig, keep_roles: set[str], name: str) -> ModelConfig:
    """A copy of ``config`` keeping only facility types whose role is in ``keep_roles``."""
    data = config.model_dump(mode="python")
    data["facility_types"] = {
        type_name: facility for type_name, facility in data["facility_types"].items() if facility["role"] in keep_roles
    }
    if not data["facility_types"]:
        raise InputError(
            f"model '{config.name}': no facility type has role {sorted(keep_roles)}; set role = \"central\" or "
            '"microfactory" on the facility types to compare central-only and micro-only networks'
        )
    data["name"] = name
    variant = model_config_from_dict(data, config.source_path or config.name)
    variant.source_path = config.source_path
    variant.derived_from = config.derived_from or config  # a --sites file names the user's facility types
    return variant


def standard_variants(config: ModelConfig) -> dict[str, ModelConfig]:
    """central_only, micro_only and hybrid (the model itself) from the facility types' roles."""
    roles = {facility.role for facility in config.facility_types.values()}
    if not {CENTRAL, MICRO} <= roles:
        raise InputError(
            f"model '{config.name}': compare needs facility types with role = \"central\" and role = "
            f'"microfactory" (found roles {sorted(roles)}); set role on each [facility_types.<name>]'
        )
    return {
        "central_only": role_variant(config, {CENTRAL, "other"}, "central_only"),
        "micro_only": role_variant(config, {MICRO, "other"}, "micro_only"),
        "hybrid": config,
    }


def delivery_distance_stats(flows: pd.DataFrame) -> tuple[float, float]:
    """Quantity-weighted mean and 95th percentile of delivery distance (km)."""
    if flows.empty or flows["quantity"].sum() <= 0:
        return float("nan"), float("nan")
    order = np.argsort(flows["distance_km"].to_numpy())
    distance = flows["distance_km"].to_numpy()[order]
    weight = flows["quantity"].to_numpy()[order]
    cumulative = np.cumsum(weight) / weight.sum()
    p95 = float(distance[np.searchsorted(cumulative, 0.95)])
    return float(np.average(distance, weights=weight)), p95


def comparison_row(name: str, result: Plan) -> dict:
    """One line of compare.csv."""
    run = result.run
    tables = run.tables
    mean_km, p95_km = delivery_distance_stats(tables.flows)
    demand = float(tables.regions["demand"].sum())
    row = {
        "variant": name,
        "status": run.report.status.value,
        "objective": run.report.objective,
        "best_bound": run.report.best_bound,
        "mip_gap": run.report.mip_gap,
        **{f"cost_{part}": value for part, value in tables.cost_parts().items()},
        "co2_t": tables.co2_t(),
        **{f"n_{type_id}": count for type_id, count in tables.facility_counts(run.problem.type_ids).items()},
        "mean_delivery_km": mean_km,
        "p95_delivery_km": p95_km,
        "share_served_within_radius": float(tables.regions["served"].sum()) / demand if demand else float("nan"),
        "unmet_units": float(tables.regions["unmet"].clip(lower=0).sum()),
    }
    return row


def in_column_order(frame: pd.DataFrame, configs: dict[str, ModelConfig]) -> pd.DataFrame:
    """compare.csv's columns in one order whichever variant comes first or is infeasible: the facility
    counts (``n_<type>``, in the order of the types over all variants) after ``co2_t``, ``note`` last.
    The rows' own order had moved them (scripts read columns by position)."""
    types = list(dict.fromkeys(t for config in configs.values() for t in config.facility_types))
    counts = [f"n_{t}" for t in types if f"n_{t}" in frame.columns]
    rest = [c for c in frame.columns if c not in counts and c != "note"]
    at = rest.index("co2_t") + 1 if "co2_t" in rest else len(rest)
    return frame[rest[:at] + counts + rest[at:] + (["note"] if "note" in frame.columns else [])]


COLUMN_UNITS = {
    "objective": "currency/yr",
    "best_bound": "currency/yr",
    "mip_gap": "fraction",
    "co2_t": "t CO2/yr",
    "mean_delivery_km": "km",
    "p95_delivery_km": "km",
    "share_served_within_radius": "fraction",
    "unmet_units": "units/yr",
}


def with_units(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with ``attrs["unit"]``: cost parts in currency/yr, facility counts in facilities."""
    units = {}
    for column in rows.columns:
        if column in COLUMN_UNITS:
            units[column] = COLUMN_UNITS[column]
        elif column.startswith("cost_"):
            units[column] = "currency/yr"
        elif column.startswith("n_"):
            units[column] = "facilities"
    rows.attrs["unit"] = units
    return rows


def _group(name: str) -> str:
    """The variant group of ``name``: every central_only* variant is one central-only network, every
    micro_only* one micro-only network; any other variant stands alone."""
    for group in ("central_only", "micro_only"):
        if name.startswith(group):
            return group
    return name


def proven_saving(better: pd.DataFrame, worse: pd.DataFrame) -> dict[str, float | None]:
    """The saving of the best network of ``better`` over the best of ``worse`` (rows with ``objective``
    and ``best_bound``, currency/yr) as an interval that holds whatever the gaps.

    With :math:`H` the best objective and :math:`h` the lowest bound of ``better`` (its optimum
    :math:`H^*` lies in :math:`[h, H]`), and :math:`C, c` those of ``worse``, the true saving
    :math:`C^* - H^*` lies in :math:`[c - H, C - h]`. Both ends are None without a bound.

    >>> rows = pd.DataFrame({"objective": [110.0, 90.0], "best_bound": [100.0, 85.0]})
    >>> proven_saving(rows.iloc[[1]], rows.iloc[[0]])
    {'at_least': 10.0, 'at_most': 25.0}
    """
    if better["best_bound"].isna().any() or worse["best_bound"].isna().any():
        return {"at_least": None, "at_most": None}
    return {
        "at_least": float(worse["best_bound"].min()) - float(better["objective"].min()),
        "at_most": float(worse["objective"].min()) - float(better["best_bound"].min()),
    }


def _solved(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of the variants with a network (an infeasible variant's row has no ``objective``)."""
    return rows[rows["objective"].notna()] if "objective" in rows else rows.iloc[:0]


TIE = 1e-6  # savings within ±TIE × the winner's cost (at least 1) count as proven equal costs


def winner_name(rows: pd.DataFrame, decision: dict) -> str | None:
    """:func:`decide`'s winner, except that a hybrid winner that costs no less than the central-only
    (else the micro-only) network, within ``TIE``, is named after that network: it needs nothing else."""
    winner = decision["winner"]
    if winner != "hybrid":
        return winner
    hybrid = float(rows.loc[rows["variant"] == "hybrid", "objective"].iloc[0])
    for group in ("central_only", "micro_only"):
        costs = rows.loc[rows["variant"] == group, "objective"]
        if len(costs) and float(costs.min()) <= hybrid + TIE * max(1.0, abs(hybrid)):
            return group
    return winner


def decide(rows: pd.DataFrame, networks: dict[str, frozenset] | None = None) -> dict:
    """The winner (the variant with the lowest cost found; on a tie the hybrid, which holds every other
    network) and its proven saving over each other network (:func:`proven_saving`; central_only* and
    micro_only* variants as one network each). ``decided`` when every saving is proven positive or
    proven zero (both ends within ±TIE, flagged ``tie``), or when the winner's network and the other's
    best are the same network (``networks``: each variant's open (site, type) options; flagged
    ``same_network``: there is nothing left to decide between them whatever the gaps); when an interval
    spans zero otherwise, the winner is not decided at these gaps. A network all of whose variants are
    infeasible (no ``objective``) is lost to the winner whatever the gaps (flagged ``infeasible``); one whose
    best network opens no facility is flagged ``builds_nothing`` (its cost is unmet demand only)."""
    solved = _solved(rows)
    if solved.empty:
        return {"winner": None, "decided": False, "savings": []}
    lost = [{"against": group, "at_least": None, "at_most": None, "tie": False, "same_network": False,
             "infeasible": True} for group in dict.fromkeys(rows["variant"].map(_group))
            if group not in set(solved["variant"].map(_group))]
    rows = solved
    networks = networks or {}
    best = float(rows["objective"].min())
    tolerance = TIE * max(1.0, abs(best))
    tied = list(rows.loc[rows["objective"] <= best + tolerance, "variant"])
    winner = "hybrid" if "hybrid" in tied else str(tied[0])
    groups = rows["variant"].map(_group)
    mine = rows[groups == _group(winner)]
    savings = []
    for group in dict.fromkeys(groups):
        if group != _group(winner):
            other = rows[groups == group]
            saving = proven_saving(mine, other)
            ends = [saving["at_least"], saving["at_most"]]
            tie = None not in ends and max(abs(end) for end in ends) <= tolerance
            rival = str(other.loc[other["objective"].idxmin(), "variant"]) if other["objective"].notna().any() else None
            same = rival in networks and networks.get(winner) == networks[rival]
            savings.append({"against": group, **saving, "tie": tie, "same_network": same, "infeasible": False,
                            "builds_nothing": rival in networks and not networks[rival]})
    savings += lost
    decided = bool(savings) and all(s["tie"] or s["same_network"] or s["infeasible"]
                                    or (s["at_least"] is not None and s["at_least"] > 0) for s in savings)
    return {"winner": winner, "decided": decided, "savings": savings}


def open_network(result: Plan) -> frozenset:
    """The open (site, type) options of ``result``: two variants with the same set are the same network."""
    sites = result.run.tables.sites
    return frozenset(zip(sites["site_id"].astype(str), sites["facility_type"].astype(str), strict=True))


def open_modules(result: Plan) -> dict:
    """The module count of each open (site, type) option of ``result`` (:func:`open_network`'s pairs)."""
    sites = result.run.tables.sites
    return dict(zip(zip(sites["site_id"].astype(str), sites["facility_type"].astype(str), strict=True),
                    sites["modules"].astype(int), strict=True))


SAME_COST = 1e-9  # relative: two costs closer than this are one (rounding of the same network's cost)


def value_of_decentralisation(rows: pd.DataFrame) -> dict:
    """Best central-only cost − hybrid cost, absolute (currency/yr) and % of the central-only cost;
    ``proven_interval`` = [central-only bound − hybrid cost, central-only cost − hybrid bound]
    (:func:`proven_saving`), which holds whatever the gaps; ``proven_at_least`` its lower end. Rows
    without an objective (infeasible variants) are left out; ``central_only_infeasible`` says that every
    central-only variant was, ``hybrid_infeasible`` that the hybrid was."""
    solved = _solved(rows)
    central = solved[solved["variant"].str.startswith("central_only")]
    hybrid = solved[solved["variant"] == "hybrid"]
    if central.empty or hybrid.empty:
        given_central = rows["variant"].str.startswith("central_only").any()
        infeasible = {"central_only_infeasible": not hybrid.empty and given_central,
                      "hybrid_infeasible": hybrid.empty and (rows["variant"] == "hybrid").any()}
        return {"absolute": None, "percent": None, "proven_at_least": None, "proven_interval": None,
                **{key: True for key, value in infeasible.items() if value}}
    best_central = float(central["objective"].min())
    value = best_central - float(hybrid["objective"].iloc[0])
    if abs(value) <= SAME_COST * max(abs(best_central), 1.0):  # the same network costed twice: no value, not ±noise
        value = 0.0
    interval = proven_saving(hybrid, central)
    return {
        "absolute": value,
        "percent": 100.0 * value / abs(best_central) if best_central else None,  # of |cost| (a profit may be < 0)
        "proven_at_least": interval["at_least"],
        "proven_interval": interval,
    }


def facilities_by_role(config: ModelConfig, result: Plan) -> dict[str, int]:
    """Open facilities of ``result`` by the role of their type (central, microfactory, other)."""
    roles = {name: facility.role for name, facility in config.facility_types.items()}
    counts = {CENTRAL: 0, MICRO: 0, "other": 0}
    for type_id, count in result.run.tables.facility_counts(result.run.problem.type_ids).items():
        role = roles.get(type_id, "other")
        counts[role if role in counts else "other"] += count
    return counts


def where_micro_wins(central: Plan, micro: Plan) -> pd.DataFrame:
    """Per region: cost to serve centrally, locally, and the difference (positive: micro wins)."""
    central_cost, micro_cost = central.run.tables.cost_to_serve(), micro.run.tables.cost_to_serve()
    frame = pd.DataFrame({"central_cost_to_serve": central_cost, "micro_cost_to_serve": micro_cost})
    frame["micro_advantage"] = frame["central_cost_to_serve"] - frame["micro_cost_to_serve"]
    frame.index.name = "region_id"
    return frame.reset_index()


@dataclass(frozen=True)
class Sweep:
    """A breakeven sweep: one model key over values."""

    key: str
    values: np.ndarray

    @classmethod
    def parse(cls, text: str) -> Sweep:
        """``KEY=START:STOP:N`` (N evenly spaced values from START to STOP; finite, 2 ≤ N ≤ MAX_SWEEP_VALUES)."""
        key, sep, spec = split_assignment(text)
        parts = spec.split(":")
        try:
            if not sep or len(parts) != 3:
                raise ValueError
            start, stop, count = plain_number(parts[0]), plain_number(parts[1]), plain_number(parts[2], int)
            if count < 2:
                raise ValueError
        except ValueError:
            raise InputError(
                f"--sweep '{text}': use KEY=START:STOP:N with N ≥ 2, e.g. "
                "--sweep transport.standard.cost_per_unit_km=0.5:4:8"
            ) from None
        for name, typed, value in (("START", parts[0], start), ("STOP", parts[1], stop)):
            if not np.isfinite(value):
                raise InputError(f"--sweep '{text}': {name} '{typed.strip()}' is not a finite number; give finite "
                                 "values, e.g. --sweep carbon_price=0:200:5")
        if count > MAX_SWEEP_VALUES:
            raise InputError(f"--sweep '{text}': N = {count:,} values is more than the {MAX_SWEEP_VALUES:,} a "
                             "breakeven sweep solves; give a smaller N")
        if start == stop:
            raise InputError(f"--sweep '{text}': START and STOP are both {start:g}, so every value is the same; "
                             "give two different ends")
        return cls(key=key.strip(), values=np.linspace(start, stop, count))

    def check(self, config: ModelConfig) -> None:
        """Refuse a key or a value the model file's schema refuses, before anything is solved (each
        had been refused only when its solve came, after the three variants)."""
        check_read_by_a_solve(self.key, f"--sweep '{self.key}'")
        for value in self.values:
            try:
                set_dotted(config, self.key, float(value))
            except InputError as error:  # the value is the command's, not the model file's
                raise InputError(f"--sweep {self.key}={value:g}: the model rejects it ({error}); remove or change "
                                 "that value") from None


def run_sweep(config: ModelConfig, sweep: Sweep, data: DataOptions, options: SolverOptions,
              solved: Plan | None = None) -> pd.DataFrame:
    """Solve the model at each value; facility counts by role and total cost per value. Each value's
    solve starts from the network of the value before where that network is feasible at this value
    (:func:`planner.studies.rival_start.cheapest_rival_start`), and the value before takes this value's
    network where it is cheaper there (:func:`with_cheaper_network`); only two solves are held at a time.
    ``solved``, the model's own plan (the comparison's), is a rival at every value too: under a time limit
    the sweep at the model's own value had stopped at a dearer network than the comparison's (107.49 M
    against 107.17 M for the same model)."""
    warn_od_costs_fixed([sweep.key], data.od_path, "--sweep")
    roles = {name: facility.role for name, facility in config.facility_types.items()}
    rows, before = [], None  # (value, its plan or its infeasibility) of the value before
    for value in [*sweep.values, None]:
        result = None
        if value is not None:
            start = {} if before is None or not isinstance(before[1], Plan) else \
                {f"{sweep.key}={before[0]:g}": before[1].run}
            if solved is not None:
                start["the model as it is"] = solved.run
            result = _sweep_plan(set_dotted(config, sweep.key, float(value)), data, options, start,
                                 f"{sweep.key}={value:g}")
        if before is not None and isinstance(before[1], InfeasibleError):
            rows.append(infeasible_sweep_row(sweep.key, before[0], before[1]))
        elif before is not None:
            rivals = {f"{sweep.key}={value:g}": result.run} if isinstance(result, Plan) else {}
            if solved is not None:
                rivals["the model as it is"] = solved.run
            rows.append(sweep_row(sweep.key, before[0], with_cheaper_network(before[1], rivals), roles))
        before = None if value is None else (value, result)
    table = pd.DataFrame(rows)
    if "note" in table:  # last, so that the columns of the figures keep their places
        table = table[[column for column in table.columns if column != "note"] + ["note"]]
    return with_units(table)


def _sweep_plan(config: ModelConfig, data: DataOptions, options: SolverOptions, start: dict,
                where: str) -> Plan | InfeasibleError:
    """The hybrid model at one sweep value, or its infeasibility (a row of the sweep, as ``planner sweep``
    records a failed scenario and goes on: one CO2 cap no network meets had ended the whole compare)."""
    try:
        return plan(config, data, options, start_for=lambda problem, rivals=start: cheapest_rival_start(
            problem, rivals) if rivals and problem.objective_kind == "cost" else None)
    except InfeasibleError as error:
        logger.warning("--sweep %s: %s", where, error)
        return error


def infeasible_sweep_row(key: str, value: float, error: InfeasibleError) -> dict:
    """The line of the breakeven sweep of a value at which no network meets the model."""
    return {key: float(value), "status": "infeasible", "objective": None, "mip_gap": None, "n_central": None,
            "n_microfactory": None, "note": str(error)}


def sweep_row(key: str, value: float, result: Plan, roles: dict[str, str]) -> dict:
    """One line of the breakeven sweep: the value, status, cost and facility counts by role and type."""
    counts = result.run.tables.facility_counts(result.run.problem.type_ids)
    logger.info("sweep %s=%g: %s", key, value, result.run.report.status.value)
    return {
        key: float(value),
        "status": result.run.report.status.value,
        "objective": result.run.report.objective,
        "mip_gap": result.run.report.mip_gap,
        "n_central": sum(n for t, n in counts.items() if roles[t] == CENTRAL),
        "n_microfactory": sum(n for t, n in counts.items() if roles[t] == MICRO),
        **{type_count_column(t): n for t, n in counts.items()},
    }


def with_cheaper_network(result: Plan, rivals: dict) -> Plan:
    """``result``, or, where its solve stopped short of optimal, the same with the cheapest of the
    ``rivals``' networks (name → ``planner.pipeline.Run``) that the audit finds feasible and cheaper in its
    problem: its bound and status kept, the gap recomputed. A time-limited sweep had cost more at
    demand × 1.1 than at × 1.4, whose network serves the smaller demand for less."""
    report = result.run.report
    if not rivals or report.status == Status.OPTIMAL or report.objective is None \
            or result.run.problem.objective_kind != "cost":
        return result
    found = cheapest_rival(result.run.problem, rivals)
    if found is None or found[1] >= report.objective - TIE * max(1.0, abs(report.objective)):
        return result
    solution, cost = found
    logger.info("sweep: a network found at %s costs %.6g here, less than the %.6g this solve stopped at; it is "
                "kept", ", ".join(rivals), cost, report.objective)
    cheaper = dataclasses.replace(report, objective=cost, mip_gap=relative_gap(cost, report.best_bound))
    return dataclasses.replace(result, run=audited_solution(result.run.problem, result.run.index, solution, cheaper,
                                                            Timing()))


def catch_up(plans: dict[str, Plan], configs: dict[str, ModelConfig], data: DataOptions, options: SolverOptions,
             seconds: dict[str, float]) -> None:
    """Solve the variants to a common target gap: the time the variants that reached the gap did not
    use (each had ``options.time_limit_s``; the overall budget is that × the number of variants) goes
    to those that stopped at the limit above it, the furthest behind first, each solved again from its
    own solution; the new solve replaces the old one only where it ends at a smaller gap."""
    if options.time_limit_s is None:
        return
    left = options.time_limit_s * len(seconds) - sum(seconds.values())  # every variant solved, infeasible too
    behind = sorted((name for name, result in plans.items() if _above_gap(result, options)),
                    key=lambda name: -_gap(plans[name]))
    for name in behind:
        if left < MIN_CATCH_UP_S:
            break
        logger.info("compare: %s stopped at a %.2f%% gap; solving it again with %.0f s", name,
                    100 * _gap(plans[name]), left)
        started = time.perf_counter()
        again = plan(configs[name], data, dataclasses.replace(options, time_limit_s=left),
                     start=plans[name].run.solution)
        left -= time.perf_counter() - started
        if _gap(again) < _gap(plans[name]):
            plans[name] = again


def _gap(result: Plan) -> float:
    """The plan's gap, infinite where it has none (a gap of 0.0 had been taken for none: a hybrid solved again
    to 0.0 was dropped for the one it replaced)."""
    gap = result.run.report.mip_gap
    return np.inf if gap is None else gap


def _variant_plan(name: str, config: ModelConfig, data: DataOptions, options: SolverOptions,
                  rivals: dict[str, Plan]) -> Plan | InfeasibleError:
    """The variant's plan, or the error of an infeasible variant, naming the variant (a service level the
    central-only network cannot meet is an answer of the comparison, not the end of it). The hybrid
    starts from the cheapest of the networks ``rivals`` found that is feasible for it
    (:func:`planner.studies.rival_start.cheapest_rival_start`)."""
    def start_for(problem):
        if name != "hybrid" or not rivals or problem.objective_kind != "cost":
            return None
        return cheapest_rival_start(problem, {rival: result.run for rival, result in rivals.items()})

    try:
        with study_part(f"variant {name}"):
            return plan(config, data, options, start_for=start_for)
    except InfeasibleError as error:
        return type(error)(f"compare, variant '{name}': {error}")
    except SolverError as error:  # e.g. no network found within a short time limit: which variant
        raise type(error)(f"compare, variant '{name}': {error}") from None


def infeasible_row(name: str, error: InfeasibleError) -> dict:
    """The line of compare.csv of a variant that has no feasible network: status ``infeasible`` and the
    reason in ``note``; its figures are empty."""
    return {"variant": name, "status": "infeasible", "note": str(error).removeprefix(f"compare, variant '{name}': ")}


def warn_if_hybrid_behind(plans: dict[str, Plan]) -> None:
    """A warning where a hybrid run that stopped short of optimal (time or gap limit) found a dearer network
    than a central-only or micro-only run: the hybrid model usually allows those networks too, so the
    value of decentralisation is understated by the difference (the proven intervals stay valid). Models
    passed beside them are left out: their networks are priced with their own costs."""
    hybrid = plans.get("hybrid")
    if hybrid is None or hybrid.run.report.objective is None or hybrid.run.report.status == Status.OPTIMAL:
        return
    cost = hybrid.run.report.objective
    for name in ("central_only", "micro_only"):
        rival = plans[name].run.report.objective if name in plans else None
        if rival is not None and rival < cost - TIE * max(1.0, abs(cost)):
            logger.warning("compare: the %s network (%.6g) is cheaper than the network the hybrid run stopped at "
                           "(%.6g, status %s); the hybrid's cost and the value of decentralisation are not final: "
                           "raise --time-limit or lower --mip-gap", name, rival, cost, hybrid.run.report.status.value)


def _above_gap(result: Plan, options: SolverOptions) -> bool:
    gap = result.run.report.mip_gap
    return gap is None or gap > options.mip_gap


@dataclass(frozen=True)
class Comparison:
    """What ``planner compare`` computed."""

    rows: pd.DataFrame
    value: dict[str, float | None]
    regions: pd.DataFrame | None
    sweep: pd.DataFrame | None
    sweep_key: str | None
    plans: dict[str, Plan]
    stochastic: object = None  # planner.studies.stochastic.pipeline.StochasticPlan with --scenarios
    decision: dict | None = None  # decide(rows) and the winner's open facilities by role

    @property
    def networks(self) -> dict[str, frozenset]:
        """Each solved variant's open (site, type) options (:func:`open_network`), as :func:`decide` saw them."""
        return {name: open_network(plan) for name, plan in self.plans.items()}


def compare(
    configs: dict[str, ModelConfig],
    data: DataOptions,
    options: SolverOptions,
    sweep: Sweep | None = None,
    sweep_model: str = "hybrid",
    scenarios=None,
    seed: int = 0,
) -> Comparison:
    """Solve every variant on the same data and compute the comparison; with ``scenarios`` (a count
    to generate or a scenario file) also the stochastic analysis of the hybrid model: the strategies'
    cost distributions, VSS and EVPI."""
    plans, infeasible, seconds = {}, {}, {}
    for name, config in configs.items():
        logger.info("compare: solving %s", name)
        started = time.perf_counter()
        result = _variant_plan(name, config, data, options, plans)
        seconds[name] = time.perf_counter() - started
        if isinstance(result, InfeasibleError):
            logger.warning("%s; the other variants are compared without it", result)
            infeasible[name] = result
        else:
            plans[name] = result
    if not plans:
        raise next(iter(infeasible.values()))
    catch_up(plans, configs, data, options, seconds)
    warn_if_hybrid_behind(plans)
    rows = with_units(in_column_order(pd.DataFrame([comparison_row(name, plans[name]) if name in plans
                                                    else infeasible_row(name, infeasible[name]) for name in configs]),
                                      configs))
    regions = None
    if "central_only" in plans and "micro_only" in plans:
        regions = where_micro_wins(plans["central_only"], plans["micro_only"])
    if sweep_model not in plans and (sweep or scenarios is not None):
        logger.warning("compare: %s has no feasible network; its sweep and stochastic analysis are left out",
                       sweep_model)
        sweep, scenarios = None, None
    sweep_rows = run_sweep(configs[sweep_model], sweep, data, options, plans[sweep_model]) if sweep else None
    stochastic = None
    if scenarios is not None:
        from planner.studies.stochastic.pipeline import plan_stochastic

        logger.info("compare: the stochastic analysis of %s", sweep_model)
        stochastic = plan_stochastic(configs[sweep_model], data, options, scenarios, seed)
    decision = decide(rows, {name: open_network(result) for name, result in plans.items()})
    if decision["winner"] is not None:
        winner = decision["winner"]
        decision["facilities"] = facilities_by_role(configs[winner], plans[winner])
        decision["network"] = winner_name(rows, decision)  # as sensitivity.csv names it: a tied hybrid by its network
    return Comparison(
        rows=rows,
        value=value_of_decentralisation(rows),
        regions=regions,
        sweep=sweep_rows,
        sweep_key=sweep.key if sweep else None,
        plans=plans,
        stochastic=stochastic,
        decision=decision,
    )
