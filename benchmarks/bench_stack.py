"""Concurrent protocol stack benchmark: a 64-QPU hub serving 10^5 requests, target < 60 s on one core.

What it measures
----------------
The 64-QPU hub of ``scenarios/datacentre.toml`` (ideal devices, 50 m fibres, a multistage
switch with 0.5 dB per stage, 32 lanes, 32 BSM stations, detection in the hub, **sampled** link
mode) serving 10^5 uniform requests (the paper's workload: ``s != d`` uniform) with Poisson
arrivals at 2 MHz -- about 0.75 of the FIFO saturation throughput of that hub
(``results/datacentre``) -- through the concurrent protocol stack
(:func:`modenhub_net.network.stack_run.run_stack`, ``mode="concurrent"``, FIFO, admission
``queue``, the orchestrated round policy with its cache): every request is a classical
message to the hub, admission and scheduling, heralded generation on the devices, a herald
message, a teleportation on density matrices with its Pauli correction. Timed cold, in-process.

Printed: wall and CPU seconds, requests per second (wall), the peak resident memory of the
process (``ru_maxrss``, and its growth over the run), the simulated throughput, latency and
utilisations, and, measured in the same run on the same workload, the **serial** mode (the
paper's one-request-at-a-time orchestrator, ``mode="serial"``): its wall time and the ratio
concurrent / serial wall time, and the ratio of the simulated throughputs (how much faster the
*hub* serves the same requests when they are served concurrently).

Exit status 1 if the concurrent run takes 60 s or more of wall time. On a shared machine the
CPU time (printed next to it) is the better measure of "one core".

Run: ``.venv/bin/python benchmarks/bench_stack.py`` (``--requests N`` for a shorter run,
``--profile`` to print the 25 most expensive functions of the concurrent run, ``--no-serial``
to skip the baseline).
"""

from __future__ import annotations

import argparse
import cProfile
import math
import platform
import pstats
import resource
import sys
import time
from pathlib import Path

from modenhub_net.config import load_toml
from modenhub_net.network.stack_run import run_stack
from modenhub_net.studies.datacentre_study import load_scenario, make_requests

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "datacentre.toml"
N_QPUS = 64
REQUESTS = 100_000
RATE_HZ = 2e6
TARGET_S = 60.0


def _peak_rss_mib() -> float:
    """Peak resident set size of this process so far, MiB (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 2**20


def _run(scenario, requests, mode: str):
    nodes, hub = scenario.specs(N_QPUS)
    o = scenario.orchestrator
    return run_stack(nodes=nodes, hub=hub, scheme=scenario.network.scheme,
                     link_mode=scenario.network.link_mode, requests=requests, seed=scenario.seed,
                     mode=mode, rounds=o.rounds, kappa=o.kappa, k_min=o.k_min,
                     cache_capacity=o.cache_capacity)


def _describe(metrics: dict[str, float]) -> str:
    util = ", ".join(f"{k.removeprefix('utilisation_')} {v:.2f}" for k, v in metrics.items()
                     if k.startswith("utilisation_") and math.isfinite(v))
    m = metrics
    return (f"operations {m['operations_hz'] / 1e6:.3f} MHz, success {m['success_probability']:.3f}, "
            f"latency p50 {m['latency_p50_ns'] / 1e3:.1f} us p99 {m['latency_p99_ns'] / 1e3:.1f} us"
            + (f"; utilisation {util}" if util else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-serial", action="store_true")
    args = parser.parse_args(argv)
    scenario = load_scenario(load_toml(SCENARIO), source=str(SCENARIO))
    requests = make_requests(scenario, size=N_QPUS, count=args.requests, rate_hz=RATE_HZ,
                             stream=f"bench_stack/N={N_QPUS}", deadlines=False)
    print(f"python {platform.python_version()} on {platform.machine()}, one process, one thread; "
          f"{N_QPUS} QPUs of {SCENARIO.name} ({scenario.network.link_mode} links, scheme "
          f"{scenario.network.scheme}), {args.requests:,} uniform requests, Poisson {RATE_HZ / 1e6:g} MHz, "
          f"seed {scenario.seed}")
    rss_before = _peak_rss_mib()
    profiler = cProfile.Profile() if args.profile else None
    wall0, cpu0 = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    run = _run(scenario, requests, "concurrent")
    if profiler is not None:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    rss_after = _peak_rss_mib()
    concurrent = run.metrics()
    met = wall < TARGET_S
    print(f"concurrent: wall {wall:.2f} s, cpu {cpu:.2f} s (cpu/wall {cpu / wall:.2f}), "
          f"{args.requests / wall:,.0f} requests/s; peak RSS {rss_after:.0f} MiB "
          f"(+{rss_after - rss_before:.0f} MiB over the run)")
    print(f"  simulated: {_describe(concurrent)}")
    print(f"target < {TARGET_S:.0f} s on one core: {'met' if met else 'NOT met'} (wall; the CPU time is "
          f"the one-core time when the machine is shared: {'under' if cpu < TARGET_S else 'over'} "
          f"{TARGET_S:.0f} s)")
    del run
    if not args.no_serial:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        serial = _run(scenario, requests, "serial").metrics()
        serial_wall, serial_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        print(f"serial (paper, one at a time), same workload: wall {serial_wall:.2f} s, cpu "
              f"{serial_cpu:.2f} s, {args.requests / serial_wall:,.0f} requests/s")
        print(f"  simulated: {_describe(serial)}")
        print(f"concurrent / serial ratio: wall {wall / serial_wall:.2f}, cpu {cpu / serial_cpu:.2f}; "
              f"simulated throughput ratio concurrent / serial: "
              f"{concurrent['operations_hz'] / serial['operations_hz']:.2f}")
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
