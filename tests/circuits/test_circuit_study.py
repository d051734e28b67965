"""Scenario kind ``circuit`` (modenhub_net.studies.circuit_study)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from modenhub_net.config import load_toml
from modenhub_net.errors import UserInputError
from modenhub_net.studies import circuit_study
from protocols.circuits.closed_forms import ghz_ladder_fidelity

pytest.importorskip("networkx")
SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "circuits" / "ghz8_hub.toml"


def test_shipped_hub_scenario_runs_and_writes(tmp_path):
    pytest.importorskip("openqasm3.parser")
    out = circuit_study.run_scenario(
        load_toml(SCENARIO), source=str(SCENARIO), out_dir=tmp_path / "r", seed=None, trials=None, quiet=True
    )
    summary = pd.read_csv(out / "summary.csv")
    assert summary.loc[0, "ebit_source"] == "hub" and summary.loc[0, "ebits_consumed"] == 3
    ebits = pd.read_parquet(out / "ebits.parquet")
    assert (ebits["delivered_ns"] > ebits["requested_ns"]).all()
    assert 0.3 < summary.loc[0, "fidelity"] < ebits["fidelity_delivered"].max()


def test_evaluate_point_with_werner_ebits_matches_the_closed_form():
    document = {
        "kind": "circuit",
        "name": "g",
        "circuit": "ghz:5",
        "run": {"qpus": 5},
        "ebits": {"fidelity": 0.9},
    }
    table = circuit_study.evaluate_point(document, seed=1)
    assert table.loc[0, "fidelity"] == pytest.approx(ghz_ladder_fidelity(5, 0.9), abs=1e-12)


def test_bad_scenarios_name_the_field():
    with pytest.raises(UserInputError, match="qpus"):
        circuit_study.load_scenario(
            {"kind": "circuit", "name": "x", "circuit": "ghz:4", "run": {"qpus": 17}}, source="x.toml"
        )
    with pytest.raises(UserInputError, match="fidelity"):
        circuit_study.load_scenario(
            {
                "kind": "circuit",
                "name": "x",
                "circuit": "ghz:4",
                "run": {"qpus": 2},
                "ebits": {"fidelity": 1.5},
            },
            source="x.toml",
        )


def test_study_grid_and_outputs(tmp_path):
    table = circuit_study.study_table(presets=("future",), circuits=("ghz:6", "qft:4"))
    assert len(table) == 10
    for circuit, part in table.groupby("circuit"):
        on3 = part[(part["n_qpus"] == 3) & ~part["prefetch"]]
        kl = on3[(on3["partition"] == "kl") & ~on3["share_ebits"]].iloc[0]
        rr = on3[on3["partition"] == "round_robin"].iloc[0]
        shared = on3[on3["share_ebits"]].iloc[0]
        assert rr["nonlocal_gates"] >= kl["nonlocal_gates"], circuit
        assert shared["ebits_consumed"] <= kl["ebits_consumed"] == kl["nonlocal_gates"], circuit
    circuit_study.write_study(table, tmp_path)
    assert {"table.csv", "circuit_study.png", "TABLE.md"} <= {p.name for p in tmp_path.iterdir()}
