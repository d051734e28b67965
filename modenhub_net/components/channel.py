"""Channels: one-way links with a delay model and a loss model."""

from __future__ import annotations

from typing import Any

from modenhub_net.components.component import Component
from modenhub_net.components.message import Message
from modenhub_net.components.models import (
    DelayModel,
    FixedDelayModel,
    LossModel,
    NoLoss,
    QubitNoiseModel,
)
from modenhub_net.simulation import Simulation

__all__ = ["Channel", "ClassicalChannel", "QuantumChannel"]


class Channel(Component):
    """A one-way channel: a message entering ``send`` leaves ``recv`` after a delay.

    Messages sent at the same time with the same delay leave in the order they entered
    (SimPy's event queue is FIFO for equal times).

    Parameters
    ----------
    name : str
        Component name.
    sim : Simulation
        Owning simulation.
    delay_model : DelayModel, optional
        Gives the delay of each message in ns (default: zero delay).
    loss_model : LossModel, optional
        Decides whether a message (classical) or each qubit (quantum) survives
        (default: no loss).
    """

    def __init__(
        self,
        name: str,
        *,
        sim: Simulation,
        delay_model: DelayModel | None = None,
        loss_model: LossModel | None = None,
    ) -> None:
        super().__init__(name, sim=sim, port_names=("send", "recv"))
        self.delay_model: DelayModel = delay_model or FixedDelayModel(0.0)
        self.loss_model: LossModel = loss_model or NoLoss()
        self.ports["send"].bind_input_handler(self._on_send)
        self.messages_sent = 0
        self.messages_lost = 0

    def _on_send(self, message: Message) -> None:
        self.messages_sent += 1
        delay = self.delay_model.delay_ns(rng=self.rng, message=message)
        delivered = self._transmit(message, delay)
        if delivered is None:
            self.messages_lost += 1
            return
        recv = self.ports["recv"]
        if delay == 0.0:
            recv.tx_output(delivered)
            return
        timer = self.sim.env.timeout(delay)
        timer.callbacks.append(lambda _event: recv.tx_output(delivered))

    def _transmit(self, message: Message, delay_ns: float) -> Message | None:
        """Apply loss (and noise) to a message; ``None`` means the whole message is lost."""
        return message if self.loss_model.survives(rng=self.rng, item=message) else None


class ClassicalChannel(Channel):
    """A channel for classical messages; loss drops a whole message."""


class QuantumChannel(Channel):
    """A channel for qubits: loss acts per qubit, noise per qubit for the flight time.

    A lost qubit is removed from its state (partners traced out,
    :func:`modenhub_net.qubits.lose`) and replaced by ``None`` in the delivered message.

    Parameters
    ----------
    noise_model : QubitNoiseModel, optional
        Applied to each surviving qubit with ``elapsed_ns`` = the message delay.
    """

    def __init__(
        self,
        name: str,
        *,
        sim: Simulation,
        delay_model: DelayModel | None = None,
        loss_model: LossModel | None = None,
        noise_model: QubitNoiseModel | None = None,
    ) -> None:
        super().__init__(name, sim=sim, delay_model=delay_model, loss_model=loss_model)
        self.noise_model = noise_model
        self.qubits_lost = 0

    def _transmit(self, message: Message, delay_ns: float) -> Message | None:
        from modenhub_net.qubits import lose

        items: list[Any] = []
        for qubit in message.items:
            if qubit is None:
                items.append(None)
            elif not self.loss_model.survives(rng=self.rng, item=qubit):
                lose(qubit)
                self.qubits_lost += 1
                items.append(None)
            else:
                if self.noise_model is not None:
                    self.noise_model.apply(qubit, elapsed_ns=delay_ns, rng=self.rng)
                items.append(qubit)
        return Message(tuple(items), dict(message.meta))
