"""SPDC entangled-photon-pair source: pair statistics, heralded states, event-level component.

Pair-number statistics (``SpdcParams.pair_statistics``)
-------------------------------------------------------
* ``"two_mode_thermal"`` (default): a polarisation-entangled source is **two** two-mode
  squeezed vacua, one per polarisation pair (for ``Psi``: modes ``(a_H, b_V)`` and
  ``(a_V, b_H)``; for ``Phi``: ``(a_H, b_H)`` and ``(a_V, b_V)``), each with thermal pair
  statistics of mean ``mu/2`` (Kok & Braunstein, PRA 61, 042304 (2000), Eq. (2); Ma, Fung &
  Lo, PRA 76, 012307 (2007), Eq. (1); Takesue & Shimizu, Opt. Commun. 283, 276 (2010)). The
  state is ``(1+x)^-1 sum_N x^(N/2) (B_hk a_h^dag b_k^dag)^N / N! |0>`` with ``x = mu/2`` and
  ``B`` the target Bell state as a 2x2 matrix (``sqrt(2) B`` for ``Psi-`` is the antisymmetric
  matrix); the total pair number has ``P(N) = (N+1) x^N / (1+x)^(N+2)`` and, given ``N``, the
  ``N + 1`` polarisation configurations (``k`` pairs in the first mode pair, ``N - k`` in the
  second) are equally likely: the pairs are *indistinguishable* bosons (a spin-``N/2``
  singlet for ``Psi-``). Sampling: the sum of two independent ``Geometric(1/(1+x)) - 1``.
* ``"thermal"``: ONE thermal mode of mean ``mu``, ``P(n) = mu^n / (1 + mu)^(n + 1)``
  (Takesue & Shimizu 2010, Eq. (1)), whose ``n`` pairs are treated as *distinguishable*
  pairs, each in the target Bell state (``k ~ Binomial(n, 1/2)`` in each configuration).
  This was the default before; it overestimates the multi-pair infidelity of a
  polarisation-entangled source by up to a factor 2 at low efficiency (see below).
* ``"poisson"``: a highly multimode source, ``P(n) = e^-mu mu^n / n!`` with distinguishable
  pairs (Takesue & Shimizu 2010); identical to two independent Poisson modes of mean ``mu/2``.

All closed forms below sum over the pair numbers ``(n_1, n_2)`` of the two mode pairs
(weights ``W(n_1, n_2)``: product of two thermal laws of mean ``mu/2``; or ``P(N)`` times the
binomial split ``C(N, n_1) / 2^N`` for the distinguishable models), with per-arm loss applied
photon by photon (loss is polarisation independent, so it commutes with the analyser and acts
as a binomial thinning of every mode; Kok & Braunstein 2000, Sec. III).

Heralded state 1: polarisation-analysed coincidence (:func:`spdc_heralded_state`)
-------------------------------------------------------------------------------
Each arm ends in a polarisation analyser with one detector per output (threshold or PNR,
with dark counts). A herald is: in each arm exactly one detector reports "one" (a click,
or exactly one count for PNR) and the other nothing. Derivation (exact sum over ``n``):

* In the target's Z basis, ``n_1`` pairs are in one correlated configuration and ``n_2`` in
  the other, so each arm's two detectors see ``n_1`` and ``n_2`` photons.
* A detector fed ``m`` photons, each registered with ``t = coupling * eta * eta_d``, reports
  nothing with ``zbar(m) = (1-t)^m Z0`` and "one" with
  ``obar(m) = (1-t)^m O0 + m t (1-t)^(m-1) O1 + [rest] O2`` (``O``, ``Z`` of
  :mod:`hardware_models.detector`; threshold ``O0 = p_dc``, ``O1 = O2 = 1``).
* The heralded pair shows the target's Z correlation with probability ``x = A / (A + C)``
  (``A`` correlated, ``C`` anti-correlated herald weight). The source, the losses and the
  detectors are invariant under the same rotation of both analysers (``U (x) U`` for ``Psi-``,
  conjugated by a local Pauli for the other Bell states), so the state reconstructed by
  Pauli tomography is the Werner state ``p |B><B| + (1-p) I/4`` with ``p = 2x - 1`` (for the
  two-mode source the ``N``-pair state is itself invariant: ``B_hk a_h^dag b_k^dag`` is
  unchanged by the same ``SU(2)`` on both arms, up to the local Pauli):
  ``F = (1 + 3p) / 4`` (Werner, PRA 40, 4277 (1989)). Multi-pair terms thus mix the target
  with white noise, ``F = 1 - O(mu)``, as known for polarisation-entangled SPDC sources
  (Takesue & Shimizu 2010). Low-efficiency limit (ideal detectors, ``t -> 0``): a
  coincidence comes from the two photons of one pair (weight ``E[n] t^2 = mu t^2``, always
  correlated) or of two different pairs (weight ``E[n(n-1)] t^2``, correlated half the
  time), so ``p = V = 1 / (1 + E[n(n-1)] / mu)``: ``1/(1 + 2 mu)`` for thermal and
  ``1/(1 + mu)`` for Poisson pair statistics (derived here; tested). For the two-mode source
  the pairs are bosons: a coincidence correlated with the target has weight
  ``E[n_1^2 + n_2^2] t^2 = (mu + mu^2) t^2`` and an anti-correlated one
  ``2 E[n_1] E[n_2] t^2 = mu^2 t^2 / 2``, so ``p = (1 + mu/2) / (1 + 3 mu/2)``: the multi-pair
  infidelity ``1 - F = 3(1 - p)/4 ~ 3 mu / 4`` is half the one-mode model's ``3 mu / 2``.
  Validated against the photon-level Monte Carlo :mod:`hardware_models.photon_mc`, which
  for the two-mode source samples the Fock-space photon counts of the ``N``-pair state in
  each analyser setting.
  Validated against the photon-level Monte Carlo :mod:`hardware_models.photon_mc`.

Heralded state 2: heralded storage in single-excitation memories (:func:`spdc_stored_state`)
-------------------------------------------------------------------------------------------
Used by the source-in-hub link (DESIGN.md §4). Each photon reaching a QPU is absorbed with
probability ``s = coupling * eta * write_efficiency``; a single-emitter memory stores at most
one excitation (Kalb et al., PRL 114, 220501 (2015): heralded storage of a photonic qubit in
a single atom), chosen uniformly among the absorbable photons (first-order absorption from a
Fock state ``|m_0, m_1>`` picks mode ``i`` with probability ``m_i / (m_0 + m_1)``), and emits a
herald photon detected with efficiency ``eta_h`` (threshold or PNR, dark counts). Herald at A
has probability ``h(K_a) = eta_h O1 + (1 - eta_h) O0`` if ``K_a >= 1`` absorbable photons,
else ``O0`` (independent at B). By the same invariance as above the two memories end in a
Werner state, fixed by the correlation ``<Z Z>`` in the target's frame. Given the mode pair
numbers ``(n_1, n_2)``, ``N = n_1 + n_2``, arm A has ``K_a ~ Binomial(N, s_a)`` absorbable
photons, of which a uniformly random subset (hypergeometric) lies in the first mode, so the
stored qubit's signed correlation label has mean ``(n_1 - n_2)/N`` and

``H_a = h_yes (1 - (1-s_a)^N) + h_no (1-s_a)^N``,
``D_a = h_yes (1 - (1-s_a)^N) (n_1 - n_2) / N`` (``0`` for ``N = 0``),

independently at B given ``(n_1, n_2)``. Then ``P_herald = sum W H_a H_b``, the Werner
parameter is ``p = sum W D_a D_b / P_herald`` and ``F = (1 + 3 p)/4``. A dark-count herald of
an empty memory contributes to ``P_herald`` only (state ``I/4``; assumption: the empty
memory's state is unknown). For the distinguishable models this equals the herald-weighted
probability ``j / (K_a K_b)`` that both stored photons come from the same pair (a
different-pair combination has random, uncorrelated configurations); for the two-mode source
bosonic bunching raises it: with ``s -> 0``, ``p = E[(n_1 - n_2)^2] / E[N^2]``, i.e.
``(1 + mu/2)/(1 + 3 mu/2)`` against ``1/(1 + 2 mu)`` for one thermal mode.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from pydantic import Field

from hardware_models.detector import DetectorParams, _oz
from modenhub_net.components import Component, Message
from modenhub_net.config import ParamsModel
from modenhub_net.errors import check_range
from modenhub_net.simulation import Simulation

__all__ = [
    "BELL_INDEX",
    "SpdcParams",
    "SpdcSource",
    "pair_number_distribution",
    "sample_pair_number",
    "spdc_attempt_period_ns",
    "spdc_herald_probability",
    "spdc_heralded_fidelity",
    "spdc_heralded_state",
    "spdc_stored_fidelity",
    "spdc_stored_herald_probability",
    "spdc_stored_state",
    "two_mode_pair_amplitudes",
    "two_mode_pair_ket",
    "werner_state",
]

#: Bell-state labels and indices (as :mod:`modenhub_net.qubits`: 0 Phi+, 1 Phi-, 2 Psi+, 3 Psi-).
BELL_INDEX: dict[str, int] = {"Phi+": 0, "Phi-": 1, "Psi+": 2, "Psi-": 3}

_TAIL = 1e-15


class SpdcParams(ParamsModel):
    """Parameters of a pulsed, polarisation-entangled SPDC pair source.

    Parameters
    ----------
    mu : float
        Mean number of pairs per pulse, in [0, 1]. Default 0.01: multi-pair contribution
        ~1% (Takesue & Shimizu, Opt. Commun. 283, 276 (2010)).
    repetition_rate_hz : float
        Pulse (attempt) rate in Hz, in (0, 1e11]; one attempt every ``1e9 / rate`` ns.
        Default 1e8 Hz: mode-locked pump lasers run at ~100 MHz (Takesue & Shimizu 2010).
    bell_state : {"Psi+", "Psi-", "Phi+", "Phi-"}
        Target Bell state of one pair (qubit order: arm a, arm b). Default "Psi+": type-II
        SPDC emits ``Psi`` states (Kwiat et al., PRL 75, 4337 (1995)).
    coupling_efficiency_a, coupling_efficiency_b : float
        Probability in [0, 1] that a photon of arm a (b) is coupled into the output fibre.
        Default 1 (ideal; ~0.78 in Giustina et al., PRL 115, 250401 (2015)).
    pair_statistics : {"two_mode_thermal", "thermal", "poisson"}
        Pair-number statistics and multi-pair model (module docstring). Default
        ``"two_mode_thermal"``: two squeezed modes of mean ``mu/2`` each, the exact statistics
        of a single-spatial-mode polarisation-entangled source (Kok & Braunstein, PRA 61,
        042304 (2000); Ma, Fung & Lo, PRA 76, 012307 (2007)). ``"thermal"``: one thermal mode
        of mean ``mu`` with distinguishable pairs (the default before; DESIGN.md §3);
        ``"poisson"``: multimode Poisson (Takesue & Shimizu 2010).
    """

    mu: float = Field(0.01, ge=0.0, le=1.0)
    repetition_rate_hz: float = Field(1.0e8, gt=0.0, le=1.0e11)
    bell_state: Literal["Psi+", "Psi-", "Phi+", "Phi-"] = "Psi+"
    coupling_efficiency_a: float = Field(1.0, ge=0.0, le=1.0)
    coupling_efficiency_b: float = Field(1.0, ge=0.0, le=1.0)
    pair_statistics: Literal["two_mode_thermal", "thermal", "poisson"] = "two_mode_thermal"


def spdc_attempt_period_ns(params: SpdcParams) -> float:
    """Time between pulses, ``1e9 / repetition_rate_hz`` ns."""
    return 1e9 / params.repetition_rate_hz


@lru_cache(maxsize=256)
def _distribution(mu: float, statistics: str) -> tuple[float, ...]:
    if mu == 0.0:
        return (1.0,)
    probs: list[float] = []
    total = 0.0
    n = 0
    while True:
        if statistics == "thermal":
            p = mu**n / (1.0 + mu) ** (n + 1)
        elif statistics == "two_mode_thermal":
            x = mu / 2.0
            p = (n + 1) * x**n / (1.0 + x) ** (n + 2)
        else:
            p = math.exp(-mu + n * math.log(mu) - math.lgamma(n + 1))
        probs.append(p)
        total += p
        n += 1
        if 1.0 - total < _TAIL or n > 400:
            return tuple(probs)


def pair_number_distribution(params: SpdcParams) -> np.ndarray:
    """``P(n)`` of the total pair number for ``n = 0 .. n_max`` (tail beyond ``n_max`` < 1e-15).

    Two-mode thermal ``(n+1) x^n / (1+x)^(n+2)`` with ``x = mu/2`` (Ma, Fung & Lo, PRA 76,
    012307 (2007)), one-mode thermal ``mu^n / (1+mu)^(n+1)`` or Poisson ``e^-mu mu^n / n!``
    (Takesue & Shimizu 2010).

    Examples
    --------
    >>> p = pair_number_distribution(SpdcParams(mu=0.1))  # two modes of mean 0.05
    >>> round(float(p[0]), 6), round(float(p[1]), 6)
    (0.907029, 0.086384)
    >>> p = pair_number_distribution(SpdcParams(mu=0.1, pair_statistics="thermal"))
    >>> round(float(p[0]), 6), round(float(p[1]), 6)
    (0.909091, 0.082645)
    """
    return np.array(_distribution(params.mu, params.pair_statistics))


def sample_pair_number(params: SpdcParams, rng: np.random.Generator, size: int | None = None) -> Any:
    """Sample pair numbers per pulse (an int, or an int array of shape ``size``).

    Two-mode thermal: the sum of two independent ``Geometric(1/(1+mu/2)) - 1`` (one per
    squeezed mode); thermal: ``Geometric(1/(1+mu)) - 1``; Poisson: ``Poisson(mu)``.
    """
    if params.mu == 0.0:
        return 0 if size is None else np.zeros(size, dtype=np.int64)
    if params.pair_statistics == "two_mode_thermal":
        q = 1.0 / (1.0 + params.mu / 2.0)
        out = rng.geometric(q, size=size) + rng.geometric(q, size=size) - 2
    elif params.pair_statistics == "thermal":
        out = rng.geometric(1.0 / (1.0 + params.mu), size=size) - 1
    else:
        out = rng.poisson(params.mu, size=size)
    return int(out) if size is None else out


def _bell_matrix(bell_state: str) -> np.ndarray:
    """The target Bell state ``sum_hk B_hk |h>|k>`` as the 2x2 matrix ``B``."""
    from modenhub_net.qubits import bell_state as bell_ket

    return np.asarray(bell_ket(BELL_INDEX[bell_state]), dtype=complex).reshape(2, 2)


def two_mode_pair_amplitudes(
    bell_state: str,
    n_pairs: int,
    *,
    frame_a: np.ndarray | None = None,
    frame_b: np.ndarray | None = None,
) -> np.ndarray:
    """Fock amplitudes of the ``n_pairs``-pair component of the two-mode source.

    The ``N``-pair state of a polarisation-entangled two-mode squeezed source is
    ``(sum_hk B_hk a_h^dag b_k^dag)^N |0>`` normalised (Kok & Braunstein, PRA 61, 042304 (2000)).
    In analyser frames whose output modes are ``d_i^dag = sum_h U_a[i, h] a_h^dag`` (rows of
    ``frame_a``: the polarisation kets of outcomes 0 and 1) it reads
    ``(sum_ij M_ij d_i^dag e_j^dag)^N |0>`` with ``M = conj(U_a) B conj(U_b)^T``; expanding the
    polynomial gives the coefficient ``C[p, q]`` of ``d_0^p d_1^(N-p) e_0^q e_1^(N-q)``, and the
    amplitude of the normalised Fock state ``|p, N-p; q, N-q>`` is
    ``C[p, q] sqrt(p! (N-p)! q! (N-q)!)``.

    Parameters
    ----------
    bell_state : {"Psi+", "Psi-", "Phi+", "Phi-"}
        Target state of one pair.
    n_pairs : int
        ``N >= 0``.
    frame_a, frame_b : (2, 2) array, optional
        Unitary analyser frames (rows = outcome kets); default the H/V basis.

    Returns
    -------
    numpy.ndarray
        ``(N+1, N+1)`` complex amplitudes, index ``[p, q]`` = photons in outcome 0 of arm a,
        of arm b; ``sum |amp|^2 = 1``.

    Examples
    --------
    >>> amp = two_mode_pair_amplitudes("Psi+", 2)  # |2H,0V;0H,2V>, |1,1;1,1>, |0,2;2,0>
    >>> np.round(np.abs(amp) ** 2, 6).tolist()
    [[0.0, 0.0, 0.333333], [0.0, 0.333333, 0.0], [0.333333, 0.0, 0.0]]
    """
    n = int(n_pairs)
    ua = np.eye(2, dtype=complex) if frame_a is None else np.asarray(frame_a, dtype=complex)
    ub = np.eye(2, dtype=complex) if frame_b is None else np.asarray(frame_b, dtype=complex)
    m = ua.conj() @ _bell_matrix(bell_state) @ ub.conj().T
    c = np.zeros((1, 1), dtype=complex)
    c[0, 0] = 1.0
    for size in range(1, n + 1):
        nxt = np.zeros((size + 1, size + 1), dtype=complex)
        nxt[1:, 1:] += m[0, 0] * c
        nxt[1:, :-1] += m[0, 1] * c
        nxt[:-1, 1:] += m[1, 0] * c
        nxt[:-1, :-1] += m[1, 1] * c
        c = nxt
    fact = np.array([math.factorial(k) for k in range(n + 1)], dtype=float)
    weight = np.sqrt(fact * fact[::-1])
    amp = c * np.outer(weight, weight)
    return amp / np.sqrt(np.sum(np.abs(amp) ** 2))


@lru_cache(maxsize=64)
def _two_mode_ket(bell_state: str, n_pairs: int) -> np.ndarray:
    n = n_pairs
    dim = 1 << n
    zeros = np.array([n - bin(i).count("1") for i in range(dim)])
    dicke = [np.where(zeros == p, 1.0 / math.sqrt(math.comb(n, p)), 0.0) for p in range(n + 1)]
    amp = two_mode_pair_amplitudes(bell_state, n)
    ket = np.zeros(dim * dim, dtype=complex)
    for p in range(n + 1):
        for q in range(n + 1):
            if amp[p, q] != 0:
                ket += amp[p, q] * np.kron(dicke[p], dicke[q])
    ket.setflags(write=False)
    return ket


def two_mode_pair_ket(bell_state: str, n_pairs: int) -> np.ndarray:
    """The ``N``-pair state of the two-mode source as a ket of ``2N`` photon qubits.

    First quantisation of indistinguishable photons: ``N`` photons sharing a spatial mode are
    ``N`` polarisation qubits in a permutation-symmetric state, the Fock state
    ``|p, N-p>`` being the Dicke state with ``p`` qubits in ``|0>`` = H (e.g. Kok & Lovett,
    *Introduction to Optical Quantum Information Processing*, CUP 2010, §1). Qubit order
    ``(a_1 .. a_N, b_1 .. b_N)``; amplitudes from :func:`two_mode_pair_amplitudes`. Losing a
    photon of a polarisation-independent lossy arm is tracing out one of these qubits. For
    ``N = 1`` this is the target Bell state.

    Examples
    --------
    >>> ket = two_mode_pair_ket("Psi-", 1)
    >>> np.round(ket.real * math.sqrt(2), 6).tolist()
    [0.0, 1.0, -1.0, 0.0]
    """
    return _two_mode_ket(bell_state, int(n_pairs))


def werner_state(fidelity: float, bell_index: int) -> np.ndarray:
    """``F |B><B| + (1-F)/3 (I - |B><B|)`` as a 4x4 complex array."""
    from modenhub_net.qubits import werner_dm

    return np.asarray(werner_dm(min(1.0, max(0.0, fidelity)), bell_index=bell_index), dtype=complex)


@lru_cache(maxsize=256)
def _mode_weights(mu: float, statistics: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(n1, n2, W)``: flat arrays over the pair numbers of the two mode pairs (module notes).

    ``W(n1, n2)`` is the product of two thermal laws of mean ``mu/2`` (two-mode source) or
    ``P(N) C(N, n1) / 2^N`` with ``N = n1 + n2`` (distinguishable pairs); ``N <= n_max`` of
    :func:`pair_number_distribution`, so the weights sum to ``1 - tail`` (tail < 1e-15).
    """
    from scipy.stats import binom

    p_n = _distribution(mu, statistics)
    n1s, n2s, ws = [], [], []
    for n, pn in enumerate(p_n):
        k = np.arange(n + 1)
        if statistics == "two_mode_thermal":
            split = np.full(n + 1, 1.0 / (n + 1))
        else:
            split = binom.pmf(k, n, 0.5)
        n1s.append(k)
        n2s.append(n - k)
        ws.append(pn * split)
    return np.concatenate(n1s), np.concatenate(n2s), np.concatenate(ws)


