"""``planner compare``, ``planner sweep``, ``planner pareto`` and ``planner alternatives``: the studies
that solve several variants of one model on one dataset."""

from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path

import click

from planner.cli.app import main
from planner.cli.console import alternative_line, amount, cheaper_than_the_first, print_comparison, stopped_text
from planner.cli.options import (
    FiniteFloat,
    WholeRange,
    cost_objective_only,
    data_options,
    output_folder,
    refuse_seed_without_scenarios,
    reserve_plan_write,
    run_options,
    solver_options,
)
from planner.cli.process import configure_logging
from planner.errors import InputError

logger = logging.getLogger(__name__)


def _variant_name(name: str, path: Path, taken) -> str:
    """A further model's row name in compare.csv: its ``name``, else its file's stem where that name is taken
    (two files with one name had read 'small' and 'small_4'), else the stem numbered; a name that begins as
    a variant group does ('micro_only_cheap.toml') is prefixed 'model_', or the comparison would take that
    model for the micro-only network."""
    def plain(text: str) -> str:
        return f"model_{text}" if text.startswith(("central_only", "micro_only")) else text

    if plain(name) not in taken:
        return plain(name)
    number, candidate = 1, plain(path.stem)
    while candidate in taken:
        number += 1
        candidate = f"{plain(path.stem)}_{number}"
    return candidate


def _comparable(extra, base, data) -> None:
    """A further model of ``compare`` must be a cost model in the base model's currency on the same
    dataset (its ``[regions]`` the base's, unless REGIONS gives one file for all); else one line."""
    cost_objective_only(extra, "planner compare")
    where = extra.source_path or extra.name
    if extra.currency != base.currency:
        raise InputError(f"{where}: its currency is {extra.currency}, the --model's {base.currency}; compare needs "
                         "one currency (convert the amounts and set currency)")
    if data.regions_path is None and extra.regions.model_dump() != base.regions.model_dump():
        raise InputError(f"{where}: its [regions] differ from the --model's ({_regions_difference(extra, base)}); "
                         "compare works on one dataset: give the same [regions], or the regions file as REGIONS for "
                         "all models")
    if set(extra.products) != set(base.products):
        logger.warning(
            "compare: %s plans the products [%s] and the --model [%s]: its cost serves other demand, so the "
            "networks' costs do not compare like for like", where, ", ".join(extra.products), ", ".join(base.products))


def _regions_difference(extra, base) -> str:
    """The ``[regions]`` keys whose values differ between two models, each with both values (a path alone had
    been shown, the same twice where another key differed)."""
    mine, theirs = extra.regions.model_dump(), base.regions.model_dump()
    keys = [key for key in mine if mine[key] != theirs.get(key)]
    shown = [f"regions.{key} = {_shown_value(mine[key])} in it, {_shown_value(theirs.get(key))} in the --model"
             for key in keys[:3]]
    return "; ".join(shown) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")


def _shown_value(value) -> str:
    return "not set" if value is None else repr(str(value) if isinstance(value, Path) else value)


@main.command(name="compare")
@click.argument("models", nargs=-1, type=click.Path(path_type=str))
@functools.partial(data_options, regions_as_option=True)
@click.option(
    "--sweep",
    "sweep_text",
    metavar="KEY=START:STOP:N",
    help="Breakeven sweep of one model key on the hybrid model, e.g. carbon_price=0:400:9 (any dotted key, "
    "such as transport.<product>.cost_per_unit_km).",
)
@click.option("--scenarios", metavar="N|FILE",
              help="Also plan the hybrid model under demand uncertainty (as solve --scenarios): cost distribution "
              "per strategy, VSS and EVPI.")
@click.option("--seed", type=WholeRange(min=0), default=0, show_default=True, help="Seed of --scenarios N.")
@click.option("--sensitivity", is_flag=True,
              help="Also find what flips the decision: each parameter (transport cost, demand, microfactory and "
              "central fixed cost, carbon price, custom share) at the low and high end of its range, the three "
              "networks compared at each end, breakevens bisected; writes sensitivity.csv and sensitivity.png and "
              "adds a tornado chart to compare.html.")
@click.option("--sensitivity-range", type=FiniteFloat(0, 1, min_open=True), metavar="FRACTION",
              help="Range of the scaled parameters: ×(1 − FRACTION) to ×(1 + FRACTION) of the model's values "
              "(default 0.3). The carbon price runs from 0 to twice the model's (0 to 400 when it is 0).")
