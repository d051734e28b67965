"""Shared machinery of the two link modes: lanes, round timing, heralds as messages, legs.

See :mod:`protocols.generation` for what a round does per scheme and link mode; the detailed
mode is :mod:`protocols.generation_detailed`, the sampled mode :mod:`protocols.generation_sampled`.
"""

from __future__ import annotations

import heapq
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modenhub_net.components import Message
from modenhub_net.errors import UserInputError
from protocols import qops
from protocols.orchestrator import RoundOutcome
from protocols.pair import PairHandle

__all__: list[str] = []


LINK_MODES: tuple[str, ...] = ("sampled", "detailed")

#: Bell index of the BSM herald labels (0 Phi+, 1 Phi-, 2 Psi+, 3 Psi-)
_PSI_PLUS, _PSI_MINUS = 2, 3


def _count_memory(memory: Any, *, emitted: int, collected: int) -> None:
    """Bulk counters of a memory's emissions (attempts whose photons were drawn in arrays).

    Uses the memory's public bulk-counter method when it has one
    (``memory.count(emitted=..., photons_collected=...)``); otherwise adds to the counters
    :meth:`hardware_models.QuantumMemory.emit` keeps.
    """
    count = getattr(memory, "count", None)
    if count is not None:
        count(emitted=emitted, photons_collected=collected)
    else:
        memory._n_emitted += emitted
        memory._n_photons_collected += collected


def _store_first_free(memory: Any, qubits: list[Any]) -> list[int]:
    """Store ``qubits`` (write always succeeds: heralded) in the lowest free slots of
    ``memory``; returns the slots. Scans from slot 0 only as far as needed (a memory of a
    1,024-QPU hub has > 1,000 slots, mostly free)."""
    slots: list[int] = []
    if not qubits:
        return slots
    need = len(qubits)
    for slot in range(memory.n_slots):
        if not memory.is_occupied(slot):
            slots.append(slot)
            if len(slots) == need:
                break
    for slot, qubit in zip(slots, qubits, strict=True):
        memory.store(slot, qubit, apply_efficiency=False)
    return slots


def _store_lowest_free(memory: Any, qubits: list[Any]) -> list[int]:
    """Store ``qubits`` (heralded: the write always succeeds) in the lowest free slots."""
    lowest = getattr(memory, "lowest_free_slots", None)
    if lowest is None:
        return _store_first_free(memory, qubits)
    slots = lowest(len(qubits))
    if len(slots) < len(qubits):
        raise RuntimeError(f"{memory.full_name}: {len(qubits)} qubits but {len(slots)} free slots")
    for slot, qubit in zip(slots, qubits, strict=True):
        memory.store(slot, qubit, apply_efficiency=False)
    return slots


@dataclass
class _Round:
    """Book-keeping of one detailed round (classical: which slot/station holds what)."""

    a: int
    b: int
    k: int
    lane: int
    slots: dict[int, list[int]]
    done: Any
    heralds: dict[int, Message] = field(default_factory=dict)
    reports: dict[int, tuple[bool, ...]] = field(default_factory=dict)
    hub_slots: dict[int, list[int]] = field(default_factory=dict)
    photons: dict[str, dict[int, tuple[Any, ...]]] = field(default_factory=dict)
    arrived: set[int] = field(default_factory=set)
    emitted_ns: float = 0.0
    group: str = ""
    devices: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Plan:
    """Per QPU pair, what a sampled ``detection_in_hub`` round reuses: the budget, the pair's
    stream, the emission times (earliest first), the herald time after the round start and
    the heralded states by Bell index."""

    budget: Any
    rng: np.random.Generator
    emit: tuple[tuple[int, float], ...]
    herald_ns: float
    states: dict[int, np.ndarray]


@dataclass
class _Leg:
    """A heralded hub-QPU leg (``hub_memory_swap``)."""

    hub_slot: int
    slot: int
    emitted_ns: float


