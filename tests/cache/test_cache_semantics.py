"""Unit rules of the ebit cache: full-bucket eviction, memory budget, reclaim, demand tracker."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modenhub_net.errors import UserInputError
from protocols.cache import EbitCache
from protocols.demand import DemandTracker
from protocols.orchestrator import make_policy
from protocols.pair import PairHandle

T2_SHORT_NS, T2_LONG_NS = 1e5, 1e9


def _pair(pid: int, a: int, b: int, t: float, f0: float = 0.95) -> PairHandle:
    return PairHandle(pid, a, b, None, None, heralded_ns=t, fidelity_estimate=f0)


def _estimate(t2_ns: dict[int, float]):
    """Werner decay with the memories' T2 (the hub's estimate, network.builder)."""

    def estimate(pair: PairHandle, now_ns: float) -> float:
        rate = 1.0 / t2_ns[pair.node_a] + 1.0 / t2_ns[pair.node_b]
        return 0.25 + (pair.fidelity_estimate - 0.25) * math.exp(-pair.age_ns(now_ns) * rate)

    return estimate


def _cache(eviction: str, dropped: list, **kwargs) -> EbitCache:
    t2 = {0: T2_LONG_NS, 1: T2_SHORT_NS, 2: T2_LONG_NS, 3: T2_LONG_NS}
    return EbitCache(eviction=eviction, fidelity_estimate=_estimate(t2),
                     on_discard=lambda p, r: dropped.append((p.pair_id, r)), **kwargs)


def test_full_bucket_evicts_oldest_and_counts_it():
    dropped: list = []
    cache = _cache("oldest", dropped)
    assert cache.put(_pair(1, 0, 1, t=0.0), now_ns=0.0)
    assert cache.put(_pair(2, 1, 0, t=5.0), now_ns=5.0)  # a younger spare replaces the older
    assert [p.pair_id for p in cache.pairs(0, 1)] == [2]
    assert dropped == [(1, "evicted")] and cache.counts.evicted == 1
    # an equally old newcomer does not displace the stored pair (no churn)
    assert not cache.put(_pair(3, 0, 1, t=5.0), now_ns=5.0)
    assert dropped[-1] == (3, "evicted") and [p.pair_id for p in cache.pairs(0, 1)] == [2]
    assert cache.counts.stored == 2 and cache.counts.evicted == 2


def test_pair_capacity_overrides():
    dropped: list = []
    cache = _cache("oldest", dropped, capacity=2, pair_capacity={(1, 0): 0, (2, 3): 3})
    assert cache.capacity_of(0, 1) == 0 and cache.capacity_of(3, 2) == 3 and cache.capacity_of(0, 2) == 2
    assert not cache.put(_pair(1, 0, 1, t=0.0), now_ns=0.0)
    for pid in (2, 3, 4):
        assert cache.put(_pair(pid, 2, 3, t=float(pid)), now_ns=float(pid))
    assert cache.room(2, 3) == 0 and cache.room(0, 2) == 2
    with pytest.raises(UserInputError, match="pair_capacity"):
        EbitCache(pair_capacity={(0, 1): -1})


def _three_spares_at_qpu0(eviction: str) -> tuple[EbitCache, list]:
    """A (0-2, long T2, oldest), B (0-1, short T2), then C (0-3) meets a full QPU 0."""
    dropped: list = []
    cache = _cache(eviction, dropped, max_spares_per_qpu=2)
    cache.put(_pair(1, 0, 2, t=0.0), now_ns=0.0)
    cache.put(_pair(2, 0, 1, t=1e5), now_ns=1e5)
    cache.put(_pair(3, 0, 3, t=3e5), now_ns=3e5)
    return cache, dropped


def test_memory_budget_eviction_oldest_vs_lowest_fidelity_differ():
    oldest, dropped_o = _three_spares_at_qpu0("oldest")
    lowest, dropped_f = _three_spares_at_qpu0("lowest_fidelity")
    # oldest: A (heralded first) leaves; lowest_fidelity: B, whose short-T2 memory has
    # decayed for 2 T2 (F = 1/4 + 0.7 e^-2 = 0.345 < A's 0.9496)
    assert dropped_o == [(1, "evicted")]
    assert dropped_f == [(2, "evicted")]
    assert {p.pair_id for p in oldest.all_pairs()} == {2, 3}
    assert {p.pair_id for p in lowest.all_pairs()} == {1, 3}
    for cache in (oldest, lowest):
        assert cache.held_at(0) == 2 and cache.counts.evicted_budget == 1
    # the newcomer itself is dropped when it is the worst
    cache, dropped = _three_spares_at_qpu0("lowest_fidelity")
    assert not cache.put(_pair(4, 1, 0, t=3e5, f0=0.3), now_ns=3e5)
    assert dropped[-1] == (4, "evicted")


def test_budget_is_never_exceeded():
    rng = np.random.default_rng(11)
    for eviction in ("oldest", "lowest_fidelity"):
        cache = _cache(eviction, [], capacity=3, max_spares_per_qpu=3, max_spares_total=4)
        for pid in range(2000):
            a, b = rng.choice(4, size=2, replace=False)
            t = float(pid) * 1e3
            cache.put(_pair(pid, int(a), int(b), t=t), now_ns=t)
            assert len(cache) <= 4
            assert all(cache.held_at(x) <= 3 for x in range(4))
            assert all(len(cache.pairs(x, y)) <= 3 for x in range(4) for y in range(x + 1, 4))
            assert cache.held_qubits() == 2 * len(cache)
        assert cache.counts.evicted_budget > 0


def test_reclaim_frees_victims_by_policy_and_counts():
    for eviction, expected in (("oldest", [1]), ("lowest_fidelity", [2])):
        dropped: list = []
        cache = _cache(eviction, dropped)
        cache.put(_pair(1, 0, 2, t=0.0), now_ns=0.0)
        cache.put(_pair(2, 0, 1, t=1e5), now_ns=1e5)
        cache.put(_pair(3, 2, 3, t=1e5), now_ns=1e5)  # not at QPU 0: never reclaimed for it
        got = cache.reclaim(0, 1, now_ns=3e5)
        assert [p.pair_id for p in got] == expected
        assert dropped == [(expected[0], "reclaimed")] and cache.counts.reclaimed == 1
        rest = cache.reclaim(0, 5, now_ns=3e5)
        assert len(rest) == 1 and cache.held_at(0) == 0 and len(cache) == 1
        assert cache.reclaim(0, 1, now_ns=3e5) == [] and cache.counts.reclaimed == 2
        assert all(p.status == "discarded" for p in got + rest)


def test_budget_room_and_bad_limits():
    cache = EbitCache(capacity=2, max_spares_per_qpu=1)
    assert cache.budget_room(0, 1) == 1 and cache.room(0, 1) == 2
    cache.put(_pair(1, 0, 1, t=0.0), now_ns=0.0)
    assert cache.budget_room(0, 1) == 0 and cache.budget_room(2, 3) == 1 and cache.room(0, 1) == 1
    for kwargs in ({"max_spares_total": 0}, {"max_spares_per_qpu": True}, {"cutoff_ns": True}):
        with pytest.raises(UserInputError):
            EbitCache(**kwargs)


# -- demand ---------------------------------------------------------------------------------
def test_demand_rate_is_unbiased_for_a_poisson_stream():
    """E[lambda_hat] = lambda and Var = lambda ln2 / (2 h) (exponential-kernel estimator)."""
    rate_hz, half_life_ns, streams = 1000.0, 1e7, 400
    horizon_ns = 20 * half_life_ns  # the weight of the start is 2^-20: stationary
    rng = np.random.default_rng(2024)
    estimates = np.empty(streams)
    for i in range(streams):
        tracker = DemandTracker(half_life_ns=half_life_ns)
        count = rng.poisson(rate_hz * horizon_ns * 1e-9)
        for t in np.sort(rng.uniform(0.0, horizon_ns, size=count)):
            tracker.observe(0, 1, now_ns=float(t))
        estimates[i] = tracker.rate_hz(0, 1, now_ns=horizon_ns)
    variance = rate_hz * math.log(2.0) / (2.0 * half_life_ns * 1e-9)
    assert abs(estimates.mean() - rate_hz) < 4.0 * math.sqrt(variance / streams)
    centred = estimates - estimates.mean()
    s2, m4 = float(np.mean(centred**2)), float(np.mean(centred**4))
    assert abs(s2 - variance) < 4.0 * math.sqrt((m4 - s2**2) / streams)


def test_top_pairs_ranks_by_demand_and_respects_deficit_and_budget():
    tracker = DemandTracker(half_life_ns=1e6)
    for t in range(5):
        tracker.observe(0, 1, now_ns=t * 1e3)
    for t in range(3):
        tracker.observe(3, 2, now_ns=t * 1e3)
    tracker.observe(1, 2, now_ns=4e3)
    assert [k for k, _ in tracker.top_pairs(5e3, 10)] == [(0, 1), (2, 3), (1, 2)]
    deficit = {(0, 1): 0, (2, 3): 2, (1, 2): 3}
    assert tracker.top_pairs(5e3, 4, deficit=lambda a, b: deficit[(a, b)]) == [((2, 3), 2), ((1, 2), 2)]
    assert tracker.top_pairs(5e3, 0) == []
    # the weight halves every half-life
    r0 = tracker.rate_hz(0, 1, now_ns=4e3)
    assert tracker.rate_hz(1, 0, now_ns=4e3 + 1e6) == pytest.approx(r0 / 2, rel=1e-12)
    for bad in (0.0, -1.0, math.inf, True):
        with pytest.raises(UserInputError, match="demand_half_life_ns"):
            DemandTracker(half_life_ns=bad)


# -- the adaptive plan ------------------------------------------------------------------------
def test_adaptive_plan_places_k_r_attempts_when_the_target_rounds_to_one():
    """At p = 0.99 the orchestrated success 1 - 0.01^21 is 1.0 in floating point; the plan
    still places the orchestrated policy's K R = 7 x 3 attempts (N = 128), or cap x R."""
    policy = make_policy("adaptive", n_qpus=128)
    assert sum(policy.schedule_for(0.99, 50)) == 21
    assert sum(policy.schedule_for(0.99, 2)) == 6
    assert sum(policy.schedule_for(0.2, 50)) == 21
    with pytest.raises(UserInputError, match="target_success"):
        make_policy("adaptive", n_qpus=8, target_success=1.0)
    explicit = make_policy("adaptive", n_qpus=8, target_success=0.9)
    # M = ceil(log(0.1) / log(0.8)) = 11 attempts at p = 0.2
    assert sum(explicit.schedule_for(0.2, 50)) == 11
