"""What the commands print: the result lines of a solve, a study's strategies, a rollout, a comparison
and the alternatives, in the model's units and currency."""

from __future__ import annotations

import math
from pathlib import Path

import click


def print_stochastic(summary: dict, network_follows: bool = True) -> None:
    from planner.solver.outcome import gap_text

    block = summary["stochastic"]
    currency = summary["currency"]
    click.echo(f"scenarios   {block['scenarios']}: stochastic optimum {block['status']} "
               f"(gap {gap_text(block['mip_gap'], 3)}), expected {amount(block['expected_cost'])} {currency}/yr, "
               f"CVaR {block['cvar_alpha']} {amount(block['cvar'])}, worst {amount(block['worst_case'])}")
    if block["eev"] is None:  # the mean-value network is infeasible in some scenario
        click.echo(f"value       VSS unbounded (the mean-value network is infeasible in some scenario: a service "
                   "level it misses or too little capacity for demand that must be served), "
                   f"EVPI {amount(block['evpi'])} (WS {amount(block['ws'])}) {currency}/yr")
    else:
        terms = (f" (objective terms: expected + {block['cvar_weight']:g} × CVaR, as EEV and WS)"
                 if block.get("cvar_weight") else "")
        evpi = f"EVPI {amount(block['evpi'])} (WS {amount(block['ws'])})"
        click.echo(f"value       VSS {amount(block['vss'])} (EEV {amount(block['eev'])}), {evpi} "
                   f"{currency}/yr{terms}{_value_gaps(block)}")
    for name, strategy in block["strategies"].items():
        _print_strategy(name, strategy, unit=f" {currency}/yr")
    if network_follows:
        click.echo("network     below: the stochastic optimum's first stage serving the expected demand (the "
                   "network fixed and its cost evaluated)")


def _value_gaps(block: dict) -> str:
    """Where the stochastic optimum (RP) or a wait-and-see solve (WS) was not proven optimal, VSS and
    EVPI are differences of unproven values: say so, with the gaps."""
    from planner.solver.outcome import OPTIMAL_GAP, gap_text

    rp_gap, ws_gap = block.get("mip_gap"), block.get("ws_mip_gap_max")
    proven = block.get("status") == "optimal" and (ws_gap is None or ws_gap <= OPTIMAL_GAP)
    if proven:
        return ""
    return (f"; not proven: RP {block.get('status')} gap {gap_text(rp_gap, 3)}, largest WS gap "
            f"{gap_text(ws_gap, 3)} (VSS and EVPI are estimates)")


def stopped_text(rows) -> str:
    """'; 2 stopped at their time limit (not proven, gap up to 3.1%: status in sweep.csv)' for a sweep's
    scenarios stopped short of their gap (they had been counted as solved alone); '' where none was."""
    import pandas as pd

    from planner.solver.outcome import Status, gap_text

    stopped = rows[rows["status"].isin((Status.TIME_LIMIT.value, Status.OTHER_LIMIT.value))]
    if not len(stopped):
        return ""
    gap = gap_text(pd.to_numeric(stopped["mip_gap"], errors="coerce").max(), 2)
    limit = "the time limit" if (stopped["status"] == Status.TIME_LIMIT.value).all() else "a limit"  # also "limit"
    return f"; {len(stopped)} stopped at {limit} (not proven, gap up to {gap}: status in sweep.csv)"


def _print_strategy(name: str, strategy: dict, suffix: str = "", unit: str = "") -> None:
    """One strategy's line; ``unit`` follows the three figures (' USD/yr'; ' USD', a present value, with periods)."""
    if strategy["expected_cost"] is None:
        reason = f" ({strategy['reason']})" if strategy.get("reason") else ""
        click.echo(f"strategy    {name}: {strategy['status']}{reason}")
        return
    click.echo(f"strategy    {name}{_unproven(strategy)}: expected {amount(strategy['expected_cost'])}, "
               f"CVaR {amount(strategy['cvar'])}, worst {amount(strategy['worst_case'])}{unit}{suffix}")


def _unproven(strategy: dict) -> str:
    """' (time_limit, gap 17.18%)' for a strategy whose plan was not proven optimal (its figures had been
    printed as the proven ones', the status and gap only in summary.json); '' for an optimal one."""
    from planner.solver.outcome import gap_text

    status = strategy.get("status")
    return "" if status in (None, "optimal") else f" ({status}, gap {gap_text(strategy.get('mip_gap'), 2)})"


def print_rollout(summary: dict) -> None:
    from planner.solver.outcome import gap_text

    block = summary["rollout"]
    value = f"present value {amount(block['expected_cost'])} {summary['currency']}"
    if block.get("cvar_weight"):
        value = (f"expected {value}, objective {amount(block['objective'])} (+ {block['cvar_weight']:g} × CVaR "
                 f"{block['cvar_alpha']:g} {amount(block['cvar'])})")
    click.echo(f"rollout     {block['periods']} periods, {block['scenarios']} scenario(s): {block['status']} "
               f"(gap {gap_text(block['mip_gap'], 3)}), {value}")
    for name, strategy in block["strategies"].items():
        first = ", ".join(f"{t} {n}" for t, n in (strategy.get("period1_facilities") or {}).items() if n) or "none"
        _print_strategy(name, strategy, f" (period 1: {first})", unit=f" {summary['currency']}")
    click.echo(f"network     below: {summary.get('view')}")


