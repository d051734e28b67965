"""Vectorised Monte Carlo of the aggregate model (DESIGN.md §5) and its study runner.

Model, per N and strategy: ``trials`` requests ``(s, d)`` drawn uniformly over ordered pairs
with ``s != d`` are handled in order. A request plays rounds of parallel attempts, each
attempt succeeding independently with ``p_eff(N)``, until the first round with a success or
until its budget of R rounds is spent (failure). Strategies:

``naive``
    one attempt a round, no reuse;
``orchestrated``
    ``K(N)`` attempts a round plus a capacity-1 cache per unordered pair ``{s, d}``: when
    the successful round had >= 2 successes, one spare pair is stored; the next request for
    that pair consumes it with 0 attempts, 0 rounds (a *cache hit*);
``orchestrated_nocache``
    the same without the cache (ablation);
``adaptive``
    a per-round schedule from :func:`~modenhub_net.aggregate.adaptive_schedule` with the
    known p_eff (no cache);
``adaptive_online``
    the same rule with p_eff estimated from the heralds seen so far in the point.

Vectorisation: every request's *fresh* outcome (what it would do without a cache) is drawn
for all requests at once (:func:`sample_schedule`: the index of the first successful attempt
is geometric, which fixes the round and the attempts; the successes among the rest of that
round are binomial). The cache only couples requests of the same unordered
pair; :func:`resolve_cache` turns the fresh outcomes into hits with array operations over the
requests sorted by pair (no loop over requests or rounds). ``adaptive_online`` loops over a
handful of batches (sizes doubling), each vectorised.

Randomness and reproducibility: no global RNG. A point (N, strategy) draws its requests from
the stream ``aggregate/requests/N={N}`` (shared by all strategies at that N: common random
numbers, so the strategies see the same request sequence) and its attempt outcomes from
``aggregate/{strategy}/N={N}``, both children of the root ``seed`` by
:func:`modenhub_net.simulation.stream_seed_sequence`. Hence a point's numbers depend only on
(model, adaptive settings, N, strategy, trials, seed): running N = 128 alone gives exactly the
numbers it has inside the full study, whatever else is run and in which order. Numbers are
reproducible for a given numpy version (numpy's PCG64 and its distribution algorithms);
they are not promised across numpy releases that change those algorithms.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from modenhub_net.aggregate.adaptive import adaptive_schedule, schedule_label
from modenhub_net.aggregate.analytic import (
    analytic_mean_attempts,
    analytic_success,
    as_schedule,
)
from modenhub_net.aggregate.config import (
    STRATEGIES,
    AdaptiveSection,
    AdaptiveSettings,
    ModelSection,
)
from modenhub_net.errors import UserInputError
from modenhub_net.simulation import stream_seed_sequence
from modenhub_net.stats import mean_interval, wilson_interval

__all__ = [
    "SUMMARY_COLUMNS",
    "REQUEST_COLUMNS",
    "PointResult",
    "StudyResult",
    "draw_requests",
    "sample_schedule",
    "resolve_cache",
    "strategy_schedule",
    "simulate_point",
    "summarise",
    "run_study",
]

#: columns of summary.csv, in order
SUMMARY_COLUMNS: tuple[str, ...] = (
    "n_qpus",
    "strategy",
    "trials",
    "successes",
    "success_rate",
    "success_ci_low",
    "success_ci_high",
    "mean_attempts",
    "attempts_ci_low",
    "attempts_ci_high",
    "cache_hits",
    "cache_hit_rate",
    "analytic_success_rate",
    "analytic_mean_attempts",
    "p_eff",
    "k_parallel",
    "schedule",
    "mean_rounds",
    "attempts_std",
)

#: columns of requests.parquet, in order
REQUEST_COLUMNS: tuple[str, ...] = (
    "n_qpus",
    "strategy",
    "request",
    "s",
    "d",
    "success",
    "attempts",
    "rounds",
    "cache_hit",
)

CACHED_STRATEGIES = frozenset({"orchestrated"})


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(stream_seed_sequence(seed, name)))


def draw_requests(n_qpus: int, trials: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Requests ``(s, d)`` uniform over ordered pairs with ``s != d`` (stream ``aggregate/requests/N=..``).

    Parameters
    ----------
    n_qpus : int
        N >= 2.
    trials : int
        Number of requests (>= 1).
    seed : int
        Root seed (>= 0).

    Returns
    -------
    (s, d) : tuple of numpy.ndarray of int32
    """
    if n_qpus < 2:
        raise UserInputError(f"n_qpus = {n_qpus!r}: requests need N >= 2 (no pair s != d)")
    rng = _rng(seed, f"aggregate/requests/N={n_qpus}")
    u = rng.random((2, trials))
    s = (u[0] * n_qpus).astype(np.int32)  # uniform on 0..N-1
    d = (u[1] * (n_qpus - 1)).astype(np.int32)  # uniform on 0..N-2, then skip s
    d += d >= s
    return s, d


