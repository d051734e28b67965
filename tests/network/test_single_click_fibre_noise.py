"""Single-click heralding through fibres with polarisation noise (``depolar_rate_per_km``).

The fibre's depolarisation models drift of a photon's polarisation (time-bin) qubit. A
single-click photon carries its information in photon number (Cabrillo et al., PRA 59, 1025
(1999)), which polarisation noise cannot change: the photon-number qubit is only amplitude
damped by the loss (Nielsen & Chuang §8.3.5). Depolarising the ``{|0>, |1>}`` qubit would
create a photon from the vacuum with probability ``p/2`` (the bug this file guards against:
it raised the detailed hub's herald rate from 0.17 to 0.41 per attempt and dropped its
fidelity from 0.745 to 0.28 at p = 0.33, while the link budget ignored the noise).

Checks: one presence-encoded vacuum/photon through a depolarising fibre is exactly the
amplitude-damped state; the detailed and sampled hubs agree with the link budget (herald
probability, binomial SE; heralded fidelity), and the budget equals that of noise-free fibres.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardware_models import (
    BsmParams,
    DetectorParams,
    Fibre,
    FibreParams,
    MemoryParams,
    QpuParams,
    fibre_depolar_probability,
    fibre_transmission,
)
from modenhub_net.components import Component, Message
from modenhub_net.network.builder import build_hub_network
from modenhub_net.network.spec import HubSpec, QpuSpec
from modenhub_net.qubits import X, create_qubits, operate, reduced_dm
from modenhub_net.simulation import Simulation
from protocols import qops

Z_MAX = 4.5
DEPOLAR_RATE_PER_KM = 0.2  # p = 1 - exp(-0.4) = 0.33 at 2 km, 0.45 at 3 km


class _Sink(Component):
    def __init__(self, name: str, *, sim: Simulation) -> None:
        super().__init__(name, sim=sim, port_names=("in",))
        self.received: list[Message] = []
        self.ports["in"].bind_input_handler(self.received.append)


@pytest.mark.parametrize("photons", [0, 1])
def test_presence_qubit_through_depolarising_fibre_is_only_damped(photons: int) -> None:
    sim = Simulation(seed=3)
    params = FibreParams(length_km=2.0, depolar_rate_per_km=DEPOLAR_RATE_PER_KM)
    assert fibre_depolar_probability(params) > 0.3
    fibre = Fibre("fibre", sim=sim, params=params)
    sink = _Sink("sink", sim=sim)
    fibre.ports["recv"].connect(sink.ports["in"])
    (photon,) = create_qubits(1)
    if photons:
        operate([photon], X)
    fibre.ports["send"].tx_input(Message((photon,), {"encoding": "presence"}))
    sim.run()
    rho = reduced_dm([sink.received[0].items[0]])
    eta = fibre_transmission(params)
    expected = np.diag([1.0 - eta * photons, eta * photons])  # amplitude damping, gamma = 1 - eta
    assert np.allclose(rho, expected, atol=1e-12)
    # the same through damp_presence (the batched single-click round)
    (other,) = create_qubits(1)
    if photons:
        operate([other], X)
    fibre.damp_presence(other)
    assert np.allclose(reduced_dm([other]), expected, atol=1e-12)


def _specs(depolar_rate_per_km: float, dark: bool):
    # 5e5 dark counts/s in a 100 ns window: 0.05 dark counts per window
    det = DetectorParams(efficiency=0.85, dark_count_rate_hz=5e5 if dark else 0.0, window_ns=100.0,
                         dead_time_ns=0.0)
    node = QpuSpec(
        fibre=FibreParams(length_km=2.0, depolar_rate_per_km=depolar_rate_per_km),
        memory=MemoryParams(emission_efficiency=0.6, emission_fidelity=0.95,
                            emitter_initialisation_ns=200.0, emitter_emission_ns=50.0),
        qpu=QpuParams(n_comm_qubits=16, n_data_qubits=1),
        detector=det,
    )
    hub = HubSpec(bsm=BsmParams(scheme="single_click", visibility=0.9, bright_state_alpha=0.2,
                                detector=det, coincidence_window_ns=100.0), bsm_stations=8)
    return [node, node.with_fibre_length(3.0)], hub


def _run(mode: str, nodes, hub, *, rounds: int, k: int = 8, seed: int = 11):
    sim = Simulation(seed=seed)
    net = build_hub_network(sim, nodes=nodes, hub=hub, scheme="detection_in_hub", link_mode=mode)
    fidelities: list[float] = []

    def loop():
        for _ in range(rounds):
            outcome = yield from net.link_round(0, 1, min(k, net.attempt_cap(0, 1)[0]))
            for pair in outcome.pairs:
                yield net.corrections.wait_ready(pair)
                fidelities.append(qops.pair_fidelity(net.access(pair.node_a, pair.slot_a),
                                                     net.access(pair.node_b, pair.slot_b)))
                pair.mark("served")
                net.free(pair.node_a, pair.slot_a)
                net.free(pair.node_b, pair.slot_b)

    sim.process(loop())
    sim.run()
    return net, np.asarray(fidelities)


@pytest.mark.validation
@pytest.mark.parametrize("dark", [False, True], ids=["nodark", "dark"])
def test_single_click_with_fibre_depolarisation_matches_the_budget(dark: bool, validation_scale) -> None:
    nodes, hub = _specs(DEPOLAR_RATE_PER_KM, dark)
    clean_nodes, _ = _specs(0.0, dark)
    rounds = max(100, int(600 * validation_scale))
    for mode in ("detailed", "sampled"):
        net, fids = _run(mode, nodes, hub, rounds=rounds)
        budget = net.budget(0, 1)
        clean = build_hub_network(Simulation(seed=0), nodes=clean_nodes, hub=hub,
                                  scheme="detection_in_hub", link_mode=mode).budget(0, 1)
        # polarisation noise leaves the single-click closed form unchanged
        assert budget.p_success == pytest.approx(clean.p_success, rel=1e-12)
        assert budget.fidelity == pytest.approx(clean.fidelity, rel=1e-12)
        n = net.generation.attempts_total
        p = budget.p_success
        z = (net.generation.heralds_total / n - p) / math.sqrt(p * (1 - p) / n)
        assert abs(z) < Z_MAX, (mode, z)
        assert len(fids) > 50
        se = fids.std(ddof=1) / math.sqrt(len(fids))
        assert abs(fids.mean() - budget.fidelity) < max(Z_MAX * se, 1e-9), (
            mode, fids.mean(), budget.fidelity, se)
