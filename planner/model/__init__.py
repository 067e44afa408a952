"""The mixed-integer network model, built from a :class:`planner.problem.Problem` only.

``build_model`` composes one ``define_*`` function per variable or constraint family; each states
its math. This package imports neither geopandas nor files.
"""

from planner.model.build import build_model
from planner.model.index import ModelIndex

__all__ = ["ModelIndex", "build_model"]
