r"""Product setups as facility options: the exact reformulation that lets the Lagrangian presolve
(``planner.solver.presolve``) run on models with setup costs (economies of scope).

With setups, option o pays s_op (currency/yr) when it makes product p at all:

.. math::
    \min \sum_o F_o y_o + \sum_{o,p} s_{op} z_{op} + \dots \quad\text{s.t.}\quad
    x_a \le z_{o(a)p(a)},\; z_{op} \le y_o

The same problem without setup variables: every option o with setup products Π_o (s_op > 0 and arcs
of p at o) becomes one option (o, S) per non-empty S ⊆ Π_o, and (o, ∅) where o also makes products
without a setup, is forced, or opening it could pay alone (:func:`with_nothing_made`), with

* opening cost F_o + Σ_{p∈S} s_op and o's site, type, modules, capacity and capex,
* o's arcs of the products in S and of those without a setup (an arc of o appears once per such S),

and at most one open per site, which the one-option-per-site rule of every model already says (the
options (o, S) share o's site; so a facility-count limit holds as it is). A solution maps across both
ways at equal cost: (o, S) open ⟺ y_o = 1 and z_op = 1 exactly for p ∈ S. So the presolve's bound on
the expanded problem is a bound of the original, its incumbent maps to a feasible solution of equal
cost, an option o is closed in every better solution when all its (o, S) are, and open when one of
them is.

Where it applies (:func:`applies`): the model without its setups is of the presolve's shape
(``presolve_applies``), no forced option has more than one (o, S) (forcing o is "one of its (o, S)",
which the presolve cannot say; a forced option with setup products always has (o, ∅) besides), and
the expansion stays small: at most ``MAX_SUBSETS_PER_OPTION`` options (o, S) per option and
``MAX_ARC_GROWTH`` × the arcs. On the bundled counties with
``models/scale_scope.toml`` (three products, two with setups at the central plants, three at the
microfactories): 69 options and 135,340 arcs become 403 and 290,000.

**Where the expansion is too large** (five or more setup products at an option: 2^5 − 1 sets), the
presolve runs on the model with each option's setups *folded* into its opening cost, every option
paying the setups of all its setup products (:func:`presolve_with_folded_setups`, where
:func:`folded_applies`). That is a restriction (only the sets S = Π_o), not the model: its networks,
with z_op = 1 for the setup products an option serves, are feasible for the model and cost at most
their folded cost, so its incumbent is HiGHS's start; its bound and fixings are not the model's and are
dropped. The bound is that of the model without its setups (a relaxation, as setup costs are ≥ 0).
Without it HiGHS alone got the model: 6 types × 6 products with setups on 2,000 points (374,558 arcs)
ended at 38.74 M EUR/yr with a bound of 0 after 30 s (2.6 GB), on 20,000 points (4.75 million arcs)
with no network after 60 s.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass

import numpy as np

from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.problem import ARC_FIELDS, OPTION_FIELDS, Problem
from planner.solver.heuristic import network_cost
from planner.solver.lagrangian import lagrangian_bound
from planner.solver.outcome import SolverOptions
from planner.solver.presolve import PresolveResult, lagrangian_presolve, presolve_applies

logger = logging.getLogger(__name__)

MAX_SUBSETS_PER_OPTION = 16  # options (o, S) per option: four setup products
MAX_ARC_GROWTH = 8.0  # the expanded problem's arcs at most this × the original's


@dataclass(frozen=True)
class Expansion:
    """The problem without setups (:func:`expand`) and how it maps onto the original."""

    problem: Problem  # options (o, S), no setup costs
    option_of: np.ndarray  # (O',) the original option o of each (o, S)
    makes: np.ndarray  # (O', P) bool: S, the setup products (o, S) pays for
    arc_of: np.ndarray  # (A',) the original arc of each expanded arc


def setup_products(problem: Problem, index: ModelIndex) -> list[np.ndarray]:
    """Π_o for every option: the products with a setup cost and arcs at o (``index.setup_*``)."""
    split = np.searchsorted(index.setup_option, np.arange(1, problem.n_options))
    return np.split(index.setup_product, split)


def with_nothing_made(problem: Problem, index: ModelIndex) -> np.ndarray:
    """(O,) bool: whether option o also becomes (o, ∅), open with no setup paid: where it has arcs of
    products without a setup, where it is forced (it must open even if it makes nothing), where a
    lower count limit may make it open only to be counted (``min_facilities``, its type's
    ``min_count``), or where opening it with its fewest modules costs less than nothing. Elsewhere
    (o, ∅) is never better than keeping o closed, and leaving it out keeps the expansion exact.
    (Without the counts: two sites, one type with ``min_count`` 2 and a setup of 100 each, the
    second site open only to be counted had to pay its setup: 222 reported optimal against 122.)"""
    plain = np.bincount(problem.arc_option[index.arc_setup < 0], minlength=problem.n_options) > 0
    least_fixed = problem.opening_cost + problem.module_cost * problem.min_modules
    counted = np.full(problem.n_options, problem.min_facilities > 0) | (problem.type_min_count[problem.option_type] > 0)
    return plain | problem.forced | counted | (least_fixed < 0)


def subsets_per_option(problem: Problem, index: ModelIndex) -> np.ndarray:
    """(O,) how many options (o, S) each option becomes: 2^|Π_o| − 1 non-empty sets, plus (o, ∅) where
    :func:`with_nothing_made` (an option without setup products becomes the one option (o, ∅))."""
    n_setup = np.bincount(index.setup_option, minlength=problem.n_options)
    subsets = (2 ** n_setup.astype(np.int64)) - 1 + (with_nothing_made(problem, index) & (n_setup > 0))
    return np.where(n_setup == 0, 1, subsets)


def applies(problem: Problem, index: ModelIndex, options: SolverOptions) -> bool:
    """Whether the presolve runs on the expanded problem (see the module docstring)."""
    if not problem.setup_cost.any() or not len(index.setup_option):
        return False
    without = without_setups(problem)
    if not presolve_applies(without, options):
        return False
    subsets = subsets_per_option(problem, index)
    if subsets.max() > MAX_SUBSETS_PER_OPTION or (problem.forced & (subsets > 1)).any():
        return False
    return expanded_arcs(problem, index) <= MAX_ARC_GROWTH * problem.n_arcs


def expanded_arcs(problem: Problem, index: ModelIndex) -> int:
    """Arcs of the expanded problem: an arc of a setup product at o is in 2^(|Π_o|−1) subsets, an arc
    without a setup in every (o, S) of o."""
    subsets = subsets_per_option(problem, index)
    n_setup = np.bincount(index.setup_option, minlength=problem.n_options)
    per_arc = np.where(index.arc_setup >= 0, 2 ** np.maximum(n_setup[problem.arc_option] - 1, 0),
                       subsets[problem.arc_option])
    return int(per_arc.sum())


def expand(problem: Problem, index: ModelIndex) -> Expansion:
    """The problem without setups whose options are the (o, S) of the module docstring, in the order
    of o (the subsets of one option side by side); arcs in the original order, each arc's copies in
    the order of its (o, S)."""
    option_of, makes = [], []
    nothing_made = with_nothing_made(problem, index)
    for option, products in enumerate(setup_products(problem, index)):
        for code in range(0 if nothing_made[option] or not len(products) else 1, 2 ** len(products)):
            made = np.zeros(problem.n_products, dtype=bool)
            made[products[[(code >> bit) & 1 == 1 for bit in range(len(products))]]] = True
            option_of.append(option)
            makes.append(made)
    option_of, makes = np.array(option_of, dtype=int), np.array(makes, dtype=bool).reshape(-1, problem.n_products)
    # arc a of option o goes to each (o, S) that makes its product (or every one where it needs no setup)
    first = np.searchsorted(option_of, np.arange(problem.n_options))
    count = np.bincount(option_of, minlength=problem.n_options)
    arc_of = np.repeat(np.arange(problem.n_arcs), count[problem.arc_option])
    starts = np.cumsum(count[problem.arc_option]) - count[problem.arc_option]
    combo = first[problem.arc_option[arc_of]] + np.arange(len(arc_of)) - np.repeat(starts, count[problem.arc_option])
    usable = makes[combo, problem.arc_product[arc_of]] | (index.arc_setup[arc_of] < 0)
    combo, arc_of = combo[usable], arc_of[usable]
    per_option = {name: getattr(problem, name)[option_of] for name in OPTION_FIELDS}
    per_option["opening_cost"] = per_option["opening_cost"] + (problem.setup_cost[option_of] * makes).sum(axis=1)
    per_option["setup_cost"] = np.zeros((len(option_of), problem.n_products))
    per_arc = {name: getattr(problem, name)[arc_of] for name in ARC_FIELDS[1:]}
    # a type's count limit holds as it is (one (o, S) per site); one that did not bind stays so
    n_types = len(problem.type_ids)
    binding = problem.type_max_count < np.bincount(problem.option_type, minlength=n_types)
    type_max_count = np.where(binding, problem.type_max_count,
                              np.bincount(problem.option_type[option_of], minlength=n_types))
    max_facilities = problem.max_facilities
    if max_facilities is not None and max_facilities >= problem.n_options:
        max_facilities = None
    expanded = dataclasses.replace(problem, arc_option=combo, type_max_count=type_max_count,
                                   max_facilities=max_facilities, **per_option, **per_arc)
    return Expansion(expanded, option_of, makes, arc_of)


def original_solution(expansion: Expansion, problem: Problem, solution: Solution) -> Solution:
    """A solution of the expanded problem as one of ``problem`` at equal cost: o open with the modules
    of its open (o, S), each arc's share summed over its copies, z_op = 1 for p ∈ S."""
    is_open = solution.open > 0
    option_of = expansion.option_of
    opened = np.bincount(option_of, weights=is_open, minlength=problem.n_options)
    modules = np.bincount(option_of, weights=solution.modules * is_open, minlength=problem.n_options)
    setup = np.zeros((problem.n_options, problem.n_products), dtype=int)
    combo, product = np.nonzero(expansion.makes & is_open[:, None])
    setup[option_of[combo], product] = 1
    assign = np.bincount(expansion.arc_of, weights=solution.assign, minlength=problem.n_arcs)
    return Solution(open=(opened > 0).astype(int), modules=np.round(modules).astype(int),
                    assign=np.minimum(assign, 1.0), unmet=solution.unmet.copy(), setup=setup)


