"""Gate library: one-qubit unitaries and decompositions of standard gates into the IR.

Every named gate of OpenQASM's ``qelib1.inc`` (OpenQASM 2) and ``stdgates.inc`` (OpenQASM 3)
is expressed as IR operations (one-qubit unitaries, CX, CZ):

- one-qubit gates from their matrices (OpenQASM 3 specification, ``stdgates.inc``;
  ``U(theta, phi, lambda)`` as in Cross et al., ACM TQC 3, 12 (2022), eq. (1));
- controlled one-qubit gates ``C-U`` by the ABC construction with two CNOTs
  (Barenco et al., PRA 52, 3457 (1995), Lemma 5.1; Nielsen & Chuang Cor. 4.2 / Fig. 4.6),
  from the Z-Y-Z Euler decomposition ``U = e^{i a} Rz(b) Ry(c) Rz(d)``;
- SWAP as three CNOTs, ``rzz``/``rxx`` with two CNOTs, Toffoli with six CNOTs
  (Nielsen & Chuang Fig. 4.9), Fredkin as Toffoli between two CNOTs;
- the multi-controlled Z of Grover search from the phase polynomial
  ``prod_i x_i = 2^{1-n} sum_{S != {}} (-1)^{|S|-1} (XOR_{i in S} x_i)`` with one CNOT ladder per
  parity, no ancilla (Welch, Greenbaum, Mostame & Aspuru-Guzik, NJP 16, 033040 (2014)).

Global phases are dropped (they are unobservable); tests compare the decompositions with the
gates' matrices up to a global phase.
"""

from __future__ import annotations

import cmath
import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np

from protocols.circuits.ir import Op

__all__ = [
    "ONE_QUBIT_GATES",
    "STANDARD_GATES",
    "controlled_u_ops",
    "expand_gate",
    "gate_arity",
    "mcz_ops",
    "u3_matrix",
    "zyz_angles",
]


def u3_matrix(theta: float, phi: float, lam: float) -> np.ndarray:
    """``U(theta, phi, lambda)`` of OpenQASM (Cross et al., ACM TQC 3, 12 (2022), eq. (1))."""
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return np.array(
        [[c, -cmath.exp(1j * lam) * s], [cmath.exp(1j * phi) * s, cmath.exp(1j * (phi + lam)) * c]],
        dtype=complex,
    )


def _rx(t: float) -> np.ndarray:
    return np.array([[math.cos(t / 2), -1j * math.sin(t / 2)], [-1j * math.sin(t / 2), math.cos(t / 2)]])


def _ry(t: float) -> np.ndarray:
    return np.array([[math.cos(t / 2), -math.sin(t / 2)], [math.sin(t / 2), math.cos(t / 2)]], dtype=complex)


def _rz(t: float) -> np.ndarray:
    return np.diag([cmath.exp(-0.5j * t), cmath.exp(0.5j * t)])


def _p(t: float) -> np.ndarray:
    return np.diag([1.0, cmath.exp(1j * t)])


_SQ2 = 1 / math.sqrt(2)

#: one-qubit gates: name -> (number of parameters, matrix builder)
ONE_QUBIT_GATES: dict[str, tuple[int, Callable[..., np.ndarray]]] = {
    "id": (0, lambda: np.eye(2, dtype=complex)),
    "x": (0, lambda: np.array([[0, 1], [1, 0]], dtype=complex)),
    "y": (0, lambda: np.array([[0, -1j], [1j, 0]], dtype=complex)),
    "z": (0, lambda: np.diag([1.0, -1.0]).astype(complex)),
    "h": (0, lambda: np.array([[_SQ2, _SQ2], [_SQ2, -_SQ2]], dtype=complex)),
    "s": (0, lambda: np.diag([1.0, 1j])),
    "sdg": (0, lambda: np.diag([1.0, -1j])),
    "t": (0, lambda: np.diag([1.0, cmath.exp(0.25j * math.pi)])),
    "tdg": (0, lambda: np.diag([1.0, cmath.exp(-0.25j * math.pi)])),
    "sx": (0, lambda: 0.5 * np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]])),
    "sxdg": (0, lambda: 0.5 * np.array([[1 - 1j, 1 + 1j], [1 + 1j, 1 - 1j]])),
    "rx": (1, _rx),
    "ry": (1, _ry),
    "rz": (1, _rz),
    "p": (1, _p),
    "phase": (1, _p),
    "u1": (1, _p),
    "u2": (2, lambda phi, lam: u3_matrix(math.pi / 2, phi, lam)),
    "u3": (3, u3_matrix),
    "u": (3, u3_matrix),
    "U": (3, u3_matrix),
}
ONE_QUBIT_GATES["i"] = ONE_QUBIT_GATES["id"]


