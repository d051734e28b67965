"""A round starts only if the QPUs are ready before the request's deadline.

The emitters' reset (``MemoryParams.emitter_reset_ns``) runs after a round's herald and delays
the QPUs' next round (:meth:`protocols.generation_base._Base.wait_ready`). The link layer
checks a request's deadline after that wait, so a round that could only start after the
deadline is not played: the request is dropped with the rounds it had.
"""

from __future__ import annotations

from hardware_models import FibreParams, MemoryParams
from modenhub_net.network.builder import build_hub_network
from modenhub_net.network.spec import QpuSpec
from modenhub_net.simulation import Simulation
from tests.stack.helpers import DETECTOR, first_failed_teleport, hub

RESET_NS = 40_000.0
HOP_NS = 10_000.0  # 2 km at 2e5 km/s: request to the hub, then the command to the QPUs


def _node() -> QpuSpec:
    memory = MemoryParams(emission_efficiency=0.05, write_efficiency=0.9, t2_ns=1e8,
                          emitter_reset_ns=RESET_NS)
    return QpuSpec(fibre=FibreParams(length_km=2.0), memory=memory, detector=DETECTOR)


def test_no_round_starts_after_the_deadline_because_of_a_reset():
    nodes = [_node()] * 4
    period = build_hub_network(Simulation(seed=0), nodes=nodes, hub=hub()).budget(0, 1).attempt_period_ns
    assert period > RESET_NS
    # round 1: called at 2 hops, waits the reset (stationary start), hands over at
    # 2 hops + period; round 2 is called then (before the deadline) but its QPUs are ready
    # only at 2 hops + period + reset, after the deadline
    deadline = 2 * HOP_NS + period + RESET_NS / 2
    record = first_failed_teleport(nodes, deadline_ns=deadline)
    assert record.dropped and record.rounds == 1, (record.rounds, record.dropped)
    assert record.released_ns >= deadline
