"""SPDC entangled-photon-pair source: pair statistics, heralded states, event-level component.

Pair-number statistics
----------------------
A single-mode two-mode squeezed vacuum has thermal pair statistics
``P(n) = mu^n / (1 + mu)^(n + 1)`` with mean ``mu`` pairs per pulse (DESIGN.md §3;
Takesue & Shimizu, Opt. Commun. 283, 276 (2010), Eq. (1)); a highly multimode source tends to
Poisson statistics ``P(n) = e^-mu mu^n / n!`` (same reference). Both are available
(``SpdcParams.pair_statistics``). Sampling: thermal ``n = Geometric(1/(1+mu)) - 1``.

Multi-pair model
----------------
The ``n`` pairs of a pulse are treated as ``n`` *distinguishable* pairs, each in the target
Bell state (the independent-pairs picture of multi-pair noise; Takesue & Shimizu 2010
treat distinguishable and indistinguishable pairs). Each photon is lost independently with
its arm efficiency. Bosonic bunching of pairs emitted into
a single mode is not modelled (it would weight the ``n + 1`` polarisation configurations per
arm uniformly instead of binomially); this is the documented approximation.

Heralded state 1: polarisation-analysed coincidence (:func:`spdc_heralded_state`)
-------------------------------------------------------------------------------
Each arm ends in a polarisation analyser with one detector per output (threshold or PNR,
with dark counts). A herald is: in each arm exactly one detector reports "one" (a click,
or exactly one count for PNR) and the other nothing. Derivation (exact sum over ``n``):

* In the target's Z basis, ``k ~ Binomial(n, 1/2)`` pairs are in one correlated configuration
  and ``n - k`` in the other, so each detector sees ``k`` or ``n - k`` photons.
* A detector fed ``m`` photons, each registered with ``t = coupling * eta * eta_d``, reports
  nothing with ``zbar(m) = (1-t)^m Z0`` and "one" with
  ``obar(m) = (1-t)^m O0 + m t (1-t)^(m-1) O1 + [rest] O2`` (``O``, ``Z`` of
  :mod:`hardware_models.detector`; threshold ``O0 = p_dc``, ``O1 = O2 = 1``).
* The heralded pair shows the target's Z correlation with probability ``x = A / (A + C)``
  (``A`` correlated, ``C`` anti-correlated herald weight). The source, the losses and the
  detectors are invariant under the same rotation of both analysers (``U (x) U`` for ``Psi-``,
  conjugated by a local Pauli for the other Bell states), so the state reconstructed by
  Pauli tomography is the Werner state ``p |B><B| + (1-p) I/4`` with ``p = 2x - 1``:
  ``F = (1 + 3p) / 4`` (Werner, PRA 40, 4277 (1989)). Multi-pair terms thus mix the target
  with white noise, ``F = 1 - O(mu)``, as known for polarisation-entangled SPDC sources
  (Takesue & Shimizu 2010). Low-efficiency limit (ideal detectors, ``t -> 0``): a
  coincidence comes from the two photons of one pair (weight ``E[n] t^2 = mu t^2``, always
  correlated) or of two different pairs (weight ``E[n(n-1)] t^2``, correlated half the
  time), so ``p = V = 1 / (1 + E[n(n-1)] / mu)``: ``1/(1 + 2 mu)`` for thermal and
  ``1/(1 + mu)`` for Poisson pair statistics (derived here; tested).
  Validated against the photon-level Monte Carlo :mod:`hardware_models.photon_mc`.

Heralded state 2: heralded storage in single-excitation memories (:func:`spdc_stored_state`)
-------------------------------------------------------------------------------------------
Used by the source-in-hub link (DESIGN.md §4). Each photon reaching a QPU is absorbed with
probability ``s = coupling * eta * write_efficiency``; a single-emitter memory stores at most
one excitation (Kalb et al., PRL 114, 220501 (2015): heralded storage of a photonic qubit in
a single atom), chosen uniformly among the absorbable photons, and emits a herald photon
detected with efficiency ``eta_h`` (threshold or PNR, dark counts). For ``n`` pairs, let
``j`` pairs have both photons absorbable, ``a1`` only photon a, ``b1`` only photon b
(multinomial), ``K_a = j + a1``, ``K_b = j + b1``. Herald at A has probability
``h(K_a) = eta_h O1 + (1 - eta_h) O0`` if ``K_a >= 1`` else ``O0`` (independent at B). The two
stored photons come from the same pair with probability ``j / (K_a K_b)``; then the memories
hold the target Bell state, otherwise photons of different pairs (each maximally mixed and
uncorrelated): ``I/4``. A dark-count herald of an empty memory gives ``I/4`` (assumption:
the empty memory's state is unknown). Hence a Werner state with
``F = (1 + 3 q) / 4``, ``q`` = herald-weighted mean of ``j / (K_a K_b)``.
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
    pair_statistics : {"thermal", "poisson"}
        Pair-number distribution: single-mode thermal (default, DESIGN.md §3) or multimode
        Poisson (Takesue & Shimizu 2010).
    """

    mu: float = Field(0.01, ge=0.0, le=1.0)
    repetition_rate_hz: float = Field(1.0e8, gt=0.0, le=1.0e11)
    bell_state: Literal["Psi+", "Psi-", "Phi+", "Phi-"] = "Psi+"
    coupling_efficiency_a: float = Field(1.0, ge=0.0, le=1.0)
    coupling_efficiency_b: float = Field(1.0, ge=0.0, le=1.0)
    pair_statistics: Literal["thermal", "poisson"] = "thermal"


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
        else:
            p = math.exp(-mu + n * math.log(mu) - math.lgamma(n + 1))
        probs.append(p)
        total += p
        n += 1
        if 1.0 - total < _TAIL or n > 400:
            return tuple(probs)


