"""Map a point function over sweep points, serially or on Dask, storing each as it finishes.

One signature for every backend (the QuTiP ``map`` idea): :func:`run_sweep` takes the points,
the point function and the store, and maps them on :func:`modenhub_net.parallel.open_executor`
(the same abstraction the studies use, ARCHITECTURE.md §7): ``workers=1`` runs in this
process (``"serial"``), otherwise an embedded ``LocalCluster`` (``"dask"``, one
single-threaded worker process per core) or an existing scheduler
(``scheduler="tcp://HOST:PORT"``) computes the points. Results come back to this process and
are written here, one atomic file per point, in completion order. A worker that dies mid-task
only loses that task, which the Dask scheduler reruns on another worker.

:func:`local_cluster` and :func:`usable_cores` live in :mod:`modenhub_net.parallel` and are
re-exported here for existing callers.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from modenhub_net.errors import EnvironmentFault, UserInputError
from modenhub_net.parallel import local_cluster, open_executor, usable_cores
from modenhub_net.store import PointRecord, ResultStore
from modenhub_net.sweep.grid import SweepPoint, code_digest, code_version
from modenhub_net.sweep.progress import ProgressBar

__all__ = ["PointFunction", "SweepReport", "evaluate", "local_cluster", "run_sweep",
           "runtime_environment", "usable_cores"]


class PointFunction(Protocol):
    """``point_fn(document, *, seed) -> DataFrame``: pure, picklable, module-level."""

    def __call__(self, document: Mapping[str, Any], *, seed: int) -> pd.DataFrame: ...


@dataclass
class SweepReport:
    """What a call of :func:`run_sweep` did.

    Attributes
    ----------
    total : int
        Points in the sweep.
    skipped : int
        Points already in the store before this run.
    skipped_other_source : int
        Of those, points computed by a different source tree (same version; see
        :func:`modenhub_net.store.source_digest`).
    damaged : dict of str to str
        Stored points that failed verification (edited, emptied, another point's file, no
        checksum), by id, with the problem; they are recomputed.
    computed : int
        Points computed and stored by this run.
    failed : list of (SweepPoint, str)
        Points whose function raised, with the error text (not stored; a re-run retries).
    elapsed_s : float
        Wall time of this run, s (including cluster start-up).
    """

    total: int
    skipped: int
    skipped_other_source: int = 0
    damaged: dict[str, str] = field(default_factory=dict)
    computed: int = 0
    failed: list[tuple[SweepPoint, str]] = field(default_factory=list)
    elapsed_s: float = 0.0


@functools.cache
def runtime_environment() -> dict[str, str]:
    """Versions that can change a point's numbers without changing its id (recorded per point).

    numpy's random distributions may change between numpy releases, and floating-point
    results between platforms; ``python``, ``numpy`` and ``platform`` of the process that
    computed a point are kept in its meta record (:meth:`ResultStore.read_meta`).
    """
    import platform
    import sys

    import numpy as np

    return {"python": platform.python_version(), "numpy": np.__version__,
            "platform": f"{sys.platform}-{platform.machine()}"}


def evaluate(point_fn: PointFunction, document: Mapping[str, Any],
             seed: int) -> tuple[pd.DataFrame, float, dict[str, str]]:
    """Run one point (on a worker or here): its rows, its compute time in s and the
    :func:`runtime_environment` of the process that computed it."""
    start = time.perf_counter()
    frame = point_fn(document, seed=seed)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"point function returned {type(frame).__name__}, not a DataFrame")
    return frame, time.perf_counter() - start, runtime_environment()


@dataclass(frozen=True)
class _Writer:
    """Writes finished points (in the driver process only) with the facts of this run."""

    store: ResultStore
    version: str
    digest: str

    def __call__(self, point: SweepPoint, frame: pd.DataFrame, elapsed_s: float,
                 environment: Mapping[str, str]) -> None:
        self.store.write_point(
            PointRecord(key=point.key, seed=point.seed, labels=point.labels), frame,
            meta={"code_version": self.version, "source_digest": self.digest,
                  "elapsed_s": round(elapsed_s, 6), **dict(environment)},
        )


def _evaluate_item(point_fn: PointFunction,
                   item: tuple[Mapping[str, Any], int]) -> tuple[pd.DataFrame, float, dict[str, str]]:
    """:func:`evaluate` of one ``(document, seed)`` item (the task given to the parallel map)."""
    document, seed = item
    return evaluate(point_fn, document, seed)


def _compute(todo: Sequence[SweepPoint], point_fn: PointFunction, write: _Writer,
             report: SweepReport, bar: ProgressBar, *, scheduler: str, workers: int,
             ready: Callable[[], None]) -> None:
    """Map the points on :func:`modenhub_net.parallel.open_executor`; store each as it ends."""
    task = functools.partial(_evaluate_item, point_fn)
    try:
        with open_executor(scheduler, workers=workers) as executor:
            ready()
            outcomes = executor.imap_unordered(task, [(p.document, p.seed) for p in todo])
            try:
                for outcome in outcomes:
                    point = todo[outcome.index]
                    if outcome.error is not None:
                        report.failed.append((point, outcome.error_text))
                        continue
                    frame, elapsed, environment = outcome.value
                    write(point, frame, elapsed, environment)
                    report.computed += 1
                    bar.advance()
            finally:
                outcomes.close()
    except UserInputError as exc:  # the CLI flag's name for the parallel map's field
        text = str(exc)
        if text.startswith("scheduler = "):
            raise UserInputError("--" + text) from None
        raise


def run_sweep(
    points: Sequence[SweepPoint],
    point_fn: PointFunction,
    store: ResultStore,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    note: Callable[[str], None] | None = None,
    manifest: Mapping[str, Any] | None = None,
) -> SweepReport:
    """Compute every point not yet in the store and store each as soon as it finishes.

    Parameters
    ----------
    points : sequence of SweepPoint
        The sweep, in grid order (see :func:`modenhub_net.sweep.plan_sweep`).
    point_fn : callable
        ``point_fn(document, *, seed) -> pandas.DataFrame``; a picklable module-level function
        whose result depends only on its arguments.
    store : ResultStore
        Where finished points go; points already there are skipped.
    workers : int, optional
        Local worker processes (>= 1). Default: one per usable core (:func:`usable_cores`).
        1 (or a single core) runs serially in this process. Ignored when ``scheduler`` is given.
    scheduler : str, optional
        Address of a running Dask scheduler, ``tcp://HOST:PORT``; its workers must be able to
        import ``point_fn``'s module. Any other backend of
        :func:`modenhub_net.parallel.open_executor` (``"serial"``, ``"processes"``,
        ``"dask"``) is accepted too; only the Dask backends rerun the task of a worker that
        died (a process pool reports it as failed, and a re-run computes it).
    progress : bool, optional
        Show a progress bar on stderr (default True).
    log : callable, optional
        Receives the one-line counts (``"12 points: 5 already done, 7 to run"``).
    note : callable, optional
        Receives other one-line notes (points of other sources, damaged points recomputed);
        default: ``log``.
    manifest : mapping, optional
        Written to the store's ``manifest.json`` (with this tree's ``source_digest`` added)
        once the workers are ready, so a scheduler that cannot be reached writes nothing.

    Returns
    -------
    SweepReport

    Raises
    ------
    UserInputError
        If ``scheduler`` cannot be reached (nothing is written then), or another process is
        writing into ``store`` (:meth:`ResultStore.writer_lock`).
    EnvironmentFault
        A fault of the machine or the store: the disk is full, the store is read-only, its
        ``.lock`` is a folder, a folder sits where a point file belongs. Points stored before
        are intact.
    KeyboardInterrupt
        Propagated after the workers are shut down; every point finished so far is stored.
    """
    start = time.perf_counter()
    version, digest = code_version(), code_digest()
    note = note if note is not None else log
    misplaced = store.misplaced(p.key for p in points)
    if misplaced:
        raise EnvironmentFault(
            f"{misplaced[0]}: a folder (or other non-file) is where a point file belongs"
            + (f" ({len(misplaced) - 1} more)" if len(misplaced) > 1 else "")
            + "; move or remove it and run again", path=misplaced[0])
    finished, damaged = store.check_points(p.key for p in points)
    todo = [p for p in points if p.key not in finished]
    other = sum(1 for p in points
                if p.key in finished and finished[p.key].get("source_digest") != digest)
    report = SweepReport(total=len(points), skipped=len(points) - len(todo),
                         skipped_other_source=other, damaged=damaged)
    if log is not None:
        log(f"{report.total} points: {report.skipped} already done, {len(todo)} to run")
    if note is not None:
        if damaged:
            first, problem = next(iter(sorted(damaged.items())))
            unchecked = sum(1 for p in damaged.values() if p == "no checksum")
            note(f"note: {len(damaged)} stored point(s) failed verification and are recomputed "
                 f"({unchecked} without a checksum); e.g. {store.point_path(first)} {problem}")
        if other:
            note(f"note: {other} of the {report.skipped} points already done were computed by "
                 f"other sources of version {version} (reused; a change of results needs a "
                 "new modenhub_net.__version__, which gives new point ids)")
    write = _Writer(store=store, version=version, digest=digest)
    n_workers = workers if workers is not None else usable_cores()
    bar = ProgressBar(total=report.total, done=report.skipped, enabled=progress and bool(todo))
    with contextlib.ExitStack() as held:

        def ready() -> None:  # the executor is up: take the store and write the manifest
            held.enter_context(store.writer_lock())
            store.clean_temporary()
            if manifest is not None:
                store.write_manifest({**manifest, "source_digest": digest})

        try:
            if scheduler is not None:
                backend = scheduler
            else:
                backend = "serial" if n_workers <= 1 or len(todo) <= 1 else "dask"
            _compute(todo, point_fn, write, report, bar, scheduler=backend,
                     workers=max(1, min(n_workers, len(todo))), ready=ready)
        finally:
            bar.close()
            report.elapsed_s = time.perf_counter() - start
    return report
