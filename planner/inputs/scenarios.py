"""Demand scenarios: read from a file or generated, always as arrays aligned with a problem's regions
and products.

* **File** (CSV): columns ``scenario, region, product, demand, probability``; one row per
  (scenario, region, product); demand in units/yr (≥ 0); the probability of a scenario is repeated
  on each of its rows (> 0, the same on every row) and the probabilities sum to 1. Pairs a
  scenario does not list have zero demand in it.
* **Generated**: demand of scenario s = base demand × A_sp × N_srp with a product acceptance factor
  A_sp shared by all regions and independent regional noise N_srp, both mean-one lognormal
  (``[uncertainty]`` of the model file); equally likely; seeded.
"""

from __future__ import annotations

import csv
import logging
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import InputError, amount_text, refuse_special_file, truncated
from planner.inputs.config import UncertaintyConfig
from planner.inputs.coordinates import decimal_comma_hint
from planner.inputs.io import lost_zeros_hint, names_hint
from planner.inputs.screen import MAX_DEMAND
from planner.inputs.tables import EXCEL_SUFFIXES, csv_dialect, parser_fault, refuse_repeated_columns, restore_shown_ids
from planner.inputs.validate import dot_grouped_columns, dot_grouped_message

logger = logging.getLogger(__name__)

COLUMNS = ("scenario", "region", "product", "demand", "probability")
PROBABILITY_TOLERANCE = 1e-6
# a file's probabilities may sum to 1 up to rounding (three scenarios of 0.333333 sum to 0.999999);
# they are scaled to sum to 1 exactly
FILE_SUM_TOLERANCE = 1e-4
MAX_SCENARIOS = 1_000  # --scenarios N of a solve or compare (parse_scenarios_option): each copies the model's flows


@dataclass(frozen=True)
class Scenarios:
    """``demand[s, r, p]`` (units/yr) of scenario s with ``probability[s]``, for a problem's regions
    and products (same order)."""

    ids: tuple[str, ...]
    probability: np.ndarray  # (N,)
    demand: np.ndarray  # (N, R, P) units/yr

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.probability) or self.demand.shape[0] != len(self.ids):
            raise ValueError("Scenarios: ids, probability and demand disagree on the number of scenarios")
        if abs(float(self.probability.sum()) - 1.0) > PROBABILITY_TOLERANCE or (self.probability <= 0).any():
            raise ValueError("Scenarios: probabilities must be > 0 and sum to 1")

    @property
    def n(self) -> int:
        return len(self.ids)

    def expected_demand(self) -> np.ndarray:
        """(R, P) probability-weighted mean demand, units/yr."""
        return np.tensordot(self.probability, self.demand, axes=1)

    def subset(self, positions) -> Scenarios:
        """The scenarios at ``positions``, probabilities renormalised."""
        positions = np.atleast_1d(np.asarray(positions, dtype=int))
        probability = self.probability[positions]
        return Scenarios(
            ids=tuple(self.ids[i] for i in positions),
            probability=probability / probability.sum(),
            demand=self.demand[positions],
        )

    @classmethod
    def single(cls, demand: np.ndarray, name: str = "expected") -> Scenarios:
        """One scenario with probability 1."""
        return cls(ids=(name,), probability=np.ones(1), demand=np.asarray(demand, dtype=float)[None])


def generate_scenarios(base_demand: np.ndarray, n: int, seed: int, uncertainty: UncertaintyConfig) -> Scenarios:
    """``n`` equally likely scenarios around ``base_demand`` (R, P); see the module docstring."""
    if n < 1:
        raise InputError(f"--scenarios {n}: give a number of scenarios ≥ 1 or a scenario file")
    base_demand = np.asarray(base_demand, dtype=float)
    rng = np.random.default_rng(seed)
    n_regions, n_products = base_demand.shape
    sigma_a, sigma_r = uncertainty.acceptance_sigma, uncertainty.regional_sigma
    acceptance = np.exp(sigma_a * rng.standard_normal((n, 1, n_products)) - sigma_a**2 / 2)
    noise = np.exp(sigma_r * rng.standard_normal((n, n_regions, n_products)) - sigma_r**2 / 2)
    width = len(str(n))
    return Scenarios(
        ids=tuple(f"s{i + 1:0{width}d}" for i in range(n)),
        probability=np.full(n, 1.0 / n),
        demand=base_demand[None] * acceptance * noise,
    )


def _fail(path: Path, message: str) -> InputError:
    return InputError(f"{path}: {message}")


def _rows(frame: pd.DataFrame, mask) -> str:
    """1-based data-row numbers of the file (the header is not a row) where ``mask`` holds, truncated."""
    return truncated((frame.index[np.asarray(mask, dtype=bool)] + 1).tolist())


