"""Sampled link mode: heralds drawn from the components' closed forms (see :mod:`protocols.generation`)."""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np

from protocols import qops
from protocols.generation_base import (
    _PSI_MINUS,
    _PSI_PLUS,
    _Base,
    _bell_index,
    _count_memory,
    _Leg,
    _Plan,
    _Round,
    _store_first_free,
)
from protocols.orchestrator import RoundOutcome
from protocols.pair import PairHandle

__all__ = ["SampledGeneration"]


class SampledGeneration(_Base):
    """Sampled ("skip failed attempts") link mode."""

    mode = "sampled"

    def __init__(self, net: Any) -> None:
        super().__init__(net)
        self._plans: dict[tuple[int, int], _Plan] = {}
        self._by_content: dict[bytes, dict[int, np.ndarray]] = {}
        self._force_herald = False

    def _store(self, memory: Any, qubits: list[Any]) -> list[int]:
        return _store_first_free(memory, qubits)

    def _herald_count(self, rng: np.random.Generator, k: int, p: float) -> int:
        """Heralds among ``k`` attempts: ``Binomial(k, p)``, or, in the round that
        :meth:`rounds` knows heralds, ``Binomial(k, p)`` conditioned on >= 1 (inverse CDF)."""
        if not self._force_herald:
            return int(rng.binomial(k, p))
        self._force_herald = False
        pmf = [math.comb(k, n) * p**n * (1.0 - p) ** (k - n) for n in range(1, k + 1)]
        u = rng.random() * math.fsum(pmf)
        total = 0.0
        for n, w in enumerate(pmf, start=1):
            total += w
            if u < total:
                return n
        return k

    def can_skip(self) -> bool:
        """Whether :meth:`rounds` may jump over failed rounds (not for ``hub_memory_swap``,
        whose legs carry over between rounds)."""
        return self.net.scheme != "hub_memory_swap"

    def rounds(self, a: int, b: int, k: int, max_rounds: int) -> Generator[Any, Any, RoundOutcome]:
        """Up to ``max_rounds`` rounds of ``k`` attempts, stopping after the first that heralds.

        Skips failed rounds: the number of failed rounds before the first herald is
        ``Geometric(1 - (1-p)^k) - 1`` with the budget's ``p``; time jumps by that many
        attempt periods (components' counters updated in bulk), then one round is played
        with its herald count drawn from ``Binomial(k, p)`` conditioned on >= 1. Same law as
        ``max_rounds`` calls of :meth:`round` that stop at the first herald.
        """
        net = self.net
        key = (a, b) if a < b else (b, a)
        yield from net.lane(*key)  # circuits set up (reconfiguration paid) before the jump
        budget = net.budget(*key)
        p_round = -math.expm1(k * math.log1p(-budget.p_success)) if budget.p_success < 1.0 else 1.0
        rng = net.rng(f"link[{key[0]}-{key[1]}]")
        failed = int(rng.geometric(p_round)) - 1 if p_round > 0.0 else max_rounds
        failed = min(failed, max_rounds)
        if failed:
            self._count_failed(key[0], key[1], k, failed)
            yield self.sim.timeout(failed * budget.attempt_period_ns)
        if failed == max_rounds:
            return RoundOutcome(pairs=[], attempts=k * failed, rounds=failed)
        self._force_herald = True
        outcome = yield from self.round(a, b, k)
        return RoundOutcome(pairs=outcome.pairs, attempts=k * (failed + 1), rounds=failed + 1)

    def _count_failed(self, a: int, b: int, k: int, rounds: int) -> None:
        """Bulk counters of ``rounds`` failed rounds of ``k`` attempts."""
        net = self.net
        n = k * rounds
        self.attempts_total += n
        self.rounds_total += rounds
        if net.scheme == "detection_in_hub":
            for station in net.stations[:k]:
                station.count(attempts=rounds)
            for x in (a, b):
                _count_memory(net.qpus[x].comm, emitted=n, collected=0)
                self._count_photons(x, n, up=True)
        else:
            for source in net.sources[:k]:
                source.count(pulses=rounds)
            for x in (a, b):
                self._count_photons(x, n, up=False)

    def _state(self, key: Any, rho: np.ndarray) -> np.ndarray:
        """The budget's heralded state, checked once per distinct state (then built without
        checks)."""
        return self._heralded_states(rho)[_PSI_PLUS]

    def _count_photons(self, x: int, k: int, *, up: bool) -> None:
        """Bulk counters: ``k`` attempt modes sent through QPU ``x``'s fibre and the switch."""
        link = self.net.links[x]
        (link.channel_ab if up else link.channel_ba).count(sent=k)
        self.net.switch.count(photons_in=k)

    def _plan(self, a: int, b: int) -> _Plan:
        """What a ``detection_in_hub`` round of ``a, b`` needs, computed once per pair."""
        plan = self._plans.get((a, b))
        if plan is None:
            net = self.net
            budget = net.budget(a, b)
            arrive, emit_at = self._arrival_plan(a, b)
            bsm = net.hub.bsm
            states = self._heralded_states(budget.heralded_state)
            order = tuple(sorted((a, b), key=lambda y: emit_at[y]))
            plan = self._plans[(a, b)] = _Plan(
                budget=budget, rng=net.rng(f"link[{a}-{b}]"),
                emit=tuple((x, emit_at[x]) for x in order),
                herald_ns=arrive + max(bsm.detector.window_ns, bsm.coincidence_window_ns)
                + net.hub.processing_ns,
                states=states,
            )
        return plan

    def _heralded_states(self, rho: np.ndarray) -> dict[int, np.ndarray]:
        """The budget's heralded state (Psi+ herald) and its Z-conjugate (Psi- herald: an
        ideal frame change), checked once per distinct state (QPU pairs with the same
        devices share them)."""
        key = rho.tobytes()
        states = self._by_content.get(key)
        if states is None:
            plus = qops.checked_state(rho)
            qa, qb = qops.make_pair(plus, trusted=True)
            qops.apply_gate(qops.qb_module.Z, [qa])
            minus = qops.checked_state(qops.qb_module.reduced_dm([qa, qb]))
            qops.discard(qa)
            qops.discard(qb)
            states = self._by_content[key] = {_PSI_PLUS: plus, _PSI_MINUS: minus}
        return states

    def _detection(self, a: int, b: int, k: int, lane: int) -> Generator[Any, Any, list[PairHandle]]:
        net, sim = self.net, self.sim
        t0 = sim.now_ns
        plan = self._plan(a, b)
        state = self._begin(_Round(a, b, k, lane, {}, None), "bsm")
        rng = plan.rng
        n = self._herald_count(rng, k, plan.budget.p_success)
        labels = [_PSI_PLUS if u < 0.5 else _PSI_MINUS for u in rng.random(n)] if n else []
        built = [qops.make_pair(plan.states[label], trusted=True) for label in labels]
        slots: dict[int, list[int]] = {}
        for x, emit_ns in plan.emit:
            yield from self._until(t0 + emit_ns)
            memory = net.qpus[x].comm
            slots[x] = self._store(memory, [pair[0 if x == a else 1] for pair in built])
            _count_memory(memory, emitted=k, collected=0)
            self._count_photons(x, k, up=True)
        yield from self._until(t0 + plan.herald_ns)
        stations = [net.stations[j] for j in state.devices]
        self._end(state)
        for station in stations:
            station.attempts += 1  # public counter (BsmStation.count, one at a time)
        pairs = []
        fidelity = plan.budget.fidelity
        for i, label in enumerate(labels):
            stations[i].count(heralds={"Psi+" if label == _PSI_PLUS else "Psi-": 1})
            pair = self._new_pair(a, b, slots[a][i], slots[b][i], label, fidelity)
            net.corrections.send(pair)
            pairs.append(pair)
        yield from self._until(t0 + plan.budget.attempt_period_ns)
        return pairs

    def _source(self, a: int, b: int, k: int, lane: int) -> Generator[Any, Any, list[PairHandle]]:
        net, sim = self.net, self.sim
        t0 = sim.now_ns
        budget = net.budget(a, b)
        rng = net.rng(f"link[{a}-{b}]")
        n = self._herald_count(rng, k, budget.p_success)
        rho = self._state((a, b), budget.heralded_state)
        built = [qops.make_pair(rho, trusted=True) for _ in range(n)]
        start = max(net.qpus[x].comm.params.emitter_initialisation_ns for x in (a, b))
        for j in range(k):
            net.sources[j].count(pulses=1)
        slots: dict[int, list[int]] = {}
        for x in sorted((a, b), key=net.flight_ns):
            yield from self._until(t0 + start + net.flight_ns(x))
            slots[x] = self._store(net.qpus[x].comm, [pair[0 if x == a else 1] for pair in built])
            self._count_photons(x, k, up=False)
        decide = start + net.hub.processing_ns + max(
            net.flight_ns(x) + net.specs[x].detector.window_ns + net.report_ns(x) for x in (a, b)
        )
        yield from self._until(t0 + decide)
        index = _bell_index(net.hub.source.bell_state)
        pairs = []
        for i in range(n):
            pair = self._new_pair(a, b, slots[a][i], slots[b][i], index, budget.fidelity)
            net.corrections.send(pair)
            pairs.append(pair)
        yield from self._until(t0 + budget.attempt_period_ns)
        return pairs

    def _swap(self, a: int, b: int, k: int, lane: int) -> Generator[Any, Any, list[PairHandle]]:
        net, sim = self.net, self.sim
        hub = net.hub_memory
        t0 = sim.now_ns
        legs = self._expire_legs((a, b))
        self._check_room(a, b, k)
        rng = net.rng(f"link[{a}-{b}]")
        leg_budgets = {x: net.leg_budget(x) for x in (a, b)}
        rho = {x: self._state(x, leg_budgets[x].heralded_state) for x in (a, b)}
        built = {x: [qops.make_pair(rho[x], trusted=True)
                     for _ in range(int(rng.binomial(k, leg_budgets[x].p_success)))] for x in (a, b)}
        yield sim.timeout(self._swap_lead(a, b))
        emitted = sim.now_ns
        hub_slots = {}
        for x in (a, b):  # hub halves exist from the emission on
            hub_slots[x] = self._store(hub.comm, [pair[0] for pair in built[x]])
            _count_memory(hub.comm, emitted=k, collected=0)
        slots: dict[int, list[int]] = {}
        for x in sorted((a, b), key=net.flight_ns):
            yield from self._until(emitted + net.flight_ns(x))
            slots[x] = self._store(net.qpus[x].comm, [pair[1] for pair in built[x]])
            self._count_photons(x, k, up=False)
        decide = net.hub.processing_ns + max(
            net.flight_ns(x) + net.specs[x].detector.window_ns + net.report_ns(x) for x in (a, b)
        )
        yield from self._until(emitted + decide)
        for x in (a, b):
            legs[x].extend(_Leg(h, q, emitted) for h, q in zip(hub_slots[x], slots[x], strict=True))
            self.legs_heralded[x] = self.legs_heralded.get(x, 0) + len(slots[x])
        pairs = yield from self._swap_matched(a, b, legs)
        yield from self._until(t0 + net.budget(a, b).attempt_period_ns)
        return pairs
