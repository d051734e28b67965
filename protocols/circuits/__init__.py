"""Distributed quantum circuits: input, partitioning, compilation to teleported gates, execution.

Pipeline: a :class:`~protocols.circuits.ir.Circuit` (from OpenQASM 2/3,
:func:`~protocols.circuits.qasm.load_qasm`, or a generator of
:mod:`protocols.circuits.generators`) -> :func:`~protocols.circuits.partition.partition_circuit`
(qubits to QPUs within capacity, network-aware) -> :func:`~protocols.circuits.compiler.compile_circuit`
(local gates, EJPP teleported gates, optional ebit sharing, the entanglement connection plan) ->
:func:`~protocols.circuits.executor.execute_circuit` (noisy QPUs, ebits from an
:class:`~protocols.circuits.ebits.EbitProvider`; exact density matrix or stabilizer sampling).

Example: GHZ-3 across three QPUs with Werner ebits of fidelity 0.9.

>>> from protocols.circuits import (ghz, partition_from_assignment, compile_circuit,
...     execute_circuit, WernerEbitProvider)
>>> circuit = ghz(3)
>>> compiled = compile_circuit(circuit, partition_from_assignment(circuit, [0, 1, 2], [1, 1, 1]))
>>> result = execute_circuit(compiled, provider=WernerEbitProvider(fidelity=0.9))
>>> round(result.fidelity, 6), result.ebits_consumed
(0.811111, 2)
"""

from protocols.circuits.compiler import CompiledCircuit, PlanEntry, Step, compile_circuit
from protocols.circuits.ebits import EbitProvider, PerfectEbitProvider, WernerEbitProvider
from protocols.circuits.executor import ExecutionResult, QpuPhysics, execute_circuit
from protocols.circuits.generators import build_generator, ghz, graph_rng, grover, qaoa_maxcut, qft
from protocols.circuits.hub import HubEbitProvider
from protocols.circuits.ir import Circuit, Op, ideal_statevector
from protocols.circuits.partition import (
    Partition,
    link_cost_from_fidelities,
    link_cost_from_rates,
    partition_circuit,
    partition_from_assignment,
)
from protocols.circuits.qasm import load_qasm, parse_qasm

__all__ = [
    "Circuit",
    "CompiledCircuit",
    "EbitProvider",
    "ExecutionResult",
    "HubEbitProvider",
    "Op",
    "Partition",
    "PerfectEbitProvider",
    "PlanEntry",
    "QpuPhysics",
    "Step",
    "WernerEbitProvider",
    "build_generator",
    "compile_circuit",
    "execute_circuit",
    "ghz",
    "graph_rng",
    "grover",
    "ideal_statevector",
    "link_cost_from_fidelities",
    "link_cost_from_rates",
    "load_qasm",
    "parse_qasm",
    "partition_circuit",
    "partition_from_assignment",
    "qaoa_maxcut",
    "qft",
]
