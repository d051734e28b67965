"""The BSM station fed by real emitters (:meth:`QuantumMemory.emit`) against the closed forms.

Both heralding schemes, with HOM visibility, emission efficiency and fidelity, dark counts
(Poisson or at most one per window, threshold or number resolving) and, for single click, a
Gaussian optical phase drawn per attempt. Per case: the success frequency, the mean exact
fidelity of the heralded states the station assigns, the false-herald frequency and (single
click) the mean heralded coherence, each within 5 standard errors of its closed form.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardware_models import (
    BsmParams,
    BsmStation,
    DetectorParams,
    MemoryParams,
    QuantumMemory,
    heralded_state,
)
from hardware_models.bsm import false_herald_probability, herald_success_probability
from modenhub_net.components import Message
from modenhub_net.errors import UserInputError
from modenhub_net.qubits import bell_state, fidelity, reduced_dm
from modenhub_net.simulation import Simulation

K = 5.0

CASES = [
    # scheme, V, alpha, emission eff a/b, emission fid a/b, dark Hz, PNR, dark stats, sigma
    ("double_click", 0.9, 0.1, (0.5, 0.4), (0.97, 0.99), 0.0, False, "poisson", 0.0),
    ("double_click", 0.8, 0.1, (0.3, 0.25), (1.0, 0.95), 4.0e6, False, "poisson", 0.0),
    ("double_click", 0.95, 0.1, (0.4, 0.5), (0.98, 0.98), 3.0e6, True, "at_most_one", 0.0),
    ("single_click", 0.9, 0.1, (0.5, 0.4), (0.97, 0.99), 0.0, False, "poisson", 0.0),
    ("single_click", 0.85, 0.2, (0.3, 0.6), (0.98, 0.96), 2.0e6, False, "poisson", 0.4),
    ("single_click", 0.9, 0.3, (0.7, 0.6), (1.0, 0.97), 3.0e6, True, "poisson", 0.8),
    ("single_click", 0.95, 0.15, (0.4, 0.5), (0.99, 0.99), 3.0e6, True, "at_most_one", 0.25),
]


def _station_run(bsm: BsmParams, eff, fid, trials: int, seed: int):
    sim = Simulation(seed=seed)
    station = BsmStation("bsm", sim=sim, params=bsm)
    mems = [QuantumMemory(f"m{i}", sim=sim, n_slots=1,
                          params=MemoryParams(emission_efficiency=eff[i], emission_fidelity=fid[i]))
            for i in (0, 1)]
    alpha = bsm.bright_state_alpha if bsm.scheme == "single_click" else None
    enc = {"encoding": "presence"} if alpha is not None else {}
    fids, cohs, phases = [], [], []
    for _ in range(trials):
        msgs = []
        for mem in mems:
            q, ph = mem.emit(0, bright_state_alpha=alpha)
            msgs.append(Message((ph,), {"memory_qubit": q, **enc}))
        herald = station.process_attempt(*msgs)
        if "phase_rad" in herald.meta:
            phases.append(herald.meta["phase_rad"])
        if herald.meta["outcome"] != "failure":
            qubits = list(herald.meta["memory_qubits"])
            rho = reduced_dm(qubits)
            fids.append(fidelity(qubits, bell_state(herald.meta["bell_index"])))
            sign = 1.0 if herald.meta["outcome"] == "Psi+" else -1.0
            cohs.append(sign * rho[1, 2].real)
        for mem in mems:
            mem.discard(0)
    return station, np.array(fids), np.array(cohs), np.array(phases)


def _z_mean(values: np.ndarray, expected: float) -> float:
    """Distance of the sample mean from ``expected`` in standard errors (exact float ties,
    e.g. every heralded state identical, count as 0 within 1e-9)."""
    se = values.std(ddof=1) / math.sqrt(len(values))
    diff = abs(values.mean() - expected)
    return 0.0 if diff <= 1e-9 else diff / se


@pytest.mark.parametrize(
    ("scheme", "v", "alpha", "eff", "fid", "dark", "pnr", "stats", "sigma"), CASES
)
def test_station_with_real_emitters_matches_closed_forms(
    scheme, v, alpha, eff, fid, dark, pnr, stats, sigma, validation_scale
) -> None:
    det = DetectorParams(efficiency=0.9, dark_count_rate_hz=dark, window_ns=20.0,
                         number_resolving=pnr, dark_count_statistics=stats, dead_time_ns=0.0)
    bsm = BsmParams(scheme=scheme, visibility=v, bright_state_alpha=alpha, detector=det,
                    phase_noise_std_rad=sigma)
    trials = int(8_000 * validation_scale)
    station, fids, cohs, phases = _station_run(bsm, eff, fid, trials, seed=101)
    etas = {"eta_a": eff[0], "eta_b": eff[1]}
    p = herald_success_probability(**etas, bsm=bsm)
    assert abs(station.n_heralds - trials * p) <= K * math.sqrt(trials * p * (1 - p))
    p_false = false_herald_probability(**etas, bsm=bsm)
    assert abs(station.n_false_heralds - trials * p_false) <= K * math.sqrt(
        trials * p_false * (1 - p_false)) + 1e-9
    rho = heralded_state(**etas, bsm=bsm, emission_fidelity_a=fid[0], emission_fidelity_b=fid[1])
    f = float(np.real(bell_state(2).conj() @ rho @ bell_state(2)))
    assert _z_mean(fids, f) <= K
    if scheme == "single_click":
        assert _z_mean(cohs, rho[1, 2].real) <= K
        if sigma > 0:
            # one Gaussian phase per attempt: sample variance within 5 SE (sqrt(2/n) sigma^2)
            assert len(phases) == trials
            assert abs(phases.var() - sigma**2) <= K * math.sqrt(2 / trials) * sigma**2
        else:
            assert len(phases) == 0


def test_phase_noise_lowers_only_the_single_click_coherence(validation_scale) -> None:
    """Against the same station without phase noise: success rate unchanged, heralded
    coherence (and so the fidelity) lower by exp(-sigma^2/2), visible above the noise."""
    det = DetectorParams(efficiency=0.9, dark_count_rate_hz=0.0, dead_time_ns=0.0)
    trials = int(10_000 * validation_scale)
    out = {}
    for sigma in (0.0, 0.7):
        bsm = BsmParams(scheme="single_click", bright_state_alpha=0.1, detector=det,
                        phase_noise_std_rad=sigma)
        station, fids, cohs, _ = _station_run(bsm, (0.6, 0.6), (1.0, 1.0), trials, seed=7)
        out[sigma] = (station.n_heralds, cohs.mean(), cohs.std(ddof=1) / math.sqrt(len(cohs)))
    ratio = math.exp(-0.7**2 / 2)
    (_, c0, se0), (_, c1, se1) = out[0.0], out[0.7]
    assert abs(c1 - ratio * c0) <= K * math.hypot(se1, ratio * se0)
    assert c0 - c1 > 10 * math.hypot(se0, se1)


@pytest.mark.parametrize("value", [-0.1, math.inf, math.nan, True, "0.1"])
def test_phase_noise_rejects_bad_values_naming_field_and_value(value) -> None:
    with pytest.raises(UserInputError) as info:
        BsmParams(phase_noise_std_rad=value)
    assert "phase_noise_std_rad" in str(info.value) and str(value) in str(info.value)


def _p_registered(eff: tuple[float, float], eta_d: float, alpha: float | None):
    """P(k registered photons), k = 0, 1, 2, for independent emitters (single click: each
    emits a photon with probability alpha)."""
    a = 1.0 if alpha is None else alpha
    ta, tb = a * eff[0] * eta_d, a * eff[1] * eta_d
    return (1 - ta) * (1 - tb), ta * (1 - tb) + tb * (1 - ta), ta * tb


@pytest.mark.parametrize("scheme", ["single_click", "double_click"])
@pytest.mark.parametrize("visibility", [1.0, 0.6])
def test_station_detectors_count_windows_and_clicks_with_hom_physics(
    scheme, visibility, validation_scale
) -> None:
    """Every attempt opens a window on each of the station's detectors; each detector clicks
    with 1 - Z0 P(no photon reaches it), from photon counting alone (independent of the
    closed forms): single click, a lone photon reaches either output with 1/2 and two photons
    bunch into one output with (1+V)/2; double click, the lone photon's mode is H or V with 1/2
    and two photons reach cH with probability (7 - V)/16 (different modes: 1/4; both H,
    probability 1/4: HOM bunching (1+V)/2 into one output, else split)."""
    det = DetectorParams(efficiency=0.85, dark_count_rate_hz=2.0e6, window_ns=20.0,
                         dead_time_ns=0.0)
    bsm = BsmParams(scheme=scheme, visibility=visibility, bright_state_alpha=0.4, detector=det)
    trials = int(6_000 * validation_scale)
    eff = (0.7, 0.6)
    station, _, _, _ = _station_run(bsm, eff, (1.0, 1.0), trials, seed=5)
    alpha = bsm.bright_state_alpha if scheme == "single_click" else None
    p0, p1, p2 = _p_registered(eff, det.efficiency, alpha)
    z0 = math.exp(-det.dark_count_rate_hz * det.window_ns * 1e-9)
    if scheme == "single_click":
        no_photon = p0 + p1 / 2 + p2 * (1 - (1 + visibility) / 4)
    else:
        no_photon = p0 + p1 * 3 / 4 + p2 * (1 - (7 - visibility) / 16)
    p_click = 1 - z0 * no_photon
    dets = station.detectors
    assert list(dets) == list(BsmStation.DETECTOR_NAMES[scheme])
    for name, d in dets.items():
        assert d.n_windows == trials
        assert abs(d.n_clicks - trials * p_click) <= K * math.sqrt(trials * p_click * (1 - p_click)), (
            name, d.n_clicks, trials * p_click)
        p_dark = (1 - z0) * no_photon
        assert abs(d.n_dark_clicks - trials * p_dark) <= K * math.sqrt(trials * p_dark * (1 - p_dark))
    # each herald shows its clicks: one (single click) or two (double click) per herald
    per_herald = 1 if scheme == "single_click" else 2
    assert sum(d.n_clicks for d in dets.values()) >= per_herald * station.n_heralds
    assert dets[list(dets)[0]].full_name.startswith(station.full_name)


def test_station_dead_time_option_blinds_detectors_between_attempts() -> None:
    det = DetectorParams(efficiency=1.0, dark_count_rate_hz=0.0, dead_time_ns=100.0)
    bsm = BsmParams(scheme="single_click", bright_state_alpha=0.5, detector=det)
    sim = Simulation(seed=3)
    station = BsmStation("bsm", sim=sim, params=bsm, detector_dead_time=True)
    mems = [QuantumMemory(f"m{i}", sim=sim, n_slots=1, params=MemoryParams()) for i in (0, 1)]

    def attempt():
        msgs = []
        for mem in mems:
            q, ph = mem.emit(0, bright_state_alpha=0.5)
            msgs.append(Message((ph,), {"memory_qubit": q, "encoding": "presence"}))
        out = station.process_attempt(*msgs)
        for mem in mems:
            mem.discard(0)
        return out

    for _ in range(200):  # all at t = 0: after its first click a detector stays blind
        attempt()
    dets = station.detectors.values()
    assert all(d.n_clicks <= 1 for d in dets)
    assert sum(d.n_dead_time_misses for d in dets) > 100
    assert station.n_heralds <= 2
    sim.run(until_ns=150.0)
    before = sum(d.n_clicks for d in dets)
    for _ in range(20):
        attempt()
    assert sum(d.n_clicks for d in dets) > before  # awake again after the dead time
