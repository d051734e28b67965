r"""One figure style for every shipped figure (paper-ready at single- or double-column width).

Use it like this (object API, Agg canvas, no pyplot state)::

    from modenhub_net.reporting import style

    with style.use_style():
        fig, ax = style.new_figure(width="single")
        style.errorbar_ci(ax, x, y, low, high, series=0, label="Monte Carlo")
        ax.set_xlabel(style.LOG2_N)
        ax.set_ylabel(style.axis_label("latency", "us"))   # -> "latency (µs)"
        style.legend_outside(ax)
        paths = style.save_figure(fig, staging_folder, "latency")   # latency.pdf + latency.png

What it fixes (the defects of the 0.4 figures): PNG-only at 120 dpi (now PDF + PNG at
``PNG_DPI`` = 300 dpi); ASCII labels such as ``Phi+``, ``log2 N``, ``us`` (now mathtext
:data:`PHI_PLUS`, :data:`LOG2_N` and ``µs`` via :func:`axis_label`); empty panels that did not
say so (:func:`mark_no_data`); legends covering error bars (:func:`legend_outside`,
:func:`figure_legend`); a diverging colour map for non-negative data (:func:`cmap_for`); 5-pt
text (every size >= :data:`MIN_FONT_PT` = 7 pt at the real printed width); histograms compared
with different bins (:func:`shared_bins`).

The palette is Okabe & Ito's colour-universal-design set (M. Okabe and K. Ito, "Color
Universal Design (CUD): how to make figures and presentations that are friendly to colorblind
people", J*Fly, 2008), used together with distinct markers so that series also differ in
grey-scale print. Sequential data use ``viridis`` (perceptually uniform and readable by the
common colour-vision deficiencies: S. van der Walt and N. Smith, matplotlib "A better default
colormap", SciPy 2015); a diverging map (``RdBu_r``, centred on zero) is used only for signed
data.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Callable, Iterator, Sequence
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from modenhub_net.errors import UserInputError
from modenhub_net.output import atomic_write_bytes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

__all__ = [
    "COLUMN_WIDTH_IN",
    "DOUBLE_WIDTH_IN",
    "DIVERGING_CMAP",
    "LOG2_N",
    "MARKERS",
    "MIN_FONT_PT",
    "NO_DATA_GID",
    "PALETTE",
    "PHI_PLUS",
    "PNG_DPI",
    "SEQUENTIAL_CMAP",
    "axis_label",
    "cmap_for",
    "errorbar_ci",
    "figure_legend",
    "has_no_data_marker",
    "legend_outside",
    "log2_axis",
    "log_ticks",
    "zeros_on_log_axis",
    "mark_no_data",
    "new_figure",
    "rc_params",
    "save_figure",
    "series_style",
    "shared_bins",
    "styled",
    "use_style",
]

#: width of one journal column in inches (APS/IEEE two-column layouts: 3.37-3.5 in)
COLUMN_WIDTH_IN = 3.4
#: width of a figure spanning both columns in inches (APS/IEEE: 7.0-7.16 in)
DOUBLE_WIDTH_IN = 7.0
#: smallest font size used anywhere, in points, at the printed width
MIN_FONT_PT = 7.0
#: resolution of the PNG copy (the PDF is vector)
PNG_DPI = 300

#: Okabe-Ito colour-blind-safe colours (order: blue, vermillion, bluish green, orange,
#: reddish purple, sky blue, black, yellow; yellow last as it is faint on white)
PALETTE: tuple[str, ...] = (
    "#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442",
)
#: markers paired with :data:`PALETTE` (series i uses both entry i)
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")
#: colour map for non-negative data
SEQUENTIAL_CMAP = "viridis"
#: colour map for signed data, centred on zero
DIVERGING_CMAP = "RdBu_r"

#: mathtext Bell-state label
PHI_PLUS = r"$|\Phi^+\rangle$"
#: mathtext axis label of a log2 N axis
LOG2_N = r"$\log_2 N$"
#: ASCII unit spellings -> typeset units
_UNITS = {
    "us": "µs", "mus": "µs", "ns": "ns", "ms": "ms", "s": "s", "km": "km", "db": "dB",
    "dB": "dB", "hz": "Hz", "Hz": "Hz", "khz": "kHz", "kHz": "kHz", "mhz": "MHz", "MHz": "MHz",
    "1/s": r"s$^{-1}$", "percent": "%", "%": "%",
}

#: ``gid`` of the text artist that :func:`mark_no_data` adds (tests look for it)
NO_DATA_GID = "modenhub-no-data"


def rc_params() -> dict[str, Any]:
    """The matplotlib rc settings of the style (sizes in points at the printed width)."""
    return {
        "font.size": 8.0,
        "axes.titlesize": 8.0,
        "axes.labelsize": 8.0,
        "xtick.labelsize": MIN_FONT_PT,
        "ytick.labelsize": MIN_FONT_PT,
        "legend.fontsize": MIN_FONT_PT,
        "legend.title_fontsize": MIN_FONT_PT,
        "figure.titlesize": 9.0,
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans"],
        "mathtext.fontset": "dejavusans",
        "axes.prop_cycle": _cycler(),
        "axes.linewidth": 0.6,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "grid.linewidth": 0.4,
        "lines.linewidth": 1.2,
        "lines.markersize": 3.5,
        "errorbar.capsize": 1.5,
        "xtick.major.width": 0.6,
        "ytick.major.width": 0.6,
        "xtick.major.size": 2.5,
        "ytick.major.size": 2.5,
        "xtick.minor.size": 1.5,
        "ytick.minor.size": 1.5,
        "legend.frameon": False,
        "legend.handlelength": 1.6,
        "legend.borderaxespad": 0.3,
        "image.cmap": SEQUENTIAL_CMAP,
        "figure.dpi": 100,
        "savefig.dpi": PNG_DPI,
        "pdf.fonttype": 42,  # TrueType in the PDF: editable text, accepted by journals
        "axes.formatter.use_mathtext": True,
    }


def _cycler() -> Any:
    from cycler import cycler

    return cycler(color=list(PALETTE)) + cycler(marker=list(MARKERS))


@contextlib.contextmanager
def use_style() -> Iterator[None]:
    """Context in which figures are built and saved with this style.

    matplotlib reads most sizes when an artist is created, so the whole drawing (not only
    :func:`new_figure`) belongs inside the ``with`` block, or inside a function decorated with
    :func:`styled`.
    """
    import matplotlib

    with matplotlib.rc_context(rc_params()):
        yield


def styled(function: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: run a plotting function inside :func:`use_style`."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with use_style():
            return function(*args, **kwargs)

    return wrapper


def new_figure(
    *,
    width: Literal["single", "double"] | float = "single",
    height_in: float | None = None,
    nrows: int = 1,
    ncols: int = 1,
    squeeze: bool = True,
    **subplot_kw: Any,
) -> tuple[Figure, Any]:
    """A constrained-layout figure on an Agg canvas and its axes.

    Parameters
    ----------
    width : {"single", "double"} or float, optional
        ``"single"`` = :data:`COLUMN_WIDTH_IN` (default), ``"double"`` = :data:`DOUBLE_WIDTH_IN`,
        or a width in inches (1-20).
    height_in : float, optional
        Height in inches; default: 0.75 x width per row for one column of panels, else
        2.3 in per row.
    nrows, ncols : int, optional
        Grid of panels.
    squeeze : bool, optional
        As in :meth:`matplotlib.figure.Figure.subplots`.
    **subplot_kw
        Passed to :meth:`~matplotlib.figure.Figure.subplots` (``sharex``, ``sharey``, ...).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if isinstance(width, str):
        if width not in ("single", "double"):
            raise UserInputError(f"width = {width!r}: allowed 'single', 'double' or inches")
        width_in = COLUMN_WIDTH_IN if width == "single" else DOUBLE_WIDTH_IN
    elif isinstance(width, bool) or not isinstance(width, int | float) or not 1.0 <= width <= 20.0:
        raise UserInputError(f"width = {width!r}: allowed 'single', 'double' or 1-20 inches")
    else:
        width_in = float(width)
    if height_in is None:
        height_in = (0.75 * width_in if ncols == 1 else 2.3) * nrows
        height_in = min(height_in, 9.0)
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=squeeze, **subplot_kw)
    return fig, axes


