"""Exceptions that carry a message meant for the user, not a traceback."""

from __future__ import annotations


class UserInputError(ValueError):
    """Bad input from a user (scenario file, CLI flag, API argument).

    The CLI prints ``str(error)`` and exits with status 2, without a traceback.
    The message must name the field, the value given and what is allowed.
    """


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
        If ``value`` is not a real number or lies outside the range.
    """
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
