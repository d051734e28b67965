"""Validation of the distributed-circuit executor against monolithic runs, an independent
QPU-component run, and closed forms (protocols.circuits.closed_forms)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardware_models import QPU
from hardware_models.memory import MemoryParams
from hardware_models.qpu import QpuParams
from modenhub_net.errors import UserInputError
from modenhub_net.qubits import reduced_dm
from modenhub_net.simulation import Simulation
from protocols.circuits.closed_forms import (
    fan_out_fidelity,
    ghz_ladder_fidelity,
    teleported_cnot_average_fidelity,
    teleported_cnot_process_fidelity,
    werner_parameter,
)
from protocols.circuits.compiler import compile_circuit
from protocols.circuits.ebits import EbitProvider, PerfectEbitProvider, WernerEbitProvider
from protocols.circuits.executor import QpuPhysics, execute_circuit
from protocols.circuits.gates import expand_gate, u3_matrix
from protocols.circuits.generators import ghz, graph_rng, grover, qaoa_maxcut, qft
from protocols.circuits.ir import Circuit, Op, ideal_statevector
from protocols.circuits.partition import partition_from_assignment

NOISY_MEMORY = MemoryParams(t1_ns=5e6, t2_ns=3e6, depolar_time_ns=8e6)
NOISY_QPU = QpuParams(
    n_data_qubits=8,
    single_qubit_gate_ns=1e4,
    two_qubit_gate_ns=5e4,
    measure_ns=2e4,
    single_qubit_gate_depolar_prob=0.01,
    two_qubit_gate_depolar_prob=0.03,
    measure_error_prob=0.02,
)
NOISY = QpuPhysics(NOISY_QPU, NOISY_MEMORY, NOISY_MEMORY)


def random_block(qubits, rng, depth=6):
    ops = []
    for _ in range(depth):
        for q in qubits:
            ops.append(Op("u", (q,), u3_matrix(*rng.uniform(-3, 3, 3)), "u3"))
        a, b = rng.choice(qubits, 2, replace=False)
        ops.append(Op("cx" if rng.random() < 0.5 else "cz", (int(a), int(b)), name="2q"))
    return ops


def two_block_circuit(seed=0):
    rng = np.random.default_rng(seed)
    ops = []
    first, second = random_block([0, 1, 2], rng), random_block([3, 4, 5], rng)
    for x, y in zip(first, second, strict=True):  # interleaved program order
        ops += [x, y]
    return Circuit(6, tuple(ops), name="blocks")


def run(circuit, assignment, capacities, provider=None, **kwargs):
    part = partition_from_assignment(circuit, assignment, capacities)
    compiled = compile_circuit(circuit, part, share_ebits=kwargs.pop("share_ebits", False))
    return execute_circuit(compiled, provider=provider or PerfectEbitProvider(), **kwargs)


# -- all-local circuits ---------------------------------------------------------------------
def test_all_local_gates_equal_monolithic_execution_exactly():
    circuit = two_block_circuit()
    split = run(circuit, [0, 0, 0, 1, 1, 1], [3, 3], physics=NOISY, backend="density_matrix")
    mono = run(circuit, [0] * 6, [6], physics=NOISY, backend="density_matrix")
    assert split.ebits_consumed == 0 and mono.ebits_consumed == 0
    assert np.max(np.abs(split.density_matrix - mono.density_matrix)) < 1e-12
    assert split.makespan_ns == mono.makespan_ns
    assert split.fidelity == pytest.approx(mono.fidelity, abs=1e-12)
    assert 0.2 < mono.fidelity < 0.95  # the noise is really there


def test_monolithic_execution_matches_the_qpu_component():
    """The same schedule on a hardware_models.QPU in a Simulation (its own gate noise and lazy
    memory channels) gives the same density matrix."""
    circuit = two_block_circuit(seed=3)
    circuit = Circuit(3, tuple(op for op in circuit.ops if max(op.qubits) < 3), name="block")
    result = run(circuit, [0, 0, 0], [3], physics=NOISY, backend="density_matrix")
    sim = Simulation(seed=0)
    qpu = QPU(
        "qpu",
        sim=sim,
        params=NOISY_QPU.model_copy(update={"n_data_qubits": 3}),
        memory=NOISY_MEMORY,
        data_memory=NOISY_MEMORY,
    )
    rows = result.gates.sort_values("start_ns", kind="stable")
    ops = circuit.ops

    def program():
        for q in range(3):
            qpu.initialise(("data", q))
        for row in rows.itertuples():
            yield sim.timeout(row.start_ns - sim.now_ns)
            op = ops[row.op_index]
            qpu.apply_gate(op.unitary, [("data", q) for q in op.qubits])
        yield sim.timeout(result.makespan_ns - sim.now_ns)

    sim.process(program())
    sim.run()
    reference = reduced_dm([qpu.qubit(("data", q)) for q in range(3)])
    assert np.max(np.abs(reference - result.density_matrix)) < 1e-12
    # ASAP schedule: each gate starts when the last gate on its qubits ended
    last_end = [0.0] * 3
    for row in result.gates.itertuples():
        qubits = [int(q) for q in row.qubits.split(",")]
        assert row.start_ns == max(last_end[q] for q in qubits)
        for q in qubits:
            last_end[q] = row.end_ns


# -- perfect ebits, noiseless QPUs ---------------------------------------------------------
CIRCUITS = {
    "qft5": (qft(5, basis_input=11), [0, 1, 2, 0, 1]),
    "grover4": (grover(4, marked=6), [0, 1, 1, 0]),
    "qaoa6": (qaoa_maxcut(6, rng=graph_rng(7)), [0, 1, 2, 2, 1, 0]),
    "ghz6": (ghz(6), [0, 0, 1, 1, 2, 2]),
}


@pytest.mark.parametrize("name", sorted(CIRCUITS))
@pytest.mark.parametrize("share", [False, True])
def test_perfect_ebits_and_noiseless_qpus_give_the_ideal_output(name, share):
    circuit, assignment = CIRCUITS[name]
    result = run(circuit, assignment, [2, 2, 2], share_ebits=share, backend="density_matrix")
    psi = ideal_statevector(circuit)
    assert result.ebits_consumed > 0
    assert np.max(np.abs(result.density_matrix - np.outer(psi, psi.conj()))) < 1e-10
    assert result.fidelity == pytest.approx(1.0, abs=1e-10)
    if "marked" in circuit.metadata:
        assert result.success_probability == pytest.approx(
            circuit.metadata["ideal_success_probability"], abs=1e-10
        )


def test_sharing_uses_fewer_ebits_on_qft():
    circuit, assignment = CIRCUITS["qft5"]
    plain = run(circuit, assignment, [2, 2, 2], backend="density_matrix")
    shared = run(circuit, assignment, [2, 2, 2], share_ebits=True, backend="density_matrix")
    assert shared.ebits_consumed < plain.ebits_consumed


# -- closed forms ----------------------------------------------------------------------------
def choi_cnot_circuit():
    """Two Bell pairs (q0, q2), (q1, q3) made locally, then CX(q0, q1) across QPUs: the output is
    the Choi state of the executed CX, so its fidelity to the ideal is the process fidelity."""
    ops = (
        expand_gate("h", [], [0])
        + [Op("cx", (0, 2))]
        + expand_gate("h", [], [1])
        + [Op("cx", (1, 3))]
        + [Op("cx", (0, 1))]
    )
    return Circuit(4, tuple(ops), name="choi_cx")


@pytest.mark.parametrize("fidelity", [0.25, 0.5, 0.8, 0.95, 1.0])
def test_teleported_cnot_with_a_werner_ebit(fidelity):
    result = run(
        choi_cnot_circuit(),
        [0, 1, 0, 1],
        [2, 2],
        WernerEbitProvider(fidelity=fidelity),
        backend="density_matrix",
    )
    assert result.ebits_consumed == 1
    process = result.fidelity
    assert process == pytest.approx(teleported_cnot_process_fidelity(fidelity), abs=1e-12)
    assert (4 * process + 1) / 5 == pytest.approx(teleported_cnot_average_fidelity(fidelity), abs=1e-12)
    # the whole channel: E = w CX + (1 - w) D_Z(c) D_X(t) on the Choi input
    w = werner_parameter(fidelity)
    before = ideal_statevector(choi_cnot_circuit(), ops=choi_cnot_circuit().ops[:-1])
    rho = np.outer(before, before.conj())
    after = ideal_statevector(choi_cnot_circuit())
    z0 = np.kron(np.diag([1, -1]), np.eye(8))
    x1 = np.kron(np.kron(np.eye(2), [[0, 1], [1, 0]]), np.eye(4))
    dz = (rho + z0 @ rho @ z0) / 2
    dzdx = (dz + x1 @ dz @ x1) / 2
    expected = w * np.outer(after, after.conj()) + (1 - w) * dzdx
    assert np.max(np.abs(result.density_matrix - expected)) < 1e-12


@pytest.mark.parametrize("n", [2, 3, 4, 6, 9])
@pytest.mark.parametrize("fidelity", [0.6, 0.9, 0.99])
def test_ghz_across_n_qpus_with_werner_ebits(n, fidelity):
    result = run(
        ghz(n), list(range(n)), [1] * n, WernerEbitProvider(fidelity=fidelity), backend="density_matrix"
    )
    assert result.ebits_consumed == n - 1
    assert result.fidelity == pytest.approx(ghz_ladder_fidelity(n, fidelity), abs=1e-12)


@pytest.mark.parametrize("n", [4, 40])
def test_ghz_stabilizer_backend_agrees_with_the_closed_form(n, validation_scale):
    pytest.importorskip("stim")
    shots = max(2000, int(100_000 * validation_scale))
    result = run(
        ghz(n),
        list(range(n)),
        [1] * n,
        WernerEbitProvider(fidelity=0.97),
        backend="stabilizer",
        shots=shots,
        seed=5,
    )
    expected = ghz_ladder_fidelity(n, 0.97)
    se = math.sqrt(expected * (1 - expected) / shots)
    assert abs(result.fidelity - expected) < 5 * se
    assert result.fidelity_se == pytest.approx(math.sqrt(result.fidelity * (1 - result.fidelity) / shots))


@pytest.mark.parametrize("fidelity", [0.7, 0.93])
def test_fan_out_with_and_without_a_shared_ebit(fidelity):
    ops = expand_gate("h", [], [0]) + [Op("cx", (0, 1)), Op("cx", (0, 2))]
    circuit = Circuit(3, tuple(ops), name="fan_out")
    plain = run(circuit, [0, 1, 1], [1, 2], WernerEbitProvider(fidelity=fidelity), backend="density_matrix")
    shared = run(
        circuit,
        [0, 1, 1],
        [1, 2],
        WernerEbitProvider(fidelity=fidelity),
        backend="density_matrix",
        share_ebits=True,
    )
    assert (plain.ebits_consumed, shared.ebits_consumed) == (2, 1)
    assert plain.fidelity == pytest.approx(fan_out_fidelity(fidelity, shared=False), abs=1e-12)
    assert shared.fidelity == pytest.approx(fan_out_fidelity(fidelity, shared=True), abs=1e-12)


def test_timing_and_dephasing_of_one_teleported_cnot():
    """Bell pair by one teleported CX with dephasing memories, gate durations and latencies.

    Times (d: latency of the ebit, L: classical latency, d1/d2/dm: durations): q0 is free after
    its H at d1, the ebit is requested then and delivered at s = d1 + d, A starts at t0 = s, the X
    correction reaches B at ta = t0 + d2 + dm + L, B's CX runs at t1 = ta, the Z correction reaches
    A at tc = t1 + d2 + d1 + dm + L; q0 is read at tc, q1 at t1 + d2. A Z error on q0 (stored from
    0 to tc), on q1 (after its CX, for d2), on e_A before its CX (t0 - s) or on e_B before its H
    (ta - s + d2) flips the Bell phase: F = (1 + exp(-(tc + d2)/T2d - (t0 - s + ta - s + d2)/T2c))/2.
    """
    d, lat, d1, d2, dm = 5000.0, 2000.0, 100.0, 300.0, 700.0
    t2_data, t2_comm = 4e4, 1.5e4
    qpu = QpuParams(n_data_qubits=1, single_qubit_gate_ns=d1, two_qubit_gate_ns=d2, measure_ns=dm)
    physics = QpuPhysics(qpu, MemoryParams(t2_ns=t2_comm), MemoryParams(t2_ns=t2_data))
    result = run(
        ghz(2),
        [0, 1],
        [1, 1],
        WernerEbitProvider(fidelity=1.0, latency_ns=d),
        physics=physics,
        classical_latency_ns=lat,
        backend="density_matrix",
    )
    s = d1 + d
    t0 = s
    ta = t0 + d2 + dm + lat
    t1 = ta
    tc = t1 + d2 + d1 + dm + lat
    decay = math.exp(-(tc + d2) / t2_data - ((t0 - s) + (ta - s + d2)) / t2_comm)
    assert result.fidelity == pytest.approx((1 + decay) / 2, abs=1e-12)
    assert result.makespan_ns == pytest.approx(tc + dm)
    assert result.entanglement_wait_ns == pytest.approx(d)
    row = result.ebits.iloc[0]
    assert (row.requested_ns, row.delivered_ns, row.used_ns, row.wait_ns) == (d1, d1 + d, d1 + d, d)


def test_readout_errors_in_grover_success_probability():
    """Symmetric readout error e on every qubit: P = s (1-e)^n + (1-s)/(N-1) (1 - (1-e)^n) for an
    ideal state with P(marked) = s spread evenly over the N - 1 other items (Grover's state is)."""
    e = 0.03
    circuit = grover(3, marked=2)
    physics = QpuPhysics(QpuParams(n_data_qubits=2, measure_error_prob=e))
    result = run(circuit, [0, 0, 1], [2, 2], physics=physics, backend="density_matrix")
    s, n = circuit.metadata["ideal_success_probability"], 3
    expected = s * (1 - e) ** n + (1 - s) / (2**n - 1) * (1 - (1 - e) ** n)
    # the readout errors also corrupt the teleported gates' own measurements: compare with perfect
    # ebit measurements by putting all qubits on one QPU
    mono = run(
        circuit,
        [0, 0, 0],
        [3],
        physics=QpuPhysics(QpuParams(n_data_qubits=3, measure_error_prob=e)),
        backend="density_matrix",
    )
    assert mono.success_probability == pytest.approx(expected, abs=1e-12)
    assert result.success_probability < mono.success_probability


def test_stabilizer_and_density_matrix_agree_on_a_noisy_ghz(validation_scale):
    """Pauli-exact noise (dephasing memories, depolarising gates, readout errors, Werner ebits)."""
    pytest.importorskip("stim")
    memory = MemoryParams(t2_ns=2e5)
    physics = QpuPhysics(
        QpuParams(
            n_data_qubits=2,
            single_qubit_gate_ns=1e3,
            two_qubit_gate_ns=5e3,
            measure_ns=1e4,
            single_qubit_gate_depolar_prob=0.01,
            two_qubit_gate_depolar_prob=0.02,
            measure_error_prob=0.01,
        ),
        memory,
        memory,
    )
    kwargs = dict(physics=physics, classical_latency_ns=3e3, share_ebits=True)
    exact = run(
        ghz(6),
        [0, 0, 1, 1, 2, 2],
        [2, 2, 2],
        WernerEbitProvider(fidelity=0.95, latency_ns=2e4),
        backend="density_matrix",
        **kwargs,
    )
    shots = max(4000, int(200_000 * validation_scale))
    sampled = run(
        ghz(6),
        [0, 0, 1, 1, 2, 2],
        [2, 2, 2],
        WernerEbitProvider(fidelity=0.95, latency_ns=2e4),
        backend="stabilizer",
        shots=shots,
        seed=11,
        **kwargs,
    )
    se = math.sqrt(exact.fidelity * (1 - exact.fidelity) / shots)
    assert abs(sampled.fidelity - exact.fidelity) < 5 * se
    assert sampled.makespan_ns == exact.makespan_ns
    assert 0.5 < exact.fidelity < 0.95


def test_prefetch_requests_every_ebit_at_time_zero():
    circuit, assignment = CIRCUITS["qft5"]
    provider = WernerEbitProvider(fidelity=1.0, latency_ns=1e4)
    physics = QpuPhysics(QpuParams(n_data_qubits=2, single_qubit_gate_ns=1e3, two_qubit_gate_ns=1e4))
    demand = run(circuit, assignment, [2, 2, 2], provider, physics=physics, backend="density_matrix")
    ahead = run(
        circuit, assignment, [2, 2, 2], provider, physics=physics, prefetch=True, backend="density_matrix"
    )
    assert (ahead.ebits["requested_ns"] == 0).all()
    assert ahead.entanglement_wait_ns < demand.entanglement_wait_ns
    assert ahead.makespan_ns < demand.makespan_ns
    assert (demand.ebits["wait_ns"] == 1e4).all()  # each on-demand ebit arrives 10 us after the request
    assert (ahead.ebits["storage_ns"] >= 0).all() and ahead.ebits["storage_ns"].max() > 0


class LateProvider(EbitProvider):
    def request(self, qpu_a, qpu_b, at_ns):
        return np.eye(4) / 4, at_ns - 1.0


def test_executor_input_errors():
    circuit = ghz(3)
    compiled = compile_circuit(circuit, partition_from_assignment(circuit, [0, 1, 2], [1, 1, 1]))
    provider = PerfectEbitProvider()
    with pytest.raises(UserInputError, match="prefetch = 'yes'"):
        execute_circuit(compiled, provider=provider, prefetch="yes")
    with pytest.raises(UserInputError, match="backend"):
        execute_circuit(compiled, provider=provider, backend="gpu")
    with pytest.raises(UserInputError, match="shots"):
        execute_circuit(compiled, provider=provider, shots=True)
    with pytest.raises(UserInputError, match="physics"):
        execute_circuit(compiled, provider=provider, physics=[QpuPhysics()] * 2)
    with pytest.raises(UserInputError, match="classical_latency_ns"):
        execute_circuit(compiled, provider=provider, classical_latency_ns=-1.0)
    with pytest.raises(UserInputError, match="provider"):
        execute_circuit(compiled, provider=object())
    with pytest.raises(UserInputError, match="live qubits"):
        execute_circuit(compiled, provider=provider, backend="density_matrix", max_dm_qubits=2)
    with pytest.raises(RuntimeError, match="before the request"):
        execute_circuit(compiled, provider=LateProvider())
    with pytest.raises(UserInputError, match="fidelity"):
        WernerEbitProvider(fidelity=0.2)
    with pytest.raises(UserInputError, match="latency_ns"):
        PerfectEbitProvider(latency_ns=True)
    pytest.importorskip("stim")
    big = qft(3)
    compiled = compile_circuit(big, partition_from_assignment(big, [0, 1, 2], [1, 1, 1]))
    with pytest.raises(UserInputError, match="Clifford"):
        execute_circuit(compiled, provider=provider, backend="stabilizer")
