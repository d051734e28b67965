"""The hub's link layer: runs the orchestrator's generation commands on the physical layer.

For each admitted request (a :class:`~protocols.stack.orchestrator.Job` with its plan of
attempts per round) the link layer

1. sends the generation command (``stack.generate``: partner, plan) to both QPUs over their
   classical fibres and starts when both have it (the longer of the two latencies; the hub
   knows its fibres' latencies);
2. joins the pair to a switch lane and *holds* it (``net.hold_lane``: a held lane is never
   torn down for another pair);
3. plays the rounds on the physical layer (``net.link_round`` for one round of ``k``
   multiplexed attempts, or ``net.link_rounds`` where failed rounds may be skipped — sampled
   mode — with the rounds that can start before the request's deadline);
4. frees the lane, sends the herald (``stack.herald``: the heralded pairs; the first one
   serves the request, by protocol convention) to both QPUs and reports to the orchestrator
   (same node: a direct call).

The physics of a round (which photons, which detectors, which heralded state) is all in
:mod:`protocols.generation` and the device models; this layer only sequences it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Any

from modenhub_net.protocol import Protocol
from modenhub_net.simulation import Simulation
from protocols.pair import PairHandle
from protocols.stack.messages import Headers, Transport, make_message

__all__ = ["LinkLayer"]

OnDone = Callable[[Any, list[PairHandle], int, int, bool], None]


class LinkLayer(Protocol):
    """Executes generation commands (one process per admitted request).

    Parameters
    ----------
    sim : Simulation
    services : object
        The physical layer (the hub network): ``hold_lane(a, b)`` / ``unhold_lane(lane)``,
        ``wait_ready(a, b)``, ``link_round(a, b, k)``, ``link_rounds`` (or None),
        ``release_request(a, b)`` and
        ``budget(a, b).attempt_period_ns``.
    transport : Transport
    name : str, optional

    Attributes
    ----------
    herald_log : list of tuple
        ``(time_ns, request_id, n_pairs)`` of each herald sent (for inspection).
    """

    def __init__(self, sim: Simulation, *, services: Any, transport: Transport,
                 name: str = "stack.link") -> None:
        super().__init__(sim, name=name)
        self.services = services
        self.transport = transport
        self.herald_log: list[tuple[float, int, int]] = []
        self.running = 0

    def generate(self, job: Any, on_done: OnDone) -> None:
        """Start the rounds of ``job`` (returns at once; ``on_done`` is called at the end)."""
        self.running += 1
        self.sim.process(self._run(job, on_done))

    def _run(self, job: Any, on_done: OnDone) -> Generator[Any, Any, None]:
        sim, net, transport = self.sim, self.services, self.transport
        a, b = job.key
        request = job.request
        command = make_message(Headers.GENERATE, request_id=request.request_id, pair=job.key,
                               plan=job.plan)
        transport.to_qpu(a, command)
        transport.to_qpu(b, command)
        wait = max(transport.latency_to_qpu_ns(a), transport.latency_to_qpu_ns(b))
        if wait > 0.0:
            yield sim.timeout(wait)
        lane = yield from net.hold_lane(a, b)
        plan = job.plan
        total = len(plan)
        attempts = rounds = r = 0
        pairs: list[PairHandle] = []
        dropped = False
        skip = net.link_rounds if job.allow_skip else None
        while r < total:
            yield from net.wait_ready(a, b)  # the QPUs' previous round has reset
            now = sim.now_ns
            if now >= job.deadline_ns:
                dropped = True
                break
            k = plan[r]
            if k < 1:
                rounds += 1
                r += 1
                continue
            rest = total - r
            if skip is not None and rest > 1 and all(w == k for w in plan[r:]):
                if math.isfinite(job.deadline_ns):  # only the rounds that start in time
                    period = net.budget(a, b).attempt_period_ns
                    rest = min(rest, max(1, math.ceil((job.deadline_ns - now) / period)))
                outcome = yield from skip(a, b, k, rest)
            else:
                outcome = yield from net.link_round(a, b, k)
            attempts += outcome.attempts
            rounds += outcome.rounds
            r += outcome.rounds
            if outcome.pairs:
                pairs = list(outcome.pairs)
                break
        if not pairs and r < total and sim.now_ns >= job.deadline_ns:
            dropped = True
        net.release_request(a, b)
        net.unhold_lane(lane)
        herald = make_message(Headers.HERALD, request=request, pairs=tuple(pairs),
                              success=bool(pairs))
        transport.to_qpu(a, herald)
        transport.to_qpu(b, herald)
        self.herald_log.append((sim.now_ns, request.request_id, len(pairs)))
        self.running -= 1
        on_done(job, pairs, attempts, rounds, dropped)
