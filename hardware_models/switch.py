"""Optical circuit switch: N ports, bounded simultaneous circuits, reconfiguration, loss.

The hub's switch joins pairs of ports with optical circuits (DESIGN.md §3). Physics:

- **Insertion loss** per pass: ``loss_db = fixed_loss_db + n_stages(N) * loss_per_stage_db``.
  A *crossbar* (e.g. a 2D MEMS crossbar, Seok et al., Optica 3, 64 (2016); or a 3D-MEMS
  beam-steering cross-connect) routes every path through one switching element, so
  ``n_stages = 1``. A *multistage* fabric of 2x2 elements (Benes/banyan-type, Spanke-Benes
  or path-independent-loss networks; Lee & Dupuis, J. Lightwave Technol. 37, 6 (2019))
  has ``n_stages = ceil(log2 N)`` element columns on every path.
  For N = 1 there is nothing to switch: 0 stages (only ``fixed_loss_db``). For N = 2 both
  architectures have one stage.
- **Transmission** ``eta = 10^(-loss_db/10)``; each photon passes independently.
- **Blocking**: at most ``max_circuits`` circuits at once (default: ``floor(N/2)``, i.e.
  non-blocking), each joins two distinct free ports.
- **Reconfiguration**: a circuit granted at time t is usable from ``t + reconfiguration_time_ns``;
  existing circuits are not disturbed (strictly non-blocking fabric assumption).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import simpy
from pydantic import Field

from hardware_models.draws import UniformBlocks, device_uniforms
from modenhub_net.components import Component, Message
from modenhub_net.config import ParamsModel
from modenhub_net.errors import UserInputError
from modenhub_net.simulation import Simulation

__all__ = [
    "Circuit",
    "CircuitRequest",
    "OpticalSwitch",
    "SwitchParams",
    "switch_loss_db",
    "switch_stages",
    "switch_transmission",
]


class SwitchParams(ParamsModel):
    """Optical switch parameters.

    Parameters
    ----------
    architecture : {"crossbar", "multistage"}
        Fabric type; sets the number of stages on a path (:func:`switch_stages`).
        Default "crossbar".
    loss_per_stage_db : float
        Insertion loss of one switching stage in dB, in [0, 30]. Default 0 (ideal). Typical
        values: ~0.5 dB per 2x2 silicon MEMS/MZI element on chip (Seok et al., Optica 3, 64
        (2016): 64x64 MEMS crossbar, 3.7 dB on-chip loss per path); 3D-MEMS cross-connects
        quote ~1.5-2.5 dB for the whole fabric (Kim et al., IEEE Photon. Technol. Lett. 15,
        1537 (2003): 1100x1100 port MEMS switch, 2 dB typical).
    fixed_loss_db : float
        Path-independent loss in dB (fibre coupling, connectors), in [0, 30]. Default 0.
    reconfiguration_time_ns : float
        Time from granting a circuit to its being usable, in ns, in [0, 1e12]. Default 0
        (ideal). MEMS switches: ~0.1-10 ms (Seok et al. 2016: < 0.91 us for silicon
        photonic MEMS; 3D MEMS ~10 ms).
    max_circuits : int or None
        Largest number of simultaneous circuits (>= 1); None means ``floor(N/2)`` for an
        N-port switch (never blocks on capacity). Default None.
    """

    architecture: Literal["crossbar", "multistage"] = "crossbar"
    loss_per_stage_db: float = Field(0.0, ge=0.0, le=30.0)
    fixed_loss_db: float = Field(0.0, ge=0.0, le=30.0)
    reconfiguration_time_ns: float = Field(0.0, ge=0.0, le=1e12)
    max_circuits: int | None = Field(None, ge=1, le=1_000_000)


def _check_n_ports(n_ports: int) -> int:
    if isinstance(n_ports, bool) or not isinstance(n_ports, int) or n_ports < 1:
        raise UserInputError(f"n_ports = {n_ports!r} must be an integer >= 1")
    return n_ports


def switch_stages(params: SwitchParams, n_ports: int) -> int:
    """Number of switching stages a photon crosses in an ``n_ports`` switch.

    Crossbar: 1 (0 for N = 1). Multistage: ``ceil(log2 N)`` (0 for N = 1, 1 for N = 2).

    Examples
    --------
    >>> [switch_stages(SwitchParams(architecture="multistage"), n) for n in (1, 2, 3, 4, 128)]
    [0, 1, 2, 2, 7]
    """
    n = _check_n_ports(n_ports)
    if n == 1:
        return 0
    if params.architecture == "crossbar":
        return 1
    return (n - 1).bit_length()  # == ceil(log2 n), exact for integers


def switch_loss_db(params: SwitchParams, n_ports: int) -> float:
    """Insertion loss of one pass in dB: ``fixed_loss_db + n_stages * loss_per_stage_db``."""
    return params.fixed_loss_db + switch_stages(params, n_ports) * params.loss_per_stage_db


def switch_transmission(params: SwitchParams, n_ports: int) -> float:
    """Probability that a photon passes the switch: ``10^(-loss_db/10)``.

    Examples
    --------
    >>> round(switch_transmission(SwitchParams(loss_per_stage_db=1.0, architecture="multistage"), 8), 6)
    0.501187
    """
    return 10.0 ** (-switch_loss_db(params, n_ports) / 10.0)


@dataclass(eq=False)
class Circuit:
    """A (requested or established) circuit between two ports.

    Attributes
    ----------
    circuit_id : int
        Sequence number within the switch.
    port_a, port_b : int
        The joined ports.
    requested_ns : float
        Time of the request.
    granted_ns : float or None
        Time the fabric started configuring it (None while queued).
    ready_at_ns : float or None
        Time from which photons pass (None while queued).
    state : str
        "queued", "configuring", "ready", "released" or "cancelled".
    ready_event : simpy.Event
        Fires (value: the circuit) when it becomes usable; never fires if cancelled.
    """

    circuit_id: int
    port_a: int
    port_b: int
    requested_ns: float
    ready_event: simpy.Event
    granted_ns: float | None = None
    ready_at_ns: float | None = None
    state: str = "queued"

    def other(self, port: int) -> int:
        """The port joined to ``port``."""
        return self.port_b if port == self.port_a else self.port_a


@dataclass(frozen=True)
class CircuitRequest:
    """Outcome of :meth:`OpticalSwitch.connect`.

    Attributes
    ----------
    granted : bool
        True if the circuit is being configured now.
    queued : bool
        True if blocked and waiting in the queue (mode "queue").
    ready_at_ns : float or None
        When the circuit is usable (None if refused or queued; a queued circuit's time is
        set on :attr:`circuit` once granted).
    reason : str
        "" if granted, else why it was blocked ("max_circuits reached (M)",
        "port i busy", ...).
    circuit : Circuit or None
        The circuit (granted or queued); None if refused.
    """

    granted: bool
    queued: bool
    ready_at_ns: float | None
    reason: str
    circuit: Circuit | None = field(default=None)


class OpticalSwitch(Component):
    """An N-port optical circuit switch with ports ``p0 .. p{N-1}``.

    Parameters
    ----------
    name : str
        Component name.
    sim : Simulation
        Owning simulation.
    params : SwitchParams
        Loss, architecture, reconfiguration time, circuit limit.
    n_ports : int
        Number of ports N (>= 1).

    Notes
    -----
    A message of qubits entering port ``pi`` of a *ready* circuit leaves the other port
    immediately; each qubit survives with :func:`switch_transmission` and is otherwise lost
    (:func:`modenhub_net.qubits.lose`, replaced by None). Photon-number qubits
    (``message.meta["encoding"] == "presence"``, single-click heralding) are instead
    amplitude damped with ``gamma = 1 - transmission``, the exact action of the loss on a
    photon-number qubit (as in :class:`hardware_models.fibre.Fibre`). A message entering a port with no
    circuit, or whose circuit is still reconfiguring, is lost; the reason is counted in
    :attr:`drop_reasons` and traced.

    Queue mode serves waiting requests in FIFO order on each :meth:`release`, skipping
    requests that are still blocked (first fit), so a request for free ports is not held
    up behind one for a busy port.

    Counters (read-only properties, also :meth:`counters`): :attr:`n_photons_in`,
    :attr:`n_photons_passed`, :attr:`n_photons_lost` (= :attr:`n_photons_lost_insertion` +
    :attr:`n_photons_dropped`), :attr:`n_circuits_granted`, :attr:`n_circuits_blocked`,
    :attr:`n_circuits_released`.
    """

    def __init__(self, name: str, *, sim: Simulation, params: SwitchParams, n_ports: int) -> None:
        n = _check_n_ports(n_ports)
        super().__init__(name, sim=sim, port_names=[f"p{i}" for i in range(n)])
        self.params = params
        self.n_ports = n
        self.max_circuits = params.max_circuits if params.max_circuits is not None else n // 2
        self.transmission = switch_transmission(params, n)
        self._blocks: UniformBlocks | None = None  # transmit_list's draws (made on first use)
        self.loss_db = switch_loss_db(params, n)
        self._port_circuit: list[Circuit | None] = [None] * n
        self._active: dict[int, Circuit] = {}
        self._queue: deque[Circuit] = deque()
        self._next_id = 0
        self.drop_reasons: Counter[str] = Counter()
        self.photons_in = 0
        self.photons_passed = 0
        self.photons_lost_insertion = 0
        self._n_granted = 0
        self._n_blocked = 0
        self._n_released = 0
        for i in range(n):
            self.ports[f"p{i}"].bind_input_handler(self._make_handler(i))

    # -- counters (read-only) ---------------------------------------------------------
    @property
    def n_photons_in(self) -> int:
        """Photons (non-``None`` items) that entered any port."""
        return self.photons_in

    @property
    def n_photons_passed(self) -> int:
        """Photons that left through the other port of a ready circuit."""
        return self.photons_passed

    @property
    def n_photons_lost(self) -> int:
        """Photons that entered and did not leave: insertion loss plus drops (no circuit,
        circuit reconfiguring). Presence-encoded modes are damped, never lost, and pass."""
        return self.photons_lost_insertion + sum(self.drop_reasons.values())

    @property
    def n_photons_lost_insertion(self) -> int:
        """Photons lost to the insertion loss of a ready circuit."""
        return self.photons_lost_insertion

    @property
    def n_photons_dropped(self) -> int:
        """Photons dropped at a port with no ready circuit (reasons in :attr:`drop_reasons`)."""
        return sum(self.drop_reasons.values())

    @property
    def n_circuits_granted(self) -> int:
        """Circuits granted (configured), at once or later from the queue."""
        return self._n_granted

    @property
    def n_circuits_blocked(self) -> int:
        """Circuit requests blocked on arrival (refused or queued)."""
        return self._n_blocked

    @property
    def n_circuits_released(self) -> int:
        """Granted circuits torn down by :meth:`release`."""
        return self._n_released

    def counters(self) -> dict[str, int]:
        """All counters of this switch as a plain dict (names as the properties)."""
        return {
            name: getattr(self, name)
            for name in (
                "n_photons_in", "n_photons_passed", "n_photons_lost", "n_photons_lost_insertion",
                "n_photons_dropped", "n_circuits_granted", "n_circuits_blocked",
                "n_circuits_released",
            )
        }

    # -- circuits ---------------------------------------------------------------------
    @property
    def active_circuits(self) -> list[Circuit]:
        """Granted circuits (configuring or ready), in grant order."""
        return list(self._active.values())

    @property
    def queued_requests(self) -> list[Circuit]:
        """Requests waiting in the queue, oldest first."""
        return list(self._queue)

    def circuit_at(self, port: int) -> Circuit | None:
        """The granted circuit using ``port``, if any."""
        return self._port_circuit[self._check_port(port)]

    def connect(
        self, port_a: int, port_b: int, *, mode: Literal["refuse", "queue"] = "refuse"
    ) -> CircuitRequest:
        """Request a circuit joining ``port_a`` and ``port_b``.

        Parameters
        ----------
        port_a, port_b : int
            Distinct port indices in ``0 .. N-1``.
        mode : {"refuse", "queue"}
            What to do if blocked (circuit limit reached or a port busy): refuse at once, or
            queue until a :meth:`release` makes it possible.

        Returns
        -------
        CircuitRequest
            ``granted`` with ``ready_at_ns = now + reconfiguration_time_ns``, or a refusal /
            queue entry with the reason.
        """
        a, b = self._check_port(port_a), self._check_port(port_b)
        if a == b:
            raise UserInputError(f"{self.full_name}: a circuit needs two distinct ports, got {a} twice")
        if mode not in ("refuse", "queue"):
            raise UserInputError(f"{self.full_name}: mode = {mode!r} must be 'refuse' or 'queue'")
        now = self.sim.now_ns
        circuit = Circuit(self._next_id, a, b, now, self.sim.event())
        self._next_id += 1
        reason = self._blocked_reason(a, b)
        if not reason:
            self._grant(circuit)
            return CircuitRequest(True, False, circuit.ready_at_ns, "", circuit)
        self.sim.record(self.full_name, f"circuit {a}-{b} blocked: {reason}")
        self._n_blocked += 1
        if mode == "refuse":
            circuit.state = "cancelled"
            return CircuitRequest(False, False, None, reason, None)
        self._queue.append(circuit)
        return CircuitRequest(False, True, None, reason, circuit)

    def release(self, circuit: Circuit) -> None:
        """Tear down a granted circuit (or withdraw a queued one), then serve the queue."""
        if circuit.state == "queued":
            self._queue.remove(circuit)
            circuit.state = "cancelled"
            return
        if (
            circuit.state not in ("configuring", "ready")
            or self._active.get(circuit.circuit_id) is not circuit
        ):
            raise ValueError(
                f"{self.full_name}: circuit {circuit.circuit_id} is not active ({circuit.state})"
            )
        del self._active[circuit.circuit_id]
        self._port_circuit[circuit.port_a] = None
        self._port_circuit[circuit.port_b] = None
        circuit.state = "released"
        self._n_released += 1
        self._serve_queue()

    # -- internals --------------------------------------------------------------------
    def _blocked_reason(self, a: int, b: int) -> str:
        for port in (a, b):
            if self._port_circuit[port] is not None:
                return f"port {port} busy (circuit {self._port_circuit[port].circuit_id})"
        if len(self._active) >= self.max_circuits:
            return f"max_circuits reached ({self.max_circuits})"
        return ""

    def _grant(self, circuit: Circuit) -> None:
        now = self.sim.now_ns
        delay = self.params.reconfiguration_time_ns
        circuit.granted_ns = now
        circuit.ready_at_ns = now + delay
        circuit.state = "configuring"
        self._n_granted += 1
        self._active[circuit.circuit_id] = circuit
        self._port_circuit[circuit.port_a] = circuit
        self._port_circuit[circuit.port_b] = circuit
        if delay == 0.0:
            self._mark_ready(circuit)
        else:
            timer = self.sim.env.timeout(delay)
            timer.callbacks.append(lambda _event: self._mark_ready(circuit))

    def _mark_ready(self, circuit: Circuit) -> None:
        if circuit.state == "configuring":
            circuit.state = "ready"
            circuit.ready_event.succeed(circuit)

    def _serve_queue(self) -> None:
        waiting, self._queue = self._queue, deque()
        for circuit in waiting:
            if not self._blocked_reason(circuit.port_a, circuit.port_b):
                self._grant(circuit)
            else:
                self._queue.append(circuit)

    def _check_port(self, port: int) -> int:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < self.n_ports:
            raise UserInputError(
                f"{self.full_name}: port = {port!r} must be an integer in 0..{self.n_ports - 1}"
            )
        return port

    def count(self, *, photons_in: int = 0, passed: int = 0, lost_insertion: int = 0) -> None:
        """Add to the photon counters in bulk (photons handled by :meth:`transmit_batch` or
        by a caller that drew them from the closed form). Every value is an int >= 0."""
        self.photons_in += photons_in
        self.photons_passed += passed
        self.photons_lost_insertion += lost_insertion

    def transmit_batch(
        self, port: int, present: np.ndarray, *, presence: bool = False,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """Photons entering ``port``, one per entry of ``present``, as one array step.

        The same rules as a message at ``port`` (:class:`OpticalSwitch`): without a ready
        circuit every photon is dropped (counted by reason); otherwise each passes with
        :attr:`transmission` (insertion loss), or, with ``presence`` (photon-number qubits,
        single click), every mode passes and its loss is the amplitude damping of
        :meth:`damp_presence`, which the caller applies to the modes' state. Counters are
        updated. Returns the photons at the other end of the circuit (a bool array).
        """
        present = np.asarray(present, dtype=bool)
        n_in = int(present.sum())
        self.photons_in += n_in
        reason = self._port_drop_reason(port)
        if reason is not None:
            self.drop_reasons[reason] += n_in
            return np.zeros_like(present)
        if n_in and self.transmission < 1.0 and not presence:
            rng = self.rng if rng is None else rng
            out = present & (rng.random(present.shape[0]) < self.transmission)
            n_out = int(out.sum())
            self.photons_lost_insertion += n_in - n_out
        else:
            out, n_out = present, n_in
        self.photons_passed += n_out
        return out

    def _port_drop_reason(self, port: int) -> str | None:
        """Why a photon entering ``port`` cannot pass now (``"no circuit"``, ``"circuit
        reconfiguring"``), or None; a circuit whose reconfiguration time is over becomes ready."""
        circuit = self._port_circuit[self._check_port(port)]
        if circuit is None:
            return "no circuit"
        if circuit.state != "ready":
            if circuit.ready_at_ns is not None and self.sim.env.now >= circuit.ready_at_ns:
                self._mark_ready(circuit)
            else:
                return "circuit reconfiguring"
        return None

    def transmit_list(self, port: int, present: list[bool], *, presence: bool = False,
                      rng: np.random.Generator | None = None) -> list[bool]:
        """:meth:`transmit_batch` on plain lists (the same rules and counters), for a round of
        a few attempts where numpy's per-call cost would dominate; the insertion-loss draws
        come from the switch's own stream in blocks (:class:`hardware_models.draws.UniformBlocks`),
        or, with ``rng``, from one ``rng.random(len(present))`` call."""
        n_in = sum(present)
        self.photons_in += n_in
        reason = self._port_drop_reason(port)
        if reason is not None:
            self.drop_reasons[reason] += n_in
            return [False] * len(present)
        eta = self.transmission
        if n_in and eta < 1.0 and not presence:
            u = device_uniforms(self, len(present), rng)
            out = [p and x < eta for p, x in zip(present, u, strict=True)]
            n_out = sum(out)
            self.photons_lost_insertion += n_in - n_out
        else:
            out, n_out = list(present), n_in
        self.photons_passed += n_out
        return out

    def damp_presence(self, qubit: Any) -> None:
        """One insertion pass of a photon-number ("presence") qubit: amplitude damping with
        ``gamma = 1 - transmission`` (as in :class:`hardware_models.Fibre`; Nielsen & Chuang
        §8.3.5). Not counted (see :meth:`count`)."""
        if self.transmission < 1.0:
            from modenhub_net.qubits import amplitude_damp

            amplitude_damp(qubit, 1.0 - self.transmission)

    def _make_handler(self, port: int):
        def handler(message: Message) -> None:
            self._on_input(port, message)

        return handler

    def _drop(self, message: Message, reason: str) -> None:
        from modenhub_net.qubits import lose

        for qubit in message.items:
            if qubit is not None:
                lose(qubit)
                self.drop_reasons[reason] += 1
        self.sim.record(self.full_name, f"photon lost: {reason}")

    def _on_input(self, port: int, message: Message) -> None:
        self.photons_in += sum(1 for q in message.items if q is not None)
        circuit = self._port_circuit[port]
        if circuit is None:
            self._drop(message, "no circuit")
            return
        if circuit.state != "ready":
            if circuit.ready_at_ns is not None and self.sim.env.now >= circuit.ready_at_ns:
                self._mark_ready(circuit)  # same instant as the ready timer: usable
            else:
                self._drop(message, "circuit reconfiguring")
                return
        eta = self.transmission
        if eta < 1.0 and message.meta.get("encoding") == "presence":
            # photon-number qubit (|1> = one photon): a lossy pass is a beam splitter to the
            # environment, i.e. amplitude damping with gamma = 1 - eta (as in Fibre); the
            # qubit itself (its vacuum branch) passes on
            from modenhub_net.qubits import amplitude_damp

            for qubit in message.items:
                if qubit is not None:
                    amplitude_damp(qubit, 1.0 - eta)
            message = Message(tuple(message.items), dict(message.meta))
        elif eta < 1.0:
            from modenhub_net.qubits import lose

            rng = self.rng
            items = []
            for qubit in message.items:
                if qubit is not None and rng.random() >= eta:
                    lose(qubit)
                    self.photons_lost_insertion += 1
                    qubit = None
                items.append(qubit)
            message = Message(tuple(items), dict(message.meta))
        self.photons_passed += sum(1 for q in message.items if q is not None)
        self.ports[f"p{circuit.other(port)}"].tx_output(message)
