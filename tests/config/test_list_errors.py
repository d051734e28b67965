"""A bad entry of a short list is one error line; an empty list still gets its own error."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from modenhub_net.config.base import format_validation_error


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schedulers: Annotated[tuple[Literal["fifo", "edf"], ...], Field(min_length=1)]


def _message(value: object) -> str:
    with pytest.raises(ValidationError) as info:
        _Model(schedulers=value)
    return format_validation_error(info.value, source="s.toml", model=_Model)


def test_the_only_entry_bad_gives_one_line_naming_it() -> None:
    message = _message(["lifo"])
    assert message.startswith("s.toml: schedulers[0] = 'lifo'")
    assert "\n" not in message and "at least 1 item" not in message


def test_an_empty_list_still_says_it_is_too_short() -> None:
    message = _message([])
    assert message.startswith("s.toml: schedulers")
    assert "at least 1 item" in message
