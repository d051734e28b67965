"""BSM closed forms against an independent mode-level model of the linear optics.

Nothing here uses :mod:`hardware_models.bsm` beyond the functions under test. The reference
builds the spin–photon states of both heralding schemes in Fock space, sends each photon
through loss (a beam splitter to an environment mode, amplitude ``sqrt(1 - t)``) and the
station's 50:50 beam splitter (A -> (c + d)/sqrt2, B -> (c - d)/sqrt2), gives photon B a
temporal mode with overlap ``s = sqrt(V)`` with photon A's (so the Hong–Ou–Mandel visibility
is ``|s|^2 = V``), and computes, for every pattern of photon numbers at the detectors
(polarisation-resolved for double click), the unnormalised spin state
``sum_config |psi_config><psi_config|`` over the unresolved Fock configurations (temporal
mode, environment). Detector dark counts (threshold: Bernoulli ``p_dc``; PNR:
Poisson ``lambda``) and the herald rules (double click: exactly two "one" detectors in
orthogonal polarisations, same port -> Psi+, different ports -> Psi-; single click: exactly
one "one" detector, c -> Psi+, d -> Psi-) are then applied

* exactly, by enumerating dark-count patterns: the closed forms must agree to 1e-12;
* by Monte Carlo, sampling photon patterns and dark counts per attempt: success frequency
  and mean heralded fidelity within 5 standard errors of the trial count (fixed seed).

The loss model is the physical beam-splitter loss, so the single-click coherence and the
double-click two-photon terms come from bosonic algebra, not from the closed forms' weights.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np
import pytest

from hardware_models.bsm import (
    BsmParams,
    double_click_fidelity,
    double_click_heralded_state,
    double_click_success_probability,
    single_click_fidelity,
    single_click_heralded_state,
    single_click_success_probability,
)
from hardware_models.detector import DetectorParams, dark_count_mean, dark_count_probability
from modenhub_net.qubits import bell_state

K = 5.0
_S2 = 1 / math.sqrt(2)


# -- Fock-space instrument -------------------------------------------------------------------
def _apply_creations(vectors: list[np.ndarray]) -> dict[tuple[int, ...], complex]:
    """Fock amplitudes of ``prod_i (sum_m v_i[m] a_m^dagger) |vac>`` for 0, 1 or 2 photons.

    Keys are sorted tuples of occupied mode indices (a repeated index = two photons);
    ``a^dagger a^dagger |vac> = sqrt2 |2>``.
    """
    if not vectors:
        return {(): 1.0}
    if len(vectors) == 1:
        return {(m,): complex(a) for m, a in enumerate(vectors[0]) if a != 0}
    u, w = vectors
    out: dict[tuple[int, ...], complex] = {}
    n = len(u)
    for m in range(n):
        for k in range(m, n):
            amp = math.sqrt(2) * u[m] * w[m] if m == k else u[m] * w[k] + u[k] * w[m]
            if amp != 0:
                out[(m, k)] = complex(amp)
    return out


class _Modes:
    """Mode index book-keeping: detectable modes (detector, temporal mode) and environments."""

    def __init__(self, detectors: list[str], sources: list[str]) -> None:
        self.detectors = detectors
        self.index: dict[tuple, int] = {}
        for det in detectors:
            for tm in (0, 1):
                self.index[("det", det, tm)] = len(self.index)
        for src in sources:
            self.index[("env", src)] = len(self.index)
        self.detector_of = {i: key[1] for key, i in self.index.items() if key[0] == "det"}

    def vector(self, terms: dict[tuple, complex]) -> np.ndarray:
        v = np.zeros(len(self.index), dtype=complex)
        for key, amp in terms.items():
            v[self.index[key]] += amp
        return v

    def pattern(self, config: tuple[int, ...]) -> tuple[int, ...]:
        counts = dict.fromkeys(self.detectors, 0)
        for m in config:
            if m in self.detector_of:
                counts[self.detector_of[m]] += 1
        return tuple(counts[d] for d in self.detectors)


def _photon(modes: _Modes, src: str, t: float, s: float, port_sign: float, suffix: str,
            phase: float = 0.0) -> np.ndarray:
    """Creation vector of a photon from ``src``: optical phase, loss, temporal mode, 50:50
    beam splitter."""
    temporal = {0: 1.0 + 0j} if src == "A" else {0: s + 0j, 1: math.sqrt(max(0.0, 1 - s * s)) + 0j}
    temporal = {tm: amp * np.exp(1j * phase) for tm, amp in temporal.items()}
    terms: dict[tuple, complex] = {}
    for tm, amp_t in temporal.items():
        terms[("det", "c" + suffix, tm)] = math.sqrt(t) * _S2 * amp_t
        terms[("det", "d" + suffix, tm)] = math.sqrt(t) * _S2 * port_sign * amp_t
    env = ("env", src + suffix)
    terms[env] = terms.get(env, 0) + math.sqrt(1 - t)
    return modes.vector(terms)


def _instrument(scheme: str, t_a: float, t_b: float, visibility: float, alpha: float,
                phase: float = 0.0):
    """``(detectors, {photon-number pattern: unnormalised 4x4 spin operator})``; ``phase`` is
    the optical phase of arm B relative to arm A (single click)."""
    s = math.sqrt(visibility)
    if scheme == "double_click":
        detectors = ["cH", "cV", "dH", "dV"]
        modes = _Modes(detectors, ["AH", "AV", "BH", "BV"])
        pol = {0: "H", 1: "V"}
        # spin a emits polarisation pol[a]: (|0,H> + |1,V>)/sqrt2 on each side
        branches = []
        for a, b in itertools.product((0, 1), repeat=2):
            vecs = [_photon(modes, "A", t_a, s, +1.0, pol[a]), _photon(modes, "B", t_b, s, -1.0, pol[b])]
            branches.append((2 * a + b, 0.5, vecs))
    else:
        detectors = ["c", "d"]
        modes = _Modes(detectors, ["A", "B"])
        amp = {0: math.sqrt(1 - alpha), 1: math.sqrt(alpha)}
        branches = []
        for a, b in itertools.product((0, 1), repeat=2):
            vecs = []
            if a:
                vecs.append(_photon(modes, "A", t_a, s, +1.0, ""))
            if b:
                vecs.append(_photon(modes, "B", t_b, s, -1.0, "", phase))
            branches.append((2 * a + b, amp[a] * amp[b], vecs))
    psi: dict[tuple[int, ...], np.ndarray] = defaultdict(lambda: np.zeros(4, dtype=complex))
    for spin, weight, vecs in branches:
        for config, amp_c in _apply_creations(vecs).items():
            psi[config][spin] += weight * amp_c
    ops: dict[tuple[int, ...], np.ndarray] = defaultdict(lambda: np.zeros((4, 4), dtype=complex))
    for config, vec in psi.items():
        ops[modes.pattern(config)] += np.outer(vec, vec.conj())
    return detectors, dict(ops)


# -- detectors and herald rules ----------------------------------------------------------------
def _dark_distribution(det: DetectorParams) -> list[tuple[int, float]]:
    """Dark counts per window as (count, probability); count 2 stands for ">= 2"."""
    if det.number_resolving and det.dark_count_statistics == "at_most_one":
        p = dark_count_probability(det)
        return [(0, 1.0 - p), (1, p)]
    if det.number_resolving:
        lam = dark_count_mean(det)
        p0, p1 = math.exp(-lam), lam * math.exp(-lam)
        return [(0, p0), (1, p1), (2, max(0.0, 1.0 - p0 - p1))]
    p = dark_count_probability(det)
    return [(0, 1.0 - p), (1, p)]


def _report(counts: int, det: DetectorParams) -> str:
    """"none", "one" or "many" (a threshold detector reports "one" for any click)."""
    if counts == 0:
        return "none"
    if not det.number_resolving or counts == 1:
        return "one"
    return "many"


def _herald(scheme: str, detectors: list[str], counts: tuple[int, ...], det: DetectorParams) -> int | None:
    """Bell index heralded by the detector counts (2 Psi+, 3 Psi-), or None."""
    reports = [_report(c, det) for c in counts]
    if "many" in reports:
        return None
    ones = [d for d, r in zip(detectors, reports, strict=True) if r == "one"]
    if scheme == "single_click":
        return (2 if ones[0] == "c" else 3) if len(ones) == 1 else None
    if len(ones) != 2 or ones[0][1] == ones[1][1]:  # need orthogonal polarisations
        return None
    return 2 if ones[0][0] == ones[1][0] else 3


def _exact(scheme, t_a, t_b, visibility, alpha, det, phase_std: float = 0.0):
    """Exact herald probability and heralded states per label from the mode-level model.

    With ``phase_std`` > 0 the instrument is averaged over a Gaussian optical phase of arm B
    by Gauss-Hermite quadrature (60 nodes: exact for these trigonometric integrands to
    machine precision), independently of the closed form's ``exp(-sigma^2/2)``.
    """
    if phase_std > 0.0:
        nodes, weights = np.polynomial.hermite_e.hermegauss(60)
        weights = weights / weights.sum()
    else:
        nodes, weights = np.zeros(1), np.ones(1)
    darks = _dark_distribution(det)
    heralded = {2: np.zeros((4, 4), dtype=complex), 3: np.zeros((4, 4), dtype=complex)}
    for x, wq in zip(nodes, weights, strict=True):
        detectors, ops = _instrument(scheme, t_a, t_b, visibility, alpha, phase_std * x)
        for photons, op in ops.items():
            for combo in itertools.product(darks, repeat=len(detectors)):
                weight = math.prod(p for _, p in combo)
                counts = tuple(n + k for n, (k, _) in zip(photons, combo, strict=True))
                label = _herald(scheme, detectors, counts, det)
                if label is not None and weight > 0:
                    heralded[label] += wq * weight * op
    return heralded


CASES = [
    # scheme, eta_a, eta_b, V, alpha, eta_d, dark (Hz), window (ns), PNR
    ("double_click", 1.0, 1.0, 1.0, 0.1, 1.0, 0.0, 10.0, False),
    ("double_click", 0.6, 0.3, 0.8, 0.1, 0.9, 0.0, 10.0, False),
    ("double_click", 0.2, 0.1, 0.9, 0.1, 0.8, 2.0e6, 100.0, False),
    ("double_click", 0.05, 0.05, 0.7, 0.1, 0.9, 5.0e6, 100.0, False),
    ("double_click", 0.4, 0.5, 0.95, 0.1, 0.9, 3.0e6, 100.0, True),
    ("single_click", 1.0, 1.0, 1.0, 0.2, 1.0, 0.0, 10.0, False),
    ("single_click", 0.3, 0.6, 0.81, 0.1, 0.9, 0.0, 10.0, False),
    ("single_click", 0.2, 0.1, 0.9, 0.3, 0.8, 2.0e6, 100.0, False),
    ("single_click", 0.7, 0.8, 0.6, 0.25, 0.9, 1.0e6, 100.0, True),
    ("single_click", 0.5, 0.4, 0.9, 0.2, 0.85, 4.0e6, 100.0, "at_most_one"),
    ("double_click", 0.5, 0.6, 0.9, 0.1, 0.85, 4.0e6, 100.0, "at_most_one"),
]


def _params(scheme, visibility, alpha, eta_d, dark, window, pnr, phase_std=0.0) -> BsmParams:
    """``pnr`` True/False, or "at_most_one": a PNR detector with at most one dark count."""
    stats = "at_most_one" if pnr == "at_most_one" else "poisson"
    det = DetectorParams(efficiency=eta_d, dark_count_rate_hz=dark, window_ns=window,
                         number_resolving=bool(pnr), dead_time_ns=0.0,
                         dark_count_statistics=stats)
    return BsmParams(scheme=scheme, visibility=visibility, bright_state_alpha=alpha, detector=det,
                     phase_noise_std_rad=phase_std)


@pytest.mark.parametrize(("scheme", "eta_a", "eta_b", "v", "alpha", "eta_d", "dark", "window", "pnr"), CASES)
def test_closed_forms_equal_mode_level_model(scheme, eta_a, eta_b, v, alpha, eta_d, dark, window, pnr):
    bsm = _params(scheme, v, alpha, eta_d, dark, window, pnr)
    t_a, t_b = eta_a * eta_d, eta_b * eta_d  # efficiency before the beam splitter (identical detectors)
    heralded = _exact(scheme, t_a, t_b, v, alpha, bsm.detector)
    p_exact = sum(float(np.trace(h).real) for h in heralded.values())
    if scheme == "double_click":
        p = double_click_success_probability(eta_a=eta_a, eta_b=eta_b, bsm=bsm)
        states = {i: double_click_heralded_state(eta_a=eta_a, eta_b=eta_b, bsm=bsm, outcome=o)
                  for i, o in ((2, "Psi+"), (3, "Psi-"))}
        f = double_click_fidelity(eta_a=eta_a, eta_b=eta_b, bsm=bsm)
    else:
        p = single_click_success_probability(eta_a=eta_a, eta_b=eta_b, bsm=bsm)
        states = {i: single_click_heralded_state(eta_a=eta_a, eta_b=eta_b, bsm=bsm, outcome=o)
                  for i, o in ((2, "Psi+"), (3, "Psi-"))}
        f = single_click_fidelity(eta_a=eta_a, eta_b=eta_b, bsm=bsm)
    assert p == pytest.approx(p_exact, rel=1e-10, abs=1e-15)
    for label, h in heralded.items():
        rho = h / np.trace(h).real
        ket = bell_state(label)
        assert float(np.real(ket.conj() @ rho @ ket)) == pytest.approx(f, abs=1e-10)
        # the whole heralded state, dark-count heralds included
        np.testing.assert_allclose(states[label], rho, atol=1e-10)
    if scheme == "double_click" and dark == 0.0:
        assert p == pytest.approx(t_a * t_b / 2, rel=1e-12)
        assert f == pytest.approx((1 + v) / 2, rel=1e-12)


@pytest.mark.parametrize("phase_std", [0.1, 0.35, 1.0])
@pytest.mark.parametrize("case", [CASES[6], CASES[7], CASES[9]])
def test_single_click_phase_noise_equals_phase_averaged_mode_model(case, phase_std):
    """A Gaussian optical phase of std sigma on arm B, averaged over the mode-level instrument,
    gives the closed form with the coherence times exp(-sigma^2/2): same success probability,
    same heralded states; double click ignores the phase."""
    scheme, eta_a, eta_b, v, alpha, eta_d, dark, window, pnr = case
    bsm = _params(scheme, v, alpha, eta_d, dark, window, pnr, phase_std)
    heralded = _exact(scheme, eta_a * eta_d, eta_b * eta_d, v, alpha, bsm.detector, phase_std)
    p_exact = sum(float(np.trace(h).real) for h in heralded.values())
    assert single_click_success_probability(eta_a=eta_a, eta_b=eta_b, bsm=bsm) == pytest.approx(
        p_exact, rel=1e-10)
    for label, outcome in ((2, "Psi+"), (3, "Psi-")):
        rho = heralded[label] / np.trace(heralded[label]).real
        got = single_click_heralded_state(eta_a=eta_a, eta_b=eta_b, bsm=bsm, outcome=outcome)
        np.testing.assert_allclose(got, rho, atol=1e-10)
    # the coherence, and only it, shrinks by exp(-sigma^2/2)
    calm = _params(scheme, v, alpha, eta_d, dark, window, pnr)
    still = single_click_heralded_state(eta_a=eta_a, eta_b=eta_b, bsm=calm)
    noisy = single_click_heralded_state(eta_a=eta_a, eta_b=eta_b, bsm=bsm)
    assert noisy[1, 2] == pytest.approx(still[1, 2] * math.exp(-phase_std**2 / 2), rel=1e-12)
    np.testing.assert_allclose(np.diag(noisy), np.diag(still), atol=1e-14)
    dc = _params("double_click", v, alpha, eta_d, dark, window, pnr, phase_std)
    dc0 = _params("double_click", v, alpha, eta_d, dark, window, pnr)
    assert double_click_fidelity(eta_a=eta_a, eta_b=eta_b, bsm=dc) == double_click_fidelity(
        eta_a=eta_a, eta_b=eta_b, bsm=dc0)


@pytest.mark.parametrize(
    ("scheme", "eta_a", "eta_b", "v", "alpha", "eta_d", "dark", "window", "pnr"),
    [CASES[2], CASES[4], CASES[7], CASES[8], CASES[9], CASES[10]],
)
def test_closed_forms_against_photon_and_dark_count_monte_carlo(
    scheme, eta_a, eta_b, v, alpha, eta_d, dark, window, pnr, validation_scale
):
    """Per attempt: sample the photon-number pattern, then each detector's dark counts."""
    bsm = _params(scheme, v, alpha, eta_d, dark, window, pnr)
    det = bsm.detector
    detectors, ops = _instrument(scheme, eta_a * eta_d, eta_b * eta_d, v, alpha)
    patterns = list(ops)
    probs = np.array([np.trace(ops[k]).real for k in patterns])
    assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    rng = np.random.default_rng(20240611)
    trials = int(400_000 * validation_scale)
    which = rng.choice(len(patterns), size=trials, p=probs / probs.sum())
    photons = np.array(patterns)[which]
    if det.number_resolving and det.dark_count_statistics == "poisson":
        darks = rng.poisson(dark_count_mean(det), size=photons.shape)
    else:
        darks = (rng.random(photons.shape) < dark_count_probability(det)).astype(int)
    counts = photons + darks
    fid_of = {}
    successes, fids = 0, []
    for i in range(trials):
        label = _herald(scheme, detectors, tuple(int(c) for c in counts[i]), det)
        if label is None:
            continue
        successes += 1
        key = (which[i], label)
        if key not in fid_of:
            op = ops[patterns[which[i]]]
            ket = bell_state(label)
            fid_of[key] = float(np.real(ket.conj() @ op @ ket) / np.trace(op).real)
        fids.append(fid_of[key])
    if scheme == "double_click":
        p = double_click_success_probability(eta_a=eta_a, eta_b=eta_b, bsm=bsm)
        f = double_click_fidelity(eta_a=eta_a, eta_b=eta_b, bsm=bsm)
    else:
        p = single_click_success_probability(eta_a=eta_a, eta_b=eta_b, bsm=bsm)
        f = single_click_fidelity(eta_a=eta_a, eta_b=eta_b, bsm=bsm)
    assert abs(successes - trials * p) <= K * math.sqrt(trials * p * (1 - p))
    values = np.array(fids)
    assert abs(values.mean() - f) <= K * values.std(ddof=1) / math.sqrt(len(values))
