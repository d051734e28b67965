"""The serial orchestrator with a cache that acts, on the hub built from the device components.

Hubs are calibrated so that one attempt heralds with the paper's ``p_eff(N)`` (or a chosen p):
:func:`modenhub_net.studies.calibrated_hub_study.calibrated_hardware`.
"""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np
import pytest

from hardware_models import MemoryParams
from modenhub_net.aggregate import AggregateModel
from modenhub_net.network.builder import build_hub_network, run_policy
from modenhub_net.simulation import Simulation
from modenhub_net.studies.calibrated_hub_study import calibrated_hardware
from protocols.cache import EbitCache
from protocols.orchestrator import Orchestrator, make_policy
from protocols.workload import hotspot_requests, list_requests, uniform_requests
from tests.cache.legacy_orchestrator import LegacyOrchestrator

PAPER = AggregateModel()


def _hardware(n, *, model=PAPER, comm_qubits=None, t2_ns=None):
    nodes, hub = calibrated_hardware(model, n)
    out = []
    for i, spec in enumerate(nodes):
        update = {}
        if comm_qubits is not None:
            update["qpu"] = spec.qpu.model_copy(update={"n_comm_qubits": comm_qubits})
        if t2_ns is not None:
            update["memory"] = MemoryParams(t2_ns=t2_ns[i])
        out.append(spec.model_copy(update=update))
    return out, hub


def _run(nodes, hub, requests, *, policy="orchestrated", seed=1, cls=Orchestrator, model=PAPER,
         cache_kwargs=None, **orch_kwargs):
    sim = Simulation(seed=seed)
    net = build_hub_network(sim, nodes=nodes, hub=hub)
    round_policy = make_policy(policy, n_qpus=net.n_qpus, kappa=model.kappa, k_min=model.k_min)
    discarded: list = []

    def on_discard(pair, reason):
        discarded.append((sim.now_ns, pair, reason))
        net.discard_pair(pair, reason)

    cache = EbitCache(fidelity_estimate=net.fidelity_estimate, on_discard=on_discard,
                      **(cache_kwargs or {}))
    orchestrator = cls(sim, services=net, policy=round_policy, requests=requests, cache=cache,
                       **orch_kwargs)
    orchestrator.start()
    sim.run()
    return orchestrator, net, cache, discarded


def _mean_se(values):
    x = np.asarray(values, dtype=float)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x)))


def _same(a, b):
    return (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)) or a == b


# -- the paper's semantics are kept -------------------------------------------------------------
@pytest.mark.parametrize("n, count, policy", [(8, 2500, "orchestrated"), (128, 1000, "orchestrated"),
                                              (32, 1000, "naive")])
def test_defaults_give_the_records_of_the_unchanged_code_path(n, count, policy):
    """run_policy's defaults (capacity 1, oldest, no pre-generation, no budget) on the paper's
    workload (requests uniform, all at t = 0) give the version-0.4 records exactly."""
    nodes, hub = _hardware(n)
    requests = uniform_requests(np.random.default_rng(n), n_qpus=n, count=count)
    before, _, _, _ = _run(nodes, hub, requests, policy=policy, seed=7, cls=LegacyOrchestrator)
    after, _, _ = run_policy(nodes=nodes, hub=hub, scheme="detection_in_hub", link_mode="sampled",
                             policy=policy, requests=requests, seed=7)
    assert len(after) == len(before.records) == count
    for old, new in zip(before.records, after, strict=True):
        old_row, new_row = asdict(old), asdict(new)
        assert all(_same(v, new_row[k]) for k, v in old_row.items()), (old_row, new_row)
    if policy == "orchestrated":
        assert any(r.cache_hit for r in after)


# -- spares never starve attempts --------------------------------------------------------------
def test_caching_no_longer_lowers_success_with_few_comm_qubits():
    """N = 128, 8 communication qubits per QPU, the paper's workload. Before: spares held the
    qubits and capped later rounds, so the cache LOWERED success; now their qubits are
    reclaimed (counted) and caching is at least as good as no cache (4 SE)."""
    n, count = 128, 2500
    nodes, hub = _hardware(n, comm_qubits=8)
    requests = uniform_requests(np.random.default_rng(128), n_qpus=n, count=count)
    legacy, _, _, _ = _run(nodes, hub, requests, seed=3, cls=LegacyOrchestrator)
    cached, _, cache, discarded = _run(nodes, hub, requests, seed=3)
    nocache, _, _, _ = _run(nodes, hub, requests, seed=3, policy="orchestrated_nocache")
    s_old, se_old = _mean_se([r.success for r in legacy.records])
    s_new, se_new = _mean_se([r.success for r in cached.records])
    s_no, se_no = _mean_se([r.success for r in nocache.records])
    # the defect this fixes is real in this configuration ...
    assert s_no - s_old > 4 * math.hypot(se_no, se_old)
    assert legacy.counts.rounds_capped > 0
    # ... and gone: caching never lowers success
    assert s_new - s_no > -4 * math.hypot(se_new, se_no)
    assert cache.counts.reclaimed == cached.counts.evicted_for_room > 0
    assert sum(1 for _, _, reason in discarded if reason == "reclaimed") == cache.counts.reclaimed
    # reclaiming raises the attempts a request gets
    a_old, sea_old = _mean_se([r.attempts for r in legacy.records if not r.cache_hit])
    a_new, sea_new = _mean_se([r.attempts for r in cached.records if not r.cache_hit])
    assert a_new - a_old > 4 * math.hypot(sea_new, sea_old)
    assert cached.counts.rounds_capped < legacy.counts.rounds_capped


