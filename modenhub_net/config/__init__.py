"""Validated, frozen scenario configuration."""

from modenhub_net.config.base import StrictModel, load_toml, validate_document

__all__ = ["StrictModel", "load_toml", "validate_document"]
