"""Facility network planner for microfactories and central plants.

The public steps, each callable alone (``planner.pipeline.plan`` composes them)::

    from planner.inputs.config import read_model_config
    from planner.pipeline import plan
    from planner.inputs.prepare import DataOptions
    from planner.solver.outcome import SolverOptions

    config = read_model_config("models/hybrid.toml")
    result = plan(config, DataOptions(select=(("STUSPS", ("NC",)),)), SolverOptions())
    result.run.tables.sites          # load → validate → prepare → build → solve → audit
"""

__version__ = "0.1.0"
