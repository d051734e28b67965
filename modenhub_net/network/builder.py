"""Build a hub-and-spoke network of N QPUs round one photonic hub, and serve it.

:class:`HubNetwork` assembles, on one :class:`~modenhub_net.simulation.Simulation`:

- N QPU nodes ``qpu{i}``, each with a communication memory
  (:class:`hardware_models.memory.SlotMemory`, ``comm_qubits`` slots, the QPU's T1/T2) and
  exactly one photonic link (quantum channels ``fibre_up{i}`` / ``fibre_down{i}`` whose loss is
  the path loss: fibre, switch, coupling and — per scheme — emission or storage efficiency)
  and one classical connection ``cc{i}`` (two :class:`ClassicalChannel` of length ``L_i``) to
  the hub;
- the hub node with a bank of ``sources`` SPDC sources / memory emitters, ``bsm_stations``
  BSM stations, a shared quantum memory (``memory_slots``) and the optical switch (its loss is
  in the path loss, its circuit limit in :meth:`attempt_cap`, its reconfiguration time paid
  when a round needs circuits for a different QPU pair).

It implements :class:`protocols.orchestrator.HubServices`, so an
:class:`~protocols.orchestrator.Orchestrator` drives it; :func:`run_policy` runs one policy
over one workload and returns the records.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from modenhub_net.components import (
    ClassicalChannel,
    Connection,
    FixedLossModel,
    LengthDelayModel,
    Message,
    Node,
    QuantumChannel,
)
from modenhub_net.errors import UserInputError
from modenhub_net.network import quantum as qops
from modenhub_net.network.hardware import (
    FIBRE_NS_PER_KM,
    SCHEMES,
    HubHardware,
    LinkBudget,
    NodeHardware,
    RoundTiming,
    fibre_transmission,
    link_budget,
    round_timing,
    switch_transmission,
)
from modenhub_net.network.memory import SlotMemory
from modenhub_net.network.records import RequestRecord
from modenhub_net.simulation import Simulation
from protocols.cache import EbitCache
from protocols.generation import make_generation
from protocols.orchestrator import OperationOutcome, Orchestrator, RoundOutcome, make_policy
from protocols.pair import PairHandle
from protocols.swapping import CorrectionService
from protocols.teleportation import teleport_state, teleported_cnot
from protocols.workload import Request

__all__ = ["HubNetwork", "build_hub_network", "run_policy"]


class PhotonChannel(QuantumChannel):
    """A fibre for photon qubits: each photon survives independently with the path transmission.

    Adapter: same behaviour as :class:`~modenhub_net.components.QuantumChannel`, but a lost
    photon is traced out through :mod:`modenhub_net.network.quantum` (works with either
    qubit backend).
    """

    def _transmit(self, message: Message, delay_ns: float) -> Message | None:
        items: list[Any] = []
        for qubit in message.items:
            if qubit is not None and not self.loss_model.survives(rng=self.rng, item=qubit):
                qops.discard(qubit)
                self.qubits_lost += 1
                qubit = None
            items.append(qubit)
        return Message(tuple(items), dict(message.meta))


class HubNetwork:
    """The simulated hub network (see the module docstring).

    Parameters
    ----------
    sim : Simulation
    nodes : sequence of NodeHardware
        One per QPU (N >= 2), heterogeneous allowed.
    hub : HubHardware
    scheme : {"source_in_hub", "detection_in_hub", "hub_memory_swap"}
    link_mode : {"sampled", "detailed"}
    budget_override : callable, optional
        ``budget_override(a, b, budget) -> LinkBudget`` (calibration studies).
    """

    def __init__(
        self,
        sim: Simulation,
        *,
        nodes: Sequence[NodeHardware],
        hub: HubHardware,
        scheme: str = "detection_in_hub",
        link_mode: str = "sampled",
    ) -> None:
        if len(nodes) < 2:
            raise UserInputError(f"n_qpus = {len(nodes)}: a hub network needs at least 2 QPUs")
        if scheme not in SCHEMES:
            raise UserInputError(f"scheme = {scheme!r}: unknown (allowed: {', '.join(SCHEMES)})")
        self.sim = sim
        self.nodes = list(nodes)
        self.hub = hub
        self.scheme = scheme
        self.n_qpus = len(nodes)
        self._pair_ids = 0
        self._budgets: dict[tuple[int, int], LinkBudget] = {}
        self._timings: dict[tuple[int, int], RoundTiming] = {}
        self._circuits: tuple[int, int] | None = None
        self.hub_node = Node("hub", sim=sim, port_names=[f"c{i}" for i in range(self.n_qpus)])
        self.hub_memory: SlotMemory | None = None
        if hub.memory_slots > 0:
            self.hub_memory = SlotMemory(
                "memory", sim=sim, n_slots=hub.memory_slots,
                t1_ns=hub.memory_t1_ns, t2_ns=hub.memory_t2_ns,
            )
            self.hub_node.add_subcomponent(self.hub_memory)
        self.qpus: list[Node] = []
        self.memories: list[SlotMemory] = []
        self.fibres_up: list[QuantumChannel] = []
        self.fibres_down: list[QuantumChannel] = []
        eta_switch = switch_transmission(hub, self.n_qpus)
        for i, hw in enumerate(self.nodes):
            qpu = Node(f"qpu{i}", sim=sim, port_names=("c",))
            memory = SlotMemory(
                "comm", sim=sim, n_slots=int(hw.comm_qubits), t1_ns=hw.memory_t1_ns,
                t2_ns=hw.memory_t2_ns, emission_efficiency=hw.emission_efficiency,
            )
            qpu.add_subcomponent(memory)
            eta_path = fibre_transmission(hw) * eta_switch
            up = PhotonChannel(
                f"fibre_up{i}", sim=sim, delay_model=LengthDelayModel(hw.fibre_length_km),
                loss_model=FixedLossModel(1.0 - eta_path),
            )
            # photons coming down are also stored with the QPU's storage efficiency
            down_eta = eta_path * hw.emission_efficiency
            if scheme == "hub_memory_swap":
                down_eta *= hub.memory_efficiency
            down = PhotonChannel(
                f"fibre_down{i}", sim=sim, delay_model=LengthDelayModel(hw.fibre_length_km),
                loss_model=FixedLossModel(1.0 - down_eta),
            )
            delay = LengthDelayModel(hw.fibre_length_km)
            conn = Connection(
                f"cc{i}", sim=sim,
                channel_ab=ClassicalChannel("up", sim=sim, delay_model=delay),
                channel_ba=ClassicalChannel("down", sim=sim, delay_model=delay),
            )
            qpu.ports["c"].connect(conn.ports["A"])
            self.hub_node.ports[f"c{i}"].connect(conn.ports["B"])
            qpu.ports["c"].bind_input_handler(lambda message, i=i: self._on_qpu_message(i, message))
            self.hub_node.ports[f"c{i}"].bind_input_handler(
                lambda message, i=i: self._on_hub_message(i, message)
            )
            self.qpus.append(qpu)
            self.memories.append(memory)
            self.fibres_up.append(up)
            self.fibres_down.append(down)
        self.corrections = CorrectionService(
            sim,
            send_to_node=lambda node, message: self.hub_node.ports[f"c{node}"].tx_output(message),
            access_half=self.access,
            gate_error_1q=lambda node: self.nodes[node].gate_error_1q,
        )
        self.generation = make_generation(self, link_mode)
        self.link_mode = link_mode

    # -- classical plane ----------------------------------------------------------------
    def _on_qpu_message(self, node: int, message: Message) -> None:
        if message.meta.get("header") == "correction":
            self.corrections.on_message(node, message)

    def _on_hub_message(self, node: int, message: Message) -> None:
        """Messages from QPUs to the hub (relays are modelled by their delays)."""

    def relay_delay_ns(self, s: int, d: int) -> float:
        """Classical delay from QPU ``s`` to QPU ``d`` through the hub, ns."""
        return (self.nodes[s].fibre_length_km + self.nodes[d].fibre_length_km) * FIBRE_NS_PER_KM

    # -- random streams -----------------------------------------------------------------
    def rng(self, name: str) -> np.random.Generator:
        """The simulation's named stream (stable names, so same seed => same records)."""
        return self.sim.rng(name)

    def next_pair_id(self) -> int:
        self._pair_ids += 1
        return self._pair_ids

    # -- physics ------------------------------------------------------------------------
    def budget(self, a: int, b: int) -> LinkBudget:
        """Closed-form link budget of the pair (cached)."""
        key = (a, b) if a < b else (b, a)
        budget = self._budgets.get(key)
        if budget is None:
            budget = link_budget(self.nodes[key[0]], self.nodes[key[1]], self.hub,
                                 n_qpus=self.n_qpus, scheme=self.scheme)
            self._budgets[key] = budget
        return budget

    def leg_success(self, x: int) -> float:
        """``hub_memory_swap``: probability that one leg attempt to QPU ``x`` heralds."""
        from modenhub_net.network.hardware import path_transmission

        return path_transmission(self.nodes[x], self.hub, self.n_qpus, self.scheme)

    def timing(self, a: int, b: int) -> RoundTiming:
        key = (a, b) if a < b else (b, a)
        timing = self._timings.get(key)
        if timing is None:
            timing = round_timing(self.nodes[key[0]], self.nodes[key[1]], self.hub)
            self._timings[key] = timing
        return timing

    def reconfigure(self, a: int, b: int) -> float:
        """Set the switch circuits for ``(a, b)``; returns the reconfiguration time paid (ns)."""
        key = (a, b) if a < b else (b, a)
        if self._circuits == key:
            return 0.0
        self._circuits = key
        return self.hub.switch_reconfiguration_ns

    # -- memories -----------------------------------------------------------------------
    def store(self, node: int, qubit: Any) -> int:
        """Store a qubit in a free communication slot of ``node``; returns the slot."""
        memory = self.memories[node]
        free = memory._free
        if not free:
            raise RuntimeError(f"qpu{node}: no free communication slot (attempt cap violated)")
        slot = free[0]
        if not memory.store(slot, qubit):
            raise RuntimeError("write_efficiency < 1 is not used by the hub network")
        return slot

    def emit(self, node: int) -> tuple[int, Any]:
        """Emit a photon entangled with a new memory qubit of ``node``; returns (slot, photon)."""
        memory = self.memories[node]
        slot = memory.free_slots()[0]
        _, photon = memory.emit(slot)
        return slot, photon

    def send_photon_up(self, node: int, photon: Any, on_arrival: Any) -> None:
        self._send_through(self.fibres_up[node], (photon,), on_arrival)

    def send_photon_down(self, node: int, photons: tuple[Any, ...], on_arrival: Any) -> None:
        self._send_through(self.fibres_down[node], photons, on_arrival)

    def _send_through(self, channel: QuantumChannel, items: tuple[Any, ...], on_arrival: Any) -> None:
        # one handler per message: the channel's recv port calls back the attempt that sent it
        message = Message(items, {"header": "photon", "callback": on_arrival})
        channel.ports["send"].tx_input(message)

    def access(self, node: int, slot: int) -> Any:
        return self.memories[node].access(slot)

    def release(self, node: int, slot: int) -> None:
        self.memories[node].release(slot)

    def free(self, node: int, slot: int) -> None:
        memory = self.memories[node]
        if memory.is_occupied(slot):
            memory.discard(slot)

    def idle_noise(self, node: int, qubit: Any, elapsed_ns: float) -> None:
        """Storage noise of a data qubit of ``node`` waiting ``elapsed_ns``."""
        hw = self.nodes[node]
        if elapsed_ns > 0 and not (math.isinf(hw.memory_t1_ns) and math.isinf(hw.memory_t2_ns)):
            qops.qb_module.t1t2_noise(qubit, elapsed_ns, t1_ns=hw.memory_t1_ns, t2_ns=hw.memory_t2_ns)

    def store_hub(self, qubit: Any) -> int:
        assert self.hub_memory is not None
        slot = self.hub_memory.free_slots()[0]
        self.hub_memory.store(slot, qubit)
        return slot

    def hub_access(self, slot: int) -> Any:
        assert self.hub_memory is not None
        return self.hub_memory.access(slot)

    def hub_release(self, slot: int) -> None:
        assert self.hub_memory is not None
        self.hub_memory.release(slot)

    def hub_discard(self, slot: int) -> None:
        assert self.hub_memory is not None
        self.hub_memory.discard(slot)

    def held_qubits(self) -> int:
        """Occupied slots in all memories (for invariant checks)."""
        total = sum(len(m.occupied_slots()) for m in self.memories)
        if self.hub_memory is not None:
            total += len(self.hub_memory.occupied_slots())
        return total

    # -- HubServices ----------------------------------------------------------------------
    def attempt_cap(self, a: int, b: int) -> tuple[int, str]:
        """Parallel attempts the free resources allow, and the first binding resource."""
        hub = self.hub
        # (value, name) pairs in priority order; on a tie the first listed resource binds
        best_value, best_name = min(self.memories[a].n_free(), self.memories[b].n_free()), "comm_qubits"
        if self.scheme == "detection_in_hub":
            others = (("switch_circuits", hub.switch_max_circuits // 2), ("bsm_stations", hub.bsm_stations))
        elif self.scheme == "source_in_hub":
            others = (("switch_circuits", hub.switch_max_circuits // 2), ("sources", hub.sources))
        else:
            free_hub = len(self.hub_memory.free_slots()) if self.hub_memory is not None else 0
            others = (("switch_circuits", hub.switch_max_circuits // 2), ("sources", hub.sources // 2),
                      ("hub_memory_slots", free_hub // 2))
        for name, value in others:
            if value < best_value:
                best_value, best_name = value, name
        return best_value, best_name

    def p_success(self, a: int, b: int) -> float:
        return self.budget(a, b).p_success

    def link_round(self, a: int, b: int, k: int):
        return self.generation.round(a, b, k)

    def release_request(self, a: int, b: int) -> None:
        self.generation.release_request(a, b)

    def discard_pair(self, pair: PairHandle, reason: str) -> None:
        self.free(pair.node_a, pair.slot_a)
        self.free(pair.node_b, pair.slot_b)

    def execute(self, request: Request, pair: PairHandle):
        if request.kind == "cnot":
            return teleported_cnot(self, request, pair)
        return teleport_state(self, request, pair)

    def fidelity_estimate(self, pair: PairHandle, now_ns: float) -> float:
        """Classical estimate ``1/4 + (F0 - 1/4) exp(-age (1/T2_a + 1/T2_b))``."""
        rate = 1.0 / self.nodes[pair.node_a].memory_t2_ns + 1.0 / self.nodes[pair.node_b].memory_t2_ns
        return 0.25 + (pair.fidelity_estimate - 0.25) * math.exp(-pair.age_ns(now_ns) * rate)


def _patch_channel_callbacks(net: HubNetwork) -> None:
    """Connect each fibre's output to a photon port (hub side for up, QPU side for down)."""
    for i, (up, down) in enumerate(zip(net.fibres_up, net.fibres_down, strict=True)):
        for channel, owner, port_name in ((up, net.hub_node, f"q{i}"), (down, net.qpus[i], "q")):
            port = owner.add_ports([port_name])[0]
            channel.ports["recv"].connect(port)
            port.bind_input_handler(lambda message: message.meta["callback"](message))


def build_hub_network(
    sim: Simulation,
    *,
    nodes: Sequence[NodeHardware],
    hub: HubHardware,
    scheme: str = "detection_in_hub",
    link_mode: str = "sampled",
) -> HubNetwork:
    """A ready-to-use :class:`HubNetwork` on ``sim`` (photon channels wired to their ports).

    The network is what :func:`run_policy` serves with an orchestrator; use this to drive it
    with your own protocol instead (e.g. continuous pair generation with
    ``yield from net.link_round(a, b, k)``, ``benchmarks/bench_two_node_link.py``).
    """
    net = HubNetwork(sim, nodes=nodes, hub=hub, scheme=scheme, link_mode=link_mode)
    _patch_channel_callbacks(net)
    return net


def run_policy(
    *,
    nodes: Sequence[NodeHardware],
    hub: HubHardware,
    scheme: str,
    link_mode: str,
    policy: str,
    requests: Sequence[Request],
    seed: int,
    rounds: int = 3,
    kappa: float = 0.9,
    k_min: int = 2,
    cache_capacity: int = 1,
    cutoff_ns: float = math.inf,
    eviction: str = "oldest",
    cache: bool | None = None,
) -> tuple[list[RequestRecord], HubNetwork, Orchestrator]:
    """Build the network, run one policy over ``requests`` and return the records.

    The network's random streams are children of ``seed`` by stable names, so the same
    arguments give identical records.
    """
    sim = Simulation(seed=seed)
    net = build_hub_network(sim, nodes=nodes, hub=hub, scheme=scheme, link_mode=link_mode)
    round_policy = make_policy(policy, n_qpus=net.n_qpus, rounds=rounds, kappa=kappa,
                               k_min=k_min, cache=cache)
    ebit_cache = EbitCache(
        capacity=cache_capacity, cutoff_ns=cutoff_ns, eviction=eviction,
        fidelity_estimate=net.fidelity_estimate, on_discard=net.discard_pair,
    )
    orchestrator = Orchestrator(sim, services=net, policy=round_policy, requests=requests,
                                cache=ebit_cache)
    orchestrator.start()
    sim.run()
    return orchestrator.records, net, orchestrator


__all__ += ["OperationOutcome", "RoundOutcome"]
