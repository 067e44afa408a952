"""The frozen numeric instance the model is built from: ids, demand, options, sparse arcs.

No geometry and no files: the geographic path (``planner.inputs.prepare``) and the benchmark readers
(``planner.formats``) both produce a :class:`Problem`, so the benchmarks test the planner's model.

Index sets (all 0-based integer positions into the id arrays):

* ``R`` regions, ``P`` products, ``K`` facility types, ``S`` candidate sites.
* ``O`` facility *options*: the (site, type) pairs allowed to open.
* ``D`` demand pairs (region, product) with demand > 0.
* ``A`` arcs (option, demand pair) that can carry product: the type makes the product, the distance
  is within every radius, and the unit cost is below the unmet penalty.

Units: demand and capacity in units/yr, money in currency (per yr where annual), distance in km,
emissions in t CO2. Scenarios and periods wrap a Problem rather than change it
(``planner.studies.stochastic``): demand gains leading axes there, (N, R, P) per scenario or
(N, T, R, P) per scenario and period, over the options and arcs of the Problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from planner.errors import InfeasibleError, InputError

# per-option and per-arc arrays (the index sets O and A), for checks and subsets
OPTION_FIELDS = (
    "option_site",
    "option_type",
    "opening_cost",
    "module_cost",
    "module_capacity",
    "min_modules",
    "max_modules",
    "capex",
    "capex_per_module",
    "forced",
    "setup_cost",
)
ARC_FIELDS = (
    "arc_option",
    "arc_region",
    "arc_product",
    "arc_distance_km",
    "arc_production_cost",
    "arc_transport_cost",
    "arc_co2_t",
    "arc_minutes",
    "arc_demand_factor",
    "arc_price",
)


@dataclass(frozen=True)
class Supply:
    r"""Inbound supply (``--suppliers``): materials M, suppliers J (each offers one material), and
    inbound arcs B (supplier, option) along which material w_b (units of material/yr) may flow.

    A unit of product p needs ``bom[p, m]`` units of material m; at every option and material the
    inbound flow equals what its production needs; a supplier ships at most its capacity; an inbound
    arc with a fixed cost per supply relationship is paid when it carries anything."""

    material_ids: tuple[str, ...]  # (M,)
    bom: np.ndarray  # (P, M) units of material per unit of product
    supplier_ids: np.ndarray  # (J,) str
    supplier_material: np.ndarray  # (J,) int into M
    supplier_capacity: np.ndarray  # (J,) units of material/yr; inf = unlimited
    supplier_cost: np.ndarray  # (J,) currency per unit of material (purchase)
    supplier_lon: np.ndarray  # (J,) degrees, for outputs
    supplier_lat: np.ndarray  # (J,)
    in_supplier: np.ndarray  # (B,) int into J
    in_option: np.ndarray  # (B,) int into O
    in_distance_km: np.ndarray  # (B,) road km
    in_transport_cost: np.ndarray  # (B,) currency per unit of material
    in_co2_t: np.ndarray  # (B,) t CO2 per unit of material
    in_fixed_cost: np.ndarray  # (B,) currency/yr for the supply relationship (0 = none)
    source: str = "the suppliers file"  # where the suppliers were read, for messages

    @property
    def n_inbound(self) -> int:
        return len(self.in_supplier)

    @property
    def in_material(self) -> np.ndarray:
        return self.supplier_material[self.in_supplier]

    def in_unit_cost(self, carbon_price: float) -> np.ndarray:
        """(B,) currency per unit of material: purchase + transport + carbon price × CO2."""
        return self.supplier_cost[self.in_supplier] + self.in_transport_cost + carbon_price * self.in_co2_t

    def restricted(self, position: np.ndarray) -> Supply:
        """The supply with options renumbered by ``position`` (−1: option dropped, and its arcs)."""
        keep = position[self.in_option] >= 0
        fields = {name: getattr(self, name)[keep] for name in INBOUND_FIELDS}
        fields["in_option"] = position[self.in_option[keep]]
        import dataclasses

        return dataclasses.replace(self, **fields)


INBOUND_FIELDS = ("in_supplier", "in_option", "in_distance_km", "in_transport_cost", "in_co2_t", "in_fixed_cost")


@dataclass(frozen=True)
class Problem:
    """A facility-location instance as arrays; see the module docstring for the index sets."""

    name: str
    region_ids: np.ndarray  # (R,) str
    product_ids: tuple[str, ...]  # (P,)
    type_ids: tuple[str, ...]  # (K,)
    site_ids: np.ndarray  # (S,) str
    demand: np.ndarray  # (R, P) units/yr
    unmet_penalty: np.ndarray  # (P,) currency/unit; inf = demand must be served
    max_distance_km: np.ndarray  # (P,) delivery radius; inf = none
    # options O
    option_site: np.ndarray  # (O,) int into S
    option_type: np.ndarray  # (O,) int into K
    opening_cost: np.ndarray  # (O,) currency/yr, 0 where the site exists (sunk)
    module_cost: np.ndarray  # (O,) currency/yr per module
    module_capacity: np.ndarray  # (O,) units/yr per module; inf = uncapacitated
    min_modules: np.ndarray  # (O,) int
    max_modules: np.ndarray  # (O,) int
    capex: np.ndarray  # (O,) currency, one-off, for the budget
    capex_per_module: np.ndarray  # (O,) currency per module
    forced: np.ndarray  # (O,) bool: must open (forced or existing)
    # arcs A
    arc_option: np.ndarray  # (A,) int into O
    arc_region: np.ndarray  # (A,) int into R
    arc_product: np.ndarray  # (A,) int into P
    arc_distance_km: np.ndarray  # (A,)
    arc_production_cost: np.ndarray  # (A,) currency/unit
    arc_transport_cost: np.ndarray  # (A,) currency/unit
    arc_co2_t: np.ndarray  # (A,) t CO2/unit, production + transport
    carbon_price: float = 0.0  # currency/t CO2
    single_sourcing: bool = False
    capex_budget: float = np.inf
    type_min_count: np.ndarray = field(default=None)  # (K,) int
    type_max_count: np.ndarray = field(default=None)  # (K,) int; a large number = no limit
    min_facilities: int = 0
    max_facilities: int | None = None
    currency: str = "USD"
    site_lon: np.ndarray | None = None  # (S,) degrees, for outputs only
    site_lat: np.ndarray | None = None
    region_lon: np.ndarray | None = None  # (R,) demand point, degrees, for outputs only
    region_lat: np.ndarray | None = None
    setup_cost: np.ndarray | None = None  # (O, P) currency/yr if option o makes product p at all
    co2_cap_t: float = np.inf  # t CO2/yr the whole network may emit (production + transport)
    max_unmet: np.ndarray | None = None  # (P,) units/yr of each product that may go unserved; inf = no limit
    arc_minutes: np.ndarray | None = None  # (A,) delivery minutes (the OD matrix's column); NaN = not known
    # proximity (local premium): arc a captures arc_demand_factor[a] × its pair's demand when it serves
    # it in full, and earns arc_price[a] per unit delivered (currency/unit; the objective subtracts it)
    arc_demand_factor: np.ndarray | None = None  # (A,) share of the base demand captured; default 1
    arc_price: np.ndarray | None = None  # (A,) currency/unit; default 0
    # service level per product (see ``arc_within_service``): at least service_share[p] of product p's
    # demand is served on arcs within service_km[p] km and service_minutes[p] minutes
    service_share: np.ndarray | None = None  # (P,) fraction; 0 = no service level
    service_km: np.ndarray | None = None  # (P,) km; inf = no distance limit
    service_minutes: np.ndarray | None = None  # (P,) minutes; inf = no time limit
    # the classic location objectives (planner.inputs.objectives): "cost" (default), "p_median",
    # "p_center", "max_covering", "set_covering"; the problem's costs are then the kind's measure
    supply: Supply | None = None  # inbound supply of materials; None = none (the model as without suppliers)
    objective_kind: str = "cost"
    objective_p: int | None = None  # facilities to open (p_median: exactly; p_center, max_covering: at most)
    coverage_km: float = np.inf  # max_covering / set_covering: a region is covered within this (road km)
    coverage_minutes: float = np.inf  # ... and within this time (the OD matrix's minutes)
    count_limit_source: str | None = None  # what set max_facilities where no model-file key did (a format's p)

    def __post_init__(self) -> None:
        if self.setup_cost is None:
            object.__setattr__(self, "setup_cost", np.zeros((len(self.option_site), len(self.product_ids))))
        n_products = len(self.product_ids)
        defaults = {"max_unmet": np.full(n_products, np.inf), "service_share": np.zeros(n_products),
                    "service_km": np.full(n_products, np.inf), "service_minutes": np.full(n_products, np.inf),
                    "arc_minutes": np.full(len(self.arc_option), np.nan),
                    "arc_demand_factor": np.ones(len(self.arc_option)), "arc_price": np.zeros(len(self.arc_option))}
        for name, value in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        n_types = len(self.type_ids)
        if self.type_min_count is None:
            object.__setattr__(self, "type_min_count", np.zeros(n_types, dtype=int))
        if self.type_max_count is None:  # no limit: one type per site opens at most every site (or the minimum)
            object.__setattr__(self, "type_max_count",
                               np.maximum(len(self.site_ids), np.asarray(self.type_min_count, dtype=int)))
        self._check_shapes()
        self._check_counts()
        self._check_demand_factors()

    def _check_shapes(self) -> None:
        """Every per-region, per-option and per-arc array has the length of its index set."""
        n_regions, n_products = len(self.region_ids), len(self.product_ids)
        expected = {"demand": (n_regions, n_products), "setup_cost": (len(self.option_site), n_products)}
        for name in ("unmet_penalty", "max_distance_km", "max_unmet", "service_share", "service_km", "service_minutes"):
            expected[name] = (n_products,)
        for name in OPTION_FIELDS[1:]:
            expected.setdefault(name, (len(self.option_site),))
        for name in ARC_FIELDS[1:]:
            expected[name] = (len(self.arc_option),)
        for name in ("type_min_count", "type_max_count"):
            expected[name] = (len(self.type_ids),)
        for name, shape in expected.items():
            actual = np.shape(getattr(self, name))
            if actual != shape:
                raise ValueError(f"Problem.{name} has shape {actual}, expected {shape}")

    def _check_counts(self) -> None:
        """The facility counts are counts and their lower limits are not above their upper ones: the builders
        had met ``min_facilities`` 3 beside ``max_facilities`` 1 with a Pyomo error, and the solver with an
        explanation of demand that must be served."""
        counts = {"min_facilities": self.min_facilities, "max_facilities": self.max_facilities}
        for name, value in counts.items():
            if value is not None and not _is_count(value):
                raise InputError(f"Problem.{name} is {value!r}; give a whole number ≥ 0")
        for name in ("type_min_count", "type_max_count"):
            values = np.asarray(getattr(self, name))
            if values.dtype.kind not in "iuf" or (values < 0).any() or (values != np.floor(values)).any():
                raise InputError(f"Problem.{name} is {values.tolist()}; give a whole number ≥ 0 per facility type")
        if self.max_facilities is not None and self.min_facilities > self.max_facilities:
            raise InputError(f"Problem.min_facilities ({self.min_facilities}) > Problem.max_facilities "
                             f"({self.max_facilities}); lower min_facilities or raise max_facilities")
        above = np.flatnonzero(np.asarray(self.type_min_count) > np.asarray(self.type_max_count))
        if len(above):
            k = int(above[0])
            candidates = int(np.count_nonzero(np.asarray(self.option_type) == k))
            if self.type_max_count[k] >= candidates:  # the maximum binds nothing: the minimum is above the options
                raise InfeasibleError(f"facility type '{self.type_ids[k]}': min_count {self.type_min_count[k]} but "
                                      f"only {candidates} candidate sites; lower min_count or add candidates")
            raise InputError(f"facility type '{self.type_ids[k]}': Problem.type_min_count ({self.type_min_count[k]}) "
                             f"> Problem.type_max_count ({self.type_max_count[k]}); lower the minimum or raise the "
                             "maximum")

    def _check_demand_factors(self) -> None:
        """Every arc's demand factor is finite and above 0: an arc of factor 0 delivers nothing yet would count
        its pair served (a pair that must be served had been "served" by it and the audit had crashed); the
        model files never make one (``planner.inputs.prepare`` drops a band of factor 0)."""
        factor = np.asarray(self.arc_demand_factor, dtype=float)
        bad = np.flatnonzero(~(np.isfinite(factor) & (factor > 0)))
        if not len(bad):
            return
        a = int(bad[0])
        arc = (f"arc {a}: site '{self.site_ids[self.option_site[self.arc_option[a]]]}' to region "
               f"'{self.region_ids[self.arc_region[a]]}', product '{self.product_ids[self.arc_product[a]]}', "
               f"factor {factor[a]:g}")
        must = np.isinf(np.asarray(self.unmet_penalty)[self.arc_product[bad]]).any()
        raise InputError(f"Problem.arc_demand_factor is not a number above 0 on {len(bad)} arcs ({arc}): such an arc "
                         f"delivers nothing yet would count its {'must-serve ' if must else ''}demand served; give a "
                         "factor > 0, or leave the arc out")

    # sizes -----------------------------------------------------------------------------------------
    @property
    def n_regions(self) -> int:
        return len(self.region_ids)

    @property
    def n_products(self) -> int:
        return len(self.product_ids)

    @property
    def n_options(self) -> int:
        return len(self.option_site)

    @property
    def n_arcs(self) -> int:
        return len(self.arc_option)

    # derived arrays ---------------------------------------------------------------------------------
    @property
    def arc_unit_cost(self) -> np.ndarray:
        """Cost per unit shipped on each arc: production + transport + carbon price × CO2 − price."""
        return self.arc_production_cost + self.arc_transport_cost + self.carbon_price * self.arc_co2_t - self.arc_price

    @property
    def has_proximity(self) -> bool:
        """Whether demand factors or prices depend on the serving arc (``planner.inputs.config.ProximityConfig``)."""
        return bool((self.arc_demand_factor != 1).any() or (self.arc_price != 0).any())

    @property
    def arc_demand(self) -> np.ndarray:
        """Units/yr arc a delivers when it serves its (region, product) pair in full: the pair's demand
        × the arc's demand factor."""
        return self.demand[self.arc_region, self.arc_product] * self.arc_demand_factor

    @property
    def arc_pair(self) -> np.ndarray:
        """Demand-pair index ``region * P + product`` of each arc."""
        return self.arc_region * self.n_products + self.arc_product

    @property
    def n_inbound(self) -> int:
        """Inbound arcs (supplier, option) of the supply; 0 without suppliers."""
        return 0 if self.supply is None else self.supply.n_inbound

    @property
    def serviced_products(self) -> np.ndarray:
        """Positions of the products with a service level (``service_share`` > 0)."""
        return np.flatnonzero(self.service_share > 0)

    @property
    def arc_within_service(self) -> np.ndarray:
        """(A,) bool: the arc delivers within its product's service distance and time (an unknown
        time, NaN, is never within a finite time limit)."""
        return within_limits(self.arc_distance_km, self.arc_minutes, self.service_km[self.arc_product],
                             self.service_minutes[self.arc_product])

    @property
    def has_lower_counts(self) -> bool:
        """Whether some facility count has a lower limit (``min_facilities`` or a type's ``min_count``)."""
        return self.min_facilities > 0 or bool((self.type_min_count > 0).any())

    @property
    def has_upper_counts(self) -> bool:
        """Whether some facility count has an upper limit that binds: ``max_facilities`` below the
        number of options, or a type's ``max_count`` below its number of options."""
        n_per_type = np.bincount(self.option_type, minlength=len(self.type_ids))
        total = self.max_facilities is not None and self.max_facilities < self.n_options
        return total or bool((self.type_max_count < n_per_type).any())

    @property
    def fixed_cost_at_min_modules(self) -> np.ndarray:
        """(O,) currency/yr an open option costs with its fewest modules: opening + module cost × min_modules."""
        return self.opening_cost + self.module_cost * self.min_modules

    @property
    def option_capacity_max(self) -> np.ndarray:
        """Largest capacity (units/yr) each option can have."""
        return self.module_capacity * self.max_modules

    def summary(self) -> dict[str, int]:
        """Instance size as reported in summary.json."""
        return {
            "regions": self.n_regions,
            "products": self.n_products,
            "sites": len(self.site_ids),
            "options": self.n_options,
            "demand_pairs": int(np.count_nonzero(self.demand > 0)),
            "arcs": self.n_arcs,
        }


