"""Readers for published facility-location benchmark formats; each returns a
:class:`planner.problem.Problem`, so the benchmarks exercise the planner's own model.

==========  ================================================  ===========================
format      reader                                            problem
==========  ================================================  ===========================
``cap``     :func:`planner.formats.orlib_cap.read_orlib_cap`  CFLP (SSCFLP single-source)
``ufl``     :func:`planner.formats.uflib.read_uflib`          UFL
``sscflp``  :func:`planner.formats.sscflp.read_sscflp`        SSCFLP
``pmed``    :func:`planner.formats.pmed.read_pmed`            p-median
==========  ================================================  ===========================

The classic models (``pcenter``, ``mclp``, ``lscp``) read a distance instance instead of a Problem:
:func:`planner.formats.points.read_distance_instance` (a ``pmed`` graph or a ``POINTS`` file).

:func:`planner.studies.bench.run_bench` reads and solves a list of files and compares with the
known optima (``known_optima.csv``). Each module's docstring documents its format, cost convention
and source; :mod:`planner.formats.tokens` the token rule all of them read by, and
:mod:`planner.formats.dense` how an instance maps onto a Problem.
"""

from planner.formats.orlib_cap import read_orlib_cap
from planner.formats.pmed import read_pmed
from planner.formats.sscflp import read_sscflp
from planner.formats.uflib import read_ufl_opt, read_uflib

__all__ = ["read_orlib_cap", "read_pmed", "read_sscflp", "read_ufl_opt", "read_uflib"]
