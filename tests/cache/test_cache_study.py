"""The cache study runs end to end on a small grid and refuses bad input before writing."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from modenhub_net.errors import UserInputError
from modenhub_net.studies import study_module

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "cache_study.toml"


def _document(**changes):
    doc = tomllib.loads(SCENARIO.read_text())
    doc["workload"]["skews"] = ["hotspot"]
    doc["cache"].update(capacities=[1], cutoffs_ns=[math.inf], pregenerate=[False, True])
    doc["eviction"]["t2_odd_qpus_ns"] = 5e6
    for section, values in changes.items():
        doc[section].update(values)
    return doc


def test_small_cache_study_writes_its_results(tmp_path):
    module = study_module("cache_study", source="test")
    out = module.run_scenario(_document(), source="scenarios/cache_study.toml",
                              out_dir=tmp_path / "cs", seed=None, trials=300, quiet=True)
    names = {p.name for p in out.iterdir()}
    assert {"REPORT.md", "points.csv", "cache_study.pdf", "cache_study.png", "scenario.json"} <= names
    table = pd.read_csv(out / "points.csv")
    assert list(table["label"]) == ["no cache", "paper cache", "grid", "budget/oldest",
                                    "budget/lowest_fidelity"]
    nocache, paper, pre = (table.iloc[i] for i in range(3))
    assert nocache["hit_rate"] == 0 and nocache["attempts_saved"] == 0
    # pre-generation with one request per ms and rounds of ~10 us: most requests hit
    h0, h1 = paper["hit_rate"], pre["hit_rate"]
    se = math.sqrt(h0 * (1 - h0) / 300 + h1 * (1 - h1) / 300)
    assert pre["hit_rate"] - paper["hit_rate"] > 4 * se
    assert pre["pregeneration_attempts"] > 0 and paper["pregeneration_attempts"] == 0
    for _, row in table.iterrows():
        assert row["hit_rate_low"] <= row["hit_rate"] <= row["hit_rate_high"]
    report = (out / "REPORT.md").read_text()
    assert "hotspot workload" in report and "300 requests per point" in report


def test_bad_scenario_is_refused_before_writing(tmp_path):
    module = study_module("cache_study", source="test")
    with pytest.raises(UserInputError, match="hot_qpu"):
        module.run_scenario(_document(workload={"hot_qpu": 8}), source="x.toml",
                            out_dir=tmp_path / "no", seed=None, trials=None, quiet=True)
    with pytest.raises(UserInputError):
        module.run_scenario(_document(cache={"capacities": [0]}), source="x.toml",
                            out_dir=tmp_path / "no", seed=None, trials=None, quiet=True)
    assert not (tmp_path / "no").exists()
