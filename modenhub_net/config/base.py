"""Strict, frozen pydantic models and user-facing validation errors.

Every scenario section is a :class:`StrictModel`: unknown keys are rejected, values are
frozen once loaded, and a failed validation becomes one :class:`UserInputError` whose
message names the file, the field path, the value given and what is allowed.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from modenhub_net.errors import UserInputError

__all__ = [
    "ParamsModel",
    "params_validation_error",
    "StrictModel",
    "format_validation_error",
    "load_toml",
    "validate_document",
]

ModelT = TypeVar("ModelT", bound=BaseModel)


class StrictModel(BaseModel):
    """Base of all configuration models: unknown keys rejected, instances frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    def canonical_json(self) -> str:
        """Canonical JSON (sorted keys, no whitespace) used to hash a scenario point."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


class ParamsModel(StrictModel):
    """Base of device-parameter models built from Python code.

    Same rules as :class:`StrictModel`, but constructing one with a bad value raises
    :class:`UserInputError` (message: ``ClassName: field = value: allowed range``)
    instead of pydantic's ``ValidationError``.

    Examples
    --------
    >>> from pydantic import Field
    >>> class Demo(ParamsModel):
    ...     length_km: float = Field(1.0, ge=0.0)
    >>> try:
    ...     Demo(length_km=-1)
    ... except UserInputError as error:
    ...     print(error)
    Demo: length_km = -1: Input should be greater than or equal to 0
    """

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise params_validation_error(exc, source=type(self).__name__) from None


def params_validation_error(error: ValidationError, *, source: str) -> UserInputError:
    """A :class:`UserInputError` for a rejected :class:`ParamsModel` construction.

    It keeps pydantic's structured errors in ``.details`` so that, when the model is nested
    inside a scenario document, :func:`format_validation_error` can report the full field
    path (``hardware.fibre.length_km``) instead of the whole sub-document.
    """
    details = error.errors(include_url=False)
    exc = UserInputError(_format_items(details, source=source))
    exc.details = details  # type: ignore[attr-defined]
    return exc


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML scenario file.

    Raises
    ------
    UserInputError
        If the file is missing, unreadable or not valid TOML (with line and column).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserInputError(f"{path}: no such scenario file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"{path}: cannot read scenario file ({exc})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserInputError(f"{path}: invalid TOML: {exc}") from None


def _field_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "<document>"


def _expand_nested(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replace errors raised by nested :class:`ParamsModel` constructors by their details."""
    expanded: list[dict[str, Any]] = []
    for item in items:
        inner = (item.get("ctx") or {}).get("error")
        if isinstance(inner, UserInputError) and hasattr(inner, "details"):
            prefix = tuple(item.get("loc", ()))
            for detail in _expand_nested(inner.details):
                expanded.append({**detail, "loc": prefix + tuple(detail.get("loc", ()))})
        else:
            expanded.append(item)
    return expanded


#: a rule message that starts by naming one field: ``memory_t2_ns = 5e6 > 2 * memory_t1_ns``
_FIELD_HEAD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*) = ")


def _rule_text(message: str) -> str:
    """A validator's message without pydantic's ``Value error, `` / ``Assertion failed, ``."""
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def format_validation_error(error: ValidationError, *, source: str) -> str:
    """Turn a pydantic ``ValidationError`` into lines ``source: field = value: message``."""
    return _format_items(error.errors(include_url=False), source=source)


def _format_items(items: list[dict[str, Any]], *, source: str) -> str:
    lines = []
    for item in _expand_nested(items):
        path = _field_path(tuple(item.get("loc", ())))
        kind = item.get("type", "")
        message = _rule_text(item.get("msg", "invalid value"))
        if kind == "extra_forbidden":
            lines.append(f"{source}: {path}: unknown key (not allowed here)")
            continue
        if kind == "missing":
            lines.append(f"{source}: {path}: required field is missing")
            continue
        if not item.get("loc"):  # a whole-document rule: the message says it all
            lines.append(f"{source}: {message}")
            continue
        value = item.get("input")
        if isinstance(value, Mapping) and kind in ("value_error", "assertion_error"):
            # a rule over a whole table (e.g. T2 <= 2 T1): name the table, not its contents;
            # "field = value ..." of one of its fields becomes "table.field = value ..."
            head = _FIELD_HEAD.match(message)
            joined = "." if head is not None and head.group(1) in value else ": "
            lines.append(f"{source}: {path}{joined}{message}")
            continue
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        lines.append(f"{source}: {path} = {shown}: {message}")
    return "\n".join(lines)


def validate_document(model: type[ModelT], document: Any, *, source: str) -> ModelT:
    """Validate a parsed document against a model, raising a user-facing error.

    Parameters
    ----------
    model : type
        A :class:`StrictModel` subclass.
    document : Any
        Parsed TOML (a dict) or any mapping.
    source : str
        Where the document came from (file name, ``"--seed"``), used in messages.
    """
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise UserInputError(format_validation_error(exc, source=source)) from None
