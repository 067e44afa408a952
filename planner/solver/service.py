r"""Why a service level cannot be met: the best share any network reaches, found by solving for it.

When the model with service levels is infeasible, each product p with a level is taken in turn:
with every service row dropped (the rest of the model unchanged: capacities, modules, counts,
budget, CO2 cap), the share it can reach is

.. math:: \max \frac{1}{D_p} \sum_{a \in W_p} q_{d(a)} x_a

(:math:`W_p` its arcs within the limit, :math:`D_p` its demand). If the model is infeasible even
without service rows, the service level is not the cause and the original error stands. The refusal
names the capex budget and the CO2 cap among the fixes only where solving for the best shares without
that limit raises one (:func:`limits_that_may_bind`): a budget of 0 had been told to raise "the capex
budget or the CO2 cap" beside a cap that held nothing back.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from planner.errors import InfeasibleError, SolverError
from planner.model.arrays import build_standard_form, reachable_service_share, service_limit_text, share_text
from planner.model.index import ModelIndex
from planner.problem import Problem
from planner.solver.highs import run_highs
from planner.solver.outcome import SolverOptions, Status

logger = logging.getLogger(__name__)

SHARE_ROUNDING = 1e-9


def best_service_shares(problem: Problem, options: SolverOptions) -> dict[int, tuple[float, float, bool]]:
    """Per product with a service level: (best share found, upper bound on the share, proven) with
    all service rows dropped; raises InfeasibleError when the model is infeasible without them."""
    relaxed = dataclasses.replace(problem, service_share=np.zeros(problem.n_products))
    index = ModelIndex.from_problem(relaxed)
    form = build_standard_form(relaxed, index)
    demand = np.bincount(index.pair_product, weights=index.pair_demand, minlength=problem.n_products)
    within = problem.arc_within_service
    assign = form.block("assign")
    shares = {}
    for p in problem.serviced_products.tolist():
        counted = within & (problem.arc_product == p)
        cost_assign = np.zeros(problem.n_arcs)
        cost_assign[counted] = -index.arc_base_demand[counted] / demand[p]
        cost = np.zeros(form.n_columns)
        cost[assign] = cost_assign
        report, _ = run_highs(dataclasses.replace(form, cost=cost, offset=0.0), options)
        best = -report.objective
        bound = -report.best_bound if report.best_bound is not None else 1.0
        shares[p] = (best, max(best, min(bound, 1.0)), report.status is Status.OPTIMAL)
    return shares


LIMITS = (("capex_budget", "the capex budget (network.capex_budget)"),
          ("co2_cap_t", "the CO2 cap (network.max_co2_t_per_yr)"))


def limits_that_may_bind(problem: Problem, options: SolverOptions,
                         shares: dict[int, tuple[float, float, bool]]) -> list[str]:
    """The capex budget and the CO2 cap, where set, unless dropping it raises no product's best share above
    ``shares`` (its bound, with the limit dropped, at most the best share found with it): a limit whose
    row is slack at the best network may still bind (it keeps out a second site), so each is tested by
    solving without it. A limit the test cannot clear (no network, or a solver error) is kept."""
    kept = []
    for field, text in LIMITS:
        if not np.isfinite(getattr(problem, field)):
            continue
        try:
            freed = best_service_shares(dataclasses.replace(problem, **{field: np.inf}), options)
        except (InfeasibleError, SolverError):
            kept.append(text)
            continue
        if any(freed[p][1] > best + SHARE_ROUNDING for p, (best, _, _) in shares.items()):
            kept.append(text)
    return kept


def shares_apart(asked: float, best: float) -> tuple[str, str]:
    """The two shares as percentages with as many decimals (one to six) as it takes to show them apart
    where they differ: a best share of 84.95 % against 85 % asked is not '85.0%' against '85.0%'.

    >>> shares_apart(0.85, 0.8495)
    ('85.00%', '84.95%')
    """
    best = 0.0 if -1e-9 < best <= 0.0 else best  # the solver's rounding of none: never "-0.0%"
    if best + SHARE_ROUNDING < asked:
        for digits in range(1, 7):
            if f"{asked:.{digits}%}" != f"{best:.{digits}%}":
                return f"{asked:.{digits}%}", f"{best:.{digits}%}"
    return share_text(asked), share_text(best)


def explain_service_infeasibility(problem: Problem, options: SolverOptions, explain_rest=None,
                                  reach: InfeasibleError | None = None) -> InfeasibleError:
    """The error to raise when the model with service levels is infeasible: which level cannot be met
    and the best share the network can reach (see the module docstring). ``explain_rest``, given the
    model without its service levels, returns the error that explains it where that is infeasible too.
    ``reach``, the refusal before solving (the share with any arc within the limit, which no network
    exceeds), stands where solving finds no lower best share: it says which limit to widen."""
    quick = dataclasses.replace(options, mip_gap=max(options.mip_gap, 1e-4), quiet=True)
    try:
        shares = best_service_shares(problem, quick)
    except InfeasibleError as error:
        rest = error if explain_rest is None else explain_rest(
            dataclasses.replace(problem, service_share=np.zeros(problem.n_products)))
        return InfeasibleError(f"{rest} (even without the service levels)")
    except SolverError as error:
        if reach is not None:
            return InfeasibleError(str(reach))
        return InfeasibleError(
            f"the service levels cannot all be met, and the best reachable share was not found ({error})"
        )
    if reach is not None:
        reachable = reachable_service_share(problem, ModelIndex.from_problem(problem))
        if all(bound >= reachable[p] - SHARE_ROUNDING for p, (_, bound, _) in shares.items()):
            return InfeasibleError(str(reach))  # counts, capacities and budgets hold no share below the reach
    parts = []
    for p, (best, bound, proven) in shares.items():
        asked = problem.service_share[p]
        asked_text, best_text = shares_apart(asked, best)
        reach = (best_text if proven or bound - best < 1e-4
                 else f"between {best_text} and {share_text(bound)}")
        verdict = "at most" if best + SHARE_ROUNDING < asked or len(shares) == 1 else "alone"
        parts.append(f"product '{problem.product_ids[p]}' asks {asked_text} of its demand "
                     f"{service_limit_text(problem, p)}; {verdict} {reach} is reachable")
    unmet_alone = all(best + SHARE_ROUNDING >= problem.service_share[p] for p, (best, _, _) in shares.items())
    tail = (" (each level is reachable alone, not all together)" if unmet_alone and len(shares) > 1 else "")
    n_per_type = np.bincount(problem.option_type, minlength=len(problem.type_ids))
    counted = problem.max_facilities is not None or (problem.type_max_count < n_per_type).any()
    counts = ", raise the facility-count limits (max_facilities, max_count or the objective's p)" if counted else ""
    limits = limits_that_may_bind(problem, quick, shares)
    raised = f", raise {' or '.join(limits)}" if limits else ""  # they bind the best share too
    return InfeasibleError("no network meets the service level: " + "; ".join(parts) + tail +
                           f"; lower min_share_within, widen the limit{counts}{raised} or add candidate sites or "
                           "capacity")
