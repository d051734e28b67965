"""Substreams of the aggregate Monte Carlo and the online strategy's binomial inversion."""

import numpy as np
import pytest
from scipy import stats

from modenhub_net.aggregate import STRATEGIES
from modenhub_net.aggregate.online import binomial_quantile, online_batches
from modenhub_net.aggregate.streams import SLOTS, STREAM_NAME, StudyStreams
from modenhub_net.simulation import stream_seed_sequence


@pytest.mark.parametrize(("n", "strategy"), [(2, None), (2, "naive"), (128, "orchestrated"),
                                             (999_999, "adaptive_online")])
def test_a_substream_is_numpys_jumped_stream(n, strategy):
    streams = StudyStreams(7)
    rng = streams.requests(n) if strategy is None else streams.outcomes(n, strategy)
    got = rng.bit_generator.random_raw(5)
    root = np.random.PCG64DXSM(stream_seed_sequence(7, STREAM_NAME))
    expected = root.jumped(StudyStreams.index(n, strategy)).random_raw(5)
    assert np.array_equal(got, expected)


def test_substream_numbers_are_distinct_and_repositioning_restarts_them():
    streams = StudyStreams(3)
    firsts = set()
    for n in range(2, 40):
        firsts.add(int(streams.requests(n).bit_generator.random_raw()))
        for strategy in STRATEGIES:
            firsts.add(int(streams.outcomes(n, strategy).bit_generator.random_raw()))
    assert len(firsts) == 38 * (1 + len(STRATEGIES))
    a = streams.outcomes(5, "naive").random(4)
    streams.requests(9).random(10)
    assert np.array_equal(streams.outcomes(5, "naive").random(4), a)
    assert len(STRATEGIES) + 1 <= SLOTS


def test_substreams_do_not_share_low_state_bits():
    # the reason for jumps: states 2**64 draws apart in one 128-bit LCG share their low 64 bits
    streams = StudyStreams(11)
    lows = {streams.outcomes(17, s).bit_generator.state["state"]["state"] % (1 << 64)
            for s in STRATEGIES}
    assert len(lows) == len(STRATEGIES)


def test_online_batches_double_and_cover_the_requests():
    batches = online_batches(2500, 25)
    assert batches[0] == (0, 25) and batches[-1][1] == 2500
    sizes = [b - a for a, b in batches]
    assert all(later == 2 * earlier for earlier, later in zip(sizes[:-2], sizes[1:-1], strict=True))
    assert all(a == b for (_, a), (b, _) in zip(batches[:-1], batches[1:], strict=True))


@pytest.mark.parametrize(("n", "p"), [(0, 0.3), (1, 0.5), (7, 0.02), (40, 0.35), (3000, 0.01),
                                      (12, 1.0)])
def test_binomial_quantile_is_the_exact_integer_inverse_cdf(n, p):
    v = np.random.default_rng(n).random(2000)
    v[:3] = [0.0, 0.5, 1.0 - 1e-12]
    k = binomial_quantile(v, np.full(v.size, n), np.full(v.size, p))
    cdf_k = stats.binom.cdf(k, n, p)
    cdf_below = np.where(k >= 1, stats.binom.cdf(k - 1, n, p), 0.0)
    assert np.all((k >= 0) & (k <= n))
    assert np.all(cdf_k >= v * (1 - 1e-12))  # P(X <= k) >= v ...
    assert np.all((k == 0) | (cdf_below < v))  # ... and k is the smallest such


def test_binomial_quantile_of_uniforms_is_binomial():
    n, p, draws = 60, 0.07, 200_000
    x = binomial_quantile(np.random.default_rng(5).random(draws), np.full(draws, n), np.full(draws, p))
    mean_se = np.sqrt(n * p * (1 - p) / draws)
    assert abs(x.mean() - n * p) < 5 * mean_se
    counts = np.bincount(x, minlength=n + 1)[:12]
    expected = stats.binom.pmf(np.arange(12), n, p) * draws
    z = (counts - expected) / np.sqrt(expected * (1 - expected / draws))
    assert np.max(np.abs(z)) < 5


def test_summary_without_the_request_table_is_the_same():
    from modenhub_net.aggregate import AggregateModel, run_study

    kwargs = dict(n_qpus=[2, 3, 17, 128], strategies=STRATEGIES, trials=700, seed=4)
    full = run_study(AggregateModel(), **kwargs)
    lean = run_study(AggregateModel(), keep_requests=False, **kwargs)
    assert lean.requests is None
    assert full.summary.equals(lean.summary)


@pytest.mark.parametrize("strategies", [STRATEGIES, ("adaptive_online", "adaptive_online", "naive")])
def test_online_rows_of_the_request_table_equal_the_point_alone(strategies):
    # regular layout (every 5th row, written in place) and an irregular one (copied back)
    from modenhub_net.aggregate import AggregateModel, run_study, simulate_point

    model = AggregateModel()
    study = run_study(model, n_qpus=[3, 40], strategies=strategies, trials=400, seed=8)
    req = study.requests
    for n in (3, 40):
        alone = simulate_point(model, n, "adaptive_online", trials=400, seed=8)
        rows = req[(req.n_qpus == n) & (req.strategy == "adaptive_online")]
        for copy in range(list(strategies).count("adaptive_online")):
            part = rows.iloc[copy * 400 : (copy + 1) * 400]
            for name in ("success", "attempts", "rounds", "s", "d"):
                assert np.array_equal(part[name].to_numpy(), getattr(alone, name)), name
