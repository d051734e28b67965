"""Photon-number-level Monte Carlo of an SPDC source with polarisation analysers.

An independent check of :func:`hardware_models.spdc.spdc_heralded_state`: nothing here uses
the closed form. For each pulse it samples the number of pairs ``n``
(:func:`hardware_models.spdc.sample_pair_number`) and the photon numbers reaching the four
detectors in the chosen analyser bases:

* distinguishable pairs (``"thermal"``, ``"poisson"``): the outcome of *each pair* by the Born
  rule on the target Bell state, so ``n`` pairs give multinomial counts over the four joint
  outcomes;
* the two-mode source (``"two_mode_thermal"``): the Born rule on the whole ``n``-pair Fock
  state in the analyser frames, ``|amp[p, q]|^2`` of
  :func:`hardware_models.spdc.two_mode_pair_amplitudes` (``p`` photons at arm a's outcome-0
  detector, ``n - p`` at its outcome-1 detector, ``q`` / ``n - q`` at arm b), which carries the
  bosonic interference of indistinguishable pairs that the closed form accounts for by
  symmetry;

then loses/registers each photon independently
with its arm efficiency ``coupling * eta * eta_d``, adds dark counts per detector
(threshold: Bernoulli ``p_dc``; PNR: Poisson ``lambda``, or Bernoulli ``p_dc`` with at most
one dark count per window), and keeps pulses where each arm has
exactly one detector reporting "one" (a click, or exactly one count) and the other nothing.
The heralded two-qubit state is reconstructed by linear-inversion Pauli tomography from the
nine basis settings (X, Y, Z on each arm): ``rho = 1/4 sum T_uv sigma_u (x) sigma_v``
(James et al., PRA 64, 052312 (2001) for photonic two-qubit tomography).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hardware_models.detector import DetectorParams, dark_count_mean, dark_count_probability
from hardware_models.spdc import (
    BELL_INDEX,
    SpdcParams,
    sample_pair_number,
    two_mode_pair_amplitudes,
)

__all__ = ["PhotonMcResult", "simulate_spdc_coincidences"]

_S2 = 1 / math.sqrt(2)
#: Analyser bases: rows are the kets of outcome 0 (eigenvalue +1) and outcome 1 (-1).
_BASES = {
    "X": np.array([[_S2, _S2], [_S2, -_S2]], dtype=complex),
    "Y": np.array([[_S2, 1j * _S2], [_S2, -1j * _S2]], dtype=complex),
    "Z": np.array([[1, 0], [0, 1]], dtype=complex),
}
_PAULI = {
    "I": np.eye(2, dtype=complex),
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "Z": np.array([[1, 0], [0, -1]], dtype=complex),
}
_BELL = {
    0: np.array([_S2, 0, 0, _S2], dtype=complex),
    1: np.array([_S2, 0, 0, -_S2], dtype=complex),
    2: np.array([0, _S2, _S2, 0], dtype=complex),
    3: np.array([0, _S2, -_S2, 0], dtype=complex),
}


@dataclass(frozen=True)
class PhotonMcResult:
    """Result of :func:`simulate_spdc_coincidences`.

    Attributes
    ----------
    n_pulses : int
        Pulses simulated (all settings).
    n_heralds : int
        Heralded pulses (all settings).
    herald_probability, herald_probability_se : float
        Herald frequency and its binomial standard error.
    state : numpy.ndarray
        4x4 tomographic estimate of the heralded state (may be slightly non-physical).
    fidelity, fidelity_se : float
        ``<B| state |B>`` to the target and its standard error (delta method).
    correlations : dict
        ``(basis_a, basis_b) -> (E, n_heralds)``.
    """

    n_pulses: int
    n_heralds: int
    herald_probability: float
    herald_probability_se: float
    state: np.ndarray
    fidelity: float
    fidelity_se: float
    correlations: dict


def _arm_outcome(
    counts0: np.ndarray, counts1: np.ndarray, t: float, det: DetectorParams, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Per pulse: (heralded arm?, outcome bit) from photon numbers at the two detectors."""
    reg0 = rng.binomial(counts0, t)
    reg1 = rng.binomial(counts1, t)
    size = counts0.shape
    if det.number_resolving:
        if det.dark_count_statistics == "at_most_one":
            p_dc = dark_count_probability(det)
            c0 = reg0 + (rng.random(size) < p_dc)
            c1 = reg1 + (rng.random(size) < p_dc)
        else:
            lam = dark_count_mean(det)
            c0 = reg0 + (rng.poisson(lam, size) if lam > 0 else 0)
            c1 = reg1 + (rng.poisson(lam, size) if lam > 0 else 0)
        one0, one1, zero0, zero1 = c0 == 1, c1 == 1, c0 == 0, c1 == 0
    else:
        p_dc = dark_count_probability(det)
        click0 = (reg0 > 0) | (rng.random(size) < p_dc)
        click1 = (reg1 > 0) | (rng.random(size) < p_dc)
        one0, one1, zero0, zero1 = click0, click1, ~click0, ~click1
    ok = (one0 & zero1) | (zero0 & one1)
    return ok, one1.astype(np.int8)


