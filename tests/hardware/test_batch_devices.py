"""Array-step (batch) methods of the devices against their closed forms and counters.

``Fibre.transmit_batch``, ``OpticalSwitch.transmit_batch``, ``detect_batch`` and
``BsmStation.process_batch`` resolve many photons / windows / attempts in one step for the
detailed link mode; each must follow the same law as the per-message path (the closed forms
of :mod:`hardware_models`), within 5 standard errors of the trial count, and keep the same
counters.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardware_models import (
    BsmParams,
    BsmStation,
    Detector,
    DetectorParams,
    Fibre,
    FibreParams,
    MemoryParams,
    OpticalSwitch,
    QuantumMemory,
    heralded_state,
)
from hardware_models.bsm import false_herald_probability, herald_success_probability
from hardware_models.detector import click_probability, detect_batch
from hardware_models.switch import SwitchParams
from modenhub_net.qubits import bell_state
from modenhub_net.simulation import Simulation

K = 5.0


def _binomial_ok(count: int, n: int, p: float) -> bool:
    return abs(count - n * p) <= K * math.sqrt(n * p * (1 - p)) + 1e-9


def test_fibre_batch_loses_photons_with_the_fibre_transmission() -> None:
    sim = Simulation(seed=11)
    fibre = Fibre("f", sim=sim, params=FibreParams(length_km=15.0))
    n = 20_000
    present = np.ones(n, dtype=bool)
    present[::4] = False  # a quarter of the modes carry no photon
    out = fibre.transmit_batch(present, rng=sim.rng("draws"))
    sent = int(present.sum())
    assert not out[~present].any()  # no photon appears from nothing
    assert _binomial_ok(int(out.sum()), sent, fibre.transmission)
    assert fibre.n_sent == sent and fibre.n_delivered == int(out.sum())
    assert fibre.n_sent == fibre.n_lost + fibre.n_delivered


def test_fibre_batch_refuses_a_noisy_fibre() -> None:
    fibre = Fibre("f", sim=Simulation(seed=1),
                  params=FibreParams(length_km=1.0, depolar_rate_per_km=0.1))
    with pytest.raises(ValueError, match="noise-free"):
        fibre.transmit_batch(np.ones(3, dtype=bool))


def test_switch_batch_needs_a_ready_circuit_and_applies_the_insertion_loss() -> None:
    sim = Simulation(seed=5)
    switch = OpticalSwitch("s", sim=sim, n_ports=8,
                           params=SwitchParams(loss_per_stage_db=0.5, reconfiguration_time_ns=0.0))
    n = 20_000
    assert not switch.transmit_batch(0, np.ones(10, dtype=bool)).any()  # no circuit yet
    assert switch.n_photons_dropped == 10
    request = switch.connect(0, 5)
    assert request.granted
    sim.run()  # the circuit becomes ready
    out = switch.transmit_batch(0, np.ones(n, dtype=bool))
    assert _binomial_ok(int(out.sum()), n, switch.transmission)
    assert switch.n_photons_in == n + 10
    assert switch.n_photons_in == switch.n_photons_passed + switch.n_photons_lost
    passed = switch.n_photons_passed
    modes = switch.transmit_batch(0, np.ones(7, dtype=bool), presence=True)
    assert modes.all() and switch.n_photons_passed == passed + 7  # damping is in the state


@pytest.mark.parametrize("pnr, stats", [(False, "poisson"), (True, "poisson"), (True, "at_most_one")])
def test_detect_batch_follows_the_detector_law(pnr, stats) -> None:
    params = DetectorParams(efficiency=0.7, dark_count_rate_hz=3e6, window_ns=100.0,
                            number_resolving=pnr, dark_count_statistics=stats, dead_time_ns=0.0)
    sim = Simulation(seed=2)
    n = 12_000
    dets = [Detector(f"d{i}", sim=sim, params=params) for i in range(n)]
    photons = np.arange(n) % 3  # 0, 1, 2 incident photons
    counts = detect_batch(dets, photons, rng=sim.rng("draws"), now_ns=0.0)
    lam = params.dark_count_rate_hz * params.window_ns * 1e-9
    for k in (0, 1, 2):
        sel = counts[photons == k]
        assert _binomial_ok(int((sel > 0).sum()), len(sel), click_probability(k, params))
        if pnr:  # mean counts: registered photons + dark counts
            mean_dark = lam if stats == "poisson" else -math.expm1(-lam)
            mean = k * params.efficiency + mean_dark
            var = k * params.efficiency * (1 - params.efficiency) + (
                lam if stats == "poisson" else mean_dark * (1 - mean_dark))
            assert abs(sel.mean() - mean) <= K * math.sqrt(var / len(sel))
    assert sum(d.n_windows for d in dets) == n
    assert sum(d.n_clicks for d in dets) == int((counts > 0).sum())
    assert sum(d.n_photons_in for d in dets) == int(photons.sum())
    registered = sum(d.n_photons_registered for d in dets)
    assert _binomial_ok(registered, int(photons.sum()), params.efficiency)
    dark = sum(d.n_dark_clicks for d in dets)
    assert dark == sum(1 for d in dets if d.n_clicks and not d.n_photons_registered)


def test_detect_batch_dead_time_blinds_a_detector_that_clicked() -> None:
    params = DetectorParams(efficiency=1.0, dark_count_rate_hz=0.0, dead_time_ns=50.0)
    sim = Simulation(seed=4)
    det = Detector("d", sim=sim, params=params)
    rng = sim.rng("draws")
    assert detect_batch([det], np.array([1]), rng=rng, now_ns=0.0).tolist() == [1]
    assert detect_batch([det], np.array([1]), rng=rng, now_ns=30.0).tolist() == [-1]
    assert detect_batch([det], np.array([1]), rng=rng, now_ns=50.0).tolist() == [1]
    assert (det.n_windows, det.n_clicks, det.n_dead_time_misses) == (3, 2, 1)
    # without dead time the window neither is blinded nor starts a dead time
    assert detect_batch([det], np.array([1]), rng=rng, now_ns=51.0,
                        apply_dead_time=False).tolist() == [1]


def test_detect_batch_rejects_mixed_parameters() -> None:
    sim = Simulation(seed=1)
    dets = [Detector("a", sim=sim, params=DetectorParams(efficiency=0.5)),
            Detector("b", sim=sim, params=DetectorParams(efficiency=0.6))]
    with pytest.raises(ValueError, match="share"):
        detect_batch(dets, np.zeros(2, dtype=int), rng=sim.rng("x"), now_ns=0.0)


CASES = [
    # scheme, V, alpha, emission eff a/b, emission fid a/b, dark Hz, PNR, dark stats, sigma
    ("double_click", 0.9, 0.1, (0.5, 0.4), (0.97, 0.99), 0.0, False, "poisson", 0.0),
    ("double_click", 0.8, 0.1, (0.3, 0.25), (1.0, 0.95), 4.0e6, False, "poisson", 0.0),
    ("double_click", 0.95, 0.1, (0.4, 0.5), (0.98, 0.98), 3.0e6, True, "at_most_one", 0.0),
    ("single_click", 0.9, 0.1, (0.5, 0.4), (0.97, 0.99), 0.0, False, "poisson", 0.0),
    ("single_click", 0.85, 0.2, (0.3, 0.6), (0.98, 0.96), 2.0e6, False, "poisson", 0.4),
    ("single_click", 0.9, 0.3, (0.7, 0.6), (1.0, 0.97), 3.0e6, True, "poisson", 0.8),
]


def _batch_run(bsm: BsmParams, eff, fid, trials: int, seed: int, per_round: int = 50):
    """``trials`` attempts, ``per_round`` stations at a time, inputs emitted by real memories."""
    sim = Simulation(seed=seed)
    stations = [BsmStation(f"bsm{j}", sim=sim, params=bsm) for j in range(per_round)]
    alpha = bsm.bright_state_alpha if bsm.scheme == "single_click" else None
    qubits = []
    for i in (0, 1):  # double click: the state given the photon was collected (erasure loss)
        params = MemoryParams(emission_efficiency=1.0 if alpha is None else eff[i],
                              emission_fidelity=fid[i])
        memory = QuantumMemory(f"m{i}", sim=sim, n_slots=1, params=params)
        qubits += list(memory.emit(0, bright_state_alpha=alpha))
    instrument = stations[0].instrument(*qubits)
    rng = sim.rng("draws")
    heralds, states = 0, []
    for _ in range(trials // per_round):
        if alpha is None:
            present = [rng.random(per_round) < e for e in eff]
        else:
            present = [np.ones(per_round, dtype=bool)] * 2
        out = BsmStation.process_batch(stations, *present, instrument=instrument, rng=rng,
                                       now_ns=sim.now_ns)
        heralds += len(out.heralded)
        for j, rho in zip(out.heralded, out.states, strict=True):
            states.append((int(out.labels[j]), rho))
    return stations, heralds, states


@pytest.mark.parametrize(
    ("scheme", "v", "alpha", "eff", "fid", "dark", "pnr", "stats", "sigma"), CASES
)
def test_process_batch_matches_the_station_closed_forms(
    scheme, v, alpha, eff, fid, dark, pnr, stats, sigma, validation_scale
) -> None:
    det = DetectorParams(efficiency=0.9, dark_count_rate_hz=dark, window_ns=20.0,
                         number_resolving=pnr, dark_count_statistics=stats, dead_time_ns=0.0)
    bsm = BsmParams(scheme=scheme, visibility=v, bright_state_alpha=alpha, detector=det,
                    phase_noise_std_rad=sigma)
    trials = int(8_000 * validation_scale) // 50 * 50
    stations, heralds, states = _batch_run(bsm, eff, fid, trials, seed=101)
    etas = {"eta_a": eff[0], "eta_b": eff[1]}
    p = herald_success_probability(**etas, bsm=bsm)
    assert _binomial_ok(heralds, trials, p)
    assert sum(s.n_heralds for s in stations) == heralds
    assert sum(s.n_attempts for s in stations) == trials
    p_false = false_herald_probability(**etas, bsm=bsm)
    assert _binomial_ok(sum(s.n_false_heralds for s in stations), trials, p_false)
    rho = heralded_state(**etas, bsm=bsm, emission_fidelity_a=fid[0], emission_fidelity_b=fid[1])
    f = float(np.real(bell_state(2).conj() @ rho @ bell_state(2)))
    fids = np.array([float(np.real(bell_state(label).conj() @ s @ bell_state(label)))
                     for label, s in states])
    se = fids.std(ddof=1) / math.sqrt(len(fids))
    assert abs(fids.mean() - f) <= max(K * se, 1e-9)
    for _label, s in states:  # every heralded state is a density matrix
        assert abs(np.trace(s) - 1) < 1e-12 and np.allclose(s, s.conj().T)
        assert np.linalg.eigvalsh(s).min() > -1e-12
    if scheme == "single_click":
        cohs = np.array([(1.0 if label == 2 else -1.0) * s[1, 2].real for label, s in states])
        se = cohs.std(ddof=1) / math.sqrt(len(cohs))
        assert abs(cohs.mean() - rho[1, 2].real) <= max(K * se, 1e-9)
    for station in stations:
        for d in station.detectors.values():
            assert d.n_windows == station.n_attempts


def test_process_batch_and_process_attempt_count_detector_clicks_alike(validation_scale) -> None:
    """Per-detector click frequencies of the batch equal the photon-counting formula that the
    per-attempt station test uses (double click: two photons reach cH with (7 - V)/16)."""
    det = DetectorParams(efficiency=0.85, dark_count_rate_hz=2.0e6, window_ns=20.0, dead_time_ns=0.0)
    v = 0.6
    bsm = BsmParams(scheme="double_click", visibility=v, detector=det)
    trials = int(6_000 * validation_scale) // 50 * 50
    eff = (0.7, 0.6)
    stations, _, _ = _batch_run(bsm, eff, (1.0, 1.0), trials, seed=5)
    ta, tb = eff[0] * det.efficiency, eff[1] * det.efficiency
    p0, p1, p2 = (1 - ta) * (1 - tb), ta * (1 - tb) + tb * (1 - ta), ta * tb
    z0 = math.exp(-det.dark_count_rate_hz * det.window_ns * 1e-9)
    p_click = 1 - z0 * (p0 + p1 * 3 / 4 + p2 * (1 - (7 - v) / 16))
    for name in BsmStation.DETECTOR_NAMES["double_click"]:
        clicks = sum(s.detectors[name].n_clicks for s in stations)
        assert _binomial_ok(clicks, trials, p_click), (name, clicks, trials * p_click)
