"""Confidence intervals of :mod:`modenhub_net.stats`."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modenhub_net import UserInputError
from modenhub_net.stats import (
    mean_interval,
    standard_error_of_proportion,
    wilson_interval,
    z_value,
)


def _wilson_reference(k, n, z):
    """Textbook Wilson bounds as the roots of (p - phat)^2 = z^2 p (1 - p) / n."""
    phat = k / n
    a = 1 + z * z / n
    b = -(2 * phat + z * z / n)
    c = phat * phat
    disc = math.sqrt(b * b - 4 * a * c)
    return (-b - disc) / (2 * a), (-b + disc) / (2 * a)


def test_z_from_confidence_and_explicit_z():
    assert z_value() == pytest.approx(1.959964, abs=1e-6)
    assert z_value(confidence=0.99) == pytest.approx(2.575829, abs=1e-6)
    assert z_value(confidence=0.5, z=3.0) == 3.0


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5])
def test_bad_confidence_is_a_user_error(bad):
    with pytest.raises(UserInputError, match="confidence"):
        wilson_interval(1, 2, confidence=bad)


def test_bad_z_is_a_user_error():
    with pytest.raises(UserInputError, match="z = "):
        mean_interval([1.0, 2.0], z=0.0)


@given(st.integers(1, 10_000), st.data(), st.sampled_from([1.0, 1.96, 4.0]))
def test_wilson_matches_quadratic_roots(n, data, z):
    k = data.draw(st.integers(0, n))
    low, high = wilson_interval(k, n, z=z)
    ref_low, ref_high = _wilson_reference(k, n, z)
    assert float(low) == pytest.approx(ref_low, abs=1e-9)
    assert float(high) == pytest.approx(ref_high, abs=1e-9)
    assert 0.0 <= low <= k / n <= high <= 1.0


def test_wilson_is_elementwise_and_nan_for_zero_trials():
    low, high = wilson_interval(np.array([0, 5, 0]), np.array([10, 10, 0]))
    assert low.shape == (3,)
    assert low[0] == 0.0 and high[0] > 0.2  # k = 0 still has a sensible width
    assert np.isnan(low[2]) and np.isnan(high[2])


def test_wilson_rejects_impossible_counts():
    with pytest.raises(UserInputError):
        wilson_interval(11, 10)


def test_mean_interval_from_values_equals_from_summary():
    x = np.arange(10.0)
    low, high = mean_interval(x, confidence=0.9)
    s = x.std(ddof=1)
    half = z_value(confidence=0.9) * s / math.sqrt(10)
    assert float(low) == pytest.approx(4.5 - half)
    assert float(high) == pytest.approx(4.5 + half)
    low2, high2 = mean_interval(mean=4.5, std=s, n=10, confidence=0.9)
    assert float(low2) == pytest.approx(float(low)) and float(high2) == pytest.approx(float(high))


def test_mean_interval_undefined_below_two_values():
    low, high = mean_interval([3.0])
    assert np.isnan(low) and np.isnan(high)
    with pytest.raises(UserInputError):
        mean_interval(mean=1.0)


def test_wilson_coverage_is_close_to_nominal():
    rng = np.random.default_rng(7)
    n, p, reps = 200, 0.1, 4000
    k = rng.binomial(n, p, size=reps)
    low, high = wilson_interval(k, np.full(reps, n))
    coverage = np.mean((low <= p) & (p <= high))
    # 0.95 nominal; Wilson's actual coverage at n p = 20 lies within a point or two of it
    assert abs(coverage - 0.95) < 0.02


def test_standard_error_of_proportion():
    assert float(standard_error_of_proportion(0.5, 100)) == pytest.approx(0.05)
    assert np.isnan(standard_error_of_proportion(0.5, 0))
