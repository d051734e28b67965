"""Fallback density-matrix backend, used only while :mod:`modenhub_net.qubits` is absent.

Implements exactly the calls of :mod:`modenhub_net.network.quantum` with the same names
(shared density matrices; qubits merged by Kronecker product when a gate spans states;
measured or discarded qubits traced out). Conventions: Bell index 0..3 = Phi+, Phi-, Psi+,
Psi-; a Bell measurement is CNOT(q1, q2), H(q1), then Z measurements (bits x = q2, z = q1).
"""

from __future__ import annotations

import math

import numpy as np

I = np.eye(2, dtype=complex)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
Z = np.diag([1, -1]).astype(complex)
H = np.array([[1, 1], [1, -1]], dtype=complex) / math.sqrt(2)
CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=complex)


class _State:
    __slots__ = ("dm", "qubits")

    def __init__(self, dm: np.ndarray, qubits: list[Qubit]) -> None:
        self.dm = dm
        self.qubits = qubits


class Qubit:
    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state: _State | None = None


def create_qubits(n: int) -> list[Qubit]:
    out = []
    for _ in range(n):
        q = Qubit()
        dm = np.zeros((2, 2), dtype=complex)
        dm[0, 0] = 1
        q.state = _State(dm, [q])
        out.append(q)
    return out


def _merge(qubits: list[Qubit]) -> _State:
    states: list[_State] = []
    for q in qubits:
        if q.state not in states:
            states.append(q.state)
    base = states[0]
    for other in states[1:]:
        base.dm = np.kron(base.dm, other.dm)
        base.qubits = base.qubits + other.qubits
        for q in other.qubits:
            q.state = base
    return base


def _full_op(state: _State, qubits: list[Qubit], op: np.ndarray) -> np.ndarray:
    n = len(state.qubits)
    k = len(qubits)
    idx = [state.qubits.index(q) for q in qubits]
    rest = [i for i in range(n) if i not in idx]
    perm = idx + rest
    full = np.kron(op, np.eye(2 ** (n - k), dtype=complex))
    # reorder: full acts on (idx..., rest...) order; permute to the state's order
    t = full.reshape([2] * (2 * n))
    inv = np.argsort(perm)
    t = t.transpose(list(inv) + [n + i for i in inv])
    return t.reshape(2**n, 2**n)


def assign_state(qubits: list[Qubit], state: np.ndarray) -> None:
    state = np.asarray(state, dtype=complex)
    dm = np.outer(state, state.conj()) if state.ndim == 1 else state
    for q in qubits:
        if q.state is not None and len(q.state.qubits) > 1:
            discard(q)
    shared = _State(dm.copy(), list(qubits))
    for q in qubits:
        q.state = shared


def operate(qubits: list[Qubit] | Qubit, op: np.ndarray) -> None:
    if isinstance(qubits, Qubit):
        qubits = [qubits]
    st = _merge(list(qubits))
    u = _full_op(st, list(qubits), op)
    st.dm = u @ st.dm @ u.conj().T


def _kraus(q: Qubit, ops: list[np.ndarray]) -> None:
    st = q.state
    full = [_full_op(st, [q], k) for k in ops]
    st.dm = sum(k @ st.dm @ k.conj().T for k in full)


def depolarise(q: Qubit, prob: float) -> None:
    # rho -> (1-p) rho + p I/2  ==  Paulis with p/4 each plus identity 1 - 3p/4
    _kraus(q, [math.sqrt(1 - 3 * prob / 4) * I, math.sqrt(prob / 4) * X,
               math.sqrt(prob / 4) * Y, math.sqrt(prob / 4) * Z])


def t1t2_noise(q: Qubit, elapsed_ns: float, *, t1_ns: float, t2_ns: float) -> None:
    gamma = 0.0 if math.isinf(t1_ns) else 1 - math.exp(-elapsed_ns / t1_ns)
    a0 = np.array([[1, 0], [0, math.sqrt(1 - gamma)]], dtype=complex)
    a1 = np.array([[0, math.sqrt(gamma)], [0, 0]], dtype=complex)
    if gamma > 0:
        _kraus(q, [a0, a1])
    # coherence after damping: sqrt(1-gamma) = exp(-t/2T1); need exp(-t/T2) overall
    rate = (0.0 if math.isinf(t2_ns) else 1 / t2_ns) - (0.0 if math.isinf(t1_ns) else 0.5 / t1_ns)
    lam = math.exp(-elapsed_ns * max(rate, 0.0))
    if lam < 1:
        p = (1 - lam) / 2
        _kraus(q, [math.sqrt(1 - p) * I, math.sqrt(p) * Z])


def _measure_z(q: Qubit, rng: np.random.Generator) -> int:
    st = q.state
    n = len(st.qubits)
    i = st.qubits.index(q)
    t = st.dm.reshape([2] * (2 * n))
    if n > 1:
        diag = np.take(np.take(t, 0, axis=i), 0, axis=n - 1 + i).reshape(2 ** (n - 1), -1)
        p0 = float(np.real(np.trace(diag)))
    else:
        p0 = float(np.real(st.dm[0, 0]))
    outcome = 0 if rng.random() < p0 else 1
    sub = np.take(np.take(t, outcome, axis=i), outcome, axis=n - 1 + i)
    others = [x for x in st.qubits if x is not q]
    if others:
        dm = sub.reshape(2 ** (n - 1), 2 ** (n - 1))
        dm = dm / np.trace(dm)
        st.dm = dm
        st.qubits = others
    q.state = None
    return outcome


def measure(q: Qubit, rng: np.random.Generator, *, basis: str = "Z", discard: bool = True) -> int:
    if basis == "X":
        operate([q], H)
    return _measure_z(q, rng)


def bell_measure(q1: Qubit, q2: Qubit, rng: np.random.Generator) -> int:
    operate([q1, q2], CNOT)
    operate([q1], H)
    z = _measure_z(q1, rng)
    x = _measure_z(q2, rng)
    return 2 * x + z


def bell_correction(outcome: int) -> list[np.ndarray]:
    x, z = outcome >> 1, outcome & 1
    gates = []
    if x:
        gates.append(X)
    if z:
        gates.append(Z)
    return gates


def discard(q: Qubit) -> None:
    st = q.state
    if st is None:
        return
    n = len(st.qubits)
    if n > 1:
        i = st.qubits.index(q)
        t = st.dm.reshape([2] * (2 * n))
        sub = np.trace(t, axis1=i, axis2=n + i)
        st.dm = sub.reshape(2 ** (n - 1), 2 ** (n - 1))
        st.qubits = [x for x in st.qubits if x is not q]
    q.state = None


lose = discard


def reduced_dm(qubits: list[Qubit]) -> np.ndarray:
    st = _merge(list(qubits))
    n = len(st.qubits)
    keep = [st.qubits.index(q) for q in qubits]
    t = st.dm.reshape([2] * (2 * n))
    drop = [i for i in range(n) if i not in keep]
    for count, i in enumerate(sorted(drop, reverse=True)):
        m = n - count
        t = np.trace(t, axis1=i, axis2=m + i)
    m = len(keep)
    cur = [i for i in range(n) if i in keep]
    order = [cur.index(i) for i in keep]
    t = t.transpose(order + [m + o for o in order])
    return t.reshape(2**m, 2**m)


def fidelity(qubits: list[Qubit], reference: np.ndarray) -> float:
    dm = reduced_dm(list(qubits))
    ref = np.asarray(reference, dtype=complex)
    return float(np.real(ref.conj() @ dm @ ref))
