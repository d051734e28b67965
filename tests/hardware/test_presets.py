"""Hardware presets: every shipped preset loads and validates; every number is cited; bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modenhub_net.errors import UserInputError

REQUIRED = {"ideal", "near_term_trapped_ion", "near_term_nv", "superconducting_transduced", "future"}
PRESET_DIR = Path(__file__).resolve().parents[2] / "hardware_models" / "preset_data"
_NUMBER = re.compile(r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*=\s*([-+]?(\d|inf|nan)|true|false)")


def test_required_preset_files_exist() -> None:
    assert REQUIRED <= {p.stem for p in PRESET_DIR.glob("*.toml")}


@pytest.mark.parametrize("path", sorted(PRESET_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_every_number_carries_a_citation_comment(path: Path) -> None:
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if _NUMBER.match(line):
            assert "#" in line and line.split("#", 1)[1].strip(), (
                f"{path.name}:{lineno}: no citation: {line!r}"
            )


@pytest.fixture(scope="module")
def presets():
    return pytest.importorskip(
        "hardware_models.presets", reason="needs hardware_models.{spdc,fibre,detector,bsm} (parallel work)"
    )


def test_available_presets_lists_required(presets) -> None:
    assert REQUIRED <= set(presets.available_presets())


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_every_preset_loads_and_validates(presets, name: str) -> None:
    preset = presets.load_preset(name)
    assert preset.name == name
    assert preset.fibre.length_km == 0.0
    assert 0.0 < preset.transduction_efficiency <= 1.0
    assert preset.memory.t2_ns <= 2 * preset.memory.t1_ns
    assert preset.data_memory_params is not None
    # the same file also loads by path
    assert presets.load_preset(PRESET_DIR / f"{name}.toml") == preset


def test_ideal_preset_is_ideal(presets) -> None:
    p = presets.load_preset("ideal")
    assert p.memory.is_noiseless
    assert p.switch.loss_per_stage_db == 0.0 and p.fibre.attenuation_db_per_km == 0.0
    assert p.qpu.two_qubit_gate_depolar_prob == 0.0 and p.detector.efficiency == 1.0


def test_unknown_preset_lists_available(presets) -> None:
    with pytest.raises(UserInputError) as info:
        presets.load_preset("no_such_platform")
    message = str(info.value)
    assert "no_such_platform" in message
    for name in REQUIRED:
        assert name in message


def _write_variant(tmp_path: Path, old: str, new: str) -> Path:
    text = (PRESET_DIR / "near_term_nv.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("t2_ns = 4.0e8", "t2_ns = 1.0e13", ("memory", "t2_ns", "t1_ns")),  # T2 > 2 T1
        ("efficiency = 0.9 ", "efficiency = 1.2 ", ("detector.efficiency", "1.2")),
        ("write_efficiency = 1.0  ", "write_efficiency = -0.5  ", ("memory.write_efficiency", "-0.5")),
        ("measure_ns = 3700.0", "measure_ns = -1.0", ("qpu.measure_ns", "-1.0")),
        ("loss_per_stage_db = 2.0", "loss_per_stage_db = -2.0", ("switch.loss_per_stage_db",)),
        ("[switch]", "[switch]\nports = 8", ("switch.ports", "unknown key")),
        ("speed_km_per_s = 200000.0", "speed_km_per_s = 200000.0\nlength_km = 5.0", ("length_km",)),
        ("transduction_efficiency = 1.0", "transduction_efficiency = 0.0", ("transduction_efficiency",)),
    ],
)
def test_bad_preset_file_names_file_field_and_value(
    presets, tmp_path: Path, old: str, new: str, expected: tuple
) -> None:
    path = _write_variant(tmp_path, old, new)
    with pytest.raises(UserInputError) as info:
        presets.load_preset(path)
    message = str(info.value)
    assert "bad.toml" in message
    for text in expected:
        assert text in message, message


def test_missing_preset_file(presets, tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="no such"):
        presets.load_preset(tmp_path / "absent.toml")


def test_shipped_presets_are_package_data(presets) -> None:
    """The presets are read through importlib.resources from the package, not the checkout."""
    from importlib import resources

    folder = resources.files("hardware_models") / "preset_data"
    assert presets.PRESET_DIR == folder
    assert set(presets.available_presets()) == {p.stem for p in PRESET_DIR.glob("*.toml")}
    # a user's own file anywhere still loads by path and equals the shipped one
    assert presets.load_preset(folder / "ideal.toml") == presets.load_preset("ideal")


def test_pyproject_ships_the_preset_data() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["hardware_models"]
    assert "preset_data/*.toml" in patterns


# -- every preset field is used ----------------------------------------------------------------
def _leaf_paths(model, prefix: str = "") -> set[str]:
    """Independent recursive enumeration of a pydantic model's leaf fields."""
    import typing

    from pydantic import BaseModel

    out: set[str] = set()
    for name, info in model.model_fields.items():
        candidates = [info.annotation, *typing.get_args(info.annotation)]
        sub = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        out |= _leaf_paths(sub, f"{prefix}{name}.") if sub is not None else {f"{prefix}{name}"}
    return out


