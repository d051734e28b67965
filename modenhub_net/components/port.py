"""Ports: the named connection points of components."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import simpy

from modenhub_net.components.message import Message

if TYPE_CHECKING:
    from modenhub_net.components.component import Component

__all__ = ["Port"]


class Port:
    """A named port of a component.

    A port is connected to at most one peer port. ``tx_output`` sends a message out to the
    peer (instantly; delays belong to channels), which receives it with ``tx_input``.
    Received messages either go to a bound input handler, or wait in a FIFO queue read with
    :meth:`rx_input`; protocols wait for arrivals with :meth:`await_input`.
    A port may forward its input to a sub-component's port, or its output to the parent's
    port (NetSquid's ``forward_input`` / ``forward_output``).

    Parameters
    ----------
    component : Component
        Owner.
    name : str
        Port name, unique within the component.
    """

    __slots__ = (
        "name",
        "component",
        "peer",
        "_queue",
        "_waiters",
        "_handler",
        "_forward_in",
        "_forward_out",
    )

    def __init__(self, component: Component, name: str) -> None:
        self.name = name
        self.component = component
        self.peer: Port | None = None
        self._queue: deque[Message] = deque()
        self._waiters: list[simpy.Event] = []
        self._handler: Callable[[Message], None] | None = None
        self._forward_in: Port | None = None
        self._forward_out: Port | None = None

    def __repr__(self) -> str:
        return f"Port({self.full_name!r})"

    @property
    def full_name(self) -> str:
        """``<component full name>.<port name>``."""
        return f"{self.component.full_name}.{self.name}"

    # -- wiring -----------------------------------------------------------------------
    def connect(self, other: Port) -> None:
        """Connect this port and ``other`` to each other (both must be free)."""
        if other is self:
            raise ValueError(f"cannot connect {self!r} to itself")
        for port in (self, other):
            if port.peer is not None:
                raise ValueError(f"{port!r} is already connected to {port.peer!r}")
        self.peer = other
        other.peer = self

    def disconnect(self) -> None:
        """Break the connection with the peer, if any."""
        if self.peer is not None:
            self.peer.peer = None
            self.peer = None

    def forward_input(self, target: Port) -> None:
        """Pass every message arriving here on to ``target`` (e.g. a sub-component port)."""
        self._forward_in = target

    def forward_output(self, target: Port) -> None:
        """Send every message output here through ``target`` (e.g. the parent's port)."""
        self._forward_out = target

    def bind_input_handler(self, handler: Callable[[Message], None] | None) -> None:
        """Call ``handler(message)`` on each arrival instead of queueing it (None unbinds)."""
        self._handler = handler

    # -- traffic ----------------------------------------------------------------------
    def tx_output(self, message: Message) -> None:
        """Send ``message`` out of this port (dropped if nothing is connected)."""
        if self._forward_out is not None:
            self._forward_out.tx_output(message)
        elif self.peer is not None:
            self.peer.tx_input(message)
        else:
            self.component.sim.record(self.full_name, "dropped: port not connected")

    def tx_input(self, message: Message) -> None:
        """Deliver ``message`` into this port (called by the peer or a channel)."""
        if self._forward_in is not None:
            self._forward_in.tx_input(message)
            return
        sim = self.component.sim
        if sim.trace_enabled:
            sim.record(self.full_name, f"input {message.meta.get('header', '')}")
        if self._handler is not None:
            self._handler(message)
            return
        self._queue.append(message)
        if self._waiters:
            waiters, self._waiters = self._waiters, []
            for event in waiters:
                if not event.triggered:
                    event.succeed(message)

    def rx_input(self) -> Message | None:
        """Pop the oldest unread message, or ``None`` if there is none."""
        return self._queue.popleft() if self._queue else None

    @property
    def input_queue_length(self) -> int:
        """Number of received, unread messages."""
        return len(self._queue)

    def await_input(self) -> simpy.Event:
        """An event that fires (value: the message) at the next arrival on this port.

        The message stays queued until read with :meth:`rx_input`.
        """
        event = self.component.sim.event()
        self._waiters.append(event)
        return event

    def cancel_wait(self, event: simpy.Event) -> None:
        """Withdraw a pending :meth:`await_input` event (no-op if already fired)."""
        try:
            self._waiters.remove(event)
        except ValueError:
            pass
