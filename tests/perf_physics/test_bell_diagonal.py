"""The lazy Bell-diagonal pair equals the density-matrix pair (to 1e-12) through the per-pair
path: storage noise at access, Pauli corrections with gate error, fidelity, discarding, and
materialisation by a general gate or a measurement. A memory with T1 < inf falls back to
density matrices. (``modenhub_net.qubits.BellDiagonalState``, ``hardware_models.QuantumMemory``.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardware_models import MemoryParams, QpuParams
from hardware_models.qpu import QPU
from modenhub_net import Simulation
from modenhub_net import qubits as qb
from modenhub_net.qubits.state import BellDiagonalState, QState

TOL = 1e-12
PAULIS = (qb.I, qb.Z, qb.X, qb.Y)


def _pairs(coefficients):
    """The same state twice: kept as Bell coefficients, and as a density matrix."""
    lazy = qb.create_bell_diagonal_pair(coefficients)
    dense = qb.create_qubits(2)
    qb.assign_state(dense, qb.bell_diagonal_matrix(coefficients))
    return lazy, tuple(dense)


def _random_case(rng):
    coefficients = rng.dirichlet(np.ones(4))
    params = MemoryParams(
        t2_ns=float(rng.uniform(1e3, 1e5)),
        depolar_time_ns=float(rng.choice([math.inf, rng.uniform(1e3, 1e5)])),
    )
    return coefficients, params


def _qpu(sim, name, params, p1):
    return QPU(name, sim=sim, memory=params,
               params=QpuParams(n_comm_qubits=2, n_data_qubits=1,
                                single_qubit_gate_depolar_prob=p1))


@pytest.mark.parametrize("case", range(25))
def test_lazy_path_equals_density_matrices(case):
    rng = np.random.default_rng(1000 + case)
    coefficients, params = _random_case(rng)
    p1 = float(rng.uniform(0.0, 0.05))
    sim = Simulation(seed=case)
    nodes = {kind: (_qpu(sim, f"a{kind}", params, p1), _qpu(sim, f"b{kind}", params, p1))
             for kind in ("lazy", "dense")}
    lazy, dense = _pairs(coefficients)
    assert lazy[0].state.__class__ is BellDiagonalState
    for kind, pair in (("lazy", lazy), ("dense", dense)):
        qa, qb_ = nodes[kind]
        qa.comm.store(0, pair[0], apply_efficiency=False)
        qb_.comm.store(0, pair[1], apply_efficiency=False)
    ta, tb = rng.uniform(0, 5e4, size=2)
    frame = int(rng.integers(4))

    def run(kind):
        qa, qb_ = nodes[kind]
        out = []
        sim_now = sim.now_ns
        # storage on both sides with different ages, then the correction with gate error
        qa.comm._last_ns[0] = sim_now - ta
        qb_.comm._last_ns[0] = sim_now - tb
        a = qa.qubit(("comm", 0))
        qb_.apply_gate(PAULIS[frame], [("comm", 0)])
        b = qb_.qubit(("comm", 0))
        out.append(qb.reduced_dm([a, b]))
        out.append(np.array([qb.bell_fidelity(a, b, i) for i in range(4)]))
        out.append(qb.fidelity([a, b], qb.bell_state(0)))
        return a, b, out

    a_l, b_l, lazy_out = run("lazy")
    assert a_l.state.__class__ is BellDiagonalState  # the fast path was taken, nothing materialised
    a_d, b_d, dense_out = run("dense")
    for x, y in zip(lazy_out, dense_out, strict=True):
        np.testing.assert_allclose(x, y, atol=TOL, rtol=0)
    # then a general gate materialises the lazy state exactly
    qb.operate([a_l], qb.H)
    qb.operate([a_d], qb.H)
    assert a_l.state.__class__ is QState
    np.testing.assert_allclose(qb.reduced_dm([a_l, b_l]), qb.reduced_dm([a_d, b_d]), atol=TOL, rtol=0)


def test_stored_phi_plus_follows_the_dephasing_closed_form():
    """A perfect Phi+ pair, halves stored 3 us and 7 us with T2 = 10 us (T1 = T_dep = inf):
    F = (1 + exp(-(t_a + t_b)/T2))/2 (Nielsen & Chuang §8.3.6), read through the lazy path."""
    sim = Simulation(seed=1)
    params = MemoryParams(t2_ns=1e4)
    qa, qb_ = _qpu(sim, "a", params, 0.0), _qpu(sim, "b", params, 0.0)
    a, b = qb.create_bell_diagonal_pair([1.0, 0.0, 0.0, 0.0])
    qa.comm.store(0, a, apply_efficiency=False)
    qb_.comm.store(0, b, apply_efficiency=False)
    qa.comm._last_ns[0] = -3e3
    qb_.comm._last_ns[0] = -7e3
    f = qb.bell_fidelity(qa.qubit(("comm", 0)), qb_.qubit(("comm", 0)))
    assert abs(f - (1 + math.exp(-1.0)) / 2) < TOL


def test_finite_t1_falls_back_to_density_matrices():
    sim = Simulation(seed=2)
    params = MemoryParams(t1_ns=2e4, t2_ns=1e4)
    mem = _qpu(sim, "a", params, 0.0).comm
    coefficients = [0.7, 0.1, 0.15, 0.05]
    lazy, dense = _pairs(coefficients)
    mem.store(0, lazy[0], apply_efficiency=False)
    mem2 = _qpu(sim, "b", params, 0.0).comm
    mem2.store(0, dense[0], apply_efficiency=False)
    mem._last_ns[0] = mem2._last_ns[0] = -5e3
    mem.access(0)
    mem2.access(0)
    assert lazy[0].state.__class__ is QState  # amplitude damping: no longer Bell-diagonal
    np.testing.assert_allclose(qb.reduced_dm(list(lazy)), qb.reduced_dm(list(dense)), atol=TOL, rtol=0)
    # amplitude damping really acted: the populations are no longer those of the start
    assert abs(qb.reduced_dm(list(lazy))[0, 0].real - (coefficients[0] + coefficients[1]) / 2) > 1e-3


@pytest.mark.parametrize("which", [0, 1])
def test_discard_and_measure_match_density_matrices(which):
    coefficients = [0.55, 0.2, 0.15, 0.1]
    lazy, dense = _pairs(coefficients)
    qb.discard(lazy[which])
    qb.discard(dense[which])
    np.testing.assert_allclose(qb.reduced_dm([lazy[1 - which]]), qb.reduced_dm([dense[1 - which]]),
                               atol=TOL, rtol=0)
    lazy, dense = _pairs(coefficients)
    outcomes = [qb.measure(pair[which], np.random.default_rng(5)) for pair in (lazy, dense)]
    assert outcomes[0] == outcomes[1]
    np.testing.assert_allclose(qb.reduced_dm([lazy[1 - which]]), qb.reduced_dm([dense[1 - which]]),
                               atol=TOL, rtol=0)


def test_bell_coefficients_refuse_non_bell_diagonal_states():
    ket = np.array([math.sqrt(0.8), 0, 0, math.sqrt(0.2)])  # unequal |00>, |11>: Phi+/Phi- coherence
    assert qb.bell_coefficients(np.outer(ket, ket)) is None
    werner = qb.werner_dm(0.9, bell_index=2)
    c = qb.bell_coefficients(werner)
    assert c is not None and abs(c[2] - 0.9) < TOL and abs(sum(c) - 1.0) < TOL
