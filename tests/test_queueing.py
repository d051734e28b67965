"""Closed forms of :mod:`modenhub_net.queueing` against textbook values and small reference
queues simulated here (a loss system and a Lindley-recursion M/G/1), each within 4 SE."""

from __future__ import annotations

import heapq
import math
from fractions import Fraction

import numpy as np
import pytest

from modenhub_net.errors import UserInputError
from modenhub_net.queueing import (
    batch_means,
    erlang_b,
    erlang_b_agreement,
    erlang_b_derivative,
    mg1_agreement,
    mg1_mean_wait_ns,
    saturation_throughput_hz,
)

Z = 4.0


def _erlang_b_exact(c: int, a: Fraction) -> Fraction:
    """Erlang-B from its definition ``(A^c/c!) / sum_k A^k/k!`` in exact rational arithmetic."""
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


# -- Erlang-B -----------------------------------------------------------------------------------
@pytest.mark.parametrize("a", [0.01, 0.5, 1.0, 3.7, 100.0])
def test_erlang_b_one_server_is_a_over_one_plus_a(a: float) -> None:
    assert erlang_b(1, a) == pytest.approx(a / (1 + a), rel=1e-14)


@pytest.mark.parametrize("c", [2, 5, 10, 30])
@pytest.mark.parametrize("a", ["1/2", "2", "7", "25"])
def test_erlang_b_recursion_equals_the_definition(c: int, a: str) -> None:
    assert erlang_b(c, float(Fraction(a))) == pytest.approx(float(_erlang_b_exact(c, Fraction(a))), rel=1e-12)


def test_erlang_b_table_values() -> None:
    # Erlang-B table (e.g. Kleinrock 1975, Fig. 3.7; any teletraffic table): B(10, 5) = 0.0184,
    # B(5, 2) = 0.0367, B(20, 15) = 0.0456
    assert erlang_b(10, 5.0) == pytest.approx(0.018385, abs=5e-7)
    assert erlang_b(5, 2.0) == pytest.approx(0.036697, abs=5e-7)
    assert erlang_b(20, 15.0) == pytest.approx(0.045593, abs=5e-6)


def test_erlang_b_is_stable_for_many_servers() -> None:
    # A^c / c! overflows a float for c = 2000; the recursion does not
    b = erlang_b(2000, 1900.0)
    exact = _erlang_b_exact(2000, Fraction(1900))
    assert 0.0 < b < 1.0
    assert b == pytest.approx(float(exact), rel=1e-9)


def test_erlang_b_monotone() -> None:
    loads = np.linspace(0.1, 20, 50)
    values = [erlang_b(6, float(a)) for a in loads]
    assert all(x < y for x, y in zip(values, values[1:], strict=False))
    assert all(erlang_b(c, 4.0) > erlang_b(c + 1, 4.0) for c in range(1, 15))
    assert erlang_b(0, 4.0) == 1.0 and erlang_b(4, 0.0) == 0.0


@pytest.mark.parametrize(("c", "a"), [(1, 0.3), (4, 2.0), (16, 12.0), (64, 70.0)])
def test_erlang_b_derivative_matches_finite_difference(c: int, a: float) -> None:
    h = 1e-6 * a
    numeric = (erlang_b(c, a + h) - erlang_b(c, a - h)) / (2 * h)
    assert erlang_b_derivative(c, a) == pytest.approx(numeric, rel=1e-6)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((True, 1.0), "servers"),
        ((2.0, 1.0), "servers"),
        ((-1, 1.0), "servers"),
        ((2, -0.1), "offered_load_erlang"),
        ((2, math.nan), "offered_load_erlang"),
        ((2, math.inf), "offered_load_erlang"),
        ((2, True), "offered_load_erlang"),
        ((2, "1"), "offered_load_erlang"),
    ],
)
def test_erlang_b_refuses_bad_input(args: tuple, field: str) -> None:
    with pytest.raises(UserInputError, match=field):
        erlang_b(*args)


# -- Pollaczek-Khinchine ------------------------------------------------------------------------
@pytest.mark.parametrize("rho", [0.1, 0.5, 0.9])
def test_pk_reduces_to_mm1_and_md1(rho: float) -> None:
    mean_s = 2_000.0  # ns
    lam_hz = rho / mean_s * 1e9
    mu = 1.0 / mean_s  # per ns
    lam = lam_hz / 1e9
    # M/M/1: W_q = rho / (mu - lambda) (Kleinrock 1975, eq. 3.26 with W = T - 1/mu)
    mm1 = rho / (mu - lam)
    assert mg1_mean_wait_ns(arrival_rate_hz=lam_hz, mean_service_ns=mean_s,
                            service_second_moment_ns2=2 * mean_s**2) == pytest.approx(mm1, rel=1e-12)
    # M/D/1: W_q = rho / (2 mu (1 - rho)) (Kleinrock 1975, §5.7)
    md1 = rho / (2 * mu * (1 - rho))
    assert mg1_mean_wait_ns(arrival_rate_hz=lam_hz, mean_service_ns=mean_s,
                            service_second_moment_ns2=mean_s**2) == pytest.approx(md1, rel=1e-12)


