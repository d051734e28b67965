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

import copy
import math
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from hardware_models.presets import available_presets
from modenhub_net.aggregate import AggregateModel, analytic_success, k_parallel, run_study
from modenhub_net.config import StrictModel, validate_document
from modenhub_net.network.builder import run_policy
from modenhub_net.output import atomic_output_dir, atomic_write_text
from modenhub_net.simulation import stream_seed_sequence
from modenhub_net.stats import wilson_interval
from modenhub_net.studies.peff_fit import FORMS, fit_form
from modenhub_net.studies.preset_path import (
    PathModel,
    build_preset_hub,
    duty_factor,
    multiplex_bins,
    pair_budget,
)
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
        names = available_presets()
        bad = [v for v in value if v not in names]
        if bad:
            raise ValueError(f"unknown preset(s) {bad} (available: {', '.join(names)})")
        if len(set(value)) != len(value):
            raise ValueError("presets must be distinct")
        return value

    @field_validator("n_qpus")
    @classmethod
    def _n(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(n < 2 or n > 4096 for n in value) or len(set(value)) != len(value):
            raise ValueError("N values must be distinct integers in [2, 4096]")
        return tuple(sorted(value))


def load_scenario(
    document: Mapping[str, Any], *, source: str, seed: int | None = None, trials: int | None = None
) -> PeffValidationScenario:
    """Apply CLI overrides and validate (``UserInputError`` before anything runs).

    ``trials`` sets ``measurement.target_heralds`` and ``policies.trials``.
    """
    doc = copy.deepcopy(dict(document))
    if seed is not None:
        doc["seed"] = seed
    if trials is not None:
        for section, key in (("measurement", "target_heralds"), ("policies", "trials")):
            part = doc.setdefault(section, {})
            if isinstance(part, dict):
                part[key] = trials
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


def measure_all(scenario: PeffValidationScenario) -> pd.DataFrame:
    """Every (preset, N) point; ``workers > 1`` uses a process pool (same numbers)."""
    jobs = [
        (p, n, scenario.path, scenario.measurement, scenario.seed, scenario.confidence)
        for p in scenario.presets
        for n in scenario.n_qpus
    ]
    if scenario.workers > 1:
        with ProcessPoolExecutor(max_workers=scenario.workers) as pool:
            rows = list(pool.map(_measure_job, jobs))
    else:
        rows = [_measure_job(j) for j in jobs]
    return pd.DataFrame(rows)


def fit_all(points: pd.DataFrame) -> pd.DataFrame:
    """Fits of both forms, per preset, to two curves of p(N).

    ``per_attempt``: the measured per-attempt p(N) of the preset's own heralding scheme
    (presets with fewer than three measured points are fitted to the closed-form budget
    instead, ``data = "budget"``, 1 % relative weights; no statistical meaning);
    ``per_window``: the same times duty(N) (time multiplexing).

    Besides the fit itself, each row carries the same form fitted to the noise-free curve with
    the same weights (``param*_on_budget``) and that fit's largest relative deviation from the
    curve (``max_abs_rel_dev_on_budget``): the form's intrinsic shape error, independent of
    the measurement noise.
    """
    rows = []
    for preset, g in points.groupby("preset", sort=False):
        g = g.sort_values("n_qpus")
        n_all = g["n_qpus"].to_numpy()
        measured = g[g["attempts"] > 0]
        if len(measured) >= 3:
            n, p, s, data = (
                measured["n_qpus"].to_numpy(),
                measured["p_measured"].to_numpy(),
                measured["p_se"].to_numpy(),
                "measured",
            )
            duty = measured["duty"].to_numpy()
        else:
            n, p, data = n_all, g["p_budget"].to_numpy(), "budget"
            s, duty = 0.01 * p, g["duty"].to_numpy()
        curves = (
            ("per_attempt", data, n, p, s, g["p_budget"].to_numpy()),
            ("per_window", data, n, p * duty, s * duty, (g["p_budget"] * g["duty"]).to_numpy()),
        )
        for curve, kind, x, y, sig, exact in curves:
            sel = np.isin(n_all, x)
            for form in FORMS:
                fit = fit_form(x, y, sig, form=form)
                # the same form fitted to the noise-free curve with the same weights: what the
                # fit converges to with infinite statistics (shows the form's shape error)
                ideal = fit_form(x, exact[sel], sig, form=form)
                rel = fit.predict(n_all) / exact - 1.0
                rel_ideal = ideal.predict(n_all) / exact - 1.0
                rows.append(
                    dict(
                        preset=preset,
                        curve=curve,
                        form=form,
                        data=kind,
                        points=len(x),
                        param0=fit.params[0],
                        param0_err=fit.errors[0],
                        param1_name=fit.names[1],
                        param1=fit.params[1],
                        param1_err=fit.errors[1],
                        chi2=fit.chi2,
                        dof=fit.dof,
                        chi2_dof=fit.chi2_dof,
                        p_value=fit.p_value,
                        param0_on_budget=ideal.params[0],
                        param1_on_budget=ideal.params[1],
                        aic=fit.aic,
                        at_bound=fit.at_bound,
                        max_abs_rel_dev_vs_budget=float(np.max(np.abs(rel))),
                        max_abs_rel_dev_on_budget=float(np.max(np.abs(rel_ideal))),
                        residuals=" ".join(f"{r:+.2f}" for r in fit.residuals),
                    )
                )
    fits = pd.DataFrame(rows)
    best = fits.loc[fits.groupby(["preset", "curve"])["chi2"].idxmin(), ["preset", "curve", "form"]]
    fits["better"] = False
    for _, b in best.iterrows():
        fits.loc[
            (fits["preset"] == b.preset) & (fits["curve"] == b.curve) & (fits["form"] == b.form), "better"
        ] = True
    return fits


def policy_comparison(scenario: PeffValidationScenario, fits: pd.DataFrame) -> pd.DataFrame:
    """Naive / orchestrated on the physical hub vs the aggregate model with the fitted p0, beta."""
    pol = scenario.policies
    rows = []
    for preset in scenario.presets:
        f = fits[
            (fits["preset"] == preset) & (fits["curve"] == "per_attempt") & (fits["form"] == "hyperbolic")
        ]
        if f.empty:
            continue
        f = f.iloc[0]
        model = AggregateModel(
            p0=min(1.0, max(float(f.param0), 1e-12)),
            beta=max(0.0, float(f.param1)),
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
                        success_aggregate=s_a,
                        success_diff=s_p - s_a,
                        z_success=(s_p - s_a) / se_s if se_s > 0 else 0.0,
                        success_diff_expected=expected,
                        z_expected=expected / se_s if se_s > 0 else 0.0,
                        attempts_physical=att.mean(),
                        attempts_aggregate=float(a.mean_attempts),
                        attempts_diff=att.mean() - float(a.mean_attempts),
                        z_attempts=(att.mean() - float(a.mean_attempts)) / se_a if se_a > 0 else 0.0,
                        cache_hits_physical=int(sum(r.cache_hit for r in records)),
                        cache_hits_aggregate=int(a.cache_hits),
                    )
                )
    return pd.DataFrame(rows)


