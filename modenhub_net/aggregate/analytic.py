"""Closed forms of the aggregate (paper) model, DESIGN.md §5.

Source: the ModEn-Hub paper's Monte Carlo model. A *round* is one entanglement window in
which ``k`` parallel, independent heralded attempts each succeed with probability ``p``;
a request stops after its first round with at least one success, and fails after its
budget of ``R`` rounds. A *schedule* ``(k_1, ..., k_R)`` generalises the fixed ``k`` of the
paper to a number of attempts that may change from round to round (zeros only at the end:
no attempt, no round).

For a schedule with partial sums ``S_r = k_1 + ... + k_r`` and ``q = 1 - p``:

- success probability: ``1 - q**S_R`` (the request fails only if every attempt fails);
- expected attempts: ``sum_r k_r * q**S_{r-1}`` (round ``r``'s attempts are spent only if
  all ``S_{r-1}`` earlier attempts failed; all ``k_r`` attempts of a round are counted);
- expected rounds: ``sum_{r: k_r > 0} q**S_{r-1}``.

With ``k_r = k`` for all ``r`` these are the paper's ``1 - (1 - p_round)**R`` with
``p_round = 1 - q**k`` and ``k * (1 - (1 - p_round)**R) / p_round``.

These hold for the strategies without cache (``naive``, ``orchestrated_nocache``,
``adaptive`` with known p); the cache couples requests, so ``orchestrated`` has none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from modenhub_net.errors import UserInputError, check_range

__all__ = [
    "p_eff",
    "k_parallel",
    "as_schedule",
    "analytic_success",
    "analytic_mean_attempts",
    "analytic_mean_rounds",
]


def _check_n(n_qpus: ArrayLike) -> np.ndarray:
    n = np.asarray(n_qpus)
    if n.dtype.kind not in "iu" and not (n.dtype.kind == "f" and np.all(n == np.round(n))):
        raise UserInputError(f"n_qpus = {n_qpus!r} must be integers >= 1")
    if np.any(n < 1):
        raise UserInputError(f"n_qpus = {n_qpus!r} must be integers >= 1")
    return n.astype(np.int64)


def p_eff(n_qpus: ArrayLike, *, p0: float = 0.35, beta: float = 0.35) -> np.ndarray | float:
    """Effective per-attempt success probability of one heralded attempt between two QPUs.

    ``p_eff(N) = p0 / (1 + beta * log2 N)`` (ModEn-Hub paper; DESIGN.md §5): the hub's
    switch fabric grows as ~log2 N stages, each adding loss.

    Parameters
    ----------
    n_qpus : int or array_like of int
        Number of QPUs N attached to the hub (>= 1).
    p0 : float, optional
        Success probability at N = 1 (no switch loss), in (0, 1]; paper value 0.35.
    beta : float, optional
        Degradation per doubling of N (>= 0, dimensionless); paper value 0.35.

    Returns
    -------
    float or numpy.ndarray
        p_eff in (0, 1], same shape as ``n_qpus``.

    Examples
    --------
    >>> round(p_eff(128), 5)
    0.10145
    """
    check_range("p0", p0, low=0.0, high=1.0, low_inclusive=False)
    check_range("beta", beta, low=0.0)
    n = _check_n(n_qpus)
    value = p0 / (1.0 + beta * np.log2(n))
    return float(value) if value.ndim == 0 else value


def k_parallel(n_qpus: ArrayLike, *, kappa: float = 0.9, k_min: int = 2) -> np.ndarray | int:
    """Parallel attempts per round of the paper's orchestrated strategy.

    ``K(N) = max(k_min, ceil(kappa * log2 N))`` with ``k_min = 2`` in the paper. The product
    is rounded to 12 decimals before the ceiling so that a value that is an integer in exact
    arithmetic (e.g. N = 1024, kappa = 0.9) is not pushed up by floating-point error.

    Parameters
    ----------
    n_qpus : int or array_like of int
        Number of QPUs N (>= 1).
    kappa : float, optional
        Attempts per doubling of N (> 0); paper value 0.9.
    k_min : int, optional
        Minimum number of parallel attempts (>= 1); paper value 2.

    Returns
    -------
    int or numpy.ndarray of int

    Examples
    --------
    >>> k_parallel(128), k_parallel(2), k_parallel(1024)
    (7, 2, 9)
    """
    check_range("kappa", kappa, low=0.0, low_inclusive=False)
    if int(k_min) != k_min or k_min < 1:
        raise UserInputError(f"k_min = {k_min!r} must be an integer >= 1")
    n = _check_n(n_qpus)
    k = np.maximum(int(k_min), np.ceil(np.round(kappa * np.log2(n), 12))).astype(np.int64)
    return int(k) if k.ndim == 0 else k


def as_schedule(k: int | Sequence[int], rounds: int | None = None) -> tuple[int, ...]:
    """Normalise ``k`` (attempts per round) and ``rounds`` into a per-round schedule.

    Parameters
    ----------
    k : int or sequence of int
        Either a fixed number of attempts per round (>= 1), used for ``rounds`` rounds, or an
        explicit schedule ``(k_1, ..., k_R)`` of non-negative integers, zeros only at the end
        and ``k_1 >= 1``.
    rounds : int, optional
        Round budget R (>= 1); required with a fixed ``k``, must equal ``len(k)`` if given
        with a schedule.

    Returns
    -------
    tuple of int
    """
    if isinstance(k, (int, np.integer)) and not isinstance(k, bool):
        if k < 1:
            raise UserInputError(f"k = {k!r} must be an integer >= 1")
        if rounds is None or int(rounds) != rounds or rounds < 1:
            raise UserInputError(f"rounds = {rounds!r} must be an integer >= 1")
        return (int(k),) * int(rounds)
    schedule = tuple(int(x) for x in k)
    if any(int(x) != x for x in k):
        raise UserInputError(f"schedule = {tuple(k)!r} must hold integers")
    if not schedule or schedule[0] < 1 or any(x < 0 for x in schedule):
        raise UserInputError(
            f"schedule = {schedule!r} must be non-empty, non-negative, with k_1 >= 1"
        )
    nonzero = [i for i, x in enumerate(schedule) if x > 0]
    if nonzero[-1] != len(nonzero) - 1:
        raise UserInputError(f"schedule = {schedule!r}: zeros are only allowed at the end")
    if rounds is not None and rounds != len(schedule):
        raise UserInputError(f"rounds = {rounds!r} does not match len(schedule) = {len(schedule)}")
    return schedule


def _q_and_partial_sums(p: ArrayLike, schedule: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    pp = np.asarray(p, dtype=float)
    if np.any(~(pp > 0.0)) or np.any(pp > 1.0):
        raise UserInputError(f"p = {p!r} must lie in (0, 1]")
    before = np.concatenate([[0], np.cumsum(schedule)[:-1]])  # S_{r-1}
    return 1.0 - pp, before


def analytic_success(
    p: ArrayLike, *, k: int | Sequence[int] = 1, rounds: int | None = None
) -> np.ndarray | float:
    """Success probability of one request without cache: ``1 - (1 - p)**(k_1 + ... + k_R)``.

    Equal to ``1 - (1 - p_round)**R`` with ``p_round = 1 - (1 - p)**k`` for a fixed ``k``.

    Parameters
    ----------
    p : float or array_like
        Per-attempt success probability in (0, 1] (e.g. :func:`p_eff`).
    k : int or sequence of int, optional
        Attempts per round (fixed, default 1 = naive) or a schedule; see :func:`as_schedule`.
    rounds : int, optional
        Round budget R (>= 1), required with a fixed ``k``.

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> round(analytic_success(p_eff(128), k=1, rounds=3), 4)
    0.2745
    """
    schedule = as_schedule(k, rounds)
    q, _ = _q_and_partial_sums(p, schedule)
    value = 1.0 - q ** sum(schedule)
    return float(value) if np.ndim(value) == 0 else value


def analytic_mean_attempts(
    p: ArrayLike, *, k: int | Sequence[int] = 1, rounds: int | None = None
) -> np.ndarray | float:
    """Expected attempts per request without cache: ``sum_r k_r * (1 - p)**S_{r-1}``.

    Attempts stop after the first round with a success; every attempt of a round is counted
    (also the surplus ones of the successful round); a failed request counts all ``S_R``.
    For a fixed ``k``: ``k * (1 - (1 - p_round)**R) / p_round``.

    Parameters
    ----------
    p : float or array_like
        Per-attempt success probability in (0, 1].
    k : int or sequence of int, optional
        Attempts per round (fixed, default 1) or a schedule.
    rounds : int, optional
        Round budget R (>= 1), required with a fixed ``k``.

    Returns
    -------
    float or numpy.ndarray
        Expected attempts (dimensionless count).

    Examples
    --------
    >>> round(analytic_mean_attempts(p_eff(128), k=7, rounds=3), 3)
    11.876
    """
    schedule = as_schedule(k, rounds)
    q, before = _q_and_partial_sums(p, schedule)
    value = sum(kr * q**s for kr, s in zip(schedule, before, strict=True))
    return float(value) if np.ndim(value) == 0 else value


def analytic_mean_rounds(
    p: ArrayLike, *, k: int | Sequence[int] = 1, rounds: int | None = None
) -> np.ndarray | float:
    """Expected rounds (entanglement windows) per request without cache.

    ``sum_{r: k_r > 0} (1 - p)**S_{r-1}``; multiply by the window duration for the mean
    waiting time.
    """
    schedule = as_schedule(k, rounds)
    q, before = _q_and_partial_sums(p, schedule)
    value = sum(q**s for kr, s in zip(schedule, before, strict=True) if kr > 0)
    return float(value) if np.ndim(value) == 0 else value


def attempts_for_target(p: float, *, target_success: float) -> int:
    """Smallest total number of attempts M with ``1 - (1 - p)**M >= target_success``.

    ``M = ceil(log(1 - target) / log(1 - p))``, computed with a relative tolerance of 1e-9
    so that a target obtained as ``1 - (1 - p)**M`` in floating point maps back to ``M``.
    """
    check_range("p", p, low=0.0, high=1.0, low_inclusive=False)
    check_range("target_success", target_success, low=0.0, high=1.0,
                low_inclusive=False, high_inclusive=False)
    if p >= 1.0:
        return 1
    ratio = math.log1p(-target_success) / math.log1p(-p)
    return max(1, math.ceil(ratio * (1.0 - 1e-9)))
