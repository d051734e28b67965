"""Runner of ``kind = "hub"`` scenarios: the physical hub simulation.

``modenhub run scenarios/hub4_case_study.toml [--out DIR] [--seed S] [--trials T]`` writes,
atomically into ``DIR`` (default ``results/<name>``), through the shared skeleton
(:mod:`modenhub_net.studies.skeleton`): ``records.parquet`` (one row per request and policy),
``summary.csv`` (per policy: Wilson interval for success, mean +- z s/sqrt(n) for attempts,
latency and fidelities), ``links.csv`` and ``closed_form_check.csv`` (below),
``latency.pdf/.png`` and ``fidelity.pdf/.png`` (distributions on shared bins,
:mod:`modenhub_net.studies.hub_study_plots`), ``REPORT.md`` (template
``reporting/templates/hub.md.j2``) and ``scenario.json``. ``--trials`` overrides
``workload.requests``. The policies run as tasks of the parallel map, each with the root
seed's streams, so the records do not depend on the backend.

The report also gives each QPU pair's link budget (per-attempt herald probability, heralded
fidelity and attempt period: :func:`hardware_models.link_budget.pair_link_budget` through the
network's ``budget``) and checks the simulated success rate of every policy against the closed
form of its attempt plan: a request with ``n`` planned attempts on a link of per-attempt
probability ``p`` succeeds with ``1 - (1 - p)^n`` (independent attempts), averaged over the
requests' QPU pairs (:func:`closed_form_success`). The naive (``n = R``) and adaptive/orchestrated
(``n = min(K, cap) R``) plans are exact without the cache; the cache can only add successes.
Not for ``hub_memory_swap`` (legs carry over between rounds).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from modenhub_net.config import validate_document
from modenhub_net.errors import UserInputError
from modenhub_net.network.builder import run_policy
from modenhub_net.network.config import HubScenario
from modenhub_net.network.records import records_frame, summarise_records
from modenhub_net.simulation import stream_seed_sequence
from modenhub_net.studies import hub_study_plots
from modenhub_net.studies.skeleton import Progress, Study, StudyOutput, with_overrides
from protocols.workload import hotspot_requests, list_requests, uniform_requests

__all__ = ["load_scenario", "make_requests", "simulate", "evaluate_point", "link_table",
           "closed_form_success", "compute", "STUDY", "run_scenario"]


def load_scenario(document: Mapping[str, Any], *, source: str, seed: int | None = None,
                  trials: int | None = None) -> HubScenario:
    """Apply CLI overrides and validate (``UserInputError`` naming field and value)."""
    doc = with_overrides(document, seed=seed, trials=trials, trials_at=("workload.requests",))
    return validate_document(HubScenario, doc, source=source)


def make_requests(scenario: HubScenario) -> list:
    """The scenario's workload (stream ``workload`` of the root seed)."""
    w = scenario.workload
    n = scenario.network.size
    rng = np.random.Generator(np.random.PCG64(stream_seed_sequence(scenario.seed, "workload")))
    if w.kind == "uniform":
        return uniform_requests(rng, n_qpus=n, count=w.requests, cnot_fraction=w.cnot_fraction,
                                mean_interarrival_ns=w.mean_interarrival_ns)
    if w.kind == "hotspot":
        return hotspot_requests(rng, n_qpus=n, count=w.requests, hot_qpu=w.hot_qpu,
                                hot_fraction=w.hot_fraction, cnot_fraction=w.cnot_fraction,
                                mean_interarrival_ns=w.mean_interarrival_ns)
    return list_requests(w.entries, n_qpus=n)


