"""Qubits sharing density-matrix states, and the contractions that act on them.

A :class:`QState` holds the density matrix of the qubits that are correlated; a
:class:`Qubit` points at the state it belongs to. States merge (Kronecker product) only when
an operation spans qubits of different states, and shrink by partial trace when a qubit is
measured, discarded or lost, so a state never holds more qubits than are correlated.

Operators act by contraction on the target axes: a single-qubit map is applied to the four
2x2 blocks of the target axis through its 4x4 Liouville matrix, a k-qubit operator by
``tensordot`` on the k target row axes. No 2^n x 2^n operator is ever built.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from modenhub_net.errors import UserInputError

__all__ = [
    "BellDiagonalState", "Qubit", "QState", "apply_kraus", "apply_pauli_channel", "assign_state",
    "assign_trusted_state", "bell_diagonal_matrix", "bell_pauli_channel", "create_qubits", "operate",
    "reduced_dm", "trace_out",
]

_TOL = 1e-9


class QState:
    """The joint density matrix of a group of correlated qubits.

    Attributes
    ----------
    dm : numpy.ndarray
        Complex density matrix of shape ``(2**n, 2**n)``, big-endian in :attr:`qubits`.
    qubits : list of Qubit
        The qubits described, in axis order.
    """

    __slots__ = ("dm", "qubits")

    def __init__(self, dm: np.ndarray, qubits: list[Qubit]) -> None:
        self.dm = dm
        self.qubits = qubits

    @property
    def num_qubits(self) -> int:
        return len(self.qubits)

    def __repr__(self) -> str:
        return f"QState({[q.name for q in self.qubits]})"


#: the storage of :attr:`QState.dm` (a slot); :class:`BellDiagonalState` keeps its Bell
#: coefficients there until it is materialised
_DM_SLOT = QState.__dict__["dm"]


def bell_diagonal_matrix(coefficients: Sequence[float]) -> np.ndarray:
    """The 4x4 density matrix ``sum_i c_i |B_i><B_i|`` of Bell coefficients ``c``.

    Bell basis in the order of :data:`modenhub_net.qubits.BELL_LABELS` (Phi+, Phi-, Psi+,
    Psi-; ``|Phi+-> = (|00> +- |11>)/sqrt2``, ``|Psi+-> = (|01> +- |10>)/sqrt2``), so
    ``rho_00,00 = rho_11,11 = (c0 + c1)/2``, ``rho_00,11 = (c0 - c1)/2``,
    ``rho_01,01 = rho_10,10 = (c2 + c3)/2``, ``rho_01,10 = (c2 - c3)/2``.
    """
    c0, c1, c2, c3 = coefficients
    s01, d01, s23, d23 = (c0 + c1) / 2, (c0 - c1) / 2, (c2 + c3) / 2, (c2 - c3) / 2
    return np.array(
        [[s01, 0, 0, d01], [0, s23, d23, 0], [0, d23, s23, 0], [d01, 0, 0, s01]],
        dtype=np.complex128,
    )


class BellDiagonalState(QState):
    """A two-qubit state diagonal in the Bell basis, kept as its four Bell coefficients.

    ``rho = sum_i c_i |B_i><B_i|`` (:func:`bell_diagonal_matrix`). Pauli gates and Pauli
    channels on either qubit map such a state to another one: a Pauli ``P`` on either qubit
    permutes the coefficients, ``c'_i = c_(i xor p)`` with ``p`` = 0, 1, 2, 3 for I, Z, X,
    Y (Bell index ``i = 2 x + z``: ``x`` the bit flip, ``z`` the phase flip), and the Pauli
    channel ``sum_P q_P P rho P`` gives ``c'_i = sum_p q_p c_(i xor p)`` (Bennett,
    DiVincenzo, Smolin & Wootters, PRA 54, 3824 (1996), §III; the Bell-diagonal formalism of
    SeQUeNCe, Wu et al., Quantum Sci. Technol. 6, 045027 (2021)). These are applied to the
    coefficients in O(1) (:func:`apply_pauli_channel`, :func:`operate` with the ``I``, ``X``,
    ``Y``, ``Z`` constants); both qubits' marginals are ``I/2``, so discarding one leaves
    its partner in ``(c0 + c1 + c2 + c3) I/2``.

    Any other use of the state -- reading :attr:`dm`, a gate other than a Pauli constant, a
    non-Pauli channel (e.g. amplitude damping, T1 < inf), a measurement, a merge with
    another state -- first *materialises* it: the 4x4 matrix is built exactly and the object
    becomes a plain :class:`QState` (its class is switched in place; the two classes share
    one layout), so every later operation is the density-matrix one. The Bell basis is
    symmetric under exchange of the two qubits, so the order of :attr:`qubits` does not
    enter the coefficients.
    """

    __slots__ = ()

    def __init__(self, coefficients: list[float], qubits: list[Qubit]) -> None:
        _DM_SLOT.__set__(self, coefficients)
        self.qubits = qubits

    @property
    def coefficients(self) -> list[float]:
        """The Bell coefficients ``[c_Phi+, c_Phi-, c_Psi+, c_Psi-]`` (the live list)."""
        return _DM_SLOT.__get__(self)

    def dense(self) -> np.ndarray:
        """The 4x4 density matrix, without materialising the state (a new array)."""
        return bell_diagonal_matrix(_DM_SLOT.__get__(self))

    @property
    def dm(self) -> np.ndarray:  # type: ignore[override]
        """Materialise: build the density matrix and become a plain :class:`QState`."""
        dm = bell_diagonal_matrix(_DM_SLOT.__get__(self))
        _DM_SLOT.__set__(self, dm)
        self.__class__ = QState
        return dm

    @dm.setter
    def dm(self, value: np.ndarray) -> None:
        _DM_SLOT.__set__(self, value)
        self.__class__ = QState

    def __repr__(self) -> str:
        return f"BellDiagonalState({[q.name for q in self.qubits]}, {self.coefficients})"


def _bell_pauli(state: BellDiagonalState, q0: float, q1: float, q2: float, q3: float) -> None:
    """The Pauli channel with weights ``q`` of I, Z, X, Y on one qubit of ``state``."""
    c0, c1, c2, c3 = _DM_SLOT.__get__(state)
    _DM_SLOT.__set__(state, [
        q0 * c0 + q1 * c1 + q2 * c2 + q3 * c3,
        q0 * c1 + q1 * c0 + q2 * c3 + q3 * c2,
        q0 * c2 + q1 * c3 + q2 * c0 + q3 * c1,
        q0 * c3 + q1 * c2 + q2 * c1 + q3 * c0,
    ])


def apply_pauli_channel(qubit: Qubit, p_x: float, p_y: float, p_z: float) -> bool:
    """On a :class:`BellDiagonalState`, apply ``sum_P p_P P rho P`` to ``qubit``'s state in O(1).

    Returns False (and changes nothing) if ``qubit`` is not in a Bell-diagonal state: the
    caller then applies the channel's Liouville matrix. The probabilities are not checked
    here (the callers in :mod:`modenhub_net.qubits.channels` do).
    """
    state = _alive(qubit)
    if state.__class__ is not BellDiagonalState:
        return False
    _bell_pauli(state, 1.0 - p_x - p_y - p_z, p_z, p_x, p_y)
    return True


class Qubit:
    """A qubit: a name and the shared state it currently belongs to.

    Attributes
    ----------
    name : str
    state : QState or None
        ``None`` once the qubit was discarded or lost.
    is_lost : bool
        True if the qubit was lost (e.g. a photon absorbed in fibre).
    """

    __slots__ = ("name", "state", "is_lost")

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.state: QState | None = None
        self.is_lost = False

    def __repr__(self) -> str:
        status = "lost" if self.is_lost else ("discarded" if self.state is None else "alive")
        return f"Qubit({self.name!r}, {status})"


_KET0_DM = np.array([[1, 0], [0, 0]], dtype=np.complex128)


def create_qubits(n: int, *, names: Sequence[str] | None = None) -> list[Qubit]:
    """Create ``n`` qubits, each alone in ``|0><0|``.

    Parameters
    ----------
    n : int
        Number of qubits, >= 1.
    names : sequence of str, optional
        Their names (default ``q0, q1, ...``).
    """
    if n < 1:
        raise UserInputError(f"n = {n!r}: need at least one qubit")
    if names is not None and len(names) != n:
        raise UserInputError(f"names has {len(names)} entries, expected n = {n}")
    qubits = []
    for k in range(n):
        qubit = Qubit(names[k] if names is not None else f"q{k}")
        qubit.state = QState(_KET0_DM.copy(), [qubit])
        qubits.append(qubit)
    return qubits


def _alive(qubit: Qubit) -> QState:
    state = qubit.state
    if state is None:
        why = "lost" if qubit.is_lost else "discarded or measured away"
        raise UserInputError(f"qubit {qubit.name!r} is {why}; it cannot be operated on")
    return state


def _check_distinct(qubits: Sequence[Qubit]) -> None:
    if len({id(q) for q in qubits}) != len(qubits):
        raise UserInputError(f"qubits {[q.name for q in qubits]} contain a repeated qubit")


# -- contractions ---------------------------------------------------------------------------
def _kron(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Kronecker product of two square matrices (broadcasting; faster than ``np.kron``)."""
    m, n = a.shape[0], b.shape[0]
    return (a[:, None, :, None] * b[None, :, None, :]).reshape(m * n, m * n)


