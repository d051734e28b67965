"""Strict, frozen pydantic models, user-facing validation errors and the scenario reader.

Every scenario section is a :class:`StrictModel`: unknown keys are rejected (with the closest
valid key suggested), values are frozen once loaded, and a failed validation becomes one
:class:`UserInputError` whose message names the file, the field path, the value given and
what is allowed.

Type rules (one mechanism for scenario files, sweep files and the Python API)
-----------------------------------------------------------------------------
Every :class:`StrictModel` validates in pydantic's strict mode plus these rules, applied to
each field before its own constraints:

- a boolean is not a number: ``true`` for a ``float`` or ``int`` field is refused;
- a float is not a count: ``2.0`` or ``1e300`` for an ``int`` field is refused; an integer
  is accepted for a ``float`` field (TOML writes ``1`` for ``1.0``);
- a string is not a number (``"0.5"`` is refused);
- a count must fit in a signed 64-bit integer unless the field sets a smaller bound;
- NaN is refused for every number; ``inf``/``-inf`` are refused for a ``float`` field unless
  infinity is one of its documented values: its default is infinite (``t1_ns = inf``: no
  decay) or it declares ``Field(allow_inf_nan=True)``. Use :data:`FiniteFloat` in
  annotations to state finiteness explicitly;
- a list is accepted where a tuple is expected (TOML and JSON have no tuples), and numpy
  scalars are accepted as the Python numbers they hold (``numpy.int64(3)`` as a count,
  ``numpy.bool_`` only as a boolean).

Reading scenario files
----------------------
:func:`load_toml` refuses files over :data:`MAX_SCENARIO_BYTES`, anything that is not a
regular file (devices such as ``/dev/zero``, FIFOs, folders), bytes that are not UTF-8 and
documents nested deeper than :data:`MAX_TOML_DEPTH`, each with one line naming the path.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import stat
import tomllib
import types
import typing
from collections.abc import Mapping, Sized
from pathlib import Path
from typing import Annotated, Any, TypeVar

import annotated_types
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from modenhub_net.errors import UserInputError

__all__ = [
    "FiniteFloat",
    "check_count",
    "check_number",
    "MAX_SCENARIO_BYTES",
    "MAX_TOML_DEPTH",
    "ParamsModel",
    "params_validation_error",
    "StrictModel",
    "format_validation_error",
    "load_toml",
    "validate_document",
]

ModelT = TypeVar("ModelT", bound=BaseModel)

#: a float that must be finite (NaN and +-inf refused), for annotations
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]

#: largest scenario file read (bytes); a scenario is a few kB
MAX_SCENARIO_BYTES = 1 << 20
#: deepest nesting of tables and arrays accepted in a scenario file (shipped files use <= 5)
MAX_TOML_DEPTH = 24
#: default upper bound of a count (``int`` field) that sets no bound of its own
MAX_COUNT = 2**63 - 1


# -- field rules -------------------------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """``X`` for ``Annotated[X, ...]``."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _union_members(annotation: Any) -> tuple[Any, ...] | None:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return tuple(_unwrap(a) for a in typing.get_args(annotation))
    return None


def _number_kind(annotation: Any) -> str | None:
    """``"int"`` or ``"float"`` for a field typed ``int``/``float`` (optionally ``| None``)."""
    annotation = _unwrap(annotation)
    members = _union_members(annotation)
    if members is not None:
        rest = [m for m in members if m is not type(None)]
        if len(rest) != 1:
            return None
        annotation = rest[0]
    if annotation is float:
        return "float"
    if annotation is int:
        return "int"
    return None


def _tuple_shape(annotation: Any) -> Any:
    """The tuple annotation inside ``annotation`` (``tuple[X, ...] | None`` -> ``tuple[X, ...]``)."""
    annotation = _unwrap(annotation)
    if typing.get_origin(annotation) is tuple:
        return annotation
    for member in _union_members(annotation) or ():
        if typing.get_origin(member) is tuple:
            return member
    return None


def _as_python(value: Any) -> Any:
    """numpy scalars as the Python scalar they hold (``numpy.bool_`` as ``bool``)."""
    if isinstance(value, np.generic):
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.floating):
            return float(value)
    return value


