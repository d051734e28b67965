"""The concurrent orchestrator: admission and scheduling of many requests at once.

It runs on the hub node and knows the network only through messages and its own map
(:class:`~protocols.stack.resources.ResourceMap`): a ``stack.request`` message from a QPU
creates a :class:`Job`; the orchestrator looks in the ebit cache, then admits the job when its
resources are free, hands it to the link layer with a plan of attempts per round, and learns
the outcome from the link layer's herald and the QPUs' ``stack.done`` message. It never reads a
memory or a quantum state (this module imports nothing from :mod:`hardware_models`).

Resources a request competes for (ARCHITECTURE.md §4): the two QPUs' optical ports (a port joins one
lane at a time), a switch lane (two circuits of the bounded-degree blocking fabric), ``k``
parallel-attempt devices (BSM stations, sources or hub-memory slots) for its whole generation,
and ``k`` communication qubits at each QPU (pairs in use or cached keep theirs until consumed
or discarded). A request that cannot start at once waits (admission ``"queue"``) or is
blocked and dropped at once (admission ``"loss"``, the Erlang-B setting: A. K. Erlang, *Post
Office Electrical Engineers' Journal* 10, 189 (1917)). A request is dropped at its deadline
(``arrival + deadline_ns``) if it is still waiting or between rounds; its round budget R ends
it as a failure (the paper's semantics).

Which waiting request goes first and how the free attempts are shared is the
:class:`~protocols.stack.scheduler.Scheduler`'s decision.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

from modenhub_net.components import Message
from modenhub_net.errors import UserInputError
from modenhub_net.protocol import Protocol
from modenhub_net.simulation import Simulation
from protocols.cache import EbitCache
from protocols.orchestrator import RoundPolicy
from protocols.pair import PairHandle
from protocols.records import RequestRecord
from protocols.stack.messages import Headers, Transport, make_message
from protocols.stack.resources import Capacities, ResourceMap
from protocols.stack.scheduler import Scheduler
from protocols.workload import Request

__all__ = ["ADMISSION_MODES", "RECORD_SIGNAL", "Job", "StackCounts", "StackOrchestrator"]

#: label of the signal the orchestrator sends with each finished request's record (for a
#: :class:`modenhub_net.collector.DataCollector`)
RECORD_SIGNAL = "request_record"

#: ``queue``: a request that cannot start waits; ``loss``: it is blocked and dropped at once
ADMISSION_MODES: tuple[str, ...] = ("queue", "loss")


@dataclass(eq=False)
class Job:
    """A request as the orchestrator tracks it (classical bookkeeping only).

    Attributes
    ----------
    request : Request
    received_ns : float
        Time the request message reached the hub (ns).
    deadline_ns : float
        Absolute deadline (ns; inf: none).
    key : tuple of int
        Unordered QPU pair ``(min, max)``.
    priority : tuple
        The scheduler's sort key (:meth:`Scheduler.priority`), set when the job waits.
    state : str
        ``"waiting"``, ``"generating"``, ``"executing"`` or ``"finished"``.
    start_ns, released_ns : float
        Start of service and release of the link resources (ns; NaN until then).
    k : int
        Parallel attempts reserved while generating (devices and qubits per end follow
        from the :class:`~protocols.stack.resources.Capacities` costs).
    k_cap, wish : int
        Attempts the free resources allowed at the start, and the attempts asked for.
    plan : tuple of int
        Attempts per round (its length is the round budget R).
    allow_skip : bool
        Whether the link layer may skip failed rounds in one go (fixed plans only).
    attempts, rounds : int
        Attempts and rounds played.
    cache_hit : bool
    cap_bound, blocked_by : str
        The resource that limited the attempts, and the one that delayed or blocked the start.
    pair : PairHandle or None
        The pair that serves the request.
    seq : int
        Arrival sequence number (tie-break).
    """

    request: Request
    received_ns: float
    deadline_ns: float
    key: tuple[int, int]
    priority: tuple = ()
    state: str = "waiting"
    start_ns: float = math.nan
    released_ns: float = math.nan
    k: int = 0
    k_cap: int = 0
    wish: int = 0
    plan: tuple[int, ...] = ()
    allow_skip: bool = True
    attempts: int = 0
    rounds: int = 0
    cache_hit: bool = False
    cap_bound: str = ""
    blocked_by: str = ""
    pair: PairHandle | None = None
    seq: int = 0


@dataclass
class StackCounts:
    """Run-level counters of the concurrent orchestrator (all >= 0)."""

    requests: int = 0
    started: int = 0
    blocked: int = 0
    dropped_waiting: int = 0
    dropped_generating: int = 0
    pairs_heralded: int = 0
    pairs_used: int = 0
    pairs_surplus: int = 0
    reclaimed: int = 0
    dispatches: int = 0
    pregeneration_jobs: int = 0
    pairs_pregenerated: int = 0
    blocked_by: dict[str, int] = field(default_factory=dict)


class StackOrchestrator(Protocol):
    """Admission and scheduling of concurrent requests, driven by messages.

    Parameters
    ----------
    sim : Simulation
    transport : Transport
        The classical channels (its ``on_hub`` receives ``stack.request`` / ``stack.done``).
    link : object
        The hub's link layer: ``link.generate(job, on_done)`` runs the job's rounds
        (:class:`protocols.stack.link.LinkLayer`).
    capacities : Capacities
        The hub's published capacities (lanes, devices, communication qubits).
    policy : RoundPolicy
        Attempts per round wished and whether spares are cached
        (:func:`protocols.orchestrator.make_policy`).
    scheduler : Scheduler
    p_success : callable
        ``p_success(a, b)``: the link budget's per-attempt probability (classical).
    admission : {"queue", "loss"}, optional
        Default ``"queue"``.
    deadline_ns : float, optional
        Relative deadline of every request (ns after its arrival, > 0; default inf).
    cache : EbitCache, optional
        Used when ``policy.uses_cache``; build it with
        ``on_discard=orchestrator.cache_discarded``-style forwarding (see
        :meth:`cache_discarded`).
    discard : callable, optional
        ``discard(pair, reason)``: command the QPUs to free a pair's qubits (surplus).
    demand : object, optional
        Demand predictor with ``observe(a, b, *, now_ns)`` and ``top_pairs(now_ns, budget, *,
        deficit)`` (e.g. :class:`protocols.demand.DemandTracker`); fed with every request.
    pregenerate : bool, optional
        Pre-generate spares into the cache during idle time (no request waiting) for the
        pairs ``demand.top_pairs`` ranks first (rate per spare already held), on free lanes
        and devices only; the cache's capacity and memory budget
        (:meth:`~protocols.cache.EbitCache.budget_room`) bound them. Default False.
    pregeneration_budget_qubits : int, optional
        Pre-generation starts only while cached spares hold fewer than this many
        communication qubits (2 per spare), >= 2; default None (no extra bound).
    reclaim : bool, optional
        Reclaim cached spares' qubits up to the attempts a starting request wants (default
        True: spares never starve attempts); False reclaims only when not even one attempt
        fits.
    name : str, optional
    """

    def __init__(
        self,
        sim: Simulation,
        *,
        transport: Transport,
        link: Any,
        capacities: Capacities,
        policy: RoundPolicy,
        scheduler: Scheduler,
        p_success: Callable[[int, int], float],
        admission: str = "queue",
        deadline_ns: float = math.inf,
        cache: EbitCache | None = None,
        discard: Callable[[PairHandle, str], None] | None = None,
        demand: Any = None,
        pregenerate: bool = False,
        pregeneration_budget_qubits: int | None = None,
        reclaim: bool = True,
        name: str = "stack.orchestrator",
    ) -> None:
        super().__init__(sim, name=name)
        if admission not in ADMISSION_MODES:
            raise UserInputError(
                f"admission = {admission!r}: unknown (allowed: {', '.join(ADMISSION_MODES)})"
            )
        if isinstance(deadline_ns, bool) or not isinstance(deadline_ns, (int, float)) or not deadline_ns > 0:
            raise UserInputError(f"deadline_ns = {deadline_ns!r} must be a number > 0 (ns; inf: none)")
        if policy.uses_cache and cache is None:
            raise ValueError("a caching policy needs an EbitCache")
        self.transport = transport
        self.link = link
        self.map = ResourceMap(capacities, now_ns=sim.now_ns)
        self.policy = policy
        self.scheduler = scheduler
        self.p_success = p_success
        self.admission = admission
        self.deadline_ns = float(deadline_ns)
        self.cache = cache if policy.uses_cache else None
        self._discard = discard
        for flag, value in (("reclaim", reclaim), ("pregenerate", pregenerate)):
            if not isinstance(value, bool):
                raise UserInputError(f"{flag} = {value!r} must be true or false")
        if pregenerate and self.cache is None:
            raise UserInputError(
                f"pregenerate = True: policy {policy.name!r} keeps no cache (use 'orchestrated' "
                "or cache = true)"
            )
        if pregeneration_budget_qubits is not None and (
            isinstance(pregeneration_budget_qubits, bool)
            or not isinstance(pregeneration_budget_qubits, int) or pregeneration_budget_qubits < 2
        ):
            raise UserInputError(
                f"pregeneration_budget_qubits = {pregeneration_budget_qubits!r} must be an "
                "integer >= 2 (a spare holds 2 qubits) or None"
            )
        self._demand = demand
        self._pregenerate_on = pregenerate and demand is not None
        self._budget_qubits = pregeneration_budget_qubits
        self._reclaim_to_wish = reclaim
        self.records: list[RequestRecord] = []
        self.counts = StackCounts()
        self.jobs: dict[int, Job] = {}
        self._waiting: list[tuple[tuple, int, Job]] = []  # scheduling order
        self._by_pair: dict[tuple[int, int], list[tuple[tuple, int, Job]]] = {}  # same, per pair
        #: the queue is walked in full unless it is longer than this many times the number of
        #: pairs of free QPUs (then the per-pair index is used; same decisions, less work)
        self.index_factor = 16
        self._seq = 0
        self._fresh: list[Job] = []
        self._dispatch_pending = False
        self._end_ns = sim.now_ns
        transport.on_hub(Headers.REQUEST, self._on_request)
        transport.on_hub(Headers.DONE, self._on_done)

    # -- messages in ------------------------------------------------------------------
    def _on_request(self, node: int, message: Message) -> None:
        request: Request = message.meta["request"]
        now = self.sim.now_ns
        self.counts.requests += 1
        if self._demand is not None:
            self._demand.observe(request.s, request.d, now_ns=now)
        deadline = request.arrival_ns + min(self.deadline_ns, request.deadline_ns)
        job = Job(request, now, deadline, request.pair, seq=self._seq)
        self._seq += 1
        self.jobs[request.request_id] = job
        if self.cache is not None and job.key not in self._by_pair:  # never before an older one
            pair = self.cache.take(request.s, request.d, now_ns=now)
            if pair is not None:
                job.cache_hit = True
                job.start_ns = now
                self._execute(job, pair)
                return
        if now >= job.deadline_ns:
            self._finish_failed(job, dropped=True)
            return
        job.priority = self.scheduler.priority(job)
        item = (job.priority, job.seq, job)
        bisect.insort(self._waiting, item)
        bisect.insort(self._by_pair.setdefault(job.key, []), item)
        self._fresh.append(job)
        self._schedule_dispatch()

    def _schedule_dispatch(self) -> None:
        """Decide once per instant, after every message of that instant has arrived (so
        requests arriving together are scheduled together)."""
        if not self._dispatch_pending and (self._waiting or self._pregenerate_on):
            self._dispatch_pending = True
            self.sim.timeout(0.0).callbacks.append(self._deferred_dispatch)

    def _deferred_dispatch(self, _event: Any = None) -> None:
        self._dispatch_pending = False
        self._dispatch()
        fresh, self._fresh = self._fresh, []
        now = self.sim.now_ns
        for job in fresh:
            if job.state != "waiting":
                continue
            job.blocked_by = job.blocked_by or self._reason(job)
            if self.admission == "loss":
                self._remove_waiting(job)
                self._finish_failed(job, blocked=True)
            elif math.isfinite(job.deadline_ns):
                timer = self.sim.timeout(job.deadline_ns - now)
                timer.callbacks.append(lambda _e, job=job: self._deadline(job))

    def _on_done(self, node: int, message: Message) -> None:
        meta = message.meta
        job = self.jobs.pop(meta["request_id"])
        pair = job.pair
        assert pair is not None
        now = self.sim.now_ns
        self.map.free_pair(pair.node_a, pair.node_b, now_ns=now)
        end = meta["end_ns"]
        request = job.request
        self._record(RequestRecord(
            request.request_id, request.s, request.d, request.kind, self.policy.name, True,
            job.attempts, job.rounds, job.cache_hit, end - request.arrival_ns, meta["pair_age_ns"],
            meta["pair_fidelity"], meta["fidelity"], request.arrival_ns, job.start_ns, end,
            self.map.capacities.n_qpus, job.k_cap, job.cap_bound,
            **self._extras(job),
        ))
        self._schedule_dispatch()

    # -- admission and scheduling -------------------------------------------------------
    def _reason(self, job: Job) -> str:
        """Why ``job`` cannot start now (first binding resource)."""
        m = self.map
        if m.free_lanes() < 1:
            return "switch_circuits"
        if not m.ports_free(job.key):
            return "qpu_port"
        if min(m.free_qubit_attempts(job.key[0]), m.free_qubit_attempts(job.key[1])) < 1:
            return "comm_qubits"
        return self.map.capacities.device_kind

    def _remove_waiting(self, job: Job) -> None:
        for items in (self._waiting, self._by_pair[job.key]):
            i = bisect.bisect_left(items, (job.priority, job.seq))
            if i < len(items) and items[i][2] is job:
                del items[i]
            else:  # pragma: no cover - defensive
                items[:] = [item for item in items if item[2] is not job]
        if not self._by_pair[job.key]:
            del self._by_pair[job.key]

    def _scan_order(self) -> Iterator[tuple[tuple, int, Job]]:
        """The waiting requests to consider, in scheduling order: the whole queue, or, when
        few QPU ports are free and the queue is long, only the first request of each pair of
        free QPUs (a pair's later requests cannot start in the same decision), found through
        the per-pair index and popped from a heap, so a long queue is not walked."""
        free = self.map.free_ports
        n_free = len(free)
        free_pairs = n_free * (n_free - 1) // 2
        if self.index_factor * free_pairs >= len(self._waiting):
            yield from self._waiting
            return
        by_pair = self._by_pair
        if len(by_pair) <= free_pairs:
            heads = [items[0] for (a, b), items in by_pair.items() if a in free and b in free]
        else:
            ordered = sorted(free)
            heads = [by_pair[(a, b)][0] for i, a in enumerate(ordered) for b in ordered[i + 1:]
                     if (a, b) in by_pair]
        heapq.heapify(heads)
        while heads:
            yield heapq.heappop(heads)

    def _reclaim(self, node: int) -> bool:
        """Free one cached spare holding a qubit at ``node`` for an attempt; True if one left.

        Uses the cache's :meth:`~protocols.cache.EbitCache.reclaim` (its eviction order) when
        it has one, else its oldest-first ``evict_one``.
        """
        cache = self.cache
        if cache is None:
            return False
        reclaim = getattr(cache, "reclaim", None)
        if reclaim is not None:
            freed = bool(reclaim(node, 1, now_ns=self.sim.now_ns))
        else:
            freed = cache.evict_one(touching={node}) is not None
        if freed:
            self.counts.reclaimed += 1
        return freed

    def _free_qubits(self, key: tuple[int, int], want: int = 1) -> int:
        """Parallel attempts the free communication qubits of both ends allow, after
        reclaiming cached spares at an end that has room for fewer than ``want``."""
        m = self.map
        for x in key:
            while m.free_qubit_attempts(x) < want and self._reclaim(x):
                pass
        return min(m.free_qubit_attempts(key[0]), m.free_qubit_attempts(key[1]))

    def _dispatch(self) -> None:
        """Start the waiting requests the scheduler picks among those that can start now."""
        if not self._waiting:
            if self._pregenerate_on:
                self._pregenerate()
            return
        m = self.map
        free_lanes = m.free_lanes()
        free_attempts = m.free_attempts()
        if free_lanes < 1 or free_attempts < 1:
            return
        self.counts.dispatches += 1
        taken: set[int] = set()
        candidates: list[tuple[Job, int]] = []
        caps: list[int] = []
        free_ports = len(m.free_ports)
        wished = 0
        for _prio, _seq, job in self._scan_order():
            if free_ports - len(taken) < 2:
                break
            a, b = job.key
            if a in taken or b in taken or not m.ports_free(job.key):
                continue
            policy_wish = self._policy_wish(job, free_attempts)
            want = self.scheduler.wish(job, policy_wish=policy_wish)  # the scheduler caps it
            # spares never starve attempts: reclaimed up to what the devices allow now
            target = max(1, min(want, free_attempts)) if self._reclaim_to_wish else 1
            qubits = self._free_qubits(job.key, target)
            if qubits < 1:
                job.blocked_by = "comm_qubits"
                continue
            cap = min(qubits, free_attempts)
            wish = max(1, min(want, qubits))
            job.wish = wish
            candidates.append((job, wish))
            caps.append(cap)
            taken.update(job.key)
            wished += wish
            # enough contenders: every lane, or every attempt (each start takes >= 1), or, for
            # a greedy scheduler, every attempt already wished by those before
            if (len(candidates) >= min(free_lanes, free_attempts)
                    or (self.scheduler.greedy and wished >= free_attempts)):
                break
        if not candidates:
            return
        grants = self.scheduler.allocate(candidates, free_attempts)
        for (job, wish), cap, k in zip(candidates, caps, grants, strict=True):
            if k >= 1:
                self._start(job, k, cap, wish)
            else:
                job.blocked_by = m.capacities.device_kind
        if self._pregenerate_on and not self._waiting:
            self._pregenerate()

    # -- idle-time pre-generation ---------------------------------------------------------
    def _pregenerate(self) -> None:
        """Idle time (nobody waits): pre-generate spares for the pairs of highest predicted
        demand (``demand.top_pairs``), into the cache, on free lanes and devices only."""
        m, cache = self.map, self.cache
        if cache is None or self._demand is None:
            return
        free_lanes, free_attempts = m.free_lanes(), m.free_attempts()
        if free_lanes < 1 or free_attempts < 1:
            return
        held_qubits = 2 * len(cache)
        if self._budget_qubits is not None and held_qubits >= self._budget_qubits:
            return
        budget_left = (math.inf if self._budget_qubits is None
                       else (self._budget_qubits - held_qubits) // 2)

        def deficit(a: int, b: int) -> int:
            return int(min(cache.budget_room(a, b), budget_left))

        def held(a: int, b: int) -> int:
            return len(cache.pairs(a, b))

        now = self.sim.now_ns
        for key, _wanted in self._demand.top_pairs(now, free_lanes, deficit=deficit, held=held):
            if m.free_lanes() < 1 or m.free_attempts() < 1:
                return
            if not m.ports_free(key):
                continue
            qubits = self._free_qubits(key)
            if qubits < 1:
                continue
            request = Request(-1 - self.counts.pregeneration_jobs, key[0], key[1], "pregenerate", now)
            job = Job(request, now, math.inf, key, seq=-1)
            cap = min(qubits, m.free_attempts())
            wish = min(self._policy_wish(job, cap), cap)
            self.counts.pregeneration_jobs += 1
            self._start(job, wish, cap, wish, waiting=False)

    def _policy_wish(self, job: Job, cap: int) -> int:
        policy = self.policy
        p = policy.p_for(self.p_success(*job.key))
        schedule = policy.schedule_for(p, max(cap, 1))
        return schedule[0] if schedule else 1

    def _start(self, job: Job, k: int, cap: int, wish: int, *, waiting: bool = True) -> None:
        now = self.sim.now_ns
        if waiting:
            self._remove_waiting(job)
        policy = self.policy
        schedule = policy.schedule_for(policy.p_for(self.p_success(*job.key)), k)
        schedule = tuple(schedule[: policy.rounds]) + (0,) * (policy.rounds - len(schedule))
        job.plan = self.scheduler.plan(job, k, schedule)
        job.k = k
        job.k_cap = cap
        if k < wish:
            job.cap_bound = self._cap_reason(job, k)
        job.allow_skip = not policy.online
        job.state = "generating"
        job.start_ns = now
        if waiting:
            self.counts.started += 1
        self.map.reserve(job.key, k, now_ns=now)
        self.link.generate(job, self._on_link_done)

    def _cap_reason(self, job: Job, k: int) -> str:
        m = self.map
        if min(m.free_qubit_attempts(job.key[0]), m.free_qubit_attempts(job.key[1])) <= k:
            return "comm_qubits"
        return m.capacities.device_kind

    def _deadline(self, job: Job) -> None:
        if job.state != "waiting":
            return
        self._remove_waiting(job)
        self._finish_failed(job, dropped=True)

    # -- link layer feedback ------------------------------------------------------------
    def _on_link_done(self, job: Job, pairs: list[PairHandle], attempts: int, rounds: int,
                      dropped: bool) -> None:
        """The link layer's herald of a job's rounds (same node: a direct call)."""
        now = self.sim.now_ns
        m = self.map
        m.release(job.key, job.k, now_ns=now)
        job.released_ns = now
        job.attempts, job.rounds = attempts, rounds
        self.scheduler.observe(job.key, attempts=attempts, heralds=len(pairs))
        self.policy.observe(attempts=attempts, heralds=len(pairs))
        self.counts.pairs_heralded += len(pairs)
        if job.request.kind == "pregenerate":
            job.state = "finished"
            for pair in pairs:
                m.hold_pair(pair.node_a, pair.node_b, now_ns=now)
                if self.cache is not None and self.cache.put(pair, now_ns=now):
                    self.counts.pairs_pregenerated += 1
                    self._arm_expiry(pair)
                elif pair.alive:
                    self._drop_pair(pair, "surplus")
                    self.counts.pairs_surplus += 1
            self._serve_from_cache(job.key)
            self._schedule_dispatch()
            return
        if pairs:
            for pair in pairs:
                m.hold_pair(pair.node_a, pair.node_b, now_ns=now)
            pair = pairs[0]
            pair.mark("served")
            job.pair = pair
            job.state = "executing"
            self.counts.pairs_used += 1
            for spare in pairs[1:]:
                if self.cache is None or not self.cache.put(spare, now_ns=now):
                    if spare.alive:  # not already dropped (and freed) by the cache
                        self._drop_pair(spare, "surplus")
                        self.counts.pairs_surplus += 1
                else:
                    self._arm_expiry(spare)
            self._serve_from_cache(job.key)
            # the QPUs learn the assignment from the link layer's herald message
        else:
            self.jobs.pop(job.request.request_id, None)
            if dropped:
                self.counts.dropped_generating += 1
            self._finish_failed(job, dropped=dropped, counted=True)
        self._schedule_dispatch()

    def _serve_from_cache(self, key: tuple[int, int]) -> None:
        """New spares of pair ``key``: they serve the pair's waiting requests first, in
        scheduling order (a cache hit needs no lane, device or port)."""
        cache, now = self.cache, self.sim.now_ns
        while cache is not None and key in self._by_pair:
            job = self._by_pair[key][0][2]
            pair = cache.take(key[0], key[1], now_ns=now)
            if pair is None:
                return
            self._remove_waiting(job)
            job.cache_hit = True
            job.start_ns = now
            self._execute(job, pair)

    def _arm_expiry(self, pair: PairHandle) -> None:
        """A cached pair's qubits are freed at its cutoff time, not at the next look at the
        cache (a timer; the waiting requests are then reconsidered)."""
        cutoff = self.cache.cutoff_ns if self.cache is not None else math.inf
        if math.isfinite(cutoff):
            delay = max(0.0, pair.heralded_ns + cutoff - self.sim.now_ns)
            self.sim.timeout(delay).callbacks.append(self._expire_cache)

    def _expire_cache(self, _event: Any = None) -> None:
        if self.cache is not None and self.cache.expire(self.sim.now_ns):
            self._schedule_dispatch()

    def _execute(self, job: Job, pair: PairHandle) -> None:
        """A cached pair serves ``job``: tell the source QPU (``stack.use``)."""
        job.pair = pair
        job.state = "executing"
        self.counts.pairs_used += 1
        self.transport.to_qpu(job.request.s, make_message(Headers.USE, request=job.request, pair=pair))

    def _drop_pair(self, pair: PairHandle, reason: str) -> None:
        pair.mark("discarded")
        self.map.free_pair(pair.node_a, pair.node_b, now_ns=self.sim.now_ns)
        if self._discard is not None:
            self._discard(pair, reason)

    def cache_discarded(self, pair: PairHandle, reason: str) -> None:
        """Forward of the cache's ``on_discard``: the pair's qubits are free in the map and the
        QPUs are told to free them."""
        self.map.free_pair(pair.node_a, pair.node_b, now_ns=self.sim.now_ns)
        if self._discard is not None:
            self._discard(pair, reason)

    # -- records ---------------------------------------------------------------------
    def _extras(self, job: Job) -> dict[str, Any]:
        held = not math.isnan(job.released_ns)
        caps = self.map.capacities
        return dict(
            queue_wait_ns=job.start_ns - job.request.arrival_ns,
            blocked=False, dropped=False, blocked_by=job.blocked_by, deadline_ns=job.deadline_ns,
            released_ns=job.released_ns, lanes_held=1 if held else 0,
            devices_held=job.k * caps.device_cost if held else 0,
            qubits_held=job.k * caps.qubit_cost if held else 0,
        )

    def _finish_failed(self, job: Job, *, dropped: bool = False, blocked: bool = False,
                       counted: bool = False) -> None:
        now = self.sim.now_ns
        job.state = "finished"
        self.jobs.pop(job.request.request_id, None)
        if blocked:
            self.counts.blocked += 1
            self.counts.blocked_by[job.blocked_by] = self.counts.blocked_by.get(job.blocked_by, 0) + 1
        elif dropped and not counted:
            self.counts.dropped_waiting += 1
        if math.isnan(job.start_ns):
            job.start_ns = now
        request = job.request
        extras = self._extras(job)
        extras.update(blocked=blocked, dropped=dropped)
        self._record(RequestRecord(
            request.request_id, request.s, request.d, request.kind, self.policy.name, False,
            job.attempts, job.rounds, False, now - request.arrival_ns, math.nan, math.nan, math.nan,
            request.arrival_ns, job.start_ns, now, self.map.capacities.n_qpus, job.k_cap,
            job.cap_bound, **extras,
        ))

    def _record(self, record: RequestRecord) -> None:
        self.records.append(record)
        self.send_signal(RECORD_SIGNAL, record)
        self._end_ns = max(self._end_ns, self.sim.now_ns)

    # -- inspection ------------------------------------------------------------------
    def waiting(self) -> list[Job]:
        """Requests waiting for resources, in scheduling order."""
        return [item[2] for item in self._waiting]

    def utilisation(self) -> dict[str, float]:
        """Busy-time fractions of the switch circuits, devices and memory slots so far."""
        return self.map.utilisation(self.sim.now_ns)

    def run(self) -> Generator[Any, Any, None]:
        return
        yield  # pragma: no cover - the orchestrator reacts to messages only
