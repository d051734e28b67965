"""Faults of the machine and of the store: one line naming the path and what
to do, exit status 1, earlier results intact; damaged points reported and recomputed."""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import modenhub_net.output as output
from modenhub_net.cli import main
from modenhub_net.errors import EnvironmentFault
from modenhub_net.store import ResultStore, load_summary
from modenhub_net.store.result_store import META_KEY, UnverifiedPointsWarning
from modenhub_net.sweep import plan_sweep, run_sweep
from modenhub_net.sweep.testing import busy_point, make_points

from .conftest import snapshot

SWEEP = """\
name = "tiny_sweep"
base_file = "a.toml"
[grid]
"model.beta" = [0.1, 0.4]
"model.p0" = [0.3, 0.6]
"""


def _main(argv: list[str], capsys) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def _raise(code: int):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code), str(args[0]) if args else None)

    return fail


# -- modenhub run ------------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "advice"), [
    (errno.ENOSPC, "disk is full"),
    (errno.EROFS, "read-only"),
    (errno.EACCES, "permission denied"),
])
def test_run_fault_while_writing(workdir: Path, capsys, monkeypatch, code: int,
                                 advice: str) -> None:
    """The fault hits the final rename (the replace of the previous results)."""
    assert _main(["run", "a.toml", "--out", "res", "--quiet"], capsys)[0] == 0
    before = snapshot(workdir)
    with monkeypatch.context() as patch:
        patch.setattr(output.os, "rename", _raise(code))
        status, _, err = _main(["run", "a.toml", "--out", "res", "--quiet", "--seed", "5"],
                               capsys)
    assert status == 1
    line = _one_line(err)
    assert advice in line and "res" in line
    assert snapshot(workdir) == before  # earlier results intact, no leftover


def test_run_disk_full_while_files_are_written(workdir: Path, capsys, monkeypatch) -> None:
    """ENOSPC from the fsync of an atomic file write inside the study's staging folder."""
    assert _main(["run", "a.toml", "--out", "res", "--quiet"], capsys)[0] == 0
    before = snapshot(workdir)
    with monkeypatch.context() as patch:
        patch.setattr(output.os, "fsync", _raise(errno.ENOSPC))
        status, _, err = _main(["run", "a.toml", "--out", "res", "--quiet", "--seed", "5"],
                               capsys)
    assert status == 1 and "disk is full" in _one_line(err)
    assert snapshot(workdir) == before


def test_run_unwritable_parent(workdir: Path, capsys, monkeypatch) -> None:
    """mkdtemp of the staging folder refused (permission denied; as root chmod cannot show it)."""
    before = snapshot(workdir)
    with monkeypatch.context() as patch:
        patch.setattr(output.tempfile, "mkdtemp", _raise(errno.EACCES))
        status, _, err = _main(["run", "a.toml", "--out", "res", "--quiet"], capsys)
    assert status == 1 and "permission denied" in _one_line(err)
    assert snapshot(workdir) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_run_read_only_folder_by_chmod(workdir: Path, capsys) -> None:  # pragma: no cover
    locked = workdir / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        status, _, err = _main(["run", "a.toml", "--out", "locked/res", "--quiet"], capsys)
    finally:
        locked.chmod(0o755)
    assert status == 1 and "locked" in _one_line(err)


SLOW_RUN = """
import sys, time
import modenhub_net.studies.aggregate_study as study
def slow(*args, **kwargs):
    print("computing", flush=True)
    time.sleep(120)
study.run_scenario = slow
from modenhub_net.cli import main
sys.exit(main(["run", "a.toml"]))
"""


