"""One map for every backend: serial, local processes or a Dask cluster (ARCHITECTURE.md §7).

:func:`parallel_map` applies a function to a list of items and returns the results in input
order, whichever backend computes them (the idea of QuTiP 5's ``serial_map`` /
``parallel_map`` / ``loky_map`` family behind one signature). The contract that makes
serial and parallel results identical: **every random seed comes with its item** (e.g. an
item is ``(document, seed)`` and the task builds ``Simulation(seed=seed)``), never from the
state of a worker, so where and in which order an item is computed cannot change its result.

Backends (``scheduler=``):

``"serial"``
    In this process, one item after the other (default; no start-up cost).
``"processes"``
    A ``concurrent.futures.ProcessPoolExecutor`` of ``workers`` processes, started by the
    platform's default method (``fork`` on Linux before Python 3.14: no start-up cost, and
    functions of a script's ``__main__`` work; all workers are forked when the executor
    opens, before a progress bar starts a thread). ``fn`` and the items must pickle, so ``fn``
    is a module-level function (or a ``functools.partial`` of one). Where the default is
    ``spawn`` or ``forkserver`` (macOS, Windows, Python >= 3.14) a script must guard its
    top level with ``if __name__ == "__main__":``, as for any ``multiprocessing`` code.
``"dask"``
    An embedded ``distributed.LocalCluster`` of ``workers`` single-threaded worker processes
    (:func:`local_cluster`, start-up ~2 s); a worker that dies mid-task only loses that task,
    which the scheduler reruns on another worker.
``"tcp://HOST:PORT"`` (any Dask address)
    An existing Dask scheduler; its workers must be able to import ``fn``'s module.

Interrupts: Ctrl-C (``KeyboardInterrupt``) or SIGTERM during a map cancels the outstanding
tasks, stops the local workers (which ignore SIGINT themselves, so a terminal's Ctrl-C prints
one message, not one traceback per worker) and re-raises in the caller. SIGTERM is turned into
:class:`Terminated` (a ``KeyboardInterrupt``) only while a map runs in the main thread and
only if no handler is installed already (the ``modenhub`` CLI installs its own).

Streaming use (the sweep runner stores each result as soon as it finishes)::

    with open_executor("processes", workers=4) as executor:
        for outcome in executor.imap_unordered(fn, items):
            ...  # outcome.index, outcome.item, outcome.value or outcome.error
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from modenhub_net.errors import UserInputError

__all__ = ["Executor", "Outcome", "SCHEDULERS", "TaskError", "Terminated", "local_cluster",
           "open_executor", "parallel_map", "usable_cores"]

#: the named backends; any other value must be a Dask scheduler address
SCHEDULERS = ("serial", "processes", "dask")

_ADDRESS = re.compile(r"^(tcp|tls|ucx|inproc|ws|wss)://[^\s/:]+(:\d{1,5})?/?$")


class Terminated(KeyboardInterrupt):
    """SIGTERM received during a map (taken like Ctrl-C: workers stopped, then raised)."""


class TaskError(RuntimeError):
    """A task of :func:`parallel_map` raised; names the item.

    Attributes
    ----------
    index : int
        Position of the item in the input.
    item : object
        The item itself.
    error : BaseException
        The task's exception (also ``__cause__``).
    """

    def __init__(self, index: int, item: Any, error: BaseException) -> None:
        text = repr(item)
        if len(text) > 200:
            text = text[:197] + "..."
        super().__init__(f"task {index} (item {text}) failed: {type(error).__name__}: {error}")
        self.index = index
        self.item = item
        self.error = error


@dataclass(frozen=True)
class Outcome:
    """One finished task of :meth:`Executor.imap_unordered`.

    Attributes
    ----------
    index : int
        Position of the item in the input.
    item : object
        The item.
    value : object
        The task's return value (None if it failed).
    error : BaseException or None
        The task's exception, None on success.
    """

    index: int
    item: Any
    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """True if the task returned."""
        return self.error is None

    @property
    def error_text(self) -> str:
        """``"ValueError: boom"`` (empty on success)."""
        return "" if self.error is None else f"{type(self.error).__name__}: {self.error}"


def usable_cores() -> int:
    """Cores this process may run on (CPU affinity, e.g. a batch job's share), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - platforms without sched_getaffinity
        return max(1, os.cpu_count() or 1)


def check_scheduler(scheduler: Any) -> str:
    """Validate ``scheduler``: one of :data:`SCHEDULERS` or a Dask address ``tcp://HOST:PORT``.

    Raises
    ------
    UserInputError
        Naming the field, the value and what is allowed.
    """
    if isinstance(scheduler, str) and (scheduler in SCHEDULERS or _ADDRESS.match(scheduler)):
        return scheduler
    raise UserInputError(f"scheduler = {scheduler!r} must be one of {', '.join(SCHEDULERS)} "
                         "or a Dask scheduler address tcp://HOST:PORT")


def _check_workers(workers: Any) -> int | None:
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise UserInputError(f"workers = {workers!r} must be a whole number >= 1 (or None: one "
                             "per usable core)")
    return workers


class Executor:
    """A started backend: maps tasks until closed. Get one from :func:`open_executor`.

    Attributes
    ----------
    scheduler : str
        The backend (see the module docstring).
    workers : int
        Worker processes (1 for ``"serial"``; for a remote scheduler, its workers at start).
    """

    scheduler: str = "serial"
    workers: int = 1

    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Outcome]:
        """Yield one :class:`Outcome` per item as tasks finish (completion order).

        A failing task yields an outcome with ``error`` set; the other tasks go on. Closing the
        iterator early cancels the tasks not yet finished.
        """
        for index, item in enumerate(items):
            try:
                value = fn(item)
            except Exception as exc:  # noqa: BLE001 - returned with its item
                yield Outcome(index, item, error=exc)
            else:
                yield Outcome(index, item, value=value)

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], *,
            progress: bool | str | None = None) -> list[Any]:
        """``[fn(item) for item in items]``, computed by this backend, in input order.

        Raises
        ------
        TaskError
            For the first failing task (by completion); the other tasks are cancelled.
        """
        items = list(items)
        results: list[Any] = [None] * len(items)
        bar = _bar(len(items), progress)
        try:
            outcomes = self.imap_unordered(fn, items)
            try:
                for outcome in outcomes:
                    if outcome.error is not None:
                        raise TaskError(outcome.index, outcome.item,
                                        outcome.error) from outcome.error
                    results[outcome.index] = outcome.value
                    if bar is not None:
                        bar.update(1)
            finally:
                outcomes.close()
        finally:
            if bar is not None:
                bar.close()
        return results

    def close(self) -> None:
        """Stop the workers (a no-op for ``"serial"``)."""


