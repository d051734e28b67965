"""``run_stack(mode="serial")`` is the paper's serial orchestrator: records identical.

The "before" is computed here by running the serial :class:`protocols.orchestrator.
Orchestrator` directly on a freshly built network (not from stored numbers).
"""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np
import pytest

from modenhub_net.network.builder import build_hub_network
from modenhub_net.network.stack_run import run_stack
from modenhub_net.simulation import Simulation
from protocols.cache import EbitCache
from protocols.orchestrator import Orchestrator, make_policy
from protocols.workload import uniform_requests
from tests.stack.helpers import hub, node


def _direct(nodes, hub_spec, scheme, link_mode, policy, requests, seed, **options):
    sim = Simulation(seed=seed)
    net = build_hub_network(sim, nodes=nodes, hub=hub_spec, scheme=scheme, link_mode=link_mode)
    round_policy = make_policy(policy, n_qpus=net.n_qpus)
    cache = EbitCache(fidelity_estimate=net.fidelity_estimate, on_discard=net.discard_pair)
    orchestrator = Orchestrator(sim, services=net, policy=round_policy, requests=requests,
                                cache=cache, **options)
    orchestrator.start()
    sim.run()
    return orchestrator.records


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


@pytest.mark.parametrize(
    "scheme, link_mode, policy, gap_ns, options",
    [
        ("detection_in_hub", "sampled", "orchestrated", 0.0, {}),
        ("detection_in_hub", "detailed", "naive", 5_000.0, {}),
        ("source_in_hub", "sampled", "orchestrated", 20_000.0, {}),
        ("hub_memory_swap", "sampled", "orchestrated", 0.0, {}),
        ("detection_in_hub", "sampled", "orchestrated", 50_000.0,
         {"pregenerate": True, "pregeneration_budget_qubits": 6}),
    ],
)
def test_serial_mode_records_equal_the_serial_orchestrator(scheme, link_mode, policy, gap_ns,
                                                            options):
    nodes = [node(1.0 + i) for i in range(5)]
    spec = hub(stations=4)
    requests = uniform_requests(np.random.default_rng(5), n_qpus=5, count=60,
                                cnot_fraction=0.3, mean_interarrival_ns=gap_ns)
    before = _direct(nodes, spec, scheme, link_mode, policy, requests, seed=9, **options)
    run = run_stack(nodes=nodes, hub=spec, scheme=scheme, link_mode=link_mode, requests=requests,
                    seed=9, mode="serial", policy=policy, **options)
    assert len(run.records) == len(before) == 60
    assert any(r.success for r in before)
    for old, new in zip(before, run.records, strict=True):
        old_row, new_row = asdict(old), asdict(new)
        assert new_row["queue_wait_ns"] == pytest.approx(old_row["start_ns"] - old_row["arrival_ns"])
        for name, value in old_row.items():
            if name != "queue_wait_ns":
                assert _same(value, new_row[name]), (name, value, new_row[name])
