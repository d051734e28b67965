"""Scheduling policies of the concurrent orchestrator behind one small interface.

A :class:`Scheduler` decides, whenever resources free up or a request arrives,

1. the **order** in which waiting requests are considered (:meth:`Scheduler.priority`);
2. how the free parallel attempts are **shared** among the requests that could start now
   (:meth:`Scheduler.allocate`; 0 means "not now");
3. each started request's **attempts per round** (:meth:`Scheduler.plan`);

and it may learn from the heralds (:meth:`Scheduler.observe`). The orchestrator does the
rest (admission, resources, deadlines), so a user replaces only this layer::

    class ShortestPairFirst(FifoScheduler):
        name = "short_first"

        def priority(self, job):
            return (abs(job.request.s - job.request.d), job.received_ns, job.request.request_id)

    run_stack(..., scheduler=ShortestPairFirst())

Policies (:func:`make_scheduler`):

``fifo``
    arrival order at the hub (a request whose QPUs are busy is skipped, not waited for); each
    starts with the round policy's wish capped by the free attempts;
``edf``
    earliest deadline first (``arrival + deadline_ns``; ties by arrival), shares as ``fifo``;
``orchestrated``
    the paper's orchestrator (ModEn-Hub paper, the orchestrated strategy; ARCHITECTURE.md
    §5): arrival order, exactly ``K(N) = max(k_min, ceil(kappa log2 N))`` attempts every
    round; a request waits until K(N) attempts are free (no capped rounds);
``adaptive``
    contention-aware: each candidate needs ``n_i = ceil(ln(1 - target) / (R ln(1 - p_i)))``
    attempts per round to reach ``target_success`` within R rounds, with ``p_i`` the herald
    rate observed on its pair (a Beta prior at the link budget's probability); when the free
    attempts ``F`` do not cover ``sum n_i``, request ``i`` gets ``max(1, floor(F n_i / sum n))``
    in priority order (shares proportional to need, the rule of proportional allocation of a
    shared server; e.g. D. Bertsekas & R. Gallager, *Data Networks*, 2nd ed., §6.5).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from modenhub_net.aggregate import k_parallel
from modenhub_net.errors import UserInputError

if TYPE_CHECKING:  # pragma: no cover
    from protocols.stack.orchestrator import Job

__all__ = [
    "SCHEDULERS",
    "Scheduler",
    "FifoScheduler",
    "EdfScheduler",
    "OrchestratedScheduler",
    "AdaptiveScheduler",
    "make_scheduler",
]

SCHEDULERS: tuple[str, ...] = ("fifo", "edf", "orchestrated", "adaptive")


class Scheduler:
    """Base scheduler: FIFO order, greedy shares, the round policy's plan.

    Subclasses override any of :meth:`priority`, :meth:`wish`, :meth:`allocate`,
    :meth:`plan`, :meth:`observe`. ``name`` is written into the records' ``policy`` column
    as ``"<round policy>/<scheduler>"``.
    """

    name = "fifo"
    #: True if :meth:`allocate` gives the attempts in priority order (first come, first
    #: served): the orchestrator then stops collecting candidates once their wishes cover
    #: the free attempts. A scheduler that weighs all contenders (``adaptive``) sets False.
    greedy = True

    def priority(self, job: Job) -> tuple:
        """Sort key of a waiting request (smaller first); computed once, at its arrival."""
        return (job.received_ns, job.request.request_id)

    def wish(self, job: Job, *, policy_wish: int) -> int:
        """Parallel attempts the request would like in its first round (>= 1)."""
        return policy_wish

    def allocate(self, candidates: Sequence[tuple[Job, int]], free_attempts: int) -> list[int]:
        """Attempts granted to each ``(job, wish)`` candidate (in priority order); 0 = wait.

        Default: greedy in order, each gets ``min(wish, what is left)``.
        """
        out = []
        left = free_attempts
        for _job, wish in candidates:
            k = min(wish, left)
            out.append(k)
            left -= k
        return out

    def plan(self, job: Job, k: int, policy_schedule: Sequence[int]) -> tuple[int, ...]:
        """Attempts per round of a started request holding ``k`` attempts: the round
        policy's schedule capped at ``k``."""
        return tuple(min(w, k) for w in policy_schedule)

    def observe(self, key: tuple[int, int], *, attempts: int, heralds: int) -> None:
        """Feedback of a finished request's rounds on QPU pair ``key``."""


class FifoScheduler(Scheduler):
    """First come, first served (at the hub)."""

    name = "fifo"


class EdfScheduler(Scheduler):
    """Earliest deadline first (ties: arrival order)."""

    name = "edf"

    def priority(self, job: Job) -> tuple:
        return (job.deadline_ns, job.received_ns, job.request.request_id)