def _is_count(value) -> bool:
    """Whether ``value`` is a whole number ≥ 0 (not a bool)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        and float(value).is_integer() and value >= 0


CAPEX_ROUNDING = 1e-12  # relative: a capex sum over the budget by this much is float rounding (sums are exact else)


def capex_excess(spend: float, budget: float) -> float:
    """How far ``spend`` is over ``budget`` beyond float rounding (0 within it, or without a budget): 4,000 JPY
    over 4.47e12 (9e-10) had been taken for rounding, and so had 9e-10 over a budget of 0.0045."""
    if not np.isfinite(budget):
        return 0.0
    over = spend - budget
    return over if over > CAPEX_ROUNDING * max(abs(budget), abs(spend)) else 0.0


BUDGET_ROW_LARGEST = 1e9  # the budget row's largest coefficient or bound after its scale (budget_row_scale)


def budget_row_scale(problem: Problem) -> float:
    """What the capex budget row is divided by in every model: the largest power of two at most the smallest
    positive capex (or capex per module), so the division is exact and the smallest step of the row is at least
    1. Unscaled, HiGHS's absolute tolerances met rows of 4.8e12 JPY (it refused its own optimum as one float
    step, 1e-3 JPY, over); divided by the budget, a module of 1.5e5 JPY under a budget of 2e12 weighed 7.5e-8,
    below HiGHS's tolerance, and its presolve called a budget met exactly infeasible."""
    steps = np.concatenate([problem.capex, problem.capex_per_module])
    steps = steps[np.isfinite(steps) & (steps > 0)]
    if not len(steps):
        return 1.0
    largest = max(float(steps.max()), abs(float(problem.capex_budget)) if np.isfinite(problem.capex_budget) else 0.0)
    # but no coefficient or budget above BUDGET_ROW_LARGEST after it (a capex of 1e-6 beside 2e9 had made 2.1e15,
    # beyond HiGHS's limits, and the model "Empty")
    return float(max(2.0 ** np.floor(np.log2(steps.min())), 2.0 ** np.ceil(np.log2(largest / BUDGET_ROW_LARGEST))))


