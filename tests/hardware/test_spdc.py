"""SPDC source: thermal statistics, closed-form heralded state vs photon-level Monte Carlo,
the source component, and bad parameters. Tolerances: 5 standard errors, fixed seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardware_models.photon_mc import simulate_spdc_link
from hardware_models.spdc import (
    SpdcParams,
    SpdcSource,
    pair_number_probability,
    sample_pair_number,
    spdc_attempt_period_ns,
    spdc_herald,
    spdc_herald_probability,
    spdc_heralded_state,
)
from modenhub_net.components import Component
from modenhub_net.errors import UserInputError
from modenhub_net.simulation import Simulation

K = 5.0  # standard errors


def test_thermal_statistics_normalised_with_mean_mu() -> None:
    n = np.arange(400)
    for mu in (0.01, 0.3, 2.0):
        p = pair_number_probability(n, mu)
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        assert (n * p).sum() == pytest.approx(mu, rel=1e-9)


def test_sampler_follows_thermal_law() -> None:
    rng = Simulation(seed=11).rng("spdc.sampler")
    mu, trials = 0.4, 200_000
    draws = sample_pair_number(rng, mu, size=trials)
    for k in range(4):
        p = pair_number_probability(k, mu)
        freq = np.mean(draws == k)
        assert abs(freq - p) < K * math.sqrt(p * (1 - p) / trials)
    assert sample_pair_number(rng, 0.0) == 0


def _brute_force(mu, ea, eb, da, db, pnr, model, n_max=120):
    """Direct sums over n (and the mode split) -- no generating functions."""
    from math import comb

    modes = 2 if model == "detector" else 1
    lam_a, lam_b = -math.log1p(-da), -math.log1p(-db)
    x, y = 1 - ea, 1 - eb
    p_h = corr = 0.0
    for n in range(n_max):
        pn = mu**n / (1 + mu) ** (n + 1)
        if pnr:
            ha = math.exp(-modes * lam_a) * (n * ea * x ** max(n - 1, 0) + modes * lam_a * x**n)
            hb = math.exp(-modes * lam_b) * (n * eb * y ** max(n - 1, 0) + modes * lam_b * y**n)
            p_h += pn * ha * hb
            corr += pn * n * ea * eb * (x * y) ** max(n - 1, 0) * math.exp(-modes * (lam_a + lam_b))
            continue
        ha = 1 - x**n * (1 - da) ** modes
        hb = 1 - y**n * (1 - db) ** modes
        p_h += pn * ha * hb
        if n == 0:
            continue
        if model == "storage":
            corr += pn * (1 - x**n) * (1 - y**n) / n
        else:
            for m0 in range(n + 1):
                w = comb(n, m0) / 2**n
                qa = lambda m: 1 - x**m * (1 - da)  # noqa: E731
                qb = lambda m: 1 - y**m * (1 - db)  # noqa: E731
                corr += pn * w * (qa(m0) - qa(n - m0)) * (qb(m0) - qb(n - m0))
    return p_h, corr / p_h


@pytest.mark.parametrize("model", ["detector", "storage"])
@pytest.mark.parametrize("pnr", [False, True])
def test_closed_form_equals_direct_sum(model: str, pnr: bool) -> None:
    for mu, ea, eb, d in ((0.05, 0.3, 0.7, 0.0), (0.8, 0.9, 0.6, 0.03)):
        herald = spdc_herald(SpdcParams(mu=mu), eta_a=ea, eta_b=eb, dark_count_prob_a=d,
                             dark_count_prob_b=d, number_resolving=pnr, model=model)
        p_h, f = _brute_force(mu, ea, eb, d, d, pnr, model)
        assert herald.probability == pytest.approx(p_h, rel=1e-9)
        assert herald.werner_weight == pytest.approx(f, rel=1e-9)


def test_low_efficiency_limit_is_takesue_shimizu_visibility() -> None:
    # threshold detectors, tiny collection efficiency: f -> 1 / (1 + 2 mu) (Takesue & Shimizu 2010)
    for mu in (0.01, 0.1, 0.5):
        h = spdc_herald(SpdcParams(mu=mu), eta_a=1e-5, eta_b=1e-5)
        assert h.werner_weight == pytest.approx(1 / (1 + 2 * mu), rel=1e-4)
        assert h.probability == pytest.approx(mu * 1e-10 * (1 + 2 * mu), rel=1e-3)


def test_single_pair_limit_is_perfect_and_state_is_target_bell() -> None:
    for label, idx in (("Psi+", 2), ("Phi-", 1)):
        rho = spdc_heralded_state(SpdcParams(mu=1e-9, bell_state=label), eta_a=0.5, eta_b=0.5)
        assert np.allclose(rho, rho.conj().T) and np.trace(rho).real == pytest.approx(1.0)
        assert np.linalg.eigvalsh(rho).min() > -1e-12
        from modenhub_net.qubits import bell_state

        ket = bell_state(idx)
        assert np.vdot(ket, rho @ ket).real == pytest.approx(1.0, abs=1e-8)
    h = spdc_herald(SpdcParams(mu=1e-9), eta_a=0.5, eta_b=0.5)
    assert h.fidelity == pytest.approx(1.0, abs=1e-8)


def test_dark_counts_lower_fidelity_and_raise_herald_rate() -> None:
    source = SpdcParams(mu=0.01)
    clean = spdc_herald(source, eta_a=0.1, eta_b=0.1)
    dark = spdc_herald(source, eta_a=0.1, eta_b=0.1, dark_count_prob_a=1e-3, dark_count_prob_b=1e-3)
    assert dark.probability > clean.probability and dark.fidelity < clean.fidelity
    pnr = spdc_herald(source, eta_a=0.1, eta_b=0.1, number_resolving=True)
    assert pnr.fidelity > clean.fidelity  # PNR rejects multi-photon heralds


CASES = [
    # mu, eta_a, eta_b, p_dc, pnr, model
    (0.3, 0.6, 0.4, 0.0, False, "detector"),
    (0.5, 0.9, 0.8, 0.02, False, "detector"),
    (0.1, 0.3, 0.5, 0.05, False, "detector"),
    (0.3, 0.6, 0.4, 0.01, True, "detector"),
    (0.3, 0.6, 0.4, 0.0, False, "storage"),
    (0.5, 0.9, 0.8, 0.02, False, "storage"),
    (0.3, 0.6, 0.4, 0.01, True, "storage"),
]


@pytest.mark.parametrize(("mu", "ea", "eb", "d", "pnr", "model"), CASES)
def test_closed_form_matches_photon_level_monte_carlo(mu, ea, eb, d, pnr, model) -> None:
    rng = Simulation(seed=2024).rng(f"photon_mc[{mu},{ea},{eb},{d},{pnr},{model}]")
    mc = simulate_spdc_link(mu=mu, eta_a=ea, eta_b=eb, n_trials=400_000, rng=rng,
                            dark_count_prob_a=d, dark_count_prob_b=d, number_resolving=pnr,
                            model=model)
    h = spdc_herald(SpdcParams(mu=mu), eta_a=ea, eta_b=eb, dark_count_prob_a=d,
                    dark_count_prob_b=d, number_resolving=pnr, model=model)
    assert mc.heralds > 5_000
    assert abs(mc.herald_probability - h.probability) < K * mc.herald_probability_se
    assert abs(mc.fidelity - h.fidelity) < K * mc.fidelity_se
    # the reconstructed/accumulated state is the closed-form Werner state within noise
    assert np.max(np.abs(mc.state - h.state)) < K * max(mc.fidelity_se, 1e-3) * 2


def test_source_component_emits_thermal_pairs_with_coupling_loss() -> None:
    sim = Simulation(seed=7)
    params = SpdcParams(mu=0.2, coupling_efficiency_a=0.7, coupling_efficiency_b=1.0,
                        repetition_rate_hz=1e8)
    source = SpdcSource("source", sim=sim, params=params)
    sink = Component("sink", sim=sim, port_names=("a", "b"))
    source.ports["a"].connect(sink.ports["a"])
    source.ports["b"].connect(sink.ports["b"])
    sim.process(source.run_pulses(20_000))
    sim.run()
    assert sim.now_ns == pytest.approx(19_999 * spdc_attempt_period_ns(params))
    msgs_a = [sink.ports["a"].rx_input() for _ in range(20_000)]
    msgs_b = [sink.ports["b"].rx_input() for _ in range(20_000)]
    empty_a = np.mean([m.items == (None,) for m in msgs_a])
    p_empty = 1 / (1 + params.mu * 0.7)  # G(1 - c_a)
    assert abs(empty_a - p_empty) < K * math.sqrt(p_empty * (1 - p_empty) / 20_000)
    from modenhub_net.qubits import bell_dm, fidelity

    checked = 0
    for ma, mb in zip(msgs_a, msgs_b, strict=True):
        if ma.meta["n_pairs"] == 1 and ma.items[0] is not None and mb.items[0] is not None:
            assert fidelity([ma.items[0], mb.items[0]], bell_dm("Psi+")) == pytest.approx(1.0)
            checked += 1
        if checked > 20:
            break
    assert checked > 20


def test_source_component_storage_heralds_match_closed_form() -> None:
    """Event by event: source -> lossy arms -> each memory keeps a random arriving photon."""
    from modenhub_net.components import FixedLossModel, QuantumChannel
    from modenhub_net.qubits import bell_dm, fidelity

    sim = Simulation(seed=99)
    mu, ea, eb = 0.4, 0.6, 0.5
    params = SpdcParams(mu=mu)
    source = SpdcSource("source", sim=sim, params=params)
    arm_a = QuantumChannel("arm_a", sim=sim, loss_model=FixedLossModel(1 - ea))
    arm_b = QuantumChannel("arm_b", sim=sim, loss_model=FixedLossModel(1 - eb))
    sink = Component("qpus", sim=sim, port_names=("a", "b"))
    source.ports["a"].connect(arm_a.ports["send"])
    source.ports["b"].connect(arm_b.ports["send"])
    arm_a.ports["recv"].connect(sink.ports["a"])
    arm_b.ports["recv"].connect(sink.ports["b"])
    pick = sim.rng("qpus.pick")
    pulses, heralds, fid_sum = 30_000, 0, 0.0
    for _ in range(pulses):
        source.emit()
        got_a = [q for q in sink.ports["a"].rx_input().items if q is not None]
        got_b = [q for q in sink.ports["b"].rx_input().items if q is not None]
        if got_a and got_b:
            heralds += 1
            qa = got_a[int(pick.integers(len(got_a)))]
            qb = got_b[int(pick.integers(len(got_b)))]
            fid_sum += fidelity([qa, qb], bell_dm("Psi+"))
    h = spdc_herald(params, eta_a=ea, eta_b=eb, model="storage")
    p = heralds / pulses
    assert abs(p - h.probability) < K * math.sqrt(p * (1 - p) / pulses)
    f = fid_sum / heralds
    w = (4 * h.fidelity - 1) / 3
    assert abs(f - h.fidelity) < K * 0.75 * math.sqrt(w * (1 - w) / heralds)


def test_herald_probability_wrapper_and_cache() -> None:
    source = SpdcParams(mu=0.05)
    assert spdc_herald_probability(source, eta_a=0.2, eta_b=0.3) == spdc_herald(
        source, eta_a=0.2, eta_b=0.3).probability
    assert spdc_herald(source, eta_a=0.2, eta_b=0.3) == spdc_herald(SpdcParams(mu=0.05), eta_a=0.2, eta_b=0.3)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"mu": -0.1}, "mu"), ({"mu": 11.0}, "mu"), ({"repetition_rate_hz": 0.0}, "repetition_rate_hz"),
     ({"bell_state": "Chi+"}, "bell_state"), ({"coupling_efficiency_a": 1.5}, "coupling_efficiency_a"),
     ({"colour": "red"}, "colour")],
)
def test_bad_parameters_raise_user_input_error(kwargs, field) -> None:
    with pytest.raises(UserInputError) as info:
        SpdcParams(**kwargs)
    assert field in str(info.value)


def test_bad_arguments_raise() -> None:
    with pytest.raises(UserInputError, match="eta_a"):
        spdc_herald(SpdcParams(), eta_a=1.2, eta_b=0.5)
    with pytest.raises(UserInputError, match="model"):
        spdc_herald(SpdcParams(), eta_a=0.2, eta_b=0.5, model="magic")
    with pytest.raises(UserInputError, match="n_pulses"):
        next(SpdcSource("s", sim=Simulation(), params=SpdcParams()).run_pulses(-1))
