"""The concurrent orchestrator's use of the ebit cache: spares reclaimed for attempts,
idle-time pre-generation, queued requests served from spares."""

from __future__ import annotations

import math

import numpy as np

from modenhub_net.network.stack_run import run_stack
from protocols.workload import hotspot_requests, list_requests
from tests.stack.helpers import hub, node


def test_spares_are_reclaimed_when_attempts_need_their_qubits():
    n = 5
    requests = hotspot_requests(np.random.default_rng(4), n_qpus=n, count=200, hot_fraction=0.9,
                                mean_interarrival_ns=30_000.0)
    run = run_stack(nodes=[node(emission=0.95, comm_qubits=3)] * n, hub=hub(), requests=requests,
                    scheme="detection_in_hub", link_mode="sampled", seed=2, cache_capacity=2)
    orch, net = run.orchestrator, run.net
    assert orch.counts.reclaimed > 0
    assert len(run.records) == 200
    occupied = [len(net.qpus[x].comm.occupied_slots()) for x in range(n)]
    assert orch.map.qubits_held == occupied


class _FixedDemand:
    """A demand predictor that always ranks pair (0, 1) first (test double)."""

    def __init__(self):
        self.seen = 0

    def observe(self, a, b, *, now_ns):
        self.seen += 1

    def top_pairs(self, now_ns, budget, *, deficit, held=None):
        want = deficit(0, 1)
        return [((0, 1), min(want, budget))] if want > 0 and budget > 0 else []


def test_idle_time_pre_generation_turns_misses_into_hits():
    # a request on (0, 1) every 200 us: without pre-generation nearly every one generates
    entries = [(0, 1, "teleport", 200_000.0 * i) for i in range(40)]
    requests = list_requests(entries, n_qpus=4)
    runs = {}
    for pregenerate in (False, True):
        demand = _FixedDemand()
        runs[pregenerate] = run_stack(nodes=[node()] * 4, hub=hub(), requests=requests,
                                   scheme="detection_in_hub", link_mode="sampled", seed=8,
                                   pregenerate=pregenerate, demand=demand)
        assert demand.seen == 40
    off, on = (runs[p].frame() for p in (False, True))
    assert runs[True].orchestrator.counts.pregeneration_jobs > 0
    assert runs[True].orchestrator.counts.pairs_pregenerated > 0
    assert on["cache_hit"].sum() > off["cache_hit"].sum() + 10
    hits = on[on["cache_hit"]]
    assert (hits["attempts"] == 0).all() and hits["success"].all()
    assert on["latency_ns"].mean() < off["latency_ns"].mean()


def test_a_queued_request_is_served_by_a_spare_of_the_request_before_it():
    # two requests on the same pair arrive together; if the first one's round heralds two
    # pairs (10 attempts a round: kappa = 5), the second waits for the port and then takes
    # the spare (0 attempts)
    for seed in range(10):
        requests = list_requests([(0, 1), (1, 0)], n_qpus=4)
        run = run_stack(nodes=[node(emission=0.95, comm_qubits=10)] * 4, hub=hub(stations=10),
                        requests=requests, scheme="detection_in_hub", link_mode="sampled",
                        seed=seed, kappa=5.0)
        first, second = run.records
        if second.cache_hit:
            assert second.attempts == 0 and second.start_ns >= first.released_ns
            assert math.isnan(second.released_ns)
            return
    raise AssertionError("no seed gave a spare in 10 tries")


def test_pre_generation_with_the_demand_tracker_raises_the_hit_rate_of_a_hot_pair():
    requests = hotspot_requests(np.random.default_rng(6), n_qpus=6, count=150, hot_fraction=0.8,
                                mean_interarrival_ns=200_000.0)
    frames = {}
    for pregenerate in (False, True):
        run = run_stack(nodes=[node()] * 6, hub=hub(), requests=requests, seed=3,
                        scheme="detection_in_hub", link_mode="sampled", pregenerate=pregenerate,
                        pregeneration_budget_qubits=8, demand_half_life_ns=2e6)
        frames[pregenerate] = run.frame()
        if pregenerate:
            assert run.orchestrator.counts.pairs_pregenerated > 0
    assert frames[True]["cache_hit"].mean() > frames[False]["cache_hit"].mean()


def test_a_cached_spare_frees_its_qubits_at_the_cutoff_time():
    # first request heralds spares (10 attempts a round); nothing touches the cache later,
    # yet the spares' qubits are free from their cutoff on
    for seed in range(10):
        requests = list_requests([(0, 1)], n_qpus=4)
        run = run_stack(nodes=[node(emission=0.95, comm_qubits=10)] * 4, hub=hub(stations=10),
                        requests=requests, scheme="detection_in_hub", link_mode="sampled",
                        seed=seed, kappa=5.0, cutoff_ns=50_000.0)
        cache = run.orchestrator.cache
        if cache.counts.stored:
            assert len(cache) == 0 and cache.counts.expired == cache.counts.stored
            assert run.orchestrator.map.qubits_held == [0, 0, 0, 0]
            assert all(not run.net.qpus[x].comm.occupied_slots() for x in range(4))
            assert run.net.sim.now_ns >= 50_000.0
            return
    raise AssertionError("no spare in 10 tries")