def test_sigterm_stops_run_like_ctrl_c(workdir: Path) -> None:
    """SIGTERM during the computation: exit 143, one line, earlier results untouched."""
    subprocess.run([sys.executable, "-m", "modenhub_net.cli", "run", "a.toml", "--quiet"],
                   cwd=workdir, check=True, capture_output=True, timeout=120)
    before = snapshot(workdir)
    proc = subprocess.Popen([sys.executable, "-c", SLOW_RUN], cwd=workdir,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "computing"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert err.strip() == "terminated; finished results are kept"
    assert snapshot(workdir) == before


# -- sweeps ------------------------------------------------------------------------------------

@pytest.fixture
def sweep_dir(workdir: Path) -> Path:
    (workdir / "sweep.toml").write_text(SWEEP, encoding="utf-8")
    return workdir


def test_lock_that_is_a_folder(sweep_dir: Path, capsys) -> None:
    assert _main(["sweep", "sweep.toml", "--out", "store", "--workers", "1", "--quiet"],
                 capsys)[0] == 0
    (sweep_dir / "store" / ".lock").unlink()
    (sweep_dir / "store" / ".lock").mkdir()
    status, _, err = _main(["sweep", "sweep.toml", "--out", "store", "--workers", "1",
                            "--quiet"], capsys)
    line = _one_line(err)
    assert status == 1 and "store/.lock" in line and "folder" in line
    assert (sweep_dir / "store" / ".lock").is_dir()


def test_folder_where_a_point_file_belongs(sweep_dir: Path, capsys) -> None:
    assert _main(["sweep", "sweep.toml", "--out", "store", "--workers", "1", "--quiet"],
                 capsys)[0] == 0
    store = ResultStore(sweep_dir / "store")
    key = sorted(store.finished())[0]
    store.point_path(key).unlink()
    store.point_path(key).mkdir()
    (store.point_path(key) / "user.txt").write_text("mine\n")
    before = snapshot(sweep_dir / "store")
    status, _, err = _main(["sweep", "sweep.toml", "--out", "store", "--workers", "1",
                            "--quiet"], capsys)
    line = _one_line(err)
    assert status == 1 and f"{key}.parquet" in line and "move or remove it" in line
    assert snapshot(sweep_dir / "store") == before


def test_sweep_disk_full_keeps_earlier_points(sweep_dir: Path, capsys, monkeypatch) -> None:
    import modenhub_net.store.result_store as rs

    real = rs.atomic_write_bytes
    calls = {"n": 0}

    def full_after_two(path, data):
        if str(path).endswith(".parquet") and "points" in str(path):
            calls["n"] += 1
            if calls["n"] > 2:
                raise EnvironmentFault.from_os_error(
                    OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)))
        return real(path, data)

    with monkeypatch.context() as patch:
        patch.setattr(rs, "atomic_write_bytes", full_after_two)
        status, _, err = _main(["sweep", "sweep.toml", "--out", "store", "--workers", "1",
                                "--quiet"], capsys)
    assert status == 1 and "disk is full" in _one_line(err)
    store = ResultStore(sweep_dir / "store")
    verified, problems = store.check_points()
    assert len(verified) == 2 and problems == {}
    assert store.temporary_files() == []
    status, _, err = _main(["sweep", "sweep.toml", "--out", "store", "--quiet"], capsys)
    assert status == 0, err
    assert len(load_summary(sweep_dir / "store")) == 4 * 2  # 4 points x 2 values of N x 1 strategy


def test_sweep_store_read_only(sweep_dir: Path, capsys, monkeypatch) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(output.tempfile, "mkstemp", _raise(errno.EROFS))
        status, _, err = _main(["sweep", "sweep.toml", "--out", "store", "--workers", "1",
                                "--quiet"], capsys)
    assert status == 1 and "read-only" in _one_line(err)


# -- damaged points ----------------------------------------------------------------------------

def _rewrite(path: Path, transform) -> None:
    table = pq.read_table(path)
    meta = table.schema.metadata
    new = transform(table).replace_schema_metadata(meta)
    buffer = io.BytesIO()
    pq.write_table(new, buffer)
    path.write_bytes(buffer.getvalue())


def _edit_value(table: pa.Table) -> pa.Table:
    frame = table.to_pandas()
    frame.loc[0, "value"] = frame.loc[0, "value"] + 1.0
    return pa.Table.from_pandas(frame, preserve_index=False)


def _empty(table: pa.Table) -> pa.Table:
    return table.slice(0, 0)


