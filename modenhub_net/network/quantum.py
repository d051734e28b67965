"""The few state operations the hub protocols need, on :mod:`modenhub_net.qubits`.

A thin adapter: every call the hub protocols make into the qubit formalism goes through
here, so the protocols read as physics and a change of the formalism's API touches one file.
Noise conventions (documented approximations):

- a two-qubit gate (local CNOT, the gates of a local Bell measurement) is followed by a
  single-qubit depolarising channel of probability ``gate_error_2q`` on each of its qubits;
- a single-qubit gate (Pauli correction) is followed by depolarising ``gate_error_1q``;
- a measurement outcome is flipped with probability ``measurement_error`` (a Bell
  measurement has two classical bits, each flipped independently).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

try:
    from modenhub_net import qubits as qb
except ImportError:  # adapter: the shared formalism has not landed; same API, own backend
    from modenhub_net.network import _dm_backend as qb

__all__ = [
    "make_pair",
    "apply_pauli_frame",
    "apply_gate",
    "noisy_bell_measure",
    "noisy_measure",
    "pair_fidelity",
    "state_fidelity",
    "random_qubit_ket",
    "prepare",
    "PHI_PLUS_KET",
    "PAULI",
    "PHI_PLUS_DM",
    "make_mixed",
    "apply_correction",
    "discard",
]

PHI_PLUS_KET = np.array([1, 0, 0, 1], dtype=complex) / np.sqrt(2)
#: Bell index (0..3: Phi+, Phi-, Psi+, Psi-) -> Pauli on the second qubit mapping Phi+ to it
PAULI = ("I", "Z", "X", "Y")
_GATES = {"X": qb.X, "Y": qb.Y, "Z": qb.Z}


def make_pair(dm: np.ndarray) -> tuple[Any, Any]:
    """Two fresh qubits in the 4x4 state ``dm``."""
    q = qb.create_qubits(2)
    qb.assign_state(q, dm)
    return q[0], q[1]


def prepare(ket: np.ndarray) -> Any:
    """One fresh qubit in the pure state ``ket``."""
    (q,) = qb.create_qubits(1)
    qb.assign_state([q], ket)
    return q


def apply_gate(gate: Any, targets: Sequence[Any], *, error: float = 0.0) -> None:
    """Apply a gate, then depolarise each target with probability ``error``."""
    qb.operate(list(targets), gate)
    if error > 0.0:
        for q in targets:
            qb.depolarise(q, error)


def apply_pauli_frame(qubit: Any, bell_index: int, *, error: float = 0.0) -> None:
    """Apply the Pauli that maps Bell state ``bell_index`` back to Phi+ (on one half)."""
    name = PAULI[bell_index]
    if name == "I":
        return
    apply_gate(_GATES[name], [qubit], error=error)


def apply_correction(qubit: Any, outcome: int, *, error: float = 0.0) -> None:
    """Apply :func:`modenhub_net.qubits.bell_correction` of a Bell outcome to ``qubit``."""
    for gate in qb.bell_correction(outcome):
        apply_gate(gate, [qubit], error=error)


def noisy_bell_measure(
    q1: Any, q2: Any, rng: np.random.Generator, *, gate_error: float = 0.0,
    measurement_error: float = 0.0,
) -> int:
    """Local Bell measurement (0..3) with gate noise before and read-out flips after.

    Both qubits are consumed (removed from their state).
    """
    if gate_error > 0.0:
        qb.depolarise(q1, gate_error)
        qb.depolarise(q2, gate_error)
    outcome = int(qb.bell_measure(q1, q2, rng))
    if measurement_error > 0.0:
        flips = rng.random(2) < measurement_error
        outcome ^= (2 if flips[0] else 0) | (1 if flips[1] else 0)
    return outcome


def noisy_measure(
    qubit: Any, rng: np.random.Generator, *, basis: str = "Z", measurement_error: float = 0.0
) -> int:
    """Measure and discard ``qubit`` in ``basis``; the outcome is flipped with the read-out error."""
    outcome = int(qb.measure(qubit, rng, basis=basis, discard=True))
    if measurement_error > 0.0 and rng.random() < measurement_error:
        outcome ^= 1
    return outcome


def pair_fidelity(q1: Any, q2: Any) -> float:
    """Fidelity of the actual state of ``(q1, q2)`` with Phi+."""
    return float(qb.fidelity([q1, q2], PHI_PLUS_KET))


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


PHI_PLUS_DM = np.outer(PHI_PLUS_KET, PHI_PLUS_KET.conj())


def make_mixed() -> Any:
    """One fresh qubit in the maximally mixed state I/2."""
    (q,) = qb.create_qubits(1)
    qb.assign_state([q], np.eye(2, dtype=complex) / 2)
    return q


qb_module = qb
