"""Demand uncertainty: the two-stage stochastic network model (``build``), its solution and audit
(``results``, ``audit``), RP/EEV/WS/VSS/EVPI and strategies (``analysis``) and the geographic path
(``pipeline``). Imports neither geopandas nor files except in ``pipeline``."""
