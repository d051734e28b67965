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

Integrity: each point's meta record carries ``checksum``, the sha256 of the point's id, the
code version that computed it and its table's content (:func:`content_checksum`). A point
file whose table was edited, emptied, or swapped with another point's file no longer matches
and is *damaged*: a resumed sweep reports and recomputes it, and :func:`load_summary` refuses
it (naming the file and what to do) instead of using it. Points written before checksums
existed carry none: they are recomputed by a resumed sweep and loaded with a warning.

The store folder carries the marker file of :mod:`modenhub_net.output`
(``.modenhub-output.json``, kind ``sweep-store``), so ``modenhub sweep --out`` writes only into
a new or empty folder or a store of this program.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import stat
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from modenhub_net.errors import EnvironmentFault, UserInputError
from modenhub_net.output import (
    KIND_STORE,
    atomic_write_bytes,
    atomic_write_text,
    read_marker,
    write_marker,
)
from modenhub_net.store.keys import canonical_json

__all__ = ["META_KEY", "PointRecord", "ResultStore", "UnverifiedPointsWarning",
           "content_checksum", "load_summary"]

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


class UnverifiedPointsWarning(UserWarning):
    """Points without a checksum (written before checksums existed) were loaded."""


def content_checksum(table: pa.Table, *, key: str, code_version: str) -> str:
    """sha256 (hex) of a point's id, code version and table content.

    The content is hashed column by column (name, Arrow type, null mask, values): numeric
    columns by their little-endian bytes, all others by the canonical JSON of their values,
    so the checksum does not depend on the Parquet encoding or the pyarrow version that wrote
    or reads the file. Schema metadata (where the checksum itself is kept) is left out.

    Parameters
    ----------
    table : pyarrow.Table
        The point's table (label columns, seed, point_hash, its rows).
    key : str
        The point's id (its file name).
    code_version : str
        ``modenhub_net.__version__`` of the code that computed it.
    """
    digest = hashlib.sha256()
    digest.update(canonical_json({"key": key, "code_version": code_version,
                                  "rows": table.num_rows}).encode("utf-8"))
    for name, column in zip(table.column_names, table.columns, strict=True):
        column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        digest.update(f"\0{name}\0{column.type}\0".encode())
        nulls = np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=np.uint8)
        digest.update(nulls.tobytes())
        kind = column.type
        if (pa.types.is_integer(kind) or pa.types.is_floating(kind)) and column.null_count == 0:
            values = np.asarray(column.to_numpy(zero_copy_only=False))
            digest.update(values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes())
        else:
            digest.update(canonical_json([_plain_cell(v) for v in column.to_pylist()])
                          .encode("utf-8"))
    return digest.hexdigest()


