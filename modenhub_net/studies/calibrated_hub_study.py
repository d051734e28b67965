"""Runner of ``kind = "calibrated_hub"``: the paper's Fig. 3 reproduced by the physical hub.

For each N, the switch's loss per stage is chosen so that the closed-form per-attempt
success of a detection-in-the-hub double-click link, ``p = eta_sw**2 / 2`` (ideal emitters
and detectors, 0 km fibres), equals the paper's ``p_eff(N) = p0 / (1 + beta log2 N)``: the
switch loss is the physical reason p_eff falls with N (DESIGN.md §3). Ideal memories and an
infinite cutoff make the physical round/cache semantics those of the aggregate model; the
physical success rates and attempts are compared with the aggregate Monte Carlo
(:func:`modenhub_net.aggregate.run_study`) with ``z = diff / sqrt(se_phys^2 + se_agg^2)``.

Outputs (``results/<name>``): ``summary.csv`` (physical), ``agreement.csv`` and ``REPORT.md``.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from hardware_models.bsm import BsmParams, double_click_success_probability
from hardware_models.detector import DetectorParams
from modenhub_net.aggregate import AggregateModel, run_study
from modenhub_net.config import StrictModel, validate_document
from modenhub_net.network.builder import run_policy
from modenhub_net.network.hardware import HubHardware, NodeHardware, switch_stages
from modenhub_net.network.records import records_frame, summarise_records
from modenhub_net.output import atomic_output_dir, atomic_write_text
from modenhub_net.simulation import stream_seed_sequence
from protocols.workload import uniform_requests

__all__ = ["CalibratedScenario", "calibrated_hardware", "simulate_point", "agreement",
           "evaluate_point", "run_scenario"]


#: the calibrated link's BSM station: ideal detectors, no dark counts, V = 1
_IDEAL_BSM = BsmParams(detector=DetectorParams(efficiency=1.0, dark_count_rate_hz=0.0, dead_time_ns=0.0))


class CalibratedScenario(StrictModel):
    """A ``kind = "calibrated_hub"`` scenario."""

    kind: Literal["calibrated_hub"]
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    seed: int = Field(ge=0, strict=True)
    model: AggregateModel = Field(default_factory=AggregateModel)
    n_qpus: tuple[int, ...] = Field((2, 4, 8, 16, 32, 64, 128), min_length=1)
    trials: int = Field(2500, ge=1, strict=True)
    policies: tuple[Literal["naive", "orchestrated"], ...] = Field(("naive", "orchestrated"), min_length=1)
    link_mode: Literal["sampled", "detailed"] = "sampled"

    @field_validator("policies")
    @classmethod
    def _distinct_policies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("policies must be distinct")
        return value

    @field_validator("n_qpus")
    @classmethod
    def _n(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(isinstance(n, bool) or n < 2 or n > 4096 for n in value) or len(set(value)) != len(value):
            raise ValueError("N values must be distinct integers in [2, 4096]")
        return tuple(sorted(value))

    @model_validator(mode="after")
    def _reachable(self) -> CalibratedScenario:
        check_calibration_reachable(self.model, self.n_qpus, prefix="model.")
        return self


def max_calibrated_probability() -> float:
    """Largest per-attempt success of the calibrated link: a lossless double-click attempt.

    ``P = eta_A eta_B eta_d^2 / 2`` at unit transmissions and detector efficiency, no dark
    counts (Barrett & Kok, PRA 71, 060310 (2005)): 1/2, from
    :func:`hardware_models.bsm.double_click_success_probability`.
    """
    return double_click_success_probability(eta_a=1.0, eta_b=1.0, bsm=_IDEAL_BSM)


def check_calibration_reachable(model: AggregateModel, n_qpus: Sequence[int], *, prefix: str) -> None:
    """Refuse ``(p0, beta)`` whose ``p_eff(N)`` a lossless double-click link cannot reach.

    The calibration removes switch loss until ``p = p_eff(N)``; above
    :func:`max_calibrated_probability` it would need a switch with gain (a negative loss).

    Raises
    ------
    ValueError
        Naming ``<prefix>p0`` (and ``<prefix>beta``), the value and the allowed range.
    """
    p_max = max_calibrated_probability()
    n_min = min(n_qpus)
    p = model.p_eff(n_min)
    if p > p_max:
        bound = p_max * (1.0 + model.beta * math.log2(n_min))
        raise ValueError(
            f"{prefix}p0 = {model.p0!r} with {prefix}beta = {model.beta!r} gives p_eff({n_min}) = "
            f"{p:.4g}, above {p_max:g}, the per-attempt success of a lossless double-click link "
            f"(Barrett & Kok 2005) the hub is calibrated with; allowed: {prefix}p0 <= {bound:.6g} "
            f"for N >= {n_min}"
        )


def calibrated_hardware(model: AggregateModel, n: int) -> tuple[list[NodeHardware], HubHardware]:
    """Ideal QPUs and a hub whose switch loss makes ``p = p_eff(N)`` exactly."""
    p = model.p_eff(n)
    k = model.k_parallel(n)
    base = HubHardware(bsm_stations=k + 1, sources=k + 1, memory_slots=0,
                       switch_max_circuits=2 * (k + 1))
    stages = switch_stages(base, n)
    eta_sw = math.sqrt(2.0 * p)  # p = eta_sw^2 / 2
    loss = -10.0 * math.log10(eta_sw) / stages
    hub = HubHardware(bsm_stations=k + 1, sources=k + 1, memory_slots=0,
                      switch_max_circuits=2 * (k + 1), switch_loss_db_per_stage=loss)
    nodes = [NodeHardware(fibre_length_km=0.0, comm_qubits=n + k + 2) for _ in range(n)]
    return nodes, hub


def simulate_point(scenario: CalibratedScenario, n: int, policy: str) -> pd.DataFrame:
    """Physical records of one (N, policy) point."""
    nodes, hub = calibrated_hardware(scenario.model, n)
    rng = np.random.Generator(np.random.PCG64(stream_seed_sequence(scenario.seed, f"workload/N={n}")))
    requests = uniform_requests(rng, n_qpus=n, count=scenario.trials)
    records, net, _ = run_policy(
        nodes=nodes, hub=hub, scheme="detection_in_hub", link_mode=scenario.link_mode,
        policy=policy, requests=requests, seed=scenario.seed, rounds=scenario.model.rounds,
        kappa=scenario.model.kappa, k_min=scenario.model.k_min,
    )
    frame = records_frame(records)
    frame["p_physical"] = net.budget(0, 1).p_success
    return frame


def agreement(scenario: CalibratedScenario, physical: pd.DataFrame) -> pd.DataFrame:
    """Physical vs aggregate success and attempts per (N, policy), with z-scores."""
    agg = run_study(scenario.model, n_qpus=list(scenario.n_qpus), strategies=list(scenario.policies),
                    trials=scenario.trials, seed=scenario.seed + 1).summary
    rows = []
    for (n, policy), group in physical.groupby(["n_qpus", "policy"]):
        a = agg[(agg["n_qpus"] == n) & (agg["strategy"] == policy)].iloc[0]
        m = len(group)
        s_phys = float(group["success"].mean())
        att = group["attempts"].to_numpy(float)
        se_s = math.sqrt(s_phys * (1 - s_phys) / m + a.success_rate * (1 - a.success_rate) / a.trials)
        se_a = math.sqrt(att.var(ddof=1) / m + a.attempts_std**2 / a.trials)
        rows.append(dict(
            n_qpus=n, policy=policy, p_eff=scenario.model.p_eff(n),
            p_physical=float(group["p_physical"].iloc[0]), trials=m,
            success_physical=s_phys, success_aggregate=a.success_rate,
            z_success=(s_phys - a.success_rate) / se_s if se_s > 0 else 0.0,
            attempts_physical=float(att.mean()), attempts_aggregate=a.mean_attempts,
            z_attempts=(att.mean() - a.mean_attempts) / se_a if se_a > 0 else 0.0,
            cache_hits_physical=int(group["cache_hit"].sum()), cache_hits_aggregate=int(a.cache_hits),
        ))
    return pd.DataFrame(rows)


def _load(document: Mapping[str, Any], *, source: str, seed: int | None, trials: int | None):
    doc = copy.deepcopy(dict(document))
    if seed is not None:
        doc["seed"] = seed
    if trials is not None:
        doc["trials"] = trials
    return validate_document(CalibratedScenario, doc, source=source)


def simulate(scenario: CalibratedScenario) -> pd.DataFrame:
    return pd.concat([simulate_point(scenario, n, p) for n in scenario.n_qpus for p in scenario.policies],
                     ignore_index=True)


def evaluate_point(document: Mapping[str, Any], *, seed: int, source: str = "<sweep point>") -> pd.DataFrame:
    """Agreement rows of one calibrated scenario at one seed (pure)."""
    scenario = _load(document, source=source, seed=seed, trials=None)
    return agreement(scenario, simulate(scenario))


def run_scenario(document: Mapping[str, Any], *, source: str, out_dir: Path | None,
                 seed: int | None, trials: int | None, quiet: bool) -> Path:
    scenario = _load(document, source=source, seed=seed, trials=trials)
    out = Path(out_dir) if out_dir is not None else Path("results") / scenario.name
    start = time.perf_counter()
    physical = simulate(scenario)
    elapsed = time.perf_counter() - start
    table = agreement(scenario, physical)
    summary = summarise_records(physical)
    with atomic_output_dir(out) as staging:
        summary.to_csv(staging / "summary.csv", index=False, float_format="%.6g")
        table.to_csv(staging / "agreement.csv", index=False, float_format="%.6g")
        text = [f"# {scenario.name}: physical hub calibrated to the paper's p_eff(N)", "",
                f"{scenario.trials} uniform requests per (N, policy), link mode {scenario.link_mode}, "
                f"seed {scenario.seed}; physical simulation {elapsed:.1f} s.", "",
                "```", table.to_string(index=False, float_format=lambda x: f"{x:.4g}"), "```", "",
                f"max |z| success {table['z_success'].abs().max():.2f}, attempts "
                f"{table['z_attempts'].abs().max():.2f} (agreement required: < 4)."]
        atomic_write_text(staging / "REPORT.md", "\n".join(text) + "\n")
    if not quiet:
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        print(f"physical simulation: {elapsed:.1f} s")
    return out