def _to_tuples(annotation: Any, value: Any) -> Any:
    """Lists as tuples where ``annotation`` expects a tuple (recursively), numpy scalars as
    Python scalars; anything else unchanged (the field's own validation judges it)."""
    value = _as_python(value)
    shape = _tuple_shape(annotation)
    if shape is None or not isinstance(value, (list, tuple)):
        return value
    args = typing.get_args(shape)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_to_tuples(args[0], item) for item in value)
    if len(args) == len(value):
        return tuple(_to_tuples(a, item) for a, item in zip(args, value, strict=True))
    return tuple(_as_python(item) for item in value)


def _bounds(info: FieldInfo) -> tuple[float | None, bool, float | None, bool]:
    """``(low, low_inclusive, high, high_inclusive)`` of a field's numeric constraints."""
    low = high = None
    low_in = high_in = True
    for item in info.metadata:
        for name in ("gt", "ge", "lt", "le"):
            bound = getattr(item, name, None)
            if bound is None or not isinstance(item, (annotated_types.BaseMetadata,
                                                       annotated_types.Interval)):
                continue
            if name in ("gt", "ge"):
                low, low_in = bound, name == "ge"
            else:
                high, high_in = bound, name == "le"
    return low, low_in, high, high_in


def _inf_allowed(info: FieldInfo) -> bool:
    """Infinity is a documented value of the field: infinite default or explicit opt-in."""
    for item in info.metadata:
        allow = getattr(item, "allow_inf_nan", None)
        if allow is not None:
            return bool(allow)
    default = info.default
    return isinstance(default, float) and math.isinf(default)


def _allowed_text(kind: str, info: FieldInfo) -> str:
    """``"an integer in [1, 1000]"`` / ``"a finite number in (0, 1]"`` for a message."""
    low, low_in, high, high_in = _bounds(info)
    if kind == "int" and high is None:
        high, high_in = MAX_COUNT, True
    inf_ok = kind == "float" and _inf_allowed(info)
    noun = "an integer" if kind == "int" else ("a number" if inf_ok else "a finite number")
    return _range_text(noun, low, high, low_in, high_in, inf_included=inf_ok)


def _refuse(kind: str, text: str, info: FieldInfo) -> PydanticCustomError:
    # braces in the text are not format fields for pydantic
    message = f"{text}; allowed: {_allowed_text(kind, info)}".replace("{", "{{").replace("}", "}}")
    return PydanticCustomError("strict_number", message)


def _check_number(kind: str, value: Any, info: FieldInfo) -> Any:
    """The type rules of the module docstring for one ``int``/``float`` field."""
    if value is None:
        return value
    if isinstance(value, bool):
        raise _refuse(kind, "a boolean is not a number", info)
    if isinstance(value, str):
        raise _refuse(kind, "a string is not a number", info)
    if kind == "int":
        if isinstance(value, float):
            raise _refuse(kind, "a float is not a count (write an integer)", info)
        if isinstance(value, int):
            low, _, high, _ = _bounds(info)
            if high is None and value > MAX_COUNT:
                raise _refuse(kind, "too large", info)
            if low is None and value < -MAX_COUNT - 1:
                raise _refuse(kind, "too small", info)
        return value
    if isinstance(value, float):
        if math.isnan(value):
            raise _refuse(kind, "NaN is not a number", info)
        if math.isinf(value) and not _inf_allowed(info):
            raise _refuse(kind, "must be finite", info)
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            float(value)
        except OverflowError:
            raise _refuse(kind, "too large for a float", info) from None
    return value


def _no_nan(value: Any) -> None:
    """Refuse NaN anywhere inside a tuple value (elements of ``tuple[float, ...]``)."""
    if isinstance(value, tuple):
        for item in value:
            _no_nan(item)
    elif isinstance(value, float) and math.isnan(value):
        raise PydanticCustomError("strict_number", "NaN is not a number; allowed: numbers")


