"""The orchestrator: serves a stream of requests with a round policy and an ebit cache.

The orchestrator is the hub's classical controller. It sees requests and heralds (classical
messages) and :class:`~protocols.pair.PairHandle` objects (which memory slot holds which
half), decides how many parallel attempts to launch each round, keeps spare pairs in the
:class:`~protocols.cache.EbitCache`, and asks the nodes to run the operation. It never reads or
changes a quantum state: everything quantum happens inside the generation, correction and
teleportation protocols that run at the nodes, behind the :class:`HubServices` interface.

Round semantics (ARCHITECTURE.md §5, the paper's model): requests are served in arrival order,
one at a time. A request ``(s, d)`` first looks in the cache (expired pairs are discarded
first); a hit uses the cached pair with 0 attempts and 0 rounds. Otherwise it plays up to R
rounds; round ``r`` launches ``k_r`` parallel attempts (capped by the free resources, the cap
being recorded); the request succeeds in the first round in which >= 1 attempt heralds. With
the cache enabled, when >= 2 attempts herald in that round, spares fill the free places of the
pair's cache bucket (one with the paper's capacity 1); surplus pairs are discarded and their
memory freed. Attempts counted: all parallel attempts of all rounds played.

Policies (:func:`make_policy`):

``naive``
    1 attempt a round, no cache;
``orchestrated``
    the paper's ``K(N) = max(k_min, ceil(kappa log2 N))`` attempts a round, with cache;
``orchestrated_nocache``
    the same without cache (ablation);
``adaptive``
    the schedule of :func:`modenhub_net.aggregate.adaptive_schedule` for the link budget's
    per-attempt probability (target: the orchestrated policy's success), no cache;
``adaptive_online``
    the same rule with p estimated from the heralds seen so far,
    ``p_hat = (heralds + w p_prior) / (attempts + w)`` (re-planned per request).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from typing import Protocol as TypingProtocol

from modenhub_net.aggregate import adaptive_schedule, k_parallel, orchestrated_total
from modenhub_net.aggregate.analytic import attempts_for_target
from modenhub_net.errors import UserInputError
from modenhub_net.protocol import Protocol
from modenhub_net.simulation import Simulation
from protocols.cache import EbitCache
from protocols.demand import DEFAULT_HALF_LIFE_NS, DemandTracker
from protocols.pair import PairHandle
from protocols.records import RequestRecord
from protocols.workload import Request

__all__ = [
    "POLICIES",
    "HubServices",
    "RoundOutcome",
    "OperationOutcome",
    "RoundPolicy",
    "make_policy",
    "Orchestrator",
]

POLICIES: tuple[str, ...] = (
    "naive",
    "orchestrated",
    "orchestrated_nocache",
    "adaptive",
    "adaptive_online",
)


@dataclass
class RoundOutcome:
    """What a round of heralded generation reports (classical).

    Attributes
    ----------
    pairs : list of PairHandle
        Heralded pairs (their Pauli corrections may still be in flight).
    attempts : int
        Attempts launched.
    rounds : int
        Rounds played (more than 1 when failed rounds were skipped in one go).
    """

    pairs: list[PairHandle]
    attempts: int
    rounds: int = 1


@dataclass
class OperationOutcome:
    """Result of a teleportation or teleported CNOT, measured from the simulated states.

    Attributes
    ----------
    fidelity : float
        Teleportation or gate fidelity.
    pair_fidelity : float
        Fidelity of the pair with Phi+ at use (after memory decoherence).
    pair_age_ns : float
        Age of the pair at use, in ns.
    """

    fidelity: float
    pair_fidelity: float
    pair_age_ns: float


class HubServices(TypingProtocol):
    """What the orchestrator needs from the network (implemented by the hub builder)."""

    n_qpus: int

    def attempt_cap(self, a: int, b: int) -> tuple[int, str]:
        """Parallel attempts the free resources allow for ``(a, b)`` and the binding resource."""

    def p_success(self, a: int, b: int) -> float:
        """The link budget's per-attempt herald probability for ``(a, b)``."""

    def link_round(self, a: int, b: int, k: int) -> Generator[Any, Any, RoundOutcome]:
        """One round of ``k`` parallel heralded attempts (a generator to ``yield from``)."""

    def discard_pair(self, pair: PairHandle, reason: str) -> None:
        """Free the memory of a pair that will not be used."""

    def execute(
        self, request: Request, pair: PairHandle
    ) -> Generator[Any, Any, OperationOutcome]:
        """Run the request's operation with ``pair`` at the nodes (a generator)."""

    def fidelity_estimate(self, pair: PairHandle, now_ns: float) -> float:
        """Classical estimate of a stored pair's current fidelity."""


