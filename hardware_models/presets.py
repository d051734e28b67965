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
import typing
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from hardware_models.bsm import BsmParams
from hardware_models.detector import DetectorParams
from hardware_models.fibre import FibreParams
from hardware_models.memory import MemoryParams
from hardware_models.qpu import QpuParams
from hardware_models.spdc import SpdcParams
from hardware_models.switch import SwitchParams
from modenhub_net.config import StrictModel, load_toml, validate_document
from modenhub_net.errors import UserInputError

__all__ = [
    "PRESET_DIR",
    "PRESET_FIELD_USAGE",
    "FieldUse",
    "HardwarePreset",
    "available_presets",
    "load_preset",
    "preset_field_paths",
    "preset_field_usage",
]

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


# -- where every preset field goes --------------------------------------------------------------
@dataclass(frozen=True)
class FieldUse:
    """Who consumes one preset field.

    Attributes
    ----------
    consumer : str
        The component class (of :mod:`hardware_models`) and parameter that uses the field,
        e.g. ``"SpdcSource(params).mu"``; the first word is the class name.
    link_budget : tuple of str
        Link schemes whose closed form (:func:`hardware_models.link_budget.preset_link_budget`)
        reads the field; empty when only the component uses it (e.g. gate durations, data
        qubits) or it is metadata.
    """

    consumer: str
    link_budget: tuple[str, ...] = ()


_ALL = ("source_in_hub", "detection_in_hub", "hub_memory_swap")
_SRC, _DET, _SWAP = ("source_in_hub",), ("detection_in_hub",), ("hub_memory_swap",)


def _memory_uses(prefix: str, consumer: str, *, link: bool) -> dict[str, FieldUse]:
    """Uses of a ``MemoryParams`` section (``memory``: QPU comm + hub memory; ``data_memory``)."""

    def use(what: str, schemes: tuple[str, ...]) -> FieldUse:
        return FieldUse(f"{consumer}.{what}", schemes if link else ())

    return {
        f"{prefix}.t1_ns": use("t1_ns (storage noise)", _SWAP),
        f"{prefix}.t2_ns": use("t2_ns (storage noise)", _SWAP),
        f"{prefix}.depolar_time_ns": use("depolar_time_ns (storage noise)", _SWAP),
        f"{prefix}.write_efficiency": use("write_efficiency (store)", _SRC + _SWAP),
        f"{prefix}.read_efficiency": FieldUse(f"{consumer}.read_efficiency (read)"),
        f"{prefix}.emission_efficiency": use("emission_efficiency (emit)", _DET + _SWAP),
        f"{prefix}.emission_fidelity": use("emission_fidelity (emit)", _DET + _SWAP),
        f"{prefix}.emitter_initialisation_ns": use("emitter_initialisation_ns (attempt period)", _ALL),
        f"{prefix}.emitter_emission_ns": use("emitter_emission_ns (attempt period)", _DET + _SWAP),
        f"{prefix}.emitter_reset_ns": use("emitter_reset_ns (attempt period)", _ALL),
    }


def _detector_uses(prefix: str, consumer: str, schemes: tuple[str, ...]) -> dict[str, FieldUse]:
    return {
        f"{prefix}.efficiency": FieldUse(f"{consumer}.efficiency", schemes),
        f"{prefix}.dark_count_rate_hz": FieldUse(f"{consumer}.dark_count_rate_hz", schemes),
        f"{prefix}.window_ns": FieldUse(f"{consumer}.window_ns (dark counts, attempt period)", schemes),
        f"{prefix}.number_resolving": FieldUse(f"{consumer}.number_resolving", schemes),
        f"{prefix}.dead_time_ns": FieldUse(f"{consumer}.dead_time_ns (attempt period floor)", schemes),
        f"{prefix}.dark_count_statistics": FieldUse(
            f"{consumer}.dark_count_statistics (dark counts per window)", schemes),
    }