def pair_number_distribution(params: SpdcParams) -> np.ndarray:
    """``P(n)`` for ``n = 0 .. n_max`` (tail beyond ``n_max`` below 1e-15).

    Thermal ``mu^n / (1+mu)^(n+1)`` or Poisson ``e^-mu mu^n / n!`` (Takesue & Shimizu 2010).

    Examples
    --------
    >>> p = pair_number_distribution(SpdcParams(mu=0.1))
    >>> round(float(p[0]), 6), round(float(p[1]), 6)
    (0.909091, 0.082645)
    """
    return np.array(_distribution(params.mu, params.pair_statistics))


def sample_pair_number(params: SpdcParams, rng: np.random.Generator, size: int | None = None) -> Any:
    """Sample pair numbers per pulse (an int, or an int array of shape ``size``).

    Thermal: ``Geometric(1/(1+mu)) - 1``; Poisson: ``Poisson(mu)``.
    """
    if params.mu == 0.0:
        return 0 if size is None else np.zeros(size, dtype=np.int64)
    if params.pair_statistics == "thermal":
        out = rng.geometric(1.0 / (1.0 + params.mu), size=size) - 1
    else:
        out = rng.poisson(params.mu, size=size)
    return int(out) if size is None else out


def werner_state(fidelity: float, bell_index: int) -> np.ndarray:
    """``F |B><B| + (1-F)/3 (I - |B><B|)`` as a 4x4 complex array."""
    from modenhub_net.qubits import werner_dm

    return np.asarray(werner_dm(min(1.0, max(0.0, fidelity)), bell_index=bell_index), dtype=complex)


# -- polarisation-analysed coincidence ---------------------------------------------------
def _obar_zbar(m: np.ndarray, t: float, oz: tuple[float, float, float, float]):
    z0, o0, o1, o2 = oz
    none = (1.0 - t) ** m
    one = m * t * (1.0 - t) ** np.maximum(m - 1, 0)
    rest = 1.0 - none - one
    return none * o0 + one * o1 + rest * o2, none * z0