class _Base:
    mode = ""
    #: Whether this mode's rounds hand their pairs over at the herald (the QPUs' emitter /
    #: memory reset and the detectors' dead time then run before the QPUs' *next* round,
    #: :meth:`_wait_ready`). False: the round itself waits them out before it returns.
    hands_over_at_herald = False

    def __init__(self, net: Any) -> None:
        self.net = net
        self.sim = net.sim
        #: per QPU: when its emitters / storing memories and the round's detectors are ready
        #: for the QPU's next round (ns); absent: the QPU has not had a round yet
        self._ready_ns: dict[int, float] = {}
        self.attempts_total = 0
        self.heralds_total = 0
        #: ``hub_memory_swap``: heralded legs per QPU (one leg attempt per attempt and side)
        self.legs_heralded: dict[int, int] = {}
        self.rounds_total = 0
        self._legs: dict[tuple[int, int], dict[int, list[_Leg]]] = {}
        # rounds in progress, found by lane, by QPU and by device (a QPU's port joins one lane
        # at a time; a station / source serves one round at a time)
        self._by_lane: dict[int, _Round] = {}
        self._by_node: dict[int, _Round] = {}
        self._by_device: dict[tuple[str, int], _Round] = {}
        #: free devices per group ("bsm", "source") as heaps (:meth:`_take`, :meth:`_give`)
        self._free_heaps: dict[str, list[int]] = {}
        net.qpu_message_handlers["herald"] = self._on_qpu_herald
        net.qpu_message_handlers["result"] = self._on_qpu_herald
        net.hub_message_handlers["storage"] = self._on_storage_report
        net.photon_handler = self._on_photons
        net.fabric.on_lane_input = self._on_lane_input
        net.fabric.on_device_output = self._on_device_output

    # -- shared ------------------------------------------------------------------------
    def p_success(self, a: int, b: int) -> float:
        """Per-attempt herald probability of the pair (closed form of the devices)."""
        if self.net.scheme == "hub_memory_swap":
            try:
                pa, pb = (self.net.leg_budget(x).p_success for x in (a, b))
            except UserInputError:
                return float("nan")  # no closed form yet: only fixed-K policies can plan
            return pa * pb
        return self.net.budget(a, b).p_success

    def _new_pair(self, a: int, b: int, slot_a: int, slot_b: int, bell_index: int,
                  fidelity: float) -> PairHandle:
        return PairHandle(
            self.net.next_pair_id(), a, b, slot_a, slot_b, heralded_ns=self.sim.now_ns,
            fidelity_estimate=fidelity, bell_index=bell_index,
        )

    def round(self, a: int, b: int, k: int) -> Generator[Any, Any, RoundOutcome]:
        """One round of ``k`` multiplexed attempts between QPUs ``a`` and ``b``."""
        key = (a, b) if a < b else (b, a)
        lane = yield from self.net.lane(*key)
        if self.hands_over_at_herald:
            yield from self._wait_ready(*key)
        self.attempts_total += k
        self.rounds_total += 1
        scheme = self.net.scheme
        if scheme == "detection_in_hub":
            pairs = yield from self._detection(key[0], key[1], k, lane)
        elif scheme == "source_in_hub":
            pairs = yield from self._source(key[0], key[1], k, lane)
        else:
            pairs = yield from self._swap(key[0], key[1], k, lane)
        self.heralds_total += len(pairs)
        return RoundOutcome(pairs=pairs, attempts=k)

    def _arrival_plan(self, a: int, b: int) -> tuple[float, dict[int, float]]:
        """Photon arrival time at the hub after the round start, and each QPU's emission time.

        Both emitters initialise and emit (lead time, the longer one counts) and are timed so
        that both photons reach the hub together, after the longer fibre's delay: the QPU
        with the shorter fibre emits later.
        """
        net = self.net
        arrive = max(net.emitter_lead_ns(x) for x in (a, b)) + max(net.flight_ns(x) for x in (a, b))
        return arrive, {x: arrive - net.flight_ns(x) for x in (a, b)}

    def _rest(self, a: int, b: int, t0: float, resets: tuple[float, ...], dead_time_ns: float,
              source_period_ns: float = 0.0) -> None:
        """The round hands its pairs over now; QPUs ``a`` and ``b`` stay busy after it.

        Their emitters / storing memories reset for ``max(resets)`` from now (the reset
        follows the herald: an emitter is re-prepared once the attempt is known to have
        failed, :func:`hardware_models.memory.emitter_attempt_period_ns`), and their next
        round cannot start before the detectors' dead time or the source's period have
        passed since this round's start ``t0``. :meth:`_wait_ready` makes the next round on
        either QPU wait for that, so rounds still start one attempt period apart
        (:class:`hardware_models.link_budget.AttemptTiming`), while a heralded pair does not
        wait (and decohere) for its emitter's reset.
        """
        self._busy(a, b, max(self.sim.now_ns + max(0.0, *resets),
                             t0 + max(dead_time_ns, source_period_ns)))

    def _busy(self, a: int, b: int, until_ns: float) -> None:
        """QPUs ``a`` and ``b`` cannot start a new round before ``until_ns``."""
        ready = self._ready_ns
        for x in (a, b):
            if ready.get(x, -1.0) < until_ns:
                ready[x] = until_ns

    def wait_ready(self, a: int, b: int) -> Generator[Any, Any, None]:
        """Public :meth:`_wait_ready`: a caller that checks a deadline before a round waits
        here first, so the round it then starts is not delayed past the check."""
        if self.hands_over_at_herald:
            yield from self._wait_ready(a, b)

    def ready_at_ns(self, a: int, b: int) -> float:
        """When QPUs ``a`` and ``b`` may start a round: what :meth:`wait_ready` waits until
        (now if they are ready), without waiting."""
        if not self.hands_over_at_herald:
            return self.sim.env.now
        return self._readiness(a, b)[0]

    def _readiness(self, a: int, b: int) -> tuple[float, float]:
        """``(when both QPUs are ready, the ready time of a QPU without a previous round)``:
        a fresh QPU is ready after its reset from now (:meth:`_wait_ready`)."""
        ready = self._ready_ns
        now = self.sim.env.now
        fresh = now + max(0.0, *self._resets(a, b)) if a not in ready or b not in ready else now
        return max(fresh, ready.get(a, fresh), ready.get(b, fresh)), fresh

    def _wait_ready(self, a: int, b: int) -> Generator[Any, Any, None]:
        """Wait until QPUs ``a`` and ``b`` are ready for a new round (:meth:`_rest`).

        A QPU's first round starts as if its previous attempt had just failed (a stationary
        start): it waits its reset, :meth:`_resets`, so that every round, the first one
        included, lasts one attempt period from the call to the next call when rounds
        follow each other.
        """
        until, fresh = self._readiness(a, b)
        for x in (a, b):
            self._ready_ns.setdefault(x, fresh)
        now = self.sim.env.now
        if until > now:
            yield self.sim.env.timeout(until - now)

    def _resets(self, a: int, b: int) -> tuple[float, ...]:
        """What is left of each device's cycle after the herald, per scheme (see
        :meth:`_emitter_rest`, :meth:`_swap_resets`, :meth:`_preparation_ns`)."""
        scheme = self.net.scheme
        if scheme == "detection_in_hub":
            return self._emitter_rest(a, b)
        if scheme == "source_in_hub":
            prepare = max(self.net.qpus[x].comm.params.emitter_initialisation_ns for x in (a, b))
            return tuple(self._preparation_ns(x) - prepare for x in (a, b))
        return self._swap_resets(a, b)

    def _until(self, t_ns: float) -> Generator[Any, Any, None]:
        """Wait until time ``t_ns`` (no event if it is now or past)."""
        delay = t_ns - self.sim.env.now
        if delay > 0.0:
            yield self.sim.env.timeout(delay)

    def release_request(self, a: int, b: int) -> None:
        """End of a request: legs left unmatched are discarded (memories freed)."""
        legs = self._legs.pop((a, b) if a < b else (b, a), None)
        if legs:
            for x, items in legs.items():
                for leg in items:
                    self._drop_leg(x, leg)

    def _drop_leg(self, x: int, leg: _Leg) -> None:
        self.net.hub_memory.comm.discard(leg.hub_slot)
        self.net.free(x, leg.slot)

    def expire_legs(self, a: int, b: int) -> None:
        """Free the legs of pair ``(a, b)`` older than the network's leg cutoff."""
        self._expire_legs((a, b) if a < b else (b, a))

    def _expire_legs(self, key: tuple[int, int]) -> dict[int, list[_Leg]]:
        legs = self._legs.setdefault(key, {key[0]: [], key[1]: []})
        cutoff = self.net.leg_cutoff_ns
        now = self.sim.now_ns
        for x, items in legs.items():
            keep = []
            for leg in items:
                if now - leg.emitted_ns >= cutoff:
                    self._drop_leg(x, leg)
                else:
                    keep.append(leg)
            legs[x] = keep
        return legs

    def _check_room(self, a: int, b: int, k: int) -> None:
        cap = self.net.attempt_cap(a, b)[0]
        if k > cap:
            raise RuntimeError(f"{k} attempts requested for {a}-{b} but the resources allow {cap}")

    def _swap_lead(self, a: int, b: int) -> float:
        """Time from the round start to the hub memory's emission (initialisation + emission;
        the QPU memories are prepared in parallel)."""
        hub = self.net.hub_memory.comm.params
        return hub.emitter_initialisation_ns + hub.emitter_emission_ns

    def _swap_resets(self, a: int, b: int) -> tuple[float, ...]:
        """What is left of each device's cycle after the emission lead: the hub memory's
        reset, and each storing memory's preparation (initialisation + reset)."""
        lead = self._swap_lead(a, b)
        hub = self.net.hub_memory.comm.params
        return (hub.emitter_initialisation_ns + hub.emitter_emission_ns + hub.emitter_reset_ns - lead,
                *(self._preparation_ns(x) - lead for x in (a, b)))

    def _preparation_ns(self, x: int) -> float:
        """Initialisation + reset of QPU ``x``'s storing memory."""
        p = self.net.qpus[x].comm.params
        return p.emitter_initialisation_ns + p.emitter_reset_ns

    def _emitter_rest(self, a: int, b: int) -> tuple[float, ...]:
        """Detection in the hub: each emitter's full cycle (initialisation + emission + reset)
        minus the common lead before the photons leave (the slowest emitter sets the pace)."""
        lead = max(self.net.emitter_lead_ns(x) for x in (a, b))
        return tuple(self.net.emitter_lead_ns(x) + self.net.emitter_reset_ns(x) - lead for x in (a, b))

    def _swap_dead_time(self, a: int, b: int) -> float:
        return max(self.net.specs[x].detector.dead_time_ns for x in (a, b))

    def _swap_matched(
        self, a: int, b: int, legs: dict[int, list[_Leg]]
    ) -> Generator[Any, Any, list[PairHandle]]:
        """Swap matched legs, oldest first, with the hub memory's Bell measurement."""
        net = self.net
        hub = net.hub_memory
        pairs = []
        duration = 0.0
        while legs[a] and legs[b]:
            la, lb = legs[a].pop(0), legs[b].pop(0)
            result = hub.bell_measure(("comm", la.hub_slot), ("comm", lb.hub_slot))
            duration = max(duration, result.duration_ns)
            pairs.append((la, lb, result.outcome))
        if duration > 0.0:
            yield self.sim.timeout(duration)
        out = []
        for la, lb, outcome in pairs:
            pair = self._new_pair(a, b, la.slot, lb.slot, outcome, 1.0)
            net.corrections.send(pair, kind="swap")
            out.append(pair)
        return out

    # -- rounds in progress ----------------------------------------------------------------
    def _free_heap(self, group: str) -> list[int]:
        """The free BSM stations (``"bsm"``) or sources (``"source"``) as a heap (lowest first)."""
        heap = self._free_heaps.get(group)
        if heap is None:
            n = len(self.net.stations) if group == "bsm" else len(self.net.sources)
            heap = self._free_heaps[group] = list(range(n))
        return heap

    def free_devices(self, group: str) -> list[int]:
        """Indices of the BSM stations (``"bsm"``) or sources (``"source"``) not in a round."""
        return sorted(self._free_heap(group))

    def n_free_devices(self, group: str) -> int:
        """How many :meth:`free_devices` there are (O(1))."""
        return len(self._free_heap(group))

    def _take(self, group: str, k: int) -> list[int]:
        """The ``k`` lowest free devices of ``group``, now in a round (O(k log n))."""
        heap = self._free_heap(group)
        if len(heap) < k:
            raise RuntimeError(f"{k} attempts but {len(heap)} free {group} devices")
        return [heapq.heappop(heap) for _ in range(k)]

    def _give(self, group: str, devices: list[int]) -> None:
        """``devices`` of ``group`` are free again."""
        heap = self._free_heap(group)
        for j in devices:
            heapq.heappush(heap, j)

    def _begin(self, state: _Round, group: str = "") -> _Round:
        """Register a round; with ``group``, it takes ``k`` free devices of that group."""
        if group:
            state.group = group
            state.devices = self._take(group, state.k)
            for j in state.devices:
                self._by_device[(group, j)] = state
        self._by_lane[state.lane] = state
        self._by_node[state.a] = self._by_node[state.b] = state
        return state

    def _end(self, state: _Round) -> None:
        for j in state.devices:
            self._by_device.pop((state.group, j), None)
        if state.devices:
            self._give(state.group, state.devices)
        self._by_lane.pop(state.lane, None)
        for x in (state.a, state.b):
            if self._by_node.get(x) is state:
                del self._by_node[x]

    # -- message handlers (used by the detailed mode) ------------------------------------
    def _on_lane_input(self, lane: int, side: int, message: Message) -> None:
        state = self._by_lane.get(lane)
        if state is None or self.net.scheme != "detection_in_hub":
            return
        fabric = self.net.fabric
        label = "ab"[side]
        single = message.meta.get("encoding") == "presence"
        for m, photon in enumerate(message.items):
            meta = {"header": "photon", "memory_qubit": message.meta["memory_qubits"][m],
                    "attempt": m}
            if single:
                meta["encoding"] = "presence"
            fabric.ports[f"to{state.devices[m]}{label}"].tx_output(Message((photon,), meta))

    def _on_device_output(self, kind: str, j: int, message: Message) -> None:
        group = "bsm" if kind == "herald" else "source"
        state = self._by_device.get((group, j))
        if state is None:
            return
        m = state.devices.index(j)
        if kind == "herald":
            state.heralds[m] = message
            if len(state.heralds) == state.k and not state.done.triggered:
                state.done.succeed()
        else:
            state.photons.setdefault(kind, {})[m] = message.items

    def _on_photons(self, node: int, message: Message) -> None:
        """Heralded storage at QPU ``node``: mode ``j`` is offered to slot ``j`` of the round."""
        state = self._by_node.get(node)
        if state is None:
            return
        net = self.net
        memory = net.qpus[node].comm
        rng = net.rng(f"qpu{node}.storage")
        heralds = []
        start = 0
        for j, count in enumerate(message.meta["modes"]):
            photons = [q for q in message.items[start:start + count] if q is not None]
            start += count
            slot = state.slots[node][j]
            stored = False
            for index in rng.permutation(len(photons)) if len(photons) > 1 else range(len(photons)):
                photon = photons[int(index)]
                if stored:
                    qops.lose(photon)  # the memory holds one excitation: the others are lost
                else:
                    stored = memory.store(slot, photon)
            detector = net.herald_detector(node, slot)
            counts = detector.detect(1 if stored else 0)
            herald = counts == 1 if detector.params.number_resolving else counts > 0
            if herald and not stored:  # a dark count heralds an empty memory: state unknown
                memory.store(slot, qops.make_mixed(), apply_efficiency=False)
            elif stored and not herald:
                memory.discard(slot)
            heralds.append(herald)
        window = net.specs[node].detector.window_ns
        report = Message(("storage",), {"header": "storage", "heralds": tuple(heralds)})
        timer = self.sim.timeout(window)
        timer.callbacks.append(lambda _e: net.qpus[node].ports["c"].tx_output(report))

    def _on_storage_report(self, node: int, message: Message) -> None:
        state = self._by_node.get(node)
        if state is None:
            return
        state.reports[node] = message.meta["heralds"]
        if len(state.reports) == 2 and not state.done.triggered:
            state.done.succeed()

    def _on_qpu_herald(self, node: int, message: Message) -> None:
        """A herald / storage result reaches QPU ``node``: free the slots of failed modes."""
        state = self._by_node.get(node)
        for slot in message.meta["free"][node]:
            self.net.free(node, slot)
        if state is not None:
            state.arrived.add(node)
            if len(state.arrived) == 2 and not state.done.triggered:
                state.done.succeed()

    def _send_results(
        self, state: _Round, free: dict[int, list[int]], header: str
    ) -> Generator[Any, Any, None]:
        """Send each QPU the list of its slots to free; wait until both have it."""
        net = self.net
        state.arrived = set()
        state.done = self.sim.event()
        message = Message((header,), {"header": header, "free": free})
        for x in (state.a, state.b):
            net.hub_node.ports[f"c{x}"].tx_output(message)
        yield state.done

    # scheme implementations: in the subclasses
    def _detection(self, a: int, b: int, k: int, lane: int) -> Generator[Any, Any, list[PairHandle]]:
        raise NotImplementedError

    def _source(self, a: int, b: int, k: int, lane: int) -> Generator[Any, Any, list[PairHandle]]:
        raise NotImplementedError

    def _swap(self, a: int, b: int, k: int, lane: int) -> Generator[Any, Any, list[PairHandle]]:
        raise NotImplementedError




def _bell_index(label: str) -> int:
    from hardware_models.spdc import BELL_INDEX

    return BELL_INDEX[label]
