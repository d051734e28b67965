"""The orchestrator knows the network only from messages: no device imports, and its own map
matches the network's true occupancy during and after a run."""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pytest

import protocols.stack.orchestrator as orchestrator_module
import protocols.stack.resources as resources_module
import protocols.stack.scheduler as scheduler_module
from modenhub_net.network import stack_run
from protocols.workload import hotspot_requests
from tests.stack.helpers import hub, node


def _imports(module) -> set[str]:
    tree = ast.parse(pathlib.Path(module.__file__).read_text())
    names = set()
    for item in ast.walk(tree):
        if isinstance(item, ast.Import):
            names.update(alias.name for alias in item.names)
        elif isinstance(item, ast.ImportFrom) and item.module:
            names.add(item.module)
    return names


@pytest.mark.parametrize("module", [orchestrator_module, scheduler_module, resources_module])
def test_orchestration_layer_imports_no_device_and_no_network(module):
    for name in _imports(module):
        assert not name.startswith("hardware_models"), name
        assert not name.startswith("modenhub_net.network"), name
        assert name not in ("protocols.generation", "protocols.qops", "modenhub_net.qubits"), name


def _occupied(net, x):
    return len(net.qpus[x].comm.occupied_slots())


@pytest.mark.parametrize("scheme", ["detection_in_hub", "source_in_hub"])
def test_map_matches_true_occupancy(scheme, monkeypatch):
    n = 6
    nodes = [node(1.0 + 0.5 * i, comm_qubits=12) for i in range(n)]
    requests = hotspot_requests(np.random.default_rng(2), n_qpus=n, count=150,
                                mean_interarrival_ns=3_000.0, cnot_fraction=0.3)
    probes = []
    real_init = stack_run.StackOrchestrator.__init__

    def init(self, sim, **kw):  # sample map vs network while the run goes on
        real_init(self, sim, **kw)

        def probe():
            while True:
                yield sim.timeout(2_000.0)
                probes.append((self.map.lanes_busy, self.link.services.held_lanes(),
                               self.map.devices_busy, self.link.running))
                if not self.jobs and not self._waiting and sim.now_ns > requests[-1].arrival_ns:
                    return

        sim.process(probe())

    monkeypatch.setattr(stack_run.StackOrchestrator, "__init__", init)
    run = stack_run.run_stack(nodes=nodes, hub=hub(stations=5, max_circuits=4), scheme=scheme,
                              link_mode="sampled", requests=requests, seed=4, cache_capacity=2)
    orch, net = run.orchestrator, run.net
    assert any(lanes > 0 for lanes, *_ in probes) and any(p[1] > 0 for p in probes)
    for lanes, held, devices, running in probes:
        # one lane per request generating; the network holds it once the command reached
        # both QPUs (until then the orchestrator has reserved it)
        assert lanes == running and held <= lanes
        assert devices >= running  # >= 1 device each
    # after the run: nothing in flight, the only qubits held are the cached spares
    assert orch.map.lanes_busy == net.held_lanes() == 0
    assert orch.map.devices_busy == 0 and not any(orch.map.port_busy)
    assert orch.map.qubits_reserved == [0] * n
    cached = [0] * n
    for key in [(a, b) for a in range(n) for b in range(a + 1, n)]:
        for pair in orch.cache.pairs(*key):
            cached[pair.node_a] += 1
            cached[pair.node_b] += 1
    assert sum(cached) > 0
    assert orch.map.qubits_held == cached == [_occupied(net, x) for x in range(n)]