# -- polarisation-analysed coincidence ---------------------------------------------------
def _obar_zbar(m: np.ndarray, t: float, oz: tuple[float, float, float, float]):
    z0, o0, o1, o2 = oz
    none = (1.0 - t) ** m
    one = m * t * (1.0 - t) ** np.maximum(m - 1, 0)
    rest = 1.0 - none - one
    return none * o0 + one * o1 + rest * o2, none * z0


@lru_cache(maxsize=1024)
def _coincidence(params: SpdcParams, eta_a: float, eta_b: float, det: DetectorParams):
    ta = params.coupling_efficiency_a * eta_a * det.efficiency
    tb = params.coupling_efficiency_b * eta_b * det.efficiency
    oz = _oz(det)
    n1, n2, w = _mode_weights(params.mu, params.pair_statistics)
    # target frame: arm a's detector 0 sees the n1 photons of the first mode pair, detector 1
    # the n2 of the second; arm b's detectors likewise (correlated with the target)
    oa0, za0 = _obar_zbar(n1, ta, oz)
    oa1, za1 = _obar_zbar(n2, ta, oz)
    ob0, zb0 = _obar_zbar(n1, tb, oz)
    ob1, zb1 = _obar_zbar(n2, tb, oz)
    a0, a1 = oa0 * za1, za0 * oa1
    b0, b1 = ob0 * zb1, zb0 * ob1
    good = float(np.sum(w * (a0 * b0 + a1 * b1)))
    bad = float(np.sum(w * (a0 * b1 + a1 * b0)))
    return good, bad