# -- eviction acts ---------------------------------------------------------------------------------
def _eviction_run(eviction):
    """QPU 0 long T2, QPU 1 short T2 (100 us), QPUs 2, 3 long T2; at most 2 spares per QPU.

    p = 0.5 per attempt, K = 10 attempts a round: a request leaves a spare with probability
    1 - 11/1024 (fixed seed). Spares: A = 0-2 at 0, B = 0-1 at 100 us; at 300 us C = 0-3 meets
    the full QPU 0: "oldest" evicts A, "lowest_fidelity" evicts B (decayed for 2 T2).
    """
    model = AggregateModel(p0=0.5, beta=0.0, k_min=10)
    nodes, hub = _hardware(4, model=model, t2_ns=[1e9, 1e5, 1e9, 1e9])
    requests = list_requests([(0, 2, "teleport", 0.0), (0, 1, "teleport", 1e5),
                              (0, 3, "teleport", 3e5), (2, 0, "teleport", 4e5)], n_qpus=4)
    orchestrator, _, cache, discarded = _run(
        nodes, hub, requests, seed=5, model=model,
        cache_kwargs={"eviction": eviction, "max_spares_per_qpu": 2},
    )
    return orchestrator.records, cache, discarded


def test_oldest_and_lowest_fidelity_give_different_records():
    oldest, cache_o, dropped_o = _eviction_run("oldest")
    lowest, cache_f, dropped_f = _eviction_run("lowest_fidelity")
    assert [r.cache_hit for r in oldest[:3]] == [r.cache_hit for r in lowest[:3]] == [False] * 3
    # stored pairs that were evicted (a rejected newcomer is dropped at its herald time)
    evicted_o = [p.pair for t, p, why in dropped_o if why == "evicted" and t > p.heralded_ns]
    evicted_f = [p.pair for t, p, why in dropped_f if why == "evicted" and t > p.heralded_ns]
    assert evicted_o[0] == (0, 2) and evicted_f[0] == (0, 1)
    assert cache_o.counts.evicted_budget >= 1 and cache_f.counts.evicted_budget >= 1
    # request 4 (0-2): a miss after "oldest" evicted A, a hit with A under "lowest_fidelity"
    assert not oldest[3].cache_hit and oldest[3].attempts > 0
    assert lowest[3].cache_hit and lowest[3].attempts == 0
    # the pair served from the cache kept its fidelity (computed from the simulated state:
    # 4e5 ns in T2 = 1 s memories, F ~ (1 + V) / 2 = 1 for the ideal calibrated BSM)
    assert lowest[3].pair_fidelity > 0.99
    assert [asdict(r) for r in oldest] != [asdict(r) for r in lowest]


# -- cutoff ------------------------------------------------------------------------------------------
def test_cutoff_frees_the_memory_at_the_cutoff_time():
    model = AggregateModel(p0=0.5, beta=0.0, k_min=10)
    nodes, hub = _hardware(4, model=model)
    cutoff_ns = 2.5e5
    requests = list_requests([(0, 1, "teleport", 0.0), (2, 3, "teleport", 1e5),
                              (0, 1, "teleport", 1e6)], n_qpus=4)
    orchestrator, net, cache, discarded = _run(nodes, hub, requests, seed=2, model=model,
                                               cache_kwargs={"cutoff_ns": cutoff_ns})
    expired = [(t, p) for t, p, why in discarded if why == "expired"]
    assert len(expired) == 2 and cache.counts.expired == 2
    for t, pair in expired:
        assert t == pair.heralded_ns + cutoff_ns  # freed at the cutoff, not at the next look
    assert not orchestrator.records[2].cache_hit  # the 0-1 spare had expired
    assert all(pair.heralded_ns >= 1e6 for pair in cache.all_pairs())  # only the last one's spare


