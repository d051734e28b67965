"""Assign logical qubits to QPUs within their data-qubit capacities, minimising ebit cost.

The objective of an assignment ``a`` (qubit -> QPU) is the *network-weighted cut*

``cost(a) = sum over two-qubit gates (q, r) with a(q) != a(r) of  w[a(q), a(r)]``,

where ``w[i, j]`` is the cost of one ebit between QPUs i and j (all 1: the number of
non-local gates). :func:`link_cost_from_rates` (``w = 1/rate``, the expected time to make
one ebit) and :func:`link_cost_from_fidelities` (``w = -ln F``, so that costs add like the
log of a product of fidelities) build ``w`` from link qualities, e.g. from the hub's link
budgets.

Methods (:func:`partition_circuit`):

- ``"round_robin"``: qubit ``i`` to QPU ``i mod k`` (skipping full QPUs): the naive
  baseline that ignores the circuit and the network.
- ``"kl"``: recursive bisection of the qubit interaction graph with networkx's
  Kernighan-Lin heuristic (Kernighan & Lin, Bell Syst. Tech. J. 49, 291 (1970);
  ``networkx.algorithms.community.kernighan_lin_bisection``), splitting the QPU set at each
  level so that cheap QPU pairs stay on one side, then a network-aware local search
  (single moves into free capacity and pairwise swaps, accepted while ``cost`` falls).
- ``"metis"``: METIS k-way partitioning (Karypis & Kumar, SIAM J. Sci. Comput. 20, 359
  (1998)) through ``pymetis`` (optional), with target part weights proportional to the
  capacities, then repair of over-full parts and the same local search.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from modenhub_net.errors import UserInputError
from protocols.circuits.extras import require
from protocols.circuits.ir import Circuit

__all__ = [
    "PARTITION_METHODS",
    "Partition",
    "interaction_weights",
    "link_cost_from_fidelities",
    "link_cost_from_rates",
    "partition_circuit",
    "partition_cost",
    "partition_from_assignment",
]

PARTITION_METHODS = ("round_robin", "kl", "metis")


@dataclass(frozen=True)
class Partition:
    """A qubit -> QPU assignment.

    Attributes
    ----------
    assignment : tuple of int
        ``assignment[q]`` is the QPU of logical qubit ``q``.
    n_qpus : int
    method : str
    nonlocal_gates : int
        Two-qubit gates whose qubits sit on different QPUs.
    cost : float
        Network-weighted cut (module docstring).
    """

    assignment: tuple[int, ...]
    n_qpus: int
    method: str
    nonlocal_gates: int
    cost: float

    def qpu_of(self, qubit: int) -> int:
        return self.assignment[qubit]

    def qubits_on(self, qpu: int) -> list[int]:
        return [q for q, p in enumerate(self.assignment) if p == qpu]


def link_cost_from_rates(rate_hz: np.ndarray) -> np.ndarray:
    """Ebit cost ``w[i, j] = 1 / rate_hz[i, j]`` in s (the mean time to make one ebit).

    Parameters
    ----------
    rate_hz : array (k, k)
        Ebit generation rate of each QPU pair in Hz, > 0 off the diagonal (diagonal ignored).
    """
    rate = np.asarray(rate_hz, dtype=float)
    off = ~np.eye(rate.shape[0], dtype=bool)
    if (
        rate.ndim != 2
        or rate.shape[0] != rate.shape[1]
        or not np.all(rate[off] > 0)
        or not np.all(np.isfinite(rate[off]))
    ):
        raise UserInputError("rate_hz must be a square matrix of finite rates > 0 Hz off the diagonal")
    cost = np.zeros_like(rate)
    cost[off] = 1.0 / rate[off]
    return cost


def link_cost_from_fidelities(fidelity: np.ndarray) -> np.ndarray:
    """Ebit cost ``w[i, j] = -ln F[i, j]`` (additive along a circuit: product of fidelities).

    Parameters
    ----------
    fidelity : array (k, k)
        Ebit fidelity of each QPU pair, in (0, 1] off the diagonal (diagonal ignored).
    """
    f = np.asarray(fidelity, dtype=float)
    off = ~np.eye(f.shape[0], dtype=bool)
    if f.ndim != 2 or f.shape[0] != f.shape[1] or not np.all((f[off] > 0) & (f[off] <= 1)):
        raise UserInputError("fidelity must be a square matrix with entries in (0, 1] off the diagonal")
    cost = np.zeros_like(f)
    cost[off] = -np.log(f[off])
    return cost


def interaction_weights(circuit: Circuit) -> dict[tuple[int, int], int]:
    """Number of two-qubit gates between each unordered qubit pair ``(q < r)``."""
    out: dict[tuple[int, int], int] = {}
    for op in circuit.two_qubit_gates():
        key = tuple(sorted(op.qubits))
        out[key] = out.get(key, 0) + 1
    return out


def partition_cost(
    weights: dict[tuple[int, int], int], assignment: Sequence[int], link_cost: np.ndarray
) -> float:
    """Network-weighted cut of ``assignment`` (module docstring)."""
    return float(
        sum(
            n * link_cost[assignment[q], assignment[r]]
            for (q, r), n in weights.items()
            if assignment[q] != assignment[r]
        )
    )


def _check_inputs(circuit: Circuit, capacities: Sequence[int], link_cost: np.ndarray | None) -> np.ndarray:
    k = len(capacities)
    if not 1 <= k <= 1024:
        raise UserInputError(f"n_qpus = {k} must be in [1, 1024]")
    for i, c in enumerate(capacities):
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 0:
            raise UserInputError(f"capacities[{i}] = {c!r} must be an integer >= 0 (data qubits)")
    if sum(capacities) < circuit.n_qubits:
        raise UserInputError(
            f"the circuit has {circuit.n_qubits} qubits but the {k} QPUs hold only "
            f"{sum(capacities)} data qubits: add QPUs or data qubits (qpu.n_data_qubits)"
        )
    if link_cost is None:
        return np.ones((k, k)) - np.eye(k)
    cost = np.asarray(link_cost, dtype=float)
    if cost.shape != (k, k) or not np.all(np.isfinite(cost)) or np.any(cost < 0):
        raise UserInputError(f"link_cost must be a {k}x{k} matrix of finite costs >= 0")
    return (cost + cost.T) / 2.0


def _round_robin(n: int, capacities: Sequence[int]) -> list[int]:
    load = [0] * len(capacities)
    out = []
    qpu = 0
    for _ in range(n):
        while load[qpu] >= capacities[qpu]:
            qpu = (qpu + 1) % len(capacities)
        out.append(qpu)
        load[qpu] += 1
        qpu = (qpu + 1) % len(capacities)
    return out


def _split_qpus(qpus: list[int], cost: np.ndarray, rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """Halve a QPU set keeping cheap pairs together (KL on the QPU graph, weight = 1/cost)."""
    nx = require("networkx", package="networkx", feature="partition method 'kl'")

    half = len(qpus) // 2
    if np.allclose(cost[np.ix_(qpus, qpus)][~np.eye(len(qpus), dtype=bool)], cost[qpus[0], qpus[-1]]):
        return qpus[:half], qpus[half:]
    graph = nx.Graph()
    graph.add_nodes_from(qpus)
    for i in qpus:
        for j in qpus:
            if i < j:
                graph.add_edge(i, j, weight=1.0 / max(cost[i, j], 1e-300))
    a, b = nx.algorithms.community.kernighan_lin_bisection(
        graph, partition=(set(qpus[:half]), set(qpus[half:])), weight="weight", seed=int(rng.integers(2**31))
    )
    return sorted(a), sorted(b)


def _kl(
    n: int, weights: dict, capacities: Sequence[int], cost: np.ndarray, rng: np.random.Generator
) -> list[int]:
    nx = require("networkx", package="networkx", feature="partition method 'kl'")

    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    for (q, r), w in weights.items():
        graph.add_edge(q, r, weight=w)
    assignment = [0] * n

    def recurse(qubits: list[int], qpus: list[int]) -> None:
        if len(qpus) == 1:
            for q in qubits:
                assignment[q] = qpus[0]
            return
        left, right = _split_qpus(qpus, cost, rng)
        cap_l = sum(capacities[p] for p in left)
        cap_r = sum(capacities[p] for p in right)
        size_l = round(len(qubits) * cap_l / (cap_l + cap_r)) if cap_l + cap_r else 0
        size_l = min(cap_l, max(len(qubits) - cap_r, size_l))
        first, second = set(qubits[:size_l]), set(qubits[size_l:])
        if first and second and graph.subgraph(qubits).number_of_edges():
            first, second = nx.algorithms.community.kernighan_lin_bisection(
                graph.subgraph(qubits),
                partition=(first, second),
                weight="weight",
                seed=int(rng.integers(2**31)),
            )
        recurse(sorted(first), left)
        recurse(sorted(second), right)

    recurse(list(range(n)), list(range(len(capacities))))
    return assignment


def _metis(n: int, weights: dict, capacities: Sequence[int]) -> list[int]:
    pymetis = require("pymetis", package="pymetis", feature="partition method 'metis'")
    k = len(capacities)
    adjacency: list[list[int]] = [[] for _ in range(n)]
    eweights: list[list[int]] = [[] for _ in range(n)]
    for (q, r), w in weights.items():
        adjacency[q].append(r)
        eweights[q].append(w)
        adjacency[r].append(q)
        eweights[r].append(w)
    xadj = [0]
    for row in adjacency:
        xadj.append(xadj[-1] + len(row))
    total = float(sum(capacities))
    tpwgts = [c / total for c in capacities]
    adjncy = [x for row in adjacency for x in row]
    flat_weights = [x for row in eweights for x in row]
    if hasattr(pymetis, "CSRAdjacency"):  # pymetis >= 2025
        graph = pymetis.CSRAdjacency(xadj, adjncy)
        _, parts = pymetis.part_graph(k, graph, eweights=flat_weights, tpwgts=tpwgts)
    else:
        _, parts = pymetis.part_graph(k, xadj=xadj, adjncy=adjncy, eweights=flat_weights, tpwgts=tpwgts)
    return [int(p) for p in parts]


def _repair(assignment: list[int], weights: dict, capacities: Sequence[int], cost: np.ndarray) -> None:
    """Move qubits out of over-full QPUs to the free QPU that raises the cost least."""
    load = np.bincount(assignment, minlength=len(capacities))
    neighbours = _neighbours(len(assignment), weights)
    for q in range(len(assignment)):
        p = assignment[q]
        if load[p] <= capacities[p]:
            continue
        best = min(
            (i for i in range(len(capacities)) if load[i] < capacities[i]),
            key=lambda i: _move_delta(q, i, assignment, neighbours, cost),
        )
        load[p] -= 1
        load[best] += 1
        assignment[q] = best


def _neighbours(n: int, weights: dict) -> list[dict[int, int]]:
    out: list[dict[int, int]] = [{} for _ in range(n)]
    for (q, r), w in weights.items():
        out[q][r] = w
        out[r][q] = w
    return out


def _move_delta(
    q: int, to: int, assignment: Sequence[int], neighbours: list[dict[int, int]], cost: np.ndarray
) -> float:
    frm = assignment[q]
    return float(
        sum(w * (cost[to, assignment[r]] - cost[frm, assignment[r]]) for r, w in neighbours[q].items())
    )


def _local_search(
    assignment: list[int], weights: dict, capacities: Sequence[int], cost: np.ndarray, *, max_passes: int = 50
) -> None:
    """Network-aware refinement: best single moves into free capacity, then best swaps."""
    n, k = len(assignment), len(capacities)
    neighbours = _neighbours(n, weights)
    load = np.bincount(assignment, minlength=k)
    for _ in range(max_passes):
        improved = False
        for q in range(n):
            frm = assignment[q]
            best, best_delta = frm, -1e-12
            for to in range(k):
                if to != frm and load[to] < capacities[to]:
                    delta = _move_delta(q, to, assignment, neighbours, cost)
                    if delta < best_delta:
                        best, best_delta = to, delta
            if best != frm:
                assignment[q] = best
                load[frm] -= 1
                load[best] += 1
                improved = True
        for q in range(n if n <= 200 else 0):  # pairwise swaps: O(n^2), small circuits only
            for r in range(q + 1, n):
                a, b = assignment[q], assignment[r]
                if a == b:
                    continue
                delta = _move_delta(q, b, assignment, neighbours, cost)
                assignment[q] = b
                delta += _move_delta(r, a, assignment, neighbours, cost)
                assignment[q] = a
                if delta < -1e-12:
                    assignment[q], assignment[r] = b, a
                    improved = True
        if not improved:
            return


def partition_circuit(
    circuit: Circuit,
    capacities: Sequence[int],
    *,
    method: str = "kl",
    link_cost: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> Partition:
    """Assign the circuit's qubits to QPUs (see the module docstring).

    Parameters
    ----------
    circuit : Circuit
    capacities : sequence of int
        Data qubits of each QPU (``QpuParams.n_data_qubits``), their sum >= the circuit's qubits.
    method : {"round_robin", "kl", "metis"}
        Default ``"kl"``.
    link_cost : array (k, k), optional
        Cost of one ebit between each QPU pair (>= 0, symmetrised); default 1 off the diagonal.
    rng : numpy.random.Generator, optional
        Stream for the heuristics' tie-breaking (e.g. ``sim.rng("circuit.partition")``);
        default a fixed stream (seed 0), so the result is reproducible.

    Examples
    --------
    >>> from protocols.circuits.generators import ghz
    >>> partition_circuit(ghz(4), [2, 2]).nonlocal_gates  # doctest: +SKIP
    1
    >>> partition_circuit(ghz(4), [2, 2], method="round_robin").nonlocal_gates
    3
    """
    cost = _check_inputs(circuit, capacities, link_cost)
    if method not in PARTITION_METHODS:
        raise UserInputError(
            f"partition method = {method!r}: unknown (allowed: {', '.join(PARTITION_METHODS)})"
        )
    rng = rng if rng is not None else np.random.default_rng(0)
    n = circuit.n_qubits
    weights = interaction_weights(circuit)
    if method == "round_robin":
        assignment = _round_robin(n, capacities)
    else:
        assignment = (
            _kl(n, weights, capacities, cost, rng) if method == "kl" else _metis(n, weights, capacities)
        )
        _repair(assignment, weights, capacities, cost)
        _local_search(assignment, weights, capacities, cost)
    load = np.bincount(assignment, minlength=len(capacities))
    assert all(load[i] <= capacities[i] for i in range(len(capacities)))
    nonlocal_gates = sum(w for (q, r), w in weights.items() if assignment[q] != assignment[r])
    return Partition(
        tuple(int(a) for a in assignment),
        len(capacities),
        method,
        int(nonlocal_gates),
        partition_cost(weights, assignment, cost) if not math.isnan(cost.sum()) else math.nan,
    )


def partition_from_assignment(
    circuit: Circuit,
    assignment: Sequence[int],
    capacities: Sequence[int],
    *,
    link_cost: np.ndarray | None = None,
) -> Partition:
    """A :class:`Partition` from an explicit qubit -> QPU list (checked against the capacities)."""
    cost = _check_inputs(circuit, capacities, link_cost)
    k = len(capacities)
    if len(assignment) != circuit.n_qubits:
        raise UserInputError(f"assignment has {len(assignment)} entries for {circuit.n_qubits} qubits")
    for q, p in enumerate(assignment):
        if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or not 0 <= p < k:
            raise UserInputError(f"assignment[{q}] = {p!r} must be a QPU index in [0, {k - 1}]")
    load = np.bincount(np.asarray(assignment, dtype=int), minlength=k)
    for i in range(k):
        if load[i] > capacities[i]:
            raise UserInputError(f"assignment puts {load[i]} qubits on QPU {i}, which holds {capacities[i]}")
    weights = interaction_weights(circuit)
    nonlocal_gates = sum(w for (q, r), w in weights.items() if assignment[q] != assignment[r])
    return Partition(
        tuple(int(a) for a in assignment),
        k,
        "fixed",
        int(nonlocal_gates),
        partition_cost(weights, assignment, cost),
    )
