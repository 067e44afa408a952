"""The solver's outcome as data: how a solve ended (:class:`Status`), what the user may set
(:class:`SolverOptions`) and the frozen :class:`SolveReport` with the real status, objective, best
bound, gap and times. A run that stops at a limit with an incumbent is reported as such, never as
optimal."""

from __future__ import annotations

import enum
import math
import numbers
from dataclasses import asdict, dataclass, replace

OPTIMAL_GAP = 1e-4  # the largest relative gap still reported as "optimal" (HiGHS's default)
GAP_TEXT_MAX = 100.0  # gaps above this (10,000 %) are printed as "> 10000%"


class Status(enum.StrEnum):
    """How a solve ended."""

    OPTIMAL = "optimal"  # proven optimal: gap within HiGHS's default 1e-4 (or tighter)
    GAP_LIMIT = "gap_limit"  # stopped at a looser relative gap the user asked for; gap reported
    TIME_LIMIT = "time_limit"  # stopped at the time limit with an incumbent
    # stopped at another limit (iterations, nodes, solutions) with an incumbent, or a network solved again with the
    # capex budget lowered below HiGHS's tolerance whose gap to the first bound is above the tolerance
    # (planner.solver.budget)
    OTHER_LIMIT = "limit"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ERROR = "error"


# the limit a later step gets where earlier ones have used the whole time limit: it stops at once with
# what it was started from, so that the steps together keep to the limit
LEFT_FLOOR_S = 0.1
# HiGHS's presolve and root LP take up to about this many seconds per arc and do not stop at its time
# limit (a single-source model of 100,000 binaries: 2 s idle, 4–19 s beside other work; with 4.6 s
# left of a 6 s limit it ended after 6.6 s, and once after 138 s): with a network in hand and less
# time left than that, it is not run
HIGHS_START_S_PER_ARC = 1.5e-4


@dataclass(frozen=True)
class SolverOptions:
    """What the user may set (None = HiGHS default)."""

    time_limit_s: float | None = None
    mip_gap: float = 1e-4
    threads: int | None = None
    quiet: bool = True
    presolve_min_arcs: int = 5000  # Lagrangian bound, heuristic incumbent and fixing from this size
    builder: str = "arrays"  # "arrays": standard form straight from the index arrays; "pyomo": the Pyomo model
    # "auto": the radius model where planner.solver.radius.preferred says so, the Lagrangian
    # branch-and-bounds where they apply (planner.solver.engine); "standard": HiGHS on the standard
    # model after the presolve, never these; "radius"
    formulation: str = "auto"
    progress_s: float | None = 5.0  # interval of the MIP progress log lines; None = no progress callback
    # HiGHS's own primal heuristics (mip_heuristic_effort); off where the planner's searches find networks beside
    # it (planner.solver.beside)
    highs_heuristics: bool = True

    def __post_init__(self) -> None:
        """Values a caller from Python could give that no command line lets through: a gap outside [0, 1],
        a time limit that is no number or not above 0, threads below 1 (each an ``InputError`` naming the field)."""
        from planner.errors import InputError

        def number(value) -> bool:
            return isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value)

        if not number(self.mip_gap) or not 0.0 <= self.mip_gap <= 1.0:
            raise InputError(f"SolverOptions.mip_gap is {self.mip_gap!r}; give a relative gap from 0 to 1, "
                             "e.g. 0.01 for 1 %")
        if self.time_limit_s is not None and (not number(self.time_limit_s) or self.time_limit_s <= 0):
            raise InputError(f"SolverOptions.time_limit_s is {self.time_limit_s!r}; give seconds as a number > 0, "
                             "or None for no limit")
        whole = isinstance(self.threads, numbers.Integral) and not isinstance(self.threads, bool)
        if self.threads is not None and (not whole or self.threads < 1):
            raise InputError(f"SolverOptions.threads is {self.threads!r}; give a whole number ≥ 1, or None for "
                             "HiGHS's choice")

    @classmethod
    def from_model(cls, config, time_limit_s: float | None = None, mip_gap: float | None = None,
                   threads: int | None = None, **others) -> SolverOptions:
        """The options of model ``config``'s ``[solver]`` table, each overridden where given here (as the
        command line's ``--time-limit``, ``--mip-gap`` and ``--threads`` do); threads are cut to the
        machine's cores. ``others``: the remaining fields (``quiet``, ``progress_s``, ...)."""
        from planner.solver.highs import available_threads

        threads = threads if threads is not None else config.solver.threads
        return cls(
            time_limit_s=time_limit_s if time_limit_s is not None else config.solver.time_limit_s,
            mip_gap=(mip_gap if mip_gap is not None else config.solver.mip_gap) + 0.0,  # -0 is 0
            threads=None if threads is None else available_threads(threads),
            **others,
        )


