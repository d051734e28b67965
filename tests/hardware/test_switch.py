"""Optical switch: loss vs stage count, blocking, reconfiguration timing, transmission."""

from __future__ import annotations

import math

import pytest

from hardware_models.switch import (
    OpticalSwitch,
    SwitchParams,
    switch_loss_db,
    switch_stages,
    switch_transmission,
)
from modenhub_net.components import Component, Message
from modenhub_net.errors import UserInputError
from modenhub_net.qubits import create_qubits
from modenhub_net.simulation import Simulation

SIZES = [2, 4, 8, 16, 32, 64, 128]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("architecture", ["crossbar", "multistage"])
def test_loss_against_stage_count(n: int, architecture: str) -> None:
    params = SwitchParams(architecture=architecture, loss_per_stage_db=0.7, fixed_loss_db=0.3)
    stages = 1 if architecture == "crossbar" else int(round(math.log2(n)))
    assert switch_stages(params, n) == stages
    assert switch_loss_db(params, n) == pytest.approx(0.3 + 0.7 * stages, rel=1e-12)
    assert switch_transmission(params, n) == pytest.approx(10 ** (-(0.3 + 0.7 * stages) / 10), rel=1e-12)


def test_stage_count_edge_cases() -> None:
    multi = SwitchParams(architecture="multistage", loss_per_stage_db=1.0)
    cross = SwitchParams(architecture="crossbar", loss_per_stage_db=1.0)
    assert [switch_stages(multi, n) for n in (1, 2, 3, 5, 9, 1000)] == [0, 1, 2, 3, 4, 10]
    assert [switch_stages(cross, n) for n in (1, 2, 3, 1000)] == [0, 1, 1, 1]
    assert switch_transmission(multi, 1) == 1.0
    with pytest.raises(UserInputError, match="n_ports"):
        switch_stages(multi, 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("loss_per_stage_db", -0.1),
        ("reconfiguration_time_ns", -1.0),
        ("max_circuits", 0),
        ("architecture", "banyan"),
        ("fixed_loss_db", 31.0),
    ],
)
def test_bad_params_name_the_field(field: str, value: object) -> None:
    with pytest.raises(UserInputError, match=field):
        SwitchParams(**{field: value})


def _switch(sim: Simulation, n: int = 8, **kw) -> OpticalSwitch:
    return OpticalSwitch("sw", sim=sim, params=SwitchParams(**kw), n_ports=n)


def test_blocking_refused_max_circuits_and_busy_port() -> None:
    sim = Simulation(seed=1)
    sw = _switch(sim, max_circuits=2)
    assert sw.connect(0, 1).granted
    assert sw.connect(2, 3).granted
    full = sw.connect(4, 5)
    assert not full.granted and not full.queued and full.circuit is None
    assert "max_circuits" in full.reason
    busy = sw.connect(1, 6)
    assert not busy.granted and "port 1 busy" in busy.reason
    assert len(sw.active_circuits) == 2


def test_default_max_circuits_is_half_the_ports() -> None:
    sim = Simulation(seed=1)
    sw = _switch(sim, n=6)
    assert sw.max_circuits == 3
    assert all(sw.connect(2 * i, 2 * i + 1).granted for i in range(3))


def test_queue_mode_serves_on_release_first_fit() -> None:
    sim = Simulation(seed=2)
    sw = _switch(sim, max_circuits=1, reconfiguration_time_ns=100.0)
    first = sw.connect(0, 1)
    assert first.granted and first.ready_at_ns == 100.0
    blocked_busy = sw.connect(1, 2, mode="queue")  # port 1 busy
    blocked_full = sw.connect(3, 4, mode="queue")  # capacity
    assert blocked_busy.queued and "busy" in blocked_busy.reason
    assert blocked_full.queued and "max_circuits" in blocked_full.reason
    sim.run(until_ns=250.0)
    sw.release(first.circuit)
    # FIFO: (1,2) is now possible and first in line -> granted; (3,4) still blocked by capacity.
    assert blocked_busy.circuit.state == "configuring"
    assert blocked_busy.circuit.ready_at_ns == 350.0
    assert blocked_full.circuit.state == "queued"
    sw.release(blocked_full.circuit)  # withdraw
    assert sw.queued_requests == []
    sim.run(until_ns=400.0)
    assert blocked_busy.circuit.state == "ready"
    assert blocked_busy.circuit.ready_event.triggered


