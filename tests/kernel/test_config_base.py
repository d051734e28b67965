"""Configuration base: strict models, nested parameter errors, atomic output."""

import os
import stat

import pytest
from pydantic import Field

from modenhub_net import UserInputError
from modenhub_net.config import ParamsModel, StrictModel, validate_document
from modenhub_net.output import atomic_output_dir, atomic_write_text


class _Fibre(ParamsModel):
    length_km: float = Field(1.0, ge=0.0)


class _Scenario(StrictModel):
    fibre: _Fibre = _Fibre()
    n_qpus: int = Field(4, ge=2)


def test_nested_params_error_names_the_full_field_path():
    with pytest.raises(UserInputError) as info:
        validate_document(_Scenario, {"fibre": {"length_km": -2}}, source="s.toml")
    assert str(info.value) == ("s.toml: fibre.length_km = -2: Input should be greater than or equal to 0; "
                               "allowed: a finite number in [0.0, inf)")


def test_unknown_key_missing_and_range_messages():
    with pytest.raises(UserInputError, match=r"s.toml: colour: unknown key"):
        validate_document(_Scenario, {"colour": "red"}, source="s.toml")
    with pytest.raises(UserInputError, match=r"s.toml: n_qpus = 1: .*greater than or equal to 2"):
        validate_document(_Scenario, {"n_qpus": 1}, source="s.toml")


def test_models_are_frozen_and_canonical_json_is_stable():
    a = _Scenario(n_qpus=5)
    with pytest.raises(Exception, match="frozen"):
        a.n_qpus = 6
    assert a.canonical_json() == _Scenario.model_validate({"n_qpus": 5}).canonical_json()


def test_atomic_output_dir_replaces_on_success_and_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "results" / "run"
    with atomic_output_dir(target) as staging:
        (staging / "a.csv").write_text("x\n")
    assert (target / "a.csv").read_text() == "x\n"
    mode = stat.S_IMODE(os.stat(target).st_mode)
    assert mode & stat.S_IRGRP  # not owner-only
    with pytest.raises(RuntimeError), atomic_output_dir(target) as staging:
        (staging / "b.csv").write_text("half")
        raise RuntimeError("crash")
    # (the folder may also hold the program's own marker file, a dot file)
    assert sorted(p.name for p in target.iterdir() if not p.name.startswith(".")) == ["a.csv"]
    assert [p.name for p in target.parent.iterdir()] == ["run"]


def test_atomic_write_text(tmp_path):
    path = tmp_path / "f.txt"
    atomic_write_text(path, "hello")
    assert path.read_text() == "hello"
    assert stat.S_IMODE(os.stat(path).st_mode) & stat.S_IRGRP
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


# -- strict types: one rule set for TOML and the Python API ----------------------------------


class _Typed(ParamsModel):
    p0: float = Field(0.35, gt=0.0, le=1.0)
    rounds: int = Field(3, ge=1, le=1000)
    count: int = Field(1, ge=0)
    t1_ns: float = Field(float("inf"), gt=0.0)
    scale: float = Field(1.0, gt=0.0)
    grid: tuple[float, ...] = (1.0,)
    pairs: tuple[tuple[int, ...], ...] = ()
    cap: int | None = Field(None, ge=1)


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("p0", True, "p0 = True: a boolean is not a number; allowed: a finite number in (0.0, 1.0]"),
        ("rounds", False, "rounds = False: a boolean is not a number; allowed: an integer in [1, 1000]"),
        ("rounds", 2.0,
         "rounds = 2.0: a float is not a count (write an integer); allowed: an integer in [1, 1000]"),
        ("count", 1e300, "count = 1e+300: a float is not a count"),
        ("count", 2**63, f"count = {2**63}: too large; allowed: an integer in [0, {2**63 - 1}]"),
        ("p0", "0.5", "p0 = '0.5': a string is not a number"),
        ("p0", float("nan"), "p0 = nan: NaN is not a number"),
        ("scale", float("inf"), "scale = inf: must be finite; allowed: a finite number in (0.0, inf)"),
        ("scale", 10**400, "too large for a float"),
        ("cap", True, "cap = True: a boolean is not a number"),
        ("cap", 3.0, "cap = 3.0: a float is not a count"),
        ("grid", [1.0, float("nan")], "grid = [1.0, nan]: NaN is not a number"),
        ("t1_ns", float("nan"), "t1_ns = nan: NaN is not a number; allowed: a number in (0.0, inf]"),
        ("t1_ns", True, "t1_ns = True: a boolean is not a number"),
        ("grid", [1.0, True], "grid[1] = True"),
    ],
)
def test_strict_types_name_field_value_and_range(field, value, fragment):
    with pytest.raises(UserInputError) as info:
        _Typed(**{field: value})
    assert fragment in str(info.value)
    assert str(info.value).startswith("_Typed: ")


