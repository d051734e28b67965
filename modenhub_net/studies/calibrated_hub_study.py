"""Runner of ``kind = "calibrated_hub"``: the paper's Fig. 3 reproduced by the physical hub.

For each N, the loss per stage of the hub's multistage switch is chosen so that the
closed-form per-attempt success of a detection-in-the-hub double-click link of the very
devices the network is built from (ideal emitters and detectors, 0 km fibres;
:func:`hardware_models.link_budget.pair_link_budget`, Barrett & Kok, PRA 71, 060310 (2005):
``p = eta_sw**2 / 2``) equals the paper's ``p_eff(N) = p0 / (1 + beta log2 N)``: the switch
loss is the physical reason p_eff falls with N. Ideal memories and an
infinite cutoff make the physical round/cache semantics those of the aggregate model; the
physical success rates and attempts are compared with the aggregate Monte Carlo
(:func:`modenhub_net.aggregate.run_study`) with ``z = diff / sqrt(se_phys^2 + se_agg^2)``.

Outputs (``results/<name>``, written by the shared skeleton): ``summary.csv`` (physical),
``agreement.csv``, ``calibration.csv`` (the solved switch loss per N), ``agreement.pdf`` /
``agreement.png`` (physical vs aggregate success and attempts, the paper's Fig. 3 layout) and
``REPORT.md`` (template ``reporting/templates/calibrated_hub.md.j2``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator
from scipy import optimize

from hardware_models.bsm import BsmParams, double_click_success_probability
from hardware_models.memory import MemoryParams
from hardware_models.qpu import QpuParams
from hardware_models.switch import SwitchParams, switch_stages
from modenhub_net.aggregate import AggregateModel, run_study
from modenhub_net.config import StrictModel, validate_document
from modenhub_net.errors import UserInputError
from modenhub_net.network.builder import run_policy
from modenhub_net.network.records import records_frame, summarise_records
from modenhub_net.network.spec import IDEAL_DETECTOR, HubSpec, QpuSpec
from modenhub_net.simulation import stream_seed_sequence
from modenhub_net.studies.preset_path import check_distinct, check_n_qpus, pair_budget, replace_params
from modenhub_net.studies.skeleton import Progress, Study, StudyOutput, with_overrides
from protocols.workload import uniform_requests

__all__ = ["CalibratedScenario", "STUDY", "agreement", "calibrated_hardware", "compute",
           "evaluate_point", "load_scenario", "run_scenario", "simulate", "simulate_point"]


#: the calibrated link's BSM station: double click, ideal detectors (no dark counts, no dead
#: time), V = 1
_IDEAL_BSM = BsmParams(scheme="double_click", detector=IDEAL_DETECTOR, coincidence_window_ns=1.0)


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
        return check_distinct(value, "policies")

    @field_validator("n_qpus")
    @classmethod
    def _n(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return check_n_qpus(value)

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


def _min_calibrated_probability(model: AggregateModel, n: int) -> float:
    """Per-attempt success of the calibrated link at the switch's largest loss per stage."""
    qpus, hub = _calibration_base(model, n, visibility=1.0)
    return _p_at_loss(qpus[0], hub, n, _MAX_STAGE_LOSS_DB)