def zyz_angles(u: np.ndarray) -> tuple[float, float, float, float]:
    """Angles ``(a, b, c, d)`` with ``U = e^{i a} Rz(b) Ry(c) Rz(d)`` (Nielsen & Chuang Thm 4.1)."""
    det = np.linalg.det(u)
    a = cmath.phase(det) / 2
    v = u * cmath.exp(-1j * a)  # special unitary: [[e^{-i(b+d)/2} cos, -e^{-i(b-d)/2} sin], ...]
    c = 2 * math.atan2(abs(v[1, 0]), abs(v[0, 0]))
    if abs(v[0, 0]) > 1e-12 and abs(v[1, 0]) > 1e-12:
        s_bd = -2 * cmath.phase(v[0, 0])  # b + d
        d_bd = 2 * cmath.phase(v[1, 0])  # b - d
    elif abs(v[1, 0]) <= 1e-12:
        s_bd, d_bd = -2 * cmath.phase(v[0, 0]), 0.0
    else:
        s_bd, d_bd = 0.0, 2 * cmath.phase(v[1, 0])
    return a, (s_bd + d_bd) / 2, c, (s_bd - d_bd) / 2


def _u(matrix: np.ndarray, q: int, name: str) -> Op:
    return Op("u", (q,), np.asarray(matrix, dtype=complex), name)


def controlled_u_ops(u: np.ndarray, control: int, target: int, *, name: str = "cu") -> list[Op]:
    """``C-U`` as ``C; CX; B; CX; A`` on the target and a phase on the control.

    Barenco et al., PRA 52, 3457 (1995), Lemma 5.1 (Nielsen & Chuang Cor. 4.2): with
    ``U = e^{i a} Rz(b) Ry(c) Rz(d)``, ``A = Rz(b) Ry(c/2)``, ``B = Ry(-c/2) Rz(-(d+b)/2)``,
    ``C = Rz((d-b)/2)``, ``ABC = I`` and ``A X B X C = e^{-i a} U``; the phase ``e^{i a}`` is
    ``P(a)`` on the control.
    """
    a, b, c, d = zyz_angles(np.asarray(u, dtype=complex))
    ops = [
        _u(_rz((d - b) / 2), target, name),
        Op("cx", (control, target), name=name),
        _u(_ry(-c / 2) @ _rz(-(d + b) / 2), target, name),
        Op("cx", (control, target), name=name),
        _u(_rz(b) @ _ry(c / 2), target, name),
    ]
    if abs(a) > 1e-15:
        ops.append(_u(_p(a), control, name))
    return ops


def _ccx(a: int, b: int, t: int, name: str = "ccx") -> list[Op]:
    """Toffoli with six CNOTs (Nielsen & Chuang Fig. 4.9)."""
    g = {k: ONE_QUBIT_GATES[k][1]() for k in ("h", "t", "tdg")}
    seq = [
        ("h", t),
        ("cx", b, t),
        ("tdg", t),
        ("cx", a, t),
        ("t", t),
        ("cx", b, t),
        ("tdg", t),
        ("cx", a, t),
        ("t", b),
        ("t", t),
        ("h", t),
        ("cx", a, b),
        ("t", a),
        ("tdg", b),
        ("cx", a, b),
    ]
    return [Op("cx", (s[1], s[2]), name=name) if s[0] == "cx" else _u(g[s[0]], s[1], name) for s in seq]


