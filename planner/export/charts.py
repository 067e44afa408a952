"""What every chart of the writers shares: the facility-type palette, figures made without pyplot and
written as PNG, axes that read "0 20 40" with "M USD/yr" in their label (never ``20,000,00040,000,000``),
and bars and histograms that draw empty, constant and non-finite data without raising.

Figures are :class:`matplotlib.figure.Figure` objects on an Agg canvas: no pyplot state, no backend
switched behind a notebook user's back, nothing left open.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import os
import re
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

P = ParamSpec("P")  # the parameters and result of a function drawn with plain_text
R = TypeVar("R")

TYPE_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
OTHER_TYPE_COLOUR = "#7f7f7f"  # a type the run does not know (e.g. of another run)
UNMET_COLOUR = "#d62728"
NO_DEMAND_COLOUR = "#eeeeee"

MAX_TICKS = 5  # at most this many intervals between tick labels, so labels never run together
PREFIXES = ((1e9, "bn"), (1e6, "M"), (1e3, "k"))  # value ≥ divisor: ticks in this multiple of the unit
SAME_VALUE = 1e-6  # values within this share of their magnitude count as one value (one histogram bar)


def type_colours(type_ids: Iterable[str]) -> dict[str, str]:
    """The colour of each facility type, in the order of the model file (the palette repeats after seven)."""
    return {t: TYPE_COLOURS[i % len(TYPE_COLOURS)] for i, t in enumerate(type_ids)}


# --- figures ---------------------------------------------------------------------------------------------


def new_figure(width: float, height: float, rows: int = 1, columns: int = 1, **subplots) -> tuple[Figure, Axes]:
    """A figure of ``width`` × ``height`` inches on an Agg canvas and its axes (one, or an array of
    ``rows`` × ``columns`` when either is above 1; ``subplots`` go to :meth:`Figure.subplots`)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig, fig.subplots(rows, columns, **subplots)


def plain_text(draw: Callable[P, R]) -> Callable[P, R]:
    """``draw`` with every text it creates shown as written: a '$' in a facility type, product or
    model name is a dollar sign, not the start of Matplotlib's maths (``micro ($$)`` had failed the
    whole run, ``$1M-$2M`` lost its dollars). Texts keep the setting they were created with."""

    @functools.wraps(draw)
    def drawn(*args: P.args, **kwargs: P.kwargs) -> R:
        with text_as_written():
            return draw(*args, **kwargs)

    return drawn


@contextmanager
def text_as_written() -> Iterator[None]:
    """Text created meanwhile shows as written: '$' a dollar sign, not Matplotlib's maths. Used while a
    figure is drawn and while it is saved: the tick labels of a category axis after the first are made
    then (a product named ``x ($$)`` on the report's demand chart had failed the run there)."""
    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False}), missing_glyphs_allowed():
        yield


