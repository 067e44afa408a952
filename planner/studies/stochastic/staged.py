"""``planner solve --periods``: staged rollout, and with ``--scenarios`` "pilot, then scale".

Strategies compared on the same scenario tree (each its own solve, audited):

* **central_now**: at least one central plant opens in period 1 (commit before demand is known);
* **pilot_micro**: only microfactories may open in period 1 (test markets), expansion of any type
  decided after demand is observed;
* **optimum**: the best first period, unrestricted, started from the better of the two (so it is
  never worse than either, whatever the gaps).

Each gets expected present-value cost, CVaR and worst case over the scenarios.
"""

from __future__ import annotations

import dataclasses
import logging
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planner.errors import InfeasibleError, InputError, NoSolutionInTimeError, amount_text, truncated
from planner.inputs.config import MAX_PERIODS
from planner.inputs.scenarios import Scenarios, unsupported_with_scenarios
from planner.model import ModelIndex
from planner.pipeline import Run, Timing
from planner.solver.explain import explain_demand_cells
from planner.solver.outcome import SolverOptions, Status
from planner.studies.stochastic.rollout import (
    RolloutProblem,
    RolloutRun,
    adoption_curve,
    demand_trajectories,
    period_weights,
    rollout_problem,
    solve_rollout,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StagedPlan:
    """Like :class:`planner.pipeline.Plan`; ``run`` is one period's network (see ``view``)."""

    inputs: object
    screening: object
    rp: RolloutProblem
    strategies: dict[str, RolloutRun | None]
    run: Run
    view: str
    timing: Timing
    # why a strategy has no plan: (status, text): ("infeasible", its InfeasibleError), or ("time_limit", ...) where
    # HiGHS found none within the time limit
    reasons: dict[str, tuple[str, str]] = field(default_factory=dict)

    def block(self) -> dict:
        """The ``rollout`` block of summary.json."""
        best = self.strategies["optimum"]
        report = best.report
        return {
            "periods": self.rp.n_periods,
            "period_weight_years": self.rp.period_weight.tolist(),
            "scenarios": self.rp.n_scenarios,
            "status": report.status.value,
            "objective": best.objective,
            "best_bound": report.best_bound,
            "mip_gap": report.mip_gap,
            "expected_cost": best.expected_cost,
            "cvar": best.cvar,
            "cvar_alpha": self.rp.cvar_alpha,
            "cvar_weight": self.rp.cvar_weight,
            "worst_case": float(best.scenario_costs.max()),
            "units": {"objective": "currency: expected present value over the periods + cvar_weight × CVaR",
                      "best_bound": "currency: expected present value over the periods + cvar_weight × CVaR",
                      "expected_cost": "currency (expected present value over the periods)",
                      **dict.fromkeys(("cvar", "worst_case"), "currency (present value over the periods)"),
                      "period_weight_years": "years", "timing": "s"},
            "strategies": {
                name: _strategy_block(run, self.rp, *self.reasons.get(name, ("infeasible", None)))
                for name, run in self.strategies.items()
            },
            "timing": {name: round(seconds, 4) for name, seconds in self.timing.seconds.items()},
        }

    def period_table(self) -> pd.DataFrame:
        frames = []
        for name, run in self.strategies.items():
            if run is not None:
                frames.append(run.period_table().assign(strategy=name))
        frame = pd.concat(frames, ignore_index=True)
        return frame[["strategy", *[c for c in frame.columns if c != "strategy"]]]


def _strategy_block(run: RolloutRun | None, rp: RolloutProblem, status: str = "infeasible",
                    reason: str | None = None) -> dict:
    if run is None:  # no plan: ``status`` says why (infeasible, or none found in time), ``reason`` how
        return {"status": status, "reason": reason, "expected_cost": None, "cvar": None, "worst_case": None}
    first = run.tables[(0, 0)].sites["facility_type"].value_counts()
    return {
        "status": run.report.status.value,
        "mip_gap": run.report.mip_gap,
        "expected_cost": run.expected_cost,
        "cvar": run.cvar,
        "worst_case": float(run.scenario_costs.max()),
        "period1_facilities": {t: int(first.get(t, 0)) for t in rp.problem.type_ids},
    }


def compare_strategies(rp: RolloutProblem, options: SolverOptions, timing: Timing,
                       reasons: dict[str, tuple[str, str]] | None = None) -> dict[str, RolloutRun | None]:
    """central_now (if there are central types), pilot_micro (if there are microfactory types) and
    the optimum; a strategy that cannot be feasible, or of which HiGHS found no plan within the time limit, is
    None, and why is put in ``reasons`` (status, text): the optimum is solved all the same (a central_now without
    a plan in its time had ended the whole study with an error)."""
    role = np.asarray(rp.type_role, dtype=object)[rp.problem.option_type]
    reasons = reasons if reasons is not None else {}
    results: dict[str, RolloutRun | None] = {}
    first_steps = {"central_now": dict(require_open_first=role == "central"),
                   "pilot_micro": dict(allowed_first=role == "microfactory")}
    for name, kind in (("central_now", "central"), ("pilot_micro", "microfactory")):
        if not (role == kind).any():
            continue
        with timing.phase(name):
            try:
                if name == "central_now":
                    _check_commitment_capex(rp.problem, role == kind)
                results[name] = solve_rollout(rp, options, **first_steps[name])
            except InfeasibleError as error:
                results[name], reasons[name] = None, ("infeasible", str(error))
            except NoSolutionInTimeError as error:
                results[name], reasons[name] = None, (Status.TIME_LIMIT.value, str(error))
    feasible = [run for run in results.values() if run is not None]
    start = min(feasible, key=lambda run: run.objective) if feasible else None
    with timing.phase("optimum"):  # started from the better strategy, so never worse than either
        results["optimum"] = solve_rollout(rp, options, start=start)
    return results


def _check_commitment_capex(problem, required: np.ndarray) -> None:
    """Raise InfeasibleError where even the cheapest of the ``required`` options (at its fewest modules),
    beside what every network spends, is above the capex budget: said so, not "HiGHS proved the network
    infeasible"."""
    from planner.inputs.screen import least_capex

    counted = [k for k in np.unique(problem.option_type[required]) if problem.type_min_count[k] > 0]
    if not np.isfinite(problem.capex_budget) or counted:  # every network has one already (min_count): priced there
        return
    spend = problem.capex + problem.capex_per_module * problem.min_modules
    cheapest = float(spend[required].min())
    every = least_capex(problem)
    if not (required & problem.forced).any() and every + cheapest > problem.capex_budget:
        beside = f" beside the {amount_text(every)} every network spends" if every > 0 else ""
        raise InfeasibleError(f"the cheapest central plant needs capex {amount_text(cheapest)}{beside}, beyond the "
                              f"capex budget of {amount_text(problem.capex_budget)}")


def check_adopted_demand(demand: np.ndarray, where: str) -> None:
    """Refuse (N, T, R, P) ``demand`` above ``MAX_DEMAND`` in any cell, naming the adoption that made it
    (the message had named the model's name and a demand_rate, not the key that grew the demand)."""
    from planner.inputs.screen import MAX_DEMAND

    largest = float(demand.max(initial=0.0))
    if largest > MAX_DEMAND:
        _, period, _, _ = np.unravel_index(int(demand.argmax()), demand.shape)
        raise InputError(f"{where}: the adoption of period {period + 1} makes a region's demand {largest:.3g} "
                         f"units/yr, above {MAX_DEMAND:.0e}: too large for the solver; lower the adoption there "
                         "or use a larger unit")


def pilot_mask(region_ids, pilot_regions) -> np.ndarray:
    """(R,) bool of the pilot regions; unknown ids are an input error, quoted. Ids are compared stripped and in
    Unicode NFC, as every id reader writes them (an accent typed decomposed, 'São' as S-a-◌̃-o, had been no
    region id, and so had ' 42 ', the id '42' of a file that wrote it with spaces)."""
    ids = [unicodedata.normalize("NFC", str(r).strip()) for r in region_ids]
    pilots = [unicodedata.normalize("NFC", str(r).strip()) for r in pilot_regions]
    unknown = sorted(set(pilots) - set(ids))
    if unknown:
        raise InputError(
            f"rollout.pilot_regions: {truncated([repr(r) for r in unknown])} are not region ids of the data "
            "(after --select); "
            f"use ids from the regions' id column{_zeros_hint(unknown, ids)}"
        )
    return np.isin(ids, pilots)


def _zeros_hint(unknown: list[str], ids: list[str]) -> str:
    """' (... '01001' for 1001 ...)' where pilot ids are codes of the data without their leading zeros: a TOML
    number has none (pilot_regions = [1001] for the county '01001'; 01001 is no TOML number at all)."""
    padded = {i.lstrip("0"): i for i in ids if i.isdecimal()}
    meant = {u: padded[u.lstrip("0")] for u in unknown if u.isdecimal() and len(padded.get(u.lstrip("0"), u)) > len(u)}
    if not meant:
        return ""
    pairs = truncated([f"'{code}' for {u}" for u, code in meant.items()], 3)
    example = next(iter(meant.values()))
    return f" ({pairs}? write codes with leading zeros as quoted text, pilot_regions = [\"{example}\"])"


def view_run(run: RolloutRun, s: int, t: int, timing: Timing) -> Run:
    """The network and flows of one cell as a deterministic :class:`Run` (audited again alone)."""
    from planner.audit import audit

    problem = run.rp.cell_problem(s, t)
    tables = run.tables[(s, t)]
    index = ModelIndex.from_problem(dataclasses.replace(problem, demand=run.rp.problem.demand))
    index = dataclasses.replace(index, pair_demand=run.rp.demand[s, t][index.pair_region, index.pair_product])
    report = audit(problem, tables, None)
    cell_cost = report.objective_recomputed
    solve_report = dataclasses.replace(
        run.report, objective=cell_cost, best_bound=None, mip_gap=None,
        termination=f"{run.report.termination}; period {t + 1} of scenario {run.rp.scenario_ids[s]}",
    )
    report = audit(problem, tables, cell_cost)
    return Run(problem, index, run.solutions[(s, t)], tables, solve_report, report, timing)


def check_periods(periods: int) -> None:
    """1 ≤ ``periods`` ≤ MAX_PERIODS (``--periods``; the model key has the same limit)."""
    if not 1 <= periods <= MAX_PERIODS:
        raise InputError(f"--periods {periods}: give from 1 to {MAX_PERIODS:,} periods (each copies the model)")


def check_rollout(rollout, region_ids, periods: int | None, source: str = "the model file") -> np.ndarray:
    """The pilot regions (a mask over ``region_ids``; each must be one) and at least one period after
    the pilot periods (else the other regions never have demand; not checked where ``periods`` is
    None: ``--periods`` will give them); one line otherwise."""
    if periods is not None and rollout.pilot_periods >= periods and rollout.pilot_regions:
        raise InputError(f"{source}: rollout.pilot_periods = {rollout.pilot_periods} covers all {periods} periods, "
                         "so the regions outside rollout.pilot_regions never have demand; give fewer pilot periods "
                         "than periods (rollout.periods or --periods)")
    try:
        return pilot_mask(region_ids, rollout.pilot_regions)
    except InputError as error:
        raise InputError(f"{source}: {error}") from None


ROLLOUT_ARC_COPY_BYTES = 6_500  # memory per delivery arc per period and scenario of the rollout (measured:
# 5 × 10 and 10 × 20 copies of 618 arcs, 0.66 and 1.24 GB: 6.2 kB per arc and copy)


def _screen_cells(problem, demand: np.ndarray, scenario_ids) -> object:
    """The screening of the (scenario, period) cell of ``demand`` (S, T, R, P) asking for most; where it
    fails, the cell is named (as the solve's own infeasibility names it), unless the model fails without
    any demand (counts, forced sites: no cell is the cause)."""
    from planner.inputs.screen import hardest_cell_view, screen_problem

    cells = demand.reshape(-1, *demand.shape[2:])
    view, hardest = hardest_cell_view(problem, cells)
    try:
        return screen_problem(view, cells)
    except InfeasibleError as error:
        if np.isfinite(problem.unmet_penalty).all():  # not the demand that must be served: no cell to blame
            raise
        screen_problem(dataclasses.replace(problem, demand=np.zeros_like(problem.demand)))  # raises: not the cells
        s, t = divmod(hardest, demand.shape[1])
        where = f"period {t + 1}" if len(scenario_ids) == 1 else f"scenario {scenario_ids[s]}, period {t + 1}"
        raise InfeasibleError(f"{where} (the cell with the most demand that must be served): {error}") from None


def plan_staged(config, data_options, options: SolverOptions, periods: int | None, spec=None, seed: int = 0):
    """load → scenarios (optional) → trajectories → prepare → the strategies → the view."""
    from planner.inputs.prepare import check_copies_memory, load_inputs, prepare_problem
    from planner.studies.stochastic.pipeline import load_scenarios

    unsupported_with_scenarios(config, "staged models", data_options, periods=True)

    rollout = config.rollout
    periods = periods or rollout.periods
    check_periods(periods)
    timing = Timing()
    with timing.phase("load"):
        inputs = load_inputs(config, data_options)
        scenarios = Scenarios.single(inputs.demand, "base") if spec is None else load_scenarios(
            spec, config, inputs, seed
        )
    with timing.phase("prepare"):
        adoption = adoption_curve(periods, rollout.adoption, f"{config.source_path or config.name}: key "
                                  "'rollout.adoption'")
        pilot = check_rollout(rollout, inputs.regions["region_id"].to_numpy(dtype=object), periods,
                              str(config.source_path or config.name))
        demand = demand_trajectories(scenarios.demand, adoption, pilot, rollout.pilot_periods)
        check_adopted_demand(demand, f"{config.source_path or config.name}: key 'rollout.adoption'")
        widest = dataclasses.replace(inputs, demand=demand.max(axis=(0, 1)))
        problem = prepare_problem(config, widest)
        check_copies_memory(problem.n_arcs, periods * scenarios.n, ROLLOUT_ARC_COPY_BYTES,
                            f"--periods {periods} × {scenarios.n} scenarios",
                            "fewer periods (rollout.periods or --periods), fewer scenarios or fewer arcs (a "
                            "delivery radius, fewer candidate sites or regions) make it fit")
        screening = _screen_cells(problem, demand, scenarios.ids)
        rp = rollout_problem(
            problem, demand, scenarios.probability,
            period_weights(periods, rollout.period_years, rollout.discount_rate),
            scenarios.ids, [config.facility_types[t].role for t in problem.type_ids],
            cvar_alpha=config.uncertainty.cvar_alpha, cvar_weight=config.uncertainty.cvar_weight,
        )
    reasons: dict[str, tuple[str, str]] = {}
    try:
        strategies = compare_strategies(rp, options, timing, reasons)
    except InfeasibleError as error:  # explained or not: name the cell that cannot be met
        cells = [(f"scenario {name}, period {t + 1}", rp.demand[s, t]) for s, name in enumerate(rp.scenario_ids)
                 for t in range(rp.n_periods)]
        raise explain_demand_cells(rp.problem, cells, options, error) from None
    best = strategies["optimum"]
    if rp.n_scenarios == 1:
        cell, view = (0, rp.n_periods - 1), f"the network of the last period ({rp.n_periods}) of the rollout"
    else:
        cell, view = (0, 0), "the period-1 network (decided before the scenario is known) and its flows in scenario " \
            f"{rp.scenario_ids[0]}"
    run = view_run(best, *cell, timing)
    return StagedPlan(inputs, screening, rp, strategies, run, view, timing, reasons)

