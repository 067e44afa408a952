r"""Lagrangian relaxation of the network model: a lower bound, a primal heuristic and exact fixing
of facility options, all in numpy, before HiGHS sees the model.

Relaxing the demand balance :math:`\sum_{a \to d} x_a + u_d = 1` with multipliers :math:`\lambda_d`
and the service levels :math:`\sum_{a \in W_p} q_{d(a)} x_a \ge n_p` (``define_service_level``:
:math:`W_p` the arcs of product p within its service limit, :math:`n_p` units/yr its need) with
multipliers :math:`\mu_p \ge 0` (currency per unit), and dropping the coupling constraints (one
type per site, integrality of single sourcing — which can only lower the bound; facility-count limits
and the capex budget, on each option's least capex, stay in the option choice, :class:`CapacityCover`,
except that the budget is dropped too beside count limits or the covering knapsack), splits the model
into one problem per option. With the reduced cost of an arc

.. math::

    r_a = c_a q_a - \lambda_{d(a)} - \mu_{p(a)} q_a [a \in W_{p(a)}]

.. math::

    v_o(\lambda, \mu) = \min_{m \in [\underline m_o, \overline m_o]} F_o + M_o m
        + \min \{ \textstyle\sum_{a \in o} r_a x_a :
          \sum_{a \in o} q_a x_a \le C_o m,\ 0 \le x \le 1 \}

a continuous knapsack solved greedily by reduced cost per unit. The bound is

.. math::

    L(\lambda, \mu) = \sum_d \lambda_d + \sum_p \mu_p n_p
               + \sum_{d: \pi_d < \infty} \min(0, \pi_d q_d - \lambda_d)
               + \sum_{o\ \text{forced}} v_o + \sum_{o\ \text{free}} \min(0, v_o)

(unmet demand does not count towards a service level, so :math:`u_d` carries no :math:`\mu`), valid
for every :math:`\lambda` and every :math:`\mu \ge 0`. Both are improved by projected subgradient
steps: :math:`g_d = 1 - \sum_{a \to d} x_a - u_d`, :math:`g_p = n_p - \sum_{a \in W_p} q_a x_a`, and
:math:`\mu` clipped at 0 after each step. The steps are taken on :math:`\nu_p = \mu_p s_p`
(currency/yr), :math:`s_p = n_p / \sqrt{N_p}` with :math:`N_p` the number of product p's demand
pairs, whose subgradient is :math:`g_p / s_p`: a service row short by a share f of its need then
weighs :math:`f \sqrt{N_p}` in the step's norm, as much as its :math:`N_p` balance rows each short
by f. Unscaled (:math:`\mu` per unit against :math:`g_p` in units/yr) the service row swamps the norm
and the :math:`\lambda` barely move (on the bundled hybrid model with a service level the bound
stalled far below the LP relaxation). A CO2 cap :math:`\sum_a e_a q_a x_a \le E` is one more such row
with :math:`\mu_E \ge 0` (:class:`SideRows`): :math:`r_a` gains :math:`+\mu_E e_a q_a` and L gains
:math:`-\mu_E E`. The multiplier vector is :math:`(\lambda, \nu)`.

**Fixing** (exact, given an incumbent of cost :math:`U`, at any :math:`\lambda` and :math:`\mu \ge 0`):
a free option closed in the relaxed solution (:math:`v_o \ge 0`) is at least :math:`L + v_o` in
any solution that opens it, so if :math:`L + v_o > U` it is closed in every
solution better than the incumbent; symmetrically an open one (:math:`v_o < 0`) is fixed open if
:math:`L - v_o > U`. The solver then proves optimality on the reduced model, starting from the
incumbent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from planner.interrupt import stop_requested
from planner.model.arrays import service_need
from planner.model.index import ModelIndex
from planner.problem import Problem
from planner.solver.outcome import within_gap

logger = logging.getLogger(__name__)

FIXING_MARGIN = 1e-7  # relative safety margin on L + v_o > U against rounding
CO2_PRICE_STEPS = np.arange(-12, 5)  # co2_priced_start: trial prices reference × 2^k, and 0
MAX_COVER_FIXING_OPTIONS = 2000  # one knapsack per option beyond this is too slow; fall back
MAX_BUDGET_FIXING_OPTIONS = 300  # the same for the budget's knapsack (one per option and fixing round)
MAX_BUDGET_TABLE = 2_000_000  # items × budget steps of the budget's knapsack (one per subgradient step)


@dataclass(frozen=True)
class LagrangianResult:
    """Best bound, its multipliers and option values (fixing is :func:`fixable_options`)."""

    bound: float
    multipliers: np.ndarray  # (D + side rows,): λ, then ν for the service levels and the CO2 cap (SideRows)
    option_value: np.ndarray  # (O,) v_o at the best multipliers
    chosen: np.ndarray  # (O,) bool: the options the relaxation opens at the best multipliers
    iterations: int
    seconds: float


def fixable_options(
    problem: Problem,
    bound: float,
    option_value: np.ndarray,
    upper_bound: float | None,
    cover: CapacityCover | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Options closed (resp. open) in every solution cheaper than ``upper_bound``: the relaxation
    with the option flipped is above it (without the capacity cover: L + |v_o| > U)."""
    fix_closed = np.zeros(problem.n_options, dtype=bool)
    fix_open = np.zeros(problem.n_options, dtype=bool)
    if upper_bound is None or not np.isfinite(bound):
        return fix_closed, fix_open
    limit = upper_bound + FIXING_MARGIN * max(abs(upper_bound), 1.0)
    free = ~problem.forced
    exact = cover is not None and (cover.active or cover.counted or cover.budgeted)
    most = MAX_BUDGET_FIXING_OPTIONS if cover is not None and cover.budgeted else MAX_COVER_FIXING_OPTIONS
    if not exact or problem.n_options > most:
        # L − v_o bounds the option closed only where no other option can take its place (no upper
        # count limit, no budget); L + v_o bounds it open only where no option with v ≥ 0 can be in the
        # choice or let it drop dearer ones (no lower count limit, no covering knapsack)
        if not problem.has_lower_counts and not (cover is not None and cover.active):
            fix_closed = free & (option_value >= 0) & (bound + option_value > limit)
        if not (problem.has_upper_counts or problem.has_lower_counts or (cover is not None and cover.budgeted)):
            fix_open = free & (option_value < 0) & (bound - option_value > limit)
        return fix_closed, fix_open
    base_value, chosen = cover.choose(option_value)
    rest = bound - base_value  # the bound without the option choice
    for option in np.flatnonzero(free).tolist():
        if chosen[option]:
            flipped, _ = cover.choose(option_value, force_out=option)
            fix_open[option] = rest + flipped > limit
        else:
            flipped, _ = cover.choose(option_value, force_in=option)
            fix_closed[option] = rest + flipped > limit
    return fix_closed, fix_open


