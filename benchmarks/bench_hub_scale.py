"""Hub-scale benchmark: a 1,024-QPU hub serving 10^5 requests, cost vs N and vs requests.

What it measures
----------------
The physical hub of the paper's Fig. 3 (:func:`modenhub_net.studies.calibrated_hub_study.calibrated_hardware`
of ``scenarios/paper_fig3_physical.toml``: the switch loss calibrated so that one attempt
succeeds with the paper's ``p_eff(N)``, scheme ``detection_in_hub``), link mode ``sampled``,
the serial *orchestrated* policy (K(N) attempts a round, 3 rounds, capacity-1 cache), uniform
requests (``s != d``), every request served by the discrete-event hub network
(:func:`modenhub_net.network.builder.run_policy`: heralded generation, corrections, cache,
teleportation on density matrices). Each point runs in its own child process, one after the
other (one core at a time), so its peak memory is its own.

Printed per point: N, requests, wall seconds of building the network (a build alone, same N),
wall seconds of the whole run (build + serve), microseconds per request of the serve part,
peak resident memory of the process (``resource.getrusage(...).ru_maxrss``; the Python
interpreter with numpy, pandas and the package imported is about 100 MB of it), success rate
and mean attempts per request (a sanity check: the orchestrated success at N = 1,024 is the
aggregate model's, about 0.86).

Two scans, then the issue's target:

- cost vs N at a fixed number of requests (``--scan-n``, default 64, 256, 1,024 at 5,000);
- cost vs requests at N = 1,024 (``--scan-requests``, default 5,000, 20,000, 100,000); the last
  point is the target run (N = 1,024, 10^5 requests, < 60 s on one core).

Growth in requests: the log-log slope of the serve time between the scan's first and last
point (1 = linear) and the marginal cost per request between consecutive points; the check
is "no worse than linear", slope <= 1.10 (10 % for noise on a shared machine).

``--plot PATH`` writes both scans as a PNG figure (two panels, log-log).

Exit status 1 if the target run takes >= 60 s or the slope exceeds 1.10.

Run: ``.venv/bin/python benchmarks/bench_hub_scale.py [--plot hub_scale.png]``
(about 3 minutes on the 2-core development machine).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "paper_fig3_physical.toml"
TARGET_N = 1024
TARGET_REQUESTS = 100_000
TARGET_S = 60.0
SLOPE_MAX = 1.10
SEED = 20240611


def _point(n: int, requests: int, seed: int, out: Any) -> None:
    """Child process: build once alone (timed), then the full run; sends a JSON dict."""
    import numpy as np

    from modenhub_net.config import load_toml, validate_document
    from modenhub_net.network.builder import build_hub_network, run_policy
    from modenhub_net.simulation import Simulation, stream_seed_sequence
    from modenhub_net.studies.calibrated_hub_study import CalibratedScenario, calibrated_hardware
    from protocols.workload import uniform_requests

    scenario = validate_document(CalibratedScenario, load_toml(SCENARIO), source=str(SCENARIO))
    model = scenario.model
    nodes, hub = calibrated_hardware(model, n)
    rng = np.random.Generator(np.random.PCG64(stream_seed_sequence(seed, f"workload/N={n}")))
    workload = uniform_requests(rng, n_qpus=n, count=requests)
    start = time.perf_counter()
    build_hub_network(Simulation(seed=seed), nodes=nodes, hub=hub, scheme="detection_in_hub",
                      link_mode="sampled")
    build_s = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    records, _, _ = run_policy(
        nodes=nodes, hub=hub, scheme="detection_in_hub", link_mode="sampled",
        policy="orchestrated", requests=workload, seed=seed, rounds=model.rounds,
        kappa=model.kappa, k_min=model.k_min,
    )
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    out.send(json.dumps({
        "n_qpus": n, "requests": requests, "build_s": build_s, "wall_s": wall, "cpu_s": cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "success": float(np.mean([r.success for r in records])),
        "attempts": float(np.mean([r.attempts for r in records])),
    }))
    out.close()


def run_point(n: int, requests: int, seed: int = SEED) -> dict[str, Any]:
    """One point in a fresh child process (spawned: its own interpreter and peak memory)."""
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_point, args=(n, requests, seed, send))
    proc.start()
    send.close()
    line = receive.recv()
    proc.join()
    if proc.exitcode != 0:
        raise RuntimeError(f"point N={n}, requests={requests} failed (exit {proc.exitcode})")
    row = json.loads(line)
    row["serve_s"] = max(row["wall_s"] - row["build_s"], 1e-9)
    row["us_per_request"] = row["serve_s"] / requests * 1e6
    return row


def _print_row(row: dict[str, Any]) -> None:
    print(f"  N = {row['n_qpus']:5,d}  requests {row['requests']:7,d}  build {row['build_s']:6.2f} s  "
          f"run {row['wall_s']:7.2f} s (cpu {row['cpu_s']:7.2f} s)  serve {row['us_per_request']:7.1f} us"
          f"/request  peak RSS {row['peak_rss_mb']:6.0f} MB  success {row['success']:.4f}  "
          f"attempts {row['attempts']:.2f}", flush=True)


def slope(rows: list[dict[str, Any]], x: str, y: str = "serve_s") -> float:
    """Log-log slope of ``y`` against ``x`` between the first and last row."""
    a, b = rows[0], rows[-1]
    return math.log(b[y] / a[y]) / math.log(b[x] / a[x])


def plot(path: Path, by_n: list[dict[str, Any]], by_r: list[dict[str, Any]]) -> None:
    """Both scans, log-log: run time vs N (fixed requests), run time vs requests (N = 1,024)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    left.loglog([r["n_qpus"] for r in by_n], [r["wall_s"] for r in by_n], "o-", label="run")
    left.loglog([r["n_qpus"] for r in by_n], [r["build_s"] for r in by_n], "s--", label="build")
    left.set_xlabel("QPUs N")
    left.set_ylabel("wall time (s)")
    left.set_title(f"{by_n[0]['requests']:,} requests")
    left.legend()
    xs = [r["requests"] for r in by_r]
    right.loglog(xs, [r["serve_s"] for r in by_r], "o-", label="serve")
    ref = by_r[0]["serve_s"] / xs[0]
    right.loglog(xs, [ref * x for x in xs], ":", color="grey", label="linear")
    right.axhline(TARGET_S, color="red", lw=0.8, label=f"{TARGET_S:.0f} s target")
    right.set_xlabel("requests")
    right.set_title(f"N = {by_r[0]['n_qpus']:,}")
    right.legend()
    fig.savefig(path, dpi=150)
    print(f"figure: {path}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scan-n", type=int, nargs="*", default=[64, 256, TARGET_N],
                        help="N values of the N scan (default 64 256 1024)")
    parser.add_argument("--n-requests", type=int, default=5_000,
                        help="requests per point of the N scan (default 5,000)")
    parser.add_argument("--scan-requests", type=int, nargs="*",
                        default=[5_000, 20_000, TARGET_REQUESTS],
                        help="request counts of the request scan at N = 1,024 (the last is the "
                             "target run; default 5,000 20,000 100,000)")
    parser.add_argument("--plot", type=Path, help="write the two scans as a PNG figure")
    args = parser.parse_args(argv)
    if len(args.scan_requests) < 2:
        parser.error("--scan-requests needs at least two values")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"python {platform.python_version()} on {platform.machine()}; hub of "
          f"{SCENARIO.name} (calibrated p_eff(N)), detection_in_hub, link mode sampled, "
          f"orchestrated policy, serial, seed {SEED}; one child process per point")
    print(f"cost vs N ({args.n_requests:,} requests):")
    by_n = []
    for n in args.scan_n:
        by_n.append(run_point(n, args.n_requests))
        _print_row(by_n[-1])
    print(f"cost vs requests (N = {TARGET_N:,}):")
    by_r = []
    for count in sorted(args.scan_requests):
        by_r.append(run_point(TARGET_N, count))
        _print_row(by_r[-1])
    k = slope(by_r, "requests")
    marginal = [
        (b["serve_s"] - a["serve_s"]) / (b["requests"] - a["requests"]) * 1e6
        for a, b in zip(by_r, by_r[1:], strict=False)
    ]
    print(f"growth in requests: log-log slope of the serve time {k:.3f} (1 = linear; required "
          f"<= {SLOPE_MAX:g}); marginal cost per request "
          + ", ".join(f"{m:.0f} us" for m in marginal))
    if len(by_n) >= 2:
        print(f"growth in N at {args.n_requests:,} requests: log-log slope of the run time "
              f"{slope(by_n, 'n_qpus', 'wall_s'):.3f}, of the build time "
              f"{slope(by_n, 'n_qpus', 'build_s'):.3f}")
    failures = []
    target = next((r for r in by_r if r["n_qpus"] == TARGET_N and r["requests"] == TARGET_REQUESTS),
                  None)
    if target is not None:
        met = target["wall_s"] < TARGET_S
        print(f"target: N = {TARGET_N:,}, {TARGET_REQUESTS:,} requests in {target['wall_s']:.1f} s "
              f"(< {TARGET_S:.0f} s on one core: {'met' if met else 'NOT met'}), peak RSS "
              f"{target['peak_rss_mb']:.0f} MB")
        if not met:
            failures.append("target time")
    if k > SLOPE_MAX:
        failures.append(f"slope {k:.3f} > {SLOPE_MAX}")
    if args.plot is not None:
        plot(args.plot, by_n, by_r)
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
