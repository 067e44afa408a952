"""What the stochastic and staged-rollout studies add to a solve folder: their summary block, their
tables and charts, and their section of ``report.html`` (an :class:`ExtraOutput` each)."""

from __future__ import annotations

from planner.export.folder import ExtraOutput
from planner.export.rollout_report import rollout_section, small_multiples_png, timeline_png
from planner.export.stochastic_report import stochastic_section
from planner.export.summary import clean_for_json
from planner.studies.stochastic.staged import view_run


def study_output(plan) -> ExtraOutput:
    """The extra output of a ``StochasticPlan`` or a ``StagedPlan``."""
    return rollout_output(plan) if hasattr(plan, "strategies") else stochastic_output(plan)


def stochastic_output(plan) -> ExtraOutput:
    """scenarios.csv, scenario_sites.csv, scenario_flows.csv, the ``stochastic`` block and the uncertainty
    section of report.html."""
    block, table = plan.analysis.summary(), plan.analysis.scenario_table()
    sites, flows = plan.analysis.rp.scenario_network()
    return ExtraOutput(
        key="stochastic",
        block=block,
        files={"scenarios.csv": table.assign(currency=plan.run.problem.currency),  # of every cost column
               "scenario_sites.csv": sites, "scenario_flows.csv": flows},
        section=stochastic_section(clean_for_json(block), table, plan.run.problem.currency),
        view="the stochastic optimum's first-stage network serving the expected demand",
    )


def rollout_output(plan) -> ExtraOutput:
    """periods.csv, timeline.png, periods_map.png, the ``rollout`` block and the timeline section."""
    block, table = clean_for_json(plan.block()), plan.period_table()
    types = plan.rp.problem.type_ids
    best = plan.strategies["optimum"]
    periods = range(plan.rp.n_periods)
    scenario_note = f", scenario {plan.rp.scenario_ids[0]}" if plan.rp.n_scenarios > 1 else ""
    maps = small_multiples_png(
        [view_run(best, 0, t, plan.timing) for t in periods],
        plan.inputs,
        types,
        [f"period {t + 1}{scenario_note}" for t in periods],
    )
    return ExtraOutput(
        key="rollout",
        block=block,
        files={"periods.csv": table.assign(currency=plan.rp.problem.currency),  # of every cost column
               "timeline.png": timeline_png(table, types), "periods_map.png": maps},
        section=rollout_section(block, table, types, plan.rp.problem.currency, maps_png=maps),
        view=plan.view,
        evaluated=False,  # the view is one period of the optimum's plan, not solved again alone
    )