def series_style(index: int) -> dict[str, Any]:
    """Colour and marker of series ``index`` (cycling through :data:`PALETTE` / :data:`MARKERS`)."""
    return {"color": PALETTE[index % len(PALETTE)], "marker": MARKERS[index % len(MARKERS)]}


def axis_label(name: str, unit: str | None = None) -> str:
    """``"name (unit)"`` with the unit typeset (``"us"`` -> ``"µs"``, ``"db"`` -> ``"dB"``).

    Examples
    --------
    >>> axis_label("latency", "us")
    'latency (µs)'
    >>> axis_label("success rate")
    'success rate'
    """
    if not unit:
        return name
    return f"{name} ({_UNITS.get(unit, unit)})"


def errorbar_ci(
    ax: Axes,
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    low: Sequence[float] | np.ndarray | None = None,
    high: Sequence[float] | np.ndarray | None = None,
    *,
    series: int = 0,
    label: str | None = None,
    line: bool = False,
    **kwargs: Any,
) -> Any:
    """Markers with asymmetric error bars from a confidence interval ``[low, high]``.

    Points whose ``y`` is NaN are skipped; a NaN bound draws no bar on that side. With
    ``line=True`` the points are joined by a thin line.

    Returns
    -------
    matplotlib.container.ErrorbarContainer or None
        None if no point is finite.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    if not keep.any():
        return None
    yerr = None
    if low is not None and high is not None:
        lo = np.asarray(low, dtype=float)[keep]
        hi = np.asarray(high, dtype=float)[keep]
        yerr = np.vstack([np.nan_to_num(y[keep] - lo, nan=0.0).clip(min=0.0),
                          np.nan_to_num(hi - y[keep], nan=0.0).clip(min=0.0)])
    look = series_style(series)
    options = {"color": look["color"], "marker": look["marker"], "ecolor": look["color"],
               "elinewidth": 0.7, "linestyle": "-" if line else "none", "linewidth": 0.8}
    options.update(kwargs)
    return ax.errorbar(x[keep], y[keep], yerr=yerr, label=label, **options)


def mark_no_data(ax: Axes, text: str = "not measured", *, hide_ticks: bool = False,
                 where: Literal["center", "lower left", "upper right", "lower right"] = "center") -> Any:
    """Write an explicit marker in a panel that has nothing to show.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The empty panel.
    text : str, optional
        What the reader should know: ``"not measured"`` (default: the quantity was not
        computed for this case) or ``"no successes"`` (it was, and no request succeeded), or
        a more specific sentence.
    hide_ticks : bool, optional
        Remove the tick labels (for a panel with no axis range of its own).
    where : str, optional
        ``"center"`` (default: the whole panel is empty) or a corner (one series of a panel
        that shows others is missing).

    Returns
    -------
    matplotlib.text.Text
        The marker (its ``gid`` is :data:`NO_DATA_GID`).
    """
    if not isinstance(text, str) or not text.strip():
        raise UserInputError(f"text = {text!r}: give a non-empty note, e.g. 'no successes'")
    if hide_ticks:
        ax.tick_params(labelbottom=False, labelleft=False)
    x, y, ha, va = {"center": (0.5, 0.5, "center", "center"),
                     "lower left": (0.03, 0.04, "left", "bottom"),
                     "lower right": (0.97, 0.04, "right", "bottom"),
                     "upper right": (0.97, 0.96, "right", "top")}[where]
    return ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va,
                   fontsize=8.0 if where == "center" else MIN_FONT_PT, color="0.35",
                   style="italic", gid=NO_DATA_GID,
                   bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.6", "lw": 0.5})


def has_no_data_marker(ax: Axes) -> bool:
    """True if :func:`mark_no_data` wrote on ``ax``."""
    return any(t.get_gid() == NO_DATA_GID for t in ax.texts)


def legend_outside(
    ax: Axes,
    *,
    where: Literal["right", "below", "above"] = "right",
    ncol: int | None = None,
    **kwargs: Any,
) -> Any:
    """A legend of ``ax`` placed next to the axes, never on the data.

    ``where="right"`` (default) stacks the entries to the right of the panel; ``"below"`` /
    ``"above"`` spread them in ``ncol`` columns (default: up to 3) under / over it. Constrained
    layout makes room for it. Returns None if the axes have no labelled artists.
    """
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    if where == "right":
        return ax.legend(handles, labels, loc="center left", bbox_to_anchor=(1.02, 0.5),
                         ncol=ncol or 1, **kwargs)
    if where == "below":
        return ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.22),
                         ncol=ncol or min(3, len(handles)), **kwargs)
    if where == "above":
        return ax.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 1.02),
                         ncol=ncol or min(3, len(handles)), **kwargs)
    raise UserInputError(f"where = {where!r}: allowed 'right', 'below', 'above'")


def figure_legend(
    fig: Figure,
    axes: Any = None,
    *,
    where: Literal["lower", "upper", "right"] = "lower",
    ncol: int | None = None,
    **kwargs: Any,
) -> Any:
    """One legend for the whole figure, outside every panel (duplicate labels merged).

    ``axes`` (default: all of the figure's axes) supply the entries.
    """
    axes = fig.axes if axes is None else list(np.ravel(axes))
    seen: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    if not seen:
        return None
    loc = {"lower": "outside lower center", "upper": "outside upper center",
           "right": "outside right center"}.get(where)
    if loc is None:
        raise UserInputError(f"where = {where!r}: allowed 'lower', 'upper', 'right'")
    if ncol is None:
        ncol = 1 if where == "right" else min(3, len(seen))
    return fig.legend(list(seen.values()), list(seen), loc=loc, ncol=ncol, **kwargs)


def log2_axis(ax: Axes, values: Sequence[float] | np.ndarray, *, axis: Literal["x", "y"] = "x",
              label: str = r"number of QPUs $N$") -> None:
    """A base-2 log axis with one tick per power of two in the range of ``values``."""
    from matplotlib.ticker import FixedLocator, NullLocator

    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    target = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log", base=2)
    if values.size:
        lo, hi = math.floor(math.log2(values.min())), math.ceil(math.log2(values.max()))
        ticks = [2.0**k for k in range(lo, hi + 1)]
        if len(ticks) > 9:  # keep labels apart at single-column width
            ticks = ticks[:: math.ceil(len(ticks) / 8)]
        target.set_major_locator(FixedLocator(ticks))
        target.set_minor_locator(NullLocator())
        (ax.set_xticklabels if axis == "x" else ax.set_yticklabels)([f"{int(t)}" for t in ticks])
    (ax.set_xlabel if axis == "x" else ax.set_ylabel)(label)


def zeros_on_log_axis(ax: Axes, x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray,
                      *, series: int = 0) -> np.ndarray:
    """Mark points whose value is 0 (which a log axis cannot show) on the bottom edge.

    Draws an open triangle of the series' colour at the bottom of the panel for each zero and
    returns ``y`` with zeros (and negatives) replaced by NaN, ready for plotting. Say in the
    legend or caption what the open triangles mean (e.g. "no success").
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    zero = np.isfinite(y) & (y <= 0)
    if zero.any():
        ax.plot(x[zero], np.zeros(int(zero.sum())), ls="none", marker="v", ms=4, mfc="none",
                color=series_style(series)["color"], clip_on=False,
                transform=ax.get_xaxis_transform())
    return np.where(zero, np.nan, y)


def log_ticks(ax: Axes, *, axis: Literal["x", "y"] = "y") -> None:
    """Readable labels on a log axis spanning less than a few decades.

    Ticks at 1, 2 and 5 times each power of ten, labelled ``2·10⁻⁵`` in mathtext (instead of
    matplotlib's crowded minor labels); call after ``set_yscale("log")`` and plotting.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

    def label(value: float, _pos: int) -> str:
        if not value > 0:
            return ""
        exponent = math.floor(math.log10(value) + 1e-9)
        mantissa = f"{value / 10.0**exponent:.2g}"
        if exponent in (-1, 0, 1, 2):
            return f"{value:g}"
        return rf"${mantissa}{{\cdot}}10^{{{exponent}}}$" if mantissa != "1" else rf"$10^{{{exponent}}}$"

    target = ax.yaxis if axis == "y" else ax.xaxis
    lo, hi = (ax.get_ylim() if axis == "y" else ax.get_xlim())
    decades = math.log10(max(hi, 1e-300)) - math.log10(max(lo, 1e-300))
    subs = (1.0,) if decades > 4 else (1.0, 2.0, 5.0) if decades > 1.2 else (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)
    target.set_major_locator(LogLocator(base=10.0, subs=subs))
    target.set_major_formatter(FuncFormatter(label))
    target.set_minor_locator(NullLocator())
    target.set_minor_formatter(NullFormatter())


def cmap_for(values: Sequence[float] | np.ndarray) -> tuple[Colormap, Any]:
    """Colour map and normalisation suited to ``values``.

    Non-negative data get :data:`SEQUENTIAL_CMAP` on ``[0, max]`` (or ``[min, max]`` when the
    data sit far from zero); signed data get :data:`DIVERGING_CMAP` centred on zero.
    """
    import matplotlib
    from matplotlib.colors import Normalize, TwoSlopeNorm

    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return matplotlib.colormaps[SEQUENTIAL_CMAP], Normalize(0.0, 1.0)
    lo, hi = float(data.min()), float(data.max())
    if lo >= 0.0:
        if hi == lo:
            hi = lo + 1.0
        return matplotlib.colormaps[SEQUENTIAL_CMAP], Normalize(lo, hi)
    bound = max(abs(lo), abs(hi))
    return matplotlib.colormaps[DIVERGING_CMAP], TwoSlopeNorm(0.0, -bound, bound)


def shared_bins(
    *arrays: Sequence[float] | np.ndarray,
    bins: int = 30,
    log: bool = False,
    value_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """Bin edges common to several histograms that are meant to be compared.

    Parameters
    ----------
    *arrays : array-like
        The samples (non-finite values are ignored; with ``log=True`` also values <= 0).
    bins : int, optional
        Number of bins (1-10,000, default 30).
    log : bool, optional
        Logarithmically spaced edges (for latencies spanning decades).
    value_range : (float, float), optional
        Fix the range instead of taking it from the data.

    Returns
    -------
    numpy.ndarray
        ``bins + 1`` increasing edges.

    Examples
    --------
    >>> shared_bins([0.0, 1.0], [3.0], bins=3).tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= 10_000:
        raise UserInputError(f"bins = {bins!r}: allowed an integer 1-10000")
    if value_range is None:
        pooled = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays]) \
            if arrays else np.empty(0)
        pooled = pooled[np.isfinite(pooled)]
        if log:
            pooled = pooled[pooled > 0]
        if pooled.size == 0:
            lo, hi = (1.0, 10.0) if log else (0.0, 1.0)
        else:
            lo, hi = float(pooled.min()), float(pooled.max())
    else:
        lo, hi = (float(v) for v in value_range)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi) or (log and lo <= 0):
            raise UserInputError(f"value_range = {value_range!r}: allowed finite low < high "
                                 "(low > 0 with log=True)")
    if hi <= lo:
        span = abs(lo) * 0.05 or 0.5
        lo, hi = (lo / 1.1, hi * 1.1) if log else (lo - span, hi + span)
    if log:
        return np.geomspace(lo, hi, bins + 1)
    return np.linspace(lo, hi, bins + 1)


