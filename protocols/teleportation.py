"""State teleportation A -> B and teleported CNOT (control on A, target on B) with one ebit.

Both run at the nodes, on the actual stored states, with classical feed-forward messages
that travel through the hub (A -> hub -> B: ``(L_A + L_B) / c_fibre``). The pair's halves are
accessed at use (storage noise up to then; the pair fidelity at use is read from that state),
and the receiving half is accessed again when the message arrives (noise for the wait).

Teleportation (Bennett et al., PRL 70, 1895 (1993)): A prepares a Haar-random input |psi>
(seeded stream ``teleport.inputs``), Bell-measures (input, A's half) with its gate and
read-out errors, sends the two bits; B applies ``X^x Z^z`` (:func:`modenhub_net.qubits.bell_correction`)
and the fidelity ``<psi|rho_B|psi>`` is computed. Its mean over requests estimates the
average fidelity; for a Werner pair of fidelity F it is ``(2F + 1)/3`` (DESIGN.md §3).

Teleported CNOT (Eisert et al., PRA 62, 052317 (2000); Gottesman & Chuang 1999): with
Phi+ shared between A (``e_A``) and B (``e_B``), control ``c`` on A and target ``t`` on B:
A applies CNOT(c, e_A), measures e_A in Z (bit m1) and sends m1; B applies X^m1 on e_B,
CNOT(e_B, t), measures e_B in X (bit m2) and sends m2; A applies Z^m2 on c. Inputs are
Haar-random product states |psi_c>|psi_t> (stream ``cnot.inputs``); the *gate fidelity*
reported is ``<phi|rho_ct|phi>`` with ``|phi> = CNOT |psi_c psi_t>``, whose mean over requests
estimates the average fidelity of the implemented gate over product inputs. Data qubits
wait in the nodes' memories while messages fly and receive the same storage noise.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np

from modenhub_net.network import quantum as qops
from modenhub_net.network.quantum import qb_module as qb
from protocols.orchestrator import OperationOutcome
from protocols.pair import PairHandle
from protocols.workload import Request

__all__ = ["teleport_state", "teleported_cnot"]


def _halves(pair: PairHandle, s: int) -> tuple[Any, Any]:
    """(slot at s, slot at the other end)."""
    return (pair.slot_a, pair.slot_b) if pair.node_a == s else (pair.slot_b, pair.slot_a)


def teleport_state(net: Any, request: Request, pair: PairHandle) -> Generator[Any, Any, OperationOutcome]:
    """Teleport a random qubit state from ``request.s`` to ``request.d`` through ``pair``.

    ``net`` is the hub network (:class:`modenhub_net.network.builder.HubNetwork`): node
    memories, hardware, the correction service, classical delays and random streams.
    """
    sim = net.sim
    s, d = request.s, request.d
    yield net.corrections.wait_ready(pair)
    slot_s, slot_d = _halves(pair, s)
    q_s = net.access(s, slot_s)
    q_d = net.access(d, slot_d)
    pair_fid = qops.pair_fidelity(q_s, q_d)
    age = pair.age_ns(sim.now_ns)
    hw_s, hw_d = net.nodes[s], net.nodes[d]
    ket = qops.random_qubit_ket(net.rng("teleport.inputs"))
    data = qops.prepare(ket)
    net.release(s, slot_s)  # the half leaves the memory: it is measured now
    outcome = qops.noisy_bell_measure(
        data, q_s, net.rng(f"qpu{s}.measure"), gate_error=hw_s.gate_error_2q,
        measurement_error=hw_s.measurement_error,
    )
    yield sim.timeout(net.relay_delay_ns(s, d))
    q_d = net.access(d, slot_d)
    qops.apply_correction(q_d, outcome, error=hw_d.gate_error_1q)
    fidelity = qops.state_fidelity([q_d], ket)
    net.free(d, slot_d)
    return OperationOutcome(fidelity=fidelity, pair_fidelity=pair_fid, pair_age_ns=age)


def teleported_cnot(net: Any, request: Request, pair: PairHandle) -> Generator[Any, Any, OperationOutcome]:
    """A CNOT with control on ``request.s`` and target on ``request.d``, consuming ``pair``."""
    sim = net.sim
    s, d = request.s, request.d
    yield net.corrections.wait_ready(pair)
    slot_s, slot_d = _halves(pair, s)
    e_s = net.access(s, slot_s)
    e_d = net.access(d, slot_d)
    pair_fid = qops.pair_fidelity(e_s, e_d)
    age = pair.age_ns(sim.now_ns)
    hw_s, hw_d = net.nodes[s], net.nodes[d]
    rng_in = net.rng("cnot.inputs")
    ket_c, ket_t = qops.random_qubit_ket(rng_in), qops.random_qubit_ket(rng_in)
    c, t = qops.prepare(ket_c), qops.prepare(ket_t)
    ideal = qb.CNOT @ np.kron(ket_c, ket_t)
    # A: CNOT(c, e_A), measure e_A in Z
    qops.apply_gate(qb.CNOT, [c, e_s], error=hw_s.gate_error_2q)
    net.release(s, slot_s)
    m1 = qops.noisy_measure(e_s, net.rng(f"qpu{s}.measure"), basis="Z",
                            measurement_error=hw_s.measurement_error)
    t_sent = sim.now_ns
    yield sim.timeout(net.relay_delay_ns(s, d))
    # B: X^m1 on e_B, CNOT(e_B, t), measure e_B in X; t waited in B's memory
    e_d = net.access(d, slot_d)
    net.idle_noise(d, t, sim.now_ns - t_sent)
    if m1:
        qops.apply_gate(qb.X, [e_d], error=hw_d.gate_error_1q)
    qops.apply_gate(qb.CNOT, [e_d, t], error=hw_d.gate_error_2q)
    net.release(d, slot_d)
    m2 = qops.noisy_measure(e_d, net.rng(f"qpu{d}.measure"), basis="X",
                            measurement_error=hw_d.measurement_error)
    t_sent_back = sim.now_ns
    yield sim.timeout(net.relay_delay_ns(d, s))
    # A: Z^m2 on c; c waited in A's memory for the round trip
    net.idle_noise(s, c, sim.now_ns - t_sent)
    net.idle_noise(d, t, sim.now_ns - t_sent_back)
    if m2:
        qops.apply_gate(qb.Z, [c], error=hw_s.gate_error_1q)
    fidelity = qops.state_fidelity([c, t], ideal)
    qb.discard(c)
    qb.discard(t)
    return OperationOutcome(fidelity=fidelity, pair_fidelity=pair_fid, pair_age_ns=age)
