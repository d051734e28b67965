"""``modenhub sweep SWEEP.toml [--out DIR] [--workers N | --scheduler tcp://HOST:PORT]``.

Validates the whole sweep first (exit 2, nothing written, on any mistake), writes
``manifest.json``, computes the points not yet in the store (progress bar on stderr), then
assembles ``summary.parquet`` / ``summary.csv`` from the store. Exit status: 0 all points
stored; 1 some point functions raised (the others are stored; re-run to retry); 2 bad input;
130 interrupted by SIGINT (Ctrl-C), 143 by SIGTERM (finished points kept; re-run to resume).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modenhub_net.errors import UserInputError, blame_flags
from modenhub_net.store import ResultStore
from modenhub_net.sweep.grid import plan_sweep
from modenhub_net.sweep.runner import run_sweep

__all__ = ["run_sweep_command", "check_scheduler_address"]

_ADDRESS = re.compile(r"^(tcp|tls|ucx|inproc|ws|wss)://[^\s/:]+(:\d{1,5})?/?$")


def check_scheduler_address(address: str) -> str:
    """Validate ``--scheduler`` (``tcp://HOST:PORT``); raise ``UserInputError`` otherwise."""
    if not _ADDRESS.match(address):
        raise UserInputError(
            f"--scheduler = {address!r} is not a scheduler address (expected tcp://HOST:PORT)"
        )
    return address


def _say(quiet: bool):
    def say(text: str) -> None:
        if not quiet:
            print(text, flush=True)

    return say


class _Terminated(KeyboardInterrupt):
    """SIGTERM (a batch system's time limit, ``scancel``, ``kill``) taken like Ctrl-C."""


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM stops the sweep the way SIGINT does: finished points stay,
    workers are shut down, one line is printed; exit status 143 (128 + SIGTERM)."""
    if threading.current_thread() is not threading.main_thread():  # signals need the main thread
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_sweep_command(args: argparse.Namespace) -> int:
    """Run the ``sweep`` subcommand from parsed arguments; returns the exit status."""
    from modenhub_net.studies import study_module

    quiet = bool(getattr(args, "quiet", False))
    scheduler = getattr(args, "scheduler", None)
    workers = getattr(args, "workers", None)
    if scheduler is not None:
        check_scheduler_address(scheduler)
        if workers is not None:
            raise UserInputError("--workers and --scheduler exclude each other (the cluster "
                                 "behind --scheduler decides its workers)")
    if workers is not None and workers < 1:
        raise UserInputError(f"--workers = {workers} must be >= 1")
    trials = getattr(args, "trials", None)
    try:
        plan = plan_sweep(args.scenario, trials=trials)
    except UserInputError as exc:
        raise blame_flags(exc, lambda given: plan_sweep(args.scenario, trials=given.get("--trials")),
                          {"--trials": trials}) from None
    out = Path(args.out) if getattr(args, "out", None) is not None else Path("results") / plan.spec.name
    if out.exists() and not out.is_dir():
        raise UserInputError(f"--out = {str(out)!r} exists and is not a folder")
    point_fn = study_module(plan.kind, source=plan.base_source).evaluate_point
    store = ResultStore(out)
    say = _say(False)  # --quiet only hides the progress bar; the counts are always shown
    try:
        with _sigterm_as_interrupt():
            report = run_sweep(plan.points, point_fn, store, workers=workers, scheduler=scheduler,
                               progress=not quiet, log=say, manifest=plan.manifest())
    except KeyboardInterrupt as exc:
        done = len(store.finished() & {p.key for p in plan.points})
        print(f"interrupted: {done} of {len(plan.points)} points are stored in {out}; "
              "run the same command again to resume", file=sys.stderr)
        return 143 if isinstance(exc, _Terminated) else 130
    summary = store.write_summary()
    say(f"{plan.spec.name}: {report.computed} computed, {report.skipped} reused, "
        f"{len(report.failed)} failed in {report.elapsed_s:.1f} s; {len(summary)} rows in "
        f"{out / 'summary.parquet'} (pandas: modenhub_net.store.load_summary({str(out)!r}))")
    if report.failed:
        for point, error in report.failed[:5]:
            labels = ", ".join(f"{k} = {v!r}" for k, v in point.labels.items()) or "base"
            print(f"error: point ({labels}, seed {point.seed}) failed: {error}", file=sys.stderr)
        more = len(report.failed) - 5
        if more > 0:
            print(f"error: ... and {more} more failed points", file=sys.stderr)
        print("the other points are stored; run the same command again to retry", file=sys.stderr)
        return 1
    return 0