def test_every_preset_field_has_a_consumer(presets) -> None:
    import hardware_models

    paths = _leaf_paths(presets.HardwarePreset)
    usage = presets.preset_field_usage()  # raises on a missing or stale entry
    assert set(usage) == paths == set(presets.preset_field_paths())
    for path, use in usage.items():
        cls = use.consumer.split("(")[0].split(".")[0]
        assert cls == "HardwarePreset" or hasattr(hardware_models, cls), (path, use.consumer)
        assert set(use.link_budget) <= {"source_in_hub", "detection_in_hub", "hub_memory_swap"}
    # metadata and fields the link budget does not read are named, never silent
    component_only = {p for p, u in usage.items() if not u.link_budget}
    assert {"name", "description", "fibre.length_km", "switch.max_circuits", "qpu.n_comm_qubits",
            "memory.read_efficiency"} <= component_only
    assert all(p.startswith("data_memory.") or p in component_only for p in component_only)


def _set(preset, updates: dict):
    data = preset.model_dump()
    for path, value in updates.items():
        *parents, leaf = path.split(".")
        node = data
        for part in parents:
            if node.get(part) is None:
                node[part] = {}
            node = node[part]
        node[leaf] = value
    return type(preset).model_validate(data)


def _signature(preset, schemes) -> tuple:
    import numpy as np

    from hardware_models.link_budget import preset_link_budget

    out = []
    for scheme in schemes:
        heraldings = (None, "double_click", "single_click") if scheme == "detection_in_hub" else (None,)
        for heralding in heraldings:
            b = preset_link_budget(preset, scheme, fibre_length_a_km=2.0, fibre_length_b_km=5.0,
                                   n_ports=16, heralding=heralding)
            swap_ns = b.timing.swap_ns if b.timing is not None else 0.0
            out.append((b.p_success, b.fidelity, b.attempt_period_ns, b.setup_ns, swap_ns, b.target,
                        np.round(b.heralded_state, 15).tobytes()))
    return tuple(out)


def _candidates(value, annotation):
    import typing

    literal = [a for a in typing.get_args(annotation) if isinstance(a, str)]
    if isinstance(value, bool):
        return [not value]
    if literal:
        return [a for a in literal if a != value]
    if isinstance(value, int | float):
        return [v for v in (value * 0.5, value * 2, 0.5, 0.05, 0.97, 3, 1e3, 1e6, 1e8, 1e-6)
                if v != value]
    return []


def _annotation(model, path: str):
    import typing

    from pydantic import BaseModel

    *parents, leaf = path.split(".")
    for part in parents:
        ann = model.model_fields[part].annotation
        model = next(c for c in [ann, *typing.get_args(ann)]
                     if isinstance(c, type) and issubclass(c, BaseModel))
    return model.model_fields[leaf].annotation


