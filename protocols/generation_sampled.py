"""Sampled link mode: heralds drawn from the components' closed forms (see :mod:`protocols.generation`).

What keeps a sampled pair cheap (O(1) events and scalar work per delivered pair):

- **Random draws in blocks.** Each QPU pair's stream ``link[a-b]`` hands out uniforms drawn
  from numpy in blocks (16 at first, doubling to 1,024) and consumed strictly in order
  (:class:`_Uniforms`), so the same seed gives the same rounds. A round's herald count is
  the inverse CDF of ``Binomial(k, p)`` at one uniform (``bisect`` on the cumulative
  probabilities, cached per ``(p, k)``), each herald's Bell label one more uniform; the
  number of failed rounds skipped by :meth:`SampledGeneration.rounds` is the inverse CDF of
  the geometric law at one uniform.
- **Pairs as Bell coefficients.** A heralded state that is Bell-diagonal (the double-click
  and the source-in-hub states are; a single-click state is not) is built as a
  :class:`modenhub_net.qubits.BellDiagonalState` (:func:`protocols.qops.pair_maker`): the
  Pauli correction, memory dephasing / depolarising, fidelity and discarding are then O(1),
  and any other operation materialises the exact density matrix first.
- **One correction message per round** (``net.corrections.send_round`` where the network
  offers it): the corrections of a round's pairs travel together, at the same time as one
  message each would, to the QPU that corrects.
- **Free stations as a heap**: a round takes the ``k`` lowest free BSM stations in
  O(k log n) instead of scanning every station.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from collections.abc import Callable, Generator
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
    _store_lowest_free,
)
from protocols.generation_sampled_block import SampledBlocks
from protocols.orchestrator import RoundOutcome
from protocols.pair import PairHandle

__all__ = ["SampledGeneration"]


class _Uniforms:
    """Uniform draws in [0, 1) of one random stream, taken from numpy in blocks and handed
    out strictly in order (a block of 16 first, doubling up to 1,024: a QPU pair that
    meets once costs little memory)."""

    __slots__ = ("_rng", "_block", "_buffer", "_next")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._block = 16
        self._buffer: list[float] = []
        self._next = 0

    def __call__(self) -> float:
        i = self._next
        buffer = self._buffer
        if i == len(buffer):
            buffer = self._buffer = self._rng.random(self._block).tolist()
            self._block = min(2 * self._block, 1024)
            i = 0
        self._next = i + 1
        return buffer[i]

    def ahead(self, n: int) -> tuple[list[float], int]:
        """The buffer and the index of the next unread uniform, with at least ``n`` unread.

        Unread uniforms are kept and more are drawn after them if needed: numpy's
        ``Generator.random`` gives the same doubles whether drawn in one call or several,
        so the sequence is the one :meth:`__call__` hands out. The caller reads the buffer
        from the index on and reports how far it read with :meth:`seek`.
        """
        buffer, i = self._buffer, self._next
        if len(buffer) - i < n:
            buffer = self._buffer = buffer[i:] + self._rng.random(
                max(n - (len(buffer) - i), self._block)).tolist()
            i = self._next = 0
        return buffer, i

    def seek(self, i: int) -> None:
        """The uniforms of the buffer before index ``i`` have been used (:meth:`ahead`)."""
        self._next = i


class _SampledPlan:
    """Per QPU pair, what a sampled ``detection_in_hub`` round reuses: the budget, the pair's
    uniforms, each QPU's emission time after the round start (earliest first), the herald
    time and the round's period, and a maker of fresh pairs per herald label."""

    __slots__ = ("budget", "uniform", "emit", "herald_ns", "period_ns", "makers", "fidelity")

    def __init__(self, budget: Any, uniform: _Uniforms, emit: tuple[tuple[int, float], ...],
                 herald_ns: float, makers: dict[int, Callable[[], tuple[Any, Any]]]) -> None:
        self.budget = budget
        self.uniform = uniform
        self.emit = emit
        self.herald_ns = herald_ns
        self.period_ns = budget.attempt_period_ns
        self.makers = makers
        self.fidelity = budget.fidelity


