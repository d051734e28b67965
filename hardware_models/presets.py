"""Hardware presets: named, cited parameter sets for every device of the hub.

A preset is a TOML file validated as a :class:`HardwarePreset`; every number in the shipped
files carries its citation in a comment. The shipped presets are package data
(``hardware_models/preset_data/*.toml``, read through :mod:`importlib.resources`, so they work
from a wheel as well as from a checkout). Load one by name (``load_preset("near_term_nv")``)
or by path (``load_preset("my_lab.toml")``: a user's own file, validated the same way).

The fibre section has no length: per-QPU fibre lengths belong to the hub scenario, which
combines them with the preset's attenuation, speed and coupling loss.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import Field, model_validator

from hardware_models.bsm import BsmParams
from hardware_models.detector import DetectorParams
from hardware_models.fibre import FibreParams
from hardware_models.memory import MemoryParams
from hardware_models.qpu import QpuParams
from hardware_models.spdc import SpdcParams
from hardware_models.switch import SwitchParams
from modenhub_net.config import StrictModel, load_toml, validate_document
from modenhub_net.errors import UserInputError

__all__ = ["PRESET_DIR", "HardwarePreset", "available_presets", "load_preset"]

#: Folder of the shipped presets: the package-data folder ``hardware_models/preset_data``
#: as an :mod:`importlib.resources` traversable (a :class:`pathlib.Path` for an ordinary
#: installed or editable package; ``PRESET_DIR / "ideal.toml"`` then reads as a file).
PRESET_DIR: Traversable = resources.files("hardware_models") / "preset_data"


class HardwarePreset(StrictModel):
    """A complete, validated hardware parameter set.

    Parameters
    ----------
    name : str
        Short identifier (the file stem for shipped presets).
    description : str
        One paragraph: platform, what the numbers come from.
    source : SpdcParams
        The hub's SPDC pair source (source-in-the-hub links).
    fibre : FibreParams
        Fibre type: attenuation, speed, coupling loss, depolarising rate. ``length_km``
        must be 0 (lengths come from the hub scenario).
    detector : DetectorParams
        Single-photon detectors used for heralding at the QPUs.
    bsm : BsmParams
        The hub's linear-optics Bell-state-measurement stations.
    memory : MemoryParams
        Communication qubits (QPU ``comm`` memory and the hub's shared memory).
    data_memory : MemoryParams, optional
        Data qubits, if they differ from the communication qubits (e.g. NV 13C spins);
        default None = same as ``memory``.
    switch : SwitchParams
        The hub's optical switch.
    qpu : QpuParams
        Gates, measurement and qubit counts of each QPU.
    transduction_efficiency : float
        Microwave-to-optical conversion efficiency in (0, 1], applied as a loss on every
        photon a QPU emits or receives (superconducting platforms). Default 1 (none needed).
    """

    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    source: SpdcParams
    fibre: FibreParams
    detector: DetectorParams
    bsm: BsmParams
    memory: MemoryParams
    data_memory: MemoryParams | None = None
    switch: SwitchParams
    qpu: QpuParams
    transduction_efficiency: float = Field(1.0, gt=0.0, le=1.0)

    @model_validator(mode="after")
    def _no_fibre_length(self) -> HardwarePreset:
        if self.fibre.length_km != 0.0:
            raise ValueError(
                f"fibre.length_km = {self.fibre.length_km!r} must be 0 in a hardware preset: "
                "per-QPU fibre lengths are set by the hub scenario"
            )
        return self

    @property
    def data_memory_params(self) -> MemoryParams:
        """Data-qubit memory parameters (``data_memory`` or, if unset, ``memory``)."""
        return self.data_memory if self.data_memory is not None else self.memory


def available_presets() -> list[str]:
    """Names of the shipped presets (package data ``preset_data/*.toml``), sorted."""
    return sorted(
        entry.name[: -len(".toml")]
        for entry in PRESET_DIR.iterdir()
        if entry.name.endswith(".toml") and entry.is_file()
    )


def _load_shipped(name: str) -> HardwarePreset:
    """Read and validate the shipped preset ``name`` from the package data."""
    entry = PRESET_DIR / f"{name}.toml"
    source = f"preset {name!r} ({entry})"
    try:
        document = tomllib.loads(entry.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UserInputError(f"{source}: invalid TOML: {exc}") from None
    return validate_document(HardwarePreset, document, source=source)


def load_preset(name_or_path: str | Path) -> HardwarePreset:
    """Load and validate a preset by shipped name or by file path.

    Parameters
    ----------
    name_or_path : str or Path
        A shipped preset name (see :func:`available_presets`) or a path to a TOML file.

    Returns
    -------
    HardwarePreset

    Raises
    ------
    UserInputError
        Unknown name (the message lists the available presets), unreadable/invalid TOML,
        or a field that fails validation (message: file, field path, value, allowed range).
    """
    text = str(name_or_path)
    path = Path(text)
    if not (path.suffix == ".toml" or path.exists()):
        names = available_presets()
        if text not in names:
            raise UserInputError(
                f"unknown hardware preset {text!r}; available presets: {', '.join(names)} "
                "(or give the path of a .toml file)"
            )
        return _load_shipped(text)
    document = load_toml(path)
    return validate_document(HardwarePreset, document, source=str(path))
