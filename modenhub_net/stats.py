"""Confidence intervals for Monte Carlo estimates.

Three intervals cover what the studies report:

- :func:`wilson_interval` for a proportion (success rates, cache-hit rates): the Wilson
  score interval, inside [0, 1] by construction, recommended over the normal (Wald)
  interval by Brown, Cai & DasGupta, Stat. Sci. 16, 101 (2001);
- :func:`bounded_mean_interval` for the mean of a quantity known to lie in a range
  ``[low, high]`` (a fidelity in [0, 1], attempts in [0, S_R]): a Wilson interval at the
  effective sample size, inside ``[low, high]`` by construction (no clipping);
- :func:`mean_interval` for a mean with the sample standard deviation (normal / CLT
  interval) of an unbounded quantity. Never use it for a bounded one: near a bound it
  leaves the range (a fidelity interval reaching 1.2).

All take either ``confidence`` (two-sided level, default 0.95) or an explicit ``z``
(number of standard errors), and all work elementwise on numpy arrays.

Examples
--------
>>> low, high = wilson_interval(27, 100)
>>> round(float(low), 4), round(float(high), 4)
(0.1927, 0.3643)
>>> low, high = mean_interval(mean=2.7, std=0.6, n=2500, z=2.0)
>>> round(float(low), 3), round(float(high), 3)
(2.676, 2.724)
>>> low, high = bounded_mean_interval([0.99, 1.0, 1.0, 0.97, 1.0])
>>> bool(0.0 <= low <= high <= 1.0)
True
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

from modenhub_net.config.base import check_number
from modenhub_net.errors import UserInputError

__all__ = [
    "z_value",
    "wilson_interval",
    "bounded_mean_interval",
    "mean_interval",
    "standard_error_of_proportion",
]


def _numbers(name: str, value: ArrayLike) -> np.ndarray:
    """``value`` as a float array; booleans, text and other non-numbers refused."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"{name} = {value!r}: not an array of numbers ({exc})") from None
    if array.dtype.kind not in "iuf":
        raise UserInputError(f"{name} = {value!r}: not a number (dtype {array.dtype})")
    return array.astype(float)


def z_value(*, confidence: float = 0.95, z: float | None = None) -> float:
    """Number of standard errors of a two-sided normal interval.

    Parameters
    ----------
    confidence : float, optional
        Two-sided confidence level in (0, 1), default 0.95 (gives z = 1.95996...).
        Ignored when ``z`` is given.
    z : float, optional
        Explicit number of standard errors (> 0).

    Returns
    -------
    float
        ``z`` if given, else the ``(1 + confidence) / 2`` quantile of the standard normal.

    Raises
    ------
    UserInputError
        If ``confidence`` is outside (0, 1) or ``z`` is not positive.
    """
    if z is not None:
        return check_number("z", z, low=0.0, low_inclusive=False)
    confidence = check_number("confidence", confidence, low=0.0, high=1.0, low_inclusive=False,
                              high_inclusive=False)
    return NormalDist().inv_cdf(0.5 + 0.5 * confidence)