def spdc_herald_probability(
    params: SpdcParams, *, eta_a: float, eta_b: float, detector: DetectorParams
) -> float:
    """Probability per pulse of a polarisation-analysed coincidence herald (module docstring).

    Parameters
    ----------
    params : SpdcParams
        Source.
    eta_a, eta_b : float
        Transmission in [0, 1] from the source output to the analysers of arm a (b) (fibre,
        switch, ...). The source coupling efficiency and ``detector.efficiency`` are
        multiplied in.
    detector : DetectorParams
        The four analyser detectors (identical).
    """
    check_range("eta_a", eta_a, low=0.0, high=1.0)
    check_range("eta_b", eta_b, low=0.0, high=1.0)
    good, bad = _coincidence(params, float(eta_a), float(eta_b), detector)
    return good + bad


def spdc_heralded_fidelity(
    params: SpdcParams, *, eta_a: float, eta_b: float, detector: DetectorParams
) -> float:
    """Fidelity ``F = (1 + 3(2x - 1))/4`` of the coincidence-heralded state to the target."""
    check_range("eta_a", eta_a, low=0.0, high=1.0)
    check_range("eta_b", eta_b, low=0.0, high=1.0)
    good, bad = _coincidence(params, float(eta_a), float(eta_b), detector)
    if good + bad <= 0.0:
        return 0.25
    x = good / (good + bad)
    return (1.0 + 3.0 * (2.0 * x - 1.0)) / 4.0


