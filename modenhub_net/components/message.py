"""Messages carried by ports and channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Message"]


@dataclass(slots=True)
class Message:
    """A message: a tuple of items (classical values or qubits) plus metadata.

    Parameters
    ----------
    items : tuple
        Payload. On a quantum channel each item is a qubit, replaced by ``None`` if lost.
    meta : dict, optional
        Header fields (e.g. ``{"header": "herald", "round": 3}``).

    Examples
    --------
    >>> Message(("ok", 1), meta={"header": "herald"}).meta["header"]
    'herald'
    """

    items: tuple[Any, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.items, tuple):
            self.items = tuple(self.items) if isinstance(self.items, list) else (self.items,)
