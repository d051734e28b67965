"""The data-centre study (``kind = "datacentre"``): input validation, the measures on records with
known answers, and a reduced run of the shipped scenario through ``modenhub run``."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modenhub_net.errors import UserInputError
from modenhub_net.studies import STUDY_MODULES, study_module
from modenhub_net.studies.datacentre_study import load_scenario, make_requests, point_metrics

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "datacentre.toml"


def _shipped(**sections) -> dict:
    with open(SCENARIO, "rb") as fh:
        doc = tomllib.load(fh)
    for key, value in sections.items():
        doc[key] = {**doc.get(key, {}), **value} if isinstance(value, dict) else value
    return doc


def test_kind_is_registered() -> None:
    assert STUDY_MODULES["datacentre"] == "modenhub_net.studies.datacentre_study"
    assert hasattr(study_module("datacentre", source="x"), "run_scenario")


@pytest.mark.parametrize(
    ("sections", "field"),
    [
        ({"network": {"sizes": [16, 16]}}, "sizes"),
        ({"network": {"sizes": [2]}}, "sizes"),
        ({"orchestrator": {"schedulers": ["fifo", "lifo"]}}, "schedulers"),
        ({"orchestrator": {"schedulers": ["fifo", "fifo"]}}, "schedulers"),
        ({"workload": {"relative_loads": [0.5, -1.0]}}, "relative_loads"),
        ({"workload": {"urgent_fraction": 1.5}}, "urgent_fraction"),
        ({"workload": {"deadline_ns": 0.0}}, "deadline_ns"),
        ({"workload": {"requests": True}}, "requests"),
        ({"study": {"batches": 2}}, "batches"),
        ({"workload": {"unknown_key": 1}}, "unknown_key"),
    ],
)
def test_bad_input_names_the_field(sections: dict, field: str) -> None:
    with pytest.raises(UserInputError, match=field):
        load_scenario(_shipped(**sections), source="datacentre.toml")


def test_overrides_and_workload_classes() -> None:
    scenario = load_scenario(_shipped(), source="x", seed=7, trials=500)
    assert scenario.seed == 7 and scenario.workload.requests == 500
    requests = make_requests(scenario, size=16, count=4_000, rate_hz=1e6, stream="t")
    again = make_requests(scenario, size=16, count=4_000, rate_hz=1e6, stream="t")
    assert requests == again  # a named stream of the root seed: same requests for every policy
    urgent = np.array([r.deadline_ns == scenario.workload.urgent_deadline_ns for r in requests])
    f = scenario.workload.urgent_fraction
    assert abs(urgent.mean() - f) < 4 * math.sqrt(f * (1 - f) / urgent.size)
    gaps = np.diff([r.arrival_ns for r in requests])
    assert abs(gaps.mean() - 1e3) < 4 * 1e3 / math.sqrt(gaps.size)  # Poisson at 1 MHz: mean gap 1 us
    assert all(r.s != r.d for r in requests)


def test_point_metrics_on_a_known_record() -> None:
    """A regular record: one arrival every 1 us, each served in 2 us; every 4th blocked, every
    5th (of the rest) dropped -- the measures have exact values."""
    n = 4_000
    arrival = np.arange(n) * 1_000.0
    blocked = np.arange(n) % 4 == 3
    dropped = (np.arange(n) % 5 == 4) & ~blocked
    success = ~blocked & ~dropped
    frame = pd.DataFrame({
        "arrival_ns": arrival, "end_ns": arrival + 2_000.0, "success": success, "blocked": blocked,
        "dropped": dropped, "latency_ns": np.where(success, 2_000.0, np.nan),
        "queue_wait_ns": np.full(n, 250.0),
    })
    m = point_metrics(frame, warmup_fraction=0.1, batches=20)
    assert m["offered_hz"] == pytest.approx(1e6)
    assert m["blocking"] == pytest.approx(0.25, abs=1e-3)
    assert m["drop"] == pytest.approx(float(dropped[400:].mean()), abs=1e-12)
    assert m["throughput_hz"] == pytest.approx(1e6 * success[400:].mean(), rel=0.01)
    assert m["served_hz"] == pytest.approx(1e6 * (~blocked & ~dropped)[400:].mean(), rel=0.01)
    assert m["p50_latency_ns"] == m["p99_latency_ns"] == 2_000.0
    assert m["mean_wait_ns"] == 250.0
    assert m["blocking_low"] <= 0.25 <= m["blocking_high"]


def test_reduced_run_writes_the_results(tmp_path) -> None:
    doc = _shipped(
        network={"sizes": [8]},
        orchestrator={"schedulers": ["fifo", "edf"]},
        workload={"requests": 300, "saturation_requests": 200, "relative_loads": [0.5, 1.5]},
        study={"batches": 5},
    )
    module = study_module("datacentre", source="x")
    out = module.run_scenario(doc, source="datacentre.toml", out_dir=tmp_path / "dc", seed=None,
                              trials=None, quiet=True)
    names = {p.name for p in out.iterdir()}
    assert {"points.csv", "saturation.csv", "headline.csv", "datacentre.pdf", "datacentre.png",
            "REPORT.md", "scenario.json"} <= names
    points = pd.read_csv(out / "points.csv")
    assert len(points) == 2 * 2
    assert (points["served_hz"] >= points["throughput_hz"] - 1e-6).all()
    saturation = pd.read_csv(out / "saturation.csv")
    # the hub cannot serve faster than its resources allow (utilisation law): the 159 releases
    # of the window carry, besides the window's busy time, the work begun before it by at most
    # 4 requests (8 QPUs: 4 lanes), each at most (250 + 1000 + 3 x 501) / (250 + 501) = 3.67
    # mean holding times (command latency, reconfiguration unless the lane is reused, R = 3
    # rounds of 501 ns; the mean is at least one round without reconfiguration)
    assert (saturation["saturation_over_bound"] <= 1.0 + 4 * 3.67 / 159).all()
    assert "Saturation throughput" in (out / "REPORT.md").read_text()
