"""Parallel efficiency of a sweep: 2-worker LocalCluster vs the serial run, same process.

Run:  .venv/bin/python benchmarks/bench_sweep.py [--points 16] [--work 300]

Both runs go through :func:`modenhub_net.sweep.run_sweep` with a fresh result store (so each
point is written as it finishes, as in a real sweep). CPU-bound points:
:func:`modenhub_net.sweep.testing.busy_point` (pure-Python Monte Carlo, ~0.6 s each at
``--work 300``). The cluster is started before the timed parallel run, and its workers import
the point functions' modules (which the serial run in this process has already done); both are
reported separately and excluded from the speedup. efficiency = speedup / 2.
A second line does the same for real aggregate-model points (the paper's Monte Carlo, vectorised
numpy, ~1 s each at ``--agg-trials 500000``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from modenhub_net.store import ResultStore, load_summary
from modenhub_net.studies.aggregate_study import evaluate_point
from modenhub_net.sweep import run_sweep
from modenhub_net.sweep.runner import local_cluster
from modenhub_net.sweep.testing import busy_point, make_points


def _aggregate_points(count: int, trials: int) -> list:
    from modenhub_net.store import point_key
    from modenhub_net.studies.aggregate_study import load_scenario
    from modenhub_net.sweep.grid import SweepPoint, code_version

    points = []
    for i in range(count):
        document = {"kind": "aggregate", "name": "bench", "seed": i,
                    "model": {"beta": 0.1 + 0.05 * i},
                    "study": {"n_qpus": [2, 8, 32, 128], "trials": trials,
                              "strategies": ["naive", "orchestrated"], "write_requests": False}}
        config = load_scenario(document, source="bench").model_dump()
        points.append(SweepPoint(key=point_key(config, seed=i, code_version=code_version()),
                                 seed=i, labels={"model.beta": 0.1 + 0.05 * i}, document=config))
    return points


def measure(points: list, point_fn, label: str, client_address: str) -> float:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        run_sweep(points, point_fn, ResultStore(Path(folder) / "serial"), workers=1,
                  progress=False)
        serial = time.perf_counter() - start
        start = time.perf_counter()
        run_sweep(points, point_fn, ResultStore(Path(folder) / "parallel"),
                  scheduler=client_address, progress=False)
        parallel = time.perf_counter() - start
        same = load_summary(Path(folder) / "serial").equals(load_summary(Path(folder) / "parallel"))
    speedup = serial / parallel
    print(f"{label}: {len(points)} points, serial {serial:.2f} s, 2 workers {parallel:.2f} s, "
          f"speedup {speedup:.2f}, efficiency {speedup / 2:.2f} (identical tables: {same})")
    return speedup / 2


def _import_point_modules() -> None:
    """Run on each worker: import what the points need (the driver has it imported already)."""
    import modenhub_net.studies.aggregate_study  # noqa: F401
    import modenhub_net.sweep.testing  # noqa: F401


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=16)
    parser.add_argument("--work", type=int, default=300, help="busy_point work units (~2 ms)")
    parser.add_argument("--agg-trials", type=int, default=500_000,
                        help="requests per N of each aggregate point")
    args = parser.parse_args()
    start = time.perf_counter()
    with local_cluster(2) as cluster:  # the cluster `modenhub sweep --workers 2` starts
        startup = time.perf_counter() - start
        from distributed import Client

        start = time.perf_counter()
        with Client(cluster, set_as_default=False) as client:
            client.run(_import_point_modules)
        warmup = time.perf_counter() - start
        print(f"LocalCluster start-up (2 workers): {startup:.2f} s; worker imports: {warmup:.2f} s "
              "(both excluded below)")
        efficiency = measure(make_points(args.points, work=args.work), busy_point,
                             "busy_point (CPU-bound, pure Python)", cluster.scheduler_address)
        measure(_aggregate_points(args.points, args.agg_trials), evaluate_point,
                "aggregate points (paper Monte Carlo, numpy)", cluster.scheduler_address)
    print(f"parallel efficiency (CPU-bound points, 2 workers): {efficiency:.2f} "
          f"(target >= 0.80: {'met' if efficiency >= 0.8 else 'NOT met'})")


if __name__ == "__main__":
    main()
