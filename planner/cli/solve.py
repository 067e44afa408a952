"""``planner solve``: one network, or with ``--scenarios``/``--periods`` the stochastic or staged plan."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import click

from planner.cli.app import main
from planner.cli.console import print_rollout, print_stochastic, print_summary
from planner.cli.options import (
    WholeRange,
    cost_objective_only,
    data_options,
    output_folder,
    refuse_seed_without_scenarios,
    reserve_plan_write,
    run_options,
    solver_options,
    write_plan,
    write_study_plan,
)
from planner.cli.process import configure_logging
from planner.errors import InputError

logger = logging.getLogger(__name__)


@main.command()
@data_options
@run_options("", "results/<model name>", quiet_help="No progress output, only the result.")
@click.option("--basemap", is_flag=True, help="Add an OpenStreetMap tile layer to map.html (needs internet to view).")
@click.option(
    "--scenarios",
    metavar="N|FILE",
    help="Plan under demand uncertainty: generate N scenarios ([uncertainty] of the model) or read a CSV "
    "(scenario, region, product, demand, probability); adds VSS, EVPI and scenarios.csv.",
)
@click.option("--seed", type=WholeRange(min=0), default=0, show_default=True, help="Seed of --scenarios N.")
@click.option(
    "--periods",
    type=WholeRange(min=1),
    help="Staged rollout over N periods ([rollout] of the model: adoption, pilot regions, discounting); with "
    "--scenarios: pilot, then scale. Writes periods.csv and timeline.png.",
)
@click.option("--start", "start_path", type=click.Path(path_type=Path), metavar="FOLDER",
              help="A previous run's output folder (or its sites.csv): its network, where feasible in this model, "
              "is the solver's first incumbent, so the answer is never dearer.")
def solve(data, model_path, out, time_limit, mip_gap, threads, quiet, basemap, scenarios=None, seed=0, periods=None,
          start_path=None):
    """Solve the network for REGIONS (default: the model file's regions.path) and write the outputs."""
    from planner.inputs.config import read_model_config
    from planner.pipeline import plan

    refuse_seed_without_scenarios(scenarios)
    configure_logging(quiet)
    config = read_model_config(model_path)
    start_for, start_record = _previous_start(start_path, config, scenarios is not None or periods is not None)
    options = solver_options(config, time_limit, mip_gap, threads, quiet)
    out_dir = output_folder(out, config, data, inputs=[scenarios])
    if periods is None:
        _warn_rollout_unread(config)
    if periods is not None:
        from planner.studies.stochastic.staged import check_periods

        check_periods(periods)
    if scenarios is not None or periods is not None:
        from planner.inputs.scenarios import unsupported_with_scenarios

        cost_objective_only(config, "--scenarios or --periods")
        unsupported_with_scenarios(config, "--scenarios and --periods", data, periods=periods is not None)
        if periods is not None and "rollout" not in config.model_fields_set:
            logger.warning("--periods %d: the model file has no [rollout]; its defaults apply (adoption, no pilot "
                           "regions, no discounting: see models/README.md)", periods)
        return _solve_uncertain(config, data, options, out_dir, scenarios, seed, periods, basemap)
    _, summary = reserve_plan_write(out_dir, config, data, options,
                                     lambda: plan(config, data, options, start_for=start_for), write_plan,
                                     extra_sources=start_record, basemap=basemap)
    print_summary(summary, out_dir)


def _previous_start(path: Path | None, config, study: bool):
    """``--start``: (the ``start_for`` of ``planner.pipeline.plan``, the summary's ``inputs`` entry it fills:
    path, whether the start was used and its objective; null without one). The network is read before
    anything is solved or written (a bad file is one line); a study or a classic kind refuses it."""
    if path is None:
        return None, {"start": None}
    from planner.inputs.start_network import read_start_network
    from planner.studies.previous_start import previous_network_start

    if study:
        raise InputError("--start works with a single solve; solve without --scenarios and --periods, or without "
                         "--start")
    cost_objective_only(config, "--start")
    network = read_start_network(path)
    record = {}
    return (lambda problem: previous_network_start(problem, network, record)), {"start": record}


def _warn_rollout_unread(config) -> None:
    """A model file's ``[rollout]`` is read only with ``--periods`` (without it the solve is of one
    period, as documented): say so where the file has one, rather than ignore it silently."""
    if "rollout" in config.model_fields_set:
        logger.warning("the model file's [rollout] (%d periods) is read only with --periods: this solve is of one "
                       "period; pass --periods %d for the staged rollout", config.rollout.periods,
                       max(config.rollout.periods, 2))


def _solve_uncertain(config, data, options, out_dir: Path, scenarios, seed, periods, basemap) -> None:
    """``solve --scenarios`` / ``--periods``: the stochastic or staged plan, written like a solve."""
    from planner.studies.stochastic.pipeline import parse_scenarios_option, plan_stochastic
    from planner.studies.stochastic.staged import plan_staged

    spec = None if scenarios is None else parse_scenarios_option(scenarios)
    if periods is not None:
        make = functools.partial(plan_staged, config, data, options, periods, spec, seed)
    else:
        make = functools.partial(plan_stochastic, config, data, options, spec, seed)
    generated = {"generated": spec, "seed": seed} if isinstance(spec, int) else str(spec)
    extra_sources = {"scenarios": None if spec is None else generated, "periods": periods}
    _, summary = reserve_plan_write(out_dir, config, data, options, make, write_study_plan, extra_sources,
                                     basemap=basemap)
    if "rollout" in summary:
        print_rollout(summary)
    else:
        print_stochastic(summary)
    print_summary(summary, out_dir)
