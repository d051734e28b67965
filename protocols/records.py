"""Per-request records and the per-run summary with confidence intervals.

One row per request (:data:`RECORD_COLUMNS`); :func:`summarise_records` groups rows by
``(n_qpus, policy)`` (plus any extra grouping columns present, e.g. ``scheme``,
``link_mode``) and reports success with a Wilson interval, bounded means (fidelities, in
[0, 1]) with the effective-sample-size Wilson interval
(:func:`modenhub_net.stats.bounded_mean_interval`, never leaving [0, 1]) and unbounded means
(attempts, latency) with a normal interval ``mean +- z s / sqrt(n)`` (:mod:`modenhub_net.stats`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

from modenhub_net.stats import bounded_mean_interval, mean_interval, wilson_interval

__all__ = ["RequestRecord", "RECORD_COLUMNS", "records_frame", "summarise_records", "SUMMARY_COLUMNS"]


@dataclass(slots=True)
class RequestRecord:
    """Outcome of one request.

    Attributes
    ----------
    request_id : int
    s, d : int
        Source and destination QPUs (for ``cnot``: control on ``s``, target on ``d``).
    kind : str
        ``"teleport"`` or ``"cnot"``.
    policy : str
        Orchestrator policy.
    success : bool
        A pair was obtained within the round budget and the operation was carried out.
    attempts : int
        Heralded-generation attempts spent (all parallel attempts of all rounds; 0 on a hit).
    rounds : int
        Rounds played (0 on a cache hit).
    cache_hit : bool
    latency_ns : float
        From arrival at the orchestrator to the end of the operation (correction applied at
        the destination), or to the failure decision, in ns.
    pair_age_ns : float
        Time from the pair's herald to its use, in ns (NaN on failure).
    pair_fidelity : float
        Fidelity with Phi+ of the actual stored pair at use, after memory decoherence (NaN on
        failure).
    fidelity : float
        Teleportation fidelity (output vs the input state) or teleported-CNOT fidelity (output
        vs the ideal output), from the simulated state (NaN on failure).
    arrival_ns, start_ns, end_ns : float
        Arrival, start of service and end of service in ns.
    n_qpus : int
    k_cap : int
        Parallel attempts allowed by the resources in the first round (sources, BSM stations,
        hub memory slots, switch circuits, communication qubits).
    cap_bound : str
        Name of the resource that limited a round below the policy's wish ("" if none).
    queue_wait_ns : float
        ``start_ns - arrival_ns``: time from the request's arrival to the start of its
        service (classical submission latency plus waiting for resources), ns.
    blocked : bool
        Admission ``"loss"``: the request found its resources busy and was dropped at once
        (never served; the Erlang-B setting).
    dropped : bool
        The request reached its deadline (time ``deadline_ns`` after arrival) while waiting or
        between rounds and was abandoned.
    blocked_by : str
        The resource that blocked or delayed admission ("" if none): ``"switch_circuits"``,
        ``"qpu_port"``, ``"bsm_stations"``, ``"sources"``, ``"hub_memory_slots"``,
        ``"comm_qubits"``.
    deadline_ns : float
        Absolute deadline of the request, ns (inf: none).
    released_ns : float
        Time the request released its link resources (lane, devices), ns; NaN if it never
        held any (a cache hit, a blocked or dropped request, serial mode).
    lanes_held : int
        Switch lanes (each two circuits) the request held while generating (0 or 1).
    devices_held : int
        Parallel-attempt device units the request reserved while generating: BSM stations
        (``detection_in_hub``), sources (``source_in_hub``) or hub-memory slots
        (``hub_memory_swap``).
    qubits_held : int
        Communication qubits the request reserved at each of its two QPUs while generating.
    """

    request_id: int
    s: int
    d: int
    kind: str
    policy: str
    success: bool
    attempts: int
    rounds: int
    cache_hit: bool
    latency_ns: float
    pair_age_ns: float
    pair_fidelity: float
    fidelity: float
    arrival_ns: float
    start_ns: float
    end_ns: float
    n_qpus: int
    k_cap: int
    cap_bound: str
    queue_wait_ns: float = float("nan")
    blocked: bool = False
    dropped: bool = False
    blocked_by: str = ""
    deadline_ns: float = float("inf")
    released_ns: float = float("nan")
    lanes_held: int = 0
    devices_held: int = 0
    qubits_held: int = 0


RECORD_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(RequestRecord))

SUMMARY_COLUMNS: tuple[str, ...] = (
    "requests",
    "successes",
    "success_rate",
    "success_ci_low",
    "success_ci_high",
    "mean_attempts",
    "attempts_ci_low",
    "attempts_ci_high",
    "attempts_std",
    "mean_rounds",
    "cache_hits",
    "cache_hit_rate",
    "mean_latency_ns",
    "latency_ci_low",
    "latency_ci_high",
    "median_latency_ns",
    "p95_latency_ns",
    "mean_fidelity",
    "fidelity_ci_low",
    "fidelity_ci_high",
    "fidelity_std",
    "mean_pair_fidelity",
    "pair_fidelity_ci_low",
    "pair_fidelity_ci_high",
    "mean_pair_age_ns",
    "cap_bound_requests",
)


def records_frame(records: Iterable[RequestRecord], **constants: object) -> pd.DataFrame:
    """A DataFrame of records (columns :data:`RECORD_COLUMNS`, plus constant columns).

    Parameters
    ----------
    records : iterable of RequestRecord
    **constants
        Extra columns with one value for every row (e.g. ``scheme="detection_in_hub"``).
    """
    rows = [asdict(r) for r in records]
    frame = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
    frame = frame.astype(
        {
            "request_id": "int64", "s": "int32", "d": "int32", "success": "bool",
            "attempts": "int32", "rounds": "int16", "cache_hit": "bool", "n_qpus": "int32",
            "k_cap": "int32", "latency_ns": "float64", "pair_age_ns": "float64",
            "pair_fidelity": "float64", "fidelity": "float64", "arrival_ns": "float64",
            "start_ns": "float64", "end_ns": "float64", "queue_wait_ns": "float64",
            "blocked": "bool", "dropped": "bool", "deadline_ns": "float64",
            "released_ns": "float64", "lanes_held": "int16", "devices_held": "int32",
            "qubits_held": "int32",
        }
    )
    for name, value in constants.items():
        frame[name] = value
    return frame


def _mean_ci(values: np.ndarray, confidence: float) -> tuple[float, float, float, float]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (np.nan,) * 4
    low, high = mean_interval(values, confidence=confidence)
    std = float(values.std(ddof=1)) if values.size >= 2 else np.nan
    return float(values.mean()), float(low), float(high), std


def _bounded_ci(values: np.ndarray, confidence: float) -> tuple[float, float, float, float]:
    """Mean, interval inside [0, 1] (:func:`bounded_mean_interval`) and std of a fidelity."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (np.nan,) * 4
    low, high = bounded_mean_interval(values, low=0.0, high=1.0, confidence=confidence)
    std = float(values.std(ddof=1)) if values.size >= 2 else np.nan
    return float(values.mean()), float(low), float(high), std


