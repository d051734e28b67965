"""SimQN (``qns``) side of the two-node peer benchmark (run with SimQN's own interpreter).

The task (identical in every simulator of ``benchmarks/bench_peers.py``): two memory nodes
``a`` and ``b``, each joined by 10 km of fibre at 0.2 dB/km to a middle BSM node ``m``; 10
memory slots per node; detector efficiency 0.9, no dark counts; T2 = 1 s; double-click
heralding with per-attempt success ``eta_A eta_B / 2``, ``eta = 10**(-0.2 * 10 / 10) * 0.9``
(Barrett & Kok, Phys. Rev. A 71, 060310(R) (2005)); 1 s of network time of continuous
generation, every delivered pair read and its slots freed at once.

SimQN ships no BSM, detector or Barrett-Kok protocol, so this script builds them from SimQN's
entities (``QNode`` + ``Application``, ``QuantumChannel`` with ``drop_rate`` = fibre loss and a
50 us delay, ``ClassicChannel`` with a 50 us delay, ``QuantumMemory`` with 10 slots) the way a
SimQN user would. Rounds as in the project's bench: every 100.01 us (flight 50 us, window
10 ns, herald 50 us) each node starts one attempt per slot (K = 10); the middle node closes each
round's window, applies the detector efficiency to every arrived photon (one uniform draw per
photon), and heralds the attempts in which both photons were detected and the linear-optics
Bell measurement succeeded; the herald reaches both ends, which free failed slots, deliver the
heralded pairs (read both memories, apply the Pauli correction, record the fidelity with
Phi+) and start the next round.

Models (``--model``):

``dm``
    Density matrices: each attempt entangles a memory qubit with a photon qubit
    (``H`` then ``CNOT``, i.e. Phi+), the photon travels through the lossy channel, the middle
    node performs the Bell measurement on the two photon qubits (``CNOT``, ``H``, two Z
    measurements) and accepts only the outcomes Psi+ and Psi- (what a linear-optics BSM
    distinguishes: success 1/2, Calsamiglia & Luetkenhaus, Appl. Phys. B 72, 67 (2001)).
    Storage is SimQN's ``DephaseStorageErrorModel`` (Z with probability ``1 - exp(-r t)``) with
    ``r = 1 / (2 T2)``, so each qubit's coherence decays as ``exp(-t/T2)`` to first order.
``werner``
    Werner-pair objects: each attempt is a ``WernerStateEntanglement(fidelity=1)`` (memory plus
    photon) sent through the channel; the middle node's Bell measurement succeeds with
    probability 1/2 (one uniform draw) and calls ``swapping``; the ends apply SimQN's Werner
    storage model ``w -> w exp(-t / T2)`` once per stored half for the time since emission.

Printed: one JSON line with ``simulator, model, version, pairs, attempts, sim_s, wall_s,
events, mean_fidelity``. ``wall_s`` times ``Simulator.run`` only.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from importlib.metadata import version

import numpy as np
from qns.entity.cchannel.cchannel import ClassicChannel, ClassicPacket, RecvClassicPacket
from qns.entity.memory.memory import QuantumMemory
from qns.entity.node.app import Application
from qns.entity.node.node import QNode
from qns.entity.qchannel.qchannel import QuantumChannel, RecvQubitPacket
from qns.models.epr.werner import WernerStateEntanglement
from qns.models.qubit.decoherence import DephaseStorageErrorModel
from qns.models.qubit.factory import QubitFactory
from qns.models.qubit.gate import CNOT, H, X, Z
from qns.models.qubit.qubit import Qubit
from qns.simulator.event import func_to_event
from qns.simulator.simulator import Simulator
from qns.utils.rnd import get_rand, set_seed

FIBRE_M = 10_000.0
ATTENUATION_DB_PER_KM = 0.2
DETECTOR_EFFICIENCY = 0.9
SLOTS = 10
T2_S = 1.0
FLIGHT_S = 50e-6  # 10 km at 2e8 m/s
WINDOW_S = 10e-9
ROUND_S = 2 * FLIGHT_S + WINDOW_S
FIBRE_TRANSMISSION = 10.0 ** (-ATTENUATION_DB_PER_KM * FIBRE_M / 1e3 / 10.0)
PHI_PLUS = np.array([1.0, 0.0, 0.0, 1.0]) / math.sqrt(2.0)
ACCURACY = 10**9  # time slots per second (ns)


class Tally:
    """What both ends saw: attempts, pairs (fidelities), and the halves waiting for a partner."""

    def __init__(self) -> None:
        self.attempts = 0
        self.rounds = 0
        self.fidelities: list[float] = []
        self.waiting: dict = {}
        self.werner_pairs: dict = {}  # (round, slot) -> the swapped WernerStateEntanglement


class EndApp(Application):
    """An end node: starts a round of K attempts when the previous round's herald arrives."""

    def __init__(self, *, model: str, middle: QNode, tally: Tally, until_s: float,
                 corrects: bool) -> None:
        super().__init__()
        self.model = model
        self.middle = middle
        self.tally = tally
        self.until_s = until_s
        self.corrects = corrects  # node b applies the Pauli correction
        self.round = 0
        self.in_flight: dict = {}  # (round, slot) -> (memory key, emission time in s)
        self.factory = QubitFactory(store_error_model=DephaseStorageErrorModel)
        self.add_handler(self.on_herald, [RecvClassicPacket])

    def install(self, node, simulator: Simulator) -> None:
        super().install(node, simulator)
        self.memory = node.memories[0]
        self.qchannel = node.get_qchannel(self.middle)
        simulator.add_event(func_to_event(simulator.ts, self.start_round, by=self))

    def start_round(self) -> None:
        sim = self._simulator
        now_s = sim.tc.sec
        if now_s + ROUND_S > self.until_s + 1e-12:
            return
        self.round += 1
        for slot in range(SLOTS):
            name = f"{self._node.name}:{self.round}:{slot}"
            if self.model == "dm":
                mem = self.factory(name=name)
                photon = Qubit(name=name)
                H(mem)
                CNOT(mem, photon)
            else:
                mem = photon = WernerStateEntanglement(fidelity=1.0, name=name)
            self.memory.write(mem)
            self.in_flight[(self.round, slot)] = (mem, now_s)
            self.qchannel.send(photon, self.middle)
        if self._node.name == "a":
            self.tally.attempts += SLOTS
            self.tally.rounds += 1

    def on_herald(self, node, event) -> bool:
        # the herald is JSON: [[round, slot, outcome], ...]; Werner pairs are shared by key
        heralds = {(rnd, slot): outcome for rnd, slot, outcome in event.packet.get()}
        now_s = self._simulator.tc.sec
        for key, (mem, t_emit) in list(self.in_flight.items()):
            del self.in_flight[key]
            outcome = heralds.get(key)
            stored = self.memory.read(mem)  # applies SimQN's storage model (dm)
            if outcome is None:
                continue
            if self.model == "dm":
                if self.corrects:
                    X(stored)
                    if outcome == 1:
                        Z(stored)
                half = stored
            else:
                pair = self.tally.werner_pairs[key]
                pair.store_error_model(t=now_s - t_emit, decoherence_rate=1.0 / T2_S)
                half = pair
            other = self.tally.waiting.pop(key, None)
            if other is None:
                self.tally.waiting[key] = half
            else:
                self.tally.fidelities.append(fidelity(self.model, half))
                self.tally.werner_pairs.pop(key, None)
        self.start_round()
        return True


