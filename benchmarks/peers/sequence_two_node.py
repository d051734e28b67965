"""SeQUeNCe side of the two-node peer benchmark (run with SeQUeNCe's own interpreter).

The task (identical in every simulator of ``benchmarks/bench_peers.py``): two quantum routers,
each joined by 10 km of fibre at 0.2 dB/km to a middle BSM node; 10 memories per router;
memory (emission) efficiency 1; detector efficiency 0.9, no dark counts, dead time 10 ps
(``count_rate`` 1e11 Hz, i.e. none in effect); coherence time (T2) 1 s; 1 s of network time of
continuous generation: a ``RequestApp``-style application frees every delivered pair as soon as
both ends hold it (``resource_manager.update(..., "RAW")``), so the memories are reused.

Formalisms (``--formalism``):

``ket``
    Ket vectors with Barrett-Kok (double click, two rounds) generation through a
    ``SingleAtomBSM``; the closed-form per-attempt success is ``eta_A eta_B / 2`` with
    ``eta = 10**(-0.2 * 10 / 10) * 0.9`` (Barrett & Kok, Phys. Rev. A 71, 060310(R) (2005)).
    SeQUeNCe's ket memories do not decohere while stored (the coherence time only schedules
    expiry), so their delivered fidelity is 1.
``bds``
    Bell-diagonal states with SeQUeNCe's ``single_heralded`` generation through a
    ``SingleHeraldedBSM`` (both photons must arrive and be detected, times a linear-optics BSM
    success of 1/2: the same ``eta_A eta_B / 2``); storage decoherence is a pure-dephasing
    Pauli channel (``decoherence_errors = [0, 0, 1]``) whose Z rate ``1 / (2 T2)`` damps each
    qubit's coherence as ``exp(-t/T2)`` (SeQUeNCe's coherence time is therefore ``2 T2``, its
    expiry cutoff kept at ``T2``), applied by SeQUeNCe's ``Memory.bds_decohere`` at
    generation and again here at delivery.

Printed: one JSON line with ``simulator, formalism, version, pairs, attempts, sim_s, wall_s,
events, mean_fidelity`` (the fidelity of the actual delivered state with Phi+, read from the
quantum manager, not SeQUeNCe's ``memory.fidelity`` label). ``attempts`` counts the
generation-protocol instances on ``router_0`` that ended in success or failure. ``wall_s``
times ``Timeline.run`` only (building the topology is excluded, as in the project's bench).

Units follow SeQUeNCe: distances in m, attenuation in dB/m, times in ps, coherence time in s.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from importlib.metadata import version

import numpy as np
from sequence.app.request_app import RequestApp
from sequence.constants import BARRET_KOK, SINGLE_HERALDED
from sequence.entanglement_management.generation import (
    EntanglementGenerationA,
    EntanglementGenerationB,
)
from sequence.topology.router_net_topo import RouterNetTopo

FIBRE_M = 10_000.0
ATTENUATION_DB_PER_M = 0.2e-3
DETECTOR_EFFICIENCY = 0.9
SLOTS = 10
T2_S = 1.0
FIBRE_DELAY_PS = int(FIBRE_M / 2e-4)  # light in fibre at 2e8 m/s (SeQUeNCe's SPEED_OF_LIGHT)
START_PS = 10**9  # reservation settles within ~0.2 ms; generation starts at 1 ms
PHI_PLUS = np.array([1.0, 0.0, 0.0, 1.0]) / math.sqrt(2.0)


def config(formalism: str, seed: int) -> dict:
    """The RouterNetTopo JSON configuration of the two-node task."""
    detector = {"efficiency": DETECTOR_EFFICIENCY, "dark_count": 0, "time_resolution": 150,
                "count_rate": 1e11}
    memory = {"frequency": 8e7, "coherence_time": T2_S, "efficiency": 1.0, "fidelity": 1.0}
    if formalism == "bds":
        # a Z error at rate r damps the coherence as exp(-2 r t) (SeQUeNCe's Pauli-channel
        # solution), so T2 = 1 s needs r = 1 / (2 T2): coherence time 2 T2, expiry kept at T2
        memory.update(coherence_time=2 * T2_S, cutoff_ratio=0.5, decoherence_errors=[0.0, 0.0, 1.0])
        bsm = {"encoding_type": "single_heralded",
               "SingleHeraldedBSM": {"detectors": [dict(detector), dict(detector)]}}
    else:
        bsm = {"encoding_type": "single_atom",
               "SingleAtomBSM": {"detectors": [dict(detector), dict(detector)]}}
    routers = ["router_0", "router_1"]
    mid = "BSM_router_0_router_1"
    cchannels = []
    for r in routers:
        cchannels.append({"source": r, "destination": mid, "delay": FIBRE_DELAY_PS})
        cchannels.append({"source": mid, "destination": r, "delay": FIBRE_DELAY_PS})
    cchannels.append({"source": routers[0], "destination": routers[1], "delay": 2 * FIBRE_DELAY_PS})
    cchannels.append({"source": routers[1], "destination": routers[0], "delay": 2 * FIBRE_DELAY_PS})
    return {
        "templates": {"router": {"MemoryArray": memory}, "bsm": bsm},
        "nodes": [
            {"name": routers[0], "type": "QuantumRouter", "seed": seed, "memo_size": SLOTS,
             "template": "router"},
            {"name": routers[1], "type": "QuantumRouter", "seed": seed + 1, "memo_size": SLOTS,
             "template": "router"},
            {"name": mid, "type": "BSMNode", "seed": seed + 2, "template": "bsm"},
        ],
        "qchannels": [{"source": r, "destination": mid, "distance": FIBRE_M,
                       "attenuation": ATTENUATION_DB_PER_M} for r in routers],
        "cchannels": cchannels,
        "formalism": "bell_diagonal" if formalism == "bds" else "ket_vector",
        "stop_time": START_PS + 10**12,
    }


class CountingApp(RequestApp):
    """``RequestApp`` that frees a pair once both ends hold it, recording its actual fidelity.

    SeQUeNCe hands each end its memory separately; Barrett-Kok's Pauli correction on the
    primary end may run after the other end already has its memory, so a pair is read (and
    both memories freed) when the second end receives it. ``pending`` is shared by the two
    ends' apps; ``fidelities`` collects one entry per delivered pair.
    """

    def __init__(self, node, formalism: str, pending: dict, fidelities: list[float]) -> None:
        super().__init__(node)
        self.formalism = formalism
        self.pending = pending
        self.fidelities = fidelities

    def get_memory(self, info) -> None:
        if info.state != "ENTANGLED" or info.index not in self.memo_to_reservation:
            return
        memory = info.memory
        key = tuple(sorted((memory.name, memory.entangled_memory["memo_id"])))
        other = self.pending.pop(key, None)
        if other is None:
            self.pending[key] = (self, memory)
            return
        other_app, other_memory = other
        self.fidelities.append(self._fidelity(memory, other_memory))
        self.node.resource_manager.update(None, memory, "RAW")
        other_app.node.resource_manager.update(None, other_memory, "RAW")

    def _fidelity(self, memory, other_memory) -> float:
        qm = self.node.timeline.quantum_manager
        if self.formalism == "bds":
            memory.bds_decohere()
            other_memory.bds_decohere()
            return float(qm.get(memory.qstate_key).state[0])
        state = qm.get(memory.qstate_key)
        if sorted(state.keys) != sorted((memory.qstate_key, other_memory.qstate_key)):
            raise RuntimeError(f"delivered state spans keys {state.keys}, expected the pair")
        ket = np.asarray(state.state, dtype=complex)
        return float(abs(np.vdot(PHI_PLUS, ket)) ** 2)


def count_attempts(node_name: str) -> dict[str, int]:
    """Wrap the generation protocols' end hooks to count attempts that end on ``node_name``."""
    counts = {"success": 0, "failure": 0}
    for protocol_class in {EntanglementGenerationA._registry[BARRET_KOK],
                           EntanglementGenerationA._registry[SINGLE_HERALDED]}:
        for hook, key in (("_entanglement_succeed", "success"), ("_entanglement_fail", "failure")):
            original = getattr(protocol_class, hook)

            def wrapped(self, _original=original, _key=key):
                if self.owner.name == node_name:
                    counts[_key] += 1
                return _original(self)

            setattr(protocol_class, hook, wrapped)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formalism", choices=("ket", "bds"), required=True)
    parser.add_argument("--sim-s", type=float, default=1.0, help="network time in seconds")
    parser.add_argument("--seed", type=int, default=20240611)
    args = parser.parse_args(argv)
    protocol = SINGLE_HERALDED if args.formalism == "bds" else BARRET_KOK
    EntanglementGenerationA.set_global_type(protocol)
    EntanglementGenerationB.set_global_type(protocol)
    counts = count_attempts("router_0")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(config(args.formalism, args.seed), fh)
    try:
        topo = RouterNetTopo(fh.name)
    finally:
        os.unlink(fh.name)
    tl = topo.get_timeline()
    end_ps = START_PS + int(args.sim_s * 1e12)
    tl.stop_time = end_ps
    pending: dict = {}
    fids: list[float] = []
    apps = {r.name: CountingApp(r, args.formalism, pending, fids)
            for r in topo.get_nodes_by_type(RouterNetTopo.QUANTUM_ROUTER)}
    tl.init()
    apps["router_0"].start(responder="router_1", start_t=START_PS, end_t=end_ps,
                           memo_size=SLOTS, fidelity=0.5)
    start = time.perf_counter()
    tl.run()
    wall = time.perf_counter() - start
    print(json.dumps({
        "simulator": "sequence", "formalism": args.formalism, "version": version("sequence"),
        "pairs": len(fids),
        "attempts": counts["success"] + counts["failure"],
        "sim_s": args.sim_s, "seed": args.seed, "wall_s": wall, "events": tl.run_counter,
        "mean_fidelity": float(np.mean(fids)) if fids else None,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