class CapacityCover:
    r"""The option choice of the relaxation with the valid aggregate capacity constraint
    :math:`\sum_o C_o \underline m_o y_o \ge \sum_d q_d` (all demand must be served, module counts
    fixed): a min-cost covering knapsack, solved exactly by dynamic programming over capacity in
    units of the capacities' greatest common divisor. Without it (some demand may go unmet, module
    counts vary, or the table would be too large) the choice is simply every option with
    :math:`v_o < 0`.

    With limits on facility counts (``counted``: between :math:`l_k` and :math:`u_k` options of type
    k, between :math:`P_l` and :math:`P_u` in all) the choice is :math:`\min \sum_o v_o y_o` over
    the sets within them (:func:`counted_choice`). With the forced options contracted, the least
    :math:`\sum v` of type k with n options, :math:`f_k(n)`, sums its n best values and is convex in
    n, so the separable problem :math:`\min \sum_k f_k(n_k)` with :math:`l_k \le n_k \le u_k`,
    :math:`P_l \le \sum_k n_k \le P_u` is solved greedily by marginal value: each type's
    :math:`l_k` best, then the best other options by value while their type and the total have room,
    those with :math:`v_o < 0` and more up to :math:`P_l`. (With upper limits alone: a laminar
    matroid.) The covering knapsack is not combined with the limits (it is off then: a weaker, still
    valid bound). A capex budget B (``budgeted``; not beside the limits or the covering knapsack, where
    it is dropped) makes the choice a 0-1 knapsack: :math:`\min \sum_o v_o y_o` over the options with
    :math:`v_o < 0` such that :math:`\sum_o k_o y_o \le B - \sum_{o\ \text{forced}} k_o`, with
    :math:`k_o` = capex + capex per module × fewest modules (:func:`budget_knapsack`)."""

    MAX_TABLE = 20_000_000  # options × capacity steps

    def __init__(self, problem: Problem, index: ModelIndex) -> None:
        self.problem = problem
        capacity = problem.module_capacity * problem.min_modules
        self.capacity = capacity
        self.need = float(index.pair_must_serve.sum())  # all must be served when active (× smallest factor)
        self.active = bool(
            problem.n_options
            and not np.isfinite(index.pair_penalty).any()
            and np.isfinite(capacity).all()
            and (problem.min_modules == problem.max_modules).all()
            and bool((capacity == np.round(capacity)).all())  # whole numbers: rounding would misstate them
            and (capacity > 0).all()
        )
        self.counted = problem.has_upper_counts or problem.has_lower_counts
        self.active = self.active and not self.counted
        self.spend = problem.capex + problem.capex_per_module * problem.min_modules  # an option's least capex
        self.budgeted = bool(np.isfinite(problem.capex_budget) and (self.spend > 0).any()
                             and not self.counted and not self.active)
        if self.active:
            self.step = float(np.gcd.reduce(np.round(capacity).astype(np.int64)))
            self.units = np.round(capacity / self.step).astype(np.int64)
            self.active = problem.n_options * self.need / self.step <= self.MAX_TABLE

    def choose(self, values: np.ndarray, force_in: int | None = None, force_out: int | None = None):
        """(Σ v over the chosen free options, chosen mask); forced options are always in."""
        problem = self.problem
        fixed_in = problem.forced.copy()
        if force_in is not None:
            fixed_in[force_in] = True
        allowed = np.ones(problem.n_options, dtype=bool)
        if force_out is not None:
            allowed[force_out] = False
        if self.budgeted:
            return self._within_budget(values, fixed_in, allowed)
        chosen = (fixed_in | (values < 0)) & allowed
        if self.counted:
            chosen = counted_choice(problem, values, fixed_in, allowed)
            if chosen is None:
                return np.inf, fixed_in
        total = float(values[chosen & ~problem.forced].sum())
        if not self.active:
            return total, chosen
        deficit = self.need - float(self.capacity[chosen].sum())
        if deficit <= 1e-9 * max(self.need, 1.0):
            return total, chosen
        items = np.flatnonzero(allowed & ~chosen)
        steps = int(np.ceil(deficit / self.step - 1e-9))
        table, taken = cover_table(values, items, self.units, steps)
        if not np.isfinite(table[steps]):
            return np.inf, chosen
        chosen[cover_items(items, taken, self.units, steps)] = True
        return total + float(table[steps]), chosen

    def _within_budget(self, values: np.ndarray, fixed_in: np.ndarray, allowed: np.ndarray):
        """:meth:`choose` under the capex budget: ``fixed_in`` and the allowed options with v_o < 0
        whose least capex (at their fewest modules) fits what ``fixed_in`` leaves of the budget, the
        most negative Σ v (:func:`budget_knapsack`)."""
        problem = self.problem
        chosen = fixed_in.copy()
        room = problem.capex_budget - float(self.spend[fixed_in].sum())
        if room < -1e-9 * max(problem.capex_budget, 1.0):
            return np.inf, chosen
        items = np.flatnonzero(allowed & ~fixed_in & (values < 0))
        chosen[items[self.spend[items] <= 0]] = True  # no capex: always worth it
        items = items[self.spend[items] > 0]
        total = float(values[chosen & ~problem.forced].sum())
        if float(self.spend[items].sum()) <= room:
            chosen[items] = True
            return total + float(values[items].sum()), chosen
        gain, picked = budget_knapsack(-values[items], self.spend[items], max(room, 0.0))
        chosen[items[picked]] = True
        return total - gain, chosen


