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


def _stored_pair_state(params: MemoryParams, t: float, *, both: bool) -> tuple[np.ndarray, float]:
    """Store |Phi+> (one or both qubits) for ``t`` ns, access; return (state, fidelity)."""
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
    return reduced_dm([a, b]), fidelity([a, b], PHI_PLUS)


@pytest.mark.parametrize("case", sorted(NOISE_CASES))
@pytest.mark.parametrize("both", [False, True])
def test_stored_bell_pair_decay_matches_closed_form(case: str, both: bool) -> None:
    params = NOISE_CASES[case]
    for t in TIMES:
        _, got = _stored_pair_state(params, t, both=both)
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


# -- decay against formulas written out here (not the module's closed form) -------------------


@pytest.mark.parametrize("t", [50.0, 400.0, 1_300.0, 5_000.0])
def test_t1_t2_decay_of_one_and_both_qubits_against_formulas(t: float) -> None:
    # amplitude damping to |0> with a = e^{-t/T1}, coherences c = e^{-t/T2} (Nielsen & Chuang
    # §8.3.5-6), F = (rho_00,00 + rho_11,11 + 2 Re rho_00,11)/2. One qubit of |Phi+>:
    # rho_00,00 = 1/2, rho_11,11 = a/2, rho_00,11 = c/2; both: (1 + (1-a)^2)/2, a^2/2, c^2/2
    t1, t2 = 1_000.0, 700.0
    a, c = math.exp(-t / t1), math.exp(-t / t2)
    _, f_one = _stored_pair_state(MemoryParams(t1_ns=t1, t2_ns=t2), t, both=False)
    _, f_both = _stored_pair_state(MemoryParams(t1_ns=t1, t2_ns=t2), t, both=True)
    assert f_one == pytest.approx((1 + a + 2 * c) / 4, abs=1e-12)
    assert f_both == pytest.approx((1 + (1 - a) ** 2 + a**2 + 2 * c**2) / 4, abs=1e-12)
    # T2 = 2 T1 (pure amplitude damping, c = sqrt(a))
    _, f_ad = _stored_pair_state(MemoryParams(t1_ns=t1, t2_ns=2 * t1), t, both=False)
    assert f_ad == pytest.approx((1 + a + 2 * math.sqrt(a)) / 4, abs=1e-12)


@pytest.mark.parametrize("t", [50.0, 400.0, 1_300.0, 5_000.0])
def test_dephasing_and_depolarising_decay_of_one_and_both_qubits_against_formulas(t: float) -> None:
    t2, t_dep = 900.0, 1_500.0
    _, f = _stored_pair_state(MemoryParams(t2_ns=t2), t, both=False)
    assert f == pytest.approx((1 + math.exp(-t / t2)) / 2, abs=1e-12)  # ARCHITECTURE.md §3
    _, f = _stored_pair_state(MemoryParams(t2_ns=t2), t, both=True)
    assert f == pytest.approx((1 + math.exp(-2 * t / t2)) / 2, abs=1e-12)
    # depolarising rho -> q rho + (1-q) I/2, q = e^{-t/T}: one qubit F = q + (1-q)/4,
    # both: the pair keeps |Phi+> with q^2, else maximally mixed (q(1-q) terms also give 1/4)
    q = math.exp(-t / t_dep)
    _, f = _stored_pair_state(MemoryParams(depolar_time_ns=t_dep), t, both=False)
    assert f == pytest.approx(q + (1 - q) / 4, abs=1e-12)
    _, f = _stored_pair_state(MemoryParams(depolar_time_ns=t_dep), t, both=True)
    assert f == pytest.approx(q * q + (1 - q * q) / 4, abs=1e-12)


def _lindblad_channel(params: MemoryParams, t: float):
    """The storage channel from the Lindblad equation with T1 decay, pure dephasing and
    depolarising acting simultaneously, integrated with a matrix exponential."""
    from scipy.linalg import expm

    sm = np.array([[0, 1], [0, 0]], dtype=complex)  # |0><1|: relaxation to |0>
    paulis = [np.array([[0, 1], [1, 0]], dtype=complex), np.array([[0, -1j], [1j, 0]]),
              np.diag([1.0 + 0j, -1.0])]
    jumps = []
    r1 = 0.0 if math.isinf(params.t1_ns) else 1.0 / params.t1_ns
    r2 = 0.0 if math.isinf(params.t2_ns) else 1.0 / params.t2_ns
    rd = 0.0 if math.isinf(params.depolar_time_ns) else 1.0 / params.depolar_time_ns
    if r1:
        jumps.append(math.sqrt(r1) * sm)
    gamma_phi = r2 - r1 / 2  # coherence rate 1/T2 = 1/(2 T1) + gamma_phi
    if gamma_phi > 0:
        jumps.append(math.sqrt(gamma_phi / 2) * paulis[2])
    jumps += [math.sqrt(rd / 4) * p for p in paulis if rd]
    eye = np.eye(2)
    gen = np.zeros((4, 4), dtype=complex)
    for op in jumps:  # column-stacking vec: vec(A X B) = (B^T kron A) vec(X)
        od = op.conj().T @ op
        gen += np.kron(op.conj(), op) - 0.5 * np.kron(eye, od) - 0.5 * np.kron(od.T, eye)
    prop = expm(gen * t)

    def channel(x: np.ndarray) -> np.ndarray:
        return (prop @ x.reshape(-1, order="F")).reshape(2, 2, order="F")

    return channel


