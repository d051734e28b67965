"""Bad arguments give clear errors naming the parameter, value and allowed range."""

import numpy as np
import pytest

from modenhub_net.errors import UserInputError
from modenhub_net.qubits import (
    CNOT,
    apply_kraus,
    assign_state,
    create_qubits,
    depolarise,
    discard,
    measure,
    operate,
    pauli_channel,
    werner_dm,
)


def test_probability_outside_unit_interval():
    (q,) = create_qubits(1)
    with pytest.raises(UserInputError, match=r"p = 1.5 is outside the allowed range \[0.0, 1.0\]"):
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