@click.option("--sensitivity-param", "sensitivity_params", multiple=True, metavar="KEY=LOW:HIGH",
              help="Range of one parameter (repeatable): transport_cost, demand, micro_fixed_cost, "
              "central_fixed_cost or custom_share as multipliers (micro_fixed_cost=0.5:1.5), carbon_price in "
              "currency/t CO2 (carbon_price=0:300); or a dotted model key in its own unit, added to the set "
              "(distance.circuity=1.1:1.5; a type's opening cost is facility_types.TYPE.opening_cost_per_yr).")
@click.option("--sensitivity-steps", type=WholeRange(0, 20), metavar="N",
              help="Bisection steps per breakeven (default 4): the breakeven is known to ± range / 2^(N+1).")
@click.option("--workers", type=WholeRange(min=1),
              help="Worker processes of the local Dask cluster of --sensitivity (default: cores).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Solve --sensitivity on the Dask scheduler at ADDRESS (tcp://host:8786), or 'synchronous': "
              "here, one solve after another.")
@run_options(" per solve", "results/compare_<model name>")
def compare_command(models, data, model_path, sweep_text, scenarios, seed, sensitivity, sensitivity_range,
                    sensitivity_params, sensitivity_steps, workers, scheduler, out, time_limit, mip_gap, threads,
                    quiet):
    """Compare central-only, micro-only and hybrid networks of --model (plus any MODELS files) on one
    dataset: cost parts, CO2, facility counts, delivery distances, the value of decentralisation, where
    microfactories win, an optional breakeven sweep and an optional sensitivity (what flips the decision).
    Writes compare.csv and compare.html."""
    from planner.export.compare_report import write_comparison
    from planner.inputs.config import read_model_config
    from planner.studies.compare import compare, standard_variants
    from planner.studies.sensitivity import BISECT_STEPS, DEFAULT_SPREAD, run_sensitivity, sensitivity_parameters

    given = [name for name, value in (("--sensitivity-range", sensitivity_range), ("--workers", workers),
             ("--sensitivity-param", sensitivity_params), ("--sensitivity-steps", sensitivity_steps),
             ("--scheduler", scheduler)) if value not in (None, ())]
    if given and not sensitivity:
        raise click.UsageError(f"{given[0]} needs --sensitivity")
    refuse_seed_without_scenarios(scenarios)
    if workers and scheduler:
        raise click.UsageError("give --workers or --scheduler, not both")
    configure_logging(quiet)
    base = read_model_config(model_path)
    cost_objective_only(base, "planner compare")
    configs = _with_further_models(standard_variants(base), models, base, data)
    _check_scheduler(scheduler)
    options = solver_options(base, time_limit, mip_gap, threads, quiet)
    sweep, spec = _compare_studies(base, data, sweep_text, scenarios, seed)
    parameters = sensitivity_parameters(base, sensitivity_range or DEFAULT_SPREAD, sensitivity_params) \
        if sensitivity else None
    out_dir = output_folder(out, base, data, "compare_", inputs=[*models, scenarios])
    from planner.export.folder import reserved_output_dir

    with reserved_output_dir(out_dir) as staging:  # an unwritable --out fails before the variants are solved
        comparison = compare(configs, data, options, sweep, scenarios=spec, seed=seed)
        section = None
        if parameters:
            from planner.export import sensitivity_report as report

            steps = BISECT_STEPS if sensitivity_steps is None else sensitivity_steps
            result = run_sensitivity(base, data, options, parameters, comparison.rows, steps, workers, scheduler,
                                     comparison.networks)
            image = report.tornado_png(result, base.currency)
            section = report.sensitivity_section(result, base.currency, image)
        write_comparison(comparison, out_dir, extra_sections=(section,) if section else (), staging=staging,
                         extra_files=(lambda folder: report.write_sensitivity(result, folder, image, base.currency))
                         if section else None)
    print_comparison(comparison, base.currency)
    for line in report.sensitivity_lines(result, base.currency) if section else ():
        click.echo(line)
    click.echo(f"written     {out_dir}")
    return section


def _with_further_models(configs: dict, models, base, data) -> dict:
    """``configs`` with compare's further MODELS, each read and checked against the base model."""
    from planner.inputs.config import read_model_config

    for path in models:
        if Path(path).is_dir():
            raise InputError(f"{path}: is a folder, not a model file (given as a further MODEL of compare); give a "
                             "model file, and regions with --regions")
        if not Path(path).exists():
            raise InputError(f"{path}: no such model file (given as a further MODEL of compare); check the path")
        extra = read_model_config(path)
        _comparable(extra, base, data)
        configs[_variant_name(extra.name, Path(path), configs)] = extra
    return configs


