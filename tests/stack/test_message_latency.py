"""Messages carry the classical fibres' latency: request, command and herald arrival times
against the closed form ``t = L / v`` per hop (v = the fibre's ``speed_km_per_s``)."""

from __future__ import annotations

import pytest

from modenhub_net.network.stack_run import run_stack
from protocols.stack.messages import Headers
from protocols.workload import list_requests
from tests.stack.helpers import hub, node

LENGTHS_KM = (1.0, 3.0, 2.0, 2.5)
RECONF_NS = 500.0


def _hop_ns(x: int) -> float:
    spec = node(LENGTHS_KM[x])
    return spec.fibre.length_km / spec.fibre.speed_km_per_s * 1e9


@pytest.mark.parametrize("link_mode", ["sampled", "detailed"])
@pytest.mark.parametrize("s, d", [(0, 1), (1, 0), (3, 2)])
def test_command_and_herald_arrive_after_the_fibre_latencies(link_mode, s, d):
    nodes = [node(length) for length in LENGTHS_KM]
    requests = list_requests([(s, d, "teleport", 1_000.0)], n_qpus=4)
    run = run_stack(nodes=nodes, hub=hub(reconfiguration_ns=RECONF_NS), scheme="detection_in_hub",
                    link_mode=link_mode, requests=requests, seed=3, cache=False, log_messages=True)
    record = run.records[0]
    at_hub = 1_000.0 + _hop_ns(s)  # the request message: QPU s -> hub
    assert record.start_ns == pytest.approx(at_hub)
    period = run.net.budget(s, d).attempt_period_ns
    released = at_hub + max(_hop_ns(s), _hop_ns(d)) + RECONF_NS + record.rounds * period
    assert record.released_ns == pytest.approx(released)
    for x in (s, d):
        log = {header: t for t, header, _ in run.agents[x].log}
        assert log[Headers.GENERATE] == pytest.approx(at_hub + _hop_ns(x))
        assert log[Headers.HERALD] == pytest.approx(released + _hop_ns(x))
    if record.success:
        # the outcome goes s -> hub -> d after the herald reached s: at least both hops later
        assert record.end_ns >= released + _hop_ns(s) + _hop_ns(s) + _hop_ns(d) - 1e-6
