"""Detailed vs sampled link mode on one scenario: wall time ratio and agreement.

Run: .venv/bin/python benchmarks/bench_link_modes.py
"""

from __future__ import annotations

import time

import numpy as np

from modenhub_net.network.builder import run_policy
from modenhub_net.network.hardware import HubHardware, NodeHardware
from modenhub_net.network.records import records_frame, summarise_records
from protocols.workload import uniform_requests


def main() -> None:
    nodes = [NodeHardware(fibre_length_km=5.0, emission_efficiency=0.3, memory_t1_ns=1e9,
                          memory_t2_ns=1e8) for _ in range(8)]
    hub = HubHardware(hom_visibility=0.95, detector_efficiency=0.9, switch_loss_db_per_stage=0.5)
    reqs = uniform_requests(np.random.default_rng(1), n_qpus=8, count=1000)
    wall = {}
    for mode in ("sampled", "detailed"):
        t = time.perf_counter()
        records, _, _ = run_policy(nodes=nodes, hub=hub, scheme="detection_in_hub", link_mode=mode,
                                   policy="orchestrated", requests=reqs, seed=3)
        wall[mode] = time.perf_counter() - t
        s = summarise_records(records_frame(records)).iloc[0]
        print(f"{mode:9s} wall {wall[mode]:.2f} s  success {s.success_rate:.3f}  attempts "
              f"{s.mean_attempts:.2f}  fidelity {s.mean_fidelity:.4f}")
    print(f"speed ratio detailed/sampled: {wall['detailed'] / wall['sampled']:.1f}x")


if __name__ == "__main__":
    main()