def wilson_interval(
    successes: ArrayLike,
    trials: ArrayLike,
    *,
    confidence: float = 0.95,
    z: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion.

    For ``k`` successes in ``n`` trials, ``p = k/n`` and ``z`` standard errors::

        centre    = (p + z^2 / (2n)) / (1 + z^2 / n)
        halfwidth = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / (4 n^2))

    (E. B. Wilson, J. Am. Stat. Assoc. 22, 209 (1927)). Unlike the Wald interval it stays
    inside [0, 1] and keeps a sensible width at ``k = 0`` or ``k = n``; its coverage is close
    to nominal for all ``p`` and ``n`` (L. D. Brown, T. T. Cai & A. DasGupta, Stat. Sci. 16,
    101 (2001), who recommend it).

    Parameters
    ----------
    successes : array_like of int
        Number of successes, ``0 <= successes <= trials`` (whole numbers; a float array
        holding whole numbers is accepted).
    trials : array_like of int
        Number of trials (> 0; where 0 the interval is NaN).
    confidence : float, optional
        Two-sided level, default 0.95.
    z : float, optional
        Explicit number of standard errors; overrides ``confidence``.

    Returns
    -------
    (low, high) : tuple of numpy.ndarray
        Interval bounds (0-d arrays for scalar input).
    """
    zz = z_value(confidence=confidence, z=z)
    k = _numbers("successes", successes)
    n = _numbers("trials", trials)
    if not (np.all(np.isfinite(k)) and np.all(np.isfinite(n)) and np.all(k == np.round(k))
            and np.all(n == np.round(n))):
        raise UserInputError("wilson_interval: successes and trials must be whole counts")
    if np.any(k < 0) or np.any(k > n):
        raise UserInputError("wilson_interval: successes must lie in [0, trials]")
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, k / np.where(n > 0, n, 1.0), np.nan)
        nn = np.where(n > 0, n, np.nan)
        denom = 1.0 + zz * zz / nn
        centre = (p + zz * zz / (2.0 * nn)) / denom
        half = zz / denom * np.sqrt(p * (1.0 - p) / nn + zz * zz / (4.0 * nn * nn))
    # exact at the edges (the formula leaves ~1e-17 of rounding there)
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where((k == n) & (n > 0), 1.0, np.clip(centre + half, 0.0, 1.0))
    low = np.where(n > 0, low, np.nan)
    high = np.where(n > 0, high, np.nan)
    return low, high


def _wilson_bounds(p: np.ndarray, n: np.ndarray, zz: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score bounds for an estimate ``p`` in [0, 1] at a (real, > 0) sample size ``n``;
    ``n = inf`` gives ``(p, p)``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        a = zz * zz / n
        denom = 1.0 + a
        centre = (p + a / 2.0) / denom
        half = zz / denom * np.sqrt(np.maximum(p * (1.0 - p) / n + a / (4.0 * n), 0.0))
    low = np.where(np.isinf(n), p, np.where(p <= 0.0, 0.0, np.clip(centre - half, 0.0, p)))
    high = np.where(np.isinf(n), p, np.where(p >= 1.0, 1.0, np.clip(centre + half, p, 1.0)))
    return low, high


def bounded_mean_interval(
    values: ArrayLike | None = None,
    *,
    mean: ArrayLike | None = None,
    std: ArrayLike | None = None,
    n: ArrayLike | None = None,
    low: ArrayLike = 0.0,
    high: ArrayLike = 1.0,
    confidence: float = 0.95,
    z: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence interval for the mean of a quantity that lies in ``[low, high]``.

    The interval is inside ``[low, high]`` by construction, without clipping: the values are
    scaled to ``x' = (x - low) / (high - low)`` in [0, 1], with mean ``m`` and sample standard
    deviation ``s``; the *effective sample size* ``n_eff = m (1 - m) / (s**2 / n)`` is the
    number of Bernoulli trials whose proportion would have the standard error ``s / sqrt(n)``
    of ``m``, and the interval is the Wilson score interval of :func:`wilson_interval` at
    proportion ``m`` and ``n_eff`` trials, scaled back. This is the effective-sample-size
    Wilson interval of E. L. Korn & B. I. Graubard, Survey Methodology 24, 193 (1998) (there
    for proportions from complex samples); the Wilson interval's coverage is discussed by
    L. D. Brown, T. T. Cai & A. DasGupta, Stat. Sci. 16, 101 (2001). For 0/1 data it is the
    Wilson interval (``n_eff ~= n``); for large ``n_eff`` it tends to the normal interval
    ``m +- z s / sqrt(n)``; near a bound it is asymmetric and stays inside, where the normal
    interval leaves the range.

    Edge cases: when ``m`` is exactly 0 or 1 (every value at the same bound) the sample
    carries no variance information and ``n_eff = n`` (the binomial case, e.g. ``[1 - z**2 /
    (n + z**2), 1]`` for ``m = 1``); when ``s = 0`` inside the range the interval is the
    point ``m`` (as the normal interval); with fewer than two values it is NaN.

    Parameters
    ----------
    values : array_like, optional
        Raw observations (1-d), each in ``[low, high]``.
    mean, std, n : array_like, optional
        Summary statistics (sample standard deviation, ``ddof=1``), used when ``values`` is
        None; elementwise.
    low, high : array_like, optional
        Bounds of the quantity (default [0, 1], e.g. a fidelity or a probability);
        ``low < high``, both finite.
    confidence : float, optional
        Two-sided level, default 0.95.
    z : float, optional
        Explicit number of standard errors; overrides ``confidence``.

    Returns
    -------
    (low, high) : tuple of numpy.ndarray
        Interval bounds, ``low <= lower <= mean <= upper <= high``.

    Raises
    ------
    UserInputError
        If the bounds are not finite with ``low < high``, or a value or the mean lies outside
        them.

    Examples
    --------
    >>> lo, hi = bounded_mean_interval(mean=0.999, std=0.02, n=50)
    >>> bool(lo < 0.999 < hi <= 1.0)
    True
    """
    zz = z_value(confidence=confidence, z=z)
    lo_a = _numbers("low", low)
    hi_a = _numbers("high", high)
    if not (np.all(np.isfinite(lo_a)) and np.all(np.isfinite(hi_a)) and np.all(lo_a < hi_a)):
        raise UserInputError(f"bounded_mean_interval: need finite low < high (got {low!r}, {high!r})")
    span = hi_a - lo_a
    if values is not None:
        x = _numbers("values", values).ravel()
        if np.any(x < lo_a) or np.any(x > hi_a) or np.any(np.isnan(x)):
            raise UserInputError(
                f"bounded_mean_interval: values must lie in [{low!r}, {high!r}]"
            )
        count = x.size
        mean_a = np.asarray(float(x.mean()) if count else np.nan)
        std_a = np.asarray(float(x.std(ddof=1)) if count >= 2 else np.nan)
        n_a = np.asarray(float(count))
    else:
        if mean is None or std is None or n is None:
            raise UserInputError("bounded_mean_interval: give values, or all of mean, std and n")
        mean_a = _numbers("mean", mean)
        std_a = _numbers("std", std)
        n_a = _numbers("n", n)
        tol = 1e-9 * span
        if np.any(mean_a < lo_a - tol) or np.any(mean_a > hi_a + tol):
            raise UserInputError(f"bounded_mean_interval: mean must lie in [{low!r}, {high!r}]")
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.clip((mean_a - lo_a) / span, 0.0, 1.0)  # rounding of a mean at a bound only
        s = std_a / span
        at_bound = (m <= 0.0) | (m >= 1.0)
        var_mean = s * s / n_a
        n_eff = np.where(at_bound, n_a, np.where(var_mean > 0.0, m * (1.0 - m) / var_mean, np.inf))
        valid = (n_a >= 2) & np.isfinite(m) & np.isfinite(s)
        n_eff = np.where(valid, n_eff, 1.0)
    w_low, w_high = _wilson_bounds(m, n_eff, zz)
    out_low = np.where(valid, lo_a + span * w_low, np.nan)
    out_high = np.where(valid, lo_a + span * w_high, np.nan)
    return out_low, out_high


