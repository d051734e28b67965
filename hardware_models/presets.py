"""Hardware presets: named, cited parameter sets for every device of the hub.

A preset is a TOML file in ``scenarios/hardware/`` validated as a :class:`HardwarePreset`;
every number in those files carries its citation in a comment. Load one by name
(``load_preset("near_term_nv")``) or by path (``load_preset("my_lab.toml")``).

The fibre section has no length: per-QPU fibre lengths belong to the hub scenario, which
combines them with the preset's attenuation, speed and coupling loss.
"""

from __future__ import annotations

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

#: Folder of the shipped presets (``<repository>/scenarios/hardware``).
PRESET_DIR = Path(__file__).resolve().parent.parent / "scenarios" / "hardware"


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
    """Names of the shipped presets (files ``scenarios/hardware/*.toml``), sorted."""
    return sorted(path.stem for path in PRESET_DIR.glob("*.toml"))


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
        path = PRESET_DIR / f"{text}.toml"
    document = load_toml(path)
    return validate_document(HardwarePreset, document, source=str(path))
