"""The p_eff fits recover known parameters from synthetic binomial data (fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest

from modenhub_net.studies.peff_fit import exponential, fit_form, hyperbolic

N = np.array([2, 4, 8, 16, 32, 64, 128])


def _synthetic(p_true: np.ndarray, attempts: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    k = rng.binomial(attempts, p_true)
    p = k / attempts
    return p, np.sqrt(p * (1 - p) / attempts)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hyperbolic_recovers_paper_values(seed: int, validation_scale: float) -> None:
    attempts = int(200_000 * validation_scale)
    p, se = _synthetic(hyperbolic(N, 0.35, 0.35), attempts, seed)
    fit = fit_form(N, p, se, form="hyperbolic")
    assert abs(fit.params[0] - 0.35) < 4.5 * fit.errors[0]
    assert abs(fit.params[1] - 0.35) < 4.5 * fit.errors[1]
    assert fit.dof == 5 and fit.p_value > 1e-4


@pytest.mark.parametrize("seed", [4, 5])
def test_exponential_recovers_db_per_stage(seed: int, validation_scale: float) -> None:
    attempts = int(200_000 * validation_scale)
    p, se = _synthetic(exponential(N, 0.02, 1.0), attempts, seed)
    fit = fit_form(N, p, se, form="exponential")
    assert abs(fit.params[0] - 0.02) < 4.5 * fit.errors[0]
    assert abs(fit.params[1] - 1.0) < 4.5 * fit.errors[1]


def test_chi2_prefers_the_true_form_when_loss_is_large() -> None:
    p_true = exponential(N, 0.3, 3.0)  # 3 dB per doubling: far from the hyperbola
    se = 0.01 * p_true
    exp_fit = fit_form(N, p_true, se, form="exponential")
    hyp_fit = fit_form(N, p_true, se, form="hyperbolic")
    assert exp_fit.chi2 < 1e-6
    assert hyp_fit.chi2 > 100 * max(exp_fit.chi2, 1e-6)
    np.testing.assert_allclose(exp_fit.residuals, 0.0, atol=1e-3)


def test_flat_curve_gives_zero_slope() -> None:
    fit = fit_form(N, np.full(N.size, 0.5), np.full(N.size, 0.01), form="hyperbolic")
    assert abs(fit.params[1]) < 1e-6 and abs(fit.params[0] - 0.5) < 1e-6