def spdc_heralded_state(
    params: SpdcParams, *, eta_a: float, eta_b: float, detector: DetectorParams
) -> np.ndarray:
    """4x4 Werner state heralded by a polarisation-analysed coincidence (qubit order a, b).

    Target: ``params.bell_state``; fidelity :func:`spdc_heralded_fidelity`.
    """
    f = spdc_heralded_fidelity(params, eta_a=eta_a, eta_b=eta_b, detector=detector)
    return werner_state(f, BELL_INDEX[params.bell_state])


# -- heralded storage ---------------------------------------------------------------------
@lru_cache(maxsize=1024)
def _storage(
    params: SpdcParams, eta_a: float, eta_b: float, write_a: float, write_b: float,
    det: DetectorParams,
) -> tuple[float, float]:
    """``(P_herald, sum W D_a D_b)`` of heralded storage (module docstring, state 2)."""
    sa = params.coupling_efficiency_a * eta_a * write_a
    sb = params.coupling_efficiency_b * eta_b * write_b
    _, o0, o1, _ = _oz(det)
    eh = det.efficiency
    h_yes = eh * o1 + (1.0 - eh) * o0
    h_no = o0
    n1, n2, w = _mode_weights(params.mu, params.pair_statistics)
    n = n1 + n2
    label = np.where(n > 0, (n1 - n2) / np.maximum(n, 1), 0.0)

    def arm(s: float) -> tuple[np.ndarray, np.ndarray]:
        none = (1.0 - s) ** n
        return h_yes * (1.0 - none) + h_no * none, h_yes * (1.0 - none) * label

    ha, da = arm(sa)
    hb, db = arm(sb)
    return float(np.sum(w * ha * hb)), float(np.sum(w * da * db))


