"""Transitional flat parameter tables of the README's physical-hub example (no physics).

:class:`NodeHardware` / :class:`HubHardware` are converted by :func:`to_specs` into the
:mod:`modenhub_net.network.spec` containers of ``hardware_models`` parameters; every transmission,
herald probability and heralded state is then computed by ``hardware_models``. This module goes
when the README example is ported to ``QpuSpec`` / ``HubSpec``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from modenhub_net.errors import UserInputError

__all__ = [
    "FIBRE_NS_PER_KM",
    "NodeHardware",
    "HubHardware",
    "switch_stages",
    "to_specs",
    "SCHEMES",
]

#: light in silica fibre: 200,000 km/s = 5,000 ns per km (group index ~1.47)
FIBRE_NS_PER_KM = 5_000.0

SCHEMES: tuple[str, ...] = ("source_in_hub", "detection_in_hub", "hub_memory_swap")


@dataclass(frozen=True)
class NodeHardware:
    """Physical parameters of one QPU and its photonic link.

    Attributes
    ----------
    fibre_length_km : float
        Fibre from the QPU to its switch port, km (>= 0).
    attenuation_db_per_km : float
        Fibre loss, dB/km (>= 0); 0.2 at 1550 nm.
    coupling_loss_db : float
        Fixed extra loss of the path (connectors, conversion), dB (>= 0).
    emission_efficiency : float
        Probability that an emitted photon (detection in the hub) is coupled into the fibre,
        or that an arriving photon is stored (source in the hub / hub memory), in (0, 1].
    comm_qubits : int
        Communication-memory slots of the QPU (>= 1): at most this many pairs held at once.
    memory_t1_ns, memory_t2_ns : float
        Relaxation and coherence times of the communication memory, ns (``inf`` for none;
        ``T2 <= 2 T1``).
    gate_error_2q : float
        Depolarising probability applied to each qubit of a two-qubit gate (local Bell
        measurement, CNOT), in [0, 1].
    gate_error_1q : float
        Depolarising probability of a single-qubit gate (Pauli corrections), in [0, 1].
    measurement_error : float
        Probability that a measurement outcome is flipped, in [0, 0.5].
    preset : str
        Name of the preset this came from ("" if given explicitly).
    """

    fibre_length_km: float = 0.0
    attenuation_db_per_km: float = 0.2
    coupling_loss_db: float = 0.0
    emission_efficiency: float = 1.0
    comm_qubits: int = 8
    memory_t1_ns: float = math.inf
    memory_t2_ns: float = math.inf
    gate_error_2q: float = 0.0
    gate_error_1q: float = 0.0
    measurement_error: float = 0.0
    preset: str = ""

    def __post_init__(self) -> None:
        _check("fibre_length_km", self.fibre_length_km, 0.0, math.inf)
        _check("attenuation_db_per_km", self.attenuation_db_per_km, 0.0, math.inf)
        _check("coupling_loss_db", self.coupling_loss_db, 0.0, math.inf)
        _check("emission_efficiency", self.emission_efficiency, 0.0, 1.0, low_open=True)
        _check("gate_error_2q", self.gate_error_2q, 0.0, 1.0)
        _check("gate_error_1q", self.gate_error_1q, 0.0, 1.0)
        _check("measurement_error", self.measurement_error, 0.0, 0.5)
        if int(self.comm_qubits) != self.comm_qubits or self.comm_qubits < 1:
            raise UserInputError(f"comm_qubits = {self.comm_qubits!r} must be an integer >= 1")
        _check_t1t2("memory", self.memory_t1_ns, self.memory_t2_ns)

    @property
    def fibre_delay_ns(self) -> float:
        """One-way propagation delay of the fibre, ns."""
        return self.fibre_length_km * FIBRE_NS_PER_KM


@dataclass(frozen=True)
class HubHardware:
    """Physical parameters of the hub.

    Attributes
    ----------
    sources : int
        SPDC sources (source in the hub) / memory emitters (hub memory), >= 1.
    bsm_stations : int
        Linear-optics BSM stations (detection in the hub), >= 1.
    memory_slots : int
        Shared hub memory slots (used by ``hub_memory_swap``), >= 0.
    memory_t1_ns, memory_t2_ns : float
        Hub memory relaxation / coherence times, ns.
    memory_efficiency : float
        Hub memory emission efficiency (photon emitted into the fibre), in (0, 1].
    swap_gate_error : float
        Depolarising probability per qubit of the hub's local Bell measurement, in [0, 1].
    switch_ports : int or None
        Switch ports (default: one per QPU plus one per source/BSM station).
    switch_max_circuits : int
        Simultaneous circuits the switch can hold (>= 1); each attempt uses two (one per QPU).
    switch_reconfiguration_ns : float
        Time to set up new circuits, ns (>= 0); paid when a round needs a different pair.
    switch_loss_db_per_stage : float
        Insertion loss of one switching stage, dB (>= 0).
    switch_stages : int or None
        Stages a photon crosses (default ``ceil(log2 ports)``).
    detector_efficiency : float
        Detection efficiency of the BSM and heralding detectors, in (0, 1].
    dark_count_probability : float
        Dark-count probability per window (must be 0 in this version, see module notes).
    detection_window_ns : float
        Coincidence / detection window, ns (> 0).
    hom_visibility : float
        Hong-Ou-Mandel visibility V of the BSM, in [0, 1].
    spdc_mean_pairs : float
        Mean pair number mu of an SPDC pulse (source in the hub), > 0.
    """

    sources: int = 8
    bsm_stations: int = 8
    memory_slots: int = 16
    memory_t1_ns: float = math.inf
    memory_t2_ns: float = math.inf
    memory_efficiency: float = 1.0
    swap_gate_error: float = 0.0
    switch_ports: int | None = None
    switch_max_circuits: int = 64
    switch_reconfiguration_ns: float = 0.0
    switch_loss_db_per_stage: float = 0.0
    switch_stages: int | None = None
    detector_efficiency: float = 1.0
    dark_count_probability: float = 0.0
    detection_window_ns: float = 10.0
    hom_visibility: float = 1.0
    spdc_mean_pairs: float = 0.1

    def __post_init__(self) -> None:
        for name in ("sources", "bsm_stations", "switch_max_circuits"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise UserInputError(f"hub.{name} = {value!r} must be an integer >= 1")
        if int(self.memory_slots) != self.memory_slots or self.memory_slots < 0:
            raise UserInputError(f"hub.memory_slots = {self.memory_slots!r} must be an integer >= 0")
        _check("hub.memory_efficiency", self.memory_efficiency, 0.0, 1.0, low_open=True)
        _check("hub.swap_gate_error", self.swap_gate_error, 0.0, 1.0)
        _check("hub.switch_reconfiguration_ns", self.switch_reconfiguration_ns, 0.0, math.inf)
        _check("hub.switch_loss_db_per_stage", self.switch_loss_db_per_stage, 0.0, math.inf)
        _check("hub.detector_efficiency", self.detector_efficiency, 0.0, 1.0, low_open=True)
        _check("hub.detection_window_ns", self.detection_window_ns, 0.0, math.inf, low_open=True)
        _check("hub.hom_visibility", self.hom_visibility, 0.0, 1.0)
        _check("hub.spdc_mean_pairs", self.spdc_mean_pairs, 0.0, math.inf, low_open=True)
        if self.dark_count_probability != 0.0:
            raise UserInputError(
                f"hub.dark_count_probability = {self.dark_count_probability!r}: dark counts are "
                "not modelled by the hub simulation in this version (allowed: 0)"
            )
        _check_t1t2("hub.memory", self.memory_t1_ns, self.memory_t2_ns)


def _check(name: str, value: float, low: float, high: float, *, low_open: bool = False) -> None:
    ok = (value > low if low_open else value >= low) and value <= high
    if not ok or value != value:
        left = "(" if low_open else "["
        raise UserInputError(f"{name} = {value!r} is outside the allowed range {left}{low}, {high}]")


def _check_t1t2(prefix: str, t1: float, t2: float) -> None:
    if not t1 > 0 or not t2 > 0:
        raise UserInputError(f"{prefix}_t1_ns = {t1!r}, {prefix}_t2_ns = {t2!r} must be > 0")
    if t2 > 2 * t1:
        raise UserInputError(
            f"{prefix}_t2_ns = {t2!r} exceeds 2 * {prefix}_t1_ns = {2 * t1!r} (T2 <= 2 T1)"
        )


# -- closed forms --------------------------------------------------------------------------
def switch_stages(hub: HubHardware, n_qpus: int) -> int:
    """Stages a photon crosses: ``hub.switch_stages`` or ``ceil(log2 ports)``."""
    if hub.switch_stages is not None:
        return int(hub.switch_stages)
    ports = hub.switch_ports or (n_qpus + max(hub.sources, hub.bsm_stations))
    return max(1, math.ceil(math.log2(ports)))


def to_specs(nodes: list[NodeHardware], hub: HubHardware) -> tuple[list, object]:
    """Transitional adapter: the :mod:`modenhub_net.network.spec` containers of these tables.

    Lets callers that still build :class:`NodeHardware` / :class:`HubHardware` run on the
    component-built network until they are ported (then this module is deleted). Mapping:
    fibre length/attenuation/coupling -> ``FibreParams``; emission efficiency -> the memory's
    emission and write efficiency; T1/T2 -> ``MemoryParams``; gate errors -> ``QpuParams``
    depolarising probabilities; the switch's total loss ``stages x loss_per_stage`` -> a
    fixed switch loss (same transmission as these tables); detector efficiency and window,
    HOM visibility, SPDC mean pair number (one thermal mode) -> the hub's device params.
    """
    from hardware_models import (
        BsmParams,
        DetectorParams,
        FibreParams,
        MemoryParams,
        QpuParams,
        SpdcParams,
        SwitchParams,
    )
    from modenhub_net.network.spec import HubSpec, QpuSpec

    n = len(nodes)
    specs = [
        QpuSpec(
            fibre=FibreParams(length_km=h.fibre_length_km, attenuation_db_per_km=h.attenuation_db_per_km,
                              loss_db=h.coupling_loss_db),
            memory=MemoryParams(t1_ns=h.memory_t1_ns, t2_ns=h.memory_t2_ns,
                                emission_efficiency=h.emission_efficiency,
                                write_efficiency=h.emission_efficiency),
            qpu=QpuParams(n_comm_qubits=int(h.comm_qubits), n_data_qubits=2,
                          single_qubit_gate_depolar_prob=h.gate_error_1q,
                          two_qubit_gate_depolar_prob=h.gate_error_2q,
                          measure_error_prob=h.measurement_error),
            label=h.preset,
        )
        for h in nodes
    ]
    detector = DetectorParams(efficiency=hub.detector_efficiency, dark_count_rate_hz=0.0,
                              window_ns=hub.detection_window_ns, dead_time_ns=0.0)
    spec = HubSpec(
        switch=SwitchParams(fixed_loss_db=switch_stages(hub, n) * hub.switch_loss_db_per_stage,
                            reconfiguration_time_ns=hub.switch_reconfiguration_ns),
        bsm=BsmParams(visibility=hub.hom_visibility, detector=detector,
                      coincidence_window_ns=hub.detection_window_ns),
        source=SpdcParams(mu=hub.spdc_mean_pairs, pair_statistics="thermal"),
        memory=MemoryParams(t1_ns=hub.memory_t1_ns, t2_ns=hub.memory_t2_ns,
                            emission_efficiency=hub.memory_efficiency),
        qpu=QpuParams(n_comm_qubits=1, n_data_qubits=0,
                      two_qubit_gate_depolar_prob=hub.swap_gate_error),
        bsm_stations=hub.bsm_stations, sources=hub.sources, memory_slots=hub.memory_slots,
        max_circuits=max(2, hub.switch_max_circuits),
    )
    return specs, spec
