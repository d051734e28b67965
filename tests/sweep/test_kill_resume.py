"""A sweep killed mid-run (SIGKILL, SIGINT) keeps every finished point and resumes.

Subprocess tests of the real ``modenhub sweep`` command on 12 points of ~0.3 s each: SIGKILL of
the driver, SIGINT to the driver only and to its whole process group (Ctrl-C in a terminal),
SIGTERM to the driver (batch systems), and SIGKILL of one worker process mid-task.
"""

from __future__ import annotations

import os
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
    """The sweep in its own session, so a signal sent to its process group reaches only it."""
    return subprocess.Popen(
        [sys.executable, "-m", "modenhub_net.cli", "sweep", str(sweep), "--out", str(out),
         "--workers", str(workers), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def check_stored_points(out: Path, reference: pd.DataFrame) -> set[str]:
    """Every point file is complete and equals the clean run's rows; no temporary file."""
    store = ResultStore(out)
    done = store.finished()
    for key in done:
        assert store.is_intact(key)
        expected = reference[reference["point_hash"] == key].reset_index(drop=True)
        pd.testing.assert_frame_equal(store.read_point(key), expected, check_exact=True)
    assert store.temporary_files() == []
    return done


def resume(sweep: Path, out: Path, workers: int, reference: pd.DataFrame, kept: int) -> None:
    """Run the same command again: it skips the kept points and completes the sweep."""
    proc = start(sweep, out, workers)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    match = re.search(r"(\d+) points: (\d+) already done, (\d+) to run", stdout)
    assert match is not None, stdout
    total, skipped, todo = map(int, match.groups())
    assert (total, todo) == (N_POINTS, N_POINTS - skipped) and skipped >= kept
    assert "Traceback" not in stderr
    assert ResultStore(out).temporary_files() == []
    pd.testing.assert_frame_equal(load_summary(out), reference, check_exact=True)


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
    done = check_stored_points(out, reference)
    assert 3 <= len(done) < N_POINTS
    assert not list((out / "points").glob("*.parquet.*"))  # nothing partial posing as a point
    resume(sweep, out, workers, reference, len(done))


@pytest.mark.parametrize(("workers", "target"), [(2, "driver"), (1, "group"), (2, "group")])
def test_sigint_stops_cleanly_then_resume(slow_sweep, tmp_path: Path, workers: int,
                                          target: str) -> None:
    """SIGINT to the driver, or to the whole process group as Ctrl-C in a terminal does
    (workers included): exit 130, one message and nothing else on stderr, points kept."""
    sweep, reference = slow_sweep
    out = tmp_path / "out"
    proc = start(sweep, out, workers)
    wait_for_points(out, 2, proc)
    if target == "group":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr  # no worker traceback, no warning
    assert lines[0].startswith("interrupted: ") and "run the same command again to resume" in lines[0]
    kept = check_stored_points(out, reference)
    assert len(kept) >= 2
    assert re.search(rf"interrupted: {len(kept)} of {N_POINTS} points are stored", lines[0])
    resume(sweep, out, workers, reference, len(kept))


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_stops_cleanly_then_resume(slow_sweep, tmp_path: Path, workers: int) -> None:
    """SIGTERM (a batch system's time limit, ``scancel``) to the driver: exit 143, the same
    single line as for Ctrl-C, every finished point kept, and the resume completes."""
    sweep, reference = slow_sweep
    out = tmp_path / "out"
    proc = start(sweep, out, workers)
    wait_for_points(out, 2, proc)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted: "), stderr
    kept = check_stored_points(out, reference)
    assert len(kept) >= 2
    resume(sweep, out, workers, reference, len(kept))


def test_sigkill_of_a_worker_mid_task_reruns_its_task(slow_sweep, tmp_path: Path) -> None:
    """A worker process killed from outside while it computes a point: Dask's nanny starts
    a new worker, the scheduler reruns the lost task, the sweep completes with the same rows."""
    psutil = pytest.importorskip("psutil")
    sweep, reference = slow_sweep
    out = tmp_path / "out"
    proc = start(sweep, out, 2)
    wait_for_points(out, 2, proc)

    def workers() -> list:
        return [child for child in psutil.Process(proc.pid).children(recursive=True)
                if "spawn_main" in " ".join(child.cmdline())
                and "resource_tracker" not in " ".join(child.cmdline())]

    victims = workers()
    assert len(victims) == 2, [c.cmdline() for c in victims]
    victims[0].send_signal(signal.SIGKILL)  # every point takes ~0.3 s: it is mid-task
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert "12 computed, 0 reused, 0 failed" in stdout, stdout
    assert "Traceback" not in stderr
    check_stored_points(out, reference)
    pd.testing.assert_frame_equal(load_summary(out), reference, check_exact=True)
