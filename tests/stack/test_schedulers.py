"""Each scheduler changes the records the way it claims, and a user-defined one plugs in."""

from __future__ import annotations

import math

import pytest

from modenhub_net.network.stack_run import run_stack
from protocols.stack import FifoScheduler
from protocols.workload import list_requests
from tests.stack.helpers import hub, node


def _run(entries, *, nodes=None, hub_spec=None, **kw):
    nodes = nodes or [node()] * 8
    requests = list_requests(entries, n_qpus=len(nodes))
    return run_stack(nodes=nodes, hub=hub_spec or hub(), scheme="detection_in_hub",
                     link_mode="sampled", requests=requests, seed=21, cache=False, **kw)


def _start_order(run, ids):
    return sorted(ids, key=lambda i: run.records[i].start_ns)


# one lane: request 0 takes it, 1-3 (disjoint pairs, same arrival) wait
WAITING = [(0, 1, "teleport", 0.0), (2, 3, "teleport", 0.0, 5e9), (4, 5, "teleport", 0.0, 3e9),
           (6, 7, "teleport", 0.0, 4e9)]


def test_fifo_serves_waiting_requests_in_arrival_order():
    run = _run(WAITING, hub_spec=hub(max_circuits=2))
    assert _start_order(run, [1, 2, 3]) == [1, 2, 3]
    assert not any(r.dropped for r in run.records)


def test_edf_serves_the_earliest_deadline_first():
    run = _run(WAITING, hub_spec=hub(max_circuits=2), scheduler="edf")
    assert _start_order(run, [1, 2, 3]) == [2, 3, 1]
    starts = [run.records[i].start_ns for i in (2, 3, 1)]
    assert starts == sorted(starts) and len(set(starts)) == 3  # one at a time (one lane)


def test_orchestrated_never_starts_with_fewer_than_k_of_n():
    # 4 stations, K(8) = 3: while one request holds 3, the 1 station left is never given to
    # another request (FIFO would start it with 1 attempt a round)
    import numpy as np

    from protocols.workload import uniform_requests

    requests = uniform_requests(np.random.default_rng(9), n_qpus=8, count=60,
                                mean_interarrival_ns=3_000.0)
    run = run_stack(nodes=[node()] * 8, hub=hub(stations=4), scheme="detection_in_hub",
                    link_mode="sampled", requests=requests, seed=4, scheduler="orchestrated",
                    cache=False)
    held = {r.devices_held for r in run.records}
    assert held == {3}


def test_orchestrated_plays_k_of_n_every_round_and_waits_for_it():
    # N = 8: K(8) = max(2, ceil(0.9 * 3)) = 3; 4 stations: FIFO gives the second request the
    # 1 station left at once, orchestrated makes it wait for 3
    entries = [(0, 1), (2, 3)]
    fifo = _run(entries, hub_spec=hub(stations=4))
    orch = _run(entries, hub_spec=hub(stations=4), scheduler="orchestrated")
    assert [r.devices_held for r in fifo.records] == [3, 1]
    assert fifo.records[1].cap_bound == "bsm_stations"
    assert fifo.records[1].start_ns == fifo.records[0].start_ns
    assert [r.devices_held for r in orch.records] == [3, 3]
    assert orch.records[1].start_ns >= orch.records[0].released_ns
    for record in orch.records:
        assert record.attempts == 3 * record.rounds and record.cap_bound == ""


def _need(p: float, rounds: int = 3, target: float = 0.9) -> int:
    """Attempts per round for ``1 - (1 - p)^(n R) >= target``."""
    return max(1, math.ceil(math.log(1.0 - target) / (rounds * math.log(1.0 - p))))


def test_adaptive_gives_the_weaker_link_more_attempts():
    nodes = [node(emission=e, comm_qubits=64) for e in (0.9, 0.9, 0.3, 0.3)]
    run = _run([(0, 1), (2, 3)], nodes=nodes, hub_spec=hub(stations=64), scheduler="adaptive")
    p_strong, p_weak = run.net.budget(0, 1).p_success, run.net.budget(2, 3).p_success
    assert p_weak < p_strong
    strong, weak = run.records
    assert strong.devices_held == _need(p_strong) < weak.devices_held == _need(p_weak)


