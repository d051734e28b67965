"""Ebits from the simulated hub network: :class:`HubEbitProvider`.

Each :meth:`HubEbitProvider.request` drives the physical hub of
:class:`modenhub_net.network.builder.HubNetwork` (built from the ``hardware_models``
components) until one ebit between the two QPUs is heralded and Pauli-corrected: rounds of
``k`` multiplexed attempts (``k`` = what the free resources allow,
``HubNetwork.attempt_cap``), each through ``HubNetwork.link_round``; the first pair of the
first successful round is delivered, the others of that round are discarded and counted as
wasted. The delivered state is the real two-qubit state of the two communication qubits at
the moment the correction was applied (``modenhub_net.qubits.reduced_dm``), so it carries
the link's heralding infidelity and the storage noise accrued while the herald and the
correction travelled; the waiting time is the hub's real generation time.

Serial service (a documented simplification until the concurrent hub of the protocol-stack
work lands): the provider owns the network's clock, and requests are served one after
another in the order they are made; a request made for a time the clock has already passed
starts when the hub is free (its delivery is still later than the request). The classical
latency between two QPUs is the hub's relay delay (``HubNetwork.relay_delay_ns``).

Dependencies point one way: the builder is imported by the caller, not here (this module
only calls the ``HubNetwork`` methods it is given).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from modenhub_net.errors import UserInputError
from protocols.circuits.ebits import EbitProvider

__all__ = ["HubEbitProvider"]


class HubEbitProvider(EbitProvider):
    """Ebits generated on demand by a :class:`~modenhub_net.network.builder.HubNetwork`.

    Parameters
    ----------
    net : HubNetwork
        A network built with ``build_hub_network`` on its own :class:`Simulation`; QPU ``i``
        of the network is QPU ``i`` of the circuit's partition.
    max_rounds : int
        Rounds tried per ebit before giving up, in [1, 10^9]. Default 10^7 (a link that
        fails that often is effectively down; the error names the pair).

    Attributes
    ----------
    records : list of dict
        Per delivered ebit: pair, request and delivery times, rounds, attempts, pair id.
    """

    def __init__(self, net: Any, *, max_rounds: int = 10_000_000) -> None:
        if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or not 1 <= max_rounds <= 10**9:
            raise UserInputError(f"max_rounds = {max_rounds!r} must be an integer in [1, 1000000000]")
        self.net = net
        self.sim = net.sim
        self.max_rounds = max_rounds
        self._wasted = 0
        self.records: list[dict[str, Any]] = []

    @property
    def n_wasted(self) -> int:
        """Heralded pairs discarded because their round produced more than the one needed."""
        return self._wasted

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
            }
        )
        return rho, max(delivered, float(at_ns))

    def _generate(self, a: int, b: int, box: dict[str, Any]):
        net = self.net
        rounds = attempts = 0
        try:
            while rounds < self.max_rounds:
                k, binding = net.attempt_cap(a, b)
                if k < 1:
                    raise UserInputError(
                        f"ebit {a}-{b}: no attempt possible ({binding} exhausted); the hub needs free "
                        "communication qubits, switch circuits and stations"
                    )
                outcome = yield from net.link_round(a, b, k)
                rounds += 1
                attempts += outcome.attempts
                if outcome.pairs:
                    first, *extra = outcome.pairs
                    for pair in extra:
                        pair.mark("discarded")
                        net.discard_pair(pair, "surplus")
                        self._wasted += 1
                    yield net.corrections.wait_ready(first)
                    box.update(pair=first, rounds=rounds, attempts=attempts)
                    return
            raise UserInputError(f"ebit {a}-{b}: no herald in max_rounds = {self.max_rounds} rounds")
        finally:
            net.release_request(a, b)
