"""Validated, frozen scenario configuration."""

from modenhub_net.config.base import (
    ParamsModel,
    StrictModel,
    format_validation_error,
    load_toml,
    validate_document,
)

__all__ = ["ParamsModel", "StrictModel", "format_validation_error", "load_toml", "validate_document"]
