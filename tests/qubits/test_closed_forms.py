"""Qubit layer against closed-form results."""

import math

import numpy as np
import pytest

from modenhub_net.qubits import (
    BELL_LABELS,
    CNOT,
    H,
    X,
    Z,
    amplitude_damp,
    assign_state,
    bell_correction,
    bell_dm,
    bell_measure,
    bell_outcome_probabilities,
    bell_state,
    create_bell_pair,
    create_qubits,
    create_werner_pair,
    dephase,
    depolarise,
    depolarise_for_time,
    fidelity,
    measure,
    operate,
    reduced_dm,
    t1t2_noise,
    werner_dm,
)

PHI_PLUS = bell_state(0)


@pytest.mark.parametrize("t_ns", [0.0, 1e5, 5e5, 2e6, 1e7])
def test_dephasing_one_qubit_of_phi_plus(t_ns):
    t2 = 1e6
    a, b = create_bell_pair()
    t1t2_noise(b, t_ns, t1_ns=math.inf, t2_ns=t2)
    assert fidelity([a, b], PHI_PLUS) == pytest.approx((1 + math.exp(-t_ns / t2)) / 2, abs=1e-12)


@pytest.mark.parametrize("t_ns", [1e5, 1e6, 4e6])
def test_t1t2_matches_analytic_density_matrix(t_ns):
    t1, t2 = 2e6, 1.5e6
    (q,) = create_qubits(1)
    rho0 = np.array([[0.3, 0.2 - 0.1j], [0.2 + 0.1j, 0.7]])
    assign_state([q], rho0)
    t1t2_noise(q, t_ns, t1_ns=t1, t2_ns=t2)
    gamma = 1 - math.exp(-t_ns / t1)
    c = math.exp(-t_ns / t2)
    expected = np.array(
        [[rho0[0, 0] + gamma * rho0[1, 1], c * rho0[0, 1]], [c * rho0[1, 0], (1 - gamma) * rho0[1, 1]]]
    )
    assert np.allclose(reduced_dm([q]), expected, atol=1e-12)


def test_t1t2_noise_composes_over_split_times():
    a1, b1 = create_bell_pair()
    a2, b2 = create_bell_pair()
    t1t2_noise(b1, 3e5, t1_ns=1e6, t2_ns=8e5)
    t1t2_noise(b1, 7e5, t1_ns=1e6, t2_ns=8e5)
    t1t2_noise(b2, 1e6, t1_ns=1e6, t2_ns=8e5)
    assert np.allclose(reduced_dm([a1, b1]), reduced_dm([a2, b2]), atol=1e-12)


def test_t2_above_twice_t1_is_rejected():
    (q,) = create_qubits(1)
    with pytest.raises(ValueError, match=r"t2_ns = 3.0 exceeds 2 \* t1_ns = 2.0"):
        t1t2_noise(q, 1.0, t1_ns=1.0, t2_ns=3.0)