def _check_storage_args(eta_a: float, eta_b: float, write_a: float, write_b: float) -> None:
    for name, value in (("eta_a", eta_a), ("eta_b", eta_b), ("write_efficiency_a", write_a),
                        ("write_efficiency_b", write_b)):
        check_range(name, value, low=0.0, high=1.0)


def spdc_stored_herald_probability(
    params: SpdcParams,
    *,
    eta_a: float,
    eta_b: float,
    write_efficiency_a: float,
    write_efficiency_b: float,
    herald_detector: DetectorParams,
) -> float:
    """Probability per pulse that both memories herald storage (module docstring, state 2).

    Parameters
    ----------
    params : SpdcParams
        Source.
    eta_a, eta_b : float
        Transmission in [0, 1] from the source output to memory A (B) (switch, fibre).
    write_efficiency_a, write_efficiency_b : float
        Per-photon absorption probability in [0, 1] of memory A (B).
    herald_detector : DetectorParams
        Detector of each memory's herald photon (efficiency, dark counts, threshold/PNR).
    """
    _check_storage_args(eta_a, eta_b, write_efficiency_a, write_efficiency_b)
    herald, _ = _storage(params, float(eta_a), float(eta_b), float(write_efficiency_a),
                         float(write_efficiency_b), herald_detector)
    return herald