def summarise_records(
    frame: pd.DataFrame,
    *,
    by: Sequence[str] = ("n_qpus", "policy"),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Summary rows with confidence intervals, one per group.

    Parameters
    ----------
    frame : pandas.DataFrame
        Records (see :func:`records_frame`).
    by : sequence of str, optional
        Grouping columns (those absent from ``frame`` are ignored).
    confidence : float, optional
        Two-sided level of every interval (default 0.95: z = 1.96).

    Returns
    -------
    pandas.DataFrame
        ``by`` columns then :data:`SUMMARY_COLUMNS`. Success: Wilson interval. Fidelities
        (in [0, 1], over successful requests only): :func:`bounded_mean_interval`. Attempts,
        latency: ``mean +- z s / sqrt(n)`` over the requests where the quantity is defined.
    """
    keys = [k for k in by if k in frame.columns]
    rows = []
    groups = frame.groupby(keys, sort=True) if keys else [((), frame)]
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        n = len(group)
        k = int(group["success"].sum())
        lo, hi = wilson_interval(k, n, confidence=confidence)
        att = group["attempts"].to_numpy(dtype=float)
        m_att, lo_att, hi_att, sd_att = _mean_ci(att, confidence)
        lat = group["latency_ns"].to_numpy(dtype=float)
        m_lat, lo_lat, hi_lat, _ = _mean_ci(lat, confidence)
        fid = group["fidelity"].to_numpy(dtype=float)
        m_f, lo_f, hi_f, sd_f = _bounded_ci(fid, confidence)
        pf = group["pair_fidelity"].to_numpy(dtype=float)
        m_pf, lo_pf, hi_pf, _ = _bounded_ci(pf, confidence)
        age = group["pair_age_ns"].to_numpy(dtype=float)
        finite_lat = lat[np.isfinite(lat)]
        hits = int(group["cache_hit"].sum())
        row = dict(zip(keys, key, strict=True))
        row.update(
            requests=n,
            successes=k,
            success_rate=k / n if n else np.nan,
            success_ci_low=float(lo),
            success_ci_high=float(hi),
            mean_attempts=m_att,
            attempts_ci_low=lo_att,
            attempts_ci_high=hi_att,
            attempts_std=sd_att,
            mean_rounds=float(group["rounds"].mean()) if n else np.nan,
            cache_hits=hits,
            cache_hit_rate=hits / n if n else np.nan,
            mean_latency_ns=m_lat,
            latency_ci_low=lo_lat,
            latency_ci_high=hi_lat,
            median_latency_ns=float(np.median(finite_lat)) if finite_lat.size else np.nan,
            p95_latency_ns=float(np.percentile(finite_lat, 95)) if finite_lat.size else np.nan,
            mean_fidelity=m_f,
            fidelity_ci_low=lo_f,
            fidelity_ci_high=hi_f,
            fidelity_std=sd_f,
            mean_pair_fidelity=m_pf,
            pair_fidelity_ci_low=lo_pf,
            pair_fidelity_ci_high=hi_pf,
            mean_pair_age_ns=float(np.nanmean(age)) if np.isfinite(age).any() else np.nan,
            cap_bound_requests=int((group["cap_bound"] != "").sum()),
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=[*keys, *SUMMARY_COLUMNS])