def _liouville_of_unitary(op: np.ndarray) -> np.ndarray:
    return (op[:, None, :, None] * op.conj()[None, :, None, :]).reshape(4, 4)


_EYE = {1 << k: np.eye(1 << k) for k in range(1, 7)}


def _is_unitary(op: np.ndarray) -> bool:
    eye = _EYE.get(op.shape[0])
    if eye is None:
        eye = np.eye(op.shape[0])
    return float(np.abs(op @ op.conj().T - eye).max()) < 1e-9

#: lifted 16x16 superoperators of single-qubit maps on one qubit of a pair, by (map bytes, k);
#: bounded (memory noise reuses a few maps: one per storage time and memory model)
_PAIR_LIFTS: dict[tuple[bytes, int], np.ndarray] = {}
_PAIR_LIFTS_MAX = 4096
_EYE2 = np.eye(2)


def _pair_lift(liouville: np.ndarray, k: int) -> np.ndarray:
    """The 16x16 row-major superoperator of ``liouville`` acting on qubit ``k`` of two.

    ``L16[(i a j b), (i' a' j' b')] = L[(i j), (i' j')] delta(a a') delta(b b')`` for ``k = 0``
    (and the mirror image for ``k = 1``): a pair's map is then one 16x16 product instead of a
    reshape-transpose round trip, the hot path of memory noise on stored Bell pairs.
    """
    key = (liouville.tobytes(), k)
    lifted = _PAIR_LIFTS.get(key)
    if lifted is None:
        l4 = liouville.reshape(2, 2, 2, 2)
        spec = "ijkl,ac,bd->iajbkcld" if k == 0 else "ijkl,ac,bd->aibjckdl"
        lifted = np.einsum(spec, l4, _EYE2, _EYE2).reshape(16, 16)
        if len(_PAIR_LIFTS) >= _PAIR_LIFTS_MAX:
            _PAIR_LIFTS.clear()
        _PAIR_LIFTS[key] = lifted
    return lifted