def presolve_with_setups(problem: Problem, index: ModelIndex, options: SolverOptions) -> PresolveResult:
    """``lagrangian_presolve`` on the expanded problem, its result mapped onto ``problem``: the same
    bound and incumbent cost, o fixed closed where every (o, S) is and open where one (o, S) is. No
    promising options (the module search beside HiGHS knows no setups)."""
    expansion = expand(problem, index)
    wide = expansion.problem
    logger.info("presolve with setups: %d options and %d arcs become %d and %d", problem.n_options,
                problem.n_arcs, wide.n_options, wide.n_arcs)
    found = lagrangian_presolve(wide, ModelIndex.from_problem(wide), options)
    option_of = expansion.option_of
    fix_closed = np.bincount(option_of, weights=~found.fix_closed, minlength=problem.n_options) == 0
    fix_open = np.bincount(option_of, weights=found.fix_open, minlength=problem.n_options) > 0
    incumbent = None if found.incumbent is None else original_solution(expansion, problem, found.incumbent)
    return PresolveResult(found.bound, incumbent, found.incumbent_cost, fix_closed, fix_open, found.paid,
                          promising=None, arcs=wide.n_arcs)


def without_setups(problem: Problem) -> Problem:
    """``problem`` with every setup cost 0 (a relaxation: setup costs are ≥ 0)."""
    return dataclasses.replace(problem, setup_cost=np.zeros_like(problem.setup_cost))


