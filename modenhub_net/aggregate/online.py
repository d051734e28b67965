"""``adaptive_online``: re-planning from the heralds seen so far, for many points at once.

Each point re-plans from its running estimate ``p_hat = (heralds + w p_prior) / (attempts +
w)`` before batches of requests that double in size (:func:`online_batches`); batch ``b``
of every point is planned together (:func:`~modenhub_net.aggregate.adaptive.adaptive_schedules`) and
sampled together. All of a point's randomness is drawn before the first batch, one uniform
per request and one per batch, so a point's numbers depend only on its own substream.

Per request the first success is attempt ``G ~ Geometric(p)``, by inversion of its uniform
``u``: ``G = floor(log(1 - u) / log(1 - p)) + 1``. ``G`` fixes the round, the rounds played
and the attempts spent. The heralds a batch adds to the estimate are its successes plus the
successes among the ``S_round - G`` attempts after each first success: a sum of independent
``Binomial(S_round - G, p)``, i.e. one ``Binomial(sum of (S_round - G), p)`` per point and
batch, drawn by inverting its CDF at the batch's uniform (:func:`binomial_quantile`).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from modenhub_net.aggregate.adaptive import adaptive_schedules
from modenhub_net.aggregate.config import AdaptiveSection, ModelSection

__all__ = ["binomial_quantile", "online_batches", "sample_online"]


def online_batches(trials: int, first_batch: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of the re-planning batches: sizes ``first_batch``, twice that, ...

    Parameters
    ----------
    trials : int
        Requests of the point (>= 1).
    first_batch : int
        Size of the first batch (>= 1).

    Examples
    --------
    >>> online_batches(100, 10)
    [(0, 10), (10, 30), (30, 70), (70, 100)]
    """
    batches, start, size = [], 0, int(first_batch)
    while start < trials:
        stop = min(trials, start + size)
        batches.append((start, stop))
        start, size = stop, 2 * size
    return batches


