"""Request workloads: the stream of (s, d, kind, arrival time) the orchestrator consumes.

Three generators, all pure functions of their parameters and one random stream:

``uniform``
    the paper's workload (ARCHITECTURE.md §5): ordered pairs ``(s, d)`` drawn uniformly with
    ``s != d``;
``hotspot``
    a fraction ``hot_fraction`` of the requests involve one hot QPU (``hot_qpu``) as source
    or destination (the other end uniform), the rest are uniform;
``list``
    an explicit list of requests.

Arrival times are either all zero (``mean_interarrival_ns = 0``: requests queue at once and
are served in order, as in the paper's Monte Carlo) or a Poisson process with the given mean
inter-arrival time in ns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from modenhub_net.errors import UserInputError

__all__ = ["Request", "REQUEST_KINDS", "uniform_requests", "hotspot_requests", "list_requests"]

#: what a request asks for: a state teleportation s -> d, or a teleported CNOT (control s, target d)
REQUEST_KINDS: tuple[str, ...] = ("teleport", "cnot")


@dataclass(frozen=True, slots=True)
class Request:
    """One request of the workload.

    Attributes
    ----------
    request_id : int
        Position in the workload (0, 1, ...).
    s, d : int
        Source and destination QPU indices (``s != d``). For ``cnot`` the control qubit lives
        on ``s`` and the target on ``d``.
    kind : str
        ``"teleport"`` or ``"cnot"``.
    arrival_ns : float
        Time the request is issued, in ns (>= 0): it reaches the serial orchestrator then,
        the concurrent one after its source QPU's classical latency.
    deadline_ns : float
        Relative deadline: time after ``arrival_ns`` (ns, > 0) at which the concurrent
        orchestrator drops the request if it is still waiting or between rounds; default inf
        (none). The run's ``deadline_ns`` applies too (the earlier one counts).
    """

    request_id: int
    s: int
    d: int
    kind: str
    arrival_ns: float
    deadline_ns: float = float("inf")

    @property
    def pair(self) -> tuple[int, int]:
        """The unordered QPU pair ``(min, max)``."""
        return (self.s, self.d) if self.s < self.d else (self.d, self.s)


def _check(n_qpus: int, count: int) -> None:
    if n_qpus < 2:
        raise UserInputError(f"n_qpus = {n_qpus!r}: requests need at least 2 QPUs")
    if count < 0:
        raise UserInputError(f"requests = {count!r} must be >= 0")


def _arrivals(rng: np.random.Generator, count: int, mean_interarrival_ns: float) -> np.ndarray:
    if mean_interarrival_ns < 0:
        raise UserInputError(f"mean_interarrival_ns = {mean_interarrival_ns!r} must be >= 0")
    if mean_interarrival_ns == 0:
        return np.zeros(count)
    return np.cumsum(rng.exponential(mean_interarrival_ns, size=count))


def _kinds(rng: np.random.Generator, count: int, cnot_fraction: float) -> np.ndarray:
    if not 0.0 <= cnot_fraction <= 1.0:
        raise UserInputError(f"cnot_fraction = {cnot_fraction!r} is outside [0, 1]")
    if cnot_fraction == 0.0:
        return np.zeros(count, dtype=bool)
    if cnot_fraction == 1.0:
        return np.ones(count, dtype=bool)
    return rng.random(count) < cnot_fraction


def _build(s: np.ndarray, d: np.ndarray, is_cnot: np.ndarray, t: np.ndarray) -> list[Request]:
    return [
        Request(i, int(a), int(b), "cnot" if c else "teleport", float(at))
        for i, (a, b, c, at) in enumerate(zip(s, d, is_cnot, t, strict=True))
    ]


def uniform_requests(
    rng: np.random.Generator,
    *,
    n_qpus: int,
    count: int,
    cnot_fraction: float = 0.0,
    mean_interarrival_ns: float = 0.0,
) -> list[Request]:
    """The paper's workload: ``(s, d)`` uniform over ordered pairs with ``s != d``.

    The pair draw is the same as :func:`modenhub_net.aggregate.model.draw_requests`
    (``s`` uniform, ``d`` uniform over the other N - 1), so with the same generator state both
    see the same request sequence.

    Parameters
    ----------
    rng : numpy.random.Generator
        The workload's stream.
    n_qpus : int
        Number of QPUs N (>= 2).
    count : int
        Number of requests (>= 0).
    cnot_fraction : float, optional
        Probability that a request is a teleported CNOT rather than a teleportation, in [0, 1]
        (default 0).
    mean_interarrival_ns : float, optional
        Mean of the exponential inter-arrival times in ns; 0 (default) puts every arrival at 0.

    Returns
    -------
    list of Request
    """
    _check(n_qpus, count)
    s = rng.integers(0, n_qpus, size=count, dtype=np.int32)
    d = rng.integers(0, n_qpus - 1, size=count, dtype=np.int32)
    d += d >= s
    return _build(s, d, _kinds(rng, count, cnot_fraction), _arrivals(rng, count, mean_interarrival_ns))


def hotspot_requests(
    rng: np.random.Generator,
    *,
    n_qpus: int,
    count: int,
    hot_qpu: int = 0,
    hot_fraction: float = 0.5,
    cnot_fraction: float = 0.0,
    mean_interarrival_ns: float = 0.0,
) -> list[Request]:
    """A hot-spot workload: a fraction of the requests involve one hot QPU.

    With probability ``hot_fraction`` a request joins ``hot_qpu`` with a uniformly chosen
    other QPU (the hot QPU is the source or the destination with probability 1/2 each);
    otherwise the pair is uniform as in :func:`uniform_requests`.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_qpus : int
        N >= 2.
    count : int
        Number of requests.
    hot_qpu : int, optional
        Index of the hot QPU in [0, N) (default 0).
    hot_fraction : float, optional
        In [0, 1] (default 0.5).
    cnot_fraction, mean_interarrival_ns : float, optional
        As in :func:`uniform_requests`.
    """
    _check(n_qpus, count)
    if not 0 <= hot_qpu < n_qpus:
        raise UserInputError(f"hot_qpu = {hot_qpu!r} is outside [0, {n_qpus - 1}]")
    if not 0.0 <= hot_fraction <= 1.0:
        raise UserInputError(f"hot_fraction = {hot_fraction!r} is outside [0, 1]")
    s = rng.integers(0, n_qpus, size=count, dtype=np.int32)
    d = rng.integers(0, n_qpus - 1, size=count, dtype=np.int32)
    d += d >= s
    hot = rng.random(count) < hot_fraction
    other = rng.integers(0, n_qpus - 1, size=count, dtype=np.int32)
    other += other >= hot_qpu
    hot_is_source = rng.random(count) < 0.5
    s = np.where(hot, np.where(hot_is_source, hot_qpu, other), s)
    d = np.where(hot, np.where(hot_is_source, other, hot_qpu), d)
    return _build(s, d, _kinds(rng, count, cnot_fraction), _arrivals(rng, count, mean_interarrival_ns))


def list_requests(
    entries: Iterable[Sequence[object]], *, n_qpus: int
) -> list[Request]:
    """Requests from an explicit list of ``(s, d, kind, arrival_ns, deadline_ns)`` entries.

    Parameters
    ----------
    entries : iterable of sequences
        Each ``(s, d)``, ``(s, d, kind)``, ``(s, d, kind, arrival_ns)`` or ``(s, d, kind,
        arrival_ns, deadline_ns)``; kind defaults to ``"teleport"``, arrival to 0, the
        relative deadline to inf (ns, > 0). Arrivals must not decrease.
    n_qpus : int
        Number of QPUs, to check the indices.

    Raises
    ------
    UserInputError
        On an index outside [0, N), ``s == d``, an unknown kind, decreasing arrivals or a
        deadline that is not > 0.
    """
    out: list[Request] = []
    last = 0.0
    for i, entry in enumerate(entries):
        entry = tuple(entry)
        if not 2 <= len(entry) <= 5:
            raise UserInputError(
                f"workload.requests[{i}] = {entry!r}: give [s, d, kind?, arrival_ns?, deadline_ns?]"
            )
        s, d = entry[0], entry[1]
        kind = entry[2] if len(entry) > 2 else "teleport"
        arrival = float(entry[3]) if len(entry) > 3 else 0.0
        for label, value in (("s", s), ("d", d)):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n_qpus:
                raise UserInputError(
                    f"workload.requests[{i}].{label} = {value!r} must be a QPU index in [0, {n_qpus - 1}]"
                )
        if s == d:
            raise UserInputError(f"workload.requests[{i}]: s = d = {s} (a request joins two QPUs)")
        if kind not in REQUEST_KINDS:
            raise UserInputError(
                f"workload.requests[{i}].kind = {kind!r}: unknown (allowed: {', '.join(REQUEST_KINDS)})"
            )
        if arrival < last:
            raise UserInputError(
                f"workload.requests[{i}].arrival_ns = {arrival!r} is before the previous one"
            )
        deadline = entry[4] if len(entry) > 4 else float("inf")
        if isinstance(deadline, bool) or not isinstance(deadline, (int, float)) or not deadline > 0:
            raise UserInputError(
                f"workload.requests[{i}].deadline_ns = {deadline!r} must be a number > 0 (ns)"
            )
        last = arrival
        out.append(Request(i, int(s), int(d), str(kind), arrival, float(deadline)))
    return out
