"""Figure of ``kind = "calibrated_hub"``: the physical hub against the aggregate model.

The paper's Fig. 3 layout (success and attempts per request vs N) with the physical hub's
points and 95 % intervals (filled markers) and the aggregate Monte Carlo (open markers), in the
shared style (:mod:`modenhub_net.reporting.style`), written as PDF and PNG.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from modenhub_net.reporting import style

__all__ = ["agreement_figure", "draw"]


def agreement_figure(agreement: pd.DataFrame, summary: pd.DataFrame):
    """Two panels: success rate and mean attempts per request vs N, per policy."""
    from matplotlib.lines import Line2D

    policies = list(dict.fromkeys(agreement["policy"]))
    fig, axes = style.new_figure(width="double", ncols=2, height_in=3.0)
    panels = (("success", "success_rate", "success_ci_low", "success_ci_high", "success rate"),
              ("attempts", "mean_attempts", "attempts_ci_low", "attempts_ci_high",
               "mean attempts per request"))
    for ax, (col, mean, lo, hi, label) in zip(axes, panels, strict=True):
        for i, policy in enumerate(policies):
            phys = summary[summary["policy"] == policy].sort_values("n_qpus")
            agg = agreement[agreement["policy"] == policy].sort_values("n_qpus")
            style.errorbar_ci(ax, phys["n_qpus"], phys[mean], phys[lo], phys[hi], series=i,
                              line=True, ms=3.5)
            look = style.series_style(i)
            ax.plot(agg["n_qpus"], agg[f"{col}_aggregate"], ls="none", marker=look["marker"], ms=7,
                    mfc="none", color=look["color"])
        style.log2_axis(ax, agreement["n_qpus"], label=r"number of QPUs $N$ ($\log_2$ scale)")
        ax.set_ylabel(label)
    axes[0].set_ylim(0.0, 1.02)
    axes[1].set_ylim(bottom=0.0)
    handles = [Line2D([], [], label=f"{p}, physical hub (95 % CI)", **style.series_style(i))
               for i, p in enumerate(policies)]
    handles += [Line2D([], [], ls="none", mfc="none", label=f"{p}, aggregate model",
                       **style.series_style(i)) for i, p in enumerate(policies)]
    fig.legend(handles=handles, loc="outside lower center", ncol=2)
    return fig


def draw(agreement: pd.DataFrame, summary: pd.DataFrame, folder: Path) -> list[Path]:
    """Write ``agreement.pdf`` / ``agreement.png``; return the paths."""
    return style.save_figure(agreement_figure(agreement, summary), folder, "agreement")
