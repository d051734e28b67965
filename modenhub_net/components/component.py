"""Components and nodes."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from modenhub_net.components.port import Port
from modenhub_net.simulation import Simulation

__all__ = ["Component", "Node"]


class Component:
    """A simulated device with named ports and optional sub-components.

    Parameters
    ----------
    name : str
        Name, unique among its siblings; the full name (``parent.child``) names the
        component's random stream, so keep names stable across runs.
    sim : Simulation
        The simulation this component lives in.
    port_names : iterable of str, optional
        Ports to create.
    """

    def __init__(self, name: str, *, sim: Simulation, port_names: Iterable[str] = ()) -> None:
        if not name or "." in name:
            raise ValueError(f"component name = {name!r} must be non-empty and contain no '.'")
        self.name = name
        self.sim = sim
        self.parent: Component | None = None
        self.ports: dict[str, Port] = {}
        self.subcomponents: dict[str, Component] = {}
        self._rng: np.random.Generator | None = None
        self.add_ports(port_names)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.full_name!r})"

    @property
    def full_name(self) -> str:
        """Dotted path from the top-level component."""
        return self.name if self.parent is None else f"{self.parent.full_name}.{self.name}"

    @property
    def rng(self) -> np.random.Generator:
        """This component's random stream, ``sim.rng(full_name)`` (fixed at first use)."""
        if self._rng is None:
            self._rng = self.sim.rng(self.full_name)
        return self._rng

    def add_ports(self, names: Iterable[str]) -> list[Port]:
        """Create ports; a name that exists already is an error."""
        created = []
        for port_name in names:
            if port_name in self.ports:
                raise ValueError(f"{self!r} already has a port {port_name!r}")
            port = Port(self, port_name)
            self.ports[port_name] = port
            created.append(port)
        return created

    def add_subcomponent(self, component: Component) -> Component:
        """Attach ``component`` as a child (names must be unique among children)."""
        if component.parent is not None:
            raise ValueError(f"{component!r} already belongs to {component.parent!r}")
        if component.name in self.subcomponents:
            raise ValueError(f"{self!r} already has a sub-component {component.name!r}")
        if component._rng is not None:
            raise ValueError(f"{component!r} drew random numbers before being attached")
        component.parent = self
        self.subcomponents[component.name] = component
        return component


class Node(Component):
    """A network node: a component that groups sub-components (memories, sources, ...).

    Nodes usually expose external ports that forward to their sub-components' ports.
    """

    def forward_port(self, external: str, sub_port: Port) -> Port:
        """Create (if needed) an external port that forwards both ways to ``sub_port``."""
        port = self.ports.get(external) or self.add_ports([external])[0]
        port.forward_input(sub_port)
        sub_port.forward_output(port)
        return port
