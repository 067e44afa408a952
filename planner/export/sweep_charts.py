"""Charts of a sweep: each result against each varied parameter (``sweep_results.png``) and the
facility mix against each parameter (``facility_mix.png``). Failed scenarios are left out."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = {
    "objective": "total cost (currency/yr)",
    "co2_t": "CO2 (t/yr)",
    "share_served": "demand served (share)",
    "cost_fixed": "fixed cost (currency/yr)",
    "cost_transport": "transport cost (currency/yr)",
    "cost_unmet_penalty": "unmet penalty (currency/yr)",
}
PANEL_SIZE = (3.4, 2.5)


def _save(figure, path: Path) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    try:
        figure.savefig(temporary, dpi=130, bbox_inches="tight")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _type_columns(table: pd.DataFrame) -> list[str]:
    reserved = {"n_facilities", "n_central", "n_microfactory"}
    return [c for c in table.columns if c.startswith("n_") and c not in reserved]


def write_sweep_charts(table: pd.DataFrame, keys: list[str], out: Path) -> list[Path]:
    """Write the two charts into ``out``; returns their paths (none when no scenario succeeded)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = table[table["status"] != "failed"]
    if done.empty:
        return []
    results = [column for column in RESULTS if column in done and done[column].notna().any()]
    paths = []
    figure, axes = plt.subplots(
        len(results), len(keys), figsize=(PANEL_SIZE[0] * len(keys), PANEL_SIZE[1] * len(results)), squeeze=False
    )
    for row, result in enumerate(results):
        for col, key in enumerate(keys):
            axis = axes[row][col]
            ordered = done.sort_values(key)
            x, y = ordered[key].astype(float), ordered[result].astype(float)
            if len(keys) == 1:
                axis.plot(x, y, marker="o", color="#1f77b4")
            else:
                axis.scatter(x, y, s=14, color="#1f77b4")
            axis.set_xlabel(key, fontsize=8)
            axis.set_ylabel(RESULTS[result], fontsize=8)
            axis.tick_params(labelsize=7)
            axis.grid(alpha=0.3)
    figure.suptitle(f"Sweep: {len(done)} scenarios solved", fontsize=10)
    figure.tight_layout()
    paths.append(out / "sweep_results.png")
    _save(figure, paths[-1])
    plt.close(figure)

    types = _type_columns(done)
    if types:
        figure, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.0), squeeze=False)
        for col, key in enumerate(keys):
            axis = axes[0][col]
            mean = done.groupby(key)[types].mean()
            bottom = np.zeros(len(mean))
            width = _bar_width(mean.index.to_numpy(dtype=float))
            for column in types:
                values = mean[column].to_numpy(dtype=float)
                axis.bar(mean.index.to_numpy(dtype=float), values, width=width, bottom=bottom, label=column[2:])
                bottom += values
            axis.set_xlabel(key, fontsize=8)
            axis.set_ylabel("open facilities" + (" (mean over other keys)" if len(keys) > 1 else ""), fontsize=8)
            axis.tick_params(labelsize=7)
        axes[0][-1].legend(fontsize=7, title="type", title_fontsize=7)
        figure.suptitle("Facility mix", fontsize=10)
        figure.tight_layout()
        paths.append(out / "facility_mix.png")
        _save(figure, paths[-1])
        plt.close(figure)
    return paths


def _bar_width(x: np.ndarray) -> float:
    distinct = np.unique(x)
    if len(distinct) < 2:
        return 0.8 * max(abs(float(distinct[0])), 1.0) if len(distinct) else 1.0
    return 0.8 * float(np.min(np.diff(distinct)))
