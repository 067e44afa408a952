"""The mixed-integer network model, built from a :class:`planner.problem.Problem` only.

* ``build``: the Pyomo model; ``build_model`` composes one ``define_*`` function per variable or
  constraint family, each stating its math.
* ``arrays``: the same model as a sparse standard form, one ``rows_*`` function per ``define_*``.
* ``index``: the index sets as arrays (:class:`ModelIndex`); ``solution``: the decision values of
  one solve (:class:`~planner.model.solution.Solution`); ``start``: a known solution as a MIP start;
  ``alternatives``: the rows of modelling to generate alternatives.

This package imports neither geopandas nor files.
"""

from planner.model.build import build_model
from planner.model.index import ModelIndex

__all__ = ["ModelIndex", "build_model"]
