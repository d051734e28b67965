"""Random states, gates, channels, partial traces and fidelities against QuTiP (1e-10)."""

import numpy as np
import pytest

qutip = pytest.importorskip("qutip")

from modenhub_net.qubits import (  # noqa: E402
    apply_kraus,
    assign_state,
    create_qubits,
    fidelity,
    operate,
    reduced_dm,
)


def _random_dm(n, rng):
    dim = 2**n
    g = rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))
    rho = g @ g.conj().T
    return rho / np.trace(rho)


def _random_unitary(k, rng):
    dim = 2**k
    g = rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))
    q, r = np.linalg.qr(g)
    return q * (np.diag(r) / abs(np.diag(r)))


def _qobj(rho, n):
    return qutip.Qobj(rho, dims=[[2] * n, [2] * n])


def _expand(op, targets, n):
    """Full-space operator via QuTiP (the oracle may build Kronecker products)."""
    return qutip.expand_operator(qutip.Qobj(op, dims=[[2] * len(targets)] * 2), dims=[2] * n, targets=targets)


@pytest.mark.parametrize("seed", range(12))
def test_random_unitaries_on_random_targets(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5))
    rho = _random_dm(n, rng)
    qubits = create_qubits(n)
    assign_state(qubits, rho)
    oracle = _qobj(rho, n)
    for _ in range(4):
        k = int(rng.integers(1, min(n, 3) + 1))
        targets = [int(t) for t in rng.choice(n, size=k, replace=False)]
        u = _random_unitary(k, rng)
        operate([qubits[t] for t in targets], u)
        full = _expand(u, targets, n)
        oracle = full * oracle * full.dag()
    assert np.allclose(reduced_dm(qubits), oracle.full(), atol=1e-10)


@pytest.mark.parametrize("seed", range(8))
def test_random_kraus_channels(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 4))
    rho = _random_dm(n, rng)
    qubits = create_qubits(n)
    assign_state(qubits, rho)
    k = int(rng.integers(1, min(n, 2) + 1))
    targets = [int(t) for t in rng.choice(n, size=k, replace=False)]
    # random channel: Stinespring from a random isometry
    dim = 2**k
    iso = _random_unitary(int(np.log2(dim)) + 1, rng)[:, :dim]
    kraus = [iso[j * dim:(j + 1) * dim, :] for j in range(2)]
    apply_kraus([qubits[t] for t in targets], kraus)
    oracle = sum(_expand(K, targets, n) * _qobj(rho, n) * _expand(K, targets, n).dag() for K in kraus)
    assert np.allclose(reduced_dm(qubits), oracle.full(), atol=1e-10)


@pytest.mark.parametrize("seed", range(8))
def test_partial_traces_in_any_order(seed):
    rng = np.random.default_rng(200 + seed)
    n = 4
    rho = _random_dm(n, rng)
    qubits = create_qubits(n)
    assign_state(qubits, rho)
    keep = [int(t) for t in rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False)]
    ours = reduced_dm([qubits[k] for k in keep])
    oracle = _qobj(rho, n).ptrace(sorted(keep))
    # QuTiP keeps ascending order; permute to ours
    m = len(keep)
    order = [sorted(keep).index(k) for k in keep]
    oracle = oracle.permute(order) if m > 1 else oracle
    assert np.allclose(ours, oracle.full(), atol=1e-10)


@pytest.mark.parametrize("seed", range(8))
def test_uhlmann_fidelity(seed):
    rng = np.random.default_rng(300 + seed)
    n = int(rng.integers(1, 3))
    rho, sigma = _random_dm(n, rng), _random_dm(n, rng)
    expected = qutip.fidelity(_qobj(rho, n), _qobj(sigma, n)) ** 2  # QuTiP's is not squared
    assert fidelity(rho, sigma) == pytest.approx(expected, abs=1e-10)
    ket = _random_unitary(n, rng)[:, 0]
    overlap = float(np.vdot(ket, rho @ ket).real)
    assert fidelity(rho, ket) == pytest.approx(overlap, abs=1e-12)
    assert fidelity(rho, np.outer(ket, ket.conj())) == pytest.approx(overlap, abs=1e-9)


def test_merging_two_states_is_a_kronecker_product():
    rng = np.random.default_rng(9)
    a, b = create_qubits(2)
    ra, rb = _random_dm(1, rng), _random_dm(1, rng)
    assign_state([a], ra)
    assign_state([b], rb)
    assert np.allclose(reduced_dm([b, a]), np.kron(rb, ra))
    u = _random_unitary(2, rng)
    operate([b, a], u)
    assert a.state is b.state
    oracle = _expand(u, [1, 0], 2) * _qobj(np.kron(ra, rb), 2) * _expand(u, [1, 0], 2).dag()
    assert np.allclose(reduced_dm([a, b]), oracle.full(), atol=1e-10)


@pytest.mark.parametrize("target", [0, 1])
def test_single_qubit_channel_on_each_qubit_of_a_pair(target):
    """The two-qubit fast path (lifted 16x16 superoperator) against QuTiP, several maps in turn."""
    rng = np.random.default_rng(300 + target)
    rho = _random_dm(2, rng)
    qubits = create_qubits(2)
    assign_state(qubits, rho)
    oracle = _qobj(rho, 2)
    for _ in range(3):
        iso = _random_unitary(2, rng)[:, :2]
        kraus = [iso[:2, :], iso[2:, :]]
        apply_kraus([qubits[target]], kraus)
        oracle = sum(_expand(K, [target], 2) * oracle * _expand(K, [target], 2).dag() for K in kraus)
    assert np.allclose(reduced_dm(qubits), oracle.full(), atol=1e-10)


@pytest.mark.parametrize("positions", [(0, 1), (1, 2), (2, 3), (2, 1), (0, 3), (3, 0)])
def test_bell_outcome_probabilities_and_post_states(positions):
    """Bell-measurement probabilities and the collapsed rest, for contiguous and scattered
    qubit positions in a random 4-qubit state, against projectors built by QuTiP."""
    from modenhub_net.qubits import bell_outcome_probabilities, bell_state
    from modenhub_net.qubits.measurement import _BELL_KETS, _BELL_WEIGHTS, _collapse_rest

    rng = np.random.default_rng(400 + 10 * positions[0] + positions[1])
    rho = _random_dm(4, rng)
    qubits = create_qubits(4)
    assign_state(qubits, rho)
    probabilities, rest = _collapse_rest(qubits[0].state, list(positions), _BELL_KETS, _BELL_WEIGHTS)
    others = [i for i in range(4) if i not in positions]
    for b in range(4):
        ket = qutip.Qobj(bell_state(b), dims=[[2, 2], [1, 1]])
        projector = _expand((ket * ket.dag()).full(), list(positions), 4)
        projected = projector * _qobj(rho, 4) * projector
        assert probabilities[b] == pytest.approx(projected.tr().real, abs=1e-10)
        assert np.allclose(rest[b], projected.ptrace(others).full(), atol=1e-10)
    ours = bell_outcome_probabilities(qubits[positions[0]], qubits[positions[1]])
    assert np.allclose(ours, probabilities, atol=1e-10)
