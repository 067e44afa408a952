"""Ctrl-C, SIGTERM and SIGHUP: a run stops promptly and cleanly in every phase.

:func:`handle_signals` (installed by the CLI) turns SIGINT, SIGTERM and SIGHUP (a closed terminal or
a dropped ssh session) into :class:`Interrupted` (exit code 130, 143 or 129). Its message says what
the run had already finished (:func:`note_kept`: an output folder moved into place just before the
signal, a sweep's finished scenarios), else "nothing written". Where native code runs that cannot be
interrupted by a Python exception (HiGHS), or where a few steps must not be cut in half (moving a
finished output folder into place), the code runs inside :func:`native_section`: the signal only sets
:data:`STOP`, which that code polls (HiGHS through its interrupt callbacks, see
``planner.solver.highs``) and ends on; then :func:`raise_if_stopped` raises. Worker threads poll
:func:`stop_requested` the same way.

Code on the way may swallow the exception (a library that catches every exception, a C extension that
ignores errors in a callback). So after a signal :class:`Interrupted` is raised again in the main
thread every :data:`INSIST_S` seconds until the run has ended, except inside a native section or
while an exception is being handled (the cleanup the first one started is let finish). A third signal
from outside ends the process at once (a last resort when native code does not return).
"""

from __future__ import annotations

import _thread
import os
import signal
import sys
import threading
from contextlib import contextmanager, suppress

STOP = threading.Event()
INSIST_S = 0.5  # seconds between raising Interrupted again after a signal, until the run has ended
FORCE_AFTER = 3  # signals from outside: the one that ends the process without cleanup
_state = {"signal": None, "native_depth": 0, "count": 0, "insisting": False, "watchdog": None, "kept": []}
SIGNAL_NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
HANDLED = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
_ended = threading.Event()  # set when handle_signals exits: nothing left to interrupt
_insisting = threading.Lock()  # no raising again once the run has ended


class Interrupted(BaseException):
    """The run was stopped by Ctrl-C (exit code 130), SIGTERM (143) or SIGHUP (129); nothing is written
    from then on.

    Like ``KeyboardInterrupt`` it is not an ``Exception``, so that ``except Exception`` (in the
    planner's readers, in logging, in libraries) does not swallow it; the CLI's catch point turns it
    into its one line and exit code."""

    def __init__(self, signal_number: int = signal.SIGINT) -> None:
        name = SIGNAL_NAMES.get(signal_number) or signal.Signals(signal_number).name
        kept = "; ".join(_state["kept"]) or "nothing written"
        super().__init__(f"interrupted by {name}; {kept}")
        self.exit_code = 128 + int(signal_number)


def note_kept(what: str, replacing: bool = False) -> None:
    """Note what the run has finished and keeps (``"/out written in full"``): an interruption from now
    on says so instead of "nothing written". ``replacing``: in place of the last note (a count that
    grows: "3 of 5 instances printed")."""
    if replacing and _state["kept"]:
        _state["kept"][-1] = what
    else:
        _state["kept"].append(what)


def stop_requested() -> bool:
    """True once a signal asked the run to stop."""
    return STOP.is_set()


def raise_if_stopped() -> None:
    """Raise :class:`Interrupted` if a signal asked the run to stop."""
    if STOP.is_set():
        raise Interrupted(_state["signal"] or signal.SIGINT)


def interruption() -> Interrupted | None:
    """The :class:`Interrupted` a received signal stands for (None without one): whatever error a run
    ends with after a signal, the signal is why (code that wraps errors may have wrapped it)."""
    return Interrupted(_state["signal"] or signal.SIGINT) if STOP.is_set() else None


def _on_signal(signal_number, frame) -> None:
    if _ended.is_set():
        return
    if _state["insisting"]:  # from _insist, not from outside
        _state["insisting"] = False
    else:
        _state["count"] += 1
        if _state["count"] >= FORCE_AFTER:
            sys.stderr.write(f"error: {Interrupted(signal_number)} (forced; the next run removes the staging)\n")
            sys.stderr.flush()
            os._exit(128 + int(signal_number))
    if not STOP.is_set():
        _state["signal"] = signal_number
        STOP.set()
        _state["watchdog"] = threading.Thread(target=_insist, name="planner-interrupt", daemon=True)
        _state["watchdog"].start()
    elif sys.exc_info()[0] is not None:  # the cleanup of an earlier one is running: let it finish
        return
    if _state["native_depth"] == 0:
        raise Interrupted(_state["signal"])


