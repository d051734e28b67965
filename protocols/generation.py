"""Heralded entanglement generation: one round of K multiplexed attempts, two link modes.

Both modes implement ``round(a, b, k)`` (a generator for ``yield from``) returning a
:class:`~protocols.orchestrator.RoundOutcome`. They act on the device components the network
is built from (``net``: :class:`modenhub_net.network.builder.HubNetwork`) and draw their
physics from those components or from the components' closed forms (``net.budget(a, b)``,
:mod:`hardware_models.link_budget`); nothing here computes a transmission, a herald
probability or a heralded state.

A round first joins QPUs ``a`` and ``b`` to a lane of the hub's switch (circuits are reused;
a change of circuits waits for the switch's reconfiguration). Then, per scheme:

``detection_in_hub``
    Each QPU's communication memory emits ``k`` photons entangled with memory qubits
    (:meth:`hardware_models.QuantumMemory.emit`; bright-state superposition for single
    click). The emitters are timed so that the photons of both QPUs reach the hub together
    (the QPU with the shorter fibre emits later). The photons cross the QPU's
    :class:`~hardware_models.Fibre` and the :class:`~hardware_models.OpticalSwitch` as one
    message (one photon per mode), the hub fabric hands mode ``j`` to BSM station ``j``
    (:class:`~hardware_models.BsmStation`), whose herald is known at the end of the
    detection window; the hub sends the heralds to both QPUs over their classical fibres,
    and each QPU frees the memory qubits of failed attempts when its herald message arrives.
``source_in_hub``
    SPDC source ``j`` (:class:`~hardware_models.SpdcSource`) emits one pulse per round; its
    arm-a and arm-b photons go through the switch and the fibres to the QPUs, where mode
    ``j`` is offered to communication slot ``j``: a single-excitation memory stores one
    photon, the first one its write succeeds for in a random order (one uniformly among the
    absorbable photons, :mod:`hardware_models.spdc` "heralded storage"), and the slot's herald
    :class:`~hardware_models.Detector` detects the herald photon (its efficiency, dark counts,
    threshold or number resolving, dead time). Each QPU reports its heralds to the hub, which
    decides (both stored) and sends the result back.
``hub_memory_swap``
    The hub memory (``net.hub_memory``, a :class:`~hardware_models.QPU`) emits ``k`` photons
    towards each QPU, entangled with hub memory qubits (the legs); the QPUs store them as
    above and report. Heralded legs wait in the hub memory (across the rounds of a request,
    discarded after ``net.leg_cutoff_ns`` from their emission and at the end of the request);
    matched legs are swapped by the hub memory's Bell measurement (its gate and readout
    errors and durations, :meth:`hardware_models.QPU.bell_measure`).

``detailed``
    every attempt as messages through the components above; each loss happens in the
    component that causes it and each component counts what passed.
``sampled`` ("skip failed attempts")
    the number of heralds is ``Binomial(k, p)`` with ``p`` the budget's closed-form
    per-attempt probability, time jumps to the same instants as in the detailed mode, and
    only the heralded pairs are built, in the budget's heralded state; the components'
    counters of attempts, emitted photons and heralds are updated in bulk.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modenhub_net.components import Message
from modenhub_net.errors import UserInputError
from protocols import qops
from protocols.orchestrator import RoundOutcome
from protocols.pair import PairHandle

__all__ = ["SampledGeneration", "DetailedGeneration", "LINK_MODES", "make_generation"]

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

    def __init__(self, net: Any) -> None:
        self.net = net
        self.sim = net.sim
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

    def _finish(self, t0: float, resets: tuple[float, ...], dead_time_ns: float,
                source_period_ns: float = 0.0) -> Generator[Any, Any, None]:
        """Emitters / memories reset; the next round cannot start before the detectors' dead
        time or the source's period have passed since the round start."""
        reset = max(0.0, *resets)
        if reset > 0.0:
            yield self.sim.timeout(reset)
        yield from self._until(t0 + max(dead_time_ns, source_period_ns))

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
    def free_devices(self, group: str) -> list[int]:
        """Indices of the BSM stations (``"bsm"``) or sources (``"source"``) not in a round."""
        n = len(self.net.stations) if group == "bsm" else len(self.net.sources)
        return [j for j in range(n) if (group, j) not in self._by_device]

    def _begin(self, state: _Round, group: str = "") -> _Round:
        """Register a round; with ``group``, it takes ``k`` free devices of that group."""
        if group:
            state.group = group
            state.devices = self.free_devices(group)[: state.k]
            if len(state.devices) < state.k:
                raise RuntimeError(f"{state.k} attempts but {len(state.devices)} free {group} devices")
            for j in state.devices:
                self._by_device[(group, j)] = state
        self._by_lane[state.lane] = state
        self._by_node[state.a] = self._by_node[state.b] = state
        return state

    def _end(self, state: _Round) -> None:
        for j in state.devices:
            self._by_device.pop((state.group, j), None)
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


