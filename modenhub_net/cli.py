"""Command-line interface: ``modenhub run``, ``sweep``, ``plot`` and ``circuit``.

User mistakes (bad scenario, bad flag, an output path that is not ours to replace) print one
clear line and exit with status 2, without a traceback and without writing anything. Faults
of the machine (full disk, read-only folder, damaged store) print one line naming the path
and what to do, and exit with status 1, leaving earlier results intact.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from modenhub_net.errors import EnvironmentFault, UserInputError, blame_flags

__all__ = ["EXIT_CODES", "MAX_TRIALS_FLAG", "main", "build_parser", "max_local_workers"]


#: largest root seed (scenario seeds are signed 64-bit integers, as in every scenario model)
MAX_SEED = 2**63 - 1

#: most worker processes an embedded LocalCluster may ever start (each is a Python process
#: of ~150 MB; beyond a few per core they only contend)
MAX_LOCAL_WORKERS = 256
#: workers allowed per usable core (beyond this they only contend for the cores)
WORKERS_PER_CORE = 4
#: memory budgeted per worker process, bytes (an idle worker is ~150 MB; a point needs more)
WORKER_MEMORY_BYTES = 512 * 2**20

#: largest ``--trials``. The most memory per trial of the shipped studies is paper_fig3's:
#: 127 values of N x 5 strategies with its per-request table kept, measured at about 20 kB
#: per trial (246 MB at 2,500 trials, 687 MB at 25,000). 1,000,000 trials need about 20 GB,
#: which fits in a 24 GiB machine; a scenario's own limit (e.g. study.trials) may be lower.
MAX_TRIALS_FLAG = 1_000_000

#: exit status -> meaning (listed in ``modenhub --help``)
EXIT_CODES = {
    0: "success",
    1: "fault of the machine or the store (disk full, read-only folder, damaged file), or "
       "some sweep points failed (the others are kept)",
    2: "bad input (scenario file, flag, output folder); nothing was written",
    130: "interrupted by Ctrl-C (SIGINT); finished results are kept",
    143: "terminated by SIGTERM; finished results are kept",
}

_ASCII_INT = re.compile(r"-?[0-9]+")


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (``error: ...``) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _int_flag(flag: str, *, low: int, high: int | None = None, high_text: str | None = None):
    """argparse type of an integer flag in [low, high]; ASCII decimal digits only.

    ``int()`` also takes other scripts' digits (``'٣'``, ``'７'``) and underscores
    (``'1_000'``); a flag takes only ``0-9`` with an optional leading minus sign.
    """

    def parse(text: str) -> int:
        if not _ASCII_INT.fullmatch(text.strip()):
            raise argparse.ArgumentTypeError(
                f"{flag} = {text!r} is not an integer (write decimal digits 0-9 only)"
            )
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"{flag} = {value} must be >= {low}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{flag} = {value} must be <= {high_text or high}")
        return value

    return parse


class _Once(argparse.Action):
    """Store a flag's value; the same flag given twice is an error (not 'the last one wins')."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                  values: Any, option_string: str | None = None) -> None:
        seen = getattr(namespace, "_given", None)
        if seen is None:
            seen = set()
            namespace._given = seen
        if self.dest in seen:
            parser.error(f"{option_string} is given twice; give it once")
        seen.add(self.dest)
        setattr(namespace, self.dest, values)


def _set_flag(text: str):
    from modenhub_net.sweep.overrides import parse_override

    try:
        return parse_override(text)
    except UserInputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _version() -> str:
    import modenhub_net

    return modenhub_net.__version__


