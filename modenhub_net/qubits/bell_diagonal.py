"""Bell-diagonal pairs: two qubits kept as four Bell coefficients until a general operation.

A heralded pair whose state is diagonal in the Bell basis, ``rho = sum_i c_i |B_i><B_i|``
(Phi+, Phi-, Psi+, Psi-, the order of :data:`modenhub_net.qubits.BELL_LABELS`), stays so
under Pauli gates and Pauli channels on either qubit -- memory dephasing with T1 = inf,
depolarising, the depolarising error of a one-qubit gate -- which act on the four
coefficients in O(1) (:class:`modenhub_net.qubits.state.BellDiagonalState`; Bennett,
DiVincenzo, Smolin & Wootters, PRA 54, 3824 (1996); the Bell-diagonal formalism of
SeQUeNCe, Wu et al., Quantum Sci. Technol. 6, 045027 (2021)). Every other operation
materialises the exact 4x4 density matrix first, so a protocol cannot tell the two
representations apart except by speed (``tests/perf_physics/`` checks the lazy path against
the density-matrix path to 1e-12).

Example: a Werner pair, dephased on one side, corrected with X, read.

>>> import math
>>> from modenhub_net.qubits import X, dephase, operate
>>> a, b = create_bell_diagonal_pair([0.1, 0.1, 0.7, 0.1])  # Psi+ heralded, F(Psi+) = 0.7
>>> operate([b], X)  # Pauli frame: Psi+ -> Phi+
>>> dephase(a, 0.1)
>>> round(bell_fidelity(a, b), 12)  # 0.9 * 0.7 + 0.1 * 0.1
0.64
>>> is_bell_diagonal(a)
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from modenhub_net.errors import UserInputError
from modenhub_net.qubits.state import (
    BellDiagonalState,
    Qubit,
    _alive,
    bell_diagonal_matrix,
    reduced_dm,
)

__all__ = [
    "BELL_DIAGONAL_TOLERANCE",
    "bell_coefficients",
    "bell_diagonal_matrix",
    "bell_fidelity",
    "create_bell_diagonal_pair",
    "is_bell_diagonal",
    "trusted_bell_diagonal_pair",
]

#: largest entry of ``rho - sum_i c_i |B_i><B_i|`` (absolute) for which a 4x4 state counts
#: as Bell-diagonal in :func:`bell_coefficients`
BELL_DIAGONAL_TOLERANCE = 1e-12

_R = 1.0 / np.sqrt(2.0)
#: rows: the Bell kets Phi+, Phi-, Psi+, Psi- in the computational basis
_BELL_KETS = np.array([[_R, 0, 0, _R], [_R, 0, 0, -_R], [0, _R, _R, 0], [0, _R, -_R, 0]])


def bell_coefficients(dm: np.ndarray, *, atol: float = BELL_DIAGONAL_TOLERANCE) -> tuple[float, ...] | None:
    """The Bell coefficients ``c_i = <B_i|rho|B_i>`` of a 4x4 density matrix, if it is Bell-diagonal.

    Parameters
    ----------
    dm : numpy.ndarray
        A 4x4 density matrix (not checked here).
    atol : float
        Largest absolute entry allowed in ``rho - sum_i c_i |B_i><B_i|``; default
        :data:`BELL_DIAGONAL_TOLERANCE`.

    Returns
    -------
    tuple of 4 floats, or None
        ``(c_Phi+, c_Phi-, c_Psi+, c_Psi-)``; None if the state has coherences between Bell
        states (or imaginary parts) above ``atol``.
    """
    rho = np.asarray(dm, dtype=np.complex128)
    if rho.shape != (4, 4):
        raise UserInputError(f"dm: shape {rho.shape} is not a two-qubit density matrix (4, 4)")
    coefficients = np.einsum("ij,jk,ik->i", _BELL_KETS, rho, _BELL_KETS).real
    residual = rho - bell_diagonal_matrix(coefficients)
    if float(np.abs(residual).max()) > atol:
        return None
    return tuple(float(c) for c in coefficients)


def create_bell_diagonal_pair(
    coefficients: Sequence[float], *, names: Sequence[str] | None = None
) -> tuple[Qubit, Qubit]:
    """Two new qubits in the Bell-diagonal state with ``coefficients`` (kept lazily).

    Parameters
    ----------
    coefficients : sequence of 4 floats
        ``(c_Phi+, c_Phi-, c_Psi+, c_Psi-)``, each >= 0, summing to 1 (within 1e-9); e.g.
        from :func:`bell_coefficients` of a checked state.
    names : sequence of 2 str, optional
        The qubits' names (default ``q0``, ``q1``).
    """
    c = [float(x) for x in coefficients]
    if len(c) != 4 or min(c) < -1e-12 or abs(sum(c) - 1.0) > 1e-9:
        raise UserInputError(
            f"coefficients = {list(coefficients)!r}: need 4 Bell weights >= 0 summing to 1"
        )
    a, b = (Qubit(names[0]), Qubit(names[1])) if names else (Qubit("q0"), Qubit("q1"))
    a.state = b.state = BellDiagonalState(c, [a, b])
    return a, b


def trusted_bell_diagonal_pair(coefficients: list[float]) -> tuple[Qubit, Qubit]:
    """Two new qubits ``q0``, ``q1`` in the Bell-diagonal state with ``coefficients``, unchecked.

    The trusted counterpart of :func:`create_bell_diagonal_pair`, for hot paths that make
    many pairs from coefficients checked once (e.g. by :func:`bell_coefficients` of a state
    that :func:`modenhub_net.qubits.assign_state` accepted). *Trusted* means that nothing
    is validated: the caller guarantees four floats ``(c_Phi+, c_Phi-, c_Psi+, c_Psi-)``,
    each >= 0, summing to 1. Wrong coefficients are not detected and give an unphysical
    state (wrong fidelities, probabilities outside [0, 1]) instead of an error.

    Parameters
    ----------
    coefficients : list of 4 floats
        The Bell coefficients; copied, so the caller may reuse the list for further pairs.

    Returns
    -------
    tuple of 2 Qubit
        The pair, kept lazily as a :class:`~modenhub_net.qubits.BellDiagonalState`.

    Examples
    --------
    >>> a, b = trusted_bell_diagonal_pair([0.9, 0.0, 0.1, 0.0])
    >>> bell_fidelity(a, b)
    0.9
    """
    a, b = Qubit("q0"), Qubit("q1")
    a.state = b.state = BellDiagonalState(coefficients[:], [a, b])
    return a, b


def is_bell_diagonal(qubit: Qubit) -> bool:
    """Whether ``qubit`` is (still) in a lazily kept Bell-diagonal pair."""
    return qubit.state.__class__ is BellDiagonalState


def bell_fidelity(q1: Qubit, q2: Qubit, index: int = 0) -> float:
    """Fidelity ``<B_index|rho|B_index>`` of the actual state of ``(q1, q2)`` with a Bell state.

    O(1) for a Bell-diagonal pair (its coefficient; the state is not materialised), else
    from the reduced density matrix of the two qubits.
    """
    if index not in (0, 1, 2, 3):
        raise UserInputError(f"index = {index!r} must be 0..3 (Phi+, Phi-, Psi+, Psi-)")
    state = _alive(q1)
    if state.__class__ is BellDiagonalState and q2.state is state and q1 is not q2:
        value = state.coefficients[index]
    else:
        ket = _BELL_KETS[index]
        value = float((ket @ reduced_dm([q1, q2]) @ ket).real)
    return 0.0 if value < 0.0 else (1.0 if value > 1.0 else value)
