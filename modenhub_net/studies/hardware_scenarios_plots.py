"""Figures of ``kind = "hardware_scenarios"``: policies per preset, and the sensitivity map.

Drawn with the shared style (:mod:`modenhub_net.reporting.style`) from the study's tables;
each figure is written as PDF and PNG.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from modenhub_net.reporting import style
from modenhub_net.studies.hardware_scenarios import MIN_FIDELITY_SAMPLES

__all__ = ["draw", "policies_figure", "sensitivity_figure"]

#: line style of each policy (colour and marker tell the preset)
POLICY_LINES = {"naive": "-", "orchestrated": "--", "adaptive": ":"}

#: (column, CI columns or SE column, axis label, log axis, scale)
_PANELS = (
    ("success_rate", ("success_ci_low", "success_ci_high"), "success rate", True, 1.0),
    ("mean_attempts", ("attempts_ci_low", "attempts_ci_high"), "attempts per request", True, 1.0),
    ("mean_latency_ns", ("latency_ci_low", "latency_ci_high"), style.axis_label("mean latency", "ms"),
     True, 1e-6),
    ("teleport_fidelity", ("teleport_fidelity_ci_low", "teleport_fidelity_ci_high"),
     r"teleportation fidelity $F_\mathrm{tel}$", False, 1.0),
    ("mean_pair_fidelity", ("pair_fidelity_ci_low", "pair_fidelity_ci_high"),
     "pair fidelity at use", False, 1.0),
    ("product", "product_se", r"success $\times$ mean $F_\mathrm{tel}$", True, 1.0),
)


def policies_figure(table: pd.DataFrame):
    """Six panels vs N: success, attempts, latency, fidelities at use, success x F_tel.

    Points with no success (0 on a log axis) are drawn as open triangles on the bottom edge;
    fidelities from fewer than :data:`MIN_FIDELITY_SAMPLES` uses are left out; a panel with
    nothing to draw says so, and a panel missing some presets names them above it.
    """
    from matplotlib.lines import Line2D

    presets = list(dict.fromkeys(table["preset"]))
    fig, axes = style.new_figure(width="double", nrows=2, ncols=3, height_in=4.9, sharex=True)
    for ax, (col, err, label, log, scale) in zip(axes.flat, _PANELS, strict=True):
        drawn = zeros = 0
        missing: list[str] = []  # presets with no point in this panel
        for i, preset in enumerate(presets):
            look = style.series_style(i)
            drawn_before, zeros_before = drawn, zeros
            for policy, ls in POLICY_LINES.items():
                g = table[(table.preset == preset) & (table.policy == policy)].sort_values("n_qpus")
                if col == "teleport_fidelity":
                    g = g[g["teleport_successes"] >= MIN_FIDELITY_SAMPLES]
                if g.empty:
                    continue
                y = g[col].to_numpy(float) * scale
                if isinstance(err, tuple):
                    lo, hi = (g[c].to_numpy(float) * scale for c in err)
                else:
                    se = g[err].to_numpy(float)
                    lo, hi = y - 2 * se, y + 2 * se
                if log:
                    zero = np.isfinite(y) & (y <= 0)
                    if zero.any():
                        zeros += int(zero.sum())
                        ax.plot(g["n_qpus"].to_numpy()[zero], np.zeros(int(zero.sum())), ls="none",
                                marker="v", ms=4, mfc="none", color=look["color"], clip_on=False,
                                transform=ax.get_xaxis_transform())
                    y = np.where(y > 0, y, np.nan)
                    lo = np.where(lo > 0, lo, y)
                if np.isfinite(y).any():
                    drawn += int(np.isfinite(y).sum())
                    style.errorbar_ci(ax, g["n_qpus"], y, lo, hi, series=i, line=True,
                                      linestyle=ls, ms=3)
            if drawn == drawn_before and zeros == zeros_before:
                missing.append(preset.replace("_", " "))
        style.log2_axis(ax, table["n_qpus"], label=r"$N$ (QPUs)" if ax in axes[1] else "")
        if drawn == 0:
            style.mark_no_data(ax, f"< {MIN_FIDELITY_SAMPLES} successful uses\nat every point"
                               if "fidelity" in col else "no successes")
        else:
            if log:
                ax.set_yscale("log")
                style.log_ticks(ax)
            if missing:  # said above the panel, off the data
                why = (f"< {MIN_FIDELITY_SAMPLES} uses" if col == "teleport_fidelity"
                       else "no successes" if col != "success_rate" else "not measured")
                ax.set_title(f"{why}: " + textwrap.fill(", ".join(missing), 44),
                             fontsize=style.MIN_FONT_PT, style="italic", color="0.35")
        ax.set_ylabel(label)
    axes[0, 0].set_ylim(top=1.5)
    handles = [Line2D([], [], color=style.series_style(i)["color"], marker=style.series_style(i)["marker"],
                      ls="none", label=preset.replace("_", " ")) for i, preset in enumerate(presets)]
    fig.legend(handles=handles, loc="outside upper center", ncol=len(handles), columnspacing=1.2)
    policies = [Line2D([], [], color="0.2", ls=ls, label=policy) for policy, ls in POLICY_LINES.items()]
    policies.append(Line2D([], [], color="0.2", marker="v", mfc="none", ls="none",
                           label="no success (0: below a log axis)"))
    fig.legend(handles=policies, loc="outside lower center", ncol=len(policies))
    return fig


def sensitivity_figure(sens: pd.DataFrame):
    """Gain of success x mean F_tel when one parameter is improved x2 (rows) per preset (columns).

    Signed gains use the diverging map centred on 0; all-non-negative gains a sequential one.
    Each cell shows the gain and its standard error; the limiting parameter is outlined.
    """
    from matplotlib.patches import Rectangle

    presets = list(dict.fromkeys(sens["preset"]))
    params = list(dict.fromkeys(sens["parameter"]))
    gain = sens.pivot(index="parameter", columns="preset", values="product_gain").reindex(
        index=params, columns=presets)
    se = sens.pivot(index="parameter", columns="preset", values="product_se").reindex(
        index=params, columns=presets)
    limiting = sens.pivot(index="parameter", columns="preset", values="limiting").reindex(
        index=params, columns=presets)
    fig, ax = style.new_figure(width="double", height_in=0.24 * len(params) + 1.3)
    ax.grid(False)
    values = gain.to_numpy(float)
    cmap, norm = style.cmap_for(values)
    image = ax.imshow(values, cmap=cmap, norm=norm, aspect="auto")
    for (i, j), v in np.ndenumerate(values):
        err = se.to_numpy(float)[i, j]
        if not np.isfinite(v):
            text, colour = "not measured", "0.4"
        else:
            text = "0" if abs(v) < 5e-4 and not err >= 5e-4 else f"{v:+.3f} ± {err:.3f}"
            r, g, b, _ = cmap(norm(v))
            colour = "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"
        ax.text(j, i, text, ha="center", va="center", fontsize=style.MIN_FONT_PT, color=colour)
        if bool(limiting.to_numpy()[i, j]):
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="black", lw=1.5))
    names = [textwrap.fill(p.replace("_", " "), 16, break_long_words=False) for p in presets]
    ax.set_xticks(range(len(presets)), names)
    ax.set_yticks(range(len(params)), [p.replace("_", " ") for p in params])
    ax.tick_params(axis="x", labeltop=True, labelbottom=False, top=True, bottom=False)
    fig.colorbar(image, ax=ax, label=r"gain in success $\times$ mean $F_\mathrm{tel}$", shrink=0.8)
    ax.set_xlabel("improve one parameter x2 at a time; outlined: the limiting parameter")
    return fig


def draw(table: pd.DataFrame, sens: pd.DataFrame, folder: Path) -> list[Path]:
    """Write ``policies`` and ``sensitivity`` (PDF + PNG) into ``folder``; return the paths."""
    written = style.save_figure(policies_figure(table), folder, "policies")
    if not sens.empty:
        written += style.save_figure(sensitivity_figure(sens), folder, "sensitivity")
    return written