def _policy_records(scenario: HubScenario, policy: str, requests: list) -> pd.DataFrame:
    """Records of one policy on ``requests`` (its random streams come from the root seed)."""
    nodes, hub = scenario.specs()
    o, c = scenario.orchestrator, scenario.cache
    records, _, _ = run_policy(
        nodes=nodes, hub=hub, scheme=scenario.network.scheme,
        link_mode=scenario.network.link_mode, policy=policy, requests=requests,
        seed=scenario.seed, rounds=o.rounds, kappa=o.kappa, k_min=o.k_min,
        cache_capacity=c.capacity, cutoff_ns=c.cutoff_ns, eviction=c.eviction,
        leg_cutoff_ns=scenario.hub.leg_cutoff_ns,
    )
    return records_frame(records, scheme=scenario.network.scheme,
                         link_mode=scenario.network.link_mode)


def simulate(scenario: HubScenario) -> pd.DataFrame:
    """Records of every policy of the scenario (same workload for all: common requests)."""
    requests = make_requests(scenario)
    return pd.concat([_policy_records(scenario, policy, requests)
                      for policy in scenario.orchestrator.policies], ignore_index=True)


def evaluate_point(document: Mapping[str, Any], *, seed: int, source: str = "<sweep point>") -> pd.DataFrame:
    """Summary rows of one hub scenario at one seed (pure, no file I/O)."""
    scenario = load_scenario(document, source=source, seed=seed)
    return summarise_records(simulate(scenario), confidence=scenario.study.confidence)


def link_table(scenario: HubScenario) -> pd.DataFrame:
    """Closed-form link budget of every QPU pair of the scenario (one row per unordered pair).

    Columns ``a, b, p_success`` (per attempt), ``fidelity`` (heralded, before storage),
    ``attempt_period_ns`` and ``k_cap`` (attempts a round the resources allow), from the
    network's device closed forms (:mod:`hardware_models.link_budget`).
    """
    from modenhub_net.network.builder import build_hub_network
    from modenhub_net.simulation import Simulation

    nodes, hub = scenario.specs()
    net = build_hub_network(Simulation(seed=0), nodes=nodes, hub=hub, scheme=scenario.network.scheme,
                            link_mode="sampled", leg_cutoff_ns=scenario.hub.leg_cutoff_ns)
    rows = []
    for a in range(len(nodes)):
        for b in range(a + 1, len(nodes)):
            if scenario.network.scheme == "hub_memory_swap":  # per leg; shown as their product
                try:
                    legs = [net.leg_budget(x) for x in (a, b)]
                except UserInputError:  # no closed form for these legs
                    legs = []
                p = legs[0].p_success * legs[1].p_success if legs else float("nan")
                period = max(leg.attempt_period_ns for leg in legs) if legs else float("nan")
                fidelity = float("nan")
            else:
                budget = net.budget(a, b)
                p, fidelity, period = budget.p_success, budget.fidelity, budget.attempt_period_ns
            rows.append({"a": a, "b": b, "p_success": p, "fidelity": fidelity,
                         "attempt_period_ns": period, "k_cap": net.attempt_cap(a, b)[0]})
    return pd.DataFrame(rows)


