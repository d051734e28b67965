"""Validation tier: detailed hub ~ sampled hub ~ device closed form, per scheme.

For each link scheme x {double, single click} x {no dark counts, dark counts} x {single
pair, multi-pair} where the combination is physical, the hub is built from the device
components and runs K attempts a round for R rounds in both link modes. Measured, and
compared with the closed forms of the same devices (:mod:`hardware_models.link_budget`, the
network's ``budget``):

- the per-attempt success probability (``hub_memory_swap``: per leg), binomial standard
  error of the attempt count, ``|z| < 4.5`` for each mode;
- the heralded fidelity, from the simulated states (after the Pauli-frame correction, with
  ideal memories and gates so nothing else changes it), standard error of the pair count
  (``|z| < 4.5``; when every pair has the same state the difference must be < 1e-9);
- the attempt period (round duration with the circuits set up), deterministic: equal to
  the closed form to 1e-9 relative.

Sizes scale with ``validation_scale`` (tolerances come from the counts actually used).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardware_models import (
    BsmParams,
    DetectorParams,
    FibreParams,
    MemoryParams,
    QpuParams,
    SpdcParams,
)
from modenhub_net.network.builder import build_hub_network
from modenhub_net.network.spec import HubSpec, QpuSpec
from modenhub_net.simulation import Simulation
from protocols import qops

pytestmark = pytest.mark.validation

Z_MAX = 4.5


def _detector(dark: bool) -> DetectorParams:
    # a dark-count rate of 5e5 /s in a 100 ns window: lambda = 0.05 dark counts per window
    return DetectorParams(efficiency=0.85, dark_count_rate_hz=5e5 if dark else 0.0, window_ns=100.0,
                          dead_time_ns=0.0)


def _specs(*, scheme, click="double_click", dark=False, mu=0.05):
    node = QpuSpec(
        fibre=FibreParams(length_km=2.0),
        memory=MemoryParams(emission_efficiency=0.6, emission_fidelity=0.95, write_efficiency=0.8,
                            emitter_initialisation_ns=200.0, emitter_emission_ns=50.0,
                            emitter_reset_ns=100.0),
        qpu=QpuParams(n_comm_qubits=16, n_data_qubits=1),
        detector=_detector(dark),
    )
    hub = HubSpec(
        bsm=BsmParams(scheme=click, visibility=0.9, bright_state_alpha=0.2, detector=_detector(dark),
                      coincidence_window_ns=100.0),
        source=SpdcParams(mu=mu, coupling_efficiency_a=0.9, coupling_efficiency_b=0.9,
                          repetition_rate_hz=1e6),
        memory=MemoryParams(emission_efficiency=0.7, emission_fidelity=0.97,
                            emitter_initialisation_ns=300.0, emitter_emission_ns=50.0),
        bsm_stations=8, sources=8, memory_slots=64,
    )
    return [node, node.with_fibre_length(3.0)], hub


def _measure(scheme, mode, nodes, hub, *, k, rounds, seed):
    sim = Simulation(seed=seed)
    # hub_memory_swap: unmatched legs are freed after 20 attempt periods (no stall)
    period = build_hub_network(Simulation(seed=0), nodes=nodes, hub=hub, scheme=scheme,
                               link_mode=mode).budget(0, 1).attempt_period_ns
    net = build_hub_network(sim, nodes=nodes, hub=hub, scheme=scheme, link_mode=mode,
                            leg_cutoff_ns=20 * period)
    durations, fidelities = [], []

    def loop():
        for _ in range(rounds):
            start = sim.now_ns
            outcome = yield from net.link_round(0, 1, min(k, net.attempt_cap(0, 1)[0]))
            durations.append(sim.now_ns - start)
            for pair in outcome.pairs:
                yield net.corrections.wait_ready(pair)
                fidelities.append(qops.pair_fidelity(net.access(pair.node_a, pair.slot_a),
                                                     net.access(pair.node_b, pair.slot_b)))
                pair.mark("served")
                net.free(pair.node_a, pair.slot_a)
                net.free(pair.node_b, pair.slot_b)

    sim.process(loop())
    sim.run()
    return net, np.asarray(durations), np.asarray(fidelities)


def _z(hat, expected, n):
    se = math.sqrt(max(expected * (1 - expected), 1e-300) / n)
    return (hat - expected) / se


CASES = [
    ("detection_in_hub", "double_click", False, 0.05),
    ("detection_in_hub", "double_click", True, 0.05),
    ("detection_in_hub", "single_click", False, 0.05),
    ("detection_in_hub", "single_click", True, 0.05),
    ("source_in_hub", "double_click", False, 0.05),
    ("source_in_hub", "double_click", True, 0.05),
    ("source_in_hub", "double_click", False, 0.5),
    ("source_in_hub", "double_click", True, 0.5),
    ("hub_memory_swap", "double_click", False, 0.05),
    ("hub_memory_swap", "double_click", True, 0.05),
]


@pytest.mark.parametrize("scheme, click, dark, mu", CASES,
                         ids=[f"{s}-{c}-{'dark' if d else 'nodark'}-mu{m}" for s, c, d, m in CASES])
def test_detailed_sampled_and_closed_form_agree(scheme, click, dark, mu, validation_scale):
    nodes, hub = _specs(scheme=scheme, click=click, dark=dark, mu=mu)
    k = 8
    base = {"detection_in_hub": 400, "source_in_hub": 1500, "hub_memory_swap": 250}[scheme]
    rounds = max(60, int(base * validation_scale))
    results = {}
    for mode in ("detailed", "sampled"):
        net, durations, fids = _measure(scheme, mode, nodes, hub, k=k, rounds=rounds, seed=7)
        budget = net.budget(0, 1)
        gen = net.generation
        n = gen.attempts_total
        assert n >= (k * rounds) // 2
        # attempt period: deterministic, the closed form's
        assert np.allclose(durations, budget.attempt_period_ns, rtol=1e-9, atol=1e-6), (
            mode, durations[:3], budget.attempt_period_ns)
        if scheme == "hub_memory_swap":
            for x, leg in zip((0, 1), budget.legs, strict=True):
                z = _z(gen.legs_heralded.get(x, 0) / n, leg.p_success, n)
                assert abs(z) < Z_MAX, (mode, x, z)
        else:
            z = _z(gen.heralds_total / n, budget.p_success, n)
            assert abs(z) < Z_MAX, (mode, z, gen.heralds_total / n, budget.p_success)
        assert len(fids) > 0
        results[mode] = fids
        se = fids.std(ddof=1) / math.sqrt(len(fids)) if len(fids) > 1 else 0.0
        if se > 1e-12:
            assert abs(fids.mean() - budget.fidelity) < Z_MAX * se, (mode, fids.mean(), budget.fidelity, se)
        else:
            assert abs(fids.mean() - budget.fidelity) < 1e-9, (mode, fids.mean(), budget.fidelity)
    x, y = results["detailed"], results["sampled"]
    se = math.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y)) if min(len(x), len(y)) > 1 else 0.0
    assert abs(x.mean() - y.mean()) < max(Z_MAX * se, 1e-9)
