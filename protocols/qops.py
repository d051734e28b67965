"""The few state operations the protocols need, on :mod:`modenhub_net.qubits`.

A thin adapter: protocols read as physics and a change of the formalism's API touches one
file. Gates with their errors and durations, measurements with their readout errors, and
memory noise are *not* here: they belong to the devices (:class:`hardware_models.QPU`,
:class:`hardware_models.QuantumMemory`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from modenhub_net import qubits as qb
from modenhub_net.qubits import assign_trusted_state, trusted_bell_diagonal_pair

__all__ = [
    "PHI_PLUS_KET",
    "apply_gate",
    "checked_state",
    "discard",
    "lose",
    "make_mixed",
    "make_pair",
    "pair_fidelity",
    "pair_maker",
    "pauli_frame_gates",
    "prepare",
    "qb_module",
    "random_qubit_ket",
    "state_fidelity",
]

PHI_PLUS_KET = np.array([1, 0, 0, 1], dtype=complex) / np.sqrt(2)
#: Bell index (0..3: Phi+, Phi-, Psi+, Psi-) -> Pauli on the second qubit mapping it to Phi+
_FRAME = ((), (qb.Z,), (qb.X,), (qb.Y,))
qb_module = qb


def make_pair(dm: np.ndarray, *, trusted: bool = False) -> tuple[Any, Any]:
    """Two fresh qubits in the 4x4 state ``dm``.

    ``trusted=True`` skips the density-matrix checks of :func:`modenhub_net.qubits.assign_state`
    (:func:`modenhub_net.qubits.assign_trusted_state`, for a state already checked by
    :func:`checked_state`); the qubits get their own copy.
    """
    q = qb.create_qubits(2)
    if trusted:
        assign_trusted_state(q, dm.copy())
    else:
        qb.assign_state(q, dm)
    return q[0], q[1]


def pair_maker(dm: np.ndarray) -> Callable[[], tuple[Any, Any]]:
    """A function that makes fresh pairs in the checked 4x4 state ``dm`` (from
    :func:`checked_state`), each call a new pair.

    A Bell-diagonal ``dm`` (:func:`modenhub_net.qubits.bell_coefficients`, within 1e-12) gives
    pairs kept as their four Bell coefficients until a general operation needs the matrix
    (:class:`modenhub_net.qubits.BellDiagonalState`): Pauli corrections, memory dephasing and
    depolarising, fidelity and discarding then cost O(1). Any other state gives
    density-matrix pairs (:func:`make_pair` with ``trusted=True``).
    """
    coefficients = qb.bell_coefficients(dm)
    if coefficients is not None:
        c = list(coefficients)
        return lambda: trusted_bell_diagonal_pair(c)
    return lambda: make_pair(dm, trusted=True)


def checked_state(dm: np.ndarray) -> np.ndarray:
    """``dm`` after the checks of :func:`modenhub_net.qubits.assign_state` (a valid 4x4
    density matrix), as a complex array usable with ``make_pair(..., trusted=True)``."""
    return qb.assign_state(qb.create_qubits(2), dm).dm


def prepare(ket: np.ndarray) -> Any:
    """One fresh qubit in the pure state ``ket``."""
    (q,) = qb.create_qubits(1)
    qb.assign_state([q], ket)
    return q


def make_mixed() -> Any:
    """One fresh qubit in the maximally mixed state I/2."""
    (q,) = qb.create_qubits(1)
    qb.assign_state([q], np.eye(2, dtype=complex) / 2)
    return q


def apply_gate(gate: Any, targets: Sequence[Any]) -> None:
    """Apply an ideal gate (a frame change of a freshly built state, not a device operation)."""
    qb.operate(list(targets), gate)


def pauli_frame_gates(bell_index: int) -> tuple[np.ndarray, ...]:
    """The Pauli gate(s) on the second qubit that map Bell state ``bell_index`` to Phi+."""
    return _FRAME[bell_index]


def pair_fidelity(q1: Any, q2: Any) -> float:
    """Fidelity of the actual state of ``(q1, q2)`` with Phi+ (O(1) for a Bell-diagonal pair,
    :func:`modenhub_net.qubits.bell_fidelity`)."""
    return qb.bell_fidelity(q1, q2, 0)


def state_fidelity(qubits: Sequence[Any], ket: np.ndarray) -> float:
    """Fidelity of the actual state of ``qubits`` with the pure state ``ket``."""
    return float(qb.fidelity(list(qubits), ket))


def random_qubit_ket(rng: np.random.Generator) -> np.ndarray:
    """A Haar-random single-qubit pure state (normalised complex Gaussian vector)."""
    v = rng.normal(size=2) + 1j * rng.normal(size=2)
    return v / np.linalg.norm(v)


def discard(qubit: Any) -> None:
    """Remove a qubit from its state (partners traced out)."""
    qb.discard(qubit)


def lose(qubit: Any) -> None:
    """A photon is lost (partners traced out)."""
    qb.lose(qubit)
