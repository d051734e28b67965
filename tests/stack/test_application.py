"""The message-driven application layer keeps the serial path's physics: the mean
teleportation and teleported-CNOT fidelities of the concurrent stack agree with the serial
orchestrator's on the same workload (independent samples, two-sample z within 4)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modenhub_net.network.stack_run import run_stack
from protocols.workload import uniform_requests
from tests.stack.helpers import hub, node


@pytest.fixture(scope="module")
def frames():
    requests = uniform_requests(np.random.default_rng(7), n_qpus=6, count=1000,
                                mean_interarrival_ns=50_000.0, cnot_fraction=0.5)
    out = {}
    for seed, mode in ((1, "serial"), (2, "concurrent")):
        run = run_stack(nodes=[node()] * 6, hub=hub(), scheme="detection_in_hub",
                        link_mode="sampled", requests=requests, seed=seed, mode=mode)
        out[mode] = run.frame()
    return out


@pytest.mark.parametrize("kind", ["teleport", "cnot"])
@pytest.mark.parametrize("column", ["fidelity", "pair_fidelity"])
def test_concurrent_fidelities_agree_with_serial(frames, kind, column):
    samples = []
    for mode in ("serial", "concurrent"):
        frame = frames[mode]
        values = frame.loc[frame["success"] & (frame["kind"] == kind), column].to_numpy()
        assert values.size > 300 and ((values >= 0.0) & (values <= 1.0)).all()
        samples.append(values)
    a, b = samples
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    assert abs(a.mean() - b.mean()) < 4.0 * se, (a.mean(), b.mean(), se)


def test_every_successful_operation_reports_done_once(frames):
    frame = frames["concurrent"]
    assert frame["request_id"].is_unique and len(frame) == 1000
    ok = frame[frame["success"]]
    generated, hits = ok[~ok["cache_hit"]], ok[ok["cache_hit"]]
    assert (generated["end_ns"] > generated["released_ns"]).all()  # the operation follows
    assert hits["released_ns"].isna().all() and (hits["attempts"] == 0).all()
    assert np.isfinite(ok["fidelity"]).all()
