"""The ebit cache: spare heralded pairs kept per unordered QPU pair.

Rules (DESIGN.md §5 for capacity 1, generalised):

- one bucket per unordered QPU pair ``{a, b}``, holding at most ``capacity`` pairs;
- a pair older than ``cutoff_ns`` (time since its herald) is discarded, and its memory freed,
  whenever the cache is looked at (:meth:`EbitCache.take`, :meth:`EbitCache.put`,
  :meth:`EbitCache.expire`) — so an expired pair is never served;
- when a bucket is full, :meth:`EbitCache.put` evicts by ``eviction``: ``"oldest"`` (the
  oldest stored pair leaves) or ``"lowest_fidelity"`` (the pair with the lowest *estimated*
  current fidelity among the stored ones and the newcomer leaves, possibly the newcomer);
- :meth:`EbitCache.take` serves the pair with the highest estimated fidelity (youngest on
  ties), marks it ``served`` and forgets it: a pair is served at most once.

The cache is classical bookkeeping: it holds :class:`~protocols.pair.PairHandle` objects
and asks its owner to free the memory of a pair it drops (``on_discard``). The fidelity it
ranks by is an estimate from classical knowledge (herald fidelity and memory coherence
times), supplied by ``fidelity_estimate(pair, now_ns)``; measured fidelities are computed
from the actual state only at use.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from modenhub_net.errors import UserInputError
from protocols.pair import PairHandle

__all__ = ["EbitCache", "CacheCounts", "EVICTION_POLICIES"]

EVICTION_POLICIES: tuple[str, ...] = ("oldest", "lowest_fidelity")


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
        Pairs discarded because their bucket was full (includes a rejected newcomer).
    """

    hits: int = 0
    misses: int = 0
    stored: int = 0
    expired: int = 0
    evicted: int = 0


def _age_estimate(pair: PairHandle, now_ns: float) -> float:
    return -pair.age_ns(now_ns)


