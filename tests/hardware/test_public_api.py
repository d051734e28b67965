"""The package's public names and the shared input check."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import hardware_models
from modenhub_net.errors import UserInputError, check_range

MODULES = ("bsm", "detector", "fibre", "link_budget", "memory", "presets", "qpu", "spdc", "switch")


def test_every_name_in_all_resolves() -> None:
    assert len(set(hardware_models.__all__)) == len(hardware_models.__all__)
    for name in hardware_models.__all__:
        assert getattr(hardware_models, name) is not None, name


def test_no_public_name_is_claimed_by_two_modules() -> None:
    """The package re-exports every module's ``__all__``: a name in two modules would be
    shadowed silently."""
    owners: dict[str, list[str]] = {}
    for module in MODULES:
        for name in importlib.import_module(f"hardware_models.{module}").__all__:
            owners.setdefault(name, []).append(module)
    assert {n: m for n, m in owners.items() if len(m) > 1} == {}
    assert set(owners) == set(hardware_models.__all__)


@pytest.mark.parametrize("module", MODULES)
def test_each_module_public_name_resolves(module: str) -> None:
    mod = importlib.import_module(f"hardware_models.{module}")
    for name in mod.__all__:
        assert hasattr(mod, name), f"hardware_models.{module}.{name}"


@pytest.mark.parametrize("module", ["link_budget", "memory", "presets"])
def test_link_budget_memory_and_preset_names_are_exported(module: str) -> None:
    """``pair_link_budget``, ``AttemptTiming``, ``PRESET_FIELD_USAGE``... importable from the package."""
    mod = importlib.import_module(f"hardware_models.{module}")
    for name in mod.__all__:
        assert name in hardware_models.__all__, name
        assert getattr(hardware_models, name) is getattr(mod, name)


def test_package_docstring_names_the_link_budget() -> None:
    doc = hardware_models.__doc__ or ""
    for name in ("pair_link_budget", "preset_link_budget", "hub_memory_swap_budget", "leg_budget",
                 "swapped_state", "AttemptTiming", "preset_data"):
        assert name in doc, name
    assert "scenarios/hardware" not in doc


@pytest.mark.parametrize("value", [True, False, np.bool_(True), "1.5", b"2"])
def test_check_range_refuses_booleans_and_strings(value) -> None:
    with pytest.raises(UserInputError, match=r"^length_km = .* is not a number \((a boolean|a string)\)$"):
        check_range("length_km", value, low=0.0)


@pytest.mark.parametrize("value", [0, 1, 2.5, np.float64(3.0), np.int64(4)])
def test_check_range_accepts_real_numbers(value) -> None:
    assert check_range("length_km", value, low=0.0) == float(value)
