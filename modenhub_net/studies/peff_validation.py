"""Runner of ``kind = "peff_validation"``: does the paper's p_eff(N) follow from the physics?

For each hardware preset, a hub whose path grows with N (:mod:`modenhub_net.studies.preset_path`:
ceil(log2 ports) switch stages, rack-driven fibre length, BSM-bank time multiplexing):

1. **p(N)**: the closed-form per-attempt success of the hub's link (detection in the hub
   with the preset's own heralding scheme, single or double click, from the devices the hub
   is built from: :func:`modenhub_net.studies.preset_path.pair_budget`, i.e.
   :func:`hardware_models.link_budget.pair_link_budget`) and the same quantity *measured*
   in the event-driven simulation (``link_mode = "detailed"``: every attempt's photons travel
   through the emitter, fibre, switch and BSM-station components), ``p_hat = heralds /
   attempts`` with a Wilson interval (naive policy, long round budget: attempts are Bernoulli
   trials, the stopping rule leaves the likelihood binomial).
2. **Fits**: weighted least squares of the paper's ``p0 / (1 + beta log2 N)`` and of the
   dB-per-stage form ``p0 10^(-b log2 N / 10)`` (:mod:`modenhub_net.studies.peff_fit`) to the
   measured per-attempt p(N) (the closed form where it is not measurable) and to the
   per-window p(N) duty(N) (time multiplexing); each also fitted to the noise-free curve,
   which gives the form's intrinsic shape error.
3. **Policies**: the paper's naive and orchestrated policies on the physical hub (sampled link
   mode, the exact per-N link budget, resources sized so only p(N) differs) and on the
   aggregate model with the fitted (p0, beta) (:func:`modenhub_net.aggregate.run_study`),
   side by side, with z-scores of the differences and the difference the fitted p error alone
   predicts (the comparison's resolving power).

``modenhub run scenarios/peff_validation.toml`` writes ``results/peff_validation/``:
``p_of_n.csv``, ``fits.csv``, ``policies.csv``, ``p_of_n.png``, ``residuals.png``,
``policies.png``, ``REPORT.md``, ``scenario.json``. ``--trials`` scales the measurement
(target heralds per point) and the policy requests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from modenhub_net.aggregate import AggregateModel, analytic_success, k_parallel, run_study
from modenhub_net.config import StrictModel, validate_document
from modenhub_net.network.builder import run_policy
from modenhub_net.simulation import stream_seed_sequence
from modenhub_net.stats import wilson_interval
from modenhub_net.studies.peff_fit import fit_all
from modenhub_net.studies.preset_path import (
    PathModel,
    build_preset_hub,
    check_n_qpus,
    check_presets,
    duty_factor,
    multiplex_bins,
)
from modenhub_net.studies.skeleton import Progress, Study, StudyOutput, with_overrides
from protocols.workload import uniform_requests

__all__ = [
    "MeasurementSection",
    "PoliciesSection",
    "PeffValidationScenario",
    "load_scenario",
    "point_seed",
    "measure_point",
    "measure_all",
    "fit_all",
    "policy_comparison",
    "evaluate_point",
    "compute",
    "STUDY",
    "run_scenario",
]


class MeasurementSection(StrictModel):
    """How hard to measure p(N) in the detailed simulation (``[measurement]``).

    Parameters
    ----------
    target_heralds : int
        Heralds aimed for per point (sets the number of requests).
    max_attempts : int
        Cap on the expected attempts per point (the detailed mode runs ~1e4 attempts/s).
    min_heralds : float
        Points whose expected heralds under the cap fall below this are not measured.
    rounds : int
        Round budget of the measuring requests (one attempt per round).
    """

    target_heralds: int = Field(400, ge=1, le=10_000_000, strict=True)
    max_attempts: int = Field(200_000, ge=1, le=1_000_000_000, strict=True)
    min_heralds: float = Field(20.0, ge=0.0)
    rounds: int = Field(1000, ge=1, le=1000, strict=True)


class PoliciesSection(StrictModel):
    """The paper's policies on the physical hub vs the fitted aggregate model (``[policies]``)."""

    trials: int = Field(2500, ge=1, le=1_000_000, strict=True)
    rounds: int = Field(3, ge=1, le=1000, strict=True)
    kappa: float = Field(0.9, gt=0.0)
    k_min: int = Field(2, ge=1, strict=True)
    policies: tuple[Literal["naive", "orchestrated"], ...] = ("naive", "orchestrated")


