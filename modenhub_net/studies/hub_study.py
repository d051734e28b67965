"""Runner of ``kind = "hub"`` scenarios: the physical hub simulation.

``modenhub run scenarios/hub4_case_study.toml [--out DIR] [--seed S] [--trials T]`` writes,
atomically into ``DIR`` (default ``results/<name>``): ``records.parquet`` (one row per
request and policy), ``summary.csv`` (per policy: Wilson interval for success, mean +- z s/sqrt(n)
for attempts, latency and fidelities), ``latency.png`` and ``fidelity.png`` (distributions),
``REPORT.md`` and ``scenario.json``. ``--trials`` overrides ``workload.requests``.
"""

from __future__ import annotations

import copy
import io
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modenhub_net.config import validate_document
from modenhub_net.network.builder import run_policy
from modenhub_net.network.config import HubScenario
from modenhub_net.network.records import records_frame, summarise_records
from modenhub_net.output import atomic_output_dir, atomic_write_text
from modenhub_net.simulation import stream_seed_sequence
from protocols.workload import hotspot_requests, list_requests, uniform_requests

__all__ = ["load_scenario", "make_requests", "simulate", "evaluate_point", "run_scenario"]


def load_scenario(document: Mapping[str, Any], *, source: str, seed: int | None = None,
                  trials: int | None = None) -> HubScenario:
    """Apply CLI overrides and validate (``UserInputError`` naming field and value)."""
    doc = copy.deepcopy(dict(document))
    if seed is not None:
        doc["seed"] = seed
    if trials is not None:
        workload = doc.setdefault("workload", {})
        if isinstance(workload, dict):
            workload["requests"] = trials
    return validate_document(HubScenario, doc, source=source)


def make_requests(scenario: HubScenario) -> list:
    """The scenario's workload (stream ``workload`` of the root seed)."""
    w = scenario.workload
    n = scenario.network.size
    rng = np.random.Generator(np.random.PCG64(stream_seed_sequence(scenario.seed, "workload")))
    if w.kind == "uniform":
        return uniform_requests(rng, n_qpus=n, count=w.requests, cnot_fraction=w.cnot_fraction,
                                mean_interarrival_ns=w.mean_interarrival_ns)
    if w.kind == "hotspot":
        return hotspot_requests(rng, n_qpus=n, count=w.requests, hot_qpu=w.hot_qpu,
                                hot_fraction=w.hot_fraction, cnot_fraction=w.cnot_fraction,
                                mean_interarrival_ns=w.mean_interarrival_ns)
    return list_requests(w.entries, n_qpus=n)


def simulate(scenario: HubScenario) -> pd.DataFrame:
    """Records of every policy of the scenario (same workload for all: common requests)."""
    requests = make_requests(scenario)
    nodes, hub = scenario.specs()
    o, c = scenario.orchestrator, scenario.cache
    frames = []
    for policy in o.policies:
        records, _, _ = run_policy(
            nodes=nodes, hub=hub, scheme=scenario.network.scheme,
            link_mode=scenario.network.link_mode, policy=policy, requests=requests,
            seed=scenario.seed, rounds=o.rounds, kappa=o.kappa, k_min=o.k_min,
            cache_capacity=c.capacity, cutoff_ns=c.cutoff_ns, eviction=c.eviction,
            leg_cutoff_ns=scenario.hub.leg_cutoff_ns,
        )
        frames.append(records_frame(records, scheme=scenario.network.scheme,
                                    link_mode=scenario.network.link_mode))
    return pd.concat(frames, ignore_index=True)


def evaluate_point(document: Mapping[str, Any], *, seed: int, source: str = "<sweep point>") -> pd.DataFrame:
    """Summary rows of one hub scenario at one seed (pure, no file I/O)."""
    scenario = load_scenario(document, source=source, seed=seed)
    return summarise_records(simulate(scenario), confidence=scenario.study.confidence)


def _histogram_edges(values: pd.Series, count: int, *, min_width: float) -> np.ndarray:
    """``count`` equal bins over the values' range, widened to ``min_width`` when the values
    (almost) coincide: numpy refuses bins narrower than float resolution (ideal hardware gives
    fidelities that are all 1 to rounding)."""
    low, high = float(values.min()), float(values.max())
    if high - low < min_width:
        middle = 0.5 * (low + high)
        low, high = middle - 0.5 * min_width, middle + 0.5 * min_width
    return np.linspace(low, high, count + 1)


