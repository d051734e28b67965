"""The concurrent hub against queueing theory (validation tier; reduced sizes under CI=true).

- Erlang-B: a hub with c lanes, admission ``loss``, Poisson requests on disjoint pairs; the
  measured blocking vs ``B(c, lambda H)`` with H the measured mean lane-holding time of the
  admitted requests (Erlang-B is insensitive to the holding-time distribution);
- M/G/1: a one-lane hub, admission ``queue``, FIFO; the mean wait in queue vs
  Pollaczek-Khinchine with the measured service-time moments;
- saturation: every request present at t = 0; the throughput vs the bound of the binding
  resource (the utilisation law), with the lanes or the BSM stations binding;
- concurrency at scale: requests on disjoint pairs are in service together; the fraction of
  admitted requests that start while another is in service vs Erlang's stationary
  distribution ``pi_k`` (insensitive too) seen by Poisson arrivals (PASTA).

Standard errors: waits and blocking indicators of successive requests are correlated, so every
error is from batch means (20 batches, Law & Kelton 2000, §9.5.3) of all the measured
quantities jointly, propagated to the compared difference by the delta method
(:func:`modenhub_net.queueing.erlang_b_agreement`, :func:`~modenhub_net.queueing.mg1_agreement`,
:func:`tests.stack_validation.helpers.batch_delta`). Every comparison is within 4 SE.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from modenhub_net.network.stack_run import run_stack
from modenhub_net.queueing import (
    erlang_b,
    erlang_b_agreement,
    mg1_agreement,
    saturation_throughput_hz,
)
from tests.stack_validation.helpers import (
    Z_MAX,
    batch_delta,
    busy_seen_at_start,
    disjoint_pair_requests,
    hardware,
)

pytestmark = pytest.mark.validation

N_QPUS = 128  # 64 disjoint pairs: a pair recurs after 64 arrivals, >> the offered load


def _loss_run(lanes: int, load_erlang: float, arrivals: int, seed: int):
    """A loss hub of ``lanes`` lanes at an offered load of about ``load_erlang``."""
    nodes, hub = hardware(N_QPUS, lanes=lanes, stations=8 * lanes)
    # mean lane holding ~ 250 ns (command) + 1.54 rounds x 501 ns (K = 4, p = 0.126, R = 3)
    rate_per_ns = load_erlang / 1_210.0
    rng = np.random.default_rng(seed)
    requests = disjoint_pair_requests(rng, n_qpus=N_QPUS, count=arrivals, rate_per_ns=rate_per_ns)
    run = run_stack(nodes=nodes, hub=hub, scheme="detection_in_hub", link_mode="sampled",
                    requests=requests, seed=seed, admission="loss", scheduler="fifo",
                    policy="orchestrated_nocache")
    return run, rate_per_ns


@pytest.fixture(scope="module", params=[(2, 1.0), (6, 5.0)], ids=["c2_A1", "c6_A5"])
def loss_run(request, validation_scale):
    lanes, load = request.param
    arrivals = max(4_000, int(40_000 * validation_scale))
    run, rate = _loss_run(lanes, load, arrivals, seed=1_000 + lanes)
    return lanes, run, rate


def test_erlang_b_blocking_of_a_lane_limited_hub(loss_run) -> None:
    lanes, run, rate_per_ns = loss_run
    frame = run.frame().sort_values("arrival_ns")
    # the setting: only lanes block (no busy QPU port, no device or qubit shortage)
    assert set(frame.loc[frame["blocked"], "blocked_by"]) == {"switch_circuits"}
    holding = (frame["released_ns"] - frame["start_ns"]).to_numpy(float)
    agreement = erlang_b_agreement(blocked=frame["blocked"].to_numpy(bool), holding_ns=holding,
                                   arrival_rate_hz=rate_per_ns * 1e9, servers=lanes, warmup=50)
    print(f"Erlang-B c = {lanes}: A = {agreement.inputs['offered_load_erlang']:.3f} erl, blocking "
          f"{agreement.measured:.4f} vs B = {agreement.predicted:.4f} +- {agreement.standard_error:.4f} "
          f"(binomial {agreement.binomial_standard_error:.4f}), z = {agreement.z:+.2f}")
    assert 0.05 < agreement.predicted < 0.6  # a meaningful load, not a trivial corner
    assert abs(agreement.z) < Z_MAX, agreement


def test_overlap_of_service_under_load_matches_erlang_occupancy(loss_run) -> None:
    """At scale, requests on disjoint pairs are served at the same time: an admitted request
    starts while ``k >= 1`` others are in service with the probability that a Poisson arrival
    finds ``1 <= k < c`` lanes busy given ``k < c``: ``(1 - pi_0 - pi_c) / (1 - pi_c)``, with
    Erlang's ``pi_k = (A^k / k!) / sum_j A^j / j!`` (Kleinrock 1975, §3.7; insensitive)."""
    lanes, run, rate_per_ns = loss_run
    frame = run.frame().sort_values("arrival_ns").iloc[50:]
    admitted = ~frame["blocked"].to_numpy(bool)
    start = frame["start_ns"].to_numpy(float)
    released = frame["released_ns"].to_numpy(float)
    busy = np.zeros(len(frame), dtype=int)
    busy[admitted] = busy_seen_at_start(start[admitted], released[admitted])
    assert busy.max() == lanes - 1  # every lane in use at once at some moment
    hold = np.where(admitted, released - start, 0.0)
    table = np.column_stack([(busy >= 1) & admitted, admitted, hold]).astype(float)

    def difference(m: np.ndarray) -> float:
        load = rate_per_ns * m[2] / m[1]
        terms = np.array([load**k / math.factorial(k) for k in range(lanes + 1)])
        pi = terms / terms.sum()
        return m[0] / m[1] - (1.0 - pi[0] - pi[-1]) / (1.0 - pi[-1])

    diff, se = batch_delta(table, difference)
    measured = table[:, 0].sum() / table[:, 1].sum()
    print(f"overlap c = {lanes}: {measured:.4f} of admitted requests start while another is in "
          f"service; Erlang occupancy predicts {measured - diff:.4f}; z = {diff / se:+.2f}")
    assert measured > 0.3
    assert abs(diff / se) < Z_MAX


