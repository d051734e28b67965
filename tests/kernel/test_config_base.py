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
    assert str(info.value) == "s.toml: fibre.length_km = -2: Input should be greater than or equal to 0"


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
    assert sorted(p.name for p in target.iterdir()) == ["a.csv"]
    assert [p.name for p in target.parent.iterdir()] == ["run"]


def test_atomic_write_text(tmp_path):
    path = tmp_path / "f.txt"
    atomic_write_text(path, "hello")
    assert path.read_text() == "hello"
    assert stat.S_IMODE(os.stat(path).st_mode) & stat.S_IRGRP
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]
