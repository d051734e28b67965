"""Fidelity of simulated states to pure or mixed references."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from modenhub_net.errors import UserInputError
from modenhub_net.qubits.state import (
    STATE_TOLERANCE,
    BellDiagonalState,
    Qubit,
    _numeric_array,
    check_density_matrix,
    reduced_dm,
)

__all__ = ["fidelity"]


_RELATIVE_EIGEN_FLOOR = 1e-12


def _clean(values: np.ndarray) -> np.ndarray:
    """Zero eigenvalues below 1e-12 of the largest: rounding noise of a rank-deficient PSD
    matrix (~1e-17) would otherwise enter through its square root as ~1e-9."""
    floor = _RELATIVE_EIGEN_FLOOR * max(float(values.max()), 0.0)
    return np.where(values > floor, values, 0.0)


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(_clean(values))) @ vectors.conj().T


def fidelity(qubits: Sequence[Qubit] | np.ndarray, reference: np.ndarray) -> float:
    """Fidelity of a state to a reference (squared convention, in [0, 1]).

    Parameters
    ----------
    qubits : sequence of Qubit or numpy.ndarray
        The qubits whose reduced density matrix is compared (in this order), or a density
        matrix directly (checked: Hermitian, trace 1, positive semidefinite).
    reference : numpy.ndarray
        A ket: ``F = <psi|rho|psi>``; or a density matrix: Uhlmann–Jozsa fidelity
        ``F = (tr sqrt(sqrt(rho) sigma sqrt(rho)))^2`` (Jozsa, J. Mod. Opt. 41, 2315 (1994)).
        QuTiP's ``fidelity`` returns the square root of this value. The reference must be a
        state: a ket of norm 1 or a density matrix (a zero or unnormalised reference has no
        fidelity and is refused, it does not give 0 or 1).

    Returns
    -------
    float
        In [0, 1] (rounding of order 1e-15 outside is clipped).

    Raises
    ------
    UserInputError
        If the reference or the given density matrix is not a state, or the shapes differ.
    """
    if isinstance(qubits, np.ndarray):
        rho = _numeric_array(qubits, name="state")
        if rho.ndim != 2 or rho.shape[0] != rho.shape[1] or rho.shape[0] == 0:
            raise UserInputError(f"state: shape {rho.shape} is not a square density matrix")
        check_density_matrix(rho, name="state")
    else:
        qubits = list(qubits)
        if not qubits:
            raise UserInputError("qubits: need at least one qubit")
        state = qubits[0].state
        # fast path: the qubits are exactly one state's qubits, in order (no copy needed);
        # a Bell-diagonal state is read without being materialised
        if state is not None and state.qubits == qubits:
            rho = state.dense() if state.__class__ is BellDiagonalState else state.dm
        else:
            rho = reduced_dm(qubits)
    ref = _numeric_array(reference, name="reference")
    if ref.ndim not in (1, 2):
        raise UserInputError(f"reference: shape {ref.shape} is neither a ket nor a density matrix")
    if ref.ndim == 1:
        if ref.shape[0] != rho.shape[0]:
            raise UserInputError(f"reference ket has dimension {ref.shape[0]}, state {rho.shape[0]}")
        norm = float(np.vdot(ref, ref).real)
        if not abs(norm - 1.0) <= STATE_TOLERANCE:
            raise UserInputError(f"reference: ket norm = {norm!r}, must be 1")
        value = float((ref.conj() @ rho @ ref).real)
        return 0.0 if value < 0.0 else (1.0 if value > 1.0 else value)
    if ref.shape != rho.shape:
        raise UserInputError(f"reference shape {ref.shape} does not match state shape {rho.shape}")
    check_density_matrix(ref, name="reference")
    root = _sqrt_psd(ref)
    values = np.linalg.eigvalsh(root @ rho @ root)
    return float(np.clip(np.sqrt(_clean(values)).sum() ** 2, 0.0, 1.0))
