"""Aggregate-model benchmark (issue 3).

(a) Wall time of the full paper study: N = 2..128, every strategy, 2,500 requests per point,
    per-request table included (what ``modenhub run scenarios/paper_fig3.toml`` simulates),
    after one warm-up.
(b) The same study with the straightforward per-request, per-attempt pure-Python loop
    (:mod:`modenhub_net.aggregate.loop_reference`), measured in the same run; the ratio
    (b)/(a). Three (vectorised best of 3, loop) pairs are interleaved so that both sides of a
    ratio see the same machine conditions (on a shared machine single runs drift by tens of
    percent); the median ratio is reported.
(c) 1,000,000 requests per strategy at N = 128.
(d) For information: the full study without the per-request table (``keep_requests=False``,
    what a sweep needs; the loop baseline returns only the summaries too).

Targets: (a) < 1 s, (b)/(a) >= 50, (c) within seconds.
Run: ``python benchmarks/bench_aggregate.py``.
"""

from __future__ import annotations

import platform
import time

from modenhub_net.aggregate import STRATEGIES, AggregateModel, loop_study, run_study, simulate_point

N_VALUES = range(2, 129)
PAPER = ("naive", "orchestrated", "orchestrated_nocache", "adaptive")
TRIALS = 2500
PAIRS = 5  # (vectorised, loop) measurement pairs; the median ratio is reported
SEED = 1


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def main() -> int:
    model = AggregateModel()
    print(f"python {platform.python_version()} on {platform.machine()}, one process")
    run_study(model, n_qpus=range(2, 10), strategies=STRATEGIES, trials=100, seed=0)  # warm-up

    results = {}
    for label, strategies in (("issue's 4 strategies", PAPER), ("all 5 strategies", STRATEGIES)):
        n_points = len(N_VALUES) * len(strategies)
        vecs, loops = [], []
        for _ in range(PAIRS):  # vectorised and loop interleaved: both see the same conditions
            vecs.append(min(timed(run_study, model, n_qpus=N_VALUES, strategies=strategies,
                                  trials=TRIALS, seed=SEED)[0] for _ in range(3)))
            loops.append(timed(loop_study, model, n_qpus=N_VALUES, strategies=strategies,
                               trials=TRIALS, seed=SEED)[0])
        ratios = sorted(lp / v for lp, v in zip(loops, vecs, strict=True))
        ratio = ratios[len(ratios) // 2]
        results[label] = (max(vecs), ratio)
        print(f"(a) vectorised full study, {label}: {n_points} points x {TRIALS} requests "
              f"({n_points * TRIALS:,}), per-request table included: "
              f"{', '.join(f'{v:.3f}' for v in vecs)} s (best of 3, per pair)")
        print(f"(b) pure-Python loop, same study: {', '.join(f'{lp:.2f}' for lp in loops)} s; "
              f"speed-up per pair {', '.join(f'{r:.1f}' for r in ratios)}x, median {ratio:.1f}x")
    total = 0.0
    parts = []
    for strategy in STRATEGIES:
        t, _ = timed(simulate_point, model, 128, strategy, trials=1_000_000, seed=SEED)
        total += t
        parts.append(f"{strategy} {t:.2f} s")
    print(f"(c) 1,000,000 requests at N = 128: {'; '.join(parts)}; all {total:.2f} s")
    lean = min(timed(run_study, model, n_qpus=N_VALUES, strategies=STRATEGIES, trials=TRIALS,
                     seed=SEED, keep_requests=False)[0] for _ in range(5))
    print(f"(d) all 5 strategies without the per-request table: {lean:.3f} s (best of 5)")

    for label, (v, r) in results.items():
        verdict = "met" if v < 1.0 and r >= 50 else "NOT met"
        print(f"targets (a) < 1 s and (b)/(a) >= 50x, {label}: {verdict} ({v:.3f} s, {r:.1f}x)")
    print(f"target (c) within seconds: {'met' if total < 10.0 else 'NOT met'} ({total:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