class EbitCache:
    """Spare pairs per unordered QPU pair, with capacity, cutoff and eviction.

    Parameters
    ----------
    capacity : int, optional
        Pairs kept per unordered QPU pair (>= 1, default 1 as in the paper).
    cutoff_ns : float, optional
        Maximum age (ns, > 0) of a cached pair; default ``inf`` (never cut off).
    eviction : {"oldest", "lowest_fidelity"}, optional
        What leaves a full bucket (default ``"oldest"``).
    fidelity_estimate : callable, optional
        ``fidelity_estimate(pair, now_ns) -> float``, the classical estimate of a pair's
        current fidelity; default ranks by youth (younger = better).
    on_discard : callable, optional
        ``on_discard(pair, reason)`` called for every pair the cache drops (``reason`` is
        ``"expired"`` or ``"evicted"``) so its owner frees the memory slots.

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
    """

    def __init__(
        self,
        *,
        capacity: int = 1,
        cutoff_ns: float = math.inf,
        eviction: str = "oldest",
        fidelity_estimate: Callable[[PairHandle, float], float] | None = None,
        on_discard: Callable[[PairHandle, str], None] | None = None,
    ) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise UserInputError(f"cache.capacity = {capacity!r} must be an integer >= 1")
        if not (cutoff_ns > 0):
            raise UserInputError(f"cache.cutoff_ns = {cutoff_ns!r} must be > 0 (inf: no cutoff)")
        if eviction not in EVICTION_POLICIES:
            raise UserInputError(
                f"cache.eviction = {eviction!r}: unknown (allowed: {', '.join(EVICTION_POLICIES)})"
            )
        self.capacity = capacity
        self.cutoff_ns = float(cutoff_ns)
        self.eviction = eviction
        self._estimate = fidelity_estimate or _age_estimate
        self._on_discard = on_discard
        self._buckets: dict[tuple[int, int], list[PairHandle]] = {}
        self.counts = CacheCounts()

    # -- queries ----------------------------------------------------------------------
    def __len__(self) -> int:
        return sum(len(bucket) for bucket in self._buckets.values())

    def pairs(self, a: int, b: int) -> tuple[PairHandle, ...]:
        """The pairs currently cached for ``{a, b}`` (oldest first); no expiry applied."""
        return tuple(self._buckets.get(_key(a, b), ()))

    # -- life cycle -------------------------------------------------------------------
    def _drop(self, pair: PairHandle, reason: str) -> None:
        pair.mark("discarded")
        if reason == "expired":
            self.counts.expired += 1
        else:
            self.counts.evicted += 1
        if self._on_discard is not None:
            self._on_discard(pair, reason)

    def _expire_bucket(self, key: tuple[int, int], now_ns: float) -> None:
        bucket = self._buckets.get(key)
        if not bucket or math.isinf(self.cutoff_ns):
            return
        keep = []
        for pair in bucket:
            if pair.age_ns(now_ns) >= self.cutoff_ns:
                self._drop(pair, "expired")
            else:
                keep.append(pair)
        if keep:
            self._buckets[key] = keep
        else:
            del self._buckets[key]

    def expire(self, now_ns: float) -> int:
        """Discard every pair at or past the cutoff; returns how many left."""
        before = self.counts.expired
        for key in list(self._buckets):
            self._expire_bucket(key, now_ns)
        return self.counts.expired - before

    def next_expiry_ns(self) -> float:
        """Earliest time a cached pair reaches the cutoff (``inf`` if none)."""
        if math.isinf(self.cutoff_ns) or not self._buckets:
            return math.inf
        return min(p.heralded_ns for b in self._buckets.values() for p in b) + self.cutoff_ns

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
        pair = bucket.pop(best)
        if not bucket:
            del self._buckets[key]
        pair.mark("served")
        self.counts.hits += 1
        return pair

    def put(self, pair: PairHandle, *, now_ns: float) -> bool:
        """Offer a spare pair; returns True if it is kept.

        A full bucket evicts per :attr:`eviction` (with ``"lowest_fidelity"`` the newcomer
        itself may be the one dropped, then False is returned). A pair already at the cutoff
        is discarded at once (False).
        """
        if not pair.alive:
            raise ValueError(f"pair {pair.pair_id} is {pair.status}; it cannot be cached")
        key = _key(pair.node_a, pair.node_b)
        self._expire_bucket(key, now_ns)
        if pair.age_ns(now_ns) >= self.cutoff_ns:
            self._drop(pair, "expired")
            return False
        bucket = self._buckets.setdefault(key, [])
        if len(bucket) >= self.capacity:
            if self.eviction == "oldest":
                victim_index = min(range(len(bucket)), key=lambda i: bucket[i].heralded_ns)
                self._drop(bucket.pop(victim_index), "evicted")
            else:
                candidates = [*bucket, pair]
                victim_index = min(
                    range(len(candidates)),
                    key=lambda i: (self._estimate(candidates[i], now_ns), i),
                )
                if victim_index == len(bucket):
                    self._drop(pair, "evicted")
                    return False
                self._drop(bucket.pop(victim_index), "evicted")
        pair.mark("cached")
        bucket.append(pair)
        self.counts.stored += 1
        return True

    def evict_one(self, *, touching: set[int] | frozenset[int]) -> PairHandle | None:
        """Evict the oldest cached pair with an end in ``touching`` (to free its memory).

        Returns the evicted pair (already discarded through ``on_discard``), or None.
        """
        best: tuple[float, tuple[int, int], int] | None = None
        for key, bucket in self._buckets.items():
            if not (set(key) & set(touching)):
                continue
            for i, pair in enumerate(bucket):
                if best is None or pair.heralded_ns < best[0]:
                    best = (pair.heralded_ns, key, i)
        if best is None:
            return None
        _, key, i = best
        bucket = self._buckets[key]
        pair = bucket.pop(i)
        if not bucket:
            del self._buckets[key]
        self._drop(pair, "evicted")
        return pair

    def clear(self, *, now_ns: float) -> None:
        """Discard everything (end of a run), counted as evictions."""
        for key in list(self._buckets):
            for pair in self._buckets.pop(key):
                self._drop(pair, "evicted")


def _key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)
