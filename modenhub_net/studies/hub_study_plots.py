"""Figures of ``kind = "hub"``: latency and fidelity distributions of the successful requests.

Both figures compare the policies of one scenario on the same requests, so every histogram of
a panel uses the same bin edges (:func:`modenhub_net.reporting.style.shared_bins`); a panel
with nothing to show says why ("no successes" or "not measured"). Drawn in the shared style
(:mod:`modenhub_net.reporting.style`) and written as PDF and PNG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from modenhub_net.reporting import style

__all__ = ["latency_unit", "latency_figure", "fidelity_figure", "draw"]

#: request kinds of the fidelity figure, with their panel titles
FIDELITY_PANELS: tuple[tuple[str, str], ...] = (("teleport", "teleportation"),
                                                 ("cnot", "teleported CNOT"))
#: typeset latency units
_UNIT_TEXT = {"us": "µs", "ms": "ms"}
#: ``histtype="step"`` line styles per policy, so coinciding histograms stay visible
_LINESTYLES: tuple[str, ...] = ("-", "--", ":", "-.")


def latency_unit(latency_ns: pd.Series | np.ndarray) -> tuple[str, float]:
    """The unit of a latency axis (``"us"`` below 1 ms of median, else ``"ms"``) and its
    size in ns.

    Examples
    --------
    >>> latency_unit(np.array([5e7, 6e7]))
    ('ms', 1000000.0)
    >>> latency_unit(np.array([2e3]))
    ('us', 1000.0)
    """
    values = np.asarray(latency_ns, dtype=float)
    values = values[np.isfinite(values)]
    if values.size and float(np.median(values)) >= 1e6:
        return "ms", 1e6
    return "us", 1e3


def _edges(samples: dict[str, np.ndarray], *, bins: int, min_width: float) -> np.ndarray:
    """:func:`~modenhub_net.reporting.style.shared_bins` of all policies, at least
    ``min_width`` wide: numpy cannot bin values that differ only at float resolution (ideal
    hardware gives fidelities that are all 1 to rounding)."""
    pooled = np.concatenate(list(samples.values()))
    pooled = pooled[np.isfinite(pooled)]
    if pooled.size == 0:
        return style.shared_bins(bins=bins)
    low, high = float(pooled.min()), float(pooled.max())
    if high - low < min_width:
        middle = 0.5 * (low + high)
        return style.shared_bins(bins=bins, value_range=(middle - 0.5 * min_width,
                                                         middle + 0.5 * min_width))
    return style.shared_bins(*samples.values(), bins=bins)


def _hist(ax, samples: dict[str, np.ndarray], edges: np.ndarray, policies: list[str]) -> None:
    for i, policy in enumerate(policies):
        values = samples.get(policy)
        if values is None or values.size == 0:
            continue
        ax.hist(values, bins=edges, histtype="step", density=True, lw=1.2,
                color=style.series_style(i)["color"], ls=_LINESTYLES[i % len(_LINESTYLES)],
                label=policy)


def latency_figure(records: pd.DataFrame, *, title: str):
    """Histogram of the latency of the successful requests, one step line per policy."""
    policies = sorted(records["policy"].unique())
    ok = records[records["success"]]
    fig, ax = style.new_figure(width="single", height_in=2.9)
    unit, scale = latency_unit(ok["latency_ns"])
    samples = {p: g["latency_ns"].to_numpy(dtype=float) / scale for p, g in ok.groupby("policy")}
    counts = {p: int(len(g)) for p, g in records.groupby("policy")}
    if ok.empty:
        style.mark_no_data(ax, "no successes", hide_ticks=True)
    else:
        _hist(ax, samples, _edges(samples, bins=50, min_width=1e-3), policies)
        ax.set_ylim(bottom=0.0)
        missing = [p for p in policies if p not in samples]
        if missing:
            style.mark_no_data(ax, f"no successes: {', '.join(missing)}", where="upper right")
    ax.set_xlabel(style.axis_label("latency of a successful request", unit))
    ax.set_ylabel(rf"probability density ({_UNIT_TEXT[unit]}$^{{-1}}$)")
    ax.set_title(title)
    legend = style.legend_outside(ax, where="below", ncol=1)
    for text in legend.get_texts() if legend is not None else ():
        policy = text.get_text()
        text.set_text(f"{policy}: {len(samples.get(policy, ())):,} of {counts[policy]:,} succeeded")
    return fig


def fidelity_figure(records: pd.DataFrame, *, title: str):
    """Histograms of the fidelity at use, per request kind (panels) and policy (lines)."""
    policies = sorted(records["policy"].unique())
    ok = records[records["success"]]
    fig, axes = style.new_figure(width="double", ncols=2, height_in=2.8)
    for ax, (kind, label) in zip(axes, FIDELITY_PANELS, strict=True):
        asked = records[records["kind"] == kind]
        done = ok[ok["kind"] == kind]
        per_policy = asked.groupby("policy").size()
        ax.set_title(f"{label} ({int(per_policy.max()):,} requests per policy)" if len(asked)
                     else label)
        ax.set_xlabel(f"{label} fidelity at use")
        ax.set_ylabel("probability density (log scale)")
        if asked.empty:
            style.mark_no_data(ax, f"not measured (no {label} requests)", hide_ticks=True)
            continue
        if done.empty:
            style.mark_no_data(ax, "no successes", hide_ticks=True)
            continue
        samples = {p: g["fidelity"].to_numpy(dtype=float) for p, g in done.groupby("policy")}
        _hist(ax, samples, _edges(samples, bins=40, min_width=1e-6), policies)
        ax.set_yscale("log")  # the bulk near the heralded fidelity and the rare low outliers
        missing = [p for p in policies if p not in samples]
        if missing:
            style.mark_no_data(ax, f"no successes: {', '.join(missing)}", where="upper right")
    fig.suptitle(title)
    style.figure_legend(fig, axes, where="lower", ncol=min(3, len(policies)))
    return fig


def draw(scenario, output, folder: Path) -> list[Path]:
    """Write ``latency.pdf/.png`` and ``fidelity.pdf/.png`` from ``output.context["records"]``."""
    records = output.context["records"]
    title = f"{scenario.name} ({scenario.network.scheme}, {scenario.network.link_mode})"
    paths = style.save_figure(latency_figure(records, title=title), folder, "latency")
    paths += style.save_figure(fidelity_figure(records, title=title), folder, "fidelity")
    return paths