def save_figure(
    fig: Figure,
    folder: str | Path,
    stem: str,
    *,
    formats: Sequence[str] = ("pdf", "png"),
    dpi: int = PNG_DPI,
) -> list[Path]:
    """Write ``fig`` as ``<folder>/<stem>.pdf`` and ``.png``, each atomically.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure (drawn with this style).
    folder : str or Path
        Destination, normally the staging folder of
        :func:`modenhub_net.output.atomic_output_dir`.
    stem : str
        File name without extension (letters, digits, ``_ . -``).
    formats : sequence of str, optional
        Subset of ``("pdf", "png", "svg")``; default both PDF and PNG.
    dpi : int, optional
        PNG resolution, 200-1200 (default :data:`PNG_DPI`).

    Returns
    -------
    list of pathlib.Path
        The files written, in ``formats`` order.

    Notes
    -----
    The PDF carries no creation date, so the same figure gives the same bytes.
    """
    import re

    if not isinstance(stem, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", stem):
        raise UserInputError(f"stem = {stem!r}: allowed 1-100 letters, digits, '_', '.', '-'")
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 200 <= dpi <= 1200:
        raise UserInputError(f"dpi = {dpi!r}: allowed an integer 200-1200")
    bad = [f for f in formats if f not in ("pdf", "png", "svg")]
    if bad or not formats:
        raise UserInputError(f"formats = {tuple(formats)!r}: allowed a subset of pdf, png, svg")
    written = []
    with use_style():
        return _save(fig, Path(folder), stem, formats, dpi, written)


def _save(fig: Figure, folder: Path, stem: str, formats: Sequence[str], dpi: int,
          written: list[Path]) -> list[Path]:
    for fmt in formats:
        buffer = io.BytesIO()
        metadata = {"CreationDate": None} if fmt == "pdf" else None
        if fmt == "svg":
            metadata = {"Date": None}
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata, bbox_inches="tight",
                    pad_inches=0.03)
        path = folder / f"{stem}.{fmt}"
        atomic_write_bytes(path, buffer.getvalue())
        written.append(path)
    return written
