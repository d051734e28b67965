"""HubEbitProvider: ebits from the component-built hub, their real state and waiting time."""

from __future__ import annotations

import numpy as np
import pytest

from modenhub_net.errors import UserInputError
from modenhub_net.network.builder import build_hub_network
from modenhub_net.network.spec import HubSpec, QpuSpec
from modenhub_net.simulation import Simulation
from protocols.circuits.compiler import compile_circuit
from protocols.circuits.executor import QpuPhysics, execute_circuit
from protocols.circuits.generators import ghz
from protocols.circuits.hub import HubEbitProvider
from protocols.circuits.partition import partition_from_assignment

PRESET = "near_term_trapped_ion"
PHI = np.array([1, 0, 0, 1]) / np.sqrt(2)


def hub(n_qpus=3, seed=3):
    sim = Simulation(seed=seed)
    nodes = [QpuSpec.from_preset(PRESET, fibre_length_km=2.0 + i) for i in range(n_qpus)]
    net = build_hub_network(
        sim, nodes=nodes, hub=HubSpec.from_preset(PRESET), scheme="detection_in_hub", link_mode="sampled"
    )
    return net


def test_delivered_ebits_are_the_hub_states():
    net = hub()
    provider = HubEbitProvider(net)
    rho, delivered = provider.request(0, 2, 1000.0)
    record = provider.records[0]
    assert delivered == record["delivered_ns"] > 1000.0 and record["rounds"] >= 1
    assert np.allclose(rho, rho.conj().T) and np.trace(rho).real == pytest.approx(1.0)
    f = float(np.real(PHI @ rho @ PHI))
    # the link budget's heralded fidelity, less the storage noise until the correction
    assert 0.5 < f <= net.budget(0, 2).fidelity + 1e-12
    assert net.budget(0, 2).fidelity - f < 0.01
    assert provider.classical_latency_ns(0, 2) == net.relay_delay_ns(0, 2)
    # the provider freed the communication qubits it delivered from
    assert net.held_qubits() == 0


def test_bell_pair_through_the_hub_has_the_delivered_ebit_fidelity():
    """With ideal QPUs, a teleported CX making a Bell pair turns the resource's Phi+ weight into
    the output fidelity (the other Bell components give orthogonal outputs)."""
    provider = HubEbitProvider(hub(n_qpus=2))
    circuit = ghz(2)
    compiled = compile_circuit(circuit, partition_from_assignment(circuit, [0, 1], [1, 1]))
    result = execute_circuit(compiled, provider=provider, backend="density_matrix")
    row = result.ebits.iloc[0]
    assert result.fidelity == pytest.approx(row.fidelity_delivered, abs=1e-12)
    assert row.delivered_ns == provider.records[0]["delivered_ns"]
    assert result.entanglement_wait_ns == row.delivered_ns - row.requested_ns > 0


def test_ghz_on_the_hub_with_preset_physics():
    provider = HubEbitProvider(hub())
    circuit = ghz(3)
    compiled = compile_circuit(circuit, partition_from_assignment(circuit, [0, 1, 2], [1, 1, 1]))
    result = execute_circuit(compiled, provider=provider, physics=QpuPhysics.from_preset(PRESET))
    assert result.ebits_consumed == 2
    assert (result.ebits["delivered_ns"] >= result.ebits["requested_ns"]).all()
    assert 0.4 < result.fidelity < result.ebits["fidelity_at_use"].max()
    assert result.makespan_ns > result.ebits["delivered_ns"].max()


def test_bad_requests():
    provider = HubEbitProvider(hub(n_qpus=2))
    with pytest.raises(UserInputError, match="qpu_b = 5"):
        provider.request(0, 5, 0.0)
    with pytest.raises(UserInputError, match="different QPUs"):
        provider.request(1, 1, 0.0)
    with pytest.raises(UserInputError, match="max_rounds"):
        HubEbitProvider(hub(n_qpus=2), max_rounds=0)
