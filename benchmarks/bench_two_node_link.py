"""Two-node link benchmark: continuous heralded generation in both link modes.

What it measures
----------------
Two memory nodes (QPUs), each joined by 10 km of 0.2 dB/km fibre to a middle BSM station
(the hub, scheme ``detection_in_hub``, switch loss 0 dB, no reconfiguration time), memory
(emission) efficiency 1, detector efficiency 0.9, 10 communication slots per node,
double-click (Barrett-Kok) heralding, T2 = 1 s (T1 = inf), Hong-Ou-Mandel visibility V = 1
(not given by the issue: ideal; ``HOM_VISIBILITY`` below). A generator protocol
(:class:`ContinuousLink`) keeps the link busy for ``SIM_NS`` = 1 s of network time: each round
it launches K = 10 parallel attempts (one per free slot pair, ``HubNetwork.attempt_cap``),
waits for the heralds, and for every heralded pair waits for its Pauli correction, reads the
fidelity of the *actual* two-qubit density matrix with Phi+ (storage noise applied at that
access), frees both slots and loops. A round lasts flight 50 us + window 10 ns + herald 50 us,
so 9,999 rounds fit in 1 s. ``--api block`` (the sampled mode's default) runs the same task as
one :meth:`HubNetwork.link_block` (:class:`BlockLink`): the same rounds, every pair used at
delivery; in the sampled mode the same pairs as one round at a time, played in one step
(``tests/link_block`` checks the equality), its states simulated once per distinct history.

Printed per link mode (``detailed``: every attempt simulated through the components, a round
of K attempts as one array step, states built only for heralds; ``sampled``: heralds drawn
from the closed-form law): rounds, attempts, delivered pairs, the
measured per-attempt success ``p_hat`` with its standard error, the closed form
``p = eta_A eta_B / 2`` with ``eta = 10**(-0.2 * 10 / 10) * 0.9 * 1`` (times the switch
transmission, 1 here), ``z = (p_hat - p) / SE``; the mean fidelity of the delivered states and
its closed form ``F = (1 + V exp(-t_A/T2 - t_B/T2)) / 2`` for the storage times ``t`` of the
two halves (emission to delivery, 100.01 us), with ``F0 = (1 + V) / 2`` at zero storage; the
SimPy events executed; wall seconds; pairs per wall second; and the speed ratio sampled /
detailed in pairs per wall second (the named baseline is the detailed mode, same run).

Checks (exit status 1 if any fails): ``|z| < 5`` for ``p`` in each mode, the network's own
link budget equals the closed form above, and the mean delivered fidelity matches its closed
form (``|z| < 5``, or within 1e-9 when every delivered state has the same fidelity).

The detailed mode simulates the full 1 s too (about 2 s of CPU time on one core here; it was
13 s with every photon as a message), so both modes use the same network time (``SIM_NS``).

Run: ``.venv/bin/python benchmarks/bench_two_node_link.py [--mode detailed|sampled]
[--api rounds|block] [--json]``.
``--mode`` (repeatable; default both, detailed first) picks the link modes; ``--json`` prints
exactly one JSON object per mode, one line each and nothing else, with the keys ``mode, api, pairs,
attempts, rounds, wall_s, events, mean_fidelity, p_closed_form`` plus ``sim_ns, seed, p_hat,
p_se, p_z, fidelity_closed_form, pairs_per_wall_s, events_per_pair, events_per_wall_s,
failures`` (``benchmarks/bench_peers.py`` reads these lines).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import sys
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from hardware_models import (
    BsmParams,
    DetectorParams,
    FibreParams,
    MemoryParams,
    QpuParams,
    double_click_success_probability,
    fibre_transmission,
)
from modenhub_net import Simulation
from modenhub_net.network.builder import HubNetwork, build_hub_network
from modenhub_net.network.spec import HubSpec, QpuSpec
from modenhub_net.protocol import Protocol
from protocols import qops

FIBRE_KM = 10.0
ATTENUATION_DB_PER_KM = 0.2
EMISSION_EFFICIENCY = 1.0
DETECTOR_EFFICIENCY = 0.9
SLOTS = 10
T1_NS = math.inf
T2_NS = 1e9
HOM_VISIBILITY = 1.0
SWITCH_LOSS_DB = 0.0
SIM_NS = {"detailed": 1e9, "sampled": 1e9}
SEED = 20240611
Z_MAX = 5.0


def hardware() -> tuple[list[QpuSpec], HubSpec]:
    """The two QPUs and the middle station (K = 10 attempts fit every round), as device params."""
    node = QpuSpec(
        fibre=FibreParams(length_km=FIBRE_KM, attenuation_db_per_km=ATTENUATION_DB_PER_KM),
        memory=MemoryParams(t1_ns=T1_NS, t2_ns=T2_NS, emission_efficiency=EMISSION_EFFICIENCY),
        qpu=QpuParams(n_comm_qubits=SLOTS, n_data_qubits=1),
    )
    detector = DetectorParams(efficiency=DETECTOR_EFFICIENCY, dark_count_rate_hz=0.0,
                              window_ns=10.0, dead_time_ns=0.0)
    hub = HubSpec(
        bsm=BsmParams(scheme="double_click", visibility=HOM_VISIBILITY, detector=detector,
                      coincidence_window_ns=10.0),
        sources=1, bsm_stations=SLOTS, memory_slots=0, max_circuits=2 * SLOTS,
    )
    return [node, node], hub


def closed_form_p(hub: HubSpec) -> float:
    """Double-click herald probability of the BSM station's closed form
    (:func:`hardware_models.double_click_success_probability`, ``eta_A eta_B eta_d^2 / 2``
    without dark counts; Barrett & Kok, PRA 71, 060310 (2005)) for fibre transmission
    ``10**(-alpha L / 10)`` and emission efficiency ``EMISSION_EFFICIENCY`` (the switch is
    lossless here)."""
    node = hardware()[0][0]
    eta = fibre_transmission(node.fibre) * EMISSION_EFFICIENCY
    return double_click_success_probability(eta_a=eta, eta_b=eta, bsm=hub.bsm)


def bare_simpy_events_per_s(n_events: int = 200_000) -> float:
    """Events per wall second of a bare SimPy loop (one process, ``n_events`` timeouts)."""
    env = simpy.Environment()

    def loop() -> Generator[Any, Any, None]:
        for _ in range(n_events):
            yield env.timeout(1.0)

    env.process(loop())
    start = time.perf_counter()
    env.run()
    return n_events / (time.perf_counter() - start)


def closed_form_fidelity(storage_a_ns: Any, storage_b_ns: Any) -> Any:
    """``(1 + V exp(-t_A/T2 - t_B/T2)) / 2``: the heralded Bell-diagonal state, both halves dephased.

    The heralded state is ``(1+V)/2 Phi+ + (1-V)/2 Phi-`` (ARCHITECTURE.md §3); pure dephasing
    (T1 = inf) of each stored half multiplies its coherence ``V/2`` by ``exp(-t/T2)``. Floats
    (``math.exp``, cheap in the per-pair loop) or numpy arrays of storage times, ns.
    """
    exp = np.exp if isinstance(storage_a_ns, np.ndarray) else math.exp
    return 0.5 * (1.0 + HOM_VISIBILITY * exp(-storage_a_ns / T2_NS - storage_b_ns / T2_NS))


@dataclass
class LinkTally:
    """What the continuous generator saw."""

    rounds: int = 0
    attempts: int = 0
    fidelities: list[float] = field(default_factory=list)
    expected: list[float] = field(default_factory=list)
    storage_ns: list[float] = field(default_factory=list)


class ContinuousLink(Protocol):
    """Keeps QPUs 0 and 1 generating pairs until ``until_ns``; every pair is measured and freed.

    A round is launched only if it ends by ``until_ns`` (round timing is deterministic), so
    the event queue empties at or before ``until_ns``.
    """

    def __init__(self, sim: Simulation, net: HubNetwork, *, until_ns: float) -> None:
        super().__init__(sim, name="continuous_link")
        self.net = net
        self.until_ns = until_ns
        self.tally = LinkTally()

    def run(self) -> Generator[Any, Any, LinkTally]:
        net, sim, tally = self.net, self.sim, self.tally
        round_ns = net.budget(0, 1).attempt_period_ns
        while sim.now_ns + round_ns <= self.until_ns:
            k, _ = net.attempt_cap(0, 1)
            t_emit = sim.now_ns  # memory qubits are created at the round start
            outcome = yield from net.link_round(0, 1, k)
            tally.rounds += 1
            tally.attempts += outcome.attempts
            for pair in outcome.pairs:
                if pair.status == "pending":  # its correction is still on its way
                    yield net.corrections.wait_ready(pair)
                qa = net.access(pair.node_a, pair.slot_a)
                qb = net.access(pair.node_b, pair.slot_b)
                tally.fidelities.append(qops.pair_fidelity(qa, qb))
                age = sim.now_ns - t_emit
                tally.expected.append(closed_form_fidelity(age, age))
                tally.storage_ns.append(age)
                pair.mark("served")
                net.free(pair.node_a, pair.slot_a)
                net.free(pair.node_b, pair.slot_b)
        return tally


class BlockLink(ContinuousLink):
    """The same task through the multi-round API: one :meth:`HubNetwork.link_block` until
    ``until_ns`` (rounds that end by then), every pair used at delivery, its fidelity read
    from its simulated state at that instant (:class:`protocols.link_block.PairBlock`)."""

    def run(self) -> Generator[Any, Any, LinkTally]:
        block = yield from self.net.link_block(0, 1, until_ns=self.until_ns)
        tally = self.tally
        tally.rounds = block.rounds
        tally.attempts = block.attempts
        tally.fidelities = block.fidelity
        tally.expected = closed_form_fidelity(block.storage_a_ns, block.storage_b_ns)
        tally.storage_ns = block.storage_a_ns
        return tally


#: the API each mode uses by default: the sampled mode's block of rounds runs in one step;
#: the detailed mode simulates every attempt, so one round at a time costs it nothing more
DEFAULT_API = {"detailed": "rounds", "sampled": "block"}


@dataclass
class ModeResult:
    mode: str
    api: str
    sim_ns: float
    end_ns: float
    tally: LinkTally
    events: int
    wall_s: float
    p_budget: float

    @property
    def pairs(self) -> int:
        return len(self.tally.fidelities)


def run_mode(mode: str, *, sim_ns: float, seed: int, api: str | None = None) -> ModeResult:
    """Build the two-node network in ``mode`` and generate pairs for ``sim_ns`` of network time
    through ``api`` (``"rounds"``: :class:`ContinuousLink`; ``"block"``: :class:`BlockLink`;
    default :data:`DEFAULT_API`)."""
    api = api or DEFAULT_API[mode]
    nodes, hub = hardware()
    sim = Simulation(seed=seed)
    net = build_hub_network(sim, nodes=nodes, hub=hub, scheme="detection_in_hub", link_mode=mode)
    protocol = BlockLink if api == "block" else ContinuousLink
    link = protocol(sim, net, until_ns=sim_ns).start()
    env = sim.env
    # events executed = events scheduled (SimPy's private event-id counter, as in
    # bench_kernel.py) minus those still queued; zero overhead per event
    first_id = next(env._eid)
    start = time.perf_counter()
    sim.run()
    wall = time.perf_counter() - start
    events = next(env._eid) - first_id - 1 - len(env._queue)
    if net.held_qubits() != 0:
        raise RuntimeError(f"{mode}: {net.held_qubits()} qubits left in memory")
    return ModeResult(mode, api, sim_ns, sim.now_ns, link.tally, events, wall,
                      net.budget(0, 1).p_success)


def report(result: ModeResult, p: float) -> list[str]:
    """Print one mode's figures; returns the failed checks."""
    t = result.tally
    failures = []
    p_hat = result.pairs / t.attempts
    se = math.sqrt(p_hat * (1.0 - p_hat) / t.attempts)
    z = (p_hat - p) / se
    fid = np.asarray(t.fidelities)
    f_exp = float(np.mean(t.expected))
    f_mean = float(fid.mean())
    f_se = float(fid.std(ddof=1) / math.sqrt(len(fid))) if len(fid) > 1 else 0.0
    if f_se > 1e-12:
        f_z = (f_mean - f_exp) / f_se
        f_ok = abs(f_z) < Z_MAX
        f_text = f"z = {f_z:+.2f}"
    else:
        f_ok = abs(f_mean - f_exp) < 1e-9
        f_text = f"all states alike, |diff| = {abs(f_mean - f_exp):.1e}"
    print(f"[{result.mode}, {result.api} API] network time {result.sim_ns / 1e9:g} s (last event at "
          f"{result.end_ns / 1e9:.9f} s)")
    print(f"  rounds {t.rounds:,}  attempts {t.attempts:,} (K = {t.attempts / t.rounds:g} per round)")
    print(f"  delivered pairs {result.pairs:,}  ({result.pairs / (result.sim_ns / 1e9):,.0f} per "
          f"second of network time)")
    print(f"  per-attempt success p_hat = {p_hat:.5f} +- {se:.5f}  closed form p = {p:.5f}  "
          f"z = {z:+.2f}  {'ok' if abs(z) < Z_MAX else 'FAIL'} (|z| < {Z_MAX:g})")
    print(f"  mean fidelity of delivered states {f_mean:.6f} +- {f_se:.6f}  closed form "
          f"{f_exp:.6f} [(1+V)/2 = {0.5 * (1 + HOM_VISIBILITY):.6f} x storage decoherence over "
          f"{np.mean(t.storage_ns):.0f} ns]  "
          f"{f_text}  {'ok' if f_ok else 'FAIL'}")
    print(f"  events executed {result.events:,}  wall {result.wall_s:.2f} s  "
          f"pairs per wall second {result.pairs / result.wall_s:,.0f}  "
          f"events per wall second {result.events / result.wall_s:,.0f}")
    if abs(z) >= Z_MAX:
        failures.append(f"{result.mode}: p_hat off its closed form, z = {z:+.2f}")
    if not f_ok:
        failures.append(f"{result.mode}: mean fidelity {f_mean:.6f} vs closed form {f_exp:.6f}")
    if not math.isclose(result.p_budget, p, rel_tol=1e-12):
        failures.append(f"{result.mode}: network link budget p = {result.p_budget!r} != {p!r}")
    return failures


