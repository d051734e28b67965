"""Validated scenario configuration of the hub simulation (``kind = "hub"``).

A scenario (see ``scenarios/hub4_case_study.toml``) has the sections ``[network]`` (QPUs,
fibres, hardware presets, link scheme and mode), ``[hub]`` (sources, BSM stations, heralding,
detectors, memory, switch), ``[orchestrator]`` (policies, round budget, K(N)), ``[cache]`` and
``[workload]``. Unknown keys are rejected; every bad value raises
:class:`~modenhub_net.errors.UserInputError` naming the field and value, before anything runs.

Hardware comes from presets (:func:`hardware_models.load_preset`: a shipped name or a TOML
path): ``network.preset`` (per QPU ``qpus[i].preset``) gives each QPU its fibre type,
memories, gates and herald detector (:meth:`~modenhub_net.network.spec.QpuSpec.from_preset`),
``hub.preset`` (default: the network's preset) the hub's switch, BSM stations, SPDC source
and memory (:meth:`~modenhub_net.network.spec.HubSpec.from_preset`). Every other key of
``[network]`` / ``[hub]`` that is given overrides the preset's value (None = keep the
preset's); :meth:`HubScenario.specs` returns the resolved
:class:`~modenhub_net.network.spec.QpuSpec` list and :class:`~modenhub_net.network.spec.HubSpec`.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from modenhub_net.config import StrictModel
from modenhub_net.errors import UserInputError
from modenhub_net.network.spec import HubSpec, QpuSpec, _with

__all__ = [
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


class QpuConfig(StrictModel):
    """One QPU of a heterogeneous network (preset and counts default to ``[network]``'s)."""

    fibre_length_km: float = Field(ge=0.0, le=1e4, allow_inf_nan=False)
    preset: str | None = None
    comm_qubits: int | None = Field(None, ge=1, le=10_000, strict=True)


class NetworkConfig(StrictModel):
    """QPUs, fibres and the link scheme.

    Give either ``n_qpus`` (identical QPUs with ``fibre_length_km`` and ``preset``) or a
    ``qpus`` list (per-QPU fibre length and optional preset / comm_qubits).

    Parameters
    ----------
    preset : str
        Hardware preset of the QPUs (name or TOML path), default "ideal".
    comm_qubits, data_qubits : int or None
        Communication / data qubits per QPU (None: the preset's ``qpu.n_comm_qubits`` /
        ``n_data_qubits``).
    attenuation_db_per_km, coupling_loss_db : float or None
        Override the preset fibre's attenuation (dB/km, [0, 10]) and insertion loss (dB,
        [0, 100]).
    scheme, link_mode : str
        Link scheme (ARCHITECTURE.md §4) and link mode (detailed / sampled).
    """

    n_qpus: int | None = Field(None, ge=2, le=4096, strict=True)
    fibre_length_km: float = Field(1.0, ge=0.0, le=1e4, allow_inf_nan=False)
    preset: str = "ideal"
    comm_qubits: int | None = Field(None, ge=1, le=10_000, strict=True)
    data_qubits: int | None = Field(None, ge=1, le=10_000, strict=True)
    qpus: tuple[QpuConfig, ...] | None = Field(None, min_length=2)
    attenuation_db_per_km: float | None = Field(None, ge=0.0, le=10.0, allow_inf_nan=False)
    coupling_loss_db: float | None = Field(None, ge=0.0, le=100.0, allow_inf_nan=False)
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
                _preset(name)
            except UserInputError as exc:
                where = "preset" if self.qpus is None or self.qpus[i].preset is None else f"qpus[{i}].preset"
                raise ValueError(f"{where} = {name!r}: {exc}") from None
        return self

    def _preset_names(self) -> list[str]:
        if self.qpus is None:
            return [self.preset]
        return [q.preset or self.preset for q in self.qpus]

    def qpu_specs(self) -> list[QpuSpec]:
        """Resolved per-QPU specs (preset + overrides)."""
        entries = self.qpus or tuple(
            QpuConfig(fibre_length_km=self.fibre_length_km) for _ in range(self.n_qpus or 0)
        )
        out = []
        for entry in entries:
            spec = QpuSpec.from_preset(
                _preset(entry.preset or self.preset), fibre_length_km=entry.fibre_length_km,
                comm_qubits=entry.comm_qubits or self.comm_qubits, data_qubits=self.data_qubits,
            )
            changes = {k: v for k, v in (("attenuation_db_per_km", self.attenuation_db_per_km),
                                         ("loss_db", self.coupling_loss_db)) if v is not None}
            if changes:
                spec = _with(spec, fibre=_with(spec.fibre, **changes))
            out.append(spec)
        return out

    @property
    def size(self) -> int:
        return len(self.qpus) if self.qpus is not None else int(self.n_qpus or 0)


class HubConfig(StrictModel):
    """Hub hardware: a preset (default: the network's) and overrides of its values.

    Every override defaults to None (keep the preset's value); ranges are those of the
    device parameter models of :mod:`hardware_models` (their docstrings give units,
    defaults and sources).

    Parameters
    ----------
    preset : str or None
        Hardware preset of the hub devices (switch, BSM stations, SPDC source, memory).
    sources, bsm_stations, memory_slots : int
        Bank sizes and hub memory slots (:class:`~modenhub_net.network.spec.HubSpec`).
    switch_max_circuits, switch_ports : int
        Simultaneous circuits (a QPU pair uses two) and ports of the switch.
    switch_architecture, switch_loss_db_per_stage, switch_fixed_loss_db, switch_reconfiguration_ns
        :class:`hardware_models.SwitchParams` ``architecture``, ``loss_per_stage_db``,
        ``fixed_loss_db``, ``reconfiguration_time_ns``.
    heralding, hom_visibility, bright_state_alpha, coincidence_window_ns
        :class:`hardware_models.BsmParams` ``scheme`` ("double_click" / "single_click"),
        ``visibility``, ``bright_state_alpha``, ``coincidence_window_ns``.
    detector_efficiency, dark_count_rate_hz, detection_window_ns, dead_time_ns, number_resolving
        :class:`hardware_models.DetectorParams` of the BSM stations' detectors *and* the
        QPUs' herald detectors.
    dark_count_statistics
        The same detectors' dark-count statistics, "poisson" or "at_most_one".
    phase_noise_std_rad
        :class:`hardware_models.BsmParams` ``phase_noise_std_rad`` (single click), where the
        device model has it.
    spdc_mean_pairs, spdc_repetition_rate_hz, spdc_pair_statistics
        :class:`hardware_models.SpdcParams` ``mu``, ``repetition_rate_hz``,
        ``pair_statistics``.
    memory_t1_ns, memory_t2_ns, memory_efficiency
        Hub memory :class:`hardware_models.MemoryParams` ``t1_ns``, ``t2_ns``,
        ``emission_efficiency`` (``T2 <= 2 T1``).
    swap_gate_error
        Hub memory two-qubit depolarising probability of the swap's Bell measurement.
    leg_cutoff_ns
        ``hub_memory_swap``: heralded legs older than this (ns, from emission) are freed.
    processing_ns
        Classical processing of each herald at the hub, ns.
    """

    preset: str | None = None
    sources: int = Field(8, ge=1, le=100_000, strict=True)
    bsm_stations: int = Field(8, ge=1, le=100_000, strict=True)
    memory_slots: int = Field(16, ge=0, le=100_000, strict=True)
    switch_max_circuits: int = Field(64, ge=2, le=1_000_000, strict=True)
    switch_ports: int | None = Field(None, ge=2, le=1_000_000, strict=True)
    switch_architecture: Literal["crossbar", "multistage"] | None = None
    switch_loss_db_per_stage: float | None = Field(None, ge=0.0, le=30.0, allow_inf_nan=False)
    switch_fixed_loss_db: float | None = Field(None, ge=0.0, le=30.0, allow_inf_nan=False)
    switch_reconfiguration_ns: float | None = Field(None, ge=0.0, le=1e12, allow_inf_nan=False)
    heralding: Literal["double_click", "single_click"] | None = None
    hom_visibility: float | None = Field(None, ge=0.0, le=1.0)
    bright_state_alpha: float | None = Field(None, gt=0.0, lt=1.0)
    coincidence_window_ns: float | None = Field(None, gt=0.0, le=1e9, allow_inf_nan=False)
    detector_efficiency: float | None = Field(None, ge=0.0, le=1.0)
    dark_count_rate_hz: float | None = Field(None, ge=0.0, le=1e9, allow_inf_nan=False)
    detection_window_ns: float | None = Field(None, gt=0.0, le=1e9, allow_inf_nan=False)
    dead_time_ns: float | None = Field(None, ge=0.0, le=1e9, allow_inf_nan=False)
    number_resolving: bool | None = None
    dark_count_statistics: Literal["poisson", "at_most_one"] | None = None
    phase_noise_std_rad: float | None = Field(None, ge=0.0, allow_inf_nan=False)
    spdc_mean_pairs: float | None = Field(None, ge=0.0, le=1.0)
    spdc_repetition_rate_hz: float | None = Field(None, gt=0.0, le=1e11, allow_inf_nan=False)
    spdc_pair_statistics: str | None = None
    memory_t1_ns: float | None = Field(None, gt=0.0)
    memory_t2_ns: float | None = Field(None, gt=0.0)
    memory_efficiency: float | None = Field(None, ge=0.0, le=1.0)
    swap_gate_error: float | None = Field(None, ge=0.0, le=1.0)
    leg_cutoff_ns: float = Field(_INF, gt=0.0)
    processing_ns: float = Field(0.0, ge=0.0, le=1e12, allow_inf_nan=False)

    @model_validator(mode="after")
    def _t1t2(self) -> HubConfig:
        t1 = self.memory_t1_ns if self.memory_t1_ns is not None else _INF
        if self.memory_t2_ns is not None and self.memory_t2_ns > 2 * t1:
            raise ValueError(f"memory_t2_ns = {self.memory_t2_ns} > 2 * memory_t1_ns (T2 <= 2 T1)")
        return self

    def hub_spec(self, default_preset: str) -> HubSpec:
        """The resolved :class:`HubSpec` (preset + overrides; device models validate)."""
        spec = HubSpec.from_preset(
            _preset(self.preset or default_preset), bsm_stations=self.bsm_stations,
            sources=self.sources, memory_slots=self.memory_slots,
            max_circuits=self.switch_max_circuits, switch_ports=self.switch_ports,
        )
        switch = _override(spec.switch, architecture=self.switch_architecture,
                           loss_per_stage_db=self.switch_loss_db_per_stage,
                           fixed_loss_db=self.switch_fixed_loss_db,
                           reconfiguration_time_ns=self.switch_reconfiguration_ns,
                           max_circuits=None)
        bsm = _override(spec.bsm, scheme=self.heralding, visibility=self.hom_visibility,
                        bright_state_alpha=self.bright_state_alpha,
                        coincidence_window_ns=self.coincidence_window_ns,
                        phase_noise_std_rad=self.phase_noise_std_rad,
                        detector=self.detector_overrides(spec.bsm.detector))
        source = _override(spec.source, mu=self.spdc_mean_pairs,
                           repetition_rate_hz=self.spdc_repetition_rate_hz,
                           pair_statistics=self.spdc_pair_statistics)
        memory = _override(spec.memory, t1_ns=self.memory_t1_ns, t2_ns=self.memory_t2_ns,
                           emission_efficiency=self.memory_efficiency)
        qpu = _override(spec.qpu, two_qubit_gate_depolar_prob=self.swap_gate_error)
        return _with(spec, switch=switch, bsm=bsm, source=source, memory=memory, qpu=qpu,
                     processing_ns=self.processing_ns)

    def detector_overrides(self, detector: Any) -> Any:
        """``detector`` with this section's detector overrides."""
        return _override(detector, efficiency=self.detector_efficiency,
                         dark_count_rate_hz=self.dark_count_rate_hz, window_ns=self.detection_window_ns,
                         dead_time_ns=self.dead_time_ns, number_resolving=self.number_resolving,
                         dark_count_statistics=self.dark_count_statistics)


def _override(model: Any, **changes: Any) -> Any:
    """``model`` with the non-None changes (``max_circuits=None`` is a real value to set)."""
    keep_none = {"max_circuits"}
    real = {k: v for k, v in changes.items() if v is not None or k in keep_none}
    if not real or all(getattr(model, k) == v for k, v in real.items()):
        return model
    return _with(model, **real)


def _preset(name: str) -> Any:
    from hardware_models import load_preset

    return load_preset(name)


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
        if self.network.scheme == "hub_memory_swap" and self.hub.memory_slots < 2:
            raise ValueError("hub.memory_slots must be >= 2 for scheme = 'hub_memory_swap'")
        if self.hub.preset is not None:
            try:
                _preset(self.hub.preset)
            except UserInputError as exc:
                raise ValueError(f"hub.preset = {self.hub.preset!r}: {exc}") from None
        try:
            nodes, hub = self.specs()
            hub.n_switch_ports(len(nodes))
        except UserInputError as exc:
            raise ValueError(f"hardware: {exc}") from None
        return self

    def specs(self) -> tuple[list[QpuSpec], HubSpec]:
        """The resolved QPU specs and hub spec (the QPUs' herald detectors take the
        ``[hub]`` detector overrides too)."""
        nodes = self.network.qpu_specs()
        nodes = [_override(n, detector=self.hub.detector_overrides(n.detector)) for n in nodes]
        return nodes, self.hub.hub_spec(self.network.preset)