class DetailedGeneration(_Base):
    """Detailed link mode: every attempt simulated through the components.

    ``detection_in_hub`` with noise-free upward fibres: a round of ``k`` attempts is one
    array step through the same devices (:meth:`_detection`); otherwise (and for the other
    schemes) every attempt travels as messages (:meth:`_detection_events`).
    """

    mode = "detailed"

    def __init__(self, net: Any) -> None:
        super().__init__(net)
        self._instruments: dict[tuple[int, int], Any] = {}

    def _batchable(self, a: int, b: int) -> bool:
        """Whether a detection round of ``a, b`` can be one array step (no fibre noise: a
        depolarised photon's state would differ from the template's)."""
        return all(self.net.links[x].channel_ab.noise_model is None for x in (a, b))

    def _instrument(self, a: int, b: int, alpha: float | None) -> Any:
        """The BSM stations' per-attempt law for photons of ``a`` and ``b`` (cached per pair).

        The input states come from the devices themselves: each QPU's memory emits one
        photon in a template memory with its parameters (:meth:`QuantumMemory.emit`; double
        click: emission efficiency 1, i.e. the state given that the photon was collected,
        its loss being an erasure drawn per attempt), single click's photon-number qubit is
        damped by the QPU's fibre and the switch (:meth:`Fibre.damp_presence`,
        :meth:`OpticalSwitch.damp_presence`), and the station turns the four qubits into its
        instrument (:meth:`BsmStation.instrument`).
        """
        inst = self._instruments.get((a, b))
        if inst is None:
            from hardware_models.memory import QuantumMemory

            net = self.net
            qubits = []
            for x in (a, b):
                params = net.qpus[x].comm.params
                if alpha is None:
                    params = params.model_copy(update={"emission_efficiency": 1.0})
                template = QuantumMemory(f"template{x}", sim=self.sim, params=params, n_slots=1)
                mem_q, photon = template.emit(0, bright_state_alpha=alpha)
                template.release(0)
                if alpha is not None:
                    net.links[x].channel_ab.damp_presence(photon)
                    net.switch.damp_presence(photon)
                qubits += [mem_q, photon]
            inst = self._instruments[(a, b)] = net.stations[0].instrument(*qubits)
        return inst

    def _detection(self, a: int, b: int, k: int, lane: int) -> Generator[Any, Any, list[PairHandle]]:
        """One round of ``k`` attempts as one array step through the devices.

        Every attempt is simulated: each memory's emission (collection efficiency), each
        photon's loss in its fibre and in the switch (:meth:`Fibre.transmit_batch`,
        :meth:`OpticalSwitch.transmit_batch`, the switch's circuits must be ready), and each
        station's detectors (registration, dark counts, dead time) and heralding rule
        (:meth:`BsmStation.process_batch`); the devices' counters are updated. The
        randomness is drawn when the photons leave (it does not depend on what happens
        later), the detection windows are at the photons' arrival. Quantum states are built
        only for heralds: the heralded memory qubits are created in the post-herald state
        at their emission time (the memories' noise acts on the memory qubits and commutes
        with the stations' measurement of the photons, so the state at any later access is
        the same as if the photonic state had been kept until the herald). Failed attempts
        hold no memory qubit, so the herald message frees nothing; the round still lasts
        until the heralds have reached both QPUs (the same timing as the message path).
        """
        from hardware_models.bsm import BsmStation

        net, sim = self.net, self.sim
        if not self._batchable(a, b):
            return (yield from self._detection_events(a, b, k, lane))
        bsm = net.hub.bsm
        alpha = bsm.bright_state_alpha if bsm.scheme == "single_click" else None
        t0 = sim.now_ns
        state = self._begin(_Round(a, b, k, lane, {}, None), "bsm")
        arrive, emit_at = self._arrival_plan(a, b)
        instrument = self._instrument(a, b, alpha)
        order = sorted((a, b), key=lambda y: emit_at[y])
        yield from self._until(t0 + emit_at[order[0]])
        present = {}
        for x in (a, b):
            memory = net.qpus[x].comm
            fibre = net.links[x].channel_ab
            eff = memory.params.emission_efficiency
            if alpha is None and eff < 1.0:
                photons = memory.rng.random(k) < eff
                collected = int(photons.sum())
            else:  # every photon collected, or a photon-number mode (always sent)
                photons = np.ones(k, dtype=bool)
                collected = k
            _count_memory(memory, emitted=k, collected=collected)
            if alpha is None:
                photons = fibre.transmit_batch(photons)
            else:
                fibre.count(sent=k, presence_modes=k)
            present[x] = net.switch.transmit_batch(x, photons, presence=alpha is not None)
        stations = [net.stations[j] for j in state.devices]
        heralds = BsmStation.process_batch(
            stations, present[a], present[b], instrument=instrument, rng=stations[0].rng,
            now_ns=t0 + arrive,
        )
        built = [qops.make_pair(rho, trusted=True) for rho in heralds.states]
        slots: dict[int, list[int]] = {}
        for x in order:
            yield from self._until(t0 + emit_at[x])
            slots[x] = self._store(net.qpus[x].comm, [pair[0 if x == a else 1] for pair in built])
        window = max(bsm.detector.window_ns, bsm.coincidence_window_ns)
        yield from self._until(t0 + arrive + window + net.hub.processing_ns)
        pairs = []
        fidelity = net.budget(a, b).fidelity
        for i, j in enumerate(heralds.heralded):
            pair = self._new_pair(a, b, slots[a][i], slots[b][i], int(heralds.labels[j]), fidelity)
            net.corrections.send(pair)
            pairs.append(pair)
        yield from self._until(sim.now_ns + max(net.herald_ns(x) for x in (a, b)))
        self._end(state)
        yield from self._finish(t0, self._emitter_rest(a, b), bsm.detector.dead_time_ns)
        return pairs

    @staticmethod
    def _store(memory: Any, qubits: list[Any]) -> list[int]:
        return _store_first_free(memory, qubits)

    def _detection_events(self, a: int, b: int, k: int, lane: int) -> Generator[Any, Any, list[PairHandle]]:
        """One round with every photon as a message through the components."""
        net, sim = self.net, self.sim
        bsm = net.hub.bsm
        alpha = bsm.bright_state_alpha if bsm.scheme == "single_click" else None
        t0 = sim.now_ns
        slots = {x: net.free_slots(x)[:k] for x in (a, b)}
        state = self._begin(_Round(a, b, k, lane, slots, sim.event()), "bsm")
        arrive, emit_at = self._arrival_plan(a, b)

        def emit(x: int, side: int) -> None:
            memory = net.qpus[x].comm
            photons, qubits = [], []
            for slot in slots[x]:
                mem_q, photon = memory.emit(slot, bright_state_alpha=alpha)
                photons.append(photon)
                qubits.append(mem_q)
            meta: dict[str, Any] = {"header": "photons", "memory_qubits": tuple(qubits)}
            if alpha is not None:
                meta["encoding"] = "presence"
            net.qpus[x].ports["optical"].tx_output(Message(tuple(photons), meta))

        for side, x in enumerate((a, b)):
            timer = sim.timeout(emit_at[x])
            timer.callbacks.append(lambda _e, x=x, side=side: emit(x, side))
        yield state.done
        # the stations' detectors report at the end of their detection window
        window = max(bsm.detector.window_ns, bsm.coincidence_window_ns)
        yield from self._until(t0 + arrive + window + net.hub.processing_ns)
        pairs = []
        free: dict[int, list[int]] = {a: [], b: []}
        for j in range(k):
            index = state.heralds[j].meta["bell_index"]
            if index is None:
                free[a].append(slots[a][j])
                free[b].append(slots[b][j])
                continue
            pair = self._new_pair(a, b, slots[a][j], slots[b][j], index,
                                  net.budget(a, b).fidelity)
            net.corrections.send(pair)
            pairs.append(pair)
        yield from self._send_results(state, free, "herald")
        self._end(state)
        yield from self._finish(t0, self._emitter_rest(a, b), bsm.detector.dead_time_ns)
        return pairs

    def _source(self, a: int, b: int, k: int, lane: int) -> Generator[Any, Any, list[PairHandle]]:
        net, sim = self.net, self.sim
        t0 = sim.now_ns
        slots = {x: net.free_slots(x)[:k] for x in (a, b)}
        state = self._begin(_Round(a, b, k, lane, slots, sim.event()), "source")
        prepare = max(net.qpus[x].comm.params.emitter_initialisation_ns for x in (a, b))
        if prepare > 0.0:  # the storing memories are initialised before the pulse
            yield sim.timeout(prepare)
        for j in state.devices:
            net.sources[j].emit()
        for side, arm in enumerate(("source_a", "source_b")):
            per_mode = [state.photons[arm][j] for j in range(k)]
            items = tuple(q for mode in per_mode for q in mode)
            meta = {"header": "photons", "modes": tuple(len(mode) for mode in per_mode)}
            net.fabric.ports[f"l{lane}{'ab'[side]}"].tx_output(Message(items, meta))
        yield state.done  # both storage reports at the hub
        if net.hub.processing_ns > 0.0:
            yield sim.timeout(net.hub.processing_ns)
        pairs = []
        free: dict[int, list[int]] = {a: [], b: []}
        index = _bell_index(net.hub.source.bell_state)
        for j in range(k):
            ha, hb = state.reports[a][j], state.reports[b][j]
            if ha and hb:
                pair = self._new_pair(a, b, slots[a][j], slots[b][j], index, net.budget(a, b).fidelity)
                net.corrections.send(pair)
                pairs.append(pair)
            else:
                if ha:
                    free[a].append(slots[a][j])
                if hb:
                    free[b].append(slots[b][j])
        yield from self._send_results(state, free, "result")
        self._end(state)
        yield from self._finish(
            t0, tuple(self._preparation_ns(x) - prepare for x in (a, b)),
            max(net.specs[x].detector.dead_time_ns for x in (a, b)), net.sources[0].period_ns,
        )
        return pairs

    def _swap(self, a: int, b: int, k: int, lane: int) -> Generator[Any, Any, list[PairHandle]]:
        net, sim = self.net, self.sim
        hub = net.hub_memory
        t0 = sim.now_ns
        legs = self._expire_legs((a, b))
        self._check_room(a, b, k)
        slots = {x: net.free_slots(x)[:k] for x in (a, b)}
        state = self._begin(_Round(a, b, k, lane, slots, sim.event()))
        yield sim.timeout(self._swap_lead(a, b))
        free_hub = hub.comm.free_slots()
        for side, x in enumerate((a, b)):
            state.hub_slots[x] = free_hub[side * k:(side + 1) * k]
            photons = tuple(hub.comm.emit(s)[1] for s in state.hub_slots[x])
            meta = {"header": "photons", "modes": (1,) * k}
            net.fabric.ports[f"l{lane}{'ab'[side]}"].tx_output(Message(photons, meta))
        emitted = sim.now_ns
        yield state.done  # both QPUs' storage reports at the hub
        if net.hub.processing_ns > 0.0:
            yield sim.timeout(net.hub.processing_ns)
        self._end(state)
        for x in (a, b):
            for j in range(k):
                if state.reports[x][j]:
                    legs[x].append(_Leg(state.hub_slots[x][j], slots[x][j], emitted))
                    self.legs_heralded[x] = self.legs_heralded.get(x, 0) + 1
                else:  # the QPU freed its slot when its herald detector stayed dark
                    hub.comm.discard(state.hub_slots[x][j])
        pairs = yield from self._swap_matched(a, b, legs)
        yield from self._finish(t0, self._swap_resets(a, b), self._swap_dead_time(a, b))
        return pairs


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


def _bell_index(label: str) -> int:
    from hardware_models.spdc import BELL_INDEX

    return BELL_INDEX[label]


def make_generation(net: Any, mode: str) -> SampledGeneration | DetailedGeneration:
    """The generation protocol of a link mode (``"sampled"`` or ``"detailed"``)."""
    if mode == "sampled":
        return SampledGeneration(net)
    if mode == "detailed":
        return DetailedGeneration(net)
    raise UserInputError(f"link_mode = {mode!r}: unknown (allowed: {', '.join(LINK_MODES)})")
