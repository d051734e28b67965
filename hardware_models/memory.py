"""Quantum memory: slots that store qubits, with noise applied lazily at access time.

A :class:`QuantumMemory` holds up to ``n_slots`` qubits. Noise is *not* applied by a clock:
each slot remembers when it was last accessed, and the next access applies the channel for
the whole elapsed time (NetSquid's ``QuantumMemory`` does the same). Because the channels
used form semigroups in time (amplitude damping, dephasing and depolarising with
exponential laws), several accesses at t1 < t2 < ... give exactly the same state as one
access at the last time -- a property the tests check.

Noise for an elapsed time t (DESIGN.md §3):

1. T1/T2 (:func:`modenhub_net.qubits.t1t2_noise`): amplitude damping with
   ``gamma = 1 - exp(-t/T1)``, then dephasing such that the off-diagonal elements decay as
   ``exp(-t/T2)`` overall; requires ``T2 <= 2 T1`` (Nielsen & Chuang, *Quantum Computation
   and Quantum Information*, §8.3.5-8.3.6 and 8.4.1).
2. Depolarising (:func:`modenhub_net.qubits.depolarise_for_time`):
   ``rho -> (1-p) rho + p I/2`` with ``p = 1 - exp(-t/T_dep)`` (NetSquid's
   ``DepolarNoiseModel`` with a time constant; Coopmans et al., Commun. Phys. 4, 164 (2021)).

Closed forms for a stored Bell pair are in :func:`stored_pair_fidelity`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from pydantic import Field, model_validator

from modenhub_net.components import Component, Message
from modenhub_net.config import ParamsModel
from modenhub_net.simulation import Simulation

__all__ = [
    "MemoryParams",
    "MemorySlotError",
    "QuantumMemory",
    "SlotEmptyError",
    "SlotOccupiedError",
    "memory_decay_factors",
    "stored_pair_fidelity",
]

_INF = math.inf


class MemoryParams(ParamsModel):
    """Physics of one kind of memory qubit (all slots of a memory share it).

    Parameters
    ----------
    t1_ns : float
        Energy-relaxation time T1 in ns, in (0, inf]; default inf (no amplitude damping).
        NV electron spin: T1 > 1 h (Abobeih et al., Nat. Commun. 9, 2552 (2018));
        13C nuclear spins: far longer (Bradley et al., PRX 9, 031045 (2019)).
    t2_ns : float
        Coherence time T2 in ns, in (0, inf] and at most ``2 * t1_ns`` (a physical
        constraint: dephasing cannot be negative, Nielsen & Chuang §8.3); default inf.
        Off-diagonal elements decay as ``exp(-t/T2)``.
    depolar_time_ns : float
        Time constant of depolarising memory noise in ns, in (0, inf]; default inf (off).
        ``p(t) = 1 - exp(-t/depolar_time_ns)``. Used by platform studies that quote a single
        "coherence time" with depolarising noise (e.g. Avis et al., npj Quantum Inf. 9, 100
        (2023), arXiv:2207.10579).
    write_efficiency : float
        Probability in [0, 1] that :meth:`QuantumMemory.store` succeeds; on failure the
        qubit is lost. Default 1 (ideal).
    read_efficiency : float
        Probability in [0, 1] that :meth:`QuantumMemory.read` returns the qubit; on failure
        the qubit is lost. Default 1 (ideal).
    emission_efficiency : float
        Probability in [0, 1] that a photon emitted by :meth:`QuantumMemory.emit` is
        collected into the output fibre mode (emission into the useful mode times
        collection and coupling). Default 1 (ideal).
    emission_fidelity : float
        Fidelity in [0.25, 1] of the emitted memory-photon state with |Phi+>; the state is
        the Werner state ``F |Phi+><Phi+| + (1-F)/3 (1 - |Phi+><Phi+|)``. Default 1.

    Examples
    --------
    >>> MemoryParams(t1_ns=1e6, t2_ns=3e6)
    Traceback (most recent call last):
    ...
    modenhub_net.errors.UserInputError: MemoryParams: ...t2_ns = 3000000.0 must be <= 2 * t1_ns = 2000000.0...
    """

    t1_ns: float = Field(_INF, gt=0.0)
    t2_ns: float = Field(_INF, gt=0.0)
    depolar_time_ns: float = Field(_INF, gt=0.0)
    write_efficiency: float = Field(1.0, ge=0.0, le=1.0)
    read_efficiency: float = Field(1.0, ge=0.0, le=1.0)
    emission_efficiency: float = Field(1.0, ge=0.0, le=1.0)
    emission_fidelity: float = Field(1.0, ge=0.25, le=1.0)

    @model_validator(mode="after")
    def _t2_within_2t1(self) -> MemoryParams:
        if self.t2_ns > 2.0 * self.t1_ns:
            raise ValueError(
                f"t2_ns = {self.t2_ns!r} must be <= 2 * t1_ns = {2.0 * self.t1_ns!r} "
                f"(t1_ns = {self.t1_ns!r}); T2 > 2 T1 is unphysical"
            )
        return self

    @property
    def is_noiseless(self) -> bool:
        """True if storage adds no noise at all (all three times infinite)."""
        return math.isinf(self.t1_ns) and math.isinf(self.t2_ns) and math.isinf(self.depolar_time_ns)


def memory_decay_factors(elapsed_ns: float, params: MemoryParams) -> tuple[float, float, float]:
    """Per-qubit decay factors after ``elapsed_ns`` of storage.

    Parameters
    ----------
    elapsed_ns : float
        Storage time in ns (>= 0).
    params : MemoryParams
        Memory physics.

    Returns
    -------
    (a, c, q) : tuple of float
        ``a = exp(-t/T1)`` (population kept in |1>), ``c = exp(-t/T2)`` (coherence factor),
        ``q = exp(-t/T_dep)`` (weight not depolarised).
    """
    t = float(elapsed_ns)
    if t < 0:
        raise ValueError(f"elapsed_ns = {elapsed_ns!r} must be >= 0")
    return (
        math.exp(-t / params.t1_ns),
        math.exp(-t / params.t2_ns),
        math.exp(-t / params.depolar_time_ns),
    )


def stored_pair_fidelity(elapsed_ns: float, params: MemoryParams, *, both_qubits: bool) -> float:
    """Fidelity with |Phi+> of a perfect |Phi+> pair after storage for ``elapsed_ns``.

    Parameters
    ----------
    elapsed_ns : float
        Storage time in ns (>= 0), the same for both qubits if ``both_qubits``.
    params : MemoryParams
        Memory physics (T1, T2, depolarising time).
    both_qubits : bool
        False: one qubit is stored, the other is ideal. True: both are stored (each in a
        memory with ``params``) for the same time.

    Returns
    -------
    float
        Fidelity in [1/4, 1].

    Notes
    -----
    Derivation (a, c, q from :func:`memory_decay_factors`). Write
    ``|Phi+><Phi+| = (|00><00| + |00><11| + |11><00| + |11><11|) / 2`` and
    ``F = (rho_{00,00} + rho_{11,11} + 2 Re rho_{00,11}) / 2``.
    Amplitude damping maps ``|1><1| -> a |1><1| + (1-a) |0><0|`` and keeps ``|0><0|``;
    after the added dephasing a coherence ``|0><1|`` is multiplied by ``c``
    (Nielsen & Chuang §8.3.5-8.3.6). Hence

    - one qubit: ``rho_{00,00} = 1/2``, ``rho_{11,11} = a/2``, ``rho_{00,11} = c/2``, so
      ``F_T = (1 + a + 2c) / 4``;
    - both qubits: ``rho_{00,00} = (1 + (1-a)^2)/2``, ``rho_{11,11} = a^2/2``,
      ``rho_{00,11} = c^2/2``, so ``F_T = (1 + (1-a)^2 + a^2 + 2c^2) / 4``.

    With pure dephasing (a = 1) these are ``(1 + e^{-t/T2})/2`` and ``(1 + e^{-2t/T2})/2``
    (DESIGN.md §3). Depolarising ``rho -> (1-p) rho + p Tr_X(rho) (x) I/2`` on one qubit of
    any state whose other reduced state is I/2 gives fidelity ``(1-p) F + p/4`` because
    ``<Phi+| X (x) I/2 |Phi+> = 1/4``; both qubits give ``(1-p_A)(1-p_B) F + (1 -
    (1-p_A)(1-p_B))/4``. With ``1 - p = q = e^{-t/T_dep}``:
    ``F = q^n F_T + (1 - q^n)/4``, n = number of stored qubits (1 or 2). For depolarising
    alone and one qubit this is ``1 - 3p/4``.

    Examples
    --------
    >>> p = MemoryParams(t2_ns=1000.0)
    >>> round(stored_pair_fidelity(1000.0, p, both_qubits=False), 6)  # (1 + e^-1)/2
    0.68394
    >>> round(stored_pair_fidelity(1000.0, p, both_qubits=True), 6)  # (1 + e^-2)/2
    0.567668
    """
    a, c, q = memory_decay_factors(elapsed_ns, params)
    if both_qubits:
        f_t = (1.0 + (1.0 - a) ** 2 + a * a + 2.0 * c * c) / 4.0
        keep = q * q
    else:
        f_t = (1.0 + a + 2.0 * c) / 4.0
        keep = q
    return keep * f_t + (1.0 - keep) / 4.0


class MemorySlotError(RuntimeError):
    """A memory slot was used in a way its state does not allow."""


class SlotOccupiedError(MemorySlotError):
    """Writing to a slot that already holds a qubit (a memory never overwrites)."""


class SlotEmptyError(MemorySlotError):
    """Accessing a slot that holds no qubit."""


class QuantumMemory(Component):
    """A memory with ``n_slots`` qubit slots and access-time noise.

    Parameters
    ----------
    name : str
        Component name.
    sim : Simulation
        Owning simulation.
    params : MemoryParams
        Physics shared by all slots.
    n_slots : int
        Number of slots (>= 1).

    Ports
    -----
    qin
        Photons (a :class:`~modenhub_net.components.Message` of qubits) arriving here are
        written (with the write efficiency) into the lowest free slots; qubits that find no
        free slot are lost and counted in :attr:`dropped_full`. :attr:`on_input`, if set, is
        called as ``on_input(message, slots)`` with the slot (or None) of each item.
    qout
        :meth:`emit` with ``send=True`` sends the photon out here.

    Notes
    -----
    Time stamps are ``sim.now_ns``. The noise for the time since the last access is
    applied by :meth:`access` (alias :meth:`peek`), :meth:`pop` and :meth:`read`;
    :meth:`discard` applies none (the qubit is thrown away). Noise is skipped when the
    elapsed time is 0 or the memory is noiseless, so the access path stays cheap.
    """

    def __init__(self, name: str, *, sim: Simulation, params: MemoryParams, n_slots: int) -> None:
        if isinstance(n_slots, bool) or not isinstance(n_slots, int) or n_slots < 1:
            from modenhub_net.errors import UserInputError

            raise UserInputError(f"{name}: n_slots = {n_slots!r} must be an integer >= 1")
        super().__init__(name, sim=sim, port_names=("qin", "qout"))
        self.params = params
        self.n_slots = n_slots
        self._qubits: list[Any] = [None] * n_slots
        self._last_ns: list[float] = [0.0] * n_slots
        self._stored_ns: list[float] = [0.0] * n_slots
        self._t1t2 = not (math.isinf(params.t1_ns) and math.isinf(params.t2_ns))
        self._depol = not math.isinf(params.depolar_time_ns)
        self._write_eff = params.write_efficiency
        self._read_eff = params.read_efficiency
        self.on_input: Callable[[Message, list[int | None]], None] | None = None
        self.dropped_full = 0
        self.write_failures = 0
        self.read_failures = 0
        self.ports["qin"].bind_input_handler(self._on_qin)

    # -- inspection -------------------------------------------------------------------
    def free_slots(self) -> list[int]:
        """Indices of empty slots, ascending."""
        return [i for i, q in enumerate(self._qubits) if q is None]

    def occupied_slots(self) -> list[int]:
        """Indices of slots holding a qubit, ascending."""
        return [i for i, q in enumerate(self._qubits) if q is not None]

    def is_occupied(self, slot: int) -> bool:
        """Whether ``slot`` holds a qubit."""
        return self._qubits[self._check(slot)] is not None

    def stored_at_ns(self, slot: int) -> float:
        """Time (ns) at which the qubit in ``slot`` was stored or emitted."""
        self._occupied(slot)
        return self._stored_ns[slot]

    def last_access_ns(self, slot: int) -> float:
        """Time (ns) up to which the noise of ``slot`` has been applied."""
        self._occupied(slot)
        return self._last_ns[slot]

    # -- writing ----------------------------------------------------------------------
    def store(self, slot: int, qubit: Any, *, apply_efficiency: bool = True) -> bool:
        """Write ``qubit`` into the empty ``slot``.

        Parameters
        ----------
        slot : int
            An empty slot.
        qubit : Qubit
            The qubit to store.
        apply_efficiency : bool, optional
            If False the write always succeeds (e.g. a QPU initialising a local qubit).
            Default True.

        Returns
        -------
        bool
            True if stored; False if the write failed (probability ``1 - write_efficiency``),
            in which case the qubit is lost (:func:`modenhub_net.qubits.lose`).

        Raises
        ------
        SlotOccupiedError
            If the slot holds a qubit (never overwritten).
        """
        if self._qubits[self._check(slot)] is not None:
            raise SlotOccupiedError(f"{self.full_name}: slot {slot} is occupied; release it first")
        if qubit is None:
            raise ValueError(f"{self.full_name}: cannot store None in slot {slot}")
        if apply_efficiency and self._write_eff < 1.0 and self.rng.random() >= self._write_eff:
            from modenhub_net.qubits import lose

            lose(qubit)
            self.write_failures += 1
            return False
        now = self.sim.env.now
        self._qubits[slot] = qubit
        self._stored_ns[slot] = now
        self._last_ns[slot] = now
        return True

    def emit(self, slot: int, *, send: bool = False) -> tuple[Any, Any]:
        """Create a memory qubit in ``slot`` entangled with an emitted photon.

        The pair is the Werner state of fidelity ``emission_fidelity`` with |Phi+>
        (memory qubit first); the photon is collected with probability
        ``emission_efficiency``, otherwise it is lost (the memory qubit stays, mixed).
        This is the spin-photon entanglement of detection-in-the-hub links (DESIGN.md §4;
        e.g. Humphreys et al., Nature 558, 268 (2018); Krutyanskiy et al., PRL 130, 050803
        (2023)).

        Parameters
        ----------
        slot : int
            An empty slot.
        send : bool, optional
            Also send ``Message((photon,), meta={"header": "photon", "slot": slot})`` out of
            port ``qout`` (photon None if not collected). Default False.

        Returns
        -------
        (memory_qubit, photon)
            ``photon`` is None if it was not collected.
        """
        from modenhub_net.qubits import create_bell_pair, create_werner_pair, lose

        if self._qubits[self._check(slot)] is not None:
            raise SlotOccupiedError(f"{self.full_name}: slot {slot} is occupied; release it first")
        fidelity = self.params.emission_fidelity
        mem_q, photon = create_bell_pair() if fidelity >= 1.0 else create_werner_pair(fidelity)
        eff = self.params.emission_efficiency
        if eff < 1.0 and self.rng.random() >= eff:
            lose(photon)
            photon = None
        now = self.sim.env.now
        self._qubits[slot] = mem_q
        self._stored_ns[slot] = now
        self._last_ns[slot] = now
        if send:
            self.ports["qout"].tx_output(
                Message((photon,), {"header": "photon", "slot": slot, "memory": self.full_name})
            )
        return mem_q, photon

    # -- reading ----------------------------------------------------------------------
    def access(self, slot: int) -> Any:
        """Apply the pending noise to the qubit in ``slot`` and return it (it stays stored)."""
        qubit = self._qubits[self._check(slot)]
        if qubit is None:
            raise SlotEmptyError(f"{self.full_name}: slot {slot} is empty")
        now = self.sim.env.now
        elapsed = now - self._last_ns[slot]
        if elapsed > 0.0:
            self._last_ns[slot] = now
            if self._t1t2 or self._depol:
                self._apply_noise(qubit, elapsed)
        return qubit

    #: Same as :meth:`access` (noise applied up to now).
    peek = access

    def pop(self, slot: int) -> Any:
        """Access ``slot`` (noise up to now), free it and return its qubit."""
        qubit = self.access(slot)
        self._qubits[slot] = None
        return qubit

    def read(self, slot: int) -> Any:
        """Retrieve the qubit of ``slot`` with the read efficiency; the slot is freed.

        Returns
        -------
        qubit or None
            None (qubit lost) with probability ``1 - read_efficiency``.
        """
        qubit = self.pop(slot)
        if self._read_eff < 1.0 and self.rng.random() >= self._read_eff:
            from modenhub_net.qubits import lose

            lose(qubit)
            self.read_failures += 1
            return None
        return qubit

    def discard(self, slot: int) -> None:
        """Free ``slot``; its qubit is discarded (partners traced out, no noise applied)."""
        from modenhub_net.qubits import discard

        qubit = self._qubits[self._check(slot)]
        if qubit is None:
            raise SlotEmptyError(f"{self.full_name}: slot {slot} is empty")
        self._qubits[slot] = None
        discard(qubit)

    def release(self, slot: int) -> None:
        """Free ``slot`` without touching its qubit (it was handed elsewhere, e.g. measured)."""
        self._check(slot)
        self._qubits[slot] = None

    # -- internals --------------------------------------------------------------------
    def _apply_noise(self, qubit: Any, elapsed_ns: float) -> None:
        from modenhub_net.qubits import depolarise_for_time, t1t2_noise

        p = self.params
        if self._t1t2:
            t1t2_noise(qubit, elapsed_ns, t1_ns=p.t1_ns, t2_ns=p.t2_ns)
        if self._depol:
            depolarise_for_time(qubit, elapsed_ns, depolar_time_ns=p.depolar_time_ns)

    def _check(self, slot: int) -> int:
        if not 0 <= slot < self.n_slots:
            raise IndexError(f"{self.full_name}: slot {slot!r} outside 0..{self.n_slots - 1}")
        return slot

    def _occupied(self, slot: int) -> None:
        if self._qubits[self._check(slot)] is None:
            raise SlotEmptyError(f"{self.full_name}: slot {slot} is empty")

    def _on_qin(self, message: Message) -> None:
        slots: list[int | None] = []
        for qubit in message.items:
            if qubit is None:
                slots.append(None)
                continue
            free = next((i for i, q in enumerate(self._qubits) if q is None), None)
            if free is None:
                from modenhub_net.qubits import lose

                lose(qubit)
                self.dropped_full += 1
                self.sim.record(self.full_name, "photon dropped: memory full")
                slots.append(None)
            else:
                slots.append(free if self.store(free, qubit) else None)
        if self.on_input is not None:
            self.on_input(message, slots)
