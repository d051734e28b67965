"""Scenario kinds ``circuit`` and ``circuit_study`` (modenhub_net.studies.circuit_study), through
``modenhub run`` and ``modenhub sweep``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from modenhub_net.cli import main
from modenhub_net.config import load_toml
from modenhub_net.errors import UserInputError
from modenhub_net.store import load_summary
from modenhub_net.studies import circuit_study
from protocols.circuits.closed_forms import ghz_ladder_fidelity

pytest.importorskip("networkx")
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios" / "circuits"
SCENARIO = SCENARIOS / "ghz8_hub.toml"

SMALL_STUDY = """\
kind = "circuit_study"
name = "small"
seed = 3
replicates = 2
presets = ["future"]
variants = ["naive", "round_robin", "share_ebits"]
shots = 500
[[series]]
circuit = "ghz:6"
qpus = [1, 3]
variant_qpus = 3
[[series]]
circuit = "qft:4"
qpus = [1, 2]
variant_qpus = 2
"""


def test_modenhub_run_of_the_shipped_hub_scenario(tmp_path, capsys):
    pytest.importorskip("openqasm3.parser")
    out = tmp_path / "r"
    assert main(["run", str(SCENARIO), "--out", str(out)]) == 0
    assert capsys.readouterr().out.endswith(f"results written to {out}\n")
    summary = pd.read_csv(out / "summary.csv")
    assert summary.loc[0, "ebit_source"] == "hub" and summary.loc[0, "ebits_consumed"] == 3
    assert summary.loc[0, "policy"] == "orchestrated"
    ebits = pd.read_parquet(out / "ebits.parquet")
    assert (ebits["delivered_ns"] > ebits["requested_ns"]).all()
    assert 0.3 < summary.loc[0, "fidelity"] < ebits["fidelity_delivered"].max()
    assert {"gates.parquet", "plan.parquet"} <= {p.name for p in out.iterdir()}


def test_modenhub_sweep_over_a_circuit_scenario(tmp_path, capsys):
    # the shipped scenario with the built-in GHZ-8 (a sweep point does not know the base file's
    # folder, so a relative .qasm path would not resolve; see the sweep runner)
    base = SCENARIO.read_text().replace('circuit = "ghz8.qasm"', 'circuit = "ghz:8"')
    assert 'circuit = "ghz:8"' in base
    (tmp_path / "base.toml").write_text(base)
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(
        'name = "ghz_policies"\nbase_file = "base.toml"\n'
        '[grid]\n"ebits.policy" = ["naive", "orchestrated"]\n"run.partition" = ["kl", "round_robin"]\n'
    )
    out = tmp_path / "store"
    assert main(["sweep", str(sweep), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    table = load_summary(out)
    assert len(table) == 4 and set(table["policy"]) == {"naive", "orchestrated"}
    kl = table[table["partition"] == "kl"]["nonlocal_gates"]
    rr = table[table["partition"] == "round_robin"]["nonlocal_gates"]
    assert (kl == 3).all() and (rr > 3).all()  # GHZ-8 on 4 QPUs: a KL cut of 3, round-robin more


def test_evaluate_point_with_werner_ebits_matches_the_closed_form():
    document = {"kind": "circuit", "name": "g", "circuit": "ghz:5", "run": {"qpus": 5},
                "ebits": {"fidelity": 0.9}}
    table = circuit_study.evaluate_point(document, seed=1)
    assert table.loc[0, "fidelity"] == pytest.approx(ghz_ladder_fidelity(5, 0.9), abs=1e-12)


def test_one_qpu_is_monolithic_even_with_hub_ebits():
    document = {"kind": "circuit", "name": "g", "circuit": "ghz:5", "run": {"qpus": 1},
                "ebits": {"source": "hub"}}
    row = circuit_study.evaluate_point(document, seed=1).iloc[0]
    assert row.fidelity == pytest.approx(1.0, abs=1e-12)
    assert (row.ebits_consumed, row.nonlocal_gates) == (0, 0)


@pytest.mark.parametrize(("change", "message"), [
    ({"run": {"qpus": 0}}, "run.qpus"),
    ({"run": {"qpus": 17}}, "run.qpus"),
    ({"run": {"qpus": 2}, "ebits": {"fidelity": 1.5}}, "ebits.fidelity"),
    ({"run": {"qpus": 2}, "ebits": {"policy": "greedy"}}, "ebits.policy"),
    ({"run": {"qpus": 2, "policy": "prefetch"}}, "run.policy"),
])
def test_bad_scenarios_name_the_field(change, message):
    document = {"kind": "circuit", "name": "x", "circuit": "ghz:4", **change}
    with pytest.raises(UserInputError, match=message):
        circuit_study.load_scenario(document, source="x.toml")


def test_study_through_modenhub_run(tmp_path, capsys):
    path = tmp_path / "small.toml"
    path.write_text(SMALL_STUDY)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    files = {p.name for p in out.iterdir()}
    assert {"runs.csv", "summary.csv", "REPORT.md", "circuit_study.pdf", "circuit_study.png",
            "circuit_study_variants.pdf", "circuit_study_variants.png"} <= files
    runs, summary = pd.read_csv(out / "runs.csv"), pd.read_csv(out / "summary.csv")
    # 2 series x (2 QPU counts + 3 variants) points x 2 replicates
    assert len(runs) == 20 and len(summary) == 10 and (summary["replicates"] == 2).all()
    mono = summary[summary["n_qpus"] == 1]
    assert (mono["ebits_consumed"] == 0).all() and (mono["fidelity"] > 0.95).all()
    for circuit, part in summary.groupby("circuit"):
        at = part.set_index("variant")
        base = part[(part["variant"] == "baseline") & (part["n_qpus"] > 1)].iloc[0]
        assert at.loc["round_robin", "nonlocal_gates"] >= base["nonlocal_gates"], circuit
        assert at.loc["share_ebits", "ebits_consumed"] <= base["ebits_consumed"], circuit
        ok = part.dropna(subset=["fidelity_low"])
        assert ((ok["fidelity_low"] <= ok["fidelity"]) & (ok["fidelity"] <= ok["fidelity_high"])).all()
    assert "## What changed from the previous version" in (out / "REPORT.md").read_text()


def test_shipped_study_scenario_validates():
    study = circuit_study.load_scenario(load_toml(SCENARIOS / "circuit_study.toml"),
                                        source=str(SCENARIOS / "circuit_study.toml"))
    assert isinstance(study, circuit_study.CircuitStudy) and study.replicates >= 3
    assert max(q for s in study.series for q in s.qpus) == 16
    assert min(q for s in study.series for q in s.qpus) == 1
    with pytest.raises(UserInputError, match="replicates"):
        circuit_study.load_scenario(load_toml(SCENARIOS / "circuit_study.toml"), source="s.toml",
                                    trials=1)


def test_seed_and_trials_flags_override_a_circuit_scenario_and_a_study() -> None:
    """``--seed`` and ``--trials`` reach ``seed`` and ``run.shots`` (one circuit) or
    ``replicates`` (a study); the document itself is left alone."""
    study_doc = load_toml(SCENARIOS / "circuit_study.toml")
    study = circuit_study.load_scenario(study_doc, source="s.toml", seed=5, trials=4)
    assert (study.seed, study.replicates) == (5, 4)
    assert study_doc == load_toml(SCENARIOS / "circuit_study.toml")
    one = load_toml(SCENARIOS / "ghz8_hub.toml")
    scenario = circuit_study.load_scenario(one, source=str(SCENARIOS / "ghz8_hub.toml"), seed=9,
                                           trials=321)
    assert (scenario.seed, scenario.run.shots) == (9, 321)
    assert one == load_toml(SCENARIOS / "ghz8_hub.toml")
    assert circuit_study.load_scenario(one, source="<test>").seed == one["seed"]


def test_report_notes_match_the_shipped_tables() -> None:
    """Every number the hand-written ``REPORT_NOTES`` quotes is the shipped summary's value
    (rounded as written), so a regeneration that moves one fails here until the text follows."""
    summary = pd.read_csv(SCENARIOS.parents[1] / "results" / "circuit_study" / "summary.csv")
    notes = circuit_study.REPORT_NOTES

    def value(preset: str, circuit: str, qpus: int, variant: str, column: str = "fidelity") -> float:
        row = summary.query("preset == @preset and circuit == @circuit and n_qpus == @qpus "
                            "and variant == @variant")
        assert len(row) == 1, (preset, circuit, qpus, variant)
        return float(row[column].iloc[0])

    quoted = {  # (preset, circuit, QPUs, variant) -> decimals as written in the notes
        ("near_term_trapped_ion", "qft10", 1, "baseline"): 2,
        ("near_term_trapped_ion", "qaoa10", 1, "baseline"): 2,
        ("future", "ghz16", 16, "baseline"): 2,
        ("future", "qft10", 5, "baseline"): 3,
        ("near_term_trapped_ion", "ghz16", 4, "baseline"): 3,
        ("near_term_trapped_ion", "ghz16", 4, "naive"): 3,
        ("future", "qft10", 5, "naive"): 3,
        ("future", "ghz16", 4, "baseline"): 2,
        ("future", "ghz16", 4, "round_robin"): 2,
        ("future", "qaoa10", 5, "baseline"): 3,
        ("future", "qaoa10", 5, "share_ebits"): 3,
        ("future", "grover3", 3, "baseline"): 3,
        ("future", "grover3", 3, "share_ebits"): 3,
    }
    for key, decimals in quoted.items():
        text = f"{value(*key):.{decimals}f}"
        assert text in notes, (key, text)
    for circuit, qpus in (("qft10", 2), ("qaoa10", 2)):  # "below 0.01 on two or more"
        assert value("near_term_trapped_ion", circuit, qpus, "baseline") < 0.01
    # orchestrated rounds at least halve the naive makespan (trapped-ion GHZ-16 on 4, future QFT-10)
    for key in (("near_term_trapped_ion", "ghz16", 4), ("future", "qft10", 5)):
        assert 2 * value(*key, "baseline", "makespan_ns") <= 1.01 * value(*key, "naive", "makespan_ns")
    # prefetching: makespan -4 to -7 % on `future` (rounded to whole per cent)
    for circuit, qpus in (("ghz16", 4), ("qft10", 5), ("qaoa10", 5), ("grover3", 3)):
        change = value("future", circuit, qpus, "prefetch", "makespan_ns") / \
            value("future", circuit, qpus, "baseline", "makespan_ns") - 1
        assert -0.075 <= change <= -0.035, (circuit, change)