def _check_scheduler(scheduler: str | None) -> None:
    """Connect to compare's --scheduler once before the variants are solved (a wrong address had been
    found after them); 'synchronous' (solve here) needs none."""
    from planner.studies.sensitivity import SYNCHRONOUS

    if not scheduler or scheduler == SYNCHRONOUS:
        return
    from planner.studies.sweep.runner import dask_client

    with dask_client(None, scheduler):
        pass


def _compare_studies(base, data, sweep_text: str | None, scenarios: str | None, seed: int = 0):
    """compare's --sweep (a Sweep, its key and values checked against the schema) and --scenarios (a
    count or a readable file), each None when not given: refused before anything is solved."""
    from planner.studies.compare import Sweep

    sweep = Sweep.parse(sweep_text) if sweep_text else None
    if sweep is not None:
        sweep.check(base)
    spec = None
    if scenarios is not None:
        from planner.inputs.scenarios import check_scenario_file, unsupported_with_scenarios

        unsupported_with_scenarios(base, "--scenarios", data)
        from planner.studies.stochastic.pipeline import parse_scenarios_option, scenario_problem

        spec = parse_scenarios_option(scenarios)
        if isinstance(spec, Path):
            check_scenario_file(spec)
        scenario_problem(base, data, spec, seed)  # its ids and its size, before the variants are solved
    return sweep, spec


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
@click.option("--samples", type=WholeRange(min=1), help="Points of the Latin hypercube (--method lhs).")
@click.option("--seed", type=WholeRange(min=0), default=0, show_default=True, help="Seed of the Latin hypercube.")
@click.option("--workers", type=WholeRange(min=1),
              help="Worker processes of the local Dask cluster (default: cores).")
@click.option("--scheduler", metavar="ADDRESS", help="Use the Dask scheduler at ADDRESS (tcp://host:8786) instead.")
@run_options(" per scenario", "results/sweep_<model name>", threads=False,
             quiet_help="No progress bar, only the result.")
def sweep_command(data, model_path, vary_texts, method, samples, seed, workers, scheduler, out, time_limit, mip_gap,
                  quiet):
    """Solve the model for every combination (or a Latin hypercube sample) of values of model keys, on
    Dask: one solve folder per scenario, sweep.csv and charts. A rerun skips the scenarios already
    finished."""
    from planner.export.sweep_charts import write_sweep_charts
    from planner.export.sweep_folder import sweep_to_folder
    from planner.inputs.config import read_model_config
    from planner.inputs.prepare import load_inputs
    from planner.studies.sweep import Vary, sample_points

    if workers and scheduler:
        raise click.UsageError("give --workers or --scheduler, not both")
    if samples is not None and method != "lhs":
        raise click.UsageError("--samples is the size of a Latin hypercube: give --method lhs with it")
    context = click.get_current_context()
    if method != "lhs" and context.get_parameter_source("seed") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--seed seeds a Latin hypercube: give --method lhs with it (a grid has no draw)")
    config = read_model_config(model_path)
    cost_objective_only(config, "planner sweep")
    varies = [Vary.parse(text, config) for text in vary_texts]
    options = solver_options(config, time_limit, mip_gap, threads=1)
    total = len(sample_points(varies, method, samples, seed))
    load_inputs(config, data)  # data every scenario would refuse fails here, in one line, not once per scenario
    out_dir = output_folder(out, config, data, "sweep_", in_place=True)
    with click.progressbar(length=total, label="sweep", file=sys.stderr, show_pos=True, hidden=quiet) as bar:
        result = sweep_to_folder(config, varies, data, options, out_dir, workers=workers,
                                 scheduler=scheduler, method=method, samples=samples, seed=seed,
                                 on_result=lambda row: bar.update(1),
                                 on_table=lambda table: write_sweep_charts(table, [vary.key for vary in varies],
                                                                           out_dir, config.currency))
    late = f", no network in time {result.no_network_in_time}" if result.no_network_in_time else ""
    click.echo(f"scenarios   {len(result.rows)}: solved {result.solved}, reused {result.reused}, "
               f"infeasible {result.infeasible}, failed {result.failed}{late}{stopped_text(result.rows)}")
    # the model has no network there; the run failed (crash, input); the time limit ended the solve first
    for status, label in (("infeasible", "infeasible"), ("failed", "failed"), ("no_network_in_time", "no network")):
        for row in result.rows[result.rows["status"] == status].itertuples(index=False):
            click.echo(f"{label:<11} scenario {row.scenario}: {row.error}")
    click.echo(f"written     {out_dir}")
    if result.without_network == len(result.rows):  # no scenario has a network
        if result.failed == len(result.rows) and result.rows["error"].nunique() == 1:  # the data's, said once
            from planner.inputs.prepare import prepare_problem

            prepare_problem(config, load_inputs(config, data))  # an input error of the files exits 2 here
        sys.exit(1)


