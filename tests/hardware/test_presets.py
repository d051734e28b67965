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