class SampledGeneration(SampledBlocks, _Base):
    """Sampled ("skip failed attempts") link mode (see the module docstring for its economies;
    blocks of rounds in one step: :class:`protocols.generation_sampled_block.SampledBlocks`)."""

    mode = "sampled"
    hands_over_at_herald = True

    def __init__(self, net: Any) -> None:
        super().__init__(net)
        self._plans: dict[tuple[int, int], _SampledPlan] = {}
        self._uniforms: dict[tuple[int, int], _Uniforms] = {}
        self._by_content: dict[bytes, dict[int, np.ndarray]] = {}
        self._makers: dict[bytes, Callable[[], tuple[Any, Any]]] = {}
        self._cdfs: dict[tuple[float, int], list[float]] = {}
        self._force_herald = False
        self._free_stations = list(range(len(net.stations)))  # a heap: lowest free first
        corrections = getattr(net, "corrections", None)
        self._send_round = getattr(corrections, "send_round", None)

    def _store(self, memory: Any, qubits: list[Any]) -> list[int]:
        """Store ``qubits`` (heralded: the write always succeeds) in the lowest free slots."""
        return _store_lowest_free(memory, qubits)

    def _uniform(self, key: tuple[int, int]) -> _Uniforms:
        """The uniforms of QPU pair ``key``'s stream ``link[a-b]``."""
        uniform = self._uniforms.get(key)
        if uniform is None:
            uniform = self._uniforms[key] = _Uniforms(self.net.rng(f"link[{key[0]}-{key[1]}]"))
        return uniform

    def _cdf(self, p: float, k: int) -> list[float]:
        """``[P(N <= 0), ..., P(N <= k-1)]`` for ``N ~ Binomial(k, p)`` (cached per ``(p, k)``)."""
        cdf = self._cdfs.get((p, k))
        if cdf is None:
            pmf = [math.comb(k, n) * p**n * (1.0 - p) ** (k - n) for n in range(k)]
            cdf = [math.fsum(pmf[: n + 1]) for n in range(k)]
            if len(self._cdfs) > 4096:
                self._cdfs.clear()
            cdf = self._cdfs[(p, k)] = cdf
        return cdf

    def _herald_count(self, uniform: _Uniforms, k: int, p: float) -> int:
        """Heralds among ``k`` attempts: ``Binomial(k, p)`` by its inverse CDF at one uniform,
        or, in the round that :meth:`rounds` knows heralds, ``Binomial(k, p)`` conditioned
        on >= 1 (the uniform mapped onto ``[P(N = 0), 1)``)."""
        if k <= 0:
            return 0
        cdf = self._cdf(p, k)
        u = uniform()
        if self._force_herald:
            self._force_herald = False
            u = cdf[0] + u * (1.0 - cdf[0])
        return bisect_right(cdf, u)

    def _maker(self, dm: np.ndarray) -> Callable[[], tuple[Any, Any]]:
        """A maker of fresh pairs in the checked state ``dm`` (cached by content)."""
        key = dm.tobytes()
        maker = self._makers.get(key)
        if maker is None:
            maker = self._makers[key] = qops.pair_maker(dm)
        return maker

    def free_devices(self, group: str) -> list[int]:
        """Indices of the BSM stations (``"bsm"``) or sources (``"source"``) not in a round."""
        if group == "bsm":
            return sorted(self._free_stations)
        return super().free_devices(group)

    def n_free_devices(self, group: str) -> int:
        """How many :meth:`free_devices` there are (O(1) for the stations)."""
        if group == "bsm":
            return len(self._free_stations)
        return len(super().free_devices(group))

    def can_skip(self) -> bool:
        """Whether :meth:`rounds` may jump over failed rounds (not for ``hub_memory_swap``,
        whose legs carry over between rounds)."""
        return self.net.scheme != "hub_memory_swap"

    def rounds(self, a: int, b: int, k: int, max_rounds: int) -> Generator[Any, Any, RoundOutcome]:
        """Up to ``max_rounds`` rounds of ``k`` attempts, stopping after the first that heralds.

        Skips failed rounds: the number of failed rounds before the first herald is
        geometric with success ``1 - (1-p)^k`` (the budget's ``p``), drawn by its inverse CDF
        ``floor(ln(1 - U) / (k ln(1 - p)))`` at one uniform; time jumps by that many
        attempt periods (components' counters updated in bulk), then one round is played
        with its herald count drawn from ``Binomial(k, p)`` conditioned on >= 1. Same law as
        ``max_rounds`` calls of :meth:`round` that stop at the first herald.
        """
        net = self.net
        key = (a, b) if a < b else (b, a)
        yield from net.lane(*key)  # circuits set up (reconfiguration paid) before the jump
        yield from self._wait_ready(*key)  # the QPUs' previous round has reset
        budget = net.budget(*key)
        p = budget.p_success
        if p <= 0.0 or k <= 0:
            failed = max_rounds
        elif p >= 1.0:
            failed = 0
        else:  # failures before the first success: floor(ln(1 - U) / ln(1 - p_round))
            log_fail = k * math.log1p(-p)  # ln(1 - p_round), p_round = 1 - (1 - p)^k
            failed = max_rounds if log_fail == 0.0 else int(math.log1p(-self._uniform(key)()) / log_fail)
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

    def _plan(self, a: int, b: int) -> _SampledPlan:
        """What a ``detection_in_hub`` round of ``a, b`` needs, computed once per pair."""
        plan = self._plans.get((a, b))
        if plan is None:
            net = self.net
            budget = net.budget(a, b)
            arrive, emit_at = self._arrival_plan(a, b)
            bsm = net.hub.bsm
            states = self._heralded_states(budget.heralded_state)
            order = tuple(sorted((a, b), key=lambda y: emit_at[y]))
            plan = self._plans[(a, b)] = _SampledPlan(
                budget, self._uniform((a, b)), tuple((x, emit_at[x]) for x in order),
                arrive + max(bsm.detector.window_ns, bsm.coincidence_window_ns) + net.hub.processing_ns,
                {label: self._maker(dm) for label, dm in states.items()},
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
        """One sampled ``detection_in_hub`` round: ``k`` stations held from the round start
        to the herald, heralds and labels from the pair's uniforms, pairs stored at the
        emissions, corrections sent at the herald, the round ends after its period."""
        net, env = self.net, self.sim.env
        t0 = env.now
        plan = self._plan(a, b)
        free = self._free_stations
        if len(free) < k:
            raise RuntimeError(f"{k} attempts but {len(free)} free bsm devices")
        devices = [heapq.heappop(free) for _ in range(k)]
        uniform = plan.uniform
        n = self._herald_count(uniform, k, plan.budget.p_success)
        labels = [_PSI_PLUS if uniform() < 0.5 else _PSI_MINUS for _ in range(n)]
        makers = plan.makers
        built = [makers[label]() for label in labels]
        slots: dict[int, list[int]] = {}
        switch = net.switch
        for x, emit_ns in plan.emit:
            if t0 + emit_ns > env.now:
                yield env.timeout(t0 + emit_ns - env.now)
            memory = net.qpus[x].comm
            slots[x] = self._store(memory, [pair[0 if x == a else 1] for pair in built])
            memory.count(emitted=k)
            net.links[x].channel_ab.count(sent=k)
            switch.count(photons_in=k)
        if t0 + plan.herald_ns > env.now:
            yield env.timeout(t0 + plan.herald_ns - env.now)
        stations = net.stations
        for j in devices:
            stations[j].attempts += 1  # public counter (BsmStation.count, one at a time)
            heapq.heappush(free, j)
        pairs = []
        fidelity = plan.fidelity
        for i, label in enumerate(labels):
            stations[devices[i]].count(heralds={"Psi+" if label == _PSI_PLUS else "Psi-": 1})
            pairs.append(self._new_pair(a, b, slots[a][i], slots[b][i], label, fidelity))
        if pairs:
            if self._send_round is not None:
                self._send_round(pairs)
            else:
                for pair in pairs:
                    net.corrections.send(pair)
        yield from self._hold(a, b, t0 + plan.period_ns)
        return pairs

    def _source(self, a: int, b: int, k: int, lane: int) -> Generator[Any, Any, list[PairHandle]]:
        net, sim = self.net, self.sim
        t0 = sim.now_ns
        budget = net.budget(a, b)
        n = self._herald_count(self._uniform((a, b)), k, budget.p_success)
        make = self._maker(self._state((a, b), budget.heralded_state))
        built = [make() for _ in range(n)]
        start, decide = self._source_timing(a, b)
        for j in range(k):
            net.sources[j].count(pulses=1)
        slots: dict[int, list[int]] = {}
        for x in sorted((a, b), key=net.flight_ns):
            yield from self._until(t0 + start + net.flight_ns(x))
            slots[x] = self._store(net.qpus[x].comm, [pair[0 if x == a else 1] for pair in built])
            self._count_photons(x, k, up=False)
        yield from self._until(t0 + decide)
        index = _bell_index(net.hub.source.bell_state)
        pairs = []
        for i in range(n):
            pair = self._new_pair(a, b, slots[a][i], slots[b][i], index, budget.fidelity)
            net.corrections.send(pair)
            pairs.append(pair)
        yield from self._hold(a, b, t0 + budget.attempt_period_ns)
        return pairs

    def _source_timing(self, a: int, b: int) -> tuple[float, float]:
        """``source_in_hub``: after the round start, when the source fires (the slower
        storing memory's initialisation) and when the hub decides (the later QPU's photon
        flight, herald-detector window and report, plus the hub's processing), ns."""
        net = self.net
        start = max(net.qpus[x].comm.params.emitter_initialisation_ns for x in (a, b))
        decide = start + net.hub.processing_ns + max(
            net.flight_ns(x) + net.specs[x].detector.window_ns + net.report_ns(x) for x in (a, b)
        )
        return start, decide

    def _swap(self, a: int, b: int, k: int, lane: int) -> Generator[Any, Any, list[PairHandle]]:
        net, sim = self.net, self.sim
        hub = net.hub_memory
        t0 = sim.now_ns
        legs = self._expire_legs((a, b))
        self._check_room(a, b, k)
        rng = net.rng(f"link[{a}-{b}]")
        leg_budgets = {x: net.leg_budget(x) for x in (a, b)}
        make = {x: self._maker(self._state(x, leg_budgets[x].heralded_state)) for x in (a, b)}
        built = {x: [make[x]() for _ in range(int(rng.binomial(k, leg_budgets[x].p_success)))]
                 for x in (a, b)}
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
        yield from self._hold(a, b, t0 + net.budget(a, b).attempt_period_ns)
        return pairs

    def _hold(self, a: int, b: int, next_ns: float) -> Generator[Any, Any, None]:
        """Hand the round's pairs over when the herald has reached the QPUs; QPUs ``a`` and
        ``b`` start their next round no earlier than ``next_ns`` (this round's start plus the
        budget's attempt period, :class:`hardware_models.link_budget.AttemptTiming`).

        The emitters' / memories' reset (:meth:`_resets`) is the last part of the attempt
        period: it runs after the herald, so the hand-over is at ``next_ns - max(resets)``,
        the same instant as in the detailed mode, and :meth:`_wait_ready` makes the next
        round wait for the rest.
        """
        ready = self._ready_ns
        for x in (a, b):
            if ready.get(x, -1.0) < next_ns:
                ready[x] = next_ns
        yield from self._until(next_ns - max(0.0, *self._resets(a, b)))
