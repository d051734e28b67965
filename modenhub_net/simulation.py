"""The simulation clock and its random streams, on a SimPy environment.

One :class:`Simulation` owns one ``simpy.Environment`` whose time unit is the
nanosecond (float), and one root ``numpy.random.SeedSequence``. Every component
draws from its own child stream, obtained by a *stable* name:
``sim.rng("hub.bsm[3]")``. The child seed is derived from the root seed and a
SHA-256 hash of the name, so a stream does not depend on how many other streams
were created before it, nor in which order components were built.

Nothing here is module-level mutable state: two simulations in one process never
interfere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

__all__ = ["Simulation", "stream_seed_sequence"]


def _name_words(name: str) -> tuple[int, ...]:
    """Four 32-bit words from the SHA-256 digest of ``name`` (stable across runs)."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


def stream_seed_sequence(seed: int | np.random.SeedSequence, name: str) -> np.random.SeedSequence:
    """Child ``SeedSequence`` of a root seed for a named stream.

    Parameters
    ----------
    seed : int or numpy.random.SeedSequence
        Root seed of the run (a non-negative integer) or a root ``SeedSequence``.
    name : str
        Stable name of the stream, e.g. a component's full name.

    Returns
    -------
    numpy.random.SeedSequence
        ``SeedSequence(entropy=root.entropy, spawn_key=root.spawn_key + hash(name))``.
        The same (seed, name) always gives the same sequence, on any machine.
    """
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(
            entropy=seed.entropy, spawn_key=tuple(seed.spawn_key) + _name_words(name)
        )
    # the same sequence without building the root first (a root of an int has that int as its
    # entropy and an empty spawn key); this saves half the cost of a stream
    return np.random.SeedSequence(entropy=int(seed), spawn_key=_name_words(name))


class Simulation:
    """A discrete-event simulation with time in nanoseconds and named random streams.

    Parameters
    ----------
    seed : int, optional
        Root seed (non-negative integer, default 0). The same seed gives the same
        random streams, hence the same event trace.
    trace : bool, optional
        If True, components append ``(time_ns, source, what)`` tuples to
        :attr:`trace_log` (used by reproducibility tests; default False).

    Examples
    --------
    >>> sim = Simulation(seed=7)
    >>> def ticker(sim):
    ...     yield sim.timeout(2.5)
    >>> _ = sim.process(ticker(sim))
    >>> sim.run()
    >>> sim.now_ns
    2.5
    """

    def __init__(self, *, seed: int = 0, trace: bool = False) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            from modenhub_net.errors import UserInputError

            raise UserInputError(f"seed = {seed!r} must be a non-negative integer")
        self.seed = int(seed)
        self.env = simpy.Environment()
        self._root = np.random.SeedSequence(self.seed)
        self._streams: dict[str, np.random.Generator] = {}
        self.trace_enabled = trace
        self.trace_log: list[tuple[float, str, str]] = []

    # -- time -------------------------------------------------------------------------
    @property
    def now_ns(self) -> float:
        """Current simulation time in ns."""
        return float(self.env.now)

    def run(self, *, until_ns: float | None = None) -> None:
        """Run events until the queue is empty or until ``until_ns`` (ns, absolute)."""
        if until_ns is not None and until_ns < self.env.now:
            from modenhub_net.errors import UserInputError

            raise UserInputError(
                f"until_ns = {until_ns!r} lies before the current time {self.env.now!r} ns"
            )
        self.env.run(until=until_ns)

    def timeout(self, delay_ns: float, value: Any = None) -> simpy.Timeout:
        """An event that fires ``delay_ns`` (>= 0) nanoseconds from now."""
        return self.env.timeout(delay_ns, value)

    def event(self) -> simpy.Event:
        """A fresh untriggered event."""
        return self.env.event()

    def process(self, generator: Generator) -> simpy.Process:
        """Start a generator as a SimPy process."""
        return self.env.process(generator)

    # -- randomness -------------------------------------------------------------------
    def rng(self, name: str) -> np.random.Generator:
        """The random stream of a named component (created on first use, then reused).

        Parameters
        ----------
        name : str
            Stable name, e.g. ``"link[0-3].source"``.

        Returns
        -------
        numpy.random.Generator
            A PCG64 generator seeded by :func:`stream_seed_sequence` (root seed, name).
        """
        gen = self._streams.get(name)
        if gen is None:
            gen = np.random.Generator(np.random.PCG64(stream_seed_sequence(self._root, name)))
            self._streams[name] = gen
        return gen

    # -- tracing ----------------------------------------------------------------------
    def record(self, source: str, what: str) -> None:
        """Append a trace entry if tracing is enabled."""
        if self.trace_enabled:
            self.trace_log.append((float(self.env.now), source, what))