def fidelity(model: str, half) -> float:
    """Fidelity with Phi+ of the delivered pair (``half``: one of its qubits, or the pair)."""
    if model == "werner":
        return float(half.fidelity)
    state = half.state
    if state.num != 2:
        raise RuntimeError(f"delivered state spans {state.num} qubits, expected 2")
    return float(np.real(PHI_PLUS @ state.rho @ PHI_PLUS))


class MiddleApp(Application):
    """The BSM node: collects each round's photons, closes the window, heralds both ends."""

    def __init__(self, *, model: str, ends: list[QNode], tally: Tally) -> None:
        super().__init__()
        self.model = model
        self.tally = tally
        self.ends = ends
        self.arrived: dict = {}  # (round, slot) -> {end name: photon}
        self.window_open = False
        self.add_handler(self.on_photon, [RecvQubitPacket])

    def on_photon(self, node, event) -> bool:
        photon = event.qubit
        end, rnd, slot = photon.name.split(":")
        self.arrived.setdefault((int(rnd), int(slot)), {})[end] = photon
        if not self.window_open:
            self.window_open = True
            t_close = self._simulator.tc + self._simulator.time(sec=WINDOW_S)
            self._simulator.add_event(func_to_event(t_close, self.close_window, by=self))
        return True

    def close_window(self) -> None:
        heralds = []
        for key, photons in self.arrived.items():
            if len(photons) != 2:
                continue
            if get_rand() >= DETECTOR_EFFICIENCY or get_rand() >= DETECTOR_EFFICIENCY:
                continue
            pa, pb = photons["a"], photons["b"]
            if self.model == "dm":
                CNOT(pa, pb)
                H(pa)
                sign, parity = pa.measure(), pb.measure()
                if parity == 1:  # Psi+ (sign 0) or Psi-: the outcomes linear optics heralds
                    heralds.append([*key, sign])
            elif get_rand() < 0.5:
                self.tally.werner_pairs[key] = pa.swapping(pb)
                heralds.append([*key, 0])
        self.arrived = {}
        self.window_open = False
        for end in self.ends:
            self._node.get_cchannel(end).send(ClassicPacket(heralds, src=self._node, dest=end), end)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("dm", "werner"), required=True)
    parser.add_argument("--sim-s", type=float, default=1.0, help="network time in seconds")
    parser.add_argument("--seed", type=int, default=20240611)
    args = parser.parse_args(argv)
    set_seed(args.seed)
    sim = Simulator(0.0, args.sim_s + 1e-3, accuracy=ACCURACY)
    tally = Tally()
    middle = QNode("m")
    ends = [QNode("a"), QNode("b")]
    middle.add_apps(MiddleApp(model=args.model, ends=ends, tally=tally))
    for end in ends:
        rate = 1.0 / (2.0 * T2_S) if args.model == "dm" else 0.0
        end.add_memory(QuantumMemory(f"{end.name}.memory", capacity=SLOTS, decoherence_rate=rate))
        qc = QuantumChannel(f"qc-{end.name}", delay=FLIGHT_S, drop_rate=1.0 - FIBRE_TRANSMISSION,
                            length=FIBRE_M, bandwidth=0)
        cc = ClassicChannel(f"cc-{end.name}", delay=FLIGHT_S, length=FIBRE_M)
        for channel_owner in (end, middle):
            channel_owner.add_qchannel(qc)
            channel_owner.add_cchannel(cc)
        end.add_apps(EndApp(model=args.model, middle=middle, tally=tally, until_s=args.sim_s,
                            corrects=end.name == "b"))
    for node in (middle, *ends):
        node.install(sim)
    start = time.perf_counter()
    sim.run()
    wall = time.perf_counter() - start
    fids = tally.fidelities
    print(json.dumps({
        "simulator": "qns", "model": args.model, "version": version("qns"),
        "pairs": len(fids), "attempts": tally.attempts, "rounds": tally.rounds,
        "sim_s": args.sim_s, "seed": args.seed, "wall_s": wall, "events": sim.total_events,
        "mean_fidelity": float(np.mean(fids)) if fids else None,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
