"""Built-in circuits: GHZ-n, QFT-n, QAOA MaxCut (p = 1) and Grover search.

Each generator returns a :class:`~protocols.circuits.ir.Circuit` with terminal measurements of
every qubit (``measure=False`` leaves them out). Randomness (the QAOA graph) comes from a
``numpy.random.Generator`` the caller takes from a named stream, e.g.
``Simulation(seed=s).rng("circuit.qaoa_graph")`` or :func:`graph_rng`.
"""

from __future__ import annotations

import math

import numpy as np

from modenhub_net.errors import UserInputError, check_range
from modenhub_net.simulation import stream_seed_sequence
from protocols.circuits.gates import expand_gate, mcz_ops
from protocols.circuits.ir import Circuit, Op

__all__ = ["GENERATORS", "build_generator", "ghz", "graph_rng", "grover", "qaoa_maxcut", "qft"]

_MAX_GENERATED_QUBITS = 1000


def _check_n(n_qubits: int, *, low: int = 1, high: int = _MAX_GENERATED_QUBITS) -> int:
    if (
        isinstance(n_qubits, bool)
        or not isinstance(n_qubits, (int, np.integer))
        or not low <= n_qubits <= high
    ):
        raise UserInputError(f"n_qubits = {n_qubits!r} must be an integer in [{low}, {high}]")
    return int(n_qubits)


def _measure_all(n: int) -> list[Op]:
    return [Op("measure", (q,), name="measure", clbit=q) for q in range(n)]


def graph_rng(seed: int, name: str = "circuit.qaoa_graph") -> np.random.Generator:
    """The named random stream of a run with root ``seed`` (as ``Simulation(seed).rng(name)``)."""
    return np.random.Generator(np.random.PCG64(stream_seed_sequence(seed, name)))


def ghz(n_qubits: int, *, measure: bool = True) -> Circuit:
    """GHZ-n: ``H`` on qubit 0, then the CNOT ladder ``CX(i, i+1)`` (output (|0..0> + |1..1>)/sqrt 2).

    Examples
    --------
    >>> ghz(3).counts()
    {'u': 1, 'cx': 2, 'cz': 0, 'measure': 3}
    """
    n = _check_n(n_qubits, low=2)
    ops = expand_gate("h", [], [0])
    ops += [Op("cx", (i, i + 1), name="cx") for i in range(n - 1)]
    ops += _measure_all(n) if measure else []
    return Circuit(n, tuple(ops), name=f"ghz{n}", n_clbits=n if measure else 0)


