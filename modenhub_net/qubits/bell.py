"""Bell and Werner states, and the Pauli corrections of teleportation and swapping."""

from __future__ import annotations

import math

import numpy as np

from modenhub_net.config.base import check_number
from modenhub_net.qubits.operators import X, Z
from modenhub_net.qubits.state import Qubit, assign_state, assign_trusted_state, create_qubits

__all__ = [
    "BELL_LABELS",
    "bell_state",
    "bell_dm",
    "werner_dm",
    "create_bell_pair",
    "create_werner_pair",
    "bell_correction",
]

#: Bell-state labels by index: |Phi+-> = (|00> +- |11>)/sqrt2, |Psi+-> = (|01> +- |10>)/sqrt2.
BELL_LABELS = ("Phi+", "Phi-", "Psi+", "Psi-")

_R = 1 / math.sqrt(2)
_BELL_KETS = np.array(
    [[_R, 0, 0, _R], [_R, 0, 0, -_R], [0, _R, _R, 0], [0, _R, -_R, 0]], dtype=np.complex128
)
_BELL_KETS.setflags(write=False)
_BELL_DMS = np.array([np.outer(k, k.conj()) for k in _BELL_KETS])
_BELL_DMS.setflags(write=False)


def _index(index: int | str) -> int:
    if isinstance(index, str):
        if index not in BELL_LABELS:
            raise ValueError(f"bell state {index!r} unknown (allowed: {', '.join(BELL_LABELS)})")
        return BELL_LABELS.index(index)
    if index not in (0, 1, 2, 3):
        raise ValueError(f"bell index = {index!r} must be 0..3 ({', '.join(BELL_LABELS)})")
    return int(index)


def bell_state(index: int | str = 0) -> np.ndarray:
    """Ket of Bell state ``index`` (0..3 or a label of :data:`BELL_LABELS`); a copy."""
    return _BELL_KETS[_index(index)].copy()


def bell_dm(index: int | str = 0) -> np.ndarray:
    """Density matrix of Bell state ``index``; a copy."""
    return _BELL_DMS[_index(index)].copy()


def werner_dm(fidelity: float, *, bell_index: int | str = 0) -> np.ndarray:
    """Werner state ``F |B><B| + (1-F)/3 (I - |B><B|)`` of fidelity ``F`` in [0, 1]."""
    check_number("fidelity", fidelity, low=0.0, high=1.0)
    bell = _BELL_DMS[_index(bell_index)]
    return fidelity * bell + (1 - fidelity) / 3 * (np.eye(4) - bell)


def create_bell_pair(index: int | str = 0, *, names=None) -> tuple[Qubit, Qubit]:
    """Two new qubits in Bell state ``index``."""
    pair = [Qubit(names[0]), Qubit(names[1])] if names else [Qubit("q0"), Qubit("q1")]
    assign_trusted_state(pair, _BELL_DMS[_index(index)].copy())
    return pair[0], pair[1]


def create_werner_pair(fidelity: float, *, bell_index: int | str = 0, names=None) -> tuple[Qubit, Qubit]:
    """Two new qubits in the Werner state of fidelity ``fidelity`` to Bell state ``bell_index``."""
    pair = create_qubits(2, names=names)
    assign_state(pair, werner_dm(fidelity, bell_index=bell_index))
    return pair[0], pair[1]


_CORRECTIONS = ((), (Z,), (X,), (X, Z))


def bell_correction(outcome: int) -> list[np.ndarray]:
    """Gates (in order) that the far qubit needs after a Bell measurement with ``outcome``.

    For teleportation through ``|Phi+>`` and for swapping two ``|Phi+>`` pairs:
    ``|psi>|Phi+> = 1/2 sum_b |B_b> (x) sigma_b |psi>`` with ``sigma = I, Z, X, XZ`` for
    Phi+, Phi-, Psi+, Psi- (Bennett et al., PRL 70, 1895 (1993)), so the correction is
    ``[]``, ``[Z]``, ``[X]``, ``[X, Z]`` (X first, then Z), up to a global phase.
    """
    return list(_CORRECTIONS[_index(outcome)])
