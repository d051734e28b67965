"""A minimal TOML writer for tests (inline tables only): dict -> TOML text."""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["dumps"]


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_string(str(k))} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def dumps(document: dict[str, Any]) -> str:
    """TOML text of a document: one ``"key" = value`` line per top-level key."""
    return "".join(f"{_string(str(k))} = {_value(v)}\n" for k, v in document.items())