def summary(result: ModeResult, p: float) -> dict[str, Any]:
    """One mode's figures as a JSON-serialisable dict (the ``--json`` line).

    Keys: ``mode, pairs, attempts, rounds, wall_s, events, mean_fidelity, p_closed_form`` and
    ``sim_ns, seed, p_hat, p_se, p_z, fidelity_closed_form, pairs_per_wall_s,
    events_per_pair, events_per_wall_s, failures`` (the failed checks, empty when all pass).
    """
    t = result.tally
    p_hat = result.pairs / t.attempts if t.attempts else float("nan")
    p_se = math.sqrt(p_hat * (1.0 - p_hat) / t.attempts) if t.attempts else float("nan")
    pairs = result.pairs
    return {
        "mode": result.mode,
        "api": result.api,
        "pairs": pairs,
        "attempts": t.attempts,
        "rounds": t.rounds,
        "wall_s": result.wall_s,
        "events": result.events,
        "mean_fidelity": float(np.mean(t.fidelities)) if pairs else None,
        "p_closed_form": p,
        "sim_ns": result.sim_ns,
        "seed": SEED,
        "p_hat": p_hat,
        "p_se": p_se,
        "p_z": (p_hat - p) / p_se if p_se > 0 else None,
        "fidelity_closed_form": float(np.mean(t.expected)) if pairs else None,
        "pairs_per_wall_s": pairs / result.wall_s,
        "events_per_pair": result.events / pairs if pairs else None,
        "events_per_wall_s": result.events / result.wall_s,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: ``--mode detailed|sampled`` (default both) and ``--json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("detailed", "sampled"), action="append",
                        help="link mode to run; repeatable (default: detailed, then sampled)")
    parser.add_argument("--api", choices=("rounds", "block"),
                        help="consumer API: one link_round at a time, or one link_block "
                             "(default: rounds for detailed, block for sampled)")
    parser.add_argument("--json", action="store_true",
                        help="print exactly one JSON object per mode, one line each, and nothing "
                             "else (checks still set the exit status)")
    args = parser.parse_args(argv)
    args.mode = args.mode or ["detailed", "sampled"]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    nodes, hub = hardware()
    p = closed_form_p(hub)
    eta = math.sqrt(2.0 * p)
    bare = bare_simpy_events_per_s()
    if not args.json:
        print(f"two-node link: 2 x {FIBRE_KM:g} km at {ATTENUATION_DB_PER_KM:g} dB/km to a middle "
              f"BSM, emission {EMISSION_EFFICIENCY:g}, detectors {DETECTOR_EFFICIENCY:g}, "
              f"switch {SWITCH_LOSS_DB:g} dB, {SLOTS} slots/node, double click, "
              f"V = {HOM_VISIBILITY:g}, T2 = {T2_NS / 1e9:g} s, T1 = {T1_NS:g}, seed {SEED}")
        print(f"closed form: eta = {eta:.5f} per side, p = eta_A eta_B / 2 = {p:.5f}")
    failures: list[str] = []
    results: dict[str, ModeResult] = {}
    for mode in args.mode:
        result = results[mode] = run_mode(mode, sim_ns=SIM_NS[mode], seed=SEED, api=args.api)
        if args.json:
            with contextlib.redirect_stdout(io.StringIO()):
                mode_failures = report(result, p)
            line = summary(result, p)
            line["failures"] = mode_failures
            line["bare_simpy_events_per_wall_s"] = bare
            line["pairs_per_bare_event"] = line["pairs_per_wall_s"] / bare
            print(json.dumps(line), flush=True)
        else:
            mode_failures = report(result, p)
            print(f"  ratio to bare SimPy: {result.pairs / result.wall_s / bare:.2e} pairs per bare "
                  f"event ({bare:,.0f} bare SimPy events per wall second in this run)")
        failures += mode_failures
    if not args.json:
        if "detailed" in results and "sampled" in results:
            det, smp = results["detailed"], results["sampled"]
            ratio = (smp.pairs / smp.wall_s) / (det.pairs / det.wall_s)
            print(f"speed ratio sampled / detailed (pairs per wall second): {ratio:.1f}x")
        for failure in failures:
            print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