def _apply_superop_1q(dm: np.ndarray, n: int, k: int, liouville: np.ndarray) -> np.ndarray:
    """Apply a single-qubit map (4x4 row-major Liouville matrix) to axis ``k`` of ``dm``.

    The four 2x2 blocks ``rho[.., i, .., .., j, ..]`` of the target axis are stacked as rows
    (i, j) and mixed by the Liouville matrix in one matrix product. On a two-qubit state the
    map is lifted once to 16x16 (:func:`_pair_lift`) and applied to ``vec(rho)``.
    """
    if n == 2:
        return (_pair_lift(liouville, k) @ dm.reshape(16)).reshape(4, 4)
    a = 1 << k
    b = 1 << (n - k - 1)
    dim = dm.shape[0]
    if a == 1:  # target is the most significant axis: blocks need one transpose only
        blocks = dm.reshape(2, b, 2, b).transpose(0, 2, 1, 3).reshape(4, b * b)
        out = (liouville @ blocks).reshape(2, 2, b, b).transpose(0, 2, 1, 3)
        return out.reshape(dim, dim)
    blocks = dm.reshape(a, 2, b, a, 2, b).transpose(1, 4, 0, 2, 3, 5).reshape(4, -1)
    out = (liouville @ blocks).reshape(2, 2, a, b, a, b).transpose(2, 0, 3, 4, 1, 5)
    return out.reshape(dim, dim)


def _apply_left(dm: np.ndarray, n: int, targets: Sequence[int], op: np.ndarray) -> np.ndarray:
    """``op`` (2^k x 2^k) applied to the row indices of ``targets`` (tensordot, no kron)."""
    k = len(targets)
    dim = dm.shape[0]
    tensor = dm.reshape((2,) * n + (dim,))
    op_tensor = op.reshape((2,) * (2 * k))
    out = np.tensordot(op_tensor, tensor, axes=(tuple(range(k, 2 * k)), tuple(targets)))
    out = np.moveaxis(out, tuple(range(k)), tuple(targets))
    return out.reshape(dim, dim)


