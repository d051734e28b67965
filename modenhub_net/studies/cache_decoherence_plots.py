"""Figures of ``kind = "cache_decoherence"``: memory curves, age at use, the cutoff sweep.

Drawn with the shared style (:mod:`modenhub_net.reporting.style`) from the study's tables and
the report context (closed-form constants and optima); each figure is written as PDF and PNG.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hardware_models.memory import MemoryParams, stored_pair_fidelity
from modenhub_net.reporting import style

__all__ = ["age_figure", "cutoff_figure", "draw", "memory_figure"]

#: (memory model, stored halves) -> (series index, line style, label)
_MEMORY_SERIES = {
    ("t1t2", "one"): (0, "-", r"$T_1/T_2$, one half stored"),
    ("t1t2", "both"): (1, "--", r"$T_1/T_2$, both halves stored"),
    ("depolarising", "one"): (2, "-.", "depolarising, one half stored"),
    ("depolarising", "both"): (3, ":", "depolarising, both halves stored"),
}


def _time_label(t_ns: float) -> str:
    if t_ns >= 1e9:
        return f"{t_ns / 1e9:.3g} s"
    if t_ns >= 1e6:
        return f"{t_ns / 1e6:.3g} ms"
    return f"{t_ns / 1e3:.3g} µs"


def memory_figure(curves: pd.DataFrame):
    """Fidelity of a stored pair vs age: simulated memory (points) and closed form (lines)."""
    from matplotlib.lines import Line2D

    presets = list(dict.fromkeys(curves["preset"]))
    ncol = min(3, len(presets) + 1)
    nrow = math.ceil((len(presets) + 1) / ncol)
    fig, axes = style.new_figure(width="double", nrows=nrow, ncols=ncol, squeeze=False,
                                 height_in=2.2 * nrow, sharey=True)
    for ax, preset in zip(axes.flat, presets, strict=False):
        g = curves[curves["preset"] == preset]
        t_c = g["time_constant_ns"].iloc[0]
        for (model, stored), (i, ls, _) in _MEMORY_SERIES.items():
            h = g[(g.model == model) & (g.stored == stored)]
            if h.empty:
                continue
            mem = MemoryParams(t1_ns=h.t1_ns.iloc[0], t2_ns=h.t2_ns.iloc[0],
                               depolar_time_ns=h.depolar_time_ns.iloc[0])
            x = np.linspace(0, h.age_over_t.max(), 200)
            look = style.series_style(i)
            ax.plot(x, [stored_pair_fidelity(v * t_c, mem, both_qubits=stored == "both") for v in x],
                    ls=ls, marker="none", color=look["color"], lw=1.0)
            ax.plot(h.age_over_t, h.fidelity_sim, ls="none", ms=3.5, **look)
        infinite = not math.isfinite(float(g["t2_ns"].iloc[0]))
        ax.set_title(f"{preset.replace('_', ' ')} ($T$ = {_time_label(t_c)}"
                     + (", no decay)" if infinite else ")"))
        ax.set_xlabel(r"storage age / $T$")
        ax.set_ylabel(r"fidelity with $|\Phi^+\rangle$")
        ax.set_ylim(0.2, 1.03)
    legend_ax = axes.flat[len(presets)]
    for ax in list(axes.flat)[len(presets):]:
        ax.axis("off")
    handles = [Line2D([], [], ls=ls, label=label, **style.series_style(i))
               for i, ls, label in _MEMORY_SERIES.values()]
    handles.append(Line2D([], [], color="0.3", ls="none", marker="o",
                          label="points: event-driven memory;\nlines: closed form"))
    legend_ax.legend(handles=handles, loc="center", frameon=False)
    return fig


def age_figure(records: pd.DataFrame, rate_per_pair_hz: float):
    """Histogram of the age of cached pairs at use (no cutoff) against Exp(lambda)."""
    fig, ax = style.new_figure(width="single")
    hits = records.loc[records["cache_hit"].astype(bool), "pair_age_ns"].to_numpy(float) / 1e6
    lam = rate_per_pair_hz / 1e3  # per ms
    if hits.size == 0:
        style.mark_no_data(ax, "no cache hits")
    else:
        edges = style.shared_bins(hits, bins=40, value_range=(0.0, float(np.quantile(hits, 0.995))))
        # density relative to all hits (the few beyond the last edge are left out of the view,
        # not of the normalisation)
        weights = np.full(hits.size, 1.0 / (hits.size * (edges[1] - edges[0])))
        ax.hist(hits, bins=edges, weights=weights, histtype="stepfilled", alpha=0.35,
                color=style.PALETTE[0], label=f"cache hits ({hits.size})")
        ax.hist(hits, bins=edges, weights=weights, histtype="step", color=style.PALETTE[0], lw=0.8)
        x = np.linspace(0.0, edges[-1], 200)
        ax.plot(x, lam * np.exp(-lam * x), "-", marker="none", color="black", lw=1.2,
                label=rf"Exp($\lambda$ = {rate_per_pair_hz:.3g} Hz)")
        style.legend_outside(ax, where="above", ncol=2)
    ax.set_xlabel(style.axis_label("pair age at use", "ms"))
    ax.set_ylabel(style.axis_label("probability density", "1/ms"))
    return fig


def cutoff_figure(table: pd.DataFrame, closed: pd.DataFrame, context: Mapping[str, Any]):
    """Fidelity at use, success and hit rate, and their product vs the cutoff (log axis)."""
    consts, opt, best, smooth = context["consts"], context["opt"], context["best"], context["smooth"]
    t2 = consts.memory.t2_ns
    fig, axes = style.new_figure(width="double", ncols=3, height_in=3.1)
    finite = table[np.isfinite(table["cutoff_over_t2"])]
    x_inf = float(finite["cutoff_over_t2"].max()) * 3
    xs = table["cutoff_over_t2"].replace(np.inf, x_inf).to_numpy(float)
    cf_x = (closed["cutoff_ns"] / t2).replace(np.inf, x_inf).to_numpy(float)
    ax = axes[0]
    labels = (("teleport", "teleportation"), ("cnot", "teleported CNOT (shifted 8 % right)"))
    for i, (col, label) in enumerate(labels):
        # the two overlap at every cutoff: the CNOT points are drawn slightly to the right
        style.errorbar_ci(ax, xs * (1.08 if i else 1.0), table[f"{col}_fidelity"],
                          table[f"{col}_fidelity_ci_low"], table[f"{col}_fidelity_ci_high"],
                          series=i, label=f"{label}, simulated")
    ax.plot(cf_x, closed["mean_teleport_fidelity"], "-", marker="none", color="black", lw=1.0,
            label=r"closed form $(2F+1)/3$ (both)")
    ax.set_ylabel("mean fidelity at use")
    ax = axes[1]
    style.errorbar_ci(ax, xs, table["success"], table["success_ci_low"], table["success_ci_high"],
                      series=2, label="success rate, simulated")
    style.errorbar_ci(ax, xs, table["hit_rate"], series=3, label="cache-hit rate, simulated")
    ax.plot(cf_x, closed["success"], "-", marker="none", color=style.PALETTE[2], lw=1.0,
            label="closed forms")
    ax.plot(cf_x, closed["hit_rate"], "-", marker="none", color=style.PALETTE[3], lw=1.0)
    ax.set_ylabel("rate")
    ax = axes[2]
    product = table["teleport_product"].to_numpy(float)
    se = table["teleport_product_se"].to_numpy(float)
    style.errorbar_ci(ax, xs, product, product - 1.96 * se, product + 1.96 * se, series=1,
                      label="simulated (95 % CI)")
    ax.plot(cf_x, closed["product"], "-", marker="none", color="black", lw=1.0, label="closed form")
    if math.isfinite(opt["cutoff_ns"]):
        ax.axvline(opt["cutoff_ns"] / t2, color="black", ls="--", lw=0.8,
                   label=f"closed-form optimum {opt['cutoff_ns'] / 1e6:.3g} ms")
    if smooth is not None and math.isfinite(smooth["cutoff_over_t2"]):
        ax.axvspan(smooth["cutoff_over_t2_low"], smooth["cutoff_over_t2_high"],
                   color=style.PALETTE[1], alpha=0.15, lw=0,
                   label=f"sweep vertex {smooth['cutoff_over_t2'] * t2 / 1e6:.3g} ms (±1σ)")
    ax.plot([xs[table.index.get_loc(best.name)]], [best.teleport_product], ls="none", marker="*",
            ms=8, color=style.PALETTE[1], label=f"sweep maximum {best.cutoff_ns / 1e6:.3g} ms")
    ax.set_ylabel(r"success $\times$ mean $F_\mathrm{tel}$")
    ticks = [t for t in (0.01, 0.1, 1.0) if xs.min() <= t <= x_inf] + [x_inf]
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks[:-1]] + ["none"])
        ax.minorticks_off()
        ax.set_xlabel(rf"cutoff / $T_2$ ($T_2$ = {_time_label(t2)})")
        style.legend_outside(ax, where="below", ncol=1)
    return fig


def draw(tables: Mapping[str, pd.DataFrame], context: Mapping[str, Any], folder: Path) -> list[Path]:
    """Write ``memory_fidelity``, ``age_at_use`` and ``cutoff`` (PDF + PNG); return the paths."""
    written = style.save_figure(memory_figure(tables["memory_curves"]), folder, "memory_fidelity")
    written += style.save_figure(age_figure(tables["age_at_use"], context["consts"].rate_per_pair_hz),
                                 folder, "age_at_use")
    written += style.save_figure(cutoff_figure(tables["cutoff_sweep"], tables["closed_form"], context),
                                 folder, "cutoff")
    return written
