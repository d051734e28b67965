"""hardware_scenarios: policies on presets agree with closed forms where they exist; runner contract."""

from __future__ import annotations

import math

import pytest

from modenhub_net.errors import UserInputError
from modenhub_net.studies import hardware_scenarios as hs


def _doc(**over) -> dict:
    doc = dict(
        kind="hardware_scenarios",
        name="hs_test",
        seed=5,
        presets=["ideal", "future"],
        n_qpus=[4, 16],
        workload=dict(requests=150),
        sensitivity=dict(n_qpus=4, requests=150, parameters=["emission_efficiency", "hom_visibility"]),
    )
    doc.update(over)
    return doc


def test_naive_success_matches_closed_form(validation_scale: float) -> None:
    s = hs.load_scenario(_doc(), source="t")
    n_req = max(400, int(2000 * validation_scale))
    frame = hs.run_point(s, "future", 8, "naive", requests=n_req)
    p = float(frame["p_attempt"].iloc[0])
    expected = 1 - (1 - p) ** s.workload.rounds
    se = math.sqrt(expected * (1 - expected) / n_req)
    assert abs(frame["success"].mean() - expected) < 4.5 * se
    assert (frame["attempts"] <= s.workload.rounds).all()


def test_ideal_preset_is_perfect() -> None:
    s = hs.load_scenario(_doc(), source="t")
    frame = hs.run_point(s, "ideal", 4, "orchestrated", requests=200)
    ok = frame[frame["success"]]
    assert ok["fidelity"].min() == pytest.approx(1.0, abs=1e-9)
    assert ok["pair_fidelity"].min() == pytest.approx(1.0, abs=1e-9)


def test_unknown_sensitivity_parameter_rejected(tmp_path) -> None:
    with pytest.raises(UserInputError, match="parameter"):
        hs.run_scenario(
            _doc(sensitivity=dict(parameters=["warp_drive"])),
            source="t",
            out_dir=tmp_path / "x",
            seed=None,
            trials=None,
            quiet=True,
        )
    assert not (tmp_path / "x").exists()


def test_run_scenario_writes_outputs(tmp_path) -> None:
    out = hs.run_scenario(_doc(), source="t", out_dir=tmp_path / "hs", seed=None, trials=None, quiet=True)
    for name in ("table.csv", "table.md", "sensitivity.csv", "policies.png", "sensitivity.png", "REPORT.md"):
        assert (out / name).is_file(), name
