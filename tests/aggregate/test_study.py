"""Scenario validation, outputs of ``modenhub run`` and the sweep point function."""

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modenhub_net import UserInputError
from modenhub_net.aggregate import REQUEST_COLUMNS, SUMMARY_COLUMNS, AggregateModel
from modenhub_net.cli import main
from modenhub_net.config import load_toml
from modenhub_net.studies.aggregate_study import (
    adaptive_savings,
    evaluate_point,
    load_scenario,
    run_scenario,
)

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "paper_fig3.toml"

ISSUE_COLUMNS = (
    "n_qpus, strategy, trials, successes, success_rate, success_ci_low, success_ci_high, "
    "mean_attempts, attempts_ci_low, attempts_ci_high, cache_hits, cache_hit_rate, "
    "analytic_success_rate, analytic_mean_attempts"
).split(", ")


def small_doc(**study):
    doc = {
        "kind": "aggregate",
        "name": "small",
        "seed": 5,
        "model": {"p0": 0.35, "beta": 0.35, "kappa": 0.9, "rounds": 3},
        "study": {"n_qpus": [2, 3, 8], "trials": 300,
                  "strategies": ["naive", "orchestrated", "orchestrated_nocache", "adaptive"]},
    }
    doc["study"].update(study)
    return doc


def test_shipped_scenario_is_the_paper():
    scenario = load_scenario(load_toml(SCENARIO), source=str(SCENARIO))
    assert scenario.name == "paper_fig3"
    assert scenario.study.n_qpus == tuple(range(2, 129))
    assert scenario.study.trials == 2500
    m = scenario.model
    assert (m.p0, m.beta, m.kappa, m.rounds, m.k_min) == (0.35, 0.35, 0.9, 3, 2)
    assert {"naive", "orchestrated", "orchestrated_nocache", "adaptive"} <= set(
        scenario.study.strategies
    )


def test_run_writes_the_three_outputs(tmp_path, capsys):
    out = run_scenario(small_doc(), source="t.toml", out_dir=tmp_path / "r", seed=None,
                       trials=None, quiet=False)
    assert out == tmp_path / "r"
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    assert set(ISSUE_COLUMNS) <= set(summary.columns)
    assert len(summary) == 3 * 4
    cached = summary[summary["strategy"] == "orchestrated"]
    assert cached["analytic_success_rate"].isna().all()  # empty cells: no closed form
    assert summary[summary["strategy"] == "naive"]["analytic_success_rate"].notna().all()
    requests = pd.read_parquet(out / "requests.parquet")
    assert list(requests.columns) == list(REQUEST_COLUMNS)
    assert len(requests) == 3 * 4 * 300
    requests["strategy"] = requests["strategy"].astype(str)
    per_point = requests.groupby(["n_qpus", "strategy"])["success"].sum()
    merged = summary.set_index(["n_qpus", "strategy"])["successes"]
    assert per_point.sort_index().to_dict() == merged.sort_index().to_dict()
    assert (out / "fig3.png").stat().st_size > 10_000
    savings = pd.read_csv(out / "adaptive_savings.csv")
    assert (savings["saved_attempts"] >= -1e-12).all()
    assert (savings["adaptive_success"] >= savings["paper_success"] - 1e-12).all()
    assert not (out / "skipped.txt").exists()
    captured = capsys.readouterr()
    # stdout: only the result rows at the largest N (N = 8)
    header, *rows = captured.out.splitlines()
    assert header.split()[:2] == ["n_qpus", "strategy"] and len(rows) == 4
    assert all(row.split()[0] == "8" for row in rows) and "adaptive" in captured.out


def test_n1_is_skipped_and_said(tmp_path, capsys):
    out = run_scenario(small_doc(n_qpus=[1, 2]), source="t.toml", out_dir=tmp_path / "r",
                       seed=None, trials=None, quiet=False)
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["n_qpus"]) == {2}
    assert "N = 1" in (out / "skipped.txt").read_text()
    captured = capsys.readouterr()
    assert "skipped N = 1" in captured.err and "skipped" not in captured.out
    assert "Skipped N = 1" in (out / "REPORT.md").read_text()