def _range_text(noun: str, low: float | None, high: float | None, low_inclusive: bool,
                high_inclusive: bool, *, inf_included: bool = False) -> str:
    if low is None and high is None:
        return noun
    left = ("[" if low_inclusive else "(") if low is not None else "("
    right = ("]" if high_inclusive else ")") if high is not None else ("]" if inf_included else ")")
    lo = "-inf" if low is None else repr(low)
    hi = "inf" if high is None else repr(high)
    return f"{noun} in {left}{lo}, {hi}{right}"


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    allow_inf: bool = False,
) -> float:
    """A Python-API argument that must be a real number in a range (the models' rules).

    Parameters
    ----------
    name : str
        The parameter's name as the caller wrote it (``"kappa"``), used in the message.
    value : Any
        The argument. A bool, a string or NaN is refused; ``+-inf`` unless ``allow_inf``.
    low, high : float, optional
        Bounds (None: unbounded on that side).
    low_inclusive, high_inclusive : bool, optional
        Whether the bounds themselves are allowed (default True).
    allow_inf : bool, optional
        Accept an infinite value (that is still subject to the bounds). Default False.

    Returns
    -------
    float
        ``value`` as a Python float.

    Raises
    ------
    UserInputError
        ``"kappa = 1e+300: outside the allowed range; allowed: a finite number in (0.0,
        1000.0]"``: name, value and range.

    Examples
    --------
    >>> check_number("p0", 0.5, low=0.0, high=1.0, low_inclusive=False)
    0.5
    >>> try:
    ...     check_number("p0", True, low=0.0, high=1.0)
    ... except UserInputError as error:
    ...     print(error)
    p0 = True: a boolean is not a number; allowed: a finite number in [0.0, 1.0]
    """
    def refuse(text: str) -> UserInputError:
        allowed = _range_text("a number" if allow_inf else "a finite number", low, high,
                              low_inclusive, high_inclusive, inf_included=allow_inf)
        return UserInputError(f"{name} = {value!r}: {text}; allowed: {allowed}")

    if type(value) is float:  # the common case, fast: range and finiteness only
        if value != value:
            raise refuse("NaN is not a number")
        if (low is None or (value >= low if low_inclusive else value > low)) and (
            high is None or (value <= high if high_inclusive else value < high)
        ) and (allow_inf or -math.inf < value < math.inf):
            return value

    plain = _as_python(value)
    if isinstance(plain, bool):
        raise refuse("a boolean is not a number")
    if isinstance(plain, (str, bytes)):
        raise refuse("a string is not a number")
    if not isinstance(plain, (int, float)):
        raise refuse(f"a {type(value).__name__} is not a number")
    try:
        number = float(plain)
    except OverflowError:
        raise refuse("too large for a float") from None
    if math.isnan(number):
        raise refuse("NaN is not a number")
    if math.isinf(number) and not allow_inf:
        raise refuse("must be finite")
    ok_low = low is None or (number >= low if low_inclusive else number > low)
    ok_high = high is None or (number <= high if high_inclusive else number < high)
    if not (ok_low and ok_high):
        raise refuse("outside the allowed range")
    return number


def check_count(name: str, value: Any, *, low: int = 0, high: int = MAX_COUNT) -> int:
    """A Python-API argument that must be an integer (a count) in ``[low, high]``.

    A bool, a float (even ``2.0`` or ``1e300``) or a string is refused; numpy integers are
    accepted.

    Returns
    -------
    int

    Raises
    ------
    UserInputError
        ``"trials = 2.0: a float is not a count (write an integer); allowed: an integer in
        [1, 100000000]"``.

    Examples
    --------
    >>> check_count("trials", 2500, low=1)
    2500
    >>> try:
    ...     check_count("trials", 2.0, low=1, high=10)
    ... except UserInputError as error:
    ...     print(error)
    trials = 2.0: a float is not a count (write an integer); allowed: an integer in [1, 10]
    """
    def refuse(text: str) -> UserInputError:
        allowed = _range_text("an integer", low, high, True, True)
        return UserInputError(f"{name} = {value!r}: {text}; allowed: {allowed}")

    if type(value) is int and low <= value <= high:  # the common case, fast
        return value

    plain = _as_python(value)
    if isinstance(plain, bool):
        raise refuse("a boolean is not a number")
    if isinstance(plain, float):
        raise refuse("a float is not a count (write an integer)")
    if isinstance(plain, (str, bytes)):
        raise refuse("a string is not a number")
    if not isinstance(plain, int):
        raise refuse(f"a {type(value).__name__} is not a count")
    if not low <= plain <= high:
        raise refuse("outside the allowed range")
    return plain


#: per (model class, field): (FieldInfo, "int"/"float"/None, tuple-typed, inf allowed)
_RULES: dict[tuple[type, str | None], tuple[FieldInfo, str | None, bool, bool]] = {}


def _field_rule(cls: type[BaseModel], name: str) -> tuple[FieldInfo, str | None, bool, bool]:
    field = cls.model_fields[name]
    rule = (field, _number_kind(field.annotation), _tuple_shape(field.annotation) is not None,
            _inf_allowed(field))
    _RULES[(cls, name)] = rule
    return rule