def binomial_quantile(v: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Smallest ``k`` with ``P(Binomial(n, p) <= k) >= v``: a binomial draw by inversion.

    For ``v`` uniform on [0, 1) the result is ``Binomial(n, p)``-distributed (inverse
    transform sampling; L. Devroye, *Non-Uniform Random Variate Generation*, Springer 1986,
    §2.1). The Cornish-Fisher expansion of the quantile to first order in the skewness,
    ``ceil(n p + s (z + g (z**2 - 1) / 6) - 1/2)`` with ``s = sqrt(n p (1 - p))``, ``g = (1 - 2p)
    / s`` and ``z`` the normal quantile of ``v`` (M. G. Kendall & A. Stuart, *The Advanced
    Theory of Statistics*, vol. 1, §6.25), is a guess within a unit or two; unit steps
    against the CDF (``scipy.special.bdtr``, the regularised incomplete beta function, with
    ``P(X <= k - 1) = P(X <= k) - P(X = k)``) then make it the integer quantile, exact up to
    the ~1e-16 rounding of the CDF.

    Parameters
    ----------
    v : numpy.ndarray of float
        Uniforms in [0, 1).
    n : numpy.ndarray of int
        Numbers of trials (>= 0).
    p : numpy.ndarray of float
        Success probabilities in (0, 1].

    Returns
    -------
    numpy.ndarray of int64
    """
    v, n, p = np.broadcast_arrays(np.asarray(v, float), np.asarray(n, np.int64), np.asarray(p, float))
    sd = np.sqrt(n * p * (1.0 - p))
    z = special.ndtri(np.clip(v, 1e-300, 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        skew_term = np.where(sd > 0, (1.0 - 2.0 * p) / sd * (z * z - 1.0) / 6.0, 0.0)
    guess = np.ceil(n * p + sd * (z + skew_term) - 0.5)  # continuity-corrected
    k = np.minimum(np.maximum(guess, 0.0), n).astype(np.int64)
    todo = (n > 0) & (v > 0.0) & (p < 1.0)
    while todo.any():
        idx = np.flatnonzero(todo)
        ki, ni, pi, vi = k[idx], n[idx], p[idx], v[idx]
        cdf = special.bdtr(ki, ni, pi)
        log_pmf = (special.gammaln(ni + 1.0) - special.gammaln(ki + 1.0) - special.gammaln(ni - ki + 1.0)
                   + ki * np.log(pi) + (ni - ki) * np.log1p(-pi))
        cdf_below = cdf - np.exp(log_pmf)  # P(X <= k - 1)
        lower = (ki >= 1) & (cdf_below >= vi)  # k - 1 is enough already
        higher = ~lower & (ki < ni) & (cdf < vi)  # k falls short
        k[idx] = ki - lower + higher
        todo[idx] = lower | higher
    return np.where((n == 0) | (v <= 0.0), 0, np.where(p >= 1.0, n, k))


def sample_online(
    uniforms: np.ndarray,
    *,
    trials: int,
    model: ModelSection,
    p_true: np.ndarray,
    k_par: np.ndarray,
    settings: AdaptiveSection,
    out: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[list[tuple[int, ...]], dict[str, np.ndarray]]:
    """``adaptive_online`` at several points from their pre-drawn uniforms.

    Parameters
    ----------
    uniforms : numpy.ndarray, shape (points, trials + batches)
        Point ``i``'s uniforms in [0, 1): one per request, then one per batch of
        ``online_batches(trials, settings.first_batch)``.
    trials : int
        Requests per point.
    model : AggregateModel
        Rounds and the prior ``p0``.
    p_true : numpy.ndarray
        True p_eff of each point.
    k_par : numpy.ndarray
        K(N) of each point (the default target is the orchestrated success at ``p_hat``, i.e.
        ``K R`` attempts in all, 1 at ``p_hat = 1``). A target that needs more attempts than
        ``max_parallel * R`` (or the planner's limit) at the current estimate is planned
        with as many attempts as allowed: the estimate is not the user's input.
    settings : AdaptiveSettings
        Target, cap, prior and first batch size.
    out : (success, rounds, attempts), optional
        ``(points, trials)`` arrays (bool, int16, int32; views are fine) that receive the
        per-request outcomes; without them only the totals are kept.

    Returns
    -------
    plans : list of tuple of int
        Each point's last plan.
    totals : dict of numpy.ndarray
        Per point: ``successes``, ``attempts``, ``attempts_squared`` and ``rounds`` summed
        over its requests, and ``max_total``, the largest total of its plans (no request
        spends more attempts).
    """
    n_points, rounds_max = uniforms.shape[0], model.rounds
    prior = settings.prior_p if settings.prior_p is not None else model.p0
    weight = settings.prior_weight
    batches = online_batches(trials, settings.first_batch)
    if uniforms.shape[1] != trials + len(batches):
        raise ValueError(f"sample_online: {uniforms.shape[1]} uniforms a point, "
                         f"expected {trials} + {len(batches)}")
    herald_u = uniforms[:, trials:]
    with np.errstate(divide="ignore"):
        log_q = np.log1p(-p_true)[:, None]  # -inf at p = 1: the first attempt succeeds
    seen_attempts = np.zeros(n_points)
    seen_heralds = np.zeros(n_points)
    width = rounds_max + 1  # codes 0..R-1: success in round c + 1; R: failure
    offsets = (np.arange(n_points, dtype=np.int64) * width)[:, None]
    totals = {name: np.zeros(n_points) for name in ("successes", "attempts", "attempts_squared", "rounds")}
    totals["max_total"] = np.zeros(n_points, dtype=np.int64)
    plans: list[tuple[int, ...]] = [()] * n_points
    # one workspace for the largest batch (fresh buffers each batch would cost page faults)
    widest = max((stop - start for start, stop in batches), default=0) * n_points
    ws_ratio, ws_index = np.empty(widest), np.empty(widest, dtype=np.int64)
    ws_code = np.empty(widest, dtype=np.int8 if width <= 127 else np.int16)  # codes 0..R
    ws_reached = np.empty(widest, dtype=bool)
    ws_att = np.empty(widest, dtype=np.int32)
    for b, (start, stop) in enumerate(batches):
        size = n_points * (stop - start)
        ratio, index, code, reached, att = (ws[:size].reshape(n_points, stop - start)
                                            for ws in (ws_ratio, ws_index, ws_code, ws_reached, ws_att))
        p_hat = np.clip((seen_heralds + weight * prior) / (seen_attempts + weight), 1e-6, 1.0)
        if settings.target_success is None:  # the orchestrated success at p_hat: K R attempts
            plans = adaptive_schedules(p_hat, rounds=rounds_max, max_parallel=settings.max_parallel,
                                       total_attempts=np.where(p_hat >= 1.0, 1, k_par * rounds_max),
                                       best_effort=True)
        else:  # best effort: p_hat is an estimate, not the user's input
            plans = adaptive_schedules(p_hat, rounds=rounds_max, max_parallel=settings.max_parallel,
                                       target_success=np.full(n_points, settings.target_success),
                                       best_effort=True)
        sched = np.array(plans, dtype=np.int64)
        cum = np.cumsum(sched, axis=1)
        np.maximum(totals["max_total"], cum[:, -1], out=totals["max_total"])
        with np.errstate(divide="ignore", invalid="ignore"):
            np.negative(uniforms[:, start:stop], out=ratio)
            np.log1p(ratio, out=ratio)
            ratio /= log_q  # >= 0, finite for 0 <= u < 1 and 0 < p <= 1
        np.minimum(ratio, cum[:, -1:], out=ratio)  # G - 1 = floor(ratio); capped: G <= S_R + 1
        # code = number of rounds that failed entirely: S_r < G, i.e. ratio >= S_r
        code.fill(0)
        for r in range(rounds_max):
            np.greater_equal(ratio, cum[:, r : r + 1], out=reached)
            code += reached.view(np.int8)
        np.copyto(att, ratio, casting="unsafe")  # floor(ratio) = G - 1
        sum_first = att.sum(axis=1, dtype=np.int64) + (stop - start)  # sum of G
        # lookups: code c < R succeeded in round c + 1 (S_{c+1} attempts), c = R failed (S_R)
        att_tab = np.concatenate([cum, cum[:, -1:]], axis=1)
        rnd_tab = np.concatenate([np.broadcast_to(np.arange(1, rounds_max + 1), cum.shape),
                                  (sched != 0).sum(axis=1)[:, None]], axis=1)
        np.add(code, offsets, out=index, dtype=np.int64)
        np.take(att_tab.reshape(-1).astype(np.int32), index, mode="wrap", out=att)  # in range
        if out is not None:
            success, rounds, attempts = out
            np.less(code, rounds_max, out=success[:, start:stop])
            rounds[:, start:stop] = np.take(rnd_tab.reshape(-1), index, mode="wrap")
            attempts[:, start:stop] = att
        hist = np.bincount(index.reshape(-1), minlength=n_points * width).reshape(n_points, width)
        n_ok = hist[:, :rounds_max].sum(axis=1)
        spent = (hist * att_tab).sum(axis=1)
        totals["successes"] += n_ok
        totals["attempts"] += spent
        totals["attempts_squared"] += (hist * att_tab.astype(float) ** 2).sum(axis=1)
        totals["rounds"] += (hist * rnd_tab).sum(axis=1)
        # sum over successes of S_round - G; a failure adds S_R - (S_R + 1) = -1, so add them back
        after = spent - sum_first + (stop - start - n_ok)
        seen_attempts += spent
        seen_heralds += n_ok + binomial_quantile(herald_u[:, b], after, p_true)
    return plans, totals
