"""Closed forms against direct enumeration and the paper's headline numbers."""

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modenhub_net import UserInputError
from modenhub_net.aggregate import (
    AggregateModel,
    analytic_mean_attempts,
    analytic_mean_rounds,
    analytic_success,
    as_schedule,
    attempts_for_target,
    k_parallel,
    p_eff,
)


def test_p_eff_and_k_follow_the_paper_formulas():
    for n in (1, 2, 3, 7, 64, 100, 128):
        assert p_eff(n) == pytest.approx(0.35 / (1 + 0.35 * math.log2(n)))
        assert k_parallel(n) == max(2, math.ceil(0.9 * math.log2(n) - 1e-12))
    assert k_parallel(1024) == 9  # 0.9 * 10 is 9 exactly, not 10
    assert list(k_parallel([2, 128], kappa=0.9)) == [2, 7]


def _enumerate(p, schedule):
    """Success probability and expected attempts by summing over all outcome patterns."""
    q = 1 - p
    success = attempts = 0.0
    rounds_total = 0.0
    for pattern in itertools.product([0, 1], repeat=len(schedule)):
        # pattern[r] = 1: round r has >= 1 success; only the prefix up to the first 1 matters
        prob, spent, played, ok = 1.0, 0, 0, False
        for k, got in zip(schedule, pattern, strict=True):
            if k == 0:
                break
            prob *= (1 - q**k) if got else q**k
            spent += k
            played += 1
            if got:
                ok = True
                break
        # every pattern with the same prefix is counted once per suffix: divide it out
        suffix = len(schedule) - played
        prob /= 2**suffix
        success += prob * ok
        attempts += prob * spent
        rounds_total += prob * played
    return success, attempts, rounds_total


@given(
    st.floats(0.01, 1.0),
    st.lists(st.integers(1, 6), min_size=1, max_size=4),
    st.integers(0, 2),
)
def test_closed_forms_equal_enumeration(p, schedule, trailing_zeros):
    schedule = schedule + [0] * trailing_zeros
    success, attempts, rounds = _enumerate(p, schedule)
    assert analytic_success(p, k=schedule) == pytest.approx(success, rel=1e-9, abs=1e-12)
    assert analytic_mean_attempts(p, k=schedule) == pytest.approx(attempts, rel=1e-9)
    assert analytic_mean_rounds(p, k=schedule) == pytest.approx(rounds, rel=1e-9)


@given(st.floats(0.01, 1.0), st.integers(1, 9), st.integers(1, 6))
def test_fixed_k_matches_the_p_round_form(p, k, rounds):
    p_round = 1 - (1 - p) ** k
    assert analytic_success(p, k=k, rounds=rounds) == pytest.approx(1 - (1 - p_round) ** rounds)
    assert analytic_mean_attempts(p, k=k, rounds=rounds) == pytest.approx(
        k * (1 - (1 - p_round) ** rounds) / p_round
    )


def test_headline_closed_forms_at_128_match_the_paper():
    model = AggregateModel()
    p, k = model.p_eff(128), model.k_parallel(128)
    # paper (ARCHITECTURE.md §5): naive ~ 0.27 and ~ 2.7; orchestrated ~ 0.89 and ~ 11.9
    assert analytic_success(p, k=1, rounds=3) == pytest.approx(0.27, abs=0.005)
    assert analytic_mean_attempts(p, k=1, rounds=3) == pytest.approx(2.7, abs=0.05)
    assert analytic_success(p, k=k, rounds=3) == pytest.approx(0.89, abs=0.005)
    assert analytic_mean_attempts(p, k=k, rounds=3) == pytest.approx(11.9, abs=0.05)


def test_trailing_zero_rounds_are_not_played():
    assert analytic_mean_rounds(0.5, k=(1, 0, 0)) == pytest.approx(1.0)
    assert analytic_success(0.5, k=(1, 0)) == pytest.approx(0.5)


@pytest.mark.parametrize("bad", [(), (0, 1), (1, 0, 2), (1, -1)])
def test_bad_schedules_are_rejected(bad):
    with pytest.raises(UserInputError, match="schedule"):
        as_schedule(bad)


@pytest.mark.parametrize(
    "call",
    [
        lambda: p_eff(8, p0=0.0),
        lambda: p_eff(8, beta=-0.1),
        lambda: p_eff(0),
        lambda: k_parallel(8, kappa=0.0),
        lambda: analytic_success(1.5, k=1, rounds=3),
        lambda: analytic_success(0.5, k=1, rounds=0),
        lambda: analytic_success(0.5, k=0, rounds=3),
    ],
)
def test_out_of_range_arguments_raise_user_errors(call):
    with pytest.raises(UserInputError):
        call()


@given(st.floats(0.001, 0.99), st.floats(0.01, 0.999))
def test_attempts_for_target_is_the_smallest_sufficient_total(p, target):
    m = attempts_for_target(p, target_success=target)
    assert 1 - (1 - p) ** m >= target * (1 - 1e-9)
    if m > 1:
        assert 1 - (1 - p) ** (m - 1) < target


def test_target_from_a_closed_form_maps_back_to_its_total():
    p = p_eff(128)
    assert attempts_for_target(p, target_success=analytic_success(p, k=7, rounds=3)) == 21
