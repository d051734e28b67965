"""SPDC source: pair statistics and sampler, coincidence-heralded state against the
photon-number-level Monte Carlo, heralded storage against a direct photon sampler, limits,
the source component, bad parameters. Tolerances: 5 standard errors, fixed seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardware_models.detector import DetectorParams
from hardware_models.photon_mc import simulate_spdc_coincidences
from hardware_models.spdc import (
    BELL_INDEX,
    SpdcParams,
    SpdcSource,
    pair_number_distribution,
    sample_pair_number,
    spdc_attempt_period_ns,
    spdc_herald_probability,
    spdc_heralded_fidelity,
    spdc_heralded_state,
    spdc_stored_fidelity,
    spdc_stored_herald_probability,
    spdc_stored_state,
    two_mode_pair_amplitudes,
    two_mode_pair_ket,
)
from modenhub_net.components import Component, Message
from modenhub_net.errors import UserInputError
from modenhub_net.qubits import bell_state, create_qubits, fidelity, lose, reduced_dm
from modenhub_net.simulation import Simulation

K = 5.0
IDEAL = DetectorParams(efficiency=1.0, dark_count_rate_hz=0.0)


STATISTICS = ["two_mode_thermal", "thermal", "poisson"]


def test_default_statistics_is_the_two_mode_source() -> None:
    assert SpdcParams().pair_statistics == "two_mode_thermal"


@pytest.mark.parametrize("statistics", STATISTICS)
@pytest.mark.parametrize("mu", [0.001, 0.1, 1.0])
def test_distribution_normalised_with_mean_mu(statistics: str, mu: float) -> None:
    p = pair_number_distribution(SpdcParams(mu=mu, pair_statistics=statistics))
    n = np.arange(len(p))
    assert p.sum() == pytest.approx(1.0, abs=1e-14)
    assert (n * p).sum() == pytest.approx(mu, rel=1e-10)
    if statistics == "thermal":
        assert p[2] == pytest.approx(mu**2 / (1 + mu) ** 3)
    if statistics == "two_mode_thermal":
        # the convolution of two thermal laws of mean mu/2: sum_k x^k x^(2-k) / (1+x)^4
        x = mu / 2
        assert p[2] == pytest.approx(sum(x**k / (1 + x) ** (k + 1) * x ** (2 - k) / (1 + x) ** (3 - k)
                                         for k in range(3)))
        # variance of a sum of two independent thermal modes: 2 (x + x^2)
        assert (n * n * p).sum() - mu**2 == pytest.approx(2 * (x + x * x), rel=1e-10)


@pytest.mark.parametrize("statistics", STATISTICS)
def test_sampler_follows_distribution(statistics: str, validation_scale: float) -> None:
    params = SpdcParams(mu=0.4, pair_statistics=statistics)
    rng = Simulation(seed=5).rng("spdc.sampler")
    trials = int(200_000 * validation_scale)
    draws = sample_pair_number(params, rng, size=trials)
    p = pair_number_distribution(params)
    for k in range(4):
        freq = float(np.mean(draws == k))
        assert abs(freq - p[k]) <= K * math.sqrt(p[k] * (1 - p[k]) / trials)
    assert isinstance(sample_pair_number(params, rng), int)
    assert sample_pair_number(SpdcParams(mu=0.0), rng) == 0


CASES = [
    # bell state, mu, statistics, number_resolving, dark rate (Hz), eta_a, eta_b, coupling_a
    ("Psi+", 0.2, "thermal", False, 2.0e6, 0.6, 0.4, 0.8),
    ("Phi+", 0.3, "poisson", True, 1.0e6, 0.6, 0.4, 1.0),
    ("Psi-", 0.05, "thermal", False, 0.0, 0.9, 0.7, 0.9),
    ("Phi-", 0.5, "thermal", True, 0.0, 0.5, 0.5, 1.0),
    # the two-mode source: Fock-space photon counts in every analyser setting
    ("Psi+", 0.2, "two_mode_thermal", False, 2.0e6, 0.6, 0.4, 0.8),
    ("Phi+", 0.3, "two_mode_thermal", True, 1.0e6, 0.6, 0.4, 1.0),
    ("Psi-", 0.5, "two_mode_thermal", False, 0.0, 0.9, 0.7, 0.9),
    ("Phi-", 0.8, "two_mode_thermal", True, 0.0, 0.5, 0.5, 1.0),
    ("Psi-", 0.1, "two_mode_thermal", False, 2.0e5, 0.05, 0.08, 1.0),
]


@pytest.mark.parametrize(("bell", "mu", "stats", "pnr", "dark", "eta_a", "eta_b", "ca"), CASES)
def test_heralded_state_matches_photon_level_monte_carlo(
    bell, mu, stats, pnr, dark, eta_a, eta_b, ca, validation_scale
) -> None:
    params = SpdcParams(mu=mu, bell_state=bell, pair_statistics=stats, coupling_efficiency_a=ca)
    det = DetectorParams(efficiency=0.9, dark_count_rate_hz=dark, window_ns=50.0,
                         number_resolving=pnr)
    rng = Simulation(seed=17).rng(f"photon_mc.{bell}")
    mc = simulate_spdc_coincidences(params, eta_a=eta_a, eta_b=eta_b, detector=det,
                                    pulses_per_setting=int(200_000 * validation_scale), rng=rng)
    p = spdc_herald_probability(params, eta_a=eta_a, eta_b=eta_b, detector=det)
    f = spdc_heralded_fidelity(params, eta_a=eta_a, eta_b=eta_b, detector=det)
    rho = spdc_heralded_state(params, eta_a=eta_a, eta_b=eta_b, detector=det)
    # the closed form's herald probability is the coincidence rate in the target's frame (Z on
    # both arms); multi-pair coincidences in mismatched settings occur at other rates
    per_setting = mc.n_pulses // 9
    k_zz = mc.correlations[("Z", "Z")][1]
    assert abs(k_zz - per_setting * p) <= K * math.sqrt(per_setting * p * (1 - p))
    assert abs(mc.fidelity - f) <= K * mc.fidelity_se
    # The whole state, parameter by parameter: each of the 9 correlations <s_u s_v> of the
    # tomography (k heralds in setting (u, v)) within 5 binomial standard errors
    # sqrt((1 - E^2)/k) of the closed-form state's, and each of the 6 local Bloch components
    # (about n_heralds / 3 heralds per basis) within 5 standard errors of the closed form's 0.
    paulis = {"X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]),
              "Z": np.diag([1, -1])}
    for (u, v), (e_mc, k) in mc.correlations.items():
        e = float(np.real(np.trace(rho @ np.kron(paulis[u], paulis[v]))))
        assert abs(e_mc - e) <= K * math.sqrt(max(1 - e * e, 1 / k) / k), (u, v)
    for op in paulis.values():
        for local in (np.kron(op, np.eye(2)), np.kron(np.eye(2), op)):
            assert abs(np.real(np.trace(rho @ local))) < 1e-12  # Werner: no local Bloch vector
            assert abs(np.real(np.trace(mc.state @ local))) <= K * math.sqrt(3 / mc.n_heralds)
    assert fidelity(rho, bell_state(BELL_INDEX[bell])) == pytest.approx(f)


@pytest.mark.parametrize(("statistics", "werner_p"),
                         [("thermal", lambda mu: 1 / (1 + 2 * mu)),
                          ("poisson", lambda mu: 1 / (1 + mu)),
                          ("two_mode_thermal", lambda mu: (1 + mu / 2) / (1 + 3 * mu / 2))])
def test_low_efficiency_limit_is_white_noise_of_order_mu(statistics, werner_p) -> None:
    # small arm efficiencies, ideal detectors: same-pair coincidences (weight E[n] t^2, always
    # correlated) against different-pair ones (E[n(n-1)] t^2, correlated half the time) give
    # the Werner parameter 1/(1 + E[n(n-1)]/mu): 1/(1+2mu) thermal, 1/(1+mu) Poisson. Two
    # squeezed modes of mean x = mu/2 (bosonic pairs): correlated E[n1^2 + n2^2] = mu + mu^2,
    # anti-correlated 2 E[n1] E[n2] = mu^2/2, so p = (1 + mu/2)/(1 + 3mu/2). Heralded storage
    # in the same limit: p = E[(n1 - n2)^2] / E[N^2], the same values.
    for mu in (0.01, 0.1, 0.5):
        params = SpdcParams(mu=mu, pair_statistics=statistics)
        f = spdc_heralded_fidelity(params, eta_a=1e-4, eta_b=1e-4, detector=IDEAL)
        assert (4 * f - 1) / 3 == pytest.approx(werner_p(mu), rel=1e-3)
        fs = spdc_stored_fidelity(params, eta_a=1e-4, eta_b=1e-4, write_efficiency_a=1.0,
                                  write_efficiency_b=1.0, herald_detector=IDEAL)
        assert (4 * fs - 1) / 3 == pytest.approx(werner_p(mu), rel=1e-3)
        # small-mu herald probabilities: one pair, both photons registered: mu t_a t_b
        p = spdc_herald_probability(params, eta_a=1e-3, eta_b=2e-3, detector=IDEAL)
        if mu == 0.01:
            assert p == pytest.approx(mu * 2e-6, rel=2e-2)


@pytest.mark.parametrize("eta", [1e-4, 0.01, 0.1, 0.5, 0.9])
def test_two_mode_multi_pair_infidelity_is_about_half_the_one_mode_model(eta: float) -> None:
    """One thermal mode of mean mu with distinguishable pairs has twice the two-mode source's
    multi-pair infidelity at low efficiency (3 mu/2 against 3 mu/4, module docstring); the
    ratio stays near 1/2 at every efficiency, for the coincidence-heralded and the stored
    state alike, and tends to 1/2 as mu -> 0."""
    ratios = {}
    for mu in (1e-3, 0.01, 0.1):
        out = []
        for model in ("two_mode_thermal", "thermal"):
            params = SpdcParams(mu=mu, pair_statistics=model)
            f = spdc_heralded_fidelity(params, eta_a=eta, eta_b=eta, detector=IDEAL)
            fs = spdc_stored_fidelity(params, eta_a=eta, eta_b=eta, write_efficiency_a=1.0,
                                      write_efficiency_b=1.0, herald_detector=IDEAL)
            out.append((1 - f, 1 - fs))
        ratios[mu] = (out[0][0] / out[1][0], out[0][1] / out[1][1])
    for mu, (r_coinc, r_store) in ratios.items():
        assert 0.5 <= r_coinc <= 0.5 + 0.3 * mu, (mu, r_coinc)
        assert 0.5 <= r_store <= 0.5 + 0.3 * mu, (mu, r_store)
    if eta == 1e-4:  # exact low-efficiency values: (1 + 2mu)/(2 + 3mu)
        for mu, (r_coinc, _) in ratios.items():
            assert r_coinc == pytest.approx((1 + 2 * mu) / (2 + 3 * mu), rel=1e-3)


def test_two_mode_fock_amplitudes_are_uniform_and_rotation_invariant() -> None:
    """Given N pairs, the N + 1 configurations of the two squeezed modes are equally likely
    (product of two thermal laws of equal mean); the Psi- component is a singlet, so in any
    matched analyser frame the counts are perfectly anti-correlated with uniform weights."""
    for n in range(1, 5):
        for bell in BELL_INDEX:
            probs = np.abs(two_mode_pair_amplitudes(bell, n)) ** 2
            assert np.sum(probs) == pytest.approx(1.0)
            nonzero = probs[probs > 1e-14]
            assert len(nonzero) == n + 1
            np.testing.assert_allclose(nonzero, 1 / (n + 1), atol=1e-12)
        theta, phi = 0.7, 1.9
        u = np.array([[math.cos(theta), math.sin(theta) * np.exp(1j * phi)],
                      [-math.sin(theta) * np.exp(-1j * phi), math.cos(theta)]])
        rotated = np.abs(two_mode_pair_amplitudes("Psi-", n, frame_a=u, frame_b=u)) ** 2
        np.testing.assert_allclose(rotated, np.abs(two_mode_pair_amplitudes("Psi-", n)) ** 2,
                                   atol=1e-12)
    # first quantisation: the 2-pair ket is permutation symmetric within each arm and its
    # one-photon-per-arm reduced state is Werner with p_N = (N + 2)/(3N) = 2/3
    ket = two_mode_pair_ket("Psi+", 2)
    qubits = create_qubits(4)
    from modenhub_net.qubits import assign_state

    assign_state(qubits, ket)
    rho = reduced_dm([qubits[0], qubits[2]])
    assert fidelity(rho, bell_state(BELL_INDEX["Psi+"])) == pytest.approx((1 + 3 * 2 / 3) / 4)
    np.testing.assert_allclose(reduced_dm([qubits[1], qubits[3]]), rho, atol=1e-12)


def test_fidelity_tends_to_one_and_falls_with_mu() -> None:
    fids = [spdc_heralded_fidelity(SpdcParams(mu=mu), eta_a=0.5, eta_b=0.5, detector=IDEAL)
            for mu in (1e-6, 1e-3, 1e-2, 1e-1)]
    assert fids[0] == pytest.approx(1.0, abs=1e-5)
    assert all(a > b for a, b in zip(fids, fids[1:], strict=False))
    p = spdc_herald_probability(SpdcParams(mu=1e-4), eta_a=0.5, eta_b=0.5, detector=IDEAL)
    assert p == pytest.approx(1e-4 * 0.25, rel=1e-3)


def test_dark_counts_lower_fidelity_and_add_heralds() -> None:
    params = SpdcParams(mu=0.01)
    noisy = DetectorParams(efficiency=1.0, dark_count_rate_hz=1e5, window_ns=100.0)
    args = {"eta_a": 0.01, "eta_b": 0.01}
    assert spdc_heralded_fidelity(params, **args, detector=noisy) < spdc_heralded_fidelity(
        params, **args, detector=IDEAL
    )
    assert spdc_herald_probability(params, **args, detector=noisy) > spdc_herald_probability(
        params, **args, detector=IDEAL
    )


def _storage_sampler(params, *, sa, sb, det, pulses, rng):
    """Direct photon sampler of heralded storage (single-excitation memories)."""
    p_dc = 1 - math.exp(-det.dark_count_rate_hz * det.window_ns * 1e-9)
    n = sample_pair_number(params, rng, size=pulses)
    heralds, fids = 0, []
    for k in n:
        ok_a = rng.random(k) < sa  # absorbable photons of each pair, arm a
        ok_b = rng.random(k) < sb
        stored = []
        for ok in (ok_a, ok_b):
            idx = np.flatnonzero(ok)
            choice = int(rng.choice(idx)) if len(idx) else None
            herald_photon = choice is not None and rng.random() < det.efficiency
            click = herald_photon or rng.random() < p_dc
            stored.append((choice, click))
        if stored[0][1] and stored[1][1]:
            heralds += 1
            ca, cb = stored[0][0], stored[1][0]
            fids.append(1.0 if (ca is not None and ca == cb) else 0.25)
    return heralds, np.array(fids)


def _component_storage(params, *, sa, sb, det, pulses, rng_name, seed):
    """Heralded storage driven by the :class:`SpdcSource` component: each surviving photon is
    absorbable with ``s``, the memory keeps one absorbable photon chosen uniformly, the herald
    photon is registered with the detector efficiency or a dark count fires. Returns
    (heralds, fidelity of the two stored photons' exact reduced state, 0.25 if one is empty)."""
    sim = Simulation(seed=seed)
    source = SpdcSource("src", sim=sim, params=params)
    got: dict[str, Message] = {}
    for side in "ab":
        sink = _Sink(f"sink_{side}", sim=sim)
        source.ports[side].connect(sink.ports[side])
        sink.ports[side].bind_input_handler(lambda m, s=side: got.__setitem__(s, m))
    rng = sim.rng(rng_name)
    p_dc = 1 - math.exp(-det.dark_count_rate_hz * det.window_ns * 1e-9)
    target = bell_state(BELL_INDEX[params.bell_state])
    heralds, fids = 0, []
    for _ in range(pulses):
        source.emit()
        chosen = []
        for side, s in (("a", sa), ("b", sb)):
            photons = [q for q in got[side].items if q is not None]
            absorbable = [q for q in photons if rng.random() < s]
            pick = absorbable[int(rng.integers(len(absorbable)))] if absorbable else None
            click = (pick is not None and rng.random() < det.efficiency) or rng.random() < p_dc
            chosen.append((pick, click))
        (qa, ca), (qb, cb) = chosen
        if ca and cb:
            heralds += 1
            fids.append(fidelity(reduced_dm([qa, qb]), target)
                        if qa is not None and qb is not None else 0.25)
        for side in "ab":
            for q in got[side].items:
                if q is not None and q.state is not None:
                    lose(q)
    return heralds, np.array(fids)


@pytest.mark.parametrize(("mu", "bell", "sa", "sb", "dark"),
                         [(0.4, "Psi+", 0.7, 0.5, 0.0), (0.6, "Phi-", 0.9, 0.8, 2.0e6),
                          (0.2, "Psi-", 0.3, 0.4, 5.0e5)])
def test_two_mode_storage_matches_the_source_component(mu, bell, sa, sb, dark,
                                                       validation_scale) -> None:
    """The closed form (hypergeometric absorption, bosonic pairs) against the exact Fock-space
    state the component emits, within 5 standard errors."""
    params = SpdcParams(mu=mu, bell_state=bell)
    det = DetectorParams(efficiency=0.8, dark_count_rate_hz=dark, window_ns=100.0)
    pulses = int(30_000 * validation_scale)
    heralds, fids = _component_storage(params, sa=sa, sb=sb, det=det, pulses=pulses,
                                       rng_name="absorb", seed=41)
    kw = {"eta_a": sa, "eta_b": sb, "write_efficiency_a": 1.0, "write_efficiency_b": 1.0,
          "herald_detector": det}
    p = spdc_stored_herald_probability(params, **kw)
    f = spdc_stored_fidelity(params, **kw)
    assert abs(heralds - pulses * p) <= K * math.sqrt(pulses * p * (1 - p))
    assert abs(fids.mean() - f) <= K * fids.std(ddof=1) / math.sqrt(len(fids)), (fids.mean(), f)
    # the one-mode model is visibly different at these mu (its multi-pair noise is larger)
    f_one = spdc_stored_fidelity(params.model_copy(update={"pair_statistics": "thermal"}), **kw)
    assert f_one < f


@pytest.mark.parametrize(("mu", "stats", "sa", "sb", "dark"),
                         [(0.3, "thermal", 0.7, 0.5, 0.0), (0.5, "poisson", 0.9, 0.8, 2.0e6)])
def test_storage_state_matches_direct_sampler(mu, stats, sa, sb, dark, validation_scale) -> None:
    params = SpdcParams(mu=mu, pair_statistics=stats, coupling_efficiency_a=0.9)
    det = DetectorParams(efficiency=0.8, dark_count_rate_hz=dark, window_ns=100.0)
    rng = Simulation(seed=23).rng("storage")
    pulses = int(60_000 * validation_scale)
    # eta_a absorbs coupling 0.9 so that the per-photon absorption is exactly sa
    kw = {"eta_a": sa / 0.9, "eta_b": sb, "write_efficiency_a": 1.0, "write_efficiency_b": 1.0,
          "herald_detector": det}
    heralds, fids = _storage_sampler(params, sa=sa, sb=sb, det=det, pulses=pulses, rng=rng)
    p = spdc_stored_herald_probability(params, **kw)
    f = spdc_stored_fidelity(params, **kw)
    assert abs(heralds - pulses * p) <= K * math.sqrt(pulses * p * (1 - p))
    assert abs(fids.mean() - f) <= K * fids.std(ddof=1) / math.sqrt(len(fids))
    rho = spdc_stored_state(params, **kw)
    assert fidelity(rho, bell_state(BELL_INDEX[params.bell_state])) == pytest.approx(f)


class _Sink(Component):
    def __init__(self, name: str, *, sim: Simulation) -> None:
        super().__init__(name, sim=sim, port_names=("a", "b"))
        self.got: dict[str, list[tuple[float, Message]]] = {"a": [], "b": []}
        for side in "ab":
            self.ports[side].bind_input_handler(
                lambda m, s=side: self.got[s].append((self.sim.now_ns, m))
            )


def test_source_component_emits_pairs_per_pulse(validation_scale: float) -> None:
    sim = Simulation(seed=31)
    params = SpdcParams(mu=0.5, bell_state="Phi-", repetition_rate_hz=1e9, coupling_efficiency_a=0.5,
                        pair_statistics="thermal")
    source = SpdcSource("spdc", sim=sim, params=params)
    sink = _Sink("sink", sim=sim)
    source.ports["a"].connect(sink.ports["a"])
    source.ports["b"].connect(sink.ports["b"])
    pulses = int(4_000 * validation_scale)
    source.start(pulses)
    sim.run()
    assert spdc_attempt_period_ns(params) == 1.0
    assert [t for t, _ in sink.got["a"]] == [float(i) for i in range(pulses)]
    n_pairs = np.array([m.meta["n_pairs"] for _, m in sink.got["a"]])
    p0 = 1 / 1.5
    assert abs(np.mean(n_pairs == 0) - p0) <= K * math.sqrt(p0 * (1 - p0) / pulses)
    kept = total = 0
    for (_, ma), (_, mb) in zip(sink.got["a"], sink.got["b"], strict=True):
        n = ma.meta["n_pairs"]
        if n == 0:
            assert ma.items == (None,) and mb.items == (None,)
            continue
        assert len(ma.items) == len(mb.items) == n
        assert all(q is not None for q in mb.items)  # coupling_b = 1
        for qa, qb in zip(ma.items, mb.items, strict=True):
            total += 1
            if qa is not None:
                kept += 1
                assert fidelity([qa, qb], bell_state(1)) == pytest.approx(1.0)
    assert abs(kept - 0.5 * total) <= K * math.sqrt(0.25 * total)


def test_two_mode_source_component_emits_the_fock_state(validation_scale: float) -> None:
    sim = Simulation(seed=32)
    params = SpdcParams(mu=0.6, bell_state="Psi-")
    source = SpdcSource("spdc", sim=sim, params=params)
    sink = _Sink("sink", sim=sim)
    source.ports["a"].connect(sink.ports["a"])
    source.ports["b"].connect(sink.ports["b"])
    pulses = int(6_000 * validation_scale)
    source.start(pulses)
    sim.run()
    n_pairs = np.array([m.meta["n_pairs"] for _, m in sink.got["a"]])
    p = pair_number_distribution(params)
    for k in range(3):
        freq = float(np.mean(n_pairs == k))
        assert abs(freq - p[k]) <= K * math.sqrt(p[k] * (1 - p[k]) / pulses)
    assert source.n_pairs == int(n_pairs.sum()) and source.n_pulses == pulses
    target = bell_state(BELL_INDEX["Psi-"])
    for (_, ma), (_, mb) in zip(sink.got["a"], sink.got["b"], strict=True):
        n = ma.meta["n_pairs"]
        if 1 <= n <= SpdcSource.max_exact_pairs:
            # any photon of a with any photon of b: Werner with p_N = (N + 2) / (3N)
            f = fidelity(reduced_dm([ma.items[0], mb.items[-1]]), target)
            assert f == pytest.approx((1 + (n + 2) / n) / 4, abs=1e-9), n


@pytest.mark.parametrize(
    ("field", "value"),
    [("mu", -0.1), ("mu", 1.5), ("coupling_efficiency_a", 1.2), ("coupling_efficiency_b", -0.2),
     ("repetition_rate_hz", 0.0), ("bell_state", "Chi+"), ("pair_statistics", "binomial"),
     ("mu", True), ("mu", float("nan")), ("pair_statistics", 1)],
)
def test_bad_parameters(field: str, value) -> None:
    with pytest.raises(UserInputError) as info:
        SpdcParams(**{field: value})
    assert field in str(info.value)


def test_bad_efficiency_arguments() -> None:
    with pytest.raises(UserInputError, match="eta_a"):
        spdc_herald_probability(SpdcParams(), eta_a=1.1, eta_b=0.5, detector=IDEAL)
    with pytest.raises(UserInputError, match="write_efficiency_b"):
        spdc_stored_fidelity(SpdcParams(), eta_a=0.5, eta_b=0.5, write_efficiency_a=1.0,
                             write_efficiency_b=-1.0, herald_detector=IDEAL)


def test_at_most_one_dark_count_statistics_reach_the_closed_forms(validation_scale) -> None:
    """PNR analysers with at most one dark count per window (netsquid-physlayer's model):
    closed form against the photon Monte Carlo, and visibly different from Poisson dark
    counts at this dark-count level (lambda = 0.2 per window)."""
    params = SpdcParams(mu=0.2, bell_state="Psi+")
    det = DetectorParams(efficiency=0.9, dark_count_rate_hz=4.0e6, window_ns=50.0,
                         number_resolving=True, dark_count_statistics="at_most_one")
    kw = {"eta_a": 0.3, "eta_b": 0.4}
    pulses = int(100_000 * validation_scale)
    mc = simulate_spdc_coincidences(params, **kw, detector=det, pulses_per_setting=pulses,
                                    rng=Simulation(seed=19).rng("photon_mc.at_most_one"))
    p = spdc_herald_probability(params, **kw, detector=det)
    f = spdc_heralded_fidelity(params, **kw, detector=det)
    k_zz = mc.correlations[("Z", "Z")][1]
    assert abs(k_zz - pulses * p) <= K * math.sqrt(pulses * p * (1 - p))
    assert abs(mc.fidelity - f) <= K * mc.fidelity_se
    poisson = det.model_copy(update={"dark_count_statistics": "poisson"})
    p_pois = spdc_herald_probability(params, **kw, detector=poisson)
    # the Monte Carlo resolves the difference between the two dark-count models (> 5 SE)
    assert abs(p - p_pois) > K * math.sqrt(p * (1 - p) / pulses)
