"""Memory reservations for blocks of rounds, and storage noise applied to a qubit held elsewhere."""

from __future__ import annotations

import numpy as np
import pytest

from hardware_models.memory import (
    MemoryParams,
    MemorySlotError,
    QuantumMemory,
    SlotEmptyError,
    SlotOccupiedError,
)
from hardware_models.qpu import QPU, QpuParams
from modenhub_net.qubits import X, create_bell_pair, reduced_dm
from modenhub_net.simulation import Simulation

NOISE_CASES = {
    "dephasing": MemoryParams(t2_ns=1_000.0),
    "t1_t2": MemoryParams(t1_ns=2_000.0, t2_ns=700.0),
    "depolarising": MemoryParams(depolar_time_ns=1_500.0),
    "all": MemoryParams(t1_ns=3_000.0, t2_ns=1_200.0, depolar_time_ns=2_500.0),
}


def test_reserve_takes_the_lowest_free_slots_and_keeps_them_from_everyone() -> None:
    sim = Simulation(seed=0)
    memory = QuantumMemory("mem", sim=sim, params=MemoryParams(), n_slots=5)
    a, _ = create_bell_pair()
    memory.store(1, a)
    slots = memory.reserve(2)
    assert slots == [0, 2]
    assert memory.n_free_slots == 2 and memory.free_slots() == [3, 4]
    assert memory.is_occupied(0) and memory.is_occupied(2)
    with pytest.raises(SlotEmptyError, match="slot 0 is reserved"):
        memory.access(0)
    with pytest.raises(SlotEmptyError, match="reserved"):
        memory.discard(2)
    with pytest.raises(SlotOccupiedError, match="reserved"):
        memory.store(0, create_bell_pair()[0])
    with pytest.raises(MemorySlotError, match="not reserved"):
        memory.unreserve([1])
    with pytest.raises(MemorySlotError, match="3 slots to reserve but 2 free"):
        memory.reserve(3)
    memory.unreserve(slots)
    assert memory.n_free_slots == 4 and memory.free_slots() == [0, 2, 3, 4]
    assert memory.counters()["n_stored"] == 1  # a reservation stores nothing


@pytest.mark.parametrize("case", sorted(NOISE_CASES))
def test_storage_noise_on_a_held_qubit_equals_access_noise(case: str) -> None:
    """``apply_storage_noise(q, t)`` is the channel ``access`` applies after ``t`` in a slot."""
    params = NOISE_CASES[case]
    sim = Simulation(seed=0)
    memory = QuantumMemory("mem", sim=sim, params=params, n_slots=1)
    stored, held = create_bell_pair(), create_bell_pair()
    memory.store(0, stored[1])
    sim.run(until_ns=930.0)
    memory.access(0)
    memory.apply_storage_noise(held[1], 930.0)
    np.testing.assert_allclose(reduced_dm(list(held)), reduced_dm(list(stored)), atol=1e-12)
    before = reduced_dm(list(held))
    memory.apply_storage_noise(held[1], 0.0)  # no time, no noise (as access)
    np.testing.assert_allclose(reduced_dm(list(held)), before, atol=0.0)


def test_gate_on_held_qubits_equals_gate_on_a_slot() -> None:
    """``QPU.apply_gate_to`` applies the same unitary and gate error as ``apply_gate``."""
    params = QpuParams(single_qubit_gate_depolar_prob=0.04, single_qubit_gate_ns=40.0,
                       n_comm_qubits=1, n_data_qubits=0)
    sim = Simulation(seed=0)
    qpu = QPU("qpu", sim=sim, params=params)
    stored, held = create_bell_pair(), create_bell_pair()
    qpu.comm.store(0, stored[1])
    assert qpu.apply_gate(X, [("comm", 0)]) == 40.0
    assert qpu.apply_gate_to(X, [held[1]]) == 40.0
    np.testing.assert_allclose(reduced_dm(list(held)), reduced_dm(list(stored)), atol=1e-12)
    assert np.real(reduced_dm(list(held))[1, 1]) > 0.4  # the X was applied (Phi+ -> Psi+)
