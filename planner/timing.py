"""Wall-clock seconds per phase of a run (load, prepare, build, presolve, solve, audit, write)."""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass
class Timing:
    """Seconds per phase."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str):
        started = time.perf_counter()
        if name not in self.seconds:  # a phase entered again (the index, then the arrays) is announced once
            logger.info("%s ...", name)
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def with_phase(self, name: str, seconds: float) -> Timing:
        """A copy with ``seconds`` added to phase ``name`` (the run's own timing is left as it is)."""
        copy = Timing(dict(self.seconds))
        copy.seconds[name] = copy.seconds.get(name, 0.0) + seconds
        return copy
