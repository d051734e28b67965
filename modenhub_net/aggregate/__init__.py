"""The paper's aggregate model (ARCHITECTURE.md §5): closed forms, vectorised Monte Carlo, adaptive policy.

Public API
----------
Closed forms (:mod:`~modenhub_net.aggregate.analytic`):
    :func:`p_eff`, :func:`k_parallel`, :func:`analytic_success`,
    :func:`analytic_mean_attempts`, :func:`analytic_mean_rounds`, :func:`as_schedule`.
Adaptive policy (:mod:`~modenhub_net.aggregate.adaptive`):
    :func:`adaptive_schedule` (pure; reused by the hub orchestrator), and
    :func:`orchestrated_total`, the attempts of its default target (``K R``; compute the
    plan from it, not from the target ``1 - (1 - p)**(K R)``, which rounds to 1.0 at high p).
Configuration (:mod:`~modenhub_net.aggregate.config`):
    :class:`AggregateModel`, :class:`AdaptiveSettings` (and their scenario
    sections :class:`ModelSection`, :class:`AdaptiveSection`), :class:`StudySettings`,
    :class:`AggregateScenario`, :data:`STRATEGIES`.
Monte Carlo (:mod:`~modenhub_net.aggregate.model`):
    :func:`simulate_point`, :func:`run_study`, :func:`resolve_cache` (and
    :func:`resolve_cache_rows`), :func:`sample_schedule`, :class:`PointResult`,
    :class:`StudyResult`; ``adaptive_online`` in :mod:`~modenhub_net.aggregate.online`, the
    numbered random substreams in :mod:`~modenhub_net.aggregate.streams`.
Oracle (:mod:`~modenhub_net.aggregate.loop_reference`): :func:`loop_point`, :func:`loop_study`.

Input rules
-----------
Every argument is checked before any work: a bool is not a number, a float is not a count
(``trials=2.0`` is refused), NaN and infinities are refused, and each parameter has a
documented range (``kappa`` in (0, 1000], N in [1, 10**6] in a study, [1, 2**53] in the closed
forms). A study's size, points x trials, is bounded up front
(:data:`~modenhub_net.aggregate.config.MAX_STUDY_REQUESTS`, 2e8;
:data:`~modenhub_net.aggregate.config.MAX_STUDY_REQUESTS_KEPT`, 5e7, with the per-request
table), and an adaptive plan that cannot be made is refused naming the user's own field
(:func:`~modenhub_net.aggregate.model.check_study_arguments`). Errors are
:class:`~modenhub_net.errors.UserInputError` naming the parameter, the value and the range.

Examples
--------
>>> from modenhub_net.aggregate import AggregateModel, run_study
>>> res = run_study(AggregateModel(), n_qpus=[128], strategies=["naive"], trials=2000, seed=1)
>>> row = res.summary.iloc[0]
>>> bool(abs(row.success_rate - row.analytic_success_rate) < 4 * (0.27 * 0.73 / 2000) ** 0.5)
True
"""

from modenhub_net.aggregate.adaptive import adaptive_schedule, orchestrated_total, schedule_label
from modenhub_net.aggregate.analytic import (
    analytic_mean_attempts,
    analytic_mean_rounds,
    analytic_success,
    as_schedule,
    attempts_for_target,
    k_parallel,
    p_eff,
)
from modenhub_net.aggregate.config import (
    STRATEGIES,
    AdaptiveSection,
    AdaptiveSettings,
    AggregateModel,
    AggregateScenario,
    ModelSection,
    StudySettings,
)
from modenhub_net.aggregate.loop_reference import loop_point, loop_study
from modenhub_net.aggregate.model import (
    REQUEST_COLUMNS,
    SUMMARY_COLUMNS,
    PointResult,
    StudyResult,
    check_study_arguments,
    resolve_cache,
    resolve_cache_rows,
    run_study,
    sample_schedule,
    simulate_point,
    strategy_schedule,
)

__all__ = [
    "STRATEGIES",
    "SUMMARY_COLUMNS",
    "REQUEST_COLUMNS",
    "AggregateModel",
    "AdaptiveSettings",
    "ModelSection",
    "AdaptiveSection",
    "StudySettings",
    "AggregateScenario",
    "PointResult",
    "StudyResult",
    "p_eff",
    "k_parallel",
    "as_schedule",
    "attempts_for_target",
    "analytic_success",
    "analytic_mean_attempts",
    "analytic_mean_rounds",
    "adaptive_schedule",
    "orchestrated_total",
    "check_study_arguments",
    "schedule_label",
    "sample_schedule",
    "resolve_cache",
    "resolve_cache_rows",
    "strategy_schedule",
    "simulate_point",
    "run_study",
    "loop_point",
    "loop_study",
]
