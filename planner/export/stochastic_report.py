"""The uncertainty section of ``report.html`` (``planner solve --scenarios``): the cost distribution
of each strategy over the scenarios as a chart, expected cost, CVaR and worst case per strategy,
and the value of the stochastic solution (VSS) and of perfect information (EVPI) with the gaps.

Reads the ``stochastic`` block of summary.json and the ``scenarios.csv`` table only.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from planner.export.charts import finite, img_tag, new_figure, plain_text, readable_axis
from planner.export.report import esc, gap_pct, html_table, num, pct, status_with_gap

logger = logging.getLogger(__name__)

STRATEGY_LABELS = {
    "central_only": "central only (mean-value plan)",
    "micro_only": "micro only (mean-value plan)",
    "hybrid": "hybrid (mean-value plan)",
    "stochastic": "stochastic optimum",
}
STRATEGY_COLOURS = {"central_only": "#1f77b4", "micro_only": "#ff7f0e", "hybrid": "#7f7f7f", "stochastic": "#2ca02c"}


def strategy_costs(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per-scenario total cost of each strategy from scenarios.csv."""
    costs = {name: table[f"total_{name}"].to_numpy(dtype=float) for name in STRATEGY_LABELS
             if f"total_{name}" in table}
    costs["stochastic"] = table["total"].to_numpy(dtype=float)
    return costs


@plain_text
def cost_distribution_chart(table: pd.DataFrame, block: dict, currency: str) -> str:
    """One row per strategy: every scenario's cost as a dot (size ∝ probability), the expected cost
    as a bar, CVaR as a diamond. Scenarios with a missing or non-finite cost are left out."""
    costs = strategy_costs(table)
    probability = np.nan_to_num(table["probability"].to_numpy(dtype=float), nan=0.0, posinf=1.0, neginf=0.0)
    names = [name for name in STRATEGY_LABELS if name in costs and np.isfinite(costs[name]).any()]
    fig, ax = new_figure(8.0, 0.8 + 0.7 * len(names))
    for row, name in enumerate(names):
        values = costs[name]
        shown = np.isfinite(values)
        jitter = (np.random.default_rng(row).random(len(values)) - 0.5) * 0.3
        ax.scatter(values[shown], row + jitter[shown], s=20 + 400 * np.clip(probability[shown], 0.0, 1.0),
                   alpha=0.45, color=STRATEGY_COLOURS[name], edgecolors="none")
        strategy = block["strategies"].get(name, {})
        for expected in finite([strategy.get("expected_cost")]):
            ax.plot([expected] * 2, [row - 0.3, row + 0.3], color="black", lw=2)
        for cvar in finite([strategy.get("cvar")]):
            ax.scatter([cvar], [row], marker="D", color="#d62728", s=40, zorder=3)
    ax.set_yticks(range(len(names)), [STRATEGY_LABELS[n] for n in names])
    ax.invert_yaxis()
    readable_axis(ax, "x", f"{currency}/yr", "annual cost in a scenario; bar = expected, red diamond = CVaR")
    ax.grid(axis="x", alpha=0.3)
    return img_tag(fig)


def _strong(text: str) -> str:
    return f"<strong>{text}</strong>"


def stochastic_section(block: dict, table: pd.DataFrame, currency: str) -> str:
    """The HTML section."""
    alpha = block.get("cvar_alpha")
    rows = []
    for name, strategy in block["strategies"].items():
        facilities = ", ".join(f"{esc(t)} {n}" for t, n in (strategy.get("facilities") or {}).items() if n)
        rows.append([
            esc(STRATEGY_LABELS.get(name, name)),
            status_with_gap(strategy),
            num(strategy.get("expected_cost")),
            num(strategy.get("cvar")),
            num(strategy.get("worst_case")),
            facilities or "none",
        ])
    strategies = html_table(
        ["strategy", "status", f"expected cost ({currency}/yr)", f"CVaR {alpha} ({currency}/yr)",
         f"worst case ({currency}/yr)", "facilities"],
        rows,
        text=(0, 1, 5),
    )

    def money(value) -> str:  # every cost of the block is per year in the model's currency
        return num(value, 0, f"{currency}/yr")

    values = [
        ["scenarios", num(block.get("scenarios"))],
        ["stochastic optimum (RP): expected cost + λ·CVaR", money(block.get("objective"))],
        ["its status, gap", f"{esc(block.get('status'))}, {gap_pct(block.get('mip_gap'), 2)}"],
        ["mean-value plan evaluated over the scenarios (EEV)", money(block.get("eev"))],
        ["wait and see, perfect information (WS)", money(block.get("ws"))],
        ["<strong>value of the stochastic solution</strong> VSS = EEV − RP", _strong(money(block.get("vss")))],
        ["<strong>value of perfect information</strong> EVPI = RP − WS", _strong(money(block.get("evpi")))],
        ["largest gap of the mean-value and wait-and-see solves",
         f"{gap_pct(block.get('ev_mip_gap'), 2)}, {gap_pct(block.get('ws_mip_gap_max'), 2)}"],
        ["recourse modules (microfactories), premium",
         f"{'yes' if block.get('recourse_modules') else 'no'}, {pct(block.get('recourse_premium'), 0)}"],
        ["risk weight λ, CVaR level α", f"{block.get('cvar_weight')}, {alpha}"],
    ]
    note = (
        "<p>Each strategy's network is fixed before demand is known and then operated in every scenario "
        "(flows, unmet demand and, for microfactories, modules added at a premium). The mean-value plans "
        "are the deterministic optimum for the expected demand with only the central or only the "
        "microfactory types, or all types (hybrid); the stochastic optimum weighs all scenarios. "
        "VSS and EVPI are exact for optimal solves; with gaps, RP is started from the cheapest of the "
        "mean-value plans (EEV and the strategies') and each WS solve from RP, so both stay ≥ 0 and RP is "
        "never dearer than a strategy beside it, but they are known only to within the gaps shown.</p>"
    )
    chart = cost_distribution_chart(table, block, currency)
    return (
        "<h2>Uncertainty: cost over the demand scenarios</h2>" + note + chart
        + '<div class="pair"><div>' + html_table(["figure", "value"], values) + "</div><div>" + strategies
        + "</div></div>"
    )
