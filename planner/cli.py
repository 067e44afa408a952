"""The ``planner`` command line: parse → call one library function → print.

Library errors become CLI errors here and only here: one line on stderr and the exit code
(0 results written, 1 no solution, 2 bad input or usage).
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from pathlib import Path

import click

from planner.errors import PlannerError

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = PROJECT_ROOT / "models" / "hybrid.toml"


class _ElapsedFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self.started = time.perf_counter()

    def format(self, record: logging.LogRecord) -> str:
        elapsed = time.perf_counter() - self.started
        return f"[{elapsed:7.1f}s] {record.levelname.lower():7} {record.getMessage()}"


def _configure_logging(quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_ElapsedFormatter())
    root = logging.getLogger("planner")
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if quiet else logging.INFO)
    root.propagate = False


def _fail_cleanly(command):
    """Turn a :class:`PlannerError` into one stderr line and its exit code."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except PlannerError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(error.exit_code)

    return wrapper


def _data_options(regions, layer, id_column, demand_column, sites, od_matrix, select):
    from planner.inputs.prepare import DataOptions, parse_select

    return DataOptions(
        regions_path=Path(regions) if regions else None,
        layer=layer,
        id_column=id_column,
        demand_column=demand_column,
        sites_path=Path(sites) if sites else None,
        od_path=Path(od_matrix) if od_matrix else None,
        select=parse_select(list(select)),
    )


def data_options(command, regions_as_option: bool = False):
    """Options shared by every command that reads regional data; the regions file is the REGIONS
    argument, or ``--regions`` where positional arguments mean something else (``compare``)."""
    regions = (
        click.option("--regions", "regions", type=click.Path(path_type=str),
                     help="Regions file (default: regions.path of the model).")
        if regions_as_option
        else click.argument("regions", required=False, type=click.Path(path_type=str))
    )
    for decorator in reversed(
        [
            regions,
            click.option(
                "--model",
                "model_path",
                type=click.Path(path_type=str),
                default=str(DEFAULT_MODEL),
                show_default="models/hybrid.toml",
                help="Model file (TOML).",
            ),
            click.option("--id-column", help="Region id column (default: regions.id_column of the model)."),
            click.option("--demand-column", help="Base demand column (default: regions.demand_column)."),
            click.option("--layer", help="Layer of a multi-layer regions file."),
            click.option("--sites", type=click.Path(path_type=str), help="Candidate sites file (points or CSV)."),
            click.option(
                "--od-matrix",
                type=click.Path(path_type=str),
                help="Origin-destination file (CSV/Parquet: from, to, distance_km and/or cost).",
            ),
            click.option(
                "--select",
                multiple=True,
                metavar="COLUMN=VALUE[,VALUE...]",
                help="Plan for the regions whose COLUMN has one of the values (repeatable).",
            ),
        ]
    ):
        command = decorator(command)
    return command


@click.group()
@click.version_option(package_name="microfactory-planner")
def main() -> None:
    """Plan a network of microfactories and central plants for regional demand (Pyomo + HiGHS)."""


