"""Runner of ``kind = "aggregate"`` scenarios (the paper's Fig. 3 and variations).

``modenhub run scenarios/paper_fig3.toml [--out DIR] [--seed S] [--trials T]`` writes, into
``DIR`` (default ``results/<name>``), atomically:

- ``summary.csv``: one row per (n_qpus, strategy), see
  :data:`modenhub_net.aggregate.SUMMARY_COLUMNS` (analytic columns empty where no closed
  form applies: the cached and the online-estimated strategies);
- ``requests.parquet``: one row per request (``study.write_requests = false`` to omit);
- ``fig3.pdf`` / ``fig3.png``: (a) success rate and (b) mean attempts per teleportation vs N
  (:mod:`modenhub_net.plotting.fig3`);
- ``adaptive_savings.csv`` (if ``adaptive`` runs): attempts saved by the adaptive schedule
  against the paper's K(N) at equal or higher success, per N;
- ``REPORT.md``: a short human summary (template ``reporting/templates/aggregate.md.j2``);
  ``scenario.json``: the validated scenario;
- ``skipped.txt`` if an N was skipped (N = 1: no pair s != d).

It runs on the shared skeleton (:mod:`modenhub_net.studies.skeleton`); the rows at the largest
N are printed on stdout, notes go to stderr.

:func:`evaluate_point` is the pure point function used by parameter sweeps.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
from modenhub_net.studies.skeleton import Progress, Study, StudyOutput, with_overrides

__all__ = [
    "load_scenario",
    "evaluate_point",
    "adaptive_savings",
    "compute",
    "headline",
    "STUDY",
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
    doc = with_overrides(document, seed=seed, trials=trials, trials_at=("study.trials",))
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


def headline(summary: pd.DataFrame) -> pd.DataFrame:
    """The rows at the largest N (the numbers printed on stdout and quoted in the report)."""
    if summary.empty:
        return summary
    cols = ["n_qpus", "strategy", "success_rate", "success_ci_low", "success_ci_high",
            "analytic_success_rate", "mean_attempts", "attempts_ci_low", "attempts_ci_high",
            "analytic_mean_attempts", "cache_hit_rate", "schedule"]
    return summary.loc[summary["n_qpus"] == summary["n_qpus"].max(), cols]


def compute(scenario: AggregateScenario, progress: Progress) -> StudyOutput:
    """Summary (and per-request) tables, the adaptive savings and the report's numbers."""
    with progress.stage("simulation"):
        result = _study(scenario, keep_requests=scenario.study.write_requests)
    for n, reason in result.skipped:
        progress.note(f"note: skipped N = {n}: {reason}")
    tables = {"summary": result.summary}
    if "adaptive" in scenario.study.strategies:
        tables["adaptive_savings"] = adaptive_savings(
            scenario.model, scenario.study.n_qpus, adaptive=scenario.adaptive, summary=result.summary)
    files: dict[str, bytes | str] = {}
    if result.requests is not None:
        buffer = io.BytesIO()
        result.requests.to_parquet(buffer, index=False, compression="zstd")
        files["requests.parquet"] = buffer.getvalue()
    if result.skipped:
        files["skipped.txt"] = "".join(f"N = {n}: {reason}\n" for n, reason in result.skipped)
    top = headline(result.summary)
    savings = tables.get("adaptive_savings", pd.DataFrame())
    context = dict(headline=top, savings=savings, skipped=list(result.skipped),
                   n_values=[n for n in scenario.study.n_qpus if n != 1],
                   last_saving=savings.iloc[-1] if len(savings) else None,
                   positive_savings=int((savings["saved_attempts"] > 1e-12).sum()) if len(savings) else 0)
    return StudyOutput(tables=tables, context=context, files=files, summary=top)


def _draw(scenario: AggregateScenario, output: StudyOutput, folder: Path) -> list[Path]:
    from modenhub_net.plotting.fig3 import save_fig3

    summary = output.tables["summary"]
    if summary.empty:
        return []
    m = scenario.model
    title = (
        rf"{scenario.name}: $p_\mathrm{{eff}} = {m.p0}/(1 + {m.beta}\log_2 N)$, "
        rf"$K = \max({m.k_min}, \lceil {m.kappa} \log_2 N \rceil)$, $R = {m.rounds}$, "
        f"{scenario.study.trials} requests per point, {scenario.study.confidence:.0%} CI"
    )
    return save_fig3(summary, folder, title=title)


STUDY = Study(kind="aggregate", load=load_scenario, compute=compute, plot=_draw, template="aggregate")
#: the runner the CLI calls (:meth:`modenhub_net.studies.skeleton.Study.run_scenario`)
run_scenario = STUDY.run_scenario
