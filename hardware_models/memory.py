"""Quantum memory: slots that store qubits, with noise applied lazily at access time.

A :class:`QuantumMemory` holds up to ``n_slots`` qubits. Noise is *not* applied by a clock:
each slot remembers when it was last accessed, and the next access applies the channel for
the whole elapsed time (NetSquid's ``QuantumMemory`` does the same). Because the channels
used form semigroups in time (amplitude damping, dephasing and depolarising with
exponential laws), several accesses at t1 < t2 < ... give exactly the same state as one
access at the last time -- a property the tests check.

Noise for an elapsed time t (ARCHITECTURE.md §3):

1. T1/T2 (:func:`modenhub_net.qubits.t1t2_noise`): amplitude damping with
   ``gamma = 1 - exp(-t/T1)``, then dephasing such that the off-diagonal elements decay as
   ``exp(-t/T2)`` overall; requires ``T2 <= 2 T1`` (Nielsen & Chuang, *Quantum Computation
   and Quantum Information*, §8.3.5-8.3.6 and 8.4.1).
2. Depolarising (:func:`modenhub_net.qubits.depolarise_for_time`):
   ``rho -> (1-p) rho + p I/2`` with ``p = 1 - exp(-t/T_dep)`` (NetSquid's
   ``DepolarNoiseModel`` with a time constant; Coopmans et al., Commun. Phys. 4, 164 (2021)).

When T1 *and* T_dep are both finite, "T1/T2 then depolarise" is applied per access would
**not** compose in time (amplitude damping is not unital, so it does not commute with
depolarising, and the result would depend on how often the slot is accessed). The memory
then applies the exact solution of the joint Lindblad equation instead (both processes act
simultaneously). In Bloch coordinates (z = rho00 - rho11):

``z(t) = z_inf + (z(0) - z_inf) exp(-t (1/T1 + 1/T_dep))``, ``z_inf = T_dep / (T1 + T_dep)``,
coherences ``x + iy -> (x + iy) exp(-t/T2 - t/T_dep)``;

implemented as generalised amplitude damping (Nielsen & Chuang §8.3.5) with
``gamma = 1 - exp(-t(1/T1 + 1/T_dep))`` and ground-state weight ``(1 + z_inf)/2``, followed by
the dephasing that brings the coherence factor to the value above. With T_dep = inf this is
exactly item 1, with T1 = inf exactly items 1 (dephasing only) and 2, so every case is a
semigroup: one access after t1 + t2 equals two accesses after t1 and t2.

Closed forms for a stored Bell pair are in :func:`stored_pair_fidelity`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from modenhub_net.components import Component, Message
from modenhub_net.config import ParamsModel
from modenhub_net.config.base import check_number
from modenhub_net.qubits.state import BellDiagonalState, bell_pauli_channel, trace_out
from modenhub_net.simulation import Simulation

__all__ = [
    "MemoryParams",
    "MemorySlotError",
    "QuantumMemory",
    "SlotEmptyError",
    "SlotOccupiedError",
    "emitter_attempt_period_ns",
    "joint_noise_kraus",
    "memory_channel_params",
    "stored_pair_fidelity",
]

_INF = math.inf


class _Reserved:
    """Marks a slot reserved by :meth:`QuantumMemory.reserve` (no qubit in it)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<reserved>"


