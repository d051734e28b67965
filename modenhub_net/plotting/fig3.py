"""The paper's Fig. 3 from an aggregate ``summary.csv``: (a) success rate, (b) mean attempts vs N.

Monte Carlo points with their confidence intervals (error bars) and the closed forms (lines)
where one exists, for every strategy in the summary, on a log2 N axis, in the shared figure
style (:mod:`modenhub_net.reporting.style`: double-column width, mathtext labels,
colour-blind-safe colours with markers, the legend below the panels), written as PDF and PNG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from modenhub_net.reporting import style

__all__ = ["LABELS", "plot_fig3", "save_fig3"]

#: line style of each closed form (they overlap: orchestrated and adaptive share the success)
LINESTYLE: dict[str, str] = {"orchestrated_nocache": "--", "adaptive": ":"}

#: legend label of each strategy (its series index is its position here)
LABELS: dict[str, str] = {
    "naive": "naive (1 attempt/round)",
    "orchestrated": r"orchestrated, $K(N)$ + cache",
    "orchestrated_nocache": "orchestrated, no cache",
    "adaptive": "adaptive schedule (known $p$)",
    "adaptive_online": "adaptive schedule ($p$ estimated)",
}

_PANELS = (
    ("success_rate", "success_ci_low", "success_ci_high", "analytic_success_rate",
     r"(a) success within $R$ rounds", "success rate"),
    ("mean_attempts", "attempts_ci_low", "attempts_ci_high", "analytic_mean_attempts",
     "(b) attempts per teleportation", "mean attempts per request"),
)


@style.styled
def plot_fig3(summary: pd.DataFrame, *, title: str | None = None):
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
    fig, axes = style.new_figure(width="double", ncols=2, height_in=3.3)
    present = set(summary["strategy"])
    strategies = [s for s in LABELS if s in present] + sorted(present - set(LABELS))
    for ax, (col, lo, hi, analytic, panel_title, ylabel) in zip(axes, _PANELS, strict=True):
        for i, strategy in enumerate(strategies):
            rows = summary[summary["strategy"] == strategy].sort_values("n_qpus")
            label = LABELS.get(strategy, strategy)
            style.errorbar_ci(ax, rows["n_qpus"], rows[col], rows[lo], rows[hi], series=i, ms=2.8,
                              alpha=0.8, label=f"{label}, Monte Carlo")
            exact = rows[analytic].to_numpy(dtype=float)
            if np.isfinite(exact).any():
                ax.plot(rows["n_qpus"], exact, LINESTYLE.get(strategy, "-"), marker="none", lw=1.3,
                        color=style.series_style(i)["color"], zorder=3, label=f"{label}, closed form")
        style.log2_axis(ax, summary["n_qpus"], label=r"number of QPUs $N$ ($\log_2$ scale)")
        ax.set_ylabel(ylabel)
        ax.set_title(panel_title, loc="left")
    axes[0].set_ylim(0.0, 1.02)
    axes[1].set_ylim(bottom=0.0)
    style.figure_legend(fig, axes[:1], where="lower", ncol=2)
    if title:
        fig.suptitle(title)
    return fig


def save_fig3(summary: pd.DataFrame, folder: str | Path, *, title: str | None = None,
              stem: str = "fig3") -> list[Path]:
    """Draw Fig. 3 and write ``<folder>/<stem>.pdf`` and ``.png`` atomically; return the paths."""
    return style.save_figure(plot_fig3(summary, title=title), folder, stem)
