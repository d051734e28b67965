"""Run the hub with the message-driven protocol stack: many requests in flight at once.

:func:`run_stack` builds the hub network from its device components
(:class:`~modenhub_net.network.builder.HubNetwork`), installs the layers of
:mod:`protocols.stack` on its nodes (a :class:`~protocols.stack.agent.QpuAgent` per QPU, the
:class:`~protocols.stack.link.LinkLayer` and the :class:`~protocols.stack.orchestrator.
StackOrchestrator` on the hub, the message-driven application layer), runs the workload and
returns a :class:`StackRun` (records, per-run measures, the network).

``mode="serial"`` is the paper's one-request-at-a-time orchestrator
(:func:`~modenhub_net.network.builder.run_policy`), records identical to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from modenhub_net.errors import UserInputError
from modenhub_net.network.builder import HubNetwork, build_hub_network, run_policy
from modenhub_net.network.spec import HubSpec, QpuSpec
from modenhub_net.simulation import Simulation
from protocols.cache import EbitCache
from protocols.demand import DEFAULT_HALF_LIFE_NS, DemandTracker
from protocols.orchestrator import make_policy
from protocols.records import RequestRecord, records_frame
from protocols.stack.agent import QpuAgent, install_agents
from protocols.stack.application import Application
from protocols.stack.link import LinkLayer
from protocols.stack.orchestrator import ADMISSION_MODES, StackOrchestrator
from protocols.stack.resources import Capacities
from protocols.stack.scheduler import SCHEDULERS, Scheduler, make_scheduler
from protocols.stack.transport import HubTransport
from protocols.workload import REQUEST_KINDS, Request

__all__ = ["MODES", "StackRun", "run_stack", "hub_capacities"]

#: ``serial``: the paper's one-at-a-time orchestrator; ``concurrent``: the protocol stack
MODES: tuple[str, ...] = ("serial", "concurrent")

_DEVICE_KIND = {"detection_in_hub": "bsm_stations", "source_in_hub": "sources",
                "hub_memory_swap": "hub_memory_slots"}


@dataclass
class StackRun:
    """The outcome of :func:`run_stack`.

    Attributes
    ----------
    records : list of RequestRecord
        One per request, sorted by ``request_id``.
    net : HubNetwork
    mode, scheduler, admission : str
    orchestrator : object
        The :class:`~protocols.stack.orchestrator.StackOrchestrator` (concurrent) or the
        serial :class:`~protocols.orchestrator.Orchestrator`.
    agents : list of QpuAgent
        Concurrent mode: the QPU agents (empty in serial mode).
    link : LinkLayer or None
    """

    records: list[RequestRecord]
    net: HubNetwork
    mode: str
    scheduler: str
    admission: str
    orchestrator: Any
    agents: list[QpuAgent] = field(default_factory=list)
    link: LinkLayer | None = None
    _utilisation: dict[str, float] = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        """The records as a DataFrame, with constant columns ``mode``, ``scheduler``,
        ``admission``."""
        return records_frame(self.records, mode=self.mode, scheduler=self.scheduler,
                             admission=self.admission)

    def metrics(self) -> dict[str, float]:
        """Per-run measures.

        Returns
        -------
        dict
            ``requests``; ``span_ns`` (first arrival to last end); ``operations_hz``
            (completed operations per second) and ``ebits_hz`` (heralded pairs per second,
            spares included); ``success_probability``, ``blocking_probability``,
            ``drop_probability``; ``latency_p50_ns`` / ``p90`` / ``p99`` (successful requests,
            arrival to end of the operation); ``mean_queue_wait_ns``; and the utilisation
            (busy-time fraction of the capacity, from the orchestrator's time-weighted
            counters) ``utilisation_switch_circuits``, ``utilisation_<devices>`` (BSM stations,
            sources or hub-memory slots) and ``utilisation_memory_slots`` (communication
            qubits). Serial mode keeps no busy counters: its utilisations are NaN.
        """
        records = self.records
        n = len(records)
        out: dict[str, float] = {"requests": float(n)}
        if n == 0:
            return out
        arrivals = np.array([r.arrival_ns for r in records])
        ends = np.array([r.end_ns for r in records])
        span = float(ends.max() - arrivals.min())
        ok = np.array([r.success for r in records])
        latency = np.array([r.latency_ns for r in records])[ok]
        heralded = getattr(self.orchestrator.counts, "pairs_heralded", 0)
        seconds = span * 1e-9
        out.update(
            span_ns=span,
            operations_hz=float(ok.sum()) / seconds if seconds > 0 else math.nan,
            ebits_hz=float(heralded) / seconds if seconds > 0 else math.nan,
            success_probability=float(ok.mean()),
            blocking_probability=float(np.mean([r.blocked for r in records])),
            drop_probability=float(np.mean([r.dropped for r in records])),
            mean_queue_wait_ns=float(np.nanmean([r.queue_wait_ns for r in records])),
        )
        for q in (50, 90, 99):
            out[f"latency_p{q}_ns"] = float(np.percentile(latency, q)) if latency.size else math.nan
        for name, value in self._utilisation.items():
            out[f"utilisation_{name}"] = value
        return out


def hub_capacities(net: HubNetwork, *, rounds: int) -> Capacities:
    """The capacities the hub publishes to the concurrent orchestrator.

    Lanes: ``net.n_lanes`` (:meth:`HubSpec.lanes`); devices per scheme: BSM stations,
    sources, or hub-memory slots (one attempt of ``hub_memory_swap`` reserves ``R + 1`` slots
    and ``R`` communication qubits per end for the whole request: two slots per round, and
    unmatched legs of earlier rounds stay); communication qubits per QPU from the QPU specs.
    """
    scheme = net.scheme
    qubit_cost = 1
    if scheme == "detection_in_hub":
        devices, cost = net.hub.bsm_stations, 1
    elif scheme == "source_in_hub":
        devices, cost = net.hub.sources, 1
    else:
        devices, cost, qubit_cost = net.hub.memory_slots, rounds + 1, rounds
    return Capacities(
        n_qpus=net.n_qpus, lanes=net.n_lanes, devices=devices, device_kind=_DEVICE_KIND[scheme],
        device_cost=cost, comm_qubits=tuple(spec.comm_qubits for spec in net.specs),
        qubit_cost=qubit_cost,
    )


def _check_choice(name: str, value: Any, allowed: Sequence[str]) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise UserInputError(f"{name} = {value!r}: unknown (allowed: {', '.join(allowed)})")


def run_stack(
    *,
    nodes: Sequence[QpuSpec],
    hub: HubSpec,
    scheme: str,
    link_mode: str,
    requests: Sequence[Request],
    seed: int,
    mode: str = "concurrent",
    scheduler: str | Scheduler = "fifo",
    admission: str = "queue",
    deadline_ns: float = math.inf,
    rounds: int = 3,
    kappa: float = 0.9,
    k_min: int = 2,
    cache_capacity: int = 1,
    cutoff_ns: float = math.inf,
    eviction: str = "oldest",
    cache: bool | None = None,
    policy: str = "orchestrated",
    leg_cutoff_ns: float = math.inf,
    reclaim: bool = True,
    pregenerate: bool = False,
    pregeneration_budget_qubits: int | None = None,
    demand_half_life_ns: float = DEFAULT_HALF_LIFE_NS,
    max_spares_total: int | None = None,
    max_spares_per_qpu: int | None = None,
    demand: Any = None,
    log_messages: bool = False,
) -> StackRun:
    """Run a workload on the hub, concurrently (protocol stack) or serially (paper).

    Parameters
    ----------
    nodes, hub, scheme, link_mode
        The network (:class:`~modenhub_net.network.builder.HubNetwork`).
    requests : sequence of Request
        The workload (:mod:`protocols.workload`), sorted by arrival.
    seed : int
        Root seed (>= 0); same arguments give identical records.
    mode : {"concurrent", "serial"}, optional
        ``"serial"``: :func:`~modenhub_net.network.builder.run_policy` (one request at a
        time, the paper's semantics; ``scheduler``, ``admission`` and ``deadline_ns`` must
        keep their defaults). Default ``"concurrent"``.
    scheduler : str or Scheduler, optional
        ``"fifo"`` (default), ``"edf"``, ``"orchestrated"``, ``"adaptive"``
        (:mod:`protocols.stack.scheduler`), or a :class:`Scheduler` instance.
    admission : {"queue", "loss"}, optional
        A request that cannot start at once waits (``"queue"``, default) or is blocked
        (``"loss"``).
    deadline_ns : float, optional
        Time after its arrival (ns, > 0) at which a request still waiting or between rounds
        is dropped; default inf.
    rounds, kappa, k_min, policy, cache, cache_capacity, cutoff_ns, eviction
        The round policy (:func:`protocols.orchestrator.make_policy`: round budget R, the
        paper's ``K(N) = max(k_min, ceil(kappa log2 N))``) and the ebit cache
        (:class:`protocols.cache.EbitCache`).
    leg_cutoff_ns : float, optional
        ``hub_memory_swap`` leg cutoff (ns), default inf.
    reclaim, pregenerate, pregeneration_budget_qubits, demand_half_life_ns : optional
        The cache that acts (both modes; :class:`protocols.orchestrator.Orchestrator`,
        :class:`protocols.stack.orchestrator.StackOrchestrator`): reclaim spares' qubits for
        attempts (default True); pre-generate spares during idle time for the pairs of highest
        predicted demand (default False), while spares hold fewer than
        ``pregeneration_budget_qubits`` qubits (default None: no bound); half-life of the
        demand estimate (ns, default :data:`protocols.demand.DEFAULT_HALF_LIFE_NS`).
    max_spares_total, max_spares_per_qpu : int, optional
        Memory budget of the cache (:class:`protocols.cache.EbitCache`), default None.
    demand : object, optional
        Concurrent mode: the demand predictor (``observe`` / ``top_pairs``); default a
        :class:`protocols.demand.DemandTracker` with ``demand_half_life_ns``.
    log_messages : bool, optional
        Keep each QPU agent's log of received commands and heralds (tests).

    Returns
    -------
    StackRun

    Raises
    ------
    UserInputError
        On an unknown mode, scheduler or admission, a deadline <= 0, options the serial mode
        does not have, or a request outside the network (QPU index, kind).
    """
    _check_choice("mode", mode, MODES)
    _check_choice("admission", admission, ADMISSION_MODES)
    if not isinstance(scheduler, Scheduler):
        _check_choice("scheduler", scheduler, SCHEDULERS)
    if isinstance(deadline_ns, bool) or not isinstance(deadline_ns, (int, float)) or not deadline_ns > 0:
        raise UserInputError(f"deadline_ns = {deadline_ns!r} must be a number > 0 (ns; inf: none)")
    n = len(nodes)
    for i, request in enumerate(requests):
        if not (0 <= request.s < n and 0 <= request.d < n) or request.s == request.d:
            raise UserInputError(
                f"requests[{i}] = ({request.s}, {request.d}): s and d must be different QPU "
                f"indices in [0, {n - 1}]"
            )
        if request.kind not in REQUEST_KINDS:
            raise UserInputError(
                f"requests[{i}].kind = {request.kind!r}: unknown (allowed: {', '.join(REQUEST_KINDS)})"
            )
    scheduler_name = scheduler.name if isinstance(scheduler, Scheduler) else scheduler
    if mode == "serial":
        if scheduler_name != "fifo" or admission != "queue" or math.isfinite(deadline_ns):
            raise UserInputError(
                f"mode = 'serial' serves one request at a time in arrival order: scheduler = "
                f"{scheduler_name!r}, admission = {admission!r}, deadline_ns = {deadline_ns!r} "
                "need mode = 'concurrent'"
            )
        records, net, orchestrator = run_policy(
            nodes=nodes, hub=hub, scheme=scheme, link_mode=link_mode, policy=policy,
            requests=requests, seed=seed, rounds=rounds, kappa=kappa, k_min=k_min,
            cache_capacity=cache_capacity, cutoff_ns=cutoff_ns, eviction=eviction, cache=cache,
            leg_cutoff_ns=leg_cutoff_ns, reclaim=reclaim, pregenerate=pregenerate,
            pregeneration_budget_qubits=pregeneration_budget_qubits,
            demand_half_life_ns=demand_half_life_ns, max_spares_total=max_spares_total,
            max_spares_per_qpu=max_spares_per_qpu,
        )
        for record in records:
            record.queue_wait_ns = record.start_ns - record.arrival_ns
        utilisation = {"switch_circuits": math.nan, _DEVICE_KIND[scheme]: math.nan,
                       "memory_slots": math.nan}
        return StackRun(records=records, net=net, mode=mode, scheduler="fifo", admission="queue",
                        orchestrator=orchestrator, _utilisation=utilisation)

    sim = Simulation(seed=seed)
    net = build_hub_network(sim, nodes=nodes, hub=hub, scheme=scheme, link_mode=link_mode,
                            leg_cutoff_ns=leg_cutoff_ns)
    round_policy = make_policy(policy, n_qpus=net.n_qpus, rounds=rounds, kappa=kappa,
                               k_min=k_min, cache=cache)
    capacities = hub_capacities(net, rounds=round_policy.rounds)
    max_attempts = capacities.devices // capacities.device_cost
    if max_attempts < 1:
        raise UserInputError(
            f"hub.memory_slots = {net.hub.memory_slots}: the concurrent hub_memory_swap needs >= "
            f"{capacities.device_cost} slots (R + 1 = {round_policy.rounds + 1} per attempt)"
        )
    short = [i for i, q in enumerate(capacities.comm_qubits) if q < capacities.qubit_cost]
    if short:
        raise UserInputError(
            f"qpus[{short[0]}].qpu.n_comm_qubits = {capacities.comm_qubits[short[0]]}: the "
            f"concurrent {scheme} needs >= {capacities.qubit_cost} communication qubits per QPU "
            "(one attempt's qubits for all R rounds)"
        )
    chosen = make_scheduler(scheduler, n_qpus=net.n_qpus, rounds=round_policy.rounds,
                            p_prior=net.p_success, kappa=kappa, k_min=k_min,
                            max_attempts=max_attempts)
    transport = HubTransport(net)
    link = LinkLayer(sim, services=net, transport=transport)
    orchestrator: StackOrchestrator | None = None

    def on_cache_discard(pair: Any, reason: str) -> None:
        assert orchestrator is not None
        orchestrator.cache_discarded(pair, reason)

    ebit_cache = EbitCache(
        capacity=cache_capacity, cutoff_ns=cutoff_ns, eviction=eviction,
        fidelity_estimate=net.fidelity_estimate, on_discard=on_cache_discard,
        max_spares_total=max_spares_total, max_spares_per_qpu=max_spares_per_qpu,
    )
    if demand is None:
        demand = DemandTracker(half_life_ns=demand_half_life_ns)
    orchestrator = StackOrchestrator(
        sim, transport=transport, link=link, capacities=capacities, policy=round_policy,
        scheduler=chosen, p_success=net.p_success, admission=admission, deadline_ns=deadline_ns,
        cache=ebit_cache, discard=net.discard_pair, demand=demand, pregenerate=pregenerate,
        pregeneration_budget_qubits=pregeneration_budget_qubits, reclaim=reclaim,
    )
    application = Application(sim, nodes=net, transport=transport)
    agents = install_agents(sim, n_qpus=net.n_qpus, requests=requests, transport=transport,
                            application=application, keep_log=log_messages)
    sim.run()
    utilisation = orchestrator.utilisation()
    records = sorted(orchestrator.records, key=lambda r: r.request_id)
    if len(records) != len(requests):
        raise RuntimeError(
            f"{len(requests) - len(records)} requests never finished (a stack bug: "
            f"{len(orchestrator.waiting())} still waiting)"
        )
    return StackRun(records=records, net=net, mode=mode, scheduler=chosen.name,
                    admission=admission, orchestrator=orchestrator, agents=agents, link=link,
                    _utilisation=utilisation)
