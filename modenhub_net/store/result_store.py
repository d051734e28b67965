"""The on-disk result store of a sweep.

Layout of ``results/<sweep name>/``::

    manifest.json            the sweep: grid, seeds, code version, every point's id and labels
    points/<id>.parquet      one finished point: its label columns + the rows it returned,
                             with a JSON meta record in the Parquet schema metadata
    summary.parquet, .csv    the assembled table (rewritten from points/ after each run)

A point file is written once, atomically (dot-prefixed ``.tmp`` file in the same folder, fsync,
then rename; :func:`modenhub_net.output.atomic_write_bytes`), as soon as the point finishes: its
presence *is* the record that the point is done, so a run killed at any moment (SIGINT or
SIGKILL) leaves only complete point files, plus at most a stray ``.tmp`` file that readers
ignore and the next run deletes. One writer per store at a time: a writer holds an advisory
lock on ``.lock`` (:meth:`ResultStore.writer_lock`), which the kernel releases when the writer
dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from modenhub_net.errors import UserInputError
from modenhub_net.output import atomic_write_bytes, atomic_write_text
from modenhub_net.store.keys import canonical_json

__all__ = ["META_KEY", "PointRecord", "ResultStore", "load_summary"]

#: Parquet schema-metadata key holding a point's JSON meta record
META_KEY = b"modenhub.point"
#: columns added in front of a point's own rows (besides its grid labels)
SEED_COLUMN = "seed"
KEY_COLUMN = "point_hash"


@dataclass(frozen=True)
class PointRecord:
    """What the store needs to know about one point.

    Parameters
    ----------
    key : str
        Point id (:func:`modenhub_net.store.point_key`), also its file name.
    seed : int
        Root seed of the point.
    labels : mapping
        Grid field path -> value of this point (written as columns).
    """

    key: str
    seed: int
    labels: Mapping[str, Any] = field(default_factory=dict)


def _cell(value: Any) -> Any:
    """A label as a table cell: scalars as they are, lists and tables as canonical JSON."""
    if isinstance(value, (list, tuple, dict)):
        return canonical_json(value)
    return value


def _is_temporary(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(".tmp")


class ResultStore:
    """A folder of finished sweep points (see the module docstring for the layout).

    Parameters
    ----------
    root : str or Path
        The store folder, e.g. ``results/aggregate_beta_sweep``. Nothing is created until the
        first write.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.points_dir = self.root / "points"
        self.manifest_path = self.root / "manifest.json"

    def __repr__(self) -> str:
        return f"ResultStore({str(self.root)!r})"

    # -- reading ----------------------------------------------------------------------
    def point_path(self, key: str) -> Path:
        """File of the point ``key`` (it may not exist)."""
        return self.points_dir / f"{key}.parquet"

    def finished(self) -> set[str]:
        """Ids of the points whose file exists (temporary files ignored)."""
        if not self.points_dir.is_dir():
            return set()
        return {
            path.stem for path in self.points_dir.glob("*.parquet") if not path.name.startswith(".")
        }

    def is_intact(self, key: str) -> bool:
        """True if the point file exists and its Parquet footer and meta record can be read."""
        try:
            meta = pq.read_schema(self.point_path(key)).metadata or {}
        except (OSError, pa.ArrowException):
            return False
        return META_KEY in meta

    def finished_meta(self) -> dict[str, dict[str, Any]]:
        """Meta record of every intact finished point, by id (unreadable files left out)."""
        found: dict[str, dict[str, Any]] = {}
        for key in self.finished():
            try:
                meta = pq.read_schema(self.point_path(key)).metadata or {}
                found[key] = json.loads(meta[META_KEY])
            except (OSError, pa.ArrowException, KeyError, ValueError):
                continue  # a damaged file is not a finished point: it is recomputed
        return found

    def read_point(self, key: str) -> pd.DataFrame:
        """The table of one finished point (label columns, seed, point_hash, its rows)."""
        return pq.read_table(self.point_path(key)).to_pandas()

    def read_meta(self, key: str) -> dict[str, Any]:
        """The meta record of one finished point (labels, seed, code version, timing)."""
        meta = pq.read_schema(self.point_path(key)).metadata or {}
        return json.loads(meta[META_KEY])

    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest, or None if the store has none yet."""
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def temporary_files(self) -> list[Path]:
        """Leftover ``.tmp`` files of interrupted writes."""
        found: list[Path] = []
        for folder in (self.root, self.points_dir):
            if folder.is_dir():
                found += [path for path in folder.iterdir() if _is_temporary(path)]
        return sorted(found)

    # -- writing ----------------------------------------------------------------------
    @contextlib.contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Hold the store's single-writer lock (``flock`` on ``<root>/.lock``; POSIX only).

        Raises
        ------
        UserInputError
            If another process holds it (another sweep is writing into this folder).
        """
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no advisory locks (Windows): no check
            yield
            return
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+b") as handle:  # not inherited by worker processes
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UserInputError(
                    f"{self.root}: another sweep is writing into this folder; wait for it to "
                    "finish (or stop it), or choose another --out"
                ) from None
            yield

    def clean_temporary(self) -> int:
        """Delete leftover ``.tmp`` files (only call with no other writer running); their count."""
        removed = 0
        for path in self.temporary_files():
            try:
                path.unlink()
                removed += 1
            except FileNotFoundError:
                pass
        return removed

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        """Write ``manifest.json`` atomically."""
        atomic_write_text(self.manifest_path, json.dumps(manifest, indent=1, sort_keys=True,
                                                         default=str) + "\n")

    def write_point(self, record: PointRecord, frame: pd.DataFrame, *,
                    meta: Mapping[str, Any] | None = None) -> Path:
        """Store one finished point atomically and return its file.

        Parameters
        ----------
        record : PointRecord
            Id, seed and grid labels of the point.
        frame : pandas.DataFrame
            The rows the point function returned (any number, including none).
        meta : mapping, optional
            Extra JSON-able facts kept in the file's meta record (e.g. ``elapsed_s``).
        """
        table = _point_table(record, frame)
        info = {"key": record.key, "seed": int(record.seed),
                "labels": {k: _cell(v) for k, v in record.labels.items()}, **dict(meta or {})}
        metadata = dict(table.schema.metadata or {})
        metadata[META_KEY] = json.dumps(info, sort_keys=True, default=str).encode("utf-8")
        table = table.replace_schema_metadata(metadata)
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd")
        path = self.point_path(record.key)
        atomic_write_bytes(path, buffer.getvalue())
        return path

    def write_summary(self) -> pd.DataFrame:
        """Assemble the table from the point files and write ``summary.parquet`` and ``.csv``."""
        summary = load_summary(self.root)
        buffer = io.BytesIO()
        summary.to_parquet(buffer, index=False, compression="zstd")
        atomic_write_bytes(self.root / "summary.parquet", buffer.getvalue())
        atomic_write_text(self.root / "summary.csv", summary.to_csv(index=False))
        return summary


