"""Runner of ``kind = "aggregate"`` scenarios (the paper's Fig. 3 and variations).

``modenhub run scenarios/paper_fig3.toml [--out DIR] [--seed S] [--trials T]`` writes, into
``DIR`` (default ``results/<name>``), atomically:

- ``summary.csv``: one row per (n_qpus, strategy), see
  :data:`modenhub_net.aggregate.SUMMARY_COLUMNS` (analytic columns empty where no closed
  form applies: the cached and the online-estimated strategies);
- ``requests.parquet``: one row per request (``study.write_requests = false`` to omit);
- ``fig3.png``: (a) success rate and (b) mean attempts per teleportation vs N;
- ``adaptive_savings.csv`` (if ``adaptive`` runs): attempts saved by the adaptive schedule
  against the paper's K(N) at equal or higher success, per N;
- ``report.md``: a short human summary; ``scenario.json``: the validated scenario;
- ``skipped.txt`` if an N was skipped (N = 1: no pair s != d).

:func:`evaluate_point` is the pure point function used by parameter sweeps.
"""

from __future__ import annotations

import copy
import io
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modenhub_net.aggregate import (
    AdaptiveSection,
    AdaptiveSettings,
    AggregateScenario,
    ModelSection,
    StudyResult,
    analytic_mean_attempts,
    analytic_mean_rounds,
    analytic_success,
    run_study,
    schedule_label,
    strategy_schedule,
)
from modenhub_net.config import validate_document
from modenhub_net.output import atomic_output_dir, atomic_write_text

__all__ = [
    "load_scenario",
    "evaluate_point",
    "adaptive_savings",
    "run_scenario",
]


def load_scenario(
    document: Mapping[str, Any],
    *,
    source: str,
    seed: int | None = None,
    trials: int | None = None,
) -> AggregateScenario:
    """Apply the CLI overrides to a parsed scenario and validate it.

    Parameters
    ----------
    document : mapping
        Parsed TOML.
    source : str
        Where it came from (used in error messages).
    seed, trials : int, optional
        Overrides of ``seed`` and ``study.trials``.

    Raises
    ------
    UserInputError
        Naming the file, field, value and allowed range of every bad entry.
    """
    doc = copy.deepcopy(dict(document))
    if seed is not None:
        doc["seed"] = seed
    if trials is not None:
        study = doc.get("study")
        if isinstance(study, dict):
            study["trials"] = trials
        elif study is None:
            doc["study"] = {"trials": trials}
    return validate_document(AggregateScenario, doc, source=source)


def _study(scenario: AggregateScenario, *, keep_requests: bool) -> StudyResult:
    study = scenario.study
    return run_study(
        scenario.model,
        n_qpus=study.n_qpus,
        strategies=study.strategies,
        trials=study.trials,
        seed=scenario.seed,
        adaptive=scenario.adaptive,
        confidence=study.confidence,
        keep_requests=keep_requests,
    )


def evaluate_point(
    document: Mapping[str, Any], *, seed: int, source: str = "<sweep point>"
) -> pd.DataFrame:
    """Summary rows of one scenario document at one seed: pure, no file I/O.

    Parameters
    ----------
    document : mapping
        An aggregate scenario document (as parsed from TOML); its ``seed`` is replaced.
    seed : int
        Root seed (>= 0).
    source : str, optional
        Name used in validation messages.

    Returns
    -------
    pandas.DataFrame
        Same columns as ``summary.csv``; deterministic in ``(document, seed)``.
    """
    scenario = load_scenario(document, source=source, seed=seed)
    return _study(scenario, keep_requests=False).summary


