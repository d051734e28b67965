"""Straightforward per-request, per-attempt pure-Python loop of the aggregate model.

The baseline of ``benchmarks/bench_aggregate.py`` and the oracle of the tests: it follows
ARCHITECTURE.md §5 literally, one ``random.random()`` draw per attempt and a ``dict`` as the
per-pair cache, with no vectorisation. It agrees with :mod:`modenhub_net.aggregate.model`
in distribution, not draw for draw (the random streams differ).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from modenhub_net.aggregate.config import (
    AdaptiveSection,
    ModelSection,
)
from modenhub_net.aggregate.model import check_study_arguments, strategy_schedule
from modenhub_net.errors import UserInputError

__all__ = ["loop_point", "loop_study"]


def loop_point(
    model: ModelSection,
    n_qpus: int,
    strategy: str,
    *,
    trials: int,
    seed: int,
    adaptive: AdaptiveSection | None = None,
) -> dict[str, list]:
    """Simulate one (N, strategy) point request by request, attempt by attempt.

    Parameters
    ----------
    model : AggregateModel
    n_qpus : int
        N >= 2.
    strategy : str
        One of :data:`~modenhub_net.aggregate.config.STRATEGIES`.
    trials : int
        Number of requests.
    seed : int
        Seed of a private ``random.Random`` (no global state).
    adaptive : AdaptiveSettings, optional

    Returns
    -------
    dict of lists
        Keys ``s, d, success, attempts, rounds, cache_hit, heralds``, one entry per request.
    """
    ns, _, trials, seed, settings = check_study_arguments(
        model, n_qpus=[n_qpus], strategies=[strategy], trials=trials, seed=seed, adaptive=adaptive,
        keep_requests=True,
    )
    n_qpus = ns[0]
    if n_qpus < 2:
        raise UserInputError(f"n_qpus = {n_qpus!r}: requests need N >= 2 (no pair s != d)")
    rng = random.Random(f"loop/{seed}/{strategy}/{n_qpus}")
    rand = rng.random
    p = model.p_eff(n_qpus)
    cached = strategy == "orchestrated"
    online = strategy == "adaptive_online"
    schedule = () if online else strategy_schedule(model, n_qpus, strategy, adaptive=settings)
    prior = settings.prior_p if settings.prior_p is not None else model.p0
    seen_attempts = seen_heralds = 0
    next_plan, batch = 0, settings.first_batch
    cache: dict[tuple[int, int], bool] = {}
    out: dict[str, list] = {k: [] for k in ("s", "d", "success", "attempts", "rounds",
                                            "cache_hit", "heralds")}
    for j in range(trials):
        s = rng.randrange(n_qpus)
        d = rng.randrange(n_qpus - 1)
        if d >= s:
            d += 1
        if online and j == next_plan:
            p_hat = (seen_heralds + settings.prior_weight * prior) / (
                seen_attempts + settings.prior_weight
            )
            p_hat = min(1.0, max(p_hat, 1e-6))
            schedule = strategy_schedule(model, n_qpus, "adaptive", adaptive=settings, p=p_hat)
            next_plan, batch = next_plan + batch, 2 * batch
        key = (s, d) if s < d else (d, s)
        success, attempts, rounds, hit, heralds = False, 0, 0, False, 0
        if cached and cache.get(key, False):
            cache[key] = False
            success, hit = True, True
        else:
            for k in schedule:
                if k == 0:
                    break
                rounds += 1
                attempts += k
                heralds = 0
                for _ in range(k):
                    if rand() < p:
                        heralds += 1
                if heralds:
                    success = True
                    if cached and heralds >= 2:
                        cache[key] = True
                    break
        seen_attempts += attempts
        seen_heralds += heralds
        out["s"].append(s)
        out["d"].append(d)
        out["success"].append(success)
        out["attempts"].append(attempts)
        out["rounds"].append(rounds)
        out["cache_hit"].append(hit)
        out["heralds"].append(heralds)
    return out


def loop_study(
    model: ModelSection,
    *,
    n_qpus: Iterable[int],
    strategies: Sequence[str],
    trials: int,
    seed: int,
    adaptive: AdaptiveSection | None = None,
) -> dict[tuple[int, str], dict[str, float]]:
    """Loop version of :func:`~modenhub_net.aggregate.run_study` (N = 1 skipped).

    Returns
    -------
    dict
        ``{(n, strategy): {"success_rate", "mean_attempts", "cache_hit_rate"}}``.
    """
    result = {}
    for n in n_qpus:
        if n == 1:
            continue
        for strategy in strategies:
            out = loop_point(model, n, strategy, trials=trials, seed=seed, adaptive=adaptive)
            result[(n, strategy)] = {
                "success_rate": sum(out["success"]) / trials,
                "mean_attempts": sum(out["attempts"]) / trials,
                "cache_hit_rate": sum(out["cache_hit"]) / trials,
            }
    return result
