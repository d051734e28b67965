"""Closed forms of the ``cache_decoherence`` study: fidelity at use and the optimal cutoff.

The request stream of :mod:`modenhub_net.studies.cache_decoherence` (Poisson requests on a
hub calibrated to the paper's p_eff(N), cache capacity 1, a cutoff on stored pairs) has a
closed-form objective ``J(c) = success x mean teleportation fidelity`` as a function of the
cutoff ``c`` (:func:`closed_form_objective`, derivation in its docstring), its optimum
(:func:`closed_form_optimum`), the optimum against the request rate
(:func:`optimum_vs_rate`), and a smoothed location of a simulated sweep's maximum
(:func:`sweep_vertex`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import integrate, optimize

from hardware_models.memory import MemoryParams, memory_channel_params
from modenhub_net.studies.preset_path import pair_budget

if TYPE_CHECKING:  # pragma: no cover
    from modenhub_net.studies.cache_decoherence import StreamSection

__all__ = [
    "StreamConstants",
    "closed_form_objective",
    "closed_form_optimum",
    "optimum_table",
    "optimum_vs_rate",
    "pair_fidelity_at_age",
    "stream_constants",
    "sweep_vertex",
]


@dataclasses.dataclass(frozen=True)
class StreamConstants:
    """Closed-form constants of the stream (see :func:`closed_form_objective`)."""

    p: float
    k: int
    rounds: int
    f0: float
    success_fresh: float
    spare_probability: float
    rate_per_pair_hz: float
    memory: MemoryParams


def stream_constants(stream: StreamSection) -> StreamConstants:
    """``S = 1 - (1-p)^(K R)``, ``q = P(>= 2 heralds | round heralds) S``, ``lambda``.

    ``p`` and the heralded fidelity ``f0`` are the closed-form budget of the calibrated hub's
    devices (:func:`~modenhub_net.studies.preset_path.pair_budget`: ``p = p_eff(N)``,
    ``f0 = (1 + V) / 2`` for double click, Barrett & Kok 2005).
    """
    from modenhub_net.studies.cache_decoherence import _stream_memory, stream_hardware

    nodes, hub, model = stream_hardware(stream)
    budget = pair_budget(nodes[0], nodes[1], hub, stream.n_qpus)
    p, k, r = budget.p_success, model.k_parallel(stream.n_qpus), stream.rounds
    p1 = 1.0 - (1.0 - p) ** k
    p2 = p1 - k * p * (1.0 - p) ** (k - 1)
    s = 1.0 - (1.0 - p) ** (k * r)
    pairs = stream.n_qpus * (stream.n_qpus - 1) / 2
    return StreamConstants(
        p,
        k,
        r,
        budget.fidelity,
        s,
        p2 / p1 * s,
        1e9 / (stream.mean_interarrival_ns * pairs),
        _stream_memory(stream),
    )


def pair_fidelity_at_age(age_ns: float, f0: float, params: MemoryParams) -> float:
    """Fidelity with Phi+ of ``f0 Phi+ + (1-f0) Phi-`` after both qubits were stored ``age_ns``.

    With ``(u, a, c)`` of :func:`hardware_models.memory.memory_channel_params` on each qubit:
    ``F = ((1-u)^2 + (1-a)^2 + u^2 + a^2 + 2 c^2 (2 f0 - 1)) / 4`` (the derivation of
    :func:`~hardware_models.memory.stored_pair_fidelity` with coherence ``(2 f0 - 1)/2``).
    """
    u, a, c = memory_channel_params(age_ns, params)
    return ((1 - u) ** 2 + (1 - a) ** 2 + u * u + a * a + 2 * c * c * (2 * f0 - 1)) / 4


def _f_tel(age_ns: float, k: StreamConstants) -> float:
    """Average teleportation fidelity ``(2 F + 1) / 3`` (Horodecki et al., PRA 60, 1888 (1999))."""
    return (2 * pair_fidelity_at_age(age_ns, k.f0, k.memory) + 1) / 3


def closed_form_objective(cutoff_ns: float | np.ndarray, k: StreamConstants) -> pd.DataFrame:
    """Success rate, mean teleportation fidelity at use and their product vs cutoff.

    Model (stated assumptions): requests on one QPU pair arrive as a Poisson process of rate
    ``lambda``; service is instantaneous on that scale. A request finds a spare (from the last
    request on the pair that generated) with stationary probability ``pi``; the spare is valid
    if its age, ``Exp(lambda)``, is below the cutoff ``c`` (``h = 1 - e^{-lambda c}``). A hit
    consumes the spare; a miss generates with success ``S`` and leaves a new spare with
    probability ``q``. Hence ``pi = q / (1 + q h)``, success ``= pi h + (1 - pi h) S`` and

    ``J(c) = S Fbar + pi(c) int_0^c lambda e^{-lambda t} (F_tel(t) - S Fbar) dt``,

    with ``F_tel(t) = (2 F(t) + 1) / 3`` for the stored pair (:func:`pair_fidelity_at_age`;
    standard teleportation through any resource has entanglement fidelity ``<Phi+|rho|Phi+>``,
    Bowen & Bose, PRL 87, 267901 (2001), and average fidelity ``(2 F_e + 1)/3``, Horodecki et
    al., PRA 60, 1888 (1999)) and ``Fbar = F_tel(0)``. ``J`` = success rate x mean fidelity.
    Setting ``dJ/dc = 0`` shows that without the ``pi(c)`` feedback the optimum is where
    ``F_tel(c) = S Fbar`` (a stored pair is worth exactly a fresh attempt); the feedback (hits
    consume spares) moves it lower.

    Teleported CNOT (column ``mean_cnot_fidelity``): for a pair ``F Phi+ + (1-F) Phi-`` (pure
    dephasing, ``T1 = inf``) the Phi- error is a Z on one half of the ebit; in the protocol of
    Eisert et al., PRA 62, 052317 (2000) a Z on A's half propagates through CNOT(c, e_A) to the
    control, and a Z on B's half flips the X-basis outcome m2, i.e. a wrong Z^m2 on the control.
    Either way the output is ``Z_c CNOT |a b>``; ``Z_c`` commutes with CNOT, so its overlap with
    the ideal output is ``|<a|Z|a>|^2``, 1/3 on average over Haar-random ``|a>``. Hence
    ``F_CNOT = F + (1-F)/3 = (2F+1)/3 = F_tel`` request by request, and the mean CNOT fidelity
    at use equals the teleportation one. With finite T1 the pair also has Psi+- weight and this
    identity is not derived here (NaN).
    """
    lam = k.rate_per_pair_hz * 1e-9
    sf = k.success_fresh * _f_tel(0.0, k)
    rows = []
    for c in np.atleast_1d(np.asarray(cutoff_ns, dtype=float)):
        h = 1.0 if math.isinf(c) else 1.0 - math.exp(-lam * c)
        pi = k.spare_probability / (1 + k.spare_probability * h)
        upper = c if math.isfinite(c) else 60.0 / lam
        gain, _ = integrate.quad(
            lambda t: lam * math.exp(-lam * t) * (_f_tel(t, k) - sf), 0.0, upper, limit=200
        )
        j = sf + pi * gain
        success = pi * h + (1 - pi * h) * k.success_fresh
        rows.append(
            dict(
                cutoff_ns=c,
                hit_rate=pi * h,
                success=success,
                product=j,
                mean_teleport_fidelity=j / success,
                mean_cnot_fidelity=j / success if math.isinf(k.memory.t1_ns) else math.nan,
            )
        )
    return pd.DataFrame(rows)


def closed_form_optimum(k: StreamConstants) -> dict[str, float]:
    """Maximiser of :func:`closed_form_objective` and the no-feedback threshold ``F_tel(c) = S Fbar``."""
    t2 = k.memory.t2_ns

    def neg(logc: float) -> float:
        return -float(closed_form_objective(10.0**logc, k)["product"].iloc[0])

    grid = np.linspace(math.log10(t2) - 4, math.log10(t2) + 2, 121)
    values = [neg(g) for g in grid]
    i = int(np.argmin(values))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    res = optimize.minimize_scalar(neg, bounds=(lo, hi), method="bounded", options=dict(xatol=1e-4))
    c_star = 10.0**res.x
    j_inf = float(closed_form_objective(math.inf, k)["product"].iloc[0])
    target = k.success_fresh * _f_tel(0.0, k)
    if _f_tel(60 * t2, k) >= target:
        threshold = math.inf
    else:
        threshold = optimize.brentq(lambda t: _f_tel(t, k) - target, 0.0, 60 * t2)
    if j_inf >= -res.fun:
        c_star = math.inf
    return dict(cutoff_ns=c_star, product=max(-res.fun, j_inf), threshold_cutoff_ns=threshold)


def sweep_vertex(table: pd.DataFrame, band: pd.DataFrame) -> dict[str, float]:
    """Smoothed sweep optimum: weighted quadratic in ``log10(cutoff / T2)`` through ``band``.

    ``band`` holds the swept cutoffs whose product is within 2 SE of the best one (finite
    cutoffs only are used). Weights ``1 / SE``; the vertex ``u* = -a1 / (2 a2)`` and its 1-sigma
    error by the delta method from the unscaled covariance (each point's SE taken as known;
    the common random numbers correlate neighbouring cutoffs, which this ignores). NaN when
    fewer than three finite cutoffs are in the band or the parabola does not open downwards.
    """
    fin = band[np.isfinite(band["cutoff_over_t2"])]
    nan = dict(
        cutoff_over_t2=math.nan,
        cutoff_over_t2_low=math.nan,
        cutoff_over_t2_high=math.nan,
        product=math.nan,
        points=len(fin),
    )
    if len(fin) < 3:
        return nan
    u = np.log10(fin["cutoff_over_t2"].to_numpy(float))
    y = fin["teleport_product"].to_numpy(float)
    se = fin["teleport_product_se"].to_numpy(float)
    coef, cov = np.polyfit(u, y, 2, w=1.0 / se, cov="unscaled")
    a2, a1, a0 = coef
    if not a2 < 0:
        return nan
    v = -a1 / (2 * a2)
    grad = np.array([a1 / (2 * a2**2), -1 / (2 * a2), 0.0])
    sd = float(np.sqrt(grad @ cov @ grad))
    return dict(
        cutoff_over_t2=10.0**v,
        cutoff_over_t2_low=10.0 ** (v - sd),
        cutoff_over_t2_high=10.0 ** (v + sd),
        product=float(a0 - a1 * a1 / (4 * a2)),
        points=len(fin),
    )


def optimum_vs_rate(
    stream: StreamSection, factors: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0)
) -> pd.DataFrame:
    """Closed-form optimum for request streams ``factor`` times as dense as ``stream``."""
    rows = []
    for f in factors:
        st = stream.model_copy(update=dict(mean_interarrival_ns=stream.mean_interarrival_ns / f))
        k = stream_constants(st)
        opt = closed_form_optimum(k)
        no_cache = float(closed_form_objective(math.inf, k)["product"].iloc[0])
        rows.append(
            dict(
                rate_factor=f,
                mean_interarrival_ns=st.mean_interarrival_ns,
                rate_per_pair_hz=k.rate_per_pair_hz,
                cutoff_ns=opt["cutoff_ns"],
                cutoff_over_t2=opt["cutoff_ns"] / k.memory.t2_ns,
                product=opt["product"],
                product_no_cutoff=no_cache,
                threshold_cutoff_over_t2=opt["threshold_cutoff_ns"] / k.memory.t2_ns,
            )
        )
    return pd.DataFrame(rows)


def optimum_table(best: pd.Series, near: pd.DataFrame, smooth: dict[str, float], opt: dict[str, float],
                  t2_ns: float) -> pd.DataFrame:
    """``optimum.csv``: the sweep's grid maximum (with its 2-SE band), its smoothed vertex,
    the closed-form optimum and the no-feedback threshold, each as cutoff and cutoff / T2."""
    return pd.DataFrame([
        dict(method="sweep", cutoff_ns=best.cutoff_ns, cutoff_over_t2=best.cutoff_over_t2,
             cutoff_over_t2_low=float(near["cutoff_over_t2"].min()),
             cutoff_over_t2_high=float(near["cutoff_over_t2"].max()),
             product=best.teleport_product, product_se=best.teleport_product_se),
        dict(method="sweep_quadratic", cutoff_ns=smooth["cutoff_over_t2"] * t2_ns,
             cutoff_over_t2=smooth["cutoff_over_t2"], cutoff_over_t2_low=smooth["cutoff_over_t2_low"],
             cutoff_over_t2_high=smooth["cutoff_over_t2_high"], product=smooth["product"],
             product_se=np.nan),
        dict(method="closed_form", cutoff_ns=opt["cutoff_ns"], cutoff_over_t2=opt["cutoff_ns"] / t2_ns,
             product=opt["product"], product_se=0.0),
        dict(method="closed_form_threshold", cutoff_ns=opt["threshold_cutoff_ns"],
             cutoff_over_t2=opt["threshold_cutoff_ns"] / t2_ns, product=np.nan, product_se=0.0),
    ])
