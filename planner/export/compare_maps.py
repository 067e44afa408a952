"""The networks of a comparison side by side: one static map per variant
(:func:`planner.export.static_map.build_map_figure`), every one drawn alike: the same panels, frame,
equal-area projection, scale bars, site-capacity and flow-width scales and legend (the legend and
the caption once, for all maps).

Each variant's figure is rendered at :data:`MAP_DPI`; its legend column is cut off and every map is
trimmed by the same white margin, so the images have one pixel size and, shown at one width, one
scale. The legend is cut from the first figure; the projection caption is returned as text.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import numpy as np

from planner.export.layers import flow_layer, region_layer, site_layer
from planner.export.static_map import MARGIN, build_map_figure
from planner.results import amount_text
from planner.studies.compare import Comparison

logger = logging.getLogger(__name__)

MAP_DPI = 100
WHITE = 250  # a pixel with every channel at least this is background when trimming


@dataclass(frozen=True)
class NetworkMaps:
    """PNG images of the variants' networks, all of one pixel size, the shared legend and caption."""

    maps: dict[str, bytes]  # per variant, in the comparison's order
    legend: bytes
    caption: str
    size: tuple[int, int]  # width, height of every map, pixels


def variant_title(name: str, comparison: Comparison, currency: str) -> str:
    """``hybrid: plant × 1, micro × 12 · 3,456,789 USD/yr`` — the variant, its open facilities by type (the
    type's id: "2 microfactory" had read as bad English) and its cost."""
    run = comparison.plans[name].run
    counts = run.tables.facility_counts(run.problem.type_ids)
    opened = ", ".join(f"{type_id} × {count:,}" for type_id, count in counts.items() if count) or "no facility open"
    objective = run.report.objective
    solved = objective is not None and np.isfinite(objective)
    cost = f"{amount_text(objective)} {currency}/yr" if solved else "no solution"
    return f"{name}: {opened} · {cost}"


def shared_type_ids(comparison: Comparison) -> list[str]:
    """Every facility type of every variant, those of the variant with the most types first, so a type
    has one colour on every map (the colours follow this order)."""
    problems = sorted((plan.run.problem for plan in comparison.plans.values()), key=lambda p: -len(p.type_ids))
    return list(dict.fromkeys(type_id for problem in problems for type_id in problem.type_ids))


def _rendered(fig) -> tuple[np.ndarray, int, str]:
    """The figure without its caption as RGB pixels at MAP_DPI, the pixel column where its legend
    column starts, and the caption."""
    caption = fig.texts[-1].get_text() if fig.texts else ""
    if fig.texts:
        fig.texts[-1].remove()
    fig.set_dpi(MAP_DPI)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy()
    renderer = fig.canvas.get_renderer()
    lefts = [legend.get_window_extent(renderer).x0 for legend in fig.legends]
    split = int(min(lefts) - MARGIN * MAP_DPI / 2) if lefts else pixels.shape[1]
    return pixels, max(1, min(split, pixels.shape[1])), caption


def _content_box(pixels: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the non-white pixels (the whole image when all white)."""
    ink = (pixels < WHITE).any(axis=2)
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return 0, pixels.shape[0], 0, pixels.shape[1]
    return int(rows[0]), int(rows[-1]) + 1, int(columns[0]), int(columns[-1]) + 1


def _png(pixels: np.ndarray, pad: int = 6) -> bytes:
    """A PNG of 256 colours (maps are flat colours: about a quarter of the bytes of full colour)."""
    from PIL import Image

    padded = np.pad(pixels, ((pad, pad), (pad, pad), (0, 0)), constant_values=255)
    image = Image.fromarray(padded).quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _layers(comparison: Comparison) -> dict[str, tuple]:
    return {name: (region_layer(plan.run, plan.inputs), site_layer(plan.run), flow_layer(plan.run))
            for name, plan in comparison.plans.items()}


def draw_network_maps(comparison: Comparison) -> NetworkMaps:
    """One map per variant, all drawn alike (see the module docstring)."""
    layers = _layers(comparison)
    type_ids = shared_type_ids(comparison)
    rendered, caption, legend = {}, "", None
    for name, (regions, sites, flows) in layers.items():
        others = [(s, f) for other, (_, s, f) in layers.items() if other != name]
        pixels, split, caption = _rendered(build_map_figure(regions, sites, flows, type_ids, "", alike=others))
        rendered[name] = pixels[:, :split]
        if legend is None:
            legend = pixels[:, split:]
        logger.debug("compare map of %s rendered (%d × %d px)", name, *pixels.shape[1::-1])
    shapes = {pixels.shape for pixels in rendered.values()}
    if len(shapes) == 1:  # one layout: trim every map by the margin white on all of them
        boxes = np.array([_content_box(pixels) for pixels in rendered.values()])
        top, left = boxes[:, 0].min(), boxes[:, 2].min()
        bottom, right = boxes[:, 1].max(), boxes[:, 3].max()
        rendered = {name: pixels[top:bottom, left:right] for name, pixels in rendered.items()}
    else:  # never expected: the maps then keep their own sizes
        logger.warning("compare maps have different layouts %s; drawn untrimmed", sorted(shapes))
    if legend is not None and legend.size:
        top, bottom, left, right = _content_box(legend)
        legend = legend[top:bottom, left:right]
    first = next(iter(rendered.values()))
    return NetworkMaps(
        maps={name: _png(pixels) for name, pixels in rendered.items()},
        legend=_png(legend) if legend is not None and legend.size else b"",
        caption=caption,
        size=(first.shape[1] + 12, first.shape[0] + 12),
    )
