"""The classic location models on a distance instance (demand points × candidate sites), solved with
HiGHS through ``planner.solver.highs``: the p-center (``pcenter``: a radius search over set-covering
levels), the maximal covering location problem (``covering.solve_mclp``) and the location set
covering problem (``covering.solve_lscp``), on the sparse, dominance-reduced coverage matrix of
``coverage``. ``check`` recomputes each answer from the chosen sites and the distances alone.
Nothing here reads files: the instances come from ``planner.formats.points``."""
