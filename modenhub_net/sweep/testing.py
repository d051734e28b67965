"""Picklable, module-level point functions for tests and benchmarks (importable by workers).

Documents are plain dicts: ``{"x": float, "work": int, ...}``. Results depend only on
(document, seed).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modenhub_net.simulation import stream_seed_sequence

__all__ = ["busy_point", "crash_once_point", "make_points"]


def busy_point(document: Mapping[str, Any], *, seed: int) -> pd.DataFrame:
    """CPU-bound point: ``work`` rounds of a 200x200 random matrix product, then summaries.

    Parameters
    ----------
    document : mapping
        ``x`` (float, a label), ``work`` (int >= 0, rounds; ~1 ms each), ``sleep_s`` (optional
        extra wall time, s, to make points slow without CPU).
    seed : int
        Root seed (>= 0).
    """
    rng = np.random.Generator(np.random.PCG64(stream_seed_sequence(seed, "busy_point")))
    x = float(document.get("x", 0.0))
    acc = np.zeros(200)
    for _ in range(int(document.get("work", 1))):
        a = rng.standard_normal((200, 200))
        acc = np.tanh(a @ np.tanh(acc + x) / 200.0)
    if document.get("sleep_s"):
        time.sleep(float(document["sleep_s"]))
    draws = rng.random(4)
    return pd.DataFrame({"row": np.arange(4), "value": draws + x, "acc_sum": float(acc.sum())})


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
