"""The model-file schema (TOML): facility types, products, transport, carbon, candidates, solver.

Every field carries its unit in its name or description; unknown keys are rejected; relative paths
resolve against the folder of the model file. Defaults live here and nowhere else (a test keeps the
documented defaults in ``models/README.md`` in sync with this module).

Base units: products in *units*, time in *years* (all flows and costs are annual), distance in *km*,
money in the model's ``currency``, emissions entered in *kg CO2* per unit or unit-km and reported in
*t CO2*.
"""

from __future__ import annotations

import difflib
import json
import logging
import math
import os
import re
import sys
import tomllib
import types
import typing
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from planner.errors import InputError, has_control_characters, read_input_bytes, truncated

logger = logging.getLogger(__name__)

FOLDER_NAME_RULE = "must be a plain folder name (letters, digits, '-', '_', '.', spaces; not '.' or '..')"

# Every number of a model file is below MAX_NUMBER: HiGHS refuses matrix values from 1e15 on, and the
# screening (planner.inputs.screen.MAX_COST_TERM, the same number) refuses cost terms above it; below
# it no product of a few model values and data overflows a double.
MAX_NUMBER = 1e15
MAX_MODULES = 1_000_000  # modules of one facility
MAX_COUNT = 1_000_000_000  # any other whole number (counts of sites, regions, threads): more than any instance has
MAX_PERIODS = 1_000  # periods of a staged rollout
MAX_PERIOD_YEARS = 100.0  # years in one period (a plan's horizon is decades, not millennia)
MAX_CIRCUITY = 10.0  # road km per great-circle km; real road networks are 1.1–2