class StrictModel(BaseModel):
    """Base of all configuration models: strict types, unknown keys rejected, frozen.

    See the module docstring for the type rules every field follows.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _strict_field(cls, value: Any, info: ValidationInfo) -> Any:
        rule = _RULES.get((cls, info.field_name))
        if rule is None:
            rule = _field_rule(cls, info.field_name or "")
        field, kind, tuple_like, inf_ok = rule
        kind_of_value = type(value)
        # fast paths: the common valid values need no further look
        if kind == "float":
            if kind_of_value is float and value == value and (inf_ok or -math.inf < value < math.inf):
                return value  # (NaN != NaN: refused below)
            if kind_of_value is int and -MAX_COUNT - 1 <= value <= MAX_COUNT:
                return value
        elif kind == "int":
            if kind_of_value is int and -MAX_COUNT - 1 <= value <= MAX_COUNT:
                return value
        elif not tuple_like and kind_of_value in (str, bool, int, dict) or value is None:
            return value
        if tuple_like:
            value = _to_tuples(field.annotation, value)
        else:
            value = _as_python(value)
        if kind is not None:
            return _check_number(kind, value, field)
        _no_nan(value)
        return value

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
    Demo: length_km = -1: Input should be greater than or equal to 0; allowed: a finite number in [0.0, inf)
    >>> try:
    ...     Demo(length_km=True)
    ... except UserInputError as error:
    ...     print(error)
    Demo: length_km = True: a boolean is not a number; allowed: a finite number in [0.0, inf)
    >>> try:
    ...     Demo(lenght_km=2.0)
    ... except UserInputError as error:
    ...     print(error)
    Demo: lenght_km: unknown key (not allowed here); did you mean 'length_km'?
    """

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise params_validation_error(exc, source=type(self).__name__, model=type(self)) from None


def params_validation_error(
    error: ValidationError, *, source: str, model: type[BaseModel] | None = None
) -> UserInputError:
    """A :class:`UserInputError` for a rejected :class:`ParamsModel` construction.

    It keeps pydantic's structured errors in ``.details`` so that, when the model is nested
    inside a scenario document, :func:`format_validation_error` can report the full field
    path (``hardware.fibre.length_km``) instead of the whole sub-document.
    """
    details = _with_suggestions(error.errors(include_url=False), model)
    exc = UserInputError(_format_items(details, source=source))
    exc.details = details  # type: ignore[attr-defined]
    return exc


# -- reading a scenario file ---------------------------------------------------------------