# -- policies ----------------------------------------------------------------------------
@dataclass
class RoundPolicy:
    """How many attempts each round of a request launches, and whether spares are cached.

    Parameters
    ----------
    name : str
        One of :data:`POLICIES`.
    rounds : int
        Round budget R (>= 1).
    uses_cache : bool
        Whether spare pairs go to the cache and requests look there first.
    schedule_for : callable
        ``schedule_for(p, cap) -> tuple[int, ...]``: attempts per round for per-attempt
        probability ``p`` (known or estimated) and resource cap ``cap``.
    online : bool
        If True, ``p`` is the running estimate from heralds (see :meth:`p_for`).
    prior_p, prior_weight : float
        Beta prior of the online estimate (``adaptive_online``).
    """

    name: str
    rounds: int
    uses_cache: bool
    schedule_for: Callable[[float, int], tuple[int, ...]]
    online: bool = False
    prior_p: float = 0.35
    prior_weight: float = 20.0
    heralds_seen: int = 0
    attempts_seen: int = 0

    def p_for(self, p_known: float) -> float:
        """The probability the plan assumes: ``p_known``, or the online estimate."""
        if not self.online:
            return p_known
        return (self.heralds_seen + self.prior_weight * self.prior_p) / (
            self.attempts_seen + self.prior_weight
        )

    def observe(self, *, attempts: int, heralds: int) -> None:
        """Feed back one round's attempts and heralds (used by the online estimate)."""
        self.attempts_seen += attempts
        self.heralds_seen += heralds