def within_limits(km, minutes, km_limit, minutes_limit) -> np.ndarray:
    """Bool per delivery of ``km`` road km and ``minutes`` (NaN: unknown): within ``km_limit`` and
    ``minutes_limit`` (scalars or per delivery; inf: no limit). An unknown time is never within a
    finite time limit."""
    with np.errstate(invalid="ignore"):
        minutes_ok = np.isinf(minutes_limit) | (np.asarray(minutes, dtype=float) <= minutes_limit)
    return (np.asarray(km, dtype=float) <= km_limit) & minutes_ok


def restrict_options(problem: Problem, options: np.ndarray) -> tuple[Problem, np.ndarray]:
    """``problem`` with only the facility options at positions ``options`` (sorted, or a boolean
    mask) and their arcs; also the positions of the kept arcs in the original arc order."""
    import dataclasses

    options = np.flatnonzero(options) if np.asarray(options).dtype == bool else np.asarray(options)
    position = np.full(problem.n_options, -1)
    position[options] = np.arange(len(options))
    arcs = np.flatnonzero(position[problem.arc_option] >= 0)
    per_option = {name: getattr(problem, name)[options] for name in OPTION_FIELDS}
    per_arc = {name: getattr(problem, name)[arcs] for name in ARC_FIELDS[1:]}
    supply = problem.supply.restricted(position) if problem.supply is not None else None
    restricted = dataclasses.replace(problem, arc_option=position[problem.arc_option[arcs]], supply=supply,
                                     **per_option, **per_arc)
    return restricted, arcs
