"""What a sweep varies: ``KEY=START:STOP[:N]`` or ``KEY=V1,V2,...`` per model key, combined as a full
grid or sampled by a Latin hypercube.

Keys are dotted paths into the model file (``transport.standard.cost_per_unit_km``) and are checked
against the model's schema before anything runs; each scenario's values are checked together
(``planner.studies.sweep.runner.make_tasks``): a value the schema rejects in every scenario (a negative
cost, say) refuses the sweep, one rejected only beside some other values (``min_modules = 3`` beside
``max_modules = 2``) fails those scenarios only.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import typing
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

from planner.errors import InputError
from planner.inputs.config import (
    ModelConfig,
    check_read_by_a_solve,
    dotted_key,
    key_parts,
    plain_number,
    split_assignment,
)

logger = logging.getLogger(__name__)

METHODS = ("grid", "lhs")
MAX_SCENARIOS = 100_000  # a sweep's scenarios at most (each one a solve and a folder)


@dataclass(frozen=True)
class Vary:
    """One varied key: its listed values (grid); their smallest and largest bound its range (Latin
    hypercube)."""

    key: str
    values: tuple[float, ...]
    integer: bool = False  # the schema field is an integer: values are rounded
    range_only: bool = False  # given as KEY=START:STOP (a range for lhs; a grid solves its two ends)

    @classmethod
    def parse(cls, text: str, config: ModelConfig | None = None) -> Vary:
        """``KEY=START:STOP:N`` (N evenly spaced values), ``KEY=START:STOP`` (a range, for ``lhs``) or
        ``KEY=V1,V2,...``; with ``config`` the key is checked against the model."""
        key, sep, spec = split_assignment(text)
        key = dotted_key(*key_parts(key.strip(), "--vary")) if key.strip() else ""  # one spelling per key
        hint = (
            f"--vary '{text}': use KEY=START:STOP:N (N ≥ 2), KEY=START:STOP or KEY=V1,V2,..., "
            "e.g. --vary carbon_price=0:200:5"
        )
        try:
            if not sep or not key:
                raise ValueError
            values, count = _listed_values(spec)
        except NonFiniteValue as error:
            raise InputError(f"--vary '{text}': '{error}' is not a finite number; give finite values, "
                             "e.g. --vary carbon_price=0:200:5") from None
        except DigitGroup as error:
            raise InputError(f"--vary '{text}': '{error}' after a comma reads as a thousands group; write numbers "
                             "without thousands separators (1000, not 1,000: that is the two values 1 and 0)") from None
        except ValueError:
            raise InputError(hint) from None
        if count > MAX_SCENARIOS:
            raise InputError(f"--vary '{text}': {count:,} values; a sweep runs at most {MAX_SCENARIOS:,} scenarios")
        if count > len(values):
            values = np.linspace(values[0], values[-1], count)
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
        return cls(key=key, values=tuple(float(v) for v in values), integer=integer,
                   range_only=spec.count(":") == 1)

    def cast(self, value: float) -> float | int:
        return int(round(value)) if self.integer else float(value)


def _listed_values(spec: str) -> tuple[np.ndarray, int]:
    """The values of ``START:STOP:N`` (its two ends and N), ``START:STOP`` or ``V1,V2,...`` (the values
    and their number); ValueError for anything else (digit separators too, :func:`plain_number`), a
    non-finite value or N < 2."""
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) not in (2, 3):
            raise ValueError
        values = np.array([plain_number(part) for part in parts[:2]])
        count = plain_number(parts[2], int) if len(parts) == 3 else 2
        if count < 2:
            raise ValueError
    else:
        listed = spec.split(",")
        group = next((v.strip() for v in listed[1:] if re.fullmatch(r"\d{3}", v.strip()) and v.strip()[0] == "0"),
                     None)
        if group is not None:  # "1,000": a value of three digits led by 0 after the first
            raise DigitGroup(group)
        values = np.array([plain_number(v) for v in listed])
        count = len(values)
    if not np.isfinite(values).all():
        raise NonFiniteValue(next(part for part in re.split("[:,]", spec) if not np.isfinite(float(part))).strip())
    return values, count


class NonFiniteValue(ValueError):
    """A value of a --vary spec is nan or ±inf (the text as written)."""


class DigitGroup(ValueError):
    """A value of a --vary list is three digits led by 0 ('000', '050'): a thousands group of the value before."""


def _check_key(config: ModelConfig, key: str) -> bool:
    """Raise unless ``key`` names a numeric value of the model; True when it is an integer."""
    check_read_by_a_solve(key, f"--vary '{key}'")
    node = config.model_dump(mode="python")
    walked = []
    parts = key_parts(key, "--vary")
    for part in parts:
        if node is None:  # an optional table the model leaves out, e.g. products.p.service
            raise InputError(f"--vary '{key}': {dotted_key(*walked)} is not set in model '{config.name}'; add it to "
                             "the model file to vary its keys")
        if not isinstance(node, dict) or part not in node:
            where = dotted_key(*walked) if walked else "the model file"
            known = sorted(node) if isinstance(node, dict) else []
            raise InputError(
                f"--vary '{key}': '{part}' is not a key of {where} in model '{config.name}'"
                + (f"; known: {', '.join(map(str, known))}" if known else "")
            )
        node = node[part]
        walked.append(part)
    if isinstance(node, bool) or not (node is None or isinstance(node, int | float)):
        raise InputError(f"--vary '{key}': the value there is {type(node).__name__}, not a number; vary a numeric key")
    if node is None:  # an optional value left unset: the schema's annotation says whether it is whole
        return _declared_integer(config, parts)
    return isinstance(node, int) and not isinstance(node, bool)


def _declared_integer(config: ModelConfig, parts: list[str]) -> bool:
    """Whether the schema declares the field at the dotted ``parts`` as an integer (``int | None``),
    found by walking the model objects (dict levels by key) to the field's parent."""
    parent = config
    for part in parts[:-1]:
        parent = parent[part] if isinstance(parent, dict) else getattr(parent, part, None)
    fields = getattr(type(parent), "model_fields", {})
    if parts[-1] not in fields:
        return False
    annotation = fields[parts[-1]].annotation
    members = [typing.get_args(m)[0] if typing.get_origin(m) is typing.Annotated else m
               for m in (typing.get_args(annotation) or (annotation,))]
    return int in members and float not in members


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
        for vary in varies:
            if vary.range_only:  # accepted without a word, it solved the two ends only
                logger.warning("--vary %s=START:STOP is a range for --method lhs; the grid solves its two ends only "
                               "(give START:STOP:N for N values)", vary.key)
        count = math.prod(len(vary.values) for vary in varies)
        if count > MAX_SCENARIOS:
            raise InputError(f"--vary: {count:,} combinations; a sweep runs at most {MAX_SCENARIOS:,} scenarios "
                             "(fewer values, or --method lhs --samples N)")
        combos = itertools.product(*(vary.values for vary in varies))
        return [{v.key: v.cast(x) for v, x in zip(varies, combo, strict=True)} for combo in combos]
    if not samples or samples < 1:
        raise InputError("--method lhs needs --samples N (N ≥ 1)")
    if samples > MAX_SCENARIOS:
        raise InputError(f"--samples {samples:,}: a sweep runs at most {MAX_SCENARIOS:,} scenarios")
    for vary in varies:
        if len(vary.values) > 2:
            logger.warning("--method lhs samples '%s' over its range [%g, %g]; the %d values listed are not used as "
                           "such", vary.key, min(vary.values), max(vary.values), len(vary.values))
    unit = qmc.LatinHypercube(d=len(varies), seed=seed).random(samples)
    lows = np.array([min(vary.values) for vary in varies])
    highs = np.array([max(vary.values) for vary in varies])
    # a whole-number key takes each of its values on an equal share of [0, 1) (rounding a draw over [low, high]
    # had given its two ends half the weight: 1:3 drew 1, 2, 3 as 75, 150, 75 of 300)
    whole = np.array([vary.integer for vary in varies], dtype=bool)
    span = np.where(whole, np.floor(highs) - np.ceil(lows) + 1, highs - lows)
    points = np.where(whole, np.ceil(lows) + np.minimum(np.floor(unit * span), span - 1), lows + unit * span)
    return _distinct([{v.key: v.cast(x) for v, x in zip(varies, row, strict=True)} for row in points])


def _distinct(points: list[dict]) -> list[dict]:
    """``points`` without repeats (in their order): whole-number keys round samples onto the same
    scenario, which a sweep solves once (repeats had shared one task and lost a row: an internal
    error after the sweep)."""
    seen, distinct = set(), []
    for point in points:
        key = tuple(point.items())
        if key not in seen:
            seen.add(key)
            distinct.append(point)
    if len(distinct) < len(points):
        logger.warning("--method lhs: %d of the %d samples are the same scenario (whole-number keys have fewer "
                       "values than samples, or a key has a single value); %d distinct scenarios are solved",
                       len(points) - len(distinct), len(points), len(distinct))
    return distinct
