"""Golden outcomes: three fixed instances solved to proven optimality give the same objective and
the same open network as before the package was restructured (the values were produced by the
planner at commit a86e463: ``planner solve --select STUSPS=NC --mip-gap 0`` and ``solve_problem``
on ``capa`` at capacity 8,000 and ``cap64``; capa-8000's is also the published optimum)."""

from pathlib import Path

import numpy as np
import pytest

from planner.formats.orlib_cap import read_orlib_cap
from planner.inputs.config import read_model_config
from planner.inputs.prepare import DataOptions, parse_select
from planner.pipeline import plan, solve_problem
from planner.solver import SolverOptions, Status
from tests.builders import dense_problem
from tests.conftest import SHARED_BENCHMARKS

ROOT = Path(__file__).resolve().parent.parent
ORLIB = SHARED_BENCHMARKS / "orlib_cap"
EXACT = SolverOptions(mip_gap=0.0)


def open_sites(run) -> list[str]:
    problem = run.problem
    return sorted(problem.site_ids[problem.option_site[run.solution.open.astype(bool)]].tolist())


def test_tiny_hand_case():
    # s0 alone: 100 + 10·1 + 10·5 = 160; s1 alone: 90 + 10·5 + 10·1 = 150; both: 190 + 20 = 210
    problem = dense_problem([10, 10], [100, 90], [20, 20], [[1, 5], [5, 1]])
    run = solve_problem(problem, EXACT)
    assert run.report.status is Status.OPTIMAL
    assert run.report.objective == pytest.approx(150.0, abs=1e-9)
    assert open_sites(run) == ["s1"]


@pytest.mark.slow
def test_north_carolina_default_model():
    config = read_model_config(ROOT / "tests" / "golden" / "hybrid.toml")
    run = plan(config, DataOptions(select=parse_select(["STUSPS=NC"])), EXACT).run
    assert run.report.status is Status.OPTIMAL
    assert run.report.objective == pytest.approx(11003704.927546214, rel=1e-9)
    sites = run.tables.sites
    assert sorted(zip(sites["site_id"], sites["facility_type"], sites["modules"], strict=True)) == [
        ("37119", "microfactory", 3),
        ("37183", "microfactory", 3),
    ]


@pytest.mark.parametrize(
    ("name", "capacity", "objective", "opened"),
    [
        ("cap64", None, 1045650.25, ["11", "12", "13", "3", "6"]),
        pytest.param(
            "capa", 8000, 19240822.448645756, ["16", "30", "33", "69", "70", "79", "89"], marks=pytest.mark.slow
        ),
    ],
)
def test_cap_family(name, capacity, objective, opened):
    problem = read_orlib_cap(ORLIB / f"{name}.txt", capacity=capacity)
    run = solve_problem(problem, EXACT)
    assert run.report.status is Status.OPTIMAL
    assert run.report.objective == pytest.approx(objective, rel=1e-9)
    assert open_sites(run) == opened
    assert np.isclose(run.audit.objective_recomputed, objective, rtol=1e-9)
