"""Adaptive parallelism: the fewest expected attempts that reach a target success.

Beyond the paper. The paper's orchestrator launches the same ``K(N)`` attempts in each of its
``R`` rounds. Here the number of parallel attempts may change from round to round.

Derivation of the rule (known p)
--------------------------------
Attempts are independent with success probability ``p`` (``q = 1 - p``).

1. *A fixed schedule is an optimal policy.* A round is only played when all earlier rounds
   failed, and "all failed" is the only thing the orchestrator can have observed at that
   point. So a deterministic policy is a schedule ``(k_1, ..., k_R)`` of attempts per round.
2. *The success constraint fixes only the total.* The request fails iff every attempt fails:
   ``P(fail) = q**(k_1 + ... + k_R)``. Reaching ``target`` needs a total of at least
   ``M = ceil(log(1 - target) / log q)`` attempts; more only costs, so ``sum k_r = M``.
3. *Cost.* Round ``r``'s attempts are spent only if the ``S_{r-1} = k_1 + ... + k_{r-1}``
   earlier attempts all failed: ``E[attempts] = sum_r k_r q**S_{r-1}``.
4. *Bellman recursion.* With ``t`` rounds left and ``m`` attempts still to place,
   ``f_t(m) = min_{1 <= k <= min(m, k_max)} [k + q**k f_{t-1}(m - k)]``, ``f_t(0) = 0``,
   ``f_0(m > 0) = +inf``. The schedule is read off the arg-mins from ``f_R(M)``. Cost
   O(R M^2) arithmetic, vectorised over m.
5. *Shape.* The optimum is non-decreasing (small probing rounds first, the big one last):
   swapping two adjacent rounds ``a > b`` changes the cost by a factor
   ``(b + a q**b) - (a + b q**a) = a b [g(a) - g(b)] <= 0`` with ``g(x) = (1 - q**x)/x``
   decreasing, and leaves the other rounds unchanged.
6. *Never worse than the paper.* With ``target`` = the orchestrated policy's success,
   ``1 - q**(K R)``, ``M = K R`` and ``(K, ..., K)`` is one feasible schedule, so the optimum
   spends at most the paper's expected attempts at exactly the same success probability.
   The price: the last round uses more than ``K`` parallel modes (cap with ``max_parallel``)
   and the expected number of rounds (latency) grows slightly.

A randomised mixture of two totals could hit a target strictly between two achievable
success probabilities with marginally fewer attempts; we keep the deterministic rule, which
meets or exceeds the target (the default target is achieved exactly).

Estimated p (online)
--------------------
When ``p`` is not known, the orchestrator estimates it from the heralds it has seen,
``p_hat = (heralds + w * p_prior) / (attempts + w)`` (a Beta prior worth ``w`` pseudo-attempts
centred on ``p_prior``), and re-plans with :func:`adaptive_schedule` (``p_hat``) between
batches of requests. With the default target (the orchestrated success) the total is
``M = K R`` whatever ``p_hat``, so the success probability is exactly the paper's and the
estimate only shapes the split across rounds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from modenhub_net.aggregate.analytic import MAX_ROUNDS, attempts_for_target
from modenhub_net.config.base import check_count, check_number
from modenhub_net.errors import UserInputError

__all__ = ["MAX_TOTAL_ATTEMPTS", "adaptive_schedule", "adaptive_schedules", "orchestrated_total",
           "schedule_label"]

#: refuse to plan more than this many attempts (p tiny or target ~ 1): O(R M^2) planning
MAX_TOTAL_ATTEMPTS = 5_000
#: largest ``max_parallel`` accepted (parallel modes of one round)
MAX_PARALLEL = 10**9


def orchestrated_total(p: float, *, k: int, rounds: int) -> int:
    """Attempts of the default adaptive target: the orchestrated success ``1 - (1 - p)**(k R)``.

    The smallest total ``M`` with ``1 - (1 - p)**M >= 1 - (1 - p)**(k R)`` is ``k R`` for
    ``p < 1`` and 1 for ``p = 1`` (one attempt is certain). Computed from the integers, not
    from the target, which rounds to 1.0 in floating point when ``(1 - p)**(k R) < 1e-16``
    (high p, many rounds) and would then be refused as a target.
    """
    return 1 if p >= 1.0 else int(k) * int(rounds)


def adaptive_schedule(
    p: float,
    *,
    rounds: int,
    target_success: float | None = None,
    max_parallel: int | None = None,
    total_attempts: int | None = None,
) -> tuple[int, ...]:
    """Attempts per round that reach ``target_success`` within ``rounds`` at least cost.

    Pure function of its arguments (no randomness, no state); the rule is derived in the
    module docstring of :mod:`modenhub_net.aggregate.adaptive`.

    Parameters
    ----------
    p : float
        Per-attempt success probability in (0, 1] (known, or an estimate).
    rounds : int
        Round budget R, in [1, 10000].
    target_success : float, optional
        Required success probability of a request within R rounds, in (0, 1). Give this
        or ``total_attempts``.
    max_parallel : int, optional
        Upper bound on attempts in one round (parallel modes available, >= 1); default
        unlimited.
    total_attempts : int, optional
        The total ``M`` to place directly (e.g. :func:`orchestrated_total` for the
        orchestrated success), in [1, :data:`MAX_TOTAL_ATTEMPTS`]; instead of a target.

    Returns
    -------
    tuple of int
        ``(k_1, ..., k_R)``, non-decreasing over the rounds that are used, trailing zeros
        when fewer than R rounds suffice. ``1 - (1 - p)**sum(k) >= target_success``.

    Raises
    ------
    UserInputError
        On out-of-range arguments, or if ``rounds * max_parallel`` attempts cannot reach the
        target.

    Examples
    --------
    >>> from modenhub_net.aggregate import analytic_success, p_eff
    >>> p = p_eff(128)
    >>> adaptive_schedule(p, rounds=3, target_success=analytic_success(p, k=7, rounds=3))
    (5, 7, 9)
    >>> adaptive_schedule(p, rounds=3, total_attempts=21)
    (5, 7, 9)
    """
    rounds, total, cap = _plan_size(p, rounds=rounds, target_success=target_success,
                                    max_parallel=max_parallel, total_attempts=total_attempts)
    return _plan(1.0 - float(p), rounds=rounds, total=total, cap=cap)


def adaptive_schedules(
    p: Sequence[float],
    *,
    rounds: int,
    target_success: Sequence[float] | None = None,
    max_parallel: int | None = None,
    total_attempts: Sequence[int] | None = None,
    best_effort: bool = False,
) -> list[tuple[int, ...]]:
    """:func:`adaptive_schedule` for many ``(p, target_success)`` at once (same results).

    The Bellman recursion runs once for all of them, padded to the largest total; each
    entry's arithmetic is exactly that of its own :func:`adaptive_schedule` call, so the
    schedules are identical. Equal entries are planned once. Falls back to one call each
    when the padded tables would be large.

    Parameters
    ----------
    p, rounds, target_success, max_parallel, total_attempts
        As :func:`adaptive_schedule`, ``p`` and ``target_success``/``total_attempts`` one
        entry per plan.
    best_effort : bool, optional
        Where a target needs more attempts than ``rounds * max_parallel`` or
        :data:`MAX_TOTAL_ATTEMPTS`, plan that many instead of raising (the online strategy
        plans from an estimate of p, which is not the user's input). Default False.
    """
    q = 1.0 - np.asarray(p, dtype=float)
    if q.size == 0:
        return []
    rounds_, totals, caps = _plan_sizes(
        np.asarray(p, dtype=float), rounds=rounds,
        target_success=None if target_success is None else np.asarray(target_success, dtype=float),
        total_attempts=None if total_attempts is None else np.asarray(total_attempts),
        max_parallel=max_parallel, best_effort=best_effort)
    # plan each distinct (q, total, cap) once (e.g. all points planned from a common prior)
    entries = np.stack([q, totals.astype(float), caps.astype(float)], axis=1)
    distinct, inverse = np.unique(entries, axis=0, return_inverse=True)
    q_d, totals_d, caps_d = distinct[:, 0], distinct[:, 1].astype(np.int64), distinct[:, 2].astype(np.int64)
    kmax = int(np.minimum(caps_d, totals_d).max())
    if q_d.size * kmax * (int(totals_d.max()) + 1) > 2_000_000:
        plans = [_plan(qi, rounds=rounds_, total=int(m), cap=int(c))
                 for qi, m, c in zip(q_d, totals_d, caps_d, strict=True)]
    else:
        plans = _plan_many(q_d, rounds=rounds_, totals=totals_d, caps=caps_d)
    return [plans[i] for i in inverse.reshape(-1)]


def _plan_sizes(p: np.ndarray, *, rounds: int, target_success: np.ndarray | None,
                max_parallel: int | None, total_attempts: np.ndarray | None = None,
                best_effort: bool = False) -> tuple[int, np.ndarray, np.ndarray]:
    """:func:`_plan_size` for arrays: vectorised when every entry is valid, else entry by
    entry so that the first bad one raises its own message."""
    given = target_success if total_attempts is None else total_attempts
    if (target_success is None) == (total_attempts is None):
        raise UserInputError("adaptive_schedules: give exactly one of target_success and total_attempts")
    if p.shape != given.shape:
        raise UserInputError(f"p and target_success differ in shape: {p.shape} vs {given.shape}")
    rounds = check_count("rounds", rounds, low=1, high=MAX_ROUNDS)
    if max_parallel is not None:
        max_parallel = check_count("max_parallel", max_parallel, low=1, high=MAX_PARALLEL)
    valid = bool(np.all((p > 0.0) & (p <= 1.0)))
    if total_attempts is None:
        valid = valid and bool(np.all((target_success > 0.0) & (target_success < 1.0)))
    else:
        valid = valid and total_attempts.dtype.kind in "iu" and bool(np.all(total_attempts >= 1))
    if valid:
        if total_attempts is None:
            with np.errstate(divide="ignore"):
                ratio = np.log1p(-target_success) / np.log1p(-p)  # p = 1: -inf, total 1 below
            totals = np.where(p >= 1.0, 1, np.maximum(1, np.ceil(ratio * (1.0 - 1e-9)))).astype(np.int64)
        else:
            totals = total_attempts.astype(np.int64)
        limit = MAX_TOTAL_ATTEMPTS if max_parallel is None else min(MAX_TOTAL_ATTEMPTS, max_parallel * rounds)
        if best_effort:
            totals = np.minimum(totals, limit)
        if not np.any(totals > limit):
            caps = totals if max_parallel is None else np.full(p.size, max_parallel)
            return rounds, totals, caps
    sizes = [_plan_size(float(pi), rounds=rounds, max_parallel=max_parallel,
                        target_success=None if target_success is None else float(target_success[i]),
                        total_attempts=None if total_attempts is None else total_attempts[i])
             for i, pi in enumerate(p)]  # raises on the first bad entry
    return sizes[0][0], np.array([s[1] for s in sizes]), np.array([s[2] for s in sizes])


def _plan_size(p: float, *, rounds: int, target_success: float | None,
               max_parallel: int | None, total_attempts: int | None = None) -> tuple[int, int, int]:
    """Validate the arguments of :func:`adaptive_schedule`; ``(rounds, total, cap)``."""
    p = check_number("p", p, low=0.0, high=1.0, low_inclusive=False)
    rounds = check_count("rounds", rounds, low=1, high=MAX_ROUNDS)
    if (target_success is None) == (total_attempts is None):
        raise UserInputError(
            f"target_success = {target_success!r}, total_attempts = {total_attempts!r}: give "
            "exactly one of them"
        )
    if total_attempts is not None:
        total = check_count("total_attempts", total_attempts, low=1, high=MAX_TOTAL_ATTEMPTS)
        goal = f"total_attempts = {total}"
    else:
        total = attempts_for_target(p, target_success=target_success)
        goal = f"target_success = {target_success!r} at p = {p!r}"
    if max_parallel is not None:
        max_parallel = check_count("max_parallel", max_parallel, low=1, high=MAX_PARALLEL)
        if max_parallel * rounds < total:
            raise UserInputError(
                f"max_parallel = {max_parallel}: {rounds} rounds of at most {max_parallel} "
                f"attempts cannot reach {goal} (needs {total} attempts in all)"
            )
    if total > MAX_TOTAL_ATTEMPTS:
        raise UserInputError(
            f"{goal} needs {total} attempts (more than {MAX_TOTAL_ATTEMPTS}); lower the target"
        )
    return rounds, total, max_parallel or total


def _plan_many(q: np.ndarray, *, rounds: int, totals: np.ndarray, caps: np.ndarray) -> list[tuple[int, ...]]:
    """:func:`_plan` for many ``(q, total, cap)`` at once.

    Entry ``i`` sees ``k + q_i**k f_prev[i, m - k]`` for ``1 <= k <= min(cap_i, total_i)``,
    ``m - k >= 0`` (elsewhere +inf): elementwise the same numbers as its own :func:`_plan`,
    with the same tie rule, so the arg-mins agree. Only what the read-off visits is
    computed: round 1 in closed form, an ``(entries, k, m)`` table for each middle round,
    and the last round at ``m = total`` alone.
    """
    kmax_each = np.minimum(caps, totals)
    kmax = int(kmax_each.max())
    size = int(totals.max()) + 1
    k = np.arange(1, kmax + 1)
    discount = q[:, None] ** k.astype(float)[None, :]  # (entries, k)
    allowed = (k[None, :] <= kmax_each[:, None])[:, :, None]  # k <= min(cap_i, total_i)
    rows = np.arange(q.size)
    # round 1 in closed form: f_1(m) = m (one round of m attempts) where m <= the entry's
    # limit, else infeasible; exactly what the table gives (k + q**k * 0 = k, other k: inf)
    m_grid = np.arange(size)
    one_round = m_grid[None, :] <= kmax_each[:, None]
    f_prev = np.where(one_round, m_grid.astype(float), np.inf)
    choices = [np.where(one_round, m_grid, 0)]
    last = None
    # middle rounds: entry (i, k, m) reads f_prev[i, m - k]; m - k < 0 reads an inf column
    shifted = m_grid[None, :] - k[:, None]  # (k, m)
    shifted = np.where(shifted >= 0, shifted, size)
    usable = allowed & (shifted < size)[None, :, :]
    with np.errstate(invalid="ignore", under="ignore", over="ignore"):
        for _ in range(rounds - 2):  # the middle rounds need f_t(m) for every m
            padded = np.concatenate([f_prev, np.full((q.size, 1), np.inf)], axis=1)
            cost = k[None, :, None] + discount[:, :, None] * padded[:, shifted]
            np.copyto(cost, np.inf, where=~usable)
            best = cost.min(axis=1)
            near = cost <= best[:, None, :] * (1.0 + 1e-12)
            choice = kmax - np.argmax(near[:, ::-1, :], axis=1)
            best[:, 0], choice[:, 0] = 0.0, 0
            choices.append(choice)
            f_prev = best
        if rounds >= 2:  # the last round only at m = total
            src = totals[:, None] - k[None, :]
            valid = (src >= 0) & allowed[:, :, 0]
            tail = k[None, :] + discount * f_prev[rows[:, None], np.maximum(src, 0)]
            cost_last = np.where(valid, tail, np.inf)
            best_last = cost_last.min(axis=1)
            near = cost_last <= best_last[:, None] * (1.0 + 1e-12)
            last = kmax - np.argmax(near[:, ::-1], axis=1)
    left = totals.astype(np.int64).copy()
    columns = []
    for t in range(rounds, 0, -1):  # read the arg-mins off from f_R(total), all entries at once
        if t == rounds and last is not None:
            kk = last
        else:
            kk = np.where(left > 0, choices[t - 1][rows, left], 0)
        columns.append(kk)
        left -= kk
    if np.any(left != 0):  # pragma: no cover - guarded by the feasibility check
        raise AssertionError("adaptive plan did not place all attempts")
    return [tuple(row) for row in np.stack(columns, axis=1).tolist()]


def _plan(q: float, *, rounds: int, total: int, cap: int) -> tuple[int, ...]:
    """Bellman recursion of the module docstring; ties go to the larger k (fewer rounds)."""
    size = total + 1
    kmax = min(cap, total)
    f_prev = np.full(size, np.inf)  # f_0: nothing left to place is free, anything else impossible
    f_prev[0] = 0.0
    k = np.arange(1, kmax + 1)
    discount = q ** k.astype(float)
    small = kmax * size <= 250_000
    if small:  # one (k, m) table per round
        src = np.arange(size)[None, :] - k[:, None]
        valid = src >= 0
        src = np.where(valid, src, 0)
    choices = []
    with np.errstate(invalid="ignore", under="ignore", over="ignore"):  # 0 * inf: never chosen
        for _ in range(rounds):
            if small:
                cost = np.where(valid, k[:, None] + discount[:, None] * f_prev[src], np.inf)
                best = cost.min(axis=0)
                near = cost <= best[None, :] * (1.0 + 1e-12)  # ties go to the larger k
                choice = kmax - np.argmax(near[::-1], axis=0)
            else:  # O(M) memory, one vectorised pass per k
                best = np.full(size, np.inf)
                choice = np.zeros(size, dtype=np.int64)
                for kk in range(1, kmax + 1):
                    cand = np.full(size, np.inf)
                    cand[kk:] = kk + discount[kk - 1] * f_prev[: size - kk]
                    better = cand <= best * (1.0 + 1e-12)
                    best = np.where(better, np.minimum(cand, best), best)
                    choice = np.where(better, kk, choice)
            best[0], choice[0] = 0.0, 0
            choices.append(choice)
            f_prev = best
    schedule = []
    m = total
    for t in range(rounds, 0, -1):
        k = int(choices[t - 1][m]) if m > 0 else 0
        schedule.append(k)
        m -= k
    if m != 0:  # pragma: no cover - guarded by the feasibility check
        raise AssertionError("adaptive plan did not place all attempts")
    return tuple(schedule)


def schedule_label(schedule: tuple[int, ...] | None) -> str:
    """``"5-7-9"`` for a schedule (trailing zeros dropped), ``""`` for None."""
    if not schedule:
        return ""
    used = list(schedule)
    while len(used) > 1 and used[-1] == 0:
        used.pop()
    return "-".join(str(k) for k in used)
