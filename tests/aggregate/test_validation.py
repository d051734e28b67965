"""Bad input to the aggregate API is one clear error; valid input always runs.

The reproducers of the robustness issue, each with the message it must give; then a
property test over random *valid* studies (high p0, many rounds, random adaptive settings):
every one runs, and its results are in range, or (only for adaptive settings the user chose)
it is refused up front naming that setting.
"""

import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modenhub_net import UserInputError
from modenhub_net.aggregate import (
    STRATEGIES,
    AdaptiveSettings,
    AggregateModel,
    AggregateScenario,
    adaptive_schedule,
    analytic_mean_attempts,
    analytic_success,
    as_schedule,
    k_parallel,
    p_eff,
    run_study,
    simulate_point,
    strategy_schedule,
)
from modenhub_net.aggregate.adaptive import orchestrated_total
from modenhub_net.config import validate_document

IN_CI = os.environ.get("CI") == "true"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: k_parallel(128, kappa=1e300),
         "kappa = 1e+300: outside the allowed range; allowed: a finite number in (0.0, 1000.0]"),
        (lambda: k_parallel(128, kappa=True), "kappa = True: a boolean is not a number"),
        (lambda: k_parallel(128, k_min=2.0), "k_min = 2.0: a float is not a count"),
        (lambda: k_parallel(2.0), "n_qpus = 2.0: floats are not counts"),
        (lambda: k_parallel(True), "n_qpus = True: not an integer"),
        (lambda: k_parallel(10**30), "n_qpus = 1000000000000000000000000000000: too large"),
        (lambda: k_parallel(2**60), "outside the allowed range; allowed: integers in [1, 9007199254740992]"),
        (lambda: p_eff(128, p0=float("nan")), "p0 = nan: NaN is not a number"),
        (lambda: p_eff(128, beta="0.3"), "beta = '0.3': a string is not a number"),
        (lambda: p_eff([2, 10**20]), "n_qpus = [2, 100000000000000000000]: too large"),
        (lambda: run_study(AggregateModel(), n_qpus=[10**7], seed=1),
         "n_qpus[0] = 10000000: outside the allowed range; allowed: an integer in [1, 1000000]"),
        (lambda: run_study(AggregateModel(), n_qpus=[4], trials=2.0, seed=1),
         "trials = 2.0: a float is not a count (write an integer); allowed: an integer in "
         "[1, 100000000]"),
        (lambda: run_study(AggregateModel(), n_qpus=[4], trials=True, seed=1),
         "trials = True: a boolean is not a number"),
        (lambda: run_study(AggregateModel(), n_qpus=4, seed=1),
         "n_qpus = 4: expected a list of integers"),
        (lambda: run_study(AggregateModel(), n_qpus=[4], strategies="naive", seed=1),
         "strategies = 'naive': expected a list of strategy names"),
        (lambda: run_study(AggregateModel(), n_qpus=[4], seed=-1), "seed = -1: outside"),
        (lambda: run_study(AggregateModel(), n_qpus=[4], seed=1, confidence=True),
         "confidence = True: a boolean is not a number"),
        (lambda: run_study({"p0": 0.3}, n_qpus=[4], seed=1), "model = {'p0': 0.3}: expected"),
        (lambda: run_study(AggregateModel(), n_qpus=list(range(2, 1002)), trials=10**6, seed=1),
         "trials = 1000000: 4000 points (n_qpus x strategies) x 1000000 trials = 4000000000 "
         "requests, more than the 50000000 allowed in one study with the per-request table"),
        (lambda: simulate_point(AggregateModel(), 4, "naive", trials=2.5, seed=1),
         "trials = 2.5: a float is not a count"),
        (lambda: AggregateModel(p0=True),
         "AggregateModel: p0 = True: a boolean is not a number; allowed: a finite number in "
         "(0.0, 1.0]"),
        (lambda: AggregateModel(rounds=3.0), "AggregateModel: rounds = 3.0: a float is not a count"),
        (lambda: AggregateModel(kappa=1e300), "AggregateModel: kappa = 1e+300: Input should be "
         "less than or equal to 1000"),
        (lambda: AggregateModel(bta=0.3), "AggregateModel: bta: unknown key (not allowed here); "
         "did you mean 'beta'?"),
        (lambda: analytic_success(True, k=1, rounds=3), "p = True: not a number"),
        (lambda: analytic_success(0.3, k=2.0, rounds=3), "k = 2.0: a float is not a count"),
        (lambda: as_schedule([2, True]), "schedule[1] = True: a boolean is not a number"),
        (lambda: adaptive_schedule(0.3, rounds=3, target_success=1.0),
         "target_success = 1.0: outside the allowed range; allowed: a finite number in (0.0, 1.0)"),
        (lambda: run_study(AggregateModel(k_min=3000), n_qpus=[4], strategies=["adaptive"], seed=1),
         "model: at N = 4 the adaptive strategies' default target needs K(N) x rounds = 3000 x 3 "
         "= 9000 attempts, more than the planner's 5000; lower model.kappa, model.k_min or "
         "model.rounds, or set adaptive.target_success"),
        (lambda: run_study(AggregateModel(), n_qpus=[128], strategies=["adaptive_online"], seed=1,
                           adaptive=AdaptiveSettings(max_parallel=3)),
         "adaptive.max_parallel = 3: at N = 128 the default target (the orchestrated success) "
         "needs K(N) x rounds = 7 x 3 = 21 attempts, more than 3 rounds of at most 3"),
    ],
)
def test_reproducers_give_one_clear_error(call, message):
    with pytest.raises(UserInputError) as info:
        call()
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_default_target_at_high_p_plans_the_orchestrated_budget():
    """p = 0.9, K R = 32: the orchestrated success 1 - 0.1**32 is 1.0 in floating point; the
    plan must still be the K R attempts of the paper's policy (the issue's 74 of 300)."""
    model = AggregateModel(p0=0.9, beta=0.0, rounds=8, k_min=3)
    assert 1.0 - (1.0 - 0.9) ** (model.k_parallel(16) * 8) == 1.0
    plan = strategy_schedule(model, 16, "adaptive")
    assert sum(plan) == orchestrated_total(0.9, k=model.k_parallel(16), rounds=8) == 32
    assert strategy_schedule(AggregateModel(p0=1.0, beta=0.0), 8, "adaptive") == (1, 0, 0)
    result = run_study(model, n_qpus=[16], strategies=["adaptive", "adaptive_online"],
                       trials=200, seed=2, keep_requests=False)
    assert (result.summary["success_rate"] == 1.0).all()


