"""Entanglement swaps per second on Bell pairs (issue 2, benchmark (b)).

Each swap: create two |Phi+> pairs, decohere each of the four stored qubits for an elapsed
time (T1/T2 noise), Bell-state measurement on the two middle qubits, Pauli correction on one
end qubit, fidelity of the resulting end-to-end pair to |Phi+>. Target: >= 20,000 per second
on one core.

Baseline measured in the same run: the same swap done the way the kernel avoids, on one
4-qubit density matrix with every operator padded to 16 x 16 by Kronecker products with
identities (Kraus sums for the noise, projectors for the measurement). Both use the same
physics, so their mean fidelities agree to Monte Carlo error.

Run: ``python benchmarks/bench_swaps.py``.
"""

from __future__ import annotations

import math
import time
from functools import reduce

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
REPEATS = 3


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


def _t1t2_kraus() -> list[np.ndarray]:
    """Kraus operators of amplitude damping then the extra dephasing (same map as t1t2_noise)."""
    gamma = -math.expm1(-STORAGE_NS / T1_NS)
    lam = math.exp(-STORAGE_NS / T2_NS) / math.sqrt(1.0 - gamma)  # remaining coherence factor
    damp = [np.array([[1, 0], [0, math.sqrt(1 - gamma)]]), np.array([[0, math.sqrt(gamma)], [0, 0]])]
    p_z = (1 - lam) / 2
    dephase = [math.sqrt(1 - p_z) * np.eye(2), math.sqrt(p_z) * np.diag([1.0, -1.0])]
    return [z @ d for z in dephase for d in damp]


def kron_swap_rate(n_swaps: int = 2_000, *, seed: int = 1) -> dict:
    """The same swap with dense 16 x 16 operators built by Kronecker products (baseline)."""
    rng = np.random.default_rng(seed)
    eye = np.eye(2)
    kraus = _t1t2_kraus()
    phi = bell_state(0)
    bell_kets = [bell_state(i) for i in range(4)]
    x, z = np.array([[0, 1], [1, 0]]), np.diag([1.0, -1.0])
    fixes = [eye, z, x, z @ x]  # bell_correction: [], [Z], [X], [X then Z]
    total = 0.0
    start = time.perf_counter()
    for _ in range(n_swaps):
        ket = np.kron(phi, phi)
        rho = np.outer(ket, ket.conj())
        for k in range(4):
            ops = [reduce(np.kron, [op if i == k else eye for i in range(4)]) for op in kraus]
            rho = sum(op @ rho @ op.conj().T for op in ops)
        projectors = [np.kron(np.kron(eye, np.outer(b, b.conj())), eye) for b in bell_kets]
        probabilities = np.array([np.trace(p @ rho).real for p in projectors])
        outcome = int(rng.choice(4, p=probabilities / probabilities.sum()))
        rho = projectors[outcome] @ rho @ projectors[outcome] / probabilities[outcome]
        fix = np.kron(np.kron(np.kron(eye, eye), eye), fixes[outcome])
        rho = fix @ rho @ fix.conj().T
        ends = rho.reshape(2, 2, 2, 2, 2, 2, 2, 2)
        ends = np.einsum("abcdebcf->adef", ends).reshape(4, 4)  # trace out the middle qubits
        total += float((phi.conj() @ ends @ phi).real)
    wall = time.perf_counter() - start
    return {"swaps": n_swaps, "wall_s": wall, "swaps_per_s": n_swaps / wall, "mean_fidelity": total / n_swaps}


def main() -> None:
    swap_rate(2_000)  # warm-up
    ours = max((swap_rate() for _ in range(REPEATS)), key=lambda r: r["swaps_per_s"])
    base = max((kron_swap_rate() for _ in range(REPEATS)), key=lambda r: r["swaps_per_s"])
    print(f"kernel: {ours['swaps']} swaps in {ours['wall_s']:.3f} s (best of {REPEATS}): "
          f"{ours['swaps_per_s']:,.0f} swaps/s (target >= 20,000); mean fidelity {ours['mean_fidelity']:.5f}")
    print(f"baseline, dense Kronecker operators: {base['swaps_per_s']:,.0f} swaps/s; "
          f"mean fidelity {base['mean_fidelity']:.5f}")
    print(f"ratio kernel / Kronecker baseline: {ours['swaps_per_s'] / base['swaps_per_s']:.1f}x")


if __name__ == "__main__":
    main()