def check_calibration_reachable(model: AggregateModel, n_qpus: Sequence[int], *, prefix: str) -> None:
    """Refuse ``(p0, beta)`` whose ``p_eff(N)`` the calibrated switch loss cannot reach.

    The calibration sets the switch loss per stage, in [0, 30] dB (the range of
    :class:`hardware_models.switch.SwitchParams`), until ``p = p_eff(N)``; above
    :func:`max_calibrated_probability` it would need a switch with gain (a negative loss).

    Raises
    ------
    ValueError
        Naming ``<prefix>p0`` (and ``<prefix>beta``), the value and the allowed range.
    """
    p_max = max_calibrated_probability()
    n_min, n_max = min(n_qpus), max(n_qpus)
    p = model.p_eff(n_min)
    if p > p_max:
        bound = p_max * (1.0 + model.beta * math.log2(n_min))
        raise ValueError(
            f"{prefix}p0 = {model.p0!r} with {prefix}beta = {model.beta!r} gives p_eff({n_min}) = "
            f"{p:.4g}, above {p_max:g}, the per-attempt success of a lossless double-click link "
            f"(Barrett & Kok 2005) the hub is calibrated with; allowed: {prefix}p0 <= {bound:.6g} "
            f"for N >= {n_min}"
        )
    p_min = _min_calibrated_probability(model, n_max)
    if model.p_eff(n_max) < p_min:
        raise ValueError(
            f"{prefix}p0 = {model.p0!r} with {prefix}beta = {model.beta!r} gives p_eff({n_max}) = "
            f"{model.p_eff(n_max):.4g}, below {p_min:.4g}, the success at the switch's largest loss "
            f"({_MAX_STAGE_LOSS_DB:g} dB per stage); allowed: p_eff(N) >= {p_min:.4g}"
        )


#: largest loss per switch stage the calibration may use, dB (SwitchParams' upper bound)
_MAX_STAGE_LOSS_DB = 30.0


def _calibration_base(
    model: AggregateModel, n: int, *, visibility: float, memory: MemoryParams | None = None
) -> tuple[list[QpuSpec], HubSpec]:
    k = model.k_parallel(n)
    qpu = QpuSpec(
        memory=memory if memory is not None else MemoryParams(),
        qpu=QpuParams(n_comm_qubits=n + k + 2, n_data_qubits=2),
    )
    hub = HubSpec(
        switch=SwitchParams(architecture="multistage"),
        bsm=replace_params(_IDEAL_BSM, visibility=visibility),
        bsm_stations=k + 1,
        sources=k + 1,
        memory_slots=0,
        max_circuits=2 * (k + 1),
    )
    return [qpu] * n, hub


def _with_stage_loss(hub: HubSpec, loss_db: float) -> HubSpec:
    return replace_params(hub, switch=SwitchParams(architecture="multistage", loss_per_stage_db=loss_db))


def _p_at_loss(qpu: QpuSpec, hub: HubSpec, n: int, loss_db: float) -> float:
    return pair_budget(qpu, qpu, _with_stage_loss(hub, loss_db), n).p_success


def calibrated_hardware(
    model: AggregateModel,
    n: int,
    *,
    visibility: float = 1.0,
    memory: MemoryParams | None = None,
) -> tuple[list[QpuSpec], HubSpec]:
    """Ideal QPUs and a hub whose switch loss makes the per-attempt success ``p_eff(N)``.

    The hub: double-click BSM stations with ideal detectors (HOM ``visibility``), ``K + 1``
    stations and sources, a multistage switch (``ceil(log2 ports)`` stages,
    :func:`hardware_models.switch.switch_stages`) whose loss per stage is solved (Brent's
    method, to 1e-13 dB) so that the closed-form budget of the very devices the network is
    built from (:func:`~modenhub_net.studies.preset_path.pair_budget`) equals
    ``p_eff(N) = p0 / (1 + beta log2 N)``. QPUs: 0 km ideal fibre, ``memory`` (default
    ideal) as communication and data memory, ideal gates, ``N + K + 2`` communication qubits
    (never a cap).

    Parameters
    ----------
    model : AggregateModel
        The paper's model (p0, beta, K(N)).
    n : int
        N (>= 2).
    visibility : float, optional
        HOM visibility of the BSM stations in [0, 1] (default 1; the heralded fidelity is
        ``(1 + V) / 2``, independent of the loss).
    memory : MemoryParams, optional
        The QPUs' memory (default ideal).

    Raises
    ------
    UserInputError
        If ``p_eff(N)`` is outside what the switch loss can reach (see
        :func:`check_calibration_reachable`).
    """
    qpus, hub = _calibration_base(model, n, visibility=visibility, memory=memory)
    target = float(model.p_eff(n))
    p_lossless = _p_at_loss(qpus[0], hub, n, 0.0)
    if target > p_lossless or target < _p_at_loss(qpus[0], hub, n, _MAX_STAGE_LOSS_DB):
        try:
            check_calibration_reachable(model, (n,), prefix="model.")
        except ValueError as exc:
            raise UserInputError(str(exc)) from None
    if target == p_lossless:
        return qpus, hub
    loss = optimize.brentq(
        lambda db: math.log(_p_at_loss(qpus[0], hub, n, db)) - math.log(target),
        0.0,
        _MAX_STAGE_LOSS_DB,
        xtol=1e-13,
    )
    return qpus, _with_stage_loss(hub, loss)


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


