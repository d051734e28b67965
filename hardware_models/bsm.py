"""Linear-optics Bell-state measurement (BSM) station and heralding closed forms.

Two heralding schemes for photons emitted by memories A and B meet at the station
(DESIGN.md §3, §4 "detection in the hub").

Notation: ``t_A = eta_A * eta_d``, ``t_B = eta_B * eta_d`` are the probabilities that a
photon emitted by A (B) is *registered* at the station (emission, fibre and switch
transmission ``eta_A`` times detector efficiency ``eta_d``); detector efficiencies before or
after the beam splitter are equivalent for identical detectors. ``V`` is the Hong–Ou–Mandel
visibility. Per detector and window, ``Z0`` = probability of no count with no photon,
``O0`` / ``O1`` / ``O2`` = probability of exactly "one" (click or single count) with 0, 1, 2
registered photons (:mod:`hardware_models.detector`; threshold: ``Z0 = 1-p_dc``, ``O0 = p_dc``,
``O1 = O2 = 1``).

Double click (Barrett & Kok, PRA 71, 060310(R) (2005))
------------------------------------------------------
Each emitter holds ``(|0,H> + |1,V>)/sqrt(2)`` (spin–photon ``|Phi+>``; time-bin encoding is
equivalent). Four detectors (two beam-splitter outputs ``c, d`` times two photonic modes);
a herald is exactly two "one" detectors in orthogonal modes: same output -> ``Psi+``,
different outputs -> ``Psi-`` (Braunstein & Mann, PRA 51, R1727 (1995); at most 1/2 success).
Per herald label ``s`` (unnormalised weights)::

    true  : t_A t_B / 4 * O1^2 Z0^2       state (1+V)/2 |Psi_s><Psi_s| + (1-V)/2 |Psi_s'><Psi_s'|
    bunch : t_A t_B / 2 * (1+V)/2 * O2 O0 Z0^2   (Phi photons bunch, a dark count completes
            the pattern)              state (|00><00| + |11><11|)/2  (fidelity 0)
    one   : [t_A(1-t_B) + t_B(1-t_A)] * O1 O0 Z0^2   state I/4 (one spin is unentangled)
    none  : (1-t_A)(1-t_B) * 2 O0^2 Z0^2       state I/4

so without dark counts ``P_succ = t_A t_B / 2`` and ``F = (1+V)/2`` (Barrett & Kok 2005;
Bernien et al., Nature 497, 86 (2013); Hensen et al., Nature 526, 682 (2015)). Dark-count
heralds are false heralds (Wein et al., arXiv:1509.00088, treat dark counts of a linear-optics BSM
the same way). A "one real photon + dark count" pattern leaves ``|m><m| (x) I/2`` (photon
registered in mode ``m``, the other spin's photon lost); summed over the two modes ``m``,
which herald a given label equally often, this is exactly ``I/4`` for either emitter
(checked against a mode-level Fock-space model in ``tests/hardware/test_bsm_linear_optics.py``).

Single click (Cabrillo et al., PRA 59, 1025 (1999); Humphreys et al., Nature 558, 268 (2018))
-------------------------------------------------------------------------------------------
Each emitter holds ``sqrt(1-alpha)|0>|0_ph> + sqrt(alpha)|1>|1_ph>`` (bright state ``|1>``).
A herald is exactly one "one" detector; ``c`` -> ``Psi+``, ``d`` -> ``Psi-``. For outcome ``c``
(spin basis ``|00>, |01>, |10>, |11>``)::

    w00 = (1-a)^2 O0 Z0
    w01 = a(1-a) [t_B O1 Z0 / 2 + (1-t_B) O0 Z0]          w10 likewise with t_A
    c   = a(1-a) sqrt(t_A t_B V) O1 Z0 / 2                 (coherence |01><10|)
    w11 = a^2 [(t_A(1-t_B) + t_B(1-t_A)) O1 Z0 / 2 + t_A t_B (1+V)/4 O2 Z0
               + (1-t_A)(1-t_B) O0 Z0]

``P_succ = 2 (w00 + w01 + w10 + w11)`` and ``F = ((w01 + w10)/2 + c) / (P_succ/2)``. In the
limit of small ``t``, no dark counts: ``P_succ ~ 2 alpha t`` and
``F ~ (1 - alpha)(1 + sqrt(V))/2``: the single-photon interference contrast is the mode
overlap ``|<phi_A|phi_B>| = sqrt(V)`` (Humphreys et al. 2018, Methods; Rozpędek et al.,
PRA 99, 052330 (2019), App. on the NV single-click model).

Optical phase noise (single click). The heralded coherence carries the optical phase
difference ``phi`` between the two arms (path length, laser phase); with residual fluctuations
``phi ~ Normal(0, sigma)`` per attempt, the attempt-averaged coherence is multiplied by
``E[exp(i phi)] = exp(-sigma^2 / 2)`` (Humphreys et al. 2018, Methods, phase-stabilisation
error; Rozpędek et al., PRA 99, 052330 (2019), Sec. on the single-click state with phase
uncertainty), i.e. ``c -> c exp(-sigma^2/2)`` above; the populations and the success
probability do not change. Double click is insensitive to an optical phase that is stable
over the two time bins of one attempt (Barrett & Kok 2005), so ``phase_noise_std_rad`` does
not enter it.

Emission fidelity
-----------------
An imperfect spin–photon state of fidelity ``F_e`` is modelled as a depolarising channel on
the spin, ``rho -> p rho + (1-p) I/2`` with ``p = (4 F_e - 1)/3`` (a Werner spin–photon state
for double click). It commutes with the photon measurement, so it is applied to the heralded
spin–spin state; success probabilities do not change.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from pydantic import Field

from hardware_models.detector import (
    DEAD_TIME_TOLERANCE_NS,
    Detector,
    DetectorParams,
    _dark_counts,
    _oz,
)
from hardware_models.draws import UniformBlocks
from modenhub_net.components import Component, Message
from modenhub_net.config import ParamsModel
from modenhub_net.errors import check_range
from modenhub_net.simulation import Simulation

__all__ = [
    "BatchHeralds",
    "BsmInstrument",
    "BsmParams",
    "BsmStation",
    "HERALD_LABELS",
    "depolarising_p_from_fidelity",
    "double_click_fidelity",
    "double_click_heralded_state",
    "double_click_success_probability",
    "false_herald_probability",
    "heralded_state",
    "herald_success_probability",
    "single_click_fidelity",
    "single_click_heralded_state",
    "single_click_success_probability",
]

#: Herald labels and their Bell indices (0 Phi+, 1 Phi-, 2 Psi+, 3 Psi-).
HERALD_LABELS: dict[str, int] = {"Psi+": 2, "Psi-": 3}

_S2 = 1 / math.sqrt(2)
_BELL_KETS = {
    0: np.array([_S2, 0, 0, _S2], dtype=complex),
    1: np.array([_S2, 0, 0, -_S2], dtype=complex),
    2: np.array([0, _S2, _S2, 0], dtype=complex),
    3: np.array([0, _S2, -_S2, 0], dtype=complex),
}


class BsmParams(ParamsModel):
    """Parameters of a linear-optics BSM station.

    Parameters
    ----------
    scheme : {"double_click", "single_click"}
        Heralding scheme. Default ``"double_click"`` (Barrett & Kok, PRA 71, 060310 (2005)).
    visibility : float
        Hong–Ou–Mandel visibility ``V`` in [0, 1] of the photons from A and B. Default 1.
        Measured values ~0.9 between remote NV centres (Humphreys et al., Nature 558, 268
        (2018)).
    bright_state_alpha : float
        Bright-state population ``alpha`` in (0, 1) for single click. Default 0.1, the
        DESIGN.md §3 example; experiments use 0.05–0.1 (Humphreys et al. 2018).
    coincidence_window_ns : float
        Window in ns, in (0, 1e9], within which photons from ``a`` and ``b`` are treated as
        one attempt by :class:`BsmStation`. Default 10 ns (matched to the default detector
        window; an assumption to set per platform).
    detector : DetectorParams
        The station's four (double click) or two (single click) identical detectors.
        Their ``window_ns`` sets the dark-count probability. Default ``DetectorParams()``.
    phase_noise_std_rad : float
        Standard deviation ``sigma`` in rad, finite and >= 0, of the Gaussian optical phase
        error between the two arms, drawn afresh per attempt (single click only). Multiplies
        the heralded coherence by ``exp(-sigma^2/2)`` (module docstring; Humphreys et al.,
        Nature 558, 268 (2018), Methods; Rozpędek et al., PRA 99, 052330 (2019)). Default 0
        (ideal phase stabilisation); Humphreys et al. report a phase-stabilisation residual of
        ~14 degrees (0.24 rad).
    """

    scheme: Literal["double_click", "single_click"] = "double_click"
    visibility: float = Field(1.0, ge=0.0, le=1.0)
    bright_state_alpha: float = Field(0.1, gt=0.0, lt=1.0)
    coincidence_window_ns: float = Field(10.0, gt=0.0, le=1.0e9)
    detector: DetectorParams = DetectorParams()
    phase_noise_std_rad: float = Field(0.0, ge=0.0, allow_inf_nan=False)


def depolarising_p_from_fidelity(fidelity: float) -> float:
    """``p = (4 F - 1) / 3`` of ``rho -> p rho + (1-p) I/2`` with Werner fidelity ``F``."""
    check_range("emission_fidelity", fidelity, low=0.25, high=1.0)
    return (4.0 * fidelity - 1.0) / 3.0


def _depolarise_pair(rho: np.ndarray, p_a: float, p_b: float) -> np.ndarray:
    """``(D_pA (x) D_pB)(rho)`` with ``D_p(x) = p x + (1-p) tr(x) I/2`` on each qubit."""
    if p_a == 1.0 and p_b == 1.0:
        return rho
    t = rho.reshape(2, 2, 2, 2)
    tr_a = np.einsum("ijik->jk", t)  # rho_B
    tr_b = np.einsum("ijkj->ik", t)  # rho_A
    eye = np.eye(2) / 2
    out = (
        p_a * p_b * rho
        + p_a * (1 - p_b) * np.kron(tr_b, eye)
        + (1 - p_a) * p_b * np.kron(eye, tr_a)
        + (1 - p_a) * (1 - p_b) * np.trace(rho) * np.eye(4) / 4
    )
    return out


def _check_eta(name: str, value: float) -> float:
    return check_range(name, value, low=0.0, high=1.0)


@lru_cache(maxsize=4096)
def _double_click(eta_a: float, eta_b: float, bsm: BsmParams) -> tuple[float, float, float, float]:
    """Per-label weights ``(w_true, w_bunch, w_mixed, V)``."""
    det = bsm.detector
    z0, o0, o1, o2 = _oz(det)
    v = bsm.visibility
    ta, tb = eta_a * det.efficiency, eta_b * det.efficiency
    w_true = ta * tb / 4.0 * o1 * o1 * z0 * z0
    w_bunch = ta * tb / 2.0 * (1.0 + v) / 2.0 * o2 * o0 * z0 * z0
    w_mixed = (ta * (1 - tb) + tb * (1 - ta)) * o1 * o0 * z0 * z0 + (1 - ta) * (
        1 - tb
    ) * 2.0 * o0 * o0 * z0 * z0
    return w_true, w_bunch, w_mixed, v


def double_click_success_probability(*, eta_a: float, eta_b: float, bsm: BsmParams) -> float:
    """Probability that one double-click attempt heralds (either label), dark counts included.

    Without dark counts ``P = eta_A eta_B eta_d^2 / 2`` (Barrett & Kok 2005); see the module
    docstring for the full expression.

    Parameters
    ----------
    eta_a, eta_b : float
        Probability in [0, 1] that the photon of A (B) reaches the station (emission,
        fibre, switch); the detector efficiency is taken from ``bsm.detector``.
    bsm : BsmParams
        Station parameters.
    """
    w_true, w_bunch, w_mixed, _ = _double_click(
        _check_eta("eta_a", eta_a), _check_eta("eta_b", eta_b), bsm
    )
    return 2.0 * (w_true + w_bunch + w_mixed)


def double_click_heralded_state(
    *,
    eta_a: float,
    eta_b: float,
    bsm: BsmParams,
    emission_fidelity_a: float = 1.0,
    emission_fidelity_b: float = 1.0,
    outcome: str = "Psi+",
) -> np.ndarray:
    """Heralded 4x4 spin–spin state (qubit order A, B) for herald ``outcome`` ("Psi+"/"Psi-").

    Target state: ``|Psi+>`` or ``|Psi->`` as heralded. Formula: module docstring.
    """
    w_true, w_bunch, w_mixed, v = _double_click(
        _check_eta("eta_a", eta_a), _check_eta("eta_b", eta_b), bsm
    )
    s = HERALD_LABELS[outcome]
    other = 5 - s
    total = w_true + w_bunch + w_mixed
    if total <= 0.0:
        return np.eye(4, dtype=complex) / 4
    psi_s = np.outer(_BELL_KETS[s], _BELL_KETS[s].conj())
    psi_o = np.outer(_BELL_KETS[other], _BELL_KETS[other].conj())
    phi_mix = np.diag([0.5, 0.0, 0.0, 0.5]).astype(complex)
    rho = (
        w_true * ((1 + v) / 2 * psi_s + (1 - v) / 2 * psi_o)
        + w_bunch * phi_mix
        + w_mixed * np.eye(4) / 4
    ) / total
    return _depolarise_pair(
        rho,
        depolarising_p_from_fidelity(emission_fidelity_a),
        depolarising_p_from_fidelity(emission_fidelity_b),
    )


def double_click_fidelity(
    *,
    eta_a: float,
    eta_b: float,
    bsm: BsmParams,
    emission_fidelity_a: float = 1.0,
    emission_fidelity_b: float = 1.0,
) -> float:
    """Fidelity of the heralded state to the heralded ``Psi`` state (same for both labels).

    ``F = q [w_true (1+V)/2 + w_mixed/4] / (w_true + w_bunch + w_mixed) + (1-q)/4`` with
    ``q = p_A p_B`` the product of the emission depolarising parameters; without dark counts
    and with perfect emission, ``F = (1+V)/2`` (Barrett & Kok 2005; DESIGN.md §3).
    """
    w_true, w_bunch, w_mixed, v = _double_click(
        _check_eta("eta_a", eta_a), _check_eta("eta_b", eta_b), bsm
    )
    total = w_true + w_bunch + w_mixed
    q = depolarising_p_from_fidelity(emission_fidelity_a) * depolarising_p_from_fidelity(
        emission_fidelity_b
    )
    if total <= 0.0:
        return 0.25
    return q * (w_true * (1 + v) / 2 + w_mixed / 4) / total + (1 - q) / 4


@lru_cache(maxsize=4096)
def _single_click(eta_a: float, eta_b: float, bsm: BsmParams) -> tuple[float, ...]:
    """``(w00, w01, w10, coherence, w11)`` for outcome ``c``."""
    det = bsm.detector
    z0, o0, o1, o2 = _oz(det)
    a, v = bsm.bright_state_alpha, bsm.visibility
    ta, tb = eta_a * det.efficiency, eta_b * det.efficiency
    w00 = (1 - a) ** 2 * o0 * z0
    w01 = a * (1 - a) * (tb * o1 * z0 / 2 + (1 - tb) * o0 * z0)
    w10 = a * (1 - a) * (ta * o1 * z0 / 2 + (1 - ta) * o0 * z0)
    coh = a * (1 - a) * math.sqrt(ta * tb * v) * o1 * z0 / 2
    if bsm.phase_noise_std_rad > 0.0:
        coh *= math.exp(-bsm.phase_noise_std_rad**2 / 2.0)
    w11 = a * a * (
        (ta * (1 - tb) + tb * (1 - ta)) * o1 * z0 / 2
        + ta * tb * (1 + v) / 4 * o2 * z0
        + (1 - ta) * (1 - tb) * o0 * z0
    )
    return w00, w01, w10, coh, w11


def single_click_success_probability(*, eta_a: float, eta_b: float, bsm: BsmParams) -> float:
    """Probability that one single-click attempt heralds (either detector), dark counts included.

    ``P = 2 (w00 + w01 + w10 + w11)`` (module docstring); ``~ 2 alpha eta`` for small
    ``alpha`` and ``eta_A = eta_B = eta`` without dark counts (Humphreys et al. 2018, Methods).
    Parameters as in :func:`double_click_success_probability`.
    """
    w00, w01, w10, _, w11 = _single_click(
        _check_eta("eta_a", eta_a), _check_eta("eta_b", eta_b), bsm
    )
    return 2.0 * (w00 + w01 + w10 + w11)


def single_click_heralded_state(
    *,
    eta_a: float,
    eta_b: float,
    bsm: BsmParams,
    emission_fidelity_a: float = 1.0,
    emission_fidelity_b: float = 1.0,
    outcome: str = "Psi+",
) -> np.ndarray:
    """Heralded 4x4 spin–spin state (order A, B; ``|1>`` = bright) for ``outcome`` "Psi+"/"Psi-".

    Target: ``|Psi+>`` (click at ``c``) or ``|Psi->`` (click at ``d``). Formula: module docstring.
    """
    w00, w01, w10, coh, w11 = _single_click(
        _check_eta("eta_a", eta_a), _check_eta("eta_b", eta_b), bsm
    )
    total = w00 + w01 + w10 + w11
    if total <= 0.0:
        return np.eye(4, dtype=complex) / 4
    sign = 1.0 if HERALD_LABELS[outcome] == 2 else -1.0
    rho = np.diag([w00, w01, w10, w11]).astype(complex)
    rho[1, 2] = rho[2, 1] = sign * coh
    return _depolarise_pair(
        rho / total,
        depolarising_p_from_fidelity(emission_fidelity_a),
        depolarising_p_from_fidelity(emission_fidelity_b),
    )


def single_click_fidelity(
    *,
    eta_a: float,
    eta_b: float,
    bsm: BsmParams,
    emission_fidelity_a: float = 1.0,
    emission_fidelity_b: float = 1.0,
) -> float:
    """Fidelity of the single-click heralded state to the heralded ``Psi`` state.

    ``F = ((w01 + w10)/2 + c) / (w00 + w01 + w10 + w11)`` before emission noise
    (Humphreys et al. 2018, Methods; ``~ (1-alpha)(1+sqrt(V) exp(-sigma^2/2))/2`` for small
    ``t``, with the phase noise ``sigma = phase_noise_std_rad``).
    """
    rho = single_click_heralded_state(
        eta_a=eta_a,
        eta_b=eta_b,
        bsm=bsm,
        emission_fidelity_a=emission_fidelity_a,
        emission_fidelity_b=emission_fidelity_b,
    )
    ket = _BELL_KETS[2]
    return float(np.real(ket.conj() @ rho @ ket))


def false_herald_probability(*, eta_a: float, eta_b: float, bsm: BsmParams) -> float:
    """Probability per attempt of a herald that a dark count completed (either label).

    Double click: ``2 (w_bunch + w_mixed)`` (module docstring: the patterns with a "one" from a
    dark count). Single click: no photon registered and a dark count at exactly one detector,
    ``2 O0 Z0 (1 - alpha t_A)(1 - alpha t_B)`` (the ``O0`` terms of ``w00 .. w11``). This is
    what :attr:`BsmStation.n_false_heralds` counts. Parameters as in
    :func:`double_click_success_probability`.
    """
    eta_a, eta_b = _check_eta("eta_a", eta_a), _check_eta("eta_b", eta_b)
    if bsm.scheme == "double_click":
        _, w_bunch, w_mixed, _ = _double_click(eta_a, eta_b, bsm)
        return 2.0 * (w_bunch + w_mixed)
    z0, o0, _, _ = _oz(bsm.detector)
    a, eta_d = bsm.bright_state_alpha, bsm.detector.efficiency
    return 2.0 * o0 * z0 * (1.0 - a * eta_a * eta_d) * (1.0 - a * eta_b * eta_d)


def herald_success_probability(*, eta_a: float, eta_b: float, bsm: BsmParams) -> float:
    """Success probability for ``bsm.scheme`` (dispatches to the two closed forms)."""
    if bsm.scheme == "double_click":
        return double_click_success_probability(eta_a=eta_a, eta_b=eta_b, bsm=bsm)
    return single_click_success_probability(eta_a=eta_a, eta_b=eta_b, bsm=bsm)


def heralded_state(
    *,
    eta_a: float,
    eta_b: float,
    bsm: BsmParams,
    emission_fidelity_a: float = 1.0,
    emission_fidelity_b: float = 1.0,
    outcome: str = "Psi+",
) -> np.ndarray:
    """Heralded 4x4 state for ``bsm.scheme`` (dispatches to the two closed forms)."""
    fn = double_click_heralded_state if bsm.scheme == "double_click" else single_click_heralded_state
    return fn(
        eta_a=eta_a,
        eta_b=eta_b,
        bsm=bsm,
        emission_fidelity_a=emission_fidelity_a,
        emission_fidelity_b=emission_fidelity_b,
        outcome=outcome,
    )


# ---------------------------------------------------------------------------------------
# Event-level station
# ---------------------------------------------------------------------------------------


def _photon_blocks(rho16: np.ndarray) -> np.ndarray:
    """Blocks ``T[x, y] = <x|_photons rho |y>_photons`` (photon basis index 0..3 = |pA pB>).

    Qubit order of ``rho16``: (mA, pA, mB, pB); each block is 4x4 on (mA, mB).
    """
    return rho16.reshape((2,) * 8).transpose(1, 3, 5, 7, 0, 2, 4, 6).reshape(4, 4, 4, 4)


def _project(blocks: np.ndarray, ket: np.ndarray) -> np.ndarray:
    """``<ket|_photons rho |ket>_photons`` from :func:`_photon_blocks`."""
    return np.einsum("x,y,xyij->ij", ket.conj(), ket, blocks)


class BsmStation(Component):
    """Event-level BSM station with photon inputs ``a``, ``b`` and classical output ``herald``.

    Each input message carries one photon qubit (or ``None`` if lost) in ``items[0]`` and,
    in ``meta["memory_qubit"]``, the memory qubit it is entangled with. Photons arriving on
    ``a`` and ``b`` within ``coincidence_window_ns`` form one attempt; a side with no message
    within the window counts as an absent photon. ``meta["encoding"]`` must be
    ``"presence"`` for single click (photon-number qubit, ``|1>`` = one photon) and is the
    photonic mode qubit (``|0>`` = H/early, ``|1>`` = V/late) for double click.

    The station owns its detectors, :class:`~hardware_models.detector.Detector` sub-components
    (:attr:`detectors`: ``c``, ``d`` for single click; ``cH``, ``cV``, ``dH``, ``dV`` for
    double click, outputs c/d of the beam splitter times the two photonic modes). Per attempt
    it computes, from the actual joint state of (memory A, photon A, memory B, photon B), the
    probability of each configuration of *registered* photons at the detectors (for single
    click: none, one at c, one at d, two at c, two at d, one at each, the single photon's
    output set by the coherence and the two-photon split by the HOM visibility; for double
    click: which photons are registered, then their modes and outputs, orthogonal modes split
    by the projections on ``Psi+``/``Psi-`` and equal modes bunching with ``(1+V)/2``), samples
    one with its own random stream, and lets each detector add its dark counts (its own stream,
    Poisson or at most one) to the photons it received. The detectors' counts decide the
    outcome by the heralding rule (single click: exactly one detector reports "one", the other
    nothing; double click: exactly two report "one", in orthogonal modes, the others nothing;
    a PNR detector with two counts reports "many"). Averaged over configurations and dark
    counts these are exactly the instruments of the closed forms of this module, and the
    station assigns their post-herald memory state (the unnormalised ``w`` of the outcome,
    normalised) to the two memory qubits. On failure the photons are discarded and the
    memories keep their reduced state. Every attempt opens one window on every detector, so
    the detectors count windows, clicks, dark clicks (and dead-time misses).

    Detector dead time: with ``detector_dead_time=True`` a detector that clicked less than its
    ``dead_time_ns`` before reports nothing (counted in its ``n_dead_time_misses``), which
    changes the outcome; the heralded state assigned is then still the dead-time-free one
    (exact whenever no detector was blind during the attempt). Default False: attempts are
    taken as independent windows, and dead time enters the attempt rate through
    :func:`hardware_models.detector.registered_click_fraction`.
    Output: ``Message((label,), meta={"header": "herald", "outcome": label, "bell_index": i,
    "memory_qubits": (qA, qB), "state": rho, "time_ns": t, "attempt": ...})`` with ``label``
    one of ``"Psi+"``, ``"Psi-"`` (``bell_index`` 2, 3) or ``"failure"`` (``bell_index`` None);
    ``rho`` is the 4x4 post-herald state of (qA, qB) just assigned to them (None on failure
    or without memory qubits).

    Parameters
    ----------
    name : str
        Component name.
    sim : Simulation
        Owning simulation.
    params : BsmParams
        Station parameters.
    detector_dead_time : bool, optional
        Apply the detectors' dead time between attempts (see above). Default False.

    Notes
    -----
    Counters (read-only properties, also :meth:`counters`): :attr:`n_attempts`,
    :attr:`n_heralds`, :attr:`n_heralds_by_label`, :attr:`n_failures`,
    :attr:`n_false_heralds`; each detector of :attr:`detectors` has its own.
    """

    #: Detector names per scheme: beam-splitter output (c, d) times photonic mode (H, V).
    DETECTOR_NAMES: dict[str, tuple[str, ...]] = {
        "single_click": ("c", "d"),
        "double_click": ("cH", "cV", "dH", "dV"),
    }

    def __init__(
        self, name: str, *, sim: Simulation, params: BsmParams, detector_dead_time: bool = False
    ) -> None:
        super().__init__(name, sim=sim, port_names=("a", "b", "herald"))
        self.params = params
        self._oz = _oz(params.detector)
        self._dead_time = bool(detector_dead_time)
        self._dets = [
            self.add_subcomponent(Detector(f"det_{n}", sim=sim, params=params.detector))
            for n in self.DETECTOR_NAMES[params.scheme]
        ]
        self._pending: dict[str, tuple[Message, float] | None] = {"a": None, "b": None}
        self.attempts = 0
        self.successes = 0
        self._n_by_label: dict[str, int] = dict.fromkeys(HERALD_LABELS, 0)
        self._n_false = 0
        self._blocks: UniformBlocks | None = None  # :attr:`uniforms` (made on first use)
        self.ports["a"].bind_input_handler(lambda m: self._arrive("a", m))
        self.ports["b"].bind_input_handler(lambda m: self._arrive("b", m))

    @property
    def uniforms(self) -> UniformBlocks:
        """The station's own stream as uniforms in blocks (for :meth:`process_batch`)."""
        blocks = self._blocks
        if blocks is None:
            blocks = self._blocks = UniformBlocks(self.rng)
        return blocks

    @property
    def detectors(self) -> dict[str, Detector]:
        """The station's detectors by name (:attr:`DETECTOR_NAMES`), in a new dict."""
        return dict(zip(self.DETECTOR_NAMES[self.params.scheme], self._dets, strict=True))

    # -- counters (read-only) ---------------------------------------------------------
    @property
    def n_attempts(self) -> int:
        """Attempts resolved (pairs of photon messages, or one side timed out)."""
        return self.attempts

    @property
    def n_heralds(self) -> int:
        """Heralds of any label (successful attempts)."""
        return self.successes

    @property
    def n_heralds_by_label(self) -> dict[str, int]:
        """Heralds per label, ``{"Psi+": k, "Psi-": k'}`` (a copy)."""
        return dict(self._n_by_label)

    @property
    def n_failures(self) -> int:
        """Attempts that did not herald."""
        return self.attempts - self.successes

    @property
    def n_false_heralds(self) -> int:
        """Heralds in which fewer photons were registered than the scheme needs, so a dark
        count completed the pattern: double click, fewer than two registered photons;
        single click, no registered photon (a configuration with two photons in one
        detector completed by a dark count also counts for double click). Closed form:
        :func:`false_herald_probability`."""
        return self._n_false

    def counters(self) -> dict[str, int]:
        """All counters of this station as a plain dict (names as the properties)."""
        out = {"n_attempts": self.attempts, "n_heralds": self.successes,
               "n_failures": self.n_failures, "n_false_heralds": self._n_false}
        out.update({f"n_heralds_{label}": k for label, k in self._n_by_label.items()})
        return out

    def count(self, *, attempts: int = 0, heralds: dict[str, int] | None = None,
              false_heralds: int = 0) -> None:
        """Add to the counters in bulk: ``attempts`` resolved, ``heralds`` per label
        (``{"Psi+": n, "Psi-": m}``, counted as successes), ``false_heralds`` among them.
        For attempts drawn from the closed form (the sampled link mode). Ints >= 0."""
        self.attempts += attempts
        for label, n in (heralds or {}).items():
            self._n_by_label[label] += n
            self.successes += n
        self._n_false += false_heralds

    # -- pairing ----------------------------------------------------------------------
    def _arrive(self, side: str, message: Message) -> None:
        now = self.sim.now_ns
        other = "b" if side == "a" else "a"
        pending = self._pending[other]
        window = self.params.coincidence_window_ns
        if pending is not None and now - pending[1] <= window:
            self._pending[other] = None
            pair = {side: message, other: pending[0]}
            self._emit(self.process_attempt(pair["a"], pair["b"]))
            return
        if self._pending[side] is not None:  # previous attempt on this side timed out late
            self._flush(side)
        self._pending[side] = (message, now)
        timer = self.sim.env.timeout(window)
        timer.callbacks.append(lambda _e, m=message, s=side: self._timeout(s, m))

    def _timeout(self, side: str, message: Message) -> None:
        pending = self._pending[side]
        if pending is not None and pending[0] is message:
            self._flush(side)

    def _flush(self, side: str) -> None:
        pending = self._pending[side]
        self._pending[side] = None
        if pending is None:
            return
        a, b = (pending[0], None) if side == "a" else (None, pending[0])
        self._emit(self.process_attempt(a, b))

    def _emit(self, message: Message) -> None:
        self.ports["herald"].tx_output(message)

    # -- physics ----------------------------------------------------------------------
    def process_attempt(self, msg_a: Message | None, msg_b: Message | None) -> Message:
        """Resolve one attempt from the two photon messages (either may be None)."""
        from modenhub_net.qubits import assign_state, create_qubits, discard

        self.attempts += 1
        ph_a = msg_a.items[0] if msg_a is not None and msg_a.items else None
        ph_b = msg_b.items[0] if msg_b is not None and msg_b.items else None
        mem_a = msg_a.meta.get("memory_qubit") if msg_a is not None else None
        mem_b = msg_b.meta.get("memory_qubit") if msg_b is not None else None
        attempt = (msg_a or msg_b).meta.get("attempt") if (msg_a or msg_b) else None
        rng = self.rng
        phase = None
        if self.params.scheme == "single_click":
            # absent photons are vacuum: give them a fresh |0> qubit
            if ph_a is None:
                ph_a = create_qubits(1)[0]
            if ph_b is None:
                ph_b = create_qubits(1)[0]
            sigma = self.params.phase_noise_std_rad
            if sigma > 0.0:
                # optical phase of arm b relative to arm a, drawn per attempt (module docstring)
                from modenhub_net.qubits import operate

                phase = float(rng.normal(0.0, sigma))
                operate([ph_b], np.diag([1.0, np.exp(1j * phase)]))
        if mem_a is None or mem_b is None:
            weights, rho_mem = None, None
            configs = self._configs_without_memories(ph_a, ph_b)
        else:
            weights, rho_mem, configs = self._instrument(mem_a, ph_a, mem_b, ph_b)
        # one configuration of registered photons at the detectors, then the detectors
        total = sum(c[0] for c in configs)
        u = rng.random() * total
        acc = 0.0
        photons, is_false = configs[-1][1], configs[-1][2]
        for prob, counts_in, false in configs:
            acc += prob
            if u < acc:
                photons, is_false = counts_in, false
                break
        now = self.sim.now_ns
        counts = [
            det.detect(n, now_ns=now, photons_registered=True, apply_dead_time=self._dead_time)
            for det, n in zip(self._dets, photons, strict=True)
        ]
        chosen = self._outcome(counts)
        label, index = ("failure", None) if chosen is None else (("Psi+", 2), ("Psi-", 3))[chosen]
        for photon in (ph_a, ph_b):
            if photon is not None and getattr(photon, "state", None) is not None:
                discard(photon)
        post_state = None
        if chosen is not None:
            self.successes += 1
            self._n_by_label[label] += 1
            self._n_false += int(is_false)
            if weights is not None:
                prob = float(np.real(np.trace(weights[chosen])))
                state = weights[chosen] / prob if prob > 0.0 else rho_mem / np.trace(rho_mem)
                post_state = (state + state.conj().T) / 2
                assign_state([mem_a, mem_b], post_state)
        meta: dict[str, Any] = {
            "header": "herald",
            "outcome": label,
            "bell_index": index,
            "memory_qubits": (mem_a, mem_b),
            "state": post_state,
            "time_ns": self.sim.now_ns,
            "attempt": attempt,
        }
        if phase is not None:
            meta["phase_rad"] = phase
        return Message((label,), meta)

    def _detected(self, photon: Any) -> bool:
        return photon is not None and self.rng.random() < self.params.detector.efficiency

    def _outcome(self, counts: list[int]) -> int | None:
        """0 (Psi+), 1 (Psi-) or None from the detectors' counts (-1: dead, reports nothing)."""
        pnr = self.params.detector.number_resolving
        ones = []
        for i, c in enumerate(counts):
            if c > 1 and pnr:
                return None  # "many"
            if c > 0:
                ones.append(i)
        if self.params.scheme == "single_click":
            return ones[0] if len(ones) == 1 else None
        if len(ones) != 2 or ones[0] % 2 == ones[1] % 2:  # orthogonal modes needed
            return None
        return 0 if ones[0] // 2 == ones[1] // 2 else 1  # same output: Psi+

    def _instrument(
        self, mem_a: Any, ph_a: Any, mem_b: Any, ph_b: Any
    ) -> tuple[list, np.ndarray, list]:
        """Unnormalised memory states for outcomes (Psi+, Psi-) and the photon configurations.

        Returns ``([w_Psi+, w_Psi-], rho, configs)`` with ``configs`` a list of
        ``(probability, registered photons per detector, false)``: the ways the registered
        photons reach the detectors (``false``: a herald from it needs a dark count). Summing
        the detectors' response over ``configs`` reproduces ``w`` (module docstring).
        """
        from modenhub_net.qubits import amplitude_damp, reduced_dm

        z0, o0, o1, o2 = self._oz
        v = self.params.visibility
        if self.params.scheme == "single_click":
            eta_d = self.params.detector.efficiency
            for photon in (ph_a, ph_b):
                if eta_d < 1.0:
                    amplitude_damp(photon, 1.0 - eta_d)
            rho = reduced_dm([mem_a, ph_a, mem_b, ph_b])
            t = _photon_blocks(rho)
            one = (t[1, 1] + t[2, 2]) / 2
            cross = math.sqrt(v) * (t[1, 2] + t[2, 1]) / 2
            base = o0 * z0 * t[0, 0] + (1 + v) / 4 * o2 * z0 * t[3, 3]
            w_c = base + o1 * z0 * (one + cross)
            w_d = base + o1 * z0 * (one - cross)
            tr = lambda m: max(0.0, float(np.real(np.trace(m))))  # noqa: E731
            t2 = tr(t[3, 3])
            configs = [
                (tr(t[0, 0]), (0, 0), True),
                (tr(one + cross), (1, 0), False),
                (tr(one - cross), (0, 1), False),
                (t2 * (1 + v) / 4, (2, 0), False),
                (t2 * (1 + v) / 4, (0, 2), False),
                (t2 * (1 - v) / 2, (1, 1), False),
            ]
            return [w_c, w_d], rho, configs
        # double click: sample which present photons are registered, then the instrument
        det_a, det_b = self._detected(ph_a), self._detected(ph_b)
        k = int(det_a) + int(det_b)
        if k == 2:
            rho = reduced_dm([mem_a, ph_a, mem_b, ph_b])
            w_p, w_m, configs = self._two_photons(rho)
            return [w_p, w_m], rho, configs
        rho_mem = reduced_dm([mem_a, mem_b])
        factor = o1 * o0 * z0 * z0 if k == 1 else 2.0 * o0 * o0 * z0 * z0
        w = factor * rho_mem
        if k == 0:
            return [w, w], rho_mem, [(1.0, (0, 0, 0, 0), True)]
        photon = ph_a if det_a else ph_b
        p_h = min(1.0, max(0.0, float(np.real(reduced_dm([photon])[0, 0]))))
        return [w, w], rho_mem, self._one_photon_configs(p_h)

    def _two_photons(self, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray, list]:
        """Double click, both photons registered: ``(w_Psi+, w_Psi-, configs)`` from the
        16x16 state ``rho`` of (mA, pA, mB, pB) (see :meth:`_instrument`)."""
        z0, o0, o1, o2 = self._oz
        v = self.params.visibility
        t = _photon_blocks(rho)
        m = {i: _project(t, _BELL_KETS[i]) for i in (2, 3)}
        m_hh, m_vv = t[0, 0], t[3, 3]
        true_w = o1 * o1 * z0 * z0
        bunch = (1 + v) / 2 * o2 * o0 * z0 * z0 * (m_hh + m_vv)
        w_p = true_w * ((1 + v) / 2 * m[2] + (1 - v) / 2 * m[3]) + bunch
        w_m = true_w * ((1 + v) / 2 * m[3] + (1 - v) / 2 * m[2]) + bunch
        tr = lambda x: max(0.0, float(np.real(np.trace(x))))  # noqa: E731
        p2, p3, hh, vv = tr(m[2]), tr(m[3]), tr(m_hh), tr(m_vv)
        same = ((1 + v) / 2 * p2 + (1 - v) / 2 * p3) / 2  # per output: (cH,cV) or (dH,dV)
        diff = ((1 + v) / 2 * p3 + (1 - v) / 2 * p2) / 2  # (cH,dV) or (dH,cV)
        configs = [
            (same, (1, 1, 0, 0), False), (same, (0, 0, 1, 1), False),
            (diff, (1, 0, 0, 1), False), (diff, (0, 1, 1, 0), False),
            (hh * (1 + v) / 4, (2, 0, 0, 0), True), (hh * (1 + v) / 4, (0, 0, 2, 0), True),
            (hh * (1 - v) / 2, (1, 0, 1, 0), True),
            (vv * (1 + v) / 4, (0, 2, 0, 0), True), (vv * (1 + v) / 4, (0, 0, 0, 2), True),
            (vv * (1 - v) / 2, (0, 1, 0, 1), True),
        ]
        return w_p, w_m, configs

    # -- batches of attempts --------------------------------------------------------------
    def instrument(self, mem_a: Any, ph_a: Any, mem_b: Any, ph_b: Any) -> BsmInstrument:
        """The per-attempt law of this station for photons in the given states.

        ``(mem_a, ph_a)`` and ``(mem_b, ph_b)`` are qubits in the state a photon and its
        memory qubit have when the photon *reaches* the station (double click: conditioned
        on its presence, the loss being an erasure; single click: the photon-number qubit
        after every amplitude damping on its way). The qubits are consumed (single click:
        damped by the detector efficiency). The result holds the configuration
        probabilities and post-herald memory states of :meth:`_instrument` for every number
        of registered photons, so that :meth:`process_batch` resolves many attempts with
        inputs in these states without building their states.
        """
        from modenhub_net.qubits import amplitude_damp, reduced_dm

        z0, o0, o1, o2 = self._oz
        v = self.params.visibility
        if self.params.scheme == "double_click":
            rho = reduced_dm([mem_a, ph_a, mem_b, ph_b])
            rho_mem = reduced_dm([mem_a, mem_b])
            w_p, w_m, configs = self._two_photons(rho)
            ph = [min(1.0, max(0.0, float(np.real(reduced_dm([q])[0, 0])))) for q in (ph_a, ph_b)]
            probs = np.array([c[0] for c in configs])
            return BsmInstrument(
                scheme="double_click",
                probs=probs,
                cum=np.cumsum(probs) / max(probs.sum(), 1e-300),
                photons=np.array([c[1] for c in configs], dtype=np.int64),
                false=np.array([c[2] for c in configs], dtype=bool),
                states=(_normalised(w_p, rho_mem), _normalised(w_m, rho_mem)),
                mem_state=_normalised(rho_mem, rho_mem),
                p_h=(ph[0], ph[1]),
            )
        eta_d = self.params.detector.efficiency
        for photon in (ph_a, ph_b):
            if eta_d < 1.0:
                amplitude_damp(photon, 1.0 - eta_d)
        rho = reduced_dm([mem_a, ph_a, mem_b, ph_b])
        t = _photon_blocks(rho)
        one = (t[1, 1] + t[2, 2]) / 2
        base = o0 * z0 * t[0, 0] + (1 + v) / 4 * o2 * z0 * t[3, 3]
        return BsmInstrument(
            scheme="single_click",
            cum=np.zeros(0),
            probs=np.array([max(0.0, float(np.real(np.trace(t[0, 0])))),
                            float(np.real(np.trace(one))),
                            max(0.0, float(np.real(np.trace(t[3, 3]))))]),
            photons=np.array([(0, 0), (1, 0), (0, 1), (2, 0), (0, 2), (1, 1)], dtype=np.int64),
            false=np.array([True, False, False, False, False, False]),
            states=(base, o1 * z0 * one, o1 * z0 * t[1, 2], o1 * z0 * t[2, 1]),
            mem_state=_normalised(reduced_dm([mem_a, mem_b]), None),
            p_h=(complex(np.trace(t[1, 2])), 0.0),
        )

    @staticmethod
    def process_batch(
        stations: Sequence[BsmStation],
        present_a: np.ndarray,
        present_b: np.ndarray,
        *,
        instrument: BsmInstrument,
        rng: np.random.Generator,
        now_ns: float,
        uniforms: UniformBlocks | None = None,
    ) -> BatchHeralds:
        """Resolve one attempt at each of ``stations`` (attempt ``j`` at station ``j``) as one
        array step; the same law as :meth:`process_attempt` for every attempt.

        Per attempt: (double click) which present photons are registered (detector
        efficiency), then one configuration of registered photons at the detectors from the
        instrument's probabilities (the single registered photon's mode from its H
        population; single click: the configuration law with the attempt's optical phase,
        ``phi ~ Normal(0, phase_noise_std_rad)``, which multiplies the coherence ``t_12`` by
        ``exp(i phi)``); then each detector's window (:func:`hardware_models.detector.detect_batch`:
        dark counts, number resolution, dead time) and the heralding rule of
        :meth:`_outcome`. States are built only for heralds: the post-herald memory state
        (the outcome's ``w`` normalised, as in :meth:`process_attempt`). Counters of the
        stations and of their detectors are updated.

        Parameters
        ----------
        stations : sequence of BsmStation
            One per attempt, all with the same parameters.
        present_a, present_b : numpy.ndarray of bool
            Whether the photon from A (B) reached station ``j`` (single click: ignored, the
            photon-number qubit always arrives; its losses are in the instrument).
        instrument : BsmInstrument
            :meth:`instrument` of these stations for the inputs' states.
        rng : numpy.random.Generator
            Stream of the draws.
        now_ns : float
            Time of the detection windows, ns.
        uniforms : UniformBlocks, optional
            Where the per-attempt uniforms come from (in blocks, e.g. a station's
            :attr:`uniforms`); default one ``rng.random`` call. Dark counts and phases are
            drawn from ``rng``.

        Returns
        -------
        BatchHeralds
        """
        n = len(stations)
        st0 = stations[0]
        params = st0.params
        det = params.detector
        pnr = det.number_resolving
        double = params.scheme == "double_click"
        det0 = st0._dets[0]
        if double and not _dark_possible(det0) and not (
            st0._dead_time and det.dead_time_ns - DEAD_TIME_TOLERANCE_NS > 0
        ):
            return _double_click_without_dark_counts(stations, present_a, present_b, instrument,
                                                     uniforms.take(3 * n) if uniforms is not None
                                                     else rng.random(3 * n).tolist())
        rows_of: list[tuple[int, ...]] = []  # photons at each detector of the attempt's station
        false: list[bool] = []
        if double:
            eff = det.efficiency
            u = uniforms.take(3 * n) if uniforms is not None else rng.random(3 * n).tolist()
            pa = present_a if isinstance(present_a, list) else present_a.tolist()
            pb = present_b if isinstance(present_b, list) else present_b.tolist()
            cum, rows, row_false = instrument.cum_list, instrument.rows, instrument.row_false
            last = len(cum) - 1
            ph_a, ph_b = instrument.p_h
            none = (0, 0, 0, 0)
            k = []
            for j in range(n):
                ra = pa[j] and u[j] < eff
                rb = pb[j] and u[n + j] < eff
                x = u[2 * n + j]
                if ra and rb:  # both registered: one of the configurations
                    i = min(bisect.bisect_right(cum, x), last)
                    rows_of.append(rows[i])
                    false.append(row_false[i])
                    k.append(2)
                elif ra or rb:  # one: its mode (H with its H population), either output
                    p_h = ph_a if ra else ph_b
                    col = (0 if x < p_h / 2 else 2) if x < p_h else (1 if x < (1 + p_h) / 2 else 3)
                    rows_of.append((int(col == 0), int(col == 1), int(col == 2), int(col == 3)))
                    false.append(True)
                    k.append(1)
                else:
                    rows_of.append(none)
                    false.append(True)
                    k.append(0)
            n_det = 4
        else:
            sigma = params.phase_noise_std_rad
            phase = rng.normal(0.0, sigma, n).tolist() if sigma > 0.0 else [0.0] * n
            u = uniforms.take(n) if uniforms is not None else rng.random(n).tolist()
            p00, one_tr, p11 = (float(x) for x in instrument.probs)
            v = params.visibility
            t12 = instrument.p_h[0]
            root_v = math.sqrt(v)
            bunch, split = p11 * (1 + v) / 4, p11 * (1 - v) / 2
            rows, row_false = instrument.rows, instrument.row_false
            for j in range(n):
                ph = phase[j]
                cross = root_v * (math.cos(ph) * t12.real - math.sin(ph) * t12.imag)
                probs = (p00, max(0.0, one_tr + cross), max(0.0, one_tr - cross), bunch, bunch, split)
                acc = 0.0
                cums = []
                for q in probs:
                    acc += q
                    cums.append(acc)
                target = u[j] * acc
                i = 0
                while i < 5 and cums[i] < target:
                    i += 1
                rows_of.append(rows[i])
                false.append(row_false[i])
            n_det = 2
        # each detector's window (the law of detector.detect_batch with the photons already
        # registered): dark counts in one draw for all windows, counts, dead time, counters
        dark = _dark_counts(st0._dets[0], n_det * n, rng)
        dead_ns = det.dead_time_ns - DEAD_TIME_TOLERANCE_NS
        use_dead = st0._dead_time and dead_ns > 0
        labels: list[int] = []
        heralded: list[int] = []
        states = []
        for j, st in enumerate(stations):
            st.attempts += 1
            row = rows_of[j]
            dj = None if dark is None else dark[n_det * j:n_det * (j + 1)]
            if dj is None and not use_dead:  # no dark counts, no dead time: counts = photons
                for d, p in zip(st._dets, row, strict=True):
                    d.windows += 1
                    if p:
                        d._n_photons_in += p
                        d._n_photons_registered += p
                        d.clicks += 1
                c = row
            else:
                c = _station_windows(st._dets, row, dj, pnr, use_dead, dead_ns, now_ns)
            if not any(c):
                labels.append(-1)
                continue
            if pnr and max(c) > 1:  # "many"
                labels.append(-1)
                continue
            if n_det == 4:
                o0, o1, o2, o3 = c[0] > 0, c[1] > 0, c[2] > 0, c[3] > 0
                ok = o0 + o1 + o2 + o3 == 2 and (o0 or o2) and (o1 or o3)
                plus = (o0 and o1) or (o2 and o3)
            else:
                ok = (c[0] > 0) + (c[1] > 0) == 1
                plus = c[0] > 0
            if not ok:
                labels.append(-1)
                continue
            labels.append(2 if plus else 3)
            heralded.append(j)
            st.successes += 1
            st._n_by_label["Psi+" if plus else "Psi-"] += 1
            st._n_false += int(false[j])
            if double:
                # both photons registered: the outcome's w; fewer: the memories' state
                states.append(instrument.states[0 if plus else 1] if k[j] == 2
                              else instrument.mem_state)
            else:
                states.append(st._single_click_state(instrument, phase[j], plus))
        return BatchHeralds(labels=labels, heralded=heralded, states=states,
                            false=[false[j] for j in heralded])

    def _single_click_state(self, instrument: BsmInstrument, phase: float, plus: bool) -> np.ndarray:
        """Post-herald memory state of one single-click herald with optical phase ``phase``."""
        if phase == 0.0:  # no optical phase noise: one state per label, kept by the instrument
            cached = instrument._zero_phase.get(plus)
            if cached is None:
                cached = instrument._zero_phase[plus] = self._single_click_state_at(instrument, 0.0, plus)
            return cached
        return self._single_click_state_at(instrument, phase, plus)

    def _single_click_state_at(self, instrument: BsmInstrument, phase: float, plus: bool) -> np.ndarray:
        base, one, t12, t21 = instrument.states
        e = complex(math.cos(phase), math.sin(phase))
        cross = math.sqrt(self.params.visibility) * (e * t12 + e.conjugate() * t21) / 2
        w = base + (one + cross if plus else one - cross)
        return _normalised(w, instrument.mem_state)

    @staticmethod
    def _one_photon_configs(p_h: float) -> list:
        """One registered photon, mode H with ``p_h``, either output with 1/2 (no partner to
        interfere with): its herald needs a dark count."""
        return [
            (p_h / 2, (1, 0, 0, 0), True), (p_h / 2, (0, 0, 1, 0), True),
            ((1 - p_h) / 2, (0, 1, 0, 0), True), ((1 - p_h) / 2, (0, 0, 0, 1), True),
        ]

    def _configs_without_memories(self, ph_a: Any, ph_b: Any) -> list:
        """Configurations when a memory handle is missing: nothing can be heralded but by
        dark counts (single click: no registered photon is assumed; double click: the
        registered photons count as one unpaired photon of random mode)."""
        if self.params.scheme == "single_click":
            return [(1.0, (0, 0), True)]
        k = int(self._detected(ph_a)) + int(self._detected(ph_b))
        if k == 0:
            return [(1.0, (0, 0, 0, 0), True)]
        return self._one_photon_configs(0.5)


