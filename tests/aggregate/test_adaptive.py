"""The adaptive schedule: optimality against brute force, shape, constraints, purity."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modenhub_net import UserInputError
from modenhub_net.aggregate import (
    AggregateModel,
    adaptive_schedule,
    analytic_mean_attempts,
    analytic_success,
)


def _brute_force(p, rounds, target, cap):
    """Min expected attempts over every schedule of <= rounds rounds reaching the target."""
    best = None
    limit = 12
    for r in range(1, rounds + 1):
        for sched in itertools.product(range(1, min(cap, limit) + 1), repeat=r):
            if analytic_success(p, k=sched) < target * (1 - 1e-12):
                continue
            cost = analytic_mean_attempts(p, k=sched)
            if best is None or cost < best:
                best = cost
    return best


@settings(max_examples=60, deadline=None)
@given(
    st.floats(0.05, 0.9),
    st.integers(1, 3),
    st.floats(0.2, 0.98),
    st.integers(2, 8),
)
def test_schedule_is_optimal_against_brute_force(p, rounds, target, cap):
    if (1 - p) ** (rounds * cap) > 1 - target:  # infeasible
        with pytest.raises(UserInputError, match="max_parallel"):
            adaptive_schedule(p, rounds=rounds, target_success=target, max_parallel=cap)
        return
    sched = adaptive_schedule(p, rounds=rounds, target_success=target, max_parallel=cap)
    assert len(sched) == rounds
    assert max(sched) <= cap
    assert analytic_success(p, k=sched) >= target * (1 - 1e-9)
    best = _brute_force(p, rounds, target, cap)
    assert analytic_mean_attempts(p, k=sched) == pytest.approx(best, rel=1e-9)


@given(st.floats(0.01, 0.9), st.integers(1, 5), st.floats(0.05, 0.999))
def test_schedule_is_non_decreasing_with_trailing_zeros_only(p, rounds, target):
    try:
        sched = adaptive_schedule(p, rounds=rounds, target_success=target)
    except UserInputError:  # needs more than MAX_TOTAL_ATTEMPTS
        return
    used = [k for k in sched if k > 0]
    assert sched[: len(used)] == tuple(used)
    assert all(a <= b for a, b in itertools.pairwise(used))


def test_never_worse_than_the_paper_at_equal_success_for_every_n():
    model = AggregateModel()
    for n in range(2, 129):
        p, k = model.p_eff(n), model.k_parallel(n)
        paper = (k,) * model.rounds
        target = analytic_success(p, k=paper)
        sched = adaptive_schedule(p, rounds=model.rounds, target_success=target)
        assert sum(sched) == sum(paper)  # same total: exactly the same success
        assert analytic_success(p, k=sched) == pytest.approx(target, rel=1e-12)
        assert analytic_mean_attempts(p, k=sched) <= analytic_mean_attempts(p, k=paper) + 1e-12


def test_is_pure():
    args = dict(rounds=3, target_success=0.9)
    assert adaptive_schedule(0.1, **args) == adaptive_schedule(0.1, **args)


def test_capped_by_the_paper_k_gives_back_the_paper_schedule():
    p = AggregateModel().p_eff(128)
    target = analytic_success(p, k=7, rounds=3)
    assert adaptive_schedule(p, rounds=3, target_success=target, max_parallel=7) == (7, 7, 7)


def test_certain_attempts_need_one_round():
    assert adaptive_schedule(1.0, rounds=3, target_success=0.99) == (1, 0, 0)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(p=0.0, rounds=3, target_success=0.5), "p = "),
        (dict(p=0.3, rounds=0, target_success=0.5), "rounds"),
        (dict(p=0.3, rounds=3, target_success=1.0), "target_success"),
        (dict(p=0.3, rounds=3, target_success=0.5, max_parallel=0), "max_parallel"),
        (dict(p=1e-6, rounds=3, target_success=0.9), "target_success"),
    ],
)
def test_bad_arguments(kwargs, field):
    p = kwargs.pop("p")
    with pytest.raises(UserInputError, match=field):
        adaptive_schedule(p, **kwargs)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.005, 1.0), st.floats(0.01, 0.995)), min_size=1, max_size=12),
    st.integers(1, 5),
    st.one_of(st.none(), st.integers(1, 40)),
)
def test_batched_plans_equal_one_call_each(entries, rounds, cap):
    """adaptive_schedules (one padded recursion, vectorised sizes) == adaptive_schedule."""
    from modenhub_net.aggregate.adaptive import adaptive_schedules

    ps = [p for p, _ in entries]
    targets = [t for _, t in entries]
    try:
        one_by_one = [adaptive_schedule(p, rounds=rounds, target_success=t, max_parallel=cap)
                      for p, t in entries]
    except UserInputError as exc:
        with pytest.raises(UserInputError, match=str(exc).split(":")[0]):
            adaptive_schedules(ps, rounds=rounds, target_success=targets, max_parallel=cap)
        return
    assert adaptive_schedules(ps, rounds=rounds, target_success=targets, max_parallel=cap) == one_by_one