def _point_table(record: PointRecord, frame: pd.DataFrame) -> pa.Table:
    front = [*record.labels, SEED_COLUMN, KEY_COLUMN]
    rows = frame.reset_index(drop=True).rename(
        columns={c: f"result.{c}" for c in frame.columns if c in front}
    )
    n = len(rows)
    labels = pd.DataFrame(
        {name: [_cell(value)] * n for name, value in record.labels.items()}
        | {SEED_COLUMN: pd.Series([int(record.seed)] * n, dtype="int64"),
           KEY_COLUMN: pd.Series([record.key] * n, dtype="object")},
        index=rows.index,
    )
    if n == 0:  # keep the label dtypes of an empty point sensible
        labels = labels.astype({KEY_COLUMN: "object"})
    return pa.Table.from_pandas(pd.concat([labels, rows], axis=1), preserve_index=False)


def _ordered_keys(store: ResultStore, *, manifest_only: bool) -> Iterable[str]:
    finished = store.finished()
    manifest = store.read_manifest()
    listed = [p["key"] for p in manifest.get("points", [])] if manifest else []
    ordered = [key for key in listed if key in finished]
    if not manifest_only or not manifest:
        ordered += sorted(finished - set(listed))
    return ordered


def load_summary(path: str | Path, *, manifest_only: bool = True) -> pd.DataFrame:
    """The table of a sweep store, in one call.

    Parameters
    ----------
    path : str or Path
        The store folder (``results/<sweep name>``).
    manifest_only : bool, optional
        If True (default) and the store has a manifest, only the points of the current grid
        are returned (a store may keep points of earlier grids); otherwise every point file.

    Returns
    -------
    pandas.DataFrame
        One column per grid field path, then ``seed``, ``point_hash``, then the point's own
        columns (a point column named like a label gets the prefix ``result.``); points in
        grid order, rows of a point in the order the point function returned them. Empty
        if no point has finished. Unfinished points and ``.tmp`` files are ignored.

    Examples
    --------
    >>> load_summary("results/no_such_sweep").empty
    True
    """
    store = ResultStore(path)
    frames = [store.read_point(key) for key in _ordered_keys(store, manifest_only=manifest_only)]
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)