def _dark_possible(det0: Detector) -> bool:
    """Whether a window of detectors with ``det0``'s parameters can hold a dark count (the
    condition under which :func:`hardware_models.detector._dark_counts` draws)."""
    if det0.params.number_resolving and not det0._at_most_one:
        return det0._lam > 0
    return det0._p_dc > 0


def _double_click_without_dark_counts(
    stations: Sequence[BsmStation], present_a: Any, present_b: Any, instrument: BsmInstrument,
    u: list[float],
) -> BatchHeralds:
    """:meth:`BsmStation.process_batch` for double click when no window can hold a dark count
    and no dead time applies: the same law, draws (``u``: the ``3 n`` uniforms) and counters
    in one pass. Every window counts its registered photons, so an attempt heralds only when
    both photons are registered, with the label that the heralding rule gives the
    configuration's photon row (computed once per instrument, :meth:`BsmInstrument.row_labels`);
    one registered photon makes one click, never a herald."""
    n = len(stations)
    eff = stations[0].params.detector.efficiency
    pa = present_a if isinstance(present_a, list) else present_a.tolist()
    pb = present_b if isinstance(present_b, list) else present_b.tolist()
    cum, rows, row_false = instrument.cum_list, instrument.rows, instrument.row_false
    row_labels = instrument.row_labels(stations[0].params.detector.number_resolving)
    last = len(cum) - 1
    ph_a, ph_b = instrument.p_h
    plus_state, minus_state = instrument.states[0], instrument.states[1]
    labels: list[int] = []
    heralded: list[int] = []
    states = []
    false = []
    bisect_right = bisect.bisect_right
    for j in range(n):
        st = stations[j]
        st.attempts += 1
        dets = st._dets
        for d in dets:
            d.windows += 1
        ra = pa[j] and u[j] < eff
        rb = pb[j] and u[n + j] < eff
        if ra and rb:  # both registered: one of the configurations
            i = min(bisect_right(cum, u[2 * n + j]), last)
            for d, p in zip(dets, rows[i], strict=True):
                if p:
                    d._n_photons_in += p
                    d._n_photons_registered += p
                    d.clicks += 1
            label = row_labels[i]
            labels.append(label)
            if label >= 0:
                heralded.append(j)
                st.successes += 1
                st._n_by_label["Psi+" if label == 2 else "Psi-"] += 1
                st._n_false += int(row_false[i])
                false.append(row_false[i])
                states.append(plus_state if label == 2 else minus_state)
        elif ra or rb:  # one: its mode (H with its H population), either output; one click
            x = u[2 * n + j]
            p_h = ph_a if ra else ph_b
            col = (0 if x < p_h / 2 else 2) if x < p_h else (1 if x < (1 + p_h) / 2 else 3)
            d = dets[col]
            d._n_photons_in += 1
            d._n_photons_registered += 1
            d.clicks += 1
            labels.append(-1)
        else:
            labels.append(-1)
    return BatchHeralds(labels=labels, heralded=heralded, states=states, false=false)


