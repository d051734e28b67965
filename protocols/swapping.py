"""Swapping at the hub and Pauli-frame corrections carried by classical messages.

Two things a heralded pair may need before use:

1. *Swapping* (``hub_memory_swap``): the hub holds legs hub–A and hub–B in its shared memory
   and Bell-measures the two hub qubits (:meth:`hardware_models.QPU.bell_measure` of the hub
   memory, with its gate and readout errors; :mod:`protocols.generation`); the outcome turns
   the A–B pair into a known Bell state. Werner check: two Werner legs F1, F2 give
   ``F1 F2 + (1 - F1)(1 - F2)/3`` (ARCHITECTURE.md §3).
2. *Correction*: the Bell index of the heralded pair (from the swap, or from the optical BSM
   of ``detection_in_hub``) is sent as a classical message from the hub to B. B applies the
   Pauli that maps it back to Phi+ **when the message arrives**: the memory noise for the
   whole wait is applied at that access (:meth:`hardware_models.memory.QuantumMemory.access`),
   so the waiting counts as storage time.

:class:`CorrectionService` is the node-side handler: ``send`` puts a correction message on
the hub's classical channel to B; on arrival it applies the Pauli gates to B's half with B's
:class:`hardware_models.QPU` (its single-qubit gate error and duration; the memory noise up to
then is applied at that access) and, after the gates' duration, fires the pair's ``ready``
event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modenhub_net.components import Message
from modenhub_net.simulation import Simulation
from protocols import qops
from protocols.pair import PairHandle

__all__ = ["CorrectionService"]


class CorrectionService:
    """Delivers Pauli-frame corrections to QPUs by classical message.

    Parameters
    ----------
    sim : Simulation
    send_to_node : callable
        ``send_to_node(node, message)``: puts a message on the hub's channel to ``node``.
    qpu_of : callable
        ``qpu_of(node) -> hardware_models.QPU``: the QPU that holds the half to correct
        (communication memory location ``("comm", pair.slot_b)``).
    """

    def __init__(
        self,
        sim: Simulation,
        *,
        send_to_node: Callable[[int, Message], None],
        qpu_of: Callable[[int], Any],
    ) -> None:
        self.sim = sim
        self._send = send_to_node
        self._qpu_of = qpu_of
        self.ready: dict[int, Any] = {}
        self.applied = 0

    def send(self, pair: PairHandle, *, kind: str = "bell") -> Any:
        """Send the correction of ``pair`` to ``pair.node_b``; returns the pair's ready event.

        ``kind = "bell"``: the Pauli that maps Bell state ``pair.bell_index`` to Phi+;
        ``kind = "swap"``: :func:`modenhub_net.qubits.bell_correction` of a swap outcome.
        """
        event = self.sim.event()
        self.ready[pair.pair_id] = event
        self._send(
            pair.node_b,
            Message(("correction",), {"header": "correction", "pair": pair, "kind": kind}),
        )
        return event

    def on_message(self, node: int, message: Message) -> None:
        """Handle a correction arriving at ``node`` (bound by the builder)."""
        pair: PairHandle = message.meta["pair"]
        duration = 0.0
        if pair.status != "discarded":
            qpu = self._qpu_of(node)
            location = ("comm", pair.slot_b)
            if message.meta["kind"] == "swap":
                gates = qops.qb_module.bell_correction(pair.bell_index)
            else:
                gates = qops.pauli_frame_gates(pair.bell_index)
            for gate in gates:
                duration += qpu.apply_gate(gate, [location])
            self.applied += 1
        if duration > 0.0:  # ready once the gates are done: until then wait_ready waits
            timer = self.sim.timeout(duration)
            timer.callbacks.append(lambda _e: self._done(pair))
        else:
            self._done(pair)

    def _done(self, pair: PairHandle) -> None:
        event = self.ready.pop(pair.pair_id, None)
        if pair.status == "pending":
            pair.status = "ready"
        pair.ready_ns = self.sim.now_ns
        if event is not None and not event.triggered:
            event.succeed(pair)

    def wait_ready(self, pair: PairHandle) -> Any:
        """An event that fires when the pair's correction has been applied (now if it has)."""
        event = self.ready.get(pair.pair_id)
        if event is None:
            event = self.sim.event()
            event.succeed(pair)
        return event
