"""Linear-optics Bell-state measurement (BSM) stations for detection-in-the-hub links.

Two photons, each entangled with a remote memory qubit, meet at a balanced beam splitter
followed by detectors (DESIGN.md §4). Linear optics identifies only Psi+ and Psi-, so an
ideal station succeeds with probability 1/2 (Calsamiglia & Lütkenhaus, Appl. Phys. B 72, 67
(2001)). The station is described by POVM effects on the photon qubits; the component
applies them to the actual photon states and keeps the post-measurement state of the
remote qubits, ``Tr_ph[(I x E_o) rho] / p_o``; the closed forms evaluate the same effects.

Notation: ``eta_A``, ``eta_B`` are the probabilities that a photon reaches the station
(emission x fibre x switch), ``e = detector.efficiency``, ``a = eta_A e``, ``b = eta_B e``;
per detection mode and window ``q0 = 1 - p_dc`` (no dark count) and ``q1`` = dark-count
probability giving a registered single count (``p_dc`` for threshold detectors,
``lambda exp(-lambda)`` with ``lambda = -ln(1-p_dc)`` for PNR detectors); ``s`` = factor
for a mode that a photon hit (1 threshold, ``q0`` PNR: an extra dark count spoils the count).

Double click (Barrett & Kok, PRA 71, 060310(R) (2005); time-bin photons, memory-photon
pairs |Phi+>): four detection modes (2 ports x 2 time bins); a herald is exactly two
clicks, one per time bin; same port -> Psi+, different ports -> Psi-. Per label:

* both photons detected and projected on that Psi (prob. ``a b / 4``), no dark count in the
  two silent modes: ``a b q0**2 s**2 / 4``; Hong-Ou-Mandel visibility ``V`` makes the port
  correlation imperfect, i.e. dephases the heralded pair: ``F = (1+V)/2`` for perfect
  emission (the Barrett-Kok fidelity, DESIGN.md §3); the emission Werner pairs compose to
  Werner parameter ``w_A w_B`` (``w = (4F-1)/3``) before that dephasing;
* both detected but projected on Phi (photons share a time bin and bunch with probability
  ``(1+V)/2``; threshold only) plus one dark count completing the pattern:
  ``a b (1+V)/2 q1 q0**2 / 2``, heralded state ``(|Phi+><Phi+| + |Phi-><Phi-|)/2``
  (Werner-mixed), fidelity 0;
* one photon detected plus a completing dark count: ``(a(1-b) + b(1-a)) s q1 q0**2``;
  one memory is unpaired, fidelity 1/4 (state taken as ``I/4``);
* no photon detected, two dark counts in one of the two patterns of the label:
  ``2 (1-a)(1-b) q1**2 q0**2``, state ``I/4``.

Without dark counts: ``P = a b / 2``, ``F = (1+V)/2`` (times the emission fidelities' product
as above).

Single click (Cabrillo et al., PRA 59, 1025 (1999); Humphreys et al., Nature 558, 268
(2018); Hermans et al., New J. Phys. 25, 013011 (2023)): each memory is prepared in
``sqrt(1-alpha)|0> + sqrt(alpha)|1>`` and |1> emits a photon (presence encoding); loss is
amplitude damping; the photons meet at a beam splitter with two detectors and exactly one
click heralds (D+ -> Psi+, D- -> Psi-). With mode overlap ``sqrt(V)`` (single-photon
interference contrast; V is the two-photon HOM visibility), the unnormalised heralded state
for D+ in the basis ``|m_A m_B>`` is

* ``<00|rho|00> = (1-alpha)**2 q1 q0``
* ``<10|rho|10> = alpha(1-alpha) (a s q0/2 + (1-a) q1 q0)`` (``b`` for ``<01|rho|01>``)
* ``<10|rho|01> = alpha(1-alpha) sqrt(V) sqrt(a b) s q0 / 2``
* ``<11|rho|11> = alpha**2 (a b (1+V)/4 q0 [threshold] + (a(1-b)+b(1-a)) s q0/2 + (1-a)(1-b) q1 q0)``

(two photons bunch into one detector with probability (1+V)/2; a PNR detector rejects
them). Success ``P = 2 Tr rho``; without dark counts and for ``a = b = eta``:
``P = 2 alpha eta (1 - alpha eta (3-V)/4)`` ~ ``2 alpha eta`` and
``F = (1-alpha)(1+sqrt(V))/2 / (1 - alpha eta (3-V)/4)`` ~ ``(1-alpha)(1+sqrt(V))/2``.
Approximations: no phase noise between the arms, photon distinguishability as pure mode
mismatch, no double excitation of an emitter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from pydantic import Field

from hardware_models.detector import DetectorParams, dark_count_probability
from modenhub_net.components import Component, Message
from modenhub_net.config import ParamsModel
from modenhub_net.errors import check_range
from modenhub_net.simulation import Simulation

__all__ = [
    "BsmHerald",
    "BsmParams",
    "BsmStation",
    "bright_state_pair",
    "double_click_fidelity",
    "double_click_herald",
    "double_click_heralded_state",
    "double_click_success_probability",
    "photon_effects",
    "single_click_fidelity",
    "single_click_herald",
    "single_click_heralded_state",
    "single_click_success_probability",
]

_R = 1.0 / math.sqrt(2.0)
_BELL = np.array([[_R, 0, 0, _R], [_R, 0, 0, -_R], [0, _R, _R, 0], [0, _R, -_R, 0]], dtype=complex)
_PROJ = np.array([np.outer(k, k.conj()) for k in _BELL])
PHI_PLUS, PHI_MINUS, PSI_PLUS, PSI_MINUS = 0, 1, 2, 3
LABELS = ("Phi+", "Phi-", "Psi+", "Psi-")


class BsmParams(ParamsModel):
    """Parameters of a linear-optics BSM station.

    Parameters
    ----------
    scheme : {"double_click", "single_click"}
        Heralding scheme. Default "double_click" (Barrett & Kok, PRA 71, 060310 (2005)).
    visibility : float
        Hong-Ou-Mandel visibility V of the two photons, in [0, 1]. Default 1 (identical
        photons; ~0.9 between remote NV centres, Humphreys et al., Nature 558, 268 (2018)).
    bright_state_alpha : float
        Single click only: bright-state population alpha, in (0, 1). Default 0.1
        (alpha ~ 0.05-0.1 in Humphreys et al. 2018; DESIGN.md §3).
    coincidence_window_ns : float
        Largest arrival-time difference of the two photons in ns, in [0, 1e12]. Default
        10 ns (of the order of the photon length; assumption).
    detector : DetectorParams
        The station's detectors (all alike). Default :class:`DetectorParams()`.
    """

    scheme: Literal["double_click", "single_click"] = "double_click"
    visibility: float = Field(1.0, ge=0.0, le=1.0)
    bright_state_alpha: float = Field(0.1, gt=0.0, lt=1.0)
    coincidence_window_ns: float = Field(10.0, ge=0.0, le=1e12)
    detector: DetectorParams = DetectorParams()


@dataclass(frozen=True)
class BsmHerald:
    """Closed-form outcome of one BSM attempt.

    Attributes
    ----------
    probability : float
        Success probability (Psi+ or Psi- heralded).
    probability_by_label : tuple of float
        (P(Psi+), P(Psi-)).
    fidelity : float
        Mean fidelity of the heralded state with the heralded Bell state.
    states : tuple of numpy.ndarray
        Normalised heralded 4x4 states (memory A first) for Psi+ and Psi- heralds.
    """

    probability: float
    probability_by_label: tuple[float, float]
    fidelity: float
    states: tuple[np.ndarray, np.ndarray]

    def state(self, label: str = "Psi+") -> np.ndarray:
        """Heralded state for ``label`` ("Psi+" or "Psi-"), a copy."""
        return self.states[("Psi+", "Psi-").index(label)].copy()


def _dark_terms(det: DetectorParams) -> tuple[float, float, float, float]:
    """(q0, q1, s, thr) of the module docstring."""
    p_dc = dark_count_probability(det)
    q0 = 1.0 - p_dc
    if det.number_resolving:
        lam = -math.log1p(-p_dc) if p_dc < 1.0 else math.inf
        return q0, lam * q0, q0, 0.0
    return q0, p_dc, 1.0, 1.0


def _check_eta(eta_a: float, eta_b: float) -> None:
    check_range("eta_a", eta_a, low=0.0, high=1.0)
    check_range("eta_b", eta_b, low=0.0, high=1.0)


def _bell_diag(weights) -> np.ndarray:
    return np.einsum("k,kij->ij", np.asarray(weights, dtype=float), _PROJ)


# -- double click ------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _double_click(eta_a: float, eta_b: float, bsm: BsmParams, fa: float, fb: float) -> BsmHerald:
    e = bsm.detector.efficiency
    a, b = eta_a * e, eta_b * e
    q0, q1, s, thr = _dark_terms(bsm.detector)
    v = bsm.visibility
    w = (4 * fa - 1) / 3 * (4 * fb - 1) / 3  # Werner parameter after swapping
    p_true = a * b * q0**2 * s**2 / 4
    p_phi = a * b * (1 + v) / 2 * q1 * q0**2 / 2 * thr
    p_mixed = (a * (1 - b) + b * (1 - a)) * s * q1 * q0**2 + 2 * (1 - a) * (1 - b) * q1**2 * q0**2
    states, probs, fid_num = [], [], 0.0
    for label, other in ((PSI_PLUS, PSI_MINUS), (PSI_MINUS, PSI_PLUS)):
        base = np.full(4, (1 - w) / 4)
        base[label] += w
        deph = (1 - v) / 2
        true_w = base.copy()
        true_w[label], true_w[other] = (1 - deph) * base[label] + deph * base[other], (1 - deph) * base[
            other
        ] + deph * base[label]
        phi_w = np.full(4, (1 - w) / 4)
        phi_w[[PHI_PLUS, PHI_MINUS]] += w / 2
        total = p_true + p_phi + p_mixed
        probs.append(total)
        if total > 0:
            weights = (p_true * true_w + p_phi * phi_w + p_mixed * np.full(4, 0.25)) / total
        else:
            weights = true_w
        states.append(_bell_diag(weights).astype(complex))
        fid_num += total * weights[label]
    p = probs[0] + probs[1]
    fidelity = fid_num / p if p > 0 else float(np.real(states[0][2, 2] + states[0][1, 1]) / 2)
    return BsmHerald(p, (probs[0], probs[1]), float(fidelity), (states[0], states[1]))


def double_click_herald(
    eta_a: float,
    eta_b: float,
    bsm: BsmParams,
    *,
    emission_fidelity_a: float = 1.0,
    emission_fidelity_b: float = 1.0,
) -> BsmHerald:
    """Double-click (Barrett-Kok) success probability and heralded states (module docstring).

    Parameters
    ----------
    eta_a, eta_b : float
        Probability in [0, 1] that each photon reaches the station (the station's detector
        efficiency is applied here, from ``bsm.detector``).
    bsm : BsmParams
        Visibility and detectors (``scheme`` is not checked).
    emission_fidelity_a, emission_fidelity_b : float, optional
        Fidelity in [0.25, 1] of each memory-photon Werner pair with |Phi+>. Default 1.
    """
    _check_eta(eta_a, eta_b)
    check_range("emission_fidelity_a", emission_fidelity_a, low=0.25, high=1.0)
    check_range("emission_fidelity_b", emission_fidelity_b, low=0.25, high=1.0)
    return _double_click(
        float(eta_a), float(eta_b), bsm, float(emission_fidelity_a), float(emission_fidelity_b)
    )


def double_click_success_probability(eta_a: float, eta_b: float, bsm: BsmParams, **kwargs) -> float:
    """Success probability; ``a b / 2`` without dark counts (Barrett & Kok 2005)."""
    return double_click_herald(eta_a, eta_b, bsm, **kwargs).probability


def double_click_fidelity(eta_a: float, eta_b: float, bsm: BsmParams, **kwargs) -> float:
    """Heralded fidelity; ``(1+V)/2`` without dark counts and with perfect emission."""
    return double_click_herald(eta_a, eta_b, bsm, **kwargs).fidelity


def double_click_heralded_state(
    eta_a: float, eta_b: float, bsm: BsmParams, *, label: str = "Psi+", **kwargs
) -> np.ndarray:
    """Heralded 4x4 state for ``label`` (Psi+ or Psi-), memory A first."""
    return double_click_herald(eta_a, eta_b, bsm, **kwargs).state(label)


# -- single click ------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _single_click(eta_a: float, eta_b: float, bsm: BsmParams) -> BsmHerald:
    e = bsm.detector.efficiency
    a, b = eta_a * e, eta_b * e
    q0, q1, s, thr = _dark_terms(bsm.detector)
    v, alpha = bsm.visibility, bsm.bright_state_alpha
    ab = alpha * (1 - alpha)
    states, probs, fid_num = [], [], 0.0
    for sign, ket in ((1.0, _BELL[PSI_PLUS]), (-1.0, _BELL[PSI_MINUS])):
        rho = np.zeros((4, 4), dtype=complex)
        rho[0, 0] = (1 - alpha) ** 2 * q1 * q0
        rho[2, 2] = ab * (a * s * q0 / 2 + (1 - a) * q1 * q0)
        rho[1, 1] = ab * (b * s * q0 / 2 + (1 - b) * q1 * q0)
        rho[2, 1] = rho[1, 2] = sign * ab * math.sqrt(v * a * b) * s * q0 / 2
        rho[3, 3] = alpha**2 * (
            a * b * (1 + v) / 4 * q0 * thr
            + (a * (1 - b) + b * (1 - a)) * s * q0 / 2
            + (1 - a) * (1 - b) * q1 * q0
        )
        total = float(np.trace(rho).real)
        probs.append(total)
        fid_num += float(np.vdot(ket, rho @ ket).real)
        states.append(rho / total if total > 0 else np.outer(ket, ket))
    p = probs[0] + probs[1]
    fidelity = fid_num / p if p > 0 else 1.0
    return BsmHerald(p, (probs[0], probs[1]), fidelity, (states[0], states[1]))


def single_click_herald(eta_a: float, eta_b: float, bsm: BsmParams) -> BsmHerald:
    """Single-click success probability and heralded states (module docstring).

    Parameters
    ----------
    eta_a, eta_b : float
        Probability in [0, 1] that an emitted photon reaches the station (emission x
        fibre x switch); the station's detector efficiency is applied here.
    bsm : BsmParams
        ``bright_state_alpha``, visibility and detectors.
    """
    _check_eta(eta_a, eta_b)
    return _single_click(float(eta_a), float(eta_b), bsm)


def single_click_success_probability(eta_a: float, eta_b: float, bsm: BsmParams) -> float:
    """Success probability, ``~ 2 alpha eta`` for small ``alpha eta`` without dark counts."""
    return single_click_herald(eta_a, eta_b, bsm).probability


def single_click_fidelity(eta_a: float, eta_b: float, bsm: BsmParams) -> float:
    """Heralded fidelity, ``~ (1-alpha)(1+sqrt(V))/2`` (exact expression: module docstring)."""
    return single_click_herald(eta_a, eta_b, bsm).fidelity


def single_click_heralded_state(
    eta_a: float, eta_b: float, bsm: BsmParams, *, label: str = "Psi+"
) -> np.ndarray:
    """Heralded 4x4 state for ``label`` (Psi+ or Psi-), memory A first."""
    return single_click_herald(eta_a, eta_b, bsm).state(label)


def bright_state_pair(alpha: float) -> tuple[Any, Any]:
    """A memory qubit and its presence-encoded photon, ``sqrt(1-alpha)|00> + sqrt(alpha)|11>``.

    The single-click emission (Cabrillo et al. 1999; Humphreys et al. 2018); memory first.
    """
    from modenhub_net.qubits import assign_state, create_qubits

    check_range("alpha", alpha, low=0.0, high=1.0)
    memory, photon = create_qubits(2, names=["memory", "photon"])
    assign_state([memory, photon], np.array([math.sqrt(1 - alpha), 0, 0, math.sqrt(alpha)]))
    return memory, photon


# -- POVM effects on the photon qubits -------------------------------------------------------
@lru_cache(maxsize=1024)
def photon_effects(bsm: BsmParams, present: tuple[bool, bool]) -> tuple[np.ndarray, np.ndarray]:
    """Effects ``(E_Psi+, E_Psi-)`` on the photons that arrived (``present`` flags a, b).

    Photon-qubit dimension ``2**sum(present)`` (a 1x1 matrix when none arrived). Detector
    efficiency, dark counts, visibility and the herald rules are included; see the module
    docstring. Single click: a missing photon (``None``) is treated as vacuum.
    """
    e = bsm.detector.efficiency
    q0, q1, s, thr = _dark_terms(bsm.detector)
    v = bsm.visibility
    n = sum(present)
    if bsm.scheme == "double_click":
        if n == 2:
            deph = (1 - v) / 2
            phi = e * e * q1 * q0**2 * (1 + v) / 2 * thr * (_PROJ[PHI_PLUS] + _PROJ[PHI_MINUS])
            flat = (2 * e * (1 - e) * s * q1 * q0**2 + 2 * (1 - e) ** 2 * q1**2 * q0**2) * np.eye(4)
            good = e * e * q0**2 * s**2
            plus = good * ((1 - deph) * _PROJ[PSI_PLUS] + deph * _PROJ[PSI_MINUS]) + phi + flat
            minus = good * ((1 - deph) * _PROJ[PSI_MINUS] + deph * _PROJ[PSI_PLUS]) + phi + flat
            return plus, minus
        if n == 1:
            value = e * s * q1 * q0**2 + (1 - e) * 2 * q1**2 * q0**2
            return value * np.eye(2), value * np.eye(2)
        value = 2 * q1**2 * q0**2
        return np.array([[value]]), np.array([[value]])
    # single click, presence encoding; basis |n_a n_b>
    effects = []
    for sign in (1.0, -1.0):
        eff = np.zeros((4, 4), dtype=complex)
        eff[0, 0] = q1 * q0
        eff[2, 2] = eff[1, 1] = e * s * q0 / 2 + (1 - e) * q1 * q0
        eff[2, 1] = eff[1, 2] = sign * math.sqrt(v) * e * s * q0 / 2
        eff[3, 3] = e * e * (1 + v) / 4 * q0 * thr + e * (1 - e) * s * q0 + (1 - e) ** 2 * q1 * q0
        if n == 2:
            effects.append(eff)
        elif n == 1:
            keep = [0, 2] if present[0] else [0, 1]  # the other photon in |0>
            effects.append(eff[np.ix_(keep, keep)])
        else:
            effects.append(eff[:1, :1])
    return effects[0], effects[1]


class BsmStation(Component):
    """A BSM station with photon input ports ``a``, ``b`` and classical output ``herald``.

    Photons arriving on ``a`` and ``b`` within ``coincidence_window_ns`` of each other are
    measured together (a photon waiting longer is measured alone, its partner taken as
    lost). The POVM of :func:`photon_effects` is applied to the actual photon states; the
    photons are consumed and the remote qubits sharing their state keep the post-measurement
    state. Output: ``Message((label,), meta)`` with ``label`` "Psi+", "Psi-" or "failure"
    and meta ``{"header": "herald", "outcome": label, "success": bool, "bell_index": 2/3
    or None, "time_ns": t, "qubits": remote qubits, "state": their 4x4 density matrix
    (if two)}`` plus the meta of the photon messages (e.g. an attempt id).

    Parameters
    ----------
    name : str
        Component name.
    sim : Simulation
        Owning simulation.
    params : BsmParams
        Scheme, visibility, window, detectors.
    """

    def __init__(self, name: str, *, sim: Simulation, params: BsmParams) -> None:
        super().__init__(name, sim=sim, port_names=("a", "b", "herald"))
        self.params = params
        self._pending: dict[str, tuple[float, Message, int]] = {}
        self._token = 0
        self.attempts = 0
        self.successes = 0
        self.ports["a"].bind_input_handler(lambda m: self._on_input("a", m))
        self.ports["b"].bind_input_handler(lambda m: self._on_input("b", m))

    def _on_input(self, port: str, message: Message) -> None:
        now = self.sim.env.now
        other = "b" if port == "a" else "a"
        if other in self._pending:
            t_other, m_other, _ = self._pending.pop(other)
            if now - t_other <= self.params.coincidence_window_ns:
                pair = (message, m_other) if port == "a" else (m_other, message)
                self.measure(pair[0], pair[1])
                return
            self._measure_alone(other, m_other)
        if port in self._pending:
            self._measure_alone(port, self._pending.pop(port)[1])
        self._token += 1
        token = self._token
        self._pending[port] = (now, message, token)
        timer = self.sim.env.timeout(self.params.coincidence_window_ns)
        timer.callbacks.append(lambda _e: self._expire(port, token))

    def _expire(self, port: str, token: int) -> None:
        entry = self._pending.get(port)
        if entry is not None and entry[2] == token:
            del self._pending[port]
            self._measure_alone(port, entry[1])

    def _measure_alone(self, port: str, message: Message) -> None:
        empty = Message((None,), {})
        self.measure(message, empty) if port == "a" else self.measure(empty, message)

    def measure(self, message_a: Message, message_b: Message) -> str:
        """Measure the photons of two messages now and send the herald; return the label."""
        from modenhub_net.qubits import discard, reduced_dm

        self.attempts += 1
        pa = message_a.items[0] if message_a.items else None
        pb = message_b.items[0] if message_b.items else None
        photons = [q for q in (pa, pb) if q is not None]
        e_plus, e_minus = photon_effects(self.params, (pa is not None, pb is not None))
        rest: list = []
        for photon in photons:
            for qubit in photon.state.qubits:
                if qubit not in photons and qubit not in rest:
                    rest.append(qubit)
        k = len(photons)
        dim_p, dim_r = 1 << k, 1 << len(rest)
        if k:
            full = reduced_dm(rest + photons).reshape(dim_r, dim_p, dim_r, dim_p)
            rho_p = np.einsum("apaq->pq", full)
        else:
            full, rho_p = None, np.ones((1, 1))
        p_plus = float(np.real(np.sum(e_plus * rho_p.T)))
        p_minus = float(np.real(np.sum(e_minus * rho_p.T)))
        u = self.rng.random()
        if u < p_plus:
            label, effect, prob = "Psi+", e_plus, p_plus
        elif u < p_plus + p_minus:
            label, effect, prob = "Psi-", e_minus, p_minus
        else:
            label, effect, prob = "failure", np.eye(dim_p) - e_plus - e_minus, 1.0 - p_plus - p_minus
        state = None
        if k:
            for photon in photons:
                discard(photon)
            if rest:
                from modenhub_net.qubits import assign_state

                post = np.einsum("apbq,qp->ab", full, effect) / prob
                post = (post + post.conj().T) / 2
                assign_state(rest, post)
                state = post if len(rest) == 2 else None
        success = label != "failure"
        self.successes += success
        meta = {**message_b.meta, **message_a.meta}
        meta.update(
            header="herald", outcome=label, success=success,
            bell_index=LABELS.index(label) if success else None,
            time_ns=self.sim.now_ns, qubits=tuple(rest), state=state,
        )
        self.ports["herald"].tx_output(Message((label,), meta))
        return label