def _station_windows(dets: Sequence[Detector], row: tuple[int, ...], dark: list[int] | None, pnr: bool,
                 use_dead: bool, dead_ns: float, now_ns: float) -> list[int]:
    """One station's detection windows with ``row`` registered photons per detector and
    ``dark`` dark counts (or None): counts (threshold: 0/1; -1 blind within the dead time,
    as :func:`hardware_models.detector.detect_batch`) and the detectors' counters."""
    c = []
    for i, d in enumerate(dets):
        d.windows += 1
        p = row[i]
        if p:
            d._n_photons_in += p
            d._n_photons_registered += p
        extra = 0 if dark is None else dark[i]
        count = (p + extra) if pnr else (1 if p or extra else 0)
        if count:
            if use_dead:
                if now_ns - d._last_click_ns < dead_ns:
                    d._n_dead += 1
                    c.append(-1)
                    continue
                d._last_click_ns = now_ns
            d.clicks += 1
            if p == 0:
                d._n_dark += 1
        c.append(count)
    return c


def _normalised(w: np.ndarray, fallback: np.ndarray | None) -> np.ndarray:
    """``w / tr(w)``, Hermitian part (``fallback`` normalised if ``tr(w) <= 0``)."""
    tr = float(np.real(np.trace(w)))
    if tr <= 0.0:
        if fallback is None:
            return np.eye(w.shape[0], dtype=complex) / w.shape[0]
        return _normalised(fallback, None)
    state = w / tr
    return (state + state.conj().T) / 2


