"""What a sweep varies: ``KEY=START:STOP[:N]`` or ``KEY=V1,V2,...`` per model key, combined as a full
grid or sampled by a Latin hypercube.

Keys are dotted paths into the model file (``transport.standard.cost_per_unit_km``) and are checked
against the model's schema before anything runs; a value the schema rejects (a negative cost, say)
fails only its own scenario, when it runs.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

from planner.errors import InputError
from planner.inputs.config import ModelConfig

logger = logging.getLogger(__name__)

METHODS = ("grid", "lhs")


@dataclass(frozen=True)
class Vary:
    """One varied key: its listed values (grid); their smallest and largest bound its range (Latin
    hypercube)."""

    key: str
    values: tuple[float, ...]
    integer: bool = False  # the schema field is an integer: values are rounded

    @classmethod
    def parse(cls, text: str, config: ModelConfig | None = None) -> Vary:
        """``KEY=START:STOP:N`` (N evenly spaced values), ``KEY=START:STOP`` (a range, for ``lhs``) or
        ``KEY=V1,V2,...``; with ``config`` the key is checked against the model."""
        key, sep, spec = text.partition("=")
        key = key.strip()
        hint = (
            f"--vary '{text}': use KEY=START:STOP:N (N ≥ 2), KEY=START:STOP or KEY=V1,V2,..., "
            "e.g. --vary carbon_price=0:200:5"
        )
        try:
            if not sep or not key:
                raise ValueError
            if ":" in spec:
                parts = spec.split(":")
                if len(parts) == 3:
                    count = int(parts[2])
                    if count < 2:
                        raise ValueError
                    values = np.linspace(float(parts[0]), float(parts[1]), count)
                elif len(parts) == 2:
                    values = np.array([float(parts[0]), float(parts[1])])
                else:
                    raise ValueError
            else:
                values = np.array([float(v) for v in spec.split(",")])
            if not np.isfinite(values).all():
                raise ValueError
        except ValueError:
            raise InputError(hint) from None
        integer = False
        if config is not None:
            integer = _check_key(config, key)
        if integer and not np.allclose(values, np.round(values), rtol=0.0, atol=1e-9):
            odd = next(float(v) for v in values if abs(v - round(v)) > 1e-9)
            raise InputError(f"--vary '{text}': '{key}' is a whole number and {odd:g} is not; list whole values "
                             "or choose START:STOP:N with whole steps")
        repeated = sorted({float(v) for v in values if np.count_nonzero(values == v) > 1})
        if repeated:
            raise InputError(f"--vary '{text}': the value {repeated[0]:g} is repeated; give each value once")
        return cls(key=key, values=tuple(float(v) for v in values), integer=integer)

    def cast(self, value: float) -> float | int:
        return int(round(value)) if self.integer else float(value)


def _check_key(config: ModelConfig, key: str) -> bool:
    """Raise unless ``key`` names a numeric value of the model; True when it is an integer."""
    node = config.model_dump(mode="python")
    walked = []
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            where = ".".join(walked) or "the model file"
            known = sorted(node) if isinstance(node, dict) else []
            raise InputError(
                f"--vary '{key}': '{part}' is not a key of {where} in model '{config.name}'"
                + (f"; known: {', '.join(map(str, known))}" if known else "")
            )
        node = node[part]
        walked.append(part)
    if isinstance(node, bool) or not (node is None or isinstance(node, int | float)):
        raise InputError(f"--vary '{key}': the value there is {type(node).__name__}, not a number; vary a numeric key")
    return isinstance(node, int) and not isinstance(node, bool)


def sample_points(varies: list[Vary], method: str = "grid", samples: int | None = None, seed: int = 0) -> list[dict]:
    """The scenarios' parameter values: every combination (``grid``) or ``samples`` points of a
    seeded Latin hypercube over each key's [low, high] (``lhs``)."""
    if method not in METHODS:
        raise InputError(f"--method '{method}': use one of {', '.join(METHODS)}")
    keys = [vary.key for vary in varies]
    if len(set(keys)) != len(keys):
        raise InputError(f"--vary: a key is given twice ({', '.join(keys)}); give each key once")
    if method == "grid":
        if samples:
            logger.warning("--samples %d is for --method lhs; the grid runs every combination of the listed values",
                           samples)
        combos = itertools.product(*(vary.values for vary in varies))
        return [{v.key: v.cast(x) for v, x in zip(varies, combo, strict=True)} for combo in combos]
    if not samples or samples < 1:
        raise InputError("--method lhs needs --samples N (N ≥ 1)")
    for vary in varies:
        if len(vary.values) > 2:
            logger.warning("--method lhs samples '%s' over its range [%g, %g]; the %d values listed are not used as "
                           "such", vary.key, min(vary.values), max(vary.values), len(vary.values))
    unit = qmc.LatinHypercube(d=len(varies), seed=seed).random(samples)
    lows = np.array([min(vary.values) for vary in varies])
    highs = np.array([max(vary.values) for vary in varies])
    points = lows + unit * (highs - lows)
    return [{v.key: v.cast(x) for v, x in zip(varies, row, strict=True)} for row in points]
