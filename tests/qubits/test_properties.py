"""Hypothesis: any operation sequence keeps states physical and bookkeeping consistent."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from modenhub_net.qubits import (
    CNOT,
    CZ,
    SWAP,
    H,
    S,
    T,
    X,
    amplitude_damp,
    bell_measure,
    dephase,
    depolarise,
    discard,
    lose,
    measure,
    operate,
    pauli_channel,
    t1t2_noise,
)
from modenhub_net.qubits import create_qubits as _create

N_QUBITS = 5
_op = st.one_of(
    st.tuples(st.just("gate1"), st.integers(0, N_QUBITS - 1), st.sampled_from(["H", "S", "T", "X"])),
    st.tuples(st.just("gate2"), st.integers(0, N_QUBITS - 1), st.integers(0, N_QUBITS - 1),
              st.sampled_from(["CNOT", "CZ", "SWAP"])),
    st.tuples(st.just("noise"), st.integers(0, N_QUBITS - 1),
              st.sampled_from(["dep", "deph", "ad", "pauli", "t1t2"]), st.floats(0, 1)),
    st.tuples(st.just("measure"), st.integers(0, N_QUBITS - 1), st.sampled_from(["Z", "X", "Y"])),
    st.tuples(st.just("bsm"), st.integers(0, N_QUBITS - 1), st.integers(0, N_QUBITS - 1)),
    st.tuples(st.just("discard"), st.integers(0, N_QUBITS - 1), st.booleans()),
)
_GATES = {"H": H, "S": S, "T": T, "X": X, "CNOT": CNOT, "CZ": CZ, "SWAP": SWAP}


def _check(qubits):
    states = {id(q.state): q.state for q in qubits if q.state is not None}
    for state in states.values():
        rho = state.dm
        dim = 2 ** len(state.qubits)
        assert rho.shape == (dim, dim)
        assert np.allclose(rho, rho.conj().T, atol=1e-12)
        assert abs(np.trace(rho).real - 1) < 1e-10
        assert np.linalg.eigvalsh(rho).min() >= -1e-12
        for member in state.qubits:
            assert member.state is state  # every listed qubit points back at its state
    for q in qubits:
        if q.state is not None:
            assert sum(1 for s in states.values() if q in s.qubits) == 1
        else:
            assert all(q not in s.qubits for s in states.values())


@settings(max_examples=150, deadline=None)
@given(st.lists(_op, min_size=1, max_size=25), st.integers(0, 2**32 - 1))
def test_any_sequence_keeps_states_physical(ops, seed):
    rng = np.random.default_rng(seed)
    qubits = _create(N_QUBITS)
    for op in ops:
        kind = op[0]
        alive = [q for q in qubits if q.state is not None]
        if kind == "gate1" and qubits[op[1]].state is not None:
            operate([qubits[op[1]]], _GATES[op[2]])
        elif kind == "gate2" and op[1] != op[2] and qubits[op[1]].state and qubits[op[2]].state:
            operate([qubits[op[1]], qubits[op[2]]], _GATES[op[3]])
        elif kind == "noise" and qubits[op[1]].state is not None:
            q, name, p = qubits[op[1]], op[2], op[3]
            if name == "dep":
                depolarise(q, p)
            elif name == "deph":
                dephase(q, p)
            elif name == "ad":
                amplitude_damp(q, p)
            elif name == "pauli":
                pauli_channel(q, p / 3, p / 3, p / 3)
            else:
                t1t2_noise(q, p * 1e6, t1_ns=1e6, t2_ns=1.5e6)
        elif kind == "measure" and qubits[op[1]].state is not None:
            measure(qubits[op[1]], rng, basis=op[2])
        elif kind == "bsm" and op[1] != op[2] and qubits[op[1]].state and qubits[op[2]].state:
            bell_measure(qubits[op[1]], qubits[op[2]], rng)
        elif kind == "discard" and qubits[op[1]].state is not None and len(alive) > 1:
            (lose if op[2] else discard)(qubits[op[1]])
        _check(qubits)