@dataclass(frozen=True)
class BsmInstrument:
    """The per-attempt law of a station for fixed input states (:meth:`BsmStation.instrument`).

    Double click: ``probs`` / ``photons`` / ``false`` are the configurations with both photons
    registered (:meth:`BsmStation._instrument`), ``states`` the normalised post-herald
    memory states for Psi+ and Psi-, ``mem_state`` the memories' state when fewer than two
    photons are registered (any herald then needs dark counts), ``p_h`` the H population of
    photon A and of photon B. Single click: ``probs = (tr t00, tr one, tr t11)`` of the photon
    blocks, ``photons`` / ``false`` the six configurations, ``states = (base, O1 Z0 one,
    O1 Z0 t12, O1 Z0 t21)`` (the outcome weights before the phase), ``p_h[0] = tr t12``.
    ``cum``: double click, the normalised cumulative ``probs`` (empty for single click).
    """

    scheme: str
    probs: np.ndarray
    cum: np.ndarray
    photons: np.ndarray
    false: np.ndarray
    states: tuple[np.ndarray, ...]
    mem_state: np.ndarray
    p_h: tuple[Any, Any]

    @property
    def cum_list(self) -> list[float]:
        """``cum`` as a list (per-attempt lookups)."""
        return self._lists[0]

    @property
    def rows(self) -> list[tuple[int, ...]]:
        """``photons`` rows as tuples."""
        return self._lists[1]

    @property
    def row_false(self) -> list[bool]:
        """``false`` as a list."""
        return self._lists[2]

    def row_labels(self, number_resolving: bool) -> list[int]:
        """Double click, per configuration row with its photons as the counts (no dark
        count, no dead time): the herald label by the heralding rule of
        :meth:`BsmStation.process_batch` (2 Psi+, 3 Psi-, -1 none, also "many" photons at a
        ``number_resolving`` detector). Computed once per value of ``number_resolving``."""
        labels = self._row_labels.get(number_resolving)
        if labels is None:
            labels = []
            for row in self._lists[1]:
                o0, o1, o2, o3 = (c > 0 for c in row)
                if number_resolving and max(row) > 1:
                    labels.append(-1)
                elif o0 + o1 + o2 + o3 == 2 and (o0 or o2) and (o1 or o3):
                    labels.append(2 if (o0 and o1) or (o2 and o3) else 3)
                else:
                    labels.append(-1)
            self._row_labels[number_resolving] = labels
        return labels

    def __post_init__(self) -> None:
        lists = (self.cum.tolist(), [tuple(r) for r in self.photons.tolist()],
                 [bool(f) for f in self.false.tolist()])
        object.__setattr__(self, "_lists", lists)
        # single click without phase noise: the post-herald state per label (computed once)
        object.__setattr__(self, "_zero_phase", {})
        object.__setattr__(self, "_row_labels", {})


@dataclass(frozen=True)
class BatchHeralds:
    """Outcome of :meth:`BsmStation.process_batch`.

    ``labels``: per attempt 2 (Psi+), 3 (Psi-) or -1 (failure); ``heralded``: indices of
    the heralded attempts, ascending; ``states``: their normalised 4x4 post-herald memory
    states (same order); ``false``: whether each herald needed a dark count (same order).
    """

    labels: list[int]
    heralded: list[int]
    states: list[np.ndarray]
    false: list[bool]
