"""Gate decompositions against the gates' matrices; the IR's checks; the generators' outputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modenhub_net.errors import UserInputError
from protocols.circuits.gates import (
    ONE_QUBIT_GATES,
    controlled_u_ops,
    expand_gate,
    mcz_ops,
    u3_matrix,
    zyz_angles,
)
from protocols.circuits.generators import build_generator, ghz, graph_rng, grover, qaoa_maxcut, qft
from protocols.circuits.ir import Circuit, Op, apply_op_to_state, ideal_statevector


def unitary_of(ops, n):
    """The 2^n x 2^n unitary of a list of IR operations (column j = image of |j>)."""
    columns = []
    for j in range(2**n):
        state = np.zeros((2,) * n, dtype=complex)
        state.flat[j] = 1.0
        for op in ops:
            state = apply_op_to_state(state, op, n)
        columns.append(state.reshape(-1))
    return np.array(columns).T


def equal_up_to_phase(a, b):
    index = np.unravel_index(np.argmax(abs(b)), b.shape)
    phase = a[index] / b[index]
    return abs(abs(phase) - 1) < 1e-10 and np.allclose(a, phase * b, atol=1e-10)


def controlled(u):
    out = np.eye(4, dtype=complex)
    out[2:, 2:] = u
    return out


def test_zyz_reconstructs_random_unitaries():
    rng = np.random.default_rng(11)
    rz = lambda t: np.diag([np.exp(-0.5j * t), np.exp(0.5j * t)])  # noqa: E731
    ry = lambda t: np.array([[math.cos(t / 2), -math.sin(t / 2)], [math.sin(t / 2), math.cos(t / 2)]])  # noqa: E731
    for _ in range(50):
        u = u3_matrix(*rng.uniform(-4, 4, 3)) * np.exp(1j * rng.uniform(-4, 4))
        a, b, c, d = zyz_angles(u)
        assert np.allclose(np.exp(1j * a) * rz(b) @ ry(c) @ rz(d), u, atol=1e-12)


def test_controlled_u_is_exact_including_phase():
    rng = np.random.default_rng(3)
    for _ in range(30):
        u = u3_matrix(*rng.uniform(-4, 4, 3)) * np.exp(1j * rng.uniform(-4, 4))
        assert np.allclose(unitary_of(controlled_u_ops(u, 0, 1), 2), controlled(u), atol=1e-12)
    # diagonal and X-like special cases of the Euler angles
    for u in (np.diag([1, 1j]), np.array([[0, 1], [1, 0]]), np.eye(2)):
        assert np.allclose(
            unitary_of(controlled_u_ops(u, 1, 0), 2)[[0, 2, 1, 3]][:, [0, 2, 1, 3]], controlled(u), atol=1e-12
        )


@pytest.mark.parametrize(
    "name,params",
    [
        ("cy", []),
        ("ch", []),
        ("crx", [0.7]),
        ("cry", [-1.3]),
        ("crz", [2.1]),
        ("cp", [0.4]),
        ("cu1", [1.9]),
        ("cu3", [0.3, 1.1, -0.6]),
    ],
)
def test_standard_controlled_gates(name, params):
    base = {"cy": "y", "ch": "h", "crx": "rx", "cry": "ry", "crz": "rz", "cp": "p", "cu1": "u1", "cu3": "u3"}[
        name
    ]
    u = ONE_QUBIT_GATES[base][1](*params)
    assert np.allclose(unitary_of(expand_gate(name, params, [0, 1]), 2), controlled(u), atol=1e-12)


def test_two_and_three_qubit_gates():
    swap = np.eye(4)[[0, 2, 1, 3]]
    assert equal_up_to_phase(unitary_of(expand_gate("swap", [], [0, 1]), 2), swap)
    theta = 0.83
    zz = np.diag(np.exp(-0.5j * theta * np.array([1, -1, -1, 1])))
    assert equal_up_to_phase(unitary_of(expand_gate("rzz", [theta], [0, 1]), 2), zz)
    x = np.array([[0, 1], [1, 0]])
    xx = np.cos(theta / 2) * np.eye(4) - 1j * np.sin(theta / 2) * np.kron(x, x)
    assert equal_up_to_phase(unitary_of(expand_gate("rxx", [theta], [0, 1]), 2), xx)
    toffoli = np.eye(8)
    toffoli[6:, 6:] = x
    assert equal_up_to_phase(unitary_of(expand_gate("ccx", [], [0, 1, 2]), 3), toffoli)
    fredkin = np.eye(8)[[0, 1, 2, 3, 4, 6, 5, 7]]
    assert equal_up_to_phase(unitary_of(expand_gate("cswap", [], [0, 1, 2]), 3), fredkin)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_multi_controlled_z(n):
    target = np.eye(2**n, dtype=complex)
    target[-1, -1] = -1
    assert equal_up_to_phase(unitary_of(mcz_ops(list(range(n))), n), target)


def test_circuit_refuses_bad_operations():
    with pytest.raises(UserInputError, match="after it was measured"):
        Circuit(1, (Op("measure", (0,)), Op("u", (0,), np.eye(2))))
    with pytest.raises(UserInputError, match="outside"):
        Circuit(2, (Op("cx", (0, 2)),))
    with pytest.raises(UserInputError, match="distinct"):
        Circuit(2, (Op("cx", (1, 1)),))
    with pytest.raises(UserInputError, match="n_qubits"):
        Circuit(True, ())


def test_ghz_and_qft_outputs():
    for n in (2, 5, 9):
        psi = ideal_statevector(ghz(n))
        expected = np.zeros(2**n)
        expected[[0, -1]] = 1 / math.sqrt(2)
        assert np.allclose(psi, expected, atol=1e-12)
    for n, x in ((3, 5), (5, 19), (6, 0)):
        # QFT |x> = 2^{-n/2} sum_y exp(2 pi i x y / 2^n) |y> (Nielsen & Chuang eq. 5.2)
        y = np.arange(2**n)
        expected = np.exp(2j * np.pi * x * y / 2**n) / math.sqrt(2**n)
        assert abs(np.vdot(expected, ideal_statevector(qft(n, basis_input=x)))) ** 2 == pytest.approx(
            1, abs=1e-12
        )


@pytest.mark.parametrize("n,marked", [(2, 3), (3, 5), (4, 9), (5, 0)])
def test_grover_success_probability(n, marked):
    circuit = grover(n, marked=marked)
    k = circuit.metadata["iterations"]
    theta = math.asin(2 ** (-n / 2))
    # sin^2((2k+1) theta) (Boyer, Brassard, Hoyer & Tapp 1998)
    assert abs(ideal_statevector(circuit)[marked]) ** 2 == pytest.approx(
        math.sin((2 * k + 1) * theta) ** 2, abs=1e-12
    )


def test_qaoa_p1_edge_expectation_matches_closed_form():
    """<(1 - Z_u Z_v)/2> of p = 1 QAOA on each edge, closed form of Wang, Hadfield, Jiang &
    Rieffel, PRA 97, 022304 (2018), Thm 1 (triangle-free and general graphs)."""
    gamma, beta = 0.6, 0.4
    circuit = qaoa_maxcut(7, rng=graph_rng(5), edge_prob=0.5, gamma=gamma, beta=beta, measure=False)
    edges = circuit.metadata["edges"]
    n = circuit.n_qubits
    psi = ideal_statevector(circuit).reshape((2,) * n)
    prob = abs(psi) ** 2
    neighbours = {v: {b for a, b in edges if a == v} | {a for a, b in edges if b == v} for v in range(n)}
    for u, v in edges:
        zz = float(np.sum(prob * np.where(np.indices(prob.shape)[u] == np.indices(prob.shape)[v], 1, -1)))
        measured = (1 - zz) / 2
        d, e = len(neighbours[u]) - 1, len(neighbours[v]) - 1
        f = len(neighbours[u] & neighbours[v])
        expected = 0.5 + 0.25 * math.sin(4 * beta) * math.sin(gamma) * (
            math.cos(gamma) ** d + math.cos(gamma) ** e
        )
        expected -= (
            0.25
            * math.sin(2 * beta) ** 2
            * math.cos(gamma) ** (d + e - 2 * f)
            * (1 - math.cos(2 * gamma) ** f)
        )
        assert measured == pytest.approx(expected, abs=1e-12), (u, v)


def test_qaoa_graph_is_reproducible_by_seed():
    a = qaoa_maxcut(8, rng=graph_rng(1)).metadata["edges"]
    assert a == qaoa_maxcut(8, rng=graph_rng(1)).metadata["edges"]
    assert a != qaoa_maxcut(8, rng=graph_rng(2)).metadata["edges"]
    assert build_generator("qaoa", 8, seed=1).metadata["edges"] == a


def test_generator_input_errors():
    with pytest.raises(UserInputError, match="n_qubits"):
        ghz(1)
    with pytest.raises(UserInputError, match="marked"):
        grover(3, marked=8)
    with pytest.raises(UserInputError, match="n_qubits"):
        grover(11)
    with pytest.raises(UserInputError, match="unknown generator"):
        build_generator("shor", 4)
    with pytest.raises(UserInputError, match="edge_prob"):
        qaoa_maxcut(4, rng=graph_rng(0), edge_prob=0.0)
    with pytest.raises(UserInputError, match="basis_input"):
        qft(3, basis_input=True)
