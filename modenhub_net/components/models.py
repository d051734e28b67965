"""Pluggable delay, loss and qubit-noise models for channels.

A model is a small object with one method; channels call it with their own random
stream, so models hold parameters but never randomness of their own.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from modenhub_net.errors import check_range

__all__ = [
    "DelayModel",
    "FixedDelayModel",
    "LengthDelayModel",
    "LossModel",
    "FixedLossModel",
    "NoLoss",
    "QubitNoiseModel",
]


@runtime_checkable
class DelayModel(Protocol):
    """Anything with ``delay_ns(*, rng, message) -> float`` (ns, >= 0)."""

    def delay_ns(self, *, rng: np.random.Generator, message: Any) -> float: ...


@runtime_checkable
class LossModel(Protocol):
    """Anything with ``survives(*, rng, item) -> bool`` for one message or qubit."""

    def survives(self, *, rng: np.random.Generator, item: Any) -> bool: ...


@runtime_checkable
class QubitNoiseModel(Protocol):
    """Anything with ``apply(qubit, *, elapsed_ns, rng)`` that acts on a qubit in flight."""

    def apply(self, qubit: Any, *, elapsed_ns: float, rng: np.random.Generator) -> None: ...


class FixedDelayModel:
    """A constant delay.

    Parameters
    ----------
    delay_ns : float
        Delay in ns, >= 0 (default 0).
    """

    def __init__(self, delay_ns: float = 0.0) -> None:
        self.delay = check_range("delay_ns", delay_ns, low=0.0)

    def delay_ns(self, *, rng: np.random.Generator, message: Any) -> float:
        return self.delay


class LengthDelayModel:
    """Propagation delay ``length_km / speed_km_per_s`` plus a fixed processing time.

    Parameters
    ----------
    length_km : float
        Path length in km, >= 0.
    speed_km_per_s : float, optional
        Signal speed in km/s, > 0. Default 200,000 km/s: light in silica fibre
        (group index ~1.47, e.g. Agrawal, *Fiber-Optic Communication Systems*, 4th ed., §2.1).
    processing_ns : float, optional
        Fixed extra delay in ns, >= 0 (default 0).
    """

    def __init__(
        self, length_km: float, *, speed_km_per_s: float = 2.0e5, processing_ns: float = 0.0
    ) -> None:
        self.length_km = check_range("length_km", length_km, low=0.0)
        self.speed_km_per_s = check_range(
            "speed_km_per_s", speed_km_per_s, low=0.0, low_inclusive=False
        )
        self.processing_ns = check_range("processing_ns", processing_ns, low=0.0)
        self.delay = self.length_km / self.speed_km_per_s * 1e9 + self.processing_ns

    def delay_ns(self, *, rng: np.random.Generator, message: Any) -> float:
        return self.delay


class NoLoss:
    """Nothing is ever lost."""

    def survives(self, *, rng: np.random.Generator, item: Any) -> bool:
        return True


class FixedLossModel:
    """Each item is lost independently with a fixed probability.

    Parameters
    ----------
    p_loss : float
        Loss probability in [0, 1].
    """

    def __init__(self, p_loss: float) -> None:
        self.p_loss = check_range("p_loss", p_loss, low=0.0, high=1.0)

    def survives(self, *, rng: np.random.Generator, item: Any) -> bool:
        return self.p_loss == 0.0 or rng.random() >= self.p_loss
