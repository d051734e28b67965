"""Weighted least-squares fits of p(N) to the paper's form and to the dB-per-stage form.

Forms (``x = log2 N``):

``hyperbolic``
    the paper's ``p_eff(N) = p0 / (1 + beta x)`` (ModEn-Hub paper, Fig. 3);
``exponential``
    ``p0 * 10**(-b x / 10)``: what a fabric of ``log2 N`` stages with ``b`` dB of loss per
    stage (both photons counted) predicts (multistage switch, :func:`hardware_models.switch.switch_stages`).

Fits use :func:`scipy.optimize.curve_fit` with ``sigma`` the standard errors of the points and
``absolute_sigma=True`` (parameter errors are then the square roots of the covariance
diagonal; Press et al., *Numerical Recipes*, 3rd ed., §15.4). Goodness of fit: chi-square,
``dof = points - 2``, its upper-tail probability, and Akaike's ``AIC = chi2 + 2 k`` (equal k
here, so the smaller chi2 is the better form). :func:`fit_all` fits both forms to every
preset's p(N) table of the ``peff_validation`` study.

Examples
--------
>>> import numpy as np
>>> n = np.array([2, 4, 8, 16, 32, 64, 128])
>>> p = hyperbolic(n, 0.3, 0.5)
>>> fit = fit_form(n, p, np.full(n.size, 1e-4), form="hyperbolic")
>>> round(fit.params[0], 6), round(fit.params[1], 6)
(0.3, 0.5)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize, stats

__all__ = ["FORMS", "hyperbolic", "exponential", "FitResult", "fit_form", "fit_all"]


def hyperbolic(n: ArrayLike, p0: float, beta: float) -> np.ndarray:
    """``p0 / (1 + beta log2 N)`` (the paper's p_eff)."""
    return p0 / (1.0 + beta * np.log2(np.asarray(n, dtype=float)))


def exponential(n: ArrayLike, p0: float, b_db: float) -> np.ndarray:
    """``p0 10**(-b_db log2 N / 10)`` (loss of ``b_db`` dB per doubling of N)."""
    return p0 * 10.0 ** (-b_db * np.log2(np.asarray(n, dtype=float)) / 10.0)


#: parameter bounds of both forms: p0 in [0, 1], slope in [-0.99, 100]
_BOUNDS = ((0.0, -0.99), (1.0, 100.0))

#: form name -> (function, parameter names)
FORMS: dict[str, tuple[Callable[..., np.ndarray], tuple[str, str]]] = {
    "hyperbolic": (hyperbolic, ("p0", "beta")),
    "exponential": (exponential, ("p0", "b_db")),
}


@dataclass(frozen=True)
class FitResult:
    """One weighted fit.

    Attributes
    ----------
    form : str
    names : tuple of str
        Parameter names.
    params, errors : tuple of float
        Best-fit values and their 1-sigma errors.
    chi2 : float
    dof : int
    p_value : float
        ``P(chi2_dof >= chi2)`` (NaN if ``dof <= 0``).
    aic : float
        ``chi2 + 2 * len(params)``.
    residuals : numpy.ndarray
        Normalised residuals ``(y - f) / sigma``.
    at_bound : bool
        A parameter ended on its bound (the form cannot follow the data; errors unreliable).
    """

    form: str
    names: tuple[str, ...]
    params: tuple[float, ...]
    errors: tuple[float, ...]
    chi2: float
    dof: int
    p_value: float
    aic: float
    residuals: np.ndarray
    at_bound: bool = False

    @property
    def chi2_dof(self) -> float:
        """``chi2 / dof`` (NaN if ``dof <= 0``)."""
        return self.chi2 / self.dof if self.dof > 0 else float("nan")

    def predict(self, n: ArrayLike) -> np.ndarray:
        """The fitted curve at ``n``."""
        return FORMS[self.form][0](n, *self.params)


def fit_form(n: ArrayLike, p: ArrayLike, sigma: ArrayLike, *, form: str) -> FitResult:
    """Weighted least-squares fit of one form.

    Parameters
    ----------
    n : array_like
        Number of QPUs per point (>= 1).
    p : array_like
        Measured per-attempt success per point.
    sigma : array_like
        Standard error per point (> 0).
    form : {"hyperbolic", "exponential"}

    Returns
    -------
    FitResult
    """
    func, names = FORMS[form]
    x = np.asarray(n, dtype=float)
    y = np.asarray(p, dtype=float)
    s = np.asarray(sigma, dtype=float)
    guess = (float(y[np.argmin(x)]) * 1.1, 0.1)
    low, high = np.array(_BOUNDS[0]), np.array(_BOUNDS[1])
    params, cov = optimize.curve_fit(
        func,
        x,
        y,
        p0=guess,
        sigma=s,
        absolute_sigma=True,
        bounds=(low, high),
        maxfev=20_000,
    )
    at_bound = bool(
        np.any(np.isclose(params, low, rtol=1e-6, atol=1e-9))
        or np.any(np.isclose(params, high, rtol=1e-6, atol=1e-9))
    )
    resid = (y - func(x, *params)) / s
    chi2 = float(np.sum(resid**2))
    dof = int(x.size - len(params))
    p_value = float(stats.chi2.sf(chi2, dof)) if dof > 0 else float("nan")
    errors = tuple(float(e) for e in np.sqrt(np.clip(np.diag(cov), 0.0, None)))
    return FitResult(
        form,
        names,
        tuple(float(v) for v in params),
        errors,
        chi2,
        dof,
        p_value,
        chi2 + 2 * len(params),
        resid,
        at_bound,
    )


def fit_all(points: pd.DataFrame) -> pd.DataFrame:
    """Fits of both forms, per preset, to two curves of p(N).

    ``per_attempt``: the measured per-attempt p(N) of the preset's own heralding scheme
    (presets with fewer than three measured points are fitted to the closed-form budget
    instead, ``data = "budget"``, 1 % relative weights; no statistical meaning);
    ``per_window``: the same times duty(N) (time multiplexing).

    Besides the fit itself, each row carries the same form fitted to the noise-free curve with
    the same weights (``param*_on_budget``) and that fit's largest relative deviation from the
    curve (``max_abs_rel_dev_on_budget``): the form's intrinsic shape error, independent of
    the measurement noise.
    """
    rows = []
    for preset, g in points.groupby("preset", sort=False):
        g = g.sort_values("n_qpus")
        n_all = g["n_qpus"].to_numpy()
        measured = g[g["attempts"] > 0]
        if len(measured) >= 3:
            n, p, s, data = (
                measured["n_qpus"].to_numpy(),
                measured["p_measured"].to_numpy(),
                measured["p_se"].to_numpy(),
                "measured",
            )
            duty = measured["duty"].to_numpy()
        else:
            n, p, data = n_all, g["p_budget"].to_numpy(), "budget"
            s, duty = 0.01 * p, g["duty"].to_numpy()
        curves = (
            ("per_attempt", data, n, p, s, g["p_budget"].to_numpy()),
            ("per_window", data, n, p * duty, s * duty, (g["p_budget"] * g["duty"]).to_numpy()),
        )
        for curve, kind, x, y, sig, exact in curves:
            sel = np.isin(n_all, x)
            for form in FORMS:
                fit = fit_form(x, y, sig, form=form)
                # the same form fitted to the noise-free curve with the same weights: what the
                # fit converges to with infinite statistics (shows the form's shape error)
                ideal = fit_form(x, exact[sel], sig, form=form)
                rel = fit.predict(n_all) / exact - 1.0
                rel_ideal = ideal.predict(n_all) / exact - 1.0
                rows.append(
                    dict(
                        preset=preset,
                        curve=curve,
                        form=form,
                        data=kind,
                        points=len(x),
                        param0=fit.params[0],
                        param0_err=fit.errors[0],
                        param1_name=fit.names[1],
                        param1=fit.params[1],
                        param1_err=fit.errors[1],
                        chi2=fit.chi2,
                        dof=fit.dof,
                        chi2_dof=fit.chi2_dof,
                        p_value=fit.p_value,
                        param0_on_budget=ideal.params[0],
                        param1_on_budget=ideal.params[1],
                        aic=fit.aic,
                        at_bound=fit.at_bound,
                        max_abs_rel_dev_vs_budget=float(np.max(np.abs(rel))),
                        max_abs_rel_dev_on_budget=float(np.max(np.abs(rel_ideal))),
                        residuals=" ".join(f"{r:+.2f}" for r in fit.residuals),
                    )
                )
    fits = pd.DataFrame(rows)
    best = fits.loc[fits.groupby(["preset", "curve"])["chi2"].idxmin(), ["preset", "curve", "form"]]
    fits["better"] = False
    for _, b in best.iterrows():
        fits.loc[
            (fits["preset"] == b.preset) & (fits["curve"] == b.curve) & (fits["form"] == b.form), "better"
        ] = True
    return fits
