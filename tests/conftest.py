"""Fixtures shared by the test modules."""

import hashlib
import os
from pathlib import Path

import pytest

from planner.cli.process import logging_restored

CHECKOUT = Path(__file__).resolve().parent.parent
# the published benchmark instances beside the checkout (../shared/benchmarks), or where PLANNER_BENCHMARKS says
SHARED_BENCHMARKS = Path(os.environ.get("PLANNER_BENCHMARKS", CHECKOUT.parent / "shared" / "benchmarks"))


# the CLI's own context manager: the 'planner' logger as it was before a command, for callers in the same process
restored_planner_logger = logging_restored


@pytest.fixture(autouse=True)
def _restore_planner_logger():
    """Every test starts and ends with the 'planner' logger as it was."""
    with restored_planner_logger():
        yield


def snapshot(root: Path) -> dict[str, tuple]:
    """Every file and folder below ``root`` (hidden ones too): folders by name, files by size and hash."""
    tree = {}
    for folder, names, files in os.walk(root):
        for name in names:
            tree[os.path.relpath(os.path.join(folder, name), root)] = ("folder",)
        for name in files:
            path = Path(folder) / name
            tree[os.path.relpath(path, root)] = (path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest())
    return tree