def evaluate_point(document: Mapping[str, Any], *, seed: int, source: str = "<sweep point>") -> pd.DataFrame:
    """The p(N) table of one scenario at one seed (pure: no file I/O)."""
    return measure_all(load_scenario(document, source=source, seed=seed))


# -- figures -----------------------------------------------------------------------------------
def _plots(points: pd.DataFrame, fits: pd.DataFrame, policies: pd.DataFrame, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    presets = list(dict.fromkeys(points["preset"]))
    ncol = min(3, len(presets))
    nrow = math.ceil(len(presets) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.7 * nrow), squeeze=False)
    grid = np.geomspace(points["n_qpus"].min(), points["n_qpus"].max(), 200)
    for ax, preset in zip(axes.flat, presets, strict=False):
        g = points[points["preset"] == preset].sort_values("n_qpus")
        ax.plot(
            g["n_qpus"], g["p_budget"], "k-", lw=1.2,
            label=f"link budget ({g['heralding'].iloc[0].replace('_', ' ')})",
        )
        m = g[g["attempts"] > 0]
        if len(m):
            ax.errorbar(
                m["n_qpus"],
                m["p_measured"],
                yerr=[m["p_measured"] - m["p_ci_low"], m["p_ci_high"] - m["p_measured"]],
                fmt="o",
                ms=4,
                capsize=2,
                color="C0",
                label="detailed sim (95% Wilson)",
            )
        for form, style in (("hyperbolic", "C3--"), ("exponential", "C2-.")):
            f = fits[(fits.preset == preset) & (fits.curve == "per_attempt") & (fits.form == form)]
            if len(f):
                f = f.iloc[0]
                y = FORMS[form][0](grid, f.param0, f.param1)
                ax.plot(
                    grid,
                    y,
                    style,
                    lw=1,
                    label=f"{form} fit ({f.param1_name}={f.param1:.3g}, chi2/dof={f.chi2_dof:.2g})",
                )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(preset, fontsize=9)
        ax.set_xlabel("N (QPUs)")
        ax.set_ylabel("per-attempt success p(N)")
        ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(presets) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(out / "p_of_n.png", dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, curve in zip(axes, ("per_attempt", "per_window"), strict=True):
        for i, preset in enumerate(presets):
            g = points[points["preset"] == preset].sort_values("n_qpus")
            for form, marker in (("hyperbolic", "o"), ("exponential", "s")):
                f = fits[(fits.preset == preset) & (fits.curve == curve) & (fits.form == form)]
                if f.empty:
                    continue
                f = f.iloc[0]
                exact = g["p_budget"] * (g["duty"] if curve == "per_window" else 1.0)
                rel = FORMS[form][0](g["n_qpus"].to_numpy(), f.param0, f.param1) / exact - 1
                ax.plot(
                    g["n_qpus"],
                    100 * rel,
                    marker=marker,
                    ls="-" if form == "hyperbolic" else ":",
                    color=f"C{i}",
                    ms=3,
                    label=f"{preset} {form}",
                )
        ax.axhline(0, color="k", lw=0.6)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("N (QPUs)")
        ax.set_ylabel("fit / link budget - 1 (%)")
        ax.set_title(f"fitted form vs physical curve ({curve.replace('_', ' ')})", fontsize=9)
    axes[0].legend(fontsize=5.5, ncol=2)
    fig.tight_layout()
    fig.savefig(out / "residuals.png", dpi=120)
    plt.close(fig)

    if policies.empty:
        return
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for i, preset in enumerate(dict.fromkeys(policies["preset"])):
        for policy, ls in (("naive", "-"), ("orchestrated", "--")):
            g = policies[(policies.preset == preset) & (policies.policy == policy)].sort_values("n_qpus")
            if g.empty:
                continue
            for ax, col in zip(axes, ("success", "attempts"), strict=True):
                ax.plot(
                    g["n_qpus"],
                    g[f"{col}_physical"],
                    ls,
                    marker="o",
                    ms=3,
                    color=f"C{i}",
                    label=f"{preset} {policy} (physical)",
                )
                ax.plot(g["n_qpus"], g[f"{col}_aggregate"], ls, marker="x", ms=5, color=f"C{i}", alpha=0.5)
    for ax, label in zip(axes, ("success rate", "mean attempts / request"), strict=True):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("N (QPUs)")
        ax.set_ylabel(label)
    axes[0].set_title("physical hub (o) vs fitted aggregate model (x)", fontsize=9)
    axes[0].set_yscale("log")
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=5.5)
    fig.tight_layout()
    fig.savefig(out / "policies.png", dpi=120)
    plt.close(fig)