def test_pk_zero_arrivals_wait_nothing() -> None:
    assert mg1_mean_wait_ns(arrival_rate_hz=0.0, mean_service_ns=5.0, service_second_moment_ns2=30.0) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"arrival_rate_hz": 1e6, "mean_service_ns": 1000.0, "service_second_moment_ns2": 2e6}, "rho"),
        ({"arrival_rate_hz": 1e5, "mean_service_ns": 1000.0, "service_second_moment_ns2": 5e5},
         "service_second_moment_ns2"),
        ({"arrival_rate_hz": -1.0, "mean_service_ns": 1000.0, "service_second_moment_ns2": 2e6},
         "arrival_rate_hz"),
        ({"arrival_rate_hz": 1e5, "mean_service_ns": 0.0, "service_second_moment_ns2": 2e6},
         "mean_service_ns"),
        ({"arrival_rate_hz": 1e5, "mean_service_ns": False, "service_second_moment_ns2": 2e6},
         "mean_service_ns"),
    ],
)
def test_pk_refuses_bad_input(kwargs: dict, field: str) -> None:
    with pytest.raises(UserInputError, match=field):
        mg1_mean_wait_ns(**kwargs)


# -- saturation bound ---------------------------------------------------------------------------
def test_saturation_bound_takes_the_bottleneck() -> None:
    bound = saturation_throughput_hz(
        capacity={"lanes": 32, "bsm_stations": 8, "comm_qubits": 512},
        work_ns={"lanes": 20e3, "bsm_stations": 10e3, "comm_qubits": 0.0},
    )
    assert bound.binding == "bsm_stations"
    assert bound.rate_hz == pytest.approx(8 / 10e3 * 1e9)
    assert bound.per_resource_hz["lanes"] == pytest.approx(32 / 20e3 * 1e9)
    assert math.isinf(bound.per_resource_hz["comm_qubits"])


@pytest.mark.parametrize(
    ("capacity", "work", "match"),
    [
        ({}, {}, "at least one"),
        ({"lanes": 1}, {"bsm": 1.0}, "same resources"),
        ({"lanes": 0}, {"lanes": 1.0}, "capacity"),
        ({"lanes": 1}, {"lanes": -1.0}, "work_ns"),
        ({"lanes": 1}, {"lanes": 0.0}, "infinite"),
        ({"lanes": True}, {"lanes": 1.0}, "boolean"),
    ],
)
def test_saturation_bound_refuses_bad_input(capacity: dict, work: dict, match: str) -> None:
    with pytest.raises(UserInputError, match=match):
        saturation_throughput_hz(capacity=capacity, work_ns=work)


# -- batch means --------------------------------------------------------------------------------
def test_batch_means_of_independent_values_matches_the_iid_error() -> None:
    rng = np.random.default_rng(11)
    values = rng.normal(3.0, 2.0, size=40_000)
    result = batch_means(values, batches=25)
    # the SE estimate of 25 batches has relative spread ~ 1/sqrt(2*24) = 0.14: 4 of those
    assert result.standard_error == pytest.approx(2.0 / math.sqrt(40_000), rel=4 * 0.145)
    assert abs(result.mean - 3.0) < Z * 2.0 / math.sqrt(40_000)


