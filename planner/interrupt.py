"""Ctrl-C and SIGTERM: a run stops promptly and cleanly in every phase.

:func:`handle_signals` (installed by the CLI) turns SIGINT and SIGTERM into :class:`Interrupted`
(exit code 130 or 143). Where native code runs that cannot be interrupted by a Python exception
(HiGHS), the code runs inside :func:`native_section`: the signal only sets :data:`STOP`, which that
code polls (HiGHS through its interrupt callbacks, see ``planner.solver.highs``) and ends on; then
:func:`raise_if_stopped` raises. Worker threads poll :func:`stop_requested` the same way.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

from planner.errors import PlannerError

STOP = threading.Event()
_state = {"signal": None, "native_depth": 0}


class Interrupted(PlannerError):
    """The run was stopped by Ctrl-C (exit code 130) or SIGTERM (143); nothing is written."""

    def __init__(self, signal_number: int = signal.SIGINT) -> None:
        name = "SIGTERM" if signal_number == signal.SIGTERM else "Ctrl-C"
        super().__init__(f"interrupted by {name}; nothing written")
        self.exit_code = 128 + int(signal_number)


def stop_requested() -> bool:
    """True once a signal asked the run to stop."""
    return STOP.is_set()


def raise_if_stopped() -> None:
    """Raise :class:`Interrupted` if a signal asked the run to stop."""
    if STOP.is_set():
        raise Interrupted(_state["signal"] or signal.SIGINT)


def _on_signal(signal_number, frame) -> None:
    _state["signal"] = signal_number
    STOP.set()
    if _state["native_depth"] == 0:
        raise Interrupted(signal_number)


@contextmanager
def native_section():
    """Code inside polls :data:`STOP` instead of being interrupted by an exception."""
    _state["native_depth"] += 1
    try:
        yield
    finally:
        _state["native_depth"] -= 1
    raise_if_stopped()


@contextmanager
def handle_signals():
    """SIGINT and SIGTERM raise :class:`Interrupted` while inside (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    STOP.clear()
    _state["signal"] = None
    previous = {number: signal.signal(number, _on_signal) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
