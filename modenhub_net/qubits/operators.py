"""Gate matrices (complex128, read-only) and small operator helpers.

Big-endian convention throughout the package: for a list of qubits ``[q0, q1, ...]`` the
first qubit is the most significant index, as in QuTiP's ``tensor`` order.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["I", "X", "Y", "Z", "H", "S", "T", "CNOT", "CZ", "SWAP", "superoperator"]


def _frozen(matrix) -> np.ndarray:
    array = np.array(matrix, dtype=np.complex128)
    array.setflags(write=False)
    return array


I = _frozen(np.eye(2))
X = _frozen([[0, 1], [1, 0]])
Y = _frozen([[0, -1j], [1j, 0]])
Z = _frozen([[1, 0], [0, -1]])
H = _frozen(np.array([[1, 1], [1, -1]]) / math.sqrt(2))
S = _frozen([[1, 0], [0, 1j]])
T = _frozen([[1, 0], [0, np.exp(1j * math.pi / 4)]])
CNOT = _frozen([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])
CZ = _frozen(np.diag([1, 1, 1, -1]))
SWAP = _frozen([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]])


def _register_trusted() -> None:
    from modenhub_net.qubits.state import _trust_gate

    for gate in (H, S, T):
        _trust_gate(gate)
    for gate, flip in ((I, 0), (Z, 1), (X, 2), (Y, 3)):  # Bell index i = 2 x + z
        _trust_gate(gate, pauli_flip=flip)


def superoperator(kraus_ops) -> np.ndarray:
    """Row-major Liouville matrix ``sum_K K (x) conj(K)`` of a single-qubit map.

    ``vec(K rho K^dagger) = (K (x) conj(K)) vec(rho)`` with ``vec`` stacking rows, i.e. the
    entries ordered (rho00, rho01, rho10, rho11).
    """
    total = np.zeros((4, 4), dtype=np.complex128)
    for op in kraus_ops:
        op = np.asarray(op, dtype=np.complex128)
        total += np.kron(op, op.conj())
    return total