class _Sink(Component):
    def __init__(self, name: str, sim: Simulation) -> None:
        super().__init__(name, sim=sim, port_names=("in",))


def _photon() -> Message:
    (q,) = create_qubits(1)
    return Message((q,), {"header": "photon"})


def test_reconfiguration_timing_photon_before_ready_lost_after_passes() -> None:
    sim = Simulation(seed=3)
    sw = _switch(sim, n=4, reconfiguration_time_ns=1_000.0)
    sink = _Sink("sink", sim)
    sw.ports["p1"].connect(sink.ports["in"])
    sw.ports["p2"].tx_input(_photon())  # no circuit at all
    assert sw.drop_reasons["no circuit"] == 1
    request = sw.connect(0, 1)
    assert request.ready_at_ns == 1_000.0
    sim.run(until_ns=999.0)
    sw.ports["p0"].tx_input(_photon())
    assert sw.drop_reasons["circuit reconfiguring"] == 1
    assert sink.ports["in"].input_queue_length == 0
    sim.run(until_ns=1_000.0)  # exactly at ready_at_ns: usable even before the ready timer fires
    sw.ports["p0"].tx_input(_photon())
    assert request.circuit.state == "ready"
    message = sink.ports["in"].rx_input()
    assert message is not None and message.items[0] is not None
    # the circuit is bidirectional
    back = _Sink("back", sim)
    sw.ports["p0"].connect(back.ports["in"])
    sw.ports["p1"].tx_input(_photon())
    assert back.ports["in"].input_queue_length == 1


def test_transmission_frequency_matches_closed_form() -> None:
    sim = Simulation(seed=4)
    params = dict(architecture="multistage", loss_per_stage_db=0.5)
    sw = _switch(sim, n=16, **params)
    eta = switch_transmission(SwitchParams(**params), 16)  # 4 stages, 2 dB
    sink = _Sink("sink", sim)
    sw.ports["p5"].connect(sink.ports["in"])
    assert sw.connect(3, 5).granted
    n = 20_000
    passed = 0
    for _ in range(n):
        sw.ports["p3"].tx_input(_photon())
        passed += sink.ports["in"].rx_input().items[0] is not None
    se = math.sqrt(eta * (1 - eta) / n)
    assert abs(passed / n - eta) < 5 * se
    assert sw.photons_passed == passed
    assert sw.photons_lost_insertion == n - passed


def test_presence_encoded_photon_is_amplitude_damped_not_removed() -> None:
    # single-click photons are photon-number qubits: the switch loss is a beam splitter to the
    # environment, so the memory-photon coherence |00><11| shrinks by sqrt(eta) and the
    # photon population by eta; the qubit (its vacuum branch) is never dropped
    import numpy as np

    from modenhub_net.qubits import assign_state, reduced_dm

    sim = Simulation(seed=5)
    params = dict(architecture="multistage", loss_per_stage_db=0.5, fixed_loss_db=0.5)
    sw = _switch(sim, n=8, **params)
    eta = switch_transmission(SwitchParams(**params), 8)  # 2 dB
    sink = _Sink("sink", sim)
    sw.ports["p1"].connect(sink.ports["in"])
    assert sw.connect(0, 1).granted
    alpha = 0.3
    memory, photon = create_qubits(2)
    assign_state([memory, photon], np.array([math.sqrt(1 - alpha), 0, 0, math.sqrt(alpha)]))
    sw.ports["p0"].tx_input(Message((photon,), {"encoding": "presence"}))
    out = sink.ports["in"].rx_input()
    assert out.items[0] is photon and out.meta["encoding"] == "presence"
    rho = reduced_dm([memory, photon])
    assert rho[3, 3].real == pytest.approx(alpha * eta, rel=1e-12)
    assert rho[2, 2].real == pytest.approx(alpha * (1 - eta), rel=1e-12)
    assert abs(rho[0, 3]) == pytest.approx(math.sqrt(alpha * (1 - alpha) * eta), rel=1e-12)
