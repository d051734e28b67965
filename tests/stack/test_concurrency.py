"""Concurrency and contention: disjoint pairs overlap in time, shared resources serialise."""

from __future__ import annotations

import math

import pytest

from modenhub_net.errors import UserInputError
from modenhub_net.network.builder import LaneBusyError, build_hub_network
from modenhub_net.network.stack_run import run_stack
from modenhub_net.simulation import Simulation
from protocols.workload import list_requests
from tests.stack.helpers import first_failed_teleport, hub, node


def _run(entries, *, n=4, hub_spec=None, scheme="detection_in_hub", link_mode="sampled", **kw):
    requests = list_requests(entries, n_qpus=n)
    return run_stack(nodes=[node()] * n, hub=hub_spec or hub(), scheme=scheme,
                     link_mode=link_mode, requests=requests, seed=11, **kw)


def _overlap(r1, r2, end="released_ns"):
    return max(r1.start_ns, r2.start_ns) < min(getattr(r1, end), getattr(r2, end))


@pytest.mark.parametrize("scheme", ["detection_in_hub", "source_in_hub", "hub_memory_swap"])
@pytest.mark.parametrize("link_mode", ["sampled", "detailed"])
def test_disjoint_pairs_arriving_together_are_served_at_the_same_time(scheme, link_mode):
    run = _run([(0, 1), (2, 3)], scheme=scheme, link_mode=link_mode)
    r1, r2 = run.records
    assert r1.start_ns == r2.start_ns  # both admitted at once (equal fibres)
    assert _overlap(r1, r2)  # generation intervals overlap
    if r1.success and r2.success:
        assert _overlap(r1, r2, "end_ns")


def test_serial_mode_serves_the_same_two_requests_one_after_the_other():
    run = _run([(0, 1), (2, 3)], mode="serial")
    r1, r2 = run.records
    assert r2.start_ns >= r1.end_ns


def test_same_pair_is_not_generated_twice_at_once():
    run = _run([(0, 1), (1, 0), (0, 1)], cache=False)
    records = sorted(run.records, key=lambda r: r.start_ns)
    for earlier, later in zip(records, records[1:], strict=False):
        assert later.start_ns >= earlier.released_ns
        assert later.queue_wait_ns > earlier.queue_wait_ns


def test_shared_qpu_is_not_in_two_lanes_at_once():
    run = _run([(0, 1), (1, 2)], cache=False)
    r1, r2 = run.records
    assert r2.start_ns >= r1.released_ns


def test_one_lane_hub_serialises_disjoint_pairs():
    spec = hub(max_circuits=2)
    assert spec.lanes(4) == 1
    run = _run([(0, 1), (2, 3)], hub_spec=spec, cache=False)
    r1, r2 = run.records
    assert not _overlap(r1, r2)
    assert r2.blocked_by == "switch_circuits"


def test_loss_admission_blocks_when_no_circuit_is_free():
    run = _run([(0, 1), (2, 3)], hub_spec=hub(max_circuits=2), admission="loss", cache=False)
    r1, r2 = run.records
    assert not r1.blocked and r2.blocked and not r2.success
    assert r2.blocked_by == "switch_circuits" and r2.attempts == 0 and math.isnan(r2.released_ns)
    assert run.metrics()["blocking_probability"] == 0.5


def test_waiting_request_is_dropped_at_its_deadline():
    # request 1 reaches the hub after 10 us (2 km) and waits for the single lane, which
    # request 0 holds for > 10 us (command latency alone); its deadline is 15 us
    run = _run([(0, 1, "teleport", 0.0), (2, 3, "teleport", 0.0, 15_000.0)],
               hub_spec=hub(max_circuits=2), cache=False)
    r1, r2 = run.records
    assert r2.dropped and not r2.success and r2.attempts == 0
    assert r1.released_ns > 15_000.0
    assert r2.end_ns == pytest.approx(r2.arrival_ns + 15_000.0)
    # a request that reaches the hub after its deadline is dropped on arrival
    late = _run([(0, 1, "teleport", 0.0, 1.0)], cache=False).records[0]
    assert late.dropped and late.end_ns == pytest.approx(10_000.0)
    assert run.metrics()["drop_probability"] == 0.5


def test_stations_are_shared_between_concurrent_requests():
    # 3 stations, K(4) = 2 attempts wished each: the second request gets the one left
    run = _run([(0, 1), (2, 3)], hub_spec=hub(stations=3), cache=False)
    r1, r2 = run.records
    assert (r1.devices_held, r2.devices_held) == (2, 1)
    assert r2.cap_bound == "bsm_stations"