def budget_knapsack(gain: np.ndarray, weight: np.ndarray, room: float) -> tuple[float, np.ndarray]:
    """max Σ gain_i z_i s.t. Σ weight_i z_i ≤ room, z binary (gain, weight > 0): (the optimum, or where
    the table would be too large or the weights are not whole numbers the LP bound, which is at least
    the optimum; the items chosen). Exact by dynamic programming over the budget in units of the
    weights' greatest common divisor, items in order; else greedy by gain per weight, the first item
    that does not fit taken fractionally in the bound and left out of the choice."""
    room = max(room, 0.0)
    if not len(gain):
        return 0.0, np.zeros(0, dtype=bool)
    whole = bool((weight == np.round(weight)).all()) and np.isfinite(room)  # exactly: rounding up breaks it
    if whole:
        step = float(np.gcd.reduce(np.round(weight).astype(np.int64)))
        length = int(np.floor(room / step + 1e-9))
        whole = len(weight) * (length + 1) <= MAX_BUDGET_TABLE
    if not whole:
        order = np.argsort(-gain / weight, kind="stable")
        fits = np.cumsum(weight[order]) <= room * (1 + 1e-12)
        picked = np.zeros(len(gain), dtype=bool)
        picked[order[fits]] = True
        bound = float(gain[picked].sum())
        rest = order[~fits]
        if len(rest):
            bound += gain[rest[0]] * max(room - float(weight[picked].sum()), 0.0) / weight[rest[0]]
        return bound, picked
    units = np.round(weight / step).astype(np.int64)
    table = np.zeros(length + 1)
    taken = np.zeros((len(gain), length + 1), dtype=bool)
    for item in range(len(gain)):
        if units[item] > length:  # does not fit alone
            continue
        candidate = np.full(length + 1, -np.inf)
        candidate[units[item]:] = table[: length + 1 - units[item]] + gain[item]
        taken[item] = candidate > table
        table = np.maximum(table, candidate)
    picked = np.zeros(len(gain), dtype=bool)
    left = length
    for item in range(len(gain) - 1, -1, -1):
        if taken[item, left]:
            picked[item] = True
            left -= int(units[item])
    return float(table[length]), picked


