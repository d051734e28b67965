"""Swapping at the hub and Pauli-frame corrections carried by classical messages.

Two things a heralded pair may need before use:

1. *Swapping* (``hub_memory_swap``): the hub holds legs hub–A and hub–B in its shared memory
   and Bell-measures the two hub qubits (:func:`swap_legs`); the outcome turns the A–B pair
   into a known Bell state.
2. *Correction*: the Bell index of the heralded pair (from the swap, or from the optical BSM
   of ``detection_in_hub``) is sent as a classical message from the hub to B. B applies the
   Pauli that maps it back to Phi+ **when the message arrives**: the memory noise for the
   whole wait is applied at that access (:meth:`hardware_models.memory.QuantumMemory.access`),
   so the waiting counts as storage time.

:class:`CorrectionService` is the node-side handler: ``send`` puts a correction message on
the hub's classical channel to B; on arrival it accesses B's half, applies the Pauli (with the
node's single-qubit gate error) and fires the pair's ``ready`` event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from modenhub_net.components import Message
from modenhub_net.network import quantum as qops
from modenhub_net.simulation import Simulation
from protocols.pair import PairHandle

__all__ = ["CorrectionService", "swap_legs"]


def swap_legs(
    hub_qubit_a: Any, hub_qubit_b: Any, rng: np.random.Generator, *, gate_error: float = 0.0
) -> int:
    """Entanglement swapping: Bell-measure the hub halves of legs hub–A and hub–B.

    If the legs are Phi+ (hub qubit first), the remaining A–B pair is in Bell state
    ``outcome`` (0..3: Phi+, Phi-, Psi+, Psi-), corrected by :func:`qops.apply_correction`
    on B. Both hub qubits are consumed. Werner check: two Werner legs F1, F2 give
    ``F1 F2 + (1 - F1)(1 - F2)/3`` (DESIGN.md §3).
    """
    return qops.noisy_bell_measure(hub_qubit_a, hub_qubit_b, rng, gate_error=gate_error)


class CorrectionService:
    """Delivers Pauli-frame corrections to QPUs by classical message.

    Parameters
    ----------
    sim : Simulation
    send_to_node : callable
        ``send_to_node(node, message)``: puts a message on the hub's channel to ``node``.
    access_half : callable
        ``access_half(node, slot) -> qubit``: memory access at the node (applies storage noise).
    gate_error_1q : callable
        ``gate_error_1q(node) -> float``: the node's single-qubit gate error.
    """

    def __init__(
        self,
        sim: Simulation,
        *,
        send_to_node: Callable[[int, Message], None],
        access_half: Callable[[int, Any], Any],
        gate_error_1q: Callable[[int], float],
    ) -> None:
        self.sim = sim
        self._send = send_to_node
        self._access = access_half
        self._error = gate_error_1q
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
        event = self.ready.pop(pair.pair_id, None)
        if pair.status != "discarded":
            qubit = self._access(node, pair.slot_b)
            if message.meta["kind"] == "swap":
                qops.apply_correction(qubit, pair.bell_index, error=self._error(node))
            else:
                qops.apply_pauli_frame(qubit, pair.bell_index, error=self._error(node))
            self.applied += 1
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