_RESERVED = _Reserved()


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
        the Werner state ``F |Phi+><Phi+| + (1-F)/3 (1 - |Phi+><Phi+|)`` (double click), or
        the single-click state with the memory depolarised to the same Werner parameter
        ``(4F - 1)/3`` (see :meth:`QuantumMemory.emit`). Default 1 (ideal; platform values
        in the presets, ``hardware_models/preset_data/*.toml``).
    emitter_initialisation_ns : float
        Time in ns, finite and >= 0, to prepare the communication qubit before an emission
        attempt: optical spin pumping / charge-state check into the bright-state-ready spin
        state (e.g. NV: ~2-6 us of spin reset and charge-resonance check per attempt,
        Humphreys et al., Nature 558, 268 (2018), Methods; Pompili et al., Science 372, 259
        (2021)). Default 0 (ideal; platform values belong in the presets).
    emitter_emission_ns : float
        Time in ns, finite and >= 0, of the emission step itself: the microwave/optical
        rotation that sets the spin state, the optical excitation pulse and the photon's
        emission (a few excited-state lifetimes; e.g. NV optical lifetime ~12 ns, Bernien
        et al., Nature 497, 86 (2013)). Default 0 (ideal).
    emitter_reset_ns : float
        Time in ns, finite and >= 0, to re-prepare the emitter after a *failed* attempt
        (e.g. dynamical-decoupling to protect a stored nuclear-spin state, or re-cooling of
        an ion before the next attempt as in the trapped-ion repeater node of Krutyanskiy et
        al., PRL 130, 213601 (2023), arXiv:2210.05418, the source of the
        ``near_term_trapped_ion`` preset). Default 0 (ideal).
        :func:`emitter_attempt_period_ns` sums the three.

    Examples
    --------
    >>> from modenhub_net.errors import UserInputError
    >>> try:
    ...     MemoryParams(t1_ns=1e6, t2_ns=3e6)
    ... except UserInputError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    MemoryParams: t2_ns = 3000000.0 must be <= 2 * t1_ns = 2000000.0 ...; T2 > 2 T1 is unphysical
    """

    t1_ns: float = Field(_INF, gt=0.0)
    t2_ns: float = Field(_INF, gt=0.0)
    depolar_time_ns: float = Field(_INF, gt=0.0)
    write_efficiency: float = Field(1.0, ge=0.0, le=1.0)
    read_efficiency: float = Field(1.0, ge=0.0, le=1.0)
    emission_efficiency: float = Field(1.0, ge=0.0, le=1.0)
    emission_fidelity: float = Field(1.0, ge=0.25, le=1.0)
    emitter_initialisation_ns: float = Field(0.0, ge=0.0, allow_inf_nan=False)
    emitter_emission_ns: float = Field(0.0, ge=0.0, allow_inf_nan=False)
    emitter_reset_ns: float = Field(0.0, ge=0.0, allow_inf_nan=False)

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


def emitter_attempt_period_ns(params: MemoryParams) -> float:
    """Duration in ns of one emitter attempt that fails: initialisation + emission + reset.

    ``T = emitter_initialisation_ns + emitter_emission_ns + emitter_reset_ns``: the emitter
    cannot start the next attempt before it is re-initialised, has emitted and (after a failed
    attempt) been reset (Humphreys et al., Nature 558, 268 (2018), Methods: the attempt
    duration of the NV single-click link is set by these steps plus the herald's return).
    The fibre flight and herald message times of a link are added by the link budget.

    Examples
    --------
    >>> emitter_attempt_period_ns(MemoryParams(emitter_initialisation_ns=5000.0,
    ...                                        emitter_emission_ns=100.0, emitter_reset_ns=400.0))
    5500.0
    """
    return params.emitter_initialisation_ns + params.emitter_emission_ns + params.emitter_reset_ns


def memory_channel_params(elapsed_ns: float, params: MemoryParams) -> tuple[float, float, float]:
    """Transition probabilities of the storage channel of one qubit after ``elapsed_ns``.

    The channel is phase covariant: it maps ``|0><0| -> (1-u)|0><0| + u|1><1|``,
    ``|1><1| -> (1-a)|0><0| + a|1><1|`` and multiplies ``|0><1|`` by ``c``.

    Parameters
    ----------
    elapsed_ns : float
        Storage time in ns, a finite number >= 0 (a boolean, NaN or inf is refused).
    params : MemoryParams
        Memory physics.

    Returns
    -------
    (u, a, c) : tuple of float
        With ``lam = exp(-t (1/T1 + 1/T_dep))`` and ``z_inf = T_dep / (T1 + T_dep)``
        (1 if T_dep = inf, 0 if T1 = inf):
        ``u = (1 - z_inf)(1 - lam)/2``, ``a = (1 - z_inf + (1 + z_inf) lam)/2``,
        ``c = exp(-t/T2 - t/T_dep)``. Pure T1/T2: ``u = 0``, ``a = exp(-t/T1)``,
        ``c = exp(-t/T2)``; pure depolarising: ``u = p/2``, ``a = 1 - p/2``, ``c = 1 - p``.

    Raises
    ------
    UserInputError
        If ``elapsed_ns`` is not a finite number >= 0 (one line: name, value, range).
    """
    t = check_number("elapsed_ns", elapsed_ns, low=0.0)
    r1 = 1.0 / params.t1_ns
    rd = 1.0 / params.depolar_time_ns
    lam = math.exp(-t * (r1 + rd))
    z_inf = r1 / (r1 + rd) if r1 + rd > 0.0 else 1.0
    u = (1.0 - z_inf) * (1.0 - lam) / 2.0
    a = (1.0 - z_inf + (1.0 + z_inf) * lam) / 2.0
    c = math.exp(-t / params.t2_ns - t * rd)
    return u, a, c


def stored_pair_fidelity(elapsed_ns: float, params: MemoryParams, *, both_qubits: bool) -> float:
    """Fidelity with |Phi+> of a perfect |Phi+> pair after storage for ``elapsed_ns``.

    Parameters
    ----------
    elapsed_ns : float
        Storage time in ns, a finite number >= 0 (a boolean, NaN or inf is refused), the
        same for both qubits if ``both_qubits``.
    params : MemoryParams
        Memory physics (T1, T2, depolarising time).
    both_qubits : bool
        False: one qubit is stored, the other is ideal. True: both are stored (each in a
        memory with ``params``) for the same time.

    Returns
    -------
    float
        Fidelity in [0, 1].

    Raises
    ------
    UserInputError
        If ``elapsed_ns`` is not a finite number >= 0.

    Notes
    -----
    Derivation, with ``(u, a, c)`` from :func:`memory_channel_params`. Write
    ``|Phi+><Phi+| = (|00><00| + |00><11| + |11><00| + |11><11|) / 2``, so that
    ``F = (rho_{00,00} + rho_{11,11} + 2 Re rho_{00,11}) / 2``:

    - one qubit stored: ``rho_{00,00} = (1-u)/2``, ``rho_{11,11} = a/2``,
      ``rho_{00,11} = c/2``, hence ``F = ((1-u) + a + 2c) / 4``;
    - both stored: ``rho_{00,00} = ((1-u)^2 + (1-a)^2)/2``, ``rho_{11,11} = (u^2 + a^2)/2``,
      ``rho_{00,11} = c^2/2``, hence ``F = ((1-u)^2 + (1-a)^2 + u^2 + a^2 + 2c^2) / 4``.

    Special cases (Nielsen & Chuang §8.3; ARCHITECTURE.md §3): T1/T2 only (u = 0,
    a = e^{-t/T1}, c = e^{-t/T2}): ``F = (1 + a + 2c)/4`` and
    ``(1 + (1-a)^2 + a^2 + 2c^2)/4``; dephasing only: ``(1 + e^{-t/T2})/2`` and
    ``(1 + e^{-2t/T2})/2``; depolarising only (p = 1 - e^{-t/T_dep}): ``1 - 3p/4`` and
    ``q^2 + (1 - q^2)/4`` with q = 1 - p.

    Examples
    --------
    >>> p = MemoryParams(t2_ns=1000.0)
    >>> round(stored_pair_fidelity(1000.0, p, both_qubits=False), 6)  # (1 + e^-1)/2
    0.68394
    >>> round(stored_pair_fidelity(1000.0, p, both_qubits=True), 6)  # (1 + e^-2)/2
    0.567668
    """
    u, a, c = memory_channel_params(elapsed_ns, params)
    if both_qubits:
        return ((1.0 - u) ** 2 + (1.0 - a) ** 2 + u * u + a * a + 2.0 * c * c) / 4.0
    return ((1.0 - u) + a + 2.0 * c) / 4.0


def joint_noise_kraus(elapsed_ns: float, params: MemoryParams) -> list[np.ndarray]:
    """Kraus operators of the exact joint T1/T2 + depolarising channel (see module notes).

    Generalised amplitude damping with ``gamma = 1 - lam`` and ground weight
    ``w = (1 + z_inf)/2`` (Nielsen & Chuang eq. 8.108-8.111), then dephasing with
    ``p = (1 - c / sqrt(lam)) / 2`` so that the coherence factor is ``c``. Valid for any
    T1, T2 <= 2 T1, T_dep; the memory uses it only when T1 and T_dep are both finite.
    """
    t = float(elapsed_ns)
    r1 = 1.0 / params.t1_ns
    rd = 1.0 / params.depolar_time_ns
    lam = math.exp(-t * (r1 + rd))
    z_inf = r1 / (r1 + rd) if r1 + rd > 0.0 else 1.0
    w = (1.0 + z_inf) / 2.0
    g = 1.0 - lam
    sl, sg = math.sqrt(lam), math.sqrt(g)
    gad = [
        math.sqrt(w) * np.array([[1.0, 0.0], [0.0, sl]]),
        math.sqrt(w) * np.array([[0.0, sg], [0.0, 0.0]]),
        math.sqrt(1.0 - w) * np.array([[sl, 0.0], [0.0, 1.0]]),
        math.sqrt(1.0 - w) * np.array([[0.0, 0.0], [sg, 0.0]]),
    ]
    c = math.exp(-t / params.t2_ns - t * rd)
    p = (1.0 - c / sl) / 2.0 if sl > 0.0 else 0.5
    p = min(max(p, 0.0), 0.5)
    z = np.diag([1.0, -1.0])
    ops = [math.sqrt(1.0 - p) * k for k in gad] + [math.sqrt(p) * (z @ k) for k in gad]
    return [k for k in ops if np.any(k)]


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

    The emitter's attempt timing (``emitter_initialisation_ns``, ``emitter_emission_ns``,
    ``emitter_reset_ns`` of :class:`MemoryParams`, summed by :func:`emitter_attempt_period_ns`)
    is not waited for here: :meth:`emit` acts at the current time and the protocol that drives
    the attempts schedules them (decoherence then counts from the emission time stamp).

    Counters (read-only properties, also :meth:`counters`): :attr:`n_emitted`,
    :attr:`n_photons_collected`, :attr:`n_stored`, :attr:`n_store_failed`,
    :attr:`n_dropped_full`, :attr:`n_read`, :attr:`n_read_failed`, :attr:`n_discarded`.
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
        # T1 = inf: dephasing and depolarising are Pauli channels (O(1) on Bell-diagonal pairs)
        self._pauli = math.isinf(params.t1_ns) and (self._t1t2 or self._depol)
        self._rate_t2 = 1.0 / params.t2_ns
        self._rate_dep = 1.0 / params.depolar_time_ns
        self._n_free = n_slots
        # T1 with depolarising: the two do not commute, use the exact joint channel
        self._joint = self._depol and not math.isinf(params.t1_ns)
        self._write_eff = params.write_efficiency
        self._read_eff = params.read_efficiency
        self.on_input: Callable[[Message, list[int | None]], None] | None = None
        self.dropped_full = 0
        self.write_failures = 0
        self.read_failures = 0
        self._n_emitted = 0
        self._n_photons_collected = 0
        self._n_stored = 0
        self._n_read = 0
        self._n_discarded = 0
        self.ports["qin"].bind_input_handler(self._on_qin)

    # -- counters (read-only) ---------------------------------------------------------
    @property
    def n_emitted(self) -> int:
        """Emission attempts (:meth:`emit` calls), each creating a memory-photon pair."""
        return self._n_emitted

    @property
    def n_photons_collected(self) -> int:
        """Photons handed on by :meth:`emit`: double click, photons collected into the
        fibre mode (lost ones are not counted); single click, every photon-number mode
        (its collection loss is coherent amplitude damping, not a discrete loss)."""
        return self._n_photons_collected

    @property
    def n_stored(self) -> int:
        """Successful writes by :meth:`store` (also via port ``qin``)."""
        return self._n_stored

    @property
    def n_store_failed(self) -> int:
        """Writes that failed with probability ``1 - write_efficiency`` (qubit lost)."""
        return self.write_failures

    @property
    def n_dropped_full(self) -> int:
        """Photons arriving at ``qin`` that found no free slot (lost)."""
        return self.dropped_full

    @property
    def n_read(self) -> int:
        """Successful retrievals by :meth:`read`."""
        return self._n_read

    @property
    def n_read_failed(self) -> int:
        """Retrievals that failed with probability ``1 - read_efficiency`` (qubit lost)."""
        return self.read_failures

    @property
    def n_discarded(self) -> int:
        """Qubits thrown away by :meth:`discard`."""
        return self._n_discarded

    def counters(self) -> dict[str, int]:
        """All counters of this memory as a plain dict (names as the properties)."""
        return {
            "n_emitted": self._n_emitted,
            "n_photons_collected": self._n_photons_collected,
            "n_stored": self._n_stored,
            "n_store_failed": self.write_failures,
            "n_dropped_full": self.dropped_full,
            "n_read": self._n_read,
            "n_read_failed": self.read_failures,
            "n_discarded": self._n_discarded,
        }

    # -- inspection -------------------------------------------------------------------
    def free_slots(self) -> list[int]:
        """Indices of empty slots, ascending."""
        return [i for i, q in enumerate(self._qubits) if q is None]

    def lowest_free_slots(self, n: int) -> list[int]:
        """The ``n`` lowest empty slots, ascending (fewer if there are fewer); scans only as
        far as needed."""
        out: list[int] = []
        if n <= 0:
            return out
        for i, q in enumerate(self._qubits):
            if q is None:
                out.append(i)
                if len(out) == n:
                    break
        return out

    @property
    def n_free_slots(self) -> int:
        """Number of empty slots (kept up to date by every write and release: O(1))."""
        return self._n_free

    def count(self, *, emitted: int = 0, photons_collected: int = 0, stored: int = 0,
              discarded: int = 0) -> None:
        """Bulk counters of emission attempts whose photons were drawn elsewhere (the link
        modes' array steps and sampled rounds): ``emitted`` attempts, ``photons_collected``
        of them collected (:attr:`n_emitted`, :attr:`n_photons_collected`); and of heralded
        qubits that a block of rounds stored in :meth:`reserve`'d slots and discarded after
        use (:attr:`n_stored`, :attr:`n_discarded`). Ints >= 0."""
        self._n_emitted += emitted
        self._n_photons_collected += photons_collected
        self._n_stored += stored
        self._n_discarded += discarded

    # -- reservations (blocks of rounds) ------------------------------------------------
    def reserve(self, n: int) -> list[int]:
        """Reserve the ``n`` lowest empty slots for a block of link rounds.

        A block of rounds (:mod:`protocols.link_block`) stores its heralded qubits in these
        slots and frees them after use itself, round after round; between its first and
        last round the slots are not free for anyone else (:meth:`is_occupied` is True,
        :meth:`free_slots` and :attr:`n_free_slots` leave them out, :meth:`access`,
        :meth:`discard` and :meth:`store` refuse them). :meth:`unreserve` gives them back.

        Raises
        ------
        MemorySlotError
            If fewer than ``n`` slots are empty.
        """
        slots = self.lowest_free_slots(n)
        if len(slots) < n:
            raise MemorySlotError(f"{self.full_name}: {n} slots to reserve but {len(slots)} free")
        for slot in slots:
            self._qubits[slot] = _RESERVED
        self._n_free -= len(slots)
        return slots

    def unreserve(self, slots: list[int]) -> None:
        """Free ``slots`` reserved by :meth:`reserve` (they hold no qubit)."""
        for slot in slots:
            if self._qubits[self._check(slot)] is not _RESERVED:
                raise MemorySlotError(f"{self.full_name}: slot {slot} is not reserved")
        for slot in slots:
            self._qubits[slot] = None
        self._n_free += len(slots)

    def apply_storage_noise(self, qubit: Any, elapsed_ns: float) -> None:
        """Apply this memory's storage channel for ``elapsed_ns`` to ``qubit`` (held elsewhere).

        The very channel :meth:`access` applies to a stored qubit (see the module notes and
        :meth:`_pauli_noise`); for a block of rounds that replays a pair's storage history
        without a slot. Nothing happens for ``elapsed_ns <= 0`` or a noiseless memory,
        as in :meth:`access`.
        """
        if elapsed_ns > 0.0 and (self._t1t2 or self._depol):
            self._apply_noise(qubit, elapsed_ns)

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
            raise SlotOccupiedError(f"{self.full_name}: slot {slot} is "
                                    f"{_describe(self._qubits[slot])}; release it first")
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
        self._n_stored += 1
        self._n_free -= 1
        return True

    def emit(
        self, slot: int, *, send: bool = False, bright_state_alpha: float | None = None
    ) -> tuple[Any, Any]:
        """Create a memory qubit in ``slot`` entangled with an emitted photon.

        Two spin-photon states, one per heralding scheme of :mod:`hardware_models.bsm`
        (ARCHITECTURE.md §4 "detection in the hub"; Humphreys et al., Nature 558, 268 (2018);
        Krutyanskiy et al., PRL 130, 050803 (2023)):

        * ``bright_state_alpha`` None (double click, Barrett & Kok, PRA 71, 060310 (2005)):
          the Werner state of fidelity ``emission_fidelity`` with |Phi+> (memory qubit first;
          photonic mode qubit, ``|0>`` = H/early, ``|1>`` = V/late). The photon is collected
          with probability ``emission_efficiency``, otherwise it is lost (returned as None;
          the memory qubit stays, mixed).
        * ``bright_state_alpha`` in (0, 1) (single click, Cabrillo et al., PRA 59, 1025
          (1999)): ``sqrt(1-alpha)|0>|0_ph> + sqrt(alpha)|1>|1_ph>`` with a photon-number
          ("presence") qubit; the imperfect emission is the memory depolarised to the same
          Werner parameter ``p = (4 F - 1)/3`` as above, and the collection efficiency is
          the beam-splitter loss of a photon-number qubit, amplitude damping with
          ``gamma = 1 - emission_efficiency`` (Nielsen & Chuang §8.3.5); the photon qubit
          is always returned.

        Parameters
        ----------
        slot : int
            An empty slot.
        send : bool, optional
            Also send ``Message((photon,), meta)`` out of port ``qout``, with
            ``meta = {"header": "photon", "slot": slot, "memory": name, "memory_qubit":
            qubit, "time_ns": t}`` plus ``"encoding": "presence"`` for single click: the
            message format :class:`hardware_models.bsm.BsmStation` reads. Default False.
        bright_state_alpha : float, optional
            Bright-state population in (0, 1) for single click; default None (double click).

        Returns
        -------
        (memory_qubit, photon)
            ``photon`` is None if it was not collected (double click only).
        """
        from modenhub_net.qubits import (
            amplitude_damp,
            assign_state,
            create_bell_pair,
            create_qubits,
            create_werner_pair,
            depolarise,
            lose,
        )

        if self._qubits[self._check(slot)] is not None:
            raise SlotOccupiedError(f"{self.full_name}: slot {slot} is occupied; release it first")
        fidelity = self.params.emission_fidelity
        eff = self.params.emission_efficiency
        meta: dict[str, Any] = {"header": "photon", "slot": slot, "memory": self.full_name}
        if bright_state_alpha is None:
            mem_q, photon = create_bell_pair() if fidelity >= 1.0 else create_werner_pair(fidelity)
            if eff < 1.0 and self.rng.random() >= eff:
                lose(photon)
                photon = None
        else:
            from modenhub_net.errors import check_range

            alpha = check_range(
                "bright_state_alpha", bright_state_alpha, low=0.0, high=1.0,
                low_inclusive=False, high_inclusive=False,
            )
            mem_q, photon = create_qubits(2)
            assign_state(
                [mem_q, photon], np.array([math.sqrt(1.0 - alpha), 0.0, 0.0, math.sqrt(alpha)])
            )
            if fidelity < 1.0:
                depolarise(mem_q, 4.0 * (1.0 - fidelity) / 3.0)
            if eff < 1.0:
                amplitude_damp(photon, 1.0 - eff)
            meta["encoding"] = "presence"
        now = self.sim.env.now
        self._qubits[slot] = mem_q
        self._n_free -= 1
        self._stored_ns[slot] = now
        self._last_ns[slot] = now
        self._n_emitted += 1
        if photon is not None:
            self._n_photons_collected += 1
        if send:
            meta.update(memory_qubit=mem_q, time_ns=now)
            self.ports["qout"].tx_output(Message((photon,), meta))
        return mem_q, photon

    # -- reading ----------------------------------------------------------------------
    def access(self, slot: int) -> Any:
        """Apply the pending noise to the qubit in ``slot`` and return it (it stays stored)."""
        qubit = self._qubits[self._check(slot)]
        if qubit is None or qubit is _RESERVED:
            raise SlotEmptyError(f"{self.full_name}: slot {slot} is {_describe(qubit)}")
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
        self._n_free += 1
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
        self._n_read += 1
        return qubit

    def discard(self, slot: int) -> None:
        """Free ``slot``; its qubit is discarded (partners traced out, no noise applied)."""
        qubit = self._qubits[self._check(slot)]
        if qubit is None or qubit is _RESERVED:
            raise SlotEmptyError(f"{self.full_name}: slot {slot} is {_describe(qubit)}")
        self._qubits[slot] = None
        self._n_free += 1
        self._n_discarded += 1
        trace_out(qubit)  # modenhub_net.qubits.discard without its checks

    def release(self, slot: int) -> None:
        """Free ``slot`` without touching its qubit (it was handed elsewhere, e.g. measured)."""
        if self._qubits[self._check(slot)] is _RESERVED:
            raise SlotEmptyError(f"{self.full_name}: slot {slot} is reserved (unreserve it)")
        if self._qubits[slot] is not None:
            self._n_free += 1
        self._qubits[slot] = None

    # -- internals --------------------------------------------------------------------
    def _apply_noise(self, qubit: Any, elapsed_ns: float) -> None:
        if self._pauli and qubit.state.__class__ is BellDiagonalState:
            self._pauli_noise(qubit.state, elapsed_ns)
            return
        p = self.params
        if self._joint:
            from modenhub_net.qubits import apply_kraus

            apply_kraus([qubit], joint_noise_kraus(elapsed_ns, p))
            return
        if self._t1t2:
            from modenhub_net.qubits import t1t2_noise

            t1t2_noise(qubit, elapsed_ns, t1_ns=p.t1_ns, t2_ns=p.t2_ns)
        if self._depol:
            from modenhub_net.qubits import depolarise_for_time

            depolarise_for_time(qubit, elapsed_ns, depolar_time_ns=p.depolar_time_ns)

    def _pauli_noise(self, state: Any, elapsed_ns: float) -> None:
        """T1 = inf: dephasing (T2) and depolarising (T_dep) for ``elapsed_ns`` as one Pauli
        channel on a Bell-diagonal pair, O(1) (:class:`modenhub_net.qubits.BellDiagonalState`).

        Both are Pauli channels, diagonal in the Pauli transfer matrix with eigenvalues
        ``(lam_x, lam_y, lam_z) = (c, c, 1)`` (dephasing, ``c = exp(-t/T2)``) and
        ``(d, d, d)`` (depolarising, ``d = exp(-t/T_dep)``); they commute and compose by
        multiplying eigenvalues, ``(c d, c d, d)``, i.e. the Pauli probabilities
        ``p_x = p_y = (1 - d)/4``, ``p_z = (1 - 2 c d + d)/4`` (Nielsen & Chuang §8.3.4-8.3.6;
        the same channel as :func:`modenhub_net.qubits.t1t2_noise` with T1 = inf followed by
        :func:`modenhub_net.qubits.depolarise_for_time`, checked to 1e-12 in
        ``tests/perf_physics``).
        """
        one_minus_d = -math.expm1(-elapsed_ns * self._rate_dep)
        one_minus_cd = -math.expm1(-elapsed_ns * (self._rate_t2 + self._rate_dep))
        p_xy = one_minus_d / 4.0
        p_z = (2.0 * one_minus_cd - one_minus_d) / 4.0
        bell_pauli_channel(state, 1.0 - 2.0 * p_xy - p_z, p_z, p_xy, p_xy)

    def _check(self, slot: int) -> int:
        if not 0 <= slot < self.n_slots:
            raise IndexError(f"{self.full_name}: slot {slot!r} outside 0..{self.n_slots - 1}")
        return slot

    def _occupied(self, slot: int) -> None:
        qubit = self._qubits[self._check(slot)]
        if qubit is None or qubit is _RESERVED:
            raise SlotEmptyError(f"{self.full_name}: slot {slot} is {_describe(qubit)}")

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


def _describe(content: Any) -> str:
    """How a slot's content reads in an error message."""
    if content is None:
        return "empty"
    return "reserved for a block of rounds" if content is _RESERVED else "occupied"
