"""The paper's Fig. 3 from an aggregate ``summary.csv``: (a) success rate, (b) mean attempts vs N.

Monte Carlo points with their confidence intervals (error bars) and the closed forms
(lines) where one exists, for every strategy in the summary, on a log2 N axis.
Uses matplotlib's object API with the Agg canvas: no global pyplot state, no display needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator

from modenhub_net.output import atomic_write_bytes

__all__ = ["STYLE", "plot_fig3", "save_fig3"]

#: line style of each closed form (they overlap: orchestrated and adaptive share the success)
LINESTYLE: dict[str, str] = {"orchestrated_nocache": "--", "adaptive": ":"}

#: colour, marker and label of each strategy
STYLE: dict[str, tuple[str, str, str]] = {
    "naive": ("#4c72b0", "o", "naive (1 attempt/round)"),
    "orchestrated": ("#c44e52", "s", "orchestrated, K(N) + cache"),
    "orchestrated_nocache": ("#dd8452", "^", "orchestrated, no cache"),
    "adaptive": ("#55a868", "D", "adaptive schedule (known p)"),
    "adaptive_online": ("#8172b3", "v", "adaptive schedule (p estimated)"),
}


def plot_fig3(summary: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Draw the two panels of Fig. 3.

    Parameters
    ----------
    summary : pandas.DataFrame
        Rows of ``summary.csv`` (columns ``n_qpus, strategy, success_rate, success_ci_low,
        success_ci_high, mean_attempts, attempts_ci_low, attempts_ci_high,
        analytic_success_rate, analytic_mean_attempts``).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Attached to an Agg canvas.
    """
    fig = Figure(figsize=(11.0, 4.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax_s, ax_a = fig.subplots(1, 2)
    panels = (
        (ax_s, "success_rate", "success_ci_low", "success_ci_high", "analytic_success_rate",
         "(a) success rate within R rounds", "success rate"),
        (ax_a, "mean_attempts", "attempts_ci_low", "attempts_ci_high", "analytic_mean_attempts",
         "(b) entanglement attempts per teleportation", "mean attempts per request"),
    )
    known = [s for s in STYLE if s in set(summary["strategy"])]
    others = sorted(set(summary["strategy"]) - set(STYLE))
    n_all = np.sort(summary["n_qpus"].unique())
    for ax, col, lo, hi, analytic, panel_title, ylabel in panels:
        for strategy in known + others:
            colour, marker, label = STYLE.get(strategy, ("#333333", "x", strategy))
            rows = summary[summary["strategy"] == strategy].sort_values("n_qpus")
            n = rows["n_qpus"].to_numpy()
            y = rows[col].to_numpy(dtype=float)
            err = np.vstack([y - rows[lo].to_numpy(dtype=float), rows[hi].to_numpy(dtype=float) - y])
            ax.errorbar(
                n, y, yerr=np.nan_to_num(err), fmt=marker, ms=2.8, color=colour, ecolor=colour,
                elinewidth=0.6, alpha=0.75, label=f"{label}, Monte Carlo",
            )
            exact = rows[analytic].to_numpy(dtype=float)
            if np.isfinite(exact).any():
                ax.plot(n, exact, LINESTYLE.get(strategy, "-"), lw=1.6, color=colour, zorder=3,
                        label=f"{label}, closed form")
        ax.set_xscale("log", base=2)
        ticks = [t for t in 2 ** np.arange(0, 21) if n_all.min() <= t <= n_all.max()]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([str(int(t)) for t in ticks])
        ax.set_xlabel("number of QPUs N (log2 scale)")
        ax.set_ylabel(ylabel)
        ax.set_title(panel_title, loc="left", fontsize=11)
        ax.grid(True, which="major", alpha=0.3)
    ax_s.set_ylim(0.0, 1.02)
    ax_a.set_ylim(bottom=0.0)
    handles, labels = ax_s.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def save_fig3(summary: pd.DataFrame, path: str | Path, *, title: str | None = None,
              dpi: int = 150) -> Path:
    """Draw Fig. 3 and write it as PNG atomically (temporary file, then rename)."""
    import io

    fig = plot_fig3(summary, title=title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)
