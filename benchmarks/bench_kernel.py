"""Kernel benchmark (issue 2).

(a) Events per second of the port/channel/protocol layer for a message ping-pong between
    two protocols over two 1-ns classical channels, and its ratio to bare SimPy timeouts
    measured in the same run (the floor: one heap event per step, nothing else).
(b) Entanglement swaps per second on Bell pairs: create two pairs, decohere each stored
    qubit for an elapsed time, Bell-state measurement, Pauli correction, fidelity
    (``benchmarks/bench_swaps.py``). Target >= 20,000 per second on one core.

Run: ``python benchmarks/bench_kernel.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import simpy

from modenhub_net import Simulation
from modenhub_net.components import (
    ClassicalChannel,
    Component,
    Connection,
    FixedDelayModel,
    Message,
)
from modenhub_net.protocol import Protocol


def bare_simpy_timeouts_per_s(n_events: int) -> float:
    """Rate of a SimPy process that yields ``n_events`` 1-ns timeouts."""
    env = simpy.Environment()

    def loop():
        for _ in range(n_events):
            yield env.timeout(1.0)

    env.process(loop())
    start = time.perf_counter()
    env.run()
    return n_events / (time.perf_counter() - start)


class _Player(Protocol):
    def __init__(self, sim, port, *, serves: bool, n_volleys: int):
        super().__init__(sim, name=f"player-{port.component.name}")
        self.port = port
        self.serves = serves
        self.n_volleys = n_volleys

    def run(self):
        if self.serves:
            self.port.tx_output(Message((0,)))
        for _ in range(self.n_volleys):
            yield self.await_port_input(self.port)
            count = self.port.rx_input().items[0]
            self.port.tx_output(Message((count + 1,)))


def ping_pong_messages_per_s(n_messages: int) -> tuple[float, float, float]:
    """Ping-pong rates: (messages/s, SimPy heap events/s, simulated end time in ns).

    A message goes port -> connection -> channel delay -> port -> protocol wake-up.
    """
    sim = Simulation(seed=0)
    alice = Component("alice", sim=sim, port_names=["io"])
    bob = Component("bob", sim=sim, port_names=["io"])
    link = Connection(
        "link",
        sim=sim,
        channel_ab=ClassicalChannel("ab", sim=sim, delay_model=FixedDelayModel(1.0)),
        channel_ba=ClassicalChannel("ba", sim=sim, delay_model=FixedDelayModel(1.0)),
    )
    alice.ports["io"].connect(link.ports["A"])
    bob.ports["io"].connect(link.ports["B"])
    half = n_messages // 2
    _Player(sim, alice.ports["io"], serves=True, n_volleys=half).start()
    _Player(sim, bob.ports["io"], serves=False, n_volleys=half).start()
    first_event_id = next(sim.env._eid)
    start = time.perf_counter()
    sim.run()
    wall = time.perf_counter() - start
    n_events = next(sim.env._eid) - first_event_id - 1
    return n_messages / wall, n_events / wall, sim.now_ns


def main() -> None:
    n = 200_000
    bare = max(bare_simpy_timeouts_per_s(n) for _ in range(3))
    ours, events, end_ns = max(ping_pong_messages_per_s(n) for _ in range(3))
    print("(a) ping-pong over the port/connection/channel/protocol layer")
    print(f"    bare SimPy timeouts:        {bare:12,.0f} events/s")
    print(f"    ping-pong, kernel events:   {events:12,.0f} events/s"
          f"  (ratio to bare SimPy {events / bare:.3f})")
    print(f"    ping-pong, messages:        {ours:12,.0f} messages/s"
          f" (ratio to bare SimPy timeouts {ours / bare:.3f}; sim end {end_ns:.0f} ns)")
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        from bench_swaps import swap_rate
    except ImportError:
        print("(b) bench_swaps.py not available")
        return
    swap_rate(2_000, seed=1)  # warm-up
    result = max((swap_rate(20_000, seed=1) for _ in range(3)), key=lambda r: r["swaps_per_s"])
    print("(b) entanglement swaps on Bell pairs (create, decohere, BSM, correct, fidelity), best of 3")
    print(f"    {result['swaps_per_s']:,.0f} swaps/s on one core "
          f"(target >= 20,000); mean fidelity {result['mean_fidelity']:.4f}; "
          f"ratio to bare SimPy timeouts {result['swaps_per_s'] / bare:.4f} "
          f"(the machine's speed in the same run; kernel vs dense-Kronecker swaps: bench_swaps.py)")


if __name__ == "__main__":
    main()
