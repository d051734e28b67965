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
)
from modenhub_net.components import Component, Message
from modenhub_net.errors import UserInputError
from modenhub_net.qubits import bell_state, fidelity
from modenhub_net.simulation import Simulation

K = 5.0
IDEAL = DetectorParams(efficiency=1.0, dark_count_rate_hz=0.0)


@pytest.mark.parametrize("statistics", ["thermal", "poisson"])
@pytest.mark.parametrize("mu", [0.001, 0.1, 1.0])
def test_distribution_normalised_with_mean_mu(statistics: str, mu: float) -> None:
    p = pair_number_distribution(SpdcParams(mu=mu, pair_statistics=statistics))
    n = np.arange(len(p))
    assert p.sum() == pytest.approx(1.0, abs=1e-14)
    assert (n * p).sum() == pytest.approx(mu, rel=1e-10)
    if statistics == "thermal":
        assert p[2] == pytest.approx(mu**2 / (1 + mu) ** 3)


@pytest.mark.parametrize("statistics", ["thermal", "poisson"])
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
    assert abs(mc.herald_probability - p) <= K * math.sqrt(p * (1 - p) / mc.n_pulses)
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


@pytest.mark.parametrize(("statistics", "werner_p"), [("thermal", lambda mu: 1 / (1 + 2 * mu)),
                                                      ("poisson", lambda mu: 1 / (1 + mu))])
def test_low_efficiency_limit_is_white_noise_of_order_mu(statistics, werner_p) -> None:
    # small arm efficiencies, ideal detectors: same-pair coincidences (weight E[n] t^2, always
    # correlated) against different-pair ones (E[n(n-1)] t^2, correlated half the time) give
    # the Werner parameter 1/(1 + E[n(n-1)]/mu): 1/(1+2mu) thermal, 1/(1+mu) Poisson
    for mu in (0.01, 0.1, 0.5):
        params = SpdcParams(mu=mu, pair_statistics=statistics)
        f = spdc_heralded_fidelity(params, eta_a=1e-4, eta_b=1e-4, detector=IDEAL)
        assert (4 * f - 1) / 3 == pytest.approx(werner_p(mu), rel=1e-3)


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
    params = SpdcParams(mu=0.5, bell_state="Phi-", repetition_rate_hz=1e9, coupling_efficiency_a=0.5)
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


@pytest.mark.parametrize(
    ("field", "value"),
    [("mu", -0.1), ("mu", 1.5), ("coupling_efficiency_a", 1.2), ("coupling_efficiency_b", -0.2),
     ("repetition_rate_hz", 0.0), ("bell_state", "Chi+"), ("pair_statistics", "binomial")],
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