def test_many_rounds_run_and_agree_with_the_closed_forms():
    """R = 300 (outcome codes beyond int8): naive success 1 - q**R within 5 standard errors."""
    model = AggregateModel(p0=0.004, beta=0.0, rounds=300)
    trials = 4000
    row = run_study(model, n_qpus=[4], strategies=["naive"], trials=trials, seed=5,
                    keep_requests=False).summary.iloc[0]
    expected = analytic_success(0.004, k=1, rounds=300)
    assert abs(row.success_rate - expected) < 5 * math.sqrt(expected * (1 - expected) / trials)
    mean = analytic_mean_attempts(0.004, k=1, rounds=300)
    assert abs(row.mean_attempts - mean) < 5 * row.attempts_std / math.sqrt(trials)


def test_scenario_refuses_oversized_studies_and_ranges_before_expanding():
    base = {"kind": "aggregate", "name": "x", "seed": 1}
    with pytest.raises(UserInputError, match=r"study.n_qpus: first and last must lie in \[1, 1000000\] "
                       r"\(got \{'first': 1, 'last': 10000000000\}\)"):
        validate_document(AggregateScenario, {**base, "study": {
            "n_qpus": {"first": 1, "last": 10**10}}}, source="s.toml")
    with pytest.raises(UserInputError, match=r"study.trials = 100000000: 508 points \(study.n_qpus x "
                       r"study.strategies\) x 100000000 trials"):
        validate_document(AggregateScenario, {**base, "study": {
            "n_qpus": {"first": 2, "last": 128}, "trials": 10**8}}, source="s.toml")
    with pytest.raises(UserInputError, match=r"adaptive.target_success = 0.999999: at N = 128"):
        validate_document(AggregateScenario, {**base, "model": {"p0": 0.001},
                                              "study": {"n_qpus": [128]},
                                              "adaptive": {"target_success": 0.999999}},
                          source="s.toml")


# -- random valid studies --------------------------------------------------------------------

