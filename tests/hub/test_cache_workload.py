"""Ebit cache rules and workload generators."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modenhub_net.errors import UserInputError
from protocols.cache import EbitCache
from protocols.pair import PairHandle, PairLifecycleError
from protocols.workload import hotspot_requests, list_requests, uniform_requests


def _pair(pid, a=0, b=1, t=0.0, f=1.0):
    return PairHandle(pid, a, b, None, None, heralded_ns=t, fidelity_estimate=f)


def test_cache_hit_miss_and_never_served_twice():
    dropped = []
    cache = EbitCache(on_discard=lambda p, r: dropped.append((p.pair_id, r)))
    assert cache.take(0, 1, now_ns=0.0) is None
    p = _pair(1)
    assert cache.put(p, now_ns=0.0)
    got = cache.take(1, 0, now_ns=5.0)
    assert got is p and p.status == "served"
    assert cache.take(0, 1, now_ns=6.0) is None
    assert (cache.counts.hits, cache.counts.misses, cache.counts.stored) == (1, 2, 1)
    with pytest.raises(PairLifecycleError):
        p.mark("cached")
    assert dropped == []


def test_cutoff_expires_and_frees():
    dropped = []
    cache = EbitCache(cutoff_ns=10.0, on_discard=lambda p, r: dropped.append((p.pair_id, r)))
    cache.put(_pair(1, t=0.0), now_ns=0.0)
    assert cache.next_expiry_ns() == 10.0
    assert cache.take(0, 1, now_ns=10.0) is None
    assert dropped == [(1, "expired")]
    assert cache.counts.expired == 1 and len(cache) == 0
    # a pair already past the cutoff is not stored
    assert not cache.put(_pair(2, t=0.0), now_ns=20.0)
    assert dropped[-1] == (2, "expired")


def test_eviction_oldest_and_lowest_fidelity():
    dropped = []
    cache = EbitCache(capacity=2, on_discard=lambda p, r: dropped.append(p.pair_id))
    for pid, t in ((1, 0.0), (2, 1.0), (3, 2.0)):
        cache.put(_pair(pid, t=t), now_ns=t)
    assert dropped == [1] and {p.pair_id for p in cache.pairs(0, 1)} == {2, 3}

    dropped.clear()
    est = {1: 0.9, 2: 0.8, 3: 0.7}
    cache = EbitCache(capacity=2, eviction="lowest_fidelity",
                      fidelity_estimate=lambda p, now: est[p.pair_id],
                      on_discard=lambda p, r: dropped.append(p.pair_id))
    cache.put(_pair(1), now_ns=0.0)
    cache.put(_pair(2), now_ns=0.0)
    assert not cache.put(_pair(3), now_ns=0.0)  # the newcomer is the worst
    assert dropped == [3] and cache.counts.evicted == 1
    assert cache.take(0, 1, now_ns=0.0).pair_id == 1  # serves the best estimate


def test_cache_rejects_bad_config():
    for kwargs in ({"capacity": 0}, {"cutoff_ns": 0.0}, {"eviction": "random"}):
        with pytest.raises(UserInputError):
            EbitCache(**kwargs)
    assert math.isinf(EbitCache().cutoff_ns)


def test_uniform_pairs_are_uniform():
    n, count = 5, 20000
    reqs = uniform_requests(np.random.default_rng(5), n_qpus=n, count=count)
    counts = np.zeros((n, n))
    for r in reqs:
        counts[r.s, r.d] += 1
    assert np.all(np.diag(counts) == 0)
    expected = count / (n * (n - 1))
    off = counts[~np.eye(n, dtype=bool)]
    chi2 = float(((off - expected) ** 2 / expected).sum())
    # 19 degrees of freedom: mean 19, sd ~6.2; 19 + 6 sd is far in the tail
    assert chi2 < 19 + 6 * math.sqrt(2 * 19)
    assert all(r.arrival_ns == 0.0 for r in reqs)


def test_hotspot_and_list():
    rng = np.random.default_rng(3)
    reqs = hotspot_requests(rng, n_qpus=6, count=4000, hot_qpu=2, hot_fraction=0.6,
                            mean_interarrival_ns=50.0, cnot_fraction=0.5)
    involved = np.mean([2 in (r.s, r.d) for r in reqs])
    expected = 0.6 + 0.4 * (2 / 6)
    assert abs(involved - expected) < 4 * math.sqrt(expected * (1 - expected) / 4000)
    assert all(r.s != r.d for r in reqs)
    arrivals = [r.arrival_ns for r in reqs]
    assert arrivals == sorted(arrivals)
    assert {r.kind for r in reqs} == {"teleport", "cnot"}
    lst = list_requests([(0, 1), (1, 2, "cnot", 5.0)], n_qpus=3)
    assert lst[1].kind == "cnot" and lst[1].arrival_ns == 5.0
    for bad in ([(0, 0)], [(0, 5)], [(0, 1, "swap")], [(0, 1, "teleport", 5.0), (0, 1, "teleport", 1.0)]):
        with pytest.raises(UserInputError):
            list_requests(bad, n_qpus=3)
