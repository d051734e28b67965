"""State teleportation A -> B and teleported CNOT (control on A, target on B) with one ebit.

Both run at the nodes, on the actual stored states, with the QPUs' own devices: gates,
measurements (errors and durations) of :class:`hardware_models.QPU`, data qubits in its
``data`` memory and pair halves in its ``comm`` memory (memory noise applied at each access,
so every wait counts as storage). Classical feed-forward messages travel through the hub
(A -> hub -> B, the two classical fibres' latencies). The pair fidelity at use is read from
the actual state of the two halves when the operation starts.

Teleportation (Bennett et al., PRL 70, 1895 (1993)): A prepares a Haar-random input |psi>
(seeded stream ``teleport.inputs``) in a data qubit, Bell-measures (input, A's half)
(:meth:`hardware_models.QPU.bell_measure`), sends the two bits; B applies ``X^x Z^z``
(:func:`modenhub_net.qubits.bell_correction`) and the fidelity ``<psi|rho_B|psi>`` is
computed. Its mean over requests estimates the average fidelity; for a Werner pair of
fidelity F it is ``(2F + 1)/3`` (DESIGN.md §3).

Teleported CNOT (Eisert et al., PRA 62, 052317 (2000); Gottesman & Chuang 1999): with
Phi+ shared between A (``e_A``) and B (``e_B``), control ``c`` on A and target ``t`` on B:
A applies CNOT(c, e_A), measures e_A in Z (bit m1) and sends m1; B applies X^m1 on e_B,
CNOT(e_B, t), measures e_B in X (bit m2) and sends m2; A applies Z^m2 on c. Inputs are
Haar-random product states |psi_c>|psi_t> (stream ``cnot.inputs``); the *gate fidelity*
reported is ``<phi|rho_ct|phi>`` with ``|phi> = CNOT |psi_c psi_t>``, whose mean over requests
estimates the average fidelity of the implemented gate over product inputs. Data qubits
wait in the nodes' data memories while messages fly.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np

from protocols import qops
from protocols.orchestrator import OperationOutcome
from protocols.pair import PairHandle
from protocols.workload import Request

__all__ = ["teleport_state", "teleported_cnot"]

qb = qops.qb_module


def _halves(pair: PairHandle, s: int) -> tuple[Any, Any]:
    """(slot at s, slot at the other end)."""
    return (pair.slot_a, pair.slot_b) if pair.node_a == s else (pair.slot_b, pair.slot_a)


def _data_slot(qpu: Any, ket: np.ndarray) -> tuple[str, int]:
    """Prepare ``ket`` in a free data qubit of ``qpu``; returns its location."""
    slot = qpu.data.free_slots()[0]
    qpu.data.store(slot, qops.prepare(ket), apply_efficiency=False)
    return ("data", slot)


def teleport_state(net: Any, request: Request, pair: PairHandle) -> Generator[Any, Any, OperationOutcome]:
    """Teleport a random qubit state from ``request.s`` to ``request.d`` through ``pair``.

    ``net`` is the hub network (:class:`modenhub_net.network.builder.HubNetwork`): its
    ``qpus``, the correction service, classical delays and random streams.
    """
    sim = net.sim
    s, d = request.s, request.d
    yield net.corrections.wait_ready(pair)
    slot_s, slot_d = _halves(pair, s)
    qpu_s, qpu_d = net.qpus[s], net.qpus[d]
    pair_fid = qops.pair_fidelity(qpu_s.qubit(("comm", slot_s)), qpu_d.qubit(("comm", slot_d)))
    age = pair.age_ns(sim.now_ns)
    ket = qops.random_qubit_ket(net.rng("teleport.inputs"))
    data = _data_slot(qpu_s, ket)
    result = qpu_s.bell_measure(data, ("comm", slot_s))
    yield sim.timeout(result.duration_ns + net.relay_delay_ns(s, d))
    duration = 0.0
    for gate in qb.bell_correction(result.outcome):
        duration += qpu_d.apply_gate(gate, [("comm", slot_d)])
    if duration > 0.0:
        yield sim.timeout(duration)
    fidelity = qops.state_fidelity([qpu_d.qubit(("comm", slot_d))], ket)
    net.free(d, slot_d)
    return OperationOutcome(fidelity=fidelity, pair_fidelity=pair_fid, pair_age_ns=age)


def teleported_cnot(net: Any, request: Request, pair: PairHandle) -> Generator[Any, Any, OperationOutcome]:
    """A CNOT with control on ``request.s`` and target on ``request.d``, consuming ``pair``."""
    sim = net.sim
    s, d = request.s, request.d
    yield net.corrections.wait_ready(pair)
    slot_s, slot_d = _halves(pair, s)
    qpu_s, qpu_d = net.qpus[s], net.qpus[d]
    e_s, e_d = ("comm", slot_s), ("comm", slot_d)
    pair_fid = qops.pair_fidelity(qpu_s.qubit(e_s), qpu_d.qubit(e_d))
    age = pair.age_ns(sim.now_ns)
    rng_in = net.rng("cnot.inputs")
    ket_c, ket_t = qops.random_qubit_ket(rng_in), qops.random_qubit_ket(rng_in)
    c, t = _data_slot(qpu_s, ket_c), _data_slot(qpu_d, ket_t)
    ideal = qb.CNOT @ np.kron(ket_c, ket_t)
    # A: CNOT(c, e_A), measure e_A in Z, send m1
    duration = qpu_s.apply_gate(qb.CNOT, [c, e_s])
    m1 = qpu_s.measure(e_s, basis="Z")
    yield sim.timeout(duration + m1.duration_ns + net.relay_delay_ns(s, d))
    # B: X^m1 on e_B, CNOT(e_B, t), measure e_B in X, send m2
    duration = qpu_d.apply_gate(qb.X, [e_d]) if m1.outcome else 0.0
    duration += qpu_d.apply_gate(qb.CNOT, [e_d, t])
    m2 = qpu_d.measure(e_d, basis="X")
    yield sim.timeout(duration + m2.duration_ns + net.relay_delay_ns(d, s))
    # A: Z^m2 on c
    if m2.outcome:
        duration = qpu_s.apply_gate(qb.Z, [c])
        if duration > 0.0:
            yield sim.timeout(duration)
    fidelity = qops.state_fidelity([qpu_s.qubit(c), qpu_d.qubit(t)], ideal)
    qpu_s.data.discard(c[1])
    qpu_d.data.discard(t[1])
    return OperationOutcome(fidelity=fidelity, pair_fidelity=pair_fid, pair_age_ns=age)
