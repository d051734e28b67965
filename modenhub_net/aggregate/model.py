"""Vectorised Monte Carlo of the aggregate model (ARCHITECTURE.md §5) and its study runner.

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

Vectorisation: every request's *fresh* outcome (what it would do without a cache) is one
uniform: the index of the first successful attempt is geometric, so the round it falls in is
the number of thresholds ``1 - q**S_r`` the uniform reaches (inverse CDF). That *outcome code*
is computed for every request of every point of a study in one pass, and the per-request
columns and the per-point summaries are looked up from it. In the cached strategy a
successful round leaves a spare pair with probability ``P(>= 2 heralds | >= 1)`` (a second
uniform); the cache only couples requests of the same unordered pair, and
:func:`resolve_cache` turns fresh outcomes into hits with array operations over the requests
sorted by pair (no loop over requests or rounds). ``adaptive_online`` loops over a handful
of re-planning batches (sizes doubling), all its points at once
(:func:`~modenhub_net.aggregate.online.sample_online`).

Randomness and reproducibility: no global RNG. Every point, and the request sequence at each
N, draws from its own numbered substream of one named stream
(:mod:`~modenhub_net.aggregate.streams`); the requests at N are shared by all strategies at
that N (common random numbers: the strategies see the same request sequence). Hence a
point's numbers depend only on (model, adaptive settings, N, strategy, trials, seed):
running N = 128 alone gives exactly the numbers it has inside the full study, whatever else
is run and in which order. Numbers are reproducible for a given numpy version (numpy's
PCG64DXSM and its distribution algorithms); they are not promised across numpy releases
that change those algorithms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from modenhub_net.aggregate.adaptive import (
    adaptive_schedule,
    adaptive_schedules,
    orchestrated_total,
    schedule_label,
)
from modenhub_net.aggregate.analytic import as_schedule
from modenhub_net.aggregate.config import (
    MAX_N_QPUS,
    MAX_TRIALS,
    STRATEGIES,
    AdaptiveSection,
    AdaptiveSettings,
    ModelSection,
    check_adaptive_feasible,
    check_study_size,
)
from modenhub_net.aggregate.online import online_batches, sample_online
from modenhub_net.aggregate.streams import StudyStreams
from modenhub_net.config.base import check_count, check_number
from modenhub_net.errors import UserInputError
from modenhub_net.stats import bounded_mean_interval, wilson_interval

__all__ = [
    "SUMMARY_COLUMNS",
    "REQUEST_COLUMNS",
    "PointResult",
    "StudyResult",
    "draw_requests",
    "sample_schedule",
    "resolve_cache",
    "resolve_cache_rows",
    "strategy_schedule",
    "simulate_point",
    "summarise",
    "check_study_arguments",
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

#: requests per block of points in the study kernel: its uniforms, codes and gather indices
#: (~20 bytes a request) stay in a core's cache instead of streaming through memory
_BLOCK_REQUESTS = 80_000


def draw_requests(
    n_qpus: int, trials: int, *, seed: int, streams: StudyStreams | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Requests ``(s, d)`` uniform over the ``N (N - 1)`` ordered pairs with ``s != d``.

    One uniform ``u`` of the request substream of N
    (:class:`~modenhub_net.aggregate.streams.StudyStreams`) per request picks the ordered
    pair ``x = floor(u N (N - 1))``; then ``s = x // (N - 1)`` and ``d = x mod (N - 1)``,
    shifted past ``s`` (``d += d >= s``). (The rounding bias of ``floor(u M)`` is below
    ``M 2**-53``, under 1e-4 at N = 10**6.)

    Parameters
    ----------
    n_qpus : int
        N >= 2.
    trials : int
        Number of requests (>= 1).
    seed : int
        Root seed (>= 0).
    streams : StudyStreams, optional
        The streams of this seed, if the caller already has them.

    Returns
    -------
    (s, d) : tuple of numpy.ndarray of int32
    """
    if n_qpus < 2:
        raise UserInputError(f"n_qpus = {n_qpus!r}: requests need N >= 2 (no pair s != d)")
    rng = (streams or StudyStreams(seed)).requests(n_qpus)
    ordered = n_qpus * (n_qpus - 1)
    x = rng.random(trials)
    x *= ordered
    x = x.astype(np.int32 if ordered < 1 << 31 else np.int64)
    s = x // (n_qpus - 1)
    d = x - s * (n_qpus - 1)  # uniform on 0..N-2, then skip s
    d += d >= s
    return s.astype(np.int32, copy=False), d.astype(np.int32, copy=False)