def closed_form_success(scenario: HubScenario, records: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """Simulated success rate of each policy against the closed form of its attempt plan.

    A request on QPU pair ``(s, d)`` whose policy plans ``n`` attempts succeeds with
    ``P = 1 - (1 - p_sd)^n`` when attempts are independent with the link budget's ``p_sd``
    (geometric law of heralded generation, e.g. Barrett & Kok, PRA 71, 060310(R) (2005);
    the paper's ``1 - (1 - p)^(K R)``). ``n = R`` for ``naive`` and ``n = min(K, k_cap) R``
    for the multiplexed policies, ``K = max(k_min, ceil(kappa log2 N))``. The expected rate
    is the mean of ``P`` over the simulated requests; its standard error
    ``sqrt(sum P (1 - P)) / n_requests`` (independent Bernoulli requests); ``z`` is
    (simulated - expected) / SE. Exact for ``naive`` and ``adaptive`` (no cache); the
    ``orchestrated`` policy's cache can only add successes (z >= 0 expected).

    Returns
    -------
    pandas.DataFrame
        One row per policy: ``policy, requests, attempts_planned, expected, se, simulated, z``.
    """
    from modenhub_net.aggregate import k_parallel

    o = scenario.orchestrator
    k_paper = k_parallel(scenario.network.size, kappa=o.kappa, k_min=o.k_min)
    lookup = {(int(r.a), int(r.b)): (float(r.p_success), int(r.k_cap)) for r in links.itertuples()}
    rows = []
    for policy, group in records.groupby("policy", sort=True):
        pairs = [(min(s, d), max(s, d)) for s, d in zip(group["s"], group["d"], strict=True)]
        p = np.array([lookup[key][0] for key in pairs])
        k = 1 if policy == "naive" else np.array([min(k_paper, lookup[key][1]) for key in pairs])
        n_attempts = k * o.rounds
        prob = -np.expm1(n_attempts * np.log1p(-np.minimum(p, 1.0 - 1e-16)))
        expected = float(prob.mean())
        se = float(np.sqrt(np.sum(prob * (1.0 - prob)))) / len(prob)
        simulated = float(group["success"].mean())
        rows.append({"policy": policy, "requests": len(group),
                     "attempts_planned": float(np.mean(n_attempts)), "expected": expected, "se": se,
                     "simulated": simulated, "z": (simulated - expected) / se if se > 0 else float("nan")})
    return pd.DataFrame(rows)


def _simulate_policy(item: tuple[HubScenario, str]) -> pd.DataFrame:
    """Records of one policy (a task of the parallel map: the seed travels in the scenario)."""
    scenario, policy = item
    return _policy_records(scenario, policy, make_requests(scenario))


#: columns of the summary table shown in REPORT.md
REPORT_COLUMNS: tuple[str, ...] = (
    "policy", "requests", "success_rate", "success_ci_low", "success_ci_high", "mean_attempts",
    "cache_hit_rate", "mean_latency_ns", "mean_fidelity", "mean_pair_fidelity", "cap_bound_requests",
)


def compute(scenario: HubScenario, progress: Progress) -> StudyOutput:
    """Records of every policy (one task each), their summary, the link budgets and the
    closed-form check of the success rates."""
    with progress.stage("simulate"):
        frames = progress.map(_simulate_policy, [(scenario, p) for p in scenario.orchestrator.policies],
                              label="policies")
        records = pd.concat(frames, ignore_index=True)
    summary = summarise_records(records, confidence=scenario.study.confidence)
    links = link_table(scenario)
    # hub_memory_swap: legs carry over between rounds, so attempts are not independent pair
    # attempts and 1 - (1 - p)^n does not apply
    check = (None if scenario.network.scheme == "hub_memory_swap"
             else closed_form_success(scenario, records, links))
    tables = {"summary": summary, "links": links}
    if check is not None:
        tables["closed_form_check"] = check
    files: dict[str, bytes | str] = {}
    if scenario.study.write_records:
        buffer = io.BytesIO()
        records.to_parquet(buffer, index=False)
        files["records.parquet"] = buffer.getvalue()
    shown_links = links.assign(attempt_period_us=links["attempt_period_ns"] / 1e3).drop(
        columns="attempt_period_ns")
    context = {
        "records": records,
        "presets": sorted({n.label for n in scenario.specs()[0]}),
        "shown_summary": summary[[c for c in REPORT_COLUMNS if c in summary.columns]],
        "links": shown_links,
        "check": check,
    }
    shown = summary[[c for c in ("policy", "success_rate", "mean_attempts", "mean_fidelity",
                                 "mean_latency_ns") if c in summary.columns]]
    return StudyOutput(tables=tables, context=context, files=files, summary=shown)


#: the scenario kind: figures from :mod:`modenhub_net.studies.hub_study_plots`, REPORT.md from
#: ``reporting/templates/hub.md.j2``
STUDY = Study(kind="hub", load=load_scenario, compute=compute, plot=hub_study_plots.draw,
              template="hub")
#: the runner the CLI calls (:meth:`modenhub_net.studies.skeleton.Study.run_scenario`)
run_scenario = STUDY.run_scenario
