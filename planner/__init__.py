"""Facility network planner for microfactories and central plants.

The public steps, each callable alone (``planner.pipeline`` composes them)::

    from planner import config, pipeline
    model_config = config.read_model_config("models/hybrid.toml")
    run = pipeline.solve(model_config)          # load → validate → prepare → build → solve → audit
"""

__version__ = "0.1.0"
