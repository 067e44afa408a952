"""Load a known solution into a built model's variables, as HiGHS's starting incumbent: the user's
start, or the Lagrangian presolve's incumbent."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from planner.model.index import ModelIndex
from planner.problem import Problem


def load_start(model: pyo.ConcreteModel, problem: Problem, index: ModelIndex, start) -> None:
    """Set open, modules, assign, unmet and setup from ``start`` (a ``planner.model.solution.Solution``);
    fixed variables keep their values."""
    for option in range(problem.n_options):
        if not model.open[option].fixed:
            model.open[option].set_value(int(start.open[option]))
    for option in index.modular_options.tolist():
        model.modules[option].set_value(int(start.modules[option]))
    whole = takes_whole_numbers(model.assign)  # single sourcing: a share of 0.9999999 is 1, not Pyomo's W1001
    for arc, share in enumerate(np.asarray(start.assign, dtype=float).tolist()):
        model.assign[arc].set_value(round(share) if whole else share)
    for pair in index.unmet_pairs.tolist():
        model.unmet[pair].set_value(float(start.unmet[pair]))
    if start.setup is not None and len(index.setup_option):
        chosen = start.setup[index.setup_option, index.setup_product]
        for z, value in enumerate(chosen.tolist()):
            model.setup[z].set_value(int(value))


def takes_whole_numbers(variables) -> bool:
    """Whether the indexed Pyomo ``variables`` are binary or integer (one domain for all of them)."""
    return len(variables) > 0 and next(iter(variables.values())).is_integer()
