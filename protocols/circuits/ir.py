"""The circuit IR: logical qubits, one-qubit unitaries, CX/CZ and terminal measurements.

A :class:`Circuit` is a flat list of :class:`Op`. There are exactly four kinds of operation:

- ``"u"``: a one-qubit gate given by its 2x2 unitary (``matrix``);
- ``"cx"``: CNOT, ``qubits = (control, target)``;
- ``"cz"``: controlled-Z, ``qubits = (a, b)`` (symmetric);
- ``"measure"``: a Z-basis readout of ``qubits[0]`` into classical bit ``clbit``.

Every other gate of an input file (SWAP, controlled phases, Toffoli, ...) is decomposed into
these by :mod:`protocols.circuits.gates` when the circuit is built, so the partitioner, the
compiler and the executor see only one- and two-qubit gates. Qubit ``0`` is the *most*
significant bit of a basis-state index (big-endian, as in :mod:`modenhub_net.qubits`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modenhub_net.errors import UserInputError

__all__ = ["Circuit", "Op", "OP_KINDS", "ideal_statevector", "is_diagonal", "apply_op_to_state"]

#: the four kinds of operation of the IR
OP_KINDS = ("u", "cx", "cz", "measure")

_CX = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=complex)
_CZ = np.diag([1, 1, 1, -1]).astype(complex)


@dataclass(frozen=True, eq=False)
class Op:
    """One operation of a :class:`Circuit`.

    Parameters
    ----------
    kind : {"u", "cx", "cz", "measure"}
        See the module docstring.
    qubits : tuple of int
        Logical qubits (one for ``"u"`` and ``"measure"``, two for ``"cx"``/``"cz"``).
    matrix : numpy.ndarray, optional
        The 2x2 unitary of a ``"u"`` operation (None otherwise).
    name : str
        The gate's name in the source (e.g. ``"h"``, ``"rz"``, ``"cp"``), for records.
    clbit : int, optional
        Classical bit of a measurement.
    line : int, optional
        Line of the source file the operation came from (None for generated circuits).
    """

    kind: str
    qubits: tuple[int, ...]
    matrix: np.ndarray | None = None
    name: str = ""
    clbit: int | None = None
    line: int | None = None

    @property
    def unitary(self) -> np.ndarray:
        """The operation's unitary (2x2 or 4x4; not defined for a measurement)."""
        if self.kind == "u":
            return self.matrix
        if self.kind == "cx":
            return _CX
        if self.kind == "cz":
            return _CZ
        raise ValueError("a measurement has no unitary")

    def is_diagonal_on(self, qubit: int) -> bool:
        """True if the operation commutes with Z on ``qubit`` (needed by ebit sharing).

        One-qubit diagonal gates, CZ on either qubit and CX on its control commute with
        ``Z_qubit``; a non-diagonal one-qubit gate, CX on its target and a measurement
        do not (measurements end an open cat-entanglement too).
        """
        if qubit not in self.qubits:
            return True
        if self.kind == "u":
            return is_diagonal(self.matrix)
        if self.kind == "cz":
            return True
        if self.kind == "cx":
            return self.qubits[0] == qubit
        return False


def is_diagonal(matrix: np.ndarray, *, atol: float = 1e-12) -> bool:
    """True if a 2x2 matrix has zero off-diagonal elements (to ``atol``)."""
    return abs(matrix[0, 1]) <= atol and abs(matrix[1, 0]) <= atol