def amount(value: float) -> str:
    """A money or quantity figure as the summary prints them (``planner.results.amount_text``): whole units with
    separators from 100, four significant digits below (a VSS of 0.0038 kEUR had read 0)."""
    from planner.results import amount_text

    return amount_text(value)


def _kind_value_text(value: float) -> str:
    """A classic kind's measure: whole and large values with thousands separators, others to 6 digits."""
    return f"{value:,.0f}" if abs(value) >= 1e4 or float(value).is_integer() else f"{value:,.6g}"


def _kind_limits(kind: dict) -> str:
    """"p = 5, coverage 150 km, 120 min": the p and coverage limits of a classic objective kind."""
    limits = [f"p = {kind['p']}"] if kind["p"] else []
    coverage = [f"{kind[key]:g} {unit}" for key, unit in (("coverage_km", "km"), ("coverage_minutes", "min"))
                if kind.get(key) is not None]
    return ", ".join(limits + ([f"coverage {', '.join(coverage)}"] if coverage else []))


def costs_text(costs: dict) -> str:
    """"fixed 1,000, revenue -2,500": the cost parts in whole units where the largest is 100 or more, else
    all to four significant digits (a model in millions written in units had printed every part, and its
    objective, as 0); a part below one unit to four significant digits too (a transport cost of 0.1439 KRW
    beside millions had read 0), and one within rounding of the largest (1e-9 of it: '-1e-13') as 0, never "-0"."""
    from planner.results import amount_text

    largest = max((abs(value) for value in costs.values()), default=0.0)
    noise = 1e-9 * largest
    parts = []
    for name, value in costs.items():
        value = 0.0 if abs(value) <= noise else value
        parts.append(f"{name} {amount_text(value, whole=largest >= 100 and abs(value) >= 1)}")
    return ", ".join(parts)


def _bound_text(summary: dict) -> str:
    """The objective line's bound, as summary.json has it: the solve's; with ``--scenarios`` that of the network
    fixed and evaluated (``evaluation_best_bound``: the top-level one is empty where the study is the less
    proven, and "best bound n/a" had been printed beside an exact evaluation) and the study's own; with
    ``--periods`` none of the network's own (a period of the study's plan, not solved alone), said so, and the
    study's."""
    from planner.results import amount_text

    def text(value) -> str:
        return "n/a" if value is None else amount_text(value)

    if "evaluation_status" not in summary:
        return f"best bound {text(summary['best_bound'])}"
    study = summary.get("stochastic") or summary.get("rollout") or {}
    currency = summary.get("currency", "")
    unit = f"{currency}, a present value" if "rollout" in summary else f"{currency}/yr"
    study_bound = f"the study's best bound {text(study.get('best_bound'))} {unit}"
    if summary["evaluation_status"] is None:
        return f"no bound of its own: a period of the study's plan, not solved alone; {study_bound}"
    return f"best bound {text(summary.get('evaluation_best_bound'))}, the network fixed and evaluated; {study_bound}"


def print_summary(summary: dict, out_dir: Path) -> None:
    from planner.export.summary import empty_network_note
    from planner.model.arrays import share_text
    from planner.results import amount_text, service_text
    from planner.solver.outcome import gap_text

    currency = summary["currency"]
    if "evaluation_status" in summary:
        study = summary.get("stochastic") or summary.get("rollout") or {}
        below = ("part of the study's solution, not solved again alone" if summary["evaluation_status"] is None
                 else f"fixed and evaluated: {summary['evaluation_status']}, gap "
                 f"{gap_text(summary['evaluation_mip_gap'], 3)}")
        click.echo(f"status      {summary['status']} (the study above: {study.get('status')}, gap "
                   f"{gap_text(study.get('mip_gap'), 3)}; the network below, {below})")
    else:
        click.echo(f"status      {summary['status']} (gap {gap_text(summary['mip_gap'], 3)}, "
                   f"tolerance {100 * summary['mip_gap_tolerance']:.3g}%)")
    kind = summary.get("objective_kind")
    if kind:
        unit = "" if kind["unit"] in kind["measure"] else f" {kind['unit']}"  # "facilities opened 4"
        value = _kind_value_text(kind["value"])
        click.echo(f"kind        {kind['kind']} ({_kind_limits(kind)}): {kind['measure']} {value}"
                   f"{unit}{'' if kind['proven_optimal'] else ' (not proven optimal)'}")
    unit = kind["objective_counts"] if kind else f"{currency}/yr"
    click.echo(f"objective   {amount_text(summary['objective'])} {unit} ({_bound_text(summary)})")
    costs_unit = (summary.get("units") or {}).get("costs", "currency/yr").replace("currency", currency)
    click.echo(f"costs       {costs_text(summary['costs'])} ({costs_unit})")
    click.echo(f"co2         {amount_text(summary['co2_t'])} t/yr")
    click.echo("facilities  " + ", ".join(f"{name} {count}" for name, count in summary["facilities"].items()))
    if note := empty_network_note(summary):
        click.echo(f"note        {note}")
    for product, figures in summary["demand"].items():
        served = f"served {share_text(figures['served'] / figures['demand'])}" if figures["demand"] else "no demand"
        click.echo(f"demand      {product}: {amount_text(figures['demand'])} units/yr, {served}")
    for level in (summary.get("service") or {}).get("levels", []):
        click.echo(f"service     {service_text(level)}")
    timing = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in summary["timing"].items())
    click.echo(f"timing      {timing}")
    audit = summary["audit"]
    click.echo(
        f"audit       {'passed' if audit['passed'] else 'FAILED'} (max violation {audit['max_violation']:.2g}, "
        f"objective difference {audit['objective_relative_difference']:.2g})"
    )
    click.echo(f"written     {out_dir}")


