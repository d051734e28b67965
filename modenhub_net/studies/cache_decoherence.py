"""Runner of ``kind = "cache_decoherence"``: how stored pairs age, and when to throw them away.

Four parts:

1. **Memory curves**: fidelity with Phi+ of a pair stored with one or both qubits in a
   :class:`hardware_models.memory.QuantumMemory` of each preset (its T1/T2 memory, and a
   depolarising memory with the same time constant, ``T_dep = T2``: the single-coherence-time
   convention of Avis et al., npj Quantum Inf. 9, 100 (2023)), simulated as events (store at
   t = 0, access at t) and computed from the actual density matrix, against
   :func:`hardware_models.memory.stored_pair_fidelity`.
2. **Age at use**: ages of cached pairs when a request uses them, in the physical hub under
   a Poisson request stream, against the exponential law of the gap between two requests on
   the same QPU pair (rate ``lambda = Lambda / (N (N-1) / 2)``).
3. **Fidelity at use vs cutoff**: teleportation and teleported-CNOT fidelity at use, success
   rate, and their product, for a grid of cache cutoffs (a sweep, common random numbers).
4. **Optimal cutoff**: the grid maximum of ``success rate x mean teleportation fidelity``, its
   smoothed location (:func:`sweep_vertex`), the closed-form optimum of
   :func:`closed_form_objective`, and the closed-form optimum against the request rate
   (:func:`optimum_vs_rate`).

The request stream runs on a hub calibrated to the paper's p_eff(N) (the switch loss sets
``p = p_eff(N)``, :func:`modenhub_net.studies.calibrated_hub_study.calibrated_hardware`) with
the communication memories of one preset and ideal gates, so that memory decoherence is the
only noise besides the heralded state's HOM visibility.

``modenhub run scenarios/cache_decoherence.toml`` writes ``results/cache_decoherence/``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from hardware_models.memory import MemoryParams
from hardware_models.presets import available_presets, load_preset
from modenhub_net.aggregate import AggregateModel
from modenhub_net.config import StrictModel, validate_document
from modenhub_net.network.builder import run_policy
from modenhub_net.network.records import records_frame
from modenhub_net.network.spec import HubSpec, QpuSpec
from modenhub_net.simulation import stream_seed_sequence
from modenhub_net.stats import bounded_mean_interval, wilson_interval
from modenhub_net.studies.cache_decoherence_memory import (
    characteristic_time_ns,
    memory_curves,
    simulated_pair_fidelity,
)
from modenhub_net.studies.cache_decoherence_theory import (
    StreamConstants,
    closed_form_objective,
    closed_form_optimum,
    optimum_table,
    optimum_vs_rate,
    pair_fidelity_at_age,
    stream_constants,
    sweep_vertex,
)
from modenhub_net.studies.calibrated_hub_study import calibrated_hardware, check_calibration_reachable
from modenhub_net.studies.preset_path import check_presets
from modenhub_net.studies.skeleton import Progress, Study, StudyOutput, with_overrides
from protocols.workload import uniform_requests

__all__ = [
    "MemorySection",
    "StreamSection",
    "CacheDecoherenceScenario",
    "load_scenario",
    "characteristic_time_ns",
    "simulated_pair_fidelity",
    "memory_curves",
    "stream_hardware",
    "StreamConstants",
    "stream_constants",
    "pair_fidelity_at_age",
    "closed_form_objective",
    "closed_form_optimum",
    "sweep_vertex",
    "optimum_vs_rate",
    "run_cutoff",
    "cutoff_table",
    "evaluate_point",
    "compute",
    "STUDY",
    "run_scenario",
]

class MemorySection(StrictModel):
    """Part 1 (``[memory]``): presets and storage ages in units of the memory's time constant."""

    presets: tuple[str, ...] = Field(min_length=1)
    ages_over_t: tuple[float, ...] = Field((0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0), min_length=2)

    @field_validator("presets")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return check_presets(value)

    @field_validator("ages_over_t")
    @classmethod
    def _ages(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(not (0.0 <= a < 1e6) for a in value):
            raise ValueError("ages must be finite and >= 0")
        return value


class StreamSection(StrictModel):
    """Parts 2-4 (``[stream]``): the request stream and the hub it runs on.

    Parameters
    ----------
    memory_preset : str
        Preset whose communication memory (T1, T2) the QPUs use.
    n_qpus : int
        N.
    p0, beta : float
        Paper's p_eff(N) the hub is calibrated to (per-attempt success p = p_eff(N)).
    k_modes : int
        Parallel attempts per round (orchestrated policy with ``k_min = k_modes``).
    rounds : int
        Round budget R.
    hom_visibility : float
        HOM visibility V of the hub BSM: heralded fidelity (1 + V) / 2.
    mean_interarrival_ns : float
        Mean gap of the Poisson request stream (all pairs), ns.
    requests : int
        Requests per cutoff.
    cnot_fraction : float
        Fraction of teleported-CNOT requests (the rest teleport a Haar-random state).
    cutoffs_over_t2 : tuple of float
        Cache cutoffs in units of the memory T2 (``inf``: no cutoff).
    """

    memory_preset: str = "near_term_trapped_ion"
    n_qpus: int = Field(4, ge=2, le=64, strict=True)
    p0: float = Field(0.35, gt=0.0, le=1.0)
    beta: float = Field(0.35, ge=0.0)
    k_modes: int = Field(8, ge=2, le=64, strict=True)
    rounds: int = Field(1, ge=1, le=100, strict=True)
    hom_visibility: float = Field(0.95, ge=0.0, le=1.0)
    mean_interarrival_ns: float = Field(5.0e6, gt=0.0, allow_inf_nan=False)
    requests: int = Field(20_000, ge=10, le=10_000_000, strict=True)
    cnot_fraction: float = Field(0.5, ge=0.0, lt=1.0)
    cutoffs_over_t2: tuple[float, ...] = Field(min_length=2)

    @field_validator("memory_preset")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in available_presets():
            raise ValueError(f"unknown preset {value!r} (available: {', '.join(available_presets())})")
        if math.isinf(load_preset(value).memory.t2_ns):
            raise ValueError(f"preset {value!r} has T2 = inf: nothing decoheres, choose a noisy memory")
        return value

    @field_validator("cutoffs_over_t2")
    @classmethod
    def _cutoffs(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(not c > 0 for c in value) or len(set(value)) != len(value):
            raise ValueError("cutoffs must be distinct and > 0 (inf allowed)")
        return tuple(sorted(value))

    @model_validator(mode="after")
    def _reachable(self) -> StreamSection:
        # the calibrated hub cannot exceed a lossless double-click attempt (p <= 1/2)
        check_calibration_reachable(_stream_model(self), (self.n_qpus,), prefix="")
        return self


class CacheDecoherenceScenario(StrictModel):
    """A whole ``kind = "cache_decoherence"`` scenario."""

    kind: Literal["cache_decoherence"]
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", min_length=1, max_length=100)
    description: str = ""
    seed: int = Field(ge=0, le=2**63 - 1, strict=True)
    memory: MemorySection
    stream: StreamSection
    confidence: float = Field(0.95, gt=0.0, lt=1.0)


def load_scenario(
    document: Mapping[str, Any], *, source: str, seed: int | None = None, trials: int | None = None
) -> CacheDecoherenceScenario:
    """Apply CLI overrides (``trials`` = ``stream.requests``) and validate."""
    doc = with_overrides(document, seed=seed, trials=trials, trials_at=("stream.requests",))
    return validate_document(CacheDecoherenceScenario, doc, source=source)


# -- parts 2-4: the request stream ------------------------------------------------------------
def _stream_model(stream: StreamSection) -> AggregateModel:
    """The aggregate model of the stream: ``p_eff(N)``, K = ``k_modes`` attempts a round."""
    return AggregateModel(
        p0=stream.p0, beta=stream.beta, k_min=stream.k_modes, kappa=0.01, rounds=stream.rounds
    )


def stream_hardware(stream: StreamSection) -> tuple[list[QpuSpec], HubSpec, AggregateModel]:
    """QPU and hub specs: paper-calibrated link, the preset's T1/T2 memories, ideal gates.

    :func:`~modenhub_net.studies.calibrated_hub_study.calibrated_hardware` with the BSM's HOM
    visibility ``stream.hom_visibility`` and the QPUs' memories ``T1``, ``T2`` of
    ``stream.memory_preset`` (every other memory property ideal).
    """
    model = _stream_model(stream)
    nodes, hub = calibrated_hardware(
        model, stream.n_qpus, visibility=stream.hom_visibility, memory=_stream_memory(stream)
    )
    return nodes, hub, model


def _stream_memory(stream: StreamSection) -> MemoryParams:
    mem = load_preset(stream.memory_preset).memory
    return MemoryParams(t1_ns=mem.t1_ns, t2_ns=mem.t2_ns)


def _seed(seed: int, name: str) -> int:
    return int(stream_seed_sequence(seed, name).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def run_cutoff(stream: StreamSection, cutoff_ns: float, *, seed: int) -> pd.DataFrame:
    """Records of the orchestrated policy (cache capacity 1) at one cutoff.

    The workload and the simulation seed depend on ``seed`` only (common random numbers
    across cutoffs).
    """
    nodes, hub, model = stream_hardware(stream)
    rng = np.random.Generator(np.random.PCG64(stream_seed_sequence(seed, "workload")))
    reqs = uniform_requests(
        rng,
        n_qpus=stream.n_qpus,
        count=stream.requests,
        cnot_fraction=stream.cnot_fraction,
        mean_interarrival_ns=stream.mean_interarrival_ns,
    )
    records, _, _ = run_policy(
        nodes=nodes,
        hub=hub,
        scheme="detection_in_hub",
        link_mode="sampled",
        policy="orchestrated",
        requests=reqs,
        seed=_seed(seed, "hub"),
        rounds=stream.rounds,
        kappa=model.kappa,
        k_min=model.k_min,
        cache_capacity=1,
        cutoff_ns=cutoff_ns,
    )
    frame = records_frame(records)
    frame["cutoff_ns"] = cutoff_ns
    return frame


def _summary(frame: pd.DataFrame, confidence: float) -> dict[str, float]:
    n = len(frame)
    succ = frame["success"].to_numpy(bool)
    lo, hi = wilson_interval(int(succ.sum()), n, confidence=confidence)
    out: dict[str, float] = dict(
        requests=n,
        success=succ.mean(),
        success_ci_low=float(lo),
        success_ci_high=float(hi),
        hit_rate=frame["cache_hit"].mean(),
    )
    for kind, label in (("teleport", "teleport"), ("cnot", "cnot")):
        g = frame[frame["kind"] == kind]
        f = g.loc[g["success"], "fidelity"].to_numpy(float)
        # product = success rate x mean fidelity = mean over requests of F 1{success}
        prod = np.where(g["success"].to_numpy(bool), g["fidelity"].to_numpy(float), 0.0)
        # both lie in [0, 1]: effective-sample-size Wilson intervals (stay inside the bounds)
        m_lo, m_hi = bounded_mean_interval(f, confidence=confidence) if f.size > 1 else (np.nan, np.nan)
        p_lo, p_hi = bounded_mean_interval(prod, confidence=confidence) if prod.size > 1 else (np.nan, np.nan)
        out.update(
            {
                f"{label}_requests": len(g),
                f"{label}_fidelity": f.mean() if f.size else np.nan,
                f"{label}_fidelity_ci_low": float(m_lo),
                f"{label}_fidelity_ci_high": float(m_hi),
                f"{label}_product": prod.mean() if prod.size else np.nan,
                f"{label}_product_ci_low": float(p_lo),
                f"{label}_product_ci_high": float(p_hi),
                f"{label}_product_se": prod.std(ddof=1) / math.sqrt(prod.size) if prod.size > 1 else np.nan,
            }
        )
    hits = frame[frame["cache_hit"]]
    out["mean_hit_age_ns"] = hits["pair_age_ns"].mean() if len(hits) else np.nan
    return out


def _cutoff_job(item: tuple[StreamSection, float, float, int, float, bool]
                ) -> tuple[dict[str, Any], pd.DataFrame | None]:
    stream, c, cutoff, seed, confidence, keep = item
    frame = run_cutoff(stream, cutoff, seed=seed)
    return dict(cutoff_over_t2=c, cutoff_ns=cutoff, **_summary(frame, confidence)), (frame if keep else None)


def cutoff_table(
    stream: StreamSection,
    *,
    seed: int,
    confidence: float = 0.95,
    keep_records_for: Sequence[float] = (),
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cutoff sweep: one summary row per cutoff, plus the records of selected cutoffs.

    Each cutoff is one task of ``progress.map`` (the same numbers at any worker count: every
    cutoff uses the same workload and seed, common random numbers).
    """
    t2 = load_preset(stream.memory_preset).memory.t2_ns
    items = [(stream, c, c * t2, seed, confidence, c in keep_records_for) for c in stream.cutoffs_over_t2]
    results = (progress or Progress(quiet=True)).map(_cutoff_job, items, label="cutoffs")
    kept = [frame for _, frame in results if frame is not None]
    records = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame()
    return pd.DataFrame([row for row, _ in results]), records


def evaluate_point(document: Mapping[str, Any], *, seed: int, source: str = "<sweep point>") -> pd.DataFrame:
    """The cutoff-sweep table of one scenario at one seed (pure), with the closed form per row."""
    scenario = load_scenario(document, source=source, seed=seed)
    table, _ = cutoff_table(scenario.stream, seed=seed, confidence=scenario.confidence)
    closed = closed_form_objective(table["cutoff_ns"].to_numpy(), stream_constants(scenario.stream))
    for col in ("success", "product", "mean_teleport_fidelity", "mean_cnot_fidelity", "hit_rate"):
        table[f"closed_{col}"] = closed[col].to_numpy()
    return table




#: columns of ``age_at_use.csv`` (records of the no-cutoff run)
AGE_COLUMNS = ["request_id", "s", "d", "kind", "success", "cache_hit", "pair_age_ns", "pair_fidelity",
               "fidelity"]
_CLOSED_COLUMNS = ("success", "product", "mean_teleport_fidelity", "mean_cnot_fidelity", "hit_rate")


def compute(scenario: CacheDecoherenceScenario, progress: Progress) -> StudyOutput:
    """All four parts as DataFrames (module docstring), plus the report's numbers."""
    from scipy import stats

    from modenhub_net.studies import cache_decoherence_report as report

    with progress.stage("curves"):
        curves = memory_curves(scenario.memory)
    st = scenario.stream
    with progress.stage("sweep"):
        table, records = cutoff_table(st, seed=scenario.seed, confidence=scenario.confidence,
                                      keep_records_for=(st.cutoffs_over_t2[-1],), progress=progress)
    consts = stream_constants(st)
    closed_rows = closed_form_objective(table["cutoff_ns"].to_numpy(), consts)
    for col in _CLOSED_COLUMNS:
        table[f"closed_{col}"] = closed_rows[col].to_numpy()
    finite = table["cutoff_ns"].replace(np.inf, np.nan)
    grid = np.concatenate([np.geomspace(finite.min() / 3, finite.max() * 3, 80), [np.inf]])
    closed = closed_form_objective(grid, consts)
    opt = closed_form_optimum(consts)
    best = table.loc[table["teleport_product"].idxmax()]
    near = table[table["teleport_product"] >= best.teleport_product - 2 * best.teleport_product_se]
    smooth = sweep_vertex(table, near)
    by_rate = optimum_vs_rate(st)
    hits = records[records["cache_hit"]]["pair_age_ns"].to_numpy()
    ks = stats.kstest(hits, "expon", args=(0, 1e9 / consts.rate_per_pair_hz)) if hits.size else None
    ks_t = (float(ks.statistic), float(ks.pvalue)) if ks is not None else (np.nan, np.nan)
    optimum = optimum_table(best, near, smooth, opt, consts.memory.t2_ns)
    tables = {"memory_curves": curves, "age_at_use": records[AGE_COLUMNS], "cutoff_sweep": table,
              "closed_form": closed, "optimum": optimum, "optimum_vs_rate": by_rate}
    context = report.context(scenario, curves, records, table, consts, opt, best, near, ks_t,
                             smooth=smooth, by_rate=by_rate)
    return StudyOutput(tables=tables, context=context,
                       summary=optimum[["method", "cutoff_ns", "cutoff_over_t2", "product", "product_se"]])


def _draw(scenario: CacheDecoherenceScenario, output: StudyOutput, folder: Path) -> list[Path]:
    from modenhub_net.studies import cache_decoherence_plots as plots

    return plots.draw(output.tables, output.context, folder)


STUDY = Study(kind="cache_decoherence", load=load_scenario, compute=compute, plot=_draw,
              template="cache_decoherence")
#: the runner the CLI calls (:meth:`modenhub_net.studies.skeleton.Study.run_scenario`)
run_scenario = STUDY.run_scenario