def _conjugate(dm: np.ndarray, n: int, targets: Sequence[int], op: np.ndarray) -> np.ndarray:
    """``op rho op^dagger`` on ``targets`` for Hermitian ``rho``: ``op (op rho)^dagger``."""
    half = _apply_left(dm, n, targets, op)
    return _apply_left(half.conj().T, n, targets, op)


def _partial_trace_axis(dm: np.ndarray, n: int, k: int) -> np.ndarray:
    a = 1 << k
    b = 1 << (n - k - 1)
    view = dm.reshape(a, 2, b, a, 2, b)
    out = view[:, 0, :, :, 0, :] + view[:, 1, :, :, 1, :]
    return out.reshape(a * b, a * b)


# -- state bookkeeping ----------------------------------------------------------------------
def _merge(qubits: Sequence[Qubit]) -> QState:
    """Make all ``qubits`` share one state (Kronecker product of their distinct states)."""
    first = _alive(qubits[0])
    for qubit in qubits[1:]:
        other = _alive(qubit)
        if other is first:
            continue
        first.dm = _kron(first.dm, other.dm)
        first.qubits.extend(other.qubits)
        for moved in other.qubits:
            moved.state = first
    return first


def _remove(qubit: Qubit) -> None:
    """Trace ``qubit`` out of its state (its partners keep their reduced state)."""
    state = _alive(qubit)
    if state.__class__ is BellDiagonalState:  # marginal of a Bell-diagonal state: trace * I/2
        half = sum(_DM_SLOT.__get__(state)) / 2
        _DM_SLOT.__set__(state, np.array([[half, 0], [0, half]], dtype=np.complex128))
        state.__class__ = QState
        state.qubits = [q for q in state.qubits if q is not qubit]
        qubit.state = None
        return
    n = len(state.qubits)
    if n > 1:
        k = state.qubits.index(qubit)
        state.dm = _partial_trace_axis(state.dm, n, k)
        del state.qubits[k]
    qubit.state = None


#: tolerance of the state checks: norm and trace within 1e-8 of 1, Hermitian within 1e-10,
#: eigenvalues >= -1e-8 (rounding of a valid state built in floating point stays far inside)
STATE_TOLERANCE = 1e-8


def _numeric_array(state: object, *, name: str) -> np.ndarray:
    """``state`` as a finite complex array; booleans, text and NaN/inf entries refused."""
    try:
        raw = np.asarray(state)
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"{name}: not a numeric array ({exc})") from None
    if raw.dtype.kind not in "iufc":
        raise UserInputError(f"{name}: array of dtype {raw.dtype} is not a state (need numbers)")
    array = raw.astype(np.complex128)
    if not np.all(np.isfinite(array)):
        raise UserInputError(f"{name}: has NaN or infinite entries")
    return array


def check_density_matrix(array: np.ndarray, *, name: str = "state") -> np.ndarray:
    """Refuse a matrix that is not a density matrix: Hermitian, unit trace, no negative
    eigenvalue (each within :data:`STATE_TOLERANCE`). Returns ``array``."""
    trace = float(np.trace(array).real)
    if not abs(trace - 1.0) <= STATE_TOLERANCE:
        raise UserInputError(f"{name}: density matrix must have trace 1 (trace {trace!r})")
    if not np.allclose(array, array.conj().T, rtol=0.0, atol=1e-10):
        raise UserInputError(f"{name}: density matrix must be Hermitian")
    lowest = float(np.linalg.eigvalsh(array).min())
    if lowest < -STATE_TOLERANCE:
        raise UserInputError(
            f"{name}: density matrix has a negative eigenvalue {lowest!r} (must be positive "
            "semidefinite)"
        )
    return array


def _as_density_matrix(state: np.ndarray, n: int, *, name: str = "state") -> np.ndarray:
    array = _numeric_array(state, name=name)
    dim = 1 << n
    if array.shape == (dim,):
        norm = float(np.vdot(array, array).real)
        if not abs(norm - 1.0) <= STATE_TOLERANCE:
            raise UserInputError(f"{name}: ket norm = {norm!r}, must be 1")
        return np.outer(array, array.conj())
    if array.shape != (dim, dim):
        raise UserInputError(
            f"{name}: shape {array.shape} does not fit {n} qubit(s): expected ({dim},) or ({dim}, {dim})"
        )
    return check_density_matrix(array, name=name).copy()