models = st.builds(
    dict,
    p0=st.floats(min_value=0.01, max_value=1.0),
    beta=st.floats(min_value=0.0, max_value=2.0),
    kappa=st.floats(min_value=0.05, max_value=3.0),
    rounds=st.integers(min_value=1, max_value=12),
    k_min=st.integers(min_value=1, max_value=6),
)
adaptive_options = st.builds(
    dict,
    target_success=st.none() | st.floats(min_value=0.01, max_value=0.999),
    max_parallel=st.none() | st.integers(min_value=1, max_value=60),
    prior_p=st.none() | st.floats(min_value=1e-3, max_value=1.0),
    prior_weight=st.floats(min_value=0.1, max_value=1000.0),
    first_batch=st.integers(min_value=1, max_value=50),
)

COUNTS = {"cases": 0, "ran": 0, "refused": 0}


@settings(max_examples=60 if IN_CI else 300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(model=models, options=adaptive_options,
       ns=st.lists(st.integers(min_value=1, max_value=1024), min_size=1, max_size=4, unique=True),
       trials=st.integers(min_value=1, max_value=60), seed=st.integers(min_value=0, max_value=2**63 - 1))
def test_random_valid_studies_run_or_name_the_users_setting(model, options, ns, trials, seed):
    """Every valid study runs with results in range, or is refused up front naming a setting the
    user wrote (never ``target_success`` or ``max_parallel`` when they were not given)."""
    COUNTS["cases"] += 1
    written = {key: value for key, value in options.items() if value is not None}
    adaptive = AdaptiveSettings(**written)
    try:
        result = run_study(AggregateModel(**model), n_qpus=ns, strategies=list(STRATEGIES),
                           trials=trials, seed=seed, adaptive=adaptive, keep_requests=False)
    except UserInputError as exc:
        COUNTS["refused"] += 1
        text = str(exc)
        assert "\n" not in text
        named = [name for name in ("target_success", "max_parallel") if f"adaptive.{name} =" in text]
        assert named and all(name in written for name in named), text
        return
    COUNTS["ran"] += 1
    summary = result.summary
    assert len(summary) == len([n for n in ns if n != 1]) * len(STRATEGIES)
    for column in ("success_rate", "success_ci_low", "success_ci_high", "cache_hit_rate", "p_eff"):
        values = summary[column].to_numpy(dtype=float)
        assert np.all((values >= 0.0) & (values <= 1.0)), (column, values)
    assert np.all(summary["success_ci_low"] <= summary["success_rate"])
    assert np.all(summary["success_rate"] <= summary["success_ci_high"])
    assert np.isfinite(summary["mean_attempts"].to_numpy(dtype=float)).all()
    a_lo, a_hi = (summary[c].to_numpy(dtype=float) for c in ("attempts_ci_low", "attempts_ci_high"))
    if trials >= 2:  # (one request: no standard deviation, the interval is NaN)
        assert np.all((0.0 <= a_lo) & (a_lo <= summary["mean_attempts"]) & (summary["mean_attempts"] <= a_hi))
    else:
        assert np.isnan(a_lo).all() and np.isnan(a_hi).all()
    closed = summary.dropna(subset=["analytic_success_rate"])
    assert ((closed["analytic_success_rate"] >= 0.0) & (closed["analytic_success_rate"] <= 1.0)).all()
    if not written or set(written) <= {"prior_p", "prior_weight", "first_batch"}:
        # default target: the adaptive success equals the orchestrated one exactly
        adaptive_rows = summary[summary["strategy"] == "adaptive"].reset_index(drop=True)
        paper_rows = summary[summary["strategy"] == "orchestrated_nocache"].reset_index(drop=True)
        assert np.allclose(adaptive_rows["analytic_success_rate"], paper_rows["analytic_success_rate"],
                           rtol=0, atol=1e-12)


@settings(max_examples=40 if IN_CI else 200, deadline=None)
@given(model=models, ns=st.lists(st.integers(min_value=2, max_value=1024), min_size=1, max_size=3,
                                 unique=True))
def test_default_adaptive_settings_always_run(model, ns):
    """No user adaptive settings: nothing the user did not write can be refused."""
    result = run_study(AggregateModel(**model), n_qpus=ns, strategies=["adaptive", "adaptive_online"],
                       trials=30, seed=3, keep_requests=False)
    assert len(result.summary) == 2 * len(ns)


def test_zz_print_counts(record_property):
    """The counts of the random-study property test (run it with ``-s`` to see them)."""
    record_property("random_valid_studies", dict(COUNTS))
    print(f"\nrandom valid aggregate studies: {COUNTS['cases']} cases, {COUNTS['ran']} ran, "
          f"{COUNTS['refused']} refused naming the user's own adaptive setting")
