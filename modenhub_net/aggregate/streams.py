"""Random streams of the aggregate Monte Carlo: numbered jumps of one named stream.

Every (N, strategy) point of a study, and the request sequence at each N, draws from its own
*substream*. All substreams are jumps of one PCG64DXSM stream named ``"aggregate"`` (a child
of the root seed, :func:`modenhub_net.simulation.stream_seed_sequence`): substream ``t`` is
the state of that stream advanced by ``t`` golden-ratio jumps, ``t (phi - 1) 2**128`` draws
modulo the period 2**128, exactly what ``numpy.random.PCG64DXSM.jumped(t)`` returns. The
substream of the requests at N is ``t = SLOTS N``, that of strategy ``STRATEGIES[i]`` at N is
``t = SLOTS N + 1 + i``. A point's draws therefore depend only on (seed, N, strategy), never
on which other points run or in which order, and setting one up costs a state reset and one
``advance`` (about a microsecond) instead of a new seed sequence.

Why jumps of PCG64DXSM rather than advances by ``2**64`` of PCG64: two states of a 128-bit LCG
``2**64`` steps apart have the same low 64 bits (``a**(2**64) = 1 mod 2**66``), so such
substreams are structurally related; the golden-ratio jump is odd, so no bits are shared, and
NumPy recommends PCG64DXSM over PCG64 for jumped parallel streams (NumPy reference,
"Upgrading PCG64 with PCG64DXSM" and ``PCG64DXSM.jumped``). Jumps ``t`` up to ``SLOTS *
MAX_N_QPUS`` are spread over the period like a Weyl sequence, far more than the at most
``2**40`` draws of a point apart.
"""

from __future__ import annotations

import numpy as np

from modenhub_net.aggregate.config import STRATEGIES
from modenhub_net.simulation import stream_seed_sequence

__all__ = ["SLOTS", "STREAM_NAME", "StudyStreams"]

#: name of the stream every aggregate substream jumps from
STREAM_NAME = "aggregate"
#: substreams reserved per N: the requests, then one per strategy (room for new strategies)
SLOTS = 8
#: numpy's PCG64 / PCG64DXSM jump: (golden ratio - 1) * 2**128, rounded to an odd integer
_JUMP = 0x9E3779B97F4A7C15F39CC0605CEDC835
_PERIOD = 1 << 128

if len(STRATEGIES) + 1 > SLOTS:  # pragma: no cover - a guard for whoever adds a strategy
    raise ImportError(f"SLOTS = {SLOTS} cannot hold {len(STRATEGIES)} strategies and the requests")


class StudyStreams:
    """The substreams of every point of a study with one root ``seed``.

    The substreams share one bit generator: a generator returned by :meth:`requests` or
    :meth:`outcomes` is valid until the next call of either.

    Parameters
    ----------
    seed : int
        Root seed of the study (>= 0).
    """

    def __init__(self, seed: int) -> None:
        self._bits = np.random.PCG64DXSM(stream_seed_sequence(seed, STREAM_NAME))
        self._start = self._bits.state
        self._generator = np.random.Generator(self._bits)

    @staticmethod
    def index(n_qpus: int, strategy: str | None) -> int:
        """Substream number of the requests (``strategy=None``) or of a point at ``n_qpus``."""
        slot = 0 if strategy is None else 1 + STRATEGIES.index(strategy)
        return SLOTS * int(n_qpus) + slot

    def _at(self, index: int) -> np.random.Generator:
        self._bits.state = self._start
        self._bits.advance(index * _JUMP % _PERIOD)
        return self._generator

    def requests(self, n_qpus: int) -> np.random.Generator:
        """The shared generator at the start of the request substream of ``n_qpus``."""
        return self._at(self.index(n_qpus, None))

    def outcomes(self, n_qpus: int, strategy: str) -> np.random.Generator:
        """The shared generator at the start of the substream of point (``n_qpus``, ``strategy``)."""
        return self._at(self.index(n_qpus, strategy))