def assign_state(qubits: Sequence[Qubit], state: np.ndarray) -> QState:
    """Give ``qubits`` (in this order) the joint ``state`` (ket or density matrix).

    Qubits entangled with others are first traced out of their old states. Discarded or
    lost qubits are revived (their ``is_lost`` flag is cleared).

    Raises
    ------
    UserInputError
        If ``state`` is not a state of ``len(qubits)`` qubits: wrong shape, non-numeric,
        NaN/inf entries, a ket whose norm is not 1, or a matrix that is not Hermitian, has
        trace other than 1 or a negative eigenvalue (tolerance :data:`STATE_TOLERANCE`).
        Nothing is changed then.
    """
    qubits = list(qubits)
    _check_distinct(qubits)
    dm = _as_density_matrix(state, len(qubits))
    for qubit in qubits:
        if qubit.state is not None:
            _remove(qubit)
        qubit.is_lost = False
    new = QState(dm, qubits)
    for qubit in qubits:
        qubit.state = new
    return new


def assign_trusted_state(qubits: list[Qubit], dm: np.ndarray) -> QState:
    """Give fresh ``qubits`` the joint density matrix ``dm`` without checking either.

    The trusted counterpart of :func:`assign_state`, for hot paths that build many states
    from one matrix already checked (e.g. by :func:`assign_state` itself or
    :func:`check_density_matrix`). *Trusted* means that nothing is validated: the caller
    guarantees that ``dm`` is a complex ``(2**n, 2**n)`` density matrix (Hermitian, trace 1,
    positive semidefinite) for ``n = len(qubits)`` and that the qubits are distinct, not
    lost, and each new or alone in its state (as from :func:`create_qubits`): a qubit's old
    state is dropped without the partial trace :func:`assign_state` does, so a qubit still
    correlated with others would leave their state inconsistent. A wrong input is not
    detected and gives wrong physics later instead of an error.

    Parameters
    ----------
    qubits : list of Qubit
        Distinct qubits, each new or alone in its state, in the axis order of ``dm``
        (big-endian). The list becomes :attr:`QState.qubits` (not copied).
    dm : numpy.ndarray
        The state, owned by the new :class:`QState` from now on (not copied: pass a copy if
        the caller keeps using the array).

    Returns
    -------
    QState
        The new state; each qubit's ``state`` points at it.
    """
    state = QState(dm, qubits)
    for qubit in qubits:
        qubit.state = state
    return state


def _positions(state: QState, qubits: Sequence[Qubit]) -> list[int]:
    return [state.qubits.index(q) for q in qubits]


def reduced_dm(qubits: Sequence[Qubit]) -> np.ndarray:
    """Density matrix of ``qubits`` in the given order; changes no state.

    Qubits of different states contribute the Kronecker product of their reduced matrices.
    """
    qubits = list(qubits)
    _check_distinct(qubits)
    groups: list[tuple[QState, list[Qubit]]] = []
    for qubit in qubits:
        state = _alive(qubit)
        for group_state, members in groups:
            if group_state is state:
                members.append(qubit)
                break
        else:
            groups.append((state, [qubit]))
    result = None
    order: list[Qubit] = []
    for state, members in groups:
        dm = state.dense() if state.__class__ is BellDiagonalState else state.dm
        n = len(state.qubits)
        keep = _positions(state, members)
        for k in sorted(set(range(n)) - set(keep), reverse=True):
            dm = _partial_trace_axis(dm, n, k)
            n -= 1
        remaining = sorted(keep)  # axis order after the partial traces
        axes = [remaining.index(p) for p in keep]
        if axes != list(range(len(axes))):
            m = len(axes)
            dm = dm.reshape((2,) * (2 * m)).transpose(axes + [m + i for i in axes])
            dm = dm.reshape(1 << m, 1 << m)
        result = dm if result is None else np.kron(result, dm)
        order.extend(members)
    if order != qubits:  # groups interleave: permute the product into the requested order
        m = len(qubits)
        axes = [order.index(q) for q in qubits]
        result = result.reshape((2,) * (2 * m)).transpose(axes + [m + i for i in axes])
        result = result.reshape(1 << m, 1 << m)
    return np.array(result, dtype=np.complex128, copy=True)


def _check_square(matrix: np.ndarray, k: int, *, name: str) -> np.ndarray:
    array = np.asarray(matrix, dtype=np.complex128)
    dim = 1 << k
    if array.shape != (dim, dim):
        raise UserInputError(f"{name}: shape {array.shape} does not act on {k} qubit(s) ({dim}x{dim})")
    return array