def _plain_cell(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain_cell(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain_cell(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _without_meta(table: pa.Table) -> pa.Table:
    return table.replace_schema_metadata(None)


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
        """Ids of the points whose file exists (temporary files ignored; not verified)."""
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

    def verify(self, key: str) -> tuple[dict[str, Any] | None, str | None]:
        """Check one point file against its checksum.

        Returns
        -------
        (meta, problem)
            ``(meta, None)`` for a verified point; ``(meta, "no checksum")`` for a point
            written before checksums existed; ``(None, reason)`` for a missing or damaged one.
        """
        path = self.point_path(key)
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                return None, "is not a file"
            table = pq.read_table(path)
            meta = json.loads((table.schema.metadata or {})[META_KEY])
        except FileNotFoundError:
            return None, "is missing"
        except (OSError, pa.ArrowException, KeyError, ValueError):
            return None, "cannot be read as a point file"
        if not isinstance(meta, dict):
            return None, "has no meta record"
        if meta.get("key") != key:
            return None, "holds another point's data"
        expected = meta.get("checksum")
        if expected is None:
            return meta, "no checksum"
        actual = content_checksum(_without_meta(table), key=key,
                                  code_version=str(meta.get("code_version", "")))
        if actual != expected:
            return None, "does not match its checksum (edited or damaged)"
        return meta, None

    def check_points(self, keys: Iterable[str] | None = None
                     ) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """Verify point files (default: every finished one).

        Returns
        -------
        (verified, problems)
            Meta record of every verified point by id, and the problem of every other
            finished point by id (``"no checksum"`` for points written before checksums).
        """
        finished = self.finished()
        wanted = finished if keys is None else set(keys) & finished
        verified: dict[str, dict[str, Any]] = {}
        problems: dict[str, str] = {}
        for key in sorted(wanted):
            meta, problem = self.verify(key)
            if problem is None and meta is not None:
                verified[key] = meta
            else:
                problems[key] = problem or "damaged"
        return verified, problems

    def finished_meta(self) -> dict[str, dict[str, Any]]:
        """Meta record of every verified finished point, by id (others left out)."""
        return self.check_points()[0]

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
        lock = self.root / ".lock"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.mark()
            if lock.is_dir() and not lock.is_symlink():
                raise IsADirectoryError(errno.EISDIR, "is a folder, not the store's lock file",
                                        str(lock))
            handle = open(lock, "a+b")  # noqa: SIM115 - closed below; not inherited by workers
        except OSError as exc:
            raise EnvironmentFault.from_os_error(exc, lock) from None
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UserInputError(
                    f"{self.root}: another sweep is writing into this folder; wait for it to "
                    "finish (or stop it), or choose another --out"
                ) from None
            yield

    def mark(self) -> None:
        """Write the store's marker file (kind ``sweep-store``) if it has none yet."""
        if read_marker(self.root) is None:
            write_marker(self.root, kind=KIND_STORE)

    def misplaced(self, keys: Iterable[str]) -> list[Path]:
        """Paths of ``keys``' point files that exist but are not regular files (e.g. a folder
        where a point file belongs); the store does not remove what it did not write."""
        found = []
        for key in keys:
            path = self.point_path(key)
            with contextlib.suppress(OSError):
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    found.append(path)
        return found

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
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd")
        written = pq.read_table(io.BytesIO(buffer.getvalue()))  # what a reader will see
        info["checksum"] = content_checksum(_without_meta(written), key=record.key,
                                            code_version=str(info.get("code_version", "")))
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


def load_summary(path: str | Path, *, manifest_only: bool = True,
                 damaged: str = "raise") -> pd.DataFrame:
    """The table of a sweep store, in one call; every point is verified first.

    Parameters
    ----------
    path : str or Path
        The store folder (``results/<sweep name>``).
    manifest_only : bool, optional
        If True (default) and the store has a manifest, only the points of the current grid
        are returned (a store may keep points of earlier grids); otherwise every point file.
    damaged : {"raise", "skip"}, optional
        What to do with a point file that does not match its checksum (edited, emptied,
        another point's file): ``"raise"`` (default) an ``EnvironmentFault`` naming it;
        ``"skip"`` leave it out with a warning. Either way it is never used.

    Returns
    -------
    pandas.DataFrame
        One column per grid field path, then ``seed``, ``point_hash``, then the point's own
        columns (a point column named like a label gets the prefix ``result.``); points in
        grid order, rows of a point in the order the point function returned them. Empty
        if no point has finished. Unfinished points and ``.tmp`` files are ignored. Points
        without a checksum (written before checksums existed) are included with an
        :class:`UnverifiedPointsWarning`.

    Raises
    ------
    EnvironmentFault
        If a point is damaged (``damaged="raise"``): its file and what to do.

    Examples
    --------
    >>> load_summary("results/no_such_sweep").empty
    True
    """
    if damaged not in ("raise", "skip"):
        raise UserInputError(f"damaged = {damaged!r}: allowed 'raise' or 'skip'")
    store = ResultStore(path)
    keys = list(_ordered_keys(store, manifest_only=manifest_only))
    verified, problems = store.check_points(keys)
    bad = {k: p for k, p in problems.items() if p != "no checksum"}
    if bad:
        key, problem = next(iter(sorted(bad.items())))
        text = (f"{store.point_path(key)} {problem}"
                + (f" (and {len(bad) - 1} more damaged points)" if len(bad) > 1 else "")
                + "; run the sweep again (modenhub sweep SWEEP.toml --out "
                  f"{store.root}) to recompute {'them' if len(bad) > 1 else 'it'}")
        if damaged == "raise":
            raise EnvironmentFault(text, path=store.point_path(key))
        warnings.warn(text + "; left out", UserWarning, stacklevel=2)
    unverified = [k for k, p in problems.items() if p == "no checksum"]
    if unverified:
        warnings.warn(
            f"{store.root}: {len(unverified)} point(s) carry no checksum (written before "
            "checksums existed) and cannot be verified; run the sweep again to recompute them",
            UnverifiedPointsWarning, stacklevel=2)
    frames = [store.read_point(key) for key in keys if key in verified or key in unverified]
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)
