"""State engines of the circuit executor: an exact density matrix and a stabilizer (stim) sampler.

The engines offer the same few primitives, called by :mod:`protocols.circuits.executor`
in time order: ``new_ebit``, ``idle`` (memory noise for an elapsed time), ``gate`` (ideal
unitary then the QPU's depolarising error), ``measure_discard`` (Z measurement with a
symmetric readout error, classically controlled Pauli corrections, the qubit discarded) and
``block`` (a sequence of primitives on a few qubits, treated as one channel).

:class:`PauliRegister` -- exact, the executor's density-matrix engine. The state of the live
qubits is the density matrix in the Pauli basis, ``rho = 2^-n sum_P c_P P`` with real
coefficients ``c_P = Tr(P rho)``, stored as a real tensor of shape ``(4,) * n`` (one axis per
qubit, in a floating order). A k-qubit channel acts on it through its Pauli transfer matrix
``R[Q, P] = 2^-k Tr(Q E(P))`` (real, ``4^k x 4^k``; Chow et al., PRL 109, 060501 (2012);
Greenbaum, arXiv:1509.02921 (2015), §3), contracted on the k axes with one ``tensordot`` --
never a ``2^n x 2^n`` operator. Real arithmetic halves the memory and quarters the
multiplications of the complex superoperator form. Channels are *fused* before they touch
the state: the pending channels form groups on disjoint sets of at most two qubits; a new
channel on qubits inside one group (or whose groups together span at most two qubits) is
multiplied into that group's 16x16 matrix, and a group is applied to the state only when an
operation needs more qubits, a measurement or a structural change reads its qubits, or the
state is read out. Disjoint groups commute, so the result is the same as applying each
channel in turn; a QFT's controlled phase (its CNOTs, phases, gate errors, the storage noise
of both qubits since their last use, and a teleported CNOT's whole channel) becomes one pass
over the state. Measurements are *non-selective* (the average over outcomes with the
corrections each recorded outcome triggers): in the Pauli basis ``rho_m`` (outcome m, qubit
traced out) has coefficients ``(c_I +- c_Z)/2`` on the measured axis, and a Pauli correction
flips the sign of the components it anticommutes with. A teleported gate is a ``block``: its
channel on the data qubits is computed once on a small :class:`DensityRegister` (the Choi
state of the data qubits with their references, plus the two ebit qubits), then applied as
one fused channel. Memory: ``8 * 4^n_live`` bytes (12 live qubits: 128 MiB) plus one
same-size temporary.

:class:`DensityRegister` -- the same primitives on a complex density tensor of shape
``(2,) * 2n`` (ket axes, then bra axes) with every operation a superoperator contracted on
its axes; no fusion. Used for the small registers of ``block`` and of the per-ebit records,
and in tests as the reference of :class:`PauliRegister`.

:class:`StimEngine` -- for Clifford circuits beyond the density matrix (stim; Gidney,
Quantum 5, 497 (2021)). Noise is Pauli: the QPU's depolarising gate errors exactly
(``rho -> (1-p) rho + p I/2`` is ``DEPOLARIZE1(3p/4)``, the two-qubit one ``DEPOLARIZE2(15p/16)``),
readout errors exactly (``M(e)``), an ebit by its Bell-diagonal part (exact for Werner and
all Bell-diagonal states; otherwise the Pauli twirl, which keeps the Bell fidelity), memory
noise by its Pauli twirl (exact for pure dephasing and depolarising; for T1 the twirl keeps
the Pauli-transfer diagonal ``(c, c, a - u)`` but drops the non-unital part). The output's
fidelity to the ideal stabilizer state is the fraction of shots in which every stabilizer
generator of the ideal state measures its ideal value (a Pauli error E keeps a stabilizer
state iff it commutes with all generators, and then ``E|psi> = +-|psi>``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from hardware_models.memory import MemoryParams, memory_channel_params
from modenhub_net.errors import UserInputError

__all__ = [
    "DensityRegister",
    "PauliRegister",
    "StimEngine",
    "depolar_superop",
    "memory_superop",
    "pauli_transfer_matrix",
    "pauli_vector",
    "superop_matrix",
    "unitary_superop",
]

_PAULI = {
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "Z": np.array([[1, 0], [0, -1]], dtype=complex),
}
_PHI_PLUS_DM = np.zeros((4, 4), dtype=complex)
_PHI_PLUS_DM[np.ix_([0, 3], [0, 3])] = 0.5


def unitary_superop(u: np.ndarray) -> np.ndarray:
    """Superoperator of ``rho -> U rho U^dag`` as a matrix ``S[(o, o'), (i, i')] = U[o,i] U*[o',i']``."""
    u = np.asarray(u, dtype=complex)
    return np.kron(u, u.conj())


def depolar_superop(p: float, n_qubits: int) -> np.ndarray:
    """Superoperator of ``rho -> (1-p) rho + p I/d Tr(rho)`` on ``d = 2^n_qubits`` (QPU gate error).

    The gate error model of :mod:`hardware_models.qpu` (one- and two-qubit depolarising,
    Nielsen & Chuang §8.3.4), written without Kraus operators.
    """
    d = 2**n_qubits
    eye = np.eye(d).reshape(-1)
    return (1.0 - p) * np.eye(d * d, dtype=complex) + (p / d) * np.outer(eye, eye)


def memory_superop(elapsed_ns: float, params: MemoryParams) -> np.ndarray:
    """Superoperator of one qubit's storage noise for ``elapsed_ns`` (4x4).

    From the transition probabilities ``(u, a, c)`` of
    :func:`hardware_models.memory.memory_channel_params` (the memory's exact joint T1/T2 +
    depolarising channel): ``rho00' = (1-u) rho00 + (1-a) rho11``, ``rho11' = u rho00 + a rho11``,
    ``rho01' = c rho01``.
    """
    u, a, c = memory_channel_params(elapsed_ns, params)
    s = np.zeros((4, 4), dtype=complex)
    s[0, 0], s[0, 3], s[3, 0], s[3, 3] = 1.0 - u, 1.0 - a, u, a
    s[1, 1] = s[2, 2] = c
    return s


def superop_matrix(ops: Sequence[np.ndarray]) -> np.ndarray:
    """Superoperator matrix of a Kraus set (for tests and checks)."""
    return sum(np.kron(k, np.asarray(k).conj()) for k in ops)


class DensityRegister:
    """Exact density matrix of named qubits (module docstring).

    Parameters
    ----------
    names : sequence of str
        Initial qubits, each in ``|0>``.
    max_qubits : int
        Largest number of live qubits allowed (default 12: 256 MiB of state); adding more
        raises :class:`~modenhub_net.errors.UserInputError`.
    """

    def __init__(self, names: Sequence[str] = (), *, max_qubits: int = 12) -> None:
        self.max_qubits = max_qubits
        self.names: list[str] = []
        self.rho = np.ones((), dtype=complex)
        if len(names) > max_qubits:
            raise UserInputError(
                f"the density-matrix engine holds at most {max_qubits} live qubits, {len(names)} requested"
            )
        for name in names:
            self.add([name], np.array([[1, 0], [0, 0]], dtype=complex))

    @property
    def n(self) -> int:
        return len(self.names)

    def _pos(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no live qubit {name!r}") from None

    # -- structure --------------------------------------------------------------------
    def add(self, names: Sequence[str], rho: np.ndarray) -> None:
        """Append qubits ``names`` in the (uncorrelated) state ``rho`` (2^k x 2^k)."""
        k = len(names)
        if self.n + k > self.max_qubits:
            raise UserInputError(
                f"the density-matrix engine holds at most {self.max_qubits} live qubits; this run "
                f"needs {self.n + k} (use fewer data qubits, share_ebits=False, or the stabilizer "
                "backend for Clifford circuits)"
            )
        n = self.n
        small = np.asarray(rho, dtype=complex).reshape((2,) * (2 * k))
        big = np.multiply.outer(self.rho, small)  # [ket_old, bra_old, ket_new, bra_new]
        perm = (
            list(range(n))
            + list(range(2 * n, 2 * n + k))
            + list(range(n, 2 * n))
            + list(range(2 * n + k, 2 * n + 2 * k))
        )
        self.rho = big.transpose(perm)
        self.names += list(names)

    def superop(self, s: np.ndarray, in_names: Sequence[str], out_names: Sequence[str] | None = None) -> None:
        """Apply a superoperator ``S[(out, out'), (in, in')]`` from ``in_names`` to ``out_names``.

        ``out_names`` defaults to ``in_names``; new names are added, names that are in
        ``in_names`` but not ``out_names`` are removed (e.g. a one-to-two-qubit channel).
        """
        out_names = list(in_names) if out_names is None else list(out_names)
        ki, ko = len(in_names), len(out_names)
        rest = [x for x in self.names if x not in in_names]
        if len(rest) + ko > self.max_qubits:
            raise UserInputError(
                f"the density-matrix engine holds at most {self.max_qubits} live qubits; this run needs "
                f"{len(rest) + ko} (use fewer data qubits, share_ebits=False, or the stabilizer backend)"
            )
        n = self.n
        pos = [self._pos(x) for x in in_names]
        tensor = np.asarray(s, dtype=complex).reshape((2,) * (2 * ko + 2 * ki))
        # S axes: [out_ket(ko), out_bra(ko), in_ket(ki), in_bra(ki)] -> reorder in-axes
        res = np.tensordot(
            tensor, self.rho, axes=(list(range(2 * ko, 2 * ko + 2 * ki)), pos + [n + p for p in pos])
        )
        nr = len(rest)
        perm = (
            [2 * ko + i for i in range(nr)]
            + list(range(ko))
            + [2 * ko + nr + i for i in range(nr)]
            + list(range(ko, 2 * ko))
        )
        self.rho = res.transpose(perm)
        self.names = rest + out_names

    # -- primitives -------------------------------------------------------------------
    def new_ebit(self, name_a: str, name_b: str, rho: np.ndarray) -> None:
        """Add an ebit's two qubits in the 4x4 state ``rho`` (order: ``name_a``, ``name_b``)."""
        self.add([name_a, name_b], rho)

    def idle(self, name: str, elapsed_ns: float, params: MemoryParams) -> None:
        """Storage noise of ``params`` for ``elapsed_ns`` on one qubit (nothing if 0 or noiseless)."""
        if elapsed_ns > 0.0 and not params.is_noiseless:
            self.superop(memory_superop(elapsed_ns, params), [name])

    def gate(
        self, u: np.ndarray, names: Sequence[str], depolar_prob: float = 0.0, *, kind: str | None = None
    ) -> None:
        """Ideal unitary ``u`` on ``names``, then depolarising with ``depolar_prob``."""
        s = unitary_superop(u)
        if depolar_prob > 0.0:
            s = depolar_superop(depolar_prob, len(names)) @ s
        self.superop(s, names)

    def measure_discard(
        self, name: str, flip_prob: float, corrections: Sequence[tuple[str, str]] = ()
    ) -> None:
        """Non-selective Z measurement of ``name`` (outcome flipped with ``flip_prob``), then for
        a recorded 1 the Paulis ``corrections`` (``[("X", target), ...]``); the qubit is removed.

        ``rho' = A + C B C^dag`` with ``A = (1-e) rho_0 + e rho_1``, ``B = e rho_0 + (1-e) rho_1``,
        ``rho_m`` the block of outcome m with the qubit traced out, ``C`` the corrections.
        """
        k, n = self._pos(name), self.n
        r0 = np.take(np.take(self.rho, 0, axis=n + k), 0, axis=k)
        r1 = np.take(np.take(self.rho, 1, axis=n + k), 1, axis=k)
        e = flip_prob
        self.names = [x for x in self.names if x != name]
        kept = list(self.names)
        self.rho = e * r0 + (1 - e) * r1  # B: the outcome recorded as 1
        for label, target in corrections:
            self.superop(unitary_superop(_PAULI[label]), [target])
        a = (1 - e) * r0 + e * r1  # A: recorded 0, no correction (axes in the order `kept`)
        m = len(kept)
        pos = [kept.index(x) for x in self.names]
        self.rho = self.rho + a.transpose(pos + [m + p for p in pos])

    def block(
        self, data_in: Sequence[str], data_out: Sequence[str], procedure: Callable[[DensityRegister], None]
    ) -> None:
        """Run ``procedure`` on a small register holding ``data_in`` and apply the resulting
        channel ``data_in -> data_out`` to this register (:func:`block_superop`)."""
        self.superop(block_superop(data_in, data_out, procedure), list(data_in), list(data_out))

    # -- read-out ---------------------------------------------------------------------
    def matrix(self, order: Sequence[str] | None = None) -> np.ndarray:
        """The density matrix (2^n x 2^n) with qubits in ``order`` (default: current order)."""
        order = list(self.names) if order is None else list(order)
        if sorted(order) != sorted(self.names):
            raise KeyError(f"order {order} does not list the live qubits {self.names}")
        n = self.n
        pos = [self._pos(x) for x in order]
        return np.ascontiguousarray(self.rho.transpose(pos + [n + p for p in pos])).reshape(2**n, 2**n)

    def expectation_pure(self, psi: np.ndarray, order: Sequence[str]) -> float:
        """``<psi| rho |psi>`` with ``psi`` over qubits in ``order`` (the fidelity to a pure state)."""
        n = self.n
        pos = [self._pos(x) for x in order]
        tensor = np.asarray(psi, dtype=complex).reshape((2,) * n)
        half = np.tensordot(self.rho, tensor, axes=([n + p for p in pos], list(range(n))))  # ket axes left
        value = np.tensordot(tensor.conj(), half, axes=(list(range(n)), pos))
        return float(np.real(value))

    def probabilities(self, order: Sequence[str]) -> np.ndarray:
        """Z-basis outcome probabilities as a tensor of shape ``(2,) * n`` in ``order``."""
        n = self.n
        pos = [self._pos(x) for x in order]
        flat = np.ascontiguousarray(self.rho).reshape(2**n, 2**n)
        return np.transpose(np.real(np.diagonal(flat)).reshape((2,) * n), pos)


