"""Runner of ``kind = "hardware_scenarios"``: the paper's policies on real hardware presets.

For each preset and N, the physical hub (:func:`modenhub_net.network.builder.run_policy`,
sampled link mode) with the preset's hardware on the growing path of
:mod:`modenhub_net.studies.preset_path` (same assumptions as ``peff_validation``) serves a
Poisson stream of teleportations and teleported CNOTs under the naive, orchestrated and
adaptive policies. The hub is built from the preset's devices (every preset field, the
preset's own heralding scheme: single click for the NV and transduced superconducting
presets). Reported per (preset, N, policy): success rate (Wilson interval), mean attempts,
latency, pair fidelity at use and teleportation / CNOT fidelity at use, from the simulated
states (bounded effective-sample-size Wilson intervals, inside [0, 1]).

Sensitivity: at one N and one policy, each leading hardware parameter of each preset is
improved by a factor of two in turn (efficiencies x2 capped at 1, losses in dB / 2,
coherence times x2, infidelities / 2, reconfiguration time / 2, communication qubits x2), on
the same workload and seed (common random numbers); the parameter whose improvement raises
``success rate x mean teleportation fidelity`` the most is the one that limits the preset.

``modenhub run scenarios/hardware_scenarios.toml`` writes ``results/hardware_scenarios/``:
``table.csv``, ``table.md``, ``sensitivity.csv``, ``policies.png``, ``sensitivity.png``,
``REPORT.md``, ``scenario.json``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from hardware_models.presets import load_preset
from modenhub_net.config import StrictModel, validate_document
from modenhub_net.network.builder import run_policy
from modenhub_net.network.records import records_frame, summarise_records
from modenhub_net.simulation import stream_seed_sequence
from modenhub_net.stats import bounded_mean_interval
from modenhub_net.studies.hardware_scenarios_variants import PARAMETERS
from modenhub_net.studies.preset_path import (
    PathModel,
    build_preset_hub,
    check_distinct,
    check_n_qpus,
    check_presets,
    pair_budget,
)
from modenhub_net.studies.skeleton import Progress, Study, StudyOutput, with_overrides
from protocols.workload import uniform_requests

__all__ = [
    "WorkloadSection",
    "SensitivitySection",
    "HardwareScenariosScenario",
    "PARAMETERS",
    "load_scenario",
    "run_point",
    "point_summary",
    "policy_table",
    "sensitivity",
    "evaluate_point",
    "compute",
    "MIN_FIDELITY_SAMPLES",
    "STUDY",
    "run_scenario",
]

Policy = Literal["naive", "orchestrated", "adaptive"]

#: fidelities at use from fewer successful requests than this are not plotted (their means
#: are dominated by the spread of single Haar-random inputs and wrong-correction events)
MIN_FIDELITY_SAMPLES = 20


class WorkloadSection(StrictModel):
    """Requests per point and the stream (``[workload]``)."""

    requests: int = Field(1000, ge=10, le=1_000_000, strict=True)
    cnot_fraction: float = Field(0.25, ge=0.0, le=1.0)
    mean_interarrival_ns: float = Field(1.0e8, gt=0.0, allow_inf_nan=False)
    rounds: int = Field(3, ge=1, le=1000, strict=True)
    kappa: float = Field(0.9, gt=0.0)
    k_min: int = Field(2, ge=1, strict=True)
    cutoff_over_t2: float = Field(0.3, gt=0.0)


class SensitivitySection(StrictModel):
    """Sensitivity sweep (``[sensitivity]``)."""

    n_qpus: int = Field(16, ge=2, le=4096, strict=True)
    policy: Policy = "orchestrated"
    requests: int = Field(1000, ge=10, le=1_000_000, strict=True)
    parameters: tuple[str, ...] | None = None

    @field_validator("parameters")
    @classmethod
    def _known(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            bad = [v for v in value if v not in PARAMETERS]
            if bad:
                raise ValueError(f"unknown parameter(s) {bad} (allowed: {', '.join(PARAMETERS)})")
        return value


class HardwareScenariosScenario(StrictModel):
    """A whole ``kind = "hardware_scenarios"`` scenario."""

    kind: Literal["hardware_scenarios"]
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", min_length=1, max_length=100)
    description: str = ""
    seed: int = Field(ge=0, le=2**63 - 1, strict=True)
    presets: tuple[str, ...] = Field(min_length=1)
    n_qpus: tuple[int, ...] = Field((4, 8, 16, 32, 64, 128), min_length=1)
    policies: tuple[Policy, ...] = Field(("naive", "orchestrated", "adaptive"), min_length=1)
    path: PathModel = Field(default_factory=PathModel)
    workload: WorkloadSection = Field(default_factory=WorkloadSection)
    sensitivity: SensitivitySection = Field(default_factory=SensitivitySection)
    confidence: float = Field(0.95, gt=0.0, lt=1.0)

    @field_validator("presets")
    @classmethod
    def _presets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return check_presets(value)

    @field_validator("policies")
    @classmethod
    def _policies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return check_distinct(value, "policies")

    @field_validator("n_qpus")
    @classmethod
    def _n(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return check_n_qpus(value)


def load_scenario(
    document: Mapping[str, Any], *, source: str, seed: int | None = None, trials: int | None = None
) -> HardwareScenariosScenario:
    """Apply CLI overrides (``trials`` = requests per point, both sections) and validate."""
    doc = with_overrides(document, seed=seed, trials=trials,
                         trials_at=("workload.requests", "sensitivity.requests"))
    return validate_document(HardwareScenariosScenario, doc, source=source)


def _seed(seed: int, name: str) -> int:
    return int(stream_seed_sequence(seed, name).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def run_point(
    scenario: HardwareScenariosScenario,
    preset: str,
    n: int,
    policy: str,
    *,
    requests: int | None = None,
    variant: str | None = None,
) -> pd.DataFrame:
    """Records of one (preset, N, policy[, improved parameter]) point.

    The workload and the simulation seed depend on (seed, preset, N) only: policies and
    variants of a point see the same requests (common random numbers).
    """
    w = scenario.workload
    built = build_preset_hub(preset, scenario.path, n)
    nodes, hub = built.nodes, built.hub
    if variant is not None:
        nodes, hub = PARAMETERS[variant][1](nodes, hub)
    t2 = load_preset(preset).memory.t2_ns
    cutoff = w.cutoff_over_t2 * t2 if math.isfinite(t2) else math.inf
    rs = _seed(scenario.seed, f"hardware/{preset}/N={n}")
    rng = np.random.Generator(np.random.PCG64(stream_seed_sequence(rs, "workload")))
    reqs = uniform_requests(
        rng,
        n_qpus=n,
        count=requests or w.requests,
        cnot_fraction=w.cnot_fraction,
        mean_interarrival_ns=w.mean_interarrival_ns,
    )
    records, net, _ = run_policy(
        nodes=nodes,
        hub=hub,
        scheme="detection_in_hub",
        link_mode="sampled",
        policy=policy,
        requests=reqs,
        seed=rs,
        rounds=w.rounds,
        kappa=w.kappa,
        k_min=w.k_min,
        cutoff_ns=cutoff,
    )
    frame = records_frame(records)
    frame["preset"] = preset
    budget = net.budget(0, 1)  # what the sampled link mode drew from (identical QPUs)
    frame["p_attempt"] = budget.p_success
    frame["heralded_fidelity"] = budget.fidelity
    frame["attempt_period_ns"] = budget.attempt_period_ns
    frame["heralding"] = budget.heralding
    return frame


def fidelity_interval(values: np.ndarray, *, confidence: float) -> tuple[float, float]:
    """Confidence interval of a mean fidelity (values in [0, 1]) that stays inside [0, 1].

    The effective-sample-size Wilson interval of
    :func:`modenhub_net.stats.bounded_mean_interval` (Korn & Graubard, Survey Methodology 24,
    193 (1998)); NaN for fewer than two values.
    """
    if values.size < 2:
        return math.nan, math.nan
    lo, hi = bounded_mean_interval(values, confidence=confidence)
    return float(lo), float(hi)


def point_summary(frame: pd.DataFrame, *, confidence: float, rounds: int | None = None) -> pd.DataFrame:
    """Summary rows (``summarise_records``) plus per-kind fidelity and the product metric.

    ``rounds`` (the round budget R) adds ``success_closed = 1 - (1 - p)^R`` on naive rows (one
    attempt a round, no cache: exact).
    """
    summary = summarise_records(frame, by=("preset", "n_qpus", "policy"), confidence=confidence)
    extra = []
    for key, g in frame.groupby(["preset", "n_qpus", "policy"], sort=True):
        ok = g[g["success"]]
        # fidelities lie in [0, 1]: bounded intervals (replace the normal ones of the summary)
        f_lo, f_hi = fidelity_interval(ok["fidelity"].dropna().to_numpy(float), confidence=confidence)
        pf_lo, pf_hi = fidelity_interval(ok["pair_fidelity"].dropna().to_numpy(float), confidence=confidence)
        tele = g[g["kind"] == "teleport"]
        cnot = g[g["kind"] == "cnot"]
        ok_t = tele.loc[tele["success"], "fidelity"].to_numpy(float)
        ok_c = cnot.loc[cnot["success"], "fidelity"].to_numpy(float)
        t_lo, t_hi = fidelity_interval(ok_t, confidence=confidence)
        c_lo, c_hi = fidelity_interval(ok_c, confidence=confidence)
        prod = np.where(tele["success"], tele["fidelity"], 0.0)
        p = float(g["p_attempt"].iloc[0])
        extra.append(
            dict(
                preset=key[0],
                n_qpus=key[1],
                policy=key[2],
                fidelity_ci_low=f_lo,
                fidelity_ci_high=f_hi,
                pair_fidelity_ci_low=pf_lo,
                pair_fidelity_ci_high=pf_hi,
                heralding=str(g["heralding"].iloc[0]),
                p_attempt=p,
                heralded_fidelity=float(g["heralded_fidelity"].iloc[0]),
                attempt_period_ns=float(g["attempt_period_ns"].iloc[0]),
                # naive: one attempt a round, no cache: success = 1 - (1 - p)^R exactly
                success_closed=1.0 - (1.0 - p) ** rounds if key[2] == "naive" and rounds else np.nan,
                teleport_successes=int(ok_t.size),
                teleport_fidelity=ok_t.mean() if ok_t.size else np.nan,
                teleport_fidelity_ci_low=float(t_lo),
                teleport_fidelity_ci_high=float(t_hi),
                cnot_successes=int(ok_c.size),
                cnot_fidelity=ok_c.mean() if ok_c.size else np.nan,
                cnot_fidelity_ci_low=float(c_lo),
                cnot_fidelity_ci_high=float(c_hi),
                product=float(prod.mean()) if prod.size else np.nan,
                product_se=float(prod.std(ddof=1) / math.sqrt(prod.size)) if prod.size > 1 else np.nan,
                cap_bound=",".join(sorted(set(g["cap_bound"]) - {""})),
            )
        )
    bounded = ["fidelity_ci_low", "fidelity_ci_high", "pair_fidelity_ci_low", "pair_fidelity_ci_high"]
    summary = summary.drop(columns=[c for c in bounded if c in summary.columns])
    return summary.merge(pd.DataFrame(extra), on=["preset", "n_qpus", "policy"])


def _table_job(item: tuple[HardwareScenariosScenario, str, int, str]) -> pd.DataFrame:
    scenario, preset, n, policy = item
    return point_summary(run_point(scenario, preset, n, policy), confidence=scenario.confidence,
                         rounds=scenario.workload.rounds)


def policy_table(scenario: HardwareScenariosScenario, progress: Progress | None = None) -> pd.DataFrame:
    """All (preset, N, policy) summaries (one task each; the same at any worker count)."""
    items = [(scenario, preset, n, policy) for preset in scenario.presets
             for n in scenario.n_qpus for policy in scenario.policies]
    progress = progress or Progress(quiet=True)
    frames = progress.map(_table_job, items, label="policy table")
    return pd.concat(frames, ignore_index=True)


def _variant_job(item: tuple[HardwareScenariosScenario, str, str | None]) -> pd.Series:
    scenario, preset, variant = item
    sec = scenario.sensitivity
    frame = run_point(scenario, preset, sec.n_qpus, sec.policy, requests=sec.requests, variant=variant)
    return point_summary(frame, confidence=scenario.confidence).iloc[0]


def sensitivity(scenario: HardwareScenariosScenario, progress: Progress | None = None) -> pd.DataFrame:
    """Baseline and one-at-a-time improved variants per preset (module docstring)."""
    sec = scenario.sensitivity
    names = sec.parameters or tuple(PARAMETERS)
    items = [(scenario, preset, variant) for preset in scenario.presets
             for variant in (None, *names)]
    progress = progress or Progress(quiet=True)
    summaries = progress.map(_variant_job, items, label="sensitivity")
    by_item = {(preset, variant): row for (_, preset, variant), row in zip(items, summaries, strict=True)}
    rows = []
    for preset in scenario.presets:
        base = by_item[(preset, None)]
        built = build_preset_hub(preset, scenario.path, sec.n_qpus)
        p_base = built.p_budget
        for name in names:
            nodes, hub = PARAMETERS[name][1](built.nodes, built.hub)
            p_var = pair_budget(nodes[0], nodes[1], hub, sec.n_qpus).p_success
            v = by_item[(preset, name)]
            rows.append(dict(
                preset=preset, parameter=name, change=PARAMETERS[name][0],
                product_base=base["product"], product=v["product"], product_se=v["product_se"],
                product_gain=v["product"] - base["product"],
                p_attempt_factor=p_var / p_base if p_base > 0 else float("nan"),
                success_base=base["success_rate"], success=v["success_rate"],
                teleport_fidelity_base=base["teleport_fidelity"], teleport_fidelity=v["teleport_fidelity"],
                latency_base_ns=base["mean_latency_ns"], latency_ns=v["mean_latency_ns"],
            ))
    frame = pd.DataFrame(rows)
    frame["limiting"] = False
    frame["limiting_by"] = ""
    for _, g in frame.groupby("preset"):
        gains = g["product_gain"]  # NaN when the workload has no teleportation
        if gains.notna().any():
            best = gains.idxmax()
            if gains[best] > 2 * max(g.loc[best, "product_se"], 1e-12):
                frame.loc[best, ["limiting", "limiting_by"]] = (True, "simulation")
                continue
        # nothing resolvable in the simulation: the closed-form per-attempt gain decides
        factors = g["p_attempt_factor"]
        if factors.notna().any():
            best = factors.idxmax()
            if factors[best] > 1.0 + 1e-9:
                frame.loc[best, ["limiting", "limiting_by"]] = (True, "closed-form p")
    return frame


def evaluate_point(document: Mapping[str, Any], *, seed: int, source: str = "<sweep point>") -> pd.DataFrame:
    """The policy table of one scenario at one seed (pure: no file I/O)."""
    return policy_table(load_scenario(document, source=source, seed=seed))


def compute(scenario: HardwareScenariosScenario, progress: Progress) -> StudyOutput:
    """Policy table and sensitivity as DataFrames, plus the report's findings."""
    from modenhub_net.studies import hardware_scenarios_report as report

    with progress.stage("table"):
        table = policy_table(scenario, progress)
    with progress.stage("sensitivity"):
        sens = sensitivity(scenario, progress)
    summary = table[["preset", "n_qpus", "policy", "success_rate", "mean_attempts", "teleport_fidelity"]]
    return StudyOutput(tables={"table": table, "sensitivity": sens},
                       context=report.context(scenario, table, sens), summary=summary)


def _draw(scenario: HardwareScenariosScenario, output: StudyOutput, folder: Path) -> list[Path]:
    from modenhub_net.studies import hardware_scenarios_plots as plots

    return plots.draw(output.tables["table"], output.tables["sensitivity"], folder)


STUDY = Study(kind="hardware_scenarios", load=load_scenario, compute=compute, plot=_draw,
              template="hardware_scenarios", markdown_tables={"table": "full_table"})
#: the runner the CLI calls (:meth:`modenhub_net.studies.skeleton.Study.run_scenario`)
run_scenario = STUDY.run_scenario