def _served_text(share: float) -> str:
    """The share served as a percentage, or 'n/a (no demand)' where there is no demand to share."""
    from planner.model.arrays import share_text

    return share_text(share) if math.isfinite(share) else "n/a (no demand)"


def print_comparison(comparison, currency: str) -> None:
    from planner.export.compare_report import decision_sentence
    from planner.export.summary import clean_for_json
    from planner.solver.outcome import gap_text

    click.echo(f"decision    {decision_sentence(comparison.decision, currency)}")

    for row in comparison.rows.itertuples(index=False):
        if row.variant not in comparison.plans:
            click.echo(f"{row.variant:14} {row.status:10} {row.note}")
            continue
        click.echo(f"{row.variant:14} {row.status:10} cost {amount(row.objective)} {currency}/yr (gap "
                   f"{gap_text(row.mip_gap)}), co2 {amount(row.co2_t)} t/yr, "
                   f"served {_served_text(row.share_served_within_radius)}")
    value = comparison.value
    if value["absolute"] is not None:
        percent = "" if value["percent"] is None else f" ({round(value['percent'], 2) + 0.0:.2f}%)"
        click.echo(f"value of decentralisation: {amount(value['absolute'])} {currency}/yr{percent}")
        if value["proven_at_least"] is not None:  # amount_text: no "-0", and 0.0105 kEUR is no 0
            click.echo(f"  proven at least {amount(value['proven_at_least'])} {currency}/yr (central-only bound − "
                       "hybrid cost)")
    if comparison.stochastic is not None:
        print_stochastic({"stochastic": clean_for_json(comparison.stochastic.analysis.summary()),
                           "currency": currency}, network_follows=False)


def alternative_line(row, names: dict[str, str] | None = None, unit: str = "") -> str:
    """One network of ``planner alternatives``: cost (``unit`` after it, ' EUR/yr'), distance, the real status
    and gap of its solves, changes (sites named by ``names``, site id → name, where given)."""
    from planner.solver.outcome import gap_text
    from planner.studies.mga import site_list_text

    first = "optimum" if row.status == "optimal" else "first network"  # as alternatives.png names it
    name = first if row.alternative == 0 else f"alternative {row.alternative}"
    solves = f"{row.status}, gap {gap_text(row.mip_gap)}"
    if row.alternative:
        solves = f"diversity {row.diversity_status}, gap {gap_text(row.diversity_gap)}; cost {solves}"
    changes = (f"opened [{site_list_text(row.sites_opened, names)}] closed [{site_list_text(row.sites_closed, names)}] "
               f"retyped [{site_list_text(row.sites_retyped, names)}]")
    differ = int(row.distance_to_optimum)
    return (f"{name:14} cost {amount(row.audited_cost)}{unit} ({row.above_optimum_pct:+.2f}%), {differ} "
            f"option{'s differ' if differ != 1 else ' differs'} ({solves})" + ("" if row.alternative == 0 else
                                                                               f": {changes}"))


def cheaper_than_the_first(table) -> str | None:
    """A note where an alternative costs less than network 0 whose solve stopped short of optimal (at its
    time limit or its MIP gap): the slack is measured from a network that is not the optimum. Nothing where
    network 0 is optimal (a cheaper one is then within its tolerance) or the costs differ by rounding."""
    from planner.solver.outcome import gap_text
    from planner.studies.compare import SAME_COST

    first = table.iloc[0]
    if first["status"] == "optimal":
        return None
    below = first["audited_cost"] - SAME_COST * max(abs(first["audited_cost"]), 1.0)
    cheaper = table[(table["alternative"] > 0) & (table["audited_cost"] < below)]
    if cheaper.empty:
        return None
    numbers = ", ".join(str(n) for n in cheaper["alternative"])
    numbers, verb = (f"alternative {numbers}", "costs") if len(cheaper) == 1 else (f"alternatives {numbers}", "cost")
    fix = "lower --mip-gap" if first["status"] == "gap_limit" else "give more --time-limit"
    return (f"note        {numbers} {verb} less than the 'optimum', whose solve stopped at "
            f"{first['status']} (gap {gap_text(first['mip_gap'])}): the slack is measured from that network; "
            f"{fix} for the optimum itself")
