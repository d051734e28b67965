"""Quantum memory: closed-form decay of stored Bell pairs, lazy noise, efficiencies, slots."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardware_models.memory import (
    MemoryParams,
    QuantumMemory,
    SlotEmptyError,
    SlotOccupiedError,
    stored_pair_fidelity,
)
from modenhub_net.components import Component, Message
from modenhub_net.errors import UserInputError
from modenhub_net.qubits import bell_dm, create_bell_pair, create_qubits, fidelity, reduced_dm
from modenhub_net.simulation import Simulation

PHI_PLUS = bell_dm(0)

NOISE_CASES = {
    "dephasing": MemoryParams(t2_ns=1_000.0),
    "t1_only": MemoryParams(t1_ns=800.0, t2_ns=1_600.0),
    "t1_t2": MemoryParams(t1_ns=2_000.0, t2_ns=700.0),
    "depolarising": MemoryParams(depolar_time_ns=1_500.0),
    "all": MemoryParams(t1_ns=3_000.0, t2_ns=1_200.0, depolar_time_ns=2_500.0),
}
TIMES = [0.0, 100.0, 700.0, 2_000.0, 6_000.0]


def _memory(sim: Simulation, params: MemoryParams, n_slots: int = 2, name: str = "mem") -> QuantumMemory:
    return QuantumMemory(name, sim=sim, params=params, n_slots=n_slots)


@pytest.mark.parametrize("case", sorted(NOISE_CASES))
@pytest.mark.parametrize("both", [False, True])
def test_stored_bell_pair_decay_matches_closed_form(case: str, both: bool) -> None:
    params = NOISE_CASES[case]
    for t in TIMES:
        sim = Simulation(seed=0)
        mem = _memory(sim, params)
        a, b = create_bell_pair()
        assert mem.store(0, a)
        if both:
            assert mem.store(1, b)
        if t > 0:
            sim.run(until_ns=t)
        mem.access(0)
        if both:
            mem.access(1)
        got = fidelity([a, b], PHI_PLUS)
        assert got == pytest.approx(stored_pair_fidelity(t, params, both_qubits=both), abs=1e-10), (case, t)


def test_closed_form_special_cases() -> None:
    t, t2 = 500.0, 1_000.0
    deph = MemoryParams(t2_ns=t2)
    assert stored_pair_fidelity(t, deph, both_qubits=False) == pytest.approx((1 + math.exp(-t / t2)) / 2)
    assert stored_pair_fidelity(t, deph, both_qubits=True) == pytest.approx((1 + math.exp(-2 * t / t2)) / 2)
    dep = MemoryParams(depolar_time_ns=t2)
    p = 1 - math.exp(-t / t2)
    assert stored_pair_fidelity(t, dep, both_qubits=False) == pytest.approx(1 - 3 * p / 4)
    assert stored_pair_fidelity(1e12, MemoryParams(t1_ns=1.0, t2_ns=2.0), both_qubits=True) == pytest.approx(
        0.5
    )  # both decayed to |00>: overlap 1/2
    assert stored_pair_fidelity(1e12, dep, both_qubits=True) == pytest.approx(0.25)


def test_noise_only_at_access_and_cumulative_equals_single() -> None:
    params = NOISE_CASES["all"]
    sim_many, sim_one = Simulation(seed=0), Simulation(seed=0)
    mem_many, mem_one = _memory(sim_many, params), _memory(sim_one, params)
    pair_many, pair_one = create_bell_pair(), create_bell_pair()
    mem_many.store(0, pair_many[0])
    mem_one.store(0, pair_one[0])
    before = reduced_dm(list(pair_one))
    for t in (130.0, 410.0, 999.0, 2_400.0):
        sim_many.run(until_ns=t)
        mem_many.access(0)
        assert mem_many.last_access_ns(0) == t
    sim_one.run(until_ns=2_400.0)
    # not accessed yet: the state is untouched
    np.testing.assert_allclose(reduced_dm(list(pair_one)), before, atol=1e-12)
    mem_one.access(0)
    np.testing.assert_allclose(reduced_dm(list(pair_many)), reduced_dm(list(pair_one)), atol=1e-10)
    # a second access at the same time adds nothing
    mem_one.access(0)
    np.testing.assert_allclose(reduced_dm(list(pair_many)), reduced_dm(list(pair_one)), atol=1e-10)
    assert mem_one.stored_at_ns(0) == 0.0


def test_write_efficiency_frequency() -> None:
    eta, n = 0.6, 20_000
    sim = Simulation(seed=11)
    mem = _memory(sim, MemoryParams(write_efficiency=eta), n_slots=1)
    ok = 0
    for _ in range(n):
        (q,) = create_qubits(1)
        if mem.store(0, q):
            ok += 1
            mem.discard(0)
    assert abs(ok / n - eta) < 5 * math.sqrt(eta * (1 - eta) / n)
    assert mem.write_failures == n - ok


def test_read_efficiency_frequency() -> None:
    eta, n = 0.35, 20_000
    sim = Simulation(seed=12)
    mem = _memory(sim, MemoryParams(read_efficiency=eta), n_slots=1)
    ok = 0
    for _ in range(n):
        (q,) = create_qubits(1)
        assert mem.store(0, q)
        ok += mem.read(0) is not None
        assert mem.free_slots() == [0]
    assert abs(ok / n - eta) < 5 * math.sqrt(eta * (1 - eta) / n)


def test_slots_never_overwrite_and_empty_access_errors() -> None:
    sim = Simulation(seed=0)
    mem = _memory(sim, MemoryParams(), n_slots=3)
    (q1, q2) = create_qubits(2)
    assert mem.store(1, q1)
    with pytest.raises(SlotOccupiedError, match="slot 1"):
        mem.store(1, q2)
    assert mem.access(1) is q1
    with pytest.raises(SlotOccupiedError):
        mem.emit(1)
    with pytest.raises(SlotEmptyError):
        mem.access(0)
    with pytest.raises(IndexError):
        mem.access(3)
    assert mem.free_slots() == [0, 2] and mem.occupied_slots() == [1]
    assert mem.pop(1) is q1
    assert mem.free_slots() == [0, 1, 2]
    with pytest.raises(SlotEmptyError):
        mem.discard(1)


def test_emission_fidelity_is_exact() -> None:
    sim = Simulation(seed=0)
    mem = _memory(sim, MemoryParams(emission_fidelity=0.9))
    m, photon = mem.emit(0)
    assert photon is not None and mem.access(0) is m
    assert fidelity([m, photon], PHI_PLUS) == pytest.approx(0.9, abs=1e-12)
    m1, p1 = _memory(Simulation(seed=0), MemoryParams(), name="ideal").emit(1)
    assert fidelity([m1, p1], PHI_PLUS) == pytest.approx(1.0, abs=1e-12)


def test_emission_efficiency_frequency_and_port() -> None:
    eta, n = 0.3, 20_000
    sim = Simulation(seed=13)
    mem = _memory(sim, MemoryParams(emission_efficiency=eta), n_slots=1)
    collected = 0
    for _ in range(n):
        _, photon = mem.emit(0)
        collected += photon is not None
        mem.discard(0)
    assert abs(collected / n - eta) < 5 * math.sqrt(eta * (1 - eta) / n)
    sink = Component("sink", sim=sim, port_names=("in",))
    mem.ports["qout"].connect(sink.ports["in"])
    mem.emit(0, send=True)
    sent = sink.ports["in"].rx_input()
    assert sent.meta["slot"] == 0 and len(sent.items) == 1


def test_qin_stores_arrivals_in_free_slots() -> None:
    sim = Simulation(seed=0)
    mem = _memory(sim, MemoryParams(), n_slots=2)
    seen = []
    mem.on_input = lambda message, slots: seen.append(slots)
    q = create_qubits(3)
    mem.ports["qin"].tx_input(Message((q[0], None)))
    mem.ports["qin"].tx_input(Message((q[1], q[2])))
    assert seen == [[0, None], [1, None]]
    assert mem.dropped_full == 1 and mem.occupied_slots() == [0, 1]


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        ({"t1_ns": 1_000.0, "t2_ns": 2_500.0}, ("t2_ns", "t1_ns", "2500.0", "1000.0")),
        ({"t1_ns": 1_000.0}, ("t2_ns", "t1_ns")),  # T2 = inf > 2 T1
        ({"write_efficiency": 1.2}, ("write_efficiency", "1.2")),
        ({"read_efficiency": -0.1}, ("read_efficiency",)),
        ({"emission_efficiency": 2}, ("emission_efficiency",)),
        ({"emission_fidelity": 0.2}, ("emission_fidelity",)),
        ({"t2_ns": -5.0}, ("t2_ns", "-5")),
        ({"depolar_time_ns": 0.0}, ("depolar_time_ns",)),
        ({"t1_ns": float("nan")}, ("t1_ns",)),
        ({"n_slots": 3}, ("n_slots",)),
    ],
)
def test_bad_memory_params_name_the_field(kwargs: dict, fields: tuple[str, ...]) -> None:
    with pytest.raises(UserInputError) as info:
        MemoryParams(**kwargs)
    for text in fields:
        assert text in str(info.value)


def test_bad_slot_count() -> None:
    with pytest.raises(UserInputError, match="n_slots"):
        QuantumMemory("m", sim=Simulation(seed=0), params=MemoryParams(), n_slots=0)
