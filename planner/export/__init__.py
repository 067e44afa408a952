"""Writers of the solve outputs; they read results only, never the model or the solver."""

from planner.export.folder import write_outputs

__all__ = ["write_outputs"]
