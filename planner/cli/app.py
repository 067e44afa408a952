"""The ``planner`` group: the program's own options; the commands register on it."""

from __future__ import annotations

import warnings

import click

from planner.cli.process import PlannerGroup, configure_logging


@click.group(cls=PlannerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="microfactory-planner")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error instead of saving it to a file.")
def main(debug: bool) -> None:
    """Plan a network of microfactories and central plants for regional demand (Pyomo + HiGHS)."""
    configure_logging(quiet=True)  # warnings while reading the options; each command sets its own level
    # Ctrl-C while matplotlib imports its 3-D toolkit leaves that half imported, and matplotlib then warns on
    # the next import of its projections (seen once in a CI run of the signal tests); nothing here is 3-D
    warnings.filterwarnings("ignore", message="Unable to import Axes3D", category=UserWarning)