def read_scenarios(path: Path | str, region_ids, product_ids, base_demand: np.ndarray | None = None,
                   left_out_ids: frozenset = frozenset(), region_names=None) -> Scenarios:
    """Read a scenario CSV for the given regions and products; :class:`InputError` (one line: file,
    column, rows, fix) on anything malformed. Where ``base_demand`` (R, P) is given, the regions and
    products with demand there that no row of the file names (zero demand in every scenario) are
    warned about. Rows of ``left_out_ids`` (regions of the file that ``--select`` leaves out) give no demand, with
    a note, as an OD matrix's rows of other regions are (they had been refused as unknown ids); their scenarios and
    probabilities count as any other's (a scenario only of such regions has no demand here). ``region_names`` (R,),
    where given, name the regions a file calls by their names."""
    path = Path(path)
    frame = _read_scenario_table(path)
    kept = ~(frame["region"].isin(left_out_ids) & ~frame["region"].isin([str(r) for r in region_ids])).to_numpy()
    if not kept.all():
        logger.info("%s: %d rows of regions that --select leaves out are not used", path, int((~kept).sum()))
    demand, probability = _scenario_numbers(frame, path)
    for column in dot_grouped_columns(path, ["demand"]):
        logger.warning(dot_grouped_message(path, column, "the demand"))
    region = _positions(frame[kept], path, "region", region_ids,
                        "ids not in the regions data", "use the regions' id column (after --select)", region_names)
    nfc_products = [unicodedata.normalize("NFC", str(name)) for name in product_ids]  # as the file's, read in NFC
    product = _positions(frame, path, "product", nfc_products,
                         "unknown products", f"known products: {', '.join(map(str, product_ids))}")
    duplicated = frame.duplicated(["scenario", "region", "product"], keep="first")
    if duplicated.any():
        where = f"rows {_rows(frame, duplicated)} repeat a (scenario, region, product) given earlier"
        raise _fail(path, f"{where}; give each once")
    ids = tuple(pd.unique(frame["scenario"]))
    scenario = frame["scenario"].map({s: i for i, s in enumerate(ids)}).to_numpy()
    probabilities = _scenario_probabilities(frame, path, ids, scenario, probability)
    values = np.zeros((len(ids), len(region_ids), len(product_ids)))
    values[scenario[kept], region, product[kept]] = demand[kept]
    if base_demand is not None:
        _warn_left_out(path, base_demand, region, product[kept], region_ids, product_ids)
        _warn_scale(path, base_demand, probabilities @ values.reshape(len(ids), -1), product_ids)
    logger.info("read %d scenarios from %s", len(ids), path)
    return Scenarios(ids=ids, probability=probabilities, demand=values)


def _warn_left_out(path: Path, base_demand: np.ndarray, region: np.ndarray, product: np.ndarray, region_ids,
                   product_ids) -> None:
    """A warning per product whose regions with base demand appear in no row of the file."""
    named = np.zeros(base_demand.shape, dtype=bool)
    named[region, product] = True
    for p, product_id in enumerate(product_ids):
        left_out = np.flatnonzero((base_demand[:, p] > 0) & ~named[:, p])
        if len(left_out):
            ids = [str(region_ids[r]) for r in left_out]
            logger.warning("%s: product '%s' has demand in %d regions (%s) that no row names: they have no demand "
                           "in any scenario; add rows for them if they should", path, product_id, len(ids),
                           truncated(ids))


SCALE_FACTOR = 10.0  # expected scenario demand this many times the regions' own (or below 1/SCALE_FACTOR of it)


def _warn_scale(path: Path, base_demand: np.ndarray, expected: np.ndarray, product_ids) -> None:
    """A warning per product whose expected demand over the scenarios (``expected``, R × P flattened) is
    SCALE_FACTOR times the regions' (demand_rate × the demand column) or more, or that fraction or less: a file
    written in the demand column's unit (persons, 100× the units/yr at a rate of 0.01) had been solved as it was."""
    totals = expected.reshape(base_demand.shape).sum(axis=0)
    for p, product_id in enumerate(product_ids):
        base, mean = float(base_demand[:, p].sum()), float(totals[p])
        if base <= 0 or mean <= 0 or 1 / SCALE_FACTOR < mean / base < SCALE_FACTOR:
            continue
        ratio = mean / base
        logger.warning("%s: product '%s': the scenarios' expected demand (%s units/yr) is %s× the regions' (%s "
                       "units/yr, its demand_rate × the demand column); the file's demand is in units/yr of the "
                       "product: is it in another unit, such as the demand column's?", path, product_id,
                       amount_text(mean), f"{ratio:,.0f}" if ratio >= SCALE_FACTOR else f"{ratio:.2g}",
                       amount_text(base))


