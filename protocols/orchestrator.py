"""The orchestrator: serves a stream of requests with a round policy and an ebit cache.

The orchestrator is the hub's classical controller. It sees requests and heralds (classical
messages) and :class:`~protocols.pair.PairHandle` objects (which memory slot holds which
half), decides how many parallel attempts to launch each round, keeps spare pairs in the
:class:`~protocols.cache.EbitCache`, and asks the nodes to run the operation. It never reads or
changes a quantum state: everything quantum happens inside the generation, correction and
teleportation protocols that run at the nodes, behind the :class:`HubServices` interface.

Round semantics (DESIGN.md §5, the paper's model): requests are served in arrival order,
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

from modenhub_net.aggregate import adaptive_schedule, analytic_success, k_parallel
from modenhub_net.errors import UserInputError
from modenhub_net.protocol import Protocol
from modenhub_net.simulation import Simulation
from protocols.cache import EbitCache
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
        Adaptive policies: success to reach within R rounds (default: the orchestrated
        policy's ``1 - (1 - p)**(K R)`` at the planned p).
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
            target = target_success
            if target is None:
                target = float(analytic_success(p_key, k=k_paper, rounds=rounds))
            target = min(target, 1.0 - (1.0 - p_key) ** (cap * rounds))
            if target <= 0.0:
                return (max(1, cap),) * rounds
            return adaptive_schedule(p_key, rounds=rounds, target_success=target, max_parallel=cap)

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
    """Run-level counters beyond the per-request records."""

    pairs_heralded: int = 0
    pairs_used: int = 0
    pairs_surplus: int = 0
    rounds_capped: int = 0
    evicted_for_room: int = 0
    cap_reasons: dict[str, int] = field(default_factory=dict)


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

    Attributes
    ----------
    records : list of RequestRecord
    counts : OrchestratorCounts
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
    ) -> None:
        super().__init__(sim, name=name)
        if policy.uses_cache and cache is None:
            raise ValueError("a caching policy needs an EbitCache")
        self.services = services
        self.policy = policy
        self.requests = list(requests)
        self.cache = cache if policy.uses_cache else None
        self.records: list[RequestRecord] = []
        self.counts = OrchestratorCounts()

    def run(self) -> Generator[Any, Any, list[RequestRecord]]:
        env = self.sim.env
        for request in self.requests:
            if request.arrival_ns > env.now:
                yield env.timeout(request.arrival_ns - env.now)
            record = yield from self._serve(request)
            release = getattr(self.services, "release_request", None)
            if release is not None:
                release(request.s, request.d)
            self.records.append(record)
        return self.records

    # -- helpers ------------------------------------------------------------------------
    def _make_room(self, a: int, b: int) -> None:
        """Evict cached pairs held at ``a`` or ``b`` (oldest first) until an attempt fits."""
        if self.cache is None:
            return
        while self.services.attempt_cap(a, b)[0] < 1:
            if self.cache.evict_one(touching={a, b}) is None:
                return
            self.counts.evicted_for_room += 1

    def _serve(self, request: Request) -> Generator[Any, Any, RequestRecord]:
        sim, services, policy = self.sim, self.services, self.policy
        s, d = request.s, request.d
        start = sim.now_ns
        attempts = rounds = 0
        cap_bound = ""
        pair: PairHandle | None = None
        hit = False
        if self.cache is not None:
            self.cache.expire(start)
            pair = self.cache.take(s, d, now_ns=start)
            hit = pair is not None
        k_cap, _ = services.attempt_cap(s, d)
        if pair is None:
            p_known = services.p_success(s, d)
            for r in range(policy.rounds):
                if self.cache is not None:
                    self.cache.expire(sim.now_ns)
                cap, reason = services.attempt_cap(s, d)
                if cap < 1:
                    self._make_room(s, d)
                    cap, reason = services.attempt_cap(s, d)
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

    def _keep_spares(self, spares: list[PairHandle]) -> None:
        now = self.sim.now_ns
        for spare in spares:
            kept = False
            if self.cache is not None:
                room = self.cache.capacity - len(self.cache.pairs(spare.node_a, spare.node_b))
                if room > 0:
                    kept = self.cache.put(spare, now_ns=now)
                    if not kept:
                        continue  # the cache discarded it (and freed its memory)
            if not kept:
                spare.mark("discarded")
                self.services.discard_pair(spare, "surplus")
                self.counts.pairs_surplus += 1
