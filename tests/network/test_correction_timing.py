"""A pair is ready only when its Pauli correction's gates are done (not when the message lands)."""

from __future__ import annotations

import pytest

from hardware_models import BsmParams, DetectorParams, FibreParams, MemoryParams, QpuParams
from modenhub_net.network.builder import build_hub_network
from modenhub_net.network.spec import HubSpec, QpuSpec
from modenhub_net.simulation import Simulation

GATE_NS = 700.0


@pytest.mark.parametrize("mode", ["sampled", "detailed"])
def test_waiting_for_a_pair_during_its_correction_gate_waits_for_the_gate(mode: str) -> None:
    """Resets are 0, so a round hands its pairs over when the correction message reaches QPU b;
    the correction gate then takes ``GATE_NS``: ``wait_ready`` must fire at arrival + gate,
    and the pair is ``ready`` at that time (the bug: an already-fired event during the gate)."""
    node = QpuSpec(fibre=FibreParams(length_km=1.0), memory=MemoryParams(t2_ns=1e6),
                   qpu=QpuParams(n_comm_qubits=4, single_qubit_gate_ns=GATE_NS))
    detector = DetectorParams(efficiency=1.0, dark_count_rate_hz=0.0, window_ns=10.0, dead_time_ns=0.0)
    hub = HubSpec(bsm=BsmParams(scheme="double_click", detector=detector, coincidence_window_ns=10.0),
                  bsm_stations=4)
    sim = Simulation(seed=1)
    net = build_hub_network(sim, nodes=[node, node], hub=hub, link_mode=mode)
    seen = []

    def consumer():
        while not seen:
            outcome = yield from net.link_round(0, 1, 4)
            for pair in outcome.pairs:
                arrival = pair.heralded_ns + net.herald_ns(pair.node_b)
                handed_over = sim.now_ns
                if pair.bell_index in (2, 3):  # one Pauli gate (X or Y) to apply
                    yield net.corrections.wait_ready(pair)
                    seen.append((arrival, handed_over, sim.now_ns, pair.ready_ns, pair.status))
                net.free(pair.node_a, pair.slot_a)
                net.free(pair.node_b, pair.slot_b)

    sim.process(consumer())
    sim.run()
    arrival, handed_over, used, ready, status = seen[0]
    assert handed_over <= arrival + GATE_NS / 2  # the consumer asks while the gate runs
    assert used == pytest.approx(arrival + GATE_NS)
    assert ready == pytest.approx(arrival + GATE_NS) and status == "ready"
