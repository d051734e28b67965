"""Detailed link mode: every attempt simulated through the device components.

See :mod:`protocols.generation`.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np

from modenhub_net.components import Message
from protocols import qops
from protocols.generation_base import (
    _Base,
    _bell_index,
    _count_memory,
    _Leg,
    _Round,
    _store_lowest_free,
)
from protocols.pair import PairHandle

__all__ = ["DetailedGeneration"]


@dataclass(frozen=True)
class _DetectionPlan:
    """Per QPU pair ``(a, b)``, what an array-step ``detection_in_hub`` round reuses.

    ``alpha``: bright-state population (single click) or None (double click);
    ``instrument``: the stations' per-attempt law (:meth:`DetailedGeneration._instrument`);
    ``makers``: per canonical post-herald state (by ``id``), the state and a maker of fresh
    pairs in it; ``sides``: per QPU (a, then b) its index, communication memory, upward fibre
    and emission efficiency; ``emit``: each QPU's emission time after the round start,
    earliest first; ``arrive_ns``: photons at the hub; ``herald_ns``: the hub knows the
    heralds; ``handover_ns``: the heralds have reached both QPUs (all after the round start,
    ns); ``resets``, ``dead_time_ns``: what keeps the QPUs busy after the hand-over
    (:meth:`DetailedGeneration._rest`); ``fidelity``: the budget's heralded fidelity (the
    pairs' classical estimate).
    """

    alpha: float | None
    instrument: Any
    makers: dict[int, tuple[np.ndarray, Any]]
    sides: tuple[tuple[int, Any, Any, float], ...]
    emit: tuple[tuple[int, float], ...]
    arrive_ns: float
    herald_ns: float
    handover_ns: float
    resets: tuple[float, ...]
    dead_time_ns: float
    fidelity: float


class DetailedGeneration(_Base):
    """Detailed link mode: every attempt simulated through the components.

    ``detection_in_hub`` with noise-free upward fibres: a round of ``k`` attempts is one
    array step through the same devices (:meth:`_detection`); otherwise (and for the other
    schemes) every attempt travels as messages (:meth:`_detection_events`).
    """

    mode = "detailed"
    hands_over_at_herald = True

    def __init__(self, net: Any) -> None:
        super().__init__(net)
        self._instruments: dict[tuple[int, int], Any] = {}
        #: per QPU pair: the array-step constants (None: the pair needs the message path)
        self._plans: dict[tuple[int, int], _DetectionPlan | None] = {}

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

    def _detection_plan(self, a: int, b: int) -> _DetectionPlan | None:
        """What every array-step round of ``a, b`` reuses (computed once per pair; None if
        the pair's rounds need the message path, :meth:`_batchable`)."""
        plan = self._plans.get((a, b), False)
        if plan is not False:
            return plan
        net = self.net
        if not self._batchable(a, b):
            self._plans[(a, b)] = None
            return None
        bsm = net.hub.bsm
        alpha = bsm.bright_state_alpha if bsm.scheme == "single_click" else None
        arrive, emit_at = self._arrival_plan(a, b)
        instrument = self._instrument(a, b, alpha)
        # canonical post-herald states of the instrument: one pair maker each (a Bell-diagonal
        # state gives pairs kept as Bell coefficients, protocols.qops.pair_maker)
        canonical = [instrument.mem_state]
        if alpha is None:
            canonical += list(instrument.states)
        makers = {id(rho): (rho, qops.pair_maker(qops.checked_state(rho))) for rho in canonical}
        window = max(bsm.detector.window_ns, bsm.coincidence_window_ns)
        herald_ns = arrive + window + net.hub.processing_ns
        sides = tuple(
            (x, net.qpus[x].comm, net.links[x].channel_ab, net.qpus[x].comm.params.emission_efficiency)
            for x in (a, b)
        )
        order = tuple(sorted((a, b), key=lambda y: emit_at[y]))
        plan = self._plans[(a, b)] = _DetectionPlan(
            alpha=alpha,
            instrument=instrument,
            makers=makers,
            sides=sides,
            emit=tuple((x, emit_at[x]) for x in order),
            arrive_ns=arrive,
            herald_ns=herald_ns,
            handover_ns=herald_ns + max(net.herald_ns(x) for x in (a, b)),
            resets=self._emitter_rest(a, b),
            dead_time_ns=bsm.detector.dead_time_ns,
            fidelity=net.budget(a, b).fidelity,
        )
        return plan

    def _detection(self, a: int, b: int, k: int, lane: int) -> Generator[Any, Any, list[PairHandle]]:
        """One round of ``k`` attempts as one array step through the devices.

        Every attempt is simulated: each memory's emission (collection efficiency), each
        photon's loss in its fibre and in the switch (:meth:`Fibre.transmit_list`,
        :meth:`OpticalSwitch.transmit_list`, the switch's circuits must be ready), and each
        station's detectors (registration, dark counts, dead time) and heralding rule
        (:meth:`BsmStation.process_batch`); the devices' counters are updated. The
        randomness is drawn when the photons leave (it does not depend on what happens
        later), the detection windows are at the photons' arrival. Quantum states are built
        only for heralds: the heralded memory qubits are created in the post-herald state
        at their emission time (the memories' noise acts on the memory qubits and commutes
        with the stations' measurement of the photons, so the state at any later access is
        the same as if the photonic state had been kept until the herald). Failed attempts
        hold no memory qubit, so the herald message frees nothing; the round hands its pairs
        over when the heralds have reached both QPUs (the same timing as the message path).

        A round is a few attempts: the per-pair constants are computed once
        (:meth:`_detection_plan`), the devices' draws are plain lists (one ``random`` call
        per device and round, as the array methods draw), and the heralded pairs come from
        one maker per post-herald state.
        """
        from hardware_models.bsm import BsmStation

        plan = self._plans.get((a, b), False)
        if plan is False:
            plan = self._detection_plan(a, b)
        if plan is None:
            return (yield from self._detection_events(a, b, k, lane))
        net = self.net
        env = self.sim.env
        t0 = env.now
        devices = self._take("bsm", k)
        alpha = plan.alpha
        first_emit = plan.emit[0][1]
        if first_emit > 0.0:
            yield env.timeout(first_emit)
        switch = net.switch
        present = []
        for x, memory, fibre, eff in plan.sides:
            if alpha is None and eff < 1.0:
                photons = [u < eff for u in memory.rng.random(k).tolist()]
                collected = sum(photons)
            else:  # every photon collected, or a photon-number mode (always sent)
                photons = [True] * k
                collected = k
            _count_memory(memory, emitted=k, collected=collected)
            if alpha is None:
                photons = fibre.transmit_list(photons)
            else:
                fibre.count(sent=k, presence_modes=k)
            present.append(switch.transmit_list(x, photons, presence=alpha is not None))
        all_stations = net.stations
        stations = [all_stations[j] for j in devices]
        heralds = BsmStation.process_batch(
            stations, present[0], present[1], instrument=plan.instrument, rng=stations[0].rng,
            now_ns=t0 + plan.arrive_ns, uniforms=stations[0].uniforms,
        )
        makers = plan.makers
        built = []
        for rho in heralds.states:
            entry = makers.get(id(rho))
            built.append(entry[1]() if entry is not None and entry[0] is rho
                         else qops.make_pair(rho, trusted=True))
        slots: dict[int, list[int]] = {}
        for x, emit_ns in plan.emit:
            if t0 + emit_ns > env.now:
                yield env.timeout(t0 + emit_ns - env.now)
            slots[x] = self._store(net.qpus[x].comm, [pair[0 if x == a else 1] for pair in built])
        pairs = []
        if built:  # at the herald: the pairs exist, their corrections leave the hub
            yield env.timeout(t0 + plan.herald_ns - env.now)
            fidelity = plan.fidelity
            labels = heralds.labels
            for i, j in enumerate(heralds.heralded):
                pairs.append(self._new_pair(a, b, slots[a][i], slots[b][i], labels[j], fidelity))
            self._send_corrections(pairs)
        yield env.timeout(t0 + plan.handover_ns - env.now)
        self._give("bsm", devices)
        self._rest(a, b, t0, plan.resets, plan.dead_time_ns)
        return pairs

    def _send_corrections(self, pairs: list[PairHandle]) -> None:
        """The Pauli corrections of a round's pairs: one message for the round where the
        network's correction service offers it (``send_round``), else one per pair."""
        corrections = self.net.corrections
        send_round = getattr(corrections, "send_round", None)
        if send_round is not None:
            send_round(pairs)
        else:
            for pair in pairs:
                corrections.send(pair)

    @staticmethod
    def _store(memory: Any, qubits: list[Any]) -> list[int]:
        """Store ``qubits`` (heralded: the write always succeeds) in the lowest free slots."""
        return _store_lowest_free(memory, qubits)

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
        self._rest(a, b, t0, self._emitter_rest(a, b), bsm.detector.dead_time_ns)
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
        self._rest(
            a, b, t0, tuple(self._preparation_ns(x) - prepare for x in (a, b)),
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
        self._rest(a, b, t0, self._swap_resets(a, b), self._swap_dead_time(a, b))
        return pairs