@dataclass(frozen=True)
class SolveReport:
    """The solver's outcome (objective and bound in currency/yr)."""

    status: Status
    termination: str
    objective: float | None
    best_bound: float | None
    mip_gap: float | None
    mip_gap_tolerance: float
    solve_s: float
    nodes: int | None
    solver: str
    handover_s: float = 0.0
    objective_mismatch: bool = False  # HiGHS reported another objective than its values have (see run_highs)
    kind_proven: bool | None = None  # the p-center radius proven optimal (apart from the status); None: the status

    @classmethod
    def of(
        cls, status: Status, termination: str, objective: float | None, bound: float | None,
        mip_gap_tolerance: float, solver: str, **measured,
    ) -> SolveReport:
        """A report whose gap is the one ``objective`` and ``bound`` have (:func:`relative_gap`), and whose
        ``termination`` never reads "Optimal" for a solve the status does not call optimal;
        ``measured``: ``solve_s`` (default 0), ``nodes`` (None), ``handover_s``, ``objective_mismatch``."""
        measured = {"solve_s": 0.0, "nodes": None} | measured
        gap = relative_gap(objective, bound)
        if termination == "Optimal" and status is not Status.OPTIMAL:  # HiGHS's word for "within its gap"
            termination = "within the MIP gap tolerance (HiGHS: Optimal)"
        return cls(status=status, termination=termination, objective=objective, best_bound=bound, mip_gap=gap,
                   mip_gap_tolerance=mip_gap_tolerance, solver=solver, **measured)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["status"] = self.status.value
        return data


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """|objective − bound| / |objective| (minimising or maximising); None when either is missing, and
    where there is no relative gap: an objective of about 0 (below 1e-9 × max(|bound|, 1), as an empty
    network of a model with revenues) against a bound that differs from it."""
    if objective is None or bound is None or not math.isfinite(bound):
        return None
    difference, negligible = abs(objective - bound), 1e-9 * max(abs(bound), 1.0)
    if abs(objective) < negligible:
        return 0.0 if difference <= negligible else None
    return difference / abs(objective)


def within_gap(cost: float | None, bound: float | None, mip_gap: float | None) -> bool:
    """``cost`` within the relative ``mip_gap`` of ``bound`` (False where any is missing)."""
    gap = relative_gap(cost, bound)
    return gap is not None and mip_gap is not None and gap <= mip_gap


def within_tolerance(report: SolveReport) -> SolveReport:
    """``report`` with status ``gap_limit`` where it stopped at a limit (``time_limit``, ``limit``) with its gap
    already within its tolerance (``mip_gap_tolerance``): proven within what was asked, as a run that stopped at
    its gap is (a rollout HiGHS stopped at its time limit at a gap of 0.3 % against 1 % asked for had read
    ``time_limit``); never ``optimal``, the run having stopped at a limit. A gap above the tolerance, or none,
    leaves the report as it is."""
    limited = report.status in (Status.TIME_LIMIT, Status.OTHER_LIMIT)
    if limited and report.mip_gap is not None and report.mip_gap <= report.mip_gap_tolerance:
        return replace(report, status=Status.GAP_LIMIT)
    return report


def closed_status(gap: float) -> Status:
    """The status of a run stopped because its gap closed: ``optimal`` within ``OPTIMAL_GAP``, else
    ``gap_limit``."""
    return Status.OPTIMAL if gap <= OPTIMAL_GAP else Status.GAP_LIMIT


GAP_TEXT_MIN = 1e-6  # a smaller gap (1e-9: the costs' rounding) reads 0.00 %, not "1e-07%"


def gap_text(gap: float | None, digits: int = 2) -> str:
    """A relative MIP gap as a percentage with ``digits`` decimals; ``n/a`` when there is none (None or NaN);
    above 10,000 % (an objective near 0 against a large bound) as ``> 10000%``.

    >>> gap_text(0.0123), gap_text(None), gap_text(float("nan"), 3), gap_text(2.8e9)
    ('1.23%', 'n/a', 'n/a', '> 10000%')
    """
    if gap is None or gap != gap:
        return "n/a"
    if gap > GAP_TEXT_MAX:
        return f"> {100 * GAP_TEXT_MAX:.0f}%"
    text = f"{100 * gap:.{digits}f}%"
    if gap >= GAP_TEXT_MIN and float(text[:-1]) == 0:  # a gap of 3.25e-5 had read "0.00%": two significant digits
        return f"{100 * gap:.2g}%"
    return text
