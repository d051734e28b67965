"""Bad arguments give clear errors naming the parameter, value and allowed range."""

import numpy as np
import pytest

from modenhub_net.errors import UserInputError
from modenhub_net.qubits import (
    CNOT,
    apply_kraus,
    assign_state,
    bell_dm,
    create_qubits,
    depolarise,
    discard,
    fidelity,
    measure,
    operate,
    pauli_channel,
    t1t2_noise,
    werner_dm,
)


def test_probability_outside_unit_interval():
    (q,) = create_qubits(1)
    with pytest.raises(UserInputError,
                       match=r"p = 1.5: outside the allowed range; allowed: a finite number in \[0.0, 1.0\]"):
        depolarise(q, 1.5)
    with pytest.raises(UserInputError, match="p_x"):
        pauli_channel(q, -0.1, 0, 0)
    with pytest.raises(UserInputError, match="must be <= 1"):
        pauli_channel(q, 0.5, 0.4, 0.3)
    with pytest.raises(UserInputError, match="fidelity"):
        werner_dm(1.2)


def test_wrong_shapes_and_non_unitary():
    a, b = create_qubits(2)
    with pytest.raises(UserInputError, match="does not act on 1 qubit"):
        operate([a], CNOT)
    with pytest.raises(UserInputError, match="not unitary"):
        operate([a], np.array([[1, 1], [0, 1]]))
    with pytest.raises(UserInputError, match="not trace preserving"):
        apply_kraus([a], [np.eye(2) * 0.5])
    with pytest.raises(UserInputError, match="does not fit 2 qubit"):
        assign_state([a, b], np.ones(3))
    with pytest.raises(UserInputError, match="repeated"):
        operate([a, a], CNOT)


def test_operating_on_discarded_or_lost_qubit():
    a, b = create_qubits(2)
    discard(a)
    with pytest.raises(UserInputError, match="discarded"):
        operate([a], np.eye(2))
    with pytest.raises(UserInputError, match="basis"):
        measure(b, np.random.default_rng(0), basis="W")


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (np.array([np.nan, 0.0]), "has NaN or infinite entries"),
        (np.array([1.0, np.inf]), "has NaN or infinite entries"),
        (np.array([1.0, 1.0]), "ket norm = 2.0, must be 1"),
        (np.zeros(2), "ket norm = 0.0, must be 1"),
        (np.array([True, False]), "dtype bool is not a state"),
        (np.array(["a", "b"]), "is not a state"),
        (np.diag([1.5, -0.5]), "negative eigenvalue -0.5"),
        (np.diag([0.6, 0.6]), "must have trace 1"),
        (np.array([[0.5, 0.5], [0.0, 0.5]]), "must be Hermitian"),
    ],
)
def test_assign_state_refuses_what_is_not_a_state(state, message):
    (q,) = create_qubits(1)
    with pytest.raises(UserInputError, match=message):
        assign_state([q], state)
    assert q.state is not None and np.allclose(q.state.dm, np.diag([1.0, 0.0]))  # unchanged


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (np.zeros(2), "reference: ket norm = 0.0, must be 1"),
        (np.array([1.0, 1.0]), "reference: ket norm = 2.0, must be 1"),
        (np.zeros((2, 2)), "reference: density matrix must have trace 1"),
        (2 * np.eye(2), "reference: density matrix must have trace 1"),
        (np.diag([1.5, -0.5]), "reference: density matrix has a negative eigenvalue"),
        (np.array([np.nan, 1.0]), "reference: has NaN or infinite entries"),
        (np.ones((2, 2, 2)) / 4, "neither a ket nor a density matrix"),
    ],
)
def test_fidelity_refuses_a_reference_that_is_not_a_state(reference, message):
    (q,) = create_qubits(1)
    with pytest.raises(UserInputError, match=message):
        fidelity([q], reference)


def test_fidelity_of_a_given_matrix_is_checked_and_in_range():
    with pytest.raises(UserInputError, match="state: density matrix has a negative eigenvalue"):
        fidelity(np.diag([1.5, -0.5]), np.array([1.0, 0.0]))
    with pytest.raises(UserInputError, match="not a square density matrix"):
        fidelity(np.array([1.0, 0.0]), np.array([1.0, 0.0]))
    rho = werner_dm(0.8)
    assert fidelity(rho, rho) == pytest.approx(1.0, abs=1e-9)
    assert 0.0 <= fidelity(rho, bell_dm(1)) <= 1.0


def test_channel_arguments_are_strict_numbers():
    (q,) = create_qubits(1)
    with pytest.raises(UserInputError, match="p = True: a boolean is not a number"):
        depolarise(q, True)
    with pytest.raises(UserInputError, match="t1_ns = 'abc': a string is not a number"):
        t1t2_noise(q, 10.0, t1_ns="abc", t2_ns=1.0)
    with pytest.raises(UserInputError, match="elapsed_ns = nan: NaN is not a number"):
        t1t2_noise(q, float("nan"), t1_ns=1.0, t2_ns=1.0)
    t1t2_noise(q, 10.0, t1_ns=float("inf"), t2_ns=float("inf"))  # inf: no decay, allowed
    with pytest.raises(UserInputError, match="fidelity = nan"):
        werner_dm(float("nan"))