@main.command(name="pareto")
@data_options
@click.option("--points", type=WholeRange(min=2), default=5, show_default=True,
              help="Networks on the frontier, the two ends included.")
@run_options(" per solve", "results/pareto_<model name>")
def pareto_command(data, model_path, points, out, time_limit, mip_gap, threads, quiet):
    """The cost–CO2 frontier by the ε-constraint method: a CO2 cap stepped from the cost-optimal network's
    emissions to the least-CO2 network's, at the cost-optimal service level. Writes pareto.csv, pareto.png
    and one solve folder per point."""
    from planner.export.pareto_report import write_frontier
    from planner.solver.outcome import gap_text
    from planner.studies.pareto import cost_co2_frontier

    config, options, out_dir = _cost_study("pareto", model_path, data, out, time_limit, mip_gap, threads, quiet)
    frontier, _ = reserve_plan_write(out_dir, config, data, options,
                                      lambda: cost_co2_frontier(config, data, options, points), write_frontier)
    least = frontier.least_co2
    click.echo(f"least CO2   {amount(least.objective)} t/yr at the cost-optimal service level ({least.status.value}, "
               f"gap {gap_text(least.mip_gap)})")
    for row in frontier.table.itertuples(index=False):
        flag = f", dominated by {row.dominated_by}" if row.dominated_by else ""
        click.echo(f"point {row.point:<3} {row.kind:12} cost {amount(row.objective)} {config.currency}/yr, "
                   f"co2 {amount(row.co2_t)} t/yr, {row.status} (gap {gap_text(row.mip_gap)}){flag}")
    click.echo(f"written     {out_dir}")


def _cost_study(name: str, model_path, data, out, time_limit, mip_gap, threads, quiet):
    """(model, solver options, output folder) of a study that solves the cost model many times (pareto,
    alternatives): the log set, a classic kind refused, the folder checked before anything is solved."""
    from planner.inputs.config import read_model_config

    configure_logging(quiet)
    config = read_model_config(model_path)
    cost_objective_only(config, f"planner {name}")
    options = solver_options(config, time_limit, mip_gap, threads, quiet)
    return config, options, output_folder(out, config, data, f"{name}_")


@main.command(name="alternatives")
@data_options
@click.option("--slack", type=FiniteFloat(min=0), default=0.05, show_default=True,
              help="Cost slack: each network costs at most the optimum + slack × |optimum|.")
@click.option("--count", type=WholeRange(min=1), default=5, show_default=True, help="Alternatives to find.")
@run_options(" per solve", "results/alternatives_<model name>")
def alternatives_command(data, model_path, slack, count, out, time_limit, mip_gap, threads, quiet):
    """Near-optimal networks (modelling to generate alternatives): each within --slack of the optimal cost
    and as different as possible from the ones before in which sites open and as which type. Writes
    alternatives.csv, alternatives.png (side by side) and one solve folder per network."""
    from planner.export.alternatives_report import write_alternatives
    from planner.studies.mga import near_optimal_networks

    config, options, out_dir = _cost_study("alternatives", model_path, data, out, time_limit, mip_gap, threads, quiet)
    result, _ = reserve_plan_write(out_dir, config, data, options,
                                    lambda: near_optimal_networks(config, data, options, slack, count),
                                    write_alternatives)
    from planner.results import region_names

    inputs = result.inputs  # the sites are the regions (no sites file): named as the regions are
    names = region_names(inputs.regions) if inputs is not None and inputs.sites_path is None else None
    for row in result.table.itertuples(index=False):
        click.echo(alternative_line(row, names, f" {config.currency}/yr"))
    cheaper = cheaper_than_the_first(result.table)
    if cheaper:
        click.echo(cheaper)
    if result.stopped_early:
        click.echo(f"stopped     {result.stopped_early}")
    click.echo(f"written     {out_dir}")