def _fresh(
    u: np.ndarray, log_q: float, cum: Sequence[int], played: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fresh (cache-less) outcomes from uniforms ``u``, one per request, for one schedule.

    Number a request's potential attempts 1, 2, ... round after round; its first success is
    attempt ``G ~ Geometric(p)``, by inversion ``G = floor(log(1 - u) / log q) + 1``. It falls
    in the first round r with ``S_r >= G``; the request fails if ``G > S_R``. ``cum[r]`` is
    ``S_{r+1}``. Returns success, rounds, attempts and the number of attempts of the
    successful round after its first success (0 for a failure).
    """
    last = cum[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log1p(-u) / log_q  # >= 0, finite for 0 <= u < 1 and 0 < p <= 1
    first = (np.minimum(ratio, last) + 1.0).astype(np.int64)
    reached = [c < first for c in cum]  # round r + 1 failed entirely
    success = ~reached[-1]
    idx = np.zeros(u.shape, dtype=np.int16)
    cum_at = np.broadcast_to(cum[0], u.shape)
    for r in range(1, len(cum)):
        idx += reached[r - 1]
        cum_at = np.where(reached[r - 1], cum[r], cum_at)
    rounds = np.where(success, idx + 1, played).astype(np.int16)
    attempts = np.where(success, cum_at, last).astype(np.int32)
    after = np.where(success, cum_at - first, 0)
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
    if not isinstance(rng, np.random.Generator):
        raise UserInputError(f"rng = {rng!r}: expected a numpy.random.Generator")
    p = check_number("p", p, low=0.0, high=1.0, low_inclusive=False)
    trials = check_count("trials", trials, low=1, high=MAX_TRIALS)
    sched = np.asarray(as_schedule(tuple(schedule)), dtype=np.int64)
    cum = np.cumsum(sched)
    u = rng.random(trials)
    with np.errstate(divide="ignore"):
        log_q = np.log1p(-p)  # -inf at p = 1: the first attempt succeeds
    success, rounds, attempts, after = _fresh(
        u, log_q, [int(c) for c in cum], int(np.count_nonzero(sched))
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
    return resolve_cache_rows(pair.reshape(1, -1), np.asarray(fills, dtype=bool).reshape(1, -1))[0]


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
        if settings.target_success is None:  # the orchestrated success: K R attempts in all
            return adaptive_schedule(
                p_plan, rounds=rounds, max_parallel=settings.max_parallel,
                total_attempts=orchestrated_total(p_plan, k=k, rounds=rounds),
            )
        return adaptive_schedule(p_plan, rounds=rounds, target_success=settings.target_success,
                                 max_parallel=settings.max_parallel)
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
    attempts_max : int
        Most attempts any request of the point could spend (the largest total of its
        plans); bounds the attempts interval. 0: the total of ``schedule``.
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
    attempts_max: int = 0

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
            "attempts_max": self.attempts_max or int(sum(self.schedule)),
        }

    def summary_row(self, *, confidence: float = 0.95) -> dict[str, object]:
        """One row of summary.csv (Wilson interval for success, bounded interval for attempts)."""
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
    columns["strategy"] = pd.Categorical.from_codes(  # codes are STRATEGIES indices by construction
        columns["strategy"].astype(np.int8, copy=False), categories=list(STRATEGIES), validate=False
    )
    # the arrays are fresh and owned by the frame from here on: no copy, no consolidation
    return pd.DataFrame(columns, columns=list(REQUEST_COLUMNS), copy=False)


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
    ns, strategies, trials, seed, settings = check_study_arguments(
        model, n_qpus=[n_qpus], strategies=[strategy], trials=trials, seed=seed, adaptive=adaptive,
        keep_requests=True,
    )
    n_qpus = ns[0]
    if n_qpus < 2:
        raise UserInputError(f"n_qpus = {n_qpus!r}: requests need N >= 2 (no pair s != d)")
    raw, cols = _study_arrays(model, [(n_qpus, strategy)], trials, seed, settings)
    row = {name: values[0] for name, values in raw.items()}
    return PointResult(
        n_qpus=int(n_qpus),
        strategy=strategy,
        p_eff=float(row["p_eff"]),
        k_parallel=int(row["k_parallel"]),
        schedule=tuple(row["schedule_used"]),
        s=cols["s"],
        d=cols["d"],
        success=cols["success"],
        attempts=cols["attempts"],
        rounds=cols["rounds"],
        cache_hit=cols["cache_hit"],
        analytic_success=float(row["analytic_success_rate"]),
        analytic_mean_attempts=float(row["analytic_mean_attempts"]),
        attempts_max=int(row["attempts_max"]),
    )


def summarise(
    raw: Sequence[dict[str, object]] | Mapping[str, Sequence] | pd.DataFrame,
    *,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Summary rows (columns :data:`SUMMARY_COLUMNS`) from :meth:`PointResult.raw_stats` dicts
    (or a frame, or a mapping of columns, holding those fields).

    Success: Wilson score interval (:func:`~modenhub_net.stats.wilson_interval`); mean
    attempts: :func:`~modenhub_net.stats.bounded_mean_interval` on ``[0, attempts_max]`` (a
    request spends between 0 and its plan's total attempts), from the sample standard
    deviation; both stay inside their ranges. For ``orchestrated`` the cache makes requests
    of one pair dependent, so the attempts interval is approximate. ``z`` from
    ``confidence``. Without an ``attempts_max`` field the bound is the total of the
    ``schedule`` label.
    """
    if isinstance(raw, pd.DataFrame):
        columns = {name: raw[name].to_numpy() for name in raw.columns}
    elif isinstance(raw, Mapping):
        columns = {name: np.asarray(values) for name, values in raw.items() if name != "schedule_used"}
    else:
        rows = list(raw)
        columns = {name: np.array([row[name] for row in rows]) for name in (rows[0] if rows else ())}
    if not columns or len(columns["trials"]) == 0:
        return pd.DataFrame({c: [] for c in SUMMARY_COLUMNS})
    n = columns["trials"].astype(float)
    successes = columns["successes"]
    lo, hi = wilson_interval(successes, n, confidence=confidence)
    if "attempts_max" in columns:
        bound = columns["attempts_max"].astype(float)
    else:  # the total of each point's schedule label, "5-7-9" -> 21
        bound = np.array([sum(int(k) for k in str(label).split("-")) if str(label) else np.nan
                          for label in columns["schedule"]], dtype=float)
    mean_att = columns["mean_attempts"].astype(float)
    known = np.isfinite(bound) & (bound >= 1.0)
    a_lo, a_hi = bounded_mean_interval(
        mean=np.where(known, np.minimum(mean_att, np.where(known, bound, 1.0)), 0.0),
        std=columns["attempts_std"], n=n, low=0.0, high=np.where(known, bound, 1.0),
        confidence=confidence,
    )
    a_lo, a_hi = np.where(known, a_lo, np.nan), np.where(known, a_hi, np.nan)
    derived = {
        "success_rate": successes / n,
        "success_ci_low": lo,
        "success_ci_high": hi,
        "attempts_ci_low": a_lo,
        "attempts_ci_high": a_hi,
        "cache_hit_rate": columns["cache_hits"] / n,
    }
    return pd.DataFrame({name: derived.get(name, columns.get(name)) for name in SUMMARY_COLUMNS})


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
        N values, integers in [1, :data:`~modenhub_net.aggregate.config.MAX_N_QPUS`]
        (10**6). N = 1 is skipped and reported in ``skipped``.
    strategies : sequence of str, optional
        Strategies to run (default: the paper's three and ``adaptive``).
    trials : int, optional
        Requests per point (default 2,500 as in the paper), an integer in [1, 10**8].
        The study's size, points x trials, is bounded up front (see
        :func:`check_study_arguments`).
    seed : int
        Root seed, an integer in [0, 2**63 - 1]. Each point uses its own named streams, so
        its numbers do not depend on which other points are run.
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
    ns, strategies, trials, seed, settings = check_study_arguments(
        model, n_qpus=n_qpus, strategies=strategies, trials=trials, seed=seed, adaptive=adaptive,
        keep_requests=keep_requests,
    )
    confidence = check_number("confidence", confidence, low=0.0, high=1.0, low_inclusive=False,
                              high_inclusive=False)
    skipped = tuple((1, SKIP_REASON_N1) for n in ns if n == 1)
    keys = [(n, strategy) for n in ns if n != 1 for strategy in strategies]
    raw, columns = _study_arrays(model, keys, trials, seed, settings, keep_columns=keep_requests)
    summary = summarise(raw, confidence=confidence)
    requests = _requests_frame(columns) if keep_requests else None
    return StudyResult(summary=summary, requests=requests, skipped=skipped)


def check_study_arguments(
    model: ModelSection,
    *,
    n_qpus: Iterable[int],
    strategies: Sequence[str],
    trials: int,
    seed: int,
    adaptive: AdaptiveSection | None,
    keep_requests: bool,
) -> tuple[list[int], list[str], int, int, AdaptiveSection]:
    """Validate the arguments of :func:`run_study` up front, before any work is done.

    Checks types (a bool or a float is not a count, a string is not a list), ranges, the
    study size and whether the adaptive strategies can plan:

    - N in [1, :data:`~modenhub_net.aggregate.config.MAX_N_QPUS`], trials in
      [1, :data:`~modenhub_net.aggregate.config.MAX_TRIALS`], seed in [0, 2**63 - 1];
    - points x trials at most :data:`~modenhub_net.aggregate.config.MAX_STUDY_REQUESTS`
      (:data:`~modenhub_net.aggregate.config.MAX_STUDY_REQUESTS_KEPT` with the
      per-request table, ~25 bytes a request), see
      :func:`~modenhub_net.aggregate.config.check_study_size`;
    - ``adaptive`` with the default target plans ``K(N) R`` attempts, ``adaptive`` with a
      target the attempts that target needs at ``p_eff(N)``: both at most
      :data:`~modenhub_net.aggregate.adaptive.MAX_TOTAL_ATTEMPTS` and
      ``adaptive.max_parallel * R`` (``adaptive_online`` checks the default target's
      ``K(N) R``; a user target is planned as far as possible at its running estimate).

    Returns
    -------
    (ns, strategies, trials, seed, adaptive)
        Normalised: Python ints and strs, the adaptive settings (defaults if None).

    Raises
    ------
    UserInputError
        Naming the argument (or the model/adaptive field), its value and what is allowed.
    """
    if not isinstance(model, ModelSection):
        raise UserInputError(f"model = {model!r}: expected an AggregateModel (or a scenario's "
                             "[model] section)")
    if adaptive is None:
        adaptive = AdaptiveSettings()
    elif not isinstance(adaptive, AdaptiveSection):
        raise UserInputError(f"adaptive = {adaptive!r}: expected AdaptiveSettings or None")
    if isinstance(n_qpus, (str, bytes, Mapping)) or not isinstance(n_qpus, Iterable):
        raise UserInputError(f"n_qpus = {n_qpus!r}: expected a list of integers")
    ns = [check_count(f"n_qpus[{i}]", n, low=1, high=MAX_N_QPUS) for i, n in enumerate(n_qpus)]
    if isinstance(strategies, (str, bytes)) or not isinstance(strategies, Iterable):
        raise UserInputError(f"strategies = {strategies!r}: expected a list of strategy names "
                             f"(allowed: {', '.join(STRATEGIES)})")
    strategies = list(strategies)
    for strategy in strategies:
        if not isinstance(strategy, str) or strategy not in STRATEGIES:
            raise UserInputError(
                f"strategy = {strategy!r}: unknown (allowed: {', '.join(STRATEGIES)})"
            )
    trials = check_count("trials", trials, low=1, high=MAX_TRIALS)
    seed = check_count("seed", seed, low=0, high=2**63 - 1)
    if not isinstance(keep_requests, (bool, np.bool_)):
        raise UserInputError(f"keep_requests = {keep_requests!r}: expected True or False")
    points = sum(n != 1 for n in ns) * len(strategies)
    check_study_size(points, trials, keep_requests=bool(keep_requests),
                     names=("n_qpus", "strategies", "trials"))
    used = [n for n in ns if n != 1]
    if used and any(s in ("adaptive", "adaptive_online") for s in strategies):
        check_adaptive_feasible(model, adaptive, used, known_p="adaptive" in strategies)
    return ns, strategies, trials, seed, adaptive


def _study_arrays(
    model: ModelSection,
    keys: list[tuple[int, str]],
    trials: int,
    seed: int,
    settings: AdaptiveSection,
    *,
    keep_columns: bool = True,
) -> tuple[dict[str, object], dict[str, np.ndarray]]:
    """All points of a study at once; per point exactly the draws of :func:`simulate_point`.

    Returns the per-point fields of :meth:`PointResult.raw_stats` (as columns) and, if
    ``keep_columns``, the per-request columns :data:`REQUEST_COLUMNS` (else an empty dict:
    the summaries need only the histograms of the outcome codes).

    Each point draws from its own named streams (so its numbers do not depend on the other
    points); what is batched is everything else. Every request gets an *outcome code*: ``c <
    R`` succeeded in round ``c + 1``, ``R`` failed, ``R + 1`` was a cache hit. The code is
    the number of thresholds ``1 - q**S_r`` its uniform reaches (the inverse CDF of the
    geometric index of the first success). Codes, per-request columns (looked up from small
    per-point tables) and per-point histograms (the summaries) are computed a block of
    ~80,000 requests at a time, so the working arrays stay in cache. Per point only the stream
    set-up and the draws remain in Python; the cache's sorts go a block of points at a time
    and ``adaptive_online``'s re-plans a batch of all its points at a time.
    """
    n_points, rounds_max = len(keys), model.rounds
    width = rounds_max + 2  # outcome codes 0..R-1 (success round), R (failure), R+1 (cache hit)
    ns = np.array([k[0] for k in keys], dtype=np.int64)
    strategies = [k[1] for k in keys]
    p_point = np.asarray(model.p_eff(ns), dtype=float) if n_points else np.zeros(0)
    k_par = np.asarray(model.k_parallel(ns), dtype=np.int64) if n_points else np.zeros(0, np.int64)
    sched, labels = _schedules(model, ns, strategies, p_point, k_par, settings)
    cum = np.cumsum(sched, axis=1)
    played = np.count_nonzero(sched, axis=1)
    with np.errstate(divide="ignore"):
        log_q = np.log1p(-p_point)  # -inf at p = 1: every threshold 1 - q**S_r is 1
    cached = [j for j, strategy in enumerate(strategies) if strategy in CACHED_STRATEGIES]
    cached_row = {j: c for c, j in enumerate(cached)}

    # draws: each point from its own streams, in the order of simulate_point; the requests
    # once per run of equal N (row request_row[j] of s_runs / d_runs for point j)
    runs = 1 + int(np.count_nonzero(ns[1:] != ns[:-1])) if n_points else 0
    s_runs = np.empty((runs, trials), dtype=np.int32)
    d_runs = np.empty((runs, trials), dtype=np.int32)
    request_row = np.empty(n_points, dtype=np.int64)
    # outcome codes of fresh service, a block of points at a time from a cache-sized buffer
    thresholds = -np.expm1(log_q[:, None] * cum)  # 1 - q**S_r, (points, R)
    code_dtype = np.int8 if width <= 127 else np.int16  # codes 0..R+1 (R <= MAX_ROUNDS)
    code = np.zeros((n_points, trials), dtype=code_dtype)
    block = max(1, min(n_points, _BLOCK_REQUESTS // max(trials, 1)))
    u = np.empty((block, trials))
    reached = np.empty((block, trials), dtype=bool)
    drawn: list[int] = []

    def codes_of_drawn() -> None:
        rows = np.asarray(drawn)
        part = np.zeros((rows.size, trials), dtype=code_dtype)
        for r in range(rounds_max):
            np.greater_equal(u[: rows.size], thresholds[rows, r : r + 1], out=reached[: rows.size])
            part += reached[: rows.size]
        code[rows] = part
        drawn.clear()

    u_fill = np.empty((len(cached), trials))  # second uniform of a cached point: spare pair?
    online = [j for j, strategy in enumerate(strategies) if strategy == "adaptive_online"]
    online_row = {j: i for i, j in enumerate(online)}
    n_batches = len(online_batches(trials, settings.first_batch))
    u_online = np.empty((len(online), trials + n_batches))  # per request, then per batch
    streams = StudyStreams(seed)
    plans = [tuple(row) for row in sched.tolist()]
    last_n, run = None, -1
    for j, (n, strategy) in enumerate(keys):
        if n != last_n:
            run, last_n = run + 1, n
            s_runs[run], d_runs[run] = draw_requests(n, trials, seed=seed, streams=streams)
        request_row[j] = run
        rng = streams.outcomes(n, strategy)
        if strategy == "adaptive_online":  # sampled below, all online points together
            rng.random(out=u_online[online_row[j]])
            continue
        rng.random(out=u[len(drawn)])
        drawn.append(j)
        if j in cached_row:
            rng.random(out=u_fill[cached_row[j]])
        if len(drawn) == block:
            codes_of_drawn()
    if drawn:
        codes_of_drawn()

    if cached:
        rows = np.asarray(cached)
        _serve_cached(code, u_fill, rows, ns, s_runs[request_row[rows]], d_runs[request_row[rows]],
                      p_point, sched)

    # per-point lookup tables of the codes, then columns and histograms, a block at a time
    att_tab = np.zeros((n_points, width), dtype=np.int32)
    att_tab[:, :rounds_max] = cum
    att_tab[:, rounds_max] = cum[:, -1] if n_points else 0
    rnd_tab = np.zeros((n_points, width), dtype=np.int16)
    rnd_tab[:, :rounds_max] = np.arange(1, rounds_max + 1)
    rnd_tab[:, rounds_max] = played
    suc_tab = np.ones((n_points, width), dtype=bool)
    suc_tab[:, rounds_max] = False
    cols: dict[str, np.ndarray] = {}
    if keep_columns:
        cols = _request_columns(n_points * trials)
        grid = {name: column.reshape(n_points, trials) for name, column in cols.items()}
        np.take(s_runs, request_row, axis=0, out=grid["s"])
        np.take(d_runs, request_row, axis=0, out=grid["d"])
        np.not_equal(code, rounds_max, out=grid["success"])
        np.equal(code, rounds_max + 1, out=grid["cache_hit"])
        grid["n_qpus"][:] = ns.astype(np.int32)[:, None]
        grid["strategy"][:] = np.array([STRATEGIES.index(s) for s in strategies], dtype=np.int8)[:, None]
        grid["request"][:] = np.arange(trials, dtype=np.int32)
    counts = np.zeros((n_points, width), dtype=np.int64)
    local = (np.arange(block, dtype=np.int64) * width)[:, None]
    for b0 in range(0, n_points, block):
        b1 = min(n_points, b0 + block)
        flat = np.add(code[b0:b1], local[: b1 - b0], dtype=np.int64)
        if keep_columns:
            out = slice(b0 * trials, b1 * trials)
            # (indices are in range by construction: mode="wrap" skips numpy's bounds check)
            np.take(att_tab[b0:b1].reshape(-1), flat, mode="wrap",
                    out=cols["attempts"][out].reshape(b1 - b0, trials))
            np.take(rnd_tab[b0:b1].reshape(-1), flat, mode="wrap",
                    out=cols["rounds"][out].reshape(b1 - b0, trials))
        counts[b0:b1] = np.bincount(flat.reshape(-1), minlength=(b1 - b0) * width).reshape(-1, width)
    att_f = att_tab.astype(np.float64)
    successes = (counts * suc_tab).sum(axis=1)
    hits = counts[:, rounds_max + 1].copy()
    sums = (counts * att_f).sum(axis=1)
    squares = (counts * att_f**2).sum(axis=1)
    mean_rounds = (counts * rnd_tab).sum(axis=1) / trials
    attempts_max = cum[:, -1].astype(np.int64) if n_points else np.zeros(0, np.int64)
    if online:
        rows = np.asarray(online)
        step = int(rows[1] - rows[0]) if rows.size > 1 else 1
        regular = bool(np.all(np.diff(rows) == step)) and step > 0
        names = ("success", "rounds", "attempts")
        if not keep_columns:
            out = None
        elif regular:  # e.g. every 5th point: write straight into the table's rows
            out = tuple(cols[name].reshape(n_points, trials)[rows[0] :: step][: rows.size] for name in names)
        else:
            out = tuple(np.empty((rows.size, trials), dtype=cols[name].dtype) for name in names)
        last, totals = sample_online(u_online, trials=trials, model=model, p_true=p_point[online],
                                     k_par=k_par[online], settings=settings, out=out)
        if keep_columns and not regular:
            for name, part in zip(names, out, strict=True):
                cols[name].reshape(n_points, trials)[rows] = part
        for i, j in enumerate(online):
            plans[j], labels[j] = last[i], schedule_label(last[i])
        successes[online], hits[online] = totals["successes"], 0
        attempts_max[online] = totals["max_total"]
        sums[online], squares[online] = totals["attempts"], totals["attempts_squared"]
        mean_rounds[online] = totals["rounds"] / trials
    means = sums / trials
    if trials >= 2:
        std = np.sqrt(np.maximum(squares - trials * means**2, 0.0) / (trials - 1))
    else:
        std = np.full(n_points, np.nan)

    closed_form = np.array([s not in CACHED_STRATEGIES and s != "adaptive_online" for s in strategies],
                           dtype=bool)
    q = 1.0 - p_point
    a_success = np.where(closed_form, 1.0 - q ** cum[:, -1] if n_points else 0.0, np.nan)
    before = cum - sched
    a_attempts = np.where(closed_form, (sched * q[:, None] ** before).sum(axis=1), np.nan)
    raw = {
        "n_qpus": ns,
        "strategy": strategies,
        "trials": np.full(n_points, trials, dtype=np.int64),
        "successes": successes.astype(np.int64),
        "mean_attempts": means,
        "attempts_std": std,
        "cache_hits": hits.astype(np.int64),
        "analytic_success_rate": a_success,
        "analytic_mean_attempts": a_attempts,
        "p_eff": p_point,
        "k_parallel": k_par,
        "schedule": labels,
        "mean_rounds": mean_rounds,
        "schedule_used": plans,
        "attempts_max": attempts_max,
    }
    return raw, cols


#: dtype of each per-request column
_REQUEST_DTYPES: dict[str, type] = {
    "n_qpus": np.int32,
    "strategy": np.int8,
    "request": np.int32,
    "s": np.int32,
    "d": np.int32,
    "success": np.bool_,
    "attempts": np.int32,
    "rounds": np.int16,
    "cache_hit": np.bool_,
}


def _request_columns(size: int) -> dict[str, np.ndarray]:
    """Empty per-request columns (:data:`REQUEST_COLUMNS`), views of one buffer.

    One allocation instead of nine: numpy asks the kernel for transparent huge pages for
    buffers of 4 MiB and more, so a large table costs a few dozen page faults instead of one
    per 4 KiB page (on a virtual machine a fault costs microseconds; the table of the paper
    study is ~40 MB). The buffer lives as long as any of its columns.
    """
    align = 64  # each column starts on a cache line
    nbytes = {name: size * np.dtype(_REQUEST_DTYPES[name]).itemsize for name in REQUEST_COLUMNS}
    buffer = np.empty(sum(-(-n // align) * align for n in nbytes.values()), dtype=np.uint8)
    columns, start = {}, 0
    for name in REQUEST_COLUMNS:
        columns[name] = buffer[start : start + nbytes[name]].view(_REQUEST_DTYPES[name])
        start += -(-nbytes[name] // align) * align
    return columns


def _schedules(
    model: ModelSection,
    ns: np.ndarray,
    strategies: list[str],
    p_point: np.ndarray,
    k_par: np.ndarray,
    settings: AdaptiveSection,
) -> tuple[np.ndarray, list[str]]:
    """Attempts per round of every point, ``(points, R)``, and their labels (as
    :func:`strategy_schedule`; the adaptive plans are computed together)."""
    rounds = model.rounds
    sched = np.ones((len(strategies), rounds), dtype=np.int64)
    for j, strategy in enumerate(strategies):
        if strategy in ("orchestrated", "orchestrated_nocache"):
            sched[j] = k_par[j]
    adaptive = [j for j, strategy in enumerate(strategies) if strategy == "adaptive"]
    if adaptive:
        p = p_point[adaptive]
        if settings.target_success is None:  # the orchestrated success: K R attempts in all
            plans = adaptive_schedules(p, rounds=rounds, max_parallel=settings.max_parallel,
                                       total_attempts=np.where(p >= 1.0, 1, k_par[adaptive] * rounds))
        else:
            plans = adaptive_schedules(p, rounds=rounds, max_parallel=settings.max_parallel,
                                       target_success=np.full(len(adaptive), settings.target_success))
        sched[adaptive] = np.array(plans, dtype=np.int64)
    labels: dict[tuple[int, ...], str] = {}  # few distinct schedules: label each once
    rows = [tuple(row) for row in sched.tolist()]
    return sched, [labels.get(row) or labels.setdefault(row, schedule_label(row)) for row in rows]


def _serve_cached(
    code: np.ndarray,
    u_fill: np.ndarray,
    rows: np.ndarray,
    ns: np.ndarray,
    s: np.ndarray,
    d: np.ndarray,
    p_point: np.ndarray,
    sched: np.ndarray,
) -> None:
    """Spare pairs and cache hits of the cached points (their codes are changed in place).

    A fresh request that succeeded in a round of ``k`` attempts had at least one herald;
    it leaves a spare pair iff it had two or more, which given one or more has probability
    ``1 - k p q**(k - 1) / (1 - q**k)`` (``0`` for ``k = 1``), decided by the point's second
    uniform. :func:`resolve_cache_rows` then marks the hits (code ``R + 1``). ``s`` and
    ``d`` hold the requests of the cached points (point indices ``rows``), one row each.
    """
    rounds_max = sched.shape[1]
    p = p_point[rows][:, None]
    k = sched[rows].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):  # p = 1: log q = -inf, spare = 1 (k >= 2)
        log_q = np.log1p(-p)
        single = k * p * np.exp((k - 1.0) * log_q) / -np.expm1(k * log_q)  # P(1 herald | >= 1)
    spare = np.where(k >= 2, np.clip(1.0 - single, 0.0, 1.0), 0.0)  # per round
    fresh = code[rows]
    if np.all(sched[rows] == sched[rows][:, :1]):  # the same k every round: one threshold a point
        fills = (fresh < rounds_max) & (u_fill < spare[:, :1])
    else:  # threshold of the successful round (failures: 0)
        table = np.zeros((rows.size, rounds_max + 2))
        table[:, :rounds_max] = spare
        index = np.add(fresh, (np.arange(rows.size, dtype=np.int64) * (rounds_max + 2))[:, None],
                       dtype=np.int64)
        fills = u_fill < np.take(table.reshape(-1), index, mode="wrap")  # in range by construction
    wide = np.int32 if int(ns[rows].max()) < 46_341 else np.int64  # ids below N**2
    pairs = np.minimum(s, d).astype(wide)
    pairs *= ns[rows][:, None].astype(wide)
    pairs += np.maximum(s, d)  # unordered pair id min N + max, per point
    fresh[resolve_cache_rows(pairs, fills)] = rounds_max + 1
    code[rows] = fresh


def resolve_cache_rows(pairs: np.ndarray, fills: np.ndarray) -> np.ndarray:
    """:func:`resolve_cache` for each row of ``pairs`` / ``fills`` (independent caches).

    Rows are packed into blocks whose pair ids, offset row by row so that no two rows share
    an id, fit 15 bits: one stable sort of a block is then numpy's radix sort, and a block
    holds many small-N rows (few pairs each) or a few large-N ones, so the work is a few
    array passes per block instead of per row. A row whose own ids need more than 15 bits
    (N > 256) is a block of its own, sorted by a stable merge sort.
    """
    pairs = np.asarray(pairs)
    fills = np.asarray(fills, dtype=bool)
    n_rows, n = pairs.shape
    hit = np.zeros(pairs.shape, dtype=bool)
    if n == 0 or n_rows == 0:
        return hit
    if pairs.min() < 0:
        raise ValueError("resolve_cache_rows: pair ids must be >= 0")
    span = pairs.max(axis=1).astype(np.int64) + 1  # ids a row can use
    limit = 1 << 15
    start = 0
    while start < n_rows:
        stop, used = start + 1, int(span[start])
        while stop < n_rows and used + span[stop] <= limit:
            used += int(span[stop])
            stop += 1
        offsets = np.concatenate(([0], np.cumsum(span[start : stop - 1])))[:, None]
        keys = pairs[start:stop] + offsets
        keys = keys.astype(np.int16 if used <= limit else np.int64).reshape(-1)
        hit[start:stop] = _alternating_hits(keys, fills[start:stop].reshape(-1)).reshape(
            stop - start, n
        )
        start = stop
    return hit


def _alternating_hits(keys: np.ndarray, fills: np.ndarray) -> np.ndarray:
    """Hits of one sequence of requests with pair ids ``keys`` (see :func:`resolve_cache`).

    In the order sorted by pair, a *piece* starts at every request whose predecessor is of
    another pair or does not fill; inside a piece hits alternate, so ``hit_i`` is the parity
    of ``i - start(i)``, i.e. ``parity(i) xor parity(start(i))``. The parity of the latest
    start is carried forward by a cumulative sum of its changes, placed at the starts.
    """
    size = keys.size
    order = np.argsort(keys, kind="stable")
    sorted_keys, sorted_fills = keys[order], fills[order]
    cut = np.empty(size, dtype=bool)
    cut[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=cut[1:])
    cut[1:] |= ~sorted_fills[:-1]
    starts = np.flatnonzero(cut)
    start_parity = (starts & 1).astype(np.int8)
    changes = np.zeros(size, dtype=np.int8)
    changes[starts] = np.diff(start_parity, prepend=np.int8(0))
    latest_start_parity = np.cumsum(changes, dtype=np.int8)  # stays 0 or 1
    parity = (np.arange(size) & 1).astype(np.int8)
    hit = np.empty(size, dtype=bool)
    hit[order] = (latest_start_parity ^ parity).view(bool)
    return hit
