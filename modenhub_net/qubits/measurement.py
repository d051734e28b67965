"""Projective measurements in the Z, X, Y and Bell bases, sampled from a caller's stream."""

from __future__ import annotations

import math

import numpy as np

from modenhub_net.errors import UserInputError
from modenhub_net.qubits.bell import _BELL_KETS
from modenhub_net.qubits.state import QState, Qubit, _alive, _check_distinct, _merge

__all__ = ["measure", "bell_measure", "bell_outcome_probabilities"]

_R = 1 / math.sqrt(2)


def _projector_weights(kets: np.ndarray) -> np.ndarray:
    """``W[b, (i, j)] = conj(k_b[i]) k_b[j]`` for a set of measurement kets."""
    return (kets.conj()[:, :, None] * kets[:, None, :]).reshape(kets.shape[0], -1)


#: eigenkets (outcome 0 = +1 eigenvalue, outcome 1 = -1) of each basis
_BASIS_KETS = {
    "Z": np.array([[1, 0], [0, 1]], dtype=np.complex128),
    "X": np.array([[_R, _R], [_R, -_R]], dtype=np.complex128),
    "Y": np.array([[_R, 1j * _R], [_R, -1j * _R]], dtype=np.complex128),
}
_BASIS_WEIGHTS = {basis: _projector_weights(kets) for basis, kets in _BASIS_KETS.items()}
_BELL_WEIGHTS = _projector_weights(_BELL_KETS)


def _collapse_rest(state: QState, positions: list[int], kets: np.ndarray, weights: np.ndarray):
    """Unnormalised states of the other qubits for each projector ``|k><k|`` on ``positions``.

    Returns ``(probabilities, rest_dms)`` with ``rest[m] = <k_m| rho |k_m>`` (partial inner
    product on the measured axes), so ``probabilities[m] = tr rest[m]``.
    """
    n = len(state.qubits)
    m = len(positions)
    dim_m, dim_rest = 1 << m, 1 << (n - m)
    first = positions[0]
    if positions == list(range(first, first + m)):  # contiguous: one reshape, one transpose
        before, after = 1 << first, 1 << (n - first - m)
        tensor = state.dm.reshape(before, dim_m, after, before, dim_m, after)
        stacked = tensor.transpose(1, 4, 0, 2, 3, 5)
    else:
        others = [i for i in range(n) if i not in positions]
        axes = list(positions) + [n + i for i in positions] + others + [n + i for i in others]
        stacked = state.dm.reshape((2,) * (2 * n)).transpose(axes)
    # rest[b] = sum_ij conj(k_b[i]) k_b[j] rho[i, :, j, :]
    stacked = stacked.reshape(dim_m * dim_m, dim_rest * dim_rest)
    rest = (weights @ stacked).reshape(len(kets), dim_rest, dim_rest)
    probabilities = rest.trace(axis1=1, axis2=2).real
    return probabilities, rest


def _sample(probabilities: np.ndarray, rng: np.random.Generator) -> int:
    """Index drawn with the given (unnormalised, possibly rounding-negative) weights."""
    values = [value if value > 0.0 else 0.0 for value in probabilities.tolist()]
    draw = rng.random() * sum(values)
    cumulative = 0.0
    for index, value in enumerate(values):
        cumulative += value
        if draw < cumulative:
            return index
    return max(i for i, v in enumerate(values) if v > 0.0)


def _finish(state: QState, measured: list[Qubit], rest: np.ndarray, probability: float) -> None:
    for qubit in measured:
        state.qubits.remove(qubit)
        qubit.state = None
    if state.qubits:
        state.dm = rest / probability


def measure(qubit: Qubit, rng: np.random.Generator, *, basis: str = "Z", discard: bool = False) -> int:
    """Projective measurement of one qubit.

    Parameters
    ----------
    qubit : Qubit
    rng : numpy.random.Generator
        The caller's random stream (e.g. ``component.rng``).
    basis : {"Z", "X", "Y"}
    discard : bool, optional
        Discard the qubit after measuring (default: keep it in its post-measurement state).

    Returns
    -------
    int
        0 for the +1 eigenvalue, 1 for -1. The other qubits collapse accordingly.
    """
    kets = _BASIS_KETS.get(basis)
    if kets is None:
        raise UserInputError(f"basis = {basis!r} unknown (allowed: Z, X, Y)")
    state = _alive(qubit)
    if len(state.qubits) == 1:
        probabilities = (_BASIS_WEIGHTS[basis] @ state.dm.reshape(4)).real
        outcome = _sample(probabilities, rng)
    else:
        probabilities, rest = _collapse_rest(state, [state.qubits.index(qubit)], kets, _BASIS_WEIGHTS[basis])
        outcome = _sample(probabilities, rng)
        _finish(state, [qubit], rest[outcome], probabilities[outcome])
    if discard:
        qubit.state = None
    else:
        ket = kets[outcome]
        qubit.state = QState(np.outer(ket, ket.conj()), [qubit])
    return outcome


def bell_outcome_probabilities(q1: Qubit, q2: Qubit) -> np.ndarray:
    """Probabilities of the four Bell outcomes (Phi+, Phi-, Psi+, Psi-); no state changes."""
    _check_distinct([q1, q2])
    s1, s2 = _alive(q1), _alive(q2)
    if s1 is s2:
        positions = [s1.qubits.index(q1), s1.qubits.index(q2)]
        probabilities, _ = _collapse_rest(s1, positions, _BELL_KETS, _BELL_WEIGHTS)
        return probabilities
    from modenhub_net.qubits.state import reduced_dm

    dm = reduced_dm([q1, q2])
    return np.einsum("bi,ij,bj->b", _BELL_KETS.conj(), dm, _BELL_KETS).real.clip(min=0.0)


def bell_measure(q1: Qubit, q2: Qubit, rng: np.random.Generator) -> int:
    """Bell-state measurement of ``q1`` and ``q2`` (both consumed).

    Returns
    -------
    int
        Index into :data:`~modenhub_net.qubits.BELL_LABELS`; the remaining qubits of the
        merged state collapse to ``<B|rho|B> / p``.
    """
    _check_distinct([q1, q2])
    state = _merge([q1, q2])
    positions = [state.qubits.index(q1), state.qubits.index(q2)]
    probabilities, rest = _collapse_rest(state, positions, _BELL_KETS, _BELL_WEIGHTS)
    outcome = _sample(probabilities, rng)
    _finish(state, [q1, q2], rest[outcome], probabilities[outcome])
    return outcome
