"""Queueing-theory closed forms that check the concurrent hub.

The concurrent protocol stack (ARCHITECTURE.md) turns the hub into a queueing system: its
switch lanes (pairs of switch circuits), BSM stations, SPDC sources and memory slots are
servers, and requests are customers. Three textbook results give exact references:

- :func:`erlang_b` -- the blocking probability of a loss system with ``c`` servers and
  Poisson arrivals of offered load ``A = lambda E[S]`` erlangs (Erlang 1917). It is
  *insensitive* to the holding-time distribution beyond its mean (B. A. Sevastyanov, Theory
  Probab. Appl. 2, 104 (1957); Kleinrock, *Queueing Systems Vol. 1*, 1975, §3.7), so it holds
  for the hub's non-exponential service times with the measured mean holding time;
- :func:`mg1_mean_wait_ns` -- the Pollaczek-Khinchine mean wait in queue of an M/G/1 FIFO
  queue, ``W_q = lambda E[S^2] / (2 (1 - rho))``, ``rho = lambda E[S]`` (Kleinrock 1975, §5.7,
  eq. 5.105), for a one-lane hub;
- :func:`saturation_throughput_hz` -- the largest request rate the resources can sustain:
  ``min_r capacity_r / work_r`` where ``work_r`` is the mean unit-time (unit ns) of resource
  ``r`` held per request (the utilisation law ``U_r = X work_r <= capacity_r``: Denning &
  Buzen, *The operational analysis of queueing network models*, ACM Comput. Surv. 10, 225
  (1978), §3 "bottleneck analysis").

:func:`batch_means` estimates the standard error of the mean of a correlated series (the
waits of successive customers are strongly correlated), by the method of non-overlapping
batch means (Law & Kelton, *Simulation Modeling and Analysis*, 3rd ed., 2000, §9.5.3).
:func:`erlang_b_agreement` and :func:`mg1_agreement` compare a simulated run with the closed
form evaluated at the run's *measured* holding / service-time moments, with a standard error
from batch means of all the measured quantities jointly and the delta method (Law & Kelton
§9.7; the covariance of the batch means carries the correlation between, e.g., long service
times and long waits).

Time is in ns throughout; rates are in Hz (events per second).

Examples
--------
>>> round(erlang_b(1, 1.0), 6)          # B(1, A) = A / (1 + A)
0.5
>>> round(erlang_b(10, 5.0), 6)         # textbook table value 0.0184
0.018385
>>> mg1_mean_wait_ns(arrival_rate_hz=5e5, mean_service_ns=1000.0,
...                  service_second_moment_ns2=2e6)   # M/M/1 at rho = 0.5: W_q = E[S] = 1000 ns
1000.0
>>> bound = saturation_throughput_hz(capacity={"lanes": 4, "bsm_stations": 8},
...                                  work_ns={"lanes": 1e4, "bsm_stations": 4e4})
>>> bound.binding, round(bound.rate_hz)
('bsm_stations', 200000)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from modenhub_net.config.base import check_count, check_number
from modenhub_net.errors import UserInputError

__all__ = [
    "erlang_b",
    "erlang_b_derivative",
    "mg1_mean_wait_ns",
    "SaturationBound",
    "saturation_throughput_hz",
    "BatchMeans",
    "batch_means",
    "Agreement",
    "erlang_b_agreement",
    "mg1_agreement",
]

#: ns per second: rates in Hz times this many ns are counts
NS_PER_S = 1e9
#: servers of a loss system at most (a hub's switch lanes are far fewer)
MAX_SERVERS = 10_000_000


def erlang_b(servers: int, offered_load_erlang: float) -> float:
    """Erlang-B blocking probability of ``servers`` servers at offered load ``A`` erlangs.

    The probability that a Poisson arrival finds all ``c`` servers of a loss system (no
    queue) busy, ``B(c, A) = (A^c / c!) / sum_{k=0}^{c} A^k / k!`` (A. K. Erlang, *Solution of
    some problems in the theory of probabilities of significance in automatic telephone
    exchanges*, 1917; Kleinrock, *Queueing Systems Vol. 1*, 1975, §3.7, eq. 3.46). Computed by
    the numerically stable recursion ``B(0) = 1``, ``B(k) = A B(k-1) / (k + A B(k-1))``
    (no factorials, no overflow). The result depends on the holding-time distribution only
    through its mean (insensitivity: B. A. Sevastyanov, Theory Probab. Appl. 2, 104 (1957)).

    Parameters
    ----------
    servers : int
        Number of servers ``c`` (switch lanes of the hub), an integer in [0, 10^7].
        No default.
    offered_load_erlang : float
        Offered load ``A = lambda E[S]`` in erlangs (arrival rate times mean holding time),
        a finite number >= 0. No default.

    Returns
    -------
    float
        ``B(c, A)`` in [0, 1]; ``B(0, A) = 1`` and ``B(c, 0) = 0`` for c >= 1.

    Raises
    ------
    UserInputError
        If ``servers`` is not an integer in range or ``offered_load_erlang`` is not a finite
        number >= 0 (booleans are refused).

    Examples
    --------
    >>> erlang_b(2, 1.0)                    # (1/2) / (1 + 1 + 1/2)
    0.2
    >>> erlang_b(0, 3.0), erlang_b(3, 0.0)
    (1.0, 0.0)
    """
    c = check_count("servers", servers, low=0, high=MAX_SERVERS)
    a = check_number("offered_load_erlang", offered_load_erlang, low=0.0)
    b = 1.0
    for k in range(1, c + 1):
        ab = a * b
        b = ab / (k + ab)
    return b


def erlang_b_derivative(servers: int, offered_load_erlang: float) -> float:
    """Derivative ``dB/dA`` of the Erlang-B formula with respect to the offered load.

    ``dB/dA = B(c, A) (c / A - 1 + B(c, A))`` (D. L. Jagerman, *Some properties of the Erlang
    loss function*, Bell Syst. Tech. J. 53, 525 (1974), eq. 7). Used to propagate the
    uncertainty of a measured offered load into the predicted blocking (delta method).

    Parameters
    ----------
    servers : int
        Number of servers ``c``, an integer in [1, 10^7]. No default.
    offered_load_erlang : float
        Offered load ``A`` in erlangs, a finite number > 0. No default.

    Returns
    -------
    float
        ``dB/dA`` in 1/erlang (>= 0).

    Examples
    --------
    >>> round(erlang_b_derivative(1, 1.0), 6)   # d/dA A/(1+A) = 1/(1+A)^2
    0.25
    """
    c = check_count("servers", servers, low=1, high=MAX_SERVERS)
    a = check_number("offered_load_erlang", offered_load_erlang, low=0.0, low_inclusive=False)
    b = erlang_b(c, a)
    return b * (c / a - 1.0 + b)


def mg1_mean_wait_ns(
    *, arrival_rate_hz: float, mean_service_ns: float, service_second_moment_ns2: float
) -> float:
    """Pollaczek-Khinchine mean wait in queue of an M/G/1 FIFO queue, in ns.

    ``W_q = lambda E[S^2] / (2 (1 - rho))`` with ``rho = lambda E[S] < 1`` (F. Pollaczek, Math.
    Z. 32, 64 (1930); A. Y. Khinchine, Mat. Sbornik 39, 73 (1932); Kleinrock, *Queueing Systems
    Vol. 1*, 1975, §5.7, eq. 5.105). Special cases: M/M/1 (``E[S^2] = 2 E[S]^2``) gives
    ``W_q = rho E[S] / (1 - rho)``; M/D/1 (``E[S^2] = E[S]^2``) half of that.

    Parameters
    ----------
    arrival_rate_hz : float
        Poisson arrival rate ``lambda`` in Hz, a finite number >= 0. No default.
    mean_service_ns : float
        Mean service time ``E[S]`` in ns, a finite number > 0. No default.
    service_second_moment_ns2 : float
        Second moment ``E[S^2]`` of the service time in ns^2, a finite number
        >= ``E[S]^2`` (a variance is never negative). No default.

    Returns
    -------
    float
        ``W_q`` in ns (0 when ``lambda = 0``).

    Raises
    ------
    UserInputError
        If a value is out of range, or the queue is unstable (``rho >= 1``: the mean wait is
        infinite), naming the values.

    Examples
    --------
    >>> mg1_mean_wait_ns(arrival_rate_hz=5e5, mean_service_ns=1000.0,
    ...                  service_second_moment_ns2=1e6)   # M/D/1 at rho = 0.5
    500.0
    """
    lam_hz = check_number("arrival_rate_hz", arrival_rate_hz, low=0.0)
    m1 = check_number("mean_service_ns", mean_service_ns, low=0.0, low_inclusive=False)
    m2 = check_number("service_second_moment_ns2", service_second_moment_ns2, low=0.0)
    if m2 < m1 * m1 * (1.0 - 1e-12):
        raise UserInputError(
            f"service_second_moment_ns2 = {m2!r}: must be >= mean_service_ns^2 = {m1 * m1!r} "
            "(a variance is never negative)"
        )
    lam = lam_hz / NS_PER_S
    rho = lam * m1
    if rho >= 1.0:
        raise UserInputError(
            f"arrival_rate_hz = {lam_hz!r} with mean_service_ns = {m1!r}: utilisation rho = "
            f"{rho:.6g} must be < 1 (the M/G/1 queue is unstable, its mean wait infinite)"
        )
    return lam * m2 / (2.0 * (1.0 - rho))


@dataclass(frozen=True)
class SaturationBound:
    """The saturation-throughput bound of a set of resources (:func:`saturation_throughput_hz`).

    Attributes
    ----------
    rate_hz : float
        ``min_r capacity_r / work_r`` in requests per second.
    binding : str
        The resource that attains the minimum (the bottleneck); ties go to the first given.
    per_resource_hz : dict of str to float
        ``capacity_r / work_r`` of every resource (inf for a resource a request never uses).
    """

    rate_hz: float
    binding: str
    per_resource_hz: dict[str, float] = field(default_factory=dict)


def saturation_throughput_hz(
    *, capacity: Mapping[str, float], work_ns: Mapping[str, float]
) -> SaturationBound:
    """Largest request throughput the resources allow (bottleneck bound).

    A request holds ``work_r`` unit-nanoseconds of resource ``r`` on average (units held
    times holding time, e.g. one lane for the whole service, or K BSM stations for each round).
    By the utilisation law ``U_r = X work_r`` and ``U_r <= capacity_r``, the throughput is at
    most ``X* = min_r capacity_r / work_r`` (P. J. Denning & J. P. Buzen, ACM Comput. Surv. 10,
    225 (1978), §3, bottleneck analysis), and a saturated system whose bottleneck never idles
    attains it.

    Parameters
    ----------
    capacity : mapping of str to float
        Units of each resource (lanes, stations, sources, slots), each a finite number > 0.
        No default.
    work_ns : mapping of str to float
        Mean unit-ns of each resource held per request, each a finite number >= 0 (0: the
        resource is not used). Its keys must equal those of ``capacity``. No default.

    Returns
    -------
    SaturationBound
        The bound in Hz, its binding resource and the bound of each resource.

    Raises
    ------
    UserInputError
        If the mappings are empty, have different keys, a value is out of range, or no
        resource is used at all (the bound would be infinite).

    Examples
    --------
    >>> saturation_throughput_hz(capacity={"lanes": 1}, work_ns={"lanes": 1e6}).rate_hz
    1000.0
    """
    if not isinstance(capacity, Mapping) or not isinstance(work_ns, Mapping):
        raise UserInputError("capacity and work_ns must be mappings of resource name -> number")
    if not capacity:
        raise UserInputError("capacity = {}: give at least one resource")
    if set(capacity) != set(work_ns):
        raise UserInputError(
            f"capacity has resources {sorted(capacity)} but work_ns has {sorted(work_ns)}: "
            "give the same resources to both"
        )
    per: dict[str, float] = {}
    for name, units in capacity.items():
        cap = check_number(f"capacity[{name!r}]", units, low=0.0, low_inclusive=False)
        work = check_number(f"work_ns[{name!r}]", work_ns[name], low=0.0)
        per[name] = math.inf if work == 0.0 else cap / work * NS_PER_S
    binding = min(per, key=lambda name: per[name])
    if math.isinf(per[binding]):
        raise UserInputError(
            f"work_ns = {dict(work_ns)!r}: every resource has zero work, the bound is infinite"
        )
    return SaturationBound(rate_hz=per[binding], binding=binding, per_resource_hz=per)


@dataclass(frozen=True)
class BatchMeans:
    """Mean and standard error of a correlated series by non-overlapping batch means.

    Attributes
    ----------
    mean : float
        The grand mean of the values used (the first ``batches * batch_size`` values).
    standard_error : float
        ``s_b / sqrt(batches)``, ``s_b`` the sample standard deviation of the batch means.
    batches : int
        Number of batches.
    batch_size : int
        Values per batch.
    batch_values : numpy.ndarray
        The batch means, shape ``(batches,)`` (or ``(batches, k)`` for a 2-d input).
    """

    mean: float | np.ndarray
    standard_error: float | np.ndarray
    batches: int
    batch_size: int
    batch_values: np.ndarray


def batch_means(values: ArrayLike, *, batches: int = 20) -> BatchMeans:
    """Standard error of the mean of a correlated (stationary) series by batch means.

    The series is cut into ``batches`` contiguous, equal batches; when a batch is much longer
    than the correlation time, the batch means are nearly independent and normal, so
    ``s_b / sqrt(batches)`` estimates the standard error of the grand mean (Law & Kelton,
    *Simulation Modeling and Analysis*, 3rd ed., 2000, §9.5.3; 10-30 batches recommended).
    Values past ``batches * floor(n / batches)`` are left out. A 2-d input ``(n, k)`` gives the
    batch means of each column (for the covariance of several statistics of the same customers).

    Parameters
    ----------
    values : array_like
        The series, in time order, shape ``(n,)`` or ``(n, k)``; real numbers, n >= 2 batches.
    batches : int, optional
        Number of batches, an integer in [2, 10^6]. Default 20 (Law & Kelton's range).

    Returns
    -------
    BatchMeans

    Raises
    ------
    UserInputError
        If ``values`` is not numeric, has fewer values than batches, or ``batches`` is out of
        range.

    Examples
    --------
    >>> result = batch_means([1.0, 3.0] * 10, batches=5)
    >>> result.mean, result.standard_error, result.batch_size
    (2.0, 0.0, 4)
    """
    b = check_count("batches", batches, low=2, high=1_000_000)
    array = np.asarray(values)
    if array.dtype.kind not in "iuf" or array.ndim not in (1, 2):
        raise UserInputError(
            f"values: a 1-d or 2-d array of real numbers is needed (got dtype {array.dtype}, "
            f"shape {array.shape})"
        )
    n = array.shape[0]
    size = n // b
    if size < 1:
        raise UserInputError(f"values has {n} entries: fewer than batches = {b}")
    used = array[: b * size].astype(float)
    per_batch = used.reshape((b, size) + used.shape[1:]).mean(axis=1)
    mean = per_batch.mean(axis=0)
    se = per_batch.std(axis=0, ddof=1) / math.sqrt(b)
    if per_batch.ndim == 1:
        mean, se = float(mean), float(se)
    return BatchMeans(mean=mean, standard_error=se, batches=b, batch_size=size, batch_values=per_batch)


@dataclass(frozen=True)
class Agreement:
    """A measured statistic against its closed form at the measured inputs.

    Attributes
    ----------
    measured : float
        The statistic measured in the run (blocking probability, mean wait in ns).
    predicted : float
        The closed form evaluated at the run's measured inputs (offered load, service moments).
    standard_error : float
        Standard error of ``measured - predicted`` (batch means + delta method), same unit.
    binomial_standard_error : float
        For a proportion, ``sqrt(p (1 - p) / n)`` over the ``n`` arrivals used as if they were
        independent (smaller than the batch-means error when blocking events cluster); NaN for
        a mean.
    inputs : dict of str to float
        The measured inputs (e.g. ``offered_load_erlang``, ``mean_service_ns``, ``rho``).
    """

    measured: float
    predicted: float
    standard_error: float
    binomial_standard_error: float = math.nan
    inputs: dict[str, float] = field(default_factory=dict)

    @property
    def z(self) -> float:
        """``(measured - predicted) / standard_error`` (0 when both are equal and exact)."""
        diff = self.measured - self.predicted
        if self.standard_error == 0.0:
            return 0.0 if diff == 0.0 else math.copysign(math.inf, diff)
        return diff / self.standard_error


def _series(name: str, values: ArrayLike, *, kind: str = "f") -> np.ndarray:
    array = np.asarray(values)
    allowed = "b" if kind == "b" else "iuf"
    if array.ndim != 1 or array.dtype.kind not in allowed:
        what = "booleans" if kind == "b" else "real numbers"
        raise UserInputError(f"{name}: a 1-d array of {what} is needed (got dtype {array.dtype}, "
                             f"shape {array.shape})")
    return array


def _delta_se(batch_values: np.ndarray, gradient: np.ndarray) -> float:
    """Standard error of ``g . mean`` from the batch means' covariance (delta method)."""
    cov = np.atleast_2d(np.cov(batch_values, rowvar=False, ddof=1))
    variance = float(gradient @ cov @ gradient) / batch_values.shape[0]
    return math.sqrt(max(variance, 0.0))


def erlang_b_agreement(
    *,
    blocked: ArrayLike,
    holding_ns: ArrayLike,
    arrival_rate_hz: float,
    servers: int,
    batches: int = 20,
    warmup: int = 0,
) -> Agreement:
    """Measured blocking of a loss system against Erlang-B at the measured offered load.

    The prediction is ``B(c, lambda H)`` (:func:`erlang_b`) with ``H`` the mean holding time of
    the *admitted* arrivals, a ratio estimator ``sum(h admitted) / sum(admitted)``. The
    standard error of ``p_blocked - B`` comes from batch means (:func:`batch_means`) of the
    per-arrival triple (blocked, h admitted, admitted) and the delta method, with ``dB/dA`` of
    :func:`erlang_b_derivative`.

    Parameters
    ----------
    blocked : array_like of bool
        One entry per arrival, in arrival order: True if it was blocked (lost). No default.
    holding_ns : array_like of float
        Holding time in ns of each arrival's server (any value, e.g. NaN, for a blocked one).
        Same length as ``blocked``. No default.
    arrival_rate_hz : float
        Poisson arrival rate ``lambda`` in Hz (the workload's, not estimated), finite, > 0.
    servers : int
        Servers ``c`` (switch lanes), an integer in [1, 10^7].
    batches : int, optional
        Batches for :func:`batch_means`, in [2, 10^6]. Default 20.
    warmup : int, optional
        Leading arrivals left out (start-up transient of an empty system), an integer >= 0.
        Default 0.

    Returns
    -------
    Agreement
        ``inputs``: ``offered_load_erlang``, ``mean_holding_ns``, ``arrivals``.

    Examples
    --------
    >>> agreement = erlang_b_agreement(blocked=[False, True] * 20, holding_ns=[1e3, 0.0] * 20,
    ...                                arrival_rate_hz=1e6, servers=1, batches=4)
    >>> agreement.measured, agreement.predicted     # A = 1e-3 /ns * 1e3 ns = 1: B = 1/2
    (0.5, 0.5)
    """
    b = _series("blocked", blocked, kind="b").astype(bool)
    h = _series("holding_ns", holding_ns).astype(float)
    if h.shape != b.shape:
        raise UserInputError(f"holding_ns has {h.size} entries but blocked has {b.size}: "
                             "give one per arrival")
    lam_hz = check_number("arrival_rate_hz", arrival_rate_hz, low=0.0, low_inclusive=False)
    c = check_count("servers", servers, low=1, high=MAX_SERVERS)
    w = check_count("warmup", warmup, low=0, high=max(0, b.size - 1))
    b, h = b[w:], h[w:]
    admitted = ~b
    if not admitted.any():
        raise UserInputError("blocked: every arrival was blocked; the mean holding time is unknown")
    h_adm = np.where(admitted, h, 0.0)
    if not np.all(np.isfinite(h_adm)) or np.any(h_adm < 0):
        raise UserInputError("holding_ns: the holding time of an admitted arrival must be finite, >= 0")
    table = np.column_stack([b.astype(float), h_adm, admitted.astype(float)])
    result = batch_means(table, batches=batches)
    mb, mh, ma = (float(x) for x in result.mean)
    lam = lam_hz / NS_PER_S
    mean_holding = mh / ma
    load = lam * mean_holding
    predicted = erlang_b(c, load)
    slope = erlang_b_derivative(c, load) if load > 0 else (1.0 if c == 1 else 0.0)
    gradient = np.array([1.0, -slope * lam / ma, slope * lam * mh / ma**2])
    se = _delta_se(result.batch_values, gradient)
    return Agreement(
        measured=mb,
        predicted=predicted,
        standard_error=se,
        binomial_standard_error=math.sqrt(mb * (1.0 - mb) / b.size),
        inputs={"offered_load_erlang": load, "mean_holding_ns": mean_holding, "arrivals": float(b.size)},
    )


def mg1_agreement(
    *,
    wait_ns: ArrayLike,
    service_ns: ArrayLike,
    arrival_rate_hz: float,
    batches: int = 20,
    warmup: int = 0,
) -> Agreement:
    """Measured mean wait of a one-server FIFO queue against Pollaczek-Khinchine.

    The prediction is :func:`mg1_mean_wait_ns` at the run's measured ``E[S]`` and ``E[S^2]``.
    The standard error of ``mean(W) - W_q`` comes from batch means of the per-customer
    triple ``(W, S, S^2)`` (waits of successive customers are strongly correlated; their
    batch means are not) and the delta method with the gradient of the P-K formula:
    ``dW_q/dE[S] = lambda^2 E[S^2] / (2 (1 - rho)^2)``, ``dW_q/dE[S^2] = lambda / (2 (1 - rho))``.

    Parameters
    ----------
    wait_ns : array_like of float
        Wait in queue (arrival to start of service) of each customer in ns, in arrival order.
    service_ns : array_like of float
        Service time of the same customers in ns (finite, >= 0). Same length.
    arrival_rate_hz : float
        Poisson arrival rate ``lambda`` in Hz (the workload's), finite, > 0.
    batches : int, optional
        Batches for :func:`batch_means`, in [2, 10^6]. Default 20.
    warmup : int, optional
        Leading customers left out (start-up transient), an integer >= 0. Default 0.

    Returns
    -------
    Agreement
        ``inputs``: ``mean_service_ns``, ``service_second_moment_ns2``, ``rho``, ``customers``.

    Raises
    ------
    UserInputError
        If the arrays are malformed, or the measured utilisation is >= 1.
    """
    wait = _series("wait_ns", wait_ns).astype(float)
    service = _series("service_ns", service_ns).astype(float)
    if wait.shape != service.shape:
        raise UserInputError(f"wait_ns has {wait.size} entries but service_ns has {service.size}: "
                             "give one per customer")
    lam_hz = check_number("arrival_rate_hz", arrival_rate_hz, low=0.0, low_inclusive=False)
    w = check_count("warmup", warmup, low=0, high=max(0, wait.size - 1))
    wait, service = wait[w:], service[w:]
    if not (np.all(np.isfinite(wait)) and np.all(np.isfinite(service))):
        raise UserInputError("wait_ns and service_ns must be finite")
    table = np.column_stack([wait, service, service**2])
    result = batch_means(table, batches=batches)
    mw, m1, m2 = (float(x) for x in result.mean)
    predicted = mg1_mean_wait_ns(arrival_rate_hz=lam_hz, mean_service_ns=m1, service_second_moment_ns2=m2)
    lam = lam_hz / NS_PER_S
    rho = lam * m1
    gradient = np.array([1.0, -lam * lam * m2 / (2.0 * (1.0 - rho) ** 2), -lam / (2.0 * (1.0 - rho))])
    return Agreement(
        measured=mw,
        predicted=predicted,
        standard_error=_delta_se(result.batch_values, gradient),
        inputs={"mean_service_ns": m1, "service_second_moment_ns2": m2, "rho": rho,
                "customers": float(wait.size)},
    )
