"""Strong ids of sweep points: sha256 of canonical JSON (the stim/sinter idea).

The id of a point is ``sha256(canonical_json({"config": ..., "seed": ..., "code_version": ...}))``
where ``config`` is the *validated* scenario (defaults filled in), so two documents that differ
only in formatting, key order or in spelling out a default get the same id.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["canonical_json", "point_key"]


def _plain(value: Any) -> Any:
    """JSON-ready copy: tuples become lists, non-finite floats become tagged strings."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return _plain(value.item())
    return value


def canonical_json(value: Any) -> str:
    """Canonical JSON text: sorted keys, no whitespace, UTF-8, non-finite floats tagged.

    Examples
    --------
    >>> canonical_json({"b": (1, 2.0), "a": float("inf")})
    '{"a":"inf","b":[1,2.0]}'
    """
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def point_key(config: Mapping[str, Any], *, seed: int, code_version: str) -> str:
    """Result id of one sweep point (64 hex digits).

    Parameters
    ----------
    config : mapping
        The validated scenario document of the point (``model_dump()`` of its model).
    seed : int
        Root seed of the point (>= 0).
    code_version : str
        ``modenhub_net.__version__`` of the code that computes the point.
    """
    text = canonical_json({"config": config, "seed": int(seed), "code_version": code_version})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
