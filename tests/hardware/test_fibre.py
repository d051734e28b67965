"""Fibre: transmission and delay against closed forms (binomial tolerance, exact delay),
presence encoding, depolarisation, classical latency, bad parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from hardware_models.fibre import (
    ClassicalFibre,
    Fibre,
    FibreParams,
    fibre_delay_ns,
    fibre_depolar_probability,
    fibre_transmission,
)
from modenhub_net.components import Component, Message
from modenhub_net.errors import UserInputError
from modenhub_net.qubits import bell_state, create_bell_pair, create_qubits, fidelity, reduced_dm
from modenhub_net.simulation import Simulation

K = 5.0  # standard errors


class Sink(Component):
    def __init__(self, name: str, *, sim: Simulation) -> None:
        super().__init__(name, sim=sim, port_names=("in",))
        self.received: list[tuple[float, Message]] = []
        self.ports["in"].bind_input_handler(lambda m: self.received.append((self.sim.now_ns, m)))


@pytest.mark.parametrize(("length_km", "expected"), [(10.0, 10**-0.2), (50.0, 0.1), (100.0, 0.01)])
def test_transmission_closed_form(length_km: float, expected: float) -> None:
    assert fibre_transmission(FibreParams(length_km=length_km)) == pytest.approx(expected, rel=1e-12)


def test_coupling_loss_adds_to_attenuation() -> None:
    p = FibreParams(length_km=10.0, attenuation_db_per_km=0.25, loss_db=1.5)
    assert fibre_transmission(p) == pytest.approx(10 ** (-0.4), rel=1e-12)


@pytest.mark.parametrize("length_km", [10.0, 50.0, 100.0])
def test_photons_through_fibre_survive_at_closed_form_rate_with_exact_delay(
    length_km: float, validation_scale: float
) -> None:
    sim = Simulation(seed=int(length_km))
    params = FibreParams(length_km=length_km)
    fibre = Fibre("fibre", sim=sim, params=params)
    sink = Sink("sink", sim=sim)
    fibre.ports["recv"].connect(sink.ports["in"])
    n = int(20_000 * validation_scale)
    for _ in range(n):
        (photon,) = create_qubits(1)
        fibre.ports["send"].tx_input(Message((photon,)))
    sim.run()
    eta = fibre_transmission(params)
    survivors = sum(1 for _, m in sink.received if m.items[0] is not None)
    assert abs(survivors - n * eta) <= K * math.sqrt(n * eta * (1 - eta))
    assert len(sink.received) == n  # loss replaces the photon by None, the message arrives
    assert {t for t, _ in sink.received} == {length_km * 5_000.0}
    assert fibre_delay_ns(params) == length_km * 5_000.0
    lost = [m.items[0] for _, m in sink.received if m.items[0] is None]
    assert fibre.qubits_lost == len(lost)


def test_lost_photon_is_traced_out_of_its_pair() -> None:
    sim = Simulation(seed=3)
    fibre = Fibre("fibre", sim=sim, params=FibreParams(length_km=1.0, loss_db=100.0))
    sink = Sink("sink", sim=sim)
    fibre.ports["recv"].connect(sink.ports["in"])
    memory, photon = create_bell_pair(0)
    fibre.ports["send"].tx_input(Message((photon,)))
    sim.run()
    assert sink.received[0][1].items == (None,)
    assert np.allclose(reduced_dm([memory]), np.eye(2) / 2)


def test_depolarisation_per_km_gives_werner_fidelity() -> None:
    sim = Simulation(seed=4)
    params = FibreParams(length_km=20.0, attenuation_db_per_km=0.0, depolar_rate_per_km=0.01)
    fibre = Fibre("fibre", sim=sim, params=params)
    sink = Sink("sink", sim=sim)
    fibre.ports["recv"].connect(sink.ports["in"])
    memory, photon = create_bell_pair(0)
    fibre.ports["send"].tx_input(Message((photon,)))
    sim.run()
    p = fibre_depolar_probability(params)
    assert p == pytest.approx(1 - math.exp(-0.2))
    assert fidelity([memory, photon], bell_state(0)) == pytest.approx(1 - 3 * p / 4, abs=1e-12)


def test_presence_encoded_photon_is_amplitude_damped() -> None:
    sim = Simulation(seed=5)
    params = FibreParams(length_km=15.0)
    fibre = Fibre("fibre", sim=sim, params=params, extra_transmission=0.5)
    sink = Sink("sink", sim=sim)
    fibre.ports["recv"].connect(sink.ports["in"])
    (photon,) = create_qubits(1)
    from modenhub_net.qubits import X, operate

    operate([photon], X)  # one photon
    fibre.ports["send"].tx_input(Message((photon,), {"encoding": "presence"}))
    sim.run()
    eta = 0.5 * fibre_transmission(params)
    assert reduced_dm([sink.received[0][1].items[0]])[1, 1].real == pytest.approx(eta, rel=1e-12)


def test_classical_fibre_latency() -> None:
    sim = Simulation(seed=6)
    channel = ClassicalFibre(
        "cl", sim=sim, params=FibreParams(length_km=30.0, speed_km_per_s=2.0e5), processing_ns=250.0
    )
    sink = Sink("sink", sim=sim)
    channel.ports["recv"].connect(sink.ports["in"])
    channel.ports["send"].tx_input(Message(("herald",)))
    sim.run()
    assert channel.latency_ns == 150_250.0
    assert sink.received[0][0] == 150_250.0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("length_km", -1.0),
        ("attenuation_db_per_km", -0.2),
        ("loss_db", -1.0),
        ("speed_km_per_s", 0.0),
        ("speed_km_per_s", 4.0e5),
        ("depolar_rate_per_km", -0.1),
    ],
)
def test_bad_parameters_name_field_and_value(field: str, value: float) -> None:
    with pytest.raises(UserInputError) as info:
        FibreParams(**{field: value})
    assert field in str(info.value) and repr(value) in str(info.value)


def test_unknown_key_rejected_and_params_frozen() -> None:
    with pytest.raises(UserInputError, match="unknown key"):
        FibreParams(lenght_km=3.0)
    params = FibreParams()
    with pytest.raises(ValidationError):
        params.length_km = 3.0  # type: ignore[misc]
    assert hash(params) == hash(FibreParams())
