"""Numbers and data-dependent findings for the ``peff_validation`` report.

The fixed prose lives in ``modenhub_net/reporting/templates/peff_validation.md.j2``; this
module turns the study's tables into the values and sentences that depend on the data
(:func:`context`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from modenhub_net.studies.peff_validation import PeffValidationScenario
from modenhub_net.studies.preset_path import PathModel, build_preset_hub, pair_budget

__all__ = ["PREVIOUS", "context"]

#: version 0.4.0 (results/peff_validation/fits.csv of 0.4.0), per-attempt fits:
#: (preset, form) -> (param0, param1, chi2/dof); and the largest |z| of measured vs budget
PREVIOUS: dict[str, Any] = {
    "version": "0.4.0",
    "max_abs_z": 2.847,
    "fits": {
        ("ideal", "hyperbolic"): (0.5067, -0.002113, 0.48),
        ("ideal", "exponential"): (0.5067, -0.009342, 0.48),
        ("near_term_trapped_ion", "hyperbolic"): (0.0001037, 0.855, 112.0),
        ("near_term_trapped_ion", "exponential"): (6.497e-05, 0.998, 0.00684),
        ("near_term_nv", "hyperbolic"): (2.524e-05, 0.1859, 6.25),
        ("near_term_nv", "exponential"): (2.317e-05, 0.4847, 0.00161),
        ("superconducting_transduced", "hyperbolic"): (0.005548, 0.2188, 2.76),
        ("superconducting_transduced", "exponential"): (0.004962, 0.5301, 2.75),
        ("future", "hyperbolic"): (0.01523, 0.267, 1.47),
        ("future", "exponential"): (0.01329, 0.6029, 0.959),
    },
}

POINT_COLUMNS = ["preset", "n_qpus", "stages", "fibre_km", "p_budget", "p_measured", "p_ci_low",
                 "p_ci_high", "heralds", "attempts", "z_vs_budget", "heralding", "fidelity_budget",
                 "attempt_period_ns", "duty"]
FIT_COLUMNS = ["preset", "curve", "form", "data", "param0", "param0_err", "param1_name", "param1",
               "param1_err", "param1_on_budget", "chi2", "dof", "chi2_dof", "p_value", "at_bound",
               "max_abs_rel_dev_vs_budget", "max_abs_rel_dev_on_budget", "better"]
POLICY_COLUMNS = ["preset", "n_qpus", "policy", "p_physical", "p_fitted", "success_physical",
                  "success_aggregate", "success_diff", "z_success", "success_diff_expected",
                  "z_expected", "attempts_physical", "attempts_aggregate", "attempts_diff",
                  "z_attempts"]


def _fmt(x: float, e: float) -> str:
    return f"{x:.4g} ± {e:.2g}"


def _fit_lines(s: PeffValidationScenario, fits: pd.DataFrame) -> tuple[list[str], list[str]]:
    per_attempt, per_window = [], []
    for preset in s.presets:
        f = fits[(fits.preset == preset) & (fits.curve == "per_attempt")]
        h = f[f.form == "hyperbolic"].iloc[0]
        e = f[f.form == "exponential"].iloc[0]
        better = f[f.better].iloc[0].form
        per_attempt.append(
            f"**{preset}** ({h.data}): p0 = {_fmt(h.param0, h.param0_err)}, beta = "
            f"{_fmt(h.param1, h.param1_err)}, chi2/dof = {h.chi2_dof:.2f}; exponential: p0 = "
            f"{_fmt(e.param0, e.param0_err)}, b = {_fmt(e.param1, e.param1_err)} dB/doubling, "
            f"(fitted to the noise-free budget with the same weights: beta = {h.param1_on_budget:.3g}, "
            f"b = {e.param1_on_budget:.3g}), chi2/dof = {e.chi2_dof:.2f}. Better: **{better}**. "
            f"Largest deviation of the fit from the budget: hyperbolic "
            f"{100 * h.max_abs_rel_dev_vs_budget:.1f} %, exponential "
            f"{100 * e.max_abs_rel_dev_vs_budget:.1f} %; of the same forms fitted to the noise-free "
            f"budget (shape error): {100 * h.max_abs_rel_dev_on_budget:.1f} % and "
            f"{100 * e.max_abs_rel_dev_on_budget:.1f} %.")
        f = fits[(fits.preset == preset) & (fits.curve == "per_window")]
        h = f[f.form == "hyperbolic"].iloc[0]
        e = f[f.form == "exponential"].iloc[0]
        per_window.append(
            f"{preset}: hyperbolic chi2/dof = {h.chi2_dof:.2f} (max dev "
            f"{100 * h.max_abs_rel_dev_vs_budget:.0f} %), exponential chi2/dof = {e.chi2_dof:.2f} "
            f"(max dev {100 * e.max_abs_rel_dev_vs_budget:.0f} %).")
    return per_attempt, per_window


def _comparison(fits: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (preset, form), (p0, p1, chi) in PREVIOUS["fits"].items():
        f = fits[(fits.preset == preset) & (fits.curve == "per_attempt") & (fits.form == form)]
        if f.empty:
            continue
        r = f.iloc[0]
        rows.append(dict(preset=preset, form=form, param0_before=p0, param0=r.param0,
                         param1_before=p1, param1=r.param1, chi2_dof_before=chi, chi2_dof=r.chi2_dof))
    return pd.DataFrame(rows)


def context(s: PeffValidationScenario, points: pd.DataFrame, fits: pd.DataFrame,
            policies: pd.DataFrame) -> dict[str, Any]:
    """Values for ``peff_validation.md.j2`` beyond the skeleton's standard ones."""
    per_attempt, per_window = _fit_lines(s, fits)
    z = points["z_vs_budget"].abs()
    policy_lines = [
        f"{preset} / {policy}: success physical - aggregate in [{g.success_diff.min():+.4f}, "
        f"{g.success_diff.max():+.4f}] (max |z| {g.z_success.abs().max():.1f}); attempts in "
        f"[{g.attempts_diff.min():+.3f}, {g.attempts_diff.max():+.3f}] (max |z| "
        f"{g.z_attempts.abs().max():.1f})."
        for (preset, policy), g in policies.groupby(["preset", "policy"], sort=False)
    ] if len(policies) else []
    unmeasured = points[points["attempts"] == 0]
    return dict(
        point_table=points[POINT_COLUMNS],
        fit_table=fits[FIT_COLUMNS],
        policy_table=policies[POLICY_COLUMNS] if len(policies) else policies,
        max_abs_z=float(z.max()) if z.notna().any() else None,
        measured_points=int(z.notna().sum()),
        unmeasured=[f"{r.preset} N={r.n_qpus} (p={r.p_budget:.2g})" for r in unmeasured.itertuples()],
        per_attempt_lines=per_attempt,
        per_window_lines=per_window,
        policy_lines=policy_lines,
        findings=[line.removeprefix("- ") for line in _findings(points, fits, policies, s.path)],
        previous=PREVIOUS,
        comparison=_comparison(fits),
    )


