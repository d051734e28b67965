"""The shipped scenario files of the studies, for reduced-size runs in the tests."""

from __future__ import annotations

import tomllib
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def shipped(name: str, **over) -> dict:
    """``scenarios/<name>.toml`` as a document, with top-level keys or sections updated by ``over``.

    A dict value updates the section of that name key by key (the rest of the section stays as
    shipped); any other value replaces the key.
    """
    with open(SCENARIOS / f"{name}.toml", "rb") as fh:
        doc = tomllib.load(fh)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(doc.get(key), dict):
            doc[key] = {**doc[key], **value}
        else:
            doc[key] = value
    return doc