def _depth(document: Any) -> int:
    """Nesting depth of parsed TOML (tables and arrays), without recursion."""
    deepest = 0
    stack = [(document, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_TOML_DEPTH:
            return level
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML scenario file, refusing what no scenario can be.

    Parameters
    ----------
    path : str or pathlib.Path
        The file. It must be a regular file of at most :data:`MAX_SCENARIO_BYTES` bytes
        (1 MiB), UTF-8 text, nested at most :data:`MAX_TOML_DEPTH` levels deep.

    Returns
    -------
    dict
        The parsed document.

    Raises
    ------
    UserInputError
        One line naming the path: missing, unreadable, not a regular file (a device such
        as ``/dev/zero``, a FIFO, a folder), too large, not UTF-8, too deeply nested, or not
        valid TOML (with line and column). Nothing is read from a non-regular file, and at
        most ``MAX_SCENARIO_BYTES + 1`` bytes from any file.
    """
    path = Path(path)
    limit = MAX_SCENARIO_BYTES
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UserInputError(f"{path}: no such scenario file") from None
    except (OSError, ValueError) as exc:
        raise UserInputError(f"{path}: cannot read scenario file ({_reason(exc)})") from None
    if not stat.S_ISREG(info.st_mode):
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, FIFO or socket"
        raise UserInputError(f"{path}: not a regular file ({what}); give a scenario .toml file")
    if info.st_size > limit:
        raise UserInputError(
            f"{path}: scenario file too large ({info.st_size} bytes; at most {limit} allowed)"
        )
    try:
        # O_NONBLOCK: if the path was swapped for a FIFO since the stat, do not wait on it
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise UserInputError(f"{path}: not a regular file; give a scenario .toml file")
            with os.fdopen(fd, "rb", closefd=False) as handle:
                data = handle.read(limit + 1)
        finally:
            os.close(fd)
    except OSError as exc:
        raise UserInputError(f"{path}: cannot read scenario file ({_reason(exc)})") from None
    if len(data) > limit:
        raise UserInputError(f"{path}: scenario file too large (more than {limit} bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserInputError(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserInputError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:
        raise UserInputError(
            f"{path}: TOML nested too deeply (at most {MAX_TOML_DEPTH} levels allowed)"
        ) from None
    if _depth(document) > MAX_TOML_DEPTH:
        raise UserInputError(
            f"{path}: TOML nested too deeply (at most {MAX_TOML_DEPTH} levels allowed)"
        )
    return document


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc).splitlines()[0]


# -- messages ------------------------------------------------------------------------------


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


def _model_at(model: Any, loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that holds the last key of ``loc``, walking field annotations."""
    current = model
    for part in loc[:-1]:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            current = field.annotation
            continue
        candidates = [current, *(_union_members(current) or ())]
        nxt = None
        for candidate in candidates:
            origin = typing.get_origin(candidate)
            args = typing.get_args(candidate)
            if origin in (tuple, list) and isinstance(part, int) and args:
                nxt = args[0]
            elif origin is dict and len(args) == 2:
                nxt = args[1]
            elif isinstance(candidate, type) and issubclass(candidate, BaseModel):
                field = candidate.model_fields.get(part) if isinstance(part, str) else None
                nxt = field.annotation if field is not None else None
            if nxt is not None:
                break
        if nxt is None:
            return None
        current = nxt
    current = _unwrap(current)
    for candidate in (current, *(_union_members(current) or ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _with_suggestions(
    items: list[dict[str, Any]], model: type[BaseModel] | None
) -> list[dict[str, Any]]:
    """Add ``suggestion`` (closest valid key) to each unknown-key error."""
    if model is None:
        return items
    out = []
    for item in _expand_nested(items):
        loc = tuple(item.get("loc", ()))
        kind = item.get("type")
        if kind == "extra_forbidden" and loc and "suggestion" not in item:
            holder = _model_at(model, loc)
            if holder is not None:
                names = list(holder.model_fields)
                close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
                item = {**item, "suggestion": close[0] if close else None,
                        "valid_keys": names}
        elif kind in _RANGE_ERRORS and loc and isinstance(loc[-1], str) and "allowed" not in item:
            holder = _model_at(model, loc)
            field = holder.model_fields.get(loc[-1]) if holder is not None else None
            number = _number_kind(field.annotation) if field is not None else None
            if number is not None:  # name the whole range, not only the bound that failed
                item = {**item, "allowed": _allowed_text(number, field)}
        out.append(item)
    return out


#: pydantic's error types of a number outside its bounds
_RANGE_ERRORS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal",
                           "finite_number"})


#: a rule message that starts by naming one field: ``memory_t2_ns = 5e6 > 2 * memory_t1_ns``
_FIELD_HEAD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*) = ")


def _rule_text(message: str) -> str:
    """A validator's message without pydantic's ``Value error, `` / ``Assertion failed, ``."""
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def format_validation_error(
    error: ValidationError, *, source: str, model: type[BaseModel] | None = None
) -> str:
    """Turn a pydantic ``ValidationError`` into lines ``source: field = value: message``.

    With ``model`` (the class validated), an unknown key's line suggests the closest valid
    key: ``s.toml: model.beat: unknown key (not allowed here); did you mean 'beta'?``.
    """
    return _format_items(_with_suggestions(error.errors(include_url=False), model), source=source)


def _consequential_too_short(item: Mapping[str, Any]) -> bool:
    """Whether ``item`` is pydantic's "should have at least n items after validation" that
    follows only from invalid entries (reported on their own lines): the input had enough."""
    if item.get("type") != "too_short":
        return False
    given, least = item.get("input"), (item.get("ctx") or {}).get("min_length")
    return isinstance(given, Sized) and isinstance(least, int) and len(given) >= least


def _format_items(items: list[dict[str, Any]], *, source: str) -> str:
    lines = []
    for item in _expand_nested(items):
        if _consequential_too_short(item):
            continue
        path = _field_path(tuple(item.get("loc", ())))
        kind = item.get("type", "")
        message = _rule_text(item.get("msg", "invalid value"))
        if kind == "extra_forbidden":
            line = f"{source}: {path}: unknown key (not allowed here)"
            if item.get("suggestion"):
                line += f"; did you mean {item['suggestion']!r}?"
            elif item.get("valid_keys"):
                line += f"; valid keys: {', '.join(item['valid_keys'])}"
            lines.append(line)
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
        if item.get("allowed"):
            message = f"{message}; allowed: {item['allowed']}"
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
        raise UserInputError(format_validation_error(exc, source=source, model=model)) from None
