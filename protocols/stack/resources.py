"""The orchestrator's map of the hub's resources: its own bookkeeping, built from messages.

The map never looks at a device: it starts from the hub's published capacities (numbers of
lanes, parallel-attempt devices, communication qubits per QPU) and changes only when the
orchestrator grants or takes back a resource (on a request, a herald or a ``done`` message).
It also integrates, over time, how many units of each resource are busy, which gives the
utilisation (busy-time fraction) of the switch circuits, the devices and the memory slots.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Capacities", "ResourceMap"]


@dataclass(frozen=True)
class Capacities:
    """What the hub offers (published by the network, classical knowledge).

    Attributes
    ----------
    n_qpus : int
        Number of QPUs N (>= 2).
    lanes : int
        QPU pairs the switch can join at once (each lane is two switch circuits).
    devices : int
        Parallel-attempt device units: BSM stations, SPDC sources or hub-memory slots.
    device_kind : str
        ``"bsm_stations"``, ``"sources"`` or ``"hub_memory_slots"``.
    device_cost : int
        Device units one parallel attempt reserves for a whole request (1 for stations and
        sources; ``R + 1`` hub slots for ``hub_memory_swap``, whose unmatched legs carry over
        between the request's R rounds).
    comm_qubits : tuple of int
        Communication qubits per QPU.
    qubit_cost : int, optional
        Communication qubits one parallel attempt reserves at each end for the whole request
        (1; R for ``hub_memory_swap``, whose unmatched legs hold QPU qubits across rounds).
    """

    n_qpus: int
    lanes: int
    devices: int
    device_kind: str
    device_cost: int
    comm_qubits: tuple[int, ...]
    qubit_cost: int = 1


class ResourceMap:
    """Busy / free state of the hub's resources as the orchestrator knows it.

    Parameters
    ----------
    capacities : Capacities
    now_ns : float
        Start time of the busy-time integrals (ns).
    """

    def __init__(self, capacities: Capacities, *, now_ns: float = 0.0) -> None:
        self.capacities = capacities
        n = capacities.n_qpus
        self.port_busy: list[bool] = [False] * n
        self.free_ports: set[int] = set(range(n))  # QPUs whose optical port is in no lane
        self.lanes_busy = 0
        self.devices_busy = 0
        self.qubits_held: list[int] = [0] * n  # pairs in use or cached
        self.qubits_reserved: list[int] = [0] * n  # reserved by a generating request
        self._qubits_total = sum(capacities.comm_qubits)
        self._qubits_busy = 0
        self._t0 = self._last = float(now_ns)
        self._area = {"lanes": 0.0, "devices": 0.0, "qubits": 0.0}

    # -- time integrals ------------------------------------------------------------------
    def _advance(self, now_ns: float) -> None:
        dt = now_ns - self._last
        if dt > 0.0:
            area = self._area
            area["lanes"] += self.lanes_busy * dt
            area["devices"] += self.devices_busy * dt
            area["qubits"] += self._qubits_busy * dt
            self._last = now_ns

    def utilisation(self, now_ns: float) -> dict[str, float]:
        """Busy-time fractions since the start: switch circuits (lanes), devices, memory slots.

        Each is ``(1 / T) integral busy(t) dt / capacity`` over ``T = now - start`` (NaN for
        ``T = 0``).
        """
        self._advance(now_ns)
        span = now_ns - self._t0
        caps = self.capacities
        if span <= 0.0:
            return {"switch_circuits": math.nan, caps.device_kind: math.nan, "memory_slots": math.nan}
        return {
            "switch_circuits": self._area["lanes"] / (span * caps.lanes),
            caps.device_kind: self._area["devices"] / (span * caps.devices),
            "memory_slots": self._area["qubits"] / (span * self._qubits_total),
        }

    # -- queries ---------------------------------------------------------------------------
    def free_lanes(self) -> int:
        return self.capacities.lanes - self.lanes_busy

    def free_devices(self) -> int:
        """Free device units (not parallel attempts: divide by ``device_cost``)."""
        return self.capacities.devices - self.devices_busy

    def free_attempts(self) -> int:
        """Parallel attempts the free device units allow."""
        return self.free_devices() // self.capacities.device_cost

    def free_qubits(self, node: int) -> int:
        return self.capacities.comm_qubits[node] - self.qubits_held[node] - self.qubits_reserved[node]

    def free_qubit_attempts(self, node: int) -> int:
        """Parallel attempts the free communication qubits of ``node`` allow."""
        return self.free_qubits(node) // self.capacities.qubit_cost

    def ports_free(self, key: Sequence[int]) -> bool:
        return not (self.port_busy[key[0]] or self.port_busy[key[1]])

    # -- changes ---------------------------------------------------------------------------
    def _qubits(self, delta: int) -> None:
        self._qubits_busy += delta

    def reserve(self, key: Sequence[int], k: int, *, now_ns: float) -> None:
        """A request on QPUs ``key`` starts generating with ``k`` parallel attempts."""
        self._advance(now_ns)
        a, b = key
        self.port_busy[a] = self.port_busy[b] = True
        self.free_ports.discard(a)
        self.free_ports.discard(b)
        self.lanes_busy += 1
        self.devices_busy += k * self.capacities.device_cost
        q = k * self.capacities.qubit_cost
        self.qubits_reserved[a] += q
        self.qubits_reserved[b] += q
        self._qubits(2 * q)

    def release(self, key: Sequence[int], k: int, *, now_ns: float) -> None:
        """The request's rounds ended: its ports, lane, devices and reservations are free."""
        self._advance(now_ns)
        a, b = key
        self.port_busy[a] = self.port_busy[b] = False
        self.free_ports.add(a)
        self.free_ports.add(b)
        self.lanes_busy -= 1
        self.devices_busy -= k * self.capacities.device_cost
        q = k * self.capacities.qubit_cost
        self.qubits_reserved[a] -= q
        self.qubits_reserved[b] -= q
        self._qubits(-2 * q)

    def hold_pair(self, a: int, b: int, *, now_ns: float) -> None:
        """A heralded pair occupies one qubit at ``a`` and one at ``b`` (in use or cached)."""
        self._advance(now_ns)
        self.qubits_held[a] += 1
        self.qubits_held[b] += 1
        self._qubits(2)

    def free_pair(self, a: int, b: int, *, now_ns: float) -> None:
        """A pair's qubits are free again (consumed, discarded or evicted)."""
        self._advance(now_ns)
        self.qubits_held[a] -= 1
        self.qubits_held[b] -= 1
        self._qubits(-2)