def test_batch_means_of_an_ar1_series_sees_the_correlation() -> None:
    # AR(1) x_t = phi x_{t-1} + e_t: the long-run variance of the mean is
    # sigma_e^2 / (1 - phi)^2 / n (Law & Kelton 2000, §9.5.3), 19x the naive one for phi = 0.9
    rng = np.random.default_rng(12)
    phi, n = 0.9, 200_000
    e = rng.normal(size=n)
    x = np.empty(n)
    x[0] = e[0] / math.sqrt(1 - phi**2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    expected = 1.0 / (1 - phi) / math.sqrt(n)
    result = batch_means(x, batches=20)
    assert result.standard_error == pytest.approx(expected, rel=4 * 0.17)
    assert result.standard_error > 3 * x.std() / math.sqrt(n)


def test_batch_means_refuses_bad_input() -> None:
    with pytest.raises(UserInputError, match="batches"):
        batch_means([1.0, 2.0, 3.0], batches=1)
    with pytest.raises(UserInputError, match="fewer than batches"):
        batch_means([1.0, 2.0, 3.0], batches=4)
    with pytest.raises(UserInputError, match="real numbers"):
        batch_means(["a", "b"], batches=2)


# -- reference queues simulated here: the agreement helpers' standard errors are honest ----------
def _loss_system(rng: np.random.Generator, *, servers: int, rate_per_ns: float, holding,
                 arrivals: int) -> tuple[np.ndarray, np.ndarray]:
    """A c-server loss system: (blocked, holding_ns) per Poisson arrival."""
    times = np.cumsum(rng.exponential(1.0 / rate_per_ns, size=arrivals))
    holds = holding(rng, arrivals)
    busy: list[float] = []
    blocked = np.zeros(arrivals, dtype=bool)
    for i, t in enumerate(times):
        while busy and busy[0] <= t:
            heapq.heappop(busy)
        if len(busy) >= servers:
            blocked[i] = True
        else:
            heapq.heappush(busy, t + holds[i])
    return blocked, holds


@pytest.mark.parametrize(
    ("servers", "load", "holding"),
    [
        (1, 0.5, "exponential"),
        (4, 3.0, "lognormal"),     # insensitivity: only the mean holding time matters
        (8, 6.0, "deterministic"),
    ],
)
def test_erlang_b_agreement_on_a_simulated_loss_system(servers: int, load: float, holding: str) -> None:
    mean_h = 1_000.0
    draws = {
        "exponential": lambda rng, n: rng.exponential(mean_h, n),
        "lognormal": lambda rng, n: rng.lognormal(math.log(mean_h) - 0.5, 1.0, n),
        "deterministic": lambda rng, n: np.full(n, mean_h),
    }
    rate = load / mean_h
    blocked, holds = _loss_system(np.random.default_rng(100 + servers), servers=servers,
                                  rate_per_ns=rate, holding=draws[holding], arrivals=40_000)
    agreement = erlang_b_agreement(blocked=blocked, holding_ns=holds, arrival_rate_hz=rate * 1e9,
                                   servers=servers)
    assert abs(agreement.z) < Z, agreement
    assert agreement.inputs["offered_load_erlang"] == pytest.approx(load, rel=0.05)


def _lindley(rng: np.random.Generator, *, rate_per_ns: float, service: np.ndarray) -> np.ndarray:
    """Waits in queue of an M/G/1 FIFO queue: W_{n+1} = max(0, W_n + S_n - T_{n+1})
    (D. V. Lindley, Proc. Camb. Phil. Soc. 48, 277 (1952))."""
    gaps = rng.exponential(1.0 / rate_per_ns, size=service.size)
    wait = np.zeros(service.size)
    for i in range(1, service.size):
        wait[i] = max(0.0, wait[i - 1] + service[i - 1] - gaps[i])
    return wait


@pytest.mark.parametrize(("rho", "kind"), [(0.3, "uniform"), (0.6, "geometric_rounds")])
def test_mg1_agreement_on_a_lindley_queue(rho: float, kind: str) -> None:
    rng = np.random.default_rng(7 + int(10 * rho))
    n = 60_000
    if kind == "uniform":
        service = rng.uniform(500.0, 1_500.0, size=n)
    else:  # like a link: a geometric number of 100-ns rounds plus a fixed 300 ns
        service = 300.0 + 100.0 * rng.geometric(0.15, size=n)
    rate = rho / service.mean()
    wait = _lindley(rng, rate_per_ns=rate, service=service)
    agreement = mg1_agreement(wait_ns=wait, service_ns=service, arrival_rate_hz=rate * 1e9,
                              warmup=1_000)
    assert abs(agreement.z) < Z, agreement
    # the error is honest: far above the naive iid error of the correlated waits
    assert agreement.standard_error > wait.std() / math.sqrt(n)


def test_agreement_helpers_refuse_bad_input() -> None:
    with pytest.raises(UserInputError, match="holding_ns"):
        erlang_b_agreement(blocked=[True, False], holding_ns=[1.0], arrival_rate_hz=1.0, servers=1)
    with pytest.raises(UserInputError, match="every arrival"):
        erlang_b_agreement(blocked=[True] * 4, holding_ns=[1.0] * 4, arrival_rate_hz=1.0, servers=1,
                           batches=2)
    with pytest.raises(UserInputError, match="booleans"):
        erlang_b_agreement(blocked=[1.0, 0.0], holding_ns=[1.0, 1.0], arrival_rate_hz=1.0, servers=1)
    with pytest.raises(UserInputError, match="service_ns"):
        mg1_agreement(wait_ns=[0.0, 1.0], service_ns=[1.0], arrival_rate_hz=1.0)
    with pytest.raises(UserInputError, match="rho"):
        mg1_agreement(wait_ns=[0.0] * 4, service_ns=[1e9] * 4, arrival_rate_hz=10.0, batches=2)
