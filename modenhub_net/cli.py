"""Command-line interface: ``modenhub run SCENARIO.toml`` and ``modenhub sweep SCENARIO.toml``.

User mistakes (bad scenario, bad flag) print one clear message and exit with status 2,
without a traceback and without writing anything.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from modenhub_net.errors import UserInputError, blame_flags

__all__ = ["main", "build_parser"]


#: largest root seed (scenario seeds are signed 64-bit integers, as in every scenario model)
MAX_SEED = 2**63 - 1


#: most worker processes an embedded LocalCluster may start on one machine (each is a Python
#: process of ~150 MB; beyond a few per core they only contend)
MAX_LOCAL_WORKERS = 256


def _int_flag(flag: str, *, low: int, high: int | None = None, high_text: str | None = None):
    """argparse type of an integer flag in [low, high]; the message names flag, value, range."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} = {text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{flag} = {value} must be >= {low}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{flag} = {value} must be <= {high_text or high}")
        return value

    return parse


def _seed_flag():
    return _int_flag("--seed", low=0, high=MAX_SEED, high_text=f"{MAX_SEED} (2**63 - 1)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``modenhub`` command."""
    parser = argparse.ArgumentParser(
        prog="modenhub", description="Modular Entanglement Hub network simulator."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one scenario and write its results")
    run.add_argument("scenario", type=Path, help="scenario TOML file")
    run.add_argument(
        "--out", type=Path, default=None, help="output folder (default results/<name>)"
    )
    run.add_argument(
        "--seed", type=_seed_flag(), default=None, help="root seed (0 to 2**63 - 1)"
    )
    run.add_argument(
        "--trials", type=_int_flag("--trials", low=1), default=None, help="requests per point (>= 1)"
    )
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")

    sweep = sub.add_parser("sweep", help="run a parameter sweep (resumable, Dask-parallel)")
    sweep.add_argument("scenario", type=Path, help="sweep scenario TOML file")
    sweep.add_argument("--out", type=Path, default=None, help="result store folder")
    sweep.add_argument(
        "--workers", type=_int_flag("--workers", low=1, high=MAX_LOCAL_WORKERS), default=None,
        help=f"local workers, 1..{MAX_LOCAL_WORKERS} (default: one per core; 1 runs serially "
             "in-process; for more machines use --scheduler)",
    )
    sweep.add_argument("--scheduler", default=None, help="address of a Dask scheduler, tcp://HOST:PORT")
    sweep.add_argument(
        "--trials", type=_int_flag("--trials", low=1), default=None,
        help="override the requests per point of every grid point (>= 1)",
    )
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _run(args: argparse.Namespace) -> int:
    from modenhub_net.config import load_toml
    from modenhub_net.studies import study_module

    source = str(args.scenario)
    document = load_toml(args.scenario)
    module = study_module(document.get("kind"), source=source)
    try:
        out = module.run_scenario(
            document, source=source, out_dir=args.out, seed=args.seed, trials=args.trials,
            quiet=args.quiet,
        )
    except UserInputError as exc:
        load = getattr(module, "load_scenario", None)
        if load is None:
            raise
        names = {"--seed": "seed", "--trials": "trials"}

        def check(overrides) -> None:
            load(document, source=source, **{names[flag]: v for flag, v in overrides.items()})

        raise blame_flags(exc, check, {"--seed": args.seed, "--trials": args.trials}) from None
    if not args.quiet:
        print(f"results written to {out}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from modenhub_net.sweep.cli import run_sweep_command

    return run_sweep_command(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``modenhub`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        return _sweep(args)
    except UserInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; finished results are kept", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