@contextmanager
def missing_glyphs_allowed() -> Iterator[None]:
    """Draw text in scripts the bundled font lacks (a model or region named in Japanese, say) as the
    font's placeholder boxes, without Matplotlib's warning per character: the HTML outputs show the
    names as written."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)
        yield


def png_bytes(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes, cropped to what is drawn."""
    buffer = io.BytesIO()
    with text_as_written():
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def img_tag(image: bytes | Figure, alt: str = "chart", css_class: str = "") -> str:
    """An ``<img>`` holding a PNG (bytes, or a figure rendered at 100 dpi) as a base64 ``data:`` URI."""
    data = image if isinstance(image, bytes) else png_bytes(image)
    encoded = base64.b64encode(data).decode("ascii")
    klass = f' class="{html.escape(css_class)}"' if css_class else ""
    return f'<img{klass} alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def save_png(fig: Figure, path: Path, dpi: int = 130) -> Path:
    """Write the figure to ``path`` as PNG, atomically: into a temporary file beside it (an ordinary file,
    its permissions from the umask), then renamed."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_bytes(png_bytes(fig, dpi))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


# --- axes --------------------------------------------------------------------------------------------------


def finite(values) -> np.ndarray:
    """The finite values as a float array (NaN, ±inf, None and non-numbers dropped)."""
    numbers = _as_floats(values)
    return numbers[np.isfinite(numbers)]


def bar_values(values) -> np.ndarray:
    """Bar lengths: missing and non-finite values drawn as 0 (the tables beside the charts say 'n/a')."""
    numbers = _as_floats(values)
    return np.where(np.isfinite(numbers), numbers, 0.0)


def _as_floats(values) -> np.ndarray:
    """A flat float array; None and anything not a number become NaN."""
    try:
        return np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        array = np.asarray(values, dtype=object).ravel()
        real = (int, float, np.integer, np.floating)
        return np.array([v if isinstance(v, real) and not isinstance(v, bool) else np.nan for v in array], dtype=float)


def unit_prefix(largest: float, small: bool = False) -> tuple[float, str]:
    """The divisor and prefix for tick labels of values up to ``largest`` in magnitude: (1e6, "M") from a
    million, (1e3, "k") from a thousand, (1.0, "") below or when not finite; with ``small``, below 1e-3 a power
    of ten (1e-12, "1e-12"): ticks of 1e-12 to 4e-12 had all read 0.000000000."""
    for divisor, prefix in PREFIXES:
        if np.isfinite(largest) and abs(largest) >= divisor:
            return divisor, prefix
    if small and np.isfinite(largest) and 0 < abs(largest) < 1e-3:
        exponent = int(np.floor(np.log10(abs(largest))))
        return 10.0 ** exponent, f"1e{exponent}"
    return 1.0, ""


PREFIX_WORDS = {"k": "thousands", "M": "millions", "bn": "billions"}
PREFIXED_UNIT = re.compile(r"(k|M|G|bn|m)[A-Z]")  # kEUR, MUSD: a unit that has a multiple of its own


def prefixed_unit(prefix: str, unit: str) -> str:
    """``unit`` in the multiple ``prefix``: "M USD/yr", but "thousands of kEUR/yr" (not "k kEUR/yr")."""
    if prefix in PREFIX_WORDS and PREFIXED_UNIT.match(unit):
        return f"{PREFIX_WORDS[prefix]} of {unit}"
    return f"{prefix} {unit}".strip()


def scaled_text(value, unit: str, digits: int = 2) -> str:
    """A value in k, M or bn of ``unit`` for titles and notes ("1.23 M USD/yr"); 'n/a' when not finite."""
    number = finite([value])
    if not len(number):
        return "n/a"
    divisor, prefix = unit_prefix(float(number[0]))
    return f"{number[0] / divisor:,.{digits}f} {prefix} {unit}".replace("  ", " ").strip()


def _scaled_formatter(divisor: float):
    """Tick labels in units of ``divisor``, with as many decimals as the tick step needs and no ``-0``."""
    from matplotlib.ticker import Formatter

    class Scaled(Formatter):
        def format_ticks(self, values):
            scaled = np.sort(np.asarray(values, dtype=float)) / divisor
            step = float(np.min(np.diff(scaled))) if len(scaled) > 1 else abs(scaled[0]) if len(scaled) else 0.0
            return [_tick_text(value / divisor, _decimals(step)) for value in values]

        def __call__(self, value, pos=None):
            return _tick_text(value / divisor, _decimals(abs(value / divisor)))

    return Scaled()


def _tick_text(value: float, decimals: int) -> str:
    value = round(value, decimals)
    return f"{0.0 if value == 0 else value:,.{decimals}f}"


def _decimals(step: float) -> int:
    """The fewest decimals (0 to 9) that write ``step`` exactly to 0.1 %."""
    if not np.isfinite(step) or step <= 0:
        return 0
    return next((d for d in range(10) if abs(round(step, d) - step) <= 1e-3 * step), 9)


def readable_axis(ax: Axes, which: str, unit: str, what: str = "", integer: bool = False) -> None:
    """Label the ``which`` ("x" or "y") axis of ``ax`` as "what (M unit)" and write its ticks in that multiple
    (k, M or bn, chosen from the axis limits), at most ``MAX_TICKS`` intervals; call it after drawing.
    ``integer`` keeps the ticks on whole numbers (counts)."""
    from matplotlib.ticker import MaxNLocator

    axis = ax.xaxis if which == "x" else ax.yaxis
    low, high = _one_value_widened(ax, which)
    divisor, prefix = unit_prefix(max(abs(low), abs(high)), small=True)
    axis.set_major_locator(MaxNLocator(nbins=MAX_TICKS, integer=integer, steps=[1, 2, 2.5, 5, 10]))
    axis.set_major_formatter(_scaled_formatter(divisor))
    scaled = prefixed_unit(prefix, unit)
    axis.set_label_text(f"{what} ({scaled})" if what and scaled else what or scaled)


def _one_value_widened(ax: Axes, which: str) -> tuple[float, float]:
    """The limits of the ``which`` axis, widened to ±5 % about their middle where they hold one value but for
    float noise (a sweep's transport cost of 2,095,513.2344843713 to ...4373 JPY/yr): matplotlib had spanned
    the noise alone, and every tick read "2.095513234"."""
    low, high = ax.get_xlim() if which == "x" else ax.get_ylim()
    if not (np.isfinite(low) and np.isfinite(high)) or abs(high - low) > SAME_VALUE * max(abs(low), abs(high)):
        return low, high
    middle = low / 2 + high / 2
    half = 0.05 * abs(middle)
    if half <= abs(high - low):  # 0 or a span below 1e-300: nothing to widen about
        return low, high
    (ax.set_xlim if which == "x" else ax.set_ylim)(middle - half, middle + half)
    return middle - half, middle + half


def from_zero(ax: Axes, which: str, values) -> None:
    """Start a bar axis at 0 when no bar is negative (and show 0 to 1 when every bar is 0), rather than the
    symmetric margin matplotlib gives bars of length 0."""
    numbers = finite(values)
    if len(numbers) and numbers.min() < 0:
        return
    high = float(numbers.max()) if len(numbers) else 0.0
    limits = {"left": 0.0} if which == "x" else {"bottom": 0.0}
    if high <= 0:
        limits = {"left": 0.0, "right": 1.0} if which == "x" else {"bottom": 0.0, "top": 1.0}
    (ax.set_xlim if which == "x" else ax.set_ylim)(**limits)


def stacked(bars, which: str) -> None:
    """Bars drawn on top of others (``which`` is the axis of their length, "x" or "y"): their base is no end of
    the axis. Matplotlib keeps the base of every bar as a 'sticky' limit of the axis, so a layer of length 0 on
    the tallest bar had ended the axis at that bar, which then touched the frame as if cut off (a central plant's
    500,000 units/yr with no microfactory above it; 53,000 units served beside 0 unmet)."""
    for patch in bars:
        edges = patch.sticky_edges.x if which == "x" else patch.sticky_edges.y
        edges[:] = [edge for edge in edges if edge == 0]


def category_ticks(ax: Axes, which: str, positions: Sequence[float], labels: Sequence[str]) -> None:
    """Ticks at ``positions`` labelled ``labels`` (periods, strategies), at most ``MAX_TICKS`` + 1 of them
    labelled when there are many, so labels do not run together."""
    every = max(1, int(np.ceil(len(positions) / (MAX_TICKS + 1))))
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_ticks(list(positions)[::every], [str(label) for label in list(labels)[::every]])


# --- degenerate-safe drawing -----------------------------------------------------------------------------


def histogram(ax: Axes, values, bins: int, **style) -> np.ndarray:
    """The finite ``values`` as a histogram of ``bins`` equal bins between their minimum and maximum; one
    bar (2 % of the value wide, or 0.2 around 0) when they are one value to within ``SAME_VALUE``; nothing
    when none is finite. Returns the values drawn."""
    values = finite(values)
    if not len(values):
        return values
    low, high = float(values.min()), float(values.max())
    with np.errstate(over="ignore", invalid="ignore"):
        edges = np.linspace(low, high, max(int(bins), 1) + 1)
        spread = np.all(np.diff(edges) > 0) and high - low > SAME_VALUE * max(abs(low), abs(high))
    if not spread:  # one bar, a fifth of the axis wide, in the middle
        middle = low / 2 + high / 2
        half = 0.01 * abs(middle) or 0.1
        edges = np.array([middle - half, middle + half])
        with np.errstate(over="ignore"):
            view = np.array([middle - 5 * half, middle + 5 * half])
        if np.isfinite(view).all():
            ax.set_xlim(*view)
    ax.hist(values, bins=edges, **style)
    return values

