"""Vectorised Monte Carlo: cache logic, closed forms, loop oracle, streams.

Tolerances are k standard errors computed from the trial counts (k = 4 or 5); seeds are
fixed, so every test is deterministic.
"""

import math
import os
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modenhub_net import UserInputError
from modenhub_net.aggregate import (
    STRATEGIES,
    AggregateModel,
    analytic_mean_attempts,
    analytic_success,
    loop_point,
    resolve_cache,
    resolve_cache_rows,
    run_study,
    sample_schedule,
    simulate_point,
    strategy_schedule,
)

MODEL = AggregateModel()
NO_CACHE = ("naive", "orchestrated_nocache", "adaptive")
IN_CI = os.environ.get("CI") == "true"


def _sequential_cache(pair, fills):
    full = defaultdict(bool)
    hits = []
    for key, fill in zip(pair, fills, strict=True):
        if full[key]:
            full[key] = False
            hits.append(True)
        else:
            full[key] = bool(fill)
            hits.append(False)
    return np.array(hits, dtype=bool)


@given(st.lists(st.tuples(st.integers(0, 4), st.booleans()), max_size=200))
def test_resolve_cache_equals_the_sequential_cache(requests):
    pair = np.array([r[0] for r in requests], dtype=np.int64)
    fills = np.array([r[1] for r in requests], dtype=bool)
    assert np.array_equal(resolve_cache(pair, fills), _sequential_cache(pair, fills))