@pytest.mark.parametrize("name", ["near_term_nv", "near_term_trapped_ion"])
def test_link_budget_fields_change_the_link_budget(presets, name: str) -> None:
    """Each field the usage map says a closed form reads moves that closed form for some
    perturbation (with a base that makes the effect visible, e.g. dark counts on)."""
    from pydantic import ValidationError

    from modenhub_net.errors import UserInputError as InputError

    preset = presets.load_preset(name)
    usage = presets.preset_field_usage()
    bases = [{}, {"detector.dark_count_rate_hz": 1e6}, {"bsm.detector.dark_count_rate_hz": 1e6},
             {"detector.dark_count_rate_hz": 1e6, "detector.number_resolving": True},
             {"bsm.detector.dark_count_rate_hz": 1e6, "bsm.detector.number_resolving": True},
             {"switch.loss_per_stage_db": 1.0}, {"memory.t2_ns": 1e4}, {"source.mu": 0.3}]
    unmoved = []
    for path, use in usage.items():
        if not use.link_budget:
            continue
        annotation = _annotation(presets.HardwarePreset, path)
        moved = False
        for base in bases:
            try:
                base_preset = _set(preset, base)
            except (ValidationError, InputError):
                continue
            before = _signature(base_preset, use.link_budget)
            value = base_preset.model_dump()
            for part in path.split("."):
                value = value[part]
            for candidate in _candidates(value, annotation):
                try:
                    changed = _set(base_preset, {path: candidate})
                except (ValidationError, InputError):
                    continue
                if _signature(changed, use.link_budget) != before:
                    moved = True
                    break
            if moved:
                break
        if not moved:
            unmoved.append(path)
    assert unmoved == [], f"fields the usage map gives to the link budget that do not move it: {unmoved}"


#: which spec a preset section must reach: the QPU side, the hub side, or both (``memory`` and
#: ``qpu`` describe the QPUs' memories and gates *and* the hub memory's; spec.py docstrings)
_SIDES = {"fibre": ("qpu",), "detector": ("qpu",), "data_memory": ("qpu",),
          "transduction_efficiency": ("qpu",), "memory": ("qpu", "hub"), "qpu": ("qpu", "hub"),
          "source": ("hub",), "bsm": ("hub",), "switch": ("hub",)}


def _spec_signature(preset) -> dict[str, tuple]:
    from modenhub_net.network.spec import HubSpec, QpuSpec

    qpu = QpuSpec.from_preset(preset, fibre_length_km=2.0)
    hub = HubSpec.from_preset(preset)
    return {"qpu": (qpu.model_dump_json(), qpu.comm_memory().model_dump_json()),
            "hub": (hub.model_dump_json(),)}


def test_every_preset_field_reaches_the_network_specs(presets) -> None:
    """Each preset field, perturbed, changes what the hub network is built from
    (``QpuSpec.from_preset`` / ``HubSpec.from_preset``, each side that uses it), for at least
    one shipped preset.

    Catches a field that the usage map names but the specs drop (0.4.0 lost the gate and
    read-out errors this way). Exempt by design: ``name``/``description`` (labels) and
    ``fibre.length_km`` (each QPU's own fibre length replaces it).
    """
    import typing

    from pydantic import ValidationError

    from modenhub_net.errors import UserInputError as InputError

    exempt = {"name", "description", "fibre.length_km"}
    unmoved = []
    for path in presets.preset_field_usage():
        if path in exempt:
            continue
        annotation = _annotation(presets.HardwarePreset, path)
        sides = _SIDES[path.split(".")[0]]
        moved = False
        for name in presets.available_presets():
            preset = presets.load_preset(name)
            value = preset.model_dump()
            for part in path.split("."):
                value = None if value is None else value[part]
            if value is None:
                if int not in typing.get_args(annotation):
                    continue  # e.g. data_memory absent: another preset has it
                candidates = [8]
            else:
                candidates = _candidates(value, annotation)
            before = _spec_signature(preset)
            for candidate in candidates:
                try:
                    changed = _set(preset, {path: candidate})
                except (ValidationError, InputError):
                    continue
                after = _spec_signature(changed)
                if all(after[side] != before[side] for side in sides):
                    moved = True
                    break
            if moved:
                break
        if not moved:
            unmoved.append((path, sides))
    assert unmoved == [], f"preset fields that do not reach QpuSpec/HubSpec: {unmoved}"
