"""Scenario kinds ``circuit`` (one distributed circuit on N QPUs, ebits from Werner states or the
hub) and ``circuit_study`` (the study grid of ``results/circuit_study``).

A ``kind = "circuit"`` scenario (``scenarios/circuits/ghz8_hub.toml``) names a circuit (an
OpenQASM file relative to the scenario file, or ``NAME:N`` of a built-in generator), the
QPUs and their preset, the partitioning, the ebit sharing and request policy, and the ebit
source: ``werner`` (fixed fidelity and latency) or ``hub`` (the component-built hub of the
same preset, :class:`protocols.circuits.hub.HubEbitProvider`). :func:`evaluate_point` returns
the one-row summary (for sweeps); :func:`run_scenario` also writes the per-gate and per-ebit
records (Parquet), the connection plan and ``summary.csv``.

A ``kind = "circuit_study"`` scenario (``scenarios/circuits/circuit_study.toml``) runs
built-in circuits with hub ebits over presets and QPU counts (the *baseline*: KL
partitioning, the orchestrated round policy, ebits on demand, one ebit per non-local gate),
and at one QPU count per circuit each *variant* alone (naive or adaptive round policy,
prefetching, round-robin or METIS partitioning, shared ebits), every point at several
replicate seeds (the hub's randomness; the circuit and its partition are fixed). It writes
``runs.csv`` (every run), ``summary.csv`` (means with 95 % intervals: fidelities and success
probabilities by :func:`modenhub_net.stats.bounded_mean_interval`, times by
:func:`modenhub_net.stats.mean_interval`), the figures and ``REPORT.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from modenhub_net.config import StrictModel, validate_document
from modenhub_net.errors import UserInputError
from modenhub_net.studies.skeleton import with_overrides

__all__ = [
    "CircuitScenario",
    "CircuitStudy",
    "evaluate_point",
    "hub_provider",
    "load_scenario",
    "load_study",
    "run_circuit_scenario",
    "run_scenario",
    "study_runs",
    "summarise",
    "write_study",
]


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
    """A ``kind = "circuit"`` scenario (module docstring).

    ``seed`` drives the hub (and the stabilizer sampler); ``circuit_seed`` (default: ``seed``)
    the random parts of the circuit (QAOA's graph) and of the partitioning, so that replicates
    of one circuit differ only in the hub's randomness.
    """

    kind: Literal["circuit"]
    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    seed: int = Field(0, ge=0, le=2**63 - 1)
    circuit_seed: int | None = Field(None, ge=0, le=2**63 - 1)
    circuit: str = Field(min_length=1, max_length=4096)
    run: CircuitRun
    ebits: CircuitEbits = Field(default_factory=CircuitEbits)
    base_dir: str = ""


def load_scenario(
    document: Mapping[str, Any], *, source: str, seed: int | None = None, trials: int | None = None
) -> CircuitScenario | CircuitStudy:
    """Validate a scenario document (``seed`` overrides; ``trials`` sets the stabilizer shots,
    or for a ``circuit_study`` the replicates per point)."""
    if isinstance(document, Mapping) and document.get("kind") == "circuit_study":
        return load_study(document, source=source, seed=seed, trials=trials)
    doc = with_overrides(document, seed=seed, trials=trials, trials_at=("run.shots",))
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
    circuit_seed = scenario.seed if scenario.circuit_seed is None else scenario.circuit_seed
    circuit = load_circuit_spec(spec, seed=circuit_seed)
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
        rng=graph_rng(circuit_seed, "circuit.partition"),
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
    if isinstance(scenario, CircuitStudy):
        runs = study_runs(scenario, progress=not quiet)
        with atomic_output_dir(out) as folder:
            write_study(runs, folder, scenario=scenario)
        if not quiet:
            print(study_headline(summarise(runs)))
        return out
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




# -- the study: built-in circuits on the hub, by preset, QPU count, policy, partitioning ------
VARIANTS = ("naive", "adaptive", "prefetch", "round_robin", "metis", "share_ebits")
VARIANT_LABELS = {
    "baseline": "baseline (KL, orchestrated, on demand)",
    "naive": "naive round policy",
    "adaptive": "adaptive round policy",
    "prefetch": "prefetch all ebits at t = 0",
    "round_robin": "round-robin partition",
    "metis": "METIS partition",
    "share_ebits": "shared ebits (EJPP packing)",
}


class StudySeries(StrictModel):
    """One circuit of the study.

    Parameters
    ----------
    circuit : str
        ``NAME:N`` of a built-in generator (or an OpenQASM file relative to the scenario).
    qpus : list of int
        QPU counts of the baseline, each in [1, 16] (1 = monolithic).
    variant_qpus : int
        QPU count at which the variants are compared, in [2, 16].
    """

    circuit: str = Field(min_length=1, max_length=4096)
    qpus: list[Annotated[int, Field(ge=1, le=16)]] = Field(min_length=1, max_length=16)
    variant_qpus: int = Field(ge=2, le=16)


class CircuitStudy(StrictModel):
    """A ``kind = "circuit_study"`` scenario (module docstring).

    Parameters
    ----------
    seed : int
        Root seed; replicate r runs the hub with the child seed named ``replicate<r>``, the
        circuit and partition with ``seed`` itself.
    replicates : int
        Seeds per point, in [2, 1000] (``--trials``). Default 5.
    presets : list of str
        Hardware presets (QPUs and hub), at least one.
    series : list of StudySeries
    variants : list of str
        Subset of ``naive, adaptive, prefetch, round_robin, metis, share_ebits``.
    shots : int
        Stabilizer samples per run (circuits beyond the density matrix), in [100, 10^7].
        Default 4,000.
    fibre_length_km : float
        Fibre from each QPU to the hub in km, in [0, 1000]. Default 2.
    """

    kind: Literal["circuit_study"]
    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    seed: int = Field(0, ge=0, le=2**63 - 1)
    replicates: int = Field(5, ge=2, le=1000)
    presets: list[str] = Field(min_length=1, max_length=20)
    series: list[StudySeries] = Field(min_length=1, max_length=50)
    variants: list[Literal["naive", "adaptive", "prefetch", "round_robin", "metis", "share_ebits"]] = Field(
        default_factory=lambda: list(VARIANTS)
    )
    shots: int = Field(4000, ge=100, le=10_000_000)
    fibre_length_km: float = Field(2.0, ge=0.0, le=1000.0)
    base_dir: str = ""


def load_study(
    document: Mapping[str, Any], *, source: str, seed: int | None = None, trials: int | None = None
) -> CircuitStudy:
    """Validate a ``circuit_study`` document (``seed`` and ``trials`` = replicates override)."""
    doc = with_overrides(document, seed=seed, trials=trials, trials_at=("replicates",))
    if "base_dir" not in doc and source and not source.startswith("<"):
        doc["base_dir"] = str(Path(source).resolve().parent)
    return validate_document(CircuitStudy, doc, source=source)


def _replicate_seed(root: int, replicate: int) -> int:
    from modenhub_net.simulation import stream_seed_sequence

    state = stream_seed_sequence(root, f"replicate{replicate}").generate_state(2)
    return int((int(state[0]) << 31 | int(state[1])) % 2**63)


def study_points(study: CircuitStudy) -> list[tuple[str, dict[str, Any]]]:
    """``(variant, circuit scenario document)`` of every point (replicates not expanded)."""
    points = []
    for preset in study.presets:
        for series in study.series:
            settings = [("baseline", q) for q in series.qpus]
            settings += [(v, series.variant_qpus) for v in study.variants]
            for variant, qpus in settings:
                run: dict[str, Any] = {"qpus": qpus, "preset": preset, "shots": study.shots}
                ebits: dict[str, Any] = {"source": "hub", "fibre_length_km": study.fibre_length_km}
                if variant in ("naive", "adaptive"):
                    ebits["policy"] = variant
                elif variant == "prefetch":
                    run["prefetch"] = True
                elif variant in ("round_robin", "metis"):
                    run["partition"] = variant
                elif variant == "share_ebits":
                    run["share_ebits"] = True
                document = {
                    "kind": "circuit",
                    "name": study.name,
                    "circuit": series.circuit,
                    "circuit_seed": study.seed,
                    "run": run,
                    "ebits": ebits,
                    "base_dir": study.base_dir,
                }
                points.append((variant, document))
    return points


def study_runs(study: CircuitStudy, *, progress: bool = False) -> pd.DataFrame:
    """Every run of the study (one row per point and replicate), serially on one core."""
    import sys

    rows = []
    points = study_points(study)
    for i, (variant, document) in enumerate(points):
        for r in range(study.replicates):
            table = evaluate_point(document, seed=_replicate_seed(study.seed, r))
            table.insert(0, "variant", variant)
            table.insert(1, "series", document["circuit"])
            table["replicate"] = r
            rows.append(table)
        if progress:
            print(f"\rcircuit study: {i + 1}/{len(points)} points", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return pd.concat(rows, ignore_index=True)


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (preset, circuit, QPUs, variant): means over replicates with 95 % intervals."""
    from modenhub_net.stats import bounded_mean_interval, mean_interval

    keys = ["preset", "series", "circuit", "n_qubits", "n_qpus", "variant"]
    out = []
    for key, part in runs.groupby(keys, sort=False):
        row = dict(zip(keys, key, strict=True))
        row["replicates"] = len(part)
        for column in ("fidelity", "success_probability"):
            values = part[column].to_numpy(dtype=float)
            if np.isnan(values).all():
                row[column], row[f"{column}_low"], row[f"{column}_high"] = (np.nan,) * 3
                continue
            low, high = bounded_mean_interval(values)
            row[column], row[f"{column}_low"], row[f"{column}_high"] = (
                float(values.mean()), float(low), float(high))
        for column in ("makespan_ns", "entanglement_wait_ns"):
            values = part[column].to_numpy(dtype=float)
            low, high = mean_interval(values)
            row[column], row[f"{column}_low"], row[f"{column}_high"] = (
                float(values.mean()), float(low), float(high))
        for column in ("nonlocal_gates", "ebits_consumed", "ebits_wasted"):
            row[column] = float(part[column].mean())
        row["backend"] = part["backend"].iloc[0]
        out.append(row)
    return pd.DataFrame(out)


def study_headline(summary: pd.DataFrame) -> str:
    """One line per preset: the largest baseline point of each circuit."""
    lines = []
    base = summary[summary["variant"] == "baseline"]
    for preset, part in base.groupby("preset", sort=False):
        cells = []
        for circuit, rows in part.groupby("circuit", sort=False):
            top = rows.loc[rows["n_qpus"].idxmax()]
            cells.append(f"{circuit} on {int(top.n_qpus)} QPUs F {top.fidelity:.3f}, "
                         f"makespan {top.makespan_ns / 1e6:.3g} ms")
        lines.append(f"{preset}: " + "; ".join(cells))
    return "\n".join(lines)


def write_study(runs: pd.DataFrame, folder: Path, *, scenario: CircuitStudy | None = None) -> None:
    """``runs.csv``, ``summary.csv``, the two figures (PDF + PNG) and ``REPORT.md`` into ``folder``."""
    summary = summarise(runs)
    runs.to_csv(folder / "runs.csv", index=False)
    summary.to_csv(folder / "summary.csv", index=False)
    plot_scaling(summary, folder)
    plot_variants(summary, folder)
    (folder / "REPORT.md").write_text(study_report(summary, scenario=scenario))


def plot_scaling(summary: pd.DataFrame, folder: Path) -> list[Path]:
    """``circuit_study.pdf/.png``: baseline fidelity and makespan vs QPUs, one column per preset
    (shared style, :mod:`modenhub_net.reporting.style`; 95 % interval bars)."""
    from modenhub_net.reporting import style

    base = summary[summary["variant"] == "baseline"]
    presets = list(dict.fromkeys(base["preset"]))
    circuits = list(dict.fromkeys(base["circuit"]))
    with style.use_style():
        fig, axes = style.new_figure(width="double", nrows=2, ncols=len(presets), height_in=4.4,
                                     squeeze=False, sharex=True)
        for j, preset in enumerate(presets):
            part = base[base["preset"] == preset]
            for i, circuit in enumerate(circuits):
                rows = part[part["circuit"] == circuit].sort_values("n_qpus")
                x = rows["n_qpus"].to_numpy(dtype=float)
                for row, (col, scale) in enumerate((("fidelity", 1.0), ("makespan_ns", 1e-6))):
                    style.errorbar_ci(axes[row, j], x, rows[col] * scale, rows[f"{col}_low"] * scale,
                                      rows[f"{col}_high"] * scale, series=i, label=circuit, line=True)
            axes[0, j].set_title(preset.replace("_", " "))
            axes[0, j].set_ylim(0.0, 1.02)
            axes[0, j].set_ylabel("output fidelity")
            axes[1, j].set_yscale("log")
            axes[1, j].set_ylabel(style.axis_label("makespan", "ms"))
            style.log2_axis(axes[1, j], base["n_qpus"].to_numpy(dtype=float), label="number of QPUs")
        style.figure_legend(fig, axes, where="lower", ncol=len(circuits))
        return style.save_figure(fig, folder, "circuit_study")


def plot_variants(summary: pd.DataFrame, folder: Path) -> list[Path]:
    """``circuit_study_variants.pdf/.png``: each variant against the baseline at the variant QPU
    count (bars, 95 % interval on the fidelity)."""
    from modenhub_net.reporting import style

    presets = list(dict.fromkeys(summary["preset"]))
    variants = list(dict.fromkeys(summary["variant"]))
    with style.use_style():
        fig, axes = style.new_figure(width="double", nrows=2, ncols=len(presets), height_in=4.6,
                                     squeeze=False)
        width = 0.8 / len(variants)
        for j, preset in enumerate(presets):
            part = summary[summary["preset"] == preset]
            compared = part[part["variant"] != "baseline"].groupby("circuit", sort=False)["n_qpus"].first()
            circuits = list(compared.index)
            for i, variant in enumerate(variants):
                picked = [part[(part["circuit"] == c) & (part["variant"] == variant)
                               & (part["n_qpus"] == compared[c])] for c in circuits]
                rows = [p.iloc[0] if len(p) else None for p in picked]
                y = np.array([np.nan if r is None else r.fidelity for r in rows])
                low = np.array([np.nan if r is None else r.fidelity_low for r in rows])
                high = np.array([np.nan if r is None else r.fidelity_high for r in rows])
                ms = np.array([np.nan if r is None else r.makespan_ns * 1e-6 for r in rows])
                x = np.arange(len(circuits)) + (i - (len(variants) - 1) / 2) * width
                look = style.series_style(i)
                err = np.nan_to_num(np.vstack([y - low, high - y])).clip(min=0.0)
                axes[0, j].bar(x, y, width, yerr=err, color=look["color"],
                               label=VARIANT_LABELS.get(variant, variant))
                axes[1, j].bar(x, ms, width, color=look["color"])
            labels = [f"{c}\n{int(compared[c])} QPUs" for c in circuits]
            for row in (0, 1):
                axes[row, j].set_xticks(np.arange(len(circuits)), labels)
            axes[0, j].set_title(preset.replace("_", " "))
            axes[0, j].set_ylim(0.0, 1.02)
            axes[0, j].set_ylabel("output fidelity")
            axes[1, j].set_yscale("log")
            axes[1, j].set_ylabel(style.axis_label("makespan", "ms"))
        style.figure_legend(fig, axes, where="lower", ncol=3)
        return style.save_figure(fig, folder, "circuit_study_variants")


def _ci(row: pd.Series, column: str, scale: float = 1.0, fmt: str = ".3f") -> str:
    value, low, high = (row[column] * scale, row[f"{column}_low"] * scale, row[f"{column}_high"] * scale)
    if np.isnan(value):
        return "-"
    return f"{value:{fmt}} [{low:{fmt}}, {high:{fmt}}]"


def study_report(summary: pd.DataFrame, *, scenario: CircuitStudy | None = None) -> str:
    """``REPORT.md``: set-up, the headline tables (from ``summary``) and what changed."""
    replicates = int(summary["replicates"].min())
    lines = [
        "# Distributed circuits on the component-built hub",
        "",
        "Regenerate: `modenhub run scenarios/circuits/circuit_study.toml` (serial, one core). "
        f"Every point: {replicates} replicate seeds of the hub (circuit and partition fixed); "
        "means with 95 % intervals (fidelities and success probabilities: effective-sample-size "
        "Wilson intervals, `modenhub_net.stats.bounded_mean_interval`; makespans: normal "
        "intervals). Files: `runs.csv` (every run), `summary.csv`, `circuit_study.pdf/.png` "
        "(baseline vs QPUs), `circuit_study_variants.pdf/.png` (variants).",
        "",
        "Every ebit comes from the simulated hub of the preset (`HubEbitProvider`: detection-in-"
        "hub link, sampled mode, 2 km fibres; its real heralded state and generation time), "
        "local gates, readout and memories from the same preset; data qubits decohere while "
        "they wait. Baseline: KL partitioning (network-aware), the orchestrated round policy "
        "(K(N) attempts a round, one spare per pair cached), ebits requested when needed, one "
        "ebit per non-local gate. Exact density matrix up to 12 qubits; GHZ-16 by stabilizer "
        "sampling (stim, Pauli-twirled memory noise).",
        "",
        "## Fidelity and makespan vs number of QPUs (baseline)",
        "",
        "| preset | circuit | QPUs | non-local gates | fidelity [95 % CI] | success prob. "
        "| makespan (ms) [95 % CI] | ebits (wasted) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    base = summary[summary["variant"] == "baseline"]
    for _, r in base.iterrows():
        lines.append(
            f"| {r.preset} | {r.circuit} | {int(r.n_qpus)} | {r.nonlocal_gates:.0f} | {_ci(r, 'fidelity')} | "
            f"{_ci(r, 'success_probability')} | {_ci(r, 'makespan_ns', 1e-6, '.4g')} | "
            f"{r.ebits_consumed:.0f} ({r.ebits_wasted:.1f}) |"
        )
    lines += [
        "",
        "## Variants, one change at a time against the baseline",
        "",
        "| preset | circuit | QPUs | variant | non-local gates | ebits | fidelity [95 % CI] "
        "| makespan (ms) [95 % CI] |",
        "|---|---|---|---|---|---|---|---|",
    ]
    others = summary[summary["variant"] != "baseline"]
    for (preset, circuit), part in others.groupby(["preset", "circuit"], sort=False):
        q = part["n_qpus"].iloc[0]
        same = (base["preset"] == preset) & (base["circuit"] == circuit) & (base["n_qpus"] == q)
        rows = pd.concat([base[same], part])
        for _, r in rows.iterrows():
            lines.append(
                f"| {preset} | {circuit} | {int(q)} | {VARIANT_LABELS.get(r.variant, r.variant)} | "
                f"{r.nonlocal_gates:.0f} | {r.ebits_consumed:.0f} | {_ci(r, 'fidelity')} | "
                f"{_ci(r, 'makespan_ns', 1e-6, '.4g')} |"
            )
    lines += ["", REPORT_NOTES]
    return "\n".join(lines) + "\n"


#: the hand-written part of ``REPORT.md``; every number in it is checked against the shipped
#: ``results/circuit_study/summary.csv`` by
#: ``tests/circuits/test_circuit_study.py::test_report_notes_match_the_shipped_tables``, so a
#: regeneration that moves a number fails until the text is updated
REPORT_NOTES = """## Reading it

- Makespan is set by entanglement generation. Trapped-ion links (p = 4.3e-5 per attempt, two
  attempts a round, one ebit per ~0.8 s) make a distributed circuit take seconds to minutes,
  and the waiting data qubits decohere: QFT-10 and QAOA-10 fall from 0.33 and 0.58 on one QPU
  to below 0.01 on two or more; Grover-3 to the uniform 1/8. On the `future` preset ebits take
  about a millisecond and gate errors dominate: GHZ-16 keeps 0.49 on 16 QPUs, QFT-10 0.75 on 5.
- The orchestrated round policy (K(N) attempts a round) halves the makespan against the naive
  one (one attempt a round) on both presets, and the shorter wait raises the fidelity where
  storage noise matters (trapped-ion GHZ-16 on 4 QPUs 0.532 vs 0.494, `future` QFT-10 0.751
  vs 0.729). The adaptive schedule plans the same two attempts a round at these per-attempt
  probabilities, so its numbers equal the orchestrated ones (same schedule, same draws; the
  spare cache rarely fills: <= 0.4 wasted ebits per run).
- Prefetching all ebits at t = 0 changes little with serial hub service (makespan -4 to -7 %
  on `future`, none on trapped ions): the hub still makes the ebits one after another.
- Network-aware (KL) partitioning: GHZ-16 on 4 QPUs needs 3 teleported CNOTs against 15 with
  round-robin (fidelity 0.84 vs 0.48 on `future`), QFT-10 on 5 QPUs 80 against 92; METIS finds
  the same cut; Grover-3 on 3 QPUs (one qubit each) has no choice.
- Sharing ebits (EJPP packing) halves the ebits of QFT-10 (80 -> 40) and QAOA-10 (36 -> 17) and
  is the largest single gain: `future` QAOA-10 0.230 -> 0.475, Grover-3 0.259 -> 0.434; a GHZ
  ladder has nothing to pack.

## What changed from the previous version (0.4.0)

- Several replicate seeds per point with 95 % intervals (before: one seed, no intervals).
- QPU counts 1-16 (before: 2 and 3), circuits up to 16 qubits (GHZ-16 by stabilizer
  sampling, QFT-10 and QAOA-10 exact), Grover-3 instead of Grover-4 (Grover-4's 132-204
  teleported CNOTs left a uniform output on every preset).
- Round policies of the hub for each ebit (naive, orchestrated with a capacity-1 spare
  cache, adaptive) instead of "all free resources every round"; failed rounds are skipped in
  one draw (sampled link mode), so the whole study runs in minutes.
- The density-matrix engine works in the Pauli basis with fused channels (QFT-12 on 4 QPUs:
  ~700 s -> ~20 s, identical fidelity).
- Serial hub service remains: requests are served one after another (the concurrent
  protocol stack is not yet used by the circuit executor), so concurrent non-local gates on
  disjoint QPU pairs wait for each other; makespans are upper bounds in that respect.
"""
