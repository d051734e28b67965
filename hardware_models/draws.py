"""Uniform draws of one random stream in blocks, for devices that resolve a few attempts at a time.

A round of the detailed link mode is a handful of attempts; one numpy call per device and
round costs more than the draws themselves (about a microsecond per call). :class:`UniformBlocks`
draws uniforms in [0, 1) from a device's own generator in blocks and hands them out strictly
in order, so the same seed gives the same sequence of draws and therefore the same results
(ARCHITECTURE.md §7: one named stream per component).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["UniformBlocks", "device_uniforms"]


class UniformBlocks:
    """Uniforms in [0, 1) of ``rng``, drawn ``block`` at a time and handed out in order.

    Parameters
    ----------
    rng : numpy.random.Generator
        The stream (a device's own, :meth:`modenhub_net.simulation.Simulation.rng`).
    block : int, optional
        Uniforms per numpy call, >= 1. Default 1,024.

    Examples
    --------
    >>> import numpy as np
    >>> rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(1)
    >>> blocks = UniformBlocks(rng_a, block=4)
    >>> blocks.take(3) + blocks.take(3) == (rng_b.random(4).tolist() + rng_b.random(4).tolist())[:6]
    True
    """

    __slots__ = ("_rng", "_block", "_buffer", "_next")

    def __init__(self, rng: np.random.Generator, *, block: int = 1024) -> None:
        if block < 1:
            raise ValueError(f"block = {block!r} must be >= 1")
        self._rng = rng
        self._block = int(block)
        self._buffer: list[float] = []
        self._next = 0

    def take(self, n: int) -> list[float]:
        """The next ``n`` uniforms of the stream (a new block is drawn when needed)."""
        i = self._next
        buffer = self._buffer
        if i + n > len(buffer):
            buffer = self._buffer = buffer[i:] + self._rng.random(max(self._block, n)).tolist()
            i = 0
        self._next = i + n
        return buffer[i:i + n]


def device_uniforms(device: Any, n: int, rng: np.random.Generator | None = None) -> list[float]:
    """``n`` uniforms for a device's loss draws: from ``rng`` in one call if one is given, else
    from the device's own stream (``device.rng``) in blocks, kept on the device as
    ``device._blocks`` (made on first use)."""
    if rng is not None:
        return rng.random(n).tolist()
    blocks = device._blocks
    if blocks is None:
        blocks = device._blocks = UniformBlocks(device.rng)
    return blocks.take(n)