def _two_mode_counts(
    bell_state: str, n: np.ndarray, basis_a: str, basis_b: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Photons at the outcome-0 detectors of arms a and b for pulses of ``n`` pairs (Born rule)."""
    a0 = np.zeros_like(n)
    b0 = np.zeros_like(n)
    for value in np.unique(n):
        if value == 0:
            continue
        idx = np.flatnonzero(n == value)
        probs = np.abs(
            two_mode_pair_amplitudes(bell_state, int(value), frame_a=_BASES[basis_a],
                                     frame_b=_BASES[basis_b])
        ) ** 2
        flat = probs.ravel() / probs.sum()
        draw = rng.choice(flat.size, size=idx.size, p=flat)
        a0[idx], b0[idx] = np.divmod(draw, int(value) + 1)
    return a0, b0


def simulate_spdc_coincidences(
    params: SpdcParams,
    *,
    eta_a: float,
    eta_b: float,
    detector: DetectorParams,
    pulses_per_setting: int,
    rng: np.random.Generator,
) -> PhotonMcResult:
    """Simulate ``9 * pulses_per_setting`` pulses and reconstruct the heralded state.

    Parameters
    ----------
    params : SpdcParams
        Source (target state, pair statistics, coupling efficiencies).
    eta_a, eta_b : float
        Transmission from the source output to the analysers, as in
        :func:`hardware_models.spdc.spdc_heralded_state`.
    detector : DetectorParams
        Analyser detectors.
    pulses_per_setting : int
        Pulses per basis setting (> 0).
    rng : numpy.random.Generator
        Random stream.
    """
    target = _BELL[BELL_INDEX[params.bell_state]]
    ta = params.coupling_efficiency_a * eta_a * detector.efficiency
    tb = params.coupling_efficiency_b * eta_b * detector.efficiency
    corr: dict[tuple[str, str], tuple[float, int]] = {}
    marg_a: dict[str, list[float]] = {b: [0.0, 0] for b in "XYZ"}
    marg_b: dict[str, list[float]] = {b: [0.0, 0] for b in "XYZ"}
    n_her = 0
    for ba in "XYZ":
        for bb in "XYZ":
            # joint outcome probabilities of one pair: |(<u_i| (x) <v_j|) |B>|^2, order 00,01,10,11
            n = sample_pair_number(params, rng, size=pulses_per_setting)
            if params.pair_statistics == "two_mode_thermal":
                a0, b0 = _two_mode_counts(params.bell_state, n, ba, bb, rng)
                a1, b1 = n - a0, n - b0
            else:
                amps = np.kron(_BASES[ba].conj(), _BASES[bb].conj()) @ target
                probs = np.abs(amps) ** 2
                probs = probs / probs.sum()
                c = rng.multinomial(n, probs)
                a0, a1 = c[:, 0] + c[:, 1], c[:, 2] + c[:, 3]
                b0, b1 = c[:, 0] + c[:, 2], c[:, 1] + c[:, 3]
            ok_a, bit_a = _arm_outcome(a0, a1, ta, detector, rng)
            ok_b, bit_b = _arm_outcome(b0, b1, tb, detector, rng)
            ok = ok_a & ok_b
            k = int(ok.sum())
            n_her += k
            sa = 1 - 2 * bit_a[ok].astype(float)
            sb = 1 - 2 * bit_b[ok].astype(float)
            corr[(ba, bb)] = (float(np.mean(sa * sb)) if k else 0.0, k)
            marg_a[ba][0] += float(sa.sum())
            marg_a[ba][1] += k
            marg_b[bb][0] += float(sb.sum())
            marg_b[bb][1] += k
    rho = np.kron(_PAULI["I"], _PAULI["I"]).astype(complex)
    for u in "XYZ":
        ea = marg_a[u][0] / marg_a[u][1] if marg_a[u][1] else 0.0
        eb = marg_b[u][0] / marg_b[u][1] if marg_b[u][1] else 0.0
        rho += ea * np.kron(_PAULI[u], _PAULI["I"]) + eb * np.kron(_PAULI["I"], _PAULI[u])
        for v in "XYZ":
            rho += corr[(u, v)][0] * np.kron(_PAULI[u], _PAULI[v])
    rho /= 4.0
    fid = float(np.real(target.conj() @ rho @ target))
    var = 0.0
    for u in "XYZ":
        for v in "XYZ":
            coef = float(np.real(target.conj() @ np.kron(_PAULI[u], _PAULI[v]) @ target))
            e, k = corr[(u, v)]
            if coef and k:
                var += (coef / 4) ** 2 * max(1.0 - e * e, 1.0 / k) / k
    total = 9 * pulses_per_setting
    p = n_her / total
    return PhotonMcResult(
        n_pulses=total,
        n_heralds=n_her,
        herald_probability=p,
        herald_probability_se=math.sqrt(max(p * (1 - p), 1.0 / total) / total),
        state=rho,
        fidelity=fid,
        fidelity_se=math.sqrt(var),
        correlations=corr,
    )