def test_mg1_mean_wait_of_a_one_lane_hub(validation_scale) -> None:
    """One lane, FIFO, queue: the lane is the single server; service = lane holding time
    (command latency + a truncated-geometric number of 501-ns rounds, naive policy: 1 attempt
    a round, R = 8)."""
    nodes, hub = hardware(N_QPUS, lanes=1, stations=4)
    customers = max(5_000, int(30_000 * validation_scale))
    # E[S] ~ 250 + 501 (1 - 0.874^8) / 0.1256 ~ 2,880 ns; rho ~ 0.5
    rate_per_ns = 0.5 / 2_880.0
    rng = np.random.default_rng(2_024)
    requests = disjoint_pair_requests(rng, n_qpus=N_QPUS, count=customers, rate_per_ns=rate_per_ns)
    run = run_stack(nodes=nodes, hub=hub, scheme="detection_in_hub", link_mode="sampled",
                    requests=requests, seed=2_024, admission="queue", scheduler="fifo",
                    policy="naive", rounds=8)
    frame = run.frame().sort_values("arrival_ns")
    assert not frame["blocked"].any() and not frame["dropped"].any()
    submit_ns = run.net.report_ns(0)  # the request message's latency QPU -> hub (all equal)
    wait = frame["queue_wait_ns"].to_numpy(float) - submit_ns
    service = (frame["released_ns"] - frame["start_ns"]).to_numpy(float)
    # one server, work-conserving: a request starts when it arrives or when the previous leaves
    received = frame["arrival_ns"].to_numpy(float) + submit_ns
    start = frame["start_ns"].to_numpy(float)
    previous_release = np.concatenate([[-np.inf], frame["released_ns"].to_numpy(float)[:-1]])
    np.testing.assert_allclose(start, np.maximum(received, previous_release), rtol=0, atol=1e-6)
    assert service.std() > 0.3 * service.mean()  # a genuinely general service time
    agreement = mg1_agreement(wait_ns=wait, service_ns=service, arrival_rate_hz=rate_per_ns * 1e9,
                              warmup=200)
    print(f"M/G/1: rho = {agreement.inputs['rho']:.3f}, E[S] = {agreement.inputs['mean_service_ns']:.1f} ns, "
          f"mean wait {agreement.measured:.1f} ns vs P-K {agreement.predicted:.1f} +- "
          f"{agreement.standard_error:.1f} ns, z = {agreement.z:+.2f}")
    assert 0.35 < agreement.inputs["rho"] < 0.65
    assert abs(agreement.z) < Z_MAX, agreement


def _saturated(lanes: int, stations: int, count: int, seed: int):
    nodes, hub = hardware(N_QPUS, lanes=lanes, stations=stations)
    requests = disjoint_pair_requests(np.random.default_rng(seed), n_qpus=N_QPUS, count=count,
                                      rate_per_ns=math.inf)
    run = run_stack(nodes=nodes, hub=hub, scheme="detection_in_hub", link_mode="sampled",
                    requests=requests, seed=seed, admission="queue", scheduler="fifo",
                    policy="orchestrated_nocache")
    return run, run.frame()