#: Every leaf field of :class:`HardwarePreset` (dotted path) and who uses it. Fields a device
#: module adds later are caught by ``tests/hardware/test_presets.py``, which enumerates the
#: model recursively and fails on a field missing here.
PRESET_FIELD_USAGE: dict[str, FieldUse] = {
    "name": FieldUse("HardwarePreset.name (load_preset, report labels)"),
    "description": FieldUse("HardwarePreset.description (reports)"),
    "transduction_efficiency": FieldUse(
        "QuantumMemory(comm).emission_efficiency/write_efficiency (times the transducer)", _ALL),
    "source.mu": FieldUse("SpdcSource(params).mu", _SRC),
    "source.repetition_rate_hz": FieldUse("SpdcSource(params).repetition_rate_hz (pulse period)", _SRC),
    "source.bell_state": FieldUse("SpdcSource(params).bell_state (target state)", _SRC),
    "source.coupling_efficiency_a": FieldUse("SpdcSource(params).coupling_efficiency_a", _SRC),
    "source.coupling_efficiency_b": FieldUse("SpdcSource(params).coupling_efficiency_b", _SRC),
    "source.pair_statistics": FieldUse("SpdcSource(params).pair_statistics", _SRC),
    "fibre.length_km": FieldUse(
        "Fibre(params).length_km (must be 0 in a preset: per-QPU lengths come from the hub "
        "scenario, preset_link_budget's fibre_length_*_km)"),
    "fibre.attenuation_db_per_km": FieldUse("Fibre(params).attenuation_db_per_km", _ALL),
    "fibre.loss_db": FieldUse("Fibre(params).loss_db", _ALL),
    "fibre.speed_km_per_s": FieldUse("Fibre(params).speed_km_per_s (flight time)", _ALL),
    "fibre.depolar_rate_per_km": FieldUse(
        "Fibre(params).depolar_rate_per_km (polarisation noise)", _ALL),
    **_detector_uses("detector", "Detector(QPU herald)", _SRC + _SWAP),
    "bsm.scheme": FieldUse("BsmStation(params).scheme (double/single click)", _DET),
    "bsm.visibility": FieldUse("BsmStation(params).visibility", _DET),
    "bsm.bright_state_alpha": FieldUse(
        "BsmStation(params).bright_state_alpha (single click; QuantumMemory.emit)", _DET),
    "bsm.coincidence_window_ns": FieldUse("BsmStation(params).coincidence_window_ns", _DET),
    "bsm.phase_noise_std_rad": FieldUse(
        "BsmStation(params).phase_noise_std_rad (single click optical phase noise)", _DET),
    **_detector_uses("bsm.detector", "BsmStation(params).detector (its Detectors)", _DET),
    **_memory_uses("memory", "QuantumMemory(QPU comm and hub memory)", link=True),
    **_memory_uses("data_memory", "QuantumMemory(QPU data)", link=False),
    "switch.architecture": FieldUse("OpticalSwitch(params).architecture (stages)", _ALL),
    "switch.loss_per_stage_db": FieldUse("OpticalSwitch(params).loss_per_stage_db", _ALL),
    "switch.fixed_loss_db": FieldUse("OpticalSwitch(params).fixed_loss_db", _ALL),
    "switch.reconfiguration_time_ns": FieldUse(
        "OpticalSwitch(params).reconfiguration_time_ns (setup_ns)", _ALL),
    "switch.max_circuits": FieldUse("OpticalSwitch(params).max_circuits (blocking)"),
    "qpu.n_comm_qubits": FieldUse("QPU(params).n_comm_qubits (comm memory slots)"),
    "qpu.n_data_qubits": FieldUse("QPU(params).n_data_qubits (data memory slots)"),
    "qpu.single_qubit_gate_ns": FieldUse("QPU(params).single_qubit_gate_ns (hub swap_ns)", _SWAP),
    "qpu.two_qubit_gate_ns": FieldUse("QPU(params).two_qubit_gate_ns (hub swap_ns)", _SWAP),
    "qpu.single_qubit_gate_depolar_prob": FieldUse(
        "QPU(params).single_qubit_gate_depolar_prob (gates; hub swap)", _SWAP),
    "qpu.two_qubit_gate_depolar_prob": FieldUse(
        "QPU(params).two_qubit_gate_depolar_prob (gates; hub swap)", _SWAP),
    "qpu.measure_ns": FieldUse("QPU(params).measure_ns (hub swap_ns)", _SWAP),
    "qpu.measure_error_prob": FieldUse("QPU(params).measure_error_prob (readout; hub swap)", _SWAP),
}


def preset_field_paths(model: type[BaseModel] | None = None) -> list[str]:
    """Dotted paths of every leaf field of :class:`HardwarePreset` (recursively), sorted.

    A field whose type is (optionally) another parameter model is descended into
    (``bsm.detector.efficiency``, ``data_memory.t2_ns``).
    """
    model = HardwarePreset if model is None else model
    paths: list[str] = []
    for name, info in model.model_fields.items():
        sub = _submodel(info.annotation)
        if sub is None:
            paths.append(name)
        else:
            paths.extend(f"{name}.{leaf}" for leaf in preset_field_paths(sub))
    return sorted(paths)


def _submodel(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):  # Optional[Model] / Model | None
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def preset_field_usage() -> dict[str, FieldUse]:
    """:data:`PRESET_FIELD_USAGE` for exactly the fields of :func:`preset_field_paths`.

    Raises
    ------
    RuntimeError
        If a preset field has no entry (a silently unused field) or an entry names no field.
    """
    paths = set(preset_field_paths())
    missing = sorted(paths - PRESET_FIELD_USAGE.keys())
    stale = sorted(PRESET_FIELD_USAGE.keys() - paths)
    if missing or stale:
        raise RuntimeError(f"preset field usage out of date: unused {missing}, unknown {stale}")
    return dict(PRESET_FIELD_USAGE)
