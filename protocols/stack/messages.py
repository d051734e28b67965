"""Message headers of the stack and the classical transport the layers use.

Every message between layers on different nodes travels over the network's classical
connections ``cc{i}`` (QPU ``i`` <-> hub), so it carries that fibre's latency; QPU-to-QPU
messages are relayed by the hub (two hops). Layers on the same node (the orchestrator and the
link layer, both on the hub) call each other directly.

============================  ===============  ===============================================
header                        route            meaning
============================  ===============  ===============================================
``stack.request``             QPU s -> hub     a new request (its :class:`Request`)
``stack.generate``            hub -> QPU a, b  generation command (partner, attempts per round)
``stack.herald``              hub -> QPU a, b  outcome of a request's rounds (heralded pairs)
``stack.use``                 hub -> QPU s     a cached pair serves the request (cache hit)
``stack.outcome``             QPU -> hub -> QPU  measurement outcomes of the application layer
``stack.done``                QPU -> hub       the operation finished (result, end time)
============================  ===============  ===============================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import Protocol as TypingProtocol

from modenhub_net.components import Message

__all__ = ["Headers", "Transport", "make_message"]


class Headers:
    """Header labels of the stack's classical messages (``message.meta["header"]``)."""

    REQUEST = "stack.request"
    GENERATE = "stack.generate"
    HERALD = "stack.herald"
    USE = "stack.use"
    OUTCOME = "stack.outcome"
    DONE = "stack.done"


def make_message(header: str, **fields: Any) -> Message:
    """A classical message with ``header`` and the given metadata fields."""
    return Message((header,), {"header": header, **fields})


class Transport(TypingProtocol):
    """The classical channels the layers send on (implemented over the hub network).

    ``to_hub(node, message)`` sends from QPU ``node`` to the hub over ``cc{node}``;
    ``to_qpu(node, message)`` sends from the hub to QPU ``node``; ``on_hub(header, handler)``
    and ``on_qpu(header, handler)`` register ``handler(node, message)`` for messages with
    ``header`` arriving at the hub (from QPU ``node``) or at QPU ``node``.
    """

    def to_hub(self, node: int, message: Message) -> None: ...

    def to_qpu(self, node: int, message: Message) -> None: ...

    def on_hub(self, header: str, handler: Callable[[int, Message], None]) -> None: ...

    def on_qpu(self, header: str, handler: Callable[[int, Message], None]) -> None: ...

    def latency_to_qpu_ns(self, node: int) -> float: ...