def check_scenario_file(path: Path) -> None:
    """Refuse a scenario file that is missing or not a table with the scenario columns, before any
    solve (its ids are checked against the regions once they are loaded)."""
    _read_scenario_table(Path(path))


def _read_scenario_table(path: Path) -> pd.DataFrame:
    """The CSV (or an Excel workbook's first sheet) as text, with the columns of COLUMNS present and the
    id columns filled."""
    refuse_special_file(path, "the scenario file", "--scenarios")  # /dev/zero had filled the memory
    try:
        if path.suffix.lower() in EXCEL_SUFFIXES:
            refuse_repeated_columns(path, pd.read_excel(path, sheet_name=0, header=None, nrows=1, dtype=str))
            frame = pd.read_excel(path, sheet_name=0, dtype=str, keep_default_na=False)
            restore_shown_ids(path, frame, ["region"])  # as the regions' reader: 01001 formatted 00000 stays
        else:  # a column named twice had been read as 'region.1' and the next column called missing
            refuse_repeated_columns(path, pd.read_csv(path, nrows=1, header=None, dtype=str, **csv_dialect(path)))
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, **csv_dialect(path))  # as the regions' tables
    except InputError:  # the table's shape, said by the reader in one line (an InputError is a ValueError)
        raise
    except FileNotFoundError:
        fix = "pass an existing CSV or a number of scenarios to --scenarios"
        raise _fail(path, f"scenario file not found; {fix}") from None
    except PermissionError:  # not a format problem: 'give a CSV' had been the fix
        raise _fail(path, "the scenario file is not readable (permission denied); give this user read access "
                    "or pass another file") from None
    except pd.errors.ParserError as error:  # a row's field count, a quote never closed: the line and the fix
        raise _fail(path, parser_fault(str(error))) from None
    except (OSError, UnicodeDecodeError, csv.Error, pd.errors.EmptyDataError,
            ValueError, zipfile.BadZipFile, MemoryError) as error:
        reason = getattr(error, "strerror", None) or (str(error).splitlines() or ["too large for the memory"])[0]
        fix = f"give a CSV (or an Excel workbook) with columns {', '.join(COLUMNS)}"
        kind = "an Excel workbook" if path.suffix.lower() in EXCEL_SUFFIXES else "CSV"
        raise _fail(path, f"cannot read the scenario file as {kind} ({reason}); {fix}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        fix = f"give columns {', '.join(COLUMNS)}"
        raise _fail(path, f"column '{missing[0]}' is missing (found {list(frame.columns)}); {fix}")
    if frame.empty:
        raise _fail(path, "the scenario file has no rows; give at least one scenario")
    for column in ("scenario", "region", "product"):
        frame[column] = frame[column].str.strip().str.normalize("NFC")  # ids as check_ids writes them
        empty = frame[column] == ""
        if empty.any():
            raise _fail(path, f"column '{column}' is empty in rows {_rows(frame, empty)}; fill it in every row")
    return frame


PERCENT_HINT = "; a probability is a fraction: write 0.5 for 50%"  # '50%' and 50 had not been named as percents


def _scenario_numbers(frame: pd.DataFrame, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``demand`` (finite, ≥ 0) and ``probability`` (in (0, 1]) per row."""
    numbers = {}
    for column in ("demand", "probability"):
        values = pd.to_numeric(frame[column].str.strip(), errors="coerce")
        bad = values.isna() | ~np.isfinite(values.fillna(0.0))
        if bad.any():
            first = frame.loc[bad, column].iloc[0]
            where = f"column '{column}' is not a finite number in rows {_rows(frame, bad)} (e.g. {first!r})"
            hint = decimal_comma_hint(frame.loc[bad, column]) or (
                PERCENT_HINT if column == "probability" and frame.loc[bad, column].str.strip().str.endswith("%").any()
                else "")
            raise _fail(path, f"{where}; give a number in every row{hint}")
        numbers[column] = values.to_numpy(dtype=float)
    demand, probability = numbers["demand"], numbers["probability"]
    if (demand < 0).any():
        bad = demand < 0
        where = f"column 'demand' is negative in rows {_rows(frame, bad)} (values {truncated(demand[bad].tolist())})"
        raise _fail(path, f"{where}; give units/yr ≥ 0")
    if (demand > MAX_DEMAND).any():
        bad = demand > MAX_DEMAND
        values = truncated(f"{value:g}" for value in demand[bad])
        where = f"column 'demand' is above {MAX_DEMAND:.0e} in rows {_rows(frame, bad)} (values {values})"
        raise _fail(path, f"{where}; too large for the solver: give the demand in a larger unit")
    if ((probability <= 0) | (probability > 1)).any():
        bad = (probability <= 0) | (probability > 1)
        where = f"column 'probability' is outside (0, 1] in rows {_rows(frame, bad)}"
        hint = PERCENT_HINT if (probability > 1).any() and probability.max() <= 100 else ""
        raise _fail(path, f"{where}; give each scenario a probability > 0 and ≤ 1{hint}")
    return demand, probability


def _positions(frame: pd.DataFrame, path: Path, column: str, known, what: str, fix: str, names=None) -> np.ndarray:
    """The position of each row's id among ``known``; unknown ids are an error (region ids that lost their
    leading zeros in Excel, '1001' for '01001', named as the OD matrix's are: :func:`lost_zeros_hint`; ids that
    are the ``names`` of known ones: :func:`names_hint`)."""
    position = frame[column].map({str(item): i for i, item in enumerate(known)})
    if position.isna().any():
        bad = position.isna()
        hint = lost_zeros_hint(frame.loc[bad, column], known, f"{column} ids")
        if names is not None and not hint:
            hint = names_hint(frame.loc[bad, column], known, names, column)
        raise _fail(path, f"column '{column}' has {what} in rows {_rows(frame, bad)} "
                          f"(e.g. {frame.loc[bad, column].iloc[0]!r}){hint}; {fix}")
    return position.to_numpy(dtype=int)


def _differing(ids, scenario: np.ndarray, probability: np.ndarray, inconsistent: np.ndarray) -> str:
    """The first scenario whose rows disagree on the probability: its name, its most common probability
    and a few rows that differ from it (1-based data rows), and how many other scenarios disagree too."""
    first = scenario[inconsistent][0]
    rows = np.flatnonzero(scenario == first)
    values, counts = np.unique(probability[rows], return_counts=True)
    usual = values[counts.argmax()]
    odd = rows[np.abs(probability[rows] - usual) > PROBABILITY_TOLERANCE]
    shown = truncated((f"row {row + 1} has {probability[row]:g}" for row in odd), 3)
    others = len(np.unique(scenario[inconsistent])) - 1
    tail = f"; {others} more scenarios disagree too" if others else ""
    return (f"scenario '{ids[first]}': {usual:g} in {counts.max()} of its {len(rows)} rows, but {shown}{tail}")


def _scenario_probabilities(frame, path: Path, ids, scenario: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """One probability per scenario, the same on each of its rows, summing to 1 up to
    ``FILE_SUM_TOLERANCE`` (then scaled to sum to 1 exactly)."""
    per_scenario = pd.Series(probability).groupby(scenario)
    inconsistent = (per_scenario.transform("max") - per_scenario.transform("min")).to_numpy() > PROBABILITY_TOLERANCE
    if inconsistent.any():
        where = _differing(ids, scenario, probability, inconsistent)
        raise _fail(path, f"column 'probability' differs within {where}; "
                          "repeat the same probability on every row of a scenario")
    probabilities = per_scenario.first().to_numpy()
    total = float(probabilities.sum())
    if abs(total - 1.0) > FILE_SUM_TOLERANCE:
        raise _fail(path, f"the probabilities of the {len(ids)} scenarios sum to {total:.6g}, not 1; "
                          "scale them so they sum to 1")
    return probabilities / total


def unsupported_with_scenarios(config, what: str, data=None, periods: bool = False) -> None:
    """Scenario and staged models keep demand price-blind and have no inbound supply and no CO2 cap
    (the staged one no service levels either) and minimise cost: a model with them is refused with one line,
    before anything is solved (their networks would only fail the audit). The CLI calls it, and so do the
    library's ``plan_stochastic`` and ``plan_staged`` (called alone, they had ended in the audit's SolverError)."""
    source = config.source_path or config.name
    if config.objective.kind != "cost":
        raise InputError(f"{source}: {what} work on the cost model; this model's [objective] kind is "
                         f"'{config.objective.kind}' (set kind = \"cost\")")
    if config.network.max_co2_t_per_yr is not None:
        raise InputError(f"{source}: {what} do not support a CO2 cap yet (network.max_co2_t_per_yr = "
                         f"{config.network.max_co2_t_per_yr:g}); remove it for this study (carbon_price still "
                         "prices CO2)")
    serviced = [name for name, product in config.products.items() if product.service is not None]
    if periods and serviced:
        raise InputError(f"{source}: --periods does not support service levels yet (products.{serviced[0]}.service); "
                         "remove them for this study, or use --scenarios")
    banded = [name for name, product in config.products.items() if product.proximity is not None]
    if banded:
        raise InputError(f"{source}: {what} do not support proximity bands yet "
                         f"(products.{banded[0]}.proximity); remove them for this study")
    suppliers = (data.suppliers_path if data is not None else None) or config.suppliers.path
    if suppliers is not None:
        raise InputError(f"{source}: {what} do not support inbound supply yet "
                         f"(suppliers {suppliers}); remove [suppliers] / --suppliers for this study")
