"""Command-line interface: ``modenhub run SCENARIO.toml`` and ``modenhub sweep SCENARIO.toml``.

User mistakes (bad scenario, bad flag) print one clear message and exit with status 2,
without a traceback and without writing anything.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from modenhub_net.errors import UserInputError

__all__ = ["main", "build_parser"]


def _non_negative_int(flag: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} = {text!r} is not an integer") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"{flag} = {value} must be >= 0")
        return value

    return parse


def _positive_int(flag: str):
    def parse(text: str) -> int:
        value = _non_negative_int(flag)(text)
        if value < 1:
            raise argparse.ArgumentTypeError(f"{flag} = {value} must be >= 1")
        return value

    return parse


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
        "--seed", type=_non_negative_int("--seed"), default=None, help="root seed (>= 0)"
    )
    run.add_argument(
        "--trials", type=_positive_int("--trials"), default=None, help="requests per point (>= 1)"
    )
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")

    sweep = sub.add_parser("sweep", help="run a parameter sweep (resumable, Dask-parallel)")
    sweep.add_argument("scenario", type=Path, help="sweep scenario TOML file")
    sweep.add_argument("--out", type=Path, default=None, help="result store folder")
    sweep.add_argument(
        "--workers", type=_positive_int("--workers"), default=None,
        help="local workers (default: one per core; 1 runs serially in-process)",
    )
    sweep.add_argument("--scheduler", default=None, help="address of a Dask scheduler, tcp://HOST:PORT")
    sweep.add_argument(
        "--trials", type=_positive_int("--trials"), default=None,
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
    out = module.run_scenario(
        document, source=source, out_dir=args.out, seed=args.seed, trials=args.trials,
        quiet=args.quiet,
    )
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