def _fresh(
    u: np.ndarray,
    log_q: np.ndarray | float,
    cum: Sequence[np.ndarray | int],
    played: np.ndarray | int,
    *,
    need_after: bool = True,
    thresholds: Sequence[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Fresh outcomes from uniforms ``u`` (one per request); the kernel of every strategy.

    Number a request's potential attempts 1, 2, ... round after round; its first success is
    attempt ``G ~ Geometric(p)``, by inversion ``G = floor(log(1 - u) / log q) + 1``. It falls
    in the first round r with ``S_r >= G``; the request fails if ``G > S_R``. Equivalently
    (same u, no logarithm; used when ``need_after`` is False) the round is the number of
    thresholds ``1 - q**S_r`` that ``u`` reaches.

    ``cum[r]`` is ``S_{r+1}``, a scalar or (batched over points) one value per request, like
    ``log_q`` and ``played``. Returns success, rounds, attempts and, if ``need_after``, the
    number of attempts of the successful round after its first success (0 for a failure).
    """
    last = cum[-1]
    if need_after:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.log1p(-u) / log_q  # >= 0, finite for 0 <= u < 1 and 0 < p <= 1
        first = (np.minimum(ratio, last) + 1.0).astype(np.int64)
        reached = [c < first for c in cum]  # round r + 1 failed entirely
    else:
        first = None
        if thresholds is None:
            thresholds = [-np.expm1(log_q * c) for c in cum]  # 1 - q**S_{r+1}
        reached = [u >= t for t in thresholds]
    success = ~reached[-1]
    idx = np.zeros(u.shape, dtype=np.int16)
    cum_at = np.broadcast_to(cum[0], u.shape)
    for r in range(1, len(cum)):
        idx += reached[r - 1]
        cum_at = np.where(reached[r - 1], cum[r], cum_at)
    rounds = np.where(success, idx + 1, played).astype(np.int16)
    attempts = np.where(success, cum_at, last).astype(np.int32)
    after = np.where(success, cum_at - first, 0) if need_after else None
    return success, rounds, attempts, after


def sample_schedule(
    rng: np.random.Generator, p: float, schedule: Sequence[int], trials: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fresh (cache-less) outcomes of ``trials`` requests that follow ``schedule``.

    The index of the first successful attempt is geometric (one uniform per request, by
    inversion); it fixes the round, the rounds played and the attempts spent. The other
    ``k_r - J`` attempts of the successful round after it (``J`` its position in the round)
    are independent: ``heralds = 1 + Binomial(k_r - J, p)``. Exact, O(trials), no loop.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random stream (draws ``trials`` uniforms, then ``trials`` binomials).
    p : float
        Per-attempt success probability in (0, 1].
    schedule : sequence of int
        Attempts per round ``(k_1, ..., k_R)``; see :func:`~modenhub_net.aggregate.as_schedule`.
    trials : int
        Number of requests.

    Returns
    -------
    success : numpy.ndarray of bool
    rounds : numpy.ndarray of int16
        Rounds played (1..R; the number of non-empty rounds for a failure).
    attempts : numpy.ndarray of int32
        Attempts spent, all attempts of every played round.
    heralds : numpy.ndarray of int32
        Successful attempts in the successful round (0 for a failure).
    """
    sched = np.asarray(as_schedule(tuple(schedule)), dtype=np.int64)
    cum = np.cumsum(sched)
    u = rng.random(trials)
    success, rounds, attempts, after = _fresh(
        u, np.log1p(-p), [int(c) for c in cum], int(np.count_nonzero(sched))
    )
    heralds = np.where(success, 1 + rng.binomial(after, p), 0).astype(np.int32)
    return success, rounds, attempts, heralds


def resolve_cache(pair: np.ndarray, fills: np.ndarray) -> np.ndarray:
    """Which requests are served from a capacity-1 per-pair cache, without a loop.

    Request ``j`` (in order) of a pair hits iff the cache of its pair is full on arrival;
    a hit empties it; a miss fills it iff ``fills[j]`` (its fresh successful round had >= 2
    successes). Per pair: ``hit_j = (not hit_{j-1}) and fills_{j-1}``, ``hit_first = False``.

    Vectorised solution: sort by pair (stable, keeping the order), cut each pair's chain
    before every request whose predecessor does not fill (there ``hit = False`` for sure).
    Inside a piece every predecessor fills, so hits alternate miss, hit, miss, hit, ...:
    ``hit = (position in piece) is odd``.

    Parameters
    ----------
    pair : numpy.ndarray of int
        Unordered pair id of each request, in request order.
    fills : numpy.ndarray of bool
        Whether the request, if served fresh, leaves a spare pair.

    Returns
    -------
    numpy.ndarray of bool
        ``hit`` per request, in request order.
    """
    pair = np.asarray(pair)
    fills = np.asarray(fills, dtype=bool)
    n = pair.size
    if n == 0:
        return np.zeros(0, dtype=bool)
    order = np.argsort(pair, kind="stable")
    ps, fs = pair[order], fills[order]
    cut = np.ones(n, dtype=bool)
    cut[1:] = (ps[1:] != ps[:-1]) | ~fs[:-1]
    index = np.arange(n)
    piece_start = np.maximum.accumulate(np.where(cut, index, 0))
    hit = np.empty(n, dtype=bool)
    hit[order] = (index - piece_start) % 2 == 1
    return hit


def strategy_schedule(
    model: ModelSection,
    n_qpus: int,
    strategy: str,
    *,
    adaptive: AdaptiveSection | None = None,
    p: float | None = None,
) -> tuple[int, ...]:
    """Attempts per round used by a strategy at N (for ``adaptive``: planned with ``p``).

    Parameters
    ----------
    model : AggregateModel
    n_qpus : int
        N >= 1.
    strategy : str
        One of :data:`~modenhub_net.aggregate.config.STRATEGIES`.
    adaptive : AdaptiveSettings, optional
        Target and cap of the adaptive strategies (default settings if None).
    p : float, optional
        Success probability the adaptive plan assumes (default: the true p_eff(N)).
    """
    rounds = model.rounds
    if strategy == "naive":
        return (1,) * rounds
    k = model.k_parallel(n_qpus)
    if strategy in ("orchestrated", "orchestrated_nocache"):
        return (k,) * rounds
    if strategy in ("adaptive", "adaptive_online"):
        settings = adaptive or AdaptiveSettings()
        p_plan = model.p_eff(n_qpus) if p is None else p
        target = settings.target_success
        if target is None:
            target = analytic_success(p_plan, k=k, rounds=rounds)
        return adaptive_schedule(
            p_plan, rounds=rounds, target_success=target, max_parallel=settings.max_parallel
        )
    raise UserInputError(f"strategy = {strategy!r}: unknown (allowed: {', '.join(STRATEGIES)})")


@dataclass(frozen=True)
class PointResult:
    """Per-request outcomes of one (N, strategy) point, in request order.

    Attributes
    ----------
    n_qpus, strategy : int, str
    p_eff : float
        Per-attempt success probability at this N.
    k_parallel : int
        The paper's K(N) (reported for every strategy).
    schedule : tuple of int
        Attempts per round used (``adaptive_online``: the last plan).
    s, d : numpy.ndarray of int32
    success, cache_hit : numpy.ndarray of bool
    attempts : numpy.ndarray of int32
    rounds : numpy.ndarray of int16
        0 for a cache hit.
    analytic_success, analytic_mean_attempts : float
        Closed forms (NaN where none applies: the cached and online strategies).
    """

    n_qpus: int
    strategy: str
    p_eff: float
    k_parallel: int
    schedule: tuple[int, ...]
    s: np.ndarray = field(repr=False)
    d: np.ndarray = field(repr=False)
    success: np.ndarray = field(repr=False)
    attempts: np.ndarray = field(repr=False)
    rounds: np.ndarray = field(repr=False)
    cache_hit: np.ndarray = field(repr=False)
    analytic_success: float = float("nan")
    analytic_mean_attempts: float = float("nan")

    @property
    def trials(self) -> int:
        """Number of requests."""
        return int(self.success.size)

    def raw_stats(self) -> dict[str, object]:
        """Counts and moments of the point (everything of a summary row except intervals)."""
        n = self.trials
        att = self.attempts.astype(np.float64)
        return {
            "n_qpus": self.n_qpus,
            "strategy": self.strategy,
            "trials": n,
            "successes": int(np.count_nonzero(self.success)),
            "mean_attempts": float(att.mean()),
            "attempts_std": float(att.std(ddof=1)) if n >= 2 else float("nan"),
            "cache_hits": int(np.count_nonzero(self.cache_hit)),
            "analytic_success_rate": self.analytic_success,
            "analytic_mean_attempts": self.analytic_mean_attempts,
            "p_eff": self.p_eff,
            "k_parallel": self.k_parallel,
            "schedule": schedule_label(self.schedule),
            "mean_rounds": float(self.rounds.mean()),
        }

    def summary_row(self, *, confidence: float = 0.95) -> dict[str, object]:
        """One row of summary.csv (Wilson interval for success, CLT interval for attempts)."""
        return summarise([self.raw_stats()], confidence=confidence).iloc[0].to_dict()

    def request_arrays(self) -> dict[str, np.ndarray]:
        """Per-request columns :data:`REQUEST_COLUMNS` as arrays (strategy as its code)."""
        n = self.trials
        return {
            "n_qpus": np.full(n, self.n_qpus, dtype=np.int32),
            "strategy": np.full(n, STRATEGIES.index(self.strategy), dtype=np.int8),
            "request": np.arange(n, dtype=np.int32),
            "s": self.s,
            "d": self.d,
            "success": self.success,
            "attempts": self.attempts,
            "rounds": self.rounds,
            "cache_hit": self.cache_hit,
        }

    def requests_frame(self) -> pd.DataFrame:
        """One row per request (columns :data:`REQUEST_COLUMNS`)."""
        return _requests_frame(self.request_arrays())


def _requests_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    columns = dict(columns)
    columns["strategy"] = pd.Categorical.from_codes(
        columns["strategy"].astype(np.int8), categories=list(STRATEGIES)
    )
    return pd.DataFrame(columns, columns=list(REQUEST_COLUMNS))


def _online(
    rng: np.random.Generator,
    model: ModelSection,
    n_qpus: int,
    trials: int,
    settings: AdaptiveSection,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, ...]]:
    """``adaptive_online``: re-plan from the running estimate between doubling batches."""
    p_true = model.p_eff(n_qpus)
    prior = settings.prior_p if settings.prior_p is not None else model.p0
    weight = settings.prior_weight
    seen_attempts, seen_heralds = 0, 0
    success = np.empty(trials, dtype=bool)
    rounds = np.empty(trials, dtype=np.int16)
    attempts = np.empty(trials, dtype=np.int32)
    start, size = 0, settings.first_batch
    schedule: tuple[int, ...] = ()
    while start < trials:
        stop = min(trials, start + size)
        p_hat = (seen_heralds + weight * prior) / (seen_attempts + weight)
        p_hat = min(1.0, max(p_hat, 1e-6))
        schedule = strategy_schedule(model, n_qpus, "adaptive", adaptive=settings, p=p_hat)
        ok, rd, att, her = sample_schedule(rng, p_true, schedule, stop - start)
        success[start:stop], rounds[start:stop], attempts[start:stop] = ok, rd, att
        seen_attempts += int(att.sum())
        seen_heralds += int(her.sum())
        start, size = stop, 2 * size
    return success, rounds, attempts, schedule


def simulate_point(
    model: ModelSection,
    n_qpus: int,
    strategy: str,
    *,
    trials: int,
    seed: int,
    adaptive: AdaptiveSection | None = None,
) -> PointResult:
    """Simulate ``trials`` requests of one strategy at one N.

    Parameters
    ----------
    model : AggregateModel
        Model parameters (p0, beta, kappa, rounds, k_min).
    n_qpus : int
        N >= 2 (N = 1 has no pair s != d: ``UserInputError``).
    strategy : str
        One of :data:`~modenhub_net.aggregate.config.STRATEGIES`.
    trials : int
        Requests (>= 1), handled in order.
    seed : int
        Root seed (>= 0); see the module docstring for the streams used.
    adaptive : AdaptiveSettings, optional
        Settings of the adaptive strategies.

    Returns
    -------
    PointResult

    Examples
    --------
    >>> from modenhub_net.aggregate import AggregateModel
    >>> r = simulate_point(AggregateModel(), 128, "naive", trials=1000, seed=1)
    >>> r.trials, r.schedule
    (1000, (1, 1, 1))
    """
    if strategy not in STRATEGIES:
        raise UserInputError(
            f"strategy = {strategy!r}: unknown (allowed: {', '.join(STRATEGIES)})"
        )
    if isinstance(trials, bool) or int(trials) != trials or trials < 1:
        raise UserInputError(f"trials = {trials!r} must be an integer >= 1")
    trials = int(trials)
    settings = adaptive or AdaptiveSettings()
    s, d = draw_requests(n_qpus, trials, seed=seed)
    p = model.p_eff(n_qpus)
    rng = _rng(seed, f"aggregate/{strategy}/N={n_qpus}")
    nan = float("nan")
    a_success = a_attempts = nan
    hit = np.zeros(trials, dtype=bool)
    if strategy == "adaptive_online":
        success, rounds, attempts, schedule = _online(rng, model, n_qpus, trials, settings)
    else:
        schedule = strategy_schedule(model, n_qpus, strategy, adaptive=settings)
        if strategy in CACHED_STRATEGIES:
            success, rounds, attempts, heralds = sample_schedule(rng, p, schedule, trials)
            lo = np.minimum(s, d).astype(np.int64)
            hi = np.maximum(s, d).astype(np.int64)
            hit = resolve_cache(lo * n_qpus + hi, heralds >= 2)
            success = success | hit
            attempts = np.where(hit, 0, attempts).astype(np.int32)
            rounds = np.where(hit, 0, rounds).astype(np.int16)
        else:
            cum = [int(c) for c in np.cumsum(schedule)]
            success, rounds, attempts, _ = _fresh(
                rng.random(trials), np.log1p(-p), cum, int(np.count_nonzero(schedule)),
                need_after=False,
            )
            a_success = analytic_success(p, k=schedule)
            a_attempts = analytic_mean_attempts(p, k=schedule)
    return PointResult(
        n_qpus=int(n_qpus),
        strategy=strategy,
        p_eff=p,
        k_parallel=model.k_parallel(n_qpus),
        schedule=tuple(schedule),
        s=s,
        d=d,
        success=success,
        attempts=attempts,
        rounds=rounds,
        cache_hit=hit,
        analytic_success=a_success,
        analytic_mean_attempts=a_attempts,
    )


def summarise(
    raw: Sequence[dict[str, object]] | pd.DataFrame, *, confidence: float = 0.95
) -> pd.DataFrame:
    """Summary rows (columns :data:`SUMMARY_COLUMNS`) from :meth:`PointResult.raw_stats` dicts.

    Success: Wilson score interval; mean attempts: ``mean +- z s / sqrt(n)`` with the sample
    standard deviation ``s`` (for ``orchestrated`` the cache makes requests of one pair
    dependent, so that interval is approximate); ``z`` from ``confidence``.
    """
    frame = raw.copy() if isinstance(raw, pd.DataFrame) else pd.DataFrame(list(raw))
    if frame.empty:
        return pd.DataFrame({c: [] for c in SUMMARY_COLUMNS})
    n = frame["trials"].to_numpy(dtype=float)
    lo, hi = wilson_interval(frame["successes"].to_numpy(), n, confidence=confidence)
    a_lo, a_hi = mean_interval(
        mean=frame["mean_attempts"].to_numpy(),
        std=frame["attempts_std"].to_numpy(),
        n=n,
        confidence=confidence,
    )
    frame["success_rate"] = frame["successes"] / n
    frame["success_ci_low"], frame["success_ci_high"] = lo, hi
    frame["attempts_ci_low"], frame["attempts_ci_high"] = a_lo, a_hi
    frame["cache_hit_rate"] = frame["cache_hits"] / n
    return frame[list(SUMMARY_COLUMNS)]


@dataclass(frozen=True)
class StudyResult:
    """Output of :func:`run_study`.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per (n_qpus, strategy), columns :data:`SUMMARY_COLUMNS`.
    requests : pandas.DataFrame or None
        One row per request (columns :data:`REQUEST_COLUMNS`), None if not kept.
    skipped : tuple of (int, str)
        N values that were not simulated and why (N = 1: no pair s != d).
    """

    summary: pd.DataFrame
    requests: pd.DataFrame | None
    skipped: tuple[tuple[int, str], ...]


SKIP_REASON_N1 = "N = 1 has no pair of distinct QPUs (s != d): no request exists, point skipped"


def run_study(
    model: ModelSection,
    *,
    n_qpus: Iterable[int],
    strategies: Sequence[str] = ("naive", "orchestrated", "orchestrated_nocache", "adaptive"),
    trials: int = 2500,
    seed: int,
    adaptive: AdaptiveSection | None = None,
    confidence: float = 0.95,
    keep_requests: bool = True,
) -> StudyResult:
    """Simulate every (N, strategy) point and summarise it.

    Parameters
    ----------
    model : AggregateModel
        Model parameters.
    n_qpus : iterable of int
        N values (>= 1). N = 1 is skipped and reported in ``skipped``.
    strategies : sequence of str, optional
        Strategies to run (default: the paper's three and ``adaptive``).
    trials : int, optional
        Requests per point (default 2,500 as in the paper).
    seed : int
        Root seed (>= 0). Each point uses its own named streams, so its numbers do not
        depend on which other points are run.
    adaptive : AdaptiveSettings, optional
        Settings of the adaptive strategies.
    confidence : float, optional
        Level of the confidence intervals (default 0.95).
    keep_requests : bool, optional
        Also return the per-request table (default True).

    Returns
    -------
    StudyResult

    Examples
    --------
    >>> from modenhub_net.aggregate import AggregateModel
    >>> res = run_study(AggregateModel(), n_qpus=[1, 128], strategies=["naive"], trials=500, seed=3)
    >>> list(res.summary["n_qpus"]), res.skipped[0][0]
    ([128], 1)
    """
    for strategy in strategies:
        if strategy not in STRATEGIES:
            raise UserInputError(
                f"strategy = {strategy!r}: unknown (allowed: {', '.join(STRATEGIES)})"
            )
    ns = [int(n) for n in n_qpus]
    skipped = tuple((1, SKIP_REASON_N1) for n in ns if n == 1)
    keys = [(n, strategy) for n in ns if n != 1 for strategy in strategies]
    if isinstance(trials, bool) or int(trials) != trials or trials < 1:
        raise UserInputError(f"trials = {trials!r} must be an integer >= 1")
    raw, columns = _study_arrays(model, keys, int(trials), seed, adaptive or AdaptiveSettings())
    summary = summarise(raw, confidence=confidence)
    requests = _requests_frame(columns) if keep_requests else None
    return StudyResult(summary=summary, requests=requests, skipped=skipped)


def _study_arrays(
    model: ModelSection,
    keys: list[tuple[int, str]],
    trials: int,
    seed: int,
    settings: AdaptiveSection,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """All points of a study at once; per point exactly the draws of :func:`simulate_point`.

    Each point still draws from its own named streams (so its numbers do not depend on the
    other points); what is batched is the arithmetic: the inverse-CDF kernel runs once over
    the uniforms of every point, the summaries are segment reductions. Per point, only the
    stream set-up, the cache resolution (one sort per N) and ``adaptive_online``'s re-plans
    remain in Python.
    """
    n_points, rounds_max = len(keys), model.rounds
    size = n_points * trials
    cum = np.zeros((max(n_points, 1), rounds_max), dtype=np.int64)
    played = np.zeros(n_points, dtype=np.int64)
    log_q = np.zeros(n_points)
    p_point = np.zeros(n_points)
    labels, k_par = [], np.zeros(n_points, dtype=np.int64)
    a_success = np.full(n_points, np.nan)
    a_attempts = np.full(n_points, np.nan)
    batched = np.zeros(n_points, dtype=bool)
    cols = {
        "s": np.empty(size, dtype=np.int32),
        "d": np.empty(size, dtype=np.int32),
        "success": np.zeros(size, dtype=bool),
        "attempts": np.zeros(size, dtype=np.int32),
        "rounds": np.zeros(size, dtype=np.int16),
        "cache_hit": np.zeros(size, dtype=bool),
    }
    u = np.zeros(size)
    cached: dict[int, np.random.Generator] = {}
    requests: dict[int, tuple[tuple[np.ndarray, np.ndarray], float, int]] = {}
    for j, (n, strategy) in enumerate(keys):
        sl = slice(j * trials, (j + 1) * trials)
        if n not in requests:
            requests = {n: (draw_requests(n, trials, seed=seed), model.p_eff(n),
                            model.k_parallel(n))}
        (cols["s"][sl], cols["d"][sl]), p, k_par[j] = requests[n]
        p_point[j] = p
        if strategy == "adaptive_online":
            rng = _rng(seed, f"aggregate/{strategy}/N={n}")
            ok, rd, att, sched = _online(rng, model, n, trials, settings)
            cols["success"][sl], cols["rounds"][sl], cols["attempts"][sl] = ok, rd, att
            labels.append(schedule_label(sched))
            continue
        sched = strategy_schedule(model, n, strategy, adaptive=settings)
        labels.append(schedule_label(sched))
        cum[j] = np.cumsum(sched)
        played[j] = np.count_nonzero(sched)
        log_q[j] = np.log1p(-p)
        batched[j] = True
        rng = _rng(seed, f"aggregate/{strategy}/N={n}")
        u[sl] = rng.random(trials)
        if strategy in CACHED_STRATEGIES:
            cached[j] = rng
            batched[j] = False  # own kernel call below (it needs the draws after the first)
        else:
            a_success[j] = analytic_success(p, k=sched)
            a_attempts[j] = analytic_mean_attempts(p, k=sched)
    # one kernel pass over every request of every no-cache point, as a (points, trials)
    # table with per-point columns broadcast (other points' rows are dummies, overwritten)
    col = [np.where(batched, cum[:n_points, r], 1)[:, None] for r in range(rounds_max)]
    thr = [-np.expm1(np.where(batched, log_q, np.log(0.5))[:, None] * c) for c in col]
    ok, rd, att, _ = _fresh(
        u.reshape(n_points, trials), None, col, played[:, None], need_after=False,
        thresholds=thr,
    )
    keep = batched[:, None]
    for name, values in (("success", ok), ("rounds", rd), ("attempts", att)):
        table = cols[name].reshape(n_points, trials)
        np.copyto(table, values, where=keep)
    for j, rng in cached.items():
        n = keys[j][0]
        sl = slice(j * trials, (j + 1) * trials)
        ok, rd, att, after = _fresh(u[sl], log_q[j], [int(c) for c in cum[j]], int(played[j]))
        cols["success"][sl], cols["rounds"][sl], cols["attempts"][sl] = ok, rd, att
        fills = ok & (rng.binomial(after, p_point[j]) > 0)
        s_, d_ = cols["s"][sl], cols["d"][sl]
        pair = np.minimum(s_, d_).astype(np.int64) * n + np.maximum(s_, d_)
        hit = resolve_cache(pair, fills)
        cols["cache_hit"][sl] = hit
        cols["success"][sl] |= hit
        cols["attempts"][sl][hit] = 0
        cols["rounds"][sl][hit] = 0
    starts = np.arange(n_points) * trials
    att = cols["attempts"].astype(np.float64)
    if n_points:
        sums = np.add.reduceat(att, starts)
        means = sums / trials
        dev2 = np.add.reduceat((att - np.repeat(means, trials)) ** 2, starts)
        std = np.sqrt(dev2 / (trials - 1)) if trials >= 2 else np.full(n_points, np.nan)
        successes = np.add.reduceat(cols["success"].astype(np.int64), starts)
        hits = np.add.reduceat(cols["cache_hit"].astype(np.int64), starts)
        mean_rounds = np.add.reduceat(cols["rounds"].astype(np.float64), starts) / trials
    else:
        means = std = mean_rounds = np.zeros(0)
        successes = hits = np.zeros(0, dtype=np.int64)
    raw = pd.DataFrame(
        {
            "n_qpus": [k[0] for k in keys],
            "strategy": [k[1] for k in keys],
            "trials": np.full(n_points, trials, dtype=np.int64),
            "successes": successes,
            "mean_attempts": means,
            "attempts_std": std,
            "cache_hits": hits,
            "analytic_success_rate": a_success,
            "analytic_mean_attempts": a_attempts,
            "p_eff": p_point,
            "k_parallel": k_par,
            "schedule": labels,
            "mean_rounds": mean_rounds,
        }
    )
    columns = {
        "n_qpus": np.repeat(np.array([k[0] for k in keys], dtype=np.int32), trials),
        "strategy": np.repeat(
            np.array([STRATEGIES.index(k[1]) for k in keys], dtype=np.int8), trials
        ),
        "request": np.tile(np.arange(trials, dtype=np.int32), n_points),
        **cols,
    }
    return raw, columns