def counted_choice(problem: Problem, values: np.ndarray, fixed_in: np.ndarray, allowed: np.ndarray):
    """The least-value choice within the facility-count limits (see :class:`CapacityCover`): ``fixed_in``,
    then each type's best allowed options up to its ``min_count``, then the best other allowed options
    by value that fit (those with v_o < 0, and more while the total is below ``min_facilities``);
    None where no choice keeps within the limits."""
    n_types = len(problem.type_ids)
    fixed_per_type = np.bincount(problem.option_type[fixed_in], minlength=n_types)
    type_room = problem.type_max_count - fixed_per_type
    type_need = np.maximum(problem.type_min_count - fixed_per_type, 0)
    total_room = (problem.n_options if problem.max_facilities is None else problem.max_facilities) - int(fixed_in.sum())
    total_need = problem.min_facilities - int(fixed_in.sum())
    if total_room < 0 or (type_room < 0).any() or type_need.sum() > total_room:
        return None
    candidates = np.flatnonzero(allowed & ~fixed_in)
    candidates = candidates[np.argsort(values[candidates], kind="stable")]
    of_type = problem.option_type[candidates]
    by_type = np.argsort(of_type, kind="stable")  # by type, each type's candidates still by value
    rank = np.empty(len(candidates), dtype=int)
    rank[by_type] = np.arange(len(candidates)) - np.searchsorted(of_type[by_type], of_type[by_type])
    needed = rank < type_need[of_type]
    if (np.bincount(of_type[needed], minlength=n_types) < type_need).any():
        return None
    rest = candidates[~needed & (rank < type_room[of_type])]  # by value
    taken = int(needed.sum())
    more = min(max(int((values[rest] < 0).sum()), total_need - taken), total_room - taken)
    if taken + more < total_need:
        return None
    chosen = fixed_in.copy()
    chosen[candidates[needed]] = True
    chosen[rest[:more]] = True
    return chosen


def cover_table(values: np.ndarray, items: np.ndarray, units: np.ndarray, length: int):
    """(cost[k], taken[i, k]) for k = 0 … length: the least Σ v over ``items`` holding at least k
    capacity steps (``units`` per option), and whether item i is in that choice (dynamic programming,
    items in order)."""
    table = np.full(length + 1, np.inf)
    table[0] = 0.0
    positions = np.arange(length + 1)
    taken = np.zeros((len(items), length + 1), dtype=bool)
    for row, item in enumerate(items.tolist()):
        candidate = table[np.maximum(positions - units[item], 0)] + values[item]
        taken[row] = candidate < table
        table = np.where(taken[row], candidate, table)
    return table, taken


def cover_items(items: np.ndarray, taken: np.ndarray, units: np.ndarray, k: int) -> np.ndarray:
    """The items of :func:`cover_table`'s choice for ``k`` steps (read back from ``taken``)."""
    picked = []
    for row in range(len(items) - 1, -1, -1):
        if taken[row, k]:
            picked.append(items[row])
            k = max(0, k - int(units[items[row]]))
    return np.array(picked, dtype=int)