# -- report ------------------------------------------------------------------------------------
def _fmt(x: float, e: float) -> str:
    return f"{x:.4g} ± {e:.2g}"


def _report(
    s: PeffValidationScenario,
    points: pd.DataFrame,
    fits: pd.DataFrame,
    policies: pd.DataFrame,
    timings: dict[str, float],
) -> str:
    path = s.path
    lines = [
        f"# {s.name}: the paper's p_eff(N) against the physical link budget",
        "",
        s.description.strip(),
        "",
        "## Setup",
        "",
        f"- Presets {', '.join(s.presets)} (`hardware_models/preset_data/*.toml`, every number cited "
        f"there); N = {', '.join(map(str, s.n_qpus))}; seed {s.seed}.",
        "- Link: detection in the hub with each preset's own heralding scheme (`heralding` column: "
        "single click, Cabrillo et al., PRA 59, 1025 (1999), for the NV and transduced "
        "superconducting presets; double click, Barrett & Kok, PRA 71, 060310 (2005), otherwise), "
        "the preset's emission efficiency and fidelity, transduction, HOM visibility, detector "
        "efficiency, dark counts and dead time, and emitter timing: the hub network is built from "
        "the `hardware_models` components and its closed form is "
        "`hardware_models.link_budget.pair_link_budget` of the same devices (`p_budget`, "
        "`fidelity_budget`, `attempt_period_ns`, `rate_budget_hz`).",
        f"- Path growing with N (`modenhub_net/studies/preset_path.py`, assumptions): fibre "
        f"`L(N) = {path.base_fibre_km} km + ceil(N/{path.qpus_per_rack}) x {path.rack_pitch_km} km` "
        f"(preset attenuation and connector loss); a multistage switch with ceil(log2 ports) stages, "
        "ports = N plus two per lane of simultaneous pairs (`stages` column) "
        f"(presets with a lossy crossbar get {path.stage_loss_db} dB per 2x2 element + "
        f"{path.fabric_fixed_loss_db} dB coupling, Seok et al., Optica 3, 64 (2016); `future` keeps "
        "its own multistage fabric; `ideal` stays lossless); a bank of "
        f"{path.bank_size} BSM stations shared by the N/2 busy pairs each wanting K(N) = "
        "max(2, ceil(0.9 log2 N)) modes: duty(N) = min(1, B / (K N/2)) of a pair's modes per window, "
        "per-window success p(N) duty(N) (analytic; the event-driven hub serves one request at a time).",
        f"- Measurement: detailed link mode (each attempt's photons travel through the emitter, "
        "fibre, switch and BSM-station components, each loss where it happens), naive policy with "
        f"{s.measurement.rounds} rounds; "
        f"about {s.measurement.target_heralds} heralds per point, at most ~{s.measurement.max_attempts} "
        f"attempts; points expecting fewer than {s.measurement.min_heralds:g} heralds are not "
        "measured. `p_hat = heralds / attempts`, 95% Wilson interval, SE sqrt(p(1-p)/n).",
        "- Fits: weighted least squares (scipy `curve_fit`, sigma = SE, absolute_sigma) of "
        "`p0/(1+beta log2 N)` (paper) and `p0 10^(-b log2 N/10)` (b dB per doubling; what loss per "
        "switch stage predicts: b = 2 x stage loss for two photons).",
        f"- Policies: naive and orchestrated (R = {s.policies.rounds}, kappa = {s.policies.kappa}, "
        f"k_min = {s.policies.k_min}, cache capacity 1), {s.policies.trials} uniform requests per (N, "
        "policy), physical hub in sampled link mode with enough BSM stations and communication qubits "
        "that only p(N) differs from the aggregate model, vs the aggregate model with the fitted "
        "hyperbolic (p0, beta).",
        f"- Wall time: measurement {timings['measure']:.0f} s ({s.workers} worker(s)), "
        f"policies {timings['policies']:.0f} s, total {timings['total']:.0f} s.",
        "",
        "## What changed since version 0.3.0, and why",
        "",
        "- The hub is built from the `hardware_models` device components and runs each preset's own "
        "heralding: single click for the NV and transduced superconducting presets, so their p(N) is "
        "now simulated and fitted as the real devices' (0.3.0 simulated double click for every preset "
        "and gave the single-click curve as a closed form only, `p_preset_scheme`; that column and the "
        "`preset_scheme` fit curve are gone: they are `p_budget` and `per_attempt` now).",
        "- The closed form (`p_budget`) now includes the emission fidelity, dark counts, detector dead "
        "time and emitter timing of each preset (`fidelity_budget`, `attempt_period_ns`, "
        "`rate_budget_hz`); the trapped-ion preset comes from one set-up (Krutyanskiy et al., PRL 130, "
        "213601 (2023)).",
        "- The switch has one port per QPU plus two per lane of simultaneous pairs (the hub network's "
        "switch), so a path crosses ceil(log2(N + 2 lanes)) stages (0.3.0: ceil(log2 N)); the slope "
        "per doubling of N is unchanged (one stage), p0 is one stage lower.",
        "- The detailed mode moves each photon through the component instances (about 3x slower per "
        "attempt than 0.3.0's channels), so the attempt cap per point is lower "
        f"({s.measurement.max_attempts}) and the measured points have wider intervals.",
        "",
        "## p(N): link budget vs detailed simulation",
        "",
        "![p(N)](p_of_n.png)",
        "",
        "```",
        points[
            [
                "preset",
                "n_qpus",
                "stages",
                "fibre_km",
                "p_budget",
                "p_measured",
                "p_ci_low",
                "p_ci_high",
                "heralds",
                "attempts",
                "z_vs_budget",
                "heralding",
                "fidelity_budget",
                "attempt_period_ns",
                "duty",
            ]
        ].to_string(index=False, float_format=lambda x: f"{x:.4g}"),
        "```",
        "",
    ]
    z = points["z_vs_budget"].abs()
    lines.append(
        f"Measured vs budget: max |z| = {z.max():.2f} over {int(z.notna().sum())} measured points "
        "(the detailed simulation realises the closed form)."
        if z.notna().any()
        else "No point was measurable."
    )
    unmeasured = points[points["attempts"] == 0]
    if len(unmeasured):
        lines += [
            "",
            "Not measured (expected heralds below the threshold at the attempt cap): "
            + ", ".join(f"{r.preset} N={r.n_qpus} (p={r.p_budget:.2g})" for r in unmeasured.itertuples())
            + ". For these presets the fits use the closed-form budget (`data = budget`).",
        ]
    lines += [
        "",
        "## Fits",
        "",
        "```",
        fits[
            [
                "preset",
                "curve",
                "form",
                "data",
                "param0",
                "param0_err",
                "param1_name",
                "param1",
                "param1_err",
                "param1_on_budget",
                "chi2",
                "dof",
                "chi2_dof",
                "p_value",
                "at_bound",
                "max_abs_rel_dev_vs_budget",
                "max_abs_rel_dev_on_budget",
                "better",
            ]
        ].to_string(index=False, float_format=lambda x: f"{x:.4g}"),
        "```",
        "",
        "![residuals](residuals.png)",
        "",
        "Per-attempt fits of the paper's form (p0, beta) and which form fits better:",
        "",
    ]
    for preset in s.presets:
        f = fits[(fits.preset == preset) & (fits.curve == "per_attempt")]
        h = f[f.form == "hyperbolic"].iloc[0]
        e = f[f.form == "exponential"].iloc[0]
        better = f[f.better].iloc[0].form
        lines.append(
            f"- **{preset}** ({h.data}): p0 = {_fmt(h.param0, h.param0_err)}, beta = "
            f"{_fmt(h.param1, h.param1_err)}, chi2/dof = {h.chi2_dof:.2f}; exponential: p0 = "
            f"{_fmt(e.param0, e.param0_err)}, b = {_fmt(e.param1, e.param1_err)} dB/doubling, "
            f"(fitted to the noise-free budget with the same weights: beta = {h.param1_on_budget:.3g}, "
            f"b = {e.param1_on_budget:.3g}), "
            f"chi2/dof = {e.chi2_dof:.2f}. Better: **{better}**. Largest deviation of the fit from the "
            f"budget: hyperbolic {100 * h.max_abs_rel_dev_vs_budget:.1f} %, exponential "
            f"{100 * e.max_abs_rel_dev_vs_budget:.1f} %; of the same forms fitted to the noise-free "
            f"budget (shape error): {100 * h.max_abs_rel_dev_on_budget:.1f} % and "
            f"{100 * e.max_abs_rel_dev_on_budget:.1f} %."
        )
    lines += ["", "Per-window (time-multiplexed) curve:", ""]
    for preset in s.presets:
        f = fits[(fits.preset == preset) & (fits.curve == "per_window")]
        h = f[f.form == "hyperbolic"].iloc[0]
        e = f[f.form == "exponential"].iloc[0]
        lines.append(
            f"- {preset}: hyperbolic chi2/dof = {h.chi2_dof:.2f} (max dev "
            f"{100 * h.max_abs_rel_dev_vs_budget:.0f} %), "
            f"exponential chi2/dof = {e.chi2_dof:.2f} (max dev {100 * e.max_abs_rel_dev_vs_budget:.0f} %)."
        )
    if not policies.empty:
        lines += [
            "",
            "## Policies: physical hub vs fitted aggregate model",
            "",
            "![policies](policies.png)",
            "",
            "```",
            policies[
                [
                    "preset",
                    "n_qpus",
                    "policy",
                    "p_physical",
                    "p_fitted",
                    "success_physical",
                    "success_aggregate",
                    "success_diff",
                    "z_success",
                    "success_diff_expected",
                    "z_expected",
                    "attempts_physical",
                    "attempts_aggregate",
                    "attempts_diff",
                    "z_attempts",
                ]
            ].to_string(index=False, float_format=lambda x: f"{x:.4g}"),
            "```",
            "",
        ]
        for (preset, policy), g in policies.groupby(["preset", "policy"], sort=False):
            lines.append(
                f"- {preset} / {policy}: success physical - aggregate in "
                f"[{g.success_diff.min():+.4f}, {g.success_diff.max():+.4f}] (max |z| "
                f"{g.z_success.abs().max():.1f}); "
                f"attempts in [{g.attempts_diff.min():+.3f}, {g.attempts_diff.max():+.3f}] "
                f"(max |z| {g.z_attempts.abs().max():.1f})."
            )
    lines += [
        "",
        "## Where the model disagrees with expectations",
        "",
        *_findings(points, fits, policies, s.path),
        "",
        "Files: p_of_n.csv, fits.csv, policies.csv, p_of_n.png, residuals.png, policies.png, scenario.json.",
        "",
        f"Regenerate: `modenhub run scenarios/{s.name}.toml`.",
    ]
    return "\n".join(lines) + "\n"


