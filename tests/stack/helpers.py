"""Small hub configurations for the protocol-stack tests."""

from __future__ import annotations

from hardware_models import BsmParams, DetectorParams, FibreParams, MemoryParams, SpdcParams
from hardware_models.switch import SwitchParams
from modenhub_net.network.spec import HubSpec, QpuSpec

DETECTOR = DetectorParams(efficiency=0.8, dark_count_rate_hz=0.0, window_ns=10.0, dead_time_ns=0.0)


def node(length_km: float = 2.0, *, emission: float = 0.7, comm_qubits: int | None = None) -> QpuSpec:
    kwargs = {}
    if comm_qubits is not None:
        from hardware_models import QpuParams

        kwargs["qpu"] = QpuParams(n_comm_qubits=comm_qubits, n_data_qubits=2)
    return QpuSpec(fibre=FibreParams(length_km=length_km),
                   memory=MemoryParams(emission_efficiency=emission, write_efficiency=0.9, t2_ns=1e8),
                   detector=DETECTOR, **kwargs)


def hub(*, stations: int = 8, max_circuits: int = 64, reconfiguration_ns: float = 0.0,
        memory_slots: int = 16) -> HubSpec:
    return HubSpec(
        bsm=BsmParams(scheme="double_click", visibility=0.95, detector=DETECTOR),
        source=SpdcParams(mu=0.2), memory=MemoryParams(emission_efficiency=0.8),
        bsm_stations=stations, sources=stations, memory_slots=memory_slots,
        max_circuits=max_circuits, switch=SwitchParams(reconfiguration_time_ns=reconfiguration_ns),
    )