def _option_ratio_key(option: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """One float key that sorts by option, then by ratio (``ratio`` squashed into [0, 0.999)): one
    argsort instead of a two-key lexsort. Ratios closer than about 1e-12 of their range may swap
    places, which moves a knapsack value by far less than ``FIXING_MARGIN``."""
    if len(ratio) == 0:
        return option.astype(float)
    low, high = float(ratio.min()), float(ratio.max())
    return option + (ratio - low) * (0.999 / max(high - low, 1e-300))


@dataclass(frozen=True)
class _Runs:
    """The attractive arcs of one evaluation, grouped by option (see :meth:`_Relaxation._runs`)."""

    order: np.ndarray  # the arcs (positions in ``_Relaxation.by_option``), by option and then by reduced cost per unit
    option_of: np.ndarray  # their options
    q: np.ndarray  # their quantities q_a
    r: np.ndarray  # their reduced costs c_a q_a − λ_d(a)
    cum_q: np.ndarray  # running sums of q over all runs
    cum_r: np.ndarray  # and of r
    starts: np.ndarray  # (O,) where each option's run starts in ``order``
    ends: np.ndarray  # (O,) and ends (exclusive)
    base_q: np.ndarray  # (O,) cum_q before each option's run
    base_r: np.ndarray  # (O,) cum_r before it
    total_r: np.ndarray  # (O,) the sum of r over each option's run


@dataclass(frozen=True)
class SideRows:
    r"""The rows relaxed with multipliers :math:`\mu \ge 0` besides the balance: the service levels
    (see the module doc): per product with one, its need :math:`n_p` and scale :math:`s_p` (units/yr),
    and for each arc the service row it counts in; then, where the model caps CO2, the cap
    :math:`\sum_a e_a q_a x_a \le E` as the row :math:`-\sum_a e_a q_a x_a \ge -E` (its
    :math:`\mu_E` in currency per t CO2: an arc's reduced cost rises by :math:`\mu_E e_a q_a`, the
    bound falls by :math:`\mu_E E`), scaled by :math:`E / \sqrt{D}`."""

    need: np.ndarray  # (P_s,) n_p, units/yr
    scale: np.ndarray  # (P_s,) s_p = n_p / √N_p, units/yr: ν_p = μ_p s_p
    arc_row: np.ndarray  # (A,) position in the rows of the arc's product if a ∈ W_p, else -1
    arc_quantity: np.ndarray  # (A,) q_d(a), units/yr: the base demand (a demand factor scales deliveries only)
    arc_co2: np.ndarray | None = None  # (A,) e_a q_a, t CO2/yr at x_a = 1; None without a cap
    co2_cap: float = np.inf  # E, t CO2/yr
    co2_scale: float = 1.0  # E / √D, t CO2/yr

    @classmethod
    def of(cls, problem: Problem, index: ModelIndex) -> SideRows:
        serviced = problem.serviced_products
        row = np.full(problem.n_products, -1)
        row[serviced] = np.arange(len(serviced))
        arc_row = np.where(problem.arc_within_service, row[problem.arc_product], -1)
        need = service_need(problem, index)[serviced] if len(serviced) else np.zeros(0)
        pairs = np.bincount(index.pair_product, minlength=problem.n_products)[serviced]
        scale = np.maximum(need / np.sqrt(np.maximum(pairs, 1)), 1e-9)
        if not np.isfinite(problem.co2_cap_t):
            return cls(need, scale, arc_row, index.arc_base_demand)
        cap = float(problem.co2_cap_t)
        return cls(need, scale, arc_row, index.arc_base_demand, problem.arc_co2_t * index.arc_demand, cap,
                   max(cap / np.sqrt(max(index.n_pairs, 1)), 1e-9))

    @property
    def n_service(self) -> int:
        return len(self.need)

    @property
    def n_rows(self) -> int:
        return len(self.need) + (self.arc_co2 is not None)

    @property
    def scales(self) -> np.ndarray:
        """(n_rows,) each row's scale: ν = μ × scale."""
        return self.scale if self.arc_co2 is None else np.append(self.scale, self.co2_scale)

    def arc_price(self, nu: np.ndarray) -> np.ndarray | float:
        """(A,) what the rows take off each arc's reduced cost: μ_p(a) q_a on the arcs of W_p, minus
        μ_E e_a q_a under a CO2 cap (currency/yr)."""
        if not self.n_rows:
            return 0.0
        per_unit = np.concatenate([nu[: self.n_service] / self.scale, [0.0]])
        price = per_unit[self.arc_row] * self.arc_quantity
        if self.arc_co2 is not None:
            price = price - (nu[-1] / self.co2_scale) * self.arc_co2
        return price

    def value(self, nu: np.ndarray) -> float:
        """Σ_p μ_p n_p − μ_E E (currency/yr)."""
        if not self.n_rows:
            return 0.0
        rhs = self.need if self.arc_co2 is None else np.append(self.need, -self.co2_cap)
        return float((nu / self.scales) @ rhs)

    def subgradient(self, arcs: np.ndarray, x: np.ndarray) -> np.ndarray:
        """(n_p − Σ_{a ∈ W_p} q_a x_a) / s_p per service row, then (Σ_a e_a q_a x_a − E) / (E / √D),
        from the arcs with x_a > 0 and their x_a."""
        if not self.n_rows:
            return np.zeros(0)
        rows = self.arc_row[arcs]
        counted = rows >= 0
        served = np.bincount(rows[counted], weights=self.arc_quantity[arcs][counted] * x[counted],
                             minlength=self.n_service)
        gradient = (self.need - served) / self.scale
        if self.arc_co2 is not None:
            emitted = float(self.arc_co2[arcs] @ x)
            gradient = np.append(gradient, (emitted - self.co2_cap) / self.co2_scale)
        return gradient


class _Relaxation:
    """Evaluates L(λ) and a subgradient; the arc order by option is computed once."""

    def __init__(self, problem: Problem, index: ModelIndex) -> None:
        self.problem = problem
        self.index = index
        self.arc_weight = problem.arc_unit_cost * index.arc_demand  # c_a q_a
        self.arc_quantity = index.arc_demand
        self.unmet_weight = np.where(np.isfinite(index.pair_penalty), index.pair_penalty * index.pair_demand, np.inf)
        self.module_choices = [
            np.arange(problem.min_modules[o], problem.max_modules[o] + 1) for o in range(problem.n_options)
        ]
        query_option = np.concatenate([np.full(len(m), o) for o, m in enumerate(self.module_choices)])
        self.query_option = query_option.astype(int)
        self.query_modules = np.concatenate(self.module_choices).astype(float)
        self.query_capacity = problem.module_capacity[self.query_option] * self.query_modules
        self.cover = CapacityCover(problem, index)
        self.side = SideRows.of(problem, index)
        # the arcs grouped by option once (``by_option``: position → arc), so that each evaluation
        # reads its per-arc arrays nearly in sequence (the gathers took 20 of 110 ms per evaluation
        # on the national model in the arcs' own order)
        self.by_option = np.argsort(problem.arc_option, kind="stable")
        self.grouped_option = problem.arc_option[self.by_option]
        self.grouped_weight = self.arc_weight[self.by_option]
        self.grouped_quantity = self.arc_quantity[self.by_option]
        self.grouped_pair = index.arc_pair[self.by_option]
        self.ranked = np.arange(problem.n_arcs)  # the positions in the last evaluation's sort order

    @property
    def n_multipliers(self) -> int:
        """D balance multipliers λ, then one ν per service level."""
        return self.index.n_pairs + self.side.n_rows

    def multipliers_of(self, balance: np.ndarray, service: np.ndarray | None = None) -> np.ndarray:
        """The multiplier vector (λ, ν) from λ and the side rows' μ: the service levels' (currency per
        unit), then the CO2 cap's (currency per t CO2) where there is one; 0 if None or not given."""
        mu = np.zeros(self.side.n_rows)
        if service is not None:
            mu[: len(service)] = np.maximum(service, 0.0)
        return np.concatenate([balance, mu * self.side.scales])

    def project(self, multipliers: np.ndarray) -> np.ndarray:
        """ν clipped at 0 (λ is free)."""
        multipliers[self.index.n_pairs :] = np.maximum(multipliers[self.index.n_pairs :], 0.0)
        return multipliers

    def evaluate(self, multipliers: np.ndarray):
        """L(λ, ν), the (projected) subgradient, v_o and the relaxed open decisions."""
        balance, nu = multipliers[: self.index.n_pairs], multipliers[self.index.n_pairs :]
        reduced = self.grouped_weight - balance[self.grouped_pair]
        if self.side.n_rows:
            reduced -= self.side.arc_price(nu)[self.by_option]
        runs = self._runs(reduced)
        values = self._query_values(runs)
        best_value, best_query = self._best_per_option(values)
        choice_value, opened = self.cover.choose(best_value)
        arcs, shares = self._relaxed_flows(runs, best_query, opened)
        served = np.bincount(self.index.arc_pair[arcs], weights=shares, minlength=self.index.n_pairs)
        unmet_gain = self.unmet_weight - balance
        unmet = (unmet_gain < 0).astype(float)
        bound = (
            balance.sum()
            + self.side.value(nu)
            + np.minimum(unmet_gain, 0.0)[np.isfinite(self.unmet_weight)].sum()
            + best_value[self.problem.forced].sum()
            + choice_value
        )
        service_gradient = self.side.subgradient(arcs, shares)
        service_gradient[(nu <= 0) & (service_gradient < 0)] = 0.0  # ν = 0 cannot go lower
        return float(bound), np.concatenate([1.0 - served - unmet, service_gradient]), best_value, opened

    def _runs(self, reduced: np.ndarray) -> _Runs:
        """The attractive arcs (c_a q_a − λ_d(a) < 0) by option, cheapest per unit first, with their
        running sums (``reduced`` and the runs' ``order`` in the grouped positions of ``by_option``)."""
        problem = self.problem
        # every arc by option, then by reduced cost per unit (unattractive ones last, as ties at 0);
        # sorted from the previous evaluation's order, which a subgradient step barely changes, so
        # the stable sort (timsort) runs in near-linear time
        key = _option_ratio_key(self.grouped_option, np.minimum(reduced, 0.0) / self.grouped_quantity)
        ranked = self.ranked[np.argsort(key[self.ranked], kind="stable")]
        self.ranked = ranked
        order = ranked[(reduced < 0)[ranked]]
        option_of = self.grouped_option[order]
        q = self.grouped_quantity[order]
        r = reduced[order]
        cum_q = np.cumsum(q)
        cum_r = np.cumsum(r)
        starts = np.searchsorted(option_of, np.arange(problem.n_options))
        ends = np.searchsorted(option_of, np.arange(problem.n_options), side="right")
        base_q = np.where(starts > 0, cum_q[np.maximum(starts - 1, 0)], 0.0) if len(q) else np.zeros(problem.n_options)
        base_r = np.where(starts > 0, cum_r[np.maximum(starts - 1, 0)], 0.0) if len(q) else np.zeros(problem.n_options)
        total_r = np.where(ends > starts, (cum_r[np.maximum(ends - 1, 0)] if len(q) else 0.0) - base_r, 0.0)
        return _Runs(order, option_of, q, r, cum_q, cum_r, starts, ends, base_q, base_r, total_r)

    def _query_values(self, runs: _Runs) -> np.ndarray:
        """F_o + M_o m + the continuous knapsack's value, for each (option, modules) query."""
        problem, qo = self.problem, self.query_option
        if len(runs.q):
            target = runs.base_q[qo] + self.query_capacity
            position = np.searchsorted(runs.cum_q, target, side="left")
            position = np.minimum(position, runs.ends[qo])
            full = position >= runs.ends[qo]
            safe = np.minimum(position, len(runs.q) - 1)
            before = position > runs.starts[qo]
            before_q = np.where(before, runs.cum_q[np.maximum(position - 1, 0)], runs.base_q[qo])
            before_r = np.where(before, runs.cum_r[np.maximum(position - 1, 0)], runs.base_r[qo]) - runs.base_r[qo]
            partial = before_r + runs.r[safe] * (target - before_q) / runs.q[safe]
            knapsack = np.where(full, runs.total_r[qo], partial)
        else:
            knapsack = np.zeros(len(qo))
        return problem.opening_cost[qo] + problem.module_cost[qo] * self.query_modules + knapsack

    def _best_per_option(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """v_o (the best query of each option) and that query; its module count is kept in
        ``best_modules``."""
        qo = self.query_option
        best_value = np.full(self.problem.n_options, np.inf)
        np.minimum.at(best_value, qo, values)
        is_best = values <= best_value[qo]
        best_query = np.full(self.problem.n_options, -1)
        best_query[qo[is_best][::-1]] = np.flatnonzero(is_best)[::-1]
        self.best_modules = self.query_modules[best_query].astype(int)
        return best_value, best_query

    def _relaxed_flows(self, runs: _Runs, best_query: np.ndarray, opened: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The arcs with x_a > 0 in the relaxed solution and their x_a: each opened option fills its
        best capacity with its arcs in order (the last one in part). Only the opened options' runs
        are read (on the national model a few dozen of 3,192 options)."""
        opened_options = np.flatnonzero(opened)
        lengths = runs.ends[opened_options] - runs.starts[opened_options]
        if not len(runs.q) or not lengths.sum():
            return np.zeros(0, dtype=int), np.zeros(0)
        first = np.cumsum(lengths) - lengths  # where each opened run starts among the positions
        positions = np.arange(lengths.sum()) + np.repeat(runs.starts[opened_options] - first, lengths)
        option_of, q = runs.option_of[positions], runs.q[positions]
        capacity_used = self.query_capacity[best_query[option_of]]
        offset_q = runs.cum_q[positions] - runs.base_q[option_of]  # cumulative within the option, inclusive
        share = np.clip((capacity_used - (offset_q - q)) / q, 0.0, 1.0)
        used = share > 0
        return self.by_option[runs.order[positions[used]]], share[used]

    def option_values(self, multipliers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """v_o(λ, ν) per option and the module count that attains it (``multipliers`` as
        :meth:`multipliers_of` gives them)."""
        _, _, values, _ = self.evaluate(multipliers)
        return values, self.best_modules


def initial_multipliers(
    problem: Problem, index: ModelIndex, relaxation: _Relaxation, side: np.ndarray | None = None
) -> np.ndarray:
    """Each pair priced at its cheapest all-in way of being served: the arc's unit cost plus its
    option's fixed cost per unit at full capacity (opening + every module, over the largest
    capacity), or its penalty if lower; the side rows' ν at ``side`` (default 0), whose prices enter
    the arcs' costs (a CO2 price raises them, a service level's lowers those within it). A starting
    point near the optimal multipliers when facilities run full, which saves many subgradient steps
    on large instances."""
    capacity = problem.option_capacity_max
    with np.errstate(invalid="ignore", divide="ignore"):
        per_unit = np.where(
            np.isfinite(capacity) & (capacity > 0),
            (problem.opening_cost + problem.module_cost * problem.max_modules) / capacity,
            0.0,
        )
    all_in = relaxation.arc_weight + per_unit[problem.arc_option] * relaxation.arc_quantity
    nu = np.zeros(relaxation.side.n_rows) if side is None else side
    if relaxation.side.n_rows:
        all_in = all_in - relaxation.side.arc_price(nu)
    cheapest = np.full(index.n_pairs, np.inf)
    np.minimum.at(cheapest, index.arc_pair, all_in)
    multipliers = np.minimum(cheapest, relaxation.unmet_weight)
    multipliers[~np.isfinite(multipliers)] = 0.0
    return np.concatenate([multipliers, nu])


def co2_priced_start(problem: Problem, index: ModelIndex, relaxation: _Relaxation) -> np.ndarray:
    """Starting multipliers under a CO2 cap: the all-in prices λ (:func:`initial_multipliers`) at the
    CO2 price μ_E of a geometric trial grid (``CO2_PRICE_STEPS`` around the price at which the median
    emitting arc's CO2 costs as much as its flow, and 0) whose L(λ(μ_E), μ_E) is highest; the service
    levels' ν at 0. Without it the steps raise μ_E slowly from 0 while λ lags behind: on the bundled
    counties with ``models/hybrid.toml`` and a 25,000 t cap, 400 steps reached 320.5 M from μ_E = 0 and
    333.2 M from this start, 2,000 steps aimed at 338 M 326.2 M and 333.9 M (the bound of a 500 s run:
    335.2 M)."""
    rows = relaxation.side
    emitting = rows.arc_co2 > 0
    if not emitting.any():
        return initial_multipliers(problem, index, relaxation)
    reference = float(np.median(relaxation.arc_weight[emitting] / rows.arc_co2[emitting]))
    best_bound, best = -np.inf, None
    for price in np.concatenate([[0.0], abs(reference) * 2.0 ** CO2_PRICE_STEPS]):
        side = np.zeros(rows.n_rows)
        side[-1] = price * rows.co2_scale
        multipliers = initial_multipliers(problem, index, relaxation, side)
        bound = relaxation.evaluate(multipliers)[0]
        if bound > best_bound:
            best_bound, best = bound, multipliers
    return best


def lagrangian_bound(
    problem: Problem,
    index: ModelIndex,
    upper_bound: float | None,
    max_iterations: int = 400,
    time_limit_s: float = 10.0,
    start: np.ndarray | None = None,
    current_upper_bound: Callable[[], float | None] | None = None,
    restart_when_stuck: bool = False,
    max_target_gap: float | None = None,
    stop_gap: float | None = None,
) -> LagrangianResult:
    """Subgradient optimisation of L(λ, ν); see the module doc. Polyak steps towards ``upper_bound``,
    or towards what ``current_upper_bound`` returns at each step where a heuristic improves it
    meanwhile, and at most ``max_target_gap`` (relative) above the best bound so far. The step
    scale halves after 20 steps without a better bound; once it is negligible the round ends, or
    with ``restart_when_stuck`` starts again from the best multipliers at full scale (the target
    may have moved since). The last two help on large models, where a round started from the
    previous round's best multipliers with a target far above them can find nothing better while
    a target nearer the bound still climbs. The round also ends once Ctrl-C or SIGTERM asked the run
    to stop (``planner.interrupt``; it may run in a worker thread), with the best bound so far, and
    once the best bound is within the relative ``stop_gap`` of the best upper bound known (the MIP
    gap: the bound has proven the incumbent)."""
    started = time.perf_counter()
    relaxation = _Relaxation(problem, index)
    if start is not None:
        multipliers = start.copy()
    elif relaxation.side.arc_co2 is not None:
        multipliers = co2_priced_start(problem, index, relaxation)
    else:
        multipliers = initial_multipliers(problem, index, relaxation)
    target = upper_bound
    best = (-np.inf, multipliers.copy(), None)
    step_scale, stall = 2.0, 0
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 (the count is reported)
        bound, subgradient, option_value, _ = relaxation.evaluate(multipliers)
        if bound > best[0] + 1e-9 * max(abs(bound), 1.0):
            best, stall = (bound, multipliers.copy(), option_value), 0
        else:
            stall += 1
            if stall >= 20:
                step_scale, stall = step_scale / 2, 0
        norm = float(subgradient @ subgradient)
        if restart_when_stuck and step_scale < 1e-6 and norm >= 1e-12:
            # the steps shrank to nothing without a better bound: start again from the best
            # multipliers at full length (the target may have moved meanwhile)
            multipliers, step_scale = best[1].copy(), 2.0
            continue
        if norm < 1e-12 or step_scale < 1e-6 or time.perf_counter() - started > time_limit_s or stop_requested():
            break
        if stop_gap is not None and _proven(best[0], upper_bound, current_upper_bound, stop_gap):
            break
        target, step_target = _polyak_target(target, bound, best[0], current_upper_bound, max_target_gap)
        multipliers = relaxation.project(multipliers + step_scale * (step_target - bound) / norm * subgradient)
    return _best_result(relaxation, best, iterations, started)


def _proven(best_bound: float, upper_bound: float | None, current_upper_bound, gap: float) -> bool:
    """The best upper bound known (the running one where given, else ``upper_bound``) is within the
    relative ``gap`` of ``best_bound``."""
    latest = current_upper_bound() if current_upper_bound is not None else None
    known = upper_bound if latest is None else latest if upper_bound is None else min(latest, upper_bound)
    return within_gap(known, best_bound, gap)


def _polyak_target(
    target: float | None,
    bound: float,
    best_bound: float,
    current_upper_bound: Callable[[], float | None] | None,
    max_target_gap: float | None,
) -> tuple[float, float]:
    """(the target kept for the next steps, the target of this step): the latest upper bound when
    ``current_upper_bound`` has one, else ``target``; 5 % above ``bound`` when there is none or it
    is not above it; this step's at most ``max_target_gap`` above ``best_bound``."""
    if current_upper_bound is not None:
        latest = current_upper_bound()
        target = target if latest is None else latest
    if target is None or target <= bound:
        target = bound + max(abs(bound), 1.0) * 0.05
    step_target = target
    if max_target_gap is not None:  # a poor incumbent would make every step far too long
        step_target = min(target, best_bound + max(abs(best_bound), 1.0) * max_target_gap)
    return target, step_target


def _best_result(relaxation: _Relaxation, best: tuple, iterations: int, started: float) -> LagrangianResult:
    """The result at the best multipliers ``best`` (bound, multipliers, option values or None)."""
    bound, multipliers, option_value = best
    if option_value is None:
        bound, _, option_value, _ = relaxation.evaluate(multipliers)
    _, chosen = relaxation.cover.choose(option_value)
    seconds = time.perf_counter() - started
    logger.info("Lagrangian bound %.10g after %d iterations (%.1fs)", bound, iterations, seconds)
    return LagrangianResult(bound, multipliers, option_value, chosen, iterations, seconds)
