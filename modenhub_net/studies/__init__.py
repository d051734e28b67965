"""Scenario runners, one module per scenario ``kind``.

Each runner module exposes::

    def run_scenario(document: dict, *, source: str, out_dir: Path | None,
                     seed: int | None, trials: int | None, quiet: bool) -> Path

which applies the CLI overrides to the parsed TOML ``document``, validates it (raising
:class:`modenhub_net.errors.UserInputError` on bad input, before anything is written),
runs it and writes its outputs atomically into ``out_dir`` (default ``results/<name>``),
returning that folder.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from modenhub_net.errors import UserInputError

#: scenario ``kind`` -> module implementing ``run_scenario``
STUDY_MODULES: dict[str, str] = {
    "aggregate": "modenhub_net.studies.aggregate_study",
    "hub": "modenhub_net.studies.hub_study",
    "calibrated_hub": "modenhub_net.studies.calibrated_hub_study",
    "peff_validation": "modenhub_net.studies.peff_validation",
    "cache_decoherence": "modenhub_net.studies.cache_decoherence",
    "hardware_scenarios": "modenhub_net.studies.hardware_scenarios",
    "circuit": "modenhub_net.studies.circuit_study",
    "cache_study": "modenhub_net.studies.cache_study",
    "circuit_study": "modenhub_net.studies.circuit_study",
    "datacentre": "modenhub_net.studies.datacentre_study",
}


def study_module(kind: object, *, source: str) -> ModuleType:
    """Import the runner for a scenario ``kind`` or raise a user-facing error."""
    if not isinstance(kind, str) or kind not in STUDY_MODULES:
        allowed = ", ".join(sorted(STUDY_MODULES))
        raise UserInputError(
            f"{source}: kind = {kind!r}: unknown scenario kind (allowed: {allowed})"
        )
    try:
        return importlib.import_module(STUDY_MODULES[kind])
    except ModuleNotFoundError as exc:
        if exc.name == STUDY_MODULES[kind]:
            raise UserInputError(
                f"{source}: kind = {kind!r} is not available in this version"
            ) from None
        raise