# -- pre-generation ------------------------------------------------------------------------------
def test_hit_rate_without_pregeneration_matches_the_closed_form():
    """One pair requested every 10 ms, the paper's hub at N = 4 (p = p_eff(4), K = 2, R = 3).

    A miss leaves a spare when its successful round heralds both attempts:
    ``q = S p^2 / (1 - (1 - p)^2)``, ``S = 1 - (1 - p)^(K R)``; a hit empties the cache, so the
    stationary hit rate is ``q / (1 + q)`` (a two-state Markov chain).
    """
    n, count = 4, 3000
    nodes, hub = _hardware(n)
    requests = list_requests([(0, 1, "teleport", 1e7 * i) for i in range(count)], n_qpus=n)
    orchestrator, _, _, _ = _run(nodes, hub, requests, seed=4)
    p, k, rounds = PAPER.p_eff(n), PAPER.k_parallel(n), PAPER.rounds
    success = 1 - (1 - p) ** (k * rounds)
    q = success * p**2 / (1 - (1 - p) ** 2)
    expected = q / (1 + q)
    hits = [r.cache_hit for r in orchestrator.records[1:]]
    # hits of successive requests alternate with misses: the variance of the mean is below the
    # Bernoulli one, so the Bernoulli SE is a conservative 4-SE bound
    assert abs(np.mean(hits) - expected) < 4 * math.sqrt(expected * (1 - expected) / len(hits))


def test_pregeneration_raises_the_hit_rate_of_a_hot_spot_workload():
    """Hot spot at QPU 0 (80 % of requests), one request every 10 ms on average: idle time
    is used to fill the caches of the pairs in demand, so most requests hit."""
    n, count = 4, 1500
    nodes, hub = _hardware(n)
    requests = hotspot_requests(np.random.default_rng(8), n_qpus=n, count=count, hot_qpu=0,
                                hot_fraction=0.8, mean_interarrival_ns=1e7)
    base, _, _, _ = _run(nodes, hub, requests, seed=6)
    pre, _, cache, _ = _run(nodes, hub, requests, seed=6, pregenerate=True)
    h0, se0 = _mean_se([r.cache_hit for r in base.records])
    h1, se1 = _mean_se([r.cache_hit for r in pre.records])
    assert h1 - h0 > 4 * math.hypot(se0, se1)
    assert h1 > 0.9
    assert pre.counts.pregeneration_rounds > 0 and pre.counts.pairs_pregenerated > 0
    hits = [r for r in pre.records if r.cache_hit]
    assert all(r.attempts == 0 for r in hits)
    assert all(r.success for r in pre.records if r.cache_hit)
    # hits are faster than misses (no generation rounds)
    lat_hit = np.mean([r.latency_ns for r in hits])
    lat_miss = np.mean([r.latency_ns for r in pre.records if not r.cache_hit])
    assert lat_hit < lat_miss


def test_pregeneration_respects_the_memory_budget():
    n, count = 6, 600
    nodes, hub = _hardware(n)
    requests = uniform_requests(np.random.default_rng(9), n_qpus=n, count=count,
                                mean_interarrival_ns=1e6)

    class Watched(EbitCache):
        peak_total = peak_qpu = 0

        def put(self, pair, *, now_ns):
            kept = super().put(pair, now_ns=now_ns)
            type(self).peak_total = max(type(self).peak_total, len(self))
            type(self).peak_qpu = max(type(self).peak_qpu, max(self.held_at(x) for x in range(n)))
            return kept

    sim = Simulation(seed=3)
    net = build_hub_network(sim, nodes=nodes, hub=hub)
    cache = Watched(capacity=2, max_spares_total=5, max_spares_per_qpu=2,
                    fidelity_estimate=net.fidelity_estimate, on_discard=net.discard_pair)
    orchestrator = Orchestrator(sim, services=net, policy=make_policy("orchestrated", n_qpus=n),
                                requests=requests, cache=cache, pregenerate=True,
                                pregeneration_budget_qubits=8)
    orchestrator.start()
    sim.run()
    assert Watched.peak_total <= 5 and Watched.peak_qpu <= 2
    assert Watched.peak_total == 5  # the budget binds in this workload
    assert orchestrator.counts.pairs_pregenerated > 0
    assert net.held_qubits() == 2 * len(cache)  # only cached spares still hold memory


def test_pregeneration_options_are_checked():
    nodes, hub = _hardware(4)
    requests = list_requests([(0, 1)], n_qpus=4)
    with pytest.raises(Exception, match="pregenerate"):
        _run(nodes, hub, requests, policy="naive", pregenerate=True)
    for bad in (1, True, 2.5):
        with pytest.raises(Exception, match="pregeneration_budget_qubits"):
            _run(nodes, hub, requests, pregenerate=True, pregeneration_budget_qubits=bad)
