"""Heralded entanglement generation: one round of K parallel attempts, two link modes.

Both modes implement ``round(a, b, k)`` (a generator for ``yield from``) returning a
:class:`~protocols.orchestrator.RoundOutcome`, and both draw on the same physics: the link
budget of the pair (:func:`modenhub_net.network.hardware.link_budget`) and its round timing.

Round timeline (ns from the round start t0): switch reconfiguration (only if the circuits
change), photon flight over the longer fibre, detection window, herald message back over the
longer fibre. Communication memories of both QPUs hold one qubit per attempt from emission
(detection in the hub) or storage (source in the hub) on; failed attempts are freed at the
herald.

``detailed``
    every attempt is simulated as events through components: memory emission
    (:meth:`hardware_models.memory.QuantumMemory.emit`) or SPDC emission, photons in
    :class:`~modenhub_net.components.QuantumChannel` fibres whose loss is the path loss
    (fibre, switch, coupling, storage), a linear-optics BSM on the photon qubits (detector
    efficiency, HOM visibility as dephasing of one photon, only Psi+- identified) or heralded
    storage at the QPUs, and the herald as a classical message;
``sampled``
    the number of heralds is drawn as ``Binomial(k, p)`` with ``p`` the budget's closed-form
    per-attempt probability (the law the detailed mode realises attempt by attempt), time
    jumps to the herald, and only the heralded pairs' states are built (the budget's heralded
    state, put in the uncorrected Bell frame the BSM outcome implies).

For ``hub_memory_swap`` (sampled only in this version): each attempt is one leg attempt per
side; heralded legs wait in the hub memory across the rounds of a request, matched legs are
swapped at the hub at the end of a round (:func:`protocols.swapping.swap_legs`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np

from modenhub_net.components import Message
from modenhub_net.network import quantum as qops
from protocols.orchestrator import RoundOutcome
from protocols.pair import PairHandle

__all__ = ["SampledGeneration", "DetailedGeneration", "LINK_MODES", "make_generation"]

LINK_MODES: tuple[str, ...] = ("sampled", "detailed")


def _thermal_pairs(rng: np.random.Generator, mu: float) -> int:
    """Pair number of an SPDC pulse, ``P(n) = mu^n / (1+mu)^(n+1)`` (geometric from 0)."""
    return int(rng.geometric(1.0 / (1.0 + mu))) - 1


class _Base:
    def __init__(self, net: Any) -> None:
        self.net = net
        self.sim = net.sim
        self.attempts_total = 0
        self.heralds_total = 0

    def _new_pair(self, a: int, b: int, slot_a: int, slot_b: int, bell_index: int,
                  fidelity: float) -> PairHandle:
        return PairHandle(
            self.net.next_pair_id(), a, b, slot_a, slot_b, heralded_ns=self.sim.now_ns,
            fidelity_estimate=fidelity, bell_index=bell_index,
        )

    def release_request(self, a: int, b: int) -> None:
        """End of a request: nothing is kept between requests by these schemes."""


class SampledGeneration(_Base):
    """Sampled ("skip failed attempts") link mode."""

    mode = "sampled"

    def __init__(self, net: Any) -> None:
        super().__init__(net)
        self._legs: dict[tuple[int, int], dict[int, list[tuple[int, int]]]] = {}

    def round(self, a: int, b: int, k: int) -> Generator[Any, Any, RoundOutcome]:
        net, sim = self.net, self.sim
        scheme = net.scheme
        timing = net.timing(a, b)
        reconf = net.reconfigure(a, b)
        if reconf > 0:
            yield sim.timeout(reconf)
        rng = net.rng(f"link[{min(a, b)}-{max(a, b)}]")
        self.attempts_total += k
        if scheme == "hub_memory_swap":
            pairs = yield from self._swap_round(a, b, k, rng, timing)
            return RoundOutcome(pairs=pairs, attempts=k)
        budget = net.budget(a, b)
        n = int(rng.binomial(k, budget.p_success))
        built = []
        if scheme == "detection_in_hub":
            # memory qubits exist from emission on: store now, herald after flight + window
            built = [self._store_pair(a, b, budget, rng) for _ in range(n)]
            yield sim.timeout(timing.flight_ns + timing.window_ns)
        else:
            # photons fly from the hub source and are stored on arrival
            yield sim.timeout(timing.flight_ns)
            built = [self._store_pair(a, b, budget, rng) for _ in range(n)]
            yield sim.timeout(timing.window_ns)
        pairs = []
        for slot_a, slot_b, index in built:
            pair = self._new_pair(a, b, slot_a, slot_b, index, budget.fidelity)
            net.corrections.send(pair)
            pairs.append(pair)
        self.heralds_total += n
        yield sim.timeout(timing.herald_ns)
        return RoundOutcome(pairs=pairs, attempts=k)

    def _store_pair(self, a: int, b: int, budget: Any, rng: np.random.Generator) -> tuple[int, int, int]:
        net = self.net
        qa, qb_ = qops.make_pair(budget.heralded_state)
        index = 0
        if net.scheme == "detection_in_hub":
            index = 2 + int(rng.random() < 0.5)  # linear optics identifies Psi+ or Psi-
            qops.apply_pauli_frame(qb_, index)  # the uncorrected frame the herald reports
        return net.store(a, qa), net.store(b, qb_), index

    # -- hub memory and swapping ----------------------------------------------------------
    def _swap_round(self, a: int, b: int, k: int, rng: np.random.Generator, timing: Any
                    ) -> Generator[Any, Any, list[PairHandle]]:
        net, sim = self.net, self.sim
        legs = self._legs.setdefault((a, b), {a: [], b: []})
        p = {x: net.leg_success(x) for x in (a, b)}
        yield sim.timeout(timing.flight_ns)
        for x in (a, b):
            for _ in range(int(rng.binomial(k, p[x]))):
                hub_q, remote_q = qops.make_pair(qops.PHI_PLUS_DM)
                legs[x].append((net.store_hub(hub_q), net.store(x, remote_q)))
        yield sim.timeout(timing.window_ns + timing.herald_ns)
        pairs = []
        while legs[a] and legs[b]:
            hub_a, slot_a = legs[a].pop(0)
            hub_b, slot_b = legs[b].pop(0)
            qa_hub, qb_hub = net.hub_access(hub_a), net.hub_access(hub_b)
            net.hub_release(hub_a)
            net.hub_release(hub_b)
            from protocols.swapping import swap_legs

            outcome = swap_legs(qa_hub, qb_hub, net.rng("hub.swap"), gate_error=net.hub.swap_gate_error)
            pair = self._new_pair(a, b, slot_a, slot_b, outcome, 1.0)
            net.corrections.send(pair, kind="swap")
            pairs.append(pair)
        self.heralds_total += len(pairs)
        return pairs

    def release_request(self, a: int, b: int) -> None:
        """Discard legs left unmatched at the end of a request (memory freed)."""
        legs = self._legs.pop((a, b), None)
        if not legs:
            return
        for x, items in legs.items():
            for hub_slot, slot in items:
                self.net.hub_discard(hub_slot)
                self.net.free(x, slot)


class DetailedGeneration(_Base):
    """Detailed link mode: every attempt as events through the components."""

    mode = "detailed"

    def round(self, a: int, b: int, k: int) -> Generator[Any, Any, RoundOutcome]:
        net, sim = self.net, self.sim
        if net.scheme == "hub_memory_swap":
            from modenhub_net.errors import UserInputError

            raise UserInputError("link.mode = 'detailed' is not available for scheme = 'hub_memory_swap'")
        timing = net.timing(a, b)
        reconf = net.reconfigure(a, b)
        if reconf > 0:
            yield sim.timeout(reconf)
        self.attempts_total += k
        t0 = sim.now_ns
        done = sim.event()
        results: list[tuple[int, int, int] | None] = [None] * k
        pending = {"n": k}

        def finish(j: int, result: tuple[int, int, int] | None) -> None:
            results[j] = result
            pending["n"] -= 1
            if pending["n"] == 0:
                done.succeed()

        for j in range(k):
            if net.scheme == "detection_in_hub":
                self._bsm_attempt(a, b, j, timing, finish)
            else:
                self._source_attempt(a, b, j, timing, finish)
        yield done
        # every attempt decides at t0 + flight + window (the BSM/herald time)
        t_det = t0 + timing.flight_ns + timing.window_ns
        if sim.now_ns < t_det:
            yield sim.timeout(t_det - sim.now_ns)
        budget = net.budget(a, b)
        pairs = []
        for result in results:
            if result is None:
                continue
            slot_a, slot_b, index = result
            pair = self._new_pair(a, b, slot_a, slot_b, index, budget.fidelity)
            net.corrections.send(pair)
            pairs.append(pair)
        self.heralds_total += len(pairs)
        yield sim.timeout(timing.herald_ns)
        return RoundOutcome(pairs=pairs, attempts=k)

    # -- detection in the hub -------------------------------------------------------------
    def _bsm_attempt(self, a: int, b: int, j: int, timing: Any, finish: Any) -> None:
        net, sim = self.net, self.sim
        slots: dict[int, int] = {}
        photons: dict[int, Any] = {}
        arrived = {"n": 0}

        def on_photon(x: int, message: Message) -> None:
            photons[x] = message.items[0]
            arrived["n"] += 1
            if arrived["n"] == 2:
                timer = sim.timeout(timing.window_ns)
                timer.callbacks.append(lambda _e: measure())

        def measure() -> None:
            rng = net.rng(f"hub.bsm[{j}]")
            pa, pb = photons[a], photons[b]
            ok = pa is not None and pb is not None
            if ok:
                v = net.hub.hom_visibility
                if v < 1.0 and rng.random() < (1.0 - v) / 2.0:
                    qops.apply_gate(qops.qb_module.Z, [pa])  # distinguishability: which-path dephasing
                eta_d = net.hub.detector_efficiency
                detected = eta_d >= 1.0 or (rng.random() < eta_d and rng.random() < eta_d)
                outcome = qops.noisy_bell_measure(pa, pb, rng)
                ok = detected and outcome in (2, 3)  # linear optics identifies only Psi+-
            else:
                for photon in (pa, pb):
                    if photon is not None:
                        qops.discard(photon)
            if ok:
                finish(j, (slots[a], slots[b], outcome))
            else:
                net.free(a, slots[a])
                net.free(b, slots[b])
                finish(j, None)

        for x in (a, b):
            slot, photon = net.emit(x)
            slots[x] = slot
            net.send_photon_up(x, photon, lambda message, x=x: on_photon(x, message))

    # -- source in the hub ----------------------------------------------------------------
    def _source_attempt(self, a: int, b: int, j: int, timing: Any, finish: Any) -> None:
        net, sim = self.net, self.sim
        rng = net.rng(f"hub.source[{j}]")
        n = _thermal_pairs(rng, net.hub.spdc_mean_pairs)
        stored: dict[int, int | None] = {}

        def on_arrival(x: int, message: Message) -> None:
            slot = None
            for photon in message.items:
                if photon is not None and slot is None:
                    slot = net.store(x, photon)
                elif photon is not None:
                    qops.discard(photon)
            stored[x] = slot
            if len(stored) == 2:
                decide()

        def decide() -> None:
            if stored[a] is not None and stored[b] is not None:
                finish(j, (stored[a], stored[b], 0))
                return
            for x in (a, b):
                if stored[x] is not None:
                    net.free(x, stored[x])
            finish(j, None)

        if n == 0:
            timer = sim.timeout(0.0)
            timer.callbacks.append(lambda _e: finish(j, None))
            return
        if n == 1:
            qa, qb_ = qops.make_pair(qops.PHI_PLUS_DM)
            items = {a: (qa,), b: (qb_,)}
        else:  # multi-pair approximation (see modenhub_net.network.hardware): mixed photons
            items = {x: tuple(qops.make_mixed() for _ in range(n)) for x in (a, b)}
        for x in (a, b):
            net.send_photon_down(x, items[x], lambda message, x=x: on_arrival(x, message))


def make_generation(net: Any, mode: str) -> SampledGeneration | DetailedGeneration:
    """The generation protocol of a link mode (``"sampled"`` or ``"detailed"``)."""
    if mode == "sampled":
        return SampledGeneration(net)
    if mode == "detailed":
        return DetailedGeneration(net)
    from modenhub_net.errors import UserInputError

    raise UserInputError(f"link.mode = {mode!r}: unknown (allowed: {', '.join(LINK_MODES)})")
