"""Round and cache logic of the orchestrator against the aggregate model (classical fake)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modenhub_net.aggregate import AggregateModel, analytic_mean_attempts, analytic_success, run_study
from modenhub_net.simulation import Simulation
from protocols.cache import EbitCache
from protocols.orchestrator import Orchestrator, make_policy
from protocols.workload import uniform_requests
from tests.hub.fakes import FakeServices, held_pairs


def _run(policy_name, *, n=8, p=0.2, trials=2000, seed=1, cap=1000, slots=None, cutoff=math.inf,
         **options):
    sim = Simulation(seed=seed)
    services = FakeServices(sim, n_qpus=n, p=p, cap=cap, slots_per_node=slots)
    policy = make_policy(policy_name, n_qpus=n)
    cache = EbitCache(cutoff_ns=cutoff, on_discard=services.discard_pair)
    reqs = uniform_requests(sim.rng("workload"), n_qpus=n, count=trials)
    orch = Orchestrator(sim, services=services, policy=policy, requests=reqs, cache=cache,
                        **options).start()
    sim.run()
    return orch, services, cache


@pytest.mark.parametrize("policy", ["naive", "orchestrated_nocache"])
def test_no_cache_policies_match_closed_forms(policy):
    n, p, trials = 8, 0.2, 3000
    orch, _, _ = _run(policy, n=n, p=p, trials=trials)
    k = 1 if policy == "naive" else AggregateModel().k_parallel(n)
    succ = np.array([r.success for r in orch.records], dtype=float)
    att = np.array([r.attempts for r in orch.records], dtype=float)
    ps = analytic_success(p, k=k, rounds=3)
    ma = analytic_mean_attempts(p, k=k, rounds=3)
    assert abs(succ.mean() - ps) < 4 * math.sqrt(ps * (1 - ps) / trials)
    assert abs(att.mean() - ma) < 4 * att.std(ddof=1) / math.sqrt(trials)


def test_orchestrated_with_cache_matches_aggregate_mc():
    n, trials = 8, 4000
    model = AggregateModel()
    p = model.p_eff(n)
    orch, services, cache = _run("orchestrated", n=n, p=p, trials=trials, seed=3)
    agg = run_study(model, n_qpus=[n], strategies=["orchestrated"], trials=trials, seed=4).summary.iloc[0]
    succ = np.array([r.success for r in orch.records], dtype=float)
    att = np.array([r.attempts for r in orch.records], dtype=float)
    hits = np.array([r.cache_hit for r in orch.records], dtype=float)
    se_s = math.sqrt(succ.var(ddof=1) / trials + agg.success_rate * (1 - agg.success_rate) / trials)
    se_a = math.sqrt(att.var(ddof=1) / trials + agg.attempts_std**2 / trials)
    assert abs(succ.mean() - agg.success_rate) < 4 * se_s
    assert abs(att.mean() - agg.mean_attempts) < 4 * se_a
    assert hits.sum() == cache.counts.hits > 0
    assert all(r.attempts == 0 and r.rounds == 0 for r in orch.records if r.cache_hit)


def test_invariants_budget_and_memory():
    orch, services, cache = _run("orchestrated", n=5, p=0.3, trials=1500, cutoff=250.0)
    for r in orch.records:
        assert r.rounds <= 3
        assert r.attempts <= 3 * AggregateModel().k_parallel(5)
        assert r.success or r.attempts > 0
    assert len(set(services.used)) == len(services.used)
    ids_discarded = [pid for pid, _ in services.discarded]
    assert not set(ids_discarded) & set(services.used)
    assert held_pairs(services) == len(cache)  # only cached pairs still hold memory
    assert cache.counts.expired > 0
    cache.clear(now_ns=0.0)
    assert held_pairs(services) == 0


def test_resource_cap_is_recorded_without_reclaim():
    # 2 slots per QPU, K(4) = 2: a spare holding a slot caps the next round at its ends
    orch, services, cache = _run("orchestrated", n=4, p=0.6, trials=400, cap=1000, slots=2,
                                 reclaim=False)
    capped = [r for r in orch.records if r.cap_bound]
    assert capped and all(r.cap_bound == "comm_qubits" for r in capped)
    assert all(r.attempts <= 3 * 2 for r in orch.records)
    assert orch.counts.rounds_capped > 0


def test_reclaim_makes_room_so_spares_never_cap_a_round():
    orch, services, cache = _run("orchestrated", n=4, p=0.6, trials=400, cap=1000, slots=2)
    assert not any(r.cap_bound for r in orch.records) and orch.counts.rounds_capped == 0
    assert orch.counts.evicted_for_room > 0 and cache.counts.reclaimed > 0
    assert all(r.attempts <= 3 * 2 for r in orch.records)


def test_same_seed_same_records():
    a, _, _ = _run("orchestrated", seed=9, trials=300)
    b, _, _ = _run("orchestrated", seed=9, trials=300)
    assert a.records == b.records


def test_adaptive_policies_run():
    for name in ("adaptive", "adaptive_online"):
        orch, _, _ = _run(name, n=16, p=0.15, trials=500)
        assert len(orch.records) == 500
