"""The part of a study a log message comes from: ``compare`` solves several variants of one model, and a
warning only one of them raises must say which (the command's log prints each warning once); and a
logger held to its errors for a while (:func:`errors_only`)."""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator

_PART: contextvars.ContextVar[str | None] = contextvars.ContextVar("planner_study_part", default=None)


@contextlib.contextmanager
def study_part(label: str) -> Iterator[None]:
    """Messages logged inside the block (in this thread) belong to ``label``, e.g. ``variant hybrid``."""
    token = _PART.set(label)
    try:
        yield
    finally:
        _PART.reset(token)


def current_study_part() -> str | None:
    """The label of the innermost :func:`study_part` block, or None outside every one."""
    return _PART.get()


@contextlib.contextmanager
def errors_only(name: str) -> Iterator[None]:
    """Only errors of the logger ``name`` (and those below it) while inside; its level restored after."""
    held = logging.getLogger(name)
    level = held.level
    held.setLevel(logging.ERROR)
    try:
        yield
    finally:
        held.setLevel(level)
