"""Result store: ids, atomic point files, resume bookkeeping, the summary in one call."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from modenhub_net.store import PointRecord, ResultStore, load_summary, point_key


def frame(x: float) -> pd.DataFrame:
    return pd.DataFrame({"n": [1, 2], "value": [x, 2 * x], "label": ["a", "b"]})


def test_key_is_canonical() -> None:
    a = point_key({"b": 1, "a": (1.0, float("inf"))}, seed=3, code_version="1")
    b = point_key({"a": [1.0, float("inf")], "b": 1}, seed=3, code_version="1")
    assert a == b and len(a) == 64
    assert a != point_key({"b": 1, "a": [1.0, float("inf")]}, seed=4, code_version="1")
    assert a != point_key({"b": 1, "a": [1.0, float("inf")]}, seed=3, code_version="2")


def test_write_read_and_summary(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "s")
    records = [PointRecord(key=f"{i:064x}", seed=i, labels={"model.beta": 0.1 * i, "grid": [i]})
               for i in range(3)]
    store.write_manifest({"points": [{"key": r.key} for r in reversed(records)]})
    for record in records:
        store.write_point(record, frame(record.seed), meta={"elapsed_s": 0.5})
    assert store.finished() == {r.key for r in records}
    assert all(store.is_intact(r.key) for r in records)
    assert store.read_meta(records[1].key)["elapsed_s"] == 0.5
    summary = load_summary(tmp_path / "s")
    assert list(summary.columns[:4]) == ["model.beta", "grid", "seed", "point_hash"]
    assert list(summary["seed"]) == [2, 2, 1, 1, 0, 0]  # manifest order
    assert summary["grid"].iloc[0] == "[2]"
    assert not list(tmp_path.glob("s/points/.*"))


def test_temporary_files_ignored_and_cleaned(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.write_point(PointRecord(key="a" * 64, seed=0), frame(1.0))
    stray = store.points_dir / f".{'b' * 64}.parquet.x1.tmp"
    stray.write_bytes(b"PAR1 half written")
    assert store.finished() == {"a" * 64}
    assert len(load_summary(tmp_path)) == 2
    assert store.clean_temporary() == 1 and not stray.exists()


def test_corrupt_point_is_not_intact(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.points_dir.mkdir(parents=True)
    store.point_path("c" * 64).write_bytes(b"not parquet")
    assert not store.is_intact("c" * 64)


def test_result_column_named_like_a_label_is_prefixed(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.write_point(PointRecord(key="d" * 64, seed=5, labels={"x": 1}),
                      pd.DataFrame({"seed": [9], "x": [2]}))
    row = load_summary(tmp_path).iloc[0]
    assert (row["seed"], row["x"], row["result.seed"], row["result.x"]) == (5, 1, 9, 2)


def test_empty_store(tmp_path: Path) -> None:
    assert load_summary(tmp_path / "none").empty


def test_source_digest_tracks_content_not_location(tmp_path: Path) -> None:
    from modenhub_net.store import source_digest

    for where in ("a", "b"):
        pkg = tmp_path / where / "pkg"
        (pkg / "sub").mkdir(parents=True)
        (pkg / "mod.py").write_text("x = 1\n")
        (pkg / "sub" / "preset.toml").write_text("t1_ns = 1.0\n")
        (pkg / "__pycache__").mkdir()
        (pkg / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\0junk")
    a, b = tmp_path / "a" / "pkg", tmp_path / "b" / "pkg"
    assert source_digest([a]) == source_digest([b])
    (b / "__pycache__" / "other.py").write_text("ignored\n")
    assert source_digest([a]) == source_digest([b])
    (b / "sub" / "preset.toml").write_text("t1_ns = 2.0\n")
    assert source_digest([a]) != source_digest([b])
