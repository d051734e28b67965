"""Picklable, module-level point functions for tests and benchmarks (importable by workers).

Documents are plain dicts: ``{"x": float, "work": int, ...}``. Results depend only on
(document, seed).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modenhub_net.simulation import stream_seed_sequence

__all__ = ["busy_point", "crash_once_point", "failing_task", "make_points", "seeded_task",
           "sleepy_task"]


def busy_point(document: Mapping[str, Any], *, seed: int) -> pd.DataFrame:
    """CPU-bound point: a pure-Python Monte Carlo estimate of pi (``work`` x 10,000 samples).

    Parameters
    ----------
    document : mapping
        ``x`` (float, a label added to the result), ``work`` (int >= 0; one unit is 10,000
        samples, ~3 ms of one core), ``sleep_s`` (optional extra wall time in s, no CPU).
    seed : int
        Root seed (>= 0); the samples come from ``random.Random`` seeded by the named stream
        ``"busy_point"`` of the seed, so they are the same on every machine.

    Returns
    -------
    pandas.DataFrame
        Four rows: ``row``, ``value`` (pi estimate + x + a per-row offset), ``hits``.
    """
    words = stream_seed_sequence(seed, "busy_point").generate_state(2, dtype=np.uint32)
    rnd = random.Random(int(words[0]) << 32 | int(words[1]))
    hits = 0
    samples = int(document.get("work", 1)) * 10_000
    for _ in range(samples):
        a = rnd.random()
        b = rnd.random()
        hits += a * a + b * b < 1.0
    if document.get("sleep_s"):
        time.sleep(float(document["sleep_s"]))
    estimate = 4.0 * hits / samples if samples else 0.0
    x = float(document.get("x", 0.0))
    return pd.DataFrame({"row": np.arange(4), "value": estimate + x + np.arange(4) / 8.0,
                         "hits": hits})


def crash_once_point(document: Mapping[str, Any], *, seed: int) -> pd.DataFrame:
    """Kill the worker process the first time a seed is seen (marker file), then compute.

    ``document["marker_dir"]`` is a folder shared by the workers. Used to show that Dask reruns
    the task of a worker killed mid-task. Never call it in the test process itself.
    """
    marker = Path(document["marker_dir"]) / f"crashed-{seed}"
    if not marker.exists():
        marker.write_text("1")
        os._exit(17)  # simulate a worker killed mid-task (no cleanup, like SIGKILL)
    return busy_point(document, seed=seed)


def make_points(n: int, *, work: int = 5, seeds: int = 1, sleep_s: float = 0.0,
                extra: Mapping[str, Any] | None = None) -> list:
    """``n`` grid values of ``x`` times ``seeds`` seeds as :class:`SweepPoint` objects."""
    from modenhub_net.store import point_key
    from modenhub_net.sweep.grid import SweepPoint, code_version

    points = []
    for i in range(n):
        for seed in range(seeds):
            document = {"x": i / 10.0, "work": work, "sleep_s": sleep_s, **dict(extra or {})}
            key = point_key(document, seed=seed, code_version=code_version())
            points.append(SweepPoint(key=key, seed=seed, labels={"x": i / 10.0},
                                     document=document))
    return points


def seeded_task(item: tuple[float, int]) -> tuple[float, float]:
    """A task of :func:`modenhub_net.parallel.parallel_map` whose seed comes with its item.

    Parameters
    ----------
    item : (float, int)
        ``(x, seed)``: a label and the root seed (>= 0).

    Returns
    -------
    (float, float)
        ``x`` and the mean of 1,000 standard-normal draws of the named stream
        ``"seeded_task"`` of ``seed`` (the same on every backend and machine).
    """
    x, seed = item
    rng = np.random.Generator(np.random.PCG64(stream_seed_sequence(seed, "seeded_task")))
    return float(x), float(rng.standard_normal(1_000).mean())


def sleepy_task(item: tuple[int, float, str | None]) -> int:
    """Sleep ``sleep_s`` s (writing this process's id into ``pid_dir`` first, if given).

    ``item = (index, sleep_s, pid_dir)``; returns ``index``. Used to show input order under
    a different completion order, and that interrupted maps stop their workers.
    """
    index, sleep_s, pid_dir = item
    if pid_dir is not None:
        (Path(pid_dir) / f"{index}-{os.getpid()}").write_text(str(os.getpid()))
    time.sleep(float(sleep_s))
    return int(index)


def failing_task(item: int) -> int:
    """Return ``item`` squared; raise ``ValueError("boom")`` for item 2."""
    if item == 2:
        raise ValueError("boom")
    return item * item
