"""The ebit cache: spare heralded pairs kept per unordered QPU pair.

Rules (ARCHITECTURE.md, the paper's capacity-1 cache generalised):

- one bucket per unordered QPU pair ``{a, b}``, holding at most ``capacity`` pairs (or the
  pair's own entry of ``pair_capacity``);
- a pair older than ``cutoff_ns`` (time since its herald) is discarded, and its memory freed,
  whenever the cache is looked at (:meth:`EbitCache.take`, :meth:`EbitCache.put`,
  :meth:`EbitCache.expire`, :meth:`EbitCache.reclaim`) — so an expired pair is never served;
- a newcomer that meets a full bucket, or a full memory budget (``max_spares_total`` spares
  in the whole cache, ``max_spares_per_qpu`` spares holding a qubit at one QPU), *evicts* a
  stored pair chosen by ``eviction`` — ``"oldest"`` (earliest herald) or ``"lowest_fidelity"``
  (lowest *estimated current* fidelity, see below) — among the pairs that compete for the full
  place and the newcomer itself. A newcomer displaces a stored pair only when it is strictly
  better (younger, or of higher estimated fidelity); otherwise the newcomer is the one dropped.
  Every such drop is counted in :attr:`CacheCounts.evicted`;
- :meth:`EbitCache.reclaim` frees spares holding a qubit at a QPU when an attempt needs that
  qubit (spares never starve attempts); victims by the same ``eviction`` rule, counted in
  :attr:`CacheCounts.reclaimed`;
- :meth:`EbitCache.take` serves the pair with the highest estimated fidelity (youngest on
  ties), marks it ``served`` and forgets it: a pair is served at most once.

The cache is classical bookkeeping: it holds :class:`~protocols.pair.PairHandle` objects
and asks its owner to free the memory of a pair it drops (``on_discard``). The fidelity it
ranks by is an estimate from classical knowledge (herald fidelity and memory coherence
times), supplied by ``fidelity_estimate(pair, now_ns)`` (the hub network's is
:meth:`modenhub_net.network.builder.HubNetwork.fidelity_estimate`); fidelities reported to
users are computed from the actual state at use.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from modenhub_net.errors import UserInputError
from protocols.pair import PairHandle

__all__ = ["EbitCache", "CacheCounts", "EVICTION_POLICIES"]

EVICTION_POLICIES: tuple[str, ...] = ("oldest", "lowest_fidelity")

#: reasons passed to ``on_discard``
DISCARD_REASONS: tuple[str, ...] = ("expired", "evicted", "reclaimed")


@dataclass
class CacheCounts:
    """Counters of one cache (all >= 0).

    Attributes
    ----------
    hits, misses : int
        Look-ups that found / did not find a usable pair.
    stored : int
        Pairs accepted by :meth:`EbitCache.put`.
    expired : int
        Pairs discarded because they reached the cutoff.
    evicted : int
        Pairs discarded because their bucket or the memory budget was full (includes a
        rejected newcomer), and pairs dropped by :meth:`EbitCache.clear`.
    evicted_budget : int
        The part of ``evicted`` due to the memory budget (``max_spares_*``).
    reclaimed : int
        Pairs whose qubits were reclaimed for attempts (:meth:`EbitCache.reclaim`).
    """

    hits: int = 0
    misses: int = 0
    stored: int = 0
    expired: int = 0
    evicted: int = 0
    evicted_budget: int = 0
    reclaimed: int = 0


def _age_estimate(pair: PairHandle, now_ns: float) -> float:
    return -pair.age_ns(now_ns)


def _check_limit(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserInputError(f"cache.{name} = {value!r} must be an integer >= 1 (or None: no limit)")
    return value


class EbitCache:
    """Spare pairs per unordered QPU pair, with capacity, cutoff, eviction and a memory budget.

    Parameters
    ----------
    capacity : int, optional
        Pairs kept per unordered QPU pair, >= 1; default 1 (the paper's cache: one spare
        per pair, Sec. "Orchestrated" Monte Carlo, DESIGN §5).
    cutoff_ns : float, optional
        Maximum age of a cached pair, in ns, > 0; default ``inf`` (never cut off, as in the
        paper). Cutoffs of the order of the memories' T2 bound the fidelity at use.
    eviction : {"oldest", "lowest_fidelity"}, optional
        What leaves when a place is needed (default ``"oldest"``).
    fidelity_estimate : callable, optional
        ``fidelity_estimate(pair, now_ns) -> float``, the classical estimate of a pair's
        current fidelity; default ranks by youth (younger = better).
    on_discard : callable, optional
        ``on_discard(pair, reason)`` called for every pair the cache drops (``reason`` is
        ``"expired"``, ``"evicted"`` or ``"reclaimed"``) so its owner frees the memory slots.
    pair_capacity : mapping, optional
        ``{(a, b): capacity}`` overrides of ``capacity`` for some unordered pairs (each >= 0;
        0 keeps no spare for that pair).
    max_spares_total : int, optional
        Memory budget: spare pairs held in the whole cache (>= 1); default None (no limit).
    max_spares_per_qpu : int, optional
        Memory budget: spare pairs holding a qubit at any one QPU (>= 1); default None.

    Examples
    --------
    >>> from protocols.pair import PairHandle
    >>> cache = EbitCache(capacity=1, cutoff_ns=100.0)
    >>> cache.put(PairHandle(0, 1, 2, None, None, heralded_ns=0.0), now_ns=0.0)
    True
    >>> cache.take(2, 1, now_ns=150.0) is None   # expired at 100 ns: never served
    True
    >>> cache.counts.expired, cache.counts.misses
    (1, 1)
    >>> cache.put(PairHandle(1, 1, 2, None, None, heralded_ns=10.0), now_ns=10.0)
    True
    >>> cache.put(PairHandle(2, 1, 2, None, None, heralded_ns=20.0), now_ns=20.0)  # evicts 1
    True
    >>> [p.pair_id for p in cache.pairs(1, 2)], cache.counts.evicted
    ([2], 1)
    """

    def __init__(
        self,
        *,
        capacity: int = 1,
        cutoff_ns: float = math.inf,
        eviction: str = "oldest",
        fidelity_estimate: Callable[[PairHandle, float], float] | None = None,
        on_discard: Callable[[PairHandle, str], None] | None = None,
        pair_capacity: Mapping[tuple[int, int], int] | None = None,
        max_spares_total: int | None = None,
        max_spares_per_qpu: int | None = None,
    ) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise UserInputError(f"cache.capacity = {capacity!r} must be an integer >= 1")
        if isinstance(cutoff_ns, bool) or not isinstance(cutoff_ns, (int, float)) or not (cutoff_ns > 0):
            raise UserInputError(f"cache.cutoff_ns = {cutoff_ns!r} must be a number > 0 (inf: no cutoff)")
        if eviction not in EVICTION_POLICIES:
            raise UserInputError(
                f"cache.eviction = {eviction!r}: unknown (allowed: {', '.join(EVICTION_POLICIES)})"
            )
        overrides: dict[tuple[int, int], int] = {}
        for key, value in (pair_capacity or {}).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise UserInputError(
                    f"cache.pair_capacity[{key!r}] = {value!r} must be an integer >= 0"
                )
            overrides[_key(*key)] = value
        self.capacity = capacity
        self.cutoff_ns = float(cutoff_ns)
        self.eviction = eviction
        self.pair_capacity = overrides
        self.max_spares_total = _check_limit("max_spares_total", max_spares_total)
        self.max_spares_per_qpu = _check_limit("max_spares_per_qpu", max_spares_per_qpu)
        self._estimate = fidelity_estimate or _age_estimate
        self._on_discard = on_discard
        self._buckets: dict[tuple[int, int], list[PairHandle]] = {}
        self._held: dict[int, int] = {}
        self.counts = CacheCounts()

    # -- queries ----------------------------------------------------------------------
    def __len__(self) -> int:
        return sum(len(bucket) for bucket in self._buckets.values())

    def pairs(self, a: int, b: int) -> tuple[PairHandle, ...]:
        """The pairs currently cached for ``{a, b}`` (oldest first); no expiry applied."""
        return tuple(self._buckets.get(_key(a, b), ()))

    def capacity_of(self, a: int, b: int) -> int:
        """The bucket size of ``{a, b}`` (``pair_capacity`` entry or ``capacity``)."""
        return self.pair_capacity.get(_key(a, b), self.capacity)

    def room(self, a: int, b: int) -> int:
        """Free places in the bucket of ``{a, b}`` (ignores the memory budget)."""
        return max(0, self.capacity_of(a, b) - len(self._buckets.get(_key(a, b), ())))

    def held_at(self, node: int) -> int:
        """Cached pairs holding a qubit at QPU ``node``."""
        return self._held.get(node, 0)

    def held_qubits(self) -> int:
        """Communication qubits held by cached pairs (two per pair)."""
        return 2 * len(self)

    def budget_room(self, a: int, b: int) -> int:
        """Pairs ``{a, b}`` could still add without evicting anything: the bucket's free
        places (:meth:`room`), bounded by the memory budget (``max_spares_*``)."""
        room = self.room(a, b)
        if self.max_spares_total is not None:
            room = min(room, self.max_spares_total - len(self))
        if self.max_spares_per_qpu is not None:
            room = min(room, self.max_spares_per_qpu - self.held_at(a),
                       self.max_spares_per_qpu - self.held_at(b))
        return max(0, room)

    def all_pairs(self) -> Iterable[PairHandle]:
        """Every cached pair (bucket by bucket, oldest first within a bucket)."""
        for bucket in self._buckets.values():
            yield from bucket

    # -- life cycle -------------------------------------------------------------------
    def _remove(self, pair: PairHandle) -> None:
        key = pair.pair
        bucket = self._buckets[key]
        bucket.remove(pair)
        if not bucket:
            del self._buckets[key]
        for node in key:
            left = self._held[node] - 1
            if left:
                self._held[node] = left
            else:
                del self._held[node]

    def _add(self, pair: PairHandle) -> None:
        self._buckets.setdefault(pair.pair, []).append(pair)
        for node in pair.pair:
            self._held[node] = self._held.get(node, 0) + 1

    def _drop(self, pair: PairHandle, reason: str) -> None:
        pair.mark("discarded")
        if reason == "expired":
            self.counts.expired += 1
        elif reason == "reclaimed":
            self.counts.reclaimed += 1
        else:
            self.counts.evicted += 1
        if self._on_discard is not None:
            self._on_discard(pair, reason)

    def _expired(self, pair: PairHandle, now_ns: float) -> bool:
        # the same expression as next_expiry_ns, so a wake-up at that time always expires
        return now_ns >= pair.heralded_ns + self.cutoff_ns

    def _expire_bucket(self, key: tuple[int, int], now_ns: float) -> None:
        bucket = self._buckets.get(key)
        if not bucket or math.isinf(self.cutoff_ns):
            return
        for pair in [p for p in bucket if self._expired(p, now_ns)]:
            self._remove(pair)
            self._drop(pair, "expired")

    def expire(self, now_ns: float) -> int:
        """Discard every pair at or past the cutoff; returns how many left."""
        before = self.counts.expired
        if not math.isinf(self.cutoff_ns):
            for key in list(self._buckets):
                self._expire_bucket(key, now_ns)
        return self.counts.expired - before

    def next_expiry_ns(self) -> float:
        """Earliest time a cached pair reaches the cutoff (``inf`` if none)."""
        if math.isinf(self.cutoff_ns) or not self._buckets:
            return math.inf
        return min(p.heralded_ns for b in self._buckets.values() for p in b) + self.cutoff_ns

    def _rank(self, pair: PairHandle, now_ns: float) -> float:
        """Keep-worthiness under the eviction policy (higher = keep)."""
        if self.eviction == "oldest":
            return pair.heralded_ns
        return self._estimate(pair, now_ns)

    def _victim(self, candidates: Iterable[PairHandle], now_ns: float) -> PairHandle | None:
        """The candidate to drop: lowest rank; ties go to the earliest in ``candidates``."""
        best: PairHandle | None = None
        best_rank = math.inf
        for pair in candidates:
            rank = self._rank(pair, now_ns)
            if best is None or rank < best_rank:
                best, best_rank = pair, rank
        return best

    def take(self, a: int, b: int, *, now_ns: float) -> PairHandle | None:
        """Serve a cached pair for ``{a, b}`` (a hit) or return None (a miss).

        Expired pairs of the bucket are discarded first. The served pair is marked
        ``served`` and removed: it can never be served again.
        """
        key = _key(a, b)
        self._expire_bucket(key, now_ns)
        bucket = self._buckets.get(key)
        if not bucket:
            self.counts.misses += 1
            return None
        best = max(range(len(bucket)), key=lambda i: (self._estimate(bucket[i], now_ns), i))
        pair = bucket[best]
        self._remove(pair)
        pair.mark("served")
        self.counts.hits += 1
        return pair

    def _make_place(self, pair: PairHandle, pool: list[PairHandle], now_ns: float,
                    *, budget: bool) -> bool:
        """Drop the worst of ``pool`` + newcomer; False if the newcomer itself is dropped.

        The newcomer is listed first, so on equal rank it is the one dropped (a stored pair
        is displaced only by a strictly better newcomer).
        """
        victim = self._victim([pair, *pool], now_ns)
        if budget:
            self.counts.evicted_budget += 1
        if victim is pair:
            self._drop(pair, "evicted")
            return False
        assert victim is not None
        self._remove(victim)
        self._drop(victim, "evicted")
        return True

    def put(self, pair: PairHandle, *, now_ns: float) -> bool:
        """Offer a spare pair; returns True if it is kept.

        A full bucket, then a full memory budget, evicts per :attr:`eviction` among the
        competing stored pairs and the newcomer (the newcomer is dropped unless strictly
        better: then False is returned). A pair already at the cutoff is discarded at once
        (False). Every dropped pair goes through ``on_discard``.
        """
        if not pair.alive:
            raise ValueError(f"pair {pair.pair_id} is {pair.status}; it cannot be cached")
        key = pair.pair
        self._expire_bucket(key, now_ns)
        if self._expired(pair, now_ns):
            self._drop(pair, "expired")
            return False
        cap = self.capacity_of(*key)
        if cap < 1:
            self._drop(pair, "evicted")
            return False
        if len(self._buckets.get(key, ())) >= cap:
            if not self._make_place(pair, list(self._buckets[key]), now_ns, budget=False):
                return False
        if self.max_spares_per_qpu is not None:
            for node in key:
                if self.held_at(node) >= self.max_spares_per_qpu:
                    self.expire(now_ns)
                if self.held_at(node) >= self.max_spares_per_qpu:
                    pool = [p for p in self.all_pairs() if node in p.pair]
                    if not self._make_place(pair, pool, now_ns, budget=True):
                        return False
        if self.max_spares_total is not None and len(self) >= self.max_spares_total:
            self.expire(now_ns)
            if len(self) >= self.max_spares_total:
                if not self._make_place(pair, list(self.all_pairs()), now_ns, budget=True):
                    return False
        pair.mark("cached")
        self._add(pair)
        self.counts.stored += 1
        return True

    def reclaim(self, node: int, n: int = 1, *, now_ns: float) -> list[PairHandle]:
        """Free up to ``n`` cached pairs holding a qubit at QPU ``node`` for attempts.

        Expired pairs are discarded first (they free their qubits anyway). Victims are chosen
        by :attr:`eviction` (oldest first, or lowest estimated current fidelity first); each
        is dropped through ``on_discard(pair, "reclaimed")`` and counted in
        :attr:`CacheCounts.reclaimed`.

        Returns
        -------
        list of PairHandle
            The reclaimed pairs (possibly fewer than ``n``, or none).
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"reclaim: n = {n!r} must be an integer >= 0")
        self.expire(now_ns)
        out: list[PairHandle] = []
        while len(out) < n and self.held_at(node) > 0:
            victim = self._victim((p for p in self.all_pairs() if node in p.pair), now_ns)
            assert victim is not None
            self._remove(victim)
            self._drop(victim, "reclaimed")
            out.append(victim)
        return out

    def evict_one(self, *, touching: set[int] | frozenset[int]) -> PairHandle | None:
        """Evict the oldest cached pair with an end in ``touching`` (to free its memory).

        Kept for callers that free memory without a clock; :meth:`reclaim` applies the
        eviction policy and counts the pair as reclaimed. Returns the evicted pair (already
        discarded through ``on_discard``), or None.
        """
        best: PairHandle | None = None
        for pair in self.all_pairs():
            if set(pair.pair) & set(touching) and (best is None or pair.heralded_ns < best.heralded_ns):
                best = pair
        if best is None:
            return None
        self._remove(best)
        self._drop(best, "evicted")
        return best

    def clear(self, *, now_ns: float) -> None:
        """Discard everything (end of a run), counted as evictions."""
        for pair in list(self.all_pairs()):
            self._remove(pair)
            self._drop(pair, "evicted")


def _key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)