def _insist() -> None:
    """Raise :class:`Interrupted` in the main thread again until the run has ended (see the module)."""
    while not _ended.wait(INSIST_S):
        with _insisting:
            if _ended.is_set():
                return
            _state["insisting"] = True
            _thread.interrupt_main(int(_state["signal"] or signal.SIGINT))


def _quiet_about_interrupted(previous):
    """An ``sys.unraisablehook`` that drops :class:`Interrupted`: a signal that arrives while Python runs
    a finaliser or a weakref callback (garbage collection, at any moment) raises there, where Python
    cannot propagate it and would print "Exception ignored in … Traceback" to the user; the run still
    stops (:data:`STOP` is set and :func:`_insist` raises again in the main thread). Anything else goes
    to ``previous``."""

    def hook(unraisable) -> None:
        if isinstance(unraisable.exc_value, Interrupted):
            return
        previous(unraisable)

    return hook


@contextmanager
def native_section():
    """Code inside polls :data:`STOP` instead of being interrupted by an exception."""
    _state["native_depth"] += 1
    try:
        yield
    finally:
        _state["native_depth"] -= 1
    raise_if_stopped()


def _after_the_run(kept: list[str]):
    """The handler of SIGINT, SIGTERM and SIGHUP once a program's run has ended (the interpreter's
    teardown may take a second): its one line, saying what the run had finished, and the signal's exit
    code at once."""

    def handler(signal_number, frame) -> None:
        name = SIGNAL_NAMES.get(signal_number) or signal.Signals(signal_number).name
        sys.stderr.write(f"error: interrupted by {name} while exiting; {'; '.join(kept) or 'the run had ended'}\n")
        sys.stderr.flush()
        os._exit(128 + int(signal_number))

    return handler


def _before_the_run(signal_number, frame) -> None:
    """The handler of SIGINT, SIGTERM and SIGHUP while the program starts (its imports, its options read),
    before :func:`handle_signals` takes over: nothing has begun, so the process ends at once with its line."""
    name = SIGNAL_NAMES.get(signal_number) or signal.Signals(signal_number).name
    with suppress(OSError):  # stderr closed by the caller
        os.write(2, f"error: interrupted by {name}; nothing written\n".encode())
    os._exit(128 + int(signal_number))


def end_at_once_until_handled() -> None:
    """The program's first step (``python -m planner``, the ``planner`` script): until a command's
    :func:`handle_signals` takes over, a signal ends the process at once with its line and code (a Ctrl-C while
    the command line was being imported had printed a KeyboardInterrupt traceback, and SIGTERM had ended it
    with no line). A signal the caller ignores stays ignored."""
    for number in HANDLED:
        if signal.getsignal(number) is not signal.SIG_IGN:
            signal.signal(number, _before_the_run)


@contextmanager
def handle_signals(until_exit: bool = False):
    """SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` while inside (main thread only), unless the
    caller ignores them (they stay ignored);
    ``until_exit`` (the program's own run): afterwards they end the process with their line and code
    (:func:`_after_the_run`) instead of the handlers before."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    STOP.clear()
    _ended.clear()
    _state.update(signal=None, count=0, insisting=False, kept=[])
    # a signal the caller ignores (nohup's SIGHUP, SIGINT of a script's background job) stays ignored
    previous = {number: signal.getsignal(number) for number in HANDLED}
    for number, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(number, _on_signal)
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _quiet_about_interrupted(previous_hook)
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        with _insisting:
            _ended.set()
        if _state["watchdog"] is not None:
            _state["watchdog"].join()  # a Python call: a raise it asked for runs now, and returns (ended)
        late = _after_the_run(list(_state["kept"])) if until_exit else None
        for number, handler in previous.items():  # an ignored signal (nohup's SIGHUP) stays ignored
            signal.signal(number, late if late is not None and handler is not signal.SIG_IGN else handler)
        STOP.clear()  # a later run in this process (a test, a notebook) starts afresh
        _state.update(signal=None, count=0, insisting=False, watchdog=None, kept=[])