def block_superop(
    data_in: Sequence[str], data_out: Sequence[str], procedure: Callable[[DensityRegister], None]
) -> np.ndarray:
    """Superoperator ``data_in -> data_out`` of ``procedure`` run on a small :class:`DensityRegister`.

    Choi-Jamiolkowski construction: each input qubit starts maximally entangled with a
    reference, ``procedure`` acts, and ``S[(o, o'), (i, i')] = d * C[(i, o), (i', o')]`` with
    ``C`` the resulting Choi state (Jamiolkowski, Rep. Math. Phys. 3, 275 (1972); Choi, Linear
    Algebra Appl. 10, 285 (1975)).
    """
    small = DensityRegister(max_qubits=2 * len(data_in) + 4)
    refs = [f"ref:{x}" for x in data_in]
    for ref, x in zip(refs, data_in, strict=True):
        small.add([ref, x], _PHI_PLUS_DM)
    procedure(small)
    order = refs + list(data_out)
    if sorted(small.names) != sorted(order):
        raise RuntimeError(f"block left qubits {small.names}, expected {order}")
    m = small.matrix(order)
    ki, ko = len(data_in), len(data_out)
    c = m.reshape(2**ki, 2**ko, 2**ki, 2**ko)  # [i, o, i', o']
    return (2**ki) * c.transpose(1, 3, 0, 2).reshape(4**ko, 4**ki)


