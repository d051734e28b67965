"""``modenhub circuit``: run an OpenQASM file or a built-in circuit on N QPUs.

Wiring (``modenhub_net/cli.py``): ``sub = subparsers.add_parser("circuit", ...)``,
``add_circuit_arguments(sub)``, and on dispatch ``return run_circuit_command(args)``.
Prints fidelity, makespan and ebits; with ``--out DIR`` writes ``gates.parquet``,
``ebits.parquet``, ``plan.parquet`` and ``summary.json`` into a folder this program
creates (:func:`modenhub_net.output.atomic_output_dir`).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from modenhub_net.errors import UserInputError
from protocols.circuits.compiler import compile_circuit
from protocols.circuits.ebits import EbitProvider, PerfectEbitProvider, WernerEbitProvider
from protocols.circuits.executor import BACKENDS, POLICIES, QpuPhysics, execute_circuit
from protocols.circuits.generators import GENERATORS, build_generator, graph_rng
from protocols.circuits.ir import Circuit
from protocols.circuits.partition import PARTITION_METHODS, partition_circuit
from protocols.circuits.qasm import load_qasm

__all__ = ["add_circuit_arguments", "load_circuit_spec", "run_circuit_command"]


def add_circuit_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``modenhub circuit`` arguments to ``parser``."""
    parser.add_argument(
        "circuit",
        help="an OpenQASM 2/3 file, or a built-in circuit NAME:N "
        f"with NAME in {{{','.join(GENERATORS)}}} (e.g. ghz:8, grover:4)",
    )
    parser.add_argument("--qpus", type=int, required=True, help="number of QPUs, 1-16")
    parser.add_argument("--preset", default="ideal", help="hardware preset of every QPU (default: ideal)")
    parser.add_argument(
        "--data-qubits",
        type=int,
        default=None,
        help="data qubits per QPU (default: ceil(circuit qubits / QPUs))",
    )
    parser.add_argument(
        "--partition", choices=PARTITION_METHODS, default="kl", help="qubit-to-QPU partitioning (default: kl)"
    )
    parser.add_argument(
        "--share-ebits",
        action="store_true",
        help="one ebit for consecutive non-local gates on a qubit (EJPP packing)",
    )
    parser.add_argument(
        "--policy",
        choices=POLICIES,
        default="on_demand",
        help="when ebits are requested (default: on_demand)",
    )
    parser.add_argument(
        "--ebits",
        choices=("werner", "hub"),
        default="werner",
        help="ebit source: Werner states (--ebit-fidelity, --ebit-latency-ns) or the simulated hub "
        "of --preset (default: werner)",
    )
    parser.add_argument(
        "--ebit-fidelity",
        type=float,
        default=1.0,
        help="Werner fidelity of each ebit, 0.25-1 (default: 1, perfect)",
    )
    parser.add_argument(
        "--ebit-latency-ns",
        type=float,
        default=0.0,
        help="time from request to delivery of an ebit in ns (default: 0)",
    )
    parser.add_argument(
        "--classical-latency-ns",
        type=float,
        default=0.0,
        help="one-way classical message latency between QPUs in ns (default: 0)",
    )
    parser.add_argument("--backend", choices=BACKENDS, default="auto", help="state engine (default: auto)")
    parser.add_argument(
        "--shots", type=int, default=20_000, help="stabilizer-backend samples (default: 20000)"
    )
    parser.add_argument("--seed", type=int, default=0, help="root seed (default: 0)")
    parser.add_argument("--out", default=None, help="folder for the records (Parquet) and summary.json")


def load_circuit_spec(spec: str, *, seed: int = 0) -> Circuit:
    """A circuit from a path to a ``.qasm`` file or ``NAME:N`` of a built-in generator."""
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


def run_circuit_command(
    args: argparse.Namespace, *, hub_provider_factory: Callable[..., EbitProvider] | None = None
) -> int:
    """Run ``modenhub circuit`` with parsed ``args``; prints the headline numbers, returns 0.

    ``hub_provider_factory(n_qpus=..., preset=..., seed=...)`` builds the
    :class:`~protocols.circuits.hub.HubEbitProvider` for ``--ebits hub`` (the caller builds the
    network: ``protocols`` does not import the network builder).

    Raises
    ------
    UserInputError
        For any bad argument or file (the CLI prints it on one line, status 2).
    """
    if not 1 <= args.qpus <= 16:
        raise UserInputError(f"--qpus = {args.qpus} must be in [1, 16]")
    if args.seed < 0:
        raise UserInputError(f"--seed = {args.seed} must be >= 0")
    circuit = load_circuit_spec(args.circuit, seed=args.seed)
    capacity = args.data_qubits if args.data_qubits is not None else math.ceil(circuit.n_qubits / args.qpus)
    if capacity < 1:
        raise UserInputError(f"--data-qubits = {capacity} must be >= 1")
    physics = QpuPhysics.from_preset(args.preset)
    provider: EbitProvider
    if args.ebits == "hub":
        if args.qpus < 2:
            raise UserInputError("--ebits hub needs --qpus >= 2 (a hub joins at least two QPUs)")
        if hub_provider_factory is None:
            raise UserInputError("--ebits hub is not available here (no hub network builder was given)")
        provider = hub_provider_factory(n_qpus=args.qpus, preset=args.preset, seed=args.seed)
    elif args.ebit_fidelity == 1.0:
        provider = PerfectEbitProvider(latency_ns=args.ebit_latency_ns)
    else:
        provider = WernerEbitProvider(fidelity=args.ebit_fidelity, latency_ns=args.ebit_latency_ns)
    part = partition_circuit(
        circuit, [capacity] * args.qpus, method=args.partition, rng=graph_rng(args.seed, "circuit.partition")
    )
    compiled = compile_circuit(circuit, part, share_ebits=args.share_ebits)
    result = execute_circuit(
        compiled,
        provider=provider,
        physics=physics,
        classical_latency_ns=args.classical_latency_ns,
        policy=args.policy,
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
        "policy": args.policy,
        "seed": args.seed,
        "ebits": args.ebits,
        **result.summary(),
    }
    line = (
        f"{circuit.name}: {circuit.n_qubits} qubits on {args.qpus} QPUs ({args.preset}), "
        f"fidelity {result.fidelity:.4f}"
    )
    if result.fidelity_se > 0:
        line += f" +- {result.fidelity_se:.4f}"
    if not math.isnan(result.success_probability):
        line += f", success probability {result.success_probability:.4f}"
    line += (
        f", makespan {result.makespan_ns / 1e3:.1f} us, ebits {result.ebits_consumed} "
        f"(wasted {result.ebits_wasted}), waiting for entanglement {result.entanglement_wait_ns / 1e3:.1f} us"
    )
    print(line)
    if args.out is not None:
        from modenhub_net.output import atomic_output_dir

        with atomic_output_dir(args.out) as folder:
            result.gates.to_parquet(folder / "gates.parquet", index=False)
            result.ebits.to_parquet(folder / "ebits.parquet", index=False)
            pd.DataFrame(
                compiled.plan_records(), columns=["qpu_a", "qpu_b", "count", "needed_by_step"]
            ).to_parquet(folder / "plan.parquet", index=False)
            (folder / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        print(f"records written to {args.out}")
    return 0
