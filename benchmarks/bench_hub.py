"""Physical hub benchmark: the paper's Fig. 3 by the physical simulation, target < 60 s on one core.

What it measures
----------------
The study of ``scenarios/paper_fig3_physical.toml`` (:mod:`modenhub_net.studies.calibrated_hub_study`):
N = 2, 4, 8, ..., 128 QPUs, 2,500 uniform requests per (N, policy), policies naive and
orchestrated, link mode sampled, every request served by the discrete-event hub network
(heralded generation, corrections, cache, teleportation on density matrices), the switch loss
calibrated so that one attempt succeeds with the paper's ``p_eff(N)``. It is run in-process,
one point after the other, exactly as ``modenhub run scenarios/paper_fig3_physical.toml``
simulates it (same seed, same per-point workloads and calls), and timed cold (no warm-up).

Printed: wall and CPU seconds per (N, policy) and per N, the total against the 60-s target,
and the speed as a ratio against a named baseline measured in the same run: the aggregate
(vectorised numpy) model of the same study (:func:`modenhub_net.aggregate.run_study`, same N
list, trials, strategies and seed as the study's comparison; best of 3 after one warm-up), as
"physical hub / aggregate model wall ratio". CPU time ~ wall time shows the run used one core
(the simulation is one Python thread). As a sanity check the physical success rates and mean
attempts are compared with the aggregate model (the study's ``agreement``, ``|z| < 4``).

Exit status 1 if the 60-s target or the agreement check fails.

Run: ``.venv/bin/python benchmarks/bench_hub.py``.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import pandas as pd

from modenhub_net.aggregate import run_study
from modenhub_net.config import load_toml, validate_document
from modenhub_net.studies.calibrated_hub_study import CalibratedScenario, agreement, simulate_point

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "paper_fig3_physical.toml"
TARGET_S = 60.0
Z_MAX = 4.0


def load_scenario() -> CalibratedScenario:
    """The shipped scenario, checked to be the issue's study."""
    scenario = validate_document(CalibratedScenario, load_toml(SCENARIO), source=str(SCENARIO))
    expected = dict(n_qpus=(2, 4, 8, 16, 32, 64, 128), trials=2500,
                    policies=("naive", "orchestrated"), link_mode="sampled")
    actual = {key: getattr(scenario, key) for key in expected}
    if actual != expected:
        raise SystemExit(f"{SCENARIO}: expected {expected}, found {actual}")
    return scenario


def time_aggregate(scenario: CalibratedScenario, repeats: int = 3) -> float:
    """Best-of-``repeats`` wall seconds of the aggregate model on the same study (after a warm-up)."""
    kwargs = dict(n_qpus=list(scenario.n_qpus), strategies=list(scenario.policies),
                  trials=scenario.trials, seed=scenario.seed + 1)
    run_study(scenario.model, **kwargs)
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_study(scenario.model, **kwargs)
        runs.append(time.perf_counter() - start)
    return min(runs)


def main() -> int:
    scenario = load_scenario()
    print(f"python {platform.python_version()} on {platform.machine()}, one process, one thread; "
          f"scenario {SCENARIO.name} (seed {scenario.seed}, {scenario.trials} requests per point, "
          f"link mode {scenario.link_mode})")
    frames = []
    per_n: dict[int, float] = {}
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    for n in scenario.n_qpus:
        for policy in scenario.policies:
            t_wall, t_cpu = time.perf_counter(), time.process_time()
            frame = simulate_point(scenario, n, policy)
            wall, cpu = time.perf_counter() - t_wall, time.process_time() - t_cpu
            frames.append(frame)
            per_n[n] = per_n.get(n, 0.0) + wall
            print(f"  N = {n:3d} {policy:12s} wall {wall:6.2f} s  cpu {cpu:6.2f} s  "
                  f"success {frame['success'].mean():.4f}  mean attempts {frame['attempts'].mean():.2f}")
    total_wall = time.perf_counter() - wall_start
    total_cpu = time.process_time() - cpu_start
    physical = pd.concat(frames, ignore_index=True)
    print("per-N wall (both policies): "
          + ", ".join(f"N={n} {t:.2f} s" for n, t in per_n.items()))
    met = total_wall < TARGET_S
    print(f"physical Fig. 3 ({len(scenario.n_qpus)} N x {len(scenario.policies)} policies x "
          f"{scenario.trials} requests = {len(physical):,} requests): wall {total_wall:.2f} s, "
          f"cpu {total_cpu:.2f} s (cpu/wall {total_cpu / total_wall:.2f}); target < {TARGET_S:.0f} s "
          f"on one core: {'met' if met else 'NOT met'}")

    aggregate_s = time_aggregate(scenario)
    print(f"aggregate model, same study (baseline, best of 3): {aggregate_s:.4f} s")
    print(f"physical hub / aggregate model wall ratio: {total_wall / aggregate_s:,.0f}x")

    table = agreement(scenario, physical)
    z_s, z_a = table["z_success"].abs().max(), table["z_attempts"].abs().max()
    agree = z_s < Z_MAX and z_a < Z_MAX
    row = table[(table["n_qpus"] == 128)].set_index("policy")
    print("N = 128 physical vs aggregate: "
          + "; ".join(f"{p} success {row.loc[p, 'success_physical']:.3f} vs "
                      f"{row.loc[p, 'success_aggregate']:.3f}, attempts {row.loc[p, 'attempts_physical']:.2f}"
                      f" vs {row.loc[p, 'attempts_aggregate']:.2f}" for p in scenario.policies))
    print(f"agreement with the aggregate model: max |z| success {z_s:.2f}, attempts {z_a:.2f} "
          f"(required < {Z_MAX:g}): {'ok' if agree else 'FAIL'}")
    return 0 if met and agree else 1


if __name__ == "__main__":
    sys.exit(main())
