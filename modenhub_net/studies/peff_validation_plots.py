"""Figures of ``kind = "peff_validation"``: p(N) per preset, fit residuals, policies.

Drawn with the shared style (:mod:`modenhub_net.reporting.style`) from the study's tables;
each figure is written as PDF and PNG.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from modenhub_net.reporting import style
from modenhub_net.studies.peff_fit import FORMS

__all__ = ["draw", "p_of_n_figure", "policies_figure", "residuals_figure"]

#: line style and legend label of each fitted form
FORM_LOOK = {
    "hyperbolic": ("--", r"fit $p_0/(1+\beta\log_2 N)$"),
    "exponential": ("-.", r"fit $p_0\,10^{-b\log_2 N/10}$"),
}


def _name(preset: str) -> str:
    return preset.replace("_", " ")


def p_of_n_figure(points: pd.DataFrame, fits: pd.DataFrame):
    """One panel per preset: closed form, measured p(N) with 95 % intervals, both fits."""
    from matplotlib.lines import Line2D

    presets = list(dict.fromkeys(points["preset"]))
    ncol = min(3, len(presets) + 1)
    nrow = math.ceil((len(presets) + 1) / ncol)
    fig, axes = style.new_figure(width="double", nrows=nrow, ncols=ncol, squeeze=False,
                                 height_in=2.3 * nrow)
    grid = np.geomspace(points["n_qpus"].min(), points["n_qpus"].max(), 200)
    for ax, preset in zip(axes.flat, presets, strict=False):
        g = points[points["preset"] == preset].sort_values("n_qpus")
        ax.plot(g["n_qpus"], g["p_budget"], "-", color="black", marker="none", lw=1.0)
        m = g[g["attempts"] > 0]
        if len(m):
            style.errorbar_ci(ax, m["n_qpus"], m["p_measured"], m["p_ci_low"], m["p_ci_high"],
                              series=0, ms=3.5, zorder=3)
        else:
            style.mark_no_data(ax, "simulation: not measured\n(too few heralds)",
                               where="lower left")
        for j, (form, (ls, _)) in enumerate(FORM_LOOK.items()):
            f = fits[(fits.preset == preset) & (fits.curve == "per_attempt") & (fits.form == form)]
            if len(f):
                f = f.iloc[0]
                ax.plot(grid, FORMS[form][0](grid, f.param0, f.param1), ls, marker="none", lw=1.0,
                        color=style.PALETTE[j + 1])
        style.log2_axis(ax, points["n_qpus"], label=r"$N$ (QPUs)")
        ax.set_yscale("log")
        style.log_ticks(ax)
        ax.set_title(f"{_name(preset)} ({_name(g['heralding'].iloc[0])})")
        ax.set_ylabel(r"per-attempt success $p(N)$")
    legend_ax = axes.flat[len(presets)]
    for ax in list(axes.flat)[len(presets):]:
        ax.axis("off")
    handles = [Line2D([], [], color="black", lw=1.0, label="link budget (closed form)"),
               Line2D([], [], color=style.PALETTE[0], marker="o", ls="none",
                      label="detailed simulation, 95 % CI")]
    handles += [Line2D([], [], color=style.PALETTE[j + 1], ls=ls, label=label)
                for j, (ls, label) in enumerate(FORM_LOOK.values())]
    legend_ax.legend(handles=handles, loc="center", frameon=False)
    return fig


def residuals_figure(points: pd.DataFrame, fits: pd.DataFrame):
    """Relative deviation of each fitted form from the closed form, per attempt and per window."""
    from matplotlib.lines import Line2D

    presets = list(dict.fromkeys(points["preset"]))
    fig, axes = style.new_figure(width="double", ncols=2, height_in=2.9, sharey=False)
    for ax, curve in zip(axes, ("per_attempt", "per_window"), strict=True):
        for i, preset in enumerate(presets):
            g = points[points["preset"] == preset].sort_values("n_qpus")
            for form, (ls, _) in FORM_LOOK.items():
                f = fits[(fits.preset == preset) & (fits.curve == curve) & (fits.form == form)]
                if f.empty:
                    continue
                f = f.iloc[0]
                exact = g["p_budget"] * (g["duty"] if curve == "per_window" else 1.0)
                rel = FORMS[form][0](g["n_qpus"].to_numpy(), f.param0, f.param1) / exact - 1
                ax.plot(g["n_qpus"], 100 * rel, ls=ls, ms=3, **style.series_style(i))
        ax.axhline(0, color="black", lw=0.6)
        style.log2_axis(ax, points["n_qpus"], label=r"$N$ (QPUs)")
        ax.set_ylabel("fit / link budget $-$ 1 (%)")
        ax.set_title(curve.replace("_", " "))
    handles = [Line2D([], [], ls="none", label=_name(p), **style.series_style(i))
               for i, p in enumerate(presets)]
    handles += [Line2D([], [], color="0.2", ls=ls, label=label) for ls, label in FORM_LOOK.values()]
    fig.legend(handles=handles, loc="outside lower center", ncol=4)
    return fig


def policies_figure(policies: pd.DataFrame):
    """Success and attempts: physical hub (filled, 95 % error bars) vs fitted aggregate (open)."""
    from matplotlib.lines import Line2D

    presets = list(dict.fromkeys(policies["preset"]))
    fig, axes = style.new_figure(width="double", ncols=2, height_in=3.0)
    lines = {"naive": "-", "orchestrated": "--"}
    for i, preset in enumerate(presets):
        look = style.series_style(i)
        for policy, ls in lines.items():
            g = policies[(policies.preset == preset) & (policies.policy == policy)].sort_values("n_qpus")
            if g.empty:
                continue
            for ax, col in zip(axes, ("success", "attempts"), strict=True):
                y = style.zeros_on_log_axis(ax, g["n_qpus"], g[f"{col}_physical"], series=i)
                se = g.get(f"{col}_se_physical", pd.Series(np.nan, index=g.index)).to_numpy(float)
                style.errorbar_ci(ax, g["n_qpus"], y, y - 1.96 * se, y + 1.96 * se, series=i,
                                  line=True, linestyle=ls, ms=3)
                agg = style.zeros_on_log_axis(ax, g["n_qpus"], g[f"{col}_aggregate"], series=i)
                ax.plot(g["n_qpus"], agg, ls="none", marker=look["marker"], ms=6,
                        mfc="none", color=look["color"], alpha=0.8)
    for ax, label in zip(axes, ("success rate", "attempts per request"), strict=True):
        style.log2_axis(ax, policies["n_qpus"], label=r"$N$ (QPUs)")
        ax.set_yscale("log")
        style.log_ticks(ax)
        ax.set_ylabel(label)
    handles = [Line2D([], [], ls="none", label=_name(p), **style.series_style(i))
               for i, p in enumerate(presets)]
    handles += [Line2D([], [], color="0.2", ls=ls, label=f"{policy}, physical hub (95 % CI)")
                for policy, ls in lines.items()]
    handles.append(Line2D([], [], color="0.2", marker="o", mfc="none", ls="none",
                          label="fitted aggregate model"))
    handles.append(Line2D([], [], color="0.2", marker="v", mfc="none", ls="none",
                          label="no success (0, below the log axis)"))
    fig.legend(handles=handles, loc="outside lower center", ncol=4)
    return fig


def draw(points: pd.DataFrame, fits: pd.DataFrame, policies: pd.DataFrame, folder: Path) -> list[Path]:
    """Write ``p_of_n``, ``residuals`` and ``policies`` (PDF + PNG); return the paths."""
    written = style.save_figure(p_of_n_figure(points, fits), folder, "p_of_n")
    written += style.save_figure(residuals_figure(points, fits), folder, "residuals")
    if not policies.empty:
        written += style.save_figure(policies_figure(policies), folder, "policies")
    return written
