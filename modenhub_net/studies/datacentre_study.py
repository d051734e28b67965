"""Runner of ``kind = "datacentre"``: a data-centre hub under an offered-load sweep, per scheduler.

A data centre's QPUs (16 and 64 by default, ``scenarios/datacentre.toml``) share one photonic
hub through the concurrent protocol stack (:func:`modenhub_net.network.stack_run.run_stack`):
requests on different QPU pairs are served at the same time and compete for switch lanes (a
lane is two switch circuits), BSM stations or sources, communication qubits and hub memory.
For each size and scheduling policy (``fifo``, ``edf``, ``orchestrated``, ``adaptive``) the
study first measures the **saturation throughput** (every request issued at t = 0, no
deadline: the hub never idles for lack of work) and compares it with the bound of its
resources (:func:`modenhub_net.queueing.saturation_throughput_hz`); then it sweeps Poisson
arrivals at offered loads ``rho * X_sat(fifo)`` (``workload.relative_loads``) for every
policy, with the same workload for all policies at one point (common random numbers). A
fraction of the requests is *urgent* (a short deadline), the rest regular (a long one): a
request still waiting or between rounds at its deadline is dropped, so above saturation the
hub sheds load instead of queueing without bound, and earliest-deadline-first has something
to order.

Per point it reports (:func:`point_metrics`): throughput of successful operations (Hz), the
latency of successful requests (p50 / p90 / p99, arrival to end of the operation), the blocking,
drop and failure probabilities, the mean queue wait and the utilisation of each resource
(:meth:`StackRun.metrics`). Requests arriving in the first ``warmup_fraction`` of the run are
left out (start-up transient of an empty hub). Intervals: batch means (Law & Kelton,
*Simulation Modeling and Analysis*, 3rd ed., 2000, §9.5.3) over the arrival order (rates,
means; a proportion's interval is the Wilson interval at the batch-means effective sample size,
Korn & Graubard, Survey Methodology 24, 193 (1998)), over equal time windows (throughput), and
sectioning for the percentiles (the spread of the batches' percentiles / sqrt(batches), around
the percentile of all requests; Law & Kelton §9.5.3).

Outputs (``results/<name>``, by the shared skeleton :class:`modenhub_net.studies.skeleton.Study`):
``points.csv`` (one row per size, policy and load, with intervals), ``saturation.csv`` (per size
and policy: saturation throughput, resource bound, binding resource, utilisations),
``headline.csv`` (per size and policy: saturation, latency knee, loss at the heaviest load),
``datacentre.pdf`` / ``datacentre.png`` (throughput, latency and loss curves), ``REPORT.md``
and ``scenario.json``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from modenhub_net.config import StrictModel, validate_document
from modenhub_net.errors import UserInputError
from modenhub_net.network.config import HubConfig, HubScenario, NetworkConfig
from modenhub_net.output import atomic_write_text
from modenhub_net.queueing import batch_means, saturation_throughput_hz
from modenhub_net.simulation import stream_seed_sequence
from modenhub_net.stats import bounded_mean_interval, wilson_interval, z_value
from modenhub_net.studies.skeleton import Progress, Study, StudyOutput, with_overrides
from protocols.workload import Request, uniform_requests

__all__ = [
    "DatacentreScenario",
    "load_scenario",
    "make_requests",
    "point_metrics",
    "saturation_point",
    "sweep_point",
    "compute",
    "evaluate_point",
    "run_scenario",
    "STUDY",
]

#: scheduling policies of the concurrent stack compared by the study
SCHEDULERS: tuple[str, ...] = ("fifo", "edf", "orchestrated", "adaptive")

_INF = math.inf


class DatacentreNetwork(StrictModel):
    """``[network]``: the data centre's QPUs and links.

    Parameters
    ----------
    sizes : tuple of int
        Numbers of QPUs, each in [4, 4096], distinct. Default (16, 64).
    preset : str
        Hardware preset of the QPUs and (unless ``hub.preset``) the hub. Default "ideal".
    fibre_length_km : float
        Fibre from each QPU to the hub in km, in [0, 100]. Default 0.05 (50 m: racks of one
        data-centre hall).
    comm_qubits : int or None
        Communication qubits per QPU, in [1, 10^4] (None: the preset's). Default None.
    scheme : {"detection_in_hub", "source_in_hub", "hub_memory_swap"}
        Link scheme (ARCHITECTURE.md). Default "detection_in_hub".
    link_mode : {"sampled", "detailed"}
        Default "sampled".
    """

    sizes: tuple[int, ...] = Field((16, 64), min_length=1, max_length=8)
    preset: str = "ideal"
    fibre_length_km: float = Field(0.05, ge=0.0, le=100.0, allow_inf_nan=False)
    comm_qubits: int | None = Field(None, ge=1, le=10_000, strict=True)
    scheme: Literal["source_in_hub", "detection_in_hub", "hub_memory_swap"] = "detection_in_hub"
    link_mode: Literal["sampled", "detailed"] = "sampled"

    @field_validator("sizes")
    @classmethod
    def _sizes(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(isinstance(n, bool) or not 4 <= n <= 4096 for n in value) or len(set(value)) != len(value):
            raise ValueError("sizes must be distinct integers in [4, 4096]")
        return tuple(sorted(value))

    def network_config(self, size: int) -> NetworkConfig:
        """The hub scenario's :class:`~modenhub_net.network.config.NetworkConfig` of one size."""
        return NetworkConfig(n_qpus=size, fibre_length_km=self.fibre_length_km, preset=self.preset,
                             comm_qubits=self.comm_qubits, scheme=self.scheme, link_mode=self.link_mode)


class DatacentreOrchestrator(StrictModel):
    """``[orchestrator]``: scheduling policies, admission and round budget.

    Parameters
    ----------
    schedulers : tuple of str
        Distinct policies among ``fifo``, ``edf``, ``orchestrated``, ``adaptive``
        (:mod:`protocols.stack.scheduler`). Default all four.
    admission : {"queue", "loss"}
        A request that cannot start at once waits (``queue``) or is blocked (``loss``).
        Default "queue".
    rounds : int
        Round budget R per request, in [1, 1000]. Default 3 (the paper's).
    kappa : float
        K(N) = max(k_min, ceil(kappa log2 N)) attempts a round, in (0, 1000]. Default 0.9
        (the paper's).
    k_min : int
        In [1, 10^4]. Default 2 (the paper's).
    cache_capacity : int
        Spare pairs kept per QPU pair, in [1, 1000]. Default 1 (the paper's).
    """

    schedulers: tuple[Literal["fifo", "edf", "orchestrated", "adaptive"], ...] = Field(
        SCHEDULERS, min_length=1)
    admission: Literal["queue", "loss"] = "queue"
    rounds: int = Field(3, ge=1, le=1000, strict=True)
    kappa: float = Field(0.9, gt=0.0, le=1000.0, allow_inf_nan=False)
    k_min: int = Field(2, ge=1, le=10_000, strict=True)
    cache_capacity: int = Field(1, ge=1, le=1000, strict=True)

    @field_validator("schedulers")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("schedulers must be distinct")
        return value


class DatacentreWorkload(StrictModel):
    """``[workload]``: the offered-load sweep and the request classes.

    Parameters
    ----------
    requests : int
        Requests per (size, policy, load) point, in [100, 10^7]. Default 3000.
    saturation_requests : int
        Requests of the saturation run (all issued at t = 0, no deadline), in [100, 10^7].
        Default 3000.
    relative_loads : tuple of float
        Offered loads as fractions of the FIFO saturation throughput of the same size, each in
        (0, 100], distinct. Default (0.25, 0.5, 0.75, 0.9, 1.0, 1.25, 1.5, 2.0).
    cnot_fraction : float
        Fraction of teleported CNOTs (the rest are teleportations), in [0, 1]. Default 0.
    deadline_ns : float
        Relative deadline of a regular request (ns after its arrival, > 0; inf: none): a
        request still waiting or between rounds then is dropped. Default 5e4 (50 us: about
        twenty lane-holding times of the shipped scenario's hardware).
    urgent_fraction : float
        Fraction of urgent requests, in [0, 1]. Default 0.25.
    urgent_deadline_ns : float
        Relative deadline of an urgent request, ns, > 0. Default 1e4 (10 us: about four
        lane-holding times).
    warmup_fraction : float
        Leading fraction of the arrivals left out of the measures, in [0, 0.5]. Default 0.1.
    """

    requests: int = Field(3000, ge=100, le=10_000_000, strict=True)
    saturation_requests: int = Field(3000, ge=100, le=10_000_000, strict=True)
    relative_loads: tuple[float, ...] = Field((0.25, 0.5, 0.75, 0.9, 1.0, 1.25, 1.5, 2.0), min_length=1)
    cnot_fraction: float = Field(0.0, ge=0.0, le=1.0)
    deadline_ns: float = Field(5e4, gt=0.0)
    urgent_fraction: float = Field(0.25, ge=0.0, le=1.0)
    urgent_deadline_ns: float = Field(1e4, gt=0.0)
    warmup_fraction: float = Field(0.1, ge=0.0, le=0.5)

    @field_validator("relative_loads")
    @classmethod
    def _loads(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(isinstance(x, bool) or not 0.0 < x <= 100.0 for x in value) or len(set(value)) != len(value):
            raise ValueError("relative_loads must be distinct numbers in (0, 100]")
        return tuple(sorted(value))


class DatacentreStudy(StrictModel):
    """``[study]``: intervals and outputs.

    Parameters
    ----------
    confidence : float
        Two-sided level of the intervals, in (0, 1). Default 0.95.
    batches : int
        Batches of the batch-means intervals, in [5, 100]. Default 20 (Law & Kelton: 10-30).
    """

    confidence: float = Field(0.95, gt=0.0, lt=1.0)
    batches: int = Field(20, ge=5, le=100, strict=True)


class DatacentreScenario(StrictModel):
    """A whole ``kind = "datacentre"`` scenario (module docstring)."""

    kind: Literal["datacentre"]
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", min_length=1, max_length=100)
    description: str = ""
    seed: int = Field(ge=0, le=2**63 - 1, strict=True)
    network: DatacentreNetwork = Field(default_factory=DatacentreNetwork)
    hub: HubConfig = Field(default_factory=HubConfig)
    orchestrator: DatacentreOrchestrator = Field(default_factory=DatacentreOrchestrator)
    workload: DatacentreWorkload = Field(default_factory=DatacentreWorkload)
    study: DatacentreStudy = Field(default_factory=DatacentreStudy)

    @model_validator(mode="after")
    def _hardware(self) -> DatacentreScenario:
        for size in self.network.sizes:
            try:
                self.specs(size)
            except (UserInputError, ValueError) as exc:
                raise ValueError(f"hardware at {size} QPUs: {exc}") from None
        return self

    def specs(self, size: int) -> tuple[list[Any], Any]:
        """QPU specs and hub spec of one size, resolved as a ``kind = "hub"`` scenario's
        (:meth:`modenhub_net.network.config.HubScenario.specs`: preset + overrides; the
        ``[hub]`` detector overrides reach the QPUs' herald detectors too)."""
        hub_scenario = HubScenario(kind="hub", name=self.name, seed=self.seed,
                                   network=self.network.network_config(size), hub=self.hub)
        return hub_scenario.specs()


def load_scenario(document: Mapping[str, Any], *, source: str, seed: int | None = None,
                  trials: int | None = None) -> DatacentreScenario:
    """Apply the CLI overrides (``--trials`` sets ``workload.requests``) and validate.

    The overrides go through the shared :func:`modenhub_net.studies.skeleton.with_overrides`;
    a bad document raises :class:`~modenhub_net.errors.UserInputError`, one line naming
    ``source``, the field and its value.
    """
    doc = with_overrides(document, seed=seed, trials=trials, trials_at=("workload.requests",))
    return validate_document(DatacentreScenario, doc, source=source)


# -- workloads and runs ---------------------------------------------------------------------------
def make_requests(scenario: DatacentreScenario, *, size: int, count: int, rate_hz: float,
                  stream: str, deadlines: bool = True) -> list[Request]:
    """Uniform pairs ``s != d`` (the paper's workload) with Poisson arrivals of ``rate_hz``
    (inf: all issued at t = 0), a fraction ``urgent_fraction`` of them urgent; all from the
    named stream ``stream`` of the root seed (so every scheduler sees the same requests).
    ``deadlines=False`` gives every request an infinite deadline (saturation runs)."""
    w = scenario.workload
    rng = np.random.Generator(np.random.PCG64(stream_seed_sequence(scenario.seed, stream)))
    mean_gap_ns = 0.0 if math.isinf(rate_hz) else 1e9 / rate_hz
    requests = uniform_requests(rng, n_qpus=size, count=count, cnot_fraction=w.cnot_fraction,
                                mean_interarrival_ns=mean_gap_ns)
    if not deadlines:
        return requests
    urgent = rng.random(count) < w.urgent_fraction
    return [replace(r, deadline_ns=w.urgent_deadline_ns if u else w.deadline_ns)
            for r, u in zip(requests, urgent, strict=True)]


def _run(scenario: DatacentreScenario, size: int, scheduler: str, requests: list[Request]) -> Any:
    from modenhub_net.network.stack_run import run_stack

    nodes, hub = scenario.specs(size)
    o = scenario.orchestrator
    return run_stack(
        nodes=nodes, hub=hub, scheme=scenario.network.scheme, link_mode=scenario.network.link_mode,
        requests=requests, seed=scenario.seed, mode="concurrent", scheduler=scheduler,
        admission=o.admission, rounds=o.rounds, kappa=o.kappa, k_min=o.k_min,
        cache_capacity=o.cache_capacity,
    )


# -- measures -------------------------------------------------------------------------------------
def _proportion(indicator: np.ndarray, batches: int, zz: float) -> tuple[float, float, float]:
    """Mean of a 0/1 series and its Wilson interval at the batch-means effective sample size
    (:func:`modenhub_net.stats.bounded_mean_interval` with the batch-means standard error)."""
    n = indicator.size
    p = float(indicator.mean()) if n else math.nan
    if n < 2 * batches:
        return p, math.nan, math.nan
    se = batch_means(indicator.astype(float), batches=batches).standard_error
    if p in (0.0, 1.0) or se == 0.0:  # no variation seen: the interval of the plain count
        low, high = wilson_interval(round(p * n), n, z=zz)
    else:
        low, high = bounded_mean_interval(mean=p, std=se * math.sqrt(n), n=n, z=zz)
    return p, float(low), float(high)


def point_metrics(frame: pd.DataFrame, *, warmup_fraction: float = 0.1, batches: int = 20,
                  confidence: float = 0.95) -> dict[str, float]:
    """Throughput, latency percentiles and loss probabilities of one run, with intervals.

    Parameters
    ----------
    frame : pandas.DataFrame
        Per-request records of one run (columns ``arrival_ns``, ``end_ns``, ``success``,
        ``blocked``, ``dropped``, ``latency_ns``, ``queue_wait_ns``).
    warmup_fraction : float, optional
        Leading fraction of the arrivals left out, in [0, 0.5]. Default 0.1.
    batches : int, optional
        Batches of the intervals (module docstring). Default 20.
    confidence : float, optional
        Two-sided level. Default 0.95.

    Returns
    -------
    dict
        ``offered_hz`` (arrivals per second in the window), ``served_hz`` (requests served --
        neither blocked nor dropped, successful or not after R rounds -- ending in the window
        of arrivals, per second) and ``throughput_hz`` (successful operations, the same way),
        each with ``_low`` / ``_high``,
        ``p50/p90/p99_latency_ns`` (successful requests) with intervals, ``mean_wait_ns``,
        ``blocking`` / ``drop`` / ``success`` probabilities with intervals, ``requests``.
    """
    zz = z_value(confidence=confidence)
    f = frame.sort_values("arrival_ns", kind="stable")
    skip = int(len(f) * warmup_fraction)
    window = f.iloc[skip:]
    t0, t1 = float(window["arrival_ns"].iloc[0]), float(f["arrival_ns"].iloc[-1])
    out: dict[str, float] = {"requests": float(len(window))}
    span_ns = t1 - t0
    out["offered_hz"] = (len(window) - 1) / span_ns * 1e9 if span_ns > 0 else math.inf
    served_mask = ~(f["blocked"].to_numpy(bool) | f["dropped"].to_numpy(bool))
    for key, mask in (("served_hz", served_mask), ("throughput_hz", f["success"].to_numpy(bool))):
        ends = f.loc[mask, "end_ns"].to_numpy(float)
        if span_ns > 0:
            edges = np.linspace(t0, t1, batches + 1)
            counts = np.histogram(ends[(ends >= t0) & (ends <= t1)], bins=edges)[0].astype(float)
            rate = counts / (span_ns / batches / 1e9)
            x = float(rate.mean())
            se = float(rate.std(ddof=1) / math.sqrt(batches))
            out.update({key: x, f"{key}_low": max(0.0, x - zz * se), f"{key}_high": x + zz * se})
        else:  # all at once: completions over the makespan
            x = ends.size / float(ends.max() - t0) * 1e9 if ends.size else 0.0
            out.update({key: x, f"{key}_low": math.nan, f"{key}_high": math.nan})
    success = window["success"].to_numpy(bool)
    latency = window.loc[success, "latency_ns"].to_numpy(float)
    for q in (50, 90, 99):
        key = f"p{q}_latency_ns"
        if latency.size >= 2 * batches:
            point = float(np.percentile(latency, q))
            per_batch = [np.percentile(part, q) for part in np.array_split(latency, batches)]
            se = float(np.std(per_batch, ddof=1) / math.sqrt(batches))
            out.update({key: point, f"{key}_low": max(0.0, point - zz * se), f"{key}_high": point + zz * se})
        else:
            out.update({key: float(np.percentile(latency, q)) if latency.size else math.nan,
                        f"{key}_low": math.nan, f"{key}_high": math.nan})
    wait = window["queue_wait_ns"].to_numpy(float)
    wait = wait[np.isfinite(wait)]
    out["mean_wait_ns"] = float(wait.mean()) if wait.size else math.nan
    for name, column in (("blocking", "blocked"), ("drop", "dropped"), ("success", "success")):
        p, low, high = _proportion(window[column].to_numpy(bool), batches, zz)
        out.update({name: p, f"{name}_low": low, f"{name}_high": high})
    return out


def _utilisation(run: Any) -> dict[str, float]:
    metrics = run.metrics()
    items = metrics.items() if isinstance(metrics, Mapping) else vars(metrics).items()
    return {f"util_{k.removeprefix('utilisation_').removeprefix('util_')}": float(v)
            for k, v in items if "utilisation" in k or k.startswith("util")}


# -- the study ------------------------------------------------------------------------------------
def saturation_point(item: tuple[DatacentreScenario, int, str]) -> dict[str, Any]:
    """Saturation of one size and scheduler: every request issued at t = 0 without deadline.

    The throughput (link services completed per second) is measured between the 10 % and 90 %
    quantiles of the release times of the link resources (start-up and the draining tail, when
    fewer requests than lanes remain, are left out); the per-resource bounds
    (:func:`modenhub_net.queueing.saturation_throughput_hz`) use the measured work per request
    -- lane-ns, device-ns (stations or sources) and QPU-port-ns (a request holds two of the N
    ports) -- of the requests released in the same window.
    """
    scenario, size, scheduler = item
    requests = make_requests(scenario, size=size, count=scenario.workload.saturation_requests,
                             rate_hz=math.inf, stream=f"saturation/N={size}", deadlines=False)
    run = _run(scenario, size, scheduler, requests)
    frame = run.frame()
    served = frame[np.isfinite(frame["released_ns"].to_numpy(float))]
    release = served["released_ns"].to_numpy(float)
    ordered = np.sort(release)
    lo, hi = int(0.1 * ordered.size), int(0.9 * ordered.size) - 1
    rate = (hi - lo) / (ordered[hi] - ordered[lo]) * 1e9 if hi > lo else math.nan
    inside = (release > ordered[lo]) & (release <= ordered[hi])  # the work of the same window
    hold = (served["released_ns"] - served["start_ns"]).to_numpy(float)[inside]
    devices = served["devices_held"].to_numpy(float)[inside]
    capacities = run.orchestrator.map.capacities
    bound = saturation_throughput_hz(
        capacity={"switch_circuits": float(capacities.lanes),
                  capacities.device_kind: float(capacities.devices), "qpu_ports": float(size)},
        work_ns={"switch_circuits": float(hold.mean()),
                 capacities.device_kind: float((devices * hold).mean() * capacities.device_cost),
                 "qpu_ports": float(2.0 * hold.mean())},
    )
    row: dict[str, Any] = {
        "n_qpus": size, "scheduler": scheduler, "saturation_hz": rate,
        "success": float(frame["success"].mean()), "mean_hold_ns": float(hold.mean()),
        "mean_attempts_per_round": float(devices.mean()),
        "bound_hz": bound.rate_hz, "bound_binding": bound.binding,
        "saturation_over_bound": rate / bound.rate_hz,
    }
    row.update(_utilisation(run))
    return row


def sweep_point(item: tuple[DatacentreScenario, int, str, float, float]) -> dict[str, Any]:
    """Measures of one (size, scheduler, relative load) point (:func:`point_metrics`)."""
    scenario, size, scheduler, load, rate_hz = item
    started = time.perf_counter()
    requests = make_requests(scenario, size=size, count=scenario.workload.requests, rate_hz=rate_hz,
                             stream=f"workload/N={size}/load={load:g}")
    run = _run(scenario, size, scheduler, requests)
    frame = run.frame()
    row: dict[str, Any] = {"n_qpus": size, "scheduler": scheduler, "relative_load": load,
                           "offered_rate_hz": rate_hz}
    s = scenario.study
    row.update(point_metrics(frame, warmup_fraction=scenario.workload.warmup_fraction,
                             batches=s.batches, confidence=s.confidence))
    window = frame.sort_values("arrival_ns", kind="stable")
    window = window.iloc[int(len(window) * scenario.workload.warmup_fraction):]
    dropped = window["dropped"].to_numpy(bool)
    urgent = window["deadline_ns"].to_numpy(float) - window["arrival_ns"].to_numpy(float) <= (
        scenario.workload.urgent_deadline_ns * (1 + 1e-12))
    row["urgent_drop"] = float(dropped[urgent].mean()) if urgent.any() else math.nan
    row["regular_drop"] = float(dropped[~urgent].mean()) if (~urgent).any() else math.nan
    # dropped after it was given link resources (lane, devices, qubits): work spent on a request
    # that is then abandoned (often before its first round: the deadline passes during the
    # command latency and the switch reconfiguration)
    held = np.isfinite(window["released_ns"].to_numpy(float))
    row["wasted_drop"] = float((dropped & held).mean())
    row["wasted_drop_no_round"] = float((dropped & held & (window["rounds"].to_numpy(int) == 0)).mean())
    row.update(_utilisation(run))
    row["wall_s"] = time.perf_counter() - started
    return row


def _first_load(group: pd.DataFrame, mask: pd.Series) -> float:
    """The smallest relative load of ``group`` where ``mask`` holds (NaN: nowhere in the sweep)."""
    hits = group.loc[mask, "relative_load"]
    return float(hits.min()) if len(hits) else math.nan


#: the p99 latency "blows up" where it exceeds this multiple of its value at the lightest load
KNEE_FACTOR = 3.0
#: the hub "sheds load" where the blocking + drop probability exceeds this
LOSS_ONSET = 0.01


def headline(saturation_table: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """Per size and scheduler, the numbers of the report.

    Columns: the saturation throughput and its binding resource (saturation runs); the peak
    served rate over the sweep and the load where it is reached; the served rate at the heaviest
    load over that peak (< 1: the useful work *falls* past saturation -- congestion collapse);
    ``p99_knee_load``, the smallest load whose p99 latency exceeds :data:`KNEE_FACTOR` x its
    value at the lightest load; ``loss_onset_load``, the smallest load whose blocking + drop
    probability exceeds :data:`LOSS_ONSET`; at the heaviest load the drop probabilities (all,
    urgent, and *wasted*: dropped after it was given link resources) and the utilisations.
    """
    rows = []
    for (size, sched), group in points.groupby(["n_qpus", "scheduler"], sort=False):
        g = group.sort_values("relative_load")
        sat = saturation_table[(saturation_table["n_qpus"] == size)
                               & (saturation_table["scheduler"] == sched)]
        heavy = g.iloc[-1]
        peak = g.loc[g["served_hz"].idxmax()]
        base_p99 = float(g["p99_latency_ns"].iloc[0])
        rows.append({
            "n_qpus": size, "scheduler": sched,
            "saturation_hz": float(sat["saturation_hz"].iloc[0]) if len(sat) else math.nan,
            "binding": str(sat["bound_binding"].iloc[0]) if len(sat) else "",
            "peak_served_hz": float(peak["served_hz"]),
            "peak_load": float(peak["relative_load"]),
            "peak_success_hz": float(g["throughput_hz"].max()),
            "heaviest_over_peak": float(heavy["served_hz"]) / float(peak["served_hz"]),
            "p99_knee_load": _first_load(g, g["p99_latency_ns"] > KNEE_FACTOR * base_p99),
            "loss_onset_load": _first_load(g, g["blocking"] + g["drop"] > LOSS_ONSET),
            "heaviest_load": float(heavy["relative_load"]),
            "p99_at_heaviest_ns": float(heavy["p99_latency_ns"]),
            "drop_at_heaviest": float(heavy["drop"]),
            "urgent_drop_at_heaviest": float(heavy["urgent_drop"]),
            "wasted_drop_at_heaviest": float(heavy["wasted_drop"]),
            "wasted_no_round_at_heaviest": float(heavy["wasted_drop_no_round"]),
            "util_lanes_at_heaviest": float(heavy.get("util_switch_circuits", math.nan)),
        })
    return pd.DataFrame(rows)


def compute(scenario: DatacentreScenario, progress: Progress) -> StudyOutput:
    """Saturation runs, then the offered-load sweep (module docstring)."""
    scheds = scenario.orchestrator.schedulers
    with progress.stage("saturation"):
        sat_rows = progress.map(saturation_point, [(scenario, n, s) for n in scenario.network.sizes
                                                   for s in scheds], label="saturation runs")
    saturation_table = pd.DataFrame(sat_rows)
    reference = {}
    for size in scenario.network.sizes:
        part = saturation_table[saturation_table["n_qpus"] == size].set_index("scheduler")
        reference[size] = float(part.loc["fifo" if "fifo" in part.index else part.index[0], "saturation_hz"])
    items = [(scenario, n, s, load, load * reference[n]) for n in scenario.network.sizes
             for load in scenario.workload.relative_loads for s in scheds]
    with progress.stage("sweep"):
        rows = progress.map(sweep_point, items, label="load points")
    points = pd.DataFrame(rows)
    head = headline(saturation_table, points)
    summary = head[["n_qpus", "scheduler", "saturation_hz", "binding", "peak_served_hz", "heaviest_over_peak",
                    "p99_knee_load", "loss_onset_load", "drop_at_heaviest"]]
    return StudyOutput(tables={"points": points, "saturation": saturation_table, "headline": head},
                       context={"reference_hz": reference}, summary=summary)


# -- figure and report ----------------------------------------------------------------------------
def draw(scenario: DatacentreScenario, output: StudyOutput, folder: Path) -> list[Path]:
    """``datacentre.pdf`` / ``.png``: per size (rows) served and successful rates, latency p50/p99 and loss
    (blocked + dropped) vs the offered load, one series per scheduler (colour and marker, legend
    below); solid lines with filled markers are the served rate and the p99 latency, dashed
    lines with open markers the successful rate and the p50 latency (key above); then
    ``REPORT.md`` (:func:`report`), written here because its template is the module's own."""
    from matplotlib.lines import Line2D

    from modenhub_net.reporting import style

    points = output.tables["points"]
    sizes = sorted(points["n_qpus"].unique())
    fig, axes = style.new_figure(width="double", nrows=len(sizes), ncols=3, squeeze=False,
                                 height_in=2.4 * len(sizes))
    for row, size in enumerate(sizes):
        part = points[points["n_qpus"] == size]
        for i, sched in enumerate(scenario.orchestrator.schedulers):
            g = part[part["scheduler"] == sched].sort_values("relative_load")
            x = g["offered_rate_hz"].to_numpy(float) / 1e6
            style.errorbar_ci(axes[row, 0], x, g["served_hz"] / 1e6, g["served_hz_low"] / 1e6,
                              g["served_hz_high"] / 1e6, series=i, label=sched, line=True)
            style.errorbar_ci(axes[row, 0], x, g["throughput_hz"] / 1e6, g["throughput_hz_low"] / 1e6,
                              g["throughput_hz_high"] / 1e6, series=i, line=True, linestyle="--",
                              markerfacecolor="none")
            style.errorbar_ci(axes[row, 1], x, g["p99_latency_ns"] / 1e3, g["p99_latency_ns_low"] / 1e3,
                              g["p99_latency_ns_high"] / 1e3, series=i, label=sched, line=True)
            style.errorbar_ci(axes[row, 1], x, g["p50_latency_ns"] / 1e3, g["p50_latency_ns_low"] / 1e3,
                              g["p50_latency_ns_high"] / 1e3, series=i, line=True, linestyle="--",
                              markerfacecolor="none")
            loss = g["blocking"].to_numpy(float) + g["drop"].to_numpy(float)
            style.errorbar_ci(axes[row, 2], x, loss, g["drop_low"] + g["blocking"],
                              g["drop_high"] + g["blocking"], series=i, label=sched, line=True)
        top = part["offered_rate_hz"].max() / 1e6
        axes[row, 0].plot([0, top], [0, top], color="0.6", linewidth=0.7, linestyle=":", marker="none",
                          label="offered")
        axes[row, 0].set_ylabel(f"$N = {size}$\n" + style.axis_label("rate", "MHz"))
        axes[row, 1].set_ylabel(style.axis_label("latency", "us"))
        axes[row, 1].set_yscale("log")
        axes[row, 2].set_ylabel("P(blocked or dropped)")
        for ax in axes[row]:
            ax.set_xlabel("offered load (MHz)")
    style.figure_legend(fig, axes[0], where="lower", ncol=5)
    key = [Line2D([], [], color="0.25", linestyle="-", marker="o",
                  label="solid, filled: served rate (left), p99 latency (middle)"),
           Line2D([], [], color="0.25", linestyle="--", marker="o", markerfacecolor="none",
                  label="dashed, open: successful rate (left), p50 latency (middle)")]
    fig.legend(handles=key, loc="outside upper center", ncol=2)
    paths = style.save_figure(fig, folder, "datacentre")
    atomic_write_text(folder / "REPORT.md", report(scenario, output))
    return paths


def findings(saturation_table: pd.DataFrame, head: pd.DataFrame) -> list[str]:
    """The report's headline sentences, one per size, from the tables (no number is typed in)."""
    lines = []
    for size, part in head.groupby("n_qpus", sort=True):
        sat = saturation_table[saturation_table["n_qpus"] == size].set_index("scheduler")
        h = part.set_index("scheduler")
        ref = "fifo" if "fifo" in sat.index else sat.index[0]
        binding = str(sat.loc[ref, "bound_binding"])
        util = sat.loc[ref].get(f"util_{binding}", math.nan)
        lanes = sat.loc[ref].get("util_switch_circuits", math.nan)
        best = h["peak_success_hz"].idxmax()
        collapse = h["heaviest_over_peak"].idxmin()
        text = (
            f"- **N = {size}**: {ref} saturates at {sat.loc[ref, 'saturation_hz'] / 1e6:.2f} MHz of link "
            f"services, {sat.loc[ref, 'saturation_over_bound']:.1%} of the bound of its binding resource, "
            f"the {binding.replace('_', ' ')} (utilisation {util:.2f}"
            + (f"; switch lanes {lanes:.2f}). " if binding != "switch_circuits" else "). ")
            +
            f"Losses begin at {h.loc[ref, 'loss_onset_load']:g}x and the p99 latency passes "
            f"{KNEE_FACTOR:g}x its light-load value at {h.loc[ref, 'p99_knee_load']:g}x the saturation "
            f"load. Most successful operations per second: {best} "
            f"({h.loc[best, 'peak_success_hz'] / 1e6:.2f} MHz). "
        )
        fastest = sat["saturation_hz"].idxmax()
        if sat.loc[fastest, "saturation_hz"] > 1.2 * sat.loc[ref, "saturation_hz"]:
            text += (
                f"{fastest} saturates at {sat.loc[fastest, 'saturation_hz'] / 1e6:.2f} MHz by giving each "
                f"request {sat.loc[fastest, 'mean_attempts_per_round']:.2f} attempts a round (success "
                f"{sat.loc[fastest, 'success']:.2f}) against {sat.loc[ref, 'mean_attempts_per_round']:.2f} "
                f"for {ref} (success {sat.loc[ref, 'success']:.2f}). "
            )
        worst = float(h.loc[collapse, "heaviest_over_peak"])
        if worst < 0.9:
            text += (
                f"Past saturation the served rate of {collapse} falls to {worst:.0%} of its peak at "
                f"{h.loc[collapse, 'heaviest_load']:g}x, a congestion collapse: "
                f"{h.loc[collapse, 'wasted_drop_at_heaviest']:.0%} of its requests are dropped after "
                "being given a lane and BSM stations "
                f"({h.loc[collapse, 'wasted_no_round_at_heaviest']:.0%} before their first round: the "
                "deadline passes during the command latency and the switch reconfiguration), so the "
                "binding resource is busy with work that is thrown away."
            )
            if h.loc[collapse, "wasted_no_round_at_heaviest"] > LOSS_ONSET:
                text += (" The orchestrator starts requests whose remaining time cannot cover the "
                         "command latency, the reconfiguration and one round.")
        else:
            text += "No policy's served rate falls past saturation (the hub sheds load while waiting)."
        lines.append(text)
    return lines


def report(scenario: DatacentreScenario, output: StudyOutput) -> str:
    """``REPORT.md``: set-up, saturation per policy and its binding resource, the latency knee,
    the loss at the heaviest load, all points."""
    from modenhub_net.reporting.report import markdown_table

    o, w, net, hub = scenario.orchestrator, scenario.workload, scenario.network, scenario.hub
    sat, head, points = output.tables["saturation"], output.tables["headline"], output.tables["points"]
    util_cols = [c for c in sat.columns if c.startswith("util_")]
    lines = [
        f"# {scenario.name}: a data-centre hub under load, per scheduling policy",
        "",
        scenario.description.strip(),
        "",
        "## Set-up",
        "",
        f"- QPUs: {', '.join(str(n) for n in net.sizes)}; preset `{net.preset}`, "
        f"{net.fibre_length_km * 1e3:g} m fibres, scheme `{net.scheme}`, link mode `{net.link_mode}`",
        f"- hub: {hub.switch_max_circuits} switch circuits (lanes = min(circuits / 2, N / 2)), "
        f"{hub.bsm_stations} BSM stations, {hub.sources} sources, switch "
        f"{hub.switch_architecture or 'preset'} with {hub.switch_loss_db_per_stage} dB per stage",
        f"- orchestrator (concurrent stack): admission `{o.admission}`, R = {o.rounds}, "
        f"kappa = {o.kappa}, k_min = {o.k_min}, cache capacity {o.cache_capacity}",
        f"- workload: {w.requests} Poisson requests per point, uniform pairs, CNOT fraction "
        f"{w.cnot_fraction}; {w.urgent_fraction:.0%} urgent (deadline {w.urgent_deadline_ns / 1e3:g} us), "
        f"the rest with deadline {w.deadline_ns / 1e3:g} us; loads "
        f"{', '.join(f'{x:g}' for x in w.relative_loads)} x the FIFO saturation throughput of the "
        f"size; first {w.warmup_fraction:.0%} of the arrivals left out; seed {scenario.seed}",
        f"- intervals: {scenario.study.confidence:.0%}; batch means over {scenario.study.batches} "
        "batches (throughput: time windows; probabilities: Wilson at the batch-means effective "
        "sample size; percentiles: sectioning)",
        "",
        "## Findings",
        "",
        *findings(sat, head),
        "",
        "## Saturation throughput (every request issued at t = 0, no deadline)",
        "",
        "`bound_hz` is the resource bound min_r capacity_r / work_r with the measured work per "
        "request (`modenhub_net.queueing.saturation_throughput_hz`); `saturation_over_bound` < 1 "
        "means the binding resource idles now and then (random pairs: a request whose QPU is busy "
        "cannot start even with a lane free).",
        "",
        markdown_table(sat[["n_qpus", "scheduler", "saturation_hz", "bound_hz", "bound_binding",
                            "saturation_over_bound", "success", "mean_hold_ns", "mean_attempts_per_round",
                            *util_cols]]),
        "",
        "## Headline per policy",
        "",
        "Loads are in units of the FIFO saturation throughput of the size. `p99_knee_load`: the "
        f"smallest load whose p99 latency exceeds {KNEE_FACTOR:g}x its value at the lightest load; "
        f"`loss_onset_load`: the smallest load whose blocking + drop probability exceeds {LOSS_ONSET:g}; "
        "`heaviest_over_peak`: the served rate at the heaviest load over its peak in the sweep (< 1: "
        "the useful work falls past saturation); `wasted_drop_at_heaviest`: the fraction of requests "
        "dropped after being given link resources (work spent for nothing), "
        "`wasted_no_round_at_heaviest` those of them dropped before their first round. n/a: not within the "
        "sweep. The deadlines cap the latency of the requests that succeed.",
        "",
        markdown_table(head),
        "",
        "## All points",
        "",
        markdown_table(points[["n_qpus", "scheduler", "relative_load", "offered_rate_hz", "served_hz",
                               "throughput_hz",
                               "p50_latency_ns", "p99_latency_ns", "mean_wait_ns", "blocking", "drop",
                               "urgent_drop", "regular_drop", "wasted_drop", "wasted_drop_no_round",
                               "success",
                               *[c for c in points.columns if c.startswith("util_")]]]),
        "",
        "Figure: `datacentre.pdf` / `datacentre.png`. Tables: `points.csv`, `saturation.csv`, "
        "`headline.csv`.",
    ]
    return "\n".join(lines) + "\n"


def evaluate_point(document: Mapping[str, Any], *, seed: int, source: str = "<sweep point>") -> pd.DataFrame:
    """The point table of a scenario at one seed (pure: no file I/O)."""
    scenario = load_scenario(document, source=source, seed=seed)
    return compute(scenario, Progress(quiet=True)).tables["points"]


STUDY = Study(kind="datacentre", load=load_scenario, compute=compute, plot=draw, template=None)
run_scenario = STUDY.run_scenario