#: published per-attempt success of a preset's platform with the double-click scheme, for the
#: plausibility check in the report: preset -> (p, what and where)
_LITERATURE_DOUBLE_CLICK = {
    "near_term_nv": (
        6.4e-9,
        "Hensen et al., Nature 526, 682 (2015) (Barrett-Kok heralding of two NV centres 1.3 km apart, "
        "637 nm photons)",
    ),
}

#: the paper's aggregate-model values (p_eff(N) = p0 / (1 + beta log2 N), p0 = beta = 0.35)
_PAPER_P0, _PAPER_BETA = 0.35, 0.35


def _findings(
    points: pd.DataFrame, fits: pd.DataFrame, policies: pd.DataFrame, path: PathModel
) -> list[str]:
    out = []
    pa = fits[fits.curve == "per_attempt"]
    for preset, f in pa.groupby("preset", sort=False):
        h = f[f.form == "hyperbolic"].iloc[0]
        e = f[f.form == "exponential"].iloc[0]
        if abs(h.param1_on_budget) < 0.02 and abs(e.param1_on_budget) < 0.1:
            out.append(
                f"- {preset}: p(N) is flat (lossless path): beta = 0 on the budget, both forms are exact; "
                f"the measured fit's beta = {h.param1:.3g} ± {h.param1_err:.2g} is noise."
            )
            continue
        g = points[(points.preset == preset) & (points.attempts > 0)]
        if h.data == "measured":
            verdict = (
                f"is {'not rejected' if h.p_value > 0.01 else 'rejected'} by the chi-square test on the "
                f"measured points (p = {h.p_value:.2g}; relative point errors up to "
                f"{100 * (g.p_se / g.p_measured).max():.0f} %)"
            )
        else:
            verdict = "cannot be tested statistically (no point is measurable in the detailed simulation)"
        shape = (
            f"fitted to the noise-free budget, the best hyperbola still misses it by up to "
            f"{100 * h.max_abs_rel_dev_on_budget:.1f} % (beta = {h.param1_on_budget:.3g}), the "
            f"dB-per-stage form by {100 * e.max_abs_rel_dev_on_budget:.1f} % "
            f"(b = {e.param1_on_budget:.3g} dB per doubling)"
        )
        power = (
            " The test lacks the power to see the shape error at this size: 'not rejected' is not 'holds'."
            if h.data == "measured" and h.p_value > 0.01 and h.max_abs_rel_dev_on_budget > 0.03
            else ""
        )
        out.append(
            f"- {preset}: the paper's hyperbolic form {verdict}; {shape}. The physics is exponential in the "
            "stage count (loss in dB adds per stage); the hyperbola is its first-order expansion in "
            "b log2 N, adequate only while the total switch loss stays around a dB." + power
        )
    pos = pa[(pa.form == "hyperbolic") & (pa.param1_on_budget > 0.02)]
    if len(pos):
        out.append(
            f"- Against the paper's p0 = {_PAPER_P0}, beta = {_PAPER_BETA}: the lossy presets have "
            f"per-attempt p0 from {pos.param0.min():.2g} to {pos.param0.max():.2g} (the paper's p0 is "
            f"{_PAPER_P0 / pos.param0.max():.0f}x to {_PAPER_P0 / pos.param0.min():.2g}x higher; only the "
            "lossless `ideal` preset exceeds it) and beta from "
            f"{pos.param1_on_budget.min():.2f} to {pos.param1_on_budget.max():.2f} on the noise-free budget. "
            "The paper's p0 = 0.35 describes a near-lossless link (eta ~ 0.84 per photon with double click), "
            "not any preset here."
        )
    out.append(
        "- Because the hyperbola is the wrong shape, its beta depends on how the points are weighted and on "
        "the N range: the same budget gives different beta for different statistical weights "
        "(`param1` vs `param1_on_budget` in fits.csv); b of the dB form is the physical 2 x stage loss plus "
        "the slow fibre growth, whatever the weights."
    )
    pw = fits[(fits.curve == "per_window")]
    worst = pw[pw.form == "hyperbolic"].max_abs_rel_dev_vs_budget.max() if len(pw) else float("nan")
    out.append(
        f"- Once the BSM bank saturates (K N/2 > B), the per-window success falls like 1/(N log N) on top of "
        f"the switch loss; neither two-parameter form follows that knee (hyperbolic fits deviate by up to "
        f"{100 * worst:.0f} %, several end on a parameter bound: `at_bound` in fits.csv). The paper's form "
        "describes per-attempt loss, not resource contention."
    )
    single = points[points["heralding"] == "single_click"]
    if len(single):
        names = ", ".join(dict.fromkeys(single.preset))
        out.append(
            f"- Single-click presets ({names}): the hub now runs their own scheme (the previous version "
            "simulated double click for every preset and listed single click as a closed form only). "
            "Single click is linear in the transmission, so its b is about half the double-click "
            "2 x stage loss; its dark-count floor flattens p(N) slightly; its fidelity "
            "(`fidelity_budget`) is set by the bright-state population alpha, not by the loss."
        )
    for preset, (p_lit, ref) in _LITERATURE_DOUBLE_CLICK.items():
        g = points[points.preset == preset].sort_values("n_qpus")
        if g.empty:
            continue
        n0 = int(g.n_qpus.iloc[0])
        built = build_preset_hub(preset, path, n0, bsm_stations=1, comm_qubits=2)
        p2 = pair_budget(built.nodes[0], built.nodes[1], built.hub, n0, heralding="double_click").p_success
        own = float(g.p_budget.iloc[0])
        out.append(
            f"- Plausibility of {preset}: the same devices with double click would give p(N={n0}) = "
            f"{p2:.2g} per attempt (closed form), vs {p_lit:.2g} reported by {ref}: {p2 / p_lit:.1f}x "
            "higher, as expected for a rack-scale hub (metres of fibre, no km-scale 637 nm fibre loss); "
            f"its own single-click scheme gives {own:.2g} ({own / p2:.0f}x the double-click p), the same "
            "order as the ~10^3 rate gain Humphreys et al., Nature 558, 268 (2018) report for single-click "
            "over two-photon heralding."
        )
    if not policies.empty:
        bad = policies[(policies.z_success.abs() > 4) | (policies.z_attempts.abs() > 4)]
        if len(bad):
            out.append(
                "- Physical and fitted-aggregate policies differ by more than 4 sigma at: "
                + ", ".join(f"{r.preset}/{r.policy}/N={r.n_qpus}" for r in bad.itertuples())
                + " (the fitted hyperbola misses p(N) there)."
            )
        else:
            lossy = policies[policies.p_physical < 0.1]
            span = (
                f"{100 * lossy.success_physical.min():.1f}-{100 * lossy.success_physical.max():.0f} %"
                if len(lossy)
                else "n/a"
            )
            out.append(
                f"- Physical and fitted-aggregate policies agree within 4 sigma everywhere (max |z| "
                f"{max(policies.z_success.abs().max(), policies.z_attempts.abs().max()):.1f}). This is weak "
                "evidence for the form: the fitted hyperbola's error in p alone should move the success by "
                f"at most {policies.success_diff_expected.abs().max():.2g} (|z_expected| <= "
                f"{policies.z_expected.abs().max():.1f}, closed form without cache) at "
                f"{int(policies.trials.max())} requests, because within the round budget the lossy presets "
                f"(p < 0.1) succeed in only {span} of requests. At these loss levels the fitted p_eff is an "
                "adequate summary for the paper's policies; the comparison could not detect its misfit."
            )
    return out


