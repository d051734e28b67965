"""Confidence intervals for Monte Carlo estimates.

Two intervals cover what the studies report:

- :func:`wilson_interval` for a proportion (success rates, cache-hit rates);
- :func:`mean_interval` for a mean with the sample standard deviation (normal / CLT
  interval), e.g. mean entanglement attempts per request.

Both take either ``confidence`` (two-sided level, default 0.95) or an explicit ``z``
(number of standard errors), and both work elementwise on numpy arrays.

Examples
--------
>>> low, high = wilson_interval(27, 100)
>>> round(float(low), 4), round(float(high), 4)
(0.1927, 0.3643)
>>> low, high = mean_interval(mean=2.7, std=0.6, n=2500, z=2.0)
>>> round(float(low), 3), round(float(high), 3)
(2.676, 2.724)
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

from modenhub_net.errors import UserInputError

__all__ = ["z_value", "wilson_interval", "mean_interval", "standard_error_of_proportion"]


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
        if not (float(z) > 0.0):
            raise UserInputError(f"z = {z!r} must be > 0")
        return float(z)
    if not (0.0 < float(confidence) < 1.0):
        raise UserInputError(f"confidence = {confidence!r} is outside the allowed range (0, 1)")
    return NormalDist().inv_cdf(0.5 + 0.5 * float(confidence))


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
    inside [0, 1] and keeps a sensible width at ``k = 0`` or ``k = n``.

    Parameters
    ----------
    successes : array_like of int
        Number of successes, ``0 <= successes <= trials``.
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
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
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


def mean_interval(
    values: ArrayLike | None = None,
    *,
    mean: ArrayLike | None = None,
    std: ArrayLike | None = None,
    n: ArrayLike | None = None,
    confidence: float = 0.95,
    z: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Normal (CLT) interval ``mean +- z * s / sqrt(n)`` for a mean.

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