def _plain_number(value: Any) -> Any:
    """A TOML number only: a boolean is not 1 or 0 and a quoted "190" is not 190 (an integer stays
    valid for a decimal key, a whole float such as 4.0 for a whole-number key)."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    if isinstance(value, str):  # "1,2" or "500k" had been told to lose its quotes, which leaves invalid TOML
        written = value.strip()
        if re.fullmatch(r"[+-]?\d+,\d+", written):
            raise ValueError(f"must be a number, not a string: write it with '.' as the decimal mark and without "
                             f"quotes ({written.replace(',', '.')})")
        try:
            float(written)
        except ValueError:
            raise ValueError("must be a number, not a string: write the number alone, without quotes or units "
                             "(e.g. 500000 or 5e5; the unit is the key's, in models/README.md)") from None
        raise ValueError("must be a number, not a string: remove the quotes")
    return value


def _plain_bool(value: Any) -> Any:
    """A TOML boolean only: 0, 1, "no" or "false" are not read as true/false."""
    if not isinstance(value, bool):
        raise ValueError("must be true or false (without quotes)")
    return value


def _below_max_number(value: float) -> float:
    if value >= MAX_NUMBER:
        raise ValueError(f"must be below {MAX_NUMBER:.0e} (too large for the solver); use a larger unit "
                         "(e.g. thousands) or a smaller value, or leave out a limit")
    return value


Number = BeforeValidator(_plain_number)
BelowMax = AfterValidator(_below_max_number)
NonNegative = Annotated[float, Number, Field(ge=0, allow_inf_nan=False), BelowMax]  # omit a key for "no limit"
Positive = Annotated[float, Number, Field(gt=0, allow_inf_nan=False), BelowMax]
# σ of the log of a mean-one lognormal factor: at 3 the median draw is already 1.1 % of the mean (e^(−σ²/2)),
# and a σ of 40 (a percent typed for 0.4) had made every scenario's demand 0
def _file_path(value):
    """A file path key as written: an empty one (read as the current folder) and one with a NUL character
    (which no file system holds: an internal error where it was opened) refused here."""
    if isinstance(value, str) and not value.strip():
        raise ValueError("is empty; give the file's path (relative to the model file)")
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("has a NUL character, which no file name holds; give the file's path")
    return value


FilePath = Annotated[Path, BeforeValidator(_file_path)]
MAX_SIGMA = 3.0
Sigma = Annotated[float, Number, Field(ge=0, le=MAX_SIGMA, allow_inf_nan=False)]
# a factor on a demand (adoption per period, a proximity band's captured share): above this it is a percent
# typed for a fraction ([30, 70, 100] for [0.3, 0.7, 1.0]); 1e14 had passed
MAX_DEMAND_FACTOR = 10.0
Share = Annotated[float, Number, Field(gt=0, le=1)]  # a fraction above 0, at most 1
Count = Annotated[int, Number, Field(ge=0, le=MAX_COUNT)]
PositiveCount = Annotated[int, Number, Field(ge=1, le=MAX_COUNT)]
Modules = Annotated[int, Number, Field(ge=1, le=MAX_MODULES)]
Flag = Annotated[bool, BeforeValidator(_plain_bool)]


def is_folder_name(name: str) -> bool:
    """``name`` names a folder on any system: 1 to 100 characters, the first a letter or digit (of any
    script) or '_', the others letters with their combining marks, digits, '_', '-', '.' or spaces; so
    no path separator, control character, leading '-', '.' or space, never '.' or '..'."""
    if not 0 < len(name) <= 100 or not re.match(r"\w", name):
        return False
    return all(char.isalnum() or char in "_-. " or unicodedata.category(char).startswith("M") for char in name)


def not_blank(value: str | None) -> str | None:
    """A column, layer or CRS name as given; one that is empty or only spaces is refused (it had been read
    as no name at all: a product's ``demand_column = ""`` fell back to ``demand_rate`` in silence)."""
    if value is not None and not value.strip():
        raise ValueError("is empty: name a column (or layer, CRS) of the regions file, or leave the key out")
    return value


def check_demand_factors(values: list[float] | None, name: str = "") -> None:
    """Refuse a factor on a demand above ``MAX_DEMAND_FACTOR`` (``name``: the key, for the message)."""
    large = [v for v in values or () if v > MAX_DEMAND_FACTOR]
    if large:
        raise ValueError(f"{name}{large[0]:g} is more than {MAX_DEMAND_FACTOR:g} × the demand, the most a factor "
                         "may be; a percentage? give fractions (0.3 for 30 %)")



def nfc_keys(table):
    """A table's keys in Unicode NFC (material names: compared with the suppliers file's); anything else as it is."""
    if not isinstance(table, dict):
        return table
    return {unicodedata.normalize("NFC", key) if isinstance(key, str) else key: value for key, value in table.items()}

class _Strict(BaseModel):
    """Base schema: unknown keys are errors, values are validated on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RegionsConfig(_Strict):
    """Where the regional dataset is and which columns mean what. The keys other than ``path``
    describe that one file: a regions file given on the command line is read with the CLI flags, then
    with these column keys where it has columns of those names (``planner.inputs.regions``)."""

    path: FilePath | None = Field(
        None, description="regions or demand points: a vector file, or a CSV/Parquet table with coordinate "
        "columns (relative to the model file)"
    )
    layer: str | None = Field(
        None, description="layer inside a multi-layer file (GeoPackage), or sheet of an Excel workbook"
    )
    id_column: str | None = Field(
        None, description="unique region id; None: a column region_id, id, ... found in the file, else row numbers"
    )
    demand_column: str | None = Field(
        None, description="base demand quantity, e.g. population; None: a column demand, population, ... found"
    )
    name_column: str | None = Field(None, description="human-readable region name for maps")
    demand_point_columns: tuple[str, str] | None = Field(
        None,
        description="[lon, lat] columns (degrees, WGS84/NAD83) of a population-weighted centre; "
        "without them the demand point is a point guaranteed inside the polygon",
    )
    lon_column: str | None = Field(None, description="x/longitude column of a table of points (found if omitted)")
    lat_column: str | None = Field(None, description="y/latitude column of a table of points (found if omitted)")
    crs: str | None = Field(None, description="CRS of a table's coordinates, e.g. EPSG:3857 (default EPSG:4326)")

    @field_validator("layer", "id_column", "demand_column", "name_column", "lon_column", "lat_column", "crs")
    @classmethod
    def _named(cls, value: str | None) -> str | None:
        return not_blank(value)


class ServiceConfig(_Strict):
    """A service level: at least ``min_share_within`` of the product's demand is served from a facility
    within ``within_km`` (road km, as in flows.csv) and/or ``within_minutes`` (the OD matrix's
    ``minutes`` column). Unmet demand and deliveries from farther count against it."""

    min_share_within: Share = Field(
        description="share of the product's demand (fraction, 0.9 = 90 %) that must be served within the limit"
    )
    within_km: Positive | None = Field(None, description="service distance, km of road distance")
    within_minutes: Positive | None = Field(
        None, description="service time, minutes (needs an OD matrix with a 'minutes' column)"
    )

    @model_validator(mode="after")
    def _has_a_limit(self) -> ServiceConfig:
        if self.within_km is None and self.within_minutes is None:
            raise ValueError("give within_km or within_minutes (or both): the distance or time of the service level")
        return self


class ProximityConfig(_Strict):
    """Demand that rewards being close: by delivery band (``bands_km`` upper limits, ascending; one
    band more beyond the last), the share of the base demand captured when served from that band
    (``demand_factor``) and/or the price per unit (``price``, which makes the product earn revenue:
    its unserved demand then earns nothing instead of costing a penalty)."""

    bands_km: list[Positive] = Field(description="upper limits of the delivery bands, km, ascending")
    demand_factor: list[NonNegative] | None = Field(
        None, description="captured share of the base demand per band (one more than bands_km); None = all 1"
    )
    price: list[NonNegative] | None = Field(
        None, description="price per unit per band, currency/unit (one more than bands_km); None = no revenue"
    )

    @model_validator(mode="after")
    def _bands_fit(self) -> ProximityConfig:
        if not self.bands_km:
            raise ValueError("bands_km is empty: give at least one band limit, km")
        if any(b <= a for a, b in zip(self.bands_km, self.bands_km[1:], strict=False)):
            raise ValueError(f"bands_km must be strictly increasing (got {self.bands_km})")
        if self.demand_factor is None and self.price is None:
            raise ValueError("give demand_factor or price (or both), one value per band")
        for key in ("demand_factor", "price"):
            values = getattr(self, key)
            if values is not None and len(values) != len(self.bands_km) + 1:
                raise ValueError(f"{key} needs {len(self.bands_km) + 1} values (one per band, the last beyond "
                                 f"{self.bands_km[-1]:g} km), got {len(values)}")
        check_demand_factors(self.demand_factor, "demand_factor ")
        if self.price is None and self.demand_factor is not None and 0 in self.demand_factor:
            band = self.demand_factor.index(0)
            reach = (f"up to {self.bands_km[0]:g} km" if band == 0 else f"beyond {self.bands_km[-1]:g} km"
                     if band == len(self.bands_km) else f"{self.bands_km[band - 1]:g}–{self.bands_km[band]:g} km")
            raise ValueError(f"demand_factor is 0 for deliveries {reach}: without a price, serving a region from there "
                             "would count its demand served while delivering nothing (the unmet penalty is on the "
                             "base demand left unserved); give a positive factor, or end delivery at that band's "
                             "start with the product's max_distance_km")
        return self


class ProductConfig(_Strict):
    """A product: how its demand follows from the regions, and what not serving it costs."""

    demand_rate: NonNegative = Field(1.0, description="units/yr of this product per unit of the regions' demand column")
    demand_column: str | None = Field(
        None, description="a column holding this product's demand (units/yr); overrides demand_rate"
    )

    @field_validator("demand_column")
    @classmethod
    def _named(cls, value: str | None) -> str | None:
        return not_blank(value)
    unmet_penalty_per_unit: Positive | None = Field(
        None, description="currency/unit of demand left unserved; omit to require full service"
    )
    service: ServiceConfig | None = Field(None, description="a service level: share of demand within a distance/time")
    proximity: ProximityConfig | None = Field(
        None, description="demand or price by delivery distance band (local premium)"
    )
    materials: dict[str, NonNegative] = Field(
        default_factory=dict, description="bill of materials: units of each material per unit of product"
    )

    @field_validator("materials", mode="before")
    @classmethod
    def _materials_in_nfc(cls, materials):
        """Material names in Unicode NFC, as the suppliers file's are read (an 'Öl_l' typed decomposed matched none)."""
        return nfc_keys(materials)

    @model_validator(mode="after")
    def _price_or_penalty(self) -> ProductConfig:
        if self.proximity is not None and self.proximity.price is not None and self.unmet_penalty_per_unit is not None:
            raise ValueError("a product with proximity.price earns revenue and its unserved demand earns nothing: "
                             "remove unmet_penalty_per_unit")
        return self


class TransportConfig(_Strict):
    """Delivery of one product from a facility to a region's demand point."""

    cost_per_unit_km: NonNegative = Field(description="currency per unit per km")
    co2_kg_per_unit_km: NonNegative = Field(0.0, description="kg CO2 per unit per km")
    max_distance_km: Positive | None = Field(
        None, description="delivery radius (lead time), km of road distance; omit for none"
    )


class ProductionConfig(_Strict):
    """What making one unit of a product costs at a facility type."""

    cost_per_unit: NonNegative = Field(description="variable production cost, currency/unit")
    co2_kg_per_unit: NonNegative = Field(0.0, description="kg CO2 per unit produced")
    setup_cost_per_yr: NonNegative = Field(
        0.0,
        description="currency/yr paid at each facility of this type that makes the product at all "
        "(economies of scope: high at a mass-production plant, low at a flexible microfactory)",
    )


class CandidateRule(_Strict):
    """Which regions (or demand points) become candidate sites of a facility type when no sites file
    is given; the demand ranked is the regions' demand column.

    Filters, all that are given apply: ``min_demand`` (absolute), ``quantile`` (demand at least the
    q-quantile of the regions with demand), ``top_n`` (the N largest), ``top_share`` (the largest
    regions that together hold this share of all demand). Then ``kmeans = N`` keeps, of those, the
    ones nearest the centres of N demand-weighted k-means clusters of all demand points (spread over
    the map). ``min_candidates`` then adds the largest regions until there are at least that many
    (an absolute rule such as ``min_demand`` keeps candidates on a dataset of small regions). No keys:
    every region.
    """

    min_demand: NonNegative | None = Field(None, description="minimum of the regions' demand column")
    top_n: PositiveCount | None = Field(None, description="N largest regions by demand")
    top_share: Share | None = Field(
        None, description="the largest regions that together hold this share of the demand (fraction)"
    )
    quantile: Annotated[float, Number, Field(ge=0, le=1)] | None = Field(
        None, description="demand at least this quantile of the regions with demand (fraction, 0.9 = top 10%)"
    )
    kmeans: PositiveCount | None = Field(
        None, description="N sites spread over the demand: nearest each centre of N demand-weighted clusters"
    )
    min_candidates: PositiveCount | None = Field(
        None, description="at least this many candidates: where the rule admits fewer, the largest regions are added"
    )

class InboundConfig(_Strict):
    """How one material reaches one facility type from a supplier (full truckload to a central plant,
    less-than-truckload or parcel to a microfactory)."""

    cost_per_unit_km: NonNegative = Field(description="currency per unit of material per km")
    co2_kg_per_unit_km: NonNegative = Field(0.0, description="kg CO2 per unit of material per km")
    fixed_cost_per_supplier_per_yr: NonNegative = Field(
        0.0, description="currency/yr for each supply relationship (supplier, facility) in use"
    )


class FacilityTypeConfig(_Strict):
    """A facility type (a central plant size, a microfactory, ...)."""

    role: Literal["central", "microfactory", "other"] = Field(
        "other", description="what the type is, for 'planner compare' (central-only / micro-only variants)"
    )
    opening_cost_per_yr: NonNegative = Field(
        description="annualised investment + fixed operating cost of an open site, currency/yr"
    )
    module_cost_per_yr: NonNegative = Field(0.0, description="currency/yr per installed module")
    module_capacity_per_yr: Positive | None = Field(
        None, description="units/yr (all products together) per module; omit for uncapacitated"
    )
    min_modules: Modules = 1
    max_modules: Modules = 1
    capex: NonNegative = Field(0.0, description="one-off investment of an open site (budget), currency")
    capex_per_module: NonNegative = Field(0.0, description="one-off investment per module, currency")
    min_count: Count = Field(0, description="minimum number open of this type")
    max_count: Count | None = Field(None, description="maximum number open")
    max_delivery_km: Positive | None = Field(
        None, description="delivery radius of this type (e.g. local vans), km; omit for none"
    )
    products: dict[str, ProductionConfig] = Field(description="the products this type can make")
    candidates: CandidateRule = Field(default_factory=CandidateRule)
    inbound: dict[str, InboundConfig] = Field(
        default_factory=dict, description="per material: how it reaches this type from a supplier"
    )

    @field_validator("inbound", mode="before")
    @classmethod
    def _inbound_in_nfc(cls, inbound):
        return nfc_keys(inbound)

    @field_validator("max_modules")
    @classmethod
    def _full_size_below_max_number(cls, max_modules: int, info: ValidationInfo) -> int:
        """The largest capacity (units/yr) and module cost (currency/yr) of a site, module value ×
        max_modules, below MAX_NUMBER: the solver cannot take more."""
        for key, unit in (("module_capacity_per_yr", "units/yr"), ("module_cost_per_yr", "currency/yr")):
            per_module = info.data.get(key)
            if per_module is not None and per_module * max_modules >= MAX_NUMBER:
                raise ValueError(
                    f"{key} {per_module:.6g} × max_modules {max_modules} = {per_module * max_modules:.3g} {unit}, "
                    f"not below {MAX_NUMBER:.0e} (too large for the solver); use fewer, larger modules or a larger "
                    "unit (e.g. thousands)"
                )
        return max_modules

    @model_validator(mode="after")
    def _modules_ordered(self) -> FacilityTypeConfig:
        if self.max_modules < self.min_modules:
            raise ValueError(f"max_modules ({self.max_modules}) < min_modules ({self.min_modules})")
        if self.max_count is not None and self.max_count < self.min_count:
            raise ValueError(f"max_count ({self.max_count}) < min_count ({self.min_count}); raise max_count or lower "
                             "min_count")
        if not self.products:
            raise ValueError("products is empty: list at least one product this type makes")
        return self


class NetworkConfig(_Strict):
    """Network-wide constraints."""

    capex_budget: NonNegative | None = Field(None, description="total one-off investment, currency")
    single_sourcing: Flag = Field(False, description="each region gets each product from one site")
    min_facilities: Count = Field(0, description="minimum open sites")
    max_facilities: Count | None = Field(None, description="maximum open sites")
    max_co2_t_per_yr: NonNegative | None = Field(
        None, description="cap on the network's emissions (production + transport), t CO2/yr"
    )

    @model_validator(mode="after")
    def _counts_ordered(self) -> NetworkConfig:
        if self.max_facilities is not None and self.max_facilities < self.min_facilities:
            raise ValueError(f"max_facilities ({self.max_facilities}) < min_facilities ({self.min_facilities}); raise "
                             "max_facilities or lower min_facilities")
        return self


class DistanceConfig(_Strict):
    """How straight-line distances become road distances."""

    circuity: Annotated[float, Number, Field(ge=1.0, le=MAX_CIRCUITY, allow_inf_nan=False)] = Field(
        1.2, description=f"road km per great-circle km (typically 1.15–1.4; at most {MAX_CIRCUITY:g})"
    )


class SolverConfig(_Strict):
    """HiGHS options."""

    time_limit_s: Positive | None = Field(None, description="wall-clock limit of the solve, s")
    mip_gap: Annotated[float, Number, Field(ge=0, lt=1)] = Field(
        1e-4, description="relative gap at which HiGHS stops (its default 1e-4)"
    )
    threads: PositiveCount | None = Field(None, description="HiGHS threads")


class UncertaintyConfig(_Strict):
    """Demand uncertainty for ``planner solve --scenarios``: how scenarios are generated and how the
    two-stage stochastic model weighs them (``planner.inputs.scenarios``, ``planner.studies.stochastic``)."""

    acceptance_sigma: Sigma = Field(
        0.4,
        description="σ of the log of each product's acceptance factor, one draw per scenario shared by "
        "all regions (mean-one lognormal; 0 = no product-level uncertainty)",
    )
    regional_sigma: Sigma = Field(
        0.2, description="σ of the log of independent regional noise per (region, product) (mean-one lognormal)"
    )
    recourse_modules: Flag = Field(
        True,
        description="microfactory-role types may add modules after demand is known (central plants cannot)",
    )
    recourse_premium: NonNegative = Field(
        0.5, description="extra cost of a module added after demand is known, as a fraction of module_cost_per_yr"
    )
    cvar_alpha: Annotated[float, Number, Field(ge=0, lt=1)] = Field(
        0.9, description="CVaR level: the mean cost of the worst 1 − α share of scenarios"
    )
    cvar_weight: NonNegative = Field(
        0.0, description="risk aversion: the objective is expected cost + cvar_weight × CVaR (0 = risk-neutral)"
    )


class RolloutConfig(_Strict):
    """Staged rollout for ``planner solve --periods``: demand trajectories over periods, pilot regions
    first, facilities open for good once opened, modules only added, costs discounted
    (``planner.studies.stochastic.rollout``)."""

    periods: Annotated[int, Number, Field(ge=1, le=MAX_PERIODS)] = Field(
        1, description="number of periods (--periods overrides)"
    )
    period_years: Annotated[float, Number, Field(gt=0, le=MAX_PERIOD_YEARS, allow_inf_nan=False)] = Field(
        1.0, description="length of a period, years (annual costs are paid each year), at most 100"
    )
    discount_rate: Annotated[float, Number, Field(ge=0, lt=1)] = Field(0.0, description="per year, fraction")
    adoption: list[NonNegative] | None = Field(
        None,
        description="demand in each period as a fraction of the regions' (or a scenario's) demand; one "
        "number per period; omit for a logistic adoption curve reaching 1 in the last period",
    )
    pilot_regions: tuple[str, ...] = Field(
        (), description="region ids that have demand from period 1 (the test markets)"
    )
    pilot_periods: Annotated[int, Number, Field(ge=0, le=MAX_PERIODS)] = Field(
        0, description="periods in which only the pilot regions have demand (the rest start after them)"
    )

    @model_validator(mode="before")
    @classmethod
    def _periods_from_adoption(cls, data):
        """Without ``periods``, an ``adoption`` list gives their number (the default of 1 had refused a
        list of 3 also where ``--periods 3`` was given)."""
        adoption = data.get("adoption") if isinstance(data, dict) else None
        if isinstance(adoption, list | tuple) and "periods" not in data and 1 <= len(adoption) <= MAX_PERIODS:
            return {**data, "periods": len(adoption)}  # else the adoption list is refused for its length
        return data

    @field_validator("adoption")
    @classmethod
    def _one_adoption_per_period(cls, adoption: list[float] | None, info: ValidationInfo) -> list[float] | None:
        check_demand_factors(adoption)
        periods = info.data.get("periods")
        if adoption is not None and periods is not None and len(adoption) != periods:
            raise ValueError(f"{len(adoption)} numbers for {periods} periods; give one per period (or set "
                             "rollout.periods to their number)")
        if adoption and not any(adoption):
            raise ValueError("every period's adoption is 0, so no period has demand and nothing is worth building; "
                             "give the share of the demand reached in each period (e.g. [0.3, 0.7, 1.0])")
        return adoption

    @field_validator("pilot_regions", mode="before")
    @classmethod
    def _whole_number_ids_as_text(cls, pilot_regions):
        """Ids written as whole numbers (``[1, 3]``) are the regions "1" and "3" (ids are read as text)."""
        if isinstance(pilot_regions, list | tuple):
            return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in pilot_regions]
        return pilot_regions

    @field_validator("pilot_regions")
    @classmethod
    def _each_pilot_once(cls, pilot_regions: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted(r for r, count in Counter(pilot_regions).items() if count > 1)
        if repeated:
            raise ValueError(f"{truncated(repeated)} listed more than once; name each test market once")
        return pilot_regions

    @field_validator("pilot_periods")
    @classmethod
    def _pilot_regions_named(cls, pilot_periods: int, info: ValidationInfo) -> int:
        if pilot_periods and info.data.get("pilot_regions") == ():
            raise ValueError("pilot periods but rollout.pilot_regions is empty; name the test markets")
        return pilot_periods

    @model_validator(mode="after")
    def _pilot_periods_given(self) -> RolloutConfig:
        if self.pilot_regions and not self.pilot_periods:  # else every region has demand from period 1
            raise ValueError("rollout.pilot_regions names test markets but rollout.pilot_periods is 0; set the "
                             "number of periods in which only they have demand")
        return self


class ObjectiveConfig(_Strict):
    """What the network minimises: ``cost`` (the planner's model), or a classic location model on the
    same regions, candidates, capacities and constraints (``planner.inputs.objectives``)."""

    kind: Literal["cost", "p_median", "p_center", "max_covering", "set_covering"] = Field(
        "cost", description="cost | p_median | p_center | max_covering | set_covering"
    )
    p: PositiveCount | None = Field(
        None, description="facilities to open: exactly p (p_median), at most p (p_center, max_covering)"
    )
    # a region is covered within the limit (≤), so 0 covers a region from a site at its own point, as a
    # coverage of 0 does in `planner bench mclp|lscp --coverage 0`
    coverage_km: NonNegative | None = Field(
        None, description="coverage distance, road km (max_covering, set_covering); 0: a site at the region's point"
    )
    coverage_minutes: NonNegative | None = Field(
        None, description="coverage time, minutes (the OD matrix's minutes; max_covering, set_covering)"
    )

    @model_validator(mode="after")
    def _keys_fit_the_kind(self) -> ObjectiveConfig:
        needs_p = self.kind in ("p_median", "p_center", "max_covering")
        covers = self.kind in ("max_covering", "set_covering")
        if needs_p and self.p is None:
            raise ValueError(f"kind '{self.kind}' needs p, the number of facilities")
        if not needs_p and self.p is not None:
            raise ValueError(f"p has no meaning for kind '{self.kind}'; remove it")
        has_coverage = self.coverage_km is not None or self.coverage_minutes is not None
        if covers and not has_coverage:
            raise ValueError(f"kind '{self.kind}' needs coverage_km or coverage_minutes")
        if not covers and has_coverage:
            raise ValueError(f"coverage has no meaning for kind '{self.kind}'; remove it")
        return self


class SuppliersConfig(_Strict):
    """The supplier file of the model (``--suppliers`` overrides it)."""

    path: FilePath | None = Field(
        None, description="suppliers: points or a CSV with coordinates (relative to the model)"
    )


class ModelConfig(_Strict):
    """A whole model file."""

    name: str = Field(
        description="model name; default output folder results/<name> (letters, digits, '-', '_', '.', spaces)",
    )
    description: str = ""
    currency: str = "USD"
    carbon_price: NonNegative = Field(0.0, description="currency per t CO2")
    regions: RegionsConfig = Field(default_factory=RegionsConfig)
    suppliers: SuppliersConfig = Field(default_factory=SuppliersConfig)
    distance: DistanceConfig = Field(default_factory=DistanceConfig)
    products: dict[str, ProductConfig]
    transport: dict[str, TransportConfig]
    facility_types: dict[str, FacilityTypeConfig]
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    objective: ObjectiveConfig = Field(default_factory=ObjectiveConfig)
    solver: SolverConfig = Field(default_factory=SolverConfig)
    uncertainty: UncertaintyConfig = Field(default_factory=UncertaintyConfig)
    rollout: RolloutConfig = Field(default_factory=RolloutConfig)
    _source_path: Path | None = PrivateAttr(default=None)  # the file this was read from (not a key)
    _derived_from: ModelConfig | None = PrivateAttr(default=None)  # see derived_from (not a key)

    @property
    def source_path(self) -> Path | None:
        return self._source_path

    @source_path.setter
    def source_path(self, path: Path | None) -> None:
        self._source_path = path

    @property
    def file_name(self) -> str:
        """The model file's name, for messages ('the model file' where it was not read from one)."""
        return self._source_path.name if self._source_path is not None else "the model file"

    @property
    def derived_from(self) -> ModelConfig | None:
        """The user's model this one was derived from by leaving out facility types (``planner compare``'s
        central-only and micro-only variants), else None: a ``--sites`` file is checked against its
        facility types, and each site keeps those of this model (:func:`planner.pipeline.load_for_model`)."""
        return self._derived_from

    @derived_from.setter
    def derived_from(self, model: ModelConfig | None) -> None:
        self._derived_from = model

    @field_validator("currency")
    @classmethod
    def _currency_is_printable(cls, currency: str) -> str:
        if any(unicodedata.category(c) == "Cc" for c in currency):  # every header holds it, a workbook cannot
            raise ValueError("has control characters; write the currency's code, e.g. EUR")
        return currency

    @field_validator("name")
    @classmethod
    def _name_is_a_folder_name(cls, name: str) -> str:
        if not is_folder_name(name):
            raise ValueError(FOLDER_NAME_RULE)
        return name

    @model_validator(mode="after")
    def _references_resolve(self) -> ModelConfig:
        if not self.products:
            raise ValueError("products is empty: define at least one [products.<name>] table")
        if not self.facility_types:
            raise ValueError("facility_types is empty: define at least one [facility_types.<name>]")
        for table, names in (("products", self.products), ("facility_types", self.facility_types)):
            blank = [name for name in names if not name.strip()]
            if blank:  # a blank name printed as "demand      : 10,439 units/yr" and named nothing in the tables
                raise ValueError(f"[{table}.{blank[0]!r}]: a blank name; name it with letters or digits")
            reserved = [name for name in names
                        if table == "facility_types" and name.strip().lower() in RESERVED_TYPE_NAMES]
            if reserved:  # the maps and network.gpkg label regions 'unmet' and 'no demand' in the served_by column
                raise ValueError(f"[facility_types.{dotted_key(reserved[0])}]: the name is the maps' label for regions "
                                 "no type serves; rename the type")
            # a terminal would run them, a workbook cannot hold them; a tab or line break split the console's lines
            controlled = [name for name in names if has_control_characters(name) or any(c in name for c in "\t\r\n")]
            if controlled:
                raise ValueError(f"[{table}.{ascii(controlled[0])}]: the name has control characters; remove them")
        missing = sorted(set(self.products) - set(self.transport))
        if missing:
            alike = [t for t in self.transport if unicodedata.normalize("NFC", t) == unicodedata.normalize("NFC",
                                                                                                         missing[0])]
            hint = (f" ([transport.{dotted_key(alike[0])}] looks the same but is written in another Unicode form: type "
                    "both names alike)") if alike else ""
            raise ValueError(f"transport: no [transport.{dotted_key(missing[0])}] table for product {missing}{hint}")
        unknown = sorted(set(self.transport) - set(self.products))
        if unknown:
            raise ValueError(f"transport: {unknown} are not products; known: {sorted(self.products)}")
        for type_name, facility in self.facility_types.items():
            unknown = sorted(set(facility.products) - set(self.products))
            if unknown:
                raise ValueError(
                    f"facility_types.{type_name}.products: {unknown} are not products; known: {sorted(self.products)}"
                )
        type_minimum = sum(f.min_count for f in self.facility_types.values())
        if self.network.max_facilities is not None and type_minimum > self.network.max_facilities:
            raise ValueError(f"network.max_facilities ({self.network.max_facilities}) < the facility types' min_count "
                             f"together ({type_minimum}); raise max_facilities or lower min_count")
        for product_name in self.unmade_products():
            logger.warning("model '%s': no facility type makes product %r: its demand stays unmet", self.name,
                           product_name)
        return self

    @model_validator(mode="after")
    def _p_fits_the_counts(self) -> ModelConfig:
        """The classic kinds open at most p facilities (p_median exactly p): a network.max_facilities below
        p or a min_facilities (or the types' min_count together) above it is a contradiction, refused
        (p had overridden them in silence)."""
        p, kind = self.objective.p, self.objective.kind
        if p is None:
            return self
        most = self.network.max_facilities
        if most is not None and most < p:
            raise ValueError(f"objective.p ({p}) > network.max_facilities ({most}): kind '{kind}' opens "
                             f"{'exactly' if kind == 'p_median' else 'up to'} p facilities; lower p or raise "
                             "max_facilities")
        least = max(self.network.min_facilities, sum(f.min_count for f in self.facility_types.values()))
        if least > p:
            raise ValueError(f"objective.p ({p}) < the {least} facilities network.min_facilities or the types' "
                             f"min_count ask for: kind '{kind}' opens at most p; raise p or lower those")
        return self

    def unmade_products(self) -> list[str]:
        """The products that no facility type makes."""
        return [name for name in self.products if not any(name in f.products for f in self.facility_types.values())]


SHOWN_PROBLEMS = 3  # a model-file error names up to this many problems on its one line
_KEY_PROBLEMS = {  # validation error type: (what is wrong, the hint at the end of the line: the first kind's)
    "extra_forbidden": ("unknown key", "check its spelling against models/README.md"),
    "missing": ("required key is missing", "see models/README.md"),
}


def _format_validation_error(error: ValidationError, path: Path | str) -> str:
    """One line naming the model file and up to :data:`SHOWN_PROBLEMS` problems, joined by '; ':
    unknown keys first (usually typos, which also explain a missing key), the keys of one kind of
    problem together; then how many more problems there are and how to see them."""
    order = [*_KEY_PROBLEMS, None]
    errors = _without_suggested_missing(error.errors())
    errors = sorted(errors, key=lambda e: order.index(e["type"] if e["type"] in _KEY_PROBLEMS else None))
    shown = errors[:SHOWN_PROBLEMS]
    parts = []
    for kind in _KEY_PROBLEMS:
        same = [e for e in shown if e["type"] == kind]
        if same:
            also = f" (also {', '.join(repr(_key(e)) for e in same[1:])})" if len(same) > 1 else ""
            parts.append(_problem(same[0], got=len(same) == 1) + also)
    parts += [_problem(e) for e in shown if e["type"] not in _KEY_PROBLEMS]
    hints = [hint for kind, (_, hint) in _KEY_PROBLEMS.items() if any(e["type"] == kind for e in shown)][:1]
    unknown = [e for e in shown if e["type"] == "extra_forbidden"]
    if unknown and all(_tables_holding(e["loc"]) and not _closest_key(e["loc"]) for e in unknown):
        hints[0] = "move it there (models/README.md lists the keys of every table)"
    more = len(errors) - len(shown)
    if more:
        hints.append(f"+{more} more problem{'s' if more > 1 else ''}: fix these, then `planner validate` shows them")
    return f"{path}: " + "; ".join(parts + hints)


def _without_suggested_missing(errors: list[dict]) -> list[dict]:
    """``errors`` without the missing keys that an unknown key's "did you mean" already names (a typo
    of a required key is both)."""
    suggested = {(*e["loc"][:-1], _closest_key(e["loc"])) for e in errors if e["type"] == "extra_forbidden"}
    return [e for e in errors if not (e["type"] == "missing" and tuple(e["loc"]) in suggested)]


def _key(error: dict) -> str:
    return ".".join(str(part) for part in error["loc"])


_VALUE_PROBLEMS = {  # pydantic's messages that speak of its internals, in the model file's terms
    "int_parsing_size": "a whole number far too large for a count",
}


def _problem(error: dict, got: bool = True) -> str:
    """One problem of a validation error: the key, what is wrong and (``got``) the value found; for an
    unknown key the known key it most resembles (a typo, another case: ``Carbon_Price``)."""
    key = _key(error)
    message = _KEY_PROBLEMS.get(error["type"], (_VALUE_PROBLEMS.get(error["type"]) or
                                                error["msg"].removeprefix("Value error, "),))[0]
    suggestion = _did_you_mean(error["loc"], error.get("input")) + _elsewhere(error["loc"]) \
        if error["type"] == "extra_forbidden" else ""
    numeric = error["type"].startswith(("greater_", "less_", "finite_", "multiple_of", "float_", "int_"))
    if numeric and isinstance(error.get("input"), float) and math.isnan(error["input"]):  # fails every bound
        message = "nan is no number; give one"
    if not key:
        return message
    whole_table = isinstance(error.get("input"), dict) or (  # a table's or a list's own check says what it got
        isinstance(error.get("input"), list) and error["type"] == "value_error")
    if not got or error["type"] == "missing" or whole_table:
        return f"key '{key}': {message}{suggestion}"
    value = error.get("input")
    shown = f"{value:.6g}" if isinstance(value, float) and abs(value) >= MAX_NUMBER else repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return f"key '{key}': {message} (got {shown}){suggestion}"


def _did_you_mean(loc: tuple, value=None) -> str:
    """" (did you mean 'max_delivery_km'?)" for the unknown key at ``loc``: the closest key (ignoring
    case) of the schema class that holds it, where one is close; else "". Where the unknown key is in another
    unit of distance than the km of the key named, its ``value`` in km too (:func:`_in_km`)."""
    closest = _closest_key(loc)
    if not closest:
        return ""
    key = str(loc[-1])
    return f" (did you mean '{closest}'?{_in_km(key, closest, value)}{_per_year(key, closest, value)})"


KM_PER = {"mile": 1.609344, "miles": 1.609344, "mi": 1.609344, "metres": 0.001, "meters": 0.001}  # not "m": miles?


def _in_km(key: str, closest: str, value) -> str:
    """" it is in km: 150 miles = 241.402 km" for an unknown key written in miles or metres ('max_distance_miles',
    'cost_per_unit_mile') whose closest key is in km, and its number: renamed as suggested, 150 miles had become a
    150 km radius; else ""."""
    words = key.lower().split("_")
    unit = next((word for word in reversed(words) if word in KM_PER), None)
    if unit is None or not closest.endswith("_km") or isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    per = "per" in words[: words.index(unit)]  # cost_per_unit_mile: per distance, divided
    km = value / KM_PER[unit] if per else value * KM_PER[unit]
    shown = "miles" if KM_PER[unit] > 1 else "m"
    if per:
        return f" it is in km: {value:g} per {shown.rstrip('s')} = {km:g} per km"
    return f" it is in km: {value:g} {shown} = {km:g} km"


PER_YEAR = {"hour": 8760, "day": 365, "week": 52, "month": 12}  # how many of each period a year holds


def other_period(name: str) -> str | None:
    """The period a key or column name is written per where it is not the year ('capacity_per_day',
    'opening_cost_per_month'), one of ``PER_YEAR``; else None."""
    words = name.lower().replace("-", "_").replace(" ", "_").split("_")
    return next((word.removesuffix("s") for before, word in zip(words, words[1:], strict=False)
                 if before == "per" and word.removesuffix("s") in PER_YEAR), None)


def _per_year(key: str, closest: str, value) -> str:
    """" it is per year: 1000 per month = 12000 per year" for an unknown key written per another period
    ('opening_cost_per_month') whose closest key is per year: renamed as suggested, a monthly cost had become a
    yearly one; else ""."""
    period = other_period(key)
    if period is None or not closest.endswith("_per_yr"):
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f" it is per year: a figure per {period} × {PER_YEAR[period]:,}"
    return f" it is per year: {value:g} per {period} = {value * PER_YEAR[period]:g} per year"


def _elsewhere(loc: tuple) -> str:
    """" ('circuity' is a key of [distance])" for an unknown key that another table of the schema has (a key
    written in the wrong table, where checking its spelling cannot help); else ""."""
    tables = _tables_holding(loc)
    if not tables:
        return ""
    shown = " or ".join(f"[{table}]" if table else "the top level (above the first [table])" for table in tables[:3])
    return f" ('{loc[-1]}' is a key of {shown})"


def _tables_holding(loc: tuple) -> list[str]:
    """The tables of the schema, other than the one of ``loc``, with a key named as the last part of ``loc``:
    dotted, a table of named entries as ``<name>``, filled with the name in ``loc`` where ``loc`` is in it."""
    name, found = str(loc[-1]), []

    def walk(schema: type[BaseModel], path: tuple[str, ...]) -> None:
        for field_name, field in schema.model_fields.items():
            inner = _unwrapped(field.annotation)
            if field_name == name:
                found.append(path)
            if typing.get_origin(inner) is dict:
                inner, step = _unwrapped(typing.get_args(inner)[1]), (field_name, "<name>")
            else:
                step = (field_name,)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                walk(inner, (*path, *step))

    walk(ModelConfig, ())
    here = tuple(str(part) for part in loc[:-1])
    filled = [tuple(here[i] if part == "<name>" and here[:i] == path[:i] and i < len(here) else part
                    for i, part in enumerate(path)) for path in found]
    return [".".join(path) for path in filled if path != here]


def _closest_key(loc: tuple) -> str | None:
    """The key of the schema class holding ``loc`` closest to its last part (ignoring case), if any."""
    by_lower = {name.lower(): name for name in _schema_keys(tuple(loc[:-1]))}
    close = difflib.get_close_matches(str(loc[-1]).lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def _schema_keys(loc: tuple) -> list[str]:
    """The keys of the schema class at ``loc`` (table names and, inside a ``dict`` table, the names
    the user chose), or none where ``loc`` leads elsewhere."""
    current: Any = ModelConfig
    for part in loc:
        current = _unwrapped(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return []
    current = _unwrapped(current)
    return list(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _unwrapped(annotation: Any) -> Any:
    """``annotation`` without ``Annotated`` and ``| None``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            annotation = next(arg for arg in typing.get_args(annotation) if arg is not type(None))
        else:
            return annotation


def decode_model_text(raw: bytes, path: Path) -> str:
    """UTF-8 (a BOM is accepted), or UTF-16 with a BOM; anything else is an error naming the byte."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path}: not UTF-8 text (byte 0x{raw[error.start]:02x} at position {error.start}); save the model "
            "file as UTF-8"
        ) from None


def rechecked(config: ModelConfig) -> ModelConfig:
    """``config`` checked again by the whole schema, cross-checks included (a copy): a model changed in place
    from Python (a product added to ``products`` without its transport) is refused naming the key, as in a
    file, rather than failing inside a run."""
    return set_dotted_keys(config, {})


def model_config_from_dict(data: dict[str, Any], source: Path | str = "<model>") -> ModelConfig:
    """Validate a model-file dictionary; raise :class:`InputError` naming the key on failure."""
    try:
        return ModelConfig.model_validate(data)
    except ValidationError as error:
        raise InputError(_format_validation_error(error, source)) from None


def data_suffixes() -> set[str]:
    """The suffixes the data readers take, less those a model file may carry too (.txt, .json)."""
    from planner.inputs.tables import PARQUET_SUFFIXES, TABLE_SUFFIXES, ZIPPED_SUFFIXES, ZIPPED_VECTOR_SUFFIXES

    return (TABLE_SUFFIXES | PARQUET_SUFFIXES | ZIPPED_VECTOR_SUFFIXES | ZIPPED_SUFFIXES) - {".txt", ".json"}


def model_relative(written: Path, model: Path) -> Path:
    """A file path of the model file at ``model`` as read: relative to the model file's folder; where no file
    has that name on a system whose separator is '/', the path with its backslashes read as separators too, where
    that file exists (a model file written on Windows, ``path = "..\\data\\regions.csv"``, had been "not
    found")."""
    resolved = written if written.is_absolute() else (model.resolve().parent / written).resolve()
    if "\\" not in str(written) or os.sep == "\\" or resolved.exists():
        return resolved
    slashed = Path(str(written).replace("\\", "/"))
    other = slashed if slashed.is_absolute() else (model.resolve().parent / slashed).resolve()
    return other if other.exists() else resolved


def read_model_config(path: Path | str) -> ModelConfig:
    """Read and validate a TOML model file; relative paths inside resolve against its folder."""
    path = Path(path)
    raw = read_input_bytes(path, "model file", "--model")
    try:
        data = tomllib.loads(decode_model_text(raw, path))
    except (tomllib.TOMLDecodeError, InputError) as error:
        if path.suffix.lower() in data_suffixes():  # a data file where a model file was expected (a GeoPackage had
            # been told to be saved as UTF-8)
            raise InputError(f"{path}: is a data file, not a model file (TOML); give regions with --regions "
                             "(compare) or as the REGIONS argument (solve, validate)") from None
        if isinstance(error, InputError):
            raise
        raise InputError(f"{path}: not valid TOML ({error}); fix the syntax") from None
    check_unicode_forms(data, path)
    config = model_config_from_dict(data, path)
    try:
        config.source_path = path.resolve()
        if config.regions.path is not None:
            config.regions.path = model_relative(config.regions.path, path)
        if config.suppliers.path is not None:
            config.suppliers.path = model_relative(config.suppliers.path, path)
    except UnicodeEncodeError:  # LC_ALL=C: a path named Städte_東京.csv had been an internal error
        raise InputError(f"{path}: a path in it cannot be written in the file system's encoding here "
                         f"({sys.getfilesystemencoding()}); use a UTF-8 locale (e.g. LANG=C.UTF-8) or ASCII "
                         "file names") from None
    return config


def check_unicode_forms(data: Any, path: Path | str, where: str = "") -> None:
    """Two keys of one table that differ only in their Unicode form (composed or decomposed accents, as
    text copied on macOS may be) are an error: they print alike but are different names. Keys are
    otherwise kept as written, as the data files' names are compared with them as written."""
    if isinstance(data, list):
        for item in data:
            check_unicode_forms(item, path, where)
        return
    if not isinstance(data, dict):
        return
    seen: set[str] = set()
    for key, value in data.items():
        name = unicodedata.normalize("NFC", key)
        if name in seen:
            raise InputError(f"{path}: [{where or 'top level'}] has the key {key!r} twice, written in two Unicode "
                             "forms (composed and decomposed accents); keep one")
        seen.add(name)
        check_unicode_forms(value, path, f"{where}.{dotted_key(key)}" if where else dotted_key(key))


RESERVED_TYPE_NAMES = ("unmet", "no demand")  # the served_by labels of regions no facility type serves
def plain_number(text: str, kind: type = float):
    """``kind(text)``, but ValueError for Python's digit separators too: '1_0' is no number a user means
    as 10 (the command-line options refuse it the same way)."""
    if "_" in text:
        raise ValueError(f"{text!r} has an underscore")
    return kind(text)


BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def dotted_key(*parts: str) -> str:
    """The TOML dotted key of ``parts``: a part other than letters, digits, ``_`` and ``-`` (a product
    ``std.v2``, a type ``micro 2.0``) in double quotes, as it is written in the model file.

    >>> dotted_key("products", "std.v2", "demand_rate")
    'products."std.v2".demand_rate'
    """
    return ".".join(part if BARE_KEY.fullmatch(part) else json.dumps(part, ensure_ascii=False) for part in parts)


READ_ONLY_BY = {  # model-file tables a plain solve does not read, and the commands that do
    "rollout": "planner solve --periods",
    "uncertainty": "planner solve --scenarios (or --periods)",
}


def check_read_by_a_solve(key: str, what: str) -> None:
    """Refuse ``key`` (dotted) where it lies in a table a plain solve does not read (``READ_ONLY_BY``):
    varied by a sweep, a breakeven sweep or a sensitivity, it would change nothing (three equal
    objectives, a flat tornado bar), in silence; and [solver], read once for the whole study. ``what`` names the
    option, e.g. "--vary 'KEY'"."""
    head = key_parts(key, what)[0]
    if head == "solver":  # the options are made once, from the base model and the command line
        raise InputError(f"{what}: [solver] settings are read once for the whole study, not per run (set them with "
                         "--time-limit, --mip-gap, --threads), so varying them would change nothing; vary a key of "
                         "the model")
    if head in READ_ONLY_BY:
        raise InputError(f"{what}: [{head}] is read only by {READ_ONLY_BY[head]}, not by the plain solves this "
                         "study runs, so varying it would change nothing; vary a key the solve reads")


def key_parts(key: str, what: str = "key") -> list[str]:
    """The parts of a dotted key as TOML writes it: parts separated by '.', a part holding a dot or a
    space in double quotes (backslash escapes as in TOML) or single quotes (literal); an unquoted part
    is taken as written (also with letters beyond ASCII or an apostrophe: ``products.men's``); an
    InputError naming ``what`` where a quote is not closed.

    >>> key_parts('products."std.v2".demand_rate')
    ['products', 'std.v2', 'demand_rate']
    """
    parts, position = [], 0
    while True:
        quote = key[position:position + 1]
        if quote in ('"', "'"):
            end = _closing_quote(key, position, quote)
            if end < 0 or key[end + 1:end + 2] not in ("", "."):
                raise InputError(f"{what} '{key}' is not a dotted key; write e.g. products.\"std.v2\".demand_rate")
            text = key[position:end + 1]
            parts.append(_unquoted(text, key, what))
            position = end + 1
        else:
            end = key.find(".", position)
            end = len(key) if end < 0 else end
            parts.append(key[position:end])
            position = end
        if position >= len(key):
            return parts
        position += 1  # the dot


def split_assignment(text: str) -> tuple[str, str, str]:
    """``KEY=VALUE`` split at the first '=' outside the key's quoted parts, as ``str.partition`` does
    (a product named ``"a=b"`` is addressed as ``products."a=b".demand_rate=1,2``).

    >>> split_assignment('products."a=b".demand_rate=1,2')
    ('products."a=b".demand_rate', '=', '1,2')
    """
    position = 0
    while position < len(text):
        character = text[position]
        if character in ('"', "'") and (position == 0 or text[position - 1] == "."):
            end = _closing_quote(text, position, character)
            if end < 0:
                break
            position = end + 1
            continue
        if character == "=":
            return text[:position], "=", text[position + 1:]
        position += 1
    return text.partition("=")


def _closing_quote(key: str, start: int, quote: str) -> int:
    """The position of the quote closing the one at ``start`` (backslash escapes within double quotes), or -1."""
    position = start + 1
    while position < len(key):
        if quote == '"' and key[position] == "\\":
            position += 2
            continue
        if key[position] == quote:
            return position
        position += 1
    return -1


def _unquoted(text: str, key: str, what: str) -> str:
    """A quoted part's name: a literal '...' as written, a "..." with its escapes read."""
    if text.startswith("'"):
        return text[1:-1]
    try:
        return tomllib.loads(f"x = {text}")["x"]
    except tomllib.TOMLDecodeError:
        raise InputError(f"{what} '{key}': {text} is not a TOML string; write e.g. products.\"std.v2\".demand_rate") \
            from None


def set_dotted(config: ModelConfig, key: str, value: Any) -> ModelConfig:
    """A copy of ``config`` with the dotted key (``transport.standard.cost_per_unit_km``) set."""
    return set_dotted_keys(config, {key: value})


def set_dotted_keys(config: ModelConfig, values: dict[str, Any]) -> ModelConfig:
    """A copy of ``config`` with every dotted key of ``values`` set, checked by the schema once, with all
    of them in place (``min_modules = 3`` with ``max_modules = 3`` is valid although neither alone is
    beside the other's old value)."""
    data = config.model_dump(mode="python", exclude_none=False)
    for key, value in values.items():
        node = data
        parts = key_parts(key)
        for depth, part in enumerate(parts, start=1):
            if not isinstance(node, dict) or part not in node:
                known = [dotted_key(name) for name in node] if isinstance(node, dict) else []
                raise InputError(f"key '{key}': '{part}' does not exist in model '{config.name}'"
                                 + (f"; known there: {truncated(known, 8)} (quote a name with a dot)" if known else ""))
            if depth < len(parts):
                node = node[part]
        node[parts[-1]] = value
    updated = model_config_from_dict(data, config.source_path or config.name)
    updated.source_path = config.source_path
    updated.derived_from = config.derived_from
    return updated


def finite_or_inf(value: float | None) -> float:
    """``None`` (not given) as +inf, for limits such as radii and capacities."""
    return math.inf if value is None else float(value)


# the unit of a model key by its last part (models/README.md's unit column), "{c}" the model's currency;
# the first match wins, so the longer suffixes come first
KEY_UNITS = (
    ("carbon_price", "{c}/t CO2"), ("co2_kg_per_unit_km", "kg CO2/unit-km"), ("co2_kg_per_unit", "kg CO2/unit"),
    ("max_co2_t_per_yr", "t CO2/yr"), ("cost_per_unit_km", "{c}/unit-km"),
    ("module_capacity_per_yr", "units/yr per module"), ("module_cost_per_yr", "{c}/yr per module"),
    ("capacity_per_yr", "units/yr"),
    ("_per_yr", "{c}/yr"), ("_per_unit", "{c}/unit"), ("price", "{c}/unit"), ("capex_per_module", "{c}"),
    ("capex_budget", "{c}"), ("capex", "{c}"), ("_km", "km"), ("_minutes", "min"),
    ("demand_rate", "units/yr per demand unit"),
)


def key_unit(key: str, currency: str) -> str:
    """The unit of the dotted model ``key`` ('' where it has none or is not known): a swept key's axis had
    been labelled "facility_types.microfactory.opening_cost_per_yr (M)" with no currency.

    >>> key_unit("facility_types.micro.opening_cost_per_yr", "JPY"), key_unit("carbon_price", "USD")
    ('JPY/yr', 'USD/t CO2')
    """
    last = key.rsplit(".", 1)[-1].strip('"')
    return next((unit.format(c=currency) for suffix, unit in KEY_UNITS if last.endswith(suffix)), "")