#: published per-attempt success of a preset's platform with the double-click scheme, for the
#: plausibility check in the report: preset -> (p, what and where)
_LITERATURE_DOUBLE_CLICK = {
    "near_term_nv": (
        6.4e-9,
        "Hensen et al., Nature 526, 682 (2015) (Barrett-Kok heralding of two NV centres 1.3 km apart, "
        "637 nm photons)",
    ),
}

#: the paper's aggregate-model values (p_eff(N) = p0 / (1 + beta log2 N), p0 = beta = 0.35)
_PAPER_P0, _PAPER_BETA = 0.35, 0.35


def _findings(
    points: pd.DataFrame, fits: pd.DataFrame, policies: pd.DataFrame, path: PathModel
) -> list[str]:
    out = []
    pa = fits[fits.curve == "per_attempt"]
    for preset, f in pa.groupby("preset", sort=False):
        h = f[f.form == "hyperbolic"].iloc[0]
        e = f[f.form == "exponential"].iloc[0]
        if abs(h.param1_on_budget) < 0.02 and abs(e.param1_on_budget) < 0.1:
            out.append(
                f"- {preset}: p(N) is flat (lossless path): beta = 0 on the budget, both forms are exact; "
                f"the measured fit's beta = {h.param1:.3g} ± {h.param1_err:.2g} is noise."
            )
            continue
        g = points[(points.preset == preset) & (points.attempts > 0)]
        if h.data == "measured":
            verdict = (
                f"is {'not rejected' if h.p_value > 0.01 else 'rejected'} by the chi-square test on the "
                f"measured points (p = {h.p_value:.2g}; relative point errors up to "
                f"{100 * (g.p_se / g.p_measured).max():.0f} %)"
            )
        else:
            verdict = "cannot be tested statistically (no point is measurable in the detailed simulation)"
        shape = (
            f"fitted to the noise-free budget, the best hyperbola still misses it by up to "
            f"{100 * h.max_abs_rel_dev_on_budget:.1f} % (beta = {h.param1_on_budget:.3g}), the "
            f"dB-per-stage form by {100 * e.max_abs_rel_dev_on_budget:.1f} % "
            f"(b = {e.param1_on_budget:.3g} dB per doubling)"
        )
        power = (
            " The test lacks the power to see the shape error at this size: 'not rejected' is not 'holds'."
            if h.data == "measured" and h.p_value > 0.01 and h.max_abs_rel_dev_on_budget > 0.03
            else ""
        )
        out.append(
            f"- {preset}: the paper's hyperbolic form {verdict}; {shape}. The physics is exponential in the "
            "stage count (loss in dB adds per stage); the hyperbola is its first-order expansion in "
            "b log2 N, adequate only while the total switch loss stays around a dB." + power
        )
    pos = pa[(pa.form == "hyperbolic") & (pa.param1_on_budget > 0.02)]
    if len(pos):
        out.append(
            f"- Against the paper's p0 = {_PAPER_P0}, beta = {_PAPER_BETA}: the lossy presets have "
            f"per-attempt p0 from {pos.param0.min():.2g} to {pos.param0.max():.2g} (the paper's p0 is "
            f"{_PAPER_P0 / pos.param0.max():.0f}x to {_PAPER_P0 / pos.param0.min():.2g}x higher; only the "
            "lossless `ideal` preset exceeds it) and beta from "
            f"{pos.param1_on_budget.min():.2f} to {pos.param1_on_budget.max():.2f} on the noise-free budget. "
            "The paper's p0 = 0.35 describes a near-lossless link (eta ~ 0.84 per photon with double click), "
            "not any preset here."
        )
    out.append(
        "- Because the hyperbola is the wrong shape, its beta depends on how the points are weighted and on "
        "the N range: the same budget gives different beta for different statistical weights "
        "(`param1` vs `param1_on_budget` in fits.csv); b of the dB form is the physical 2 x stage loss plus "
        "the slow fibre growth, whatever the weights."
    )
    pw = fits[(fits.curve == "per_window")]
    worst = pw[pw.form == "hyperbolic"].max_abs_rel_dev_vs_budget.max() if len(pw) else float("nan")
    out.append(
        f"- Once the BSM bank saturates (K N/2 > B), the per-window success falls like 1/(N log N) on top of "
        f"the switch loss; neither two-parameter form follows that knee (hyperbolic fits deviate by up to "
        f"{100 * worst:.0f} %, several end on a parameter bound: `at_bound` in fits.csv). The paper's form "
        "describes per-attempt loss, not resource contention."
    )
    single = points[points["heralding"] == "single_click"]
    if len(single):
        names = ", ".join(dict.fromkeys(single.preset))
        out.append(
            f"- Single-click presets ({names}): the hub now runs their own scheme (the previous version "
            "simulated double click for every preset and listed single click as a closed form only). "
            "Single click is linear in the transmission, so its b is about half the double-click "
            "2 x stage loss; its dark-count floor flattens p(N) slightly; its fidelity "
            "(`fidelity_budget`) is set by the bright-state population alpha, not by the loss."
        )
    for preset, (p_lit, ref) in _LITERATURE_DOUBLE_CLICK.items():
        g = points[points.preset == preset].sort_values("n_qpus")
        if g.empty:
            continue
        n0 = int(g.n_qpus.iloc[0])
        built = build_preset_hub(preset, path, n0, bsm_stations=1, comm_qubits=2)
        p2 = pair_budget(built.nodes[0], built.nodes[1], built.hub, n0, heralding="double_click").p_success
        own = float(g.p_budget.iloc[0])
        out.append(
            f"- Plausibility of {preset}: the same devices with double click would give p(N={n0}) = "
            f"{p2:.2g} per attempt (closed form), vs {p_lit:.2g} reported by {ref}: {p2 / p_lit:.1f}x "
            "higher, as expected for a rack-scale hub (metres of fibre, no km-scale 637 nm fibre loss); "
            f"its own single-click scheme gives {own:.2g} ({own / p2:.0f}x the double-click p), the same "
            "order as the ~10^3 rate gain Humphreys et al., Nature 558, 268 (2018) report for single-click "
            "over two-photon heralding."
        )
    if not policies.empty:
        bad = policies[(policies.z_success.abs() > 4) | (policies.z_attempts.abs() > 4)]
        if len(bad):
            out.append(
                "- Physical and fitted-aggregate policies differ by more than 4 sigma at: "
                + ", ".join(f"{r.preset}/{r.policy}/N={r.n_qpus}" for r in bad.itertuples())
                + " (the fitted hyperbola misses p(N) there)."
            )
        else:
            lossy = policies[policies.p_physical < 0.1]
            span = (
                f"{100 * lossy.success_physical.min():.1f}-{100 * lossy.success_physical.max():.0f} %"
                if len(lossy)
                else "n/a"
            )
            out.append(
                f"- Physical and fitted-aggregate policies agree within 4 sigma everywhere (max |z| "
                f"{max(policies.z_success.abs().max(), policies.z_attempts.abs().max()):.1f}). This is weak "
                "evidence for the form: the fitted hyperbola's error in p alone should move the success by "
                f"at most {policies.success_diff_expected.abs().max():.2g} (|z_expected| <= "
                f"{policies.z_expected.abs().max():.1f}, closed form without cache) at "
                f"{int(policies.trials.max())} requests, because within the round budget the lossy presets "
                f"(p < 0.1) succeed in only {span} of requests. At these loss levels the fitted p_eff is an "
                "adequate summary for the paper's policies; the comparison could not detect its misfit."
            )
    return out
