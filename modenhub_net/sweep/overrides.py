"""``--set FIELD=VALUE``: command-line overrides of single scenario fields.

An override is applied to the parsed TOML document *before* validation, so it is validated
exactly like the file (same types, ranges and cross-field rules). The value is read as a TOML
literal (``true``, ``1e9``, ``"text"``, ``[1, 2]``, ``{ first = 2, last = 8 }``); the field
is a dotted path as in sweep grids (``hub.memory_t2_ns``, ``network.qpus[0].preset``). A field
the scenario does not have is refused with the closest valid field suggested
(:func:`difflib.get_close_matches`); an invalid value is refused naming ``--set FIELD``.
"""

from __future__ import annotations

import copy
import difflib
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modenhub_net.errors import UserInputError
from modenhub_net.sweep.spec import FIELD_PATH

__all__ = ["Override", "apply_overrides", "field_paths", "parse_override"]

#: fields that ``--set`` may not change (the kind selects the scenario model)
FORBIDDEN = ("kind",)


@dataclass(frozen=True)
class Override:
    """One ``--set FIELD=VALUE``.

    Attributes
    ----------
    path : str
        Dotted field path, e.g. ``hub.memory_t2_ns``.
    value : Any
        The value, parsed as a TOML literal.
    text : str
        The value as typed (for messages).
    """

    path: str
    value: Any
    text: str

    @property
    def flag(self) -> str:
        """``--set FIELD`` (how messages name this override)."""
        return f"--set {self.path}"


def parse_override(text: str) -> Override:
    """Parse ``FIELD=VALUE`` (the argument of ``--set``).

    Raises
    ------
    UserInputError
        If there is no ``=``, the field is not a dotted path, or the value is not a TOML
        literal.

    Examples
    --------
    >>> parse_override("hub.memory_t2_ns=1e9").value
    1000000000.0
    >>> parse_override('name="x"').value
    'x'
    """
    path, sep, value_text = text.partition("=")
    path = path.strip()
    if not sep:
        raise UserInputError(f"--set {text!r}: expected FIELD=VALUE, e.g. --set model.beta=0.5")
    if not FIELD_PATH.match(path):
        raise UserInputError(
            f"--set {path!r}: not a field path (dotted names, list items as [i], e.g. "
            "model.beta or network.qpus[0].fibre_length_km)"
        )
    if path in FORBIDDEN:
        raise UserInputError(f"--set {path}: the kind selects the scenario model and cannot be "
                             "changed; use another scenario file")
    try:
        value = tomllib.loads(f"v = {value_text.strip()}\n")["v"]
    except (tomllib.TOMLDecodeError, KeyError):
        raise UserInputError(
            f"--set {path} = {value_text!r} is not a TOML value (numbers as 1e9 or 3, "
            f"true/false, strings in quotes: --set {path}='\"text\"', lists as [1, 2])"
        ) from None
    return Override(path=path, value=value, text=value_text.strip())


def field_paths(dump: Any, prefix: str = "") -> list[str]:
    """Every field path of a validated document (tables, leaves and list items)."""
    paths: list[str] = []
    if isinstance(dump, Mapping):
        for key, item in dump.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            paths.append(path)
            paths += field_paths(item, path)
    elif isinstance(dump, (list, tuple)):
        for index, item in enumerate(dump):
            if isinstance(item, Mapping):
                path = f"{prefix}[{index}]"
                paths.append(path)
                paths += field_paths(item, path)
    return paths


def check_paths(overrides: Sequence[Override], dump: Mapping[str, Any], *,
                kind: object) -> None:
    """Refuse an override of a field the validated scenario does not have (closest suggested)."""
    from modenhub_net.sweep.grid import _MISSING, get_path, split_path

    for item in overrides:
        if get_path(dump, split_path(item.path)) is _MISSING:
            close = difflib.get_close_matches(item.path, field_paths(dump), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise UserInputError(f"{item.flag}: no such field in a kind = {kind!r} scenario{hint}")


def check_distinct(overrides: Iterable[Override]) -> None:
    """Refuse the same field given twice."""
    seen: set[str] = set()
    for item in overrides:
        if item.path in seen:
            raise UserInputError(f"{item.flag} is given twice; give each field once")
        seen.add(item.path)


def apply_overrides(document: Mapping[str, Any], overrides: Sequence[Override]) -> dict[str, Any]:
    """A copy of ``document`` with every override set (missing tables created).

    Raises
    ------
    UserInputError
        If a path goes through a list item the document does not have.
    """
    from modenhub_net.sweep.grid import set_path, split_path

    result = copy.deepcopy(dict(document))
    for item in overrides:
        try:
            set_path(result, split_path(item.path), copy.deepcopy(item.value))
        except KeyError:
            raise UserInputError(
                f"{item.flag}: the scenario file has no such item (list items must exist in "
                "the file)"
            ) from None
    return result


def check_flag_conflicts(overrides: Sequence[Override], with_flags: Any, without_flags: Any,
                         flags: Mapping[str, Any]) -> None:
    """Refuse a ``--set`` field that a flag such as ``--trials`` overrides as well.

    Parameters
    ----------
    overrides : sequence of Override
        The ``--set`` items.
    with_flags, without_flags : model
        The validated scenario with and without the flags applied (overrides in both).
    flags : mapping
        Flag -> value given (None: not given), for the message.
    """
    from modenhub_net.sweep.grid import get_path, split_path

    given = [flag for flag, value in flags.items() if value is not None]
    if not overrides or not given:
        return
    a, b = with_flags.model_dump(), without_flags.model_dump()
    for item in overrides:
        parts = split_path(item.path)
        if get_path(a, parts) != get_path(b, parts):
            raise UserInputError(f"{' / '.join(given)} and {item.flag} set the same field; "
                                 "give one")


def validate_with_overrides(
    document: Mapping[str, Any],
    overrides: Sequence[Override],
    load: Callable[[Mapping[str, Any]], Any],
    *,
    kind: object,
) -> tuple[dict[str, Any], Any]:
    """Apply and validate overrides; an error caused by one names it as ``--set FIELD``.

    Parameters
    ----------
    document : mapping
        The parsed scenario file.
    overrides : sequence of Override
        The ``--set`` items, in command-line order.
    load : callable
        ``load(document)`` validates a document and returns the scenario model (raising
        ``UserInputError``).
    kind : object
        The scenario kind (for messages).

    Returns
    -------
    (dict, model)
        The document with the overrides applied, and its validated model.
    """
    check_distinct(overrides)
    if not overrides:
        return dict(document), load(document)
    try:
        base = load(document)
    except UserInputError:
        base = None  # the file alone is invalid (an override may complete it)
    if base is not None:
        check_paths(overrides, base.model_dump(), kind=kind)
    merged = apply_overrides(document, overrides)
    try:
        return merged, load(merged)
    except UserInputError as exc:
        if base is None:
            raise
        for item in overrides:
            try:
                load(apply_overrides(document, [item]))
            except UserInputError as single:
                raise UserInputError(f"{item.flag} = {item.text} is not allowed here: {single}") \
                    from None
        raise UserInputError(f"--set: these values do not go together: {exc}") from None
