"""Demand uncertainty: the numeric instance (``problem``), the two-stage stochastic network model
(``build``), its solution and audit (``results``, ``audit``), RP/EEV/WS/VSS/EVPI and strategies
(``analysis``) and the geographic path (``pipeline``); the staged rollout over periods (``rollout``)
and its strategies and geographic path (``staged``). Reads no files except through
``planner.inputs`` in ``pipeline`` and ``staged``."""
