"""Single-photon detectors: efficiency, dark counts, threshold or number resolving, dead time.

Physics (DESIGN.md §3; Hadfield, Nat. Photon. 3, 696 (2009))
-------------------------------------------------------------
* Each incident photon is registered independently with efficiency ``eta``.
* Dark counts are a Poisson process of rate ``R``; within a detection window ``tau`` the
  number of dark counts is Poisson with mean ``lambda = R * tau`` and the probability of at
  least one is ``p_dc = 1 - exp(-R * tau)`` (``dark_count_statistics = "poisson"``, default).
  Alternatively (``"at_most_one"``) a window holds at most one dark count, present with
  probability ``p_dc = 1 - exp(-R * tau)``: the model of the NetSquid physical-layer detectors
  (netsquid-physlayer, SoftwareQuTech; Coopmans et al., Commun. Phys. 4, 164 (2021)). Both
  give the same click probability of a threshold detector; they differ for a PNR detector
  when two or more dark counts (probability ``O(lambda^2)``) fall in one window.
* A *threshold* (click / no-click) detector clicks with
  ``P(click | n) = 1 - (1 - eta)**n * (1 - p_dc)``.
* A *number-resolving* (PNR) detector reports ``k`` = registered photons (Binomial(n, eta))
  plus dark counts (Poisson(lambda), or Bernoulli(p_dc) for ``"at_most_one"``).
* Dead time (non-paralysable): after a registered click the detector is blind for
  ``dead_time_ns``; a click inside that interval is not registered and does not extend it.
  For windows opened every ``T`` ns with click probability ``p`` each, a renewal argument gives
  the registered fraction ``p / (1 + m p)`` with ``m = ceil(dead_time / T) - 1`` blind windows
  after each click (Müller, Nucl. Instrum. Methods 112, 47 (1973) for non-paralysable dead time):
  a cycle is ``m`` blind windows plus a Geometric(p) wait ending in the registered click, of mean
  ``m + 1/p`` windows (renewal-reward theorem; Ross, *Stochastic Processes*, 2nd ed., §3.6).

The *one-count* and *zero-count* functions :func:`one_count_probability` and
:func:`zero_count_probability` are the building blocks that the BSM and SPDC closed forms use
for both detector kinds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import Field

from modenhub_net.components import Component, Message
from modenhub_net.config import ParamsModel
from modenhub_net.errors import UserInputError
from modenhub_net.simulation import Simulation

__all__ = [
    "Detector",
    "detect_batch",
    "DetectorParams",
    "click_probability",
    "dark_count_mean",
    "dark_count_probability",
    "blind_windows",
    "one_count_probability",
    "registered_click_fraction",
    "zero_count_probability",
]


class DetectorParams(ParamsModel):
    """Parameters of a single-photon detector.

    Parameters
    ----------
    efficiency : float
        System detection efficiency in [0, 1]. Default 0.9: SNSPD system efficiency > 90% at
        1550 nm (Marsili et al., Nat. Photon. 7, 210 (2013)).
    dark_count_rate_hz : float
        Dark-count rate in Hz, in [0, 1e9]. Default 10 Hz: SNSPDs reach ~1 cps when shielded
        and < 100 cps in practice (Marsili et al. 2013; Hadfield, Nat. Photon. 3, 696 (2009)).
    window_ns : float
        Detection window in ns, in (0, 1e9]. Default 10 ns (a few emitter lifetimes; an
        assumption to set per platform).
    number_resolving : bool
        True for a photon-number-resolving detector, False (default) for a threshold
        (click/no-click) detector, the usual SNSPD/SPAD mode (Hadfield 2009).
    dead_time_ns : float
        Non-paralysable dead time (reset time) in ns, in [0, 1e9]. Default 40 ns: SNSPD reset
        time (Marsili et al. 2013).
    dark_count_statistics : {"poisson", "at_most_one"}
        Number of dark counts in one window: Poisson with mean ``R * tau`` (default; a Poisson
        dark-count process, Hadfield 2009), or at most one, present with probability
        ``1 - exp(-R * tau)`` (the NetSquid physical-layer detector model, netsquid-physlayer;
        Coopmans et al., Commun. Phys. 4, 164 (2021)). Matters only for number-resolving
        detectors (module docstring).
    """

    efficiency: float = Field(0.9, ge=0.0, le=1.0)
    dark_count_rate_hz: float = Field(10.0, ge=0.0, le=1.0e9)
    window_ns: float = Field(10.0, gt=0.0, le=1.0e9)
    number_resolving: bool = False
    dead_time_ns: float = Field(40.0, ge=0.0, le=1.0e9)
    dark_count_statistics: Literal["poisson", "at_most_one"] = "poisson"


def dark_count_mean(params: DetectorParams) -> float:
    """Mean ``lambda = R * tau`` of the Poisson dark-count number per window.

    With ``dark_count_statistics = "at_most_one"`` the mean number of dark counts per window
    is :func:`dark_count_probability` instead (at most one count).
    """
    return params.dark_count_rate_hz * params.window_ns * 1e-9


def dark_count_probability(params: DetectorParams) -> float:
    """Probability of at least one dark count per window, ``p_dc = 1 - exp(-R * tau)``."""
    return -math.expm1(-dark_count_mean(params))


def click_probability(n_photons: int, params: DetectorParams) -> float:
    """Probability of a click (threshold) or of >= 1 count (PNR) for ``n_photons`` incident photons.

    ``P = 1 - (1 - eta)**n * (1 - p_dc)`` (Hadfield 2009; DESIGN.md §3).

    Examples
    --------
    >>> p = DetectorParams(efficiency=0.5, dark_count_rate_hz=0.0)
    >>> click_probability(2, p)
    0.75
    """
    if n_photons < 0:
        raise UserInputError(f"n_photons = {n_photons!r} must be >= 0")
    return 1.0 - (1.0 - params.efficiency) ** n_photons * (1.0 - dark_count_probability(params))


def zero_count_probability(k_detected: int, params: DetectorParams) -> float:
    """``Z(k)``: probability that a detector reports nothing, given ``k`` *registered* photons.

    ``Z(0) = 1 - p_dc``, ``Z(k >= 1) = 0`` (both detector kinds).
    """
    return (1.0 - dark_count_probability(params)) if k_detected == 0 else 0.0


def one_count_probability(k_detected: int, params: DetectorParams) -> float:
    """``O(k)``: probability that a detector reports exactly "one", given ``k`` registered photons.

    Threshold: "one" is a click, ``O(0) = p_dc``, ``O(k >= 1) = 1``.
    PNR: exactly one count, dark counts Poisson(lambda):
    ``O(0) = lambda e^-lambda``, ``O(1) = e^-lambda``, ``O(k >= 2) = 0``; with at most one dark
    count per window (``dark_count_statistics = "at_most_one"``):
    ``O(0) = p_dc``, ``O(1) = 1 - p_dc``, ``O(k >= 2) = 0`` (module docstring).
    """
    if not params.number_resolving:
        return dark_count_probability(params) if k_detected == 0 else 1.0
    if params.dark_count_statistics == "at_most_one":
        p_dc = dark_count_probability(params)
        if k_detected == 0:
            return p_dc
        return 1.0 - p_dc if k_detected == 1 else 0.0
    lam = dark_count_mean(params)
    if k_detected == 0:
        return lam * math.exp(-lam)
    return math.exp(-lam) if k_detected == 1 else 0.0


@lru_cache(maxsize=512)
def _oz(params: DetectorParams) -> tuple[float, float, float, float]:
    """``(Z0, O0, O1, O2)`` cached per parameter set."""
    return (
        zero_count_probability(0, params),
        one_count_probability(0, params),
        one_count_probability(1, params),
        one_count_probability(2, params),
    )


def registered_click_fraction(click_prob: float, period_ns: float, params: DetectorParams) -> float:
    """Fraction of windows with a *registered* click under non-paralysable dead time.

    Windows open every ``period_ns``; each would click with ``click_prob``. After a registered
    click, the ``m = ceil(dead_time_ns / period_ns) - 1`` following windows are blind (those
    at ``k * period_ns < dead_time_ns``, ``k >= 1``, exactly as :class:`Detector` decides), so
    the renewal-reward theorem gives ``p / (1 + m p)`` (Müller, Nucl. Instrum. Methods 112, 47
    (1973); module docstring).

    Parameters
    ----------
    click_prob : float
        Click probability of one window in [0, 1] without dead time
        (e.g. :func:`click_probability`).
    period_ns : float
        Time between windows in ns, > 0 and finite.
    params : DetectorParams
        Detector (its ``dead_time_ns``).

    Examples
    --------
    >>> registered_click_fraction(0.5, 10.0, DetectorParams(dead_time_ns=25.0))  # m = 2
    0.25
    """
    from modenhub_net.errors import check_range

    p = check_range("click_prob", click_prob, low=0.0, high=1.0)
    if isinstance(period_ns, bool) or not isinstance(period_ns, (int, float)) or not (
        0 < period_ns < math.inf
    ):
        raise UserInputError(f"period_ns = {period_ns!r} must be a finite number > 0")
    m = blind_windows(period_ns, params)
    return p / (1.0 + m * p)


#: A click this close (ns) to the end of the dead time counts as after it: time stamps that
#: are sums of floats (``0.7 - 0.4 = 0.29999999999999993``) must not make a window that ends the
#: dead time exactly blind on some clicks and not on others. 1e-6 ns is far below any jitter.
DEAD_TIME_TOLERANCE_NS = 1e-6


def blind_windows(period_ns: float, params: DetectorParams) -> int:
    """Number ``m`` of windows, every ``period_ns``, blinded by one registered click.

    ``m = #{k >= 1 : k * period_ns < dead_time_ns} = ceil(dead_time_ns / period_ns) - 1``; a
    window within :data:`DEAD_TIME_TOLERANCE_NS` of the end of the dead time is not blind, as
    in :class:`Detector`, so both agree when the ratio is an integer.
    """
    dead = params.dead_time_ns - DEAD_TIME_TOLERANCE_NS
    if dead <= 0:
        return 0
    m = max(0, math.ceil(dead / period_ns) - 1)
    while (m + 1) * period_ns < dead:
        m += 1
    while m > 0 and m * period_ns >= dead:
        m -= 1
    return m


class Detector(Component):
    """A detector component with input port ``in`` and output port ``click``.

    Every message arriving at ``in`` opens one detection window at the current time; its
    non-``None`` items are the incident photons, which are absorbed (discarded). If
    ``message.meta["encoding"] == "presence"`` the items are photon-number qubits (``|1>`` =
    one photon) and each is measured in Z to decide whether a photon arrived. The detector
    then sends ``Message((clicked,), meta={"header": "detection", "counts": k, "time_ns": t})``
    out of ``click``; ``counts`` is the number of registered counts (photons + dark counts;
    for a threshold detector 0 or 1). A click within ``dead_time_ns`` of the previous
    registered click is not registered (``clicked`` False, ``meta["dead"]`` True; a click at
    the end of the dead time within :data:`DEAD_TIME_TOLERANCE_NS` is registered).

    Parameters
    ----------
    name : str
        Component name.
    sim : Simulation
        Owning simulation.
    params : DetectorParams
        Detector parameters.

    Notes
    -----
    Counters (read-only properties, also :meth:`counters`): :attr:`n_windows`,
    :attr:`n_clicks`, :attr:`n_dark_clicks`, :attr:`n_dead_time_misses`,
    :attr:`n_photons_in`, :attr:`n_photons_registered`.
    """

    def __init__(self, name: str, *, sim: Simulation, params: DetectorParams) -> None:
        super().__init__(name, sim=sim, port_names=("in", "click"))
        self.params = params
        self._lam = dark_count_mean(params)
        self._p_dc = dark_count_probability(params)
        self._at_most_one = params.dark_count_statistics == "at_most_one"
        self._last_click_ns = -math.inf
        self.clicks = 0
        self.windows = 0
        self._n_dark = 0
        self._n_dead = 0
        self._n_photons_in = 0
        self._n_photons_registered = 0
        self.ports["in"].bind_input_handler(self._on_input)

    # -- counters (read-only) ---------------------------------------------------------
    @property
    def n_windows(self) -> int:
        """Detection windows opened."""
        return self.windows

    @property
    def n_clicks(self) -> int:
        """Windows with a registered click (>= 1 count, outside the dead time)."""
        return self.clicks

    @property
    def n_dark_clicks(self) -> int:
        """Registered clicks in windows where no photon was registered (dark counts only)."""
        return self._n_dark

    @property
    def n_dead_time_misses(self) -> int:
        """Windows that would have clicked but fell within ``dead_time_ns`` of the last click."""
        return self._n_dead

    @property
    def n_photons_in(self) -> int:
        """Photons incident on the detector, summed over windows."""
        return self._n_photons_in

    @property
    def n_photons_registered(self) -> int:
        """Incident photons registered (each with probability ``efficiency``)."""
        return self._n_photons_registered

    def counters(self) -> dict[str, int]:
        """All counters of this detector as a plain dict (names as the properties)."""
        return {
            "n_windows": self.windows,
            "n_clicks": self.clicks,
            "n_dark_clicks": self._n_dark,
            "n_dead_time_misses": self._n_dead,
            "n_photons_in": self._n_photons_in,
            "n_photons_registered": self._n_photons_registered,
        }

    def detect(
        self,
        n_photons: int,
        *,
        now_ns: float | None = None,
        photons_registered: bool = False,
        apply_dead_time: bool = True,
    ) -> int:
        """Register one window with ``n_photons`` incident photons; return the counts.

        Lean per-attempt entry point used by stations that own detectors.

        Parameters
        ----------
        n_photons : int
            Photons reaching the detector in this window (>= 0).
        now_ns : float, optional
            Window time in ns; default ``sim.now_ns``.
        photons_registered : bool, optional
            True if the efficiency was already applied upstream (a station that samples which
            photons are registered from the quantum state): the ``n_photons`` are all
            registered. Default False (each registered with ``efficiency``).
        apply_dead_time : bool, optional
            If False the window ignores (and does not start) the dead time. Default True.

        Returns
        -------
        int
            Counts (photons + dark counts; 0 or 1 for a threshold detector), or -1 if the
            window would have clicked within the dead time (missed, counted in
            :attr:`n_dead_time_misses`).
        """
        now = self.sim.now_ns if now_ns is None else now_ns
        self.windows += 1
        rng = self.rng
        eta = self.params.efficiency
        if photons_registered:
            registered = n_photons
        else:
            registered = int(rng.binomial(n_photons, eta)) if n_photons else 0
        self._n_photons_in += n_photons
        self._n_photons_registered += registered
        if self.params.number_resolving:
            if self._at_most_one:
                dark = 1 if self._p_dc > 0 and rng.random() < self._p_dc else 0
            else:
                dark = int(rng.poisson(self._lam)) if self._lam > 0 else 0
            counts = registered + dark
        else:
            counts = 1 if registered or (self._p_dc > 0 and rng.random() < self._p_dc) else 0
        if counts == 0:
            return 0
        if not apply_dead_time:
            self.clicks += 1
            if registered == 0:
                self._n_dark += 1
            return counts
        if now - self._last_click_ns < self.params.dead_time_ns - DEAD_TIME_TOLERANCE_NS:
            self._n_dead += 1
            return -1
        self._last_click_ns = now
        self.clicks += 1
        if registered == 0:
            self._n_dark += 1
        return counts

    def count(
        self,
        *,
        windows: int = 0,
        clicks: int = 0,
        dark_clicks: int = 0,
        dead_time_misses: int = 0,
        photons_in: int = 0,
        photons_registered: int = 0,
    ) -> None:
        """Add to the counters in bulk (what :meth:`detect` counts, for windows resolved
        elsewhere, e.g. by :func:`detect_batch`). Every value is an int >= 0."""
        self.windows += windows
        self.clicks += clicks
        self._n_dark += dark_clicks
        self._n_dead += dead_time_misses
        self._n_photons_in += photons_in
        self._n_photons_registered += photons_registered

    def _on_input(self, message: Message) -> None:
        from modenhub_net.qubits import discard, measure

        photons = [q for q in message.items if q is not None]
        if message.meta.get("encoding") == "presence":
            # photon-number qubits (|1> = one photon): the number of incident photons is the
            # Z-measurement outcome of each (the measurement collapses what they were
            # entangled with)
            n_photons = 0
            for qubit in photons:
                if getattr(qubit, "state", None) is not None:
                    n_photons += measure(qubit, self.rng, basis="Z", discard=True)
        else:
            n_photons = len(photons)
            for qubit in photons:
                if getattr(qubit, "state", None) is not None:
                    discard(qubit)
        counts = self.detect(n_photons)
        meta = {"header": "detection", "counts": max(counts, 0), "time_ns": self.sim.now_ns}
        if counts < 0:
            meta["dead"] = True
        self.ports["click"].tx_output(Message((counts > 0,), meta))



def detect_batch(
    detectors: Sequence[Detector],
    photons: np.ndarray,
    *,
    rng: np.random.Generator,
    now_ns: float,
    photons_registered: bool = False,
    apply_dead_time: bool = True,
) -> np.ndarray:
    """One detection window on each of ``detectors`` at ``now_ns``, resolved as one array step.

    The same physics as :meth:`Detector.detect` (module docstring: efficiency, dark counts
    Poisson or at most one per window, threshold or number resolving, non-paralysable dead
    time) for many windows at once; the draws come from ``rng`` (one array per kind of draw)
    and every detector's counters are updated as :meth:`Detector.detect` would.

    Parameters
    ----------
    detectors : sequence of Detector
        Detectors sharing one :class:`DetectorParams`; a detector may appear once only
        (its windows would otherwise be simultaneous).
    photons : numpy.ndarray of int
        Incident photons per detector (same length as ``detectors``, >= 0).
    rng : numpy.random.Generator
        Stream of the draws.
    now_ns : float
        Time of the windows, ns.
    photons_registered : bool, optional
        True if the efficiency was applied upstream (as in :meth:`Detector.detect`).
        Default False.
    apply_dead_time : bool, optional
        If False the windows ignore (and do not start) the dead time. Default True.

    Returns
    -------
    numpy.ndarray of int
        Counts per detector (0 or 1 for threshold detectors), -1 for a window that would have
        clicked within the dead time.
    """
    n = len(detectors)
    photons = np.asarray(photons, dtype=np.int64)
    if photons.shape != (n,):
        raise ValueError(f"photons has shape {photons.shape}, expected ({n},)")
    if n == 0:
        return photons
    params = detectors[0].params
    for d in detectors:
        if d.params is not params and d.params != params:
            raise ValueError("detect_batch: the detectors must share one DetectorParams")
    if photons_registered or not photons.any():
        registered = photons
    else:
        registered = rng.binomial(photons, params.efficiency)
    counts = _resolve_windows(detectors, photons.tolist(), registered.tolist(), rng=rng,
                              now_ns=now_ns, apply_dead_time=apply_dead_time)
    return np.asarray(counts, dtype=np.int64)


def _dark_counts(det0: Detector, n: int, rng: np.random.Generator) -> list[int] | None:
    """Dark counts of ``n`` windows of detectors with ``det0``'s parameters, one array draw
    (None, and nothing drawn, when the rate is 0): Poisson with mean ``lambda = R tau``, or
    at most one with ``p_dc = 1 - exp(-R tau)`` (number resolving, ``at_most_one``; a
    threshold detector only sees whether there was one). Module docstring."""
    if det0.params.number_resolving and not det0._at_most_one:
        return rng.poisson(det0._lam, n).tolist() if det0._lam > 0 else None
    if det0._p_dc > 0:
        return (rng.random(n) < det0._p_dc).astype(np.int64).tolist()
    return None


def _resolve_windows(
    detectors: Sequence[Detector],
    photons: list[int],
    registered: list[int],
    *,
    rng: np.random.Generator,
    now_ns: float,
    apply_dead_time: bool,
) -> list[int]:
    """Core of :func:`detect_batch` on lists (detectors sharing ``detectors[0].params``):
    dark counts drawn as one array (none drawn when the rate is 0), then each window's
    counts, dead time and counters. Returns the counts (-1: blind)."""
    det0 = detectors[0]
    params = det0.params
    n = len(detectors)
    dark = _dark_counts(det0, n, rng)
    if params.number_resolving:
        counts = registered if dark is None else [r + d for r, d in zip(registered, dark, strict=True)]
    else:
        if dark is not None:
            counts = [1 if r or d else 0 for r, d in zip(registered, dark, strict=True)]
        else:
            counts = [1 if r else 0 for r in registered]
    counts = list(counts)
    dead_ns = params.dead_time_ns - DEAD_TIME_TOLERANCE_NS
    use_dead = apply_dead_time and dead_ns > 0
    for i, d in enumerate(detectors):
        d.windows += 1
        if not counts[i]:
            if photons[i]:  # photons arrived, none registered
                d._n_photons_in += photons[i]
            continue
        r = registered[i]
        if photons[i]:
            d._n_photons_in += photons[i]
            d._n_photons_registered += r
        if use_dead:
            if now_ns - d._last_click_ns < dead_ns:
                d._n_dead += 1
                counts[i] = -1
                continue
            d._last_click_ns = now_ns
        d.clicks += 1
        if r == 0:
            d._n_dark += 1
    return counts
