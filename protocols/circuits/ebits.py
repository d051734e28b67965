"""Where the executor's ebits come from: the :class:`EbitProvider` interface and simple providers.

An ebit provider answers ``request(qpu_a, qpu_b, at_ns) -> (rho, delivered_ns)``: the
two-qubit state ``rho`` (4x4, qubit order ``(qpu_a's half, qpu_b's half)``, ideally
``|Phi+>``) as it is at ``delivered_ns`` (>= ``at_ns``), when both halves sit in the two
QPUs' communication memories. From then on the executor applies the communication memories'
storage noise until each half is used. A provider may also count ebits it produced but that
were never used (:attr:`EbitProvider.n_wasted`).

:class:`PerfectEbitProvider` and :class:`WernerEbitProvider` are analytic stand-ins;
:class:`protocols.circuits.hub.HubEbitProvider` takes every ebit from the simulated hub.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from modenhub_net.errors import UserInputError, check_range
from modenhub_net.qubits import werner_dm

__all__ = ["EbitProvider", "PerfectEbitProvider", "WernerEbitProvider"]


class EbitProvider(ABC):
    """Source of ebits between QPU pairs (module docstring)."""

    @abstractmethod
    def request(self, qpu_a: int, qpu_b: int, at_ns: float) -> tuple[np.ndarray, float]:
        """One ebit between ``qpu_a`` and ``qpu_b`` requested at ``at_ns`` (ns).

        Returns
        -------
        (rho, delivered_ns) : (numpy.ndarray, float)
            The 4x4 state at delivery (order ``qpu_a``, ``qpu_b``) and the delivery time in
            ns, ``>= at_ns``.
        """

    @property
    def n_wasted(self) -> int:
        """Ebits produced for this run but never used (default 0)."""
        return 0

    def classical_latency_ns(self, qpu_a: int, qpu_b: int) -> float | None:
        """One-way classical message latency between two QPUs in ns, if the provider knows it
        (None: the executor's own ``classical_latency_ns`` applies)."""
        return None


def _check_latency(latency_ns: float) -> float:
    if isinstance(latency_ns, bool):
        raise UserInputError(f"latency_ns = {latency_ns!r} must be a number of ns, not a boolean")
    value = check_range("latency_ns", latency_ns, low=0.0, high=1e15)
    if not math.isfinite(value):
        raise UserInputError(f"latency_ns = {latency_ns!r} must be finite")
    return value


class PerfectEbitProvider(EbitProvider):
    """|Phi+> after a fixed latency.

    Parameters
    ----------
    latency_ns : float
        Time from request to delivery in ns, in [0, 1e15]. Default 0 (instant).
    """

    def __init__(self, *, latency_ns: float = 0.0) -> None:
        self.latency_ns = _check_latency(latency_ns)
        self.n_requested = 0

    def request(self, qpu_a: int, qpu_b: int, at_ns: float) -> tuple[np.ndarray, float]:
        self.n_requested += 1
        return werner_dm(1.0), float(at_ns) + self.latency_ns


class WernerEbitProvider(EbitProvider):
    """Werner states ``F |Phi+><Phi+| + (1-F)/3 (I - |Phi+><Phi+|)`` after a fixed latency.

    The Werner state is the standard isotropic model of a depolarised ebit (Werner, PRA 40,
    4277 (1989); Bennett et al., PRA 54, 3824 (1996)).

    Parameters
    ----------
    fidelity : float
        Fidelity F with |Phi+>, in [0.25, 1] (0.25: maximally mixed). No default.
    latency_ns : float
        Time from request to delivery in ns, in [0, 1e15]. Default 0.

    Examples
    --------
    >>> rho, t = WernerEbitProvider(fidelity=0.9, latency_ns=1000.0).request(0, 1, 50.0)
    >>> round(float(rho[0, 0].real + rho[0, 3].real + rho[3, 0].real + rho[3, 3].real) / 2, 12), t
    (0.9, 1050.0)
    """

    def __init__(self, *, fidelity: float, latency_ns: float = 0.0) -> None:
        if isinstance(fidelity, bool):
            raise UserInputError(f"fidelity = {fidelity!r} must be a number in [0.25, 1], not a boolean")
        self.fidelity = check_range("fidelity", fidelity, low=0.25, high=1.0)
        self.latency_ns = _check_latency(latency_ns)
        self._rho = werner_dm(self.fidelity)
        self.n_requested = 0

    def request(self, qpu_a: int, qpu_b: int, at_ns: float) -> tuple[np.ndarray, float]:
        self.n_requested += 1
        return self._rho.copy(), float(at_ns) + self.latency_ns