@pytest.mark.parametrize(
    ("lanes", "stations", "binding"),
    [(4, 64, "lanes"), (16, 8, "bsm_stations")],
    ids=["lanes_bind", "stations_bind"],
)
def test_saturation_throughput_meets_the_resource_bound(lanes, stations, binding, validation_scale) -> None:
    """Offered load >> capacity: the served rate equals ``min_r capacity_r / work_r``.

    Two bounds are compared with the throughput measured between the 10 % and 90 % quantiles of
    the release times: the utilisation-law bound from the run's measured work per request
    (lane-ns and station-ns), and the closed form of the same bound from the device budget
    (``p``, attempt period, classical latency: a lane is held for the command latency plus
    ``E[rounds] = sum_{r < R} (1 - q)^r`` rounds, ``q = 1 - (1 - p)^k``)."""
    count = max(3_000, int(12_000 * validation_scale))
    run, frame = _saturated(lanes, stations, count, seed=77 + lanes)
    served = frame[~frame["blocked"] & ~frame["dropped"]]
    hold = (served["released_ns"] - served["start_ns"]).to_numpy(float)
    k = served["devices_held"].to_numpy(float)
    release = served["released_ns"].to_numpy(float)
    # the steady window: the hub is saturated (a queue waits) between these release quantiles
    t0, t1 = np.quantile(release, [0.1, 0.9])
    batches = 20
    edges = np.linspace(t0, t1, batches + 1)
    width_ns = (t1 - t0) / batches
    which = np.searchsorted(edges, release, side="right") - 1
    inside = (which >= 0) & (which < batches)
    count_b = np.bincount(which[inside], minlength=batches).astype(float)
    lane_work_b = np.bincount(which[inside], weights=hold[inside], minlength=batches)
    station_work_b = np.bincount(which[inside], weights=(k * hold)[inside], minlength=batches)
    capacity = {"lanes": float(lanes), "bsm_stations": float(stations)}
    mean_work = {"lanes": lane_work_b.sum() / count_b.sum(),
                 "bsm_stations": station_work_b.sum() / count_b.sum()}
    bound = saturation_throughput_hz(capacity=capacity, work_ns=mean_work)
    assert bound.binding == binding
    table = np.column_stack([count_b, lane_work_b if binding == "lanes" else station_work_b])
    cap = capacity[binding]

    def difference(m: np.ndarray) -> float:  # measured rate - bound, per ns
        return m[0] / width_ns - cap * m[0] / m[1]

    diff, se = batch_delta(table, difference, batches=batches)
    throughput_hz = count_b.sum() / (t1 - t0) * 1e9
    print(f"saturation ({binding} bind): {throughput_hz / 1e3:.2f} kHz served vs utilisation-law bound "
          f"{bound.rate_hz / 1e3:.2f} kHz (z = {diff / se:+.2f}); per resource "
          + ", ".join(f"{r} {v / 1e3:.2f} kHz" for r, v in bound.per_resource_hz.items()))
    assert abs(diff / se) < Z_MAX

    # the closed form of the binding bound, from the device budget
    p = run.net.p_success(0, 1)
    period = run.net.budget(0, 1).attempt_period_ns
    command = run.net.herald_ns(0)
    ks = np.unique(k)
    assert ks.size == 1  # every request got the same parallel attempts
    q = 1.0 - (1.0 - p) ** ks[0]
    rounds = 3
    mean_hold = command + period * sum((1.0 - q) ** r for r in range(rounds))
    closed_hz = cap / (mean_hold * (1.0 if binding == "lanes" else ks[0])) * 1e9
    count_only = count_b / (width_ns * 1e-9)
    se_hz = count_only.std(ddof=1) / math.sqrt(batches)
    z = (throughput_hz - closed_hz) / se_hz
    print(f"  closed form: k = {ks[0]:g}, E[hold] = {mean_hold:.1f} ns -> bound {closed_hz / 1e3:.2f} kHz; "
          f"z = {z:+.2f}")
    assert abs(z) < Z_MAX


def test_requests_arriving_together_on_disjoint_pairs_are_served_together() -> None:
    """32 requests on 32 disjoint pairs of a 64-QPU hub with 32 lanes, all at t = 0: all start
    at the same time (when their message reaches the hub) and are in service together."""
    n = 64
    nodes, hub = hardware(n, lanes=32, stations=256)
    requests = disjoint_pair_requests(np.random.default_rng(5), n_qpus=n, count=32, rate_per_ns=math.inf)
    run = run_stack(nodes=nodes, hub=hub, scheme="detection_in_hub", link_mode="sampled",
                    requests=requests, seed=5, admission="loss", policy="orchestrated_nocache")
    frame = run.frame()
    assert not frame["blocked"].any()
    start = frame["start_ns"].to_numpy(float)
    np.testing.assert_allclose(start, run.net.report_ns(0), rtol=0, atol=1e-9)
    released = frame["released_ns"].to_numpy(float)
    assert (released > start).all()
    moment = start.max()  # just when the last one started, all 32 are in service
    assert int(((start <= moment) & (released > moment)).sum()) == 32
    assert erlang_b(32, 1.0) < 1e-30  # (the lanes are never the reason here)
