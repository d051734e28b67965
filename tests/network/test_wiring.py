"""Proof of wiring: the hub is made of hardware_models components, and photons pass through them.

Serve a few requests in each scheme and link mode, then inspect the built network: the
device instances exist and their counters add up (what a fibre received was lost or
delivered, what the switch passed reached the stations or the QPUs, every herald of the BSM
stations is a delivered pair). And one physics response measured in the hub: doubling the
fibre length changes the measured per-attempt success by the factor the closed form
predicts (4 standard errors of the trial count).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardware_models import (
    QPU,
    BsmParams,
    BsmStation,
    Detector,
    DetectorParams,
    Fibre,
    FibreParams,
    MemoryParams,
    OpticalSwitch,
    QuantumMemory,
    SpdcParams,
    SpdcSource,
)
from modenhub_net.network.builder import run_policy
from modenhub_net.network.spec import HubSpec, QpuSpec
from protocols.workload import uniform_requests

DETECTOR = DetectorParams(efficiency=0.8, dark_count_rate_hz=0.0, window_ns=10.0, dead_time_ns=0.0)


def _specs(*, length_km=2.0, single=False):
    node = QpuSpec(fibre=FibreParams(length_km=length_km),
                   memory=MemoryParams(emission_efficiency=0.7, write_efficiency=0.9, t2_ns=1e8),
                   detector=DETECTOR)
    hub = HubSpec(
        bsm=BsmParams(scheme="single_click" if single else "double_click", visibility=0.95,
                      bright_state_alpha=0.2, detector=DETECTOR),
        source=SpdcParams(mu=0.2), memory=MemoryParams(emission_efficiency=0.8),
        bsm_stations=4, sources=4, memory_slots=8,
    )
    return [node] * 4, hub


def _serve(scheme, mode, *, single=False, count=40, seed=3, length_km=2.0, policy="orchestrated"):
    nodes, hub = _specs(length_km=length_km, single=single)
    requests = uniform_requests(np.random.default_rng(seed), n_qpus=4, count=count)
    return run_policy(nodes=nodes, hub=hub, scheme=scheme, link_mode=mode, policy=policy,
                      requests=requests, seed=seed)


CASES = [("detection_in_hub", False), ("detection_in_hub", True), ("source_in_hub", False),
         ("hub_memory_swap", False)]


@pytest.mark.parametrize("mode", ["detailed", "sampled"])
@pytest.mark.parametrize("scheme, single", CASES)
def test_hub_is_built_from_components_and_counts_photons(scheme, single, mode):
    records, net, orch = _serve(scheme, mode, single=single)
    assert records and any(r.success for r in records)
    parts = list(net.components().values())
    for kind in (QPU, QuantumMemory, Fibre, OpticalSwitch, BsmStation, SpdcSource):
        assert any(isinstance(c, kind) for c in parts), kind.__name__
    if scheme != "detection_in_hub":
        assert any(isinstance(c, Detector) for c in parts)
    gen = net.generation
    attempts = sum(r.attempts for r in records)
    assert gen.attempts_total == attempts > 0
    fibres = [c for c in parts if isinstance(c, Fibre)]
    assert sum(f.n_sent for f in fibres) > 0
    for fibre in fibres:
        assert fibre.n_sent == fibre.n_lost + fibre.n_delivered
    if scheme == "detection_in_hub":
        heralds = sum(s.n_heralds for s in net.stations)
        assert heralds == gen.heralds_total == orch.counts.pairs_heralded
        assert sum(s.n_attempts for s in net.stations) == attempts
        for x, qpu in enumerate(net.qpus):  # every collected photon entered the QPU's fibre
            sent = net.links[x].channel_ab.n_sent
            if mode == "detailed" and not single:
                assert sent == qpu.comm.n_photons_collected <= qpu.comm.n_emitted
            else:  # presence-encoded modes always enter; the sampled mode counts attempt modes
                assert sent == qpu.comm.n_emitted
    elif scheme == "source_in_hub":
        assert sum(s.n_pulses for s in net.sources) == attempts
    if mode == "detailed":
        up = sum(link.channel_ab.n_delivered for link in net.links)
        down = sum(link.channel_ba.n_sent for link in net.links)
        switch = net.switch
        assert switch.n_photons_in == switch.n_photons_passed + switch.n_photons_lost
        assert switch.n_photons_dropped == 0  # every photon met a ready circuit
        if scheme == "detection_in_hub":
            assert switch.n_photons_in == up and down == 0
        else:
            assert switch.n_photons_passed == down and up == 0
        if scheme == "source_in_hub":
            windows = sum(d.n_windows for dets in net.herald_detectors for d in dets)
            assert windows == 2 * attempts  # one herald window per mode at each QPU
    assert net.held_qubits() == 2 * len(orch.cache)  # legs are freed at the end of a request


@pytest.mark.parametrize("mode", ["detailed", "sampled"])
def test_doubling_fibre_length_scales_success_as_the_closed_form(mode):
    """p(2L) / p(L) measured in the hub vs the budget's ratio (|z| < 4, delta method)."""
    measured, predicted = {}, {}
    for length in (5.0, 10.0):
        records, net, _ = _serve("detection_in_hub", mode, count=300 if mode == "detailed" else 1500,
                                 length_km=length, policy="naive", seed=11)
        gen = net.generation
        n = gen.attempts_total
        p_hat = gen.heralds_total / n
        measured[length] = (p_hat, p_hat * (1 - p_hat) / n)
        predicted[length] = net.budget(0, 1).p_success
    (p1, v1), (p2, v2) = measured[5.0], measured[10.0]
    ratio = p2 / p1
    se = ratio * math.sqrt(v1 / p1**2 + v2 / p2**2)
    expected = predicted[10.0] / predicted[5.0]
    assert expected < 0.8  # the response is real: 5 km more fibre at 0.2 dB/km on each arm
    assert abs(ratio - expected) < 4 * se, (ratio, expected, se)