def calibration_table(scenario: CalibratedScenario) -> pd.DataFrame:
    """Per N: the solved switch loss per stage, the stages and the budget it gives."""
    rows = []
    for n in scenario.n_qpus:
        qpus, hub = calibrated_hardware(scenario.model, n)
        ports = hub.n_switch_ports(n)
        budget = pair_budget(qpus[0], qpus[1], hub, n)
        rows.append(dict(
            n_qpus=n, p_eff=scenario.model.p_eff(n), switch_ports=ports,
            switch_stages=switch_stages(hub.switch_params(), ports),
            switch_loss_db_per_stage=hub.switch.loss_per_stage_db,
            p_budget=budget.p_success, heralded_fidelity=budget.fidelity,
            attempt_period_ns=budget.attempt_period_ns,
        ))
    return pd.DataFrame(rows)


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


def load_scenario(document: Mapping[str, Any], *, source: str, seed: int | None = None,
                  trials: int | None = None) -> CalibratedScenario:
    """Apply the CLI overrides (``seed``, ``trials``) and validate (``UserInputError``)."""
    doc = with_overrides(document, seed=seed, trials=trials, trials_at=("trials",))
    return validate_document(CalibratedScenario, doc, source=source)


def _point_job(item: tuple[CalibratedScenario, int, str]) -> pd.DataFrame:
    scenario, n, policy = item
    return simulate_point(scenario, n, policy)


def simulate(scenario: CalibratedScenario, progress: Progress | None = None) -> pd.DataFrame:
    """Physical records of every (N, policy) point (one task each)."""
    items = [(scenario, n, p) for n in scenario.n_qpus for p in scenario.policies]
    frames = (progress or Progress(quiet=True)).map(_point_job, items, label="points")
    return pd.concat(frames, ignore_index=True)


def evaluate_point(document: Mapping[str, Any], *, seed: int, source: str = "<sweep point>") -> pd.DataFrame:
    """Agreement rows of one calibrated scenario at one seed (pure)."""
    scenario = load_scenario(document, source=source, seed=seed)
    return agreement(scenario, simulate(scenario))


def compute(scenario: CalibratedScenario, progress: Progress) -> StudyOutput:
    """Physical summary, agreement with the aggregate model and the calibration table."""
    with progress.stage("physical"):
        physical = simulate(scenario, progress)
    table = agreement(scenario, physical)
    tables = {"summary": summarise_records(physical), "agreement": table,
              "calibration": calibration_table(scenario)}
    context = dict(max_z_success=float(table["z_success"].abs().max()),
                   max_z_attempts=float(table["z_attempts"].abs().max()))
    return StudyOutput(tables=tables, context=context, summary=table)


def _draw(scenario: CalibratedScenario, output: StudyOutput, folder: Path) -> list[Path]:
    from modenhub_net.studies import calibrated_hub_plots as plots

    return plots.draw(output.tables["agreement"], output.tables["summary"], folder)


STUDY = Study(kind="calibrated_hub", load=load_scenario, compute=compute, plot=_draw,
              template="calibrated_hub")
#: the runner the CLI calls (:meth:`modenhub_net.studies.skeleton.Study.run_scenario`)
run_scenario = STUDY.run_scenario
#: former private name of :func:`load_scenario`
_load = load_scenario
