"""Predicted demand per QPU pair: an exponentially weighted request rate.

The orchestrator pre-generates spare pairs during idle time "between frequently interacting
nodes" (the paper's ebit cache). Which pairs are frequent is learnt online from the requests
themselves: each unordered pair ``{a, b}`` keeps the exponentially weighted rate

    lambda_hat(t) = (ln 2 / h) * sum_i 2**(-(t - t_i) / h)        (requests per ns)

over its past request times ``t_i``, with half-life ``h``. This is the exponential-kernel
intensity estimator of a point process (Diggle 1985, "A kernel method for smoothing point
process data", J. R. Stat. Soc. C 34:138), i.e. an exponentially weighted moving average
(Roberts 1959, Technometrics 1:239) of the request count per unit time. For a stationary
Poisson stream of rate lambda it is unbiased, ``E[lambda_hat] = lambda``, with variance
``lambda ln 2 / (2 h)``: a longer half-life is steadier, a shorter one follows shifts faster.

The estimate is updated in O(1) per request: the pair's sum is stored at the time of its last
update and decayed on read.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from modenhub_net.errors import UserInputError

__all__ = ["DemandTracker", "DEFAULT_HALF_LIFE_NS"]

#: default half-life of the demand estimate: 100 ms (ns). Chosen as about ten inter-arrival
#: times of a pair requested every 10 ms (the hot-spot case of the cache study), so that the
#: estimate averages ~10 requests; not a published value.
DEFAULT_HALF_LIFE_NS: float = 1e8


def _key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


class DemandTracker:
    """Exponentially weighted request rate per unordered QPU pair.

    Parameters
    ----------
    half_life_ns : float, optional
        Half-life ``h`` of a request's weight, in ns, > 0 and finite; default
        :data:`DEFAULT_HALF_LIFE_NS` (100 ms).

    Examples
    --------
    >>> tracker = DemandTracker(half_life_ns=1e6)
    >>> for t in (0.0, 1e5, 2e5):
    ...     tracker.observe(0, 1, now_ns=t)
    >>> tracker.observe(2, 3, now_ns=2e5)
    >>> [pair for pair, _ in tracker.top_pairs(2e5, budget=2)]
    [(0, 1), (2, 3)]
    >>> round(tracker.rate_hz(1, 0, now_ns=2e5 + 1e6) / tracker.rate_hz(0, 1, now_ns=2e5), 3)
    0.5
    """

    def __init__(self, *, half_life_ns: float = DEFAULT_HALF_LIFE_NS) -> None:
        if (isinstance(half_life_ns, bool) or not isinstance(half_life_ns, (int, float))
                or not 0.0 < half_life_ns < math.inf):
            raise UserInputError(
                f"demand_half_life_ns = {half_life_ns!r} must be a finite number > 0 (ns)"
            )
        self.half_life_ns = float(half_life_ns)
        self._decay_per_ns = math.log(2.0) / self.half_life_ns
        # pair -> (weighted count at time t, t)
        self._state: dict[tuple[int, int], tuple[float, float]] = {}
        self.observed = 0

    def observe(self, a: int, b: int, *, now_ns: float, weight: float = 1.0) -> None:
        """Count one request on ``{a, b}`` at ``now_ns`` (times may come in any order)."""
        key = _key(a, b)
        value, t = self._state.get(key, (0.0, now_ns))
        if now_ns >= t:
            value = value * math.exp(-(now_ns - t) * self._decay_per_ns) + weight
            t = now_ns
        else:  # a late report of an earlier request: weight it at the stored time
            value += weight * math.exp(-(t - now_ns) * self._decay_per_ns)
        self._state[key] = (value, t)
        self.observed += 1

    def _weight(self, key: tuple[int, int], now_ns: float) -> float:
        value, t = self._state.get(key, (0.0, now_ns))
        return value * math.exp(-max(0.0, now_ns - t) * self._decay_per_ns)

    def rate_hz(self, a: int, b: int, *, now_ns: float) -> float:
        """``lambda_hat`` of ``{a, b}`` at ``now_ns``, in requests per second (Hz)."""
        return self._weight(_key(a, b), now_ns) * self._decay_per_ns * 1e9

    def pairs(self) -> list[tuple[int, int]]:
        """Every pair seen so far."""
        return list(self._state)

    def top_pairs(
        self,
        now_ns: float,
        budget: int,
        *,
        deficit: Callable[[int, int], int] | None = None,
        held: Callable[[int, int], int] | None = None,
    ) -> list[tuple[tuple[int, int], int]]:
        """The pairs of highest predicted demand that are below their cache target.

        Parameters
        ----------
        now_ns : float
            Current time, ns.
        budget : int
            Spare pairs that may still be added in all (>= 0).
        deficit : callable, optional
            ``deficit(a, b)``: spares the pair lacks to reach its cache target (e.g.
            :meth:`protocols.cache.EbitCache.budget_room`); default 1 for every pair.
        held : callable, optional
            ``held(a, b)``: spares the pair already has. If given, pairs are ranked by
            ``lambda_hat / (held + 1)`` instead of ``lambda_hat``: the next spare goes where it
            is most likely to be used before another one is made (greedy proportional
            allocation of a shared memory, as in the water-filling of a divisible resource),
            so one hot pair does not hoard the memory while others have none.

        Returns
        -------
        list of ((a, b), n)
            Pairs in decreasing order of priority (ties by pair), each with the spares
            ``n >= 1`` wanted for it; the ``n`` add up to at most ``budget``.
        """
        if budget <= 0:
            return []
        if held is None:
            ranked = sorted(self._state, key=lambda key: (-self._weight(key, now_ns), key))
        else:
            ranked = sorted(self._state, key=lambda key: (
                -self._weight(key, now_ns) / (1 + held(*key)), key))
        out: list[tuple[tuple[int, int], int]] = []
        left = int(budget)
        for key in ranked:
            want = 1 if deficit is None else int(deficit(*key))
            if want < 1:
                continue
            take = min(want, left)
            out.append((key, take))
            left -= take
            if left == 0:
                break
        return out
