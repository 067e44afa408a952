"""Which process wrote a folder, and whether it is gone: a folder the planner writes to a temporary place is
marked with its writer's process id and host, so that a later run can remove what a killed run (``kill -9``,
a power cut) left, and nothing else: a folder without the mark, of another host, or whose writer still runs
is never touched."""

from __future__ import annotations

import os
import socket


def owner_lines() -> str:
    """The mark's lines for this process: ``pid N`` and ``host NAME``."""
    return f"pid {os.getpid()}\nhost {socket.gethostname()}\n"


def owner_is_gone(text: str) -> bool:
    """Whether the process a mark's ``text`` names (:func:`owner_lines`) has ended on this host; False where the
    text names no process, another host or this process, or where that cannot be told (Windows, where
    ``os.kill`` would end the process instead of asking about it)."""
    try:
        fields = dict(line.split(" ", 1) for line in text.splitlines() if line.startswith(("pid ", "host ")))
        pid = int(fields["pid"])
    except (ValueError, KeyError):
        return False
    if fields.get("host") != socket.gethostname() or pid == os.getpid() or os.name == "nt":
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # it exists (another user's)
        return False
    return False
