"""Sampled link mode: a block of rounds whose pairs are used at delivery, in one step.

:class:`SampledBlocks` is a mixin of :class:`protocols.generation_sampled.SampledGeneration`
(it uses that class's plans, uniforms, makers and counters); :mod:`protocols.link_block`
describes blocks and :meth:`modenhub_net.network.builder.HubNetwork.link_block` runs them.
It plays ``detection_in_hub`` and ``source_in_hub`` blocks; ``hub_memory_swap`` legs carry
over between rounds, so its blocks are played one round at a time
(:func:`protocols.link_block.consume_rounds`).
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np

from protocols import qops
from protocols.generation_base import _PSI_MINUS, _PSI_PLUS, _bell_index
from protocols.link_block import PairBlock, correction_duration_ns, replay_history

__all__ = ["SampledBlocks"]

_LABEL_NAMES = {_PSI_PLUS: "Psi+", _PSI_MINUS: "Psi-"}


@dataclass(frozen=True)
class _BlockSchedule:
    """What every round of a block reuses (times in ns after the round start).

    ``labels``: two labels (Psi+, Psi-) are drawn with one uniform per herald, as
    ``_detection`` draws them; one label is fixed (the source's Bell state), no draw.
    """

    uniform: Any
    p_success: float
    period_ns: float
    stored_ns: dict[int, float]
    herald_ns: float
    labels: tuple[int, ...]
    makers: dict[int, Callable[[], tuple[Any, Any]]]


class SampledBlocks:
    """:meth:`block`: a block of rounds in one step (see the module docstring)."""

    net: Any
    sim: Any
    _ready_ns: dict[int, float]
    _free_stations: list[int]
    _send_round: Any
    attempts_total: int
    rounds_total: int
    heralds_total: int

    def can_block(self) -> bool:
        """Whether :meth:`block` plays this network's blocks in one step: ``source_in_hub``,
        and ``detection_in_hub`` with one correction message per round."""
        scheme = self.net.scheme
        return scheme == "source_in_hub" or (scheme == "detection_in_hub"
                                             and self._send_round is not None)

    def _block_schedule(self, a: int, b: int) -> _BlockSchedule:
        """The round timing, stream and heralded states of QPUs ``a`` and ``b``: the same as
        ``_detection`` / ``_source`` use."""
        net = self.net
        if net.scheme == "detection_in_hub":
            plan = self._plan(a, b)
            return _BlockSchedule(plan.uniform, plan.budget.p_success, plan.period_ns,
                                  dict(plan.emit), plan.herald_ns, (_PSI_PLUS, _PSI_MINUS),
                                  plan.makers)
        budget = net.budget(a, b)
        start, decide = self._source_timing(a, b)
        index = _bell_index(net.hub.source.bell_state)
        maker = self._maker(self._state((a, b), budget.heralded_state))
        return _BlockSchedule(self._uniform((a, b)), budget.p_success,
                              budget.attempt_period_ns,
                              {x: start + net.flight_ns(x) for x in (a, b)}, decide, (index,),
                              {index: maker})

    def block(self, a: int, b: int, *, k: int, rounds: int | None,
              until_ns: float) -> Generator[Any, Any, PairBlock]:
        """A block of rounds whose pairs are used at delivery, in one step.

        The same rounds as :func:`protocols.link_block.consume_rounds` on this mode (same
        seed, same pairs): each round's herald count is ``Binomial(k, p)`` by its inverse CDF
        at one uniform and (``detection_in_hub``) each herald's Bell label one more uniform,
        read from the pair's stream in the order the per-round path reads them; a round
        starts when the QPUs are ready (one attempt period after the previous start) or, if
        later, when the previous round's last pair was used; each pair is used at its
        hand-over (:meth:`_hold`) or, if later, when its correction (sent when the hub knows
        the heralds, applied by ``node_b`` with its gate durations) is done, in herald order.
        A failed round costs one uniform and no object. The state at use of each distinct
        history (Bell label, use time in the round) is simulated once
        (:func:`protocols.link_block.replay_history`). Time advances once; the components'
        counters are updated in bulk to the values the per-round path leaves.

        A ``detection_in_hub`` block holds ``k`` BSM stations; every block reserves ``k``
        slots per QPU (:meth:`hardware_models.QuantumMemory.reserve`) from its start to its end.
        """
        net, env = self.net, self.sim.env
        plan = self._block_schedule(a, b)
        period = plan.period_ns
        stored = plan.stored_ns
        memory = {x: net.qpus[x].comm for x in (a, b)}
        qpu_b = net.qpus[b]
        gates = {label: qops.pauli_frame_gates(label) for label in plan.labels}
        d_handover = period - max(0.0, *self._resets(a, b))
        d_correction = plan.herald_ns + net.herald_ns(b)
        d_ready = {label: d_correction + correction_duration_ns(
            plan.makers[label], qpu_b=qpu_b, gates=gates[label]) for label in plan.labels}
        first, last = plan.labels[0], plan.labels[-1]
        ready_first, ready_last = d_ready[first], d_ready[last]
        draw = len(plan.labels) == 2
        devices = []
        if net.scheme == "detection_in_hub":
            devices = [heapq.heappop(self._free_stations) for _ in range(k)]
        slots = {x: memory[x].reserve(k) for x in (a, b)}
        # -- the rounds: one uniform per round, one per herald when labels are drawn
        cdf = self._cdf(plan.p_success, k)
        uniform = plan.uniform
        chunk = 4096 + 1 + k
        buffer, i = uniform.ahead(chunk)
        n_buffer = len(buffer)
        max_rounds = rounds if rounds is not None else -1
        t0 = start = self.ready_at_ns(a, b)
        last_t0 = t0
        rows_t0: list[float] = []
        rows_round: list[int] = []
        rows_position: list[int] = []
        rows_label: list[int] = []
        rows_use: list[float] = []
        played = 0
        end_offset = 0.0
        while played != max_rounds and t0 + period <= until_ns:
            if i + 1 + k > n_buffer:
                uniform.seek(i)
                buffer, i = uniform.ahead(chunk)
                n_buffer = len(buffer)
            n = bisect_right(cdf, buffer[i])
            i += 1
            end_offset = d_use = d_handover
            if n:
                for j in range(n):
                    if draw and buffer[i + j] >= 0.5:
                        label, ready = last, ready_last
                    else:
                        label, ready = first, ready_first
                    if ready > d_use:
                        d_use = ready
                    rows_t0.append(t0)
                    rows_round.append(played)
                    rows_position.append(j)
                    rows_label.append(label)
                    rows_use.append(d_use)
                if draw:
                    i += n
                end_offset = d_use
            last_t0 = t0
            t0 = t0 + (d_use if d_use > period else period)
            played += 1
        uniform.seek(i)
        # -- the states at use, one simulation per distinct history
        histories: dict[tuple[int, float], int] = {}
        table: list[tuple[np.ndarray, float]] = []
        state_index = []
        for key in zip(rows_label, rows_use, strict=True):
            row = histories.get(key)
            if row is None:
                label, d_use = key
                row = histories[key] = len(table)
                table.append(replay_history(
                    plan.makers[label], memory_a=memory[a], memory_b=memory[b], qpu_b=qpu_b,
                    gates=gates[label], corrected_after_ns=d_correction - stored[b],
                    used_after_a_ns=d_use - stored[a], used_after_b_ns=d_use - stored[b]))
            state_index.append(row)
        n_pairs = len(rows_label)
        end = last_t0 + end_offset if played else env.now
        if end > env.now:
            yield env.timeout(end - env.now)
        # -- counters and resources, as the per-round path leaves them
        self._count_block(a, b, devices, k=k, rounds=played, positions=rows_position,
                          labels=rows_label)
        for x in (a, b):
            memory[x].count(stored=n_pairs, discarded=n_pairs)
            memory[x].unreserve(slots[x])
            if played:
                self._ready_ns[x] = max(self._ready_ns.get(x, -1.0), last_t0 + period)
        for j in devices:
            heapq.heappush(self._free_stations, j)
        net.corrections.applied += n_pairs
        t0s = np.asarray(rows_t0, dtype=float)
        position = np.asarray(rows_position, dtype=np.int64)
        index = np.asarray(state_index, dtype=np.int64)
        fidelities = np.array([f for _, f in table], dtype=float)
        return PairBlock(
            node_a=a, node_b=b, attempts_per_round=k, rounds=played, start_ns=start,
            end_ns=env.now, pair_id=np.asarray(net.next_pair_ids(n_pairs), dtype=np.int64),
            round_index=np.asarray(rows_round, dtype=np.int64),
            heralded_ns=t0s + plan.herald_ns, delivered_ns=t0s + np.asarray(rows_use, dtype=float),
            emitted_a_ns=t0s + stored[a], emitted_b_ns=t0s + stored[b],
            bell_index=np.asarray(rows_label, dtype=np.int8),
            slot_a=np.asarray(slots[a], dtype=np.int64)[position],
            slot_b=np.asarray(slots[b], dtype=np.int64)[position],
            state_index=index,
            states=np.array([s for s, _ in table], dtype=complex).reshape(-1, 4, 4),
            fidelity=fidelities[index] if n_pairs else np.zeros(0),
        )

    def _count_block(self, a: int, b: int, devices: list[int], *, k: int, rounds: int,
                     positions: list[int], labels: list[int]) -> None:
        """Bulk counters of a block's ``rounds`` rounds of ``k`` attempts (``devices``: the
        BSM stations of a ``detection_in_hub`` block)."""
        net = self.net
        n = k * rounds
        self.attempts_total += n
        self.rounds_total += rounds
        self.heralds_total += len(labels)
        detection = net.scheme == "detection_in_hub"
        for x in (a, b):
            if detection:
                net.qpus[x].comm.count(emitted=n)
            (net.links[x].channel_ab if detection else net.links[x].channel_ba).count(sent=n)
            net.switch.count(photons_in=n)
        if not detection:
            for source in net.sources[:k]:
                source.count(pulses=rounds)
            return
        position = np.asarray(positions, dtype=np.int64)
        label = np.asarray(labels, dtype=np.int64)
        for j, device in enumerate(devices):
            here = label[position == j]
            heralds = {name: int(np.count_nonzero(here == value))
                       for value, name in _LABEL_NAMES.items()}
            net.stations[device].count(attempts=rounds,
                                       heralds={name: c for name, c in heralds.items() if c})
