"""The density-matrix engines: the Pauli-basis register with fused channels against the plain
complex register (every primitive, random sequences), and the fusion it promises."""

from __future__ import annotations

import numpy as np
import pytest

from hardware_models.memory import MemoryParams
from modenhub_net.qubits import werner_dm
from protocols.circuits.engines import (
    DensityRegister,
    PauliRegister,
    depolar_superop,
    pauli_transfer_matrix,
    unitary_superop,
)
from protocols.circuits.gates import u3_matrix

MEMORY = MemoryParams(t1_ns=5e6, t2_ns=3e6, depolar_time_ns=8e6)
CX = np.eye(4)[[0, 1, 3, 2]].astype(complex)
H = np.array([[1, 1], [1, -1]], dtype=complex) / np.sqrt(2)


def random_unitary(rng, k):
    z = rng.normal(size=(2**k, 2**k)) + 1j * rng.normal(size=(2**k, 2**k))
    q, r = np.linalg.qr(z)
    return q * (np.diag(r) / np.abs(np.diag(r)))


def teleported_cx(reg, c, t, name, rho):
    """The executor's EJPP teleported CX as a block (ebit ``rho``, noisy gates and memory)."""

    def procedure(small):
        ea, eb = f"{name}a", f"{name}b"
        small.new_ebit(ea, eb, rho)
        small.idle(ea, 2e5, MEMORY)
        small.gate(CX, [c, ea], 0.02)
        small.measure_discard(ea, 0.01, [("X", eb)])
        small.gate(CX, [eb, t], 0.03)
        small.gate(H, [eb], 0.005)
        small.measure_discard(eb, 0.01, [("Z", c)])

    reg.block([c, t], [c, t], procedure)


def random_program(reg, seed, n=6, steps=60):
    rng = np.random.default_rng(seed)
    names = [f"q{i}" for i in range(n)]
    extra = 0
    for _ in range(steps):
        kind = rng.integers(7)
        a, b = (str(x) for x in rng.choice(names, 2, replace=False))
        if kind == 0:
            reg.gate(u3_matrix(*rng.uniform(-3, 3, 3)), [a], float(rng.uniform(0, 0.05)))
        elif kind == 1:
            reg.gate(random_unitary(rng, 2), [a, b], float(rng.uniform(0, 0.05)))
        elif kind == 2:
            reg.idle(a, float(rng.uniform(0, 3e6)), MEMORY)
        elif kind == 3:
            teleported_cx(reg, a, b, f"e{extra}", werner_dm(float(rng.uniform(0.6, 1.0))))
            extra += 1
        elif kind == 4 and len(names) < n + 2:
            e = f"x{extra}"
            extra += 1
            reg.new_ebit(e, e + "'", werner_dm(0.9))
            names += [e, e + "'"]
        elif kind == 5 and len(names) > n:
            gone = names.pop()
            target = names[int(rng.integers(len(names)))]
            reg.measure_discard(gone, 0.03, [(str(rng.choice(["X", "Y", "Z"])), target)])
        else:
            reg.gate(CX, [a, b], 0.01)
    return names


@pytest.mark.parametrize("seed", range(6))
def test_pauli_register_equals_the_complex_register(seed):
    """Same program on both engines: the density matrices agree to rounding (any fusion error,
    a wrong transfer matrix or a wrong sign of a correction would show at O(1e-2))."""
    pauli, plain = PauliRegister([f"q{i}" for i in range(6)]), DensityRegister([f"q{i}" for i in range(6)])
    names = random_program(pauli, seed)
    assert random_program(plain, seed) == names
    assert pauli.passes < 60  # fused: fewer passes over the state than operations
    np.testing.assert_allclose(pauli.matrix(names), plain.matrix(names), atol=1e-12)
    np.testing.assert_allclose(pauli.probabilities(names), plain.probabilities(names), atol=1e-12)
    psi = random_unitary(np.random.default_rng(seed), len(names))[:, 0]
    assert pauli.expectation_pure(psi, names) == pytest.approx(plain.expectation_pure(psi, names), abs=1e-12)
    rho = pauli.matrix(names)
    assert np.trace(rho).real == pytest.approx(1.0, abs=1e-12)
    assert np.linalg.eigvalsh(rho).min() > -1e-12


def test_one_to_two_qubit_block_and_state_growth():
    """The shared-ebit (cat-entangle) block maps one data qubit to it and an ebit half."""
    for reg in (PauliRegister(["c", "t"]), DensityRegister(["c", "t"])):
        reg.gate(H, ["c"])

        def cat(small):
            small.new_ebit("ea", "eb", werner_dm(0.85))
            small.gate(CX, ["c", "ea"], 0.01)
            small.measure_discard("ea", 0.02, [("X", "eb")])

        reg.block(["c"], ["c", "eb"], cat)
        reg.gate(CX, ["eb", "t"], 0.02)
        reg.gate(H, ["eb"])
        reg.measure_discard("eb", 0.0, [("Z", "c")])
        if isinstance(reg, PauliRegister):
            got = reg.matrix(["c", "t"])
        else:
            np.testing.assert_allclose(got, reg.matrix(["c", "t"]), atol=1e-12)


def test_channels_on_one_pair_are_one_pass():
    """A controlled phase as the QFT generator writes it (phases and two CNOTs, gate errors and
    storage noise in between) is a single pass over the state; a third qubit forces one more."""
    reg = PauliRegister([f"q{i}" for i in range(8)])
    p = np.diag([1, np.exp(0.3j)])
    for _ in range(3):
        reg.idle("q2", 1e5, MEMORY)
        reg.gate(p, ["q2"], 0.01)
        reg.gate(CX, ["q2", "q5"], 0.02)
        reg.idle("q5", 1e5, MEMORY)
        reg.gate(p.conj(), ["q5"], 0.01)
    assert reg.passes == 0  # all still pending, fused into one 16 x 16 matrix
    reg.gate(CX, ["q5", "q7"])
    assert reg.passes == 1
    reg.matrix()
    assert reg.passes == 2


def test_transfer_matrices():
    """Unitary channels have orthogonal transfer matrices; depolarising is diag(1, 1-p, ...)
    (Chow et al., PRL 109, 060501 (2012))."""
    u = random_unitary(np.random.default_rng(1), 2)
    r = pauli_transfer_matrix(unitary_superop(u), 2)
    np.testing.assert_allclose(r @ r.T, np.eye(16), atol=1e-12)
    assert r[0, 0] == pytest.approx(1.0) and np.allclose(r[0, 1:], 0.0) and np.allclose(r[1:, 0], 0.0)
    d = pauli_transfer_matrix(depolar_superop(0.2, 1), 1)
    np.testing.assert_allclose(d, np.diag([1.0, 0.8, 0.8, 0.8]), atol=1e-15)
    with pytest.raises(ValueError, match="Hermiticity"):
        pauli_transfer_matrix(np.diag([1, 1j, 1, 1]), 1)