@lru_cache(maxsize=1024)
def _coincidence(params: SpdcParams, eta_a: float, eta_b: float, det: DetectorParams):
    from scipy.stats import binom

    ta = params.coupling_efficiency_a * eta_a * det.efficiency
    tb = params.coupling_efficiency_b * eta_b * det.efficiency
    oz = _oz(det)
    p_n = _distribution(params.mu, params.pair_statistics)
    good = bad = 0.0
    for n, pn in enumerate(p_n):
        k = np.arange(n + 1)
        w = binom.pmf(k, n, 0.5)
        # arm a: detector 0 sees k photons, detector 1 sees n-k; arm b correlated (target basis)
        oa0, za0 = _obar_zbar(k, ta, oz)
        oa1, za1 = _obar_zbar(n - k, ta, oz)
        ob0, zb0 = _obar_zbar(k, tb, oz)
        ob1, zb1 = _obar_zbar(n - k, tb, oz)
        a0, a1 = oa0 * za1, za0 * oa1
        b0, b1 = ob0 * zb1, zb0 * ob1
        good += pn * float(np.sum(w * (a0 * b0 + a1 * b1)))
        bad += pn * float(np.sum(w * (a0 * b1 + a1 * b0)))
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
    sa = params.coupling_efficiency_a * eta_a * write_a
    sb = params.coupling_efficiency_b * eta_b * write_b
    z0, o0, o1, _ = _oz(det)
    eh = det.efficiency
    h_yes = eh * o1 + (1.0 - eh) * o0
    h_no = o0
    q = np.array([sa * sb, sa * (1 - sb), (1 - sa) * sb, (1 - sa) * (1 - sb)])
    with np.errstate(divide="ignore"):
        logq = np.log(q)
    p_n = _distribution(params.mu, params.pair_statistics)
    n_max = len(p_n) - 1
    grid = np.arange(n_max + 1)
    j, a1, b1 = (g.ravel() for g in np.meshgrid(grid, grid, grid, indexing="ij"))
    lgam = np.array([math.lgamma(k + 1) for k in range(n_max + 1)])
    ka, kb = j + a1, j + b1
    h = np.where(ka > 0, h_yes, h_no) * np.where(kb > 0, h_yes, h_no)
    frac = np.where((ka > 0) & (kb > 0), j / np.maximum(ka * kb, 1), 0.0)

    def term(c: np.ndarray, lq: float) -> np.ndarray:
        return np.where(c > 0, c * lq, 0.0) if np.isfinite(lq) else np.where(c > 0, -np.inf, 0.0)

    base = term(j, logq[0]) + term(a1, logq[1]) + term(b1, logq[2]) - lgam[j] - lgam[a1] - lgam[b1]
    herald = same = 0.0
    for n, pn in enumerate(p_n):
        r = n - j - a1 - b1
        ok = r >= 0
        lw = base[ok] + term(r[ok], logq[3]) - lgam[r[ok]] + lgam[n]
        w = pn * np.exp(lw) * h[ok]
        herald += float(np.sum(w))
        same += float(np.sum(w * frac[ok]))
    return herald, same


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
    """Fidelity ``(1 + 3 q)/4`` of the stored pair to the target (module docstring, state 2)."""
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

    Each pulse samples ``n`` pairs (:func:`sample_pair_number`), creates ``n`` pairs of
    photon qubits in ``params.bell_state`` and loses each photon independently with
    ``1 - coupling_efficiency``. Port ``a`` receives ``Message(photons_a, meta)`` with the
    arm-a photons (lost ones as ``None``; ``(None,)`` when ``n = 0``), port ``b`` likewise;
    ``photons_a[i]`` and ``photons_b[i]`` are the two photons of pair ``i``.
    ``meta = {"header": "photons", "pulse": index, "n_pairs": n, "time_ns": t}``.

    Parameters
    ----------
    name : str
        Component name.
    sim : Simulation
        Owning simulation.
    params : SpdcParams
        Source parameters.
    """

    def __init__(self, name: str, *, sim: Simulation, params: SpdcParams) -> None:
        super().__init__(name, sim=sim, port_names=("a", "b"))
        self.params = params
        self.period_ns = spdc_attempt_period_ns(params)
        self._bell = BELL_INDEX[params.bell_state]
        self.pulses = 0
        self._n_pairs = 0
        self._n_lost = 0

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

    def counters(self) -> dict[str, int]:
        """All counters of this source as a plain dict (names as the properties)."""
        return {
            "n_pulses": self.pulses,
            "n_pairs": self._n_pairs,
            "n_photons_sent": self.n_photons_sent,
            "n_photons_lost": self._n_lost,
        }

    def emit(self) -> int:
        """Emit one pulse now; returns the number of pairs ``n``."""
        from modenhub_net.qubits import create_bell_pair, lose

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
            for _ in range(n):
                qa, qb = create_bell_pair(self._bell)
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
