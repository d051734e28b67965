"""Execute a compiled circuit on noisy QPUs with ebits from an ebit provider.

The provider is an :class:`~protocols.circuits.ebits.EbitProvider`.

Timing (all in ns). Each qubit has the time it is free (``free``) and the time up to which
its storage noise has been applied. Operations run as soon as their qubits are free (ASAP,
gates on different qubits of one QPU in parallel). As in :class:`hardware_models.QPU`, a gate
acts at its start time and its duration passes afterwards; storage noise for the time
since a qubit's last operation is applied when it is next used: data qubits with the
preset's ``data_memory``, ebit halves with its (communication) ``memory``
(:func:`hardware_models.memory.memory_channel_params`). Local gates carry the QPU's
depolarising errors (``single_qubit_gate_depolar_prob``, ``two_qubit_gate_depolar_prob``)
and durations; measurements its readout error ``measure_error_prob`` and ``measure_ns``.

A teleported CX (EJPP, :mod:`protocols.circuits.compiler`) between control ``c`` on A and
target ``t`` on B with an ebit delivered at ``d``:

- A starts at ``t0 = max(free[c], d)`` (the wait ``max(0, d - free[c])`` is time spent
  waiting for entanglement): ``CX(c, e_A)``, measure ``e_A``; the outcome reaches B at
  ``ta = t0 + two_qubit_gate_ns + measure_ns + L(A, B)``, where ``X`` corrects ``e_B``;
- B runs ``CX(e_B, t)`` at ``t1 = max(ta, free[t])``, then ``H(e_B)`` and the measurement;
  the outcome reaches A after ``L(B, A)``, where ``Z`` corrects ``c`` (the Pauli
  corrections are ideal and instantaneous: a Pauli frame).

``L`` is the classical latency (the provider's, else ``classical_latency_ns``). On demand
(default) an ebit is requested when its gate's first qubit is free; with ``prefetch=True``
every ebit of the connection plan is requested at time 0, in plan order (and waits in
memory).

Outputs (:class:`ExecutionResult`): the output state's fidelity to the ideal output state
(each measured qubit as it is read out, the others at the makespan), Grover's success
probability (readout errors included), the makespan, ebits consumed and wasted, the total
time spent waiting for entanglement, and per-gate and per-ebit records.

Backends: ``"density_matrix"`` (exact, at most 12 live qubits by default; the Pauli-basis
register with fused channels of :mod:`protocols.circuits.engines`), ``"stabilizer"`` (stim,
Clifford circuits of any size, Pauli-twirled memory noise, fidelity estimated from ``shots``
samples with its standard error), ``"auto"`` (density matrix if it fits, else stabilizer).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hardware_models.memory import MemoryParams
from hardware_models.qpu import QpuParams
from modenhub_net.errors import UserInputError
from protocols.circuits.compiler import CompiledCircuit, Step
from protocols.circuits.ebits import EbitProvider
from protocols.circuits.engines import DensityRegister, PauliRegister, StimEngine
from protocols.circuits.ir import ideal_statevector

__all__ = ["BACKENDS", "ExecutionResult", "QpuPhysics", "execute_circuit"]

BACKENDS = ("auto", "density_matrix", "stabilizer")

_H = np.array([[1, 1], [1, -1]], dtype=complex) / math.sqrt(2)
_CX = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=complex)
_CZ = np.diag([1, 1, 1, -1]).astype(complex)


@dataclass(frozen=True)
class QpuPhysics:
    """Gate, readout and memory physics of one QPU.

    Attributes
    ----------
    qpu : QpuParams
        Gate/measurement errors and durations (``hardware_models.qpu``).
    memory : MemoryParams
        Communication qubits (ebit halves).
    data_memory : MemoryParams
        Data qubits.
    """

    qpu: QpuParams = field(default_factory=QpuParams)
    memory: MemoryParams = field(default_factory=MemoryParams)
    data_memory: MemoryParams = field(default_factory=MemoryParams)

    @classmethod
    def from_preset(cls, preset: Any) -> QpuPhysics:
        """From a :class:`hardware_models.presets.HardwarePreset` (or its name)."""
        if isinstance(preset, str):
            from hardware_models.presets import load_preset

            preset = load_preset(preset)
        return cls(preset.qpu, preset.memory, preset.data_memory_params)


@dataclass
class ExecutionResult:
    """What one execution produced (module docstring).

    Attributes
    ----------
    fidelity : float
        ``<psi_ideal| rho |psi_ideal>`` of the output state.
    fidelity_se : float
        Its standard error (0 for the exact density matrix).
    success_probability : float
        Probability that the readout equals ``metadata["marked"]`` (Grover), else NaN.
    makespan_ns : float
    ebits_consumed, ebits_wasted : int
    entanglement_wait_ns : float
        Sum over ebits of the time the circuit waited for them.
    gates, ebits : pandas.DataFrame
        Per-step and per-ebit records.
    backend : str
    density_matrix : numpy.ndarray or None
        The output density matrix in logical qubit order (density-matrix backend).
    """

    fidelity: float
    fidelity_se: float
    success_probability: float
    makespan_ns: float
    ebits_consumed: int
    ebits_wasted: int
    entanglement_wait_ns: float
    gates: pd.DataFrame
    ebits: pd.DataFrame
    backend: str
    density_matrix: np.ndarray | None = None

    def summary(self) -> dict[str, Any]:
        """Scalar outputs as a dict (for a summary table or JSON)."""
        return {
            "fidelity": self.fidelity,
            "fidelity_se": self.fidelity_se,
            "success_probability": self.success_probability,
            "makespan_ns": self.makespan_ns,
            "ebits_consumed": self.ebits_consumed,
            "ebits_wasted": self.ebits_wasted,
            "entanglement_wait_ns": self.entanglement_wait_ns,
            "backend": self.backend,
        }


def _latency_matrix(value: float | np.ndarray, k: int) -> np.ndarray:
    if isinstance(value, bool):
        raise UserInputError("classical_latency_ns must be a number of ns or a matrix, not a boolean")
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full((k, k), float(arr))
    if arr.shape != (k, k) or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise UserInputError(
            f"classical_latency_ns must be a finite number >= 0 or a {k}x{k} matrix of them (ns)"
        )
    return arr


class _Run:
    """Bookkeeping of one execution."""

    def __init__(
        self,
        compiled: CompiledCircuit,
        physics: Sequence[QpuPhysics],
        provider: EbitProvider,
        latency: np.ndarray,
        prefetch: bool,
        engine: Any,
    ) -> None:
        self.compiled = compiled
        self.where = compiled.partition.assignment
        self.physics = physics
        self.provider = provider
        self.latency = latency
        self.engine = engine
        n = compiled.circuit.n_qubits
        self.free: dict[str, float] = {f"q{i}": 0.0 for i in range(n)}
        self.noise: dict[str, float] = {f"q{i}": 0.0 for i in range(n)}
        self.memory: dict[str, MemoryParams] = {f"q{i}": physics[self.where[i]].data_memory for i in range(n)}
        self.read_ns: dict[str, float] = {}
        self.gate_rows: list[dict[str, Any]] = []
        self.ebit_rows: dict[int, dict[str, Any]] = {}
        self.prefetched: dict[int, tuple[np.ndarray, float, float]] = {}
        if prefetch:
            for e in compiled.ebits:
                rho, delivered = provider.request(e.qpu_a, e.qpu_b, 0.0)
                self.prefetched[e.ebit] = (rho, max(float(delivered), 0.0), 0.0)

    def lat(self, a: int, b: int) -> float:
        known = self.provider.classical_latency_ns(a, b)
        return float(self.latency[a, b]) if known is None else float(known)

    def idle_to(self, engine: Any, name: str, t: float) -> None:
        dt = t - self.noise[name]
        if dt > 0:
            engine.idle(name, dt, self.memory[name])
            self.noise[name] = t

    def obtain(self, step: Step, ready_ns: float) -> tuple[np.ndarray, float, float]:
        if step.ebit in self.prefetched:
            return self.prefetched.pop(step.ebit)
        rho, delivered = self.provider.request(step.qpu_a, step.qpu_b, ready_ns)
        if not delivered >= ready_ns:
            raise RuntimeError(
                f"ebit provider delivered at {delivered} ns before the request at {ready_ns} ns"
            )
        return rho, float(delivered), ready_ns

    def record_gate(self, step: Step, start: float, end: float, qpus: tuple[int, ...]) -> None:
        op = step.op
        self.gate_rows.append(
            {
                "step": len(self.gate_rows),
                "kind": step.kind,
                "name": op.name if op is not None else step.kind,
                "op_index": step.index,
                "layer": step.layer,
                "qubits": ",".join(str(q) for q in op.qubits) if op is not None else str(step.cat_qubit),
                "qpus": ",".join(str(p) for p in qpus),
                "start_ns": start,
                "end_ns": end,
                "ebit": step.ebit,
            }
        )

    # -- the EJPP halves ------------------------------------------------------------------
    def cat_entangle(
        self,
        engine: Any,
        c: str,
        ea: str,
        eb: str,
        rho: np.ndarray,
        d: float,
        t0: float,
        ta: float,
        qa: int,
        qb: int,
    ) -> None:
        pa, pb = self.physics[qa], self.physics[qb]
        engine.new_ebit(ea, eb, rho)
        engine.idle(ea, t0 - d, pa.memory)
        engine.gate(_CX, [c, ea], pa.qpu.two_qubit_gate_depolar_prob, kind="cx")
        engine.idle(ea, pa.qpu.two_qubit_gate_ns, pa.memory)
        engine.idle(eb, ta - d, pb.memory)
        engine.measure_discard(ea, pa.qpu.measure_error_prob, [("X", eb)])

    def disentangle(self, engine: Any, c: str, eb: str, qb: int) -> None:
        pb = self.physics[qb]
        engine.gate(_H, [eb], pb.qpu.single_qubit_gate_depolar_prob)
        engine.idle(eb, pb.qpu.single_qubit_gate_ns, pb.memory)
        engine.measure_discard(eb, pb.qpu.measure_error_prob, [("Z", c)])

    def ebit_row(
        self, step: Step, rho: np.ndarray, requested: float, d: float, t0: float, wait: float
    ) -> None:
        pa, pb = self.physics[step.qpu_a], self.physics[step.qpu_b]
        at_use = DensityRegister(["a", "b"])
        at_use.names, at_use.rho = ["a", "b"], np.asarray(rho, dtype=complex).reshape(2, 2, 2, 2)
        at_use.idle("a", t0 - d, pa.memory)
        at_use.idle("b", t0 - d, pb.memory)
        phi = np.array([1, 0, 0, 1]) / math.sqrt(2)
        self.ebit_rows[step.ebit] = {
            "ebit": step.ebit,
            "qpu_a": step.qpu_a,
            "qpu_b": step.qpu_b,
            "requested_ns": requested,
            "delivered_ns": d,
            "used_ns": t0,
            "wait_ns": wait,
            "storage_ns": t0 - d,
            "fidelity_delivered": float(np.real(phi @ np.asarray(rho) @ phi)),
            "fidelity_at_use": at_use.expectation_pure(phi, ["a", "b"]),
            "n_gates": next(e.n_gates for e in self.compiled.ebits if e.ebit == step.ebit),
        }

    # -- steps ------------------------------------------------------------------------
    def run(self) -> float:
        engine = self.engine
        for step in self.compiled.steps:
            op = step.op
            if step.kind in ("local1", "local2"):
                names = [f"q{q}" for q in op.qubits]
                qpu = self.physics[step.qpu_a]
                t = max(self.free[x] for x in names)
                for x in names:
                    self.idle_to(engine, x, t)
                if step.kind == "local1":
                    engine.gate(op.matrix, names, qpu.qpu.single_qubit_gate_depolar_prob)
                    end = t + qpu.qpu.single_qubit_gate_ns
                else:
                    engine.gate(op.unitary, names, qpu.qpu.two_qubit_gate_depolar_prob, kind=op.kind)
                    end = t + qpu.qpu.two_qubit_gate_ns
                for x in names:
                    self.free[x] = end
                self.record_gate(step, t, end, (step.qpu_a,))
            elif step.kind == "measure":
                name = f"q{op.qubits[0]}"
                t = self.free[name]
                self.read_ns[name] = t
                end = t + self.physics[step.qpu_a].qpu.measure_ns
                self.free[name] = end
                self.record_gate(step, t, end, (step.qpu_a,))
            elif step.kind in ("teleported", "cat_entangle"):
                self.teleport_part(step)
            elif step.kind == "remote":
                eb, other = f"e{step.ebit}b", f"q{step.other_qubit}"
                pb = self.physics[step.qpu_b]
                t = max(self.free[eb], self.free[other])
                self.idle_to(engine, eb, t)
                self.idle_to(engine, other, t)
                u = _CX if op.kind == "cx" else _CZ
                engine.gate(u, [eb, other], pb.qpu.two_qubit_gate_depolar_prob, kind=op.kind)
                end = t + pb.qpu.two_qubit_gate_ns
                self.free[eb] = self.free[other] = end
                self.record_gate(step, t, end, (step.qpu_b,))
            elif step.kind == "cat_disentangle":
                c, eb = f"q{step.cat_qubit}", f"e{step.ebit}b"
                pb = self.physics[step.qpu_b].qpu
                t = self.free[eb]
                self.idle_to(engine, eb, t)
                self.disentangle(engine, c, eb, step.qpu_b)
                end = t + pb.single_qubit_gate_ns + pb.measure_ns + self.lat(step.qpu_b, step.qpu_a)
                self.free[c] = max(self.free[c], end)
                for table in (self.free, self.noise, self.memory):
                    table.pop(eb)
                self.record_gate(step, t, end, (step.qpu_b, step.qpu_a))
        n = self.compiled.circuit.n_qubits
        makespan = max(self.free[f"q{i}"] for i in range(n))
        for i in range(n):
            name = f"q{i}"
            self.idle_to(engine, name, self.read_ns.get(name, makespan))
        return makespan

    def teleport_part(self, step: Step) -> None:
        engine = self.engine
        qa, qb = step.qpu_a, step.qpu_b
        pa, pb = self.physics[qa].qpu, self.physics[qb].qpu
        c = f"q{step.cat_qubit}"
        ea, eb = f"e{step.ebit}a", f"e{step.ebit}b"
        rho, d, requested = self.obtain(step, self.free[c])
        t0 = max(self.free[c], d)
        wait = max(0.0, d - self.free[c])
        ta = t0 + pa.two_qubit_gate_ns + pa.measure_ns + self.lat(qa, qb)
        self.ebit_row(step, rho, requested, d, t0, wait)
        self.idle_to(engine, c, t0)
        if step.kind == "cat_entangle":
            engine.block(
                [c], [c, eb], lambda small: self.cat_entangle(small, c, ea, eb, rho, d, t0, ta, qa, qb)
            )
            self.free[eb] = self.noise[eb] = ta
            self.memory[eb] = self.physics[qb].memory
            self.free[c] = t0 + pa.two_qubit_gate_ns
            self.record_gate(step, t0, ta, (qa, qb))
            return
        other = f"q{step.other_qubit}"
        t1 = max(ta, self.free[other])
        self.idle_to(engine, other, t1)
        u = _CX if step.op.kind == "cx" else _CZ

        def procedure(small: Any) -> None:
            self.cat_entangle(small, c, ea, eb, rho, d, t0, ta, qa, qb)
            small.idle(eb, t1 - ta, self.physics[qb].memory)
            small.gate(u, [eb, other], pb.two_qubit_gate_depolar_prob, kind=step.op.kind)
            small.idle(eb, pb.two_qubit_gate_ns, self.physics[qb].memory)
            self.disentangle(small, c, eb, qb)

        engine.block([c, other], [c, other], procedure)
        self.free[other] = t1 + pb.two_qubit_gate_ns
        end = t1 + pb.two_qubit_gate_ns + pb.single_qubit_gate_ns + pb.measure_ns + self.lat(qb, qa)
        self.free[c] = end
        self.record_gate(step, t0, end, (qa, qb))


def _physics_list(physics: QpuPhysics | Sequence[QpuPhysics], k: int) -> list[QpuPhysics]:
    if isinstance(physics, QpuPhysics):
        return [physics] * k
    out = list(physics)
    if len(out) != k or not all(isinstance(p, QpuPhysics) for p in out):
        raise UserInputError(f"physics must be one QpuPhysics or a list of {k} (one per QPU)")
    return out


def _is_clifford(compiled: CompiledCircuit) -> bool:
    try:
        import stim
    except ImportError:
        return False
    for op in compiled.circuit.ops:
        if op.kind == "u":
            try:
                stim.Tableau.from_unitary_matrix(np.asarray(op.matrix, dtype=complex), endian="big")
            except ValueError:
                return False
    return True


def execute_circuit(
    compiled: CompiledCircuit,
    *,
    provider: EbitProvider,
    physics: QpuPhysics | Sequence[QpuPhysics] = QpuPhysics(),  # noqa: B008 - frozen, shared safely
    classical_latency_ns: float | np.ndarray = 0.0,
    prefetch: bool = False,
    backend: str = "auto",
    shots: int = 20_000,
    seed: int = 0,
    max_dm_qubits: int = 12,
) -> ExecutionResult:
    """Run ``compiled`` (module docstring) and return its :class:`ExecutionResult`.

    Parameters
    ----------
    compiled : CompiledCircuit
    provider : EbitProvider
        Source of the ebits.
    physics : QpuPhysics or list of QpuPhysics
        Per-QPU physics (one for all, or one per QPU). Default ideal and instantaneous.
    classical_latency_ns : float or array (k, k)
        One-way classical message latency between QPUs in ns, >= 0 (used when the provider
        does not know it). Default 0.
    prefetch : bool
        Request every ebit of the connection plan at time 0 instead of when its gate's
        first qubit is free. Default False.
    backend : {"auto", "density_matrix", "stabilizer"}
        Default ``"auto"``.
    shots : int
        Samples of the stabilizer backend, in [100, 10^8]. Default 20,000 (fidelity SE
        <= 0.0036).
    seed : int
        Root seed of the stabilizer backend's sampler (stream ``"circuit.stabilizer"``).
    max_dm_qubits : int
        Live-qubit limit of the density matrix, in [1, 14]. Default 12 (128 MiB of state in
        the Pauli basis, plus a scratch buffer of the same size).
    """
    from modenhub_net.simulation import stream_seed_sequence

    if not isinstance(prefetch, bool):
        raise UserInputError(f"prefetch = {prefetch!r} must be true or false")
    if backend not in BACKENDS:
        raise UserInputError(f"backend = {backend!r}: unknown (allowed: {', '.join(BACKENDS)})")
    if isinstance(shots, bool) or not isinstance(shots, int) or not 100 <= shots <= 10**8:
        raise UserInputError(f"shots = {shots!r} must be an integer in [100, 100000000]")
    if isinstance(max_dm_qubits, bool) or not isinstance(max_dm_qubits, int) or not 1 <= max_dm_qubits <= 14:
        raise UserInputError(f"max_dm_qubits = {max_dm_qubits!r} must be an integer in [1, 14]")
    if not isinstance(provider, EbitProvider):
        raise UserInputError(f"provider = {provider!r} must be an EbitProvider")
    circuit = compiled.circuit
    k = compiled.partition.n_qpus
    physics_list = _physics_list(physics, k)
    latency = _latency_matrix(classical_latency_ns, k)
    live = circuit.n_qubits + (1 if any(s.kind == "cat_entangle" for s in compiled.steps) else 0)
    if backend == "auto":
        backend = "density_matrix" if live <= max_dm_qubits else "stabilizer"
    names = [f"q{i}" for i in range(circuit.n_qubits)]
    if backend == "stabilizer":
        if not _is_clifford(compiled):
            raise UserInputError(
                f"{circuit.name}: the stabilizer backend needs a Clifford circuit (and stim installed); "
                f"this one has non-Clifford gates and {circuit.n_qubits} qubits (the density matrix "
                f"holds at most {max_dm_qubits} live qubits)"
            )
        engine: Any = StimEngine(names)
    else:
        if live > max_dm_qubits:
            raise UserInputError(
                f"{circuit.name}: {live} live qubits exceed the density matrix's {max_dm_qubits} "
                "(use backend='stabilizer' for Clifford circuits, or share_ebits=False)"
            )
        engine = PauliRegister(names, max_qubits=max_dm_qubits)
    run = _Run(compiled, physics_list, provider, latency, prefetch, engine)
    makespan = run.run()
    ebit_df = pd.DataFrame(
        sorted(run.ebit_rows.values(), key=lambda r: r["ebit"]),
        columns=[
            "ebit",
            "qpu_a",
            "qpu_b",
            "requested_ns",
            "delivered_ns",
            "used_ns",
            "wait_ns",
            "storage_ns",
            "fidelity_delivered",
            "fidelity_at_use",
            "n_gates",
        ],
    )
    gate_df = pd.DataFrame(
        run.gate_rows,
        columns=["step", "kind", "name", "op_index", "layer", "qubits", "qpus", "start_ns", "end_ns", "ebit"],
    )
    success = math.nan
    dm = None
    if backend == "density_matrix":
        psi = ideal_statevector(circuit)
        dm = engine.matrix(names)
        fidelity, se = float(np.real(psi.conj() @ dm @ psi)), 0.0
        if "marked" in circuit.metadata:
            success = _success_probability(
                engine.probabilities(names),
                circuit.metadata["marked"],
                [physics_list[p].qpu.measure_error_prob for p in compiled.partition.assignment],
            )
    else:
        generators = _ideal_stabilizers(compiled)
        rng_seed = int(stream_seed_sequence(seed, "circuit.stabilizer").generate_state(1)[0])
        fidelity, se = engine.fidelity(generators, shots=shots, seed=rng_seed)
    return ExecutionResult(
        fidelity=float(fidelity),
        fidelity_se=float(se),
        success_probability=float(success),
        makespan_ns=float(makespan),
        ebits_consumed=len(ebit_df),
        ebits_wasted=int(provider.n_wasted),
        entanglement_wait_ns=float(ebit_df["wait_ns"].sum()) if len(ebit_df) else 0.0,
        gates=gate_df,
        ebits=ebit_df,
        backend=backend,
        density_matrix=dm,
    )


def _success_probability(probs: np.ndarray, marked: int, flip: Sequence[float]) -> float:
    """P(readout = marked) with a symmetric readout error per qubit (confusion matrix per axis)."""
    n = probs.ndim
    p = probs
    for i in range(n):
        e = flip[i]
        confusion = np.array([[1 - e, e], [e, 1 - e]])
        p = np.moveaxis(np.tensordot(confusion, p, axes=([1], [i])), 0, i)
    bits = tuple((marked >> (n - 1 - i)) & 1 for i in range(n))
    return float(p[bits])


def _ideal_stabilizers(compiled: CompiledCircuit) -> list:
    import stim

    sim = stim.TableauSimulator()
    circuit = compiled.circuit
    sim.set_num_qubits(circuit.n_qubits)
    for op in circuit.ops:
        if op.kind == "u":
            tableau = stim.Tableau.from_unitary_matrix(np.asarray(op.matrix, dtype=complex), endian="big")
            sim.do_tableau(tableau, [op.qubits[0]])
        elif op.kind == "cx":
            sim.cnot(*op.qubits)
        elif op.kind == "cz":
            sim.cz(*op.qubits)
    return sim.canonical_stabilizers()
