"""Communication / hub memory slots with access-time T1/T2 noise (adapter).

Same interface and semantics as :class:`hardware_models.memory.QuantumMemory` for the calls
the hub uses (``free_slots, occupied_slots, is_occupied, store, emit, access, release,
discard``): the noise for the time since the last access is applied at the next access
(amplitude damping ``gamma = 1 - exp(-t/T1)`` then dephasing so coherences decay as
``exp(-t/T2)``, DESIGN.md §3). It runs on :mod:`modenhub_net.network.quantum`, so it works
with the fallback backend while the shared qubit formalism is absent.
"""

from __future__ import annotations

import math
from typing import Any

from modenhub_net.components import Component
from modenhub_net.network import quantum as qops
from modenhub_net.simulation import Simulation

__all__ = ["SlotMemory"]


class SlotMemory(Component):
    """``n_slots`` qubit slots with lazy T1/T2 noise.

    Parameters
    ----------
    name : str
    sim : Simulation
    n_slots : int
        >= 1.
    t1_ns, t2_ns : float
        Relaxation and coherence times (ns, ``inf`` for none; T2 <= 2 T1 checked upstream).
    emission_efficiency : float
        Probability that :meth:`emit` yields a photon (else the photon is lost).
    """

    def __init__(self, name: str, *, sim: Simulation, n_slots: int, t1_ns: float = math.inf,
                 t2_ns: float = math.inf, emission_efficiency: float = 1.0) -> None:
        super().__init__(name, sim=sim)
        self.n_slots = int(n_slots)
        self.t1_ns, self.t2_ns = float(t1_ns), float(t2_ns)
        self.emission_efficiency = float(emission_efficiency)
        self._noisy = not (math.isinf(t1_ns) and math.isinf(t2_ns))
        self._qubits: list[Any] = [None] * self.n_slots
        self._last: list[float] = [0.0] * self.n_slots
        self._free = list(range(self.n_slots))

    def free_slots(self) -> list[int]:
        return sorted(self._free)

    def n_free(self) -> int:
        return len(self._free)

    def occupied_slots(self) -> list[int]:
        return [i for i, q in enumerate(self._qubits) if q is not None]

    def is_occupied(self, slot: int) -> bool:
        return self._qubits[slot] is not None

    def store(self, slot: int, qubit: Any) -> bool:
        if self._qubits[slot] is not None:
            raise RuntimeError(f"{self.full_name}: slot {slot} is occupied")
        self._qubits[slot] = qubit
        self._last[slot] = self.sim.now_ns
        self._free.remove(slot)
        return True

    def emit(self, slot: int) -> tuple[Any, Any]:
        """A memory qubit in ``slot`` entangled (Phi+) with a photon; photon None if not emitted."""
        mem_q, photon = qops.make_pair(qops.PHI_PLUS_DM)
        self.store(slot, mem_q)
        if self.emission_efficiency < 1.0 and self.rng.random() >= self.emission_efficiency:
            qops.discard(photon)
            photon = None
        return mem_q, photon

    def access(self, slot: int) -> Any:
        qubit = self._qubits[slot]
        if qubit is None:
            raise RuntimeError(f"{self.full_name}: slot {slot} is empty")
        now = self.sim.now_ns
        elapsed = now - self._last[slot]
        if elapsed > 0.0:
            self._last[slot] = now
            if self._noisy:
                qops.qb_module.t1t2_noise(qubit, elapsed, t1_ns=self.t1_ns, t2_ns=self.t2_ns)
        return qubit

    def release(self, slot: int) -> None:
        if self._qubits[slot] is not None:
            self._qubits[slot] = None
            self._free.append(slot)

    def discard(self, slot: int) -> None:
        qubit = self._qubits[slot]
        if qubit is None:
            raise RuntimeError(f"{self.full_name}: slot {slot} is empty")
        self.release(slot)
        qops.discard(qubit)
