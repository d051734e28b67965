"""Validated, frozen configuration of the aggregate model and of an aggregate scenario.

A scenario TOML (``kind = "aggregate"``) has the sections ``[model]`` (:class:`AggregateModel`),
``[study]`` (:class:`StudySettings`) and optionally ``[adaptive]`` (:class:`AdaptiveSettings`);
see ``scenarios/paper_fig3.toml``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from modenhub_net.aggregate.analytic import k_parallel, p_eff
from modenhub_net.config import ParamsModel, StrictModel

__all__ = [
    "STRATEGIES",
    "Strategy",
    "ModelSection",
    "AdaptiveSection",
    "AggregateModel",
    "AdaptiveSettings",
    "StudySettings",
    "AggregateScenario",
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

#: largest N accepted (requests store s, d as int32; the model itself has no limit)
MAX_N_QPUS = 1_000_000
#: largest number of requests per point accepted from a scenario
MAX_TRIALS = 100_000_000


class ModelSection(StrictModel):
    """The paper's aggregate model (DESIGN.md §5), one request = one teleportation.

    Parameters
    ----------
    p0 : float
        Per-attempt success probability with no switch loss, in (0, 1]. Paper: 0.35.
    beta : float
        Degradation of p_eff per doubling of N (>= 0). Paper: 0.35.
    kappa : float
        Orchestrated parallel attempts per doubling of N (> 0). Paper: 0.9.
    rounds : int
        Round budget R per request (>= 1); a request with no success in R rounds fails.
        Paper: 3.
    k_min : int
        Minimum parallel attempts of the orchestrated strategy (>= 1). Paper: 2.

    This is the ``[model]`` section of a scenario; build it from Python as
    :class:`AggregateModel` (same fields; a bad value raises ``UserInputError``).

    Examples
    --------
    >>> model = AggregateModel()
    >>> model.k_parallel(128), round(model.p_eff(128), 4)
    (7, 0.1014)
    """

    p0: float = Field(0.35, gt=0.0, le=1.0, allow_inf_nan=False)
    beta: float = Field(0.35, ge=0.0, allow_inf_nan=False)
    kappa: float = Field(0.9, gt=0.0, allow_inf_nan=False)
    rounds: int = Field(3, ge=1, le=1000, strict=True)
    k_min: int = Field(2, ge=1, le=10_000, strict=True)

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
        ``adaptive_online``: weight of the guess, in pseudo-attempts (> 0). Default 20.
    first_batch : int
        ``adaptive_online``: requests served before the first re-plan (>= 1); the plan is
        then refreshed after batches that double in size. Default 25.
    """

    target_success: float | None = Field(None, gt=0.0, lt=1.0, allow_inf_nan=False)
    max_parallel: int | None = Field(None, ge=1, le=100_000, strict=True)
    prior_p: float | None = Field(None, gt=0.0, le=1.0, allow_inf_nan=False)
    prior_weight: float = Field(20.0, gt=0.0, allow_inf_nan=False)
    first_batch: int = Field(25, ge=1, strict=True)


class AggregateModel(ParamsModel, ModelSection):
    """:class:`ModelSection` built from Python: a bad value raises ``UserInputError``.

    Examples
    --------
    >>> AggregateModel(p0=0.2, rounds=4).rounds
    4
    >>> AggregateModel(beta=-1)
    Traceback (most recent call last):
    ...
    modenhub_net.errors.UserInputError: AggregateModel: beta = -1: Input should be greater than or equal to 0
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
