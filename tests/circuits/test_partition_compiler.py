"""Partitioning (capacity, cut, network awareness) and compilation (teleported gates, sharing, plan)."""

from __future__ import annotations

import numpy as np
import pytest

from modenhub_net.errors import UserInputError
from protocols.circuits.compiler import compile_circuit
from protocols.circuits.generators import ghz, graph_rng, grover, qaoa_maxcut, qft
from protocols.circuits.ir import Circuit, Op
from protocols.circuits.partition import (
    interaction_weights,
    link_cost_from_fidelities,
    link_cost_from_rates,
    partition_circuit,
    partition_cost,
    partition_from_assignment,
)

pytest.importorskip("networkx", reason="partitioning uses networkx (modenhub-net[circuits])")

H = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
RZ = np.diag([np.exp(-0.2j), np.exp(0.2j)])


def brute_force_best(circuit, capacities, cost):
    """Smallest weighted cut over all assignments within capacity (tiny cases only)."""
    import itertools

    weights = interaction_weights(circuit)
    best = np.inf
    for assignment in itertools.product(range(len(capacities)), repeat=circuit.n_qubits):
        if all(assignment.count(i) <= c for i, c in enumerate(capacities)):
            best = min(best, partition_cost(weights, assignment, cost))
    return best


CIRCUITS = [ghz(8), qft(6, basis_input=3), qaoa_maxcut(8, rng=graph_rng(4)), grover(4, marked=3)]


@pytest.mark.parametrize("circuit", CIRCUITS, ids=lambda c: c.name)
@pytest.mark.parametrize("method", ["round_robin", "kl", "metis"])
def test_assignment_respects_capacity_and_counts_the_cut(circuit, method):
    if method == "metis":
        pytest.importorskip("pymetis")
    capacities = [3, 2, 3, 2]
    part = partition_circuit(circuit, capacities, method=method)
    load = np.bincount(part.assignment, minlength=4)
    assert np.all(load <= capacities) and len(part.assignment) == circuit.n_qubits
    cut = sum(
        1
        for op in circuit.two_qubit_gates()
        if part.assignment[op.qubits[0]] != part.assignment[op.qubits[1]]
    )
    assert part.nonlocal_gates == cut == part.cost  # unit link costs: cost = cut


@pytest.mark.parametrize("circuit", CIRCUITS, ids=lambda c: c.name)
def test_graph_partitioning_beats_round_robin(circuit):
    rr = partition_circuit(circuit, [3, 3, 3], method="round_robin")
    kl = partition_circuit(circuit, [3, 3, 3], method="kl")
    assert kl.nonlocal_gates < rr.nonlocal_gates


def test_kl_finds_the_optimum_of_small_cases():
    cost = np.ones((3, 3)) - np.eye(3)
    for circuit in (ghz(6), qft(5), qaoa_maxcut(6, rng=graph_rng(2))):
        part = partition_circuit(circuit, [2, 2, 2], method="kl")
        assert part.cost == pytest.approx(brute_force_best(circuit, [2, 2, 2], cost))


def test_network_aware_partition_uses_cheap_links():
    """Two fast links (0-1, 2-3) and slow ones between: the GHZ ladder should cross a slow link once."""
    rate_hz = np.array([[0, 100, 1, 1], [100, 0, 1, 1], [1, 1, 0, 100], [1, 1, 100, 0]], dtype=float)
    cost = link_cost_from_rates(rate_hz)
    circuit = ghz(8)
    aware = partition_circuit(circuit, [2, 2, 2, 2], method="kl", link_cost=cost)
    blind = partition_circuit(circuit, [2, 2, 2, 2], method="kl")
    assert aware.cost == pytest.approx(brute_force_best(circuit, [2, 2, 2, 2], cost))
    assert aware.cost == pytest.approx(2 * 0.01 + 1.0)
    assert aware.cost <= partition_cost(interaction_weights(circuit), blind.assignment, cost)


