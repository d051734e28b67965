"""The handle of an entangled pair, as the classical control plane sees it.

The orchestrator, the cache and the protocols pass :class:`PairHandle` objects around; a
handle names where the two halves are stored (node and memory slot) and when the pair was
heralded. Only the protocols that run *at* a node (correction, teleportation) touch the
qubits, through that node's memory. A handle's ``status`` makes the life cycle explicit, so
that a pair is consumed at most once and a discarded pair is never served:

``"pending"`` (heralded, Pauli correction not yet applied) -> ``"ready"`` ->
``"cached"`` -> ``"served"`` (consumed) or ``"discarded"`` (cut off, evicted, surplus).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["PairHandle", "PairStatus", "PairLifecycleError"]

PairStatus = str
_TERMINAL = frozenset({"served", "discarded"})


class PairLifecycleError(RuntimeError):
    """A pair was used after it had been consumed or discarded (a simulator bug)."""


@dataclass(eq=False)
class PairHandle:
    """Classical description of one heralded pair between QPUs ``node_a`` and ``node_b``.

    Attributes
    ----------
    pair_id : int
        Unique id within a run.
    node_a, node_b : int
        QPU indices of the two ends (``node_a`` is the side that does not correct).
    slot_a, slot_b : Any
        Memory slot references of the two halves (owned by the nodes' memories).
    heralded_ns : float
        Time the hub heralded the pair, in ns.
    ready_ns : float
        Time the Pauli-frame correction was applied at ``node_b``, in ns (NaN while pending).
    fidelity_estimate : float
        The link budget's fidelity of a fresh pair with Phi+ (classical knowledge: used for
        eviction by lowest estimated fidelity, never reported as a measured fidelity).
    bell_index : int
        Heralded Bell state before correction (0..3: Phi+, Phi-, Psi+, Psi-).
    status : str
        See the module docstring.
    meta : dict
        Free-form extras (e.g. the round and mode that produced it).
    """

    pair_id: int
    node_a: int
    node_b: int
    slot_a: Any
    slot_b: Any
    heralded_ns: float
    fidelity_estimate: float = 1.0
    bell_index: int = 0
    ready_ns: float = float("nan")
    status: PairStatus = "pending"
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def pair(self) -> tuple[int, int]:
        """Unordered QPU pair ``(min, max)``."""
        a, b = self.node_a, self.node_b
        return (a, b) if a < b else (b, a)

    def age_ns(self, now_ns: float) -> float:
        """Time since the herald, in ns."""
        return now_ns - self.heralded_ns

    @property
    def alive(self) -> bool:
        """True until the pair is served or discarded."""
        return self.status not in _TERMINAL

    def mark(self, status: PairStatus) -> None:
        """Move to ``status``; leaving a terminal status raises :class:`PairLifecycleError`."""
        if self.status in _TERMINAL:
            raise PairLifecycleError(
                f"pair {self.pair_id} ({self.node_a}-{self.node_b}) is already {self.status}; "
                f"cannot become {status}"
            )
        self.status = status