class OrchestratedScheduler(Scheduler):
    """The paper's K(N) attempts every round; a request waits until K(N) are free.

    Parameters
    ----------
    n_qpus : int
        Number of QPUs N (>= 2).
    kappa : float, optional
        Attempts per doubling of N, in (0, 1000]; default 0.9 (the paper's value).
    k_min : int, optional
        Minimum attempts per round, >= 1; default 2 (the paper's value).
    max_attempts : int, optional
        The hub's total parallel attempts; K(N) is capped there (so a hub with fewer devices
        than K(N) still serves). Default: no cap.
    """

    name = "orchestrated"

    def __init__(self, *, n_qpus: int, kappa: float = 0.9, k_min: int = 2,
                 max_attempts: int | None = None) -> None:
        k = int(k_parallel(n_qpus, kappa=kappa, k_min=k_min))
        self.k = min(k, max_attempts) if max_attempts is not None else k

    def wish(self, job: Job, *, policy_wish: int) -> int:
        return self.k

    def allocate(self, candidates: Sequence[tuple[Job, int]], free_attempts: int) -> list[int]:
        out = []
        left = free_attempts
        for _job, wish in candidates:
            if wish > left:  # strict order: later requests do not overtake a waiting one
                out.extend([0] * (len(candidates) - len(out)))
                break
            out.append(wish)
            left -= wish
        return out

    def plan(self, job: Job, k: int, policy_schedule: Sequence[int]) -> tuple[int, ...]:
        return (k,) * len(policy_schedule)


class AdaptiveScheduler(Scheduler):
    """Contention-aware shares from the observed herald rate per pair (module docstring).

    Parameters
    ----------
    p_prior : callable
        ``p_prior(a, b)``: the link budget's per-attempt herald probability of pair
        ``(a, b)`` (classical knowledge of the devices), the prior mean.
    rounds : int
        Round budget R (>= 1).
    target_success : float, optional
        Success to reach within R rounds, in (0, 1); default 0.9 (the paper's orchestrated
        success at N = 128 is ~0.89, ARCHITECTURE.md §5).
    prior_weight : float, optional
        Weight of the prior in pseudo-attempts (> 0); default 20, the prior weight of the
        ``adaptive_online`` round policy (:func:`protocols.orchestrator.make_policy`; a
        modelling choice, not a published value).
    max_attempts : int, optional
        Cap on one request's attempts per round (default: the hub's free attempts).
    """

    name = "adaptive"
    greedy = False

    def __init__(self, *, p_prior: Callable[[int, int], float], rounds: int,
                 target_success: float = 0.9, prior_weight: float = 20.0,
                 max_attempts: int | None = None) -> None:
        if not 0.0 < target_success < 1.0:
            raise UserInputError(f"target_success = {target_success!r} is outside (0, 1)")
        if not prior_weight > 0.0:
            raise UserInputError(f"prior_weight = {prior_weight!r} must be > 0")
        self.p_prior = p_prior
        self.rounds = rounds
        self.target_success = target_success
        self.prior_weight = prior_weight
        self.max_attempts = max_attempts
        self._seen: dict[tuple[int, int], list[int]] = {}

    def p_hat(self, key: tuple[int, int]) -> float:
        """Posterior-mean herald probability of pair ``key``:
        ``(heralds + w p0) / (attempts + w)``."""
        p0 = self.p_prior(*key)
        if not math.isfinite(p0):
            p0 = 0.5
        heralds, attempts = self._seen.get(key, (0, 0))
        return (heralds + self.prior_weight * p0) / (attempts + self.prior_weight)

    def need(self, key: tuple[int, int]) -> int:
        """Attempts per round that reach the target within R rounds at :meth:`p_hat`:
        ``1 - (1 - p)^(n R) >= target`` (independent attempts)."""
        p = min(max(self.p_hat(key), 1e-9), 1.0 - 1e-12)
        n = math.ceil(math.log1p(-self.target_success) / (self.rounds * math.log1p(-p)) - 1e-12)
        n = max(1, n)
        return min(n, self.max_attempts) if self.max_attempts is not None else n

    def wish(self, job: Job, *, policy_wish: int) -> int:
        return self.need(job.key)

    def allocate(self, candidates: Sequence[tuple[Job, int]], free_attempts: int) -> list[int]:
        total = sum(w for _, w in candidates)
        if total <= free_attempts:
            return [w for _, w in candidates]
        out = []
        left = free_attempts
        for _job, wish in candidates:
            k = min(left, wish, max(1, math.floor(free_attempts * wish / total)))
            out.append(k)
            left -= k
        return out

    def plan(self, job: Job, k: int, policy_schedule: Sequence[int]) -> tuple[int, ...]:
        return (k,) * len(policy_schedule)

    def observe(self, key: tuple[int, int], *, attempts: int, heralds: int) -> None:
        seen = self._seen.setdefault(key, [0, 0])
        seen[0] += heralds
        seen[1] += attempts


def make_scheduler(
    name: str | Scheduler,
    *,
    n_qpus: int,
    rounds: int,
    p_prior: Callable[[int, int], float],
    kappa: float = 0.9,
    k_min: int = 2,
    max_attempts: int | None = None,
) -> Scheduler:
    """A scheduler by name (:data:`SCHEDULERS`), or ``name`` itself if it is a
    :class:`Scheduler` instance (a user-defined one)."""
    if isinstance(name, Scheduler):
        return name
    if name == "fifo":
        return FifoScheduler()
    if name == "edf":
        return EdfScheduler()
    if name == "orchestrated":
        return OrchestratedScheduler(n_qpus=n_qpus, kappa=kappa, k_min=k_min,
                                     max_attempts=max_attempts)
    if name == "adaptive":
        return AdaptiveScheduler(p_prior=p_prior, rounds=rounds, max_attempts=max_attempts)
    raise UserInputError(f"scheduler = {name!r}: unknown (allowed: {', '.join(SCHEDULERS)})")
