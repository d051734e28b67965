"""Validated, frozen scenario configuration."""

from modenhub_net.config.base import (
    MAX_SCENARIO_BYTES,
    MAX_TOML_DEPTH,
    FiniteFloat,
    ParamsModel,
    StrictModel,
    check_count,
    check_number,
    format_validation_error,
    load_toml,
    validate_document,
)

__all__ = [
    "MAX_SCENARIO_BYTES",
    "MAX_TOML_DEPTH",
    "FiniteFloat",
    "ParamsModel",
    "StrictModel",
    "check_count",
    "check_number",
    "format_validation_error",
    "load_toml",
    "validate_document",
]
