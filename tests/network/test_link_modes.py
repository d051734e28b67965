"""The detailed link mode's array step against its message path, and rounds sharing the hub.

A ``detection_in_hub`` round of the detailed mode is one array step through the devices
(:meth:`protocols.generation.DetailedGeneration._detection`); with a noisy fibre it falls back to
every photon as a message (:meth:`~protocols.generation.DetailedGeneration._detection_events`).
Both must give the same per-attempt herald probability, heralded fidelity (from the simulated
states, after the Pauli correction) and attempt period as each other and as the closed forms
of the same devices (``net.budget``), and keep the devices' counters consistent. Tolerances:
5 standard errors of the counts used.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardware_models import BsmParams, DetectorParams, FibreParams, MemoryParams, QpuParams
from hardware_models.switch import SwitchParams
from modenhub_net.network.builder import build_hub_network
from modenhub_net.network.spec import HubSpec, QpuSpec
from modenhub_net.simulation import Simulation
from protocols import qops
from protocols.generation import DetailedGeneration

K = 5.0


def _specs(click: str, *, dark: bool, depolar: float = 0.0, n: int = 2):
    det = DetectorParams(efficiency=0.85, dark_count_rate_hz=5e5 if dark else 0.0, window_ns=100.0,
                         dead_time_ns=0.0)
    node = QpuSpec(
        fibre=FibreParams(length_km=2.0, depolar_rate_per_km=depolar),
        memory=MemoryParams(emission_efficiency=0.6, emission_fidelity=0.95,
                            emitter_initialisation_ns=200.0, emitter_emission_ns=50.0,
                            emitter_reset_ns=100.0),
        qpu=QpuParams(n_comm_qubits=16, n_data_qubits=1),
    )
    hub = HubSpec(
        bsm=BsmParams(scheme=click, visibility=0.9, bright_state_alpha=0.2, detector=det,
                      coincidence_window_ns=100.0),
        switch=SwitchParams(loss_per_stage_db=0.3),
        bsm_stations=8, sources=1, memory_slots=0,
    )
    nodes = [node, node.with_fibre_length(3.0)] + [node] * (n - 2)
    return nodes, hub


def _run(nodes, hub, *, rounds: int, k: int = 8, seed: int = 7, mode: str = "detailed"):
    sim = Simulation(seed=seed)
    net = build_hub_network(sim, nodes=nodes, hub=hub, scheme="detection_in_hub", link_mode=mode)
    durations, fids = [], []

    def loop():
        for _ in range(rounds):
            start = sim.now_ns
            outcome = yield from net.link_round(0, 1, k)
            durations.append(sim.now_ns - start)
            for pair in outcome.pairs:
                yield net.corrections.wait_ready(pair)
                fids.append(qops.pair_fidelity(net.access(pair.node_a, pair.slot_a),
                                               net.access(pair.node_b, pair.slot_b)))
                pair.mark("served")
                net.free(pair.node_a, pair.slot_a)
                net.free(pair.node_b, pair.slot_b)

    sim.process(loop())
    sim.run()
    return net, np.asarray(durations), np.asarray(fids)


@pytest.mark.parametrize("click", ["double_click", "single_click"])
@pytest.mark.parametrize("dark", [False, True])
def test_array_step_and_message_path_agree(click, dark, monkeypatch, validation_scale):
    nodes, hub = _specs(click, dark=dark)
    rounds = max(60, int(500 * validation_scale))
    out = {}
    for path in ("array", "messages"):
        with monkeypatch.context() as patch:
            if path == "messages":
                patch.setattr(DetailedGeneration, "_batchable", lambda self, a, b: False)
            net, durations, fids = _run(nodes, hub, rounds=rounds)
        budget = net.budget(0, 1)
        gen = net.generation
        n = gen.attempts_total
        p_hat = gen.heralds_total / n
        p = budget.p_success
        assert abs(p_hat - p) <= K * math.sqrt(p * (1 - p) / n), (path, p_hat, p)
        assert np.allclose(durations, budget.attempt_period_ns, rtol=1e-9, atol=1e-6), path
        se = fids.std(ddof=1) / math.sqrt(len(fids))
        assert abs(fids.mean() - budget.fidelity) <= max(K * se, 1e-9), (path, fids.mean(), budget.fidelity)
        # counters: the stations resolved every attempt, each detector saw one window per
        # attempt of its station, the fibres and the switch account for every photon
        assert sum(s.n_attempts for s in net.stations) == n
        assert sum(s.n_heralds for s in net.stations) == gen.heralds_total
        for station in net.stations:
            for d in station.detectors.values():
                assert d.n_windows == station.n_attempts
        switch = net.switch
        assert switch.n_photons_in == switch.n_photons_passed + switch.n_photons_lost
        assert switch.n_photons_dropped == 0
        assert switch.n_photons_in == sum(net.links[x].channel_ab.n_delivered for x in (0, 1))
        for x in (0, 1):
            fibre, memory = net.links[x].channel_ab, net.qpus[x].comm
            assert fibre.n_sent == fibre.n_lost + fibre.n_delivered
            assert memory.n_emitted == n
            if click == "double_click":
                assert fibre.n_sent == memory.n_photons_collected
                assert _within(memory.n_photons_collected, n, 0.6)
                assert _within(fibre.n_delivered, fibre.n_sent, fibre.transmission)
            else:
                assert fibre.n_sent == fibre.n_presence_modes == n
        assert net.held_qubits() == 0
        out[path] = (p_hat, n, fids)
    (p1, n1, f1), (p2, n2, f2) = out["array"], out["messages"]
    assert abs(p1 - p2) <= K * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    se = math.sqrt(f1.var(ddof=1) / len(f1) + f2.var(ddof=1) / len(f2))
    assert abs(f1.mean() - f2.mean()) <= max(K * se, 1e-9)


def _within(count: int, n: int, p: float) -> bool:
    return abs(count - n * p) <= K * math.sqrt(n * p * (1 - p)) + 1e-9


def test_noisy_fibre_falls_back_to_the_message_path(monkeypatch):
    nodes, hub = _specs("double_click", dark=False, depolar=0.05)
    calls = []
    original = DetailedGeneration._detection_events

    def spy(self, *args):
        calls.append(args)
        return (yield from original(self, *args))

    monkeypatch.setattr(DetailedGeneration, "_detection_events", spy)
    net, durations, fids = _run(nodes, hub, rounds=20)
    assert len(calls) == 20
    assert len(fids) > 0 and net.held_qubits() == 0


@pytest.mark.parametrize("mode", ["detailed", "sampled"])
def test_concurrent_rounds_take_disjoint_stations(mode):
    """Two rounds at once on disjoint QPU pairs: each takes k free stations for the round
    (the ``_by_device`` index), so a third round would find only the rest; every station's
    attempts add up to the rounds'."""
    nodes, hub = _specs("double_click", dark=False, n=4)
    sim = Simulation(seed=3)
    net = build_hub_network(sim, nodes=nodes, hub=hub, scheme="detection_in_hub", link_mode=mode)
    gen = net.generation
    seen = []

    def pair_round(a, b):
        for _ in range(30):
            outcome = yield from net.link_round(a, b, 4)
            for pair in outcome.pairs:
                yield net.corrections.wait_ready(pair)
                net.free(pair.node_a, pair.slot_a)
                net.free(pair.node_b, pair.slot_b)

    def watch():
        for _ in range(200):
            seen.append(len(gen.free_devices("bsm")))
            yield sim.timeout(97.0)

    sim.process(pair_round(0, 1))
    sim.process(pair_round(2, 3))
    sim.process(watch())
    sim.run()
    assert min(seen) == 0  # both rounds held 4 stations each at some instant
    assert gen.free_devices("bsm") == list(range(8))
    assert sum(s.n_attempts for s in net.stations) == gen.attempts_total == 2 * 30 * 4
    assert all(s.n_attempts > 0 for s in net.stations)