@given(
    st.lists(st.integers(1, 40_000), min_size=1, max_size=6),
    st.integers(1, 60),
    st.integers(0, 2**32 - 1),
)
def test_resolve_cache_rows_equals_the_sequential_cache_per_row(spans, width, seed):
    # rows of very different id ranges: small ones share a radix-sorted block, a row whose ids
    # need more than 15 bits is a block of its own
    rng = np.random.default_rng(seed)
    pairs = np.stack([rng.integers(0, min(span, 3 * width), width) * (span // min(span, 3 * width))
                      for span in spans])
    fills = rng.random(pairs.shape) < 0.7
    hits = resolve_cache_rows(pairs, fills)
    for row in range(len(spans)):
        assert np.array_equal(hits[row], _sequential_cache(pairs[row], fills[row]))


@pytest.mark.parametrize("n", [2, 3, 6])
def test_cache_invariants_in_a_simulated_point(n):
    point = simulate_point(MODEL, n, "orchestrated", trials=3000, seed=11)
    hit = point.cache_hit
    assert hit.any()
    assert np.all(point.attempts[hit] == 0) and np.all(point.rounds[hit] == 0)
    assert np.all(point.success[hit])
    assert np.all(point.attempts[~hit] > 0)
    # capacity 1, each entry used once: per pair, the first request never hits, two hits are
    # separated by a fresh successful request of that pair that spent >= 2 attempts
    last_fill_candidate = {}
    used_since = {}
    for j in range(point.trials):
        key = (min(point.s[j], point.d[j]), max(point.s[j], point.d[j]))
        if hit[j]:
            assert last_fill_candidate.get(key, False), f"request {j} hit an empty cache"
            assert not used_since.get(key, False)
            used_since[key] = True
            last_fill_candidate[key] = False
        else:
            ok = bool(point.success[j]) and point.attempts[j] >= 2
            last_fill_candidate[key] = ok
            used_since[key] = False


def test_loop_oracle_cache_fills_only_on_two_heralds():
    out = loop_point(MODEL, 2, "orchestrated", trials=2000, seed=5)
    full = False  # N = 2: a single pair
    for hit, success, heralds, attempts in zip(
        out["cache_hit"], out["success"], out["heralds"], out["attempts"], strict=True
    ):
        assert hit == full
        if hit:
            assert attempts == 0
            full = False
        else:
            full = success and heralds >= 2


@pytest.mark.parametrize("schedule", [(1, 1, 1), (7, 7, 7), (2, 5, 0), (5, 7, 9)])
def test_sample_schedule_matches_the_closed_forms(schedule):
    p, n = 0.1, 40_000
    rng = np.random.default_rng(3)
    success, rounds, attempts, heralds = sample_schedule(rng, p, schedule, n)
    s_exact = analytic_success(p, k=schedule)
    assert abs(success.mean() - s_exact) <= 5 * math.sqrt(s_exact * (1 - s_exact) / n)
    a_exact = analytic_mean_attempts(p, k=schedule)
    assert abs(attempts.mean() - a_exact) <= 5 * attempts.std(ddof=1) / math.sqrt(n)
    assert np.all(heralds[~success] == 0) and np.all(heralds[success] >= 1)
    # in the successful round of k attempts, E[heralds | >= 1] = k p / (1 - q^k)
    sched = np.array(schedule)
    for k in set(schedule) - {0}:
        sel = success & (sched[rounds - 1] == k)
        h = heralds[sel]
        expect = k * p / (1 - (1 - p) ** k)
        assert abs(h.mean() - expect) <= 5 * h.std(ddof=1) / math.sqrt(h.size) + 1e-12
        assert h.max() <= k


def _within(mc, exact, se, k):
    return abs(mc - exact) <= k * se


def test_every_no_cache_point_within_4_se_of_its_closed_form():
    """All 381 no-cache points (N = 2..128, 3 strategies) against their closed forms.

    762 comparisons at once: under a correct model each |z| exceeds 4 with probability
    ~6e-5 (normal tail; the skewed attempt counts a little more), so the family expects
    ~0.05 such points and "none beyond 4" would fail ~5-15 % of seeds by chance. The
    family-wise test: at most one point beyond 4 SE (P(>= 2) ~ 1e-3) and none beyond 5 SE
    (762 x 5.7e-7 = 4e-4).
    """
    res = run_study(MODEL, n_qpus=range(2, 129), strategies=NO_CACHE, trials=2500, seed=2024,
                    keep_requests=False)
    s = res.summary
    n = s["trials"]
    se_success = np.sqrt(s["analytic_success_rate"] * (1 - s["analytic_success_rate"]) / n)
    se_attempts = s["attempts_std"] / np.sqrt(n)
    z = np.concatenate([((s["success_rate"] - s["analytic_success_rate"]) / se_success).to_numpy(),
                        ((s["mean_attempts"] - s["analytic_mean_attempts"]) / se_attempts).to_numpy()])
    assert len(s) == 127 * 3
    assert np.count_nonzero(np.abs(z) > 4) <= 1, np.sort(np.abs(z))[-3:]
    assert np.abs(z).max() <= 5, np.abs(z).max()


def test_z_scores_of_the_no_cache_points_are_standard_normal():
    """Pooled over 8 seeds (3048 points): mean z ~ 0 and sd ~ 1 (SE 1/sqrt(3048) and
    1/sqrt(2 x 3048)), so a bias of a tenth of a standard error would show."""
    z = []
    for seed in range(8):
        s = run_study(MODEL, n_qpus=range(2, 129), strategies=NO_CACHE, trials=2500, seed=500 + seed,
                      keep_requests=False).summary
        z.append(((s["mean_attempts"] - s["analytic_mean_attempts"])
                  / (s["attempts_std"] / np.sqrt(s["trials"]))).to_numpy())
    z = np.concatenate(z)
    assert abs(z.mean()) <= 5 / math.sqrt(z.size)
    assert abs(z.std() - 1.0) <= 5 / math.sqrt(2 * z.size)


def _headline_checks(summary):
    """Paper, N = 128: naive ~ 0.27 / ~ 2.7, orchestrated ~ 0.89 / ~ 11.9 (rounded values)."""
    row = {r.strategy: r for r in summary[summary["n_qpus"] == 128].itertuples()}
    n = row["naive"].trials

    def se_p(x):
        return math.sqrt(x * (1 - x) / n)

    naive, orch, nocache = row["naive"], row["orchestrated"], row["orchestrated_nocache"]
    assert abs(naive.success_rate - 0.27) <= 4 * se_p(0.27) + 0.005
    assert abs(naive.mean_attempts - 2.7) <= 4 * naive.attempts_std / math.sqrt(n) + 0.05
    assert abs(nocache.success_rate - 0.89) <= 4 * se_p(0.89) + 0.005
    assert abs(nocache.mean_attempts - 11.9) <= 4 * nocache.attempts_std / math.sqrt(n) + 0.05
    assert abs(orch.success_rate - 0.89) <= 4 * se_p(0.89) + 0.01
    # the cache serves a fraction h of the requests with 0 attempts; a request's own fresh
    # outcome is independent of whether it hits, so E[attempts] = (1 - h) * (no-cache mean)
    h = orch.cache_hit_rate
    expect = (1 - h) * nocache.analytic_mean_attempts
    assert abs(orch.mean_attempts - expect) <= 4 * orch.attempts_std / math.sqrt(n)
    expect_s = h + (1 - h) * nocache.analytic_success_rate
    assert abs(orch.success_rate - expect_s) <= 4 * se_p(expect_s)


def test_headline_at_128_fixed_seed():
    res = run_study(MODEL, n_qpus=[128], strategies=STRATEGIES[:3], trials=2500, seed=7,
                    keep_requests=False)
    _headline_checks(res.summary)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_headline_at_128_several_seeds(seed):
    res = run_study(MODEL, n_qpus=[128], strategies=STRATEGIES[:3], trials=2500, seed=seed,
                    keep_requests=False)
    _headline_checks(res.summary)


def _two_sample(a, b, k=4.5):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    return abs(a.mean() - b.mean()) <= k * se + 1e-12


@pytest.mark.parametrize("n", [2, 3, 8, 128])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_vectorised_model_agrees_with_the_loop_oracle(n, strategy):
    trials = 3000
    vec = simulate_point(MODEL, n, strategy, trials=trials, seed=31)
    ref = loop_point(MODEL, n, strategy, trials=trials, seed=31)
    assert _two_sample(vec.success, ref["success"])
    assert _two_sample(vec.attempts, ref["attempts"])
    if strategy != "adaptive_online":
        # online plans are shared by a batch of requests and switch between near-tied
        # schedules (e.g. 2-2-2 vs 1-2-3 at N = 2) of very different rounds, equal cost:
        # requests are not independent there, so no i.i.d. test on rounds
        assert _two_sample(vec.rounds, ref["rounds"])
    assert _two_sample(vec.cache_hit, ref["cache_hit"])
    # requests are uniform over ordered pairs s != d in both
    assert np.all(vec.s != vec.d) and all(s != d for s, d in zip(ref["s"], ref["d"], strict=True))


def test_requests_are_uniform_over_ordered_pairs():
    point = simulate_point(MODEL, 4, "naive", trials=24_000, seed=1)
    counts = np.zeros((4, 4))
    np.add.at(counts, (point.s, point.d), 1)
    assert np.all(np.diag(counts) == 0)
    off = counts[~np.eye(4, dtype=bool)]
    expect = 24_000 / 12
    assert np.all(np.abs(off - expect) <= 5 * math.sqrt(expect * (1 - 1 / 12)))


def test_a_point_alone_equals_the_point_inside_the_study():
    alone = simulate_point(MODEL, 128, "orchestrated", trials=2500, seed=99)
    study = run_study(MODEL, n_qpus=[5, 64, 128], strategies=STRATEGIES, trials=2500, seed=99)
    req = study.requests
    mine = req[(req["n_qpus"] == 128) & (req["strategy"] == "orchestrated")]
    assert np.array_equal(mine["attempts"].to_numpy(), alone.attempts)
    assert np.array_equal(mine["cache_hit"].to_numpy(), alone.cache_hit)
    # all strategies at one N see the same request sequence (common random numbers)
    naive = req[(req["n_qpus"] == 128) & (req["strategy"] == "naive")]
    assert np.array_equal(naive["s"].to_numpy(), alone.s)
    for strategy in ("naive", "adaptive", "adaptive_online"):
        one = simulate_point(MODEL, 64, strategy, trials=2500, seed=99)
        sel = req[(req["n_qpus"] == 64) & (req["strategy"] == strategy)]
        assert np.array_equal(sel["attempts"].to_numpy(), one.attempts)
        assert np.array_equal(sel["success"].to_numpy(), one.success)
        row = study.summary[(study.summary["n_qpus"] == 64)
                            & (study.summary["strategy"] == strategy)].iloc[0]
        assert row["mean_attempts"] == pytest.approx(one.attempts.mean(), rel=1e-12)


def test_seed_determinism():
    a = simulate_point(MODEL, 16, "adaptive_online", trials=500, seed=3)
    b = simulate_point(MODEL, 16, "adaptive_online", trials=500, seed=3)
    c = simulate_point(MODEL, 16, "adaptive_online", trials=500, seed=4)
    assert np.array_equal(a.attempts, b.attempts) and a.schedule == b.schedule
    assert not np.array_equal(a.attempts, c.attempts)


def test_n_equal_1_is_skipped_not_invented():
    res = run_study(MODEL, n_qpus=[1, 2], strategies=["naive"], trials=10, seed=0)
    assert list(res.summary["n_qpus"]) == [2]
    assert res.skipped and res.skipped[0][0] == 1 and "s != d" in res.skipped[0][1]
    assert set(res.requests["n_qpus"]) == {2}
    with pytest.raises(UserInputError, match="N >= 2"):
        simulate_point(MODEL, 1, "naive", trials=10, seed=0)


def test_unknown_strategy_and_bad_trials():
    with pytest.raises(UserInputError, match="strategy"):
        simulate_point(MODEL, 4, "greedy", trials=10, seed=0)
    with pytest.raises(UserInputError, match="trials"):
        simulate_point(MODEL, 4, "naive", trials=0, seed=0)


def test_online_adaptive_keeps_the_paper_success_and_learns_the_schedule():
    n, trials = 128, 20_000
    point = simulate_point(MODEL, n, "adaptive_online", trials=trials, seed=5)
    p = MODEL.p_eff(n)
    exact = analytic_success(p, k=7, rounds=3)
    assert abs(point.success.mean() - exact) <= 4 * math.sqrt(exact * (1 - exact) / trials)
    assert point.schedule == strategy_schedule(MODEL, n, "adaptive")
    paper = analytic_mean_attempts(p, k=7, rounds=3)
    assert point.attempts.mean() <= paper + 4 * point.attempts.std(ddof=1) / math.sqrt(trials)


@pytest.mark.validation
def test_validation_pooled_seeds_all_n(validation_scale):
    """Pooled over seeds: every no-cache point at 5 SE, the cached one against the oracle."""
    trials = max(500, int(10_000 * validation_scale))
    res = run_study(MODEL, n_qpus=range(2, 129), strategies=NO_CACHE, trials=trials, seed=77,
                    keep_requests=False)
    s = res.summary
    se_s = np.sqrt(s["analytic_success_rate"] * (1 - s["analytic_success_rate"]) / trials)
    se_a = s["attempts_std"] / math.sqrt(trials)
    assert ((s["success_rate"] - s["analytic_success_rate"]).abs() <= 5 * se_s).all()
    assert ((s["mean_attempts"] - s["analytic_mean_attempts"]).abs() <= 5 * se_a).all()
    for n in (2, 4, 16, 128):
        for seed in range(3):
            vec = simulate_point(MODEL, n, "orchestrated", trials=trials, seed=seed)
            ref = loop_point(MODEL, n, "orchestrated", trials=trials, seed=seed)
            assert _two_sample(vec.attempts, ref["attempts"], k=5)
            assert _two_sample(vec.cache_hit, ref["cache_hit"], k=5)


@pytest.mark.validation
def test_validation_million_requests_at_128(validation_scale):
    trials = int(1_000_000 * validation_scale)
    p = MODEL.p_eff(128)
    for strategy in NO_CACHE:
        point = simulate_point(MODEL, 128, strategy, trials=trials, seed=1)
        sched = strategy_schedule(MODEL, 128, strategy)
        exact = analytic_success(p, k=sched)
        assert abs(point.success.mean() - exact) <= 5 * math.sqrt(exact * (1 - exact) / trials)
        assert abs(point.attempts.mean() - analytic_mean_attempts(p, k=sched)) <= (
            5 * point.attempts.std(ddof=1) / math.sqrt(trials)
        )