def spdc_stored_fidelity(
    params: SpdcParams,
    *,
    eta_a: float,
    eta_b: float,
    write_efficiency_a: float,
    write_efficiency_b: float,
    herald_detector: DetectorParams,
) -> float:
    """Fidelity ``(1 + 3 p)/4`` of the stored pair to the target (module docstring, state 2)."""
    _check_storage_args(eta_a, eta_b, write_efficiency_a, write_efficiency_b)
    herald, same = _storage(params, float(eta_a), float(eta_b), float(write_efficiency_a),
                            float(write_efficiency_b), herald_detector)
    if herald <= 0.0:
        return 0.25
    return (1.0 + 3.0 * same / herald) / 4.0


def spdc_stored_state(
    params: SpdcParams,
    *,
    eta_a: float,
    eta_b: float,
    write_efficiency_a: float,
    write_efficiency_b: float,
    herald_detector: DetectorParams,
) -> np.ndarray:
    """4x4 Werner state of the two memories after both herald (target ``params.bell_state``)."""
    f = spdc_stored_fidelity(
        params, eta_a=eta_a, eta_b=eta_b, write_efficiency_a=write_efficiency_a,
        write_efficiency_b=write_efficiency_b, herald_detector=herald_detector,
    )
    return werner_state(f, BELL_INDEX[params.bell_state])