class PeffValidationScenario(StrictModel):
    """A whole ``kind = "peff_validation"`` scenario."""

    kind: Literal["peff_validation"]
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", min_length=1, max_length=100)
    description: str = ""
    seed: int = Field(ge=0, le=2**63 - 1, strict=True)
    presets: tuple[str, ...] = Field(min_length=1)
    n_qpus: tuple[int, ...] = Field((2, 4, 8, 16, 32, 64, 128), min_length=3)
    path: PathModel = Field(default_factory=PathModel)
    measurement: MeasurementSection = Field(default_factory=MeasurementSection)
    policies: PoliciesSection = Field(default_factory=PoliciesSection)
    workers: int = Field(1, ge=1, le=256, strict=True)
    confidence: float = Field(0.95, gt=0.0, lt=1.0)

    @field_validator("presets")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return check_presets(value)

    @field_validator("n_qpus")
    @classmethod
    def _n(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return check_n_qpus(value)


def load_scenario(
    document: Mapping[str, Any], *, source: str, seed: int | None = None, trials: int | None = None
) -> PeffValidationScenario:
    """Apply CLI overrides and validate (``UserInputError`` before anything runs).

    ``trials`` sets ``measurement.target_heralds`` and ``policies.trials``.
    """
    doc = with_overrides(document, seed=seed, trials=trials,
                         trials_at=("measurement.target_heralds", "policies.trials"))
    return validate_document(PeffValidationScenario, doc, source=source)


def point_seed(seed: int, name: str) -> int:
    """An integer seed of the named child stream of ``seed`` (stable across runs)."""
    return int(stream_seed_sequence(seed, name).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def _plan(p: float, m: MeasurementSection) -> tuple[int, float]:
    """Requests to run and expected heralds, given the closed-form p."""
    p_req = 1.0 - (1.0 - p) ** m.rounds  # one request heralds at most once
    att_req = p_req / p if p > 0 else float(m.rounds)
    requests = min(math.ceil(m.target_heralds / max(p_req, 1e-300)), math.floor(m.max_attempts / att_req))
    requests = max(int(requests), 0)
    return requests, requests * p_req


def measure_point(
    preset: str,
    n: int,
    *,
    path: PathModel,
    measurement: MeasurementSection,
    seed: int,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Budget and detailed-simulation measurement of p(N) for one (preset, N).

    Returns
    -------
    dict
        Row of ``p_of_n.csv`` (NaN measurement if the point is below ``min_heralds``).
    """
    built = build_preset_hub(preset, path, n, bsm_stations=1, comm_qubits=2)
    budget = built.budget
    k = k_parallel(n)
    row: dict[str, Any] = dict(
        preset=preset,
        n_qpus=n,
        heralding=budget.heralding,
        stages=built.stages,
        fibre_km=built.fibre_km,
        p_budget=budget.p_success,
        fidelity_budget=budget.fidelity,
        attempt_period_ns=budget.attempt_period_ns,
        rate_budget_hz=budget.rate_hz,
        k_paper=k,
        duty=duty_factor(path, n, k),
        multiplex_bins=multiplex_bins(path, n, k),
    )
    requests, expected = _plan(built.p_budget, measurement)
    attempts = heralds = 0
    t0 = time.perf_counter()
    if expected >= measurement.min_heralds and requests > 0:
        rs = point_seed(seed, f"peff/{preset}/N={n}")
        rng = np.random.Generator(np.random.PCG64(stream_seed_sequence(rs, "workload")))
        reqs = uniform_requests(rng, n_qpus=n, count=requests)
        _, net, _ = run_policy(
            nodes=built.nodes,
            hub=built.hub,
            scheme="detection_in_hub",
            link_mode="detailed",
            policy="naive",
            requests=reqs,
            seed=rs,
            rounds=measurement.rounds,
        )
        attempts, heralds = int(net.generation.attempts_total), int(net.generation.heralds_total)
    if attempts > 0:
        lo, hi = wilson_interval(heralds, attempts, confidence=confidence)
        p_hat = heralds / attempts
        se = math.sqrt(max(p_hat * (1 - p_hat), 1.0 / attempts**2) / attempts)
        z = (p_hat - built.p_budget) / math.sqrt(built.p_budget * (1 - built.p_budget) / attempts)
    else:
        lo = hi = p_hat = se = z = float("nan")
    row.update(
        attempts=attempts,
        heralds=heralds,
        p_measured=p_hat,
        p_ci_low=float(lo),
        p_ci_high=float(hi),
        p_se=se,
        z_vs_budget=z,
        wall_s=time.perf_counter() - t0,
    )
    return row


def _measure_job(args: tuple) -> dict[str, Any]:
    preset, n, path, measurement, seed, confidence = args
    return measure_point(preset, n, path=path, measurement=measurement, seed=seed, confidence=confidence)


def _progress(scenario: PeffValidationScenario, progress: Progress | None) -> Progress:
    """This run's progress; ``workers > 1`` in the scenario asks for a process pool."""
    progress = progress or Progress(quiet=True)
    if scenario.workers > 1 and progress.scheduler == "serial":
        progress = Progress(quiet=progress.quiet, scheduler="processes", workers=scenario.workers)
    return progress


def measure_all(scenario: PeffValidationScenario, progress: Progress | None = None) -> pd.DataFrame:
    """Every (preset, N) point, one task each (the same numbers at any worker count)."""
    jobs = [
        (p, n, scenario.path, scenario.measurement, scenario.seed, scenario.confidence)
        for p in scenario.presets
        for n in scenario.n_qpus
    ]
    return pd.DataFrame(_progress(scenario, progress).map(_measure_job, jobs, label="p(N) points"))


def policy_comparison(scenario: PeffValidationScenario, fits: pd.DataFrame,
                      progress: Progress | None = None) -> pd.DataFrame:
    """Naive / orchestrated on the physical hub vs the aggregate model with the fitted p0, beta."""
    jobs = []
    for preset in scenario.presets:
        f = fits[
            (fits["preset"] == preset) & (fits["curve"] == "per_attempt") & (fits["form"] == "hyperbolic")
        ]
        if not f.empty:
            jobs.append((scenario, preset, float(f.iloc[0].param0), float(f.iloc[0].param1)))
    rows = _progress(scenario, progress).map(_policy_job, jobs, label="policies")
    return pd.DataFrame([row for part in rows for row in part])


def _policy_job(item: tuple[PeffValidationScenario, str, float, float]) -> list[dict[str, Any]]:
    """One preset's policy rows (module-level: a task of the parallel map)."""
    scenario, preset, param0, param1 = item
    pol = scenario.policies
    rows = []
    model = AggregateModel(
        p0=min(1.0, max(param0, 1e-12)),
        beta=max(0.0, param1),
        kappa=pol.kappa,
        rounds=pol.rounds,
        k_min=pol.k_min,
    )
    agg = run_study(
        model,
        n_qpus=list(scenario.n_qpus),
        strategies=list(pol.policies),
        trials=pol.trials,
        seed=point_seed(scenario.seed, f"aggregate/{preset}"),
        keep_requests=False,
    ).summary
    for n in scenario.n_qpus:
        k = model.k_parallel(n)
        built = build_preset_hub(preset, scenario.path, n, bsm_stations=k + 1, comm_qubits=n + k + 2)
        rs = point_seed(scenario.seed, f"policies/{preset}/N={n}")
        rng = np.random.Generator(np.random.PCG64(stream_seed_sequence(rs, "workload")))
        reqs = uniform_requests(rng, n_qpus=n, count=pol.trials)
        for policy in pol.policies:
            records, _, _ = run_policy(
                nodes=built.nodes,
                hub=built.hub,
                scheme="detection_in_hub",
                link_mode="sampled",
                policy=policy,
                requests=reqs,
                seed=rs,
                rounds=pol.rounds,
                kappa=pol.kappa,
                k_min=pol.k_min,
            )
            succ = np.array([r.success for r in records], dtype=float)
            att = np.array([r.attempts for r in records], dtype=float)
            a = agg[(agg["n_qpus"] == n) & (agg["strategy"] == policy)].iloc[0]
            s_p, s_a = succ.mean(), float(a.success_rate)
            se_s = math.sqrt(s_p * (1 - s_p) / succ.size + s_a * (1 - s_a) / a.trials)
            se_a = math.sqrt(att.var(ddof=1) / att.size + float(a.attempts_std) ** 2 / a.trials)
            # what the fitted hyperbola's error in p alone should change (closed form without
            # cache: 1 - (1 - p)^(k R)); compared with se_s it is the test's resolving power
            k_pol = 1 if policy == "naive" else k
            expected = float(
                analytic_success(built.p_budget, k=k_pol, rounds=pol.rounds)
                - analytic_success(model.p_eff(n), k=k_pol, rounds=pol.rounds)
            )
            rows.append(
                dict(
                    preset=preset,
                    n_qpus=n,
                    policy=policy,
                    p_physical=built.p_budget,
                    p_fitted=model.p_eff(n),
                    trials=succ.size,
                    success_physical=s_p,
                    success_se_physical=math.sqrt(s_p * (1 - s_p) / succ.size),
                    success_aggregate=s_a,
                    success_diff=s_p - s_a,
                    z_success=(s_p - s_a) / se_s if se_s > 0 else 0.0,
                    success_diff_expected=expected,
                    z_expected=expected / se_s if se_s > 0 else 0.0,
                    attempts_physical=att.mean(),
                    attempts_se_physical=float(att.std(ddof=1) / math.sqrt(att.size)),
                    attempts_aggregate=float(a.mean_attempts),
                    attempts_diff=att.mean() - float(a.mean_attempts),
                    z_attempts=(att.mean() - float(a.mean_attempts)) / se_a if se_a > 0 else 0.0,
                    cache_hits_physical=int(sum(r.cache_hit for r in records)),
                    cache_hits_aggregate=int(a.cache_hits),
                )
            )
    return rows


def evaluate_point(document: Mapping[str, Any], *, seed: int, source: str = "<sweep point>") -> pd.DataFrame:
    """The p(N) table of one scenario at one seed (pure: no file I/O)."""
    return measure_all(load_scenario(document, source=source, seed=seed))


def compute(scenario: PeffValidationScenario, progress: Progress) -> StudyOutput:
    """p(N) points, fits and the policy comparison as DataFrames, plus the report's findings."""
    from modenhub_net.studies import peff_validation_report as report

    with progress.stage("measure"):
        points = measure_all(scenario, progress)
    with progress.stage("policies"):
        fits = fit_all(points)
        policies = policy_comparison(scenario, fits, progress)
    tables = {"p_of_n": points, "fits": fits, "policies": policies}
    summary = fits[["preset", "curve", "form", "param0", "param1", "chi2_dof", "better"]]
    return StudyOutput(tables=tables, context=report.context(scenario, points, fits, policies),
                       summary=summary)


def _draw(scenario: PeffValidationScenario, output: StudyOutput, folder: Path) -> list[Path]:
    from modenhub_net.studies import peff_validation_plots as plots

    t = output.tables
    return plots.draw(t["p_of_n"], t["fits"], t["policies"], folder)


STUDY = Study(kind="peff_validation", load=load_scenario, compute=compute, plot=_draw,
              template="peff_validation")
#: the runner the CLI calls (:meth:`modenhub_net.studies.skeleton.Study.run_scenario`)
run_scenario = STUDY.run_scenario


