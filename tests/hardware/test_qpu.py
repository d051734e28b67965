"""QPU: gate-error closed forms, measurement error frequency, Bell measurement, durations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardware_models.memory import MemoryParams
from hardware_models.qpu import (
    QPU,
    QpuParams,
    bell_preparation_fidelity,
    depolar_prob_from_gate_fidelity,
    two_qubit_depolar_kraus,
)
from modenhub_net.errors import UserInputError
from modenhub_net.qubits import CNOT, H, X, Z, bell_dm, fidelity
from modenhub_net.simulation import Simulation

PHI_PLUS = bell_dm(0)


def _qpu(sim: Simulation, **kw) -> QPU:
    defaults = dict(n_comm_qubits=2, n_data_qubits=2)
    defaults.update(kw)
    return QPU("qpu", sim=sim, params=QpuParams(**defaults))


@pytest.mark.parametrize(("p1", "p2"), [(0.0, 0.0), (0.02, 0.0), (0.0, 0.05), (0.01, 0.08), (0.3, 0.5)])
def test_bell_preparation_with_gate_errors(p1: float, p2: float) -> None:
    sim = Simulation(seed=0)
    qpu = _qpu(
        sim,
        single_qubit_gate_depolar_prob=p1,
        two_qubit_gate_depolar_prob=p2,
        single_qubit_gate_ns=10.0,
        two_qubit_gate_ns=200.0,
    )
    a, b = ("data", 0), ("comm", 1)
    qpu.initialise(a)
    qpu.initialise(b)
    assert qpu.apply_gate(H, [a]) == 10.0
    assert qpu.apply_gate(CNOT, [a, b]) == 200.0
    expected = (1 - p2) * (1 - p1 / 2) + p2 / 4
    assert bell_preparation_fidelity(qpu.params) == pytest.approx(expected)
    assert fidelity([qpu.qubit(a), qpu.qubit(b)], PHI_PLUS) == pytest.approx(expected, abs=1e-10)


def test_two_qubit_depolarising_kraus_is_trace_preserving_and_mixing() -> None:
    for p in (0.0, 0.1, 1.0):
        ops = two_qubit_depolar_kraus(p)
        total = sum(k.conj().T @ k for k in ops)
        np.testing.assert_allclose(total, np.eye(4), atol=1e-12)
        rho = sum(k @ PHI_PLUS @ k.conj().T for k in ops)
        np.testing.assert_allclose(rho, (1 - p) * PHI_PLUS + p * np.eye(4) / 4, atol=1e-12)
    with pytest.raises(UserInputError):
        two_qubit_depolar_kraus(1.5)


def test_gate_fidelity_conversion() -> None:
    assert depolar_prob_from_gate_fidelity(0.99, n_qubits=1) == pytest.approx(0.02)
    assert depolar_prob_from_gate_fidelity(0.97, n_qubits=2) == pytest.approx(0.04)
    assert depolar_prob_from_gate_fidelity(1.0, n_qubits=2) == pytest.approx(0.0, abs=1e-15)


def test_measurement_error_frequency() -> None:
    e, n = 0.07, 20_000
    sim = Simulation(seed=21)
    qpu = _qpu(sim, measure_error_prob=e, measure_ns=3_700.0)
    ones = 0
    for _ in range(n):
        qpu.initialise(("comm", 0))
        result = qpu.measure(("comm", 0))
        assert result.duration_ns == 3_700.0
        ones += result.outcome
    assert qpu.comm.free_slots() == [0, 1]
    assert abs(ones / n - e) < 5 * math.sqrt(e * (1 - e) / n)


@pytest.mark.parametrize("bell_index", [0, 1, 2, 3])
def test_ideal_bell_measurement_identifies_each_bell_state(bell_index: int) -> None:
    sim = Simulation(seed=0)
    qpu = _qpu(sim)
    a, b = ("comm", 0), ("data", 0)
    qpu.initialise(a)
    qpu.initialise(b)
    qpu.apply_gate(H, [a])
    qpu.apply_gate(CNOT, [a, b])  # Phi+
    if bell_index in (2, 3):  # Psi: flip the second qubit
        qpu.apply_gate(X, [b])
    if bell_index in (1, 3):  # minus sign
        qpu.apply_gate(Z, [a])
    result = qpu.bell_measure(a, b)
    assert result.outcome == bell_index
    assert qpu.comm.free_slots() == [0, 1] and qpu.data.free_slots() == [0, 1]


def test_bell_measurement_duration_and_memory_noise_between_gates() -> None:
    sim = Simulation(seed=0)
    qpu = QPU(
        "q",
        sim=sim,
        params=QpuParams(single_qubit_gate_ns=5.0, two_qubit_gate_ns=100.0, measure_ns=1_000.0),
        memory=MemoryParams(t2_ns=1_000.0),
    )
    assert qpu.data is not None and qpu.data.params.t2_ns == 1_000.0
    qpu.initialise(("comm", 0))
    qpu.initialise(("data", 0))
    assert qpu.bell_measure(("comm", 0), ("data", 0)).duration_ns == 1_105.0


def test_qpu_ports_and_bad_locations() -> None:
    sim = Simulation(seed=0)
    qpu = _qpu(sim, n_data_qubits=0)
    assert qpu.data is None and set(qpu.ports) >= {"qin", "qout"}
    with pytest.raises(UserInputError, match="location"):
        qpu.qubit(("data", 0))
    qpu.initialise(("comm", 0))
    with pytest.raises(UserInputError, match="gate of shape"):
        qpu.apply_gate(CNOT, [("comm", 0)])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_comm_qubits", 0),
        ("two_qubit_gate_depolar_prob", 1.5),
        ("measure_error_prob", 0.6),
        ("single_qubit_gate_ns", -1.0),
        ("measure_ns", float("inf")),
        ("n_data_qubits", 1.5),
    ],
)
def test_bad_qpu_params_name_the_field(field: str, value: float) -> None:
    with pytest.raises(UserInputError, match=field):
        QpuParams(**{field: value})


def test_gate_fidelity_conversion_rejects_out_of_range() -> None:
    # p = 1 (fully depolarising) is the lowest average fidelity, 1/d
    assert depolar_prob_from_gate_fidelity(0.5, n_qubits=1) == pytest.approx(1.0)
    assert depolar_prob_from_gate_fidelity(0.25, n_qubits=2) == pytest.approx(1.0)
    for fid, n in ((1.01, 1), (0.4, 1), (0.2, 2)):
        with pytest.raises(UserInputError, match="fidelity"):
            depolar_prob_from_gate_fidelity(fid, n_qubits=n)
    with pytest.raises(UserInputError, match="n_qubits"):
        depolar_prob_from_gate_fidelity(0.99, n_qubits=3)
