"""Single-photon detectors: efficiency, dark counts, threshold or number resolving, dead time.

Physics (DESIGN.md §3; Hadfield, Nat. Photon. 3, 696 (2009), "Single-photon detectors for
optical quantum information applications", Box 1 and Table 1):

- each of ``n`` incident photons is registered independently with efficiency ``eta``;
- dark counts are a Poisson process of rate ``R``: in a window ``tau`` their number is
  Poisson(``lambda = R tau``) and a threshold detector sees at least one with
  ``p_dc = 1 - exp(-R tau)``;
- a *threshold* (click / no-click) detector clicks with
  ``P(click | n) = 1 - (1 - eta)**n (1 - p_dc)``;
- a *number-resolving* (PNR) detector reports ``k = Binomial(n, eta) + Poisson(lambda)``;
- after a registered click the detector is blind for ``dead_time_ns`` (non-paralysable:
  arrivals during the dead time neither click nor extend it; the SNSPD reset time,
  Marsili et al., Nat. Photon. 7, 210 (2013): ~40 ns).
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from modenhub_net.components import Component, Message
from modenhub_net.config import ParamsModel
from modenhub_net.errors import UserInputError
from modenhub_net.simulation import Simulation

__all__ = [
    "Detector",
    "DetectorParams",
    "click_probability",
    "count_probabilities",
    "dark_count_mean",
    "dark_count_probability",
    "dead_time_click_rate",
]


class DetectorParams(ParamsModel):
    """Single-photon detector parameters.

    Parameters
    ----------
    efficiency : float
        System detection efficiency eta in [0, 1]. Default 0.9: SNSPD system efficiency
        > 90 % at 1550 nm (Marsili et al., Nat. Photon. 7, 210 (2013); Hadfield 2009).
    dark_count_rate_hz : float
        Dark-count rate R in Hz, in [0, 1e9]. Default 10 Hz (SNSPDs: ~1 cps shielded,
        Marsili 2013; tens of Hz typical, Hadfield 2009 Table 1).
    window_ns : float
        Detection window tau in ns, in (0, 1e12]. Default 10 ns (a few photon lengths;
        assumption, photon-length dependent).
    number_resolving : bool
        True for photon-number resolution, False for threshold detection. Default False
        (standard SNSPDs are threshold detectors; Hadfield 2009).
    dead_time_ns : float
        Non-paralysable dead time after a click in ns, in [0, 1e12]. Default 40 ns
        (SNSPD reset time, Marsili et al. 2013).
    """

    efficiency: float = Field(0.9, ge=0.0, le=1.0)
    dark_count_rate_hz: float = Field(10.0, ge=0.0, le=1e9)
    window_ns: float = Field(10.0, gt=0.0, le=1e12)
    number_resolving: bool = False
    dead_time_ns: float = Field(40.0, ge=0.0, le=1e12)


def dark_count_mean(params: DetectorParams) -> float:
    """Mean number of dark counts in one window, ``lambda = R tau``."""
    return params.dark_count_rate_hz * params.window_ns * 1e-9


def dark_count_probability(params: DetectorParams) -> float:
    """Probability of at least one dark count in a window, ``p_dc = 1 - exp(-R tau)``.

    Examples
    --------
    >>> round(dark_count_probability(DetectorParams(dark_count_rate_hz=1e6, window_ns=100.0)), 6)
    0.095163
    """
    return -math.expm1(-dark_count_mean(params))


def click_probability(n_photons: int, params: DetectorParams) -> float:
    """Probability that ``n_photons`` incident photons give a detection event.

    Threshold detector: ``1 - (1-eta)**n (1-p_dc)`` (Hadfield 2009). Number-resolving
    detector: the probability of a count ``k >= 1``, the same number.

    Examples
    --------
    >>> click_probability(2, DetectorParams(efficiency=0.5, dark_count_rate_hz=0.0))
    0.75
    """
    if isinstance(n_photons, bool) or int(n_photons) != n_photons or n_photons < 0:
        raise UserInputError(f"n_photons = {n_photons!r} must be an integer >= 0")
    return 1.0 - (1.0 - params.efficiency) ** int(n_photons) * (1.0 - dark_count_probability(params))


def count_probabilities(n_photons: int, params: DetectorParams, *, k_max: int | None = None) -> np.ndarray:
    """Distribution of the reported count ``k = Binomial(n, eta) + Poisson(R tau)`` (PNR).

    Parameters
    ----------
    n_photons : int
        Incident photons, >= 0.
    params : DetectorParams
    k_max : int, optional
        Largest count returned (default ``n_photons + 5``); the tail above is dropped.

    Returns
    -------
    numpy.ndarray
        ``P(k)`` for ``k = 0 .. k_max``.
    """
    n = int(n_photons)
    k_max = n + 5 if k_max is None else int(k_max)
    eta = params.efficiency
    lam = dark_count_mean(params)
    signal = np.array([math.comb(n, j) * eta**j * (1 - eta) ** (n - j) for j in range(n + 1)])
    dark = np.array([math.exp(-lam) * lam**j / math.factorial(j) for j in range(k_max + 1)])
    return np.convolve(signal, dark)[: k_max + 1]


def dead_time_click_rate(p_click: float, *, period_ns: float, dead_time_ns: float) -> float:
    """Registered clicks per pulse for a periodic pulse train with a dead time.

    Each pulse (period T) would click with probability ``p``; after a registered click the
    next ``m`` pulses with ``j T < dead_time`` are blind (non-paralysable). A renewal
    argument (mean cycle ``1/p + m`` pulses, one click per cycle) gives ``p / (1 + m p)``
    (dead-time correction of a non-paralysable counter, e.g. Knoll, *Radiation Detection
    and Measurement*, 4th ed., §4.VII, in discrete time).
    """
    m = max(0, math.ceil(dead_time_ns / period_ns) - 1) if dead_time_ns > 0 else 0
    return p_click / (1.0 + m * p_click)


class Detector(Component):
    """A single-photon detector with input port ``qin`` and classical output ``cout``.

    Each message arriving on ``qin`` is one detection window: its items are photon qubits
    (``None`` = no photon). The photons are absorbed (discarded). The detector sends
    ``Message((count,), meta={"header": "click", "click": bool, "count": int,
    "time_ns": t})`` on ``cout`` for every window; ``count`` is 0/1 for a threshold
    detector. During the dead time after a registered click nothing is registered (count 0).

    Parameters
    ----------
    name : str
        Component name.
    sim : Simulation
        Owning simulation.
    params : DetectorParams
        Efficiency, dark counts, window, resolution, dead time.
    """

    def __init__(self, name: str, *, sim: Simulation, params: DetectorParams) -> None:
        super().__init__(name, sim=sim, port_names=("qin", "cout"))
        self.params = params
        self._lambda = dark_count_mean(params)
        self._p_dc = dark_count_probability(params)
        self._blind_until = -math.inf
        self.windows = 0
        self.clicks = 0
        self.blind_windows = 0
        self.ports["qin"].bind_input_handler(self._on_input)

    def detect(self, n_photons: int) -> int:
        """Register one window with ``n_photons`` incident photons now; return the count."""
        rng = self.rng
        now = self.sim.env.now
        self.windows += 1
        if now < self._blind_until:
            self.blind_windows += 1
            return 0
        eta = self.params.efficiency
        if self.params.number_resolving:
            count = int(rng.binomial(n_photons, eta)) if n_photons else 0
            if self._lambda > 0.0:
                count += int(rng.poisson(self._lambda))
        else:
            p_none = (1.0 - eta) ** n_photons * (1.0 - self._p_dc)
            count = int(rng.random() >= p_none)
        if count:
            self.clicks += 1
            self._blind_until = now + self.params.dead_time_ns
        return count

    def _on_input(self, message: Message) -> None:
        from modenhub_net.qubits import discard

        n = 0
        for qubit in message.items:
            if qubit is not None:
                n += 1
                if qubit.state is not None:
                    discard(qubit)
        count = self.detect(n)
        self.ports["cout"].tx_output(
            Message(
                (count,),
                {"header": "click", "click": count > 0, "count": count,
                 "time_ns": self.sim.now_ns, **{k: v for k, v in message.meta.items() if k != "header"}},
            )
        )
