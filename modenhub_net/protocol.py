"""Generator-style protocols: ``await_port_input``, ``await_timer``, ``await_signal``.

A protocol's :meth:`Protocol.run` is a generator that yields *wait events*. Combine them
with ``|`` (any of) and ``&`` (all of); the value sent back is a SimPy ``ConditionValue``
in which the events that fired can be tested with ``in``::

    def run(self):
        while True:
            port_wait = self.await_port_input(self.node.ports["c"])
            timer = self.await_timer(1_000.0)
            fired = yield port_wait | timer
            if port_wait in fired:
                message = self.node.ports["c"].rx_input()
                ...
            else:
                ...  # timed out

Stopping a protocol cancels its pending waits: the generator is never resumed again and
its port and signal waits are withdrawn (queued port messages are kept for a restart).

Besides one-shot waits (:meth:`Protocol.await_signal`), a signal can have persistent
*listeners* (:meth:`Protocol.add_signal_listener`), called synchronously each time it is
sent; :class:`modenhub_net.collector.DataCollector` uses them (ARCHITECTURE.md §1).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from modenhub_net.components.port import Port
from modenhub_net.simulation import Simulation

__all__ = ["Protocol", "Signals"]


class Signals:
    """Standard signal labels."""

    FINISHED = "finished"
    SUCCESS = "success"
    FAIL = "fail"


class _StopRequested(Exception):
    """Raised inside a protocol's own generator when it stops itself."""


class Protocol:
    """Base class of generator-style protocols.

    Parameters
    ----------
    sim : Simulation
        Owning simulation.
    name : str
        Stable name (used in traces and for the protocol's random stream).

    Notes
    -----
    Subclasses override :meth:`run`. Its return value is sent as the ``finished`` signal
    result. Subprotocols added with :meth:`add_subprotocol` start and stop with the parent.
    """

    def __init__(self, sim: Simulation, *, name: str) -> None:
        self.sim = sim
        self.name = name
        self.subprotocols: dict[str, Protocol] = {}
        self._process: simpy.Process | None = None
        self._cleanups: list[tuple[simpy.Event, Callable[[], None]]] = []
        self._signal_waiters: dict[str, list[simpy.Event]] = {}
        self._signal_results: dict[str, Any] = {}
        self._signal_listeners: dict[str | None, list[Callable[[Protocol, str, Any], None]]] = {}
        self._generation = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    # -- life cycle -------------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        """True between :meth:`start` and :meth:`stop` (or the end of :meth:`run`)."""
        return self._process is not None and self._process.is_alive

    def run(self) -> Generator[simpy.Event, Any, Any]:
        """The protocol body; override in subclasses (a generator yielding wait events)."""
        return
        yield  # pragma: no cover - makes this a generator

    def start(self) -> Protocol:
        """Start the protocol (and its subprotocols); no-op if already running."""
        for sub in self.subprotocols.values():
            sub.start()
        if not self.is_running:
            self._generation += 1
            self._process = self.sim.process(self._main(self._generation))
        return self

    def stop(self) -> None:
        """Stop the protocol and its subprotocols, cancelling every pending wait."""
        for sub in self.subprotocols.values():
            sub.stop()
        process = self._process
        self._cancel_waits()
        if process is None or not process.is_alive:
            return
        self._process = None
        if self.sim.env.active_process is process:
            raise _StopRequested()
        process.interrupt("stop")

    def reset(self) -> None:
        """Stop, forget signal results, and start again."""
        self.stop()
        self._signal_results.clear()
        self.start()

    def add_subprotocol(self, protocol: Protocol) -> Protocol:
        """Register a subprotocol (started and stopped with this one)."""
        if protocol.name in self.subprotocols:
            raise ValueError(f"{self!r} already has a subprotocol {protocol.name!r}")
        self.subprotocols[protocol.name] = protocol
        return protocol

    def _main(self, generation: int) -> Generator[simpy.Event, Any, None]:
        try:
            result = yield from self.run()
        except (simpy.Interrupt, _StopRequested):
            return
        if self._generation == generation:
            self._cleanups.clear()
            self.send_signal(Signals.FINISHED, result)

    def _cancel_waits(self) -> None:
        cleanups, self._cleanups = self._cleanups, []
        for _event, cleanup in cleanups:
            cleanup()

    def _track(self, event: simpy.Event, cleanup: Callable[[], None]) -> None:
        """Remember how to withdraw a pending wait; forget waits that already fired."""
        cleanups = self._cleanups
        if len(cleanups) > 8:
            cleanups[:] = [item for item in cleanups if not item[0].triggered]
        cleanups.append((event, cleanup))

    # -- waits ------------------------------------------------------------------------
    def await_timer(self, duration_ns: float) -> simpy.Event:
        """An event that fires after ``duration_ns`` (>= 0) nanoseconds."""
        if duration_ns < 0:
            raise ValueError(f"duration_ns = {duration_ns!r} must be >= 0")
        return self.sim.env.timeout(duration_ns)

    def await_port_input(self, port: Port) -> simpy.Event:
        """An event that fires (value: the message) when the next message reaches ``port``.

        The message stays in the port's queue; read it with ``port.rx_input()``.
        """
        event = port.await_input()
        self._track(event, lambda: port.cancel_wait(event))
        return event

    def await_signal(self, sender: Protocol, label: str = Signals.SUCCESS) -> simpy.Event:
        """An event that fires (value: the signal result) when ``sender`` signals ``label``."""
        event = self.sim.event()
        waiters = sender._signal_waiters.setdefault(label, [])
        waiters.append(event)

        def cancel() -> None:
            if event in waiters:
                waiters.remove(event)

        self._track(event, cancel)
        return event

    # -- signals ----------------------------------------------------------------------
    def send_signal(self, label: str, result: Any = None) -> None:
        """Signal ``label`` with ``result`` to every protocol waiting on it.

        Listeners (:meth:`add_signal_listener`) of ``label``, then those of every label, are
        called first, synchronously, at the current simulation time.
        """
        self._signal_results[label] = result
        if self._signal_listeners:
            for key in (label, None):
                for listener in tuple(self._signal_listeners.get(key, ())):
                    listener(self, label, result)
        waiters = self._signal_waiters.pop(label, [])
        for event in waiters:
            if not event.triggered:
                event.succeed(result)

    def add_signal_listener(self, label: str | None,
                            listener: Callable[[Protocol, str, Any], None]) -> Callable[[], None]:
        """Call ``listener(self, label, result)`` every time this protocol sends ``label``.

        Unlike :meth:`await_signal` (one wait, one event), a listener stays until removed, is
        called synchronously inside :meth:`send_signal` (so two signals sent at the same
        instant are both seen) and does not depend on the protocol running.

        Parameters
        ----------
        label : str or None
            The signal label; None listens to every label.
        listener : callable
            ``listener(protocol, label, result) -> None``.

        Returns
        -------
        callable
            Call it (no arguments) to remove the listener; removing twice is harmless.
        """
        listeners = self._signal_listeners.setdefault(label, [])
        listeners.append(listener)

        def remove() -> None:
            if listener in listeners:
                listeners.remove(listener)

        return remove

    def get_signal_result(self, label: str, default: Any = None) -> Any:
        """The result of the last ``label`` signal (``default`` if never sent)."""
        return self._signal_results.get(label, default)
