"""Runner of ``kind = "cache_study"``: what an ebit cache that acts buys, and what it costs.

The paper's cache is opportunistic: when >= 2 attempts of a request's successful round
herald, one spare is kept per unordered QPU pair (capacity 1, no cutoff) for a later request.
This study puts next to it the cache of :mod:`protocols.cache` and the serial
:class:`protocols.orchestrator.Orchestrator`:

- **capacity** per pair (spares kept per bucket; a newcomer meeting a full bucket evicts the
  oldest spare, or the one of lowest estimated current fidelity);
- **cutoff** (a spare older than the cutoff is discarded and its memory freed);
- **idle-time pre-generation** for the pairs of highest predicted demand (exponentially
  weighted request rate, :class:`protocols.demand.DemandTracker`);
- **workload skew**: uniform pairs vs a hot spot (:func:`protocols.workload.hotspot_requests`);
- **eviction** (``oldest`` vs ``lowest_fidelity``) under a per-QPU memory budget.

Each point runs the same requests (common random numbers per workload) on a hub calibrated to
the paper's per-attempt success ``p_eff(N)`` (:func:`modenhub_net.studies.calibrated_hub_study.
calibrated_hardware`) with the communication memories of a preset (T1, T2), an HOM visibility
V at the BSM, fibres of a given length (delays only: attenuation 0, so p stays ``p_eff``) and a
given number of communication qubits per QPU (spares compete with attempts for them; a spare's
qubits are reclaimed when an attempt needs them). Measured per point: hit rate, success rate,
fidelity at use of the pair and of the operation (computed from the simulated states), request
attempts and latency, the attempts spent by pre-generation, and their savings against the
orchestrated policy without a cache. Intervals: Wilson for rates, the effective-sample-size
Wilson interval (:func:`modenhub_net.stats.bounded_mean_interval`) for bounded means, the CLT
interval for latency.

``modenhub run scenarios/cache_study.toml`` writes ``results/cache_study/``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from hardware_models.memory import MemoryParams
from hardware_models.presets import available_presets, load_preset
from modenhub_net.aggregate import AggregateModel
from modenhub_net.config import StrictModel, validate_document
from modenhub_net.network.builder import build_hub_network
from modenhub_net.network.spec import HubSpec, QpuSpec
from modenhub_net.reporting.report import markdown_table
from modenhub_net.simulation import Simulation, stream_seed_sequence
from modenhub_net.stats import bounded_mean_interval, mean_interval, wilson_interval
from modenhub_net.studies.calibrated_hub_study import calibrated_hardware, check_calibration_reachable
from modenhub_net.studies.skeleton import Progress, Study, StudyOutput, with_overrides
from protocols.cache import EVICTION_POLICIES, EbitCache
from protocols.orchestrator import Orchestrator, make_policy
from protocols.workload import Request, hotspot_requests, uniform_requests

__all__ = [
    "HubSection",
    "WorkloadSection",
    "CacheSection",
    "EvictionSection",
    "CacheStudyScenario",
    "load_scenario",
    "study_hardware",
    "study_points",
    "run_point",
    "compute",
    "plot",
    "run_scenario",
]

SKEWS: tuple[str, ...] = ("uniform", "hotspot")


# -- scenario -----------------------------------------------------------------------------------
class HubSection(StrictModel):
    """``[hub]``: the calibrated hub the requests run on.

    Parameters
    ----------
    n_qpus : int
        N, in [3, 64]; default 8.
    p0, beta : float
        The paper's ``p_eff(N) = p0 / (1 + beta log2 N)`` the per-attempt success is calibrated
        to (defaults 0.35, 0.35: the paper's values).
    hom_visibility : float
        HOM visibility V of the BSM stations in [0, 1]: heralded fidelity ``(1 + V) / 2``
        (Barrett & Kok 2005); default 0.95 (Stephenson et al., PRL 124, 110501 (2020)).
    memory_preset : str
        Preset whose communication memory T1, T2 the QPUs use (default
        ``"near_term_trapped_ion"``: T2 = 62 ms, Krutyanskiy et al. 2019).
    comm_qubits : int
        Communication qubits per QPU, in [2, 256]; default 8 (the QPU default, ``QpuSpec``).
    fibre_length_km : float
        QPU-hub fibre length in km, in [0, 100] (delays only, attenuation 0); default 2.
    """

    n_qpus: int = Field(8, ge=3, le=64, strict=True)
    p0: float = Field(0.35, gt=0.0, le=1.0, allow_inf_nan=False)
    beta: float = Field(0.35, ge=0.0, le=10.0, allow_inf_nan=False)
    hom_visibility: float = Field(0.95, ge=0.0, le=1.0)
    memory_preset: str = "near_term_trapped_ion"
    comm_qubits: int = Field(8, ge=2, le=256, strict=True)
    fibre_length_km: float = Field(2.0, ge=0.0, le=100.0, allow_inf_nan=False)

    @field_validator("memory_preset")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in available_presets():
            raise ValueError(f"unknown preset {value!r} (available: {', '.join(available_presets())})")
        return value


class WorkloadSection(StrictModel):
    """``[workload]``: Poisson arrivals of teleportations and teleported CNOTs.

    Parameters
    ----------
    requests : int
        Requests per point, in [100, 10^6]; default 1500.
    mean_interarrival_ns : float
        Mean gap between arrivals (all pairs), ns, > 0; default 1e6 (1 kHz of requests).
    cnot_fraction : float
        Fraction of teleported CNOTs in [0, 1); default 0.5.
    skews : list of {"uniform", "hotspot"}
        Workloads compared (default both).
    hot_qpu : int
        The hot spot's QPU (default 0).
    hot_fraction : float
        Fraction of requests that involve the hot QPU, in [0, 1]; default 0.8.
    """

    requests: int = Field(1500, ge=100, le=1_000_000, strict=True)
    mean_interarrival_ns: float = Field(1e6, gt=0.0, allow_inf_nan=False)
    cnot_fraction: float = Field(0.5, ge=0.0, lt=1.0)
    skews: tuple[Literal["uniform", "hotspot"], ...] = Field(SKEWS, min_length=1)
    hot_qpu: int = Field(0, ge=0, strict=True)
    hot_fraction: float = Field(0.8, ge=0.0, le=1.0)


class CacheSection(StrictModel):
    """``[cache]``: the grid capacity x cutoff x pre-generation (eviction ``oldest``).

    Parameters
    ----------
    capacities : list of int
        Spares per pair (each in [1, 64]).
    cutoffs_ns : list of float
        Cache cutoffs in ns (> 0, ``inf``: none).
    pregenerate : list of bool
        Without and/or with idle-time pre-generation.
    demand_half_life_ns : float
        Half-life of the demand estimate, ns (> 0); default 1e8 (100 ms).
    pregeneration_budget_qubits : int, optional
        Qubits cached spares may hold before pre-generation pauses (>= 2); default none.
    """

    capacities: tuple[int, ...] = Field((1, 2, 4), min_length=1)
    cutoffs_ns: tuple[float, ...] = Field((math.inf, 2e7), min_length=1)
    pregenerate: tuple[bool, ...] = Field((False, True), min_length=1)
    demand_half_life_ns: float = Field(1e8, gt=0.0, allow_inf_nan=False)
    pregeneration_budget_qubits: int | None = Field(None, ge=2, strict=True)

    @field_validator("capacities")
    @classmethod
    def _caps(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(isinstance(c, bool) or not 1 <= c <= 64 for c in value) or len(set(value)) != len(value):
            raise ValueError("capacities must be distinct integers in [1, 64]")
        return tuple(sorted(value))

    @field_validator("cutoffs_ns")
    @classmethod
    def _cutoffs(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(not c > 0 for c in value) or len(set(value)) != len(value):
            raise ValueError("cutoffs must be distinct and > 0 (inf allowed)")
        return tuple(sorted(value, reverse=True))


class EvictionSection(StrictModel):
    """``[eviction]``: ``oldest`` vs ``lowest_fidelity`` under a per-QPU memory budget.

    Parameters
    ----------
    capacity : int
        Spares per pair, in [1, 64]; default 2.
    max_spares_per_qpu : int
        Spares holding a qubit at one QPU, in [1, 256]; default 3.
    pregenerate : bool
        Default True.
    cutoff_ns : float
        Default ``inf``.
    t2_odd_qpus_ns : float
        T2 of the communication memories of the odd-numbered QPUs in these two points, ns
        (> 0); default 5e6 (5 ms, a memory 12 x worse than the preset's 62 ms: an illustrative
        mixed hub, not a published device). With one memory model for all QPUs the two
        rankings coincide (a spare's estimated fidelity falls with its age at one rate).
    """

    capacity: int = Field(2, ge=1, le=64, strict=True)
    max_spares_per_qpu: int = Field(3, ge=1, le=256, strict=True)
    pregenerate: bool = True
    cutoff_ns: float = Field(math.inf, gt=0.0)
    t2_odd_qpus_ns: float = Field(5e6, gt=0.0)


class CacheStudyScenario(StrictModel):
    """A whole ``kind = "cache_study"`` scenario."""

    kind: Literal["cache_study"]
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", min_length=1, max_length=100)
    description: str = ""
    seed: int = Field(ge=0, le=2**63 - 1, strict=True)
    hub: HubSection = HubSection()
    workload: WorkloadSection = WorkloadSection()
    cache: CacheSection = CacheSection()
    eviction: EvictionSection | None = EvictionSection()
    confidence: float = Field(0.95, gt=0.0, lt=1.0)


def load_scenario(
    document: Mapping[str, Any], *, source: str, seed: int | None = None, trials: int | None = None
) -> CacheStudyScenario:
    """Apply the CLI overrides (``trials`` = ``workload.requests``) and validate."""
    doc = with_overrides(document, seed=seed, trials=trials, trials_at=("workload.requests",))
    scenario = validate_document(CacheStudyScenario, doc, source=source)
    from modenhub_net.errors import UserInputError

    if scenario.workload.hot_qpu >= scenario.hub.n_qpus:
        raise UserInputError(
            f"{source}: workload.hot_qpu = {scenario.workload.hot_qpu} must be < hub.n_qpus = "
            f"{scenario.hub.n_qpus}"
        )
    try:
        check_calibration_reachable(_model(scenario.hub), (scenario.hub.n_qpus,), prefix="hub.")
    except ValueError as exc:
        raise UserInputError(f"{source}: {exc}") from None
    return scenario


# -- hardware and points -----------------------------------------------------------------------
def _model(hub: HubSection) -> AggregateModel:
    return AggregateModel(p0=hub.p0, beta=hub.beta)


def study_hardware(hub: HubSection, *, t2_odd_qpus_ns: float | None = None
                   ) -> tuple[list[QpuSpec], HubSpec]:
    """The calibrated hub with the preset's T1/T2 memories, the fibres and the qubit count.

    ``t2_odd_qpus_ns`` (ns), if given, replaces T2 of the odd-numbered QPUs' memories.
    """
    preset = load_preset(hub.memory_preset).memory
    memory = MemoryParams(t1_ns=preset.t1_ns, t2_ns=preset.t2_ns)
    nodes, spec = calibrated_hardware(_model(hub), hub.n_qpus, visibility=hub.hom_visibility,
                                      memory=memory)
    out = []
    for i, node in enumerate(nodes):
        node = node.with_fibre_length(hub.fibre_length_km)
        if t2_odd_qpus_ns is not None and i % 2 == 1:
            t2 = min(t2_odd_qpus_ns, 2.0 * preset.t1_ns)
            node = node.model_copy(update={"memory": MemoryParams(t1_ns=preset.t1_ns, t2_ns=t2),
                                           "data_memory": memory})
        out.append(node.model_copy(update={"qpu": node.qpu.model_copy(
            update={"n_comm_qubits": hub.comm_qubits})}))
    return out, spec


def study_points(scenario: CacheStudyScenario) -> list[dict[str, Any]]:
    """Every point: per skew, the no-cache reference, the grid and the eviction pair."""
    points: list[dict[str, Any]] = []
    c = scenario.cache
    for skew in scenario.workload.skews:
        base = {"skew": skew, "eviction": "oldest", "max_spares_per_qpu": None,
                "t2_odd_qpus_ns": None}
        points.append({**base, "label": "no cache", "policy": "orchestrated_nocache",
                       "capacity": 0, "cutoff_ns": math.inf, "pregenerate": False})
        for capacity in c.capacities:
            for cutoff in c.cutoffs_ns:
                for pre in c.pregenerate:
                    paper = capacity == 1 and math.isinf(cutoff) and not pre
                    points.append({**base, "label": "paper cache" if paper else "grid",
                                   "policy": "orchestrated", "capacity": capacity,
                                   "cutoff_ns": cutoff, "pregenerate": pre})
        if scenario.eviction is not None:
            e = scenario.eviction
            for eviction in EVICTION_POLICIES:
                points.append({**base, "label": f"budget/{eviction}", "policy": "orchestrated",
                               "capacity": e.capacity, "cutoff_ns": e.cutoff_ns,
                               "pregenerate": e.pregenerate, "eviction": eviction,
                               "max_spares_per_qpu": e.max_spares_per_qpu,
                               "t2_odd_qpus_ns": e.t2_odd_qpus_ns})
    return points


def _requests(scenario: CacheStudyScenario, skew: str) -> list[Request]:
    w, n = scenario.workload, scenario.hub.n_qpus
    rng = np.random.Generator(np.random.PCG64(stream_seed_sequence(scenario.seed, f"workload/{skew}")))
    if skew == "uniform":
        return uniform_requests(rng, n_qpus=n, count=w.requests, cnot_fraction=w.cnot_fraction,
                                mean_interarrival_ns=w.mean_interarrival_ns)
    return hotspot_requests(rng, n_qpus=n, count=w.requests, hot_qpu=w.hot_qpu,
                            hot_fraction=w.hot_fraction, cnot_fraction=w.cnot_fraction,
                            mean_interarrival_ns=w.mean_interarrival_ns)


def run_point(item: tuple[CacheStudyScenario, dict[str, Any]]) -> dict[str, Any]:
    """Simulate one point; one row of measures (module-level: runs in parallel maps)."""
    scenario, point = item
    nodes, hub = study_hardware(scenario.hub, t2_odd_qpus_ns=point["t2_odd_qpus_ns"])
    requests = _requests(scenario, point["skew"])
    sim = Simulation(seed=int(stream_seed_sequence(scenario.seed, f"hub/{point['skew']}")
                              .generate_state(1)[0]))
    net = build_hub_network(sim, nodes=nodes, hub=hub)
    model = _model(scenario.hub)
    policy = make_policy(point["policy"], n_qpus=net.n_qpus, rounds=model.rounds,
                         kappa=model.kappa, k_min=model.k_min)
    cache = EbitCache(capacity=max(1, point["capacity"]), cutoff_ns=point["cutoff_ns"],
                      eviction=point["eviction"], max_spares_per_qpu=point["max_spares_per_qpu"],
                      fidelity_estimate=net.fidelity_estimate, on_discard=net.discard_pair)
    orchestrator = Orchestrator(
        sim, services=net, policy=policy, requests=requests, cache=cache,
        pregenerate=point["pregenerate"],
        pregeneration_budget_qubits=scenario.cache.pregeneration_budget_qubits,
        demand_half_life_ns=scenario.cache.demand_half_life_ns,
    )
    orchestrator.start()
    sim.run()
    return _measures(scenario, point, orchestrator, cache, k_max=policy.rounds * model.k_parallel(net.n_qpus))


def _measures(scenario: CacheStudyScenario, point: dict[str, Any], orchestrator: Orchestrator,
              cache: EbitCache, *, k_max: int) -> dict[str, Any]:
    conf = scenario.confidence
    records = orchestrator.records
    n = len(records)
    hit = np.array([r.cache_hit for r in records], dtype=float)
    ok = np.array([r.success for r in records], dtype=float)
    attempts = np.array([r.attempts for r in records], dtype=float)
    latency_us = np.array([r.latency_ns for r in records], dtype=float) / 1e3
    pair_f = np.array([r.pair_fidelity for r in records if r.success], dtype=float)
    op_f = np.array([r.fidelity for r in records if r.success], dtype=float)
    hit_f = np.array([r.pair_fidelity for r in records if r.cache_hit], dtype=float)
    row: dict[str, Any] = {k: point[k] for k in ("skew", "label", "policy", "capacity", "cutoff_ns",
                                                  "pregenerate", "eviction")}
    row["max_spares_per_qpu"] = point["max_spares_per_qpu"] or 0
    row["t2_odd_qpus_ns"] = point["t2_odd_qpus_ns"] or math.nan
    row["requests"] = n
    for name, values in (("hit_rate", hit), ("success_rate", ok)):
        low, high = wilson_interval(int(values.sum()), n, confidence=conf)
        row[name], row[f"{name}_low"], row[f"{name}_high"] = values.mean(), float(low), float(high)
    for name, values in (("pair_fidelity", pair_f), ("operation_fidelity", op_f),
                         ("hit_pair_fidelity", hit_f)):
        if len(values) >= 2:
            low, high = bounded_mean_interval(values, confidence=conf)
            row[name], row[f"{name}_low"], row[f"{name}_high"] = values.mean(), float(low), float(high)
        else:
            row[name] = row[f"{name}_low"] = row[f"{name}_high"] = math.nan
    low, high = bounded_mean_interval(attempts, low=0.0, high=float(k_max), confidence=conf)
    row["attempts"], row["attempts_low"], row["attempts_high"] = attempts.mean(), float(low), float(high)
    row["pregeneration_attempts"] = orchestrator.counts.pregeneration_attempts / n
    row["total_attempts"] = row["attempts"] + row["pregeneration_attempts"]
    low, high = mean_interval(latency_us, confidence=conf)
    row["latency_us"], row["latency_us_low"] = latency_us.mean(), float(low)
    row["latency_us_high"] = float(high)
    row["latency_p90_us"] = float(np.percentile(latency_us, 90))
    counts = cache.counts
    row.update(stored=counts.stored, evicted=counts.evicted, evicted_budget=counts.evicted_budget,
               reclaimed=counts.reclaimed, expired=counts.expired,
               pregenerated=orchestrator.counts.pairs_pregenerated,
               rounds_capped=orchestrator.counts.rounds_capped)
    return row


#: the columns of REPORT.md's table of all points
REPORT_COLUMNS: tuple[str, ...] = (
    "skew", "label", "capacity", "cutoff_ns", "pregenerate", "eviction", "hit_rate", "success_rate",
    "pair_fidelity", "operation_fidelity", "attempts", "pregeneration_attempts", "latency_us",
    "attempts_saved", "latency_saved", "reclaimed", "expired", "evicted",
)


# -- compute ----------------------------------------------------------------------------------------
def compute(scenario: CacheStudyScenario, progress: Progress) -> StudyOutput:
    """All points, savings against the no-cache reference of the same workload."""
    points = study_points(scenario)
    with progress.stage("simulate"):
        rows = progress.map(run_point, [(scenario, p) for p in points], label="cache points")
    table = pd.DataFrame(rows)
    for skew in table["skew"].unique():
        mask = table["skew"] == skew
        ref = table[mask & (table["label"] == "no cache")].iloc[0]
        table.loc[mask, "attempts_saved"] = 1.0 - table.loc[mask, "attempts"] / ref["attempts"]
        table.loc[mask, "total_attempts_saved"] = 1.0 - table.loc[mask, "total_attempts"] / ref["attempts"]
        table.loc[mask, "latency_saved"] = 1.0 - table.loc[mask, "latency_us"] / ref["latency_us"]
    headline = _headline(table)
    summary = table[["skew", "label", "capacity", "cutoff_ns", "pregenerate", "eviction",
                     "hit_rate", "pair_fidelity", "attempts", "pregeneration_attempts",
                     "latency_us"]]
    nodes, hub = study_hardware(scenario.hub)
    model = _model(scenario.hub)
    context = {
        "headline": headline,
        "p_eff": float(model.p_eff(scenario.hub.n_qpus)),
        "k_parallel": int(model.k_parallel(scenario.hub.n_qpus)),
        "t2_ms": nodes[0].memory.t2_ns / 1e6,
        "f0": (1.0 + scenario.hub.hom_visibility) / 2.0,
        "per_pair_gap_ms": scenario.workload.mean_interarrival_ns / 1e6
        * scenario.hub.n_qpus * (scenario.hub.n_qpus - 1) / 2,
    }
    context["eviction_rows"] = table[table["label"].str.startswith("budget/")].to_dict("records")
    context["points_markdown"] = markdown_table(table[list(REPORT_COLUMNS)])
    return StudyOutput(tables={"points": table}, context=context, summary=summary)


def _headline(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Per skew: the paper's cache, the best pre-generation point without and with a cutoff."""
    out = []
    for skew in table["skew"].unique():
        t = table[table["skew"] == skew]
        paper = t[t["label"] == "paper cache"]
        pre = t[(t["label"] == "grid") & t["pregenerate"]]
        if paper.empty or pre.empty:
            continue
        free = pre[~np.isfinite(pre["cutoff_ns"])]
        cut = pre[np.isfinite(pre["cutoff_ns"])]
        order = ["hit_rate", "pair_fidelity"]
        best = None if free.empty else free.sort_values(order, ascending=False).iloc[0].to_dict()
        best_cut = None if cut.empty else cut.sort_values(order, ascending=False).iloc[0].to_dict()
        out.append({"skew": skew, "paper": paper.iloc[0].to_dict(), "best": best,
                    "best_cut": best_cut,
                    "nocache": t[t["label"] == "no cache"].iloc[0].to_dict()})
    return out


# -- figures -------------------------------------------------------------------------------------------
def plot(scenario: CacheStudyScenario, output: StudyOutput, folder: Path) -> list[Path]:
    """``cache_study``: hit rate, fidelity at use, attempts and latency saved vs capacity."""
    from modenhub_net.reporting import style

    table = output.tables["points"]
    grid = table[table["label"].isin(["grid", "paper cache"])]
    skews = list(dict.fromkeys(table["skew"]))
    panels = [("hit_rate", "hit rate", None),
              ("pair_fidelity", f"pair fidelity at use\nwith {style.PHI_PLUS}", None),
              ("total_attempts_saved", "attempts saved vs no cache\n(incl. pre-generation)", None),
              ("latency_saved", "mean latency saved vs no cache", None)]
    fig, axes = style.new_figure(width="double", nrows=len(panels), ncols=len(skews), squeeze=False,
                                 height_in=min(9.0, 1.9 * len(panels)), sharex=True)
    series = [(cut, pre) for cut in scenario.cache.cutoffs_ns for pre in scenario.cache.pregenerate]
    for j, skew in enumerate(skews):
        t = grid[grid["skew"] == skew]
        for i, (column, ylabel, _) in enumerate(panels):
            ax = axes[i][j]
            for s, (cut, pre) in enumerate(series):
                part = t[(t["cutoff_ns"] == cut) & (t["pregenerate"] == pre)].sort_values("capacity")
                low = part.get(f"{column}_low")
                high = part.get(f"{column}_high")
                cut_label = "no cutoff" if math.isinf(cut) else f"cutoff {cut / 1e6:g} ms"
                style.errorbar_ci(ax, part["capacity"], part[column],
                                  None if low is None else low, None if high is None else high,
                                  series=s, line=True,
                                  label=f"{cut_label}, {'pre-generation' if pre else 'opportunistic'}")
            paper = t[t["label"] == "paper cache"]
            if not paper.empty:
                ax.plot(paper["capacity"], paper[column], linestyle="none", marker="*", markersize=9,
                        color="black", label="paper's cache (capacity 1, no cutoff)", zorder=5)
            if i == 0:
                ax.set_title(f"{skew} workload")
            if i == len(panels) - 1:
                ax.set_xlabel("cache capacity per pair")
            if j == 0:
                ax.set_ylabel(ylabel)
            ax.set_xticks(list(scenario.cache.capacities))
    style.figure_legend(fig, axes, where="lower", ncol=3)
    return style.save_figure(fig, folder, "cache_study")


#: the scenario kind: REPORT.md from ``reporting/templates/cache_study.md.j2``
STUDY = Study(kind="cache_study", load=load_scenario, compute=compute, plot=plot,
              template="cache_study")
run_scenario = STUDY.run_scenario
