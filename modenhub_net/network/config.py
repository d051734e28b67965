"""Validated scenario configuration of the hub simulation (``kind = "hub"``).

A scenario (see ``scenarios/hub4_case_study.toml``) has the sections ``[network]`` (QPUs,
fibres, presets, link scheme and mode), ``[hub]`` (sources, BSM stations, memory, switch,
detectors), ``[orchestrator]`` (policies, round budget, K(N)), ``[cache]`` and
``[workload]``. Unknown keys are rejected; every bad value raises
:class:`~modenhub_net.errors.UserInputError` naming the field and value, before anything runs.

Presets name QPU hardware (:func:`node_preset`); a per-QPU table may override the preset
and the fibre length (heterogeneous networks).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from modenhub_net.config import StrictModel
from modenhub_net.network.hardware import HubHardware, NodeHardware

__all__ = [
    "NODE_PRESETS",
    "node_preset",
    "QpuConfig",
    "NetworkConfig",
    "HubConfig",
    "OrchestratorConfig",
    "CacheConfig",
    "WorkloadConfig",
    "StudyConfig",
    "HubScenario",
]

_INF = math.inf

#: QPU presets (node-side parameters). Values are order-of-magnitude figures of published
#: platforms, rounded: trapped ions (Krutyanskiy et al., PRL 130, 050803 (2023): photon
#: collection + conversion ~0.1-0.5, memory T2 ~ 0.1-1 s with decoupling, two-qubit gate errors
#: ~1e-3 - 1e-2), NV centres (Hermans et al., Nature 605, 663 (2022): ZPL emission and collection
#: ~few %, T2 ~ 10 ms - 1 s for 13C memories), transduced superconducting qubits (emission ~1%
#: with transduction, T2 ~ 100 us). ``ideal``: lossless emission, no noise.
NODE_PRESETS: dict[str, dict[str, float]] = {
    "ideal": dict(emission_efficiency=1.0, memory_t1_ns=_INF, memory_t2_ns=_INF,
                  gate_error_2q=0.0, gate_error_1q=0.0, measurement_error=0.0),
    "near_term_trapped_ion": dict(emission_efficiency=0.5, memory_t1_ns=1e10, memory_t2_ns=5e8,
                                  gate_error_2q=5e-3, gate_error_1q=1e-3, measurement_error=2e-3),
    "near_term_nv": dict(emission_efficiency=0.1, memory_t1_ns=3.6e12, memory_t2_ns=1e7,
                         gate_error_2q=1e-2, gate_error_1q=1e-3, measurement_error=1e-2),
    "superconducting_transduced": dict(emission_efficiency=0.05, memory_t1_ns=2e5,
                                       memory_t2_ns=1e5, gate_error_2q=5e-3, gate_error_1q=5e-4,
                                       measurement_error=1e-2),
    "future": dict(emission_efficiency=0.9, memory_t1_ns=_INF, memory_t2_ns=1e10,
                   gate_error_2q=1e-4, gate_error_1q=1e-5, measurement_error=1e-4),
}


def node_preset(name: str) -> dict[str, float]:
    """Node parameters of a preset (``hardware_models.presets`` if present, else the table).

    Raises
    ------
    ValueError
        On an unknown preset name (turned into a ``UserInputError`` naming the field).
    """
    try:  # adapter: prefer the shared presets when they exist
        from hardware_models.presets import load_preset  # type: ignore[import-not-found]
    except ImportError:
        load_preset = None
    if load_preset is not None:
        try:
            preset = load_preset(name)
        except Exception as exc:  # noqa: BLE001 - any failure is a bad preset name/value
            raise ValueError(f"preset {name!r}: {exc}") from None
        mapped = _map_shared_preset(preset)
        if mapped is not None:
            return mapped
    if name not in NODE_PRESETS:
        raise ValueError(f"unknown preset {name!r} (allowed: {', '.join(NODE_PRESETS)})")
    return dict(NODE_PRESETS[name])


def _map_shared_preset(preset: Any) -> dict[str, float] | None:
    """Map a ``hardware_models.presets.HardwarePreset`` to node parameters (None if unknown shape)."""
    try:
        qpu = preset.qpu
        memory = qpu.comm_memory if hasattr(qpu, "comm_memory") else preset.memory
        return dict(
            emission_efficiency=float(memory.emission_efficiency),
            memory_t1_ns=float(memory.t1_ns),
            memory_t2_ns=float(memory.t2_ns),
            gate_error_2q=float(getattr(qpu, "two_qubit_gate_error", 0.0)),
            gate_error_1q=float(getattr(qpu, "single_qubit_gate_error", 0.0)),
            measurement_error=float(getattr(qpu, "measurement_error", 0.0)),
        )
    except AttributeError:
        return None


class QpuConfig(StrictModel):
    """One QPU of a heterogeneous network."""

    fibre_length_km: float = Field(ge=0.0, le=1e4, allow_inf_nan=False)
    preset: str | None = None
    comm_qubits: int | None = Field(None, ge=1, le=10_000, strict=True)


class NetworkConfig(StrictModel):
    """QPUs, fibres and the link scheme.

    Give either ``n_qpus`` (identical QPUs with ``fibre_length_km`` and ``preset``) or a
    ``qpus`` list (per-QPU fibre length and optional preset / comm_qubits).
    """

    n_qpus: int | None = Field(None, ge=2, le=4096, strict=True)
    fibre_length_km: float = Field(1.0, ge=0.0, le=1e4, allow_inf_nan=False)
    preset: str = "ideal"
    comm_qubits: int = Field(16, ge=1, le=10_000, strict=True)
    qpus: tuple[QpuConfig, ...] | None = Field(None, min_length=2)
    attenuation_db_per_km: float = Field(0.2, ge=0.0, allow_inf_nan=False)
    coupling_loss_db: float = Field(0.0, ge=0.0, allow_inf_nan=False)
    scheme: Literal["source_in_hub", "detection_in_hub", "hub_memory_swap"] = "detection_in_hub"
    link_mode: Literal["sampled", "detailed"] = "sampled"

    @model_validator(mode="after")
    def _shape(self) -> NetworkConfig:
        if self.qpus is None and self.n_qpus is None:
            raise ValueError("give n_qpus (>= 2) or a qpus list")
        if self.qpus is not None and self.n_qpus is not None and self.n_qpus != len(self.qpus):
            raise ValueError(f"n_qpus = {self.n_qpus} but {len(self.qpus)} qpus are listed")
        for i, name in enumerate(self._preset_names()):
            try:
                params = node_preset(name)
            except ValueError as exc:
                where = "preset" if self.qpus is None or self.qpus[i].preset is None else f"qpus[{i}].preset"
                raise ValueError(f"{where} = {name!r}: {exc}") from None
            if params["memory_t2_ns"] > 2 * params["memory_t1_ns"]:
                raise ValueError(
                    f"preset {name!r}: memory T2 = {params['memory_t2_ns']} ns > 2 T1 = "
                    f"{2 * params['memory_t1_ns']} ns (T2 <= 2 T1)"
                )
        return self

    def _preset_names(self) -> list[str]:
        if self.qpus is None:
            return [self.preset]
        return [q.preset or self.preset for q in self.qpus]

    def node_hardware(self) -> list[NodeHardware]:
        """Resolved per-QPU hardware."""
        specs = self.qpus or tuple(
            QpuConfig(fibre_length_km=self.fibre_length_km) for _ in range(self.n_qpus or 0)
        )
        out = []
        for spec in specs:
            name = spec.preset or self.preset
            out.append(NodeHardware(
                fibre_length_km=spec.fibre_length_km,
                attenuation_db_per_km=self.attenuation_db_per_km,
                coupling_loss_db=self.coupling_loss_db,
                comm_qubits=spec.comm_qubits or self.comm_qubits,
                preset=name,
                **node_preset(name),
            ))
        return out

    @property
    def size(self) -> int:
        return len(self.qpus) if self.qpus is not None else int(self.n_qpus or 0)


class HubConfig(StrictModel):
    """Hub hardware; see :class:`modenhub_net.network.hardware.HubHardware` for meanings."""

    sources: int = Field(8, ge=1, le=100_000, strict=True)
    bsm_stations: int = Field(8, ge=1, le=100_000, strict=True)
    memory_slots: int = Field(16, ge=0, le=100_000, strict=True)
    memory_t1_ns: float = Field(_INF, gt=0.0)
    memory_t2_ns: float = Field(_INF, gt=0.0)
    memory_efficiency: float = Field(1.0, gt=0.0, le=1.0)
    swap_gate_error: float = Field(0.0, ge=0.0, le=1.0)
    switch_ports: int | None = Field(None, ge=2, strict=True)
    switch_max_circuits: int = Field(64, ge=1, strict=True)
    switch_reconfiguration_ns: float = Field(0.0, ge=0.0, allow_inf_nan=False)
    switch_loss_db_per_stage: float = Field(0.0, ge=0.0, allow_inf_nan=False)
    switch_stages: int | None = Field(None, ge=0, strict=True)
    detector_efficiency: float = Field(1.0, gt=0.0, le=1.0)
    dark_count_probability: float = Field(0.0, ge=0.0, le=0.0)
    detection_window_ns: float = Field(10.0, gt=0.0, allow_inf_nan=False)
    hom_visibility: float = Field(1.0, ge=0.0, le=1.0)
    spdc_mean_pairs: float = Field(0.1, gt=0.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _t1t2(self) -> HubConfig:
        if self.memory_t2_ns > 2 * self.memory_t1_ns:
            raise ValueError(f"memory_t2_ns = {self.memory_t2_ns} > 2 * memory_t1_ns (T2 <= 2 T1)")
        return self

    def hardware(self) -> HubHardware:
        return HubHardware(**self.model_dump())


class OrchestratorConfig(StrictModel):
    """Policies and the round budget (paper: R = 3, kappa = 0.9, k_min = 2)."""

    policies: tuple[
        Literal["naive", "orchestrated", "orchestrated_nocache", "adaptive", "adaptive_online"], ...
    ] = Field(("naive", "orchestrated"), min_length=1)
    rounds: int = Field(3, ge=1, le=1000, strict=True)
    kappa: float = Field(0.9, gt=0.0, allow_inf_nan=False)
    k_min: int = Field(2, ge=1, le=10_000, strict=True)

    @field_validator("policies")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("policies must be distinct")
        return value


class CacheConfig(StrictModel):
    """Ebit cache (used by the orchestrated policy)."""

    capacity: int = Field(1, ge=1, le=1000, strict=True)
    cutoff_ns: float = Field(_INF, gt=0.0)
    eviction: Literal["oldest", "lowest_fidelity"] = "oldest"


class WorkloadConfig(StrictModel):
    """Request stream: ``uniform`` (paper), ``hotspot`` or ``list``."""

    kind: Literal["uniform", "hotspot", "list"] = "uniform"
    requests: int = Field(1000, ge=1, le=10_000_000, strict=True)
    cnot_fraction: float = Field(0.0, ge=0.0, le=1.0)
    mean_interarrival_ns: float = Field(0.0, ge=0.0, allow_inf_nan=False)
    hot_qpu: int = Field(0, ge=0, strict=True)
    hot_fraction: float = Field(0.5, ge=0.0, le=1.0)
    entries: tuple[tuple[Any, ...], ...] = ()


class StudyConfig(StrictModel):
    """Output options."""

    confidence: float = Field(0.95, gt=0.0, lt=1.0)
    write_records: bool = True


class HubScenario(StrictModel):
    """A whole ``kind = "hub"`` scenario."""

    kind: Literal["hub"]
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", min_length=1, max_length=100)
    description: str = ""
    seed: int = Field(ge=0, le=2**63 - 1, strict=True)
    network: NetworkConfig
    hub: HubConfig = Field(default_factory=HubConfig)
    orchestrator: OrchestratorConfig = Field(default_factory=OrchestratorConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    workload: WorkloadConfig = Field(default_factory=WorkloadConfig)
    study: StudyConfig = Field(default_factory=StudyConfig)

    @model_validator(mode="after")
    def _cross(self) -> HubScenario:
        if self.workload.kind == "hotspot" and self.workload.hot_qpu >= self.network.size:
            raise ValueError(f"workload.hot_qpu = {self.workload.hot_qpu} >= n_qpus = {self.network.size}")
        if self.network.scheme == "hub_memory_swap":
            if self.hub.memory_slots < 2:
                raise ValueError("hub.memory_slots must be >= 2 for scheme = 'hub_memory_swap'")
            if self.network.link_mode == "detailed":
                raise ValueError("network.link_mode = 'detailed' is not available for hub_memory_swap")
        return self
