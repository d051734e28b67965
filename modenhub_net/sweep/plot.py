"""``modenhub plot STORE``: one figure of a sweep store's summary (PDF and PNG).

The table is :func:`modenhub_net.store.load_summary` (every point verified). The x axis is
``--x`` (default ``n_qpus`` if the points' rows have it, else the first numeric grid field),
the y axis ``--y`` (default ``success_rate``, else the first numeric result column). One line
per combination of the other grid fields and the rows' category columns (``strategy``,
``policy``); over several seeds the mean with its standard error (error bar), over one seed
the row's own confidence interval (``<y>_ci_low``/``_ci_high`` or ``success_ci_*`` for
``success_rate``) where the table has one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from modenhub_net.errors import UserInputError

__all__ = ["plot_store", "plot_store_command", "summary_figure"]

#: columns that never go on an axis
_BOOKKEEPING = ("seed", "point_hash")
#: row columns that name a series (categories within a point)
_CATEGORIES = ("strategy", "policy", "preset", "kind")


_LINESTYLES = ("-", "--", ":", "-.")
_MARKERS = ("o", "s", "^", "D", "v", "P")


def _key(name: object) -> tuple:
    return name if isinstance(name, tuple) else (name,)


def _grid_fields(store: Path, table: pd.DataFrame) -> list[str]:
    import json

    try:
        manifest = json.loads((store / "manifest.json").read_text(encoding="utf-8"))
        grid = list(manifest.get("grid", {}))
    except (OSError, ValueError, AttributeError):
        grid = []
    return [g for g in grid if g in table.columns]


def _numeric(table: pd.DataFrame, column: str) -> bool:
    return pd.api.types.is_numeric_dtype(table[column]) and not pd.api.types.is_bool_dtype(
        table[column])


def _interval(table: pd.DataFrame, y: str) -> tuple[str, str] | None:
    stem = "success" if y == "success_rate" else y
    for low, high in ((f"{y}_ci_low", f"{y}_ci_high"), (f"{stem}_ci_low", f"{stem}_ci_high")):
        if low in table.columns and high in table.columns:
            return low, high
    return None


def summary_figure(table: pd.DataFrame, *, grid: Sequence[str], x: str | None = None,
                   y: str | None = None, title: str = ""):
    """The figure of a store's summary table (see the module docstring).

    Raises
    ------
    UserInputError
        If the table is empty or ``x``/``y`` is not a numeric column (naming the columns
        there are).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if table.empty:
        raise UserInputError("the store has no finished points to plot; run the sweep first")
    numeric = [c for c in table.columns if c not in _BOOKKEEPING and _numeric(table, c)]
    for flag, column in (("--x", x), ("--y", y)):
        if column is not None and column not in numeric:
            raise UserInputError(f"{flag} = {column!r} is not a numeric column of the summary "
                                 f"(numeric columns: {', '.join(numeric)})")
    if x is None:
        x = "n_qpus" if "n_qpus" in numeric else next(
            (g for g in grid if g in numeric), None)
    if x is None:
        raise UserInputError("no numeric grid field or n_qpus column for the x axis; give --x "
                             f"(numeric columns: {', '.join(numeric)})")
    if y is None:
        results = [c for c in numeric if c not in grid and c != x]
        y = "success_rate" if "success_rate" in results else (results[0] if results else None)
    if y is None:
        raise UserInputError("no numeric result column for the y axis; give --y")
    by_grid = [g for g in grid if g != x]
    by_kind = [c for c in _CATEGORIES if c in table.columns and c != x]
    series = by_grid + by_kind
    interval = _interval(table, y)
    figure = Figure(figsize=(5.0, 3.6), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    groups = list(table.groupby(series, sort=True, dropna=False)) if series else [((), table)]
    # colour by the grid values, line style and marker by the row category (strategy, policy)
    grid_keys = sorted({tuple(_key(n)[: len(by_grid)]) for n, _ in groups}, key=str)
    kind_keys = sorted({tuple(_key(n)[len(by_grid):]) for n, _ in groups}, key=str)
    from matplotlib import colormaps

    cmap = colormaps["viridis" if len(grid_keys) > 10 else "tab10"]
    colours = {k: cmap(i / max(len(grid_keys) - 1, 1) * 0.9 if len(grid_keys) > 10 else i)
               for i, k in enumerate(grid_keys)}
    styles = {k: (_LINESTYLES[i % len(_LINESTYLES)], _MARKERS[i % len(_MARKERS)])
              for i, k in enumerate(kind_keys)}
    for name, group in groups:
        name = _key(name)
        label = ", ".join(f"{s} = {v}" if s in grid else str(v)
                          for s, v in zip(series, name, strict=True)) or y
        colour = colours[tuple(name[: len(by_grid)])]
        linestyle, marker = styles[tuple(name[len(by_grid):])]
        style = {"color": colour, "ls": linestyle, "marker": marker, "ms": 3, "lw": 1,
                 "label": label}
        by_x = group.groupby(x, sort=True)[y]
        xs = np.asarray(by_x.mean().index, dtype=float)
        mean = by_x.mean().to_numpy(dtype=float)
        count = by_x.count().to_numpy()
        if count.max(initial=0) > 1:
            sem = by_x.std(ddof=1).to_numpy(dtype=float) / np.sqrt(np.maximum(count, 1))
            err = np.where(count > 1, sem, 0.0)
            ax.errorbar(xs, mean, yerr=err, capsize=2, **style)
        elif interval is not None:
            low = group.groupby(x, sort=True)[interval[0]].mean().to_numpy(dtype=float)
            high = group.groupby(x, sort=True)[interval[1]].mean().to_numpy(dtype=float)
            err = np.vstack([np.clip(mean - low, 0, None), np.clip(high - mean, 0, None)])
            ax.errorbar(xs, mean, yerr=err, capsize=2, **style)
        else:
            ax.plot(xs, mean, **style)
    values = table[x].to_numpy(dtype=float)
    if values.size and values.min() > 0 and values.max() / values.min() >= 16:
        ax.set_xscale("log", base=2)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if title:
        ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    handles, _ = ax.get_legend_handles_labels()
    if len(handles) > 1:
        figure.legend(loc="outside right upper", fontsize=7, frameon=False)
        figure.set_size_inches(7.0, 3.6)
    return figure


def plot_store(store: str | Path, *, out: str | Path | None = None, x: str | None = None,
               y: str | None = None) -> list[Path]:
    """Draw the summary of a sweep store into ``summary.pdf`` and ``summary.png``.

    Parameters
    ----------
    store : str or Path
        The store folder.
    out : str or Path, optional
        Folder for the two files (new, empty or written by this program); default: the store.
    x, y : str, optional
        Columns on the axes (see the module docstring).

    Returns
    -------
    list of Path
        The files written.
    """
    from modenhub_net.output import (
        KIND_STORE,
        atomic_output_dir,
        atomic_write_bytes,
        check_output_dir,
        read_marker,
    )
    from modenhub_net.store import load_summary
    from modenhub_net.store.result_store import UnverifiedPointsWarning

    store = Path(store)
    if not (store / "manifest.json").is_file() or not (store / "points").is_dir():
        raise UserInputError(f"{store} is not a sweep store (no manifest.json and points/); "
                             "give the --out folder of a `modenhub sweep`")
    if out is not None:
        check_output_dir(out)
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnverifiedPointsWarning)
        table = load_summary(store)
    for warning in caught:
        print(f"note: {warning.message}", file=sys.stderr)
    figure = summary_figure(table, grid=_grid_fields(store, table), x=x, y=y, title=store.name)
    rendered = {}
    for suffix, options in (("pdf", {}), ("png", {"dpi": 200})):
        import io

        buffer = io.BytesIO()
        figure.savefig(buffer, format=suffix, **options)
        rendered[f"summary.{suffix}"] = buffer.getvalue()
    if out is None:
        if read_marker(store) is None:
            check_output_dir(store, kind=KIND_STORE)  # a store written before markers
        for name, data in rendered.items():
            atomic_write_bytes(store / name, data)
        return [store / name for name in rendered]
    with atomic_output_dir(out, kind="plot") as staging:
        for name, data in rendered.items():
            (staging / name).write_bytes(data)
    return [Path(out) / name for name in rendered]


def plot_store_command(args: argparse.Namespace) -> int:
    """Run the ``plot`` subcommand; returns the exit status."""
    if getattr(args, "out", None) is not None and str(args.out).strip() == "":
        raise UserInputError("--out = '': give a folder name")
    written = plot_store(args.store, out=args.out, x=args.x, y=args.y)
    for path in written:
        print(path)
    if not args.quiet:
        print(f"drew {args.store}: {', '.join(p.name for p in written)}", file=sys.stderr)
    return 0