@main.command()
@data_options
@click.option("--out", type=click.Path(path_type=str), help="Output folder (default: results/<model name>).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), help="Solver time limit, seconds.")
@click.option("--mip-gap", type=click.FloatRange(0, 1, max_open=True), help="Relative MIP gap to stop at.")
@click.option("--threads", type=click.IntRange(min=1), help="HiGHS threads.")
@click.option("--quiet", is_flag=True, help="No progress output, only the result.")
@click.option("--basemap", is_flag=True, help="Add an OpenStreetMap tile layer to map.html (needs internet to view).")
@click.option(
    "--scenarios",
    metavar="N|FILE",
    help="Plan under demand uncertainty: generate N scenarios ([uncertainty] of the model) or read a CSV "
    "(scenario, region, product, demand, probability); adds VSS, EVPI and scenarios.csv.",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of --scenarios N.")
@click.option(
    "--periods",
    type=click.IntRange(min=1),
    help="Staged rollout over N periods ([rollout] of the model: adoption, pilot regions, discounting); with "
    "--scenarios: pilot, then scale. Writes periods.csv and timeline.png.",
)
@_fail_cleanly
def solve(
    regions,
    model_path,
    id_column,
    demand_column,
    layer,
    sites,
    od_matrix,
    select,
    out,
    time_limit,
    mip_gap,
    threads,
    quiet,
    basemap,
    scenarios=None,
    seed=0,
    periods=None,
):
    """Solve the network for REGIONS (default: the model file's regions.path) and write the outputs."""
    from planner.export import write_outputs
    from planner.export.folder import reserved_output_dir
    from planner.export.summary import solve_sources
    from planner.inputs.config import read_model_config
    from planner.pipeline import plan
    from planner.solver.outcome import SolverOptions

    _configure_logging(quiet)
    config = read_model_config(model_path)
    options = SolverOptions(
        time_limit_s=time_limit if time_limit is not None else config.solver.time_limit_s,
        mip_gap=mip_gap if mip_gap is not None else config.solver.mip_gap,
        threads=threads if threads is not None else config.solver.threads,
        quiet=quiet,
    )
    out_dir = Path(out) if out else Path("results") / config.name
    if scenarios is not None or periods is not None:
        data = _data_options(regions, layer, id_column, demand_column, sites, od_matrix, select)
        return _solve_uncertain(config, data, options, out_dir, scenarios, seed, periods, basemap)
    with reserved_output_dir(out_dir) as staging:  # an unwritable --out fails before solving
        data = _data_options(regions, layer, id_column, demand_column, sites, od_matrix, select)
        result = plan(config, data, options)
        sources = solve_sources(config, data, options, result.inputs.regions_path)
        summary = write_outputs(
            result.run, result.inputs, out_dir, sources, result.screening.warnings, staging, basemap=basemap
        )
    _print_summary(summary, out_dir)


def _solve_uncertain(config, data, options, out_dir: Path, scenarios, seed, periods, basemap) -> None:
    """``solve --scenarios`` / ``--periods``: the stochastic or staged plan, written like a solve."""
    from planner.export import write_outputs
    from planner.export.folder import reserved_output_dir
    from planner.export.stochastic_output import study_output
    from planner.export.summary import solve_sources
    from planner.studies.stochastic.pipeline import parse_scenarios_option, plan_stochastic
    from planner.studies.stochastic.staged import plan_staged

    with reserved_output_dir(out_dir) as staging:  # an unwritable --out fails before solving
        spec = None if scenarios is None else parse_scenarios_option(scenarios)
        if periods is not None:
            result = plan_staged(config, data, options, periods, spec, seed)
        else:
            result = plan_stochastic(config, data, options, spec, seed)
        sources = solve_sources(config, data, options, result.inputs.regions_path)
        sources["scenarios"] = None if spec is None else (
            {"generated": spec, "seed": seed} if isinstance(spec, int) else str(spec)
        )
        sources["periods"] = periods
        summary = write_outputs(
            result.run, result.inputs, out_dir, sources, result.screening.warnings, staging, basemap=basemap,
            extras=(study_output(result),),
        )
    if "rollout" in summary:
        _print_rollout(summary)
    else:
        _print_stochastic(summary)
    _print_summary(summary, out_dir)


def _print_stochastic(summary: dict, network_follows: bool = True) -> None:
    block = summary["stochastic"]
    currency = summary["currency"]
    gap = "n/a" if block["mip_gap"] is None else f"{100 * block['mip_gap']:.3f}%"
    click.echo(f"scenarios   {block['scenarios']}: stochastic optimum {block['status']} (gap {gap}), "
               f"expected {block['expected_cost']:,.0f} {currency}/yr, CVaR {block['cvar_alpha']} "
               f"{block['cvar']:,.0f}, worst {block['worst_case']:,.0f}")
    click.echo(f"value       VSS {block['vss']:,.0f} (EEV {block['eev']:,.0f}), EVPI {block['evpi']:,.0f} "
               f"(WS {block['ws']:,.0f}) {currency}/yr")
    for name, strategy in block["strategies"].items():
        _print_strategy(name, strategy)
    if network_follows:
        click.echo("network     below: the stochastic optimum's first stage serving the expected demand")


def _print_strategy(name: str, strategy: dict, suffix: str = "") -> None:
    if strategy["expected_cost"] is None:
        click.echo(f"strategy    {name}: {strategy['status']}")
        return
    click.echo(f"strategy    {name}: expected {strategy['expected_cost']:,.0f}, CVaR {strategy['cvar']:,.0f}, "
               f"worst {strategy['worst_case']:,.0f}{suffix}")


def _print_rollout(summary: dict) -> None:
    block = summary["rollout"]
    gap = "n/a" if block["mip_gap"] is None else f"{100 * block['mip_gap']:.3f}%"
    click.echo(f"rollout     {block['periods']} periods, {block['scenarios']} scenario(s): {block['status']} "
               f"(gap {gap}), present value {block['objective']:,.0f} {summary['currency']}")
    for name, strategy in block["strategies"].items():
        first = ", ".join(f"{t} {n}" for t, n in (strategy.get("period1_facilities") or {}).items() if n) or "none"
        _print_strategy(name, strategy, f" (period 1: {first})")
    click.echo(f"network     below: {summary.get('view')}")


def _print_summary(summary: dict, out_dir: Path) -> None:
    gap = summary["mip_gap"]
    gap_text = "n/a" if gap is None else f"{100 * gap:.3f}%"
    currency = summary["currency"]
    click.echo(f"status      {summary['status']} (gap {gap_text}, tolerance {100 * summary['mip_gap_tolerance']:.3g}%)")
    bound = summary["best_bound"]
    bound_text = "n/a" if bound is None else f"{bound:,.0f}"
    click.echo(f"objective   {summary['objective']:,.0f} {currency}/yr (best bound {bound_text})")
    parts = ", ".join(f"{name} {value:,.0f}" for name, value in summary["costs"].items())
    click.echo(f"costs       {parts}")
    click.echo(f"co2         {summary['co2_t']:,.0f} t/yr")
    click.echo("facilities  " + ", ".join(f"{name} {count}" for name, count in summary["facilities"].items()))
    for product, figures in summary["demand"].items():
        share = figures["served"] / figures["demand"] if figures["demand"] else 0.0
        click.echo(f"demand      {product}: {figures['demand']:,.0f} units/yr, served {100 * share:.1f}%")
    timing = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in summary["timing"].items())
    click.echo(f"timing      {timing}")
    audit = summary["audit"]
    click.echo(
        f"audit       {'passed' if audit['passed'] else 'FAILED'} (max violation {audit['max_violation']:.2g}, "
        f"objective difference {audit['objective_relative_difference']:.2g})"
    )
    click.echo(f"written     {out_dir}")


@main.command()
@data_options
@_fail_cleanly
def validate(regions, model_path, id_column, demand_column, layer, sites, od_matrix, select):
    """Check the model file and the data, print a summary of the instance; solves nothing."""
    from planner.inputs.config import read_model_config
    from planner.pipeline import Timing, load_and_prepare

    _configure_logging(quiet=False)
    config = read_model_config(model_path)
    data = _data_options(regions, layer, id_column, demand_column, sites, od_matrix, select)
    inputs, problem, screening = load_and_prepare(config, data, Timing())
    click.echo(f"model       {config.name} ({config.source_path})")
    click.echo(f"regions     {problem.n_regions} from {inputs.regions_path}")
    for p, product in enumerate(problem.product_ids):
        click.echo(f"demand      {product}: {problem.demand[:, p].sum():,.0f} units/yr")
    for k, type_id in enumerate(problem.type_ids):
        click.echo(f"candidates  {type_id}: {int((problem.option_type == k).sum())} sites")
    size = problem.summary()
    click.echo(f"arcs        {size['arcs']:,} (demand pairs {size['demand_pairs']:,})")
    for message in screening.warnings:
        click.echo(f"warning     {message}")
    click.echo("ok          inputs are valid")


@main.command()
@click.argument("fmt", metavar="FORMAT", type=click.Choice(["cap", "ufl", "sscflp", "pmed"]))
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--capacity",
    type=click.FloatRange(min=0, min_open=True),
    help="Capacity of every site where the file says 'capacity' (capa/capb/capc).",
)
@click.option("--p", "p", type=click.IntRange(min=1), help="Number of sites to open (p-median; default: the file's p).")
@click.option("--single-source", is_flag=True, help="Each customer served by exactly one site (cap files).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), help="Time limit per instance, seconds.")
@click.option("--threads", type=click.IntRange(min=1), help="HiGHS threads.")
@click.option(
    "--optima",
    type=click.Path(path_type=str),
    help="known_optima.csv: add 'known' and 'match' (relative difference <= 1e-6).",
)
@_fail_cleanly
def bench(fmt, files, capacity, p, single_source, time_limit, threads, optima):
    """Solve published benchmark FILES of FORMAT (cap, ufl, sscflp, pmed) with the planner's model;
    print one JSON object per instance and line."""
    import json

    from planner.studies.bench import run_bench

    rows = run_bench(
        fmt,
        [Path(f) for f in files],
        capacity=capacity,
        p=p,
        single_source=single_source,
        time_limit=time_limit,
        threads=threads,
        optima=Path(optima) if optima else None,
    )
    for row in rows:
        click.echo(json.dumps(row))


@main.command(name="compare")
@click.argument("models", nargs=-1, type=click.Path(path_type=str))
@functools.partial(data_options, regions_as_option=True)
@click.option(
    "--sweep",
    "sweep_text",
    metavar="KEY=START:STOP:N",
    help="Breakeven sweep of one model key on the hybrid model, e.g. "
    "transport.standard.cost_per_unit_km=0.002:0.02:6.",
)
@click.option("--scenarios", metavar="N|FILE",
              help="Also plan the hybrid model under demand uncertainty (as solve --scenarios): cost distribution "
              "per strategy, VSS and EVPI.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of --scenarios N.")
@click.option("--out", type=click.Path(path_type=str), help="Output folder (default: results/compare_<model name>).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), help="Time limit per solve, seconds.")
@click.option("--mip-gap", type=click.FloatRange(0, 1, max_open=True), help="Relative MIP gap per solve.")
@click.option("--threads", type=click.IntRange(min=1), help="HiGHS threads.")
@click.option("--quiet", is_flag=True, help="No progress output.")
@_fail_cleanly
def compare_command(models, regions, model_path, id_column, demand_column, layer, sites, od_matrix, select,
                    sweep_text, scenarios, seed, out, time_limit, mip_gap, threads, quiet):
    """Compare central-only, micro-only and hybrid networks of --model (plus any MODELS files) on one
    dataset: cost parts, CO2, facility counts, delivery distances, the value of decentralisation, where
    microfactories win and an optional breakeven sweep. Writes compare.csv and compare.html."""
    from planner.export.compare_report import write_comparison
    from planner.inputs.config import read_model_config
    from planner.solver.outcome import SolverOptions
    from planner.studies.compare import Sweep, compare, standard_variants

    _configure_logging(quiet)
    base = read_model_config(model_path)
    configs = standard_variants(base)
    for path in models:
        extra = read_model_config(path)
        configs[extra.name if extra.name not in configs else f"{extra.name}_{len(configs)}"] = extra
    options = SolverOptions(
        time_limit_s=time_limit if time_limit is not None else base.solver.time_limit_s,
        mip_gap=mip_gap if mip_gap is not None else base.solver.mip_gap,
        threads=threads if threads is not None else base.solver.threads,
        quiet=quiet,
    )
    data = _data_options(regions, layer, id_column, demand_column, sites, od_matrix, select)
    sweep = Sweep.parse(sweep_text) if sweep_text else None
    out_dir = Path(out) if out else Path("results") / f"compare_{base.name}"
    spec = None
    if scenarios is not None:
        from planner.studies.stochastic.pipeline import parse_scenarios_option

        spec = parse_scenarios_option(scenarios)
    comparison = compare(configs, data, options, sweep, scenarios=spec, seed=seed)
    write_comparison(comparison, out_dir)
    rows = comparison.rows
    for row in rows.itertuples(index=False):
        gap = "n/a" if row.mip_gap is None or row.mip_gap != row.mip_gap else f"{100 * row.mip_gap:.2f}%"
        click.echo(f"{row.variant:14} {row.status:10} cost {row.objective:,.0f} (gap {gap}), co2 {row.co2_t:,.0f} t, "
                   f"served {100 * row.share_served_within_radius:.1f}%")
    value = comparison.value
    if value["absolute"] is not None:
        click.echo(f"value of decentralisation: {value['absolute']:,.0f} per year ({value['percent']:.2f}%)")
        if value["proven_at_least"] is not None:
            click.echo(f"  proven at least {value['proven_at_least']:,.0f} per year (central-only bound − hybrid cost)")
    if comparison.stochastic is not None:
        from planner.export.summary import clean_for_json

        _print_stochastic({"stochastic": clean_for_json(comparison.stochastic.analysis.summary()),
                           "currency": base.currency}, network_follows=False)
    click.echo(f"written     {out_dir}")


def _solver_options(config, time_limit, mip_gap, threads=None, quiet=True):
    from planner.solver.outcome import SolverOptions

    return SolverOptions(
        time_limit_s=time_limit if time_limit is not None else config.solver.time_limit_s,
        mip_gap=mip_gap if mip_gap is not None else config.solver.mip_gap,
        threads=threads if threads is not None else config.solver.threads,
        quiet=quiet,
    )


@main.command(name="sweep")
@data_options
@click.option(
    "--vary",
    "vary_texts",
    multiple=True,
    required=True,
    metavar="KEY=START:STOP:N",
    help="A model key and its values (repeatable): KEY=START:STOP:N, KEY=START:STOP (for lhs) or KEY=V1,V2,...",
)
@click.option("--method", type=click.Choice(["grid", "lhs"]), default="grid", show_default=True,
              help="Every combination, or a Latin-hypercube sample of --samples points.")
@click.option("--samples", type=click.IntRange(min=1), help="Points of the Latin hypercube (--method lhs).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the Latin hypercube.")
@click.option("--workers", type=click.IntRange(min=1),
              help="Worker processes of the local Dask cluster (default: cores).")
@click.option("--scheduler", metavar="ADDRESS", help="Use the Dask scheduler at ADDRESS (tcp://host:8786) instead.")
@click.option("--out", type=click.Path(path_type=str), help="Output folder (default: results/sweep_<model name>).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), help="Time limit per scenario, seconds.")
@click.option("--mip-gap", type=click.FloatRange(0, 1, max_open=True), help="Relative MIP gap per scenario.")
@click.option("--quiet", is_flag=True, help="No progress bar, only the result.")
@_fail_cleanly
def sweep_command(regions, model_path, id_column, demand_column, layer, sites, od_matrix, select, vary_texts, method,
                  samples, seed, workers, scheduler, out, time_limit, mip_gap, quiet):
    """Solve the model for every combination (or a Latin hypercube sample) of values of model keys, on
    Dask: one solve folder per scenario, sweep.csv and charts. A rerun skips the scenarios already
    finished."""
    from planner.export.sweep_charts import write_sweep_charts
    from planner.export.sweep_folder import write_scenario_folder
    from planner.inputs.config import read_model_config
    from planner.studies.sweep import Vary, run_sweep

    if workers and scheduler:
        raise click.UsageError("give --workers or --scheduler, not both")
    _configure_logging(True)
    config = read_model_config(model_path)
    varies = [Vary.parse(text, config) for text in vary_texts]
    options = _solver_options(config, time_limit, mip_gap, threads=1)
    data = _data_options(regions, layer, id_column, demand_column, sites, od_matrix, select)
    out_dir = Path(out) if out else Path("results") / f"sweep_{config.name}"
    from planner.studies.sweep.spec import sample_points

    total = len(sample_points(varies, method, samples, seed))
    with click.progressbar(length=total, label="sweep", file=sys.stderr, show_pos=True,
                           hidden=quiet) as bar:
        result = run_sweep(config, varies, data, options, out_dir, workers=workers, scheduler=scheduler,
                           method=method, samples=samples, seed=seed, on_result=lambda row: bar.update(1),
                           writer=write_scenario_folder)
    write_sweep_charts(result.rows, result.keys, out_dir)
    click.echo(f"scenarios   {len(result.rows)}: solved {result.solved}, reused {result.reused}, "
               f"failed {result.failed}")
    for row in result.rows[result.rows["status"] == "failed"].itertuples(index=False):
        click.echo(f"failed      scenario {row.scenario}: {row.error}")
    click.echo(f"written     {out_dir}")
    if result.failed == len(result.rows):
        sys.exit(1)


@main.command(name="pareto")
@data_options
@click.option("--points", type=click.IntRange(min=2), default=5, show_default=True,
              help="Networks on the frontier, the two ends included.")
@click.option("--out", type=click.Path(path_type=str), help="Output folder (default: results/pareto_<model name>).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), help="Time limit per solve, seconds.")
@click.option("--mip-gap", type=click.FloatRange(0, 1, max_open=True), help="Relative MIP gap per solve.")
@click.option("--threads", type=click.IntRange(min=1), help="HiGHS threads.")
@click.option("--quiet", is_flag=True, help="No progress output.")
@_fail_cleanly
def pareto_command(regions, model_path, id_column, demand_column, layer, sites, od_matrix, select, points, out,
                   time_limit, mip_gap, threads, quiet):
    """The cost–CO2 frontier by the ε-constraint method: a CO2 cap stepped from the cost-optimal network's
    emissions to the least-CO2 network's, at the cost-optimal service level. Writes pareto.csv, pareto.png
    and one solve folder per point."""
    from planner.export.folder import reserved_output_dir
    from planner.export.pareto_report import write_frontier
    from planner.export.summary import solve_sources
    from planner.inputs.config import read_model_config
    from planner.studies.pareto import cost_co2_frontier

    _configure_logging(quiet)
    config = read_model_config(model_path)
    options = _solver_options(config, time_limit, mip_gap, threads, quiet)
    data = _data_options(regions, layer, id_column, demand_column, sites, od_matrix, select)
    out_dir = Path(out) if out else Path("results") / f"pareto_{config.name}"
    with reserved_output_dir(out_dir) as staging:  # an unwritable --out fails before solving
        frontier = cost_co2_frontier(config, data, options, points)
        sources = solve_sources(config, data, options, frontier.inputs.regions_path)
        write_frontier(frontier, out_dir, sources, frontier.screening.warnings, staging)
    currency = config.currency
    least = frontier.least_co2
    least_gap = "n/a" if least.mip_gap is None else f"{100 * least.mip_gap:.2f}%"
    click.echo(f"least CO2   {least.objective:,.1f} t/yr at the cost-optimal service level ({least.status.value}, "
               f"gap {least_gap})")
    for row in frontier.table.itertuples(index=False):
        gap = "n/a" if row.mip_gap is None or row.mip_gap != row.mip_gap else f"{100 * row.mip_gap:.2f}%"
        flag = f", dominated by {row.dominated_by}" if row.dominated_by else ""
        click.echo(f"point {row.point:<3} {row.kind:12} cost {row.objective:,.0f} {currency}/yr, "
                   f"co2 {row.co2_t:,.0f} t/yr, {row.status} (gap {gap}){flag}")
    click.echo(f"written     {out_dir}")


@main.command(name="alternatives")
@data_options
@click.option("--slack", type=click.FloatRange(min=0), default=0.05, show_default=True,
              help="Cost slack: each network costs at most (1 + slack) × the optimum.")
@click.option("--count", type=click.IntRange(min=1), default=5, show_default=True, help="Alternatives to find.")
@click.option("--out", type=click.Path(path_type=str),
              help="Output folder (default: results/alternatives_<model name>).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), help="Time limit per solve, seconds.")
@click.option("--mip-gap", type=click.FloatRange(0, 1, max_open=True), help="Relative MIP gap per solve.")
@click.option("--threads", type=click.IntRange(min=1), help="HiGHS threads.")
@click.option("--quiet", is_flag=True, help="No progress output.")
@_fail_cleanly
def alternatives_command(regions, model_path, id_column, demand_column, layer, sites, od_matrix, select, slack, count,
                         out, time_limit, mip_gap, threads, quiet):
    """Near-optimal networks (modelling to generate alternatives): each within --slack of the optimal cost
    and as different as possible from the ones before in which sites open and as which type. Writes
    alternatives.csv, alternatives.png (side by side) and one solve folder per network."""
    from planner.export.alternatives_report import write_alternatives
    from planner.export.folder import reserved_output_dir
    from planner.export.summary import solve_sources
    from planner.inputs.config import read_model_config
    from planner.studies.mga import near_optimal_networks

    _configure_logging(quiet)
    config = read_model_config(model_path)
    options = _solver_options(config, time_limit, mip_gap, threads, quiet)
    data = _data_options(regions, layer, id_column, demand_column, sites, od_matrix, select)
    out_dir = Path(out) if out else Path("results") / f"alternatives_{config.name}"
    with reserved_output_dir(out_dir) as staging:  # an unwritable --out fails before solving
        result = near_optimal_networks(config, data, options, slack, count)
        sources = solve_sources(config, data, options, result.inputs.regions_path)
        write_alternatives(result, out_dir, sources, result.screening.warnings, staging)
    for row in result.table.itertuples(index=False):
        name = "optimum" if row.alternative == 0 else f"alternative {row.alternative}"
        changes = f"opened [{row.sites_opened}] closed [{row.sites_closed}] retyped [{row.sites_retyped}]"
        click.echo(f"{name:14} cost {row.audited_cost:,.0f} (+{row.above_optimum_pct:.2f}%), "
                   f"{row.distance_to_optimum} options differ" + ("" if row.alternative == 0 else f": {changes}"))
    if result.stopped_early:
        click.echo(f"stopped     {result.stopped_early}")
    click.echo(f"written     {out_dir}")


if __name__ == "__main__":  # python -m planner.cli
    main()