def adaptive_savings(
    model: ModelSection,
    n_qpus: Any,
    *,
    adaptive: AdaptiveSection | None = None,
    summary: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Attempts the adaptive schedule saves against the paper's fixed K(N), per N (closed forms).

    Both policies without cache (the cache is orthogonal to the schedule). With the default
    target the two succeed with exactly the same probability.

    Parameters
    ----------
    model : AggregateModel
    n_qpus : iterable of int
        N values (N = 1 skipped).
    adaptive : AdaptiveSettings, optional
    summary : pandas.DataFrame, optional
        If given, the Monte Carlo mean attempts of ``orchestrated_nocache`` and ``adaptive``
        are added as ``mc_*`` columns.

    Returns
    -------
    pandas.DataFrame
        Columns ``n_qpus, p_eff, k_parallel, paper_schedule, adaptive_schedule,
        peak_parallel, paper_success, adaptive_success, paper_attempts, adaptive_attempts,
        saved_attempts, saved_percent, paper_rounds, adaptive_rounds``.
    """
    settings = adaptive or AdaptiveSettings()
    rows = []
    for n in n_qpus:
        if n < 2:
            continue
        p = model.p_eff(n)
        paper = strategy_schedule(model, n, "orchestrated_nocache")
        plan = strategy_schedule(model, n, "adaptive", adaptive=settings)
        paper_att = analytic_mean_attempts(p, k=paper)
        plan_att = analytic_mean_attempts(p, k=plan)
        rows.append(
            {
                "n_qpus": n,
                "p_eff": p,
                "k_parallel": model.k_parallel(n),
                "paper_schedule": schedule_label(paper),
                "adaptive_schedule": schedule_label(plan),
                "peak_parallel": max(plan),
                "paper_success": analytic_success(p, k=paper),
                "adaptive_success": analytic_success(p, k=plan),
                "paper_attempts": paper_att,
                "adaptive_attempts": plan_att,
                "saved_attempts": paper_att - plan_att,
                "saved_percent": 100.0 * (paper_att - plan_att) / paper_att,
                "paper_rounds": analytic_mean_rounds(p, k=paper),
                "adaptive_rounds": analytic_mean_rounds(p, k=plan),
            }
        )
    frame = pd.DataFrame(rows)
    if summary is not None and not frame.empty:
        for strategy, col in (("orchestrated_nocache", "mc_paper_attempts"),
                              ("adaptive", "mc_adaptive_attempts")):
            sel = summary[summary["strategy"] == strategy].set_index("n_qpus")["mean_attempts"]
            frame[col] = frame["n_qpus"].map(sel)
    return frame


def _fmt(value: float, digits: int = 3) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _headline(summary: pd.DataFrame) -> list[str]:
    if summary.empty:
        return ["no point was simulated"]
    n_max = int(summary["n_qpus"].max())
    lines = [f"N = {n_max}:"]
    for row in summary[summary["n_qpus"] == n_max].itertuples():
        lines.append(
            f"  {row.strategy:<21} success {row.success_rate:.3f} "
            f"[{row.success_ci_low:.3f}, {row.success_ci_high:.3f}] "
            f"(closed form {_fmt(row.analytic_success_rate)}), "
            f"attempts {row.mean_attempts:.2f} [{row.attempts_ci_low:.2f}, "
            f"{row.attempts_ci_high:.2f}] (closed form {_fmt(row.analytic_mean_attempts, 2)}), "
            f"cache hits {row.cache_hit_rate:.3f}, schedule {row.schedule}"
        )
    return lines


def _savings_lines(savings: pd.DataFrame) -> list[str]:
    if savings.empty:
        return []
    last = savings.iloc[-1]
    positive = savings[savings["saved_attempts"] > 1e-12]
    return [
        "adaptive schedule vs the paper's K(N) (no cache, closed forms, equal success):",
        f"  saves {savings['saved_percent'].min():.2f}% .. {savings['saved_percent'].max():.2f}% "
        f"of the attempts (mean {savings['saved_percent'].mean():.2f}%), > 0 at "
        f"{len(positive)} of {len(savings)} N values, never negative",
        f"  N = {int(last.n_qpus)}: {last.paper_schedule} -> {last.adaptive_schedule}, "
        f"{last.paper_attempts:.3f} -> {last.adaptive_attempts:.3f} attempts "
        f"(-{last.saved_percent:.2f}%), success {last.paper_success:.4f} -> "
        f"{last.adaptive_success:.4f}, mean rounds {last.paper_rounds:.3f} -> "
        f"{last.adaptive_rounds:.3f}",
    ]


def _report(scenario: AggregateScenario, result: StudyResult, savings: pd.DataFrame,
            elapsed_s: float) -> str:
    study = scenario.study
    n_values = [n for n in study.n_qpus if n != 1]
    m = scenario.model
    lines = [
        f"# {scenario.name}: aggregate model (DESIGN.md §5)",
        "",
        f"{scenario.description}".strip(),
        "",
        f"- model: p0 = {m.p0}, beta = {m.beta}, kappa = {m.kappa}, R = {m.rounds} rounds, "
        f"k_min = {m.k_min}",
        f"- N = {min(n_values) if n_values else '-'} .. {max(n_values) if n_values else '-'} "
        f"({len(n_values)} values), {study.trials} requests per point, seed {scenario.seed}, "
        f"strategies {', '.join(study.strategies)}",
        f"- confidence intervals: {study.confidence:.0%} (Wilson for success; for attempts the "
        "effective-sample-size Wilson interval on [0, the plan's total], inside its bounds)",
        f"- simulation time {elapsed_s:.2f} s",
        "",
        "```",
        *_headline(result.summary),
        "```",
    ]
    if not savings.empty:
        lines += ["", "```", *_savings_lines(savings), "```",
                  "", "Per N: `adaptive_savings.csv`."]
    for n, reason in result.skipped:
        lines += ["", f"Skipped N = {n}: {reason}."]
    return "\n".join(lines) + "\n"


def run_scenario(
    document: Mapping[str, Any],
    *,
    source: str,
    out_dir: Path | None,
    seed: int | None,
    trials: int | None,
    quiet: bool,
) -> Path:
    """Validate, run and write one aggregate scenario (see the module docstring).

    Returns
    -------
    pathlib.Path
        The output folder. Nothing is written if validation fails (``UserInputError``).
    """
    scenario = load_scenario(document, source=source, seed=seed, trials=trials)
    out = Path(out_dir) if out_dir is not None else Path("results") / scenario.name
    start = time.perf_counter()
    result = _study(scenario, keep_requests=scenario.study.write_requests)
    elapsed = time.perf_counter() - start
    savings = pd.DataFrame()
    if "adaptive" in scenario.study.strategies:
        savings = adaptive_savings(
            scenario.model, scenario.study.n_qpus, adaptive=scenario.adaptive,
            summary=result.summary,
        )
    from modenhub_net.plotting.fig3 import save_fig3

    m = scenario.model
    title = (
        f"{scenario.name}: p_eff = {m.p0}/(1 + {m.beta} log2 N), K = max({m.k_min}, "
        f"ceil({m.kappa} log2 N)), R = {m.rounds}, {scenario.study.trials} requests per point, "
        f"{scenario.study.confidence:.0%} CI"
    )
    with atomic_output_dir(out) as staging:
        result.summary.to_csv(staging / "summary.csv", index=False, float_format="%.6g")
        if result.requests is not None:
            buffer = io.BytesIO()
            result.requests.to_parquet(buffer, index=False, compression="zstd")
            (staging / "requests.parquet").write_bytes(buffer.getvalue())
        if not result.summary.empty:
            save_fig3(result.summary, staging / "fig3.png", title=title)
        if not savings.empty:
            savings.to_csv(staging / "adaptive_savings.csv", index=False, float_format="%.6g")
        if result.skipped:
            atomic_write_text(
                staging / "skipped.txt",
                "".join(f"N = {n}: {reason}\n" for n, reason in result.skipped),
            )
        atomic_write_text(staging / "scenario.json", scenario.canonical_json() + "\n")
        atomic_write_text(staging / "report.md", _report(scenario, result, savings, elapsed))
    if not quiet:
        for n, reason in result.skipped:
            print(f"note: skipped N = {n}: {reason}")
        n_points = len(result.summary)
        print(f"{scenario.name}: {n_points} points x {scenario.study.trials} requests "
              f"in {elapsed:.2f} s (seed {scenario.seed})")
        for line in _headline(result.summary) + _savings_lines(savings):
            print(line)
    return out
