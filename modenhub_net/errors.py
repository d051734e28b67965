"""Exceptions that carry a message meant for the user, not a traceback."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


class UserInputError(ValueError):
    """Bad input from a user (scenario file, CLI flag, API argument).

    The CLI prints ``str(error)`` and exits with status 2, without a traceback.
    The message must name the field, the value given and what is allowed.
    """


#: what to do about a machine fault, by errno
_ADVICE = {
    errno.ENOSPC: "the disk is full: free some space (or choose another --out) and run again",
    errno.EDQUOT: "the disk quota is exceeded: free some space (or choose another --out) and "
                  "run again",
    errno.EROFS: "the file system is read-only: choose a writable --out",
    errno.EACCES: "permission denied: make the folder writable for you or choose another --out",
    errno.EPERM: "operation not permitted: make the folder writable for you or choose another "
                 "--out",
    errno.EISDIR: "a folder is where a file belongs: move or remove that folder and run again",
    errno.ENOTDIR: "a file is where a folder belongs: move or remove that file and run again",
    errno.EIO: "input/output error: check the disk and run again",
    errno.EMFILE: "too many open files: raise the limit (ulimit -n) and run again",
}


class EnvironmentFault(RuntimeError):
    """A fault of the machine or of stored data, not of the user's input.

    A full disk, a read-only or unwritable folder, a folder where a file belongs, a damaged
    result file. The CLI prints ``str(error)`` (one line naming the path and what to do)
    and exits with status 1, without a traceback; results written before are intact.

    Parameters
    ----------
    message : str
        The line to show: what happened, the path, what to do.
    path : str or Path, optional
        The file or folder concerned.
    """

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        super().__init__(message)
        self.path = None if path is None else str(path)

    @classmethod
    def from_os_error(cls, error: OSError, path: str | Path | None = None) -> EnvironmentFault:
        """The fault describing ``error`` (its own file name preferred over ``path``)."""
        where = error.filename if error.filename is not None else path
        reason = os.strerror(error.errno) if error.errno else str(error)
        advice = _ADVICE.get(error.errno or -1, "check the path and run again")
        text = f"{where}: {reason}; {advice}" if where is not None else f"{reason}; {advice}"
        return cls(text, path=where)


def check_range(
    name: str,
    value: float,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Validate that a numeric parameter lies in a range.

    Parameters
    ----------
    name : str
        Parameter name used in the error message (include its unit, e.g. ``"length_km"``).
    value : float
        Value to check.
    low, high : float, optional
        Bounds; ``None`` means unbounded on that side.
    low_inclusive, high_inclusive : bool, optional
        Whether the bounds themselves are allowed (default True).

    Returns
    -------
    float
        ``value`` unchanged, so the call can be used inline.

    Raises
    ------
    UserInputError
        If ``value`` is not a real number (a boolean or a string is not one, although
        ``float()`` accepts both) or lies outside the range.

    Examples
    --------
    >>> check_range("length_km", 2, low=0.0)
    2.0
    >>> try:
    ...     check_range("length_km", True, low=0.0)
    ... except UserInputError as error:
    ...     print(error)
    length_km = True is not a number (a boolean)
    """
    if isinstance(value, (bool, str, bytes)) or type(value).__name__ in ("bool", "bool_"):
        kind = "a string" if isinstance(value, (str, bytes)) else "a boolean"
        raise UserInputError(f"{name} = {value!r} is not a number ({kind})")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserInputError(f"{name} = {value!r} is not a number") from None
    if number != number:  # NaN
        raise UserInputError(f"{name} = {value!r} is not a number")
    ok_low = low is None or (number >= low if low_inclusive else number > low)
    ok_high = high is None or (number <= high if high_inclusive else number < high)
    if not (ok_low and ok_high):
        lo = "-inf" if low is None else repr(low)
        hi = "inf" if high is None else repr(high)
        left = "[" if low_inclusive and low is not None else "("
        right = "]" if high_inclusive and high is not None else ")"
        raise UserInputError(
            f"{name} = {value!r} is outside the allowed range {left}{lo}, {hi}{right}"
        )
    return number


def blame_flags(
    error: UserInputError,
    check: Callable[[Mapping[str, Any]], object],
    flags: Mapping[str, Any],
) -> UserInputError:
    """The error to show when validating input with command-line overrides failed.

    Scenario limits on an override can depend on the scenario kind (``--trials`` sets
    ``study.trials`` of an aggregate scenario, ``workload.requests`` of a hub scenario, each
    with its own range), so such a mistake is found by the scenario's own validation, whose
    message names the file. If the input is valid without the flags but not with one of
    them, this returns a new error that names that flag and its value first.

    Parameters
    ----------
    error : UserInputError
        What the validation with every given flag applied raised.
    check : callable
        ``check(overrides)`` validates the input with ``overrides`` (flag -> value) applied
        and raises ``UserInputError`` if it is invalid.
    flags : mapping
        Flag -> value given on the command line (None: not given).

    Returns
    -------
    UserInputError
        ``"--trials = 10000000000 is not allowed here: <error>"`` or ``error`` itself.

    Examples
    --------
    >>> def check(overrides):
    ...     if overrides.get("--trials", 1) > 100:
    ...         raise UserInputError("a.toml: study.trials = 500: must be <= 100")
    >>> str(blame_flags(UserInputError("a.toml: ..."), check, {"--trials": 500, "--seed": None}))
    '--trials = 500 is not allowed here: a.toml: study.trials = 500: must be <= 100'
    """
    given = {flag: value for flag, value in flags.items() if value is not None}
    if not given:
        return error
    try:
        check({})
    except Exception:  # noqa: BLE001 - the input is bad without the flags: keep its message
        return error
    for flag, value in given.items():
        try:
            check({flag: value})
        except UserInputError as exc:
            return UserInputError(f"{flag} = {value} is not allowed here: {exc}")
        except Exception:  # noqa: BLE001 - only a diagnosis: never replace the real error
            return error
    return error
