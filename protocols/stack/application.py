"""Message-driven application layer: teleportation and teleported CNOT between two QPUs.

The same protocols as :mod:`protocols.teleportation` (its node-side steps
:func:`~protocols.teleportation.teleport_measure`, ``teleport_correct``,
``cnot_control_step``, ``cnot_target_step``, ``cnot_finish_step``; the same random input
streams and fidelity definitions), but each step runs at its own node and the measurement
outcomes travel as classical messages QPU -> hub -> QPU (``stack.outcome``, relayed by the
hub: the two classical fibres' latencies). The finishing node reports ``stack.done`` to the
orchestrator (with the end time and the fidelities computed from the simulated states).

Teleportation (Bennett et al., PRL 70, 1895 (1993)): the source ``s`` prepares a Haar-random
``|psi>`` (stream ``teleport.inputs``) in a data qubit, Bell-measures it with its half and
sends the two bits; the destination ``d`` applies ``X^x Z^z``; the fidelity
``<psi|rho_d|psi>`` averages ``(2F + 1)/3`` for a Werner pair of fidelity F.

Teleported CNOT (Eisert et al., PRA 62, 052317 (2000)): ``s`` applies CNOT(c, e_s), measures
``e_s`` in Z and sends m1; ``d`` prepares its target, applies ``X^m1`` on ``e_d``, CNOT(e_d,
t), measures ``e_d`` in X and sends m2; ``s`` applies ``Z^m2`` on ``c``. Gate fidelity
``<phi|rho_ct|phi>`` with ``|phi> = CNOT |psi_c psi_t>`` (stream ``cnot.inputs``).

An operation starts at ``s`` when ``s`` has the herald (or the ``stack.use`` of a cached pair)
and the pair's Pauli-frame correction has been applied at its correcting end
(:class:`protocols.swapping.CorrectionService`). Data qubits are a per-QPU resource: an
operation takes the data qubits it needs at both ends at once when it starts (all or nothing,
so two CNOTs in opposite directions cannot deadlock), waiting in arrival order.

Simulator diagnostics (not physics): the input kets and the pair fidelity at use ride along
in the messages' metadata so that the finishing node can compute the fidelities; the final
fidelity of a CNOT reads both output qubits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import Any

import numpy as np

from modenhub_net.components import Message
from modenhub_net.protocol import Protocol
from protocols import qops
from protocols.pair import PairHandle
from protocols.stack.messages import Headers, Transport, make_message
from protocols.teleportation import (
    cnot_control_step,
    cnot_finish_step,
    cnot_target_step,
    pair_halves,
    prepare_data_qubit,
    teleport_correct,
    teleport_measure,
)
from protocols.workload import Request

__all__ = ["DataQubitPool", "Application"]

qb = qops.qb_module


class DataQubitPool:
    """Free data qubits per QPU, granted all-or-nothing in arrival order.

    Parameters
    ----------
    sim : Simulation
    capacity : sequence of int
        Data qubits per QPU.
    """

    def __init__(self, sim: Any, capacity: list[int]) -> None:
        self.sim = sim
        self.free = list(capacity)
        self._waiting: deque[tuple[tuple[int, ...], Any]] = deque()

    def acquire(self, nodes: tuple[int, ...]) -> Any:
        """Take one data qubit at each of ``nodes``: None if granted at once, else an event
        that fires when they are granted (in arrival order)."""
        if not self._waiting and all(self.free[x] >= 1 for x in nodes):
            for x in nodes:
                self.free[x] -= 1
            return None
        event = self.sim.event()
        self._waiting.append((nodes, event))
        return event

    def release(self, node: int) -> None:
        self.free[node] += 1
        while self._waiting:
            nodes, event = self._waiting[0]
            if not all(self.free[x] >= 1 for x in nodes):
                return
            self._waiting.popleft()
            for x in nodes:
                self.free[x] -= 1
            event.succeed()


class Application(Protocol):
    """The application layer at every QPU (one protocol; each step runs at its own node).

    Parameters
    ----------
    sim : Simulation
    nodes : object
        Node-side services: ``qpus[i]`` (the QPU devices), ``corrections``
        (:class:`protocols.swapping.CorrectionService`), ``rng(name)``, ``free(node, slot)``.
    transport : Transport
    """

    def __init__(self, sim: Any, *, nodes: Any, transport: Transport,
                 name: str = "stack.application") -> None:
        super().__init__(sim, name=name)
        self.nodes = nodes
        self.transport = transport
        self.data = DataQubitPool(sim, [q.data.n_slots for q in nodes.qpus])
        transport.on_hub(Headers.OUTCOME, self._relay)
        transport.on_qpu(Headers.OUTCOME, self._on_outcome)

    # -- hub relay ------------------------------------------------------------------
    def _relay(self, node: int, message: Message) -> None:
        """The hub forwards a measurement outcome to its destination QPU."""
        self.transport.to_qpu(message.meta["dest"], message)

    def _on_outcome(self, node: int, message: Message) -> None:
        step = message.meta["step"]
        if step == "teleport":
            self.sim.process(self._teleport_receive(node, message.meta))
        elif step == "cnot1":
            self.sim.process(self._cnot_target(node, message.meta))
        else:
            self.sim.process(self._cnot_finish(node, message.meta))

    # -- start ------------------------------------------------------------------------
    def start(self, request: Request, pair: PairHandle) -> None:
        """Run ``request``'s operation with ``pair`` (called at QPU ``request.s``)."""
        if request.kind == "cnot":
            self.sim.process(self._cnot_control(request, pair))
        else:
            self.sim.process(self._teleport_send(request, pair))

    def _begin(self, request: Request, pair: PairHandle, nodes: tuple[int, ...]
               ) -> Generator[Any, Any, tuple[float, float]]:
        ready = self.nodes.corrections.wait_ready(pair)
        if not ready.triggered:
            yield ready
        granted = self.data.acquire(nodes)
        if granted is not None:
            yield granted
        s, d = request.s, request.d
        slot_s, slot_d = pair_halves(pair, s)
        qpus = self.nodes.qpus
        pair_fid = qops.pair_fidelity(qpus[s].qubit(("comm", slot_s)), qpus[d].qubit(("comm", slot_d)))
        return pair_fid, pair.age_ns(self.sim.now_ns)

    def _send(self, src: int, dest: int, **fields: Any) -> None:
        self.transport.to_hub(src, make_message(Headers.OUTCOME, dest=dest, **fields))

    def _done(self, node: int, request: Request, *, fidelity: float, pair_fidelity: float,
              pair_age_ns: float) -> None:
        self.transport.to_hub(node, make_message(
            Headers.DONE, request_id=request.request_id, end_ns=self.sim.now_ns,
            fidelity=fidelity, pair_fidelity=pair_fidelity, pair_age_ns=pair_age_ns,
        ))

    # -- teleportation -------------------------------------------------------------------
    def _teleport_send(self, request: Request, pair: PairHandle) -> Generator[Any, Any, None]:
        sim, s = self.sim, request.s
        pair_fid, age = yield from self._begin(request, pair, (s,))
        qpu_s = self.nodes.qpus[s]
        slot_s, _ = pair_halves(pair, s)
        ket = qops.random_qubit_ket(self.nodes.rng("teleport.inputs"))
        result = teleport_measure(qpu_s, slot_s, ket)
        self.data.release(s)
        if result.duration_ns > 0.0:
            yield sim.timeout(result.duration_ns)
        self._send(s, request.d, step="teleport", request=request, pair=pair,
                   outcome=result.outcome, ket=ket, pair_fidelity=pair_fid, pair_age_ns=age)

    def _teleport_receive(self, d: int, meta: dict[str, Any]) -> Generator[Any, Any, None]:
        sim = self.sim
        request, pair = meta["request"], meta["pair"]
        qpu_d = self.nodes.qpus[d]
        _, slot_d = pair_halves(pair, request.s)
        duration = teleport_correct(qpu_d, slot_d, meta["outcome"])
        if duration > 0.0:
            yield sim.timeout(duration)
        fidelity = qops.state_fidelity([qpu_d.qubit(("comm", slot_d))], meta["ket"])
        self.nodes.free(d, slot_d)
        self._done(d, request, fidelity=fidelity, pair_fidelity=meta["pair_fidelity"],
                   pair_age_ns=meta["pair_age_ns"])

    # -- teleported CNOT ---------------------------------------------------------------
    def _cnot_control(self, request: Request, pair: PairHandle) -> Generator[Any, Any, None]:
        sim, s = self.sim, request.s
        pair_fid, age = yield from self._begin(request, pair, (s, request.d))
        qpu_s = self.nodes.qpus[s]
        slot_s, _ = pair_halves(pair, s)
        e_s = ("comm", slot_s)
        rng_in = self.nodes.rng("cnot.inputs")
        ket_c, ket_t = qops.random_qubit_ket(rng_in), qops.random_qubit_ket(rng_in)
        c = prepare_data_qubit(qpu_s, ket_c)
        duration, m1 = cnot_control_step(qpu_s, c, e_s)
        yield sim.timeout(duration + m1.duration_ns)
        self._send(s, request.d, step="cnot1", request=request, pair=pair, outcome=m1.outcome,
                   c=c, ket_c=ket_c, ket_t=ket_t, pair_fidelity=pair_fid, pair_age_ns=age)

    def _cnot_target(self, d: int, meta: dict[str, Any]) -> Generator[Any, Any, None]:
        sim = self.sim
        request, pair = meta["request"], meta["pair"]
        qpu_d = self.nodes.qpus[d]
        _, slot_d = pair_halves(pair, request.s)
        e_d = ("comm", slot_d)
        t = prepare_data_qubit(qpu_d, meta["ket_t"])
        duration, m2 = cnot_target_step(qpu_d, e_d, t, meta["outcome"])
        yield sim.timeout(duration + m2.duration_ns)
        fields = {k: v for k, v in meta.items() if k not in ("header", "dest")}
        fields.update(step="cnot2", outcome=m2.outcome, t=t)
        self._send(d, request.s, **fields)

    def _cnot_finish(self, s: int, meta: dict[str, Any]) -> Generator[Any, Any, None]:
        sim = self.sim
        request = meta["request"]
        d = request.d
        qpus = self.nodes.qpus
        c, t = meta["c"], meta["t"]
        if meta["outcome"]:
            duration = cnot_finish_step(qpus[s], c, meta["outcome"])
            if duration > 0.0:
                yield sim.timeout(duration)
        ideal = qb.CNOT @ np.kron(meta["ket_c"], meta["ket_t"])
        fidelity = qops.state_fidelity([qpus[s].qubit(c), qpus[d].qubit(t)], ideal)
        qpus[s].data.discard(c[1])
        qpus[d].data.discard(t[1])  # diagnostic clean-up of the target (read above)
        self.data.release(s)
        self.data.release(d)
        self._done(s, request, fidelity=fidelity, pair_fidelity=meta["pair_fidelity"],
                   pair_age_ns=meta["pair_age_ns"])
