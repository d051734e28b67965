"""Hardware, workloads and statistics shared by the queueing validation of the concurrent stack.

The hardware is the ``ideal`` preset (ideal memories, gates and detectors) with 50 m fibres
(one-way classical latency 250 ns, attempt period 501 ns: the round trip plus the 1 ns emission)
and a switch whose fixed 3 dB insertion loss makes the per-attempt herald probability of a
double-click BSM ``p = eta_sw^2 / 2 = 0.1256`` (Barrett & Kok, PRA 71, 060310 (2005)): a
link's number of rounds is random, so service times are genuinely "general".

The workload cycles through ``N / 2`` disjoint QPU pairs ``(0, 1), (2, 3), ...`` with Poisson
arrival times: the arrival process is Poisson, and a pair recurs only after ``N / 2`` arrivals
(with ``N / 2 >> `` offered load, its previous request has long finished), so the only
resources requests compete for are the hub's (lanes, stations): the setting of Erlang's and
Pollaczek-Khinchine's formulas. Tests check that no request was blocked by a busy QPU port.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from hardware_models.switch import SwitchParams
from modenhub_net.network.spec import HubSpec, QpuSpec
from modenhub_net.queueing import batch_means
from protocols.workload import Request

#: fibre from each QPU to the hub, km (50 m: one rack row of a data centre)
FIBRE_KM = 0.05
#: the switch's fixed insertion loss, dB (sets p = 10^(-2 * 0.3) / 2 = 0.1256)
SWITCH_LOSS_DB = 3.0
#: standard errors allowed
Z_MAX = 4.0


def hardware(n_qpus: int, *, lanes: int, stations: int) -> tuple[list[QpuSpec], HubSpec]:
    """``n_qpus`` ideal QPUs at :data:`FIBRE_KM` and a hub of ``lanes`` lanes (``2 lanes``
    switch circuits) and ``stations`` BSM stations behind a :data:`SWITCH_LOSS_DB` switch."""
    nodes = [QpuSpec.from_preset("ideal", fibre_length_km=FIBRE_KM)] * n_qpus
    hub = HubSpec.from_preset("ideal", bsm_stations=stations, max_circuits=2 * lanes)
    hub = HubSpec(**{**hub.model_dump(), "switch": SwitchParams(fixed_loss_db=SWITCH_LOSS_DB)})
    return nodes, hub


def disjoint_pair_requests(rng: np.random.Generator, *, n_qpus: int, count: int,
                           rate_per_ns: float) -> list[Request]:
    """Poisson arrivals (``rate_per_ns``; inf: all at t = 0) cycling through the disjoint
    pairs ``(2j, 2j + 1)``, ``j = i mod (N / 2)``."""
    if math.isinf(rate_per_ns):
        times = np.zeros(count)
    else:
        times = np.cumsum(rng.exponential(1.0 / rate_per_ns, size=count))
    half = n_qpus // 2
    return [Request(i, 2 * (i % half), 2 * (i % half) + 1, "teleport", float(times[i]))
            for i in range(count)]


def batch_delta(table: np.ndarray, statistic: Callable[[np.ndarray], float], *,
                batches: int = 20) -> tuple[float, float]:
    """A smooth statistic of column means and its standard error.

    ``statistic(means)`` is evaluated at the grand means of the columns of ``table`` (rows in
    time order); its standard error is the delta method with a numerical gradient and the
    covariance of the batch means (:func:`modenhub_net.queueing.batch_means`; Law & Kelton,
    *Simulation Modeling and Analysis*, 3rd ed., 2000, §9.5.3 and §9.7).
    """
    result = batch_means(table, batches=batches)
    means = np.asarray(result.mean, dtype=float)
    value = float(statistic(means))
    gradient = np.empty(means.size)
    for j in range(means.size):
        step = 1e-6 * max(abs(means[j]), 1e-12)
        up, down = means.copy(), means.copy()
        up[j] += step
        down[j] -= step
        gradient[j] = (statistic(up) - statistic(down)) / (2 * step)
    cov = np.atleast_2d(np.cov(result.batch_values, rowvar=False, ddof=1))
    return value, math.sqrt(max(float(gradient @ cov @ gradient), 0.0) / batches)


def busy_seen_at_start(start_ns: np.ndarray, released_ns: np.ndarray) -> np.ndarray:
    """For each interval ``[start_i, released_i)``, how many *other* intervals contain
    ``start_i`` (the requests in service when request ``i`` started)."""
    starts = np.sort(start_ns)
    ends = np.sort(released_ns)
    begun = np.searchsorted(starts, start_ns, side="left")  # others started strictly before
    ended = np.searchsorted(ends, start_ns, side="right")   # released at or before
    return begun - ended