def test_link_cost_helpers():
    f = np.array([[1.0, 0.9], [0.9, 1.0]])
    assert link_cost_from_fidelities(f)[0, 1] == pytest.approx(-np.log(0.9))
    assert link_cost_from_rates(np.array([[0, 2e3], [2e3, 0]]))[1, 0] == pytest.approx(5e-4)
    with pytest.raises(UserInputError):
        link_cost_from_rates(np.array([[0, 0], [1, 0]]))
    with pytest.raises(UserInputError):
        link_cost_from_fidelities(np.array([[1, 1.5], [1, 1]]))


def test_partition_input_errors():
    with pytest.raises(UserInputError, match="hold only 4 data qubits"):
        partition_circuit(ghz(5), [2, 2])
    with pytest.raises(UserInputError, match="unknown"):
        partition_circuit(ghz(4), [2, 2], method="magic")
    with pytest.raises(UserInputError, match="capacities"):
        partition_circuit(ghz(2), [True, 1])
    with pytest.raises(UserInputError, match="link_cost"):
        partition_circuit(ghz(2), [1, 1], link_cost=np.ones((3, 3)))
    with pytest.raises(UserInputError, match="holds 1"):
        partition_from_assignment(ghz(2), [0, 0], [1, 1])


def test_one_ebit_per_nonlocal_gate_and_the_plan():
    circuit = qft(5)
    part = partition_circuit(circuit, [2, 3], method="kl")
    compiled = compile_circuit(circuit, part)
    assert compiled.n_ebits == compiled.nonlocal_gates == part.nonlocal_gates
    assert sum(e.count for e in compiled.plan) == compiled.n_ebits
    layers = circuit.layers()
    for step in compiled.steps:
        if step.kind == "teleported":
            use = compiled.ebits[step.ebit]
            assert use.needed_by_layer == layers[step.index]
            assert {use.qpu_a, use.qpu_b} == {part.assignment[q] for q in step.op.qubits}
    assert [e.needed_by_step for e in compiled.plan] == sorted(e.needed_by_step for e in compiled.plan)


def star(n_targets, *, between=None):
    ops = [Op("u", (0,), H, "h")]
    for t in range(1, n_targets + 1):
        ops.append(Op("cx", (0, t), name="cx"))
        if between is not None and t == 1:
            ops.append(between)
    return Circuit(n_targets + 1, tuple(ops))


def test_sharing_packs_a_fan_out_into_one_ebit():
    circuit = star(4)
    part = partition_from_assignment(circuit, [0, 1, 1, 1, 1], [1, 4])
    assert compile_circuit(circuit, part).n_ebits == 4
    shared = compile_circuit(circuit, part, share_ebits=True)
    assert shared.n_ebits == 1 and shared.ebits[0].n_gates == 4
    assert [s.kind for s in shared.steps] == ["local1", "cat_entangle"] + ["remote"] * 4 + ["cat_disentangle"]


def test_diagonal_gates_keep_a_packet_open_and_others_close_it():
    part = partition_from_assignment(star(2), [0, 1, 1], [1, 2])
    kept = compile_circuit(star(2, between=Op("u", (0,), RZ, "rz")), part, share_ebits=True)
    assert kept.n_ebits == 1
    closed = compile_circuit(star(2, between=Op("u", (0,), H, "h")), part, share_ebits=True)
    assert closed.n_ebits == 2
    assert all(s.kind != "cat_entangle" for s in closed.steps)  # single-gate packets fused
    target_of_cx = compile_circuit(
        star(2, between=Op("cx", (2, 0), name="cx")),
        partition_from_assignment(star(2), [0, 1, 2], [1, 1, 1]),
        share_ebits=True,
    )
    assert target_of_cx.n_ebits == 3


def test_compile_input_errors():
    with pytest.raises(UserInputError, match="share_ebits"):
        compile_circuit(ghz(2), partition_from_assignment(ghz(2), [0, 1], [1, 1]), share_ebits=1)
    with pytest.raises(UserInputError, match="max_open_packets"):
        compile_circuit(ghz(2), partition_from_assignment(ghz(2), [0, 1], [1, 1]), max_open_packets=0)