def mcz_ops(qubits: Sequence[int], *, name: str = "mcz") -> list[Op]:
    """Multi-controlled Z on ``qubits`` (phase -1 on |1...1>) without ancillas.

    Phase polynomial (Welch et al., NJP 16, 033040 (2014)): ``pi prod_i x_i =
    sum_{S != {}} pi (-1)^{|S|-1} 2^{1-n} (XOR_{i in S} x_i)``; each parity is computed into
    the last qubit of ``S`` by a CNOT ladder, given the phase ``P(theta_S)`` and uncomputed.
    Uses ``sum_S 2(|S|-1)`` CNOTs (n 2^n order): meant for the few qubits of Grover search.
    """
    n = len(qubits)
    if n == 1:
        return [_u(ONE_QUBIT_GATES["z"][1](), qubits[0], name)]
    if n == 2:
        return [Op("cz", (qubits[0], qubits[1]), name=name)]
    ops: list[Op] = []
    for size in range(1, n + 1):
        for subset in itertools.combinations(qubits, size):
            theta = math.pi * (-1) ** (size - 1) / 2 ** (n - 1)
            *others, last = subset
            ladder = [Op("cx", (q, last), name=name) for q in others]
            ops += ladder + [_u(_p(theta), last, name)] + ladder[::-1]
    return ops


def _two(name: str, params: Sequence[float], a: int, b: int) -> list[Op]:
    one = {k: v[1] for k, v in ONE_QUBIT_GATES.items()}
    if name in ("cx", "CX", "cnot"):
        return [Op("cx", (a, b), name=name)]
    if name == "cz":
        return [Op("cz", (a, b), name=name)]
    if name == "swap":
        return [Op("cx", (a, b), name=name), Op("cx", (b, a), name=name), Op("cx", (a, b), name=name)]
    if name == "rzz":
        return [Op("cx", (a, b), name=name), _u(_rz(params[0]), b, name), Op("cx", (a, b), name=name)]
    if name == "rxx":
        h = one["h"]()
        return [_u(h, a, name), _u(h, b, name)] + _two("rzz", params, a, b) + [_u(h, a, name), _u(h, b, name)]
    controlled = {
        "cy": lambda: one["y"](),
        "ch": lambda: one["h"](),
        "crx": lambda: _rx(params[0]),
        "cry": lambda: _ry(params[0]),
        "crz": lambda: _rz(params[0]),
        "cp": lambda: _p(params[0]),
        "cphase": lambda: _p(params[0]),
        "cu1": lambda: _p(params[0]),
        "cu3": lambda: u3_matrix(*params[:3]),
    }
    if name == "cu":  # OpenQASM 3: cu(theta, phi, lambda, gamma) = P(gamma) on control, C-U3
        ops = controlled_u_ops(u3_matrix(*params[:3]), a, b, name=name)
        return ops + [_u(_p(params[3]), a, name)]
    return controlled_u_ops(controlled[name](), a, b, name=name)


#: gates other than the one-qubit ones: name -> (number of parameters, number of qubits)
STANDARD_GATES: dict[str, tuple[int, int]] = {
    "cx": (0, 2),
    "CX": (0, 2),
    "cnot": (0, 2),
    "cz": (0, 2),
    "cy": (0, 2),
    "ch": (0, 2),
    "swap": (0, 2),
    "rzz": (1, 2),
    "rxx": (1, 2),
    "crx": (1, 2),
    "cry": (1, 2),
    "crz": (1, 2),
    "cp": (1, 2),
    "cphase": (1, 2),
    "cu1": (1, 2),
    "cu3": (3, 2),
    "cu": (4, 2),
    "ccx": (0, 3),
    "cswap": (0, 3),
    "ccz": (0, 3),
}


def gate_arity(name: str) -> tuple[int, int] | None:
    """``(n_params, n_qubits)`` of a standard gate, or None if the name is not standard."""
    if name in ONE_QUBIT_GATES:
        return ONE_QUBIT_GATES[name][0], 1
    return STANDARD_GATES.get(name)


def expand_gate(name: str, params: Sequence[float], qubits: Sequence[int]) -> list[Op]:
    """IR operations of the standard gate ``name`` with ``params`` on ``qubits``.

    The caller checks the numbers of parameters and qubits with :func:`gate_arity`.
    """
    if name in ONE_QUBIT_GATES:
        return [_u(ONE_QUBIT_GATES[name][1](*params), qubits[0], name)]
    if name == "ccx":
        return _ccx(*qubits)
    if name == "ccz":
        return mcz_ops(list(qubits), name=name)
    if name == "cswap":
        c, a, b = qubits
        return [Op("cx", (b, a), name=name), *_ccx(c, a, b, name), Op("cx", (b, a), name=name)]
    return _two(name, params, qubits[0], qubits[1])
