"""Aggregate-model benchmark (issue 3).

(a) Wall time of the full paper study: N = 2..128, every strategy, 2,500 requests per point,
    after one warm-up, measured two ways: returning the per-point summaries (what the loop
    baseline returns: ``keep_requests=False``) and also building the per-request table (what
    ``modenhub run scenarios/paper_fig3.toml`` writes to requests.parquet).
(b) The same study with the straightforward per-request, per-attempt pure-Python loop
    (:mod:`modenhub_net.aggregate.loop_reference`, which returns the summaries), measured in
    the same run; the ratios loop / vectorised. Five (vectorised best of 3 each way, loop)
    groups are interleaved so that both sides of a ratio see the same machine conditions
    (on a shared machine single runs drift by tens of percent); the median ratio is reported.
(c) 1,000,000 requests per strategy at N = 128.

Targets: (a) < 1 s, (b) >= 50x (like for like: both return the summaries; also checked with the
per-request table), (c) within seconds.
Run: ``python benchmarks/bench_aggregate.py``.
"""

from __future__ import annotations

import platform
import time

from modenhub_net.aggregate import STRATEGIES, AggregateModel, loop_study, run_study, simulate_point

N_VALUES = range(2, 129)
PAPER = ("naive", "orchestrated", "orchestrated_nocache", "adaptive")
TRIALS = 2500
GROUPS = 5  # (vectorised lean, vectorised with table, loop) groups; median ratios reported
SEED = 1


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def best_of_3(model, strategies, *, keep_requests: bool) -> float:
    return min(timed(run_study, model, n_qpus=N_VALUES, strategies=strategies, trials=TRIALS,
                     seed=SEED, keep_requests=keep_requests)[0] for _ in range(3))


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def main() -> int:
    model = AggregateModel()
    print(f"python {platform.python_version()} on {platform.machine()}, one process")
    run_study(model, n_qpus=range(2, 10), strategies=STRATEGIES, trials=100, seed=0)  # warm-up

    verdicts = []
    for label, strategies in (("issue's 4 strategies", PAPER), ("all 5 strategies", STRATEGIES)):
        n_points = len(N_VALUES) * len(strategies)
        lean, full, loops = [], [], []
        for _ in range(GROUPS):  # interleaved: the three measurements see the same conditions
            lean.append(best_of_3(model, strategies, keep_requests=False))
            full.append(best_of_3(model, strategies, keep_requests=True))
            loops.append(timed(loop_study, model, n_qpus=N_VALUES, strategies=strategies,
                               trials=TRIALS, seed=SEED)[0])
        r_lean = [lp / v for lp, v in zip(loops, lean, strict=True)]
        r_full = [lp / v for lp, v in zip(loops, full, strict=True)]
        print(f"== {label}: {n_points} points x {TRIALS} requests ({n_points * TRIALS:,})")
        print(f"(a) vectorised, summaries:             {', '.join(f'{v:.3f}' for v in lean)} s")
        print(f"(a) vectorised, plus per-request table: {', '.join(f'{v:.3f}' for v in full)} s")
        print(f"(b) pure-Python loop, summaries:       {', '.join(f'{v:.2f}' for v in loops)} s")
        print(f"(b) loop / vectorised, summaries:      {', '.join(f'{r:.1f}' for r in sorted(r_lean))}x, "
              f"median {median(r_lean):.1f}x")
        print(f"(b) loop / vectorised, with the table: {', '.join(f'{r:.1f}' for r in sorted(r_full))}x, "
              f"median {median(r_full):.1f}x")
        verdicts.append((label, max(full), median(r_lean), median(r_full)))
    total = 0.0
    parts = []
    for strategy in STRATEGIES:
        t, _ = timed(simulate_point, model, 128, strategy, trials=1_000_000, seed=SEED)
        total += t
        parts.append(f"{strategy} {t:.2f} s")
    print(f"(c) 1,000,000 requests at N = 128: {'; '.join(parts)}; all {total:.2f} s")

    for label, slowest, r_lean, r_full in verdicts:
        print(f"target (a) < 1 s, {label}: {'met' if slowest < 1.0 else 'NOT met'} "
              f"(slowest {slowest:.3f} s with the table)")
        print(f"target (b) >= 50x, {label}: like for like {'met' if r_lean >= 50 else 'NOT met'} "
              f"(median {r_lean:.1f}x); with the per-request table too "
              f"{'met' if r_full >= 50 else 'NOT met'} (median {r_full:.1f}x)")
    print(f"target (c) within seconds: {'met' if total < 10.0 else 'NOT met'} ({total:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
