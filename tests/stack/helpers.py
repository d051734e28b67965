"""Small hub configurations for the protocol-stack tests."""

from __future__ import annotations

from hardware_models import BsmParams, DetectorParams, FibreParams, MemoryParams, SpdcParams
from hardware_models.switch import SwitchParams
from modenhub_net.network.spec import HubSpec, QpuSpec
from modenhub_net.network.stack_run import run_stack
from protocols.workload import list_requests

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


def first_failed_teleport(nodes: list[QpuSpec], *, deadline_ns: float, tries: int = 5):
    """The record of a teleportation 0 -> 1 at t = 0 with ``deadline_ns`` that did not succeed,
    from the first of ``tries`` seeds (sampled detection-in-hub link, no cache); an
    AssertionError if the link heralded in every try."""
    for seed in range(tries):
        requests = list_requests([(0, 1, "teleport", 0.0, deadline_ns)], n_qpus=len(nodes))
        record = run_stack(nodes=nodes, hub=hub(), scheme="detection_in_hub", link_mode="sampled",
                           requests=requests, seed=seed, cache=False).records[0]
        if not record.success:
            return record
    raise AssertionError(f"the weak link heralded in every one of {tries} tries")
