"""A classical stand-in for the hub network: attempts herald with a fixed probability.

Used to test the orchestrator's round and cache logic on its own (no quantum state).
"""

from __future__ import annotations

import numpy as np

from modenhub_net.simulation import Simulation
from protocols.orchestrator import OperationOutcome, RoundOutcome
from protocols.pair import PairHandle


class FakeServices:
    def __init__(self, sim: Simulation, *, n_qpus: int, p: float, round_ns: float = 100.0,
                 cap: int = 1000, slots_per_node: int | None = None) -> None:
        self.sim = sim
        self.n_qpus = n_qpus
        self.p = p
        self.round_ns = round_ns
        self.cap = cap
        self.rng = sim.rng("fake.link")
        self.next_id = 0
        self.slots_per_node = slots_per_node
        self.held: dict[int, set[int]] = {i: set() for i in range(n_qpus)}
        self.discarded: list[tuple[int, str]] = []
        self.used: list[int] = []

    def _free(self, node: int) -> int:
        if self.slots_per_node is None:
            return 10**9
        return self.slots_per_node - len(self.held[node])

    def attempt_cap(self, a, b):
        free = min(self._free(a), self._free(b))
        if free < self.cap:
            return free, "comm_qubits"
        return self.cap, "bsm_stations"

    def p_success(self, a, b):
        return self.p

    def link_round(self, a, b, k):
        yield self.sim.timeout(self.round_ns)
        n = int(self.rng.binomial(k, self.p))
        pairs = []
        for _ in range(n):
            pid = self.next_id
            self.next_id += 1
            self.held[a].add(pid)
            self.held[b].add(pid)
            pairs.append(PairHandle(pid, a, b, None, None, heralded_ns=self.sim.now_ns))
        return RoundOutcome(pairs=pairs, attempts=k)

    def _release(self, pair):
        for node in (pair.node_a, pair.node_b):
            assert pair.pair_id in self.held[node], "memory freed twice"
            self.held[node].discard(pair.pair_id)

    def discard_pair(self, pair, reason):
        assert pair.status == "discarded"
        self._release(pair)
        self.discarded.append((pair.pair_id, reason))

    def execute(self, request, pair):
        assert pair.status == "served"
        assert pair.pair_id not in self.used
        self.used.append(pair.pair_id)
        self._release(pair)
        age = self.sim.now_ns - pair.heralded_ns
        yield self.sim.timeout(1.0)
        return OperationOutcome(fidelity=1.0, pair_fidelity=1.0, pair_age_ns=age)

    def fidelity_estimate(self, pair, now_ns):
        return -pair.age_ns(now_ns)


def held_pairs(services: FakeServices) -> int:
    return len(set().union(*services.held.values()))


__all__ = ["FakeServices", "held_pairs", "np"]
