"""Closed forms of the aggregate (paper) model, ARCHITECTURE.md §5.

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

from modenhub_net.config.base import check_count, check_number
from modenhub_net.errors import UserInputError

__all__ = [
    "p_eff",
    "k_parallel",
    "as_schedule",
    "analytic_success",
    "analytic_mean_attempts",
    "analytic_mean_rounds",
]


#: largest N the closed forms accept (exact in a float; log2 N <= 53)
MAX_N_CLOSED_FORM = 2**53
#: upper bounds of the model parameters (K(N) <= 53,000 attempts, p_eff >= p0 / 53,001)
MAX_BETA = 1000.0
MAX_KAPPA = 1000.0
MAX_K_MIN = 10_000
#: upper bounds of a schedule: rounds and attempts per round
MAX_ROUNDS = 10_000
MAX_ATTEMPTS_PER_ROUND = 10**9


def _check_n(n_qpus: ArrayLike, *, name: str = "n_qpus", high: int = MAX_N_CLOSED_FORM) -> np.ndarray:
    """``n_qpus`` as an int64 array: integers (not bools, not floats) in ``[1, high]``."""
    allowed = f"integers in [1, {high}]"
    if isinstance(n_qpus, (bool, np.bool_, str, bytes)):
        raise UserInputError(f"{name} = {n_qpus!r}: not an integer; allowed: {allowed}")
    try:
        n = np.asarray(n_qpus)
    except (TypeError, ValueError) as exc:  # ragged nesting and the like
        raise UserInputError(f"{name} = {n_qpus!r}: not an array of integers ({exc})") from None
    if n.dtype.kind == "O":  # Python ints beyond int64, or mixed types
        items = n.ravel().tolist()
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in items):
            raise UserInputError(f"{name} = {n_qpus!r}: not all integers; allowed: {allowed}")
        raise UserInputError(f"{name} = {n_qpus!r}: too large; allowed: {allowed}")
    if n.dtype.kind not in "iu":
        what = {"b": "booleans are not counts", "f": "floats are not counts (write integers)"}
        raise UserInputError(
            f"{name} = {n_qpus!r}: {what.get(n.dtype.kind, 'not integers')}; allowed: {allowed}"
        )
    if n.size and (n.min() < 1 or n.max() > high):
        raise UserInputError(f"{name} = {n_qpus!r}: outside the allowed range; allowed: {allowed}")
    return n.astype(np.int64)


def _probabilities(name: str, p: ArrayLike) -> np.ndarray:
    """``p`` as a float array of probabilities in (0, 1] (bools, NaN and the like refused)."""
    if isinstance(p, (bool, np.bool_, str, bytes)):
        raise UserInputError(f"{name} = {p!r}: not a number; allowed: numbers in (0, 1]")
    try:
        arr = np.asarray(p)
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"{name} = {p!r}: not an array of numbers ({exc})") from None
    if arr.dtype.kind not in "iuf":
        raise UserInputError(f"{name} = {p!r}: not a number; allowed: numbers in (0, 1]")
    arr = arr.astype(float)
    if np.any(~(arr > 0.0)) or np.any(arr > 1.0):
        raise UserInputError(f"{name} = {p!r}: outside the allowed range; allowed: numbers in (0, 1]")
    return arr


def p_eff(n_qpus: ArrayLike, *, p0: float = 0.35, beta: float = 0.35) -> np.ndarray | float:
    """Effective per-attempt success probability of one heralded attempt between two QPUs.

    ``p_eff(N) = p0 / (1 + beta * log2 N)`` (ModEn-Hub paper; ARCHITECTURE.md §5): the hub's
    switch fabric grows as ~log2 N stages, each adding loss.

    Parameters
    ----------
    n_qpus : int or array_like of int
        Number of QPUs N attached to the hub, in [1, 2**53].
    p0 : float, optional
        Success probability at N = 1 (no switch loss), in (0, 1]; paper value 0.35.
    beta : float, optional
        Degradation per doubling of N, in [0, 1000] (dimensionless); paper value 0.35.

    Returns
    -------
    float or numpy.ndarray
        p_eff in (0, 1], same shape as ``n_qpus``.

    Examples
    --------
    >>> round(p_eff(128), 5)
    0.10145
    """
    p0 = check_number("p0", p0, low=0.0, high=1.0, low_inclusive=False)
    beta = check_number("beta", beta, low=0.0, high=MAX_BETA)
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
        Number of QPUs N, in [1, 2**53].
    kappa : float, optional
        Attempts per doubling of N, in (0, 1000]; paper value 0.9.
    k_min : int, optional
        Minimum number of parallel attempts, in [1, 10000]; paper value 2.

    Returns
    -------
    int or numpy.ndarray of int

    Examples
    --------
    >>> k_parallel(128), k_parallel(2), k_parallel(1024)
    (7, 2, 9)
    """
    kappa = check_number("kappa", kappa, low=0.0, high=MAX_KAPPA, low_inclusive=False)
    k_min = check_count("k_min", k_min, low=1, high=MAX_K_MIN)
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
    if rounds is not None:
        rounds = check_count("rounds", rounds, low=1, high=MAX_ROUNDS)
    if isinstance(k, np.ndarray) and k.ndim == 0:
        k = k.item()
    if not isinstance(k, (list, tuple, np.ndarray)):
        k = check_count("k", k, low=1, high=MAX_ATTEMPTS_PER_ROUND)
        if rounds is None:
            raise UserInputError(f"rounds = None: required with a fixed k = {k}; allowed: an "
                                 f"integer in [1, {MAX_ROUNDS}]")
        return (k,) * rounds
    items = list(np.asarray(k).tolist()) if isinstance(k, np.ndarray) else list(k)
    if not 1 <= len(items) <= MAX_ROUNDS:
        raise UserInputError(f"schedule = {tuple(items)!r}: needs 1 to {MAX_ROUNDS} rounds")
    schedule = tuple(check_count(f"schedule[{i}]", x, low=0, high=MAX_ATTEMPTS_PER_ROUND)
                     for i, x in enumerate(items))
    if schedule[0] < 1:
        raise UserInputError(f"schedule = {schedule!r}: the first round needs k_1 >= 1")
    nonzero = [i for i, x in enumerate(schedule) if x > 0]
    if nonzero[-1] != len(nonzero) - 1:
        raise UserInputError(f"schedule = {schedule!r}: zeros are only allowed at the end")
    if rounds is not None and rounds != len(schedule):
        raise UserInputError(f"rounds = {rounds!r} does not match len(schedule) = {len(schedule)}")
    return schedule


def _q_and_partial_sums(p: ArrayLike, schedule: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    pp = _probabilities("p", p)
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
    p = check_number("p", p, low=0.0, high=1.0, low_inclusive=False)
    target_success = check_number("target_success", target_success, low=0.0, high=1.0,
                                  low_inclusive=False, high_inclusive=False)
    if p >= 1.0:
        return 1
    ratio = math.log1p(-target_success) / math.log1p(-p)
    return max(1, math.ceil(ratio * (1.0 - 1e-9)))
