"""Numbers and data-dependent findings for the ``hardware_scenarios`` report.

The fixed prose lives in ``modenhub_net/reporting/templates/hardware_scenarios.md.j2``; this
module turns the study's tables into the values and sentences that depend on the data
(:func:`context`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from hardware_models.presets import load_preset
from modenhub_net.aggregate import k_parallel
from modenhub_net.studies.hardware_scenarios import MIN_FIDELITY_SAMPLES, HardwareScenariosScenario

__all__ = ["TABLE_COLUMNS", "context", "headline"]

#: columns of the full table shown in REPORT.md (all of them are in ``table.csv``)
TABLE_COLUMNS = [
    "preset", "n_qpus", "policy", "heralding", "p_attempt", "heralded_fidelity",
    "attempt_period_ns", "success_rate", "success_ci_low", "success_ci_high", "success_closed",
    "mean_attempts", "mean_latency_ns", "median_latency_ns", "mean_pair_fidelity",
    "teleport_successes", "teleport_fidelity", "cnot_successes", "cnot_fidelity", "product",
    "cache_hit_rate", "cap_bound", "cap_bound_requests",
]

#: sensitivity columns shown in REPORT.md
SENSITIVITY_COLUMNS = [
    "preset", "parameter", "product_base", "product", "product_gain", "product_se",
    "p_attempt_factor", "success", "teleport_fidelity", "limiting", "limiting_by",
]

#: version 0.4.0 at N = 128, orchestrated (results/hardware_scenarios/table.csv of 0.4.0):
#: preset -> (p_attempt, success rate, mean pair fidelity at use, teleportation fidelity at use)
PREVIOUS = {
    "version": "0.5.0",
    "rows": {
        "ideal": (0.5, 0.9995, 1.0, 1.0),
        "near_term_trapped_ion": (1.299e-05, 0.00025, 0.889, 0.9254),
        "near_term_nv": (1.061e-05, 0.0, math.nan, math.nan),
        "superconducting_transduced": (0.002199, 0.0125, 0.4175, 0.5932),
        "future": (0.005027, 0.1045, 0.9511, 0.9667),
    },
}


def headline(table: pd.DataFrame) -> pd.DataFrame:
    """The largest-N rows: success, attempts, latency (ms), teleportation fidelity (uses)."""
    g = table[table["n_qpus"] == table["n_qpus"].max()]
    return pd.DataFrame(dict(
        preset=g["preset"], policy=g["policy"], p_attempt=g["p_attempt"], success=g["success_rate"],
        success_ci=[f"[{lo:.3g}, {hi:.3g}]" for lo, hi in zip(g.success_ci_low, g.success_ci_high,
                                                                strict=True)],
        attempts=g["mean_attempts"], latency_ms=g["mean_latency_ns"] / 1e6,
        teleport_fidelity=[f"{f:.4g} ({n})" if n else "-"
                           for f, n in zip(g.teleport_fidelity, g.teleport_successes, strict=True)],
        pair_fidelity=g["mean_pair_fidelity"],
    ))


def _comparison(table: pd.DataFrame) -> pd.DataFrame:
    """The previous version (``PREVIOUS``) vs now at the largest N, orchestrated."""
    big = table[(table.n_qpus == table.n_qpus.max()) & (table.policy == "orchestrated")]
    rows = []
    for preset, (p, s, f_pair, f_tel) in PREVIOUS["rows"].items():
        row = big[big.preset == preset]
        if row.empty:
            continue
        r = row.iloc[0]
        rows.append(dict(preset=preset, p_attempt_before=p, p_attempt=r.p_attempt,
                         success_before=s, success=r.success_rate, pair_fidelity_before=f_pair,
                         pair_fidelity=r.mean_pair_fidelity, teleport_fidelity_before=f_tel,
                         teleport_fidelity=r.teleport_fidelity))
    return pd.DataFrame(rows)


def _limits(sens: pd.DataFrame) -> list[str]:
    out = []
    for preset, g in sens.groupby("preset", sort=False):
        top = g.sort_values("product_gain", ascending=False)
        if not g["limiting"].any():
            out.append(f"**{preset}**: no x2 change of a listed parameter improves it measurably at "
                       "this size.")
            continue
        lim = g[g["limiting"]].iloc[0]
        text = (f"**{preset}**: limited by **{lim.parameter}** ({lim.change}; decided by "
                f"{lim.limiting_by}: success x F_tel {lim.product_base:.4g} -> {lim['product']:.4g}, "
                f"per-attempt p x {lim.p_attempt_factor:.3g})")
        if lim.limiting_by == "closed-form p":
            text += "; no simulated gain exceeds 2 SE at this size"
        others = top[top.parameter != lim.parameter].iloc[:2]
        text += "; next: " + ", ".join(f"{o.parameter} ({o.product_gain:+.4f})" for o in others.itertuples())
        out.append(text + ".")
    return out


def _cap_finding(preset: str, policy: str, h: pd.DataFrame, s: HardwareScenariosScenario) -> str:
    w = s.workload
    hw = load_preset(preset)
    comm = s.path.comm_qubits or hw.qpu.n_comm_qubits
    frac = (h.cap_bound_requests / h.requests).max()
    k_need = {int(n): k_parallel(int(n), kappa=w.kappa, k_min=w.k_min) for n in h.n_qpus}
    over = [n for n, k in k_need.items() if k > comm]
    within = [n for n, k in k_need.items() if k <= comm]
    why = []
    if over:
        why.append(f"at N = {', '.join(map(str, over))} K(N) (up to {max(k_need[n] for n in over)}) "
                   f"exceeds the {comm} communication qubits per QPU")
    if policy == "orchestrated":
        last = h.iloc[-1]
        per_round = last.mean_attempts / max(last.mean_rounds, 1e-12)
        m = min(k_need[int(last.n_qpus)], comm)
        if within or per_round < 0.8 * m:
            why.append(
                (f"at N = {', '.join(map(str, within))} K(N) fits, so " if within else "and ")
                + "spares held in the cache take the communication qubits (each kept spare occupies "
                "one at both ends until used or expired"
                + ("; T2 = inf: no cutoff, they never expire" if math.isinf(hw.memory.t2_ns) else "")
                + f"): at N = {int(last.n_qpus)} a round gets {per_round:.2g} attempts on average "
                f"instead of {m}. The paper's cache costs no resources")
    return (f"{preset} / {policy}: parallel attempts capped (`{', '.join(sorted(set(h.cap_bound)))}`) "
            f"in up to {100 * frac:.0f} % of requests: " + "; ".join(why) + ".")


def _findings(s: HardwareScenariosScenario, table: pd.DataFrame) -> list[str]:
    out = []
    w = s.workload
    if w.cnot_fraction == 1.0:
        out.append("workload.cnot_fraction = 1: no teleportations, so the teleportation fidelity and "
                   "the product success x mean F_tel are undefined (NaN); the sensitivity falls back "
                   "to the closed-form per-attempt p, and `cnot_fidelity` reports the fidelity at use.")
    naive = table[(table.policy == "naive") & table.success_closed.notna()]
    if len(naive):
        se = np.sqrt(naive.success_closed * (1 - naive.success_closed) / naive.requests).replace(0, np.nan)
        z = ((naive.success_rate - naive.success_closed) / se).abs()
        out.append("Naive success vs its closed form 1 - (1 - p)^R (exact: one attempt a round, no "
                   f"cache): max |z| = {z.max():.2f} over {int(z.notna().sum())} points with p > 0.")
    for preset in s.presets:
        g = table[table.preset == preset]
        if g["success_rate"].max() < 0.05:
            p = g["p_attempt"].max()
            k_max = max(k_parallel(int(n), kappa=w.kappa, k_min=w.k_min) for n in g.n_qpus)
            s_k = 1 - (1 - p) ** (w.rounds * k_max)
            text = (f"{preset}: success < 5 % everywhere: per-attempt p <= {p:.2g} with R = {w.rounds} "
                    "rounds of K(N) attempts rarely herald: such hardware needs many more attempts "
                    "per request (a rate-limited, not round-limited service)")
            if load_preset(preset).bsm.scheme == "single_click":
                text += (f"; even with its own single-click heralding the expected successes per "
                         f"request are at most {g['success_closed'].max():.2g} (naive closed form) "
                         f"and {s_k:.2g} (K(N) attempts a round)")
            out.append(text + ".")
        for policy in ("orchestrated", "adaptive"):
            h = g[(g.policy == policy) & (g.cap_bound.fillna("") != "")].sort_values("n_qpus")
            if not h.empty:
                out.append(_cap_finding(preset, policy, h, s))
        o = g[g.policy == "orchestrated"].set_index("n_qpus")
        ad = g[g.policy == "adaptive"].set_index("n_qpus")
        common = o.index.intersection(ad.index)
        if len(common) and np.allclose(o.loc[common, "mean_attempts"], ad.loc[common, "mean_attempts"],
                                       rtol=0, atol=1e-9):
            out.append(f"{preset}: adaptive = orchestrated at every N (same attempts, same records): "
                       "at p << 1 the fewest attempts reaching the orchestrated success are K(N) "
                       "itself (or the communication-qubit cap), and neither policy gets a cache hit "
                       "at these rates.")
        few = g[(g.teleport_successes > 0) & (g.teleport_successes < MIN_FIDELITY_SAMPLES)]
        if len(few):
            out.append(f"{preset}: fidelities at use rest on fewer than {MIN_FIDELITY_SAMPLES} "
                       f"successful teleportations at {len(few)} of {len(g)} points (as few as "
                       f"{int(few.teleport_successes.min())}); a single input state or a wrong "
                       "correction from a read-out error moves such a mean by tens of percent: those "
                       "values are in the table with their counts, not in the figure.")
    slow = sorted({(load_preset(q).switch.reconfiguration_time_ns, q) for q in s.presets}, reverse=True)
    slow = [(t, q) for t, q in slow if t >= 1e6]
    if slow:
        out.append("Latency is dominated by the switch reconfiguration time ("
                   + ", ".join(f"{q}: {t / 1e6:.3g} ms" for t, q in slow)
                   + ") whenever consecutive requests use different QPU pairs; the paper's "
                   "round-count view does not see this.")
    het = table[table["mean_pair_fidelity"].notna()]
    if len(het):
        out.append("Pair fidelity at use vs the heralded state's closed-form fidelity "
                   "(`heralded_fidelity`: emission fidelity, HOM visibility, dark counts and, for "
                   "single click, the bright-state population included): the difference is memory "
                   "decay while the pair waits (largest "
                   f"{(het.heralded_fidelity - het.mean_pair_fidelity).max():.2g}).")
    return out


def context(s: HardwareScenariosScenario, table: pd.DataFrame, sens: pd.DataFrame) -> dict[str, Any]:
    """Values for ``hardware_scenarios.md.j2`` beyond the skeleton's standard ones."""
    return dict(
        headline=headline(table),
        full_table=table[[c for c in TABLE_COLUMNS if c in table.columns]],
        sensitivity_table=sens[SENSITIVITY_COLUMNS] if len(sens) else sens,
        limits=_limits(sens) if len(sens) else [],
        findings=_findings(s, table),
        previous_version=PREVIOUS["version"],
        comparison=_comparison(table),
        n_max=int(table["n_qpus"].max()),
    )
