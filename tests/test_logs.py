"""The command's log: each warning once, marked with the study part (compare's variant) that raised it."""

import io
import logging

import pytest

from planner.cli.process import configure_logging
from planner.logs import current_study_part, study_part


@pytest.fixture
def command_log():
    """The planner's logger as the command configures it, writing to a buffer: (logger, buffer)."""
    root = logging.getLogger("planner")
    saved = (list(root.handlers), root.level, root.propagate)
    configure_logging(quiet=False)
    buffer = io.StringIO()
    root.handlers[0].setStream(buffer)
    yield logging.getLogger("planner.studies.compare"), buffer
    root.handlers[:], root.level, root.propagate = saved[0], saved[1], saved[2]


def test_a_warning_names_the_variant_that_raised_it_first(command_log):
    planner_log, buffer = command_log
    with study_part("variant micro_only"):
        planner_log.warning("only in this variant")
        planner_log.warning("in every variant")
    with study_part("variant hybrid"):
        planner_log.warning("in every variant")
        planner_log.info("an info line")
    planner_log.warning("outside the variants")
    lines = [line.split("] ", 1)[1] for line in buffer.getvalue().splitlines()]
    assert lines == [
        "warning (variant micro_only) only in this variant",
        "warning (variant micro_only) in every variant",
        "info    (variant hybrid) an info line",
        "warning outside the variants",
    ]


def test_the_part_ends_with_its_block_even_on_an_error():
    with pytest.raises(RuntimeError), study_part("variant hybrid"):
        assert current_study_part() == "variant hybrid"
        raise RuntimeError
    assert current_study_part() is None


def test_a_phase_entered_twice_is_announced_once(caplog):
    from planner.timing import Timing

    timing = Timing()
    with caplog.at_level(logging.INFO, logger="planner"):
        with timing.phase("build"):
            pass
        with timing.phase("build"):  # the pipeline builds the index, the engine then the arrays
            pass
    assert [r.getMessage() for r in caplog.records].count("build ...") == 1
    assert "build" in timing.seconds