def test_switch_reconfiguration_is_paid_when_circuits_change():
    """Circuits are reused by the same pair; a new pair waits the switch's reconfiguration."""
    from hardware_models import SwitchParams
    from protocols.workload import list_requests

    setup_ns = 1e4
    nodes, hub = _specs()
    hub = HubSpec(**{**hub.model_dump(), "switch": SwitchParams(reconfiguration_time_ns=setup_ns)})
    for mode in ("detailed", "sampled"):
        requests = list_requests([(0, 1), (0, 1), (2, 3), (3, 2)], n_qpus=4)
        records, net, _ = run_policy(nodes=nodes, hub=hub, scheme="detection_in_hub", link_mode=mode,
                                     policy="naive", requests=requests, seed=5, rounds=1000)
        assert all(r.success for r in records)
        period = net.budget(0, 1).attempt_period_ns
        # service time = setup (if the pair changed) + rounds x period + the operation
        overhead = [r.end_ns - r.start_ns - r.rounds * period for r in records]
        assert overhead[0] - overhead[1] == pytest.approx(setup_ns)
        assert overhead[2] - overhead[3] == pytest.approx(setup_ns)
        # two lanes for four QPUs: (0, 1) and (2, 3) each keep their circuits
        assert net.switch.n_circuits_granted == 4 and net.switch.n_circuits_released == 0


@pytest.mark.parametrize("mode", ["detailed", "sampled"])
def test_hub_memory_swap_runs_continuously_with_a_leg_cutoff(mode):
    """Unequal legs (2 km vs 12 km) leave unmatched legs; the cutoff frees them, so rounds keep
    launching attempts and pairs keep coming (no stall)."""
    from modenhub_net.network.builder import build_hub_network
    from modenhub_net.simulation import Simulation

    nodes, hub = _specs()
    nodes = [nodes[0], nodes[0].with_fibre_length(12.0)]
    probe = build_hub_network(Simulation(seed=0), nodes=nodes, hub=hub, scheme="hub_memory_swap",
                              link_mode=mode)
    period = probe.budget(0, 1).attempt_period_ns
    sim = Simulation(seed=9)
    net = build_hub_network(sim, nodes=nodes, hub=hub, scheme="hub_memory_swap", link_mode=mode,
                            leg_cutoff_ns=5 * period)
    launched, delivered = [], []

    def loop():
        for _ in range(150):
            k = min(4, net.attempt_cap(0, 1)[0])
            outcome = yield from net.link_round(0, 1, k)
            launched.append(k)
            delivered.append(len(outcome.pairs))
            for pair in outcome.pairs:
                yield net.corrections.wait_ready(pair)
                pair.mark("served")
                net.discard_pair(pair, "used")

    sim.process(loop())
    sim.run()
    assert min(launched[-50:]) > 0 and sum(delivered[-50:]) > 0
    # memories hold at most the legs younger than the cutoff
    assert net.hub_memory.comm.n_slots - len(net.hub_memory.comm.free_slots()) <= 2 * 4 * 5
