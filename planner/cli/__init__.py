"""The ``planner`` command line: parse → call one library function → print.

One module per concern: :mod:`.app` the group, :mod:`.solve`, :mod:`.check` (validate, init, bench) and
:mod:`.studies` (compare, sweep, pareto, alternatives) the commands, :mod:`.options` the options they share,
:mod:`.console` what they print, :mod:`.process` exit codes, logging and streams.

Every command runs inside :func:`planner.interrupt.handle_signals`, and errors become CLI errors here
and only here (:class:`PlannerGroup`): one line on stderr and the exit code — 0 results written,
1 no solution or an internal error (its traceback saved to a file, shown with ``--debug``), 2 bad
input or usage, 130 Ctrl-C, 143 SIGTERM.

An output folder is replaced only when the planner wrote it (it holds ``.planner-output``, see
``planner.export.folder``); any other existing, non-empty ``--out`` is refused before anything runs.
"""

from planner.cli import check, solve, studies  # noqa: F401  (each command registers on main)
from planner.cli.app import main

__all__ = ["main"]