def max_local_workers() -> tuple[int, str]:
    """Most local workers this machine can hold, and why (cores and available memory)."""
    from modenhub_net.sweep.runner import usable_cores

    cores = usable_cores()
    by_cores = WORKERS_PER_CORE * cores
    available = _available_memory_bytes()
    by_memory = max(1, available // WORKER_MEMORY_BYTES) if available else MAX_LOCAL_WORKERS
    bound = max(1, min(MAX_LOCAL_WORKERS, by_cores, by_memory))
    memory = f"{available / 2**30:.1f} GiB available" if available else "memory unknown"
    why = (f"{cores} usable core{'s' if cores != 1 else ''} x {WORKERS_PER_CORE}, {memory} at "
           f"{WORKER_MEMORY_BYTES // 2**20} MiB per worker")
    return bound, why


def _available_memory_bytes() -> int:
    """MemAvailable of /proc/meminfo, else total physical memory, else 0 (unknown)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    with contextlib.suppress(OSError, ValueError, AttributeError):
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    return 0


def _exit_codes_text() -> str:
    return "exit status:\n" + "\n".join(f"  {code:<4} {text}" for code, text in EXIT_CODES.items())


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``modenhub`` command."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="modenhub", description="Modular Entanglement Hub network simulator.",
        epilog=_exit_codes_text() + "\n\nResults go to stdout and to files; progress bars, "
               "notes and errors to stderr.", formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"modenhub {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="{run,sweep,plot,circuit}")
    set_help = ("override one scenario field, FIELD=VALUE with VALUE a TOML literal (1e9, true, "
                "\"text\", [1, 2]); repeatable; validated like the file")
    quiet_help = "no progress bars and no notes on stderr (results and errors still print)"
    trials_help = (f"requests per point, 1..{MAX_TRIALS_FLAG:,} (the bound keeps the largest "
                   "shipped study, paper_fig3 with its request table, within ~20 GB; a "
                   "scenario's own limit may be lower)")

    run = sub.add_parser("run", help="run one scenario and write its results",
                         epilog=_exit_codes_text(), formatter_class=formatter)
    run.add_argument("scenario", type=Path, help="scenario TOML file")
    run.add_argument("--out", action=_Once, default=None,
                     help="output folder (default results/<name>); must be new, empty or "
                          "written by modenhub before")
    run.add_argument("--seed", action=_Once, type=_int_flag(
        "--seed", low=0, high=MAX_SEED, high_text=f"{MAX_SEED} (2**63 - 1)"), default=None,
        help="root seed (0 to 2**63 - 1)")
    run.add_argument("--trials", action=_Once, type=_int_flag("--trials", low=1), default=None,
                     help=trials_help)
    run.add_argument("--set", dest="overrides", action="append", type=_set_flag, default=[],
                     metavar="FIELD=VALUE", help=set_help)
    run.add_argument("--quiet", action="store_true",
                     help=quiet_help + "; no result tables either: nothing but errors")

    sweep = sub.add_parser("sweep", help="run a parameter sweep (resumable, Dask-parallel)",
                           epilog=_exit_codes_text(), formatter_class=formatter)
    sweep.add_argument("scenario", type=Path, help="sweep scenario TOML file")
    sweep.add_argument("--out", action=_Once, default=None,
                       help="result store folder (default results/<name>); must be new, empty "
                            "or a store written by modenhub before")
    sweep.add_argument(
        "--workers", action=_Once, type=_int_flag("--workers", low=1, high=MAX_LOCAL_WORKERS),
        default=None,
        help=f"local workers, at most {WORKERS_PER_CORE} per usable core and one per "
             f"{WORKER_MEMORY_BYTES // 2**20} MiB of available memory (never above "
             f"{MAX_LOCAL_WORKERS}); default one per core; 1 runs serially in-process; for more "
             "machines use --scheduler",
    )
    sweep.add_argument("--scheduler", action=_Once, default=None,
                       help="address of a Dask scheduler, tcp://HOST:PORT")
    sweep.add_argument("--trials", action=_Once, type=_int_flag("--trials", low=1),
                       default=None, help=trials_help + "; applies to every grid point")
    sweep.add_argument("--set", dest="overrides", action="append", type=_set_flag, default=[],
                       metavar="FIELD=VALUE",
                       help=set_help + "; applied to the base scenario, part of every point's id")
    sweep.add_argument("--quiet", action="store_true",
                       help=quiet_help + " (the one-line counts still print)")

    plot = sub.add_parser("plot", help="draw a sweep store's summary (PDF and PNG)",
                          epilog=_exit_codes_text(), formatter_class=formatter)
    plot.add_argument("store", type=Path, help="sweep result store (results/<sweep name>)")
    plot.add_argument("--out", action=_Once, default=None,
                      help="folder for summary.pdf/.png (default: the store itself); must be "
                           "new, empty or written by modenhub before")
    plot.add_argument("--y", action=_Once, default=None,
                      help="column on the y axis (default: success_rate or the first numeric "
                           "result column)")
    plot.add_argument("--x", action=_Once, default=None,
                      help="column on the x axis (default: n_qpus if present, else the first "
                           "grid field)")
    plot.add_argument("--quiet", action="store_true", help=quiet_help)

    from protocols.circuits.cli import add_circuit_arguments

    circuit = sub.add_parser("circuit", help="run a distributed circuit (OpenQASM file or "
                             "NAME:N) on 1-16 QPUs joined by the hub",
                             epilog=_exit_codes_text(), formatter_class=formatter)
    add_circuit_arguments(circuit, int_flag=_int_flag)
    return parser


# -- SIGTERM ---------------------------------------------------------------------------------


class Terminated(KeyboardInterrupt):
    """SIGTERM (a batch system's time limit, ``scancel``, ``kill``) taken like Ctrl-C."""


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (a ``KeyboardInterrupt``), so it
    stops a run the way Ctrl-C does: finished results stay, one line, exit status 143."""
    if threading.current_thread() is not threading.main_thread():  # signals need the main thread
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- run -------------------------------------------------------------------------------------

#: keys of a hardware preset file (``hardware_models/preset_data/*.toml``)
_PRESET_KEYS = {"source", "fibre", "detector", "transduction_efficiency", "memory", "switch"}


def _not_a_scenario(document: dict[str, Any], source: str) -> None:
    """Refuse a sweep file or a preset file given to ``run``, saying which command to use."""
    if "kind" in document:
        return
    if "grid" in document or "base_file" in document or "base" in document:
        raise UserInputError(f"{source} is a sweep file, not a scenario: run it with "
                             f"`modenhub sweep {source}`")
    if _PRESET_KEYS & set(document):
        raise UserInputError(
            f"{source} is a hardware preset, not a scenario: name it in a scenario (e.g. "
            f"preset = \"{document.get('name', Path(source).stem)}\" in a QPU of a kind = \"hub\" "
            "scenario such as scenarios/hub4_case_study.toml) and `modenhub run` that scenario"
        )


def _out_text(value: str | None, flag: str = "--out") -> str | None:
    if value is None:
        return None
    from modenhub_net.output import check_output_dir

    check_output_dir(value, flag=flag)  # '' and '.' are refused before Path('') == Path('.')
    return value


def _run(args: argparse.Namespace) -> int:
    from modenhub_net.config import load_toml
    from modenhub_net.output import check_output_dir, clean_stale_staging
    from modenhub_net.studies import study_module
    from modenhub_net.sweep.overrides import check_flag_conflicts, validate_with_overrides

    source = str(args.scenario)
    _out_text(args.out)
    document = load_toml(args.scenario)
    _not_a_scenario(document, source)
    kind = document.get("kind")
    module = study_module(kind, source=source)
    overrides = list(args.overrides)
    flags = {"--seed": args.seed, "--trials": args.trials}
    load = getattr(module, "load_scenario", None) or getattr(module, "_load", None)
    name = None
    if load is not None:
        def check(given: dict[str, Any]) -> None:
            validate_with_overrides(
                document, overrides,
                lambda doc: load(doc, source=source, seed=given.get("--seed"),
                                 trials=given.get("--trials")),
                kind=kind)

        try:
            document, scenario = validate_with_overrides(
                document, overrides,
                lambda doc: load(doc, source=source, seed=args.seed, trials=args.trials),
                kind=kind)
        except UserInputError as exc:
            raise blame_flags(exc, check, flags) from None
        check_flag_conflicts(overrides, scenario, load(document, source=source, seed=None,
                                                       trials=None), flags)
        name = getattr(scenario, "name", None)
    elif overrides:
        raise UserInputError(f"{source}: kind = {kind!r} does not take --set")
    if args.trials is not None and args.trials > MAX_TRIALS_FLAG:
        raise UserInputError(f"--trials = {args.trials} must be <= {MAX_TRIALS_FLAG} (the bound "
                             "of --trials; see modenhub run --help)")
    out = Path(args.out) if args.out is not None else (
        Path("results") / name if isinstance(name, str) else None)
    if out is not None:
        check_output_dir(out, protect=[args.scenario])  # before the computation starts
        clean_stale_staging(out)  # what a killed earlier run left next to it
    with sigterm_as_interrupt():
        written = module.run_scenario(
            document, source=source, out_dir=out, seed=args.seed, trials=args.trials,
            quiet=args.quiet,
        )
    if not args.quiet:
        print(f"results written to {written}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from modenhub_net.sweep.cli import run_sweep_command

    return run_sweep_command(args)


def _plot(args: argparse.Namespace) -> int:
    from modenhub_net.sweep.plot import plot_store_command

    return plot_store_command(args)


def _circuit(args: argparse.Namespace) -> int:
    from modenhub_net.output import check_output_dir
    from modenhub_net.studies.circuit_study import hub_provider
    from protocols.circuits.cli import run_circuit_command

    if args.out is not None:  # before the computation; never over the circuit file itself
        _out_text(args.out)
        check_output_dir(args.out, protect=[args.circuit] if Path(args.circuit).exists() else [])
    with sigterm_as_interrupt():
        return run_circuit_command(args, hub_provider_factory=hub_provider)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``modenhub`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "plot":
            return _plot(args)
        if args.command == "circuit":
            return _circuit(args)
        return _sweep(args)
    except UserInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except EnvironmentFault as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a machine fault not caught closer to its source
        print(f"error: {EnvironmentFault.from_os_error(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print("terminated; finished results are kept" if isinstance(exc, Terminated)
              else "interrupted; finished results are kept", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
