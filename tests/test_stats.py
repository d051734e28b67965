"""Confidence intervals of :mod:`modenhub_net.stats`."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modenhub_net import UserInputError
from modenhub_net.stats import (
    bounded_mean_interval,
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


# -- bounded_mean_interval -----------------------------------------------------------------


@given(
    # (6 decimals: the scaled copy below must hold the same values, not denormals lost to 2.0)
    values=st.lists(st.floats(min_value=0.0, max_value=1.0).map(lambda v: round(v, 6)),
                    min_size=2, max_size=40),
    confidence=st.floats(min_value=0.5, max_value=0.999),
)
def test_bounded_mean_interval_stays_inside_its_bounds(values, confidence):
    low, high = bounded_mean_interval(values, confidence=confidence)
    mean = float(np.mean(values))
    assert 0.0 <= low <= high <= 1.0
    assert low <= mean + 1e-12 and mean - 1e-12 <= high
    # shifted and scaled to [2, 7]: the same interval, scaled
    low2, high2 = bounded_mean_interval([2.0 + 5.0 * v for v in values], low=2.0, high=7.0,
                                        confidence=confidence)
    assert low2 == pytest.approx(2.0 + 5.0 * low, abs=1e-9)
    assert high2 == pytest.approx(2.0 + 5.0 * high, abs=1e-9)


def test_bounded_mean_interval_is_wilson_for_zero_one_data():
    """0/1 data: s**2 = n/(n-1) m(1-m), so n_eff = n - 1 and the interval is Wilson's at n - 1."""
    n, k, z = 40, 7, 1.96
    low, high = bounded_mean_interval([1.0] * k + [0.0] * (n - k), z=z)
    p, m = k / n, n - 1
    centre = (p + z * z / (2 * m)) / (1 + z * z / m)
    half = z / (1 + z * z / m) * math.sqrt(p * (1 - p) / m + z * z / (4 * m * m))
    assert float(low) == pytest.approx(centre - half, rel=1e-12)
    assert float(high) == pytest.approx(centre + half, rel=1e-12)
    # every value at a bound: the binomial case with n trials (= wilson_interval)
    w_low, w_high = wilson_interval(n, n, z=z)
    low, high = bounded_mean_interval([1.0] * n, z=z)
    assert (float(low), float(high)) == pytest.approx((float(w_low), float(w_high)), rel=1e-12)


def test_bounded_mean_interval_tends_to_the_normal_interval():
    low, high = bounded_mean_interval(mean=0.5, std=0.1, n=100_000, z=2.0)
    n_low, n_high = mean_interval(mean=0.5, std=0.1, n=100_000, z=2.0)
    assert float(high - low) == pytest.approx(float(n_high - n_low), rel=1e-4)


def test_bounded_mean_interval_coverage_beats_the_normal_interval_near_a_bound():
    """Fidelity-like Beta samples near 1: the bounded interval never leaves [0, 1] and covers
    the true mean at least as often as the normal interval on the same samples; with 50 values
    its coverage is within 4 binomial standard errors of the nominal 95 %."""
    rng = np.random.default_rng(7)
    reps = 4000
    se = math.sqrt(0.95 * 0.05 / reps)
    for a, b, n in [(20.0, 2.0, 10), (50.0, 0.5, 20), (0.3, 5.0, 30), (20.0, 2.0, 50)]:
        mu = a / (a + b)
        x = rng.beta(a, b, size=(reps, n))
        mean, std = x.mean(axis=1), x.std(axis=1, ddof=1)
        low, high = bounded_mean_interval(mean=mean, std=std, n=np.full(reps, n))
        n_low, n_high = mean_interval(mean=mean, std=std, n=np.full(reps, n))
        assert np.all((0.0 <= low) & (high <= 1.0))
        covered = np.mean((low <= mu) & (mu <= high))
        assert covered >= np.mean((n_low <= mu) & (mu <= n_high))
        if n == 50:
            assert abs(covered - 0.95) < 4 * se


def test_bounded_mean_interval_refuses_values_outside_and_bad_bounds():
    with pytest.raises(UserInputError, match="values must lie in"):
        bounded_mean_interval([0.5, 1.2])
    with pytest.raises(UserInputError, match="need finite low < high"):
        bounded_mean_interval([0.5, 0.6], low=1.0, high=1.0)
    with pytest.raises(UserInputError, match="mean must lie in"):
        bounded_mean_interval(mean=1.5, std=0.1, n=10)
    low, high = bounded_mean_interval([0.3])
    assert np.isnan(low) and np.isnan(high)