_PAULI_1Q = (np.eye(2, dtype=complex), _PAULI["X"], _PAULI["Y"], _PAULI["Z"])
#: sign of each one-qubit Pauli component (I, X, Y, Z) under conjugation by X, Y, Z
_CONJUGATION_SIGNS = {
    "X": np.array([1.0, 1.0, -1.0, -1.0]),
    "Y": np.array([1.0, -1.0, 1.0, -1.0]),
    "Z": np.array([1.0, -1.0, -1.0, 1.0]),
}


@lru_cache(maxsize=8)
def _pauli_basis(k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, cols)`` of the k-qubit Pauli basis (first qubit most significant):
    ``rows[Q] = vec(Q^T)`` so ``rows @ vec(rho) = Tr(Q rho)``; ``cols[:, P] = vec(P)``."""
    paulis = [np.ones((1, 1), dtype=complex)]
    for _ in range(k):
        paulis = [np.kron(p, q) for p in paulis for q in _PAULI_1Q]
    rows = np.array([p.T.reshape(-1) for p in paulis])
    cols = np.array([p.reshape(-1) for p in paulis]).T
    return rows, cols


def pauli_transfer_matrix(s: np.ndarray, k_in: int, k_out: int | None = None) -> np.ndarray:
    """Pauli transfer matrix ``R[Q, P] = 2^-k_in Tr(Q E(P))`` of the superoperator ``s``.

    ``s`` is ``S[(o, o'), (i, i')]`` (``4^k_out x 4^k_in``, this module's convention). For a
    Hermiticity-preserving map ``R`` is real (Chow et al., PRL 109, 060501 (2012)); with
    ``rho = 2^-k sum_P c_P P`` the map sends the coefficients ``c`` to ``R c``.
    """
    k_out = k_in if k_out is None else k_out
    rows, _ = _pauli_basis(k_out)
    _, cols = _pauli_basis(k_in)
    r = rows @ np.asarray(s, dtype=complex) @ cols / 2**k_in
    if np.max(np.abs(r.imag), initial=0.0) > 1e-9:
        raise ValueError("the superoperator does not preserve Hermiticity (complex transfer matrix)")
    return np.ascontiguousarray(r.real)


def pauli_vector(rho: np.ndarray) -> np.ndarray:
    """Real Pauli coefficients ``c_P = Tr(P rho)`` of a k-qubit ``rho``, shape ``(4,) * k``."""
    rho = np.asarray(rho, dtype=complex)
    k = int(round(math.log2(rho.shape[0])))
    rows, _ = _pauli_basis(k)
    return np.real(rows @ rho.reshape(-1)).reshape((4,) * k)


def _embed(r: np.ndarray, names: Sequence[str], union: Sequence[str]) -> np.ndarray:
    """The transfer matrix ``r`` on ``names`` as one on ``union`` (identity on the others)."""
    k, others = len(names), [x for x in union if x not in names]
    m = len(others)
    big = np.multiply.outer(r.reshape((4,) * (2 * k)), np.eye(4**m).reshape((4,) * (2 * m)))
    out = [names.index(x) if x in names else 2 * k + others.index(x) for x in union]
    inp = [k + names.index(x) if x in names else 2 * k + m + others.index(x) for x in union]
    return big.transpose(out + inp).reshape(4 ** len(union), 4 ** len(union))


class PauliRegister:
    """Exact density matrix in the Pauli basis with fused channels (module docstring).

    Parameters
    ----------
    names : sequence of str
        Initial qubits, each in ``|0>``.
    max_qubits : int
        Largest number of live qubits allowed (default 12: 128 MiB of state); adding more
        raises :class:`~modenhub_net.errors.UserInputError`.
    max_fused : int
        Largest qubit set of one fused channel, 1 or 2 (default 2; a 3-qubit group would
        cost 64 multiplications per element instead of 16).
    """

    def __init__(self, names: Sequence[str] = (), *, max_qubits: int = 12, max_fused: int = 2) -> None:
        self.max_qubits = max_qubits
        self.max_fused = max_fused
        self.names: list[str] = []
        self.c = np.ones((), dtype=float)
        self.passes = 0  # channels applied to the state (each one pass over it)
        self._scratch: np.ndarray | None = None
        self._groups: list[tuple[tuple[str, ...], np.ndarray]] = []
        if len(names) > max_qubits:
            raise UserInputError(
                f"the density-matrix engine holds at most {max_qubits} live qubits, {len(names)} requested"
            )
        for name in names:
            self.add([name], np.array([[1, 0], [0, 0]], dtype=complex))

    @property
    def n(self) -> int:
        return len(self.names)

    def _check_room(self, needed: int) -> None:
        if needed > self.max_qubits:
            raise UserInputError(
                f"the density-matrix engine holds at most {self.max_qubits} live qubits; this run "
                f"needs {needed} (use fewer data qubits, share_ebits=False, or the stabilizer "
                "backend for Clifford circuits)"
            )

    # -- structure --------------------------------------------------------------------
    def add(self, names: Sequence[str], rho: np.ndarray) -> None:
        """Append qubits ``names`` in the (uncorrelated) state ``rho`` (2^k x 2^k)."""
        self._check_room(self.n + len(names))
        self.c = np.multiply.outer(self.c, pauli_vector(rho))
        self.names += list(names)

    def _apply(self, r: np.ndarray, in_names: Sequence[str], out_names: Sequence[str]) -> None:
        """Contract the transfer matrix ``r`` (``in_names -> out_names``) into the state."""
        ki, ko = len(in_names), len(out_names)
        pos = [self.names.index(x) for x in in_names]
        rest = [i for i in range(self.n) if i not in pos]
        if ki == ko and self.c.flags.c_contiguous and self.n > 6:
            # two buffers reused pass after pass: the contracted axes gathered in front (one
            # copy into the scratch buffer), then one matrix product into the state's memory
            if self._scratch is None or self._scratch.size != self.c.size:
                self._scratch = np.empty(self.c.size)
            gathered = self._scratch.reshape([4] * self.n)
            np.copyto(gathered, self.c.transpose(pos + rest))
            out = self.c.reshape(-1)
            np.matmul(r, gathered.reshape(4**ki, -1), out=out.reshape(4**ko, -1))
            self._scratch = gathered.reshape(-1)
            self.c = out.reshape([4] * self.n)
        else:
            tensor = r.reshape((4,) * (ko + ki))
            self.c = np.tensordot(tensor, self.c, axes=(list(range(ko, ko + ki)), pos))
        self.names = list(out_names) + [x for x in self.names if x not in in_names]
        self.passes += 1

    def flush(self, names: Sequence[str] | None = None) -> None:
        """Apply the pending channels on ``names`` (all if None) to the state."""
        keep = []
        for group, r in self._groups:
            if names is None or set(group) & set(names):
                self._apply(r, group, group)
            else:
                keep.append((group, r))
        self._groups = keep

    def channel(self, r: np.ndarray, names: Sequence[str]) -> None:
        """Schedule the channel with transfer matrix ``r`` on ``names`` (fused if it fits)."""
        names = tuple(names)
        for x in names:
            if x not in self.names:
                raise KeyError(f"no live qubit {x!r}")
        touching = [g for g in self._groups if set(g[0]) & set(names)]
        union = names + tuple(x for group, _ in touching for x in group if x not in names)
        if len(union) > self.max_fused:
            # apply the groups that reach beyond ``names``; those inside it are still fused
            outside = [g for g in touching if not set(g[0]) <= set(names)]
            for group, rg in outside:
                self._apply(rg, group, group)
            touching = [g for g in touching if all(g is not o for o in outside)]
            self._groups = [g for g in self._groups if all(g is not o for o in outside)]
            union = names
        if len(union) > self.max_fused:
            self.flush(names)
            self._apply(r, names, names)
            return
        total = _embed(r, list(names), list(union))
        for group, rg in touching:  # earlier channels first (disjoint groups commute)
            total = total @ _embed(rg, list(group), list(union))
        self._groups = [g for g in self._groups if all(g is not t for t in touching)] + [(union, total)]

    def superop(self, s: np.ndarray, in_names: Sequence[str], out_names: Sequence[str] | None = None) -> None:
        """Apply a superoperator ``S[(out, out'), (in, in')]`` from ``in_names`` to ``out_names``
        (same convention as :meth:`DensityRegister.superop`)."""
        in_names = list(in_names)
        out_names = list(in_names) if out_names is None else list(out_names)
        r = pauli_transfer_matrix(s, len(in_names), len(out_names))
        if out_names == in_names:
            self.channel(r, in_names)
            return
        self.flush(in_names)
        self._check_room(self.n - len(in_names) + len(out_names))
        self._apply(r, in_names, out_names)

    # -- primitives -------------------------------------------------------------------
    def new_ebit(self, name_a: str, name_b: str, rho: np.ndarray) -> None:
        """Add an ebit's two qubits in the 4x4 state ``rho`` (order: ``name_a``, ``name_b``)."""
        self.add([name_a, name_b], rho)

    def idle(self, name: str, elapsed_ns: float, params: MemoryParams) -> None:
        """Storage noise of ``params`` for ``elapsed_ns`` on one qubit (nothing if 0 or noiseless)."""
        if elapsed_ns > 0.0 and not params.is_noiseless:
            self.channel(pauli_transfer_matrix(memory_superop(elapsed_ns, params), 1), [name])

    def gate(
        self, u: np.ndarray, names: Sequence[str], depolar_prob: float = 0.0, *, kind: str | None = None
    ) -> None:
        """Ideal unitary ``u`` on ``names``, then depolarising with ``depolar_prob``."""
        s = unitary_superop(u)
        if depolar_prob > 0.0:
            s = depolar_superop(depolar_prob, len(names)) @ s
        self.channel(pauli_transfer_matrix(s, len(names)), names)

    def measure_discard(
        self, name: str, flip_prob: float, corrections: Sequence[tuple[str, str]] = ()
    ) -> None:
        """Non-selective Z measurement of ``name`` (outcome flipped with ``flip_prob``), then for
        a recorded 1 the Paulis ``corrections``; the qubit is removed (as
        :meth:`DensityRegister.measure_discard`, in the Pauli basis: module docstring)."""
        self.flush([name] + [target for _, target in corrections])
        k = self.names.index(name)
        c_i, c_z = np.take(self.c, 0, axis=k), np.take(self.c, 3, axis=k)
        r0, r1 = (c_i + c_z) / 2.0, (c_i - c_z) / 2.0
        del c_i, c_z
        e = flip_prob
        self.names = [x for x in self.names if x != name]
        recorded_1 = e * r0 + (1.0 - e) * r1
        for label, target in corrections:
            shape = [1] * self.n
            shape[self.names.index(target)] = 4
            recorded_1 *= _CONJUGATION_SIGNS[label].reshape(shape)
        recorded_1 += (1.0 - e) * r0 + e * r1
        self.c = recorded_1
        self.passes += 1

    def block(
        self, data_in: Sequence[str], data_out: Sequence[str], procedure: Callable[[DensityRegister], None]
    ) -> None:
        """The channel of ``procedure`` (:func:`block_superop`) applied from ``data_in`` to ``data_out``."""
        self.superop(block_superop(data_in, data_out, procedure), list(data_in), list(data_out))

    # -- read-out ---------------------------------------------------------------------
    def matrix(self, order: Sequence[str] | None = None) -> np.ndarray:
        """The density matrix (2^n x 2^n) with qubits in ``order`` (default: current order)."""
        self.flush()
        order = list(self.names) if order is None else list(order)
        if sorted(order) != sorted(self.names):
            raise KeyError(f"order {order} does not list the live qubits {self.names}")
        n = self.n
        t = self.c.astype(complex)
        for i in range(n):  # qubit i's Pauli axis (I, X, Y, Z) -> its (ket, bra) pair, in place
            v = t.reshape(4**i, 4, 4 ** (n - 1 - i))
            c_i, c_x, c_y, c_z = (v[:, p].copy() for p in range(4))
            v[:, 0] = (c_i + c_z) / 2.0  # rho_00
            v[:, 1] = (c_x - 1j * c_y) / 2.0  # rho_01
            v[:, 2] = (c_x + 1j * c_y) / 2.0  # rho_10
            v[:, 3] = (c_i - c_z) / 2.0  # rho_11
            del c_i, c_x, c_y, c_z
        pos = [self.names.index(x) for x in order]
        perm = [2 * p for p in pos] + [2 * p + 1 for p in pos]
        return np.ascontiguousarray(t.reshape((2,) * (2 * n)).transpose(perm)).reshape(2**n, 2**n)

    def expectation_pure(self, psi: np.ndarray, order: Sequence[str]) -> float:
        """``<psi| rho |psi>`` with ``psi`` over qubits in ``order`` (the fidelity to a pure state)."""
        psi = np.asarray(psi, dtype=complex).reshape(-1)
        return float(np.real(psi.conj() @ self.matrix(order) @ psi))

    def probabilities(self, order: Sequence[str]) -> np.ndarray:
        """Z-basis outcome probabilities as a tensor of shape ``(2,) * n`` in ``order``."""
        self.flush()
        n = self.n
        t = self.c[(slice(0, 4, 3),) * n]  # the I and Z components of every qubit
        to_z = np.array([[0.5, 0.5], [0.5, -0.5]])  # (c_I, c_Z) -> (p_0, p_1)
        for _ in range(n):
            t = np.tensordot(t, to_z, axes=([0], [0]))
        return np.transpose(t, [self.names.index(x) for x in order])


class StimEngine:
    """Pauli-noise stabilizer engine on stim (module docstring).

    Parameters
    ----------
    data_names : sequence of str
        The data qubits, in logical order (indices 0..n-1 of the stim circuit).
    """

    def __init__(self, data_names: Sequence[str]) -> None:
        from protocols.circuits.extras import require

        self.stim = stim = require("stim", package="stim", feature="the stabilizer backend")
        self.circuit = stim.Circuit()
        self.index: dict[str, int] = {}
        self.data_names = list(data_names)
        for name in data_names:
            self._q(name)
        self._clifford_cache: dict[bytes, stim.Circuit] = {}

    def _q(self, name: str) -> int:
        if name not in self.index:
            self.index[name] = len(self.index)
        return self.index[name]

    def new_ebit(self, name_a: str, name_b: str, rho: np.ndarray) -> None:
        """Bell pair |Phi+> with the Pauli channel of ``rho``'s Bell-diagonal weights on ``name_b``."""
        a, b = self._q(name_a), self._q(name_b)
        r = np.asarray(rho, dtype=complex)
        s = 1 / math.sqrt(2)
        bell = {"I": [s, 0, 0, s], "Z": [s, 0, 0, -s], "X": [0, s, s, 0], "Y": [0, s, -s, 0]}
        w = {k: float(np.real(np.conj(v) @ r @ np.asarray(v))) for k, v in bell.items()}
        self.circuit.append("R", [a, b])
        self.circuit.append("H", [a])
        self.circuit.append("CX", [a, b])
        px, py, pz = (max(w[k], 0.0) for k in "XYZ")
        if px + py + pz > 0:
            self.circuit.append("PAULI_CHANNEL_1", [b], [px, py, pz])

    def idle(self, name: str, elapsed_ns: float, params: MemoryParams) -> None:
        """Pauli twirl of the storage channel: ``p_X = p_Y = (1 - (a-u))/4``, ``p_Z = (1 - 2c + (a-u))/4``."""
        if elapsed_ns <= 0.0 or params.is_noiseless:
            return
        u, a, c = memory_channel_params(elapsed_ns, params)
        lz = a - u
        px = py = max((1.0 - lz) / 4.0, 0.0)
        pz = max((1.0 - 2.0 * c + lz) / 4.0, 0.0)
        if px + py + pz > 0:
            self.circuit.append("PAULI_CHANNEL_1", [self._q(name)], [px, py, pz])

    def clifford(self, u: np.ndarray) -> object:
        """The stim circuit of a one-qubit Clifford ``u`` (raises ``ValueError`` if not Clifford)."""
        key = np.round(np.asarray(u, dtype=complex), 12).tobytes()
        if key not in self._clifford_cache:
            tableau = self.stim.Tableau.from_unitary_matrix(np.asarray(u, dtype=complex), endian="big")
            self._clifford_cache[key] = tableau.to_circuit(method="elimination")
        return self._clifford_cache[key]

    def gate(
        self, u: np.ndarray, names: Sequence[str], depolar_prob: float = 0.0, *, kind: str | None = None
    ) -> None:
        qubits = [self._q(x) for x in names]
        if kind in ("cx", "cz"):
            self.circuit.append(kind.upper(), qubits)
            if depolar_prob > 0:
                self.circuit.append("DEPOLARIZE2", qubits, [15.0 * depolar_prob / 16.0])
            return
        for instruction in self.clifford(u):
            self.circuit.append(instruction.name, [qubits[0]] * len(instruction.targets_copy()))
        if depolar_prob > 0:
            self.circuit.append("DEPOLARIZE1", qubits, [3.0 * depolar_prob / 4.0])

    def measure_discard(
        self, name: str, flip_prob: float, corrections: Sequence[tuple[str, str]] = ()
    ) -> None:
        q = self._q(name)
        self.circuit.append("M", [q], [flip_prob] if flip_prob > 0 else [])
        for label, target in corrections:
            self.circuit.append(f"C{label}", [self.stim.target_rec(-1), self._q(target)])

    def block(
        self, data_in: Sequence[str], data_out: Sequence[str], procedure: Callable[[StimEngine], None]
    ) -> None:
        procedure(self)

    def fidelity(self, generators: Sequence, *, shots: int, seed: int) -> tuple[float, float]:
        """Estimated fidelity to the ideal state and its standard error, from ``shots`` samples.

        ``generators`` are the stabilizer generators (``stim.PauliString``) of the ideal output
        over the data qubits in logical order; each is measured (MPP) at the end and a detector
        compares it with its noiseless value (stim's reference sample).
        """
        circuit = self.circuit.copy()
        data = [self.index[x] for x in self.data_names]
        make = {1: self.stim.target_x, 2: self.stim.target_y, 3: self.stim.target_z}
        for gen in generators:
            targets = []
            for i, pauli in enumerate(gen):
                if pauli:
                    if targets:
                        targets.append(self.stim.target_combiner())
                    targets.append(make[pauli](data[i]))
            circuit.append("MPP", targets)
            circuit.append("DETECTOR", [self.stim.target_rec(-1)])
        detections = circuit.compile_detector_sampler(seed=seed).sample(shots)
        f = float((~np.any(detections, axis=1)).mean())
        return f, math.sqrt(max(f * (1 - f), 0.0) / shots)
