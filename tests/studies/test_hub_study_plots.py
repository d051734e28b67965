"""Figures of ``kind = "hub"``: shared bins, explicit empty-panel markers, PDF + PNG.

Synthetic records stand in for a simulation, so each case (all policies succeed, one policy
never succeeds, no CNOT requests at all, fidelities equal to rounding) is exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modenhub_net.reporting import style
from modenhub_net.studies import hub_study_plots as hp


def _records(*, policies=("adaptive", "naive"), n=200, cnot=True, fail=(), fidelity=None,
             seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for policy in policies:
        for i in range(n):
            rows.append({
                "policy": policy,
                "kind": "cnot" if cnot and i % 4 == 0 else "teleport",
                "success": policy not in fail and bool(rng.random() < 0.7),
                # the policies' latencies span different ranges, so per-policy bins would differ
                "latency_ns": float(rng.uniform(1e6, 5e7 if policy == "naive" else 2e7)),
                "fidelity": float(fidelity if fidelity is not None else rng.uniform(0.8, 0.95)),
            })
    return pd.DataFrame(rows)


def _step_edges(ax) -> list[np.ndarray]:
    """Bin edges of each step histogram of ``ax`` (its x vertices, de-duplicated)."""
    edges = []
    for patch in ax.patches:
        x = patch.get_path().vertices[:, 0]
        edges.append(np.unique(np.round(x, 12)))
    return edges


def test_latency_histograms_share_bins_and_are_in_ms():
    with style.use_style():
        fig = hp.latency_figure(_records(), title="t")
    ax = fig.axes[0]
    edges = _step_edges(ax)
    assert len(edges) == 2
    np.testing.assert_array_equal(edges[0], edges[1])
    assert "(ms)" in ax.get_xlabel()
    legend = ax.get_legend()
    assert legend is not None
    texts = [t.get_text() for t in legend.get_texts()]
    assert all("of 200 succeeded" in t for t in texts), texts


def test_fidelity_panels_share_bins_per_panel():
    with style.use_style():
        fig = hp.fidelity_figure(_records(), title="t")
    for ax in fig.axes[:2]:
        edges = _step_edges(ax)
        assert len(edges) == 2
        np.testing.assert_array_equal(edges[0], edges[1])
        assert not style.has_no_data_marker(ax)


def test_panels_without_data_say_why():
    with style.use_style():
        no_cnot = hp.fidelity_figure(_records(cnot=False), title="t")
        none_ok = hp.fidelity_figure(_records(fail=("adaptive", "naive")), title="t")
        one_fails = hp.fidelity_figure(_records(fail=("naive",)), title="t")
        latency_none = hp.latency_figure(_records(fail=("adaptive", "naive")), title="t")

    def marker(ax):
        return [t.get_text() for t in ax.texts if t.get_gid() == style.NO_DATA_GID]

    assert marker(no_cnot.axes[1]) == ["not measured (no teleported CNOT requests)"]
    assert not marker(no_cnot.axes[0])
    assert marker(none_ok.axes[0]) == ["no successes"] and marker(none_ok.axes[1]) == ["no successes"]
    assert marker(one_fails.axes[0]) == ["no successes: naive"]
    assert marker(latency_none.axes[0]) == ["no successes"]


def test_identical_fidelities_still_draw():
    """Ideal hardware: every fidelity is 1 to rounding; the bins are widened, not refused."""
    records = _records(fidelity=1.0)
    records.loc[records.index[::2], "fidelity"] = 1.0 - 1e-15
    with style.use_style():
        fig = hp.fidelity_figure(records, title="t")
    edges = _step_edges(fig.axes[0])
    assert edges and edges[0][-1] - edges[0][0] == pytest.approx(1e-6, rel=1e-3)


def test_draw_writes_pdf_and_png(tmp_path):
    from types import SimpleNamespace

    scenario = SimpleNamespace(name="x", network=SimpleNamespace(scheme="s", link_mode="sampled"))
    output = SimpleNamespace(context={"records": _records()})
    with style.use_style():
        paths = hp.draw(scenario, output, tmp_path)
    assert sorted(p.name for p in paths) == ["fidelity.pdf", "fidelity.png", "latency.pdf",
                                             "latency.png"]
    assert all(p.stat().st_size > 1000 for p in paths)