def _bar(total: int, progress: bool | str | None) -> Any:
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=progress if isinstance(progress, str) else "tasks",
                unit="task", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)


def _init_worker() -> None:
    """Worker initializer: Ctrl-C is the driver's business; SIGTERM ends a worker quietly.

    A forked worker inherits the driver's Python-level handlers (e.g. SIGTERM raising
    :class:`Terminated`), which would print a traceback per worker; reset them.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _nothing() -> None:
    return None


class _ProcessExecutor(Executor):
    def __init__(self, workers: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context()  # the platform's default start method
        self.scheduler = "processes"
        self.workers = workers
        self.start_method = context.get_start_method()
        self._pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                         mp_context=context)
        if self.start_method == "fork":
            # a forking pool starts all its workers at the first task: do it now, before the
            # caller's progress bar (or anything else) starts a thread that a fork would copy
            self._pool.submit(_nothing).result()

    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Outcome]:
        from concurrent.futures import FIRST_COMPLETED, wait

        items = list(items)
        futures = {self._pool.submit(fn, item): index for index, item in enumerate(items)}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=futures.__getitem__):
                    index = futures[future]
                    error = future.exception()
                    if error is not None:
                        yield Outcome(index, items[index], error=error)
                    else:
                        yield Outcome(index, items[index], value=future.result())
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def kill(self) -> None:
        """Stop at once: cancel queued tasks and terminate the worker processes."""
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.terminate()
        for process in processes:
            with contextlib.suppress(Exception):
                process.join(timeout=5)


class _DaskExecutor(Executor):
    def __init__(self, client: Any, *, scheduler: str, workers: int) -> None:
        self.scheduler = scheduler
        self.workers = workers
        self._client = client

    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Outcome]:
        from distributed import as_completed

        items = list(items)
        futures = {self._client.submit(fn, item, pure=False): index
                   for index, item in enumerate(items)}
        try:
            for future in as_completed(list(futures), loop=self._client.loop):
                index = futures[future]
                if future.status == "error":
                    yield Outcome(index, items[index], error=future.exception())
                else:
                    yield Outcome(index, items[index], value=future.result())
                future.release()
        finally:
            self._client.cancel(list(futures))


@contextlib.contextmanager
def open_executor(scheduler: str = "serial", *, workers: int | None = None) -> Iterator[Executor]:
    """Start a backend, yield its :class:`Executor`, stop it on leaving the block.

    Parameters
    ----------
    scheduler : str, optional
        ``"serial"`` (default), ``"processes"``, ``"dask"`` or a Dask scheduler address
        ``tcp://HOST:PORT``.
    workers : int, optional
        Local worker processes (>= 1) for ``"processes"`` and ``"dask"``; default one per
        usable core (:func:`usable_cores`). Ignored by ``"serial"`` and by a remote scheduler.

    Raises
    ------
    UserInputError
        A bad ``scheduler`` or ``workers``, or a scheduler address that cannot be reached.
    KeyboardInterrupt
        Ctrl-C or SIGTERM (:class:`Terminated`) in the block: the workers are stopped first.
    """
    scheduler = check_scheduler(scheduler)
    n_workers = _check_workers(workers) or usable_cores()
    with _sigterm_as_interrupt():
        if scheduler == "serial":
            yield Executor()
        elif scheduler == "processes":
            executor = _ProcessExecutor(n_workers)
            try:
                yield executor
            except BaseException:
                executor.kill()
                raise
            else:
                executor.close()
        else:
            with _dask_client(scheduler, n_workers) as (client, count):
                yield _DaskExecutor(client, scheduler=scheduler, workers=count)


def parallel_map(fn: Callable[[Any], Any], items: Iterable[Any], *, scheduler: str = "serial",
                 workers: int | None = None, progress: bool | str | None = None) -> list[Any]:
    """``[fn(item) for item in items]`` on a chosen backend; results in input order.

    Parameters
    ----------
    fn : callable
        ``fn(item) -> result``. For the process and Dask backends ``fn``, the items and the
        results must pickle (a module-level function, or ``functools.partial`` of one). Its
        result must depend only on the item: seeds come with the items.
    items : iterable
        The inputs (consumed into a list first).
    scheduler : str, optional
        ``"serial"`` (default), ``"processes"``, ``"dask"`` or ``tcp://HOST:PORT``; see the
        module docstring.
    workers : int, optional
        Worker processes (>= 1) of ``"processes"`` / ``"dask"``; default one per usable core,
        never more than there are items.
    progress : bool or str, optional
        A progress bar on stderr (tasks done, rate, time left); a string is its label.
        Default None: no bar.

    Returns
    -------
    list
        One result per item, in input order; the same for every backend.

    Raises
    ------
    TaskError
        A task raised: names the item's index and value; the original exception is its
        ``__cause__``. The other tasks are cancelled.
    UserInputError
        A bad ``scheduler`` / ``workers`` or an unreachable scheduler address.
    KeyboardInterrupt
        Ctrl-C or SIGTERM (:class:`Terminated`): the workers are stopped, then it is raised.

    Examples
    --------
    >>> parallel_map(abs, [-3, 1, -2])
    [3, 1, 2]
    """
    items = list(items)
    scheduler = check_scheduler(scheduler)
    n_workers = _check_workers(workers) or usable_cores()
    if scheduler in ("processes", "dask"):
        n_workers = max(1, min(n_workers, len(items)))
    if not items:
        return []
    with open_executor(scheduler, workers=n_workers) as executor:
        return executor.map(fn, items, progress=progress)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` in the block, unless a handler is installed already."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Terminated()

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def _dask_client(scheduler: str, workers: int) -> Iterator[tuple[Any, int]]:
    from distributed import Client

    if scheduler != "dask":
        try:
            client = Client(scheduler, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UserInputError(
                f"scheduler = {scheduler!r}: cannot connect to a Dask scheduler ({exc})"
            ) from None
        try:
            yield client, max(1, len(client.scheduler_info().get("workers", {})))
        finally:
            client.close()
        return
    with local_cluster(workers) as cluster:
        client = Client(cluster, set_as_default=False)
        try:
            yield client, workers
        finally:
            client.close()


@contextlib.contextmanager
def local_cluster(workers: int) -> Iterator[Any]:
    """An embedded Dask ``LocalCluster``: ``workers`` single-threaded worker processes.

    Quiet (no dashboard; the scheduler's small HTTP server listens on a free local port, so a
    busy port 8787 prints no warning). The cluster's own log is limited to critical messages:
    a failing task reaches the driver as its task's exception (and is reported there), while
    at an interrupted shutdown a worker may log a heartbeat ``ERROR`` to a scheduler that is
    already gone, which would break the one-line message of an interrupt. Dask's nanny
    exports ``MALLOC_TRIM_THRESHOLD_=65536`` to its workers by default, which turns off glibc's
    adaptive mmap threshold: every large numpy temporary is then mapped and zeroed afresh, and
    numpy-heavy tasks (the aggregate Monte Carlo) ran ~1.7x slower than in the driver. The
    setting is dropped for the workers started here (an existing ``MALLOC_TRIM_THRESHOLD_`` in
    the environment still applies).

    Ctrl-C in a terminal sends SIGINT to the whole process group, workers included; each
    worker would die printing a ``KeyboardInterrupt`` traceback. So the cluster is built with
    SIGINT blocked (:func:`_sigint_blocked`): the cluster's threads, and the worker processes
    they start (also those a nanny restarts later), inherit the blocked signal and never see
    it, while the driver gets it as soon as the cluster is up, and shuts the workers down.

    Parameters
    ----------
    workers : int
        Number of worker processes (>= 1).
    """
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        with _sigint_blocked() as unblock:
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                silence_logs=logging.CRITICAL, dashboard_address=None,
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            )
            try:
                unblock()  # a Ctrl-C pressed during start-up is raised here
            except BaseException:
                cluster.close()
                raise
    try:
        yield cluster
    finally:
        cluster.close()


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[Callable[[], None]]:
    """Block SIGINT in this thread (and the threads and processes it starts) for a while.

    Yields a function that restores this thread's signal mask, at which point a SIGINT that
    arrived meanwhile is delivered (``KeyboardInterrupt``); leaving the block restores the
    mask in any case. A no-op off the main thread or where ``pthread_sigmask`` is missing.
    """
    if (not hasattr(signal, "pthread_sigmask")
            or threading.current_thread() is not threading.main_thread()):
        yield lambda: None
        return
    # multiprocessing starts its resource tracker (on the first queue of a worker) with SIGINT
    # blocked and then *unblocks* SIGINT in the calling thread; start it now, so it does not
    # undo the block in the cluster's event-loop thread.
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    restored = False

    def unblock() -> None:
        nonlocal restored
        if not restored:
            restored = True
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    try:
        yield unblock
    finally:
        unblock()
