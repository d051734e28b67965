"""The per-QPU agent: submits the QPU's requests and reacts to heralds.

A :class:`QpuAgent` runs on QPU ``node``. At each of its requests' arrival times it sends
``stack.request`` to the hub over its classical fibre (the orchestrator sees the request one
fibre latency later). It receives the hub's generation commands (``stack.generate``, logged)
and heralds (``stack.herald``); when it is the source of the heralded request, it starts the
application layer with the first heralded pair (the protocol's convention), as it does for a
cached pair assigned by ``stack.use``.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

from modenhub_net.components import Message
from modenhub_net.protocol import Protocol
from modenhub_net.simulation import Simulation
from protocols.stack.application import Application
from protocols.stack.messages import Headers, Transport, make_message
from protocols.workload import Request

__all__ = ["QpuAgent", "install_agents"]


class QpuAgent(Protocol):
    """Request submission and herald handling at QPU ``node``.

    Parameters
    ----------
    sim : Simulation
    node : int
    requests : sequence of Request
        This QPU's requests (``request.s == node``), sorted by arrival.
    transport : Transport
    application : Application

    Attributes
    ----------
    log : list of tuple
        ``(time_ns, header, request_id)`` of every command / herald / use received.
    """

    def __init__(self, sim: Simulation, *, node: int, requests: Sequence[Request],
                 transport: Transport, application: Application, keep_log: bool = False) -> None:
        super().__init__(sim, name=f"qpu{node}.agent")
        self.node = node
        self.requests = list(requests)
        self.transport = transport
        self.application = application
        self.keep_log = keep_log
        self.log: list[tuple[float, str, int]] = []

    def run(self) -> Generator[Any, Any, None]:
        env = self.sim.env
        for request in self.requests:
            if request.arrival_ns > env.now:
                yield env.timeout(request.arrival_ns - env.now)
            self.transport.to_hub(self.node, make_message(Headers.REQUEST, request=request))

    def on_generate(self, message: Message) -> None:
        if self.keep_log:
            self.log.append((self.sim.now_ns, Headers.GENERATE, message.meta["request_id"]))

    def on_herald(self, message: Message) -> None:
        request = message.meta["request"]
        if self.keep_log:
            self.log.append((self.sim.now_ns, Headers.HERALD, request.request_id))
        if message.meta["success"] and request.s == self.node and request.kind != "pregenerate":
            self.application.start(request, message.meta["pairs"][0])

    def on_use(self, message: Message) -> None:
        request = message.meta["request"]
        if self.keep_log:
            self.log.append((self.sim.now_ns, Headers.USE, request.request_id))
        self.application.start(request, message.meta["pair"])


def install_agents(sim: Simulation, *, n_qpus: int, requests: Sequence[Request],
                   transport: Transport, application: Application,
                   keep_log: bool = False) -> list[QpuAgent]:
    """One started :class:`QpuAgent` per QPU, with the message handlers registered."""
    by_node: list[list[Request]] = [[] for _ in range(n_qpus)]
    for request in sorted(requests, key=lambda r: (r.arrival_ns, r.request_id)):
        by_node[request.s].append(request)
    agents = [QpuAgent(sim, node=i, requests=by_node[i], transport=transport,
                       application=application, keep_log=keep_log) for i in range(n_qpus)]
    transport.on_qpu(Headers.GENERATE, lambda node, m: agents[node].on_generate(m))
    transport.on_qpu(Headers.HERALD, lambda node, m: agents[node].on_herald(m))
    transport.on_qpu(Headers.USE, lambda node, m: agents[node].on_use(m))
    for agent in agents:
        if agent.requests:
            agent.start()
    return agents
