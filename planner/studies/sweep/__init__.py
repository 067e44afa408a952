"""Parameter sweeps over model-file values, run on dask.distributed (``planner sweep``)."""

from planner.studies.sweep.runner import SweepResult, run_sweep
from planner.studies.sweep.spec import Vary, sample_points

__all__ = ["SweepResult", "Vary", "run_sweep", "sample_points"]