# -- event-level component ------------------------------------------------------------------
class SpdcSource(Component):
    """Pulsed SPDC source with photon output ports ``a`` and ``b``.

    Each pulse samples ``n`` pairs (:func:`sample_pair_number`) and creates ``2n`` photon
    qubits:

    * ``"thermal"``/``"poisson"`` (distinguishable pairs): ``n`` independent pairs in
      ``params.bell_state``; ``photons_a[i]`` and ``photons_b[i]`` are the two photons of pair i.
    * ``"two_mode_thermal"`` (default): the exact ``n``-pair state of the two squeezed modes,
      :func:`two_mode_pair_ket` (indistinguishable photons as permutation-symmetric qubits),
      for ``n <= max_exact_pairs``; a rarer larger ``n`` (probability ``~ (n+1)(mu/2)^n``)
      is emitted as ``n`` distinguishable pairs and counted in
      :attr:`n_pulses_approximated`, since its ``2n``-qubit density matrix would be too large.

    Each photon is then lost independently with ``1 - coupling_efficiency`` of its arm (a
    polarisation-independent loss: the lost qubit is traced out). Port ``a`` receives
    ``Message(photons_a, meta)`` with the arm-a photons (lost ones as ``None``; ``(None,)``
    when ``n = 0``), port ``b`` likewise.
    ``meta = {"header": "photons", "pulse": index, "n_pairs": n, "time_ns": t}``.

    Parameters
    ----------
    name : str
        Component name.
    sim : Simulation
        Owning simulation.
    params : SpdcParams
        Source parameters.

    Notes
    -----
    Counters (read-only properties, also :meth:`counters`): :attr:`n_pulses`,
    :attr:`n_pairs`, :attr:`n_photons_sent`, :attr:`n_photons_lost`,
    :attr:`n_pulses_approximated`.
    """

    #: Largest pair number emitted as the exact joint state of the two-mode source
    #: (``2 * 5 = 10`` qubits, a 1024 x 1024 density matrix).
    max_exact_pairs: int = 5

    def __init__(self, name: str, *, sim: Simulation, params: SpdcParams) -> None:
        super().__init__(name, sim=sim, port_names=("a", "b"))
        self.params = params
        self.period_ns = spdc_attempt_period_ns(params)
        self._bell = BELL_INDEX[params.bell_state]
        self.pulses = 0
        self._n_pairs = 0
        self._n_lost = 0
        self._n_approx = 0
        self._two_mode = params.pair_statistics == "two_mode_thermal"

    # -- counters (read-only) ---------------------------------------------------------
    @property
    def n_pulses(self) -> int:
        """Pump pulses emitted (:meth:`emit` calls)."""
        return self.pulses

    @property
    def n_pairs(self) -> int:
        """Photon pairs created, summed over pulses (before coupling loss)."""
        return self._n_pairs

    @property
    def n_photons_sent(self) -> int:
        """Photons coupled into the two output fibres (``2 n_pairs - n_photons_lost``)."""
        return 2 * self._n_pairs - self._n_lost

    @property
    def n_photons_lost(self) -> int:
        """Photons lost to the coupling efficiencies of arms a and b."""
        return self._n_lost

    @property
    def n_pulses_approximated(self) -> int:
        """Two-mode pulses with more than :attr:`max_exact_pairs` pairs, emitted as
        distinguishable pairs (see the class notes)."""
        return self._n_approx

    def counters(self) -> dict[str, int]:
        """All counters of this source as a plain dict (names as the properties)."""
        return {
            "n_pulses": self.pulses,
            "n_pairs": self._n_pairs,
            "n_photons_sent": self.n_photons_sent,
            "n_photons_lost": self._n_lost,
            "n_pulses_approximated": self._n_approx,
        }

    def count(self, *, pulses: int = 0) -> None:
        """Add ``pulses`` (an int >= 0) pump pulses to the counters in bulk: pulses whose
        pairs a caller drew from the closed form (the sampled link mode) instead of
        :meth:`emit`."""
        self.pulses += pulses

    def emit(self) -> int:
        """Emit one pulse now; returns the number of pairs ``n``."""
        from modenhub_net.qubits import assign_state, create_bell_pair, create_qubits, lose

        rng = self.rng
        n = sample_pair_number(self.params, rng)
        index = self.pulses
        self.pulses += 1
        self._n_pairs += n
        meta = {"header": "photons", "pulse": index, "n_pairs": n, "time_ns": self.sim.now_ns}
        if n == 0:
            items_a: tuple = (None,)
            items_b: tuple = (None,)
        else:
            ca, cb = self.params.coupling_efficiency_a, self.params.coupling_efficiency_b
            list_a: list = []
            list_b: list = []
            if self._two_mode and 2 <= n <= self.max_exact_pairs:
                photons = create_qubits(2 * n)
                assign_state(photons, two_mode_pair_ket(self.params.bell_state, n))
                pairs = list(zip(photons[:n], photons[n:], strict=True))
            else:
                if self._two_mode and n > self.max_exact_pairs:
                    self._n_approx += 1
                pairs = [create_bell_pair(self._bell) for _ in range(n)]
            for qa, qb in pairs:
                if ca < 1.0 and rng.random() >= ca:
                    lose(qa)
                    qa = None
                    self._n_lost += 1
                if cb < 1.0 and rng.random() >= cb:
                    lose(qb)
                    qb = None
                    self._n_lost += 1
                list_a.append(qa)
                list_b.append(qb)
            items_a, items_b = tuple(list_a), tuple(list_b)
        self.ports["a"].tx_output(Message(items_a, dict(meta)))
        self.ports["b"].tx_output(Message(items_b, dict(meta)))
        return n

    def pulse_train(self, n_pulses: int) -> Generator[Any, Any, None]:
        """SimPy process: ``n_pulses`` pulses, one every ``period_ns`` (first at once)."""
        for i in range(n_pulses):
            if i:
                yield self.sim.timeout(self.period_ns)
            self.emit()

    def start(self, n_pulses: int) -> None:
        """Start :meth:`pulse_train` as a process."""
        self.sim.process(self.pulse_train(n_pulses))