#: Liouville matrices of the read-only gate constants, keyed by ``id`` (checked once).
_TRUSTED_1Q: dict[int, np.ndarray] = {}
_TRUSTED_1Q_MATRIX: dict[int, np.ndarray] = {}


#: Bell-index flip (xor) of the Pauli constants I, Z, X, Y, keyed by ``id`` (trusted gates)
_PAULI_XOR: dict[int, int] = {}


def _trust_gate(gate: np.ndarray, *, pauli_flip: int | None = None) -> None:
    """Precompute the Liouville matrix of a read-only module-level gate constant; a Pauli
    constant also gets its Bell-index flip (:class:`BellDiagonalState`)."""
    _TRUSTED_1Q[id(gate)] = _liouville_of_unitary(gate)
    _TRUSTED_1Q_MATRIX[id(gate)] = gate
    if pauli_flip is not None:
        _PAULI_XOR[id(gate)] = pauli_flip


def operate(qubits: Sequence[Qubit], unitary: np.ndarray) -> None:
    """Apply a unitary on ``qubits`` (in the listed order), merging their states if needed.

    Parameters
    ----------
    qubits : sequence of Qubit
        Target qubits; the first is the most significant index of ``unitary``.
    unitary : numpy.ndarray
        A ``2**k x 2**k`` unitary matrix.
    """
    if len(qubits) == 1:
        state = qubits[0].state
        if state.__class__ is BellDiagonalState:
            flip = _PAULI_XOR.get(id(unitary))
            if flip is not None and _TRUSTED_1Q_MATRIX[id(unitary)] is unitary:
                c = _DM_SLOT.__get__(state)
                _DM_SLOT.__set__(state, [c[flip], c[1 ^ flip], c[2 ^ flip], c[3 ^ flip]])
                return
        liouville = _TRUSTED_1Q.get(id(unitary))
        if liouville is None or _TRUSTED_1Q_MATRIX[id(unitary)] is not unitary:
            op = _check_square(unitary, 1, name="unitary")
            if not _is_unitary(op):
                raise UserInputError("unitary: matrix is not unitary (U U^dagger != I)")
            liouville = _liouville_of_unitary(op)
        apply_superoperator(qubits[0], liouville)
        return
    qubits = list(qubits)
    _check_distinct(qubits)
    op = _check_square(unitary, len(qubits), name="unitary")
    if not _is_unitary(op):
        raise UserInputError("unitary: matrix is not unitary (U U^dagger != I)")
    state = _merge(qubits)
    n = len(state.qubits)
    state.dm = _conjugate(state.dm, n, _positions(state, qubits), op)


def apply_superoperator(qubit: Qubit, liouville: np.ndarray) -> None:
    """Apply a single-qubit map given by its row-major 4x4 Liouville matrix (fast path)."""
    state = _alive(qubit)
    n = len(state.qubits)
    k = state.qubits.index(qubit) if n > 1 else 0
    state.dm = _apply_superop_1q(state.dm, n, k, liouville)


def apply_kraus(qubits: Sequence[Qubit], kraus_ops: Sequence[np.ndarray]) -> None:
    """Apply the CPTP map ``rho -> sum_K K rho K^dagger`` on ``qubits``.

    Raises
    ------
    UserInputError
        If the operators have the wrong shape or ``sum K^dagger K != I``.
    """
    qubits = list(qubits)
    _check_distinct(qubits)
    k = len(qubits)
    ops = [_check_square(op, k, name="kraus_ops") for op in kraus_ops]
    if not ops:
        raise UserInputError("kraus_ops: need at least one Kraus operator")
    completeness = sum(op.conj().T @ op for op in ops)
    if not np.allclose(completeness, np.eye(1 << k), atol=1e-9):
        raise UserInputError("kraus_ops: not trace preserving (sum K^dagger K != I)")
    if k == 1:
        from modenhub_net.qubits.operators import superoperator

        apply_superoperator(qubits[0], superoperator(ops))
        return
    state = _merge(qubits)
    n = len(state.qubits)
    targets = _positions(state, qubits)
    state.dm = sum(_conjugate(state.dm, n, targets, op) for op in ops)


#: Public names for the device layer (:mod:`hardware_models.memory`): the Pauli channel on one
#: qubit of a lazily kept Bell-diagonal pair (weights of I, Z, X, Y), and tracing a qubit out of
#: its state without the argument checks of :func:`modenhub_net.qubits.discard`.
bell_pauli_channel = _bell_pauli
trace_out = _remove
