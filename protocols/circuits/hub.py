"""Ebits from the simulated hub network: :class:`HubEbitProvider`.

Each :meth:`HubEbitProvider.request` drives the physical hub of
:class:`modenhub_net.network.builder.HubNetwork` (built from the ``hardware_models``
components) until one ebit between the two QPUs is heralded and Pauli-corrected. The
delivered state is the real two-qubit state of the two communication qubits at the moment
the correction was applied (``modenhub_net.qubits.reduced_dm``), so it carries the link's
heralding infidelity and the storage noise accrued while the herald and the correction
travelled; the waiting time is the hub's real generation time.

Round policies (the orchestrator's, :func:`protocols.orchestrator.make_policy`; the paper's
naive and orchestrated strategies and the adaptive schedule):

``naive``
    one attempt a round, surplus pairs discarded;
``orchestrated``
    ``K(N) = max(2, ceil(0.9 log2 N))`` attempts a round (capped by the free resources); when
    a round heralds more than one pair, one spare per QPU pair is kept (capacity 1, the
    paper's cache) and serves the next request of that pair at once, with the storage noise
    of its wait applied when it is read; the others are discarded;
``adaptive``
    the per-round schedule of :func:`modenhub_net.aggregate.adaptive_schedule` for the link
    budget's per-attempt probability, no cache.

A circuit cannot drop a gate, so a request is never abandoned: the policy's R-round schedule
is replayed until a round heralds (``max_rounds`` bounds the total). With the ``sampled`` link
mode and a constant schedule, failed rounds are skipped in one draw
(``HubNetwork.link_rounds``: geometric number of failures, then one conditioned round).
Surplus pairs that are discarded, and spares never used, count as wasted.

Serial service (a documented simplification until the concurrent hub of the protocol-stack
work serves several requests at once): the provider owns the network's clock, and requests
are served one after another in the order they are made; a request made for a time the
clock has already passed starts when the hub is free (its delivery is still later than the
request). The classical latency between two QPUs is the hub's relay delay
(``HubNetwork.relay_delay_ns``).

Dependencies point one way: the builder is imported by the caller, not here (this module
only calls the ``HubNetwork`` methods it is given).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from modenhub_net.errors import UserInputError
from protocols.circuits.ebits import EbitProvider

__all__ = ["HUB_POLICIES", "HubEbitProvider"]

#: round policies a circuit's ebits can be made with (names of :mod:`protocols.orchestrator`)
HUB_POLICIES = ("naive", "orchestrated", "adaptive")


class HubEbitProvider(EbitProvider):
    """Ebits generated on demand by a :class:`~modenhub_net.network.builder.HubNetwork`.

    Parameters
    ----------
    net : HubNetwork
        A network built with ``build_hub_network`` on its own :class:`Simulation`; QPU ``i``
        of the network is QPU ``i`` of the circuit's partition.
    policy : {"naive", "orchestrated", "adaptive"}
        Round policy (module docstring). Default ``"orchestrated"``.
    rounds : int
        Round budget R of the policy's schedule, in [1, 1000]. Default 3 (the paper's).
    max_rounds : int
        Rounds tried per ebit before giving up, in [1, 10^9]. Default 10^7 (a link that
        fails that often is effectively down; the error names the pair).

    Attributes
    ----------
    records : list of dict
        Per delivered ebit: pair, request and delivery times, rounds, attempts, pair id,
        whether it came from the spare cache.
    """

    def __init__(
        self, net: Any, *, policy: str = "orchestrated", rounds: int = 3, max_rounds: int = 10_000_000
    ) -> None:
        from protocols.orchestrator import make_policy

        if policy not in HUB_POLICIES:
            raise UserInputError(f"policy = {policy!r}: unknown (allowed: {', '.join(HUB_POLICIES)})")
        if isinstance(rounds, bool) or not isinstance(rounds, int) or not 1 <= rounds <= 1000:
            raise UserInputError(f"rounds = {rounds!r} must be an integer in [1, 1000]")
        if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or not 1 <= max_rounds <= 10**9:
            raise UserInputError(f"max_rounds = {max_rounds!r} must be an integer in [1, 1000000000]")
        self.net = net
        self.sim = net.sim
        self.policy = make_policy(policy, n_qpus=max(int(net.n_qpus), 2), rounds=rounds)
        self.max_rounds = max_rounds
        self._wasted = 0
        self._spares: dict[tuple[int, int], Any] = {}
        self.records: list[dict[str, Any]] = []

    @property
    def n_wasted(self) -> int:
        """Heralded pairs never used: surplus discarded, plus spares still unused."""
        return self._wasted + len(self._spares)

    def classical_latency_ns(self, qpu_a: int, qpu_b: int) -> float:
        return float(self.net.relay_delay_ns(qpu_a, qpu_b))

    def request(self, qpu_a: int, qpu_b: int, at_ns: float) -> tuple[np.ndarray, float]:
        from modenhub_net.qubits import reduced_dm

        n = self.net.n_qpus
        for label, q in (("qpu_a", qpu_a), ("qpu_b", qpu_b)):
            if not 0 <= q < n:
                raise UserInputError(f"{label} = {q}: the hub network has QPUs 0..{n - 1}")
        if qpu_a == qpu_b:
            raise UserInputError(f"qpu_a = qpu_b = {qpu_a}: an ebit joins two different QPUs")
        if at_ns > self.sim.now_ns:
            self.sim.run(until_ns=float(at_ns))
        start = self.sim.now_ns
        box: dict[str, Any] = {}
        process = self.sim.process(self._generate(qpu_a, qpu_b, box))
        self.sim.env.run(until=process)
        pair = box["pair"]
        qubits = {
            pair.node_a: self.net.access(pair.node_a, pair.slot_a),
            pair.node_b: self.net.access(pair.node_b, pair.slot_b),
        }
        rho = reduced_dm([qubits[qpu_a], qubits[qpu_b]])
        pair.mark("served")
        self.net.free(pair.node_a, pair.slot_a)
        self.net.free(pair.node_b, pair.slot_b)
        delivered = self.sim.now_ns
        self.records.append(
            {
                "qpu_a": qpu_a,
                "qpu_b": qpu_b,
                "requested_ns": float(at_ns),
                "start_ns": start,
                "delivered_ns": delivered,
                "rounds": box["rounds"],
                "attempts": box["attempts"],
                "pair_id": pair.pair_id,
                "from_cache": box["from_cache"],
            }
        )
        return rho, max(delivered, float(at_ns))

    def _schedule(self, a: int, b: int) -> tuple[int, ...]:
        cap, _ = self.net.attempt_cap(a, b)
        p = self.policy.p_for(self.net.p_success(a, b))
        return tuple(max(1, min(int(k), cap)) if cap >= 1 else 0 for k in self.policy.schedule_for(p, cap))

    def _evict_spares(self, a: int, b: int) -> bool:
        """Discard the spares held on QPU ``a`` or ``b`` (their memory is needed); True if any."""
        evicted = [key for key in self._spares if a in key or b in key]
        for key in evicted:
            pair = self._spares.pop(key)
            pair.mark("discarded")
            self.net.discard_pair(pair, "evicted")
            self._wasted += 1
        return bool(evicted)

    def _generate(self, a: int, b: int, box: dict[str, Any]):
        net = self.net
        key = (min(a, b), max(a, b))
        spare = self._spares.pop(key, None)
        if spare is not None:
            yield net.corrections.wait_ready(spare)
            box.update(pair=spare, rounds=0, attempts=0, from_cache=True)
            return
        rounds = attempts = 0
        try:
            while rounds < self.max_rounds:
                schedule = self._schedule(a, b)
                if min(schedule) < 1 and self._evict_spares(a, b):
                    schedule = self._schedule(a, b)
                if min(schedule) < 1:
                    _, binding = net.attempt_cap(a, b)
                    raise UserInputError(
                        f"ebit {a}-{b}: no attempt possible ({binding} exhausted); the hub needs free "
                        "communication qubits, switch circuits and stations"
                    )
                skip = net.link_rounds if len(set(schedule)) == 1 else None
                if skip is not None:
                    outcome = yield from skip(a, b, schedule[0], self.max_rounds - rounds)
                    rounds += outcome.rounds
                    attempts += outcome.attempts
                else:
                    for k in schedule:
                        outcome = yield from net.link_round(a, b, k)
                        rounds += 1
                        attempts += outcome.attempts
                        if outcome.pairs or rounds >= self.max_rounds:
                            break
                if outcome.pairs:
                    first, *extra = outcome.pairs
                    if extra and self.policy.uses_cache and key not in self._spares:
                        self._spares[key] = extra.pop(0)
                    for pair in extra:
                        pair.mark("discarded")
                        net.discard_pair(pair, "surplus")
                        self._wasted += 1
                    yield net.corrections.wait_ready(first)
                    box.update(pair=first, rounds=rounds, attempts=attempts, from_cache=False)
                    return
            raise UserInputError(f"ebit {a}-{b}: no herald in max_rounds = {self.max_rounds} rounds")
        finally:
            net.release_request(a, b)