def folded_applies(problem: Problem, index: ModelIndex, options: SolverOptions) -> bool:
    """Where the exact expansion does not apply but the model without its setups is of the presolve's
    shape: the presolve on the model with its setups folded (see the module docstring)."""
    if not problem.setup_cost.any() or not len(index.setup_option):
        return False
    without = without_setups(problem)
    return presolve_applies(without, options) and not applies(problem, index, options)


def folded(problem: Problem, index: ModelIndex) -> Problem:
    """``problem`` without setup costs, each option's opening cost raised by the setups of all its setup
    products Π_o (the restriction of the module docstring)."""
    makes = np.zeros(problem.setup_cost.shape, dtype=bool)
    makes[index.setup_option, index.setup_product] = True
    return dataclasses.replace(without_setups(problem),
                               opening_cost=problem.opening_cost + (problem.setup_cost * makes).sum(axis=1))


def with_setups_paid(problem: Problem, solution: Solution) -> Solution:
    """A network of the folded problem as one of ``problem``: z_op = 1 where option o serves product p
    with a setup cost (x_a ≤ z_op holds; no other setup is paid, so it costs at most its folded cost)."""
    setup = np.zeros(problem.setup_cost.shape, dtype=int)
    served = solution.assign > 0
    setup[problem.arc_option[served], problem.arc_product[served]] = 1
    setup[problem.setup_cost <= 0] = 0
    setup[solution.open <= 0] = 0
    return dataclasses.replace(solution, setup=setup)


