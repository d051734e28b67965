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
