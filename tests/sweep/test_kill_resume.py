"""A sweep killed mid-run (SIGKILL, SIGINT) keeps every finished point and resumes.

Subprocess tests of the real ``modenhub sweep`` command on 12 points of ~0.3 s each.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from config.cases import aggregate
from config.tomlw import dumps

from modenhub_net.store import ResultStore, load_summary
from modenhub_net.studies.aggregate_study import evaluate_point
from modenhub_net.sweep import plan_sweep, run_sweep

N_POINTS = 12


@pytest.fixture(scope="module")
def slow_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """The sweep file and its table from a clean serial in-process run."""
    folder = tmp_path_factory.mktemp("slow")
    base = aggregate(study__n_qpus=[2, 4, 8, 16, 32, 64, 128],
                     study__strategies=["naive", "orchestrated", "orchestrated_nocache"],
                     study__trials=200_000)
    (folder / "base.toml").write_text(dumps(base))
    (folder / "sweep.toml").write_text(dumps({
        "name": "slow", "base_file": "base.toml",
        "grid": {"model.beta": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}, "seeds": {"values": [1, 2]},
    }))
    plan = plan_sweep(folder / "sweep.toml")
    assert len(plan.points) == N_POINTS
    store = ResultStore(folder / "reference")
    store.write_manifest(plan.manifest())
    run_sweep(plan.points, evaluate_point, store, workers=1, progress=False)
    return folder / "sweep.toml", load_summary(folder / "reference")


def start(sweep: Path, out: Path, workers: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "modenhub_net.cli", "sweep", str(sweep), "--out", str(out),
         "--workers", str(workers), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for_points(out: Path, count: int, proc: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len(ResultStore(out).finished()) >= count:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError("the sweep did not store points in time")


@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_then_resume(slow_sweep, tmp_path: Path, workers: int) -> None:
    sweep, reference = slow_sweep
    out = tmp_path / "out"
    proc = start(sweep, out, workers)
    wait_for_points(out, 3, proc)
    proc.kill()  # SIGKILL: no cleanup at all
    proc.communicate(timeout=30)
    store = ResultStore(out)
    done = store.finished()
    assert 3 <= len(done) < N_POINTS
    for key in done:  # every written point is complete and equals the clean run's rows
        assert store.is_intact(key)
        rows = store.read_point(key)
        expected = reference[reference["point_hash"] == key].reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, expected, check_exact=True)
    assert not list((out / "points").glob("*.parquet.*"))  # nothing partial posing as a point
    # resume
    proc = start(sweep, out, workers)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    match = re.search(r"(\d+) points: (\d+) already done, (\d+) to run", stdout)
    assert match is not None, stdout
    total, skipped, todo = map(int, match.groups())
    assert (total, todo) == (N_POINTS, N_POINTS - skipped) and skipped >= len(done)
    assert "Traceback" not in stderr
    assert ResultStore(out).temporary_files() == []
    pd.testing.assert_frame_equal(load_summary(out), reference, check_exact=True)


def test_sigint_stops_cleanly(slow_sweep, tmp_path: Path) -> None:
    sweep, reference = slow_sweep
    out = tmp_path / "out"
    proc = start(sweep, out, 2)
    wait_for_points(out, 2, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted:" in stderr and "run the same command again to resume" in stderr
    assert "Traceback" not in stderr
    kept = ResultStore(out).finished()
    assert len(kept) >= 2 and all(ResultStore(out).is_intact(k) for k in kept)
    assert set(kept) <= set(reference["point_hash"])