def qft(n_qubits: int, *, basis_input: int = 0, swaps: bool = True, measure: bool = True) -> Circuit:
    """QFT-n on the basis state ``|basis_input>`` (Nielsen & Chuang §5.1, Fig. 5.1).

    ``X`` gates prepare ``|basis_input>`` (qubit 0 most significant); then for each qubit j:
    ``H`` and the controlled phases ``CP(2 pi / 2^{k-j+1})`` from qubits k > j; then the
    qubit-order reversal by SWAPs (``swaps=True``). Controlled phases and SWAPs are decomposed
    into CNOTs (:mod:`protocols.circuits.gates`).
    """
    n = _check_n(n_qubits, low=1, high=64)
    if (
        isinstance(basis_input, bool)
        or not isinstance(basis_input, (int, np.integer))
        or not 0 <= basis_input < 2**n
    ):
        raise UserInputError(f"basis_input = {basis_input!r} must be an integer in [0, 2^{n} - 1]")
    ops: list[Op] = []
    for q in range(n):
        if (basis_input >> (n - 1 - q)) & 1:
            ops += expand_gate("x", [], [q])
    for j in range(n):
        ops += expand_gate("h", [], [j])
        for k in range(j + 1, n):
            ops += expand_gate("cp", [2 * math.pi / 2 ** (k - j + 1)], [k, j])
    if swaps:
        for j in range(n // 2):
            ops += expand_gate("swap", [], [j, n - 1 - j])
    ops += _measure_all(n) if measure else []
    return Circuit(
        n,
        tuple(ops),
        name=f"qft{n}",
        n_clbits=n if measure else 0,
        metadata={"basis_input": int(basis_input)},
    )


def qaoa_maxcut(
    n_qubits: int,
    *,
    rng: np.random.Generator,
    edge_prob: float = 0.5,
    gamma: float = 0.6,
    beta: float = 0.4,
    measure: bool = True,
) -> Circuit:
    """QAOA for MaxCut with p = 1 on a G(n, p) random graph (Farhi, Goldstone & Gutmann, arXiv:1411.4028).

    ``|+>^n``, then the cost layer ``exp(-i gamma C)`` with ``C = sum_(i,j) (1 - Z_i Z_j)/2``,
    i.e. ``RZZ(-gamma)`` on every edge (up to a global phase), then the mixer ``RX(2 beta)`` on
    every qubit.

    Parameters
    ----------
    n_qubits : int
        Graph vertices / qubits, in [2, 1000].
    rng : numpy.random.Generator
        Stream for the graph (e.g. :func:`graph_rng` ``(seed)``); each of the ``n(n-1)/2``
        vertex pairs is an edge with probability ``edge_prob``.
    edge_prob : float
        Edge probability in (0, 1]. Default 0.5.
    gamma, beta : float
        QAOA angles in rad (finite). Defaults 0.6 and 0.4 are illustrative (near the p = 1
        optimum of 3-regular graphs, gamma ~ 0.62, beta ~ 0.39; Farhi et al. 2014, §V).
    """
    n = _check_n(n_qubits, low=2)
    check_range("edge_prob", edge_prob, low=0.0, high=1.0, low_inclusive=False)
    for label, value in (("gamma", gamma), ("beta", beta)):
        if isinstance(value, bool) or not math.isfinite(check_range(label, value)):
            raise UserInputError(f"{label} = {value!r} must be a finite number (rad)")
    edges = [(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < edge_prob]
    ops: list[Op] = []
    for q in range(n):
        ops += expand_gate("h", [], [q])
    for i, j in edges:
        ops += expand_gate("rzz", [-gamma], [i, j])
    for q in range(n):
        ops += expand_gate("rx", [2 * beta], [q])
    ops += _measure_all(n) if measure else []
    return Circuit(
        n,
        tuple(ops),
        name=f"qaoa{n}",
        n_clbits=n if measure else 0,
        metadata={"edges": edges, "gamma": gamma, "beta": beta},
    )


def grover(n_qubits: int, *, marked: int = 0, iterations: int | None = None, measure: bool = True) -> Circuit:
    """Grover search for one marked item among ``2^n`` (Grover, PRL 79, 325 (1997)).

    ``H^n``, then ``iterations`` times: the oracle (phase -1 on ``|marked>``: X on the zero
    bits of ``marked``, multi-controlled Z, X again) and the diffusion
    ``H^n X^n (MCZ) X^n H^n``. Default iterations ``floor(pi/4 sqrt(2^n))``, which maximises the
    success probability ``sin^2((2k+1) theta)``, ``sin theta = 2^{-n/2}`` (Boyer et al.,
    Fortschr. Phys. 46, 493 (1998)). The MCZ is decomposed without ancillas
    (:func:`protocols.circuits.gates.mcz_ops`), so n is limited to [2, 10].
    """
    n = _check_n(n_qubits, low=2, high=10)
    if isinstance(marked, bool) or not isinstance(marked, (int, np.integer)) or not 0 <= marked < 2**n:
        raise UserInputError(f"marked = {marked!r} must be an integer in [0, 2^{n} - 1]")
    if iterations is None:
        iterations = int(math.floor(math.pi / 4 * math.sqrt(2**n)))
    if (
        isinstance(iterations, bool)
        or not isinstance(iterations, (int, np.integer))
        or not 0 <= iterations <= 1000
    ):
        raise UserInputError(f"iterations = {iterations!r} must be an integer in [0, 1000]")
    qubits = list(range(n))
    zeros = [q for q in qubits if not (marked >> (n - 1 - q)) & 1]
    ops: list[Op] = []
    for q in qubits:
        ops += expand_gate("h", [], [q])
    for _ in range(iterations):
        for q in zeros:
            ops += expand_gate("x", [], [q])
        ops += mcz_ops(qubits, name="oracle")
        for q in zeros:
            ops += expand_gate("x", [], [q])
        for q in qubits:
            ops += expand_gate("h", [], [q]) + expand_gate("x", [], [q])
        ops += mcz_ops(qubits, name="diffusion")
        for q in qubits:
            ops += expand_gate("x", [], [q]) + expand_gate("h", [], [q])
    ops += _measure_all(n) if measure else []
    theta = math.asin(2 ** (-n / 2))
    return Circuit(
        n,
        tuple(ops),
        name=f"grover{n}",
        n_clbits=n if measure else 0,
        metadata={
            "marked": int(marked),
            "iterations": int(iterations),
            "ideal_success_probability": math.sin((2 * iterations + 1) * theta) ** 2,
        },
    )


#: generator names for the command line: name -> builder(n_qubits, seed)
GENERATORS = ("ghz", "qft", "qaoa", "grover")


def build_generator(name: str, n_qubits: int, *, seed: int = 0, marked: int | None = None) -> Circuit:
    """A built-in circuit by name (``ghz``, ``qft``, ``qaoa``, ``grover``).

    ``qaoa`` draws its graph from the stream ``"circuit.qaoa_graph"`` of root ``seed``;
    ``grover`` marks ``marked`` (default ``2^n - 1``).
    """
    if name == "ghz":
        return ghz(n_qubits)
    if name == "qft":
        return qft(n_qubits)
    if name == "qaoa":
        return qaoa_maxcut(n_qubits, rng=graph_rng(seed))
    if name == "grover":
        n = _check_n(n_qubits, low=2, high=10)
        return grover(n, marked=2**n - 1 if marked is None else marked)
    raise UserInputError(f"circuit = {name!r}: unknown generator (allowed: {', '.join(GENERATORS)})")
