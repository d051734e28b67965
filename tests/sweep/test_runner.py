"""The runner: serial and distributed results are identical; resume; failures; dead workers."""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
import pytest
from config.cases import aggregate
from config.tomlw import dumps

from modenhub_net.cli import main
from modenhub_net.store import ResultStore, load_summary
from modenhub_net.sweep import run_sweep
from modenhub_net.sweep.testing import busy_point, crash_once_point, make_points


def failing_point(document, *, seed):  # module-level: picklable
    if document["x"] == 0.2:
        raise ValueError("boom")
    return busy_point(document, seed=seed)


def test_point_functions_pickle() -> None:
    for fn in (busy_point, crash_once_point, failing_point):
        assert pickle.loads(pickle.dumps(fn)) is fn


def test_serial_and_two_workers_identical(tmp_path: Path) -> None:
    points = make_points(6, work=20, seeds=2)
    serial = run_sweep(points, busy_point, ResultStore(tmp_path / "a"), workers=1, progress=False)
    parallel = run_sweep(points, busy_point, ResultStore(tmp_path / "b"), workers=2,
                         progress=False)
    assert serial.computed == parallel.computed == 12
    a, b = load_summary(tmp_path / "a"), load_summary(tmp_path / "b")
    a_sorted = a.sort_values(["point_hash", "row"]).reset_index(drop=True)
    b_sorted = b.sort_values(["point_hash", "row"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a_sorted, b_sorted, check_exact=True)
    for key in ResultStore(tmp_path / "a").finished():  # per point, file by file
        pd.testing.assert_frame_equal(ResultStore(tmp_path / "a").read_point(key),
                                      ResultStore(tmp_path / "b").read_point(key), check_exact=True)


def test_resume_skips_finished(tmp_path: Path) -> None:
    points = make_points(5, work=1)
    store = ResultStore(tmp_path)
    notes: list[str] = []
    run_sweep(points[:2], busy_point, store, workers=1, progress=False)
    report = run_sweep(points, busy_point, store, workers=1, progress=False, log=notes.append)
    assert (report.skipped, report.computed) == (2, 3)
    assert notes == ["5 points: 2 already done, 3 to run"]


def test_failed_point_is_reported_not_stored(tmp_path: Path) -> None:
    points = make_points(4, work=1)
    report = run_sweep(points, failing_point, ResultStore(tmp_path), workers=1, progress=False)
    assert report.computed == 3 and len(report.failed) == 1
    assert "ValueError: boom" in report.failed[0][1]
    assert len(ResultStore(tmp_path).finished()) == 3


def test_killed_worker_task_is_rerun(tmp_path: Path) -> None:
    """Each task kills its worker process the first time; Dask reruns it, nothing is lost."""
    markers = tmp_path / "markers"
    markers.mkdir()
    points = make_points(1, work=1, seeds=3, extra={"marker_dir": str(markers)})
    report = run_sweep(points, crash_once_point, ResultStore(tmp_path / "s"), workers=2,
                       progress=False)
    assert report.computed == 3 and not report.failed
    assert len(list(markers.iterdir())) == 3  # every task did crash once
    expected = run_sweep(points, crash_once_point, ResultStore(tmp_path / "ref"), workers=1,
                         progress=False)  # markers exist now: no crash in-process
    assert expected.computed == 3
    pd.testing.assert_frame_equal(load_summary(tmp_path / "s").sort_values("point_hash")
                                  .reset_index(drop=True),
                                  load_summary(tmp_path / "ref").sort_values("point_hash")
                                  .reset_index(drop=True))


@pytest.fixture
def small_sweep(tmp_path: Path) -> Path:
    (tmp_path / "base.toml").write_text(dumps(aggregate()))
    (tmp_path / "sweep.toml").write_text(dumps({
        "name": "small", "base_file": "base.toml",
        "grid": {"model.beta": [0.1, 0.4], "model.p0": [0.3, 0.6]}, "seeds": {"count": 2},
    }))
    return tmp_path / "sweep.toml"


def test_cli_one_and_two_workers_identical(small_sweep: Path, tmp_path: Path, capsys) -> None:
    for workers in ("1", "2"):
        status = main(["sweep", str(small_sweep), "--out", str(tmp_path / f"w{workers}"),
                       "--workers", workers, "--quiet"])
        assert status == 0
    out = capsys.readouterr().out
    assert out.count("8 points: 0 already done, 8 to run") == 2
    a, b = load_summary(tmp_path / "w1"), load_summary(tmp_path / "w2")
    assert len(a) == 8 * 2 * 2  # points x N values x strategies
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert (tmp_path / "w1" / "summary.parquet").exists()
    assert pd.read_parquet(tmp_path / "w1" / "summary.parquet").equals(a)
    assert main(["sweep", str(small_sweep), "--out", str(tmp_path / "w1"), "--quiet"]) == 0
    assert "8 points: 8 already done, 0 to run" in capsys.readouterr().out


def test_existing_scheduler_gives_the_serial_results(tmp_path: Path) -> None:
    """``scheduler=`` (``--scheduler tcp://HOST:PORT``): an external cluster, same rows."""
    import logging

    from distributed import LocalCluster

    points = make_points(4, work=2, seeds=2)
    run_sweep(points, busy_point, ResultStore(tmp_path / "serial"), workers=1, progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      silence_logs=logging.ERROR, dashboard_address=None) as cluster:
        report = run_sweep(points, busy_point, ResultStore(tmp_path / "remote"),
                           scheduler=cluster.scheduler_address, progress=False)
    assert report.computed == 8
    pd.testing.assert_frame_equal(
        load_summary(tmp_path / "serial").sort_values(["point_hash", "row"]).reset_index(drop=True),
        load_summary(tmp_path / "remote").sort_values(["point_hash", "row"]).reset_index(drop=True),
        check_exact=True)


def test_unreachable_scheduler_writes_nothing(small_sweep: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    status = main(["sweep", str(small_sweep), "--out", str(out), "--quiet",
                   "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert status == 2
    assert "--scheduler = 'tcp://127.0.0.1:9': cannot connect to a Dask scheduler" in err
    assert "Traceback" not in err and not out.exists()


def test_points_of_other_sources_are_reused_and_reported(tmp_path: Path) -> None:
    from modenhub_net.store import PointRecord

    points = make_points(3, work=1)
    store = ResultStore(tmp_path)
    first = points[0]
    store.write_point(PointRecord(key=first.key, seed=first.seed, labels=first.labels),
                      busy_point(first.document, seed=first.seed),
                      meta={"source_digest": "0000000000000000"})
    notes: list[str] = []
    report = run_sweep(points, busy_point, store, workers=1, progress=False, log=notes.append,
                       manifest={"name": "t"})
    assert (report.skipped, report.skipped_other_source, report.computed) == (1, 1, 2)
    assert notes[0] == "3 points: 1 already done, 2 to run"
    assert notes[1].startswith("note: 1 of the 1 points already done were computed by other")
    digests = {store.read_meta(p.key)["source_digest"] for p in points[1:]}
    assert digests == {store.read_manifest()["source_digest"]} and len(digests.pop()) == 16


def test_point_meta_records_code_and_library_versions(tmp_path: Path) -> None:
    """What the id does not include but can change numbers is kept with every point."""
    import platform

    import numpy as np

    points = make_points(2, work=1)
    for workers in (1, 2):
        store = ResultStore(tmp_path / str(workers))
        run_sweep(points, busy_point, store, workers=workers, progress=False)
        for point in points:
            meta = store.read_meta(point.key)
            assert meta["code_version"] and len(meta["source_digest"]) == 16
            assert (meta["python"], meta["numpy"]) == (platform.python_version(), np.__version__)
            assert meta["platform"].endswith(platform.machine()) and meta["elapsed_s"] >= 0


def test_second_writer_is_refused(small_sweep: Path, tmp_path: Path, capsys) -> None:
    """One writer per store: a second sweep into a folder in use stops with a message."""
    out = tmp_path / "busy"
    with ResultStore(out).writer_lock():
        status = main(["sweep", str(small_sweep), "--out", str(out), "--quiet", "--workers", "1"])
        err = capsys.readouterr().err
        assert status == 2 and "another sweep is writing into this folder" in err
        assert not (out / "points").exists() and not (out / "manifest.json").exists()
    assert main(["sweep", str(small_sweep), "--out", str(out), "--quiet", "--workers", "1"]) == 0
