"""Entanglement swaps per second on Bell pairs (issue 2, benchmark (b)).

Each swap: create two |Phi+> pairs, decohere each of the four stored qubits for an elapsed
time (T1/T2 noise), Bell-state measurement on the two middle qubits, Pauli correction on one
end qubit, fidelity of the resulting end-to-end pair to |Phi+>. Target: >= 20,000 per second
on one core. Run: ``python benchmarks/bench_swaps.py``.
"""

from __future__ import annotations

import time

import numpy as np

from modenhub_net.qubits import (
    bell_correction,
    bell_measure,
    bell_state,
    create_bell_pair,
    fidelity,
    operate,
    t1t2_noise,
)

T1_NS = 1e9
T2_NS = 5e8
STORAGE_NS = 1e7


def swap_rate(n_swaps: int = 20_000, *, seed: int = 1) -> dict:
    """Time ``n_swaps`` swaps; returns swaps, wall seconds, swaps per second, mean fidelity."""
    rng = np.random.default_rng(seed)
    phi_plus = bell_state(0)
    total = 0.0
    start = time.perf_counter()
    for _ in range(n_swaps):
        a, b1 = create_bell_pair()
        b2, c = create_bell_pair()
        for qubit in (a, b1, b2, c):
            t1t2_noise(qubit, STORAGE_NS, t1_ns=T1_NS, t2_ns=T2_NS)
        for gate in bell_correction(bell_measure(b1, b2, rng)):
            operate([c], gate)
        total += fidelity([a, c], phi_plus)
    wall = time.perf_counter() - start
    return {"swaps": n_swaps, "wall_s": wall, "swaps_per_s": n_swaps / wall, "mean_fidelity": total / n_swaps}


if __name__ == "__main__":
    result = swap_rate()
    print(f"{result['swaps']} swaps in {result['wall_s']:.3f} s: {result['swaps_per_s']:,.0f} swaps/s "
          f"(target >= 20,000); mean fidelity {result['mean_fidelity']:.5f}")
