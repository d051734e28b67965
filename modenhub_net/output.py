"""Safe, atomic output: nothing half-written appears, and nothing the user wrote is replaced.

Every folder this program writes (a ``modenhub run`` output folder, a sweep store) carries a
small marker file, :data:`MARKER_NAME` (``.modenhub-output.json``: program, version, kind,
creation time). An output path may only

- not exist yet (it is created, with its missing parent folders), or
- be an empty folder, or
- be a folder holding that marker (a folder this program wrote before).

Anything else -- an existing file, a device, a non-empty folder without the marker, a symbolic
link, ``.``/``..``/``''``, the current folder or one of its parents, a path through a file, a
name longer than the file system allows, a folder holding the scenario file -- is refused
with a one-line :class:`~modenhub_net.errors.UserInputError` before anything is written
(:func:`check_output_dir`), and checked again just before the final rename.

:func:`atomic_output_dir` writes into a staging folder next to the destination
(``.<name>_new.<random>.tmp``) and swaps it in with two renames; the previous folder is moved
aside to a fresh, uniquely named ``.<name>_prev.<random>.tmp`` (created with ``mkdtemp``, so it
never collides with a user's file) and deleted only after the new folder is in place. Both
temporary folders carry the marker with the writer's process id; if a run is killed (SIGKILL)
in between, the next run into the same parent folder removes them (or, if the kill fell
between the two renames, puts the previous folder back) -- only folders carrying the marker
of a process that is no longer running are touched.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import os
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from modenhub_net.errors import EnvironmentFault, UserInputError

__all__ = [
    "MARKER_NAME",
    "PROGRAM",
    "atomic_output_dir",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output_dir",
    "clean_stale_staging",
    "read_marker",
    "write_marker",
]

#: name of the marker file in every folder this program writes
MARKER_NAME = ".modenhub-output.json"
#: ``program`` field of the marker
PROGRAM = "modenhub-net"
#: kind of a ``modenhub run`` output folder (in the marker)
KIND_RUN = "run"
#: kind of a sweep result store (in the marker)
KIND_STORE = "sweep-store"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder, then rename.

    Raises
    ------
    EnvironmentFault
        If ``path`` is a folder (a file belongs there), or the disk is full, the folder is
        read-only or not writable (the message names the path and what to do). ``path`` is
        left as it was and no temporary file remains.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir() and not path.is_symlink():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise EnvironmentFault.from_os_error(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; use the usual file mode
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise EnvironmentFault.from_os_error(exc, path) from None
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Text version of :func:`atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))


# -- the marker --------------------------------------------------------------------------


def _version() -> str:
    import modenhub_net

    return modenhub_net.__version__


def write_marker(folder: str | Path, *, kind: str, extra: dict[str, Any] | None = None) -> None:
    """Write the marker file into ``folder`` (which must exist).

    Parameters
    ----------
    folder : str or Path
        A folder this program writes.
    kind : str
        ``"run"`` or ``"sweep-store"``.
    extra : dict, optional
        More JSON-able facts (e.g. the writer's ``pid``).
    """
    record = {
        "program": PROGRAM,
        "version": _version(),
        "kind": kind,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        **dict(extra or {}),
    }
    atomic_write_text(Path(folder) / MARKER_NAME, json.dumps(record, sort_keys=True) + "\n")


def read_marker(folder: str | Path) -> dict[str, Any] | None:
    """The marker of ``folder`` if it holds a valid one of this program, else None."""
    path = Path(folder) / MARKER_NAME
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode) or os.lstat(path).st_size > 65536:
            return None
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("program") != PROGRAM:
        return None
    return record


def _is_legacy_store(folder: Path) -> bool:
    """A sweep store written before markers existed: ``manifest.json`` with a point list and a
    ``points/`` folder holding only point files."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict) or not isinstance(manifest.get("points"), list):
        return False
    points = folder / "points"
    if not points.is_dir() or points.is_symlink():
        return False
    return all(p.name.endswith((".parquet", ".tmp")) for p in points.iterdir())


# -- checks --------------------------------------------------------------------------------


def _nearest_existing(path: Path) -> Path:
    probe = path
    while True:
        try:
            os.lstat(probe)
            return probe
        except FileNotFoundError:
            if probe.parent == probe:
                return probe
            probe = probe.parent


def check_output_dir(
    path: str | Path,
    *,
    kind: str = KIND_RUN,
    flag: str = "--out",
    protect: Iterable[str | Path] = (),
) -> Path:
    """Refuse an output path unless writing there can only create or replace our own folder.

    Parameters
    ----------
    path : str or Path
        The output folder (``--out``, or a default such as ``results/<name>``).
    kind : str, optional
        ``"run"`` (the folder will be replaced as a whole) or ``"sweep-store"`` (the store is
        written into).
    flag : str, optional
        Name shown in messages (``--out``).
    protect : iterable of path, optional
        Files that must not be replaced or deleted (the scenario file being run).

    Returns
    -------
    pathlib.Path
        ``path`` as a ``Path``.

    Raises
    ------
    UserInputError
        One line naming the path and why it is refused; nothing on disk is changed.
    EnvironmentFault
        If the path cannot be inspected (permission denied on a parent folder).
    """
    text = os.fspath(path)
    shown = f"{flag} = {text!r}"
    if text.strip() == "":
        raise UserInputError(f"{shown}: give a folder name (an empty path means the current folder)")
    if "\0" in text:
        raise UserInputError(f"{shown}: a path cannot contain a NUL character")
    target = Path(text)
    if target.name in ("", ".", "..") or text.rstrip("/").endswith(("/.", "/..")) \
            or text.rstrip("/") in (".", ".."):
        raise UserInputError(
            f"{shown}: '.' and '..' name existing folders that are not results; give a new "
            "folder name, e.g. results/my_run"
        )
    for part in target.parts:
        if len(os.fsencode(part)) > 255:
            raise UserInputError(f"{flag}: the name {part[:40]!r}... is longer than the file "
                                 "system allows (255 bytes); choose a shorter name")
    if len(os.fsencode(text)) > 4000:
        raise UserInputError(f"{flag}: the path is longer than the file system allows "
                             "(4096 bytes); choose a shorter one")
    try:
        resolved = target.resolve()
        cwd = Path.cwd().resolve()
        if resolved == cwd or resolved in cwd.parents or resolved == Path(resolved.anchor):
            raise UserInputError(
                f"{shown} is the current folder or one of its parents; give a new folder name, "
                "e.g. results/my_run"
            )
        for item in protect:
            item_resolved = Path(item).resolve()
            if item_resolved == resolved or resolved in item_resolved.parents:
                raise UserInputError(
                    f"{shown} would replace the scenario file {str(item)!r}; choose another "
                    "output folder"
                )
        existing = _nearest_existing(target)
        if existing != target:
            info = os.stat(existing)  # a parent: follow links (e.g. /tmp -> /private/tmp)
            if not stat.S_ISDIR(info.st_mode):
                raise UserInputError(
                    f"{shown}: {str(existing)!r} is a file, not a folder, so nothing can be "
                    "created inside it; choose another output folder"
                )
            return target
        info = os.lstat(target)
    except UserInputError:
        raise
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise UserInputError(f"{flag}: the path is longer than the file system allows; "
                                 "choose a shorter one") from None
        if exc.errno == errno.ENOTDIR:
            raise UserInputError(f"{shown}: a part of the path is a file, not a folder; choose "
                                 "another output folder") from None
        raise EnvironmentFault.from_os_error(exc, target) from None
    if stat.S_ISLNK(info.st_mode):
        raise UserInputError(
            f"{shown} is a symbolic link; give the real folder (or a new name) instead"
        )
    if not stat.S_ISDIR(info.st_mode):
        what = "a file" if stat.S_ISREG(info.st_mode) else "a device or special file"
        raise UserInputError(
            f"{shown} exists and is {what}, not a results folder; it is left untouched: "
            "choose another output folder"
        )
    marker = read_marker(target)
    try:
        entries = [entry.name for entry in os.scandir(target)]
    except OSError as exc:
        raise EnvironmentFault.from_os_error(exc, target) from None
    if marker is None and kind == KIND_STORE and _is_legacy_store(target):
        return target
    if marker is None:
        if not entries:
            return target
        raise UserInputError(
            f"{shown} is a folder this program did not write (it holds {len(entries)} "
            f"item{'s' if len(entries) != 1 else ''}, e.g. {sorted(entries)[0]!r}, and no "
            f"{MARKER_NAME}); it is left untouched: choose a new or empty folder"
        )
    found = marker.get("kind")
    if kind != KIND_STORE and found == KIND_STORE:
        raise UserInputError(
            f"{shown} holds a sweep store (computed points would be lost); choose another "
            "output folder, or delete the store yourself"
        )
    if kind == KIND_STORE and found not in (KIND_STORE, None):
        raise UserInputError(
            f"{shown} holds the output of a `modenhub {found}`, not a sweep store; choose "
            "another output folder"
        )
    return target


# -- leftovers of killed runs ---------------------------------------------------------------

#: file in a temporary folder recording its writer (program, process id, host)
NOTE_NAME = ".modenhub-temporary.json"


def _write_note(folder: Path) -> None:
    (folder / NOTE_NAME).write_text(
        json.dumps({"program": PROGRAM, "pid": os.getpid(), "host": socket.gethostname()}),
        encoding="utf-8",
    )


def _read_note(folder: Path) -> dict[str, Any] | None:
    try:
        record = json.loads((folder / NOTE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("program") == PROGRAM else None


def _remove_note(folder: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (folder / NOTE_NAME).unlink()


def _writer_alive(note: dict[str, Any]) -> bool:
    """True unless the note's writer is known to be gone (same host, no such process)."""
    pid = note.get("pid")
    if note.get("host") != socket.gethostname() or isinstance(pid, bool) or not isinstance(pid, int):
        return True  # another machine (shared file system): cannot tell, leave it
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _temporaries(parent: Path, name: str, tag: str) -> list[Path]:
    prefix = f".{name}_{tag}."
    try:
        return sorted(p for p in parent.iterdir()
                      if p.name.startswith(prefix) and p.name.endswith(".tmp")
                      and p.is_dir() and not p.is_symlink())
    except OSError:
        return []


def clean_stale_staging(path: str | Path) -> int:
    """Remove temporary folders that a killed :func:`atomic_output_dir` left next to ``path``.

    Only folders named ``.<name>_new.*.tmp`` / ``.<name>_prev.*.tmp`` are looked at, and of
    those only empty ones and ones whose note names a process of this machine that is no
    longer running. If ``path`` itself is missing and a previous copy is left (the kill fell
    between the two renames), the previous copy is put back in place instead.

    Returns
    -------
    int
        Number of leftover folders removed or restored.
    """
    path = Path(path)
    handled = 0
    for tag in ("prev", "new"):
        for folder in _temporaries(path.parent, path.name, tag):
            try:
                empty = not any(os.scandir(folder))
            except OSError:
                continue
            if empty:
                with contextlib.suppress(OSError):
                    folder.rmdir()
                    handled += 1
                continue
            note = _read_note(folder)
            if note is None or _writer_alive(note):
                continue
            if tag == "prev" and not os.path.lexists(path):
                with contextlib.suppress(OSError):
                    _remove_note(folder)
                    os.rename(folder, path)
                    handled += 1
                continue
            shutil.rmtree(folder, ignore_errors=True)
            handled += 1
    return handled


@contextlib.contextmanager
def atomic_output_dir(path: str | Path, *, kind: str = KIND_RUN,
                      protect: Iterable[str | Path] = ()) -> Iterator[Path]:
    """Yield a staging folder; on success it replaces ``path`` in one step.

    ``path`` must pass :func:`check_output_dir` (new, empty, or written by this program),
    checked on entry and again just before the rename; the staging folder gets the marker
    file. On any exception the staging folder is removed and ``path`` is left as it was.

    Parameters
    ----------
    path : str or Path
        The output folder.
    kind : str, optional
        Kind recorded in the marker (default ``"run"``).
    protect : iterable of path, optional
        Files that must not be replaced (see :func:`check_output_dir`).

    Raises
    ------
    UserInputError
        If ``path`` is not a place this program may write (nothing is changed).
    EnvironmentFault
        If the disk is full or the folder is not writable (``path`` is left as it was).
    """
    protect = tuple(protect)
    path = check_output_dir(path, kind=kind, protect=protect)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_staging(path)
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}_new.", suffix=".tmp",
                                        dir=path.parent))
    except OSError as exc:
        raise EnvironmentFault.from_os_error(exc, path.parent) from None
    try:
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp creates 0700; use the usual folder mode
        _write_note(staging)
        write_marker(staging, kind=kind)
        yield staging
        check_output_dir(path, kind=kind, protect=protect)
        _swap_in(staging, path)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise EnvironmentFault.from_os_error(exc, path) from None
        raise


def _swap_in(staging: Path, path: Path) -> None:
    """Put ``staging`` (which holds a writer note) at ``path``; a previous folder there goes
    to a fresh, uniquely named folder first and is deleted once the new one is in place."""
    if not os.path.lexists(path):
        os.rename(staging, path)
        _remove_note(path)
        return
    backup = Path(tempfile.mkdtemp(prefix=f".{path.name}_prev.", suffix=".tmp", dir=path.parent))
    try:
        os.rename(path, backup)  # replaces the empty folder just made for it
    except BaseException:
        with contextlib.suppress(OSError):
            backup.rmdir()
        raise
    try:
        _write_note(backup)
        os.rename(staging, path)
    except BaseException:
        with contextlib.suppress(OSError):
            _remove_note(backup)
            os.rename(backup, path)  # put the previous folder back
        raise
    _remove_note(path)
    shutil.rmtree(backup, ignore_errors=True)
