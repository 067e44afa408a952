r"""The radius (covering) formulation of the assignment, for problems whose flows are uncoupled:
uncapacitated facility location and p-median (García, Labbé & Marín 2011, "Solving large p-median
problems with a radius formulation", INFORMS J. Computing 23, 546–556; Cornuéjols, Nemhauser &
Wolsey 1980; in its chained form, Elloumi 2010, "A tighter formulation of the p-median problem",
J. Comb. Optim. 19, 69–83).

**When it applies** (:func:`applies`): once the open set is chosen, each demand pair :math:`d` costs
:math:`q_d \min(\pi_d, \min_{a \in A(d),\, o(a) \text{ open}} c_a)` on its own — no capacity can
bind (each option's largest capacity covers all the demand its arcs reach), every option has a fixed
module count, no product setup costs, no CO2 cap, no unmet-demand limit, no service level. Constraints on the open set
alone are kept as they are: facility and type counts (so p-median), one type per site, forced
options, a capex budget. Single sourcing changes nothing here (the cheapest arc takes the whole pair).

**Model.** For each pair :math:`d` let :math:`D_{d1} < D_{d2} < … < D_{dK_d}` be the distinct unit
costs (currency/unit) of its arcs below its penalty :math:`\pi_d`, and :math:`D_{d,K_d+1} = \pi_d`.
With :math:`y_o \in \{0,1\}` (open) and :math:`z_{dk} \ge 0` ("no open option costs :math:`\le
D_{dk}`"):

.. math::
    \min \sum_o F_o y_o + \sum_d q_d D_{d1} + \sum_{d,k} q_d (D_{d,k+1} - D_{dk})\, z_{dk}

with the covering rows (``cover``, García et al.)
:math:`z_{dk} + \sum_{a \in A(d): c_a \le D_{dk}} y_{o(a)} \ge 1`, or the chained rows (``chain``,
Elloumi; the default: each arc in one row, so the matrix has as many nonzeros as arcs)
:math:`z_{d1} + \sum_{a: c_a = D_{d1}} y_{o(a)} \ge 1`,
:math:`z_{dk} - z_{d,k-1} + \sum_{a: c_a = D_{dk}} y_{o(a)} \ge 0`. :math:`F_o` is the opening cost
plus the module cost of the fixed module count (currency/yr), :math:`q_d` the demand (units/yr).
Where :math:`\pi_d = \infty` the last level must be covered (:math:`z_{dK_d} = 0`). Both forms have
the same integer solutions; the chained LP is at least as tight.

**Reductions** (García et al.): levels above the largest cost a pair can need are dropped.

* Proven caps (the model stays exact): the cheapest arc of a forced option; and, when no constraint
  can forbid opening an option (no facility, type, site or budget limit), :math:`\min_a (c_a +
  F_{o(a)} / q_d)` — an optimal solution never serves :math:`d` dearer, or opening :math:`o(a)`
  would pay. The top kept level is then covered (:math:`z = 0`).
* Otherwise (p-median) each pair keeps its first levels only and the top one costs the next level
  (a relaxation: its optimum is a valid bound). Where the optimum leaves a pair uncovered up to its
  top kept level, that pair gets more levels and the model is solved again, from the best open set so
  far; when none is left uncovered, the relaxation's optimum is feasible at its own cost: optimal.

The report is HiGHS's (status, bound, gap); the objective is the cost of the best open set,
recomputed (:func:`open_set_cost`), and the bound the largest of the relaxations' bounds.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from planner.errors import InfeasibleError, SolverError, UnexplainedInfeasibleError
from planner.model.arrays import (
    Columns,
    LinearForm,
    RowFamily,
    rows_capex_budget,
    rows_facility_counts,
    rows_one_type_per_site,
)
from planner.model.index import ModelIndex
from planner.model.solution import Solution
from planner.problem import Problem
from planner.solver.highs import run_highs
from planner.solver.outcome import OPTIMAL_GAP, SolveReport, SolverOptions, Status, relative_gap

logger = logging.getLogger(__name__)

FORMS = ("chain", "cover")
COVERED = 1e-6  # a z value above this: the pair is not covered up to that level
MAX_ROUNDS = 30  # relaxations solved at most (each round at least doubles the levels of the pairs it extends)
FIRST_LEVELS_PER_MEDIAN = 2.0  # without a proven cap a pair first keeps this × options / max_facilities levels
MIN_FIRST_LEVELS = 4
MAX_OPTIONS_PER_MEDIAN = 10  # preferred: a facility-count limit opens at least one option in this many


# when it applies -----------------------------------------------------------------------------------------
def applies(problem: Problem) -> bool:
    """Whether the flows are uncoupled once the open set is chosen (see the module docstring): no
    option's capacity can bind, module counts are fixed, no setup costs, no CO2 cap, no unmet limit, no
    service level, no proximity bands, no suppliers."""
    if problem.n_options == 0 or problem.n_arcs == 0:
        return False
    if (problem.max_modules != problem.min_modules).any() or (problem.setup_cost > 0).any():
        return False
    if np.isfinite(problem.co2_cap_t) or np.isfinite(problem.max_unmet).any() or len(problem.serviced_products):
        return False
    if problem.has_proximity or problem.supply is not None:
        return False
    reachable = np.bincount(problem.arc_option, weights=problem.arc_demand, minlength=problem.n_options)
    return bool((problem.option_capacity_max >= reachable).all())


def preferred(problem: Problem) -> bool:
    """Whether the engine should solve ``problem`` with the radius model rather than the standard one:
    it :func:`applies` and a facility-count limit opens at least one option in ``MAX_OPTIONS_PER_MEDIAN``.

    Why: the radius model is smaller than the standard one by the levels it drops, which is much when
    many facilities open (few levels per pair are ever needed); both have the same LP bound, so with
    few facilities (p-median with small p) or none limited (UFL) the LP gap, not the model size,
    decides, and the Lagrangian branch-and-bound (``planner.solver.lagrangian_bb``) is better. Measured
    with one thread: 10–20 options per median, generated pmed-type graphs of 300 × 20, 500 × 30 and
    600 × 40 took 8.1 s, over 60 s and 58 s here against 1.1, 2.4 and 0.4 s there (pmed7, 200 × 10:
    1.7 against 0.15 s); at 5–10 the branch-and-bound's incumbents were poor (pmed9, 200 × 40: not
    proven in 60 s against 0.14 s here) until its vertex-substitution search: where the branch-and-bound
    applies it now runs first and this rule picks what goes on from its incumbent (``planner.solver.engine``)."""
    if not applies(problem) or problem.max_facilities is None or problem.max_facilities <= 0:
        return False
    return problem.n_options <= MAX_OPTIONS_PER_MEDIAN * problem.max_facilities


def fixed_cost(problem: Problem) -> np.ndarray:
    """(O,) currency/yr an open option costs: opening cost + module cost × its fixed module count."""
    return problem.fixed_cost_at_min_modules


def opening_never_forbidden(problem: Problem) -> bool:
    """No constraint on the open set can forbid opening one more option (the UFL cap is then valid)."""
    n_per_type = np.bincount(problem.option_type, minlength=len(problem.type_ids))
    if problem.max_facilities is not None and problem.max_facilities < problem.n_options:
        return False
    if (problem.type_max_count < n_per_type).any() or len(np.unique(problem.option_site)) < problem.n_options:
        return False
    return not (np.isfinite(problem.capex_budget) and (problem.capex + problem.capex_per_module > 0).any())


# levels ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Levels:
    """The distinct useful unit costs of each demand pair, sorted (pair-major): level ``l`` belongs to
    pair ``pair[l]`` and costs ``cost[l]`` per unit; ``next_cost[l]`` is the pair's next level or, for
    its last, its penalty (inf: must be served). ``start`` is the CSR start of each pair's levels and
    ``arc_level`` the level of each arc (−1: the arc costs at least the penalty and is never used)."""

    pair: np.ndarray
    cost: np.ndarray
    next_cost: np.ndarray
    start: np.ndarray
    arc_level: np.ndarray

    @property
    def count(self) -> np.ndarray:
        """(D,) number of levels of each pair."""
        return np.diff(self.start)

    @property
    def rank(self) -> np.ndarray:
        """(L,) position of each level within its pair (0 = cheapest)."""
        return np.arange(len(self.pair)) - self.start[self.pair]


def pair_levels(problem: Problem, index: ModelIndex) -> Levels:
    """The :class:`Levels` of every demand pair (arcs at or above the pair's penalty are left out)."""
    cost, pair, penalty = problem.arc_unit_cost, index.arc_pair, index.pair_penalty
    useful = np.flatnonzero(cost < penalty[pair])
    order = useful[np.lexsort((cost[useful], pair[useful]))]
    sorted_pair, sorted_cost = pair[order], cost[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (sorted_pair[1:] != sorted_pair[:-1]) | (sorted_cost[1:] != sorted_cost[:-1])
    arc_level = np.full(problem.n_arcs, -1)
    arc_level[order] = np.cumsum(new) - 1
    level_pair, level_cost = sorted_pair[new], sorted_cost[new]
    start = np.searchsorted(level_pair, np.arange(index.n_pairs + 1))
    last = np.ones(len(level_pair), dtype=bool)
    last[:-1] = level_pair[1:] != level_pair[:-1]
    next_cost = np.where(last, penalty[level_pair], np.append(level_cost[1:], np.inf))
    return Levels(level_pair, level_cost, next_cost, start, arc_level)


def proven_caps(problem: Problem, index: ModelIndex) -> np.ndarray:
    """(D,) unit cost above which no optimal solution serves each pair (inf where none is known): the
    cheapest forced arc, and with :func:`opening_never_forbidden` the least ``c_a + F_o(a) / q_d``."""
    pair, cost = index.arc_pair, problem.arc_unit_cost
    extra = np.where(problem.forced, 0.0, np.inf)[problem.arc_option]
    if opening_never_forbidden(problem):
        extra = np.where(problem.forced, 0.0, fixed_cost(problem))[problem.arc_option] / index.arc_demand
    caps = np.full(index.n_pairs, np.inf)
    np.minimum.at(caps, pair, cost + extra)
    return caps


def first_keep(
    problem: Problem, index: ModelIndex, levels: Levels, first_levels: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(D,) levels each pair keeps in the first model, and (D,) bool whether that count is proven
    (the pair's optimal cost is within its kept levels). Under a facility count limit a pair without
    a proven cap first keeps ``first_levels`` levels (default: ``FIRST_LEVELS_PER_MEDIAN`` × options
    / ``max_facilities``, at least ``MIN_FIRST_LEVELS``); otherwise all of them."""
    count = levels.count
    caps = proven_caps(problem, index)
    cap = caps[levels.pair]
    within = np.bincount(levels.pair, weights=levels.cost <= cap + 1e-12 * np.abs(cap),
                         minlength=index.n_pairs).astype(int)
    proven = np.isfinite(caps) & (within < count)
    keep = np.where(proven, np.maximum(within, 1), count)
    limited = problem.max_facilities is not None and problem.max_facilities > 0
    if first_levels is None and limited:
        first_levels = max(MIN_FIRST_LEVELS,
                           math.ceil(FIRST_LEVELS_PER_MEDIAN * problem.n_options / problem.max_facilities))
    if first_levels is not None:
        keep = np.where(proven, keep, np.minimum(count, max(int(first_levels), 1)))
    return keep, proven


# the model ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RadiusModel:
    """A radius model as a :class:`LinearForm`: columns ``y`` (O,) then ``z`` (one per kept level);
    ``kept`` are the kept levels, ``relaxed`` the positions among them of top levels whose pair has
    more levels left out (their cost is a relaxation)."""

    form: LinearForm
    kept: np.ndarray
    relaxed: np.ndarray
    n_options: int

    def z_values(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(values[self.n_options :])


def build_radius_model(
    problem: Problem, index: ModelIndex, levels: Levels, keep: np.ndarray, proven: np.ndarray, form: str = "chain"
) -> RadiusModel:
    """The radius model keeping the first ``keep[d]`` levels of each pair (see the module docstring);
    a pair's top kept level must be covered where ``proven`` or where it is the last and the pair
    has no penalty."""
    if form not in FORMS:
        raise ValueError(f"radius form {form!r}; use one of {', '.join(FORMS)}")
    rank = levels.rank
    kept = np.flatnonzero(rank < keep[levels.pair])
    kept_pair, kept_rank = levels.pair[kept], rank[kept]
    top = kept_rank == keep[kept_pair] - 1
    complete = keep[kept_pair] == levels.count[kept_pair]
    hard = top & ((complete & ~np.isfinite(index.pair_penalty[kept_pair])) | (~complete & proven[kept_pair]))
    relaxed = np.flatnonzero(top & ~complete & ~proven[kept_pair])
    n_options = problem.n_options
    z_cost = np.where(hard, 0.0, index.pair_demand[kept_pair] * (levels.next_cost[kept] - levels.cost[kept]))
    families = [_level_rows(problem, levels, kept, kept_rank, form, n_options), *_open_set_rows(problem, index)]
    cost = np.concatenate([fixed_cost(problem), z_cost])
    col_upper = np.concatenate([np.ones(n_options), np.where(hard, 0.0, 1.0)])
    col_lower = np.concatenate([problem.forced.astype(float), np.zeros(len(kept))])
    integer = np.concatenate([np.ones(n_options, dtype=bool), np.zeros(len(kept), dtype=bool)])
    linear = _stacked(families, len(cost), cost, col_lower, col_upper, integer, _offset(problem, index, levels))
    return RadiusModel(linear, kept, relaxed, n_options)


def _level_rows(problem: Problem, levels: Levels, kept, kept_rank, form: str, n_options: int) -> RowFamily:
    r"""One row per kept level: :math:`z_{dk} [- z_{d,k-1}] + \sum y \ge 1 [0]` (chain) or
    :math:`z_{dk} + \sum_{c_a \le D_{dk}} y \ge 1` (cover)."""
    n_rows = len(kept)
    row_of_level = np.full(len(levels.pair), -1)
    row_of_level[kept] = np.arange(n_rows)
    arcs = np.flatnonzero(levels.arc_level >= 0)
    arcs = arcs[row_of_level[levels.arc_level[arcs]] >= 0]
    arc_row = row_of_level[levels.arc_level[arcs]]
    z = n_options + np.arange(n_rows)
    if form == "chain":
        chained = np.flatnonzero(kept_rank > 0)
        row = np.concatenate([np.arange(n_rows), chained, arc_row])
        col = np.concatenate([z, z[chained - 1], problem.arc_option[arcs]])
        val = np.concatenate([np.ones(n_rows), -np.ones(len(chained)), np.ones(len(arcs))])
        return RowFamily(form, n_rows, row, col, val, (kept_rank == 0).astype(float), np.full(n_rows, np.inf))
    pair_of_row = levels.pair[kept]
    ends = np.flatnonzero(np.append(pair_of_row[1:] != pair_of_row[:-1], True))
    last_row = np.repeat(ends, np.diff(np.concatenate([[-1], ends])))  # the last row of each row's pair
    repeats = last_row[arc_row] - arc_row + 1
    offsets = np.arange(repeats.sum()) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    row = np.concatenate([np.arange(n_rows), np.repeat(arc_row, repeats) + offsets])
    col = np.concatenate([z, np.repeat(problem.arc_option[arcs], repeats)])
    return RowFamily(form, n_rows, row, col, np.ones(len(row)), np.ones(n_rows), np.full(n_rows, np.inf))


def _open_set_rows(problem: Problem, index: ModelIndex) -> list[RowFamily]:
    """The constraints on the open set alone, as ``planner.model.arrays`` states them (``y`` are its
    first O columns there too)."""
    cols = Columns.of(problem, index)
    return [*rows_one_type_per_site(problem, index, cols), *rows_facility_counts(problem, index, cols),
            *rows_capex_budget(problem, index, cols)]


def _offset(problem: Problem, index: ModelIndex, levels: Levels) -> float:
    """Constant cost: each pair's cheapest level, or its penalty where it has no level (raises
    :class:`InfeasibleError` for a pair that must be served and has no arc)."""
    count = levels.count
    stranded = np.flatnonzero((count == 0) & ~np.isfinite(index.pair_penalty))
    if len(stranded):
        region, product = index.pair_region[stranded[0]], index.pair_product[stranded[0]]
        raise InfeasibleError(
            f"region '{problem.region_ids[region]}', product '{problem.product_ids[product]}': must be served but "
            f"no facility option reaches it ({len(stranded)} such pairs); add an option or a finite unmet penalty"
        )
    first = levels.cost[levels.start[:-1][count > 0]]
    served = index.pair_demand[count > 0] @ first
    return float(served + index.pair_demand[count == 0] @ index.pair_penalty[count == 0])


def _stacked(families, n_columns, cost, col_lower, col_upper, integer, offset) -> LinearForm:
    """The families (empty ones left out) stacked into one :class:`LinearForm`."""
    families = [f for f in families if f.n_rows > 0]
    starts = np.cumsum([0] + [f.n_rows for f in families])
    matrix = sparse.csr_array(
        (np.concatenate([np.broadcast_to(f.val, f.row.shape) for f in families]),
         (np.concatenate([f.row + s for f, s in zip(families, starts, strict=False)]),
          np.concatenate([f.col for f in families]))),
        shape=(int(starts[-1]), n_columns),
    )
    return LinearForm(
        matrix=matrix,
        row_lower=np.concatenate([np.broadcast_to(f.lower, (f.n_rows,)) for f in families]).astype(float),
        row_upper=np.concatenate([np.broadcast_to(f.upper, (f.n_rows,)) for f in families]).astype(float),
        col_lower=col_lower, col_upper=col_upper, integer=integer, cost=cost, offset=offset,
    )


# open sets ------------------------------------------------------------------------------------------------
def cheapest_open_arcs(problem: Problem, index: ModelIndex, is_open: np.ndarray) -> np.ndarray:
    """(D,) the cheapest arc of each pair whose option is open and whose cost is below the pair's
    penalty, −1 where there is none (ties: the lowest arc position)."""
    cost, pair = problem.arc_unit_cost, index.arc_pair
    usable = np.flatnonzero(np.asarray(is_open, bool)[problem.arc_option] & (cost < index.pair_penalty[pair]))
    order = usable[np.lexsort((usable, cost[usable], pair[usable]))]
    first = np.ones(len(order), dtype=bool)
    first[1:] = pair[order][1:] != pair[order][:-1]
    best = np.full(index.n_pairs, -1)
    best[pair[order[first]]] = order[first]
    return best


def open_set_cost(problem: Problem, index: ModelIndex, is_open: np.ndarray) -> float:
    """Total cost (currency/yr) of an open set with every pair served by its cheapest open arc, or
    left unmet at its penalty where that is cheaper; inf where a pair that must be served is not."""
    best = cheapest_open_arcs(problem, index, is_open)
    unit = np.where(best >= 0, problem.arc_unit_cost[np.maximum(best, 0)], index.pair_penalty)
    return float(fixed_cost(problem) @ np.asarray(is_open, float) + index.pair_demand @ unit)


def solution_from_open(problem: Problem, index: ModelIndex, is_open: np.ndarray) -> Solution:
    """The full :class:`Solution` of an open set for a problem :func:`applies` to: each pair wholly on
    its cheapest open arc, or unmet where its penalty is cheaper (or no open arc reaches it)."""
    best = cheapest_open_arcs(problem, index, is_open)
    served = best[best >= 0]
    assign = np.zeros(problem.n_arcs)
    assign[served] = 1.0
    if ((best < 0) & ~np.isfinite(index.pair_penalty)).any():
        raise UnexplainedInfeasibleError("the open set leaves a pair that must be served without an open option")
    unmet = (best < 0).astype(float)[index.unmet_pairs]
    return Solution.from_columns(problem, index, np.asarray(is_open, float), [], assign, unmet, [])


def start_values(problem: Problem, levels: Levels, model: RadiusModel, is_open: np.ndarray) -> np.ndarray:
    """The column vector of ``model`` for an open set (a MIP start): ``z`` = 1 below the pair's
    cheapest open level."""
    open_arcs = np.flatnonzero(np.asarray(is_open, bool)[problem.arc_option] & (levels.arc_level >= 0))
    covered_from = np.full(len(levels.start) - 1, np.iinfo(np.int64).max)
    np.minimum.at(covered_from, levels.pair[levels.arc_level[open_arcs]], levels.rank[levels.arc_level[open_arcs]])
    z = (levels.rank[model.kept] < covered_from[levels.pair[model.kept]]).astype(float)
    return np.concatenate([np.asarray(is_open, float), z])


# the solve -------------------------------------------------------------------------------------------------
@dataclass
class _Rounds:
    """What the rounds of relaxations found so far: the best open set, its cost, the best bound and
    the summed HiGHS times."""

    best_open: np.ndarray | None = None
    best_cost: float = np.inf
    bound: float = -np.inf
    solve_s: float = 0.0
    handover_s: float = 0.0
    nodes: int = 0
    rounds: int = 0
    last: SolveReport | None = None

    def note(self, report: SolveReport, is_open: np.ndarray, cost: float) -> None:
        self.rounds += 1
        self.last = report
        self.solve_s += report.solve_s
        self.handover_s += report.handover_s
        self.nodes += report.nodes or 0
        if report.best_bound is not None:
            self.bound = max(self.bound, report.best_bound)
        if cost < self.best_cost:
            self.best_open, self.best_cost = is_open, cost


def solve_radius(
    problem: Problem,
    options: SolverOptions | None = None,
    index: ModelIndex | None = None,
    start: Solution | None = None,
    form: str = "chain",
    first_levels: int | None = None,
) -> tuple[SolveReport, Solution]:
    """Solve a problem :func:`applies` to with the radius model (see the module docstring): the
    report (status, recomputed objective, valid bound, gap) and the full :class:`Solution`.
    ``form``: ``chain`` or ``cover`` rows; ``first_levels``: see :func:`first_keep`."""
    options = options or SolverOptions()
    if not applies(problem):
        raise ValueError(f"{problem.name}: the radius formulation does not apply (see planner.solver.radius.applies)")
    index = index or ModelIndex.from_problem(problem)
    started = time.perf_counter()
    levels = pair_levels(problem, index)
    keep, proven = first_keep(problem, index, levels, first_levels)
    rounds = _Rounds(best_open=None if start is None else np.asarray(start.open))
    if start is not None:
        rounds.best_cost = open_set_cost(problem, index, start.open)
    converged = False
    while not converged and rounds.rounds < MAX_ROUNDS:
        left = None if options.time_limit_s is None else options.time_limit_s - (time.perf_counter() - started)
        if left is not None and left <= 0:
            break
        model = build_radius_model(problem, index, levels, keep, proven, form)
        vector = None if rounds.best_open is None else start_values(problem, levels, model, rounds.best_open)
        try:
            report, values = run_highs(model.form, dataclasses.replace(options, time_limit_s=left), start=vector)
        except SolverError:  # no solution in the time left: the best open set so far stands
            if rounds.best_open is None:
                raise
            break
        is_open = np.round(values[: problem.n_options]).astype(int)
        rounds.note(report, is_open, open_set_cost(problem, index, is_open))
        short = _uncovered_pairs(levels, model, values)
        converged = not len(short)
        keep = _extended(problem, index, levels, keep, short, is_open)
        logger.info("radius round %d: %d levels kept, %d pairs extended", rounds.rounds, len(model.kept), len(short))
    return _final_report(rounds, converged, options), solution_from_open(problem, index, rounds.best_open)


def _uncovered_pairs(levels: Levels, model: RadiusModel, values: np.ndarray) -> np.ndarray:
    """Pairs whose relaxed top level the solution leaves uncovered (their cost there is underestimated)."""
    z = model.z_values(values)
    return levels.pair[model.kept[model.relaxed[z[model.relaxed] > COVERED]]]


def _extended(problem, index, levels: Levels, keep: np.ndarray, short: np.ndarray, is_open) -> np.ndarray:
    """``keep`` with the ``short`` pairs at least doubled and reaching their cheapest level in ``is_open``."""
    if not len(short):
        return keep
    best = cheapest_open_arcs(problem, index, is_open)[short]
    needed = np.where(best >= 0, levels.rank[levels.arc_level[np.maximum(best, 0)]] + 1, levels.count[short])
    keep = keep.copy()
    keep[short] = np.minimum(levels.count[short], np.maximum(2 * keep[short], needed))
    return keep


def _final_report(rounds: _Rounds, converged: bool, options: SolverOptions) -> SolveReport:
    """One report for all rounds: HiGHS's last status where the rounds converged (otherwise
    ``time_limit``, or ``limit`` when ``MAX_ROUNDS`` ran out), the best open set's recomputed cost, the
    best bound, the summed times."""
    if rounds.best_open is None or not math.isfinite(rounds.best_cost):
        raise UnexplainedInfeasibleError(
            "the radius model found no open set that serves every pair that must be served")
    last = rounds.last
    status = last.status if converged and last is not None else Status.TIME_LIMIT
    if not converged and rounds.rounds >= MAX_ROUNDS and last is not None and last.status is Status.OPTIMAL:
        status = Status.OTHER_LIMIT  # the rounds ran out, not the time
    termination = last.termination if last is not None else "time limit before the first round"
    bound = rounds.bound if math.isfinite(rounds.bound) else None
    if bound is not None:
        bound = min(bound, rounds.best_cost)
    gap = relative_gap(rounds.best_cost, bound)
    if status is Status.OPTIMAL and (gap is None or gap > OPTIMAL_GAP):
        status = Status.GAP_LIMIT
    solver = f"{last.solver if last is not None else 'HiGHS'} (radius formulation, {rounds.rounds} rounds)"
    return SolveReport.of(status, termination, rounds.best_cost, bound, options.mip_gap, solver,
                          solve_s=rounds.solve_s, nodes=rounds.nodes, handover_s=rounds.handover_s)


def radius_lp_bound(problem: Problem, index: ModelIndex | None = None, form: str = "chain") -> float:
    """The LP relaxation bound (currency/yr) of the radius model with every level (proven caps
    applied): a valid lower bound, at least the classical formulation's for ``chain``."""
    index = index or ModelIndex.from_problem(problem)
    levels = pair_levels(problem, index)
    keep, proven = first_keep(problem, index, levels)
    keep = np.where(proven, keep, levels.count)
    model = build_radius_model(problem, index, levels, keep, proven, form)
    relaxed = dataclasses.replace(model.form, integer=np.zeros(len(model.form.cost), dtype=bool))
    report, _ = run_highs(relaxed, SolverOptions(quiet=True, progress_s=None))
    return float(report.objective)
