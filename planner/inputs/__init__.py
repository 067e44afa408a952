"""Inputs: the model file (config), data files (io), geography (geo), checks (validate), the step
from files to the numeric :class:`~planner.problem.Problem` (prepare) and demand scenarios."""
