"""Build the hub-and-spoke network of N QPUs round one photonic hub from device components.

:class:`HubNetwork` assembles, on one :class:`~modenhub_net.simulation.Simulation`, component
instances of :mod:`hardware_models` (no physics is computed here):

- per QPU ``i``: a :class:`hardware_models.QPU` node ``qpu{i}`` (its ``comm``
  :class:`~hardware_models.QuantumMemory` is the emitter / storing memory, its ``data`` memory
  holds data qubits, gates and measurements are the QPU's), one herald
  :class:`~hardware_models.Detector` ``qpu{i}.herald{slot}`` per communication slot (heralded
  storage: ``source_in_hub``, ``hub_memory_swap``), a photonic link
  ``link{i}`` (a :class:`~modenhub_net.components.Connection` of two
  :class:`~hardware_models.Fibre`, QPU -> hub and hub -> QPU) to port ``p{i}`` of the switch,
  and a classical link ``cc{i}`` (two :class:`~hardware_models.ClassicalFibre`) to the hub;
- the hub node ``hub``: one :class:`~hardware_models.OpticalSwitch` ``hub.switch`` (ports:
  one per QPU plus two per *lane*; a lane is a pair of hub-side ports joined by circuits to
  the two QPUs of a link), a bank of :class:`~hardware_models.BsmStation` ``hub.bsm{j}``, a bank
  of :class:`~hardware_models.SpdcSource` ``hub.source{j}``, a hub memory node ``hub.memory``
  (a :class:`~hardware_models.QPU` whose ``comm`` memory has ``memory_slots`` slots and whose
  gates perform the swap), and the passive, lossless mode (de)multiplexer ``hub.fabric`` that
  hands mode ``j`` of a lane to station / source ``j``.

Each circuit carries all attempt modes of a round (one photon per mode in one message).
The per-attempt physics of a QPU pair comes from the closed forms of the *same* devices
(:meth:`HubNetwork.budget`, :mod:`hardware_models.link_budget`). :class:`HubNetwork` offers the
narrow interface the orchestrator uses (:class:`protocols.orchestrator.HubServices`);
:func:`run_policy` runs one policy over one workload and returns the records.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hardware_models import (
    QPU,
    BsmStation,
    ClassicalFibre,
    Detector,
    Fibre,
    LinkBudget,
    OpticalSwitch,
    SpdcSource,
)
from hardware_models.link_budget import LegBudget, pair_link_budget
from hardware_models.spdc import BELL_INDEX
from modenhub_net.components import Component, Connection, Message, Node
from modenhub_net.config.base import check_count
from modenhub_net.errors import UserInputError
from modenhub_net.network.spec import LINK_MODES, SCHEMES, HubSpec, QpuSpec
from modenhub_net.simulation import Simulation
from protocols.cache import EbitCache
from protocols.demand import DEFAULT_HALF_LIFE_NS
from protocols.generation import make_generation
from protocols.link_block import check_attempts, check_block_arguments, consume_rounds
from protocols.orchestrator import OperationOutcome, Orchestrator, RoundOutcome, make_policy
from protocols.pair import PairHandle
from protocols.records import RequestRecord
from protocols.swapping import CorrectionService
from protocols.teleportation import teleport_state, teleported_cnot
from protocols.workload import Request

__all__ = [
    "HubNetwork", "LaneBusyError", "OperationOutcome", "RoundCorrections", "RoundOutcome",
    "build_hub_network", "run_policy",
]


class LaneBusyError(RuntimeError):
    """A lane was asked for while every usable lane is held by a running request (a caller bug:
    the orchestrator admits a request only when its QPUs and a lane are free)."""


class HubFabric(Component):
    """The hub's passive mode (de)multiplexer between the switch's lane ports and the devices.

    Lossless and instantaneous: a message arriving on lane port ``l{lane}{side}`` (one photon
    per attempt mode) is handed, mode by mode, to :attr:`on_lane_input`; device outputs
    (station heralds ``h{j}``, source photons ``s{j}a`` / ``s{j}b``) go to
    :attr:`on_device_output`. Ports ``to{j}a`` / ``to{j}b`` feed station ``j``.
    """

    def __init__(self, name: str, *, sim: Simulation, lanes: int, stations: int, sources: int) -> None:
        super().__init__(name, sim=sim)
        self.on_lane_input: Callable[[int, int, Message], None] | None = None
        self.on_device_output: Callable[[str, int, Message], None] | None = None
        for lane in range(lanes):
            for side in (0, 1):
                port = self.add_ports([f"l{lane}{'ab'[side]}"])[0]
                port.bind_input_handler(lambda m, lane=lane, side=side: self._lane(lane, side, m))
        for j in range(stations):
            self.add_ports([f"to{j}a", f"to{j}b"])
            self.add_ports([f"h{j}"])[0].bind_input_handler(lambda m, j=j: self._device("herald", j, m))
        for j in range(sources):
            for side in "ab":
                port = self.add_ports([f"s{j}{side}"])[0]
                port.bind_input_handler(lambda m, j=j, side=side: self._device(f"source_{side}", j, m))

    def _lane(self, lane: int, side: int, message: Message) -> None:
        if self.on_lane_input is not None:
            self.on_lane_input(lane, side, message)

    def _device(self, kind: str, j: int, message: Message) -> None:
        if self.on_device_output is not None:
            self.on_device_output(kind, j, message)


class RoundCorrections(CorrectionService):
    """:class:`~protocols.swapping.CorrectionService` with two economies that change neither
    the physics nor any time.

    - :meth:`send_round`: the corrections of one round's pairs (all corrected by the same
      QPU) travel in one classical message, sent when the hub knows the heralds, so each
      arrives exactly when its own message would; each is applied on arrival as
      :meth:`~protocols.swapping.CorrectionService.on_message` does, in the round's order.
    - The ready event of a pair sent this way is made only when someone waits for it
      (:meth:`wait_ready`); a pair nobody waits for costs no event.
    """

    def send_round(self, pairs: Sequence[PairHandle], *, kind: str = "bell") -> None:
        """Send the corrections of ``pairs`` (same ``node_b``) in one message."""
        node = pairs[0].node_b
        for pair in pairs:
            if pair.node_b != node:
                raise ValueError(f"send_round: pairs corrected at QPUs {node} and {pair.node_b}")
            self.ready[pair.pair_id] = None
        self._send(node, Message(("corrections",), {"header": "corrections", "pairs": tuple(pairs),
                                                    "kind": kind}))

    def on_round(self, node: int, message: Message) -> None:
        """Handle a round's corrections arriving at ``node`` (bound by the builder)."""
        kind = message.meta["kind"]
        for pair in message.meta["pairs"]:
            self.on_message(node, Message(("correction",), {"header": "correction", "pair": pair,
                                                            "kind": kind}))

    def wait_ready(self, pair: PairHandle) -> Any:
        """An event that fires when the pair's correction has been applied (now if it has)."""
        if pair.pair_id in self.ready:
            event = self.ready[pair.pair_id]
            if event is None:
                event = self.ready[pair.pair_id] = self.sim.event()
            return event
        return super().wait_ready(pair)