def run_scenario(
    document: Mapping[str, Any],
    *,
    source: str,
    out_dir: Path | None,
    seed: int | None,
    trials: int | None,
    quiet: bool,
) -> Path:
    """Validate, run and write the study (see the module docstring)."""
    scenario = load_scenario(document, source=source, seed=seed, trials=trials)
    out = Path(out_dir) if out_dir is not None else Path("results") / scenario.name
    t0 = time.perf_counter()
    points = measure_all(scenario)
    t1 = time.perf_counter()
    fits = fit_all(points)
    policies = policy_comparison(scenario, fits)
    t2 = time.perf_counter()
    timings = dict(measure=t1 - t0, policies=t2 - t1, total=t2 - t0)
    with atomic_output_dir(out) as staging:
        points.to_csv(staging / "p_of_n.csv", index=False, float_format="%.6g")
        fits.to_csv(staging / "fits.csv", index=False, float_format="%.6g")
        policies.to_csv(staging / "policies.csv", index=False, float_format="%.6g")
        _plots(points, fits, policies, staging)
        atomic_write_text(staging / "scenario.json", scenario.canonical_json() + "\n")
        atomic_write_text(staging / "REPORT.md", _report(scenario, points, fits, policies, timings))
    if not quiet:
        print(
            fits[["preset", "curve", "form", "param0", "param1", "chi2_dof", "better"]].to_string(
                index=False, float_format=lambda x: f"{x:.4g}"
            )
        )
        print(f"{scenario.name}: {timings['total']:.1f} s -> {out}")
    return out
