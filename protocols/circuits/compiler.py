"""Compile a partitioned circuit: local gates, teleported gates and the entanglement connection plan.

Every two-qubit gate whose qubits sit on different QPUs becomes a *teleported gate*
(Eisert, Jacobs, Papadopoulos & Plenio, PRA 62, 052317 (2000), "EJPP"): with one ebit
``(e_A, e_B)`` between the QPUs A (control ``c``) and B (target ``t``),

1. *cat-entangle* on A: ``CX(c, e_A)``, measure ``e_A`` (Z) -> ``m1``, send ``m1`` to B,
   which applies ``X^m1`` to ``e_B``: now ``e_B`` is a copy of ``c`` in the Z basis;
2. the gate on B with ``e_B`` standing for ``c``: ``CX(e_B, t)`` (``CZ(e_B, t)`` for CZ);
3. *cat-disentangle* on B: ``H(e_B)``, measure -> ``m2``, send ``m2`` to A, which applies
   ``Z^m2`` to ``c``.

One ebit and two classical bits per teleported gate. With ``share_ebits=True`` the compiler
packs consecutive non-local gates that use the same qubit ``c`` as "control" and the same
remote QPU into one *distributed packet* sharing one ebit (the cat-entanglement "EJPP
packing" of Andres-Martinez & Heunen, PRA 100, 032308 (2019); Wu et al., "Entanglement-
efficient bipartite-distributed quantum computing", Quantum 7, 1196 (2023)): the packet
stays open while every operation on ``c`` commutes with ``Z_c`` (diagonal one-qubit gates,
CZ, CX with ``c`` as control); the first operation that does not (a non-diagonal gate, a CX
targeting ``c``, a measurement) closes it with the cat-disentangle first. A CZ can use either
of its qubits as ``c``. At most ``max_open_packets`` packets are open at a time (each holds a
live communication qubit on its remote QPU; the oldest is closed first).

The output :class:`CompiledCircuit` holds the local schedule (a list of :class:`Step`) and
the *entanglement connection plan*: one :class:`PlanEntry` per (QPU pair, circuit layer)
with the number of ebits needed by that layer, in order of need, for the orchestrator to
request (and prefetch) from the hub.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from modenhub_net.errors import UserInputError
from protocols.circuits.ir import Circuit, Op
from protocols.circuits.partition import Partition

__all__ = ["CompiledCircuit", "EbitUse", "PlanEntry", "Step", "STEP_KINDS", "compile_circuit"]

#: kinds of schedule step
STEP_KINDS = ("local1", "local2", "teleported", "cat_entangle", "remote", "cat_disentangle", "measure")


@dataclass(frozen=True)
class Step:
    """One step of the compiled schedule.

    Attributes
    ----------
    kind : str
        ``local1`` / ``local2`` (a gate within one QPU), ``teleported`` (a whole EJPP gate
        with its own ebit), ``cat_entangle`` / ``remote`` / ``cat_disentangle`` (the three
        parts of a shared-ebit packet), ``measure`` (terminal readout).
    op : Op or None
        The circuit operation (None for cat-entangle/disentangle).
    index : int
        Index of ``op`` in the circuit (-1 for cat steps).
    layer : int
        ASAP layer of the circuit operation (for cat steps: of the packet's first/last gate).
    ebit : int
        Ebit id (teleported / packet steps), else -1.
    cat_qubit : int
        The qubit ``c`` of a teleported gate or packet, else -1.
    other_qubit : int
        The remote qubit of a teleported/remote gate, else -1.
    qpu_a, qpu_b : int
        QPU of ``c`` and the remote QPU (teleported and packet steps), else the op's QPU / -1.
    """

    kind: str
    op: Op | None
    index: int
    layer: int
    ebit: int = -1
    cat_qubit: int = -1
    other_qubit: int = -1
    qpu_a: int = -1
    qpu_b: int = -1


@dataclass(frozen=True)
class EbitUse:
    """One ebit of the plan: its QPU pair (A holds ``c``), first layer needed, gates served."""

    ebit: int
    qpu_a: int
    qpu_b: int
    needed_by_layer: int
    n_gates: int


@dataclass(frozen=True)
class PlanEntry:
    """Entanglement connection plan row.

    ``count`` ebits between ``qpu_a < qpu_b`` are needed by circuit layer ``needed_by_step``.
    """

    qpu_a: int
    qpu_b: int
    count: int
    needed_by_step: int


@dataclass(frozen=True)
class CompiledCircuit:
    """A circuit compiled for a partition (module docstring)."""

    circuit: Circuit
    partition: Partition
    steps: tuple[Step, ...]
    ebits: tuple[EbitUse, ...]
    share_ebits: bool
    plan: tuple[PlanEntry, ...] = field(default=())

    @property
    def n_ebits(self) -> int:
        return len(self.ebits)

    @property
    def nonlocal_gates(self) -> int:
        return sum(1 for s in self.steps if s.kind in ("teleported", "remote"))

    def plan_records(self) -> list[dict[str, int]]:
        """The connection plan as a list of dicts (for a DataFrame)."""
        return [e.__dict__.copy() for e in self.plan]


class _Packet:
    __slots__ = ("ebit", "cat", "qpu_a", "qpu_b", "gates", "first_layer", "last_layer", "steps_at")

    def __init__(self, ebit: int, cat: int, qpu_a: int, qpu_b: int, layer: int) -> None:
        self.ebit, self.cat, self.qpu_a, self.qpu_b = ebit, cat, qpu_a, qpu_b
        self.gates = 0
        self.first_layer = self.last_layer = layer
        self.steps_at = 0  # index of the cat_entangle step


def compile_circuit(
    circuit: Circuit,
    partition: Partition,
    *,
    share_ebits: bool = False,
    max_open_packets: int = 1,
) -> CompiledCircuit:
    """Compile ``circuit`` for ``partition`` (module docstring).

    Parameters
    ----------
    circuit : Circuit
    partition : Partition
        Must assign every qubit of ``circuit``.
    share_ebits : bool
        Pack consecutive non-local gates on one qubit and remote QPU into one ebit
        (default False: one ebit per non-local gate).
    max_open_packets : int
        Packets open at once, in [1, 64] (default 1: at most one live shared ebit qubit,
        which keeps the density-matrix executor at ``n_data + 1`` qubits).

    Examples
    --------
    >>> from protocols.circuits.generators import ghz
    >>> from protocols.circuits.partition import partition_from_assignment
    >>> c = ghz(3)
    >>> compiled = compile_circuit(c, partition_from_assignment(c, [0, 1, 2], [1, 1, 1]))
    >>> compiled.n_ebits, [(e.qpu_a, e.qpu_b, e.count, e.needed_by_step) for e in compiled.plan]
    (2, [(0, 1, 1, 1), (1, 2, 1, 2)])
    """
    if not isinstance(share_ebits, bool):
        raise UserInputError(f"share_ebits = {share_ebits!r} must be true or false")
    if (
        isinstance(max_open_packets, bool)
        or not isinstance(max_open_packets, int)
        or not 1 <= max_open_packets <= 64
    ):
        raise UserInputError(f"max_open_packets = {max_open_packets!r} must be an integer in [1, 64]")
    if len(partition.assignment) != circuit.n_qubits:
        raise UserInputError(
            f"the partition assigns {len(partition.assignment)} qubits, the circuit has {circuit.n_qubits}"
        )
    where = partition.assignment
    layers = circuit.layers()
    steps: list[Step] = []
    ebits: list[EbitUse] = []
    open_packets: dict[tuple[int, int], _Packet] = {}  # (cat qubit, remote qpu) -> packet
    packets: list[_Packet] = []

    def close(key: tuple[int, int]) -> None:
        packet = open_packets.pop(key)
        steps.append(
            Step(
                "cat_disentangle",
                None,
                -1,
                packet.last_layer,
                packet.ebit,
                packet.cat,
                -1,
                packet.qpu_a,
                packet.qpu_b,
            )
        )

    for index, (op, layer) in enumerate(zip(circuit.ops, layers, strict=True)):
        # operations that do not commute with Z on a packet's qubit close that packet first
        for key in [k for k in open_packets if not op.is_diagonal_on(k[0])]:
            close(key)
        if op.kind == "measure":
            steps.append(Step("measure", op, index, layer, qpu_a=where[op.qubits[0]]))
            continue
        if op.kind == "u":
            steps.append(Step("local1", op, index, layer, qpu_a=where[op.qubits[0]]))
            continue
        a, b = op.qubits
        if where[a] == where[b]:
            steps.append(Step("local2", op, index, layer, qpu_a=where[a]))
            continue
        # non-local: choose the cat qubit (CX: the control; CZ: either)
        candidates = [(a, b)] if op.kind == "cx" else [(a, b), (b, a)]
        packet = None
        if share_ebits:
            for cat, other in candidates:
                packet = open_packets.get((cat, where[other]))
                if packet is not None:
                    break
        if packet is None:
            cat, other = candidates[0]
            ebit = len(ebits)
            ebits.append(EbitUse(ebit, where[cat], where[other], layer, 0))
            if not share_ebits:
                steps.append(Step("teleported", op, index, layer, ebit, cat, other, where[cat], where[other]))
                ebits[ebit] = EbitUse(ebit, where[cat], where[other], layer, 1)
                continue
            while len(open_packets) >= max_open_packets:
                close(next(iter(open_packets)))
            packet = _Packet(ebit, cat, where[cat], where[other], layer)
            packet.steps_at = len(steps)
            packets.append(packet)
            open_packets[(cat, where[other])] = packet
            steps.append(Step("cat_entangle", None, -1, layer, ebit, cat, -1, where[cat], where[other]))
        packet.gates += 1
        packet.last_layer = layer
        steps.append(Step("remote", op, index, layer, packet.ebit, cat, other, packet.qpu_a, packet.qpu_b))
    for key in list(open_packets):
        close(key)
    for packet in packets:
        ebits[packet.ebit] = EbitUse(
            packet.ebit, packet.qpu_a, packet.qpu_b, packet.first_layer, packet.gates
        )
    steps = _fuse_single_gate_packets(steps)
    return CompiledCircuit(circuit, partition, tuple(steps), tuple(ebits), share_ebits, _plan(ebits))


def _fuse_single_gate_packets(steps: list[Step]) -> list[Step]:
    """A packet of one gate with nothing else on its qubit in between is a plain teleported gate.

    Valid because the steps between touch neither ``c`` nor the packet's ebit, so they commute
    with the cat-entangle and cat-disentangle moved next to the gate.
    """
    drop: set[int] = set()
    replace: dict[int, Step] = {}
    for i, s in enumerate(steps):
        if s.kind != "cat_entangle":
            continue
        j = next(
            k
            for k in range(i + 1, len(steps))
            if steps[k].kind == "cat_disentangle" and steps[k].ebit == s.ebit
        )
        members = [k for k in range(i + 1, j) if steps[k].ebit == s.ebit]
        touching = [
            k for k in range(i + 1, j) if steps[k].op is not None and s.cat_qubit in steps[k].op.qubits
        ]
        if len(members) == 1 and touching == members:
            r = steps[members[0]]
            drop |= {i, j}
            replace[members[0]] = Step(
                "teleported", r.op, r.index, r.layer, r.ebit, r.cat_qubit, r.other_qubit, r.qpu_a, r.qpu_b
            )
    return [replace.get(k, s) for k, s in enumerate(steps) if k not in drop]


def _plan(ebits: Sequence[EbitUse]) -> tuple[PlanEntry, ...]:
    """Group the ebits by (unordered QPU pair, layer needed), in order of need."""
    groups: dict[tuple[int, int, int], int] = {}
    for e in ebits:
        key = (e.needed_by_layer, min(e.qpu_a, e.qpu_b), max(e.qpu_a, e.qpu_b))
        groups[key] = groups.get(key, 0) + 1
    return tuple(PlanEntry(a, b, count, layer) for (layer, a, b), count in sorted(groups.items()))