@pytest.mark.parametrize("case", sorted(NOISE_CASES))
@pytest.mark.parametrize("t", [300.0, 2_500.0])
def test_stored_pair_state_matches_lindblad_integration(case: str, t: float) -> None:
    # includes T1 together with depolarising, where the memory uses its joint-channel solution
    params = NOISE_CASES[case]
    channel = _lindblad_channel(params, t)
    units = [np.outer(np.eye(2)[i], np.eye(2)[j]) for i in range(2) for j in range(2)]
    one = sum(np.kron(channel(e), e) for e in units) / 2  # qubit a stored
    both = sum(np.kron(channel(e), channel(e)) for e in units) / 2
    rho_one, _ = _stored_pair_state(params, t, both=False)
    rho_both, _ = _stored_pair_state(params, t, both=True)
    np.testing.assert_allclose(rho_one, one, atol=1e-10)
    np.testing.assert_allclose(rho_both, both, atol=1e-10)


def test_single_click_emission_state_and_message() -> None:
    alpha, fe, eta = 0.2, 0.9, 0.6
    sim = Simulation(seed=0)
    mem = _memory(sim, MemoryParams(emission_fidelity=fe, emission_efficiency=eta))
    sink = Component("sink", sim=sim, port_names=("in",))
    mem.ports["qout"].connect(sink.ports["in"])
    m, photon = mem.emit(0, send=True, bright_state_alpha=alpha)
    sent = sink.ports["in"].rx_input()
    assert sent.items == (photon,) and sent.meta["memory_qubit"] is m
    assert sent.meta["encoding"] == "presence" and sent.meta["slot"] == 0
    # sqrt(1-a)|00> + sqrt(a)|11>, memory depolarised (Werner parameter q = (4F-1)/3),
    # photon amplitude damped with gamma = 1 - eta (beam-splitter loss of a photon number)
    q = (4 * fe - 1) / 3
    ket = np.array([math.sqrt(1 - alpha), 0, 0, math.sqrt(alpha)])
    pure = np.outer(ket, ket)
    k0 = np.kron(np.eye(2), np.diag([1, math.sqrt(eta)]))
    k1 = np.kron(np.eye(2), np.array([[0, math.sqrt(1 - eta)], [0, 0]]))
    damped = k0 @ pure @ k0.T + k1 @ pure @ k1.T
    photon_only = np.einsum("ijik->jk", damped.reshape(2, 2, 2, 2))  # trace out the memory
    expected = q * damped + (1 - q) * np.kron(np.eye(2) / 2, photon_only)
    np.testing.assert_allclose(reduced_dm([m, photon]), expected, atol=1e-12)
    assert reduced_dm([photon])[1, 1].real == pytest.approx(alpha * eta)
    with pytest.raises(UserInputError, match="bright_state_alpha"):
        mem.emit(1, bright_state_alpha=1.0)


def test_double_click_emission_message_names_the_memory_qubit() -> None:
    sim = Simulation(seed=0)
    mem = _memory(sim, MemoryParams())
    sink = Component("sink", sim=sim, port_names=("in",))
    mem.ports["qout"].connect(sink.ports["in"])
    m, photon = mem.emit(1, send=True)
    sent = sink.ports["in"].rx_input()
    assert sent.meta["memory_qubit"] is m and sent.items == (photon,)
    assert "encoding" not in sent.meta and sent.meta["time_ns"] == 0.0


@pytest.mark.parametrize("elapsed", [math.inf, -math.inf, math.nan, -1.0, True, "10"])
@pytest.mark.parametrize("both", [False, True])
def test_stored_pair_fidelity_refuses_a_bad_storage_time(elapsed, both: bool) -> None:
    """inf/NaN/negative/bool/str storage times are one-line input errors (inf used to give NaN)."""
    params = MemoryParams(t1_ns=1e9, t2_ns=5e8)
    with pytest.raises(UserInputError, match=r"^elapsed_ns = .*allowed: a finite number in \[0\.0, inf\)$"):
        stored_pair_fidelity(elapsed, params, both_qubits=both)


def test_stored_pair_fidelity_long_storage_reaches_the_steady_state() -> None:
    """A long finite storage time gives the steady state: T1/T2 -> |0><0| x |0><0|, F = 1/2."""
    params = MemoryParams(t1_ns=1e3, t2_ns=1e3)
    assert stored_pair_fidelity(1e9, params, both_qubits=True) == pytest.approx(0.5, abs=1e-12)
    assert stored_pair_fidelity(1e9, params, both_qubits=False) == pytest.approx(0.25, abs=1e-12)


def test_emitter_reset_docstring_cites_the_preset_source() -> None:
    """The trapped-ion preset is the PRL 130, 213601 set-up; the 230 m set-up is not used."""
    doc = MemoryParams.__doc__ or ""
    assert "PRL 130, 213601" in doc
    assert "050803" not in doc