def make_policy(
    name: str,
    *,
    n_qpus: int,
    rounds: int = 3,
    kappa: float = 0.9,
    k_min: int = 2,
    cache: bool | None = None,
    target_success: float | None = None,
    prior_p: float = 0.35,
    prior_weight: float = 20.0,
) -> RoundPolicy:
    """Build a round policy.

    Parameters
    ----------
    name : str
        One of :data:`POLICIES`.
    n_qpus : int
        Number of QPUs N (sets the paper's ``K(N)``).
    rounds : int, optional
        Round budget R (>= 1, default 3).
    kappa, k_min : float, int, optional
        ``K(N) = max(k_min, ceil(kappa log2 N))`` (paper: 0.9 and 2).
    cache : bool, optional
        Override whether the policy uses the cache (default: only ``orchestrated``).
    target_success : float, optional
        Adaptive policies: success to reach within R rounds, in (0, 1). Default: the
        orchestrated policy's success ``1 - (1 - p)**(K R)`` at the planned p, placed as its
        total of ``K R`` attempts directly (:func:`modenhub_net.aggregate.orchestrated_total`;
        a target near 1 would round to an unreachable 1.0 in floating point). Either way the
        total is bounded by ``cap R`` attempts (the free resources).
    prior_p, prior_weight : float, optional
        ``adaptive_online``: prior guess of p and its weight in pseudo-attempts.

    Raises
    ------
    UserInputError
        On an unknown name or out-of-range parameters.
    """
    if name not in POLICIES:
        raise UserInputError(f"policy = {name!r}: unknown (allowed: {', '.join(POLICIES)})")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise UserInputError(f"rounds = {rounds!r} must be an integer >= 1")
    if target_success is not None and (
        isinstance(target_success, bool) or not isinstance(target_success, (int, float))
        or not 0.0 < target_success < 1.0
    ):
        raise UserInputError(f"target_success = {target_success!r} must be a number in (0, 1)")
    k_paper = k_parallel(n_qpus, kappa=kappa, k_min=k_min)
    uses_cache = (name == "orchestrated") if cache is None else bool(cache)

    if name == "naive":
        def schedule_for(p: float, cap: int) -> tuple[int, ...]:
            return (1,) * rounds
    elif name in ("orchestrated", "orchestrated_nocache"):
        def schedule_for(p: float, cap: int) -> tuple[int, ...]:
            return (k_paper,) * rounds
    else:
        @lru_cache(maxsize=4096)
        def _plan(p_key: float, cap: int) -> tuple[int, ...]:
            # the total is placed directly (never through a success that rounds to 1.0 in
            # floating point): the orchestrated policy's K R attempts by default
            # (aggregate.orchestrated_total), bounded by what cap x R attempts can give
            if target_success is None:
                total = orchestrated_total(p_key, k=k_paper, rounds=rounds)
            else:
                total = attempts_for_target(p_key, target_success=target_success)
            total = max(1, min(total, cap * rounds))
            return adaptive_schedule(p_key, rounds=rounds, total_attempts=total, max_parallel=cap)

        def schedule_for(p: float, cap: int) -> tuple[int, ...]:
            # plans are memoised on p rounded to 1e-4 (the online estimate moves slowly)
            return _plan(round(min(max(p, 1e-4), 1.0), 4), max(1, cap))

    return RoundPolicy(
        name=name,
        rounds=rounds,
        uses_cache=uses_cache,
        schedule_for=schedule_for,
        online=name == "adaptive_online",
        prior_p=prior_p,
        prior_weight=prior_weight,
    )


# -- the orchestrator protocol -------------------------------------------------------------
@dataclass
class OrchestratorCounts:
    """Run-level counters beyond the per-request records.

    Attributes
    ----------
    pairs_heralded, pairs_used, pairs_surplus : int
        Pairs heralded (requests' and pre-generation rounds), consumed by a request, and
        dropped at once because no cache place took them.
    rounds_capped : int
        Rounds that launched fewer attempts than the policy wished (free resources).
    evicted_for_room : int
        Cached spares whose qubits were reclaimed so that a round's attempts fit.
    cap_reasons : dict
        Binding resource of the capped rounds, with counts.
    pregeneration_rounds, pregeneration_attempts, pairs_pregenerated : int
        Idle-time pre-generation: rounds played, attempts launched, spares it cached.
    """

    pairs_heralded: int = 0
    pairs_used: int = 0
    pairs_surplus: int = 0
    rounds_capped: int = 0
    evicted_for_room: int = 0
    cap_reasons: dict[str, int] = field(default_factory=dict)
    pregeneration_rounds: int = 0
    pregeneration_attempts: int = 0
    pairs_pregenerated: int = 0


