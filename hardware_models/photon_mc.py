"""Photon-number-level Monte Carlo of an SPDC link, the reference for :mod:`hardware_models.spdc`.

Nothing here uses the closed forms: each trial samples the pair number from the thermal law,
each pair's polarisation outcomes from the Bell state's joint distribution in the chosen
measurement bases (``|<b_i b_j|B>|**2``), loses every photon independently, adds dark counts
per detection mode (Bernoulli ``p_dc`` for threshold detectors, Poisson ``-ln(1-p_dc)``
for number-resolving ones) and applies the herald rule:

``model="detector"``
    two detectors per arm (one per polarisation mode of the measurement basis). Threshold:
    an arm heralds if a mode clicks; a double click is a random bit (squashing model).
    PNR: an arm heralds on exactly one count. The nine Pauli basis settings are drawn
    uniformly; the heralded two-qubit state is reconstructed by linear inversion from the
    correlations ``<s_A s_B>`` and marginals (standard two-qubit tomography, James et al.,
    PRA 64, 052312 (2001)).
``model="storage"``
    one herald detector per arm; the memory keeps a uniformly random one of the photons that
    reached it. The conditional state is accumulated directly: ``|B><B|`` when both memories
    hold photons of the same pair, ``I/4`` otherwise (different pairs, or a dark-count herald).

Trials are grouped by pair number, so the cost is a few vectorised numpy calls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hardware_models.spdc import BELL_LABELS, HeraldModel, sample_pair_number
from modenhub_net.errors import UserInputError

__all__ = ["SpdcMonteCarloResult", "simulate_spdc_link"]

_R = 1.0 / math.sqrt(2.0)
_BELL = np.array([[_R, 0, 0, _R], [_R, 0, 0, -_R], [0, _R, _R, 0], [0, _R, -_R, 0]], dtype=complex)
# eigenbases (rows: outcome 0 = +1 eigenvalue, outcome 1 = -1) of X, Y, Z
_BASES = (
    np.array([[_R, _R], [_R, -_R]], dtype=complex),
    np.array([[_R, 1j * _R], [_R, -1j * _R]], dtype=complex),
    np.array([[1, 0], [0, 1]], dtype=complex),
)
_PAULI = (
    np.eye(2, dtype=complex),
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
)


@dataclass(frozen=True)
class SpdcMonteCarloResult:
    """Outcome of :func:`simulate_spdc_link`.

    Attributes
    ----------
    trials, heralds : int
        Pulses simulated and heralds among them.
    herald_probability, herald_probability_se : float
        ``heralds / trials`` and its binomial standard error.
    state : numpy.ndarray
        Reconstructed (detector) or accumulated (storage) heralded 4x4 density matrix.
    fidelity, fidelity_se : float
        ``<B|state|B>`` and its standard error.
    """

    trials: int
    heralds: int
    herald_probability: float
    herald_probability_se: float
    state: np.ndarray
    fidelity: float
    fidelity_se: float


def _joint_tables(bell_index: int) -> np.ndarray:
    """Cumulative outcome tables, shape (9, 4): setting 3*i+j, outcome 2*s_a+s_b."""
    ket = _BELL[bell_index]
    tables = np.empty((9, 4))
    for i, ba in enumerate(_BASES):
        for j, bb in enumerate(_BASES):
            probs = [abs(np.vdot(np.kron(ba[sa], bb[sb]), ket)) ** 2 for sa in (0, 1) for sb in (0, 1)]
            tables[3 * i + j] = np.cumsum(probs)
    tables[:, -1] = 1.0
    return tables


def simulate_spdc_link(
    *,
    mu: float,
    eta_a: float,
    eta_b: float,
    n_trials: int,
    rng: np.random.Generator,
    dark_count_prob_a: float = 0.0,
    dark_count_prob_b: float = 0.0,
    number_resolving: bool = False,
    model: HeraldModel = "detector",
    bell_state: str = "Psi+",
) -> SpdcMonteCarloResult:
    """Simulate ``n_trials`` pulses photon by photon (module docstring).

    Parameters
    ----------
    mu : float
        Mean pair number per pulse.
    eta_a, eta_b : float
        Per-photon survival probability of each arm (all losses and detector efficiency).
    n_trials : int
        Pulses, >= 1.
    rng : numpy.random.Generator
        Random stream (e.g. ``Simulation(seed=...).rng("photon_mc")``).
    dark_count_prob_a, dark_count_prob_b : float, optional
        Dark-count probability per detection mode and window. Default 0.
    number_resolving : bool, optional
        PNR herald (exactly one count per arm). Default False (threshold).
    model : {"detector", "storage"}, optional
        Herald model. Default "detector".
    bell_state : str, optional
        Pair state label (:data:`~hardware_models.spdc.BELL_LABELS`). Default "Psi+".
    """
    if n_trials < 1:
        raise UserInputError(f"n_trials = {n_trials!r} must be >= 1")
    if model not in ("detector", "storage"):
        raise UserInputError(f"model = {model!r} must be 'detector' or 'storage'")
    bell_index = BELL_LABELS.index(bell_state)
    n_pairs = np.asarray(sample_pair_number(rng, mu, size=n_trials))
    if model == "detector":
        return _detector_mc(n_pairs, eta_a, eta_b, dark_count_prob_a, dark_count_prob_b,
                            number_resolving, bell_index, rng)
    return _storage_mc(n_pairs, eta_a, eta_b, dark_count_prob_a, dark_count_prob_b,
                       number_resolving, bell_index, rng)


def _darks(rng: np.random.Generator, p_dc: float, shape, pnr: bool) -> np.ndarray:
    if p_dc <= 0.0:
        return np.zeros(shape, dtype=np.int64)
    if pnr:
        return rng.poisson(-math.log1p(-p_dc), size=shape)
    return (rng.random(shape) < p_dc).astype(np.int64)


def _arm_value(counts: np.ndarray, pnr: bool, rng: np.random.Generator):
    """Herald flag and squashed value (0/1) of an arm from its two mode counts (N, 2)."""
    if pnr:
        herald = counts.sum(axis=1) == 1
        value = (counts[:, 1] == 1).astype(np.int64)
        return herald, value
    clicks = counts > 0
    herald = clicks[:, 0] | clicks[:, 1]
    value = np.where(clicks[:, 0] & clicks[:, 1], rng.integers(0, 2, size=len(counts)), clicks[:, 1])
    return herald, value.astype(np.int64)


def _detector_mc(n_pairs, eta_a, eta_b, da, db, pnr, bell_index, rng) -> SpdcMonteCarloResult:
    n_trials = len(n_pairs)
    tables = _joint_tables(bell_index)
    setting = rng.integers(0, 9, size=n_trials)
    counts_a = np.zeros((n_trials, 2), dtype=np.int64)
    counts_b = np.zeros((n_trials, 2), dtype=np.int64)
    for n in np.unique(n_pairs):
        if n == 0:
            continue
        idx = np.flatnonzero(n_pairs == n)
        cdf = tables[setting[idx]]  # (m, 4)
        u = rng.random((len(idx), n))
        outcome = (u[:, :, None] > cdf[:, None, :]).sum(axis=2)  # (m, n) in 0..3
        sa, sb = outcome // 2, outcome % 2
        alive_a = rng.random((len(idx), n)) < eta_a
        alive_b = rng.random((len(idx), n)) < eta_b
        for mode in (0, 1):
            counts_a[idx, mode] = ((sa == mode) & alive_a).sum(axis=1)
            counts_b[idx, mode] = ((sb == mode) & alive_b).sum(axis=1)
    counts_a += _darks(rng, da, counts_a.shape, pnr)
    counts_b += _darks(rng, db, counts_b.shape, pnr)
    herald_a, value_a = _arm_value(counts_a, pnr, rng)
    herald_b, value_b = _arm_value(counts_b, pnr, rng)
    herald = herald_a & herald_b
    s_a = 1 - 2 * value_a[herald]
    s_b = 1 - 2 * value_b[herald]
    set_h = setting[herald]
    # tomography: T[mu, nu] = <sigma_mu x sigma_nu>, mu, nu in 0..3 (0 = identity)
    t = np.zeros((4, 4))
    var = np.zeros((4, 4))
    t[0, 0] = 1.0
    for i in range(3):
        sel_a = (set_h // 3) == i
        sel_b = (set_h % 3) == i
        if sel_a.any():
            t[i + 1, 0] = s_a[sel_a].mean()
        if sel_b.any():
            t[0, i + 1] = s_b[sel_b].mean()
        for j in range(3):
            sel = set_h == 3 * i + j
            if sel.any():
                t[i + 1, j + 1] = (s_a[sel] * s_b[sel]).mean()
                var[i + 1, j + 1] = (1.0 - t[i + 1, j + 1] ** 2) / sel.sum()
    state = sum(t[m, v] * np.kron(_PAULI[m], _PAULI[v]) for m in range(4) for v in range(4)) / 4.0
    ket = _BELL[bell_index]
    fidelity = float(np.vdot(ket, state @ ket).real)
    # F = (1 + sum_k c_k T_kk) / 4 for a Bell state (c_k = +-1): SE from the three correlations
    fidelity_se = math.sqrt(var[1, 1] + var[2, 2] + var[3, 3]) / 4.0
    return _result(n_trials, int(herald.sum()), state, fidelity, fidelity_se)


def _storage_mc(n_pairs, eta_a, eta_b, da, db, pnr, bell_index, rng) -> SpdcMonteCarloResult:
    n_trials = len(n_pairs)
    k_a = np.zeros(n_trials, dtype=np.int64)  # photons reaching each arm
    k_b = np.zeros(n_trials, dtype=np.int64)
    same = np.zeros(n_trials, dtype=bool)  # stored photons (if any) from the same pair
    for n in np.unique(n_pairs):
        if n == 0:
            continue
        idx = np.flatnonzero(n_pairs == n)
        alive_a = rng.random((len(idx), n)) < eta_a
        alive_b = rng.random((len(idx), n)) < eta_b
        k_a[idx] = alive_a.sum(axis=1)
        k_b[idx] = alive_b.sum(axis=1)
        # uniformly random surviving photon: largest random key among survivors
        pick_a = np.argmax(np.where(alive_a, rng.random(alive_a.shape), -1.0), axis=1)
        pick_b = np.argmax(np.where(alive_b, rng.random(alive_b.shape), -1.0), axis=1)
        same[idx] = (pick_a == pick_b) & (k_a[idx] > 0) & (k_b[idx] > 0)
    dark_a = _darks(rng, da, n_trials, pnr)
    dark_b = _darks(rng, db, n_trials, pnr)
    if pnr:
        herald_a, herald_b = (k_a + dark_a) == 1, (k_b + dark_b) == 1
    else:
        herald_a, herald_b = (k_a + dark_a) > 0, (k_b + dark_b) > 0
    herald = herald_a & herald_b
    heralds = int(herald.sum())
    good = int((herald & same).sum())
    ket = _BELL[bell_index]
    bell = np.outer(ket, ket.conj())
    if heralds:
        w = good / heralds
        state = w * bell + (1.0 - w) * np.eye(4) / 4.0
        fidelity = w + (1.0 - w) / 4.0
        fidelity_se = 0.75 * math.sqrt(max(w * (1.0 - w), 0.0) / heralds)
    else:
        state, fidelity, fidelity_se = np.eye(4, dtype=complex) / 4.0, 0.25, 0.0
    return _result(n_trials, heralds, state, fidelity, fidelity_se)


def _result(n_trials: int, heralds: int, state, fidelity: float, fidelity_se: float) -> SpdcMonteCarloResult:
    p = heralds / n_trials
    return SpdcMonteCarloResult(
        trials=n_trials,
        heralds=heralds,
        herald_probability=p,
        herald_probability_se=math.sqrt(max(p * (1.0 - p), 1.0 / n_trials**2) / n_trials),
        state=np.asarray(state, dtype=np.complex128),
        fidelity=fidelity,
        fidelity_se=fidelity_se,
    )