def mean_interval(
    values: ArrayLike | None = None,
    *,
    mean: ArrayLike | None = None,
    std: ArrayLike | None = None,
    n: ArrayLike | None = None,
    confidence: float = 0.95,
    z: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Normal (CLT) interval ``mean +- z * s / sqrt(n)`` for a mean of an unbounded quantity.

    For a quantity with known bounds (a fidelity, a probability, a count with a maximum) use
    :func:`bounded_mean_interval`, which stays inside them.

    Give either the raw ``values`` (1-d), or the summary ``mean``, ``std`` (sample standard
    deviation, ``ddof=1``) and ``n``. With fewer than two values the sample standard deviation
    is undefined and the interval is NaN.

    Parameters
    ----------
    values : array_like, optional
        Raw observations.
    mean, std, n : array_like, optional
        Summary statistics (elementwise), used when ``values`` is None.
    confidence : float, optional
        Two-sided level, default 0.95 (z = 1.96).
    z : float, optional
        Explicit number of standard errors; overrides ``confidence``.

    Returns
    -------
    (low, high) : tuple of numpy.ndarray
    """
    zz = z_value(confidence=confidence, z=z)
    if values is not None:
        x = np.asarray(values, dtype=float).ravel()
        count = x.size
        m = float(x.mean()) if count else np.nan
        s = float(x.std(ddof=1)) if count >= 2 else np.nan
        mean_a, std_a, n_a = np.asarray(m), np.asarray(s), np.asarray(float(count))
    else:
        if mean is None or std is None or n is None:
            raise UserInputError("mean_interval: give values, or all of mean, std and n")
        mean_a = np.asarray(mean, dtype=float)
        std_a = np.asarray(std, dtype=float)
        n_a = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        sem = np.where(n_a >= 2, std_a / np.sqrt(np.where(n_a > 0, n_a, 1.0)), np.nan)
    return mean_a - zz * sem, mean_a + zz * sem


def standard_error_of_proportion(p: ArrayLike, n: ArrayLike) -> np.ndarray:
    """Binomial standard error ``sqrt(p (1 - p) / n)`` of a proportion (NaN where n = 0)."""
    pp = np.asarray(p, dtype=float)
    nn = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(nn > 0, np.sqrt(pp * (1.0 - pp) / np.where(nn > 0, nn, 1.0)), np.nan)