def test_range_form_of_n(tmp_path):
    scenario = load_scenario(small_doc(n_qpus={"first": 2, "last": 10, "step": 4}), source="t")
    assert scenario.study.n_qpus == (2, 6, 10)


@pytest.mark.parametrize(
    "section, key, value, field",
    [
        ("model", "p0", 0.0, "model.p0"),
        ("model", "p0", 1.5, "model.p0"),
        ("model", "beta", -0.1, "model.beta"),
        ("model", "rounds", 0, "model.rounds"),
        ("model", "kappa", 0.0, "model.kappa"),
        ("model", "typo", 1, "model.typo"),
        ("study", "trials", 0, "study.trials"),
        ("study", "strategies", ["naive", "greedy"], "study.strategies[1]"),
        ("study", "n_qpus", [0, 2], "study.n_qpus"),
        ("study", "n_qpus", [2, 2], "study.n_qpus"),
        ("study", "n_qpus", {"first": 9, "last": 2}, "study.n_qpus"),
        ("adaptive", "target_success", 1.0, "adaptive.target_success"),
        (None, "seed", -1, "seed"),
    ],
)
def test_bad_values_name_the_field_and_write_nothing(tmp_path, section, key, value, field):
    doc = small_doc()
    if section is None:
        doc[key] = value
    else:
        doc.setdefault(section, {})[key] = value
    out = tmp_path / "never"
    with pytest.raises(UserInputError) as info:
        run_scenario(doc, source="bad.toml", out_dir=out, seed=None, trials=None, quiet=True)
    message = str(info.value)
    assert message.startswith("bad.toml: ")
    assert field in message
    assert not out.exists()


def test_unknown_strategy_message_lists_the_allowed_ones():
    with pytest.raises(UserInputError, match="orchestrated_nocache"):
        load_scenario(small_doc(strategies=["greedy"]), source="x.toml")


def test_overrides_apply_before_validation():
    doc = small_doc()
    scenario = load_scenario(doc, source="t", seed=9, trials=40)
    assert scenario.seed == 9 and scenario.study.trials == 40
    assert doc["seed"] == 5 and doc["study"]["trials"] == 300  # caller's dict untouched
    with pytest.raises(UserInputError, match="study.trials"):
        load_scenario(doc, source="t", trials=0)


def test_evaluate_point_is_pure_and_matches_run(tmp_path):
    doc = small_doc()
    before = copy.deepcopy(doc)
    a = evaluate_point(doc, seed=12)
    b = evaluate_point(doc, seed=12)
    c = evaluate_point(doc, seed=13)
    assert doc == before
    pd.testing.assert_frame_equal(a, b)
    assert not a["successes"].equals(c["successes"])
    out = run_scenario(doc, source="t", out_dir=tmp_path / "r", seed=12, trials=None, quiet=True)
    written = pd.read_csv(out / "summary.csv")
    assert (written["successes"].to_numpy() == a["successes"].to_numpy()).all()
    assert np.allclose(written["mean_attempts"], a["mean_attempts"], rtol=1e-5)


def test_adaptive_savings_table():
    table = adaptive_savings(AggregateModel(), [1, 2, 128])
    assert list(table["n_qpus"]) == [2, 128]
    row = table.iloc[-1]
    assert row["paper_schedule"] == "7-7-7"
    assert row["saved_attempts"] > 0 and row["adaptive_success"] == pytest.approx(row["paper_success"])


def test_cli_end_to_end(tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["run", str(SCENARIO), "--out", str(out), "--seed", "3", "--trials", "50",
                 "--quiet"])
    assert code == 0
    assert capsys.readouterr().out == ""
    summary = pd.read_csv(out / "summary.csv")
    assert (summary["trials"] == 50).all() and summary["n_qpus"].max() == 128
    assert {"summary.csv", "requests.parquet", "fig3.png"} <= {p.name for p in out.iterdir()}


def test_cli_bad_scenario_exits_2_without_writing(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(SCENARIO.read_text().replace("beta = 0.35", "beta = -1.0"))
    out = tmp_path / "never"
    assert main(["run", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "model.beta = -1.0" in err and str(bad) in err
    assert not out.exists()
