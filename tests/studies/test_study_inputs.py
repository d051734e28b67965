"""Valid, in-range study scenarios run; invalid ones are refused up front naming the user's field."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from modenhub_net.errors import UserInputError
from modenhub_net.studies import cache_decoherence as cd
from modenhub_net.studies import calibrated_hub_study as ch
from modenhub_net.studies import hardware_scenarios as hs

from ._shipped import shipped


def _hs_doc(**over) -> dict:
    """The shipped hardware_scenarios at a tiny size (one N, one sensitivity parameter)."""
    base = dict(
        presets=["ideal"],
        n_qpus=[4],
        workload=dict(requests=40),
        sensitivity=dict(n_qpus=4, requests=40, parameters=["hom_visibility"]),
    )
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return shipped("hardware_scenarios", **base)


def _run(module, doc: dict, out) -> object:
    return module.run_scenario(doc, source="t.toml", out_dir=out, seed=None, trials=None, quiet=True)


@pytest.mark.parametrize(
    ("module", "doc", "field"),
    [
        (hs, _hs_doc(policies=[]), "policies"),
        (hs, _hs_doc(policies=["naive", "naive"]), "policies"),
        (hs, _hs_doc(presets=["ideal", "ideal"]), "presets"),
        (ch, shipped("paper_fig3_physical", policies=[]), "policies"),
        (ch, shipped("paper_fig3_physical", policies=["naive", "naive"]), "policies"),
    ],
)
def test_empty_or_duplicate_lists_refused(module, doc: dict, field: str, tmp_path) -> None:
    out = tmp_path / "out"
    with pytest.raises(UserInputError, match=rf"^t\.toml: {field} = "):
        _run(module, doc, out)
    assert not out.exists()


@pytest.mark.parametrize(
    ("module", "doc", "field"),
    [
        (ch, shipped("paper_fig3_physical", model=dict(p0=1.0)), "model.p0 = 1.0"),
        (cd, shipped("cache_decoherence", stream=dict(p0=1.0)), "stream.p0 = 1.0"),
    ],
)
def test_unreachable_calibration_names_the_users_field(module, doc: dict, field: str, tmp_path) -> None:
    # p_eff(N) above 1/2 (a lossless double-click attempt) would need a switch with gain: the
    # error names the user's p0, never a derived switch loss the user did not write
    out = tmp_path / "out"
    with pytest.raises(UserInputError) as info:
        _run(module, doc, out)
    message = str(info.value)
    assert field in message and "switch_loss" not in message and "0.5" in message
    assert not out.exists()


def test_calibration_bound_is_reachable() -> None:
    # p0 exactly at the bound: p_eff(2) = 1/2 needs a lossless switch (0 dB), and is accepted
    beta = 0.35
    doc = shipped("paper_fig3_physical", model=dict(p0=0.5 * (1 + beta), beta=beta), n_qpus=[2, 4])
    scenario = ch.CalibratedScenario.model_validate(doc)
    assert scenario.model.p_eff(2) == pytest.approx(ch.max_calibrated_probability())
    above = shipped("paper_fig3_physical", model=dict(p0=0.5 * (1 + beta) * (1 + 1e-6), beta=beta))
    with pytest.raises(UserInputError, match="model.p0"):
        ch.run_scenario(above, source="t.toml", out_dir=None, seed=None, trials=None, quiet=True)


def test_preset_without_successes_runs_and_says_so(tmp_path) -> None:
    # near_term_nv at N = 4 with 40 requests of <= 3 rounds: (almost surely) no success; the log
    # axes must not fail on all-zero data
    out = _run(hs, _hs_doc(presets=["near_term_nv"]), tmp_path / "nv")
    table = pd.read_csv(out / "table.csv")
    assert (out / "policies.png").is_file() and (out / "REPORT.md").is_file()
    assert set(table["preset"]) == {"near_term_nv"}
    assert table["success_rate"].between(0.0, 1.0).all()


def test_all_cnot_workload_runs(tmp_path) -> None:
    out = _run(hs, _hs_doc(workload=dict(cnot_fraction=1.0)), tmp_path / "cnot")
    table = pd.read_csv(out / "table.csv")
    assert (table["teleport_successes"] == 0).all() and table["teleport_fidelity"].isna().all()
    assert (table["cnot_successes"] > 0).all()
    # ideal hardware: every teleported CNOT is exact
    assert table["cnot_fidelity"].to_numpy() == pytest.approx(1.0, abs=1e-9)
    sens = pd.read_csv(out / "sensitivity.csv")
    assert math.isnan(sens["product"].iloc[0])
