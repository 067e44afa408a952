r"""Single-source capacitated facility location: Holmberg, Rönnqvist & Yuan instances ``p1`` … ``p71``.

Format (whitespace-separated tokens; the demands and costs wrap over lines arbitrarily)::

    m n
    s_i f_i            # m times: capacity, fixed opening cost
    d_1 … d_n          # demands
    c_11 … c_1n        # FACILITY-MAJOR: m blocks of n costs, c_ij = cost of serving ALL of j from i
    …
    c_m1 … c_mn

so a file has exactly :math:`2 + 2m + n + mn` tokens; one number more, alone on the last line, is the
optimum value Guastaroba & Speranza's copies end with (``OPT_VAL``), left out with a warning. The cost
matrix is facility-major (reading it customer-major gives wrong optima, e.g. p1 9907 instead of 8848).

Model (each customer served by exactly one facility):

.. math::
    \min \sum_i f_i y_i + \sum_{ij} c_{ij} x_{ij}
    \quad\text{s.t.}\quad \sum_i x_{ij} = 1,\;
    \sum_j d_j x_{ij} \le s_i y_i,\; x_{ij} \le y_i,\; x, y \in \{0,1\}

The mapping onto :class:`planner.problem.Problem` (``single_sourcing=True``) is described in
:mod:`planner.formats.dense`; a customer of demand 0 and no costs needs no supply (with a cost it is an error).

Cite: K. Holmberg, M. Rönnqvist & D. Yuan, "An exact algorithm for the capacitated facility location
problems with single sourcing", EJOR 113 (1999) 544–559.
"""

from __future__ import annotations

import logging
from pathlib import Path

from planner.formats.dense import check_zero_demand, problem_from_costs
from planner.formats.tokens import check_dense_values, instance_name, read_sites_customers, to_floats
from planner.problem import Problem

logger = logging.getLogger(__name__)


def read_sscflp(path: Path) -> Problem:
    """The single-source instance of a Holmberg file, named after the file (``p1``)."""
    path = Path(path)
    tokens, n_sites, n_customers = read_sites_customers(path, "facilities", lambda m, n: 2 + 2 * m + n + m * n,
                                                        optimum_line=True)
    values = to_floats(tokens, path)
    site_block = 2 + 2 * n_sites
    capacity = values[2:site_block:2]
    opening_cost = values[3:site_block:2]
    demand = values[site_block : site_block + n_customers]
    total_cost = values[site_block + n_customers :].reshape(n_sites, n_customers)  # facility-major
    places = {"capacities": lambda i: 3 + 2 * i, "opening costs": lambda i: 4 + 2 * i,  # 1-based token places
              "demands": lambda j: site_block + 1 + j, "costs c_ij": lambda k: site_block + n_customers + 1 + k}
    check_dense_values(path, capacity=capacity, opening_cost=opening_cost, demand=demand, total_cost=total_cost,
                       places=places)
    check_zero_demand(path, demand, total_cost)
    logger.info("read %s: %d facilities × %d customers", path.name, n_sites, n_customers)
    return problem_from_costs(
        instance_name(path),
        source=path,
        opening_cost=opening_cost,
        capacity=capacity,
        demand=demand,
        total_cost=total_cost,
        single_sourcing=True,
    )
