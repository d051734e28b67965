"""Validated, frozen configuration of the aggregate model and of an aggregate scenario.

A scenario TOML (``kind = "aggregate"``) has the sections ``[model]`` (:class:`AggregateModel`),
``[study]`` (:class:`StudySettings`) and optionally ``[adaptive]`` (:class:`AdaptiveSettings`);
see ``scenarios/paper_fig3.toml``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from modenhub_net.aggregate.adaptive import MAX_TOTAL_ATTEMPTS
from modenhub_net.aggregate.analytic import (
    MAX_BETA,
    MAX_K_MIN,
    MAX_KAPPA,
    attempts_for_target,
    k_parallel,
    p_eff,
)
from modenhub_net.config import ParamsModel, StrictModel
from modenhub_net.errors import UserInputError

__all__ = [
    "STRATEGIES",
    "Strategy",
    "ModelSection",
    "AdaptiveSection",
    "AggregateModel",
    "AdaptiveSettings",
    "StudySettings",
    "AggregateScenario",
    "MAX_N_QPUS",
    "MAX_TRIALS",
    "MAX_STUDY_REQUESTS",
    "MAX_STUDY_REQUESTS_KEPT",
    "check_study_size",
    "check_adaptive_feasible",
]

Strategy = Literal["naive", "orchestrated", "orchestrated_nocache", "adaptive", "adaptive_online"]

#: all strategies, in the order they are reported
STRATEGIES: tuple[str, ...] = (
    "naive",
    "orchestrated",
    "orchestrated_nocache",
    "adaptive",
    "adaptive_online",
)

#: largest N accepted by a study (requests store s, d as int32; the closed forms go to 2**53)
MAX_N_QPUS = 1_000_000
#: largest number of requests per point
MAX_TRIALS = 100_000_000
#: largest study, points (N values x strategies) x trials: the kernel keeps ~9 bytes a
#: request (outcome code, uniforms of the cached/online points, the pairs), ~2 GB here
MAX_STUDY_REQUESTS = 200_000_000
#: largest study whose per-request table is kept (``write_requests``; ~25 bytes a request)
MAX_STUDY_REQUESTS_KEPT = 50_000_000



def check_study_size(points: int, trials: int, *, keep_requests: bool,
                     names: tuple[str, str, str] = ("n_qpus", "strategies", "trials")) -> None:
    """Refuse a study of more than :data:`MAX_STUDY_REQUESTS` requests (points x trials),
    or :data:`MAX_STUDY_REQUESTS_KEPT` when the per-request table is kept."""
    limit = MAX_STUDY_REQUESTS_KEPT if keep_requests else MAX_STUDY_REQUESTS
    if points * trials > limit:
        what = " with the per-request table" if keep_requests else ""
        raise UserInputError(
            f"{names[2]} = {trials}: {points} points ({names[0]} x {names[1]}) x {trials} "
            f"trials = {points * trials} requests, more than the {limit} allowed in one "
            f"study{what}; lower {names[2]}, split the study or run it as a sweep"
        )


def check_adaptive_feasible(model: ModelSection, adaptive: AdaptiveSection, ns: Sequence[int], *,
                            known_p: bool) -> None:
    """Refuse up front, naming the user's fields, an adaptive plan that cannot be made.

    With the default target (the orchestrated success) both adaptive strategies plan
    ``K(N) R`` attempts (1 at ``p_eff = 1``); with ``adaptive.target_success`` the
    ``adaptive`` strategy (``known_p``) plans ``ceil(log(1 - target) / log(1 - p_eff))``.
    Either must be at most :data:`~modenhub_net.aggregate.adaptive.MAX_TOTAL_ATTEMPTS` and
    ``adaptive.max_parallel * rounds``. (``adaptive_online`` with a user target plans at its
    running estimate, as far as it can; that is not checked here.)

    Raises
    ------
    UserInputError
        Naming ``model.kappa``/``model.k_min``/``model.rounds`` or
        ``adaptive.max_parallel``/``adaptive.target_success`` and N.
    """
    n = np.asarray(ns, dtype=np.int64)
    p = np.asarray(model.p_eff(n), dtype=float).reshape(-1)
    k = np.asarray(model.k_parallel(n), dtype=np.int64).reshape(-1)
    rounds, cap = model.rounds, adaptive.max_parallel
    limit = MAX_TOTAL_ATTEMPTS if cap is None else min(MAX_TOTAL_ATTEMPTS, cap * rounds)
    if adaptive.target_success is None:
        totals = np.where(p >= 1.0, 1, k * rounds)
        bad = np.flatnonzero(totals > limit)
        if bad.size:
            i = int(bad[0])
            if cap is not None and totals[i] > cap * rounds:
                raise UserInputError(
                    f"adaptive.max_parallel = {cap}: at N = {int(n[i])} the default "
                    f"target (the orchestrated success) needs K(N) x rounds = {int(k[i])} x "
                    f"{rounds} = {int(totals[i])} attempts, more than {rounds} rounds of at "
                    f"most {cap}; raise adaptive.max_parallel to >= {int(k[i])} or set "
                    f"adaptive.target_success"
                )
            raise UserInputError(
                f"model: at N = {int(n[i])} the adaptive strategies' default target needs "
                f"K(N) x rounds = {int(k[i])} x {rounds} = {int(totals[i])} attempts, more than "
                f"the planner's {MAX_TOTAL_ATTEMPTS}; lower model.kappa, model.k_min or "
                f"model.rounds, or set adaptive.target_success"
            )
        return
    if not known_p:
        return
    target = adaptive.target_success
    for i in range(n.size):
        total = attempts_for_target(float(p[i]), target_success=target)
        if total > limit:
            why = (f"more than {rounds} rounds of at most {cap}"
                   if cap is not None and total > cap * rounds
                   else f"more than the planner's {MAX_TOTAL_ATTEMPTS}")
            raise UserInputError(
                f"adaptive.target_success = {target!r}: at N = {int(n[i])} (p_eff = "
                f"{float(p[i]):.4g}) it needs {total} attempts, {why}; lower the target"
                + (" or raise adaptive.max_parallel" if cap is not None else "")
            )


class ModelSection(StrictModel):
    """The paper's aggregate model (ARCHITECTURE.md §5), one request = one teleportation.

    Parameters
    ----------
    p0 : float
        Per-attempt success probability with no switch loss, in (0, 1]. Paper: 0.35.
    beta : float
        Degradation of p_eff per doubling of N, in [0, 1000]. Paper: 0.35.
    kappa : float
        Orchestrated parallel attempts per doubling of N, in (0, 1000]. Paper: 0.9.
    rounds : int
        Round budget R per request, in [1, 1000]; a request with no success in R rounds
        fails. Paper: 3.
    k_min : int
        Minimum parallel attempts of the orchestrated strategy, in [1, 10000]. Paper: 2.

    The bounds keep every closed form finite: ``K(N) <= 1000 log2 N`` attempts a round and
    ``p_eff >= p0 / (1 + 1000 log2 N)``.

    This is the ``[model]`` section of a scenario; build it from Python as
    :class:`AggregateModel` (same fields; a bad value raises ``UserInputError``).

    Examples
    --------
    >>> model = AggregateModel()
    >>> model.k_parallel(128), round(model.p_eff(128), 4)
    (7, 0.1014)
    """

    p0: float = Field(0.35, gt=0.0, le=1.0, allow_inf_nan=False)
    beta: float = Field(0.35, ge=0.0, le=MAX_BETA, allow_inf_nan=False)
    kappa: float = Field(0.9, gt=0.0, le=MAX_KAPPA, allow_inf_nan=False)
    rounds: int = Field(3, ge=1, le=1000, strict=True)
    k_min: int = Field(2, ge=1, le=MAX_K_MIN, strict=True)

    def p_eff(self, n_qpus: int) -> float:
        """p_eff(N) = p0 / (1 + beta log2 N); see :func:`modenhub_net.aggregate.p_eff`."""
        return p_eff(n_qpus, p0=self.p0, beta=self.beta)

    def k_parallel(self, n_qpus: int) -> int:
        """K(N) = max(k_min, ceil(kappa log2 N)); see :func:`modenhub_net.aggregate.k_parallel`."""
        return k_parallel(n_qpus, kappa=self.kappa, k_min=self.k_min)


class AdaptiveSection(StrictModel):
    """Options of the ``adaptive`` and ``adaptive_online`` strategies (``[adaptive]`` section).

    Parameters
    ----------
    target_success : float, optional
        Success probability to reach within R rounds, in (0, 1). Default (None): the
        orchestrated policy's own success at that N, ``1 - (1 - p_eff)**(K R)``.
    max_parallel : int, optional
        Most attempts in one round (parallel modes, >= 1). Default: unlimited.
    prior_p : float, optional
        ``adaptive_online``: initial guess of p_eff in (0, 1]. Default: the model's p0.
    prior_weight : float
        ``adaptive_online``: weight of the guess, in pseudo-attempts, in (0, 1e12].
        Default 20.
    first_batch : int
        ``adaptive_online``: requests served before the first re-plan, in [1, 10**8]; the
        plan is then refreshed after batches that double in size. Default 25.
    """

    target_success: float | None = Field(None, gt=0.0, lt=1.0, allow_inf_nan=False)
    max_parallel: int | None = Field(None, ge=1, le=100_000, strict=True)
    prior_p: float | None = Field(None, gt=0.0, le=1.0, allow_inf_nan=False)
    prior_weight: float = Field(20.0, gt=0.0, le=1e12, allow_inf_nan=False)
    first_batch: int = Field(25, ge=1, le=MAX_TRIALS, strict=True)


class AggregateModel(ParamsModel, ModelSection):
    """:class:`ModelSection` built from Python: a bad value raises ``UserInputError``.

    Examples
    --------
    >>> AggregateModel(p0=0.2, rounds=4).rounds
    4
    >>> try:
    ...     AggregateModel(beta=-1)
    ... except UserInputError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    AggregateModel: beta = -1: Input should be greater than or equal to 0; allowed: ... [0.0, 1000.0]
    """


class AdaptiveSettings(ParamsModel, AdaptiveSection):
    """:class:`AdaptiveSection` built from Python: a bad value raises ``UserInputError``."""


class StudySettings(StrictModel):
    """What to simulate: the N values, the strategies and the requests per point.

    ``n_qpus`` is a list of integers or an inclusive range table
    ``{ first = 2, last = 128, step = 1 }``. N = 1 is accepted but skipped (no pair s != d).
    """

    n_qpus: tuple[int, ...] = Field(min_length=1)
    trials: int = Field(2500, ge=1, le=MAX_TRIALS, strict=True)
    strategies: tuple[Strategy, ...] = Field(
        ("naive", "orchestrated", "orchestrated_nocache", "adaptive"), min_length=1
    )
    confidence: float = Field(0.95, gt=0.0, lt=1.0, allow_inf_nan=False)
    write_requests: bool = True

    @field_validator("n_qpus", mode="before")
    @classmethod
    def _expand_range(cls, value: Any) -> Any:
        if isinstance(value, dict):
            unknown = set(value) - {"first", "last", "step"}
            if unknown or not {"first", "last"} <= set(value):
                raise ValueError(
                    "give a list of integers or a table { first = A, last = B, step = 1 }"
                )
            first, last, step = value["first"], value["last"], value.get("step", 1)
            if not all(isinstance(x, int) and not isinstance(x, bool) for x in (first, last, step)):
                raise ValueError("first, last and step must be integers")
            if step < 1 or first > last:
                raise ValueError(f"need step >= 1 and first <= last (got {value})")
            # checked before the range is expanded: {first = 1, last = 10**18} is refused here
            if first < 1 or last > MAX_N_QPUS:
                raise ValueError(f"first and last must lie in [1, {MAX_N_QPUS}] (got {value})")
            return tuple(range(first, last + 1, step))
        return value

    @field_validator("n_qpus", mode="after")
    @classmethod
    def _check_n(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        bad = [n for n in value if not 1 <= n <= MAX_N_QPUS]
        if bad:
            raise ValueError(f"every N must lie in [1, {MAX_N_QPUS}] (got {bad[:5]})")
        if len(set(value)) != len(value):
            raise ValueError("N values must be distinct")
        return value

    @field_validator("strategies", mode="after")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("strategies must be distinct")
        return value


class AggregateScenario(StrictModel):
    """A whole ``kind = "aggregate"`` scenario file."""

    kind: Literal["aggregate"]
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", min_length=1, max_length=100)
    description: str = ""
    seed: int = Field(ge=0, le=2**63 - 1, strict=True)
    model: ModelSection = Field(default_factory=ModelSection)
    study: StudySettings
    adaptive: AdaptiveSection = Field(default_factory=AdaptiveSection)

    @model_validator(mode="after")
    def _runnable(self) -> AggregateScenario:
        """Refuse up front what the study could not run: its size, an impossible plan."""
        study = self.study
        used = [n for n in study.n_qpus if n != 1]
        try:
            check_study_size(len(used) * len(study.strategies), study.trials,
                             keep_requests=study.write_requests,
                             names=("study.n_qpus", "study.strategies", "study.trials"))
            if used and any(s in ("adaptive", "adaptive_online") for s in study.strategies):
                check_adaptive_feasible(self.model, self.adaptive, used,
                                        known_p="adaptive" in study.strategies)
        except UserInputError as exc:
            raise ValueError(str(exc)) from None
        return self