@pytest.mark.parametrize("damage", ["edited", "emptied", "swapped", "meta-key-edited"])
def test_damaged_point_is_reported_and_recomputed(tmp_path: Path, damage: str) -> None:
    points = make_points(4, work=1)
    store = ResultStore(tmp_path / "store")
    run_sweep(points, busy_point, store, workers=1, progress=False)
    reference = load_summary(store.root, manifest_only=False).sort_values(
        ["point_hash", "row"]).reset_index(drop=True)
    first, second = sorted(store.finished())[:2]
    path = store.point_path(first)
    if damage == "edited":
        _rewrite(path, _edit_value)
    elif damage == "emptied":
        _rewrite(path, _empty)
    elif damage == "swapped":
        path.write_bytes(store.point_path(second).read_bytes())
    else:  # the meta record's key changed to match the file name, values of another point
        table = pq.read_table(store.point_path(second))
        meta = json.loads(table.schema.metadata[META_KEY])
        meta["key"] = first
        metadata = dict(table.schema.metadata)
        metadata[META_KEY] = json.dumps(meta).encode()
        pq.write_table(table.replace_schema_metadata(metadata), path)
    with pytest.raises(EnvironmentFault, match=first):
        load_summary(store.root, manifest_only=False)
    with pytest.warns(UserWarning, match=first):
        skipped = load_summary(store.root, manifest_only=False, damaged="skip")
    assert first not in set(skipped["point_hash"])
    notes: list[str] = []
    report = run_sweep(points, busy_point, store, workers=1, progress=False, log=notes.append)
    assert report.computed == 1 and set(report.damaged) == {first}
    assert any("failed verification and are recomputed" in n and first in n for n in notes)
    again = load_summary(store.root, manifest_only=False).sort_values(
        ["point_hash", "row"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(again, reference, check_exact=True)


def test_point_without_checksum_is_loaded_with_a_warning_and_recomputed(tmp_path: Path) -> None:
    points = make_points(2, work=1)
    store = ResultStore(tmp_path / "store")
    run_sweep(points, busy_point, store, workers=1, progress=False)
    key = sorted(store.finished())[0]
    table = pq.read_table(store.point_path(key))
    meta = json.loads(table.schema.metadata[META_KEY])
    del meta["checksum"]  # as written by modenhub before checksums existed
    metadata = dict(table.schema.metadata)
    metadata[META_KEY] = json.dumps(meta).encode()
    pq.write_table(table.replace_schema_metadata(metadata), store.point_path(key))
    with pytest.warns(UnverifiedPointsWarning, match="no checksum"):
        assert len(load_summary(store.root, manifest_only=False)) > 0
    report = run_sweep(points, busy_point, store, workers=1, progress=False)
    assert report.damaged == {key: "no checksum"} and report.computed == 1
    assert store.verify(key)[1] is None


def test_checksum_covers_id_version_and_content(tmp_path: Path) -> None:
    from modenhub_net.store import content_checksum

    table = pa.table({"a": [1, 2], "b": [0.5, float("nan")], "c": ["x", None]})
    base = content_checksum(table, key="k", code_version="1.0")
    assert base == content_checksum(pa.concat_tables([table.slice(0, 1), table.slice(1)]),
                                    key="k", code_version="1.0")  # chunking does not matter
    assert base != content_checksum(table, key="k2", code_version="1.0")
    assert base != content_checksum(table, key="k", code_version="1.1")
    assert base != content_checksum(table.slice(0, 1), key="k", code_version="1.0")
    edited = pa.table({"a": [1, 3], "b": [0.5, float("nan")], "c": ["x", None]})
    assert base != content_checksum(edited, key="k", code_version="1.0")


def test_plan_sweep_points_verify_after_the_cli(sweep_dir: Path, capsys) -> None:
    assert _main(["sweep", "sweep.toml", "--out", "store", "--workers", "1", "--quiet"],
                 capsys)[0] == 0
    plan = plan_sweep(sweep_dir / "sweep.toml")
    verified, problems = ResultStore(sweep_dir / "store").check_points(p.key for p in plan.points)
    assert len(verified) == 4 and problems == {}