def test_adaptive_shares_scarce_attempts_in_proportion_to_need():
    nodes = [node(emission=e, comm_qubits=64) for e in (0.9, 0.9, 0.3, 0.3)]
    run = _run([(0, 1), (2, 3)], nodes=nodes, hub_spec=hub(stations=6), scheduler="adaptive")
    # each need is capped at the hub's 6 stations
    needs = [min(6, _need(run.net.budget(a, b).p_success)) for a, b in ((0, 1), (2, 3))]
    assert sum(needs) > 6 and needs[0] < needs[1]
    expected = [max(1, math.floor(6 * n / sum(needs))) for n in needs]
    assert [r.devices_held for r in run.records] == expected


class ShortestPairFirst(FifoScheduler):
    """The docstring example of :mod:`protocols.stack.scheduler`."""

    name = "short_first"

    def priority(self, job):
        return (abs(job.request.s - job.request.d), job.received_ns, job.request.request_id)


def test_a_user_defined_scheduler_replaces_the_ordering():
    entries = [(4, 6), (0, 7), (1, 2), (3, 5)]
    run = _run(entries, hub_spec=hub(max_circuits=2), scheduler=ShortestPairFirst())
    assert run.scheduler == "short_first" and (run.frame()["scheduler"] == "short_first").all()
    assert _start_order(run, [1, 2, 3]) == [2, 3, 1]
    assert _start_order(_run(entries, hub_spec=hub(max_circuits=2)), [1, 2, 3]) == [1, 2, 3]


@pytest.mark.parametrize("scheduler", ["fifo", "edf", "orchestrated", "adaptive"])
def test_every_scheduler_serves_a_random_workload(scheduler):
    import numpy as np

    from protocols.workload import uniform_requests

    requests = uniform_requests(np.random.default_rng(3), n_qpus=8, count=120,
                                mean_interarrival_ns=20_000.0, cnot_fraction=0.5)
    run = run_stack(nodes=[node()] * 8, hub=hub(stations=5, max_circuits=6),
                    scheme="detection_in_hub", link_mode="sampled", requests=requests, seed=5,
                    scheduler=scheduler, deadline_ns=400_000.0)
    frame = run.frame()
    assert len(frame) == 120 and frame["success"].mean() > 0.3
    ok = frame[frame["success"]]
    assert ((ok["fidelity"] >= 0.0) & (ok["fidelity"] <= 1.0)).all()
    assert (frame["queue_wait_ns"] >= 0).all()
    metrics = run.metrics()
    assert 0.0 < metrics["utilisation_switch_circuits"] <= 1.0
    assert 0.0 < metrics["utilisation_bsm_stations"] <= 1.0


def test_utilisation_is_the_time_weighted_busy_fraction_of_the_records():
    import numpy as np

    from protocols.workload import uniform_requests

    requests = uniform_requests(np.random.default_rng(8), n_qpus=8, count=200,
                                mean_interarrival_ns=5_000.0)
    run = run_stack(nodes=[node()] * 8, hub=hub(stations=6, max_circuits=6),
                    scheme="detection_in_hub", link_mode="sampled", requests=requests, seed=5)
    frame = run.frame()
    held = frame[frame["lanes_held"] > 0]
    span = run.net.sim.now_ns  # the counters run from t = 0 to the last event
    busy = (held["released_ns"] - held["start_ns"]).to_numpy()
    metrics = run.metrics()
    assert metrics["utilisation_switch_circuits"] == pytest.approx(busy.sum() / (span * 3))
    stations = (held["devices_held"].to_numpy() * busy).sum() / (span * 6)
    assert metrics["utilisation_bsm_stations"] == pytest.approx(stations)
