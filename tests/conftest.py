"""Shared test configuration.

``validation_scale`` shrinks the statistical-validation tier when ``CI=true`` (CI has a
15-minute budget on 2 cores); tolerances are always derived from the trial counts actually
used, so a reduced size widens the tolerance honestly instead of loosening it.
"""

from __future__ import annotations

import os

import pytest


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def validation_scale() -> float:
    """1.0 locally, 0.25 under CI=true: multiply trial counts of validation tests by it."""
    return 0.25 if _in_ci() else 1.0
