"""``modenhub circuit``: run an OpenQASM file or a built-in circuit on 1-16 QPUs.

Wired into ``modenhub_net/cli.py`` as a subcommand: ``add_circuit_arguments(sub)`` and
``run_circuit_command(args, hub_provider_factory=...)``. Prints one result line (fidelity,
makespan, ebits) on stdout; with ``--out DIR`` writes ``gates.parquet``, ``ebits.parquet``,
``plan.parquet`` and ``summary.json`` into a folder this program creates
(:func:`modenhub_net.output.atomic_output_dir`) and says so on stderr (``--quiet``: not).

By default every ebit comes from the simulated hub of ``--preset``
(:class:`~protocols.circuits.hub.HubEbitProvider`, round policy ``--policy``); ``--ebits
werner`` uses a fixed Werner state instead. One QPU is monolithic execution (no ebits).

This module imports only the standard library at import time (``modenhub --help`` stays
fast); the circuit machinery is imported when a command runs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modenhub_net.errors import UserInputError

__all__ = [
    "BACKEND_CHOICES",
    "GENERATOR_CHOICES",
    "MAX_QPUS",
    "PARTITION_CHOICES",
    "POLICY_CHOICES",
    "add_circuit_arguments",
    "load_circuit_spec",
    "run_circuit_command",
]

#: most QPUs a circuit runs on (one hub's switch ports in the shipped presets)
MAX_QPUS = 16
# choices, spelled here so the parser is built without importing numpy/pandas (tests check
# that they equal the modules' own tuples)
GENERATOR_CHOICES = ("ghz", "qft", "qaoa", "grover")
PARTITION_CHOICES = ("round_robin", "kl", "metis")
POLICY_CHOICES = ("naive", "orchestrated", "adaptive")
BACKEND_CHOICES = ("auto", "density_matrix", "stabilizer")


def add_circuit_arguments(
    parser: argparse.ArgumentParser, *, int_flag: Callable[..., Callable[[str], int]] | None = None
) -> None:
    """Add the ``modenhub circuit`` arguments to ``parser``.

    ``int_flag(flag, low=, high=)``, if given, builds the argparse type of integer flags (the
    main CLI's: ASCII digits only, range in the message); default ``int`` with the ranges
    checked by :func:`run_circuit_command`.
    """

    def integer(flag: str, low: int, high: int | None = None) -> Callable[[str], int]:
        return int if int_flag is None else int_flag(flag, low=low, high=high)

    parser.add_argument(
        "circuit",
        help="an OpenQASM 2/3 file, or a built-in circuit NAME:N "
        f"with NAME in {{{','.join(GENERATOR_CHOICES)}}} (e.g. ghz:8, grover:4)",
    )
    parser.add_argument(
        "--qpus", type=integer("--qpus", 1, MAX_QPUS), required=True,
        help=f"number of QPUs, 1-{MAX_QPUS} (1 = monolithic, no ebits)",
    )
    parser.add_argument(
        "--preset", default="ideal",
        help="hardware preset of every QPU and of the hub (default: ideal)",
    )
    parser.add_argument(
        "--data-qubits", type=integer("--data-qubits", 1, 1000), default=None,
        help="data qubits per QPU (default: ceil(circuit qubits / QPUs))",
    )
    parser.add_argument(
        "--partition", choices=PARTITION_CHOICES, default="kl",
        help="qubit-to-QPU partitioning: kl and metis are network-aware graph partitioners, "
        "round_robin the naive baseline (default: kl)",
    )
    parser.add_argument(
        "--share-ebits", action="store_true",
        help="one ebit for consecutive non-local gates on a qubit (EJPP packing)",
    )
    parser.add_argument(
        "--policy", choices=POLICY_CHOICES, default=None,
        help="the hub's round policy for each ebit (default: orchestrated; --ebits hub only)",
    )
    parser.add_argument(
        "--prefetch", action="store_true",
        help="request every ebit of the connection plan at t = 0 (default: when needed)",
    )
    parser.add_argument(
        "--ebits", choices=("hub", "werner"), default="hub",
        help="ebit source: the simulated hub of --preset, or Werner states (--ebit-fidelity, "
        "--ebit-latency-ns) (default: hub)",
    )
    parser.add_argument(
        "--ebit-fidelity", type=float, default=None,
        help="Werner fidelity of each ebit, 0.25-1 (--ebits werner; default 1, perfect)",
    )
    parser.add_argument(
        "--ebit-latency-ns", type=float, default=None,
        help="time from request to delivery of an ebit in ns (--ebits werner; default 0)",
    )
    parser.add_argument(
        "--classical-latency-ns", type=float, default=0.0,
        help="one-way classical latency between QPUs in ns, --ebits werner (the hub uses its "
        "own relay delay) (default: 0)",
    )
    parser.add_argument(
        "--backend", choices=BACKEND_CHOICES, default="auto",
        help="state engine: exact density matrix (up to 12 live qubits) or stim stabilizer "
        "sampling for Clifford circuits (default: auto)",
    )
    parser.add_argument(
        "--shots", type=integer("--shots", 100, 10**8), default=20_000,
        help="stabilizer-backend samples, 100-10^8 (default: 20000)",
    )
    parser.add_argument(
        "--seed", type=integer("--seed", 0, 2**63 - 1), default=0, help="root seed (default: 0)"
    )
    parser.add_argument(
        "--out", default=None, help="new folder for the records (Parquet) and summary.json"
    )
    parser.add_argument(
        "--quiet", action="store_true", help="only the result line on stdout, no notes on stderr"
    )


def load_circuit_spec(spec: str, *, seed: int = 0) -> Any:
    """A :class:`~protocols.circuits.ir.Circuit` from a ``.qasm`` path or ``NAME:N`` of a generator."""
    from protocols.circuits.generators import GENERATORS, build_generator
    from protocols.circuits.qasm import load_qasm

    name, _, size = spec.partition(":")
    if name in GENERATORS and size:
        try:
            n = int(size)
        except ValueError:
            raise UserInputError(f"circuit = {spec!r}: the size after ':' must be an integer") from None
        return build_generator(name, n, seed=seed)
    path = Path(spec)
    if not path.exists() and name in GENERATORS:
        raise UserInputError(f"circuit = {spec!r}: give the size, e.g. {name}:4")
    return load_qasm(path)


def _check_args(args: argparse.Namespace) -> None:
    checks = (
        ("--qpus", args.qpus, 1, MAX_QPUS),
        ("--seed", args.seed, 0, 2**63 - 1),
        ("--shots", args.shots, 100, 10**8),
    )
    for flag, value, low, high in checks:
        if not low <= value <= high:
            raise UserInputError(f"{flag} = {value} must be in [{low}, {high}]")
    if args.ebits == "hub":
        werner_only = (("--ebit-fidelity", args.ebit_fidelity), ("--ebit-latency-ns", args.ebit_latency_ns))
        for flag, value in werner_only:
            if value is not None:
                raise UserInputError(
                    f"{flag} = {value} applies to --ebits werner (the hub makes its own ebits)"
                )
    elif args.policy is not None:
        raise UserInputError(
            f"--policy = {args.policy} applies to --ebits hub (Werner ebits have no rounds)"
        )
    latency = args.classical_latency_ns
    if not (math.isfinite(latency) and latency >= 0):
        raise UserInputError(f"--classical-latency-ns = {latency} must be a finite number >= 0")


def run_circuit_command(
    args: argparse.Namespace, *, hub_provider_factory: Callable[..., Any] | None = None
) -> int:
    """Run ``modenhub circuit`` with parsed ``args``; prints the result line, returns 0.

    ``hub_provider_factory(n_qpus=..., preset=..., seed=..., policy=...)`` builds the
    :class:`~protocols.circuits.hub.HubEbitProvider` for ``--ebits hub`` (the caller builds
    the network: ``protocols`` does not import the network builder;
    :func:`modenhub_net.studies.circuit_study.hub_provider` is the one ``modenhub`` uses).

    Raises
    ------
    UserInputError
        For any bad argument or file (the CLI prints it on one line, status 2).
    """
    from protocols.circuits.compiler import compile_circuit
    from protocols.circuits.ebits import PerfectEbitProvider, WernerEbitProvider
    from protocols.circuits.executor import QpuPhysics, execute_circuit
    from protocols.circuits.generators import graph_rng
    from protocols.circuits.partition import partition_circuit

    _check_args(args)
    policy = args.policy or "orchestrated"
    circuit = load_circuit_spec(args.circuit, seed=args.seed)
    capacity = args.data_qubits if args.data_qubits is not None else math.ceil(circuit.n_qubits / args.qpus)
    if capacity < 1:
        raise UserInputError(f"--data-qubits = {capacity} must be >= 1")
    physics = QpuPhysics.from_preset(args.preset)
    part = partition_circuit(
        circuit, [capacity] * args.qpus, method=args.partition, rng=graph_rng(args.seed, "circuit.partition")
    )
    compiled = compile_circuit(circuit, part, share_ebits=args.share_ebits)
    if args.ebits == "hub" and args.qpus >= 2:
        if hub_provider_factory is None:
            raise UserInputError("--ebits hub is not available here (no hub network builder was given)")
        provider = hub_provider_factory(n_qpus=args.qpus, preset=args.preset, seed=args.seed, policy=policy)
    elif args.ebits == "hub" or args.ebit_fidelity in (None, 1.0):
        provider = PerfectEbitProvider(latency_ns=args.ebit_latency_ns or 0.0)  # 1 QPU: never asked
    else:
        provider = WernerEbitProvider(fidelity=args.ebit_fidelity, latency_ns=args.ebit_latency_ns or 0.0)
    result = execute_circuit(
        compiled,
        provider=provider,
        physics=physics,
        classical_latency_ns=args.classical_latency_ns,
        prefetch=args.prefetch,
        backend=args.backend,
        shots=args.shots,
        seed=args.seed,
    )
    summary: dict[str, Any] = {
        "circuit": circuit.name,
        "n_qubits": circuit.n_qubits,
        "n_qpus": args.qpus,
        "preset": args.preset,
        "partition": args.partition,
        "assignment": list(part.assignment),
        "nonlocal_gates": compiled.nonlocal_gates,
        "share_ebits": args.share_ebits,
        "policy": policy if args.ebits == "hub" else None,
        "prefetch": args.prefetch,
        "seed": args.seed,
        "ebits_source": args.ebits,
        **result.summary(),
    }
    print(result_line(summary, args.qpus))
    if args.out is not None:
        import pandas as pd

        from modenhub_net.output import atomic_output_dir

        with atomic_output_dir(args.out) as folder:
            result.gates.to_parquet(folder / "gates.parquet", index=False)
            result.ebits.to_parquet(folder / "ebits.parquet", index=False)
            pd.DataFrame(
                compiled.plan_records(), columns=["qpu_a", "qpu_b", "count", "needed_by_step"]
            ).to_parquet(folder / "plan.parquet", index=False)
            (folder / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        if not args.quiet:
            print(f"records written to {args.out}", file=sys.stderr)
    return 0


def result_line(summary: dict[str, Any], n_qpus: int) -> str:
    """The one line ``modenhub circuit`` prints for a run's ``summary``."""
    line = (
        f"{summary['circuit']}: {summary['n_qubits']} qubits on {n_qpus} QPU{'s' if n_qpus != 1 else ''} "
        f"({summary['preset']}), fidelity {summary['fidelity']:.4f}"
    )
    if summary["fidelity_se"] > 0:
        line += f" +- {summary['fidelity_se']:.4f}"
    if not math.isnan(summary["success_probability"]):
        line += f", success probability {summary['success_probability']:.4f}"
    return line + (
        f", makespan {summary['makespan_ns'] / 1e3:.1f} us, ebits {summary['ebits_consumed']} "
        f"(wasted {summary['ebits_wasted']}), waiting for entanglement "
        f"{summary['entanglement_wait_ns'] / 1e3:.1f} us"
    )
