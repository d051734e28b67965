"""The stack's classical transport over a hub network's connections ``cc{i}``.

:class:`HubTransport` adapts any network object that has the hub builder's classical wiring
(``qpus[i].ports["c"]``, ``hub_node.ports["c{i}"]``, the handler tables
``qpu_message_handlers`` / ``hub_message_handlers`` keyed by header, and
``herald_ns(i)``), so :mod:`protocols` does not import the builder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modenhub_net.components import Message

__all__ = ["HubTransport"]


class HubTransport:
    """Sends on the network's classical fibres; dispatches arrivals by header."""

    def __init__(self, net: Any) -> None:
        self._net = net
        self._up = [qpu.ports["c"] for qpu in net.qpus]
        self._down = [net.hub_node.ports[f"c{i}"] for i in range(len(net.qpus))]
        self._latency = [net.herald_ns(i) for i in range(len(net.qpus))]

    def to_hub(self, node: int, message: Message) -> None:
        self._up[node].tx_output(message)

    def to_qpu(self, node: int, message: Message) -> None:
        self._down[node].tx_output(message)

    def on_hub(self, header: str, handler: Callable[[int, Message], None]) -> None:
        self._net.hub_message_handlers[header] = handler

    def on_qpu(self, header: str, handler: Callable[[int, Message], None]) -> None:
        self._net.qpu_message_handlers[header] = handler

    def latency_to_qpu_ns(self, node: int) -> float:
        return self._latency[node]
