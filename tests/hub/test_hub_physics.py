"""Physical hub: ideal fidelity, detailed vs sampled agreement, invariants, calibration, CLI errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardware_models import BsmParams, DetectorParams, FibreParams, MemoryParams, SwitchParams
from modenhub_net.errors import UserInputError
from modenhub_net.network.builder import run_policy
from modenhub_net.network.records import records_frame
from modenhub_net.network.spec import HubSpec, QpuSpec
from protocols.workload import uniform_requests


def _run(mode, *, n=4, count=300, seed=1, policy="orchestrated", hub=None, memory=None):
    fibre = FibreParams(length_km=1.0)
    nodes = [QpuSpec(fibre=fibre, memory=memory or MemoryParams()) for _ in range(n)]
    reqs = uniform_requests(np.random.default_rng(seed), n_qpus=n, count=count, cnot_fraction=0.3)
    return run_policy(nodes=nodes, hub=hub or HubSpec(), scheme="detection_in_hub",
                      link_mode=mode, policy=policy, requests=reqs, seed=seed)


def test_ideal_hardware_gives_unit_fidelity_and_budget():
    records, net, orch = _run("sampled")
    ok = [r for r in records if r.success]
    assert ok and all(abs(r.fidelity - 1) < 1e-9 and abs(r.pair_fidelity - 1) < 1e-9 for r in ok)
    assert all(r.rounds <= 3 for r in records)
    assert net.held_qubits() == 2 * len(orch.cache)


def test_same_seed_same_records():
    a = records_frame(_run("sampled", seed=4)[0])
    b = records_frame(_run("sampled", seed=4)[0])
    assert a.equals(b)


@pytest.mark.validation
def test_detailed_and_sampled_agree(validation_scale):
    count = max(200, int(1500 * validation_scale))
    detector = DetectorParams(efficiency=0.8, dark_count_rate_hz=0.0, window_ns=10.0, dead_time_ns=0.0)
    hub = HubSpec(bsm=BsmParams(visibility=0.9, detector=detector),
                  switch=SwitchParams(architecture="multistage", loss_per_stage_db=0.5))
    memory = MemoryParams(t1_ns=1e9, t2_ns=1e8, emission_efficiency=0.6)
    fr = {m: records_frame(_run(m, count=count, seed=7, hub=hub, memory=memory)[0])
          for m in ("sampled", "detailed")}
    for col in ("success", "attempts"):
        x, y = fr["sampled"][col].astype(float), fr["detailed"][col].astype(float)
        se = math.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
        assert abs(x.mean() - y.mean()) < 4 * se, col
    x = fr["sampled"]["fidelity"].dropna()
    y = fr["detailed"]["fidelity"].dropna()
    se = math.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
    assert abs(x.mean() - y.mean()) < 4 * se


@pytest.mark.validation
def test_calibrated_physical_matches_aggregate(validation_scale):
    from modenhub_net.studies.calibrated_hub_study import CalibratedScenario, agreement, simulate

    trials = max(300, int(2500 * validation_scale))
    sc = CalibratedScenario(kind="calibrated_hub", name="t", seed=11, n_qpus=(2, 8, 32, 128),
                            trials=trials)
    table = agreement(sc, simulate(sc))
    assert (table["p_physical"] - table["p_eff"]).abs().max() < 1e-12
    assert table["z_success"].abs().max() < 4
    assert table["z_attempts"].abs().max() < 4


@pytest.mark.parametrize("patch, field", [
    ({"network": {"n_qpus": 1}}, "n_qpus"),
    ({"network": {"n_qpus": 4, "fibre_length_km": -1.0}}, "fibre_length_km"),
    ({"network": {"n_qpus": 4, "preset": "nope"}}, "preset"),
    ({"network": {"n_qpus": 4, "scheme": "teleport_in_hub"}}, "scheme"),
    ({"orchestrator": {"k_min": 0}}, "k_min"),
    ({"orchestrator": {"policies": ["greedy"]}}, "policies"),
])
def test_bad_config_raises_before_writing(tmp_path, patch, field):
    from modenhub_net.studies.hub_study import run_scenario

    doc = {"kind": "hub", "name": "x", "seed": 1, "network": {"n_qpus": 4}}
    for key, value in patch.items():
        doc[key] = {**doc.get(key, {}), **value}
    with pytest.raises(UserInputError, match=field):
        run_scenario(doc, source="t.toml", out_dir=tmp_path / "out", seed=None, trials=None, quiet=True)
    assert not (tmp_path / "out").exists()
