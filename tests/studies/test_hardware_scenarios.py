"""hardware_scenarios: policies on presets agree with closed forms where they exist; runner contract."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from hardware_models.presets import load_preset
from modenhub_net.aggregate import adaptive_schedule, analytic_success, k_parallel
from modenhub_net.errors import UserInputError
from modenhub_net.studies import hardware_scenarios as hs

from ._shipped import shipped


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


@pytest.mark.validation
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


@pytest.mark.validation
def test_adaptive_success_matches_its_schedule(validation_scale: float) -> None:
    # future: 8 communication qubits >= K(8) = 3 and no cache, so the schedule is never capped
    s = hs.load_scenario(_doc(), source="t")
    n_req = max(400, int(2000 * validation_scale))
    frame = hs.run_point(s, "future", 8, "adaptive", requests=n_req)
    p = float(frame["p_attempt"].iloc[0])
    w = s.workload
    k = k_parallel(8, kappa=w.kappa, k_min=w.k_min)
    schedule = adaptive_schedule(p, rounds=w.rounds, target_success=analytic_success(p, k=k, rounds=w.rounds))
    expected = analytic_success(p, k=schedule)
    se = math.sqrt(expected * (1 - expected) / n_req)
    assert abs(frame["success"].mean() - expected) < 4.5 * se
    assert (frame["cap_bound"] == "").all() and not frame["cache_hit"].any()


def test_pair_fidelity_at_use_is_the_heralded_state() -> None:
    # double click (Barrett & Kok 2005) heralds F = (1 + V)/2 from HOM visibility V; each
    # spin-photon state is a Werner state of emission fidelity F_e, weight p_e = (4 F_e - 1)/3,
    # and the Bell measurement on the photons passes the weights on as a product (entanglement
    # swapping of Werner states): F = p_e^2 (1 + V)/2 + (1 - p_e^2)/4 (dark counts, 1 Hz x 5 ns,
    # add false heralds at a relative weight ~1e-7); the future memory (T2 = 10 s) barely ages
    # the pair over milliseconds of service
    s = hs.load_scenario(_doc(), source="t")
    frame = hs.run_point(s, "future", 4, "naive", requests=400)
    ok = frame[frame["success"]]
    hw = load_preset("future")
    p_e = (4 * hw.memory.emission_fidelity - 1) / 3
    assert len(ok) > 0
    expected = p_e**2 * (1 + hw.bsm.visibility) / 2 + (1 - p_e**2) / 4
    assert frame["heralded_fidelity"].iloc[0] == pytest.approx(expected, abs=1e-5)
    assert ok["pair_fidelity"].mean() == pytest.approx(frame["heralded_fidelity"].iloc[0], abs=1e-4)


def test_single_click_presets_run_single_click() -> None:
    # NV: single click (Cabrillo et al. 1999), p ~ 2 alpha eta: linear in the emission
    # efficiency (x2 -> p x2, less the eta-independent dark-count floor)
    s = hs.load_scenario(_doc(presets=["near_term_nv"]), source="t")
    frame = hs.run_point(s, "near_term_nv", 4, "naive", requests=20)
    assert frame["heralding"].iloc[0] == "single_click"
    built = hs.build_preset_hub("near_term_nv", s.path, 4)
    nodes, hub = hs.PARAMETERS["emission_efficiency"][1](built.nodes, built.hub)
    factor = hs.pair_budget(nodes[0], nodes[1], hub, 4).p_success / built.p_budget
    assert 1.9 < factor < 2.0
    assert frame["p_attempt"].iloc[0] == pytest.approx(built.p_budget, rel=1e-12)


@pytest.mark.validation
def test_shipped_scenario_reduced_size(tmp_path, validation_scale: float) -> None:
    requests = max(200, int(600 * validation_scale))
    doc = shipped(
        "hardware_scenarios",
        presets=["ideal", "future", "near_term_nv"],
        n_qpus=[4, 16],
        workload=dict(requests=requests),
        sensitivity=dict(n_qpus=4, requests=requests, parameters=["emission_efficiency", "hom_visibility"]),
    )
    out = hs.run_scenario(
        doc, source="hardware_scenarios.toml", out_dir=tmp_path / "hs", seed=None, trials=None, quiet=True
    )
    for name in ("table.csv", "table.md", "sensitivity.csv", "policies.png", "sensitivity.png", "REPORT.md"):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "table.csv")
    assert set(table["policy"]) == {"naive", "orchestrated", "adaptive"}
    for col in ("success_rate", "mean_attempts", "mean_latency_ns", "teleport_fidelity", "cnot_fidelity"):
        assert col in table.columns
    naive = table[(table.policy == "naive") & (table.p_attempt > 1e-6)]
    se = (naive.success_closed * (1 - naive.success_closed) / naive.requests) ** 0.5
    assert ((naive.success_rate - naive.success_closed).abs() < 4.5 * se).all()
    ideal = table[table.preset == "ideal"]
    assert (ideal["teleport_fidelity"] > 1 - 1e-9).all()  # no noise anywhere
    sens = pd.read_csv(out / "sensitivity.csv")
    # double click: p ~ eta^2, so doubling the emission efficiency quadruples p (below the cap of 1);
    # the future preset's dark counts (1 Hz x 5 ns windows) add an eta-independent floor ~1e-7 of p
    fut = sens[(sens.preset == "future") & (sens.parameter == "emission_efficiency")]
    assert fut["p_attempt_factor"].iloc[0] == pytest.approx(4.0, rel=1e-5)
    # fidelity intervals are bounded intervals: inside [0, 1]
    for col in ("teleport_fidelity", "cnot_fidelity", "fidelity", "pair_fidelity"):
        lo, hi = table[f"{col}_ci_low"].dropna(), table[f"{col}_ci_high"].dropna()
        assert ((lo >= 0) & (lo <= 1)).all() and ((hi >= 0) & (hi <= 1)).all(), col
    report = (out / "REPORT.md").read_text()
    assert "Regenerate: `modenhub run scenarios/hardware_scenarios.toml`" in report
    assert "Headline at N = 16" in report
