"""Component counters: every device counts what passed through it, consistently.

Each component's counters are exercised with a known input and checked against the physics
the component implements (conservation: what enters is delivered or lost; rates at the closed
form within 5 standard errors).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardware_models import (
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
    SwitchParams,
    emitter_attempt_period_ns,
    fibre_transmission,
)
from modenhub_net.components import Component, Message
from modenhub_net.errors import UserInputError
from modenhub_net.qubits import create_qubits
from modenhub_net.simulation import Simulation

K = 5.0


class _Sink(Component):
    def __init__(self, sim: Simulation) -> None:
        super().__init__("sink", sim=sim, port_names=("in",))
        self.messages: list[Message] = []
        self.ports["in"].bind_input_handler(self.messages.append)


def _within(k: int, n: int, p: float) -> bool:
    return abs(k - n * p) <= K * math.sqrt(n * p * (1 - p)) + 1e-9


def test_emitter_attempt_period_is_the_sum_of_its_steps() -> None:
    params = MemoryParams(emitter_initialisation_ns=5_500.0, emitter_emission_ns=120.0,
                          emitter_reset_ns=380.0)
    assert emitter_attempt_period_ns(params) == 6_000.0
    assert emitter_attempt_period_ns(MemoryParams()) == 0.0


@pytest.mark.parametrize(
    "field", ["emitter_initialisation_ns", "emitter_emission_ns", "emitter_reset_ns"]
)
@pytest.mark.parametrize("value", [-1.0, math.inf, math.nan, "fast", True])
def test_emitter_times_reject_bad_values_naming_field_and_value(field: str, value) -> None:
    with pytest.raises(UserInputError) as info:
        MemoryParams(**{field: value})
    assert field in str(info.value)
    assert str(value) in str(info.value)


def test_memory_counts_emissions_stores_reads_and_discards() -> None:
    sim = Simulation(seed=3)
    mem = QuantumMemory("m", sim=sim, params=MemoryParams(emission_efficiency=0.4,
                                                          write_efficiency=0.7,
                                                          read_efficiency=0.6), n_slots=1)
    n = 4_000
    for _ in range(n):
        mem.emit(0)
        mem.discard(0)
    assert mem.n_emitted == n and mem.n_discarded == n
    assert _within(mem.n_photons_collected, n, 0.4)
    for _ in range(n):
        (q,) = create_qubits(1)
        if mem.store(0, q):
            mem.read(0)
    assert mem.n_stored + mem.n_store_failed == n
    assert _within(mem.n_stored, n, 0.7)
    assert mem.n_read + mem.n_read_failed == mem.n_stored
    assert _within(mem.n_read, mem.n_stored, 0.6)
    assert mem.counters()["n_stored"] == mem.n_stored
    with pytest.raises(AttributeError):
        mem.n_stored = 0  # read-only


def test_memory_counts_single_click_modes_and_full_drops() -> None:
    sim = Simulation(seed=4)
    mem = QuantumMemory("m", sim=sim, params=MemoryParams(emission_efficiency=0.3), n_slots=1)
    mem.emit(0, bright_state_alpha=0.1)
    assert mem.n_photons_collected == 1  # a photon-number mode always leaves
    mem.ports["qin"].tx_input(Message(tuple(create_qubits(2)), {}))
    assert mem.n_dropped_full == 2 and mem.n_stored == 0


def test_fibre_counts_sent_lost_delivered() -> None:
    sim = Simulation(seed=5)
    params = FibreParams(length_km=25.0)
    fibre = Fibre("f", sim=sim, params=params)
    sink = _Sink(sim)
    fibre.ports["recv"].connect(sink.ports["in"])
    n = 5_000
    for _ in range(n):
        fibre.ports["send"].tx_input(Message(tuple(create_qubits(1)), {}))
    sim.run()
    assert fibre.n_sent == n
    assert fibre.n_delivered + fibre.n_lost == n
    assert fibre.n_delivered == sum(1 for m in sink.messages if m.items[0] is not None)
    assert _within(fibre.n_delivered, n, fibre_transmission(params))


def test_switch_counts_photons_and_circuits() -> None:
    sim = Simulation(seed=6)
    switch = OpticalSwitch("s", sim=sim, params=SwitchParams(fixed_loss_db=3.0, max_circuits=1),
                           n_ports=4)
    request = switch.connect(0, 1)
    assert not switch.connect(2, 3).granted
    n = 3_000
    for _ in range(n):
        switch.ports["p0"].tx_input(Message(tuple(create_qubits(1)), {}))
    switch.ports["p2"].tx_input(Message(tuple(create_qubits(1)), {}))  # no circuit
    switch.release(request.circuit)
    assert (switch.n_circuits_granted, switch.n_circuits_blocked, switch.n_circuits_released) == (
        1, 1, 1)
    assert switch.n_photons_in == n + 1
    assert switch.n_photons_passed + switch.n_photons_lost == n + 1
    assert switch.n_photons_dropped == 1
    assert _within(switch.n_photons_passed, n, 10 ** -0.3)


def test_detector_counts_windows_clicks_dark_clicks_and_dead_time() -> None:
    params = DetectorParams(efficiency=0.5, dark_count_rate_hz=2e7, window_ns=10.0,
                            dead_time_ns=0.0)
    det = Detector("d", sim=Simulation(seed=7), params=params)
    n = 6_000
    for _ in range(n):
        det.detect(0)
    p_dc = 1 - math.exp(-0.2)
    assert det.n_windows == n and det.n_clicks == det.n_dark_clicks
    assert _within(det.n_dark_clicks, n, p_dc)
    dead = Detector("dd", sim=Simulation(seed=8),
                    params=DetectorParams(efficiency=1.0, dark_count_rate_hz=0.0, dead_time_ns=25.0))
    for i in range(10):
        dead.detect(1, now_ns=10.0 * i)  # clicks at 0, 30, 60, 90 registered
    assert (dead.n_clicks, dead.n_dead_time_misses, dead.n_dark_clicks) == (4, 6, 0)
    assert dead.n_photons_in == 10 and dead.n_photons_registered == 10


def test_spdc_counts_pulses_pairs_and_coupling_losses() -> None:
    sim = Simulation(seed=9)
    src = SpdcSource("src", sim=sim, params=SpdcParams(mu=0.2, coupling_efficiency_a=0.5))
    sinks = []
    for port in ("a", "b"):
        sink = _Sink(sim)
        src.ports[port].connect(sink.ports["in"])
        sinks.append(sink)
    n = 4_000
    for _ in range(n):
        src.emit()
    assert src.n_pulses == n
    assert src.n_pairs == sum(m.meta["n_pairs"] for m in sinks[0].messages)
    sent = sum(1 for s in sinks for m in s.messages for q in m.items if q is not None)
    assert src.n_photons_sent == sent == 2 * src.n_pairs - src.n_photons_lost
    assert _within(src.n_photons_lost, src.n_pairs, 0.5)


def test_bsm_counts_attempts_heralds_per_label_and_false_heralds() -> None:
    """Dark counts only (no photons): every herald is false; rate = the closed form."""
    det = DetectorParams(efficiency=0.9, dark_count_rate_hz=5e6, window_ns=10.0, dead_time_ns=0.0)
    for scheme in ("double_click", "single_click"):
        sim = Simulation(seed=10)
        station = BsmStation("bsm", sim=sim, params=BsmParams(scheme=scheme, detector=det))
        mem = QuantumMemory("m", sim=sim, params=MemoryParams(emission_efficiency=0.0), n_slots=2)
        n = 4_000
        for _ in range(n):
            kwargs = {} if scheme == "double_click" else {"bright_state_alpha": 0.5}
            qa, pa = mem.emit(0, **kwargs)
            qb, pb = mem.emit(1, **kwargs)
            enc = {} if scheme == "double_click" else {"encoding": "presence"}
            station.process_attempt(Message((pa,), {"memory_qubit": qa, **enc}),
                                    Message((pb,), {"memory_qubit": qb, **enc}))
            mem.release(0)
            mem.release(1)
        from hardware_models import herald_success_probability

        p = herald_success_probability(eta_a=0.0, eta_b=0.0, bsm=station.params)
        assert station.n_attempts == n
        assert station.n_heralds == sum(station.n_heralds_by_label.values())
        assert station.n_false_heralds == station.n_heralds
        assert _within(station.n_heralds, n, p), (scheme, station.n_heralds, n * p)
        assert station.n_failures == n - station.n_heralds
    ideal = BsmStation("ideal", sim=Simulation(seed=11),
                       params=BsmParams(detector=DetectorParams(efficiency=1.0,
                                                                dark_count_rate_hz=0.0)))
    sim = ideal.sim
    mem = QuantumMemory("m", sim=sim, params=MemoryParams(), n_slots=2)
    for _ in range(200):
        qa, pa = mem.emit(0)
        qb, pb = mem.emit(1)
        ideal.process_attempt(Message((pa,), {"memory_qubit": qa}),
                              Message((pb,), {"memory_qubit": qb}))
        mem.release(0)
        mem.release(1)
    assert ideal.n_false_heralds == 0 and ideal.n_heralds > 0
    assert np.isclose(ideal.n_heralds / 200, 0.5, atol=K * math.sqrt(0.25 / 200))