def _plots(records: pd.DataFrame, out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = records[records["success"]]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for policy, group in ok.groupby("policy"):
        latency_us = group["latency_ns"] / 1e3
        ax.hist(latency_us, bins=_histogram_edges(latency_us, 50, min_width=1e-3), histtype="step",
                label=policy, density=True)
    ax.set_xlabel("latency (us)")
    ax.set_ylabel("density")
    ax.set_title(title, fontsize=8)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=120)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for policy, group in ok.groupby("policy"):
        for ax, kind in zip(axes, ("teleport", "cnot"), strict=True):
            values = group.loc[group["kind"] == kind, "fidelity"]
            if len(values):
                ax.hist(values, bins=_histogram_edges(values, 40, min_width=1e-6), histtype="step",
                        label=policy, density=True)
    for ax, kind in zip(axes, ("teleportation fidelity", "teleported-CNOT fidelity"), strict=True):
        ax.set_xlabel(kind)
        if ax.get_legend_handles_labels()[0]:  # no successful request of this kind: no legend
            ax.legend()
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "fidelity.png", dpi=120)
    plt.close(fig)


def _report(scenario: HubScenario, summary: pd.DataFrame, elapsed: float) -> str:
    net = scenario.network
    cols = ["policy", "requests", "success_rate", "success_ci_low", "success_ci_high",
            "mean_attempts", "cache_hit_rate", "mean_latency_ns", "mean_fidelity",
            "mean_pair_fidelity", "cap_bound_requests"]
    lines = [
        f"# {scenario.name}: physical hub simulation",
        "",
        scenario.description.strip(),
        "",
        f"- {net.size} QPUs, scheme {net.scheme}, link mode {net.link_mode}, presets "
        f"{sorted({n.label for n in scenario.specs()[0]})}",
        f"- {scenario.workload.requests} {scenario.workload.kind} requests per policy "
        f"(CNOT fraction {scenario.workload.cnot_fraction}), R = {scenario.orchestrator.rounds}, "
        f"seed {scenario.seed}; simulated in {elapsed:.2f} s",
        f"- intervals: {scenario.study.confidence:.0%} (Wilson for success, mean +- z s/sqrt(n))",
        "- fidelities are computed from the simulated states (teleportation: random input state; "
        "CNOT: random product inputs vs the ideal output)",
        "",
        "```",
        summary[[c for c in cols if c in summary.columns]].to_string(index=False),
        "```",
        "",
        "Files: records.parquet, summary.csv, latency.png, fidelity.png.",
    ]
    return "\n".join(lines) + "\n"


def run_scenario(document: Mapping[str, Any], *, source: str, out_dir: Path | None,
                 seed: int | None, trials: int | None, quiet: bool) -> Path:
    """Validate, simulate and write one hub scenario (see the module docstring)."""
    scenario = load_scenario(document, source=source, seed=seed, trials=trials)
    out = Path(out_dir) if out_dir is not None else Path("results") / scenario.name
    start = time.perf_counter()
    records = simulate(scenario)
    summary = summarise_records(records, confidence=scenario.study.confidence)
    elapsed = time.perf_counter() - start
    with atomic_output_dir(out) as staging:
        if scenario.study.write_records:
            buffer = io.BytesIO()
            records.to_parquet(buffer, index=False)
            (staging / "records.parquet").write_bytes(buffer.getvalue())
        summary.to_csv(staging / "summary.csv", index=False, float_format="%.6g")
        _plots(records, staging, f"{scenario.name} ({scenario.network.scheme}, {scenario.network.link_mode})")
        atomic_write_text(staging / "scenario.json", scenario.canonical_json() + "\n")
        atomic_write_text(staging / "REPORT.md", _report(scenario, summary, elapsed))
    if not quiet:
        print(f"{scenario.name}: {len(records)} records in {elapsed:.2f} s")
        print(summary[["policy", "success_rate", "mean_attempts", "mean_fidelity",
                       "mean_latency_ns"]].to_string(index=False))
    return out
