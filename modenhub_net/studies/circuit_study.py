"""Scenario kind ``circuit``: one distributed circuit on N QPUs, ebits from Werner states or the hub.

A ``kind = "circuit"`` scenario (``scenarios/circuits/ghz8_hub.toml``) names a circuit (an
OpenQASM file relative to the scenario file, or ``NAME:N`` of a built-in generator), the
QPUs and their preset, the partitioning, the ebit sharing and request policy, and the ebit
source: ``werner`` (fixed fidelity and latency) or ``hub`` (the component-built hub of the
same preset, :class:`protocols.circuits.hub.HubEbitProvider`). :func:`evaluate_point` returns
the one-row summary (for sweeps); :func:`run_scenario` also writes the per-gate and per-ebit
records (Parquet), the connection plan and ``summary.csv``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import Field

from modenhub_net.config import StrictModel, validate_document
from modenhub_net.errors import UserInputError

__all__ = ["CircuitScenario", "evaluate_point", "load_scenario", "run_scenario", "run_circuit_scenario"]


class CircuitRun(StrictModel):
    """``[run]``: where and how the circuit runs.

    Parameters
    ----------
    qpus : int
        Number of QPUs, in [1, 16].
    preset : str
        Hardware preset of every QPU (gate errors and durations, memories). Default ``"ideal"``.
    data_qubits : int or None
        Data qubits per QPU, in [1, 1000]; default None = ceil(circuit qubits / qpus).
    partition : {"kl", "metis", "round_robin"}
    share_ebits : bool
        EJPP packing of consecutive non-local gates on one qubit (default false).
    prefetch : bool
        Request every ebit of the connection plan at t = 0 instead of when needed (default
        false).
    backend : {"auto", "density_matrix", "stabilizer"}
    shots : int
        Stabilizer samples, in [100, 10^8]. Default 20,000.
    classical_latency_ns : float
        One-way classical latency between QPUs for Werner ebits, ns, in [0, 1e15]. Default 0
        (the hub uses its own relay delay).
    """

    qpus: int = Field(ge=1, le=16)
    preset: str = "ideal"
    data_qubits: int | None = Field(None, ge=1, le=1000)
    partition: Literal["kl", "metis", "round_robin"] = "kl"
    share_ebits: bool = False
    prefetch: bool = False
    backend: Literal["auto", "density_matrix", "stabilizer"] = "auto"
    shots: int = Field(20_000, ge=100, le=100_000_000)
    classical_latency_ns: float = Field(0.0, ge=0.0, le=1e15)


class CircuitEbits(StrictModel):
    """``[ebits]``: the ebit source.

    Parameters
    ----------
    source : {"werner", "hub"}
        Default ``"werner"``.
    policy : {"naive", "orchestrated", "adaptive"}
        Round policy of the hub for each ebit (source hub;
        :class:`protocols.circuits.hub.HubEbitProvider`). Default ``"orchestrated"``.
    rounds : int
        Round budget R of the policy's schedule, in [1, 1000] (source hub). Default 3 (the
        paper's).
    fidelity : float
        Werner fidelity in [0.25, 1] (source werner). Default 1.
    latency_ns : float
        Request-to-delivery time in ns, in [0, 1e15] (source werner). Default 0.
    fibre_length_km : float
        Fibre from each QPU to the hub in km, in [0, 1000] (source hub). Default 2 (a data-centre
        scale link, as ``scenarios/hub4_case_study.toml``).
    scheme : {"detection_in_hub", "source_in_hub", "hub_memory_swap"}
        Link scheme of the hub (source hub). Default ``"detection_in_hub"``.
    link_mode : {"sampled", "detailed"}
        Default ``"sampled"``.
    """

    source: Literal["werner", "hub"] = "werner"
    policy: Literal["naive", "orchestrated", "adaptive"] = "orchestrated"
    rounds: int = Field(3, ge=1, le=1000)
    fidelity: float = Field(1.0, ge=0.25, le=1.0)
    latency_ns: float = Field(0.0, ge=0.0, le=1e15)
    fibre_length_km: float = Field(2.0, ge=0.0, le=1000.0)
    scheme: Literal["detection_in_hub", "source_in_hub", "hub_memory_swap"] = "detection_in_hub"
    link_mode: Literal["sampled", "detailed"] = "sampled"


class CircuitScenario(StrictModel):
    """A ``kind = "circuit"`` scenario (module docstring)."""

    kind: Literal["circuit"]
    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    seed: int = Field(0, ge=0, le=2**63 - 1)
    circuit: str = Field(min_length=1, max_length=4096)
    run: CircuitRun
    ebits: CircuitEbits = Field(default_factory=CircuitEbits)
    base_dir: str = ""


def load_scenario(
    document: Mapping[str, Any], *, source: str, seed: int | None = None, trials: int | None = None
) -> CircuitScenario:
    """Validate a scenario document (``seed`` overrides; ``trials`` sets the stabilizer shots)."""
    doc = copy.deepcopy(dict(document))
    if seed is not None:
        doc["seed"] = seed
    if trials is not None:
        run = doc.setdefault("run", {})
        if isinstance(run, dict):
            run["shots"] = trials
    if "base_dir" not in doc and source and not source.startswith("<"):
        doc["base_dir"] = str(Path(source).resolve().parent)
    return validate_document(CircuitScenario, doc, source=source)


def run_circuit_scenario(scenario: CircuitScenario) -> tuple[dict[str, Any], Any, Any]:
    """Run one scenario: (summary row, ExecutionResult, CompiledCircuit)."""
    from protocols.circuits.cli import load_circuit_spec
    from protocols.circuits.compiler import compile_circuit
    from protocols.circuits.ebits import PerfectEbitProvider, WernerEbitProvider
    from protocols.circuits.executor import QpuPhysics, execute_circuit
    from protocols.circuits.generators import graph_rng
    from protocols.circuits.partition import partition_circuit

    spec = scenario.circuit
    if ":" not in spec and scenario.base_dir and not Path(spec).is_absolute():
        spec = str(Path(scenario.base_dir) / spec)
    circuit = load_circuit_spec(spec, seed=scenario.seed)
    run = scenario.run
    capacity = run.data_qubits if run.data_qubits is not None else math.ceil(circuit.n_qubits / run.qpus)
    physics = QpuPhysics.from_preset(run.preset)
    ebits = scenario.ebits
    if ebits.source == "hub" and run.qpus >= 2:
        provider = hub_provider(
            n_qpus=run.qpus,
            preset=run.preset,
            seed=scenario.seed,
            fibre_length_km=ebits.fibre_length_km,
            scheme=ebits.scheme,
            link_mode=ebits.link_mode,
            policy=ebits.policy,
            rounds=ebits.rounds,
        )
    elif ebits.source == "hub" or ebits.fidelity == 1.0:  # one QPU: no ebit is ever requested
        provider = PerfectEbitProvider(latency_ns=ebits.latency_ns)
    else:
        provider = WernerEbitProvider(fidelity=ebits.fidelity, latency_ns=ebits.latency_ns)
    part = partition_circuit(
        circuit,
        [capacity] * run.qpus,
        method=run.partition,
        rng=graph_rng(scenario.seed, "circuit.partition"),
    )
    compiled = compile_circuit(circuit, part, share_ebits=run.share_ebits)
    result = execute_circuit(
        compiled,
        provider=provider,
        physics=physics,
        classical_latency_ns=run.classical_latency_ns,
        prefetch=run.prefetch,
        backend=run.backend,
        shots=run.shots,
        seed=scenario.seed,
    )
    row = {
        "name": scenario.name,
        "circuit": circuit.name,
        "n_qubits": circuit.n_qubits,
        "n_qpus": run.qpus,
        "preset": run.preset,
        "partition": run.partition,
        "share_ebits": run.share_ebits,
        "prefetch": run.prefetch,
        "ebit_source": ebits.source,
        "policy": ebits.policy if ebits.source == "hub" else "",
        "nonlocal_gates": compiled.nonlocal_gates,
        "seed": scenario.seed,
        **result.summary(),
    }
    return row, result, compiled


def hub_provider(
    *,
    n_qpus: int,
    preset: str,
    seed: int,
    fibre_length_km: float = 2.0,
    scheme: str = "detection_in_hub",
    link_mode: str = "sampled",
    policy: str = "orchestrated",
    rounds: int = 3,
) -> Any:
    """A :class:`~protocols.circuits.hub.HubEbitProvider` with round ``policy`` on a new hub of
    ``preset`` (all QPUs at ``fibre_length_km``). Also the factory of ``modenhub circuit``."""
    from modenhub_net.network.builder import build_hub_network
    from modenhub_net.network.spec import HubSpec, QpuSpec
    from modenhub_net.simulation import Simulation
    from protocols.circuits.hub import HubEbitProvider

    if n_qpus < 2:
        raise UserInputError(f"run.qpus = {n_qpus}: ebits from the hub need at least 2 QPUs")
    nodes = [QpuSpec.from_preset(preset, fibre_length_km=fibre_length_km) for _ in range(n_qpus)]
    net = build_hub_network(
        Simulation(seed=seed),
        nodes=nodes,
        hub=HubSpec.from_preset(preset),
        scheme=scheme,
        link_mode=link_mode,
    )
    return HubEbitProvider(net, policy=policy, rounds=rounds)


def evaluate_point(document: Mapping[str, Any], *, seed: int, source: str = "<sweep point>") -> pd.DataFrame:
    """The one-row summary of a scenario at one seed (pure: no file I/O)."""
    row, _, _ = run_circuit_scenario(load_scenario(document, source=source, seed=seed))
    return pd.DataFrame([row])


def run_scenario(
    document: Mapping[str, Any],
    *,
    source: str,
    out_dir: Path | None,
    seed: int | None,
    trials: int | None,
    quiet: bool,
) -> Path:
    """Validate, run and write ``summary.csv``, ``gates.parquet``, ``ebits.parquet``, ``plan.parquet``."""
    from modenhub_net.output import atomic_output_dir

    scenario = load_scenario(document, source=source, seed=seed, trials=trials)
    out = Path(out_dir) if out_dir is not None else Path("results") / scenario.name
    row, result, compiled = run_circuit_scenario(scenario)
    with atomic_output_dir(out) as folder:
        pd.DataFrame([row]).to_csv(folder / "summary.csv", index=False)
        result.gates.to_parquet(folder / "gates.parquet", index=False)
        result.ebits.to_parquet(folder / "ebits.parquet", index=False)
        pd.DataFrame(
            compiled.plan_records(), columns=["qpu_a", "qpu_b", "count", "needed_by_step"]
        ).to_parquet(folder / "plan.parquet", index=False)
    if not quiet:
        print(
            f"{scenario.name}: fidelity {result.fidelity:.4f}, makespan {result.makespan_ns / 1e3:.1f} us, "
            f"ebits {result.ebits_consumed} (wasted {result.ebits_wasted}) -> {out}"
        )
    return out


# -- the study: built-in circuits on the hub, by preset, QPU count, partitioning, sharing, policy --
STUDY_CIRCUITS = ("ghz:6", "qaoa:6", "qft:6", "grover:4")
STUDY_PRESETS = ("near_term_trapped_ion", "future")


def study_table(
    *, seed: int = 1, presets: tuple[str, ...] = STUDY_PRESETS, circuits: tuple[str, ...] = STUDY_CIRCUITS
) -> pd.DataFrame:
    """Rows of :func:`evaluate_point` over the study grid (hub ebits for every run).

    Grid: every circuit x preset x {2, 3} QPUs with KL partitioning, on-demand ebits, no
    sharing (the baseline), plus, on 3 QPUs, each variation alone: round-robin partitioning,
    ebit sharing, prefetching.
    """
    rows = []
    for preset in presets:
        for circuit in circuits:
            variants = [
                (2, "kl", False, "on_demand"),
                (3, "kl", False, "on_demand"),
                (3, "round_robin", False, "on_demand"),
                (3, "kl", True, "on_demand"),
                (3, "kl", False, "prefetch"),
            ]
            for qpus, partition, share, policy in variants:
                document = {
                    "kind": "circuit",
                    "name": "circuit_study",
                    "circuit": circuit,
                    "run": {
                        "qpus": qpus,
                        "preset": preset,
                        "partition": partition,
                        "share_ebits": share,
                        "prefetch": policy == "prefetch",
                        "backend": "density_matrix",
                    },
                    "ebits": {"source": "hub"},
                }
                rows.append(evaluate_point(document, seed=seed))
    return pd.concat(rows, ignore_index=True)


def _variant(row: pd.Series) -> str:
    if row["partition"] == "round_robin":
        return "round-robin partition"
    if row["share_ebits"]:
        return "shared ebits"
    if row["prefetch"]:
        return "prefetch"
    return f"baseline, {row['n_qpus']} QPUs"


def write_study(table: pd.DataFrame, folder: Path) -> None:
    """``table.csv``, ``circuit_study.png`` (fidelity and makespan per variant) and ``REPORT.md``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = table.copy()
    table["variant"] = table.apply(_variant, axis=1)
    table.to_csv(folder / "table.csv", index=False)
    presets = list(dict.fromkeys(table["preset"]))
    circuits = list(dict.fromkeys(table["circuit"]))
    variants = list(dict.fromkeys(table["variant"]))
    fig, axes = plt.subplots(2, len(presets), figsize=(5.5 * len(presets), 7), squeeze=False)
    width = 0.8 / len(variants)
    for j, preset in enumerate(presets):
        part = table[table["preset"] == preset]
        for i, variant in enumerate(variants):
            sel = part[part["variant"] == variant].set_index("circuit").reindex(circuits)
            x = [k + i * width for k in range(len(circuits))]
            axes[0, j].bar(x, sel["fidelity"], width, label=variant)
            axes[1, j].bar(x, sel["makespan_ns"] / 1e6, width, label=variant)
        for row, label in ((0, "output fidelity"), (1, "makespan (ms)")):
            axes[row, j].set_xticks([k + 0.4 - width / 2 for k in range(len(circuits))], circuits)
            axes[row, j].set_ylabel(label)
            axes[row, j].set_title(preset)
        axes[1, j].set_yscale("log")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "circuit_study.png", dpi=120)
    plt.close(fig)
    columns = [
        "preset",
        "circuit",
        "variant",
        "nonlocal_gates",
        "ebits_consumed",
        "fidelity",
        "success_probability",
        "makespan_ns",
        "entanglement_wait_ns",
    ]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for _, row in table[columns].iterrows():
        cells = []
        for c in columns:
            v = row[c]
            cells.append(f"{v:.4g}" if isinstance(v, float) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    (folder / "TABLE.md").write_text("\n".join(lines) + "\n")