class HubNetwork:
    """The simulated hub network (see the module docstring).

    Parameters
    ----------
    sim : Simulation
    nodes : sequence of QpuSpec
        One per QPU (N >= 2), heterogeneous allowed; each needs >= 1 data qubit.
    hub : HubSpec
    scheme : {"source_in_hub", "detection_in_hub", "hub_memory_swap"}
    link_mode : {"sampled", "detailed"}
    leg_cutoff_ns : float
        ``hub_memory_swap``: a heralded leg older than this (ns, > 0; counted from the hub
        memory's emission) is discarded and its memories freed; default inf.
    """

    def __init__(
        self,
        sim: Simulation,
        *,
        nodes: Sequence[QpuSpec],
        hub: HubSpec,
        scheme: str = "detection_in_hub",
        link_mode: str = "sampled",
        leg_cutoff_ns: float = math.inf,
    ) -> None:
        if len(nodes) < 2:
            raise UserInputError(f"n_qpus = {len(nodes)}: a hub network needs at least 2 QPUs")
        if scheme not in SCHEMES:
            raise UserInputError(f"scheme = {scheme!r}: unknown (allowed: {', '.join(SCHEMES)})")
        if link_mode not in LINK_MODES:
            raise UserInputError(f"link_mode = {link_mode!r}: unknown (allowed: {', '.join(LINK_MODES)})")
        if not leg_cutoff_ns > 0:
            raise UserInputError(f"leg_cutoff_ns = {leg_cutoff_ns!r} must be > 0 (ns)")
        for i, spec in enumerate(nodes):
            if spec.qpu.n_data_qubits < 1:
                raise UserInputError(
                    f"qpus[{i}].qpu.n_data_qubits = {spec.qpu.n_data_qubits}: teleportation and "
                    "teleported CNOTs need >= 1 data qubit per QPU"
                )
        if scheme == "hub_memory_swap" and hub.memory_slots < 2:
            raise UserInputError(
                f"hub.memory_slots = {hub.memory_slots}: scheme 'hub_memory_swap' needs >= 2"
            )
        self.sim = sim
        self.specs = list(nodes)
        self.hub = hub
        self.scheme = scheme
        self.link_mode = link_mode
        self.leg_cutoff_ns = float(leg_cutoff_ns)
        self.n_qpus = n = len(nodes)
        self._pair_ids = 0
        self._budgets: dict[tuple[int, int], LinkBudget] = {}
        self._budgets_by_spec: dict[tuple[Any, ...], LinkBudget] = {}
        self._legs: dict[int, LegBudget] = {}

        # -- hub --------------------------------------------------------------------------
        self.hub_node = Node("hub", sim=sim, port_names=[f"c{i}" for i in range(n)])
        self.n_lanes = hub.lanes(n)
        self.n_switch_ports = hub.n_switch_ports(n)
        self.switch = OpticalSwitch("switch", sim=sim, params=hub.switch_params(),
                                    n_ports=self.n_switch_ports)
        self.hub_node.add_subcomponent(self.switch)
        self.fabric = HubFabric("fabric", sim=sim, lanes=self.n_lanes, stations=hub.bsm_stations,
                                sources=hub.sources)
        self.hub_node.add_subcomponent(self.fabric)
        for lane in range(self.n_lanes):
            for side in (0, 1):
                self.switch.ports[f"p{self.lane_port(lane, side)}"].connect(
                    self.fabric.ports[f"l{lane}{'ab'[side]}"]
                )
        self.stations: list[BsmStation] = []
        for j in range(hub.bsm_stations):
            station = BsmStation(f"bsm{j}", sim=sim, params=hub.bsm)
            self.hub_node.add_subcomponent(station)
            self.fabric.ports[f"to{j}a"].connect(station.ports["a"])
            self.fabric.ports[f"to{j}b"].connect(station.ports["b"])
            station.ports["herald"].connect(self.fabric.ports[f"h{j}"])
            self.stations.append(station)
        self.sources: list[SpdcSource] = []
        for j in range(hub.sources):
            source = SpdcSource(f"source{j}", sim=sim, params=hub.source)
            self.hub_node.add_subcomponent(source)
            source.ports["a"].connect(self.fabric.ports[f"s{j}a"])
            source.ports["b"].connect(self.fabric.ports[f"s{j}b"])
            self.sources.append(source)
        self.hub_memory: QPU | None = None
        if hub.memory_slots > 0:
            self.hub_memory = QPU("memory", sim=sim, params=hub.hub_qpu_params(), memory=hub.memory)
            self.hub_node.add_subcomponent(self.hub_memory)

        # -- QPUs and their links -----------------------------------------------------------
        self.qpus: list[QPU] = []
        self.herald_detectors: list[list[Detector]] = []
        self.links: list[Connection] = []
        self.classical: list[Connection] = []
        for i, spec in enumerate(nodes):
            qpu = QPU(f"qpu{i}", sim=sim, params=spec.qpu, memory=spec.comm_memory(),
                      data_memory=spec.data_memory_params)
            detectors = []
            if scheme != "detection_in_hub":  # heralded storage: one herald detector per slot
                for slot in range(spec.comm_qubits):
                    detector = Detector(f"herald{slot}", sim=sim, params=spec.detector)
                    qpu.add_subcomponent(detector)
                    detectors.append(detector)
            qpu.add_ports(["optical", "c"])
            link = Connection(
                f"link{i}", sim=sim,
                channel_ab=Fibre("up", sim=sim, params=spec.fibre),
                channel_ba=Fibre("down", sim=sim, params=spec.fibre),
            )
            qpu.ports["optical"].connect(link.ports["A"])
            link.ports["B"].connect(self.switch.ports[f"p{i}"])
            cc = Connection(
                f"cc{i}", sim=sim,
                channel_ab=ClassicalFibre("up", sim=sim, params=spec.fibre),
                channel_ba=ClassicalFibre("down", sim=sim, params=spec.fibre),
            )
            qpu.ports["c"].connect(cc.ports["A"])
            self.hub_node.ports[f"c{i}"].connect(cc.ports["B"])
            qpu.ports["c"].bind_input_handler(lambda message, i=i: self._on_qpu_message(i, message))
            qpu.ports["optical"].bind_input_handler(lambda message, i=i: self._on_qpu_photons(i, message))
            self.hub_node.ports[f"c{i}"].bind_input_handler(
                lambda message, i=i: self._on_hub_message(i, message)
            )
            self.qpus.append(qpu)
            self.herald_detectors.append(detectors)
            self.links.append(link)
            self.classical.append(cc)
        self._lane_of: dict[tuple[int, int], int] = {}
        self._lane_pair: list[tuple[int, int] | None] = [None] * self.n_lanes
        self._lane_circuits: list[tuple[Any, Any] | None] = [None] * self.n_lanes
        self._node_lane: dict[int, int] = {}
        self._lane_holds: dict[int, int] = {}
        self._free_lanes: list[int] = list(range(self.n_lanes))  # a heap: lowest free lane first
        self.qpu_message_handlers: dict[str, Callable[[int, Message], None]] = {}
        self.hub_message_handlers: dict[str, Callable[[int, Message], None]] = {}
        self.photon_handler: Callable[[int, Message], None] | None = None
        self.corrections = RoundCorrections(
            sim,
            send_to_node=lambda node, message: self.hub_node.ports[f"c{node}"].tx_output(message),
            qpu_of=lambda node: self.qpus[node],
        )
        self.qpu_message_handlers["correction"] = self.corrections.on_message
        self.qpu_message_handlers["corrections"] = self.corrections.on_round
        self.generation = make_generation(self, link_mode)

    # -- wiring helpers -------------------------------------------------------------------
    def lane_port(self, lane: int, side: int) -> int:
        """Switch port index of side ``side`` (0 or 1) of lane ``lane``."""
        return self.n_qpus + 2 * lane + side

    def _on_qpu_message(self, node: int, message: Message) -> None:
        handler = self.qpu_message_handlers.get(message.meta.get("header", ""))
        if handler is not None:
            handler(node, message)

    def _on_hub_message(self, node: int, message: Message) -> None:
        handler = self.hub_message_handlers.get(message.meta.get("header", ""))
        if handler is not None:
            handler(node, message)

    def _on_qpu_photons(self, node: int, message: Message) -> None:
        if self.photon_handler is not None:
            self.photon_handler(node, message)

    # -- delays (from the components) ------------------------------------------------------
    def flight_ns(self, node: int) -> float:
        """Photon flight time QPU <-> switch port of ``node`` (its :class:`Fibre`), ns."""
        return self.links[node].channel_ab.delay_ns

    def herald_ns(self, node: int) -> float:
        """Classical latency hub -> QPU ``node`` (its :class:`ClassicalFibre`), ns."""
        return self.classical[node].channel_ba.latency_ns

    def report_ns(self, node: int) -> float:
        """Classical latency QPU ``node`` -> hub, ns."""
        return self.classical[node].channel_ab.latency_ns

    def relay_delay_ns(self, s: int, d: int) -> float:
        """Classical delay from QPU ``s`` to QPU ``d`` through the hub, ns."""
        return self.report_ns(s) + self.herald_ns(d)

    def emitter_lead_ns(self, node: int) -> float:
        """Initialisation + emission time of QPU ``node``'s emitter before its photon leaves, ns."""
        p = self.qpus[node].comm.params
        return p.emitter_initialisation_ns + p.emitter_emission_ns

    def emitter_reset_ns(self, node: int) -> float:
        """Re-preparation time of QPU ``node``'s emitter after an attempt, ns."""
        return self.qpus[node].comm.params.emitter_reset_ns

    def herald_detector(self, node: int, slot: int) -> Detector:
        """The herald detector of communication slot ``slot`` of QPU ``node``."""
        return self.herald_detectors[node][slot]

    def leg_budget(self, node: int) -> LegBudget:
        """``hub_memory_swap``: closed-form budget of one hub-QPU leg to ``node`` (cached)."""
        budget = self._legs.get(node)
        if budget is None:
            other = 1 if node == 0 else 0
            a, b = sorted((node, other))
            legs = self.budget(a, b).legs
            assert legs is not None
            budget = legs[0] if node == a else legs[1]
            self._legs[node] = budget
        return budget

    # -- random streams -------------------------------------------------------------------
    def rng(self, name: str) -> np.random.Generator:
        """The simulation's named stream (stable names, so same seed => same records)."""
        return self.sim.rng(name)

    def next_pair_id(self) -> int:
        self._pair_ids += 1
        return self._pair_ids

    def next_pair_ids(self, n: int) -> range:
        """The next ``n`` pair ids (as ``n`` calls of :meth:`next_pair_id` would give)."""
        first = self._pair_ids + 1
        self._pair_ids += n
        return range(first, first + n)

    # -- closed forms of the same devices ---------------------------------------------------
    def budget(self, a: int, b: int) -> LinkBudget:
        """Closed-form budget of one attempt between QPUs ``a`` and ``b`` (cached).

        :func:`hardware_models.link_budget.pair_link_budget` with the parameters of the very
        components this network is built from: the QPUs' fibres and communication memories
        (transducer included, :meth:`QpuSpec.comm_memory`), the switch (``n_ports`` of this
        switch), the BSM stations (``detection_in_hub``), the source (``source_in_hub``), the
        hub memory and its gates (``hub_memory_swap``), the QPUs' herald detectors and the
        hub's processing time.
        """
        key = (a, b) if a < b else (b, a)
        budget = self._budgets.get(key)
        if budget is None:
            # QPU pairs built from equal devices share one budget (a 1,024-QPU hub of one
            # QPU model computes it once, not once per pair); frozen parameter models hash
            # by value
            sa, sb = self.specs[key[0]], self.specs[key[1]]
            spec_key = (self.qpus[key[0]].comm.params, self.qpus[key[1]].comm.params,
                        sa.fibre, sb.fibre, sa.detector, sb.detector)
            budget = self._budgets_by_spec.get(spec_key)
            if budget is None:
                budget = self._budgets_by_spec[spec_key] = self._pair_budget(*key)
            self._budgets[key] = budget
        return budget

    def _pair_budget(self, a: int, b: int) -> LinkBudget:
        sa, sb = self.specs[a], self.specs[b]
        if self.scheme != "detection_in_hub" and sa.detector != sb.detector:
            raise UserInputError(
                f"scheme = {self.scheme!r}: the closed form takes one herald detector model; QPUs "
                f"{a} and {b} have different detector parameters"
            )
        return pair_link_budget(
            self.scheme,
            memory_a=self.qpus[a].comm.params, memory_b=self.qpus[b].comm.params,
            fibre_a=sa.fibre, fibre_b=sb.fibre, switch=self.switch.params,
            n_ports=self.n_switch_ports, bsm=self.hub.bsm, source=self.hub.source,
            detector=sa.detector,
            hub_memory=self.hub_memory.comm.params if self.hub_memory is not None else None,
            hub_qpu=self.hub_memory.params if self.hub_memory is not None else None,
            classical_processing_ns=self.hub.processing_ns,
        )

    # -- switch circuits --------------------------------------------------------------------
    def lane(self, a: int, b: int):
        """Circuits joining QPUs ``a`` and ``b`` to a lane (a generator; returns the lane).

        Reuses the lane already joined to this pair. Otherwise the lanes that hold ``a`` or
        ``b`` are torn down (a QPU's port joins one lane at a time), then the lowest free lane
        is used, or, if every lane is joined, the lowest lane *not held* by a running request
        (:meth:`hold_lane`) is torn down; new circuits are requested from the switch and their
        reconfiguration is waited for (:class:`hardware_models.OpticalSwitch`). A lane held by
        a running request is never torn down: :class:`LaneBusyError` is raised instead (the
        caller, e.g. the concurrent orchestrator, admits a request only when a lane is free).
        """
        key = (a, b) if a < b else (b, a)
        lane = self._lane_of.get(key)
        if lane is not None:
            return lane
        conflicts = {self._node_lane[x] for x in key if x in self._node_lane}
        for i in conflicts:
            if self._lane_holds.get(i):
                raise LaneBusyError(
                    f"QPU pair {key}: lane {i} holds one of these QPUs for a running request"
                )
        for i in sorted(conflicts):
            self._release_lane(i)
        if self._free_lanes:
            lane = heapq.heappop(self._free_lanes)
        else:
            lane = next((i for i in range(self.n_lanes) if not self._lane_holds.get(i)), None)
            if lane is None:
                raise LaneBusyError(f"QPU pair {key}: all {self.n_lanes} lanes are held by running requests")
            self._release_lane(lane)
            self._free_lanes.remove(lane)
            heapq.heapify(self._free_lanes)
        circuits = []
        for side, x in enumerate(key):
            request = self.switch.connect(x, self.lane_port(lane, side))
            if not request.granted:
                raise RuntimeError(f"switch refused circuit {x}-lane{lane}: {request.reason}")
            circuits.append(request.circuit)
        self._lane_pair[lane] = key
        self._lane_circuits[lane] = tuple(circuits)
        self._lane_of[key] = lane
        self._node_lane[key[0]] = self._node_lane[key[1]] = lane
        for circuit in circuits:
            if circuit.state != "ready":
                yield circuit.ready_event
        return lane

    def hold_lane(self, a: int, b: int):
        """:meth:`lane`, then mark the lane held until :meth:`unhold_lane` (a generator).

        A held lane is never torn down by a :meth:`lane` call for another pair. Holds are
        counted (a lane may be held more than once by the same pair).
        """
        lane = yield from self.lane(a, b)
        self._lane_holds[lane] = self._lane_holds.get(lane, 0) + 1
        return lane

    def unhold_lane(self, lane: int) -> None:
        """Release one hold of ``lane`` (its circuits stay joined for lazy reuse)."""
        count = self._lane_holds.get(lane, 0)
        if count <= 0:
            raise RuntimeError(f"lane {lane} is not held")
        if count == 1:
            del self._lane_holds[lane]
        else:
            self._lane_holds[lane] = count - 1

    def held_lanes(self) -> int:
        """Lanes held by running requests."""
        return len(self._lane_holds)

    def lane_pairs(self) -> dict[int, tuple[int, int]]:
        """The QPU pair joined to each lane that has circuits (held or not)."""
        return {i: p for i, p in enumerate(self._lane_pair) if p is not None}

    def _release_lane(self, lane: int) -> None:
        pair = self._lane_pair[lane]
        if pair is None:
            return
        for circuit in self._lane_circuits[lane] or ():
            self.switch.release(circuit)
        self._lane_pair[lane] = None
        self._lane_circuits[lane] = None
        del self._lane_of[pair]
        for x in pair:
            if self._node_lane.get(x) == lane:
                del self._node_lane[x]
        heapq.heappush(self._free_lanes, lane)

    def free_lanes(self) -> int:
        """Lanes the switch can give a new QPU pair now: those not held by a running request
        (circuits of finished requests are reused lazily, or torn down when needed)."""
        return self.n_lanes - len(self._lane_holds)

    # -- memories ---------------------------------------------------------------------------
    def free_slots(self, node: int) -> list[int]:
        return self.qpus[node].comm.free_slots()

    def access(self, node: int, slot: int) -> Any:
        return self.qpus[node].comm.access(slot)

    def free(self, node: int, slot: int) -> None:
        """Discard the communication qubit in ``slot`` of ``node`` if there is one."""
        memory = self.qpus[node].comm
        if memory.is_occupied(slot):
            memory.discard(slot)

    def held_qubits(self) -> int:
        """Occupied slots in all memories (for invariant checks)."""
        total = 0
        for qpu in self.qpus:
            total += len(qpu.comm.occupied_slots())
            if qpu.data is not None:
                total += len(qpu.data.occupied_slots())
        if self.hub_memory is not None:
            total += len(self.hub_memory.comm.occupied_slots())
        return total

    # -- HubServices -------------------------------------------------------------------------
    def attempt_cap(self, a: int, b: int) -> tuple[int, str]:
        """Parallel attempts the free resources allow, and the first binding resource."""
        best_value = min(self.qpus[a].comm.n_free_slots, self.qpus[b].comm.n_free_slots)
        best_name = "comm_qubits"
        joined = ((a, b) if a < b else (b, a)) in self._lane_of  # its own (held) lane counts
        lanes_ok = joined or self.free_lanes() > 0
        others: list[tuple[str, int]] = [("switch_circuits", 10**9 if lanes_ok else 0)]
        n_free = getattr(self.generation, "n_free_devices", None)
        if self.scheme == "detection_in_hub":
            others.append(("bsm_stations", n_free("bsm") if n_free is not None
                           else len(self.generation.free_devices("bsm"))))
        elif self.scheme == "source_in_hub":
            others.append(("sources", n_free("source") if n_free is not None
                           else len(self.generation.free_devices("source"))))
        else:
            self.generation.expire_legs(a, b)  # legs past the cutoff free their memories first
            free_hub = len(self.hub_memory.comm.free_slots()) if self.hub_memory is not None else 0
            others.append(("hub_memory_slots", free_hub // 2))
        for name, value in others:
            if value < best_value:
                best_value, best_name = value, name
        return best_value, best_name

    def p_success(self, a: int, b: int) -> float:
        return self.generation.p_success(a, b)

    def link_round(self, a: int, b: int, k: int):
        return self.generation.round(a, b, k)

    @property
    def link_rounds(self):
        """``link_rounds(a, b, k, max_rounds)``: rounds until the first herald with failed
        rounds skipped (sampled mode, not ``hub_memory_swap``); None where unavailable."""
        gen = self.generation
        return gen.rounds if getattr(gen, "can_skip", lambda: False)() else None

    def link_block(self, a: int, b: int, *, rounds: int | None = None,
                   until_ns: float | None = None, k: int | None = None):
        """Back-to-back rounds between QPUs ``a`` and ``b``, every pair used at delivery
        (a generator for ``yield from``; returns a :class:`protocols.link_block.PairBlock`).

        Each round has ``k`` parallel attempts; each heralded pair is handed over at the
        herald, corrected, read (its state and fidelity at that instant, from the
        simulated state) and its slots freed; the next round starts as soon as the QPUs
        are ready. The sampled mode plays a ``detection_in_hub`` or ``source_in_hub``
        block in one step, with
        the same pairs as one round at a time (:mod:`protocols.link_block`).

        Parameters
        ----------
        a, b : int
            Two different QPU indices in ``[0, n_qpus)``.
        rounds : int, optional
            Rounds to play (>= 0).
        until_ns : float, optional
            Start rounds only while they end by this time (ns, >= now; inf only with
            ``rounds``). At least one of ``rounds`` and ``until_ns`` is needed.
        k : int, optional
            Attempts per round, in ``[1, attempt_cap]`` (default the cap: the free
            communication slots, BSM stations / sources, lanes, :meth:`attempt_cap`).

        Raises
        ------
        UserInputError
            Naming the option, its value and the allowed range.
        """
        for name, x in (("a", a), ("b", b)):
            check_count(name, x, high=self.n_qpus - 1)
        if a == b:
            raise UserInputError(f"link_block: a = b = {a}; a link needs two different QPUs")
        n_rounds, until, k = check_block_arguments(rounds, until_ns, k, now_ns=self.sim.now_ns)
        return self._link_block(*sorted((a, b)), rounds=n_rounds, until_ns=until, k=k)

    def _link_block(self, a: int, b: int, *, rounds: int | None, until_ns: float,
                    k: int | None):
        lane = yield from self.hold_lane(a, b)
        try:
            attempts = check_attempts(k, cap=self.attempt_cap(a, b)[0])
            gen = self.generation
            if getattr(gen, "can_block", lambda: False)():
                block = yield from gen.block(a, b, k=attempts, rounds=rounds, until_ns=until_ns)
            else:
                block = yield from consume_rounds(self, a, b, k=attempts, rounds=rounds,
                                                  until_ns=until_ns)
        finally:
            self.unhold_lane(lane)
        return block

    def release_request(self, a: int, b: int) -> None:
        self.generation.release_request(a, b)

    def wait_ready(self, a: int, b: int):
        """Wait until QPUs ``a`` and ``b`` may start a round: their emitters' reset and the
        detectors' dead time after their previous round (a generator for ``yield from``;
        :meth:`protocols.generation_base._Base.wait_ready`)."""
        return self.generation.wait_ready(a, b)

    def discard_pair(self, pair: PairHandle, reason: str) -> None:
        self.free(pair.node_a, pair.slot_a)
        self.free(pair.node_b, pair.slot_b)

    def execute(self, request: Request, pair: PairHandle):
        if request.kind == "cnot":
            return teleported_cnot(self, request, pair)
        return teleport_state(self, request, pair)

    def fidelity_estimate(self, pair: PairHandle, now_ns: float) -> float:
        """Classical estimate ``1/4 + (F0 - 1/4) exp(-age (1/T2_a + 1/T2_b))`` (eviction ranking)."""
        rate = (1.0 / self.qpus[pair.node_a].comm.params.t2_ns
                + 1.0 / self.qpus[pair.node_b].comm.params.t2_ns)
        return 0.25 + (pair.fidelity_estimate - 0.25) * math.exp(-pair.age_ns(now_ns) * rate)

    # -- inspection ---------------------------------------------------------------------------
    def components(self) -> dict[str, Any]:
        """Every device instance by full name (QPUs, memories, fibres, switch, stations, ...)."""
        out: dict[str, Any] = {}

        def walk(component: Any) -> None:
            out[component.full_name] = component
            for child in component.subcomponents.values():
                walk(child)

        for top in (self.hub_node, *self.qpus, *self.links, *self.classical):
            walk(top)
        return out

    def counters(self) -> dict[str, dict[str, int]]:
        """``counters()`` of every device that has them, by full name."""
        return {name: c.counters() for name, c in self.components().items() if hasattr(c, "counters")}


def build_hub_network(
    sim: Simulation,
    *,
    nodes: Sequence[QpuSpec],
    hub: HubSpec,
    scheme: str = "detection_in_hub",
    link_mode: str = "sampled",
    leg_cutoff_ns: float = math.inf,
) -> HubNetwork:
    """A ready-to-use :class:`HubNetwork` on ``sim``.

    Drive it with an orchestrator (:func:`run_policy`) or with your own protocol (e.g.
    continuous generation with ``yield from net.link_round(a, b, k)``,
    ``benchmarks/bench_two_node_link.py``).
    """
    return HubNetwork(sim, nodes=nodes, hub=hub, scheme=scheme, link_mode=link_mode,
                      leg_cutoff_ns=leg_cutoff_ns)


def run_policy(
    *,
    nodes: Sequence[QpuSpec],
    hub: HubSpec,
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
    leg_cutoff_ns: float = math.inf,
    reclaim: bool = True,
    pregenerate: bool = False,
    pregeneration_budget_qubits: int | None = None,
    demand_half_life_ns: float = DEFAULT_HALF_LIFE_NS,
    max_spares_total: int | None = None,
    max_spares_per_qpu: int | None = None,
) -> tuple[list[RequestRecord], HubNetwork, Orchestrator]:
    """Build the network, run one policy over ``requests`` and return the records.

    The network's random streams are children of ``seed`` by stable names, so the same
    arguments give identical records. ``reclaim``, ``pregenerate``,
    ``pregeneration_budget_qubits`` and ``demand_half_life_ns`` go to the
    :class:`~protocols.orchestrator.Orchestrator`, ``max_spares_total`` and
    ``max_spares_per_qpu`` (the cache's memory budget) to the
    :class:`~protocols.cache.EbitCache`; their defaults keep the paper's opportunistic cache.
    """
    sim = Simulation(seed=seed)
    net = build_hub_network(sim, nodes=nodes, hub=hub, scheme=scheme, link_mode=link_mode,
                            leg_cutoff_ns=leg_cutoff_ns)
    round_policy = make_policy(policy, n_qpus=net.n_qpus, rounds=rounds, kappa=kappa,
                               k_min=k_min, cache=cache)
    ebit_cache = EbitCache(
        capacity=cache_capacity, cutoff_ns=cutoff_ns, eviction=eviction,
        fidelity_estimate=net.fidelity_estimate, on_discard=net.discard_pair,
        max_spares_total=max_spares_total, max_spares_per_qpu=max_spares_per_qpu,
    )
    orchestrator = Orchestrator(sim, services=net, policy=round_policy, requests=requests,
                                cache=ebit_cache, reclaim=reclaim, pregenerate=pregenerate,
                                pregeneration_budget_qubits=pregeneration_budget_qubits,
                                demand_half_life_ns=demand_half_life_ns)
    orchestrator.start()
    sim.run()
    return orchestrator.records, net, orchestrator


# the BSM outcome labels' Bell indices, re-exported for the protocols
BELL_INDICES = BELL_INDEX