def test_held_lane_is_never_torn_down():
    sim = Simulation(seed=1)
    net = build_hub_network(sim, nodes=[node()] * 4, hub=hub(max_circuits=2))

    def body():
        lane = yield from net.hold_lane(0, 1)
        with pytest.raises(LaneBusyError):
            yield from net.lane(2, 3)  # the only lane is held
        with pytest.raises(LaneBusyError):
            yield from net.lane(1, 2)  # QPU 1 is in a held lane
        net.unhold_lane(lane)
        lane2 = yield from net.lane(2, 3)  # now it may be reused
        assert lane2 == lane and net.lane_pairs() == {lane: (2, 3)}

    sim.process(body())
    sim.run()


def test_serial_mode_rejects_concurrent_options():
    with pytest.raises(UserInputError, match="scheduler"):
        _run([(0, 1)], mode="serial", scheduler="edf")
    with pytest.raises(UserInputError, match="admission = 'lossy'"):
        _run([(0, 1)], admission="lossy")
    with pytest.raises(UserInputError, match="deadline_ns"):
        _run([(0, 1)], deadline_ns=0.0)
    with pytest.raises(UserInputError, match="deadline_ns"):
        _run([(0, 1)], deadline_ns=True)


def test_swap_scheme_needs_qubits_for_all_rounds_of_an_attempt():
    requests = list_requests([(0, 1)], n_qpus=4)
    with pytest.raises(UserInputError, match=r"n_comm_qubits = 2: .* needs >= 3"):
        run_stack(nodes=[node(comm_qubits=2)] * 4, hub=hub(), scheme="hub_memory_swap",
                  link_mode="sampled", requests=requests, seed=1)


def test_a_request_is_dropped_between_rounds_at_its_deadline():
    # a weak link (p ~ 1e-3): the request's deadline leaves time for 2 of its 3 rounds
    nodes = [node(emission=0.05)] * 4
    sim = Simulation(seed=0)
    period = build_hub_network(sim, nodes=nodes, hub=hub()).budget(0, 1).attempt_period_ns
    hop = 10_000.0  # 2 km at 2e5 km/s: request to the hub, then the command to the QPUs
    deadline = 2 * hop + 1.5 * period
    record = first_failed_teleport(nodes, deadline_ns=deadline)
    assert record.dropped and record.rounds == 2 and record.attempts == 2 * 2
    assert record.released_ns == pytest.approx(2 * hop + 2 * period)
    assert record.end_ns >= deadline


def test_the_per_pair_index_decides_as_the_full_queue_scan(monkeypatch):
    import numpy as np

    from protocols.stack.orchestrator import StackOrchestrator
    from protocols.workload import uniform_requests

    # overloaded: a long queue and few free ports; the index is used whenever the queue is
    # longer than the number of pairs of free QPUs (index_factor 1)
    requests = uniform_requests(np.random.default_rng(12), n_qpus=16, count=600,
                                mean_interarrival_ns=500.0)
    real_init, real_scan = StackOrchestrator.__init__, StackOrchestrator._scan_order
    used = []

    def eager_index(self, *args, **kw):
        real_init(self, *args, **kw)
        self.index_factor = 1

    def full_scan(self):
        used.append(list(real_scan(self)) != list(self._waiting))
        yield from self._waiting

    def run():
        return run_stack(nodes=[node()] * 16, hub=hub(stations=6), scheme="detection_in_hub",
                         link_mode="sampled", requests=requests, seed=3).frame()

    monkeypatch.setattr(StackOrchestrator, "__init__", eager_index)
    indexed = run()
    monkeypatch.setattr(StackOrchestrator, "_scan_order", full_scan)
    scanned = run()
    assert any(used)  # the index path was taken at least once
    assert indexed.equals(scanned)


def test_requests_outside_the_network_are_rejected():
    from protocols.workload import Request

    for bad, match in (((0, 4, "teleport"), r"requests\[0\] = \(0, 4\)"),
                       ((1, 1, "teleport"), r"requests\[0\] = \(1, 1\)"),
                       ((0, 1, "swap"), r"requests\[0\].kind = 'swap'")):
        with pytest.raises(UserInputError, match=match):
            run_stack(nodes=[node()] * 4, hub=hub(), scheme="detection_in_hub",
                      link_mode="sampled", requests=[Request(0, *bad, 0.0)], seed=1)