def test_strict_types_accept_what_toml_and_numpy_give():
    import numpy as np

    model = _Typed(p0=1, scale=2, grid=[1, 2.5], pairs=[[1, 2], [3]], cap=np.int64(4),
                   rounds=np.int32(5), t1_ns=float("inf"))
    assert model.p0 == 1.0 and isinstance(model.p0, float)
    assert model.grid == (1.0, 2.5) and model.pairs == ((1, 2), (3,))
    assert model.cap == 4 and type(model.cap) is int and model.rounds == 5
    assert model.t1_ns == float("inf")  # documented infinite default: inf allowed
    with pytest.raises(UserInputError, match="a boolean is not a number"):
        _Typed(p0=np.bool_(True))


def test_unknown_key_suggests_the_closest_valid_key():
    with pytest.raises(UserInputError) as info:
        validate_document(_Scenario, {"fibre": {"lenght_km": 2.0}, "n_qpu": 3}, source="s.toml")
    lines = str(info.value).splitlines()
    assert "s.toml: fibre.lenght_km: unknown key (not allowed here); did you mean 'length_km'?" in lines
    assert "s.toml: n_qpu: unknown key (not allowed here); did you mean 'n_qpus'?" in lines
    with pytest.raises(UserInputError,
                       match=r"zzz: unknown key \(not allowed here\); valid keys: fibre, n_qpus"):
        validate_document(_Scenario, {"zzz": 1}, source="s.toml")


def test_toml_booleans_and_floats_refused_through_validate_document():
    with pytest.raises(UserInputError, match=r"s.toml: n_qpus = True: a boolean is not a number"):
        validate_document(_Scenario, {"n_qpus": True}, source="s.toml")
    with pytest.raises(UserInputError, match=r"s.toml: fibre.length_km = True: a boolean"):
        validate_document(_Scenario, {"fibre": {"length_km": True}}, source="s.toml")
    assert validate_document(_Scenario, {"fibre": {"length_km": 3}}, source="s").fibre.length_km == 3.0


# -- load_toml: bounded input -----------------------------------------------------------------


def test_load_toml_refuses_large_files(tmp_path):
    from modenhub_net.config.base import MAX_SCENARIO_BYTES, load_toml

    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * MAX_SCENARIO_BYTES + "\n")
    with pytest.raises(UserInputError, match=r"big.toml: scenario file too large"):
        load_toml(big)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_load_toml_refuses_devices(device):
    from modenhub_net.config import load_toml

    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    with pytest.raises(UserInputError, match=rf"^{device}: not a regular file"):
        load_toml(device)


def test_load_toml_refuses_fifos_and_folders_without_blocking(tmp_path):
    from modenhub_net.config import load_toml

    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)  # opening it for reading would block forever
    with pytest.raises(UserInputError, match=r"pipe.toml: not a regular file"):
        load_toml(fifo)
    with pytest.raises(UserInputError, match=r": not a regular file \(a folder\)"):
        load_toml(tmp_path)


def test_load_toml_refuses_bad_bytes_and_deep_nesting(tmp_path):
    from modenhub_net.config.base import MAX_TOML_DEPTH, load_toml

    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'name = "a\xff"\n')
    with pytest.raises(UserInputError, match=r"bad.toml: not UTF-8 text \(byte 0xff at offset 9\)"):
        load_toml(bad)
    for depth, text in [(MAX_TOML_DEPTH + 1, "x = " + "[" * 30 + "]" * 30 + "\n"),
                        (5000, "x = " + "[" * 5000 + "]" * 5000 + "\n"),
                        (40, "a" + ".a" * 40 + " = 1\n")]:
        deep = tmp_path / f"deep{depth}.toml"
        deep.write_text(text)
        with pytest.raises(UserInputError, match=r"deep\d+.toml: TOML nested too deeply"):
            load_toml(deep)
    ok = tmp_path / "ok.toml"
    ok.write_text("a.b.c = [[1, 2], [3]]\n")
    assert load_toml(ok) == {"a": {"b": {"c": [[1, 2], [3]]}}}
    for message in ("no such scenario file",):
        with pytest.raises(UserInputError, match=message):
            load_toml(tmp_path / "missing.toml")


def test_finite_float_annotation_and_explicit_inf_opt_in():
    from modenhub_net.config import FiniteFloat

    class _Times(ParamsModel):
        delay_ns: FiniteFloat = 0.0
        cutoff_ns: float = Field(1.0, gt=0.0, allow_inf_nan=True)  # inf documented: no cutoff

    assert _Times(cutoff_ns=float("inf")).cutoff_ns == float("inf")
    with pytest.raises(UserInputError, match=r"delay_ns = inf: must be finite; allowed: a finite number"):
        _Times(delay_ns=float("inf"))
    with pytest.raises(UserInputError, match=r"cutoff_ns = nan: NaN is not a number"):
        _Times(cutoff_ns=float("nan"))
