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
fidelity F it is ``(2F + 1)/3`` (ARCHITECTURE.md §3).

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

__all__ = [
    "teleport_state", "teleported_cnot", "pair_halves", "prepare_data_qubit",
    "teleport_measure", "teleport_correct",
    "cnot_control_step", "cnot_target_step", "cnot_finish_step",
]

qb = qops.qb_module


def pair_halves(pair: PairHandle, s: int) -> tuple[Any, Any]:
    """(slot at s, slot at the other end)."""
    return (pair.slot_a, pair.slot_b) if pair.node_a == s else (pair.slot_b, pair.slot_a)


def prepare_data_qubit(qpu: Any, ket: np.ndarray) -> tuple[str, int]:
    """Prepare ``ket`` in a free data qubit of ``qpu``; returns its location."""
    slot = qpu.data.free_slots()[0]
    qpu.data.store(slot, qops.prepare(ket), apply_efficiency=False)
    return ("data", slot)


# -- the node-side steps (shared with the message-driven stack, protocols.stack.application) --
def teleport_measure(qpu_s: Any, slot_s: Any, ket: np.ndarray) -> Any:
    """Source step: prepare ``ket`` in a data qubit and Bell-measure it with the pair half in
    communication slot ``slot_s`` (both freed); returns the QPU's measurement result."""
    data = prepare_data_qubit(qpu_s, ket)
    return qpu_s.bell_measure(data, ("comm", slot_s))


def teleport_correct(qpu_d: Any, slot_d: Any, outcome: Any) -> float:
    """Destination step: ``X^x Z^z`` for the Bell outcome on the half in ``slot_d``; returns
    the gates' duration in ns (:func:`modenhub_net.qubits.bell_correction`)."""
    duration = 0.0
    for gate in qb.bell_correction(outcome):
        duration += qpu_d.apply_gate(gate, [("comm", slot_d)])
    return duration


def cnot_control_step(qpu_s: Any, c: tuple[str, int], e_s: tuple[str, Any]) -> tuple[float, Any]:
    """Control side, first step: CNOT(c, e_A), measure e_A in Z; returns (gate duration,
    measurement result m1)."""
    duration = qpu_s.apply_gate(qb.CNOT, [c, e_s])
    return duration, qpu_s.measure(e_s, basis="Z")


def cnot_target_step(qpu_d: Any, e_d: tuple[str, Any], t: tuple[str, int], m1: int
                     ) -> tuple[float, Any]:
    """Target side: X^m1 on e_B, CNOT(e_B, t), measure e_B in X; returns (gate duration,
    measurement result m2)."""
    duration = qpu_d.apply_gate(qb.X, [e_d]) if m1 else 0.0
    duration += qpu_d.apply_gate(qb.CNOT, [e_d, t])
    return duration, qpu_d.measure(e_d, basis="X")


def cnot_finish_step(qpu_s: Any, c: tuple[str, int], m2: int) -> float:
    """Control side, last step: Z^m2 on the control; returns the gate duration (ns)."""
    return qpu_s.apply_gate(qb.Z, [c]) if m2 else 0.0


def teleport_state(net: Any, request: Request, pair: PairHandle) -> Generator[Any, Any, OperationOutcome]:
    """Teleport a random qubit state from ``request.s`` to ``request.d`` through ``pair``.

    ``net`` is the hub network (:class:`modenhub_net.network.builder.HubNetwork`): its
    ``qpus``, the correction service, classical delays and random streams.
    """
    sim = net.sim
    s, d = request.s, request.d
    yield net.corrections.wait_ready(pair)
    slot_s, slot_d = pair_halves(pair, s)
    qpu_s, qpu_d = net.qpus[s], net.qpus[d]
    pair_fid = qops.pair_fidelity(qpu_s.qubit(("comm", slot_s)), qpu_d.qubit(("comm", slot_d)))
    age = pair.age_ns(sim.now_ns)
    ket = qops.random_qubit_ket(net.rng("teleport.inputs"))
    result = teleport_measure(qpu_s, slot_s, ket)
    yield sim.timeout(result.duration_ns + net.relay_delay_ns(s, d))
    duration = teleport_correct(qpu_d, slot_d, result.outcome)
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
    slot_s, slot_d = pair_halves(pair, s)
    qpu_s, qpu_d = net.qpus[s], net.qpus[d]
    e_s, e_d = ("comm", slot_s), ("comm", slot_d)
    pair_fid = qops.pair_fidelity(qpu_s.qubit(e_s), qpu_d.qubit(e_d))
    age = pair.age_ns(sim.now_ns)
    rng_in = net.rng("cnot.inputs")
    ket_c, ket_t = qops.random_qubit_ket(rng_in), qops.random_qubit_ket(rng_in)
    c, t = prepare_data_qubit(qpu_s, ket_c), prepare_data_qubit(qpu_d, ket_t)
    ideal = qb.CNOT @ np.kron(ket_c, ket_t)
    # A: CNOT(c, e_A), measure e_A in Z, send m1
    duration, m1 = cnot_control_step(qpu_s, c, e_s)
    yield sim.timeout(duration + m1.duration_ns + net.relay_delay_ns(s, d))
    # B: X^m1 on e_B, CNOT(e_B, t), measure e_B in X, send m2
    duration, m2 = cnot_target_step(qpu_d, e_d, t, m1.outcome)
    yield sim.timeout(duration + m2.duration_ns + net.relay_delay_ns(d, s))
    # A: Z^m2 on c
    if m2.outcome:
        duration = cnot_finish_step(qpu_s, c, m2.outcome)
        if duration > 0.0:
            yield sim.timeout(duration)
    fidelity = qops.state_fidelity([qpu_s.qubit(c), qpu_d.qubit(t)], ideal)
    qpu_s.data.discard(c[1])
    qpu_d.data.discard(t[1])
    return OperationOutcome(fidelity=fidelity, pair_fidelity=pair_fid, pair_age_ns=age)