def presolve_with_folded_setups(problem: Problem, index: ModelIndex, options: SolverOptions) -> PresolveResult:
    """``lagrangian_presolve`` on :func:`folded`: its incumbent, with its setups paid, as HiGHS's start; its
    bound and fixings are not the model's and are dropped: the bound is :func:`setup_free_bound`'s, taken
    first with ``FREE_BOUND_SHARE`` of the time limit."""
    started = time.perf_counter()
    bound = setup_free_bound(problem, FREE_BOUND_SHARE * (options.time_limit_s or 60.0))
    if options.time_limit_s is not None:
        options = dataclasses.replace(options, time_limit_s=max(options.time_limit_s - (time.perf_counter() - started),
                                                                FOLDED_MIN_S))
    wide = folded(problem, index)
    logger.info("presolve with setups folded into the opening costs (up to %d setup products at an option): its "
                "network is HiGHS's start; its bound and fixings are not the model's and are dropped (the bound of "
                "the model without setups: %.10g)", int(np.bincount(index.setup_option).max()), bound)
    found = lagrangian_presolve(wide, ModelIndex.from_problem(wide), options)
    incumbent = None if found.incumbent is None else with_setups_paid(problem, found.incumbent)
    cost = None if incumbent is None else network_cost(problem, index, incumbent)
    nothing = np.zeros(problem.n_options, dtype=bool)
    return PresolveResult(bound, incumbent, cost, nothing, nothing.copy(), found.paid, promising=None)


FREE_BOUND_SHARE = 0.1  # of the time limit (of 60 s without one) for the bound of the model without setups
FOLDED_MIN_S = 1.0  # the folded presolve's time at least


def setup_free_bound(problem: Problem, seconds: float) -> float:
    """A lower bound of ``problem`` valid whatever its setups: the Lagrangian bound of the model without
    them (setup costs are ≥ 0, so every network costs at least as much there); -∞ where a setup cost is
    negative (a problem built from Python)."""
    if (problem.setup_cost < 0).any():
        return -math.inf
    without = without_setups(problem)
    return float(lagrangian_bound(without, ModelIndex.from_problem(without), None, time_limit_s=seconds).bound)
