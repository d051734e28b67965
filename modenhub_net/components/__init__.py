"""Components with ports, channels with delay and loss models, and nodes.

NetSquid users will recognise the shape: a :class:`Component` owns named
:class:`Port` objects; ports connect pairwise; a :class:`Channel` is a component with a
``send`` and a ``recv`` port that delivers each :class:`Message` after a delay drawn from
its :class:`DelayModel`, unless its :class:`LossModel` drops it; a :class:`Node` is a
component with sub-components.
"""

from modenhub_net.components.channel import Channel, ClassicalChannel, QuantumChannel
from modenhub_net.components.component import Component, Node
from modenhub_net.components.connection import Connection
from modenhub_net.components.message import Message
from modenhub_net.components.models import (
    DelayModel,
    FixedDelayModel,
    FixedLossModel,
    LengthDelayModel,
    LossModel,
    NoLoss,
    QubitNoiseModel,
)
from modenhub_net.components.port import Port

__all__ = [
    "Channel",
    "ClassicalChannel",
    "Component",
    "Connection",
    "DelayModel",
    "FixedDelayModel",
    "FixedLossModel",
    "LengthDelayModel",
    "LossModel",
    "Message",
    "NoLoss",
    "Node",
    "Port",
    "QuantumChannel",
    "QubitNoiseModel",
]
