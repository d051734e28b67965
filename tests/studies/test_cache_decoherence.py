"""cache_decoherence: event-driven memories vs closed forms; the request stream vs its closed form."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hardware_models.memory import MemoryParams, stored_pair_fidelity
from modenhub_net.studies import cache_decoherence as cd

from ._shipped import shipped


@pytest.mark.parametrize(
    "params",
    [
        MemoryParams(t2_ns=1e6),
        MemoryParams(t1_ns=2e6, t2_ns=1e6),
        MemoryParams(depolar_time_ns=5e5),
        MemoryParams(t1_ns=1e6, t2_ns=2e6, depolar_time_ns=3e6),
    ],
)
@pytest.mark.parametrize("both", [False, True])
def test_simulated_memory_matches_closed_form(params: MemoryParams, both: bool) -> None:
    for age in (0.0, 3e5, 1e6, 2.5e6):
        assert cd.simulated_pair_fidelity(params, age, both_qubits=both) == pytest.approx(
            stored_pair_fidelity(age, params, both_qubits=both), abs=1e-9
        )


def test_pair_fidelity_at_age_reduces_to_stored_pair_and_dephasing_law() -> None:
    p = MemoryParams(t1_ns=3e6, t2_ns=1e6)
    for age in (0.0, 5e5, 2e6):
        assert cd.pair_fidelity_at_age(age, 1.0, p) == pytest.approx(
            stored_pair_fidelity(age, p, both_qubits=True)
        )
    q = MemoryParams(t2_ns=1e6)
    f0, t = 0.9, 7e5
    assert cd.pair_fidelity_at_age(t, f0, q) == pytest.approx(0.5 + (f0 - 0.5) * math.exp(-2 * t / 1e6))


def _stream(requests: int, cutoffs=(0.1, math.inf)) -> cd.StreamSection:
    return cd.StreamSection(requests=requests, cutoffs_over_t2=cutoffs)


def test_closed_form_limits() -> None:
    k = cd.stream_constants(_stream(100))
    tiny = cd.closed_form_objective(1e-3, k).iloc[0]
    assert tiny["product"] == pytest.approx(k.success_fresh * (2 * k.f0 + 1) / 3, rel=1e-6)
    opt = cd.closed_form_optimum(k)
    grid = cd.closed_form_objective(np.geomspace(1e5, 1e9, 50), k)["product"]
    assert opt["product"] >= grid.max() - 1e-9
    assert opt["cutoff_ns"] <= opt["threshold_cutoff_ns"]  # hits consume spares: optimum moves lower


@pytest.mark.validation
def test_stream_matches_closed_form(validation_scale: float) -> None:
    stream = _stream(max(2000, int(12_000 * validation_scale)))
    k = cd.stream_constants(stream)
    table, records = cd.cutoff_table(stream, seed=3, keep_records_for=(math.inf,))
    closed = cd.closed_form_objective(table["cutoff_ns"].to_numpy(), k)
    for (_, row), (_, c) in zip(table.iterrows(), closed.iterrows(), strict=True):
        se_s = math.sqrt(c["success"] * (1 - c["success"]) / row["requests"])
        assert abs(row["success"] - c["success"]) < 4.5 * se_s
        assert abs(row["teleport_product"] - c["product"]) < 4.5 * row["teleport_product_se"]
        # mean fidelity at use, teleportation and teleported CNOT alike: (2F+1)/3 (pure dephasing)
        for kind in ("teleport", "cnot"):
            se_f = (row[f"{kind}_fidelity_ci_high"] - row[f"{kind}_fidelity_ci_low"]) / 3.92
            assert abs(row[f"{kind}_fidelity"] - c[f"mean_{kind}_fidelity"]) < 4.5 * se_f
    ages = records.loc[records["cache_hit"], "pair_age_ns"].to_numpy()
    mean = 1e9 / k.rate_per_pair_hz
    assert abs(ages.mean() - mean) < 4.5 * mean / math.sqrt(ages.size)  # Exp(lambda): sd = mean


def test_cnot_closed_form_only_for_pure_dephasing() -> None:
    k = cd.stream_constants(_stream(100))
    assert math.isinf(k.memory.t1_ns)  # near_term_trapped_ion: T1 = inf
    row = cd.closed_form_objective(2e7, k).iloc[0]
    assert row["mean_cnot_fidelity"] == pytest.approx(row["mean_teleport_fidelity"])
    finite = cd.StreamConstants(**{**k.__dict__, "memory": MemoryParams(t1_ns=1e9, t2_ns=k.memory.t2_ns)})
    assert math.isnan(cd.closed_form_objective(2e7, finite).iloc[0]["mean_cnot_fidelity"])


def test_sweep_vertex_recovers_a_parabola() -> None:
    c = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 1.0])
    u = np.log10(c)
    product = 0.84 - 0.02 * (u - np.log10(0.25)) ** 2
    table = pd.DataFrame(dict(cutoff_over_t2=c, teleport_product=product, teleport_product_se=1e-3))
    v = cd.sweep_vertex(table, table)
    assert v["cutoff_over_t2"] == pytest.approx(0.25, rel=1e-9)
    assert v["product"] == pytest.approx(0.84)
    assert v["cutoff_over_t2_low"] < 0.25 < v["cutoff_over_t2_high"]
    assert math.isnan(cd.sweep_vertex(table, table.iloc[:2])["cutoff_over_t2"])  # too few points


def test_closed_form_optimum_vs_rate() -> None:
    by_rate = cd.optimum_vs_rate(_stream(100), factors=(0.5, 1.0, 2.0))
    assert list(by_rate["rate_factor"]) == [0.5, 1.0, 2.0]
    # the no-feedback threshold F_tel(c) = S Fbar does not depend on the rate; the optimum lies below it
    assert by_rate["threshold_cutoff_over_t2"].nunique() == 1
    assert (by_rate["cutoff_over_t2"] <= by_rate["threshold_cutoff_over_t2"]).all()
    assert (by_rate["product"] >= by_rate["product_no_cutoff"]).all()


@pytest.mark.validation
def test_shipped_scenario_reduced_size(tmp_path, validation_scale: float) -> None:
    doc = shipped("cache_decoherence", stream=dict(requests=max(800, int(2500 * validation_scale))))
    out = cd.run_scenario(
        doc, source="cache_decoherence.toml", out_dir=tmp_path / "cd", seed=None, trials=None, quiet=True
    )
    for name in (
        "memory_curves.csv",
        "age_at_use.csv",
        "cutoff_sweep.csv",
        "closed_form.csv",
        "optimum.csv",
        "optimum_vs_rate.csv",
        "memory_fidelity.png",
        "age_at_use.png",
        "cutoff.png",
        "REPORT.md",
        "scenario.json",
    ):
        assert (out / name).is_file(), name
    curves = pd.read_csv(out / "memory_curves.csv")
    # every preset, T1/T2 and depolarising, one and both halves stored: exact channel algebra
    assert set(curves["preset"]) == set(doc["memory"]["presets"])
    assert set(curves["model"]) == {"t1t2", "depolarising"} and set(curves["stored"]) == {"one", "both"}
    assert curves["abs_diff"].max() < 1e-9
    table = pd.read_csv(out / "cutoff_sweep.csv")
    z = (table["teleport_product"] - table["closed_product"]) / table["teleport_product_se"]
    assert (z.abs() < 4.5).all()
    opt = pd.read_csv(out / "optimum.csv").set_index("method")
    assert {"sweep", "sweep_quadratic", "closed_form", "closed_form_threshold"} <= set(opt.index)
    # the closed-form optimum of the shipped stream (no randomness): 0.29 T2
    assert opt.loc["closed_form", "cutoff_over_t2"] == pytest.approx(0.29, abs=0.01)
    report = (out / "REPORT.md").read_text()
    assert "Regenerate: `modenhub run scenarios/cache_decoherence.toml`" in report