@pytest.mark.parametrize("gamma", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_amplitude_damping_of_one_qubit_of_phi_plus(gamma):
    # (I (x) K0)|Phi+> = (|00> + sqrt(1-g)|11>)/sqrt2, (I (x) K1)|Phi+> = sqrt(g)|10>/sqrt2:
    # F = |1 + sqrt(1-g)|^2 / 4.
    a, b = create_bell_pair()
    amplitude_damp(b, gamma)
    assert fidelity([a, b], PHI_PLUS) == pytest.approx((1 + math.sqrt(1 - gamma)) ** 2 / 4, abs=1e-12)


@pytest.mark.parametrize("p", [0.0, 0.2, 0.7, 1.0])
def test_depolarising_one_and_both_qubits(p):
    a, b = create_bell_pair()
    depolarise(b, p)
    assert fidelity([a, b], PHI_PLUS) == pytest.approx(1 - 3 * p / 4, abs=1e-12)
    depolarise(a, p)
    # Werner parameter w = 1 - p shrinks per qubit: F = (1 + 3 w^2) / 4
    assert fidelity([a, b], PHI_PLUS) == pytest.approx((1 + 3 * (1 - p) ** 2) / 4, abs=1e-12)


@pytest.mark.parametrize("fid", [0.5, 0.8, 0.95])
def test_werner_pair_depolarising_decay_in_time(fid):
    t_dep, t_ns = 1e6, 3e5
    a, b = create_werner_pair(fid)
    depolarise_for_time(a, t_ns, depolar_time_ns=t_dep)
    depolarise_for_time(b, t_ns, depolar_time_ns=t_dep)
    w0 = (4 * fid - 1) / 3
    w = w0 * math.exp(-2 * t_ns / t_dep)
    assert fidelity([a, b], PHI_PLUS) == pytest.approx((1 + 3 * w) / 4, abs=1e-12)


def test_dephase_probability_half_kills_coherence():
    a, b = create_bell_pair()
    dephase(a, 0.5)
    assert fidelity([a, b], PHI_PLUS) == pytest.approx(0.5, abs=1e-12)


def _random_ket(rng):
    v = rng.normal(size=2) + 1j * rng.normal(size=2)
    return v / np.linalg.norm(v)


def _teleport(ket, pair, rng):
    (data,) = create_qubits(1)
    assign_state([data], ket)
    a, b = pair
    outcome = bell_measure(data, a, rng)
    for gate in bell_correction(outcome):
        operate([b], gate)
    return outcome, b


def test_teleportation_with_perfect_pair_is_exact_for_all_outcomes():
    rng = np.random.default_rng(2024)
    seen = set()
    for _ in range(200):
        ket = _random_ket(rng)
        outcome, b = _teleport(ket, create_bell_pair(), rng)
        seen.add(outcome)
        assert fidelity([b], ket) == pytest.approx(1.0, abs=1e-12)
        assert len(b.state.qubits) == 1
    assert seen == {0, 1, 2, 3}


@pytest.mark.parametrize("fid", [0.6, 0.85])
def test_teleportation_with_werner_pair_averages_two_f_plus_one_over_three(fid):
    rng = np.random.default_rng(7)
    n = 4000
    values = np.array([fidelity([_teleport(k, create_werner_pair(fid), rng)[1]], k)
                       for k in (_random_ket(rng) for _ in range(n))])
    # A Werner resource makes teleportation a depolarising channel, so every input (and every
    # Bell outcome) gives exactly the average (2F+1)/3 (Horodecki et al., PRA 60, 1888 (1999)).
    assert np.allclose(values, (2 * fid + 1) / 3, atol=1e-12)


def _swap_exact(f1, f2):
    """Average swapped-pair fidelity, exactly: sum over outcomes of p_b * F_b."""
    total = 0.0
    for outcome in range(4):
        a, b1 = create_werner_pair(f1)
        b2, c = create_werner_pair(f2)
        probs = bell_outcome_probabilities(b1, b2)
        forced = _ForcedRng(outcome, probs)
        got = bell_measure(b1, b2, forced)
        assert got == outcome
        for gate in bell_correction(outcome):
            operate([c], gate)
        total += probs[outcome] * fidelity([a, c], PHI_PLUS)
    return total


class _ForcedRng:
    """A stand-in Generator whose draw selects a given outcome of a known distribution."""

    def __init__(self, outcome, probs):
        cumulative = np.concatenate([[0.0], np.cumsum(probs)])
        self.value = (cumulative[outcome] + cumulative[outcome + 1]) / 2 / cumulative[-1]

    def random(self):
        return self.value


@pytest.mark.parametrize(("f1", "f2"), [(1.0, 1.0), (0.9, 0.8), (0.7, 0.95), (0.5, 0.5)])
def test_swapping_two_werner_pairs_exact(f1, f2):
    expected = f1 * f2 + (1 - f1) * (1 - f2) / 3
    assert _swap_exact(f1, f2) == pytest.approx(expected, abs=1e-12)


def test_swapping_werner_pairs_monte_carlo():
    f1, f2, n = 0.9, 0.8, 3000
    rng = np.random.default_rng(11)
    values = []
    for _ in range(n):
        a, b1 = create_werner_pair(f1)
        b2, c = create_werner_pair(f2)
        for gate in bell_correction(bell_measure(b1, b2, rng)):
            operate([c], gate)
        values.append(fidelity([a, c], PHI_PLUS))
    values = np.array(values)
    expected = f1 * f2 + (1 - f1) * (1 - f2) / 3
    # each swapped state is exactly Werner here, so every value equals the mean
    assert np.allclose(values, expected, atol=1e-12)


def test_bell_measurement_frequencies_on_product_input():
    rng = np.random.default_rng(3)
    n = 8000
    counts = np.zeros(4, int)
    for _ in range(n):
        q = create_qubits(2)
        operate([q[1]], X)  # |01>
        counts[bell_measure(q[0], q[1], rng)] += 1
    assert counts[0] == counts[1] == 0
    sigma = math.sqrt(n * 0.25)
    assert abs(counts[2] - n / 2) < 4.5 * sigma


def test_bell_measurement_identifies_each_bell_state():
    rng = np.random.default_rng(0)
    for index, label in enumerate(BELL_LABELS):
        a, b = create_bell_pair(label)
        assert bell_outcome_probabilities(a, b)[index] == pytest.approx(1.0)
        assert bell_measure(a, b, rng) == index
        assert a.state is None and b.state is None


def test_bell_prepared_by_circuit_matches_constructor():
    q = create_qubits(2)
    operate([q[0]], H)
    operate(q, CNOT)
    assert np.allclose(reduced_dm(q), bell_dm(0))


@pytest.mark.parametrize("basis", ["Z", "X", "Y"])
def test_measurement_statistics_and_collapse(basis):
    rng = np.random.default_rng(5)
    n = 4000
    ones = 0
    for _ in range(n):
        a, b = create_bell_pair()
        outcome = measure(a, rng, basis=basis)
        ones += outcome
        # the partner collapses to the corresponding eigenstate (Phi+ correlations:
        # Z -> same, X -> same, Y -> opposite)
        expected_partner = outcome if basis != "Y" else 1 - outcome
        assert measure(b, rng, basis=basis) == expected_partner
    assert abs(ones - n / 2) < 4.5 * math.sqrt(n / 4)


def test_werner_constructor():
    w = werner_dm(0.7)
    assert np.trace(w).real == pytest.approx(1.0)
    assert fidelity(w, PHI_PLUS) == pytest.approx(0.7)
    assert np.allclose(bell_correction(3), [X, Z])