class Orchestrator(Protocol):
    """Serves requests in arrival order and appends one :class:`RequestRecord` each.

    Parameters
    ----------
    sim : Simulation
    services : HubServices
        The network (generation, resources, node-side operations).
    policy : RoundPolicy
    requests : sequence of Request
        Sorted by arrival time.
    cache : EbitCache, optional
        Required if ``policy.uses_cache``.
    name : str, optional
        Protocol name (default ``"orchestrator"``).
    reclaim : bool, optional
        Reclaim cached spares' communication qubits whenever they are what keeps a round
        below the policy's wish (default True: spares never starve attempts).
    pregenerate : bool, optional
        Use idle time between arrivals for generation rounds on the pairs of highest
        predicted demand (:class:`protocols.demand.DemandTracker`) that are below their cache
        target (default False, the paper's opportunistic cache). A round in progress at an
        arrival is finished before the request is served. Needs a caching policy.
    pregeneration_budget_qubits : int, optional
        Pre-generation starts a round only while cached spares hold fewer than this many
        communication qubits in all (2 per spare), and keeps at most as many spares as fit;
        >= 2; default None (bounded only by the cache's capacity and memory budget).
    demand_half_life_ns : float, optional
        Half-life of the demand estimate, in ns, > 0 (default
        :data:`protocols.demand.DEFAULT_HALF_LIFE_NS`, 100 ms).

    Attributes
    ----------
    records : list of RequestRecord
    counts : OrchestratorCounts
    demand : DemandTracker
        Request rate per pair, updated at every arrival.
    """

    def __init__(
        self,
        sim: Simulation,
        *,
        services: HubServices,
        policy: RoundPolicy,
        requests: Sequence[Request],
        cache: EbitCache | None = None,
        name: str = "orchestrator",
        reclaim: bool = True,
        pregenerate: bool = False,
        pregeneration_budget_qubits: int | None = None,
        demand_half_life_ns: float = DEFAULT_HALF_LIFE_NS,
    ) -> None:
        super().__init__(sim, name=name)
        if policy.uses_cache and cache is None:
            raise ValueError("a caching policy needs an EbitCache")
        for flag, value in (("reclaim", reclaim), ("pregenerate", pregenerate)):
            if not isinstance(value, bool):
                raise UserInputError(f"{flag} = {value!r} must be true or false")
        if pregenerate and not policy.uses_cache:
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
        self.services = services
        self.policy = policy
        self.requests = list(requests)
        self.cache = cache if policy.uses_cache else None
        self.reclaim = reclaim
        self.pregenerate = pregenerate
        self.pregeneration_budget_qubits = pregeneration_budget_qubits
        self.demand = DemandTracker(half_life_ns=demand_half_life_ns)
        self.records: list[RequestRecord] = []
        self.counts = OrchestratorCounts()

    def run(self) -> Generator[Any, Any, list[RequestRecord]]:
        env = self.sim.env
        for request in self.requests:
            if self.pregenerate and request.arrival_ns > env.now:
                yield from self._pregenerate_until(request.arrival_ns)
            yield from self._idle_until(request.arrival_ns)
            self.demand.observe(request.s, request.d, now_ns=request.arrival_ns)
            record = yield from self._serve(request)
            self._release(request.s, request.d)
            self.records.append(record)
        return self.records

    # -- helpers ------------------------------------------------------------------------
    def _idle_until(self, until_ns: float) -> Generator[Any, Any, None]:
        """Wait for ``until_ns``, discarding cached pairs at their cutoff times meanwhile
        (so their memory is free from the cutoff on, not from the next look at the cache)."""
        env, cache = self.sim.env, self.cache
        while env.now < until_ns:
            wake = until_ns
            if cache is not None:
                wake = min(wake, max(cache.next_expiry_ns(), env.now))
            if wake > env.now:
                yield env.timeout(wake - env.now)
            if cache is not None:
                cache.expire(self.sim.now_ns)

    def _release(self, a: int, b: int) -> None:
        release = getattr(self.services, "release_request", None)
        if release is not None:
            release(a, b)

    def _free_qubits(self, node: int) -> int | None:
        free_slots = getattr(self.services, "free_slots", None)
        return None if free_slots is None else len(free_slots(node))

    def _make_room(self, a: int, b: int, wish: int) -> tuple[int, str]:
        """Reclaim cached spares' qubits at ``a`` or ``b`` until ``wish`` attempts fit.

        Only communication qubits held by spares can be reclaimed: stops when another
        resource binds or no spare holds a qubit at the binding end. Victims per the cache's
        eviction policy (:meth:`protocols.cache.EbitCache.reclaim`). Returns the new cap.
        """
        cap, reason = self.services.attempt_cap(a, b)
        cache = self.cache
        if cache is None:
            return cap, reason
        now = self.sim.now_ns
        while cap < wish and reason == "comm_qubits":
            free_a, free_b = self._free_qubits(a), self._free_qubits(b)
            if free_a is not None and free_b is not None:
                order = (a, b) if free_a <= free_b else (b, a)
            else:
                order = (a, b) if cache.held_at(a) >= cache.held_at(b) else (b, a)
            node = next((x for x in order if cache.held_at(x) > 0), None)
            if node is None or (free_a is not None and free_b is not None
                                and cache.held_at(order[0]) == 0):
                break  # the binding end holds no spare: reclaiming elsewhere cannot help
            if not cache.reclaim(node, 1, now_ns=now):
                break
            self.counts.evicted_for_room += 1
            cap, reason = self.services.attempt_cap(a, b)
        return cap, reason

    def _serve(self, request: Request) -> Generator[Any, Any, RequestRecord]:
        sim, services, policy = self.sim, self.services, self.policy
        s, d = request.s, request.d
        start = sim.now_ns
        attempts = rounds = 0
        cap_bound = ""
        pair: PairHandle | None = None
        hit = False
        cache = self.cache
        if cache is not None:
            cache.expire(start)
            pair = cache.take(s, d, now_ns=start)
            hit = pair is not None
        k_cap, _ = services.attempt_cap(s, d)
        if pair is None:
            p_known = services.p_success(s, d)
            for r in range(policy.rounds):
                if cache is not None:
                    cache.expire(sim.now_ns)
                cap, reason = services.attempt_cap(s, d)
                if cache is not None and self.reclaim and reason == "comm_qubits":
                    reachable = cap + cache.held_at(s) + cache.held_at(d)
                    if reachable > cap:
                        plan = policy.schedule_for(policy.p_for(p_known), max(reachable, 1))
                        wanted = plan[r] if r < len(plan) else 0
                        if wanted > cap:
                            cap, reason = self._make_room(s, d, wanted)
                schedule = policy.schedule_for(policy.p_for(p_known), max(cap, 1))
                wish = schedule[r] if r < len(schedule) else 0
                if wish == 0:
                    break
                k = min(wish, cap)
                if k < wish:
                    cap_bound = cap_bound or reason
                    self.counts.rounds_capped += 1
                    self.counts.cap_reasons[reason] = self.counts.cap_reasons.get(reason, 0) + 1
                if k < 1:
                    rounds += 1
                    continue
                skip = getattr(services, "link_rounds", None)
                rest = policy.rounds - r
                if (skip is not None and not policy.online and k == wish and rest > 1
                        and all(w == k for w in schedule[r:policy.rounds])):
                    # the same k for every remaining round: failed rounds may be skipped
                    outcome = yield from skip(s, d, k, rest)
                else:
                    outcome = yield from services.link_round(s, d, k)
                attempts += outcome.attempts
                rounds += outcome.rounds
                if outcome.rounds > 1 and not outcome.pairs:
                    break
                heralded = outcome.pairs
                policy.observe(attempts=outcome.attempts, heralds=len(heralded))
                self.counts.pairs_heralded += len(heralded)
                if heralded:
                    pair = heralded[0]
                    self._keep_spares(heralded[1:])
                    break
            if pair is not None:
                pair.mark("served")
        if pair is None:
            end = sim.now_ns
            return RequestRecord(
                request.request_id, s, d, request.kind, policy.name, False, attempts, rounds,
                False, end - request.arrival_ns, math.nan, math.nan, math.nan,
                request.arrival_ns, start, end, services.n_qpus, k_cap, cap_bound,
            )
        self.counts.pairs_used += 1
        result = yield from services.execute(request, pair)
        end = sim.now_ns
        return RequestRecord(
            request.request_id, s, d, request.kind, policy.name, True, attempts, rounds, hit,
            end - request.arrival_ns, result.pair_age_ns, result.pair_fidelity, result.fidelity,
            request.arrival_ns, start, end, services.n_qpus, k_cap, cap_bound,
        )

    def _keep_spares(self, spares: list[PairHandle], *, limit: int | None = None) -> int:
        """Offer ``spares`` to the cache (it evicts per its policy); returns how many it kept.

        Without a cache, and beyond ``limit`` kept spares, a spare is discarded at once
        (its memory freed) and counted as surplus.
        """
        now = self.sim.now_ns
        kept = 0
        for spare in spares:
            if self.cache is not None and (limit is None or kept < limit):
                if self.cache.put(spare, now_ns=now):
                    kept += 1
                else:  # dropped (and freed) by the cache: an eviction or the cutoff
                    self.counts.pairs_surplus += 1
                continue
            spare.mark("discarded")
            self.services.discard_pair(spare, "surplus")
            self.counts.pairs_surplus += 1
        return kept

    # -- idle-time pre-generation -------------------------------------------------------------
    def _pregeneration_room(self) -> int:
        """Spares pre-generation may still add under ``pregeneration_budget_qubits``."""
        assert self.cache is not None
        if self.pregeneration_budget_qubits is None:
            return 10**9
        return max(0, (self.pregeneration_budget_qubits - self.cache.held_qubits()) // 2)

    def _pregenerate_until(self, until_ns: float) -> Generator[Any, Any, None]:
        """Generation rounds for the pairs of highest predicted demand until ``until_ns``.

        Each round is for the pair of highest priority ``lambda_hat / (spares + 1)``
        (:meth:`protocols.demand.DemandTracker.top_pairs`) that is below its cache target (the
        bucket's free places, bounded by the memory budget) and has free resources; it
        launches the policy's first-round attempts (capped by the free resources, never
        reclaiming spares). One heralded pair is cached (a greedy step of the allocation);
        the rest are discarded. A round started before ``until_ns`` is finished even if it ends later.
        When no pair qualifies, the orchestrator waits for the next cutoff (which frees a
        place) or for ``until_ns``.
        """
        cache, services, policy, env = self.cache, self.services, self.policy, self.sim.env
        assert cache is not None
        while env.now < until_ns:
            now = self.sim.now_ns
            cache.expire(now)
            budget = self._pregeneration_room()
            choice: tuple[tuple[int, int], int, int] | None = None
            candidates = self.demand.top_pairs(
                now, budget, deficit=cache.budget_room, held=lambda a, b: len(cache.pairs(a, b))
            )
            for (a, b), want in candidates:
                cap, _ = services.attempt_cap(a, b)
                if cap >= 1:
                    choice = ((a, b), want, cap)
                    break
            if choice is None:
                wake = min(until_ns, cache.next_expiry_ns())
                if wake <= now:  # pragma: no cover - defensive: expiry already applied
                    wake = until_ns
                yield env.timeout(wake - now)
                continue
            (a, b), _, cap = choice
            plan = policy.schedule_for(policy.p_for(services.p_success(a, b)), max(cap, 1))
            k = min(max(plan[0], 1), cap)
            outcome = yield from services.link_round(a, b, k)
            policy.observe(attempts=outcome.attempts, heralds=len(outcome.pairs))
            self.counts.pregeneration_rounds += outcome.rounds
            self.counts.pregeneration_attempts += outcome.attempts
            self.counts.pairs_heralded += len(outcome.pairs)
            for pair in outcome.pairs:
                pair.meta["pregenerated"] = True
            # one spare per round: the next spare goes to the pair of highest priority again
            # (extra heralds would take memory from pairs that have none)
            self.counts.pairs_pregenerated += self._keep_spares(outcome.pairs, limit=1)
            self._release(a, b)
            if self.sim.now_ns <= now:  # a round that takes no time: do not spin
                yield env.timeout(until_ns - self.sim.now_ns)
