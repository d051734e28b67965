"""``modenhub sweep SWEEP.toml [--out DIR] [--workers N | --scheduler tcp://HOST:PORT]
[--trials T] [--set FIELD=VALUE ...]``.

Validates the whole sweep first (exit 2, nothing written, on any mistake, including an
``--out`` that is neither new, empty nor a store this program wrote), writes
``manifest.json``, computes the points not yet in the store (progress bar on stderr), then
assembles ``summary.parquet`` / ``summary.csv`` from the store. Exit status: 0 all points
stored; 1 some point functions raised (the others are stored; re-run to retry) or a fault of
the machine or the store (disk full, read-only folder); 2 bad input; 130 interrupted by
SIGINT (Ctrl-C), 143 by SIGTERM (finished points kept; re-run to resume).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from modenhub_net.cli import MAX_TRIALS_FLAG, Terminated, max_local_workers, sigterm_as_interrupt
from modenhub_net.config import load_toml
from modenhub_net.errors import UserInputError, blame_flags
from modenhub_net.output import KIND_STORE, check_output_dir
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


def _say(quiet: bool, *, stream=None):
    def say(text: str) -> None:
        if not quiet:
            print(text, flush=True, file=stream if stream is not None else sys.stdout)

    return say


def _check_sweep_file(path: Path) -> None:
    """Refuse a scenario file given to ``sweep``, saying which command to use."""
    document = load_toml(path)
    if "kind" in document and "grid" not in document and "base_file" not in document:
        raise UserInputError(f"{path} is a scenario, not a sweep file: run it with "
                             f"`modenhub run {path}` (a sweep file has name, base_file or "
                             "[base], and [grid])")


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
    if workers is not None:
        bound, why = max_local_workers()
        if workers > bound:
            raise UserInputError(f"--workers = {workers} must be <= {bound} on this machine "
                                 f"({why})")
    out_text = getattr(args, "out", None)
    if out_text is not None:
        check_output_dir(str(out_text), kind=KIND_STORE)
    trials = getattr(args, "trials", None)
    overrides = list(getattr(args, "overrides", None) or [])
    _check_sweep_file(Path(args.scenario))
    try:
        plan = plan_sweep(args.scenario, trials=trials, overrides=overrides)
    except UserInputError as exc:
        raise blame_flags(exc, lambda given: plan_sweep(args.scenario, trials=given.get("--trials"),
                                                        overrides=overrides),
                          {"--trials": trials}) from None
    if trials is not None and trials > MAX_TRIALS_FLAG:
        raise UserInputError(f"--trials = {trials} must be <= {MAX_TRIALS_FLAG} (the bound of "
                             "--trials; see modenhub sweep --help)")
    out = Path(out_text) if out_text is not None else Path("results") / plan.spec.name
    check_output_dir(out, kind=KIND_STORE, protect=[args.scenario, plan.base_source]
                     if not plan.base_source.endswith("[base]") else [args.scenario])
    point_fn = study_module(plan.kind, source=plan.base_source).evaluate_point
    store = ResultStore(out)
    say = _say(False)  # --quiet hides the progress bar and notes; the counts are always shown
    note = _say(quiet, stream=sys.stderr)
    try:
        with sigterm_as_interrupt():
            report = run_sweep(plan.points, point_fn, store, workers=workers, scheduler=scheduler,
                               progress=not quiet, log=say, note=note, manifest=plan.manifest())
    except KeyboardInterrupt as exc:
        done = len(store.finished() & {p.key for p in plan.points})
        print(f"interrupted: {done} of {len(plan.points)} points are stored in {out}; "
              "run the same command again to resume", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
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
