"""Two-way connections built from two one-way channels."""

from __future__ import annotations

from modenhub_net.components.channel import Channel
from modenhub_net.components.component import Component
from modenhub_net.simulation import Simulation

__all__ = ["Connection"]


class Connection(Component):
    """A full-duplex link with ports ``A`` and ``B`` (NetSquid's ``DirectConnection``).

    A message entering ``A`` travels through ``channel_ab`` and leaves ``B``; a message
    entering ``B`` travels through ``channel_ba`` and leaves ``A``. Connect a node's port to
    ``A`` and the other node's port to ``B``.

    Parameters
    ----------
    name : str
        Component name.
    sim : Simulation
        Owning simulation.
    channel_ab, channel_ba : Channel
        The two directions; they become sub-components.
    """

    def __init__(
        self, name: str, *, sim: Simulation, channel_ab: Channel, channel_ba: Channel
    ) -> None:
        super().__init__(name, sim=sim, port_names=("A", "B"))
        self.add_subcomponent(channel_ab)
        self.add_subcomponent(channel_ba)
        self.channel_ab = channel_ab
        self.channel_ba = channel_ba
        self.ports["A"].forward_input(channel_ab.ports["send"])
        channel_ab.ports["recv"].forward_output(self.ports["B"])
        self.ports["B"].forward_input(channel_ba.ports["send"])
        channel_ba.ports["recv"].forward_output(self.ports["A"])