@dataclass(frozen=True, eq=False)
class Circuit:
    """A logical circuit.

    Parameters
    ----------
    n_qubits : int
        Number of logical qubits, >= 1.
    ops : tuple of Op
        Operations in program order. Measurements must be terminal: no gate may act on a
        qubit after it was measured (mid-circuit measurements with classical feed-forward
        are outside the IR).
    name : str
        A label (file stem or generator name).
    n_clbits : int
        Number of classical bits.
    metadata : dict
        Facts about the circuit a result may need (e.g. ``{"marked": 5}`` for Grover
        search, ``{"edges": [...]}`` for QAOA).
    """

    n_qubits: int
    ops: tuple[Op, ...]
    name: str = "circuit"
    n_clbits: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.n_qubits, bool) or not isinstance(self.n_qubits, int) or self.n_qubits < 1:
            raise UserInputError(f"n_qubits = {self.n_qubits!r} must be an integer >= 1")
        measured: set[int] = set()
        for index, op in enumerate(self.ops):
            where = f"{self.name}: operation {index} ({op.name or op.kind}"
            where += f", line {op.line})" if op.line is not None else ")"
            if op.kind not in OP_KINDS:
                raise UserInputError(f"{where}: kind = {op.kind!r} is not one of {OP_KINDS}")
            arity = 2 if op.kind in ("cx", "cz") else 1
            if len(op.qubits) != arity or len(set(op.qubits)) != arity:
                raise UserInputError(f"{where}: needs {arity} distinct qubit(s), got {op.qubits}")
            for q in op.qubits:
                if not 0 <= q < self.n_qubits:
                    raise UserInputError(f"{where}: qubit {q} outside [0, {self.n_qubits - 1}]")
                if q in measured:
                    raise UserInputError(
                        f"{where}: acts on qubit {q} after it was measured; mid-circuit "
                        "measurements are not supported (measurements must be terminal)"
                    )
            if op.kind == "measure":
                measured.add(op.qubits[0])
            if op.kind == "u" and (op.matrix is None or np.shape(op.matrix) != (2, 2)):
                raise UserInputError(f"{where}: a one-qubit gate needs a 2x2 matrix")

    @property
    def gates(self) -> list[Op]:
        """The unitary operations (everything but measurements), in order."""
        return [op for op in self.ops if op.kind != "measure"]

    @property
    def measured_qubits(self) -> list[int]:
        """Measured qubits in order of measurement."""
        return [op.qubits[0] for op in self.ops if op.kind == "measure"]

    def two_qubit_gates(self) -> list[Op]:
        """The CX and CZ operations, in order."""
        return [op for op in self.ops if op.kind in ("cx", "cz")]

    def counts(self) -> dict[str, int]:
        """Number of operations of each kind."""
        out = dict.fromkeys(OP_KINDS, 0)
        for op in self.ops:
            out[op.kind] += 1
        return out

    def layers(self) -> list[int]:
        """ASAP layer (0-based) of every operation: 1 + the latest layer on its qubits."""
        depth = [-1] * self.n_qubits
        out = []
        for op in self.ops:
            layer = 1 + max(depth[q] for q in op.qubits)
            for q in op.qubits:
                depth[q] = layer
            out.append(layer)
        return out

    def with_ops(self, ops: Iterable[Op], **changes: Any) -> Circuit:
        """A copy with other operations (and optionally other fields)."""
        kwargs = {
            "n_qubits": self.n_qubits,
            "name": self.name,
            "n_clbits": self.n_clbits,
            "metadata": dict(self.metadata),
        }
        kwargs.update(changes)
        return Circuit(ops=tuple(ops), **kwargs)


def apply_op_to_state(state: np.ndarray, op: Op, n_qubits: int) -> np.ndarray:
    """Apply a unitary ``op`` to a statevector tensor of shape ``(2,) * n_qubits``."""
    k = len(op.qubits)
    u = np.asarray(op.unitary).reshape((2,) * (2 * k))
    out = np.tensordot(u, state, axes=(list(range(k, 2 * k)), list(op.qubits)))
    # the gate's output axes come first: move them back to the qubits' positions
    return np.moveaxis(out, list(range(k)), list(op.qubits))


def ideal_statevector(circuit: Circuit, *, ops: Sequence[Op] | None = None) -> np.ndarray:
    """The ideal output state (before the terminal measurements) as a vector of 2^n amplitudes.

    Starts from ``|0...0>``; measurements are skipped (they are terminal).

    Examples
    --------
    >>> from protocols.circuits.generators import ghz
    >>> np.round(ideal_statevector(ghz(3)).real, 6)[[0, 7]]
    array([0.707107, 0.707107])
    """
    n = circuit.n_qubits
    if n > 26:
        raise UserInputError(f"n_qubits = {n}: the ideal statevector is limited to 26 qubits")
    state = np.zeros((2,) * n, dtype=complex)
    state[(0,) * n] = 1.0
    for op in circuit.ops if ops is None else ops:
        if op.kind != "measure":
            state = apply_op_to_state(state, op, n)
    return state.reshape(-1)
