"""Quantum processing unit: communication and data qubits, noisy gates and measurements.

A :class:`QPU` is a :class:`~modenhub_net.components.Node` with two
:class:`~hardware_models.memory.QuantumMemory` sub-components: ``comm`` (communication
qubits, entangled with photons or stored from the hub) and ``data`` (data qubits). Qubits are
addressed by *locations* ``("comm", i)`` / ``("data", j)``.

Gate model (standard in network simulators, e.g. NetSquid's ``DepolarNoiseModel`` on
instructions; Coopmans et al., Commun. Phys. 4, 164 (2021)): the ideal unitary, then

- one-qubit gate: depolarising ``rho -> (1-p1) rho + p1 I/2`` on the qubit;
- two-qubit gate: *two-qubit* depolarising ``rho -> (1-p2) rho + p2 I/4`` on the pair,
  i.e. Kraus operators ``sqrt(1 - 15 p2/16) I(x)I`` and ``sqrt(p2/16) P_i (x) P_j`` for the
  15 non-identity Pauli pairs (Nielsen & Chuang §8.3.4, generalised to two qubits).
  Average gate fidelities are ``1 - p1/2`` and ``1 - 3 p2/4``
  (:func:`depolar_prob_from_gate_fidelity` converts a quoted gate fidelity into p).

Measurement: ideal projective measurement, then the classical outcome is flipped with
probability ``measure_error_prob`` (symmetric readout error).

Gate timing: a gate is applied at the current time (memory noise up to now is applied on
access) and the method returns its duration; the caller waits that long (``yield
sim.timeout(duration)``) and the memory charges storage noise for the wait at the next
access.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from pydantic import Field

from hardware_models.memory import MemoryParams, QuantumMemory
from modenhub_net.components import Node
from modenhub_net.config import ParamsModel
from modenhub_net.errors import UserInputError, check_range
from modenhub_net.qubits import apply_kraus, depolarise, operate
from modenhub_net.simulation import Simulation

__all__ = [
    "QPU",
    "Location",
    "MeasureResult",
    "QpuParams",
    "bell_preparation_fidelity",
    "depolar_prob_from_gate_fidelity",
    "two_qubit_depolar_kraus",
]

#: ``("comm", i)`` or ``("data", j)``
Location = tuple[str, int]

_PAULIS = (
    np.eye(2, dtype=complex),
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
)


class QpuParams(ParamsModel):
    """QPU parameters (defaults: ideal, instantaneous).

    Parameters
    ----------
    n_comm_qubits : int
        Communication qubits (slots of the ``comm`` memory), in [1, 10000]. Default 1.
    n_data_qubits : int
        Data qubits, in [0, 10000]. Default 1.
    single_qubit_gate_ns : float
        Duration of a one-qubit gate in ns, >= 0. Default 0 (ideal).
    two_qubit_gate_ns : float
        Duration of a two-qubit gate in ns, >= 0. Default 0 (ideal).
    single_qubit_gate_depolar_prob : float
        Depolarising probability p1 in [0, 1] after each one-qubit gate. Default 0.
    two_qubit_gate_depolar_prob : float
        Two-qubit depolarising probability p2 in [0, 1] after each two-qubit gate.
        Default 0.
    measure_ns : float
        Duration of a measurement in ns, >= 0. Default 0.
    measure_error_prob : float
        Probability in [0, 0.5] that a measurement outcome is flipped. Default 0.
    """

    n_comm_qubits: int = Field(1, ge=1, le=10_000, strict=True)
    n_data_qubits: int = Field(1, ge=0, le=10_000, strict=True)
    single_qubit_gate_ns: float = Field(0.0, ge=0.0, le=1e12, allow_inf_nan=False)
    two_qubit_gate_ns: float = Field(0.0, ge=0.0, le=1e12, allow_inf_nan=False)
    single_qubit_gate_depolar_prob: float = Field(0.0, ge=0.0, le=1.0)
    two_qubit_gate_depolar_prob: float = Field(0.0, ge=0.0, le=1.0)
    measure_ns: float = Field(0.0, ge=0.0, le=1e12, allow_inf_nan=False)
    measure_error_prob: float = Field(0.0, ge=0.0, le=0.5)


class MeasureResult(NamedTuple):
    """A measurement: the (possibly flipped) classical outcome and the duration in ns."""

    outcome: int
    duration_ns: float


def depolar_prob_from_gate_fidelity(fidelity: float, *, n_qubits: int) -> float:
    """Depolarising probability giving a target *average* gate fidelity.

    For ``rho -> (1-p) rho + p I/d`` on ``d = 2^n`` dimensions the entanglement fidelity is
    ``F_e = 1 - p (d^2 - 1)/d^2`` and the average gate fidelity ``F_avg = (d F_e + 1)/(d + 1)``
    (Horodecki et al., PRA 60, 1888 (1999); Nielsen, Phys. Lett. A 303, 249 (2002)), so
    ``F_avg = 1 - p/2`` for one qubit and ``1 - 3p/4`` for two; inverted here:
    ``p = d^2 (1 - F_e) / (d^2 - 1)``.

    Parameters
    ----------
    fidelity : float
        Average gate fidelity in [1/d, 1] (``1/d`` is the fully depolarising gate, p = 1).
    n_qubits : int
        1 or 2.

    Raises
    ------
    UserInputError
        If ``n_qubits`` is not 1 or 2, or ``fidelity`` is outside ``[1/d, 1]``.

    Examples
    --------
    >>> round(depolar_prob_from_gate_fidelity(0.99, n_qubits=2), 6)
    0.013333
    >>> round(depolar_prob_from_gate_fidelity(0.99, n_qubits=1), 6)
    0.02
    """
    if isinstance(n_qubits, bool) or n_qubits not in (1, 2):
        raise UserInputError(f"n_qubits = {n_qubits!r} must be 1 or 2")
    d = 2**n_qubits
    check_range("fidelity", fidelity, low=1.0 / d, high=1.0)
    f_e = ((d + 1) * fidelity - 1) / d
    return d * d * (1.0 - f_e) / (d * d - 1)


def bell_preparation_fidelity(params: QpuParams) -> float:
    """Fidelity with |Phi+> of ``H`` on qubit 1 then ``CNOT(1, 2)`` from |00> on this QPU.

    Derivation: after H and one-qubit depolarising p1 the first qubit is
    ``(1-p1)|+><+| + p1 I/2``; CNOT maps this to ``(1-p1) Phi+ + p1 (|00><00| +
    |11><11|)/2`` of fidelity ``1 - p1/2``; two-qubit depolarising then gives
    ``F = (1-p2)(1 - p1/2) + p2/4``. Measurement errors do not enter.
    """
    p1 = params.single_qubit_gate_depolar_prob
    p2 = params.two_qubit_gate_depolar_prob
    return (1.0 - p2) * (1.0 - p1 / 2.0) + p2 / 4.0


def two_qubit_depolar_kraus(p: float) -> list[np.ndarray]:
    """Kraus operators of ``rho -> (1-p) rho + p I/4`` (16 operators, 4x4)."""
    if not 0.0 <= p <= 1.0:
        raise UserInputError(f"two-qubit depolarising probability p = {p!r} outside [0, 1]")
    ops = []
    for i, j in itertools.product(range(4), repeat=2):
        weight = 1.0 - 15.0 * p / 16.0 if i == j == 0 else p / 16.0
        ops.append(np.sqrt(weight) * np.kron(_PAULIS[i], _PAULIS[j]))
    return ops


class QPU(Node):
    """A QPU node: ``comm`` and ``data`` memories, noisy gates, noisy measurements.

    Parameters
    ----------
    name : str
        Node name.
    sim : Simulation
        Owning simulation.
    params : QpuParams
        Gate/measurement physics and qubit counts.
    memory : MemoryParams, optional
        Physics of the communication qubits (default: ideal ``MemoryParams()``).
    data_memory : MemoryParams, optional
        Physics of the data qubits (default: same as ``memory``).

    Ports
    -----
    qin, qout
        Forwarded to the ``comm`` memory's ports (photons stored on arrival / emitted).
    """

    def __init__(
        self,
        name: str,
        *,
        sim: Simulation,
        params: QpuParams,
        memory: MemoryParams | None = None,
        data_memory: MemoryParams | None = None,
    ) -> None:
        super().__init__(name, sim=sim)
        self.params = params
        memory = memory if memory is not None else MemoryParams()
        self.comm = QuantumMemory("comm", sim=sim, params=memory, n_slots=params.n_comm_qubits)
        self.add_subcomponent(self.comm)
        self.memories: dict[str, QuantumMemory] = {"comm": self.comm}
        self.data: QuantumMemory | None = None
        if params.n_data_qubits > 0:
            self.data = QuantumMemory(
                "data",
                sim=sim,
                params=data_memory if data_memory is not None else memory,
                n_slots=params.n_data_qubits,
            )
            self.add_subcomponent(self.data)
            self.memories["data"] = self.data
        self.forward_port("qin", self.comm.ports["qin"])
        self.forward_port("qout", self.comm.ports["qout"])
        p2 = params.two_qubit_gate_depolar_prob
        self._kraus2 = two_qubit_depolar_kraus(p2) if p2 > 0.0 else None

    # -- addressing -------------------------------------------------------------------
    def memory_of(self, location: Location) -> QuantumMemory:
        """The memory holding ``location``."""
        try:
            return self.memories[location[0]]
        except (KeyError, TypeError, IndexError):
            raise UserInputError(
                f"{self.full_name}: location = {location!r} must be ('comm', i) or ('data', j)"
                f" with a memory in {sorted(self.memories)}"
            ) from None

    def qubit(self, location: Location) -> Any:
        """The qubit at ``location`` with memory noise applied up to now."""
        return self.memory_of(location).access(location[1])

    def initialise(self, location: Location) -> float:
        """Put a fresh |0> in the empty slot ``location``; returns the duration (0 ns)."""
        from modenhub_net.qubits import create_qubits

        (qubit,) = create_qubits(1)
        self.memory_of(location).store(location[1], qubit, apply_efficiency=False)
        return 0.0

    # -- gates ------------------------------------------------------------------------
    def apply_gate(self, gate: np.ndarray, locations: Sequence[Location]) -> float:
        """Apply ``gate`` (2x2 or 4x4 unitary) to the qubits at ``locations``, with error.

        Returns
        -------
        float
            The gate duration in ns (``single_qubit_gate_ns`` or ``two_qubit_gate_ns``).
        """
        return self.apply_gate_to(gate, [self.qubit(loc) for loc in locations])

    def apply_gate_to(self, gate: np.ndarray, qubits: Sequence[Any]) -> float:
        """:meth:`apply_gate` on ``qubits`` themselves (noise up to now already applied).

        The same unitary and the same gate error as :meth:`apply_gate` (single-qubit
        depolarising with ``single_qubit_gate_depolar_prob``, two-qubit depolarising Kraus
        operators with ``two_qubit_gate_depolar_prob``); used where a pair's history is
        replayed without memory slots (:mod:`protocols.link_block`). Returns the gate
        duration in ns.
        """
        qubits = list(qubits)
        dim = 2 ** len(qubits)
        if getattr(gate, "shape", None) != (dim, dim) and np.shape(gate) != (dim, dim) \
                or len(qubits) not in (1, 2):
            raise UserInputError(
                f"{self.full_name}: gate of shape {np.shape(gate)} does not act on {len(qubits)} qubit(s);"
                " one- and two-qubit gates are supported"
            )
        operate(qubits, gate)
        if len(qubits) == 1:
            p1 = self.params.single_qubit_gate_depolar_prob
            if p1 > 0.0:
                depolarise(qubits[0], p1)
            return self.params.single_qubit_gate_ns
        if self._kraus2 is not None:
            apply_kraus(qubits, self._kraus2)
        return self.params.two_qubit_gate_ns

    def measure(self, location: Location, *, basis: str = "Z", free: bool = True) -> MeasureResult:
        """Measure the qubit at ``location``; the outcome is flipped with ``measure_error_prob``.

        Parameters
        ----------
        location : Location
            The qubit.
        basis : {"Z", "X", "Y"}
            Measurement basis (default "Z").
        free : bool
            Discard the measured qubit and free its slot (default True); False keeps the
            post-measurement qubit stored.
        """
        from modenhub_net.qubits import measure

        memory = self.memory_of(location)
        qubit = memory.access(location[1])
        outcome = measure(qubit, self.rng, basis=basis, discard=free)
        if free:
            memory.release(location[1])
        e = self.params.measure_error_prob
        if e > 0.0 and self.rng.random() < e:
            outcome = 1 - outcome
        return MeasureResult(int(outcome), self.params.measure_ns)

    def bell_measure(self, loc_a: Location, loc_b: Location) -> MeasureResult:
        """Deterministic local Bell measurement: CNOT(a, b), H(a), measure both (freed).

        Outcome index ``m_a + 2 m_b`` in the order Phi+, Phi-, Psi+, Psi-
        (:data:`modenhub_net.qubits.BELL_LABELS`): Phi+ -> 00, Phi- -> 10, Psi+ -> 01,
        Psi- -> 11. Duration: two-qubit gate + one-qubit gate + one measurement (both
        qubits read out in parallel). Gate and readout errors as in :meth:`apply_gate` and
        :meth:`measure`.
        """
        from modenhub_net.qubits import CNOT, H

        duration = self.apply_gate(CNOT, [loc_a, loc_b])
        duration += self.apply_gate(H, [loc_a])
        m_a = self.measure(loc_a).outcome
        m_b = self.measure(loc_b).outcome
        return MeasureResult(m_a + 2 * m_b, duration + self.params.measure_ns)
