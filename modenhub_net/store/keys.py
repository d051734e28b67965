"""Strong ids of sweep points: sha256 of canonical JSON (the stim/sinter idea).

The id of a point is ``sha256(canonical_json({"config": ..., "seed": ..., "code_version": ...}))``
where ``config`` is the *validated* scenario (defaults filled in), so two documents that differ
only in formatting, key order or in spelling out a default get the same id.

``code_version`` is the release version (``modenhub_net.__version__``) only, not a hash of the
sources. A source hash in the id would make every edit (a docstring, a plot, a module the
point never imports) orphan every finished point of every sweep, and a researcher resuming a
day-long sweep after ``git pull`` would silently lose it all. Instead each point file records
:func:`source_digest` of the tree that computed it, and a resumed sweep reports how many reused
points came from a different tree; a change that alters results must bump the version (which
does change every id). See the reproducibility contract in the README.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["canonical_json", "point_key", "source_digest"]


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


#: file types that can change what a point computes (code and shipped data such as presets)
SOURCE_SUFFIXES = (".py", ".toml")


def source_digest(roots: Iterable[str | Path]) -> str:
    """sha256 of every source file under ``roots`` (16 hex digits): a fingerprint of the code.

    Files are visited in sorted order of their path relative to their root (prefixed by the
    root's folder name), so the digest is the same on every machine and checkout location;
    caches (``__pycache__``) and hidden files are skipped.

    Parameters
    ----------
    roots : iterable of str or Path
        Package folders, e.g. ``modenhub_net/`` and ``hardware_models/``.

    Examples
    --------
    >>> import modenhub_net, pathlib
    >>> root = pathlib.Path(modenhub_net.__file__).parent
    >>> source_digest([root]) == source_digest([root]) and len(source_digest([root])) == 16
    True
    """
    digest = hashlib.sha256()
    files: list[tuple[str, Path]] = []
    for root in roots:
        root = Path(root)
        for path in root.rglob("*"):
            relative = path.relative_to(root)
            if (path.suffix in SOURCE_SUFFIXES and path.is_file()
                    and not any(part.startswith((".", "__pycache__")) for part in relative.parts)):
                files.append((f"{root.name}/{relative.as_posix()}", path))
    for name, path in sorted(files):
        data = path.read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()[:16]
